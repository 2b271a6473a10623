/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_user — a `user` filter's verdict client (beltline.h, "verdicts"): attach_verdict over
 * the control socket (an frp reader of the filter's stream, plus a ring of our own), take
 * packets as zero-copy views, give their classes back through our ring. The layout and
 * ordering rules are bl_shm_abi.h ("vring") and lib/stream/bl_user_worker.h (V1, A1, A2).
 *
 * Descriptor s of our ring is written only once s - tail < capacity, tail loaded acquire
 * (pairs with the appliance's release, A2): it has read the one before in that slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_shm_abi.h"
#include "bl_stream_proto.h"

struct beltline_user {
	struct beltline_stream *s;          /* the frp reader of the filter's stream */
	struct bl_vring_hdr *hdr;           /* our ring, read-write, ours alone */
	struct bl_vring_desc *desc;
	size_t ring_size;
	const struct bl_vring_tail *tp;     /* the appliance's tail page, read-only */
	uint32_t capacity;
	uint64_t head;                      /* descriptors published */
	uint64_t taken, full;
	unsigned full_run;                  /* beltline_give calls in a row that found it full */
	int gone;                           /* the appliance hung up: -EPIPE from here on */
};

/* A give (or flush) checks the lease every this many looks at a full ring: a poll(). */
#define BLC_USER_GONE_CHECK 64u

/* The ring stays full: has the appliance gone (it reads no more)? Said once. */
static int
user_gone(struct beltline_user *u)
{
	if (!u->gone && blc_live_hung_up(u->s, "verdicts end"))
		u->gone = 1;
	return u->gone;
}

/* Map our ring (read-write) and the appliance's tail page (read-only: it is sealed). */
static int
user_map(struct beltline_user *u, const char *uri, int ring_fd, int tail_fd, uint32_t cap)
{
	struct stat st;
	size_t need;
	void *p;

	if (cap == 0 || (cap & (cap - 1)) != 0 || fstat(ring_fd, &st) < 0)
		goto bad;
	need = BL_SHM_META_PAGE + (size_t)cap * sizeof(struct bl_vring_desc);
	if ((uint64_t)st.st_size < need)
		goto bad;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	u->hdr = p;
	u->ring_size = (size_t)st.st_size;
	if (u->hdr->magic != BL_VRING_MAGIC || u->hdr->version != BL_SHM_ABI_VERSION ||
	    u->hdr->capacity != cap || u->hdr->off_desc != BL_SHM_META_PAGE)
		goto bad;
	u->desc = (struct bl_vring_desc *)((uint8_t *)p + BL_SHM_META_PAGE);
	u->capacity = cap;
	u->head = u->hdr->head;
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ, MAP_SHARED, tail_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	u->tp = p;
	return 0;
bad:
	blc_log(BELTLINE_LOG_ERROR, "%s: the verdict ring is not what the reply says "
		"(ABI version %u expected)", uri, BL_SHM_ABI_VERSION);
	return -EPROTO;
}

int
beltline_open_user(const char *uri, const struct beltline_open_opts *o, struct beltline_user **out)
{
	struct blc_attach_extra x = { .vfd = { -1, -1 } };
	const char *inst, *slash;
	struct beltline_user *u;
	int rc;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (blc_open_opts_check(uri, o) < 0)
		return -EINVAL;
	if (uri == NULL || strncmp(uri, "beltline://", 11) != 0 ||
	    (slash = strchr((inst = uri + 11), '/')) == NULL ||
	    !bl_instance_name_ok(inst, (size_t)(slash - inst)) ||
	    !bl_stream_name_ok(slash + 1, strlen(slash + 1))) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: want beltline://INSTANCE/NAME",
			uri != NULL ? uri : "(null)");
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	rc = blc_open_attach(uri, inst, (size_t)(slash - inst), slash + 1, o, &x, &u->s);
	if (rc < 0) {
		free(u);
		return rc;
	}
	rc = user_map(u, uri, x.vfd[0], x.vfd[1], x.vcap);
	close(x.vfd[0]);   /* the mappings are what we keep */
	close(x.vfd[1]);
	if (rc < 0) {
		beltline_user_close(u);
		return rc;
	}
	*out = u;
	return 0;
}

int
beltline_take(struct beltline_user *u, struct beltline_pkt *pkts, unsigned n)
{
	int rc;

	BLC_REFUSE_IF(u == NULL, "u is NULL");
	BLC_REFUSE_IF(pkts == NULL, "pkts is NULL");
	BLC_REFUSE_IF(n == 0, "n is 0");
	rc = beltline_peek(u->s, pkts, n);
	if (rc > 0) {
		/* Past them in the stream; their bytes stay while the appliance holds them. */
		beltline_release(u->s, (unsigned)rc);
		u->taken += (unsigned)rc;
	}
	return rc;
}

int
beltline_give(struct beltline_user *u, const struct beltline_class *c, unsigned n)
{
	uint64_t tail;
	unsigned k;

	BLC_REFUSE_IF(u == NULL, "u is NULL");
	BLC_REFUSE_IF(c == NULL && n != 0, "c is NULL and n is not 0");
	/* A2: acquire, pairs with the appliance's release of tail: it read those slots. */
	tail = __atomic_load_n(&u->tp->tail, __ATOMIC_ACQUIRE);
	k = (unsigned)(u->capacity - (u->head - tail));
	if (u->head - tail > u->capacity)
		k = 0;   /* cannot happen with an honest appliance */
	if (k > n)
		k = n;
	if (k == 0 && n != 0) {
		/* Full while the appliance is gone is full for ever: a give loop on -EAGAIN
		 * spun on, unaware (the writer's getwritebuf says -EPIPE). */
		if (u->gone || (u->full_run++ % BLC_USER_GONE_CHECK == 0 && user_gone(u)))
			return -EPIPE;
		u->full++;
		return -EAGAIN;
	}
	u->full_run = 0;
	for (unsigned i = 0; i < k; i++) {
		struct bl_vring_desc *d = &u->desc[(u->head + i) & (u->capacity - 1)];

		d->seq = c[i].seq;
		d->cls = c[i].cls;
		d->pad = 0;
	}
	u->head += k;
	/* V1: release, the descriptors before head. */
	__atomic_store_n(&u->hdr->head, u->head, __ATOMIC_RELEASE);
	return (int)k;
}

int
beltline_user_flush(struct beltline_user *u, int timeout_ms)
{
	struct timespec ts = { 0, 200000 };

	BLC_REFUSE_IF(u == NULL, "u is NULL");
	/* acquire: pairs with the appliance's release of tail (A2). */
	for (int i = 0; __atomic_load_n(&u->tp->tail, __ATOMIC_ACQUIRE) != u->head; i++) {
		if (i >= timeout_ms * 5)
			return -ETIMEDOUT;
		if (i % BLC_USER_GONE_CHECK == 0 && user_gone(u))
			return -EPIPE;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int
beltline_user_fd(const struct beltline_user *u)
{
	BLC_REFUSE_IF(u == NULL, "u is NULL");
	return beltline_fd(u->s);
}

void
beltline_user_close(struct beltline_user *u)
{
	if (u == NULL)
		return;
	beltline_close(u->s);   /* closes the control connection: the lease ends */
	if (u->hdr != NULL)
		munmap(u->hdr, u->ring_size);
	if (u->tp != NULL)
		munmap((void *)(uintptr_t)u->tp, BL_SHM_META_PAGE);
	free(u);
}

int
beltline_user_stats(const struct beltline_user *u, struct beltline_user_stats *st)
{
	struct beltline_user_stats v = { 0 };
	struct beltline_stats r = { .sz = sizeof(r) };

	/* Below its own sz field nothing can be filled (and sz - sizeof(sz) would wrap). */
	BLC_REFUSE_IF(u == NULL, "u is NULL");
	BLC_REFUSE_IF(st == NULL, "st is NULL");
	BLC_REFUSE_IF(st->sz < sizeof(st->sz), "st->sz is unset (set it to sizeof(struct beltline_user_stats))");
	beltline_stats(u->s, &r);
	v.taken = u->taken;
	v.given = u->head;
	/* relaxed: a counter the appliance adds to. */
	v.ignored = __atomic_load_n(&u->tp->ignored, __ATOMIC_RELAXED);
	v.full = u->full;
	v.lost = r.lost;
	v.invalid = r.invalid;   /* skipped, never taken: as beltline_stats says of a reader */
	memcpy((char *)st + sizeof(st->sz), (char *)&v + sizeof(v.sz),
	       (st->sz < sizeof(v) ? st->sz : sizeof(v)) - sizeof(st->sz));
	return 0;
}
