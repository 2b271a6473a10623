/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_mbuf_meta — what a capture record says about a packet, carried in the
 * mbuf: its capture time and its length on the wire.
 *
 * An mbuf holds the bytes a capture kept (pkt_len is the captured length),
 * not the record's time nor the packet's wire length, which a snaplen-cut
 * capture has longer. A replayed capture (nic/bl_replay.h) sets both here;
 * the pcap sink writes them back, and bpf's `len`, `less` and `greater`
 * read the wire length, as libpcap's do.
 *
 * One dynamic field ("beltline_rec_meta", 16 bytes) and one dynamic flag
 * ("beltline_rec_meta_valid"), registered once after EAL is up
 * (bl_mbuf_meta_register; the registration is shared by every process of
 * the EAL). The flag lives in ol_flags, which DPDK clears on every mbuf
 * allocation, so an mbuf no replay filled never carries a stale record:
 * without the flag, the time is "now" (live traffic keeps its arrival time)
 * and the wire length is pkt_len.
 *
 * Who writes: the replay rx callback, on the lcore polling that queue,
 * before the rx filter sees the mbuf. Who reads: any filter after it. The
 * fields travel with the mbuf (a copy made by rte_pktmbuf_copy keeps them:
 * it copies the dynfields and ol_flags).
 */
#ifndef BL_MBUF_META_H
#define BL_MBUF_META_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct bl_mbuf_meta {
	uint64_t ts_ns;        /* capture time, ns since the epoch */
	uint32_t wire_len;     /* length on the wire (>= pkt_len) */
	uint32_t reserved;
};

/* Set once by bl_mbuf_meta_register, read-only after: -1 / 0 when not registered. */
extern int bl_mbuf_meta_off;
extern uint64_t bl_mbuf_meta_flag;

/* Register the field and the flag (idempotent). 0 or -rte_errno. */
int bl_mbuf_meta_register(void);

static inline bool
bl_mbuf_meta_has(const struct rte_mbuf *m)
{
	return (m->ol_flags & bl_mbuf_meta_flag) != 0;   /* flag 0: never */
}

static inline struct bl_mbuf_meta *
bl_mbuf_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, bl_mbuf_meta_off, struct bl_mbuf_meta *);
}

/* The packet's length on the wire: the record's, or pkt_len. */
static inline uint32_t
bl_mbuf_wire_len(const struct rte_mbuf *m)
{
	if (bl_mbuf_meta_has(m))
		return RTE_MBUF_DYNFIELD(m, bl_mbuf_meta_off, const struct bl_mbuf_meta *)->wire_len;
	return m->pkt_len;
}

/* Fill an mbuf's record (bl_mbuf_meta_register must have succeeded). */
static inline void
bl_mbuf_meta_set(struct rte_mbuf *m, uint64_t ts_ns, uint32_t wire_len)
{
	struct bl_mbuf_meta *r = bl_mbuf_meta(m);

	r->ts_ns = ts_ns;
	r->wire_len = wire_len;
	m->ol_flags |= bl_mbuf_meta_flag;
}

#endif /* BL_MBUF_META_H */
