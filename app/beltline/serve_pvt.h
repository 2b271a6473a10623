/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_pvt — what serve.c (readers) and serve_write.c (`serve --write`: a remote
 * writer into an inject stream) share, in serve_conn.c: the listening rules, TLS,
 * a connection.
 * Not installed.
 */
#ifndef BL_CLI_SERVE_PVT_H
#define BL_CLI_SERVE_PVT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct kids;

struct serve {
	const char *src;        /* the local stream's URI (--write: the inject stream's) */
	const char *cert, *key, *ca;
	int tls, udp;
	int handshake_ms;
	int stall_ms;           /* a reader that takes nothing for this long is cut */
	SSL_CTX *ctx;
	struct kids *kids;      /* the parent's table: a child tells it it is authenticated */
	uint64_t udp_cookie;    /* udp://: the subscribe's cookie, echoed in the child's hello */
};

struct conn {
	int fd;
	int dgram;              /* udp://: one record a datagram */
	SSL *ssl;
	int stalled;            /* a send made no progress in the socket's send timeout, or
	                         * one buffer's worth was not taken within stall_ms */
	int stall_ms;           /* 0: none (serve.c sets it for a reader; SO_SNDTIMEO too) */
	uint8_t out[65536];
	size_t n;
};

/* The listening socket for uri, or -1 after saying why (*usage_err 1 when it is the
 * user's fault: a bad URI, or an address off the machine without tls:// and a CA). */
int listen_on(const char *uri, int tls, int udp, int have_ca, int *usage_err);
/* The server's TLS context from sv's cert, key and CA (peers must show a certificate
 * the CA signed), or NULL after saying why. */
SSL_CTX *tls_ctx(const struct serve *sv);

/* The socket's send timeout (SO_SNDTIMEO): ms, 0 none. */
void send_timeout(int fd, int ms);

/* One line on stderr: "beltline: serve: ..." */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void peer_name(const struct sockaddr_storage *sa, char *out, size_t sz);
/* The TLS handshake within handshake_ms. 0, or -1 after logging the refusal. */
int tls_accept(struct serve *sv, struct conn *c, const char *peer);
/* Buffered sending (conn_put, then conn_flush); 0 or -1 (the peer gone, or, with a
 * send timeout set on the socket, stalled: c->stalled). */
int conn_put(struct conn *c, const void *p, size_t len);
int conn_flush(struct conn *c);
void conn_free(struct conn *c);
/* TCP keepalive on an accepted socket: a peer whose host is gone without a word (no FIN,
 * no RST) is found in about 40 s, and its child ends, freeing its place. */
void conn_keepalive(int fd);

/* Who a peer is: on loopback (local), the uid owning its socket. */
struct serve_peer {
	int local;
	uid_t uid;
};

/* Fill *out for a peer that connected to sock (tcp: the accepted socket; udp: the
 * listening one). 0, or -1 after saying why it is refused (a peer on loopback whose
 * socket the kernel does not show: serve_peer.c). */
int serve_peer_identify(int sock, const struct sockaddr_storage *peer, int udp,
			struct serve_peer *out, const char *name);
/* In a child, before it opens the stream: serve a local peer as its own user (a serve
 * run by root takes its ids and groups; any other serves its own uid only). 0, or
 * -EPERM after saying why. */
int serve_become(const struct serve_peer *p, const char *name);

/*
 * The children of a serve, and which of them are through their TLS handshake. A
 * connection's child does the handshake; until it is done the child is pending, and
 * pending children count against no limit of served peers (--max-clients, the one
 * writer): at most SERVE_PENDING_MAX of them at a time, and a new connection beyond that
 * cuts the oldest (a peer's honest handshake takes milliseconds, so connections that send
 * nothing, each for --handshake-ms, can no longer keep authenticated peers out). A child
 * tells the parent it is through by writing its pid into a pipe (kids_authed).
 * In serve_kids.c.
 */
#define SERVE_PENDING_MAX 8

struct kid {
	pid_t pid;              /* 0: a free entry */
	int authed;             /* through its handshake (or no TLS) */
	uint64_t t0;            /* when it was accepted, ms */
	char peer[80];
};

struct kids {
	struct kid *k;
	int max;                /* entries */
	int n_authed, n_pending;
	int pipe[2];            /* children write their pid at [1] once authenticated */
};

int kids_init(struct kids *ks, int max_authed);
void kids_fini(struct kids *ks);
/* A child forked for peer; authed: no handshake to wait for. */
void kids_add(struct kids *ks, pid_t pid, const char *peer, int authed);
/* If SERVE_PENDING_MAX are pending, one cut (SIGTERM) for peer, connecting: the oldest
 * of the host with the most pending (peer counted), 1 if one was. Callers take the
 * children that said they are through first (kids_next_authed). */
int kids_make_room(struct kids *ks, const char *peer);
/* The entry of pid, or NULL. */
struct kid *kids_find(struct kids *ks, pid_t pid);
/* Forget pid (it has exited): 1 if it was ours. */
int kids_gone(struct kids *ks, pid_t pid);
/* In a child: tell the parent the handshake is done. */
void kids_authed(struct kids *ks);
/* In the parent: the next child that said it is through, or 0 (none waiting). */
pid_t kids_next_authed(struct kids *ks);
/* SIGTERM to every child, then wait for them. */
void kids_stop_all(struct kids *ks);

/* serve --write: accept writers on lfd, one at a time, into sv->src. Exit status. */
int bl_serve_write(struct serve *sv, int lfd);

#endif /* BL_CLI_SERVE_PVT_H */
