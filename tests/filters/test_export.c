/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export, within permissions (issue 5, point 2): a stream with the packet
 * DBuf's owner, group and mode is zero copy; any other gets its packets
 * copied once into a copy DBuf with its own permissions, shared by streams
 * with the same three; chains are copied whole; an empty copy pool drops and
 * counts; nothing leaks; the packet DBuf's mode is never widened. The packet
 * DBuf here is a real one (ordinary shared memory) in the test's EAL.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_dbuf_view.h"
#include "bl_dbuf_worker.h"
#include "bl_stream.h"
#include "harness.h"

#define PKT_MBUFS 2047u
#define RUNNING   (PKT_MBUFS - 1u)   /* while a graph exists, its feed holds one (harness.c) */

static struct bl_dbuf *pkt;
static struct bl_graph_env env;

static void
setup(void)
{
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = "test_pkts", .n_mbufs = PKT_MBUFS, .cache_size = 0,
		.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_err err;

	harness_eal();
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &pkt, &err), 0), "%s", err.msg);
	harness_env(&env);
	env.pool = pkt->mp;
	env.dbuf = pkt;
}

static void
teardown(void)
{
	bl_dbuf_perm_free_all();
	bl_dbuf_free(pkt);
	pkt = NULL;
}

TestSuite(filter_export, .init = setup, .fini = teardown, .timeout = 30);

static struct harness *
build(const char *text)
{
	struct harness *h = NULL;
	struct bl_err err;
	int rc = harness_build_env(text, &env, &h, &err);

	cr_assert(eq(int, rc, 0), "%s: %s", text, err.msg);
	return h;
}

/* A packet of len bytes from pool mp, byte i = (seed + i) & 0xff. */
static struct rte_mbuf *
pattern_mbuf(struct rte_mempool *mp, uint32_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;

	cr_assert(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert(p != NULL);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return m;
}

static const struct bl_ibuf_entry *
entry(const struct bl_stream *x, uint64_t seq)
{
	cr_assert(seq < x->ib->head);
	return &x->ib->slots[seq & x->ib->mask];
}

static mode_t
file_mode(const struct bl_dbuf *d, uid_t *uid, gid_t *gid)
{
	struct stat sb;

	cr_assert(eq(int, fstat(d->shm->fd, &sb), 0));
	if (uid != NULL)
		*uid = sb.st_uid;
	if (gid != NULL)
		*gid = sb.st_gid;
	return sb.st_mode & 0777;
}

Test(filter_export, same_permissions_are_zero_copy)
{
	struct harness *h = build("feed | export name=z capacity=64");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "z");
	struct rte_mbuf *m = pattern_mbuf(pkt->mp, 100, 7);
	const struct bl_dbuf_mbuf_priv *pv = rte_mbuf_to_priv(m);
	const struct bl_ibuf_entry *e;

	cr_assert(x != NULL);
	cr_assert(x->perm == NULL, "default owner, group and mode are the packet DBuf's");
	cr_assert(bl_stream_dbuf(x) == pkt);
	harness_push(h, m);
	harness_run(h);
	e = entry(x, 0);
	cr_assert(eq(u16, e->dbuf_id, pkt->id));
	cr_assert(eq(u32, e->object, pv->object), "the entry is the very mbuf received");
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 0));
	cr_assert(bl_dbuf_perm_at(0) == NULL, "no copy DBuf was made");
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), PKT_MBUFS));
}

Test(filter_export, other_permissions_get_a_copy_dbuf_of_their_own)
{
	struct harness *h = build("feed | export name=c mode=0600 capacity=64");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "c");
	struct bl_dbuf *cd;
	struct bl_dbuf_view v;
	uid_t uid;
	gid_t gid;
	void *base;
	int fd;

	cr_assert(x != NULL && x->perm != NULL);
	cd = bl_stream_dbuf(x);
	cr_assert(cd != pkt && cd->id != pkt->id);
	cr_assert(eq(u32, file_mode(cd, &uid, &gid), 0400));   /* read bits only */
	cr_assert(eq(u32, uid, geteuid()));
	cr_assert(eq(u32, gid, getegid()));
	cr_assert(eq(u32, file_mode(pkt, NULL, NULL), 0440), "the packet DBuf keeps its mode (read bits)");
	for (unsigned int i = 0; i < 40; i++)
		harness_push(h, pattern_mbuf(pkt->mp, 60 + i, (uint8_t)i));
	harness_run(h);
	cr_assert(eq(u64, x->ib->head, 40));
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 40));
	cr_assert(eq(u64, harness_counter(h, "export", "copy_nombuf"), 0));
	/* The originals went home at once; the copies are the ring's. */
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), RUNNING));
	cr_assert(eq(u32, rte_mempool_in_use_count(cd->mp), 40));

	/* A client's view: the copy DBuf through a read-only fd, resolved by offsets. */
	fd = bl_shm_ro_fd(cd->shm);
	cr_assert(fd >= 0);
	base = mmap(NULL, cd->shm->size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert(base != MAP_FAILED);
	cr_assert(eq(int, bl_dbuf_view_init(&v, base, cd->shm->size), 0));
	cr_assert(eq(u16, v.id, cd->id));
	for (unsigned int i = 0; i < 40; i++) {
		const struct bl_ibuf_entry *e = entry(x, i);
		const uint8_t *p = bl_dbuf_view_ptr(&v, e);

		cr_assert(eq(u16, e->dbuf_id, cd->id));
		cr_assert(eq(u32, e->length, 60 + i));
		cr_assert(p != NULL);
		for (unsigned int b = 0; b < e->length; b++)
			cr_assert(eq(u8, p[b], (uint8_t)(i + b)), "packet %u byte %u", i, b);
	}
	munmap(base, cd->shm->size);
	close(fd);
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(cd->mp), cd->mp->size), "the ring freed its copies");
}

Test(filter_export, equal_permissions_share_one_copy_dbuf_sized_for_both)
{
	struct harness *a = build("feed | export name=a mode=0600 capacity=64");
	struct harness *b = build("feed | export name=b mode=0600 capacity=256 policy=frp");
	struct harness *c = build("feed | export name=c mode=0604 capacity=64");
	const struct bl_stream *xa = bl_stream_find(BL_STREAM_EXPORT, "a"), *xb = bl_stream_find(BL_STREAM_EXPORT, "b");
	const struct bl_stream *xc = bl_stream_find(BL_STREAM_EXPORT, "c");

	cr_assert(xa->perm != NULL && xa->perm == xb->perm, "one copy DBuf per triple");
	cr_assert(xc->perm != NULL && xc->perm != xa->perm, "another mode, another DBuf");
	cr_assert(eq(u32, xa->perm->users, 2));
	cr_assert(bl_stream_dbuf(xa)->n_objs >= 64 + 256, "sized for both rings");
	cr_assert(eq(u64, bl_stream_dbuf(xa)->reserved, 64 + 256));
	cr_assert(eq(u32, file_mode(bl_stream_dbuf(xc), NULL, NULL), 0404));   /* read bits only */
	/* Both write into the grown pool, into the same DBuf id. */
	harness_push(a, pattern_mbuf(pkt->mp, 64, 1));
	harness_push(b, pattern_mbuf(pkt->mp, 64, 2));
	harness_run(a);
	harness_run(b);
	cr_assert(eq(u16, entry(xa, 0)->dbuf_id, bl_stream_dbuf(xa)->id));
	cr_assert(eq(u16, entry(xb, 0)->dbuf_id, bl_stream_dbuf(xa)->id));
	harness_free(a);
	harness_free(b);
	harness_free(c);
	for (unsigned int i = 0; i < BL_DBUF_PERM_MAX; i++) {
		const struct bl_dbuf_perm *p = bl_dbuf_perm_at(i);
		if (p != NULL) {
			cr_assert(eq(u32, p->users, 0));
			cr_assert(eq(u32, rte_mempool_avail_count(p->dbuf->mp), p->dbuf->mp->size));
		}
	}
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), PKT_MBUFS));
}

Test(filter_export, a_chained_packet_is_copied_whole)
{
	struct harness *h = build("feed | export name=ch mode=0600 capacity=16");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "ch");
	struct rte_mbuf *m = pattern_mbuf(pkt->mp, 1000, 3);
	struct rte_mbuf *t = pattern_mbuf(pkt->mp, 1500, (uint8_t)(3 + 1000));
	struct rte_mbuf *cp;
	uint8_t buf[2500];
	const uint8_t *p;

	cr_assert(eq(int, rte_pktmbuf_chain(m, t), 0));
	harness_push(h, m);
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 1));
	cp = bl_dbuf_mbuf_of(bl_stream_dbuf(x), entry(x, 0));
	cr_assert(cp != NULL);
	cr_assert(eq(u32, cp->pkt_len, 2500));
	p = rte_pktmbuf_read(cp, 0, 2500, buf);
	cr_assert(p != NULL);
	for (unsigned int i = 0; i < 2500; i++)
		cr_assert(eq(u8, p[i], (uint8_t)(3 + i)), "byte %u", i);
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), PKT_MBUFS));
	cr_assert(eq(u32, rte_mempool_avail_count(bl_dbuf_perm_at(0)->dbuf->mp),
		     bl_dbuf_perm_at(0)->dbuf->mp->size), "every segment of the copy went home");
}

Test(filter_export, an_empty_copy_pool_drops_and_counts)
{
	struct harness *h = build("feed | export name=e mode=0600 capacity=64");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "e");
	struct rte_mempool *mp = bl_stream_dbuf(x)->mp;
	static struct rte_mbuf *held[8192];
	unsigned int n = 0;

	while (n < RTE_DIM(held) && (held[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	cr_assert(n == mp->size, "took all %u of %u", n, mp->size);
	for (unsigned int i = 0; i < 10; i++)
		harness_push(h, pattern_mbuf(pkt->mp, 80, (uint8_t)i));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "export", "copy_nombuf"), 10));
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 0));
	cr_assert(eq(u64, harness_counter(h, "export", "written"), 0));
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), RUNNING), "the originals were freed");
	/* Room again: a single packet goes through. */
	rte_pktmbuf_free(held[--n]);
	harness_push(h, pattern_mbuf(pkt->mp, 80, 9));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 1));
	cr_assert(eq(u64, harness_counter(h, "export", "copy_nombuf"), 10));
	rte_pktmbuf_free_bulk(held, n);
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(mp), mp->size));
}

Test(filter_export, frp_overwrite_releases_copies)
{
	struct harness *h = build("feed | export name=f mode=0600 capacity=8 policy=frp");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "f");

	for (unsigned int i = 0; i < 100; i++)
		harness_push(h, pattern_mbuf(pkt->mp, 64, (uint8_t)i));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 100));
	cr_assert(eq(u32, rte_mempool_in_use_count(bl_stream_dbuf(x)->mp), 8),
		  "only the slots hold copies");
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), RUNNING));
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), PKT_MBUFS));
}

Test(filter_export, a_full_srp_ring_drops_before_copying)
{
	struct harness *h = build("feed | export name=s mode=0600 capacity=16");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "s");
	int r = bl_ibuf_reader_alloc(x->ib, 0);   /* a reader that never reads */

	cr_assert(r >= 0);
	cr_assert(eq(u64, harness_counter(h, "export", "readers"), 1));
	for (unsigned int i = 0; i < 100; i++)
		harness_push(h, pattern_mbuf(pkt->mp, 64, (uint8_t)i));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "export", "written"), 16));
	cr_assert(eq(u64, harness_counter(h, "export", "dropped"), 84));
	cr_assert(eq(u64, harness_counter(h, "export", "copied"), 16), "no copy made to be dropped");
	cr_assert(eq(u64, harness_counter(h, "export", "copy_nombuf"), 0));
	cr_assert(eq(u32, rte_mempool_in_use_count(bl_stream_dbuf(x)->mp), 16));
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), RUNNING));
	bl_ibuf_reader_detach(x->ib, (unsigned int)r);
	cr_assert(eq(u64, harness_counter(h, "export", "readers"), 0));
	harness_free(h);
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), PKT_MBUFS));
	cr_assert(eq(u32, rte_mempool_avail_count(bl_dbuf_perm_at(0)->dbuf->mp),
		     bl_dbuf_perm_at(0)->dbuf->mp->size));
}

Test(filter_export, the_packet_dbuf_is_never_widened)
{
	struct harness *h = build("feed | export name=w mode=0644 capacity=16");

	cr_assert(eq(u32, file_mode(pkt, NULL, NULL), 0440));   /* read bits only */
	cr_assert(eq(u32, file_mode(bl_stream_dbuf(bl_stream_find(BL_STREAM_EXPORT, "w")), NULL, NULL), 0444));
	harness_free(h);
}

Test(filter_export, a_copy_dbuf_that_cannot_be_made_names_the_stream)
{
	struct harness *h = NULL;
	struct bl_err err;
	struct rlimit rl;
	int fd = dup(0), rc;

	/* No descriptor left: the copy DBuf's region cannot be created. */
	cr_assert(fd >= 0);
	close(fd);
	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	rl.rlim_cur = (rlim_t)fd;
	cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
	rc = harness_build_env("feed | export name=nofd mode=0600 capacity=16", &env, &h, &err);
	cr_assert(lt(int, rc, 0));
	cr_assert(h == NULL);
	cr_log_info("%s", err.msg);
	cr_assert(strstr(err.msg, "stream \"nofd\"") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "cannot create a copy DBuf") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "mode 0600") != NULL, "%s", err.msg);
	cr_assert(bl_stream_find(BL_STREAM_EXPORT, "nofd") == NULL, "nothing half-made is left");
	cr_assert(bl_dbuf_perm_at(0) == NULL);
}

/* flow export=NAME: the records its stream's ring refuses (a reader that reads nothing
 * holds an srp ring full) are dropped. The ring counted them, but the flow filter's
 * counters (the final report, docs/filters.md) had only `streamed`, which counts them as
 * handed on: stream_dropped says how many never made it. */
Test(filter_export, flow_records_a_full_stream_refuses_are_counted)
{
	struct harness *h = build("feed | flow max_flows=8 export=fr");
	const struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, "fr");
	struct bl_ibuf_stats ist;
	int r;
	uint64_t streamed = 0;

	cr_assert(x != NULL);
	r = bl_ibuf_reader_alloc(x->ib, 0);   /* a reader that never reads */
	cr_assert(r >= 0);
	/* 1200 flows through a table of 8: 1192 records end early (evicted), in rounds the
	 * exporter thread keeps up with. */
	for (unsigned int round = 0; round < 12; round++) {
		for (uint16_t i = 0; i < 100; i++) {
			struct pkt_spec s = { .sport = (uint16_t)(1 + round * 100 + i) };
			harness_push(h, harness_pkt(&s));
		}
		harness_run(h);
		for (int t = 0; t < 2000 && harness_counter(h, "flow", "streamed") <
		     harness_counter(h, "flow", "evicted"); t++)
			usleep(1000);
	}
	streamed = harness_counter(h, "flow", "streamed");
	cr_assert(eq(u64, harness_counter(h, "flow", "lost"), 0), "the exporter thread kept up");
	cr_assert(eq(u64, streamed, 1192), "every evicted record handed to the stream");
	bl_ibuf_stats(x->ib, &ist);
	cr_assert(eq(u64, ist.written, 1024), "the ring holds its capacity");
	cr_assert(eq(u64, harness_counter(h, "flow", "stream_dropped"), streamed - 1024),
		  "the rest refused, and counted where the filter's counters show it");
	cr_assert(eq(u64, harness_counter(h, "flow", "stream_overwritten"), 0));
	bl_ibuf_reader_detach(x->ib, (unsigned int)r);
	harness_free(h);
}
