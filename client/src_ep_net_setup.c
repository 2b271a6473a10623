/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_net_setup — the set-up and the end of endpoints over tcp:// and tls:// (the
 * data path, and what goes over the wire, is src_ep_net.c). beltline_ep_listen listens
 * (tcp:// on loopback only; tls:// with mutual TLS, the plug-in net_tls.c);
 * beltline_ep_accept and beltline_ep_connect make a pair: each side's rings, then the
 * hellos (net_frame.h, magic BLNE, snaplen the largest message a side takes), each
 * checked against the other within the open's timeout. Closing sends what is unsent
 * (for as long as that timeout allows), then an end record.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bl_netaddr.h"
#include "bl_time.h"
#include "net_frame.h"
#include "src_ep_net_pvt.h"

struct blc_epn_listener {
	int fd;
	int tls;
	int timeout_ms;
	uint32_t slots, buf_bytes, max_msg;
	char *cert, *key, *ca;
	char uri[256];
};

/* ---- set-up ---- */

/* Send all of p within the deadline. 0, -ETIMEDOUT, -EPIPE. */
static int
send_all(struct blc_epn *n, const uint8_t *p, size_t len, uint64_t deadline)
{
	while (len > 0) {
		long w = blc_epn__send(n, p, len);
		struct pollfd pf = { .fd = n->fd, .events = POLLOUT };
		uint64_t t;

		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (!blc_epn__again(w))   /* a TLS refusal alert says so; anything else: gone */
			return w == -ECONNREFUSED ? w : -EPIPE;
		t = bl_mono_ms();
		if (t >= deadline || poll(&pf, 1, (int)(deadline - t)) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

void
blc_epn_free(struct beltline_ep *ep)
{
	struct blc_epn *n = ep->net;

	if (!n->dead && !ep->broken && n->tbuf != NULL) {
		/* what was committed is the peer's: send it (dropping what still arrives, so a
		 * peer that closes at the same time is not stuck on us), then the end */
		uint64_t deadline = bl_mono_ms() + (uint64_t)n->timeout_ms;
		uint8_t end[BLN_REC_HDR];

		while (!n->dead && ep->tx_tail != ep->tx_head && bl_mono_ms() < deadline) {
			struct pollfd p = { .fd = n->fd, .events = POLLOUT | POLLIN };
			uint64_t t = bl_mono_ms();

			(void)blc_epn__flush(ep);
			if (ep->tx_tail == ep->tx_head || n->dead)
				break;
			if (poll(&p, 1, t < deadline ? (int)(deadline - t) : 0) > 0 &&
			    (p.revents & POLLIN)) {
				long r = blc_epn__recv(n, n->rbuf, (size_t)n->rcap);
				if (r == 0 || (r < 0 && !blc_epn__again(r)))
					n->dead = 1;
			}
		}
		if (ep->tx_tail != ep->tx_head)
			blc_log(BELTLINE_LOG_WARN, "%s: closed with %llu messages not sent to %s "
				"(%s)", ep->name, (unsigned long long)(ep->tx_head - ep->tx_tail),
				n->peer, n->dead ? "it is gone" : "it did not take them in time");
		else {
			struct bln_rec r = { .type = BLN_REC_END, .seq = ep->tx_head };
			bln_put_rec_hdr(end, &r);
			(void)send_all(n, end, sizeof(end), deadline);
		}
	}
	blc_tls_free(n->tls);
	if (n->fd >= 0)
		close(n->fd);
	free(n->rbuf);
	free(n->tbuf);
	free(n->rq_pos);
	free(n->rq_len);
	free(n->tq_pos);
	free(n->tq_asz);
	free(n->tq_len);
	free(n);
	ep->net = NULL;
}

static void
peer_name(const struct sockaddr_storage *sa, socklen_t sl, char *out, size_t sz)
{
	char h[INET6_ADDRSTRLEN] = "?", p[8] = "?";

	getnameinfo((const struct sockaddr *)sa, sl, h, sizeof(h), p, sizeof(p),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, sz, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s", h, p);
}

/* Options shared by listen and connect, checked: geometry, timeout. 0 or -EINVAL. */
struct epn_geo {
	uint32_t slots, buf_bytes, max_msg;
	int timeout_ms;
};

static int
geo_of(const char *fn, const char *uri, const struct beltline_ep_opts *o, struct epn_geo *g)
{
	struct beltline_open_opts co = { .sz = sizeof(co), .timeout_ms = BLC_OPT(o, timeout_ms, 0) };

	if (!BLC_OPTS_OK(o)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad beltline_ep_opts (sz; unknown fields must be 0)",
			fn);
		return -EINVAL;
	}
	g->slots = BLC_OPT(o, slots, 0) != 0 ? BLC_OPT(o, slots, 0) : EPN_SLOTS_DEF;
	g->buf_bytes = BLC_OPT(o, dbuf_bytes, 0) != 0 ? BLC_OPT(o, dbuf_bytes, 0) : EPN_BUF_DEF;
	g->max_msg = BLC_OPT(o, max_msg, 0) != 0 ? BLC_OPT(o, max_msg, 0) : EPN_MAX_DEF;
	g->timeout_ms = blc_timeout(&co);
	if (!bl_ep_geometry_ok(g->slots, g->buf_bytes, g->max_msg) ||
	    g->max_msg > BLN_MAX_CAPLEN) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad geometry: slots %u (a power of two %u..%u), "
			"dbuf_bytes %u (a multiple of 4096, 64 KiB..256 MiB), max_msg %u "
			"(1..dbuf_bytes/2, and at most %u over the network)", uri, g->slots,
			BL_EP_SLOTS_MIN, BL_EP_SLOTS_MAX, g->buf_bytes, g->max_msg, BLN_MAX_CAPLEN);
		return -EINVAL;
	}
	if (BLC_OPT(o, mode, NULL) != NULL || BLC_OPT(o, group, NULL) != NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: mode and group are for beltline:// endpoints (over "
			"the network, who may connect is what TLS admits)", uri);
		return -EINVAL;
	}
	return 0;
}

/* Milliseconds left until deadline (bl_mono_ms), at least 1. */
static int
ms_left(uint64_t deadline)
{
	uint64_t now = bl_mono_ms();

	return now + 1 < deadline ? (int)(deadline - now) : 1;
}

/* An endpoint on the connected socket fd (consumed) and TLS connection tls (consumed):
 * buffers, the epoll, the hellos, by deadline (bl_mono_ms: what is left of the set-up's
 * one timeout). 0 or -errno (logged). */
static int
epn_setup(const char *name, int fd, void *tls, const char *peer, const struct epn_geo *g,
	  uint64_t deadline, struct beltline_ep **out)
{
	struct beltline_ep *ep = calloc(1, sizeof(*ep));
	struct blc_epn *n = calloc(1, sizeof(*n));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	uint64_t cap = align_up(g->buf_bytes, 4096);
	uint8_t hb[BLN_HELLO_LEN];
	struct bln_hello h = { .snaplen = g->max_msg, .ep = 1 }, ph;
	const char *why = "";
	const int budget = ms_left(deadline);   /* what the set-up left the hellos */
	int rc = -ENOMEM;

	if (ep != NULL)
		ep->peer_uid = UINT32_MAX;   /* a network peer has no uid we know */

	if (ep == NULL || n == NULL) {
		free(ep);
		free(n);
		blc_tls_free(tls);
		close(fd);
		return -ENOMEM;
	}
	ep->net = n;
	ep->sock = ep->txsock = ep->peer_tx = ep->epfd = -1;
	ep->st.sz = sizeof(ep->st);
	snprintf(ep->name, sizeof(ep->name), "%s", name);
	n->fd = fd;
	n->tls = tls;
	n->dead = 1;            /* until set up: nothing to send at close */
	n->timeout_ms = g->timeout_ms;
	n->rx_max = g->max_msg;
	snprintf(n->peer, sizeof(n->peer), "%s", peer);
	if (cap < 2 * (BLN_REC_HDR + (uint64_t)g->max_msg + EPN_ALIGN))
		cap = align_up(2 * (BLN_REC_HDR + (uint64_t)g->max_msg + EPN_ALIGN), 4096);
	n->rcap = n->tcap = cap;
	ep->slots = g->slots;
	ep->mask = g->slots - 1;
	ep->dbuf_bytes = (uint32_t)cap;
	n->rbuf = malloc(cap);
	n->tbuf = malloc(cap);
	n->rq_pos = calloc(g->slots, sizeof(*n->rq_pos));
	n->rq_len = calloc(g->slots, sizeof(*n->rq_len));
	n->tq_pos = calloc(g->slots, sizeof(*n->tq_pos));
	n->tq_asz = calloc(g->slots, sizeof(*n->tq_asz));
	n->tq_len = calloc(g->slots, sizeof(*n->tq_len));
	if (n->rbuf == NULL || n->tbuf == NULL || n->rq_pos == NULL || n->rq_len == NULL ||
	    n->tq_pos == NULL ||
	    n->tq_asz == NULL || n->tq_len == NULL)
		goto fail;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0 || epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	bln_put_hello(hb, &h);
	rc = send_all(n, hb, sizeof(hb), deadline);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot send our hello to %s: %s%s", name, peer,
			rc == -EPIPE ? "it closed (refused us? see its log)" : strerror(-rc),
			rc == -ECONNREFUSED ? BLC_TLS_REFUSED_HINT : "");
		rc = rc == -EPIPE ? -ECONNRESET : rc;
		goto fail;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long r;
		uint64_t t;

		rc = bln_get_hello(n->rbuf, (size_t)n->wpos, &ph, &why);
		if (rc > 0 && !ph.ep) {
			why = ph.write ? "a beltline serve --write, not an endpoint" :
				"a beltline serve stream, not an endpoint";
			rc = -EPROTO;
		}
		if (rc > 0)
			break;
		if (rc < 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: refused %s: its hello: %s", name, peer, why);
			ep->st.garbage++;
			goto fail;
		}
		r = blc_epn__recv(n, n->rbuf + n->wpos, BLN_HELLO_LEN - (size_t)n->wpos);
		if (r > 0) {
			n->wpos += (uint64_t)r;
			continue;
		}
		if (r == -ECONNREFUSED) {   /* a TLS refusal alert */
			blc_log(BELTLINE_LOG_ERROR, "%s: %s refused us%s", name, peer,
				BLC_TLS_REFUSED_HINT);
			rc = -ECONNREFUSED;
			goto fail;
		}
		if (r == 0 || !blc_epn__again(r)) {
			blc_log(BELTLINE_LOG_ERROR, "%s: %s closed before its hello (refused? see its "
				"log)", name, peer);
			rc = -ECONNRESET;
			goto fail;
		}
		t = bl_mono_ms();
		if (t >= deadline || poll(&p, 1, (int)(deadline - t)) == 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: no hello from %s in %d ms (what was left of "
				"the set-up's %d ms)", name, peer, budget, g->timeout_ms);
			rc = -ETIMEDOUT;
			goto fail;
		}
	}
	n->dpos = n->wpos = BLN_HELLO_LEN;     /* the hello alone was read */
	ep->max_msg = ph.snaplen < g->max_msg ? ph.snaplen : g->max_msg;
	n->dead = 0;
	blc_log(BELTLINE_LOG_DEBUG, "%s: connected with %s, max_msg %u", name, peer, ep->max_msg);
	*out = ep;
	return 0;
fail:
	blc_epn_free(ep);
	if (ep->epfd >= 0)
		close(ep->epfd);
	free(ep);
	return rc;
}

/* tls:// certificates: cert, key and ca from the options or the environment. */
struct epn_tls {
	const char *cert, *key, *ca;
};

static void
tls_of(const struct beltline_ep_opts *o, struct epn_tls *t)
{
	t->ca = blc_tls_opt(BLC_OPT(o, tls_ca, NULL), "BELTLINE_TLS_CA");
	t->cert = blc_tls_opt(BLC_OPT(o, tls_cert, NULL), "BELTLINE_TLS_CERT");
	t->key = blc_tls_opt(BLC_OPT(o, tls_key, NULL), "BELTLINE_TLS_KEY");
}

static int
readable(const char *uri, const char *what, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	blc_log(BELTLINE_LOG_ERROR, "%s: %s %s: %s", uri, what, path, strerror(errno));
	return -EINVAL;
}

/* HOST and PORT of tcp://HOST:PORT or tls://HOST:PORT, or -1 with the error logged. */
static int
split_uri(const char *uri, char *host, size_t hn, char *port, size_t pn)
{
	if (bl_hostport_split(uri + 6, host, hn, port, pn) == 0)
		return 0;
	blc_log(BELTLINE_LOG_ERROR, "%s: bad endpoint URI: want tcp://HOST:PORT or "
		"tls://HOST:PORT ([V6ADDR]:PORT for IPv6), PORT 0..65535", uri);
	return -1;
}

int
blc_epn_connect(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out)
{
	int tls = strncmp(uri, "tls://", 6) == 0, fd, err = 0;
	char host[256], port[8], msg[300] = "";
	struct epn_geo g;
	struct epn_tls t;
	void *conn = NULL;
	int rc = geo_of("beltline_ep_connect", uri, o, &g);
	uint64_t end;

	if (rc < 0)
		return rc;
	/* connect, the TLS handshake and the hellos share one timeout (each had all of it:
	 * a listener stalling each step held the call three times timeout_ms) */
	end = bl_mono_ms() + (uint64_t)g.timeout_ms;
	if (split_uri(uri, host, sizeof(host), port, sizeof(port)) < 0)
		return -EINVAL;
	tls_of(o, &t);
	if (tls && t.ca == NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls:// needs a CA to check the listener against "
			"(tls_ca, or $BELTLINE_TLS_CA)", uri);
		return -EINVAL;
	}
	if (tls && (t.cert == NULL) != (t.key == NULL)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls_cert and tls_key go together", uri);
		return -EINVAL;
	}
	fd = blc_net_connect(uri, host, port, SOCK_STREAM, g.timeout_ms);
	if (fd < 0)
		return fd;
	if (tls) {
		conn = blc_tls_open(uri, fd, 0, host, t.cert, t.key, t.ca, ms_left(end), &err, msg,
			sizeof(msg));
		if (conn == NULL) {
			blc_log(BELTLINE_LOG_ERROR, "%s: TLS: %s", uri, msg);
			close(fd);
			return err < 0 ? err : -EPROTO;
		}
	}
	snprintf(msg, sizeof(msg), "%s:%s", host, port);
	return epn_setup(uri, fd, conn, msg, &g, end, out);
}

int
blc_epn_listen(const char *uri, const struct beltline_ep_opts *o, struct blc_epn_listener **out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	int tls = strncmp(uri, "tls://", 6) == 0, one = 1, fd, rc;
	char host[256], port[8];
	struct blc_epn_listener *l;
	struct epn_geo g;
	struct epn_tls t;

	rc = geo_of("beltline_ep_listen", uri, o, &g);
	if (rc < 0)
		return rc;
	if (split_uri(uri, host, sizeof(host), port, sizeof(port)) < 0)
		return -EINVAL;
	tls_of(o, &t);
	if (tls && (t.ca == NULL || t.cert == NULL || t.key == NULL)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls:// listens with mutual TLS: tls_cert, tls_key "
			"and tls_ca (the CA of the clients' certificates) are needed (or "
			"$BELTLINE_TLS_CERT, _KEY, _CA)", uri);
		return -EINVAL;
	}
	if (tls && (readable(uri, "tls_cert", t.cert) < 0 || readable(uri, "tls_key", t.key) < 0 ||
		    readable(uri, "tls_ca", t.ca) < 0))
		return -EINVAL;
	if (tls && !blc_tls_loaded(uri))
		return -ENOTSUP;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot resolve %s: %s", uri, host, gai_strerror(rc));
		return -ENOENT;
	}
	if (!tls && !bl_sockaddr_loopback(ai->ai_addr)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: %s is not a loopback address: off the machine, "
			"listen only over tls:// with tls_ca (clients must show a certificate it "
			"signed)", uri, host);
		freeaddrinfo(ai);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot listen: %s", uri, strerror(-rc));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	l = calloc(1, sizeof(*l));
	if (l != NULL)
		l->fd = -1;
	if (l == NULL || (tls && ((l->cert = strdup(t.cert)) == NULL ||
				  (l->key = strdup(t.key)) == NULL || (l->ca = strdup(t.ca)) == NULL))) {
		close(fd);
		blc_epn_listener_close(l);
		return -ENOMEM;
	}
	l->fd = fd;
	l->tls = tls;
	l->timeout_ms = g.timeout_ms;
	l->slots = g.slots;
	l->buf_bytes = g.buf_bytes;
	l->max_msg = g.max_msg;
	snprintf(l->uri, sizeof(l->uri), "%s", uri);
	*out = l;
	return 0;
}

int
blc_epn_listener_fd(const struct blc_epn_listener *l)
{
	return l->fd;
}

void
blc_epn_listener_close(struct blc_epn_listener *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->cert);
	free(l->key);
	free(l->ca);
	free(l);
}

int
blc_epn_accept(struct blc_epn_listener *l, int timeout_ms, struct beltline_ep **out)
{
	uint64_t deadline = timeout_ms > 0 ? bl_mono_ms() + (uint64_t)timeout_ms : UINT64_MAX;
	struct epn_geo g = { .slots = l->slots, .buf_bytes = l->buf_bytes, .max_msg = l->max_msg,
		.timeout_ms = l->timeout_ms };
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char peer[80], msg[300] = "";
	void *conn = NULL;
	int fd, one = 1, err = 0, rc;

	for (;;) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		uint64_t t = bl_mono_ms();

		fd = accept4(l->fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			return -errno;
		if (timeout_ms == 0)
			return -EAGAIN;
		if (t >= deadline)
			return -ETIMEDOUT;
		(void)poll(&p, 1, deadline == UINT64_MAX ? -1 : (int)(deadline - t));
		sl = sizeof(sa);
	}
	peer_name(&sa, sl, peer, sizeof(peer));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The handshake and the hello share one set-up time (each had all of it: a peer that
	 * stalled both held accept for twice opts.timeout_ms) */
	int setup_ms = l->timeout_ms;
	if (timeout_ms >= 0 && setup_ms > ep_accept_budget(timeout_ms, setup_ms))
		setup_ms = ep_accept_budget(timeout_ms, setup_ms);
	uint64_t setup_end = bl_mono_ms() + (uint64_t)setup_ms;
	if (l->tls) {
		conn = blc_tls_open(l->uri, fd, 1, NULL, l->cert, l->key, l->ca, setup_ms,
			&err, msg, sizeof(msg));
		if (conn == NULL) {
			blc_log(BELTLINE_LOG_ERROR, "%s: refused %s: TLS: %s", l->uri, peer, msg);
			blc_net_close_refused(fd);
			return err == -ENOMEM || err == -ENOTSUP || err == -EINVAL ? err : -EPROTO;
		}
		blc_log(BELTLINE_LOG_INFO, "%s: %s: TLS client %s", l->uri, peer, msg);
	}
	rc = epn_setup(l->uri, fd, conn, peer, &g, setup_end, out);
	return rc == 0 || rc == -ENOMEM ? rc : -EPROTO;
}
