/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcores' run loop: run every graph replica this lcore owns, one
 * pass each, round after round, run to completion, never blocking. The
 * fixed forwarding of the "workers" config is the graph
 * `rx port=A queue=Q | tx port=B`.
 */
#ifndef BL_WORKER_H
#define BL_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "bl_cfg.h"
#include "bl_graph.h"

#define BL_WORKER_MAX_GRAPHS (BL_CFG_MAX_GRAPHS + 1)

/*
 * What a worker runs, published whole by the main lcore and never changed after
 * (a reload publishes another): the worker picks it up at a burst boundary, and
 * says which epoch it last finished a round of (QSBR: quiescent between rounds).
 * The main lcore frees a replaced set's graphs only once every worker passed the
 * new epoch. The worker never waits, locks or allocates for it.
 *
 * With idle_sleep_us (config), a worker whose last BL_WORKER_IDLE_ROUNDS rounds found
 * no packet sleeps that long after each further empty round: a machine that shares
 * its CPUs (a laptop, a CI runner, an appliance that only names endpoints) gets the
 * CPU back, at the price of up to idle_sleep_us of latency for the first packet after
 * a quiet spell (and for the timers that filters run in their rounds).
 */
struct bl_worker_run {
	uint64_t epoch;
	unsigned int n;
	struct bl_graph *g[BL_WORKER_MAX_GRAPHS];
	/* A two-phase swap's second set (graphs_swap): taken up only once every other worker
	 * passed epoch `after` (0: at once), i.e. dropped what it gave up; until then the
	 * worker runs the set it has. So no two lcores poll one rx queue even when the first
	 * phase's wait ran out with a worker held: the held one finishes its round with its
	 * old set when it wakes, and only then may the one taking its queue start. */
	uint64_t after;
	struct bl_worker *peers;
	unsigned int n_peers;
};

struct bl_worker {
	unsigned int lcore;                          /* config, read-only while running */
	unsigned int idx;                            /* index among worker lcores = tx queue */
	/* The control view (main lcore only: reports, stats, reloads). */
	unsigned int n_graphs;
	struct bl_graph *graphs[BL_WORKER_MAX_GRAPHS];
	char origin[BL_WORKER_MAX_GRAPHS][32];       /* "graphs[0]" or "workers[1]" */
	unsigned int replica[BL_WORKER_MAX_GRAPHS];
	struct bl_worker_run *run;                   /* (m) release; the worker loads acquire */
	struct bl_worker_run *run_old;               /* (m) the set run replaced, until freed */
	uint64_t polled;                             /* (w) packets its sources produced */
	uint64_t started;                            /* (w) 1 once its loop runs */
	/* (w) the epoch of the last set it finished a round of: release, pairs with the
	 * acquire in bl_worker_wait_epoch; UINT64_MAX once it returned */
	_Alignas(64) uint64_t passed;
	/* (w) rounds it finished: release, pairs with the acquire in bl_worker_wait_round */
	uint64_t rounds;
	uint64_t swaps;                              /* (w) sets it switched to */
	uint64_t swap_max_ns;                        /* (w) its longest first round of a new set */
	uint64_t idle_sleeps;                        /* (w) naps taken while idle */
	/* (m) idle_sleep_us of the config, stored relaxed (a reload changes it live); the
	 * worker loads it relaxed once it has been idle BL_WORKER_IDLE_ROUNDS rounds */
	_Alignas(64) uint32_t idle_sleep_us;
} __rte_cache_aligned;

/* Rounds in a row that found no packet before a worker with idle_sleep_us naps. */
#define BL_WORKER_IDLE_ROUNDS 256u

/* rte_eal_remote_launch entry point; `arg` is a struct bl_worker. */
int bl_worker_main(void *arg);

/* Ask every worker to return from bl_worker_main (any thread, signal-safe). */
void bl_worker_stop_all(void);

/* Whether a stop was asked for. */
int bl_worker_stopping(void);

/* Main lcore: w's control view as a run set of this epoch; NULL: out of memory. */
struct bl_worker_run *bl_worker_run_make(const struct bl_worker *w, uint64_t epoch);

/* Main lcore: hand w the set r (the previous one stays in w->run_old until
 * bl_worker_run_release). Cannot fail. */
void bl_worker_publish(struct bl_worker *w, struct bl_worker_run *r);

/* Main lcore: whether every worker finished a round of `epoch` (or returned);
 * waits at most timeout_us, sleeping, never the workers. */
bool bl_worker_wait_epoch(struct bl_worker *ws, unsigned int n, uint64_t epoch,
			  uint64_t timeout_us);

/* Any thread: whether every started worker finished the round it was in when this
 * was called (or returned); waits at most timeout_us, sleeping. Whatever the caller
 * unlinked before the call (an rx callback, pdump_sync.c) no worker runs after it. */
bool bl_worker_wait_round(const struct bl_worker *ws, unsigned int n, uint64_t timeout_us);

/* Main lcore: free the set w ran before (after bl_worker_wait_epoch said yes). */
void bl_worker_run_release(struct bl_worker *w);

#endif /* BL_WORKER_H */
