/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_be — big-endian (network order) integers in a byte buffer, written once for
 * every encoder and decoder of a wire format (the IPFIX encoder lib/flow/bl_ipfix.c,
 * the records of `beltline serve` client/net_frame.c). No DPDK and no alignment
 * asked of p: libbeltline-client includes it too.
 */
#ifndef BL_BE_H
#define BL_BE_H

#include <stdint.h>

static inline void
bl_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
bl_put_be32(uint8_t *p, uint32_t v)
{
	bl_put_be16(p, (uint16_t)(v >> 16));
	bl_put_be16(p + 2, (uint16_t)v);
}

static inline void
bl_put_be64(uint8_t *p, uint64_t v)
{
	bl_put_be32(p, (uint32_t)(v >> 32));
	bl_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t
bl_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
bl_get_be32(const uint8_t *p)
{
	return (uint32_t)bl_get_be16(p) << 16 | bl_get_be16(p + 2);
}

static inline uint64_t
bl_get_be64(const uint8_t *p)
{
	return (uint64_t)bl_get_be32(p) << 32 | bl_get_be32(p + 4);
}

#endif /* BL_BE_H */
