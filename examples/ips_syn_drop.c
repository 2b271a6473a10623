/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ips_syn_drop — a tiny IPS in the loop of a Beltline graph, on libbeltline-client alone:
 * it drops every TCP SYN (SYN without ACK) to one destination port and passes everything
 * else with the class it came with.
 *
 *   beltlined --port in=... --port out=... \
 *       --pipeline 'rx port=in | user name=ips timeout_us=5000 | tx port=out'
 *   ips_syn_drop beltline://default/ips 22          # no new ssh connections through
 *   ips_syn_drop -n 1000 beltline://default/ips 22  # stop after 1000 packets
 *
 * Build against the installed library: cc ips_syn_drop.c $(pkg-config --cflags --libs
 * libbeltline-client). docs/clients.md, "Verdicts", walks through it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <beltline.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
log_stderr(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level <= BELTLINE_LOG_WARN)
		fprintf(stderr, "ips_syn_drop: %s\n", msg);
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether an Ethernet frame is a TCP SYN (no ACK) to port. Every offset is checked
 * against the captured length: the bytes are the network's. */
static int
is_syn_to(const uint8_t *p, uint32_t len, uint16_t port)
{
	uint32_t off = 14, l4;
	uint16_t type;
	uint8_t proto;

	if (len < 14)
		return 0;
	type = be16(p + 12);
	while ((type == 0x8100 || type == 0x88a8) && len >= off + 4) {   /* VLAN tags */
		type = be16(p + off + 2);
		off += 4;
	}
	if (type == 0x0800) {
		if (len < off + 20 || (p[off] >> 4) != 4 || (be16(p + off + 6) & 0x1fff) != 0)
			return 0;   /* not IPv4, or a fragment after the first */
		proto = p[off + 9];
		l4 = off + (uint32_t)(p[off] & 0x0f) * 4;
	} else if (type == 0x86dd) {
		if (len < off + 40)
			return 0;
		proto = p[off + 6];   /* no extension headers followed: a SYN rarely has them */
		l4 = off + 40;
	} else {
		return 0;
	}
	if (proto != 6 || len < l4 + 14)
		return 0;
	return be16(p + l4 + 2) == port && (p[l4 + 13] & 0x12) == 0x02;   /* SYN, not ACK */
}

int
main(int argc, char **argv)
{
	unsigned long long limit = 0, seen = 0, dropped = 0;
	struct beltline_user *u;
	struct beltline_pkt p[BATCH];
	struct beltline_class c[BATCH];
	long port;
	int opt, rc;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			goto usage;
		limit = strtoull(optarg, NULL, 10);
	}
	if (argc - optind != 2)
		goto usage;
	port = strtol(argv[optind + 1], NULL, 10);
	if (port < 1 || port > 65535)
		goto usage;
	beltline_set_log(log_stderr, NULL);
	rc = beltline_open_user(argv[optind], NULL, &u);
	if (rc < 0) {
		fprintf(stderr, "ips_syn_drop: cannot attach to %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached to %s: dropping TCP SYNs to port %ld\n", argv[optind], port);
	fflush(stdout);
	while (!stop && (limit == 0 || seen < limit)) {
		int n = beltline_take(u, p, BATCH);

		if (n == -EAGAIN) {   /* nothing held: sleep until the appliance signals */
			struct pollfd pfd = { .fd = beltline_user_fd(u), .events = POLLIN };
			poll(&pfd, 1, 100);
			continue;
		}
		if (n <= 0)
			break;        /* 0: the appliance went away */
		for (int i = 0; i < n; i++) {
			int bad = is_syn_to(p[i].data, p[i].caplen, (uint16_t)port);

			c[i].seq = p[i].seq;
			c[i].cls = bad ? 0 : p[i].cls;   /* 0 drops; the rest go on as they came */
			c[i].pad = 0;
			dropped += (unsigned long long)bad;
		}
		seen += (unsigned long long)n;
		for (int done = 0; done < n && n > 0;) {
			rc = beltline_give(u, c + done, (unsigned)(n - done));
			if (rc > 0)
				done += rc;
			else if (rc == -EAGAIN)   /* the appliance has not read the last ones */
				usleep(50);
			else
				n = -1;           /* -EPIPE: it went away */
		}
		if (n < 0)
			break;
	}
	beltline_user_flush(u, 1000);   /* the last classes read before the lease ends */
	beltline_user_close(u);
	printf("%llu packets, %llu SYNs to port %ld dropped\n", seen, dropped, port);
	return 0;
usage:
	fprintf(stderr, "usage: ips_syn_drop [-n PACKETS] beltline://INSTANCE/NAME PORT\n");
	return 2;
}
