/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ep_abi — the shared memory between the two clients of an endpoint
 * (docs/shm-abi.md, "Endpoint ring pairs"). DPDK-free: the appliance sizes and
 * creates the regions (app/beltlined/ep.c), the client library maps and uses
 * them (client/src_ep_pair.c, src_ep_ring.c). Nothing here is read by the
 * appliance after the handover: the data path is between the two processes alone.
 *
 * Each side owns two regions, written by it alone (the kernel enforces it: the
 * side maps them read-write, then seals them F_SEAL_FUTURE_WRITE before it hands
 * the peer read-only descriptors; the peer refuses unsealed ones):
 *   - its IBuf ("ibuf"): a header page, then `slots` descriptors of the messages
 *     it sends (a ring of offsets and lengths with absolute sequence numbers),
 *     and in the header the reader page of the other direction (how far it has
 *     read what the peer sends, whether it sleeps);
 *   - its DBuf ("dbuf"): `dbuf_bytes` of message data the descriptors point into.
 * Everything a side reads from the peer's regions is untrusted: every field is
 * checked against the geometry both sides were given by the appliance.
 */
#ifndef BL_EP_ABI_H
#define BL_EP_ABI_H

#include <stdint.h>

#define BL_EP_MAGIC      0x31504542u  /* "BEP1" little endian */
#define BL_EP_VERSION    1u
#define BL_EP_HDR_BYTES  4096u        /* the header page; the slots follow it */
#define BL_EP_ALIGN      64u          /* messages start on a cache line in the DBuf */

/* Geometry limits, checked by the appliance (listen) and by both clients. */
#define BL_EP_SLOTS_MIN  16u
#define BL_EP_SLOTS_MAX  65536u       /* a power of two */
#define BL_EP_SLOTS_DEF  1024u
#define BL_EP_DBUF_MIN   (64u << 10)
#define BL_EP_DBUF_MAX   (256u << 20)  /* a multiple of 4096 */
#define BL_EP_DBUF_DEF   (4u << 20)
#define BL_EP_MSG_DEF    (64u << 10)  /* largest message; at most dbuf_bytes / 2 */

/* bl_ep_hdr.flags. MB_SLEEP: before this side sleeps it issues
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) after storing its sleep word, so a
 * peer registered for it (MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) may wake it
 * with no fence of its own between its head or rx_tail store and its load of the
 * sleep word (the asymmetric form of the Dekker pair; src_ep_ring.c). */
#define BL_EP_F_MB_SLEEP 1u
/* ECHO: this side reads slots whose off carries BL_EP_OFF_YOURS (a message in its own
 * DBuf that the peer read and sends back without copying it). A side sends such slots
 * only to a peer that says ECHO. */
#define BL_EP_F_ECHO     2u
/* WAKE_AT: this side, reading, honours the peer's tx_wake_at: it wakes a peer waiting
 * for room only once its own rx_tail reached tx_wake_at, or as soon as it has nothing
 * left to read. A side sets tx_wake_at other than 0 only for a peer that says
 * WAKE_AT (so it sleeps through a batch of releases instead of waking for each). */
#define BL_EP_F_WAKE_AT  4u

/* bl_ep_slot.off: the message lies in the receiver's own DBuf at off & ~BL_EP_OFF_YOURS
 * (the sender echoes, zero copy, a message it read and has not released: the space
 * stays the receiver's until the receiver released the echo). dbuf_bytes is at most
 * 256 MiB, so the bit is never an offset's. */
#define BL_EP_OFF_YOURS  0x80000000u

/* A message descriptor, written by its sender. */
struct bl_ep_slot {
	uint64_t seq;          /* absolute sequence number: slot i holds seq i mod slots */
	uint32_t off;          /* offset in the sender's DBuf, < dbuf_bytes; with
	                        * BL_EP_OFF_YOURS, in the receiver's (an echo) */
	uint32_t len;          /* bytes; off + len <= dbuf_bytes, len <= max_msg */
};

/* The header page of a side's IBuf. Fields on their own cache lines: the peer
 * polls head and rx_tail, each side writes only its own. */
struct bl_ep_hdr {
	uint32_t magic;        /* BL_EP_MAGIC */
	uint32_t version;      /* BL_EP_VERSION */
	uint32_t slots;        /* as the appliance gave them */
	uint32_t dbuf_bytes;
	uint32_t max_msg;
	uint32_t flags;        /* BL_EP_F_*: written by the owner before its hello, then
	                        * read once by the peer (0 in older libraries) */
	uint32_t pad0[10];
	/* Sending side (this side's messages). */
	uint64_t head;         /* messages published: slots [0, head) hold seq 0..head-1.
	                        * Written with release after the slot; the peer reads it
	                        * with acquire. */
	uint64_t pad1[7];
	uint64_t tx_sleep;     /* odd: this side waits for room (the peer's rx_tail). Each
	                        * sleep arms a value the word never held (one more from
	                        * even, two from odd), each wake-up disarms it: a value
	                        * the peer already woke is never armed again */
	uint64_t tx_wake_at;   /* with tx_sleep odd: wake this side once rx_tail (the
	                        * peer's) is at least this (0: at any release). Stored
	                        * before tx_sleep, which is stored with release; read
	                        * only by a peer that set BL_EP_F_WAKE_AT */
	uint64_t pad2[6];
	/* Receiving side: the reader page of the peer's ring. */
	uint64_t rx_tail;      /* peer's messages this side has released (their space is
	                        * the peer's again). Release store; the peer acquires. */
	uint64_t pad3[7];
	uint64_t rx_sleep;     /* odd: this side waits for the peer's head to move (armed
	                        * and disarmed as tx_sleep) */
	uint64_t pad4[7];
};

_Static_assert(sizeof(struct bl_ep_slot) == 16, "an endpoint slot is 16 bytes");
_Static_assert(BL_EP_DBUF_MAX <= BL_EP_OFF_YOURS, "no offset has the echo bit");
_Static_assert(__builtin_offsetof(struct bl_ep_hdr, head) == 64, "bl_ep_hdr.head");
_Static_assert(__builtin_offsetof(struct bl_ep_hdr, tx_sleep) == 128, "bl_ep_hdr.tx_sleep");
_Static_assert(__builtin_offsetof(struct bl_ep_hdr, tx_wake_at) == 136, "bl_ep_hdr.tx_wake_at");
_Static_assert(__builtin_offsetof(struct bl_ep_hdr, rx_tail) == 192, "bl_ep_hdr.rx_tail");
_Static_assert(__builtin_offsetof(struct bl_ep_hdr, rx_sleep) == 256, "bl_ep_hdr.rx_sleep");
_Static_assert(sizeof(struct bl_ep_hdr) <= BL_EP_HDR_BYTES, "the header fits its page");

/* The IBuf region's size for a slot count. */
static inline uint64_t
bl_ep_ibuf_bytes(uint32_t slots)
{
	return BL_EP_HDR_BYTES + (((uint64_t)slots * sizeof(struct bl_ep_slot) + 4095u) & ~4095ull);
}

/* Whether a geometry is one the appliance may hand out (and a client accepts). */
static inline int
bl_ep_geometry_ok(uint64_t slots, uint64_t dbuf_bytes, uint64_t max_msg)
{
	return slots >= BL_EP_SLOTS_MIN && slots <= BL_EP_SLOTS_MAX && (slots & (slots - 1)) == 0 &&
	       dbuf_bytes >= BL_EP_DBUF_MIN && dbuf_bytes <= BL_EP_DBUF_MAX &&
	       dbuf_bytes % 4096u == 0 && max_msg >= 1 && max_msg <= dbuf_bytes / 2;
}

/* The hello each side sends the other over the pair's socket once it has sealed
 * its regions, with three descriptors attached: its ibuf and dbuf, read-only, and
 * one end of a socket pair it made, its "room" channel (the peer sends a byte
 * there when it released messages and this side sleeps waiting for room; the
 * appliance's socket carries the "a message is there" byte). */
struct bl_ep_hello {
	uint32_t magic;        /* BL_EP_MAGIC */
	uint32_t version;      /* BL_EP_VERSION */
	uint32_t slots;
	uint32_t dbuf_bytes;
	uint32_t max_msg;
	uint32_t pid;          /* the sender's, for logs */
};

#endif /* BL_EP_ABI_H */
