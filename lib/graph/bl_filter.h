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

enum bl_filter_flags {
	BL_FILTER_F_SOURCE    = 1u << 0,  /* has .poll: produces packets (rx, gen) */
	BL_FILTER_F_SINK      = 1u << 1,  /* consumes what it gets, no out-edges (tx, drop) */
	BL_FILTER_F_STATELESS = 1u << 2,  /* same args, same verdicts: instances may be shared */
	BL_FILTER_F_REWRITES  = 1u << 3,  /* writes packet bytes: gets a private copy when shared */
	BL_FILTER_F_CLASS_FIELD = 1u << 4, /* reads the class from the mbuf (bl_pkt_class) */
};

struct bl_filter_ops {
	const char *name;
	/* The doc block (docs/filters.md is generated from these; all required). */
	const char *summary;      /* one line */
	const char *synopsis;     /* "bpf EXPR" */
	const char *args_doc;     /* one "key: meaning" per line */
	const char *edges_doc;    /* what each out-edge / class means */
	const char *counters_doc; /* the filter's own counters, or "none beyond the common ones" */
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
	/* The build is final (bl_graph_commit): make what must not outlive a
	 * rolled-back build visible now, e.g. a file's old contents replaced.
	 * Cannot fail; optional. A graph freed uncommitted was rolled back. */
	void (*commit)(struct bl_filter *f);
	/* A burst in: emit or consume every packet (see bl_filter_worker.h). */
	void (*process)(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n);
	/* Sources: produce up to `max` packets by emitting them; returns how many. */
	uint16_t (*poll)(struct bl_filter *f, uint16_t max);
	/* The filter's own counters, for stats: name/value pairs; returns how many. */
	unsigned int (*counters)(const struct bl_filter *f, const char **names, uint64_t *values,
				 unsigned int max);

	const char *edges[BL_FILTER_MAX_EDGES];   /* edge i is class i + 1 */
	const struct bl_class_name *classes;      /* more class names; {NULL, 0}-terminated */

	const struct bl_filter_ops *next;         /* registry link, set at registration */
};

void bl_filter_register(struct bl_filter_ops *ops);

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
/* The registered filters, in name order; returns how many (at most max). */
unsigned int bl_filter_list(const struct bl_filter_ops **out, unsigned int max);
/* NULL-terminated array of filter names (static storage, rebuilt on call). */
const char *const *bl_filter_names(void);

/* The class a label name means for a filter (edge names, then .classes); -1 if none. */
int64_t bl_filter_class_by_name(const struct bl_filter_ops *ops, const char *name);

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
