/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_inject_check — what the appliance makes of one descriptor a client writer
 * put in its ring (bl_shm_abi.h, "a client writer's region"). DPDK-free, so a
 * unit test can throw garbage at it. Nothing the writer wrote is trusted: the
 * geometry (capacity, max_frame) is the appliance's own copy, the descriptor is
 * read once into a local copy before it is looked at, and a frame is only ever
 * read at [data + off, data + off + len) once this says BL_INJECT_OK.
 */
#ifndef BL_INJECT_CHECK_H
#define BL_INJECT_CHECK_H

#include <stdint.h>

#include "bl_shm_abi.h"

/* Why a descriptor was refused: each is a per-writer counter of the same name. */
enum bl_inject_verdict {
	BL_INJECT_OK = 0,
	BL_INJECT_BAD_OFFSET,   /* off outside the data area, or not the start of a buffer */
	BL_INJECT_TOO_LONG,     /* len above max_frame */
	BL_INJECT_EMPTY,        /* len 0 */
	BL_INJECT_REUSED,       /* seq of a commit already consumed, or the buffer of another
	                         * (earlier) commit: a buffer committed twice */
	BL_INJECT_NOT_GOT,      /* seq beyond this position: a buffer the writer was never given */
	BL_INJECT_N_VERDICTS,
};

/* Counter names, indexed by verdict (OK: frames accepted). */
#define BL_INJECT_VERDICT_NAMES { "frames", "bad_offset", "too_long", "empty", "reused", "not_got" }

/* The appliance's own geometry of one writer's region. */
struct bl_inject_geom {
	uint32_t capacity;      /* power of two */
	uint32_t max_frame;     /* bytes per buffer */
};

/*
 * The verdict on descriptor d, read from slot pos % capacity while the appliance's
 * tail is pos. The writer commits in seq order, so the only descriptor that can be
 * right there is { pos, (pos % capacity) * max_frame, 1..max_frame }.
 */
static inline enum bl_inject_verdict
bl_inject_check(const struct bl_inject_geom *g, const struct bl_wring_desc *d, uint64_t pos)
{
	uint64_t data = (uint64_t)g->capacity * g->max_frame;
	uint64_t want = (pos & (g->capacity - 1)) * (uint64_t)g->max_frame;

	if (d->seq < pos)
		return BL_INJECT_REUSED;
	if (d->seq > pos)
		return BL_INJECT_NOT_GOT;
	if ((uint64_t)d->off >= data || d->off % g->max_frame != 0)
		return BL_INJECT_BAD_OFFSET;
	if (d->off != want)
		return BL_INJECT_REUSED;        /* the buffer of another seq: an earlier commit's */
	if (d->len == 0)
		return BL_INJECT_EMPTY;
	if (d->len > g->max_frame)
		return BL_INJECT_TOO_LONG;
	return BL_INJECT_OK;                    /* off + len <= off + max_frame <= data */
}

#endif /* BL_INJECT_CHECK_H */
