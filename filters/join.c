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
 * state:    per-replica: the packets seen in the current pass (below)
 *
 * Every reference of a packet must reach the join in the pass the packet was
 * split in. A filter that may hand a packet on in a later pass (BL_FILTER_F_HOLDS:
 * user) is therefore refused inside a join's branch when the graph is built
 * (bl_graph.c): its reference would come passes late, and intersect would drop
 * the packet, union pass it twice.
 *
 * What a join saw in this pass is kept in the join (each replica its own), never
 * in the packet: a packet may be in graphs on other lcores at the same time (two
 * ibuf_in readers of one ring, or the writer that kept a reference), and a mark
 * stored in the mbuf by each lcore's join was overwritten by the other's between
 * two references of it (a union passed 123339 packets of 100000). The table is a
 * dense list of the packets seen this pass (ent_m, ent_state) and an open-addressed
 * index into it (idx), each slot stamped with the pass it was written in (16 bits of
 * a count of passes; the index is cleared when the count wraps), so a new pass
 * starts empty without clearing anything.
 *
 * In a graph with a cycle a pass may run the join in several rounds, and a packet
 * it saw in one round, freed by every branch before the next, leaves its mbuf to the
 * pool, which may hand it out again in the same pass (a tee's copy): the table took
 * that new packet for a spare reference of the old one and freed it, counted nowhere.
 * There the join holds a reference of every packet in its table until the pass is
 * over (its tick, at the next pass, lets them go; so does its fini), so no mbuf it
 * saw comes back in the same pass. A graph without a cycle never runs the tick
 * (BL_FILTER_F_TICK_CYCLIC), unless its join took the state of one in a cyclic graph.
 * Downstream a held packet is shared (refcount 2): a filter that writes packet bytes
 * after such a join works on a copy.
 */
#include <string.h>

#include "bl_filter_worker.h"

/* A pass brings at most BL_BURST_MAX references a round, BL_GRAPH_MAX_ROUNDS (8)
 * rounds through a cyclic graph: at most this many packets; the index at half load. */
#define JOIN_MAX_PKTS  (BL_BURST_MAX * 8)
#define JOIN_IDX_BITS  12
#define JOIN_IDX       (1u << JOIN_IDX_BITS)
_Static_assert(JOIN_IDX >= 2 * JOIN_MAX_PKTS, "the index must stay at most half full");
_Static_assert(JOIN_MAX_PKTS <= UINT16_MAX, "entries are indexed by 16 bits");

#define JOIN_PASSED 0u        /* state: the packet went on; later references are let go */
#define JOIN_GONE   0xffu     /* intersect dropped the packet: counted once */

struct join {
	uint64_t partial;   /* (w) intersect: packets dropped, some branch but not all passed them */
	const uint64_t *pass_src; /* the graph whose pass that is (a reload adopts the join
	                           * into a new graph counting passes from 0 again) */
	uint64_t pass;      /* the graph pass ent_* describe */
	uint32_t epoch;     /* passes seen, mod 2^16, never 0: idx slots of this pass */
	uint32_t n_ent;     /* packets seen this pass */
	uint32_t n_held;    /* of them, the first n_held hold a reference (a cyclic graph) */
	uint32_t idx[JOIN_IDX];                  /* epoch << 16 | entry; epoch 0: never used */
	uint8_t ent_state[JOIN_MAX_PKTS];        /* union: JOIN_PASSED; intersect: arrivals,
	                                          * then JOIN_PASSED or JOIN_GONE */
	struct rte_mbuf *ent_m[JOIN_MAX_PKTS];
};

/* This pass's entry of m, made (state 0) if it has none; NULL if the pass brought more
 * packets than a pass can (cannot happen: JOIN_MAX_PKTS bounds it; counted as dropped).
 * hold: a new entry takes a reference of m, kept until the pass is over. */
static __rte_always_inline uint8_t *
join_entry(struct join *j, struct rte_mbuf *m, bool hold, bool *is_new)
{
	uint32_t h = (uint32_t)(((uintptr_t)m >> 6) * 0x9e3779b97f4a7c15ull >> (64 - JOIN_IDX_BITS));

	for (;; h = (h + 1) & (JOIN_IDX - 1)) {
		uint32_t v = j->idx[h];
		if (v >> 16 == j->epoch) {
			uint16_t e = (uint16_t)v;
			if (j->ent_m[e] == m) {
				*is_new = false;
				return &j->ent_state[e];
			}
			continue;   /* another packet of this pass */
		}
		if (unlikely(j->n_ent == JOIN_MAX_PKTS))
			return NULL;
		j->idx[h] = j->epoch << 16 | j->n_ent;
		j->ent_m[j->n_ent] = m;
		j->ent_state[j->n_ent] = 0;
		if (unlikely(hold)) {
			rte_mbuf_refcnt_update(m, 1);
			j->n_held++;
		}
		*is_new = true;
		return &j->ent_state[j->n_ent++];
	}
}

/* The references a pass's table holds (a cyclic graph) go back. */
static void
join_let_go(struct join *j)
{
	if (j->n_held != 0)
		rte_pktmbuf_free_bulk(j->ent_m, j->n_held);
	j->n_held = 0;
}

/* A new pass starts with no packet seen (and none held). Returns whether the join holds
 * a reference of each packet it sees in this pass. */
static __rte_always_inline bool
join_pass(struct join *j, const struct bl_filter *f)
{
	uint64_t pass = bl_filter_graph_pass(f);

	if (j->pass != pass || j->pass_src != f->pass) {
		if (unlikely(j->n_held != 0))
			join_let_go(j);
		j->pass_src = f->pass;
		j->pass = pass;
		j->n_ent = 0;
		if (unlikely(++j->epoch > UINT16_MAX)) {   /* slots 2^16 passes old would count */
			memset(j->idx, 0, sizeof(j->idx));
			j->epoch = 1;
		}
	}
	return bl_filter_graph_cyclic(f);
}

/* Once a pass, before it: the last pass is over, its held packets go back. */
static void
join_tick(struct bl_filter *f)
{
	struct join *j = bl_filter_priv(f);

	if (unlikely(j->n_held != 0))
		join_let_go(j);
}

static void
join_fini(struct bl_filter *f)
{
	join_let_go(bl_filter_priv(f));
}

#define JOIN_STATE_DOC                                                                     \
	"per-replica: the packets seen in the current pass (kept in the join, never in the "   \
	"packet: graphs on other lcores may hold the same packet). Every reference of a "     \
	"packet must reach the join in the pass it was split " \
	"in: a filter that may hand a packet on in a later pass (user), or that writes "       \
	"packet bytes (macswap: in a branch it hands on a copy of its own), is refused "      \
	"inside a branch; put it before the split or after the join. The join hands packets " \
	"on in the order their first references reach it, branch by branch: not always "     \
	"arrival order when a branch passes some packets and not others. In a graph with a "  \
	"cycle it holds a reference of each packet until the pass is over (so no packet "    \
	"it saw comes back as another in the same pass): a filter that writes packet "       \
	"bytes after it works on a copy"

static int
join_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };
	(void)f;
	if (bl_args_only(args, keys, false, err) < 0)
		return -EINVAL;
	return 0;
}

static void
union_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct join *j = bl_filter_priv(f);
	struct rte_mbuf *dup[BL_BURST_MAX];
	uint16_t n_dup = 0;
	bool is_new, hold = join_pass(j, f);

	for (uint16_t i = 0; i < n; i++) {
		if (unlikely(join_entry(j, pkts[i], hold, &is_new) == NULL)) {
			bl_counter_add(&f->st.dropped, 1);   /* relaxed: read by stats */
			dup[n_dup++] = pkts[i];
		} else if (!is_new) {
			dup[n_dup++] = pkts[i];   /* another branch's reference */
		} else {
			bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
		}
	}
	if (n_dup != 0)
		rte_pktmbuf_free_bulk(dup, n_dup);
}

static void
intersect_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct join *j = bl_filter_priv(f);
	struct rte_mbuf *gone[BL_BURST_MAX];
	uint8_t *st[BL_BURST_MAX];
	uint16_t n_gone = 0;
	uint64_t partial = 0, dropped = 0;
	bool is_new, hold = join_pass(j, f);

	/* Count each packet's arrivals in this call (a packet already decided this pass,
	 * PASSED or GONE, stays decided). */
	for (uint16_t i = 0; i < n; i++) {
		st[i] = join_entry(j, pkts[i], hold, &is_new);
		if (likely(st[i] != NULL) && (is_new || (*st[i] != JOIN_PASSED && *st[i] != JOIN_GONE)))
			++*st[i];
	}
	for (uint16_t i = 0; i < n; i++) {
		uint8_t arrived = st[i] != NULL ? *st[i] : JOIN_GONE;
		if (unlikely(st[i] == NULL))
			dropped++;
		if (arrived == f->n_in_edges) {
			*st[i] = JOIN_PASSED;   /* later references of it are let go */
			bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
			continue;
		}
		/* The first reference of a packet not every branch passed counts it;
		 * the rest, and the spare references of one passed, are let go. */
		if (arrived != JOIN_PASSED && arrived != JOIN_GONE) {
			*st[i] = JOIN_GONE;
			partial++;
		}
		gone[n_gone++] = pkts[i];
	}
	if (n_gone != 0)
		rte_pktmbuf_free_bulk(gone, n_gone);
	if (partial != 0)
		bl_counter_add(&j->partial, partial);
	if (unlikely(dropped != 0))
		bl_counter_add(&f->st.dropped, dropped);   /* relaxed: read by stats */
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
	.flags = BL_FILTER_F_JOIN | BL_FILTER_F_PASSES_CLASS | BL_FILTER_F_TICK_CYCLIC,
	.priv_size = sizeof(struct join),
	.init = join_init,
	.fini = join_fini,
	.process = union_process,
	.tick = join_tick,
};

BL_FILTER_REGISTER(intersect) = {
	.summary = "join branches, passing a packet only if every branch passed it (the +* operator)",
	.synopsis = "intersect",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "in counts references, one per branch that passed a packet; out the packets "
			"every branch passed; the others are partial, and the spare references are let go",
	.state_doc = JOIN_STATE_DOC ". intersect decides on a packet in the round it first "
		     "arrives: a branch through a cycle of the graph, which brings its reference a "
		     "round later, makes it partial",
	.flags = BL_FILTER_F_JOIN | BL_FILTER_F_PASSES_CLASS | BL_FILTER_F_TICK_CYCLIC,
	.priv_size = sizeof(struct join),
	.init = join_init,
	.fini = join_fini,
	.process = intersect_process,
	.tick = join_tick,
	BL_FILTER_COUNTERS(intersect_counters),
};
