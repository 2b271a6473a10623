/* SPDX-License-Identifier: BSD-3-Clause */
/* The pipeline language's JSON form: the same graphs as the text, errors by JSON path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "test_pipe.h"

TestSuite(pipe_json, .init = pipe_setup, .fini = pipe_teardown, .timeout = 10);

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
