/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_flow_ring — records from a flow table's thread (a worker) to the thread
 * that encodes and sends them: one producer, one consumer, fixed capacity, no
 * system call. A full ring refuses the record (the producer counts it).
 *
 * Ordering: F1 the producer writes the slot, then stores head (release);
 * F2 the consumer loads head (acquire, pairs with F1), reads the slots, then
 * stores tail (release); F3 the producer loads tail (acquire, pairs with F2)
 * before it reuses a slot the consumer has read.
 */
#ifndef BL_FLOW_RING_H
#define BL_FLOW_RING_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "bl_flow_rec.h"

struct bl_flow_ring {
	struct bl_flow_rec *slot;
	uint32_t mask;                          /* capacity - 1, read-only */
	_Alignas(64) uint64_t head;             /* (p) records written */
	uint64_t tail_cache;                    /* (p) the tail it last loaded */
	_Alignas(64) uint64_t tail;             /* (c) records read */
};

/* capacity: a power of two. 0 or -ENOMEM / -EINVAL. */
static inline int
bl_flow_ring_init(struct bl_flow_ring *r, uint32_t capacity)
{
	if (capacity < 2 || (capacity & (capacity - 1)) != 0)
		return -EINVAL;
	r->slot = calloc(capacity, sizeof(r->slot[0]));
	if (r->slot == NULL)
		return -ENOMEM;
	r->mask = capacity - 1;
	r->head = r->tail = r->tail_cache = 0;
	return 0;
}

static inline void
bl_flow_ring_fini(struct bl_flow_ring *r)
{
	free(r->slot);
	r->slot = NULL;
}

/* Producer: 1 if stored, 0 if the ring is full. */
static inline int
bl_flow_ring_put(struct bl_flow_ring *r, const struct bl_flow_rec *rec)
{
	if (r->head - r->tail_cache > r->mask) {
		/* acquire: pairs with the consumer's release of tail (F3) */
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (r->head - r->tail_cache > r->mask)
			return 0;
	}
	r->slot[r->head & r->mask] = *rec;
	/* release: pairs with the consumer's acquire of head (F1) */
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
	return 1;
}

/* Consumer: copy up to max records out; returns how many. */
static inline unsigned int
bl_flow_ring_get(struct bl_flow_ring *r, struct bl_flow_rec *out, unsigned int max)
{
	/* acquire: pairs with the producer's release of head (F2) */
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->tail;    /* the consumer's own */
	unsigned int n = 0;

	while (tail + n < head && n < max) {
		out[n] = r->slot[(tail + n) & r->mask];
		n++;
	}
	/* release: pairs with the producer's acquire of tail (F3) */
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

/* Any thread: records waiting. */
static inline uint64_t
bl_flow_ring_count(const struct bl_flow_ring *r)
{
	/* acquire both: a snapshot, for flushing and stats only */
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

#endif /* BL_FLOW_RING_H */
