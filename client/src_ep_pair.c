/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_pair — an endpoint's pair, once the appliance has handed this side its
 * regions and socket (src_ep.c): map our regions and seal them, send the peer
 * read-only descriptors of them and our room channel in a hello, take the peer's
 * hello and check what it holds (sealed regions of the agreed sizes, a socket)
 * before mapping it read-only. Also the endpoint's end: close and its counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_stream_proto.h"
#include "src_ep_pvt.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define EP_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)
#define EP_SPIN_DEF_US 50

ssize_t
blc_ep_recv(int fd, int timeout_ms, void *buf, size_t size, int *fds, unsigned *got, int *trunc)
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

static void
ep_free(struct beltline_ep *ep)
{
	if (ep->net != NULL)
		blc_epn_free(ep);
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
	free(ep->rx_len);
	free(ep->rx_pin);
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
/* The peer's room channel: where our wakeups for room go. Ours is one end of a
 * SOCK_SEQPACKET pair we make (handshake); the peer's must be such an end too: an
 * AF_UNIX SOCK_SEQPACKET socket whose other end has no name. Any other socket (a
 * datagram socket, or one connected to a daemon's named socket, of the peer's choosing)
 * would have us send our wakeups there, with our credentials. (Not by the other end's
 * uid: a server may listen, then drop its privileges or fork the process that
 * accepts.) 0, or -1 after saying why. */
static int
room_channel_ok(struct beltline_ep *ep, int fd)
{
	struct sockaddr_un pa;
	socklen_t pl = sizeof(pa);
	int dom = 0, type = 0;
	socklen_t dl = sizeof(dom), tl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || dom != AF_UNIX ||
	    type != SOCK_SEQPACKET) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's room channel is not an AF_UNIX "
			"SOCK_SEQPACKET socket: refused", ep->name);
		return -1;
	}
	if (getpeername(fd, (struct sockaddr *)&pa, &pl) < 0 || pl != sizeof(sa_family_t)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer's room channel is connected to a named "
			"socket, not the other end of a socket pair: refused", ep->name);
		return -1;
	}
	return 0;
}

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
	ep->rx_len = calloc(geo[0], sizeof(*ep->rx_len));
	ep->rx_pin = calloc(geo[0], sizeof(*ep->rx_pin));
	if (ep->tx_end == NULL || ep->tx_size == NULL || ep->rx_off == NULL || ep->rx_len == NULL ||
	    ep->rx_pin == NULL) {
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
	/* We read echoes (slots into our own DBuf) and honour the peer's tx_wake_at; and
	 * our sleeps' side of the wakeup pair: told before the hello (its sendmsg orders it). */
	__atomic_store_n(&ep->me->flags, ep->me->flags | BL_EP_F_ECHO | BL_EP_F_WAKE_AT,
			 __ATOMIC_RELAXED);
	/* Registered, our wakes may skip their fence for a peer whose sleeps issue
	 * membarrier. Ours issue it unless we never spin: the call moves the pair's cost
	 * from every commit or release of the waker (a fence) to every sleep (a barrier
	 * on the other CPUs: 25 us or so in a VM, the waker's too); a side that spins
	 * first sleeps only once its peer has been idle a while, one that never spins
	 * sleeps each time it catches up, as often as every message (bench/ipc.sh's
	 * sleeping endpoint: one way 45 to 52 us with the call, 12 to 24 without; 64 KiB
	 * 14.8 GB/s with, 16.2 to 16.8 without, as fast as spinning). */
	ep->mb_reg = blc_ep_mb_ready();
	if (ep->mb_reg && ep->spin_us >= 0) {
		ep->mb_sleep = 1;
		__atomic_store_n(&ep->me->flags, ep->me->flags | BL_EP_F_MB_SLEEP, __ATOMIC_RELAXED);
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
	r = blc_ep_recv(ep->sock, timeout_ms, &ph, sizeof(ph), pfd, &got, &trunc);
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
	if (room_channel_ok(ep, pfd[2]) < 0) {
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
	/* Read once; a peer that claims it and does not issue membarrier loses only its own
	 * wakeups. */
	ep->fast_wake = ep->mb_reg &&
			(__atomic_load_n(&ep->peer->flags, __ATOMIC_RELAXED) & BL_EP_F_MB_SLEEP) != 0;
	/* Read once too: a peer that claims it and cannot read echoes breaks its own pair. */
	ep->peer_echo = (__atomic_load_n(&ep->peer->flags, __ATOMIC_RELAXED) & BL_EP_F_ECHO) != 0;
	/* And this: a peer that claims it and does not honour it delays only our own wakeups
	 * for room, by 1 ms at most (src_ep_ring.c, ep_wait). */
	ep->peer_wake_at =
		(__atomic_load_n(&ep->peer->flags, __ATOMIC_RELAXED) & BL_EP_F_WAKE_AT) != 0;
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
blc_ep_pair(const char *uri, const struct beltline_ep_opts *o, int *fd, const uint32_t *geo,
	    pid_t peer_pid, uint32_t peer_uid, struct beltline_ep **out)
{
	struct beltline_open_opts co = { .sz = sizeof(co), .timeout_ms = BLC_OPT(o, timeout_ms, 0) };
	struct beltline_ep *ep;
	int rc = ep_new(uri, o, &ep);

	if (rc < 0) {
		blc_close_fds(fd, 3);
		return rc;
	}
	rc = handshake(ep, fd, geo, blc_timeout(&co));
	if (rc < 0) {
		ep_free(ep);
		return rc;
	}
	if (peer_pid > 0)
		ep->peer_pid = peer_pid;   /* the appliance's word, not the hello's (any number) */
	ep->peer_uid = peer_uid;
	*out = ep;
	return 0;
}

int
beltline_ep_fd(const struct beltline_ep *ep)
{
	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	return ep->epfd;
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

	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	BLC_REFUSE_IF(st == NULL, "st is NULL");
	BLC_REFUSE_IF(st->sz < sizeof(size_t), "st->sz is unset (set it to sizeof(struct beltline_ep_stats))");
	sz = st->sz < sizeof(full) ? st->sz : sizeof(full);
	full = ep->st;
	full.peer_pid = (int)ep->peer_pid;
	full.peer_uid = ep->peer_uid;
	full.max_msg = ep->max_msg;
	full.sz = sz;
	memcpy(st, &full, sz);
	return 0;
}
