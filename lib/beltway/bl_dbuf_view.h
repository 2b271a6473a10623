/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf_view — turn a rich pointer into a data pointer with offsets alone.
 *
 * For readers that mapped a DBuf region (read-only, at any address). Needs no
 * DPDK: <stdint.h>, <stddef.h> and the ABI header. Every value read from the
 * region is bounds-checked before use; a bad entry resolves to NULL.
 */
#ifndef BL_DBUF_VIEW_H
#define BL_DBUF_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "bl_shm_abi.h"

struct bl_dbuf_view {
	const uint8_t *base;        /* where this process mapped the region */
	uint64_t size;              /* bytes mapped */
	uint16_t id;
	uint16_t kind;
	uint32_t n_objs;
	uint32_t obj_size;
	const uint64_t *objtab;
};

/* 0, or -1 if the region is not a DBuf of this ABI version or does not fit `size`. */
static inline int
bl_dbuf_view_init(struct bl_dbuf_view *v, const void *base, uint64_t size)
{
	const struct bl_dbuf_hdr *h = (const struct bl_dbuf_hdr *)base;

	if (size < sizeof(*h) || h->magic != BL_DBUF_MAGIC || h->version != BL_SHM_ABI_VERSION ||
	    h->hdr_size != sizeof(*h) || h->id == 0 || h->off_objtab % 8 != 0 ||
	    h->off_objtab > size || h->n_objs > (size - h->off_objtab) / 8)
		return -1;
	v->base = (const uint8_t *)base;
	v->size = size;
	v->id = h->id;
	v->kind = h->kind;
	v->n_objs = h->n_objs;
	v->obj_size = h->obj_size;
	v->objtab = (const uint64_t *)(v->base + h->off_objtab);
	return 0;
}

/* Pointer to the entry's bytes, or NULL if the entry does not lie inside this DBuf. */
static inline const void *
bl_dbuf_view_ptr(const struct bl_dbuf_view *v, const struct bl_ibuf_entry *e)
{
	uint64_t obj;

	if (e->dbuf_id != v->id || (v->kind != BL_DBUF_REC && e->object >= v->n_objs) ||
	    (uint64_t)e->offset + e->length > v->obj_size)
		return NULL;
	obj = v->objtab[v->kind == BL_DBUF_REC ? 0 : e->object];
	if (obj > v->size || v->size - obj < (uint64_t)e->offset + e->length)
		return NULL;
	return v->base + obj + e->offset;
}

/*
 * After using a record entry's bytes: 1 if they cannot have been overwritten
 * meanwhile, 0 if they may have been. Packet DBufs: always 1 (an mbuf lives as
 * long as its IBuf slot holds it: use the IBuf's check).
 */
static inline int
bl_dbuf_view_check(const struct bl_dbuf_view *v, const struct bl_ibuf_entry *e)
{
	const struct bl_dbuf_hdr *h = (const struct bl_dbuf_hdr *)v->base;
	uint64_t size = v->obj_size, start, res;

	if (v->kind != BL_DBUF_REC)
		return 1;
	/* acquire fence: pairs with the release fence in bl_dbuf__rec_reserve. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	res = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
	start = (uint64_t)e->object * size + e->offset - sizeof(struct bl_dbuf_rec);
	return res <= start + size;
}

#endif /* BL_DBUF_VIEW_H */
