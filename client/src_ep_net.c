/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bl_time.h"
#include "net_frame.h"
#include "src_ep_net_pvt.h"

int
blc_epn_uri(const char *uri)
{
	return uri != NULL && (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0);
}

/* ---- the socket ---- */

long
blc_epn__recv(struct blc_epn *n, void *buf, size_t len)
{
	ssize_t r;

	if (n->tls != NULL)
		return blc_tls_recv(n->tls, buf, len);
	r = recv(n->fd, buf, len, MSG_DONTWAIT);
	return r >= 0 ? (long)r : -errno;
}

long
blc_epn__send(struct blc_epn *n, const void *buf, size_t len)
{
	ssize_t r;

	if (n->tls != NULL)
		return blc_tls_send(n->tls, buf, len);
	r = send(n->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return r >= 0 ? (long)r : -errno;
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

int
blc_epn__flush(struct beltline_ep *ep)
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
		if (blc_epn__again(w))
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

/* Where a record of need bytes would go, were our first tail records acknowledged: 1
 * with *start, 0 no room. */
static int
tx_room(struct beltline_ep *ep, uint64_t tail, uint64_t need, uint64_t *start)
{
	struct blc_epn *n = ep->net;
	uint64_t tail_pos, pos, s;

	if (ep->tx_alloc - tail >= ep->slots)
		return 0;
	tail_pos = ep->tx_alloc == tail ? n->t_pos : n->tq_pos[tail & ep->mask];
	pos = n->t_pos % n->tcap;
	s = n->tcap - pos < need ? n->t_pos + (n->tcap - pos) : n->t_pos;
	if (s + need - tail_pos > n->tcap)
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
		r = blc_epn__recv(n, n->rbuf + n->wpos % n->rcap, (size_t)(lim - n->wpos));
	while (r == -EINTR);
	if (r > 0) {
		n->wpos += (uint64_t)r;
		return r;
	}
	if (blc_epn__again(r))
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
 * Or -EAGAIN (timeout 0), -ETIMEDOUT, -EPROTO, -ENOBUFS, -EDEADLK (W_TX: only the
 * caller's own buffers could make the room). */
static int
epn_wait(struct beltline_ep *ep, int what, uint64_t need, uint64_t *start, int timeout_ms)
{
	struct blc_epn *n = ep->net;
	uint64_t deadline = timeout_ms > 0 ? bl_mono_ms() + (uint64_t)timeout_ms : UINT64_MAX;
	int rc;

	for (;;) {
		struct pollfd p = { .fd = n->fd, .events = POLLRDHUP };
		uint64_t t;

		if (ep->broken)
			return ep->broken;
		(void)blc_epn__flush(ep);
		if (what == W_TX) {
			/* Not reading meanwhile: a message taken into rbuf here would not make
			 * beltline_ep_fd() readable for a caller that polls it after -EAGAIN. */
			if (n->dead || n->eof || n->hup)
				return 0;
			if (tx_room(ep, ep->tx_tail, need, start))
				return 1;
			if (!tx_room(ep, ep->tx_head, need, start)) {
				/* not even with all we sent acknowledged: no wait can end */
				blc_log(BELTLINE_LOG_ERROR, "%s: no room for %llu bytes, even with "
					"every message sent acknowledged: %llu buffers are got and "
					"not committed; commit them first", ep->name,
					(unsigned long long)need,
					(unsigned long long)(ep->tx_alloc - ep->tx_head));
				return -EDEADLK;
			}
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
		t = bl_mono_ms();
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
		(void)blc_epn__flush(ep);
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
	n->rq_len[ep->rx_next & ep->mask] = n->cur.caplen;
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
blc_epn_is_oldest(const struct beltline_ep *ep, const void *buf, uint32_t len)
{
	const struct blc_epn *n = ep->net;
	uint32_t i = (uint32_t)(ep->rx_tail & ep->mask);

	return ep->rx_tail != ep->rx_next &&
	       buf == n->rbuf + n->rq_pos[i] % n->rcap + BLN_REC_HDR && len <= n->rq_len[i];
}

int
blc_epn_release(struct beltline_ep *ep, const void *buf)
{
	struct blc_epn *n = ep->net;
	uint64_t pos = n->rq_pos[ep->rx_tail & ep->mask];

	if (ep->rx_tail == ep->rx_next)   /* nothing held: as over shared memory */
		return -EINVAL;
	if (buf != NULL && buf != n->rbuf + pos % n->rcap + BLN_REC_HDR) {
		blc_log(BELTLINE_LOG_ERROR, "%s: release of a buffer that is not the oldest one read",
			ep->name);
		return -EINVAL;
	}
	ep->rx_tail++;
	return 0;
}
