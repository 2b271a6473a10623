/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pipe_print — a graph description back to pipeline text.
 *
 * The edges are covered by paths, each printed as one statement
 * `a | b | c`; statements are joined by "; ". A node is written whole (with
 * "!", its arguments and, unless the parser would pick the same name by
 * itself, --name) where it first appears, and as `filter --name=X` after
 * that. Nodes with no edge get a statement of their own. Paths start at
 * sources first, so a simple chain prints as one readable statement.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_pipe_pvt.h"

struct out {
	char *buf;
	size_t size, len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->buf != NULL && o->len < o->size) {
		size_t room = o->size - o->len - 1;
		memcpy(o->buf + o->len, s, n < room ? n : room);
		o->buf[o->len + (n < room ? n : room)] = '\0';
	}
	o->len += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static bool
needs_quotes(const char *s, bool positional)
{
	if (s[0] == '\0')
		return true;
	if (positional && (s[0] == '!' || (s[0] == '-' && s[1] == '-') || strchr(s, '=')))
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("|();+\"\\", *p) != NULL)
			return true;
	return false;
}

static void
put_value(struct out *o, const char *s, bool positional)
{
	if (!needs_quotes(s, positional)) {
		puts_(o, s);
		return;
	}
	put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			put(o, "\\", 1);
		put(o, s, 1);
	}
	put(o, "\"", 1);
}

struct pr {
	const struct bl_gdesc *g;
	struct out o;
	bool *declared;
	bool *done;                 /* edges printed */
	struct bl_gdesc sim;        /* the names the parser will have seen so far */
	unsigned int stmts;
};

static int
put_node(struct pr *p, unsigned int i)
{
	const struct bl_gdesc_node *n = &p->g->nodes[i];
	char auto_name[BL_GDESC_NAME_MAX];

	if (p->declared[i]) {
		puts_(&p->o, n->filter);
		puts_(&p->o, " --name=");
		puts_(&p->o, n->name);
		return 0;
	}
	p->declared[i] = true;
	if (n->negate)
		put(&p->o, "!", 1);
	puts_(&p->o, n->filter);
	for (unsigned int a = 0; a < n->args.n; a++) {
		const struct bl_arg *arg = &n->args.v[a];
		put(&p->o, " ", 1);
		if (arg->key != NULL) {
			puts_(&p->o, arg->key);
			put(&p->o, "=", 1);
		}
		put_value(&p->o, arg->value, arg->key == NULL);
	}
	bl_gdesc_auto_name(&p->sim, n->filter, auto_name);
	if (strcmp(auto_name, n->name) != 0) {
		puts_(&p->o, " --name=");
		puts_(&p->o, n->name);
	}
	return bl_gdesc_add_node(&p->sim, n->name, n->filter) < 0 ? -ENOMEM : 0;
}

static void
new_stmt(struct pr *p)
{
	if (p->stmts++ > 0)
		puts_(&p->o, "; ");
}

/* Everything the language cannot write makes the print fail, not mislead. */
static int
check(const struct bl_gdesc *g)
{
	char lb[512];

	for (unsigned int i = 0; i < g->n_nodes; i++) {
		const struct bl_gdesc_node *n = &g->nodes[i];
		if (!bl_pipe__is_name(n->name, strnlen(n->name, BL_GDESC_NAME_MAX)) ||
		    !bl_pipe__is_name(n->filter, strnlen(n->filter, BL_GDESC_NAME_MAX)))
			return -EINVAL;
		for (unsigned int j = i + 1; j < g->n_nodes; j++)
			if (strcmp(n->name, g->nodes[j].name) == 0)
				return -EINVAL;
		for (unsigned int a = 0; a < n->args.n; a++) {
			const char *k = n->args.v[a].key;
			if (n->args.v[a].value == NULL)
				return -EINVAL;
			if (k != NULL && (!bl_pipe__is_key(k, strlen(k)) ||
					  bl_args_get(&n->args, k) != &n->args.v[a]))
				return -EINVAL;
		}
	}
	for (unsigned int e = 0; e < g->n_edges; e++)
		if (g->edges[e].from >= g->n_nodes || g->edges[e].to >= g->n_nodes ||
		    bl_label_print(&g->edges[e].label, lb, sizeof(lb)) < 0)
			return -EINVAL;
	return 0;
}

/*
 * The first node with an edge left to print: a source, else one whose
 * in-edges are all printed, else any (a cycle).
 */
static int
path_start(const struct pr *p)
{
	const struct bl_gdesc *g = p->g;
	int best = -1, best_rank = 3;

	for (unsigned int i = 0; i < g->n_nodes; i++) {
		bool out_left = false, in_any = false, in_left = false;
		int rank;

		for (unsigned int e = 0; e < g->n_edges; e++) {
			if (g->edges[e].from == i && !p->done[e])
				out_left = true;
			if (g->edges[e].to == i) {
				in_any = true;
				in_left |= !p->done[e];
			}
		}
		if (!out_left)
			continue;
		rank = !in_any ? 0 : !in_left ? 1 : 2;
		if (rank < best_rank) {
			best = (int)i;
			best_rank = rank;
		}
	}
	return best;
}

static int
print_all(struct pr *p)
{
	const struct bl_gdesc *g = p->g;
	int start;

	while ((start = path_start(p)) >= 0) {
		unsigned int cur = (unsigned int)start;

		new_stmt(p);
		if (put_node(p, cur) < 0)
			return -ENOMEM;
		for (;;) {
			unsigned int e;
			char lb[512];

			for (e = 0; e < g->n_edges; e++)
				if (g->edges[e].from == cur && !p->done[e])
					break;
			if (e == g->n_edges)
				break;
			p->done[e] = true;
			bl_label_print(&g->edges[e].label, lb, sizeof(lb));
			puts_(&p->o, " |");
			puts_(&p->o, lb);
			put(&p->o, " ", 1);
			cur = g->edges[e].to;
			if (put_node(p, cur) < 0)
				return -ENOMEM;
		}
	}
	for (unsigned int i = 0; i < g->n_nodes; i++) {
		if (p->declared[i])
			continue;
		new_stmt(p);
		if (put_node(p, i) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
print_into(const struct bl_gdesc *g, char *buf, size_t size)
{
	struct pr p = { .g = g, .o = { .buf = buf, .size = size } };
	int rc;

	if (buf != NULL && size > 0)
		buf[0] = '\0';
	if ((rc = check(g)) < 0)
		return rc;
	p.declared = calloc(g->n_nodes + 1, sizeof(*p.declared));
	p.done = calloc(g->n_edges + 1, sizeof(*p.done));
	bl_gdesc_init(&p.sim);
	rc = p.declared == NULL || p.done == NULL ? -ENOMEM : print_all(&p);
	free(p.declared);
	free(p.done);
	bl_gdesc_free(&p.sim);
	if (rc < 0)
		return rc;
	if (p.o.len > (size_t)__INT_MAX__ - 1)
		return -ENOSPC;
	return (int)p.o.len;
}

int
bl_pipe_print(const struct bl_gdesc *g, char *buf, size_t size)
{
	int n = print_into(g, buf, size);

	if (n >= 0 && (buf == NULL || (size_t)n >= size))
		return -ENOSPC;
	return n;
}

char *
bl_pipe_print_dup(const struct bl_gdesc *g)
{
	int n = print_into(g, NULL, 0);
	char *s;

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (print_into(g, s, (size_t)n + 1) != n) {
		free(s);
		return NULL;
	}
	return s;
}
