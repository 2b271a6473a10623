/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The graph runtime: the common counters every filter and edge has, how
 * classes route, cycles, and the harness itself.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

static struct harness *h;

static void teardown(void)
{
	harness_free(h);
	h = NULL;
	/* every test leaves the pool whole */
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(graph, .init = harness_eal, .fini = teardown, .timeout = 30);

Test(graph, harness_feeds_and_collects)
{
	h = harness_new("feed | collect");
	cr_assert(h != NULL);
	harness_push_n(h, 100);
	cr_assert(eq(uint, harness_n(h, NULL), 100));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 100));
	cr_assert(eq(u64, harness_stats(h, "feed")->out, 100));
	cr_assert(eq(u64, harness_stats(h, "collect")->in, 100));
	cr_assert(eq(u64, harness_edge_pkts(h, "feed", "collect"), 100));
}
