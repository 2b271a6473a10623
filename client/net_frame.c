/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_frame — encode and decode the network records (net_frame.h). Pure
 * functions on bytes: the libFuzzer harness tests/fuzz/fuzz_net_frame.c drives them.
 */
#include <errno.h>
#include <string.h>

#include "bl_be.h"
#include "net_frame.h"

void
bln_put_hello(uint8_t out[BLN_HELLO_LEN], const struct bln_hello *h)
{
	memset(out, 0, BLN_HELLO_LEN);
	memcpy(out, h->ep ? BLN_MAGIC_E : h->write ? BLN_MAGIC_W : BLN_MAGIC, 4);
	bl_put_be16(out + 4, BLN_VERSION);
	bl_put_be16(out + 6, BLN_HELLO_LEN);
	bl_put_be32(out + 8, h->linktype);
	bl_put_be32(out + 12, h->snaplen);
	bl_put_be64(out + 16, h->cookie);
}

void
bln_put_sub(uint8_t out[BLN_SUB_LEN], const struct bln_sub *u)
{
	memset(out, 0, BLN_SUB_LEN);
	memcpy(out, BLN_MAGIC_U, 4);
	bl_put_be16(out + 4, BLN_SUB_VERSION);
	out[7] = u->op;
	bl_put_be64(out + 8, u->cookie);
}

int
bln_get_sub(const uint8_t *p, size_t n, struct bln_sub *u)
{
	if ((n != BLN_SUB_LEN && n != BLN_SUB_V1_LEN) || memcmp(p, BLN_MAGIC_U, 4) != 0 ||
	    bl_get_be16(p + 4) != (n == BLN_SUB_LEN ? BLN_SUB_VERSION : 1u) || p[6] != 0 ||
	    p[7] > BLN_SUB_BYE)
		return -EPROTO;
	u->op = p[7];
	u->cookie = n == BLN_SUB_LEN ? bl_get_be64(p + 8) : 0;
	return 0;
}

void
bln_put_rec_hdr(uint8_t out[BLN_REC_HDR], const struct bln_rec *r)
{
	out[0] = r->type;
	out[1] = r->flags;
	bl_put_be16(out + 2, r->cls);
	bl_put_be32(out + 4, r->caplen);
	bl_put_be32(out + 8, r->len);
	bl_put_be32(out + 12, 0);
	bl_put_be64(out + 16, r->seq);
	bl_put_be64(out + 24, r->ts_ns);
}

int
bln_get_hello(const uint8_t *p, size_t n, struct bln_hello *h, const char **why)
{
	if (n >= 4 && memcmp(p, BLN_MAGIC, 4) != 0 && memcmp(p, BLN_MAGIC_W, 4) != 0 &&
	    memcmp(p, BLN_MAGIC_E, 4) != 0) {
		*why = "not a beltline serve peer (bad magic)";
		return -EPROTO;
	}
	if (n < BLN_HELLO_LEN)
		return 0;
	if (bl_get_be16(p + 4) != BLN_VERSION) {
		*why = "unknown protocol version";
		return -EPROTO;
	}
	if (bl_get_be16(p + 6) != BLN_HELLO_LEN) {
		*why = "bad hello length";
		return -EPROTO;
	}
	h->write = memcmp(p, BLN_MAGIC_W, 4) == 0;
	h->ep = memcmp(p, BLN_MAGIC_E, 4) == 0;
	h->linktype = bl_get_be32(p + 8);
	h->snaplen = bl_get_be32(p + 12);
	if (h->linktype > 65535u) {
		*why = "linktype outside 0..65535";
		return -EPROTO;
	}
	if (h->snaplen == 0 || h->snaplen > BLN_MAX_CAPLEN) {
		*why = "snaplen outside 1..262144";
		return -EPROTO;
	}
	h->cookie = bl_get_be64(p + 16);   /* the caller checks it (udp://) */
	return (int)BLN_HELLO_LEN;
}

long
bln_get_rec(const uint8_t *p, size_t n, uint32_t snaplen, struct bln_rec *r, const char **why)
{
	if (n < BLN_REC_HDR)
		return 0;
	r->type = p[0];
	r->flags = p[1];
	r->cls = bl_get_be16(p + 2);
	r->caplen = bl_get_be32(p + 4);
	r->len = bl_get_be32(p + 8);
	r->seq = bl_get_be64(p + 16);
	r->ts_ns = bl_get_be64(p + 24);
	r->data = p + BLN_REC_HDR;
	if (r->type != BLN_REC_PKT && r->type != BLN_REC_END && r->type != BLN_REC_ACK) {
		*why = "unknown record type";
		return -EPROTO;
	}
	if ((r->flags & ~BLN_F_TS) != 0 || bl_get_be32(p + 12) != 0) {
		*why = "unknown flags or reserved bytes not 0";
		return -EPROTO;
	}
	if (r->caplen > snaplen || r->caplen > BLN_MAX_CAPLEN) {
		*why = "record longer than the snaplen";
		return -EPROTO;
	}
	if (r->len < r->caplen) {
		*why = "record's wire length below its caplen";
		return -EPROTO;
	}
	if (r->type != BLN_REC_PKT && (r->caplen != 0 || r->len != 0 || r->cls != 0)) {
		*why = r->type == BLN_REC_END ? "end record with a packet" : "ack record with a packet";
		return -EPROTO;
	}
	if (n - BLN_REC_HDR < r->caplen)
		return 0;
	return (long)(BLN_REC_HDR + r->caplen);
}

int
bln_seq_next(const struct bln_rec *r, int have_last, uint64_t *last, uint64_t *lost,
	     const char **why)
{
	if (have_last) {
		/* END carries the seq the next packet would have had; a packet the next one. */
		uint64_t want = *last + 1;

		if (*last == UINT64_MAX || r->seq < want) {
			*why = "sequence number not increasing";
			return -EPROTO;
		}
		*lost += r->seq - want;
	}
	if (r->type == BLN_REC_PKT)      /* nothing may follow an end: the reader stops */
		*last = r->seq;
	return 0;
}
