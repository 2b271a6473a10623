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

struct serve {
	const char *src;        /* the local stream's URI (--write: the inject stream's) */
	const char *cert, *key, *ca;
	int tls, udp;
	int handshake_ms;
	int stall_ms;           /* a reader that takes nothing for this long is cut */
	SSL_CTX *ctx;
};

struct conn {
	int fd;
	int dgram;              /* udp://: one record a datagram */
	SSL *ssl;
	int stalled;            /* a send made no progress in the socket's send timeout */
	uint8_t out[65536];
	size_t n;
};

/* The listening socket for uri, or -1 after saying why (*usage_err 1 when it is the
 * user's fault: a bad URI, or an address off the machine without tls:// and a CA). */
int listen_on(const char *uri, int tls, int udp, int have_ca, int *usage_err);
/* The server's TLS context from sv's cert, key and CA (peers must show a certificate
 * the CA signed), or NULL after saying why. */
SSL_CTX *tls_ctx(const struct serve *sv);

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

/* serve --write: accept writers on lfd, one at a time, into sv->src. Exit status. */
int bl_serve_write(struct serve *sv, int lfd);

#endif /* BL_CLI_SERVE_PVT_H */
