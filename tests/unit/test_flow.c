/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/flow: the flow table (counts, timeouts, full table, flush) and the IPFIX encoder. No EAL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_flow.h"
#include "bl_flow_ring.h"
#include "bl_flow_worker.h"
#include "bl_ipfix.h"

#define MAXREC 300000
static struct bl_flow_rec *got;
static unsigned int n_got;

static void
emit(void *ctx, const struct bl_flow_rec *r)
{
	(void)ctx;
	cr_assert(n_got < MAXREC);
	got[n_got++] = *r;
}

static void setup(void) { got = calloc(MAXREC, sizeof(*got)); n_got = 0; }
static void teardown(void) { free(got); }
TestSuite(flow_table, .init = setup, .fini = teardown, .timeout = 60);

static struct bl_flow_table *
mk(uint32_t max, uint32_t idle_ms, uint32_t active_ms)
{
	struct bl_flow_opts o = { .max_flows = max, .idle_ms = idle_ms, .active_ms = active_ms,
				  .seed = 42, .emit = emit };
	struct bl_flow_table *t;
	struct bl_err err = { 0 };

	cr_assert(eq(int, bl_flow_create(&o, &t, &err), 0), "%s", err.msg);
	return t;
}

static struct bl_flow_pkt
pk(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint8_t proto, uint32_t len,
   uint8_t flags, uint64_t ms)
{
	struct bl_flow_pkt p = { .len = len, .tcp_flags = flags, .ms = ms };

	memcpy(p.key.src, &src, 4);
	memcpy(p.key.dst, &dst, 4);
	p.key.sport = sp;
	p.key.dport = dp;
	p.key.proto = proto;
	p.key.ipver = 4;
	return p;
}

static const struct bl_flow_rec *
find(uint32_t src, uint16_t sp)
{
	for (unsigned int i = 0; i < n_got; i++) {
		uint32_t s;
		memcpy(&s, got[i].src, 4);
		if (s == src && got[i].sport == sp)
			return &got[i];
	}
	return NULL;
}

Test(flow_table, counts_each_direction_as_its_own_flow)
{
	struct bl_flow_table *t = mk(100, 1000, 10000);
	struct bl_flow_pkt p[5] = {
		pk(1, 2, 10, 20, 6, 60, 0x02, 1000), pk(2, 1, 20, 10, 6, 60, 0x12, 1001),
		pk(1, 2, 10, 20, 6, 52, 0x10, 1002), pk(1, 2, 10, 20, 6, 1500, 0x18, 1005),
		pk(1, 2, 10, 20, 6, 52, 0x11, 1009),
	};

	bl_flow_update_burst(t, p, 5);   /* the first packet and its duplicates in one burst */
	cr_assert(eq(u64, t->st->count, 2));
	cr_assert(eq(u64, t->st->created, 2));
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(eq(u32, n_got, 2));
	const struct bl_flow_rec *a = find(1, 10), *b = find(2, 20);
	cr_assert(a != NULL && b != NULL);
	cr_assert(eq(u64, a->packets, 4));
	cr_assert(eq(u64, a->bytes, 60 + 52 + 1500 + 52));
	cr_assert(eq(u8, a->tcp_flags, 0x02 | 0x10 | 0x18 | 0x11));
	cr_assert(eq(u64, a->start_ms, 1000));
	cr_assert(eq(u64, a->end_ms, 1009));
	cr_assert(eq(u8, a->end_reason, BL_FLOW_END_FORCED));
	cr_assert(eq(u16, a->magic, BL_FLOW_REC_MAGIC));
	cr_assert(eq(u64, b->packets, 1));
	cr_assert(eq(u8, b->tcp_flags, 0x12));
	cr_assert(eq(u64, t->st->count, 0));
	cr_assert(eq(u64, t->st->flushed, 2));
	bl_flow_free(t);
}

Test(flow_table, vlan_proto_and_version_are_in_the_key)
{
	struct bl_flow_table *t = mk(100, 1000, 10000);
	struct bl_flow_pkt p[4] = { pk(1, 2, 10, 20, 6, 60, 0, 5), pk(1, 2, 10, 20, 17, 60, 0, 5),
				    pk(1, 2, 10, 20, 6, 60, 0, 5), pk(1, 2, 10, 20, 6, 60, 0, 5) };

	p[2].key.vlan = 7;
	p[3].key.ipver = 6;
	bl_flow_update_burst(t, p, 4);
	cr_assert(eq(u64, t->st->count, 4));
	bl_flow_free(t);
}

Test(flow_table, idle_timeout_ends_a_flow_by_the_sweep_and_by_its_next_packet)
{
	struct bl_flow_table *t = mk(100, 1000, 100000);
	struct bl_flow_pkt a = pk(1, 2, 10, 20, 17, 100, 0, 10000), b = pk(3, 4, 10, 20, 17, 100, 0, 10000);

	bl_flow_update_burst(t, &a, 1);
	bl_flow_update_burst(t, &b, 1);
	bl_flow_sweep(t, 10999);
	cr_assert(eq(u32, n_got, 0), "not yet idle");
	bl_flow_sweep(t, 11250);
	cr_assert(eq(u32, n_got, 2), "the whole table is swept when a quarter of idle passed");
	cr_assert(eq(u8, got[0].end_reason, BL_FLOW_END_IDLE));
	cr_assert(eq(u64, t->st->idle, 2));
	cr_assert(eq(u64, t->st->count, 0));
	/* a flow whose next packet comes after idle: the old record ends, this packet begins anew */
	a.ms = 20000;
	bl_flow_update_burst(t, &a, 1);
	a.ms = 21500;
	bl_flow_update_burst(t, &a, 1);
	cr_assert(eq(u32, n_got, 3));
	cr_assert(eq(u8, got[2].end_reason, BL_FLOW_END_IDLE));
	cr_assert(eq(u64, got[2].packets, 1));
	cr_assert(eq(u64, got[2].start_ms, 20000));
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(eq(u64, got[3].start_ms, 21500));
	bl_flow_free(t);
}

/* Past 2^32 ms (49.7 days) after the first packet the timeouts still end flows, at the
 * right times (the slots' times were clamped there: no timeout ever again). */
Test(flow_table, timeouts_go_on_past_two_to_the_32_ms)
{
	const uint64_t t0 = 1700000000000ull, step = 1000000000ull;   /* 11.6 days a step */
	struct bl_flow_table *t = mk(100, 1000, 3600000);
	struct bl_flow_pkt a = pk(1, 2, 10, 20, 17, 100, 0, t0);
	uint64_t now = t0;
	unsigned int seen = 0;

	bl_flow_update_burst(t, &a, 1);
	for (; now < t0 + (1ull << 32) + 3 * step; now += step) {   /* a packet each step */
		a.ms = now;
		bl_flow_update_burst(t, &a, 1);
		bl_flow_sweep(t, now + 500);
		cr_assert(eq(u32, n_got, seen), "at %llu: not idle yet", (unsigned long long)(now - t0));
		bl_flow_sweep(t, now + 1500);
		cr_assert(eq(u32, n_got, seen + 1), "at %llu ms: ended idle", (unsigned long long)(now - t0));
		cr_assert(eq(u8, got[seen].end_reason, BL_FLOW_END_IDLE));
		cr_assert(eq(u64, got[seen].start_ms, now), "its start, in ms since the epoch");
		cr_assert(eq(u64, got[seen].end_ms, now));
		seen++;
	}
	/* a jump past 2^31 ms ends every flow first */
	a.ms = now;
	bl_flow_update_burst(t, &a, 1);
	a.key.src[0] = 9;
	a.ms = now + (3ull << 30);
	bl_flow_update_burst(t, &a, 1);
	cr_assert(eq(u32, n_got, seen + 1), "the flow before the jump ended");
	cr_assert(eq(u64, got[seen].end_ms, now));
	bl_flow_free(t);
}

/* A slot no sweep reached while the clock moved almost 2^32 ms in steps under 2^31 (one
 * burst here): its modular age would be small again, and A a flow of 49.7 days. */
Test(flow_table, a_slot_no_sweep_reached_still_ends_past_two_to_the_32)
{
	const uint64_t t0 = 1700000000000ull;
	struct bl_flow_table *t = mk(100, 1000, 3600000);
	struct bl_flow_pkt p[4] = {   /* every step under 2^31 ms */
		pk(1, 2, 10, 20, 17, 100, 0, t0),
		pk(3, 4, 10, 20, 17, 100, 0, t0 + (1ull << 31) - 1),
		pk(5, 6, 10, 20, 17, 100, 0, t0 + (1ull << 32) - 2),
		pk(1, 2, 10, 20, 17, 100, 0, t0 + (1ull << 32) + 5),
	};
	const struct bl_flow_rec *a;

	bl_flow_update_burst(t, p, 4);
	a = find(1, 10);
	cr_assert(a != NULL, "A ended idle as the clock passed it");
	cr_assert(eq(u64, a->packets, 1), "A of its first packet only");
	cr_assert(eq(u64, a->start_ms, t0));
	cr_assert(eq(u64, a->end_ms, t0));
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(eq(u32, n_got, 4), "A, B, C and A again");
	bl_flow_free(t);
}

Test(flow_table, active_timeout_exports_and_goes_on)
{
	struct bl_flow_table *t = mk(100, 5000, 3000);
	uint64_t total = 0;

	for (uint64_t ms = 0; ms <= 10000; ms += 500) {
		struct bl_flow_pkt a = pk(1, 2, 10, 20, 17, 100, 0, 1000000 + ms);
		bl_flow_update_burst(t, &a, 1);
		bl_flow_sweep(t, 0);
	}
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(n_got >= 3, "active_ms 3000 over 10 s: %u records", n_got);
	for (unsigned int i = 0; i < n_got; i++) {
		total += got[i].packets;
		cr_assert(got[i].end_ms - got[i].start_ms < 3000);
		if (i + 1 < n_got)
			cr_assert(eq(u8, got[i].end_reason, BL_FLOW_END_ACTIVE));
	}
	cr_assert(eq(u64, total, 21), "no packet lost or counted twice across records");
	bl_flow_free(t);
}

/* A flow whose count reaches 2^32 - 1 ends its record and the next packet begins a new
 * one, counted in created; the record that goes on is never one of 0 packets (it was:
 * the slot was emptied in place after the packet, uncounted). */
Test(flow_table, a_count_at_its_limit_ends_the_record_and_the_packet_begins_the_next)
{
	struct bl_flow_table *t = mk(100, 100000, 1000000);
	struct bl_flow_pkt a = pk(1, 2, 10, 20, 17, 100, 0, 1000);
	uint32_t s;

	bl_flow_update_burst(t, &a, 1);
	for (s = 0; s < t->n_slots && t->sig[s] == 0; s++)
		;
	cr_assert(s < t->n_slots);
	t->ent[s].packets = UINT32_MAX - 2;       /* as if 2^32 - 3 packets had come */
	a.ms = 1001;
	bl_flow_update_burst(t, &a, 1);           /* 2^32 - 2 */
	cr_assert(eq(u32, n_got, 0));
	a.ms = 1002;
	bl_flow_update_burst(t, &a, 1);           /* would be 2^32 - 1: a new record */
	cr_assert(eq(u32, n_got, 1));
	cr_assert(eq(u64, got[0].packets, UINT32_MAX - 1));
	cr_assert(eq(u8, got[0].end_reason, BL_FLOW_END_ACTIVE));
	cr_assert(eq(u64, t->st->created, 2));
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(eq(u32, n_got, 2));
	cr_assert(eq(u64, got[1].packets, 1));
	cr_assert(eq(u64, got[1].bytes, 100));
	cr_assert(eq(u64, got[1].start_ms, 1002));
	bl_flow_free(t);
}

Test(flow_table, full_table_exports_the_least_recently_seen_early)
{
	struct bl_flow_table *t = mk(4, 100000, 100000);

	for (uint32_t i = 0; i < 4; i++) {
		struct bl_flow_pkt a = pk(100 + i, 2, 10, 20, 17, 100, 0, 1000 + i);
		bl_flow_update_burst(t, &a, 1);
	}
	/* refresh 100, so 101 is the least recently seen */
	struct bl_flow_pkt r = pk(100, 2, 10, 20, 17, 100, 0, 2000);
	bl_flow_update_burst(t, &r, 1);
	struct bl_flow_pkt n = pk(200, 2, 10, 20, 17, 100, 0, 3000);
	bl_flow_update_burst(t, &n, 1);
	cr_assert(eq(u64, t->st->count, 4));
	cr_assert(eq(u64, t->st->evicted, 1));
	cr_assert(eq(u32, n_got, 1));
	uint32_t s;
	memcpy(&s, got[0].src, 4);
	cr_assert(eq(u32, s, 101));
	cr_assert(eq(u8, got[0].end_reason, BL_FLOW_END_RESOURCE));
	bl_flow_free(t);
}

/* 200k flows in a table for 200k: every one kept, counted right, none evicted. */
Test(flow_table, many_flows_fill_the_table_without_eviction)
{
	const uint32_t nf = 200000;
	struct bl_flow_table *t = mk(nf, 100000, 100000);
	struct bl_flow_pkt *p = calloc(256, sizeof(*p));

	for (unsigned int round = 0; round < 3; round++)
		for (uint32_t i = 0; i < nf; i += 256) {
			unsigned int k = 0;
			for (uint32_t j = i; j < i + 256 && j < nf; j++)
				p[k++] = pk(0x0a000000u + j, 7, (uint16_t)j, 80, 6, 40 + round, 1u << round,
					    5000 + round);
			bl_flow_update_burst(t, p, k);
		}
	cr_assert(eq(u64, t->st->count, nf), "count %lu", (unsigned long)t->st->count);
	cr_assert(eq(u64, t->st->evicted, 0), "evicted %lu", (unsigned long)t->st->evicted);
	bl_flow_flush(t, BL_FLOW_END_FORCED);
	cr_assert(eq(u32, n_got, nf));
	for (unsigned int i = 0; i < n_got; i++) {
		cr_assert(eq(u64, got[i].packets, 3));
		cr_assert(eq(u64, got[i].bytes, 40 + 41 + 42));
		cr_assert(eq(u8, got[i].tcp_flags, 7));
	}
	free(p);
	bl_flow_free(t);
}

Test(flow_table, rejects_bad_options_by_name)
{
	struct bl_flow_opts o = { .max_flows = 0, .idle_ms = 1, .active_ms = 1, .emit = emit };
	struct bl_flow_table *t;
	struct bl_err err = { 0 };

	cr_assert(eq(int, bl_flow_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "max_flows") != NULL, "%s", err.msg);
	o.max_flows = 10;
	o.idle_ms = 0;
	cr_assert(eq(int, bl_flow_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "idle_s") != NULL, "%s", err.msg);
}

Test(flow_table, ring_is_fifo_and_refuses_when_full)
{
	struct bl_flow_ring r;
	struct bl_flow_rec a = { .packets = 0 }, out[8];

	cr_assert(eq(int, bl_flow_ring_init(&r, 3), -EINVAL));
	cr_assert(eq(int, bl_flow_ring_init(&r, 4), 0));
	for (unsigned int i = 0; i < 4; i++) {
		a.packets = i;
		cr_assert(eq(int, bl_flow_ring_put(&r, &a), 1));
	}
	cr_assert(eq(int, bl_flow_ring_put(&r, &a), 0));
	cr_assert(eq(u32, bl_flow_ring_get(&r, out, 3), 3));
	cr_assert(eq(u64, out[2].packets, 2));
	cr_assert(eq(int, bl_flow_ring_put(&r, &a), 1));
	cr_assert(eq(u32, bl_flow_ring_get(&r, out, 8), 2));
	cr_assert(eq(u64, out[0].packets, 3));
	bl_flow_ring_fini(&r);
}

/* ---- IPFIX ---- */

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static uint64_t g64(const uint8_t *p) { return (uint64_t)g32(p) << 32 | g32(p + 4); }

Test(ipfix, message_with_templates_and_records)
{
	static struct bl_ipfix x;
	struct bl_flow_rec r4 = { .ipver = 4, .proto = 6, .tcp_flags = 0x1b, .end_reason = 1,
				  .sport = 1234, .dport = 80, .vlan = 5, .packets = 7, .bytes = 999,
				  .start_ms = 1700000000123ull, .end_ms = 1700000001456ull };
	struct bl_flow_rec r6 = r4;
	uint32_t len;
	const uint8_t *p;

	r4.src[0] = 10, r4.src[3] = 1, r4.dst[0] = 192, r4.dst[3] = 2;
	r6.ipver = 6;
	r6.src[0] = 0x20, r6.src[15] = 1;
	bl_ipfix_init(&x, 77, 1400);
	bl_ipfix_begin(&x, 1700000002);
	bl_ipfix_add_templates(&x);
	cr_assert(eq(int, bl_ipfix_add(&x, &r4), 0));
	cr_assert(eq(int, bl_ipfix_add(&x, &r4), 0));
	cr_assert(eq(int, bl_ipfix_add(&x, &r6), 0));
	len = bl_ipfix_finish(&x);
	p = x.buf;
	cr_assert(eq(u16, g16(p), 10));
	cr_assert(eq(u16, g16(p + 2), len));
	cr_assert(eq(u32, g32(p + 4), 1700000002));
	cr_assert(eq(u32, g32(p + 8), 0));
	cr_assert(eq(u32, g32(p + 12), 77));
	/* template set: id 2, two templates of 12 fields */
	p += 16;
	cr_assert(eq(u16, g16(p), 2));
	uint16_t tlen = g16(p + 2);
	cr_assert(eq(u16, tlen, 4 + 2 * (4 + 12 * 4)));
	cr_assert(eq(u16, g16(p + 4), 256));
	cr_assert(eq(u16, g16(p + 6), 12));
	cr_assert(eq(u16, g16(p + 8), 8));   /* sourceIPv4Address */
	p += tlen;
	/* data set 256: two records of 49 bytes */
	cr_assert(eq(u16, g16(p), 256));
	cr_assert(eq(u16, g16(p + 2), 4 + 2 * 49));
	const uint8_t *d = p + 4;
	cr_assert(eq(u8, d[0], 10));
	cr_assert(eq(u8, d[7], 2));
	cr_assert(eq(u16, g16(d + 8), 1234));
	cr_assert(eq(u16, g16(d + 10), 80));
	cr_assert(eq(u8, d[12], 6));
	cr_assert(eq(u8, d[13], 0x1b));
	cr_assert(eq(u16, g16(d + 14), 5));
	cr_assert(eq(u64, g64(d + 16), 999));
	cr_assert(eq(u64, g64(d + 24), 7));
	cr_assert(eq(u64, g64(d + 32), 1700000000123ull));
	cr_assert(eq(u64, g64(d + 40), 1700000001456ull));
	cr_assert(eq(u8, d[48], 1));
	p += 4 + 2 * 49;
	cr_assert(eq(u16, g16(p), 257));
	cr_assert(eq(u16, g16(p + 2), 4 + 73));
	cr_assert(eq(u8, p[4], 0x20));
	cr_assert(eq(u64, (uint64_t)(p + 4 + 73 - x.buf), len));
	/* the next message's sequence number counts the 3 records */
	bl_ipfix_begin(&x, 1);
	cr_assert(eq(u32, g32(x.buf + 8), 3));
}

Test(ipfix, a_full_message_says_so_and_never_passes_the_mtu)
{
	static struct bl_ipfix x;
	struct bl_flow_rec r = { .ipver = 6 }, bad = { .ipver = 0 };
	unsigned int n = 0;

	bl_ipfix_init(&x, 1, 512);
	bl_ipfix_begin(&x, 1);
	cr_assert(eq(int, bl_ipfix_add(&x, &bad), -EINVAL));
	while (bl_ipfix_add(&x, &r) == 0)
		n++;
	cr_assert(eq(u32, n, (512 - 16 - 4) / 73));
	cr_assert(le(u32, bl_ipfix_finish(&x), 512));
}
