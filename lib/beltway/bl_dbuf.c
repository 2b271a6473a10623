/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_dbuf — packet DBufs: a pktmbuf pool inside a shared region (see bl_dbuf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "bl_dbuf.h"
#include "bl_dbuf_pvt.h"
#include "bl_dbuf_worker.h"

/* Secondary processes attach (bl_dbuf_set_multiprocess): pool headers in EAL memory. */
static bool eal_headers;

void
bl_dbuf_set_multiprocess(bool on)
{
	eal_headers = on;
}

/* populate_virt's free callback: the objects' chunk of the DBuf's heap. */
static void
dbuf_objs_free(struct rte_mempool_memhdr *memhdr, void *opaque)
{
	(void)memhdr;
	rte_free(opaque);
}

/*
 * The pool's header and ring in EAL's own memory, its mbufs in the DBuf's heap.
 * A secondary process (dpdk-pdump, dpdk-proc-info) walks every mempool's header
 * (rte_mempool_lookup) but cannot see an external heap it has not attached.
 */
static struct rte_mempool *
dbuf_pool_eal_header(const char *name, const struct bl_dbuf_pkt_opts *o,
		     const struct rte_pktmbuf_pool_private *priv, unsigned elt, size_t pg, int sock)
{
	struct rte_mempool_objsz sz;
	struct rte_mempool *mp;
	size_t objs, len;
	void *mem;
	int n;

	mp = rte_mempool_create_empty(name, o->n_mbufs, elt, o->cache_size, sizeof(*priv),
		SOCKET_ID_ANY, 0);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL) != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, (void *)(uintptr_t)priv);
	/* the objects, and one more per page: none crosses a break in IOVA */
	objs = (size_t)o->n_mbufs * rte_mempool_calc_obj_size(elt, 0, &sz);
	len = RTE_ALIGN_CEIL(objs + (objs / pg + 1) * sz.total_size, pg);
	mem = rte_malloc_socket("bl_dbuf_objs", len, pg, sock);
	if (mem == NULL)
		goto fail;
	n = rte_mempool_populate_virt(mp, mem, len, pg, dbuf_objs_free, mem);
	if (n < 0) {
		rte_free(mem);
		goto fail;
	}
	if (mp->populated_size != o->n_mbufs)
		goto fail;   /* rte_mempool_free frees mem */
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	rte_errno = ENOMEM;
	return NULL;
}

/* The instance's DBufs by id (control path; one appliance process). */
static struct bl_dbuf *dbuf_by_id[UINT16_MAX + 1];

struct bl_dbuf *
bl_dbuf_lookup(uint16_t id)
{
	return dbuf_by_id[id];
}

/* Registered DBufs in id order of registration, for splice lookups. */
static struct bl_dbuf *dbuf_list[256];
static unsigned dbuf_n;

int
bl_dbuf__register(struct bl_dbuf *d, uint16_t want, struct bl_err *err)
{
	if (dbuf_n == RTE_DIM(dbuf_list))
		return bl_err_set(err, -ENOSPC, "dbuf: more than %u DBufs", (unsigned)RTE_DIM(dbuf_list));
	if (want != 0) {
		if (dbuf_by_id[want] != NULL)
			return bl_err_set(err, -EEXIST, "dbuf id %u is already in use", want);
		d->id = want;
	} else {
		unsigned i;
		for (i = 1; i <= UINT16_MAX && dbuf_by_id[i] != NULL; i++)
			;
		if (i > UINT16_MAX)
			return bl_err_set(err, -ENOSPC, "dbuf: all 65535 ids are in use");
		d->id = (uint16_t)i;
	}
	dbuf_by_id[d->id] = d;
	dbuf_list[dbuf_n++] = d;
	return 0;
}

static size_t
round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

struct iter_ctx { struct bl_dbuf *d; uint32_t bad; };

static void
dbuf_index_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct iter_ctx *c = arg;
	struct bl_dbuf *d = c->d;
	struct rte_mbuf *m = obj;
	struct bl_dbuf_mbuf_priv *p = rte_mbuf_to_priv(m);
	uint64_t *objtab = (uint64_t *)((char *)d->shm->base + d->hdr->off_objtab);

	(void)mp;
	p->object = idx;
	p->dbuf_id = d->id;
	d->objs[idx] = m;
	if (!bl_shm_contains(d->shm, m, sizeof(*m)) ||
	    !bl_shm_contains(d->shm, m->buf_addr, m->buf_len))
		c->bad++;
	objtab[idx] = (uint64_t)((char *)m->buf_addr - (char *)d->shm->base);
}

/* Add the region's data area to a new malloc heap; returns its socket or -errno. */
static int
dbuf_heap(struct bl_dbuf *d, struct bl_err *err)
{
	size_t pg = d->shm->page_size, len = d->hdr->data_size;
	unsigned n_pages = (unsigned)(len / pg);
	char *va = (char *)d->shm->base + d->hdr->off_data;
	rte_iova_t *iova = calloc(n_pages, sizeof(*iova));
	int rc, sock;

	if (iova == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n_pages; i++) {
		char *p = va + (size_t)i * pg;
		*(volatile char *)p = *p;     /* resident before asking for its address */
		iova[i] = rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)p :
			rte_mem_virt2iova(p);
	}
	snprintf(d->heap, sizeof(d->heap), "bl_dbuf_%u", d->id);
	rc = rte_malloc_heap_create(d->heap);
	if (rc == 0)
		rc = rte_malloc_heap_memory_add(d->heap, va, len, iova, n_pages, pg);
	free(iova);
	if (rc < 0) {
		rc = -rte_errno;
		rte_malloc_heap_destroy(d->heap);
		d->heap[0] = '\0';
		return bl_err_set(err, rc, "dbuf %s: cannot add the region to a malloc heap: %s",
			d->hdr->name, rte_strerror(-rc));
	}
	sock = rte_malloc_heap_get_socket(d->heap);
	return sock < 0 ? bl_err_set(err, -rte_errno, "dbuf %s: heap has no socket",
		d->hdr->name) : sock;
}

static int
dbuf_pool(struct bl_dbuf *d, const struct bl_dbuf_pkt_opts *o, uint16_t room, int sock,
	struct bl_err *err)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = room, .mbuf_priv_size = sizeof(struct bl_dbuf_mbuf_priv),
	};
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned elt = sizeof(struct rte_mbuf) + sizeof(struct bl_dbuf_mbuf_priv) + room;

	snprintf(name, sizeof(name), "bl_dbuf_%u", d->id);
	if (d->shm->page_size >= BL_SHM_HUGE_PAGE && eal_headers) {
		d->mp = dbuf_pool_eal_header(name, o, &priv, elt, d->shm->page_size, sock);
	} else if (d->shm->page_size >= BL_SHM_HUGE_PAGE) {
		d->mp = rte_pktmbuf_pool_create(name, o->n_mbufs, o->cache_size,
			sizeof(struct bl_dbuf_mbuf_priv), room, sock);
	} else {
		/* Small pages: objects may cross pages; IOVA is meaningless (virtual devices). */
		d->mp = rte_mempool_create_empty(name, o->n_mbufs, elt, o->cache_size,
			sizeof(priv), sock, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
		if (d->mp != NULL) {
			if (rte_mempool_set_ops_byname(d->mp, rte_mbuf_best_mempool_ops(), NULL) != 0) {
				rte_mempool_free(d->mp);
				d->mp = NULL;
			} else {
				rte_pktmbuf_pool_init(d->mp, &priv);
				if (rte_mempool_populate_default(d->mp) != (int)o->n_mbufs) {
					rte_mempool_free(d->mp);
					d->mp = NULL;
					rte_errno = ENOMEM;
				} else {
					rte_mempool_obj_iter(d->mp, rte_pktmbuf_init, NULL);
				}
			}
		}
	}
	if (d->mp == NULL)
		return bl_err_set(err, -rte_errno, "dbuf %s: cannot create a pool of %u mbufs in a "
			"%zu-byte region: %s", d->hdr->name, o->n_mbufs, d->shm->size,
			rte_strerror(rte_errno));
	return 0;
}

int
bl_dbuf_pkt_create(const struct bl_dbuf_pkt_opts *o, struct bl_dbuf **out, struct bl_err *err)
{
	struct bl_shm_opts so = { .sz = sizeof(so) };
	struct bl_dbuf *d;
	uint16_t room;
	uint32_t total;
	struct rte_mempool_objsz sz;
	size_t pg, off_data, data_size, ring;
	struct iter_ctx ic;
	int rc, sock;

	if (o == NULL || o->sz < sizeof(*o) || o->name == NULL || strlen(o->name) >= BL_SHM_NAME_MAX)
		return bl_err_set(err, -EINVAL, "dbuf: need a name shorter than %u", BL_SHM_NAME_MAX);
	if (o->n_mbufs < 2 || o->min_free >= o->n_mbufs)
		return bl_err_set(err, -EINVAL, "dbuf %s: n_mbufs %u must be >= 2 and above "
			"min_free %u", o->name, o->n_mbufs, o->min_free);
	room = o->data_room ? o->data_room : RTE_MBUF_DEFAULT_BUF_SIZE;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return bl_err_set(err, -ENOMEM, "dbuf %s: out of memory", o->name);
	d->kind = BL_DBUF_PKT;
	d->open_rec = d->poke_pos = UINT64_MAX;
	rc = bl_dbuf__register(d, o->id, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	d->objs = calloc(o->n_mbufs, sizeof(*d->objs));
	if (d->objs == NULL) {
		rc = bl_err_set(err, -ENOMEM, "dbuf %s: out of memory", o->name);
		goto fail;
	}
	/* Size: pool header with its per-lcore caches, ring, objects (which may not
	 * cross a huge page), and slack for malloc element headers. */
	total = rte_mempool_calc_obj_size(sizeof(struct rte_mbuf) +
		sizeof(struct bl_dbuf_mbuf_priv) + room, 0, &sz);
	ring = rte_align32pow2(o->n_mbufs + 1) * sizeof(void *) + 4096;
	data_size = (size_t)o->n_mbufs * total * 105 / 100 + 2 * ring + (4u << 20);
	so.name = o->name;
	so.flags = o->shm_flags | BL_SHM_F_OUT_RO;   /* clients read it; only we write */
	so.hugetlbfs_dir = o->hugetlbfs_dir;
	so.uid = o->uid;
	so.gid = o->gid;
	so.mode = o->mode;
	so.size = BL_SHM_HUGE_PAGE + data_size;  /* header + objtab, then data */
	rc = bl_shm_create(&so, &d->shm, err);
	if (rc < 0)
		goto fail;
	pg = d->shm->page_size;
	off_data = round_up(4096 + (size_t)o->n_mbufs * 8, pg);
	d->hdr = d->shm->base;
	d->hdr->magic = BL_DBUF_MAGIC;
	d->hdr->version = BL_SHM_ABI_VERSION;
	d->hdr->hdr_size = sizeof(*d->hdr);
	d->hdr->id = d->id;
	d->hdr->kind = BL_DBUF_PKT;
	d->hdr->n_objs = o->n_mbufs;
	d->hdr->obj_size = room;
	d->hdr->page_size = (uint32_t)pg;
	d->hdr->region_size = d->shm->size;
	d->hdr->off_objtab = 4096;
	d->hdr->off_data = off_data;
	d->hdr->data_size = (d->shm->size - off_data) / pg * pg;
	snprintf(d->hdr->name, sizeof(d->hdr->name), "%s", o->name);
	sock = dbuf_heap(d, err);
	if (sock < 0) {
		rc = sock;
		goto fail;
	}
	rc = dbuf_pool(d, o, room, sock, err);
	if (rc < 0)
		goto fail;
	ic.d = d;
	ic.bad = 0;
	d->n_objs = rte_mempool_obj_iter(d->mp, dbuf_index_obj, &ic);
	if (d->n_objs != o->n_mbufs || ic.bad != 0) {
		rc = bl_err_set(err, -EFAULT, "dbuf %s: %u of %u mbufs lie outside the region",
			o->name, ic.bad, d->n_objs);
		goto fail;
	}
	d->min_free = o->min_free;
	d->count_key = o->count_key != NULL ? o->count_key : "n_mbufs";
	bl_err_clear(err);
	*out = d;
	return 0;
fail:
	bl_dbuf_free(d);
	return rc;
}

void
bl_dbuf_free(struct bl_dbuf *d)
{
	if (d == NULL)
		return;
	rte_mempool_free(d->mp);
	if (d->heap[0] != '\0') {
		rte_malloc_heap_memory_remove(d->heap, (char *)d->shm->base + d->hdr->off_data,
			d->hdr->data_size);
		rte_malloc_heap_destroy(d->heap);
	}
	if (d->id != 0 && dbuf_by_id[d->id] == d) {
		dbuf_by_id[d->id] = NULL;
		for (unsigned i = 0; i < dbuf_n; i++)
			if (dbuf_list[i] == d)
				dbuf_list[i] = dbuf_list[--dbuf_n];
	}
	bl_shm_free(d->shm);
	free(d->objs);
	free(d);
}

int
bl_dbuf_reserve(struct bl_dbuf *d, uint32_t n, struct bl_err *err)
{
	if (d->kind != BL_DBUF_PKT)
		return 0;
	if (d->reserved + n + d->min_free > d->n_objs)
		/* Running rings (live taps, a reload's old graphs) count: say how much they
		 * hold, and that the pool is sized at start (a reload keeps it): "raise
		 * mbufs.count" alone read as something a reload could do. */
		return bl_err_set(err, -ENOSPC, "dbuf %s: pool has %u mbufs; its rings could hold "
			"%llu and %u must stay free for receive: raise %s to at least %llu "
			"or make the rings smaller (the pool is made at start: a reload keeps it; "
			"%llu are held by rings already running, taps among them)", d->hdr->name,
			d->n_objs, (unsigned long long)(d->reserved + n), d->min_free, d->count_key,
			(unsigned long long)(d->reserved + n + d->min_free),
			(unsigned long long)d->reserved);
	d->reserved += n;
	return 0;
}

void
bl_dbuf_unreserve(struct bl_dbuf *d, uint32_t n)
{
	d->reserved -= n <= d->reserved ? n : d->reserved;
}

void
bl_dbuf_set_min_free(struct bl_dbuf *d, uint32_t n)
{
	if (d != NULL && d->kind == BL_DBUF_PKT)
		d->min_free = n;
}

static void
dbuf_release(void *ctx, void **refs, unsigned n)
{
	(void)ctx;
	rte_pktmbuf_free_bulk((struct rte_mbuf **)refs, n);
}

int
bl_dbuf_ibuf_create(struct bl_dbuf *d, const struct bl_ibuf_opts *o, struct bl_ibuf **out,
	struct bl_err *err)
{
	struct bl_ibuf_opts io = *o;
	int rc = bl_dbuf_reserve(d, bl_ibuf_opts_slots(o), err);

	if (rc < 0)
		return rc;
	io.release = dbuf_release;
	io.release_ctx = d;
	rc = bl_ibuf_create(&io, out, err);
	if (rc < 0)
		bl_dbuf_unreserve(d, bl_ibuf_opts_slots(o));
	return rc;
}

void
bl_dbuf_ibuf_free(struct bl_dbuf *d, struct bl_ibuf *ib)
{
	if (ib == NULL)
		return;
	bl_dbuf_unreserve(d, ib->max_cap);   /* what create reserved: the slots it may grow to */
	bl_ibuf_free(ib);
}

int
bl_dbuf_splice(const void *p, uint32_t len, uint16_t cls, struct bl_ibuf_entry *e)
{
	for (unsigned j = 0; j < dbuf_n; j++) {
		struct bl_dbuf *d = dbuf_list[j];
		const char *c = p;
		if (d == NULL || !bl_shm_contains(d->shm, p, len))
			continue;
		if (d->kind == BL_DBUF_REC) {
			uint64_t x, at, base;
			if (c < (const char *)d->data)
				continue;
			/* the latest absolute position with this ring offset */
			x = (uint64_t)(c - (const char *)d->data);
			at = d->rec_end & d->mask;
			base = d->rec_end & ~d->mask;
			x = x < at || base == 0 ? base + x : base - (d->mask + 1) + x;
			*e = (struct bl_ibuf_entry){ .dbuf_id = d->id, .cls = cls,
				.object = (uint32_t)(x >> d->rec_shift),
				.offset = (uint32_t)(x & d->mask), .length = len };
			return 0;
		}
		for (uint32_t i = 0; i < d->n_objs; i++) {
			const char *b = d->objs[i]->buf_addr;
			if (c >= b && c + len <= b + d->objs[i]->buf_len) {
				*e = (struct bl_ibuf_entry){ .dbuf_id = d->id, .cls = cls, .object = i,
					.offset = (uint32_t)(c - b), .length = len };
				return 0;
			}
		}
	}
	return -ENOENT;
}
