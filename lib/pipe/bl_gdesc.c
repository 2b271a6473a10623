/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_gdesc — graph descriptions: storage, comparison, undo (bl_gdesc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_gdesc.h"

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
	if (n_nodes < g->n_nodes)
		g->n_nodes = n_nodes;
	if (n_edges < g->n_edges)
		g->n_edges = n_edges;
}

void
bl_gdesc_free(struct bl_gdesc *g)
{
	bl_gdesc_truncate(g, 0, 0);
	free(g->nodes);
	free(g->edges);
	bl_gdesc_init(g);
}

int
bl_gdesc_find(const struct bl_gdesc *g, const char *node_name)
{
	for (unsigned int i = 0; i < g->n_nodes; i++)
		if (strcmp(g->nodes[i].name, node_name) == 0)
			return (int)i;
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
	if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes, sizeof(*g->nodes)) < 0)
		return -ENOMEM;
	n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof(*n));
	strcpy(n->name, name);
	strcpy(n->filter, filter);
	return (int)g->n_nodes++;
}

int
bl_gdesc_add_edge(struct bl_gdesc *g, unsigned int from, unsigned int to,
		  const struct bl_label *label, unsigned int col)
{
	struct bl_gdesc_edge *e;

	if (from >= g->n_nodes || to >= g->n_nodes)
		return -EINVAL;
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
	struct bl_arg *v = realloc(args->v, (args->n + 1) * sizeof(*v));
	char *k = NULL, *val;

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
