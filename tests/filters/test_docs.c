/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filter docs (issue 4 point 5): every registered filter has every doc
 * field, and docs/filters.md is exactly what bl-filters-doc prints now, so
 * the docs cannot go stale. Regenerate with `ninja -C BUILD filters-doc`.
 * This binary links the filter library alone (no test-only filters).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_filter.h"

#ifndef BL_SOURCE_ROOT
#error "BL_SOURCE_ROOT must name the source tree"
#endif

#define MAX_FILTERS 128

TestSuite(docs, .timeout = 30);

static char *
slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);

	cr_assert(buf != NULL);
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			buf = realloc(buf, cap *= 2);
			cr_assert(buf != NULL);
		}
	}
	*len = n;
	return buf;
}

Test(docs, every_filter_has_every_doc_field)
{
	const struct bl_filter_ops *ops[MAX_FILTERS];
	unsigned int n = bl_filter_list(ops, MAX_FILTERS);

	cr_assert(n >= 20, "only %u filters registered: is the library linked whole?", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct bl_filter_ops *o = ops[i];
		const char *const fields[] = { o->summary, o->synopsis, o->args_doc, o->edges_doc,
					       o->counters_doc, o->state_doc };
		const char *const names[] = { "summary", "synopsis", "args_doc", "edges_doc",
					      "counters_doc", "state_doc" };
		for (unsigned int k = 0; k < 6; k++)
			cr_expect(k == 4 && o->n_counter_defs > 0 ?   /* the table documents them */
				  1 : fields[k] != NULL && fields[k][0] != '\0',
				  "filter \"%s\" has no %s: fill its doc block", o->name, names[k]);
		cr_expect(o->synopsis == NULL || strncmp(o->synopsis, o->name, strlen(o->name)) == 0,
			  "filter \"%s\": the synopsis starts with its name: \"%s\"", o->name, o->synopsis);
		cr_expect(o->process != NULL || o->poll != NULL, "filter \"%s\" does nothing", o->name);
	}
}

/* Counters are declared in a table (issue 10): names stats can print, a doc for each,
 * fields inside the private state, aligned for a whole (relaxed) load. */
Test(docs, every_counter_table_is_well_formed)
{
	const struct bl_filter_ops *ops[MAX_FILTERS];
	unsigned int n = bl_filter_list(ops, MAX_FILTERS), tables = 0;

	for (unsigned int i = 0; i < n; i++) {
		const char *bad = NULL;
		cr_expect(eq(int, bl_filter_counters_check(ops[i], &bad), 0),
			  "filter \"%s\": counter \"%s\" is malformed or repeated", ops[i]->name,
			  bad != NULL ? bad : "?");
		tables += ops[i]->n_counter_defs > 0;
	}
	cr_expect(tables >= 10, "only %u filters declare their counters in a table", tables);
}

/* Counters are declared, not coded (issue 10): no filter writes its counters out by
 * hand in a .counters callback any more. inject is the one left (being converted on
 * its own branch); once it is, the callback goes. */
Test(docs, no_filter_codes_its_counters_by_hand)
{
	const struct bl_filter_ops *ops[MAX_FILTERS];
	unsigned int n = bl_filter_list(ops, MAX_FILTERS);

	for (unsigned int i = 0; i < n; i++)
		cr_expect(ops[i]->counters == NULL || strcmp(ops[i]->name, "inject") == 0,
			  "filter \"%s\" writes its counters by hand (.counters): declare them in a "
			  "table (BL_FILTER_COUNTERS, BL_COUNTER_IN for a ring's)", ops[i]->name);
}

static const void *
far_base(const struct bl_filter *f)
{
	(void)f;
	return NULL;
}

Test(docs, a_malformed_counter_table_is_refused)
{
	static const struct { uint64_t a; uint16_t b; } *p;
	const struct bl_counter_def defs[] = {
		{ .name = "ok", .doc = "fine", .offset = 0, .size = 8 },
		{ .name = "Bad Name", .doc = "x", .offset = 8, .size = 2 },
	};
	struct bl_filter_ops o = { .name = "t", .priv_size = sizeof(*p), .counter_defs = defs,
				   .n_counter_defs = 1 };
	const char *bad = NULL;

	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), 0));
	o.n_counter_defs = 2;
	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), -EINVAL));
	cr_assert(eq(str, (char *)bad, "Bad Name"));
	o.priv_size = 8;                /* the first fits, but nothing beyond it */
	o.n_counter_defs = 1;
	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), 0));
	const struct bl_counter_def twice[] = { defs[0], defs[0] };
	o.counter_defs = twice;
	o.n_counter_defs = 2;
	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), -EINVAL));
	/* Kept elsewhere (BL_COUNTER_IN): its offset is in that structure, not the state. */
	const struct bl_counter_def far[] = {
		{ .name = "far", .doc = "x", .base = far_base, .offset = 4096, .size = 8 },
		{ .name = "mask", .doc = "x", .base = far_base, .offset = 8, .size = 4, .bits = 1 },
	};
	o.counter_defs = far;
	o.n_counter_defs = 1;
	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), 0));
	o.n_counter_defs = 2;           /* a mask is a whole 64-bit word */
	cr_assert(eq(int, bl_filter_counters_check(&o, &bad), -EINVAL));
	cr_assert(eq(str, (char *)bad, "mask"));
}

Test(docs, filters_md_is_what_the_generator_prints)
{
	const char *gen = getenv("BL_FILTERS_DOC");
	size_t n_now, n_file;
	char *now, *file;
	FILE *p, *f;

	cr_assert(gen != NULL, "BL_FILTERS_DOC names the bl-filters-doc binary (meson sets it)");
	p = popen(gen, "r");
	cr_assert(p != NULL);
	now = slurp(p, &n_now);
	cr_assert(eq(int, pclose(p), 0), "bl-filters-doc failed (a filter lacks a doc field?)");
	f = fopen(BL_SOURCE_ROOT "/docs/filters.md", "r");
	cr_assert(f != NULL, "no docs/filters.md: run ninja -C BUILD filters-doc and commit it");
	file = slurp(f, &n_file);
	fclose(f);
	/* Say where they part, for the one who has to fix it. */
	size_t i = 0, line = 1;
	while (i < n_now && i < n_file && now[i] == file[i])
		line += now[i++] == '\n';
	cr_assert(n_now == n_file && i == n_now,
		  "docs/filters.md is stale (first difference at line %zu): run `ninja -C BUILD filters-doc` "
		  "and commit docs/filters.md", line);
	/* every filter has its section */
	const struct bl_filter_ops *ops[MAX_FILTERS];
	unsigned int n = bl_filter_list(ops, MAX_FILTERS);
	for (unsigned int k = 0; k < n; k++) {
		char h[64];
		snprintf(h, sizeof(h), "\n## %s\n", ops[k]->name);
		cr_expect(strstr(file, h) != NULL, "docs/filters.md has no section for %s", ops[k]->name);
	}
	free(now);
	free(file);
}
