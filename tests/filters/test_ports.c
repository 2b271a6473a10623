/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rx and tx on a real ethdev: a net_null port (its rx makes 64-byte packets,
 * its tx frees them). Queues, replicas, claims, and the counters.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "harness.h"

static struct harness *h;

static void
setup(void)
{
	harness_null_port();
}

static void
teardown(void)
{
	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(ports, .init = setup, .fini = teardown, .timeout = 30);

Test(ports, rx_count_tx)
{
	h = harness_new("rx port=null | count | tx port=null");
	cr_assert(h != NULL);
	harness_passes(h, 10);
	cr_assert(eq(u64, harness_counter(h, "count", "packets"), 320), "net_null fills every burst of 32");
	cr_assert(eq(u64, harness_counter(h, "count", "bytes"), 320 * 64));
	cr_assert(eq(u64, harness_counter(h, "tx", "tx"), 320));
	cr_assert(eq(u64, harness_counter(h, "tx", "tx_dropped"), 0));
	cr_assert(eq(u64, harness_counter(h, "tx", "queue"), 0));
	cr_assert(eq(u64, harness_stats(h, "rx")->out, 320));
	cr_assert(eq(u64, harness_stats(h, "tx")->in, 320));
}

Test(ports, rx_into_a_collector)
{
	h = harness_new("rx port=null queue=1 | collect");
	cr_assert(h != NULL);
	harness_passes(h, 2);
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 64));
	cr_assert(eq(u32, harness_got(h, NULL, 0)->pkt_len, 64));
}

Test(ports, gen_to_tx)
{
	h = harness_new("gen count=100 | tx port=null");
	cr_assert(h != NULL);
	harness_passes(h, 5);
	cr_assert(eq(u64, harness_counter(h, "tx", "tx"), 100));
}

Test(ports, replicas_share_the_queues_and_claims_catch_a_second_poller)
{
	struct bl_graph_env env;
	uint64_t claims[BL_GRAPH_MAX_PORTS] = { 0 };
	struct harness *h2 = NULL;
	struct bl_err err;

	harness_env(&env);
	env.rx_claims = claims;
	env.n_replicas = 2;
	env.replica = 1;
	cr_assert(eq(int, harness_build_env("rx port=null | collect", &env, &h, &err), 0), "%s", err.msg);
	cr_assert(eq(u64, claims[0], 2), "replica 1 of 2 polls queue 1");
	env.replica = 0;
	cr_assert(eq(int, harness_build_env("rx port=null | collect", &env, &h2, &err), 0), "%s", err.msg);
	cr_assert(eq(u64, claims[0], 3));
	harness_free(h2);
	cr_assert(eq(u64, claims[0], 2), "fini releases the claim");
	env.replica = 1;
	cr_assert(eq(int, harness_build_env("rx port=null | collect", &env, &h2, &err), -EBUSY));
	cr_assert(strstr(err.msg, "port") != NULL && strstr(err.msg, "queue 1") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_build_env("rx port=null queue=1 | collect", &env, &h2, &err), -EINVAL),
		  "one queue cannot be polled by two replicas");
	cr_assert(strstr(err.msg, "queue") != NULL, "%s", err.msg);
	cr_assert(eq(u64, claims[0], 2), "a failed build claims nothing");
}

Test(ports, tx_needs_a_queue_of_its_own)
{
	struct bl_graph_env env;
	struct bl_err err;

	harness_env(&env);
	env.ports[0].tx_queue = 2;
	cr_assert(eq(int, harness_build_env("gen | tx port=null", &env, &h, &err), -EINVAL));
	cr_assert(strstr(err.msg, "tx_queues") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_build_env("rx port=null queue=2 | drop", &env, &h, &err), -EINVAL));
	cr_assert(strstr(err.msg, "queue") != NULL, "%s", err.msg);
}

/* A chain of segments of these lengths, each byte its offset in the packet (mod 251). */
static struct rte_mbuf *
chain_of(unsigned int n, const uint16_t *lens)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(harness_pool());
		uint8_t *d;
		cr_assert(m != NULL);
		d = (uint8_t *)rte_pktmbuf_append(m, lens[i]);
		cr_assert(d != NULL);
		for (uint16_t k = 0; k < lens[i]; k++)
			d[k] = (uint8_t)((off + k) % 251);
		off += lens[i];
		if (head == NULL) {
			head = last = m;
			continue;
		}
		last->next = m;
		last = m;
		head->pkt_len += lens[i];
		head->nb_segs++;
	}
	return head;
}

/* A device that cannot send chains (no MULTI_SEGS offload): tx handed them over as they
 * were (a driver's simple path sends the first segment and never frees the rest). Now a
 * chain that fits one segment is copied into it, a longer one is freed and counted. */
Test(ports, tx_to_a_device_without_chains_makes_them_one_segment_or_counts_them)
{
	struct bl_graph_env env;
	struct bl_err err;
	struct rte_mbuf *small = chain_of(3, (const uint16_t[]){ 100, 200, 300 });
	struct rte_mbuf *big = chain_of(2, (const uint16_t[]){ 2048, 2048 });
	struct rte_mbuf *one = chain_of(1, (const uint16_t[]){ 60 });

	harness_env(&env);
	env.ports[0].tx_single_seg = true;
	cr_assert(eq(int, harness_build_env("feed | tx port=null", &env, &h, &err), 0), "%s", err.msg);
	harness_push(h, small);
	harness_push(h, big);
	harness_push(h, one);
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "tx", "linearized"), 1));
	cr_assert(eq(u64, harness_counter(h, "tx", "chain_dropped"), 1));
	cr_assert(eq(u64, harness_counter(h, "tx", "tx"), 2), "the copied chain and the plain one");
}

/* A chain shared by a split (or by a tap, which holds a reference) to such a device: it was
 * freed as chain_dropped even when it fits one segment (only a chain of refcnt 1 was
 * linearized): attaching a tap changed what tx sent. Now copied into one segment. */
Test(ports, tx_to_a_device_without_chains_copies_a_shared_chain)
{
	struct bl_graph_env env;
	struct bl_err err;

	harness_env(&env);
	env.ports[0].tx_single_seg = true;
	cr_assert(eq(int, harness_build_env("feed | (tx port=null + (count | collect))", &env, &h,
					    &err), 0), "%s", err.msg);
	harness_push(h, chain_of(3, (const uint16_t[]){ 100, 200, 300 }));
	harness_push(h, chain_of(2, (const uint16_t[]){ 2048, 2048 }));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "tx", "linearized"), 1));
	cr_assert(eq(u64, harness_counter(h, "tx", "chain_dropped"), 1), "the one too long");
	cr_assert(eq(u64, harness_counter(h, "tx", "tx"), 1));
	cr_assert(eq(u32, harness_n(h, NULL), 2), "the other branch has both, as they were");
	cr_assert(eq(u16, harness_got(h, NULL, 0)->nb_segs, 3));
	cr_assert(eq(u32, harness_got(h, NULL, 0)->pkt_len, 600));
}

/* The same chains to a device that sends chains: untouched, sent. */
Test(ports, tx_to_a_device_with_chains_sends_them_as_they_are)
{
	h = harness_new("feed | tx port=null");
	cr_assert(h != NULL);
	harness_push(h, chain_of(3, (const uint16_t[]){ 100, 200, 300 }));
	harness_push(h, chain_of(2, (const uint16_t[]){ 2048, 2048 }));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "tx", "linearized"), 0));
	cr_assert(eq(u64, harness_counter(h, "tx", "chain_dropped"), 0));
	cr_assert(eq(u64, harness_counter(h, "tx", "tx"), 2));
}
