/* SPDX-License-Identifier: BSD-3-Clause */
/* The pipeline language tests' shared state and checks (test_pipe.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "test_pipe.h"

static const char *const known[] = {
	"rx", "tx", "bpf", "count", "gen", "ip", "ip6", "tcp", "udp", "http", "ssh", "rtsp",
	"inspect", "mpeg", "dport", "sport", "export", "log", "ids", "drop", "sample",
	"a", "b", "c", "d", "e", "x", "y", "pcap", NULL
};
const struct bl_pipe_opts opts = { .filters = known };

struct bl_gdesc g;
struct bl_err err;

void pipe_setup(void)    { bl_gdesc_init(&g); memset(&err, 0, sizeof(err)); }
void pipe_teardown(void) { bl_gdesc_free(&g); }

void
parse_ok(const char *text)
{
	int rc = bl_pipe_parse(text, &opts, &g, &err);
	cr_assert(eq(int, rc, 0), "parse \"%s\": %s", text, err.msg);
}

const struct bl_gdesc_node *
node(const char *name)
{
	int i = bl_gdesc_find(&g, name);
	cr_assert(i >= 0, "no node %s", name);
	return &g.nodes[i];
}

unsigned int
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

void
counts(unsigned int nodes, unsigned int n_edges)
{
	cr_assert(eq(u32, g.n_nodes, nodes));
	cr_assert(eq(u32, g.n_edges, n_edges));
}

bool
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
