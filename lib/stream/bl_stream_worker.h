/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream_worker — a stream's writer, on its worker lcore: publish a burst,
 * then look whether a sleeping reader is due a wakeup. static inline, never
 * exported; the control side is bl_stream.h.
 *
 * The writer owns the packets it is given: a stored packet's reference becomes
 * its slot's (zero copy, no refcount traffic), or the packet is copied once
 * into the stream's copy DBuf (a stream whose permissions differ from the
 * packet DBuf's) and the copy is the slot's; the rest are freed. What the ring
 * refused (tail drop, SRP/MRP) is counted in its producer page; a copy the copy
 * DBuf had no mbuf for in the writer's accounting (copy_nombuf).
 */
#ifndef BL_STREAM_WORKER_H
#define BL_STREAM_WORKER_H

#include <rte_mbuf.h>

#include "bl_atomic.h"
#include "bl_dbuf_perm.h"
#include "bl_dbuf_perm_worker.h"
#include "bl_dbuf_worker.h"
#include "bl_stream.h"

/* Worker: the body of bl_stream_wake_burst (bl_stream_wake.c). */
void bl_stream__wake_check(struct bl_stream_wake *w, const struct bl_ibuf *ib, uint64_t head);

/* Worker, after writing a burst: signal the sleepers wake_count entries wait for. */
static inline void
bl_stream_wake_burst(struct bl_stream *s)
{
	/* relaxed: a hint; bl_stream__wake_check re-reads it in order. */
	if (__atomic_load_n(&s->wake.capable, __ATOMIC_RELAXED) != 0)
		bl_stream__wake_check(&s->wake, s->ib, s->ib->head);
}

/* Worker, once a pass (the writer filter's tick; the stream made with wake_pass): the
 * burst's check again. That check has no fence between our store of head and our loads
 * of the readers' wait words, so it can miss a sleeper that stored its wait while our
 * store was on its way (each side then sees the other's old value, and the reader
 * sleeps with its entry there); the next passes' loads come after the store is out and
 * see it. Without this, only the main lcore's tick caught that, and it ticked every
 * 100 us whenever anyone slept. A load of `capable` when nobody has a channel. */
static inline void
bl_stream_wake_pass(struct bl_stream *s)
{
	bl_stream_wake_burst(s);
}

/* Zero copy: store the packets' references in ib (each stored packet's
 * reference becomes its slot's), free what the ring refused. Also what an
 * LCORE stream's writer does. Returns the number stored. */
static __rte_always_inline unsigned int
bl_stream_give(struct bl_ibuf *ib, struct rte_mbuf **pkts, const uint16_t *cls, uint16_t n)
{
	unsigned int k = bl_dbuf_ibuf_give_mbufs(ib, pkts, cls, n);

	if (k < n)
		rte_pktmbuf_free_bulk(pkts + k, n - k);
	return k;
}

/*
 * Publish a burst on an EXPORT stream (cls: each packet's class; the classes
 * travel in the entries) and look at the sleepers. The copy pool pointer is
 * read once a burst: it changes only while graphs are built.
 */
static __rte_always_inline void
bl_stream_publish(struct bl_stream *s, struct rte_mbuf **pkts, const uint16_t *cls, uint16_t n)
{
	if (s->perm != NULL) {
		unsigned int k = bl_dbuf_copy_write(s->ib, s->perm->dbuf->mp, pkts, cls, n,
						    &s->w.copy_nombuf);

		bl_counter_add(&s->w.copied, k);   /* relaxed, the writer only: read by stats */
		rte_pktmbuf_free_bulk(pkts, n);
	} else {
		bl_stream_give(s->ib, pkts, cls, n);
	}
	bl_stream_wake_burst(s);
}

#endif /* BL_STREAM_WORKER_H */
