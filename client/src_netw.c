/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_netw — a writer over tcp:// or tls:// (beltline_open_write on a network URI):
 * the far end is `beltline serve --write NAME`, which writes every frame into the
 * inject stream NAME of its appliance (docs/clients.md, "Transports").
 *
 * The same four calls as a local writer. Buffers are slots of the server's largest
 * frame (its hello's snaplen); a commit frames the slot as a packet record with the
 * next sequence number (net_frame.h), copies it into the send buffer and sends what
 * the socket takes now (never waiting): TCP's flow control is the server's
 * back-pressure. A slot is handed out again once its frame is in the send buffer;
 * getwritebuf gives -EAGAIN while every slot is committed and the send buffer is
 * full. The server answers with ack records (frames its appliance has read, frames
 * it refused): beltline_write_flush waits for the ack of the last commit, and
 * beltline_write_stats reports them. Close sends an end record.
 *
 * The connection (hello, TLS, receiving) is src_net.c's; nothing the server sends is
 * trusted: anything but acks, an ack going backwards or beyond the commits, ends the
 * writer with -EPROTO and a log line.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beltline_priv.h"
#include "net_frame.h"

#define NETW_SLOTS 16u              /* buffers one writer may hold got or committed */
#define NETW_STAGE (256u * 1024u)   /* the send buffer, at least 4 frames */

struct blc_netw {
	struct beltline_stream *s;  /* the connection (src_net.c) */
	uint8_t *slots;             /* NETW_SLOTS x max_frame */
	uint32_t len[NETW_SLOTS];   /* committed lengths */
	uint32_t max_frame;
	uint64_t next_get, next_commit, next_staged;
	uint8_t *stage;             /* records to send: [spos, slen) */
	size_t spos, slen, scap;
	uint64_t consumed, refused, full;
	int err;                    /* sticky: the connection is broken (-EPIPE, -EPROTO) */
	unsigned pumps;             /* acks are read every ACK_LOOK pumps (a receive is a syscall) */
};

#define ACK_LOOK 64u
/* Receives one take_acks makes at most (BLN_REC_HDR * 64 bytes each: 1024 acks), the
 * rest left for the next call: a server streaming acks cannot keep the caller. An
 * honest one sends an ack when there is news, every so many frames. */
#define ACK_RECVS 16u

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
fail(struct blc_netw *w, int err, const char *fmt, const char *what)
{
	if (w->err == 0) {
		blc_log(BELTLINE_LOG_ERROR, fmt, w->s->name, what);
		w->err = err;
	}
	return w->err;
}

/* Read and check what the server sent: acks, from at most ACK_RECVS receives. 0, or the
 * sticky error. */
static int
take_acks(struct blc_netw *w)
{
	struct blc_net *n = &w->s->n;
	unsigned recvs = 0;

	while (w->err == 0) {
		struct bln_rec r;
		const char *why = "";
		/* snaplen 0: a record with data is refused at its header, so no more than a
		 * header's bytes are ever waited for (the buffer cannot fill) */
		long took = bln_get_rec(n->buf + n->rpos, n->wpos - n->rpos, 0, &r, &why);

		if (n->wpos > n->rpos && n->buf[n->rpos] != BLN_REC_ACK)
			why = "a record that is not an ack", took = -EPROTO;
		if (took > 0 && (r.seq < w->consumed || r.seq > w->next_commit || r.ts_ns < w->refused ||
				 r.ts_ns > w->next_commit))
			why = "an ack going backwards or beyond what was sent", took = -EPROTO;
		if (took < 0)
			return fail(w, -EPROTO, "%s: malformed record from the server: %s", why);
		if (took > 0) {
			w->consumed = r.seq;
			w->refused = r.ts_ns;
			n->rpos += (size_t)took;
			continue;
		}
		if (recvs++ == ACK_RECVS)
			return 0;       /* what is left in the socket: the next call */
		if (n->rpos == n->wpos)
			n->rpos = n->wpos = 0;
		else if (n->rpos > 0) {
			memmove(n->buf, n->buf + n->rpos, n->wpos - n->rpos);
			n->wpos -= n->rpos;
			n->rpos = 0;
		}
		long got = n->io_recv(n, n->buf + n->wpos, BLN_REC_HDR * 64u);
		if (got > 0) {
			n->wpos += (size_t)got;
			continue;
		}
		if (got == -EAGAIN || got == -EWOULDBLOCK || got == -EINTR)
			return 0;
		return fail(w, got == 0 ? -EPIPE : (int)got, "%s: the server %s",
			    got == 0 ? "closed the connection (its log says why)" : "connection broke");
	}
	return w->err;
}

/* Stage committed frames and send what the socket takes now (acks read every
 * ACK_LOOK calls, or always with look). 0 or the sticky error. */
static int
pump_look(struct blc_netw *w, int look)
{
	struct blc_net *n = &w->s->n;

	if ((look || ++w->pumps % ACK_LOOK == 0) && take_acks(w) < 0)
		return w->err;
	if (w->err != 0)
		return w->err;
	for (;;) {
		while (w->next_staged < w->next_commit) {
			uint32_t i = (uint32_t)(w->next_staged % NETW_SLOTS), l = w->len[i];
			struct bln_rec r = { .type = BLN_REC_PKT, .caplen = l, .len = l,
				.seq = w->next_staged };

			if (w->scap - w->slen < BLN_REC_HDR + l)
				break;
			bln_put_rec_hdr(w->stage + w->slen, &r);
			memcpy(w->stage + w->slen + BLN_REC_HDR, w->slots + (size_t)i * w->max_frame, l);
			w->slen += BLN_REC_HDR + l;
			w->next_staged++;
		}
		if (w->spos == w->slen)
			return 0;
		long sent = n->io_send(n, w->stage + w->spos, w->slen - w->spos);
		if (sent == -EAGAIN || sent == -EWOULDBLOCK || sent == -EINTR)
			return 0;
		if (sent <= 0)
			return fail(w, sent == -EPIPE || sent == -ECONNRESET ? -EPIPE : (int)sent,
				    "%s: sending: %s", sent == -EPIPE || sent == -ECONNRESET ?
				    "the server closed the connection (its log says why)" :
				    strerror((int)-sent));
		w->spos += (size_t)sent;
		if (w->spos == w->slen)
			w->spos = w->slen = 0;
		else
			return 0;       /* the socket is full */
	}
}

static int
pump(struct blc_netw *w)
{
	return pump_look(w, 0);
}

/* Wait (at most until deadline, ms) for the socket to take more or to bring acks. */
static void
wait_io(struct blc_netw *w, int64_t deadline)
{
	struct pollfd p = { .fd = w->s->n.fd, .events = POLLIN };
	int64_t left = deadline - now_ms();

	if (w->spos != w->slen)
		p.events |= POLLOUT;
	(void)poll(&p, 1, left <= 0 ? 0 : left > 10 ? 10 : (int)left);
}

int
blc_netw_open(const char *uri, const struct beltline_open_opts *o, struct blc_netw **out)
{
	struct blc_netw *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL)
		return -ENOMEM;
	rc = blc_net_open_writer(uri, o, &w->s);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->max_frame = w->s->snaplen;
	w->scap = NETW_STAGE > 4u * (BLN_REC_HDR + w->max_frame) ? NETW_STAGE :
		4u * (BLN_REC_HDR + w->max_frame);
	w->slots = malloc((size_t)NETW_SLOTS * w->max_frame);
	w->stage = malloc(w->scap);
	if (w->slots == NULL || w->stage == NULL) {
		blc_netw_close(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

int
blc_netw_sock(const struct blc_netw *w)
{
	return w->s->n.fd;
}

int
blc_netw_getbuf(struct blc_netw *w, void **buf, uint32_t *room)
{
	if (pump_look(w, w->next_get - w->next_staged >= NETW_SLOTS) < 0)
		return w->err;
	if (w->next_get - w->next_commit >= NETW_SLOTS) {
		/* every buffer got and not committed: no wait can end (-EAGAIN would sleep) */
		blc_log(BELTLINE_LOG_ERROR, "%s: every buffer (%u) is got and not committed: "
			"commit one before asking for another", w->s->name, NETW_SLOTS);
		return -EDEADLK;
	}
	if (w->next_get - w->next_staged >= NETW_SLOTS) {
		w->full++;
		return -EAGAIN;
	}
	*buf = w->slots + (size_t)(w->next_get % NETW_SLOTS) * w->max_frame;
	if (room != NULL)
		*room = w->max_frame;
	w->next_get++;
	return 0;
}

int
blc_netw_commit(struct blc_netw *w, void *buf, uint32_t len)
{
	uint64_t s = w->next_commit;

	if (s == w->next_get || (uint8_t *)buf != w->slots + (size_t)(s % NETW_SLOTS) * w->max_frame) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of a buffer that is not the oldest one got "
			"(never got, or committed already)", w->s->name);
		return -EINVAL;
	}
	if (len == 0 || len > w->max_frame) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of %u bytes: want 1..%u (the server's "
			"max_frame)", w->s->name, len, w->max_frame);
		return -EINVAL;
	}
	if (w->err != 0)
		return w->err;
	w->len[s % NETW_SLOTS] = len;
	w->next_commit = s + 1;
	return pump(w) < 0 ? w->err : 0;
}

int
blc_netw_flush(struct blc_netw *w, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		if (pump_look(w, 1) < 0)
			return w->err;
		if (w->consumed == w->next_commit)
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		wait_io(w, deadline);
	}
}

void
blc_netw_stats(struct blc_netw *w, uint64_t *committed, uint64_t *consumed, uint64_t *refused,
	       uint64_t *full)
{
	(void)take_acks(w);
	*committed = w->next_commit;
	*consumed = w->consumed;
	*refused = w->refused;
	*full = w->full;
}

void
blc_netw_close(struct blc_netw *w)
{
	if (w == NULL)
		return;
	if (w->s != NULL && w->stage != NULL && w->err == 0) {
		/* What is committed goes, then an end record (within a second: the server may be
		 * gone); frames got and not committed are dropped, as a local writer's are. */
		int64_t deadline = now_ms() + 1000;
		struct bln_rec e = { .type = BLN_REC_END };

		while (pump_look(w, 1) == 0 && (w->next_staged != w->next_commit || w->spos != w->slen) &&
		       now_ms() < deadline)
			wait_io(w, deadline);
		if (w->err == 0 && w->spos == w->slen) {
			e.seq = w->next_staged;     /* what was not sent in time is a gap */
			bln_put_rec_hdr(w->stage, &e);
			w->spos = 0;
			w->slen = BLN_REC_HDR;
			while (pump_look(w, 1) == 0 && w->spos != w->slen && now_ms() < deadline)
				wait_io(w, deadline);
		}
	}
	if (w->s != NULL)
		beltline_close(w->s);
	free(w->slots);
	free(w->stage);
	free(w);
}
