/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_atomic.h"
#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_inject.h"
#include "bl_log.h"
#include "bl_port.h"
#include "bl_replay.h"
#include "bl_stream.h"
#include "ctl.h"
#include "graphs.h"
#include "limbo.h"
#include "pdump_sync.h"
#include "reaper.h"
#include "reload.h"
#include "service.h"

/* The main lcore's watch interval while a client sleeps on its wake channel; else
 * app->tick_ms (1 ms). */
#define WAKE_TICK_US 100

static uint64_t
total_polled(const struct bl_app *app)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < app->n_workers; i++)
		n += bl_counter_read(&app->workers[i].polled);
	return n;
}

/*
 * --exit-idle: no packet for that long, every replayed capture delivered its
 * last record, every generator with count= sent all, and every ring between
 * lcores (ibuf_out -> ibuf_in) was read to its head. A worker that did not run for
 * a while (a busy machine's scheduler) then never ends a replay or a generator
 * half way; a capture that cannot reach its end (its
 * queue not polled, its last records dropped by the driver) holds the stop back
 * BL_EXIT_IDLE_REPLAY_MS at most, and says so.
 */
#define BL_EXIT_IDLE_REPLAY_MS 10000.0
static bool
exit_idle(const struct bl_app *app, const struct bl_app_opts *opts, double idle_ms)
{
	/* BELTLINED_TEST_HOOKS=1: 1 s, so a test of the limit does not wait out 10 */
	const double hold_ms = app->test_hooks ? 1000.0 : BL_EXIT_IDLE_REPLAY_MS;

	if (idle_ms < (double)opts->exit_idle_ms)
		return false;
	if (!bl_replay_pending() && !bl_stream_lcore_pending() && bl_filter_finite_pending() == 0)
		return true;
	if (idle_ms < (double)opts->exit_idle_ms + hold_ms)
		return false;
	bl_log(BL_LOG_WARNING, "--exit-idle: stopping %.0f ms after the last packet although %s",
	       idle_ms, bl_replay_pending() ? "a replayed capture did not deliver its last record "
	       "(its driver dropped it, or no graph polls that queue)" :
	       bl_stream_lcore_pending() ? "a ring between lcores (ibuf_out) holds entries its "
	       "reader did not take" : "a generator with count= did not send all (gen, tcpgen: "
	       "see their alloc_fail counters)");
	return true;
}

/* Whether every worker's loop has begun (before, no source can have been idle). */
static int
workers_started(const struct bl_app *app)
{
	for (unsigned int i = 0; i < app->n_workers; i++)
		/* relaxed: pairs with the relaxed store at the top of bl_worker_main */
		if (!__atomic_load_n(&app->workers[i].started, __ATOMIC_RELAXED))
			return 0;
	return 1;
}

static void
print_rates(const struct bl_app *app, double t, double dt, uint64_t *last_rx, uint64_t *last_tx)
{
	uint64_t rx = 0, tx = 0, nombuf = 0, missed = 0, polled = total_polled(app);

	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		struct bl_port_hw_stats st;
		if (bl_port_hw_stats(app->port_id[p], &st) == 0) {
			rx += st.ipackets;
			tx += st.opackets;
			nombuf += st.rx_nombuf;
			missed += st.imissed;
		}
	}
	fprintf(stderr, "[%7.1fs] rx %8.3f Mpps  tx %8.3f Mpps  total rx %lu tx %lu  sources %lu  "
		"rx_nombuf %lu  imissed %lu\n",
		t, (double)(rx - *last_rx) / dt / 1e6, (double)(tx - *last_tx) / dt / 1e6,
		rx, tx, polled, nombuf, missed);
	*last_rx = rx;
	*last_tx = tx;
}

volatile sig_atomic_t bl_app_stop_signal;

/* The main lcore watches: rates, idleness, duration, signals. */
static void
watch(struct bl_app *app, const struct bl_app_opts *opts)
{
	const double hz = (double)rte_get_tsc_hz();
	uint64_t idle_rx = 0, idle_since = app->start_tsc, last_print = app->start_tsc;
	uint64_t last_rx = 0, last_tx = 0;

	const unsigned int tick_us = (app->tick_ms != 0 ? app->tick_ms : 1) * 1000u;
	int sleepers = 0, started = 0;

	while (!bl_worker_stopping()) {
		struct timespec ts;
		uint64_t now, now_ns, rx;

		/* The tick's sleep is a wait on the control socket: accept, answer, detach
		 * the dead as soon as there is something to do. */
		bl_ctl_tick(app->ctl, sleepers ? WAKE_TICK_US : tick_us);
		if (bl_app_reload_asked()) {   /* SIGHUP: the same file (says why if refused) */
			struct bl_err err;
			bl_app_reload(app, NULL, &err);
		}
		bl_limbo_reap(app, false);   /* what a swap left, once a held worker is past */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		sleepers = bl_stream_wake_tick(now_ns);
		sleepers += bl_inject_wake_tick(now_ns);   /* writers sleeping for their buffers */
		bl_inject_reap();   /* gone writers' regions, once no mbuf points into them */
		now = rte_get_tsc_cycles();
		rx = total_polled(app);
		if (!started)                   /* idle counts from the last worker's start */
			started = workers_started(app);
		if (rx != idle_rx || !started) {
			idle_rx = rx;
			idle_since = now;
		}
		if (opts->exit_idle_ms != 0 && exit_idle(app, opts, (double)(now - idle_since) * 1e3 / hz)) {
			bl_log(BL_LOG_INFO, "stopping: --exit-idle (no packet for %llu ms)", (unsigned long long)opts->exit_idle_ms);
			break;
		}
		if (opts->duration > 0 && (double)(now - app->start_tsc) / hz >= opts->duration) {
			bl_log(BL_LOG_INFO, "stopping: --duration %g s reached", opts->duration);
			break;
		}
		if (!opts->quiet && opts->stats_interval > 0 &&
		    (double)(now - last_print) / hz >= opts->stats_interval) {
			print_rates(app, (double)(now - app->start_tsc) / hz,
				    (double)(now - last_print) / hz, &last_rx, &last_tx);
			last_print = now;
		}
	}
	bl_worker_stop_all();
}

/*
 * Once the workers are gone, take back what still sits in the devices' rx
 * queues: software devices (net_ring) do not free queued mbufs when they
 * close. Bounded, because a generator device (net_null) never runs dry;
 * what is taken is freed unforwarded and counted per port.
 */
static void
flush_rx(struct bl_app *app)
{
	struct rte_mbuf *pkts[BL_CFG_MAX_BURST];

	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		const struct bl_cfg_port *cp = &app->cfg.ports[p];
		for (uint16_t q = 0; q < cp->rx_queues; q++) {
			unsigned int left = cp->rx_desc * 2u;
			while (left > 0) {
				uint16_t n = rte_eth_rx_burst(app->port_id[p], q, pkts,
							      (uint16_t)RTE_MIN(left, RTE_DIM(pkts)));
				if (n == 0)
					break;
				rte_pktmbuf_free_bulk(pkts, n);
				app->rx_flushed[p] += n;
				left -= n;
			}
		}
	}
}

static void
teardown(struct bl_app *app)
{
	for (unsigned int p = 0; p < app->cfg.n_ports; p++)
		if (app->port_open[p]) {
			bl_port_close(&app->cfg, p, app->port_id[p]);
			app->port_open[p] = false;
		}
}

/*
 * EAL leaves its runtime folder behind (empty in our modes, once telemetry's
 * own exit handler has removed its socket). This handler is registered
 * before EAL's, so it runs after it.
 */
static char runtime_dir[PATH_MAX];

static void
remove_runtime_dir(void)
{
	bl_reaper_hold_end();   /* its lock file, and it */
	if (runtime_dir[0] != '\0')
		rmdir(runtime_dir);
}

/* Does an instance of our name answer on its control socket (bl_reaper_hold's question)? */
static bool
instance_runs(void *ctx)
{
	const struct bl_app *app = ctx;
	char path[256];

	return bl_ctl_running(app->cfg.instance, path, sizeof(path));
}

static int
start(struct bl_app *app, struct bl_eal_args *ea)
{
	struct bl_err err;
	int rc;

	bl_err_clear(&err);
	atexit(remove_runtime_dir);
	if (bl_reaper_start() < 0)
		bl_log(BL_LOG_WARNING, "no reaper (fork failed): if this process is killed, "
			"its control socket and EAL folder stay until the next start");
	/* Its folder, made and locked before EAL starts (reaper.h, L2): if EAL fails or
	 * dies starting, gone all the same; and no reaper of an instance of the name
	 * that just ended removes it under EAL's feet. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", ea->run_dir);
	bl_reaper_note(BL_REAPER_EAL, runtime_dir);
	rc = bl_reaper_hold(runtime_dir, app->reaper_wait_s * 1000u, instance_runs, app);
	if (rc == -EBUSY) {   /* not the reaper's wait: one that runs would time it out */
		char ctl_path[256];
		(void)bl_ctl_running(app->cfg.instance, ctl_path, sizeof(ctl_path));
		bl_log(BL_LOG_ERR, "an appliance of instance name \"%s\" runs (its control socket "
		       "%s answers): give this one another instance name: --instance NAME, or the "
		       "config's \"instance\"", app->cfg.instance, ctl_path);
	}
	if (rc == -EWOULDBLOCK || rc == -EBUSY)   /* another instance of the name: its folder */
		bl_reaper_note(BL_REAPER_FORGET, runtime_dir);
	if (rc != 0)
		return -1;   /* a link, another user's folder, another instance: said */
	if (ea->multiprocess) {   /* EAL's hugepage files too (memory.multiprocess) */
		char prefix[BL_CFG_NAME_MAX + 8];
		snprintf(prefix, sizeof(prefix), "bl_%s", app->cfg.instance);
		bl_reaper_note(BL_REAPER_HUGE, prefix);
	}
	if (rte_eal_init(ea->argc, ea->argv) < 0) {
		bl_log(BL_LOG_ERR, "EAL failed to start: %s", rte_strerror(rte_errno));
		return -1;
	}
	app->eal_up = true;
	if (strcmp(rte_eal_get_runtime_dir(), runtime_dir) != 0) {   /* a DPDK naming it otherwise */
		snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
		bl_reaper_note(BL_REAPER_EAL, runtime_dir);
	}
	/* DPDK's capture tools (dpdk-dumpcap, dpdk-pdump) attach as secondary processes. */
	if (ea->multiprocess && rte_pdump_init() != 0)
		fprintf(stderr, "beltlined: memory.multiprocess: rte_pdump_init: %s (dpdk-dumpcap and "
			"dpdk-pdump cannot capture from this instance)\n", rte_strerror(rte_errno));
	app->multiprocess = ea->multiprocess;
	/* The packet DBuf: the mbuf pool lies in a shared region (hugepages when
	 * EAL has them), so what the ports receive can be mapped by clients of the
	 * streams with its permissions (the appliance's owner and group,
	 * memory.packet_mode); streams with others get copy DBufs (bl_dbuf_perm.h). */
	char name[64];
	snprintf(name, sizeof(name), "bl_%s_pkts", app->cfg.instance);
	bl_dbuf_set_multiprocess(ea->multiprocess);   /* pool headers where secondaries see them */
	struct bl_dbuf_pkt_opts po = {
		.sz = sizeof(po),
		.name = name,
		.n_mbufs = ea->mbufs,
		.cache_size = app->cfg.mbuf_cache,
		.data_room = (uint16_t)app->cfg.mbuf_data_room,
		.min_free = bl_cfg_mbufs_needed(&app->cfg),
		.shm_flags = ea->hugepages ? 0 : BL_SHM_F_NO_HUGE,
		.uid = (uid_t)-1,
		.gid = (gid_t)-1,
		.mode = (mode_t)app->cfg.pkt_mode,   /* never widened: other streams get copies */
		.count_key = "mbufs.count",
	};
	if (bl_dbuf_pkt_create(&po, &app->dbuf, &err) != 0) {
		bl_log(BL_LOG_ERR, "mbufs: cannot create the packet buffer of %u mbufs of %u bytes: "
			"%s (lower mbufs.count, or raise memory.size_mb)",
			ea->mbufs, app->cfg.mbuf_data_room, err.msg);
		return -1;
	}
	app->pool = app->dbuf->mp;
	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		if (bl_port_open(&app->cfg, p, app->pool, &app->port_id[p], &err) != 0) {
			bl_log(BL_LOG_ERR, "%s", err.msg);
			return -1;
		}
		app->port_open[p] = true;
	}
	return 0;
}

/*
 * memory.multiprocess: DPDK's secondary processes (dpdk-dumpcap, dpdk-pdump,
 * dpdk-proc-info) take locks in the memory all of them share (the memory
 * configuration's, the heaps', ethdev's). One that dies holding one leaves it held
 * for ever, and our teardown of the pool's heap waited on it without end (seen in CI:
 * a dpdk-dumpcap that faulted attaching to a sanitizer build; beltlined never
 * exited). Once the report is out, what is left is giving memory back that the
 * process's end gives back anyway: bound it. After BL_APP_TEARDOWN_S the alarm says
 * so and ends the process with the status it would have had; the reaper removes the
 * runtime files, as after a kill.
 */
static volatile sig_atomic_t teardown_status;
static char teardown_msg[320];   /* written before the alarm is set: the handler only writes it */
static size_t teardown_msg_len;

static void
teardown_alarm(int sig)
{
	ssize_t w = write(STDERR_FILENO, teardown_msg, teardown_msg_len);

	(void)sig;
	(void)w;
	_exit(teardown_status);
}

/* seconds: BL_APP_TEARDOWN_S, or what the test hooks said (app->teardown_s) */
static void
teardown_bound(int status, unsigned int seconds)
{
	struct sigaction sa;
	int n;

	fflush(stdout);     /* the report, whole, before an _exit can cut it */
	bl_log_flush();
	teardown_status = status;
	n = snprintf(teardown_msg, sizeof(teardown_msg), "beltlined: warning: the teardown after "
		     "the report did not finish in %u s: a DPDK secondary process (dpdk-dumpcap, "
		     "dpdk-pdump, ...) may have died holding a lock of the shared memory; exiting "
		     "without it (the reaper removes the runtime files)\n", seconds);
	teardown_msg_len = n < 0 ? 0 : RTE_MIN((size_t)n, sizeof(teardown_msg) - 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = teardown_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

int
bl_app_run(struct bl_app *app, const struct bl_app_opts *opts, struct bl_eal_args *ea)
{
	long leaked;
	int rc = start(app, ea);

	if (rc == 0)
		rc = bl_app_graphs_build(app) == 0 ? 0 : -EINVAL;
	/* The control socket: required when a stream is exported; otherwise (say, an
	 * ordinary user who may not write RUN_DIR) the appliance runs without one. */
	if (rc == 0 && bl_ctl_start(app, &app->ctl) != 0) {
		if (bl_stream_count(BL_STREAM_EXPORT) != 0)
			rc = -1;
		else
			bl_log(BL_LOG_WARNING, "running without a control socket: beltline "
				"ls/stats will not see this instance");
	}
	if (rc == 0) {
		/* Nothing left to fail before the workers run: what the graphs
		 * create (files) becomes visible now, never on a failed start. */
		bl_app_graphs_commit(app);
		bl_dbuf_perm_running(true);   /* from now on a copy pool is never replaced */
		app->start_tsc = rte_get_tsc_cycles();
		app->epoch = 1;
		for (unsigned int i = 0; rc == 0 && i < app->n_workers; i++) {
			struct bl_worker_run *r = bl_worker_run_make(&app->workers[i], app->epoch);
			if (r == NULL) {
				fprintf(stderr, "beltlined: out of memory\n");
				rc = -1;
			} else {
				bl_worker_publish(&app->workers[i], r);
			}
		}
		bl_pdump_sync_workers(app->workers, app->n_workers);   /* a capture's stop waits */
		for (unsigned int i = 0; rc == 0 && i < app->n_workers; i++) {
			rc = rte_eal_remote_launch(bl_worker_main, &app->workers[i], app->workers[i].lcore);
			if (rc != 0) {
				bl_log(BL_LOG_ERR, "workers[%u]: cannot launch on lcore %u: %s",
					i, app->workers[i].lcore, strerror(-rc));
				bl_worker_stop_all();
				break;
			}
		}
		if (rc == 0) {
			bl_service_ready(app);
			watch(app, opts);
			if (bl_app_stop_signal != 0)   /* the last line of a stop was whatever came before */
				bl_log(BL_LOG_NOTICE, "stopping: SIG%s",
				       sigabbrev_np(bl_app_stop_signal) != NULL ?
				       sigabbrev_np(bl_app_stop_signal) : "?");
		} else {
			bl_worker_stop_all();
		}
		bl_service_stopping();
		rte_eal_mp_wait_lcore();
		bl_dbuf_perm_running(false);   /* the copy pools stay until the report counts them */
		app->stop_tsc = rte_get_tsc_cycles();
		/* What filters still hold (flow records) leaves before the report and
		 * while clients are still attached. */
		for (unsigned int i = 0; i < app->n_workers; i++)
			for (unsigned int k = 0; k < app->workers[i].n_graphs; k++)
				bl_graph_drain(app->workers[i].graphs[k]);
	}
	/* Clients first: every reader detached, socket and folder gone, before the
	 * streams (and the references their slots hold) are freed with the graphs. */
	bl_ctl_stop(app->ctl);
	app->ctl = NULL;
	bl_limbo_reap(app, true);   /* the workers have stopped: what a swap left goes now */
	/* Counters first (the ports still exist), then close the ports so their
	 * rings give back every mbuf, then count the pool. */
	if (app->pool != NULL && rc == 0) {
		struct bl_port_hw_stats hw[BL_CFG_MAX_PORTS];
		for (unsigned int p = 0; p < app->cfg.n_ports; p++)
			bl_port_hw_stats(app->port_id[p], &hw[p]);
		flush_rx(app);
		cJSON *report = bl_app_report_build(app, hw);
		bl_app_graphs_free(app);
		teardown(app);
		leaked = bl_app_report_finish(app, report, stdout);
		if (leaked != 0) {
			bl_log(BL_LOG_ERR, "error: %ld mbufs were not returned to the pool", leaked);
			rc = -1;
		}
	}
	bl_app_graphs_free(app);
	for (unsigned int i = 0; i < app->n_workers; i++) {
		bl_worker_run_release(&app->workers[i]);
		free(app->workers[i].run);
		app->workers[i].run = NULL;
	}
	teardown(app);
	if (app->multiprocess)
		teardown_bound(rc == 0 ? 0 : rc == -EINVAL ? 2 : 1, app->teardown_s);   /* main.c's statuses */
	bl_inject_reap_all();      /* gone writers' regions, after the ports' mbufs */
	bl_dbuf_perm_free_all();   /* the copy DBufs, after their rings (freed with the graphs) */
	bl_dbuf_free(app->dbuf);   /* the pool, its heap and its region */
	if (app->multiprocess)
		rte_pdump_uninit();
	free(app->config_path_owned);
	if (app->eal_up)
		rte_eal_cleanup();
	if (app->multiprocess)
		alarm(0);
	return rc == 0 ? 0 : rc == -EINVAL ? -EINVAL : -1;
}
