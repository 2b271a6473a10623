/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_xpoll — FABLE's xpoll over an endpoint: calls with timeout 0, and on -EAGAIN a
 * poll of beltline_ep_fd(). A wait that said -EAGAIN stays armed; when the peer's
 * wakeup came and the next call found its message (or room) at once, the byte stayed
 * in the channel, and beltline_ep_fd() was readable for ever after: a caller waiting
 * in the other direction spun at 100% of a CPU (hundreds of thousands of polls a
 * second, each readable with nothing to do).
 *
 *   ep_xpoll URI accept0
 *     listen, print "listening", wait until the listener's fd is readable, then accept
 *     with timeout 0: print "accept0 RC after MS ms" (a connector that never sends its
 *     hello held that call opts.timeout_ms, 10 s; now a quarter of it): exit 0 when it took
 *     under 5 s
 *   ep_xpoll URI room|msg
 *     room  we write until -EAGAIN (armed for room), the peer releases all, our next
 *           getwritebuf finds room; then we only wait to read, 1 s
 *     msg   our getreadbuf says -EAGAIN (armed for a message), the peer sends one, we
 *           read it; then we fill the ring and wait for the room the peer gives 1 s
 *           later
 * Prints "polls N readable M" for the idle second; exit 0 when the poll was not busy
 * (at most 20 readable polls), 1 when it spun, 2 on a set-up failure. The peer is a
 * child process, the listener.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_time.h"

#define BUSY_MAX 20

/* A set-up step failed: say which (its line), exit status 2. */
#define FAIL() (fprintf(stderr, "ep_xpoll: set-up failed at line %d\n", __LINE__), 2)

/* The listener's side: accept, wait for our go, then do its part. */
static int
peer(struct beltline_ep_listener *l, int go, int room)
{
	struct beltline_ep *ep;
	const void *b;
	uint32_t len;
	void *w;
	char c;

	if (beltline_ep_accept(l, 60000, &ep) < 0 || read(go, &c, 1) != 1)
		return 2;
	if (room) {             /* release all the writer sent */
		while (beltline_ep_getreadbuf(ep, &b, &len, 0) == 1)
			beltline_ep_release(ep, b);
		sleep(3);
	} else {                /* one message; room for the writer only after a second */
		if (beltline_ep_getwritebuf(ep, 10, &w, 60000) != 0)
			return 2;
		memset(w, 7, 10);
		beltline_ep_commit(ep, w, 10);
		if (read(go, &c, 1) != 1)
			return 2;
		sleep(1);
		while (beltline_ep_getreadbuf(ep, &b, &len, 0) == 1)
			beltline_ep_release(ep, b);
		sleep(3);
	}
	beltline_ep_close(ep);
	return 0;
}

int
main(int argc, char **argv)
{
	struct beltline_ep_opts o = { .sz = sizeof(o), .slots = 16, .dbuf_bytes = 65536,
		.max_msg = 1024 };
	struct beltline_ep_listener *l;
	struct beltline_ep *ep;
	struct pollfd p;
	const void *b;
	uint32_t len;
	long polls = 0, readable = 0;
	int go[2], room, rc;
	void *w;
	pid_t pid;

	if (argc == 3 && strcmp(argv[2], "accept0") == 0) {
		uint64_t t0;

		if (beltline_ep_listen(argv[1], &o, &l) < 0)
			return 2;
		printf("listening\n");
		fflush(stdout);
		p = (struct pollfd){ .fd = beltline_ep_listener_fd(l), .events = POLLIN };
		if (poll(&p, 1, 60000) != 1)
			return FAIL();
		t0 = bl_mono_ms();
		rc = beltline_ep_accept(l, 0, &ep);
		printf("accept0 %s after %llu ms\n", rc == 0 ? "ok" : strerror(-rc),
		       (unsigned long long)(bl_mono_ms() - t0));
		if (rc == 0)
			beltline_ep_close(ep);
		beltline_ep_listener_close(l);
		return bl_mono_ms() - t0 < 5000 ? 0 : 1;
	}
	if (argc != 3 || (strcmp(argv[2], "room") != 0 && strcmp(argv[2], "msg") != 0)) {
		fprintf(stderr, "usage: ep_xpoll URI room|msg|accept0\n");
		return 2;
	}
	room = strcmp(argv[2], "room") == 0;
	if (beltline_ep_listen(argv[1], &o, &l) < 0 || pipe(go) != 0)
		return FAIL();
	pid = fork();
	if (pid == 0)
		_exit(peer(l, go[0], room));
	beltline_ep_listener_close(l);
	if ((rc = beltline_ep_connect(argv[1], &o, &ep)) < 0) {
		fprintf(stderr, "ep_xpoll: connect: %s\n", strerror(-rc));
		return FAIL();
	}
	p = (struct pollfd){ .fd = beltline_ep_fd(ep), .events = POLLIN };
	if (room) {
		while ((rc = beltline_ep_getwritebuf(ep, 100, &w, 0)) == 0) {
			memset(w, 1, 100);
			beltline_ep_commit(ep, w, 100);
		}
		if (rc != -EAGAIN || write(go[1], "x", 1) != 1)
			return FAIL();
		(void)poll(&p, 1, 10000);                       /* the peer's wakeup */
		if (beltline_ep_getwritebuf(ep, 100, &w, 0) != 0)   /* room now */
			return FAIL();
		beltline_ep_commit(ep, w, 100);
		for (uint64_t t0 = bl_mono_ms(); bl_mono_ms() - t0 < 1000;) {   /* only wait to read */
			rc = beltline_ep_getreadbuf(ep, &b, &len, 0);
			if (rc != -EAGAIN) {
				fprintf(stderr, "ep_xpoll: getreadbuf: %s\n", strerror(-rc));
				return FAIL();
			}
			polls++;
			readable += poll(&p, 1, 200) > 0;
		}
	} else {
		if (beltline_ep_getreadbuf(ep, &b, &len, 0) != -EAGAIN || write(go[1], "x", 1) != 1)
			return FAIL();
		(void)poll(&p, 1, 10000);                       /* the peer's wakeup */
		if (beltline_ep_getreadbuf(ep, &b, &len, 0) != 1)   /* the message */
			return FAIL();
		beltline_ep_release(ep, b);
		if (write(go[1], "x", 1) != 1)
			return FAIL();
		/* fill the ring, then wait for the room the peer gives a second later */
		while ((rc = beltline_ep_getwritebuf(ep, 100, &w, 0)) == 0) {
			memset(w, 2, 100);
			beltline_ep_commit(ep, w, 100);
		}
		for (uint64_t t0 = bl_mono_ms(); rc == -EAGAIN && bl_mono_ms() - t0 < 30000;) {
			polls++;
			readable += poll(&p, 1, 200) > 0;
			rc = beltline_ep_getwritebuf(ep, 100, &w, 0);
		}
		if (rc != 0) {
			fprintf(stderr, "ep_xpoll: getwritebuf: %s\n", strerror(-rc));
			return FAIL();
		}
		beltline_ep_commit(ep, w, 100);
	}
	printf("polls %ld readable %ld\n", polls, readable);
	beltline_ep_close(ep);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return readable > BUSY_MAX;
}
