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
 * state:    stateless (marks live in the packets, stamped with the pass and
 *           the join's instance id)
 *
 * A mark is (instance id << 40 | pass << 8 | arrivals). The instance id is
 * unique in the process, never the node index: a packet's mark outlives its
 * graph (mbufs go back to the pool marked), and a rebuilt graph, or another
 * graph on the same pool, has a join at the same index counting the same
 * pass numbers, which would take a fresh packet for a duplicate.
 */
#include "bl_filter_worker.h"

static __rte_always_inline uint64_t *
mark(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, bl_mark_dynfield, uint64_t *);
}

#define JOIN_COUNT_MASK 0xffull     /* arrivals: at most BL_GRAPH_MAX_NODES in-edges */

struct join {
	uint64_t id;   /* config: unique in the process (24 bits used) */
};

static uint64_t join_next_id;   /* instance ids handed out so far */

static int
join_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };
	struct join *j = bl_filter_priv(f);

	if (bl_args_only(args, keys, false, err) < 0)
		return -EINVAL;
	/* relaxed: only uniqueness matters; graphs may be built on several threads */
	j->id = __atomic_add_fetch(&join_next_id, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Instance id and pass stamp, leaving the low 8 bits for an arrival count. */
static inline uint64_t
stamp(const struct bl_filter *f)
{
	const struct join *j = bl_filter_priv(f);

	return (j->id << 40) | ((bl_filter_graph_pass(f) & 0xffffffffull) << 8);
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
		*mk = (*mk & ~JOIN_COUNT_MASK) == s ? *mk + 1 : s | 1;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		if ((*mk & JOIN_COUNT_MASK) == f->n_in_edges) {
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
	.priv_size = sizeof(struct join),
	.init = join_init,
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
	.priv_size = sizeof(struct join),
	.init = join_init,
	.process = intersect_process,
};
