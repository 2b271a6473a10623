/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Four readers of one stream, each with its own policy, with exact counts; then
 * wake moderation. Run by readers.sh against a beltlined whose stream "q"
 * (srp, capacity 64, wake_count 16, wake_us 5000000) is fed from a tap
 * interface this program writes frames into (AF_PACKET, as root):
 *
 *   readers INSTANCE STREAM IFACE
 *
 * Readers: a srp, b mrp, c mrp, d frp. Phases (the positions are exact because
 * nothing is read while frames arrive, and every complete raises R to the
 * reader's previous position, docs/shm-abi.md):
 *   1. 64 frames; all read all:                 written 64
 *   2. 100 frames, nobody reads: limit min(a 64, R 63) + 64 → 63 written, 37 dropped;
 *      then a, b, d read 63; c does not
 *   3. 100 frames: limit min(127, R 126) + 64 → 63 written, 37 dropped; c was lapped:
 *      it skips 62 and reads 64; a, b, d read 63
 *   4. 4 × 50 frames, a b c read after each; d does not: 200 written; d lapped,
 *      loses 136 and reads the last 64
 *   → a 390, b 390, c 328 (lost 62), d 254 (lost 136); written 390, dropped 74.
 *   5. a sleeps on beltline_fd: 10 frames (< wake_count) wake it by the timeout,
 *      not before ~5 s; 16 more wake it by count, well before (some ms quiet;
 *      under 4 s is asserted, so a machine 3x slower that also stalls for 2 s
 *      keeps the two apart: tests/README.md).
 * Prints one "ok"/"FAIL" line per check; exit 1 if any failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "beltline.h"

static int fails;
static const char *instance, *stream;
static int sock, ifindex;
static uint32_t next_id;
static uint64_t injected;

#define CHECK_EQ(what, got, want) do { \
	unsigned long long g_ = (got), w_ = (want); \
	printf("%s - %s (%llu)%s\n", g_ == w_ ? "ok  " : "FAIL", what, g_, \
	       g_ == w_ ? "" : " unexpected"); \
	if (g_ != w_) { fails++; printf("       want %llu\n", w_); } \
} while (0)
#define CHECK(what, cond) do { \
	printf("%s - %s\n", (cond) ? "ok  " : "FAIL", what); if (!(cond)) fails++; } while (0)

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One Ethernet/IPv4/UDP frame to port 9 carrying id. */
static void
send_frame(uint32_t id)
{
	uint8_t f[60] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };
	uint8_t *ip = f + 14, *udp = ip + 20;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };
	uint32_t sum = 0;

	ip[0] = 0x45;
	ip[3] = 46;                                  /* total length: 20 + 8 + 18 */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 9, 9, 1, 10, 9, 9, 2 }, 8);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	udp[1] = 9;
	udp[3] = 9;
	udp[5] = 26;
	udp[4] = 0;
	memcpy(udp + 8, &id, 4);
	memcpy(to.sll_addr, f, 6);
	if (sendto(sock, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(f)) {
		perror("readers: sendto");
		exit(1);
	}
}

/* The stream's written and dropped, from the appliance's stats. */
static void
stream_counts(uint64_t *written, uint64_t *dropped, uint64_t *wakeups)
{
	struct beltline_ctl *c;
	char *reply = NULL;
	cJSON *j, *it;

	*written = *dropped = *wakeups = UINT64_MAX;
	if (beltline_ctl_open(instance, NULL, &c) < 0)
		return;
	if (beltline_ctl_call(c, BELTLINE_CTL_STATS, NULL, &reply) == 0 && (j = cJSON_Parse(reply))) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "streams")) {
			if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")), stream) != 0)
				continue;
			*written = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "written"));
			*dropped = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "dropped"));
			*wakeups = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "wakeups"));
		}
		cJSON_Delete(j);
	}
	free(reply);
	beltline_ctl_close(c);
}

/* Send n frames and wait until the stream accounted for every one of them. */
static void
inject(unsigned n)
{
	uint64_t w, d, k;
	double t0 = now_s();

	for (unsigned i = 0; i < n; i++)
		send_frame(next_id++);
	injected += n;
	do {
		usleep(2000);
		stream_counts(&w, &d, &k);
	} while (w + d != injected && now_s() - t0 < 60);
	if (w + d != injected) {
		printf("FAIL - the appliance saw %llu of %llu frames in 60 s\n",
		       (unsigned long long)(w + d), (unsigned long long)injected);
		exit(1);
	}
}

/* Read everything there is now; every packet must carry a larger id than the last. */
static unsigned
drain(struct beltline_stream *s, uint32_t *last)
{
	uint8_t buf[128];
	struct beltline_pkt_info pi;
	unsigned n = 0;

	while (beltline_read(s, buf, sizeof(buf), &pi) == 1) {
		uint32_t id;
		memcpy(&id, buf + 14 + 20 + 8, 4);
		if (*last != UINT32_MAX && id <= *last) {
			printf("FAIL - packet id %u after %u: out of order\n", id, *last);
			fails++;
		}
		*last = id;
		n++;
	}
	return n;
}

static struct beltline_stream *
open_as(const char *policy)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .policy = policy, .client = policy };
	struct beltline_stream *s;
	char uri[128];
	int rc;

	snprintf(uri, sizeof(uri), "beltline://%s/%s", instance, stream);
	rc = beltline_open(uri, &o, &s);
	if (rc < 0) {
		printf("FAIL - open %s as %s: %s\n", uri, policy, strerror(-rc));
		exit(1);
	}
	return s;
}

static uint64_t
stat_of(struct beltline_stream *s, int lost)
{
	struct beltline_stats st = { .sz = sizeof(st) };

	beltline_stats(s, &st);
	return lost ? st.lost : st.received;
}

int
main(int argc, char **argv)
{
	struct beltline_stream *a, *b, *c, *d;
	struct beltline_info info = { .sz = sizeof(info) };
	uint32_t la = UINT32_MAX, lb = UINT32_MAX, lc = UINT32_MAX, ld = UINT32_MAX;
	uint64_t w, dr, wk;

	if (argc != 4) {
		fprintf(stderr, "usage: readers INSTANCE STREAM IFACE\n");
		return 2;
	}
	instance = argv[1];
	stream = argv[2];
	ifindex = (int)if_nametoindex(argv[3]);
	sock = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
	if (ifindex == 0 || sock < 0) {
		fprintf(stderr, "readers: interface %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	a = open_as("srp");
	b = open_as("mrp");
	c = open_as("mrp");
	d = open_as("frp");
	beltline_info(d, &info);
	CHECK("reader d reads with frp on the srp stream", strcmp(info.policy, "frp") == 0);

	inject(64);                                              /* 1 */
	CHECK_EQ("phase 1: a reads", drain(a, &la), 64);
	CHECK_EQ("phase 1: b reads", drain(b, &lb), 64);
	CHECK_EQ("phase 1: c reads", drain(c, &lc), 64);
	CHECK_EQ("phase 1: d reads", drain(d, &ld), 64);
	inject(100);                                             /* 2 */
	stream_counts(&w, &dr, &wk);
	CHECK_EQ("phase 2: written (held by R = 63)", w, 64 + 63);
	CHECK_EQ("phase 2: dropped at the tail", dr, 37);
	CHECK_EQ("phase 2: d reads", drain(d, &ld), 63);
	CHECK_EQ("phase 2: a reads", drain(a, &la), 63);
	CHECK_EQ("phase 2: b reads", drain(b, &lb), 63);
	inject(100);                                             /* 3 */
	stream_counts(&w, &dr, &wk);
	CHECK_EQ("phase 3: written (held by R = 126)", w, 127 + 63);
	CHECK_EQ("phase 3: dropped", dr, 74);
	CHECK_EQ("phase 3: c, lapped, reads the last ring", drain(c, &lc), 64);
	CHECK_EQ("phase 3: a reads", drain(a, &la), 63);
	CHECK_EQ("phase 3: b reads", drain(b, &lb), 63);
	CHECK_EQ("phase 3: d reads", drain(d, &ld), 63);
	for (int i = 0; i < 4; i++) {                            /* 4 */
		inject(50);
		CHECK_EQ("phase 4: a reads a chunk", drain(a, &la), 50);
		CHECK_EQ("phase 4: b reads a chunk", drain(b, &lb), 50);
		CHECK_EQ("phase 4: c reads a chunk", drain(c, &lc), 50);
	}
	CHECK_EQ("phase 4: d (frp), lapped, reads the last ring", drain(d, &ld), 64);
	stream_counts(&w, &dr, &wk);
	CHECK_EQ("stream: written", w, 390);
	CHECK_EQ("stream: dropped", dr, 74);
	CHECK_EQ("a (srp): received", stat_of(a, 0), 390);
	CHECK_EQ("a (srp): lost", stat_of(a, 1), 0);
	CHECK_EQ("b (mrp): received", stat_of(b, 0), 390);
	CHECK_EQ("b (mrp): lost", stat_of(b, 1), 0);
	CHECK_EQ("c (mrp): received", stat_of(c, 0), 328);
	CHECK_EQ("c (mrp): lost", stat_of(c, 1), 62);
	CHECK_EQ("d (frp): received", stat_of(d, 0), 254);
	CHECK_EQ("d (frp): lost", stat_of(d, 1), 136);
	CHECK_EQ("d's last packet is the last sent", ld, next_id - 1);
	CHECK_EQ("no wakeups for readers that never sleep", wk, 0);

	/* 5: a sleeps in poll on its wake fd (R is 389, so 26 more frames fit). */
	struct pollfd p = { .fd = beltline_fd(a), .events = POLLIN };
	struct beltline_stats st = { .sz = sizeof(st) };
	uint8_t buf[128];
	struct beltline_pkt_info pi;
	double t0, dt;
	int rc;

	CHECK_EQ("a: nothing to read", (unsigned)-beltline_read(a, buf, sizeof(buf), &pi), EAGAIN);
	usleep(20000);                                   /* the appliance sees a waiting */
	t0 = now_s();
	for (int i = 0; i < 10; i++)
		send_frame(next_id++);
	rc = poll(&p, 1, 30000);
	dt = now_s() - t0;
	printf("       woken after %.0f ms by 10 frames (wake_count 16, wake_us 5000000)\n", dt * 1e3);
	CHECK("10 frames: woken by the timeout, after about 5 s", rc == 1 && dt >= 4.9 && dt < 11);
	CHECK_EQ("a reads the 10", drain(a, &la), 10);
	usleep(20000);
	t0 = now_s();
	for (int i = 0; i < 16; i++)
		send_frame(next_id++);
	rc = poll(&p, 1, 30000);
	dt = now_s() - t0;
	printf("       woken after %.0f ms by 16 frames\n", dt * 1e3);
	CHECK("16 frames: woken by the count, well before the 5 s timeout", rc == 1 && dt < 4);
	CHECK_EQ("a reads the 16", drain(a, &la), 16);
	beltline_stats(a, &st);
	CHECK_EQ("a: wakeups it saw", st.wakeups, 2);
	stream_counts(&w, &dr, &wk);
	/* One a sleep, and one more when the worker (the count) and the main lcore's tick
	 * signal the same sleep at once (bl_stream_wake.c): a preempted worker leaves that
	 * window open on a loaded machine (3 sent, the reader saw 2: ASan, 2 busy loops). */
	printf("       wakeups sent: %u\n", (unsigned)wk);
	CHECK("stream: wakeups sent, 2 (3: count and tick at once)", wk == 2 || wk == 3);

	beltline_close(a);
	beltline_close(b);
	beltline_close(c);
	beltline_close(d);
	printf("%s\n", fails == 0 ? "all passed" : "some FAILED");
	return fails == 0 ? 0 : 1;
}
