/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_write — `beltline serve --write NAME LISTEN-URI`: a remote writer into the
 * inject stream NAME (docs/clients.md, "Transports"). The listening rules and TLS
 * are serve.c's: loopback only, unless tls:// with a CA and client certificates.
 *
 * One writer at a time: each is served by a child process that opens NAME as an
 * ordinary local writer (client name "serve PEER", so `beltline stats` shows who
 * writes) and sends a hello with magic BLNW and the stream's max_frame as snaplen
 * (client/net_frame.h). Then every packet record is written into NAME through the
 * library's write path (getwritebuf, copy, commit), in order; a jump in sequence
 * numbers is counted as loss; an end record ends it (the frames flushed into the
 * appliance first). While the appliance has no buffer free we read no more from the
 * socket: TCP's flow control holds the writer back. Acks go back when frames flow
 * (every ACK_EVERY) and when the socket is idle: seq = the writer's frames dealt with
 * (read by the appliance, or never received: lost), ts_ns = frames it refused.
 *
 * Nothing from the peer is trusted: a malformed record (bad type or flags, a frame
 * over max_frame or empty, a sequence number going back, a connection closed inside
 * a record) closes the connection with a line naming the peer and the fault, and is
 * counted (the child's exit status, totalled by the parent at exit). A peer that
 * takes no ack for PEER_TIMEOUT_S is cut, one that sends nothing for --stall-ms while
 * it is owed no ack (idle_too_long), and one whose record is not whole --stall-ms after
 * its first byte came (a trickle: any byte kept it "not idle", and held the one writer
 * place for ever). TLS is read without blocking, so a trickle inside a TLS record does
 * not hold the read either.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "beltline.h"
#include "bl_time.h"
#include "exporter.h"   /* bl_cli_stopping */
#include "net_frame.h"
#include "serve_pvt.h"

#define ACK_EVERY 256u
#define ACK_IDLE_MS 10
#define PEER_TIMEOUT_S 10

enum { WR_OK = 0, WR_FAIL = 1, WR_MALFORMED = 3, WR_BUSY = 4 };   /* a child's exit status */

struct wconn {
	struct conn *c;
	const char *peer;
	struct beltline_writer *w;
	void *buf;              /* a buffer got and not committed (have_buf) */
	uint32_t room;          /* the stream's max_frame */
	int have_buf, have_last;
	uint64_t last, lost, frames, bytes, since_ack;
	uint64_t acked_seq, acked_refused;
	uint64_t quiet_since;   /* ms: the last bytes from the writer, or ack with news to it */
	uint64_t part_since;    /* ms: when the partial record buffered began (0: none) */
};

/* An ack if there is news (or force). 0, or -1: the peer is gone. */
static int
send_ack(struct wconn *x, int force)
{
	struct beltline_write_stats st = { .sz = sizeof(st) };
	uint8_t h[BLN_REC_HDR];

	beltline_write_stats(x->w, &st);
	struct bln_rec a = { .type = BLN_REC_ACK, .seq = st.consumed + x->lost, .ts_ns = st.refused };
	x->since_ack = 0;
	if (!force && a.seq == x->acked_seq && a.ts_ns == x->acked_refused)
		return 0;
	x->acked_seq = a.seq;
	x->acked_refused = a.ts_ns;
	x->quiet_since = bl_mono_ms();  /* a writer waiting for this ack was not idle */
	bln_put_rec_hdr(h, &a);
	return conn_put(x->c, h, sizeof(h)) < 0 || conn_flush(x->c) < 0 ? -1 : 0;
}

/* A writer that has sent nothing for stall_ms and is owed nothing (the appliance read
 * every frame it committed, so no ack it may be waiting for is still to come) holds the
 * stream's one writer place for nothing: a silent connection, or a host gone without a
 * word (TCP keepalive finds those too, in about a minute). */
static int
idle_too_long(struct wconn *x, int stall_ms)
{
	struct beltline_write_stats st = { .sz = sizeof(st) };

	if (bl_mono_ms() - x->quiet_since < (uint64_t)stall_ms)
		return 0;
	beltline_write_stats(x->w, &st);
	return st.consumed >= x->frames;   /* consumed counts the refused too */
}

/* Every buffer is committed: sleep until the appliance gives half back (it signals the
 * writer's fd), 50 ms at most so a stop is seen. */
static void
wait_for_room(struct beltline_writer *w)
{
	struct pollfd p = { .fd = beltline_write_fd(w), .events = POLLIN };

	if (p.fd < 0 || poll(&p, 1, 50) < 0)
		usleep(50);
}

/* One frame into the stream, waiting for a buffer. 0 or -errno (-EPIPE: appliance gone). */
static int
put_frame(struct wconn *x, const uint8_t *data, uint32_t len)
{
	int rc;

	while (!x->have_buf) {
		rc = beltline_getwritebuf(x->w, &x->buf, &x->room);
		if (rc == 0)
			x->have_buf = 1;
		else if (rc != -EAGAIN)
			return rc;
		else if (bl_cli_stopping())
			return -EINTR;
		else
			wait_for_room(x->w);
	}
	memcpy(x->buf, data, len);
	x->have_buf = 0;
	rc = beltline_commit(x->w, x->buf, len);
	if (rc == 0) {
		x->frames++;
		x->bytes += len;
	}
	return rc;
}

/* Up to len bytes from the peer: >0, 0 closed, -EAGAIN nothing yet, -1 broken or stalled. */
static long
peer_recv(struct conn *c, uint8_t *b, size_t len)
{
	if (c->ssl != NULL) {
		/* Without blocking (the sends block, with their timeouts): a TLS record not
		 * whole yet says WANT_READ, and the caller polls and checks its deadlines. */
		int fl = fcntl(c->fd, F_GETFL), rc, e;
		size_t n = 0;

		if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
		rc = SSL_read_ex(c->ssl, b, len, &n);
		if (rc == 1) {  /* a record at a time: take what is buffered already too */
			size_t more = 0;
			while (n < len && SSL_has_pending(c->ssl) &&
			       SSL_read_ex(c->ssl, b + n, len - n, &more) == 1)
				n += more;
		}
		e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
		if (fcntl(c->fd, F_SETFL, fl) < 0)
			return -1;
		if (rc == 1)
			return (long)n;
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
		    (e == SSL_ERROR_SYSCALL && errno == EINTR))
			return -EAGAIN;
		return -1;
	}
	ssize_t r = recv(c->fd, b, len, MSG_DONTWAIT);
	if (r >= 0)
		return (long)r;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -1;
}

/* The child: one writer. Its exit status (WR_*). */
static int
write_one(struct serve *sv, int fd, const char *peer, const struct serve_peer *who)
{
	struct beltline_open_opts o = { .sz = sizeof(o) };
	struct timeval tv = { .tv_sec = PEER_TIMEOUT_S };
	struct conn *c = calloc(1, sizeof(*c));
	struct wconn x = { .c = c, .peer = peer, .quiet_since = bl_mono_ms() };
	uint8_t hb[BLN_HELLO_LEN], *rb = NULL;
	size_t rcap, rpos = 0, wpos = 0;
	int status = WR_FAIL, done = 0, rc, partial_tls = 0;
	char client[48];

	if (c == NULL)
		return WR_FAIL;
	c->fd = fd;
	if (sv->tls && tls_accept(sv, c, peer) < 0) {
		free(c);
		return WR_FAIL;
	}
	if (sv->tls)
		kids_authed(sv->kids);
	if (c->ssl != NULL)
		SSL_set_read_ahead(c->ssl, 1);  /* fewer receives: a writer sends many small records */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (serve_become(who, peer) < 0) {
		conn_free(c);
		return WR_FAIL;
	}
	snprintf(client, sizeof(client), "serve %s", peer);
	o.client = client;
	if ((rc = beltline_open_write(sv->src, &o, &x.w)) < 0) {
		say("refused %s: cannot write %s (the library said why)", peer, sv->src);
		conn_free(c);
		return rc == -EBUSY ? WR_BUSY : WR_FAIL;
	}
	if (beltline_getwritebuf(x.w, &x.buf, &x.room) < 0)   /* a fresh writer has buffers */
		goto out;
	x.have_buf = 1;
	struct bln_hello h = { .linktype = 1, .snaplen = x.room, .write = 1 };   /* Ethernet */
	bln_put_hello(hb, &h);
	rcap = 2u * (BLN_REC_HDR + x.room);     /* a record and a part of the next fit */
	rb = malloc(rcap);
	if (rb == NULL || conn_put(c, hb, sizeof(hb)) < 0 || conn_flush(c) < 0)
		goto gone;
	say("%s: writing into %s", peer, sv->src);
	while (!bl_cli_stopping() && !done) {
		for (;;) {      /* every whole record buffered */
			struct bln_rec r;
			const char *why = "";
			long took = bln_get_rec(rb + rpos, wpos - rpos, x.room, &r, &why);

			if (took == 0)
				break;
			if (took > 0 && r.type == BLN_REC_ACK)
				why = "an ack record (a writer sends packets, then an end)", took = -EPROTO;
			if (took > 0 && r.type == BLN_REC_PKT && r.caplen == 0)
				why = "an empty frame", took = -EPROTO;
			if (took > 0 && bln_seq_next(&r, x.have_last, &x.last, &x.lost, &why) < 0)
				took = -EPROTO;
			if (took < 0) {
				say("refused %s: malformed record after %llu frames: %s (max_frame %u): "
				    "closing", peer, (unsigned long long)x.frames, why, x.room);
				status = WR_MALFORMED;
				goto out;
			}
			rpos += (size_t)took;
			x.have_last = 1;
			if (r.type == BLN_REC_END) {
				done = 1;
				break;
			}
			rc = put_frame(&x, r.data, r.caplen);
			if (rc < 0) {
				if (rc != -EINTR)
					say("%s: writing into %s: %s: closing", peer, sv->src, rc == -EPIPE ?
					    "the stream is gone (the appliance stopped, or a reload removed it)" :
					    strerror(-rc));
				goto out;
			}
			if (++x.since_ack >= ACK_EVERY && send_ack(&x, 0) < 0)
				goto gone;
		}
		if (done)
			break;
		if (rpos > 0) {         /* keep the partial record at the front */
			memmove(rb, rb + rpos, wpos - rpos);
			wpos -= rpos;
			rpos = 0;
			x.part_since = 0;       /* what is left began with the last bytes */
		}
		if (wpos == 0)
			x.part_since = 0;
		else if (x.part_since == 0)
			x.part_since = bl_mono_ms();
		if (x.part_since != 0 && bl_mono_ms() - x.part_since >= (uint64_t)sv->stall_ms) {
			say("cut %s: a record not whole %d ms after its first byte (--stall-ms; %zu "
			    "bytes of it) after %llu frames: the writer's place is free again", peer,
			    sv->stall_ms, wpos, (unsigned long long)x.frames);
			status = WR_MALFORMED;
			goto out;
		}
		/* Bytes OpenSSL holds are read without a poll, unless they are only the start
		 * of a record (the last read said so): then the socket must bring the rest. */
		if (c->ssl == NULL || !SSL_has_pending(c->ssl) || partial_tls) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int pr = poll(&p, 1, ACK_IDLE_MS);

			if (pr == 0 && send_ack(&x, 0) < 0)
				goto gone;
			if (pr == 0 && idle_too_long(&x, sv->stall_ms)) {
				say("cut %s: sent nothing for %d ms (--stall-ms) after %llu frames, "
				    "all of them read by the appliance: the writer's place is free again",
				    peer, sv->stall_ms, (unsigned long long)x.frames);
				status = WR_OK;
				goto out;
			}
			if (pr <= 0)
				continue;
		}
		long got = peer_recv(c, rb + wpos, rcap - wpos);
		partial_tls = got == -EAGAIN;
		if (got == -EAGAIN && idle_too_long(&x, sv->stall_ms)) {
			/* bytes came, but no frame's: TLS records without plaintext, or a
			 * record's start, more often than the poll's 10 ms */
			say("cut %s: sent nothing for %d ms (--stall-ms) after %llu frames, "
			    "all of them read by the appliance: the writer's place is free again",
			    peer, sv->stall_ms, (unsigned long long)x.frames);
			status = WR_OK;
			goto out;
		}
		if (got == -EAGAIN)
			continue;
		if (got < 0)
			goto gone;
		if (got == 0) {
			if (wpos != 0) {
				say("refused %s: malformed: closed inside a record (%zu bytes of it) after "
				    "%llu frames", peer, wpos, (unsigned long long)x.frames);
				status = WR_MALFORMED;
			} else {
				say("%s: closed without an end record", peer);
				status = WR_OK;
			}
			goto out;
		}
		wpos += (size_t)got;
		x.quiet_since = bl_mono_ms();
	}
	if (done) {
		rc = beltline_write_flush(x.w, 10000);
		if (rc < 0)
			say("%s: the appliance did not read the last frames: %s", peer, strerror(-rc));
		(void)send_ack(&x, 1);
		if (c->ssl != NULL)
			SSL_shutdown(c->ssl);
		status = rc < 0 ? WR_FAIL : WR_OK;
	}
	goto out;
gone:
	say("%s: gone (or took no ack for %d s)", peer, PEER_TIMEOUT_S);
out:
	if (x.w != NULL) {
		struct beltline_write_stats st = { .sz = sizeof(st) };

		beltline_write_stats(x.w, &st);
		say("%s: done: %llu frames (%llu bytes) written into %s, %llu lost (sequence gaps), "
		    "%llu refused by the appliance", peer, (unsigned long long)x.frames,
		    (unsigned long long)x.bytes, sv->src, (unsigned long long)x.lost,
		    (unsigned long long)st.refused);
		beltline_write_close(x.w);
	}
	free(rb);
	conn_free(c);
	return status;
}

/* Children that have exited, counted by how they ended (WR_*). */
static void
reap(struct kids *ks, unsigned long long *malformed, unsigned long long *failed,
     unsigned long long *busy, unsigned long long *denied)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		const struct kid *k = kids_find(ks, pid);
		int authed = k != NULL && k->authed;

		if (!kids_gone(ks, pid))
			continue;       /* cut while pending: counted then */
		/* Ended in its TLS handshake: it refused the peer (and said why), as serve's
		 * readers count it; it counted as failed. */
		if (!authed && WIFEXITED(st) && WEXITSTATUS(st) == WR_FAIL)
			(*denied)++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == WR_MALFORMED)
			(*malformed)++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == WR_BUSY)
			(*busy)++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != WR_OK)
			(*failed)++;
	}
}

/* The authenticated writer other than pid (0: any), or NULL. */
static const struct kid *
writer_of(struct kids *ks, pid_t pid)
{
	for (int i = 0; i < ks->max; i++)
		if (ks->k[i].pid > 0 && ks->k[i].authed && ks->k[i].pid != pid)
			return &ks->k[i];
	return NULL;
}

/* A child through its TLS handshake is the writer, unless there is one (then it is cut). */
static void
take_authed(const struct serve *sv, struct kids *ks, unsigned long long *writers,
	    unsigned long long *busy)
{
	pid_t pid;

	while ((pid = kids_next_authed(ks)) > 0) {
		const struct kid *k = kids_find(ks, pid), *w = writer_of(ks, pid);
		if (w != NULL) {
			say("refused %s: %s is writing into %s (one writer at a time)", k->peer,
			    w->peer, sv->src);
			(*busy)++;
			kill(pid, SIGTERM);
			kids_gone(ks, pid);
		} else {
			(*writers)++;
		}
	}
}

int
bl_serve_write(struct serve *sv, int lfd)
{
	unsigned long long writers = 0, busy = 0, malformed = 0, failed = 0, denied = 0;
	struct kids ks;

	if (kids_init(&ks, 1) < 0)
		return 1;
	sv->kids = &ks;
	say("serving writes into %s, one writer at a time", sv->src);
	fflush(stderr);
	while (!bl_cli_stopping()) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = ks.pipe[0], .events = POLLIN } };
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		const struct kid *w;
		char peer[80];
		pid_t pid;
		int fd;

		reap(&ks, &malformed, &failed, &busy, &denied);
		take_authed(sv, &ks, &writers, &busy);
		if (poll(p, 2, 200) <= 0 || !(p[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		peer_name(&sa, peer, sizeof(peer));
		for (int t = 0; writer_of(&ks, 0) != NULL && t < 100; t += 5) {
			usleep(5000);   /* a writer that just ended is let go (100 ms) */
			reap(&ks, &malformed, &failed, &busy, &denied);
		}
		if ((w = writer_of(&ks, 0)) != NULL) {
			say("refused %s: %s is writing into %s (one writer at a time)", peer, w->peer,
			    sv->src);
			busy++;
			close(fd);
			continue;
		}
		struct serve_peer who;
		if (serve_peer_identify(fd, &sa, 0, &who, peer) < 0) {
			failed++;
			close(fd);
			continue;
		}
		conn_keepalive(fd);
		if (sv->tls) {
			take_authed(sv, &ks, &writers, &busy);   /* not cut as pending */
			failed += (unsigned long long)kids_make_room(&ks, peer);
		}
		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			int rc = write_one(sv, fd, peer, &who);
			SSL_CTX_free(sv->ctx);
			exit(rc);
		}
		if (pid > 0) {
			kids_add(&ks, pid, peer, !sv->tls);
			writers += !sv->tls;
		} else {
			say("refused %s: fork: %s", peer, strerror(errno));
		}
		close(fd);
	}
	kids_stop_all(&ks);
	kids_fini(&ks);
	say("stopped: %llu writers taken, %llu refused (one at a time), %llu refused in the TLS "
	    "handshake, %llu cut for malformed records, %llu failed", writers, busy, denied,
	    malformed, failed);
	return 0;
}
