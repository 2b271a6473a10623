/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_inject_worker — an inject stream's consumer, on its worker lcore: take the
 * frames a client writer committed, check each descriptor (bl_inject_check.h),
 * copy each good frame into an mbuf of the graph's pool (exactly one copy) and
 * give the buffers back by storing the tail. static inline, never exported.
 *
 * Ordering (the writer is libbeltline-client, client/src_write.c, or anything
 * else: untrusted):
 *   W1 the writer fills buffer and descriptor, then stores head (release);
 *   A1 here: head is loaded acquire (pairs with W1), so the descriptors and bytes
 *      before it are visible; each is copied out before
 *   A2 tail is stored release: the buffers before it are the writer's again, and
 *      the library hands one out only after loading tail acquire (pairs with A2).
 *   D  busy/active: Dekker with bl_inject_close_write (bl_inject.h), seq_cst.
 */
#ifndef BL_INJECT_WORKER_H
#define BL_INJECT_WORKER_H

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "bl_atomic.h"
#include "bl_inject.h"

/* Up to max frames into out[] (mbufs of mp, one segment each). Returns how many. */
static __rte_always_inline uint16_t
bl_inject_poll(struct bl_inject *s, struct rte_mempool *mp, struct rte_mbuf **out, uint16_t max)
{
	struct bl_inject_writer *w;
	uint64_t head, avail;
	uint16_t n, k = 0;

	/* D: announce, then look (seq_cst both; pairs with the close's store and load). */
	__atomic_store_n(&s->busy, 1, __ATOMIC_SEQ_CST);
	w = __atomic_load_n(&s->active, __ATOMIC_SEQ_CST);
	if (w == NULL)
		goto out;
	/* A1: acquire, pairs with the writer's release of head (W1). */
	head = __atomic_load_n(&w->hdr->head, __ATOMIC_ACQUIRE);
	avail = head - w->tail;
	if (unlikely(avail > w->g.capacity)) {
		if (head != w->bad_head) {     /* once per garbage value, not once per poll */
			w->bad_head = head;
			bl_counter_add(&s->c.bad_head, 1);
		}
		goto out;
	}
	n = (uint16_t)RTE_MIN(avail, (uint64_t)max);
	if (n == 0)
		goto out;
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, out, n) != 0)) {
		bl_counter_add(&s->c.nombuf, 1);
		goto out;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t pos = w->tail + i;
		const struct bl_wring_desc *p = &w->desc[pos & (w->g.capacity - 1)];
		struct bl_wring_desc d;
		enum bl_inject_verdict v;

		/* Each field loaded once (relaxed: ordered by A1): the writer may change them
		 * under us, and what is checked is what is used. */
		d.seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
		d.off = __atomic_load_n(&p->off, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&p->len, __ATOMIC_RELAXED);
		v = bl_inject_check(&w->g, &d, pos);
		bl_counter_add(&s->c.v[v], 1);
		if (v != BL_INJECT_OK)
			continue;
		rte_memcpy(rte_pktmbuf_mtod(out[k], void *), w->data + d.off, d.len);
		out[k]->data_len = (uint16_t)d.len;
		out[k]->pkt_len = d.len;
		bl_counter_add(&s->c.bytes, d.len);
		k++;
	}
	if (k < n)
		rte_pktmbuf_free_bulk(out + k, n - k);
	w->tail += n;
	/* A2: release, pairs with the library's acquire load before it hands a buffer out. */
	__atomic_store_n(&w->tp->tail, w->tail, __ATOMIC_RELEASE);
	if (k < n)   /* the writer's view of its refusals: a counter, relaxed */
		bl_counter_add(&w->tp->refused, (uint64_t)(n - k));
out:
	/* D: release, the region's reads are done before close may see busy == 0. */
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	return k;
}

#endif /* BL_INJECT_WORKER_H */
