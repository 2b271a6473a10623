/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix sharing (bl_graph_share_prefixes) on descriptions only, no EAL:
 * what merges and what does not, the same result as a plain pairwise
 * fixed point (written here as the reference) over random pipelines, and a
 * cost near linear in the description (issue 15 point 4: it was cubic).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_graph.h"
#include "bl_pipe.h"
#include "bl_test_util.h"

static struct bl_gdesc d;
static struct bl_err err;

static void setup(void)    { bl_gdesc_init(&d); memset(&err, 0, sizeof(err)); }
static void teardown(void) { bl_gdesc_free(&d); }

TestSuite(share, .init = setup, .fini = teardown, .timeout = 30);

/* CPU seconds (bl_test_cpu_now): what the sharing costs, not how busy the machine is (a
 * wall clock counts the time a loaded machine keeps this process off a CPU). */
static double
now(void)
{
	return bl_test_cpu_now();
}

/* ---- the reference: every pair compared, to a fixed point ---- */

static bool
ref_inputs_within(const struct bl_gdesc *g, const unsigned int *rep, unsigned int i, unsigned int j)
{
	for (unsigned int a = 0; a < g->n_edges; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		bool found = false;

		if (rep[e->to] != i)
			continue;
		for (unsigned int b = 0; b < g->n_edges && !found; b++)
			found = rep[g->edges[b].to] == j && rep[g->edges[b].from] == rep[e->from] &&
				bl_label_equal(&e->label, &g->edges[b].label);
		if (!found)
			return false;
	}
	return true;
}

static bool
ref_same(const struct bl_gdesc *g, const unsigned int *rep, unsigned int i, unsigned int j)
{
	const struct bl_gdesc_node *a = &g->nodes[i], *b = &g->nodes[j];

	return !a->named && !b->named && a->negate == b->negate &&
	       strcmp(a->filter, b->filter) == 0 && bl_args_equal(&a->args, &b->args) &&
	       ref_inputs_within(g, rep, i, j) && ref_inputs_within(g, rep, j, i);
}

/* The shared description `out` (fresh) of g; how many nodes merged. */
static unsigned int
ref_share(const struct bl_gdesc *g, struct bl_gdesc *out)
{
	unsigned int *rep = calloc(g->n_nodes + 1, sizeof(*rep)), merged = 0;
	int *idx = calloc(g->n_nodes + 1, sizeof(*idx));
	bool changed = true;

	cr_assert(rep != NULL && idx != NULL);
	for (unsigned int i = 0; i < g->n_nodes; i++)
		rep[i] = i;
	while (changed) {
		changed = false;
		for (unsigned int j = 0; j < g->n_nodes; j++)
			for (unsigned int i = 0; i < j && rep[j] == j; i++) {
				if (rep[i] != i || !ref_same(g, rep, i, j))
					continue;
				for (unsigned int k = 0; k < g->n_nodes; k++)
					if (rep[k] == j)
						rep[k] = i;
				merged++;
				changed = true;
			}
	}
	bl_gdesc_init(out);
	for (unsigned int i = 0; i < g->n_nodes; i++) {
		const struct bl_gdesc_node *n = &g->nodes[i];
		if (rep[i] != i)
			continue;
		idx[i] = bl_gdesc_add_node(out, n->name, n->filter);
		cr_assert(idx[i] >= 0);
		out->nodes[idx[i]].negate = n->negate;
		for (unsigned int a = 0; a < n->args.n; a++)
			cr_assert(eq(int, bl_args_add(&out->nodes[idx[i]].args, n->args.v[a].key,
						      n->args.v[a].value, 0), 0));
	}
	for (unsigned int a = 0; a < g->n_edges; a++) {
		const struct bl_gdesc_edge *e = &g->edges[a];
		unsigned int from = (unsigned int)idx[rep[e->from]], to = (unsigned int)idx[rep[e->to]];
		bool dup = false;
		/* nothing merged: the description stays as it was, duplicate edges too */
		for (unsigned int b = 0; b < out->n_edges && !dup && merged > 0; b++)
			dup = out->edges[b].from == from && out->edges[b].to == to &&
			      bl_label_equal(&out->edges[b].label, &e->label);
		if (!dup)
			cr_assert(bl_gdesc_add_edge(out, from, to, &e->label, 0) >= 0);
	}
	free(rep);
	free(idx);
	return merged;
}

/* ---- what merges ---- */

static int
share(const char *text)
{
	bl_gdesc_free(&d);
	cr_assert(eq(int, bl_pipe_parse(text, NULL, &d, &err), 0), "%s: %s", text, err.msg);
	return bl_graph_share_prefixes(&d);
}

static unsigned int
n_edges_between(const char *from, const char *to)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d.n_edges; i++)
		n += strcmp(d.nodes[d.edges[i].from].name, from) == 0 &&
		     strcmp(d.nodes[d.edges[i].to].name, to) == 0;
	return n;
}

Test(share, what_merges)
{
	cr_assert(eq(int, share("rx p=1 | a | b | c; rx p=1 | a | b | d"), 3));
	cr_assert(eq(u32, d.n_nodes, 5));
	cr_assert(eq(u32, n_edges_between("b", "c"), 1));
	cr_assert(eq(u32, n_edges_between("b", "d"), 1));
	/* arguments: keyed ones in any order, positional ones in order */
	cr_assert(eq(int, share("rx | a k=1 j=2; rx | a j=2 k=1"), 2));
	cr_assert(eq(int, share("rx | a \"x\" \"y\"; rx | a \"y\" \"x\""), 1));
	cr_assert(eq(int, share("rx | a k=1; rx | a k=2"), 1));
	/* labels and negation tell nodes apart */
	cr_assert(eq(int, share("rx |1 a; rx |2 a"), 1));
	cr_assert(eq(int, share("rx |1,2 a; rx |1,2 a"), 2));
	cr_assert(eq(int, share("rx |ssh a; rx |22 a"), 1));
	cr_assert(eq(int, share("rx | !a; rx | a"), 1));
	/* named nodes stay as named; what follows them merges */
	cr_assert(eq(int, share("rx --name=r1 | a; rx --name=r2 | a"), 0));
	cr_assert(eq(int, share("rx --name=r | a; rx --name=r | a"), 1));
	/* equal inputs as sets: a join fed twice by one branch equals one fed once */
	cr_assert(eq(int, share("(rx + rx) | a; rx | a"), 3));
	cr_assert(eq(u32, d.n_nodes, 2));
	cr_assert(eq(u32, d.n_edges, 1), "the duplicate edge went too");
	/* a cycle through a named node */
	cr_assert(eq(int, share("rx | x --name=x | a | x --name=x; x --name=x | a"), 1));
	cr_assert(eq(int, share("a; b"), 0));
	cr_assert(eq(int, share(""), 0));
}

/* Random pipelines: the same shared graph, and count, as the reference. */
/* Names once shared (bl_gdesc_renumber): the automatic ones in node order, as if written
 * without the duplicates. They counted the duplicates that were merged away ("b", "b3"),
 * so adding a pipeline that shares a prefix renamed a filter further on (and a reload
 * reset it). */
static const char *
names(void)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < d.n_nodes; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", d.nodes[i].name);
	return buf;
}

Test(share, automatic_names_do_not_count_what_was_merged)
{
	cr_assert(eq(int, share("rx | a |1 b |80 c; rx | a |2 b |53 c"), 2));
	cr_assert(eq(int, bl_gdesc_renumber(&d), 0));
	cr_assert(eq(str, (char *)names(), "rx a b c b2 c2"));
	/* a pipeline put in between that shares the prefix: the others keep their names */
	cr_assert(eq(int, share("rx | a |1 b |80 c; rx | a |1 b |22 c; rx | a |2 b |53 c"), 5));
	cr_assert(eq(int, bl_gdesc_renumber(&d), 0));
	cr_assert(eq(str, (char *)names(), "rx a b c c2 b2 c3"));
	/* given names stay, and no automatic name takes one, wherever it stands */
	cr_assert(eq(int, share("rx | a | c; rx | a | c --name=c2 | d; rx | a | c k=1"), 4));
	cr_assert(eq(int, bl_gdesc_renumber(&d), 0));
	cr_assert(eq(str, (char *)names(), "rx a c c2 d c3"));
	cr_assert(eq(int, bl_gdesc_find(&d, "c3"), 5), "the index follows the new names");
	cr_assert(eq(int, bl_gdesc_find(&d, "c"), 2));
}

Test(share, agrees_with_the_pairwise_reference)
{
	static const char *const calls[] = {
		"rx", "rx p=1", "a", "a k=1", "a k=1 j=2", "a j=2 k=1", "!a", "b \"x\"", "b",
		"x --name=x", "y --name=y", "c",
	};
	static const char *const ops[] = { " | ", " |1 ", " |2 ", " |!1 ", " |all ", " + ", " ++ ",
					   " +* ", "; ", "\n" };
	unsigned int seed = 15, tried = 0, merged_any = 0;

	for (int round = 0; round < 3000; round++) {
		char text[512];
		size_t n = 0;
		int len = 2 + (int)(rand_r(&seed) % 12), open = 0;

		for (int i = 0; i < len; i++) {
			if (rand_r(&seed) % 5 == 0 && open < 3) {
				n += (size_t)snprintf(text + n, sizeof(text) - n, "(");
				open++;
			}
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
					      calls[rand_r(&seed) % (sizeof(calls) / sizeof(calls[0]))]);
			if (open > 0 && rand_r(&seed) % 3 == 0) {
				n += (size_t)snprintf(text + n, sizeof(text) - n, ")");
				open--;
			}
			if (i + 1 < len)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
						      ops[rand_r(&seed) % (sizeof(ops) / sizeof(ops[0]))]);
		}
		while (open-- > 0)
			n += (size_t)snprintf(text + n, sizeof(text) - n, ")");

		struct bl_gdesc want;
		bl_gdesc_free(&d);
		if (bl_pipe_parse(text, NULL, &d, &err) != 0)
			continue;   /* e.g. a named node given other arguments */
		tried++;
		unsigned int ref = ref_share(&d, &want);
		int got = bl_graph_share_prefixes(&d);
		cr_assert(eq(int, got, (int)ref), "%s", text);
		cr_assert(bl_gdesc_equal(&d, &want), "%s: not the reference's graph", text);
		merged_any += ref > 0;
		bl_gdesc_free(&want);
	}
	cr_log_info("%u random pipelines, %u with merges", tried, merged_any);
	cr_assert(tried > 1000 && merged_any > 200, "%u tried, %u merged", tried, merged_any);
}

/* A chain listed sinks first (JSON may do that): one merge per round, still right. */
static void
reversed_chains(unsigned int depth)
{

	/* two equal chains rx -> a -> a -> ..., node indices falling along each */
	for (unsigned int c = 0; c < 2; c++)
		for (unsigned int k = depth; k-- > 0;) {
			char name[16];
			snprintf(name, sizeof(name), "c%u_%u", c, k);
			cr_assert(bl_gdesc_add_node(&d, name, k == 0 ? "rx" : "a") >= 0);
		}
	for (unsigned int c = 0; c < 2; c++)
		for (unsigned int k = 1; k < depth; k++) {
			unsigned int base = c * depth;   /* node of level k is base + depth - 1 - k */
			cr_assert(bl_gdesc_add_edge(&d, base + depth - k, base + depth - 1 - k, NULL, 0) >= 0);
		}
}

Test(share, chains_in_any_order)
{
	struct bl_gdesc want;
	double t;

	reversed_chains(40);
	ref_share(&d, &want);
	cr_assert(eq(int, bl_graph_share_prefixes(&d), 40));
	cr_assert(bl_gdesc_equal(&d, &want));
	bl_gdesc_free(&want);

	/* the longest: a round per level */
	bl_gdesc_free(&d);
	reversed_chains(BL_GDESC_MAX_NODES / 2);
	t = now();
	cr_assert(eq(int, bl_graph_share_prefixes(&d), BL_GDESC_MAX_NODES / 2));
	t = now() - t;
	cr_assert(eq(u32, d.n_nodes, BL_GDESC_MAX_NODES / 2));
	cr_assert(eq(u32, d.n_edges, BL_GDESC_MAX_NODES / 2 - 1));
	for (unsigned int i = 0; i < d.n_nodes; i++)
		cr_assert(strncmp(d.nodes[i].name, "c0_", 3) == 0, "the first chain's names stay");
	cr_assert(t < 2.0, "%.3f CPU s", t);
	cr_log_info("two reversed chains of %u: %.2f ms", BL_GDESC_MAX_NODES / 2, t * 1e3);
}

/* The largest descriptions the parsers make share in well under a second. */
Test(share, the_largest_descriptions_are_cheap, .timeout = 60)
{
	static const struct { const char *what, *stmt; unsigned int times; int merged; } cases[] = {
		{ "1024 equal sources", "a", 1024, 1023 },
		{ "32 equal chains of 32", "rx | a | a | a | a | a | a | a | a | a | a | a | a | a | a "
		  "| a | a | a | a | a | a | a | a | a | a | a | a | a | a | a | a | a", 32, 31 * 32 },
		{ "63 by 63 edges", "(a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + "
		  "a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + "
		  "a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + "
		  "a + a + a + a + a) | (b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + "
		  "b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + "
		  "b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b + b)",
		  1, 124 },
		{ "1024 distinct sources", NULL, 1024, 0 },
	};
	double worst = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t cap = cases[i].times * (cases[i].stmt ? strlen(cases[i].stmt) + 2 : 16) + 1, n = 0;
		char *text = malloc(cap);
		double t;
		int got;

		cr_assert(text != NULL);
		text[0] = '\0';
		for (unsigned int k = 0; k < cases[i].times; k++)
			if (cases[i].stmt != NULL)
				n += (size_t)snprintf(text + n, cap - n, "%s%s", k ? "; " : "", cases[i].stmt);
			else
				n += (size_t)snprintf(text + n, cap - n, "%ss k=%u", k ? "; " : "", k);
		bl_gdesc_free(&d);
		cr_assert(eq(int, bl_pipe_parse(text, NULL, &d, &err), 0), "%s: %s", cases[i].what, err.msg);
		unsigned int nodes = d.n_nodes, edges = d.n_edges;
		t = now();
		got = bl_graph_share_prefixes(&d);
		t = now() - t;
		cr_expect(eq(int, got, cases[i].merged), "%s", cases[i].what);
		cr_expect(t < 2.0, "%s: %.3f CPU s", cases[i].what, t);
		cr_log_info("%-26s %4u nodes %4u edges -> %3u nodes: %7.2f ms", cases[i].what, nodes,
			    edges, d.n_nodes, t * 1e3);
		worst = t > worst ? t : worst;
		free(text);
	}
	cr_log_info("worst %.2f ms", worst * 1e3);
}
