/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * line_pingpong — what one cache line costs to move between two CPUs of this
 * machine: two threads, pinned, hand a counter back and forth through two lines
 * (each spins until the other's line says its turn), ROUNDS times, five trials;
 * prints the median one-way time. Every exchange between a stream's producer and
 * its reader (the head it publishes, the slots it wrote, the reader's position)
 * moves lines like these, so the benchmarks that put them on two CPUs
 * (bench/fanout.sh, bench/ipc.sh) print this figure beside theirs: 20 to 50 ns
 * between cores that share a last-level cache, 100 ns and more across dies or
 * sockets, and whatever the hypervisor makes of it in a VM.
 *
 *   line_pingpong [CPU_A CPU_B]    (default 0 1)
 *   prints: line_one_way_ns=X cpus=A,B
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 200000u
#define TRIALS 5

struct line {
	_Alignas(64) uint64_t v;
	char pad[64 - sizeof(uint64_t)];
};

static struct line ping, pong;
static int cpu_a, cpu_b;

static int
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *
ponger(void *arg)
{
	(void)arg;
	if (pin(cpu_b) != 0)
		return (void *)1;
	for (uint64_t i = 1; i <= (uint64_t)TRIALS * ROUNDS; i++) {
		/* acquire: pairs with the release store of ping in main */
		while (__atomic_load_n(&ping.v, __ATOMIC_ACQUIRE) != i)
			;
		/* release: pairs with the acquire load of pong in main */
		__atomic_store_n(&pong.v, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	pthread_t t;
	double one_way[TRIALS];
	uint64_t i = 0;

	cpu_a = argc > 2 ? atoi(argv[1]) : 0;
	cpu_b = argc > 2 ? atoi(argv[2]) : 1;
	if (pin(cpu_a) != 0 || pthread_create(&t, NULL, ponger, NULL) != 0) {
		fprintf(stderr, "line_pingpong: cannot run on CPUs %d and %d\n", cpu_a, cpu_b);
		return 1;
	}
	for (int k = 0; k < TRIALS; k++) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned r = 0; r < ROUNDS; r++) {
			++i;
			/* release: pairs with the acquire load of ping in ponger */
			__atomic_store_n(&ping.v, i, __ATOMIC_RELEASE);
			/* acquire: pairs with the release store of pong in ponger */
			while (__atomic_load_n(&pong.v, __ATOMIC_ACQUIRE) != i)
				;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		one_way[k] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
			      (double)(t1.tv_nsec - t0.tv_nsec)) / ROUNDS / 2;
	}
	void *rc;
	pthread_join(t, &rc);
	if (rc != NULL) {
		fprintf(stderr, "line_pingpong: cannot run on CPU %d\n", cpu_b);
		return 1;
	}
	qsort(one_way, TRIALS, sizeof(one_way[0]), cmp);
	printf("line_one_way_ns=%.0f cpus=%d,%d\n", one_way[TRIALS / 2], cpu_a, cpu_b);
	return 0;
}
