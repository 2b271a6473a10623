/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pcapng — the few pcapng blocks Beltline writes (the pcap filter, `beltline cat`),
 * written once here: header only, no DPDK, host byte order (the section header's
 * byte-order magic says which). Layout from the pcapng specification
 * (draft-ietf-opsawg-pcapng):
 *
 *   Section Header   0x0A0D0D0A len 0x1A2B3C4D major=1 minor=0 section_len=-1 [shb_userappl] end len
 *   Interface Descr. 1 len linktype reserved snaplen [if_name] if_tsresol=9 end len
 *   Enhanced Packet  6 len if_id ts_high ts_low caplen wire_len data pad4 len
 *
 * Every interface says if_tsresol 9, so times are nanoseconds since the epoch;
 * every packet record carries its wire length beside what was captured. Each
 * writer returns the bytes it wrote into `p`, which must have room for
 * BL_PCAPNG_*_MAX (or the packet record's size).
 */
#ifndef BL_PCAPNG_H
#define BL_PCAPNG_H

#include <stdint.h>
#include <string.h>

#define BL_PCAPNG_SHB_TYPE  0x0A0D0D0Au
#define BL_PCAPNG_IDB_TYPE  0x00000001u
#define BL_PCAPNG_EPB_TYPE  0x00000006u
#define BL_PCAPNG_BOM       0x1A2B3C4Du
#define BL_PCAPNG_NAME_MAX  64u            /* bytes of an interface name kept */
#define BL_PCAPNG_SHB_MAX   64u
#define BL_PCAPNG_IDB_MAX   (20u + 4u + BL_PCAPNG_NAME_MAX + 8u + 4u + 4u)
#define BL_PCAPNG_EPB_HDR   28u            /* before the packet's bytes */
#define BL_PCAPNG_EPB_TAIL  4u             /* after them (and their padding) */

static inline uint32_t
bl_pcapng_pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/* An Enhanced Packet Block's whole size for caplen captured bytes. */
static inline uint32_t
bl_pcapng_epb_size(uint32_t caplen)
{
	return BL_PCAPNG_EPB_HDR + bl_pcapng_pad4(caplen) + BL_PCAPNG_EPB_TAIL;
}

static inline void
bl_pcapng__u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void
bl_pcapng__u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* An option: code, length, value, padded to 4 bytes. Returns its size. */
static inline uint32_t
bl_pcapng__opt(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
	bl_pcapng__u16(p, code);
	bl_pcapng__u16(p + 2, len);
	memcpy(p + 4, v, len);
	memset(p + 4 + len, 0, bl_pcapng_pad4(len) - len);
	return 4u + bl_pcapng_pad4(len);
}

/* Section Header Block, naming the writing program (shb_userappl). */
static inline uint32_t
bl_pcapng_shb(uint8_t *p, const char *appl)
{
	uint16_t alen = (uint16_t)strnlen(appl, 32);
	uint32_t n = 24;

	bl_pcapng__u32(p, BL_PCAPNG_SHB_TYPE);
	bl_pcapng__u32(p + 8, BL_PCAPNG_BOM);
	bl_pcapng__u16(p + 12, 1);             /* major */
	bl_pcapng__u16(p + 14, 0);             /* minor */
	memset(p + 16, 0xff, 8);               /* section length: not given */
	if (alen != 0)
		n += bl_pcapng__opt(p + n, 4, appl, alen);   /* shb_userappl */
	n += bl_pcapng__opt(p + n, 0, "", 0);             /* opt_endofopt */
	n += 4;
	bl_pcapng__u32(p + 4, n);
	bl_pcapng__u32(p + n - 4, n);
	return n;
}

/* Interface Description Block: name (if_name), nanosecond times (if_tsresol 9). */
static inline uint32_t
bl_pcapng_idb(uint8_t *p, const char *name, uint16_t linktype, uint32_t snaplen)
{
	uint16_t nlen = (uint16_t)strnlen(name, BL_PCAPNG_NAME_MAX);
	const uint8_t tsresol = 9;
	uint32_t n = 16;

	bl_pcapng__u32(p, BL_PCAPNG_IDB_TYPE);
	bl_pcapng__u16(p + 8, linktype);
	bl_pcapng__u16(p + 10, 0);
	bl_pcapng__u32(p + 12, snaplen);
	if (nlen != 0)
		n += bl_pcapng__opt(p + n, 2, name, nlen);   /* if_name */
	n += bl_pcapng__opt(p + n, 9, &tsresol, 1);       /* if_tsresol */
	n += bl_pcapng__opt(p + n, 0, "", 0);
	n += 4;
	bl_pcapng__u32(p + 4, n);
	bl_pcapng__u32(p + n - 4, n);
	return n;
}

/*
 * The head of an Enhanced Packet Block (BL_PCAPNG_EPB_HDR bytes): the caller puts
 * caplen bytes after it, then bl_pcapng_epb_tail. Returns the block's whole size.
 */
static inline uint32_t
bl_pcapng_epb_head(uint8_t *p, uint32_t if_id, uint64_t ts_ns, uint32_t caplen, uint32_t len)
{
	uint32_t n = bl_pcapng_epb_size(caplen);

	bl_pcapng__u32(p, BL_PCAPNG_EPB_TYPE);
	bl_pcapng__u32(p + 4, n);
	bl_pcapng__u32(p + 8, if_id);
	bl_pcapng__u32(p + 12, (uint32_t)(ts_ns >> 32));
	bl_pcapng__u32(p + 16, (uint32_t)ts_ns);
	bl_pcapng__u32(p + 20, caplen);
	bl_pcapng__u32(p + 24, len);
	return n;
}

/* After the packet's caplen bytes at p + BL_PCAPNG_EPB_HDR: padding and the closing length. */
static inline void
bl_pcapng_epb_tail(uint8_t *p, uint32_t caplen)
{
	uint32_t n = bl_pcapng_epb_size(caplen);

	memset(p + BL_PCAPNG_EPB_HDR + caplen, 0, bl_pcapng_pad4(caplen) - caplen);
	bl_pcapng__u32(p + n - 4, n);
}

#endif /* BL_PCAPNG_H */
