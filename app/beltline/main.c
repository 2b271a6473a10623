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
 * This file reads the global options and dispatches; each command is a file of its
 * own: cat.c, inject.c, stats.c (ls, stats, top), reload.c, tap.c, mount.c,
 * exporter.c, serve.c; instance.c asks the instance, print.c prints its replies.
 * Instance: -i NAME, else $BELTLINE_INSTANCE, else "default".
 * Exit status: 0 ok, 1 the source or instance is not there / an error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_stream_proto.h"   /* header only: the names both sides agree on */
#include "cli_pvt.h"
#include "exporter.h"
#include "tap.h"
#include "bl_version.h"
#include "serve.h"

int bl_cli_verbose;
volatile sig_atomic_t bl_cli_stop;
static const char *instance;

const char bl_cli_usage[] =
	"usage: beltline [-i INSTANCE] [-v] COMMAND [ARGS]\n"
	"\n"
	"  cat SOURCE [-c N] [-p POLICY]  write packets as pcap on stdout, e.g.\n"
	"                      beltline cat web | tcpdump -r -\n"
	"  cat --flows NAME [--json] [-c N]  a flow ... export=NAME stream's records, a line\n"
	"                      each (text, or JSON lines)\n"
	"  cat --tcp NAME [-w DIR] [-c N]  a tcpstream ... export=NAME stream's connections, a file\n"
	"                      per direction in DIR (default .) as tcpflow names them; -c N: stop\n"
	"                      after N connections ended\n"
	"                      SOURCE: a stream NAME (beltline://INSTANCE/NAME), a URI\n"
	"                      (beltline://INSTANCE/STREAM, file:PATH, tcp://HOST:PORT,\n"
	"                      udp://HOST:PORT, tls://HOST:PORT: beltline serve) or a\n"
	"                      pcap/pcapng file (a file of NAME here, not a directory, is\n"
	"                      the file: say beltline://INSTANCE/NAME for the stream)\n"
	"                      -c N: stop after N packets\n"
	"                      -p srp|mrp|frp: read with this policy (default: the stream's;\n"
	"                      looser only: an srp stream takes all three, mrp takes mrp, frp)\n"
	"                      -w FILE: write FILE (then FILE.1, FILE.2, ... as it rotates)\n"
	"                      -F pcap|pcapng: the format (default pcap, nanosecond times;\n"
	"                      pcapng: an interface named after the source, the wire length)\n"
	"                      -C MB: with -w, a new file before one passes MB x 1,000,000 bytes\n"
	"                      -G SECS: with -w, a new file every SECS seconds (at a packet)\n"
	"                      -W N: with -w and -C or -G, keep at most N files (the newest)\n"
	"                      SIGINT, SIGTERM: stop after the packet being written (the file\n"
	"                      stays whole, even into a full pipe); a second one: at once\n"
	"  inject NAME FILE [-r PPS] [-l LOOPS] [-w MS]  replay a pcap/pcapng file into the graph's\n"
	"                      `inject name=NAME` stream, frame by frame, in order\n"
	"                      (NAME tcp://HOST:PORT|tls://HOST:PORT: a serve --write on HOST)\n"
	"                      -r PPS: at most PPS frames a second (default: as fast as it takes)\n"
	"                      -l LOOPS: play the file LOOPS times (default 1)\n"
	"                      -w MS: wait at most MS ms for the last frames to be taken\n"
	"                      (default 10000); not taken in time: exit 1\n"
	"  ls                  streams of the instance: policy, capacity, readers, and\n"
	"                      PPS, the packets a second written (watched for 0.5 s);\n"
	"                      inject streams you may write, with their writer; user filters\n"
	"                      you may return verdicts to, with their client; the endpoints\n"
	"  reload [CONFIG.json]  move the appliance to a new config (default: the file it\n"
	"                      runs from, or the last one a reload named); graphs and\n"
	"                      streams that stay keep running\n"
	"  stats [--json]      ports, filters, edges, streams and each reader's lag and losses\n"
	"  top [-d SECS] [-n N] [-t]  stats refreshed every SECS (1; whole seconds), N times (until\n"
	"                      interrupted): counters per second over the last SECS, or\n"
	"                      with -t their totals\n"
	"  tap [ORIGIN/]FILTER[:EDGE] [--bpf EXPR] [-p POLICY] [-c N] [-w FILE]  pcap of what a\n"
	"                      running filter emits (or one out-edge carries), config untouched\n"
	"  mount [-f] DIR      the running graph as a filesystem: a directory per filter under\n"
	"                      the one feeding it, each with all (a tap, pcap) and stats (JSON)\n"
	"  exporter [--listen ADDRESS:PORT]  serve the stats to Prometheus at\n"
	"                      http://ADDRESS:PORT/metrics (default 127.0.0.1:9482)\n"
	"  serve STREAM tcp://HOST:PORT|udp://HOST:PORT|tls://HOST:PORT  relay a stream to\n"
	"                      remote readers\n"
	"                      (beltline cat tcp://HOST:PORT); loopback only, unless over\n"
	"                      mutual TLS (--cert --key --ca; beltline serve --help)\n"
	"  serve --write NAME tcp://HOST:PORT|tls://HOST:PORT  take one remote writer at a\n"
	"                      time into the inject stream NAME (same listening rules)\n"
	"\n"
	"  -i, --instance INSTANCE  the appliance instance (default: $BELTLINE_INSTANCE, else \"default\")\n"
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
	if (lvl <= BELTLINE_LOG_WARN || bl_cli_verbose)
		fprintf(stderr, "beltline: %s\n", msg);
}

/* The first SIGINT or SIGTERM asks the command to stop (at its next check); a second one
 * ends the process at once: a write that waits for a reader that never reads (after
 * bl_cli_finish_writes_on_signal) cannot keep it. */
static void
on_signal(int sig)
{
	if (bl_cli_stop) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	bl_cli_stop = 1;
}

void
bl_cli_finish_writes_on_signal(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
bl_cli_stopping(void)
{
	return bl_cli_stop;
}

/* Whether stdout is a pipe whose reader has closed it (Linux says POLLERR to its writer):
 * after a failed write glibc may have dropped the buffer and errno moved on. */
static int
stdout_reader_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

static int stdout_errno;   /* the first error writing stdout, kept */

int
bl_cli_stdout_ok(void)
{
	if (stdout_errno == 0) {
		/* a write that failed before this call (a buffer's worth, flushed by a
		 * fputs) left its errno, unless something since moved it */
		int before = errno;

		errno = 0;
		if (fflush(stdout) != 0 || ferror(stdout))
			stdout_errno = errno != 0 ? errno : stdout_reader_gone() ? EPIPE :
				       before != 0 ? before : EIO;
	}
	return stdout_errno == 0;
}

int
bl_cli_stdout_done(const char *cmd)
{
	if (bl_cli_stdout_ok() || stdout_errno == EPIPE || stdout_reader_gone())
		return 0;
	fprintf(stderr, "beltline: %s: writing stdout: %s\n", cmd, strerror(stdout_errno));
	return 1;
}

#ifndef BL_HAVE_FUSE
static int
mount_without_fuse(int argc, char **argv, const char *inst)
{
	(void)argc;
	(void)argv;
	(void)inst;
	fprintf(stderr, "beltline: mount: built without FUSE (libfuse3-dev)\n");
	return 1;
}
#endif

/* The commands, each in its own file: argv[0] is the command's name. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const char *instance);
} commands[] = {
	{ "cat", bl_cli_cat },
	{ "inject", bl_cli_inject },
	{ "ls", bl_cli_ls },
	{ "stats", bl_cli_stats },
	{ "reload", bl_cli_reload },
	{ "top", bl_cli_top },
	{ "exporter", bl_cli_exporter },
	{ "serve", bl_cli_serve },
	{ "tap", bl_cli_tap },
#ifdef BL_HAVE_FUSE
	{ "mount", bl_cli_mount },
#else
	{ "mount", mount_without_fuse },
#endif
};

int
bl_cli_number(const char *arg, unsigned long long lo, unsigned long long hi,
	      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (arg[0] < '0' || arg[0] > '9')   /* strtoull would take " -5" as 2^64 - 5 */
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The lines of bl_cli_usage about cmd (an entry "  cmd ..." and the lines indented under
 * it, for each entry of cmd), then the options every command takes: `beltline cat --help`
 * printed all of it. */
static void
usage_of(const char *cmd)
{
	const char *p = bl_cli_usage, *nl;
	size_t n = strlen(cmd);
	int in = 0;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (p == bl_cli_usage) {                 /* "usage: ..." */
			in = 1;
		} else if (p[0] == ' ' && p[1] == ' ' && p[2] != ' ') {   /* an entry */
			in = (strncmp(p + 2, cmd, n) == 0 && (p[2 + n] == ' ' || p + 2 + n == nl)) ||
			     p[2] == '-';
		} else if (p[0] != ' ') {                /* a blank line or the last lines */
			in = p == nl || strncmp(p, "Exit status", 11) == 0;
		}
		if (in)
			fwrite(p, 1, (size_t)(nl - p) + (*nl == '\n'), stdout);
		if (*nl == '\0')
			break;
	}
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
	int c, rc;

	instance = getenv("BELTLINE_INSTANCE");
	if (instance == NULL || instance[0] == '\0')
		instance = BL_INSTANCE_DEFAULT;
	while ((c = getopt_long(argc, argv, "+hi:v", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(bl_cli_usage, stdout);
			return bl_cli_stdout_done("help");
		case 'i':
			instance = optarg;
			break;
		case 'v':
			bl_cli_verbose = 1;
			break;
		case 'V':
			printf("beltline %s\n", BL_VERSION);
			return 0;
		default:
			fputs(BL_CLI_SEE_HELP, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "beltline: which command?\n" BL_CLI_SEE_HELP);
		return 2;
	}
	/* said once here (each command said it twice: the library's line and its own) */
	if (!bl_instance_name_ok(instance, strlen(instance))) {
		fprintf(stderr, "beltline: instance '%s' (-i or BELTLINE_INSTANCE): want 1..%u "
			"characters of [A-Za-z0-9_-]\n", instance, BL_INSTANCE_NAME_MAX - 1);
		return 2;
	}
	beltline_set_log(log_stderr, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);       /* a closed pipe is EPIPE: we stop quietly */
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	char name[64];   /* getopt's messages start with it: "beltline cat: invalid option" */
	snprintf(name, sizeof(name), "beltline %s", cmd);
	argv[0] = name;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		/* the commands without a help text of their own: their part of the one text */
		if (commands[i].run == bl_cli_ls || commands[i].run == bl_cli_stats ||
		    commands[i].run == bl_cli_top || commands[i].run == bl_cli_reload ||
		    commands[i].run == bl_cli_cat || commands[i].run == bl_cli_inject)
			for (int k = 1; k < argc; k++)
				if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
					usage_of(cmd);
					return bl_cli_stdout_done(cmd);
				}
		/* A command that printed into a full disk said nothing and exited 0: its
		 * output is checked here, once its own errors are said (cat's into a file
		 * or pipe are: capfile.c). */
		rc = commands[i].run(argc, argv, instance);
		if (rc == 0)
			rc = bl_cli_stdout_done(cmd);
		return rc;
	}
	if (strcmp(cmd, "help") == 0) {
		fputs(bl_cli_usage, stdout);
		return bl_cli_stdout_done("help");
	}
	fprintf(stderr, "beltline: unknown command '%s'\n" BL_CLI_SEE_HELP, cmd);
	return 2;
}
