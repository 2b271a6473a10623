/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_inject_worker — an inject stream's consumer, on its worker lcore: take the
 * frames a client writer committed, check each descriptor (bl_inject_check.h),
 * and make each good frame an mbuf: in copy mode a copy into an mbuf of the
 * graph's pool (exactly one copy), in zero-copy mode an mbuf of the pool with
 * the writer's buffer attached as an external buffer (no copy; the buffer is
 * the writer's again only once the mbuf is freed). Buffers go back to the
 * writer by storing the tail. static inline, never exported.
 *
 * Ordering (the writer is libbeltline-client, client/src_write.c, or anything
 * else: untrusted):
 *   W1 the writer fills buffer and descriptor, then stores head (release);
 *   A1 here: head is loaded acquire (pairs with W1), so the descriptors and bytes
 *      before it are visible; each is copied out (or attached, Z1) before
 *   A2 tail is stored release: the buffers before it are the writer's again, and
 *      the library hands one out only after loading tail acquire (pairs with A2).
 *   D  busy/active: Dekker with bl_inject_close_write (bl_inject.h), seq_cst.
 * Zero copy:
 *   Z1 attach: held[slot] = 1 (relaxed: the slot is free, rel passed it, and only
 *      this lcore sets it), the shinfo's refcnt 1, the mbuf emitted.
 *   Z2 the last reference to the mbuf goes (any lcore; the PMD has read the bytes):
 *      bl_inject__zc_free stores held[slot] = 0 (release).
 *   Z3 each burst, rel moves over the slots whose held loads 0 (acquire, pairs
 *      with Z2) up to tail; then A2 publishes rel. So the writer gets a buffer back
 *      only after everything that read it from the mbuf is done (Z2 -> Z3 -> A2 ->
 *      the library's acquire of tail).
 *   Z4 a reload may turn zero copy off (never on) while a writer is open: from the
 *      next burst its frames are copied (held stays 0 for them, Z3 passes them).
 * Wakeups (a writer that asked for a wake channel at open; docs/shm-abi.md, "Writer
 * wakeups"): a writer that found every buffer committed stores wait = 1 + the tail it
 * sleeps until (half its buffers back), a seq_cst fence, then loads tail again; at
 * each poll the worker loads wait (relaxed: on head's line, just loaded) and signals
 * once the tail reached it, at most once per wait value and once per capacity/2
 * buffers given back (a writer lying in wait costs itself wakeups, one per half a
 * ring of frames it wrote, nobody else). The worker has no fence between its store of
 * tail and its load of wait: a wait it loaded too early it sees at its next poll. A
 * flush's (all back: fewer than half may be out) is the main lcore's tick's
 * (bl_inject_wake_tick), at most once a millisecond per writer.
 *   A head beyond rel + capacity is the writer committing buffers it was not given
 *   back (maybe still held), a head behind tail nonsense: both refused as bad_head,
 *   so only positions in [tail, head), all below rel + capacity, are read and an
 *   attached slot is never attached twice.
 */
#ifndef BL_INJECT_WORKER_H
#define BL_INJECT_WORKER_H

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "bl_atomic.h"
#include "bl_inject.h"

/* Add a burst's worth to the writer's counters and the filter's totals. */
static __rte_always_inline void
bl_inject__add(struct bl_inject *s, size_t field, uint64_t n)
{
	bl_counter_add((uint64_t *)((uint8_t *)&s->c + field), n);
	bl_counter_add((uint64_t *)((uint8_t *)s->tot + field), n);
}
#define BL_INJECT_ADD(s, fld, n) bl_inject__add((s), offsetof(struct bl_inject_counts, fld), (n))

/* Z3: rel moves over the slots no mbuf points at any more, up to tail (acquire, pairs
 * with the free callback's release, Z2). */
static __rte_always_inline void
bl_inject__reclaim(struct bl_inject_writer *w)
{
	while (w->rel != w->tail &&
	       __atomic_load_n(&w->held[w->rel & (w->g.capacity - 1)], __ATOMIC_ACQUIRE) == 0)
		w->rel++;
}

/* After a store of tail: signal a sleeping writer that is due (Wakeups, above). */
static __rte_always_inline void
bl_inject__wake_check(struct bl_inject *s, struct bl_inject_writer *w)
{
	/* relaxed: the writer's untrusted word; any value only decides when its own
	 * channel is signalled. */
	uint64_t wait = __atomic_load_n(&w->hdr->wait, __ATOMIC_RELAXED);

	if (likely(wait == 0 || wait == w->fired) || w->rel < wait - 1 ||
	    w->rel - w->fired_at < w->g.capacity / 2)
		return;
	bl_inject__signal(s, w);
	w->fired_at = w->rel;
	/* relaxed: the main lcore's tick reads it to skip a signalled sleep. */
	__atomic_store_n(&w->fired, wait, __ATOMIC_RELAXED);
}

/* Up to max frames into out[] (mbufs of mp, one segment each). Returns how many. */
static __rte_always_inline uint16_t
bl_inject_poll(struct bl_inject *s, struct rte_mempool *mp, struct rte_mbuf **out, uint16_t max)
{
	struct bl_inject_writer *w;
	uint64_t head, avail, bytes = 0;
	uint32_t cnt[BL_INJECT_N_VERDICTS] = { 0 };
	uint16_t n, k = 0;
	int zc = 0;

	/* D: announce, then look (seq_cst both; pairs with the close's store and load). */
	__atomic_store_n(&s->busy, 1, __ATOMIC_SEQ_CST);
	w = __atomic_load_n(&s->active, __ATOMIC_SEQ_CST);
	if (w == NULL)
		goto out;
	if (w->held != NULL) {
		bl_inject__reclaim(w);
		/* Z4: a writer that opened in zero copy goes on in one copy once a reload
		 * turned the stream's mode off (relaxed, pairs with bl_inject_copy_from_now's
		 * store; the graph swap orders it before the new graph's first burst). */
		zc = __atomic_load_n(&s->zero_copy, __ATOMIC_RELAXED) != 0;
	}
	/* A1: acquire, pairs with the writer's release of head (W1). */
	head = __atomic_load_n(&w->hdr->head, __ATOMIC_ACQUIRE);
	avail = head - w->tail;
	/* Behind the tail (avail wraps), or beyond the buffers given back: then a
	 * descriptor read could name a buffer an mbuf still points at. */
	if (unlikely(avail > w->g.capacity || head - w->rel > w->g.capacity)) {
		if (!w->bad_seen || head != w->bad_head) {   /* once per garbage value, not per poll */
			w->bad_seen = true;
			w->bad_head = head;
			BL_INJECT_ADD(s, bad_head, 1);
		}
		goto publish;
	}
	n = (uint16_t)RTE_MIN(avail, (uint64_t)max);
	if (n == 0)
		goto publish;
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, out, n) != 0)) {
		BL_INJECT_ADD(s, nombuf, 1);
		goto publish;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t pos = w->tail + i;
		uint32_t slot = (uint32_t)(pos & (w->g.capacity - 1));
		const struct bl_wring_desc *p = &w->desc[slot];
		struct bl_wring_desc d;
		enum bl_inject_verdict v;

		/* Each field loaded once (relaxed: ordered by A1): the writer may change them
		 * under us, and what is checked is what is used. */
		d.seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
		d.off = __atomic_load_n(&p->off, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&p->len, __ATOMIC_RELAXED);
		v = bl_inject_check(&w->g, &d, pos);
		cnt[v]++;
		if (v != BL_INJECT_OK)
			continue;
		if (zc) {
			/* Z1: the mbuf points at buffer slot (checked: off is slot's, len fits). The
			 * region is mapped read-only here: nothing in the graph writes an indirect
			 * or external mbuf (bl_filter_writable copies it first), and the PMDs zero
			 * copy is chosen for only read. No IOVA: they do no DMA. */
			__atomic_store_n(&w->held[slot], 1, __ATOMIC_RELAXED);
			rte_mbuf_ext_refcnt_set(&w->shinfo[slot], 1);
			rte_pktmbuf_attach_extbuf(out[k], (void *)(uintptr_t)(w->data + d.off),
						  RTE_BAD_IOVA, (uint16_t)d.len, &w->shinfo[slot]);
		} else {
			rte_memcpy(rte_pktmbuf_mtod(out[k], void *), w->data + d.off, d.len);
		}
		out[k]->data_len = (uint16_t)d.len;
		out[k]->pkt_len = d.len;
		bytes += d.len;
		k++;
	}
	if (k < n)
		rte_pktmbuf_free_bulk(out + k, n - k);
	w->tail += n;
	for (unsigned int r = 0; r < BL_INJECT_N_VERDICTS; r++)
		if (cnt[r] != 0)
			bl_inject__add(s, offsetof(struct bl_inject_counts, v) + r * sizeof(uint64_t),
				       cnt[r]);
	if (k != 0) {
		BL_INJECT_ADD(s, bytes, bytes);
		if (zc)
			BL_INJECT_ADD(s, zero_copy, k);
		else
			BL_INJECT_ADD(s, copied, k);
	}
	if (k < n)   /* the writer's view of its refusals: a counter, relaxed */
		bl_counter_add(&w->tp->refused, (uint64_t)(n - k));
	if (w->held == NULL)
		w->rel = w->tail;   /* copied out: every buffer read is the writer's again */
	else if (!zc)
		bl_inject__reclaim(w);   /* copied out, up to the first still held */
publish:
	if (w->rel != w->pub) {
		w->pub = w->rel;
		/* A2: release, pairs with the library's acquire load before it hands a buffer
		 * out (and, zero copy, carries Z2's release on through Z3's acquire). */
		__atomic_store_n(&w->tp->tail, w->rel, __ATOMIC_RELEASE);
	}
	if (w->wake_fd >= 0)   /* every poll: a wait stored after our last look is seen now */
		bl_inject__wake_check(s, w);
	if (w->held != NULL && s->c.held != w->tail - w->rel) {
		/* A gauge: relaxed stores, this lcore the one writer; stats load it relaxed. */
		__atomic_store_n(&s->c.held, w->tail - w->rel, __ATOMIC_RELAXED);
		__atomic_store_n(&s->tot->held, w->tail - w->rel, __ATOMIC_RELAXED);
	}
out:
	/* D: release, the region's reads are done before close may see busy == 0. */
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	return k;
}

#endif /* BL_INJECT_WORKER_H */
