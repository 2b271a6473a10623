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
