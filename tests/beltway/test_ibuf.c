/* SPDX-License-Identifier: BSD-3-Clause */
/* IBuf policies with exact counts. No EAL, no huge pages. */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "ibuf_test.h"

TestSuite(ibuf, .timeout = 20);

static struct bl_ibuf_opts
opts(const char *name, uint32_t cap, uint32_t policy, uint32_t readers)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = name, .capacity = cap, .policy = policy,
		.max_readers = readers, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600,
	};
	return o;
}

Test(ibuf, rejects_bad_capacity_and_policy)
{
	struct bl_ibuf_opts o = opts("bad", 12, BL_IBUF_SRP, 1);
	struct bl_ibuf *ib = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, &err), -EINVAL));
	cr_assert(strstr(err.msg, "capacity 12 is not a power of two") != NULL, "%s", err.msg);
	o.capacity = 16;
	o.policy = 9;
	cr_assert(eq(int, bl_ibuf_create(&o, &ib, &err), -EINVAL));
	cr_assert(strstr(err.msg, "policy 9") != NULL, "%s", err.msg);
	o.policy = BL_IBUF_SRP;
	o.max_readers = 65;
	cr_assert(eq(int, bl_ibuf_create(&o, &ib, &err), -EINVAL));
	cr_assert(strstr(err.msg, "max_readers 65") != NULL, "%s", err.msg);
}

Test(ibuf, layout_matches_abi)
{
	struct bl_ibuf_opts o = opts("layout", 1024, BL_IBUF_FRP, 4);
	struct bl_ibuf *ib;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(u64, ib->hdr->magic, BL_IBUF_MAGIC));
	cr_assert(eq(u32, ib->hdr->version, BL_SHM_ABI_VERSION));
	cr_assert(eq(u64, ib->hdr->off_prod, 4096));
	cr_assert(eq(u64, ib->hdr->off_mrp, 8192));
	cr_assert(eq(u64, ib->hdr->off_readers, 12288));
	cr_assert(eq(u64, ib->hdr->off_slots, 12288 + 4 * 4096));
	cr_assert(eq(u64, ib->hdr->region_size, 12288 + 4 * 4096 + 1024 * 16));
	/* every reader page is its own page */
	for (unsigned i = 0; i < 4; i++)
		cr_assert(eq(u64, (uintptr_t)ib->rpage[i] % 4096, 0));
	bl_ibuf_free(ib);
}

Test(ibuf, srp_drops_at_tail_against_slowest_reader)
{
	struct bl_ibuf_opts o = opts("srp", 8, BL_IBUF_SRP, 2);
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 20), 8));          /* 12 dropped at the tail */
	cr_assert(eq(u32, take(r[0], 5, &seq), 5));
	cr_assert(eq(u64, seq, 0));
	cr_assert(eq(u32, put(ib, 8, 10), 0));          /* r[1] still at 0: all 10 dropped */
	cr_assert(eq(u32, take(r[1], 3, &seq), 3));
	cr_assert(eq(u32, put(ib, 8, 10), 3));          /* slowest now at 3 */
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.written, 11));
	cr_assert(eq(u64, st.dropped, 29));
	cr_assert(eq(u64, st.tail, 3));
	cr_assert(eq(u64, st.overwritten, 0));
	/* nothing unread was overwritten: r[1] gets 3..10 in order, no loss */
	cr_assert(eq(u32, take(r[1], 64, &seq), 8));
	cr_assert(eq(u64, seq, 3));
	cr_assert(eq(u32, take(r[0], 64, &seq), 6));
	cr_assert(eq(u64, seq, 5));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.r[0].consumed, 11));
	cr_assert(eq(u64, st.r[1].consumed, 11));
	cr_assert(eq(u64, st.r[0].lost + st.r[1].lost, 0));
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
}

Test(ibuf, srp_detached_reader_no_longer_holds_back)
{
	struct bl_ibuf_opts o = opts("srpdet", 8, BL_IBUF_SRP, 2);
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u32, take(r[0], 8, NULL), 8));
	cr_assert(eq(u32, put(ib, 8, 8), 0));            /* r[1] stuck at 0 */
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, r[1]->idx), 0));
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, r[1]->idx), -ENOENT));
	cr_assert(eq(u32, put(ib, 8, 8), 8));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.dropped, 8));
	cr_assert(eq(u64, st.detached, 1));
	cr_assert(eq(u32, st.n_active, 1));
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
}

Test(ibuf, mrp_shared_pointer_raised_to_previous_position)
{
	struct bl_ibuf_opts o = opts("mrp", 8, BL_IBUF_MRP, 2);
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u32, take(r[0], 4, NULL), 4));      /* R = max(0, prev 0) = 0 */
	cr_assert(eq(u64, ib->mrp->r, 0));
	cr_assert(eq(u32, put(ib, 8, 4), 0));            /* SRP against R = 0 */
	cr_assert(eq(u32, take(r[0], 4, NULL), 4));      /* R = max(0, prev 4) = 4 */
	cr_assert(eq(u64, ib->mrp->r, 4));
	cr_assert(eq(u32, put(ib, 8, 4), 4));            /* r[1] never read: not waited for */
	/* r[1] at 0 was lapped: skips to 12 - 8 = 4, loses 4 */
	cr_assert(eq(u32, take(r[1], 64, &seq), 8));
	cr_assert(eq(u64, seq, 4));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.written, 12));
	cr_assert(eq(u64, st.dropped, 4));
	cr_assert(eq(u64, st.r[1].lost, 4));
	cr_assert(eq(u64, st.r[1].laps, 1));
	cr_assert(eq(u64, st.r[0].lost, 0));
	cr_assert(eq(u64, ib->mrp->r, 4));               /* r[1]'s previous position was 4 */
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
}

Test(ibuf, mrp_garbage_r_is_clamped)
{
	struct bl_ibuf_opts o = opts("mrpclamp", 8, BL_IBUF_MRP, 1);
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	ib->mrp->r = UINT64_MAX;                         /* a reader writes garbage into R */
	cr_assert(eq(u32, put(ib, 8, 12), 8));           /* R clamped to head 8: never more than a ring */
	cr_assert(eq(u32, put(ib, 16, 1), 1));           /* clamped again, to head 16 */
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.clamps, 2));
	cr_assert(eq(u64, st.dropped, 4));
	cr_assert(eq(u64, st.tail, 16));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

/* A reader slower than the producer: after a lap it resumed at the oldest entry, the next
 * one overwritten, so its every read failed check() (beltline cat of a full-rate FRP stream
 * read 52 packets in 10 s). After a failed check, bl_ibuf_resync puts it half a ring behind
 * the producer: the producer can write that much again before the reader's entries go. */
Test(ibuf, frp_slow_reader_resyncs_with_room)
{
	struct bl_ibuf_opts o = opts("frps", 64, BL_IBUF_FRP, 1);
	const struct bl_ibuf_entry *v[64];
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	uint64_t seq, w = 0, lost0;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	for (; w < 3 * 64; w += 8)
		cr_assert(eq(u32, put(ib, (uint32_t)w, 8), 8));
	/* Lapped: resumes at the oldest entry; the producer's next burst takes it. */
	cr_assert(eq(u32, bl_ibuf_peek(r, v, 1, &seq), 1));
	cr_assert(eq(u64, seq, w - 64));
	cr_assert(eq(u32, put(ib, (uint32_t)w, 8), 8));
	w += 8;
	cr_assert(eq(int, bl_ibuf_check(r, seq), 0));
	bl_ibuf_stats(ib, &st);
	lost0 = st.r[0].lost;
	/* Going on from there: the next entry is gone by the next burst, and so on. */
	bl_ibuf_skip(r, 1);
	bl_ibuf_resync(r, seq);
	cr_assert(eq(u32, bl_ibuf_peek(r, v, 1, &seq), 1));
	cr_assert(ge(u64, seq, ib->prod->reserve - 32), "resumed at %llu, reserve %llu",
		  (unsigned long long)seq, (unsigned long long)ib->prod->reserve);
	cr_assert(le(u64, seq, ib->prod->head));
	/* Room: three more bursts (24 entries, under half a ring less the reserve's lead)
	 * and what it read is still valid. */
	for (unsigned i = 0; i < 3; i++, w += 8)
		cr_assert(eq(u32, put(ib, (uint32_t)w, 8), 8));
	cr_assert(eq(int, bl_ibuf_check(r, seq), 1));
	cr_assert(eq(u32, v[0]->object, (uint32_t)seq));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.r[0].lost - lost0, seq - (w - 4 * 8 - 64 + 1)),
		  "what it jumped over is lost");
	cr_assert(eq(u64, st.r[0].laps, 2));
	/* A resync with nothing to gain (at the head already) does nothing. */
	bl_ibuf_skip(r, 64);
	seq = r->pos;
	bl_ibuf_resync(r, seq);
	cr_assert(eq(u64, r->pos, seq));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

Test(ibuf, frp_overwrites_and_lapped_reader_skips)
{
	struct bl_ibuf_opts o = opts("frp", 8, BL_IBUF_FRP, 1);
	const struct bl_ibuf_entry *v[64];
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	for (unsigned i = 0; i < 5; i++)
		cr_assert(eq(u32, put(ib, i * 4, 4), 4));   /* the producer never waits */
	cr_assert(eq(u32, bl_ibuf_peek(r, v, 64, &seq), 8));
	cr_assert(eq(u64, seq, 12));                     /* oldest valid */
	cr_assert(eq(u32, v[0]->object, 12));
	cr_assert(eq(int, bl_ibuf_check(r, 12), 1));
	cr_assert(eq(u32, put(ib, 20, 1), 1));           /* overwrites slot of 12 */
	cr_assert(eq(int, bl_ibuf_check(r, 12), 0));
	cr_assert(eq(int, bl_ibuf_check(r, 13), 1));
	cr_assert(eq(u32, v[0]->object, 20));            /* indeed overwritten */
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.written, 21));
	cr_assert(eq(u64, st.dropped, 0));
	cr_assert(eq(u64, st.overwritten, 13));
	cr_assert(eq(u64, st.r[0].lost, 12));
	cr_assert(eq(u64, st.r[0].laps, 1));
	cr_assert(eq(u64, st.r[0].check_fail, 1));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

Test(ibuf, frp_copying_read_returns_only_valid_entries)
{
	struct bl_ibuf_opts o = opts("frpread", 8, BL_IBUF_FRP, 1);
	struct bl_ibuf_entry out[64];
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	for (unsigned i = 0; i < 5; i++)
		put(ib, i * 4, 4);
	cr_assert(eq(u32, bl_ibuf_read(r, out, 64), 8));
	for (unsigned i = 0; i < 8; i++)
		cr_assert(eq(u32, out[i].object, 12 + i));
	cr_assert(eq(u32, bl_ibuf_read(r, out, 64), 0));
	cr_assert(eq(u64, r->page->lost, 12));
	cr_assert(eq(u64, r->page->consumed, 8));
	cr_assert(eq(u64, r->page->pos, 20));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

Test(ibuf, garbage_reader_position_hurts_only_itself)
{
	struct bl_ibuf_opts o = opts("clamp", 8, BL_IBUF_SRP, 2);
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	r[0]->page->pos = 1000000;                       /* far beyond the head */
	cr_assert(eq(u32, take(r[1], 4, NULL), 4));
	cr_assert(eq(u32, put(ib, 8, 8), 4));            /* r[0] clamped to 8, r[1] at 4 */
	r[0]->page->pos = 0;                             /* now below the tail */
	cr_assert(eq(u32, put(ib, 12, 1), 0));           /* clamped to tail 4: r[1] protected */
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.clamps, 2));
	cr_assert(eq(u64, st.r[0].clamps, 2));
	cr_assert(eq(u64, st.r[1].clamps, 0));
	cr_assert(eq(u64, st.dropped, 5));
	/* the honest reader sees every entry 4..11 intact */
	cr_assert(eq(u32, take(r[1], 64, &seq), 8));
	cr_assert(eq(u64, seq, 4));
	cr_assert(eq(u64, st.r[1].lost, 0));
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
}

Test(ibuf, zero_copy_write_with_acquire_complete)
{
	struct bl_ibuf_opts o = opts("poke", 4, BL_IBUF_SRP, 1);
	struct bl_ibuf_entry *slots[8];
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	cr_assert(eq(u32, bl_ibuf_acquire_slots(ib, slots, 3), 3));
	for (unsigned i = 0; i < 3; i++)
		*slots[i] = ent(i);
	cr_assert(eq(u32, take(r, 8, NULL), 0));         /* not visible before complete */
	bl_ibuf_complete_slots(ib, 3);
	cr_assert(eq(u32, take(r, 8, &seq), 3));
	cr_assert(eq(u32, bl_ibuf_acquire_slots(ib, slots, 8), 4));
	cr_assert(eq(u64, ib->prod->dropped, 4));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

Test(ibuf, mpipe_every_reader_sees_every_entry)
{
	struct bl_ibuf_opts o = opts("mpipe", 64, BL_IBUF_SRP, 8);
	struct bl_ibuf_reader *r[3];
	struct bl_ibuf *ib;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 3, &ib, r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 50), 50));
	for (unsigned i = 0; i < 3; i++) {
		cr_assert(eq(u32, take(r[i], 64, &seq), 50));
		cr_assert(eq(u64, seq, 0));
		bl_ibuf_reader_close(r[i]);
	}
	cr_assert(eq(u32, ib->prod->active, 7));
	bl_ibuf_free(ib);
}

struct refctx { unsigned released; uintptr_t last; };

static void
count_release(void *ctx, void **refs, unsigned n)
{
	struct refctx *c = ctx;

	c->released += n;
	c->last = (uintptr_t)refs[n - 1];
}

Test(ibuf, slot_references_released_when_all_readers_passed)
{
	struct refctx c = { 0, 0 };
	struct bl_ibuf_opts o = opts("refs", 4, BL_IBUF_SRP, 2);
	struct bl_ibuf_entry e[4] = { ent(0), ent(1), ent(2), ent(3) };
	void *refs[4] = { (void *)1, (void *)2, (void *)3, (void *)4 };
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;

	o.release = count_release;
	o.release_ctx = &c;
	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u32, bl_ibuf_write_refs(ib, e, refs, 4), 4));
	cr_assert(eq(u32, take(r[0], 3, NULL), 3));
	bl_ibuf_reclaim(ib);
	cr_assert(eq(u32, c.released, 0));               /* r[1] has passed nothing */
	cr_assert(eq(u32, take(r[1], 2, NULL), 2));
	bl_ibuf_reclaim(ib);
	cr_assert(eq(u32, c.released, 2));               /* both passed 0 and 1 */
	cr_assert(eq(u64, c.last, 2));
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
	cr_assert(eq(u32, c.released, 4));               /* free releases the rest */
}

Test(ibuf, frp_slot_reference_released_on_reuse)
{
	struct refctx c = { 0, 0 };
	struct bl_ibuf_opts o = opts("frprefs", 4, BL_IBUF_FRP, 1);
	struct bl_ibuf *ib;

	o.release = count_release;
	o.release_ctx = &c;
	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	for (uintptr_t i = 1; i <= 6; i++) {
		struct bl_ibuf_entry e = ent(i);
		void *ref = (void *)i;
		cr_assert(eq(u32, bl_ibuf_write_refs(ib, &e, &ref, 1), 1));
	}
	cr_assert(eq(u32, c.released, 2));
	cr_assert(eq(u64, c.last, 2));
	bl_ibuf_free(ib);
	cr_assert(eq(u32, c.released, 6));
}

struct slow { struct bl_ibuf_reader *r; unsigned n; unsigned ok; };

static void *
slow_reader(void *arg)
{
	struct slow *s = arg;
	struct bl_ibuf_entry out[3];
	uint64_t want = 0;

	while (want < s->n) {
		unsigned k = bl_ibuf_read(s->r, out, 3);
		for (unsigned i = 0; i < k; i++)
			s->ok += out[i].object == want++;
		usleep(100);
	}
	return NULL;
}

Test(ibuf, block_writer_waits_instead_of_dropping)
{
	struct bl_ibuf_opts o = opts("block", 4, BL_IBUF_BLOCK, 1);
	struct slow s = { .n = 200 };
	struct bl_ibuf *ib;
	struct bl_ibuf_stats st;
	pthread_t t;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &s.r, NULL), 0));
	cr_assert(eq(int, pthread_create(&t, NULL, slow_reader, &s), 0));
	for (unsigned i = 0; i < 200; i += 10)
		cr_assert(eq(u32, put(ib, i, 10), 10));
	pthread_join(t, NULL);
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u32, s.ok, 200));
	cr_assert(eq(u64, st.written, 200));
	cr_assert(eq(u64, st.dropped, 0));
	cr_assert(st.waits >= 1);
	bl_ibuf_reader_close(s.r);
	bl_ibuf_free(ib);
}

Test(ibuf, bursts_that_wrap_the_ring_end_copy_in_two_runs)
{
	struct bl_ibuf_opts o = opts("wrap", 8, BL_IBUF_SRP, 1);
	struct bl_ibuf_entry out[8];
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	uint64_t seq = 0;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	for (unsigned round = 0; round < 20; round++) {
		unsigned n = 3 + round % 6;                  /* 3..8: every split point */
		cr_assert(eq(u32, put(ib, seq, n), n));
		cr_assert(eq(u32, bl_ibuf_read(r, out, 8), n));
		for (unsigned i = 0; i < n; i++) {
			cr_assert(eq(u32, out[i].object, (uint32_t)(seq + i)));
			cr_assert(eq(u32, out[i].length, (uint32_t)((seq + i) * 7 + 1)));
		}
		seq += n;
	}
	cr_assert(eq(u64, ib->prod->written, seq));
	cr_assert(eq(u64, ib->prod->dropped, 0));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

/* A detached SRP reader is no longer protected: check() and lap skips use the
 * bound the producer published at its last refresh (tail + capacity). */
Test(ibuf, srp_detached_reader_checks_against_published_bound)
{
	struct bl_ibuf_opts o = opts("srpbound", 8, BL_IBUF_SRP, 2);
	const struct bl_ibuf_entry *v[8];
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf *ib;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 2, &ib, r, NULL), 0));
	cr_assert(eq(u64, ib->prod->reserve, 8));        /* the first lap overwrites nothing */
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, r[1]->idx), 0));
	cr_assert(eq(u32, take(r[0], 8, NULL), 8));
	cr_assert(eq(u32, put(ib, 8, 4), 4));            /* refresh: tail 8, reserve 16 */
	cr_assert(eq(u64, ib->prod->reserve, 16));
	cr_assert(eq(u32, bl_ibuf_peek(r[1], v, 8, &seq), 4));
	cr_assert(eq(u64, seq, 8));                      /* skipped 0..7 */
	cr_assert(eq(u64, r[1]->page->lost, 8));
	cr_assert(eq(int, bl_ibuf_check(r[1], 8), 1));
	cr_assert(eq(u32, take(r[0], 8, NULL), 4));
	cr_assert(eq(u32, put(ib, 12, 4), 4));           /* within the bound: no refresh */
	cr_assert(eq(int, bl_ibuf_check(r[1], 8), 1));
	cr_assert(eq(u32, put(ib, 16, 1), 1));           /* refresh: tail 12, seq 16 reuses slot 8 */
	cr_assert(eq(u64, ib->prod->reserve, 20));
	cr_assert(eq(int, bl_ibuf_check(r[1], 8), 0));
	cr_assert(eq(int, bl_ibuf_check(r[1], 12), 1));
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_ibuf_free(ib);
}

/* Write n entries in bursts of at most 64 (put's limit); returns how many were stored. */
static unsigned
put_many(struct bl_ibuf *ib, uint64_t from, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		unsigned c = n - done < 64 ? n - done : 64, k = put(ib, from + done, c);
		done += k;
		if (k < c)
			break;
	}
	return done;
}

/* Issue 10 (first-reader cost), rule R3: a reader of a large ring publishes its
 * position once it moved a step (capacity/16) or caught up with the head it saw,
 * not on every complete; the producer still never overwrites what it has not read. */
Test(ibuf, reader_publishes_its_position_per_step_or_when_caught_up)
{
	struct bl_ibuf_opts o = opts("pubstep", 1024, BL_IBUF_SRP, 1);
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	cr_assert(eq(u32, r->step, 64));
	cr_assert(eq(u32, put_many(ib, 0, 200), 200));
	cr_assert(eq(u32, take(r, 10, &seq), 10));
	cr_assert(eq(u64, r->page->pos, 0));             /* 10 < a step, 190 more known */
	cr_assert(eq(u64, r->page->consumed, 0));
	cr_assert(eq(u32, take(r, 60, NULL), 60));       /* 70: a step */
	cr_assert(eq(u64, r->page->pos, 70));
	cr_assert(eq(u64, r->page->consumed, 70));
	cr_assert(eq(u32, take(r, 64, NULL), 64));       /* 134: 64 since 70 */
	cr_assert(eq(u64, r->page->pos, 134));
	cr_assert(eq(u32, take(r, 64, NULL), 64));       /* 198: 2 short of the head */
	cr_assert(eq(u32, take(r, 64, NULL), 2));        /* caught up: published at once */
	cr_assert(eq(u64, r->page->pos, 200));
	cr_assert(eq(u64, r->page->consumed, 200));
	/* The ring fills against the published position only: 200 + 1024 in all. */
	cr_assert(eq(u32, put_many(ib, 200, 2000), 1024));
	cr_assert(eq(u32, take(r, 10, NULL), 10));       /* not published: still full */
	cr_assert(eq(u32, put(ib, 1224, 1), 0));
	bl_ibuf_flush(r);                                /* a sleeper or a closing reader */
	cr_assert(eq(u64, r->page->pos, 210));
	cr_assert(eq(u32, put_many(ib, 1224, 64), 10));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}

/* Rule P2: an FRP ring stores its reserve a step ahead of the batch it writes, so
 * one store covers many bursts; check() errs only on the safe side (early). */
Test(ibuf, frp_reserve_is_stored_a_step_ahead)
{
	struct bl_ibuf_opts o = opts("frpstep", 256, BL_IBUF_FRP, 1);
	struct bl_ibuf_reader *r;
	struct bl_ibuf *ib;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u64, ib->prod->reserve, 8 + 16));   /* step = 256/16 */
	cr_assert(eq(u32, put(ib, 8, 16), 16));          /* 24: still under it, no store */
	cr_assert(eq(u64, ib->prod->reserve, 24));
	cr_assert(eq(u32, put(ib, 24, 1), 1));
	cr_assert(eq(u64, ib->prod->reserve, 25 + 16));
	cr_assert(eq(int, bl_ibuf_check(r, 0), 1));
	cr_assert(eq(u32, put_many(ib, 25, 256 - 25 - 16), 256 - 25 - 16));
	cr_assert(eq(u64, ib->prod->reserve, 256));      /* head 240 */
	cr_assert(eq(int, bl_ibuf_check(r, 0), 1));      /* its slot is next: not yet */
	cr_assert(eq(u32, put(ib, 240, 20), 20));        /* 256..259 reuse 0..3's slots */
	cr_assert(eq(u64, ib->prod->overwritten, 4));
	cr_assert(eq(u64, ib->prod->reserve, 260 + 16));
	cr_assert(eq(int, bl_ibuf_check(r, 3), 0));
	cr_assert(eq(int, bl_ibuf_check(r, 10), 0));     /* a step early: the safe side */
	cr_assert(eq(int, bl_ibuf_check(r, 20), 1));
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
}
