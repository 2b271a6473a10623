/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline cat SOURCE: a stream, a URI or a capture file as pcap on stdout, or as
 * pcap/pcapng into files rotated and kept (capfile.c); --flows prints a flow
 * export's records (flows.c), --tcp writes a tcpstream's connections (tcp.c).
 * bl_cli_copy, its loop, is also `beltline tap`'s (tap.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_stream_proto.h"   /* header only: the names both sides agree on */
#include "capfile.h"
#include "cli_pvt.h"
#include "flows.h"
#include "tcp.h"

/* A URI, a path with a '/', or the name of a file here (not a directory: a directory is
 * where --tcp writes) is taken as it is; any other bare name is a stream of the current
 * instance (beltline://INSTANCE/NAME or ./NAME say which when both exist). */
static int
source_uri(const char *instance, const char *src, char *uri, size_t size)
{
	struct stat sb;

	if (strstr(src, "://") != NULL || strncmp(src, "file:", 5) == 0 || strchr(src, '/') != NULL ||
	    (stat(src, &sb) == 0 && !S_ISDIR(sb.st_mode)))
		return snprintf(uri, size, "%s", src) < (int)size ? 0 : -1;
	return snprintf(uri, size, "beltline://%s/%s", instance, src) < (int)size ? 0 : -1;
}

/* Whether writing OUT would overwrite SRC, a file being read (a second `cat web -w web`
 * in the directory of the first would read its capture and truncate it). */
static bool
same_file(const char *src, const char *out)
{
	struct stat a, b;

	if (out == NULL || strcmp(out, "-") == 0 || strstr(src, "://") != NULL)
		return false;
	if (strncmp(src, "file:", 5) == 0)
		src += 5;
	return stat(src, &a) == 0 && !S_ISDIR(a.st_mode) && stat(out, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A whole number for -c, -C, -G, -W: 1..max, or 0 after saying why. */
static unsigned long long
cat_number(int opt, const char *arg, unsigned long long max)
{
	unsigned long long v;

	if (bl_cli_number(arg, 1, max, &v) < 0) {
		fprintf(stderr, "beltline: cat: -%c wants a number 1..%llu, got '%s'\n", opt, max, arg);
		return 0;
	}
	return v;
}

/* What the stream says its entries are (beltline_info's content) against what this mode
 * reads: 0, or 1 after saying which mode reads it. Not said (an older appliance, a network
 * stream): 0, and the first entry's look decides (bl_cli_copy_n, tcp_cat). */
static int
content_refused(struct beltline_stream *s, const char *uri, const char *want)
{
	struct beltline_info info = { .sz = sizeof(info) };
	const char *how;

	if (beltline_info(s, &info) < 0 || info.content[0] == '\0' || strcmp(info.content, want) == 0)
		return 0;
	how = strcmp(info.content, "flows") == 0 ? "beltline cat --flows" :
	      strcmp(info.content, "tcp") == 0 ? "beltline cat --tcp -w DIR" :
	      strcmp(info.content, "packets") == 0 ? "beltline cat (pcap)" : NULL;
	fprintf(stderr, "beltline: cat: %s holds %s, not %s%s%s\n", uri, info.content, want,
		how != NULL ? ": read it with " : "", how != NULL ? how : "");
	return 1;
}

int
bl_cli_cat(int argc, char **argv, const char *instance)
{
	struct beltline_open_opts oo = { .sz = sizeof(oo) };
	struct beltline_stream *s;
	struct capfile cf = { .format = CAPFILE_PCAP };
	unsigned long long limit = 0, mb = 0, secs = 0, keep = 0;
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
			fputs(bl_cli_usage, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "beltline: cat wants one SOURCE\n" BL_CLI_SEE_HELP);
		return 2;
	}
	if (source_uri(instance, argv[optind], uri, sizeof(uri)) < 0) {
		fprintf(stderr, "beltline: cat: source name too long\n");
		return 2;
	}
	if (same_file(argv[optind], cf.path)) {
		fprintf(stderr, "beltline: cat: -w %s is the file being read (say beltline://%s/%s "
			"for the stream)\n", cf.path, instance, argv[optind]);
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
		if (content_refused(s, uri, "tcp")) {
			beltline_close(s);
			return 1;
		}
		beltline_fd(s);
		status = tcp_cat(s, cf.path != NULL ? cf.path : ".", limit, &bl_cli_stop, bl_cli_verbose);
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
	if (content_refused(s, uri, flows ? "flows" : "packets")) {
		beltline_close(s);
		return 1;
	}
	cf.ifname = argv[optind];     /* pcapng: the interface is the source */
	status = bl_cli_copy(s, &cf, &(struct bl_cli_copy){ .cmd = "cat", .name = uri,
			     .limit = limit, .flows = flows, .json = json, .report = bl_cli_verbose });
	beltline_close(s);
	return status;
}

int
bl_cli_copy(struct beltline_stream *s, struct capfile *cf, const struct bl_cli_copy *o)
{
	return bl_cli_copy_n(&s, 1, cf, o);
}

int
bl_cli_copy_n(struct beltline_stream **s, unsigned int ns, struct capfile *cf,
	      const struct bl_cli_copy *o)
{
	struct beltline_info info = { .sz = sizeof(info) };
	struct pollfd p[BL_CLI_COPY_MAX];
	static uint8_t buf[262144];
	unsigned long long count = 0, bad_recs = 0, received = 0, lost = 0, invalid = 0;
	bool flow_seen[BL_CLI_COPY_MAX] = { false };   /* --flows: a record of stream i read */
	bool pkt_seen[BL_CLI_COPY_MAX] = { false };    /* a packet of stream i written */
	unsigned int cur = 0, idle = 0;
	int rc, status = 0;

	if (ns > BL_CLI_COPY_MAX)
		ns = BL_CLI_COPY_MAX;
	/* A signal stops us between two records, never inside one: a reader of the pipe
	 * (tcpdump) gets a whole file. We wait in poll (100 ms at most), never in a read. */
	bl_cli_finish_writes_on_signal();
	for (unsigned int i = 0; i < ns; i++) {
		struct beltline_info si = { .sz = sizeof(si) };

		beltline_fd(s[i]);   /* we sleep in poll when the streams are empty: say so from the start */
		/* A stream that says what it holds was judged at open (content_refused): its
		 * entries are not judged by their bytes (a frame to a MAC that spells a
		 * record's magic would have stopped a capture). */
		if (beltline_info(s[i], &si) == 0 && si.content[0] != '\0')
			flow_seen[i] = pkt_seen[i] = true;
	}
	beltline_info(s[0], &info);
	cf->snaplen = info.snaplen ? info.snaplen : 65535;
	cf->linktype = (uint32_t)info.linktype;
	if (!o->flows && capfile_open(cf) < 0)
		return 1;
	/* The copying read, not peek: what goes into the pipe cannot be taken back, so
	 * each packet is copied out and checked before a byte of it is written. Several
	 * streams (a tap per lcore) are read in turn, a packet at a time. */
	while (!bl_cli_stop && (o->limit == 0 || count < o->limit)) {
		struct beltline_pkt_info pi;
		uint64_t ts;
		unsigned int from = cur;
		int n = beltline_read(s[cur], buf, sizeof(buf), &pi);

		cur = (cur + 1) % ns;
		if (n == -EAGAIN) {
			if (++idle < ns)
				continue;   /* the next one may have some */
			idle = 0;
			for (unsigned int i = 0; i < ns; i++)
				p[i] = (struct pollfd){ .fd = beltline_fd(s[i]), .events = POLLIN };
			/* What is buffered goes out before we sleep; a pipe whose reader left
			 * (tcpdump -c) is seen here on a slow stream, else never. */
			if (fflush(o->flows ? stdout : cf->fp) != 0) {
				if (errno != EPIPE || (cf->path != NULL && strcmp(cf->path, "-") != 0)) {
					fprintf(stderr, "beltline: %s: writing: %s\n", o->cmd, strerror(errno));
					status = 1;
				}
				break;
			}
			poll(p, ns, 100);
			continue;
		}
		idle = 0;
		if (n < 0) {
			/* -EPROTO: a record the library could not read (a truncated capture, a
			 * malformed one off the network), said by its log line; "Protocol error"
			 * after it made two lines of one failure */
			if (n != -EPROTO)
				fprintf(stderr, "beltline: %s: %s: %s\n", o->cmd, o->name, strerror(-n));
			status = 1;
		}
		if (n <= 0)
			break;
		if (o->flows) {
			if (flows_print(stdout, buf, pi.copied, o->json) == 0) {
				count++;
				flow_seen[from] = true;
			} else if (!flow_seen[from]) {
				/* a stream's first entry is no flow record: another kind of stream,
				 * whose entries were skipped in silence for ever (each stream of
				 * several: one flow stream among them hid the others) */
				fprintf(stderr, "beltline: %s: %s: its first entry is not a flow record: "
					"--flows reads a `flow ... export=NAME` stream\n", o->cmd, o->name);
				status = 1;
				break;
			} else {
				bad_recs++;
			}
			continue;
		}
		if (!pkt_seen[from]) {
			/* A stream that does not say what it holds (over the network, an older
			 * appliance) whose first entry looks like a record of flow or tcpstream:
			 * pcap of those is garbage to its reader (tcpdump: "[|llc]"). Bytes
			 * alone cannot tell (a frame may begin with the same ones): said, not
			 * refused. */
			const char *how = flows_is_rec(buf, pi.copied) ? "--flows" :
				tcp_is_rec(pi.cls, buf, pi.copied) ? "--tcp -w DIR" : NULL;
			if (how != NULL)
				fprintf(stderr, "beltline: %s: %s: its first entry looks like a %s record, "
					"not a packet: if it is a %s stream, read it with beltline cat %s\n",
					o->cmd, o->name, how[2] == 'f' ? "flow" : "tcpstream",
					how[2] == 'f' ? "flow" : "tcpstream", how);
			pkt_seen[from] = true;
		}
		ts = pi.ts_ns;
		if (!(pi.flags & BELTLINE_PKT_F_TS)) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		}
		if ((rc = capfile_write(cf, buf, pi.copied, pi.len, ts)) < 0) {
			/* the reader of our pipe has what it wanted (tcpdump -c): not a failure */
			if (rc != -EPIPE || (cf->path != NULL && strcmp(cf->path, "-") != 0))
				status = 1;
			break;
		}
		count++;
	}
	if (capfile_close(cf) < 0 && status == 0)
		status = 1;
	for (unsigned int i = 0; i < ns; i++) {
		struct beltline_stats st = { .sz = sizeof(st) };
		beltline_stats(s[i], &st);
		received += st.received;
		lost += st.lost;
		invalid += st.invalid;
	}
	if (bad_recs != 0)
		fprintf(stderr, "beltline: %s: %llu entries were not flow records (skipped)\n", o->cmd,
			bad_recs);
	if (o->report || lost || invalid)
		fprintf(stderr, "beltline: %s: %llu packets, %llu lost, %llu invalid entries skipped\n",
			o->cmd, received, lost, invalid);
	return status;
}
