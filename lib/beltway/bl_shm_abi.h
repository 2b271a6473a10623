/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_shm_abi — the shared-memory contract between the appliance and its readers.
 *
 * This header needs only <stdint.h>: a DPDK-free client library includes it as
 * is. Everything here lies in memory that more than one process maps, so:
 *   - nothing holds a pointer: only offsets (from the start of a region) and ids;
 *   - every region starts with a magic cookie and a version;
 *   - every size and offset a peer relies on is fixed by a _Static_assert;
 *   - every field says who writes it:
 *       (c) creator, once, before any peer maps the region; constant afterwards
 *       (p) producer (the appliance's writer lcore)
 *       (r) the reader that owns the page (a client may write it: untrusted)
 *       (R) any reader (MRP shared pointer; untrusted)
 *     and everyone else only reads it.
 * docs/shm-abi.md is the prose version of this file; keep them in step.
 *
 * IBuf region (4 KiB pages, so each reader page can be given its own fd):
 *
 *   off 0            +---------------------------+
 *                    | struct bl_ibuf_hdr    (c) |  page 0
 *   hdr.off_prod     +---------------------------+
 *                    | struct bl_ibuf_prod   (p) |  page 1
 *   hdr.off_mrp      +---------------------------+
 *                    | struct bl_ibuf_mrp    (R) |  page 2 (own memfd)
 *   hdr.off_readers  +---------------------------+
 *                    | struct bl_ibuf_rpage  (r) |  reader 0 (own memfd)
 *                    | ... hdr.reader_stride ... |  reader i at off_readers + i*stride
 *   hdr.off_slots    +---------------------------+
 *                    | struct bl_ibuf_entry  (p) |  capacity slots, 16 bytes each,
 *                    | ...                       |  entry seq at slot seq & (capacity-1)
 *                    +---------------------------+
 *
 * Packet/record DBuf region (huge pages when available):
 *
 *   off 0            +---------------------------+
 *                    | struct bl_dbuf_hdr    (c) |
 *   hdr.off_objtab   | uint64_t objtab[n_objs] (c): offset of object i's data buffer
 *   hdr.off_data     +---------------------------+
 *                    | mempool memory / byte ring|  (p)
 *                    +---------------------------+
 */
#ifndef BL_SHM_ABI_H
#define BL_SHM_ABI_H

#include <stdint.h>

#define BL_SHM_ABI_VERSION   4u
#define BL_IBUF_MAGIC        0x4655424954424c42ull  /* "BLTIBUF" + 'F', little endian */
#define BL_DBUF_MAGIC        0x4655424454424c42ull  /* "BLTDBUF" + 'F' */
#define BL_SHM_META_PAGE     4096u                  /* unit of the separately mapped pages */
#define BL_IBUF_MAX_READERS  64u
#define BL_SHM_NAME_MAX      48u
#define BL_SHM_CACHE_LINE    64u

/* Ring policies (bl_ibuf_hdr.policy) and reader policies (bl_ibuf_prod.reader_policy).
 * A reader reads with its ring's policy or a looser one: an SRP ring takes SRP, MRP and
 * FRP readers, an MRP ring MRP and FRP readers, FRP and BLOCK rings only their own. */
enum bl_ibuf_policy {
	BL_IBUF_SRP   = 1,  /* slow reader preference: tail drop against the slowest reader */
	BL_IBUF_MRP   = 2,  /* medium: tail drop against the shared pointer R */
	BL_IBUF_FRP   = 3,  /* fast: the producer overwrites; readers check() */
	BL_IBUF_BLOCK = 4,  /* like SRP, but the writer waits instead of dropping (IPC only) */
};

/* DBuf kinds (bl_dbuf_hdr.kind). */
enum bl_dbuf_kind {
	BL_DBUF_PKT = 1,    /* DPDK mbuf pool; object = mbuf index, offset from buffer start */
	BL_DBUF_REC = 2,    /* byte ring of records; object = lap (abs. position >> log2 size),
	                     * offset = abs. position & (size-1), from objtab[0] */
};

/*
 * A rich pointer: 16 bytes, four to a cache line.
 * Resolves to base(dbuf_id) + objtab[object] + offset, length bytes.
 */
struct bl_ibuf_entry {
	uint16_t dbuf_id;   /* (p) DBuf id, unique in the instance; 0 = no data */
	uint16_t cls;       /* (p) class the filter graph gave this packet; 0 never stored */
	uint32_t object;    /* (p) object index in the DBuf (mbuf index; 0 for records) */
	uint32_t offset;    /* (p) data offset inside the object */
	uint32_t length;    /* (p) data length in bytes */
};

/* Page 0. All (c): written once by the creator before the region is shared. */
struct bl_ibuf_hdr {
	uint64_t magic;          /* (c) BL_IBUF_MAGIC */
	uint32_t version;        /* (c) BL_SHM_ABI_VERSION */
	uint32_t hdr_size;       /* (c) sizeof(struct bl_ibuf_hdr) */
	uint32_t capacity;       /* (c) slots present; a power of two. The capacity in effect
	                          *     is prod.geom's, at most this (a ring that may grow) */
	uint32_t policy;         /* (c) enum bl_ibuf_policy */
	uint32_t max_readers;    /* (c) reader pages present, <= BL_IBUF_MAX_READERS */
	uint32_t page_size;      /* (c) BL_SHM_META_PAGE */
	uint64_t region_size;    /* (c) bytes in the region */
	uint64_t off_prod;       /* (c) offset of struct bl_ibuf_prod */
	uint64_t off_mrp;        /* (c) offset of struct bl_ibuf_mrp */
	uint64_t off_readers;    /* (c) offset of reader 0's struct bl_ibuf_rpage */
	uint64_t reader_stride;  /* (c) bytes between reader pages (one page) */
	uint64_t off_slots;      /* (c) offset of slot 0 */
	char name[BL_SHM_NAME_MAX]; /* (c) NUL-terminated ring name */
};

/*
 * Page 1: the producer's page. Readers map it read-only.
 * Line 0 holds what readers poll; the counters sit on later lines.
 */
struct bl_ibuf_prod {
	/* line 0: polled by readers, written by the producer on every burst */
	uint64_t head;       /* (p) entries [.., head) are published; release store */
	uint64_t reserve;    /* (p) bound of what may be being written: the slot of seq may
	                      *     be overwritten once reserve > seq + capacity. FRP/MRP: end
	                      *     of a batch + a step (capacity/16), stored when a batch
	                      *     passes it, no further than tail + capacity on a ring that
	                      *     waits (not FRP); SRP/BLOCK: tail + capacity */
	uint64_t geom;       /* (p) the capacity in effect: since << 6 | log2(capacity), entry
	                      *     seq at slot seq & (capacity-1) from seq `since` on (and the
	                      *     capacity older entries still in the ring agree with; see
	                      *     bl_ibuf_resize); <= hdr.capacity; relaxed, ordered by head */
	uint64_t pad0[5];
	/* line 1: read-mostly, written by the control plane on attach/detach */
	uint64_t active;     /* (p) bitmap of attached readers (bit i = reader page i) */
	uint64_t detached;   /* (p) readers detached */
	uint64_t srp_readers;/* (p) readers whose own position holds the producer back */
	uint64_t mrp_readers;/* (p) readers sharing the MRP pointer R (R holds the producer) */
	uint64_t pad1[4];    /* readers in neither set are FRP readers: never waited for */
	/* line 2: counters, (p) only, relaxed */
	uint64_t written;    /* (p) entries stored */
	uint64_t dropped;    /* (p) entries refused at the tail (SRP/MRP full) */
	uint64_t waits;      /* (p) times a BLOCK writer had to wait for room */
	uint64_t clamps;     /* (p) reader positions (or R) found outside the valid window */
	uint64_t overwritten;/* (p) FRP: entries overwritten (slot reuse) */
	uint64_t tail;       /* (p) oldest entry the producer still protects (SRP/MRP/BLOCK) */
	uint64_t resizes;    /* (p) capacity changes (bl_ibuf_resize) */
	uint64_t pad2[1];
	uint64_t reader_clamps[BL_IBUF_MAX_READERS]; /* (p) clamps per reader page */
	uint32_t reader_pid[BL_IBUF_MAX_READERS];    /* (p) pid the control plane attached, 0 = none */
	uint8_t reader_policy[BL_IBUF_MAX_READERS];  /* (p) the policy reader i reads with (enum
	                                              *     bl_ibuf_policy), set before its bit */
	uint32_t reader_gen[BL_IBUF_MAX_READERS];    /* (p) attaches of page i so far, set before
	                                              *     its bit: a reader vouches by its bit
	                                              *     only while this is still the one it
	                                              *     saw when attached */
};

/* Page 2: the MRP shared read pointer. */
struct bl_ibuf_mrp {
	uint64_t r;          /* (R) raised with an atomic max; the producer clamps it */
	uint64_t pad[7];
};

/* One page per reader. Written by that reader only; the producer clamps what it reads. */
struct bl_ibuf_rpage {
	uint64_t pos;        /* (r) next seq this reader reads; [.., pos) are done. release store,
	                      *     at least every capacity/16 entries and when caught up */
	uint64_t pad0[7];
	uint64_t consumed;   /* (r) entries completed */
	uint64_t lost;       /* (r) entries skipped after being lapped (FRP/MRP) */
	uint64_t laps;       /* (r) times this reader was lapped */
	uint64_t check_fail; /* (r) check() calls that returned "overwritten" */
	uint64_t bad_geom;   /* (r) prod.geom values the ring's slots cannot hold (ignored) */
	uint64_t pad1[3];
	/* line 2: written only when the reader falls asleep or wakes, so the producer's
	 * look at it after every burst is a hit in its own cache */
	uint64_t wait;       /* (r) 0: awake; else 1 + the seq the reader sleeps waiting for: wake
	                      *     its wake channel (stream moderation). Only ever costs it wakeups */
	uint64_t pad2[7];
};

/* Page 0 of a DBuf region. All (c) but `written` and `head`. */
struct bl_dbuf_hdr {
	uint64_t magic;          /* (c) BL_DBUF_MAGIC */
	uint32_t version;        /* (c) BL_SHM_ABI_VERSION */
	uint32_t hdr_size;       /* (c) sizeof(struct bl_dbuf_hdr) */
	uint16_t id;             /* (c) DBuf id, unique in the instance, != 0 */
	uint16_t kind;           /* (c) enum bl_dbuf_kind */
	uint32_t n_objs;         /* (c) entries in objtab (mbufs; 1 for a record ring) */
	uint32_t obj_size;       /* (c) bytes addressable from objtab[i] (buf_len, or ring size) */
	uint32_t page_size;      /* (c) page size of the region's backing */
	uint64_t region_size;    /* (c) bytes in the region */
	uint64_t off_objtab;     /* (c) offset of uint64_t objtab[n_objs] */
	uint64_t off_data;       /* (c) offset of the data area (mempool heap / byte ring) */
	uint64_t data_size;      /* (c) bytes in the data area */
	char name[BL_SHM_NAME_MAX]; /* (c) */
	uint64_t head;           /* (p) record ring: reserve, the absolute end of the bytes the
	                          *     producer may be writing; stored before them */
	uint64_t written;        /* (p) record ring: payload bytes copied in (splices add nothing) */
};

/* Record header in a BL_DBUF_REC byte ring: records are 8-byte aligned. */
struct bl_dbuf_rec {
	uint32_t length;         /* (p) payload bytes that follow */
	uint32_t flags;          /* (p) BL_DBUF_REC_F_* */
};
#define BL_DBUF_REC_F_PAD 1u /* (p) filler up to the end of the ring; skip */

_Static_assert(sizeof(struct bl_ibuf_entry) == 16, "rich pointer is 16 bytes");
_Static_assert(sizeof(struct bl_ibuf_hdr) == 128, "ibuf header size");
_Static_assert(sizeof(struct bl_ibuf_hdr) <= BL_SHM_META_PAGE, "header fits page 0");
_Static_assert(__builtin_offsetof(struct bl_ibuf_hdr, capacity) == 16, "hdr.capacity");
_Static_assert(__builtin_offsetof(struct bl_ibuf_hdr, off_prod) == 40, "hdr.off_prod");
_Static_assert(__builtin_offsetof(struct bl_ibuf_hdr, off_slots) == 72, "hdr.off_slots");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, head) == 0, "prod.head");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, reserve) == 8, "prod.reserve");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, active) == 64, "active on line 1");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, written) == 128, "counters on line 2");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, reader_clamps) == 192, "prod.reader_clamps");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, tail) == 168, "prod.tail");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, reader_pid) == 704, "prod.reader_pid");
_Static_assert(__builtin_offsetof(struct bl_ibuf_rpage, check_fail) == 88, "rpage.check_fail");
_Static_assert(__builtin_offsetof(struct bl_ibuf_rpage, wait) == 128, "rpage.wait on line 2");
_Static_assert(__builtin_offsetof(struct bl_ibuf_entry, object) == 4, "entry.object");
_Static_assert(__builtin_offsetof(struct bl_ibuf_entry, length) == 12, "entry.length");
_Static_assert(__builtin_offsetof(struct bl_dbuf_hdr, name) == 64, "dbuf.name");
_Static_assert(__builtin_offsetof(struct bl_dbuf_hdr, written) == 120, "dbuf.written");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, srp_readers) == 80, "prod.srp_readers");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, mrp_readers) == 88, "prod.mrp_readers");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, reader_policy) == 960, "prod.reader_policy");
_Static_assert(sizeof(struct bl_ibuf_prod) == 192 + 8 * 64 + 4 * 64 + 64 + 4 * 64, "prod size");
_Static_assert(__builtin_offsetof(struct bl_ibuf_prod, reader_gen) == 1024, "prod.reader_gen");
_Static_assert(sizeof(struct bl_ibuf_prod) <= BL_SHM_META_PAGE, "prod fits its page");
_Static_assert(sizeof(struct bl_ibuf_mrp) == 64, "mrp size");
_Static_assert(sizeof(struct bl_ibuf_rpage) == 192, "reader page size");
_Static_assert(__builtin_offsetof(struct bl_ibuf_rpage, consumed) == 64, "rpage counters");
_Static_assert(sizeof(struct bl_dbuf_hdr) == 128, "dbuf header size");
_Static_assert(__builtin_offsetof(struct bl_dbuf_hdr, id) == 16, "dbuf.id");
_Static_assert(__builtin_offsetof(struct bl_dbuf_hdr, off_objtab) == 40, "dbuf.off_objtab");
_Static_assert(sizeof(struct bl_dbuf_rec) == 8, "record header");

/* ---- a client writer's region (inject streams; lib/stream/bl_inject.h, docs/shm-abi.md) ----
 *
 * Two memfds per writer, made by the appliance at open-write, passed over the control socket:
 *   "wring": page 0 struct bl_wring_hdr, then capacity descriptors (off_desc), then capacity
 *            buffers of max_frame bytes (off_data). The writer maps it read-write; the
 *            appliance keeps only a read-only mapping and no descriptor (sealed: no
 *            grow/shrink). Everything in it is (w): written by the writer, never trusted.
 *   "wtail": one page, struct bl_wring_tail. The appliance writes it; sealed with
 *            F_SEAL_FUTURE_WRITE before it is sent, so the writer can only map it read-only.
 * Buffer i belongs to descriptor seq s with s % capacity == i: the writer may fill the buffer
 * of seq s once s - tail < capacity, commits in seq order by writing desc[s % capacity] =
 * { s, off of buffer s % capacity, length } and then head = s + 1 (release). The appliance
 * reads head (acquire), checks each descriptor, copies the frame out, and stores tail (release).
 */
#define BL_WRING_MAGIC 0x474e495257544c42ull /* "BLTWRING", little endian */

struct bl_wring_hdr {
	uint64_t magic;          /* (c) BL_WRING_MAGIC */
	uint32_t version;        /* (c) BL_SHM_ABI_VERSION */
	uint32_t capacity;       /* (c) descriptors = buffers, a power of two */
	uint32_t max_frame;      /* (c) bytes of one buffer: the longest frame */
	uint32_t pad;
	uint64_t off_desc;       /* (c) offset of struct bl_wring_desc[capacity] */
	uint64_t off_data;       /* (c) offset of the buffers */
	uint64_t region_size;    /* (c) bytes in the region */
	uint64_t pad1[2];
	uint64_t head;           /* (w) commits published: release after the descriptors */
	uint64_t wait;           /* (w) 0, or 1 + the tail the writer sleeps until (it found
	                          *     every buffer committed, or flushes): the appliance
	                          *     signals the writer's wake channel, if it asked for one,
	                          *     once tail reaches it (docs/shm-abi.md, "Writer wakeups") */
	uint64_t pad2[6];
};

struct bl_wring_desc {
	uint64_t seq;            /* (w) the commit's position: its slot is seq % capacity */
	uint32_t off;            /* (w) bytes from off_data: (seq % capacity) * max_frame */
	uint32_t len;            /* (w) frame bytes, 1..max_frame */
};

struct bl_wring_tail {
	uint64_t tail;           /* (a) descriptors consumed: their buffers are the writer's
	                          *     again (release; the writer loads it acquire) */
	uint64_t closed;         /* (a) 1 once the appliance has ended the lease (a stop, a
	                          *     reload that removed the stream, ...): nothing more is
	                          *     read. Stored relaxed before the control connection
	                          *     closes; on tail's line, so a writer sees it for free.
	                          *     A killed appliance sets nothing: the lease's socket says it */
	uint64_t pad[6];
	uint64_t refused;        /* (a) descriptors refused (every reason; stats has them one by one) */
};

_Static_assert(sizeof(struct bl_wring_hdr) == 128, "wring header");
_Static_assert(__builtin_offsetof(struct bl_wring_hdr, head) == 64, "wring.head on line 1");
_Static_assert(__builtin_offsetof(struct bl_wring_hdr, wait) == 72, "wring.wait beside head");
_Static_assert(sizeof(struct bl_wring_desc) == 16, "wring descriptor");
_Static_assert(__builtin_offsetof(struct bl_wring_tail, closed) == 8, "wtail.closed");
_Static_assert(__builtin_offsetof(struct bl_wring_tail, refused) == 64, "wtail.refused");
_Static_assert(sizeof(struct bl_wring_tail) <= BL_SHM_META_PAGE, "wtail fits its page");

/*
 * A verdict client's region ("vring", the `user` filter; docs/shm-abi.md, "Verdict ring").
 * A memfd the appliance makes at attach: the client gets the only read-write descriptor, the
 * appliance maps it read-only through a read-only descriptor (it cannot write there, and no
 * other client ever gets it). Page 0: struct bl_vring_hdr (written once by the appliance
 * before it is sent; the appliance keeps its own copy of every field but head). From
 * off_desc: struct bl_vring_desc[capacity]. The client returns the class of the packet of
 * sequence seq (the IBuf position it read it at) by writing desc[head % capacity] = { seq,
 * cls } and then head + 1 (release), once head - tail < capacity. The appliance's tail page
 * ("vtail", struct bl_vring_tail) is sealed F_SEAL_FUTURE_WRITE, so the client maps it
 * read-only; the appliance loads head acquire, reads each descriptor once and stores tail
 * (release).
 */
#define BL_VRING_MAGIC 0x474e495252544c42ull /* "BLTRRING", little endian */

struct bl_vring_hdr {
	uint64_t magic;          /* (c) BL_VRING_MAGIC */
	uint32_t version;        /* (c) BL_SHM_ABI_VERSION */
	uint32_t capacity;       /* (c) descriptors, a power of two */
	uint64_t off_desc;       /* (c) offset of struct bl_vring_desc[capacity] */
	uint64_t region_size;    /* (c) bytes in the region */
	uint64_t pad[4];
	uint64_t head;           /* (v) classes published: release after the descriptors */
	uint64_t pad2[7];
};

struct bl_vring_desc {
	uint64_t seq;            /* (v) the packet's position in the stream (beltline_pkt.seq) */
	uint32_t cls;            /* (v) its class: 0 drop, 1..65535 route by label */
	uint32_t pad;            /* (v) ignored */
};

struct bl_vring_tail {
	uint64_t tail;           /* (a) descriptors consumed (release; the client loads acquire) */
	uint64_t pad[7];
	uint64_t ignored;        /* (a) of them, ignored: late, twice, never handed out, bad class */
};

_Static_assert(sizeof(struct bl_vring_hdr) == 128, "vring header");
_Static_assert(__builtin_offsetof(struct bl_vring_hdr, head) == 64, "vring.head on line 1");
_Static_assert(sizeof(struct bl_vring_desc) == 16, "vring descriptor");
_Static_assert(__builtin_offsetof(struct bl_vring_tail, ignored) == 64, "vtail.ignored");

#endif /* BL_SHM_ABI_H */
