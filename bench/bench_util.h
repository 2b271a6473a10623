/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_util — what the verdict benchmark's two clients share (nfq_client,
 * verdict_client): a stop flag set by SIGINT/SIGTERM, a monotonic clock in ns, the
 * lines they print for bench/verdict_vs_nfqueue.sh, and their usage line.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <signal.h>
#include <stdint.h>

/* Set once SIGINT or SIGTERM came (after bench_catch_stop). */
extern volatile sig_atomic_t bench_stop;

void bench_catch_stop(void);

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_ns_now(void);

/* "ready" on stdout, flushed: the script waits for it. */
void bench_ready(void);

/* One figure (a count, a round trip in ns) on a line of its own, flushed when FLUSH. */
void bench_print_u64(uint64_t v, int flush);

/* "usage: PROG ARGS" on stderr; returns 2, the exit status. */
int bench_usage(const char *prog, const char *args);

#endif
