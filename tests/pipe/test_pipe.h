/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the pipeline language tests share (test_pipe*.c, one binary): the filter
 * names they know, one gdesc and error per test (pipe_setup/pipe_teardown, each
 * file's suites' init and fini), and checks of the graph a text lowered to.
 */
#ifndef TEST_PIPE_H
#define TEST_PIPE_H

#include <stdbool.h>

#include "bl_pipe.h"

extern const struct bl_pipe_opts opts;
extern struct bl_gdesc g;
extern struct bl_err err;

void pipe_setup(void);
void pipe_teardown(void);

/* TEXT parses into g (the test fails otherwise). */
void parse_ok(const char *text);
/* g's node NAME (the test fails when there is none). */
const struct bl_gdesc_node *node(const char *name);
/* How many edges from -> to carry the label written `label` (as after "|"). */
unsigned int edges(const struct bl_gdesc *d, const char *from, const char *to, const char *label);
/* g has NODES nodes and N_EDGES edges. */
void counts(unsigned int nodes, unsigned int n_edges);
/* A and B parse into equal graphs. */
bool same(const char *a, const char *b);

#endif
