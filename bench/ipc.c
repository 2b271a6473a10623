/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipc — FABLE's comparison (issue 12 point 5), one transport at a time, for bench/ipc.sh:
 *
 *   ipc TRANSPORT SIZE SECONDS PINGS [URI]
 *
 * TRANSPORT: ep-spin, ep-sleep (a Beltline endpoint at URI, beltline://I/ep/NAME, the
 * parent listening, the child connecting), pipe, unix (stream socket pair), tcp
 * (loopback). The parent and the child run pinned to CPUs 0 and 1. Throughput: the
 * child sends SIZE-byte messages for SECONDS, the parent reads and verifies every one
 * (sequence number and a checksum over the whole message). Then PINGS round trips of
 * one message each way. Prints one line:
 *   TRANSPORT SIZE msgs_per_s GB_per_s median_one_way_ns p99_one_way_ns
 * Exits 1 if a message fails its check. $IPC_DBUF=BYTES: the endpoint's dbuf_bytes
 * (default the library's, 4 MiB; 256 KiB..16 MiB measured the same at 64 KiB but 16 MiB,
 * a fifth slower). $IPC_STATS=1: each endpoint side prints its counters to stderr
 * (sleeps, wakeups sent), which tell a row bound by wake-ups from one bound by the data.
 * $IPC_SPIN_US=N: the endpoint's spin_us instead of the kind's (0: the library's default).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* $IPC_STATS=1: what an endpoint's side counted (to stderr): its sleeps and the wakeups
 * it sent, which say whether a row was bound by wake-ups or by moving the data. */
static void
ep_stats(const char *who, const struct beltline_ep *ep)
{
	struct beltline_ep_stats st = { .sz = sizeof(st) };

	if (getenv("IPC_STATS") == NULL || beltline_ep_stats(ep, &st) < 0)
		return;
	fprintf(stderr, "%s: sent %llu received %llu full %llu sleeps %llu wakeups %llu\n", who,
		(unsigned long long)st.sent, (unsigned long long)st.received,
		(unsigned long long)st.full, (unsigned long long)st.sleeps,
		(unsigned long long)st.wakeups);
}

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	(void)sched_setaffinity(0, sizeof(s), &s);
}

/* A message: seq (8 bytes), checksum of the rest (8), the rest a pattern of seq.
 * The checksum is Fletcher's over 64-bit words in eight independent lanes (a running
 * sum and a sum of sums: position matters), folded at the end: additions only, so
 * the compiler keeps it in vector registers and the reader sums at the speed memory
 * comes in. A multiply-add a word (one chain: 11 us a 64 KiB message on each side;
 * eight lanes: 3 us, half of what moving the message through an endpoint costs)
 * measured the checksum, not the transport. Every transport pays the same sum. */
static uint64_t
sum(const uint8_t *p, uint32_t n)
{
	uint64_t a[8] = { 0 }, b[8] = { 0 }, w[8], x = 0;
	uint32_t i = 16;

	for (; i + 64 <= n; i += 64) {
		memcpy(w, p + i, 64);
		for (unsigned j = 0; j < 8; j++) {
			a[j] += w[j];
			b[j] += a[j];
		}
	}
	for (unsigned j = 0; j < 8; j++)
		x = x * 31 + a[j] * 0x9e3779b97f4a7c15ull + b[j];
	for (; i + 8 <= n; i += 8) {
		memcpy(w, p + i, 8);
		x = x * 31 + w[0];
	}
	for (; i < n; i++)
		x = x * 31 + p[i];
	return x;
}

/* The writer's side of a message: its checksum depends only on the fill byte (the sum
 * skips the first 16 bytes) and the size, which stays the same for a whole run: the
 * writer computes each of the 256 once and looks it up after (every transport's writer
 * does the same), so a row measures what moving a message costs, not the writer
 * summing the same 64 KiB again. The reader still sums every byte of every message. */
static uint64_t memo_sum[256];
static uint32_t memo_n[256];

static void
make(uint8_t *p, uint32_t n, uint64_t seq)
{
	unsigned f = (unsigned)(seq & 0xff);
	uint64_t c;

	memset(p + 16, (int)f, n - 16);
	memcpy(p, &seq, 8);
	if (memo_n[f] != n) {
		memo_sum[f] = sum(p, n);
		memo_n[f] = n;
	}
	c = memo_sum[f];
	memcpy(p + 8, &c, 8);
}

static int
check(const uint8_t *p, uint32_t n, uint64_t seq)
{
	uint64_t s, c;

	memcpy(&s, p, 8);
	memcpy(&c, p + 8, 8);
	return s == seq && c == sum(p, n);
}

/* ---- the stream transports: whole messages over a byte stream ---- */

static int
full_write(int fd, const void *b, size_t n)
{
	for (size_t o = 0; o < n;) {
		ssize_t r = write(fd, (const char *)b + o, n - o);
		if (r <= 0)
			return -1;
		o += (size_t)r;
	}
	return 0;
}

static int
full_read(int fd, void *b, size_t n)
{
	for (size_t o = 0; o < n;) {
		ssize_t r = read(fd, (char *)b + o, n - o);
		if (r <= 0)
			return -1;
		o += (size_t)r;
	}
	return 0;
}

struct tr {
	int kind;                   /* 0 ep, 1 fd */
	struct beltline_ep *ep;
	int rfd, wfd;
};

static int
tx(struct tr *t, uint8_t *scratch, uint32_t n, uint64_t seq)
{
	if (t->kind == 0) {
		void *b;
		if (beltline_ep_getwritebuf(t->ep, n, &b, -1) < 0)
			return -1;
		make(b, n, seq);
		return beltline_ep_commit(t->ep, b, n);
	}
	make(scratch, n, seq);
	return full_write(t->wfd, scratch, n);
}

static int
rx(struct tr *t, uint8_t *scratch, uint32_t n, uint64_t seq)
{
	if (t->kind == 0) {
		const void *b;
		uint32_t len;
		if (beltline_ep_getreadbuf(t->ep, &b, &len, -1) != 1 || len != n || !check(b, n, seq))
			return -1;
		return beltline_ep_release(t->ep, b);
	}
	if (full_read(t->rfd, scratch, n) < 0 || !check(scratch, n, seq))
		return -1;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *kind;
	uint32_t size;
	double secs;
	unsigned pings;
	int a[2] = { -1, -1 }, b[2] = { -1, -1 }, lfd = -1, port = 0;
	struct beltline_ep_listener *l = NULL;
	struct beltline_ep_opts o = { .sz = sizeof(o), .timeout_ms = 20000 };
	struct tr t = { 0 };
	uint8_t *scratch;
	pid_t child;
	int ep;

	if (argc < 5)
		return 2;
	kind = argv[1];
	size = (uint32_t)atoi(argv[2]);
	secs = atof(argv[3]);
	pings = (unsigned)atoi(argv[4]);
	ep = strncmp(kind, "ep-", 3) == 0;
	if (size < 16)
		size = 16;
	scratch = malloc(size);
	o.spin_us = strcmp(kind, "ep-spin") == 0 ? BELTLINE_EP_SPIN_FOREVER : -1;
	if (getenv("IPC_SPIN_US") != NULL)
		o.spin_us = atoi(getenv("IPC_SPIN_US"));
	o.max_msg = 65536;
	if (getenv("IPC_DBUF") != NULL)
		o.dbuf_bytes = (uint32_t)atoi(getenv("IPC_DBUF"));
	if (ep) {
		if (argc < 6 || beltline_ep_listen(argv[5], &o, &l) < 0)
			return 2;
	} else if (strcmp(kind, "pipe") == 0) {
		if (pipe(a) < 0 || pipe(b) < 0)
			return 2;
	} else if (strcmp(kind, "unix") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) < 0)
			return 2;
		b[0] = a[1];   /* parent a[0], child a[1] */
		b[1] = -1;
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
		    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
			return 2;
		port = ntohs(sa.sin_port);
	}
	fflush(stdout);
	child = fork();
	if (child == 0) {   /* the sender of the throughput run; the echo of the ping-pong */
		uint64_t seq = 0, end;
		pin(1);
		if (ep) {
			t.kind = 0;
			if (beltline_ep_connect(argv[5], &o, &t.ep) < 0)
				_exit(2);
		} else if (strcmp(kind, "pipe") == 0) {
			t.kind = 1;
			t.wfd = a[1];
			t.rfd = b[0];
		} else if (strcmp(kind, "unix") == 0) {
			t.kind = 1;
			t.rfd = t.wfd = a[1];
		} else {
			struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(2);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			t.kind = 1;
			t.rfd = t.wfd = fd;
		}
		end = now_ns() + (uint64_t)(secs * 1e9);
		/* Throughput: send until the time is up, then one message of seq ~0 ends it. */
		while (now_ns() < end)
			for (int i = 0; i < 64; i++)
				if (tx(&t, scratch, size, seq++) < 0)
					_exit(1);
		if (tx(&t, scratch, size, UINT64_MAX) < 0)
			_exit(1);
		/* Ping-pong: echo. */
		for (unsigned i = 0; i < pings; i++)
			if (rx(&t, scratch, size, i) < 0 || tx(&t, scratch, size, i) < 0)
				_exit(1);
		if (ep) {
			ep_stats("sender", t.ep);
			beltline_ep_close(t.ep);
		}
		_exit(0);
	}
	pin(0);
	if (ep) {
		t.kind = 0;
		if (beltline_ep_accept(l, 20000, &t.ep) < 0)
			return 2;
	} else if (strcmp(kind, "pipe") == 0) {
		t.kind = 1;
		t.rfd = a[0];
		t.wfd = b[1];
	} else if (strcmp(kind, "unix") == 0) {
		t.kind = 1;
		t.rfd = t.wfd = a[0];
	} else {
		int one = 1, fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return 2;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t.kind = 1;
		t.rfd = t.wfd = fd;
	}
	uint64_t seq = 0, t0 = 0, t1, *rtt = calloc(pings ? pings : 1, sizeof(*rtt));
	for (;;) {
		uint64_t s;
		if (t.kind == 0) {
			const void *m;
			uint32_t len;
			if (beltline_ep_getreadbuf(t.ep, &m, &len, -1) != 1 || len != size)
				return 1;
			memcpy(&s, m, 8);
			if (s != UINT64_MAX && !check(m, size, seq))
				return fprintf(stderr, "ipc: message %llu failed its check\n",
					       (unsigned long long)seq), 1;
			beltline_ep_release(t.ep, m);
		} else {
			if (full_read(t.rfd, scratch, size) < 0)
				return 1;
			memcpy(&s, scratch, 8);
			if (s != UINT64_MAX && !check(scratch, size, seq))
				return fprintf(stderr, "ipc: message %llu failed its check\n",
					       (unsigned long long)seq), 1;
		}
		if (seq == 0)
			t0 = now_ns();
		if (s == UINT64_MAX)
			break;
		seq++;
	}
	t1 = now_ns();
	if (ep)
		ep_stats("reader", t.ep);
	for (unsigned i = 0; i < pings; i++) {
		uint64_t p0 = now_ns();
		if (tx(&t, scratch, size, i) < 0 || rx(&t, scratch, size, i) < 0)
			return 1;
		rtt[i] = now_ns() - p0;
	}
	qsort(rtt, pings, sizeof(*rtt), cmp_u64);
	double el = (double)(t1 - t0) / 1e9;
	printf("%s %u %.0f %.3f %llu %llu\n", kind, size, seq / el, seq * (double)size / el / 1e9,
	       pings ? (unsigned long long)rtt[pings / 2] / 2 : 0ull,
	       pings ? (unsigned long long)rtt[pings * 99 / 100] / 2 : 0ull);
	int st;
	waitpid(child, &st, 0);
	/* Everything given back (a sanitizer build's leak check runs at exit). */
	if (ep) {
		beltline_ep_close(t.ep);
		beltline_ep_listener_close(l);
	} else {
		for (int i = 0; i < 2; i++) {
			if (a[i] >= 0)
				close(a[i]);
			if (b[i] >= 0 && b[i] != a[1])
				close(b[i]);
		}
		if (t.rfd >= 0 && t.rfd != a[0] && t.rfd != a[1] && t.rfd != b[0] && t.rfd != b[1])
			close(t.rfd);
		if (lfd >= 0)
			close(lfd);
	}
	free(rtt);
	free(scratch);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
