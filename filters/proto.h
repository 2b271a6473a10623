/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proto — one bounds-checked walk over a packet's headers, shared by the
 * protocol classifiers. Every read goes through rte_pktmbuf_read, which
 * returns NULL past the end of the data (and copies across segments), so no
 * header is ever read past what the packet holds.
 */
#ifndef BL_PROTO_H
#define BL_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

enum proto_bad {           /* the first layer found broken */
	PROTO_OK = 0,
	PROTO_BAD_ETH,         /* shorter than an Ethernet header, or a cut VLAN tag */
	PROTO_BAD_L3,          /* IPv4/IPv6/ARP header cut short or invalid */
	PROTO_BAD_L4,          /* TCP/UDP/ICMP header cut short or invalid */
};

struct proto {
	uint8_t bad;           /* enum proto_bad */
	uint8_t n_vlan;
	uint16_t vid;          /* outermost VLAN id, when n_vlan > 0 */
	uint16_t etype;        /* after the VLAN tags */
	uint8_t ipver;         /* 4, 6 or 0 */
	uint8_t l4proto;       /* IP protocol / IPv6 next header of the payload */
	bool first_frag;       /* the L4 header is in this packet (not a later fragment) */
	bool frag;             /* a fragment of a datagram (IPv4 MF or an offset; IPv6 a
	                        * fragment header with M or an offset): the payload is partial */
	bool has_l4;           /* l4 header present and valid (tcp, udp, sctp, icmp, icmp6) */
	uint16_t sport, dport; /* tcp, udp, sctp */
	uint8_t icmp_type;
	uint32_t l3_off, l4_off;
	uint32_t l3_end;       /* IP: the end of the datagram its length field says, at most the
	                        * packet's: bytes past it (an Ethernet trailer's padding) are no
	                        * header of its */
};

#define PROTO_ETH_ARP  0x0806
#define PROTO_ETH_IPV4 0x0800
#define PROTO_ETH_IPV6 0x86dd

static inline const uint8_t *
proto_at(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint8_t *buf)
{
	return rte_pktmbuf_read(m, off, len, buf);
}

static inline void
proto_l4(const struct rte_mbuf *m, struct proto *p)
{
	uint8_t buf[20];
	const uint8_t *h;

	switch (p->l4proto) {
	case 6:   /* tcp: 20 bytes, data offset 5..15 words within the datagram */
		h = proto_at(m, p->l4_off, 20, buf);
		if (h == NULL || (h[12] >> 4) < 5 || p->l4_off + (h[12] >> 4) * 4u > p->l3_end)
			goto bad;
		break;
	case 17:  /* udp */
	case 132: /* sctp: ports in the first 4 bytes, 12-byte common header */
		h = proto_at(m, p->l4_off, p->l4proto == 17 ? 8 : 12, buf);
		if (h == NULL || p->l4_off + (p->l4proto == 17 ? 8u : 12u) > p->l3_end)
			goto bad;
		break;
	case 1:   /* icmp */
	case 58:  /* icmp6 */
		h = proto_at(m, p->l4_off, 4, buf);
		if (h == NULL || p->l4_off + 4u > p->l3_end)
			goto bad;
		p->icmp_type = h[0];
		p->has_l4 = true;
		return;
	default:
		return;
	}
	p->sport = (uint16_t)(h[0] << 8 | h[1]);
	p->dport = (uint16_t)(h[2] << 8 | h[3]);
	p->has_l4 = true;
	return;
bad:
	p->bad = PROTO_BAD_L4;
}

static inline void
proto_ipv4(const struct rte_mbuf *m, struct proto *p)
{
	uint8_t buf[20];
	const uint8_t *h = proto_at(m, p->l3_off, 20, buf);
	uint32_t ihl;
	uint16_t tot, frag;

	if (h == NULL || (h[0] >> 4) != 4 || (ihl = (h[0] & 0xfu) * 4u) < 20 ||
	    p->l3_off + ihl > m->pkt_len || (tot = (uint16_t)(h[2] << 8 | h[3])) < ihl) {
		p->bad = PROTO_BAD_L3;
		return;
	}
	p->ipver = 4;
	p->l3_end = p->l3_off + tot < m->pkt_len ? p->l3_off + tot : m->pkt_len;
	p->l4proto = h[9];
	frag = (uint16_t)(h[6] << 8 | h[7]);
	p->first_frag = (frag & 0x1fff) == 0;
	p->frag = (frag & 0x3fff) != 0;
	p->l4_off = p->l3_off + ihl;
	if (p->first_frag)
		proto_l4(m, p);
}

static inline void
proto_ipv6(const struct rte_mbuf *m, struct proto *p)
{
	uint8_t buf[40];
	const uint8_t *h = proto_at(m, p->l3_off, 40, buf);
	uint32_t off = p->l3_off + 40;
	bool seen_frag = false;
	uint8_t nh;

	if (h == NULL || (h[0] >> 4) != 6) {
		p->bad = PROTO_BAD_L3;
		return;
	}
	p->ipver = 6;
	{       /* payload length 0 with a hop-by-hop header (next header 0): a jumbogram,
		 * its length in an option: the packet's. Without one, 0 is 0. */
		uint32_t plen = (uint32_t)(h[4] << 8 | h[5]);
		p->l3_end = plen == 0 && h[6] == 0 ? m->pkt_len :
			p->l3_off + 40 + plen < m->pkt_len ? p->l3_off + 40 + plen : m->pkt_len;
	}
	p->first_frag = true;
	nh = h[6];
	/* Walk the extension headers we know, a few at most. */
	for (int i = 0; i < 8; i++) {
		const uint8_t *x;
		if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
			break;
		if ((x = proto_at(m, off, 8, buf)) == NULL) {
			p->bad = PROTO_BAD_L3;
			return;
		}
		if (nh == 44) {   /* fragment: 8 bytes; offset in bits 3..15 of bytes 2-3, M bit 0 */
			if (seen_frag) {   /* a second one (RFC 8200: at most one): not ours to guess */
				p->bad = PROTO_BAD_L3;
				return;
			}
			seen_frag = true;
			p->first_frag = ((x[2] << 8 | x[3]) & 0xfff8) == 0;
			p->frag = ((x[2] << 8 | x[3]) & 0xfff9) != 0;
			nh = x[0];
			off += 8;
			/* After a later fragment's header comes payload, not headers: read
			 * as headers it could fake a fragment header, a first one, and ports. */
			if (!p->first_frag)
				break;
			continue;
		}
		nh = x[0];
		off += (x[1] + 1u) * 8;
	}
	p->l4proto = nh;
	p->l4_off = off;
	if (p->first_frag)
		proto_l4(m, p);
}

/* Fill p from m; p->bad names the first broken layer. */
static inline void
proto_parse(const struct rte_mbuf *m, struct proto *p)
{
	uint8_t buf[14];
	const uint8_t *h = proto_at(m, 0, 14, buf);

	*p = (struct proto){ 0 };
	if (h == NULL) {
		p->bad = PROTO_BAD_ETH;
		return;
	}
	p->etype = (uint16_t)(h[12] << 8 | h[13]);
	p->l3_off = 14;
	while ((p->etype == 0x8100 || p->etype == 0x88a8) && p->n_vlan < 4) {
		const uint8_t *t = proto_at(m, p->l3_off, 4, buf);
		if (t == NULL) {
			p->bad = PROTO_BAD_ETH;
			return;
		}
		if (p->n_vlan++ == 0)
			p->vid = (uint16_t)((t[0] << 8 | t[1]) & 0xfff);
		p->etype = (uint16_t)(t[2] << 8 | t[3]);
		p->l3_off += 4;
	}
	if (p->etype == PROTO_ETH_IPV4)
		proto_ipv4(m, p);
	else if (p->etype == PROTO_ETH_IPV6)
		proto_ipv6(m, p);
	else if (p->etype == PROTO_ETH_ARP && proto_at(m, p->l3_off, 28, (uint8_t[28]){ 0 }) == NULL)
		p->bad = PROTO_BAD_L3;
}

#endif /* BL_PROTO_H */
