/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ibuf_bench — IBuf against rte_ring in the same harness, same run.
 *
 *  1. SPSC burst 32, producer and consumer on two cores: cycles per entry for
 *     rte_ring (SP/SC burst of 8-byte pointers) and for an SRP IBuf with one
 *     reader (16-byte rich pointers, copying read); prints the ratio.
 *     Each figure is the median of 7 alternating rounds.
 *  2. The same on one core (enqueue 32, dequeue 32), like ring_perf_autotest's
 *     "SP/SC burst enq/dequeue (size: 32)".
 *  3. Reader scaling: SRP, MRP and FRP with 1, 2, 4, 8 reader threads: entries
 *     per second per reader (threads beyond the core count share cores).
 *  4. The first reader's cost to the producer (issue 10): SRP and FRP rings of 32768,
 *     bursts of 32 written as fast as they go, with no reader and with one busy-polling
 *     reader on the other core (acquire, check each entry, complete: what a client
 *     does); the producer's cycles per entry stored (an SRP ring full behind a reader
 *     refuses entries at a few cycles each: counted per entry offered, a reader that fell
 *     behind made the producer look faster), the share refused, the median of windows of 256
 *     bursts (a window the scheduler took the producer away in does not count), the
 *     median of 5 alternating rounds, and the ratio.
 *
 * No EAL: the rte_ring is rte_ring_init'ed in ordinary memory.
 * BL_BENCH_RT=1 runs the SPSC pairs SCHED_FIFO (root), for less noise on a shared box.
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
#include "bl_stream_proto.h"

#define BURST 32u
#define RING  1024u

#define ROUNDS 7

static uint64_t n_entries;

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_d);
	return v[ROUNDS / 2];
}

static void
pin(unsigned cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(cpu % (unsigned)(n > 0 ? n : 1), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (getenv("BL_BENCH_RT") != NULL) {
		/* SCHED_FIFO for the measured pair, so a shared machine's other work does not
		 * preempt one side mid-run (the kernel's RT throttling still leaves others 5%) */
		struct sched_param sp = { .sched_priority = 1 };
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
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

/* rte_ring with 16-byte elements: the same bytes per entry as an IBuf */

static struct rte_ring *re;

static void *
rte16_consumer(void *a)
{
	struct bl_ibuf_entry objs[BURST];
	uint64_t got = 0;

	(void)a;
	pin(1);
	while (!go)
		;
	while (got < n_entries)
		got += rte_ring_sc_dequeue_burst_elem(re, objs, sizeof(objs[0]), BURST, NULL);
	t_end = rte_rdtsc();
	return NULL;
}

static double
rte16_spsc(void)
{
	struct bl_ibuf_entry objs[BURST] = { { 0 } };
	uint64_t sent = 0, t0;
	pthread_t th;

	go = 0;
	pthread_create(&th, NULL, rte16_consumer, NULL);
	pin(0);
	usleep(10000);
	t0 = rte_rdtsc();
	go = 1;
	while (sent < n_entries)
		sent += rte_ring_sp_enqueue_burst_elem(re, objs, sizeof(objs[0]), BURST, NULL);
	pthread_join(th, NULL);
	return (double)(t_end - t0) / (double)n_entries;
}

static double
rte16_single(void)
{
	struct bl_ibuf_entry objs[BURST] = { { 0 } }, out[BURST];
	uint64_t t0 = rte_rdtsc();

	for (uint64_t n = 0; n < n_entries; n += BURST) {
		rte_ring_sp_enqueue_burst_elem(re, objs, sizeof(objs[0]), BURST, NULL);
		rte_ring_sc_dequeue_burst_elem(re, out, sizeof(out[0]), BURST, NULL);
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
	if (getenv("BL_BENCH_VERBOSE") != NULL)
		printf("    ibuf: written %llu refused %llu consumer head loads saved: n/a\n",
			(unsigned long long)ib->prod->written, (unsigned long long)ib->prod->dropped);
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

static void
unpin_from0(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (long c = n > 1 ? 1 : 0; c < n; c++)
		CPU_SET((unsigned)c, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
scale_reader(void *a)
{
	struct sc_reader *s = a;

	unpin_from0();          /* readers share the cores the producer does not use */
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

	pin(0);                 /* the producer has core 0 to itself */
	{
		struct sched_param sp = { .sched_priority = 0 };
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	}
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
		bl_stream_policy_name(policy), n, sum / n / secs / 1e6, min / secs / 1e6,
		(double)st.written / secs / 1e6,
		st.written + st.dropped ? 100.0 * (double)st.dropped / (double)(st.written + st.dropped) : 0.0);
	bl_ibuf_free(sib);
}

/* ---- the first reader's cost ---- */

#define FR_CAP    32768u
#define FR_WIN    256u            /* bursts per timed window */
#define FR_ROUNDS 5

static void *
fr_reader(void *a)
{
	struct bl_ibuf_reader *r = a;
	const struct bl_ibuf_entry *v[64];

	unpin_from0();
	while (!stop) {
		uint64_t seq;
		unsigned k = bl_ibuf_acquire(r, v, 64, &seq);
		for (unsigned i = 0; i < k; i++)
			(void)bl_ibuf_check(r, seq + i);
		if (k != 0)
			bl_ibuf_complete(r);
	}
	return NULL;
}

/* Producer cycles per entry stored, median window; *refused: the share of the entries
 * offered that a full ring refused (SRP tail drop). Per entry stored, not offered: a
 * refused entry costs the producer a few cycles, so an SRP reader that fell behind made
 * the producer look faster than with no reader (1.73 at 72% refused). */
static double
first_reader_run(uint32_t policy, unsigned readers, unsigned ms, double *refused)
{
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "bench-first", .capacity = FR_CAP,
		.policy = policy, .max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct bl_ibuf_entry e[BURST] = { { 0 } };
	static double win[1 << 16];
	struct bl_ibuf_reader *r = NULL;
	struct bl_ibuf *fib;
	pthread_t th;
	unsigned n_win = 0;
	struct timespec ts0, ts1;
	uint64_t t0, stored = 0, offered = 0;

	if (bl_ibuf_mpipe(&o, readers, &fib, &r, NULL) != 0) {
		fprintf(stderr, "mpipe failed\n");
		exit(1);
	}
	stop = 0;
	if (readers)
		pthread_create(&th, NULL, fr_reader, r);
	pin(0);
	usleep(5000);
	for (unsigned i = 0; i < FR_CAP / BURST * 2; i++)   /* touch the ring: no first-lap faults */
		bl_ibuf_write_refs(fib, e, NULL, BURST);
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	t0 = rte_rdtsc();
	while (n_win < sizeof(win) / sizeof(win[0])) {
		unsigned k = 0;
		for (unsigned b = 0; b < FR_WIN; b++)
			k += bl_ibuf_write_refs(fib, e, NULL, BURST);
		uint64_t t1 = rte_rdtsc();
		if (k != 0)
			win[n_win++] = (double)(t1 - t0) / k;
		stored += k;
		offered += FR_WIN * BURST;
		t0 = t1;
		clock_gettime(CLOCK_MONOTONIC, &ts1);
		if ((ts1.tv_sec - ts0.tv_sec) * 1000 + (ts1.tv_nsec - ts0.tv_nsec) / 1000000 >= (long)ms)
			break;
	}
	stop = 1;
	if (readers) {
		pthread_join(th, NULL);
		bl_ibuf_reader_close(r);
	}
	bl_ibuf_free(fib);
	*refused = offered != 0 ? 1.0 - (double)stored / (double)offered : 0.0;
	if (n_win == 0)
		return 0.0 / 0.0;   /* nothing stored at all: no figure */
	qsort(win, n_win, sizeof(win[0]), cmp_d);
	return win[n_win / 2];
}

static void
first_reader(unsigned ms)
{
	for (uint32_t p = BL_IBUF_SRP; p <= BL_IBUF_FRP; p += BL_IBUF_FRP - BL_IBUF_SRP) {
		double a[2][FR_ROUNDS], refused = 0.0;
		for (unsigned i = 0; i < FR_ROUNDS; i++)
			for (unsigned j = 0; j < 2; j++) {
				unsigned n = (i % 2) ? 1 - j : j;   /* alternate the order */
				double ref;
				a[n][i] = first_reader_run(p, n, ms, &ref);
				if (n == 1)
					refused += ref / FR_ROUNDS;
			}
		qsort(a[0], FR_ROUNDS, sizeof(double), cmp_d);
		qsort(a[1], FR_ROUNDS, sizeof(double), cmp_d);
		printf("first reader %-4s capacity %u: producer %6.2f cycles/entry stored with no "
			"reader, %6.2f with one (rounds %.2f..%.2f; %.1f%% of those offered refused: the ring was full); "
			"RATIO rate(1)/rate(0) %.3f\n",
			bl_stream_policy_name(p), FR_CAP, a[0][FR_ROUNDS / 2], a[1][FR_ROUNDS / 2],
			a[1][0], a[1][FR_ROUNDS - 1], 100.0 * refused,
			a[0][FR_ROUNDS / 2] / a[1][FR_ROUNDS / 2]);
	}
}

int
main(int argc, char **argv)
{
	unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 24;
	unsigned ms = argc > 2 ? (unsigned)atoi(argv[2]) : 300;
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "bench-spsc", .capacity = RING,
		.policy = BL_IBUF_SRP, .max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	double m[6];
	ssize_t sz = rte_ring_get_memsize(RING), sz16 = rte_ring_get_memsize_elem(16, RING);
	const char *what[6] = { "rte_ring 8B ptrs, 2 cores", "rte_ring 16B elems, 2 cores",
		"ibuf 16B entries, 2 cores", "rte_ring 8B ptrs, 1 core",
		"rte_ring 16B elems, 1 core", "ibuf 16B entries, 1 core" };

	n_entries = 1ull << lg;
	rr = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)sz);
	re = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)sz16);
	if (rr == NULL || re == NULL ||
	    rte_ring_init(rr, "bench", RING, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0 ||
	    rte_ring_init(re, "bench16", RING, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0 ||
	    bl_ibuf_mpipe(&o, 1, &ib, &rd, NULL) != 0) {
		fprintf(stderr, "ibuf_bench: setup failed\n");
		return 1;
	}
	printf("entries per run: %llu, burst %u, ring size %u, median of %u alternating rounds\n",
		(unsigned long long)n_entries, BURST, RING, ROUNDS);
	/* alternate, ROUNDS times, and take medians: drift on a shared machine hits all */
	{
		double a[6][ROUNDS];
		double (*fn[6])(void) = { rte_spsc, rte16_spsc, ibuf_spsc,
			rte_single, rte16_single, ibuf_single };
		for (unsigned i = 0; i < ROUNDS; i++) {
			for (unsigned j = 0; j < 6; j++)
				a[j][i] = fn[j]();
			if (getenv("BL_BENCH_VERBOSE") != NULL)
				printf("  round %u: %.2f %.2f %.2f | %.2f %.2f %.2f\n", i, a[0][i],
					a[1][i], a[2][i], a[3][i], a[4][i], a[5][i]);
		}
		for (unsigned j = 0; j < 6; j++)
			m[j] = median(a[j]);
	}
	for (unsigned j = 0; j < 6; j++)
		printf("SPSC burst 32  %-28s %7.2f cycles/entry\n", what[j], m[j]);
	printf("RATIO ibuf/rte_ring(16B elems) two cores %.2f, one core %.2f (target <= 1.20)\n",
		m[2] / m[1], m[5] / m[4]);
	printf("RATIO ibuf/rte_ring(8B ptrs)   two cores %.2f, one core %.2f\n",
		m[2] / m[0], m[5] / m[3]);
	bl_ibuf_reader_close(rd);
	bl_ibuf_free(ib);
	free(rr);
	free(re);
	if (ms == 0)
		return 0;
	first_reader(ms);
	if (getenv("BL_BENCH_FIRST_ONLY") != NULL)
		return 0;
	for (uint32_t p = BL_IBUF_SRP; p <= BL_IBUF_FRP; p++)
		for (unsigned n = 1; n <= 8; n *= 2)
			scaling(p, n, ms);
	return 0;
}
