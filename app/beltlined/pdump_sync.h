/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A capture tool that stops cannot pull its pool from under a worker
 * (pdump_sync.c says why and how).
 */
#ifndef BL_PDUMP_SYNC_H
#define BL_PDUMP_SYNC_H

#include "worker.h"

/* Main lcore, before the workers launch: the workers a removal of an rx or tx
 * callback waits for (n 0: none). ws must outlive every capture. */
void bl_pdump_sync_workers(const struct bl_worker *ws, unsigned int n);

/* Removals that waited, and those whose wait timed out (BL_PDUMP_SYNC_TIMEOUT_US). */
struct bl_pdump_sync_stats {
	uint64_t removals, timeouts;
};
void bl_pdump_sync_stats(struct bl_pdump_sync_stats *s);

#define BL_PDUMP_SYNC_TIMEOUT_US 1000000u

#endif /* BL_PDUMP_SYNC_H */
