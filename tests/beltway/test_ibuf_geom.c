/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A reader that misses a growth (P4). The ring grows at G1 and again at G2; the reader's
 * last head was below G1. Its next load of head returns H in [G1, G2), and before it loads
 * geom the producer passes G2: the geom it loads is G2's, whose point is past H. It
 * ignored that change and so never learned of G1's, and read [G1, H) with the mask from
 * before G1: entries from the wrong slots, which check() vouched for. Deterministic: the
 * producer runs between the reader's two loads (BL_IBUF_TEST_AFTER_HEAD_LOAD), as a
 * preemption there lets it.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <stdint.h>

static void between_loads(void);
#define BL_IBUF_TEST_AFTER_HEAD_LOAD() between_loads()
#include "bl_ibuf_worker.h"

TestSuite(ibuf_geom, .timeout = 60);

static struct bl_ibuf *ib;
static uint64_t wseq;
static int armed;

/* Entries whose object is their own sequence number. */
static void
put_to(uint64_t h)
{
	struct bl_ibuf_entry e[32];

	while (wseq < h) {
		unsigned int n = h - wseq < 32 ? (unsigned int)(h - wseq) : 32;
		for (unsigned int i = 0; i < n; i++)
			e[i] = (struct bl_ibuf_entry){ .dbuf_id = 1, .cls = 1, .object = (uint32_t)(wseq + i) };
		wseq += bl_ibuf_write(ib, e, n);
	}
}

static void
between_loads(void)
{
	if (!armed)
		return;
	armed = 0;
	put_to(520);   /* the reader loaded head 500: now the producer passes G2 = 512 */
}

Test(ibuf_geom, a_reader_that_loads_a_head_between_two_growths_reads_the_right_slots)
{
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "t_geom", .capacity = 256,
		.max_capacity = 1024, .policy = BL_IBUF_FRP, .max_readers = 2, .uid = (uid_t)-1,
		.gid = (gid_t)-1, .mode = 0600 };
	struct bl_ibuf_reader *r;
	const struct bl_ibuf_entry *v[32];
	uint64_t seq, wrong = 0, vouched = 0;
	unsigned int k;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &r), 0));
	bl_ibuf_resize(ib, 512);          /* planned at the refresh at 128: G1 = 256 */
	while (wseq < 250) {              /* the reader keeps up to 250 < G1 */
		put_to(wseq + 25 > 250 ? 250 : wseq + 25);
		while ((k = bl_ibuf_peek(r, v, 32, &seq)) > 0) {
			bl_ibuf_skip(r, k);
			bl_ibuf_complete(r);
		}
	}
	put_to(300);                      /* past G1: capacity 512 */
	bl_ibuf_resize(ib, 1024);         /* planned at the next refresh: G2 = 512 */
	put_to(500);
	cr_assert(eq(u32, r->cap, 256), "the reader has not looked since G1");
	armed = 1;
	while ((k = bl_ibuf_peek(r, v, 32, &seq)) > 0) {
		uint32_t obj[32];

		for (unsigned int i = 0; i < k; i++)
			obj[i] = v[i]->object;
		if (bl_ibuf_check(r, seq) == 1) {
			vouched += k;
			for (unsigned int i = 0; i < k; i++)
				wrong += obj[i] != (uint32_t)(seq + i);
		}
		bl_ibuf_skip(r, k);
		bl_ibuf_complete(r);
		if (r->head_cache >= 520 && seq + k >= r->head_cache)
			break;
	}
	cr_assert(armed == 0, "the producer ran between the loads");
	cr_assert(vouched > 0, "entries were read");
	cr_assert(eq(u64, wrong, 0), "entries vouched for that are not the ones at their seq "
		  "(of %lu vouched)", (unsigned long)vouched);
	bl_ibuf_reader_detach(ib, r->idx);
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}
