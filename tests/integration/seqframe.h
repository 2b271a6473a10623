/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seqframe — the frames of inject_seq.sh, made by `writer ... seq` and checked by
 * seqcheck: frame s of a run with seed K is seqframe_len(K, s, max) bytes (60..max):
 * its sequence number (8 bytes, little endian), its length (4), bytes of a
 * generator seeded from (K, s), and an FNV-1a checksum of everything before it (4).
 */
#ifndef SEQFRAME_H
#define SEQFRAME_H

#include <stdint.h>
#include <string.h>

static inline uint64_t
seqframe_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static inline uint32_t
seqframe_len(uint64_t seed, uint64_t s, uint32_t max)
{
	return 60u + (uint32_t)(seqframe_mix(seed * 0x9e3779b97f4a7c15ull + s) % (max - 59u));
}

static inline uint32_t
seqframe_fnv(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Fill b with frame s (len bytes). */
static inline void
seqframe_fill(uint8_t *b, uint64_t seed, uint64_t s, uint32_t len)
{
	uint64_t x = seqframe_mix(seed ^ (s << 1) ^ 1);
	uint32_t h;

	memcpy(b, &s, 8);
	memcpy(b + 8, &len, 4);
	for (uint32_t i = 12; i < len - 4; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(b + i, &x, len - 4 - i < 8 ? len - 4 - i : 8);
	}
	h = seqframe_fnv(b, len - 4);
	memcpy(b + len - 4, &h, 4);
}

#endif /* SEQFRAME_H */
