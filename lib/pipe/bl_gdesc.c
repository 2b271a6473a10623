/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_gdesc — graph descriptions: storage, comparison, undo (bl_gdesc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_gdesc.h"

/*
 * The name index: node names hashed (open addressing, linear probing) so that
 * finding a node, and so parsing a long pipeline, costs no scan of the nodes;
 * and, per filter, the number auto-naming got to, so that naming the n-th
 * unnamed "bpf" tries one name, not n. Names are only appended, except by
 * bl_gdesc_truncate, which rebuilds the index and forgets the numbers.
 */
struct hint {
	char filter[BL_GDESC_NAME_MAX];    /* "": an empty slot */
	unsigned int next;                 /* every number below it is taken (1: the bare name) */
};

struct bl_gdesc_ix {
	unsigned int cap;                  /* slots: a power of two, over twice the names */
	unsigned int *slot;                /* node index + 1; 0: empty */
	unsigned int hcap, hn;             /* hints: a power of two, over twice hn */
	struct hint *hint;
};

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;      /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

/* Index node i unless an earlier node has its name (the first one is found). */
static void
ix_put(struct bl_gdesc *g, unsigned int i)
{
	struct bl_gdesc_ix *ix = g->ix;
	unsigned int m = ix->cap - 1, s = hash_str(g->nodes[i].name) & m;

	for (; ix->slot[s] != 0; s = (s + 1) & m)
		if (strcmp(g->nodes[ix->slot[s] - 1].name, g->nodes[i].name) == 0)
			return;
	ix->slot[s] = i + 1;
}

/* Index every node again, in cap slots (0: keep the size). 0 or -ENOMEM. */
static int
ix_rebuild(struct bl_gdesc *g, unsigned int cap)
{
	struct bl_gdesc_ix *ix = g->ix;

	if (ix == NULL) {
		if ((ix = calloc(1, sizeof(*ix))) == NULL)
			return -ENOMEM;
		g->ix = ix;
	}
	if (cap != 0 && cap != ix->cap) {
		unsigned int *s = calloc(cap, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		free(ix->slot);
		ix->slot = s;
		ix->cap = cap;
	} else if (ix->slot != NULL) {
		memset(ix->slot, 0, ix->cap * sizeof(*ix->slot));
	}
	for (unsigned int i = 0; i < g->n_nodes; i++)
		ix_put(g, i);
	return 0;
}

/* Index the node just appended (g->n_nodes - 1). 0 or -ENOMEM. */
static int
ix_add(struct bl_gdesc *g)
{
	unsigned int cap = g->ix != NULL ? g->ix->cap : 0;

	if (2 * g->n_nodes < cap) {
		ix_put(g, g->n_nodes - 1);
		return 0;
	}
	cap = cap != 0 ? 2 * cap : 16;
	while (cap <= 2 * g->n_nodes)
		cap *= 2;
	return ix_rebuild(g, cap);
}

static void
ix_free(struct bl_gdesc *g)
{
	if (g->ix != NULL) {
		free(g->ix->slot);
		free(g->ix->hint);
		free(g->ix);
	}
	g->ix = NULL;
}

/* The hint of `filter`, made when new; NULL when there is no memory for it. */
static struct hint *
hint_get(struct bl_gdesc *g, const char *filter)
{
	struct bl_gdesc_ix *ix = g->ix;
	unsigned int m, s;

	if (ix == NULL || strlen(filter) >= BL_GDESC_NAME_MAX)
		return NULL;
	if (2 * (ix->hn + 1) >= ix->hcap) {
		unsigned int cap = ix->hcap != 0 ? 2 * ix->hcap : 16;
		struct hint *h = calloc(cap, sizeof(*h));
		if (h == NULL)
			return NULL;
		for (unsigned int i = 0; i < ix->hcap; i++) {
			if (ix->hint[i].filter[0] == '\0')
				continue;
			for (s = hash_str(ix->hint[i].filter) & (cap - 1); h[s].filter[0] != '\0';
			     s = (s + 1) & (cap - 1))
				;
			h[s] = ix->hint[i];
		}
		free(ix->hint);
		ix->hint = h;
		ix->hcap = cap;
	}
	m = ix->hcap - 1;
	for (s = hash_str(filter) & m; ix->hint[s].filter[0] != '\0'; s = (s + 1) & m)
		if (strcmp(ix->hint[s].filter, filter) == 0)
			return &ix->hint[s];
	strcpy(ix->hint[s].filter, filter);
	ix->hint[s].next = 1;
	ix->hn++;
	return &ix->hint[s];
}

/* Candidate k of auto-naming: "f" (k == 1), "f2", "f3", ... */
static void
auto_candidate(const char *filter, unsigned int k, char out[BL_GDESC_NAME_MAX])
{
	char num[16];
	size_t base = strnlen(filter, BL_GDESC_NAME_MAX - 1);
	int n;

	if (k < 2) {
		snprintf(out, BL_GDESC_NAME_MAX, "%s", filter);
		return;
	}
	n = snprintf(num, sizeof(num), "%u", k);
	if (base + (size_t)n > BL_GDESC_NAME_MAX - 1)
		base = BL_GDESC_NAME_MAX - 1 - (size_t)n;
	snprintf(out, BL_GDESC_NAME_MAX, "%.*s%s", (int)base, filter, num);
}

void
bl_gdesc_auto_name(struct bl_gdesc *g, const char *filter, char out[BL_GDESC_NAME_MAX])
{
	struct hint *h = hint_get(g, filter);
	unsigned int k = h != NULL ? h->next : 1;

	for (;; k = k < 2 ? 2 : k + 1) {
		auto_candidate(filter, k, out);
		if (bl_gdesc_find(g, out) < 0)
			break;
	}
	if (h != NULL)
		h->next = k;
}

int
bl_gdesc_renumber(struct bl_gdesc *g)
{
	char (*names)[BL_GDESC_NAME_MAX] = malloc((g->n_nodes + 1) * sizeof(*names));
	struct bl_gdesc t;
	int rc = 0;

	if (names == NULL)
		return -ENOMEM;
	bl_gdesc_init(&t);
	/* the given names first, wherever they stand: no automatic one may take them */
	for (unsigned int i = 0; i < g->n_nodes && rc == 0; i++)
		if (g->nodes[i].named && bl_gdesc_add_node(&t, g->nodes[i].name, g->nodes[i].filter) < 0)
			rc = -ENOMEM;
	for (unsigned int i = 0; i < g->n_nodes && rc == 0; i++) {
		if (g->nodes[i].named)
			continue;
		bl_gdesc_auto_name(&t, g->nodes[i].filter, names[i]);
		if (bl_gdesc_add_node(&t, names[i], g->nodes[i].filter) < 0)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		for (unsigned int i = 0; i < g->n_nodes; i++)
			if (!g->nodes[i].named)
				memcpy(g->nodes[i].name, names[i], BL_GDESC_NAME_MAX);
		unsigned int cap = 16;

		while (cap <= 2 * g->n_nodes)
			cap *= 2;
		ix_free(g);   /* the names and the numbering hints, afresh */
		rc = ix_rebuild(g, cap);
	}
	bl_gdesc_free(&t);
	free(names);
	return rc;
}

void
bl_gdesc_init(struct bl_gdesc *g)
{
	memset(g, 0, sizeof(*g));
}

void
bl_args_free(struct bl_args *args)
{
	for (unsigned int i = 0; i < args->n; i++) {
		free(args->v[i].key);
		free(args->v[i].value);
	}
	free(args->v);
	args->v = NULL;
	args->n = 0;
}

void
bl_gdesc_truncate(struct bl_gdesc *g, unsigned int n_nodes, unsigned int n_edges)
{
	for (unsigned int i = n_nodes; i < g->n_nodes; i++)
		bl_args_free(&g->nodes[i].args);
	if (n_nodes < g->n_nodes) {
		g->n_nodes = n_nodes;
		if (g->ix != NULL) {
			ix_rebuild(g, 0);      /* same size: cannot fail */
			if (g->ix->hint != NULL)
				memset(g->ix->hint, 0, g->ix->hcap * sizeof(*g->ix->hint));
			g->ix->hn = 0;
		}
	}
	if (n_edges < g->n_edges)
		g->n_edges = n_edges;
}

void
bl_gdesc_free(struct bl_gdesc *g)
{
	bl_gdesc_truncate(g, 0, 0);
	free(g->nodes);
	free(g->edges);
	ix_free(g);
	bl_gdesc_init(g);
}

int
bl_gdesc_find(const struct bl_gdesc *g, const char *node_name)
{
	const struct bl_gdesc_ix *ix = g->ix;
	unsigned int m, s;

	if (ix == NULL || ix->slot == NULL)
		return -ENOENT;    /* nothing was ever added */
	m = ix->cap - 1;
	for (s = hash_str(node_name) & m; ix->slot[s] != 0; s = (s + 1) & m)
		if (strcmp(g->nodes[ix->slot[s] - 1].name, node_name) == 0)
			return (int)ix->slot[s] - 1;
	return -ENOENT;
}

const struct bl_arg *
bl_args_get(const struct bl_args *args, const char *key)
{
	for (unsigned int i = 0; i < args->n; i++)
		if (args->v[i].key != NULL && strcmp(args->v[i].key, key) == 0)
			return &args->v[i];
	return NULL;
}

/* Grow an array of `size`-byte elements to hold at least n + 1. */
static int
grow(void **arr, unsigned int *cap, unsigned int n, size_t size)
{
	unsigned int ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, (size_t)ncap * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
bl_gdesc_add_node(struct bl_gdesc *g, const char *name, const char *filter)
{
	struct bl_gdesc_node *n;

	if (strlen(name) >= BL_GDESC_NAME_MAX || strlen(filter) >= BL_GDESC_NAME_MAX)
		return -EINVAL;
	if (g->n_nodes >= BL_GDESC_MAX_NODES)
		return -E2BIG;
	if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes, sizeof(*g->nodes)) < 0)
		return -ENOMEM;
	n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof(*n));
	strcpy(n->name, name);
	strcpy(n->filter, filter);
	g->n_nodes++;
	if (ix_add(g) < 0) {
		g->n_nodes--;
		return -ENOMEM;
	}
	return (int)g->n_nodes - 1;
}

int
bl_gdesc_add_edge(struct bl_gdesc *g, unsigned int from, unsigned int to,
		  const struct bl_label *label, unsigned int col)
{
	struct bl_gdesc_edge *e;

	if (from >= g->n_nodes || to >= g->n_nodes)
		return -EINVAL;
	if (g->n_edges >= BL_GDESC_MAX_EDGES)
		return -E2BIG;
	if (grow((void **)&g->edges, &g->cap_edges, g->n_edges, sizeof(*g->edges)) < 0)
		return -ENOMEM;
	e = &g->edges[g->n_edges];
	memset(e, 0, sizeof(*e));
	e->from = from;
	e->to = to;
	if (label != NULL)
		e->label = *label;
	e->col = col;
	return (int)g->n_edges++;
}

int
bl_args_add(struct bl_args *args, const char *key, const char *value, unsigned int col)
{
	struct bl_arg *v;
	char *k = NULL, *val;

	if (args->n >= BL_GDESC_MAX_ARGS)
		return -E2BIG;
	v = realloc(args->v, (args->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	args->v = v;
	if (key != NULL && (k = strdup(key)) == NULL)
		return -ENOMEM;
	if ((val = strdup(value)) == NULL) {
		free(k);
		return -ENOMEM;
	}
	v[args->n].key = k;
	v[args->n].value = val;
	v[args->n].col = col;
	args->n++;
	return 0;
}

bool
bl_args_equal(const struct bl_args *a, const struct bl_args *b)
{
	unsigned int i, j;

	if (a->n != b->n)
		return false;
	/* positional arguments, in order */
	for (i = 0, j = 0;; i++, j++) {
		while (i < a->n && a->v[i].key != NULL)
			i++;
		while (j < b->n && b->v[j].key != NULL)
			j++;
		if (i == a->n || j == b->n) {
			if (i != a->n || j != b->n)
				return false;
			break;
		}
		if (strcmp(a->v[i].value, b->v[j].value) != 0)
			return false;
	}
	/* keyed ones, in any order (the counts match, keys are unique) */
	for (i = 0; i < a->n; i++) {
		const struct bl_arg *o;

		if (a->v[i].key == NULL)
			continue;
		o = bl_args_get(b, a->v[i].key);
		if (o == NULL || strcmp(o->value, a->v[i].value) != 0)
			return false;
	}
	return true;
}

static bool
class_equal(const struct bl_class_ref *a, const struct bl_class_ref *b)
{
	if (a->name[0] != '\0' || b->name[0] != '\0')
		return strcmp(a->name, b->name) == 0;
	return a->num == b->num;
}

bool
bl_label_equal(const struct bl_label *a, const struct bl_label *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind != BL_LABEL_SET)
		return true;
	if (a->invert != b->invert || a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (!class_equal(&a->r[i].lo, &b->r[i].lo) ||
		    !class_equal(&a->r[i].hi, &b->r[i].hi))
			return false;
	return true;
}

static bool
node_equal(const struct bl_gdesc_node *a, const struct bl_gdesc_node *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->filter, b->filter) == 0 &&
	       a->negate == b->negate && bl_args_equal(&a->args, &b->args);
}

bool
bl_gdesc_equal(const struct bl_gdesc *a, const struct bl_gdesc *b)
{
	bool *used = NULL;
	bool ok = true;

	if (a->n_nodes != b->n_nodes || a->n_edges != b->n_edges)
		return false;
	for (unsigned int i = 0; i < a->n_nodes; i++) {
		int j = bl_gdesc_find(b, a->nodes[i].name);
		if (j < 0 || !node_equal(&a->nodes[i], &b->nodes[j]))
			return false;
	}
	if (a->n_edges == 0)
		return true;
	used = calloc(b->n_edges, sizeof(*used));
	if (used == NULL)
		return false;
	/* edges as a multiset, matched by node names */
	for (unsigned int i = 0; i < a->n_edges && ok; i++) {
		const struct bl_gdesc_edge *ea = &a->edges[i];
		const char *from = a->nodes[ea->from].name, *to = a->nodes[ea->to].name;

		ok = false;
		for (unsigned int j = 0; j < b->n_edges; j++) {
			const struct bl_gdesc_edge *eb = &b->edges[j];
			if (used[j] || strcmp(b->nodes[eb->from].name, from) != 0 ||
			    strcmp(b->nodes[eb->to].name, to) != 0 ||
			    !bl_label_equal(&ea->label, &eb->label))
				continue;
			used[j] = true;
			ok = true;
			break;
		}
	}
	free(used);
	return ok;
}
