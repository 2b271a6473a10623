/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_conn — what both sides of `beltline serve` use (serve_pvt.h): the listening
 * rules (loopback only unless tls:// with a CA), the server's TLS context and
 * handshake, and a buffered connection to one peer. serve.c relays a stream to
 * readers over it, serve_write.c takes a remote writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bl_netaddr.h"
#include "bl_time.h"
#include "exporter.h"   /* bl_cli_stopping */
#include "serve_pvt.h"

void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("beltline: serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void
peer_name(const struct sockaddr_storage *sa, char *out, size_t sz)
{
	char h[INET6_ADDRSTRLEN] = "?", p[8] = "?";

	getnameinfo((const struct sockaddr *)sa, sizeof(*sa), h, sizeof(h), p, sizeof(p),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, sz, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s", h, p);
}

int
listen_on(const char *uri, int tls, int udp, int have_ca, int *usage_err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	char host[256], port[8];
	int fd, one = 1, rc;

	*usage_err = 0;
	if (bl_hostport_split(strstr(uri, "://") + 3, host, sizeof(host), port, sizeof(port)) < 0) {
		say("%s: want tcp://HOST:PORT, udp://HOST:PORT or tls://HOST:PORT ([V6ADDR]:PORT for "
		    "IPv6), PORT 0..65535", uri);
		*usage_err = 1;
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		say("%s: cannot resolve %s: %s", uri, host, gai_strerror(rc));
		return -1;
	}
	if (!bl_sockaddr_loopback(ai->ai_addr) && (!tls || !have_ca)) {
		say("%s: %s is not a loopback address: off the machine, serve only over tls:// "
		    "with --ca (clients must show a certificate it signed)", uri, host);
		freeaddrinfo(ai);
		*usage_err = 1;
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || (!udp && listen(fd, 64) < 0)) {
		say("%s: cannot listen: %s", uri, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

SSL_CTX *
tls_ctx(const struct serve *sv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, sv->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, sv->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, sv->ca, NULL) != 1) {
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		say("tls: cannot load --cert %s, --key %s or --ca %s: %s", sv->cert, sv->key,
		    sv->ca, e);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

void
conn_keepalive(int fd)
{
	int one = 1, idle = 20, intvl = 5, cnt = 4;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

void
send_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Send all of p (blocking). 0 or -1 (peer gone, signal, stalled).
 * With stall_ms, all of it must go within stall_ms: a peer that takes nothing can still
 * let the kernel take a few bytes now and then (the window its receive buffer reopens as
 * the kernel compacts it, answering the probes of a zero window), each send then returns
 * a part before its timeout, and a timeout per send never fired (a reader that read
 * nothing held serve's child, and an srp stream, for a minute and more). */
static int
conn_send(struct conn *c, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t deadline = c->stall_ms > 0 ? bl_mono_ms() + (uint64_t)c->stall_ms : 0;
	int shortened = 0, rc = 0;

	while (len > 0) {
		long w;

		if (deadline != 0 && b != p) {     /* after a part: what is left of stall_ms */
			uint64_t now = bl_mono_ms();

			if (now >= deadline) {
				c->stalled = 1;
				rc = -1;
				break;
			}
			send_timeout(c->fd, (int)(deadline - now));
			shortened = 1;
		}
		if (c->ssl != NULL) {
			size_t done = 0;
			if (SSL_write_ex(c->ssl, b, len, &done) != 1) {
				int e = SSL_get_error(c->ssl, 0);
				c->stalled = e == SSL_ERROR_WANT_WRITE || (e == SSL_ERROR_SYSCALL &&
					     (errno == EAGAIN || errno == EWOULDBLOCK));
				rc = -1;
				break;
			}
			w = (long)done;
		} else {
			w = send(c->fd, b, len, MSG_NOSIGNAL);
			if (w < 0 && c->dgram && (errno == ENOBUFS || errno == EAGAIN))
				return 0;   /* a datagram dropped here is a gap the reader counts */
			if (w < 0 && errno == EINTR && !bl_cli_stopping())
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				c->stalled = 1;     /* the send timeout: nothing taken */
			if (w <= 0) {
				rc = -1;
				break;
			}
		}
		b += w;
		len -= (size_t)w;
	}
	if (shortened)
		send_timeout(c->fd, c->stall_ms);
	return rc;
}

int
conn_flush(struct conn *c)
{
	int rc = c->n ? conn_send(c, c->out, c->n) : 0;

	c->n = 0;
	return rc;
}

int
conn_put(struct conn *c, const void *p, size_t len)
{
	if (c->n + len > sizeof(c->out) && conn_flush(c) < 0)
		return -1;
	if (len > sizeof(c->out))
		return conn_send(c, p, len);
	memcpy(c->out + c->n, p, len);
	c->n += len;
	return 0;
}

void
conn_free(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	free(c);
}

int
tls_accept(struct serve *sv, struct conn *c, const char *peer)
{
	uint64_t end = bl_mono_ms() + (uint64_t)sv->handshake_ms;
	int fl = fcntl(c->fd, F_GETFL), rc = 0, timed_out = 0;

	c->ssl = SSL_new(sv->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || fl < 0)
		return -1;
	/* conn_send sees each part a write takes (so its stall_ms holds over TLS too) */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* The whole handshake within handshake_ms, however the peer paces its bytes (a
	 * timeout per receive let a byte every few seconds hold a connection, and a
	 * --max-clients place, before any certificate was checked): non-blocking, each
	 * wait bounded by what is left. */
	fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
	while ((rc = SSL_accept(c->ssl)) != 1) {
		int e = SSL_get_error(c->ssl, rc);
		struct pollfd p = { .fd = c->fd, .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
		uint64_t now = bl_mono_ms();

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		if (now >= end || bl_cli_stopping()) {
			timed_out = 1;
			break;
		}
		(void)poll(&p, 1, (int)(end - now));   /* EINTR: look again */
	}
	fcntl(c->fd, F_SETFL, fl);
	if (rc != 1) {
		char e[256] = "";
		unsigned long err = ERR_get_error();
		long vr = SSL_get_verify_result(c->ssl);

		if (timed_out)
			snprintf(e, sizeof(e), "handshake timed out (not done in %d ms, "
				 "--handshake-ms)", sv->handshake_ms);
		else if (err != 0)
			ERR_error_string_n(err, e, sizeof(e));
		else
			snprintf(e, sizeof(e), "handshake failed (peer closed?)");
		say("refused %s: TLS: %s%s%s", peer, e, vr != X509_V_OK ? ": " : "",
		    vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	X509 *pc = SSL_get1_peer_certificate(c->ssl);
	char subj[256] = "?";
	if (pc != NULL) {
		X509_NAME_oneline(X509_get_subject_name(pc), subj, sizeof(subj));
		X509_free(pc);
	}
	say("%s: TLS client %s", peer, subj);
	return 0;
}
