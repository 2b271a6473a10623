/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a pipeline may cost (issue 15 point 4): the node, edge and argument
 * limits are counted while the text is read and name the column that passes
 * them; parse time stays near linear in the text, however it is written
 * (deep parentheses, long runs of one operator, long chains, many statements,
 * huge strings, many labels), up to 4 MiB of text; auto-naming and the name
 * index stay right across a failed parse.
 *
 * Timings are asserted against generous bounds (a busy machine at a third of
 * its speed still passes); each test also has a Criterion timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_pipe.h"
#include "bl_test_util.h"

#define MIB (1u << 20)

static struct bl_gdesc g;
static struct bl_err err;

static void setup(void)    { bl_gdesc_init(&g); memset(&err, 0, sizeof(err)); }
static void teardown(void) { bl_gdesc_free(&g); }

TestSuite(pipe_limits, .init = setup, .fini = teardown, .timeout = 20);
TestSuite(pipe_cost, .init = setup, .fini = teardown, .timeout = 10);      /* the 8 KB product */
TestSuite(pipe_cost_4m, .init = setup, .fini = teardown, .timeout = 60);   /* 4 MiB texts */

/* CPU seconds (bl_test_cpu_now): what the parse costs, not how busy the machine is
 * (a wall clock took 2.6 s for a 1.3 s parse under ASan beside two busy loops). */

/* Parse `text` into a fresh g, returning the seconds it took; rc and err as left. */
static double
timed_parse(const char *text, int *rc)
{
	double t0;

	bl_gdesc_free(&g);
	memset(&err, 0, sizeof(err));
	t0 = bl_test_cpu_now();
	*rc = bl_pipe_parse(text, NULL, &g, &err);
	return bl_test_cpu_now() - t0;
}

/* The config that ran out the clock: 8 KB of (eth+...+eth)|(eth+...+eth). */
Test(pipe_cost, the_8k_product_is_refused_at_once)
{
	char *side = bl_test_repeat("(eth", "+eth", ")", 4090);
	size_t size = 2 * strlen(side) + 2;
	char *text = malloc(size);
	double t;
	int rc;

	if (text == NULL)
		abort();
	snprintf(text, size, "%s|%s", side, side);
	cr_assert(strlen(text) > 8000 && strlen(text) < 8192);
	t = timed_parse(text, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	cr_assert(strstr(err.msg, "too many filters: a graph's text makes at most 1024") != NULL,
		  "%s", err.msg);
	cr_assert(strncmp(err.msg, "col ", 4) == 0, "%s", err.msg);
	cr_assert(eq(u32, g.n_nodes, 0), "rolled back");
	cr_assert(eq(u32, g.n_edges, 0));
	cr_assert(t < 1.0, "took %.3f s CPU", t);
	cr_log_info("8 KB product refused in %.2f ms: %s", t * 1e3, err.msg);

	/* 500 by 500: few enough filters, so the product of the "|" is what is refused */
	free(side);
	side = bl_test_repeat("(eth", "+eth", ")", 2001);
	snprintf(text, size, "%s|%s", side, side);
	t = timed_parse(text, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	cr_assert(eq(str, err.msg, "col 2002: too many edges: \"|\" joins 500 exits to 500 entries, "
		     "250000 edges, and a graph's text makes at most 4096"));
	cr_assert(t < 1.0, "took %.3f s CPU", t);
	free(side);
	free(text);
}

Test(pipe_limits, nodes_up_to_the_limit_and_not_one_more)
{
	char *ok = bl_test_repeat("a", ";a", "", 2 * BL_GDESC_MAX_NODES - 1);
	char *over = bl_test_repeat("a", ";a", "", 2 * BL_GDESC_MAX_NODES + 1);
	int rc;

	timed_parse(ok, &rc);
	cr_assert(eq(int, rc, 0), "%s", err.msg);
	cr_assert(eq(u32, g.n_nodes, BL_GDESC_MAX_NODES));
	cr_assert(bl_gdesc_find(&g, "a1024") >= 0);
	timed_parse(over, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	/* the 1025th "a" is at byte 2048: column 2049 */
	cr_assert(eq(str, err.msg, "col 2049: too many filters: a graph's text makes at most 1024 "
		     "(joins included)"));
	cr_assert(eq(u32, g.n_nodes, 0));
	/* join nodes count too: each a ++ b makes three */
	free(over);
	over = bl_test_repeat("a++b", ";a++b", "", 5 * 400);
	timed_parse(over, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	cr_assert(strstr(err.msg, "too many filters") != NULL, "%s", err.msg);
	free(ok);
	free(over);
}

Test(pipe_limits, edges_up_to_the_limit_and_not_one_more)
{
	char *l = bl_test_repeat("(x", "+x", ")", 2 * 64 + 1);          /* 64 exits */
	char *r64 = bl_test_repeat("(y", "+y", ")", 2 * 64 + 1), *r65 = bl_test_repeat("(y", "+y", ")", 2 * 65 + 1);
	char text[1024];
	int rc;

	snprintf(text, sizeof(text), "%s | %s", l, r64);
	timed_parse(text, &rc);
	cr_assert(eq(int, rc, 0), "%s", err.msg);
	cr_assert(eq(u32, g.n_edges, BL_GDESC_MAX_EDGES));
	snprintf(text, sizeof(text), "%s | %s", l, r65);
	timed_parse(text, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	cr_assert(eq(str, err.msg, "col 131: too many edges: \"|\" joins 64 exits to 65 entries, "
		     "4160 edges, and a graph's text makes at most 4096"));
	/* edges one by one, through a named node: the one that passes is refused where written */
	free(l);
	l = bl_test_repeat("x --name=n", " | x --name=n", "", 10 + 13 * 4097);
	timed_parse(l, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	/* the 4097th "|" is at byte 10 + 13 * 4096 + 1 */
	cr_assert(eq(str, err.msg, "col 53260: too many edges: a graph's text makes at most 4096"));
	cr_assert(eq(u32, g.n_nodes, 0));
	free(l);
	free(r64);
	free(r65);
}

Test(pipe_limits, arguments_up_to_the_limit)
{
	char text[2048] = "a", *p = text + 1;
	int rc;

	for (int i = 0; i < BL_GDESC_MAX_ARGS; i++)
		p += snprintf(p, sizeof(text) - (size_t)(p - text), " k%d=v", i);
	timed_parse(text, &rc);
	cr_assert(eq(int, rc, 0), "%s", err.msg);
	cr_assert(eq(u32, g.nodes[0].args.n, BL_GDESC_MAX_ARGS));
	snprintf(p, sizeof(text) - (size_t)(p - text), " \"one more\"");
	timed_parse(text, &rc);
	cr_assert(eq(int, rc, -EINVAL));
	cr_assert(eq(str, err.msg + strcspn(err.msg, ":"), ": too many arguments: a filter takes "
		     "at most 64"));
	cr_assert(eq(int, atoi(err.msg + 4), (int)(p - text) + 2), "the column of the 65th: %s",
		  err.msg);
}

/* The n-th unnamed "bpf" tries one name, and a failed parse forgets what it named. */
Test(pipe_limits, auto_names_survive_a_rollback)
{
	int rc;

	cr_assert(eq(int, bl_pipe_parse("a; a; a --name=a4", NULL, &g, &err), 0));
	cr_assert(eq(int, bl_pipe_parse("a; a; a; a; (", NULL, &g, &err), -EINVAL));
	cr_assert(eq(u32, g.n_nodes, 3));
	cr_assert(eq(int, bl_gdesc_find(&g, "a5"), -ENOENT), "rolled back");
	cr_assert(eq(int, bl_pipe_parse("a | a", NULL, &g, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_gdesc_find(&g, "a3"), 3), "the first free name again, not a6");
	cr_assert(eq(int, bl_gdesc_find(&g, "a5"), 4), "a4 is taken by --name");

	/* 1000 of one filter: names in order, each found */
	char *text = bl_test_repeat("bpf", ";bpf", "", 4 * 1000 - 1);
	timed_parse(text, &rc);
	cr_assert(eq(int, rc, 0));
	for (unsigned int i = 0; i < 1000; i++) {
		char name[16];
		snprintf(name, sizeof(name), i == 0 ? "bpf" : "bpf%u", i + 1);
		cr_assert(eq(int, bl_gdesc_find(&g, name), (int)i), "%s", name);
	}
	free(text);

	/* a long filter name is cut to make room for the number */
	bl_gdesc_free(&g);
	cr_assert(eq(int, bl_pipe_parse("abcdefghijklmnopqrstuvwxyz01234 | "
					"abcdefghijklmnopqrstuvwxyz01234", NULL, &g, &err), 0));
	cr_assert(eq(str, g.nodes[1].name, "abcdefghijklmnopqrstuvwxyz01232"));
}

Test(pipe_limits, gdesc_limits_and_index)
{
	struct bl_args a = { 0 };

	for (unsigned int i = 0; i < BL_GDESC_MAX_NODES; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%u", i);
		cr_assert(eq(int, bl_gdesc_add_node(&g, name, "f"), (int)i));
	}
	cr_assert(eq(int, bl_gdesc_add_node(&g, "more", "f"), -E2BIG));
	for (unsigned int i = 0; i < BL_GDESC_MAX_EDGES; i++)
		cr_assert(bl_gdesc_add_edge(&g, i % 7, i % 11, NULL, 0) >= 0);
	cr_assert(eq(int, bl_gdesc_add_edge(&g, 0, 1, NULL, 0), -E2BIG));
	cr_assert(eq(int, bl_gdesc_find(&g, "n777"), 777));
	bl_gdesc_truncate(&g, 10, 0);
	cr_assert(eq(int, bl_gdesc_find(&g, "n777"), -ENOENT));
	cr_assert(eq(int, bl_gdesc_find(&g, "n9"), 9));
	cr_assert(eq(int, bl_gdesc_add_node(&g, "n777", "f"), 10));
	cr_assert(eq(int, bl_gdesc_find(&g, "n777"), 10));
	/* a duplicate name: the first is found */
	cr_assert(eq(int, bl_gdesc_add_node(&g, "n3", "g"), 11));
	cr_assert(eq(int, bl_gdesc_find(&g, "n3"), 3));
	for (unsigned int i = 0; i < BL_GDESC_MAX_ARGS; i++)
		cr_assert(eq(int, bl_args_add(&a, NULL, "v", 0), 0));
	cr_assert(eq(int, bl_args_add(&a, "k", "v", 0), -E2BIG));
	bl_args_free(&a);
}

/* Pathological texts up to 4 MiB: each refused or read in well under a second. */
Test(pipe_cost_4m, pathological_texts_stay_cheap)
{
	static const struct {
		const char *what, *head, *unit, *tail;
		size_t size;
		int rc;
		const char *phrase;
	} cases[] = {
		{ "deep parentheses", "", "(", "a", 4 * MIB, -EINVAL, "nested too deep" },
		{ "deep parentheses, within the limit", "", "(", "a", 64 + 1, -EINVAL, "unbalanced" },
		{ "a long run of +", "a", "+a", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "alternating + and ++", "a", "+a++a", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "a run of +* over splits", "(a+b)", "+*(a+b)", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "a long chain", "a", " | a", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "many statements", "a", "; a", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "empty statements", "a", ";\n;", "", 4 * MIB, 0, NULL },
		{ "one named node, again and again", "a k=1 --name=x", "; a --name=x", "", 4 * MIB, 0, NULL },
		{ "a named node with its args, again", "a k=1 --name=x", "; a k=1 --name=x", "", 4 * MIB, 0,
		  NULL },
		{ "many labels", "a", " |1,2,3,4,5,6,7,8 a", "", 4 * MIB, -EINVAL, "too many filters" },
		{ "a huge label", "a |1", ",1", " b", 4 * MIB, -EINVAL, "at most 8 ranges" },
		{ "self loops", "a --name=x", " |1 a --name=x", "", 4 * MIB, -EINVAL, "too many edges" },
		{ "a huge quoted string", "a \"", "xxxxxxxx", "\"", 4 * MIB, 0, NULL },
		{ "a huge bare word", "a ", "xxxxxxxx", "", 4 * MIB, 0, NULL },
		{ "a huge escape run", "a \"", "\\\\", "\"", 4 * MIB, 0, NULL },
		{ "many arguments", "a", " k", "", 4 * MIB, -EINVAL, "too many arguments" },
		{ "one key again and again", "a", " k=v", "", 4 * MIB, -EINVAL, "given twice" },
		{ "a huge filter name", "", "a", "", 4 * MIB, -EINVAL, "too long" },
		{ "newlines in parentheses", "(", "\n", "a)", 4 * MIB, 0, NULL },
		{ "unterminated quote", "a \"", "x", "", 4 * MIB, -EINVAL, "unterminated" },
	};
	double worst = 0;
	const char *worst_what = "";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = bl_test_repeat(cases[i].head, cases[i].unit, cases[i].tail, cases[i].size);
		int rc;
		double t = timed_parse(text, &rc);

		cr_expect(eq(int, rc, cases[i].rc), "%s: %s", cases[i].what, err.msg);
		if (cases[i].phrase != NULL)
			cr_expect(strstr(err.msg, cases[i].phrase) != NULL, "%s: want \"%s\" in: %s",
				  cases[i].what, cases[i].phrase, err.msg);
		cr_expect(t < 2.0, "%s: %.3f s CPU", cases[i].what, t);
		cr_log_info("%-40s %7zu bytes %8.2f ms %s", cases[i].what, strlen(text), t * 1e3,
			    rc == 0 ? "ok" : err.msg);
		if (t > worst) {
			worst = t;
			worst_what = cases[i].what;
		}
		free(text);
	}
	cr_log_info("worst: %s, %.2f ms", worst_what, worst * 1e3);
}

/* The JSON form has the same limits, and numbers must be finite. */
Test(pipe_limits, json_limits_and_numbers)
{
	cJSON *j = cJSON_CreateObject(), *nodes = cJSON_AddArrayToObject(j, "nodes");
	cJSON *edges = cJSON_AddArrayToObject(j, "edges");

	for (unsigned int i = 0; i <= BL_GDESC_MAX_NODES; i++) {
		cJSON *n = cJSON_CreateObject();
		char name[16];
		snprintf(name, sizeof(name), "n%u", i);
		cJSON_AddStringToObject(n, "name", name);
		cJSON_AddStringToObject(n, "filter", "f");
		cJSON_AddItemToArray(nodes, n);
	}
	cr_assert(eq(int, bl_gdesc_from_json(j, "graphs[0].graph", NULL, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "graphs[0].graph.nodes[1024]: too many nodes: a graph holds at "
		     "most 1024"));
	cr_assert(eq(u32, g.n_nodes, 0));
	cJSON_DeleteItemFromArray(nodes, BL_GDESC_MAX_NODES);
	for (unsigned int i = 0; i <= BL_GDESC_MAX_EDGES; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "from", "n0");
		cJSON_AddStringToObject(e, "to", "n1");
		cJSON_AddItemToArray(edges, e);
	}
	cr_assert(eq(int, bl_gdesc_from_json(j, "g", NULL, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "g.edges[4096]: too many edges: a graph holds at most 4096"));
	cJSON_Delete(j);

	static const struct { const char *json, *msg; } bad[] = {
		{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"f\", \"args\": {\"n\": 1e999}}]}",
		  "g.nodes[0].args.n: expected a finite number, got 1e999 or more" },
		{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"f\", \"positional\": [-1e999]}]}",
		  "g.nodes[0].positional[0]: expected a finite number, got -1e999 or less" },
		{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"f\"}], \"edges\": [{\"from\": \"a\", "
		  "\"to\": \"a\", \"label\": 1e999}]}", "g.edges[0].label: bad edge label \"?\"" },
		{ "{\"nodes\": [{\"name\": \"a\", \"filter\": \"f\"}], \"nodes\": []}",
		  "g.nodes: given twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = cJSON_Parse(bad[i].json);
		cr_assert(j != NULL, "%s", bad[i].json);
		cr_expect(eq(int, bl_gdesc_from_json(j, "g", NULL, &g, &err), -EINVAL), "%s",
			  bad[i].json);
		cr_expect(strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0, "want %s, got %s",
			  bad[i].msg, err.msg);
		cr_expect(eq(u32, g.n_nodes, 0));
		cJSON_Delete(j);
	}

	/* 65 arguments, 33 of them keyed */
	j = cJSON_Parse("{\"nodes\": [{\"name\": \"a\", \"filter\": \"f\", \"args\": {}, "
			"\"positional\": []}]}");
	cJSON *n = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "nodes"), 0);
	for (int i = 0; i <= BL_GDESC_MAX_ARGS; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		if (i % 2)
			cJSON_AddItemToArray(cJSON_GetObjectItem(n, "positional"), cJSON_CreateString(k));
		else
			cJSON_AddNumberToObject(cJSON_GetObjectItem(n, "args"), k, i);
	}
	cr_assert(eq(int, bl_gdesc_from_json(j, "g", NULL, &g, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "g.nodes[0].positional[31]: too many arguments: a node takes at "
		     "most 64"));
	cJSON_Delete(j);
}
