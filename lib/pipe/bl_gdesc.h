/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_gdesc — a filter graph as a description: nodes (filter name, arguments)
 * and labelled edges. It is what the pipeline language and the JSON graph
 * form both compile to, and what the graph builder instantiates. It needs
 * no DPDK, holds no runtime state, and owns all its strings (heap).
 *
 * Combination operators lower to plain nodes and edges:
 *   a | b         edge a -> b (label: every class but 0)
 *   a |80 b       edge a -> b carrying class 80 only
 *   a + b         both branches get the input; both feed what follows
 *   a ++ b        like +, through a node of the built-in filter "union",
 *                 which passes each packet once however many branches passed it
 *   a +* b        like +, through a node of the built-in filter "intersect",
 *                 which passes a packet only when every in-edge passed it
 *                 (a branch with several exits is first joined by a "union")
 *   !a            node a with `negate` set: a packet a classes 0 passes
 *                 (class 1), any other class becomes 0 (one filter only)
 *   x --name=N    the node named N; the same name twice is the same node
 *                 (that is how a pipeline writes a cycle)
 */
#ifndef BL_GDESC_H
#define BL_GDESC_H

#include <stdbool.h>
#include <stdint.h>

#define BL_GDESC_NAME_MAX   32     /* node and filter names, with the NUL */
#define BL_LABEL_MAX_RANGES 8
/*
 * The most a description may hold as written, before prefix sharing merges
 * the common beginnings of its pipelines (the graph builder then takes at
 * most 64 filters). The parsers count as they append and refuse the node or
 * edge that passes a limit, so no text, however written, makes more.
 */
#define BL_GDESC_MAX_NODES  1024
#define BL_GDESC_MAX_EDGES  4096
#define BL_GDESC_MAX_ARGS   64     /* arguments of one node (filters take a few) */

/* One argument: `key=value`, or a positional one (`"tcp port 80"`: key NULL). */
struct bl_arg {
	char *key;      /* NULL for a positional argument */
	char *value;    /* never NULL */
	unsigned int col;   /* 1-based column in the pipeline text (0: from JSON) */
};

struct bl_args {
	unsigned int n;
	struct bl_arg *v;
};

/* One end of a class range: a number, or a name the upstream filter defines. */
struct bl_class_ref {
	uint32_t num;                       /* valid when name[0] == '\0' */
	char name[BL_GDESC_NAME_MAX];       /* e.g. "ssh"; resolved by the builder */
};

struct bl_label_range {
	struct bl_class_ref lo, hi;         /* `80` is lo == hi; `22:23` a range */
};

/*
 * Which classes an edge carries.
 *  plain `|`:      kind DEFAULT  (every class but 0)
 *  `|all`:         kind ALL      (every class, 0 included: drops can be routed)
 *  `|80`, `|22:23`, `|ssh:telnet`: kind SET, with n ranges (`|80,443` too)
 *  `|!80`:         kind SET with invert: every class but 0 and those listed
 */
enum bl_label_kind { BL_LABEL_DEFAULT, BL_LABEL_ALL, BL_LABEL_SET };

struct bl_label {
	enum bl_label_kind kind;
	bool invert;
	unsigned int n;
	struct bl_label_range r[BL_LABEL_MAX_RANGES];
};

struct bl_gdesc_node {
	char name[BL_GDESC_NAME_MAX];       /* unique in the graph ("bpf", "bpf2", or --name) */
	char filter[BL_GDESC_NAME_MAX];     /* registered filter name, e.g. "bpf", "union" */
	struct bl_args args;                /* in the order written; --name is not an arg */
	bool negate;                        /* written `!filter` */
	bool named;                         /* the name came from --name= (or JSON) */
	unsigned int col;                   /* column of the filter name (0: from JSON) */
};

struct bl_gdesc_edge {
	unsigned int from, to;              /* node indices */
	struct bl_label label;
	unsigned int col;                   /* column of the `|` (0: from JSON) */
};

struct bl_gdesc_ix;

struct bl_gdesc {
	unsigned int n_nodes, n_edges;
	struct bl_gdesc_node *nodes;        /* heap arrays, grown as needed */
	struct bl_gdesc_edge *edges;
	unsigned int cap_nodes, cap_edges;
	struct bl_gdesc_ix *ix;             /* private (bl_gdesc.c): node names hashed */
};

void bl_gdesc_init(struct bl_gdesc *g);
void bl_gdesc_free(struct bl_gdesc *g);

/* Does `a` equal `b`: same nodes (name, filter, args, negate) and edges, in any order. */
bool bl_gdesc_equal(const struct bl_gdesc *a, const struct bl_gdesc *b);

/* Index of the (first) node named `node_name`, or -ENOENT. Constant time. */
int bl_gdesc_find(const struct bl_gdesc *g, const char *node_name);

/* Look up an argument by key; NULL when absent. */
const struct bl_arg *bl_args_get(const struct bl_args *args, const char *key);

/*
 * Building a description (the pipeline parser and the JSON reader use these;
 * so may tests and tools). Indices stay valid as the arrays grow; pointers
 * into g->nodes and g->edges do not.
 */

/* Append a node (no arguments); its index, or -EINVAL (name or filter too long),
 * -E2BIG (g holds BL_GDESC_MAX_NODES already) / -ENOMEM. Node names must not
 * be changed once added (the index hashes them). */
int bl_gdesc_add_node(struct bl_gdesc *g, const char *name, const char *filter);

/* Append an edge; returns its index or -EINVAL (bad node index), -E2BIG (g holds
 * BL_GDESC_MAX_EDGES already) / -ENOMEM. */
int bl_gdesc_add_edge(struct bl_gdesc *g, unsigned int from, unsigned int to,
		      const struct bl_label *label, unsigned int col);

/* Append an argument (key NULL: positional); copies the strings. 0, -E2BIG (args holds
 * BL_GDESC_MAX_ARGS already) or -ENOMEM. */
int bl_args_add(struct bl_args *args, const char *key, const char *value, unsigned int col);
void bl_args_free(struct bl_args *args);

/* Same arguments: positional ones in the same order, keyed ones with the same values. */
bool bl_args_equal(const struct bl_args *a, const struct bl_args *b);
bool bl_label_equal(const struct bl_label *a, const struct bl_label *b);

/* Drop nodes and edges beyond the first n_nodes / n_edges (undo an append). */
void bl_gdesc_truncate(struct bl_gdesc *g, unsigned int n_nodes, unsigned int n_edges);

/*
 * The name an unnamed node of `filter` takes: the first of "f", "f2", "f3", ...
 * that g does not hold (the filter cut short when the number needs the room).
 * Amortised constant time: g remembers, per filter, the number it got to.
 */
void bl_gdesc_auto_name(struct bl_gdesc *g, const char *filter, char out[BL_GDESC_NAME_MAX]);

/* Name the nodes that were not given a name again, in node order, as if the graph had been
 * written as it is: after prefix sharing the duplicates a pipeline's text numbered are
 * gone ("dport", "dport3": "dport2" was merged away), and adding a pipeline that shares a
 * prefix renamed (and reset, on a reload) an unrelated filter further on. Given names
 * (--name, JSON) stay and are never taken. 0 or -ENOMEM (g unchanged). */
int bl_gdesc_renumber(struct bl_gdesc *g);

#endif /* BL_GDESC_H */
