/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_filter — what a filter is (control side): its registration, its
 * documentation, its life cycle. The burst-time helpers a filter's process
 * function uses are in bl_filter_worker.h.
 *
 * A filter is one .c file in filters/ ending in BL_FILTER_REGISTER(name).
 * Per packet it decides a class (0 = drop) and emits the packet with it, or
 * consumes the packet (tx sends it; the filter then owns it). The runtime
 * routes emitted packets along the out-edges whose labels hold their class,
 * and counts, per filter instance: packets in, out, dropped, unrouted (a
 * class no edge carries), per-class counts, and cycles spent.
 */
#ifndef BL_FILTER_H
#define BL_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "bl_err.h"
#include "bl_gdesc.h"

struct rte_mbuf;
struct bl_filter;
struct bl_graph_ctx;

#define BL_FILTER_MAX_EDGES 8      /* named out-edges: classes 1..8 */

/* A class a filter gives a name, for edge labels (`dport |ssh:telnet log`). */
struct bl_class_name {
	const char *name;
	uint32_t cls;
};

/*
 * The counters a filter keeps, declared once in a table (BL_FILTER_COUNTERS) instead
 * of written out by hand: their names in stats, where each lives, what each means
 * (docs/filters.md is generated from the table), and, for the few stats sum across
 * filters, a role (so stats never find a filter by its name). A counter lives in the
 * filter's private state, or in a structure a `base` function of the filter finds
 * (a shared ring's producer page, a stream: BL_COUNTER_IN). Its one writer (the lcore
 * running the filter, or the ring's reader for a reader's page) adds with
 * bl_counter_add (bl_atomic.h); stats read them with bl_filter_counters (relaxed
 * loads that pair with those relaxed stores), live, from another thread.
 */
enum bl_counter_role {
	BL_COUNTER_PLAIN = 0,
	BL_COUNTER_TX,             /* packets sent on the filter's (port, queue) */
	BL_COUNTER_TX_DROPPED,     /* packets the tx ring refused there */
	BL_COUNTER_PORT_ID,        /* a value, not a count: the ethdev port it sends on */
	BL_COUNTER_QUEUE,          /* a value: the tx queue it sends on */
};

struct bl_counter_def {
	const char *name;          /* in stats: [a-z0-9_]+ */
	const char *doc;           /* what it counts, for docs/filters.md */
	/* NULL: the field is in the filter's private state. Else the structure it is in,
	 * found from the filter (any thread, after init); NULL from it reads as 0. */
	const void *(*base)(const struct bl_filter *f);
	uint32_t offset;           /* of the field in the private state (or in *base) */
	uint8_t size;              /* of the field: 2, 4 or 8 bytes */
	uint8_t role;              /* enum bl_counter_role */
	uint8_t bits;              /* 1: the field is a mask; the value is how many bits are set */
	uint8_t gauge;             /* 1: a value (a level, a setting), not a count: stats show
	                            * it as it is, never as a rate; Prometheus types it gauge */
};

/* One entry: `BL_COUNTER(struct tx, sent, "tx", "packets sent")`. */
#define BL_COUNTER_AS(type, field, nm, dc, rl)                                      \
	{ .name = (nm), .doc = (dc), .offset = (uint32_t)offsetof(type, field),      \
	  .size = (uint8_t)sizeof(((type *)0)->field), .role = (rl) }
#define BL_COUNTER(type, field, nm, dc) BL_COUNTER_AS(type, field, nm, dc, BL_COUNTER_PLAIN)
/* A value, not a count: `BL_GAUGE(struct flow, fst.count, "active", "flows in the table now")`
 * (docs/filters.md adds "(a value)"). */
#define BL_GAUGE_AS(type, field, nm, dc, rl)                                        \
	{ .name = (nm), .doc = (dc), .offset = (uint32_t)offsetof(type, field),      \
	  .size = (uint8_t)sizeof(((type *)0)->field), .role = (rl), .gauge = 1 }
#define BL_GAUGE(type, field, nm, dc) BL_GAUGE_AS(type, field, nm, dc, BL_COUNTER_PLAIN)
/* A counter kept elsewhere: `BL_COUNTER_IN(export_ring, struct bl_ibuf_prod, written,
 * "written", "entries stored")`, export_ring(f) returning f's ring's producer page. */
#define BL_COUNTER_IN(fn, type, field, nm, dc)                                      \
	{ .name = (nm), .doc = (dc), .base = (fn), .offset = (uint32_t)offsetof(type, field), \
	  .size = (uint8_t)sizeof(((type *)0)->field) }
/* ... whose value is the number of bits set in a 64-bit mask there (readers attached): a
 * value, not a count. */
#define BL_COUNTER_BITS_IN(fn, type, field, nm, dc)                                 \
	{ .name = (nm), .doc = (dc), .base = (fn), .offset = (uint32_t)offsetof(type, field), \
	  .size = (uint8_t)sizeof(((type *)0)->field), .bits = 1, .gauge = 1 }

/* In a registration: `BL_FILTER_COUNTERS(tx_counters),` (a static const array). */
#define BL_FILTER_COUNTERS(tab) \
	.counter_defs = (tab), .n_counter_defs = (unsigned int)(sizeof(tab) / sizeof((tab)[0]))

enum bl_filter_flags {
	BL_FILTER_F_SOURCE    = 1u << 0,  /* has .poll: produces packets (rx, gen) */
	BL_FILTER_F_SINK      = 1u << 1,  /* consumes what it gets, no out-edges (tx, drop) */
	BL_FILTER_F_STATELESS = 1u << 2,  /* same args, same verdicts: instances may be shared */
	BL_FILTER_F_REWRITES  = 1u << 3,  /* writes packet bytes: gets a private copy when shared */
	BL_FILTER_F_CLASS_FIELD = 1u << 4, /* reads the class from the mbuf (bl_pkt_class) */
	/* May hand a packet on in a later pass than the one it came in (user: it holds
	 * packets for a client). Refused inside a join's branch (bl_graph_build). Implied
	 * by a .poll beside a .process (bl_filter_register): such a filter emits at poll
	 * what it was given before; a filter with process alone that keeps packets to
	 * emit them at a later call sets it itself. */
	BL_FILTER_F_HOLDS     = 1u << 5,
	/* A join (union, intersect): of the references of a packet that reach it in
	 * one pass, it keeps one. */
	BL_FILTER_F_JOIN      = 1u << 6,
	/* Its state is this replica's share of a split by the graph's number of replicas,
	 * fixed at init (rx: the queues q % n == i; pcap: the file PATH-rI). Adopted on a
	 * reload only by the same replica of as many (bl_graph.c match_key): else two
	 * lcores would poll one rx queue, or none a queue. */
	BL_FILTER_F_SPLIT     = 1u << 7,
	/* Hands packets on with the class they came with (count, union, flow: its edges are
	 * "the upstream classes"): a label's class name on its out-edge is looked up in
	 * the filters that feed it (bl_graph.c resolve_ref). */
	BL_FILTER_F_PASSES_CLASS = 1u << 8,
	/* Its .tick has work only in a graph with a cycle (a join lets go of the references
	 * it holds there): a graph without one never calls it, so it pays nothing a pass. */
	BL_FILTER_F_TICK_CYCLIC = 1u << 9,
};

struct bl_filter_ops {
	const char *name;
	/* The doc block (docs/filters.md is generated from these; all required). */
	const char *summary;      /* one line */
	const char *synopsis;     /* "bpf EXPR" */
	const char *args_doc;     /* one "key: meaning" per line */
	const char *edges_doc;    /* what each out-edge / class means */
	const char *counters_doc; /* more about the counters than their table says (optional with
	                           * a table), or "none beyond the common ones" */
	const char *state_doc;    /* "stateless" / "per-replica: ..." / "shared: ..." */

	uint32_t flags;
	size_t priv_size;
	/* Parse args into the private state; 0 or -errno with err naming the argument. */
	int (*init)(struct bl_filter *f, const struct bl_args *args, struct bl_err *err);
	/* Undo init. Called for every filter whose init succeeded. */
	void (*fini)(struct bl_filter *f);
	/* Activation (sinks first) and deactivation (sources first); optional. */
	int (*start)(struct bl_filter *f, struct bl_err *err);
	void (*stop)(struct bl_filter *f);
	/* A running instance is kept into a new graph (a reload or an edit; start is not
	 * called again): check again what start decided from the rest of the graph, and
	 * refuse the new graph (-errno, err) or change the instance so that it suits both
	 * graphs, since the running one still runs it until the swap. Optional. */
	int (*adopt)(struct bl_filter *f, struct bl_err *err);
	/* The build that adopted this running instance is final (bl_graph_commit): apply
	 * what adopt decided for both graphs but must not outlive a rolled-back build.
	 * Cannot fail; optional. Called before the new graph runs. */
	void (*adopt_commit)(struct bl_filter *f);
	/* The build is final (bl_graph_commit): make what must not outlive a
	 * rolled-back build visible now, e.g. a file's old contents replaced.
	 * Cannot fail; optional. A graph freed uncommitted was rolled back. */
	void (*commit)(struct bl_filter *f);
	/* The workers stopped and the graph runs no more (the appliance is stopping):
	 * finish what is in flight (records still in a table, messages not yet sent)
	 * before the final report and before clients are detached. Main lcore;
	 * optional; stop still follows. */
	void (*drain)(struct bl_filter *f);
	/* A burst in: emit or consume every packet (see bl_filter_worker.h). */
	void (*process)(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n);
	/* Sources: produce up to `max` packets by emitting them; returns how many. */
	uint16_t (*poll)(struct bl_filter *f, uint16_t max);
	/* Once a pass on its worker, whether packets came or not, before the sources
	 * poll: timed work that must not wait for the next packet (flow's idle expiry
	 * once the traffic stops). Emits nothing; keep it to a clock read when nothing
	 * is due. Optional. */
	void (*tick)(struct bl_filter *f);
	/* The filter's own counters, declared (BL_FILTER_COUNTERS). */
	const struct bl_counter_def *counter_defs;
	unsigned int n_counter_defs;
	/* Counters kept elsewhere (a shared ring's), by hand: name/value pairs after the
	 * table's; returns how many. Transitional: prefer the table. */
	unsigned int (*counters)(const struct bl_filter *f, const char **names, uint64_t *values,
				 unsigned int max);

	const char *edges[BL_FILTER_MAX_EDGES];   /* edge i is class i + 1 */
	const struct bl_class_name *classes;      /* more class names; {NULL, 0}-terminated */

	const struct bl_filter_ops *next;         /* registry link, set at registration */
};

void bl_filter_register(struct bl_filter_ops *ops);

/* Finite sources (gen count=N, tcpgen count=N) that have not sent all yet: each says so
 * from start (on 1) until done or stopped (on 0), through its own flag *pending; only a
 * change counts (the worker or the main lcore). --exit-idle holds a stop while any is
 * pending (a worker starved for a while is not a source run dry). */
void bl_filter_finite_pending_set(int *pending, int on);
unsigned int bl_filter_finite_pending(void);

/*
 * Register a filter: `BL_FILTER_REGISTER(sample) = { .summary = ..., ... };`
 * Constructors register at load time; the filter library is linked whole
 * (meson link_whole) so no filter silently drops out of a static archive.
 */
#define BL_FILTER_REGISTER(nm)                                                   \
	static struct bl_filter_ops bl_filter_ops_##nm;                          \
	static void __attribute__((constructor)) bl_filter_ctor_##nm(void)       \
	{                                                                        \
		bl_filter_ops_##nm.name = #nm;                                   \
		bl_filter_register(&bl_filter_ops_##nm);                         \
	}                                                                        \
	static struct bl_filter_ops bl_filter_ops_##nm

const struct bl_filter_ops *bl_filter_lookup(const char *name);

/* Any thread: a filter instance's own counters, its table's then its callback's, as
 * name/value pairs (at most max); returns how many. gauge (may be NULL): gauge[i] is 1
 * for a value that is not a count (bl_counter_def.gauge; a callback's are counts). */
unsigned int bl_filter_counters(const struct bl_filter *f, const char **names, uint64_t *values,
				uint8_t *gauge, unsigned int max);
/* Any thread: the value of f's counter with this role; 0, or -ENOENT if it has none. */
int bl_filter_counter_role(const struct bl_filter *f, enum bl_counter_role role, uint64_t *value);
/* Whether a table is well formed for a private state of priv_size bytes (tests, docs):
 * 0, or -EINVAL naming the entry in *bad. */
int bl_filter_counters_check(const struct bl_filter_ops *ops, const char **bad);
/* The registered filters, in name order; returns how many (at most max). */
unsigned int bl_filter_list(const struct bl_filter_ops **out, unsigned int max);
/* NULL-terminated array of filter names (static storage, rebuilt on call). */
const char *const *bl_filter_names(void);

/* The class a label name means for a filter (edge names, then .classes); -1 if none. */
int64_t bl_filter_class_by_name(const struct bl_filter_ops *ops, const char *name);
/* The label names a filter gives its classes (edge names, then .classes), at most max-1
 * of them into names, NULL-terminated; returns how many. */
unsigned int bl_filter_class_names(const struct bl_filter_ops *ops, const char **names,
				   unsigned int max);

/* --- typed argument readers for init: 0, or -EINVAL with err naming the key --- */
int bl_args_u32(const struct bl_args *a, const char *key, uint32_t min, uint32_t max,
		uint32_t *out, struct bl_err *err);        /* absent: *out unchanged */
int bl_args_u64(const struct bl_args *a, const char *key, uint64_t min, uint64_t max,
		uint64_t *out, struct bl_err *err);
int bl_args_str(const struct bl_args *a, const char *key, const char **out,
		struct bl_err *err);                       /* absent: *out unchanged */
int bl_args_bool(const struct bl_args *a, const char *key, int *out, struct bl_err *err);
/* The positional argument (at most one allowed); NULL when absent. */
int bl_args_positional(const struct bl_args *a, const char **out, struct bl_err *err);
/* Reject keys not in `known` (NULL-terminated), with a suggestion. */
int bl_args_only(const struct bl_args *a, const char *const *known, bool positional_ok,
		 struct bl_err *err);

#endif /* BL_FILTER_H */
