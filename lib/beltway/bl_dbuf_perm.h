/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf_perm — copy DBufs: a packet DBuf per set of permissions.
 *
 * A client that may open a stream maps the DBufs the stream's entries point
 * into. When a stream's (owner, group, mode) equal those of the packet DBuf
 * the NIC receives into, its entries point there (zero copy). When they
 * differ, the stream gets a copy DBuf: a pktmbuf pool in its own region,
 * created with the stream's owner, group and mode, into which the export
 * copies each packet once (bl_dbuf_perm_worker.h). Streams with the same
 * triple share a copy DBuf, so a packet in a copy DBuf is one that some
 * stream with exactly those permissions carries.
 *
 * Sizing: a copy DBuf holds the capacities of the rings that use it plus
 * in-flight slack (a copy chunk per ring and the per-lcore caches); its rings
 * reserve their capacity on it (bl_dbuf_reserve). A second ring with the same
 * triple grows the pool, by creating a bigger one and freeing the old, only
 * while the graphs are being built (before bl_dbuf_perm_running) and no mbuf
 * of it is out. Later (a reload, a tap, an edit: the triple's rings run, their
 * clients mapped the pool) a ring that does not fit gets another pool of the
 * triple, never a replaced one.
 *
 * Lifetime: a copy DBuf stays in the table when its last ring is freed, so
 * the appliance can count its mbufs at exit like the packet pool's
 * (bl_dbuf_perm_at), then bl_dbuf_perm_free_all frees it.
 *
 * Control path only, main lcore only (like bl_dbuf_reserve and the id
 * registry); the hot path reads p->dbuf->mp, which changes only while nothing
 * runs (bl_dbuf_perm_running).
 */
#ifndef BL_DBUF_PERM_H
#define BL_DBUF_PERM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_dbuf.h"
#include "bl_err.h"
#include "bl_ibuf.h"

#define BL_DBUF_PERM_MAX   32u   /* distinct triples in one instance */
/* Per-lcore mempool cache of a copy pool. The writer's copies come back at each
 * refresh (every BL_IBUF_REFRESH_EVERY entries, P5 of bl_ibuf_worker.h) once a
 * reader passed them: the cache must hold that many and a burst on top, or every
 * get refills from the pool's common ring, first in first out, with copies last
 * touched a ring ago (at 32 a copying stream ran at a third of the rate). */
#define BL_DBUF_PERM_CACHE 256u
#define BL_DBUF_COPY_CHUNK 32u   /* packets copied before they are stored (in flight) */
_Static_assert(BL_DBUF_PERM_CACHE >= 2 * BL_IBUF_REFRESH_EVERY,
	       "a copy pool's cache holds what one refresh gives back and a burst more");

struct bl_dbuf_perm {
	uid_t uid;                 /* the key: the copy DBuf's owner, group, mode */
	gid_t gid;
	mode_t mode;
	struct bl_dbuf *dbuf;      /* the copy pool (kind packet); NULL: slot unused */
	uint32_t users;            /* rings using it now */
	uint64_t capacity;         /* their capacities: what the pool is sized for */
	unsigned int slot;         /* its index in the table: in the region's name */
};

struct bl_dbuf_perm_opts {
	size_t sz;                 /* sizeof(struct bl_dbuf_perm_opts) */
	const struct bl_dbuf *pkt; /* the packet DBuf: region name, data room, page kind */
	uid_t uid;
	gid_t gid;
	mode_t mode;
	const char *hugetlbfs_dir; /* see bl_shm_opts (tests); NULL: memfd */
	uint32_t shm_flags;        /* BL_SHM_F_*; NO_HUGE is added when pkt has small pages */
};

/* 1 if a region with (uid, gid, mode & 0777) is exactly what the packet DBuf
 * pkt is (its file's owner, group and mode): then a stream needs no copy. */
int bl_dbuf_perm_same(const struct bl_dbuf *pkt, uid_t uid, gid_t gid, mode_t mode);

/*
 * An IBuf whose slots own copies in the copy DBuf of (uid, gid, mode): finds
 * or creates that DBuf (growing it for o->capacity more slots) and reserves
 * the capacity on it; the slots release with rte_pktmbuf_free. *perm gets the
 * copy DBuf. 0 or -errno with err saying why (naming the triple).
 */
int bl_dbuf_perm_ibuf_create(const struct bl_dbuf_perm_opts *po, const struct bl_ibuf_opts *o,
	struct bl_dbuf_perm **perm, struct bl_ibuf **out, struct bl_err *err);
/* Free the ring (releasing every copy it holds), then its reservation. */
void bl_dbuf_perm_ibuf_free(struct bl_dbuf_perm *p, struct bl_ibuf *ib);

/* Slot i of the table (0 .. BL_DBUF_PERM_MAX-1), or NULL if unused. */
struct bl_dbuf_perm *bl_dbuf_perm_at(unsigned int i);

/* The workers run from now on (on): no copy pool is replaced any more (a ring that does
 * not fit one of its triple's pools gets a new pool), and a pool goes with its last ring.
 * Off once they stopped: the pools stay for the exit report's count. */
void bl_dbuf_perm_running(bool on);

/* Free every copy DBuf no ring uses any more (at exit, after the rings). */
void bl_dbuf_perm_free_all(void);

#endif /* BL_DBUF_PERM_H */
