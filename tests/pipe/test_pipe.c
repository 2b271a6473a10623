/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline language, what a text builds: every operator and how it lowers,
 * precedence, labels, arguments, names and cycles, gdesc equality. Malformed text
 * with its column: test_pipe_err.c; the printer's round trip: test_pipe_print.c;
 * the JSON form compiling to the same graphs: test_pipe_json.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "test_pipe.h"

TestSuite(pipe, .init = pipe_setup, .fini = pipe_teardown, .timeout = 10);

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
