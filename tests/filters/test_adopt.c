/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Adoption (live reload, issue 11 point 2): a graph built to replace a running
 * one takes over the state of every filter whose type, name, arguments and
 * edges did not change: the same private state (never init'ed, started,
 * stopped or fini'ed again), its counters continued (the worker's handover
 * carries the runtime counters over at the swap). A build rolled back gives
 * the state back untouched; the replaced graph's free leaves it alone.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "harness.h"

static void
teardown(void)
{
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(adopt, .init = harness_eal, .fini = teardown, .timeout = 60);

#define OLD "feed | probe | sample every=2 |all collect"
#define NEW "feed | probe | sample every=3 |all collect"

static struct bl_filter *
node(struct bl_graph *g, const char *name)
{
	struct bl_filter *f = bl_graph_filter_by_name(g, name);

	cr_assert(f != NULL, "no filter %s", name);
	return f;
}

Test(adopt, unchanged_filters_keep_their_state_and_counters)
{
	struct harness *h = harness_new(OLD);
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL;
	struct bl_err err;

	cr_assert(h != NULL);
	harness_push_n(h, 10);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "probe")->in, 10));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 2), 5), "every=2 of 10: 5 on rest (class 2)");

	probe_reset();
	env.adopt = &h->g;
	env.n_adopt = 1;
	cr_assert(eq(int, harness_build_graph(NEW, &env, &ng, &err), 0), "%s", err.msg);
	bl_graph_commit(ng);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "feed, probe and collect stay; sample changed");
	cr_assert(node(ng, "probe")->priv == node(h->g, "probe")->priv, "the same state");
	cr_assert(node(ng, "sample")->priv != node(h->g, "sample")->priv, "a new instance");
	cr_assert(eq(uint, probe_count("init", "probe") + probe_count("start", "probe") +
		     probe_count("stop", "probe") + probe_count("fini", "probe"), 0),
		  "the adopted probe is not made again");

	/* The worker's swap: runtime counters carried over, then the old graph goes. */
	bl_graph_handover(ng);
	cr_assert(eq(u64, node(ng, "probe")->st.in, 10));
	cr_assert(eq(u64, node(ng, "sample")->st.in, 0), "a new instance starts at 0");
	struct bl_graph *old = h->g;
	h->g = ng;      /* what the harness runs (and frees) from now on */
	bl_graph_free(old);
	cr_assert(eq(uint, probe_count("fini", "probe"), 0));

	harness_push_n(h, 9);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "probe")->in, 19), "counted on from 10");
	cr_assert(eq(uint, harness_n(h, NULL), 19), "the adopted collect kept what it had");
	cr_assert(eq(uint, harness_n_cls(h, NULL, 2), 5 + 6), "every=3 of 9 more: 6 more on rest");
	harness_free(h);
	cr_assert(eq(uint, probe_count("stop", "probe"), 1), "stopped once, by its last owner");
	cr_assert(eq(uint, probe_count("fini", "probe"), 1));
}

Test(adopt, the_replaced_graph_frees_what_was_not_adopted)
{
	struct harness *h = harness_new(OLD);
	struct bl_graph_env env = h->env;
	struct bl_graph *old, *ng = NULL;
	struct bl_err err;

	cr_assert(h != NULL);
	env.adopt = &h->g;
	env.n_adopt = 1;
	cr_assert(eq(int, harness_build_graph(NEW, &env, &ng, &err), 0), "%s", err.msg);
	bl_graph_commit(ng);
	old = h->g;
	h->g = ng;
	probe_reset();
	bl_graph_free(old);     /* after the swap: its sample goes, its adopted filters' state stays */
	cr_assert(eq(uint, probe_count("stop", "probe") + probe_count("fini", "probe"), 0));
	harness_push_n(h, 6);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 6), "every packet reaches the adopted collect");
	harness_free(h);
	cr_assert(eq(uint, probe_count("fini", "probe"), 1));
}

Test(adopt, a_rolled_back_build_leaves_the_running_state_alone)
{
	struct harness *h = harness_new(OLD);
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL;
	struct bl_err err;

	cr_assert(h != NULL);
	harness_push_n(h, 4);
	harness_run(h);
	env.adopt = &h->g;
	env.n_adopt = 1;
	probe_reset();
	cr_assert(eq(int, harness_build_graph(NEW, &env, &ng, &err), 0), "%s", err.msg);
	bl_graph_free(ng);      /* rolled back: never committed */
	cr_assert(eq(uint, probe_count("stop", "probe") + probe_count("fini", "probe"), 0));

	/* The running graph is whole, and its state can be adopted again. */
	harness_push_n(h, 4);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "probe")->in, 8));
	cr_assert(eq(int, harness_build_graph(NEW, &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3));
	bl_graph_free(ng);
	harness_free(h);
	cr_assert(eq(uint, probe_count("fini", "probe"), 1), "fini'ed once, by the running graph");
}

Test(adopt, a_failed_build_gives_back_what_it_took)
{
	struct harness *h = harness_new(OLD);
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL;
	struct bl_err err;

	cr_assert(h != NULL);
	env.adopt = &h->g;
	env.n_adopt = 1;
	probe_reset();
	/* probe adopted, then a new filter fails its init: the build is undone. */
	cr_assert(lt(int, harness_build_graph("feed | probe | probe fail=init |all collect", &env, &ng,
					      &err), 0));
	cr_assert(ng == NULL);
	cr_assert(eq(uint, probe_count("fini", "probe"), 0), "the running probe is untouched");
	cr_assert(eq(int, harness_build_graph(NEW, &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "its claims were given back");
	bl_graph_free(ng);
	harness_free(h);
}

Test(adopt, changed_arguments_or_edges_are_a_new_instance)
{
	struct harness *h = harness_new("feed | probe | sample every=2 |all collect");
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL;
	struct bl_err err;

	cr_assert(h != NULL);
	env.adopt = &h->g;
	env.n_adopt = 1;
	/* collect gets a name it did not have: a new instance */
	cr_assert(eq(int, harness_build_graph("feed | probe | sample every=2 |all collect --name=c2",
					      &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "feed, probe, sample");
	cr_assert(bl_graph_filter_by_name(ng, "c2")->priv != node(h->g, "collect")->priv);
	bl_graph_free(ng);
	env.n_adopt = 0;
	cr_assert(eq(int, harness_build_graph(OLD, &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 0), "nothing to adopt from: all new");
	bl_graph_free(ng);
	harness_free(h);
}

/* A branch added after a filter (beltline mount's mkdir) or removed (rmdir) changes its
 * out-edges only: it keeps its instance, its counters and those of the edges it keeps. */
Test(adopt, a_filter_that_gains_or_loses_a_branch_keeps_its_state_and_counters)
{
	struct harness *h = harness_new("feed | probe | collect");
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL, *old;
	struct bl_err err;

	cr_assert(h != NULL);
	harness_push_n(h, 10);
	harness_run(h);
	env.adopt = &h->g;
	env.n_adopt = 1;
	probe_reset();
	cr_assert(eq(int, harness_build_graph("feed | probe | collect + collect --name=c2", &env, &ng,
					      &err), 0), "%s", err.msg);
	bl_graph_commit(ng);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "feed, probe (a new out-edge) and collect");
	cr_assert(node(ng, "probe")->priv == node(h->g, "probe")->priv, "the same state");
	cr_assert(eq(uint, probe_count("init", "probe") + probe_count("stop", "probe"), 0));
	bl_graph_handover(ng);
	struct bl_filter *p = node(ng, "probe");
	cr_assert(eq(u64, p->st.in, 10), "the filter's counters continue");
	cr_assert(eq(u16, p->n_out, 2));
	for (uint16_t k = 0; k < p->n_out; k++)
		cr_assert(eq(u64, p->out[k].pkts, strcmp(p->out[k].to->name, "collect") == 0 ? 10 : 0),
			  "the kept edge's counter continues, the new one starts at 0 (%s)",
			  p->out[k].to->name);
	old = h->g;
	h->g = ng;
	bl_graph_free(old);
	harness_push_n(h, 5);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "probe")->in, 15), "counted on from 10");
	cr_assert(eq(uint, harness_n(h, "c2"), 5), "the new branch gets what came after");

	/* And back: the branch removed, probe kept again. */
	ng = NULL;
	env.adopt = &h->g;
	cr_assert(eq(int, harness_build_graph("feed | probe | collect", &env, &ng, &err), 0), "%s",
		  err.msg);
	bl_graph_commit(ng);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "probe lost an out-edge: still adopted");
	bl_graph_handover(ng);
	cr_assert(eq(u64, node(ng, "probe")->out[0].pkts, 15));
	old = h->g;
	h->g = ng;
	bl_graph_free(old);
	harness_free(h);
	cr_assert(eq(uint, probe_count("fini", "probe"), 1), "fini'ed once");
}

/* A filter whose state is its replica's share of a split (BL_FILTER_F_SPLIT: rx's queues,
 * pcap's PATH-rI) is made anew when the graph's number of replicas changes, and only
 * then; the others of the replica are still adopted (a reload [1] -> [1,2] kept replica
 * 0's rx polling every queue beside replica 1: integration-reload_replicas). */
Test(adopt, a_split_filter_is_new_when_the_number_of_replicas_changes)
{
	char path[64], r0[80], text[128];
	struct bl_graph_env env;
	struct bl_graph *ng = NULL;
	struct harness *h;
	struct bl_err err;

	snprintf(path, sizeof(path), "/tmp/bl-adopt-split-%d.pcap", (int)getpid());
	snprintf(r0, sizeof(r0), "%s-r0", path);
	snprintf(text, sizeof(text), "feed | probe | pcap file=%s", path);
	h = harness_new(text);
	cr_assert(h != NULL);
	env = h->env;
	env.adopt = &h->g;
	env.n_adopt = 1;
	cr_assert(eq(int, harness_build_graph(text, &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "as many replicas: all three adopted");
	bl_graph_free(ng);
	env.replica = 0;
	env.n_replicas = h->env.n_replicas + 1;
	cr_assert(eq(int, harness_build_graph(text, &env, &ng, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 2), "feed and probe adopted, pcap anew");
	cr_assert(node(ng, "pcap")->priv != node(h->g, "pcap")->priv, "a new instance");
	bl_graph_free(ng);
	harness_free(h);
	unlink(path);
	unlink(r0);
}

/* A join adopted by a reload keeps its table of the packets it saw in a pass; the new
 * graph counts its passes from 0 again, so its first pass has the number the old graph's
 * had, and packets at the addresses the old pass's had (the pool hands them out again)
 * were taken for spare references of those and let go (a union passed none of them). */
Test(adopt, an_adopted_join_starts_afresh_in_the_new_graph)
{
	static const char *text = "feed | (ip ++ udp) | count --name=c | drop";
	struct harness *h = harness_new(text);
	struct bl_graph_env env = h->env;
	struct bl_graph *ng = NULL, *old;
	struct bl_err err;

	cr_assert(h != NULL);
	harness_push_n(h, 10);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "c")->in, 10));
	env.adopt = &h->g;
	env.n_adopt = 1;
	cr_assert(eq(int, harness_build_graph(text, &env, &ng, &err), 0), "%s", err.msg);
	bl_graph_commit(ng);
	cr_assert(bl_graph_filter_by_name(ng, "union")->priv ==
		  bl_graph_filter_by_name(h->g, "union")->priv, "the join is adopted");
	bl_graph_handover(ng);
	old = h->g;
	h->g = ng;
	bl_graph_free(old);
	harness_push_n(h, 10);   /* the same mbufs again: the pool's cache is last in, first out */
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "c")->in, 20), "each of the 10 new packets once");
	harness_free(h);
}
