/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltlined — the appliance: reads its config (a JSON file, or ports and
 * pipelines given as flags), starts EAL, brings the ports up, builds the
 * graphs, runs the workers, prints rates while it runs and the final
 * counters as JSON on stdout when it stops (SIGINT, SIGTERM, --exit-idle,
 * --duration).
 *
 * Exit status: 0 clean, 1 runtime failure (or an mbuf leak), 2 bad config.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "bl_log.h"
#include "bl_stream_proto.h"
#include "bl_version.h"
#include "eal.h"
#include "graphs.h"
#include "reaper.h"
#include "reload.h"
#include "service.h"
#include "worker.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG  2
#define MAX_FLAGS    32

struct flags {
	const char *ports[MAX_FLAGS];
	unsigned int n_ports;
	const char *pipelines[MAX_FLAGS];
	unsigned int n_pipelines;
	const char *lcores;          /* "0-1", "0,2,3": main first, then workers */
	const char *instance;        /* --instance: replaces the config's (or "default") */
	const char *log;             /* --log: auto, stderr, journal */
	bool idle_env;               /* BELTLINED_IDLE_SLEEP_US is set: */
	unsigned int idle_sleep_us;  /* the idle_sleep_us of a config that sets none */
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: beltlined [options] CONFIG.json\n"
		"       beltlined [options] --port NAME=DEVICE ... --pipeline 'TEXT' ...\n"
		"  --port NAME=DEVICE   a port: a DPDK virtual device (net_pcap0,rx_pcap=FILE) or\n"
		"                       a PCI address; repeatable\n"
		"  --pipeline TEXT      a graph in the pipeline language, run on every worker\n"
		"                       lcore; repeatable\n"
		"  --lcores LIST        main lcore then workers, e.g. 0-1 or 0,2,3 (default 0-1); each\n"
		"                       worker runs every pipeline: an rx needs a queue per worker,\n"
		"                       and a --port port has one\n"
		"  --instance NAME      the instance name (1..31 of A-Z a-z 0-9 _ -; default the\n"
		"                       config's, else \"default\"): one-off runs side by side need\n"
		"                       one each\n"
		"  --check              validate the config (and this machine's CPUs), print the\n"
		"                       EAL arguments it would use, and exit\n"
		"  --exit-idle MS       stop once no packet has arrived for MS milliseconds\n"
		"                       (counted from when every worker polls), every replayed\n"
		"                       capture delivered its last record, every gen or tcpgen\n"
		"                       count= sent all and every ring between lcores was read\n"
		"                       (10 s more at most)\n"
		"  --duration S         stop after S seconds (decimals allowed)\n"
		"  --stats-interval S   print rates on stderr every S seconds (0: never; default 1)\n"
		"  -q, --quiet          no rates and no log lines below warnings, only the final JSON\n"
		"  --log WHERE          log lines to stderr, journal (with their level and the\n"
		"                       instance), or auto (default): the journal when stderr is\n"
		"                       connected to it (a systemd service), else stderr\n"
		"  -h, --help           this text\n"
		"  --version            the version (and git describe of the tree it was built from)\n"
		"Environment: BELTLINED_IDLE_SLEEP_US=N: the idle_sleep_us of a config that sets\n"
		"  none (0..%u; a CI runner, a laptop: idle workers nap instead of spinning)\n"
		"Signals: INT, TERM stop; HUP reloads the config file live (beltline reload).\n"
		"Exit status: 0 clean stop, 1 runtime failure or mbuf leak, 2 bad config.\n"
		"Reference: docs/config.md, docs/filters.md\n", BL_CFG_MAX_IDLE_SLEEP_US);
}

static int
parse_num(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* written so that NaN, which compares false with everything, fails too */
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
		fprintf(stderr, "beltlined: %s: must be a number %.15g..%.15g, got \"%s\"\n", opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
add_flag(const char **arr, unsigned int *n, const char *opt, const char *v)
{
	if (*n >= MAX_FLAGS) {
		fprintf(stderr, "beltlined: %s: at most %d times\n", opt, MAX_FLAGS);
		return -EINVAL;
	}
	arr[(*n)++] = v;
	return 0;
}

/* BELTLINED_IDLE_SLEEP_US: where every appliance of an environment should nap when
 * idle (a shared CI runner), without editing each config; a config's own wins. */
static int
parse_env(struct flags *fl)
{
	const char *s = getenv("BELTLINED_IDLE_SLEEP_US");
	double v;

	if (s == NULL)
		return 0;
	if (parse_num("BELTLINED_IDLE_SLEEP_US", s, 0, BL_CFG_MAX_IDLE_SLEEP_US, &v) < 0)
		return -EINVAL;
	if (v != (double)(unsigned int)v) {
		fprintf(stderr, "beltlined: BELTLINED_IDLE_SLEEP_US: must be an integer, got \"%s\"\n", s);
		return -EINVAL;
	}
	fl->idle_env = true;
	fl->idle_sleep_us = (unsigned int)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct bl_app_opts *o, struct flags *fl)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "exit-idle", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'P' },
		{ "pipeline", required_argument, NULL, 'G' },
		{ "lcores", required_argument, NULL, 'L' },
		{ "instance", required_argument, NULL, 'I' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	memset(fl, 0, sizeof(*fl));
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
		case 'P':
			if (add_flag(fl->ports, &fl->n_ports, "--port", optarg) < 0)
				return -EINVAL;
			break;
		case 'G':
			if (add_flag(fl->pipelines, &fl->n_pipelines, "--pipeline", optarg) < 0)
				return -EINVAL;
			break;
		case 'L':
			fl->lcores = optarg;
			break;
		case 'I':
			fl->instance = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "stderr") != 0 &&
			    strcmp(optarg, "journal") != 0) {
				fprintf(stderr, "beltlined: --log: must be auto, stderr or journal, "
					"got \"%s\"\n", optarg);
				return -EINVAL;
			}
			fl->log = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("beltlined %s\n", BL_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (argc - optind > 1 || (argc - optind == 0 && fl->n_pipelines == 0)) {
		fprintf(stderr, "beltlined: expected one CONFIG.json (or --port and --pipeline flags), "
			"got %d arguments\n", argc - optind);
		usage(stderr);
		return -EINVAL;
	}
	o->config = argc - optind == 1 ? argv[optind] : NULL;
	return parse_env(fl);
}

/* "0-1" or "0,2,3" (ranges allowed anywhere): the main lcore, then the workers. */
static int
parse_lcores(const char *s, unsigned int *out, unsigned int max, struct bl_diag *diag)
{
	unsigned int n = 0;
	const char *p = s;

	while (*p != '\0') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (end == p)
			goto bad;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				goto bad;
		}
		for (unsigned long l = lo; l <= hi; l++) {
			if (n >= max || l > BL_CFG_MAX_LCORE)
				goto bad;
			out[n++] = (unsigned int)l;
		}
		if (*end == ',')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	if (n >= 2)
		return (int)n;
bad:
	bl_diag_add(diag, "--lcores: must list the main lcore and at least one worker, e.g. 0-1 or 0,2,3, "
		    "got \"%.40s\"", s);
	return -EINVAL;
}

/* What the environment gives a config that does not say (at start and each reload). */
static void
apply_env(const struct flags *fl, struct bl_cfg *cfg)
{
	if (fl->idle_env && !cfg->idle_sleep_set)
		cfg->idle_sleep_us = fl->idle_sleep_us;
}

/* What the flags lay over a config (the file's at start, and each reload's: reload.c
 * calls it through bl_app.overrides, so a reload of the unchanged file sees the lcores,
 * ports and graphs the start had). */
static int
apply_flags(const struct flags *fl, struct bl_cfg *cfg, struct bl_diag *diag)
{
	unsigned int lc[BL_CFG_MAX_WORKERS + 1] = { 0, 1 }, before = diag->n;
	int n_lc = 2;

	apply_env(fl, cfg);
	if (fl->lcores != NULL) {
		n_lc = parse_lcores(fl->lcores, lc, BL_CFG_MAX_WORKERS + 1, diag);
		if (n_lc < 0)
			return -EINVAL;
		cfg->main_lcore = lc[0];
	}
	for (unsigned int i = 0; i < fl->n_ports; i++)
		bl_cfg_add_port(cfg, fl->ports[i], diag);
	for (unsigned int i = 0; i < fl->n_pipelines; i++)
		bl_cfg_add_graph(cfg, fl->pipelines[i], lc + 1, (unsigned int)n_lc - 1, diag);
	if (diag->n != before)   /* (a file's misspelled keys are said before: load_config) */
		return -EINVAL;
	if ((fl->n_ports != 0 || fl->n_pipelines != 0 || fl->lcores != NULL) &&
	    bl_cfg_validate(cfg, diag) != 0)
		return -EINVAL;
	return 0;
}

static const struct flags *the_flags;   /* main's, for the process's life */

/* --instance too: the name the process runs under is not a change the file makes. */
static void
reload_instance(struct bl_cfg *cfg)
{
	if (the_flags->instance != NULL)
		snprintf(cfg->instance, sizeof(cfg->instance), "%s", the_flags->instance);
}

static int
reload_overrides(struct bl_cfg *cfg, struct bl_diag *diag)
{
	reload_instance(cfg);
	return apply_flags(the_flags, cfg, diag);
}

/* --instance and the environment's idle_sleep_us, for a reload of a file */
static int
reload_env(struct bl_cfg *cfg, struct bl_diag *diag)
{
	(void)diag;
	reload_instance(cfg);
	apply_env(the_flags, cfg);
	return 0;
}

/* The config: the file (if any), then what the flags add. */
static int
load_config(const struct bl_app_opts *o, const struct flags *fl, struct bl_cfg *cfg,
	    struct bl_diag *diag)
{
	int rc, file_rc = 0;

	if (o->config != NULL) {
		/* a misspelled key refuses the file, and the graphs are still checked */
		if (bl_cfg_load(o->config, cfg, diag) != 0 && !bl_cfg_only_keys(diag))
			return -EINVAL;
		file_rc = diag->n != 0 ? -EINVAL : 0;
	} else {
		bl_cfg_defaults(cfg);
	}
	if (fl->instance != NULL) {
		if (!bl_instance_name_ok(fl->instance, strlen(fl->instance))) {
			bl_diag_add(diag, "--instance: must be 1..%u characters of A-Z a-z 0-9 _ -, "
				    "got \"%.40s\"", BL_INSTANCE_NAME_MAX - 1, fl->instance);
			return -EINVAL;
		}
		strcpy(cfg->instance, fl->instance);
	}
	if (apply_flags(fl, cfg, diag) != 0)
		return -EINVAL;
	/* both, so one --check says every problem: a capture not there, a bad pipeline.
	 * No mbufs.count: the pool holds the streams' rings too, summed by the dry run. */
	rc = bl_cfg_check_files(cfg, diag);
	if ((cfg->mbufs == 0 ? bl_app_graphs_check_sizing(cfg, diag, &cfg->rings_mbufs) :
	     bl_app_graphs_check(cfg, diag)) != 0)
		rc = -EINVAL;
	/* memory.size_mb against that pool (the config's own check saw the rings' floor only) */
	if (cfg->mbufs == 0 && cfg->rings_mbufs != 0 && bl_cfg_check_mem_mb(cfg, diag) != 0)
		rc = -EINVAL;
	return file_rc != 0 ? file_rc : rc;
}

static void
on_signal(int sig)
{
	bl_app_stop_signal = sig;   /* said by the main lcore as it stops (app.c) */
	bl_worker_stop_all();
}

static void
on_hangup(int sig)
{
	(void)sig;
	bl_app_reload_ask();   /* answered by the main lcore: a live reload of the config file (reload.c) */
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

/* First thing: a SIGHUP (systemctl reload, a closed terminal) never kills beltlined, and
 * neither does a SIGPIPE (a pcap file= that is a FIFO whose reader left, stderr into
 * `| head`): the write says EPIPE and its filter counts it. */
static void
install_hangup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hangup;
	sa.sa_flags = SA_RESTART;   /* nothing waits on it: blocking calls carry on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The config's problems: on stderr one a line, as the config reader wrote them; in the
 * journal, each a line of priority error. */
static void
say_diag(const struct bl_diag *diag)
{
	const char *p = diag->text;

	if (p == NULL) {
		bl_log(BL_LOG_ERR, "cannot read the config");
	} else if (!bl_service_logs_to_journal()) {
		fputs(p, stderr);
	} else {
		while (*p != '\0') {
			size_t n = strcspn(p, "\n");
			bl_log_nolimit(BL_LOG_ERR, "%.*s", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	if (diag->n > BL_DIAG_SHOWN)
		bl_log(BL_LOG_ERR, "and %u more problems", diag->n - BL_DIAG_SHOWN);
}

static void
print_check(const char *name, const struct bl_cfg *cfg, const struct bl_eal_args *ea)
{
	unsigned int lcores[BL_CFG_MAX_WORKERS];
	unsigned int n = bl_cfg_worker_lcores(cfg, lcores);

	printf("%s: ok (instance %s, %u port%s, %u graph%s, %u worker%s)\n", name, cfg->instance,
	       cfg->n_ports, cfg->n_ports == 1 ? "" : "s", cfg->n_graphs + cfg->n_workers,
	       cfg->n_graphs + cfg->n_workers == 1 ? "" : "s", n, n == 1 ? "" : "s");
	printf("%s\nEAL arguments:", ea->why);
	for (int i = 1; i < ea->argc; i++)
		printf(" %s", ea->argv[i]);
	printf("\nvirtual devices (created after EAL starts):");
	for (unsigned int i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].vdev[0] != '\0')
			printf(" %s", cfg->ports[i].vdev);
	printf("\n");
}

/* A wait the test hooks may change: with BELTLINED_TEST_HOOKS=1, NAME=N (whole
 * units, 1 to max) gives N (a notice says so; the waits' own messages say the
 * limit they waited); anything else in NAME is a warning, and def. Without the
 * hooks, def: users see no change. */
static unsigned int
test_hook(const struct bl_app *app, const char *name, unsigned int def, unsigned int max,
	  const char *unit)
{
	const char *v = app->test_hooks ? getenv(name) : NULL;
	char *end;
	unsigned long s;

	if (v == NULL)
		return def;
	errno = 0;
	s = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || s < 1 || s > max) {
		bl_log(BL_LOG_WARNING, "test hooks: %s=\"%s\" is not 1 to %u: waiting %u %s", name,
		       v, max, def, unit);
		return def;
	}
	bl_log(BL_LOG_NOTICE, "test hooks: %s=%lu: waiting %lu %s instead of %u", name, s, s, unit,
	       def);
	return (unsigned int)s;
}

/* Shortening a wait of def seconds. */
static unsigned int
test_hook_s(const struct bl_app *app, const char *name, unsigned int def)
{
	return test_hook(app, name, def, def, "s");
}

int
main(int argc, char **argv)
{
	struct bl_diag diag = { 0 };
	struct bl_app_opts opts;
	struct bl_eal_args ea;
	static struct flags fl;
	static struct bl_app app;
	int rc;

	install_hangup();
	if (parse_args(argc, argv, &opts, &fl) < 0)
		return EXIT_CONFIG;
	rc = load_config(&opts, &fl, &app.cfg, &diag);
	if (rc == 0)
		rc = bl_eal_args_build(&app.cfg, &ea, &diag);
	if (!opts.check)
		bl_service_log_to(fl.log != NULL ? fl.log : "auto", app.cfg.instance);
	if (opts.quiet)
		bl_log_set_level(BL_LOG_WARNING);
	if (rc != 0) {
		say_diag(&diag);
		bl_diag_free(&diag);
		return EXIT_CONFIG;
	}
	if (opts.check) {
		print_check(opts.config != NULL ? opts.config : "the command line", &app.cfg, &ea);
		return 0;
	}
	bl_log(BL_LOG_INFO, "%s", ea.why);

	app.config_path = opts.config;
	/* beside a file only: started from flags alone, a reload naming a file moves to it */
	if (fl.idle_env && !app.cfg.idle_sleep_set)
		bl_log(BL_LOG_INFO, "idle_sleep_us %u, from BELTLINED_IDLE_SLEEP_US (the config sets none)",
		       fl.idle_sleep_us);
	if (opts.config != NULL && (fl.lcores != NULL || fl.n_ports != 0 || fl.n_pipelines != 0)) {
		the_flags = &fl;
		app.overrides = reload_overrides;
	} else if (fl.idle_env || fl.instance != NULL) {
		the_flags = &fl;
		app.overrides = reload_env;
	}
	app.test_hooks = getenv("BELTLINED_TEST_HOOKS") != NULL &&
			 strcmp(getenv("BELTLINED_TEST_HOOKS"), "1") == 0;
	app.epoch_wait_s = test_hook_s(&app, "BELTLINED_TEST_EPOCH_WAIT_S", 10);
	app.teardown_s = test_hook_s(&app, "BELTLINED_TEST_TEARDOWN_S", BL_APP_TEARDOWN_S);
	app.reaper_wait_s = test_hook_s(&app, "BELTLINED_TEST_REAPER_WAIT_S", BL_REAPER_WAIT_MS / 1000);
	app.tick_ms = test_hook(&app, "BELTLINED_TEST_TICK_MS", 1, 5000, "ms");
	install_signals();
	rc = bl_app_run(&app, &opts, &ea);
	bl_log_flush();   /* what the rate limit still holds back */
	return rc == 0 ? 0 : rc == -EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
}
