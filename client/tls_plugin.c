/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls_plugin — libbeltline-client-tls: OpenSSL (Debian's libssl) for tls:// readers,
 * loaded by libbeltline-client on first use (net_tls.h). TLS 1.2 at least; the
 * server's certificate must chain to the given CA and name the host (DNS name or
 * IP address in its subjectAltName); our own certificate and key are shown when the
 * server asks (beltline serve always does: mutual TLS). As a server (an endpoint
 * listening on tls://), it requires a client certificate that chains to its CA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bl_time.h"
#include "net_tls.h"

struct tconn {
	SSL_CTX *ctx;
	SSL *ssl;
};

static void
tclose(void *c)
{
	struct tconn *t = c;

	if (t == NULL)
		return;
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	OPENSSL_free(t);
}

static void
why(char *msg, size_t sz, const char *what)
{
	char e[200] = "";
	unsigned long err = ERR_get_error();

	if (err != 0)
		ERR_error_string_n(err, e, sizeof(e));
	snprintf(msg, sz, "%s%s%s", what, e[0] ? ": " : "", e);
	ERR_clear_error();
}

static void *
tconnect(int fd, const char *host, const char *cert, const char *key, const char *ca,
	 int timeout_ms, int *err, char *msg, size_t msgsz)
{
	struct tconn *t = OPENSSL_zalloc(sizeof(*t));
	unsigned char ip[16];
	long end = (long)bl_mono_ms() + timeout_ms;

	*err = -EPROTO;
	if (t == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL) {
		why(msg, msgsz, "SSL_CTX_new");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
		why(msg, msgsz, "cannot load the CA (tls_ca)");
		*err = -EINVAL;
		goto fail;
	}
	if (cert != NULL && (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)) {
		why(msg, msgsz, "cannot load the certificate or key (tls_cert, tls_key)");
		*err = -EINVAL;
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
		why(msg, msgsz, "SSL_new");
		goto fail;
	}
	/* tsend: a retry after WANT_WRITE may pass more bytes, from a moved buffer */
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
			goto fail;
	} else {
		if (SSL_set1_host(t->ssl, host) != 1 || SSL_set_tlsext_host_name(t->ssl, host) != 1)
			goto fail;
	}
	for (;;) {
		int rc = SSL_connect(t->ssl), e;
		struct pollfd p = { .fd = fd };
		long left;

		if (rc == 1)
			break;
		e = SSL_get_error(t->ssl, rc);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			long vr = SSL_get_verify_result(t->ssl);
			if (vr != X509_V_OK) {
				snprintf(msg, msgsz, "the server's certificate: %s",
					 X509_verify_cert_error_string(vr));
				*err = -EACCES;
			} else {
				why(msg, msgsz, e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ?
				    "the server closed the handshake (refused our certificate?)" :
				    "handshake failed");
				*err = -ECONNREFUSED;
			}
			goto fail;
		}
		left = end - (long)bl_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			snprintf(msg, msgsz, "TLS handshake not done in %d ms", timeout_ms);
			*err = -ETIMEDOUT;
			goto fail;
		}
	}
	*err = 0;
	return t;
fail:
	tclose(t);
	return NULL;
}

/* Drive SSL_connect or SSL_accept to the end within timeout_ms (end: its deadline).
 * 1 done, 0 timed out, -1 failed (e: SSL_get_error's). */
static int
handshake(struct tconn *t, int fd, int server, long end, int *e)
{
	for (;;) {
		int rc = server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
		struct pollfd p = { .fd = fd };
		long left;

		if (rc == 1)
			return 1;
		*e = SSL_get_error(t->ssl, rc);
		if (*e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (*e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else
			return -1;
		left = end - (long)bl_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return 0;
	}
}

static void *
taccept(int fd, const char *cert, const char *key, const char *ca, int timeout_ms, int *err,
	char *msg, size_t msgsz)
{
	struct tconn *t = OPENSSL_zalloc(sizeof(*t));
	long end = (long)bl_mono_ms() + timeout_ms;
	int e = 0, rc;

	*err = -EPROTO;
	if (t == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (t->ctx == NULL) {
		why(msg, msgsz, "SSL_CTX_new");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1 ||
	    SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
		why(msg, msgsz, "cannot load our certificate, key or CA (tls_cert, tls_key, tls_ca)");
		*err = -EINVAL;
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
		why(msg, msgsz, "SSL_new");
		goto fail;
	}
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	rc = handshake(t, fd, 1, end, &e);
	if (rc == 0) {
		snprintf(msg, msgsz, "TLS handshake not done in %d ms (stalled)", timeout_ms);
		*err = -ETIMEDOUT;
		goto fail;
	}
	if (rc < 0) {
		long vr = SSL_get_verify_result(t->ssl);
		if (vr != X509_V_OK) {
			snprintf(msg, msgsz, "the client's certificate: %s",
				 X509_verify_cert_error_string(vr));
			ERR_clear_error();
			*err = -EACCES;
		} else
			why(msg, msgsz, e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ?
			    "the client closed the handshake" : "handshake failed");
		goto fail;
	}
	X509 *pc = SSL_get1_peer_certificate(t->ssl);
	snprintf(msg, msgsz, "?");
	if (pc != NULL) {
		X509_NAME_oneline(X509_get_subject_name(pc), msg, (int)msgsz);
		X509_free(pc);
	}
	*err = 0;
	return t;
fail:
	tclose(t);
	return NULL;
}

/* OpenSSL writes with write(2): a peer gone raises SIGPIPE, which a library must not
 * deliver to its program. It is blocked around each call that may write (SSL_write, and
 * SSL_read too: it answers a TLS 1.3 key update or a renegotiation with a write) and, if
 * the call raised it (and it was not pending before), taken back. */
struct nopipe {
	sigset_t set, old;
	int was_pending;
};

static void
nopipe_begin(struct nopipe *np)
{
	sigset_t pending;

	sigemptyset(&np->set);
	sigaddset(&np->set, SIGPIPE);
	sigpending(&pending);
	np->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &np->set, &np->old);
}

static void
nopipe_end(struct nopipe *np, int failed)
{
	struct timespec zero = { 0 };

	if (failed && !np->was_pending) {
		int keep = errno;
		while (sigtimedwait(&np->set, NULL, &zero) == SIGPIPE)
			;
		errno = keep;
	}
	pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

/* An alert the peer sent because it refused us (our certificate, or none): TLS 1.3
 * finishes the client's handshake before the server checks the client's certificate, so
 * the refusal comes with the first read. */
static int
refused_alert(unsigned long reason)
{
	switch (reason) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		return 1;
	default:
		return 0;
	}
}

static long
trecv(void *c, void *buf, size_t len)
{
	struct tconn *t = c;
	struct nopipe np;
	size_t got = 0;
	int rc, e;

	nopipe_begin(&np);
	rc = SSL_read_ex(t->ssl, buf, len, &got);
	nopipe_end(&np, 1);     /* a read that succeeds may have written (and raised it) too */
	if (rc == 1)
		return (long)got;
	e = SSL_get_error(t->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return errno != 0 ? -errno : 0;
	/* The connection ended without the peer's close_notify: a peer killed mid-stream
	 * (its kernel sends a FIN, or a reset when it had unread data: which one is a
	 * race). Every record before was verified; what is missing is the end, as with a
	 * reset: the peer is gone, not a forgery (-EPROTO breaks the pair as garbage). */
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		return -ECONNRESET;
	}
	if (e == SSL_ERROR_SSL && refused_alert((unsigned long)ERR_GET_REASON(ERR_peek_error()))) {
		ERR_clear_error();
		return -ECONNREFUSED;
	}
	ERR_clear_error();
	return -EPROTO;
}

static long
tsend(void *c, const void *buf, size_t len)
{
	struct tconn *t = c;
	struct nopipe np;
	size_t done = 0;
	int rc, e;

	nopipe_begin(&np);
	rc = SSL_write_ex(t->ssl, buf, len, &done);
	e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
	nopipe_end(&np, rc != 1);
	if (rc == 1)
		return (long)done;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return errno != 0 ? -errno : -EPIPE;
	ERR_clear_error();
	return e == SSL_ERROR_ZERO_RETURN ? -EPIPE : -EPROTO;
}

static const struct blc_tls_ops ops = {
	.abi = BLC_TLS_ABI, .connect = tconnect, .recv = trecv, .close = tclose, .send = tsend,
	.accept = taccept,
};

__attribute__((visibility("default"))) const struct blc_tls_ops *
beltline_tls_plugin_v1(void)
{
	return &ops;
}
