/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pipe — the pipeline parser: recursive descent straight over the text,
 * appending nodes and edges to a bl_gdesc as it goes (lowering rules in
 * bl_gdesc.h, grammar in bl_pipe.h). A failure truncates g back to where the
 * call found it, so a parse is a transaction.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_pipe_pvt.h"

#define DEPTH_MAX 64

/* A set of node indices: the entries or exits of a sub-expression. */
struct ivec {
	unsigned int n, cap;
	unsigned int *v;
};

/* What a sub-expression lowered to: where input enters, where output leaves. */
struct frag {
	struct ivec in, out;
};

enum op { OP_NONE, OP_SPLIT, OP_UNION, OP_INTERSECT };

static void
ivec_free(struct ivec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

static int
ivec_push(struct ivec *v, unsigned int x)
{
	if (v->n == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 4;
		unsigned int *p = realloc(v->v, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* v = the entries (or exits) of the n branches b, each node once: one pass,
 * the nodes seen marked with a fresh stamp. 0 or -ENOMEM. */
static int
ivec_union(struct bl_pipe_ps *ps, struct ivec *v, const struct frag *b, unsigned int n,
	   bool exits)
{
	unsigned int stamp = ++ps->stamp;

	for (unsigned int i = 0; i < n; i++) {
		const struct ivec *w = exits ? &b[i].out : &b[i].in;
		for (unsigned int k = 0; k < w->n; k++) {
			if (ps->mark[w->v[k]] == stamp)
				continue;
			ps->mark[w->v[k]] = stamp;
			if (ivec_push(v, w->v[k]) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static void
frag_free(struct frag *f)
{
	ivec_free(&f->in);
	ivec_free(&f->out);
}

/*
 * Appending to g: the limits are counted here, as the text is read, so a
 * pipeline that would make too much is refused at the column that passes
 * the limit, before it costs anything.
 */
static int
add_node(struct bl_pipe_ps *ps, const char *name, const char *filter, size_t at)
{
	int idx = bl_gdesc_add_node(ps->g, name, filter);

	if (idx == -E2BIG)
		return bl_pipe__fail(ps, at, "too many filters: a graph's text makes at most %d "
				     "(joins included)", BL_GDESC_MAX_NODES);
	if (idx < 0)
		return bl_pipe__nomem(ps);
	ps->g->nodes[idx].col = (unsigned int)at + 1;
	return idx;
}

static int
add_edge(struct bl_pipe_ps *ps, unsigned int from, unsigned int to, const struct bl_label *l,
	 size_t at)
{
	int rc = bl_gdesc_add_edge(ps->g, from, to, l, (unsigned int)at + 1);

	if (rc == -E2BIG)
		return bl_pipe__fail(ps, at, "too many edges: a graph's text makes at most %d",
				     BL_GDESC_MAX_EDGES);
	return rc < 0 ? bl_pipe__nomem(ps) : 0;
}

/* A filter call: a new node, or the node an earlier --name declared. */
static int
parse_call(struct bl_pipe_ps *ps, struct frag *f, bool negate, size_t neg_pos)
{
	size_t at = ps->pos, n = bl_pipe__word_len(ps, at), name_pos = 0;
	char filter[BL_GDESC_NAME_MAX], name[BL_GDESC_NAME_MAX] = "", why[BL_PIPE_WHY_MAX];
	struct bl_args args = { 0 };
	int idx, rc;

	if (n == 0 || ps->t[at] == '!' || (ps->t[at] >= '0' && ps->t[at] <= '9') ||
	    (ps->t[at] == '-'))
		return bl_pipe__expected(ps, "a filter name");
	if (!bl_pipe__is_name(ps->t + at, n)) {
		if (n >= BL_GDESC_NAME_MAX && bl_pipe__is_key(ps->t + at, n))
			return bl_pipe__fail(ps, at, "filter name \"%.*s...\" is too long (at most %d "
				    "characters)", 20, ps->t + at, BL_GDESC_NAME_MAX - 1);
		return bl_pipe__expected(ps, "a filter name");
	}
	memcpy(filter, ps->t + at, n);
	filter[n] = '\0';
	if (bl_pipe__check_filter(ps->opts, filter, why, sizeof(why)) < 0)
		return bl_pipe__fail(ps, at, "%s", why);
	ps->pos = at + n;
	if ((rc = bl_pipe__args(ps, &args, name, &name_pos)) < 0)
		goto out;

	if (name_pos != 0 && (idx = bl_gdesc_find(ps->g, name)) >= 0) {
		if (bl_pipe__share(&ps->g->nodes[idx], filter, &args, negate, why,
				   sizeof(why)) < 0) {
			size_t p = strcmp(ps->g->nodes[idx].filter, filter) != 0 ? at :
				   (negate && !ps->g->nodes[idx].negate) ? neg_pos : name_pos - 1;
			rc = bl_pipe__fail(ps, p, "%s", why);
			goto out;
		}
	} else {
		if (name_pos == 0)
			bl_gdesc_auto_name(ps->g, filter, name);
		if ((idx = add_node(ps, name, filter, at)) < 0) {
			rc = idx;
			goto out;
		}
		struct bl_gdesc_node *node = &ps->g->nodes[idx];
		node->args = args;
		memset(&args, 0, sizeof(args));
		node->negate = negate;
		node->named = name_pos != 0;
	}
	if (ivec_push(&f->in, (unsigned int)idx) < 0 || ivec_push(&f->out, (unsigned int)idx) < 0)
		rc = bl_pipe__nomem(ps);
out:
	bl_args_free(&args);
	return rc;
}

static int parse_pipe(struct bl_pipe_ps *ps, struct frag *f);

static int
parse_unary(struct bl_pipe_ps *ps, struct frag *f)
{
	size_t at = ps->pos;
	int rc;

	if (ps->t[at] == '!') {
		ps->pos++;
		bl_pipe__skip_blanks(ps, false);
		if (ps->t[ps->pos] == '(')
			return bl_pipe__fail(ps, at, "\"!\" applies to one filter, not to a group");
		return parse_call(ps, f, true, at);
	}
	if (ps->t[at] != '(')
		return parse_call(ps, f, false, 0);
	if (ps->depth == DEPTH_MAX)
		return bl_pipe__fail(ps, at, "parentheses nested too deep (at most %d)", DEPTH_MAX);
	ps->pos++;
	ps->depth++;
	bl_pipe__skip_ws(ps);
	if ((rc = parse_pipe(ps, f)) < 0)
		return rc;
	bl_pipe__skip_ws(ps);
	if (ps->t[ps->pos] == '\0')
		return bl_pipe__fail(ps, at, "unbalanced \"(\": no \")\" before the end of "
				     "the pipeline");
	/* A ";" ends the statement, so no ")" can follow: blame the "(" (its column is the
	 * user's, also in one element of a "pipeline" array, where the ";" is not). */
	if (ps->t[ps->pos] == ';')
		return bl_pipe__fail(ps, at, "unbalanced \"(\": no \")\" before the end of "
				     "the statement");
	if (ps->t[ps->pos] != ')') {
		char b[64];
		return bl_pipe__fail(ps, ps->pos, "expected \"|\", \"+\", \"++\", \"+*\" or \")\" to close "
			    "the \"(\" at col %zu, got %s", at + 1,
				     bl_pipe__got(ps, ps->pos, b, sizeof(b)));
	}
	ps->pos++;
	ps->depth--;
	return 0;
}

static int
join_node(struct bl_pipe_ps *ps, const char *filter, size_t at)
{
	char name[BL_GDESC_NAME_MAX];

	bl_gdesc_auto_name(ps->g, filter, name);
	return add_node(ps, name, filter, at);
}

static int
edges_to(struct bl_pipe_ps *ps, const struct ivec *from, unsigned int to, size_t at)
{
	int rc = 0;

	for (unsigned int i = 0; i < from->n && rc == 0; i++)
		rc = add_edge(ps, from->v[i], to, NULL, at);
	return rc;
}

/* Lower a run of one operator over `n` branches into `out`; frees the branches. */
static int
lower(struct bl_pipe_ps *ps, enum op op, struct frag *b, unsigned int n, size_t at,
      struct frag *out)
{
	int rc = 0, join = -1;

	memset(out, 0, sizeof(*out));
	if (ivec_union(ps, &out->in, b, n, false) < 0)
		rc = bl_pipe__nomem(ps);
	if (rc == 0 && op == OP_SPLIT) {
		if (ivec_union(ps, &out->out, b, n, true) < 0)
			rc = bl_pipe__nomem(ps);
	} else if (rc == 0) {
		join = join_node(ps, op == OP_UNION ? "union" : "intersect", at);
		rc = join < 0 ? join : 0;
		for (unsigned int i = 0; i < n && rc == 0; i++) {
			if (op == OP_INTERSECT && b[i].out.n > 1) {
				int u = join_node(ps, "union", at);
				if (u < 0 || (rc = edges_to(ps, &b[i].out, (unsigned int)u, at)) < 0) {
					rc = u < 0 ? u : rc;
					break;
				}
				rc = add_edge(ps, (unsigned int)u, (unsigned int)join, NULL, at);
			} else {
				rc = edges_to(ps, &b[i].out, (unsigned int)join, at);
			}
		}
		if (rc == 0 && ivec_push(&out->out, (unsigned int)join) < 0)
			rc = bl_pipe__nomem(ps);
	}
	for (unsigned int i = 0; i < n; i++)
		frag_free(&b[i]);
	if (rc < 0)
		frag_free(out);
	return rc;
}

/* unary { op unary }: a run of one operator is one n-ary node, runs fold left. */
static int
parse_par(struct bl_pipe_ps *ps, struct frag *f)
{
	struct frag *b = NULL;
	unsigned int n = 0, cap = 0;
	enum op cur = OP_NONE;
	size_t cur_at = 0;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = parse_unary(ps, f)) < 0)
		return rc;
	for (;;) {
		enum op op;
		size_t at;

		bl_pipe__skip_ws(ps);
		if (ps->t[ps->pos] != '+')
			break;
		at = ps->pos;
		op = ps->t[at + 1] == '+' ? OP_UNION :
		     ps->t[at + 1] == '*' ? OP_INTERSECT : OP_SPLIT;
		ps->pos += op == OP_SPLIT ? 1 : 2;
		if (op != cur && cur != OP_NONE) {
			struct frag acc;
			rc = lower(ps, cur, b, n, cur_at, &acc);
			n = 0;
			if (rc < 0)
				goto out;
			*f = acc;
		}
		if (n + 2 > cap) {
			unsigned int ncap = cap ? cap * 2 : 4;
			struct frag *p = realloc(b, ncap * sizeof(*p));
			if (p == NULL) {
				rc = bl_pipe__nomem(ps);
				goto out;
			}
			b = p;
			cap = ncap;
		}
		if (op != cur) {
			b[n++] = *f;           /* the left operand, as folded so far */
			memset(f, 0, sizeof(*f));
			cur = op;
			cur_at = at;
		}
		bl_pipe__skip_blanks(ps, true);
		memset(&b[n], 0, sizeof(b[n]));
		rc = parse_unary(ps, &b[n]);
		n++;
		if (rc < 0)
			goto out;
	}
	if (cur != OP_NONE) {
		rc = lower(ps, cur, b, n, cur_at, f);
		n = 0;
	}
out:
	for (unsigned int i = 0; i < n; i++)
		frag_free(&b[i]);
	free(b);
	return rc;
}

/* A label attached to "|" at ps->pos (may be empty). */
static int
parse_label(struct bl_pipe_ps *ps, struct bl_label *l)
{
	size_t at = ps->pos, n = bl_pipe__word_len(ps, at);
	char why[BL_PIPE_WHY_MAX];

	if (bl_pipe__label(ps->t + at, n, l, why, sizeof(why)) < 0)
		return bl_pipe__fail(ps, at, "%s", why);
	ps->pos += n;
	bl_pipe__skip_blanks(ps, true);
	/* `a|b`: the b was taken for a label; say so when no filter follows. */
	if (n > 0 && l->kind == BL_LABEL_SET && !l->invert && l->n == 1 &&
	    l->r[0].lo.name[0] != '\0' && strcmp(l->r[0].lo.name, l->r[0].hi.name) == 0 &&
	    (bl_pipe__is_delim(ps->t[ps->pos]) && ps->t[ps->pos] != '(' && ps->t[ps->pos] != '"')) {
		char b[64];
		return bl_pipe__fail(ps, at, "expected a filter name after the edge label \"%.*s\", "
			    "got %s (a label is written against the \"|\"; write \"| %.*s\" "
			    "if %.*s is a filter)", (int)n, ps->t + at,
			    bl_pipe__got(ps, ps->pos, b, sizeof(b)), (int)n, ps->t + at, (int)n,
			    ps->t + at);
	}
	return 0;
}

static int
parse_pipe(struct bl_pipe_ps *ps, struct frag *f)
{
	int rc;

	if ((rc = parse_par(ps, f)) < 0)
		return rc;
	for (;;) {
		struct frag rhs;
		struct bl_label l;
		size_t at;

		bl_pipe__skip_ws(ps);
		if (ps->t[ps->pos] != '|')
			return 0;
		at = ps->pos++;
		if ((rc = parse_label(ps, &l)) < 0)
			return rc;
		if ((rc = parse_par(ps, &rhs)) < 0) {
			frag_free(&rhs);
			return rc;
		}
		/* every exit to every entry: refuse a product past the limit whole */
		if ((unsigned long)f->out.n * rhs.in.n > BL_GDESC_MAX_EDGES - ps->g->n_edges &&
		    (unsigned long)f->out.n * rhs.in.n > 1)
			rc = bl_pipe__fail(ps, at, "too many edges: \"|\" joins %u exits to %u "
					   "entries, %lu edges, and a graph's text makes at most %d",
					   f->out.n, rhs.in.n, (unsigned long)f->out.n * rhs.in.n,
					   BL_GDESC_MAX_EDGES);
		for (unsigned int i = 0; i < f->out.n && rc == 0; i++)
			for (unsigned int j = 0; j < rhs.in.n && rc == 0; j++)
				rc = add_edge(ps, f->out.v[i], rhs.in.v[j], &l, at);
		ivec_free(&f->out);
		f->out = rhs.out;
		ivec_free(&rhs.in);
		if (rc < 0)
			return rc;
	}
}

static int
parse_text(struct bl_pipe_ps *ps)
{
	for (;;) {
		struct frag f;
		int rc;

		while (ps->t[ps->pos] == ';' || ps->t[ps->pos] == '\n' ||
		       bl_pipe__is_blank(ps->t[ps->pos]))
			ps->pos++;
		if (ps->t[ps->pos] == '\0')
			return 0;
		rc = parse_pipe(ps, &f);
		frag_free(&f);
		if (rc < 0)
			return rc;
		bl_pipe__skip_ws(ps);
		switch (ps->t[ps->pos]) {
		case '\0': return 0;
		case ';': case '\n': continue;
		case ')': return bl_pipe__fail(ps, ps->pos, "unbalanced \")\"");
		default:
			return bl_pipe__expected(ps, "\"|\", \"+\", \"++\", \"+*\", \";\" or the end of "
					"the pipeline");
		}
	}
}

int
bl_pipe_parse(const char *text, const struct bl_pipe_opts *opts,
	      struct bl_gdesc *g, struct bl_err *err)
{
	struct bl_pipe_ps ps = { .t = text, .opts = opts, .g = g, .err = err };
	unsigned int n_nodes = g->n_nodes, n_edges = g->n_edges;
	int rc;

	if (text == NULL)
		return bl_err_set(err, -EINVAL, "no pipeline text");
	ps.mark = calloc(BL_GDESC_MAX_NODES, sizeof(*ps.mark));
	if (ps.mark == NULL)
		return bl_pipe__nomem(&ps);
	rc = parse_text(&ps);
	free(ps.mark);
	if (rc < 0)
		bl_gdesc_truncate(g, n_nodes, n_edges);
	return rc;
}
