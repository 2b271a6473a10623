/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bl_atomic.h"
#include "worker.h"

#define BURST_MAX BL_CFG_MAX_BURST

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

static __rte_always_inline void
fwd_burst(struct bl_fwd *f, uint16_t burst)
{
	struct rte_mbuf *pkts[BURST_MAX];
	uint16_t n, sent;

	n = rte_eth_rx_burst(f->rx_port, f->rx_queue, pkts, burst);
	if (n == 0)
		return;
	sent = rte_eth_tx_burst(f->tx_port, f->tx_queue, pkts, n);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		bl_counter_add(&f->tx_dropped, n - sent);
	}
	bl_counter_add(&f->rx, n);
	bl_counter_add(&f->tx, sent);
}

int
bl_worker_main(void *arg)
{
	struct bl_worker *w = arg;
	const uint16_t n_fwd = w->n_fwd, burst = w->burst;

	/* relaxed: pairs with the store in bl_worker_stop_all */
	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		for (uint16_t i = 0; i < n_fwd; i++)
			fwd_burst(&w->fwd[i], burst);
	}
	return 0;
}
