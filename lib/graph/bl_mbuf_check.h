/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_mbuf_check — is an mbuf a driver handed over sound enough to pass on?
 *
 * Nothing a driver hands over is trusted. Every reader downstream
 * (rte_pktmbuf_read, rte_pktmbuf_copy, the pcap sink, bpf) walks a chain by
 * pkt_len alone, so a chain whose segments hold fewer bytes than pkt_len
 * says is read past its end. DPDK 22.11's net_pcap builds exactly that from
 * a frame above about 67 KB (it keeps the bytes after the first segment in a
 * 16-bit length, and pkt_len in 32 bits). An mbuf is sound when:
 *
 *   C1  nb_segs is the number of segments its chain holds (>= 1; the last
 *       segment's next is NULL);
 *   C2  the segments' data_len add up to pkt_len;
 *   C3  every segment's data lies inside its buffer (data_off + data_len
 *       <= buf_len).
 *
 * The fast case, one segment with data_len == pkt_len, reads only the
 * mbuf's first cache line (which the driver has just written): it does not
 * read next, which sits on the second one; DPDK keeps it NULL in every free
 * mbuf and no reader bounded by pkt_len follows it. Anything else is walked,
 * at most nb_segs segments, so a chain that loops ends the walk too.
 *
 * An mbuf that fails must be freed with bl_mbuf_free_bad, never
 * rte_pktmbuf_free: its chain may loop.
 */
#ifndef BL_MBUF_CHECK_H
#define BL_MBUF_CHECK_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

/* Why an mbuf is refused (0: it is sound). */
enum bl_mbuf_fault {
	BL_MBUF_OK = 0,
	BL_MBUF_BAD_SEGS,     /* C1: nb_segs is 0, or not the length of the chain */
	BL_MBUF_BAD_LEN,      /* C2: the segments do not add up to pkt_len */
	BL_MBUF_BAD_BOUNDS,   /* C3: a segment's data runs past its buffer */
};

/* The walk for everything but the fast case (slow path). */
enum bl_mbuf_fault bl_mbuf_check_chain(const struct rte_mbuf *m);

/* Free an mbuf that failed bl_mbuf_check: each segment once, even in a loop. */
void bl_mbuf_free_bad(struct rte_mbuf *m);

static __rte_always_inline enum bl_mbuf_fault
bl_mbuf_check(const struct rte_mbuf *m)
{
	if (likely(m->nb_segs == 1 && m->data_len == m->pkt_len &&
		   (uint32_t)m->data_off + m->data_len <= m->buf_len))
		return BL_MBUF_OK;
	return bl_mbuf_check_chain(m);
}

#endif /* BL_MBUF_CHECK_H */
