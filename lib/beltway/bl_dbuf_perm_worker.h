/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf_perm_worker — the hot path of a stream with a copy DBuf
 * (bl_dbuf_perm.h): copy each packet of a burst once into the copy pool and
 * store the copies in the stream's ring, which then owns them.
 * Producer thread only; inline, no allocation but mempool gets, no logging.
 */
#ifndef BL_DBUF_PERM_WORKER_H
#define BL_DBUF_PERM_WORKER_H

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "bl_atomic.h"
#include "bl_dbuf_perm.h"
#include "bl_dbuf_worker.h"

/*
 * One copy of s in mp, or NULL if mp ran dry. d is a fresh mbuf of mp (or
 * NULL): a packet in one segment that fits is copied into it; anything else
 * (chains, a segment longer than d's room) goes through rte_pktmbuf_copy,
 * which allocates as many segments as it needs and frees them all if it
 * cannot. Private areas are not copied: the copy keeps its own {dbuf, object}.
 */
static inline struct rte_mbuf *
bl_dbuf__copy_one(struct rte_mempool *mp, const struct rte_mbuf *s, struct rte_mbuf *d)
{
	if (d != NULL && s->nb_segs == 1 && s->data_len <= rte_pktmbuf_tailroom(d)) {
		rte_memcpy(rte_pktmbuf_mtod(d, void *), rte_pktmbuf_mtod(s, const void *), s->data_len);
		d->data_len = s->data_len;
		d->pkt_len = s->data_len;
		/* What rte_pktmbuf_copy keeps of the header (its internal copy_hdr). */
		d->port = s->port;
		d->vlan_tci = s->vlan_tci;
		d->vlan_tci_outer = s->vlan_tci_outer;
		d->tx_offload = s->tx_offload;
		d->hash = s->hash;
		d->packet_type = s->packet_type;
		rte_mbuf_dynfield_copy(d, s);
		d->ol_flags = s->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL);
		return d;
	}
	if (d != NULL)
		rte_pktmbuf_free_seg(d);
	return rte_pktmbuf_copy(s, mp, 0, UINT32_MAX);
}

/*
 * Copy n packets into mp, each once, and store the copies in ib with classes
 * cls: each stored slot owns its copy (no reference counting). Only what the
 * ring has room for is copied: the rest of a burst that finds it full is a
 * tail drop before any copying (counted by the ring in prod->dropped, as
 * bl_ibuf_write_refs would). The originals stay the caller's. Packets no copy
 * could be made of (mp empty) are dropped and added to *nombuf (owner-only
 * counter, relaxed: bl_counter_add / bl_counter_read). Returns the number
 * stored. In flight: at most BL_DBUF_COPY_CHUNK copies (the pool's slack).
 */
static inline unsigned
bl_dbuf_copy_write(struct bl_ibuf *ib, struct rte_mempool *mp, struct rte_mbuf *const *m,
	const uint16_t *cls, unsigned n, uint64_t *nombuf)
{
	struct rte_mbuf *c[BL_DBUF_COPY_CHUNK];
	struct bl_ibuf_entry e[BL_DBUF_COPY_CHUNK];
	unsigned done = 0, stored = 0, failed = 0;

	while (done < n) {
		unsigned want = n - done < BL_DBUF_COPY_CHUNK ? n - done : BL_DBUF_COPY_CHUNK;
		/* SRP/MRP: refreshes the tail when short; BLOCK: waits for room for one. */
		unsigned k = bl_ibuf__room(ib, want), got = 0, w;
		int bulk;

		if (k == 0) {
			bl_counter_add(&ib->prod->dropped, n - done);
			break;
		}
		/* One bulk get for the common case; on a short pool, one get per packet. */
		bulk = rte_pktmbuf_alloc_bulk(mp, c, k) == 0;
		for (unsigned i = 0; i < k; i++) {
			/* got <= i: c[i] is read before c[got] is written */
			struct rte_mbuf *d = bl_dbuf__copy_one(mp, m[done + i], bulk ? c[i] : NULL);

			if (d == NULL) {
				failed++;
				continue;
			}
			bl_dbuf_entry_of(d, cls != NULL ? cls[done + i] : 1, &e[got]);
			c[got++] = d;
		}
		/* The room was there and this thread is the only producer: w == got. */
		w = bl_ibuf_write_refs(ib, e, (void *const *)c, got);
		if (w < got)
			rte_pktmbuf_free_bulk(c + w, got - w);
		stored += w;
		done += k;
		if (k < want && (ib->policy == BL_IBUF_SRP || ib->policy == BL_IBUF_MRP)) {
			/* A full ring stays full for the rest of the burst: drop it uncopied.
			 * (FRP takes at most a ring per batch and goes on; BLOCK waits.) */
			bl_counter_add(&ib->prod->dropped, n - done);
			break;
		}
	}
	if (failed != 0)
		bl_counter_add(nombuf, failed);
	return stored;
}

#endif /* BL_DBUF_PERM_WORKER_H */
