/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The user filter against a verdict client in this process (its ring mapped as a
 * client maps it): a backlog let go while packets keep coming, a garbage head of 0,
 * and random runs of an honest and of a hostile client (attach, detach, classes for
 * any sequence, garbage heads) checked for arrival order, no packet lost to overflow
 * and each packet decided once.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rte_mbuf.h>
#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_stream.h"
#include "bl_user.h"
#include "bl_shm_abi.h"
#include "harness.h"

static struct bl_dbuf *pkt;
static struct bl_graph_env env;

static void setup(void)
{
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = "test_pkts", .n_mbufs = 8191, .cache_size = 0,
		.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_err err;
	harness_eal();
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &pkt, &err), 0), "%s", err.msg);
	harness_env(&env);
	env.pool = pkt->mp;
	env.dbuf = pkt;
}
static void teardown(void) { bl_dbuf_perm_free_all(); bl_dbuf_free(pkt); }
TestSuite(user, .init = setup, .fini = teardown, .timeout = 120);

struct cl {
	struct bl_user_grant g;
	struct bl_vring_hdr *h;
	struct bl_vring_desc *d;
	const struct bl_vring_tail *t;
	size_t size;
	uint64_t head;
	int on;
};

static void cl_attach(struct bl_user *u, struct cl *c)
{
	struct bl_stream_cred who = { .uid = geteuid(), .gid = getegid(), .pid = getpid() };
	struct bl_err err;
	struct stat st;
	cr_assert(eq(int, bl_user_attach(u, &who, "fz", &c->g, &err), 0), "%s", err.msg);
	cr_assert(eq(int, fstat(c->g.vfd[0], &st), 0));
	c->size = st.st_size;
	c->h = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->g.vfd[0], 0);
	cr_assert(c->h != MAP_FAILED);
	c->d = (struct bl_vring_desc *)((uint8_t *)c->h + c->h->off_desc);
	c->t = mmap(NULL, 4096, PROT_READ, MAP_SHARED, c->g.vfd[1], 0);
	cr_assert(c->t != MAP_FAILED);
	c->head = 0;
	c->on = 1;
}
static void cl_detach(struct bl_user *u, struct cl *c)
{
	bl_user_grant_close(&c->g);
	bl_user_detach(u);
	munmap(c->h, c->size);
	munmap((void *)(uintptr_t)c->t, 4096);
	c->on = 0;
}

static uint32_t id_of(struct rte_mbuf *m) { uint32_t v; memcpy(&v, rte_pktmbuf_mtod(m, void *), 4); return v; }

static void fuzz(const char *text, unsigned seed, int hostile)
{
	struct harness *h = NULL;
	struct bl_err err;
	cr_assert(eq(int, harness_build_env(text, &env, &h, &err), 0), "%s", err.msg);
	struct bl_user *u = bl_user_find("fz");
	cr_assert(u != NULL);
	struct cl c = { 0 };
	uint32_t next_id = 0, seen = 0, last = 0;
	int first = 1;
	srand(seed);
	for (unsigned it = 0; it < 3000; it++) {
		int r = rand();
		if (!c.on && r % 50 == 0) cl_attach(u, &c);
		else if (c.on && r % 200 == 1) cl_detach(u, &c);
		unsigned k = rand() % 40;
		for (unsigned i = 0; i < k; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pkt->mp);
			if (m == NULL) break;
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 64);
			memset(p, 0, 64);
			memcpy(p, &next_id, 4);
			next_id++;
			harness_push_cls(h, m, 1 + rand() % 3);
		}
		harness_passes(h, 1 + rand() % 3);
		if (c.on) {
			uint64_t head = u->s->ib->head;
			uint64_t tail = __atomic_load_n(&c.t->tail, __ATOMIC_ACQUIRE);
			unsigned nv = rand() % 24;
			for (unsigned i = 0; i < nv && c.head - tail < u->capacity; i++) {
				struct bl_vring_desc *d = &c.d[c.head & (u->capacity - 1)];
				d->seq = head - 1 - (rand() % 80);
				if (hostile && rand() % 5 == 0) d->seq = ((uint64_t)rand() << 32) ^ rand();
				d->cls = rand() % 4;
				if (hostile && rand() % 7 == 0) d->cls = rand();
				c.head++;
			}
			if (hostile && rand() % 13 == 0)
				__atomic_store_n(&c.h->head, ((uint64_t)rand() << 33) ^ rand(), __ATOMIC_RELEASE);
			else
				__atomic_store_n(&c.h->head, c.head, __ATOMIC_RELEASE);
		}
		if (rand() % 30 == 0) usleep(300);
		/* check order so far */
		unsigned n = harness_n(h, NULL);
		for (; seen < n; seen++) {
			uint32_t id = id_of(harness_got(h, NULL, seen));
			cr_assert(first || id > last, "pass %u: packet %u came after %u", it, id, last);
			first = 0;
			last = id;
		}
		if (n > 4000) { harness_clear(h, NULL); seen = 0; }
	}
	if (c.on) cl_detach(u, &c);
	usleep(2000);
	for (int i = 0; i < 50; i++) { harness_passes(h, 5); usleep(500); }
	unsigned n = harness_n(h, NULL);
	for (; seen < n; seen++) {
		uint32_t id = id_of(harness_got(h, NULL, seen));
		cr_assert(first || id > last, "out of order: %u after %u", id, last);
		first = 0; last = id;
	}
	uint64_t ov = harness_stats(h, "user")->overflow;
	cr_assert(eq(u64, ov, 0), "no packet freed for want of room downstream (of %u)", next_id);
#define K(x) harness_counter(h, "user", x)
	uint64_t handed = K("handed"), verdicts = K("verdicts");
	uint64_t lhs = verdicts + K("timeout_pass") + K("timeout_drop") + K("gone_pass") + K("gone_drop") + K("evicted_pass") + K("evicted_drop");
	cr_log_info("handed %lu verdicts %lu late %lu twice %lu unknown %lu badc %lu badh %lu", handed, verdicts, K("late"), K("twice"), K("unknown"), K("bad_class"), K("bad_head"));
	cr_assert(eq(u64, handed, lhs), "handed = verdicts+timeout+gone+evicted");
	uint64_t all = lhs + K("no_client_pass") + K("no_client_drop") + K("full_pass") + K("full_drop") + K("copy_nombuf");
	cr_assert(eq(u64, all, next_id), "every packet decided once");
	harness_free(h);
}

Test(user, honest_small) { fuzz("feed | user name=fz timeout_us=200 max_inflight=16 |all collect", 1, 0); }
Test(user, hostile_small) { fuzz("feed | user name=fz timeout_us=200 max_inflight=16 |all collect", 2, 1); }
Test(user, hostile_big) { fuzz("feed | user name=fz timeout_us=5000 max_inflight=64 |all collect", 3, 1); }
Test(user, hostile_copy) { fuzz("feed | user name=fz timeout_us=300 max_inflight=16 mode=0600 |all collect", 4, 1); }

/* n packets of 64 bytes, each numbered (id_of) from *id on, pushed into the feed. */
static void push_numbered(struct harness *h, uint32_t *id, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pkt->mp);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 64);
		memset(p, 0, 64);
		memcpy(p, id, 4);
		++*id;
		harness_push(h, m);
	}
}

/* A backlog: 300 packets handed to a client that gave a class (pass, 1) to all but the
 * first, so all 300 are held behind it. */
struct backlog {
	struct harness *h;
	struct bl_user *u;
	struct cl c;
	uint32_t id;
	uint64_t r0;   /* the first packet's sequence */
};

static void backlog_held(struct backlog *b, const char *text)
{
	struct bl_err err;

	*b = (struct backlog){ 0 };
	cr_assert(eq(int, harness_build_env(text, &env, &b->h, &err), 0), "%s", err.msg);
	b->u = bl_user_find("fz");
	cl_attach(b->u, &b->c);
	harness_passes(b->h, 2);
	b->r0 = b->u->s->ib->head;
	push_numbered(b->h, &b->id, 300);
	harness_run(b->h);
	cr_assert(eq(u64, harness_stats(b->h, "user")->out, 0), "all 300 held");
	for (unsigned int i = 1; i < 300; i++) {
		b->c.d[b->c.head & (b->u->capacity - 1)] = (struct bl_vring_desc){ .seq = b->r0 + i, .cls = 1 };
		b->c.head++;
		if (b->c.head - b->c.t->tail >= b->u->capacity) {
			__atomic_store_n(&b->c.h->head, b->c.head, __ATOMIC_RELEASE);
			harness_passes(b->h, 1);
		}
	}
	__atomic_store_n(&b->c.h->head, b->c.head, __ATOMIC_RELEASE);
	harness_passes(b->h, 1);
	cr_assert(eq(u64, harness_stats(b->h, "user")->out, 0), "still none: the first is held");
}

/* The first packet's class, and 32 new packets in the same pass: one pass. */
static void backlog_let_go(struct backlog *b)
{
	b->c.d[b->c.head & (b->u->capacity - 1)] = (struct bl_vring_desc){ .seq = b->r0, .cls = 1 };
	b->c.head++;
	__atomic_store_n(&b->c.h->head, b->c.head, __ATOMIC_RELEASE);
	push_numbered(b->h, &b->id, 32);
	harness_passes(b->h, 1);
}

static void backlog_free(struct backlog *b)
{
	cl_detach(b->u, &b->c);
	harness_free(b->h);
}

/* A backlog let go in the pass new packets arrive: user_poll gave the next filter a burst,
 * then user_process emitted up to its own buffer's room, and the input downstream freed
 * what did not fit (32 packets with the client's class, as overflow). */
Test(user, backlog_release_overflows_downstream)
{
	struct backlog b;

	backlog_held(&b, "feed | user name=fz timeout_us=10000000 max_inflight=300 | collect");
	backlog_let_go(&b);
	const struct bl_filter_stats *st = harness_stats(b.h, "user");
	cr_expect(eq(u64, st->overflow, 0), "no packet with a class lost");
	harness_passes(b.h, 16);  /* the rest in the passes after, a burst or so each */
	cr_assert(eq(u32, harness_n(b.h, NULL), 300), "every packet with a class out (the 32 wait)");
	for (unsigned i = 0; i < harness_n(b.h, NULL); i++)
		cr_assert(eq(u32, id_of(harness_got(b.h, NULL, i)), i), "in arrival order");
	cr_assert(eq(u64, st->overflow, 0));
	backlog_free(&b);
}

/* A vring head rewound to 0 behind the tail was refused but never counted: the last
 * garbage head counted started at 0. */
Test(user, a_head_of_zero_behind_the_tail_is_counted)
{
	struct harness *h = NULL;
	struct bl_err err;
	cr_assert(eq(int, harness_build_env("feed | user name=fz timeout_us=10000000 | collect", &env, &h, &err), 0), "%s", err.msg);
	struct bl_user *u = bl_user_find("fz");
	struct cl c = { 0 };
	cl_attach(u, &c);
	harness_passes(h, 2);
	for (unsigned i = 0; i < 3; i++) {
		c.d[i] = (struct bl_vring_desc){ .seq = 12345, .cls = 1 };
	}
	__atomic_store_n(&c.h->head, 3, __ATOMIC_RELEASE);
	harness_push_n(h, 1);
	harness_passes(h, 2);
	cr_assert(eq(u64, c.t->tail, 3));

	uint64_t b1 = harness_counter(h, "user", "bad_head");
	__atomic_store_n(&c.h->head, 0, __ATOMIC_RELEASE);
	harness_push_n(h, 1); harness_passes(h, 2);
	uint64_t b0 = harness_counter(h, "user", "bad_head");
	cr_assert(eq(u64, b1, 0));
	cr_assert(eq(u64, b0, 1), "refused and counted");
	cl_detach(u, &c);
	harness_free(h);
}

/* The same backlog, with a sibling branch feeding the same input (a plain split): user
 * let the whole backlog go at once, filling the next input to the brim, and the sibling
 * that runs after it in the pass (count) lost its 32 packets as overflow. */
static void backlog_with_sibling(const char *text, const char *sib)
{
	struct backlog b;

	backlog_held(&b, text);
	backlog_let_go(&b);
	cr_assert(eq(u64, harness_stats(b.h, "user")->overflow, 0), "user overflow");
	cr_assert(eq(u64, harness_stats(b.h, sib)->overflow, 0), "%s overflow (its packets lost)", sib);
	harness_passes(b.h, 16);
	cr_assert(eq(u32, harness_n(b.h, NULL), 332 + 300), "count's 332 and the 300 with a class out");
	backlog_free(&b);
}
Test(user, a_backlog_let_go_leaves_room_for_a_sibling_after_it)
{
	backlog_with_sibling("feed | (user name=fz timeout_us=10000000 max_inflight=300 + count) | collect", "count");
}
Test(user, a_backlog_let_go_leaves_room_for_a_sibling_before_it)
{
	backlog_with_sibling("feed | (count + user name=fz timeout_us=10000000 max_inflight=300) | collect", "count");
}

/* What is in the window when the appliance stops (held, or decided behind a held head)
 * was freed uncounted at teardown: now drain frees and counts it (stopped), so each packet
 * is still accounted for once. */
Test(user, a_stop_counts_what_the_window_holds)
{
	struct harness *h = NULL;
	struct bl_err err;
	cr_assert(eq(int, harness_build_env("feed | user name=fz timeout_us=10000000 | collect",
					    &env, &h, &err), 0), "%s", err.msg);
	struct bl_user *u = bl_user_find("fz");
	struct cl c = { 0 };
	uint64_t r0;

	cl_attach(u, &c);
	harness_passes(h, 2);
	r0 = u->s->ib->head;
	harness_push_n(h, 5);
	harness_passes(h, 1);
	/* a class for the last four: they wait behind the first, held */
	for (unsigned int i = 1; i < 5; i++) {
		c.d[c.head & (u->capacity - 1)] = (struct bl_vring_desc){ .seq = r0 + i, .cls = 1 };
		c.head++;
	}
	__atomic_store_n(&c.h->head, c.head, __ATOMIC_RELEASE);
	harness_passes(h, 2);
	cr_assert(eq(u32, harness_n(h, NULL), 0), "all wait behind the first");
	cl_detach(u, &c);
	bl_graph_drain(h->g);
	cr_assert(eq(u64, harness_counter(h, "user", "stopped"), 5));
	cr_assert(eq(u64, harness_counter(h, "user", "verdicts"), 4));
	harness_free(h);
}

/* The streams of user and flow are written on their graph's lcore: a reload keeps one only
 * there. They said lcore 0 whatever the graph's, so a reload that moved the graph to another
 * lcore could take the stream over while the old worker still wrote it. */
Test(user, its_stream_and_flow_s_are_written_on_the_graph_s_lcore)
{
	struct harness *h = NULL;
	struct bl_err err;
	struct bl_graph_env e = env;

	e.lcore = 3;
	cr_assert(eq(int, harness_build_env("feed | user name=fz | flow export=fl | collect", &e,
					    &h, &err), 0), "%s", err.msg);
	cr_assert(eq(uint, bl_stream_find(BL_STREAM_EXPORT, "fz")->lcore, 3));
	cr_assert(eq(uint, bl_stream_find(BL_STREAM_EXPORT, "fl")->lcore, 3));
	harness_free(h);
}
