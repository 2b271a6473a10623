/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hot path: one pass of a graph. Filters with timed work tick (flow's
 * expiry), sources poll; then every filter with
 * input runs once on its burst, in topological order, and what it emitted is
 * routed along the edges whose labels hold each packet's class. A packet on
 * several edges is shared by reference (refcnt), never copied. All counters
 * here have one writer, this lcore, which adds with bl_counter_add (relaxed
 * stores: plain moves on x86); stats load them relaxed from another thread.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "bl_graph_pvt.h"

/* Add n packets of class cls to a table of per-class slots (first come, first
 * served; the rest go to *other). The first slot is the usual hit. */
static __rte_always_inline void
count_class_in(struct bl_class_count *tab, unsigned int slots, uint64_t *other, uint32_t cls,
	       uint64_t n)
{
	if (likely(tab[0].cls == cls && tab[0].n != 0)) {
		bl_counter_add(&tab[0].n, n);
		return;
	}
	for (unsigned int i = 0; i < slots; i++) {
		if (tab[i].n != 0 && tab[i].cls != cls)
			continue;
		/* relaxed: a slot's class is read beside its count (classes_json), and
		 * set once, before its count leaves 0. */
		__atomic_store_n(&tab[i].cls, cls, __ATOMIC_RELAXED);
		bl_counter_add(&tab[i].n, n);
		return;
	}
	bl_counter_add(other, n);
}

static __rte_always_inline void
count_class(struct bl_filter_stats *st, uint32_t cls, uint64_t n)
{
	count_class_in(st->cls, BL_CLASS_SLOTS, &st->cls_other, cls, n);
}

static __rte_always_inline void
count_edge_class(struct bl_edge_rt *e, uint32_t cls, uint64_t n)
{
	count_class_in(e->cls, BL_EDGE_CLASS_SLOTS, &e->cls_other, cls, n);
}

/*
 * A run of n packets of one class left f: count it for the filter and, per
 * class, for every edge that carried it (the label decides by class alone, so
 * a run takes the same edges). Class 0 goes down `|all` edges only.
 */
static void
count_run(struct bl_filter *f, uint32_t cls, uint64_t n)
{
	count_class(&f->st, cls, n);
	for (uint16_t k = 0; k < f->n_out; k++)
		if (bl_label_match(&f->out[k].label, cls))
			count_edge_class(&f->out[k], cls, n);
}

/* Onto a filter's input; false when it is full (the caller keeps the reference). */
static __rte_always_inline bool
enqueue(struct bl_filter *to, struct rte_mbuf *m, uint32_t cls)
{
	if (likely(to->n_in < BL_BURST_MAX)) {
		to->in_cls[to->n_in] = cls;
		to->in[to->n_in++] = m;
		return true;
	}
	return false;
}

static void dispatch_labelled(struct bl_filter *f);

/*
 * The common case, a filter with one plain out-edge: every class but 0 goes
 * on, in one run, no label to test and no reference to take.
 */
static __rte_always_inline void
dispatch_straight(struct bl_filter *f)
{
	struct bl_edge_rt *e = &f->out[0];
	struct bl_filter *to = e->to;
	struct rte_mbuf *drop[BL_BURST_MAX];
	uint16_t n = f->n_emit, n_drop = 0, k = to->n_in;
	uint32_t run_cls = f->emit_cls[0];
	uint64_t run = 0, dropped = 0;
	unsigned int zeros = 0, same = 0;

	f->n_emit = 0;
	/* The usual burst: no drop, one class, room downstream. These loops have
	 * no branches, so the compiler makes them vector code. */
	for (uint16_t i = 0; i < n; i++) {
		zeros += f->emit_cls[i] == 0;
		same += f->emit_cls[i] == run_cls;
	}
	if (likely(zeros == 0 && same == n && k + n <= BL_BURST_MAX)) {
		memcpy(&to->in[k], f->emit_pkt, n * sizeof(f->emit_pkt[0]));
		memcpy(&to->in_cls[k], f->emit_cls, n * sizeof(f->emit_cls[0]));
		to->n_in = (uint16_t)(k + n);
		count_class(&f->st, run_cls, n);
		count_edge_class(e, run_cls, n);
		bl_counter_add(&e->pkts, n);
		bl_counter_add(&f->st.out, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = f->emit_pkt[i];
		uint32_t cls = f->emit_cls[i];

		if (unlikely(cls != run_cls)) {
			count_class(&f->st, run_cls, run);
			run_cls = cls;
			run = 0;
		}
		run++;
		if (likely(cls != 0 && k < BL_BURST_MAX)) {
			to->in_cls[k] = cls;
			to->in[k++] = m;
			count_edge_class(e, cls, 1);
			continue;
		}
		dropped += cls == 0;
		drop[n_drop++] = m;
	}
	count_class(&f->st, run_cls, run);
	bl_counter_add(&e->pkts, k - to->n_in);
	bl_counter_add(&f->st.out, k - to->n_in);
	bl_counter_add(&f->st.dropped, dropped);
	bl_counter_add(&f->st.overflow, n_drop - dropped);   /* the rest found no room */
	to->n_in = k;
	if (n_drop != 0)
		rte_pktmbuf_free_bulk(drop, n_drop);
}

/* Route what f emitted; frees drops in one bulk call. */
static __rte_always_inline void
dispatch(struct bl_filter *f)
{
	if (f->n_emit == 0)
		return;
	/* acquire (both): pairs with the release stores in tap.c that link a hook
	 * (f->tap, or the next of the hook before it): the tap is whole when seen */
	for (struct bl_filter_tap *t = __atomic_load_n(&f->tap, __ATOMIC_ACQUIRE); unlikely(t != NULL);
	     t = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE))
		t->burst(t, f->emit_pkt, f->emit_cls, f->n_emit, f->negate);
	if (likely(f->straight)) {
		dispatch_straight(f);
		return;
	}
	dispatch_labelled(f);
}

/*
 * Rare: the input at the end of f->out[k0] is full for packet m (class cls), the
 * last of the current run of its class. Counted apart from the run: the run so
 * far without m, then m for f and for the edges that take it (those before k0
 * did). Routes m on the edges after k0, then lets go of the references no input
 * took: only once every edge has taken its own, so m goes back to the pool only
 * when no edge took it. Returns how many edges took it.
 */
static __rte_noinline __rte_cold unsigned int
route_overflow(struct bl_filter *f, struct rte_mbuf *m, uint32_t cls, uint16_t k0, uint64_t *run)
{
	unsigned int took = 0, lost = 1;

	if (*run > 1)
		count_run(f, cls, *run - 1);
	*run = 0;
	count_class(&f->st, cls, 1);
	for (uint16_t k = 0; k < k0; k++)
		if (bl_label_match(&f->out[k].label, cls)) {
			count_edge_class(&f->out[k], cls, 1);
			took++;
		}
	for (uint16_t k = k0 + 1; k < f->n_out; k++) {
		struct bl_edge_rt *e = &f->out[k];
		if (!bl_label_match(&e->label, cls))
			continue;
		rte_pktmbuf_refcnt_update(m, 1);
		if (enqueue(e->to, m, cls)) {
			bl_counter_add(&e->pkts, 1);
			count_edge_class(e, cls, 1);
			took++;
		} else {
			lost++;
		}
	}
	bl_counter_add(&f->st.overflow, lost);
	while (lost-- != 0)
		rte_pktmbuf_free(m);
	return took;
}

static void
dispatch_labelled(struct bl_filter *f)
{
	struct rte_mbuf *drop[BL_BURST_MAX];   /* at most one per emitted packet */
	uint16_t n_drop = 0, n = f->n_emit;
	uint32_t run_cls = 0;
	uint64_t run = 0, out = 0, dropped = 0, unrouted = 0;

	f->n_emit = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = f->emit_pkt[i];
		uint32_t cls = f->emit_cls[i];
		unsigned int hits = 0;

		if (unlikely(f->negate))
			cls = cls == 0;
		if (cls != run_cls) {
			if (run != 0)
				count_run(f, run_cls, run);
			run_cls = cls;
			run = 0;
		}
		run++;
		for (uint16_t k = 0; k < f->n_out; k++) {
			struct bl_edge_rt *e = &f->out[k];
			if (!bl_label_match(&e->label, cls))
				continue;
			/* One more reference per extra edge, on every segment: each branch
			 * frees the whole chain (rte_pktmbuf_free). Atomic inside DPDK. */
			if (hits++ != 0)
				rte_pktmbuf_refcnt_update(m, 1);
			if (unlikely(!enqueue(e->to, m, cls))) {
				/* A packet no input took is overflow only, not out: the
				 * out++ below is taken back here. */
				out -= route_overflow(f, m, cls, k, &run) == 0;
				break;
			}
			bl_counter_add(&e->pkts, 1);
		}
		if (hits == 0) {
			/* Class 0 is a drop; any other class either reached the end of
			 * its pipeline (no out-edges at all) or no label carries it. */
			if (cls == 0)
				dropped++;
			else if (f->n_out == 0)
				out++;
			else
				unrouted++;
			drop[n_drop++] = m;
		} else {
			out++;
		}
	}
	if (run != 0)
		count_run(f, run_cls, run);
	bl_counter_add(&f->st.out, out);
	bl_counter_add(&f->st.dropped, dropped);
	bl_counter_add(&f->st.unrouted, unrouted);
	if (n_drop != 0)
		rte_pktmbuf_free_bulk(drop, n_drop);
}

/*
 * Cycles are measured on one pass in BL_GRAPH_CYCLE_SAMPLE (rdtsc costs as
 * much as a small filter); stats scale the sum back up.
 */
static __rte_always_inline bool
sampling(const struct bl_graph *g)
{
	return (g->pass & (BL_GRAPH_CYCLE_SAMPLE - 1)) == 0;
}

static __rte_always_inline void
run_filter(struct bl_graph *g, struct bl_filter *f)
{
	uint16_t n = f->n_in;

	f->n_in = 0;
	bl_counter_add(&f->st.in, n);
	bl_counter_add(&f->st.calls, 1);
	if (unlikely(f->ops->flags & BL_FILTER_F_CLASS_FIELD))
		for (uint16_t i = 0; i < n; i++)
			bl_pkt_set_class(f->in[i], f->in_cls[i]);
	if (unlikely(sampling(g))) {
		uint64_t t0 = rte_rdtsc();
		f->ops->process(f, f->in, n);
		bl_counter_add(&f->st.cycles, (rte_rdtsc() - t0) * BL_GRAPH_CYCLE_SAMPLE);
	} else {
		f->ops->process(f, f->in, n);
	}
	dispatch(f);
}

uint64_t
bl_graph_run(struct bl_graph *g)
{
	uint64_t got = 0;

	g->pass++;
	for (unsigned int i = 0; i < g->n_tickers; i++)
		g->tickers[i]->ops->tick(g->tickers[i]);
	for (unsigned int i = 0; i < g->n_sources; i++) {
		struct bl_filter *s = g->sources[i];
		uint64_t t0 = sampling(g) ? rte_rdtsc() : 0;
		uint16_t n = s->ops->poll(s, g->env.burst);

		if (n == 0)
			continue;
		bl_counter_add(&s->st.calls, 1);
		if (unlikely(t0 != 0))
			bl_counter_add(&s->st.cycles, (rte_rdtsc() - t0) * BL_GRAPH_CYCLE_SAMPLE);
		got += n;
		dispatch(s);
	}
	if (got == 0 && !g->has_cycle)
		return 0;
	for (unsigned int round = 0; round < BL_GRAPH_MAX_ROUNDS; round++) {
		bool busy = false;
		for (unsigned int i = 0; i < g->n_filters; i++) {
			struct bl_filter *f = g->order[i];
			if (f->n_in == 0)
				continue;
			busy = true;
			run_filter(g, f);
		}
		if (!busy || !g->has_cycle)
			break;
	}
	if (unlikely(g->has_cycle)) {
		/* Whatever still circles after the round limit is dropped and counted. */
		for (unsigned int i = 0; i < g->n_filters; i++) {
			struct bl_filter *f = g->order[i];
			if (f->n_in == 0)
				continue;
			bl_counter_add(&g->st.cycle_limit, f->n_in);
			rte_pktmbuf_free_bulk(f->in, f->n_in);
			f->n_in = 0;
		}
	}
	bl_counter_add(&g->st.passes, 1);
	return got;
}
