/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verdict_client — the Beltline side of bench/verdict_vs_nfqueue.sh, on libbeltline-client
 * alone:
 *   verdict_client pass URI          a verdict client that passes every packet with the
 *                                    class it came with (busy-polls; -s: sleeps on the fd)
 *   verdict_client ping INSTANCE IN OUT [IN2 OUT2] N
 *                                    ping-pong through a graph: write one frame into the
 *                                    inject stream IN, wait until the export stream OUT
 *                                    shows it, N times; prints the N round trips in ns.
 *                                    With IN2 OUT2, each time one through IN/OUT, then one
 *                                    through IN2/OUT2, a line "NS NS2" each: the two paths
 *                                    alternated, so each pair saw the same moment of a
 *                                    shared machine (their difference is what the first
 *                                    path adds to that packet)
 * Both print "ready" once attached.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <beltline.h>

#include "bench_util.h"

static int
pass(const char *uri, int sleeper)
{
	struct beltline_user *u;
	struct beltline_pkt p[256];
	struct beltline_class c[256];
	int rc = beltline_open_user(uri, NULL, &u);

	if (rc < 0) {
		fprintf(stderr, "verdict_client: %s: %s\n", uri, strerror(-rc));
		return 1;
	}
	bench_ready();
	while (!bench_stop) {
		int n = beltline_take(u, p, 256);

		if (n == -EAGAIN) {
			if (sleeper) {
				struct pollfd pfd = { .fd = beltline_user_fd(u), .events = POLLIN };
				poll(&pfd, 1, 100);
			}
			continue;
		}
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			c[i].seq = p[i].seq;
			c[i].cls = p[i].cls;
			c[i].pad = 0;
		}
		for (int done = 0; done < n && !bench_stop;) {
			rc = beltline_give(u, c + done, (unsigned)(n - done));
			if (rc > 0)
				done += rc;
		}
	}
	beltline_user_close(u);
	return 0;
}

struct path {
	struct beltline_writer *w;
	struct beltline_stream *r;
};

static int
path_open(struct path *p, const char *inst, const char *in, const char *out)
{
	char uri[160];
	int rc;

	snprintf(uri, sizeof(uri), "beltline://%s/%s", inst, out);
	rc = beltline_open(uri, NULL, &p->r);
	if (rc == 0) {
		snprintf(uri, sizeof(uri), "beltline://%s/%s", inst, in);
		rc = beltline_open_write(uri, NULL, &p->w);
		if (rc < 0)
			beltline_close(p->r);
	}
	if (rc < 0)
		fprintf(stderr, "verdict_client: %s: %s\n", uri, strerror(-rc));
	return rc;
}

static void
path_close(struct path *p)
{
	beltline_write_close(p->w);
	beltline_close(p->r);
}

/* One round trip through p: ns, or 0 when it failed (or we were told to stop). */
static uint64_t
round_trip(struct path *p)
{
	static const uint8_t frame[60] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45 };
	struct beltline_pkt v[8];
	uint64_t t0, dt;
	uint32_t room;
	void *buf;
	int rc, k;

	while ((rc = beltline_getwritebuf(p->w, &buf, &room)) == -EAGAIN)
		;
	if (rc < 0)
		return 0;
	memcpy(buf, frame, sizeof(frame));
	t0 = bench_ns_now();
	beltline_commit(p->w, buf, sizeof(frame));
	while ((k = beltline_peek(p->r, v, 8)) == -EAGAIN && !bench_stop) {
		struct pollfd pfd = { .fd = beltline_fd(p->r), .events = POLLIN };
		poll(&pfd, 1, 100);   /* sleeps, as the kernel side's ping does */
	}
	if (k <= 0)
		return 0;
	dt = bench_ns_now() - t0;
	beltline_release(p->r, (unsigned)k);
	return dt;
}

/* n round trips through in/out, alternated with n through in2/out2 when given. */
static int
ping(const char *inst, const char *in, const char *out, const char *in2, const char *out2,
     long n)
{
	struct path a, b;
	int two = in2 != NULL;

	if (path_open(&a, inst, in, out) < 0)
		return 1;
	if (two && path_open(&b, inst, in2, out2) < 0) {
		path_close(&a);
		return 1;
	}
	bench_ready();
	for (long i = 0; i < n && !bench_stop; i++) {
		uint64_t ta = round_trip(&a), tb = two ? round_trip(&b) : 0;

		if (ta == 0 || (two && tb == 0))
			return 1;
		if (two)
			printf("%llu %llu\n", (unsigned long long)ta, (unsigned long long)tb);
		else
			bench_print_u64(ta, 0);
	}
	path_close(&a);
	if (two)
		path_close(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	bench_catch_stop();
	if (argc == 3 && strcmp(argv[1], "pass") == 0)
		return pass(argv[2], 0);
	if (argc == 4 && strcmp(argv[1], "pass") == 0 && strcmp(argv[2], "-s") == 0)
		return pass(argv[3], 1);
	if (argc == 6 && strcmp(argv[1], "ping") == 0)
		return ping(argv[2], argv[3], argv[4], NULL, NULL, strtol(argv[5], NULL, 10));
	if (argc == 8 && strcmp(argv[1], "ping") == 0)
		return ping(argv[2], argv[3], argv[4], argv[5], argv[6], strtol(argv[7], NULL, 10));
	return bench_usage("verdict_client", "pass [-s] URI | ping INSTANCE IN OUT [IN2 OUT2] N");
}
