/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pipe — the pipeline language (lib/pipe). The input is pipeline text
 * (up to its first NUL); when it starts with '{' it is also read as the JSON
 * nodes-and-edges form. Oracles (lib/pipe/README.md, "Invariants"):
 *   - a parse that succeeds prints, and the printed text parses, into an
 *     empty gdesc, to an equal graph;
 *   - a parse that fails returns -EINVAL with "col N: ..." where
 *     1 <= N <= strlen(text) + 1, and leaves the gdesc exactly as it was
 *     (here: holding the graph of a first, fixed statement);
 *   - the JSON form either fails with a path in its message and leaves the
 *     gdesc as it was, or gives a graph that, if it prints, round-trips.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bl_pipe.h"
#include "fuzz.h"

#define TEXT_MAX 8192   /* BL_CFG_PIPE_MAX: longer text never reaches the parser */

/* Print g, parse that into an empty gdesc, compare. */
static void
round_trip(const struct bl_gdesc *a, const char *what)
{
	struct bl_gdesc b;
	struct bl_err err = { 0 };
	char *s = bl_pipe_print_dup(a);
	int rc;

	if (s == NULL) {
		/* JSON can hold what the language cannot write; parsed text cannot. */
		FUZZ_CHECK(what[0] == 'j', "[%s] parsed but does not print", what);
		return;
	}
	bl_gdesc_init(&b);
	rc = bl_pipe_parse(s, NULL, &b, &err);
	FUZZ_CHECK(rc == 0, "[%s] printed as [%s], which does not parse: %s", what, s, err.msg);
	FUZZ_CHECK(bl_gdesc_equal(a, &b), "[%s] printed as [%s], which parses to another graph",
		   what, s);
	free(s);
	bl_gdesc_free(&b);
}

static void
text_case(const char *text)
{
	static const char first[] = "rx port=in | bpf \"tcp\" --name=shared |80 count";
	struct bl_gdesc g;
	struct bl_err err = { 0 };
	unsigned int nn, ne;
	int rc;

	/* Alone, into an empty gdesc. */
	bl_gdesc_init(&g);
	rc = bl_pipe_parse(text, NULL, &g, &err);
	if (rc == 0) {
		round_trip(&g, text);
	} else {
		char *end;
		unsigned long col;

		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "[%s]: rc %d", text, rc);
		FUZZ_CHECK(strncmp(err.msg, "col ", 4) == 0, "[%s]: no column: %s", text, err.msg);
		col = strtoul(err.msg + 4, &end, 10);
		FUZZ_CHECK(end != err.msg + 4 && col >= 1 && col <= strlen(text) + 1,
			   "[%s]: column out of the text: %s", text, err.msg);
		FUZZ_CHECK(g.n_nodes == 0 && g.n_edges == 0, "[%s]: not rolled back", text);
	}
	bl_gdesc_free(&g);

	/* After another statement: appends, shares --name=shared, or leaves it as it was. */
	bl_gdesc_init(&g);
	FUZZ_CHECK(bl_pipe_parse(first, NULL, &g, &err) == 0, "%s", err.msg);
	nn = g.n_nodes;
	ne = g.n_edges;
	rc = bl_pipe_parse(text, NULL, &g, &err);
	if (rc != 0)
		FUZZ_CHECK(g.n_nodes == nn && g.n_edges == ne, "[%s] after [%s]: not rolled back",
			   text, first);
	else
		FUZZ_CHECK(g.n_nodes >= nn && g.n_edges >= ne, "[%s] after [%s]: lost nodes", text,
			   first);
	bl_gdesc_free(&g);
}

static void
json_case(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct bl_gdesc g;
	struct bl_err err = { 0 };
	int rc;

	if (j == NULL)
		return;
	bl_gdesc_init(&g);
	rc = bl_gdesc_from_json(j, "graphs[0].graph", NULL, &g, &err);
	if (rc == 0) {
		round_trip(&g, "json");
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "json: rc %d", rc);
		FUZZ_CHECK(strncmp(err.msg, "graphs[0].graph", 15) == 0, "json: no path: %s", err.msg);
		FUZZ_CHECK(g.n_nodes == 0 && g.n_edges == 0, "json: not rolled back");
	}
	bl_gdesc_free(&g);
	cJSON_Delete(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t n = strnlen((const char *)data, size);

	if (n > TEXT_MAX)
		return 0;
	text = malloc(n + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	text_case(text);
	if (size > 0 && data[0] == '{')
		json_case(data, size);
	free(text);
	return 0;
}
