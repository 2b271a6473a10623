/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_atomic — the few atomic helpers the appliance uses.
 *
 * Counters have one writer (the lcore that owns them) and any number of
 * readers (the main lcore's stats, the control socket). The writer adds
 * with a relaxed load and store, no locked instruction; readers load
 * relaxed. A 64-bit aligned store is never torn on the targets DPDK
 * supports, so a reader sees an old or a new value, never a mix.
 */
#ifndef BL_ATOMIC_H
#define BL_ATOMIC_H

#include <stdint.h>

/* Owner only. relaxed: pairs with the relaxed load in bl_counter_read. */
static inline void
bl_counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Any thread. relaxed: pairs with the relaxed store in bl_counter_add. */
static inline uint64_t
bl_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif /* BL_ATOMIC_H */
