/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bl_atomic.h"
#include "bl_time.h"
#include "worker.h"

/*
 * Set once to stop the workers. relaxed both ways: it publishes no other
 * data; rte_eal_mp_wait_lcore orders everything the workers wrote before the
 * main lcore reads their counters for the final report.
 */
static int stop_flag;

void
bl_worker_stop_all(void)
{
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED); /* pairs with the load in the run loop */
}

int
bl_worker_stopping(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED);
}

struct bl_worker_run *
bl_worker_run_make(const struct bl_worker *w, uint64_t epoch)
{
	struct bl_worker_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->epoch = epoch;
	r->n = w->n_graphs;
	memcpy(r->g, w->graphs, sizeof(r->g[0]) * w->n_graphs);
	return r;
}

void
bl_worker_publish(struct bl_worker *w, struct bl_worker_run *r)
{
	/* A set never released (a worker did not pass its epoch in time) is left, not freed. */   /* released already, or never run */
	w->run_old = w->run;
	/* release: pairs with the acquire in bl_worker_main: the set and the graphs it
	 * names (built and committed on this lcore) are whole before the worker sees it */
	__atomic_store_n(&w->run, r, __ATOMIC_RELEASE);
}

/* Every other worker passed r->after (r: a two-phase swap's second set). */
static bool
peers_passed(const struct bl_worker *w, const struct bl_worker_run *r)
{
	for (unsigned int i = 0; i < r->n_peers; i++)
		/* acquire: pairs with the release store of passed at the end of a round: that
		 * worker's rounds with its older set are over */
		if (&r->peers[i] != w && __atomic_load_n(&r->peers[i].passed, __ATOMIC_ACQUIRE) < r->after)
			return false;
	return true;
}

bool
bl_worker_wait_epoch(struct bl_worker *ws, unsigned int n, uint64_t epoch, uint64_t timeout_us)
{
	/* On the clock, not by counting naps: a usleep(20) takes 60 us or more (timer
	 * slack), so counting them made a 10 s limit last half a minute. */
	const uint64_t end = bl_mono_us() + timeout_us;

	for (unsigned int i = 0; i < n; i++) {
		/* acquire: pairs with the release in bl_worker_main: the worker's last use
		 * of an older set happened before */
		while (__atomic_load_n(&ws[i].passed, __ATOMIC_ACQUIRE) < epoch) {
			if (bl_mono_us() >= end)
				return false;
			usleep(20);
		}
	}
	return true;
}

bool
bl_worker_wait_round(const struct bl_worker *ws, unsigned int n, uint64_t timeout_us)
{
	const uint64_t end = bl_mono_us() + timeout_us;

	for (unsigned int i = 0; i < n; i++) {
		/* relaxed: a flag (as in app.c); a worker not yet started runs no callback */
		if (!__atomic_load_n(&ws[i].started, __ATOMIC_RELAXED))
			continue;
		/* acquire: pairs with the release of the round's end in bl_worker_main */
		const uint64_t r0 = __atomic_load_n(&ws[i].rounds, __ATOMIC_ACQUIRE);
		/* acquire, both: as above, and with the release of `passed` at return */
		while (__atomic_load_n(&ws[i].rounds, __ATOMIC_ACQUIRE) == r0 &&
		       __atomic_load_n(&ws[i].passed, __ATOMIC_ACQUIRE) != UINT64_MAX) {
			if (bl_mono_us() >= end)
				return false;
			usleep(10);
		}
	}
	return true;
}

void
bl_worker_run_release(struct bl_worker *w)
{
	free(w->run_old);
	w->run_old = NULL;
}

int
bl_worker_main(void *arg)
{
	struct bl_worker *w = arg;
	const struct bl_worker_run *last = NULL;
	const double ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
	unsigned int idle = 0;                       /* rounds in a row with no packet */
	uint64_t rounds = 0;

	/* relaxed: pairs with the relaxed load in app.c workers_started (a flag, no data with it) */
	__atomic_store_n(&w->started, 1, __ATOMIC_RELAXED);
	/* relaxed: pairs with the store in bl_worker_stop_all */
	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		/* acquire: pairs with the release in bl_worker_publish */
		const struct bl_worker_run *r = __atomic_load_n(&w->run, __ATOMIC_ACQUIRE);
		uint64_t got = 0, t0 = 0;
		uint32_t nap;

		if (unlikely(r != last) && r->after != 0 && last != NULL && !peers_passed(w, r))
			r = last;   /* a second phase: not before the others dropped theirs */

		if (unlikely(r != last)) {
			t0 = rte_rdtsc();
			/* a reload's new set: its adopted filters take over the runtime
			 * counters of the instances they replace (this lcore wrote both) */
			for (unsigned int i = 0; i < r->n; i++)
				bl_graph_handover(r->g[i]);
		}
		for (unsigned int i = 0; i < r->n; i++)
			got += bl_graph_run(r->g[i]);
		if (got != 0) {
			bl_counter_add(&w->polled, got);
			idle = 0;
		} else if (idle < BL_WORKER_IDLE_ROUNDS) {
			idle++;
		}
		if (unlikely(r != last)) {
			uint64_t ns = (uint64_t)((double)(rte_rdtsc() - t0) * ns_per_tsc);
			if (last != NULL) {
				bl_counter_add(&w->swaps, 1);
				if (ns > bl_counter_read(&w->swap_max_ns))   /* relaxed: a counter */
					__atomic_store_n(&w->swap_max_ns, ns, __ATOMIC_RELAXED);
			}
			last = r;
		}
		/* release: pairs with the acquire in bl_worker_wait_epoch: this round, the
		 * last that could use a set older than r, is over */
		__atomic_store_n(&w->passed, r->epoch, __ATOMIC_RELEASE);
		/* release: pairs with the acquire in bl_worker_wait_round: the round, and any
		 * callback a port ran in it, is over */
		__atomic_store_n(&w->rounds, ++rounds, __ATOMIC_RELEASE);
		/* relaxed: a setting the main lcore stores on a reload; no data comes with it */
		if (unlikely(idle == BL_WORKER_IDLE_ROUNDS) &&
		    (nap = __atomic_load_n(&w->idle_sleep_us, __ATOMIC_RELAXED)) != 0) {
			struct timespec ts = { .tv_sec = nap / 1000000u,
					       .tv_nsec = (long)(nap % 1000000u) * 1000 };
			bl_counter_add(&w->idle_sleeps, 1);
			nanosleep(&ts, NULL);
		}
	}
	/* release: as above; a worker that returned holds no set */
	__atomic_store_n(&w->passed, UINT64_MAX, __ATOMIC_RELEASE);
	return 0;
}
