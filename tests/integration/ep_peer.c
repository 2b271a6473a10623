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
 *
 * Exchange: send N messages of random sizes (1 B .. max_msg) and receive N,
 * both at once, in one thread, never blocking (timeout 0, poll on the fd when
 * neither way can move: FABLE's xpoll). Message k is its size's worth of bytes
 * from a generator seeded with (SEED, k); one of 16 bytes or more starts with
 * k and a checksum of the rest, which the reader checks (a shorter one is
 * compared whole). Prints "progress K" to stdout every 1/8 of N, then "ok sent N
 * received N" (N 0: for ever, "progress" every 16384). Exit 0 done, 1 a wrong message, 3 the peer ended early (it
 * prints "eos after K"), 2 setup failed. MODE "0666" or the like: the listen mode.
 * URI: beltline://INSTANCE/ep/NAME, or tcp://HOST:PORT, tls://HOST:PORT (ep_net.sh;
 * certificates from $BELTLINE_TLS_CA, _CERT, _KEY). $EP_TIMEOUT_MS: the set-up timeout
 * (default 20000); $EP_ACCEPT_RETRY set: a listener that refused a connection (-EPROTO)
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

static struct beltline_ep_listener *l;
static struct beltline_ep *ep;

/* Every exit closes what is open (a sanitizer build counts it a leak otherwise). */
static void
cleanup(void)
{
	beltline_ep_close(ep);
	beltline_ep_listener_close(l);
	ep = NULL;
	l = NULL;
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
	atexit(cleanup);
	beltline_set_log(logcb, NULL);
	n = strtoull(argv[3], NULL, 10);
	step = n / 8 ? n / 8 : 1;
	if (n == 0) {               /* for ever, until the peer or a signal ends it */
		n = UINT64_MAX;
		step = 16384;
	}
	seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
	if (strcmp(argv[1], "listen") == 0 || strcmp(argv[1], "sink") == 0 ||
	    strcmp(argv[1], "xpoll") == 0) {
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
		pseed = seed - 1;
		rc = beltline_ep_connect(argv[2], &o, &ep);
	}
	if (rc < 0) {
		printf("setup failed: %s\n", strerror(-rc));
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
		sleep(3);                               /* the peer's message arrives */
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
	printf("ok sent %llu received %llu sleeps %llu wakeups %llu\n", (unsigned long long)sent,
	       (unsigned long long)got, (unsigned long long)st.sleeps, (unsigned long long)st.wakeups);
	/* What we committed stays readable to the peer after we close. */
	cleanup();
	return 0;
}
