/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_time — the monotonic clock in the unit the caller counts in. Header only and
 * DPDK-free: beltlined, the CLI and the client library (and its TLS plugin) all
 * include it. CLOCK_MONOTONIC never steps with the wall clock, so a timeout, an
 * idle limit or a rate measured on it survives NTP and `date -s`.
 */
#ifndef BL_TIME_H
#define BL_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
bl_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline uint64_t
bl_mono_us(void)
{
	return bl_mono_ns() / 1000u;
}

static inline uint64_t
bl_mono_ms(void)
{
	return bl_mono_ns() / 1000000u;
}

/* The wall clock, ms since the epoch (CLOCK_REALTIME: steps with NTP and `date -s`; for
 * time stamps, never for timeouts). vDSO: no system call. */
static inline uint64_t
bl_wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* ticks of a clock of hz a second in units of a second / unit (1000: ms), without the
 * overflow of ticks * unit / hz: at a 2 GHz TSC, ticks * 1000 passes 2^64 after 99 days,
 * and a flow table's clock fell back to 0 and stayed there (no timeout fired) for as long
 * again. Exact (the floor) while hz * unit fits 64 bits. hz 0: 0. */
static inline uint64_t
bl_ticks_to(uint64_t ticks, uint64_t hz, uint64_t unit)
{
	return hz == 0 ? 0 : ticks / hz * unit + ticks % hz * unit / hz;
}

static inline double
bl_mono_s(void)
{
	return (double)bl_mono_ns() / 1e9;
}

/* The coarse clock (the last tick, no vDSO read of the TSC): for rate limits on a
 * hot path, where a few milliseconds do not matter and a call per packet might. */
static inline uint64_t
bl_mono_coarse_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

#endif /* BL_TIME_H */
