/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet and record DBufs: the pool inside a region, mbuf <-> {id, object},
 * a client resolving entries with offsets alone in another process, mbuf
 * reference lifetime per policy, the pool-size check, records and splicing.
 * Two suites: huge pages (EAL and region), and the fallback (EAL --no-huge,
 * ordinary shared memory). EAL is initialised in each test process (Criterion
 * forks per test).
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdlib.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bl_dbuf_view.h"
#include "bl_dbuf_worker.h"

static uint32_t region_flags;

/* EAL leaves its runtime folder behind; remove it when the test process exits. */
static char eal_rundir[256];

static void
remove_eal_rundir(void)
{
	if (eal_rundir[0] != '\0')
		rmdir(eal_rundir);
}

static void
eal_up(int huge)
{
	char prefix[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "bl_dbuf_%d", (int)getpid());
	argv[argc++] = "test_dbuf";
	argv[argc++] = "--no-pci";
	if (huge)                       /* --no-huge means legacy memory: no --in-memory */
		argv[argc++] = "--in-memory";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = "--log-level";
	argv[argc++] = "*:error";
	if (!huge) {
		argv[argc++] = "--vdev";             /* a NIC that receives into our pools */
		argv[argc++] = "net_null0,copy=1";
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";   /* no runtime files left behind */
		argv[argc++] = "-m";
		argv[argc++] = "64";
	}
	region_flags = huge ? BL_SHM_F_HUGE_REQUIRE : BL_SHM_F_NO_HUGE;
	atexit(remove_eal_rundir);   /* before EAL's: runs after its exit handlers */
	cr_assert(rte_eal_init(argc, argv) >= 0, "EAL init failed");
	snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
}

static void huge_up(void) { eal_up(1); }
static void small_up(void) { eal_up(0); }
static void eal_down(void) { rte_eal_cleanup(); }

TestSuite(dbuf_huge, .init = huge_up, .fini = eal_down, .timeout = 30);
TestSuite(dbuf_small, .init = small_up, .fini = eal_down, .timeout = 30);

static struct bl_dbuf *
pkt_dbuf(const char *name, uint32_t n, uint32_t min_free)
{
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = name, .n_mbufs = n, .cache_size = 0,
		.min_free = min_free, .shm_flags = region_flags,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_dbuf *d = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &d, &err), 0), "%s", err.msg);
	return d;
}

static struct bl_ibuf_opts
ring_opts(const char *name, uint32_t cap, uint32_t policy, uint32_t readers)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = name, .capacity = cap, .policy = policy,
		.max_readers = readers, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	return o;
}

static unsigned
in_use(const struct bl_dbuf *d)
{
	return d->n_objs - rte_mempool_avail_count(d->mp);
}

static int exited_ok(int st) { return WIFEXITED(st) && WEXITSTATUS(st) == 0; }
static int segfaulted(int st) { return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV; }

/* ---- bodies, run in both suites ---- */

static void
pool_lies_in_region(void)
{
	struct bl_dbuf *d = pkt_dbuf("pool", 1024, 32), *d2;
	struct bl_dbuf_pkt_opts o = { .sz = sizeof(o), .name = "clash", .id = d->id,
		.n_mbufs = 64, .shm_flags = region_flags, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct bl_err err;

	struct stat st;

	cr_assert(eq(u32, d->n_objs, 1024));
	cr_assert(eq(u32, d->hdr->n_objs, 1024));
	cr_assert(eq(int, fstat(d->shm->fd, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0440));   /* the region carries the mode, read bits only */
	cr_assert(bl_shm_contains(d->shm, d->mp, sizeof(*d->mp)));  /* pool header too */
	for (uint32_t i = 0; i < d->n_objs; i++) {
		cr_assert(bl_shm_contains(d->shm, d->objs[i], sizeof(struct rte_mbuf)));
		cr_assert(bl_shm_contains(d->shm, d->objs[i]->buf_addr, d->objs[i]->buf_len));
	}
	cr_assert(eq(sz, d->shm->page_size, region_flags & BL_SHM_F_NO_HUGE ? 4096 : 2u << 20));
	cr_assert(eq(ptr, bl_dbuf_lookup(d->id), d));
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &d2, &err), -EEXIST));
	cr_assert(strstr(err.msg, "already in use") != NULL);
	o.id = 0;
	o.name = "second";
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &d2, &err), 0));
	cr_assert(eq(u32, d2->id, d->id + 1));
	bl_dbuf_free(d2);
	bl_dbuf_free(d);
	cr_assert(eq(ptr, bl_dbuf_lookup(1), NULL));
}
Test(dbuf_huge, pool_lies_in_region) { pool_lies_in_region(); }
Test(dbuf_small, pool_lies_in_region) { pool_lies_in_region(); }

/* memory.multiprocess: the pool's header in EAL's memory (a secondary walking the
 * mempool list reads it), every mbuf and its data still in the region; they work. */
Test(dbuf_huge, multiprocess_header_in_eal_memory_mbufs_in_region)
{
	struct bl_dbuf *d;
	struct rte_mbuf *m;

	bl_dbuf_set_multiprocess(true);
	d = pkt_dbuf("mp", 1024, 32);
	bl_dbuf_set_multiprocess(false);
	cr_assert(eq(u32, d->n_objs, 1024));
	cr_assert(not(bl_shm_contains(d->shm, d->mp, sizeof(*d->mp))));
	cr_assert(eq(ptr, rte_mempool_lookup(d->mp->name), d->mp));
	for (uint32_t i = 0; i < d->n_objs; i++) {
		cr_assert(bl_shm_contains(d->shm, d->objs[i], sizeof(struct rte_mbuf)));
		cr_assert(bl_shm_contains(d->shm, d->objs[i]->buf_addr, d->objs[i]->buf_len));
		cr_assert(d->objs[i]->buf_iova != 0 && d->objs[i]->buf_iova != RTE_BAD_IOVA);
	}
	m = rte_pktmbuf_alloc(d->mp);
	cr_assert(m != NULL);
	cr_assert(bl_shm_contains(d->shm, m, sizeof(*m)));
	rte_pktmbuf_free(m);
	cr_assert(eq(uint, rte_mempool_avail_count(d->mp), 1024));
	bl_dbuf_free(d);
}

static void
mbuf_to_ref_and_back(void)
{
	struct bl_dbuf *d = pkt_dbuf("conv", 256, 0);
	struct rte_mbuf *m[10];
	struct bl_dbuf_view v;
	struct bl_ibuf_entry e;

	cr_assert(eq(int, bl_dbuf_view_init(&v, d->shm->base, d->shm->size), 0));
	cr_assert(eq(int, rte_pktmbuf_alloc_bulk(d->mp, m, 10), 0));
	for (unsigned i = 0; i < 10; i++) {
		char *p = rte_pktmbuf_append(m[i], 100 + i);
		memset(p, 'a' + i, 100 + i);
		bl_dbuf_entry_of(m[i], 7, &e);
		cr_assert(eq(u32, e.dbuf_id, d->id));
		cr_assert(eq(u32, e.cls, 7));
		cr_assert(eq(u32, e.length, 100 + i));
		cr_assert(eq(u32, e.offset, RTE_PKTMBUF_HEADROOM));
		cr_assert(eq(ptr, bl_dbuf_mbuf_of(d, &e), m[i]));
		/* offsets alone reach the same bytes */
		cr_assert(eq(ptr, (void *)(uintptr_t)bl_dbuf_view_ptr(&v, &e), p));
	}
	e.object = d->n_objs;                            /* a bad entry resolves to nothing */
	cr_assert(eq(ptr, (void *)(uintptr_t)bl_dbuf_view_ptr(&v, &e), NULL));
	e.object = 0;
	e.length = 1u << 20;
	cr_assert(eq(ptr, (void *)(uintptr_t)bl_dbuf_view_ptr(&v, &e), NULL));
	rte_pktmbuf_free_bulk(m, 10);
	bl_dbuf_free(d);
}
Test(dbuf_huge, mbuf_to_ref_and_back) { mbuf_to_ref_and_back(); }
Test(dbuf_small, mbuf_to_ref_and_back) { mbuf_to_ref_and_back(); }

/* A plain process (no DPDK calls): map both regions read-only, read the ring, resolve. */
static void
client(int dbuf_fd, const struct bl_ibuf_fds *fds, unsigned n, int poke)
{
	struct bl_ibuf_reader *r;
	struct bl_shm *s;
	struct bl_dbuf_view v;
	struct bl_ibuf_entry e[32];
	unsigned got = 0;

	if (bl_shm_attach_fd(dbuf_fd, 0, &s) != 0 || bl_dbuf_view_init(&v, s->base, s->size) != 0)
		_exit(30);
	if (bl_ibuf_reader_open(fds, &r) != 0)
		_exit(31);
	while (got < n) {
		unsigned k = bl_ibuf_read(r, e, 32);
		for (unsigned i = 0; i < k; i++, got++) {
			const unsigned char *p = bl_dbuf_view_ptr(&v, &e[i]);
			if (p == NULL || e[i].length != 64 + got)
				_exit(32);
			for (unsigned j = 0; j < e[i].length; j++)
				if (p[j] != (unsigned char)(got * 3 + j))
					_exit(33);
		}
	}
	if (poke) {
		const unsigned char *p = bl_dbuf_view_ptr(&v, &e[0]);
		*(volatile unsigned char *)(uintptr_t)p = 0;   /* read-only: faults */
	}
	_exit(0);
}

static void
client_resolves_by_offsets(int poke)
{
	struct bl_dbuf *d = pkt_dbuf("client", 512, 64);
	struct bl_ibuf_opts o = ring_opts("client", 256, BL_IBUF_SRP, 2);
	struct bl_ibuf_fds fds;
	struct bl_ibuf *ib;
	struct rte_mbuf *m[100];
	int dfd, st, idx;
	pid_t p;

	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &ib, NULL), 0));
	idx = bl_ibuf_reader_alloc(ib, 0);
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0));
	dfd = bl_shm_ro_fd(d->shm);
	cr_assert(dfd >= 0);
	cr_assert(eq(int, rte_pktmbuf_alloc_bulk(d->mp, m, 100), 0));
	for (unsigned i = 0; i < 100; i++) {
		unsigned char *b = (unsigned char *)rte_pktmbuf_append(m[i], 64 + i);
		for (unsigned j = 0; j < 64 + i; j++)
			b[j] = (unsigned char)(i * 3 + j);
	}
	cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(ib, m, NULL, 100), 100));
	rte_pktmbuf_free_bulk(m, 100);                  /* the ring's references remain */
	cr_assert(eq(u32, in_use(d), 100));
	p = fork();
	if (p == 0) {
		signal(SIGSEGV, SIG_DFL);       /* a sanitizer's handler would turn it into exit 1 */
		client(dfd, &fds, 100, poke);
	}
	cr_assert(eq(int, waitpid(p, &st, 0), p));
	if (poke) {
		cr_assert(segfaulted(st), "status %#x", st);
	} else {
		cr_assert(exited_ok(st), "status %#x", st);
		cr_assert(eq(u64, ib->rpage[idx]->pos, 100));
		bl_ibuf_reclaim(ib);                     /* the client passed them all */
		cr_assert(eq(u32, in_use(d), 0));
	}
	close(dfd);
	close(fds.ring_fd);
	bl_dbuf_ibuf_free(d, ib);
	bl_dbuf_free(d);
}
Test(dbuf_huge, client_resolves_by_offsets) { client_resolves_by_offsets(0); }
Test(dbuf_small, client_resolves_by_offsets) { client_resolves_by_offsets(0); }
Test(dbuf_huge, client_write_to_dbuf_faults) { client_resolves_by_offsets(1); }
Test(dbuf_small, client_write_to_dbuf_faults) { client_resolves_by_offsets(1); }

static void
frp_releases_on_reuse(void)
{
	struct bl_dbuf *d = pkt_dbuf("frp", 64, 8);
	struct bl_ibuf_opts o = ring_opts("frp", 8, BL_IBUF_FRP, 1);
	struct bl_ibuf *ib;
	struct rte_mbuf *m;

	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &ib, NULL), 0));
	for (unsigned i = 0; i < 20; i++) {
		m = rte_pktmbuf_alloc(d->mp);
		cr_assert(m != NULL);
		cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(ib, &m, NULL, 1), 1));
		cr_assert(eq(u16, rte_mbuf_refcnt_read(m), 2));
		rte_pktmbuf_free(m);
	}
	cr_assert(eq(u32, in_use(d), 8));                /* exactly one ring's worth */
	bl_dbuf_ibuf_free(d, ib);
	cr_assert(eq(u32, in_use(d), 0));
	bl_dbuf_free(d);
}
Test(dbuf_huge, frp_releases_on_reuse) { frp_releases_on_reuse(); }
Test(dbuf_small, frp_releases_on_reuse) { frp_releases_on_reuse(); }

static void
srp_releases_when_all_readers_passed(uint32_t policy)
{
	struct bl_dbuf *d = pkt_dbuf("srp", 64, 8);
	struct bl_ibuf_opts o = ring_opts("srp", 8, policy, 2);
	struct bl_ibuf_reader *r[2];
	struct bl_ibuf_entry e[8];
	struct rte_mbuf *m[10];
	struct bl_ibuf *ib;

	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach(ib, &r[0]), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach(ib, &r[1]), 0));
	cr_assert(eq(int, rte_pktmbuf_alloc_bulk(d->mp, m, 10), 0));
	cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(ib, m, NULL, 10), 8));
	cr_assert(eq(u64, ib->prod->dropped, 2));
	cr_assert(eq(u16, rte_mbuf_refcnt_read(m[9]), 1));   /* a dropped mbuf's ref is undone */
	rte_pktmbuf_free_bulk(m, 10);
	cr_assert(eq(u32, in_use(d), 8));
	cr_assert(eq(u32, bl_ibuf_read(r[0], e, 8), 8));
	cr_assert(eq(u32, bl_ibuf_read(r[1], e, 2), 2));
	bl_ibuf_reclaim(ib);
	if (policy == BL_IBUF_SRP) {
		cr_assert(eq(u32, in_use(d), 6));        /* both passed 0 and 1 */
		cr_assert(eq(u32, bl_ibuf_read(r[1], e, 8), 6));
		bl_ibuf_reclaim(ib);
		cr_assert(eq(u32, in_use(d), 0));
	} else {
		/* MRP: R = 2, yet a reader behind R may still read: references live until
		 * every attached reader published a position past them (P5), not until R */
		cr_assert(eq(u32, in_use(d), 6));        /* both passed 0 and 1; R is still 0 */
		cr_assert(eq(u32, bl_ibuf_read(r[1], e, 8), 6));   /* R = max(0, 2) = 2 */
		cr_assert(eq(u64, ib->mrp->r, 2));
		cr_assert(eq(u32, in_use(d), 6));
		cr_assert(eq(int, rte_pktmbuf_alloc_bulk(d->mp, m, 2), 0));
		cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(ib, m, NULL, 2), 2)); /* reuses slots 0, 1 */
		rte_pktmbuf_free_bulk(m, 2);
		cr_assert(eq(u32, in_use(d), 2));        /* both passed all 8: the rest released, 2 new */
		cr_assert(eq(u64, ib->prod->written, 10));
	}
	bl_ibuf_reader_close(r[0]);
	bl_ibuf_reader_close(r[1]);
	bl_dbuf_ibuf_free(d, ib);
	cr_assert(eq(u32, in_use(d), 0));
	bl_dbuf_free(d);
}
Test(dbuf_huge, srp_releases_when_all_readers_passed) { srp_releases_when_all_readers_passed(BL_IBUF_SRP); }
Test(dbuf_small, srp_releases_when_all_readers_passed) { srp_releases_when_all_readers_passed(BL_IBUF_SRP); }
Test(dbuf_small, mrp_releases_what_every_reader_passed) { srp_releases_when_all_readers_passed(BL_IBUF_MRP); }

static void
same_mbuf_in_two_ibufs(void)
{
	struct bl_dbuf *d = pkt_dbuf("two", 64, 8);
	struct bl_ibuf_opts o1 = ring_opts("two1", 8, BL_IBUF_FRP, 1);
	struct bl_ibuf_opts o2 = ring_opts("two2", 16, BL_IBUF_SRP, 1);
	struct bl_ibuf *a, *b;
	struct rte_mbuf *m;

	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o1, &a, NULL), 0));
	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o2, &b, NULL), 0));
	cr_assert(eq(u64, d->reserved, 24));
	m = rte_pktmbuf_alloc(d->mp);
	cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(a, &m, NULL, 1), 1));
	cr_assert(eq(u32, bl_dbuf_ibuf_write_mbufs(b, &m, NULL, 1), 1));
	cr_assert(eq(u16, rte_mbuf_refcnt_read(m), 3));
	rte_pktmbuf_free(m);
	bl_dbuf_ibuf_free(d, a);
	cr_assert(eq(u16, rte_mbuf_refcnt_read(m), 1));
	cr_assert(eq(u32, in_use(d), 1));
	bl_dbuf_ibuf_free(d, b);
	cr_assert(eq(u32, in_use(d), 0));
	cr_assert(eq(u64, d->reserved, 0));
	bl_dbuf_free(d);
}
Test(dbuf_huge, same_mbuf_in_two_ibufs) { same_mbuf_in_two_ibufs(); }
Test(dbuf_small, same_mbuf_in_two_ibufs) { same_mbuf_in_two_ibufs(); }

Test(dbuf_small, pool_shortfall_is_a_clear_error)
{
	struct bl_dbuf *d = pkt_dbuf("short", 64, 32);
	struct bl_ibuf_opts o = ring_opts("short1", 16, BL_IBUF_FRP, 1);
	struct bl_ibuf *a, *b;
	struct bl_err err;

	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &a, &err), 0));
	o.name = "short2";
	o.capacity = 32;
	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &b, &err), -ENOSPC));
	cr_assert(strstr(err.msg, "pool has 64 mbufs; its rings could hold 48 and 32 must stay "
		"free for receive: raise n_mbufs to at least 80") != NULL, "%s", err.msg);
	/* a reload (or a tap) meets this with rings already running: say they hold some,
	 * and that the pool is made at start ("raise mbufs.count" read as a reload's) */
	cr_assert(strstr(err.msg, "a reload keeps it; 16 are held by rings already running") != NULL,
		  "%s", err.msg);
	cr_assert(eq(u64, d->reserved, 16));
	bl_dbuf_ibuf_free(d, a);
	bl_dbuf_free(d);
}

Test(dbuf_small, pool_shortfall_names_the_setting_to_raise)
{
	struct bl_dbuf_pkt_opts po = {
		.sz = sizeof(po), .name = "shortkey", .n_mbufs = 64, .cache_size = 0,
		.min_free = 32, .shm_flags = region_flags,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640, .count_key = "mbufs.count",
	};
	struct bl_ibuf_opts o = ring_opts("shortkey1", 64, BL_IBUF_FRP, 1);
	struct bl_dbuf *d = NULL;
	struct bl_ibuf *a;
	struct bl_err err;

	cr_assert(eq(int, bl_dbuf_pkt_create(&po, &d, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_dbuf_ibuf_create(d, &o, &a, &err), -ENOSPC));
	cr_assert(strstr(err.msg, "raise mbufs.count to at least 96") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "n_mbufs") == NULL, "%s", err.msg);
	bl_dbuf_free(d);
}

/* ---- record DBufs and splicing ---- */

static struct bl_dbuf *
rec_dbuf(const char *name, uint32_t size)
{
	struct bl_dbuf_rec_opts o = { .sz = sizeof(o), .name = name, .size = size,
		.shm_flags = region_flags, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct bl_dbuf *d = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_dbuf_rec_create(&o, &d, &err), 0), "%s", err.msg);
	return d;
}

static void
records_write_poke_append(void)
{
	struct bl_dbuf *d = rec_dbuf("rec", 4096);
	struct bl_dbuf_view v;
	struct bl_ibuf_entry e, e2;
	uint8_t *p;

	cr_assert(eq(int, bl_dbuf_view_init(&v, d->shm->base, d->shm->size), 0));
	cr_assert(eq(int, bl_dbuf_rec_write(d, "hello", 5, 3, &e), 0));
	cr_assert(eq(int, bl_dbuf_rec_append(d, ", world", 7, &e), 0));
	cr_assert(eq(u32, e.length, 12));
	cr_assert(eq(u32, e.offset, 8));
	cr_assert(eq(int, memcmp(bl_dbuf_view_ptr(&v, &e), "hello, world", 12), 0));
	p = bl_dbuf_rec_poke_acquire(d, 3);
	cr_assert(p != NULL);
	memcpy(p, "abc", 3);
	cr_assert(eq(int, bl_dbuf_rec_poke_complete(d, 3, 3, &e2), 0));
	cr_assert(eq(u32, e2.offset, 8 + 16 + 8));       /* 8-aligned after the 20-byte record */
	cr_assert(eq(int, memcmp(bl_dbuf_view_ptr(&v, &e2), "abc", 3), 0));
	cr_assert(eq(int, bl_dbuf_rec_append(d, "x", 1, &e), -EINVAL)); /* e is no longer open */
	cr_assert(eq(u64, d->hdr->written, 12));         /* poke copied nothing itself */
	cr_assert(eq(int, bl_dbuf_rec_poke_complete(d, 3, 3, &e2), -EINVAL)); /* nothing acquired */
	cr_assert(eq(ptr, bl_dbuf_rec_poke_acquire(d, 4000), NULL));  /* over half the ring */
	bl_dbuf_free(d);
}
Test(dbuf_small, records_write_poke_append) { records_write_poke_append(); }

static void
records_wrap_with_pad(void)
{
	struct bl_dbuf *d = rec_dbuf("wrap", 4096);
	struct bl_dbuf_view v;
	struct bl_ibuf_entry e;
	char buf[1500];
	/* 1508-byte records, 8-aligned to 1512: at 0, 1512, then 3024 would cross the
	 * end, so a pad record fills to 4096 and the ring starts over. */
	const uint32_t want[5] = { 8, 1520, 8, 1520, 8 };

	cr_assert(eq(int, bl_dbuf_view_init(&v, d->shm->base, d->shm->size), 0));
	struct bl_ibuf_entry all[5];

	for (unsigned i = 0; i < 5; i++) {
		memset(buf, 'A' + i, sizeof(buf));
		cr_assert(eq(int, bl_dbuf_rec_write(d, buf, sizeof(buf), 1, &e), 0));
		all[i] = e;
		cr_assert(eq(int, bl_dbuf_view_check(&v, &e), 1));
		cr_assert(eq(u32, e.offset, want[i]));
		cr_assert(eq(int, memcmp(bl_dbuf_view_ptr(&v, &e), buf, sizeof(buf)), 0));
	}
	cr_assert(eq(u32, ((struct bl_dbuf_rec *)(d->data + 3024))->flags, BL_DBUF_REC_F_PAD));
	cr_assert(eq(u32, ((struct bl_dbuf_rec *)(d->data + 3024))->length, 4096 - 3024 - 8));
	cr_assert(eq(u64, d->hdr->head, 2 * 4096 + 1508));
	/* headers at 0, 1512, 4096, 5608, 8192: with the writer at 9700, only records
	 * starting after 9700 - 4096 are intact */
	cr_assert(eq(u32, all[2].object, 1));                 /* second lap */
	cr_assert(eq(int, bl_dbuf_view_check(&v, &all[0]), 0));
	cr_assert(eq(int, bl_dbuf_view_check(&v, &all[1]), 0));
	cr_assert(eq(int, bl_dbuf_view_check(&v, &all[2]), 0));
	cr_assert(eq(int, bl_dbuf_view_check(&v, &all[3]), 1));
	cr_assert(eq(int, bl_dbuf_view_check(&v, &all[4]), 1));
	cr_assert(eq(int, memcmp(bl_dbuf_view_ptr(&v, &all[3]), "DDDD", 4), 0));
	cr_assert(eq(u64, d->hdr->written, 5 * 1500));
	bl_dbuf_free(d);
}
Test(dbuf_small, records_wrap_with_pad) { records_wrap_with_pad(); }

static void
splice_stores_only_an_index(void)
{
	struct bl_dbuf *pk = pkt_dbuf("splice", 64, 8);
	struct bl_dbuf *rec = rec_dbuf("through", 4096);
	struct bl_ibuf_opts o = ring_opts("splice", 16, BL_IBUF_SRP, 1);
	struct bl_ibuf_reader *r;
	struct bl_ibuf_entry e[4];
	struct bl_dbuf_view vp, vr;
	struct bl_ibuf *ib;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pk->mp);
	char *payload = rte_pktmbuf_append(m, 200), local[50];
	struct bl_ibuf_entry re;

	cr_assert(eq(int, bl_ibuf_mpipe(&o, 1, &ib, &r, NULL), 0));
	cr_assert(eq(int, bl_dbuf_view_init(&vp, pk->shm->base, pk->shm->size), 0));
	cr_assert(eq(int, bl_dbuf_view_init(&vr, rec->shm->base, rec->shm->size), 0));
	memset(payload, 'p', 200);
	cr_assert(eq(int, bl_dbuf_rec_write(rec, "record", 6, 2, &re), 0));
	/* data already in DBufs: a packet (part of it) and a record */
	cr_assert(eq(int, bl_dbuf_ibuf_write_data(ib, rec, payload + 20, 100, 5), 1));
	cr_assert(eq(int, bl_dbuf_ibuf_write_data(ib, rec, bl_dbuf_view_ptr(&vr, &re), 6, 6), 1));
	cr_assert(eq(u64, rec->hdr->written, 6));        /* no byte was copied by either */
	cr_assert(eq(u64, rec->hdr->head, 8 + 6));
	/* data from private memory is written through, once */
	memset(local, 'l', sizeof(local));
	cr_assert(eq(int, bl_dbuf_ibuf_write_data(ib, rec, local, 50, 7), 1));
	cr_assert(eq(u64, rec->hdr->written, 56));
	cr_assert(eq(u32, bl_ibuf_read(r, e, 4), 3));
	cr_assert(eq(u32, e[0].dbuf_id, pk->id));
	cr_assert(eq(u32, e[0].offset, RTE_PKTMBUF_HEADROOM + 20));
	cr_assert(eq(u32, e[0].length, 100));
	/* the entry is the very same memory: a later change shows through */
	cr_assert(eq(ptr, (void *)(uintptr_t)bl_dbuf_view_ptr(&vp, &e[0]), payload + 20));
	payload[20] = 'Z';
	cr_assert(eq(chr, *(const char *)bl_dbuf_view_ptr(&vp, &e[0]), 'Z'));
	cr_assert(eq(u32, e[1].dbuf_id, rec->id));
	cr_assert(eq(u32, e[1].offset, re.offset));
	cr_assert(eq(u32, e[2].dbuf_id, rec->id));
	cr_assert(eq(int, memcmp(bl_dbuf_view_ptr(&vr, &e[2]), local, 50), 0));
	cr_assert(bl_dbuf_view_ptr(&vr, &e[2]) != (const void *)local);
	rte_pktmbuf_free(m);
	bl_ibuf_reader_close(r);
	bl_ibuf_free(ib);
	bl_dbuf_free(rec);
	bl_dbuf_free(pk);
}
Test(dbuf_huge, splice_stores_only_an_index) { splice_stores_only_an_index(); }
Test(dbuf_small, splice_stores_only_an_index) { splice_stores_only_an_index(); }

/* A NIC's rx burst hands out mbufs of the DBuf's pool: the packet bytes it wrote
 * lie in the region, and a client reaches them with offsets alone. */
Test(dbuf_small, nic_rx_lands_in_region)
{
	struct bl_dbuf *d = pkt_dbuf("rx", 1024, 512);
	struct rte_eth_conf conf;
	struct bl_dbuf_view v;
	struct bl_ibuf_entry e;
	struct rte_mbuf *m[32];
	uint16_t n;

	memset(&conf, 0, sizeof(conf));
	cr_assert(eq(u16, rte_eth_dev_count_avail(), 1));
	cr_assert(eq(int, rte_eth_dev_configure(0, 1, 1, &conf), 0));
	cr_assert(eq(int, rte_eth_rx_queue_setup(0, 0, 256, SOCKET_ID_ANY, NULL, d->mp), 0));
	cr_assert(eq(int, rte_eth_tx_queue_setup(0, 0, 256, SOCKET_ID_ANY, NULL), 0));
	cr_assert(eq(int, rte_eth_dev_start(0), 0));
	cr_assert(eq(int, bl_dbuf_view_init(&v, d->shm->base, d->shm->size), 0));
	n = rte_eth_rx_burst(0, 0, m, 32);
	cr_assert(eq(u16, n, 32));
	for (uint16_t i = 0; i < n; i++) {
		const void *data = rte_pktmbuf_mtod(m[i], const void *);
		cr_assert(eq(ptr, m[i]->pool, d->mp));
		cr_assert(bl_shm_contains(d->shm, data, m[i]->data_len));
		bl_dbuf_entry_of(m[i], 1, &e);
		cr_assert(eq(u32, e.length, 64));           /* net_null's packet size */
		cr_assert(eq(ptr, (void *)(uintptr_t)bl_dbuf_view_ptr(&v, &e), (void *)(uintptr_t)data));
	}
	rte_pktmbuf_free_bulk(m, n);
	cr_assert(eq(int, rte_eth_dev_stop(0), 0));
	cr_assert(eq(int, rte_eth_dev_close(0), 0));
	bl_dbuf_free(d);
}
