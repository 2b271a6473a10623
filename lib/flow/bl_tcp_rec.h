/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_tcp_rec — the entries of a reassembled TCP stream (`tcpstream ...
 * export=NAME`), as clients read them (`beltline cat --tcp NAME`). No DPDK: the
 * client and the CLI include it. docs/shm-abi.md, "TCP streams", is the prose.
 *
 * A tcpstream stream is an ordinary stream (an IBuf of 16-byte rich pointers,
 * bl_shm_abi.h) whose entries come in two classes (bl_ibuf_entry.cls):
 *
 *   cls 1 (BL_TCP_CLS_REC):  points at one 72-byte struct bl_tcp_rec, written by
 *                            the appliance into a metadata mbuf of the packet DBuf
 *                            (many records share one mbuf);
 *   cls 2 (BL_TCP_CLS_DATA): points at the TCP payload inside the packet that
 *                            carried it (the packet DBuf's mbuf, at the payload's
 *                            offset): the bytes themselves, never copied.
 *
 * Every DATA record is followed by exactly one cls-2 entry holding its `length`
 * bytes; no other record kind is followed by one. Per connection and direction,
 * DATA and GAP records come in stream order: offset 0, then each one's offset is
 * the previous one's offset + length. A reader that finds a DATA record without
 * its data entry, or an offset past what it has (the ring refused entries, or
 * an FRP reader was lapped), has a gap the stream could not mark: it marks it.
 *
 *   OPEN   a connection is followed from now on: conn, the tuple of direction 0
 *          (the sender of the first packet seen: the client when the SYN was seen)
 *   DATA   `length` bytes at `offset` of direction `dir`; the next entry holds them
 *   GAP    `length` bytes at `offset` of direction `dir` were never seen (a
 *          segment lost before the appliance, or given up: max_bytes); the stream
 *          goes on after them
 *   CLOSE  one per direction when the connection ends (`end`: why); `offset` is
 *          the direction's length
 *
 * Layout: fixed, little-endian host order for every integer but the addresses
 * (network order). src/sport are the sender of direction `dir`, dst/dport its
 * receiver (so a record names its direction's file alone). A reader checks
 * `magic` and `version` and skips a record that does not match.
 */
#ifndef BL_TCP_REC_H
#define BL_TCP_REC_H

#include <stddef.h>
#include <stdint.h>

#define BL_TCP_REC_MAGIC   0x5354u   /* "TS" */
#define BL_TCP_REC_VERSION 1u

#define BL_TCP_CLS_REC  1u           /* the entry points at a struct bl_tcp_rec */
#define BL_TCP_CLS_DATA 2u           /* the entry points at payload bytes */

enum bl_tcp_kind {
	BL_TCP_OPEN  = 1,
	BL_TCP_DATA  = 2,
	BL_TCP_GAP   = 3,
	BL_TCP_CLOSE = 4,
};

enum bl_tcp_end {                    /* CLOSE: why the connection ended */
	BL_TCP_END_FIN     = 1,          /* both directions sent FIN and every byte before it came */
	BL_TCP_END_RST     = 2,          /* a RST */
	BL_TCP_END_IDLE    = 3,          /* no packet for idle_s */
	BL_TCP_END_FLUSH   = 4,          /* the filter stopped (shutdown, reload) */
	BL_TCP_END_REUSED  = 5,          /* a new SYN on the tuple of a finished connection */
};

struct bl_tcp_rec {
	uint16_t magic;             /* BL_TCP_REC_MAGIC */
	uint8_t version;            /* BL_TCP_REC_VERSION */
	uint8_t kind;               /* enum bl_tcp_kind */
	uint8_t dir;                /* 0: from the first packet's sender, 1: the other way */
	uint8_t ipver;              /* 4 or 6 */
	uint8_t end;                /* CLOSE: enum bl_tcp_end; else 0 */
	uint8_t tcp_flags;          /* OPEN, DATA: the TCP flags of the packet; else 0 */
	uint64_t conn;              /* connection id, unique in the filter's life */
	uint64_t offset;            /* stream offset of the first byte (bytes after the ISN) */
	uint32_t length;            /* DATA, GAP: bytes; else 0 */
	uint16_t vlan;              /* outermost VLAN id; 0: untagged */
	uint16_t reserved;
	uint16_t sport, dport;      /* host order: direction dir's sender and receiver */
	uint32_t reserved2;
	uint8_t src[16], dst[16];   /* network order; IPv4 in the first 4 bytes, the rest 0 */
};

_Static_assert(sizeof(struct bl_tcp_rec) == 72, "bl_tcp_rec is client ABI: 72 bytes");
_Static_assert(offsetof(struct bl_tcp_rec, conn) == 8, "bl_tcp_rec.conn at 8");
_Static_assert(offsetof(struct bl_tcp_rec, offset) == 16, "bl_tcp_rec.offset at 16");
_Static_assert(offsetof(struct bl_tcp_rec, length) == 24, "bl_tcp_rec.length at 24");
_Static_assert(offsetof(struct bl_tcp_rec, sport) == 32, "bl_tcp_rec.sport at 32");
_Static_assert(offsetof(struct bl_tcp_rec, src) == 40, "bl_tcp_rec.src at 40");

#endif /* BL_TCP_REC_H */
