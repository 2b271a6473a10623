/* SPDX-License-Identifier: BSD-3-Clause */
/* The test harness's packets: mbufs from bytes, and frames built from a pkt_spec
 * (Ethernet, VLAN tags, IPv4/IPv6 with fragments, TCP/UDP/ICMP/ARP), in the
 * harness's pool or in a buffer of exactly the frame's length (harness.h). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "harness.h"

struct rte_mbuf *
harness_mbuf(const void *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(harness_pool());
	char *d;

	cr_assert(m != NULL, "the test pool ran dry");
	d = rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert(d != NULL || len == 0);
	if (len != 0)
		memcpy(d, data, len);
	return m;
}

static uint32_t
write_pkt(const struct pkt_spec *s, uint8_t *b)
{
	uint16_t etype = s->etype != 0 ? s->etype : RTE_ETHER_TYPE_IPV4;
	uint8_t proto = s->proto != 0 ? s->proto : 17;
	uint32_t off = 12, l4 = 0, l4len = 0;

	for (int i = 0; i < 6; i++) {
		b[i] = (uint8_t)(0x02 + i);         /* dst 02:03:04:05:06:07 */
		b[6 + i] = (uint8_t)(0x12 + i);     /* src 12:13:14:15:16:17 */
	}
	for (unsigned int t = 0; t < s->n_vlan; t++) {
		uint16_t vid = t == 0 ? s->vid : 1;
		b[off] = 0x81; b[off + 1] = 0x00;
		b[off + 2] = (uint8_t)(vid >> 8); b[off + 3] = (uint8_t)vid;
		off += 4;
	}
	b[off] = (uint8_t)(etype >> 8);
	b[off + 1] = (uint8_t)etype;
	off += 2;
	switch (proto) {
	case 6: l4len = 4u * (s->tcp_doff != 0 ? s->tcp_doff : 5); break;
	case 1: case 58: l4len = 8; break;
	default: l4len = 8; break;
	}
	if (etype == RTE_ETHER_TYPE_IPV4) {
		uint32_t ihl = s->ihl != 0 ? s->ihl : 5;
		uint32_t hl = ihl < 5 ? 20 : ihl * 4;
		uint32_t tot = hl + l4len + s->payload;
		b[off] = (uint8_t)(0x40 | ihl);
		b[off + 2] = (uint8_t)(tot >> 8); b[off + 3] = (uint8_t)tot;
		b[off + 6] = (uint8_t)(s->frag >> 8); b[off + 7] = (uint8_t)s->frag;
		b[off + 8] = 64;
		b[off + 9] = proto;
		b[off + 12] = 10; b[off + 15] = 1;   /* 10.0.0.1 -> 10.0.0.2 */
		b[off + 16] = 10; b[off + 19] = 2;
		l4 = off + hl;
	} else if (etype == RTE_ETHER_TYPE_IPV6) {
		uint32_t plen = l4len + s->payload + (s->frag != 0 ? 8 : 0);
		b[off] = 0x60;
		b[off + 4] = (uint8_t)(plen >> 8); b[off + 5] = (uint8_t)plen;
		b[off + 6] = s->frag != 0 ? 44 : proto;
		b[off + 7] = 64;
		b[off + 23] = 1; b[off + 39] = 2;
		l4 = off + 40;
		if (s->frag != 0) {
			b[l4] = proto;
			b[l4 + 2] = (uint8_t)(s->frag >> 8); b[l4 + 3] = (uint8_t)s->frag;
			l4 += 8;
		}
	} else if (etype == RTE_ETHER_TYPE_ARP) {
		static const uint8_t arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
		memcpy(b + off, arp, sizeof(arp));
		return off + 28 + s->payload;
	} else {
		return off + 46 + s->payload;
	}
	if (proto == 6 || proto == 17 || proto == 132) {
		b[l4] = (uint8_t)((s->sport ? s->sport : 1000) >> 8);
		b[l4 + 1] = (uint8_t)(s->sport ? s->sport : 1000);
		b[l4 + 2] = (uint8_t)((s->dport ? s->dport : 2000) >> 8);
		b[l4 + 3] = (uint8_t)(s->dport ? s->dport : 2000);
		if (proto == 6)
			b[l4 + 12] = (uint8_t)((s->tcp_doff != 0 ? s->tcp_doff : 5) << 4);
		else if (proto == 17) {
			b[l4 + 4] = (uint8_t)((l4len + s->payload) >> 8);
			b[l4 + 5] = (uint8_t)(l4len + s->payload);
		}
	} else if (proto == 1 || proto == 58) {
		b[l4] = s->icmp_type;
	}
	return l4 + l4len + s->payload;
}

uint32_t
harness_pkt_len(const struct pkt_spec *s)
{
	uint8_t b[2048] = { 0 };

	return write_pkt(s, b);
}

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

struct rte_mbuf *
harness_mbuf_exact(const void *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(harness_pool());
	struct rte_mbuf_ext_shared_info *sh = calloc(1, sizeof(*sh));
	uint8_t *buf = malloc(len != 0 ? len : 1);

	cr_assert(m != NULL && sh != NULL && buf != NULL && len <= UINT16_MAX);
	memcpy(buf, data, len);
	sh->free_cb = ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, (uint16_t)len, sh);
	m->data_off = 0;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

struct rte_mbuf *
harness_pkt_exact(const struct pkt_spec *s)
{
	uint8_t b[2048] = { 0 };
	uint32_t len = write_pkt(s, b);

	if (s->cut != 0 && s->cut < len)
		len = s->cut;
	return harness_mbuf_exact(b, len);
}

struct rte_mbuf *
harness_pkt(const struct pkt_spec *s)
{
	uint8_t b[2048] = { 0 };
	uint32_t len = write_pkt(s, b);

	if (s->cut != 0 && s->cut < len)
		len = s->cut;
	return harness_mbuf(b, len);
}
