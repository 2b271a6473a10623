/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libbeltline-client, live path, without the appliance (as test_live.c): a reader
 * that sleeps on beltline_fd or busy-polls is woken for packets and learns of the end of
 * its stream (the appliance gone, the stream removed) once and in time.
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

TestSuite(live_wake, .init = live_setup);

Test(live_wake, pollable_fd)
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

/* A busy poller (no beltline_fd) backs off on an empty ring without syscalls but its
 * hangup check (issue 10): still -EAGAIN while live, data seen on the next look, and the
 * appliance's hangup seen within the check interval (64 empty looks). */
Test(live_wake, busy_poller_backs_off_and_still_sees_data_and_hangup)
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
Test(live_wake, a_hangup_is_said_once_with_the_appliance_s_word)
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

/* A sleeper that meets a run of entries that point nowhere gets -EAGAIN after 256 of
 * them, with entries still waiting: its fd must be readable (or its wait armed), or a
 * caller polling beltline_fd without a timeout sleeps for ever. Here it never found the
 * ring empty, so it never set its wait and nobody signalled it (the same as a sleeper
 * whose second look, after draining its fd, found entries). */
Test(live_wake, sleeper_cut_short_by_bad_entries_finds_its_fd_readable)
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
Test(live_wake, sleeper_fd_is_readable_when_the_appliance_hangs_up)
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
Test(live_wake, a_reader_asking_for_its_fd_after_an_empty_look_is_not_left_asleep)
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
Test(live_wake, sleeper_fd_still_wakes_for_packets)
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
Test(live_wake, a_hangup_just_after_a_signal_is_still_the_end)
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
Test(live_wake, user_fd_is_readable_when_the_appliance_hangs_up)
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
Test(live_wake, sleeper_fd_wakes_for_the_hangup_not_for_the_notice_before_it)
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
Test(live_wake, fd_that_cannot_be_made_is_an_error_and_leaves_a_busy_poller)
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
