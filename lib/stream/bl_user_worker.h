/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_user_worker — a user filter's side of its verdict client, on its worker lcore:
 * find the client (Dekker with bl_user_detach), take the classes it returned. static
 * inline, never exported.
 *
 * Ordering (the client is libbeltline-client, client/src_user.c, or anything else:
 * untrusted):
 *   V1 the client writes descriptors, then stores head (release);
 *   A1 here: head is loaded acquire (pairs with V1); each descriptor's fields are loaded
 *      once, then checked, never trusted;
 *   A2 tail is stored release: the descriptors before it are the client's again (the
 *      library loads tail acquire before it reuses one: pairs with A2).
 *   D  busy/active: Dekker with bl_user_detach (bl_user.h), seq_cst.
 */
#ifndef BL_USER_WORKER_H
#define BL_USER_WORKER_H

#include <rte_branch_prediction.h>

#include "bl_atomic.h"
#include "bl_user.h"

/* D: announce, then look (seq_cst both; pairs with the detach's store and loads). The
 * client returned stays mapped until bl_user_leave. */
static inline struct bl_user_client *
bl_user_enter(struct bl_user *u)
{
	__atomic_store_n(&u->busy, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&u->active, __ATOMIC_SEQ_CST);
}

/* D: release, the region's reads are done before detach may see busy == 0. */
static inline void
bl_user_leave(struct bl_user *u)
{
	__atomic_store_n(&u->busy, 0, __ATOMIC_RELEASE);
}

/*
 * The descriptors the client published since the last call: their count (0..capacity),
 * first at c->desc[*first & (capacity - 1)]. A head more than capacity ahead of the tail
 * (or behind it) is garbage: counted once per value, nothing read until it is sane.
 */
static inline uint32_t
bl_user_vring_avail(struct bl_user *u, struct bl_user_client *c)
{
	/* A1: acquire, pairs with the client's release of head (V1). */
	uint64_t head = __atomic_load_n(&c->hdr->head, __ATOMIC_ACQUIRE);
	uint64_t avail = head - c->tail;

	if (unlikely(avail > c->capacity)) {
		if (!c->bad_seen || head != c->bad_head) {   /* once per value (0 too) */
			c->bad_seen = true;
			c->bad_head = head;
			bl_counter_add(&u->c.bad_head, 1);
		}
		return 0;
	}
	return (uint32_t)avail;
}

/* Descriptor pos, each field loaded once (relaxed: ordered by A1). */
static inline void
bl_user_vring_get(const struct bl_user_client *c, uint64_t pos, uint64_t *seq, uint32_t *cls)
{
	const struct bl_vring_desc *d = &c->desc[pos & (c->capacity - 1)];

	*seq = __atomic_load_n(&d->seq, __ATOMIC_RELAXED);
	*cls = __atomic_load_n(&d->cls, __ATOMIC_RELAXED);
}

/* A2: n descriptors consumed, `ignored` of them ignored; release pairs with the library's
 * acquire load of tail. */
static inline void
bl_user_vring_done(struct bl_user_client *c, uint32_t n, uint32_t ignored)
{
	c->tail += n;
	__atomic_store_n(&c->tp->tail, c->tail, __ATOMIC_RELEASE);
	if (ignored != 0)   /* the client's view of what was ignored: a counter, relaxed */
		bl_counter_add(&c->tp->ignored, ignored);
}

#endif /* BL_USER_WORKER_H */
