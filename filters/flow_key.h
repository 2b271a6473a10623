/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_key — lib/flow's key (bl_flow.h) of a packet proto_parse walked, read one
 * way for every filter that keys on it: the flow meter (flow.c) and tcpstream.
 */
#ifndef BL_FLOW_KEY_H
#define BL_FLOW_KEY_H

#include <string.h>

#include <rte_common.h>

#include "bl_flow.h"
#include "proto.h"

/* k's addresses, protocol, outermost VLAN and IP version from p, an IPv4 or IPv6 packet
 * whose header proto_parse found whole (etype IPv4 or IPv6, bad PROTO_OK); its ports 0
 * (the caller's: later fragments have none). *iplen: the bytes IP says it holds (IPv4:
 * total length; IPv6: 40 + payload length). Returns the fixed IP header (20 or 40
 * bytes; in buf when the packet's first segment did not hold it). */
static __rte_always_inline const uint8_t *
flow_key_ip(const struct rte_mbuf *m, const struct proto *p, struct bl_flow_key *k,
	    uint32_t *iplen, uint8_t buf[40])
{
	const uint8_t *h;

	memset(k, 0, sizeof(*k));
	if (p->ipver == 4) {
		h = proto_at(m, p->l3_off, 20, buf);     /* proto_parse found it whole */
		memcpy(k->src, h + 12, 4);
		memcpy(k->dst, h + 16, 4);
		*iplen = (uint32_t)(h[2] << 8 | h[3]);
	} else {
		h = proto_at(m, p->l3_off, 40, buf);
		memcpy(k->src, h + 8, 16);
		memcpy(k->dst, h + 24, 16);
		*iplen = 40u + (uint32_t)(h[4] << 8 | h[5]);
	}
	k->ipver = p->ipver;
	k->proto = p->l4proto;
	k->vlan = p->n_vlan > 0 ? p->vid : 0;
	return h;
}

#endif /* BL_FLOW_KEY_H */
