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
 * Every reference of a packet must reach the join in the pass the packet was
 * split in. A filter that may hand a packet on in a later pass (BL_FILTER_F_HOLDS:
 * user) is therefore refused inside a join's branch when the graph is built
 * (bl_graph.c): its reference would come passes late, and intersect would drop
 * the packet, union pass it twice.
 *
 * A mark is (instance id << 40 | pass << 8 | arrivals); arrivals 0 means the
 * packet went on, JOIN_GONE that intersect dropped it (and counted it). The
 * instance id is unique in the process, never the node index: a packet's mark
 * outlives its graph (mbufs go back to the pool marked), and a rebuilt graph,
 * or another graph on the same pool, has a join at the same index counting the
 * same pass numbers, which would take a fresh packet for a duplicate.
 */
#include "bl_filter_worker.h"

static __rte_always_inline uint64_t *
mark(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, bl_mark_dynfield, uint64_t *);
}

#define JOIN_COUNT_MASK 0xffull     /* arrivals: at most BL_GRAPH_MAX_NODES in-edges */
#define JOIN_GONE       JOIN_COUNT_MASK   /* intersect dropped the packet: counted once */

struct join {
	uint64_t id;        /* config: unique in the process (24 bits used) */
	uint64_t partial;   /* (w) intersect: packets dropped, some branch but not all passed them */
};

static uint64_t join_next_id;   /* instance ids handed out so far */

#define JOIN_STATE_DOC                                                                     \
	"stateless. Every reference of a packet must reach the join in the pass it was split " \
	"in: a filter that may hand a packet on in a later pass (user) is refused inside a "   \
	"branch; put it before the split or after the join"

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
	struct join *j = bl_filter_priv(f);
	const uint64_t s = stamp(f);
	struct rte_mbuf *gone[BL_BURST_MAX];
	uint16_t n_gone = 0;
	uint64_t partial = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		*mk = (*mk & ~JOIN_COUNT_MASK) == s ? *mk + 1 : s | 1;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t *mk = mark(pkts[i]);
		uint64_t arrived = *mk & JOIN_COUNT_MASK;
		if (arrived == f->n_in_edges) {
			*mk = s;   /* count 0: later references of it are let go */
			bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
			continue;
		}
		/* The first reference of a packet not every branch passed counts it;
		 * the rest, and the spare references of one passed, are let go. */
		if (arrived != 0 && arrived != JOIN_GONE) {
			*mk = s | JOIN_GONE;
			partial++;
		}
		gone[n_gone++] = pkts[i];
	}
	if (n_gone != 0)
		rte_pktmbuf_free_bulk(gone, n_gone);
	if (partial != 0)
		bl_counter_add(&j->partial, partial);
}

static const struct bl_counter_def intersect_counters[] = {
	BL_COUNTER(struct join, partial, "partial",
		   "packets dropped: some branch passed them, not every one (once per packet)"),
};

BL_FILTER_REGISTER(union) = {
	.summary = "join branches, passing each packet once (the ++ operator)",
	.synopsis = "union",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "in counts references, one per branch that passed a packet; out the packets; "
			"the spare references are let go",
	.state_doc = JOIN_STATE_DOC,
	.flags = BL_FILTER_F_STATELESS | BL_FILTER_F_JOIN,
	.priv_size = sizeof(struct join),
	.init = join_init,
	.process = union_process,
};

BL_FILTER_REGISTER(intersect) = {
	.summary = "join branches, passing a packet only if every branch passed it (the +* operator)",
	.synopsis = "intersect",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "in counts references, one per branch that passed a packet; out the packets "
			"every branch passed; the others are partial, and the spare references are let go",
	.state_doc = JOIN_STATE_DOC,
	.flags = BL_FILTER_F_STATELESS | BL_FILTER_F_JOIN,
	.priv_size = sizeof(struct join),
	.init = join_init,
	.process = intersect_process,
	BL_FILTER_COUNTERS(intersect_counters),
};
