/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp:// with a reader that holds its views (peek without release): a scripted server
 * thread sends the hello and N records of 60000 bytes, one every 2 ms, then the end.
 * The client holds what it peeked until nothing new came for 20 ms, then releases it
 * all. Its buffer takes eight such records: the ninth must wait in the socket (or be
 * lost there, counted as loss), never be read into the room left and cut.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "beltline_priv.h"
#include "net_frame.h"

#define N_RECS   40u
#define REC_LEN  60000u

static int srv = -1;
static struct sockaddr_storage client_at;     /* where the hello went */
static socklen_t client_len;

static void
pause_ms(unsigned int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* The hello answering the subscribe sub[0..n): it echoes the subscribe's cookie. */
static void
put_hello_for(uint8_t *b, const uint8_t *sub, ssize_t n)
{
	struct bln_hello h = { .linktype = 1, .snaplen = 65535 };
	struct bln_sub u = { 0 };

	cr_assert(eq(int, bln_get_sub(sub, n > 0 ? (size_t)n : 0, &u), 0));
	cr_assert(eq(int, u.op, BLN_SUB_HELLO));
	cr_assert(ne(u64, u.cookie, 0));   /* 2^-64 to be 0 by chance */
	h.cookie = u.cookie;
	bln_put_hello(b, &h);
}

static void
put_rec(uint8_t *b, uint8_t type, uint64_t seq, uint32_t caplen)
{
	struct bln_rec r = { .type = type, .caplen = caplen, .len = caplen, .seq = seq };

	bln_put_rec_hdr(b, &r);
	memset(b + BLN_REC_HDR, (int)(seq & 0xff), caplen);
}

static void *
server(void *arg)
{
	static uint8_t b[BLN_REC_HDR + REC_LEN];
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	uint8_t sub[64];
	ssize_t n;

	(void)arg;
	if ((n = recvfrom(srv, sub, sizeof(sub), 0, (struct sockaddr *)&peer, &pl)) <= 0)
		return NULL;
	put_hello_for(b, sub, n);
	sendto(srv, b, BLN_HELLO_LEN, 0, (struct sockaddr *)&peer, pl);
	for (uint64_t k = 0; k < N_RECS; k++) {
		put_rec(b, BLN_REC_PKT, k, REC_LEN);
		sendto(srv, b, BLN_REC_HDR + REC_LEN, 0, (struct sockaddr *)&peer, pl);
		pause_ms(2);
	}
	pause_ms(100);
	for (int i = 0; i < 3; i++) {       /* the end, again if a copy is lost */
		put_rec(b, BLN_REC_END, N_RECS, 0);
		sendto(srv, b, BLN_REC_HDR, 0, (struct sockaddr *)&peer, pl);
		pause_ms(50);
	}
	return NULL;
}

/* The server's socket on a loopback port, fn on it in a thread, and a reader of it
 * opened (udp://127.0.0.1:PORT): the open returns once fn sent the hello. */
static struct beltline_stream *
open_served(void *(*fn)(void *), pthread_t *t)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = 20000 };
	struct beltline_stream *s = NULL;
	socklen_t sl = sizeof(sa);
	char uri[64];

	srv = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(srv >= 0);
	cr_assert(eq(int, bind(srv, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, getsockname(srv, (struct sockaddr *)&sa, &sl), 0));
	cr_assert(eq(int, pthread_create(t, NULL, fn, NULL), 0));
	snprintf(uri, sizeof(uri), "udp://127.0.0.1:%u", ntohs(sa.sin_port));
	cr_assert(eq(int, beltline_open(uri, &o, &s), 0));
	return s;
}

Test(udp, a_reader_holding_views_loses_no_record_to_a_cut, .timeout = 60)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct beltline_pkt v[32];
	uint64_t got = 0, bad = 0;
	int held = 0, quiet = 0, rc;
	pthread_t t;

	s = open_served(server, &t);
	for (;;) {
		rc = beltline_peek(s, v, 32);
		if (rc == 0 || (rc < 0 && rc != -EAGAIN))
			break;                    /* the end (0), or an error */
		if (rc > held) {                  /* every view from the first on, still held */
			held = rc;
			quiet = 0;
			if (held < 32)
				continue;
		} else {
			pause_ms(1);
			if (held == 0 || ++quiet < 20)
				continue;
		}
		/* 32 held, or nothing new for 20 ms: check them, let go */
		for (int i = 0; i < held; i++)
			bad += v[i].caplen != REC_LEN ||
			       ((const uint8_t *)v[i].data)[REC_LEN - 1] != (v[i].seq & 0xff);
		got += (uint64_t)held;
		cr_assert(eq(int, beltline_release(s, (unsigned)held), 0));
		held = quiet = 0;
	}
	cr_assert(eq(int, rc, 0), "the end record, not an error (%d)", rc);
	beltline_stats(s, &st);
	cr_assert(eq(u64, st.invalid, 0), "no datagram cut: %llu refused as invalid",
		  (unsigned long long)st.invalid);
	cr_assert(eq(u64, got + st.lost, N_RECS), "every record read or counted lost (%llu + %llu)",
		  (unsigned long long)got, (unsigned long long)st.lost);
	cr_assert(ge(u64, got, 8), "a buffer's worth read at least (%llu)", (unsigned long long)got);
	cr_assert(eq(u64, bad, 0), "what was read is whole");
	beltline_close(s);
	pthread_join(t, NULL);
	close(srv);
}

/* Only the hello: the test sends the records itself, so it knows what is queued. */
static void *
hello_only(void *arg)
{
	static uint8_t b[BLN_HELLO_LEN];
	uint8_t sub[64];
	ssize_t n;

	(void)arg;
	client_len = sizeof(client_at);
	if ((n = recvfrom(srv, sub, sizeof(sub), 0, (struct sockaddr *)&client_at, &client_len)) <= 0)
		return NULL;
	put_hello_for(b, sub, n);
	sendto(srv, b, BLN_HELLO_LEN, 0, (struct sockaddr *)&client_at, client_len);
	return NULL;
}

static void
send_rec(uint64_t seq)
{
	static uint8_t b[BLN_REC_HDR + REC_LEN];

	put_rec(b, BLN_REC_PKT, seq, REC_LEN);
	cr_assert(eq(i64, sendto(srv, b, BLN_REC_HDR + REC_LEN, 0, (struct sockaddr *)&client_at,
				 client_len), (int64_t)(BLN_REC_HDR + REC_LEN)));
}

/* Eight records held fill the buffer but for less than a datagram's room; the ninth
 * already waiting in the socket when the eighth is read must stay there. (The buffer
 * starts after the hello: moving the held records to the front gains 24 bytes, not
 * the room, and the ninth was read into what was left and cut.) */
Test(udp, the_datagram_after_a_full_buffer_waits_in_the_socket, .timeout = 60)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct beltline_pkt v[32];
	pthread_t t;
	int rc = 0;

	s = open_served(hello_only, &t);
	pthread_join(t, NULL);
	for (uint64_t k = 0; k < 7; k++) {             /* seven read and held */
		send_rec(k);
		struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
		cr_assert(eq(int, poll(&p, 1, 20000), 1));
		rc = beltline_peek(s, v, 32);
		cr_assert(eq(int, rc, (int)k + 1), "record %llu read (%d)", (unsigned long long)k, rc);
	}
	send_rec(7);                                  /* the eighth and the ninth together */
	send_rec(8);
	rc = beltline_peek(s, v, 32);
	cr_assert(eq(int, rc, 8), "the eighth read, the ninth left for later (%d)", rc);
	beltline_stats(s, &st);
	cr_assert(eq(u64, st.invalid, 0), "the ninth not cut: %llu refused as invalid",
		  (unsigned long long)st.invalid);
	cr_assert(eq(int, beltline_release(s, 8), 0));
	rc = beltline_peek(s, v, 32);
	cr_assert(eq(int, rc, 1), "the ninth, once there is room (%d)", rc);
	cr_assert(eq(u64, v[0].seq, 8));
	cr_assert(eq(u32, v[0].caplen, REC_LEN));
	cr_assert(eq(u8, ((const uint8_t *)v[0].data)[REC_LEN - 1], 8));
	beltline_stats(s, &st);
	cr_assert(eq(u64, st.invalid + st.lost, 0));
	beltline_close(s);
	close(srv);
}

/* After the hello, records come from the socket that sent it: a datagram from another
 * port of the same host (any local process) is refused and counted, whatever it says:
 * here a record with a sequence number far ahead (it was taken: ~2^63 counted lost,
 * and every real record after it refused as a repeat) and an end record (it was
 * taken: the stream ended there). */
Test(udp, records_from_another_socket_of_the_host_are_refused, .timeout = 60)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct beltline_pkt v[32];
	uint8_t b[BLN_REC_HDR + 64];
	uint64_t got = 0;
	int forger, rc;
	pthread_t t;

	forger = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(forger >= 0);
	s = open_served(hello_only, &t);
	pthread_join(t, NULL);
	put_rec(b, BLN_REC_PKT, UINT64_C(1) << 63, 64);
	sendto(forger, b, BLN_REC_HDR + 64, 0, (struct sockaddr *)&client_at, client_len);
	put_rec(b, BLN_REC_END, 0, 0);
	sendto(forger, b, BLN_REC_HDR, 0, (struct sockaddr *)&client_at, client_len);
	for (uint64_t k = 0; k < 5; k++) {
		put_rec(b, BLN_REC_PKT, k, 64);
		cr_assert(eq(i64, sendto(srv, b, BLN_REC_HDR + 64, 0, (struct sockaddr *)&client_at,
					 client_len), (int64_t)(BLN_REC_HDR + 64)));
	}
	put_rec(b, BLN_REC_END, 5, 0);
	sendto(srv, b, BLN_REC_HDR, 0, (struct sockaddr *)&client_at, client_len);
	for (;;) {
		struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };

		rc = beltline_peek(s, v, 32);
		if (rc == -EAGAIN) {
			cr_assert(eq(int, poll(&p, 1, 20000), 1), "the server's records come");
			continue;
		}
		if (rc <= 0)
			break;
		for (int i = 0; i < rc; i++)
			cr_assert(eq(u64, v[i].seq, got + (uint64_t)i));
		got += (uint64_t)rc;
		cr_assert(eq(int, beltline_release(s, (unsigned)rc), 0));
	}
	cr_assert(eq(int, rc, 0), "the server's end, not an error (%d)", rc);
	beltline_stats(s, &st);
	cr_assert(eq(u64, got, 5), "the server's five records (%llu)", (unsigned long long)got);
	cr_assert(eq(u64, st.lost, 0));
	cr_assert(eq(u64, st.invalid, 2), "the forger's two refused (%llu)",
		  (unsigned long long)st.invalid);
	beltline_close(s);
	close(forger);
	close(srv);
}

/* A local process flooding the reader's port with datagrams it refuses must not keep
 * a peek: udp_recv read on until the socket was empty or a datagram was good, so a
 * flood faster than the refusals kept peek from returning. A call now refuses at most
 * BLC_NET_REFUSED_MAX (counted in invalid), then says -EAGAIN with the socket still
 * readable. 200 refused datagrams, then a record: no call refuses more than the bound,
 * and the record comes. */
Test(udp, a_flood_of_refused_datagrams_cannot_keep_a_peek, .timeout = 60)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct beltline_pkt v[4];
	uint8_t junk[8] = { 'j', 'u', 'n', 'k' }, b[BLN_REC_HDR + 64];
	uint64_t before = 0, most = 0;
	int forger = socket(AF_INET, SOCK_DGRAM, 0), rc, calls = 0;
	pthread_t t;

	cr_assert(forger >= 0);
	s = open_served(hello_only, &t);
	pthread_join(t, NULL);
	for (int i = 0; i < 200; i++)
		sendto(forger, junk, sizeof(junk), 0, (struct sockaddr *)&client_at, client_len);
	put_rec(b, BLN_REC_PKT, 0, 64);
	sendto(srv, b, BLN_REC_HDR + 64, 0, (struct sockaddr *)&client_at, client_len);
	pause_ms(100);                          /* all there, most likely: not relied on */
	for (;;) {
		struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };

		rc = beltline_peek(s, v, 4);
		calls++;
		beltline_stats(s, &st);
		if (st.invalid - before > most)
			most = st.invalid - before;
		before = st.invalid;
		if (rc != -EAGAIN)
			break;
		cr_assert(eq(int, poll(&p, 1, 20000), 1), "the rest is still there");
	}
	cr_assert(eq(int, rc, 1), "the record, after the junk (%d)", rc);
	cr_assert(eq(u64, v[0].seq, 0));
	cr_assert(st.invalid > BLC_NET_REFUSED_MAX, "the junk came: %llu refused",
		  (unsigned long long)st.invalid);
	cr_assert(most <= BLC_NET_REFUSED_MAX, "one call refused %llu (at most %u), in %d calls",
		  (unsigned long long)most, BLC_NET_REFUSED_MAX, calls);
	beltline_close(s);
	close(forger);
	close(srv);
}
