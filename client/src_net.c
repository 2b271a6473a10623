/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_net — a stream read from `beltline serve` over tcp:// (and tls://, through
 * the TLS plug-in, net_tls.c): records framed with their sequence numbers
 * (net_frame.h), decoded in place in one receive buffer. A jump in sequence
 * numbers is counted as loss (beltline_stats.lost), as an FRP reader counts a lap;
 * anything malformed ends the stream with -EPROTO and a log line saying what.
 *
 * The socket is non-blocking and is the pollable fd. A peek decodes what has
 * arrived, reading the socket until it would block; it may move the buffer, so
 * views of an earlier peek that were not released are invalid after the next
 * peek (docs/clients.md). Nothing is ever overwritten under a view: check() is 1.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_netaddr.h"
#include "bl_time.h"
#include "net_frame.h"

#define NET_BUF (2u * (BLN_REC_HDR + BLN_MAX_CAPLEN))

int
blc_net_connect(const char *uri, const char *host, const char *port, int type, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = type }, *ai, *a;
	int fd = -1, rc, e = ECONNREFUSED;

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot resolve %s: %s", uri, host, gai_strerror(rc));
		return -ENOENT;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		struct pollfd p;
		socklen_t el = sizeof(e);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			/* A signal is not the connect's end: wait on, to the same deadline. */
			int64_t end = (int64_t)bl_mono_ms() + timeout_ms, left = timeout_ms;

			p = (struct pollfd){ .fd = fd, .events = POLLOUT };
			while ((rc = poll(&p, 1, timeout_ms < 0 ? -1 : (int)left)) < 0 &&
			       errno == EINTR) {
				left = end - (int64_t)bl_mono_ms();
				if (left < 0)
					left = 0;
			}
			if (rc < 0)
				e = errno;
			else if (rc == 0)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
				e = errno;
			else if (e == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot connect to %s port %s: %s", uri, host, port,
			strerror(e));
		return -e;
	}
	if (type == SOCK_STREAM) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int
udp_same_host(const struct sockaddr_storage *a, const struct blc_net *n)
{
	const struct sockaddr *b = (const struct sockaddr *)n->peer;

	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
			((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		&((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The same address and port as the hello's (a local process on the server's host
 * cannot pass its datagrams off as the server's). */
static int
udp_same_source(const struct sockaddr_storage *a, const struct blc_net *n)
{
	const struct sockaddr_storage *b = &n->src;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* udp://: an unconnected socket; the server is asked with a subscribe datagram (resent
 * by net_hello until the hello comes). The fd or -errno. */
static int
udp_open(struct blc_net *n, const char *uri, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *ai;
	int fd, rc = getaddrinfo(host, port, &hints, &ai), big = 4 << 20;

	if (rc != 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot resolve %s: %s", uri, host, gai_strerror(rc));
		return -ENOENT;
	}
	if (ai->ai_addrlen > sizeof(n->peer)) {
		freeaddrinfo(ai);
		return -EAFNOSUPPORT;
	}
	memcpy(n->peer, ai->ai_addr, ai->ai_addrlen);
	n->peerlen = (uint32_t)ai->ai_addrlen;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	freeaddrinfo(ai);
	if (fd < 0)
		return -errno;
	if (getrandom(&n->cookie, sizeof(n->cookie), 0) != (ssize_t)sizeof(n->cookie)) {
		rc = -errno;
		close(fd);
		blc_log(BELTLINE_LOG_ERROR, "%s: no random cookie for the subscribe (getrandom): %s",
			uri, strerror(-rc));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	n->udp = 1;
	return fd;
}

static void
udp_send_sub(struct blc_net *n, uint8_t op)
{
	uint8_t d[BLN_SUB_LEN];

	bln_put_sub(d, &(struct bln_sub){ .op = op, .cookie = n->cookie });
	(void)sendto(n->fd, d, sizeof(d), 0, (const struct sockaddr *)n->peer, n->peerlen);
}

static void
udp_subscribe(struct blc_net *n)
{
	udp_send_sub(n, BLN_SUB_HELLO);
}

static void
udp_close(struct blc_net *n)
{
	udp_send_sub(n, BLN_SUB_BYE);
}

/* Plain socket I/O: what the TLS plug-in replaces. */
static long
plain_recv(struct blc_net *n, void *buf, size_t len)
{
	ssize_t r = recv(n->fd, buf, len, 0);

	return r >= 0 ? (long)r : -errno;
}

static long
plain_send(struct blc_net *n, const void *buf, size_t len)
{
	ssize_t r = send(n->fd, buf, len, MSG_NOSIGNAL);

	return r >= 0 ? (long)r : -errno;
}

/* udp://: one datagram, kept only if it comes from the server's host (the hello) or
 * then from the socket the hello came from, and is one
 * whole record (or, first, the hello) that follows the last one: anything else is
 * dropped and counted in beltline_stats.invalid (datagrams may be forged, truncated,
 * duplicated or reordered; the gaps that leaves are counted as loss). At most
 * BLC_NET_REFUSED_MAX are refused in one call, then -EAGAIN with the rest left in the
 * socket (still readable): a local process flooding our port cannot keep the caller. */
static long
udp_recv(struct blc_net *n, void *buf, size_t len)
{
	struct beltline_stream *s = (struct beltline_stream *)((char *)n -
		offsetof(struct beltline_stream, n));
	struct sockaddr_storage from;
	struct bln_hello h;
	struct bln_rec r;
	const char *why;

	for (unsigned refused = 0; refused < BLC_NET_REFUSED_MAX; refused++) {
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(n->fd, buf, len, MSG_TRUNC, (struct sockaddr *)&from, &fl);

		if (got < 0)
			return -errno;
		if ((size_t)got > len ||
		    !(n->hello_done ? udp_same_source(&from, n) : udp_same_host(&from, n))) {
			s->st.invalid++;
			continue;
		}
		if (!n->hello_done) {
			/* the cookie: only the server we asked knows it (a local process can
			 * see our port and answer first, not what we sent) */
			if (got == BLN_HELLO_LEN && bln_get_hello(buf, (size_t)got, &h, &why) > 0 &&
			    h.cookie == n->cookie) {
				n->hello_done = 1;
				n->src = from;
				return got;
			}
			s->st.invalid++;
			continue;
		}
		if (bln_get_rec(buf, (size_t)got, n->hello.snaplen, &r, &why) != got ||
		    (n->have_last && r.seq <= n->last)) {
			s->st.invalid++;
			continue;
		}
		return got;
	}
	return -EAGAIN;
}

static int
net_room_short(const struct blc_net *n)
{
	return n->wpos == NET_BUF || (n->udp && NET_BUF - n->wpos < 65536 + BLN_REC_HDR);
}

/* Read more into the buffer: >0 bytes, 0 the peer closed, -EAGAIN, or -errno. */
static long
net_fill(struct beltline_stream *s)
{
	struct blc_net *n = &s->n;
	long r;

	/* udp://: a datagram is read whole or cut (and refused), so room for the largest
	 * one or nothing: it waits in the socket until the views before it are released.
	 * Moving what is queued to the front may still leave too little room. */
	if (net_room_short(n) && n->rpos != 0) {
		memmove(n->buf, n->buf + n->rpos, n->wpos - n->rpos);
		n->wpos -= n->rpos;
		n->rpos = 0;
	}
	if (net_room_short(n))
		return -ENOBUFS;        /* full of queued records (a record fits twice) */
	r = n->io_recv(n, n->buf + n->wpos, NET_BUF - n->wpos);
	if (r > 0)
		n->wpos += (size_t)r;
	return r;
}

/* Decode the next record after the ones queued. 1, 0 (need more), or -EPROTO. */
static int
net_decode(struct beltline_stream *s)
{
	struct blc_net *n = &s->n;
	size_t at = n->rpos;
	struct bln_rec r;
	const char *why = "";
	long took;

	for (unsigned i = 0; i < n->nq; i++)
		at += n->q[i].size;
	if (n->end_seen)
		return 0;
	took = bln_get_rec(n->buf + at, n->wpos - at, n->hello.snaplen, &r, &why);
	if (took == 0)
		return 0;
	if (took > 0 && r.type == BLN_REC_ACK) {
		why = "an ack record (only a --write server sends them, to a writer)";
		took = -EPROTO;
	}
	if (took > 0 && bln_seq_next(&r, n->have_last, &n->last, &s->st.lost, &why) < 0)
		took = -EPROTO;
	if (took < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: malformed record from the peer (after seq %llu): %s",
			s->name, (unsigned long long)n->last, why);
		return -EPROTO;
	}
	n->have_last = 1;
	if (r.type == BLN_REC_END) {
		n->end_seen = 1;
		if (n->nq == 0)                 /* consumed now, or once the queue is released */
			n->rpos += (size_t)took;
		else
			n->end_size = (size_t)took;
		return 0;
	}
	n->q[n->nq].off = at + BLN_REC_HDR - n->rpos;
	n->q[n->nq].size = (uint32_t)took;
	n->q[n->nq].v = (struct beltline_pkt){
		.caplen = r.caplen, .len = r.len, .seq = r.seq, .ts_ns = r.ts_ns, .cls = r.cls,
		.flags = (r.flags & BLN_F_TS) ? BELTLINE_PKT_F_TS : 0,
	};
	n->nq++;
	return 1;
}

static int
net_peek(struct beltline_stream *s, struct beltline_pkt *v, unsigned want)
{
	struct blc_net *n = &s->n;
	int rc = 0;

	if (n->err != 0 && n->nq == 0)
		return n->err;
	while (n->nq < want && n->err == 0) {
		rc = net_decode(s);
		if (rc > 0)
			continue;
		if (rc < 0) {
			n->err = rc;
			break;
		}
		if (n->end_seen || n->closed)
			break;
		long r = net_fill(s);
		if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR)
			break;
		if (r == -ENOBUFS && n->nq > 0)
			break;          /* the views queued fill the buffer: release them first */
		if (r == 0) {
			n->closed = 1;          /* a torn record left over is refused below */
		} else if (r < 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: receive: %s%s", s->name, strerror((int)-r),
				n->tls != NULL && r == -ECONNREFUSED ? BLC_TLS_REFUSED_HINT :
				n->tls != NULL && r == -EPROTO ? " (a TLS alert: did the server refuse "
				"our certificate? Its log says)" : "");
			n->err = (int)r;
		}
	}
	if (n->nq == 0) {
		if (n->err != 0)
			return n->err;
		if (n->end_seen)
			return 0;
		if (n->closed) {
			size_t at = n->rpos;
			if (at != n->wpos) {
				blc_log(BELTLINE_LOG_ERROR, "%s: the peer closed inside a record "
					"(%zu bytes of it)", s->name, n->wpos - at);
				n->err = -EPROTO;
				return -EPROTO;
			}
			blc_log(BELTLINE_LOG_WARN, "%s: the peer closed without an end record",
				s->name);
			return 0;
		}
		return -EAGAIN;
	}
	if (want > n->nq)
		want = n->nq;
	for (unsigned i = 0; i < want; i++) {
		v[i] = n->q[i].v;
		v[i].data = n->buf + n->rpos + n->q[i].off;
	}
	return (int)want;
}

static int
net_release(struct beltline_stream *s, unsigned cnt)
{
	struct blc_net *n = &s->n;
	size_t adv = 0;

	if (cnt > n->nq)
		return -EINVAL;
	for (unsigned i = 0; i < cnt; i++)
		adv += n->q[i].size;
	/* offsets are relative to rpos: shift the rest */
	for (unsigned i = cnt; i < n->nq; i++) {
		n->q[i - cnt] = n->q[i];
		n->q[i - cnt].off -= adv;
	}
	n->nq -= cnt;
	n->rpos += adv;
	if (n->nq == 0 && n->end_size != 0) {
		n->rpos += n->end_size;
		n->end_size = 0;
	}
	if (n->rpos == n->wpos)
		n->rpos = n->wpos = 0;
	return 0;
}

static void
net_close(struct beltline_stream *s)
{
	struct blc_net *n = &s->n;

	if (n->io_close != NULL)
		n->io_close(n);
	if (n->fd >= 0)
		close(n->fd);
	free(n->buf);
	s->poll_fd = -1;    /* it was n->fd */
}

/* Wait for and decode the hello until end (bl_mono_ms: what the connect and the TLS
 * handshake left of the open's timeout, timeout_ms). 0 or -errno. */
static int
net_hello(struct beltline_stream *s, uint64_t end_ms, int timeout_ms)
{
	struct blc_net *n = &s->n;
	int64_t end = (int64_t)end_ms;
	const char *why = "";
	struct bln_hello h;

	for (;;) {
		int rc = bln_get_hello(n->buf, n->wpos, &h, &why);
		if (rc > 0 && h.ep) {
			blc_log(BELTLINE_LOG_ERROR, "%s: the peer is an endpoint (beltline_ep_listen): "
				"connect with beltline_ep_connect", s->name);
			return -EPROTO;
		}
		if (rc > 0 && (int)h.write != n->writer) {
			blc_log(BELTLINE_LOG_ERROR, "%s: %s", s->name, n->writer ?
				"the peer serves readers (beltline serve STREAM), not a writer: "
				"write to beltline serve --write NAME" :
				"the peer takes a writer (beltline serve --write), not readers");
			return -EPROTO;
		}
		if (rc > 0) {
			n->hello.linktype = h.linktype;
			n->hello.snaplen = h.snaplen;
			n->rpos = (size_t)rc;
			return 0;
		}
		if (rc < 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: refused the peer's hello: %s", s->name, why);
			return -EPROTO;
		}
		long r = net_fill(s);
		if (r == 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: the peer closed before its hello (refused? "
				"see its log)", s->name);
			return -ECONNRESET;
		}
		if (r > 0)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK && r != -EINTR) {
			blc_log(BELTLINE_LOG_ERROR, "%s: receive: %s%s", s->name, strerror((int)-r),
				n->tls != NULL && r == -ECONNREFUSED ? BLC_TLS_REFUSED_HINT : "");
			return (int)r;
		}
		int64_t left = end - (int64_t)bl_mono_ms();
		struct pollfd p = { .fd = n->fd, .events = POLLIN };
		if (n->udp && left <= 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: no hello from the server in %d ms (a serve "
				"older than the subscribe with a cookie, version 2, does not answer "
				"it: update it)", s->name, timeout_ms);
			return -ETIMEDOUT;
		}
		if (n->udp && left > 0) {  /* ask again each second: a datagram may be lost */
			if (poll(&p, 1, left < 1000 ? (int)left : 1000) == 0)
				udp_subscribe(n);
			continue;
		}
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: no hello from the peer in %d ms", s->name,
				timeout_ms);
			return -ETIMEDOUT;
		}
	}
}

void
blc_net_close_refused(int fd)
{
	const uint64_t end = bl_mono_ms() + 200;
	char junk[4096];

	size_t taken = 0;

	(void)shutdown(fd, SHUT_WR);
	/* 200 ms and 256 KiB at most, whatever the peer sends: a peer that keeps sending
	 * must not hold the caller (an accept) */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		uint64_t now = bl_mono_ms();

		if (now >= end || taken >= (256u << 10))
			break;
		if (r > 0) {
			taken += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (poll(&p, 1, (int)(end - now)) == 0)
			break;
	}
	close(fd);
}

/* What is left of a timeout that ends at end (bl_mono_ms): at least 1 ms. */
static int
time_left(uint64_t end)
{
	uint64_t now = bl_mono_ms();

	return now + 1 < end ? (int)(end - now) : 1;
}

int
blc_net_open(struct beltline_stream *s, const char *uri, const struct beltline_open_opts *o)
{
	struct blc_net *n = &s->n;
	int tls = strncmp(uri, "tls://", 6) == 0, udp = strncmp(uri, "udp://", 6) == 0;
	const char *hp = strstr(uri, "://") + 3;
	char host[256], port[8];
	int rc, timeout = blc_timeout(o);

	n->fd = -1;
	if (udp && n->writer) {
		blc_log(BELTLINE_LOG_ERROR, "%s: udp:// takes readers only: write over tcp:// or tls://",
			uri);
		return -EINVAL;
	}
	if (bl_hostport_split(hp, host, sizeof(host), port, sizeof(port)) < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: want tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT "
			"([V6ADDR]:PORT for IPv6), PORT 0..65535", uri);
		return -EINVAL;
	}
	n->buf = malloc(NET_BUF);
	if (n->buf == NULL)
		return -ENOMEM;
	/* connect, the TLS handshake and the hello share one timeout (each had all of it: a
	 * server stalling each step held the open three times timeout_ms) */
	const uint64_t end = bl_mono_ms() + (uint64_t)timeout;   /* blc_timeout: > 0 */
	rc = udp ? udp_open(n, uri, host, port) :
		blc_net_connect(uri, host, port, SOCK_STREAM, timeout);
	if (rc < 0) {
		free(n->buf);
		n->buf = NULL;
		return rc;
	}
	n->fd = rc;
	s->poll_fd = n->fd;
	n->io_recv = udp ? udp_recv : plain_recv;
	n->io_send = plain_send;
	if (udp) {
		n->io_close = udp_close;
		udp_subscribe(n);
	}
	if (tls) {
		rc = blc_tls_client(s, host, o, time_left(end));
		if (rc < 0)
			goto fail;
	}
	rc = net_hello(s, end, timeout);
	if (rc < 0)
		goto fail;
	s->linktype = (int)n->hello.linktype;
	s->snaplen = n->hello.snaplen;
	blc_log(BELTLINE_LOG_DEBUG, "%s: connected, linktype %d, snaplen %u", uri, s->linktype,
		s->snaplen);
	return 0;
fail:
	net_close(s);
	n->fd = -1;
	n->buf = NULL;
	return rc;
}

static int
open_net(const char *uri, const struct beltline_open_opts *o, int writer,
	 struct beltline_stream **out)
{
	struct beltline_stream *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return -ENOMEM;
	s->n.writer = writer;
	s->kind = BELTLINE_KIND_NET;
	s->ops = &blc_net_ops;
	s->poll_fd = -1;
	snprintf(s->name, sizeof(s->name), "%s", uri);
	rc = blc_net_open(s, uri, o);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
beltline__open_net(const char *uri, const struct beltline_open_opts *o, struct beltline_stream **out)
{
	return open_net(uri, o, 0, out);
}

int
blc_net_open_writer(const char *uri, const struct beltline_open_opts *o,
		    struct beltline_stream **out)
{
	return open_net(uri, o, 1, out);
}

const struct blc_src_ops blc_net_ops = {
	.peek = net_peek,
	.release = net_release,
	.close = net_close,
};
