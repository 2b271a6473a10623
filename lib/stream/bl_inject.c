/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_inject — inject streams, control side (bl_inject.h). Main lcore only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cJSON.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bl_atomic.h"
#include "bl_inject.h"
#include "bl_inject_worker.h"
#include "bl_stream_pvt.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static struct bl_inject injects[BL_INJECT_MAX];   /* main lcore only */
static struct bl_inject_writer *orphans;          /* main lcore only: gone, still held */

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

struct bl_inject *
bl_inject_find(const char *name)
{
	for (unsigned int i = 0; i < BL_INJECT_MAX; i++)
		if (injects[i].used && !injects[i].dry && strcmp(injects[i].name, name) == 0)
			return &injects[i];
	return NULL;
}

/* A name clash: with a stream of the same run (a dry run's with a dry run's only: a
 * reload's dry run is checked beside the running streams, which keep their names). */
static int
name_taken(const char *name, int dry)
{
	for (unsigned int i = 0; i < BL_INJECT_MAX; i++)
		if (injects[i].used && injects[i].dry == dry && strcmp(injects[i].name, name) == 0)
			return 1;
	return 0;
}

int
bl_inject_create(const struct bl_inject_opts *o, struct bl_inject **out, struct bl_err *err)
{
	struct bl_inject *s = NULL;

	if (o == NULL || o->sz < sizeof(*o) || out == NULL)
		return bl_err_set(err, -EINVAL, "bl_inject_create: bad arguments");
	if (o->name == NULL || !bl_stream_name_ok(o->name, strlen(o->name)))
		return bl_err_set(err, -EINVAL, "name: \"%.60s%s\" is not a stream name (1..%u of "
				  "[A-Za-z0-9_.-], not . or ..)", o->name != NULL ? o->name : "",
				  o->name != NULL && strlen(o->name) > 60 ? "..." : "",
				  BL_STREAM_NAME_MAX - 1);
	if (bl_stream_name_tap(o->name, strlen(o->name)))   /* one rule for every stream name */
		return bl_err_set(err, -EINVAL, "name: \"%.60s\": names beginning \"%s\" belong "
				  "to taps (beltline tap); give the stream another name", o->name,
				  BL_STREAM_TAP_PREFIX);
	if (o->capacity < 2 || o->capacity > (1u << 16) || (o->capacity & (o->capacity - 1)) != 0)
		return bl_err_set(err, -EINVAL, "capacity: %u is not a power of two in 2..65536",
				  o->capacity);
	if (o->max_frame < 64 || o->max_frame > BL_INJECT_MAX_FRAME)
		return bl_err_set(err, -EINVAL, "max_frame: %u is not in 64..%u", o->max_frame,
				  BL_INJECT_MAX_FRAME);
	if ((uint64_t)o->capacity * o->max_frame > (1ull << 31))
		return bl_err_set(err, -EINVAL, "capacity: %u buffers of max_frame %u bytes are more "
				  "than 2 GiB", o->capacity, o->max_frame);
	if (name_taken(o->name, o->dry != 0))   /* not dry: a reload's build, the old one runs */
		return bl_err_set(err, -EEXIST, o->dry ? "name: an inject stream \"%s\" exists "
				  "already" : "name: inject stream \"%s\" runs already, and a reload "
				  "keeps it only as the same filter: the same filter name (give it "
				  "--name=), settings and lcore; or remove it in one reload, add it "
				  "back in the next", o->name);
	for (unsigned int i = 0; i < BL_INJECT_MAX && s == NULL; i++)
		if (!injects[i].used)
			s = &injects[i];
	if (s == NULL)
		return bl_err_set(err, -ENOSPC, "name: %u inject streams exist already (the most)",
				  BL_INJECT_MAX);
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", o->name);
	s->capacity = o->capacity;
	s->max_frame = o->max_frame;
	s->uid = o->uid;
	s->gid = o->gid;
	s->mode = o->mode;
	s->zero_copy = o->zero_copy != 0;
	s->tot = o->totals != NULL ? o->totals : &s->own_tot;
	s->dry = o->dry != 0;
	s->used = 1;
	*out = s;
	return 0;
}

static void (*removed_fn)(struct bl_inject *s, void *ctx);
static void *removed_ctx;

void
bl_inject_on_removed(void (*fn)(struct bl_inject *s, void *ctx), void *ctx)
{
	removed_fn = fn;
	removed_ctx = ctx;
}

void
bl_inject_copy_from_now(struct bl_inject *s)
{
	/* Relaxed, read by the worker each burst (Z4, bl_inject_worker.h) and by open. */
	__atomic_store_n(&s->zero_copy, 0, __ATOMIC_RELAXED);
}

void
bl_inject_release(struct bl_inject *s)
{
	if (s == NULL)
		return;
	if (removed_fn != NULL && s->used)
		removed_fn(s, removed_ctx);
	bl_inject_close_write(s);
	for (struct bl_inject_writer *o = orphans; o != NULL; o = o->next)
		if (o->owner == s)
			o->owner = NULL;   /* outlives its stream (and the filter's totals) */
	memset(s, 0, sizeof(*s));
}

int
bl_inject_may_write(const struct bl_inject *s, const struct bl_stream_cred *who)
{
	return bl_stream_cred_allows(who, s->uid, s->gid, s->mode, 02);
}

static size_t
page_up(size_t n)
{
	return (n + BL_SHM_META_PAGE - 1) & ~(size_t)(BL_SHM_META_PAGE - 1);
}

static void
writer_free(struct bl_inject_writer *w)
{
	if (w == NULL)
		return;
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	if (w->ring != NULL)
		munmap((void *)(uintptr_t)w->ring, w->ring_size);
	if (w->tp != NULL)
		munmap(w->tp, BL_SHM_META_PAGE);
	free(w->held);
	free(w->shinfo);
	free(w);
}

void
bl_inject__zc_free(void *addr, void *opaque)
{
	struct bl_inject_writer *w = opaque;
	size_t slot = (size_t)((const uint8_t *)addr - w->data) / w->g.max_frame;

	/* Z2: release, the bytes' readers are done (pairs with the worker's acquire, Z3,
	 * and the reaper's). addr is the buffer this writer's worker attached. */
	__atomic_store_n(&w->held[slot], 0, __ATOMIC_RELEASE);
}

/* Zero copy: a flag and a shared info per buffer, appliance memory (never the
 * writer's: it could rewrite the free callback). */
static int
make_zc(struct bl_inject_writer *w)
{
	w->held = calloc(w->g.capacity, 1);
	w->shinfo = calloc(w->g.capacity, sizeof(*w->shinfo));
	if (w->held == NULL || w->shinfo == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->g.capacity; i++) {
		w->shinfo[i].free_cb = bl_inject__zc_free;
		w->shinfo[i].fcb_opaque = w;
	}
	return 0;
}

/* Slots of w an mbuf still points at (acquire: pairs with Z2). Main lcore, once the
 * worker is out of w (rel and tail are stable). */
static uint64_t
zc_held(const struct bl_inject_writer *w)
{
	uint64_t n = 0;

	for (uint64_t p = w->rel; p != w->tail; p++)
		n += __atomic_load_n(&w->held[p & (w->g.capacity - 1)], __ATOMIC_ACQUIRE);
	return n;
}

void
bl_inject_reap(void)
{
	struct bl_inject_writer **pp = &orphans;

	while (*pp != NULL) {
		struct bl_inject_writer *w = *pp;

		if (zc_held(w) != 0) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (w->owner != NULL)
			w->owner->orphans--;
		writer_free(w);
	}
}

void
bl_inject_reap_all(void)
{
	while (orphans != NULL) {
		struct bl_inject_writer *w = orphans;

		orphans = w->next;
		if (w->owner != NULL)
			w->owner->orphans--;
		writer_free(w);
	}
}

/* The writer's region (bl_stream__client_region): header, descriptors, frames. */
static int
make_ring(const struct bl_inject *s, struct bl_inject_writer *w, int *fd_out)
{
	struct bl_wring_hdr h = { .magic = BL_WRING_MAGIC, .version = BL_SHM_ABI_VERSION,
		.capacity = s->capacity, .max_frame = s->max_frame };
	const void *p;
	int fd;

	h.off_desc = BL_SHM_META_PAGE;
	h.off_data = h.off_desc + page_up((size_t)s->capacity * sizeof(struct bl_wring_desc));
	h.region_size = h.off_data + page_up((size_t)s->capacity * s->max_frame);
	fd = bl_stream__client_region("wring", s->name, &h, sizeof(h), h.region_size, &p);
	if (fd < 0)
		return fd;
	w->ring = p;
	w->ring_size = h.region_size;
	w->hdr = p;
	w->desc = (const struct bl_wring_desc *)((const uint8_t *)p + h.off_desc);
	w->data = (const uint8_t *)p + h.off_data;
	*fd_out = fd;
	return 0;
}

/* Our tail page: mapped read-write here, then sealed so no later mapping (the
 * writer's) may be writable. */
static int
make_tail(const struct bl_inject *s, struct bl_inject_writer *w, int *fd_out)
{
	void *p = NULL;
	int fd = bl_stream__tail_page("wtail", s->name, &p);

	if (fd < 0)
		return fd;
	w->tp = p;
	*fd_out = fd;
	return 0;
}

/* The writer's wake channel: our end, and the client's for the grant (closed once sent). */
static int
make_wake(struct bl_inject_writer *w, int *fd_out)
{
	return bl_stream__wake_channel(&w->wake_fd, fd_out);
}

int
bl_inject_open_write(struct bl_inject *s, const struct bl_stream_cred *who, const char *client,
		     int want_wake, struct bl_inject_grant *g, struct bl_err *err)
{
	struct bl_inject_writer *w;
	char owner[64], group[64];
	int rc;

	g->fd[0] = g->fd[1] = g->fd[2] = -1;
	g->fd_name[0] = BL_CTL_FD_WRING;
	g->fd_name[1] = BL_CTL_FD_WTAIL;
	g->fd_name[2] = BL_CTL_FD_WAKE;
	g->n_fds = want_wake ? 3 : 2;
	if (!bl_inject_may_write(s, who)) {
		bl_stream__user_name(s->uid, owner, sizeof(owner));
		bl_stream__group_name(s->gid, group, sizeof(group));
		return bl_err_set(err, -EACCES, "uid %u may not write %s (owner %s, group %s, "
				  "mode %04o)", (unsigned int)who->uid, s->name, owner, group,
				  (unsigned int)s->mode);
	}
	if (s->wr != NULL)
		return bl_err_set(err, -EBUSY, "stream %s already has a writer (pid %d)", s->name,
				  (int)s->pid);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return bl_err_set(err, -ENOMEM, "out of memory");
	w->g.capacity = s->capacity;
	w->g.max_frame = s->max_frame;
	w->wake_fd = -1;
	rc = __atomic_load_n(&s->zero_copy, __ATOMIC_RELAXED) ? make_zc(w) : 0;
	if (rc == 0)
		rc = make_ring(s, w, &g->fd[0]);
	if (rc == 0)
		rc = make_tail(s, w, &g->fd[1]);
	if (rc == 0 && want_wake)
		rc = make_wake(w, &g->fd[2]);
	if (rc < 0) {
		bl_inject_grant_close(g);
		writer_free(w);
		return bl_err_set(err, rc, "cannot make the writer's region: %s", strerror(-rc));
	}
	s->wr = w;
	s->pid = who->pid;
	s->wuid = who->uid;
	bl_stream__client_name(s->client, sizeof(s->client), client);
	s->writers++;
	bl_counter_add(&s->tot->writers_total, 1);
	memset(&s->c, 0, sizeof(s->c));   /* the worker writes them only while active */
	__atomic_store_n(&s->tot->held, 0, __ATOMIC_RELAXED);
	/* release: the region and counters before the pointer; the worker loads it seq_cst. */
	__atomic_store_n(&s->active, w, __ATOMIC_RELEASE);
	return 0;
}

void
bl_inject_grant_close(struct bl_inject_grant *g)
{
	for (unsigned int i = 0; i < 3; i++)
		if (g->fd[i] >= 0) {
			close(g->fd[i]);
			g->fd[i] = -1;
		}
}

void
bl_inject_close_write(struct bl_inject *s)
{
	struct bl_inject_writer *w = s->wr;

	if (w == NULL)
		return;
	/* D: seq_cst store, then seq_cst loads of busy (pairs with the worker's store of
	 * busy before its load of active): once busy is seen 0, no burst reads w. */
	__atomic_store_n(&s->active, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&s->busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	/* Tell the writer at once (it reads the flag beside tail on every getwritebuf): it
	 * needs not fill the ring to find out. Relaxed: it orders nothing; the connection's
	 * close, after this, says the rest (the writer waits for it to log the reason). */
	__atomic_store_n(&w->tp->closed, 1, __ATOMIC_RELAXED);
	if (w->wake_fd >= 0) {   /* the worker is out: nothing signals it now */
		close(w->wake_fd);
		w->wake_fd = -1;
	}
	/* relaxed: the writer's head, untrusted; only decides counters. What it committed and
	 * the worker never read is dropped: counted as frames when the head is sane (at most
	 * a ring ahead of the tail; a garbage head, counted in bad_head, says no number). */
	uint64_t head = __atomic_load_n(&w->hdr->head, __ATOMIC_RELAXED);
	if (head != w->tail) {
		s->reclaimed++;
		bl_counter_add(&s->tot->reclaimed, 1);
		if (head - w->tail <= w->g.capacity) {
			s->unread += head - w->tail;
			bl_counter_add(&s->tot->unread, head - w->tail);
		}
	}
	/* The gauge is the current writer's: none now (the worker is out, it stores no more;
	 * relaxed, as its stores). What a gone writer leaves held is in orphans. */
	__atomic_store_n(&s->c.held, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->tot->held, 0, __ATOMIC_RELAXED);
	if (w->held != NULL && zc_held(w) != 0) {
		/* mbufs still point into the region: keep it mapped (read-only; the writer's
		 * own mapping went with it, or may scribble on, which is no different from
		 * before) until bl_inject_reap sees the last freed. */
		w->owner = s;
		w->next = orphans;
		orphans = w;
		s->orphans++;
		bl_counter_add(&s->tot->orphaned, 1);
	} else {
		writer_free(w);
	}
	s->wr = NULL;
	s->pid = 0;
}

void
bl_inject__signal(struct bl_inject *s, struct bl_inject_writer *w)
{
	/* Counted before the signal (taken back if it failed), so that a writer it wakes
	 * sees its wakeup in the stats (as the stream readers' signal_fd). relaxed: counters;
	 * atomic adds, the worker and the tick both count. */
	__atomic_fetch_add(&s->c.wakeups, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->tot->wakeups, 1, __ATOMIC_RELAXED);
	if (!bl_stream__wake_signal(w->wake_fd)) {
		__atomic_fetch_sub(&s->c.wakeups, 1, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&s->tot->wakeups, 1, __ATOMIC_RELAXED);
	}
}

int
bl_inject_wake_tick(uint64_t now_ns)
{
	int sleeping = 0;

	for (unsigned int i = 0; i < BL_INJECT_MAX; i++) {
		struct bl_inject_writer *w = injects[i].wr;
		uint64_t wait, tail, head;

		if (!injects[i].used || w == NULL || w->wake_fd < 0)
			continue;
		/* relaxed: the writer's untrusted word (any value only decides when its own
		 * channel is signalled, at most once a tick); tail is ours, the worker's store. */
		wait = __atomic_load_n(&w->hdr->wait, __ATOMIC_RELAXED);
		tail = __atomic_load_n(&w->tp->tail, __ATOMIC_RELAXED);
		/* relaxed: the worker's word, stored relaxed; a stale one costs an extra signal. */
		if (wait == 0 || wait == w->mfired || wait == __atomic_load_n(&w->fired, __ATOMIC_RELAXED))
			continue;   /* awake, or signalled already */
		/* relaxed: the writer's head, untrusted: only decides the tick's length */
		head = __atomic_load_n(&w->hdr->head, __ATOMIC_RELAXED);
		if (tail < wait - 1) {
			/* A tail it never committed is no sleep, nor one behind a head the
			 * worker refuses (bad_head: behind the tail, or more than a ring past
			 * it): no tail moves for it, and it held this tick at 100 us for good. */
			sleeping += wait - 1 <= head && head >= tail && head - tail <= w->g.capacity;
			continue;
		}
		/* Signalled less than 1 ms ago: at a later tick, the slow one, as the stream
		 * readers' (bl_stream_wake.c): a writer that alternates its wait between
		 * values reached held the tick at 100 us too. */
		if (w->mfired_ns != 0 && now_ns - w->mfired_ns < 1000000u)
			continue;
		bl_inject__signal(&injects[i], w);
		w->mfired = wait;
		w->mfired_ns = now_ns;
	}
	return sleeping;
}

struct cJSON *
bl_inject_grant_json(const struct bl_inject *s, const struct bl_inject_grant *g)
{
	cJSON *j = cJSON_CreateObject(), *names = cJSON_CreateArray();

	if (j == NULL || names == NULL) {
		cJSON_Delete(j);
		cJSON_Delete(names);
		return NULL;
	}
	for (unsigned int i = 0; i < g->n_fds; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(g->fd_name[i]));
	cJSON_AddStringToObject(j, "stream", s->name);
	N(j, "capacity", s->capacity);
	N(j, "max_frame", s->max_frame);
	cJSON_AddItemToObject(j, "fds", names);
	return j;
}

struct cJSON *
bl_inject_stats_json(void)
{
	static const char *const vnames[] = BL_INJECT_VERDICT_NAMES;
	cJSON *a = cJSON_CreateArray();

	_Static_assert(sizeof(vnames) / sizeof(vnames[0]) == BL_INJECT_N_VERDICTS,
		       "a name per verdict");
	for (unsigned int i = 0; a != NULL && i < BL_INJECT_MAX; i++) {
		const struct bl_inject *s = &injects[i];
		cJSON *o, *w;

		if (!s->used || s->dry)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		N(o, "capacity", s->capacity);
		N(o, "max_frame", s->max_frame);
		bl_stream__perm_json(o, s->uid, s->gid, s->mode);
		N(o, "writers", s->wr != NULL);
		N(o, "writers_total", s->writers);
		N(o, "reclaimed", s->reclaimed);
		N(o, "unread", s->unread);
		cJSON_AddBoolToObject(o, "zero_copy", __atomic_load_n(&s->zero_copy, __ATOMIC_RELAXED));
		N(o, "orphans", s->orphans);
		w = cJSON_AddObjectToObject(o, "writer");
		if (s->wr != NULL) {
			N(w, "pid", s->pid);
			N(w, "uid", s->wuid);
			cJSON_AddStringToObject(w, "client", s->client);
		}
		for (unsigned int v = 0; v < BL_INJECT_N_VERDICTS; v++)
			N(w, vnames[v], bl_counter_read(&s->c.v[v]));
		N(w, "bytes", bl_counter_read(&s->c.bytes));
		N(w, "bad_head", bl_counter_read(&s->c.bad_head));
		N(w, "nombuf", bl_counter_read(&s->c.nombuf));
		N(w, "copied", bl_counter_read(&s->c.copied));
		N(w, "zero_copy", bl_counter_read(&s->c.zero_copy));
		N(w, "held", bl_counter_read(&s->c.held));
		N(w, "wakeups", bl_counter_read(&s->c.wakeups));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

struct cJSON *
bl_inject_list_json(const struct bl_stream_cred *who)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned int i = 0; a != NULL && i < BL_INJECT_MAX; i++) {
		const struct bl_inject *s = &injects[i];
		cJSON *o;

		if (!s->used || s->dry || !bl_inject_may_write(s, who))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		N(o, "capacity", s->capacity);
		N(o, "max_frame", s->max_frame);
		bl_stream__perm_json(o, s->uid, s->gid, s->mode);
		N(o, "writers", s->wr != NULL);
		N(o, "writer_pid", s->wr != NULL ? s->pid : 0);
		N(o, "frames", bl_counter_read(&s->c.v[BL_INJECT_OK]));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
