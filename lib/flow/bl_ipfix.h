/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ipfix — encode flow records as IPFIX messages (RFC 7011; information
 * elements from RFC 7012 and the IANA registry). No DPDK, no I/O: the caller
 * sends the bytes. One encoder per transport session (one UDP socket): it
 * keeps the observation domain's sequence number.
 *
 * A message: the 16-byte header, then optionally the template set (both
 * templates: BL_IPFIX_TMPL_V4, BL_IPFIX_TMPL_V6), then data sets, at most
 * `mtu` bytes in all. The fields of both templates are in docs/flows.md.
 */
#ifndef BL_IPFIX_H
#define BL_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "bl_flow_rec.h"

#define BL_IPFIX_VERSION   10u
#define BL_IPFIX_TMPL_V4   256u
#define BL_IPFIX_TMPL_V6   257u
#define BL_IPFIX_MTU_MAX   65000u
#define BL_IPFIX_REC_V4    49u     /* bytes of one data record */
#define BL_IPFIX_REC_V6    73u

struct bl_ipfix {
	uint32_t domain;           /* observation domain id */
	uint32_t seq;              /* data records sent before this message (mod 2^32) */
	uint32_t mtu;              /* a message's most bytes */
	uint32_t len;              /* bytes in buf */
	uint32_t n_recs;           /* data records in this message */
	uint32_t set_off;          /* the open data set's header, 0: none */
	uint16_t set_id;           /* its template id */
	uint8_t buf[BL_IPFIX_MTU_MAX];
};

/* A new session: domain, mtu (64..BL_IPFIX_MTU_MAX; the UDP payload). */
void bl_ipfix_init(struct bl_ipfix *x, uint32_t domain, uint32_t mtu);

/* Start a message stamped export_s (seconds since the epoch). */
void bl_ipfix_begin(struct bl_ipfix *x, uint32_t export_s);

/* Add the template set (right after bl_ipfix_begin). */
void bl_ipfix_add_templates(struct bl_ipfix *x);

/* Add one record: 0, or -ENOSPC (the message is full: finish, send, begin
 * again), or -EINVAL (not IPv4 nor IPv6: skipped). */
int bl_ipfix_add(struct bl_ipfix *x, const struct bl_flow_rec *r);

/* Close the message: its length in bytes (the header's length set); the
 * sequence number moves on by its records. */
uint32_t bl_ipfix_finish(struct bl_ipfix *x);

#endif /* BL_IPFIX_H */
