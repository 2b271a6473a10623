/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nfq_client — the kernel side of bench/verdict_vs_nfqueue.sh:
 *   nfq_client accept QUEUE         a libnetfilter_queue client that accepts every packet of
 *                                   queue QUEUE (copy mode: whole packets, as a user filter's
 *                                   client sees them; verdicts in batches of up to 256, as
 *                                   beltline's verdict client gives them); prints
 *                                   "NS VERDICTS" (its monotonic clock, verdicts given so
 *                                   far) ten times a second
 *   nfq_client blast IP PORT SECS   send 18-byte UDP datagrams (64-byte frames) to IP:PORT as
 *                                   fast as sendmmsg goes, for SECS seconds
 *   nfq_client echo PORT            echo UDP datagrams back to their sender
 *   nfq_client ping IP PORT [PORT2] N
 *                                   N round trips of one datagram to an echo; prints each in
 *                                   ns. With PORT2, each time one to PORT, then one to PORT2,
 *                                   a line "NS NS2" each (the two alternated, so each pair saw
 *                                   the same moment of a shared machine); a pair with a lost
 *                                   datagram is left out
 * accept and echo print "ready" once they listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Verdicts go in batches, as beltline's verdict client gives its classes (up to 256 a
 * call): one nfq_set_verdict_batch for every packet up to the last id seen, once the
 * socket has no more waiting or VERDICT_BATCH wait. One verdict message a packet made
 * the reference slower than it need be. */
#define VERDICT_BATCH 256u

static unsigned long long verdicts;
static uint32_t last_id;
static unsigned int pending;

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);

	(void)qh;
	(void)msg;
	(void)data;
	if (ph != NULL) {
		last_id = ntohl(ph->packet_id);
		pending++;
	}
	return 0;
}

/* Accept every packet up to the last one seen. */
static void
flush_verdicts(struct nfq_q_handle *qh)
{
	if (pending == 0)
		return;
	if (nfq_set_verdict_batch(qh, last_id, NF_ACCEPT) >= 0)
		verdicts += pending;
	pending = 0;
}

static int
accept_all(int queue)
{
	static char buf[1 << 16] __attribute__((aligned(8)));
	struct nfq_handle *h = nfq_open();
	struct nfq_q_handle *qh;
	uint64_t last = bench_ns_now();
	struct timeval tv = { 0, 200000 };
	int fd;

	if (h == NULL || (qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL)) == NULL ||
	    nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		fprintf(stderr, "nfq_client: cannot open queue %d: %s\n", queue, strerror(errno));
		return 1;
	}
	nfq_set_queue_maxlen(qh, 8192);
	fd = nfq_fd(h);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	{
		int sz = 8 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	}
	bench_ready();
	while (!bench_stop) {
		/* with verdicts owed, only what is waiting now: none, and they are given */
		ssize_t r = recv(fd, buf, sizeof(buf), pending != 0 ? MSG_DONTWAIT : 0);
		uint64_t t = bench_ns_now();

		if (r > 0)
			nfq_handle_packet(h, buf, (int)r);
		if (r <= 0 || pending >= VERDICT_BATCH)
			flush_verdicts(qh);
		if (t - last >= 100000000u) {
			printf("%llu %llu\n", (unsigned long long)t, verdicts);
			fflush(stdout);
			last = t;
		}
	}
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}

static int
udp_to(const char *ip, int port, struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "nfq_client: bad address %s\n", ip);
		return -1;
	}
	return fd;
}

static int
blast(const char *ip, int port, int secs)
{
	static char payload[18];
	struct mmsghdr m[64];
	struct iovec iov = { payload, sizeof(payload) };
	struct sockaddr_in sa;
	int fd = udp_to(ip, port, &sa);
	uint64_t end = bench_ns_now() + (uint64_t)secs * 1000000000u;

	if (fd < 0)
		return 1;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		m[i].msg_hdr.msg_name = &sa;
		m[i].msg_hdr.msg_namelen = sizeof(sa);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!bench_stop && bench_ns_now() < end)
		if (sendmmsg(fd, m, 64, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			break;
	return 0;
}

static int
echo(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) }, from;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[2048];

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "nfq_client: cannot bind UDP %d: %s\n", port, strerror(errno));
		return 1;
	}
	bench_ready();
	while (!bench_stop) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (r > 0)
			sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
	}
	return 0;
}

/* One round trip to sa on fd: ns, or 0 if the datagram or its echo was lost (1 s). */
static uint64_t
round_trip(int fd, const struct sockaddr_in *sa)
{
	char buf[64] = "ping";
	uint64_t t0 = bench_ns_now();

	sendto(fd, buf, 18, 0, (const struct sockaddr *)sa, sizeof(*sa));
	if (recv(fd, buf, sizeof(buf), 0) < 0)
		return 0;
	return bench_ns_now() - t0;
}

static int
ping(const char *ip, int port, int port2, long n)
{
	struct sockaddr_in sa, sb;
	int fd = udp_to(ip, port, &sa), fd2 = port2 > 0 ? udp_to(ip, port2, &sb) : -1;
	struct timeval tv = { 1, 0 };

	if (fd < 0 || (port2 > 0 && fd2 < 0))
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd2 >= 0)
		setsockopt(fd2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long i = 0; i < n && !bench_stop; i++) {
		uint64_t ta = round_trip(fd, &sa), tb = fd2 >= 0 ? round_trip(fd2, &sb) : 0;

		if (ta == 0 || (fd2 >= 0 && tb == 0))
			continue;   /* lost: no figure */
		if (fd2 >= 0)
			printf("%llu %llu\n", (unsigned long long)ta, (unsigned long long)tb);
		else
			bench_print_u64(ta, 0);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	bench_catch_stop();
	if (argc == 3 && strcmp(argv[1], "accept") == 0)
		return accept_all(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "blast") == 0)
		return blast(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return echo(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "ping") == 0)
		return ping(argv[2], atoi(argv[3]), 0, strtol(argv[4], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "ping") == 0)
		return ping(argv[2], atoi(argv[3]), atoi(argv[4]), strtol(argv[5], NULL, 10));
	return bench_usage("nfq_client", "accept QUEUE | blast IP PORT SECS | echo PORT | "
			   "ping IP PORT [PORT2] N");
}
