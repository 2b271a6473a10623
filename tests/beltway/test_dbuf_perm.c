/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copy DBufs (bl_dbuf_perm): the page kind follows the packet DBuf's
 * (hugepages when it has them, ordinary shared memory otherwise), the
 * region gets the triple, equal triples share and grow, growing is refused
 * while an mbuf is out, and bl_dbuf_copy_write copies and stores. Two suites,
 * as in test_dbuf.c: huge pages, and the fallback (EAL --no-huge).
 */
#include <stdbool.h>
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bl_dbuf_perm.h"
#include "bl_dbuf_perm_worker.h"

static uint32_t region_flags;
static char eal_rundir[256];
static struct bl_dbuf *pkt;

static void
remove_eal_rundir(void)
{
	if (eal_rundir[0] != '\0')
		rmdir(eal_rundir);
}

static void
eal_up(int huge)
{
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = "perm_pkts", .n_mbufs = 1023, .cache_size = 0,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_err err;
	char prefix[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "bl_perm_%d", (int)getpid());
	argv[argc++] = "test_dbuf_perm";
	argv[argc++] = "--no-pci";
	if (huge)
		argv[argc++] = "--in-memory";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = "--log-level";
	argv[argc++] = "*:error";
	if (!huge) {
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
		argv[argc++] = "-m";
		argv[argc++] = "64";
	}
	region_flags = huge ? BL_SHM_F_HUGE_REQUIRE : BL_SHM_F_NO_HUGE;
	atexit(remove_eal_rundir);   /* before EAL's: runs after its exit handlers */
	cr_assert(rte_eal_init(argc, argv) >= 0, "EAL init failed");
	snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
	o.shm_flags = region_flags;
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &pkt, &err), 0), "%s", err.msg);
}

static void
eal_down(void)
{
	bl_dbuf_perm_free_all();
	bl_dbuf_free(pkt);
	rte_eal_cleanup();
}

static void huge_up(void) { eal_up(1); }
static void small_up(void) { eal_up(0); }

TestSuite(perm_huge, .init = huge_up, .fini = eal_down, .timeout = 30);
TestSuite(perm_small, .init = small_up, .fini = eal_down, .timeout = 30);

static struct bl_ibuf *
ring(uint32_t cap, mode_t mode, struct bl_dbuf_perm **p)
{
	static unsigned int k;
	char name[32];
	struct bl_dbuf_perm_opts po = {
		.sz = sizeof(po), .pkt = pkt, .uid = geteuid(), .gid = getegid(), .mode = mode,
	};
	struct bl_ibuf_opts io = {
		.sz = sizeof(io), .name = name, .capacity = cap, .policy = BL_IBUF_FRP,
		.max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600,
	};
	struct bl_ibuf *ib = NULL;
	struct bl_err err;

	snprintf(name, sizeof(name), "perm%u", k++);
	cr_assert(eq(int, bl_dbuf_perm_ibuf_create(&po, &io, p, &ib, &err), 0), "%s", err.msg);
	return ib;
}

static void
copy_follows_the_packet_dbufs_pages(void)
{
	struct bl_dbuf_perm *p;
	struct bl_ibuf *ib = ring(64, 0600, &p);
	struct stat sb;

	cr_assert(eq(sz, p->dbuf->shm->page_size, pkt->shm->page_size));
	cr_assert(eq(int, fstat(p->dbuf->shm->fd, &sb), 0));
	cr_assert(eq(u32, sb.st_mode & 0777, 0400));   /* 0600 asked: no write bit */
	cr_assert(eq(int, bl_dbuf_perm_same(pkt, geteuid(), getegid(), 0640), 1));
	cr_assert(eq(int, bl_dbuf_perm_same(pkt, geteuid(), getegid(), 0600), 0));
	bl_dbuf_perm_ibuf_free(p, ib);
}

Test(perm_huge, copy_dbuf_has_huge_pages_like_the_packet_dbuf)
{
	cr_assert(eq(sz, pkt->shm->page_size, BL_SHM_HUGE_PAGE));
	copy_follows_the_packet_dbufs_pages();
}

Test(perm_small, copy_dbuf_has_small_pages_like_the_packet_dbuf)
{
	cr_assert(lt(sz, pkt->shm->page_size, BL_SHM_HUGE_PAGE));
	copy_follows_the_packet_dbufs_pages();
}

/* A second ring of the triple that does not fit: the pool grows while nothing runs and
 * none of its mbufs is out (one pool per triple); with an mbuf out (the reload was refused:
 * -EBUSY), or once the workers run, it gets a pool of its own and the first ring's pool
 * stays what its clients mapped (it was freed and replaced under a running export). */
static void
second_ring(bool mbuf_out, bool is_running)
{
	struct bl_dbuf_perm *p, *q = NULL;
	struct bl_ibuf *a = ring(64, 0600, &p), *b = NULL;
	struct bl_dbuf_perm_opts po = {
		.sz = sizeof(po), .pkt = pkt, .uid = geteuid(), .gid = getegid(), .mode = 0600,
	};
	struct bl_ibuf_opts io = {
		.sz = sizeof(io), .name = "grow", .capacity = 512, .policy = BL_IBUF_SRP,
		.max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600,
	};
	struct bl_dbuf *first = p->dbuf;
	struct rte_mbuf *m = mbuf_out ? rte_pktmbuf_alloc(p->dbuf->mp) : NULL;
	struct bl_err err;

	cr_assert(mbuf_out == (m != NULL));
	if (is_running)
		bl_dbuf_perm_running(true);
	cr_assert(eq(int, bl_dbuf_perm_ibuf_create(&po, &io, &q, &b, &err), 0), "%s", err.msg);
	if (mbuf_out || is_running) {
		cr_assert(q != p, "a pool of its own");
		cr_assert(p->dbuf == first, "the first ring's pool is not replaced");
		cr_assert(eq(u32, p->users, 1));
		cr_assert(eq(u32, q->users, 1));
		cr_assert(q->dbuf->n_objs >= 512);
		cr_assert(q->dbuf->id != p->dbuf->id);
	} else {
		cr_assert(q == p, "one pool for the triple, grown");
		cr_assert(eq(u32, p->users, 2));
		cr_assert(p->dbuf->n_objs >= 64 + 512);
		cr_assert(eq(u64, p->dbuf->reserved, 64 + 512));
	}
	rte_pktmbuf_free(m);
	bl_dbuf_perm_ibuf_free(q, b);
	bl_dbuf_perm_ibuf_free(p, a);
	cr_assert(eq(u32, p->users, 0));
	if (is_running)   /* no ring uses it, no mbuf out: gone (the next test) */
		cr_assert(p->dbuf == NULL);
	else
		cr_assert(eq(u64, p->dbuf->reserved, 0));
	bl_dbuf_perm_free_all();
}

Test(perm_small, a_second_ring_grows_the_pool_while_nothing_runs) { second_ring(false, false); }
Test(perm_small, a_second_ring_gets_its_own_pool_while_an_mbuf_is_out) { second_ring(true, false); }
/* Once the workers run, a pool whose last ring goes, none of its mbufs out, goes too (each
 * reload that outgrew a pool left one behind, until 32 made every new one -ENOSPC). */
Test(perm_small, once_running_a_pool_without_rings_goes)
{
	struct bl_dbuf_perm *p, *q;
	struct bl_ibuf *a, *b;

	bl_dbuf_perm_running(true);
	for (int k = 0; k < 40; k++) {   /* more than BL_DBUF_PERM_MAX pools in turn */
		a = ring(64, 0600, &p);
		cr_assert(p->dbuf != NULL);
		bl_dbuf_perm_ibuf_free(p, a);
		cr_assert(p->dbuf == NULL, "round %d: the pool went with its last ring", k);
	}
	a = ring(64, 0600, &p);
	b = ring(64, 0600, &q);
	bl_dbuf_perm_ibuf_free(q, b);
	cr_assert(p->dbuf != NULL, "a ring still uses it");
	bl_dbuf_perm_ibuf_free(p, a);
	cr_assert(p->dbuf == NULL);
}

/* last in its suite: the flag stays set in this process (criterion forks per test) */
Test(perm_small, a_second_ring_gets_its_own_pool_once_the_workers_run) { second_ring(false, true); }

Test(perm_small, copy_write_stores_copies_that_the_ring_owns)
{
	struct bl_dbuf_perm *p;
	struct bl_ibuf *ib = ring(8, 0600, &p);
	struct rte_mbuf *in[20];
	uint16_t cls[20];
	uint64_t nombuf = 0;

	for (unsigned int i = 0; i < 20; i++) {
		in[i] = rte_pktmbuf_alloc(pkt->mp);
		cr_assert(in[i] != NULL);
		memset(rte_pktmbuf_append(in[i], 100), (int)i, 100);
		cls[i] = (uint16_t)(i + 1);
	}
	cr_assert(eq(u32, bl_dbuf_copy_write(ib, p->dbuf->mp, in, cls, 20, &nombuf), 20));
	cr_assert(eq(u64, nombuf, 0));
	cr_assert(eq(u32, rte_mempool_in_use_count(p->dbuf->mp), 8), "FRP: the last 8 slots own theirs");
	for (uint64_t s = 12; s < 20; s++) {
		const struct bl_ibuf_entry *e = &ib->slots[s & ib->mask];
		struct rte_mbuf *c = bl_dbuf_mbuf_of(p->dbuf, e);

		cr_assert(c != NULL && c != in[s]);
		cr_assert(eq(u16, e->cls, s + 1));
		cr_assert(eq(u8, *rte_pktmbuf_mtod(c, uint8_t *), (uint8_t)s));
	}
	rte_pktmbuf_free_bulk(in, 20);   /* the originals stayed ours */
	cr_assert(eq(u32, rte_mempool_avail_count(pkt->mp), pkt->mp->size));
	bl_dbuf_perm_ibuf_free(p, ib);
	cr_assert(eq(u32, rte_mempool_avail_count(p->dbuf->mp), p->dbuf->mp->size));
}
