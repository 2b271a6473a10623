/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * macswap — swap the Ethernet source and destination addresses (a rewriting
 * filter: a packet shared with another branch is copied first, privately).
 * synopsis: macswap
 * edges:    out (class 1); frames shorter than an Ethernet header are class 0
 * state:    stateless
 */
#include <errno.h>

#include <string.h>

#include <rte_ether.h>

#include "bl_filter_worker.h"

struct macswap {
	uint64_t short_frames;   /* (w) this lcore */
};

/* No arguments: any given is an error that names it. */
static int
macswap_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const none[] = { NULL };

	(void)f;
	return bl_args_only(args, none, false, err) < 0 ? -EINVAL : 0;
}

/* The addresses span segments (a chain whose first segment is short): swap byte by byte. */
static void __rte_cold
swap_split(struct rte_mbuf *m)
{
	uint8_t old[2 * RTE_ETHER_ADDR_LEN], *p;
	const uint8_t *h = rte_pktmbuf_read(m, 0, sizeof(old), old);
	uint32_t k = 0;

	if (h != old)
		memcpy(old, h, sizeof(old));
	for (struct rte_mbuf *seg = m; seg != NULL && k < sizeof(old); seg = seg->next) {
		p = rte_pktmbuf_mtod(seg, uint8_t *);
		for (uint16_t j = 0; j < seg->data_len && k < sizeof(old); j++, k++)
			p[j] = old[(k + RTE_ETHER_ADDR_LEN) % sizeof(old)];
	}
}

static void
macswap_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct macswap *s = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;
		struct rte_ether_addr t;

		if (unlikely(m->pkt_len < sizeof(*eh))) {
			bl_counter_add(&s->short_frames, 1);
			bl_filter_emit(f, 0, m);
			continue;
		}
		m = bl_filter_writable(f, m);
		if (unlikely(m == NULL))
			continue;   /* counted in copy_fail */
		if (unlikely(m->data_len < 2 * RTE_ETHER_ADDR_LEN)) {
			swap_split(m);
			bl_filter_emit(f, 1, m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		t = eh->dst_addr;
		eh->dst_addr = eh->src_addr;
		eh->src_addr = t;
		bl_filter_emit(f, 1, m);
	}
}

static const struct bl_counter_def macswap_counters[] = {
	BL_COUNTER(struct macswap, short_frames, "short", "frames too short for an Ethernet header (class 0)"),
};

BL_FILTER_REGISTER(macswap) = {
	.summary = "swap Ethernet source and destination (rewrites; copies shared packets)",
	.synopsis = "macswap",
	.args_doc = "none",
	.edges_doc = "out (class 1); frames shorter than 14 bytes are class 0",
	.counters_doc = "and the common copies, copy_fail (private copies of shared packets)",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS | BL_FILTER_F_REWRITES,
	.priv_size = sizeof(struct macswap),
	.init = macswap_init,
	.process = macswap_process,
	BL_FILTER_COUNTERS(macswap_counters),
	.edges = { "out" },
};
