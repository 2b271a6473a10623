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
 *
 * How: the classes of equal nodes grow to a fixed point (they start as
 * single nodes; a node joins an earlier node's class when filter, arguments
 * and the classes its in-edges come from, with their labels, are equal). Each
 * round hashes every node's key once and compares only nodes whose keys
 * collide, so a round costs about (nodes + edges) log edges, and rounds stop
 * when one merges nothing; in pipeline order most merges happen in the first.
 * The result is the least fixed point, the same whatever the order of merges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_graph.h"

/* One in-edge of a node as its key holds it: the class it comes from, its label. */
struct in_key {
	unsigned int from;
	const struct bl_label *label;
};

/* One edge of the rebuilt graph, to find the duplicates. */
struct edge_key {
	unsigned int from, to, idx;
	const struct bl_label *label;
};

struct share {
	const struct bl_gdesc *g;
	unsigned int *parent;        /* union-find: the lowest index of the class is its root */
	uint32_t *fixed;             /* hash of filter, negate and arguments */
	unsigned int *in_off, *in_edge;   /* in-edges per node (in_off[i]..in_off[i + 1]) */
	struct in_key *keys;         /* this round: node i's key at key_off[i], key_n[i] long */
	unsigned int *key_off, *key_n;
	uint32_t *hash;              /* this round: node i's full hash */
	unsigned int *table, mask;   /* node index + 1 by hash; 0: empty */
};

static uint32_t
mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

static uint32_t
hash_str(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;   /* FNV-1a steps */
	return mix(h, 0x5bd1e995u);
}

static int
ref_cmp(const struct bl_class_ref *a, const struct bl_class_ref *b)
{
	if ((a->name[0] != '\0') != (b->name[0] != '\0'))
		return a->name[0] != '\0' ? 1 : -1;
	if (a->name[0] != '\0')
		return strcmp(a->name, b->name);
	return a->num < b->num ? -1 : a->num > b->num;
}

/* A total order that agrees with bl_label_equal. */
static int
label_cmp(const struct bl_label *a, const struct bl_label *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind != BL_LABEL_SET)
		return 0;
	if (a->invert != b->invert)
		return a->invert ? 1 : -1;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (unsigned int i = 0; i < a->n; i++)
		if ((c = ref_cmp(&a->r[i].lo, &b->r[i].lo)) != 0 ||
		    (c = ref_cmp(&a->r[i].hi, &b->r[i].hi)) != 0)
			return c;
	return 0;
}

static uint32_t
ref_hash(uint32_t h, const struct bl_class_ref *r)
{
	return r->name[0] != '\0' ? hash_str(h, r->name) : mix(h, r->num);
}

static uint32_t
label_hash(const struct bl_label *l)
{
	uint32_t h = mix(0, (uint32_t)l->kind);

	if (l->kind != BL_LABEL_SET)
		return h;
	h = mix(mix(h, l->invert), l->n);
	for (unsigned int i = 0; i < l->n && i < BL_LABEL_MAX_RANGES; i++)
		h = ref_hash(ref_hash(h, &l->r[i].lo), &l->r[i].hi);
	return h;
}

/* Filter, negation, positional arguments in order, keyed ones as a set. */
static uint32_t
fixed_hash(const struct bl_gdesc_node *n)
{
	uint32_t h = mix(hash_str(0, n->filter), n->negate), keyed = 0;

	for (unsigned int a = 0; a < n->args.n; a++) {
		const struct bl_arg *arg = &n->args.v[a];
		if (arg->key == NULL)
			h = hash_str(h, arg->value);
		else
			keyed += hash_str(hash_str(1, arg->key), arg->value);
	}
	return mix(h, keyed);
}

static unsigned int
find(unsigned int *parent, unsigned int i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static int
in_key_cmp(const void *pa, const void *pb)
{
	const struct in_key *a = pa, *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	return label_cmp(a->label, b->label);
}

/* Node i's key (sorted, each in-edge once) and hash, with the classes as they are now. */
static void
make_key(struct share *s, unsigned int i, unsigned int at)
{
	struct in_key *k = &s->keys[at];
	unsigned int n = 0;
	uint32_t h = s->fixed[i];

	for (unsigned int a = s->in_off[i]; a < s->in_off[i + 1]; a++) {
		const struct bl_gdesc_edge *e = &s->g->edges[s->in_edge[a]];
		k[n++] = (struct in_key){ .from = find(s->parent, e->from), .label = &e->label };
	}
	qsort(k, n, sizeof(*k), in_key_cmp);
	unsigned int m = 0;
	for (unsigned int a = 0; a < n; a++) {
		if (m > 0 && in_key_cmp(&k[m - 1], &k[a]) == 0)
			continue;
		k[m++] = k[a];
		h = mix(mix(h, k[a].from), label_hash(k[a].label));
	}
	s->key_off[i] = at;
	s->key_n[i] = m;
	s->hash[i] = h;
}

static bool
same_node(const struct share *s, unsigned int i, unsigned int j)
{
	const struct bl_gdesc_node *a = &s->g->nodes[i], *b = &s->g->nodes[j];

	if (s->hash[i] != s->hash[j] || s->key_n[i] != s->key_n[j] || a->negate != b->negate ||
	    strcmp(a->filter, b->filter) != 0 || !bl_args_equal(&a->args, &b->args))
		return false;
	for (unsigned int k = 0; k < s->key_n[i]; k++)
		if (in_key_cmp(&s->keys[s->key_off[i] + k], &s->keys[s->key_off[j] + k]) != 0)
			return false;
	return true;
}

/* One round over every class root; how many nodes it merged. */
static unsigned int
round_(struct share *s)
{
	const struct bl_gdesc *g = s->g;
	unsigned int merged = 0;

	memset(s->table, 0, (s->mask + 1) * sizeof(*s->table));
	for (unsigned int j = 0; j < g->n_nodes; j++) {
		unsigned int t;

		if (s->parent[j] != j || g->nodes[j].named)
			continue;
		make_key(s, j, s->in_off[j]);
		for (t = s->hash[j] & s->mask; s->table[t] != 0; t = (t + 1) & s->mask) {
			unsigned int i = s->table[t] - 1;
			if (s->parent[i] == i && same_node(s, i, j)) {
				s->parent[j] = i;      /* i < j: the root stays the lowest index */
				merged++;
				break;
			}
		}
		if (s->table[t] == 0)
			s->table[t] = j + 1;
	}
	return merged;
}

static int
edge_key_cmp(const void *pa, const void *pb)
{
	const struct edge_key *a = pa, *b = pb;
	int c;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	if ((c = label_cmp(a->label, b->label)) != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Rebuild g with one node per class and no duplicate edges (the first kept, in order). */
static int
rebuild(struct bl_gdesc *g, unsigned int *parent)
{
	struct bl_gdesc out;
	int *idx = malloc(g->n_nodes * sizeof(*idx));
	struct edge_key *ek = malloc((g->n_edges + 1) * sizeof(*ek));
	bool *dup = calloc(g->n_edges + 1, sizeof(*dup));
	int rc = 0;

	if (idx == NULL || ek == NULL || dup == NULL) {
		free(idx);
		free(ek);
		free(dup);
		return -ENOMEM;
	}
	bl_gdesc_init(&out);
	for (unsigned int i = 0; i < g->n_nodes && rc == 0; i++) {
		const struct bl_gdesc_node *n = &g->nodes[i];
		idx[i] = -1;
		if (find(parent, i) != i)
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
	for (unsigned int a = 0; a < g->n_edges; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		ek[a] = (struct edge_key){ .from = find(parent, e->from), .to = find(parent, e->to),
					   .idx = a, .label = &e->label };
	}
	qsort(ek, g->n_edges, sizeof(*ek), edge_key_cmp);
	for (unsigned int a = 1; a < g->n_edges; a++)
		dup[ek[a].idx] = ek[a].from == ek[a - 1].from && ek[a].to == ek[a - 1].to &&
				 label_cmp(ek[a].label, ek[a - 1].label) == 0;
	for (unsigned int a = 0; a < g->n_edges && rc == 0; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		if (dup[a])
			continue;
		int k = bl_gdesc_add_edge(&out, (unsigned int)idx[find(parent, e->from)],
					  (unsigned int)idx[find(parent, e->to)], &e->label, e->col);
		rc = k < 0 ? k : 0;
	}
	free(idx);
	free(ek);
	free(dup);
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
	unsigned int n = g->n_nodes, cap = 16, merged = 0, m;
	struct share s = { .g = g };
	int rc = -ENOMEM;

	while (cap < 2 * n)
		cap *= 2;
	s.parent = malloc((n + 1) * sizeof(*s.parent));
	s.fixed = malloc((n + 1) * sizeof(*s.fixed));
	s.hash = malloc((n + 1) * sizeof(*s.hash));
	s.key_off = malloc((n + 1) * sizeof(*s.key_off));
	s.key_n = malloc((n + 1) * sizeof(*s.key_n));
	s.in_off = calloc(n + 2, sizeof(*s.in_off));
	s.in_edge = malloc((g->n_edges + 1) * sizeof(*s.in_edge));
	s.keys = malloc((g->n_edges + 1) * sizeof(*s.keys));
	s.table = malloc(cap * sizeof(*s.table));
	s.mask = cap - 1;
	if (s.parent == NULL || s.fixed == NULL || s.hash == NULL || s.key_off == NULL ||
	    s.key_n == NULL || s.in_off == NULL || s.in_edge == NULL || s.keys == NULL ||
	    s.table == NULL)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		s.parent[i] = i;
		s.fixed[i] = fixed_hash(&g->nodes[i]);
	}
	/* in-edges grouped by node: count, prefix sums, place */
	for (unsigned int a = 0; a < g->n_edges; a++)
		s.in_off[g->edges[a].to + 2]++;
	for (unsigned int i = 0; i < n; i++)
		s.in_off[i + 2] += s.in_off[i + 1];
	for (unsigned int a = 0; a < g->n_edges; a++)
		s.in_edge[s.in_off[g->edges[a].to + 1]++] = a;
	/* Merging sources can make their successors equal: repeat to a fixed point. */
	while ((m = round_(&s)) != 0)
		merged += m;
	rc = merged != 0 ? rebuild(g, s.parent) : 0;
out:
	free(s.parent);
	free(s.fixed);
	free(s.hash);
	free(s.key_off);
	free(s.key_n);
	free(s.in_off);
	free(s.in_edge);
	free(s.keys);
	free(s.table);
	return rc < 0 ? rc : (int)merged;
}
