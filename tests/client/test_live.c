/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libbeltline-client, live path, without the appliance: an IBuf and a packet
 * DBuf built in this process with lib/beltway's DPDK-free parts (the DBuf
 * header and object table written by hand, as the appliance's bl_dbuf would),
 * read through the library's internal reader from descriptors, and through a
 * fake control server speaking docs/control.md on a unix socket.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_stream_proto.h"

#include "live_common.h"

TestSuite(live, .init = live_setup);

Test(live, zero_copy_views_for_every_policy)
{
	static const uint32_t pol[] = { BL_IBUF_SRP, BL_IBUF_MRP, BL_IBUF_FRP };

	for (unsigned p = 0; p < 3; p++) {
		struct bl_shm *d = make_dbuf();
		struct bl_ibuf *ib = make_ibuf(pol[p], 16);
		struct beltline_stream *s = open_reader(ib, d, -1);
		struct beltline_stats st = { .sz = sizeof(st) };
		struct beltline_info info = { .sz = sizeof(info) };
		struct bl_ibuf_entry e[5];
		struct beltline_pkt v[8];

		for (unsigned i = 0; i < 5; i++)
			e[i] = ent(DBUF_ID, i % N_OBJS, 10 * i, 60 + i);
		cr_assert_eq(bl_ibuf_write(ib, e, 5), 5);
		cr_assert_eq(beltline_peek(s, v, 8), 5, "policy %s", bl_stream_policy_name(pol[p]));
		for (unsigned i = 0; i < 5; i++) {
			const uint8_t *want = (uint8_t *)d->base + 4096 + (i % N_OBJS) * OBJ_SIZE + 10 * i;
			cr_assert_eq(v[i].seq, i);
			cr_assert_eq(v[i].caplen, 60 + i);
			cr_assert_eq(v[i].len, 60 + i);
			cr_assert_eq(v[i].cls, 3);
			cr_assert_neq(v[i].data, want, "a mapping of its own");
			cr_assert_eq(memcmp(v[i].data, want, v[i].caplen), 0);
			cr_assert_eq(beltline_check(s, v[i].seq), 1);
		}
		cr_assert_eq(beltline_release(s, 2), 0);
		cr_assert_eq(beltline_peek(s, v, 8), 3);
		cr_assert_eq(v[0].seq, 2);
		cr_assert_eq(beltline_release(s, 3), 0);
		cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN, "live and empty is -EAGAIN, not the end");
		cr_assert_eq(beltline_stats(s, &st), 0);
		cr_assert_eq(st.received, 5);
		cr_assert_eq(st.lost + st.invalid, 0);
		cr_assert_eq(beltline_info(s, &info), 0);
		cr_assert_eq(info.kind, BELTLINE_KIND_LIVE);
		cr_assert_eq(info.capacity, 16);
		cr_assert_str_eq(info.policy, bl_stream_policy_name(pol[p]));
		/* the producer sees the reader's position through its page */
		cr_assert_eq(__atomic_load_n(&ib->rpage[0]->pos, __ATOMIC_ACQUIRE), 5);
		cr_assert_eq(ib->rpage[0]->consumed, 5);
		beltline_close(s);
		bl_ibuf_free(ib);
		bl_shm_free(d);
	}
}

Test(live, bogus_entries_are_skipped_and_counted)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct beltline_stream *s = open_reader(ib, d, -1);
	struct beltline_stats st = { .sz = sizeof(st) };
	uint64_t *objtab = (uint64_t *)((char *)d->base + sizeof(struct bl_dbuf_hdr));
	struct bl_ibuf_entry e[] = {
		ent(DBUF_ID, 0, 0, 100),                  /* good: seq 0 */
		ent(9, 0, 0, 100),                        /* no DBuf 9 mapped */
		ent(DBUF_ID, 1, 0, 64),                   /* good: seq 2 */
		ent(DBUF_ID, 99, 0, 64),                  /* object out of range */
		ent(DBUF_ID, 1, OBJ_SIZE - 10, 100),      /* runs off the object */
		ent(0, 0, 0, 64),                         /* dbuf 0: no data */
		ent(DBUF_ID, 2, 0xffffffffu, 0xffffffffu),/* offset + length overflow 32 bits */
		ent(DBUF_ID, 3, 0, 64),                   /* objtab[3] made to point past the end */
		ent(DBUF_ID, 2, 1, 1),                    /* good: seq 8 */
	};
	uint64_t seqs[3], got = 0;
	struct beltline_pkt v[16];
	uint8_t buf[128];
	struct beltline_pkt_info info;
	int n;

	objtab[3] = d->size - 10;
	cr_assert_eq(bl_ibuf_write(ib, e, 9), 9);
	while ((n = beltline_peek(s, v, 16)) > 0) {
		for (int i = 0; i < n; i++) {
			cr_assert_lt(got, 3);
			seqs[got++] = v[i].seq;
			cr_assert_geq((const uint8_t *)v[i].data, (const uint8_t *)0 + 1);
		}
		cr_assert_eq(beltline_release(s, (unsigned)n), 0);
	}
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(got, 3);
	cr_assert_eq(seqs[0], 0);
	cr_assert_eq(seqs[1], 2);
	cr_assert_eq(seqs[2], 8);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.invalid, 6, "six bogus entries, each counted once: %llu",
		(unsigned long long)st.invalid);
	cr_assert_eq(st.received, 3);

	/* the copying read skips them too */
	cr_assert_eq(bl_ibuf_write(ib, e, 9), 9);
	got = 0;
	while (beltline_read(s, buf, sizeof(buf), &info) == 1) {
		cr_assert_eq(info.seq, 9 + (got == 0 ? 0 : got == 1 ? 2 : 8));
		got++;
	}
	cr_assert_eq(got, 3);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.invalid, 12);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

/* A peek/check reader the producer laps while it holds its views: a failed check makes
 * the release resume half a ring behind the producer (the jump counted), not at the
 * oldest entry, the next to go (a slow reader lost every batch from there). */
Test(live, frp_failed_check_resumes_with_room)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_FRP, 8);
	struct beltline_stream *s = open_reader(ib, d, -1);
	struct beltline_stats st = { .sz = sizeof(st) };
	struct bl_ibuf_entry e[4];
	struct beltline_pkt v[16];
	uint64_t lost0;
	int n;

	for (unsigned i = 0; i < 4; i++)
		e[i] = ent(DBUF_ID, i % N_OBJS, 0, 20 + i);
	for (unsigned i = 0; i < 20; i += 4)
		cr_assert_eq(bl_ibuf_write(ib, e, 4), 4);
	n = beltline_peek(s, v, 16);
	cr_assert_eq(n, 8);
	cr_assert_eq(v[0].seq, 12);
	for (unsigned i = 0; i < 12; i += 4)                 /* lapped by 12 while we hold them */
		cr_assert_eq(bl_ibuf_write(ib, e, 4), 4);
	cr_assert_eq(beltline_check(s, v[0].seq), 0);
	cr_assert_eq(beltline_stats(s, &st), 0);
	lost0 = st.lost;
	cr_assert_eq(beltline_release(s, (unsigned)n), 0);
	n = beltline_peek(s, v, 16);
	cr_assert_gt(n, 0);
	cr_assert_gt(v[0].seq, 24, "resumed at %llu: the oldest entry (24) is the next overwritten",
		     (unsigned long long)v[0].seq);
	cr_assert_leq(v[0].seq, 29, "... half a ring (4) behind the producer: %llu",
		      (unsigned long long)v[0].seq);
	cr_assert_eq(beltline_check(s, v[n - 1].seq), 1);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.lost - lost0, v[0].seq - 20, "20 .. %llu jumped over: lost",
		     (unsigned long long)v[0].seq);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

Test(live, frp_laps_are_counted_and_check_sees_overwrites)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_FRP, 8);
	struct beltline_stream *s = open_reader(ib, d, -1);
	struct beltline_stats st = { .sz = sizeof(st) };
	struct bl_ibuf_entry e[20];
	struct beltline_pkt v[16];
	struct beltline_pkt_info info;
	uint8_t buf[64];
	int n;

	for (unsigned i = 0; i < 20; i++)
		e[i] = ent(DBUF_ID, i % N_OBJS, 0, 20 + i);
	for (unsigned i = 0; i < 20; i += 4)
		cr_assert_eq(bl_ibuf_write(ib, e + i, 4), 4);
	n = beltline_peek(s, v, 16);
	cr_assert_eq(n, 8, "a lapped reader restarts at the oldest entry: %d", n);
	cr_assert_eq(v[0].seq, 12);
	cr_assert_eq(v[0].caplen, 32);
	cr_assert_eq(beltline_check(s, v[0].seq), 1);
	/* the producer laps us while we hold the views */
	cr_assert_eq(bl_ibuf_write(ib, e, 4), 4);
	cr_assert_eq(beltline_check(s, v[0].seq), 0, "seq 12's slot was reused");
	cr_assert_eq(beltline_check(s, v[7].seq), 1, "seq 19's was not");
	cr_assert_eq(beltline_release(s, (unsigned)n), 0);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.lost, 12 + 1, "12 lapped + 1 failed check: %llu", (unsigned long long)st.lost);
	cr_assert_geq(st.laps, 1);
	/* the copying read: what is left is consistent */
	n = 0;
	while (beltline_read(s, buf, sizeof(buf), &info) == 1) {
		cr_assert_eq(info.seq, 20u + (unsigned)n);
		n++;
	}
	cr_assert_eq(n, 4);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

Test(live, bad_descriptors_are_refused)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 8);
	struct beltline_stream *s;
	struct bl_ibuf_fds fds;
	int idx = bl_ibuf_reader_alloc(ib, 0), dfd;

	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	/* the ring's fd where a DBuf's should be */
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = -1, .idx = fds.idx, .wake_fd = -1, .ctl_fd = -1, .n_dbufs = 1,
		.dbuf_fds = &fds.ring_fd, .name = "t" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), -EPROTO);
	cr_assert(strstr(last_log, "not a DBuf") != NULL, "%s", last_log);
	/* a DBuf's fd where the ring's should be */
	dfd = bl_shm_ro_fd(d);
	f.ring_fd = dfd;
	f.dbuf_fds = &dfd;
	cr_assert_eq(beltline__open_live_fds(&f, &s), -EPROTO);
	cr_assert(strstr(last_log, "IBuf") != NULL, "%s", last_log);
	close(dfd);
	close(fds.ring_fd);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

Test(live, open_by_uri_through_a_control_socket)
{
	struct fake f = { 0 };
	pthread_t t;
	struct beltline_stream *s;
	struct beltline_ctl *c;
	struct beltline_pkt v[8];
	struct bl_ibuf_entry e = ent(DBUF_ID, 2, 5, 77);
	char *reply;

	cr_assert_eq(fake_start(&f, &t), 0);
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = f.dir, .client = "unit" };
	cr_assert_eq(beltline_open("beltline://t/web", &o, &s), 0, "%s", last_log);
	cr_assert(strstr(f.attach_body, "\"stream\":\"web\"") != NULL, "%s", f.attach_body);
	cr_assert(strstr(f.attach_body, "\"client\":\"unit\"") != NULL, "%s", f.attach_body);
	cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN);
	cr_assert_eq(bl_ibuf_write(f.ib, &e, 1), 1);
	cr_assert_eq(beltline_peek(s, v, 8), 1);
	cr_assert_eq(v[0].caplen, 77);
	cr_assert_eq(((const uint8_t *)v[0].data)[0], 'c');
	cr_assert_eq(beltline_release(s, 1), 0);

	cr_assert_eq(beltline_ctl_open("t", &o, &c), 0);
	cr_assert_eq(beltline_ctl_call(c, BELTLINE_CTL_LIST, NULL, &reply), 0);
	cr_assert(strstr(reply, "\"name\":\"web\"") != NULL, "%s", reply);
	free(reply);
	cr_assert_eq(beltline_ctl_call(c, BELTLINE_CTL_STATS, NULL, &reply), -EOPNOTSUPP);
	cr_assert(strstr(reply, "unknown op") != NULL);
	free(reply);
	beltline_ctl_close(c);

	f.refuse = 1;
	struct beltline_stream *s2 = (void *)1;
	cr_assert_eq(beltline_open("beltline://t/web", &o, &s2), -EACCES);
	cr_assert_null(s2);
	cr_assert(strstr(last_log, "may not read web") != NULL, "%s", last_log);
	/* closing the stream closes the connection: that is the detach. The fake's thread
	 * sees it at once quiet; a loaded machine may keep that thread off a CPU for a while:
	 * wait up to 30 s (tests/README.md). */
	beltline_close(s);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (__atomic_load_n(&f.saw_hangup, __ATOMIC_SEQ_CST) >= 3)
			break;
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 30);
	cr_assert_eq(f.saw_hangup, 3, "hangups seen: %d", f.saw_hangup);
	fake_stop(&f, t);
}

Test(live, no_instance_is_enoent_with_a_clear_line)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = "/nonexistent-beltline" };
	struct beltline_stream *s;
	struct beltline_ctl *c;

	cr_assert_eq(beltline_open("beltline://lab/web", &o, &s), -ENOENT);
	cr_assert(strstr(last_log, "beltline://lab/web") != NULL, "%s", last_log);
	cr_assert(strstr(last_log, "not running") != NULL, "%s", last_log);
	cr_assert_eq(beltline_ctl_open("lab", &o, &c), -ENOENT);
	cr_assert(strstr(last_log, "/nonexistent-beltline/lab/ctl") != NULL, "%s", last_log);
	cr_assert_eq(beltline_ctl_open("../etc", &o, &c), -EINVAL);
}

/* Several releases after one peek (beltline.h allows them): each goes past the views
 * still held, as a file or network stream's does. They counted from the start of the
 * peek, so release(3), release(7) stopped at 7 and the next peek gave 7..9 again. */
Test(live, several_releases_after_one_peek_go_past_what_was_held)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct beltline_stream *s = open_reader(ib, d, -1);
	struct beltline_stats st = { .sz = sizeof(st) };
	struct bl_ibuf_entry e[10];
	struct beltline_pkt v[16];

	for (unsigned i = 0; i < 10; i++)
		e[i] = ent(DBUF_ID, i % N_OBJS, 0, 20 + i);
	cr_assert_eq(bl_ibuf_write(ib, e, 10), 10);
	cr_assert_eq(beltline_peek(s, v, 16), 10);
	cr_assert_eq(beltline_release(s, 3), 0);
	cr_assert_eq(beltline_release(s, 7), 0);
	cr_assert_eq(beltline_peek(s, v, 16), -EAGAIN, "all 10 released: got seq %llu again",
		(unsigned long long)v[0].seq);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.received, 10);
	cr_assert_eq(__atomic_load_n(&ib->rpage[0]->pos, __ATOMIC_ACQUIRE), 10,
		"the appliance sees what the caller was told");

	/* one release per packet, as a loop over the views would do it */
	cr_assert_eq(bl_ibuf_write(ib, e, 5), 5);
	cr_assert_eq(beltline_peek(s, v, 4), 4);
	cr_assert_eq(v[0].seq, 10);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(beltline_peek(s, v, 16), 1);
	cr_assert_eq(v[0].seq, 14, "the next after the four released: %llu",
		(unsigned long long)v[0].seq);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.received, 15);
	cr_assert_eq(__atomic_load_n(&ib->rpage[0]->pos, __ATOMIC_ACQUIRE), 15);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

/* A verdict client's stats take sz as every stats call does: below sizeof(size_t) is
 * -EINVAL (beltline.h). sz 4 made the copy's length (sz - sizeof(sz)) wrap: a memcpy of
 * about 2^64 bytes. */
Test(live, user_stats_refuses_a_size_below_its_sz_field)
{
	struct fake f = { 0 };
	pthread_t t;
	struct beltline_user *u;
	struct beltline_user_stats st;
	union {
		struct beltline_user_stats st;
		uint8_t b[sizeof(struct beltline_user_stats) + 8];
	} part;

	cr_assert_eq(fake_start(&f, &t), 0);
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = f.dir, .client = "unit" };
	cr_assert_eq(beltline_open_user("beltline://t/ips", &o, &u), 0, "%s", last_log);
	memset(&st, 0xa5, sizeof(st));
	st.sz = 4;
	cr_assert_eq(beltline_user_stats(u, &st), -EINVAL);
	cr_assert_eq(st.sz, 4, "refused, untouched");
	cr_assert_eq(st.taken, 0xa5a5a5a5a5a5a5a5ull);
	st.sz = 0;
	cr_assert_eq(beltline_user_stats(u, &st), -EINVAL);
	/* what sz covers and no more */
	memset(&part, 0xa5, sizeof(part));
	part.st.sz = offsetof(struct beltline_user_stats, given) + sizeof(uint64_t);
	cr_assert_eq(beltline_user_stats(u, &part.st), 0);
	cr_assert_eq(part.st.taken, 0);
	cr_assert_eq(part.st.given, 0);
	cr_assert_eq(part.st.ignored, 0xa5a5a5a5a5a5a5a5ull, "past sz: untouched");
	st.sz = sizeof(st);
	cr_assert_eq(beltline_user_stats(u, &st), 0);
	cr_assert_eq(st.ignored, FAKE_VIGNORED);
	cr_assert_eq(st.full, 0);
	beltline_user_close(u);
	fake_stop(&f, t);
}

/* A verdict client skips an entry that points outside every DBuf as any reader does: the
 * packet is never taken (the filter's on_timeout decides it). beltline_user_stats said
 * nothing of it: not taken, not lost, not invalid, while beltline_stats of the same
 * stream counted it in invalid. */
Test(live, user_stats_count_the_entries_skipped_as_invalid)
{
	struct fake f = { 0 };
	pthread_t t;
	struct beltline_user *u;
	struct beltline_user_stats st = { .sz = sizeof(st) };
	struct beltline_pkt v[8];
	const struct bl_ibuf_entry e[] = {
		fake_ent(9, 0, 0, 100),               /* no DBuf 9 */
		fake_ent(DBUF_ID, 1, 0, 64),          /* good */
		fake_ent(DBUF_ID, 99, 0, 64),         /* object out of range */
	};
	int n, took = 0;

	cr_assert_eq(fake_start(&f, &t), 0);
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = f.dir, .client = "unit" };
	cr_assert_eq(beltline_open_user("beltline://t/ips", &o, &u), 0, "%s", last_log);
	cr_assert_eq(bl_ibuf_write(f.ib, e, 3), 3);
	while ((n = beltline_take(u, v, 8)) > 0)
		took += n;
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(took, 1);
	cr_assert_eq(beltline_user_stats(u, &st), 0);
	cr_assert_eq(st.taken, 1);
	cr_assert_eq(st.invalid, 2, "two entries skipped, each counted once: %llu",
		     (unsigned long long)st.invalid);
	beltline_user_close(u);
	fake_stop(&f, t);
}

/* Every open that takes beltline_open_opts takes them by one rule (libbpf's): a bigger
 * struct than the library knows only with what it does not know zero. beltline_open
 * refused one with a field set past its end; open_write, open_user and ctl_open took it. */
Test(live, every_open_refuses_options_it_cannot_know)
{
	struct fake f = { 0 };
	pthread_t t;
	struct {
		struct beltline_open_opts o;
		uint64_t newer;         /* a field of a later library */
	} big = { { 0 } };
	struct beltline_stream *s;
	struct beltline_writer *w;
	struct beltline_user *u;
	struct beltline_ctl *c;

	cr_assert_eq(fake_start(&f, &t), 0);
	big.o.sz = sizeof(big);
	big.o.run_dir = f.dir;
	big.newer = 1;
	cr_assert_eq(beltline_open("beltline://t/web", &big.o, &s), -EINVAL);
	cr_assert_eq(beltline_open_write("beltline://t/web", &big.o, &w), -EINVAL);
	cr_assert(strstr(last_log, "beltline_open_opts") != NULL, "%s", last_log);
	cr_assert_eq(beltline_open_write("tcp://127.0.0.1:9", &big.o, &w), -EINVAL);
	cr_assert_eq(beltline_open_user("beltline://t/ips", &big.o, &u), -EINVAL);
	cr_assert(strstr(last_log, "beltline_open_opts") != NULL, "%s", last_log);
	cr_assert_eq(beltline_ctl_open("t", &big.o, &c), -EINVAL);
	cr_assert(strstr(last_log, "beltline_open_opts") != NULL, "%s", last_log);
	big.o.sz = 4;           /* not even its own sz */
	cr_assert_eq(beltline_ctl_open("t", &big.o, &c), -EINVAL);
	cr_assert(strstr(last_log, "sz is 4; set it to sizeof(struct beltline_open_opts)") != NULL,
		  "%s", last_log);
	cr_assert_eq(beltline_open_user("beltline://t/ips", &big.o, &u), -EINVAL);
	cr_assert_eq(beltline_open_write("beltline://t/web", &big.o, &w), -EINVAL);
	/* the same struct with the newer field 0 is fine */
	big.o.sz = sizeof(big);
	big.newer = 0;
	cr_assert_eq(beltline_ctl_open("t", &big.o, &c), 0, "%s", last_log);
	beltline_ctl_close(c);
	cr_assert_eq(beltline_open_user("beltline://t/ips", &big.o, &u), 0, "%s", last_log);
	beltline_user_close(u);
	fake_stop(&f, t);
}
