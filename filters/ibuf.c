/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ibuf_out, ibuf_in — carry packets from a graph on one worker lcore to
 * graphs on others, through an IBuf (lib/beltway): rich pointers into the
 * packet DBuf, never a copied byte. Each slot holds a reference on its mbuf
 * until every reader has passed it; a reader takes its own reference before
 * it lets the slot go. The packet's class travels in the entry.
 *
 *   graphs[0] on lcore 1:  rx port=in | ibuf_out name=q
 *   graphs[1] on lcore 2:  ibuf_in name=q | bpf "tcp" | count
 *
 * synopsis: ibuf_out name=NAME [capacity=N] [policy=srp]
 *           ibuf_in name=NAME
 * edges:    ibuf_out: none (a sink); ibuf_in: the classes the packets had
 * state:    shared: one ring per name, one writer, readers on other lcores.
 *           Build the writing graph first (configs build graphs in order).
 *           Classes above 65535 are cut to 16 bits in the entry.
 *           SRP only: ibuf_in takes its reference on a packet after reading the
 *           slot, so the slot must keep its own until every reader has passed it.
 *           An FRP ring lets the slot go while a lapped reader reads it, an MRP one
 *           once the fastest reader passed: the reader's reference would land on an
 *           mbuf back in the pool.
 *
 * The named ring is a stream of lib/stream (kind LCORE: no client reaches it):
 * ibuf_out creates it and writes it, each ibuf_in is an in-process reader that
 * holds it, and it goes when the last of them does.
 */
#include <errno.h>

#include "bl_dbuf.h"
#include "bl_dbuf_worker.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_stream_worker.h"

struct ibuf_out {
	struct bl_stream *p;
	uint16_t cls[BL_BURST_MAX];
};

static int
ibuf_out_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "capacity", "policy", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct ibuf_out *o = bl_filter_priv(f);
	const char *name = NULL, *policy = "srp";
	struct bl_stream_opts so = {
		.sz = sizeof(so), .kind = BL_STREAM_LCORE, .capacity = 1024, .max_readers = 8,
	};

	int rc = 0;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "policy", &policy, err) < 0 ||
	    bl_args_u32(args, "capacity", 2, 1u << 20, &so.capacity, err) < 0 ||
	    bl_stream_policy_arg(policy, &so.policy, err) < 0)
		rc = -EINVAL;
	else if (so.policy != BL_IBUF_SRP)
		rc = bl_err_set(err, -EINVAL, "policy=%s: ibuf_out takes srp only (its readers "
				"take each packet's reference after its slot, which %s ring lets go "
				"while a reader may still be on it)", policy,
				so.policy == BL_IBUF_FRP ? "an overwriting (frp)" :
				"a shared-pointer (mrp)");
	so.name = name;
	so.pkt = env->dbuf;
	so.lcore = env->lcore;
	if (bl_graph_dry(f)) {
		const struct bl_arg *a = bl_args_get(args, "name");

		if (rc == 0)
			rc = bl_stream_check(&so, err);
		if (rc < 0 && a != NULL)   /* said once: its ibuf_in need not say it is missing */
			bl_stream_check_failed(BL_STREAM_LCORE, a->value);
		return rc;
	}
	if (rc < 0)
		return rc;
	return bl_stream_create(&so, &o->p, err);
}

static void
ibuf_out_fini(struct bl_filter *f)
{
	struct ibuf_out *o = bl_filter_priv(f);

	bl_stream_release(o->p);
}

static void
ibuf_out_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct ibuf_out *o = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++)
		o->cls[i] = (uint16_t)bl_filter_in_class(f, i);
	bl_stream_give(o->p->ib, pkts, o->cls, n);
}

/* ibuf_out's counters are its ring's: the producer's page, written by this lcore. */
static const void *
ibuf_out_ring(const struct bl_filter *f)
{
	const struct ibuf_out *o = bl_filter_priv(f);

	return o->p != NULL ? o->p->ib->prod : NULL;
}

static const struct bl_counter_def ibuf_out_counters[] = {
	BL_COUNTER_IN(ibuf_out_ring, struct bl_ibuf_prod, written, "written", "entries stored"),
	BL_COUNTER_IN(ibuf_out_ring, struct bl_ibuf_prod, dropped, "dropped",
		      "packets refused: the ring was full (tail drop)"),
	BL_COUNTER_IN(ibuf_out_ring, struct bl_ibuf_prod, overwritten, "overwritten",
		      "entries overwritten unread (never: SRP)"),
};

BL_FILTER_REGISTER(ibuf_out) = {
	.summary = "hand packets to graphs on other lcores through an IBuf (zero copy)",
	.synopsis = "ibuf_out name=NAME [capacity=N] [policy=srp]",
	.args_doc = "name: the ring's name, which ibuf_in names too (required)\n"
		    "capacity: slots, a power of two (default 1024); reserved in the packet pool\n"
		    "policy: srp (tail drop, the default and the only one: readers take each packet's "
		    "reference after its slot, so the slot keeps its own until every reader passed it)",
	.edges_doc = "none: a sink",
	.state_doc = "shared: one ring per name; build the writing graph before its readers",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct ibuf_out),
	.init = ibuf_out_init,
	.fini = ibuf_out_fini,
	.process = ibuf_out_process,
	BL_FILTER_COUNTERS(ibuf_out_counters),
};

struct ibuf_in {
	struct bl_stream *p;
	struct bl_ibuf_reader *r;
	uint64_t received;    /* (w) this lcore; read live by stats */
};

static int
ibuf_in_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", NULL };
	struct ibuf_in *in = bl_filter_priv(f);
	const char *name = NULL;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0)
		return -EINVAL;
	if (name == NULL)
		return bl_err_set(err, -EINVAL, "name: required (the name an ibuf_out gave its ring)");
	if (bl_graph_dry(f))
		in->p = NULL;
	else
		in->p = bl_stream_find(BL_STREAM_LCORE, name);
	if (bl_graph_dry(f) && bl_stream_check_declared(BL_STREAM_LCORE, name))
		return 0;
	if (in->p == NULL || !in->p->writer)
		return bl_err_set(err, -ENOENT, "name: no ibuf_out name=%s was built before this graph; "
				  "list the writing graph first", name);
	return bl_stream_attach_local(in->p, &in->r, err);
}

static void
ibuf_in_fini(struct bl_filter *f)
{
	struct ibuf_in *in = bl_filter_priv(f);

	if (in->p == NULL)   /* a dry run attached nothing */
		return;
	bl_stream_detach_local(in->p, in->r);
}

static uint16_t
ibuf_in_poll(struct bl_filter *f, uint16_t max)
{
	struct ibuf_in *in = bl_filter_priv(f);
	const struct bl_ibuf_entry *v[BL_BURST_MAX];
	uint16_t want = RTE_MIN(max, bl_filter_emit_room(f));
	uint64_t seq;
	unsigned int n = bl_ibuf_acquire(in->r, v, want, &seq);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = bl_dbuf_mbuf_of(in->p->dbuf, v[i]);
		if (unlikely(m == NULL)) {   /* an entry of another DBuf: cannot happen from ibuf_out */
			bl_counter_add(&f->st.dropped, 1);   /* relaxed: pairs with stats' read */
			continue;
		}
		/* Our own reference (every segment) before the slot is let go: atomic,
		 * the writer's lcore may drop the slot's reference at the same time. */
		rte_pktmbuf_refcnt_update(m, 1);
		bl_filter_emit(f, v[i]->cls, m);
	}
	if (n != 0) {
		bl_ibuf_complete(in->r);
		bl_counter_add(&in->received, n);   /* relaxed: pairs with bl_filter_counters */
	}
	return (uint16_t)n;
}

/* lost is the reader page's: written by this lcore, the ring's reader. */
static const void *
ibuf_in_page(const struct bl_filter *f)
{
	const struct ibuf_in *in = bl_filter_priv(f);

	return in->r != NULL ? in->r->page : NULL;
}

static const struct bl_counter_def ibuf_in_counters[] = {
	BL_COUNTER(struct ibuf_in, received, "received", "entries taken from the ring"),
	BL_COUNTER_IN(ibuf_in_page, struct bl_ibuf_rpage, lost, "lost",
		      "entries skipped: the writer lapped this reader (FRP/MRP)"),
};

BL_FILTER_REGISTER(ibuf_in) = {
	.summary = "receive packets another lcore's graph handed over with ibuf_out",
	.synopsis = "ibuf_in name=NAME",
	.args_doc = "name: the ring's name given to ibuf_out (required)",
	.edges_doc = "the classes the packets had when they entered the ring",
	.state_doc = "shared: one reader of the named ring per instance",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct ibuf_in),
	.init = ibuf_in_init,
	.fini = ibuf_in_fini,
	.poll = ibuf_in_poll,
	BL_FILTER_COUNTERS(ibuf_in_counters),
};
