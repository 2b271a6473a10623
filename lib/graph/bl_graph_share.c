/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix sharing: pipelines that begin alike share the filter instances of
 * their common prefix. `rx port=in | bpf "tcp" | count` and
 * `rx port=in | bpf "tcp" | pcap file=x` become one rx and one bpf feeding
 * both count and pcap. Two nodes are the same instance when they run the same
 * filter with the same arguments (and negation) and are fed by the same
 * (already shared) nodes over the same labels; sources with equal arguments
 * are the same source. Named nodes (--name) are left as the user named them.
 *
 * A graph is built fresh, so every instance is freshly created and sharing
 * never merges state that already diverged. (When configs are reloaded, a
 * stateful filter that kept running must not be merged with a new one: the
 * reload will pass only stateless filters here.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_graph.h"

/* Is every in-edge of i (up to representatives) also an in-edge of j? */
static bool
inputs_within(const struct bl_gdesc *g, const unsigned int *rep, unsigned int i, unsigned int j)
{
	for (unsigned int a = 0; a < g->n_edges; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		bool found = false;

		if (rep[e->to] != i)
			continue;
		for (unsigned int b = 0; b < g->n_edges && !found; b++) {
			const struct bl_gdesc_edge *f = &g->edges[b];
			found = rep[f->to] == j && rep[f->from] == rep[e->from] &&
				bl_label_equal(&e->label, &f->label);
		}
		if (!found)
			return false;
	}
	return true;
}

/* Do i and j have the same set of in-edges, up to representatives? */
static bool
same_inputs(const struct bl_gdesc *g, const unsigned int *rep, unsigned int i, unsigned int j)
{
	return inputs_within(g, rep, i, j) && inputs_within(g, rep, j, i);
}

static bool
same_node(const struct bl_gdesc *g, const unsigned int *rep, unsigned int i, unsigned int j)
{
	const struct bl_gdesc_node *a = &g->nodes[i], *b = &g->nodes[j];

	return !a->named && !b->named && a->negate == b->negate &&
	       strcmp(a->filter, b->filter) == 0 && bl_args_equal(&a->args, &b->args) &&
	       same_inputs(g, rep, i, j);
}

/* Rebuild g with one node per representative and no duplicate edges. */
static int
rebuild(struct bl_gdesc *g, const unsigned int *rep)
{
	struct bl_gdesc out;
	int *idx = malloc(g->n_nodes * sizeof(*idx));
	int rc = 0;

	if (idx == NULL)
		return -ENOMEM;
	bl_gdesc_init(&out);
	for (unsigned int i = 0; i < g->n_nodes && rc == 0; i++) {
		const struct bl_gdesc_node *n = &g->nodes[i];
		idx[i] = -1;
		if (rep[i] != i)
			continue;
		int k = bl_gdesc_add_node(&out, n->name, n->filter);
		if (k < 0) {
			rc = k;
			break;
		}
		idx[i] = k;
		out.nodes[k].negate = n->negate;
		out.nodes[k].named = n->named;
		out.nodes[k].col = n->col;
		for (unsigned int a = 0; a < n->args.n && rc == 0; a++)
			rc = bl_args_add(&out.nodes[k].args, n->args.v[a].key, n->args.v[a].value,
					 n->args.v[a].col);
	}
	for (unsigned int a = 0; a < g->n_edges && rc == 0; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		unsigned int from = (unsigned int)idx[rep[e->from]], to = (unsigned int)idx[rep[e->to]];
		bool dup = false;

		for (unsigned int b = 0; b < out.n_edges && !dup; b++)
			dup = out.edges[b].from == from && out.edges[b].to == to &&
			      bl_label_equal(&out.edges[b].label, &e->label);
		if (!dup) {
			int k = bl_gdesc_add_edge(&out, from, to, &e->label, e->col);
			rc = k < 0 ? k : 0;
		}
	}
	free(idx);
	if (rc != 0) {
		bl_gdesc_free(&out);
		return rc;
	}
	bl_gdesc_free(g);
	*g = out;
	return 0;
}

int
bl_graph_share_prefixes(struct bl_gdesc *g)
{
	unsigned int *rep = malloc((g->n_nodes + 1) * sizeof(*rep));
	unsigned int merged = 0;
	bool changed = true;
	int rc;

	if (rep == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < g->n_nodes; i++)
		rep[i] = i;
	/* Merging sources can make their successors equal: repeat to a fixed point. */
	while (changed) {
		changed = false;
		for (unsigned int j = 0; j < g->n_nodes; j++) {
			if (rep[j] != j)
				continue;
			for (unsigned int i = 0; i < j; i++) {
				if (rep[i] != i || !same_node(g, rep, i, j))
					continue;
				for (unsigned int k = 0; k < g->n_nodes; k++)
					if (rep[k] == j)
						rep[k] = i;
				merged++;
				changed = true;
				break;
			}
		}
	}
	rc = merged != 0 ? rebuild(g, rep) : 0;
	free(rep);
	return rc < 0 ? rc : (int)merged;
}
