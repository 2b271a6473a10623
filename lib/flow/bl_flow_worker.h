/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_flow_worker — the flow table's burst calls, static inline, on the one
 * thread that owns the table (no lock, no atomic but the counters' relaxed
 * stores). Control side: bl_flow.h; the design: lib/flow/README.md.
 *
 * Lookup of a burst runs in passes so the cache misses of one packet overlap
 * the work of the others (as rte_hash_lookup_bulk does): hash every key and
 * prefetch its first bucket's signatures; find a signature match there and
 * prefetch that slot, or else prefetch the second bucket's signatures; match
 * those; then compare keys and update, or insert (a miss looks again first: an
 * earlier packet of the same burst may have made the flow).
 */
#ifndef BL_FLOW_WORKER_H
#define BL_FLOW_WORKER_H

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_prefetch.h>

#include "bl_atomic.h"
#include "bl_flow.h"

#define BL_FLOW_BURST_MAX 256u
#define BL_FLOW_NONE UINT32_MAX

static __rte_always_inline uint64_t
bl_flow__w(const struct bl_flow_key *k, unsigned int i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + 8 * i, 8);
	return w;
}

/* Five independent products, folded: the multiplies of a burst's keys overlap.
 * m: six odd multipliers from a seed (bl_flow_seed_mults); other per-key tables
 * (tcpstream's connections) hash with it too. */
static __rte_always_inline uint64_t
bl_flow_key_hash(const uint64_t m[6], const struct bl_flow_key *k)
{
	uint64_t h = bl_flow__w(k, 0) * m[0] ^ bl_flow__w(k, 1) * m[1] ^
		     bl_flow__w(k, 2) * m[2] ^ bl_flow__w(k, 3) * m[3] ^
		     bl_flow__w(k, 4) * m[4];

	h ^= h >> 31;
	h *= m[5];
	return h ^ (h >> 29);
}

static __rte_always_inline uint64_t
bl_flow__hash(const struct bl_flow_table *t, const struct bl_flow_key *k)
{
	return bl_flow_key_hash(t->k, k);
}

static __rte_always_inline uint32_t
bl_flow__b1(const struct bl_flow_table *t, uint64_t h)
{
	return (uint32_t)h & t->bucket_mask;
}

static __rte_always_inline uint32_t
bl_flow__b2(const struct bl_flow_table *t, uint64_t h)
{
	uint32_t b = (uint32_t)(h >> 32) & t->bucket_mask;

	return b == bl_flow__b1(t, h) ? b ^ 1u : b;   /* a table has at least 2 buckets */
}

static __rte_always_inline uint16_t
bl_flow__sig(uint64_t h)
{
	return (uint16_t)((h * 0x9e3779b97f4a7c15ull) >> 48) | 1u;   /* never 0 (free) */
}

static __rte_always_inline bool
bl_flow__key_eq(const struct bl_flow_key *a, const struct bl_flow_key *b)
{
	uint64_t d = 0;

	for (unsigned int i = 0; i < 5; i++)
		d |= bl_flow__w(a, i) ^ bl_flow__w(b, i);
	return d == 0;
}

/* A mask of the ways of bucket b whose signature is sig: two bits per way (way w
 * is bit 2w), so the first match is ctz / 2. One compare of the bucket's eight
 * signatures, no branch per way: the matching way of a lookup is random, and a
 * loop over the ways mispredicted its exit once a packet. */
static __rte_always_inline uint32_t
bl_flow__sig_mask(const struct bl_flow_table *t, uint32_t b, uint16_t sig)
{
	const uint16_t *s = &t->sig[b * BL_FLOW_WAYS];
#if defined(__SSE2__)
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);

	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16((short)sig)));
#else
	uint32_t m = 0;

	for (unsigned int w = 0; w < BL_FLOW_WAYS; w++)
		m |= (uint32_t)(s[w] == sig) * (3u << (2 * w));
	return m;
#endif
}
_Static_assert(BL_FLOW_WAYS == 8, "bl_flow__sig_mask compares eight 16-bit signatures");

/* The first slot of bucket b whose signature is sig, or BL_FLOW_NONE. */
static __rte_always_inline uint32_t
bl_flow__sig_in(const struct bl_flow_table *t, uint32_t b, uint16_t sig)
{
	uint32_t m = bl_flow__sig_mask(t, b, sig);

	return m != 0 ? b * BL_FLOW_WAYS + (uint32_t)__builtin_ctz(m) / 2u : BL_FLOW_NONE;
}

/* The slot holding key k (hash h), or BL_FLOW_NONE: every signature match checked. */
static inline uint32_t
bl_flow__find(const struct bl_flow_table *t, const struct bl_flow_key *k, uint64_t h)
{
	uint16_t sig = bl_flow__sig(h);
	uint32_t b[2] = { bl_flow__b1(t, h), bl_flow__b2(t, h) };

	for (unsigned int j = 0; j < 2; j++)
		for (unsigned int w = 0; w < BL_FLOW_WAYS; w++) {
			uint32_t s = b[j] * BL_FLOW_WAYS + w;
			if (t->sig[s] == sig && bl_flow__key_eq(&t->ent[s].key, k))
				return s;
		}
	return BL_FLOW_NONE;
}

static inline void bl_flow__end(struct bl_flow_table *t, uint32_t s, uint8_t reason);

/*
 * The table's clock: the latest time seen (ms since the epoch; a time before it counts
 * as it). The slots' times are ms after the base modulo 2^32 (49.7 days), and every
 * difference is taken from the clock t->now, so the modular difference is the real one
 * while it is below 2^32 ms (a clamp there stopped every timeout after 49.7 days). That
 * holds as long as every slot is looked at once every 2^30 ms of the clock: the sweep
 * does it in turn, and a pass over the whole table each time the clock has moved 2^30
 * ms (12.4 days) makes sure of it (a slot a sweep never reached, the times of one burst).
 * A jump of 2^31 ms or more (a capture's times, a clock set) passes every timeout: every
 * flow ends first, idle.
 */
static __rte_noinline __rte_cold __rte_unused void bl_flow__pass(struct bl_flow_table *t,
								  bool all);

static inline uint32_t
bl_flow__clock(struct bl_flow_table *t, uint64_t ms)
{
	if (unlikely(!t->based)) {
		t->base_ms = ms;
		t->now_ms = ms;
		t->whole_ms = ms;
		t->based = true;
	}
	if (ms > t->now_ms) {
		if (unlikely(ms - t->now_ms >= (1ull << 31))) {
			bl_flow__pass(t, true);   /* before the clock moves: the records' times
			                           * are still right */
			t->whole_ms = ms;
		}
		t->now_ms = ms;
		t->now = (uint32_t)(ms - t->base_ms);
		if (unlikely(ms - t->whole_ms >= (1ull << 30))) {
			t->whole_ms = ms;
			bl_flow__pass(t, false);
		}
	}
	return t->now;
}

/* Export slot s with this reason; the slot stays as it is (the caller frees or reuses it). */
static inline void
bl_flow__export(struct bl_flow_table *t, uint32_t s, uint8_t reason)
{
	const struct bl_flow_ent *e = &t->ent[s];
	struct bl_flow_rec r = {
		.magic = BL_FLOW_REC_MAGIC, .version = BL_FLOW_REC_VERSION,
		.ipver = e->key.ipver, .proto = e->key.proto, .tcp_flags = e->tcp_flags,
		.end_reason = reason, .sport = e->key.sport, .dport = e->key.dport,
		.vlan = e->key.vlan, .packets = e->packets, .bytes = e->bytes,
		.start_ms = t->now_ms - (uint32_t)(t->now - e->first),
		.end_ms = t->now_ms - (uint32_t)(t->now - e->last),
	};

	memcpy(r.src, e->key.src, 16);
	memcpy(r.dst, e->key.dst, 16);
	t->emit(t->emit_ctx, &r);
}

static inline void
bl_flow__end(struct bl_flow_table *t, uint32_t s, uint8_t reason)
{
	bl_flow__export(t, s, reason);
	t->sig[s] = 0;
	bl_counter_add(&t->st->count, (uint64_t)-1);
}

static __rte_always_inline void
bl_flow__start(struct bl_flow_ent *e, const struct bl_flow_pkt *p, uint32_t now)
{
	e->bytes = p->len;
	e->packets = 1;
	e->first = e->last = now;
	e->tcp_flags = p->tcp_flags;
}

/* Both buckets full: move one of their flows to its other bucket if that has a
 * free slot (one cuckoo step) and return the slot it left, else BL_FLOW_NONE. */
static inline uint32_t
bl_flow__displace(struct bl_flow_table *t, const uint32_t b[2])
{
	for (unsigned int j = 0; j < 2; j++)
		for (unsigned int w = 0; w < BL_FLOW_WAYS; w++) {
			uint32_t s = b[j] * BL_FLOW_WAYS + w;
			uint64_t h = bl_flow__hash(t, &t->ent[s].key);
			uint32_t alt = bl_flow__b1(t, h) == b[j] ? bl_flow__b2(t, h) : bl_flow__b1(t, h);
			uint32_t d = bl_flow__sig_in(t, alt, 0);

			if (d == BL_FLOW_NONE)
				continue;
			t->ent[d] = t->ent[s];
			t->sig[d] = t->sig[s];
			t->sig[s] = 0;
			return s;
		}
	return BL_FLOW_NONE;
}

/* A slot for a new key: a free one in its first bucket (so a lookup mostly needs
 * that bucket's signatures only), else in its second; else one of their flows
 * moves to its other bucket (one cuckoo step); else (buckets or table full) the
 * least recently seen of its 16 candidates, exported early. */
static inline uint32_t
bl_flow__insert(struct bl_flow_table *t, const struct bl_flow_key *k, uint64_t h)
{
	uint32_t b[2] = { bl_flow__b1(t, h), bl_flow__b2(t, h) };
	uint32_t victim = BL_FLOW_NONE, oldest = 0;
	uint32_t s = bl_flow__sig_in(t, b[0], 0);

	if (s == BL_FLOW_NONE)
		s = bl_flow__sig_in(t, b[1], 0);
	if (s == BL_FLOW_NONE && t->st->count < t->max_flows)
		s = bl_flow__displace(t, b);
	if (s == BL_FLOW_NONE || t->st->count >= t->max_flows) {
		/* Only now the candidates' times: 16 slot lines read on an eviction, none on
		 * an ordinary insert. */
		for (unsigned int j = 0; j < 2; j++)
			for (unsigned int w = 0; w < BL_FLOW_WAYS; w++) {
				uint32_t c = b[j] * BL_FLOW_WAYS + w;
				if (t->sig[c] != 0 && (victim == BL_FLOW_NONE ||
							t->now - t->ent[c].last > oldest)) {
					oldest = t->now - t->ent[c].last;   /* its age */
					victim = c;
				}
			}
		if (victim == BL_FLOW_NONE) {
			/* The table is full and this key's buckets are empty: the flow
			 * the expiry sweep would look at next goes. */
			for (uint32_t i = 0; i < t->n_slots && victim == BL_FLOW_NONE; i++) {
				uint32_t v = (t->sweep_pos + i) & (t->n_slots - 1);
				if (t->sig[v] != 0)
					victim = v;
			}
		}
		bl_flow__end(t, victim, BL_FLOW_END_RESOURCE);
		bl_counter_add(&t->st->evicted, 1);
		if (s == BL_FLOW_NONE)
			s = victim;
	}
	t->sig[s] = bl_flow__sig(h);
	t->ent[s].key = *k;
	bl_counter_add(&t->st->created, 1);
	bl_counter_add(&t->st->count, 1);
	return s;
}

/* One packet of the flow in slot s: timeouts first (the flow ends and this
 * packet starts it over), then the counts. */
static __rte_always_inline void
bl_flow__hit(struct bl_flow_table *t, uint32_t s, const struct bl_flow_pkt *p, uint32_t now)
{
	struct bl_flow_ent *e = &t->ent[s];

	if (unlikely(now - e->last >= t->idle_ms)) {   /* now: the table's clock (modular) */
		bl_flow__export(t, s, BL_FLOW_END_IDLE);
		bl_counter_add(&t->st->idle, 1);
		bl_counter_add(&t->st->created, 1);
		bl_flow__start(e, p, now);
		return;
	}
	if (unlikely(now - e->first >= t->active_ms)) {
		bl_flow__export(t, s, BL_FLOW_END_ACTIVE);
		bl_counter_add(&t->st->active, 1);
		bl_counter_add(&t->st->created, 1);
		bl_flow__start(e, p, now);
		return;
	}
	if (unlikely(e->packets >= UINT32_MAX - 1)) {
		/* The count would reach 2^32 - 1: the record ends (its 32-bit count stays exact)
		 * and this packet begins the next, as an active timeout does. The record was
		 * ended after the packet and the slot emptied in place: uncounted in created,
		 * and a flow with no packet after it exported a record of 0 packets. */
		bl_flow__export(t, s, BL_FLOW_END_ACTIVE);
		bl_counter_add(&t->st->active, 1);
		bl_counter_add(&t->st->created, 1);
		bl_flow__start(e, p, now);
		return;
	}
	e->bytes += p->len;
	e->packets++;
	e->last = now;
	e->tcp_flags |= p->tcp_flags;
}

/* Count a burst of packets into their flows. n <= BL_FLOW_BURST_MAX. */
static inline void
bl_flow_update_burst(struct bl_flow_table *t, const struct bl_flow_pkt *p, unsigned int n)
{
	uint64_t h[BL_FLOW_BURST_MAX];
	uint32_t cand[BL_FLOW_BURST_MAX];

	uint16_t again[BL_FLOW_BURST_MAX];
	unsigned int n_again = 0;

	/* Inserts fill a key's first bucket first, so most keys are found there: one
	 * signature line per packet is prefetched, the second bucket's only for the
	 * keys not in their first. */
	for (unsigned int i = 0; i < n; i++) {
		h[i] = bl_flow__hash(t, &p[i].key);
		rte_prefetch0(&t->sig[bl_flow__b1(t, h[i]) * BL_FLOW_WAYS]);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = bl_flow__sig_in(t, bl_flow__b1(t, h[i]), bl_flow__sig(h[i]));

		cand[i] = s;
		if (s != BL_FLOW_NONE) {
			rte_prefetch0(&t->ent[s]);
		} else {
			rte_prefetch0(&t->sig[bl_flow__b2(t, h[i]) * BL_FLOW_WAYS]);
			again[n_again++] = (uint16_t)i;
		}
	}
	for (unsigned int j = 0; j < n_again; j++) {
		unsigned int i = again[j];
		uint32_t s = bl_flow__sig_in(t, bl_flow__b2(t, h[i]), bl_flow__sig(h[i]));

		cand[i] = s;
		if (s != BL_FLOW_NONE)
			rte_prefetch0(&t->ent[s]);
	}
	for (unsigned int i = 0; i < n; i++) {
		/* The table's clock never goes back: a packet stamped before the latest
		 * one seen (a capture whose times jump) counts at the latest. */
		uint32_t now = bl_flow__clock(t, p[i].ms);
		uint32_t s = cand[i];

		if (s == BL_FLOW_NONE || t->sig[s] == 0 || !bl_flow__key_eq(&t->ent[s].key, &p[i].key))
			s = bl_flow__find(t, &p[i].key, h[i]);
		if (s == BL_FLOW_NONE) {
			s = bl_flow__insert(t, &p[i].key, h[i]);
			bl_flow__start(&t->ent[s], &p[i], now);
			continue;
		}
		bl_flow__hit(t, s, &p[i], now);
	}
}

/* End the flow in slot s (if any) whose idle or active timeout has passed at now. */
static inline void
bl_flow__expire(struct bl_flow_table *t, uint32_t s, uint32_t now)
{
	const struct bl_flow_ent *e = &t->ent[s];

	if (t->sig[s] == 0)
		return;
	if (now - e->last >= t->idle_ms) {
		bl_flow__end(t, s, BL_FLOW_END_IDLE);
		bl_counter_add(&t->st->idle, 1);
	} else if (now - e->first >= t->active_ms) {
		bl_flow__end(t, s, BL_FLOW_END_ACTIVE);
		bl_counter_add(&t->st->active, 1);
	}
}

/* The clock's pass over every slot (bl_flow__clock, once in 2^30 ms at most): all, end
 * every flow, idle (a jump of 2^31 ms); else the flows whose timeout passed. */
static __rte_noinline __rte_cold __rte_unused void
bl_flow__pass(struct bl_flow_table *t, bool all)
{
	for (uint32_t s = 0; s < t->n_slots; s++) {
		if (!all) {
			bl_flow__expire(t, s, t->now);
		} else if (t->sig[s] != 0) {
			bl_flow__end(t, s, BL_FLOW_END_IDLE);
			bl_counter_add(&t->st->idle, 1);
		}
	}
}

/*
 * The expiry sweep: look at the slots in turn, a share each call, so the whole
 * table is looked at every quarter of the shorter timeout (and at least 32
 * slots a call); end the flows whose timeout passed. now_ms: the time now, ms
 * since the epoch (the packets' clock); the table's latest packet time counts
 * if it is later.
 */
static inline void
bl_flow_sweep(struct bl_flow_table *t, uint64_t now_ms)
{
	uint32_t now, period, el, budget;

	if (!t->based)
		return;
	now = now_ms != 0 ? bl_flow__clock(t, now_ms) : t->now;
	period = RTE_MAX(RTE_MIN(t->idle_ms, t->active_ms) / 4u, 1u);
	el = (int32_t)(now - t->sweep_at) > 0 ? now - t->sweep_at : 0;
	t->sweep_at = now;
	if (el >= period) {
		budget = t->n_slots;
		t->sweep_credit = 0;
	} else {
		t->sweep_credit += (uint64_t)el * t->n_slots * 1024u / period;
		budget = (uint32_t)RTE_MIN(t->sweep_credit / 1024u, (uint64_t)t->n_slots);
		t->sweep_credit -= (uint64_t)budget * 1024u;
		budget = RTE_MAX(budget, RTE_MIN(32u, t->n_slots));
	}
	for (uint32_t i = 0; i < budget; i++) {
		uint32_t s = t->sweep_pos;

		t->sweep_pos = (s + 1) & (t->n_slots - 1);
		bl_flow__expire(t, s, now);
	}
}

#endif /* BL_FLOW_WORKER_H */
