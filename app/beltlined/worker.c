/* SPDX-License-Identifier: BSD-3-Clause */
#include "bl_atomic.h"
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

int
bl_worker_main(void *arg)
{
	struct bl_worker *w = arg;
	const unsigned int n = w->n_graphs;

	/* relaxed: pairs with the relaxed load in app.c workers_started (a flag, no data with it) */
	__atomic_store_n(&w->started, 1, __ATOMIC_RELAXED);
	/* relaxed: pairs with the store in bl_worker_stop_all */
	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		uint64_t got = 0;
		for (unsigned int i = 0; i < n; i++)
			got += bl_graph_run(w->graphs[i]);
		if (got != 0)
			bl_counter_add(&w->polled, got);
	}
	return 0;
}
