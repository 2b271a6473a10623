/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_dbuf_perm — copy DBufs, one per (owner, group, mode) (see bl_dbuf_perm.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bl_dbuf_perm.h"

static struct bl_dbuf_perm perms[BL_DBUF_PERM_MAX];   /* main lcore only */

struct bl_dbuf_perm *
bl_dbuf_perm_at(unsigned int i)
{
	return i < BL_DBUF_PERM_MAX && perms[i].dbuf != NULL ? &perms[i] : NULL;
}

int
bl_dbuf_perm_same(const struct bl_dbuf *pkt, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat sb;

	if (pkt == NULL || fstat(pkt->shm->fd, &sb) < 0)
		return 0;
	/* who may read: the file has no write bit (bl_shm), and a stream's write bits mean nothing */
	return sb.st_uid == uid && sb.st_gid == gid && (sb.st_mode & 0555) == (mode & 0555);
}

/* Mbufs a copy pool for `users` rings of `capacity` slots in all must have:
 * the slots, a copy chunk in flight per ring, and what the per-lcore caches of
 * each ring's writer and of the main lcore (which frees the rings) may hold. */
static uint64_t
perm_slack(uint32_t users)
{
	return (uint64_t)users * BL_DBUF_COPY_CHUNK +
	       (uint64_t)(users + 1) * (BL_DBUF_PERM_CACHE * 3 / 2);
}

static void
perm_release(void *ctx, void **refs, unsigned n)
{
	(void)ctx;
	rte_pktmbuf_free_bulk((struct rte_mbuf **)refs, n);
}

/* A pool for p's triple sized for `capacity` slots of `users` rings, holding a
 * reservation of `reserved`; the old pool (if any) is the caller's to free. */
static int
perm_pool(const struct bl_dbuf_perm_opts *po, const struct bl_dbuf_perm *p, uint64_t capacity,
	uint32_t users, uint64_t reserved, struct bl_dbuf **out, struct bl_err *err)
{
	char name[BL_SHM_NAME_MAX];
	uint64_t slack = perm_slack(users), n = capacity + slack;
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = name, .n_mbufs = (uint32_t)n,
		.cache_size = BL_DBUF_PERM_CACHE, .data_room = (uint16_t)po->pkt->hdr->obj_size,
		.min_free = (uint32_t)slack, .hugetlbfs_dir = po->hugetlbfs_dir,
		.shm_flags = po->shm_flags |
			(po->pkt->shm->page_size >= BL_SHM_HUGE_PAGE ? 0 : BL_SHM_F_NO_HUGE),
		.uid = p->uid, .gid = p->gid, .mode = p->mode & 0777,
	};
	int rc;

	if (n > UINT32_MAX / 2)
		return bl_err_set(err, -E2BIG, "%llu mbufs are too many for one pool",
				  (unsigned long long)n);
	/* The packet DBuf's name and the triple (shown in /proc/PID/fd and maps). */
	snprintf(name, sizeof(name), "%s.%u.%u.%03o.%u", po->pkt->hdr->name,   /* cut to 47 */
		 (unsigned int)p->uid, (unsigned int)p->gid, (unsigned int)(p->mode & 0777), p->slot);
	rc = bl_dbuf_pkt_create(&o, out, err);
	if (rc < 0)
		return rc;
	rc = bl_dbuf_reserve(*out, (uint32_t)reserved, err);
	if (rc < 0) {
		bl_dbuf_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Once the workers run (bl_dbuf_perm_running), no pool is replaced: a running export
 * reads its pool per burst and its clients mapped the old region. */
static bool running;

void
bl_dbuf_perm_running(bool on)
{
	running = on;
}

/* Once the workers run, a pool no ring uses and none of whose mbufs is out goes (each
 * reload that outgrows a pool leaves one behind): true if p went. */
static bool
perm_reclaim(struct bl_dbuf_perm *p)
{
	if (!running || p->dbuf == NULL || p->users != 0 ||
	    rte_mempool_in_use_count(p->dbuf->mp) != 0)
		return false;
	bl_dbuf_free(p->dbuf);   /* clients that still map it keep their own mapping */
	memset(p, 0, sizeof(*p));
	return true;
}

/* A new pool for the triple in the free slot p (the name tells pools of one triple apart). */
static int
perm_new(const struct bl_dbuf_perm_opts *po, struct bl_dbuf_perm *p, uint32_t capacity,
	 struct bl_err *err)
{
	int rc;

	*p = (struct bl_dbuf_perm){ .uid = po->uid, .gid = po->gid, .mode = po->mode & 0777,
				    .slot = (unsigned int)(p - perms) };
	rc = perm_pool(po, p, capacity, 1, capacity, &p->dbuf, err);
	if (rc < 0) {
		memset(p, 0, sizeof(*p));
		return rc;
	}
	p->users = 1;
	p->capacity = capacity;
	return 0;
}

/* Find or make a copy DBuf of the triple with room reserved for capacity more slots: one
 * of the triple's with room; else, before anything runs and with none of its mbufs out,
 * the triple's grown (one pool per triple); else another pool for the triple. */
static int
perm_get(const struct bl_dbuf_perm_opts *po, uint32_t capacity, struct bl_dbuf_perm **out,
	 struct bl_err *err)
{
	struct bl_dbuf_perm *p = NULL, *grow = NULL, *free_slot = NULL;
	struct bl_dbuf *d;
	int rc;

	for (unsigned int i = 0; i < BL_DBUF_PERM_MAX && p == NULL; i++) {
		struct bl_dbuf_perm *q = &perms[i];
		if (q->dbuf == NULL) {
			if (free_slot == NULL)
				free_slot = q;
		} else if (q->uid == po->uid && q->gid == po->gid &&
			   (q->mode & 0777) == (po->mode & 0777)) {
			if (q->capacity + capacity + perm_slack(q->users + 1) <= q->dbuf->n_objs)
				p = q;             /* room left by rings freed before */
			else if (grow == NULL)
				grow = q;
		}
	}
	if (p != NULL) {
		rc = bl_dbuf_reserve(p->dbuf, capacity, err);
		if (rc < 0)
			return rc;
	} else if (grow != NULL && !running && rte_mempool_in_use_count(grow->dbuf->mp) == 0) {
		p = grow;
		rc = perm_pool(po, p, p->capacity + capacity, p->users + 1,
			       p->dbuf->reserved + capacity, &d, err);
		if (rc < 0)
			return rc;
		bl_dbuf_free(p->dbuf);
		p->dbuf = d;
	} else {
		for (unsigned int i = 0; i < BL_DBUF_PERM_MAX && free_slot == NULL; i++)
			if (perm_reclaim(&perms[i]))
				free_slot = &perms[i];
		if (free_slot == NULL)
			return bl_err_set(err, -ENOSPC, "at most %u copy pools (one or more a set of "
					  "permissions) may exist", BL_DBUF_PERM_MAX);
		rc = perm_new(po, free_slot, capacity, err);
		if (rc == 0)
			*out = free_slot;
		return rc;
	}
	p->users++;
	p->capacity += capacity;
	*out = p;
	return 0;
}

int
bl_dbuf_perm_ibuf_create(const struct bl_dbuf_perm_opts *po, const struct bl_ibuf_opts *o,
	struct bl_dbuf_perm **perm, struct bl_ibuf **out, struct bl_err *err)
{
	struct bl_ibuf_opts io;
	struct bl_dbuf_perm *p = NULL;
	int rc;

	if (po == NULL || po->sz < sizeof(*po) || po->pkt == NULL || po->pkt->kind != BL_DBUF_PKT ||
	    o == NULL)
		return bl_err_set(err, -EINVAL, "copy dbuf: need the packet DBuf to copy from");
	rc = perm_get(po, bl_ibuf_opts_slots(o), &p, err);
	if (rc < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return bl_err_set(err, rc, "cannot create a copy DBuf for owner %u group %u mode "
				  "%04o (%u slots): %s", (unsigned int)po->uid, (unsigned int)po->gid,
				  (unsigned int)(po->mode & 0777), bl_ibuf_opts_slots(o), why);
	}
	io = *o;
	io.release = perm_release;
	io.release_ctx = p;
	rc = bl_ibuf_create(&io, out, err);
	if (rc < 0) {
		bl_dbuf_unreserve(p->dbuf, bl_ibuf_opts_slots(o));
		p->users--;
		p->capacity -= bl_ibuf_opts_slots(o);
		return rc;
	}
	*perm = p;
	return 0;
}

void
bl_dbuf_perm_ibuf_free(struct bl_dbuf_perm *p, struct bl_ibuf *ib)
{
	uint32_t cap;

	if (ib == NULL)
		return;
	cap = ib->max_cap;  /* what create reserved: the slots it may grow to */
	bl_ibuf_free(ib);   /* releases the copies its slots hold */
	if (p == NULL)
		return;
	bl_dbuf_unreserve(p->dbuf, cap);
	p->capacity -= cap <= p->capacity ? cap : p->capacity;
	if (p->users > 0)
		p->users--;
	perm_reclaim(p);   /* running, and its last ring went: the pool too */
}

void
bl_dbuf_perm_free_all(void)
{
	for (unsigned int i = 0; i < BL_DBUF_PERM_MAX; i++)
		if (perms[i].dbuf != NULL && perms[i].users == 0) {
			bl_dbuf_free(perms[i].dbuf);
			memset(&perms[i], 0, sizeof(perms[i]));
		}
}
