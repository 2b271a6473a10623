/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline.h — libbeltline-client: read Beltline streams (and pcap files) from
 * any process. The one installed header: no DPDK, no internal header.
 *
 *   struct beltline_stream *s;
 *   struct beltline_pkt v[32];
 *   int n;
 *
 *   if (beltline_open("beltline://default/web", NULL, &s) < 0)  // or "capture.pcap"
 *           ...;
 *   for (;;) {
 *           n = beltline_peek(s, v, 32);       // zero-copy views, does not advance
 *           if (n == -EAGAIN) { poll beltline_fd(s) ...; continue; }
 *           if (n <= 0) break;                 // 0: end of stream, <0: error
 *           for (i = 0; i < n; i++) {
 *                   use(v[i].data, v[i].caplen);
 *                   if (beltline_check(s, v[i].seq) != 1)
 *                           forget what use() concluded: the bytes were overwritten;
 *           }
 *           beltline_release(s, n);            // give them back
 *   }
 *   beltline_close(s);
 *
 * Conventions (libbpf's): opaque types; options structs begin with their own
 * size (set .sz = sizeof(struct ...); a NULL options pointer means defaults);
 * every call returns 0 or a negative errno unless it says otherwise;
 * constructors fill an out-parameter; the library never prints: give it a log
 * callback with beltline_set_log() to hear why a call failed.
 *
 * Threads: a stream belongs to one thread at a time. beltline_set_log is global.
 * Processes: after fork() every handle (stream, writer, verdict client, endpoint,
 * listener, control connection) stays the parent's. The child must not call the library
 * on it, close included: it shares the parent's position and lease, so it would read,
 * release or give in the parent's place (the appliance cannot tell them apart); its
 * copies of the descriptors go at exec (all are close-on-exec) or exit.
 * A handle closed is freed: closing it again, or any call on it, is a use after free.
 */
#ifndef BELTLINE_H
#define BELTLINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BELTLINE_API __attribute__((visibility("default")))
#else
#define BELTLINE_API
#endif

/* ---- logging ---- */

enum beltline_log_level {
	BELTLINE_LOG_ERROR = 0,
	BELTLINE_LOG_WARN  = 1,
	BELTLINE_LOG_INFO  = 2,
	BELTLINE_LOG_DEBUG = 3,
};

/* msg is one line without a trailing newline, e.g.
 * "beltline://lab/web: no instance 'lab' (no control socket at /run/beltline/lab/ctl)". */
typedef void (*beltline_log_fn)(enum beltline_log_level level, const char *msg, void *ctx);

/* Install a log callback (NULL: silent, the default). Returns the previous one. */
BELTLINE_API beltline_log_fn beltline_set_log(beltline_log_fn cb, void *ctx);

/* ---- streams ---- */

struct beltline_stream;

/* The default control reply timeout: long enough for an appliance on a busy
 * machine (its main lcore shares a core with everything else), short enough to
 * notice one that is stuck. */
#define BELTLINE_CTL_TIMEOUT_MS 10000

struct beltline_open_opts {
	size_t sz;              /* sizeof(struct beltline_open_opts) */
	const char *run_dir;    /* where instances live; NULL: $BELTLINE_RUN_DIR, else /run/beltline */
	int timeout_ms;         /* control socket reply timeout; tcp/udp/tls: connect, handshake
	                         * and hello timeout; 0: $BELTLINE_TIMEOUT_MS (1..3600000),
	                         * else BELTLINE_CTL_TIMEOUT_MS */
	const char *client;     /* a name for this client in the appliance's stats; NULL: program name */
	const char *policy;     /* live: read with "srp", "mrp" or "frp" (NULL: the stream's). A
	                         * reader may be looser than its stream, never stricter: an srp
	                         * stream takes all three, an mrp stream mrp and frp readers */
	const char *tls_ca;     /* tls://: the CA the server's certificate must chain to (PEM);
	                         * NULL: $BELTLINE_TLS_CA. Required for tls:// */
	const char *tls_cert;   /* tls://: our certificate (PEM), shown to the server (beltline
	                         * serve requires one its CA signed); NULL: $BELTLINE_TLS_CERT */
	const char *tls_key;    /* tls://: the key of tls_cert (PEM); NULL: $BELTLINE_TLS_KEY */
};

/* One packet, zero-copy. data stays valid until beltline_release() or
 * beltline_close(); for a live stream its bytes may be overwritten by the
 * appliance meanwhile (FRP and MRP streams): beltline_check(seq) after use says
 * whether what you read was still that packet. */
struct beltline_pkt {
	const void *data;       /* caplen bytes */
	uint32_t caplen;        /* bytes at data */
	uint32_t len;           /* length on the wire (>= caplen) */
	uint64_t seq;           /* position in the stream: for beltline_check */
	uint64_t ts_ns;         /* capture time, ns since the epoch; 0 when not known */
	uint16_t cls;           /* class the appliance's graph gave the packet; 0 for files */
	uint16_t flags;         /* BELTLINE_PKT_F_* */
	uint32_t pad;
};
#define BELTLINE_PKT_F_TS 0x1u  /* ts_ns is set */

/* Metadata of a packet copied out by beltline_read. */
struct beltline_pkt_info {
	uint32_t caplen;        /* bytes of the packet (may exceed the copy: see truncated) */
	uint32_t len;           /* length on the wire */
	uint32_t copied;        /* bytes copied into buf: min(caplen, size) */
	uint16_t cls;
	uint16_t flags;         /* BELTLINE_PKT_F_* */
	uint64_t seq;
	uint64_t ts_ns;
};

/*
 * Open a stream by URI (late binding, as in CamIO):
 *   beltline://INSTANCE/STREAM   a stream the appliance instance INSTANCE exports
 *                                (control socket RUN_DIR/INSTANCE/ctl, docs/control.md)
 *   file:PATH, or a plain PATH   a pcap or pcapng file, read with the same calls
 *   tcp://HOST:PORT              a stream `beltline serve` relays (docs/clients.md,
 *   udp://HOST:PORT              "Transports"); a gap in its sequence numbers is
 *   tls://HOST:PORT              counted in beltline_stats.lost. tls:// loads the
 *                                plug-in libbeltline-client-tls and needs tls_ca
 * INSTANCE is 1..31 characters of [A-Za-z0-9_-]; STREAM 1..47 of [A-Za-z0-9_.-], not
 * "." or ".."; HOST a name, an IPv4 address or [IPv6], PORT 0..65535.
 * 0 or -EINVAL (bad URI, opts, unreadable certificate files), -ENOENT (no such file,
 * no instance running, no such stream, host not resolved), -EACCES (refused; tls://:
 * the server's certificate did not verify), -ECONNREFUSED (nothing listens; tls://:
 * the server refused our certificate), -ETIMEDOUT (no hello or handshake within
 * timeout_ms), -ENOTSUP (tls:// without the plug-in), -EPROTO (peer spoke nonsense),
 * -ENOMEM, ...
 * Over tcp://, udp://, tls:// a peek may move the receive buffer: views of an earlier
 * peek that were not released are invalid after the next peek; peek and read return
 * -EPROTO (with a log line) once the peer sent a malformed record.
 */
BELTLINE_API int beltline_open(const char *uri, const struct beltline_open_opts *opts,
	struct beltline_stream **out);

/* Detach and free. NULL is fine. */
BELTLINE_API void beltline_close(struct beltline_stream *s);

/*
 * Zero-copy views of up to n next packets, from the current position; does not
 * advance (peeking again shows the same packets, perhaps more). Returns the
 * number of views (>0), 0 at the end of the stream (end of file; the appliance
 * went away), -EAGAIN when nothing is there yet (live), or a negative errno.
 * Entries that do not resolve inside a mapped DBuf are skipped and counted
 * (beltline_stats.invalid), never dereferenced.
 * A busy poller (beltline_fd never asked for) that finds a live stream empty
 * pauses up to about a microsecond before -EAGAIN, longer while it stays empty,
 * so it does not pull the appliance's ring head once per burst; it notices a
 * hangup within 64 empty peeks.
 */
BELTLINE_API int beltline_peek(struct beltline_stream *s, struct beltline_pkt *views, unsigned n);

/* After using the packet seq: 1 if it cannot have been overwritten meanwhile,
 * 0 if it may have been (counted in lost), or a negative errno. Always 1 for files
 * and network streams. */
BELTLINE_API int beltline_check(struct beltline_stream *s, uint64_t seq);

/* Give back the first n packets of the last peek not yet given back (their views
 * become invalid) and advance past them: several releases may follow one peek.
 * 0 or a negative errno (-EINVAL: more than the peek left held). */
BELTLINE_API int beltline_release(struct beltline_stream *s, unsigned n);

/*
 * Copying read of the next packet, always consistent: copies, then checks; a
 * packet overwritten during the copy is counted as lost and the next one tried.
 * Returns 1 (a packet; info filled), 0 at the end of the stream, -EAGAIN (live,
 * nothing yet) or a negative errno. Views of an earlier peek that were not
 * released become invalid; read starts at the first of them (nothing is skipped).
 */
BELTLINE_API int beltline_read(struct beltline_stream *s, void *buf, size_t size,
	struct beltline_pkt_info *info);

/* A descriptor to poll (POLLIN) or put in epoll: readable when packets may be
 * there, and at the end of the stream (the next peek or read then returns 0).
 * Files: always readable. tcp://, udp://, tls://: the socket (a peek that
 * returns -EAGAIN has read all it had, but for udp:// after refusing 64 datagrams
 * in one call: then the rest is left in it, readable; with EPOLLET, peek again while
 * beltline_stats.invalid grows by 64 a call). Live: an epoll descriptor of the stream's
 * own, readable when the appliance signals its wake channel, with the stream's
 * moderation (wake_count entries waiting, or wake_us after the first) once a peek or
 * read has found the stream empty (or every 1 ms when the appliance gave no wake channel),
 * and when the appliance closes the stream's control connection: it died, or a reload
 * removed the stream. So a caller may sleep on it with no timeout. Asking for it is
 * what makes this reader a sleeper: a reader that never calls beltline_fd() busy-polls
 * and costs the appliance no wakeups. The same descriptor on every call, for the
 * stream's life; owned by the stream: do not close it. A negative errno if s is NULL,
 * or (live, the first call) if the descriptor cannot be made (-EMFILE, -ENOMEM): the
 * reader then stays a busy poller and a later call tries again. */
BELTLINE_API int beltline_fd(const struct beltline_stream *s);

struct beltline_stats {
	size_t sz;              /* sizeof(struct beltline_stats), set by the caller */
	uint64_t received;      /* packets released or read */
	uint64_t lost;          /* packets lost to laps and to failed checks/copies */
	uint64_t laps;          /* times this reader was lapped */
	uint64_t invalid;       /* entries skipped because they point outside every DBuf */
	uint64_t wakeups;       /* times the pollable fd had fired when drained */
};

/* Fill st (as much as st->sz allows). 0 or -EINVAL. */
BELTLINE_API int beltline_stats(const struct beltline_stream *s, struct beltline_stats *st);

enum beltline_kind { BELTLINE_KIND_FILE = 1, BELTLINE_KIND_LIVE = 2, BELTLINE_KIND_NET = 3 };

struct beltline_info {
	size_t sz;              /* sizeof(struct beltline_info), set by the caller */
	int kind;               /* enum beltline_kind */
	int linktype;           /* pcap LINKTYPE_ of the packets (1: Ethernet) */
	uint32_t snaplen;       /* largest caplen to expect */
	uint32_t capacity;      /* live: ring slots; files: 0 */
	char policy[8];         /* live: "srp", "mrp", "frp", "block"; files: "" */
	char name[64];          /* the URI or path it was opened by (truncated) */
	char content[16];       /* what its entries are (since 2026-12): "packets"; "flows", flow
	                         * records (flow export=); "tcp", tcpstream's records and
	                         * payload; "" not said (an older appliance, a network stream) */
};

/* 0 or -EINVAL. */
BELTLINE_API int beltline_info(const struct beltline_stream *s, struct beltline_info *info);

/* ---- writing: inject streams (docs/clients.md, "Writing") ----
 *
 *   struct beltline_writer *w;
 *   void *buf;
 *   uint32_t room;
 *
 *   if (beltline_open_write("beltline://default/replay", NULL, &w) < 0) ...;
 *   while (have a frame) {
 *           int rc = beltline_getwritebuf(w, &buf, &room);   // room: max_frame bytes
 *           if (rc == -EAGAIN) {                             // every buffer is committed:
 *                   poll beltline_write_fd(w) for POLLIN ...;  // sleep till half come back
 *                   continue;                                // (or spin: call again)
 *           }
 *           if (rc < 0) break;                               // -EPIPE: the appliance is gone
 *           memcpy(buf, frame, len);                         // len <= room
 *           beltline_commit(w, buf, len);                    // the appliance may read it now
 *   }
 *   beltline_write_flush(w, 1000);                           // wait until all is read
 *   beltline_write_close(w);
 *
 * FABLE's shape: a buffer is single use, got, filled, committed, in that order;
 * once committed it is the appliance's until it has copied the frame out, and
 * the library hands a buffer out only then. Buffers are committed in the order
 * they were got. One writer per stream: a second is refused (-EBUSY) with the
 * first one's pid. The control connection is the lease: close it (or die) and
 * the appliance reclaims the buffers; frames committed and not yet read are lost.
 *
 * Over the network (tcp://HOST:PORT, tls://HOST:PORT: `beltline serve --write NAME`
 * on HOST writes into its inject stream NAME) the same calls work: room is the
 * stream's max_frame, a committed frame is sent at once (as much as the socket
 * takes; -EAGAIN from getwritebuf while the socket is full), flush waits for the
 * server's acknowledgement that its appliance read every frame, and the stats are
 * the server's figures. -EPIPE: the server closed the connection (its log says
 * why). tls:// takes its certificates as beltline_open does (tls_* options).
 */
struct beltline_writer;

/* Open an inject stream (beltline://INSTANCE/STREAM; the graph's `inject name=STREAM`)
 * for writing, or a `beltline serve --write` (tcp://, tls://). 0, or -EINVAL (bad
 * URI), -ENOENT (no instance, no such inject stream), -EACCES (no write permission),
 * -EBUSY (it has a writer), -EPROTO (not a --write server), -ECONNRESET (the server
 * refused us: its log says why), -ETIMEDOUT, ... */
BELTLINE_API int beltline_open_write(const char *uri, const struct beltline_open_opts *opts,
	struct beltline_writer **out);

/* The next buffer to fill: *buf, and its size in *room (the stream's max_frame).
 * -EAGAIN when every buffer is committed and not yet read; -EPIPE when the
 * appliance has ended the lease (a stop, a reload that removed the stream: at
 * once) or has gone (killed: seen once every buffer is committed and none comes
 * back); -EDEADLK when every buffer is got and none of them committed (no wait can
 * give one back: commit first; said in the log). Getting several before committing is
 * fine. */
BELTLINE_API int beltline_getwritebuf(struct beltline_writer *w, void **buf, uint32_t *room);

/* Commit len (1..room) bytes of buf, the oldest buffer got and not committed.
 * -EINVAL for any other buffer (one never got, or committed already) or length. */
BELTLINE_API int beltline_commit(struct beltline_writer *w, void *buf, uint32_t len);

/* A descriptor to poll (POLLIN) after getwritebuf said -EAGAIN (asked for then, or
 * before): readable once half the buffers are back (sooner if fewer were out), or the
 * lease ended (getwritebuf then says -EPIPE), or, over tcp:// and tls://, once the
 * socket takes more or brings acks. Poll it only after an -EAGAIN and until the next
 * buffer is got: it is not meant to stay in a poll set (over the network it is
 * readable whenever the socket has room). Asking for it makes getwritebuf, at -EAGAIN,
 * tell the appliance to signal (a few system calls per -EAGAIN); a writer that never
 * asks busy-polls at no cost. Kept for the writer's life, closed by
 * beltline_write_close. An appliance from before this call gives no signal: the fd is
 * then a 1 ms timer, armed at each -EAGAIN. The fd, or -errno (a later call tries
 * again). */
BELTLINE_API int beltline_write_fd(struct beltline_writer *w);

/* Wait until the appliance has read every committed frame: 0, -ETIMEDOUT, -EPIPE.
 * Sleeps on the appliance's signal (no polling). */
BELTLINE_API int beltline_write_flush(struct beltline_writer *w, int timeout_ms);

/* Give up the stream (the appliance reclaims the buffers). NULL is fine. */
BELTLINE_API void beltline_write_close(struct beltline_writer *w);

struct beltline_write_stats {
	size_t sz;              /* sizeof(struct beltline_write_stats), set by the caller */
	uint64_t committed;     /* frames committed */
	uint64_t consumed;      /* of them, read by the appliance (accepted or refused) */
	uint64_t refused;       /* of them, refused by the appliance's checks */
	uint64_t full;          /* getwritebuf calls that found every buffer committed */
	uint64_t wakeups;       /* sleeps (beltline_write_fd, flush) the appliance's signal ended */
};

/* Fill st (as much as st->sz allows). 0 or -EINVAL. */
BELTLINE_API int beltline_write_stats(const struct beltline_writer *w, struct beltline_write_stats *st);

/* ---- verdicts: a client in the loop (the `user` filter; docs/clients.md, "Verdicts") ----
 *
 *   struct beltline_user *u;
 *   struct beltline_pkt p[64];
 *   struct beltline_class c[64];
 *
 *   if (beltline_open_user("beltline://default/ips", NULL, &u) < 0) ...;
 *   for (;;) {
 *           int n = beltline_take(u, p, 64);           // zero-copy views, in arrival order
 *           if (n == -EAGAIN) { poll beltline_user_fd(u) ...; continue; }
 *           if (n <= 0) break;                         // 0: the appliance went away
 *           for (i = 0; i < n; i++) {
 *                   c[i].seq = p[i].seq;
 *                   c[i].cls = looks_bad(p[i].data, p[i].caplen) ? 0 : p[i].cls;
 *           }
 *           for (done = 0; done < n; )                  // -EAGAIN: the ring is full
 *                   done += max(0, beltline_give(u, c + done, n - done));
 *   }
 *   beltline_user_close(u);
 *
 * The appliance holds each packet it shows until the client gives its class (0 drops it,
 * any other class routes it on the filter's out-edges by label), or until the filter's
 * timeout_us: then its on_timeout decides. Packets leave in arrival order, so give classes
 * promptly, in any order. A view's bytes stay valid while the appliance holds the packet
 * (until its class is given or its time is up); the packet is read-only. One verdict client
 * per filter; the control connection is the lease: close it (or die) and on_timeout decides
 * what it held.
 */
struct beltline_user;

/* A packet's class, for beltline_give. */
struct beltline_class {
	uint64_t seq;           /* the packet's beltline_pkt.seq */
	uint32_t cls;           /* 0: drop; 1..BELTLINE_CLASS_MAX: route by label */
	uint32_t pad;           /* 0 */
};
#define BELTLINE_CLASS_MAX 65535u

/* Attach to a user filter (beltline://INSTANCE/NAME; the graph's `user name=NAME`) as its
 * verdict client. 0, or -EINVAL (bad URI), -ENOENT (no instance, no such user filter),
 * -EACCES (read and write permission are needed), -EBUSY (it has a client), -EPROTO, ... */
BELTLINE_API int beltline_open_user(const char *uri, const struct beltline_open_opts *opts,
	struct beltline_user **out);

/* Up to n next packets the appliance holds for a class, as zero-copy views (seq, data,
 * caplen, cls: the class the packet came with). Returns how many (>0), -EAGAIN when none is
 * waiting, 0 when the appliance went away, or a negative errno. Each is taken once. */
BELTLINE_API int beltline_take(struct beltline_user *u, struct beltline_pkt *pkts, unsigned n);

/* Give the classes of n taken packets. Returns how many were given (the first k), or -EAGAIN
 * when the ring is full (the appliance has not read the ones before yet), -EPIPE when it
 * is full because the appliance went away (it reads no more: stop), -EINVAL. */
BELTLINE_API int beltline_give(struct beltline_user *u, const struct beltline_class *c,
	unsigned n);

/* Wait until the appliance has read every class given: 0, -ETIMEDOUT, -EPIPE (it went
 * away). (Closing before that leaves the classes not yet read to on_timeout.) */
BELTLINE_API int beltline_user_flush(struct beltline_user *u, int timeout_ms);

/* A descriptor to poll (POLLIN) for packets to take, as beltline_fd: readable too when the
 * appliance went away (beltline_take then returns 0). Owned by u. */
BELTLINE_API int beltline_user_fd(const struct beltline_user *u);

/* Detach and free (the appliance decides what was held with on_timeout). NULL is fine. */
BELTLINE_API void beltline_user_close(struct beltline_user *u);

struct beltline_user_stats {
	size_t sz;              /* sizeof(struct beltline_user_stats), set by the caller */
	uint64_t taken;         /* packets taken */
	uint64_t given;         /* classes given */
	uint64_t ignored;       /* of them, ignored by the appliance (late, twice, unknown) */
	uint64_t full;          /* beltline_give calls that found the ring full */
	uint64_t lost;          /* packets decided before they could be taken (the reader lapped) */
	uint64_t invalid;       /* entries skipped because they point outside every DBuf (never
	                         * taken: on_timeout decides them; since 2026-12) */
};

/* Fill st (as much as st->sz allows). 0 or -EINVAL. */
BELTLINE_API int beltline_user_stats(const struct beltline_user *u, struct beltline_user_stats *st);

/* ---- endpoints: client to client (docs/clients.md, "Endpoints") ----
 *
 * A process registers a named endpoint with a running appliance and accepts
 * connections; another connects. The appliance checks the connecting process
 * (owner, group, mode, as for a file: connecting needs read and write permission),
 * sets up a ring pair (one per direction, in shared memory each side alone can
 * write) and leaves: messages go between the two processes directly, never
 * dropped (a sender waits for room), in order.
 *
 *   // listener                                  // connector
 *   beltline_ep_listen("beltline://default/ep/echo", NULL, &l);
 *   beltline_ep_accept(l, -1, &ep);              beltline_ep_connect("beltline://default/ep/echo", NULL, &ep);
 *
 *   // either side, sending                      // either side, receiving
 *   beltline_ep_getwritebuf(ep, len, &buf, -1);  n = beltline_ep_getreadbuf(ep, &rbuf, &rlen, -1);
 *   memcpy(buf, msg, len);                       if (n == 0) the peer closed or died; if (n < 0) error
 *   beltline_ep_commit(ep, buf, len);            use(rbuf, rlen); beltline_ep_release(ep, rbuf);
 *
 * FABLE's buffers: single use, owned by one side at a time. A write buffer is the
 * caller's from getwritebuf to commit, then the peer's; a read buffer is the
 * caller's from getreadbuf to release, then the sender's again. Several may be
 * outstanding; they are committed (released) in the order they were got.
 * A blocking call (timeout_ms < 0, or > 0 for at most that long) spins for
 * spin_us, then sleeps on beltline_ep_fd(), which the peer signals (a write that
 * found no room, once half of what the peer held is released or the peer has nothing
 * left to read: 1 ms at most, then at any release). With
 * timeout_ms 0 a call never waits: on -EAGAIN, poll beltline_ep_fd() for POLLIN
 * (with your own sockets: FABLE's xpoll) and call again. The peer closing or
 * dying makes the fd readable and every call return at once: a read gives what
 * was committed before, then 0; a write -EPIPE. Every byte the peer writes is
 * checked: garbage breaks the pair with -EPROTO, never a crash.
 * Threads: an endpoint belongs to one thread at a time.
 *
 * Over the network (docs/clients.md, "Endpoints over the network") the same calls take
 * tcp://HOST:PORT and tls://HOST:PORT: beltline_ep_listen listens there (tcp:// on a
 * loopback address only; anywhere else tls://, with a CA every client's certificate
 * must chain to: mutual TLS), beltline_ep_connect connects. No appliance is involved.
 * Messages go as records with sequence numbers (client/net_frame.h, magic BLNE); TCP's
 * flow control makes a sender wait, nothing is dropped. A committed message is sent
 * at once, as far as the socket takes it; what it does not take is sent by the next
 * call on the endpoint, or when beltline_ep_fd() shows it writable (it polls for that
 * while anything is unsent). A gap, a repeat or a malformed record from the peer is
 * -EPROTO with a log line naming the peer. Messages read and not released hold receive
 * space: holding more than slots messages, or more than about dbuf_bytes, gives
 * -ENOBUFS (release some). peer_pid is 0.
 */
struct beltline_ep_listener;
struct beltline_ep;

struct beltline_ep_opts {
	size_t sz;              /* sizeof(struct beltline_ep_opts) */
	const char *run_dir;    /* as beltline_open_opts */
	int timeout_ms;         /* control replies, and the pair's set-up; 0: as
	                         * beltline_open_opts (BELTLINE_CTL_TIMEOUT_MS) */
	const char *mode;       /* listen: who may connect, octal ("0660"); NULL: "0600" */
	const char *group;      /* listen: the endpoint's group (a name or number, one of
	                         * the caller's groups); NULL: the caller's */
	uint32_t slots;         /* listen: messages in flight per direction, a power of two
	                         * 16..65536; 0: 1024 */
	uint32_t dbuf_bytes;    /* listen: data bytes per direction, a multiple of 4096 in
	                         * 64 KiB..256 MiB; 0: 4 MiB */
	uint32_t max_msg;       /* listen: largest message, 1..dbuf_bytes/2; 0: 64 KiB */
	int spin_us;            /* blocking calls spin this long before they sleep; 0: 50;
	                         * < 0: sleep at once (and the peer's commits and releases keep
	                         * a fence each: docs/clients.md, "Waiting");
	                         * BELTLINE_EP_SPIN_FOREVER: never sleep
	                         * (tcp://, tls://: ignored, a blocking call sleeps in poll) */
	const char *tls_ca;     /* tls://: connect: the CA the listener's certificate must chain
	                         * to; listen: the CA that must have signed every client's
	                         * certificate. NULL: $BELTLINE_TLS_CA. Required for tls:// */
	const char *tls_cert;   /* tls://: our certificate (PEM; listen: required, connect: what
	                         * the listener requires); NULL: $BELTLINE_TLS_CERT */
	const char *tls_key;    /* tls://: the key of tls_cert (PEM); NULL: $BELTLINE_TLS_KEY */
	const char *peer_user;  /* beltline:// connect: the user (a name or a number) the
	                         * listener must run as, as the appliance saw it (SO_PEERCRED
	                         * when it registered): anyone may register a free name first.
	                         * Another listener: -EPERM, logged, nothing sent. NULL: any.
	                         * Must be NULL for listen and for tcp://, tls:// */
};
#define BELTLINE_EP_SPIN_FOREVER 0x7fffffff

/* Register beltline://INSTANCE/ep/NAME (NAME as a stream name) and listen. The
 * registration lasts until beltline_ep_listener_close (or the process ends).
 * 0, or -EINVAL (bad URI, options, geometry), -ENOENT (no instance running),
 * -EADDRINUSE (registered already), -EPERM (group not one of yours), -EPROTO, ...
 * tcp://HOST:PORT, tls://HOST:PORT: listen there (slots, dbuf_bytes and max_msg as
 * above, max_msg at most 262144; mode and group must be NULL). -EINVAL also for
 * tcp:// off loopback or tls:// without tls_ca, tls_cert and tls_key, -ENOENT (HOST
 * not resolved), -EADDRINUSE, -ENOTSUP (tls:// without the plug-in), ... */
BELTLINE_API int beltline_ep_listen(const char *uri, const struct beltline_ep_opts *opts,
	struct beltline_ep_listener **out);

/* The next connection, waiting up to timeout_ms (< 0: for ever; 0: not at all).
 * 0, or -EAGAIN (timeout 0, none waiting), -ETIMEDOUT, -ECONNRESET (the appliance
 * stopped or restarted: pairs already made live on; listen again to be found),
 * -EPROTO (the appliance or the connecting peer spoke nonsense, went, or sent no
 * hello in time: that connection is dropped, accept again), -ENOMEM.
 * A connection taken has opts.timeout_ms to send its hello (tcp://, tls://: the TLS
 * handshake and the hellos, together), but no more than the largest of timeout_ms, 1 s
 * and a quarter of opts.timeout_ms when timeout_ms >= 0: with timeout 0 (and the default
 * opts.timeout_ms, 10 s) a call may wait up to 2.5 s for a connection it took. A peer refused over tcp:// or tls:// (no certificate, one of another CA, a
 * plain client on a TLS port, not an endpoint, a stalled handshake) is -EPROTO with
 * a log line naming it: accept again. */
BELTLINE_API int beltline_ep_accept(struct beltline_ep_listener *l, int timeout_ms,
	struct beltline_ep **out);

/* A descriptor readable when a connection waits (or the appliance went away). Owned by l. */
BELTLINE_API int beltline_ep_listener_fd(const struct beltline_ep_listener *l);

/* Unregister (pairs already made live on). NULL is fine. */
BELTLINE_API void beltline_ep_listener_close(struct beltline_ep_listener *l);

/* Connect to beltline://INSTANCE/ep/NAME; waits up to opts.timeout_ms for the
 * listener to accept. 0, or -EINVAL, -ENOENT (no instance, or nobody listens on
 * NAME: while the appliance restarts, until the listener registers again),
 * -EACCES (mode/owner/group refuse you), -EPERM (opts.peer_user is set and the
 * listener runs as another user: nothing sent), -ECONNREFUSED (the listener has too many
 * connections waiting), -ETIMEDOUT (it did not accept in time), -EPROTO, ...
 * tcp://HOST:PORT, tls://HOST:PORT: connect to a listener there; max_msg is the
 * smaller of the two sides' (0: 64 KiB). -ECONNREFUSED (nothing listens; tls://: the
 * listener refused our certificate), -EACCES (tls://: its certificate did not
 * verify), -ECONNRESET (it closed before its hello: see its log), -ETIMEDOUT,
 * -EPROTO (not an endpoint), -ENOTSUP (tls:// without the plug-in). */
BELTLINE_API int beltline_ep_connect(const char *uri, const struct beltline_ep_opts *opts,
	struct beltline_ep **out);

/* A buffer for a message of up to size (1..max_msg) bytes, waiting for room up to
 * timeout_ms. 0, or -EAGAIN (timeout 0, no room), -ETIMEDOUT, -EPIPE (the peer is
 * gone), -EMSGSIZE (size > max_msg), -EPROTO (the pair is broken), -EDEADLK (the room
 * is held by buffers got and not committed: even with every message sent released
 * there would be none, so no wait can end; commit first), -EINVAL. */
BELTLINE_API int beltline_ep_getwritebuf(struct beltline_ep *ep, uint32_t size, void **buf,
	int timeout_ms);

/* Send len (0..size) bytes of buf, the oldest buffer got and not committed; it is
 * the peer's from now on. 0, -EINVAL (another buffer, a longer len), -EPIPE (the
 * peer is gone: the message may never be read), -EPROTO. */
BELTLINE_API int beltline_ep_commit(struct beltline_ep *ep, void *buf, uint32_t len);

/* The next message: *buf (read-only to you, valid until released; over shared memory
 * the sender can still change it until then: copy, then check, a message from a peer
 * you do not trust) and *len. Returns 1, 0
 * at the end (the peer closed or died, after every message it committed), -EAGAIN
 * (timeout 0, none), -ETIMEDOUT, -EPROTO (the peer wrote garbage), -EINVAL, -ENOBUFS
 * (too many held, release some: over shared memory, every slot of the ring holds a
 * message read and not released, so the peer cannot send another; tcp://, tls://: the
 * messages held take the receive buffer). */
BELTLINE_API int beltline_ep_getreadbuf(struct beltline_ep *ep, const void **buf, uint32_t *len,
	int timeout_ms);

/* Give back the oldest message read (buf: its pointer, or NULL). 0 or -EINVAL. */
BELTLINE_API int beltline_ep_release(struct beltline_ep *ep, const void *buf);

/* Commit a message read from src (its oldest unreleased, buf and len as read, len at
 * most what was read) into dst, then release it from src: FABLE's "commit a read
 * buffer into another channel". Without a copy when dst's peer may map where buf lies:
 * dst == src, a message sent back to the peer that wrote it (an echo; the message's
 * space stays the peer's until the peer released the echo; counted in
 * forwarded_zero_copy). Otherwise exactly one copy (forwarded_copied): another
 * endpoint's peer cannot map src's memory, a tcp:// or tls:// peer none at all, and
 * an echo of an echo lies in our own memory. Errors of getwritebuf and commit on dst
 * (src untouched then), -EINVAL (buf not src's oldest unreleased, len too long, a
 * buffer of dst's got and not committed: both untouched). */
BELTLINE_API int beltline_ep_forward(struct beltline_ep *dst, struct beltline_ep *src,
	const void *buf, uint32_t len, int timeout_ms);

/* The descriptor the peer signals (POLLIN; also when it is gone). Owned by ep. */
BELTLINE_API int beltline_ep_fd(const struct beltline_ep *ep);

/* Close (the peer sees the end). NULL is fine. */
BELTLINE_API void beltline_ep_close(struct beltline_ep *ep);

struct beltline_ep_stats {
	size_t sz;              /* sizeof(struct beltline_ep_stats), set by the caller */
	uint64_t sent;          /* messages committed */
	uint64_t received;      /* messages read */
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t full;          /* getwritebuf calls that gave up for want of room */
	uint64_t sleeps;        /* times a blocking call slept on the fd */
	uint64_t wakeups;       /* wakeups sent to the peer */
	uint64_t garbage;       /* fields of the peer found out of range (the pair broke) */
	uint64_t forwarded_copied; /* beltline_ep_forward into this endpoint, by copy */
	int peer_pid;           /* the peer: beltline:// as the appliance saw it (SO_PEERCRED
	                         * of the process that listened or connected), else as it said */
	uint32_t max_msg;       /* the largest message */
	uint64_t forwarded_zero_copy; /* beltline_ep_forward echoes sent without a copy */
	uint32_t peer_uid;      /* beltline://: the peer's uid as the appliance saw it;
	                         * UINT32_MAX: not known (tcp://, tls://, an appliance too
	                         * old to say). A library older than this field leaves it as
	                         * you set it and returns a smaller st->sz: check sz first */
	uint32_t reserved;      /* 0 */
};

/* Fill st (as much as st->sz allows). 0 or -EINVAL. */
BELTLINE_API int beltline_ep_stats(const struct beltline_ep *ep, struct beltline_ep_stats *st);

/* ---- the control socket (what `beltline ls/stats/top` use) ---- */

struct beltline_ctl;

enum beltline_ctl_op {
	BELTLINE_CTL_LIST   = 1,   /* streams of the instance */
	BELTLINE_CTL_ATTACH = 2,   /* become a reader (beltline_open does this) */
	BELTLINE_CTL_DETACH = 3,
	BELTLINE_CTL_STATS  = 4,   /* ports, filters, edges, streams, readers */
	BELTLINE_CTL_OPEN_WRITE = 5, /* become an inject stream's writer (beltline_open_write) */
	BELTLINE_CTL_RELOAD = 16,   /* move to a new config: {"config": "/abs/path"} or {} */
	BELTLINE_CTL_TAP    = 17,   /* {"filter": "F[:EDGE]"}: a temporary stream on it (docs/taps.md) */
	BELTLINE_CTL_EDIT   = 18,   /* add or remove a filter of a running graph (docs/control.md) */
	BELTLINE_CTL_ATTACH_VERDICT = 6, /* become a user filter's verdict client (beltline_open_user) */
};

/* Connect to instance INSTANCE's control socket. 0, -EINVAL (bad name),
 * -ENOENT (no instance of that name is running), -EACCES, ... */
BELTLINE_API int beltline_ctl_open(const char *instance, const struct beltline_open_opts *opts,
	struct beltline_ctl **out);
BELTLINE_API void beltline_ctl_close(struct beltline_ctl *c);

/* One request (body: a JSON object, NULL for "{}"), its reply body in *reply
 * (NUL-terminated JSON of any size up to 64 MiB, joined from as many messages
 * as it took; free() it). 0 or a negative errno: the appliance's status (then
 * *reply holds {"error": "..."}: also when the appliance shut the connection out,
 * e.g. -EUSERS for too many connections of one user, -ETIMEDOUT after 10 s
 * without a request; docs/control.md, "Limits"), or the transport's. */
BELTLINE_API int beltline_ctl_call(struct beltline_ctl *c, enum beltline_ctl_op op,
	const char *body, char **reply);

#ifdef __cplusplus
}
#endif
#endif /* BELTLINE_H */
