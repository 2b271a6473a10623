/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ibuf_bench — IBuf against rte_ring in the same harness, same run.
 *
 *  1. SPSC burst 32, producer and consumer on two cores: cycles per entry for
 *     rte_ring (SP/SC burst of 8-byte pointers) and for an SRP IBuf with one
 *     reader (16-byte rich pointers, copying read); prints the ratio.
 *  2. The same on one core (enqueue 32, dequeue 32), like ring_perf_autotest's
 *     "SP/SC burst enq/dequeue (size: 32)".
 *  3. Reader scaling: SRP, MRP and FRP with 1, 2, 4, 8 reader threads: entries
 *     per second per reader (threads beyond the core count share cores).
 *
 * No EAL: the rte_ring is rte_ring_init'ed in ordinary memory.
 * usage: ibuf_bench [entries_log2 (default 24)] [scaling_ms (default 300)]
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "bl_ibuf_worker.h"

#define BURST 32u
#define RING  1024u

static uint64_t n_entries;

static void
pin(unsigned cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(cpu % (unsigned)(n > 0 ? n : 1), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- rte_ring ---- */

static struct rte_ring *rr;
static volatile uint64_t go, t_end;

static void *
rte_consumer(void *a)
{
	void *objs[BURST];
	uint64_t got = 0;

	(void)a;
	pin(1);
	while (!go)
		;
	while (got < n_entries)
		got += rte_ring_sc_dequeue_burst(rr, objs, BURST, NULL);
	t_end = rte_rdtsc();
	return NULL;
}

static double
rte_spsc(void)
{
	void *objs[BURST];
	uint64_t sent = 0, t0;
	pthread_t th;

	for (unsigned i = 0; i < BURST; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	go = 0;
	pthread_create(&th, NULL, rte_consumer, NULL);
	pin(0);
	usleep(10000);
	t0 = rte_rdtsc();
	go = 1;
	while (sent < n_entries)
		sent += rte_ring_sp_enqueue_burst(rr, objs, BURST, NULL);
	pthread_join(th, NULL);
	return (double)(t_end - t0) / (double)n_entries;
}

static double
rte_single(void)
{
	void *objs[BURST], *out[BURST];
	uint64_t t0 = rte_rdtsc();

	for (unsigned i = 0; i < BURST; i++)
		objs[i] = (void *)(uintptr_t)(i + 1);
	for (uint64_t n = 0; n < n_entries; n += BURST) {
		rte_ring_sp_enqueue_burst(rr, objs, BURST, NULL);
		rte_ring_sc_dequeue_burst(rr, out, BURST, NULL);
	}
	return (double)(rte_rdtsc() - t0) / (double)n_entries;
}

/* ---- IBuf ---- */

static struct bl_ibuf *ib;
static struct bl_ibuf_reader *rd;

static void *
ibuf_consumer(void *a)
{
	struct bl_ibuf_entry out[BURST];
	uint64_t got = 0;

	(void)a;
	pin(1);
	while (!go)
		;
	while (got < n_entries)
		got += bl_ibuf_read(rd, out, BURST);
	t_end = rte_rdtsc();
	return NULL;
}

static double
ibuf_spsc(void)
{
	struct bl_ibuf_entry e[BURST];
	uint64_t sent = 0, t0;
	pthread_t th;

	for (unsigned i = 0; i < BURST; i++)
		e[i] = (struct bl_ibuf_entry){ .dbuf_id = 1, .cls = 1, .object = i, .length = 64 };
	go = 0;
	pthread_create(&th, NULL, ibuf_consumer, NULL);
	pin(0);
	usleep(10000);
	t0 = rte_rdtsc();
	go = 1;
	while (sent < n_entries)
		sent += bl_ibuf_write(ib, e, BURST);
	pthread_join(th, NULL);
	return (double)(t_end - t0) / (double)n_entries;
}

static double
ibuf_single(void)
{
	struct bl_ibuf_entry e[BURST], out[BURST];
	uint64_t t0 = rte_rdtsc();

	for (unsigned i = 0; i < BURST; i++)
		e[i] = (struct bl_ibuf_entry){ .dbuf_id = 1, .cls = 1, .object = i, .length = 64 };
	for (uint64_t n = 0; n < n_entries; n += BURST) {
		bl_ibuf_write(ib, e, BURST);
		bl_ibuf_read(rd, out, BURST);
	}
	return (double)(rte_rdtsc() - t0) / (double)n_entries;
}

/* ---- reader scaling ---- */

struct sc_reader { struct bl_ibuf_reader *r; uint64_t got; pthread_t th; };
static volatile int stop;

static void *
scale_reader(void *a)
{
	struct sc_reader *s = a;
	const struct bl_ibuf_entry *v[BURST];
	unsigned idle = 0;

	while (!stop) {
		uint64_t seq;
		unsigned k = bl_ibuf_acquire(s->r, v, BURST, &seq);
		if (k == 0) {
			if (++idle % 64 == 0)
				sched_yield();
			continue;
		}
		(void)bl_ibuf_check(s->r, seq);
		bl_ibuf_complete(s->r);
		s->got += k;
	}
	return NULL;
}

static void
scaling(uint32_t policy, unsigned n, unsigned ms)
{
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "bench-scale", .capacity = 4096,
		.policy = policy, .max_readers = 8, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct bl_ibuf_entry e[BURST] = { { 0 } };
	struct sc_reader r[8];
	struct bl_ibuf *sib;
	struct bl_ibuf_reader *rs[8];
	struct timespec t0, t1;
	struct bl_ibuf_stats st;
	double secs, sum = 0, min = 1e30;
	unsigned idle = 0;

	if (bl_ibuf_mpipe(&o, n, &sib, rs, NULL) != 0) {
		fprintf(stderr, "mpipe failed\n");
		exit(1);
	}
	stop = 0;
	for (unsigned i = 0; i < n; i++) {
		r[i] = (struct sc_reader){ .r = rs[i] };
		pthread_create(&r[i].th, NULL, scale_reader, &r[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (bl_ibuf_write(sib, e, BURST) == 0 && ++idle % 64 == 0)
			sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs * 1000 >= ms)
			break;
	}
	stop = 1;
	for (unsigned i = 0; i < n; i++) {
		pthread_join(r[i].th, NULL);
		sum += (double)r[i].got;
		if ((double)r[i].got < min)
			min = (double)r[i].got;
		bl_ibuf_reader_close(rs[i]);
	}
	bl_ibuf_stats(sib, &st);
	printf("%-4s readers=%u  per-reader Mentries/s: mean %7.2f  min %7.2f   "
		"producer written %6.2f M/s dropped %5.1f%%\n",
		bl_ibuf_policy_name(policy), n, sum / n / secs / 1e6, min / secs / 1e6,
		(double)st.written / secs / 1e6,
		st.written + st.dropped ? 100.0 * (double)st.dropped / (double)(st.written + st.dropped) : 0.0);
	bl_ibuf_free(sib);
}

int
main(int argc, char **argv)
{
	unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 24;
	unsigned ms = argc > 2 ? (unsigned)atoi(argv[2]) : 300;
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "bench-spsc", .capacity = RING,
		.policy = BL_IBUF_SRP, .max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	double r2, i2, r1, i1;
	ssize_t sz = rte_ring_get_memsize(RING);

	n_entries = 1ull << lg;
	rr = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)sz);
	if (rr == NULL || rte_ring_init(rr, "bench", RING, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0 ||
	    bl_ibuf_mpipe(&o, 1, &ib, &rd, NULL) != 0) {
		fprintf(stderr, "ibuf_bench: setup failed\n");
		return 1;
	}
	printf("entries per run: %llu, burst %u, ring size %u\n",
		(unsigned long long)n_entries, BURST, RING);
	/* alternate, twice, so drift on a shared machine hits both alike */
	r2 = rte_spsc();
	i2 = ibuf_spsc();
	r2 = (r2 + rte_spsc()) / 2;
	i2 = (i2 + ibuf_spsc()) / 2;
	r1 = rte_single();
	i1 = ibuf_single();
	r1 = (r1 + rte_single()) / 2;
	i1 = (i1 + ibuf_single()) / 2;
	printf("SPSC burst 32, two cores:  rte_ring %.2f cycles/entry  ibuf %.2f cycles/entry  "
		"ratio %.2f\n", r2, i2, i2 / r2);
	printf("SPSC burst 32, one core:   rte_ring %.2f cycles/entry  ibuf %.2f cycles/entry  "
		"ratio %.2f\n", r1, i1, i1 / r1);
	printf("RATIO %.2f (two cores; target <= 1.20)\n", i2 / r2);
	bl_ibuf_reader_close(rd);
	bl_ibuf_free(ib);
	free(rr);
	if (ms == 0)
		return 0;
	for (uint32_t p = BL_IBUF_SRP; p <= BL_IBUF_FRP; p++)
		for (unsigned n = 1; n <= 8; n *= 2)
			scaling(p, n, ms);
	return 0;
}
