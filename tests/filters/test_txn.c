/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building is a transaction (issue 4 point 4). For multi-filter pipelines a
 * failure is injected at every undoable build step in turn
 * (bl_graph_test_fail_step(n), n = 1, 2, ... until the build succeeds); each
 * failed build returns an error and leaves nothing behind: no graph
 * allocation, no mbuf, no rte_malloc memory, and fini for exactly the
 * filters whose init succeeded (stop for exactly those started). Activation
 * runs from sinks to sources; stopping from sources to sinks.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <rte_malloc.h>

#include "harness.h"

static void
teardown(void)
{
	bl_graph_test_fail_step(0);
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(txn, .init = harness_eal, .fini = teardown, .timeout = 60);

static uint64_t
heap_allocs(void)
{
	struct rte_malloc_socket_stats st;

	cr_assert(rte_malloc_get_socket_stats(0, &st) == 0);
	return st.alloc_count;
}

/* Every node the probe log saw: fini exactly when init, stop exactly when start. */
static void
check_balanced(const char *text, unsigned int step)
{
	for (unsigned int i = 0; i < probe_n; i++) {
		const char *node = probe_log[i].node;
		cr_assert(eq(uint, probe_count("init", node), probe_count("fini", node)),
			  "%s, failing step %u: %s: %u init, %u fini", text, step, node,
			  probe_count("init", node), probe_count("fini", node));
		cr_assert(probe_count("init", node) <= 1);
		cr_assert(eq(uint, probe_count("start", node), probe_count("stop", node)),
			  "%s, failing step %u: %s: %u start, %u stop", text, step, node,
			  probe_count("start", node), probe_count("stop", node));
		/* fini after stop */
		if (probe_count("stop", node) != 0)
			cr_assert(probe_pos("stop", node) < probe_pos("fini", node));
	}
}

/* Fail each step in turn; returns how many steps a whole build takes. */
static unsigned int
fail_every_step(const char *text, unsigned int min_steps)
{
	unsigned int pool_full = harness_pool_free();
	uint64_t heap0 = heap_allocs();
	struct harness *h = NULL;
	struct bl_err err;
	unsigned int n;

	for (n = 1; n < 1000; n++) {
		probe_reset();
		bl_graph_test_fail_step(n);
		int rc = harness_build(text, &h, &err);
		bl_graph_test_fail_step(0);
		if (rc == 0)
			break;
		cr_assert(rc < 0, "step %u: rc %d", n, rc);
		cr_assert(h == NULL);
		cr_assert(strstr(err.msg, "injected failure") != NULL, "step %u: %s", n, err.msg);
		cr_assert(eq(long, bl_graph_test_live_allocs(), 0), "%s: step %u leaves allocations", text, n);
		cr_assert(eq(uint, harness_pool_free(), pool_full), "%s: step %u leaks mbufs", text, n);
		cr_assert(eq(u64, heap_allocs(), heap0), "%s: step %u leaks rte_malloc memory", text, n);
		check_balanced(text, n);
	}
	cr_assert(h != NULL, "%s never built", text);
	cr_assert(n - 1 >= min_steps, "%s: only %u steps could fail", text, n - 1);
	/* what the successful build did: every filter inited and started, none stopped */
	cr_assert(eq(uint, probe_count("fini", NULL), 0));
	cr_assert(eq(uint, probe_count("stop", NULL), 0));
	cr_assert(eq(uint, probe_count("start", NULL), probe_count("init", NULL)));
	harness_free(h);
	check_balanced(text, 0);
	cr_assert(eq(uint, harness_pool_free(), pool_full));
	cr_assert(eq(u64, heap_allocs(), heap0), "%s: the built graph leaks rte_malloc memory", text);
	return n - 1;
}

Test(txn, a_chain_with_real_filters)
{
	/* graph + per filter: itself, edges (if any), state, init; then a start each */
	fail_every_step("feed | probe --name=p1 | bpf \"tcp\" | count | sample every=2 | probe --name=p2 "
			"| collect", 1 + 7 * 3 + 7 - 1 + 7);
}

Test(txn, branches_joins_and_a_pcap)
{
	fail_every_step("feed | probe --name=p1 | (probe --name=a ++ tcp) | (probe --name=b +* bpf \"ip\") "
			"| tee |copy pcap file=/tmp/bltest-txn.pcap", 20);
	unlink("/tmp/bltest-txn.pcap");
}

Test(txn, a_cycle_and_labels)
{
	fail_every_step("feed | probe --name=X | dport |ssh:telnet probe --name=Y | probe --name=X\n"
			"probe --name=X |all collect", 15);
}

Test(txn, a_failing_init_midway)
{
	struct harness *h = NULL;
	struct bl_err err;

	probe_reset();
	cr_assert(eq(int, harness_build("feed | probe --name=a | bpf \"udp\" | probe --name=b fail=init | "
					"probe --name=c | collect", &h, &err), -EINVAL));
	cr_assert(strstr(err.msg, "fail") != NULL, "%s", err.msg);
	cr_assert(eq(uint, probe_count("init", "feed"), 1));
	cr_assert(eq(uint, probe_count("init", "a"), 1));
	cr_assert(eq(uint, probe_count("init", "b"), 0));
	cr_assert(eq(uint, probe_count("init", "c"), 0), "nothing after the failure is inited");
	cr_assert(eq(uint, probe_count("fini", "feed"), 1));
	cr_assert(eq(uint, probe_count("fini", "a"), 1));
	cr_assert(eq(uint, probe_count("fini", "b"), 0), "no fini for a failed init");
	cr_assert(eq(uint, probe_count("start", NULL), 0));
}

Test(txn, a_failing_start_midway)
{
	struct harness *h = NULL;
	struct bl_err err;

	probe_reset();
	cr_assert(eq(int, harness_build("feed | probe --name=a | probe --name=b fail=start | "
					"probe --name=c | collect", &h, &err), -EIO));
	cr_assert(strstr(err.msg, "start") != NULL, "%s", err.msg);
	/* sinks first: collect, c started; b failed; a and feed never started */
	cr_assert(eq(uint, probe_count("start", "collect"), 1));
	cr_assert(eq(uint, probe_count("start", "c"), 1));
	cr_assert(eq(uint, probe_count("start", "a"), 0));
	cr_assert(eq(uint, probe_count("start", "feed"), 0));
	cr_assert(eq(uint, probe_count("stop", "collect"), 1));
	cr_assert(eq(uint, probe_count("stop", "c"), 1));
	cr_assert(eq(uint, probe_count("stop", "b"), 0), "no stop for a failed start");
	cr_assert(probe_pos("stop", "c") < probe_pos("stop", "collect"), "stop: sources first");
	cr_assert(eq(uint, probe_count("fini", NULL), 5), "every init undone");
}

Test(txn, activation_sinks_to_sources_and_stop_sources_to_sinks)
{
	/* edges: feed->p1, p1->a, p1->b, a->j, b->j (union), j->p2, p2->collect, p1->c2 */
	static const char *const edges[][2] = {
		{ "feed", "p1" }, { "p1", "a" }, { "p1", "b" }, { "a", "p2" }, { "b", "p2" },
		{ "p2", "collect" }, { "p1", "c2" }, { "p1", "p3" }, { "p3", "collect2" },
	};
	struct harness *h;

	probe_reset();
	h = harness_new("feed | probe --name=p1 | (probe --name=a ++ probe --name=b) | probe --name=p2 | collect\n"
			"probe --name=p1 |all collect --name=c2\n"
			"probe --name=p1 | probe --name=p3 | collect --name=collect2");
	cr_assert(h != NULL);
	for (unsigned int i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const char *from = edges[i][0], *to = edges[i][1];
		cr_assert(probe_pos("start", to) >= 0 && probe_pos("start", from) >= 0);
		cr_assert(probe_pos("start", to) < probe_pos("start", from), "start: %s before %s", to, from);
	}
	harness_push_n(h, 5);
	cr_assert(eq(uint, harness_n(h, NULL), 5));
	cr_assert(eq(uint, harness_n(h, "c2"), 5));
	harness_free(h);
	for (unsigned int i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const char *from = edges[i][0], *to = edges[i][1];
		cr_assert(probe_pos("stop", from) < probe_pos("stop", to), "stop: %s before %s", from, to);
		cr_assert(probe_pos("fini", to) >= 0);
	}
	cr_assert(eq(uint, probe_count("fini", NULL), probe_count("init", NULL)));
}
