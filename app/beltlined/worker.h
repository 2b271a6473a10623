/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcores' run loop: poll each configured rx queue in bursts and
 * send what arrives out of its tx port, run to completion, never blocking.
 * Until the filter graphs land this is the graph `rx port=A | tx port=B`.
 */
#ifndef BL_WORKER_H
#define BL_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "bl_cfg.h"

/* One polled rx queue and where its packets go. */
struct bl_fwd {
	uint16_t rx_port, rx_queue;     /* config, read-only while running */
	uint16_t tx_port, tx_queue;
	uint64_t rx;                    /* (w) worker writes, others read relaxed */
	uint64_t tx;                    /* (w) */
	uint64_t tx_dropped;            /* (w) tx ring full: freed and counted */
};

struct bl_worker {
	unsigned int lcore;             /* config */
	unsigned int idx;               /* workers[idx] in the config */
	uint16_t burst;
	uint16_t n_fwd;
	struct bl_fwd fwd[BL_CFG_MAX_POLLS];
} __rte_cache_aligned;

/* rte_eal_remote_launch entry point; `arg` is a struct bl_worker. */
int bl_worker_main(void *arg);

/* Ask every worker to return from bl_worker_main (any thread, signal-safe). */
void bl_worker_stop_all(void);

/* Whether a stop was asked for. */
int bl_worker_stopping(void);

#endif /* BL_WORKER_H */
