/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK 22.11's capture server (librte_pdump: dpdk-dumpcap and dpdk-pdump attach
 * as secondaries) stops a capture by removing its rx and tx callbacks with
 * rte_eth_remove_rx_callback / _tx_callback, then replies to the tool, which
 * frees the mempool the callbacks copied packets into. ethdev's removal only
 * unlinks the callback: a worker inside it at that moment carries on copying,
 * into a pool that may be gone by then (ethdev's documentation leaves waiting
 * to the caller, and later DPDK releases' pdump does wait). beltlined died of
 * it once: SIGSEGV in rte_pktmbuf_copy under pdump's rx callback, just as
 * dpdk-dumpcap exited.
 *
 * So beltlined defines both functions itself. They are exported from the
 * executable (app/meson.build), so the dynamic linker binds librte_pdump's calls
 * here: each calls ethdev's own (dlsym RTLD_NEXT), then waits until every worker
 * has finished the round it was in, so no callback runs when the reply leaves.
 * The capture server's thread (EAL's multi-process thread) gets here, and
 * beltlined's own main lcore when it closes a replay port (nic/bl_replay.c; at
 * a reload, or after the workers stopped, when there is nothing to wait for);
 * the wait is a round (microseconds).
 * DPDK linked statically would clash with these definitions: beltlined is built
 * against the shared libraries (Debian's).
 */
#include <dlfcn.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "bl_log.h"
#include "pdump_sync.h"

typedef int (*remove_fn)(uint16_t, uint16_t, const struct rte_eth_rxtx_callback *);

static const struct bl_worker *sync_ws;   /* set before the workers launch, then read-only */
static unsigned int sync_n;               /* release, after sync_ws; pairs with the acquire below */
static uint64_t removals, timeouts;       /* (EAL's mp thread) relaxed: counters */

void
bl_pdump_sync_workers(const struct bl_worker *ws, unsigned int n)
{
	sync_ws = ws;
	__atomic_store_n(&sync_n, n, __ATOMIC_RELEASE);
}

void
bl_pdump_sync_stats(struct bl_pdump_sync_stats *s)
{
	s->removals = __atomic_load_n(&removals, __ATOMIC_RELAXED);
	s->timeouts = __atomic_load_n(&timeouts, __ATOMIC_RELAXED);
}

static int
remove_and_wait(const char *sym, remove_fn *real, uint16_t port, uint16_t queue,
		const struct rte_eth_rxtx_callback *cb)
{
	/* relaxed, both: dlsym gives the same pointer to every thread */
	remove_fn f = __atomic_load_n(real, __ATOMIC_RELAXED);

	if (f == NULL) {
		f = (remove_fn)dlsym(RTLD_NEXT, sym);
		if (f == NULL) {
			bl_log(BL_LOG_ERR, "%s: not found in DPDK's libraries (%s)", sym, dlerror());
			return -ENOTSUP;
		}
		__atomic_store_n(real, f, __ATOMIC_RELAXED);
	}
	int rc = f(port, queue, cb);
	/* acquire: pairs with the release in bl_pdump_sync_workers (sync_ws is set) */
	const unsigned int n = __atomic_load_n(&sync_n, __ATOMIC_ACQUIRE);
	if (rc != 0 || n == 0)
		return rc;
	__atomic_fetch_add(&removals, 1, __ATOMIC_RELAXED);
	if (!bl_worker_wait_round(sync_ws, n, BL_PDUMP_SYNC_TIMEOUT_US)) {
		__atomic_fetch_add(&timeouts, 1, __ATOMIC_RELAXED);
		bl_log(BL_LOG_WARNING, "a capture tool stopped on port %u queue %u while a worker "
		       "did not finish its round in %u ms: the tool may free memory that worker "
		       "still copies into", port, queue, BL_PDUMP_SYNC_TIMEOUT_US / 1000);
	}
	return 0;
}

int
rte_eth_remove_rx_callback(uint16_t port_id, uint16_t queue_id,
			   const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_fn real;

	return remove_and_wait("rte_eth_remove_rx_callback", &real, port_id, queue_id, user_cb);
}

int
rte_eth_remove_tx_callback(uint16_t port_id, uint16_t queue_id,
			   const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_fn real;

	return remove_and_wait("rte_eth_remove_tx_callback", &real, port_id, queue_id, user_cb);
}
