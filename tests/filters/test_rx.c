/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Nothing a driver hands over is trusted: bl_mbuf_check on chains built by
 * hand (every way a chain can be unsound), bl_mbuf_free_bad on chains that
 * loop, and rx on a net_null port whose driver is made to hand over unsound
 * mbufs (an rx callback spoils them): rx drops and counts them, passes the
 * rest, and no mbuf is leaked or freed twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <rte_ethdev.h>

#include "bl_mbuf_check.h"
#include "harness.h"

static struct harness *h;

static void
setup(void)
{
	harness_eal();
}

static void
teardown(void)
{
	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE),
		  "every segment back in the pool, none twice");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(mbuf_check, .init = setup, .fini = teardown, .timeout = 30);

static struct rte_mbuf *
seg(uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(harness_pool());

	cr_assert(m != NULL, "the test pool ran dry");
	cr_assert(rte_pktmbuf_append(m, len) != NULL || len == 0);
	return m;
}

/* A sound chain of n segments with the given lengths. */
static struct rte_mbuf *
chain(unsigned int n, const uint16_t *lens)
{
	struct rte_mbuf *head = seg(lens[0]), *last = head;

	for (unsigned int i = 1; i < n; i++) {
		last->next = seg(lens[i]);
		last = last->next;
		head->pkt_len += lens[i];
		head->nb_segs++;
	}
	return head;
}

static int
by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

/*
 * Was any mbuf freed twice? The pool's count cannot say (it is clamped to
 * the pool's size), so take every mbuf out and look for one handed out twice.
 */
static void
assert_no_double_free(void)
{
	static struct rte_mbuf *all[HARNESS_POOL_SIZE + 64];
	unsigned int n = 0;

	while (n < RTE_DIM(all) && (all[n] = rte_pktmbuf_alloc(harness_pool())) != NULL)
		n++;
	qsort(all, n, sizeof(all[0]), by_address);
	for (unsigned int i = 1; i < n; i++)
		cr_assert(all[i] != all[i - 1], "an mbuf was freed twice");
	cr_assert(eq(uint, n, HARNESS_POOL_SIZE));
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(all[i]);
}

static struct rte_mbuf *
nth(struct rte_mbuf *m, unsigned int i)
{
	while (i-- > 0)
		m = m->next;
	return m;
}

Test(mbuf_check, sound_mbufs_pass)
{
	struct rte_mbuf *one = seg(60), *three = chain(3, (const uint16_t[]){ 2048, 2048, 100 });
	struct rte_mbuf *hole = chain(3, (const uint16_t[]){ 60, 0, 40 });

	cr_assert(eq(int, bl_mbuf_check(one), BL_MBUF_OK));
	cr_assert(eq(int, bl_mbuf_check(three), BL_MBUF_OK));
	cr_assert(eq(int, bl_mbuf_check(hole), BL_MBUF_OK), "an empty segment inside is sound");
	rte_pktmbuf_free(one);
	rte_pktmbuf_free(three);
	rte_pktmbuf_free(hole);
}

Test(mbuf_check, pkt_len_beyond_the_segments)
{
	/* What net_pcap builds from a 70000-byte frame: 70000 said, 4464 held. */
	struct rte_mbuf *m = chain(3, (const uint16_t[]){ 2048, 2048, 368 });

	m->pkt_len = 70000;
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_LEN));
	m->pkt_len = 4463;
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_LEN), "short of the segments is unsound too");
	bl_mbuf_free_bad(m);

	struct rte_mbuf *one = seg(60);
	one->pkt_len = 61;
	cr_assert(eq(int, bl_mbuf_check(one), BL_MBUF_BAD_LEN));
	bl_mbuf_free_bad(one);
}

Test(mbuf_check, nb_segs_not_the_chain)
{
	struct rte_mbuf *m = chain(3, (const uint16_t[]){ 100, 100, 100 });

	m->nb_segs = 4;         /* next is NULL early */
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_SEGS));
	m->nb_segs = 2;         /* the chain runs on */
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_SEGS));
	m->nb_segs = 0;
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_SEGS));
	m->nb_segs = 3;
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_OK));
	bl_mbuf_free_bad(m);

	struct rte_mbuf *one = seg(60);
	one->nb_segs = 0;
	cr_assert(eq(int, bl_mbuf_check(one), BL_MBUF_BAD_SEGS));
	one->nb_segs = 2;
	cr_assert(eq(int, bl_mbuf_check(one), BL_MBUF_BAD_SEGS));
	bl_mbuf_free_bad(one);
}

Test(mbuf_check, data_past_the_buffer)
{
	struct rte_mbuf *one = seg(60), *m = chain(2, (const uint16_t[]){ 100, 100 });

	one->data_len = (uint16_t)(one->buf_len - one->data_off + 1);
	one->pkt_len = one->data_len;
	cr_assert(eq(int, bl_mbuf_check(one), BL_MBUF_BAD_BOUNDS));
	m->next->data_off = m->next->buf_len;     /* the second segment's data starts at its end */
	cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_BAD_BOUNDS));
	bl_mbuf_free_bad(one);
	bl_mbuf_free_bad(m);
}

Test(mbuf_check, loops_end_the_walk_and_are_freed_once)
{
	/*
	 * A segment that points at itself, a loop back to the head, one back to
	 * the middle. (One segment with nb_segs 1 and data_len == pkt_len is the
	 * fast case: its next, on the second cache line, is not read.)
	 */
	struct rte_mbuf *self = seg(60);
	struct rte_mbuf *head = chain(3, (const uint16_t[]){ 100, 100, 100 });
	struct rte_mbuf *mid = chain(4, (const uint16_t[]){ 100, 100, 100, 100 });

	self->next = self;
	self->nb_segs = 2;
	self->pkt_len = 120;
	cr_assert(eq(int, bl_mbuf_check(self), BL_MBUF_BAD_SEGS));
	nth(head, 2)->next = head;
	cr_assert(eq(int, bl_mbuf_check(head), BL_MBUF_BAD_SEGS));
	head->nb_segs = UINT16_MAX;   /* the walk is bounded by nb_segs, whatever it says */
	cr_assert(eq(int, bl_mbuf_check(head), BL_MBUF_BAD_SEGS));
	nth(mid, 3)->next = nth(mid, 1);
	cr_assert(eq(int, bl_mbuf_check(mid), BL_MBUF_BAD_SEGS));
	bl_mbuf_free_bad(self);
	bl_mbuf_free_bad(head);
	bl_mbuf_free_bad(mid);
	assert_no_double_free();
}

/* ---- rx on a driver that hands over unsound mbufs ---------------------- */

static unsigned int seq;

/*
 * Spoil net_null's 64-byte packets by their place in the stream, 8 a cycle:
 * 0 pkt_len too long, 3 nb_segs 2 with one segment, 7 a two-segment loop
 * (0 and 7: the first and last of each 32-packet burst), 5 a sound
 * two-segment chain of 64 + 36 bytes. The rest pass as they are.
 */
static uint16_t
spoil(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, uint16_t max, void *arg)
{
	(void)port; (void)queue; (void)max; (void)arg;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *s;
		unsigned int k = seq++ % 8;

		switch (k) {
		case 0:
			m->pkt_len += 1000;
			break;
		case 3:
			m->nb_segs = 2;
			break;
		case 5:
		case 7:
			s = seg(36);
			m->next = s;
			m->nb_segs = 2;
			m->pkt_len += 36;
			if (k == 7)
				s->next = m;
			break;
		default:
			break;
		}
	}
	return n;
}

Test(mbuf_check, rx_drops_and_counts_what_the_driver_spoiled)
{
	uint16_t port = (uint16_t)harness_null_port();

	for (uint16_t q = 0; q < 2; q++)
		cr_assert(rte_eth_add_rx_callback(port, q, spoil, NULL) != NULL);
	h = harness_new("rx port=null | collect");
	cr_assert(h != NULL);
	harness_passes(h, 10);
	cr_assert(eq(u32, seq, 320), "net_null fills every burst of 32");
	cr_assert(eq(u64, harness_counter(h, "rx", "malformed"), 120), "3 in every 8");
	cr_assert(eq(u64, harness_stats(h, "rx")->out, 200));
	cr_assert(eq(uint, harness_n(h, NULL), 200));
	unsigned int chains = 0;
	for (unsigned int i = 0; i < 200; i++) {
		struct rte_mbuf *m = harness_got(h, NULL, i);
		cr_assert(eq(int, bl_mbuf_check(m), BL_MBUF_OK), "packet %u passed unsound", i);
		chains += m->nb_segs == 2 && m->pkt_len == 100;
	}
	cr_assert(eq(uint, chains, 40), "the sound chains pass whole");
	harness_free(h);
	h = NULL;
	assert_no_double_free();
}
