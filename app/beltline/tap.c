/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline tap [-c N] [-w FILE] [-p POLICY] [--bpf EXPR] [ORIGIN/]FILTER[:EDGE]
 *
 * Asks the appliance for a tap (docs/taps.md: a temporary export "tap.N" hung on
 * the running filter's output, or on one out-edge, the config untouched), attaches
 * to it as `beltline cat` does to any stream, and writes what it carries as pcap.
 * The tap goes when its last reader leaves: this one, at exit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "beltline.h"
#include "bl_stream_proto.h"
#include "capfile.h"
#include "cli_pvt.h"   /* bl_cli_copy: cat's loop */
#include "exporter.h"
#include "tap.h"

static const char tap_usage[] =
	"usage: beltline tap [-c COUNT] [-w FILE] [-p srp|mrp|frp] [--bpf EXPR] [ORIGIN/]FILTER[:EDGE]\n"
	"  pcap of what the running FILTER emits (every class but 0), or of what its edge to\n"
	"  the filter EDGE (a name, or an index) carries, on stdout: beltline tap dport | tcpdump -r -\n";

int
bl_cli_tap_make(const char *instance, const char *spec, const char *bpf, const char *policy,
		char (*streams)[BL_STREAM_NAME_MAX], unsigned int max, unsigned int *n, char *why,
		size_t why_n)
{
	struct beltline_ctl *c;
	cJSON *body = cJSON_CreateObject(), *r;
	const cJSON *s, *e, *all, *x;
	char *text, *reply = NULL;
	int rc;

	why[0] = '\0';
	if (body == NULL)
		return -ENOMEM;
	cJSON_AddStringToObject(body, "filter", spec);
	if (bpf != NULL)
		cJSON_AddStringToObject(body, "bpf", bpf);
	if (policy != NULL)
		cJSON_AddStringToObject(body, "policy", policy);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (text == NULL)
		return -ENOMEM;
	rc = beltline_ctl_open(instance, NULL, &c);
	if (rc < 0) {
		snprintf(why, why_n, "instance '%s': %s", instance,
			 rc == -ENOENT ? "not running" : strerror(-rc));
		free(text);
		return rc;
	}
	rc = beltline_ctl_call(c, BELTLINE_CTL_TAP, text, &reply);
	beltline_ctl_close(c);
	free(text);
	r = reply != NULL ? cJSON_Parse(reply) : NULL;
	free(reply);
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	s = cJSON_GetObjectItemCaseSensitive(r, "stream");
	all = cJSON_GetObjectItemCaseSensitive(r, "streams");   /* a tap per lcore */
	*n = 0;
	if (rc == 0 && (!cJSON_IsString(s) || strlen(s->valuestring) >= BL_STREAM_NAME_MAX))
		rc = -EPROTO;
	if (rc == 0 && cJSON_IsArray(all)) {
		cJSON_ArrayForEach(x, all)
			if (!cJSON_IsString(x) || strlen(x->valuestring) >= BL_STREAM_NAME_MAX ||
			    *n >= max)
				rc = -EPROTO;
			else
				snprintf(streams[(*n)++], BL_STREAM_NAME_MAX, "%s", x->valuestring);
	} else if (rc == 0) {
		snprintf(streams[(*n)++], BL_STREAM_NAME_MAX, "%s", s->valuestring);
	}
	if (rc == 0 && *n == 0)
		rc = -EPROTO;
	if (rc < 0)
		snprintf(why, why_n, "%s", cJSON_IsString(e) ? e->valuestring : strerror(-rc));
	cJSON_Delete(r);
	return rc;
}

int
bl_cli_tap(int argc, char **argv, const char *instance)
{
	enum { OPT_BPF = 1000 };
	static const struct option longs[] = {
		{ "bpf", required_argument, NULL, OPT_BPF }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct beltline_open_opts oo = { .sz = sizeof(oo) };
	struct capfile cf = { .format = CAPFILE_PCAP };
	const char *bpf = NULL, *policy = NULL;
	char streams[BL_CLI_COPY_MAX][BL_STREAM_NAME_MAX], uri[600], why[512];
	unsigned long long limit = 0;
	struct beltline_stream *s[BL_CLI_COPY_MAX];
	unsigned int ns = 0, nopen;
	int c, rc, status = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c:p:w:h", longs, NULL)) != -1) {
		switch (c) {
		case OPT_BPF:
			bpf = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "srp") != 0 && strcmp(optarg, "mrp") != 0 &&
			    strcmp(optarg, "frp") != 0) {
				fprintf(stderr, "beltline: tap: -p wants srp, mrp or frp, got '%s'\n", optarg);
				return 2;
			}
			policy = optarg;
			break;
		case 'c':
			if (bl_cli_number(optarg, 1, ULLONG_MAX, &limit) < 0) {
				fprintf(stderr, "beltline: tap: -c wants a number >= 1, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w':
			cf.path = optarg;
			break;
		case 'h':
			fputs(tap_usage, stdout);
			return 0;
		default:
			fputs(tap_usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "beltline: tap wants one FILTER[:EDGE]\n%s", tap_usage);
		return 2;
	}
	if ((cf.path == NULL || strcmp(cf.path, "-") == 0) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "beltline: tap: not writing pcap to a terminal (pipe it: "
			"beltline tap %s | tcpdump -r -)\n", argv[optind]);
		return 2;
	}
	rc = bl_cli_tap_make(instance, argv[optind], bpf, policy, streams, BL_CLI_COPY_MAX, &ns,
			     why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "beltline: tap %s: %s\n", argv[optind], why);
		return 1;
	}
	/* A filter of a graph on several lcores: a tap (a stream) on each, read in turn.
	 * One not opened goes by itself (no reader in 10 s). */
	for (nopen = 0; nopen < ns; nopen++) {
		snprintf(uri, sizeof(uri), "beltline://%s/%s", instance, streams[nopen]);
		rc = beltline_open(uri, &oo, &s[nopen]);
		if (rc < 0) {
			fprintf(stderr, "beltline: tap: cannot read %s: %s\n", uri, strerror(-rc));
			status = 1;
			break;
		}
	}
	if (status == 0) {
		cf.ifname = argv[optind];
		status = bl_cli_copy_n(s, ns, &cf, &(struct bl_cli_copy){ .cmd = "tap",
				       .name = streams[0], .limit = limit });
	}
	for (unsigned int i = 0; i < nopen; i++)
		beltline_close(s[i]);   /* the last reader: the tap goes */
	return status;
}
