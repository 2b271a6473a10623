/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_tls — tls:// for src_net.c without linking a TLS library: the plug-in
 * libbeltline-client-tls (tls_plugin.c, OpenSSL) is loaded with dlopen on the first
 * tls:// open, from $BELTLINE_TLS_PLUGIN if set, else beside this library, else by
 * its soname through the usual search. Certificates: the open options (tls_ca,
 * tls_cert, tls_key), else $BELTLINE_TLS_CA, $BELTLINE_TLS_CERT, $BELTLINE_TLS_KEY.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beltline_priv.h"
#include "net_tls.h"

static const struct blc_tls_ops *tls_ops;

static const struct blc_tls_ops *
load(const char *uri)
{
	char path[4096] = "";
	const char *env = getenv("BELTLINE_TLS_PLUGIN");
	Dl_info di;
	void *h = NULL;

	if (tls_ops != NULL)
		return tls_ops;
	if (env != NULL && env[0] != '\0') {
		snprintf(path, sizeof(path), "%s", env);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	} else {
		if (dladdr((void *)load, &di) != 0 && di.dli_fname != NULL &&
		    strrchr(di.dli_fname, '/') != NULL) {
			int dl = (int)(strrchr(di.dli_fname, '/') - di.dli_fname);
			snprintf(path, sizeof(path), "%.*s/%s", dl, di.dli_fname, BLC_TLS_PLUGIN);
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
		if (h == NULL) {
			snprintf(path, sizeof(path), "%s", BLC_TLS_PLUGIN);
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
	}
	if (h == NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls:// needs the plug-in %s: %s", uri, path,
			dlerror());
		return NULL;
	}
	blc_tls_plugin_fn fn = (blc_tls_plugin_fn)dlsym(h, BLC_TLS_PLUGIN_SYM);
	const struct blc_tls_ops *o = fn != NULL ? fn() : NULL;
	if (o == NULL || o->abi != BLC_TLS_ABI) {
		blc_log(BELTLINE_LOG_ERROR, "%s: %s is not a TLS plug-in of ABI %d", uri, path,
			BLC_TLS_ABI);
		dlclose(h);
		return NULL;
	}
	tls_ops = o;     /* kept loaded for the life of the process */
	return o;
}

static long
tls_recv(struct blc_net *n, void *buf, size_t len)
{
	return tls_ops->recv(n->tls, buf, len);
}

static long
tls_send(struct blc_net *n, const void *buf, size_t len)
{
	return tls_ops->send(n->tls, buf, len);
}

static void
tls_close(struct blc_net *n)
{
	tls_ops->close(n->tls);
	n->tls = NULL;
}

static const char *
opt_or_env(const char *v, const char *env)
{
	if (v != NULL && v[0] != '\0')
		return v;
	v = getenv(env);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

int
blc_tls_client(struct beltline_stream *s, const char *host, const struct beltline_open_opts *o,
	       int timeout_ms)
{
	const char *ca = opt_or_env(BLC_OPT(o, tls_ca, NULL), "BELTLINE_TLS_CA");
	const char *cert = opt_or_env(BLC_OPT(o, tls_cert, NULL), "BELTLINE_TLS_CERT");
	const char *key = opt_or_env(BLC_OPT(o, tls_key, NULL), "BELTLINE_TLS_KEY");
	char msg[300] = "";
	int err = 0;

	if (ca == NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls:// needs a CA to check the server against "
			"(tls_ca, or $BELTLINE_TLS_CA)", s->name);
		return -EINVAL;
	}
	if ((cert == NULL) != (key == NULL)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: tls_cert and tls_key go together", s->name);
		return -EINVAL;
	}
	if (load(s->name) == NULL)
		return -ENOTSUP;
	s->n.tls = tls_ops->connect(s->n.fd, host, cert, key, ca, timeout_ms, &err, msg,
		sizeof(msg));
	if (s->n.tls == NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: TLS: %s", s->name, msg);
		return err < 0 ? err : -EPROTO;
	}
	s->n.io_recv = tls_recv;
	s->n.io_send = tls_send;
	s->n.io_close = tls_close;
	return 0;
}

/* ---- endpoints over tls:// (src_ep_net.c): a connection without a stream ---- */

const char *
blc_tls_opt(const char *v, const char *env)
{
	return opt_or_env(v, env);
}

void *
blc_tls_open(const char *name, int fd, int server, const char *host, const char *cert,
	     const char *key, const char *ca, int timeout_ms, int *err, char *msg, size_t msgsz)
{
	if (load(name) == NULL) {
		*err = -ENOTSUP;
		snprintf(msg, msgsz, "no TLS plug-in");
		return NULL;
	}
	return server ? tls_ops->accept(fd, cert, key, ca, timeout_ms, err, msg, msgsz) :
		tls_ops->connect(fd, host, cert, key, ca, timeout_ms, err, msg, msgsz);
}

long
blc_tls_recv(void *conn, void *buf, size_t len)
{
	return tls_ops->recv(conn, buf, len);
}

long
blc_tls_send(void *conn, const void *buf, size_t len)
{
	return tls_ops->send(conn, buf, len);
}

void
blc_tls_free(void *conn)
{
	if (conn != NULL)
		tls_ops->close(conn);
}

int
blc_tls_loaded(const char *name)
{
	return load(name) != NULL;
}
