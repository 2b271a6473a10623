/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_flow_rec — one flow record as the appliance hands it on: to the IPFIX
 * encoder (bl_ipfix.h) and, as the bytes of one entry of a record stream
 * (`flow ... export=NAME`), to clients (`beltline cat --flows NAME`). No DPDK:
 * the client and the CLI include it. A record is a uniflow: one direction of
 * a conversation (lib/flow/README.md says why).
 *
 * Layout: fixed, 80 bytes, little-endian host order for every integer but the
 * addresses (network order, as on the wire). A reader checks `magic` and
 * `version` and ignores a record that does not match.
 */
#ifndef BL_FLOW_REC_H
#define BL_FLOW_REC_H

#include <stddef.h>
#include <stdint.h>

#define BL_FLOW_REC_MAGIC   0x464cu   /* "FL" */
#define BL_FLOW_REC_VERSION 1u

/* flowEndReason (IPFIX IE 136, RFC 7012 / IANA registry). */
enum bl_flow_end {
	BL_FLOW_END_IDLE     = 1,   /* idleTimeout: no packet for idle_s */
	BL_FLOW_END_ACTIVE   = 2,   /* activeTimeout: the flow lasted active_s (it goes on as a new record) */
	BL_FLOW_END_EOF      = 3,   /* endOfFlowDetected (not used: see README) */
	BL_FLOW_END_FORCED   = 4,   /* forcedEnd: the meter stopped (shutdown, reload) */
	BL_FLOW_END_RESOURCE = 5,   /* lackOfResources: the table was full; exported early */
};

struct bl_flow_rec {
	uint16_t magic;             /* BL_FLOW_REC_MAGIC */
	uint8_t version;            /* BL_FLOW_REC_VERSION */
	uint8_t ipver;              /* 4 or 6 */
	uint8_t proto;              /* IP protocol */
	uint8_t tcp_flags;          /* OR of the TCP flags byte of every packet (FIN 0x01 .. CWR 0x80) */
	uint8_t end_reason;         /* enum bl_flow_end */
	uint8_t reserved;
	uint16_t sport, dport;      /* host order; 0 for protocols without ports and for later fragments */
	uint16_t vlan;              /* outermost VLAN id; 0: untagged */
	uint16_t reserved2;
	uint8_t src[16], dst[16];   /* network order; IPv4 in the first 4 bytes, the rest 0 */
	uint64_t packets;
	uint64_t bytes;             /* the IP length fields: IPv4 total length, IPv6 40 + payload length */
	uint64_t start_ms, end_ms;  /* first and last packet, ms since the epoch */
};

_Static_assert(sizeof(struct bl_flow_rec) == 80, "bl_flow_rec is client ABI: 80 bytes");
_Static_assert(offsetof(struct bl_flow_rec, src) == 16, "bl_flow_rec.src at 16");
_Static_assert(offsetof(struct bl_flow_rec, packets) == 48, "bl_flow_rec.packets at 48");

#endif /* BL_FLOW_REC_H */
