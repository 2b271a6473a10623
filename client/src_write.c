/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_write — a writer of an inject stream (beltline.h, "writing"): open-write
 * over the control socket, map the region the appliance made for us (read-write,
 * ours alone) and its tail page (read-only: sealed, the kernel refuses anything
 * else), then getwritebuf/commit as FABLE does it. The layout and the ordering
 * rules are in bl_shm_abi.h ("a client writer's region") and
 * lib/stream/bl_inject_worker.h (W1, A1, A2).
 *
 * Buffer i goes with the commits whose seq % capacity == i. Buffer s is handed
 * out only once s - tail < capacity, tail loaded acquire (pairs with the
 * appliance's release, A2): the appliance has copied out everything it read
 * from it, so we never hand out memory the appliance may still be reading.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "beltline_priv.h"
#include "bl_shm_abi.h"
#include "bl_stream_proto.h"

struct beltline_writer {
	uint8_t *ring;                      /* our region, read-write */
	size_t ring_size;
	struct bl_wring_hdr *hdr;
	struct bl_wring_desc *desc;
	uint8_t *data;
	const struct bl_wring_tail *tp;     /* the appliance's tail page, read-only */
	uint32_t capacity, max_frame;
	uint64_t next_get;                  /* seq of the next buffer getwritebuf hands out */
	uint64_t next_commit;               /* seq of the next commit (= head) */
	uint64_t full;
	int ctl_fd;                         /* the lease */
	int gone;                           /* the appliance ended it (said once) */
	char name[128];
	struct blc_netw *net;               /* tcp://, tls://: all of it is there (src_netw.c) */
};

/* The appliance ended our lease (its connection is closed, or it set the tail page's
 * closed flag just before closing it): said once, with its reason. */
static int
writer_gone(struct beltline_writer *w)
{
	struct pollfd p = { .fd = w->ctl_fd, .events = POLLIN };
	/* relaxed: a flag alone (bl_shm_abi.h); the socket carries the reason. */
	int closed = __atomic_load_n(&w->tp->closed, __ATOMIC_RELAXED) != 0;

	if (w->gone)
		return 1;
	/* Flagged: its word and hangup follow at once; wait for them (bounded) to say why. */
	if ((poll(&p, 1, closed ? 1000 : 0) <= 0 ||
	     (p.revents & (POLLHUP | POLLERR | POLLNVAL | POLLIN)) == 0) && !closed)
		return 0;
	w->gone = 1;
	blc_ctl_log_hangup(w->ctl_fd, w->name, "the lease ended");
	return 1;
}

int
beltline_getwritebuf(struct beltline_writer *w, void **buf, uint32_t *room)
{
	uint64_t tail;

	if (w == NULL || buf == NULL)
		return -EINVAL;
	if (w->net != NULL)
		return blc_netw_getbuf(w->net, buf, room);
	/* acquire: pairs with the appliance's release of tail (bl_inject_worker.h, A2). */
	tail = __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
	if (w->next_get - tail >= w->capacity) {
		w->full++;
		return writer_gone(w) ? -EPIPE : -EAGAIN;
	}
	/* relaxed: beside tail on its line (bl_shm_abi.h): the appliance ended the lease. */
	if (__builtin_expect(__atomic_load_n(&w->tp->closed, __ATOMIC_RELAXED) != 0, 0) &&
	    writer_gone(w))
		return -EPIPE;
	*buf = w->data + (size_t)(w->next_get & (w->capacity - 1)) * w->max_frame;
	if (room != NULL)
		*room = w->max_frame;
	w->next_get++;
	return 0;
}

int
beltline_commit(struct beltline_writer *w, void *buf, uint32_t len)
{
	uint64_t s;
	struct bl_wring_desc *d;

	if (w == NULL)
		return -EINVAL;
	if (w->net != NULL)
		return blc_netw_commit(w->net, buf, len);
	s = w->next_commit;
	if (s == w->next_get ||
	    (uint8_t *)buf != w->data + (size_t)(s & (w->capacity - 1)) * w->max_frame) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of a buffer that is not the oldest one got "
			"(never got, or committed already)", w->name);
		return -EINVAL;
	}
	if (len == 0 || len > w->max_frame) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of %u bytes: want 1..%u (max_frame)", w->name,
			len, w->max_frame);
		return -EINVAL;
	}
	d = &w->desc[s & (w->capacity - 1)];
	d->seq = s;
	d->off = (uint32_t)((s & (w->capacity - 1)) * w->max_frame);
	d->len = len;
	w->next_commit = s + 1;
	/* W1: release, the buffer and descriptor before head (the appliance loads it acquire, A1). */
	__atomic_store_n(&w->hdr->head, w->next_commit, __ATOMIC_RELEASE);
	return 0;
}

int
beltline_write_flush(struct beltline_writer *w, int timeout_ms)
{
	struct timespec t0, t;

	if (w == NULL)
		return -EINVAL;
	if (w->net != NULL)
		return blc_netw_flush(w->net, timeout_ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* acquire: as in getwritebuf. */
	while (__atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE) != w->next_commit) {
		if (writer_gone(w))
			return -EPIPE;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= timeout_ms)
			return -ETIMEDOUT;
		usleep(100);
	}
	return 0;
}

int
beltline_write_stats(const struct beltline_writer *w, struct beltline_write_stats *st)
{
	struct beltline_write_stats v;

	if (w == NULL || st == NULL || st->sz < sizeof(size_t))
		return -EINVAL;
	v.sz = st->sz;
	if (w->net != NULL) {
		blc_netw_stats(w->net, &v.committed, &v.consumed, &v.refused, &v.full);
	} else {
		v.committed = w->next_commit;
		v.consumed = __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
		v.refused = __atomic_load_n(&w->tp->refused, __ATOMIC_RELAXED);
		v.full = w->full;
	}
	memcpy(st, &v, st->sz < sizeof(v) ? st->sz : sizeof(v));
	return 0;
}

void
beltline_write_close(struct beltline_writer *w)
{
	if (w == NULL)
		return;
	blc_netw_close(w->net);
	if (w->ring != NULL)
		munmap(w->ring, w->ring_size);
	if (w->tp != NULL)
		munmap((void *)(uintptr_t)w->tp, BL_SHM_META_PAGE);
	if (w->ctl_fd >= 0)
		close(w->ctl_fd);   /* the lease ends: the appliance reclaims the buffers */
	free(w);
}

/* Map the two descriptors of an open-write reply and check what the appliance says. */
static int
writer_map(struct beltline_writer *w, int ring_fd, int tail_fd, uint32_t capacity,
	   uint32_t max_frame)
{
	struct bl_wring_hdr h;
	struct stat st;
	void *p;

	if (fstat(ring_fd, &st) < 0 || (size_t)st.st_size < sizeof(h) ||
	    pread(ring_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.magic != BL_WRING_MAGIC ||
	    h.version != BL_SHM_ABI_VERSION || h.capacity != capacity ||
	    h.max_frame != max_frame || capacity < 2 || (capacity & (capacity - 1)) != 0 ||
	    max_frame == 0 || h.region_size != (uint64_t)st.st_size ||
	    h.off_desc < sizeof(h) ||
	    h.off_desc + (uint64_t)capacity * sizeof(struct bl_wring_desc) > h.off_data ||
	    h.off_data + (uint64_t)capacity * max_frame > h.region_size) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the writer's region is not what the reply says "
			"(magic, version %u, geometry)", w->name, BL_SHM_ABI_VERSION);
		return -EPROTO;
	}
	p = mmap(NULL, h.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	w->ring = p;
	w->ring_size = h.region_size;
	w->hdr = p;
	w->desc = (struct bl_wring_desc *)(w->ring + h.off_desc);
	w->data = w->ring + h.off_data;
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ, MAP_SHARED, tail_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	w->tp = p;
	w->capacity = capacity;
	w->max_frame = max_frame;
	w->next_get = w->next_commit = __atomic_load_n(&w->hdr->head, __ATOMIC_RELAXED);
	if (w->next_get != 0)
		return -EPROTO;   /* a fresh region starts at 0 */
	return 0;
}

static uint32_t
num(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= UINT32_MAX ?
		(uint32_t)v->valuedouble : 0;
}

int
beltline_open_write(const char *uri, const struct beltline_open_opts *o,
		    struct beltline_writer **out)
{
	const char *client = BLC_OPT(o, client, NULL);
	char instance[BL_INSTANCE_NAME_MAX], *body, *reply = NULL;
	const char *inst, *slash;
	struct beltline_writer *w;
	int fds[BL_CTL_FDS_MAX], ring_fd = -1, tail_fd = -1, fd, rc;
	unsigned n = 0;
	cJSON *req, *j, *names, *it;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (blc_open_opts_check(uri, o) < 0)
		return -EINVAL;
	if (uri != NULL && (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0 ||
			    strncmp(uri, "udp://", 6) == 0)) {
		w = calloc(1, sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		w->ctl_fd = -1;
		rc = blc_netw_open(uri, o, &w->net);
		if (rc < 0) {
			free(w);
			return rc;
		}
		*out = w;
		return 0;
	}
	if (uri == NULL || strncmp(uri, "beltline://", 11) != 0 ||
	    (slash = strchr((inst = uri + 11), '/')) == NULL ||
	    !bl_instance_name_ok(inst, (size_t)(slash - inst)) ||
	    !bl_stream_name_ok(slash + 1, strlen(slash + 1))) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: want beltline://INSTANCE/STREAM, "
			"tcp://HOST:PORT or tls://HOST:PORT", uri != NULL ? uri : "(null)");
		return -EINVAL;
	}
	snprintf(instance, sizeof(instance), "%.*s", (int)(slash - inst), inst);
	rc = blc_ctl_connect(instance, o, &fd);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot open: %s", uri,
			rc == -ENOENT ? "the instance is not running" : strerror(-rc));
		return rc;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "stream", slash + 1);
	cJSON_AddStringToObject(req, "client", client != NULL ? client :
		program_invocation_short_name);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (body == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = blc_ctl_call_fd(fd, blc_timeout(o), BL_CTL_OPEN_WRITE, body, &reply, fds,
			     BL_CTL_FDS_MAX, &n);
	free(body);
	j = reply != NULL ? cJSON_Parse(reply) : NULL;
	free(reply);
	if (rc < 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance refused: %s (%s)", uri,
			cJSON_IsString(e) ? e->valuestring : "no reason given", strerror(-rc));
		cJSON_Delete(j);
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		close(fd);
		return rc;
	}
	names = cJSON_GetObjectItemCaseSensitive(j, "fds");
	for (unsigned i = 0; cJSON_IsArray(names) && i < n; i++) {
		it = cJSON_GetArrayItem(names, (int)i);
		if (cJSON_IsString(it) && strcmp(it->valuestring, BL_CTL_FD_WRING) == 0 && ring_fd < 0)
			ring_fd = fds[i];
		else if (cJSON_IsString(it) && strcmp(it->valuestring, BL_CTL_FD_WTAIL) == 0 &&
			 tail_fd < 0)
			tail_fd = fds[i];
	}
	w = calloc(1, sizeof(*w));
	rc = w == NULL ? -ENOMEM : 0;
	if (rc == 0) {
		w->ctl_fd = fd;
		snprintf(w->name, sizeof(w->name), "%s", uri);
		if (ring_fd < 0 || tail_fd < 0 || n != 2) {
			blc_log(BELTLINE_LOG_ERROR, "%s: open_write reply lacks the wring or wtail fd",
				uri);
			rc = -EPROTO;
		} else {
			rc = writer_map(w, ring_fd, tail_fd, num(j, "capacity"), num(j, "max_frame"));
		}
	}
	cJSON_Delete(j);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);   /* the mappings are what we keep */
	if (rc < 0) {
		if (w != NULL)
			beltline_write_close(w);
		else
			close(fd);
		return rc;
	}
	*out = w;
	return 0;
}
