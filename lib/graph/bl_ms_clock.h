/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ms_clock — a worker's wall clock in milliseconds, read off the TSC: the
 * wall time at init plus the TSC's ticks since, so a hot path reads no system
 * clock. For filters that age state (flow, tcpstream). Worker side: DPDK.
 */
#ifndef BL_MS_CLOCK_H
#define BL_MS_CLOCK_H

#include <stdint.h>
#include <rte_cycles.h>

#include "bl_time.h"

struct bl_ms_clock {
	uint64_t hz;        /* TSC ticks a second; 0: no clock (every read is ms0) */
	uint64_t tsc0;      /* the TSC at init */
	uint64_t ms0;       /* wall time at init, ms since the epoch */
	uint64_t next_tsc;  /* bl_ms_clock_tick: the TSC before which it has nothing to say */
};

static inline void
bl_ms_clock_init(struct bl_ms_clock *c)
{
	c->hz = rte_get_tsc_hz();
	c->tsc0 = rte_rdtsc();
	c->ms0 = bl_wall_ms();
	c->next_tsc = 0;
}

/* Now, in ms since the epoch (two divisions: once a burst, not once a packet). */
static inline uint64_t
bl_ms_clock_now(const struct bl_ms_clock *c)
{
	return c->ms0 + bl_ticks_to(rte_rdtsc() - c->tsc0, c->hz, 1000);
}

/* For a tick that runs every graph pass: 0 (the TSC alone, no division) until a ms
 * has passed since it last said more, then now in ms. */
static inline uint64_t
bl_ms_clock_tick(struct bl_ms_clock *c)
{
	uint64_t tsc = rte_rdtsc();

	if (tsc < c->next_tsc)
		return 0;
	c->next_tsc = tsc + c->hz / 1000u;
	return c->ms0 + bl_ticks_to(tsc - c->tsc0, c->hz, 1000);
}

#endif /* BL_MS_CLOCK_H */
