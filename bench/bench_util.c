/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_util — the verdict benchmark clients' shared bits (bench_util.h). */
#include <stdio.h>
#include <time.h>

#include "bench_util.h"

volatile sig_atomic_t bench_stop;

static void
on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

void
bench_catch_stop(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

uint64_t
bench_ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
bench_ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

void
bench_print_u64(uint64_t v, int flush)
{
	printf("%llu\n", (unsigned long long)v);
	if (flush)
		fflush(stdout);
}

int
bench_usage(const char *prog, const char *args)
{
	fprintf(stderr, "usage: %s %s\n", prog, args);
	return 2;
}
