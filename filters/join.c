/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * union, intersect — the join nodes the pipeline operators `++` and `+*`
 * compile to. A packet split over several branches is one mbuf with one
 * reference per branch; a join sees every reference that reached it in this
 * pass (it runs after all its inputs) and keeps one:
 *   union:     each packet once, however many branches passed it
 *   intersect: a packet only when every in-edge passed it
 * synopsis: union | intersect
 * edges:    the upstream classes, unchanged
 * state:    stateless (marks live in the packets, stamped with the pass)
 */
#include "bl_filter_worker.h"
#include "bl_graph_pvt.h"

static __rte_always_inline uint64_t *
mark(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, bl_mark_dynfield, uint64_t *);
}

/* Pass stamp and node index, leaving the low 16 bits for an arrival count. */
static inline uint64_t
stamp(const struct bl_filter *f)
{
	return (f->graph->pass << 32) | ((uint64_t)f->idx << 16);
}

static void
union_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	const uint64_t s = stamp(f);
	struct rte_mbuf *dup[BL_BURST_MAX];
	uint16_t n_dup = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		if (*mk == s) {
			dup[n_dup++] = pkts[i];   /* another branch's reference */
			continue;
		}
		*mk = s;
		bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
	}
	if (n_dup != 0)
		rte_pktmbuf_free_bulk(dup, n_dup);
}

static void
intersect_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	const uint64_t s = stamp(f);
	struct rte_mbuf *gone[BL_BURST_MAX];
	uint16_t n_gone = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		*mk = (*mk & ~0xffffull) == s ? *mk + 1 : s | 1;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		if ((*mk & 0xffff) == f->n_in_edges) {
			*mk = s;   /* count 0: later references of it are let go */
			bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
		} else {
			gone[n_gone++] = pkts[i];
		}
	}
	if (n_gone != 0)
		rte_pktmbuf_free_bulk(gone, n_gone);
}

BL_FILTER_REGISTER(union) = {
	.summary = "join branches, passing each packet once (the ++ operator)",
	.synopsis = "union",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "none beyond the common ones",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.process = union_process,
};

BL_FILTER_REGISTER(intersect) = {
	.summary = "join branches, passing a packet only if every branch passed it (the +* operator)",
	.synopsis = "intersect",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "none beyond the common ones",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.process = intersect_process,
};
