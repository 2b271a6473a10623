/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltlined — the appliance: reads its config, starts EAL, brings the ports
 * up, runs the workers, prints rates while it runs and the final counters as
 * JSON on stdout when it stops (SIGINT, SIGTERM, --exit-idle, --duration).
 *
 * Exit status: 0 clean, 1 runtime failure (or an mbuf leak), 2 bad config.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app.h"
#include "bl_port.h"
#include "eal.h"
#include "worker.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG  2

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: beltlined [options] CONFIG.json\n"
		"  --check              validate the config (and this machine's CPUs), print the\n"
		"                       EAL arguments it would use, and exit\n"
		"  --exit-idle MS       stop once no packet has arrived for MS milliseconds\n"
		"  --duration S         stop after S seconds (decimals allowed)\n"
		"  --stats-interval S   print rates on stderr every S seconds (0: never; default 1)\n"
		"  -q, --quiet          no rates and no log lines, only the final JSON\n"
		"  -h, --help           this text\n"
		"Exit status: 0 clean stop, 1 runtime failure or mbuf leak, 2 bad config.\n"
		"Reference: docs/config.md\n");
}

static int
parse_num(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "beltlined: %s: must be a number %g..%g, got \"%s\"\n", opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct bl_app_opts *o)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "exit-idle", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	o->stats_interval = 1.0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->check = true;
			break;
		case 'i':
			if (parse_num("--exit-idle", optarg, 1, 86400000, &v) < 0)
				return -EINVAL;
			o->exit_idle_ms = (uint64_t)v;
			break;
		case 'd':
			if (parse_num("--duration", optarg, 0.001, 1e9, &o->duration) < 0)
				return -EINVAL;
			break;
		case 's':
			if (parse_num("--stats-interval", optarg, 0, 86400, &o->stats_interval) < 0)
				return -EINVAL;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "beltlined: expected one CONFIG.json, got %d arguments\n", argc - optind);
		usage(stderr);
		return -EINVAL;
	}
	o->config = argv[optind];
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	bl_worker_stop_all();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: a blocking call returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
main(int argc, char **argv)
{
	struct bl_diag diag = { 0 };
	struct bl_app_opts opts;
	struct bl_eal_args ea;
	static struct bl_app app;
	int rc;

	if (parse_args(argc, argv, &opts) < 0)
		return EXIT_CONFIG;
	if (bl_cfg_load(opts.config, &app.cfg, &diag) != 0 ||
	    bl_eal_args_build(&app.cfg, &ea, &diag) != 0) {
		fputs(diag.text != NULL ? diag.text : "beltlined: cannot read the config\n", stderr);
		bl_diag_free(&diag);
		return EXIT_CONFIG;
	}
	if (opts.check) {
		printf("%s: ok (%u port%s, %u worker%s)\n", opts.config, app.cfg.n_ports,
		       app.cfg.n_ports == 1 ? "" : "s", app.cfg.n_workers,
		       app.cfg.n_workers == 1 ? "" : "s");
		printf("%s\nEAL arguments:", ea.why);
		for (int i = 1; i < ea.argc; i++)
			printf(" %s", ea.argv[i]);
		printf("\nvirtual devices (created after EAL starts):");
		for (unsigned int i = 0; i < app.cfg.n_ports; i++)
			if (app.cfg.ports[i].vdev[0] != '\0')
				printf(" %s", app.cfg.ports[i].vdev);
		printf("\n");
		return 0;
	}
	if (!opts.quiet)
		fprintf(stderr, "beltlined: %s\n", ea.why);

	install_signals();
	rc = bl_app_run(&app, &opts, &ea);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}
