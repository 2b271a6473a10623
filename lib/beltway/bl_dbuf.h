/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf — data buffers in shared regions.
 *
 * Packet DBuf: a DPDK pktmbuf pool whose header, ring and mbufs all lie in a
 * bl_shm region (rte_malloc_heap_create + rte_malloc_heap_memory_add, see
 * PLATFORM.md), so a NIC receives straight into memory a client can map
 * read-only. Every mbuf carries {dbuf id, object index} in its private area;
 * the region's objtab maps an object index to the offset of its data buffer,
 * which is all a client needs (bl_dbuf_view.h).
 *
 * Record DBuf: a byte ring of variable-length records (bl_dbuf_rec_*), for data
 * that is written rather than received; same regions and permissions.
 *
 * Ids are unique in the instance (this process): 1..65535.
 * Control path only; the burst helpers are in bl_dbuf_worker.h.
 */
#ifndef BL_DBUF_H
#define BL_DBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_ibuf.h"
#include "bl_shm.h"
#include "bl_shm_abi.h"

struct rte_mempool;
struct rte_mbuf;

struct bl_dbuf_pkt_opts {
	size_t sz;                 /* sizeof(struct bl_dbuf_pkt_opts) */
	const char *name;          /* region name */
	uint16_t id;               /* 0: the lowest free id */
	uint32_t n_mbufs;          /* objects in the pool */
	uint32_t cache_size;       /* per-lcore mempool cache */
	uint16_t data_room;        /* buffer bytes incl. headroom; 0 = RTE_MBUF_DEFAULT_BUF_SIZE */
	uint32_t min_free;         /* mbufs rings may never hold (rx descriptors, bursts in flight) */
	uint32_t shm_flags;        /* BL_SHM_F_* */
	const char *hugetlbfs_dir; /* see bl_shm_opts */
	uid_t uid;
	gid_t gid;
	mode_t mode;
	const char *count_key;     /* what sets n_mbufs, for errors (a literal; NULL: "n_mbufs") */
};

struct bl_dbuf_rec_opts {
	size_t sz;
	const char *name;
	uint16_t id;               /* 0: the lowest free id */
	uint32_t size;             /* ring bytes, a power of two >= 4096 */
	uint32_t shm_flags;
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/* What every mbuf of a packet DBuf carries in its private area. */
struct bl_dbuf_mbuf_priv {
	uint32_t object;
	uint16_t dbuf_id;
	uint16_t pad;
};

struct bl_dbuf {
	uint16_t id;
	uint16_t kind;             /* enum bl_dbuf_kind */
	struct bl_shm *shm;
	struct bl_dbuf_hdr *hdr;
	/* packet DBufs */
	struct rte_mempool *mp;
	struct rte_mbuf **objs;    /* object index -> mbuf */
	uint32_t n_objs;
	uint32_t min_free;
	const char *count_key;     /* from the opts: what to raise when the rings do not fit */
	uint64_t reserved;         /* mbufs the rings bound to this pool may hold */
	char heap[32];
	/* record DBufs (producer only) */
	uint8_t *data;
	uint64_t mask;
	uint64_t open_rec;         /* position of the open record, or UINT64_MAX */
	uint64_t poke_pos;         /* position handed out by poke_acquire, or UINT64_MAX */
	uint64_t rec_end;          /* absolute end of the last record */
	unsigned rec_shift;        /* log2(ring size) */
};

int bl_dbuf_pkt_create(const struct bl_dbuf_pkt_opts *o, struct bl_dbuf **out, struct bl_err *err);

/*
 * DPDK's secondary processes will attach (memory.multiprocess): packet DBufs made
 * from now on keep their pool's header and ring in EAL's memory, which those
 * processes map, and only the mbufs in the region (all a client reads). Without
 * it, the whole pool is in the region and a secondary that walks the mempool
 * list (dpdk-pdump, dpdk-proc-info) faults on it. Call before creating any.
 */
void bl_dbuf_set_multiprocess(bool on);
void bl_dbuf_free(struct bl_dbuf *d);
struct bl_dbuf *bl_dbuf_lookup(uint16_t id);

/* Bind a ring to the pool: it may hold up to n of its mbufs. -ENOSPC (with a
 * sentence) if the rings could then leave fewer than min_free mbufs. */
int bl_dbuf_reserve(struct bl_dbuf *d, uint32_t n, struct bl_err *err);
void bl_dbuf_unreserve(struct bl_dbuf *d, uint32_t n);
/* What receive keeps of the pool changed (a reload added or removed ports): the rings made
 * from now on (taps) are held to n. Rings that run already keep what they reserved. */
void bl_dbuf_set_min_free(struct bl_dbuf *d, uint32_t n);

/* Create an IBuf whose slots hold references on mbufs of d: reserves its capacity
 * on d and releases references with rte_pktmbuf_free. 0 or -errno. */
int bl_dbuf_ibuf_create(struct bl_dbuf *d, const struct bl_ibuf_opts *o, struct bl_ibuf **out,
	struct bl_err *err);
void bl_dbuf_ibuf_free(struct bl_dbuf *d, struct bl_ibuf *ib);

/* Record DBuf: a byte ring; see bl_dbuf_worker.h for write/poke/append. */
int bl_dbuf_rec_create(const struct bl_dbuf_rec_opts *o, struct bl_dbuf **out, struct bl_err *err);

/* Splice: if [p, p+len) lies inside a registered DBuf's data, fill e with its index
 * (no byte is copied) and return 0; -ENOENT if it lies in none. */
int bl_dbuf_splice(const void *p, uint32_t len, uint16_t cls, struct bl_ibuf_entry *e);

#endif /* BL_DBUF_H */
