/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep — endpoints between clients (beltline.h, "endpoints"; docs/clients.md,
 * "Endpoints"; the memory is bl_ep_abi.h and docs/shm-abi.md, "Endpoint ring pairs").
 *
 * The appliance names the endpoint, checks the connecting peer and hands each side
 * its own two regions (read-write) and its end of a socket pair. From there the
 * two processes are alone: each maps its regions, seals them F_SEAL_FUTURE_WRITE
 * (no later writable mapping, not even its own), and sends the other read-only
 * descriptors in a hello over the socket; the other refuses descriptors that are
 * not sealed so, or not of the agreed size. Messages then go through the rings.
 * Wakeups (one byte to a side that said it sleeps) go on two channels per side,
 * so that waiting for a message and waiting for room never eat each other's:
 * the appliance's socket pair carries "a message is there", and a socket pair
 * each side makes and sends the other one end of in its hello carries "there is
 * room". A peer that dies closes its ends of both, and the other's sleep returns
 * at once. beltline_ep_fd() is an epoll descriptor over a side's two channels.
 *
 * Every field read from the peer's regions is checked before use (head and
 * rx_tail against what can be, each slot's seq, offset and length against the
 * geometry) and read once into a local; a peer that writes garbage breaks the
 * pair with -EPROTO (counted in beltline_ep_stats.garbage), never a fault.
 *
 * Memory order: a sender writes the slot, then head with release; the reader
 * acquires head, then reads the slot and the data. The reader's rx_tail store
 * (release) pairs with the sender's acquire load before it reuses the space.
 * Sleeping (Dekker): the sleeper stores its odd sleep word, full fence, checks
 * again; the waker stores head or rx_tail, full fence, loads the sleep word.
 * At least one of them sees the other's store, so no wakeup is lost.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_ep_abi.h"
#include "bl_stream_proto.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define EP_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)
#define EP_SPIN_DEF_US 50

struct beltline_ep_listener {
	int fd;                     /* control connection: the registration's lease */
	struct beltline_ep_opts o;
	char name[BL_STREAM_NAME_MAX];
	char uri[256];
};

struct beltline_ep {
	char name[256];
	int sock;                   /* the appliance's socket pair: message wakeups, both ways */
	int txsock;                 /* our room channel: the peer signals its other end */
	int peer_tx;                /* the peer's room channel: we signal it */
	int epfd;                   /* epoll over sock and txsock: beltline_ep_fd() */
	uint32_t slots, mask, dbuf_bytes, max_msg;
	int spin_us;                /* < 0: never spin; INT_MAX: never sleep */
	int peer_gone;
	int broken;                 /* -EPROTO once the peer wrote garbage */
	pid_t peer_pid;
	/* mine: written by me alone */
	struct bl_ep_hdr *me;
	struct bl_ep_slot *my_slots;
	uint8_t *my_dbuf;
	/* the peer's: read-only, untrusted */
	const struct bl_ep_hdr *peer;
	const struct bl_ep_slot *peer_slots;
	const uint8_t *peer_dbuf;
	size_t ibuf_len;
	/* sending */
	uint64_t tx_alloc;          /* buffers handed out by getwritebuf */
	uint64_t tx_head;           /* of them committed (me->head) */
	uint64_t tx_tail;           /* of them released by the peer, as last checked */
	uint64_t tx_pos;            /* absolute byte position of the next allocation */
	uint64_t *tx_end;           /* per slot: absolute byte end of its allocation */
	uint32_t *tx_size;          /* per slot: bytes allocated */
	uint64_t woke_rx, woke_tx;  /* the peer's sleep words we have woken already */
	/* receiving */
	uint64_t rx_next;           /* messages handed out by getreadbuf */
	uint64_t rx_tail;           /* of them released (me->rx_tail) */
	uint64_t rx_head;           /* the peer's head, as last checked */
	uint32_t *rx_off;           /* per slot: the offset handed out (release checks it) */
	struct beltline_ep_stats st;
};

/* ---- small helpers ---- */

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int
ep_opts_ok(const struct beltline_ep_opts *o)
{
	if (o == NULL)
		return 1;
	if (o->sz < sizeof(size_t))
		return 0;
	for (size_t i = sizeof(*o); i < o->sz; i++)
		if (((const char *)o)[i] != 0)
			return 0;
	return 1;
}

/* The control-socket options (run_dir, timeout) of ep options. */
static struct beltline_open_opts
ctl_opts(const struct beltline_ep_opts *o)
{
	struct beltline_open_opts c = { .sz = sizeof(c) };

	c.run_dir = BLC_OPT(o, run_dir, NULL);
	c.timeout_ms = BLC_OPT(o, timeout_ms, 0);
	return c;
}

/* beltline://INSTANCE/ep/NAME: 0 and the two parts, or -EINVAL (logged). */
static int
parse_uri(const char *uri, char *inst, char *name)
{
	const char *i, *slash;

	if (uri == NULL || strncmp(uri, "beltline://", 11) != 0 ||
	    (slash = strchr((i = uri + 11), '/')) == NULL ||
	    !bl_instance_name_ok(i, (size_t)(slash - i)) || strncmp(slash, "/ep/", 4) != 0 ||
	    !bl_stream_name_ok(slash + 4, strlen(slash + 4))) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad endpoint URI: want beltline://INSTANCE/ep/NAME, "
			"NAME 1..%u characters of [A-Za-z0-9_.-]", uri != NULL ? uri : "(null)",
			BL_STREAM_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(inst, BL_INSTANCE_NAME_MAX, "%.*s", (int)(slash - i), i);
	snprintf(name, BL_STREAM_NAME_MAX, "%s", slash + 4);
	return 0;
}

static const char *
json_err(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	return cJSON_IsString(e) ? e->valuestring : "no reason given";
}

static int
json_u32(const cJSON *j, const char *k, uint32_t *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);

	if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= UINT32_MAX))
		return -1;
	*v = (uint32_t)x->valuedouble;
	return 0;
}

/* ---- setting up a pair ---- */

/* One record with its descriptors (blc_recv_fds; a signal does not end the wait), fds
 * BL_CTL_FDS_MAX long. Its length, or -errno (-ETIMEDOUT, -ECONNRESET at EOF). *trunc:
 * the record or its descriptors were cut. */
static ssize_t
recv_fds(int fd, int timeout_ms, void *buf, size_t size, int *fds, unsigned *got, int *trunc)
{
	int flags = 0;
	ssize_t r;

	*got = 0;
	do
		r = blc_recv_fds(fd, timeout_ms, buf, size, fds, BL_CTL_FDS_MAX, got, &flags);
	while (r == -EINTR);
	*trunc = (flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return r == 0 ? -ECONNRESET : r;
}

/* Geometry and descriptors from a connect reply or an accept record: 0 or -EPROTO.
 * fds[0..2] become ibuf, dbuf, sock. */
static int
pair_desc(const char *uri, const cJSON *j, const int *in, unsigned n, int *fd, uint32_t *geo,
	  pid_t *peer_pid)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "fds");
	const char *want[3] = { BL_CTL_FD_EP_IBUF, BL_CTL_FD_EP_DBUF, BL_CTL_FD_EP_SOCK };
	uint32_t pid = 0;

	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) != 3 || n != 3 ||
	    json_u32(j, "slots", &geo[0]) < 0 || json_u32(j, "dbuf_bytes", &geo[1]) < 0 ||
	    json_u32(j, "max_msg", &geo[2]) < 0 || !bl_ep_geometry_ok(geo[0], geo[1], geo[2])) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance's pair description is malformed "
			"(want slots, dbuf_bytes, max_msg in range and fds ibuf, dbuf, sock)", uri);
		return -EPROTO;
	}
	for (int i = 0; i < 3; i++) {
		const cJSON *it = cJSON_GetArrayItem(names, i);
		if (!cJSON_IsString(it) || strcmp(it->valuestring, want[i]) != 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance's pair description names fd %d "
				"other than \"%s\"", uri, i, want[i]);
			return -EPROTO;
		}
		fd[i] = in[i];
	}
	(void)json_u32(j, "peer_pid", &pid);
	*peer_pid = (pid_t)pid;
	return 0;
}

static void
ep_free(struct beltline_ep *ep)
{
	if (ep->me != NULL)
		munmap(ep->me, ep->ibuf_len);
	if (ep->my_dbuf != NULL)
		munmap(ep->my_dbuf, ep->dbuf_bytes);
	if (ep->peer != NULL)
		munmap((void *)(uintptr_t)ep->peer, ep->ibuf_len);
	if (ep->peer_dbuf != NULL)
		munmap((void *)(uintptr_t)ep->peer_dbuf, ep->dbuf_bytes);
	if (ep->sock >= 0)
		close(ep->sock);
	if (ep->txsock >= 0)
		close(ep->txsock);
	if (ep->peer_tx >= 0)
		close(ep->peer_tx);
	if (ep->epfd >= 0)
		close(ep->epfd);
	free(ep->tx_end);
	free(ep->tx_size);
	free(ep->rx_off);
	free(ep);
}

/* Whether fd is a sealed region of exactly n bytes; 0 or -EPROTO (logged). */
static int
region_ok(const struct beltline_ep *ep, int fd, uint64_t n, const char *what)
{
	struct stat sb;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || (seals & EP_SEALS) != EP_SEALS) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's %s is not sealed against writing and "
			"resizing (seals %#x): refused", ep->name, what, seals < 0 ? 0 : seals);
		return -EPROTO;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != n) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's %s is not %llu bytes: refused", ep->name,
			what, (unsigned long long)n);
		return -EPROTO;
	}
	return 0;
}

/* Map my regions, seal them, send the hello with read-only descriptors, take the
 * peer's hello and map its regions. Consumes fd[0..2] (fd[2], the socket, goes to ep). */
static int
handshake(struct beltline_ep *ep, int *fd, const uint32_t *geo, int timeout_ms)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 3)];
	} cm;
	struct bl_ep_hello hello = { .magic = BL_EP_MAGIC, .version = BL_EP_VERSION,
		.slots = geo[0], .dbuf_bytes = geo[1], .max_msg = geo[2], .pid = (uint32_t)getpid() };
	struct bl_ep_hello ph;
	int ro[3] = { -1, -1, -1 }, pfd[BL_CTL_FDS_MAX], tx[2] = { -1, -1 }, rc = -EPROTO, trunc;
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat sb;
	char path[64];
	struct iovec iov = { &hello, sizeof(hello) };
	struct msghdr m;
	struct cmsghdr *ch;
	unsigned got = 0;
	ssize_t r;
	void *p;

	ep->sock = fd[2];
	fd[2] = -1;
	ep->slots = geo[0];
	ep->mask = geo[0] - 1;
	ep->dbuf_bytes = geo[1];
	ep->max_msg = geo[2];
	ep->ibuf_len = (size_t)bl_ep_ibuf_bytes(geo[0]);
	ep->tx_end = calloc(geo[0], sizeof(*ep->tx_end));
	ep->tx_size = calloc(geo[0], sizeof(*ep->tx_size));
	ep->rx_off = calloc(geo[0], sizeof(*ep->rx_off));
	if (ep->tx_end == NULL || ep->tx_size == NULL || ep->rx_off == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	p = mmap(NULL, ep->ibuf_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd[0], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	ep->me = p;
	ep->my_slots = (struct bl_ep_slot *)((uint8_t *)p + BL_EP_HDR_BYTES);
	p = mmap(NULL, ep->dbuf_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd[1], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	ep->my_dbuf = p;
	if (ep->me->magic != BL_EP_MAGIC || ep->me->slots != geo[0] ||
	    ep->me->dbuf_bytes != geo[1] || ep->me->max_msg != geo[2]) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance's region header does not match its "
			"reply", ep->name);
		goto out;
	}
	/* From here no writable mapping of our regions can be made, by us or anyone. */
	for (int i = 0; i < 2; i++) {
		if (fcntl(fd[i], F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0) {
			rc = -errno;
			blc_log(BELTLINE_LOG_ERROR, "%s: cannot seal our region: %s", ep->name,
				strerror(-rc));
			goto out;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[i]);
		ro[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ro[i] < 0) {
			rc = -errno;
			blc_log(BELTLINE_LOG_ERROR, "%s: %s: %s", ep->name, path, strerror(-rc));
			goto out;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tx) < 0) {
		rc = -errno;
		goto out;
	}
	ep->txsock = tx[0];
	ro[2] = tx[1];
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0 || epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->sock, &ev) < 0 ||
	    epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->txsock, &ev) < 0) {
		rc = -errno;
		goto out;
	}
	memset(&m, 0, sizeof(m));
	memset(&cm, 0, sizeof(cm));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof(cm.b);
	ch = CMSG_FIRSTHDR(&m);
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	memcpy(CMSG_DATA(ch), ro, sizeof(ro));
	if (sendmsg(ep->sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		rc = errno == EPIPE || errno == ECONNRESET ? -ECONNRESET : -errno;
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot send the hello to the peer: %s", ep->name,
			strerror(-rc));
		goto out;
	}
	r = recv_fds(ep->sock, timeout_ms, &ph, sizeof(ph), pfd, &got, &trunc);
	if (r < 0) {
		rc = (int)r;
		blc_log(BELTLINE_LOG_ERROR, "%s: no hello from the peer: %s", ep->name,
			r == -ETIMEDOUT ? "timed out (it did not accept in time)" :
			r == -ECONNRESET ? "it went away" : strerror((int)-r));
		goto out;
	}
	if ((size_t)r != sizeof(ph) || trunc || got != 3 || ph.magic != BL_EP_MAGIC ||
	    ph.version != BL_EP_VERSION || ph.slots != geo[0] || ph.dbuf_bytes != geo[1] ||
	    ph.max_msg != geo[2]) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's hello is malformed (%zd bytes, %u fds, "
			"or another geometry): refused", ep->name, r, got);
		ep->st.garbage++;
		goto out;
	}
	ep->peer_pid = (pid_t)ph.pid;
	if (region_ok(ep, pfd[0], ep->ibuf_len, "ibuf") < 0 ||
	    region_ok(ep, pfd[1], ep->dbuf_bytes, "dbuf") < 0) {
		ep->st.garbage++;
		goto out;
	}
	if (fstat(pfd[2], &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's room channel is not a socket: refused",
			ep->name);
		ep->st.garbage++;
		goto out;
	}
	ep->peer_tx = pfd[2];     /* only ever sent to with MSG_DONTWAIT: it cannot block us */
	pfd[2] = -1;
	p = mmap(NULL, ep->ibuf_len, PROT_READ, MAP_SHARED, pfd[0], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	ep->peer = p;
	ep->peer_slots = (const struct bl_ep_slot *)((const uint8_t *)p + BL_EP_HDR_BYTES);
	p = mmap(NULL, ep->dbuf_bytes, PROT_READ, MAP_SHARED, pfd[1], 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	ep->peer_dbuf = p;
	rc = 0;
out:
	blc_close_fds(fd, 3);
	blc_close_fds(ro, 3);         /* tx[1] with them: the peer holds the only copy */
	blc_close_fds(pfd, got);      /* what is not ours by now: all of them, if it sent more */
	return rc;
}

static int
spin_of(const struct beltline_ep_opts *o)
{
	int s = BLC_OPT(o, spin_us, 0);

	return s == 0 ? EP_SPIN_DEF_US : s;
}

int
beltline_ep_listen(const char *uri, const struct beltline_ep_opts *o,
		   struct beltline_ep_listener **out)
{
	struct beltline_open_opts co = ctl_opts(o);
	char inst[BL_INSTANCE_NAME_MAX], name[BL_STREAM_NAME_MAX], *body, *reply = NULL;
	struct beltline_ep_listener *l;
	const char *mode = BLC_OPT(o, mode, NULL), *group = BLC_OPT(o, group, NULL);
	uint32_t v;
	cJSON *req, *j;
	int fd, rc;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (!ep_opts_ok(o)) {
		blc_log(BELTLINE_LOG_ERROR, "beltline_ep_listen: bad beltline_ep_opts (sz; unknown "
			"fields must be 0)");
		return -EINVAL;
	}
	if (parse_uri(uri, inst, name) < 0)
		return -EINVAL;
	rc = blc_ctl_connect(inst, &co, &fd);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot listen: %s", uri,
			rc == -ENOENT ? "the instance is not running" : strerror(-rc));
		return rc;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "name", name);
	if (mode != NULL)
		cJSON_AddStringToObject(req, "mode", mode);
	if (group != NULL)
		cJSON_AddStringToObject(req, "group", group);
	if ((v = BLC_OPT(o, slots, 0)) != 0)
		cJSON_AddNumberToObject(req, "slots", v);
	if ((v = BLC_OPT(o, dbuf_bytes, 0)) != 0)
		cJSON_AddNumberToObject(req, "dbuf_bytes", v);
	if ((v = BLC_OPT(o, max_msg, 0)) != 0)
		cJSON_AddNumberToObject(req, "max_msg", v);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (body == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = blc_ctl_call_fd(fd, blc_timeout(&co), BL_CTL_EP_LISTEN, body, &reply, NULL, 0, NULL);
	free(body);
	j = reply != NULL ? cJSON_Parse(reply) : NULL;
	free(reply);
	if (rc < 0) {
		if (j != NULL)
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance refused: %s (%s)", uri,
				json_err(j), strerror(-rc));
		cJSON_Delete(j);
		close(fd);
		return rc;
	}
	cJSON_Delete(j);
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		close(fd);
		return -ENOMEM;
	}
	l->fd = fd;
	if (o != NULL)
		memcpy(&l->o, o, o->sz < sizeof(l->o) ? o->sz : sizeof(l->o));
	l->o.sz = sizeof(l->o);
	l->o.mode = l->o.group = l->o.run_dir = NULL;   /* not kept: the caller's strings */
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->uri, sizeof(l->uri), "%s", uri);
	*out = l;
	return 0;
}

int
beltline_ep_listener_fd(const struct beltline_ep_listener *l)
{
	return l != NULL ? l->fd : -EINVAL;
}

void
beltline_ep_listener_close(struct beltline_ep_listener *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

static int
ep_new(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out)
{
	struct beltline_ep *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		return -ENOMEM;
	ep->sock = ep->txsock = ep->peer_tx = ep->epfd = -1;
	ep->spin_us = spin_of(o);
	snprintf(ep->name, sizeof(ep->name), "%s", uri);
	ep->st.sz = sizeof(ep->st);
	*out = ep;
	return 0;
}

int
beltline_ep_accept(struct beltline_ep_listener *l, int timeout_ms, struct beltline_ep **out)
{
	char *buf;
	int fds[BL_CTL_FDS_MAX], fd[3] = { -1, -1, -1 }, trunc, rc;
	struct bl_ctl_hdr h;
	struct beltline_ep *ep;
	uint32_t geo[3];
	unsigned got = 0;
	pid_t peer = 0;
	ssize_t r;
	cJSON *j;

	if (l == NULL || out == NULL)
		return -EINVAL;
	*out = NULL;
	if (l->fd < 0)
		return -ECONNRESET;
	buf = malloc(BL_CTL_MSG_MAX + 1);
	if (buf == NULL)
		return -ENOMEM;
	r = recv_fds(l->fd, timeout_ms, buf, BL_CTL_MSG_MAX, fds, &got, &trunc);
	if (r == -ETIMEDOUT) {
		free(buf);
		return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	}
	if (r < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance went away (stopped or restarted): "
			"listen again", l->uri);
		free(buf);
		close(l->fd);
		l->fd = -1;
		return -ECONNRESET;
	}
	memcpy(&h, buf, (size_t)r < sizeof(h) ? (size_t)r : sizeof(h));
	if ((size_t)r >= sizeof(h) && h.magic == BL_CTL_MAGIC && h.op == BL_CTL_NOTICE &&
	    h.status < 0 && h.len == (size_t)r - sizeof(h)) {
		buf[r] = '\0';
		j = cJSON_Parse(buf + sizeof(h));
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance closed the registration: %s", l->uri,
			json_err(j));
		cJSON_Delete(j);
		blc_close_fds(fds, got);
		free(buf);
		close(l->fd);
		l->fd = -1;
		return -ECONNRESET;
	}
	if ((size_t)r < sizeof(h) || trunc || h.magic != BL_CTL_MAGIC ||
	    h.version != BL_CTL_VERSION || h.op != BL_CTL_EP_ACCEPT || h.id != 0 || h.status != 0 ||
	    h.n_fds != got || h.len != (size_t)r - sizeof(h)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: a malformed record from the appliance (%zd bytes, "
			"%u fds)", l->uri, r, got);
		blc_close_fds(fds, got);
		free(buf);
		return -EPROTO;
	}
	buf[r] = '\0';
	j = cJSON_Parse(buf + sizeof(h));
	free(buf);
	rc = j == NULL ? -EPROTO : pair_desc(l->uri, j, fds, got, fd, geo, &peer);
	cJSON_Delete(j);
	if (rc < 0) {
		blc_close_fds(fds, got);
		return rc;
	}
	rc = ep_new(l->uri, &l->o, &ep);
	if (rc < 0) {
		blc_close_fds(fd, 3);
		return rc;
	}
	rc = handshake(ep, fd, geo, blc_timeout(&(struct beltline_open_opts){ .sz = sizeof(
		struct beltline_open_opts), .timeout_ms = l->o.timeout_ms }));
	if (rc < 0) {
		ep_free(ep);
		return rc;
	}
	*out = ep;
	return 0;
}

int
beltline_ep_connect(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out)
{
	struct beltline_open_opts co = ctl_opts(o);
	char inst[BL_INSTANCE_NAME_MAX], name[BL_STREAM_NAME_MAX], *body, *reply = NULL;
	int fds[BL_CTL_FDS_MAX], fd[3] = { -1, -1, -1 }, cfd, rc;
	struct beltline_ep *ep;
	uint32_t geo[3];
	unsigned n = 0;
	pid_t peer = 0;
	cJSON *req, *j;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (!ep_opts_ok(o)) {
		blc_log(BELTLINE_LOG_ERROR, "beltline_ep_connect: bad beltline_ep_opts (sz; unknown "
			"fields must be 0)");
		return -EINVAL;
	}
	if (parse_uri(uri, inst, name) < 0)
		return -EINVAL;
	rc = blc_ctl_connect(inst, &co, &cfd);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot connect: %s", uri,
			rc == -ENOENT ? "the instance is not running" : strerror(-rc));
		return rc;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "name", name);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (body == NULL) {
		close(cfd);
		return -ENOMEM;
	}
	rc = blc_ctl_call_fd(cfd, blc_timeout(&co), BL_CTL_EP_CONNECT, body, &reply, fds,
			     BL_CTL_FDS_MAX, &n);
	free(body);
	close(cfd);      /* no lease: the pair lives in the two processes */
	j = reply != NULL ? cJSON_Parse(reply) : NULL;
	free(reply);
	if (rc < 0) {
		if (j != NULL)
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance refused: %s (%s)", uri,
				json_err(j), strerror(-rc));
		cJSON_Delete(j);
		blc_close_fds(fds, n);
		return rc;
	}
	rc = j == NULL ? -EPROTO : pair_desc(uri, j, fds, n, fd, geo, &peer);
	cJSON_Delete(j);
	if (rc < 0) {
		blc_close_fds(fds, n);
		return rc;
	}
	rc = ep_new(uri, o, &ep);
	if (rc < 0) {
		blc_close_fds(fd, 3);
		return rc;
	}
	rc = handshake(ep, fd, geo, blc_timeout(&co));
	if (rc < 0) {
		ep_free(ep);
		return rc;
	}
	*out = ep;
	return 0;
}

/* ---- the data path ---- */

static int
garbage(struct beltline_ep *ep, const char *fmt, unsigned long long a, unsigned long long b,
	unsigned long long c)
{
	char what[160];

	snprintf(what, sizeof(what), fmt, a, b, c);
	ep->st.garbage++;
	if (!ep->broken)
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer (pid %d) wrote garbage: %s; the pair is "
			"broken (-EPROTO)", ep->name, (int)ep->peer_pid, what);
	ep->broken = -EPROTO;
	return -EPROTO;
}

/* Read a wake channel (sock or txsock) empty; note the peer's end. */
static void
drain(struct beltline_ep *ep, int fd)
{
	char b[64];

	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (r == 0) {
			ep->peer_gone = 1;
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ep->peer_gone = 1;
			return;
		}
	}
}

/* Wake the peer if it sleeps on word (one of its sleep words) and we have not woken
 * that sleep yet. The full fence pairs with the sleeper's (see the top of the file). */
static void
wake(struct beltline_ep *ep, int fd, const uint64_t *word, uint64_t *woke)
{
	uint64_t g;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g = __atomic_load_n(word, __ATOMIC_RELAXED);
	if ((g & 1) && g != *woke) {
		*woke = g;
		if (send(fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
			ep->st.wakeups++;
	}
}

/* 1 if a message can be read (ep->rx_head > rx_next), 0 if not, -EPROTO. */
static int
rx_ready(struct beltline_ep *ep)
{
	uint64_t h;

	if (ep->rx_next < ep->rx_head)
		return 1;
	h = __atomic_load_n(&ep->peer->head, __ATOMIC_ACQUIRE);  /* pairs with its release */
	if (h == ep->rx_head)
		return 0;
	if (h < ep->rx_head || h - ep->rx_tail > ep->slots)
		return garbage(ep, "head %llu (it was %llu; %llu released)", h, ep->rx_head,
			       ep->rx_tail);
	ep->rx_head = h;
	return 1;
}

/* The peer's released count, checked. */
static int
tx_refresh(struct beltline_ep *ep)
{
	uint64_t t = __atomic_load_n(&ep->peer->rx_tail, __ATOMIC_ACQUIRE);  /* its release */

	if (t == ep->tx_tail)
		return 0;
	if (t < ep->tx_tail || t > ep->tx_head)
		return garbage(ep, "rx_tail %llu (it was %llu; %llu committed)", t, ep->tx_tail,
			       ep->tx_head);
	ep->tx_tail = t;
	return 0;
}

/* Where a buffer of size bytes would go: 1 with *start, 0 if no room, -EPROTO. */
static int
tx_room(struct beltline_ep *ep, uint32_t size, uint64_t *start)
{
	uint64_t tail_pos, s, pos;
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (rc = tx_refresh(ep)) < 0)
			return rc;
		if (ep->tx_alloc - ep->tx_tail >= ep->slots)
			continue;
		tail_pos = ep->tx_tail == 0 ? 0 : ep->tx_end[(ep->tx_tail - 1) & ep->mask];
		if (ep->tx_alloc == ep->tx_tail)
			tail_pos = ep->tx_pos;   /* all released */
		pos = ep->tx_pos % ep->dbuf_bytes;
		s = ep->dbuf_bytes - pos < size ? ep->tx_pos + (ep->dbuf_bytes - pos) : ep->tx_pos;
		if (s + size - tail_pos <= ep->dbuf_bytes) {
			*start = s;
			return 1;
		}
	}
	return 0;
}

enum { W_RX, W_TX };

/* Check for what we wait: 1 ready, 0 not, <0 error. */
static int
ready(struct beltline_ep *ep, int what, uint32_t size, uint64_t *start)
{
	if (ep->broken)
		return ep->broken;
	return what == W_RX ? rx_ready(ep) : tx_room(ep, size, start);
}

/* Wait for a message (W_RX) or room for size bytes (W_TX): spin for spin_us, then
 * sleep on the socket. 1 ready, 0 the peer is gone, -ETIMEDOUT, -EAGAIN (timeout 0),
 * -EPROTO. */
static int
ep_wait(struct beltline_ep *ep, int what, uint32_t size, uint64_t *start, int timeout_ms)
{
	uint64_t *word = what == W_RX ? &ep->me->rx_sleep : &ep->me->tx_sleep;
	int chan = what == W_RX ? ep->sock : ep->txsock;
	uint64_t t0 = 0, deadline = UINT64_MAX, spin_end, live_check;
	int rc = ready(ep, what, size, start);

	if (rc != 0) {
		if (*word & 1)      /* armed by an earlier call that found nothing: disarm */
			__atomic_store_n(word, *word + 1, __ATOMIC_RELAXED);
		return rc;
	}
	if (timeout_ms != 0) {
		t0 = now_ns();
		if (timeout_ms > 0)
			deadline = t0 + (uint64_t)timeout_ms * 1000000u;
		spin_end = ep->spin_us < 0 ? t0 : ep->spin_us == INT_MAX ? UINT64_MAX :
			t0 + (uint64_t)ep->spin_us * 1000u;
		live_check = t0 + 1000000u;
		for (unsigned i = 1;; i++) {
			rc = ready(ep, what, size, start);
			if (rc != 0)
				return rc;
			cpu_relax();
			if ((i & 63) == 0) {
				uint64_t t = now_ns();
				if (t >= spin_end || t >= deadline)
					break;
				if (t >= live_check) {     /* a long spin still sees the peer die */
					drain(ep, chan);
					if (ep->peer_gone)
						break;
					live_check = t + 1000000u;
				}
			}
		}
	}
	for (;;) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		uint64_t g, t;
		int ms;

		/* Wakeups already there are stale: read them before the check, never after
		 * it (one sent between the check and a later read would be lost). */
		drain(ep, chan);
		g = *word | 1;
		__atomic_store_n(word, g, __ATOMIC_RELAXED);   /* odd: we sleep */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);        /* pairs with wake()'s */
		rc = ready(ep, what, size, start);              /* also what it committed before it went */
		if (rc != 0 || ep->peer_gone) {
			__atomic_store_n(word, g + 1, __ATOMIC_RELAXED);
			return rc;
		}
		if (timeout_ms == 0)
			return -EAGAIN;   /* stay armed: the caller polls beltline_ep_fd() */
		t = now_ns();
		if (t >= deadline) {
			__atomic_store_n(word, g + 1, __ATOMIC_RELAXED);
			return -ETIMEDOUT;
		}
		ms = deadline == UINT64_MAX ? -1 : (int)((deadline - t + 999999u) / 1000000u);
		ep->st.sleeps++;
		(void)poll(&p, 1, ms);
		__atomic_store_n(word, g + 1, __ATOMIC_RELAXED);
	}
}

int
beltline_ep_getwritebuf(struct beltline_ep *ep, uint32_t size, void **buf, int timeout_ms)
{
	uint64_t start = 0;
	uint32_t asz;
	int rc;

	if (ep == NULL || buf == NULL || size == 0)
		return -EINVAL;
	*buf = NULL;
	if (size > ep->max_msg) {
		blc_log(BELTLINE_LOG_ERROR, "%s: a buffer of %u bytes: the endpoint's max_msg is %u",
			ep->name, size, ep->max_msg);
		return -EMSGSIZE;
	}
	if (ep->peer_gone && !ep->broken)
		return -EPIPE;
	asz = (size + BL_EP_ALIGN - 1) & ~(BL_EP_ALIGN - 1);
	rc = ep_wait(ep, W_TX, asz, &start, timeout_ms);
	if (rc == 0 || (rc == -EAGAIN && ep->peer_gone))
		return -EPIPE;
	if (rc < 0) {
		if (rc == -EAGAIN || rc == -ETIMEDOUT)
			ep->st.full++;
		return rc;
	}
	ep->tx_end[ep->tx_alloc & ep->mask] = start + asz;
	ep->tx_size[ep->tx_alloc & ep->mask] = size;
	ep->tx_alloc++;
	ep->tx_pos = start + asz;
	*buf = ep->my_dbuf + start % ep->dbuf_bytes;
	return 0;
}

int
beltline_ep_commit(struct beltline_ep *ep, void *buf, uint32_t len)
{
	struct bl_ep_slot *s;
	uint64_t start;
	uint32_t i;

	if (ep == NULL || ep->tx_head == ep->tx_alloc)
		return -EINVAL;
	i = (uint32_t)(ep->tx_head & ep->mask);
	start = ep->tx_end[i] - ((ep->tx_size[i] + BL_EP_ALIGN - 1) & ~(uint64_t)(BL_EP_ALIGN - 1));
	if (buf != ep->my_dbuf + start % ep->dbuf_bytes || len > ep->tx_size[i]) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of a buffer that is not the oldest one got, "
			"or of more bytes than it holds", ep->name);
		return -EINVAL;
	}
	if (ep->broken)
		return ep->broken;
	s = &ep->my_slots[i];
	s->seq = ep->tx_head;
	s->off = (uint32_t)(start % ep->dbuf_bytes);
	s->len = len;
	ep->tx_head++;
	__atomic_store_n(&ep->me->head, ep->tx_head, __ATOMIC_RELEASE);  /* the slot, then head */
	ep->st.sent++;
	ep->st.bytes_sent += len;
	wake(ep, ep->sock, &ep->peer->rx_sleep, &ep->woke_rx);
	return ep->peer_gone ? -EPIPE : 0;
}

int
beltline_ep_getreadbuf(struct beltline_ep *ep, const void **buf, uint32_t *len, int timeout_ms)
{
	struct bl_ep_slot s;
	int rc;

	if (ep == NULL || buf == NULL || len == NULL)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	rc = ep_wait(ep, W_RX, 0, NULL, timeout_ms);
	if (rc <= 0)
		return rc;
	/* One read of each field: the peer may change the slot under us. */
	s.seq = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].seq, __ATOMIC_RELAXED);
	s.off = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].off, __ATOMIC_RELAXED);
	s.len = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].len, __ATOMIC_RELAXED);
	if (s.seq != ep->rx_next)
		return garbage(ep, "slot of message %llu says seq %llu%.0llu", ep->rx_next, s.seq, 0);
	if (s.off >= ep->dbuf_bytes || s.len > ep->dbuf_bytes - s.off || s.len > ep->max_msg)
		return garbage(ep, "message at offset %llu of %llu bytes (DBuf %llu bytes)", s.off,
			       s.len, ep->dbuf_bytes);
	ep->rx_off[ep->rx_next & ep->mask] = s.off;
	ep->rx_next++;
	ep->st.received++;
	ep->st.bytes_received += s.len;
	*buf = ep->peer_dbuf + s.off;
	*len = s.len;
	return 1;
}

int
beltline_ep_release(struct beltline_ep *ep, const void *buf)
{
	uint64_t off;

	if (ep == NULL || ep->rx_tail == ep->rx_next)
		return -EINVAL;
	off = ep->rx_off[ep->rx_tail & ep->mask];
	if (buf != NULL && buf != ep->peer_dbuf + off) {
		blc_log(BELTLINE_LOG_ERROR, "%s: release of a buffer that is not the oldest one read",
			ep->name);
		return -EINVAL;
	}
	ep->rx_tail++;
	__atomic_store_n(&ep->me->rx_tail, ep->rx_tail, __ATOMIC_RELEASE);  /* the sender acquires */
	wake(ep, ep->peer_tx, &ep->peer->tx_sleep, &ep->woke_tx);
	return 0;
}

int
beltline_ep_forward(struct beltline_ep *dst, struct beltline_ep *src, const void *buf,
		    uint32_t len, int timeout_ms)
{
	void *w;
	int rc;

	if (dst == NULL || src == NULL || dst == src)
		return -EINVAL;
	rc = beltline_ep_getwritebuf(dst, len != 0 ? len : 1, &w, timeout_ms);
	if (rc < 0)
		return rc;
	memcpy(w, buf, len);   /* the one copy: the peers of dst cannot map src's memory */
	rc = beltline_ep_commit(dst, w, len);
	if (rc < 0)
		return rc;
	dst->st.forwarded_copied++;
	return beltline_ep_release(src, buf);
}

int
beltline_ep_fd(const struct beltline_ep *ep)
{
	return ep != NULL ? ep->epfd : -EINVAL;
}

void
beltline_ep_close(struct beltline_ep *ep)
{
	if (ep != NULL)
		ep_free(ep);    /* the peer sees its socket end close: end of stream */
}

int
beltline_ep_stats(const struct beltline_ep *ep, struct beltline_ep_stats *st)
{
	struct beltline_ep_stats full;
	size_t sz;

	if (ep == NULL || st == NULL || st->sz < sizeof(size_t))
		return -EINVAL;
	sz = st->sz < sizeof(full) ? st->sz : sizeof(full);
	full = ep->st;
	full.peer_pid = (int)ep->peer_pid;
	full.max_msg = ep->max_msg;
	full.sz = sz;
	memcpy(st, &full, sz);
	return 0;
}

