/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_reader — a benchmark reader of one Beltline stream, built on
 * libbeltline-client alone (no DPDK). Reads zero-copy: beltline_peek, reads the
 * first --touch bytes of every packet, beltline_check on every packet, then
 * beltline_release. Prints what it received and lost, its rate and its own CPU
 * time per packet, over a measured window.
 *
 *   client_reader [options] beltline://INSTANCE/STREAM
 *     --sleep          on an empty ring, sleep in epoll_wait on beltline_fd()
 *                      (the appliance's wake channel, or the library's 1 ms
 *                      timer until the appliance passes one); default: busy-poll
 *     --at T           start the window at T (CLOCK_REALTIME, seconds since the
 *                      epoch, fractions allowed); default: --warmup after the
 *                      first packet
 *     --warmup S       (default 1)
 *     --duration S     length of the window (default 5); then exit
 *     --burst N        views per peek (default 64, at most 256)
 *     --touch N        bytes of each packet to read (default 64; 0: all of it;
 *                      none: not one, only the views: what the ring alone costs)
 *
 * Output, one line on stdout (keys the scripts parse):
 *   received=N lost=N secs=S pps=X cpu_s=S ns_per_pkt=X wakeups=N
 *   total_received=N total_lost=N policy=P sum=X empty=N
 * received/lost/wakeups/cpu over the window; total_* since the open. received
 * counts only packets whose check passed. empty: the reads that found nothing, all
 * run long (a reader that has many is caught up with the producer, one with none
 * is behind it). Exit 0, or
 * 1 when the stream cannot be opened or read.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "beltline.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
log_cb(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level <= BELTLINE_LOG_WARN)
		fprintf(stderr, "client_reader: %s\n", msg);
}

static double
now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Read n bytes at p, 8 at a time where it can: the data is really loaded. */
static inline uint64_t
touch(const void *p, uint32_t n)
{
	const unsigned char *b = p;
	uint64_t s = 0, w;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s += b[i];
	return s;
}

struct snap {
	double t, cpu;
	uint64_t received, lost, wakeups;
};

static void
take(struct beltline_stream *s, uint64_t received, struct snap *sn)
{
	struct beltline_stats st = { .sz = sizeof(st) };

	beltline_stats(s, &st);
	sn->t = now_s(CLOCK_MONOTONIC);
	sn->cpu = now_s(CLOCK_PROCESS_CPUTIME_ID);
	sn->received = received;
	sn->lost = st.lost;
	sn->wakeups = st.wakeups;
}

static void
usage(void)
{
	fprintf(stderr, "usage: client_reader [--sleep] [--at T] [--warmup S] [--duration S] "
		"[--burst N] [--touch N] beltline://INSTANCE/STREAM\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sleep", no_argument, NULL, 's' }, { "at", required_argument, NULL, 'a' },
		{ "warmup", required_argument, NULL, 'w' }, { "duration", required_argument, NULL, 'd' },
		{ "burst", required_argument, NULL, 'b' }, { "touch", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	double at = 0, warmup = 1, duration = 5, t_start = 0, t_end = 0;
	unsigned burst = 64, touch_n = 64;
	int sleep_mode = 0, c, rc, ep = -1, started = 0, done = 0;
	struct beltline_pkt v[256];
	struct beltline_stream *s;
	struct beltline_info info = { .sz = sizeof(info) };
	struct snap a = { 0 }, b = { 0 };
	uint64_t received = 0, sum = 0, empty = 0;   /* empty: polls that found nothing (all run long) */

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': sleep_mode = 1; break;
		case 'a': at = strtod(optarg, NULL); break;
		case 'w': warmup = strtod(optarg, NULL); break;
		case 'd': duration = strtod(optarg, NULL); break;
		case 'b': burst = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			touch_n = strcmp(optarg, "none") == 0 ? UINT_MAX :
				  (unsigned)strtoul(optarg, NULL, 10);
			break;
		default: usage();
		}
	}
	if (optind + 1 != argc || burst == 0 || burst > 256 || duration <= 0)
		usage();

	struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART: epoll_wait returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	beltline_set_log(log_cb, NULL);
	struct beltline_open_opts oo = { .sz = sizeof(oo), .client = "client_reader" };
	rc = beltline_open(argv[optind], &oo, &s);
	if (rc < 0) {
		fprintf(stderr, "client_reader: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	beltline_info(s, &info);
	if (sleep_mode) {
		struct epoll_event ev = { .events = EPOLLIN };
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, beltline_fd(s), &ev) < 0) {
			fprintf(stderr, "client_reader: epoll: %s\n", strerror(errno));
			return 1;
		}
	}
	if (at > 0) {
		/* The window on the wall clock, mapped to the monotonic one. */
		t_start = now_s(CLOCK_MONOTONIC) + (at - now_s(CLOCK_REALTIME));
		t_end = t_start + duration;
	}

	while (!stop && !done) {
		double t;

		rc = beltline_peek(s, v, burst);
		if (rc > 0) {
			int bad = 0;
			for (int i = 0; i < rc; i++) {
				uint64_t x = touch_n == UINT_MAX ? v[i].seq :
					touch(v[i].data, touch_n == 0 || touch_n > v[i].caplen ?
					      v[i].caplen : touch_n);
				if (beltline_check(s, v[i].seq) == 1)
					sum += x;
				else
					bad++;   /* overwritten while we read it: not received (lost counts it) */
			}
			beltline_release(s, (unsigned)rc);
			received += (uint64_t)(rc - bad);
		} else if (rc == -EAGAIN) {
			empty++;
			if (ep >= 0) {
				struct epoll_event ev;
				if (epoll_wait(ep, &ev, 1, 100) < 0 && errno != EINTR)
					break;
			}
		} else {
			break;   /* 0: the appliance went away; <0: an error */
		}
		/* The clock once per burst (or idle turn): cheap (vDSO) next to a burst. */
		if (!started && t_start == 0 && received > 0) {
			t_start = now_s(CLOCK_MONOTONIC) + warmup;
			t_end = t_start + duration;
		}
		if (t_start == 0)
			continue;
		t = now_s(CLOCK_MONOTONIC);
		if (!started && t >= t_start) {
			take(s, received, &a);
			started = 1;
		} else if (started && t >= t_end) {
			done = 1;
		}
	}
	if (rc < 0 && rc != -EAGAIN)
		fprintf(stderr, "client_reader: read: %s\n", strerror(-rc));
	if (!started)
		take(s, received, &a);   /* the stream ended before the window: report zeros */
	take(s, received, &b);

	struct beltline_stats st = { .sz = sizeof(st) };
	beltline_stats(s, &st);
	double secs = b.t - a.t, cpu = b.cpu - a.cpu;
	uint64_t n = b.received - a.received;
	printf("received=%llu lost=%llu secs=%.3f pps=%.0f cpu_s=%.3f ns_per_pkt=%.1f wakeups=%llu "
	       "total_received=%llu total_lost=%llu policy=%s sum=%llu empty=%llu\n",
	       (unsigned long long)n, (unsigned long long)(b.lost - a.lost), secs,
	       secs > 0 ? (double)n / secs : 0.0, cpu, n > 0 ? cpu * 1e9 / (double)n : 0.0,
	       (unsigned long long)(b.wakeups - a.wakeups), (unsigned long long)received,
	       (unsigned long long)st.lost, info.policy, (unsigned long long)(sum & 0xff),
	       (unsigned long long)empty);
	beltline_close(s);
	return rc < 0 && rc != -EAGAIN ? 1 : 0;
}
