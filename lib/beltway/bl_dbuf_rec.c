/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_dbuf_rec — record DBufs: a byte ring of variable-length records in a shared region. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_dbuf.h"
#include "bl_dbuf_pvt.h"

int
bl_dbuf_rec_create(const struct bl_dbuf_rec_opts *o, struct bl_dbuf **out, struct bl_err *err)
{
	struct bl_shm_opts so = { .sz = sizeof(so) };
	struct bl_dbuf *d;
	uint64_t *objtab;
	size_t off_data;
	int rc;

	if (o == NULL || o->sz < sizeof(*o) || o->name == NULL || strlen(o->name) >= BL_SHM_NAME_MAX)
		return bl_err_set(err, -EINVAL, "dbuf: need a name shorter than %u", BL_SHM_NAME_MAX);
	if (o->size < 4096 || (o->size & (o->size - 1)) != 0)
		return bl_err_set(err, -EINVAL, "dbuf %s: record ring size %u is not a power of "
			"two >= 4096", o->name, o->size);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return bl_err_set(err, -ENOMEM, "dbuf %s: out of memory", o->name);
	d->kind = BL_DBUF_REC;
	d->open_rec = d->poke_pos = UINT64_MAX;
	rc = bl_dbuf__register(d, o->id, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	so.name = o->name;
	so.flags = o->shm_flags | BL_SHM_F_OUT_RO;   /* clients read it; only we write */
	so.uid = o->uid;
	so.gid = o->gid;
	so.mode = o->mode;
	/* header page first; the data starts on a page of the backing's size */
	so.size = (size_t)o->size + ((o->shm_flags & BL_SHM_F_NO_HUGE) ? 4096 : BL_SHM_HUGE_PAGE);
	rc = bl_shm_create(&so, &d->shm, err);
	if (rc < 0)
		goto fail;
	off_data = d->shm->page_size;
	if (d->shm->size < off_data + o->size) {
		rc = bl_err_set(err, -ENOSPC, "dbuf %s: region too small", o->name);
		goto fail;
	}
	d->hdr = d->shm->base;
	d->hdr->magic = BL_DBUF_MAGIC;
	d->hdr->version = BL_SHM_ABI_VERSION;
	d->hdr->hdr_size = sizeof(*d->hdr);
	d->hdr->id = d->id;
	d->hdr->kind = BL_DBUF_REC;
	d->hdr->n_objs = 1;
	d->hdr->obj_size = o->size;
	d->hdr->page_size = (uint32_t)d->shm->page_size;
	d->hdr->region_size = d->shm->size;
	d->hdr->off_objtab = sizeof(*d->hdr);
	d->hdr->off_data = off_data;
	d->hdr->data_size = o->size;
	snprintf(d->hdr->name, sizeof(d->hdr->name), "%s", o->name);
	objtab = (uint64_t *)((char *)d->shm->base + d->hdr->off_objtab);
	objtab[0] = off_data;
	d->data = (uint8_t *)d->shm->base + off_data;
	d->mask = o->size - 1;
	d->rec_shift = (unsigned)__builtin_ctz(o->size);
	d->n_objs = 1;
	bl_err_clear(err);
	*out = d;
	return 0;
fail:
	bl_dbuf_free(d);
	return rc;
}
