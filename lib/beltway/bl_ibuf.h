/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ibuf — index buffers: rings of 16-byte rich pointers in shared memory,
 * one producer, up to BL_IBUF_MAX_READERS readers, policy SRP, MRP, FRP or BLOCK.
 *
 * Control path (this header): create, attach and detach readers, hand a reader
 * its fds, stats. The burst calls are static inline in bl_ibuf_worker.h.
 * No DPDK here: the zero-copy lifetime of mbufs is plugged in through
 * `release` (bl_dbuf.h supplies one); any other reference-counted object works.
 *
 * Threads: one producer thread calls the producer-side worker calls; each reader
 * handle belongs to one thread. Control calls (attach/detach/stats) may run on
 * another thread while the producer and readers run.
 */
#ifndef BL_IBUF_H
#define BL_IBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_shm.h"
#include "bl_shm_abi.h"

/* Called by the producer thread with references whose slots no longer need them. */
typedef void (*bl_ibuf_release_fn)(void *ctx, void **refs, unsigned n);

struct bl_ibuf_opts {
	size_t sz;                  /* sizeof(struct bl_ibuf_opts) */
	const char *name;           /* ring name (region name "ibuf.NAME") */
	uint32_t capacity;          /* slots: a power of two, 2 .. 2^30 */
	uint32_t max_capacity;      /* slots it may grow to (bl_ibuf_resize): a power of two,
	                             * >= capacity; 0: capacity (fixed) */
	uint32_t policy;            /* enum bl_ibuf_policy */
	uint32_t max_readers;       /* reader pages to create, 1 .. BL_IBUF_MAX_READERS */
	uid_t uid;                  /* owner of the regions; (uid_t)-1 keeps ours */
	gid_t gid;
	mode_t mode;                /* 0 means 0600 */
	bl_ibuf_release_fn release; /* NULL: slots hold no references */
	void *release_ctx;
};

/*
 * Batching granularity of a ring of `cap` slots (rule P2 in bl_ibuf_worker.h): the
 * producer stores the FRP/MRP reserve this far ahead of the batch it writes (and a
 * reader publishes its position at most this far apart, bl_ibuf__pub_step below).
 * 1/16 of the ring from 256 slots on; smaller rings (tests, control rings) stay exact.
 */
static inline uint32_t
bl_ibuf__step(uint32_t cap)
{
	return cap >= 256 ? cap / 16 : 0;
}

/*
 * A reader publishes its position (rule R3 in bl_ibuf_worker.h) once it moved this far,
 * or its ring's step if that is smaller, and whenever it caught up with the head it saw
 * last. The producer releases the packets every reader passed (P5), so a reader that
 * publishes in jumps of a step (2048 entries at capacity 32768) swings the number of
 * packets out of the pool by as much: more than the pool's per-lcore cache takes
 * (mbufs.cache, 256 by default). The rest goes through the pool's common ring, first
 * in first out, and the producer gets back packets it last touched tens of thousands of
 * packets ago, cold. A reader that keeps up catches up often and never showed it; one
 * that stays behind the head did: a reader 256 entries behind took `gen | export` from
 * 64 to 28 Mpps (bench/fanout.sh's machine, 2026-12-05), 65 with this. Half the
 * producer's refresh interval: a refresh sees each position at most this far behind.
 */
#define BL_IBUF_PUB_EVERY 64u

static inline uint32_t
bl_ibuf__pub_step(uint32_t cap)
{
	uint32_t s = bl_ibuf__step(cap);

	return s < BL_IBUF_PUB_EVERY ? s : BL_IBUF_PUB_EVERY;
}

/* The slots a ring made with o has (what its DBuf must reserve mbufs for): it may grow to
 * max_capacity. */
static inline uint32_t
bl_ibuf_opts_slots(const struct bl_ibuf_opts *o)
{
	return o->max_capacity > o->capacity ? o->max_capacity : o->capacity;
}

/* prod->geom: the capacity in effect (a power of two) and the seq it applies from. */
static inline uint64_t
bl_ibuf__geom(uint64_t since, uint32_t cap)
{
	return since << 6 | (uint64_t)__builtin_ctz(cap);
}

static inline uint32_t
bl_ibuf__geom_cap(uint64_t g)
{
	return (g & 63) < 31 ? 1u << (g & 63) : 0;
}

static inline uint64_t
bl_ibuf__geom_since(uint64_t g)
{
	return g >> 6;
}

/* The oldest entry a reader may read under geom g (P4 in bl_ibuf_worker.h): after a
 * growth to cap at since, [since - cap/2, since) kept their slots; nothing older did.
 * (After a shrink every reader is at since already.) */
static inline uint64_t
bl_ibuf__geom_floor(uint64_t g)
{
	uint64_t since = bl_ibuf__geom_since(g), half = bl_ibuf__geom_cap(g) / 2;

	return since - (since < half ? since : half);
}

/*
 * How often the producer looks at its readers when the ring is not full (rule P3 in
 * bl_ibuf_worker.h): at least once per this many entries, so the packets of a ring
 * its readers passed (all of them, when none is attached) go back to the pool within
 * a few bursts, while the pool's per-lcore cache (mbufs.cache, 256 by default) still
 * holds them: a stream of capacity C no longer keeps C packets out of the pool and
 * out of the cache. Measured in bench/fanout.sh: SRP with no reader 25 -> 87 Mpps.
 */
#define BL_IBUF_REFRESH_EVERY 128u

/* Producer handle: private memory of the producing process. */
struct bl_ibuf {
	/* read-mostly */
	struct bl_ibuf_hdr *hdr;
	struct bl_ibuf_prod *prod;
	struct bl_ibuf_mrp *mrp;
	struct bl_ibuf_entry *slots;
	struct bl_ibuf_rpage *rpage[BL_IBUF_MAX_READERS];
	uint64_t mask;
	uint32_t cap;
	uint32_t policy;
	uint32_t max_readers;
	void **refs;                /* refs[slot]: reference the slot holds, or NULL */
	bl_ibuf_release_fn release;
	void *release_ctx;
	struct bl_shm *shm;
	struct bl_shm *mrp_shm;
	struct bl_shm *rshm[BL_IBUF_MAX_READERS];
	uint64_t handed;            /* control: bit i, page i was given to a reader (a new
	                             * attach at i gets a fresh page: bl_ibuf_reader_alloc) */
	int mrp_handed;             /* control: the MRP page was given to a reader (the first
	                             * MRP reader after none gets a fresh one) */
	/* producer thread only, own cache line */
	_Alignas(64) uint64_t head; /* next seq to write (== prod->head once published) */
	uint64_t tail;              /* oldest seq still protected (SRP/MRP/BLOCK) */
	uint64_t limit;             /* tail + cap: writes below this need no refresh */
	uint64_t released;          /* refs of seqs below this are released (SRP/MRP) */
	uint64_t reserve_pub;       /* the reserve as last stored in prod->reserve (P2) */
	uint64_t tail_pub;          /* prod->tail as last stored */
	uint64_t lost_below;        /* FRP: seqs below this lost their slots (overwritten counted) */
	uint32_t step;              /* bl_ibuf__step(cap): how far ahead the reserve is stored */
	uint64_t refresh_at;        /* refresh once head reaches this, room or not (P3) */
	uint64_t resize_at;         /* the capacity becomes resize_to when head reaches this
	                             * (UINT64_MAX: no resize planned; rule P4) */
	uint32_t resize_to;
	uint32_t max_cap;           /* slots present (hdr->capacity) */
	uint32_t resize_req;        /* control: the capacity asked for (bl_ibuf_resize), 0 none */
	int exact;                  /* reserve stored per burst, references released below
	                             * every attached reader's position (P5): an FRP or MRP
	                             * ring, or an SRP ring with an MRP or FRP reader attached
	                             * (decided at each refresh) */
};

/* Reader handle: private memory of the reading thread or process. */
struct bl_ibuf_reader {
	const struct bl_ibuf_hdr *hdr;
	const struct bl_ibuf_prod *prod;
	struct bl_ibuf_mrp *mrp;
	const struct bl_ibuf_entry *slots;
	struct bl_ibuf_rpage *page;
	uint64_t mask;
	uint32_t cap;
	uint32_t policy;            /* this reader's (prod->reader_policy[idx]), not the ring's */
	unsigned idx;               /* reader page index */
	uint64_t bit;               /* 1 << idx */
	uint32_t gen;               /* prod->reader_gen[idx] when attached (bl_ibuf_check) */
	uint64_t pos;               /* next seq to acquire */
	uint64_t pub;               /* position last published in page->pos */
	uint64_t skipped;           /* entries lost to laps since the last publish */
	uint64_t head_cache;        /* prod->head as last loaded */
	uint64_t geom;              /* prod->geom as last applied (cap, mask, step follow it) */
	uint32_t step;              /* bl_ibuf__pub_step(cap): publish pos at least this often (R3) */
	struct bl_shm *shm;         /* own mapping (process reader), else NULL */
};

/* What a reader in another process needs. ring_fd is a new fd, the caller's to close;
 * page_fd and mrp_fd are the ring's own: pass them, never close them. page_fd is valid
 * until the page's next attach, which gets a fresh page: the reader it was given to
 * can reach no later reader's page, whatever it keeps (bl_ibuf_reader_alloc). */
struct bl_ibuf_fds {
	int ring_fd;                /* read-only fd of the ring region */
	int page_fd;                /* read-write fd of this reader's page */
	int mrp_fd;                 /* read-write fd of the MRP page (MRP only, else -1) */
	unsigned idx;               /* reader page index */
};

struct bl_ibuf_reader_stats {
	int active;
	uint32_t policy;            /* enum bl_ibuf_policy the reader reads with */
	uint32_t pid;
	uint64_t pos, consumed, lost, laps, check_fail, clamps;
};

struct bl_ibuf_stats {
	uint64_t head, tail, written, dropped, waits, clamps, overwritten, detached;
	uint32_t n_active;
	struct bl_ibuf_reader_stats r[BL_IBUF_MAX_READERS];
};

/* Create a ring (regions, reader pages) with no reader attached. 0 or -errno. */
int bl_ibuf_create(const struct bl_ibuf_opts *o, struct bl_ibuf **out, struct bl_err *err);

/* Create a ring and attach n in-process readers in one call (an mpipe). 0 or -errno. */
int bl_ibuf_mpipe(const struct bl_ibuf_opts *o, unsigned n, struct bl_ibuf **out,
	struct bl_ibuf_reader **readers, struct bl_err *err);

/* Release every reference still held, unmap, close. NULL is fine. Readers first. */
void bl_ibuf_free(struct bl_ibuf *ib);

/* Control: claim a free reader page, position it at the head, mark it active.
 * A page that was handed to a reader before is first replaced by a fresh memfd,
 * so no earlier reader (which may keep its mapping and descriptor) can reach it.
 * pid is recorded for the control plane (0 = this process). Returns the index or -errno. */
int bl_ibuf_reader_alloc(struct bl_ibuf *ib, uint32_t pid);

/* The same, reading with `policy` (0: the ring's). An SRP ring takes SRP, MRP and FRP
 * readers, an MRP ring MRP and FRP readers, FRP and BLOCK rings only their own: the
 * producer never waits for more than the ring's policy says. SRP readers hold the
 * producer back by their own positions, MRP readers by the R they share, FRP readers
 * not at all (they check and skip forward when lapped). Index, -EINVAL (a policy the
 * ring does not take) or -ENOSPC. */
int bl_ibuf_reader_alloc_as(struct bl_ibuf *ib, uint32_t pid, uint32_t policy);

/* Whether ring policy `ring` takes readers of policy `reader`. (The policies'
 * names are lib/stream/bl_stream_proto.h's, which clients share.) */
int bl_ibuf_policy_allows(uint32_t ring, uint32_t reader);

/* Control: a reader is gone (closed, or found dead). SRP/MRP stop waiting for it. 0 or -errno. */
int bl_ibuf_reader_detach(struct bl_ibuf *ib, unsigned idx);

/* Fds for a reader in another process (alloc'ed at idx). 0 or -errno. */
int bl_ibuf_reader_fds(const struct bl_ibuf *ib, unsigned idx, struct bl_ibuf_fds *fds);

/* In-process reader over the producer's mapping: alloc + handle. 0 or -errno. */
int bl_ibuf_reader_attach(struct bl_ibuf *ib, struct bl_ibuf_reader **out);

/* The same, reading with `policy` (see bl_ibuf_reader_alloc_as). 0 or -errno. */
int bl_ibuf_reader_attach_as(struct bl_ibuf *ib, uint32_t policy, struct bl_ibuf_reader **out);

/* Reader in another process: map the ring read-only and its own page read-write,
 * validating the header (magic, version, sizes). 0 or -errno. */
int bl_ibuf_reader_open(const struct bl_ibuf_fds *fds, struct bl_ibuf_reader **out);

/* Free a reader handle (publishes nothing; detach is the control plane's job). */
void bl_ibuf_reader_close(struct bl_ibuf_reader *r);

/*
 * Control: ask the producer to change the ring's capacity to cap: twice or half the
 * capacity in effect (bl_ibuf_capacity), within 2..max_capacity. The producer does it
 * at a burst boundary (rule P4 in bl_ibuf_worker.h): growing at the next sequence
 * number where every entry still in the ring has the same slot under both
 * capacities, so no reader loses one; shrinking only once every reader has read
 * everything (its published position is the head). A pending request is replaced
 * (one may be lost: ask again while the reason holds). 0 or -EINVAL. Readers follow
 * prod->geom.
 */
int bl_ibuf_resize(struct bl_ibuf *ib, uint32_t cap);

/* Any thread: the capacity in effect (prod->geom). */
uint32_t bl_ibuf_capacity(const struct bl_ibuf *ib);

/* Producer thread: release references of everything all readers have passed. */
void bl_ibuf_reclaim(struct bl_ibuf *ib);

/* Any thread: a snapshot of the counters. */
void bl_ibuf_stats(const struct bl_ibuf *ib, struct bl_ibuf_stats *st);

#endif /* BL_IBUF_H */
