/* SPDX-License-Identifier: BSD-3-Clause */
/* The appliance's lifetime: start, run, report, stop (all slow path). */
#ifndef BL_APP_H
#define BL_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_mempool.h>

#include "bl_cfg.h"

struct bl_dbuf;
struct bl_ctl;
#include "eal.h"
#include "worker.h"

struct bl_app_opts {
	const char *config;
	bool check;
	bool quiet;
	uint64_t exit_idle_ms;   /* 0: never */
	double duration;         /* seconds; 0: until a signal */
	double stats_interval;   /* seconds; 0: no rate lines */
};

struct bl_app {
	struct bl_cfg cfg;
	bool eal_up;
	bool multiprocess;                       /* EAL keeps runtime files; pdump is on */
	struct bl_dbuf *dbuf;                    /* the packet DBuf; pool is its mempool */
	struct rte_mempool *pool;
	uint16_t port_id[BL_CFG_MAX_PORTS];
	bool port_open[BL_CFG_MAX_PORTS];
	unsigned int n_workers;
	struct bl_worker workers[BL_CFG_MAX_WORKERS];
	uint64_t rx_claims[BL_CFG_MAX_PORTS];    /* rx queues some graph polls (bits) */
	uint64_t rx_flushed[BL_CFG_MAX_PORTS];   /* left in rx queues at stop, freed */
	uint64_t start_tsc, stop_tsc;
	struct bl_ctl *ctl;                     /* the control server (main lcore only) */
	/* Reloads (main lcore only; reload.c) */
	const char *config_path;                /* the file the config came from, or NULL */
	char *config_path_owned;                /* config_path, when a reload named another */
	/* The command line's --lcores, --port and --pipeline, laid over each config a reload
	 * reads as over the file at start (main.c); NULL: none given. */
	int (*overrides)(struct bl_cfg *cfg, struct bl_diag *diag);
	uint64_t epoch;                         /* of the workers' current run sets */
	uint64_t reloads, reload_failures;
	char reload_error[BL_ERR_MSG_MAX];      /* why the last one failed, or "" */
	char reload_note[160];                  /* what the last one kept as it was, or "" */
	unsigned int live_edits;                /* graph edits since the file was read (edit.c) */
	unsigned int test_fail_step;            /* test hook: fail the next reload at step N */
	bool test_hooks;                        /* BELTLINED_TEST_HOOKS=1 in the environment */
	/* How long a swap waits for every worker to pass its epoch before it leaves what
	 * they ran to the limbo: 10 s, or with the test hooks BELTLINED_TEST_EPOCH_WAIT_S
	 * (1 to 10), so a test of a held worker does not wait out 10 s twice. */
	unsigned int epoch_wait_s;
	/* The teardown's bound after the report with memory.multiprocess (app.c): 10 s, or
	 * with the test hooks BELTLINED_TEST_TEARDOWN_S (1 to 10). */
	unsigned int teardown_s;
	/* How long a start waits for its EAL folder's lock (reaper.h, L2): 10 s, or with the
	 * test hooks BELTLINED_TEST_REAPER_WAIT_S (1 to 10). */
	unsigned int reaper_wait_s;
	/* The main lcore's watch interval with no client asleep: 1 ms, or with the test
	 * hooks BELTLINED_TEST_TICK_MS (1 to 5000), so a test can tell a request answered
	 * when it comes from one answered at the next tick. */
	unsigned int tick_ms;
};

/* After the report, with memory.multiprocess, the teardown ends within this (app.c). */
#define BL_APP_TEARDOWN_S 10

/* Everything after the config is read; returns 0, or -1 after saying why on stderr. */
int bl_app_run(struct bl_app *app, const struct bl_app_opts *opts, struct bl_eal_args *ea);

/* The signal that asked the appliance to stop (SIGINT, SIGTERM; main.c's handler), or 0. */
extern volatile sig_atomic_t bl_app_stop_signal;

/* Seconds since the workers started, from the TSC: the clock of the replies' uptime_s. */
static inline double
bl_app_uptime_s(const struct bl_app *app)
{
	return (double)(rte_get_tsc_cycles() - app->start_tsc) / (double)rte_get_tsc_hz();
}

struct bl_port_hw_stats;
struct cJSON;

/*
 * The final report, in two steps: build it while the graphs still exist
 * (ports from `hw`, one per port, read before they closed; graphs, filters,
 * edges, workers), then, once graphs and ports are gone and every mbuf should
 * be home, add the pool's count and print it as JSON on `out`. The second
 * returns the number of mbufs missing from the pool.
 */
struct cJSON *bl_app_report_build(const struct bl_app *app, const struct bl_port_hw_stats *hw);
long bl_app_report_finish(const struct bl_app *app, struct cJSON *root, FILE *out);

/*
 * One filter's runtime counters (in, out, dropped, ..., per-class counts in
 * (from its in-edges) and out, and the filter's own counters) and one edge's (packets, per-class counts), added
 * to `o`. Shared by the final report and the control server's live stats; the
 * counters are loaded relaxed, so a live snapshot may be a burst old.
 */
struct bl_graph;
struct bl_filter;
struct bl_edge_rt;
void bl_app_filter_json(const struct bl_graph *g, const struct bl_filter *f, struct cJSON *o);
void bl_app_edge_json(const struct bl_edge_rt *e, struct cJSON *o);

#endif /* BL_APP_H */
