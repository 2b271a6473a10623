/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline_priv — inside libbeltline-client: the stream object and its two
 * sources (a pcap file, a live IBuf), the log helper, the control client.
 * Not installed. Only beltline_* symbols are exported from the shared library
 * (the rest is built with hidden visibility).
 */
#ifndef BELTLINE_PRIV_H
#define BELTLINE_PRIV_H

#include <errno.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_dbuf_view.h"

#define BLC_MAX_DBUFS 16u      /* DBuf regions one stream may map */
#define BLC_MAX_BURST 256u     /* views one peek hands out */

/* Field f of an options struct, if the caller's sz covers it, else def. */
#define BLC_OPT(o, f, def) ((o) != NULL && \
	(o)->sz >= offsetof(__typeof__(*(o)), f) + sizeof((o)->f) ? (o)->f : (def))

/*
 * Options struct o (NULL: all defaults), whose first field is its size_t sz, as a
 * library that knows `known` bytes of it may take it: an older caller passes a
 * smaller struct; a newer one a bigger struct only if what we do not know is zero
 * (libbpf's rule). 1 if so, else 0.
 */
static inline int
blc_opts_ok(const void *o, size_t known)
{
	size_t sz;

	if (o == NULL)
		return 1;
	sz = *(const size_t *)o;
	if (sz < sizeof(size_t))
		return 0;
	for (size_t i = known; i < sz; i++)
		if (((const char *)o)[i] != 0)
			return 0;
	return 1;
}
#define BLC_OPTS_OK(o) blc_opts_ok((o), sizeof(*(o)))

/* Log one line through the user's callback (nothing if none). */
void blc_log(enum beltline_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A public call refused for its arguments (a NULL, a count of 0, a release with nothing
 * held): said through the log as every refusal is (beltline.h: the callback says why a
 * call failed), naming the call and what was wrong. -EINVAL. */
int blc_refuse(const char *fn, const char *why);
#define BLC_REFUSE_IF(cond, why) do { if (cond) return blc_refuse(__func__, (why)); } while (0)

/* The check every call taking beltline_open_opts makes first: 0, or -EINVAL said
 * through the log, naming what (the URI or instance). */
static inline int
blc_open_opts_check(const char *what, const struct beltline_open_opts *o)
{
	if (BLC_OPTS_OK(o))
		return 0;
	if (o->sz < sizeof(o->sz))   /* an unset sz: the usual slip */
		blc_log(BELTLINE_LOG_ERROR, "%s: bad beltline_open_opts: sz is %zu; set it to "
			"sizeof(struct beltline_open_opts)", what != NULL ? what : "(null)", o->sz);
	else
		blc_log(BELTLINE_LOG_ERROR, "%s: bad beltline_open_opts (sz %zu; fields past the "
			"%zu bytes this library knows must be 0)", what != NULL ? what : "(null)",
			o->sz, sizeof(*o));
	return -EINVAL;
}

/* A packet buffered from a file. */
struct blc_fpkt {
	uint8_t *buf;
	uint32_t bufsz;
	struct beltline_pkt v;
};

struct blc_file {
	void *pcap;                 /* pcap_t */
	struct blc_fpkt *q;         /* buffered packets, q[0] is the next one */
	unsigned nq, capq;
	uint64_t next_seq;          /* seq of the next packet pcap gives us */
	int eof;
	int err;                    /* at eof: 0 (a clean end) or the -errno that ended it,
	                             * said again by every peek once the queue is empty */
};

struct blc_dbuf {
	struct bl_shm *shm;
	struct bl_dbuf_view view;
};

struct blc_live {
	struct bl_ibuf_reader *r;
	struct blc_dbuf dbuf[BLC_MAX_DBUFS];
	unsigned n_dbufs;
	unsigned last_dbuf;         /* index of the last hit: packets come in runs */
	int ctl_fd;                 /* control connection: closing it detaches; -1 none */
	int wake_fd;                /* the appliance's wake channel (a socket we only read; an
	                             * eventfd from an appliance before 2026-12), or our own
	                             * 1 ms timerfd: drained by an empty look; what the
	                             * stream's epoll (s->poll_fd) watches with ctl_fd, self_fd */
	int self_fd;                /* our own eventfd, to make poll_fd readable ourselves
	                             * (live_again); made with poll_fd; -1 none */
	int own_timer;              /* the wake fd is our own 1 ms timerfd */
	int wake_eof;               /* the appliance closed its end of the wake channel */
	int signalled;              /* the last drain read the appliance's signal */
	int sleeper;                /* beltline_fd() was asked for: tell the appliance we wait */
	int waiting;                /* our page's wait is set (we found the ring empty) */
	unsigned self_woken;        /* 1: we made self_fd readable (live_again) */
	uint64_t held;              /* seq of the first view of the last peek not yet released */
	int check_failed;           /* a check of the last peek's views said overwritten */
	unsigned idle_pause;        /* busy poller: pauses after its next empty look (live_idle) */
	unsigned idle_looks;        /* busy poller: empty looks so far (hangup check every 64th) */
	int hung_up;                /* the appliance hung up, and that was logged (once: its last
	                             * word is read by the first look, so a second one would say
	                             * it left none) */
};

/* udp://: datagrams one receive refuses at most (counted in invalid) before it says
 * -EAGAIN, the rest left in the socket: a local flood cannot keep a peek (src_net.c). */
#define BLC_NET_REFUSED_MAX 64u

/* A stream from `beltline serve` (src_net.c; records as in net_frame.h). */
struct blc_net_q {
	uint32_t off;               /* packet bytes at buf + rpos + off */
	uint32_t size;              /* the whole record */
	struct beltline_pkt v;
};

struct blc_net {
	int fd;                     /* the socket: also the pollable fd */
	uint8_t *buf;               /* received bytes [rpos, wpos) */
	size_t rpos, wpos;
	struct blc_net_q q[BLC_MAX_BURST];  /* decoded, checked, not yet released */
	unsigned nq;
	size_t end_size;            /* an end record after the queue, consumed with it */
	struct { uint32_t linktype, snaplen; } hello;
	uint64_t last;              /* seq of the last record decoded */
	int have_last, end_seen, closed, err;
	long (*io_recv)(struct blc_net *n, void *buf, size_t len);   /* >0, 0 closed, -errno */
	long (*io_send)(struct blc_net *n, const void *buf, size_t len);  /* >0 or -errno */
	void (*io_close)(struct blc_net *n);
	void *tls;                  /* the TLS plug-in's connection */
	int udp;                    /* udp://: one record a datagram, from the server's address */
	int writer;                 /* a writer's connection (src_netw.c): the hello is BLNW */
	int hello_done;
	uint8_t peer[28];           /* udp://: the server's address (sockaddr_in or _in6) */
	struct sockaddr_storage src; /* udp://: where the hello came from (the child's
	                             * socket): every record must come from there */
	uint64_t cookie;            /* udp://: this open's subscribe cookie (net_frame.h) */
	uint32_t peerlen;
};

struct beltline_stream;

/*
 * What a kind of source does for the public calls of stream.c: one table per kind, set by
 * its open with the kind. NULL entries: check, every view is valid (1); read, a peek of
 * one, a copy and a release; stats and info, the common fields only; fd_asked, nothing.
 */
struct blc_src_ops {
	int (*peek)(struct beltline_stream *s, struct beltline_pkt *v, unsigned n);
	int (*release)(struct beltline_stream *s, unsigned n);
	void (*close)(struct beltline_stream *s);
	int (*check)(struct beltline_stream *s, uint64_t seq);
	int (*read)(struct beltline_stream *s, void *buf, size_t size, struct beltline_pkt_info *info);
	void (*stats)(const struct beltline_stream *s, struct beltline_stats *st);
	void (*info)(const struct beltline_stream *s, struct beltline_info *info);
	/* beltline_fd was called: s->poll_fd is then what it returns. 0 or -errno. */
	int (*fd_asked)(struct beltline_stream *s);
};

struct beltline_stream {
	int kind;                   /* enum beltline_kind */
	const struct blc_src_ops *ops;  /* the kind's calls (src_file.c, src_live.c, src_net.c) */
	int poll_fd;                /* what beltline_fd returns (owned); -1: none (yet) */
	int linktype;
	uint32_t snaplen;
	char content[16];           /* beltline_info's: "packets", "flows", "tcp"; "": not said */
	unsigned peeked;            /* views handed out by the last peek */
	struct beltline_stats st;
	char name[256];
	union {
		struct blc_file f;
		struct blc_live l;
		struct blc_net n;
	};
};

/* Free s: its source's close (which closes what the source holds), its poll fd, itself.
 * beltline_close, and a source's open that failed half way. */
static inline void
blc_stream_free(struct beltline_stream *s)
{
	s->ops->close(s);
	if (s->poll_fd >= 0)
		close(s->poll_fd);
	free(s);
}

/* Sources: each open sets s->kind and s->ops. */
extern const struct blc_src_ops blc_file_ops, blc_live_ops, blc_net_ops;
int blc_file_open(struct beltline_stream *s, const char *path);

int blc_net_open(struct beltline_stream *s, const char *uri, const struct beltline_open_opts *o);
int beltline__open_net(const char *uri, const struct beltline_open_opts *o,
	struct beltline_stream **out);
/* The connection of a writer to `beltline serve --write` (tcp://, tls://): the hello
 * read (s->snaplen is the largest frame the server takes); src_netw.c does the rest. */
int blc_net_open_writer(const char *uri, const struct beltline_open_opts *o,
	struct beltline_stream **out);
struct blc_netw;
int blc_netw_open(const char *uri, const struct beltline_open_opts *o, struct blc_netw **out);
int blc_netw_getbuf(struct blc_netw *w, void **buf, uint32_t *room);
int blc_netw_sock(const struct blc_netw *w);     /* the connection's socket, to poll */
int blc_netw_commit(struct blc_netw *w, void *buf, uint32_t len);
int blc_netw_flush(struct blc_netw *w, int timeout_ms);
void blc_netw_stats(struct blc_netw *w, uint64_t *committed, uint64_t *consumed,
	uint64_t *refused, uint64_t *full);
void blc_netw_close(struct blc_netw *w);
/* Close a connection this side refused after sending why (a TLS alert) so that the peer
 * reads it: our FIN first, then what the peer had sent is read and dropped until its FIN
 * or 200 ms (a close with unread bytes sends a reset, which can overtake the alert: the
 * peer saw "connection reset" instead of a refusal). */
void blc_net_close_refused(int fd);
/* Connect (non-blocking, within timeout_ms) to host:port (type SOCK_STREAM: TCP_NODELAY
 * set). The fd or -errno (logged). */
int blc_net_connect(const char *uri, const char *host, const char *port, int type,
	int timeout_ms);
/* Said after a TLS read's -ECONNREFUSED: the server's alert refused our certificate. */
#define BLC_TLS_REFUSED_HINT " (the server refused our certificate, or its absence: " \
	"BELTLINE_TLS_CERT and BELTLINE_TLS_KEY, signed by its CA; its log says)"

/* Put TLS (mutual, certificates from o or the environment) on s->n.fd: the plug-in
 * libbeltline-client-tls, loaded on first use (net_tls.c). 0 or -errno. */
int blc_tls_client(struct beltline_stream *s, const char *host, const struct beltline_open_opts *o,
	int timeout_ms);
/* The same for an endpoint (src_ep_net.c): a TLS client (server 0: checks host) or server
 * (server 1: requires a client certificate ca signed) on fd, within timeout_ms. The
 * connection, or NULL with *err and why in msg (a server: msg is the client's subject
 * on success). blc_tls_opt: v, else $env, else NULL. */
void *blc_tls_open(const char *name, int fd, int server, const char *host, const char *cert,
	const char *key, const char *ca, int timeout_ms, int *err, char *msg, size_t msgsz);
long blc_tls_recv(void *conn, void *buf, size_t len);
long blc_tls_send(void *conn, const void *buf, size_t len);
void blc_tls_free(void *conn);
const char *blc_tls_opt(const char *v, const char *env);
/* Load the plug-in now (logged if it cannot be): 1, or 0. */
int blc_tls_loaded(const char *name);

/* What the control plane hands a reader (docs/control.md, "attach"). */
struct beltline__live_fds {
	int ring_fd;                /* IBuf region, read-only (borrowed: dup'ed) */
	int page_fd;                /* this reader's page, read-write (borrowed) */
	int mrp_fd;                 /* MRP page, read-write; -1 unless MRP (borrowed) */
	unsigned idx;               /* reader page index */
	int wake_fd;                /* the appliance's wake channel; -1: a 1 ms timer (owned) */
	int ctl_fd;                 /* control connection; -1: none (owned) */
	unsigned n_dbufs;
	const int *dbuf_fds;        /* DBuf regions, read-only (borrowed) */
	const char *name;           /* for logs and beltline_info */
	int linktype;               /* 0: Ethernet */
	char content[16];           /* the attach reply's "content"; "": not said */
};

/* Build a live stream from descriptors: the zero-copy path without a socket
 * (tests), and what beltline_open does after an attach. 0 or -errno. On failure
 * the owned fds are closed too. */
int beltline__open_live_fds(const struct beltline__live_fds *f, struct beltline_stream **out);

/* beltline_open of beltline://INSTANCE/STREAM (ctl.c): the attach over the instance's
 * control socket (inst, ilen: the instance's name in uri), then the stream from its
 * descriptors. 0 or -errno, said through the log callback. */
int beltline__open_uri_live(const char *uri, const char *inst, size_t ilen, const char *stream,
	const struct beltline_open_opts *o, struct beltline_stream **out);

/* Control client internals: connect, one call with descriptors back. */
/* One record (of at most size bytes) from the SOCK_SEQPACKET socket fd, waiting up to
 * timeout_ms: its length (0 at EOF), -ETIMEDOUT, or -errno (-EINTR too: the caller
 * decides whether a signal ends its wait). Descriptors that came with it go to fds[*got]
 * while *got < max_fds (fds may be NULL), the rest are closed: *got counts on from the
 * caller's value. *msg_flags: recvmsg's (MSG_TRUNC, MSG_CTRUNC: the record or its
 * descriptors were cut). */
ssize_t blc_recv_fds(int fd, int timeout_ms, void *buf, size_t size, int *fds, unsigned max_fds,
	unsigned *got, int *msg_flags);
/* Close fds[0..n), those >= 0. */
void blc_close_fds(int *fds, unsigned n);
/* The appliance hung up on a lease's connection fd: log, as a warning, "NAME: the appliance
 * closed the control connection: WHAT", and its last word, a notice, if it left one (why:
 * "stream removed" when a reload dropped the stream, "the appliance stopped"), or that it
 * left none (its process ended: killed, or it crashed). */
void blc_ctl_log_hangup(int fd, const char *name, const char *what);
int blc_live_hung_up(struct beltline_stream *s, const char *what);
int blc_ctl_connect(const char *instance, const struct beltline_open_opts *o, int *fd_out);
int blc_ctl_call_fd(int fd, int timeout_ms, unsigned op, const char *body, char **reply,
	int *fds, unsigned max_fds, unsigned *n_fds);
/* An attach_verdict's extras: the vring and vtail descriptors (the caller's to close) and
 * the vring's capacity. */
struct blc_attach_extra {
	int vfd[2];
	uint32_t vcap;
};

/* Attach to beltline://INSTANCE/STREAM as a reader (x NULL) or as a user filter's verdict
 * client (x: its extras). 0 or -errno. */
int blc_open_attach(const char *uri, const char *inst, size_t ilen, const char *stream,
	const struct beltline_open_opts *o, struct blc_attach_extra *x, struct beltline_stream **out);
const char *blc_run_dir(const struct beltline_open_opts *o);
int blc_timeout(const struct beltline_open_opts *o);

#endif /* BELTLINE_PRIV_H */
