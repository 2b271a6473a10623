/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_tls — what libbeltline-client asks of its TLS plug-in, libbeltline-client-tls
 * (tls_plugin.c, linked with OpenSSL). libbeltline-client has no TLS dependency:
 * it loads the plug-in with dlopen the first time a tls:// URI is opened
 * (docs/clients.md, "Transports"). Not installed: the two are built together.
 */
#ifndef BL_NET_TLS_H
#define BL_NET_TLS_H

#include <stddef.h>

#define BLC_TLS_PLUGIN "libbeltline-client-tls.so.0"
#define BLC_TLS_ABI 3            /* 2: send (writers to beltline serve --write); 3: accept
                                  * (endpoints listening on tls://) */

struct blc_tls_ops {
	int abi;                /* BLC_TLS_ABI */
	/* TLS client on the connected non-blocking socket fd: verify the server's certificate
	 * against ca and its name against host (a name or an IP address), show cert/key.
	 * The connection, or NULL with *err set (-ETIMEDOUT, -EACCES refused, -EPROTO...) and
	 * why in msg. */
	void *(*connect)(int fd, const char *host, const char *cert, const char *key,
		const char *ca, int timeout_ms, int *err, char *msg, size_t msgsz);
	/* Up to len bytes: >0, 0 the peer closed, -EAGAIN, or -errno (-EPROTO: TLS error). */
	long (*recv)(void *conn, void *buf, size_t len);
	void (*close)(void *conn);
	/* Up to len bytes sent: >0, -EAGAIN, or -errno (-EPIPE the peer closed, -EPROTO). A
	 * call after -EAGAIN may pass a longer len and a moved buffer, never a shorter len. */
	long (*send)(void *conn, const void *buf, size_t len);
	/* TLS server on the accepted non-blocking socket fd: show cert/key, require a client
	 * certificate that chains to ca (mutual TLS). The connection (msg: the client's
	 * subject), or NULL with *err set (-ETIMEDOUT, -EACCES its certificate refused,
	 * -EPROTO not TLS, or no certificate; -EINVAL our files) and why in msg. */
	void *(*accept)(int fd, const char *cert, const char *key, const char *ca,
		int timeout_ms, int *err, char *msg, size_t msgsz);
};

/* The plug-in's one exported symbol. */
typedef const struct blc_tls_ops *(*blc_tls_plugin_fn)(void);
#define BLC_TLS_PLUGIN_SYM "beltline_tls_plugin_v1"

#endif /* BL_NET_TLS_H */
