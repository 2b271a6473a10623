/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Readers of one ring with different policies (bl_ibuf_reader_alloc_as): SRP
 * readers hold the producer back by their own positions, MRP readers by the R
 * they share, FRP readers not at all. Exact counts; no EAL, no huge pages.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "ibuf_test.h"

TestSuite(ibuf_readers, .timeout = 60);

static struct bl_ibuf *
ring(const char *name, uint32_t cap, uint32_t policy, bl_ibuf_release_fn rel, void *ctx)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = name, .capacity = cap, .policy = policy, .max_readers = 8,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600, .release = rel, .release_ctx = ctx,
	};
	struct bl_ibuf *ib = NULL;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	return ib;
}

Test(ibuf_readers, a_reader_may_be_looser_than_its_ring_never_stricter)
{
	static const struct { uint32_t ring, reader; int ok; } cases[] = {
		{ BL_IBUF_SRP, BL_IBUF_SRP, 1 }, { BL_IBUF_SRP, BL_IBUF_MRP, 1 },
		{ BL_IBUF_SRP, BL_IBUF_FRP, 1 }, { BL_IBUF_SRP, BL_IBUF_BLOCK, 0 },
		{ BL_IBUF_MRP, BL_IBUF_SRP, 0 }, { BL_IBUF_MRP, BL_IBUF_MRP, 1 },
		{ BL_IBUF_MRP, BL_IBUF_FRP, 1 }, { BL_IBUF_FRP, BL_IBUF_SRP, 0 },
		{ BL_IBUF_FRP, BL_IBUF_MRP, 0 }, { BL_IBUF_FRP, BL_IBUF_FRP, 1 },
		{ BL_IBUF_BLOCK, BL_IBUF_FRP, 0 }, { BL_IBUF_BLOCK, BL_IBUF_BLOCK, 1 },
		{ BL_IBUF_SRP, 9, 0 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bl_ibuf *ib = ring("allow", 8, cases[i].ring, NULL, NULL);
		int idx = bl_ibuf_reader_alloc_as(ib, 0, cases[i].reader);

		cr_assert(eq(int, idx, cases[i].ok ? 0 : -EINVAL), "ring %u reader %u",
			  cases[i].ring, cases[i].reader);
		if (cases[i].ok)
			cr_assert(eq(u32, ib->prod->reader_policy[0], cases[i].reader));
		else
			cr_assert(eq(u64, ib->prod->active, 0));
		bl_ibuf_free(ib);
	}
}

/* An SRP ring: an FRP reader that stalls is lapped and loses, the SRP reader holds the tail. */
Test(ibuf_readers, frp_reader_on_srp_ring_holds_nothing_back)
{
	struct bl_ibuf *ib = ring("srpfrp", 8, BL_IBUF_SRP, NULL, NULL);
	struct bl_ibuf_reader *s, *f;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &s), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &f), 0));
	cr_assert(eq(u32, f->policy, BL_IBUF_FRP));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u32, take(s, 8, NULL), 8));
	cr_assert(eq(u32, put(ib, 8, 8), 8));            /* f at 0 is not waited for */
	cr_assert(eq(u32, put(ib, 16, 8), 0));           /* s at 8: the ring is full for it */
	cr_assert(eq(u32, take(f, 64, &seq), 8));        /* f was lapped: 8..15, lost 0..7 */
	cr_assert(eq(u64, seq, 8));
	cr_assert(eq(u32, take(s, 64, &seq), 8));
	cr_assert(eq(u64, seq, 8));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.written, 16));
	cr_assert(eq(u64, st.dropped, 8));
	cr_assert(eq(u64, st.r[0].consumed, 16));
	cr_assert(eq(u64, st.r[0].lost, 0));
	cr_assert(eq(u64, st.r[1].consumed, 8));
	cr_assert(eq(u64, st.r[1].lost, 8));
	cr_assert(eq(u64, st.r[1].laps, 1));
	cr_assert(eq(u32, st.r[1].policy, BL_IBUF_FRP));
	bl_ibuf_reader_close(s);
	bl_ibuf_reader_close(f);
	bl_ibuf_free(ib);
}

/* An SRP ring with MRP readers: R (their shared pointer) holds the producer as one
 * more SRP position; the MRP reader that stalls is lapped, the SRP one never. */
Test(ibuf_readers, mrp_readers_on_srp_ring_share_r)
{
	struct bl_ibuf *ib = ring("srpmrp", 8, BL_IBUF_SRP, NULL, NULL);
	struct bl_ibuf_reader *s, *m1, *m2;
	struct bl_ibuf_stats st;
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &s), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_MRP, &m1), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_MRP, &m2), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u32, take(s, 8, NULL), 8));
	cr_assert(eq(u32, put(ib, 8, 4), 0));            /* R = 0: the MRP pair holds it */
	cr_assert(eq(u32, take(m1, 4, NULL), 4));        /* R = max(0, prev 0) */
	cr_assert(eq(u32, take(m1, 4, NULL), 4));        /* R = max(0, prev 4) = 4 */
	cr_assert(eq(u64, ib->mrp->r, 4));
	cr_assert(eq(u32, put(ib, 8, 8), 4));            /* up to R + 8 = 12 */
	cr_assert(eq(u32, take(s, 64, &seq), 4));
	cr_assert(eq(u32, take(m2, 64, &seq), 8));       /* m2 at 0 lapped: 4..11 */
	cr_assert(eq(u64, seq, 4));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.written, 12));
	cr_assert(eq(u64, st.dropped, 8));
	cr_assert(eq(u64, st.r[0].lost, 0));
	cr_assert(eq(u64, st.r[1].lost, 0));
	cr_assert(eq(u64, st.r[2].lost, 4));
	cr_assert(eq(u64, st.r[2].consumed, 8));
	bl_ibuf_reader_close(s);
	bl_ibuf_reader_close(m1);
	bl_ibuf_reader_close(m2);
	bl_ibuf_free(ib);
}

/* One MRP reader is waited for (R is its previous position): it loses nothing, whatever
 * the ring's fill, on an SRP and on an MRP ring. The reserve the producer publishes ran a
 * step (capacity/16) ahead of what it wrote; with the ring full to R + capacity, entries a
 * step past R looked overwritten to check() and the reader skipped half a ring of intact
 * entries, counted as lost (beltline cat -p mrp lost 500 to 2000 of 200000). */
static void
one_mrp_reader_loses_nothing(uint32_t policy)
{
	struct bl_ibuf *ib = ring(policy == BL_IBUF_SRP ? "mrp1s" : "mrp1m", 1024, policy,
				  NULL, NULL);
	struct bl_ibuf_reader *m;
	struct bl_ibuf_stats st;
	uint64_t next_w = 0, next_r = 0, seq;
	unsigned int seed = 7, k;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_MRP, &m), 0));
	for (int round = 0; round < 200; round++) {
		while ((k = put(ib, next_w, 32)) != 0)   /* fill to what R allows */
			next_w += k;
		for (int t = 1 + (int)(rand_r(&seed) % 40); t > 0; t--) {
			k = take(m, 1 + rand_r(&seed) % 64, &seq);   /* check() must vouch */
			if (k == 0)
				break;
			cr_assert(eq(u64, seq, next_r), "round %d: read from %llu, expected %llu",
				  round, (unsigned long long)seq, (unsigned long long)next_r);
			next_r += k;
		}
	}
	while ((k = take(m, 64, &seq)) != 0) {
		cr_assert(eq(u64, seq, next_r));
		next_r += k;
	}
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.r[0].lost, 0));
	cr_assert(eq(u64, st.r[0].laps, 0));
	cr_assert(eq(u64, next_r, next_w));          /* every entry stored was read */
	cr_assert(eq(u64, st.written, next_w));
	cr_assert(gt(u64, st.dropped, 0));           /* the ring was full: the producer dropped */
	bl_ibuf_reader_close(m);
	bl_ibuf_free(ib);
}

Test(ibuf_readers, one_mrp_reader_on_an_srp_ring_loses_nothing)
{
	one_mrp_reader_loses_nothing(BL_IBUF_SRP);
}

Test(ibuf_readers, one_mrp_reader_on_an_mrp_ring_loses_nothing)
{
	one_mrp_reader_loses_nothing(BL_IBUF_MRP);
}

/* Once the loose readers are gone, the ring is plain SRP again: held back by its reader. */
/* A reader detached by the appliance that reads on (its reply was not taken, it has not
 * noticed) must not vouch by the bit of the next reader given its page index: its entries
 * are overwritten once it no longer holds the ring, and check() vouched for them. */
Test(ibuf_readers, a_detached_reader_does_not_vouch_by_its_successors_bit)
{
	struct bl_ibuf *ib = ring("stalebit", 8, BL_IBUF_SRP, NULL, NULL);
	struct bl_ibuf_reader *old, *next;
	const struct bl_ibuf_entry *v[8];
	uint64_t seq;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &old), 0));
	cr_assert(eq(u32, put(ib, 0, 4), 4));
	cr_assert(eq(u32, bl_ibuf_peek(old, v, 8, &seq), 4));    /* it holds 0..3 */
	cr_assert(eq(int, bl_ibuf_check(old, seq), 1));
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, old->idx), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &next), 0));
	cr_assert(eq(u32, next->idx, old->idx), "the same page index, its bit set again");
	cr_assert(eq(u32, put(ib, 4, 8), 8));                    /* 0..3 overwritten */
	cr_assert(eq(int, bl_ibuf_check(old, seq), 0), "the old reader's entries are gone");
	cr_assert(eq(u32, take(next, 8, NULL), 8));
	cr_assert(eq(int, bl_ibuf_check(next, 4), 1), "the new one vouches by its bit");
	bl_ibuf_reader_close(old);
	bl_ibuf_reader_close(next);
	bl_ibuf_free(ib);
}

Test(ibuf_readers, detaching_the_loose_reader_restores_srp)
{
	struct bl_ibuf *ib = ring("srpback", 8, BL_IBUF_SRP, NULL, NULL);
	struct bl_ibuf_reader *s, *f;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &s), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &f), 0));
	cr_assert(eq(u32, put(ib, 0, 8), 8));
	cr_assert(eq(u32, put(ib, 8, 8), 0));
	cr_assert(eq(int, ib->exact, 1));
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, f->idx), 0));
	cr_assert(eq(u64, ib->prod->srp_readers, 1));
	cr_assert(eq(u64, ib->prod->mrp_readers, 0));
	cr_assert(eq(u32, take(s, 4, NULL), 4));
	cr_assert(eq(u32, put(ib, 8, 8), 4));
	cr_assert(eq(int, ib->exact, 0));
	cr_assert(eq(u64, ib->prod->reserve, 12));       /* the limit, published at refresh */
	bl_ibuf_reader_close(s);
	bl_ibuf_reader_close(f);
	bl_ibuf_free(ib);
}

struct refctx { unsigned released; };

static void
count_release(void *ctx, void **refs, unsigned n)
{
	(void)refs;
	((struct refctx *)ctx)->released += n;
}

/* With an FRP reader on an SRP ring a slot's reference lives until the slot is reused:
 * the SRP reader having passed is not enough, the FRP reader may still be reading. */
Test(ibuf_readers, frp_reader_keeps_references_alive_until_reuse)
{
	struct refctx c = { 0 };
	struct bl_ibuf *ib = ring("srprefs", 4, BL_IBUF_SRP, count_release, &c);
	struct bl_ibuf_reader *s, *f;
	void *refs[4] = { (void *)1, (void *)2, (void *)3, (void *)4 };
	struct bl_ibuf_entry e[4] = { ent(0), ent(1), ent(2), ent(3) };

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &s), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &f), 0));
	cr_assert(eq(u32, bl_ibuf_write_refs(ib, e, refs, 4), 4));
	cr_assert(eq(u32, take(s, 4, NULL), 4));
	bl_ibuf_reclaim(ib);
	cr_assert(eq(u32, c.released, 0));               /* f has read nothing yet */
	for (unsigned i = 0; i < 4; i++)
		e[i] = ent(4 + i);
	cr_assert(eq(u32, bl_ibuf_write_refs(ib, e, refs, 2), 2));
	cr_assert(eq(u32, c.released, 2));               /* the two reused slots */
	bl_ibuf_reader_close(s);
	bl_ibuf_reader_close(f);
	bl_ibuf_free(ib);
	cr_assert(eq(u32, c.released, 6));
}

/* Exact mode (an FRP ring, or an SRP ring with an FRP reader): a reader that keeps up
 * lets the producer release the packets it passed at the next refresh, not a ring later
 * (P5): what the producer holds stays a few refreshes' worth, whatever the capacity.
 * Before P5 it held a full ring (the fan-out benchmark's FRP cost). */
static void
keeps_up(uint32_t ring_policy)
{
	struct refctx c = { 0 };
	struct bl_ibuf *ib = ring("keepup", 4096, ring_policy, count_release, &c);
	struct bl_ibuf_reader *f, *s = NULL;
	struct bl_ibuf_entry e[32];
	void *refs[32];
	uint64_t seq = 0, most = 0;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &f), 0));
	if (ring_policy == BL_IBUF_SRP)
		cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_SRP, &s), 0));
	while (seq < 5 * 4096) {
		for (unsigned i = 0; i < 32; i++) {
			e[i] = ent(seq + i);
			refs[i] = (void *)(uintptr_t)(seq + i + 1);
		}
		cr_assert(eq(u32, bl_ibuf_write_refs(ib, e, refs, 32), 32));
		seq += 32;
		cr_assert(eq(u32, take(f, 32, NULL), 32));
		if (s != NULL)
			cr_assert(eq(u32, take(s, 32, NULL), 32));
		if (seq - c.released > most)
			most = seq - c.released;
	}
	cr_assert(le(u64, most, 2 * BL_IBUF_REFRESH_EVERY + 32),
		  "the producer held %llu packets for readers that kept up (capacity 4096)",
		  (unsigned long long)most);
	if (s != NULL)
		bl_ibuf_reader_close(s);
	bl_ibuf_reader_close(f);
	bl_ibuf_free(ib);
	cr_assert(eq(u32, c.released, 5 * 4096));
}

Test(ibuf_readers, an_frp_ring_frees_what_its_readers_passed_without_waiting_for_reuse)
{
	keeps_up(BL_IBUF_FRP);
}

Test(ibuf_readers, an_srp_ring_with_an_frp_reader_frees_what_both_passed)
{
	keeps_up(BL_IBUF_SRP);
}

/*
 * A reader that stays behind the head (it never catches up with the head it saw last)
 * publishes its position every BL_IBUF_PUB_EVERY entries, so the producer holds what the
 * reader is behind by plus a refresh or two, not a step more (2048 at this capacity).
 * Publishing per step made the number of packets out of the pool swing by a step, past
 * its per-lcore cache: a reader 256 entries behind took the fan-out benchmark's producer
 * from 64 to 28 Mpps. Before BL_IBUF_PUB_EVERY this held 1024 + 1024 + 256 more.
 */
Test(ibuf_readers, a_reader_that_stays_behind_publishes_often_enough_for_the_pool)
{
	const unsigned behind = 1024, cap = 32768;
	struct refctx c = { 0 };
	struct bl_ibuf *ib = ring("behind", cap, BL_IBUF_FRP, count_release, &c);
	struct bl_ibuf_reader *f;
	struct bl_ibuf_entry e[32];
	void *refs[32];
	uint64_t seq = 0, most = 0;

	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &f), 0));
	while (seq < 4ull * cap) {
		for (unsigned i = 0; i < 32; i++) {
			e[i] = ent(seq + i);
			refs[i] = (void *)(uintptr_t)(seq + i + 1);
		}
		cr_assert(eq(u32, bl_ibuf_write_refs(ib, e, refs, 32), 32));
		seq += 32;
		if (seq > behind)   /* the reader takes a burst a burst, `behind` back */
			cr_assert(eq(u32, take(f, 32, NULL), 32));
		if (seq - c.released > most)
			most = seq - c.released;
	}
	cr_assert(le(u64, most, behind + BL_IBUF_PUB_EVERY + 2 * BL_IBUF_REFRESH_EVERY + 32),
		  "the producer held %llu packets for a reader %u behind", (unsigned long long)most,
		  behind);
	bl_ibuf_reader_close(f);
	bl_ibuf_free(ib);
}

/* freed[seq] = 1 once the reference of seq went back. */
static void
mark_release(void *ctx, void **refs, unsigned n)
{
	uint8_t *freed = ctx;

	for (unsigned i = 0; i < n; i++)
		freed[(uintptr_t)refs[i] - 1] = 1;
}

/* Write seqs [*seq, *seq + n), each holding the reference seq + 1. */
static unsigned
put_refs(struct bl_ibuf *ib, uint64_t *seq, unsigned n)
{
	struct bl_ibuf_entry e[32];
	void *refs[32];
	unsigned k;

	for (unsigned i = 0; i < n; i++) {
		e[i] = ent(*seq + i);
		refs[i] = (void *)(uintptr_t)(*seq + i + 1);
	}
	k = bl_ibuf_write_refs(ib, e, refs, n);
	*seq += k;
	return k;
}

/* P5's floor is the lowest position any attached reader published: a reader holding
 * entries it has not completed keeps their packets, however far the others went; once
 * it publishes past them they go at the next refresh. A position past the head (client
 * memory is not trusted) frees nothing early and is counted as a clamp. */
Test(ibuf_readers, a_reader_holding_entries_keeps_their_packets)
{
	uint8_t *freed = calloc(8192, 1);
	struct bl_ibuf *ib;
	struct bl_ibuf_reader *a, *b;
	const struct bl_ibuf_entry *v[32];
	uint64_t seq = 0, bseq = 1;

	cr_assert_not_null(freed);
	ib = ring("holding", 4096, BL_IBUF_FRP, mark_release, freed);
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &a), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach_as(ib, BL_IBUF_FRP, &b), 0));
	cr_assert(eq(u32, put_refs(ib, &seq, 32), 32));
	cr_assert(eq(u32, bl_ibuf_acquire(b, v, 32, &bseq), 32));   /* b holds 0..31 */
	cr_assert(eq(u64, bseq, 0));
	while (seq < 3000) {                                        /* a keeps up; no lap */
		cr_assert(eq(u32, put_refs(ib, &seq, 32), 32));
		cr_assert(eq(u32, take(a, 32, NULL), 32));
	}
	for (unsigned i = 0; i < 32; i++)
		cr_assert(eq(u8, freed[v[i]->object], 0), "entry %u freed while b held it", i);
	cr_assert(bl_ibuf_check(b, bseq));
	cr_assert(eq(u8, freed[2000], 0));                         /* the floor is b's */
	/* a hostile position past the head: clamped, counted, frees nothing of b's */
	__atomic_store_n(&a->page->pos, UINT64_MAX / 2, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < 2 * BL_IBUF_REFRESH_EVERY / 32; i++)
		cr_assert(eq(u32, put_refs(ib, &seq, 32), 32));
	for (unsigned i = 0; i < 32; i++)
		cr_assert(eq(u8, freed[i], 0));
	cr_assert(gt(u64, ib->prod->reader_clamps[a->idx], 0));
	bl_ibuf_flush(b);                                           /* b publishes 32 */
	for (unsigned i = 0; i < 2 * BL_IBUF_REFRESH_EVERY / 32; i++)
		cr_assert(eq(u32, put_refs(ib, &seq, 32), 32));
	for (unsigned i = 0; i < 32; i++)
		cr_assert(eq(u8, freed[i], 1), "entry %u still held after b passed it", i);
	cr_assert(eq(u8, freed[40], 0), "b has not passed 40");
	bl_ibuf_reader_close(a);
	bl_ibuf_reader_close(b);
	bl_ibuf_free(ib);
	free(freed);
}

/* A reader process learns its policy from the producer page, and gets the MRP page
 * only when it reads with MRP. */
Test(ibuf_readers, reader_fds_follow_the_reader_policy)
{
	struct bl_ibuf *ib = ring("srpfds", 8, BL_IBUF_SRP, NULL, NULL);
	struct bl_ibuf_reader *r = NULL;
	struct bl_ibuf_fds fds;
	int i0 = bl_ibuf_reader_alloc_as(ib, 0, BL_IBUF_FRP);
	int i1 = bl_ibuf_reader_alloc_as(ib, 0, BL_IBUF_MRP);

	cr_assert(eq(int, i0, 0));
	cr_assert(eq(int, i1, 1));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 0, &fds), 0));
	cr_assert(eq(int, fds.mrp_fd, -1));
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), 0));
	cr_assert(eq(u32, r->policy, BL_IBUF_FRP));
	bl_ibuf_reader_close(r);
	close(fds.ring_fd);
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 1, &fds), 0));
	cr_assert(fds.mrp_fd >= 0);
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), 0));
	cr_assert(eq(u32, r->policy, BL_IBUF_MRP));
	bl_ibuf_reader_close(r);
	close(fds.ring_fd);
	bl_ibuf_free(ib);
}

/* ---- a reader attaching while the producer frees what every reader passed ---- */

#define RACE_N   (1u << 21)
#define RACE_CAP 4096u
#define RACE_MIN_ATTACHES 100u
/* The producer waits for the attaching thread once this far ahead of its grants (one at
 * each attach, one at a reader's first wait for entries): RACE_N / RACE_STRIDE / 2
 * attaches at least. Quiet and alone, the producer writes 2000 to 8000 entries an attach
 * and seldom waits; on a busy machine an attacher given little CPU made fewer attaches
 * than the test asks for (97). */
#define RACE_STRIDE (RACE_N / (2 * (RACE_MIN_ATTACHES + 28)))

struct race {
	struct bl_ibuf *ib;
	uint8_t *freed;             /* freed[seq]: the reference of seq went back */
	unsigned grants;            /* raised by the attaching thread: an attach, a wait */
	int paced;                  /* the producer waits for grants (RACE_STRIDE) */
	int done;
};

static void
race_release(void *ctx, void **refs, unsigned n)
{
	struct race *rc = ctx;

	for (unsigned i = 0; i < n; i++)   /* relaxed: the reader's load is ordered by its check */
		__atomic_store_n(&rc->freed[(uintptr_t)refs[i] - 1], 1, __ATOMIC_RELAXED);
}

static void *
race_produce(void *a)
{
	struct race *rc = a;
	struct bl_ibuf_entry e[32];
	void *refs[32];

	for (uint64_t seq = 0; seq < RACE_N;) {
		unsigned n = RACE_N - seq < 32 ? (unsigned)(RACE_N - seq) : 32;

		/* relaxed: a count only, pairs with the attacher's relaxed stores. */
		while (rc->paced &&
		       seq > (uint64_t)(__atomic_load_n(&rc->grants, __ATOMIC_RELAXED) + 1) * RACE_STRIDE)
			sched_yield();
		for (unsigned i = 0; i < n; i++) {
			e[i] = ent((uint32_t)(seq + i));
			refs[i] = (void *)(uintptr_t)(seq + i + 1);
		}
		seq += bl_ibuf_write_refs(rc->ib, e, refs, n);   /* refused: tried again */
	}
	/* release: pairs with the acquire load in the attaching loop. */
	__atomic_store_n(&rc->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The producer frees the packets of entries every reader passed at least once per
 * BL_IBUF_REFRESH_EVERY entries (SRP), or of every entry while no reader is attached
 * (FRP). A reader that attaches meanwhile must never be handed an entry whose packet
 * was freed: its first entry is at or above whatever the producer freed up to (rule
 * P3). Hundreds of attaches against a producer at full speed; each reader checks the
 * first entries it gets (those check() vouches for: an FRP reader may be lapped). */
static void
race(uint32_t policy)
{
	struct race rc = { .freed = calloc(RACE_N + 1, 1), .paced = 1 };
	unsigned attaches = 0, grants = 0, seen = 0, bad = 0;
	pthread_t t;

	cr_assert_not_null(rc.freed);
	rc.ib = ring("race", RACE_CAP, policy, race_release, &rc);
	cr_assert(eq(int, pthread_create(&t, NULL, race_produce, &rc), 0));
	while (!__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE)) {
		struct bl_ibuf_reader *r;
		const struct bl_ibuf_entry *v[32];
		uint8_t was_freed[32];
		uint64_t seq;
		unsigned k = 0, idx;

		/* Granted before the attach, so that a producer waiting runs during it.
		 * relaxed: pairs with the producer's relaxed load; it only paces it. */
		__atomic_store_n(&rc.grants, ++grants, __ATOMIC_RELAXED);
		cr_assert(eq(int, bl_ibuf_reader_attach_as(rc.ib, policy, &r), 0));
		attaches++;
		/* Until the producer writes past us (it may have been off the CPU: a busy
		 * machine, or used its grant up before we attached), or is done. */
		for (unsigned tries = 0; k == 0; tries++) {
			k = bl_ibuf_peek(r, v, 32, &seq);
			if (k == 0 && tries >= 1000) {
				if (__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE))
					break;
				if (tries == 1000)   /* once: the producer then writes past us */
					__atomic_store_n(&rc.grants, ++grants, __ATOMIC_RELAXED);
				sched_yield();
			}
		}
		/* The entries are ours until we complete them: their packets must be live. */
		for (unsigned i = 0; i < k; i++)
			was_freed[i] = __atomic_load_n(&rc.freed[v[i]->object], __ATOMIC_RELAXED);
		if (k > 0 && bl_ibuf_check(r, seq)) {
			for (unsigned i = 0; i < k; i++)
				bad += was_freed[i];
			seen += k;
		}
		idx = r->idx;
		bl_ibuf_reader_close(r);
		cr_assert(eq(int, bl_ibuf_reader_detach(rc.ib, idx), 0));
	}
	pthread_join(t, NULL);
	fprintf(stderr, "race %s: %u attaches, %u entries checked\n",
		policy == BL_IBUF_SRP ? "srp" : "frp", attaches, seen);
	cr_expect(ge(u32, attaches, RACE_MIN_ATTACHES));
	cr_expect(gt(u32, seen, 0));
	cr_assert(eq(u32, bad, 0), "%u entries of freed packets handed to new readers", bad);
	bl_ibuf_free(rc.ib);
	free(rc.freed);
}

Test(ibuf_readers, a_new_srp_reader_never_gets_an_entry_whose_packet_was_freed)
{
	race(BL_IBUF_SRP);
}

Test(ibuf_readers, a_new_frp_reader_never_gets_an_entry_whose_packet_was_freed)
{
	race(BL_IBUF_FRP);
}

/* A reader that keeps up with a producer at full speed, on an FRP ring and as an FRP
 * reader of an SRP ring: the producer frees what the reader published (P5) while the
 * reader holds the next entries; no entry check() vouches for may point to a freed
 * packet. */
static void
race_keepup(uint32_t ring_policy)
{
	struct race rc = { .freed = calloc(RACE_N + 1, 1) };
	struct bl_ibuf_reader *r;
	unsigned seen = 0, bad = 0;
	pthread_t t;

	cr_assert_not_null(rc.freed);
	rc.ib = ring("keeprace", RACE_CAP, ring_policy, race_release, &rc);
	cr_assert(eq(int, bl_ibuf_reader_attach_as(rc.ib, BL_IBUF_FRP, &r), 0));
	cr_assert(eq(int, pthread_create(&t, NULL, race_produce, &rc), 0));
	/* On to what is left once the producer is done: on a busy machine it may have
	 * written everything before this loop first ran (0 entries checked). */
	for (;;) {
		const struct bl_ibuf_entry *v[32];
		uint8_t was_freed[32];
		uint64_t seq;
		int done = __atomic_load_n(&rc.done, __ATOMIC_ACQUIRE);
		unsigned k = bl_ibuf_acquire(r, v, 32, &seq);

		if (k == 0 && done)
			break;
		for (unsigned i = 0; i < k; i++)
			was_freed[i] = __atomic_load_n(&rc.freed[v[i]->object], __ATOMIC_RELAXED);
		if (k > 0 && bl_ibuf_check(r, seq)) {
			for (unsigned i = 0; i < k; i++)
				bad += was_freed[i];
			seen += k;
		}
		bl_ibuf_complete(r);
	}
	pthread_join(t, NULL);
	fprintf(stderr, "keep-up race %s ring: %u entries checked\n",
		ring_policy == BL_IBUF_SRP ? "srp" : "frp", seen);
	cr_expect(gt(u32, seen, 0));
	cr_assert(eq(u32, bad, 0), "%u entries of freed packets vouched for", bad);
	bl_ibuf_reader_close(r);
	bl_ibuf_free(rc.ib);
	free(rc.freed);
}

Test(ibuf_readers, a_reader_keeping_up_on_an_frp_ring_never_reads_a_freed_packet)
{
	race_keepup(BL_IBUF_FRP);
}

Test(ibuf_readers, an_frp_reader_keeping_up_on_an_srp_ring_never_reads_a_freed_packet)
{
	race_keepup(BL_IBUF_SRP);
}
