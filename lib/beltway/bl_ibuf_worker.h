/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ibuf_worker — the IBuf burst calls: inline, allocation-free, lock-free.
 *
 * Producer side (one thread):  bl_ibuf_write, bl_ibuf_write_refs,
 *                              bl_ibuf_acquire_slots / bl_ibuf_complete_slots
 * Reader side (one per handle): bl_ibuf_peek, bl_ibuf_check, bl_ibuf_acquire,
 *                              bl_ibuf_skip, bl_ibuf_complete, bl_ibuf_read,
 *                              bl_ibuf_resync (after a failed check)
 *
 * Memory ordering (x86 makes most of these compiler barriers only):
 *  P1 producer stores prod->reserve, then a release fence, then the slots,
 *     then prod->head with a release store, once per burst.
 *  P2 the reserve is stored only when a burst would pass the one last stored:
 *     FRP/MRP (exact mode) store the batch end plus bl_ibuf__step(cap) ahead,
 *     so one store covers many bursts (no further than the limit on a ring that
 *     waits: within a step of full, one store a refresh that moved the tail);
 *     SRP/BLOCK store tail + capacity at a
 *     refresh that moved the tail (see __reserve, __refresh). Every value
 *     stored is >= the end of every write begun, so it may go down (a refresh
 *     into exact mode) without breaking R2.
 *  R1 a reader loads prod->head with acquire (pairs with P1's release store):
 *     slots below head are written. It loads head again only when it has
 *     used up the head it saw last (head_cache), so a reader that is behind
 *     leaves the producer's line alone.
 *  R2 check(): a reader's slot loads, an acquire fence, then a load of
 *     prod->reserve (pairs with P1's release fence, the seqlock pattern): if the
 *     slot held a newer entry, the reader sees a reserve that says so.
 *  R3 a reader publishes its position with a release store (its slot loads
 *     happen before); the producer loads it with acquire before overwriting.
 *     It publishes once it moved bl_ibuf__pub_step(cap) entries (64 at most:
 *     BL_IBUF_PUB_EVERY says why), or when it has caught up with head_cache, not
 *     on every complete.
 *  R4 MRP: a reader raises R with a release CAS; the producer loads R acquire.
 *  P4 A resize (bl_ibuf_resize) changes the capacity C in effect at a burst
 *     boundary, head = G, storing prod->geom (relaxed) before any entry >= G is
 *     published (P1's release orders it). Growing to 2C happens at G = C mod 2C:
 *     the entries still in the ring, [G-C, G), have the same slot under both
 *     masks, so readers may apply the new capacity to them as soon as they see it.
 *     Shrinking to C/2 happens only when every attached reader's published
 *     position is the head (none reads an older entry again), at G = head; the
 *     references the old slots hold are released first. A reader applies geom at
 *     each load of head (acquire, R1) that reached G; a geom loaded after the head
 *     may be newer than it, and then the reader loads both again (the geom is a
 *     release store after the head it is at, loaded acquire: the head loaded next
 *     reaches it), never reading past a change it has not applied: an FRP reader
 *     further behind than G - new capacity/2
 *     (the entries the last change kept) skips to it, counted as lost, and no
 *     position of a reader goes below that again.
 *  P3 The producer reads reader positions only at a refresh: when the cached
 *     limit (tail + capacity, as of the last refresh) says a burst might not fit,
 *     and once per BL_IBUF_REFRESH_EVERY entries, to free what every reader passed.
 *     A refresh begins with a seq_cst fence between the head it published and its
 *     load of active; reader_alloc's seq_cst or of the new bit is followed by its
 *     load of head (the store-buffer pattern): either this refresh sees the new
 *     reader, or the reader starts at or above the head this refresh frees up to.
 *  P5 References (mbufs) are released once no attached reader can read them again:
 *     with SRP readers only, below the tail; in exact mode (an FRP or MRP reader,
 *     FRP and MRP rings), below the lowest position any attached reader published
 *     (R3: published after its last use), at a refresh; at the latest when their
 *     slot is reused. A detached reader (its bit cleared) is owed nothing: check()
 *     vouches for slots, not for the packets they pointed to.
 */
#ifndef BL_IBUF_WORKER_H
#define BL_IBUF_WORKER_H

#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "bl_atomic.h"
#include "bl_ibuf.h"

static inline void
bl_ibuf__pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Clamp a position an untrusted peer wrote into [lo, hi]; count it if it was outside. */
static inline uint64_t
bl_ibuf__clamp(struct bl_ibuf *ib, unsigned idx, uint64_t v, uint64_t lo, uint64_t hi)
{
	if (__builtin_expect(v >= lo && v <= hi, 1))
		return v;
	bl_counter_add(&ib->prod->clamps, 1);
	if (idx < BL_IBUF_MAX_READERS)
		bl_counter_add(&ib->prod->reader_clamps[idx], 1);
	return v < lo ? lo : hi;
}


/* Producer: drop the references the slots of [seq, seq+k) still hold before they are
 * reused (exact mode keeps them until now; otherwise they are NULL), in batches. */
static inline void
bl_ibuf__slots_release(struct bl_ibuf *ib, uint64_t seq, unsigned k)
{
	void *batch[32];
	unsigned n = 0;

	for (unsigned i = 0; i < k; i++) {
		void **ref = &ib->refs[(seq + i) & ib->mask];
		if (*ref != NULL) {
			batch[n++] = *ref;
			*ref = NULL;
			if (n == 32) {
				ib->release(ib->release_ctx, batch, n);
				n = 0;
			}
		}
	}
	if (n > 0)
		ib->release(ib->release_ctx, batch, n);
}

/* Producer: release references of slots every reader has passed, [released, tail).
 * Slots below head - capacity were reused since, and released then (exact mode). */
static inline void
bl_ibuf__release_upto(struct bl_ibuf *ib, uint64_t tail)
{
	uint64_t from = ib->head > ib->cap ? ib->head - ib->cap : 0;

	if (from < ib->released)
		from = ib->released;
	if (from < tail)
		bl_ibuf__slots_release(ib, from, (unsigned)(tail - from));
	ib->released = tail;
}

static inline void bl_ibuf__resize_plan(struct bl_ibuf *ib);

/*
 * Producer, exact mode: the lowest position the readers in active published (R3), at
 * most head. A reader never reads an entry below its own published position again (it
 * published after its last use of those entries and their data), so the references of
 * slots below the floor may go back now instead of at their slot's reuse: a reader that
 * keeps up holds a few refreshes' worth of packets, not a ring's (P5). A lapped reader's
 * old position only keeps the floor low: nothing is freed early for it. A position past
 * the head is garbage from client memory: clamped to the head and counted.
 */
static inline uint64_t
bl_ibuf__read_floor(struct bl_ibuf *ib, uint64_t active, uint64_t head)
{
	uint64_t floor = head;

	while (active != 0) {
		unsigned i = (unsigned)__builtin_ctzll(active);
		/* acquire: pairs with the release store of pos in bl_ibuf__publish_pos (R3). */
		uint64_t pos = __atomic_load_n(&ib->rpage[i]->pos, __ATOMIC_ACQUIRE);
		if (__builtin_expect(pos > head, 0))
			pos = bl_ibuf__clamp(ib, i, pos, 0, head);
		if (pos < floor)
			floor = pos;
		active &= active - 1;
	}
	return floor;
}

/*
 * Producer: recompute the protected tail from what holds the ring back: the positions
 * of the SRP readers and, when an MRP reader is attached, the shared R. FRP readers
 * hold nothing back. Then decide the mode until the next refresh: with only SRP
 * readers (or none) the reserve is the limit, stored here, and references are released
 * as soon as every reader has passed; with an MRP or FRP reader the reserve is stored
 * per burst, and references go once every attached reader published a position past
 * them (P5), not at the tail: a reader the tail does not wait for may still be reading.
 */
static inline void
bl_ibuf__refresh(struct bl_ibuf *ib)
{
	uint64_t head = ib->head, tail = head;
	uint64_t active;

	/* seq_cst: orders the store of head (bl_ibuf__publish) before the load of active;
	 * pairs with the seq_cst or of the bit in bl_ibuf_reader_alloc_as (P3). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* acquire: pairs with the release or/and in reader_alloc/detach (control thread),
	 * so a new reader's initial position and policy bits are visible before its bit. */
	active = __atomic_load_n(&ib->prod->active, __ATOMIC_ACQUIRE);
	/* relaxed: written before the release or of active that the load above saw. */
	uint64_t srp_all = active & __atomic_load_n(&ib->prod->srp_readers, __ATOMIC_RELAXED);
	uint64_t srp = srp_all;
	uint64_t mrp = active & __atomic_load_n(&ib->prod->mrp_readers, __ATOMIC_RELAXED);

	if (mrp != 0) {
		/* acquire: pairs with the release CAS in bl_ibuf__raise_r (R4). */
		uint64_t r = __atomic_load_n(&ib->mrp->r, __ATOMIC_ACQUIRE);
		/* R below our tail is only stale (e.g. no reader for a while);
		 * R beyond the head is garbage and counted. */
		tail = bl_ibuf__clamp(ib, BL_IBUF_MAX_READERS, r < ib->tail ? ib->tail : r,
			ib->tail, head);
	}
	while (srp != 0) {
		unsigned i = (unsigned)__builtin_ctzll(srp);
		/* acquire: pairs with the release store of pos in bl_ibuf_complete (R3). */
		uint64_t pos = __atomic_load_n(&ib->rpage[i]->pos, __ATOMIC_ACQUIRE);
		pos = bl_ibuf__clamp(ib, i, pos, ib->tail, head);
		if (pos < tail)
			tail = pos;
		srp &= srp - 1;
	}
	if (tail < ib->tail)
		tail = ib->tail;
	ib->tail = tail;
	ib->limit = tail + ib->cap;
	ib->refresh_at = head + BL_IBUF_REFRESH_EVERY;
	ib->exact = ib->policy == BL_IBUF_MRP || (active & ~srp_all) != 0;
	if (!ib->exact && ib->reserve_pub != ib->limit) {
		/* The reserve is the limit (P2, see bl_ibuf__reserve). relaxed store +
		 * release fence: pairs with the acquire fence in bl_ibuf_check (R2). */
		__atomic_store_n(&ib->prod->reserve, ib->limit, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ib->reserve_pub = ib->limit;
	} else if (ib->exact && ib->reserve_pub > head + ib->step) {
		/* Into exact mode: the next burst stores its own end (P2). */
		ib->reserve_pub = 0;
	}
	if (ib->tail_pub != tail) {
		/* relaxed: advisory for readers and stats; nothing is ordered by it. */
		__atomic_store_n(&ib->prod->tail, tail, __ATOMIC_RELAXED);
		ib->tail_pub = tail;
	}
	/* Only SRP readers: every attached reader passed [released, tail). Exact mode:
	 * what every attached reader, whatever its policy, passed (P5). */
	if (ib->refs != NULL && !ib->exact) {
		if (ib->released < tail)
			bl_ibuf__release_upto(ib, tail);
	} else if (ib->refs != NULL) {
		uint64_t floor = bl_ibuf__read_floor(ib, active, head);
		if (floor > ib->released)
			bl_ibuf__release_upto(ib, floor);
	}
	bl_ibuf__resize_plan(ib);
}

/* Producer: every attached reader has published the head as its position (P4). */
static inline int
bl_ibuf__all_read(struct bl_ibuf *ib)
{
	/* acquire: pairs with the release or/and of bits in reader_alloc/detach. */
	uint64_t active = __atomic_load_n(&ib->prod->active, __ATOMIC_ACQUIRE);

	/* relaxed: MRP readers publish R, not their page's position: no shrinking then */
	if (active & __atomic_load_n(&ib->prod->mrp_readers, __ATOMIC_RELAXED))
		return 0;
	while (active != 0) {
		unsigned i = (unsigned)__builtin_ctzll(active);
		/* acquire: pairs with the release store of pos in bl_ibuf_complete (R3). */
		if (__atomic_load_n(&ib->rpage[i]->pos, __ATOMIC_ACQUIRE) != ib->head)
			return 0;
		active &= active - 1;
	}
	return 1;
}

/* Producer, at a refresh: plan the capacity change the control plane asked for (P4). */
static inline void
bl_ibuf__resize_plan(struct bl_ibuf *ib)
{
	/* acquire: pairs with the release store in bl_ibuf_resize. */
	uint32_t want = __atomic_load_n(&ib->resize_req, __ATOMIC_ACQUIRE);
	uint64_t c = ib->cap, g;

	if (__builtin_expect(want == 0, 1) || ib->resize_at != UINT64_MAX)
		return;
	if (want == 2 * c && want <= ib->max_cap) {
		g = ib->head - ib->head % (2 * c) + c;   /* the next G >= head with G % 2C == C */
		ib->resize_at = g >= ib->head ? g : g + 2 * c;
		ib->resize_to = want;
	} else if (2 * (uint64_t)want == c && want >= 2) {
		if (bl_ibuf__all_read(ib)) {
			ib->resize_at = ib->head;
			ib->resize_to = want;
		}
	} else {
		/* relaxed: a stale request (the control plane reads the capacity again) */
		__atomic_store_n(&ib->resize_req, 0, __ATOMIC_RELAXED);
	}
}

/* Producer, with head at resize_at: the new capacity from here on (P4). */
static inline void
bl_ibuf__resize_apply(struct bl_ibuf *ib)
{
	uint32_t to = ib->resize_to;

	if (to < ib->cap && ib->refs != NULL)   /* shrinking: the old slots' references go */
		bl_ibuf__slots_release(ib, ib->head > ib->cap ? ib->head - ib->cap : 0,
				       (unsigned)(ib->head > ib->cap ? ib->cap : ib->head));
	ib->cap = to;
	ib->mask = to - 1;
	ib->step = bl_ibuf__step(to);
	/* release store: a reader that loads this geom (acquire) then loads a head of at
	 * least G, the head published before it (bl_ibuf__load_head). Then a release
	 * fence: published by the next head (P1), and ordered before any reserve stored
	 * from now on (pairs with the acquire fence in bl_ibuf_check's slow path). */
	__atomic_store_n(&ib->prod->geom, bl_ibuf__geom(ib->head, to), __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	bl_counter_add(&ib->prod->resizes, 1);
	ib->resize_at = UINT64_MAX;
	/* relaxed: the control plane sees the change in geom; a new request may follow. */
	__atomic_store_n(&ib->resize_req, 0, __ATOMIC_RELAXED);
	/* The limit and the reserve follow the new capacity at the next write. */
	ib->limit = ib->tail + to;
	ib->reserve_pub = ib->exact ? 0 : ib->reserve_pub;
	ib->refresh_at = ib->head;
}

/* Producer of an FRP ring, once per BL_IBUF_REFRESH_EVERY entries: the references of
 * slots every attached reader passed go back now instead of at the slot's reuse (P5);
 * with no reader attached, all of them (a new reader starts at or above the head, P3). */
static inline void
bl_ibuf__frp_idle(struct bl_ibuf *ib)
{
	uint64_t active, floor;

	ib->refresh_at = ib->head + BL_IBUF_REFRESH_EVERY;
	bl_ibuf__resize_plan(ib);
	if (ib->refs == NULL)
		return;
	/* seq_cst: orders the store of head before the load of active; pairs with the
	 * seq_cst or of the bit in bl_ibuf_reader_alloc_as (P3). acquire: pairs with the
	 * release or/and in reader_alloc/detach, so a new reader's initial position is
	 * visible before its bit. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	active = __atomic_load_n(&ib->prod->active, __ATOMIC_ACQUIRE);
	floor = active == 0 ? ib->head : bl_ibuf__read_floor(ib, active, ib->head);
	if (floor > ib->released)
		bl_ibuf__release_upto(ib, floor);
}

/* Producer: how many of n entries may be stored now; counts BLOCK waits (callers count drops). */
static inline unsigned
bl_ibuf__room(struct bl_ibuf *ib, unsigned n)
{
	uint64_t head = ib->head;
	unsigned spins = 0;

	if (ib->policy == BL_IBUF_FRP) {
		if (head >= ib->refresh_at)
			bl_ibuf__frp_idle(ib);
		return n <= ib->cap ? n : ib->cap;
	}
	if (ib->limit - head < n || head >= ib->refresh_at)
		bl_ibuf__refresh(ib);
	if (ib->policy == BL_IBUF_BLOCK && ib->limit == head) {
		bl_counter_add(&ib->prod->waits, 1);
		while (ib->limit == head) {       /* the writer waits for room */
			if (++spins % 64 == 0)
				sched_yield();
			else
				bl_ibuf__pause();
			bl_ibuf__refresh(ib);
		}
	}
	return ib->limit - head < n ? (unsigned)(ib->limit - head) : n;
}

/*
 * Producer: announce that [head, head+k) is about to be written (P1, P2).
 * In exact mode (FRP and MRP rings, SRP rings with an MRP or FRP reader) the producer
 * stores the end of the batch plus a step when the burst passes the reserve it stored
 * last: one store (and one transfer of the line readers poll) per step, not per burst;
 * check() may then call an entry up to a step early "overwritten", never late; in a ring
 * that waits (not FRP) no further than the limit, so never one a waited-for reader holds.
 * Otherwise it never writes beyond tail + capacity, and publishes that bound as the
 * reserve in bl_ibuf__refresh, before any write under it: one store per refresh that
 * moved the tail, and a conservative answer for the only readers that need it
 * (detached ones).
 */
static inline void
bl_ibuf__reserve(struct bl_ibuf *ib, unsigned k)
{
	if (ib->exact && ib->head + k > ib->reserve_pub) {
		uint64_t res = ib->head + k + ib->step;

		/* A ring that waits (not FRP) never writes past its limit (tail + capacity),
		 * so the step need not run past it either: with the ring full, entries of a
		 * waited-for reader (an MRP reader at R) would look overwritten to check(). */
		if (ib->policy != BL_IBUF_FRP && res > ib->limit)
			res = ib->limit;
		/* relaxed store, then a release fence: pairs with the acquire fence in
		 * bl_ibuf_check (R2): a reader that saw a new slot sees the new reserve. */
		__atomic_store_n(&ib->prod->reserve, res, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ib->reserve_pub = res;
	}
	if (ib->policy == BL_IBUF_FRP && ib->head + k > ib->cap) {
		/* seqs [head - cap, head + k - cap) lose their slots now, but for those that
		 * lost theirs before: after a growth from C to 2C the first C writes go into
		 * slots never used, and head - 2C is below what was counted already. */
		uint64_t first = ib->head > ib->cap ? ib->head - ib->cap : 0, upto = ib->head + k - ib->cap;
		if (first < ib->lost_below)
			first = ib->lost_below;
		if (upto > first) {
			bl_counter_add(&ib->prod->overwritten, upto - first);
			ib->lost_below = upto;
		}
	}
}

/* Copy k entries into the ring at seq, in at most two runs. */
static inline void
bl_ibuf__copy_in(struct bl_ibuf_entry *slots, uint64_t mask, uint64_t seq,
	const struct bl_ibuf_entry *e, unsigned k)
{
	uint64_t i = seq & mask, n1 = mask + 1 - i;

	if (n1 >= k) {
		memcpy(&slots[i], e, (size_t)k * sizeof(*e));
	} else {
		memcpy(&slots[i], e, (size_t)n1 * sizeof(*e));
		memcpy(slots, e + n1, (size_t)(k - n1) * sizeof(*e));
	}
}

/* Copy k entries out of the ring from seq, in at most two runs. */
static inline void
bl_ibuf__copy_out(const struct bl_ibuf_entry *slots, uint64_t mask, uint64_t seq,
	struct bl_ibuf_entry *out, unsigned k)
{
	uint64_t i = seq & mask, n1 = mask + 1 - i;

	if (n1 >= k) {
		memcpy(out, &slots[i], (size_t)k * sizeof(*out));
	} else {
		memcpy(out, &slots[i], (size_t)n1 * sizeof(*out));
		memcpy(out + n1, slots, (size_t)(k - n1) * sizeof(*out));
	}
}

/* Producer: make [head, head+k) visible (P1). */
static inline void
bl_ibuf__publish(struct bl_ibuf *ib, unsigned k)
{
	ib->head += k;
	/* release: pairs with the acquire load of head in bl_ibuf__avail (R1). */
	__atomic_store_n(&ib->prod->head, ib->head, __ATOMIC_RELEASE);
	bl_counter_add(&ib->prod->written, k);
}


/*
 * Store up to n entries; refs[i] (may be NULL) is the reference entry i holds until
 * its slot is reused (exact mode) or every reader passed it (SRP readers only). Returns the number
 * stored; the caller still owns the references of entries not stored.
 * SRP/MRP: a short count is a tail drop, counted in prod->dropped.
 * BLOCK: waits for room for at least one entry. FRP: always n (at most capacity).
 */
static inline unsigned
bl_ibuf_write_refs(struct bl_ibuf *ib, const struct bl_ibuf_entry *e, void *const *refs,
	unsigned n)
{
	unsigned done = 0;

	for (;;) {
		unsigned m = n - done, k;

		/* A resize point inside the burst splits it (P4); room() may plan one. */
		if (__builtin_expect(ib->head + m > ib->resize_at, 0))
			m = (unsigned)(ib->resize_at - ib->head);
		k = m > 0 ? bl_ibuf__room(ib, m) : 0;
		if (__builtin_expect(ib->head + m > ib->resize_at, 0)) {   /* planned just now */
			m = (unsigned)(ib->resize_at - ib->head);
			k = k < m ? k : m;
		}
		if (k < m && ib->policy != BL_IBUF_BLOCK)   /* full: the rest of the burst too */
			bl_counter_add(&ib->prod->dropped, n - done - k);
		if (k > 0) {
			bl_ibuf__reserve(ib, k);
			if (ib->refs != NULL) {
				bl_ibuf__slots_release(ib, ib->head, k);
				for (unsigned i = 0; i < k; i++)
					ib->refs[(ib->head + i) & ib->mask] =
						refs != NULL ? refs[done + i] : NULL;
			}
			bl_ibuf__copy_in(ib->slots, ib->mask, ib->head, e + done, k);
			bl_ibuf__publish(ib, k);
			done += k;
		}
		if (__builtin_expect(ib->head == ib->resize_at, 0)) {
			bl_ibuf__resize_apply(ib);
			if (done < n)
				continue;
		}
		return done;
	}
}

/* Store entries that hold no references. BLOCK writers loop until all are in. */
static inline unsigned
bl_ibuf_write(struct bl_ibuf *ib, const struct bl_ibuf_entry *e, unsigned n)
{
	unsigned done = bl_ibuf_write_refs(ib, e, NULL, n);

	while (ib->policy == BL_IBUF_BLOCK && done < n)
		done += bl_ibuf_write_refs(ib, e + done, NULL, n - done);
	return done;
}

/*
 * Zero-copy write: pointers to up to n free slots to fill in place, then
 * bl_ibuf_complete_slots(ib, k) with k <= the count returned. Counts drops like write;
 * at a resize point (P4) it returns fewer than room allows: call again after completing.
 */
static inline unsigned
bl_ibuf_acquire_slots(struct bl_ibuf *ib, struct bl_ibuf_entry **slots, unsigned n)
{
	unsigned k;

	if (__builtin_expect(ib->head == ib->resize_at, 0))
		bl_ibuf__resize_apply(ib);
	if (__builtin_expect(ib->head + n > ib->resize_at, 0))   /* stop at a resize point */
		n = (unsigned)(ib->resize_at - ib->head);
	k = bl_ibuf__room(ib, n);
	if (__builtin_expect(ib->head + n > ib->resize_at, 0)) {  /* planned just now */
		n = (unsigned)(ib->resize_at - ib->head);
		k = k < n ? k : n;
	}
	if (k < n && ib->policy != BL_IBUF_BLOCK)
		bl_counter_add(&ib->prod->dropped, n - k);
	if (k == 0)
		return 0;
	bl_ibuf__reserve(ib, k);
	if (ib->refs != NULL)
		bl_ibuf__slots_release(ib, ib->head, k);
	for (unsigned i = 0; i < k; i++)
		slots[i] = &ib->slots[(ib->head + i) & ib->mask];
	return k;
}

static inline void
bl_ibuf_complete_slots(struct bl_ibuf *ib, unsigned k)
{
	bl_ibuf__publish(ib, k);
	if (__builtin_expect(ib->head == ib->resize_at, 0))
		bl_ibuf__resize_apply(ib);
}

/* ---- reader side ---- */

/*
 * Reader: follow prod->geom g (P4). count: skipping entries older than the ones
 * both capacities agree on is a loss to count (0 at open: nothing read yet). A value
 * the ring's slots cannot hold is ignored and counted as a clamp.
 */
static inline void
bl_ibuf__reader_geom(struct bl_ibuf_reader *r, uint64_t g, int count)
{
	uint32_t cap = bl_ibuf__geom_cap(g);
	uint64_t oldest;

	r->geom = g;
	if (cap < 2 || cap > r->hdr->capacity) {
		bl_counter_add(&r->page->bad_geom, 1);
		return;
	}
	r->cap = cap;
	r->mask = cap - 1;
	r->step = bl_ibuf__pub_step(cap);
	/* The entries both capacities agree on: [since - cap/2, since) after a growth; none
	 * older than since is read again after a shrink. Whatever changes we missed, the
	 * last one decides (an older entry may sit in a slot another mapping reused). */
	oldest = bl_ibuf__geom_floor(g);
	if (count && r->pos < oldest) {
		r->skipped += oldest - r->pos;
		bl_counter_add(&r->page->lost, oldest - r->pos);
		bl_counter_add(&r->page->laps, 1);
		r->pos = oldest;
	}
}

/* Tests: run between a reader's load of head and its load of geom (a preemption there:
 * tests/beltway/test_ibuf_geom.c). Nothing otherwise. */
#ifndef BL_IBUF_TEST_AFTER_HEAD_LOAD
#define BL_IBUF_TEST_AFTER_HEAD_LOAD() do { } while (0)
#endif

/* Loads of head and geom a reader retries before it keeps the head it had. */
#define BL_IBUF_GEOM_TRIES 64

/* Reader: load head (R1) into head_cache and follow the geom it reached (P4). Every
 * load of head goes through here: a head loaded without its geom lets the next peek
 * take the short path below it with the old mask (bl_ibuf_resync did so). */
static inline uint64_t
bl_ibuf__load_head(struct bl_ibuf_reader *r)
{
	for (unsigned int t = 0; t < BL_IBUF_GEOM_TRIES; t++) {
		/* acquire: pairs with the release store of head in bl_ibuf__publish (R1). */
		uint64_t head = __atomic_load_n(&r->prod->head, __ATOMIC_ACQUIRE);
		BL_IBUF_TEST_AFTER_HEAD_LOAD();
		/* acquire: pairs with the release store of geom in bl_ibuf__resize_apply. The
		 * geom in effect at that head was stored before it (P4); the one loaded here
		 * may be a later change, at a point past that head. Applied then, it moved
		 * our position past the head, and the lap in avail took us back below the
		 * entries both capacities agree on (check() vouched for entries from slots
		 * that never held them). Ignored, and a change between our geom and it
		 * missed, the entries from that change to the head were read with the old
		 * mask: wrong slots, and check() vouched for them too. So load both again:
		 * a head loaded after this geom is at least its point. */
		uint64_t g = __atomic_load_n(&r->prod->geom, __ATOMIC_ACQUIRE);

		if (__builtin_expect(g != r->geom, 0)) {
			if (bl_ibuf__geom_since(g) > head)
				continue;
			bl_ibuf__reader_geom(r, g, 1);
		}
		r->head_cache = head;
		return head;
	}
	/* The producer resized again and again while we looked: the head we had, whose
	 * geom we follow, is still true. */
	return r->head_cache;
}

/* Entries available to r; skips forward (counting the loss) if r was lapped. */
static inline uint64_t
bl_ibuf__avail(struct bl_ibuf_reader *r, unsigned n)
{
	uint64_t head = r->head_cache;

	/* A full burst below the head we saw last needs no look at the producer's line:
	 * those entries are published (seen with acquire before). A lap in the meantime
	 * is caught by check(), and on the next real load. */
	if (head - r->pos >= n && head >= r->pos && head - r->pos <= r->cap)
		return head - r->pos;
	head = bl_ibuf__load_head(r);

	if (__builtin_expect(head - r->pos > r->cap, 0) || __builtin_expect(r->pos > head, 0)) {
		/* Lapped (or our private cursor is nonsense): go to the oldest entry
		 * that the batch being written cannot reach. relaxed: only an estimate,
		 * check() is the authority. */
		uint64_t res = __atomic_load_n(&r->prod->reserve, __ATOMIC_RELAXED);
		uint64_t oldest = res > r->cap ? res - r->cap : 0;
		if (oldest > head)
			oldest = head;
		if (r->pos < oldest) {
			r->skipped += oldest - r->pos;
			bl_counter_add(&r->page->lost, oldest - r->pos);
			bl_counter_add(&r->page->laps, 1);
		}
		r->pos = oldest;
	}
	return head - r->pos;
}

/* Zero-copy view of up to n entries from the reader's position; does not advance.
 * *seq is the sequence number of v[0]. */
static inline unsigned
bl_ibuf_peek(struct bl_ibuf_reader *r, const struct bl_ibuf_entry **v, unsigned n,
	uint64_t *seq)
{
	uint64_t avail = bl_ibuf__avail(r, n);
	unsigned k = avail < n ? (unsigned)avail : n;

	for (unsigned i = 0; i < k; i++)
		v[i] = &r->slots[(r->pos + i) & r->mask];
	*seq = r->pos;
	return k;
}

/*
 * After using entry seq (and the data it points to): 1 if it cannot have been
 * overwritten meanwhile, 0 if it may have been (counted in check_fail).
 * SRP/BLOCK: an attached reader is never overwritten, so while our bit is set in
 * prod->active (a read-mostly line, no transfer) the answer is 1 without touching
 * the producer's hot line. If a detach cleared it, the producer's load of active
 * precedes its release fence in bl_ibuf__reserve, so having seen a new slot we
 * also see the cleared bit and fall through to the reserve test. The bit is ours
 * only while reader_gen[idx] is what we saw when attached: a reader the appliance
 * detached that reads on would otherwise vouch by the bit of the next reader given
 * its page index.
 */
static inline int
bl_ibuf_check(struct bl_ibuf_reader *r, uint64_t seq)
{
	uint64_t res;

	/* acquire fence: pairs with the release fence in bl_ibuf__reserve (R2). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	/* acquire load of active: pairs with the seq_cst fetch_or of the bit in
	 * bl_ibuf_reader_alloc_as, so a bit set again comes with its new reader_gen. */
	if ((r->policy == BL_IBUF_SRP || r->policy == BL_IBUF_BLOCK) &&
	    (__atomic_load_n(&r->prod->active, __ATOMIC_ACQUIRE) & r->bit) &&
	    __atomic_load_n(&r->prod->reader_gen[r->idx], __ATOMIC_RELAXED) == r->gen)
		return 1;
	res = __atomic_load_n(&r->prod->reserve, __ATOMIC_RELAXED);
	if (__builtin_expect(res <= seq + r->cap, 1))
		return 1;
	/* The ring may have grown since we last loaded head (P4): a reserve that says
	 * "overwritten" under our capacity may not under the new one. acquire fence:
	 * pairs with the release fence after the store of geom in bl_ibuf__resize_apply. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	{
		uint64_t g = __atomic_load_n(&r->prod->geom, __ATOMIC_RELAXED);
		uint32_t c2 = bl_ibuf__geom_cap(g);
		uint64_t lo = bl_ibuf__geom_floor(g);

		/* vouch only for an entry the last change kept in the slot we read it from */
		if (g != r->geom && c2 >= 2 && c2 <= r->hdr->capacity && seq >= lo &&
		    (seq & r->mask) == (seq & (c2 - 1)) && res <= seq + c2)
			return 1;
	}
	bl_counter_add(&r->page->check_fail, 1);
	return 0;
}

/*
 * After check() said entry seq may have been overwritten: the producer is at our
 * heels, and the entries after seq are the next it overwrites (a lap resumes at
 * the oldest entry, the least lost for a reader that can keep up). A reader slower
 * than the producer that goes on from there loses every read: the copying read
 * failed its checks 32 in a row, gave up with -EAGAIN and slept, again and again
 * (beltline cat of a 40 Mpps FRP stream got 52 packets in 10 s). So resume half a
 * ring behind the producer's reservation, never past the head: that much room
 * before it comes round again. The entries jumped over are lost, counted as a lap.
 */
static inline void
bl_ibuf_resync(struct bl_ibuf_reader *r, uint64_t seq)
{
	/* relaxed: an estimate, as in the lap of bl_ibuf__avail; check() decides. */
	uint64_t res = __atomic_load_n(&r->prod->reserve, __ATOMIC_RELAXED);
	uint64_t head = bl_ibuf__load_head(r);   /* and the capacity it reached */
	uint64_t to = res > r->cap / 2 ? res - r->cap / 2 : 0;

	if (to > head)
		to = head;
	if (to <= r->pos || to <= seq + 1)
		return;
	r->skipped += to - r->pos;
	bl_counter_add(&r->page->lost, to - r->pos);
	bl_counter_add(&r->page->laps, 1);
	r->pos = to;
}

/* Like peek, and the entries now belong to the caller until bl_ibuf_complete. */
static inline unsigned
bl_ibuf_acquire(struct bl_ibuf_reader *r, const struct bl_ibuf_entry **v, unsigned n,
	uint64_t *seq)
{
	unsigned k = bl_ibuf_peek(r, v, n, seq);

	r->pos += k;
	return k;
}

/* Advance past up to n entries (after a peek) without publishing. Returns the count. */
static inline unsigned
bl_ibuf_skip(struct bl_ibuf_reader *r, unsigned n)
{
	uint64_t avail = bl_ibuf__avail(r, n);
	unsigned k = avail < n ? (unsigned)avail : n;

	r->pos += k;
	return k;
}

/* MRP: raise R to v with an atomic max. */
static inline void
bl_ibuf__raise_r(struct bl_ibuf_reader *r, uint64_t v)
{
	uint64_t cur = __atomic_load_n(&r->mrp->r, __ATOMIC_RELAXED);

	/* release on success: pairs with the acquire load of R in bl_ibuf__refresh (R4):
	 * our reads of entries below v happen before the producer reuses their slots. */
	while (cur < v && !__atomic_compare_exchange_n(&r->mrp->r, &cur, v, 1,
			__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Publish the reader's position now (R3); bl_ibuf_complete batches calls to it. */
static inline void
bl_ibuf__publish_pos(struct bl_ibuf_reader *r)
{
	uint64_t prev = r->pub;

	if (r->pos == prev)
		return;
	/* release: pairs with the acquire load of pos in bl_ibuf__refresh (R3). */
	__atomic_store_n(&r->page->pos, r->pos, __ATOMIC_RELEASE);
	if (r->policy == BL_IBUF_MRP)
		bl_ibuf__raise_r(r, prev);     /* R = max(R, our previous position) */
	if (r->pos > prev)
		bl_counter_add(&r->page->consumed, r->pos - prev - r->skipped);
	r->skipped = 0;
	r->pub = r->pos;
}

/* A reader that stops reading for a while (sleeps, closes): publish what it did. */
static inline void
bl_ibuf_flush(struct bl_ibuf_reader *r)
{
	bl_ibuf__publish_pos(r);
}

/* Give everything acquired or skipped back to the producer: published once the
 * reader moved a step, or caught up with the head it saw last (R3). */
static inline void
bl_ibuf_complete(struct bl_ibuf_reader *r)
{
	uint64_t prev = r->pub;

	if (r->pos == prev || (r->pos - prev < r->step && r->pos != r->head_cache))
		return;
	bl_ibuf__publish_pos(r);
}

/*
 * Copying read: up to n entries into out, every one verified not overwritten.
 * Advances and publishes. Entries lost to a lap are skipped and counted.
 */
static inline unsigned
bl_ibuf_read(struct bl_ibuf_reader *r, struct bl_ibuf_entry *out, unsigned n)
{
	for (;;) {
		uint64_t avail = bl_ibuf__avail(r, n), res, valid_from;
		unsigned k = avail < n ? (unsigned)avail : n, skip;

		bl_ibuf__copy_out(r->slots, r->mask, r->pos, out, k);
		if (k == 0 || bl_ibuf_check(r, r->pos)) {
			r->pos += k;
			bl_ibuf_complete(r);
			return k;
		}
		/* Some of the copy may be stale: keep the part reserve cannot reach.
		 * relaxed: the fence in check already ordered it after the copies. */
		res = __atomic_load_n(&r->prod->reserve, __ATOMIC_RELAXED);
		valid_from = res - r->cap;
		skip = valid_from - r->pos < k ? (unsigned)(valid_from - r->pos) : k;
		bl_counter_add(&r->page->lost, skip);
		bl_counter_add(&r->page->laps, 1);
		if (skip < k) {
			r->skipped += skip;
			memmove(out, out + skip, (k - skip) * sizeof(*out));
			r->pos += k;
			bl_ibuf_complete(r);
			return k - skip;
		}
		r->skipped += skip;
		r->pos += skip;              /* all stale: try again from further on */
	}
}

#endif /* BL_IBUF_WORKER_H */
