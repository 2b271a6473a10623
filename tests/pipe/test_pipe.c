/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline language: every operator and how it lowers, precedence,
 * labels, arguments, names and cycles, malformed text with its column, the
 * printer's round trip, and the JSON form compiling to the same graphs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "bl_pipe.h"

static const char *const known[] = {
	"rx", "tx", "bpf", "count", "gen", "ip", "ip6", "tcp", "udp", "http", "ssh", "rtsp",
	"inspect", "mpeg", "dport", "sport", "export", "log", "ids", "drop", "sample",
	"a", "b", "c", "d", "e", "x", "y", "pcap", NULL
};
static const struct bl_pipe_opts opts = { .filters = known };

static struct bl_gdesc g;
static struct bl_err err;

static void setup(void)    { bl_gdesc_init(&g); memset(&err, 0, sizeof(err)); }
static void teardown(void) { bl_gdesc_free(&g); }

TestSuite(pipe, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(pipe_err, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(pipe_print, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(pipe_json, .init = setup, .fini = teardown, .timeout = 10);

/* ---- helpers ---- */

static void
parse_ok(const char *text)
{
	int rc = bl_pipe_parse(text, &opts, &g, &err);
	cr_assert(eq(int, rc, 0), "parse \"%s\": %s", text, err.msg);
}

static const struct bl_gdesc_node *
node(const char *name)
{
	int i = bl_gdesc_find(&g, name);
	cr_assert(i >= 0, "no node %s", name);
	return &g.nodes[i];
}

/* How many edges from -> to carry the label written `label` (as after "|"). */
static unsigned int
edges(const struct bl_gdesc *d, const char *from, const char *to, const char *label)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->n_edges; i++) {
		char lb[256];
		const struct bl_gdesc_edge *e = &d->edges[i];
		cr_assert(bl_label_print(&e->label, lb, sizeof(lb)) >= 0);
		if (strcmp(d->nodes[e->from].name, from) == 0 &&
		    strcmp(d->nodes[e->to].name, to) == 0 && strcmp(lb, label) == 0)
			n++;
	}
	return n;
}

static void
counts(unsigned int nodes, unsigned int n_edges)
{
	cr_assert(eq(u32, g.n_nodes, nodes));
	cr_assert(eq(u32, g.n_edges, n_edges));
}

static bool
same(const char *a, const char *b)
{
	struct bl_gdesc ga, gb;
	bool eq;

	bl_gdesc_init(&ga);
	bl_gdesc_init(&gb);
	cr_assert(eq(int, bl_pipe_parse(a, &opts, &ga, &err), 0), "%s: %s", a, err.msg);
	cr_assert(eq(int, bl_pipe_parse(b, &opts, &gb, &err), 0), "%s: %s", b, err.msg);
	eq = bl_gdesc_equal(&ga, &gb);
	bl_gdesc_free(&ga);
	bl_gdesc_free(&gb);
	return eq;
}

/* ---- operators and their lowering ---- */

Test(pipe, chain)
{
	parse_ok("rx port=in0 | bpf \"tcp port 80\" | export name=web");
	counts(3, 2);
	cr_assert(eq(str, (char *)node("rx")->filter, "rx"));
	cr_assert(eq(str, bl_args_get(&node("rx")->args, "port")->value, "in0"));
	cr_assert(eq(u32, node("bpf")->args.n, 1));
	cr_assert(node("bpf")->args.v[0].key == NULL);
	cr_assert(eq(str, (char *)node("bpf")->args.v[0].value, "tcp port 80"));
	cr_assert(eq(u32, node("bpf")->args.v[0].col, 19));
	cr_assert(eq(u32, node("bpf")->col, 15));
	cr_assert(eq(u32, edges(&g, "rx", "bpf", ""), 1));
	cr_assert(eq(u32, edges(&g, "bpf", "export", ""), 1));
	cr_assert(eq(int, g.edges[0].label.kind, BL_LABEL_DEFAULT));
	cr_assert(eq(u32, g.edges[0].col, 13));
	cr_assert(eq(int, node("rx")->named, 0));
}

Test(pipe, single_filter_and_empty_text)
{
	parse_ok("");
	parse_ok(" ; ;\n\n ");
	counts(0, 0);
	parse_ok("drop");
	counts(1, 0);
}

Test(pipe, split_join)
{
	parse_ok("tcp | http + ssh + rtsp | inspect");
	counts(5, 6);
	cr_assert(eq(u32, edges(&g, "tcp", "http", ""), 1));
	cr_assert(eq(u32, edges(&g, "tcp", "ssh", ""), 1));
	cr_assert(eq(u32, edges(&g, "tcp", "rtsp", ""), 1));
	cr_assert(eq(u32, edges(&g, "http", "inspect", ""), 1));
	cr_assert(eq(u32, edges(&g, "ssh", "inspect", ""), 1));
	cr_assert(eq(u32, edges(&g, "rtsp", "inspect", ""), 1));
}

Test(pipe, union_node)
{
	parse_ok("rx ++ tx | ip");
	counts(4, 3);
	cr_assert(eq(str, (char *)node("union")->filter, "union"));
	cr_assert(eq(u32, node("union")->col, 4));
	cr_assert(eq(u32, edges(&g, "rx", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "tx", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "union", "ip", ""), 1));
}

Test(pipe, union_run_is_one_node)
{
	parse_ok("a ++ b ++ c | d");
	counts(5, 4);
	cr_assert(eq(u32, edges(&g, "c", "union", ""), 1));
	cr_assert(bl_gdesc_find(&g, "union2") < 0);
}

Test(pipe, union_parenthesised_nests)
{
	parse_ok("(a ++ b) ++ c");
	counts(5, 4);
	cr_assert(eq(u32, edges(&g, "a", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "union", "union2", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "union2", ""), 1));
}

Test(pipe, intersection_and_negation)
{
	parse_ok("mpeg +* !http");
	counts(3, 2);
	cr_assert(eq(str, (char *)node("intersect")->filter, "intersect"));
	cr_assert(node("http")->negate);
	cr_assert(eq(int, node("mpeg")->negate, 0));
	cr_assert(eq(u32, edges(&g, "mpeg", "intersect", ""), 1));
	cr_assert(eq(u32, edges(&g, "http", "intersect", ""), 1));
}

Test(pipe, design_example_boolean)
{
	parse_ok("rx ++ tx | ip | mpeg +* !http");
	counts(7, 7);
	cr_assert(eq(u32, edges(&g, "union", "ip", ""), 1));
	cr_assert(eq(u32, edges(&g, "ip", "mpeg", ""), 1));
	cr_assert(eq(u32, edges(&g, "ip", "http", ""), 1));
	cr_assert(eq(u32, edges(&g, "http", "intersect", ""), 1));
	cr_assert(node("http")->negate);
}

Test(pipe, intersect_joins_a_branch_with_several_exits)
{
	parse_ok("a + b +* c | d");
	counts(6, 5);
	cr_assert(eq(u32, edges(&g, "a", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "union", "intersect", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "intersect", ""), 1));
	cr_assert(eq(u32, edges(&g, "intersect", "d", ""), 1));
	cr_assert(same("a + b +* c | d", "(a + b) +* c | d"));
}

Test(pipe, intersect_of_a_parenthesised_split)
{
	parse_ok("x +* (a | b + c)");
	counts(6, 6);
	cr_assert(eq(u32, edges(&g, "a", "b", ""), 1));
	cr_assert(eq(u32, edges(&g, "a", "c", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "union", "intersect", ""), 1));
	cr_assert(eq(u32, edges(&g, "x", "intersect", ""), 1));
}

Test(pipe, mixed_operators_fold_left)
{
	/* (a ++ b) + c: the union's exit and c both feed d */
	parse_ok("a ++ b + c | d");
	counts(5, 4);
	cr_assert(eq(u32, edges(&g, "union", "d", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "d", ""), 1));
	bl_gdesc_free(&g);
	/* (a + b) ++ c: one union of all three */
	parse_ok("a + b ++ c");
	counts(4, 3);
	cr_assert(eq(u32, edges(&g, "a", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "union", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "union", ""), 1));
	cr_assert(same("a ++ b + c ++ d", "((a ++ b) + c) ++ d"));
}

Test(pipe, precedence_plus_binds_tighter)
{
	cr_assert(same("a | b + c | d", "a | (b + c) | d"));
	cr_assert(eq(int, same("a | b + c | d", "(a | b) + (c | d)"), 0));
	parse_ok("(a | b) + (c | d) | e");
	counts(5, 4);
	cr_assert(eq(u32, edges(&g, "b", "e", ""), 1));
	cr_assert(eq(u32, edges(&g, "d", "e", ""), 1));
	cr_assert(eq(u32, edges(&g, "a", "e", ""), 0));
}

Test(pipe, parentheses_entries_and_exits)
{
	parse_ok("x | ((a | b) + c) | d");
	counts(5, 5);
	cr_assert(eq(u32, edges(&g, "x", "a", ""), 1));
	cr_assert(eq(u32, edges(&g, "x", "c", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "d", ""), 1));
	cr_assert(eq(u32, edges(&g, "c", "d", ""), 1));
	cr_assert(eq(u32, edges(&g, "a", "b", ""), 1));
}

Test(pipe, split_on_both_sides_of_a_pipe)
{
	parse_ok("(a + b) |80 (c + d)");
	counts(4, 4);
	cr_assert(eq(u32, edges(&g, "a", "c", "80"), 1));
	cr_assert(eq(u32, edges(&g, "a", "d", "80"), 1));
	cr_assert(eq(u32, edges(&g, "b", "c", "80"), 1));
	cr_assert(eq(u32, edges(&g, "b", "d", "80"), 1));
}

/* ---- labels ---- */

Test(pipe, labels_every_form)
{
	const struct bl_label *l;

	parse_ok("dport |80 a --name=n1; dport --name=dport |!80 a --name=n2; "
		 "dport --name=dport |22:23 a --name=n3; dport --name=dport |ssh:telnet a --name=n4; "
		 "dport --name=dport |80,443 a --name=n5; dport --name=dport |all a --name=n6; "
		 "dport --name=dport | a --name=n7; dport --name=dport |!ssh,1000:2000 a --name=n8");
	counts(9, 8);
	l = &g.edges[0].label;
	cr_assert(eq(int, l->kind, BL_LABEL_SET));
	cr_assert(eq(int, l->invert, 0));
	cr_assert(eq(u32, l->n, 1));
	cr_assert(eq(u32, l->r[0].lo.num, 80));
	cr_assert(eq(u32, l->r[0].hi.num, 80));
	l = &g.edges[1].label;
	cr_assert(l->invert && l->n == 1 && l->r[0].lo.num == 80);
	l = &g.edges[2].label;
	cr_assert(eq(u32, l->r[0].lo.num, 22));
	cr_assert(eq(u32, l->r[0].hi.num, 23));
	l = &g.edges[3].label;
	cr_assert(eq(str, (char *)l->r[0].lo.name, "ssh"));
	cr_assert(eq(str, (char *)l->r[0].hi.name, "telnet"));
	l = &g.edges[4].label;
	cr_assert(eq(u32, l->n, 2));
	cr_assert(eq(u32, l->r[1].lo.num, 443));
	cr_assert(eq(int, g.edges[5].label.kind, BL_LABEL_ALL));
	cr_assert(eq(int, g.edges[6].label.kind, BL_LABEL_DEFAULT));
	l = &g.edges[7].label;
	cr_assert(l->invert && l->n == 2);
	cr_assert(eq(str, (char *)l->r[0].lo.name, "ssh"));
	cr_assert(eq(u32, l->r[1].hi.num, 2000));
	cr_assert(eq(u32, g.edges[0].col, 7));
}

Test(pipe, label_applies_to_every_edge_of_a_split)
{
	parse_ok("dport |22:23 log + ids");
	cr_assert(eq(u32, edges(&g, "dport", "log", "22:23"), 1));
	cr_assert(eq(u32, edges(&g, "dport", "ids", "22:23"), 1));
	cr_assert(eq(u32, g.edges[0].col, 7));
}

Test(pipe, label_parse_api)
{
	struct bl_label l;
	char buf[64];

	cr_assert(eq(int, bl_label_parse("4294967295", &l, &err), 0));
	cr_assert(eq(u32, l.r[0].lo.num, 4294967295u));
	cr_assert(eq(int, bl_label_parse("", &l, &err), 0));
	cr_assert(eq(int, l.kind, BL_LABEL_DEFAULT));
	cr_assert(eq(int, bl_label_parse("!ssh:100,7", &l, &err), 0));
	cr_assert(eq(int, bl_label_print(&l, buf, sizeof(buf)), 10));
	cr_assert(eq(str, buf, "!ssh:100,7"));
	cr_assert(eq(int, bl_label_print(&l, buf, 5), -ENOSPC));
	cr_assert(eq(int, bl_label_parse("0", &l, &err), -EINVAL));
	cr_assert(strstr(err.msg, "0 means drop") != NULL, "%s", err.msg);
}

/* ---- arguments ---- */

Test(pipe, arguments_quoted_and_keyed)
{
	const struct bl_gdesc_node *n;

	parse_ok("gen proto=udp size=64 dst=\"10.0.0.0/24\" \"a \\\"b\\\" \\\\c\" name=\"\" "
		 "rate=1e6 x.y-z=a=b");
	n = node("gen");
	cr_assert(eq(u32, n->args.n, 7));
	cr_assert(eq(str, bl_args_get(&n->args, "proto")->value, "udp"));
	cr_assert(eq(str, bl_args_get(&n->args, "size")->value, "64"));
	cr_assert(eq(str, bl_args_get(&n->args, "dst")->value, "10.0.0.0/24"));
	cr_assert(n->args.v[3].key == NULL);
	cr_assert(eq(str, n->args.v[3].value, "a \"b\" \\c"));
	cr_assert(eq(str, bl_args_get(&n->args, "name")->value, ""));
	cr_assert(eq(str, bl_args_get(&n->args, "x.y-z")->value, "a=b"));
	cr_assert(bl_args_get(&n->args, "nope") == NULL);
	cr_assert(eq(u32, bl_args_get(&n->args, "size")->col, 15));
}

Test(pipe, quoted_operators_are_text)
{
	parse_ok("bpf \"tcp | udp; (x) + y !z\" | count");
	counts(2, 1);
	cr_assert(eq(str, (char *)node("bpf")->args.v[0].value, "tcp | udp; (x) + y !z"));
}

Test(pipe, arguments_end_at_operators_without_blanks)
{
	parse_ok("(a k=1)+b|80 c");
	counts(3, 2);
	cr_assert(eq(str, bl_args_get(&node("a")->args, "k")->value, "1"));
	cr_assert(eq(u32, edges(&g, "a", "c", "80"), 1));
}

/* ---- names, cycles, statements ---- */

Test(pipe, name_twice_is_a_cycle)
{
	parse_ok("a --name=X | b | a --name=X");
	counts(2, 2);
	cr_assert(eq(str, (char *)node("X")->filter, "a"));
	cr_assert(node("X")->named);
	cr_assert(eq(u32, edges(&g, "X", "b", ""), 1));
	cr_assert(eq(u32, edges(&g, "b", "X", ""), 1));
}

Test(pipe, self_loop_and_repeated_arguments)
{
	parse_ok("sample every=4 --name=s |all sample every=4 --name=s");
	counts(1, 1);
	cr_assert(eq(u32, edges(&g, "s", "s", "all"), 1));
	cr_assert(eq(u32, node("s")->args.n, 1));
}

Test(pipe, reference_keeps_negation)
{
	parse_ok("!a --name=n | b | a --name=n; !a --name=n | c");
	counts(3, 3);
	cr_assert(node("n")->negate);
}

Test(pipe, auto_names_are_unique)
{
	parse_ok("bpf | bpf | bpf");
	counts(3, 2);
	cr_assert(eq(u32, edges(&g, "bpf", "bpf2", ""), 1));
	cr_assert(eq(u32, edges(&g, "bpf2", "bpf3", ""), 1));
	parse_ok("bpf --name=bpf5 | bpf");
	cr_assert(eq(u32, edges(&g, "bpf5", "bpf4", ""), 1));
}

Test(pipe, statements_share_named_nodes)
{
	parse_ok("rx port=in --name=r | bpf \"tcp\" | tx port=out; rx --name=r | count\n"
		 "rx --name=r |80 pcap file=web.pcap");
	counts(5, 4);
	cr_assert(eq(u32, edges(&g, "r", "bpf", ""), 1));
	cr_assert(eq(u32, edges(&g, "r", "count", ""), 1));
	cr_assert(eq(u32, edges(&g, "r", "pcap", "80"), 1));
	cr_assert(eq(str, bl_args_get(&node("r")->args, "port")->value, "in"));
}

Test(pipe, separate_parses_share_one_gdesc)
{
	parse_ok("rx port=in --name=r | bpf \"tcp\" | count");
	parse_ok("rx --name=r | bpf \"udp\" | count");
	counts(5, 4);
	cr_assert(eq(str, (char *)node("bpf2")->args.v[0].value, "udp"));
	cr_assert(eq(u32, edges(&g, "r", "bpf2", ""), 1));
	cr_assert(eq(u32, edges(&g, "bpf2", "count2", ""), 1));
}

Test(pipe, newlines)
{
	/* after an operator a newline is a blank; after a statement it ends it */
	cr_assert(eq(int, bl_pipe_parse("rx |\n  bpf \"tcp\"\n  | count", &opts, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "col 20: expected a filter name, got \"|\""));
	parse_ok("rx |\n bpf +\n count");
	counts(3, 2);
	bl_gdesc_free(&g);
	parse_ok("(rx\n | bpf\n + count\n)");
	counts(3, 2);
	bl_gdesc_free(&g);
	parse_ok("a\nb\r\nc");
	counts(3, 0);
}

Test(pipe, any_filter_without_a_list_union_always)
{
	cr_assert(eq(int, bl_pipe_parse("whatever | zz-top_2 | union", NULL, &g, &err), 0));
	counts(3, 2);
	parse_ok("a | intersect | union");
}

/* ---- malformed pipelines: column and what was expected ---- */

struct bad {
	const char *text;
	const char *col;         /* "col N:" */
	const char *phrase;
};

static const struct bad bad_pipes[] = {
	{ "rx | tcp | bfp",             "col 12:", "unknown filter \"bfp\" (did you mean \"bpf\"?)" },
	{ "rx | tcp | qqqqqqq",         "col 12:", "unknown filter \"qqqqqqq\"" },
	{ "rx port=in | | tx",          "col 14:", "expected a filter name, got \"|\"" },
	{ "| rx",                       "col 1:",  "expected a filter name, got \"|\"" },
	{ "rx |",                       "col 5:",  "expected a filter name, got end of pipeline" },
	{ "rx + ",                      "col 6:",  "expected a filter name, got end of pipeline" },
	{ "rx | 80 tx",                 "col 6:",  "expected a filter name, got \"80\"" },
	{ "rx | \"tcp\"",               "col 6:",  "expected a filter name, got a quoted argument" },
	{ "rx | ;",                     "col 6:",  "expected a filter name, got \";\"" },
	{ "rx | (a + b) | tx)",         "col 18:", "unbalanced \")\"" },
	{ ")",                          "col 1:",  "expected a filter name, got \")\"" },
	{ "rx | (a + (b | c)",          "col 6:",  "unbalanced \"(\"" },
	{ "rx | (a ; b)",               "col 9:",  "expected \"|\", \"+\", \"++\", \"+*\" or \")\"" },
	{ "rx | ()",                    "col 7:",  "expected a filter name, got \")\"" },
	{ "bpf \"tcp port 80 | tx",     "col 5:",  "unterminated quoted argument" },
	{ "bpf \"tcp\\",                "col 5:",  "unterminated quoted argument" },
	{ "bpf \"a\\tb\"",              "col 7:",  "unknown escape \"\\t\"" },
	{ "rx | !(a + b)",              "col 6:",  "\"!\" applies to one filter, not to a group" },
	{ "rx | !!a",                   "col 7:",  "expected a filter name, got \"!\"" },
	{ "rx | a !b",                  "col 8:",  "\"!\" goes before a filter name" },
	{ "rx |8x0 tx",                 "col 5:",  "bad edge label \"8x0\"" },
	{ "rx |0 tx",                   "col 5:",  "0 means drop" },
	{ "rx |0:5 tx",                 "col 5:",  "write |all" },
	{ "rx |30:20 tx",               "col 5:",  "the range 30:20 is empty" },
	{ "rx |4294967296 tx",          "col 5:",  "at most 4294967295" },
	{ "rx |all,80 tx",              "col 5:",  "\"all\" stands alone" },
	{ "rx |!all tx",                "col 5:",  "\"all\" stands alone" },
	{ "rx |! tx",                   "col 5:",  "bad edge label \"!\"" },
	{ "rx |80, tx",                 "col 5:",  "bad edge label \"80,\"" },
	{ "rx |1:2:3 tx",               "col 5:",  "bad edge label \"1:2:3\"" },
	{ "rx |1,2,3,4,5,6,7,8,9 tx",   "col 5:",  "at most 8 ranges" },
	{ "rx|tx",                      "col 4:",  "write \"| tx\" if tx is a filter" },
	{ "rx (tx)",                    "col 4:",  "expected \"|\", \"+\", \"++\", \"+*\", \";\" or the end" },
	{ "gen size=64 size=128",       "col 13:", "argument \"size\" given twice" },
	{ "gen =64",                    "col 5:",  "expected a key before \"=\"" },
	{ "gen size=",                  "col 5:",  "expected a value after \"size=\"" },
	{ "gen a/b=1",                  "col 5:",  "bad argument key \"a/b\"" },
	{ "gen \"x\"y",                 "col 8:",  "expected a blank after the quoted argument" },
	{ "gen k=v\"x\"",               "col 8:",  "expected a blank before the quoted argument" },
	{ "gen --nmae=x",               "col 5:",  "unknown option \"--nmae=x\"" },
	{ "gen --name=1x",              "col 12:", "bad node name \"1x\"" },
	{ "gen --name=x --name=y",      "col 14:", "--name given twice" },
	{ "a --name=x | b | c --name=x", "col 18:", "node \"x\" was declared as filter \"a\", here \"c\"" },
	{ "a --name=x k=1 | b | a k=2 --name=x", "col 28:", "declared with other arguments" },
	{ "a --name=x | b | !a --name=x", "col 18:", "declared without \"!\"" },
	{ "rx;\n| tx",                  "col 5:",  "expected a filter name, got \"|\"" },
	{ "abcdefghijabcdefghijabcdefghijabc", "col 1:", "is too long (at most 31 characters)" },
	{ "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
					"col 65:", "nested too deep" },
};

Test(pipe_err, malformed_pipelines)
{
	for (size_t i = 0; i < sizeof(bad_pipes) / sizeof(bad_pipes[0]); i++) {
		const struct bad *b = &bad_pipes[i];
		size_t cl = strlen(b->col);
		int rc;

		memset(&err, 0, sizeof(err));
		rc = bl_pipe_parse(b->text, &opts, &g, &err);
		cr_expect(eq(int, rc, -EINVAL), "[%zu] %s: rc %d", i, b->text, rc);
		cr_expect(strncmp(err.msg, b->col, cl) == 0 && err.msg[cl] == ' ',
			  "[%zu] %s: want %s, got: %s", i, b->text, b->col, err.msg);
		cr_expect(strstr(err.msg, b->phrase) != NULL, "[%zu] %s: want \"%s\" in: %s", i,
			  b->text, b->phrase, err.msg);
		cr_expect(eq(int, err.code, -EINVAL));
		cr_expect(eq(u32, g.n_nodes, 0), "[%zu] %s left nodes", i, b->text);
		cr_expect(eq(u32, g.n_edges, 0), "[%zu] %s left edges", i, b->text);
	}
	cr_log_info("%zu malformed pipelines", sizeof(bad_pipes) / sizeof(bad_pipes[0]));
}

Test(pipe_err, exact_messages)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "rx port=in0 | bfp", "col 15: unknown filter \"bfp\" (did you mean \"bpf\"?)" },
		{ "rx | tcp | | tx", "col 12: expected a filter name, got \"|\"" },
		{ "rx | tcp | tx)", "col 14: unbalanced \")\"" },
		{ "rx \"abc", "col 4: unterminated quoted argument" },
		{ "rx | !(tx)", "col 6: \"!\" applies to one filter, not to a group" },
		{ "rx | a --name=x | b --name=x", "col 19: node \"x\" was declared as filter \"a\", here \"b\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		cr_expect(eq(int, bl_pipe_parse(cases[i].text, &opts, &g, &err), -EINVAL));
		cr_expect(eq(str, err.msg, (char *)cases[i].msg));
	}
}

Test(pipe_err, did_you_mean_only_with_a_list)
{
	const char *const filters[] = { "bpf", "count", "tx", NULL };
	const struct bl_pipe_opts o = { .filters = filters };

	cr_assert(eq(int, bl_pipe_parse("cuont", &o, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "col 1: unknown filter \"cuont\" (did you mean \"count\"?)"));
	cr_assert(eq(int, bl_pipe_parse("unoin", &o, &g, &err), -EINVAL));
	cr_assert(strstr(err.msg, "did you mean \"union\"") != NULL, "%s", err.msg);
	cr_assert(eq(int, bl_pipe_parse("bfp", NULL, &g, &err), 0));
}

Test(pipe_err, failure_leaves_the_gdesc_unchanged)
{
	static const char *const bad[] = {
		"rx --name=r | zzz",                     /* shares r, then fails */
		"rx --name=q | bpf | count | tx |0 drop", /* fails after new nodes and edges */
		"rx --name=r | bpf ++ count +* tx | (drop",
		"x; a --name=r",
		"rx --name=r k=2",
		"tcp | a + b +* c | d |8x0 e",
	};
	struct bl_gdesc ref;

	bl_gdesc_init(&ref);
	parse_ok("rx port=in --name=r | bpf \"tcp\" | tx; rx --name=r |80 count");
	cr_assert(eq(int, bl_pipe_parse("rx port=in --name=r | bpf \"tcp\" | tx; "
					"rx --name=r |80 count", &opts, &ref, &err), 0));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect(eq(int, bl_pipe_parse(bad[i], &opts, &g, &err), -EINVAL), "%s", bad[i]);
		cr_expect(bl_gdesc_equal(&g, &ref), "%s changed the gdesc", bad[i]);
		cr_expect(eq(u32, g.n_nodes, 4));
		cr_expect(eq(u32, g.n_edges, 3));
	}
	/* and a good one still appends after all that */
	parse_ok("rx --name=r | bpf \"udp\"");
	counts(5, 4);
	cr_assert(eq(str, (char *)node("bpf2")->args.v[0].value, "udp"));
	bl_gdesc_free(&ref);
}

Test(pipe_err, null_err_is_allowed)
{
	cr_assert(eq(int, bl_pipe_parse("rx |", &opts, &g, NULL), -EINVAL));
	cr_assert(eq(int, bl_pipe_parse(NULL, &opts, &g, &err), -EINVAL));
}

/* ---- the printer ---- */

static const char *const round_trip[] = {
	"rx port=in0 | bpf \"tcp port 80\" | export name=web",
	"tcp | http + ssh + rtsp | inspect",
	"rx ++ tx | ip | mpeg +* !http",
	"dport |22:23 log; dport |!80 ids",
	"a --name=X | b | a --name=X",
	"a --name=X |80 b | c |all a --name=X",
	"sample every=4 --name=s |all sample --name=s",
	"a | b + c | d",
	"(a | b) + (c | d) | e",
	"a + b +* c | d",
	"x +* (a | b + c)",
	"(a ++ b) ++ c",
	"a ++ b + c ++ d | e",
	"dport |ssh:telnet,22:23,x log",
	"dport |!ssh,1000:2000,7 a | b |4294967295 c",
	"gen proto=udp size=64 dst=\"10.0.0.0/24\" \"a \\\"b\\\" \\\\c\" name=\"\" | tx",
	"bpf \"tcp | udp; (x) + y !z\" \"--name=no\" \"k=v\" \"!x\" \"\" \"a\tb\" | count",
	"bpf | bpf | bpf --name=bpf2 | bpf",
	"bpf --name=bpf3 | bpf | bpf",
	"!a | !b --name=q | a --name=a; b --name=q | c; d; e e=1",
	"rx --name=r | bpf \"tcp\" | tx; rx --name=r | count; rx --name=r |80 pcap file=x.pcap",
	"a | b | c | a --name=a; b --name=b | d | c --name=c",
	"union | intersect | union; union --name=union2x | union --name=union",
	"a --name=A | a --name=B | a --name=A | a --name=A",
	"x k=\"+\" j=\"(\" l=a=b m=\"x y\" n=é",
};

Test(pipe_print, round_trip_table)
{
	size_t n = sizeof(round_trip) / sizeof(round_trip[0]);

	cr_assert(n >= 20);
	for (size_t i = 0; i < n; i++) {
		struct bl_gdesc a, b;
		char buf[2048];
		int len;

		bl_gdesc_init(&a);
		bl_gdesc_init(&b);
		cr_assert(eq(int, bl_pipe_parse(round_trip[i], NULL, &a, &err), 0), "%s: %s",
			  round_trip[i], err.msg);
		len = bl_pipe_print(&a, buf, sizeof(buf));
		cr_assert(len > 0, "%s: print %d", round_trip[i], len);
		cr_assert(eq(u64, (uint64_t)len, strlen(buf)));
		cr_expect(eq(int, bl_pipe_parse(buf, NULL, &b, &err), 0), "%s -> %s: %s",
			  round_trip[i], buf, err.msg);
		cr_expect(bl_gdesc_equal(&a, &b), "%s -> %s: not equal", round_trip[i], buf);
		bl_gdesc_free(&a);
		bl_gdesc_free(&b);
	}
}

Test(pipe_print, simple_chains_read_as_written)
{
	static const char *const same_text[] = {
		"rx port=in0 | bpf \"tcp port 80\" | export name=web",
		"rx | tx",
		"dport |22:23 log; dport |!80 ids",
		"a --name=X | b | a --name=X",
		"bpf | bpf | bpf",
		"drop",
		"",
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(same_text) / sizeof(same_text[0]); i++) {
		bl_gdesc_free(&g);
		parse_ok(same_text[i]);
		cr_expect(bl_pipe_print(&g, buf, sizeof(buf)) >= 0);
		cr_expect(eq(str, buf, (char *)same_text[i]));
	}
}

Test(pipe_print, too_small_and_dup)
{
	char buf[8];
	char *s;

	parse_ok("rx port=in0 | tx port=out0");
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -ENOSPC));
	cr_assert(eq(int, bl_pipe_print(&g, NULL, 0), -ENOSPC));
	s = bl_pipe_print_dup(&g);
	cr_assert(s != NULL);
	cr_assert(eq(str, s, "rx port=in0 | tx port=out0"));
	free(s);
}

Test(pipe_print, refuses_what_it_cannot_write)
{
	char buf[256];
	int i;

	i = bl_gdesc_add_node(&g, "bad name", "rx");
	cr_assert(i >= 0);
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -EINVAL));
	bl_gdesc_free(&g);
	cr_assert(bl_gdesc_add_node(&g, "a", "rx") == 0);
	struct bl_label l = { .kind = BL_LABEL_SET, .n = 0 };
	cr_assert(bl_gdesc_add_edge(&g, 0, 0, &l, 0) == 0);
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -EINVAL));
}

/* ---- the JSON form ---- */

static int
json(const char *text, const struct bl_pipe_opts *o)
{
	cJSON *j = cJSON_Parse(text);
	int rc;

	cr_assert(j != NULL, "bad test JSON: %s", text);
	rc = bl_gdesc_from_json(j, "graph", o, &g, &err);
	cJSON_Delete(j);
	return rc;
}

static const struct { const char *pipe, *json; } pairs[] = {
	{ "rx port=in0 | bpf \"tcp port 80\" | export name=web",
	  "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\", \"args\": {\"port\": \"in0\"}},"
	  " {\"name\": \"bpf\", \"filter\": \"bpf\", \"positional\": [\"tcp port 80\"]},"
	  " {\"name\": \"export\", \"filter\": \"export\", \"args\": {\"name\": \"web\"}}],"
	  " \"edges\": [{\"from\": \"rx\", \"to\": \"bpf\"}, {\"from\": \"bpf\", \"to\": \"export\"}]}" },
	{ "tcp | http + ssh | inspect",
	  "{\"nodes\": [{\"name\": \"tcp\", \"filter\": \"tcp\"}, {\"name\": \"http\", \"filter\": \"http\"},"
	  " {\"name\": \"ssh\", \"filter\": \"ssh\"}, {\"name\": \"inspect\", \"filter\": \"inspect\"}],"
	  " \"edges\": [{\"from\": \"tcp\", \"to\": \"http\"}, {\"from\": \"tcp\", \"to\": \"ssh\"},"
	  " {\"from\": \"ssh\", \"to\": \"inspect\"}, {\"from\": \"http\", \"to\": \"inspect\"}]}" },
	{ "rx ++ tx | ip",
	  "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}, {\"name\": \"tx\", \"filter\": \"tx\"},"
	  " {\"name\": \"union\", \"filter\": \"union\"}, {\"name\": \"ip\", \"filter\": \"ip\"}],"
	  " \"edges\": [{\"from\": \"rx\", \"to\": \"union\"}, {\"from\": \"tx\", \"to\": \"union\"},"
	  " {\"from\": \"union\", \"to\": \"ip\"}]}" },
	{ "mpeg +* !http",
	  "{\"nodes\": [{\"name\": \"mpeg\", \"filter\": \"mpeg\", \"negate\": false},"
	  " {\"name\": \"http\", \"filter\": \"http\", \"negate\": true},"
	  " {\"name\": \"intersect\", \"filter\": \"intersect\"}],"
	  " \"edges\": [{\"from\": \"http\", \"to\": \"intersect\"}, {\"from\": \"mpeg\", \"to\": \"intersect\"}]}" },
	{ "a --name=X | b | a --name=X",
	  "{\"nodes\": [{\"name\": \"X\", \"filter\": \"a\"}, {\"name\": \"b\", \"filter\": \"b\"}],"
	  " \"edges\": [{\"from\": \"X\", \"to\": \"b\"}, {\"from\": \"b\", \"to\": \"X\"}]}" },
	{ "dport |22:23 log; dport --name=dport |!80 ids",
	  "{\"nodes\": [{\"name\": \"dport\", \"filter\": \"dport\"}, {\"name\": \"log\", \"filter\": \"log\"},"
	  " {\"name\": \"ids\", \"filter\": \"ids\"}],"
	  " \"edges\": [{\"from\": \"dport\", \"to\": \"log\", \"label\": \"22:23\"},"
	  " {\"from\": \"dport\", \"to\": \"ids\", \"label\": \"!80\"}]}" },
	{ "a |ssh:telnet b; a --name=a |all c; a --name=a |80,443 d",
	  "{\"nodes\": [{\"name\": \"a\", \"filter\": \"a\"}, {\"name\": \"b\", \"filter\": \"b\"},"
	  " {\"name\": \"c\", \"filter\": \"c\"}, {\"name\": \"d\", \"filter\": \"d\"}],"
	  " \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"label\": \"ssh:telnet\"},"
	  " {\"from\": \"a\", \"to\": \"c\", \"label\": \"all\"}, {\"from\": \"a\", \"to\": \"d\", \"label\": \"80,443\"}]}" },
	{ "gen size=64 rate=1.5 on=true \"x \\\"y\\\"\" | dport |80 tx",
	  "{\"nodes\": [{\"name\": \"gen\", \"filter\": \"gen\", \"positional\": [\"x \\\"y\\\"\"],"
	  " \"args\": {\"size\": 64, \"rate\": 1.5, \"on\": true}},"
	  " {\"name\": \"dport\", \"filter\": \"dport\"}, {\"name\": \"tx\", \"filter\": \"tx\"}],"
	  " \"edges\": [{\"from\": \"gen\", \"to\": \"dport\"}, {\"from\": \"dport\", \"to\": \"tx\", \"label\": 80}]}" },
	{ "a + b +* c | d",
	  "{\"nodes\": [{\"name\": \"a\", \"filter\": \"a\"}, {\"name\": \"b\", \"filter\": \"b\"},"
	  " {\"name\": \"c\", \"filter\": \"c\"}, {\"name\": \"union\", \"filter\": \"union\"},"
	  " {\"name\": \"intersect\", \"filter\": \"intersect\"}, {\"name\": \"d\", \"filter\": \"d\"}],"
	  " \"edges\": [{\"from\": \"a\", \"to\": \"union\"}, {\"from\": \"b\", \"to\": \"union\"},"
	  " {\"from\": \"union\", \"to\": \"intersect\"}, {\"from\": \"c\", \"to\": \"intersect\"},"
	  " {\"from\": \"intersect\", \"to\": \"d\"}]}" },
};

Test(pipe_json, same_graph_as_the_pipeline)
{
	cr_assert(sizeof(pairs) / sizeof(pairs[0]) >= 8);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct bl_gdesc p;
		char *text;

		bl_gdesc_free(&g);
		bl_gdesc_init(&p);
		cr_assert(eq(int, bl_pipe_parse(pairs[i].pipe, &opts, &p, &err), 0), "%s: %s",
			  pairs[i].pipe, err.msg);
		cr_assert(eq(int, json(pairs[i].json, &opts), 0), "[%zu] %s", i, err.msg);
		cr_expect(bl_gdesc_equal(&g, &p), "[%zu] %s differs from its JSON", i, pairs[i].pipe);
		/* and the JSON graph prints to text that parses back to it */
		text = bl_pipe_print_dup(&g);
		cr_assert(text != NULL);
		bl_gdesc_free(&p);
		cr_assert(eq(int, bl_pipe_parse(text, NULL, &p, &err), 0), "%s: %s", text, err.msg);
		cr_expect(bl_gdesc_equal(&g, &p), "[%zu] printed %s differs", i, text);
		free(text);
		bl_gdesc_free(&p);
	}
}

Test(pipe_json, nodes_are_named)
{
	cr_assert(eq(int, json("{\"nodes\": [{\"name\": \"r\", \"filter\": \"rx\"}]}", &opts), 0));
	counts(1, 0);
	cr_assert(node("r")->named);
	cr_assert(eq(u32, node("r")->col, 0));
}

static const struct { const char *json, *msg; } bad_json[] = {
	{ "[]", "graph: expected an object with \"nodes\" and \"edges\", got an array" },
	{ "{\"edges\": []}", "graph: missing \"nodes\"" },
	{ "{\"nodes\": []}", "graph.nodes: expected at least one node" },
	{ "{\"nodes\": [], \"egdes\": []}", "graph.egdes: unknown key (did you mean \"edges\"?)" },
	{ "{\"nodes\": {}}", "graph.nodes: expected an array, got an object" },
	{ "{\"nodes\": [{\"name\": \"a\", \"fliter\": \"rx\"}]}",
	  "graph.nodes[0].fliter: unknown key (did you mean \"filter\"?)" },
	{ "{\"nodes\": [{\"name\": \"a\"}]}", "graph.nodes[0]: missing \"filter\"" },
	{ "{\"nodes\": [{\"filter\": \"rx\"}]}", "graph.nodes[0]: missing \"name\"" },
	{ "{\"nodes\": [{\"name\": 3, \"filter\": \"rx\"}]}",
	  "graph.nodes[0].name: expected a string, got a number" },
	{ "{\"nodes\": [{\"name\": \"a b\", \"filter\": \"rx\"}]}", "graph.nodes[0].name: bad node name \"a b\"" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\"}, {\"name\": \"b\", \"filter\": \"bfp\"}]}",
	  "graph.nodes[1].filter: unknown filter \"bfp\" (did you mean \"bpf\"?)" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\"}, {\"name\": \"a\", \"filter\": \"tx\"}]}",
	  "graph.nodes[1].name: node \"a\" is defined twice" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"negate\": 1}]}",
	  "graph.nodes[0].negate: expected a boolean, got a number" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"args\": {\"port\": [1]}}]}",
	  "graph.nodes[0].args.port: expected a string, a number or a boolean, got an array" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"args\": {\"a b\": \"1\"}}]}",
	  "graph.nodes[0].args.a b: bad argument key" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"args\": {\"p\": \"1\", \"p\": \"2\"}}]}",
	  "graph.nodes[0].args.p: given twice" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"positional\": \"x\"}]}",
	  "graph.nodes[0].positional: expected an array, got a string" },
	{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"rx\", \"positional\": [\"x\", null]}]}",
	  "graph.nodes[0].positional[1]: expected a string, a number or a boolean, got null" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}, {\"name\": \"bpf\", \"filter\": \"bpf\"}],"
	  " \"edges\": [{\"from\": \"rx\", \"to\": \"bpf\"}, {\"from\": \"bpf\", \"to\": \"rx\"},"
	  " {\"from\": \"rx\", \"to\": \"bpff\"}]}",
	  "graph.edges[2].to: no node named \"bpff\" (did you mean \"bpf\"?)" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"zzzzzz\", \"to\": \"rx\"}]}",
	  "graph.edges[0].from: no node named \"zzzzzz\"" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"to\": \"rx\"}]}",
	  "graph.edges[0]: missing \"from\"" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"rx\", \"to\": \"rx\", \"lable\": \"80\"}]}",
	  "graph.edges[0].lable: unknown key (did you mean \"label\"?)" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"rx\", \"to\": \"rx\", \"label\": \"8x0\"}]}",
	  "graph.edges[0].label: bad edge label \"8x0\"" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"rx\", \"to\": \"rx\", \"label\": 0}]}",
	  "graph.edges[0].label: bad edge label \"0\": class 0 means drop" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"rx\", \"to\": \"rx\", \"label\": \"\"}]}",
	  "graph.edges[0].label: expected a label" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [{\"from\": \"rx\", \"to\": \"rx\", \"label\": [80]}]}",
	  "graph.edges[0].label: expected a string or a number, got an array" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": {}}",
	  "graph.edges: expected an array, got an object" },
	{ "{\"nodes\": [{\"name\": \"rx\", \"filter\": \"rx\"}], \"edges\": [7]}",
	  "graph.edges[0]: expected an object, got a number" },
};

Test(pipe_json, errors_name_the_path)
{
	cr_assert(eq(int, json("{\"nodes\": [{\"name\": \"keep\", \"filter\": \"rx\"}]}", &opts), 0));
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		memset(&err, 0, sizeof(err));
		cr_expect(eq(int, json(bad_json[i].json, &opts), -EINVAL), "%s", bad_json[i].json);
		cr_expect(strncmp(err.msg, bad_json[i].msg, strlen(bad_json[i].msg)) == 0,
			  "[%zu] want: %s\n got: %s", i, bad_json[i].msg, err.msg);
		cr_expect(eq(u32, g.n_nodes, 1), "[%zu] left nodes", i);
		cr_expect(eq(u32, g.n_edges, 0), "[%zu] left edges", i);
	}
}

Test(pipe_json, shares_nodes_with_earlier_graphs)
{
	parse_ok("rx port=in --name=r | bpf \"tcp\"");
	cr_assert(eq(int, json("{\"nodes\": [{\"name\": \"r\", \"filter\": \"rx\"},"
			       " {\"name\": \"c\", \"filter\": \"count\"}],"
			       " \"edges\": [{\"from\": \"r\", \"to\": \"c\"}, {\"from\": \"bpf\", \"to\": \"c\"}]}",
			       &opts), 0), "%s", err.msg);
	counts(3, 3);
	cr_assert(eq(int, json("{\"nodes\": [{\"name\": \"r\", \"filter\": \"tx\"}]}", &opts), -EINVAL));
	cr_assert(eq(str, err.msg, "graph.nodes[0]: node \"r\" was declared as filter \"rx\", here \"tx\""));
	cr_assert(eq(int, json("{\"nodes\": [{\"name\": \"r\", \"filter\": \"rx\", \"negate\": true}]}",
			       &opts), -EINVAL));
	cr_assert(strstr(err.msg, "without \"!\"") != NULL, "%s", err.msg);
	counts(3, 3);
}

Test(pipe_json, null_graph_and_default_path)
{
	cJSON *j = cJSON_Parse("{\"nodes\": [{\"name\": \"a\", \"filter\": \"nope\"}]}");

	cr_assert(eq(int, bl_gdesc_from_json(NULL, "graphs[1].graph", &opts, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "graphs[1].graph: missing"));
	cr_assert(eq(int, bl_gdesc_from_json(j, NULL, &opts, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "graph.nodes[0].filter: unknown filter \"nope\""));
	cr_assert(eq(int, bl_gdesc_from_json(j, NULL, NULL, &g, NULL), 0));
	counts(1, 0);
	cJSON_Delete(j);
}

/* ---- gdesc ---- */

Test(pipe, gdesc_equal_ignores_order_not_content)
{
	struct bl_gdesc a, b;

	bl_gdesc_init(&a);
	bl_gdesc_init(&b);
	cr_assert(eq(int, bl_pipe_parse("x k=1 \"p\" j=2 \"q\" --name=n | y", &opts, &a, &err), 0),
		  "%s", err.msg);
	cr_assert(eq(int, bl_pipe_parse("y; x \"p\" j=2 \"q\" k=1 --name=n | y --name=y", &opts, &b,
					&err), 0), "%s", err.msg);
	cr_assert(bl_gdesc_equal(&a, &b));
	bl_gdesc_free(&b);
	cr_assert(eq(int, bl_pipe_parse("x \"q\" \"p\" j=2 k=1 --name=n | y", &opts, &b, &err), 0));
	cr_assert(eq(int, bl_gdesc_equal(&a, &b), 0));     /* positional order matters */
	bl_gdesc_free(&b);
	cr_assert(eq(int, bl_pipe_parse("x k=1 \"p\" j=2 \"q\" --name=n |80 y", &opts, &b, &err), 0));
	cr_assert(eq(int, bl_gdesc_equal(&a, &b), 0));     /* so do labels */
	bl_gdesc_free(&b);
	cr_assert(eq(int, bl_pipe_parse("x k=1 \"p\" j=2 \"q\" --name=n | y; x --name=n | y --name=y",
					&opts, &b, &err), 0));
	cr_assert(eq(int, bl_gdesc_equal(&a, &b), 0));     /* and the number of parallel edges */
	cr_assert(eq(int, bl_gdesc_find(&a, "zz"), -ENOENT));
	bl_gdesc_free(&a);
	bl_gdesc_free(&b);
}

/* ---- random text: every parse either round-trips or fails whole, with a column ---- */

Test(pipe_print, random_text_round_trips_or_fails_cleanly)
{
	static const char *const tok[] = {
		"a", "b", "c", "bpf", " ", "  ", "|", "|80", "|!80", "|22:23", "|ssh:telnet",
		"|all", "|1,2", "+", "++", "+*", "!", "(", ")", ";", "\n", "--name=X", "--name=Y",
		"k=1", "k=2", "\"q q\"", "\"a\\\"b\"", "x=\"\"", "\"", "|0", "=", "--z", "u",
	};
	unsigned int seed = 12345, good = 0;

	for (int it = 0; it < 20000; it++) {
		char text[512] = "";
		struct bl_gdesc a, b;
		int n, rc;

		seed = seed * 1103515245u + 12345u;
		n = (int)(seed >> 16) % 14 + 1;
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			strcat(text, tok[(seed >> 16) % (sizeof(tok) / sizeof(tok[0]))]);
			if (seed & 0x100)
				strcat(text, " ");
		}
		bl_gdesc_init(&a);
		bl_gdesc_init(&b);
		rc = bl_pipe_parse(text, NULL, &a, &err);
		if (rc == 0) {
			char *s = bl_pipe_print_dup(&a);
			good++;
			cr_assert(s != NULL, "[%s] does not print", text);
			cr_assert(eq(int, bl_pipe_parse(s, NULL, &b, &err), 0), "[%s] -> [%s]: %s",
				  text, s, err.msg);
			cr_assert(bl_gdesc_equal(&a, &b), "[%s] -> [%s] differs", text, s);
			free(s);
		} else {
			unsigned long col = strtoul(err.msg + 4, NULL, 10);
			cr_assert(eq(int, rc, -EINVAL));
			cr_assert(a.n_nodes == 0 && a.n_edges == 0, "[%s] not rolled back", text);
			cr_assert(strncmp(err.msg, "col ", 4) == 0, "[%s]: %s", text, err.msg);
			cr_assert(col >= 1 && col <= strlen(text) + 1, "[%s]: %s", text, err.msg);
		}
		bl_gdesc_free(&a);
		bl_gdesc_free(&b);
	}
	cr_assert(good > 100);
}
