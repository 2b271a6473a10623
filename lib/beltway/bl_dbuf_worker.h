/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf_worker — DBuf burst helpers: mbuf <-> rich pointer, mbufs into IBufs
 * with a reference per slot, and the record ring's write/poke/append.
 * Producer thread only (record rings have one writer).
 */
#ifndef BL_DBUF_WORKER_H
#define BL_DBUF_WORKER_H

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "bl_atomic.h"
#include "bl_dbuf.h"
#include "bl_ibuf_worker.h"

/* The rich pointer of an mbuf of a packet DBuf (first segment). */
static inline void
bl_dbuf_entry_of(const struct rte_mbuf *m, uint16_t cls, struct bl_ibuf_entry *e)
{
	const struct bl_dbuf_mbuf_priv *p = rte_mbuf_to_priv((struct rte_mbuf *)(uintptr_t)m);

	e->dbuf_id = p->dbuf_id;
	e->cls = cls;
	e->object = p->object;
	e->offset = m->data_off;
	e->length = m->data_len;
}

/* The mbuf an entry points to, or NULL if it is not one of d's. */
static inline struct rte_mbuf *
bl_dbuf_mbuf_of(const struct bl_dbuf *d, const struct bl_ibuf_entry *e)
{
	return e->dbuf_id == d->id && e->object < d->n_objs ? d->objs[e->object] : NULL;
}

/*
 * Zero-copy write that hands the caller's references over: each stored mbuf's
 * reference (on every segment) becomes its slot's, with no refcount traffic;
 * the caller still owns m[k..n) for the k returned, to free or keep. Counts
 * drops like bl_dbuf_ibuf_write_mbufs.
 */
static inline unsigned
bl_dbuf_ibuf_give_mbufs(struct bl_ibuf *ib, struct rte_mbuf **m, const uint16_t *cls,
	unsigned n)
{
	struct bl_ibuf_entry e[32];
	unsigned done = 0;

	while (done < n) {
		unsigned c = n - done < 32 ? n - done : 32, k;
		for (unsigned i = 0; i < c; i++)
			bl_dbuf_entry_of(m[done + i], cls != NULL ? cls[done + i] : 1, &e[i]);
		k = bl_ibuf_write_refs(ib, e, (void *const *)&m[done], c);
		if (k < c && ib->policy != BL_IBUF_BLOCK) {
			if (done + c < n)   /* a full ring stays full for the rest of the burst */
				bl_counter_add(&ib->prod->dropped, n - done - c);
			return done + k;
		}
		done += k;
	}
	return done;
}

/*
 * Store n mbufs (of packet DBufs) in ib without copying a byte: each stored slot
 * takes its own reference (refcnt + 1 on every segment of a chain, as the
 * release frees the whole chain), released when the slot is reused (FRP) or
 * every reader passed it (SRP/MRP). The caller keeps its own reference either way.
 * Returns the number stored; the rest were dropped (counted by the ring).
 */
static inline unsigned
bl_dbuf_ibuf_write_mbufs(struct bl_ibuf *ib, struct rte_mbuf **m, const uint16_t *cls,
	unsigned n)
{
	unsigned k;

	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_refcnt_update(m[i], 1);    /* the slots' own references */
	k = bl_dbuf_ibuf_give_mbufs(ib, m, cls, n);
	for (unsigned i = k; i < n; i++)
		rte_pktmbuf_refcnt_update(m[i], -1);   /* not stored: not the ring's */
	return k;
}

/* ---- record DBufs: a byte ring, records 8-byte aligned, never wrapping ----
 *
 * Positions are absolute byte counts. hdr->head is the reserve: the end of what the
 * producer may be writing, stored (relaxed + release fence) before the bytes, so a
 * reader's bl_dbuf_view_check can tell, after using a record, whether it was being
 * overwritten (the IBuf check protocol, applied to bytes). A record entry carries
 * object = absolute data position >> log2(size) (the lap), offset = position & mask.
 */

#define BL_DBUF_REC_ALIGN 8u

/* Producer: announce that bytes up to end may now be overwritten (see R2). */
static inline void
bl_dbuf__rec_reserve(struct bl_dbuf *d, uint64_t end)
{
	/* relaxed store + release fence: pairs with the acquire fence in bl_dbuf_view_check. */
	__atomic_store_n(&d->hdr->head, end, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Room for a record of len bytes after the last one, wrapping with a pad record if
 * needed. Returns the absolute position of its header and reserves its bytes. */
static inline uint64_t
bl_dbuf__rec_start(struct bl_dbuf *d, uint32_t len)
{
	uint64_t size = d->mask + 1;
	uint64_t head = (d->rec_end + BL_DBUF_REC_ALIGN - 1) & ~(uint64_t)(BL_DBUF_REC_ALIGN - 1);
	uint64_t at = head & d->mask, need = sizeof(struct bl_dbuf_rec) + len;

	if (at + need > size) {               /* no wrap inside a record: pad to the end */
		struct bl_dbuf_rec *pad = (struct bl_dbuf_rec *)(d->data + at);
		bl_dbuf__rec_reserve(d, head + size - at);
		if (size - at >= sizeof(*pad)) {
			pad->length = (uint32_t)(size - at - sizeof(*pad));
			pad->flags = BL_DBUF_REC_F_PAD;
		}
		head += size - at;
	}
	bl_dbuf__rec_reserve(d, head + need);
	return head;
}

static inline void
bl_dbuf__rec_entry(const struct bl_dbuf *d, uint64_t data_pos, uint32_t len, uint16_t cls,
	struct bl_ibuf_entry *e)
{
	*e = (struct bl_ibuf_entry){ .dbuf_id = d->id, .cls = cls,
		.object = (uint32_t)(data_pos >> d->rec_shift),
		.offset = (uint32_t)(data_pos & d->mask), .length = len };
}

/* Zero-copy write: a pointer to len bytes to fill in place, or NULL if a record
 * of len bytes can never fit (more than half the ring). */
static inline uint8_t *
bl_dbuf_rec_poke_acquire(struct bl_dbuf *d, uint32_t len)
{
	uint64_t pos;

	if ((uint64_t)len + sizeof(struct bl_dbuf_rec) > (d->mask + 1) / 2)
		return NULL;
	pos = bl_dbuf__rec_start(d, len);
	d->poke_pos = pos;
	return d->data + (pos & d->mask) + sizeof(struct bl_dbuf_rec);
}

/* Commit len bytes (<= what was acquired) written after poke_acquire; e gets the
 * record's rich pointer. The record stays open for bl_dbuf_rec_append. 0 or -EINVAL. */
static inline int
bl_dbuf_rec_poke_complete(struct bl_dbuf *d, uint32_t len, uint16_t cls,
	struct bl_ibuf_entry *e)
{
	uint64_t pos = d->poke_pos;
	struct bl_dbuf_rec *r;

	if (pos == UINT64_MAX)
		return -EINVAL;
	r = (struct bl_dbuf_rec *)(d->data + (pos & d->mask));
	r->length = len;
	r->flags = 0;
	d->poke_pos = UINT64_MAX;
	d->open_rec = pos;
	d->rec_end = pos + sizeof(*r) + len;
	/* readers find records through IBuf entries, whose publication (the release
	 * store of the IBuf head) orders these bytes */
	bl_dbuf__rec_entry(d, pos + sizeof(*r), len, cls, e);
	return 0;
}

/* Copying write of one record (write-through). 0 or -EMSGSIZE. */
static inline int
bl_dbuf_rec_write(struct bl_dbuf *d, const void *data, uint32_t len, uint16_t cls,
	struct bl_ibuf_entry *e)
{
	uint8_t *p = bl_dbuf_rec_poke_acquire(d, len);

	if (p == NULL)
		return -EMSGSIZE;
	memcpy(p, data, len);
	bl_counter_add(&d->hdr->written, len);
	return bl_dbuf_rec_poke_complete(d, len, cls, e);
}

/* Extend the open record (the last one written) by len bytes; e is its entry and
 * grows with it. Does not wrap: -ENOSPC if the record would cross the ring's end. */
static inline int
bl_dbuf_rec_append(struct bl_dbuf *d, const void *data, uint32_t len, struct bl_ibuf_entry *e)
{
	uint64_t pos = d->open_rec;
	struct bl_dbuf_rec *r;
	uint64_t end;

	if (pos == UINT64_MAX || d->rec_end != pos + sizeof(*r) + e->length)
		return -EINVAL;
	r = (struct bl_dbuf_rec *)(d->data + (pos & d->mask));
	end = (pos & d->mask) + sizeof(*r) + r->length + len;
	if (end > d->mask + 1 || end - (pos & d->mask) > (d->mask + 1) / 2)
		return -ENOSPC;
	bl_dbuf__rec_reserve(d, d->rec_end + len);
	memcpy(d->data + (pos & d->mask) + sizeof(*r) + r->length, data, len);
	r->length += len;
	e->length += len;
	d->rec_end += len;
	bl_counter_add(&d->hdr->written, len);
	return 0;
}

/*
 * IBuf write with splicing: if data already lies in a DBuf, store only its index
 * (no byte copied); otherwise write it through to the record DBuf `through`.
 * Returns 1 if stored, 0 if the ring dropped it, -errno on error.
 */
static inline int
bl_dbuf_ibuf_write_data(struct bl_ibuf *ib, struct bl_dbuf *through, const void *data,
	uint32_t len, uint16_t cls)
{
	struct bl_ibuf_entry e;
	int rc = bl_dbuf_splice(data, len, cls, &e);

	if (rc == -ENOENT)
		rc = bl_dbuf_rec_write(through, data, len, cls, &e);
	if (rc < 0)
		return rc;
	return (int)bl_ibuf_write(ib, &e, 1);
}

#endif /* BL_DBUF_WORKER_H */
