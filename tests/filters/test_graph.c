/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The graph runtime: the common counters every filter and edge has, how
 * classes route, cycles, and the harness itself.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_pipe.h"
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

Test(graph, common_counters_and_edges)
{
	const struct pkt_spec tcp = { .proto = 6 }, udp = { .proto = 17 };

	h = harness_new("feed | tcp | count | collect");
	cr_assert(h != NULL);
	for (int i = 0; i < 70; i++)
		harness_push(h, harness_pkt(i % 7 == 0 ? &udp : &tcp));   /* 10 udp, 60 tcp */
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 60));
	cr_assert(eq(u64, harness_stats(h, "feed")->out, 70));
	cr_assert(eq(u64, harness_stats(h, "tcp")->in, 70));
	cr_assert(eq(u64, harness_stats(h, "tcp")->out, 60));
	cr_assert(eq(u64, harness_stats(h, "tcp")->dropped, 10));
	cr_assert(eq(u64, harness_stats(h, "tcp")->unrouted, 0));
	cr_assert(eq(u64, harness_cls_count(h, "tcp", 1), 60));
	cr_assert(eq(u64, harness_cls_count(h, "tcp", 0), 10));
	cr_assert(eq(u64, harness_stats(h, "count")->in, 60));
	cr_assert(eq(u64, harness_stats(h, "count")->out, 60));
	cr_assert(eq(u64, harness_edge_pkts(h, "feed", "tcp"), 70));
	cr_assert(eq(u64, harness_edge_pkts(h, "tcp", "count"), 60));
	cr_assert(eq(u64, harness_edge_pkts(h, "count", "collect"), 60));
	cr_assert(eq(u64, harness_stats(h, "collect")->in, 60));
	cr_assert(harness_stats(h, "tcp")->calls >= 3, "70 packets in bursts of 32");
	cr_assert(harness_stats(h, "tcp")->calls <= 3);
}

Test(graph, classes_fed_in_reach_the_next_filter)
{
	h = harness_new("feed | count | collect");
	cr_assert(h != NULL);
	for (uint32_t c = 1; c <= 20; c++)
		harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), c);
	harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), 0);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 20));
	for (uint32_t c = 1; c <= 20; c++)
		cr_assert(eq(u32, harness_got_cls(h, NULL, c - 1), c));
	cr_assert(eq(u64, harness_stats(h, "feed")->dropped, 1), "class 0 at the source: a drop");
	/* 16 classes have slots; the rest are "other" */
	cr_assert(eq(u64, harness_stats(h, "count")->cls_other, 4));
}

Test(graph, split_shares_one_mbuf)
{
	h = harness_new("feed | (count | collect --name=a) + (probe | collect --name=b)");
	cr_assert(h != NULL);
	harness_push_n(h, 10);
	cr_assert(eq(uint, harness_n(h, "a"), 10));
	cr_assert(eq(uint, harness_n(h, "b"), 10));
	for (unsigned int i = 0; i < 10; i++) {
		cr_assert(eq(ptr, harness_got(h, "a", i), harness_got(h, "b", i)));
		cr_assert(eq(u16, rte_mbuf_refcnt_read(harness_got(h, "a", i)), 2));
	}
}

Test(graph, a_cycle_terminates_and_counts_cycle_limit)
{
	h = harness_new("feed | count --name=X | probe | count --name=X");
	cr_assert(h != NULL);
	harness_push_n(h, 10);
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 10), "every packet circles until the limit");
	cr_assert(harness_stats(h, "X")->in >= 70);
	uint64_t xin = harness_stats(h, "X")->in, pin = harness_stats(h, "probe")->in;
	cr_assert(xin == pin || xin == pin + 10, "X %lu, probe %lu", (unsigned long)xin, (unsigned long)pin);
	harness_push_n(h, 5);
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 15));
}

Test(graph, a_cycle_with_an_exit)
{
	h = harness_new("feed | sample every=2 --name=S |rest probe | sample every=2 --name=S\n"
			"sample every=2 --name=S |out collect");
	cr_assert(h != NULL);
	harness_push_n(h, 16);
	/* 8 leave in the first round, 4 in the second, then 2, 1, and the last one a round later */
	cr_assert(eq(uint, harness_n(h, NULL), 16));
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 0));
	cr_assert(eq(u64, harness_stats(h, "S")->in, 16 + 8 + 4 + 2 + 1 + 1));
}

/* What leaves a cycle in the round the limit stops it is delivered, wherever the filter
 * after the cycle is written: written first, it ran before the cycle in every round (nodes
 * on or below a cycle ran in index order), and the cycle's last output was dropped as
 * cycle_limit. */
static void
cycle_limit_at(const char *text, unsigned int *got, uint64_t *limit)
{
	h = harness_new(text);
	cr_assert(h != NULL);
	harness_push_n(h, 243);
	*got = (unsigned int)harness_stats(h, "C")->in;
	*limit = bl_graph_stats(h->g)->cycle_limit;
	harness_free(h);
	h = NULL;
}

Test(graph, what_leaves_a_cycle_in_its_last_round_is_delivered_in_any_order)
{
	unsigned int last, first;
	uint64_t l_last, l_first;

	cycle_limit_at("feed | sample every=3 --name=S |rest probe | sample every=3 --name=S\n"
		       "sample every=3 --name=S |out count --name=C", &last, &l_last);
	/* C first: a second source (idle) feeds it, then the cycle's exit does */
	cycle_limit_at("feed --name=F2 | count --name=C\n"
		       "feed | sample every=3 --name=S |rest probe | sample every=3 --name=S\n"
		       "sample every=3 --name=S |out count --name=C", &first, &l_first);
	cr_assert(l_last > 0, "the limit is reached (%lu)", (unsigned long)l_last);
	cr_assert(eq(uint, last + (unsigned int)l_last, 243));
	cr_assert(eq(uint, first, last), "C written first got %u (limit %lu), last %u (limit %lu)",
		  first, (unsigned long)l_first, last, (unsigned long)l_last);
	cr_assert(eq(u64, l_first, l_last));
}

/* A cycle whose members lie on both sides of the filter that feeds it in index order
 * (X=1 before feed=2, Y=3 after): every member is placed (the order left X out, and the
 * runtime took a NULL for it). */
Test(graph, a_cycle_with_members_on_both_sides_of_its_feeder_is_run_whole)
{
	h = harness_new("feed --name=F2 | probe --name=X\n"
			"feed | probe --name=Y | probe --name=X\n"
			"probe --name=X | probe --name=Y");
	cr_assert(h != NULL);
	harness_push_n(h, 4);
	cr_assert(harness_stats(h, "X")->in > 0 && harness_stats(h, "Y")->in > 0);
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 4), "each circles until the limit");
}

Test(graph, a_packet_on_a_cycle_and_an_exit)
{
	h = harness_new("feed | probe --name=X | count | probe --name=X\nprobe --name=X |all collect");
	cr_assert(h != NULL);
	harness_push_n(h, 3);
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 3));
	cr_assert(harness_n(h, NULL) >= 3 * 7, "X hands each packet to collect on every round");
}

Test(graph, build_errors)
{
	struct bl_err err;

	cr_assert(eq(int, harness_try("count | collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "no source") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | collect | count", &err), -EINVAL));
	cr_assert(strstr(err.msg, "sink") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | count | feed --name=f2", &err), -EINVAL));
	cr_assert(strstr(err.msg, "source") != NULL, "%s", err.msg);
	cr_assert(eq(long, bl_graph_test_live_allocs(), 0));
}

/* The column in "is a sink" errors should point at the edge that follows the sink. */
Test(graph, sink_error_names_the_right_column)
{
	struct bl_err err;

	/* col 1.......10........20........30 */
	cr_assert(eq(int, harness_try("feed | count | collect | count", &err), -EINVAL));
	cr_assert(strstr(err.msg, "col 24") != NULL,
		  "BUG (lib/graph/bl_graph.c make_filter): the \"is a sink\" error gives the column of "
		  "the graph's first edge (d->edges[0].col), not of the edge leaving the sink: %s", err.msg);
}

/*
 * Full input buffers: a filter with several out-edges whose targets are
 * already full frees each overflowing reference and counts it. Run in a
 * child process, so a stack overflow is reported as the bug it is.
 */
Test(graph, overflow_on_several_edges_is_counted_and_freed)
{
	pid_t pid;
	int status;

	harness_set_burst_exact(BL_BURST_MAX);
	h = harness_new("feed | (probe --name=E + probe --name=F) | "
			"(collect --name=x1 + collect --name=x2 + collect --name=x3)");
	cr_assert(h != NULL);
	for (int i = 0; i < BL_BURST_MAX; i++)
		harness_push(h, harness_pkt(&(struct pkt_spec){ 0 }));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		bl_graph_run(h->g);
		/* E filled x1..x3; every reference F sent overflowed */
		bool ok = harness_n(h, "x1") == BL_BURST_MAX && harness_n(h, "x2") == BL_BURST_MAX &&
			  harness_stats(h, "F")->overflow == 3u * BL_BURST_MAX;
		_exit(ok ? 0 : 3);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	cr_assert(clean,
		  "BUG (lib/graph/bl_graph_run.c dispatch_labelled): a filter with 3 out-edges whose targets' "
		  "input buffers are full overflows its on-stack drop[2 * BL_BURST_MAX] array (3 x %d "
		  "references to free): the child %s %d", BL_BURST_MAX,
		  WIFSIGNALED(status) ? "died of signal" : "exited with", WIFSIGNALED(status) ? WTERMSIG(status)
		  : WEXITSTATUS(status));
	harness_run(h);   /* the parent's graph: not run; free it whole */
}

/* Every edge carried what the filter at its end received: each filter's in is the sum
 * of its in-edges' counts, and each edge's count is the sum of its per-class counts. */
static void
assert_edges_carried_what_arrived(void)
{
	uint64_t got[BL_GRAPH_MAX_NODES] = { 0 };
	unsigned int n = bl_graph_n_filters(h->g);

	for (unsigned int i = 0; i < n; i++) {
		const struct bl_filter *f = bl_graph_filter(h->g, i);
		for (unsigned int k = 0; k < f->n_out; k++) {
			const struct bl_edge_rt *e = &f->out[k];
			uint64_t by_cls = e->cls_other;
			for (unsigned int c = 0; c < BL_EDGE_CLASS_SLOTS; c++)
				by_cls += e->cls[c].n;
			cr_assert(eq(u64, by_cls, e->pkts), "edge %s -> %s: %lu by class, %lu in all",
				  f->name, e->to->name, (unsigned long)by_cls, (unsigned long)e->pkts);
			got[e->to->idx] += e->pkts;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct bl_filter *f = bl_graph_filter(h->g, i);
		cr_assert(eq(u64, got[f->idx], f->st.in), "%s received %lu, its in-edges carried %lu",
			  f->name, (unsigned long)f->st.in, (unsigned long)got[f->idx]);
	}
}

/* A filter with one out-edge: every packet it emitted went on, was dropped or found no room. */
static void
assert_conserved(const char *node)
{
	const struct bl_filter_stats *st = harness_stats(h, node);

	cr_assert(eq(u64, st->out + st->overflow + st->dropped + st->unrouted, st->in),
		  "%s: in %lu, out %lu + overflow %lu + dropped %lu + unrouted %lu", node,
		  (unsigned long)st->in, (unsigned long)st->out, (unsigned long)st->overflow,
		  (unsigned long)st->dropped, (unsigned long)st->unrouted);
}

/*
 * The labelled dispatch path (negation forces it) into a full input: the
 * packet counts as overflow only, not also as out, and the edge does not count
 * it as carried. Both branches pass every IPv4 packet; the union's input takes
 * the first branch's 256, and every reference of the second overflows.
 */
Test(graph, labelled_overflow_counts_once)
{
	harness_set_burst_exact(BL_BURST_MAX);
	h = harness_new("feed | (!bpf \"arp\" --name=a ++ !bpf \"rarp\" --name=b) | collect");
	cr_assert(h != NULL);
	for (int i = 0; i < BL_BURST_MAX; i++)
		harness_push(h, harness_pkt(&(struct pkt_spec){ .proto = 6 }));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), BL_BURST_MAX));
	cr_assert(eq(u64, harness_stats(h, "b")->overflow, BL_BURST_MAX));
	assert_conserved("a");
	assert_conserved("b");
	assert_conserved("union");
	cr_assert(eq(u64, harness_edge_pkts(h, "b", "union"), 0));
	cr_assert(eq(u64, harness_edge_cls(h, "b", "union", 1), 0));
	assert_edges_carried_what_arrived();
}

/*
 * A packet on two edges whose first edge's input is full: the second still gets
 * it, and holds its only reference. The reference the full edge would have held
 * is let go after the second edge took its own, never before (else the packet
 * goes back to the pool while x2 still has it). E (a tee of 128) fills x1 with
 * 256 packets; F's 128 go to x1 (full) and x2.
 */
Test(graph, labelled_overflow_on_a_first_edge_keeps_the_packet_for_the_next)
{
	const unsigned int half = BL_BURST_MAX / 2;

	harness_set_burst_exact(BL_BURST_MAX);
	h = harness_new("feed --name=feed |1 tee --name=E | collect --name=x1\n"
			"feed --name=feed |2 probe --name=F | (collect --name=x1 + collect --name=x2)");
	cr_assert(h != NULL);
	cr_assert(harness_filter(h, "F")->out[0].to == harness_filter(h, "x1"));
	for (unsigned int i = 0; i < half; i++)
		harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), 1);
	for (unsigned int i = 0; i < half; i++)
		harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), 2);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "x1"), BL_BURST_MAX));
	cr_assert(eq(uint, harness_n(h, "x2"), half));
	for (unsigned int i = 0; i < half; i++)
		cr_assert(eq(u16, rte_mbuf_refcnt_read(harness_got(h, "x2", i)), 1),
			  "x2's packet %u: refcnt %u, want 1 (x2's own)", i,
			  rte_mbuf_refcnt_read(harness_got(h, "x2", i)));
	cr_assert(eq(u64, harness_stats(h, "F")->overflow, half));
	cr_assert(eq(u64, harness_stats(h, "F")->out, half));
	cr_assert(eq(u64, harness_edge_pkts(h, "F", "x1"), 0));
	cr_assert(eq(u64, harness_edge_pkts(h, "F", "x2"), half));
	assert_edges_carried_what_arrived();
}

/* Two pipelines with a common prefix share its instances (issue 4 point 4). */
Test(graph, common_prefixes_share_instances)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	const struct pkt_spec tcp = { .proto = 6 }, udp = { .proto = 17 };
	struct bl_err err = { 0 };
	struct bl_gdesc d;

	h = calloc(1, sizeof(*h));
	cr_assert(h != NULL);
	h->env = (struct bl_graph_env){ .pool = harness_pool(), .n_replicas = 1, .burst = 32 };
	snprintf(h->text, sizeof(h->text), "shared");
	bl_gdesc_init(&d);
	cr_assert(eq(int, bl_pipe_parse("feed | tcp | count | collect --name=a\n"
					"feed | tcp | sample every=2 |all collect --name=b", &opts, &d, &err), 0),
		  "%s", err.msg);
	cr_assert(eq(int, bl_graph_share_prefixes(&d), 2), "feed and tcp are shared");
	cr_assert(eq(uint, d.n_nodes, 6));
	cr_assert(eq(int, bl_graph_build(&d, &h->env, &h->g, &err), 0), "%s", err.msg);
	bl_gdesc_free(&d);
	for (int i = 0; i < 10; i++)
		harness_push(h, harness_pkt(i < 6 ? &tcp : &udp));
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "tcp")->in, 10), "one tcp instance saw every packet once");
	cr_assert(eq(uint, harness_n(h, "a"), 6));
	cr_assert(eq(uint, harness_n(h, "b"), 6));
	cr_assert(eq(uint, harness_n_cls(h, "b", 1), 3));
	cr_assert(eq(uint, harness_n_cls(h, "b", 2), 3));
}

/* Cycles spent are sampled one pass in 32 and scaled up; a filter that ran on sampled passes has some. */
Test(graph, cycles_are_counted)
{
	h = harness_new("gen | count | drop");
	cr_assert(h != NULL);
	harness_passes(h, 64);
	cr_assert(harness_stats(h, "gen")->cycles > 0);
	cr_assert(harness_stats(h, "count")->cycles > 0);
	cr_assert(harness_stats(h, "drop")->cycles > 0);
	cr_assert(eq(u64, harness_stats(h, "count")->calls, 64));
	cr_assert(eq(u64, harness_stats(h, "drop")->dropped, 64 * 32));
	cr_assert(eq(u64, bl_graph_stats(h->g)->passes, 64));
}

Test(graph, at_most_64_filters)
{
	char text[2048] = "feed";
	struct bl_err err;

	for (int i = 0; i < 62; i++)
		strcat(text, " | probe");
	strcat(text, " | collect");
	h = harness_new(text);
	cr_assert(h != NULL, "64 filters build");
	cr_assert(eq(uint, bl_graph_n_filters(h->g), 64));
	harness_push_n(h, 3);
	cr_assert(eq(uint, harness_n(h, NULL), 3));
	strcat(text, " + count");
	cr_assert(eq(int, harness_try(text, &err), -E2BIG));
	cr_assert(strstr(err.msg, "65 filters") != NULL, "%s", err.msg);
}

/* A chained frame on several branches: every segment is shared, freed once by the last holder. */
Test(graph, chained_frames_on_several_branches)
{
	uint8_t a[60], b[40];

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	h = harness_new("feed | (count | collect --name=x) + (probe | collect --name=y) + (tcp |all collect --name=z)"
			" + ((probe ++ eth) | drop)");
	cr_assert(h != NULL);
	for (int i = 0; i < 8; i++) {
		struct rte_mbuf *m = harness_mbuf(a, sizeof(a)), *t = harness_mbuf(b, sizeof(b));
		cr_assert(eq(int, rte_pktmbuf_chain(m, t), 0));
		harness_push(h, m);
	}
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "drop")->dropped, 8), "the union passed each frame once");
	cr_assert(eq(uint, harness_n(h, "x"), 8));
	cr_assert(eq(uint, harness_n(h, "y"), 8));
	cr_assert(eq(uint, harness_n(h, "z"), 8));
	for (int i = 0; i < 8; i++) {
		struct rte_mbuf *m = harness_got(h, "x", (unsigned int)i);
		cr_assert(eq(u16, m->nb_segs, 2));
		cr_assert(eq(u32, m->pkt_len, 100));
		cr_assert(eq(u8, *rte_pktmbuf_mtod(m->next, uint8_t *), 0x22));
	}
	harness_clear(h, "x");
	harness_clear(h, "y");
	/* z still holds every frame whole */
	struct rte_mbuf *m = harness_got(h, "z", 0);
	cr_assert(eq(u8, *rte_pktmbuf_mtod(m->next, uint8_t *), 0x22));
}

/* Taps (app/beltlined/tap.c): every hook on a filter's list sees each burst it emits. */
struct count_tap {
	struct bl_filter_tap hook;   /* first */
	unsigned int pkts, bursts;
};

static void
count_tap_burst(struct bl_filter_tap *t, struct rte_mbuf **pkts, const uint32_t *cls, uint16_t n,
		uint8_t negate)
{
	struct count_tap *c = (struct count_tap *)t;

	(void)pkts;
	(void)cls;
	(void)negate;
	c->pkts += n;
	c->bursts++;
}

Test(graph, every_tap_on_a_filter_sees_its_packets)
{
	struct count_tap a = { .hook.burst = count_tap_burst }, b = { .hook.burst = count_tap_burst };
	struct bl_filter *f;

	h = harness_new("feed | probe | collect");
	cr_assert(h != NULL);
	f = harness_filter(h, "probe");
	b.hook.next = NULL;
	a.hook.next = &b.hook;
	f->tap = &a.hook;   /* no worker runs: plain stores */
	harness_push_n(h, 10);
	cr_assert(eq(uint, harness_n(h, NULL), 10), "the packets flow on");
	cr_assert(eq(uint, a.pkts, 10));
	cr_assert(eq(uint, b.pkts, 10), "the second hook too");
	f->tap = &b.hook;   /* the first unlinked */
	harness_push_n(h, 5);
	cr_assert(eq(uint, a.pkts, 10));
	cr_assert(eq(uint, b.pkts, 15));
	f->tap = NULL;
	harness_push_n(h, 5);
	cr_assert(eq(uint, b.pkts, 15));
	cr_assert(eq(uint, harness_n(h, NULL), 20));
}

/*
 * A graph's burst is at most what its inputs hold from every path into them
 * (bl_graph_burst_for): a filter two paths reach may be handed two bursts in a pass.
 * At burst 256 an intersect of two branches passed none of 256 packets (the second
 * branch's references overflowed its input: every packet partial), at 200 280 of 1000;
 * two sources into one filter lost a source's bursts whole.
 */
Test(graph, an_intersect_at_full_burst_passes_every_packet)
{
	harness_set_burst(BL_BURST_MAX);
	h = harness_new("feed | (ip +* tcp) | collect");
	cr_assert(h != NULL);
	for (int i = 0; i < BL_BURST_MAX; i++)
		harness_push(h, harness_pkt(&(struct pkt_spec){ .proto = 6 }));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), BL_BURST_MAX), "partial %lu, tcp overflow %lu",
		  (unsigned long)harness_counter(h, "intersect", "partial"),
		  (unsigned long)harness_stats(h, "tcp")->overflow);
}

Test(graph, an_intersect_at_burst_200_passes_every_packet)
{
	harness_set_burst(200);
	h = harness_new("feed | (ip +* tcp) | collect");
	cr_assert(h != NULL);
	for (int i = 0; i < 1000; i++)
		harness_push(h, harness_pkt(&(struct pkt_spec){ .proto = 6 }));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 1000));
}

Test(graph, two_sources_into_one_filter_at_full_burst_lose_nothing)
{
	harness_set_burst(BL_BURST_MAX);
	h = harness_new("feed | count --name=c | collect; gen count=512 | count --name=c");
	cr_assert(h != NULL);
	for (int i = 0; i < 512; i++)
		harness_push(h, harness_pkt(&(struct pkt_spec){ .proto = 6 }));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 1024), "feed overflow %lu, gen overflow %lu",
		  (unsigned long)harness_stats(h, "feed")->overflow,
		  (unsigned long)harness_stats(h, "gen")->overflow);
}

Test(graph, the_burst_a_graph_takes)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	struct bl_gdesc d;
	struct bl_err err = { 0 };
	unsigned int paths;

	bl_gdesc_init(&d);
	cr_assert(eq(int, bl_pipe_parse("feed | (ip +* tcp) | collect", &opts, &d, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(u16, bl_graph_burst_for(&d, 256, &paths), 128));
	cr_assert(eq(uint, paths, 2));
	cr_assert(eq(u16, bl_graph_burst_for(&d, 32, &paths), 32), "room enough: as asked");
	bl_gdesc_free(&d);
}
