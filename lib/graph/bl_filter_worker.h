/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_filter_worker — what a filter's process/poll function uses at burst
 * time, all inline: its private state, emitting packets with a class, the
 * class an upstream filter gave a packet, a writable private copy.
 *
 * Contract of process(f, pkts, n): every packet is either emitted (any
 * class; 0 = drop, freed and counted by the runtime) or consumed (the filter
 * now owns it: sent, freed, or queued). Nothing here allocates or locks.
 */
#ifndef BL_FILTER_WORKER_H
#define BL_FILTER_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "bl_atomic.h"
#include "bl_filter.h"

#define BL_BURST_MAX   256   /* packets a node takes in or emits in one pass */
#define BL_CLASS_SLOTS 16    /* per-class counters kept per filter (rest: "other") */
#define BL_EDGE_CLASS_SLOTS 8 /* per-class counters kept per edge (rest: "other") */

/* Offset of the class dynamic field in every mbuf (set by bl_graph_global_init). */
extern int bl_class_dynfield;

struct bl_label_rt {
	uint8_t kind;          /* enum bl_label_kind */
	uint8_t invert;
	uint8_t n;
	uint32_t lo[BL_LABEL_MAX_RANGES], hi[BL_LABEL_MAX_RANGES];
};

/* Does an edge labelled l take a packet of class cls: the rule every edge and every tap
 * follows (docs/graphs.md). Class 0 (drop) goes only where the label says all. */
static __rte_always_inline bool
bl_label_match(const struct bl_label_rt *l, uint32_t cls)
{
	bool in = false;

	if (likely(l->kind == BL_LABEL_DEFAULT))
		return cls != 0;
	if (l->kind == BL_LABEL_ALL)
		return true;
	for (unsigned int i = 0; i < l->n; i++)
		in |= cls >= l->lo[i] && cls <= l->hi[i];
	return l->invert ? (cls != 0 && !in) : in;
}

struct bl_class_count {
	uint32_t cls;
	uint64_t n;
};

/* Every (w) counter below has one writer, the lcore running the graph, which adds
 * with bl_counter_add (a relaxed store); stats read them live with bl_counter_read
 * (a relaxed load) from another thread: no data race, and no locked instruction. */
struct bl_edge_rt {
	struct bl_filter *to;
	struct bl_label_rt label;
	uint64_t pkts;                         /* (w) packets carried */
	uint64_t cls_other;                    /* (w) packets of classes beyond the slots */
	struct bl_class_count cls[BL_EDGE_CLASS_SLOTS]; /* (w) packets carried, per class */
};

/* Counters every filter instance has; (w) written by its lcore only. */
struct bl_filter_stats {
	uint64_t in;          /* packets handed to process */
	uint64_t out;         /* packets that went on: a class other than 0, or 0 on an |all edge (at
	                       * least one input took them, or the filter has no out-edge) */
	uint64_t dropped;     /* emitted with class 0 (or negated to 0) and freed */
	uint64_t unrouted;    /* a class no out-edge carries: freed */
	uint64_t overflow;    /* an input or emit buffer was full: freed (one per edge whose
	                       * input had no room; a packet no input took is not out) */
	uint64_t copies;      /* private copies made for rewriting (and copy failures below) */
	uint64_t copy_fail;   /* no mbuf for a private copy: packet dropped */
	uint64_t calls;       /* process/poll calls that did work */
	uint64_t cycles;      /* TSC cycles spent in those calls (sampled, scaled up) */
	uint64_t cls_other;   /* packets of classes beyond the per-class slots */
	struct bl_class_count cls[BL_CLASS_SLOTS];
};

/*
 * A tap (beltline tap, app/beltlined/tap.c): a hook the main lcore hangs on a
 * running filter's output without rebuilding its graph. When set, the runtime
 * calls burst() with every packet the filter emitted (their classes after its
 * negation), before routing them: the hook takes its own references to what
 * it keeps. Nothing else of the filter changes (counters, state, edges).
 * Several taps hang on one filter as a list (f->tap, then each hook's next),
 * called in turn; the main lcore links and unlinks them (release stores), and
 * reuses an unlinked hook only once the worker passed an epoch.
 */
struct bl_filter_tap {
	void (*burst)(struct bl_filter_tap *t, struct rte_mbuf **pkts, const uint32_t *cls,
		      uint16_t n, uint8_t negate);
	struct bl_filter_tap *next;    /* (m) the next hook on the same filter */
};

struct bl_filter {
	/* read-mostly, set at build */
	const struct bl_filter_ops *ops;
	void *priv;
	struct bl_graph *graph;
	const uint64_t *pass;          /* the graph's pass counter: bl_filter_graph_pass */
	char name[BL_GDESC_NAME_MAX];
	uint16_t idx;                  /* node index in its graph */
	uint8_t negate;
	uint8_t started;
	uint8_t straight;              /* one out-edge, default label, no negation */
	uint8_t cyclic;                /* its graph has a cycle: a pass may run it more than once
	                                * (bl_filter_graph_cyclic) */
	uint16_t n_out;
	uint16_t n_in_edges;           /* for intersect */
	struct bl_edge_rt *out;
	/* (m) the main lcore stores it release (app/beltlined/tap.c), the worker loads it
	 * acquire in dispatch; cleared, it is freed only once the worker passed an epoch */
	struct bl_filter_tap *tap;

	/* live reload (control thread; bl_graph.h "Adoption"): the instance this one took
	 * its state from, until its build commits; whether a newer build took this one's
	 * (stop, fini and its state's free are then the newer one's) or is taking it;
	 * the instance whose runtime counters the worker carries over at the swap */
	struct bl_filter *from;
	uint8_t given, claimed;
	struct bl_filter *st_from;     /* worker: read and cleared at the swap */
	char *match;                   /* what must equal for an adoption (type, name, args, edges) */

	/* burst state, this lcore only */
	uint16_t n_in;
	uint16_t n_emit;
	struct rte_mbuf *in[BL_BURST_MAX];
	uint32_t in_cls[BL_BURST_MAX];  /* the class each input arrived with */
	struct rte_mbuf *emit_pkt[BL_BURST_MAX];
	uint32_t emit_cls[BL_BURST_MAX];

	struct bl_filter_stats st;
} __rte_cache_aligned;

static inline void *
bl_filter_priv(const struct bl_filter *f)
{
	return f->priv;
}

/* Worker: the number of the graph's current pass (a run makes one pass, a cyclic graph
 * up to BL_GRAPH_MAX_ROUNDS): what a join keeps its table of packets seen for. */
static inline uint64_t
bl_filter_graph_pass(const struct bl_filter *f)
{
	return *f->pass;
}

/* Worker: whether f's graph has a cycle, so that a pass may run f in several rounds, and a
 * packet freed in one round may come back as another (the pool hands its mbuf out again). */
static inline bool
bl_filter_graph_cyclic(const struct bl_filter *f)
{
	return f->cyclic != 0;
}

/* Hand a packet on with class `cls` (0 = drop). */
static __rte_always_inline void
bl_filter_emit(struct bl_filter *f, uint32_t cls, struct rte_mbuf *m)
{
	if (unlikely(f->n_emit == BL_BURST_MAX)) {
		rte_pktmbuf_free(m);
		bl_counter_add(&f->st.overflow, 1);
		return;
	}
	f->emit_pkt[f->n_emit] = m;
	f->emit_cls[f->n_emit] = cls;
	f->n_emit++;
}

/*
 * Pass-through filters: hand every input packet on with the class it came
 * with, in one go (pkts and n are the process call's own).
 */
static __rte_always_inline void
bl_filter_pass(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(f->n_emit + n > BL_BURST_MAX)) {
		for (uint16_t i = 0; i < n; i++)
			bl_filter_emit(f, f->in_cls[i], pkts[i]);
		return;
	}
	memcpy(&f->emit_pkt[f->n_emit], pkts, n * sizeof(pkts[0]));
	memcpy(&f->emit_cls[f->n_emit], f->in_cls, n * sizeof(f->in_cls[0]));
	f->n_emit = (uint16_t)(f->n_emit + n);
}

/*
 * Sources fill the emit buffer in place: take the slots, write up to
 * bl_filter_emit_room() packets there, then commit how many, with a class.
 */
static __rte_always_inline struct rte_mbuf **
bl_filter_emit_slots(struct bl_filter *f)
{
	return &f->emit_pkt[f->n_emit];
}

static __rte_always_inline void
bl_filter_emit_commit(struct bl_filter *f, uint16_t n, uint32_t cls)
{
	for (uint16_t i = 0; i < n; i++)
		f->emit_cls[f->n_emit + i] = cls;
	f->n_emit = (uint16_t)(f->n_emit + n);
}

/* Room left for emitting in this call (sources size their bursts with it). */
static inline uint16_t
bl_filter_emit_room(const struct bl_filter *f)
{
	return (uint16_t)(BL_BURST_MAX - f->n_emit);
}

/*
 * Room left for emitting in this call that every out-edge's input can take too. For a
 * filter that holds packets and lets them go when it likes (user): one that both polls
 * and processes has given the next filter a burst already in this pass, and what it
 * emits past that input's room is freed as overflow (packets it had decided to pass).
 */
static inline uint16_t
bl_filter_emit_room_out(const struct bl_filter *f)
{
	uint16_t room = BL_BURST_MAX;

	for (uint16_t i = 0; i < f->n_out; i++) {
		uint16_t in = f->out[i].to->n_in;
		if (BL_BURST_MAX - in < room)
			room = (uint16_t)(BL_BURST_MAX - in);
	}
	return room > f->n_emit ? (uint16_t)(room - f->n_emit) : 0;
}

/*
 * The class packet pkts[i] of this process call arrived with: what the filter
 * before gave it, on the edge it came in by. A packet shared by several
 * branches is seen by each with its own class, so the class travels beside
 * the pointer, not in the packet.
 */
static __rte_always_inline uint32_t
bl_filter_in_class(const struct bl_filter *f, uint16_t i)
{
	return f->in_cls[i];
}

/*
 * The class kept in the packet itself (the mbuf dynamic field): written for
 * filters registered with BL_FILTER_F_CLASS_FIELD just before their process
 * call, and by whatever hands a packet out of its graph (to another lcore or
 * a client), so the class leaves with the packet. Inside one graph the
 * runtime keeps classes beside the pointers instead: a store into every
 * packet at every hop is measurable at these rates.
 */
static __rte_always_inline uint32_t
bl_pkt_class(const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, bl_class_dynfield, const uint32_t *);
}

static __rte_always_inline void
bl_pkt_set_class(struct rte_mbuf *m, uint32_t cls)
{
	*RTE_MBUF_DYNFIELD(m, bl_class_dynfield, uint32_t *) = cls;
}

/*
 * A packet this filter may write: the packet itself when nobody else holds
 * it, else a private copy (the shared one loses this reference). NULL when
 * no mbuf is free for the copy: the packet is dropped and counted.
 */
struct rte_mbuf *bl_filter_writable_slow(struct bl_filter *f, struct rte_mbuf *m);

static __rte_always_inline struct rte_mbuf *
bl_filter_writable(struct bl_filter *f, struct rte_mbuf *m)
{
	if (likely(rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m)))
		return m;
	return bl_filter_writable_slow(f, m);
}

#endif /* BL_FILTER_WORKER_H */
