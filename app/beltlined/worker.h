/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcores' run loop: run every graph replica this lcore owns, one
 * pass each, round after round, run to completion, never blocking. The
 * fixed forwarding of the "workers" config is the graph
 * `rx port=A queue=Q | tx port=B`.
 */
#ifndef BL_WORKER_H
#define BL_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "bl_cfg.h"
#include "bl_graph.h"

#define BL_WORKER_MAX_GRAPHS (BL_CFG_MAX_GRAPHS + 1)

struct bl_worker {
	unsigned int lcore;                          /* config, read-only while running */
	unsigned int idx;                            /* index among worker lcores = tx queue */
	unsigned int n_graphs;
	struct bl_graph *graphs[BL_WORKER_MAX_GRAPHS];
	char origin[BL_WORKER_MAX_GRAPHS][32];       /* "graphs[0]" or "workers[1]" */
	unsigned int replica[BL_WORKER_MAX_GRAPHS];
	uint64_t polled;                             /* (w) packets its sources produced */
	uint64_t started;                            /* (w) 1 once its loop runs */
} __rte_cache_aligned;

/* rte_eal_remote_launch entry point; `arg` is a struct bl_worker. */
int bl_worker_main(void *arg);

/* Ask every worker to return from bl_worker_main (any thread, signal-safe). */
void bl_worker_stop_all(void);

/* Whether a stop was asked for. */
int bl_worker_stopping(void);

#endif /* BL_WORKER_H */
