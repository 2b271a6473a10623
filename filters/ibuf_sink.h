/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ibuf_sink — hand a graph's burst to an IBuf, zero copy: what ibuf_out and
 * export both do. The filter's reference on each stored packet becomes its
 * slot's (no refcount traffic); packets the ring refused (tail drop, counted
 * in its producer page) are freed.
 */
#ifndef BL_IBUF_SINK_H
#define BL_IBUF_SINK_H

#include "bl_dbuf_worker.h"
#include "bl_filter_worker.h"

/* `cls` is scratch of BL_BURST_MAX entries: the classes travel in the entries. */
static __rte_always_inline void
ibuf_sink_burst(struct bl_filter *f, struct bl_ibuf *ib, uint16_t *cls,
		struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		cls[i] = (uint16_t)bl_filter_in_class(f, i);
	unsigned int k = bl_dbuf_ibuf_give_mbufs(ib, pkts, cls, n);

	if (k < n)
		rte_pktmbuf_free_bulk(pkts + k, n - k);
}

#endif /* BL_IBUF_SINK_H */
