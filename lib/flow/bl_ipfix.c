/* SPDX-License-Identifier: BSD-3-Clause */
/* IPFIX encoding (bl_ipfix.h): every integer in network order, as RFC 7011 says. */
#include <errno.h>
#include <string.h>

#include "bl_be.h"
#include "bl_ipfix.h"

/* Information elements (IANA "IPFIX Information Elements"). */
enum {
	IE_OCTET_DELTA = 1, IE_PACKET_DELTA = 2, IE_PROTOCOL = 4, IE_TCP_FLAGS = 6,
	IE_SRC_PORT = 7, IE_SRC_V4 = 8, IE_DST_PORT = 11, IE_DST_V4 = 12, IE_SRC_V6 = 27,
	IE_DST_V6 = 28, IE_VLAN = 58, IE_END_REASON = 136, IE_START_MS = 152, IE_END_MS = 153,
};

struct field {
	uint16_t id, len;
};

#define FIELDS_TAIL                                                                   \
	{ IE_SRC_PORT, 2 }, { IE_DST_PORT, 2 }, { IE_PROTOCOL, 1 }, { IE_TCP_FLAGS, 1 },  \
	{ IE_VLAN, 2 }, { IE_OCTET_DELTA, 8 }, { IE_PACKET_DELTA, 8 }, { IE_START_MS, 8 }, \
	{ IE_END_MS, 8 }, { IE_END_REASON, 1 }

static const struct field tmpl_v4[] = { { IE_SRC_V4, 4 }, { IE_DST_V4, 4 }, FIELDS_TAIL };
static const struct field tmpl_v6[] = { { IE_SRC_V6, 16 }, { IE_DST_V6, 16 }, FIELDS_TAIL };
#define N_FIELDS (sizeof(tmpl_v4) / sizeof(tmpl_v4[0]))

void
bl_ipfix_init(struct bl_ipfix *x, uint32_t domain, uint32_t mtu)
{
	x->domain = domain;
	x->seq = 0;
	x->mtu = mtu < 64 ? 64 : mtu > BL_IPFIX_MTU_MAX ? BL_IPFIX_MTU_MAX : mtu;
	x->len = 0;
}

void
bl_ipfix_begin(struct bl_ipfix *x, uint32_t export_s)
{
	bl_put_be16(x->buf, BL_IPFIX_VERSION);
	bl_put_be16(x->buf + 2, 16);
	bl_put_be32(x->buf + 4, export_s);
	bl_put_be32(x->buf + 8, x->seq);
	bl_put_be32(x->buf + 12, x->domain);
	x->len = 16;
	x->n_recs = 0;
	x->set_off = 0;
	x->set_id = 0;
}

static void
close_set(struct bl_ipfix *x)
{
	if (x->set_off != 0)
		bl_put_be16(x->buf + x->set_off + 2, (uint16_t)(x->len - x->set_off));
	x->set_off = 0;
	x->set_id = 0;
}

static void
add_template(struct bl_ipfix *x, uint16_t id, const struct field *f)
{
	uint8_t *p = x->buf + x->len;

	bl_put_be16(p, id);
	bl_put_be16(p + 2, (uint16_t)N_FIELDS);
	p += 4;
	for (unsigned int i = 0; i < N_FIELDS; i++, p += 4) {
		bl_put_be16(p, f[i].id);
		bl_put_be16(p + 2, f[i].len);
	}
	x->len = (uint32_t)(p - x->buf);
}

void
bl_ipfix_add_templates(struct bl_ipfix *x)
{
	uint32_t off;

	close_set(x);
	off = x->len;
	bl_put_be16(x->buf + off, 2);                     /* set id 2: templates */
	x->len += 4;
	add_template(x, BL_IPFIX_TMPL_V4, tmpl_v4);
	add_template(x, BL_IPFIX_TMPL_V6, tmpl_v6);
	bl_put_be16(x->buf + off + 2, (uint16_t)(x->len - off));
}

int
bl_ipfix_add(struct bl_ipfix *x, const struct bl_flow_rec *r)
{
	uint16_t id = r->ipver == 4 ? BL_IPFIX_TMPL_V4 : BL_IPFIX_TMPL_V6;
	uint32_t alen = r->ipver == 4 ? 4 : 16;
	uint32_t need = r->ipver == 4 ? BL_IPFIX_REC_V4 : BL_IPFIX_REC_V6;
	uint8_t *p;

	if (r->ipver != 4 && r->ipver != 6)
		return -EINVAL;
	if (x->set_id != id)
		need += 4;
	if (x->len + need > x->mtu)
		return -ENOSPC;
	if (x->set_id != id) {
		close_set(x);
		x->set_off = x->len;
		x->set_id = id;
		bl_put_be16(x->buf + x->len, id);
		x->len += 4;
	}
	p = x->buf + x->len;
	memcpy(p, r->src, alen);
	memcpy(p + alen, r->dst, alen);
	p += 2 * alen;
	bl_put_be16(p, r->sport);
	bl_put_be16(p + 2, r->dport);
	p[4] = r->proto;
	p[5] = r->tcp_flags;   /* reduced-size (RFC 7011 6.2): pmacct reads one byte */
	bl_put_be16(p + 6, r->vlan);
	bl_put_be64(p + 8, r->bytes);
	bl_put_be64(p + 16, r->packets);
	bl_put_be64(p + 24, r->start_ms);
	bl_put_be64(p + 32, r->end_ms);
	p[40] = r->end_reason;
	x->len = (uint32_t)(p + 41 - x->buf);
	x->n_recs++;
	return 0;
}

uint32_t
bl_ipfix_finish(struct bl_ipfix *x)
{
	close_set(x);
	bl_put_be16(x->buf + 2, (uint16_t)x->len);
	x->seq += x->n_recs;
	return x->len;
}
