/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline — the command line client, built on libbeltline-client alone.
 *
 *   beltline cat SOURCE [-c N]   pcap on stdout (SOURCE: a stream name, a URI, a pcap file)
 *                                or pcapng, or into files rotated and kept (-w -F -C -G -W)
 *   beltline ls                  the instance's streams, like a directory of pipes
 *   beltline stats [--json]      ports, filters, edges, streams, readers
 *   beltline top [-d S] [-n N] [-t]   stats, refreshed: rates per second (-t: totals)
 *   beltline exporter [--listen A:P]  stats for Prometheus over HTTP (exporter.c)
 * Instance: -i NAME, else $BELTLINE_INSTANCE, else "default".
 * Exit status: 0 ok, 1 the source or instance is not there / an error, 2 usage.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_stream_proto.h"   /* header only: the names both sides agree on */
#include "capfile.h"
#include "exporter.h"
#include "tap.h"
#include "bl_version.h"
#include "flows.h"
#include "serve.h"
#include "tcp.h"

static int verbose;
static const char *instance;

static const char usage[] =
	"usage: beltline [-i INSTANCE] [-v] COMMAND [ARGS]\n"
	"\n"
	"  cat SOURCE [-c N] [-p POLICY]  write packets as pcap on stdout, e.g.\n"
	"                      beltline cat web | tcpdump -r -\n"
	"  cat --flows NAME [--json] [-c N]  a flow ... export=NAME stream's records, a line\n"
	"  cat --tcp NAME [-w DIR] [-c N]  a tcpstream ... export=NAME stream's connections, a file\n"
	"                      per direction in DIR (default .) as tcpflow names them; -c N: stop\n"
	"                      after N connections ended\n"
	"                      each (text, or JSON lines)\n"
	"                      SOURCE: a stream NAME (beltline://INSTANCE/NAME), a URI\n"
	"                      (beltline://INSTANCE/STREAM, file:PATH, tcp://HOST:PORT,\n"
	"                      tls://HOST:PORT: beltline serve) or a pcap/pcapng file\n"
	"                      -c N: stop after N packets\n"
	"                      -p srp|mrp|frp: read with this policy (default: the stream's;\n"
	"                      looser only: an srp stream takes all three, mrp takes mrp, frp)\n"
	"                      -w FILE: write FILE (then FILE.1, FILE.2, ... as it rotates)\n"
	"                      -F pcap|pcapng: the format (default pcap, nanosecond times;\n"
	"                      pcapng: an interface named after the source, the wire length)\n"
	"                      -C MB: with -w, a new file before one passes MB x 1,000,000 bytes\n"
	"                      -G SECS: with -w, a new file every SECS seconds (at a packet)\n"
	"                      -W N: with -w and -C or -G, keep at most N files (the newest)\n"
	"  inject NAME FILE [-r PPS] [-l LOOPS]  replay a pcap/pcapng file into the graph's\n"
	"                      `inject name=NAME` stream, frame by frame, in order\n"
	"                      (NAME tcp://HOST:PORT|tls://HOST:PORT: a serve --write on HOST)\n"
	"                      -r PPS: at most PPS frames a second (default: as fast as it takes)\n"
	"                      -l LOOPS: play the file LOOPS times (default 1)\n"
	"  ls                  streams of the instance: policy, capacity, readers, and\n"
	"                      PPS, the packets a second written (watched for 0.5 s);\n"
	"                      inject streams you may write, with their writer; user filters\n"
	"                      you may return verdicts to, with their client\n"
	"  reload [CONFIG.json]  move the appliance to a new config (default: the file it\n"
	"                      runs from); graphs and streams that stay keep running\n"
	"  stats [--json]      ports, filters, edges, streams and each reader's lag and losses\n"
	"  top [-d SECS] [-n N] [-t]  stats refreshed every SECS (1), N times (until\n"
	"                      interrupted): counters per second over the last SECS, or\n"
	"                      with -t their totals\n"
	"  tap [ORIGIN/]FILTER[:EDGE] [--bpf EXPR] [-p POLICY] [-c N] [-w FILE]  pcap of what a\n"
	"                      running filter emits (or one out-edge carries), config untouched\n"
	"  mount [-f] DIR      the running graph as a filesystem: a directory per filter under\n"
	"                      the one feeding it, each with all (a tap, pcap) and stats (JSON)\n"
	"  exporter [--listen ADDRESS:PORT]  serve the stats to Prometheus at\n"
	"                      http://ADDRESS:PORT/metrics (default 127.0.0.1:9482)\n"
	"  serve STREAM tcp://HOST:PORT|tls://HOST:PORT  relay a stream to remote readers\n"
	"                      (beltline cat tcp://HOST:PORT); loopback only, unless over\n"
	"                      mutual TLS (--cert --key --ca; beltline serve --help)\n"
	"  serve --write NAME tcp://HOST:PORT|tls://HOST:PORT  take one remote writer at a\n"
	"                      time into the inject stream NAME (same listening rules)\n"
	"\n"
	"  -i INSTANCE         the appliance instance (default: $BELTLINE_INSTANCE, else \"default\")\n"
	"  -v                  say more (library debug messages on stderr)\n"
	"  -h, --help          this text\n"
	"  --version           the version (and git describe of the tree it was built from)\n"
	"\n"
	"Instances are found at $BELTLINE_RUN_DIR (default /run/beltline)/INSTANCE/ctl.\n"
	"Exit status: 0 ok, 1 error (no such source, no instance running), 2 usage.\n";

static void
log_stderr(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (lvl <= BELTLINE_LOG_WARN || verbose)
		fprintf(stderr, "beltline: %s\n", msg);
}

/* ---- cat ---- */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
bl_cli_stopping(void)
{
	return stop;
}

/* A bare name is a stream of the current instance; anything else is a URI or a path. */
static int
source_uri(const char *src, char *uri, size_t size)
{
	struct stat sb;

	if (strstr(src, "://") != NULL || strncmp(src, "file:", 5) == 0 || strchr(src, '/') != NULL ||
	    stat(src, &sb) == 0)
		return snprintf(uri, size, "%s", src) < (int)size ? 0 : -1;
	return snprintf(uri, size, "beltline://%s/%s", instance, src) < (int)size ? 0 : -1;
}

/* A whole number for -c, -C, -G, -W: 1..max, or 0 after saying why. */
static unsigned long long
cat_number(int opt, const char *arg, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || arg[0] == '-' || arg[0] == '\0' || v == 0 || v > max) {
		fprintf(stderr, "beltline: cat: -%c wants a number 1..%llu, got '%s'\n", opt, max, arg);
		return 0;
	}
	return v;
}

static int
cmd_cat(int argc, char **argv)
{
	struct beltline_info info = { .sz = sizeof(info) };
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_open_opts oo = { .sz = sizeof(oo) };
	static uint8_t buf[262144];
	struct beltline_stream *s;
	struct capfile cf = { .format = CAPFILE_PCAP };
	unsigned long long count = 0, limit = 0, mb = 0, secs = 0, keep = 0, bad_recs = 0;
	char uri[512];
	int c, rc, status = 0, flows = 0, json = 0, tcp = 0;
	enum { OPT_FLOWS = 1000, OPT_JSON, OPT_TCP };
	static const struct option longs[] = {
		{ "flows", no_argument, NULL, OPT_FLOWS }, { "json", no_argument, NULL, OPT_JSON },
		{ "tcp", no_argument, NULL, OPT_TCP },
		{ 0 },
	};

	optind = 0;   /* glibc: start over (argv[0] is the command) */
	while ((c = getopt_long(argc, argv, "c:p:w:F:C:G:W:h", longs, NULL)) != -1) {
		switch (c) {
		case OPT_FLOWS:
			flows = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_TCP:
			tcp = 1;
			break;
		case 'p':
			if (!bl_stream_policy_readable(bl_stream_policy_parse(optarg))) {
				fprintf(stderr, "beltline: cat: -p wants srp, mrp or frp, got '%s'\n",
					optarg);
				return 2;
			}
			oo.policy = optarg;
			break;
		case 'c':
			if ((limit = cat_number(c, optarg, ULLONG_MAX)) == 0)
				return 2;
			break;
		case 'w':
			cf.path = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "pcap") != 0 && strcmp(optarg, "pcapng") != 0) {
				fprintf(stderr, "beltline: cat: -F wants pcap or pcapng, got '%s'\n",
					optarg);
				return 2;
			}
			cf.format = optarg[4] == 'n' ? CAPFILE_PCAPNG : CAPFILE_PCAP;
			break;
		case 'C':
			if ((mb = cat_number(c, optarg, 1000000)) == 0)
				return 2;
			break;
		case 'G':
			if ((secs = cat_number(c, optarg, 31ull * 86400)) == 0)
				return 2;
			break;
		case 'W':
			if ((keep = cat_number(c, optarg, 1000000)) == 0)
				return 2;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "beltline: cat wants one SOURCE\n%s", usage);
		return 2;
	}
	if (source_uri(argv[optind], uri, sizeof(uri)) < 0) {
		fprintf(stderr, "beltline: cat: source name too long\n");
		return 2;
	}
	if (tcp && (flows || json || mb || secs || keep || cf.format != CAPFILE_PCAP)) {
		fprintf(stderr, "beltline: cat: --tcp writes files into -w DIR: no --flows --json -C -G -W -F\n");
		return 2;
	}
	if (json && !flows) {
		fprintf(stderr, "beltline: cat: --json prints flow records: with --flows\n");
		return 2;
	}
	if (flows && (cf.path != NULL || mb || secs || keep)) {
		fprintf(stderr, "beltline: cat: --flows prints records as text on stdout: no -w -C -G -W\n");
		return 2;
	}
	if ((mb || secs) && (cf.path == NULL || strcmp(cf.path, "-") == 0)) {
		fprintf(stderr, "beltline: cat: -C and -G rotate files: they need -w FILE\n");
		return 2;
	}
	if (keep && !mb && !secs) {
		fprintf(stderr, "beltline: cat: -W keeps rotated files: it needs -C or -G\n");
		return 2;
	}
	cf.rotate_bytes = mb * 1000000ull;
	cf.rotate_ns = secs * 1000000000ull;
	cf.keep = (uint32_t)keep;
	if (tcp) {
		rc = beltline_open(uri, &oo, &s);
		if (rc < 0) {
			if (rc == -ENOMEM)
				fprintf(stderr, "beltline: cat: cannot open %s: %s\n", uri, strerror(-rc));
			return 1;
		}
		beltline_fd(s);
		status = tcp_cat(s, cf.path != NULL ? cf.path : ".", limit, &stop, verbose);
		beltline_close(s);
		return status;
	}
	if (!flows && (cf.path == NULL || strcmp(cf.path, "-") == 0) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "beltline: cat: not writing pcap to a terminal (pipe it: "
			"beltline cat %s | tcpdump -r -)\n", argv[optind]);
		return 2;
	}
	rc = beltline_open(uri, &oo, &s);
	if (rc < 0) {
		if (rc == -ENOMEM)   /* the library logged every other reason */
			fprintf(stderr, "beltline: cat: cannot open %s: %s\n", uri, strerror(-rc));
		return 1;
	}
	beltline_fd(s);   /* we sleep in poll when the stream is empty: say so from the start */
	beltline_info(s, &info);
	cf.snaplen = info.snaplen ? info.snaplen : 65535;
	cf.linktype = (uint32_t)info.linktype;
	cf.ifname = argv[optind];     /* pcapng: the interface is the source */
	if (!flows && capfile_open(&cf) < 0) {
		beltline_close(s);
		return 1;
	}
	/* The copying read, not peek: what goes into the pipe cannot be taken back, so
	 * each packet is copied out and checked before a byte of it is written. */
	while (!stop && (limit == 0 || count < limit)) {
		struct beltline_pkt_info pi;
		uint64_t ts;
		int n = beltline_read(s, buf, sizeof(buf), &pi);

		if (n == -EAGAIN) {
			struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
			fflush(cf.fp);
			poll(&p, 1, 100);
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "beltline: cat: %s: %s\n", uri, strerror(-n));
			status = 1;
		}
		if (n <= 0)
			break;
		if (flows) {
			if (flows_print(stdout, buf, pi.copied, json) < 0)
				bad_recs++;
			else
				count++;
			continue;
		}
		ts = pi.ts_ns;
		if (!(pi.flags & BELTLINE_PKT_F_TS)) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		}
		if (capfile_write(&cf, buf, pi.copied, pi.len, ts) < 0) {
			status = 1;
			break;
		}
		count++;
	}
	if (capfile_close(&cf) < 0 && status == 0)
		status = 1;
	beltline_stats(s, &st);
	if (bad_recs != 0)
		fprintf(stderr, "beltline: cat: %llu entries were not flow records (skipped)\n", bad_recs);
	if (verbose || st.lost || st.invalid)
		fprintf(stderr, "beltline: cat: %llu packets, %llu lost, %llu invalid entries skipped\n",
			(unsigned long long)st.received, (unsigned long long)st.lost,
			(unsigned long long)st.invalid);
	beltline_close(s);
	return status;
}

/* ---- inject ---- */

static void hint_instances(void);

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* One pass over the file into w. Returns 0, or 1 (an error, said). */
static int
inject_file(struct beltline_writer *w, const char *path, unsigned long long pps, uint64_t *sent,
	    uint64_t t0)
{
	struct beltline_stream *f;
	struct beltline_pkt v;
	int rc;

	if (beltline_open(path, NULL, &f) < 0)
		return 1;    /* the library said why */
	while (!stop && (rc = beltline_peek(f, &v, 1)) == 1) {
		void *buf;
		uint32_t room;

		if (pps != 0)   /* frame k leaves no earlier than k / pps after the start */
			while (!stop && now_ns() - t0 < *sent * 1000000000ull / pps)
				usleep(50);
		if (stop)       /* stopped while pacing: no buffer got, nothing to commit */
			break;
		while ((rc = beltline_getwritebuf(w, &buf, &room)) == -EAGAIN && !stop)
			usleep(20);
		if (rc < 0) {
			if (!stop)
				fprintf(stderr, "beltline: inject: %s\n", rc == -EPIPE ?
					"the appliance has gone" : strerror(-rc));
			beltline_close(f);
			return !stop;
		}
		if (v.caplen > room) {   /* the buffer got stays uncommitted: we stop here */
			fprintf(stderr, "beltline: inject: %s: a %u-byte frame does not fit the "
				"stream's max_frame (%u): raise max_frame\n", path, v.caplen, room);
			beltline_close(f);
			return 1;
		}
		memcpy(buf, v.data, v.caplen);
		rc = beltline_commit(w, buf, v.caplen);
		beltline_release(f, 1);
		if (rc < 0) {
			beltline_close(f);
			return 1;
		}
		(*sent)++;
	}
	beltline_close(f);
	if (rc < 0 && !stop) {
		fprintf(stderr, "beltline: inject: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}

static int
cmd_inject(int argc, char **argv)
{
	struct beltline_write_stats st = { .sz = sizeof(st) };
	struct beltline_writer *w;
	unsigned long long pps = 0, loops = 1;
	uint64_t sent = 0, t0;
	char uri[512], *end;
	int c, rc, status = 0;

	optind = 0;
	while ((c = getopt(argc, argv, "r:l:h")) != -1) {
		switch (c) {
		case 'r':
		case 'l':
			errno = 0;
			*(c == 'r' ? &pps : &loops) = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || optarg[0] == '\0' ||
			    (c == 'l' && loops == 0)) {
				fprintf(stderr, "beltline: inject: -%c wants a number%s, got '%s'\n", c,
					c == 'l' ? " >= 1" : "", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "beltline: inject wants NAME FILE\n%s", usage);
		return 2;
	}
	if (strstr(argv[optind], "://") != NULL)
		rc = snprintf(uri, sizeof(uri), "%s", argv[optind]);
	else
		rc = snprintf(uri, sizeof(uri), "beltline://%s/%s", instance, argv[optind]);
	if (rc < 0 || (size_t)rc >= sizeof(uri)) {
		fprintf(stderr, "beltline: inject: stream name too long\n");
		return 2;
	}
	rc = beltline_open_write(uri, NULL, &w);
	if (rc < 0) {
		if (rc == -ENOENT && strncmp(uri, "beltline://", 11) == 0)
			hint_instances();
		return 1;    /* the library said why */
	}
	t0 = now_ns();
	for (unsigned long long l = 0; l < loops && !stop && status == 0; l++)
		status = inject_file(w, argv[optind + 1], pps, &sent, t0);
	rc = beltline_write_flush(w, 10000);
	if (rc < 0 && status == 0) {
		fprintf(stderr, "beltline: inject: %s: the appliance did not take the last frames: "
			"%s\n", uri, strerror(-rc));
		status = 1;
	}
	beltline_write_stats(w, &st);
	if (st.refused != 0 && status == 0) {
		fprintf(stderr, "beltline: inject: %s: the appliance refused %llu frames\n", uri,
			(unsigned long long)st.refused);
		status = 1;
	}
	if (verbose)
		fprintf(stderr, "beltline: inject: %llu frames committed, %llu read, %llu refused, "
			"%llu waits for a buffer\n", (unsigned long long)st.committed,
			(unsigned long long)st.consumed, (unsigned long long)st.refused,
			(unsigned long long)st.full);
	beltline_write_close(w);
	return status;
}

/* ---- ls, stats, top ---- */

/* Names of instances with a control socket under the run directory. */
static void
hint_instances(void)
{
	const char *dir = getenv("BELTLINE_RUN_DIR");
	char names[512] = "", p[600];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	dir = dir != NULL && dir[0] ? dir : "/run/beltline";
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/ctl", dir, de->d_name);
		if (stat(p, &sb) == 0 && S_ISSOCK(sb.st_mode) && strlen(names) + strlen(de->d_name) + 2 < sizeof(names)) {
			strcat(names, " ");
			strcat(names, de->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	if (names[0] == '\0')
		fprintf(stderr, "beltline: no instance is running (nothing in %s); start beltlined\n", dir);
	else
		fprintf(stderr, "beltline: instance '%s' is not running; running:%s "
			"(choose one with -i NAME or BELTLINE_INSTANCE)\n", instance, names);
}

static int
ctl_request(enum beltline_ctl_op op, cJSON **out)
{
	struct beltline_ctl *c;
	char *reply = NULL;
	int rc;

	rc = beltline_ctl_open(instance, NULL, &c);
	if (rc == -ENOENT) {
		hint_instances();
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "beltline: instance '%s': %s\n", instance, strerror(-rc));
		return 1;
	}
	rc = beltline_ctl_call(c, op, NULL, &reply);
	beltline_ctl_close(c);
	if (rc < 0) {
		cJSON *e = reply != NULL ? cJSON_Parse(reply) : NULL;
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(e, "error");

		fprintf(stderr, "beltline: instance '%s': %s%s%s\n", instance, strerror(-rc),
			reply ? ": " : "", cJSON_IsString(why) ? why->valuestring : reply ? reply : "");
		cJSON_Delete(e);
		free(reply);
		return 1;
	}
	*out = cJSON_Parse(reply);
	free(reply);
	if (*out == NULL) {
		fprintf(stderr, "beltline: instance '%s' replied with something that is not JSON\n",
			instance);
		return 1;
	}
	return 0;
}

static void
print_scalar(const cJSON *v, int width)
{
	if (cJSON_IsString(v))
		printf("%-*s", width, v->valuestring);
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		printf("%-*lld", width, (long long)v->valuedouble);
	else if (cJSON_IsNumber(v))
		printf("%-*.2f", width, v->valuedouble);
	else if (cJSON_IsBool(v))
		printf("%-*s", width, cJSON_IsTrue(v) ? "yes" : "no");
	else
		printf("%-*s", width, "-");
}

static int
is_scalar(const cJSON *v)
{
	return !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

/* A column: a scalar, or an object of scalars (per-class counts, a filter's own
 * counters), shown as key:value,key:value. */
static int
is_column(const cJSON *v)
{
	const cJSON *f;

	if (is_scalar(v))
		return 1;
	if (!cJSON_IsObject(v))
		return 0;
	cJSON_ArrayForEach(f, v)
		if (!is_scalar(f))
			return 0;
	return 1;
}

static void
print_column(const cJSON *v, int width)
{
	const cJSON *f;
	int n = 0;

	if (!cJSON_IsObject(v)) {
		print_scalar(v, width);
		return;
	}
	cJSON_ArrayForEach(f, v) {
		n += printf("%s%s:", n ? "," : "", f->string);
		if (cJSON_IsNumber(f))
			n += printf("%lld", (long long)f->valuedouble);
		else if (cJSON_IsString(f))
			n += printf("%s", f->valuestring);
	}
	if (n == 0)
		n += printf("-");
	printf("%*s", n < width ? width - n : 1, "");
}

/* An array of objects as a table; nested arrays as indented tables under their row. */
static void
print_table(const char *title, const cJSON *arr, int indent)
{
	const cJSON *first = cJSON_GetArrayItem(arr, 0), *row, *f;

	printf("%*s%s (%d)\n", indent, "", title, cJSON_GetArraySize(arr));
	if (!cJSON_IsObject(first))
		return;
	printf("%*s", indent + 2, "");
	cJSON_ArrayForEach(f, first)
		if (is_column(f)) {
			char h[64];
			size_t i;
			for (i = 0; f->string[i] && i + 1 < sizeof(h); i++)
				h[i] = (char)(f->string[i] >= 'a' && f->string[i] <= 'z' ?
					f->string[i] - 32 : f->string[i]);
			h[i] = '\0';
			printf("%-14s", h);
		}
	printf("\n");
	cJSON_ArrayForEach(row, arr) {
		printf("%*s", indent + 2, "");
		cJSON_ArrayForEach(f, first)
			if (is_column(f))
				print_column(cJSON_GetObjectItemCaseSensitive(row, f->string), 14);
		printf("\n");
		cJSON_ArrayForEach(f, row)
			if (cJSON_IsArray(f) && cJSON_GetArraySize(f) > 0)
				print_table(f->string, f, indent + 4);
	}
}

static void
print_report(const cJSON *j)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, j)
		if (is_scalar(f)) {
			printf("%-14s", f->string);
			print_scalar(f, 0);
			printf("\n");
		}
	cJSON_ArrayForEach(f, j) {
		if (cJSON_IsArray(f)) {
			print_table(f->string, f, 0);
		} else if (cJSON_IsObject(f)) {   /* a section such as "control": one row */
			cJSON *one = cJSON_CreateArray();
			if (one != NULL && cJSON_AddItemReferenceToArray(one, (cJSON *)(uintptr_t)f))
				print_table(f->string, one, 0);
			cJSON_Delete(one);
		}
	}
}

/* ---- rates: two snapshots, the counters' growth per second ---- */

/* Numbers in a stats reply that are levels or settings, not counts: shown as they are. */
static const char *const gauges[] = {
	"capacity", "max_readers", "n_readers", "uptime_s", "pool_size", "in_use", "connections",
	"max", "max_per_uid", "root_reserve", "idle_ms", "slow_ms", "pid", "uid", "lag",
	"max_frame", "writer_pid", "writers", "queue", "lcore", "last_errno", NULL,
};

static int
is_gauge(const char *key)
{
	for (unsigned int i = 0; gauges[i] != NULL; i++)
		if (strcmp(key, gauges[i]) == 0)
			return 1;
	return 0;
}

/* The same row in both snapshots: every string member (name, graph, from, to) alike. */
static int
same_row(const cJSON *a, const cJSON *b)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, a)
		if (cJSON_IsString(f)) {
			const cJSON *g = cJSON_GetObjectItemCaseSensitive(b, f->string);
			if (!cJSON_IsString(g) || strcmp(f->valuestring, g->valuestring) != 0)
				return 0;
		}
	return 1;
}

/* Turn every counter of cur into its growth per second since prev (dt seconds before).
 * A counter that went down (the instance restarted) or a row that is not in prev keeps
 * its total. */
static void
to_rates(cJSON *cur, const cJSON *prev, double dt)
{
	cJSON *f;
	int i = 0;

	if (prev == NULL || dt <= 0)
		return;
	cJSON_ArrayForEach(f, cur) {
		const cJSON *p = cJSON_IsArray(cur) ? cJSON_GetArrayItem(prev, i++) :
			cJSON_GetObjectItemCaseSensitive(prev, f->string);
		if (p == NULL)
			continue;
		if (cJSON_IsNumber(f) && cJSON_IsNumber(p) && f->string != NULL &&
		    !is_gauge(f->string)) {
			if (f->valuedouble >= p->valuedouble)
				cJSON_SetNumberValue(f, (double)(long long)((f->valuedouble -
						      p->valuedouble) / dt + 0.5));
		} else if (cJSON_IsObject(f) && cJSON_IsObject(p) && same_row(f, p)) {
			to_rates(f, p, dt);
		} else if (cJSON_IsArray(f) && cJSON_IsArray(p)) {
			to_rates(f, p, dt);
		}
	}
}

static double
mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sleep ms, or less when interrupted. */
static void
nap(long ms)
{
	for (long t = 0; t < ms / 100 && !stop; t++)
		poll(NULL, 0, 100);
	if (!stop)
		poll(NULL, 0, (int)(ms % 100));
}

#define LS_RATE_MS 500   /* ls: how long it watches for its rate column */

/* ls's rate column: each row's `key` per second, from two replies dt seconds apart. */
static void
add_rate_column(cJSON *rows, const cJSON *before, const char *key, double dt)
{
	cJSON *row;

	cJSON_ArrayForEach(row, rows) {
		const cJSON *now = cJSON_GetObjectItemCaseSensitive(row, key), *b, *was = NULL;
		cJSON_ArrayForEach(b, before)
			if (same_row(row, b))
				was = cJSON_GetObjectItemCaseSensitive(b, key);
		if (cJSON_IsNumber(now) && cJSON_IsNumber(was) && now->valuedouble >= was->valuedouble)
			cJSON_AddNumberToObject(row, "pps", (double)(long long)((now->valuedouble -
						was->valuedouble) / dt + 0.5));
		else
			cJSON_AddStringToObject(row, "pps", "-");
	}
}

static int
cmd_ls(int argc, char **argv)
{
	const cJSON *streams, *injects;
	cJSON *j;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "beltline: ls takes no argument\n");
		return 2;
	}
	cJSON *before;
	double t0;

	rc = ctl_request(BELTLINE_CTL_LIST, &before);
	if (rc != 0)
		return rc;
	t0 = mono_s();
	nap(LS_RATE_MS);
	rc = ctl_request(BELTLINE_CTL_LIST, &j);
	if (rc != 0) {
		cJSON_Delete(before);
		return rc;
	}
	add_rate_column(cJSON_GetObjectItemCaseSensitive(j, "streams"),
			cJSON_GetObjectItemCaseSensitive(before, "streams"), "written", mono_s() - t0);
	add_rate_column(cJSON_GetObjectItemCaseSensitive(j, "injects"),
			cJSON_GetObjectItemCaseSensitive(before, "injects"), "frames", mono_s() - t0);
	cJSON_Delete(before);
	streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	if (!cJSON_IsArray(streams) || cJSON_GetArraySize(streams) == 0)
		printf("instance '%s' exports no stream\n", instance);
	else
		print_table("streams", streams, 0);
	injects = cJSON_GetObjectItemCaseSensitive(j, "injects");
	if (cJSON_IsArray(injects) && cJSON_GetArraySize(injects) != 0)
		print_table("injects", injects, 0);
	injects = cJSON_GetObjectItemCaseSensitive(j, "users");
	if (cJSON_IsArray(injects) && cJSON_GetArraySize(injects) != 0)
		print_table("users", injects, 0);
	injects = cJSON_GetObjectItemCaseSensitive(j, "endpoints");
	if (cJSON_IsArray(injects) && cJSON_GetArraySize(injects) != 0)
		print_table("endpoints", injects, 0);
	cJSON_Delete(j);
	return 0;
}

/* reload [CONFIG.json]: the appliance reads the file itself, so its absolute path. */
#define RELOAD_TIMEOUT_MS 60000

static int
cmd_reload(int argc, char **argv)
{
	struct beltline_ctl *c;
	char path[PATH_MAX], *reply = NULL;
	cJSON *body = cJSON_CreateObject(), *r;
	char *text;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "beltline: reload: usage: beltline reload [CONFIG.json]\n");
		cJSON_Delete(body);
		return 2;
	}
	if (argc == 2) {
		if (realpath(argv[1], path) == NULL) {
			fprintf(stderr, "beltline: reload: %s: %s\n", argv[1], strerror(errno));
			cJSON_Delete(body);
			return 1;
		}
		cJSON_AddStringToObject(body, "config", path);
	}
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	/* A reload builds graphs and waits for every worker's epoch (up to 10 s, twice when
	 * a queue moves between lcores): more than an ordinary request on a busy machine. */
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = RELOAD_TIMEOUT_MS };
	rc = beltline_ctl_open(instance, &o, &c);
	if (rc < 0) {
		if (rc == -ENOENT)
			hint_instances();
		else
			fprintf(stderr, "beltline: instance '%s': %s\n", instance, strerror(-rc));
		free(text);
		return 1;
	}
	rc = beltline_ctl_call(c, BELTLINE_CTL_RELOAD, text, &reply);
	beltline_ctl_close(c);
	free(text);
	r = reply != NULL ? cJSON_Parse(reply) : NULL;
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "beltline: reload: no reply within %d s; it may still be under way "
			"(`beltline stats` shows reload.epoch and reload.last_error)\n",
			RELOAD_TIMEOUT_MS / 1000);
	} else if (rc < 0) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(r, "error");
		fprintf(stderr, "beltline: reload refused, the old config runs on: %s\n",
			cJSON_IsString(why) ? why->valuestring : strerror(-rc));
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "epoch");
		printf("reloaded (epoch %.0f)\n", cJSON_IsNumber(e) ? e->valuedouble : 0.0);
	}
	cJSON_Delete(r);
	free(reply);
	return rc < 0 ? 1 : 0;
}

static int
cmd_stats(int argc, char **argv)
{
	int json = 0, rc;
	cJSON *j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "beltline: stats: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	rc = ctl_request(BELTLINE_CTL_STATS, &j);
	if (rc != 0)
		return rc;
	if (json) {
		char *t = cJSON_Print(j);
		printf("%s\n", t != NULL ? t : "{}");
		free(t);
	} else {
		print_report(j);
	}
	cJSON_Delete(j);
	return 0;
}

static int
cmd_top(int argc, char **argv)
{
	long delay = 1, n = 0;
	int c, rc = 0, totals = 0;
	cJSON *prev = NULL;
	double t_prev = 0;
	char *end;

	optind = 0;   /* glibc: start over (argv[0] is the command) */
	while ((c = getopt(argc, argv, "+d:n:t")) != -1) {
		long *dst = c == 'd' ? &delay : c == 'n' ? &n : NULL;
		if (c == 't') {
			totals = 1;
			continue;
		}
		if (dst == NULL)
			return 2;
		errno = 0;
		*dst = strtol(optarg, &end, 10);
		/* -d at most a day: delay * 10 polls must not overflow */
		if (errno != 0 || end == optarg || *end != '\0' || *dst < 1 ||
		    (c == 'd' && *dst > 86400)) {
			fprintf(stderr, "beltline: top: -%c wants a number 1..%ld, got '%s'\n", c,
				c == 'd' ? 86400L : LONG_MAX, optarg);
			return 2;
		}
	}
	/* Rates need a first snapshot: taken now, shown after the first interval. */
	if (!totals) {
		rc = ctl_request(BELTLINE_CTL_STATS, &prev);
		if (rc != 0)
			return rc;
		t_prev = mono_s();
		nap(delay * 1000);
	}
	for (long i = 0; !stop && (n == 0 || i < n); i++) {
		cJSON *j, *shown;
		double t;
		rc = ctl_request(BELTLINE_CTL_STATS, &j);
		if (rc != 0) {
			cJSON_Delete(prev);
			return rc;
		}
		t = mono_s();
		shown = totals ? j : cJSON_Duplicate(j, 1);
		if (shown == NULL) {
			cJSON_Delete(j);
			cJSON_Delete(prev);
			return 1;
		}
		if (!totals)
			to_rates(shown, prev, t - t_prev);
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		printf("beltline top — instance %s — every %lds — %s (q: ^C)\n\n", instance, delay,
		       totals ? "totals" : "counters per second (-t: totals)");
		print_report(shown);
		if (shown != j)
			cJSON_Delete(shown);
		cJSON_Delete(prev);
		prev = j;
		t_prev = t;
		fflush(stdout);
		if (n == 0 || i + 1 < n)
			nap(delay * 1000);
	}
	cJSON_Delete(prev);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "instance", required_argument, NULL, 'i' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	const char *cmd;
	int c;

	instance = getenv("BELTLINE_INSTANCE");
	if (instance == NULL || instance[0] == '\0')
		instance = BL_INSTANCE_DEFAULT;
	while ((c = getopt_long(argc, argv, "+hi:v", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'i':
			instance = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("beltline %s\n", BL_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	beltline_set_log(log_stderr, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);       /* a closed pipe is EPIPE: we stop quietly */
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "cat") == 0)
		return cmd_cat(argc, argv);
	if (strcmp(cmd, "inject") == 0)
		return cmd_inject(argc, argv);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc, argv);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(argc, argv);
	if (strcmp(cmd, "top") == 0)
		return cmd_top(argc, argv);
	if (strcmp(cmd, "exporter") == 0)
		return bl_cli_exporter(argc, argv, instance);
	if (strcmp(cmd, "serve") == 0)
		return bl_cli_serve(argc, argv, instance);
	if (strcmp(cmd, "tap") == 0)
		return bl_cli_tap(argc, argv, instance);
	if (strcmp(cmd, "mount") == 0) {
#ifdef BL_HAVE_FUSE
		return bl_cli_mount(argc, argv, instance);
#else
		fprintf(stderr, "beltline: mount: built without FUSE (libfuse3-dev)\n");
		return 1;
#endif
	}
	if (strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "beltline: unknown command '%s'\n%s", cmd, usage);
	return 2;
}
