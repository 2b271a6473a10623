/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inject streams (lib/stream/bl_inject.h): a client writer's descriptors are
 * never trusted. The checks alone against every kind of garbage (check_*), then
 * the consumer (bl_inject_poll) against a writer that writes garbage into every
 * field it can reach, in a loop: what it accepts lies inside the region and is
 * the writer's bytes, what it refuses is counted, no mbuf leaks. Also: the
 * kernel holds the writer to its side (the tail page cannot be mapped writable,
 * the region cannot be resized), one writer at a time, and a closed writer's
 * region is reclaimed for the next.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <rte_mbuf.h>

#include "bl_inject_worker.h"
#include "harness.h"

/* One suite: with two in this binary, LeakSanitizer reported 48 bytes libcriterion allocated. */
static void
setup(void)
{
	harness_eal();
}

TestSuite(inject, .init = setup, .timeout = 60);

/* ---- the checks alone ---- */

Test(inject, check_each_reason)
{
	const struct bl_inject_geom g = { .capacity = 8, .max_frame = 128 };
	struct { struct bl_wring_desc d; uint64_t pos; enum bl_inject_verdict v; } t[] = {
		{ { 5, 5 * 128, 60 }, 5, BL_INJECT_OK },
		{ { 13, 5 * 128, 128 }, 13, BL_INJECT_OK },          /* second lap, full buffer */
		{ { 5, 5 * 128, 129 }, 5, BL_INJECT_TOO_LONG },
		{ { 5, 5 * 128, 0xffffffffu }, 5, BL_INJECT_TOO_LONG },
		{ { 5, 5 * 128, 0 }, 5, BL_INJECT_EMPTY },
		{ { 5, 8 * 128, 60 }, 5, BL_INJECT_BAD_OFFSET },     /* one past the data area */
		{ { 5, 0xffffff80u, 60 }, 5, BL_INJECT_BAD_OFFSET },
		{ { 5, 5 * 128 + 1, 60 }, 5, BL_INJECT_BAD_OFFSET }, /* inside a buffer */
		{ { 5, 4 * 128, 60 }, 5, BL_INJECT_REUSED },         /* the buffer of seq 4 */
		{ { 4, 4 * 128, 60 }, 5, BL_INJECT_REUSED },         /* seq 4 committed again */
		{ { 6, 6 * 128, 60 }, 5, BL_INJECT_NOT_GOT },        /* a seq not handed out yet */
		{ { UINT64_MAX, 5 * 128, 60 }, 5, BL_INJECT_NOT_GOT },
		{ { 0, 0, 60 }, 1ull << 40, BL_INJECT_REUSED },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect(eq(int, bl_inject_check(&g, &t[i].d, t[i].pos), t[i].v), "case %zu", i);
}

/* Garbage in every field: whatever is accepted is the one buffer that goes with pos. */
Test(inject, check_garbage_is_never_accepted_outside_its_buffer)
{
	const struct bl_inject_geom g = { .capacity = 64, .max_frame = 2048 };
	unsigned int ok = 0;

	srand(1);
	for (unsigned int i = 0; i < 2000000; i++) {
		uint64_t pos = ((uint64_t)rand() << 20) ^ (uint64_t)rand();
		int r = rand();
		struct bl_wring_desc d = {
			.seq = (r & 3) == 0 ? pos : ((uint64_t)rand() << 32) ^ (uint64_t)rand(),
			.off = (r & 12) == 0 ? (uint32_t)(pos & 63) * 2048 : (uint32_t)rand() * 7u,
			.len = (r & 16) ? (uint32_t)rand() % 4096 : (uint32_t)rand(),
		};

		if (bl_inject_check(&g, &d, pos) != BL_INJECT_OK)
			continue;
		ok++;
		cr_assert(d.seq == pos && d.off == (pos & 63) * 2048 && d.len >= 1 && d.len <= 2048);
	}
	cr_assert(ok > 1000, "some of the garbage was well formed (%u)", ok);
}

/* ---- the stream, its writer's region, the consumer ---- */

static uint64_t tick_ns = 1000000000u;   /* the main lcore's clock, made up */

static struct bl_inject *
make_zc(const char *name, mode_t mode, int zero_copy)
{
	struct bl_inject_opts o = { .sz = sizeof(o), .name = name, .capacity = 16,
		.max_frame = 256, .uid = geteuid(), .gid = getegid(), .mode = mode,
		.zero_copy = zero_copy };
	struct bl_inject *s = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_inject_create(&o, &s, &err), 0), "%s", err.msg);
	return s;
}

static struct bl_inject *
make(const char *name, mode_t mode)
{
	return make_zc(name, mode, 0);
}

static struct bl_stream_cred
me(void)
{
	struct bl_stream_cred who = { .uid = geteuid(), .gid = getegid(), .pid = getpid() };

	return who;
}

/* The writer's side of a grant: its region read-write. */
struct wside {
	uint8_t *p;
	size_t size;
	struct bl_wring_hdr *h;
	struct bl_wring_desc *d;
	uint8_t *data;
	const struct bl_wring_tail *t;
};

static void
writer_map(const struct bl_inject_grant *g, struct wside *w)
{
	struct stat st;

	cr_assert(eq(int, fstat(g->fd[0], &st), 0));
	w->size = (size_t)st.st_size;
	w->p = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd[0], 0);
	cr_assert(w->p != MAP_FAILED);
	w->h = (struct bl_wring_hdr *)w->p;
	cr_assert(eq(u64, w->h->magic, BL_WRING_MAGIC));
	w->d = (struct bl_wring_desc *)(w->p + w->h->off_desc);
	w->data = w->p + w->h->off_data;
	w->t = mmap(NULL, BL_SHM_META_PAGE, PROT_READ, MAP_SHARED, g->fd[1], 0);
	cr_assert(w->t != MAP_FAILED);
}

static void
commit(struct wside *w, uint64_t seq, const void *bytes, uint32_t len)
{
	uint32_t b = (uint32_t)(seq & (w->h->capacity - 1));

	memcpy(w->data + (size_t)b * w->h->max_frame, bytes, len);
	w->d[b] = (struct bl_wring_desc){ .seq = seq, .off = b * w->h->max_frame, .len = len };
	__atomic_store_n(&w->h->head, seq + 1, __ATOMIC_RELEASE);
}

static uint64_t
refused(const struct bl_inject *s)
{
	uint64_t n = s->c.bad_head;

	for (unsigned int v = 1; v < BL_INJECT_N_VERDICTS; v++)
		n += s->c.v[v];
	return n;
}

Test(inject, the_kernel_holds_the_writer_to_its_side)
{
	struct bl_inject *s = make("k", 0600);
	struct bl_stream_cred who = me();
	struct bl_inject_grant g;
	struct bl_err err;
	void *p;

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, g.fd[1], 0);
	cr_assert(p == MAP_FAILED && errno == EPERM, "the tail page is read-only for the writer");
	cr_assert(write(g.fd[1], "x", 1) < 0, "nor may it write() it");
	cr_assert(ftruncate(g.fd[0], 4096) < 0 && errno == EPERM, "the region cannot shrink");
	cr_assert(ftruncate(g.fd[0], 1 << 30) < 0 && errno == EPERM, "nor grow");
	/* The appliance's own mapping of the region is read-only. */
	cr_assert(eq(int, mprotect((void *)(uintptr_t)s->wr->ring, 4096, PROT_READ | PROT_WRITE),
		     -1), "the appliance keeps no writable view of the writer's region");
	bl_inject_grant_close(&g);
	bl_inject_release(s);
}

static void
byte_for_byte(int zc)
{
	struct bl_inject *s = make_zc(zc ? "fz" : "f", 0600, zc);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	unsigned int free0 = harness_pool_free();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256];
	uint64_t seq = 0, got = 0;

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	for (unsigned int round = 0; round < 100; round++) {
		unsigned int k = 1 + round % 16;

		for (unsigned int i = 0; i < k; i++, seq++) {
			memset(frame, (int)(seq & 0xff), sizeof(frame));
			commit(&w, seq, frame, 60 + (uint32_t)(seq % 197));
		}
		while (got < seq) {
			uint16_t n = bl_inject_poll(s, mp, out, 32);

			cr_assert(n > 0);
			for (uint16_t i = 0; i < n; i++, got++) {
				cr_assert(eq(u32, out[i]->pkt_len, 60 + (uint32_t)(got % 197)));
				const uint8_t *b = rte_pktmbuf_mtod(out[i], const uint8_t *);

				cr_assert(b[59] == (got & 0xff));
				/* zero copy: the writer's own buffer; else the mbuf's */
				cr_assert(eq(int, b >= s->wr->data && b < s->wr->data + 16 * 256, zc));
			}
			rte_pktmbuf_free_bulk(out, n);
		}
		cr_assert(eq(int, bl_inject_poll(s, mp, out, 0), 0));   /* zero copy: sees them freed */
		cr_assert(eq(u64, w.t->tail, seq), "the tail gives the buffers back");
	}
	cr_assert(eq(u64, s->c.v[BL_INJECT_OK], seq));
	cr_assert(eq(u64, refused(s), 0));
	cr_assert(eq(u64, s->c.zero_copy, zc ? seq : 0));
	cr_assert(eq(u64, s->c.copied, zc ? 0 : seq));
	cr_assert(eq(u64, s->tot->v[BL_INJECT_OK], seq), "the totals too");
	cr_assert(eq(u64, s->c.held, 0));
	cr_assert(eq(u32, harness_pool_free(), free0), "no mbuf leaked");
	bl_inject_grant_close(&g);
	bl_inject_release(s);
}

Test(inject, frames_come_out_byte_for_byte_in_order_copied)
{
	byte_for_byte(0);
}

Test(inject, frames_come_out_byte_for_byte_in_order_zero_copy)
{
	byte_for_byte(1);
}

/* Zero copy: a buffer an mbuf points at is not the writer's until that mbuf is
 * freed, whatever order the mbufs go in; a writer that commits one anyway is
 * refused (bad_head) and nothing is attached twice. */
Test(inject, zero_copy_buffers_go_back_only_when_their_mbuf_is_freed)
{
	struct bl_inject *s = make_zc("zh", 0600, 1);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	unsigned int free0 = harness_pool_free();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256];

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 16; q++) {
		memset(frame, (int)q, sizeof(frame));
		commit(&w, q, frame, 64 + (uint32_t)q);
	}
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 16));
	cr_assert(eq(u64, s->c.held, 16));
	cr_assert(eq(u64, w.t->tail, 0), "every buffer is held: none is the writer's");
	/* A writer that commits over a held buffer: refused, and the mbuf still has its bytes. */
	memset(frame, 0xee, sizeof(frame));
	w.d[0] = (struct bl_wring_desc){ .seq = 16, .off = 0, .len = 64 };
	__atomic_store_n(&w.h->head, 17, __ATOMIC_RELEASE);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0));
	cr_assert(eq(u64, s->c.bad_head, 1));
	cr_assert(eq(u32, rte_pktmbuf_data_len(out[0]), 64));
	/* Nor with a head behind the tail (but not behind the first held buffer). */
	__atomic_store_n(&w.h->head, 8, __ATOMIC_RELEASE);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0), "a held buffer attached twice");
	cr_assert(eq(u64, s->c.bad_head, 2));
	cr_assert(eq(u64, s->c.held, 16));
	__atomic_store_n(&w.h->head, 16, __ATOMIC_RELEASE);
	/* Freed out of order: the tail moves over a prefix of freed slots only. */
	rte_pktmbuf_free(out[2]);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0));
	cr_assert(eq(u64, w.t->tail, 0));
	rte_pktmbuf_free(out[0]);
	rte_pktmbuf_free(out[1]);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0));
	cr_assert(eq(u64, w.t->tail, 3));
	cr_assert(eq(u64, s->c.held, 13));
	/* A clone (tee) holds it too: the slot goes back when both are freed. */
	struct rte_mbuf *c = rte_pktmbuf_clone(out[3], mp);

	cr_assert(c != NULL);
	rte_pktmbuf_free(out[3]);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0));
	cr_assert(eq(u64, w.t->tail, 3), "the clone still points at buffer 3");
	cr_assert(eq(u8, rte_pktmbuf_mtod(c, const uint8_t *)[0], 3));
	rte_pktmbuf_free(c);
	rte_pktmbuf_free_bulk(out + 4, 12);
	cr_assert(eq(int, bl_inject_poll(s, mp, out + 16, 16), 0));
	cr_assert(eq(u64, w.t->tail, 16));
	cr_assert(eq(u64, s->c.held, 0));
	cr_assert(eq(u64, s->c.zero_copy, 16));
	cr_assert(eq(u32, harness_pool_free(), free0), "no mbuf leaked");
	bl_inject_grant_close(&g);
	bl_inject_release(s);
}

/* A writer gone while mbufs still point into its region: the region stays mapped
 * (the mbufs' bytes intact) until the last is freed, then bl_inject_reap unmaps it;
 * the stream takes a new writer meanwhile. */
Test(inject, a_gone_writers_region_outlives_its_last_mbuf)
{
	struct bl_inject *s = make_zc("zo", 0600, 1);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	unsigned int free0 = harness_pool_free();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256];

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 8; q++) {
		memset(frame, 0x40 + (int)q, sizeof(frame));
		commit(&w, q, frame, 200);
	}
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 8));
	rte_pktmbuf_free(out[0]);
	/* The writer dies: its fds and mapping go, its lease ends. */
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	munmap((void *)(uintptr_t)w.t, BL_SHM_META_PAGE);
	bl_inject_close_write(s);
	cr_assert(eq(uint, s->orphans, 1));
	cr_assert(eq(u64, s->tot->orphaned, 1));
	cr_assert(eq(u64, s->c.held, 0), "held is the current writer's; the gone one's is an orphan");
	cr_assert(eq(u64, s->tot->reclaimed, 0), "it had committed nothing unread");
	bl_inject_reap();
	cr_assert(eq(uint, s->orphans, 1), "7 mbufs still point into it");
	for (unsigned int i = 1; i < 8; i++)
		cr_assert(eq(u8, rte_pktmbuf_mtod(out[i], const uint8_t *)[199], 0x40 + i));
	/* A new writer meanwhile. */
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t2", 0, &g, &err), 0), "%s", err.msg);
	rte_pktmbuf_free_bulk(out + 1, 6);
	bl_inject_reap();
	cr_assert(eq(uint, s->orphans, 1));
	rte_pktmbuf_free(out[7]);
	bl_inject_reap();
	cr_assert(eq(uint, s->orphans, 0), "unmapped once the last mbuf went");
	cr_assert(eq(u32, harness_pool_free(), free0), "no mbuf leaked");
	bl_inject_grant_close(&g);
	bl_inject_release(s);
	/* Released with an orphan still held: the orphan outlives its stream. */
	s = make_zc("zo2", 0600, 1);
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	commit(&w, 0, frame, 100);
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 1));
	bl_inject_grant_close(&g);
	bl_inject_release(s);
	cr_assert(eq(u8, rte_pktmbuf_mtod(out[0], const uint8_t *)[99], 0x47));
	rte_pktmbuf_free(out[0]);
	bl_inject_reap();
	bl_inject_reap_all();
	munmap(w.p, w.size);
	munmap((void *)(uintptr_t)w.t, BL_SHM_META_PAGE);
	cr_assert(eq(u32, harness_pool_free(), free0), "no mbuf leaked");
}

/* A writer that writes garbage in every field it can reach, in a loop: the
 * appliance reads only inside the region, counts every refusal, leaks nothing,
 * and an honest writer after it is served as if nothing happened. */
static void
hostile(int zc)
{
	struct bl_inject *s = make_zc(zc ? "hz" : "h", 0600, zc);
	struct rte_mbuf *keep[16];
	unsigned int n_keep = 0;
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	unsigned int free0 = harness_pool_free();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint64_t accepted = 0, before;
	uint8_t frame[256];

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 1, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	/* Its wake channel made blocking and never drained: our signals must not block. */
	cr_assert(eq(int, fcntl(g.fd[2], F_SETFL, fcntl(g.fd[2], F_GETFL) & ~O_NONBLOCK), 0));
	signal(SIGPIPE, SIG_IGN);              /* a write to it only hurts the writer */
	(void)!write(g.fd[2], &(uint64_t){ 0xfffffffffffffffeull }, 8);   /* an eventfd's max */
	srand(7);
	for (unsigned int i = 0; i < 200000; i++) {
		unsigned int slot = (unsigned int)rand() & 15;
		uint64_t tail = w.t->tail;

		switch (rand() % 6) {
		case 0:  /* garbage head */
			w.h->head = ((uint64_t)rand() << 33) ^ (uint64_t)rand();
			break;
		case 1:  /* a head a little ahead, descriptors as they are */
			w.h->head = tail + 1 + (uint64_t)(rand() % 16);
			break;
		default: /* garbage descriptor fields, sometimes nearly right */
			w.d[slot].seq = rand() & 1 ? tail + (uint64_t)(rand() % 3) - 1 :
				((uint64_t)rand() << 32) ^ (uint64_t)rand();
			w.d[slot].off = rand() & 1 ? slot * 256u : (uint32_t)rand();
			w.d[slot].len = rand() & 1 ? (uint32_t)(rand() % 300) : (uint32_t)rand();
			w.h->pad = (uint32_t)rand();                  /* the header too */
			w.h->wait = rand() & 1 ? tail + (uint64_t)(rand() % 20) :   /* wakeups */
				((uint64_t)rand() << 33) ^ (uint64_t)rand();
			w.h->capacity = (uint32_t)rand();
			w.h->max_frame = (uint32_t)rand();
			break;
		}
		uint16_t n = bl_inject_poll(s, mp, out, 32);

		bl_inject_wake_tick(tick_ns += 100000u);   /* a tick every 100 us */
		for (uint16_t k = 0; k < n; k++) {
			const uint8_t *b = rte_pktmbuf_mtod(out[k], const uint8_t *);

			cr_assert(out[k]->pkt_len >= 1 && out[k]->pkt_len <= 256);
			if (zc)   /* inside the data area, in a buffer of its own */
				cr_assert(b >= s->wr->data && b + out[k]->pkt_len <= s->wr->data +
					  16 * 256 && (size_t)(b - s->wr->data) % 256 == 0);
		}
		accepted += n;
		/* Zero copy: some mbufs live on a while (freed in random order). */
		for (uint16_t k = 0; k < n; k++) {
			if (n_keep == 16 || rand() % 2 == 0) {
				rte_pktmbuf_free(out[k]);
				continue;
			}
			keep[n_keep++] = out[k];
		}
		if (n_keep != 0 && rand() % 4 == 0) {
			unsigned int x = (unsigned int)rand() % n_keep;

			rte_pktmbuf_free(keep[x]);
			keep[x] = keep[--n_keep];
		}
	}
	rte_pktmbuf_free_bulk(keep, n_keep);
	bl_inject_poll(s, mp, out, 0);   /* the tail moves over the last freed */
	cr_assert(eq(u64, s->c.v[BL_INJECT_OK], accepted));
	cr_assert(gt(u64, refused(s), 1000), "the garbage was counted");
	cr_assert(eq(u64, s->c.held, 0));
	cr_assert(eq(u64, s->c.v[BL_INJECT_OK] + refused(s) - s->c.bad_head, w.t->tail),
		  "every descriptor read was either accepted or refused");
	cr_assert(eq(u64, w.t->refused, refused(s) - s->c.bad_head), "the writer sees its refusals");
	cr_assert(gt(u64, s->c.v[BL_INJECT_BAD_OFFSET], 0));
	cr_assert(gt(u64, s->c.v[BL_INJECT_TOO_LONG], 0));
	cr_assert(gt(u64, s->c.v[BL_INJECT_REUSED], 0));
	cr_assert(gt(u64, s->c.v[BL_INJECT_NOT_GOT], 0));
	cr_assert(gt(u64, s->c.bad_head, 0));
	cr_assert(eq(u32, harness_pool_free(), free0), "no mbuf leaked");
	/* A lying wait costs the writer wakeups: the worker's at most one per half a ring
	 * given back, the tick's at most one a millisecond (20 s of ticks here). */
	cr_assert(gt(u64, s->c.wakeups, 0));
	cr_assert(le(u64, s->c.wakeups, w.t->tail / 8 + 1 + 20000 + 1), "%" PRIu64 " wakeups for %"
		  PRIu64 " buffers given back", s->c.wakeups, w.t->tail);

	/* The writer goes; an honest one comes and is served. */
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	bl_inject_close_write(s);
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t2", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	before = s->c.v[BL_INJECT_OK];
	cr_assert(eq(u64, before, 0), "counters are the current writer's");
	memset(frame, 0xab, sizeof(frame));
	for (uint64_t q = 0; q < 10; q++)
		commit(&w, q, frame, 100);
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 10));
	rte_pktmbuf_free_bulk(out, 10);
	cr_assert(eq(u64, refused(s), 0));
	bl_inject_grant_close(&g);
	bl_inject_release(s);
	cr_assert(eq(u32, harness_pool_free(), free0));
}

Test(inject, a_hostile_writer_is_counted_and_harmless)
{
	hostile(0);
}

Test(inject, a_hostile_writer_is_counted_and_harmless_zero_copy)
{
	hostile(1);
}

/* Did the appliance signal the writer's wake eventfd (g.fd[2]) since the last look? */
static int
signalled(const struct bl_inject_grant *g)
{
	char b[64];
	int got = 0;

	while (recv(g->fd[2], b, sizeof(b), MSG_DONTWAIT) > 0)
		got = 1;
	return got;
}

/* A writer that sleeps for its buffers: asked for at open, the wake eventfd is the
 * grant's third descriptor; the worker signals it once the tail reaches the writer's
 * wait, once per wait, and only once half the ring came back since it last did. */
Test(inject, a_sleeping_writer_is_woken_once_half_its_buffers_are_back)
{
	struct bl_inject *s = make("wk", 0600);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256] = { 0 };
	cJSON *j;

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 1, &g, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, g.n_fds, 3));
	cr_assert(eq(str, (char *)g.fd_name[2], BL_CTL_FD_WAKE));
	j = bl_inject_grant_json(s, &g);
	cr_assert(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(j, "fds")), 3), "the reply names it");
	cJSON_Delete(j);
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 16; q++)
		commit(&w, q, frame, 64);
	w.h->wait = 8 + 1;   /* full: wake me once 8 are back */
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 4), 4));
	rte_pktmbuf_free_bulk(out, 4);
	cr_assert(signalled(&g) == 0, "4 back: not yet");
	cr_assert(eq(int, bl_inject_wake_tick(tick_ns += 2000000u), 1), "the tick counts it asleep, and leaves it");
	cr_assert(signalled(&g) == 0);
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 4), 4));
	rte_pktmbuf_free_bulk(out, 4);
	cr_assert(signalled(&g), "8 back: woken");
	cr_assert(eq(u64, s->c.wakeups, 1));
	cr_assert(eq(u64, s->tot->wakeups, 1));
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 4), 4));
	rte_pktmbuf_free_bulk(out, 4);
	cr_assert(signalled(&g) == 0, "once per wait");
	cr_assert(eq(int, bl_inject_wake_tick(tick_ns += 2000000u), 0), "nor does the tick signal it again");
	cr_assert(signalled(&g) == 0);
	/* A wait the worker leaves (fewer than half back since it signalled: a flush's),
	 * or one it missed: the tick's. */
	w.h->wait = 14 + 1;
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 2), 2));
	rte_pktmbuf_free_bulk(out, 2);
	cr_assert(signalled(&g) == 0, "6 back since the last signal: the worker leaves it");
	cr_assert(eq(int, bl_inject_wake_tick(tick_ns += 2000000u), 0));
	cr_assert(signalled(&g), "the tick wakes it");
	cr_assert(eq(u64, s->c.wakeups, 2));
	cr_assert(eq(int, bl_inject_wake_tick(tick_ns += 2000000u), 0));
	cr_assert(signalled(&g) == 0, "once");
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 4), 2));
	rte_pktmbuf_free_bulk(out, 2);
	/* Without asking, no descriptor and no signal. */
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	bl_inject_close_write(s);
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, g.n_fds, 2));
	cr_assert(eq(int, g.fd[2], -1));
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 16; q++)
		commit(&w, q, frame, 64);
	w.h->wait = 1;
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 16));
	rte_pktmbuf_free_bulk(out, 16);
	cr_assert(eq(int, bl_inject_wake_tick(tick_ns += 2000000u), 0));
	cr_assert(eq(u64, s->c.wakeups, 0));
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	bl_inject_release(s);
}

Test(inject, one_writer_at_a_time_and_write_permission)
{
	struct bl_inject *s = make("one", 0600), *r = make("ro", 0644);
	struct bl_stream_cred who = me(), other = { .uid = 4242, .gid = 4242, .pid = 1 };
	struct bl_inject_grant g, g2;
	struct bl_err err;
	char want[96];

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g2, &err), -EBUSY));
	snprintf(want, sizeof(want), "stream one already has a writer (pid %d)", (int)getpid());
	cr_assert(eq(str, err.msg, want));
	cr_assert(g2.fd[0] == -1 && g2.fd[1] == -1, "nothing handed out");
	bl_inject_close_write(s);   /* the lease ends: the next writer may come */
	bl_inject_grant_close(&g);
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	bl_inject_grant_close(&g);
	if (geteuid() != 4242) {
		cr_assert(eq(int, bl_inject_open_write(r, &other, "t", 0, &g, &err), -EACCES));
		cr_assert(strstr(err.msg, "may not write ro") != NULL, "%s", err.msg);
	}
	bl_inject_release(s);
	bl_inject_release(r);
}

Test(inject, bad_arguments_name_their_key)
{
	struct bl_inject_opts o = { .sz = sizeof(o), .name = "x", .capacity = 12, .max_frame = 256 };
	struct bl_inject *s;
	struct bl_err err;

	cr_assert(eq(int, bl_inject_create(&o, &s, &err), -EINVAL));
	cr_assert(strncmp(err.msg, "capacity:", 9) == 0, "%s", err.msg);
	o.capacity = 16;
	o.max_frame = 10;
	cr_assert(eq(int, bl_inject_create(&o, &s, &err), -EINVAL));
	cr_assert(strncmp(err.msg, "max_frame:", 10) == 0, "%s", err.msg);
	o.max_frame = 256;
	o.name = "..";
	cr_assert(eq(int, bl_inject_create(&o, &s, &err), -EINVAL));
	cr_assert(strncmp(err.msg, "name:", 5) == 0, "%s", err.msg);
	o.name = "tap.2";                        /* the taps' prefix: no declared stream has it */
	cr_assert(eq(int, bl_inject_create(&o, &s, &err), -EINVAL));
	cr_assert(strncmp(err.msg, "name:", 5) == 0 && strstr(err.msg, "belong to taps"), "%s",
		  err.msg);
}

/* A head rewound to 0 behind the tail was refused but never counted: the last garbage
 * head counted started at 0 (1 in the same place was counted). */
Test(inject, a_head_of_zero_behind_the_tail_is_counted)
{
	struct bl_inject *s = make("hz0", 0600);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256] = { 0 };

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 3; q++)
		commit(&w, q, frame, 64);
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 3));
	rte_pktmbuf_free_bulk(out, 3);
	cr_assert(eq(u64, s->c.bad_head, 0));
	__atomic_store_n(&w.h->head, 0, __ATOMIC_RELEASE);   /* behind the tail (3) */
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 0), "nothing read");
	cr_assert(eq(u64, s->c.bad_head, 1), "refused and counted");
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 32), 0));
	cr_assert(eq(u64, s->c.bad_head, 1), "once per value, not once per poll");
	bl_inject_grant_close(&g);
	bl_inject_release(s);
}

/* A writer that goes with frames committed and not yet read: they are dropped (never
 * sent), and counted as frames (unread), not only as one writer gone (reclaimed). A
 * garbage head says nothing of how many: those count none. */
Test(inject, frames_a_gone_writer_left_unread_are_counted)
{
	struct bl_inject *s = make("ur", 0600);
	struct bl_stream_cred who = me();
	struct rte_mempool *mp = harness_pool();
	struct rte_mbuf *out[32];
	struct bl_inject_grant g;
	struct bl_err err;
	struct wside w;
	uint8_t frame[256] = { 0 };

	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	for (uint64_t q = 0; q < 5; q++)
		commit(&w, q, frame, 64);
	cr_assert(eq(int, bl_inject_poll(s, mp, out, 2), 2));
	rte_pktmbuf_free_bulk(out, 2);
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	munmap((void *)(uintptr_t)w.t, BL_SHM_META_PAGE);
	bl_inject_close_write(s);
	cr_assert(eq(u64, s->tot->reclaimed, 1));
	cr_assert(eq(u64, s->tot->unread, 3), "three frames committed, never read: dropped");
	cr_assert(eq(u64, s->unread, 3), "the stream's count too (stats' injects[])");

	/* The next writer leaves a head more than capacity (16) ahead: garbage, no count. */
	cr_assert(eq(int, bl_inject_open_write(s, &who, "t", 0, &g, &err), 0), "%s", err.msg);
	writer_map(&g, &w);
	__atomic_store_n(&w.h->head, 1000, __ATOMIC_RELEASE);
	bl_inject_grant_close(&g);
	munmap(w.p, w.size);
	munmap((void *)(uintptr_t)w.t, BL_SHM_META_PAGE);
	bl_inject_close_write(s);
	cr_assert(eq(u64, s->tot->reclaimed, 2));
	cr_assert(eq(u64, s->tot->unread, 3), "a garbage head counts no frame");
	bl_inject_release(s);
}
