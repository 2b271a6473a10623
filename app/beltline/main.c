/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline — the command line client, built on libbeltline-client alone.
 *
 *   beltline cat SOURCE [-c N]   pcap on stdout (SOURCE: a stream name, a URI, a pcap file)
 *   beltline ls                  the instance's streams, like a directory of pipes
 *   beltline stats [--json]      ports, filters, edges, streams, readers
 *   beltline top [-d S] [-n N]   stats, refreshed
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
#include "flows.h"

static int verbose;
static const char *instance;

static const char usage[] =
	"usage: beltline [-i INSTANCE] [-v] COMMAND [ARGS]\n"
	"\n"
	"  cat SOURCE [-c N] [-p POLICY]  write packets as pcap on stdout, e.g.\n"
	"                      beltline cat web | tcpdump -r -\n"
	"  cat --flows NAME [--json] [-c N]  a flow ... export=NAME stream's records, a line\n"
	"                      each (text, or JSON lines)\n"
	"                      SOURCE: a stream NAME (beltline://INSTANCE/NAME), a URI\n"
	"                      (beltline://INSTANCE/STREAM, file:PATH) or a pcap/pcapng file\n"
	"                      -c N: stop after N packets\n"
	"                      -p srp|mrp|frp: read with this policy (default: the stream's;\n"
	"                      looser only: an srp stream takes all three, mrp takes mrp, frp)\n"
	"  inject NAME FILE [-r PPS] [-l LOOPS]  replay a pcap/pcapng file into the graph's\n"
	"                      `inject name=NAME` stream, frame by frame, in order\n"
	"                      -r PPS: at most PPS frames a second (default: as fast as it takes)\n"
	"                      -l LOOPS: play the file LOOPS times (default 1)\n"
	"  ls                  streams of the instance: policy, capacity, readers, rates;\n"
	"                      inject streams you may write, with their writer\n"
	"  stats [--json]      ports, filters, edges, streams and each reader's lag and losses\n"
	"  top [-d SECS] [-n N]  stats refreshed every SECS (1), N times (until interrupted)\n"
	"\n"
	"  -i INSTANCE         the appliance instance (default: $BELTLINE_INSTANCE, else \"default\")\n"
	"  -v                  say more (library debug messages on stderr)\n"
	"  -h, --help          this text\n"
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

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, nsec, caplen, len;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
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

static int
write_all(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		if (errno != EPIPE)
			fprintf(stderr, "beltline: cat: writing stdout: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int
cmd_cat(int argc, char **argv)
{
	struct beltline_info info = { .sz = sizeof(info) };
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_open_opts oo = { .sz = sizeof(oo) };
	static uint8_t buf[262144];
	struct beltline_stream *s;
	unsigned long long count = 0, limit = 0, bad_recs = 0;
	char uri[512], *end;
	int c, rc, status = 0, flows = 0, json = 0;
	static const struct option longs[] = {
		{ "flows", no_argument, NULL, 'F' }, { "json", no_argument, NULL, 'J' }, { 0 },
	};

	optind = 0;   /* glibc: start over (argv[0] is the command) */
	while ((c = getopt_long(argc, argv, "c:p:h", longs, NULL)) != -1) {
		switch (c) {
		case 'F':
			flows = 1;
			break;
		case 'J':
			json = 1;
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
			errno = 0;
			limit = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || limit == 0) {
				fprintf(stderr, "beltline: cat: -c wants a count >= 1, got '%s'\n", optarg);
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
	if (optind != argc - 1) {
		fprintf(stderr, "beltline: cat wants one SOURCE\n%s", usage);
		return 2;
	}
	if (source_uri(argv[optind], uri, sizeof(uri)) < 0) {
		fprintf(stderr, "beltline: cat: source name too long\n");
		return 2;
	}
	if (json && !flows) {
		fprintf(stderr, "beltline: cat: --json prints flow records: with --flows\n");
		return 2;
	}
	if (!flows && isatty(STDOUT_FILENO)) {
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
	struct pcap_file_hdr fh = { .magic = 0xa1b23c4d, .major = 2, .minor = 4,
		.snaplen = info.snaplen ? info.snaplen : 65535, .linktype = (uint32_t)info.linktype };
	if (!flows && write_all(&fh, sizeof(fh)) < 0) {
		beltline_close(s);
		return 1;
	}
	/* The copying read, not peek: what goes into the pipe cannot be taken back, so
	 * each packet is copied out and checked before a byte of it is written. */
	while (!stop && (limit == 0 || count < limit)) {
		struct beltline_pkt_info pi;
		struct pcap_rec_hdr rh;
		uint64_t ts;
		int n = beltline_read(s, buf, sizeof(buf), &pi);

		if (n == -EAGAIN) {
			struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
			fflush(stdout);
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
		rh.sec = (uint32_t)(ts / 1000000000ull);
		rh.nsec = (uint32_t)(ts % 1000000000ull);
		rh.caplen = pi.copied;
		rh.len = pi.len;
		if (write_all(&rh, sizeof(rh)) < 0 || write_all(buf, pi.copied) < 0) {
			status = 1;
			break;
		}
		count++;
	}
	if (fflush(stdout) != 0 && status == 0 && errno != EPIPE) {
		fprintf(stderr, "beltline: cat: writing stdout: %s\n", strerror(errno));
		status = 1;
	}
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
		while (!stop && (rc = beltline_getwritebuf(w, &buf, &room)) == -EAGAIN)
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
		if (rc == -ENOENT)
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
	rc = ctl_request(BELTLINE_CTL_LIST, &j);
	if (rc != 0)
		return rc;
	streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	if (!cJSON_IsArray(streams) || cJSON_GetArraySize(streams) == 0)
		printf("instance '%s' exports no stream\n", instance);
	else
		print_table("streams", streams, 0);
	injects = cJSON_GetObjectItemCaseSensitive(j, "injects");
	if (cJSON_IsArray(injects) && cJSON_GetArraySize(injects) != 0)
		print_table("injects", injects, 0);
	cJSON_Delete(j);
	return 0;
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
	int c, rc = 0;
	char *end;

	optind = 0;   /* glibc: start over (argv[0] is the command) */
	while ((c = getopt(argc, argv, "+d:n:")) != -1) {
		long *dst = c == 'd' ? &delay : c == 'n' ? &n : NULL;
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
	for (long i = 0; !stop && (n == 0 || i < n); i++) {
		cJSON *j;
		rc = ctl_request(BELTLINE_CTL_STATS, &j);
		if (rc != 0)
			return rc;
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		printf("beltline top — instance %s — every %lds (q: ^C)\n\n", instance, delay);
		print_report(j);
		cJSON_Delete(j);
		fflush(stdout);
		if (n == 0 || i + 1 < n)
			for (long t = 0; t < delay * 10 && !stop; t++)
				poll(NULL, 0, 100);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "instance", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	const char *cmd;
	int c;

	instance = getenv("BELTLINE_INSTANCE");
	if (instance == NULL || instance[0] == '\0')
		instance = "default";
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
	if (strcmp(cmd, "top") == 0)
		return cmd_top(argc, argv);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "beltline: unknown command '%s'\n%s", cmd, usage);
	return 2;
}
