/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rx_check — the rx chain check (lib/graph/bl_mbuf_check.h): what a
 * driver could hand over, as a chain of up to 8 segments over heap buffers of
 * exactly their buf_len (so ASan sees a read past a buffer), each with its
 * own data_off, data_len and next (any segment, itself, or NULL), the head
 * with any pkt_len and nb_segs.
 *
 * Input: byte 0: segments n = 1 + b % 8; bit 7 "tidy": build a sound chain
 *   from the lengths (next = the following segment, nb_segs = n, pkt_len =
 *   the sum, data clipped to the buffer) and then apply one fault from the
 *   next byte, so the fuzzer reaches sound and nearly sound chains often.
 *   Then per segment: u16 buf_len % 4096 (at least 1), u16 data_off, u16
 *   data_len, u8 next (% (n + 1): n is NULL). Then u32 pkt_len, u16 nb_segs
 *   for the head (raw mode), or u8 fault, u32 value (tidy mode).
 *   A head that is one segment with nb_segs 1 and data_len == pkt_len is the
 *   check's fast case, which by design does not read next (DPDK keeps it NULL
 *   in every mbuf it hands out): the harness sets that next to NULL.
 * Oracles:
 *   - the check's verdict is the spec's, computed here from the indices (no
 *     pointer walk): sound iff following next from the head meets nb_segs
 *     distinct segments and then NULL, each segment's data lies in its buffer
 *     and the data_len add up to pkt_len;
 *   - a chain it accepts is read whole with rte_pktmbuf_read over pkt_len and
 *     gives the segments' bytes in order (ASan: nothing read past a buffer),
 *     and is freed with rte_pktmbuf_free;
 *   - a chain it refuses is freed with bl_mbuf_free_bad: every segment
 *     reachable from the head goes back to the pool once (the pool's count
 *     comes back to what it was, with headroom held so it cannot clamp), and
 *     every heap buffer is freed once; no other segment is touched.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_mbuf.h>

#include "bl_mbuf_check.h"
#include "fuzz.h"
#include "fuzz_eal.h"

#define MAX_SEGS 8
#define HOLD 32           /* mbufs kept out of the pool: a double free shows in its count */

struct seg {
	struct rte_mbuf_ext_shared_info sh;
	uint8_t *buf;
	unsigned int frees;   /* the buffer's free callback ran this many times */
};

static struct seg segs[MAX_SEGS];
static struct rte_mempool *pool;

static void
seg_free_cb(void *addr, void *opaque)
{
	struct seg *s = opaque;

	s->frees++;
	free(addr);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rte_mbuf *held[HOLD];

	(void)argc;
	(void)argv;
	pool = fuzz_eal();
	/* Never given back: the pool is never full, so its count shows one put too many. */
	if (rte_pktmbuf_alloc_bulk(pool, held, HOLD) != 0)
		FUZZ_FAIL("cannot hold %d mbufs", HOLD);
	return 0;
}

/* The spec, from indices: 0 or the fault. next[i] is a segment index or n (NULL). */
static enum bl_mbuf_fault
spec(unsigned int n, const unsigned int *next, struct rte_mbuf *const *m)
{
	bool seen[MAX_SEGS] = { false };
	unsigned int i = 0, k = 0, nb = m[0]->nb_segs;
	uint64_t sum = 0;

	/* bl_mbuf_check walks at most nb_segs steps and reports the first fault it meets. */
	for (k = 0; k < nb; k++) {
		if (i == n)
			return BL_MBUF_BAD_SEGS;
		if ((uint32_t)m[i]->data_off + m[i]->data_len > m[i]->buf_len)
			return BL_MBUF_BAD_BOUNDS;
		if (seen[i])
			return BL_MBUF_BAD_SEGS;     /* a loop: nb_segs steps can never end at NULL */
		seen[i] = true;
		sum += m[i]->data_len;
		i = next[i];
	}
	if (k == 0 || i != n)
		return BL_MBUF_BAD_SEGS;
	if (sum != m[0]->pkt_len)
		return BL_MBUF_BAD_LEN;
	return BL_MBUF_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t got[MAX_SEGS * 4096], want[MAX_SEGS * 4096];
	struct rte_mbuf *m[MAX_SEGS];
	unsigned int next[MAX_SEGS], n, b0, avail0 = rte_mempool_avail_count(pool);
	bool tidy, reach[MAX_SEGS] = { false };
	enum bl_mbuf_fault verdict, expect;

	b0 = fuzz_take(&data, &size, 1);
	n = 1 + b0 % MAX_SEGS;
	tidy = (b0 & 0x80) != 0;
	if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
		FUZZ_FAIL("out of mbufs: a leak?");
	for (unsigned int i = 0; i < n; i++) {
		uint16_t buf_len = (uint16_t)(fuzz_take(&data, &size, 2) % 4096);
		uint16_t off = (uint16_t)fuzz_take(&data, &size, 2);
		uint16_t len = (uint16_t)fuzz_take(&data, &size, 2);
		unsigned int nx = fuzz_take(&data, &size, 1) % (n + 1);
		struct seg *s = &segs[i];

		if (buf_len == 0)
			buf_len = 1;
		s->buf = malloc(buf_len);
		if (s->buf == NULL)
			abort();
		for (unsigned int j = 0; j < buf_len; j++)
			s->buf[j] = (uint8_t)(j * 31 + i * 7 + 1);
		s->frees = 0;
		memset(&s->sh, 0, sizeof(s->sh));
		s->sh.free_cb = seg_free_cb;
		s->sh.fcb_opaque = s;
		rte_mbuf_ext_refcnt_set(&s->sh, 1);
		rte_pktmbuf_attach_extbuf(m[i], s->buf, 0, buf_len, &s->sh);
		if (tidy) {
			off %= buf_len + 1;
			len %= buf_len - off + 1;
			nx = i + 1;
		}
		m[i]->data_off = off;
		m[i]->data_len = len;
		m[i]->pkt_len = len;
		m[i]->nb_segs = 1;
		next[i] = nx;
	}
	if (tidy) {
		uint32_t sum = 0;
		unsigned int fault = fuzz_take(&data, &size, 1), v = fuzz_take(&data, &size, 4);

		for (unsigned int i = 0; i < n; i++)
			sum += m[i]->data_len;
		m[0]->pkt_len = sum;
		m[0]->nb_segs = (uint16_t)n;
		switch (fault % 6) {
		case 1: m[0]->pkt_len = v; break;                        /* net_pcap's >64 KB frame */
		case 2: m[0]->nb_segs = (uint16_t)v; break;
		case 3: next[v % n] = (v >> 8) % (n + 1); break;         /* a loop, or a chain cut */
		case 4: m[v % n]->data_off = (uint16_t)(v >> 8); break;  /* data past its buffer */
		case 5: m[v % n]->data_len = (uint16_t)(v >> 8); break;
		default: break;                                          /* sound */
		}
	} else {
		m[0]->pkt_len = fuzz_take(&data, &size, 4);
		m[0]->nb_segs = (uint16_t)fuzz_take(&data, &size, 2);
	}
	if (m[0]->nb_segs == 1 && m[0]->data_len == m[0]->pkt_len)
		next[0] = n;         /* the fast case: next is DPDK's to keep NULL (head comment) */
	for (unsigned int i = 0; i < n; i++)
		m[i]->next = next[i] == n ? NULL : m[next[i]];

	verdict = bl_mbuf_check(m[0]);
	expect = spec(n, next, m);
	FUZZ_CHECK(verdict == expect, "bl_mbuf_check says %d, the spec %d (n %u nb_segs %u pkt_len %u)",
		   (int)verdict, (int)expect, n, m[0]->nb_segs, m[0]->pkt_len);

	/* Which segments the head reaches (and so a free of it touches). */
	for (unsigned int i = 0; i < n && !reach[i]; i = next[i])
		reach[i] = true;

	if (verdict == BL_MBUF_OK) {
		const struct rte_mbuf *s = m[0];
		uint32_t at = 0;
		const void *p;

		FUZZ_CHECK(m[0]->pkt_len <= sizeof(want), "accepted %u bytes from %u segments",
			   m[0]->pkt_len, n);
		for (unsigned int k = 0; k < m[0]->nb_segs; k++, s = s->next) {
			memcpy(want + at, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
			at += s->data_len;
		}
		FUZZ_CHECK(s == NULL && at == m[0]->pkt_len, "an accepted chain is not what it says");
		p = rte_pktmbuf_read(m[0], 0, m[0]->pkt_len, got);
		FUZZ_CHECK(m[0]->pkt_len == 0 || p != NULL, "rte_pktmbuf_read refused an accepted chain");
		FUZZ_CHECK(m[0]->pkt_len == 0 || memcmp(p, want, m[0]->pkt_len) == 0,
			   "rte_pktmbuf_read gave other bytes than the segments hold");
		rte_pktmbuf_free(m[0]);
	} else {
		bl_mbuf_free_bad(m[0]);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (reach[i]) {
			FUZZ_CHECK(segs[i].frees == 1, "segment %u (reached from the head) freed %u times",
				   i, segs[i].frees);
		} else {
			FUZZ_CHECK(segs[i].frees == 0, "segment %u (not in the chain) was freed", i);
			m[i]->next = NULL;
			m[i]->nb_segs = 1;
			rte_pktmbuf_free_seg(m[i]);
		}
	}
	FUZZ_CHECK(rte_mempool_avail_count(pool) == avail0,
		   "the pool holds %u mbufs, %u before: a segment was freed twice or not at all",
		   rte_mempool_avail_count(pool), avail0);
	return 0;
}
