/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_net — endpoints over tcp:// and tls:// (beltline.h, "endpoints"; docs/clients.md,
 * "Endpoints over the network"): the same calls as the shared-memory pair of src_ep.c,
 * with no appliance in between. beltline_ep_listen listens on a socket (tcp:// on
 * loopback only; tls:// with mutual TLS, the plug-in net_tls.c), beltline_ep_connect
 * connects; each side sends a hello (net_frame.h, magic BLNE, snaplen the largest
 * message it takes) and checks the other's. Then each message is a packet record
 * (caplen = len = the message's bytes, seq 0, 1, 2, ...), both ways at once; a side
 * that closes sends what is unsent, then an end record.
 *
 * Sending: getwritebuf hands out room in a byte ring (tbuf) behind a record header's
 * 32 bytes; commit writes the header and sends what the socket takes (sendmsg of up
 * to EPN_IOV records at once; tls://: one run of records at a time). What is left is
 * sent by the next call, or when beltline_ep_fd() (an epoll over the socket, with
 * EPOLLOUT while anything is unsent) shows the socket writable. A full ring is TCP's
 * flow control reaching the writer: it waits, nothing is dropped.
 *
 * Receiving: bytes go into a second ring (rbuf) and records are handed out in place,
 * zero-copy from there; a record never straddles the ring's end (what arrived of one
 * that would is moved to the start first). Every byte from the peer is untrusted:
 * bln_get_rec checks each header (type, flags, caplen against the largest message we
 * announced, len), and the sequence must be exactly the next one; anything else
 * breaks the pair (-EPROTO, beltline_ep_stats.garbage) with a log line naming the peer.
 * The peer gone (EOF, reset, or a record cut short by its death) is the end of the
 * stream after every whole record that arrived.
 */
#include <arpa/inet.h>
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bl_be.h"
#include "net_frame.h"
#include "src_ep_pvt.h"

#define EPN_SLOTS_DEF 1024u
#define EPN_BUF_DEF (4u << 20)
#define EPN_MAX_DEF 65536u
#define EPN_IOV 64
#define EPN_ALIGN 8u            /* write buffers start 8-byte aligned */

struct blc_epn_listener {
	int fd;
	int tls;
	int timeout_ms;
	uint32_t slots, buf_bytes, max_msg;
	char *cert, *key, *ca;
	char uri[256];
};

struct blc_epn {
	int fd;
	void *tls;                  /* the plug-in's connection; NULL: plain tcp:// */
	char peer[80];              /* HOST:PORT of the other side, for the logs */
	int timeout_ms;             /* close: how long it may take to send what is unsent */
	uint32_t rx_max;            /* the largest message we take (our hello's snaplen) */
	/* receiving; positions are absolute byte counts, the ring offset is pos % rcap */
	uint8_t *rbuf;
	uint64_t rcap;
	uint64_t dpos;              /* the next record to hand out */
	uint64_t wpos;              /* the end of what arrived */
	uint64_t *rq_pos;           /* per message handed out and not released: its record */
	uint64_t rx_seq;            /* the seq the next record must carry */
	struct bln_rec cur;         /* the record at dpos, when rx_check found it whole */
	long cur_took;
	int eof;                    /* the peer closed or reset: the end, after what arrived */
	int end_rec;                /* its end record (or the end) was handed out as 0 */
	int hup;                    /* poll said the peer hung up */
	/* sending */
	uint8_t *tbuf;
	uint64_t tcap;
	uint64_t *tq_pos;           /* per buffer got: its record's position */
	uint32_t *tq_asz;           /* record bytes allocated (header and size, aligned) */
	uint32_t *tq_len;           /* got: the size asked; committed: the record's bytes */
	uint64_t t_pos;             /* where the next buffer goes */
	uint32_t t_off;             /* bytes of record ep->tx_tail sent already */
	int out_armed;              /* EPOLLOUT is on in ep->epfd */
	int dead;                   /* sending failed: the peer is gone */
};

static uint64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int
blc_epn_uri(const char *uri)
{
	return uri != NULL && (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0);
}

/* ---- the socket ---- */

static long
io_recv(struct blc_epn *n, void *buf, size_t len)
{
	ssize_t r;

	if (n->tls != NULL)
		return blc_tls_recv(n->tls, buf, len);
	r = recv(n->fd, buf, len, MSG_DONTWAIT);
	return r >= 0 ? (long)r : -errno;
}

static long
io_send(struct blc_epn *n, const void *buf, size_t len)
{
	ssize_t r;

	if (n->tls != NULL)
		return blc_tls_send(n->tls, buf, len);
	r = send(n->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return r >= 0 ? (long)r : -errno;
}

static int
again(long r)
{
	return r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR;
}

/* EPOLLOUT in beltline_ep_fd() while anything is unsent, so a caller that polls it
 * comes back to let us send the rest. */
static void
arm(struct beltline_ep *ep)
{
	struct blc_epn *n = ep->net;
	int want = ep->tx_tail != ep->tx_head && !n->dead;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0) };

	if (want != n->out_armed && epoll_ctl(ep->epfd, EPOLL_CTL_MOD, n->fd, &ev) == 0)
		n->out_armed = want;
}

static int
garbage(struct beltline_ep *ep, const char *what)
{
	ep->st.garbage++;
	if (!ep->broken)
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer %s sent garbage: %s; the pair is broken "
			"(-EPROTO)", ep->name, ep->net->peer, what);
	ep->broken = -EPROTO;
	return -EPROTO;
}

/* ---- sending ---- */

/* Send what the socket takes of the committed records. 0, or -EPIPE (the peer is gone). */
static int
flush(struct beltline_ep *ep)
{
	struct blc_epn *n = ep->net;

	while (!n->dead && ep->tx_tail < ep->tx_head) {
		struct iovec iov[EPN_IOV];
		int k = 0;
		long w;

		for (uint64_t q = ep->tx_tail; q < ep->tx_head && k < EPN_IOV; q++) {
			uint32_t i = (uint32_t)(q & ep->mask), skip = q == ep->tx_tail ? n->t_off : 0;
			uint8_t *p = n->tbuf + n->tq_pos[i] % n->tcap + skip;

			if (k > 0 && (uint8_t *)iov[k - 1].iov_base + iov[k - 1].iov_len == p)
				iov[k - 1].iov_len += n->tq_len[i] - skip;   /* one run */
			else
				iov[k++] = (struct iovec){ p, n->tq_len[i] - skip };
		}
		if (n->tls != NULL) {
			w = blc_tls_send(n->tls, iov[0].iov_base, iov[0].iov_len);
		} else {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)k };
			ssize_t r = sendmsg(n->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
			w = r >= 0 ? (long)r : -errno;
		}
		if (w == -EINTR)
			continue;
		if (again(w))
			break;
		if (w <= 0) {
			n->dead = 1;
			ep->peer_gone = 1;
			break;
		}
		for (uint64_t left = (uint64_t)w; left > 0;) {   /* past what went */
			uint32_t i = (uint32_t)(ep->tx_tail & ep->mask), rest = n->tq_len[i] - n->t_off;

			if (left < rest) {
				n->t_off += (uint32_t)left;
				break;
			}
			left -= rest;
			n->t_off = 0;
			ep->tx_tail++;
		}
	}
	arm(ep);
	return n->dead ? -EPIPE : 0;
}

/* Where a record of need bytes would go: 1 with *start, 0 no room. */
static int
tx_room(struct beltline_ep *ep, uint64_t need, uint64_t *start)
{
	struct blc_epn *n = ep->net;
	uint64_t tail, pos, s;

	if (ep->tx_alloc - ep->tx_tail >= ep->slots)
		return 0;
	tail = ep->tx_alloc == ep->tx_tail ? n->t_pos : n->tq_pos[ep->tx_tail & ep->mask];
	pos = n->t_pos % n->tcap;
	s = n->tcap - pos < need ? n->t_pos + (n->tcap - pos) : n->t_pos;
	if (s + need - tail > n->tcap)
		return 0;
	*start = s;
	return 1;
}

/* ---- receiving ---- */

/* The window to receive into, [wpos, *lim), the record at dpos first moved to the
 * ring's start if it would straddle its end (need: its bytes in all, as far as known).
 * 0, or -ENOBUFS (messages held take the room). */
static int
rx_window(struct beltline_ep *ep, uint64_t need, uint64_t *lim)
{
	struct blc_epn *n = ep->net;
	uint64_t have = n->wpos - n->dpos, seg_end = (n->dpos / n->rcap + 1) * n->rcap;
	int held = ep->rx_next > ep->rx_tail;
	uint64_t oldest = held ? n->rq_pos[ep->rx_tail & ep->mask] : n->dpos;

	if (n->dpos + need > seg_end) {
		if (seg_end + need - oldest > n->rcap)
			return -ENOBUFS;
		/* rcap >= 2 * the largest record: the two places do not overlap */
		memcpy(n->rbuf, n->rbuf + n->dpos % n->rcap, have);
		n->dpos = seg_end;
		n->wpos = seg_end + have;
		if (!held)
			oldest = n->dpos;
		seg_end += n->rcap;
	}
	*lim = seg_end < oldest + n->rcap ? seg_end : oldest + n->rcap;
	return *lim > n->wpos ? 0 : -ENOBUFS;
}

/* What is at dpos: 1 a message (n->cur), 2 the end, 0 not whole yet (*need: the
 * record's bytes in all, as far as known), -EPROTO. */
static int
rx_check(struct beltline_ep *ep, uint64_t *need)
{
	struct blc_epn *n = ep->net;
	uint64_t have = n->wpos - n->dpos;
	const char *why = "";
	char what[200];
	long t;

	if (ep->broken)
		return ep->broken;
	if (n->end_rec)
		return 2;
	t = bln_get_rec(n->rbuf + n->dpos % n->rcap, (size_t)have, n->rx_max, &n->cur, &why);
	if (t < 0) {
		snprintf(what, sizeof(what), "a malformed record after %llu messages: %s",
			 (unsigned long long)n->rx_seq, why);
		return garbage(ep, what);
	}
	if (t == 0) {
		*need = have >= BLN_REC_HDR ? BLN_REC_HDR + n->cur.caplen : BLN_REC_HDR + n->rx_max;
		if (!n->eof)
			return 0;
		if (have > 0)
			blc_log(BELTLINE_LOG_WARN, "%s: the peer %s went away in the middle of a "
				"record (%llu bytes of it arrived): the end", ep->name, n->peer,
				(unsigned long long)have);
		n->end_rec = 1;
		return 2;
	}
	if (n->cur.type == BLN_REC_ACK || n->cur.flags != 0 || n->cur.cls != 0 ||
	    n->cur.len != n->cur.caplen) {
		snprintf(what, sizeof(what), "a record of type %u, flags %u, class %u, length %u of "
			 "%u after %llu messages: not a message", n->cur.type, n->cur.flags,
			 n->cur.cls, n->cur.caplen, n->cur.len, (unsigned long long)n->rx_seq);
		return garbage(ep, what);
	}
	if (n->cur.seq != n->rx_seq) {
		snprintf(what, sizeof(what), "sequence number %llu where %llu was due (a gap or a "
			 "repeat)", (unsigned long long)n->cur.seq, (unsigned long long)n->rx_seq);
		return garbage(ep, what);
	}
	if (n->cur.type == BLN_REC_END) {
		n->end_rec = 1;
		return 2;
	}
	n->cur_took = t;
	return 1;
}

/* Receive what fits and has arrived. >0 bytes, 0 the peer closed, -EAGAIN, -ENOBUFS,
 * -EPROTO (TLS). */
static long
rx_fill(struct beltline_ep *ep, uint64_t need)
{
	struct blc_epn *n = ep->net;
	uint64_t lim;
	long r;

	if (n->eof)
		return 0;
	if (rx_window(ep, need, &lim) < 0)
		return -ENOBUFS;
	do
		r = io_recv(n, n->rbuf + n->wpos % n->rcap, (size_t)(lim - n->wpos));
	while (r == -EINTR);
	if (r > 0) {
		n->wpos += (uint64_t)r;
		return r;
	}
	if (again(r))
		return -EAGAIN;
	if (r == -EPROTO && n->tls != NULL)     /* a TLS record that did not decrypt or verify */
		return garbage(ep, "a TLS record that does not decrypt or verify");
	if (r < 0 && r != -ECONNRESET && r != -EPIPE)
		blc_log(BELTLINE_LOG_WARN, "%s: receiving from %s: %s: the end", ep->name, n->peer,
			strerror((int)-r));
	n->eof = 1;            /* closed, reset or failed: the peer is gone */
	ep->peer_gone = 1;
	return 0;
}

/* Receive until a record is whole at dpos, the end, or nothing more has arrived:
 * rx_check's answer, or -ENOBUFS. */
static int
rx_pump(struct beltline_ep *ep)
{
	uint64_t need = 0;
	int rc;

	for (;;) {
		rc = rx_check(ep, &need);
		if (rc != 0)
			return rc;
		long r = rx_fill(ep, need);
		if (r == -EAGAIN)
			return 0;
		if (r == -ENOBUFS || r == -EPROTO)
			return (int)r;
	}
}

enum { W_RX, W_TX };

/* Wait for a message (W_RX: 1 a message, 0 the end) or for room for need bytes (W_TX:
 * 1 with *start, 0 the peer is gone), sending what is unsent meanwhile (W_RX also
 * receiving; W_TX does not, see there); sleeps in poll.
 * Or -EAGAIN (timeout 0), -ETIMEDOUT, -EPROTO, -ENOBUFS. */
static int
epn_wait(struct beltline_ep *ep, int what, uint64_t need, uint64_t *start, int timeout_ms)
{
	struct blc_epn *n = ep->net;
	uint64_t deadline = timeout_ms > 0 ? mono_ms() + (uint64_t)timeout_ms : UINT64_MAX;
	int rc;

	for (;;) {
		struct pollfd p = { .fd = n->fd, .events = POLLRDHUP };
		uint64_t t;

		if (ep->broken)
			return ep->broken;
		(void)flush(ep);
		if (what == W_TX) {
			/* Not reading meanwhile: a message taken into rbuf here would not make
			 * beltline_ep_fd() readable for a caller that polls it after -EAGAIN. */
			if (n->dead || n->eof || n->hup)
				return 0;
			if (tx_room(ep, need, start))
				return 1;
		} else {
			rc = rx_pump(ep);
			if (rc != 0)
				return rc == 2 ? 0 : rc;
			p.events |= POLLIN;
		}
		if (timeout_ms == 0)
			return -EAGAIN;
		if (ep->tx_tail != ep->tx_head && !n->dead)
			p.events |= POLLOUT;
		t = mono_ms();
		if (t >= deadline)
			return -ETIMEDOUT;
		ep->st.sleeps++;
		rc = poll(&p, 1, deadline == UINT64_MAX ? -1 : (int)(deadline - t));
		if (rc > 0 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP)))
			n->hup = 1;    /* a writer stops; a reader takes what arrived, then the end */
	}
}

/* ---- the calls (src_ep_ring.c sends them here when ep->net is set) ---- */

int
blc_epn_getwritebuf(struct beltline_ep *ep, uint32_t size, void **buf, int timeout_ms)
{
	struct blc_epn *n = ep->net;
	uint64_t start = 0, asz;
	uint32_t i;
	int rc;

	if (buf == NULL || size == 0)
		return -EINVAL;
	*buf = NULL;
	if (size > ep->max_msg) {
		blc_log(BELTLINE_LOG_ERROR, "%s: a buffer of %u bytes: the endpoint's max_msg is %u",
			ep->name, size, ep->max_msg);
		return -EMSGSIZE;
	}
	if (ep->broken)
		return ep->broken;
	asz = BLN_REC_HDR + align_up(size, EPN_ALIGN);
	rc = epn_wait(ep, W_TX, asz, &start, timeout_ms);
	if (rc == 0)
		return -EPIPE;
	if (rc < 0) {
		if (rc == -EAGAIN || rc == -ETIMEDOUT)
			ep->st.full++;
		return rc;
	}
	i = (uint32_t)(ep->tx_alloc & ep->mask);
	n->tq_pos[i] = start;
	n->tq_asz[i] = (uint32_t)asz;
	n->tq_len[i] = size;
	ep->tx_alloc++;
	n->t_pos = start + asz;
	*buf = n->tbuf + start % n->tcap + BLN_REC_HDR;
	return 0;
}

int
blc_epn_commit(struct beltline_ep *ep, void *buf, uint32_t len)
{
	struct blc_epn *n = ep->net;
	uint32_t i = (uint32_t)(ep->tx_head & ep->mask);
	uint8_t *hdr = n->tbuf + n->tq_pos[i] % n->tcap;

	if (buf != hdr + BLN_REC_HDR || len > n->tq_len[i]) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of a buffer that is not the oldest one got, "
			"or of more bytes than it holds", ep->name);
		return -EINVAL;
	}
	if (ep->broken)
		return ep->broken;
	struct bln_rec r = { .type = BLN_REC_PKT, .caplen = len, .len = len, .seq = ep->tx_head };
	bln_put_rec_hdr(hdr, &r);
	n->tq_len[i] = BLN_REC_HDR + len;
	if (ep->tx_head + 1 == ep->tx_alloc)     /* the latest got: give back what it did not use */
		n->t_pos = n->tq_pos[i] + BLN_REC_HDR + align_up(len, EPN_ALIGN);
	ep->tx_head++;
	ep->st.sent++;
	ep->st.bytes_sent += len;
	if (!n->out_armed)      /* armed: the socket was full; its wakeup sends the rest */
		(void)flush(ep);
	return n->dead ? -EPIPE : 0;
}

int
blc_epn_getreadbuf(struct beltline_ep *ep, const void **buf, uint32_t *len, int timeout_ms)
{
	struct blc_epn *n = ep->net;
	int rc;

	if (ep->rx_next - ep->rx_tail >= ep->slots) {
		blc_log(BELTLINE_LOG_ERROR, "%s: %u messages read and not released (slots): release "
			"some", ep->name, ep->slots);
		return -ENOBUFS;
	}
	rc = epn_wait(ep, W_RX, 0, NULL, timeout_ms);
	if (rc == -ENOBUFS)
		blc_log(BELTLINE_LOG_ERROR, "%s: the messages read and not released fill the "
			"receive buffer (%llu bytes): release some", ep->name,
			(unsigned long long)n->rcap);
	if (rc <= 0)
		return rc;
	n->rq_pos[ep->rx_next & ep->mask] = n->dpos;
	*buf = n->cur.data;
	*len = n->cur.caplen;
	n->dpos += (uint64_t)n->cur_took;
	n->rx_seq++;
	ep->rx_next++;
	ep->st.received++;
	ep->st.bytes_received += n->cur.caplen;
	return 1;
}

int
blc_epn_release(struct beltline_ep *ep, const void *buf)
{
	struct blc_epn *n = ep->net;
	uint64_t pos = n->rq_pos[ep->rx_tail & ep->mask];

	if (buf != NULL && buf != n->rbuf + pos % n->rcap + BLN_REC_HDR) {
		blc_log(BELTLINE_LOG_ERROR, "%s: release of a buffer that is not the oldest one read",
			ep->name);
		return -EINVAL;
	}
	ep->rx_tail++;
	return 0;
}

/* ---- set-up ---- */

/* Send all of p within the deadline. 0, -ETIMEDOUT, -EPIPE. */
static int
send_all(struct blc_epn *n, const uint8_t *p, size_t len, uint64_t deadline)
{
	while (len > 0) {
		long w = io_send(n, p, len);
		struct pollfd pf = { .fd = n->fd, .events = POLLOUT };
		uint64_t t;

		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (!again(w))
			return -EPIPE;
		t = mono_ms();
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
		uint64_t deadline = mono_ms() + (uint64_t)n->timeout_ms;
		uint8_t end[BLN_REC_HDR];

		while (!n->dead && ep->tx_tail != ep->tx_head && mono_ms() < deadline) {
			struct pollfd p = { .fd = n->fd, .events = POLLOUT | POLLIN };
			uint64_t t = mono_ms();

			(void)flush(ep);
			if (ep->tx_tail == ep->tx_head || n->dead)
				break;
			if (poll(&p, 1, t < deadline ? (int)(deadline - t) : 0) > 0 &&
			    (p.revents & POLLIN)) {
				long r = io_recv(n, n->rbuf, (size_t)n->rcap);
				if (r == 0 || (r < 0 && !again(r)))
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

	if (!blc_ep_opts_ok(o)) {
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

/* An endpoint on the connected socket fd (consumed) and TLS connection tls (consumed):
 * buffers, the epoll, the hellos. 0 or -errno (logged). */
static int
epn_setup(const char *name, int fd, void *tls, const char *peer, const struct epn_geo *g,
	  struct beltline_ep **out)
{
	struct beltline_ep *ep = calloc(1, sizeof(*ep));
	struct blc_epn *n = calloc(1, sizeof(*n));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	uint64_t cap = align_up(g->buf_bytes, 4096), deadline = mono_ms() + (uint64_t)g->timeout_ms;
	uint8_t hb[BLN_HELLO_LEN];
	struct bln_hello h = { .snaplen = g->max_msg, .ep = 1 }, ph;
	const char *why = "";
	int rc = -ENOMEM;

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
	n->tq_pos = calloc(g->slots, sizeof(*n->tq_pos));
	n->tq_asz = calloc(g->slots, sizeof(*n->tq_asz));
	n->tq_len = calloc(g->slots, sizeof(*n->tq_len));
	if (n->rbuf == NULL || n->tbuf == NULL || n->rq_pos == NULL || n->tq_pos == NULL ||
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
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot send our hello to %s: %s", name, peer,
			rc == -EPIPE ? "it closed (refused us? see its log)" : strerror(-rc));
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
		r = io_recv(n, n->rbuf + n->wpos, BLN_HELLO_LEN - (size_t)n->wpos);
		if (r > 0) {
			n->wpos += (uint64_t)r;
			continue;
		}
		if (r == 0 || !again(r)) {
			blc_log(BELTLINE_LOG_ERROR, "%s: %s closed before its hello (refused? see its "
				"log)", name, peer);
			rc = -ECONNRESET;
			goto fail;
		}
		t = mono_ms();
		if (t >= deadline || poll(&p, 1, (int)(deadline - t)) == 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: no hello from %s in %d ms", name, peer,
				g->timeout_ms);
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

int
blc_epn_connect(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out)
{
	int tls = strncmp(uri, "tls://", 6) == 0, fd, err = 0;
	char host[256], port[8], msg[300] = "";
	struct epn_geo g;
	struct epn_tls t;
	void *conn = NULL;
	int rc = geo_of("beltline_ep_connect", uri, o, &g);

	if (rc < 0)
		return rc;
	if (blc_net_split(uri + 6, host, sizeof(host), port, sizeof(port)) < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad endpoint URI: want tcp://HOST:PORT or "
			"tls://HOST:PORT ([V6ADDR]:PORT for IPv6), PORT 0..65535", uri);
		return -EINVAL;
	}
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
		conn = blc_tls_open(uri, fd, 0, host, t.cert, t.key, t.ca, g.timeout_ms, &err, msg,
			sizeof(msg));
		if (conn == NULL) {
			blc_log(BELTLINE_LOG_ERROR, "%s: TLS: %s", uri, msg);
			close(fd);
			return err < 0 ? err : -EPROTO;
		}
	}
	snprintf(msg, sizeof(msg), "%s:%s", host, port);
	return epn_setup(uri, fd, conn, msg, &g, out);
}

static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
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
	if (blc_net_split(uri + 6, host, sizeof(host), port, sizeof(port)) < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad endpoint URI: want tcp://HOST:PORT or "
			"tls://HOST:PORT ([V6ADDR]:PORT for IPv6), PORT 0..65535", uri);
		return -EINVAL;
	}
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
	if (!tls && !is_loopback(ai->ai_addr)) {
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
	uint64_t deadline = timeout_ms > 0 ? mono_ms() + (uint64_t)timeout_ms : UINT64_MAX;
	struct epn_geo g = { .slots = l->slots, .buf_bytes = l->buf_bytes, .max_msg = l->max_msg,
		.timeout_ms = l->timeout_ms };
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char peer[80], msg[300] = "";
	void *conn = NULL;
	int fd, one = 1, err = 0, rc;

	for (;;) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		uint64_t t = mono_ms();

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
	if (l->tls) {
		conn = blc_tls_open(l->uri, fd, 1, NULL, l->cert, l->key, l->ca, l->timeout_ms,
			&err, msg, sizeof(msg));
		if (conn == NULL) {
			blc_log(BELTLINE_LOG_ERROR, "%s: refused %s: TLS: %s", l->uri, peer, msg);
			close(fd);
			return err == -ENOMEM || err == -ENOTSUP || err == -EINVAL ? err : -EPROTO;
		}
		blc_log(BELTLINE_LOG_INFO, "%s: %s: TLS client %s", l->uri, peer, msg);
	}
	rc = epn_setup(l->uri, fd, conn, peer, &g, out);
	return rc == 0 || rc == -ENOMEM ? rc : -EPROTO;
}
