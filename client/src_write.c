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
 *
 * Sleeping (beltline_write_fd, beltline_write_flush): we ask for a wake channel at
 * open. A writer that asked for the pollable fd and finds every buffer committed
 * drains the channel, stores wait = 1 + the tail it wants (half the ring back:
 * bl_inject_worker.h, "Wakeups"; or all it committed, if it holds more than half got
 * and not committed), a seq_cst fence, and loads tail again: either that
 * load sees the appliance's new tail, or the appliance's next look at wait (after its
 * store of tail; its tick's, at the latest) sees ours. Flush waits the same way for
 * the whole ring. A busy poller never asked: it never stores wait, never drains.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
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
	uint64_t wakeups;                   /* sleeps the appliance's signal ended */
	int ctl_fd;                         /* the lease */
	int wake_fd;                        /* the appliance's wake channel (-1: it gave none;
	                                     * then our 1 ms timer once the fd is asked for) */
	int poll_fd;                        /* beltline_write_fd's epoll (-1 until asked) */
	int poll_err;                       /* beltline_write_fd's last failure (said once) */
	int own_timer;                      /* wake_fd is our timer, not the appliance's */
	int armed;                          /* wait is stored: clear it once a buffer is back */
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

/* Drain the wake fd; count a wakeup if the appliance had signalled. */
static void
writer_drain(struct beltline_writer *w)
{
	char b[64];
	int got = 0;

	/* bounded: a channel the appliance closed reads as end of file, never empty */
	for (int i = 0; i < 64 && read(w->wake_fd, b, sizeof(b)) > 0; i++)
		got = 1;
	if (got && !w->own_timer)
		w->wakeups++;
}

/* Our 1 ms timer (an appliance that gives no wake channel): once, from now. */
static void
writer_timer(struct beltline_writer *w)
{
	struct itimerspec its = { .it_value = { 0, 1000000 } };

	writer_drain(w);
	(void)timerfd_settime(w->wake_fd, 0, &its, NULL);
	w->armed = 1;   /* writer_disarm drains it once a buffer is back */
}

/* Ask the appliance to signal once tail reaches want, then load tail again (the header's
 * comment says why both). Returns that tail. */
static uint64_t
writer_arm(struct beltline_writer *w, uint64_t want)
{
	writer_drain(w);
	/* relaxed store, then a seq_cst fence before the load of tail: pairs with the
	 * appliance's store of tail and its later load of wait (its tick's, at the latest). */
	__atomic_store_n(&w->hdr->wait, want + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w->armed = 1;
	/* acquire: as in getwritebuf. */
	return __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
}

/* Not waiting any more: clear wait, and drain the signal that woke us, so a caller
 * that keeps the fd in its poll set does not find it readable until the next sleep. */
static void
writer_disarm(struct beltline_writer *w)
{
	if (!w->armed)
		return;
	/* relaxed: the appliance only decides a signal by it; a late one is drained. */
	__atomic_store_n(&w->hdr->wait, 0, __ATOMIC_RELAXED);
	w->armed = 0;
	writer_drain(w);
}

int
beltline_getwritebuf(struct beltline_writer *w, void **buf, uint32_t *room)
{
	uint64_t tail;

	BLC_REFUSE_IF(w == NULL, "w is NULL");
	BLC_REFUSE_IF(buf == NULL, "buf is NULL");
	if (w->net != NULL)
		return blc_netw_getbuf(w->net, buf, room);
	/* acquire: pairs with the appliance's release of tail (bl_inject_worker.h, A2). */
	tail = __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
	if (w->next_get - tail >= w->capacity && w->next_get - w->next_commit >= w->capacity) {
		/* Every buffer is ours, got and not committed: no wait can end (the appliance
		 * gives back only what we commit). Not -EAGAIN: its caller would sleep for good. */
		blc_log(BELTLINE_LOG_ERROR, "%s: every buffer (%u) is got and not committed: "
			"commit one before asking for another", w->name, w->capacity);
		return -EDEADLK;
	}
	if (w->next_get - tail >= w->capacity && w->poll_fd >= 0) {
		/* Half the ring back, or all we committed if we hold more than half of it
		 * uncommitted: the appliance never gives back more than that. */
		uint64_t want = w->next_get - w->capacity / 2;

		if (w->own_timer)
			writer_timer(w);   /* readable in 1 ms: look again then */
		else
			tail = writer_arm(w, want < w->next_commit ? want : w->next_commit);
	}
	if (w->next_get - tail >= w->capacity) {
		w->full++;
		return writer_gone(w) ? -EPIPE : -EAGAIN;
	}
	writer_disarm(w);
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

	BLC_REFUSE_IF(w == NULL, "w is NULL");
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

	BLC_REFUSE_IF(w == NULL, "w is NULL");
	if (w->net != NULL)
		return blc_netw_flush(w->net, timeout_ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* acquire: as in getwritebuf. */
		uint64_t tail = __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
		long left;

		if (tail != w->next_commit && w->wake_fd >= 0 && !w->own_timer)
			tail = writer_arm(w, w->next_commit);
		if (tail == w->next_commit)
			break;
		if (writer_gone(w)) {
			writer_disarm(w);
			return -EPIPE;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			writer_disarm(w);   /* the appliance would signal a wait nobody sleeps on */
			return -ETIMEDOUT;
		}
		if (w->wake_fd >= 0 && !w->own_timer) {
			/* the appliance's signal, or its hangup (writer_gone says which) */
			struct pollfd p[2] = { { .fd = w->wake_fd, .events = POLLIN },
					       { .fd = w->ctl_fd, .events = POLLIN } };

			(void)poll(p, 2, (int)left);
		} else {
			usleep(100);
		}
	}
	writer_disarm(w);
	return 0;
}

/* beltline_write_fd could not make the fd: say so (once for the same error; a later
 * call tries again), and return the error. */
static int
writer_fd_failed(struct beltline_writer *w, int rc)
{
	if (rc != w->poll_err)
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot make the pollable fd: %s", w->name,
			strerror(-rc));
	w->poll_err = rc;
	return rc;
}

/*
 * The first ask makes the fd, kept for the writer's life: an epoll descriptor over the
 * wake fd (EPOLLIN: the appliance's signal) and the lease's connection (EPOLLHUP: the
 * appliance ended the lease or died; getwritebuf then says -EPIPE). An appliance that
 * sent no wake fd gets a 1 ms timer in its place. Over the network, the socket (its
 * acks come in, its send buffer takes more).
 */
int
beltline_write_fd(struct beltline_writer *w)
{
	struct epoll_event wev = { .events = EPOLLIN }, cev = { .events = EPOLLHUP };
	int ep, fd, rc;

	BLC_REFUSE_IF(w == NULL, "w is NULL");
	if (w->poll_fd >= 0)
		return w->poll_fd;
	if (w->net != NULL) {
		fd = blc_netw_sock(w->net);
		wev.events = EPOLLIN | EPOLLOUT;
	} else {
		if (w->wake_fd < 0) {   /* an appliance from before wakeups: a 1 ms timer, armed
		                         * at each -EAGAIN (writer_timer) */
			w->wake_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			if (w->wake_fd < 0)
				return writer_fd_failed(w, -errno);
			w->own_timer = 1;
		}
		fd = w->wake_fd;
	}
	wev.data.fd = fd;
	cev.data.fd = w->ctl_fd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &wev) < 0 ||
	    (w->ctl_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, w->ctl_fd, &cev) < 0)) {
		rc = -errno;
		if (ep >= 0)
			close(ep);
		return writer_fd_failed(w, rc);
	}
	w->poll_fd = ep;
	w->poll_err = 0;
	/* Asked for at an -EAGAIN (the usual pattern): that one told the appliance nothing
	 * (nobody was going to sleep yet); do it now, or the caller's poll never returns.
	 * Whatever the ring holds by now (the appliance may have read all of it since the
	 * -EAGAIN): a wait already reached is signalled at the appliance's next look (its
	 * tick's at the latest), so the caller looks again; at worst a spurious wakeup. */
	if (w->net == NULL) {
		if (w->own_timer)
			writer_timer(w);
		else
			(void)writer_arm(w, w->next_get >= w->capacity / 2 ?
					 w->next_get - w->capacity / 2 : 0);
	}
	return ep;
}

int
beltline_write_stats(const struct beltline_writer *w, struct beltline_write_stats *st)
{
	struct beltline_write_stats v = { 0 };

	BLC_REFUSE_IF(w == NULL, "w is NULL");
	BLC_REFUSE_IF(st == NULL, "st is NULL");
	BLC_REFUSE_IF(st->sz < sizeof(size_t), "st->sz is unset (set it to sizeof(struct beltline_write_stats))");
	v.sz = st->sz;
	if (w->net != NULL) {
		blc_netw_stats(w->net, &v.committed, &v.consumed, &v.refused, &v.full);
	} else {
		v.committed = w->next_commit;
		v.consumed = __atomic_load_n(&w->tp->tail, __ATOMIC_ACQUIRE);
		v.refused = __atomic_load_n(&w->tp->refused, __ATOMIC_RELAXED);
		v.full = w->full;
		v.wakeups = w->wakeups;
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
	if (w->poll_fd >= 0)
		close(w->poll_fd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
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
	int fds[BL_CTL_FDS_MAX], ring_fd = -1, tail_fd = -1, wake_fd = -1, fd, rc;
	unsigned n = 0;
	cJSON *req, *j, *names, *it;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (blc_open_opts_check(uri, o) < 0)
		return -EINVAL;
	if (uri != NULL && (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0 ||
			    strncmp(uri, "udp://", 6) == 0)) {
		w = calloc(1, sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		w->ctl_fd = w->wake_fd = w->poll_fd = -1;
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
	cJSON_AddTrueToObject(req, "wake");   /* a channel to sleep on (appliances before it
	                                       * ignore the key and send none) */
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
		else if (cJSON_IsString(it) && strcmp(it->valuestring, BL_CTL_FD_WAKE) == 0 &&
			 wake_fd < 0)
			wake_fd = fds[i];
	}
	w = calloc(1, sizeof(*w));
	rc = w == NULL ? -ENOMEM : 0;
	if (rc == 0) {
		w->ctl_fd = fd;
		w->wake_fd = -1;
		w->poll_fd = -1;
		snprintf(w->name, sizeof(w->name), "%s", uri);
		if (ring_fd < 0 || tail_fd < 0 || n != 2u + (wake_fd >= 0)) {
			blc_log(BELTLINE_LOG_ERROR, "%s: open_write reply lacks the wring or wtail fd",
				uri);
			rc = -EPROTO;
		} else {
			rc = writer_map(w, ring_fd, tail_fd, num(j, "capacity"), num(j, "max_frame"));
		}
		if (rc == 0 && wake_fd >= 0) {
			w->wake_fd = wake_fd;
			wake_fd = -1;   /* kept */
		}
	}
	cJSON_Delete(j);
	for (unsigned i = 0; i < n; i++)
		if (w == NULL || fds[i] != w->wake_fd)
			close(fds[i]);   /* the mappings are what we keep, and the wake fd */
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
