/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_ibuf — IBuf control path (see bl_ibuf.h; the burst calls are in bl_ibuf_worker.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"

#define PG BL_SHM_META_PAGE

int
bl_ibuf_policy_allows(uint32_t ring, uint32_t reader)
{
	switch (ring) {
	case BL_IBUF_SRP: return reader == BL_IBUF_SRP || reader == BL_IBUF_MRP || reader == BL_IBUF_FRP;
	case BL_IBUF_MRP: return reader == BL_IBUF_MRP || reader == BL_IBUF_FRP;
	case BL_IBUF_FRP: return reader == BL_IBUF_FRP;
	case BL_IBUF_BLOCK: return reader == BL_IBUF_BLOCK;
	default: return 0;
	}
}

static struct bl_shm *
page_region(const struct bl_ibuf_opts *o, const char *what, unsigned i, struct bl_err *err)
{
	struct bl_shm_opts so = {
		.sz = sizeof(so), .size = PG, .flags = BL_SHM_F_NO_HUGE,
		.uid = o->uid, .gid = o->gid, .mode = o->mode,
	};
	struct bl_shm *s = NULL;
	char name[80];

	snprintf(name, sizeof(name), "ibuf.%s.%s%u", o->name, what, i);
	so.name = name;
	return bl_shm_create(&so, &s, err) < 0 ? NULL : s;
}

int
bl_ibuf_create(const struct bl_ibuf_opts *o, struct bl_ibuf **out, struct bl_err *err)
{
	/* the ring: read-only for every client (its reader and MRP pages are their own memfds) */
	struct bl_shm_opts so = { .sz = sizeof(so), .flags = BL_SHM_F_NO_HUGE | BL_SHM_F_OUT_RO };
	struct bl_ibuf *ib;
	struct bl_ibuf_hdr *h;
	uint64_t off_readers = 3 * PG, off_slots;
	uint32_t max_cap;
	char name[80];
	int rc;

	if (o == NULL || o->sz < sizeof(*o) || o->name == NULL || o->name[0] == '\0' ||
	    strlen(o->name) >= BL_SHM_NAME_MAX || strchr(o->name, '/') != NULL)
		return bl_err_set(err, -EINVAL, "ibuf: need a name of 1..%u characters without '/'",
			BL_SHM_NAME_MAX - 1);
	if (o->capacity < 2 || o->capacity > (1u << 30) || (o->capacity & (o->capacity - 1)))
		return bl_err_set(err, -EINVAL, "ibuf %s: capacity %u is not a power of two in 2..2^30",
			o->name, o->capacity);
	max_cap = o->max_capacity != 0 ? o->max_capacity : o->capacity;
	if (max_cap < o->capacity || max_cap > (1u << 30) || (max_cap & (max_cap - 1)))
		return bl_err_set(err, -EINVAL, "ibuf %s: max_capacity %u is not a power of two in "
			"%u..2^30", o->name, max_cap, o->capacity);
	if (o->policy < BL_IBUF_SRP || o->policy > BL_IBUF_BLOCK)
		return bl_err_set(err, -EINVAL, "ibuf %s: policy %u is not srp, mrp, frp or block",
			o->name, o->policy);
	if (o->max_readers < 1 || o->max_readers > BL_IBUF_MAX_READERS)
		return bl_err_set(err, -EINVAL, "ibuf %s: max_readers %u is not in 1..%u",
			o->name, o->max_readers, BL_IBUF_MAX_READERS);
	ib = aligned_alloc(64, (sizeof(*ib) + 63) / 64 * 64);
	if (ib == NULL)
		return bl_err_set(err, -ENOMEM, "ibuf %s: out of memory", o->name);
	memset(ib, 0, sizeof(*ib));
	off_slots = off_readers + (uint64_t)o->max_readers * PG;
	snprintf(name, sizeof(name), "ibuf.%s", o->name);
	so.name = name;
	so.size = off_slots + (uint64_t)max_cap * sizeof(struct bl_ibuf_entry);
	so.uid = o->uid;
	so.gid = o->gid;
	so.mode = o->mode;
	rc = bl_shm_create(&so, &ib->shm, err);
	if (rc < 0)
		goto fail;
	if (o->release != NULL) {
		ib->refs = calloc(max_cap, sizeof(void *));
		if (ib->refs == NULL) {
			rc = bl_err_set(err, -ENOMEM, "ibuf %s: out of memory", o->name);
			goto fail;
		}
	}
	/* The MRP page and each reader page are their own memfd, mapped over the
	 * placeholder pages, so each can be handed out read-write on its own. */
	ib->mrp_shm = page_region(o, "mrp", 0, err);
	if (ib->mrp_shm == NULL) {
		rc = err != NULL ? err->code : -ENOMEM;
		goto fail;
	}
	rc = bl_shm_overlay(ib->shm, 2 * PG, ib->mrp_shm->fd, PG, 1);
	for (unsigned i = 0; rc == 0 && i < o->max_readers; i++) {
		ib->rshm[i] = page_region(o, "reader", i, err);
		if (ib->rshm[i] == NULL) {
			rc = err != NULL ? err->code : -ENOMEM;
			goto fail;
		}
		rc = bl_shm_overlay(ib->shm, off_readers + i * PG, ib->rshm[i]->fd, PG, 1);
	}
	if (rc < 0) {
		bl_err_set(err, rc, "ibuf %s: cannot map the metadata pages: %s", o->name, strerror(-rc));
		goto fail;
	}
	h = ib->shm->base;
	h->magic = BL_IBUF_MAGIC;
	h->version = BL_SHM_ABI_VERSION;
	h->hdr_size = sizeof(*h);
	h->capacity = max_cap;
	h->policy = o->policy;
	h->max_readers = o->max_readers;
	h->page_size = PG;
	h->region_size = ib->shm->size;
	h->off_prod = PG;
	h->off_mrp = 2 * PG;
	h->off_readers = off_readers;
	h->reader_stride = PG;
	h->off_slots = off_slots;
	snprintf(h->name, sizeof(h->name), "%s", o->name);
	ib->hdr = h;
	ib->prod = (void *)((char *)h + PG);
	ib->mrp = (void *)((char *)h + 2 * PG);
	for (unsigned i = 0; i < o->max_readers; i++)
		ib->rpage[i] = (void *)((char *)h + off_readers + i * PG);
	ib->slots = (void *)((char *)h + off_slots);
	ib->cap = o->capacity;
	ib->mask = o->capacity - 1;
	ib->max_cap = max_cap;
	ib->resize_at = UINT64_MAX;
	ib->prod->geom = bl_ibuf__geom(0, o->capacity);
	ib->policy = o->policy;
	ib->max_readers = o->max_readers;
	ib->release = o->release;
	ib->release_ctx = o->release_ctx;
	ib->limit = ib->cap;
	ib->refresh_at = BL_IBUF_REFRESH_EVERY;
	ib->exact = o->policy == BL_IBUF_FRP || o->policy == BL_IBUF_MRP;
	ib->step = bl_ibuf__step(ib->cap);
	if (o->policy == BL_IBUF_SRP || o->policy == BL_IBUF_BLOCK) {
		ib->prod->reserve = ib->cap;    /* the first lap overwrites nothing */
		ib->reserve_pub = ib->cap;
	}
	*out = ib;
	return 0;
fail:
	bl_ibuf_free(ib);
	return rc;
}

void
bl_ibuf_free(struct bl_ibuf *ib)
{
	if (ib == NULL)
		return;
	if (ib->refs != NULL) {
		for (uint32_t s = 0; s < ib->max_cap; s++)
			if (ib->refs[s] != NULL)
				ib->release(ib->release_ctx, &ib->refs[s], 1);
		free(ib->refs);
	}
	for (unsigned i = 0; i < BL_IBUF_MAX_READERS; i++)
		bl_shm_free(ib->rshm[i]);
	bl_shm_free(ib->mrp_shm);
	bl_shm_free(ib->shm);
	free(ib);
}

/*
 * Reader page i gets a memfd no earlier reader was given: an earlier client
 * that detached may keep its mapping of the old page (and the descriptor), and
 * whatever it writes there must reach nobody. The new memfd takes the old
 * one's owner, group and mode and is mapped MAP_FIXED over the slot in our
 * region (in-process readers and the producer see it at once); the old one is
 * unmapped and closed here, so only the earlier client's own mapping holds it.
 * Control thread only, with i not active: the producer reads only active pages.
 * The MRP page (kind "mrp", *slot ib->mrp_shm) likewise, when no MRP reader is
 * attached: the producer reads R only while one is.
 */
static int
fresh_region(struct bl_ibuf *ib, struct bl_shm **slot, size_t off, const char *kind, unsigned i)
{
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = ib->hdr->name };
	struct bl_shm *old = *slot, *s;
	struct stat st;
	int rc;

	if (fstat(old->fd, &st) < 0)
		return -errno;
	o.uid = st.st_uid;
	o.gid = st.st_gid;
	o.mode = st.st_mode & 0777;
	s = page_region(&o, kind, i, NULL);
	if (s == NULL)
		return -ENOMEM;
	rc = bl_shm_overlay(ib->shm, off, s->fd, PG, 1);
	if (rc < 0) {
		/* A failed MAP_FIXED may have unmapped the slot: put the old page back. */
		bl_shm_overlay(ib->shm, off, old->fd, PG, 1);
		bl_shm_free(s);
		return rc;
	}
	*slot = s;
	bl_shm_free(old);
	return 0;
}

static int
fresh_page(struct bl_ibuf *ib, unsigned i)
{
	return fresh_region(ib, &ib->rshm[i], ib->hdr->off_readers + (size_t)i * PG, "reader", i);
}

int
bl_ibuf_reader_alloc_as(struct bl_ibuf *ib, uint32_t pid, uint32_t policy)
{
	/* relaxed: attach and detach run on one control thread, the only writer of active
	 * and of the policy sets. */
	uint64_t active = __atomic_load_n(&ib->prod->active, __ATOMIC_RELAXED);
	uint64_t head;

	if (policy == 0)
		policy = ib->policy;
	if (!bl_ibuf_policy_allows(ib->policy, policy))
		return -EINVAL;
	for (unsigned i = 0; i < ib->max_readers; i++) {
		struct bl_ibuf_rpage *p = ib->rpage[i];
		uint64_t bit = 1ull << i;
		int rc;

		if (active & bit)
			continue;
		/* A page once handed out is never handed out again (fresh_page). */
		if (ib->handed & bit) {
			rc = fresh_page(ib, i);
			if (rc < 0)
				return rc;
		}
		ib->handed |= bit;
		memset(p, 0, sizeof(*p));
		/* acquire: pairs with the release store in bl_ibuf__publish. */
		head = __atomic_load_n(&ib->prod->head, __ATOMIC_ACQUIRE);
		/* relaxed: these are ordered before the bit by the release or below. */
		__atomic_store_n(&p->pos, head, __ATOMIC_RELAXED);
		__atomic_store_n(&ib->prod->reader_clamps[i], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ib->prod->reader_pid[i], pid, __ATOMIC_RELAXED);
		__atomic_store_n(&ib->prod->reader_policy[i], (uint8_t)policy, __ATOMIC_RELAXED);
		/* a new attach of page i: a reader of an earlier one no longer vouches by the bit */
		__atomic_store_n(&ib->prod->reader_gen[i], ib->prod->reader_gen[i] + 1,
				 __ATOMIC_RELAXED);
		if (policy == BL_IBUF_SRP || policy == BL_IBUF_BLOCK)
			__atomic_fetch_or(&ib->prod->srp_readers, bit, __ATOMIC_RELAXED);
		if (policy == BL_IBUF_MRP) {
			/* The first MRP reader since the last left gets an MRP page no earlier
			 * one was given: one that detached may keep its mapping and raise R
			 * there (making later MRP readers skip entries), reaching nobody now.
			 * Its R starts at 0, raised to the head below. relaxed: the control
			 * thread is the only writer of mrp_readers and active. */
			if (ib->mrp_handed && !(__atomic_load_n(&ib->prod->mrp_readers, __ATOMIC_RELAXED) &
			    __atomic_load_n(&ib->prod->active, __ATOMIC_RELAXED))) {
				rc = fresh_region(ib, &ib->mrp_shm, ib->hdr->off_mrp, "mrp", 0);
				if (rc < 0)
					return rc;
			}
			ib->mrp_handed = 1;
			__atomic_fetch_or(&ib->prod->mrp_readers, bit, __ATOMIC_RELAXED);
			/* A new reader claims nothing before its start: R = max(R, head).
			 * release: pairs with the acquire load of R in bl_ibuf__refresh. */
			uint64_t cur = __atomic_load_n(&ib->mrp->r, __ATOMIC_RELAXED);
			while (cur < head && !__atomic_compare_exchange_n(&ib->mrp->r, &cur, head,
					1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
				;
		}
		/* seq_cst (a release, too): pairs with the acquire load of active in
		 * bl_ibuf__refresh, so the position and the policy sets above are visible
		 * before the bit; and with the seq_cst fence before that load (P3). */
		__atomic_fetch_or(&ib->prod->active, bit, __ATOMIC_SEQ_CST);
		/* A refresh that did not see the bit may have freed the references of
		 * entries up to the head it saw: start at or above it. The producer may read
		 * pos in between; it only moves up. seq_cst: the store-buffer pattern with
		 * the refresh's seq_cst fence needs both sides seq_cst (an acquire load
		 * after the or holds on x86 and ARMv8, not in C11); also an acquire that
		 * pairs with bl_ibuf__publish. */
		head = __atomic_load_n(&ib->prod->head, __ATOMIC_SEQ_CST);
		__atomic_store_n(&p->pos, head, __ATOMIC_RELAXED);
		return (int)i;
	}
	return -ENOSPC;
}

int
bl_ibuf_reader_alloc(struct bl_ibuf *ib, uint32_t pid)
{
	return bl_ibuf_reader_alloc_as(ib, pid, 0);
}

int
bl_ibuf_reader_detach(struct bl_ibuf *ib, unsigned idx)
{
	uint64_t bit = 1ull << idx;

	/* relaxed: the control thread is the only writer of active (see reader_alloc). */
	if (idx >= ib->max_readers || !(__atomic_load_n(&ib->prod->active, __ATOMIC_RELAXED) & bit))
		return -ENOENT;
	/* release: pairs with the acquire load of active in bl_ibuf__refresh. */
	__atomic_fetch_and(&ib->prod->active, ~bit, __ATOMIC_RELEASE);
	/* relaxed: the producer reads the sets only masked by active, and the bit is gone. */
	__atomic_fetch_and(&ib->prod->srp_readers, ~bit, __ATOMIC_RELAXED);
	__atomic_fetch_and(&ib->prod->mrp_readers, ~bit, __ATOMIC_RELAXED);
	/* relaxed: bookkeeping read only by stats. */
	__atomic_store_n(&ib->prod->reader_pid[idx], 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ib->prod->detached, 1, __ATOMIC_RELAXED);
	return 0;
}

int
bl_ibuf_reader_fds(const struct bl_ibuf *ib, unsigned idx, struct bl_ibuf_fds *fds)
{
	if (idx >= ib->max_readers)
		return -EINVAL;
	fds->idx = idx;
	fds->ring_fd = bl_shm_ro_fd(ib->shm);
	if (fds->ring_fd < 0)
		return fds->ring_fd;
	fds->page_fd = ib->rshm[idx]->fd;
	fds->mrp_fd = ib->prod->reader_policy[idx] == BL_IBUF_MRP ? ib->mrp_shm->fd : -1;
	return 0;
}

/* The policy reader idx reads with: the control plane set it before passing the page. */
static uint32_t
reader_policy(const void *base, unsigned idx)
{
	const struct bl_ibuf_hdr *h = base;
	const struct bl_ibuf_prod *p = (const void *)((const char *)base + h->off_prod);
	/* relaxed: written before the fds were handed over (or the bit set, in-process). */
	uint32_t pol = __atomic_load_n(&p->reader_policy[idx], __ATOMIC_RELAXED);

	return bl_ibuf_policy_allows(h->policy, pol) ? pol : h->policy;
}

static void
reader_init(struct bl_ibuf_reader *r, void *base, unsigned idx)
{
	const struct bl_ibuf_hdr *h = base;

	r->hdr = h;
	r->prod = (const void *)((const char *)base + h->off_prod);
	r->mrp = (void *)((char *)base + h->off_mrp);
	r->slots = (const void *)((const char *)base + h->off_slots);
	r->page = (void *)((char *)base + h->off_readers + idx * h->reader_stride);
	r->cap = h->capacity;
	r->mask = h->capacity - 1;
	r->policy = reader_policy(base, idx);
	r->idx = idx;
	r->bit = 1ull << idx;
	/* relaxed: the control plane set it before the bit and before handing us the page */
	r->gen = __atomic_load_n(&r->prod->reader_gen[idx], __ATOMIC_RELAXED);
	r->step = bl_ibuf__pub_step(r->cap);
	/* relaxed: the capacity in effect; checked against the slots there are. Followed
	 * at every load of head from now on (bl_ibuf__avail). */
	bl_ibuf__reader_geom(r, __atomic_load_n(&r->prod->geom, __ATOMIC_RELAXED), 0);
	/* relaxed: the control plane wrote pos before handing us the page. */
	r->pos = __atomic_load_n(&r->page->pos, __ATOMIC_RELAXED);
	/* A growth since the attach may have left entries from pos on in slots the
	 * capacity just applied does not give them: start at the oldest it keeps (an FRP
	 * reader's loss, counted as a lap; an SRP or MRP reader is never below it, the tail
	 * holds for it). */
	if (r->pos < bl_ibuf__geom_floor(r->geom) && r->cap == bl_ibuf__geom_cap(r->geom)) {
		bl_counter_add(&r->page->lost, bl_ibuf__geom_floor(r->geom) - r->pos);
		bl_counter_add(&r->page->laps, 1);
		r->pos = bl_ibuf__geom_floor(r->geom);
	}
	r->pub = r->pos;
}

int
bl_ibuf_reader_attach(struct bl_ibuf *ib, struct bl_ibuf_reader **out)
{
	return bl_ibuf_reader_attach_as(ib, 0, out);
}

int
bl_ibuf_reader_attach_as(struct bl_ibuf *ib, uint32_t policy, struct bl_ibuf_reader **out)
{
	struct bl_ibuf_reader *r = aligned_alloc(64, (sizeof(*r) + 63) / 64 * 64);
	int idx;

	if (r == NULL)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	idx = bl_ibuf_reader_alloc_as(ib, 0, policy);
	if (idx < 0) {
		free(r);
		return idx;
	}
	reader_init(r, ib->shm->base, (unsigned)idx);
	*out = r;
	return 0;
}

/* Distrust the header: everything we will index with must fit the mapping. */
static int
hdr_valid(const struct bl_ibuf_hdr *h, size_t size, unsigned idx)
{
	uint64_t cap = h->capacity;

	return size >= PG && h->magic == BL_IBUF_MAGIC && h->version == BL_SHM_ABI_VERSION &&
		h->hdr_size == sizeof(*h) && cap >= 2 && (cap & (cap - 1)) == 0 &&
		cap <= (1u << 30) && h->policy >= BL_IBUF_SRP && h->policy <= BL_IBUF_BLOCK &&
		idx < h->max_readers && h->max_readers <= BL_IBUF_MAX_READERS &&
		h->page_size == PG && h->reader_stride == PG &&
		h->off_prod == PG && h->off_mrp == 2 * PG && h->off_readers == 3 * PG &&
		h->off_slots == h->off_readers + (uint64_t)h->max_readers * PG &&
		h->off_slots + cap * sizeof(struct bl_ibuf_entry) <= size;
}

int
bl_ibuf_reader_open(const struct bl_ibuf_fds *fds, struct bl_ibuf_reader **out)
{
	struct bl_ibuf_reader *r = aligned_alloc(64, (sizeof(*r) + 63) / 64 * 64);
	const struct bl_ibuf_hdr *h;
	int rc;

	if (r == NULL)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	rc = bl_shm_attach_fd(fds->ring_fd, 0, &r->shm);
	if (rc < 0)
		goto fail;
	h = r->shm->base;
	if (!hdr_valid(h, r->shm->size, fds->idx)) {
		rc = -EPROTO;
		goto fail;
	}
	rc = bl_shm_overlay(r->shm, h->off_readers + fds->idx * PG, fds->page_fd, PG, 1);
	if (rc == 0 && reader_policy(h, fds->idx) == BL_IBUF_MRP)
		rc = fds->mrp_fd < 0 ? -EINVAL : bl_shm_overlay(r->shm, h->off_mrp, fds->mrp_fd, PG, 1);
	if (rc < 0)
		goto fail;
	reader_init(r, r->shm->base, fds->idx);
	*out = r;
	return 0;
fail:
	bl_ibuf_reader_close(r);
	return rc;
}

void
bl_ibuf_reader_close(struct bl_ibuf_reader *r)
{
	if (r == NULL)
		return;
	bl_shm_free(r->shm);
	free(r);
}

int
bl_ibuf_resize(struct bl_ibuf *ib, uint32_t cap)
{
	uint32_t now = bl_ibuf_capacity(ib);

	if (cap != now * 2 && cap != now / 2)
		return -EINVAL;
	if (cap < 2 || cap > ib->max_cap)
		return -EINVAL;
	/* A pending request is replaced: the producer reads it only while it has none
	 * planned, and one it clears after applying another is asked for again.
	 * release: pairs with the acquire load in bl_ibuf__resize_plan. */
	__atomic_store_n(&ib->resize_req, cap, __ATOMIC_RELEASE);
	return 0;
}

uint32_t
bl_ibuf_capacity(const struct bl_ibuf *ib)
{
	/* relaxed: a snapshot; the producer stores it before the entries it governs. */
	return bl_ibuf__geom_cap(__atomic_load_n(&ib->prod->geom, __ATOMIC_RELAXED));
}

void
bl_ibuf_reclaim(struct bl_ibuf *ib)
{
	if (ib->policy != BL_IBUF_FRP)
		bl_ibuf__refresh(ib);
}

int
bl_ibuf_mpipe(const struct bl_ibuf_opts *o, unsigned n, struct bl_ibuf **out,
	struct bl_ibuf_reader **readers, struct bl_err *err)
{
	struct bl_ibuf *ib;
	int rc;

	if (o != NULL && n > o->max_readers)
		return bl_err_set(err, -EINVAL, "ibuf %s: %u readers but max_readers is %u",
			o->name, n, o->max_readers);
	rc = bl_ibuf_create(o, &ib, err);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		rc = bl_ibuf_reader_attach(ib, &readers[i]);
		if (rc < 0) {
			while (i-- > 0)
				bl_ibuf_reader_close(readers[i]);
			bl_ibuf_free(ib);
			return bl_err_set(err, rc, "ibuf %s: cannot attach reader: %s",
				o->name, strerror(-rc));
		}
	}
	*out = ib;
	return 0;
}

void
bl_ibuf_stats(const struct bl_ibuf *ib, struct bl_ibuf_stats *st)
{
	const struct bl_ibuf_prod *p = ib->prod;
	/* relaxed, all of them: a snapshot for people; pairs with the relaxed counter
	 * stores (bl_counter_add); fields may come from slightly different moments. */
	uint64_t active = __atomic_load_n(&p->active, __ATOMIC_RELAXED);

	memset(st, 0, sizeof(*st));
	st->head = __atomic_load_n(&p->head, __ATOMIC_RELAXED);
	st->tail = __atomic_load_n(&p->tail, __ATOMIC_RELAXED);
	st->written = bl_counter_read(&p->written);
	st->dropped = bl_counter_read(&p->dropped);
	st->waits = bl_counter_read(&p->waits);
	st->clamps = bl_counter_read(&p->clamps);
	st->overwritten = bl_counter_read(&p->overwritten);
	st->detached = __atomic_load_n(&p->detached, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < ib->max_readers; i++) {
		const struct bl_ibuf_rpage *rp = ib->rpage[i];
		struct bl_ibuf_reader_stats *r = &st->r[i];
		r->active = !!(active & (1ull << i));
		r->policy = __atomic_load_n(&p->reader_policy[i], __ATOMIC_RELAXED);
		st->n_active += (uint32_t)r->active;
		r->pid = __atomic_load_n(&p->reader_pid[i], __ATOMIC_RELAXED);
		r->pos = __atomic_load_n(&rp->pos, __ATOMIC_RELAXED);
		r->consumed = bl_counter_read(&rp->consumed);
		r->lost = bl_counter_read(&rp->lost);
		r->laps = bl_counter_read(&rp->laps);
		r->check_fail = bl_counter_read(&rp->check_fail);
		r->clamps = bl_counter_read(&p->reader_clamps[i]);
	}
}
