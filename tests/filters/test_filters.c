/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filters that are not classifiers or sources: bpf, count, sample, tee,
 * drop, macswap, the joins (union ++, intersect +*) and negation.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_graph_pvt.h"   /* a graph's tickers */
#include "harness.h"

static struct harness *h;

static void
teardown(void)
{
	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(filters, .init = harness_eal, .fini = teardown, .timeout = 30);

static const struct pkt_spec tcp80 = { .proto = 6, .dport = 80 }, tcp22 = { .proto = 6, .dport = 22 },
			     udp53 = { .proto = 17, .dport = 53 }, arp = { .etype = 0x0806 },
			     tcp6 = { .etype = 0x86dd, .proto = 6, .dport = 80 };

static void
push(const struct pkt_spec *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		harness_push(h, harness_pkt(s));
}

/* ---- bpf ---------------------------------------------------------------- */

Test(filters, bpf_accepts_and_rejects)
{
	h = harness_new("bpf \"tcp dst port 80\"");
	cr_assert(h != NULL);
	push(&tcp80, 5);
	push(&tcp22, 3);
	push(&udp53, 2);
	harness_run(h);
	cr_assert(eq(uint, harness_count(h, "out"), 5));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 0), 5));
	cr_assert(eq(u64, harness_counter(h, "bpf", "accepted"), 5));
	cr_assert(eq(u64, harness_counter(h, "bpf", "rejected"), 5));
	for (unsigned int i = 0; i < 5; i++)
		cr_assert(eq(u32, harness_got_cls(h, NULL, i), 1));
}

Test(filters, bpf_expr_key_and_drops)
{
	h = harness_new("feed | bpf expr=\"udp or arp\" | collect");
	cr_assert(h != NULL);
	push(&tcp80, 4);
	push(&udp53, 2);
	push(&arp, 1);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 3));
	cr_assert(eq(u64, harness_stats(h, "bpf")->dropped, 4));
	cr_assert(eq(u64, harness_stats(h, "bpf")->out, 3));
}

/* ---- count -------------------------------------------------------------- */

Test(filters, count_packets_bytes_and_classes_pass_through)
{
	uint64_t bytes = 3 * harness_pkt_len(&tcp80) + 2 * harness_pkt_len(&tcp22);

	h = harness_new("feed | dport | count |80 collect");
	cr_assert(h != NULL);
	push(&tcp80, 3);
	push(&tcp22, 2);
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "count", "packets"), 5));
	cr_assert(eq(u64, harness_counter(h, "count", "bytes"), bytes));
	cr_assert(eq(uint, harness_n(h, NULL), 3));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 80), 3), "the class dport gave survives count");
	cr_assert(eq(u64, harness_cls_count(h, "count", 80), 3));
	cr_assert(eq(u64, harness_cls_count(h, "count", 22), 2));
	cr_assert(eq(u64, harness_stats(h, "count")->unrouted, 2), "class 22: no edge carries it");
	cr_assert(eq(u64, harness_stats(h, "count")->out, 3));
}

/* ---- sample ------------------------------------------------------------- */

Test(filters, sample_passes_one_in_every_n)
{
	h = harness_new("sample every=4");
	cr_assert(h != NULL);
	harness_push_n(h, 64);
	cr_assert(eq(uint, harness_count(h, "out"), 16));
	cr_assert(eq(uint, harness_count(h, "rest"), 48));
	for (unsigned int i = 0; i < 64; i++)
		cr_assert(eq(u32, harness_got_cls(h, NULL, i), i % 4 == 3 ? 1 : 2), "packet %u", i);
}

Test(filters, sample_counts_across_bursts)
{
	h = harness_new("feed | sample every=3 |out collect --name=o |rest collect --name=r");
	cr_assert(h == NULL, "a sink cannot be followed");   /* two edges from collect: rejected */
	h = harness_new("feed | (sample every=3 |out collect --name=o) + (sample every=7 |rest collect --name=r)");
	cr_assert(h != NULL);
	harness_push_n(h, 100);   /* 4 bursts of 32 at most */
	cr_assert(eq(uint, harness_n(h, "o"), 33));
	cr_assert(eq(uint, harness_n(h, "r"), 100 - 14));
	cr_assert(eq(u64, harness_stats(h, "sample")->unrouted, 67), "rest of sample: no edge");
	cr_assert(eq(u64, harness_stats(h, "sample2")->unrouted, 14), "out of sample2: no edge");
}

/* ---- tee ---------------------------------------------------------------- */

Test(filters, tee_copy_is_a_distinct_mbuf_with_equal_bytes)
{
	h = harness_new("tee");
	cr_assert(h != NULL);
	push(&tcp80, 10);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 20));
	cr_assert(eq(uint, harness_count(h, "out"), 10));
	cr_assert(eq(uint, harness_count(h, "copy"), 10));
	for (unsigned int i = 0; i < 20; i += 2) {
		struct rte_mbuf *a = harness_got(h, NULL, i), *b = harness_got(h, NULL, i + 1);
		cr_assert(eq(u32, harness_got_cls(h, NULL, i), 1));
		cr_assert(eq(u32, harness_got_cls(h, NULL, i + 1), 2));
		cr_assert(a != b);
		bool distinct = rte_pktmbuf_mtod(a, void *) != rte_pktmbuf_mtod(b, void *);
		cr_assert(distinct);
		cr_assert(eq(u32, a->pkt_len, b->pkt_len));
		cr_assert(memcmp(rte_pktmbuf_mtod(a, void *), rte_pktmbuf_mtod(b, void *), a->pkt_len) == 0);
		cr_assert(eq(u16, rte_mbuf_refcnt_read(a), 1));
		cr_assert(eq(u16, rte_mbuf_refcnt_read(b), 1));
	}
	cr_assert(eq(u64, harness_stats(h, "tee")->copies, 10));
}

/* ---- drop --------------------------------------------------------------- */

Test(filters, drop_drops_everything)
{
	h = harness_new("feed | drop");
	cr_assert(h != NULL);
	push(&tcp80, 40);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "drop")->in, 40));
	cr_assert(eq(u64, harness_stats(h, "drop")->dropped, 40));
	cr_assert(eq(u64, harness_stats(h, "drop")->out, 0));
	cr_assert(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE - 1), "all freed but the one feed holds");
}

/* ---- macswap ------------------------------------------------------------ */

static const uint8_t dmac[6] = { 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
static const uint8_t smac[6] = { 0x12, 0x13, 0x14, 0x15, 0x16, 0x17 };

Test(filters, macswap_swaps_in_place)
{
	h = harness_new("feed | macswap | collect");
	cr_assert(h != NULL);
	push(&tcp80, 4);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 4));
	for (unsigned int i = 0; i < 4; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(harness_got(h, NULL, i), const uint8_t *);
		cr_assert(memcmp(d, smac, 6) == 0 && memcmp(d + 6, dmac, 6) == 0);
	}
	cr_assert(eq(u64, harness_stats(h, "macswap")->copies, 0), "not shared: no copy");
}

Test(filters, macswap_copies_a_shared_packet)
{
	h = harness_new("feed | (macswap | collect --name=a) + collect --name=b");
	cr_assert(h != NULL);
	push(&tcp80, 6);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "a"), 6));
	cr_assert(eq(uint, harness_n(h, "b"), 6));
	for (unsigned int i = 0; i < 6; i++) {
		struct rte_mbuf *ma = harness_got(h, "a", i), *mb = harness_got(h, "b", i);
		const uint8_t *a = rte_pktmbuf_mtod(ma, const uint8_t *);
		const uint8_t *b = rte_pktmbuf_mtod(mb, const uint8_t *);
		cr_assert(ma != mb);
		cr_assert(memcmp(a, smac, 6) == 0 && memcmp(a + 6, dmac, 6) == 0, "macswap's branch: swapped");
		cr_assert(memcmp(b, dmac, 6) == 0 && memcmp(b + 6, smac, 6) == 0, "the other branch: original");
		cr_assert(memcmp(a + 12, b + 12, ma->pkt_len - 12) == 0);
		cr_assert(eq(u16, rte_mbuf_refcnt_read(mb), 1));
	}
	cr_assert(eq(u64, harness_stats(h, "macswap")->copies, 6));
}

Test(filters, macswap_short_frames_are_class_0)
{
	const struct pkt_spec cut = { .cut = 13 };

	h = harness_new("macswap");
	cr_assert(h != NULL);
	push(&cut, 2);
	push(&tcp80, 1);
	harness_run(h);
	cr_assert(eq(uint, harness_n_cls(h, NULL, 0), 2));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 1));
	cr_assert(eq(u64, harness_counter(h, "macswap", "short"), 2));
}

/* ---- union, intersect, negation ----------------------------------------- */

static void
push_mix(void)
{
	push(&tcp80, 3);    /* ip, tcp */
	push(&udp53, 2);    /* ip */
	push(&arp, 1);      /* neither */
	push(&tcp6, 1);     /* tcp */
}

Test(filters, union_passes_each_packet_once)
{
	h = harness_new("feed | (ip ++ tcp) | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 6));
	for (unsigned int i = 0; i < 6; i++)
		for (unsigned int k = 0; k < i; k++)
			cr_assert(harness_got(h, NULL, i) != harness_got(h, NULL, k), "a duplicate");
	cr_assert(eq(u64, harness_stats(h, "union")->in, 9));
	cr_assert(eq(u64, harness_stats(h, "union")->out, 6));
}

Test(filters, intersect_passes_what_every_branch_passed)
{
	h = harness_new("feed | (ip +* tcp) | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 3));
	cr_assert(eq(u64, harness_stats(h, "intersect")->out, 3));
	/* udp (ip only) twice, tcp over IPv6 (tcp only) once; arp neither passed */
	cr_assert(eq(u64, harness_counter(h, "intersect", "partial"), 3));
}

Test(filters, three_way_joins)
{
	h = harness_new("feed | ((ip +* tcp +* (dport |80 probe)) | collect --name=i) + ((udp ++ arp ++ ip6) | collect --name=u)");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "i"), 3));
	cr_assert(eq(uint, harness_n(h, "u"), 4));
	/* udp twice (1 of 3 branches), tcp over IPv6 once (2 of 3: counted once) */
	cr_assert(eq(u64, harness_counter(h, "intersect", "partial"), 3));
}

/*
 * A join on a cycle runs more than once a pass. A packet it passed in one round, then
 * freed by every branch, is an mbuf the pool may hand out again in a later round of the
 * same pass (here tee's copy of the next packet): the join took that new packet for a
 * spare reference of the old one and freed it, counted nowhere (union's in 7, out 3).
 * Each round here is one packet in, one out: in must equal out, and the cycle ends at
 * its limit, counted.
 */
Test(filters, a_join_on_a_cycle_tells_a_reused_mbuf_from_a_spare_reference)
{
	h = harness_new("feed | union --name=U | tee --name=T |out drop\n"
			"tee --name=T |copy union --name=U");
	cr_assert(h != NULL);
	push(&tcp80, 1);
	harness_run(h);
	const struct bl_filter_stats *u = harness_stats(h, "U");
	cr_assert(eq(u64, u->in, u->out), "union: %lu in, %lu out, %lu dropped",
		  (unsigned long)u->in, (unsigned long)u->out, (unsigned long)u->dropped);
	cr_assert(eq(u64, bl_graph_stats(h->g)->cycle_limit, 1), "the copy circles to the limit");
	cr_assert(eq(u64, harness_stats(h, "T")->copies, u->in));
}

/* The references a join holds are a cyclic graph's business: in a graph without a cycle
 * it holds none, and its tick (letting them go) is not run at every pass for nothing. */
Test(filters, a_join_in_an_acyclic_graph_costs_no_tick_a_pass)
{
	h = harness_new("feed | (ip ++ tcp) | drop");
	cr_assert(h != NULL);
	cr_assert(eq(uint, h->g->n_tickers, 0), "no cycle: the join's tick is not run");
	push(&tcp80, 3);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "union")->in, 6), "both branches pass each");
	cr_assert(eq(u64, harness_stats(h, "union")->out, 3));

	harness_free(h);
	h = harness_new("feed | union --name=U | tee --name=T |out drop\n"
			"tee --name=T |copy union --name=U");
	cr_assert(h != NULL);
	cr_assert(eq(uint, h->g->n_tickers, 1), "a cycle: the join's tick lets go of what it holds");
}

/* A join that held references in a cyclic graph and is taken over (a reload) by a graph
 * without a cycle: what it held goes at the new graph's first pass, packets or none. */
Test(filters, a_join_adopted_from_a_cyclic_graph_lets_go_at_the_first_pass)
{
	struct bl_graph *ng = NULL, *old;
	struct bl_graph_env env;
	unsigned int free0;
	struct bl_err err;

	h = harness_new("feed | union --name=U | tee --name=T |out drop\n"
			"tee --name=T |copy union --name=U");
	cr_assert(h != NULL);
	free0 = harness_pool_free();
	push(&tcp80, 1);
	bl_graph_run(h->g);   /* one pass: the join holds what it saw until the next */
	cr_assert(harness_pool_free() < free0, "held over the pass");
	env = h->env;
	env.adopt = &h->g;
	env.n_adopt = 1;
	cr_assert(eq(int, harness_build_graph("feed | tee --name=T2 |out union --name=U | drop\n"
					      "tee --name=T2 |copy union --name=U", &env, &ng, &err), 0),
		  "%s", err.msg);
	bl_graph_commit(ng);
	cr_assert(eq(uint, bl_graph_n_adopted(ng), 3), "feed, the join and drop");
	bl_graph_handover(ng);
	old = h->g;
	h->g = ng;
	bl_graph_free(old);
	bl_graph_run(h->g);   /* no packet */
	cr_assert(eq(uint, harness_pool_free(), free0), "the held packets went back");
}

/*
 * A filter that may hold a packet into a later pass (user; the harness's delay)
 * inside a join's branch: the join would see that branch's reference of a packet
 * passes after the others' (intersect dropped every packet, union passed each
 * twice). Refused when the graph is built, naming the filter.
 */
static void
refused(const char *text, const char *names)
{
	struct bl_err err = { 0 };
	int rc = harness_build(text, &h, &err);

	if (rc == 0) {
		push_mix();
		harness_run(h);
	}
	cr_assert(rc != 0, "\"%s\" was built: of 7 packets, %u came out", text,
		  rc == 0 ? harness_n(h, NULL) : 0);
	cr_assert(eq(int, rc, -EINVAL), "%s", err.msg);
	cr_assert(strstr(err.msg, names) != NULL, "\"%s\": %s", text, err.msg);
}

Test(filters, union_refuses_a_branch_that_holds_packets)     { refused("feed | (delay ++ ip) | collect", "\"delay\""); }
Test(filters, intersect_refuses_a_branch_that_holds_packets) { refused("feed | (ip +* delay) | collect", "\"delay\""); }
Test(filters, joins_refuse_a_hold_deep_in_a_branch)
{
	refused("feed | ((tcp | delay | count) ++ udp) | collect", "\"delay\"");
}
Test(filters, joins_refuse_user_in_a_branch)
{
	refused("feed | (user name=x +* bpf \"ip\") | collect", "\"user\"");
}
Test(filters, joins_refuse_a_named_hold_by_its_name)
{
	refused("feed | (ip ++ delay --name=later) | collect", "\"later\"");
}
/* A filter that writes packet bytes (macswap) in a branch: the packet is shared there, so
 * it hands on a copy of its own, which the join never saw in the other branch: union
 * passed 10 for 5 packets, intersect none. */
Test(filters, union_refuses_a_branch_that_rewrites_packets)
{
	refused("feed | (macswap ++ count) | collect", "\"macswap\" writes packet bytes");
}
Test(filters, intersect_refuses_a_branch_that_rewrites_packets)
{
	refused("feed | (count +* macswap) | collect", "\"macswap\" writes packet bytes");
}
/* Before the split or after the join it is one packet's one copy: built. */
Test(filters, joins_take_a_rewrite_after_the_join)
{
	struct bl_err err = { 0 };

	cr_assert(eq(int, harness_build("feed | (ip ++ count) | macswap | collect", &h, &err), 0),
		  "%s", err.msg);
	push_mix();
	harness_run(h);
	cr_assert(harness_n(h, NULL) > 0);
}

/* Held before the split or after the join, every reference of a packet reaches the
 * join in one pass: built, and right. */
Test(filters, joins_take_a_hold_before_the_split)
{
	h = harness_new("feed | delay | (ip ++ tcp) | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 6));
}

Test(filters, joins_take_a_hold_after_the_join)
{
	h = harness_new("feed | (ip +* tcp) | delay | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 3));
}

Test(filters, joins_take_a_hold_on_a_branch_they_do_not_join)
{
	h = harness_new("feed --name=feed | delay | collect --name=d\nfeed --name=feed | (ip ++ tcp) | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "d"), 7));
	cr_assert(eq(uint, harness_n(h, NULL), 6));
}

Test(filters, a_split_without_join_takes_a_hold)
{
	h = harness_new("feed | (delay + ip) | collect");
	cr_assert(h != NULL);
	push_mix();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 12));
}

/*
 * A second graph of the same shape in the same process, fed from the same
 * pool: its packets are the mbufs the first graph's join marked, and its
 * join has the same node index and pass numbers.
 */
static void
rebuilt(const char *text, unsigned int want)
{
	for (int round = 0; round < 3; round++) {
		h = harness_new(text);
		cr_assert(h != NULL);
		push_mix();
		harness_run(h);
		cr_assert(eq(uint, harness_n(h, NULL), want), "%s, graph #%d: %u packets, want %u",
			  text, round + 1, harness_n(h, NULL), want);
		harness_free(h);
		h = NULL;
	}
}

Test(filters, union_works_in_a_rebuilt_graph)     { rebuilt("feed | (ip ++ tcp) | collect", 6); }
Test(filters, intersect_works_in_a_rebuilt_graph) { rebuilt("feed | (ip +* tcp) | collect", 3); }

Test(filters, negation)
{
	const struct pkt_spec cut = { .cut = 10 };

	h = harness_new("feed | !tcp | collect");
	cr_assert(h != NULL);
	push(&tcp80, 3);
	push(&udp53, 2);
	push(&cut, 1);
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 3));
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 3));
	cr_assert(eq(u64, harness_stats(h, "tcp")->dropped, 3));
	cr_assert(eq(u64, harness_stats(h, "tcp")->out, 3));
	cr_assert(eq(u64, harness_counter(h, "tcp", "malformed"), 1));
}

Test(filters, negated_port_filter_passes_class_1)
{
	h = harness_new("feed | !dport |1 collect");
	cr_assert(h != NULL);
	push(&arp, 2);      /* dport: class 0, negated: 1 */
	push(&tcp22, 1);    /* dport: 22, negated: 0 */
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 2));
}

Test(filters, tee_without_mbufs_still_passes_out)
{
	struct rte_mbuf *hold[HARNESS_POOL_SIZE];
	unsigned int n = 0;

	h = harness_new("tee");
	cr_assert(h != NULL);
	push(&tcp80, 3);
	while (n < HARNESS_POOL_SIZE && (hold[n] = rte_pktmbuf_alloc(harness_pool())) != NULL)
		n++;
	harness_run(h);
	rte_pktmbuf_free_bulk(hold, n);
	cr_assert(eq(uint, harness_count(h, "out"), 3));
	cr_assert(eq(uint, harness_count(h, "copy"), 0));
	cr_assert(eq(u64, harness_stats(h, "tee")->copy_fail, 3));
}

Test(filters, macswap_without_mbufs_drops_a_shared_packet)
{
	struct rte_mbuf *hold[HARNESS_POOL_SIZE];
	unsigned int n = 0;

	h = harness_new("feed | (macswap | collect --name=a) + collect --name=b");
	cr_assert(h != NULL);
	push(&tcp80, 3);
	while (n < HARNESS_POOL_SIZE && (hold[n] = rte_pktmbuf_alloc(harness_pool())) != NULL)
		n++;
	harness_run(h);
	rte_pktmbuf_free_bulk(hold, n);
	cr_assert(eq(uint, harness_n(h, "a"), 0));
	cr_assert(eq(uint, harness_n(h, "b"), 3), "the other branch keeps the original");
	cr_assert(eq(u64, harness_stats(h, "macswap")->copy_fail, 3));
	const uint8_t *d = rte_pktmbuf_mtod(harness_got(h, "b", 0), const uint8_t *);
	cr_assert(memcmp(d, dmac, 6) == 0, "not rewritten");
}

/* A frame whose Ethernet header spans two segments is a whole frame: swapped, not "short". */
Test(filters, macswap_header_across_segments)
{
	uint8_t b[100] = { 0 };

	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	h = harness_new("macswap");
	cr_assert(h != NULL);
	for (uint32_t cut = 1; cut < 14; cut++) {
		struct rte_mbuf *m = harness_mbuf(b, cut), *t = harness_mbuf(b + cut, sizeof(b) - cut);
		cr_assert(eq(int, rte_pktmbuf_chain(m, t), 0));
		harness_push(h, m);
	}
	harness_run(h);
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 13), "every split frame is swapped");
	cr_assert(eq(u64, harness_counter(h, "macswap", "short"), 0));
	for (unsigned int i = 0; i < harness_n(h, NULL); i++) {
		uint8_t got[14];
		const uint8_t *d = rte_pktmbuf_read(harness_got(h, NULL, i), 0, 14, got);
		cr_assert(memcmp(d, smac, 6) == 0 && memcmp(d + 6, dmac, 6) == 0, "split at %u", i + 1);
		cr_assert(eq(u8, d[12], 0x08));
	}
}

/*
 * An input of more than half a burst leaves tee no room to emit a copy of every
 * packet: the packets still all go on out, and the copies that do not fit are
 * given up and counted as overflow (never made). copies counts copies emitted.
 */
static void
tee_burst(unsigned int n, unsigned int want_copies)
{
	harness_set_burst(BL_BURST_MAX);
	h = harness_new("tee");
	cr_assert(h != NULL);
	push(&tcp80, n);
	harness_run(h);
	cr_assert(eq(u64, harness_stats(h, "tee")->in, n));
	cr_assert(eq(uint, harness_count(h, "out"), n), "out got %u of %u packets",
		  harness_count(h, "out"), n);
	cr_assert(eq(uint, harness_count(h, "copy"), want_copies));
	cr_assert(eq(u64, harness_stats(h, "tee")->copies, want_copies),
		  "copies says %lu, copy got %u", (unsigned long)harness_stats(h, "tee")->copies,
		  harness_count(h, "copy"));
	cr_assert(eq(u64, harness_stats(h, "tee")->overflow, n - want_copies));
	cr_assert(eq(u64, harness_stats(h, "tee")->copy_fail, 0));
	/* each copy follows its packet; the packets without one come after */
	for (unsigned int i = 0; i < 2 * want_copies; i += 2)
		cr_assert(eq(u32, harness_got_cls(h, NULL, i) * 10 + harness_got_cls(h, NULL, i + 1), 12));
	for (unsigned int i = 2 * want_copies; i < harness_n(h, NULL); i++)
		cr_assert(eq(u32, harness_got_cls(h, NULL, i), 1));
}

Test(filters, tee_on_a_full_burst_passes_every_packet_on_out) { tee_burst(BL_BURST_MAX, 0); }
Test(filters, tee_on_200_packets_copies_the_first_56)         { tee_burst(200, BL_BURST_MAX - 200); }
Test(filters, tee_on_half_a_burst_copies_every_packet)        { tee_burst(BL_BURST_MAX / 2, BL_BURST_MAX / 2); }
