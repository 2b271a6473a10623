/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slot_handoff — what a reader on another CPU costs a ring's producer, taken apart
 * (issue 10, point 1; docs/performance.md, "Where the cost lands"). No DPDK, no
 * IBuf: the bare pattern. A producer thread writes 16-byte entries into a ring of
 * 32768 in bursts of 32 and publishes its head (a release store) after each; between
 * bursts it stores into 32 packet-sized buffers of its own (3 lines each, as gen
 * does to its mbufs). A reader thread on the other CPU polls the head and, by mode:
 *
 *   none     no reader at all
 *   head     loads the head only (the head line moves once a burst)
 *   private  loads the head, then reads as many entries from a ring of its own
 *            (the same work, no line the producer writes)
 *   slots    loads the head, then reads the producer's entries (what a client does)
 *
 * and prints the producer's cycles (TSC) per entry for each, the median of 5 rounds:
 * head - none is what the head's exchange costs, slots - private what handing the
 * entries' lines over costs. HEAD_EVERY=N publishes the head every N entries instead.
 * GAP=C: the reader, after each batch, waits C TSC cycles before it loads the head
 * again (a paced reader: the head's line moves once a gap, not once a burst).
 * PFW=N: the producer asks for its slot lines N entries ahead with PREFETCHW (an
 * instruction of its own here: __builtin_prefetch(p, 1, 3) compiles to a read prefetch,
 * PREFETCHT0, unless the target has PRFCHW, which -march=corei7, Debian's DPDK flag,
 * and the default x86-64 do not).
 *
 *   slot_handoff [CPU_PRODUCER CPU_READER]    (default 1 0)
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP    32768u
#define BURST  32u
#define BURSTS 400000u
#define WARM   100000u
#define ROUNDS 5

enum mode { NONE, HEAD, PRIVATE, SLOTS, N_MODES };
static const char *const mode_name[N_MODES] = { "none", "head", "private", "slots" };

struct ent {
	uint64_t a, b;
};

static struct ent *ring, *own;
static _Alignas(64) uint64_t head;
static _Alignas(64) int stop;
static int cpu_p = 1, cpu_r = 0;
static uint64_t head_every = BURST;
static uint64_t gap, pfw;   /* GAP, PFW: 0 = off */

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (pthread_setaffinity_np(pthread_self(), sizeof(s), &s) != 0)
		fprintf(stderr, "slot_handoff: cannot pin to CPU %d\n", cpu);
}

static inline uint64_t
tsc(void)
{
	return __builtin_ia32_rdtsc();
}

static void *
reader(void *arg)
{
	enum mode m = (enum mode)(uintptr_t)arg;
	uint64_t pos = 0, sum = 0;

	pin(cpu_r);
	/* relaxed: a flag, set once by the producer before the join */
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		/* acquire: pairs with the producer's release store of head */
		uint64_t h = __atomic_load_n(&head, __ATOMIC_ACQUIRE);

		if (h == pos) {
			__builtin_ia32_pause();
			continue;
		}
		if (h - pos > CAP)
			pos = h - CAP / 2;
		if (m == HEAD)
			pos = h;
		for (; pos < h; pos++)
			sum += (m == SLOTS ? ring : own)[pos & (CAP - 1)].a;
		for (uint64_t t = tsc(); gap != 0 && tsc() - t < gap;)
			__builtin_ia32_pause();
	}
	return (void *)(uintptr_t)sum;
}

/* One run: the producer's TSC cycles per entry after a warm-up. */
static double
run(enum mode m)
{
	static char work[BURST * 8][192] __attribute__((aligned(64)));
	pthread_t t;
	uint64_t h = 0, t0 = 0, w = 0;

	__atomic_store_n(&head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
	if (m != NONE && pthread_create(&t, NULL, reader, (void *)(uintptr_t)m) != 0) {
		fprintf(stderr, "slot_handoff: pthread_create failed\n");
		exit(1);
	}
	pin(cpu_p);
	for (unsigned b = 0; b < BURSTS; b++) {
		if (b == WARM)
			t0 = tsc();
		for (unsigned i = 0; i < BURST; i++, w++)   /* the packets' own stores */
			for (unsigned k = 0; k < 192; k += 16)
				*(volatile uint64_t *)&work[w % (BURST * 8)][k] = w;
		for (unsigned i = 0; pfw != 0 && i < BURST; i += 64 / sizeof(struct ent))
			__asm__ volatile("prefetchw %0" : : "m"(ring[(h + pfw + i) & (CAP - 1)]));
		for (unsigned i = 0; i < BURST; i++)
			ring[(h + i) & (CAP - 1)] = (struct ent){ h + i, i };
		h += BURST;
		/* release: pairs with the reader's acquire load of head */
		if (h % head_every == 0)
			__atomic_store_n(&head, h, __ATOMIC_RELEASE);
	}
	t0 = tsc() - t0;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	if (m != NONE)
		pthread_join(t, NULL);
	return (double)t0 / ((double)(BURSTS - WARM) * BURST);
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	double c[N_MODES][ROUNDS];

	if (argc == 3) {
		cpu_p = atoi(argv[1]);
		cpu_r = atoi(argv[2]);
	} else if (argc != 1) {
		fprintf(stderr, "usage: slot_handoff [CPU_PRODUCER CPU_READER]\n");
		return 2;
	}
	if (getenv("HEAD_EVERY") != NULL && atoi(getenv("HEAD_EVERY")) >= (int)BURST)
		head_every = (uint64_t)atoi(getenv("HEAD_EVERY")) / BURST * BURST;
	if (getenv("GAP") != NULL)
		gap = strtoull(getenv("GAP"), NULL, 0);
	if (getenv("PFW") != NULL)
		pfw = strtoull(getenv("PFW"), NULL, 0) % CAP;
	ring = aligned_alloc(4096, CAP * sizeof(*ring));
	own = aligned_alloc(4096, CAP * sizeof(*own));
	if (ring == NULL || own == NULL)
		return 1;
	memset(ring, 0, CAP * sizeof(*ring));
	memset(own, 1, CAP * sizeof(*own));
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned m = 0; m < N_MODES; m++)
			c[m][r] = run((enum mode)((m + r) % N_MODES));   /* alternate the order */
	/* c[m][r] holds mode (m + r) % N_MODES: sort them back by mode */
	double by[N_MODES][ROUNDS];
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned m = 0; m < N_MODES; m++)
			by[(m + r) % N_MODES][r] = c[m][r];
	printf("slot_handoff: producer CPU %d, reader CPU %d, head every %llu entries, "
	       "reader gap %llu cycles, prefetchw %llu entries ahead; "
	       "producer TSC cycles per entry (median of %d):\n", cpu_p, cpu_r,
	       (unsigned long long)head_every, (unsigned long long)gap,
	       (unsigned long long)pfw, ROUNDS);
	for (unsigned m = 0; m < N_MODES; m++) {
		qsort(by[m], ROUNDS, sizeof(double), cmp_d);
		printf("  %-8s %6.2f\n", mode_name[m], by[m][ROUNDS / 2]);
	}
	printf("  head exchange %+.2f, slot handoff %+.2f cycles per entry\n",
	       by[HEAD][ROUNDS / 2] - by[NONE][ROUNDS / 2],
	       by[SLOTS][ROUNDS / 2] - by[PRIVATE][ROUNDS / 2]);
	free(ring);
	free(own);
	return 0;
}
