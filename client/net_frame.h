/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_frame — the records `beltline serve` sends and libbeltline-client reads
 * over tcp://, udp:// and tls:// (docs/clients.md, "Transports"). Written once,
 * here, for both sides. Every field is big-endian.
 *
 *   hello (server to client, once, 24 bytes)
 *     0  magic "BLNT"       4  version u16 (1)     6  hello length u16 (24)
 *     8  linktype u32       12 snaplen u32 (1..BLN_MAX_CAPLEN)
 *     16 cookie u64 (udp://: the cookie of the subscribe it answers; else 0)
 *     magic "BLNW" instead: the server takes a writer (`beltline serve --write`): the
 *     records then go client to server, snaplen is the largest frame it takes.
 *     magic "BLNE": an endpoint over the network (src_ep_net.c): both sides send one,
 *     snaplen is the largest message the sender takes; the records (packets, then an
 *     end) go both ways, seq 0, 1, 2, ... without a gap, caplen = len, class 0.
 *   record (32 bytes, then caplen bytes of packet)
 *     0  type u8 (1 packet, 2 end, 3 ack)   1 flags u8 (bit 0: ts set)   2 class u16
 *     4  caplen u32 (<= snaplen)     8 len u32 (>= caplen)         12 reserved u32 (0)
 *     16 seq u64 (the packet's position in the served stream)      24 ts_ns u64
 *   An end record has caplen 0 and the seq the next packet would have had.
 *   An ack (only from a --write server to its writer) has caplen, len and class 0,
 *   seq = the writer's frames dealt with (read by the appliance, or lost: never
 *   received), ts_ns = the frames the appliance refused.
 *   udp:// subscribe (client to server, 16 bytes; resent until the hello comes)
 *     0  magic "BLNU"       4  version u16 (2)     6  reserved u8 (0)
 *     7  op u8 (0 subscribe, 1 goodbye)            8  cookie u64
 *   The cookie is random, a new one each open: the hello must echo it, so a local
 *   process that sees the reader's port cannot answer first with a hello of its own
 *   (the records then come only from the socket the hello came from). The server
 *   still takes version 1 (8 bytes, no cookie: its hello says 0).
 *
 * Sequence numbers strictly increase; a jump is loss the reader counts (as an FRP
 * reader counts a lap). The decoder trusts nothing: every field is checked and a
 * bad one is refused with a reason, never used.
 */
#ifndef BL_NET_FRAME_H
#define BL_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BLN_MAGIC "BLNT"
#define BLN_MAGIC_W "BLNW"
#define BLN_MAGIC_E "BLNE"
#define BLN_VERSION 1u
#define BLN_HELLO_LEN 24u
#define BLN_REC_HDR 32u
#define BLN_MAX_CAPLEN 262144u          /* no record is bigger than this: refused */
#define BLN_REC_PKT 1u
#define BLN_REC_END 2u
#define BLN_REC_ACK 3u
#define BLN_F_TS 0x1u
#define BLN_MAGIC_U "BLNU"
#define BLN_SUB_VERSION 2u
#define BLN_SUB_LEN 16u
#define BLN_SUB_V1_LEN 8u
#define BLN_SUB_HELLO 0u         /* op: subscribe */
#define BLN_SUB_BYE 1u           /* op: goodbye */

struct bln_hello {
	uint32_t linktype;
	uint32_t snaplen;
	uint32_t write;         /* 1: magic BLNW, the server takes a writer */
	uint32_t ep;            /* 1: magic BLNE, an endpoint (write is 0) */
	uint64_t cookie;        /* udp://: the subscribe's; 0 otherwise */
};

struct bln_sub {
	uint8_t op;             /* BLN_SUB_HELLO or BLN_SUB_BYE */
	uint64_t cookie;        /* 0 from a version 1 subscribe */
};

struct bln_rec {
	uint8_t type;
	uint8_t flags;
	uint16_t cls;
	uint32_t caplen;
	uint32_t len;
	uint64_t seq;
	uint64_t ts_ns;
	const uint8_t *data;    /* caplen bytes, inside the decoded buffer */
};

void bln_put_hello(uint8_t out[BLN_HELLO_LEN], const struct bln_hello *h);
/* Only the header: the caplen packet bytes follow it. */
void bln_put_rec_hdr(uint8_t out[BLN_REC_HDR], const struct bln_rec *r);

void bln_put_sub(uint8_t out[BLN_SUB_LEN], const struct bln_sub *u);
/* Decode a whole subscribe datagram of n bytes (version 2, or 1): 0, or -EPROTO. */
int bln_get_sub(const uint8_t *p, size_t n, struct bln_sub *u);

/* Decode a hello from p[0..n): BLN_HELLO_LEN, 0 (need more bytes), or -EPROTO with *why. */
int bln_get_hello(const uint8_t *p, size_t n, struct bln_hello *h, const char **why);

/* Decode one record from p[0..n): the bytes it takes (header and data), 0 (need more
 * bytes), or -EPROTO with *why. snaplen is the hello's. r->data points into p. */
long bln_get_rec(const uint8_t *p, size_t n, uint32_t snaplen, struct bln_rec *r,
	const char **why);

/* The sequence rule: r follows a record of seq *last (have_last: there was one). Adds
 * the gap to *lost and moves *last. 0, or -EPROTO with *why (seq not increasing). */
int bln_seq_next(const struct bln_rec *r, int have_last, uint64_t *last, uint64_t *lost,
	const char **why);

#endif /* BL_NET_FRAME_H */
