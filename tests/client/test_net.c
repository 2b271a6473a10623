/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp:// below the streams: the connect (blc_net_connect) and a writer's acks, against
 * loopback listeners made here.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "beltline_priv.h"
#include "net_frame.h"

static char last_log[512];

static void
capture_log(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void
setup(void)
{
	last_log[0] = '\0';
	beltline_set_log(capture_log, NULL);
}

TestSuite(net, .init = setup, .timeout = 120);

/* A TCP listener on a loopback port: its fd; *port its port. */
static int
listener(int backlog, unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, backlog), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A connect in progress when a signal comes (no SA_RESTART; poll is never restarted
 * anyway) went on to the next address with errno EINPROGRESS, and with none left
 * returned -EINPROGRESS at once. It must wait on to its deadline, kept across the
 * signals. The peer: a listener whose accept queue is full, which drops our SYNs. */
Test(net, a_connect_interrupted_by_signals_waits_to_its_deadline)
{
	struct sigaction sa = { .sa_handler = on_alarm };    /* no SA_RESTART */
	struct itimerval every = { .it_interval = { 0, 50000 }, .it_value = { 0, 50000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct timespec t0;
	unsigned port;
	char ps[8];
	int lfd = listener(0, &port), c[4], fd;
	double took;

	snprintf(ps, sizeof(ps), "%u", port);
	/* fill the accept queue: backlog 0 takes one, the rest stay in progress */
	for (int i = 0; i < 4; i++)      /* the first is taken: a generous timeout */
		c[i] = blc_net_connect("test", "127.0.0.1", ps, SOCK_STREAM, i == 0 ? 10000 : 200);
	cr_assert_geq(c[0], 0, "%s", last_log);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = blc_net_connect("test", "127.0.0.1", ps, SOCK_STREAM, 2000);
	took = since(&t0);
	cr_assert_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	cr_assert_neq(fd, -EINPROGRESS, "a signal is not the connect's end (%.2f s)", took);
	cr_assert_eq(fd, -ETIMEDOUT, "%d: %s", fd, last_log);
	cr_assert_gt(alarms, 1, "signals came while it waited");
	cr_assert_geq(took, 1.9, "it waited to its deadline: %.2f s", took);
	cr_assert_lt(took, 60, "and not past it, however many signals: %.2f s", took);
	for (int i = 0; i < 4; i++)
		if (c[i] >= 0)
			close(c[i]);
	close(lfd);
}

/* ---- a --write server that sends acks and acks ---- */

#define JUNK_ACKS 2048u         /* more than one call may read (src_netw.c, take_acks) */

struct acker {
	int lfd;
	int go, sent, stop;     /* atomics: the test says go and stop; the server says sent */
};

static void
put_ack(uint8_t *b, uint64_t seq)
{
	struct bln_rec r = { .type = BLN_REC_ACK, .seq = seq };

	bln_put_rec_hdr(b, &r);
}

static void
wait_flag(int *flag)
{
	for (int i = 0; i < 30000 && !__atomic_load_n(flag, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
}

static void *
acker(void *arg)
{
	static uint8_t acks[(JUNK_ACKS + 1) * BLN_REC_HDR];
	struct acker *a = arg;
	struct bln_hello h = { .linktype = 1, .snaplen = 1500, .write = 1 };
	uint8_t hello[BLN_HELLO_LEN];
	int c = accept(a->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	bln_put_hello(hello, &h);
	(void)send(c, hello, sizeof(hello), MSG_NOSIGNAL);
	for (unsigned i = 0; i < JUNK_ACKS; i++)    /* "nothing dealt with yet", again and again */
		put_ack(acks + i * BLN_REC_HDR, 0);
	put_ack(acks + JUNK_ACKS * BLN_REC_HDR, 1); /* then: the one frame */
	wait_flag(&a->go);
	(void)send(c, acks, sizeof(acks), MSG_NOSIGNAL);
	__atomic_store_n(&a->sent, 1, __ATOMIC_RELEASE);
	wait_flag(&a->stop);
	close(c);
	return NULL;
}

/* take_acks read while anything came: a server streaming valid acks kept commit,
 * getwritebuf, flush and the stats in it for as long as it liked. Each call now reads
 * a bounded number of them and leaves the rest for the next: flush(0) with the frame's
 * ack behind 2048 others cannot reach it in one call (before, it read them all and said
 * 0), and a flush with time reaches it. */
Test(net, a_write_server_streaming_acks_cannot_keep_a_call)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = 20000 };
	struct acker a = { 0 };
	struct beltline_writer *w;
	unsigned port;
	char uri[64];
	pthread_t t;
	void *buf;
	uint32_t room;

	a.lfd = listener(4, &port);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", port);
	cr_assert_eq(pthread_create(&t, NULL, acker, &a), 0);
	cr_assert_eq(beltline_open_write(uri, &o, &w), 0, "%s", last_log);
	cr_assert_eq(beltline_getwritebuf(w, &buf, &room), 0);
	memset(buf, 0x5a, 60);
	cr_assert_eq(beltline_commit(w, buf, 60), 0);
	__atomic_store_n(&a.go, 1, __ATOMIC_RELEASE);
	wait_flag(&a.sent);
	cr_assert(__atomic_load_n(&a.sent, __ATOMIC_ACQUIRE), "the acks went out");
	cr_assert_eq(beltline_write_flush(w, 0), -ETIMEDOUT,
		"one call read 2049 acks: a server that never stops would keep it for ever");
	cr_assert_eq(beltline_write_flush(w, 20000), 0, "the next calls read on: %s", last_log);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	beltline_write_close(w);
	pthread_join(t, NULL);
	close(a.lfd);
}

/* Every buffer got and none committed: no ack can give one back. getwritebuf said
 * -EAGAIN, and a caller polling beltline_write_fd() slept for good; now -EDEADLK, said. */
Test(net, a_writer_holding_every_buffer_uncommitted_is_told)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = 20000 };
	struct acker a = { 0 };
	struct beltline_writer *w;
	unsigned port, got = 0;
	char uri[64];
	pthread_t t;
	void *buf[64];
	uint32_t room;
	int rc;

	a.lfd = listener(4, &port);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u", port);
	cr_assert_eq(pthread_create(&t, NULL, acker, &a), 0);
	cr_assert_eq(beltline_open_write(uri, &o, &w), 0, "%s", last_log);
	while (got < 64 && (rc = beltline_getwritebuf(w, &buf[got], &room)) == 0)
		got++;
	cr_assert_eq(rc, -EDEADLK, "after %u buffers: %d", got, rc);
	cr_assert(strstr(last_log, "not committed") != NULL, "%s", last_log);
	cr_assert_eq(beltline_commit(w, buf[0], 60), 0, "the buffers it holds still commit");
	__atomic_store_n(&a.go, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	beltline_write_close(w);
	pthread_join(t, NULL);
	close(a.lfd);
}
