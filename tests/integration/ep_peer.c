/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_peer — one end of an endpoint pair for ep.sh (issue 12, point 4).
 *
 *   ep_peer listen  URI N [SEED [MODE]]   register, accept one, exchange
 *   ep_peer connect URI N [SEED]          connect, exchange
 *   ep_peer sink    URI N                 listen, accept one, read without checking
 *                                         until the end (exit 3) or an error (exit 1)
 *   ep_peer xpoll   URI N                 listen, accept one that sends a message and
 *                                         reads nothing (ep_net_hostile.py onemsg): the
 *                                         fd is readable for it after the send side filled
 *   ep_peer echo    URI N                 listen, accept one, send each of N messages back
 *                                         with beltline_ep_forward(ep, ep): prints
 *                                         "echoed N zero_copy Z copied C"
 *   ep_peer echoed  URI N SEED            connect and exchange with an echo: what comes
 *                                         back is what we sent (the peer's seed is ours)
 *   ep_peer fillecho URI SIZE             connect to an echo, fill the ring with SIZE-byte
 *                                         messages until no room, take every echo, wait
 *                                         200 ms (the echoing side is asleep by then),
 *                                         release them all: room must come back (the
 *                                         echoing side gives the space back only once we
 *                                         released its echoes, so it must be woken by that)
 *   ep_peer relay   URI URI2 N            listen on both, accept one on each, forward
 *                                         every message of one to the other, both ways,
 *                                         never blocking, N each way (one copy each)
 *
 * Exchange: send N messages of random sizes (1 B .. max_msg) and receive N,
 * both at once, in one thread, never blocking (timeout 0, poll on the fd when
 * neither way can move: FABLE's xpoll). Message k is its size's worth of bytes
 * from a generator seeded with (SEED, k); one of 16 bytes or more starts with
 * k and a checksum of the rest, which the reader checks (a shorter one is
 * compared whole). Prints "progress K" to stdout every 1/8 of N, then "ok sent N
 * received N" (N 0: for ever, "progress" every $EP_PROGRESS, default 16384). Exit 0 done, 1 a wrong message, 3 the peer ended early (it
 * prints "eos after K"), 2 setup failed. MODE "0666" or the like: the listen mode.
 * URI: beltline://INSTANCE/ep/NAME, or tcp://HOST:PORT, tls://HOST:PORT (ep_net.sh;
 * certificates from $BELTLINE_TLS_CA, _CERT, _KEY). $EP_TIMEOUT_MS: the set-up timeout
 * (default 20000); $EP_SPIN_US: spin_us (-1: sleep at once); $EP_PEER_USER: peer_user
 * (connect: the user the listener must run as); $EP_ACCEPT_RETRY set: a listener that refused a connection (-EPROTO)
 * prints "refused a connection" and accepts again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t max_msg;

/* The size of message k of a side seeded so: mostly small, some large, all sizes seen. */
static uint32_t
size_of(uint64_t seed, uint64_t k)
{
	uint64_t r = mix(seed ^ (k * 0x2545f4914f6cdd1dull));

	switch (r & 3) {
	case 0: return 1 + (uint32_t)((r >> 8) % 16);
	case 1: return 1 + (uint32_t)((r >> 8) % 512);
	default: return 1 + (uint32_t)((r >> 8) % max_msg);
	}
}

static uint64_t
csum(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull, w;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void
fill(uint8_t *p, uint32_t n, uint64_t seed, uint64_t k)
{
	uint64_t x = mix(seed * 31 + k) | 1;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)(x >> (8 * (i & 7))) ^ (uint8_t)i;
}

static struct beltline_ep_listener *l, *l2;
static struct beltline_ep *ep, *ep2;

/* Every exit closes what is open (a sanitizer build counts it a leak otherwise). */
static void
cleanup(void)
{
	beltline_ep_close(ep);
	beltline_ep_close(ep2);
	beltline_ep_listener_close(l);
	beltline_ep_listener_close(l2);
	ep = ep2 = NULL;
	l = l2 = NULL;
}

/* relay: forward from a to b what a sent, never blocking; a message read and not yet
 * forwarded (b had no room) is tried again first. 1 moved, 0 not, -1 error, 3 end. */
struct fwd { struct beltline_ep *from, *to; const void *b; uint32_t len; uint64_t n; };

static int
relay_step(struct fwd *f, uint64_t n)
{
	int rc;

	if (f->n == n)
		return 0;
	if (f->b == NULL) {
		rc = beltline_ep_getreadbuf(f->from, &f->b, &f->len, 0);
		if (rc == 0)
			return 3;
		if (rc == -EAGAIN)
			return 0;
		if (rc < 0) {
			printf("relay read error: %s\n", strerror(-rc));
			return -1;
		}
	}
	rc = beltline_ep_forward(f->to, f->from, f->b, f->len, 0);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0) {
		printf("relay forward error: %s\n", strerror(-rc));
		return rc == -EPIPE ? 3 : -1;
	}
	f->b = NULL;
	f->n++;
	return 1;
}

static int
relay(const char *u1, const char *u2, uint64_t n, const struct beltline_ep_opts *o)
{
	struct beltline_ep_stats s1 = { .sz = sizeof(s1) }, s2 = { .sz = sizeof(s2) };
	struct fwd ab, ba;

	if (beltline_ep_listen(u1, o, &l) < 0 || beltline_ep_listen(u2, o, &l2) < 0) {
		printf("setup failed\n");
		return 2;
	}
	printf("listening\n");
	if (beltline_ep_accept(l, 60000, &ep) < 0 || beltline_ep_accept(l2, 60000, &ep2) < 0) {
		printf("setup failed: accept\n");
		return 2;
	}
	ab = (struct fwd){ .from = ep, .to = ep2 };
	ba = (struct fwd){ .from = ep2, .to = ep };
	while (ab.n < n || ba.n < n) {
		int x = relay_step(&ab, n), y = relay_step(&ba, n);

		if (x < 0 || y < 0)
			return 1;
		if (x == 3 || y == 3) {
			printf("eos after %llu and %llu\n", (unsigned long long)ab.n,
			       (unsigned long long)ba.n);
			return 3;
		}
		if (x == 0 && y == 0) {
			struct pollfd p[2] = { { .fd = beltline_ep_fd(ep), .events = POLLIN },
					       { .fd = beltline_ep_fd(ep2), .events = POLLIN } };
			poll(p, 2, 100);
		}
	}
	beltline_ep_stats(ep, &s1);
	beltline_ep_stats(ep2, &s2);
	printf("relayed %llu and %llu zero_copy %llu copied %llu\n", (unsigned long long)ab.n,
	       (unsigned long long)ba.n,
	       (unsigned long long)(s1.forwarded_zero_copy + s2.forwarded_zero_copy),
	       (unsigned long long)(s1.forwarded_copied + s2.forwarded_copied));
	return 0;
}

static void
logcb(enum beltline_log_level l, const char *m, void *c)
{
	(void)l;
	(void)c;
	fprintf(stderr, "ep_peer[%d]: %s\n", (int)getpid(), m);
}

int
main(int argc, char **argv)
{
	struct beltline_ep_opts o = { .sz = sizeof(o), .timeout_ms = 20000 };
	struct beltline_ep_stats st = { .sz = sizeof(st) };
	uint64_t n, sent = 0, got = 0, seed, pseed, step;
	uint8_t tmp[16];
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: ep_peer listen|connect URI N [SEED [MODE]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("EP_TIMEOUT_MS") != NULL)
		o.timeout_ms = atoi(getenv("EP_TIMEOUT_MS"));
	if (getenv("EP_SPIN_US") != NULL)       /* -1: every blocking call sleeps at once */
		o.spin_us = atoi(getenv("EP_SPIN_US"));
	o.peer_user = getenv("EP_PEER_USER");   /* connect: the listener must run as this user */
	atexit(cleanup);
	beltline_set_log(logcb, NULL);
	n = strtoull(argv[3], NULL, 10);
	step = n / 8 ? n / 8 : 1;
	if (n == 0) {               /* for ever, until the peer or a signal ends it */
		n = UINT64_MAX;
		step = getenv("EP_PROGRESS") ? strtoull(getenv("EP_PROGRESS"), NULL, 10) : 16384;
		step = step ? step : 1;
	}
	seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
	if (strcmp(argv[1], "relay") == 0) {
		if (argc < 5)
			return 2;
		n = strtoull(argv[4], NULL, 10);
		return relay(argv[2], argv[3], n, &o);
	}
	if (strcmp(argv[1], "listen") == 0 || strcmp(argv[1], "sink") == 0 ||
	    strcmp(argv[1], "xpoll") == 0 || strcmp(argv[1], "echo") == 0) {
		o.mode = argc > 5 ? argv[5] : NULL;
		pseed = seed + 1;           /* the connector's seed: ours + 1 */
		rc = beltline_ep_listen(argv[2], &o, &l);
		if (rc == 0) {
			printf("listening\n");
			rc = beltline_ep_accept(l, 60000, &ep);
			while (rc == -EPROTO && getenv("EP_ACCEPT_RETRY") != NULL) {
				printf("refused a connection\n");
				rc = beltline_ep_accept(l, 60000, &ep);
			}
		}
	} else {
		if (strcmp(argv[1], "fillecho") == 0)
			o.spin_us = -1;
		pseed = strcmp(argv[1], "echoed") == 0 ? seed : seed - 1;
		if (getenv("EP_PSEED") != NULL)         /* relay.sh: the other client's seed */
			pseed = strtoull(getenv("EP_PSEED"), NULL, 10);
		rc = beltline_ep_connect(argv[2], &o, &ep);
	}
	if (rc < 0) {
		printf("setup failed: %s\n", strerror(-rc));
		return 2;
	}
	/* A release with nothing read is the caller's mistake, refused on every transport
	 * (over tcp:// it moved the released count past the read one: the next reads failed). */
	if (beltline_ep_release(ep, NULL) != -EINVAL) {
		printf("a release with nothing held was not refused\n");
		return 2;
	}
	beltline_ep_stats(ep, &st);
	max_msg = st.max_msg;
	printf("connected peer %d\n", st.peer_pid);
	if (strcmp(argv[1], "xpoll") == 0) {
		/* The xpoll contract: after -EAGAIN from getreadbuf, a message that arrives makes
		 * beltline_ep_fd() readable, whatever getwritebuf did meanwhile (here: fill the
		 * send side while the peer reads nothing). */
		const void *b;
		void *w;
		uint32_t len;
		unsigned k = 0;

		rc = beltline_ep_getreadbuf(ep, &b, &len, 0);
		printf("getreadbuf first: %d\n", rc);
		sleep(1);          /* the peer's message arrives (0.2 s after its hello) */
		while (beltline_ep_getwritebuf(ep, 4096, &w, 0) == 0 && k < 100000) {
			memset(w, 0, 4096);
			beltline_ep_commit(ep, w, 4096);
			k++;
		}
		struct pollfd p = { .fd = beltline_ep_fd(ep), .events = POLLIN };
		rc = poll(&p, 1, 20000);
		printf("sent %u, then poll: %d\n", k, rc);
		if (rc == 1 && beltline_ep_getreadbuf(ep, &b, &len, 0) == 1) {
			printf("ok a message of %u bytes\n", len);
			return 0;
		}
		printf("poll said nothing with a message waiting\n");
		return 1;
	}
	if (strcmp(argv[1], "fillecho") == 0) {
		uint32_t size = (uint32_t)n, len;
		static const void *held[65536];
		const void *b;
		void *w;
		uint64_t k = 0;

		while (k < 65536 && beltline_ep_getwritebuf(ep, size, &w, 0) == 0) {
			memset(w, (int)k, size);
			beltline_ep_commit(ep, w, size);
			k++;
		}
		for (got = 0; got < k; got++)
			if (beltline_ep_getreadbuf(ep, &held[got], &len, 20000) != 1) {
				printf("echo %llu did not come\n", (unsigned long long)got);
				return 1;
			}
		usleep(200000);
		for (uint64_t i = 0; i < k; i++)
			beltline_ep_release(ep, held[i]);
		rc = beltline_ep_getwritebuf(ep, size, &w, 10000);
		printf("filled %llu, all echoed and released: room %s\n", (unsigned long long)k,
		       rc == 0 ? "came back" : strerror(-rc));
		if (rc != 0)
			return 1;
		beltline_ep_commit(ep, w, size);
		rc = beltline_ep_getreadbuf(ep, &b, &len, 10000);
		printf("%s\n", rc == 1 ? "ok one more echoed" : "the last echo did not come");
		return rc == 1 ? 0 : 1;
	}
	if (strcmp(argv[1], "echo") == 0) {     /* every message back to its sender */
		const void *b;
		uint32_t len;

		while (got < n && (rc = beltline_ep_getreadbuf(ep, &b, &len, -1)) == 1) {
			rc = beltline_ep_forward(ep, ep, b, len, -1);
			if (rc < 0)
				break;
			got++;
		}
		beltline_ep_stats(ep, &st);
		printf("echoed %llu zero_copy %llu copied %llu\n", (unsigned long long)got,
		       (unsigned long long)st.forwarded_zero_copy,
		       (unsigned long long)st.forwarded_copied);
		if (got < n)
			printf("stopped: %s\n", rc == 0 ? "end of stream" : strerror(-rc));
		return got == n ? 0 : rc == 0 || rc == -EPIPE ? 3 : 1;
	}
	if (strcmp(argv[1], "sink") == 0) {     /* take messages unchecked until the end */
		const void *b;
		uint32_t len;

		while ((rc = beltline_ep_getreadbuf(ep, &b, &len, -1)) == 1) {
			beltline_ep_release(ep, b);
			got++;
		}
		beltline_ep_stats(ep, &st);
		if (rc == 0)
			printf("eos after %llu\n", (unsigned long long)got);
		else
			printf("read error after %llu: %s (garbage %llu)\n", (unsigned long long)got,
			       strerror(-rc), (unsigned long long)st.garbage);
		return rc == 0 ? 3 : 1;
	}
	int wrc = 0, rrc = 0;
	time_t last_move = time(NULL);
	/* echoed: where we wrote message k; the echo reads from there when it came back
	 * uncopied (a window of the last 2^16: more are never in flight) */
	static const void *wrote[65536];
	uint64_t same = 0;
	int echoed = strcmp(argv[1], "echoed") == 0;
	while (sent < n || got < n) {
		int moved = 0;

		if (sent < n) {
			uint32_t len = size_of(seed, sent);
			void *b;

			rc = wrc = beltline_ep_getwritebuf(ep, len, &b, 0);
			if (rc == 0) {
				fill(b, len, seed, sent);
				if (len >= 16) {
					uint64_t c = csum((uint8_t *)b + 16, len - 16);
					memcpy(b, &sent, 8);
					memcpy((uint8_t *)b + 8, &c, 8);
				}
				wrote[sent & 65535] = b;
				rc = beltline_ep_commit(ep, b, len);
				sent++;
				moved = 1;
			}
			if (rc == -EPIPE) {
				printf("eos after %llu (sent %llu)\n", (unsigned long long)got,
				       (unsigned long long)sent);
				return 3;
			}
			if (rc < 0 && rc != -EAGAIN) {
				printf("write error: %s\n", strerror(-rc));
				return 1;
			}
		}
		if (got < n) {
			const void *b;
			uint32_t len, want = size_of(pseed, got);

			rc = rrc = beltline_ep_getreadbuf(ep, &b, &len, 0);
			if (rc == 0) {
				printf("eos after %llu (sent %llu)\n", (unsigned long long)got,
				       (unsigned long long)sent);
				return 3;
			}
			if (rc == 1) {
				const uint8_t *p = b;
				uint64_t k, c;

				if (len != want) {
					printf("message %llu: %u bytes, want %u\n",
					       (unsigned long long)got, len, want);
					return 1;
				}
				if (len >= 16) {
					memcpy(&k, p, 8);
					memcpy(&c, p + 8, 8);
					if (k != got || c != csum(p + 16, len - 16)) {
						printf("message %llu: seq %llu, checksum %s\n",
						       (unsigned long long)got, (unsigned long long)k,
						       c != csum(p + 16, len - 16) ? "wrong" : "right");
						return 1;
					}
				} else {
					fill(tmp, len, pseed, got);
					if (memcmp(tmp, p, len) != 0) {
						printf("message %llu: short message differs\n",
						       (unsigned long long)got);
						return 1;
					}
				}
				same += echoed && b == wrote[got & 65535];
				beltline_ep_release(ep, b);
				got++;
				moved = 1;
				if (got % step == 0)
					printf("progress %llu\n", (unsigned long long)got);
			} else if (rc != -EAGAIN) {
				printf("read error: %s\n", strerror(-rc));
				return 1;
			}
		}
		if (!moved) {
			struct pollfd p = { .fd = beltline_ep_fd(ep), .events = POLLIN };
			static time_t last;
			poll(&p, 1, 1000);
			if (time(NULL) - last >= 1 && last_move < time(NULL) - 1) {
				last = time(NULL);
				beltline_ep_stats(ep, &st);
				fprintf(stderr, "no progress for 1 s: sent %llu got %llu (write %d read %d; "
					"sleeps %llu wakeups %llu)\n", (unsigned long long)sent,
					(unsigned long long)got, wrc, rrc, (unsigned long long)st.sleeps,
					(unsigned long long)st.wakeups);
			}
		} else
			last_move = time(NULL);
	}
	beltline_ep_stats(ep, &st);
	printf("ok sent %llu received %llu sleeps %llu wakeups %llu peer_uid %u\n",
	       (unsigned long long)sent, (unsigned long long)got, (unsigned long long)st.sleeps,
	       (unsigned long long)st.wakeups, st.peer_uid);
	if (echoed)
		printf("came back in the buffer we wrote: %llu\n", (unsigned long long)same);
	/* What we committed stays readable to the peer after we close. */
	cleanup();
	return 0;
}
