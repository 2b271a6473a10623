/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline serve — relay a stream to remote readers (docs/clients.md, "Transports");
 * with --write, take a remote writer into an inject stream (serve_write.c).
 *
 *   beltline [-i INSTANCE] serve [OPTIONS] STREAM LISTEN-URI
 *     LISTEN-URI: tcp://HOST:PORT, udp://HOST:PORT (loopback only) or tls://HOST:PORT
 *     --cert FILE --key FILE --ca FILE   tls://: our certificate and key, and the CA that
 *                                        must have signed every client's certificate
 *     --max-clients N (default 16)  --handshake-ms MS (default 5000)
 *     --stall-ms MS (default 30000): a reader that does not take 64 KiB (nothing, or a
 *                                   trickle) in that long is cut (--write: a writer that
 *                                   sends nothing, owed no ack)
 *
 * Each accepted connection is served by a child process of its own, which opens STREAM
 * as an ordinary reader (so each remote reader has its own position and losses) and
 * sends a hello, then one record per packet (client/net_frame.h) and an end record when
 * the stream ends. The records carry the stream's sequence numbers: what the local
 * reader lost shows up remotely as a gap.
 *
 * Safety: tcp:// listens on loopback only. Any other address needs tls:// with a CA:
 * the handshake refuses a client without a certificate signed by it (mutual TLS), so no
 * packet leaves the machine to someone unauthenticated. Every refusal is logged with
 * the peer's address. A handshake not done in --handshake-ms is cut, however the peer
 * paces its bytes.
 * OpenSSL is linked into the CLI; libbeltline-client itself loads TLS only for tls://.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "beltline.h"
#include "bl_time.h"
#include "cli_pvt.h"     /* bl_cli_number */
#include "exporter.h"   /* bl_cli_stopping */
#include "net_frame.h"
#include "serve.h"
#include "serve_pvt.h"

static const char serve_usage[] =
	"usage: beltline serve [--cert FILE --key FILE --ca FILE] [--max-clients N]\n"
	"                      [--handshake-ms MS] [--stall-ms MS] STREAM LISTEN-URI\n"
	"       beltline serve --write [--cert FILE --key FILE --ca FILE] [--handshake-ms MS]\n"
	"                      [--stall-ms MS] NAME LISTEN-URI\n"
	"  LISTEN-URI: tcp://HOST:PORT or udp://HOST:PORT (loopback only), or tls://HOST:PORT (mutual TLS:\n"
	"  --cert, --key and --ca are needed; clients must show a certificate the CA signed)\n"
	"  --write: take one remote writer at a time (beltline inject tcp://HOST:PORT FILE) and\n"
	"  write its frames into the inject stream NAME (tcp:// or tls://; a second is refused)\n"
	"  --handshake-ms MS: a TLS handshake not done in MS (default 5000) is cut\n"
	"  --stall-ms MS: a reader that does not take 64 KiB (nothing, or a trickle), or a writer\n"
	"  that sends nothing (and is owed no ack) or no whole record, in MS (default 30000) is cut\n";

/* The child: serve one connection. Exit status 0 (the stream ended, or the peer went),
 * 1 the peer refused before its hello (reap counts it), 3 reading the stream failed. */
static int
serve_one(struct serve *sv, int fd, const char *peer, const struct serve_peer *who)
{
	static uint8_t buf[BLN_MAX_CAPLEN];
	struct beltline_info info = { .sz = sizeof(info) };
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct conn *c = calloc(1, sizeof(*c));
	uint8_t hb[BLN_HELLO_LEN], rh[BLN_REC_HDR];
	uint64_t next = 0, sent = 0;
	int rc, status = 0;

	if (c == NULL)
		return 1;
	c->fd = fd;
	c->dgram = sv->udp;
	if (sv->tls && tls_accept(sv, c, peer) < 0) {
		free(c);
		return 1;
	}
	if (sv->tls)
		kids_authed(sv->kids);
	if (!sv->udp) {
		/* A reader that does not take a buffer (64 KiB at most) within stall_ms is
		 * cut: blocked in send, this child reads the stream no more, and an srp or mrp
		 * stream waits for it (conn_send). */
		send_timeout(fd, sv->stall_ms);
		c->stall_ms = sv->stall_ms;
	}
	if (serve_become(who, peer) < 0) {
		conn_free(c);
		return 1;
	}
	if (beltline_open(sv->src, NULL, &s) < 0) {
		say("%s: cannot open %s (the library said why): closing", peer, sv->src);
		conn_free(c);
		return 1;
	}
	beltline_fd(s);
	beltline_info(s, &info);
	struct bln_hello h = { .linktype = (uint32_t)info.linktype, .cookie = sv->udp_cookie,
		.snaplen = info.snaplen == 0 || info.snaplen > BLN_MAX_CAPLEN ? BLN_MAX_CAPLEN :
			info.snaplen };
	if (sv->udp && h.snaplen > 65000)   /* a record must fit a datagram: longer ones are cut */
		h.snaplen = 65000;
	bln_put_hello(hb, &h);
	if (conn_put(c, hb, sizeof(hb)) < 0 || conn_flush(c) < 0)
		goto gone;
	while (!bl_cli_stopping()) {
		struct beltline_pkt_info pi;

		rc = beltline_read(s, buf, h.snaplen, &pi);
		if (rc == -EAGAIN) {
			struct pollfd p[2] = { { .fd = beltline_fd(s), .events = POLLIN },
				{ .fd = fd, .events = POLLIN } };
			if (conn_flush(c) < 0)
				goto gone;
			if (poll(p, 2, 100) > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
				char junk[256];   /* a reader sends nothing: data or EOF means it is gone */
				if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0 || c->ssl != NULL)
					goto gone;
			}
			continue;
		}
		if (rc < 0) {
			say("%s: reading %s: %s", peer, sv->src, strerror(-rc));
			status = 3;     /* served, then failed: 1 is a refusal (reap) */
			break;
		}
		if (rc == 0)
			break;
		struct bln_rec r = { .type = BLN_REC_PKT,
			.flags = (pi.flags & BELTLINE_PKT_F_TS) ? BLN_F_TS : 0, .cls = pi.cls,
			.caplen = pi.copied, .len = pi.len < pi.copied ? pi.copied : pi.len,
			.seq = pi.seq, .ts_ns = pi.ts_ns };
		bln_put_rec_hdr(rh, &r);
		if (conn_put(c, rh, sizeof(rh)) < 0 || conn_put(c, buf, pi.copied) < 0 ||
		    (c->dgram && conn_flush(c) < 0))
			goto gone;
		next = pi.seq + 1;
		sent++;
	}
	if (!bl_cli_stopping()) {
		struct bln_rec e = { .type = BLN_REC_END, .seq = next };
		bln_put_rec_hdr(rh, &e);
		for (int k = 0; k < (c->dgram ? 3 : 1); k++)   /* udp: it may be lost */
			if (conn_put(c, rh, sizeof(rh)) < 0 || conn_flush(c) < 0)
				goto gone;
		if (c->ssl != NULL)
			SSL_shutdown(c->ssl);
	}
	beltline_stats(s, &st);
	say("%s: done, %llu packets sent, %llu lost locally", peer, (unsigned long long)sent,
	    (unsigned long long)st.lost);
	beltline_close(s);
	conn_free(c);
	return status;
gone:
	if (c->stalled)
		say("cut %s: took nothing, or too little, for %d ms (--stall-ms), after %llu packets", peer,
		    sv->stall_ms, (unsigned long long)sent);
	else
		say("%s: gone after %llu packets", peer, (unsigned long long)sent);
	beltline_close(s);
	conn_free(c);
	return 0;
}

/* udp://: a subscribe datagram on the listening socket. A socket connected to its
 * sender (the child sends from it; a reader gone shows as ECONNREFUSED), or -1: not a
 * subscribe (refused, logged), a goodbye, or a reader already served. */
static int
udp_subscriber(int lfd, struct sockaddr_storage *sa, char *peer, size_t psz, struct kids *ks,
	       uint64_t *cookie)
{
	uint8_t d[64];
	socklen_t sl = sizeof(*sa);
	ssize_t got = recvfrom(lfd, d, sizeof(d), MSG_DONTWAIT, (struct sockaddr *)sa, &sl);
	struct bln_sub u;
	int fd;

	if (got < 0)
		return -1;
	peer_name(sa, peer, psz);
	if (bln_get_sub(d, (size_t)got, &u) < 0) {
		/* any local process can send these: 5 lines a second at most, the rest counted */
		static uint64_t sec;
		static unsigned int said, unsaid;
		uint64_t now = bl_mono_ms() / 1000;
		if (now != sec) {
			if (unsaid != 0)
				say("refused %u more datagrams that were not subscribes", unsaid);
			sec = now;
			said = unsaid = 0;
		}
		if (said++ < 5)
			say("refused %s: not a subscribe datagram (%zd bytes)", peer, got);
		else
			unsaid++;
		return -1;
	}
	for (int i = 0; i < ks->max; i++)
		if (ks->k[i].pid > 0 && strcmp(ks->k[i].peer, peer) == 0) {
			/* served already: a repeated subscribe, or its goodbye. A goodbye ends
			 * its child now (on an idle stream it would send nothing, see no ICMP
			 * error and hold its place and a reader of the stream for ever). Only
			 * the reader's own address and port can send it: udp:// is loopback. */
			if (u.op == BLN_SUB_BYE) {
				say("%s: said goodbye", peer);
				kill(ks->k[i].pid, SIGTERM);
			}
			return -1;
		}
	if (u.op == BLN_SUB_BYE)
		return -1;
	*cookie = u.cookie;
	fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)sa, sl) < 0) {
		say("refused %s: %s", peer, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Children through their handshake are served, up to max_clients (counted in *served);
 * those past it are cut. The number cut. */
static unsigned int
take_authed(struct kids *ks, int max_clients, unsigned long long *served)
{
	unsigned int cut = 0;
	pid_t pid;

	while ((pid = kids_next_authed(ks)) > 0) {
		if (ks->n_authed > max_clients) {
			struct kid *k = kids_find(ks, pid);
			say("refused %s: %d clients already (--max-clients)", k->peer, max_clients);
			cut++;
			kill(pid, SIGTERM);
			kids_gone(ks, pid);
		} else {
			(*served)++;
		}
	}
	return cut;
}

/* Children that ended: one that ended with status 1 refused its peer before the hello
 * (it said why: no certificate, another CA, not TLS, too slow, or the appliance refused
 * the peer's user). One counted as served already (plain, or through its handshake) is
 * taken back: a local user refused the stream was counted as served. The number. */
static unsigned int
reap(struct kids *ks, unsigned long long *served)
{
	unsigned int refused = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct kid *k = kids_find(ks, pid);
		if (k != NULL && WIFEXITED(status) && WEXITSTATUS(status) == 1) {
			refused++;
			if (k->authed && *served > 0)
				(*served)--;
		}
		kids_gone(ks, pid);
	}
	return refused;
}

/* Whether beltline://INSTANCE/NAME is a stream the instance lists to us (list shows only
 * what we may read), asked without attaching (an attach and detach would end a tap whose
 * only reader it was). Says why not. */
static bool
stream_listed(const char *src)
{
	const char *inst = src + 11, *slash = strchr(inst, '/');
	char in[64];
	const cJSON *s, *streams;
	cJSON *j;
	bool found = false;

	if (slash == NULL || (size_t)(slash - inst) >= sizeof(in))
		return true;   /* the open at each connection says what is wrong */
	snprintf(in, sizeof(in), "%.*s", (int)(slash - inst), inst);
	if (bl_cli_request(in, BELTLINE_CTL_LIST, &j) != 0)
		return false;   /* it said why (no instance running, ...) */
	streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	cJSON_ArrayForEach(s, streams) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");
		found |= cJSON_IsString(n) && strcmp(n->valuestring, slash + 1) == 0;
	}
	cJSON_Delete(j);
	if (!found)
		say("%s: no stream \"%s\" you may read in instance \"%s\" (beltline ls lists them)",
		    src, slash + 1, in);
	return found;
}

int
bl_cli_serve(int argc, char **argv, const char *instance)
{
	static const struct option lo[] = {
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'a' }, { "max-clients", required_argument, NULL, 'm' },
		{ "handshake-ms", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "write", no_argument, NULL, 'w' }, { "stall-ms", required_argument, NULL, 's' },
		{ 0 },
	};
	struct serve sv = { .handshake_ms = 5000, .stall_ms = 30000 };
	char src[512];
	struct kids ks;
	unsigned long long refused = 0, served = 0;
	int c, lfd, usage_err, max_clients = 16, to_write = 0, max_set = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			sv.cert = optarg;
			break;
		case 'k':
			sv.key = optarg;
			break;
		case 'a':
			sv.ca = optarg;
			break;
		case 'm':
		case 's':
		case 't': {
			const char *what = c == 'm' ? "max-clients" : c == 's' ? "stall-ms" :
					   "handshake-ms";
			int top = c == 'm' ? 1024 : 600000;
			unsigned long long v;
			if (bl_cli_number(optarg, 1, (unsigned long long)top, &v) < 0) {
				say("--%s wants 1..%d, got '%s'", what, top, optarg);
				return 2;
			}
			*(c == 'm' ? &max_clients : c == 's' ? &sv.stall_ms : &sv.handshake_ms) = (int)v;
			max_set |= c == 'm';
			break;
		}
		case 'w':
			to_write = 1;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return 0;
		default:
			fputs(serve_usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 2) {
		fputs(serve_usage, stderr);
		return 2;
	}
	const char *stream = argv[optind], *luri = argv[optind + 1];

	if (strstr(stream, "://") != NULL || strncmp(stream, "file:", 5) == 0)
		snprintf(src, sizeof(src), "%s", stream);
	else if (snprintf(src, sizeof(src), "beltline://%s/%s", instance, stream) >= (int)sizeof(src)) {
		say("%s: stream name too long", stream);
		return 2;
	}
	sv.src = src;
	if (strncmp(luri, "tls://", 6) == 0) {
		sv.tls = 1;
		if (sv.cert == NULL || sv.key == NULL || sv.ca == NULL) {
			say("tls:// needs --cert, --key and --ca (mutual TLS)");
			return 2;
		}
	} else if (strncmp(luri, "tcp://", 6) != 0 && strncmp(luri, "udp://", 6) != 0) {
		say("%s: want tcp://HOST:PORT, udp://HOST:PORT or tls://HOST:PORT", luri);
		return 2;
	} else if (sv.cert != NULL || sv.key != NULL || sv.ca != NULL) {
		say("--cert, --key and --ca are for tls://");
		return 2;
	}
	sv.udp = strncmp(luri, "udp://", 6) == 0;
	if (to_write && (sv.udp || max_set)) {
		say("%s", sv.udp ? "--write: udp:// takes readers only: tcp:// or tls://" :
		    "--write takes one writer at a time: --max-clients is for readers");
		return 2;
	}
	if (to_write && strncmp(src, "beltline://", 11) != 0) {
		say("--write: %s: want an inject stream's NAME (or beltline://INSTANCE/NAME)", stream);
		return 2;
	}
	if (to_write) { /* say now, not at the first connection, if NAME cannot be written */
		struct beltline_writer *w;
		int rc = beltline_open_write(src, NULL, &w);
		if (rc < 0 && rc != -EBUSY)
			return 1;       /* the library said why (busy: it is there, writable) */
		beltline_write_close(rc == 0 ? w : NULL);
	}
	if (sv.tls && (sv.ctx = tls_ctx(&sv)) == NULL)
		return 1;
	lfd = listen_on(luri, sv.tls, sv.udp, sv.ca != NULL, &usage_err);
	if (lfd < 0) {
		SSL_CTX_free(sv.ctx);
		return usage_err ? 2 : 1;
	}
	if (!to_write && strncmp(src, "beltline://", 11) == 0 && !stream_listed(src)) {
		/* said now, not at each connection (after the address: a usage error first) */
		close(lfd);
		SSL_CTX_free(sv.ctx);
		return 1;
	}
	if (to_write) {
		int rc = bl_serve_write(&sv, lfd);
		close(lfd);
		SSL_CTX_free(sv.ctx);
		return rc;
	}
	if (kids_init(&ks, max_clients) < 0) {
		close(lfd);
		SSL_CTX_free(sv.ctx);
		return 1;
	}
	sv.kids = &ks;
	say("serving %s on %s", src, luri);
	fflush(stderr);
	while (!bl_cli_stopping()) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = ks.pipe[0], .events = POLLIN } };
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		char peer[80];
		pid_t pid;

		/* handshakes done first: a child that passed its own and then ended is no
		 * refusal */
		refused += take_authed(&ks, max_clients, &served);
		refused += reap(&ks, &served);
		if (poll(p, 2, 200) <= 0 || !(p[0].revents & POLLIN))
			continue;
		int fd;
		if (sv.udp) {
			fd = udp_subscriber(lfd, &sa, peer, sizeof(peer), &ks, &sv.udp_cookie);
			if (fd < 0)
				continue;
		} else {
			fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			peer_name(&sa, peer, sizeof(peer));
		}
		/* Without TLS a peer is who it is now (loopback: its uid); with, once its
		 * handshake is done (the child says so), and pending ones count apart. */
		if (!sv.tls && ks.n_authed >= max_clients) {
			say("refused %s: %d clients already (--max-clients)", peer, ks.n_authed);
			refused++;
			close(fd);
			continue;
		}
		struct serve_peer who;
		if (serve_peer_identify(sv.udp ? lfd : fd, &sa, sv.udp, &who, peer) < 0) {
			refused++;
			close(fd);
			continue;
		}
		int one = 1;
		if (!sv.udp) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			conn_keepalive(fd);
		}
		if (sv.tls) {
			refused += take_authed(&ks, max_clients, &served);   /* not cut as pending */
			refused += (unsigned long long)kids_make_room(&ks, peer);
		}
		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			int st = serve_one(&sv, fd, peer, &who);
			SSL_CTX_free(sv.ctx);
			exit(st);
		}
		if (pid > 0) {
			kids_add(&ks, pid, peer, !sv.tls);
			served += !sv.tls;   /* with TLS, once through its handshake */
		} else {
			refused++;
			say("refused %s: fork: %s", peer, strerror(errno));
		}
		close(fd);
	}
	close(lfd);
	refused += take_authed(&ks, max_clients, &served);
	refused += reap(&ks, &served);
	kids_stop_all(&ks);
	kids_fini(&ks);
	say("stopped: %llu peers served, %llu refused (see the lines above)", served, refused);
	SSL_CTX_free(sv.ctx);
	return 0;
}
