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
#include "beltline_priv.h"
#include "bl_stream_proto.h"
#include "bl_ibuf_worker.h"
#include "bl_shm.h"
#include "fake_appliance.h"

static char last_log[512];
static int n_logs;

static void
capture_log(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	n_logs++;
}

static void
setup(void)
{
	last_log[0] = '\0';
	n_logs = 0;
	beltline_set_log(capture_log, NULL);
}

TestSuite(live, .init = setup);

static struct bl_shm *
make_dbuf(void)
{
	struct bl_shm *d = fake_dbuf();

	cr_assert_not_null(d);
	return d;
}

static struct bl_ibuf *
make_ibuf(uint32_t policy, uint32_t cap)
{
	struct bl_ibuf *ib = fake_ibuf(policy, cap);

	cr_assert_not_null(ib);
	return ib;
}

/* Attach a reader and open it through the library, as beltline_open would after an attach. */
static struct beltline_stream *
open_reader(struct bl_ibuf *ib, struct bl_shm *d, int wake_fd)
{
	struct bl_ibuf_fds fds;
	struct beltline_stream *s;
	int dfd = bl_shm_ro_fd(d), idx = bl_ibuf_reader_alloc(ib, 0);

	cr_assert_geq(idx, 0);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = wake_fd, .ctl_fd = -1,
		.n_dbufs = 1, .dbuf_fds = &dfd, .name = "test/web" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), 0, "%s", last_log);
	close(fds.ring_fd);     /* only the ring fd was new; page/mrp are the producer's */
	close(dfd);
	return s;
}

#define ent fake_ent

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

Test(live, pollable_fd)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 8);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct beltline_stream *s = open_reader(ib, d, efd), *t;
	struct beltline_stats st = { .sz = sizeof(st) };
	struct bl_ibuf_entry e = ent(DBUF_ID, 0, 0, 60);
	struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
	struct beltline_pkt v[4];
	uint64_t one = 1;

	cr_assert_geq(p.fd, 0);
	cr_assert_neq(p.fd, efd, "the stream's own epoll over the appliance's eventfd");
	cr_assert_eq(beltline_fd(s), p.fd, "the same fd on every call: callers register it once");
	cr_assert_eq(poll(&p, 1, 0), 0);
	cr_assert_eq(bl_ibuf_write(ib, &e, 1), 1);
	cr_assert_eq(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));  /* the appliance wakes us */
	cr_assert_eq(poll(&p, 1, 1000), 1);
	cr_assert_eq(beltline_peek(s, v, 4), 1);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	cr_assert_eq(poll(&p, 1, 0), 0, "drained when found empty");
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.wakeups, 1);
	/* no wake fd from the appliance: a 1 ms timer */
	t = open_reader(ib, d, -1);
	p.fd = beltline_fd(t);
	cr_assert_geq(p.fd, 0);
	cr_assert_eq(poll(&p, 1, 100), 1);
	beltline_close(t);
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

/* A busy poller (no beltline_fd) backs off on an empty ring without syscalls but its
 * hangup check (issue 10): still -EAGAIN while live, data seen on the next look, and the
 * appliance's hangup seen within the check interval (64 empty looks). */
Test(live, busy_poller_backs_off_and_still_sees_data_and_hangup)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct bl_ibuf_fds fds;
	struct beltline_stream *s;
	struct bl_ibuf_entry e = ent(DBUF_ID, 1, 0, 64);
	struct beltline_pkt v[4];
	int sp[2], dfd = bl_shm_ro_fd(d), idx = bl_ibuf_reader_alloc(ib, 0), rc = -EAGAIN;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	cr_assert_geq(idx, 0);
	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = -1, .ctl_fd = sp[0],
		.n_dbufs = 1, .dbuf_fds = &dfd, .name = "test/web" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), 0, "%s", last_log);
	close(fds.ring_fd);
	close(dfd);
	for (unsigned i = 0; i < 1000; i++)    /* far past the backoff's cap */
		cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN, "look %u", i);
	cr_assert_eq(s->poll_fd, -1, "a busy poller holds no descriptor for beltline_fd");
	cr_assert_eq(bl_ibuf_write(ib, &e, 1), 1);
	cr_assert_eq(beltline_peek(s, v, 4), 1, "data is seen on the first look after it came");
	cr_assert_eq(v[0].caplen, 64);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(__atomic_load_n(&ib->rpage[0]->pos, __ATOMIC_ACQUIRE), 1, "caught up: published");
	close(sp[1]);                          /* the appliance hangs up */
	for (unsigned i = 0; i < 65 && rc == -EAGAIN; i++)
		rc = beltline_peek(s, v, 4);
	cr_assert_eq(rc, 0, "end of stream within 65 empty looks");
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

/* The appliance's last word is said once. A verdict client's flush looks for the hangup
 * again after its reader found the end: the word was read by the first look, so the second
 * said "without a word: it was killed or crashed" after a clean stop (a new user's try of
 * docs/clients.md's verdict example). */
Test(live, a_hangup_is_said_once_with_the_appliance_s_word)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct bl_ibuf_fds fds;
	struct beltline_stream *s;
	struct beltline_pkt v[4];
	const char *word = "{\"error\":\"the appliance stopped\"}";
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_NOTICE, .status = -ESHUTDOWN, .len = (uint32_t)strlen(word) };
	char msg[sizeof(h) + 64];
	int sp[2], dfd = bl_shm_ro_fd(d), idx = bl_ibuf_reader_alloc(ib, 0), rc = -EAGAIN, logs;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	cr_assert_geq(idx, 0);
	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = -1, .ctl_fd = sp[0],
		.n_dbufs = 1, .dbuf_fds = &dfd, .name = "test/ips" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), 0, "%s", last_log);
	close(fds.ring_fd);
	close(dfd);
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), word, strlen(word));
	cr_assert_eq(send(sp[1], msg, sizeof(h) + strlen(word), 0), (ssize_t)(sizeof(h) + strlen(word)));
	close(sp[1]);                          /* the appliance stops, with a word */
	for (unsigned i = 0; i < 65 && rc == -EAGAIN; i++)
		rc = beltline_peek(s, v, 4);
	cr_assert_eq(rc, 0, "end of stream");
	cr_assert(strstr(last_log, "end of stream: the appliance stopped") != NULL, "%s", last_log);
	logs = n_logs;
	cr_assert_eq(blc_live_hung_up(s, "verdicts end"), 1, "still hung up");
	cr_assert_eq(beltline_peek(s, v, 4), 0, "still the end");
	cr_assert_eq(n_logs, logs, "said once; then: %s", last_log);
	cr_assert_null(strstr(last_log, "killed or crashed"), "%s", last_log);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
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

/* A sleeper that meets a run of entries that point nowhere gets -EAGAIN after 256 of
 * them, with entries still waiting: its fd must be readable (or its wait armed), or a
 * caller polling beltline_fd without a timeout sleeps for ever. Here it never found the
 * ring empty, so it never set its wait and nobody signalled it (the same as a sleeper
 * whose second look, after draining its fd, found entries). */
Test(live, sleeper_cut_short_by_bad_entries_finds_its_fd_readable)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 512);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct beltline_stream *s = open_reader(ib, d, efd);
	struct beltline_stats st = { .sz = sizeof(st) };
	struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
	struct bl_ibuf_entry bad = ent(9, 0, 0, 64), good = ent(DBUF_ID, 1, 0, 64);
	struct beltline_pkt v[4];

	cr_assert_geq(p.fd, 0);
	for (unsigned i = 0; i < 300; i++)
		cr_assert_eq(bl_ibuf_write(ib, &bad, 1), 1);
	cr_assert_eq(bl_ibuf_write(ib, &good, 1), 1);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN, "256 skipped, then the call returns");
	cr_assert_eq(poll(&p, 1, 0), 1, "entries wait and nobody will signal: readable now");
	cr_assert_eq(beltline_peek(s, v, 4), 1);
	cr_assert_eq(v[0].seq, 300);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	cr_assert_eq(poll(&p, 1, 0), 0, "drained when found empty");
	cr_assert_eq(ib->rpage[0]->wait, 302, "and waiting for the next entry");
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.invalid, 300);
	cr_assert_eq(st.wakeups, 0, "our own readiness is no wakeup: %llu",
		(unsigned long long)st.wakeups);
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

/* Wait for the fake appliance's attach and open "web" as a sleeper (beltline_fd asked for)
 * that has found the stream empty: its wait is set, its fd not readable. */
static struct beltline_stream *
open_sleeper(struct fake *f, pthread_t *t, struct pollfd *p)
{
	struct beltline_stream *s;
	struct beltline_pkt v[8];

	f->wake = 1;
	cr_assert_eq(fake_start(f, t), 0);
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = f->dir, .client = "unit" };
	cr_assert_eq(beltline_open("beltline://t/web", &o, &s), 0, "%s", last_log);
	cr_assert_geq(__atomic_load_n(&f->wake_fd, __ATOMIC_ACQUIRE), 0, "the fake gave a wake fd");
	*p = (struct pollfd){ .fd = beltline_fd(s), .events = POLLIN };
	cr_assert_geq(p->fd, 0, "%s", last_log);
	cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN);
	cr_assert_eq(f->ib->rpage[0]->wait, 1, "a sleeper that found the ring empty waits for seq 0");
	cr_assert_eq(poll(p, 1, 0), 0, "nothing to read, nobody gone");
	return s;
}

/* A reader that sleeps on beltline_fd with no timeout (beltline.h's pattern) must learn
 * that its stream ended: the appliance died, or a reload removed the stream, and closed
 * the control connection, the reader's lease. The fd was the wake eventfd alone, which
 * nobody signals then: only a peek saw the hangup, and such a reader never peeks again. */
Test(live, sleeper_fd_is_readable_when_the_appliance_hangs_up)
{
	struct fake f = { 0 };
	pthread_t t;
	struct pollfd p;
	struct beltline_pkt v[8];
	struct beltline_stream *s = open_sleeper(&f, &t, &p);
	int fd = p.fd;

	cr_assert_eq(fake_drop(&f), 0);       /* "stream removed", then the close */
	cr_assert_eq(poll(&p, 1, 10000), 1, "woken by the hangup, not by the timeout");
	cr_assert_eq(beltline_peek(s, v, 8), 0, "then the end of the stream");
	cr_assert(strstr(last_log, "stream removed") != NULL, "%s", last_log);
	cr_assert_eq(beltline_fd(s), fd, "the same fd to the end");
	beltline_close(s);
	fake_stop(&f, t);
}

/* beltline.h's pattern asks for the fd at the first -EAGAIN: that look was a busy
 * poller's, which sets no wait, so nothing signalled the reader and poll(fd, -1) slept
 * for ever (found by a new user; a verdict client so held let every packet time out).
 * The fd is readable at once; the look after it sets the wait; a wakeup wakes it. */
Test(live, a_reader_asking_for_its_fd_after_an_empty_look_is_not_left_asleep)
{
	struct fake f = { .wake = 1 };
	pthread_t t;
	struct pollfd p;
	struct beltline_pkt v[8];
	struct beltline_stream *s;
	struct bl_ibuf_entry e = ent(DBUF_ID, 1, 0, 64);
	uint64_t one = 1;
	struct beltline_open_opts o = { .sz = sizeof(o), .client = "unit" };

	cr_assert_eq(fake_start(&f, &t), 0);
	o.run_dir = f.dir;
	cr_assert_eq(beltline_open("beltline://t/web", &o, &s), 0, "%s", last_log);
	cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN, "empty, looked at as a busy poller");
	cr_assert_eq(f.ib->rpage[0]->wait, 0, "which waits for nothing");
	p = (struct pollfd){ .fd = beltline_fd(s), .events = POLLIN };
	cr_assert_geq(p.fd, 0, "%s", last_log);
	cr_assert_eq(poll(&p, 1, 0), 1, "readable at once: look again");
	cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN);
	cr_assert_eq(f.ib->rpage[0]->wait, 1, "now it waits for seq 0");
	cr_assert_eq(poll(&p, 1, 0), 0, "and sleeps");
	cr_assert_eq(bl_ibuf_write(f.ib, &e, 1), 1);
	cr_assert_eq(write(f.wake_fd, &one, sizeof(one)), (ssize_t)sizeof(one));  /* the wakeup */
	cr_assert_eq(poll(&p, 1, 10000), 1, "woken by the appliance");
	cr_assert_eq(beltline_peek(s, v, 8), 1);
	beltline_close(s);
	fake_stop(&f, t);
}

/* What the fd did before stays: a wakeup makes it readable, the empty look after the
 * packet drains it, and the wakeup is counted once. */
Test(live, sleeper_fd_still_wakes_for_packets)
{
	struct fake f = { 0 };
	pthread_t t;
	struct pollfd p;
	struct beltline_pkt v[8];
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s = open_sleeper(&f, &t, &p);
	struct bl_ibuf_entry e = ent(DBUF_ID, 1, 0, 64);
	uint64_t one = 1;

	cr_assert_eq(bl_ibuf_write(f.ib, &e, 1), 1);
	cr_assert_eq(write(f.wake_fd, &one, sizeof(one)), (ssize_t)sizeof(one));  /* the wakeup */
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert_eq(beltline_peek(s, v, 8), 1);
	cr_assert_eq(v[0].caplen, 64);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(beltline_peek(s, v, 8), -EAGAIN, "still live");
	cr_assert_eq(poll(&p, 1, 0), 0, "drained when found empty");
	cr_assert_eq(f.ib->rpage[0]->wait, 2, "and waiting for seq 1");
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.wakeups, 1);
	cr_assert_eq(beltline_fd(s), p.fd);
	beltline_close(s);
	fake_stop(&f, t);
}

/* The empty look after a wakeup reads the appliance's signal and, since that says the
 * appliance was there, skips its look at the connection (a system call a sleep). A
 * hangup right after the signal is still the end: it makes the fd readable, and the look
 * after that reads no signal and asks the connection. */
Test(live, a_hangup_just_after_a_signal_is_still_the_end)
{
	struct fake f = { 0 };
	pthread_t t;
	struct pollfd p;
	struct beltline_pkt v[8];
	struct beltline_stream *s = open_sleeper(&f, &t, &p);
	struct bl_ibuf_entry e = ent(DBUF_ID, 1, 0, 64);
	uint64_t one = 1;
	int rc = -EAGAIN, rounds = 0;

	cr_assert_eq(bl_ibuf_write(f.ib, &e, 1), 1);
	cr_assert_eq(write(f.wake_fd, &one, sizeof(one)), (ssize_t)sizeof(one));  /* the wakeup */
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert_eq(beltline_peek(s, v, 8), 1);
	cr_assert_eq(beltline_release(s, 1), 0);
	cr_assert_eq(fake_drop(&f), 0);       /* "stream removed", then the close */
	while (rc == -EAGAIN && rounds++ < 4) {
		cr_assert_eq(poll(&p, 1, 10000), 1, "round %d: readable (the hangup)", rounds);
		rc = beltline_peek(s, v, 8);
	}
	cr_assert_eq(rc, 0, "the end of the stream, within a look or two (%d rounds)", rounds);
	cr_assert(strstr(last_log, "stream removed") != NULL, "%s", last_log);
	beltline_close(s);
	fake_stop(&f, t);
}

/* A verdict client sleeps on beltline_user_fd the same way: it learns the end too. */
Test(live, user_fd_is_readable_when_the_appliance_hangs_up)
{
	struct fake f = { .wake = 1 };
	pthread_t t;
	struct beltline_user *u;
	struct beltline_pkt v[8];
	struct pollfd p = { .events = POLLIN };

	cr_assert_eq(fake_start(&f, &t), 0);
	struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = f.dir, .client = "unit" };
	cr_assert_eq(beltline_open_user("beltline://t/ips", &o, &u), 0, "%s", last_log);
	cr_assert_geq(__atomic_load_n(&f.wake_fd, __ATOMIC_ACQUIRE), 0, "the fake gave a wake fd");
	p.fd = beltline_user_fd(u);
	cr_assert_geq(p.fd, 0, "%s", last_log);
	cr_assert_eq(beltline_take(u, v, 8), -EAGAIN);
	cr_assert_eq(poll(&p, 1, 0), 0);
	cr_assert_eq(fake_drop(&f), 0);
	cr_assert_eq(poll(&p, 1, 10000), 1, "woken by the hangup, not by the timeout");
	cr_assert_eq(beltline_take(u, v, 8), 0, "then the end");
	beltline_user_close(u);
	fake_stop(&f, t);
}

/* The connection is watched for its hangup, not for a message: the appliance's notice
 * comes before its close, and a readable fd that the next peek answers with -EAGAIN would
 * spin a caller's poll loop. Only the hangup wakes it; the peek then says 0. */
Test(live, sleeper_fd_wakes_for_the_hangup_not_for_the_notice_before_it)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_NOTICE, .status = -ENOENT };
	static const char why[] = "{\"error\":\"stream removed\"}";
	char msg[sizeof(h) + sizeof(why)];
	int sp[2], efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int dfd = bl_shm_ro_fd(d), idx = bl_ibuf_reader_alloc(ib, 0);
	struct bl_ibuf_fds fds;
	struct beltline_stream *s;
	struct beltline_pkt v[4];
	struct pollfd p = { .events = POLLIN };

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = efd, .ctl_fd = sp[0],
		.n_dbufs = 1, .dbuf_fds = &dfd, .name = "test/web" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), 0, "%s", last_log);
	close(fds.ring_fd);
	close(dfd);
	p.fd = beltline_fd(s);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	h.len = sizeof(why) - 1;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), why, sizeof(why) - 1);
	cr_assert_eq(send(sp[1], msg, sizeof(h) + h.len, 0), (ssize_t)(sizeof(h) + h.len));
	cr_assert_eq(poll(&p, 1, 0), 0, "a message alone is not the end");
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	close(sp[1]);                          /* the appliance closes */
	cr_assert_eq(poll(&p, 1, 10000), 1);
	cr_assert_eq(beltline_peek(s, v, 4), 0);
	cr_assert(strstr(last_log, "stream removed") != NULL, "%s", last_log);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}

/* beltline_fd that cannot make its descriptor says so, leaves nothing open, and leaves
 * the reader a busy poller (it sets no wait); a later call may succeed. Two failures: an
 * epoll that cannot watch the wake fd (a regular file here), and no descriptor left. */
Test(live, fd_that_cannot_be_made_is_an_error_and_leaves_a_busy_poller)
{
	struct bl_shm *d = make_dbuf();
	struct bl_ibuf *ib = make_ibuf(BL_IBUF_SRP, 16);
	struct beltline_stream *s = open_reader(ib, d, memfd_create("not-pollable", MFD_CLOEXEC));
	struct rlimit rl, low;
	struct beltline_pkt v[4];
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), spare[256], n = 0, lowest = dup(null);

	cr_assert_geq(lowest, 0);
	close(lowest);
	cr_assert_eq(beltline_fd(s), -EPERM, "epoll refuses a regular file");
	cr_assert(strstr(last_log, "pollable fd") != NULL, "%s", last_log);
	cr_assert_eq(dup(null), lowest, "the epoll it made is closed again");
	close(lowest);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	cr_assert_eq(ib->rpage[0]->wait, 0, "still a busy poller: it sets no wait");
	beltline_close(s);

	s = open_reader(ib, d, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = 64;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 256 && (spare[n] = dup(null)) >= 0)     /* every descriptor below 64 taken */
		n++;
	cr_assert_eq(errno, EMFILE);
	cr_assert_eq(beltline_fd(s), -EMFILE);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	cr_assert_eq(s->l.r->page->wait, 0, "still a busy poller");
	close(spare[--n]);                    /* one: not enough (the epoll and our own eventfd) */
	cr_assert_eq(beltline_fd(s), -EMFILE);
	cr_assert_eq(s->l.self_fd, -1, "nothing left open");
	close(spare[--n]);
	cr_assert_geq(beltline_fd(s), 0, "%s", last_log);
	cr_assert_eq(beltline_peek(s, v, 4), -EAGAIN);
	cr_assert_eq(s->l.r->page->wait, 1, "a sleeper now");
	while (n > 0)
		close(spare[--n]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	close(null);
	beltline_close(s);
	bl_ibuf_free(ib);
	bl_shm_free(d);
}
