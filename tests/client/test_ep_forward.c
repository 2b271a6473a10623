/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline_ep_forward over tcp:// (one process, a connector thread): what it refuses
 * it refuses before doing anything. A length longer than the message read from a
 * network endpoint was copied (reading past the message) and committed, and only the
 * release then said -EINVAL; a forward into an endpoint with a buffer got and not
 * committed took a second buffer it could not commit, and the endpoint's sending
 * side was wedged for good.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"

static char uri[64];

static void *
connector(void *arg)
{
	struct beltline_ep_opts o = { .sz = sizeof(o), .timeout_ms = 30000 };
	struct beltline_ep **ep = arg;

	if (beltline_ep_connect(uri, &o, ep) != 0)
		*ep = NULL;
	return NULL;
}

static void
send_msg(struct beltline_ep *ep, const char *m)
{
	void *b;

	cr_assert(eq(int, beltline_ep_getwritebuf(ep, (uint32_t)strlen(m), &b, 30000), 0));
	memcpy(b, m, strlen(m));
	cr_assert(eq(int, beltline_ep_commit(ep, b, (uint32_t)strlen(m)), 0));
}

static void
expect_msg(struct beltline_ep *ep, const char *m)
{
	const void *b;
	uint32_t len;

	cr_assert(eq(int, beltline_ep_getreadbuf(ep, &b, &len, 30000), 1));
	cr_assert(eq(u32, len, (uint32_t)strlen(m)));
	cr_assert(eq(int, memcmp(b, m, len), 0), "'%.*s', want '%s'", (int)len, (const char *)b, m);
	cr_assert(eq(int, beltline_ep_release(ep, b), 0));
}

/* A pair over tcp:// on loopback: *l listening, *a its accepted end, *b the connector's. */
static void
tcp_pair(struct beltline_ep_listener **l, struct beltline_ep **a, struct beltline_ep **b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct beltline_ep_opts o = { .sz = sizeof(o), .timeout_ms = 30000 };
	socklen_t sl = sizeof(sa);
	pthread_t t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	*b = NULL;
	/* a free port (a moment's race with another process: a clear failure, not a flake) */
	cr_assert(fd >= 0);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &sl), 0));
	close(fd);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	cr_assert(eq(int, beltline_ep_listen(uri, &o, l), 0));
	cr_assert(eq(int, pthread_create(&t, NULL, connector, b), 0));
	cr_assert(eq(int, beltline_ep_accept(*l, 30000, a), 0));
	pthread_join(t, NULL);
	cr_assert(b[0] != NULL, "connected");
}

Test(ep_forward, refusals_over_tcp_change_nothing, .timeout = 120)
{
	struct beltline_ep_stats st = { .sz = sizeof(st) };
	struct beltline_ep_listener *l;
	struct beltline_ep *a = NULL, *b = NULL;
	const void *in;
	uint32_t len;
	void *pending;

	tcp_pair(&l, &a, &b);

	send_msg(b, "first");
	send_msg(b, "second");
	cr_assert(eq(int, beltline_ep_getreadbuf(a, &in, &len, 30000), 1));
	cr_assert(eq(u32, len, 5));
	/* longer than the message read: refused, nothing sent, the message still held */
	cr_assert(eq(int, beltline_ep_forward(a, a, in, len + 1000, 0), -EINVAL));
	beltline_ep_stats(a, &st);
	cr_assert(eq(u64, st.sent, 0), "nothing sent by a refused forward (%llu)",
		  (unsigned long long)st.sent);
	/* not the oldest: refused */
	cr_assert(eq(int, beltline_ep_forward(a, a, (const char *)in + 1, 4, 0), -EINVAL));
	/* a buffer got and not committed on dst: refused, and that buffer still commits */
	cr_assert(eq(int, beltline_ep_getwritebuf(a, 4, &pending, 30000), 0));
	cr_assert(eq(int, beltline_ep_forward(a, a, in, len, 0), -EINVAL));
	memcpy(pending, "mine", 4);
	cr_assert(eq(int, beltline_ep_commit(a, pending, 4), 0), "the pending buffer commits");
	/* and now the forward, as asked: the message read goes back whole */
	cr_assert(eq(int, beltline_ep_forward(a, a, in, len, 30000), 0));
	expect_msg(a, "second");
	expect_msg(b, "mine");
	expect_msg(b, "first");
	send_msg(a, "after");                  /* the sending side is not wedged */
	expect_msg(b, "after");
	beltline_ep_stats(a, &st);
	cr_assert(eq(u64, st.sent, 3));
	beltline_ep_close(a);
	beltline_ep_close(b);
	beltline_ep_listener_close(l);
}

/* A writer whose room is all in buffers it got and did not commit: no ack can make
 * more. It waited to its timeout (for good with -1); now -EDEADLK at once, and the
 * buffers it holds still commit and arrive. */
Test(ep_forward, a_tcp_writer_whose_room_is_all_its_own_buffers_is_told, .timeout = 120)
{
	struct beltline_ep_listener *l;
	struct beltline_ep *a = NULL, *b = NULL;
	static void *held[65536];
	unsigned got = 0;
	time_t t0;
	int rc;

	tcp_pair(&l, &a, &b);

	t0 = time(NULL);
	while (got < 65536 && (rc = beltline_ep_getwritebuf(b, 1000, &held[got], 30000)) == 0)
		got++;
	cr_assert(eq(int, rc, -EDEADLK), "after %u buffers", got);
	cr_assert(time(NULL) - t0 < 10, "at once, not at the 30 s timeout");
	for (unsigned i = 0; i < got; i++) {
		memset(held[i], 'h', 1000);
		cr_assert(eq(int, beltline_ep_commit(b, held[i], 1000), 0), "buffer %u commits", i);
	}
	for (unsigned i = 0; i < got; i++) {
		const void *in;
		uint32_t len;

		cr_assert(eq(int, beltline_ep_getreadbuf(a, &in, &len, 30000), 1), "message %u", i);
		cr_assert(eq(u32, len, 1000));
		cr_assert(eq(int, beltline_ep_release(a, in), 0));
	}
	send_msg(b, "after");
	expect_msg(a, "after");
	beltline_ep_close(a);
	beltline_ep_close(b);
	beltline_ep_listener_close(l);
}
