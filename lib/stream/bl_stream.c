/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_stream — the table of streams, create and release, attach and detach (bl_stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_ibuf.h"
#include "bl_log.h"
#include "bl_shm_abi.h"
#include "bl_stream.h"
#include "bl_stream_pvt.h"

static struct bl_stream streams[BL_STREAM_MAX];   /* main lcore only */

struct bl_stream *
bl_stream_at(unsigned int i)
{
	return i < BL_STREAM_MAX && streams[i].refs != 0 ? &streams[i] : NULL;
}

struct bl_stream *
bl_stream_find(uint32_t kind, const char *name)
{
	for (unsigned int i = 0; i < BL_STREAM_MAX; i++)
		if (streams[i].refs != 0 && streams[i].kind == kind &&
		    strcmp(streams[i].name, name) == 0)
			return &streams[i];
	return NULL;
}

unsigned int
bl_stream_count(uint32_t kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < BL_STREAM_MAX; i++)
		n += streams[i].refs != 0 && streams[i].kind == kind;
	return n;
}

bool
bl_stream_lcore_pending(void)
{
	for (unsigned int i = 0; i < BL_STREAM_MAX; i++) {
		const struct bl_stream *s = &streams[i];
		if (s->refs == 0 || s->kind != BL_STREAM_LCORE)
			continue;
		/* acquire, all three: pair with the release stores of head (P1), of the
		 * attach bit and of the reader's position (R3) */
		uint64_t head = __atomic_load_n(&s->ib->prod->head, __ATOMIC_ACQUIRE);
		uint64_t active = __atomic_load_n(&s->ib->prod->active, __ATOMIC_ACQUIRE);
		for (unsigned int r = 0; r < BL_IBUF_MAX_READERS; r++)
			if ((active >> r & 1) != 0 &&
			    __atomic_load_n(&s->ib->rpage[r]->pos, __ATOMIC_ACQUIRE) < head)
				return true;
	}
	return false;
}

int
bl_stream_wake_tick(uint64_t now_ns)
{
	int sleeping = 0;

	for (unsigned int i = 0; i < BL_STREAM_MAX; i++)
		if (streams[i].refs != 0) {
			sleeping |= bl_stream__wake_tick(&streams[i], now_ns);
			bl_stream__grow_tick(&streams[i], now_ns);
		}
	return sleeping;
}

struct bl_dbuf *
bl_stream_dbuf(const struct bl_stream *s)
{
	return s->perm != NULL ? s->perm->dbuf : s->dbuf;
}

int
bl_stream_policy_arg(const char *s, uint32_t *out, struct bl_err *err)
{
	uint32_t p = bl_stream_policy_parse(s);

	if (!bl_stream_policy_readable(p))
		return bl_err_set(err, -EINVAL, "policy: must be srp, mrp or frp (packets from a NIC "
				  "are never throttled), got \"%.20s\"", s != NULL ? s : "");
	*out = p;
	return 0;
}

/* A user or group given by name or number. */
static int
parse_id(const char *key, const char *s, int is_group, uint32_t *out, struct bl_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] != '\0' && *end == '\0' && errno == 0 && v < UINT32_MAX) {
		*out = (uint32_t)v;
		return 0;
	}
	if (is_group) {
		const struct group *g = getgrnam(s);
		if (g != NULL) {
			*out = g->gr_gid;
			return 0;
		}
	} else {
		const struct passwd *p = getpwnam(s);
		if (p != NULL) {
			*out = p->pw_uid;
			return 0;
		}
	}
	return bl_err_set(err, -EINVAL, "%s: no %s named \"%.40s\" on this machine", key,
			  is_group ? "group" : "user", s);
}

int
bl_stream_perm_args(const char *owner, const char *group, const char *mode, uid_t *uid, gid_t *gid,
		    mode_t *m, struct bl_err *err)
{
	uint32_t u = geteuid(), g = getegid();
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(mode, &end, 8);
	if (mode[0] == '\0' || *end != '\0' || errno != 0 || v > 0777)
		return bl_err_set(err, -EINVAL, "mode: octal permission bits 0..0777, got \"%.20s\"",
				  mode);
	if ((owner != NULL && parse_id("owner", owner, 0, &u, err) < 0) ||
	    (group != NULL && parse_id("group", group, 1, &g, err) < 0))
		return -EINVAL;
	*uid = u;
	*gid = g;
	*m = (mode_t)v;
	return 0;
}

/* The checks that depend on the kind; the name is then safe to copy. */
/* A dry run's declared streams (bl_stream_check): names only, nothing made. */
static struct {
	uint32_t kind;
	char name[BL_STREAM_NAME_MAX];
} dry[BL_STREAM_MAX];
static unsigned int n_dry;
static struct bl_stream_dry_pool dry_pool;
static bool dry_pool_set;
static uint64_t dry_reserved;

static const char *
dry_find(uint32_t kind, const char *name)
{
	for (unsigned int i = 0; i < n_dry; i++)
		if (dry[i].kind == kind && strcmp(dry[i].name, name) == 0)
			return dry[i].name;
	return NULL;
}

static unsigned int
dry_count(uint32_t kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < n_dry; i++)
		n += dry[i].kind == kind;
	return n;
}

static int
opts_ok(const struct bl_stream_opts *o, bool is_dry, struct bl_err *err)
{
	const char *what = o->kind == BL_STREAM_EXPORT ? "exported streams" : "rings between lcores";
	struct bl_stream *old;

	if (o->kind == BL_STREAM_EXPORT) {
		if (o->name == NULL || o->name[0] == '\0')
			return bl_err_set(err, -EINVAL, "name: required, 1..%u characters of "
					  "[A-Za-z0-9_.-], not . or ..", BL_STREAM_NAME_MAX - 1);
		if (!bl_stream_name_ok(o->name, strlen(o->name)))
			return bl_err_set(err, -EINVAL, "name: \"%.60s%s\" is not a stream name: 1..%u "
					  "characters of [A-Za-z0-9_.-], not . or ..", o->name,
					  strlen(o->name) > 60 ? "..." : "", BL_STREAM_NAME_MAX - 1);
		if (!o->tap && bl_stream_name_tap(o->name, strlen(o->name)))
			return bl_err_set(err, -EINVAL, "name: \"%.60s\": names beginning \"%s\" "
					  "belong to taps (beltline tap); give the stream another "
					  "name", o->name, BL_STREAM_TAP_PREFIX);
	} else if (o->kind == BL_STREAM_LCORE) {
		if (o->name == NULL || o->name[0] == '\0')
			return bl_err_set(err, -EINVAL, "name: required, 1..%u characters",
					  BL_STREAM_LCORE_NAME_MAX - 1);
		if (strlen(o->name) >= BL_STREAM_LCORE_NAME_MAX)
			return bl_err_set(err, -EINVAL, "name: \"%.*s...\" is too long: 1..%u characters",
					  40, o->name, BL_STREAM_LCORE_NAME_MAX - 1);
	} else {
		return bl_err_set(err, -EINVAL, "stream: unknown kind %u", o->kind);
	}
	if (o->capacity < 2 || (o->capacity & (o->capacity - 1)))
		return bl_err_set(err, -EINVAL, "capacity: must be a power of two, got %u",
				  o->capacity);
	if (o->max_capacity != 0 && (o->max_capacity <= o->capacity ||
				     (o->max_capacity & (o->max_capacity - 1)) ||
				     o->max_capacity > BL_STREAM_CAPACITY_MAX))
		return bl_err_set(err, -EINVAL, "max_capacity: must be a power of two above the "
				  "capacity (%u), at most %u, got %u", o->capacity,
				  BL_STREAM_CAPACITY_MAX, o->max_capacity);
	if (o->max_capacity != 0 && o->kind != BL_STREAM_EXPORT)
		return bl_err_set(err, -EINVAL, "max_capacity: only an exported stream grows");
	if (!bl_stream_policy_readable(o->policy))
		return bl_err_set(err, -EINVAL, "policy: must be srp, mrp or frp");
	if (o->kind == BL_STREAM_EXPORT && o->wake_count > o->capacity)
		return bl_err_set(err, -EINVAL, "wake_count: %u is more than the capacity (%u): a "
				  "sleeping reader would never be woken by count", o->wake_count,
				  o->capacity);
	if (o->pkt == NULL && !is_dry)
		return bl_err_set(err, -EINVAL, "name: the appliance's pool is not a packet DBuf");
	old = is_dry && dry_pool_set && dry_pool.beside_live ? NULL : bl_stream_find(o->kind, o->name);
	if ((old != NULL || (is_dry && dry_find(o->kind, o->name))) && o->kind == BL_STREAM_EXPORT)
		return bl_err_set(err, -EEXIST, "name: stream \"%s\" is already exported", o->name);
	if (old != NULL || (is_dry && dry_find(o->kind, o->name)))
		return bl_err_set(err, -EEXIST, "name: \"%s\" already has a writer", o->name);
	if ((is_dry && dry_pool_set && dry_pool.beside_live ? 0 : bl_stream_count(o->kind)) +
	    (is_dry ? dry_count(o->kind) : 0) >= BL_STREAM_MAX_PER_KIND)
		return bl_err_set(err, -ENOSPC, "name: at most %u %s", BL_STREAM_MAX_PER_KIND, what);
	return 0;
}

/*
 * The stream's ring, and the one place its DBuf is chosen: the packet DBuf
 * when (uid, gid, mode) are the packet DBuf's own (zero copy), else the copy
 * DBuf of those permissions (created or grown here, on the control path).
 */
static int
stream_ring(const struct bl_stream_opts *o, const struct bl_ibuf_opts *io, struct bl_stream *s,
	    struct bl_err *err)
{
	struct bl_dbuf_perm_opts po = {
		.sz = sizeof(po), .pkt = o->pkt, .uid = io->uid, .gid = io->gid, .mode = o->mode,
	};
	int rc;

	s->perm = NULL;
	if (o->kind != BL_STREAM_EXPORT || bl_dbuf_perm_same(o->pkt, io->uid, io->gid, o->mode))
		return bl_dbuf_ibuf_create(o->pkt, io, &s->ib, err);
	rc = bl_dbuf_perm_ibuf_create(&po, io, &s->perm, &s->ib, err);
	if (rc < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return bl_err_set(err, rc, "name: stream \"%s\": %s", o->name, why);
	}
	/* Once, at build: a user who expected zero copy learns why not, and how. */
	bl_log(BL_LOG_NOTICE, "stream \"%s\": owner %u, group %u, mode %04o differ from the "
		"packet buffer's, so each packet is copied once into a buffer with the stream's "
		"permissions (give it the packet buffer's, memory.packet_mode, for zero copy)",
		o->name, (unsigned int)io->uid, (unsigned int)io->gid, (unsigned int)(o->mode & 0777));
	return 0;
}

static bool adopting;
static void (*removed_fn)(struct bl_stream *s, void *ctx);
static void *removed_ctx;

void
bl_stream_adopt(bool on)
{
	adopting = on;
}

void
bl_stream_on_removed(void (*fn)(struct bl_stream *s, void *ctx), void *ctx)
{
	removed_fn = fn;
	removed_ctx = ctx;
}

/* A reload's build: take over the running stream of that name if nothing about it changes. */
static int
adopt(const struct bl_stream_opts *o, struct bl_stream *s, struct bl_stream **out,
      struct bl_err *err)
{
	uid_t uid = o->kind == BL_STREAM_EXPORT ? o->uid : (uid_t)-1;
	gid_t gid = o->kind == BL_STREAM_EXPORT ? o->gid : (gid_t)-1;
	mode_t mode = o->kind == BL_STREAM_EXPORT ? o->mode : 0600;
	uint32_t max_cap = o->max_capacity != 0 ? o->max_capacity : o->capacity;
	const char *what;

	/* A tap's stream belongs to its tap and its readers: an export that took it over
	 * would write packets the tapped filter never emitted into the tap. opts_ok keeps
	 * config names off the prefix; this holds even for one that got past. */
	if (s->tap)
		return bl_err_set(err, -EBUSY, "name: stream \"%s\" is a live tap's (beltline tap "
				  "made it; it goes when its readers leave): a reload never takes a "
				  "tap's stream, give this one another name", s->name);
	what = s->policy != o->policy ? "policy" : s->capacity != o->capacity ?
		"capacity" : s->max_capacity != max_cap ? "max_capacity" :
		s->max_readers != o->max_readers ? "max_readers" : s->uid != uid ?
		"owner" : s->gid != gid ? "group" : s->mode != mode ? "mode" :
		s->wake_count != o->wake_count ? "wake_count" : s->wake_us != o->wake_us ?
		"wake_us" : s->content != o->content ? "content" : NULL;
	if (what != NULL)
		return bl_err_set(err, -EBUSY, "%s: stream \"%s\" runs with another %s; a reload keeps "
				  "a stream as it is: remove it in one reload, add it back in the next",
				  what, o->name, what);
	if (s->lcore != o->lcore || s->writer != 1)
		return bl_err_set(err, -EBUSY, "name: stream \"%s\" is written on lcore %u; a reload "
				  "keeps its writer there (one writer per stream)", o->name, s->lcore);
	s->refs++;
	s->writer++;
	*out = s;
	return 0;
}

int
bl_stream_create(const struct bl_stream_opts *o, struct bl_stream **out, struct bl_err *err)
{
	struct bl_stream *s = NULL;
	char ring[64];
	int rc;

	if (o == NULL || o->sz < sizeof(*o))
		return bl_err_set(err, -EINVAL, "stream: options of an unknown size");
	if (dry_pool_set) {   /* a dry run is on: a filter that did not ask bl_stream_check */
		*out = NULL;
		return bl_stream_check(o, err);
	}
	if (adopting && o->name != NULL && strlen(o->name) < BL_STREAM_NAME_MAX &&
	    (s = bl_stream_find(o->kind, o->name)) != NULL)
		return adopt(o, s, out, err);
	rc = opts_ok(o, false, err);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < BL_STREAM_MAX && s == NULL; i++)
		if (streams[i].refs == 0)
			s = &streams[i];
	_Static_assert(BL_STREAM_NAME_MAX <= BL_SHM_NAME_MAX, "an export's name is its ring's");
	_Static_assert(sizeof("lcore@") - 1 + BL_STREAM_LCORE_NAME_MAX <= BL_SHM_NAME_MAX,
		       "an lcore ring's name fits");
	/* An export's ring takes the stream's own name, so every name the protocol
	 * allows fits the ring (BL_SHM_NAME_MAX); an lcore ring's '@' is a character
	 * no stream name has, so the two kinds never share a ring name. */
	snprintf(ring, sizeof(ring), o->kind == BL_STREAM_EXPORT ? "%s" : "lcore@%s", o->name);
	struct bl_ibuf_opts io = {
		.sz = sizeof(io), .name = ring, .capacity = o->capacity,
		.max_capacity = o->max_capacity, .policy = o->policy,
		.max_readers = o->max_readers, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600,
	};
	if (o->kind == BL_STREAM_EXPORT) {
		io.uid = o->uid;
		io.gid = o->gid;
		io.mode = o->mode & 0666;
		if (io.mode == 0)
			io.mode = 0600;   /* 0 would mean 0600 anyway; readers get fds, never paths */
	}
	memset(s, 0, sizeof(*s));
	rc = stream_ring(o, &io, s, err);
	if (rc != 0) {
		memset(s, 0, sizeof(*s));
		return rc;
	}
	snprintf(s->name, sizeof(s->name), "%s", o->name);
	s->kind = o->kind;
	s->dbuf = o->pkt;
	s->policy = o->policy;
	s->capacity = o->capacity;
	s->max_capacity = o->max_capacity != 0 ? o->max_capacity : o->capacity;
	s->max_readers = o->max_readers;
	s->uid = io.uid;
	s->gid = io.gid;
	s->mode = o->kind == BL_STREAM_EXPORT ? o->mode : 0600;
	s->wake_count = o->wake_count;
	s->wake_us = o->wake_us;
	s->lcore = o->lcore;
	s->tap = o->tap;
	s->content = o->content;
	bl_stream__wake_init(&s->wake, o->wake_count, o->wake_us);
	s->wake.pass = o->wake_pass != 0;
	s->writer = 1;
	s->refs = 1;
	*out = s;
	return 0;
}

int
bl_stream_check(const struct bl_stream_opts *o, struct bl_err *err)
{
	int rc;

	if (o == NULL || o->sz < sizeof(*o))
		return bl_err_set(err, -EINVAL, "stream: options of an unknown size");
	if ((rc = opts_ok(o, true, err)) < 0)
		return rc;
	/* A ring in the packet DBuf (zero copy) holds its mbufs from the pool. */
	if (dry_pool_set && (o->kind != BL_STREAM_EXPORT ||
			     (o->uid == dry_pool.uid && o->gid == dry_pool.gid &&
			      (o->mode & 0777) == (dry_pool.mode & 0777)))) {
		const struct bl_stream_dry_pool *p = &dry_pool;
		uint32_t slots = o->max_capacity > o->capacity ? o->max_capacity : o->capacity;
		if (dry_reserved + slots + p->min_free > p->n_mbufs)
			return bl_err_set(err, -ENOSPC, "dbuf %s: pool has %u mbufs; its rings could "
				"hold %llu and %u must stay free for receive: raise %s to at least "
				"%llu or make the rings smaller", p->name, p->n_mbufs,
				(unsigned long long)(dry_reserved + slots), p->min_free,
				p->count_key, (unsigned long long)(dry_reserved + slots +
								   p->min_free));
		dry_reserved += slots;
	}
	if (n_dry < BL_STREAM_MAX) {
		dry[n_dry].kind = o->kind;
		snprintf(dry[n_dry].name, sizeof(dry[n_dry].name), "%s", o->name);
		n_dry++;
	}
	return 0;
}

void
bl_stream_check_failed(uint32_t kind, const char *name)
{
	/* Its error is said already: its readers are not told the name is missing too. */
	if (name != NULL && dry_find(kind, name) == NULL && n_dry < BL_STREAM_MAX &&
	    strlen(name) < sizeof(dry[0].name)) {
		dry[n_dry].kind = kind;
		snprintf(dry[n_dry].name, sizeof(dry[n_dry].name), "%s", name);
		n_dry++;
	}
}

bool
bl_stream_check_declared(uint32_t kind, const char *name)
{
	if (dry_find(kind, name) != NULL)
		return true;
	return !(dry_pool_set && dry_pool.beside_live) && bl_stream_find(kind, name) != NULL;
}

uint64_t
bl_stream_check_reserved(void)
{
	return dry_reserved;
}

void
bl_stream_check_reset(const struct bl_stream_dry_pool *pool)
{
	n_dry = 0;
	dry_reserved = 0;
	dry_pool_set = pool != NULL;
	if (pool != NULL)
		dry_pool = *pool;
}

static void
stream_put(struct bl_stream *s)
{
	if (--s->refs != 0)
		return;
	for (unsigned int i = 0; i < BL_IBUF_MAX_READERS; i++)
		bl_stream__wake_detach(s, i);
	if (s->perm != NULL)   /* the ring first: it releases the copies it holds */
		bl_dbuf_perm_ibuf_free(s->perm, s->ib);
	else
		bl_dbuf_ibuf_free(s->dbuf, s->ib);   /* releases every reference still held */
	memset(s, 0, sizeof(*s));
}

void
bl_stream_release(struct bl_stream *s)
{
	if (s == NULL)
		return;
	if (s->writer > 0 && --s->writer == 0 && s->kind == BL_STREAM_EXPORT && removed_fn != NULL)
		removed_fn(s, removed_ctx);
	stream_put(s);
}

/* Its primary group or one of its supplementary groups (none known when n_groups < 0). */
int
bl_stream_cred_in_group(const struct bl_stream_cred *who, gid_t gid)
{
	if (who->gid == gid)
		return 1;
	for (int i = 0; i < who->n_groups; i++)
		if (who->groups[i] == gid)
			return 1;
	return 0;
}

int
bl_stream_cred_allows(const struct bl_stream_cred *who, uid_t uid, gid_t gid, mode_t mode,
		      mode_t want)
{
	want &= 07;
	if (who->uid == 0)
		return 1;
	if (who->uid == uid)
		return ((mode >> 6) & want) == want;
	if (bl_stream_cred_in_group(who, gid))
		return ((mode >> 3) & want) == want;
	if (who->n_groups < 0)   /* a member or not: what both classes allow */
		return ((mode >> 3) & want) == want && (mode & want) == want;
	return (mode & want) == want;
}

int
bl_stream_may_read(const struct bl_stream *s, const struct bl_stream_cred *who)
{
	return s->kind == BL_STREAM_EXPORT && bl_stream_cred_allows(who, s->uid, s->gid, s->mode, 04);
}

int
bl_stream__client_region(const char *kind, const char *name, const void *hdr, size_t hdr_len,
			 size_t size, const void **map)
{
	char mname[80];
	void *p;
	int fd, rofd, e;

	snprintf(mname, sizeof(mname), "beltline-%s-%s", kind, name);
	fd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    pwrite(fd, hdr, hdr_len, 0) != (ssize_t)hdr_len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	snprintf(mname, sizeof(mname), "/proc/self/fd/%d", fd);
	rofd = open(mname, O_RDONLY | O_CLOEXEC);
	if (rofd < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, rofd, 0);
	close(rofd);
	if (p == MAP_FAILED)
		goto fail;
	*map = p;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

int
bl_stream__tail_page(const char *kind, const char *name, void **map)
{
	char mname[80];
	void *p;
	int fd, e;

	snprintf(mname, sizeof(mname), "beltline-%s-%s", kind, name);
	fd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, BL_SHM_META_PAGE) < 0)
		goto fail;
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
		  F_SEAL_SEAL) < 0) {
		e = errno;
		munmap(p, BL_SHM_META_PAGE);
		close(fd);
		return -e;
	}
	*map = p;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

void
bl_stream__client_name(char *dst, size_t n, const char *client)
{
	size_t i = 0;

	for (; client != NULL && client[i] != '\0' && i + 1 < n; i++) {
		unsigned char c = (unsigned char)client[i];
		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

void
bl_stream__user_name(uid_t uid, char *out, size_t n)
{
	const struct passwd *p = getpwuid(uid);

	if (p != NULL)
		snprintf(out, n, "%s", p->pw_name);
	else
		snprintf(out, n, "%u", (unsigned int)uid);
}

void
bl_stream__group_name(gid_t gid, char *out, size_t n)
{
	const struct group *g = getgrgid(gid);

	if (g != NULL)
		snprintf(out, n, "%s", g->gr_name);
	else
		snprintf(out, n, "%u", (unsigned int)gid);
}

static void
grant_add(struct bl_stream_grant *g, int fd, const char *name, int own)
{
	g->fd[g->n_fds] = fd;
	g->fd_name[g->n_fds] = name;
	if (own)
		g->own |= 1u << g->n_fds;
	g->n_fds++;
}

void
bl_stream_grant_close(struct bl_stream_grant *g)
{
	for (unsigned int i = 0; i < g->n_fds; i++)
		if (g->own & (1u << i))
			close(g->fd[i]);
	g->n_fds = 0;
	g->own = 0;
}

/* Permission and policy: 0 or -errno, err for the client. */
static int
attach_check(const struct bl_stream *s, const struct bl_stream_cred *who, const char *policy,
	     uint32_t *pol, struct bl_err *err)
{
	char owner[64], group[64];

	if (!bl_stream_may_read(s, who)) {
		bl_stream__user_name(s->uid, owner, sizeof(owner));
		bl_stream__group_name(s->gid, group, sizeof(group));
		return bl_err_set(err, -EACCES, "uid %u may not read %s (owner %s, group %s, "
				  "mode %04o)", (unsigned int)who->uid, s->name, owner, group,
				  (unsigned int)s->mode);
	}
	*pol = 0;
	if (policy == NULL)
		return 0;
	*pol = bl_stream_policy_parse(policy);
	if (!bl_stream_policy_readable(*pol) || !bl_ibuf_policy_allows(s->policy, *pol))
		return bl_err_set(err, -EINVAL, "attach: \"policy\" must be %s for stream \"%s\" (a "
				  "%s stream; a reader may be looser than its stream, never "
				  "stricter)", s->policy == BL_IBUF_SRP ? "srp, mrp or frp" :
				  s->policy == BL_IBUF_MRP ? "mrp or frp" :
				  bl_stream_policy_name(s->policy), s->name,
				  bl_stream_policy_name(s->policy));
	return 0;
}

int
bl_stream_attach(struct bl_stream *s, const struct bl_stream_cred *who, const char *policy,
		 const char *client, struct bl_stream_grant *g, struct bl_err *err)
{
	struct bl_ibuf_fds f;
	uint32_t pol = 0;
	int idx, rc, wake;

	memset(g, 0, sizeof(*g));
	rc = attach_check(s, who, policy, &pol, err);
	if (rc < 0)
		return rc;
	/* 1. a reader page of its own (fresh: bl_ibuf_reader_alloc_as) */
	idx = bl_ibuf_reader_alloc_as(s->ib, (uint32_t)who->pid, pol);
	if (idx == -ENOSPC)
		return bl_err_set(err, -EBUSY, "stream \"%s\" has all its %u readers attached",
				  s->name, s->max_readers);
	if (idx < 0)
		return bl_err_set(err, idx, "stream \"%s\": cannot make a reader page: %s", s->name,
				  strerror(-idx));
	/* 2. its descriptors */
	rc = bl_ibuf_reader_fds(s->ib, (unsigned int)idx, &f);
	if (rc < 0) {
		bl_err_set(err, rc, "stream \"%s\": cannot make the reader's descriptors: %s",
			   s->name, strerror(-rc));
		goto undo_reader;
	}
	g->reader = (unsigned int)idx;
	g->policy = s->ib->prod->reader_policy[idx];
	grant_add(g, f.ring_fd, BL_CTL_FD_RING, 1);
	grant_add(g, f.page_fd, BL_CTL_FD_PAGE, 0);      /* the ring's own */
	if (f.mrp_fd >= 0)
		grant_add(g, f.mrp_fd, BL_CTL_FD_MRP, 0);   /* the ring's own */
	/* 3. a wake channel if asked for (the stream keeps its own end); none: the
	 * client polls */
	wake = who->wake_channel ? bl_stream__wake_attach(s, (unsigned int)idx) : -1;
	if (wake >= 0)
		grant_add(g, wake, BL_CTL_FD_WAKE, 1);
	/* 4. exactly the DBuf the stream's entries point into (the packet DBuf only
	 * when the stream's permissions are its own, else the stream's copy DBuf) */
	rc = bl_shm_ro_fd(bl_stream_dbuf(s)->shm);
	if (rc < 0) {
		bl_err_set(err, rc, "stream \"%s\": cannot open its DBuf read-only: %s", s->name,
			   strerror(-rc));
		goto undo_fds;
	}
	grant_add(g, rc, BL_CTL_FD_DBUF, 1);
	bl_stream__client_name(s->reader[idx].client, sizeof(s->reader[idx].client), client);
	s->reader[idx].local = 0;
	return 0;
undo_fds:
	bl_stream_grant_close(g);
	bl_stream__wake_detach(s, (unsigned int)idx);
undo_reader:
	bl_ibuf_reader_detach(s->ib, (unsigned int)idx);
	memset(g, 0, sizeof(*g));
	return rc;
}

void
bl_stream_detach(struct bl_stream *s, unsigned int reader)
{
	if (s == NULL || reader >= BL_IBUF_MAX_READERS)
		return;
	bl_ibuf_reader_detach(s->ib, reader);
	bl_stream__wake_detach(s, reader);
	memset(&s->reader[reader], 0, sizeof(s->reader[reader]));
}

int
bl_stream_attach_local(struct bl_stream *s, struct bl_ibuf_reader **out, struct bl_err *err)
{
	int rc;

	if (s == NULL || !s->writer)
		return bl_err_set(err, -ENOENT, "name: the stream has no writer");
	rc = bl_ibuf_reader_attach(s->ib, out);
	if (rc != 0)
		return bl_err_set(err, rc, "name: cannot attach a reader to \"%s\": %s", s->name,
				  strerror(-rc));
	s->reader[(*out)->idx].local = 1;
	s->refs++;
	return 0;
}

void
bl_stream_detach_local(struct bl_stream *s, struct bl_ibuf_reader *r)
{
	unsigned int idx = r->idx;

	bl_ibuf_reader_detach(s->ib, idx);
	bl_ibuf_reader_close(r);
	memset(&s->reader[idx], 0, sizeof(s->reader[idx]));
	stream_put(s);
}
