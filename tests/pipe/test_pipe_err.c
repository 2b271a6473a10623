/* SPDX-License-Identifier: BSD-3-Clause */
/* The pipeline language: malformed text fails whole, with its column and what was expected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "test_pipe.h"

TestSuite(pipe_err, .init = pipe_setup, .fini = pipe_teardown, .timeout = 10);

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
	{ "rx | (a ; b)",               "col 6:",  "unbalanced \"(\": no \")\" before the end of the statement" },
	{ "rx | (a + b; c",             "col 6:",  "unbalanced \"(\": no \")\" before the end of the statement" },
	{ "rx | (a (b))",               "col 9:",  "expected \"|\", \"+\", \"++\", \"+*\" or \")\"" },
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
