/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_writer — a benchmark writer of one Beltline inject stream, built on
 * libbeltline-client alone (no DPDK): beltline_getwritebuf (spinning while it
 * says -EAGAIN: no buffer is ours yet), write the first --header bytes of the
 * frame (Ethernet, IPv4, UDP: what testpmd txonly writes into each mbuf), then
 * beltline_commit of --size bytes. Prints its rate over a measured window.
 *
 *   client_writer [options] beltline://INSTANCE/STREAM
 *     --size N       bytes per frame (default 64)
 *     --header N     bytes of each frame written (default 42; 0: all of it)
 *     --at T         start the window at T (CLOCK_REALTIME seconds since the epoch)
 *     --duration S   length of the window (default 5); then flush and exit
 *     --sleep        at -EAGAIN, sleep in poll on beltline_write_fd (the appliance
 *                    wakes it once half the buffers are back) instead of spinning
 *
 * Output, one line on stdout: committed=N secs=S pps=X full=N cpu_s=S refused=N
 * wakeups=N (committed, full, cpu, wakeups over the window; full: getwritebuf
 * calls that found no buffer; wakeups: sleeps the appliance's signal ended). Exit 0, or 1 when the stream cannot be opened or written.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beltline.h"

static double
now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
log_cb(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level <= BELTLINE_LOG_WARN)
		fprintf(stderr, "client_writer: %s\n", msg);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "header", required_argument, NULL, 'h' },
		{ "at", required_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "sleep", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t size = 64, header = 42, room;
	double at = 0, dur = 5, t_end, c0 = 0, t0 = 0;
	uint64_t n = 0, n0 = 0, spin = 0, full0 = 0, wk0 = 0;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	struct beltline_writer *w;
	uint8_t hdr[64];
	int c, in_window = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': header = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'a': at = strtod(optarg, NULL); break;
		case 'd': dur = strtod(optarg, NULL); break;
		case 'S': pfd.fd = 0; break;
		default: return 1;
		}
	}
	if (optind != argc - 1 || size == 0)
		return 1;
	if (header == 0 || header > size)
		header = size;
	if (header > sizeof(hdr))
		header = sizeof(hdr);
	for (unsigned int i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(i * 7 + 1);
	beltline_set_log(log_cb, NULL);
	if (beltline_open_write(argv[optind], NULL, &w) < 0)
		return 1;
	if (pfd.fd == 0 && (pfd.fd = beltline_write_fd(w)) < 0)
		return 1;
	if (at == 0)
		at = now_s(CLOCK_REALTIME) + 1;
	t_end = at + dur;
	for (;;) {
		void *buf;
		int rc;

		/* the clock once every 1024 frames: a call per frame would cost as much as a commit */
		if ((n & 1023) == 0 || (spin & 1023) == 1) {
			double t = now_s(CLOCK_REALTIME);

			if (!in_window && t >= at) {
				in_window = 1;
				struct beltline_write_stats st = { .sz = sizeof(st) };

				beltline_write_stats(w, &st);
				n0 = n;
				full0 = st.full;
				wk0 = st.wakeups;
				t0 = t;
				c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
			}
			if (t >= t_end)
				break;
		}
		rc = beltline_getwritebuf(w, &buf, &room);
		if (rc == -EAGAIN) {
			spin++;
			if (pfd.fd >= 0)
				(void)poll(&pfd, 1, 10);   /* 10 ms at most: the window's end is seen */
			continue;
		}
		if (rc < 0 || size > room) {
			fprintf(stderr, "client_writer: getwritebuf: %s\n",
				rc < 0 ? strerror(-rc) : "frame larger than max_frame");
			return 1;
		}
		memcpy(buf, hdr, header);
		if (beltline_commit(w, buf, size) < 0)
			return 1;
		n++;
		spin = 0;
	}
	{
		double t = now_s(CLOCK_REALTIME), secs = t - t0;
		double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		struct beltline_write_stats st = { .sz = sizeof(st) };

		beltline_write_stats(w, &st);
		printf("committed=%llu secs=%.3f pps=%.0f full=%llu cpu_s=%.3f refused=%llu wakeups=%llu\n",
		       (unsigned long long)(n - n0), secs, secs > 0 ? (double)(n - n0) / secs : 0,
		       (unsigned long long)(st.full - full0), cpu, (unsigned long long)st.refused,
		       (unsigned long long)(st.wakeups - wk0));
	}
	beltline_write_flush(w, 5000);
	beltline_write_close(w);
	return 0;
}
