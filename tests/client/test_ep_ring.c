/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint ring pairs without the appliance: the regions and the socket pair it would
 * hand out (app/beltlined/ep.c's make_region, written again here: memfds sized and
 * sealed against shrinking and growing, the IBuf's header filled), given to
 * blc_ep_pair for both sides, one of them in a thread for the hellos.
 *
 * The sleep words (docs/shm-abi.md, "Wakeups"): a waker wakes a value once. A call
 * that returned -EAGAIN left its word odd, and the next wait stored the same odd value
 * again, one the peer had woken already: the peer then stayed silent, a poll of
 * beltline_ep_fd never fired and a blocking call slept to its timeout with room there.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "src_ep_pvt.h"

#define SLOTS 16u
#define DBUF  (64u * 1024u)
#define MAXM  (32u * 1024u)
#define LONG_MS 10000       /* what may take a while on a loaded machine: never reached */

static int
region(uint64_t n, int hdr)
{
	int fd = memfd_create("test-ep", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)n), 0);
	if (hdr) {
		struct bl_ep_hdr h = { .magic = BL_EP_MAGIC, .version = BL_EP_VERSION,
			.slots = SLOTS, .dbuf_bytes = DBUF, .max_msg = MAXM };
		cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	}
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

struct side {
	int fd[3];
	struct beltline_ep_opts o;
	struct beltline_ep *ep;
	int rc;
};

static void *
pair_side(void *arg)
{
	static const uint32_t geo[3] = { SLOTS, DBUF, MAXM };
	struct side *s = arg;

	s->rc = blc_ep_pair("test/ep", &s->o, s->fd, geo, 0, UINT32_MAX, &s->ep);
	return NULL;
}

/* a and b, paired; spin_us < 0 for both: every wait that does not find what it waits
 * for sleeps at once, so what a test sees does not hang on a spin's length. */
static void
make_pair(struct beltline_ep **a, struct beltline_ep **b)
{
	struct side sa = { .o = { .sz = sizeof(sa.o), .timeout_ms = LONG_MS, .spin_us = -1 } };
	struct side sb = sa;
	int sv[2];
	pthread_t t;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	sa.fd[0] = region(bl_ep_ibuf_bytes(SLOTS), 1);
	sa.fd[1] = region(DBUF, 0);
	sa.fd[2] = sv[0];
	sb.fd[0] = region(bl_ep_ibuf_bytes(SLOTS), 1);
	sb.fd[1] = region(DBUF, 0);
	sb.fd[2] = sv[1];
	cr_assert_eq(pthread_create(&t, NULL, pair_side, &sb), 0);
	pair_side(&sa);
	pthread_join(t, NULL);
	cr_assert_eq(sa.rc, 0);
	cr_assert_eq(sb.rc, 0);
	*a = sa.ep;
	*b = sb.ep;
}

static void
send_msg(struct beltline_ep *ep, uint32_t len)
{
	void *buf;

	cr_assert_eq(beltline_ep_getwritebuf(ep, len, &buf, 0), 0);
	memset(buf, 'x', len);
	cr_assert_eq(beltline_ep_commit(ep, buf, len), 0);
}

/* Read the next message and release it. */
static void
take_msg(struct beltline_ep *ep)
{
	const void *buf;
	uint32_t len;

	cr_assert_eq(beltline_ep_getreadbuf(ep, &buf, &len, 0), 1);
	cr_assert_eq(beltline_ep_release(ep, buf), 0);
}

static int
readable(struct beltline_ep *ep, int ms)
{
	struct pollfd p = { .fd = beltline_ep_fd(ep), .events = POLLIN };

	return poll(&p, 1, ms);
}

TestSuite(ep_ring, .timeout = 120);

/* The reviewer's sequence: the second -EAGAIN armed the value the peer had woken. */
Test(ep_ring, room_after_a_second_eagain_wakes_a_poller)
{
	struct beltline_ep *a, *b;
	void *buf;

	make_pair(&a, &b);
	for (unsigned i = 0; i < SLOTS; i++)
		send_msg(a, 4096);
	cr_assert_eq(beltline_ep_getwritebuf(a, 8192, &buf, 0), -EAGAIN, "all 16 slots used");
	take_msg(b);
	cr_assert_eq(readable(a, LONG_MS), 1, "a slot came back: A is woken");
	cr_assert_eq(beltline_ep_getwritebuf(a, 8192, &buf, 0), -EAGAIN, "4 KiB free, 8 wanted");
	for (unsigned i = 1; i < SLOTS; i++)
		take_msg(b);
	cr_assert_eq(readable(a, LONG_MS), 1, "everything came back: A must be woken again");
	cr_assert_eq(beltline_ep_getwritebuf(a, 8192, &buf, -1), 0);
	cr_assert_eq(beltline_ep_commit(a, buf, 8192), 0);
	beltline_ep_close(a);
	beltline_ep_close(b);
}

struct blocked {
	struct beltline_ep *ep;
	int rc;
	struct timespec done;       /* when the call returned */
};

static double
secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void *
blocking_write(void *arg)
{
	struct blocked *w = arg;
	void *buf;

	/* longer than the test waits for it to arm: woken or not, it is asleep when the
	 * room comes */
	w->rc = beltline_ep_getwritebuf(w->ep, 8192, &buf, 3 * LONG_MS);
	clock_gettime(CLOCK_MONOTONIC, &w->done);
	if (w->rc == 0)
		w->rc = beltline_ep_commit(w->ep, buf, 8192);
	return NULL;
}

/* The same, with a blocking call asleep when the room comes: it slept to its timeout. */
Test(ep_ring, room_after_a_second_eagain_wakes_a_blocking_call)
{
	struct beltline_ep *a, *b;
	struct blocked w;
	struct timespec t0, now;
	uint64_t armed;
	pthread_t t;
	void *buf;

	make_pair(&a, &b);
	for (unsigned i = 0; i < SLOTS; i++)
		send_msg(a, 4096);
	cr_assert_eq(beltline_ep_getwritebuf(a, 8192, &buf, 0), -EAGAIN);
	take_msg(b);
	cr_assert_eq(beltline_ep_getwritebuf(a, 8192, &buf, 0), -EAGAIN);
	armed = __atomic_load_n(&b->peer->tx_sleep, __ATOMIC_RELAXED);
	cr_assert(armed & 1, "A waits for room: %llu", (unsigned long long)armed);
	w.ep = a;
	cr_assert_eq(pthread_create(&t, NULL, blocking_write, &w), 0);
	/* until A's blocking call has armed its own sleep (at most LONG_MS: a wait that
	 * never arms one shows as the call's timeout below) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (__atomic_load_n(&b->peer->tx_sleep, __ATOMIC_RELAXED) != armed)
			break;
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 < LONG_MS);
	for (unsigned i = 1; i < SLOTS; i++)
		take_msg(b);
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_join(t, NULL);
	cr_assert_eq(w.rc, 0, "the blocking getwritebuf: %d", w.rc);
	/* Not woken, it found the room only when its timeout ran out (with -1: never). */
	cr_assert_lt(secs(&now, &w.done), LONG_MS / 1000.0, "woken %.1f s after the room came",
		secs(&now, &w.done));
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* With echoes out, a wait for a message arms tx_sleep as well, so the writer's release of
 * an echo wakes it; armed already by a getwritebuf's -EAGAIN, it was kept at a value the
 * writer had woken, and B's release of the second echo went unheard. */
Test(ep_ring, echo_release_wakes_a_reader_after_a_woken_room_wait)
{
	struct beltline_ep *a, *b;
	const void *in;
	uint32_t len;
	void *buf;

	make_pair(&a, &b);
	send_msg(b, 100);
	send_msg(b, 100);
	for (int i = 0; i < 2; i++) {   /* A sends both back uncopied: two pins */
		cr_assert_eq(beltline_ep_getreadbuf(a, &in, &len, 0), 1);
		cr_assert_eq(beltline_ep_forward(a, a, in, len, 0), 0);
	}
	for (unsigned i = 2; i < SLOTS; i++)
		send_msg(a, 4096);
	cr_assert_eq(beltline_ep_getwritebuf(a, 4096, &buf, 0), -EAGAIN, "A's slots are used");
	take_msg(b);                    /* the first echo: A's room wait is woken */
	cr_assert_eq(readable(a, LONG_MS), 1);
	cr_assert_eq(beltline_ep_getreadbuf(a, &in, &len, 0), -EAGAIN, "no message; one pin left");
	take_msg(b);                    /* the second echo */
	cr_assert_eq(readable(a, LONG_MS), 1, "B released the echo A waits on: A must be woken");
	cr_assert_eq(beltline_ep_getreadbuf(a, &in, &len, 0), -EAGAIN);
	cr_assert_eq(__atomic_load_n(&b->peer->rx_tail, __ATOMIC_ACQUIRE), 2,
		"both of B's messages given back");
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/*
 * Wakeups for room in batches (BL_EP_F_WAKE_AT). A writer that keeps the ring full
 * slept and was woken for nearly every message the reader released: at 64 KiB a
 * message two system calls a message on each side (bench/ipc.sh's sleeping endpoint
 * kept 5.6 GB/s against 11.8 spinning). Now a blocking wait for room asks the reader,
 * in its tx_wake_at, to wake it only once half of what it holds is released, or when the
 * reader has nothing left to read.
 */

/* As a writer's first sleep for room leaves it: tx_sleep odd and new, tx_wake_at at. */
static uint64_t
arm_room(struct beltline_ep *w, uint64_t at)
{
	uint64_t g = __atomic_load_n(&w->me->tx_sleep, __ATOMIC_RELAXED);

	g += 1 + (g & 1);
	__atomic_store_n(&w->me->tx_wake_at, at, __ATOMIC_RELAXED);
	__atomic_store_n(&w->me->tx_sleep, g, __ATOMIC_RELEASE);
	return g;
}

Test(ep_ring, both_sides_say_they_honour_wake_at)
{
	struct beltline_ep *a, *b;

	make_pair(&a, &b);
	cr_assert(a->peer_wake_at && b->peer_wake_at);
	cr_assert(a->me->flags & BL_EP_F_WAKE_AT);
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* The reader wakes a writer waiting for room at its tx_wake_at, not before, and once. */
Test(ep_ring, a_reader_wakes_a_room_wait_where_it_asked)
{
	struct beltline_ep *a, *b;

	make_pair(&a, &b);
	for (unsigned i = 0; i < SLOTS; i++)
		send_msg(a, 1024);
	arm_room(a, 8);
	for (unsigned i = 0; i < 7; i++) {
		take_msg(b);
		cr_assert_eq(b->st.wakeups, 0, "released %u of the 8 asked for: no wakeup", i + 1);
	}
	take_msg(b);
	cr_assert_eq(b->st.wakeups, 1, "the 8th: A is woken");
	cr_assert_eq(readable(a, LONG_MS), 1);
	take_msg(b);
	cr_assert_eq(b->st.wakeups, 1, "a value is woken once");
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* A reader with nothing left to read wakes it whatever it asked: it releases no more
 * until the writer sends again (here: it holds the last two messages it read). */
Test(ep_ring, a_reader_that_runs_dry_wakes_a_room_wait)
{
	struct beltline_ep *a, *b;
	const void *m[4], *more;
	uint32_t len;

	make_pair(&a, &b);
	for (unsigned i = 0; i < 4; i++)
		send_msg(a, 1024);
	arm_room(a, 4);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(beltline_ep_getreadbuf(b, &m[i], &len, 0), 1);
	cr_assert_eq(beltline_ep_release(b, m[0]), 0);
	cr_assert_eq(beltline_ep_release(b, m[1]), 0);
	cr_assert_eq(b->st.wakeups, 0, "2 of the 4 asked for released");
	cr_assert_eq(beltline_ep_getreadbuf(b, &more, &len, 0), -EAGAIN);
	cr_assert_eq(b->st.wakeups, 1, "B ran dry: A is woken");
	cr_assert_eq(readable(a, LONG_MS), 1);
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* A garbage tx_wake_at (one the reader never reaches) costs the writer only its own
 * wakeups: the reader carries on, and wakes it when it runs dry. */
Test(ep_ring, a_garbage_wake_at_harms_no_one_but_its_writer)
{
	struct beltline_ep *a, *b;
	const void *m;
	uint32_t len;

	make_pair(&a, &b);
	for (unsigned i = 0; i < SLOTS; i++)
		send_msg(a, 1024);
	arm_room(a, UINT64_MAX);
	for (unsigned i = 0; i < SLOTS; i++)
		take_msg(b);
	cr_assert_eq(b->st.wakeups, 0);
	cr_assert_eq(beltline_ep_getreadbuf(b, &m, &len, 0), -EAGAIN);
	cr_assert_eq(b->st.wakeups, 1);
	cr_assert_eq(b->st.garbage, 0, "not garbage to the reader: only a hint");
	beltline_ep_close(a);
	beltline_ep_close(b);
}

struct flood {
	struct beltline_ep *ep;
	unsigned n;
	int rc;
};

static void *
flood_write(void *arg)
{
	struct flood *f = arg;
	void *buf;

	for (unsigned i = 0; i < f->n && f->rc == 0; i++) {
		f->rc = beltline_ep_getwritebuf(f->ep, 1024, &buf, 3 * LONG_MS);
		if (f->rc == 0) {
			memcpy(buf, &i, sizeof(i));
			f->rc = beltline_ep_commit(f->ep, buf, 1024);
		}
	}
	return NULL;
}

static void
busy_us(unsigned us)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while (secs(&t0, &t) * 1e6 < us);
}

/* Both sides blocking (sleeping, no spin), the writer faster than a reader that takes
 * 100 us a message: every message arrives in order, and the reader woke the writer
 * about once per 8 (half the 16 slots), not once per message as before (800 wakeups;
 * a loaded machine makes it fewer: a writer that sleeps 1 ms without its batch goes
 * on with the room there is). */
Test(ep_ring, a_writer_that_keeps_the_ring_full_is_woken_once_a_batch)
{
	struct beltline_ep *a, *b;
	struct flood f = { .n = 800 };
	const void *m;
	uint32_t len;
	pthread_t t;

	make_pair(&a, &b);
	f.ep = a;
	cr_assert_eq(pthread_create(&t, NULL, flood_write, &f), 0);
	for (unsigned i = 0; i < f.n; i++) {
		unsigned seq;

		cr_assert_eq(beltline_ep_getreadbuf(b, &m, &len, 3 * LONG_MS), 1, "message %u", i);
		memcpy(&seq, m, sizeof(seq));
		cr_assert_eq(seq, i);
		cr_assert_eq(len, 1024);
		busy_us(100);
		cr_assert_eq(beltline_ep_release(b, m), 0);
	}
	pthread_join(t, NULL);
	cr_assert_eq(f.rc, 0);
	cr_assert_leq(b->st.wakeups, f.n / 4, "%llu wakeups for %u messages",
		(unsigned long long)b->st.wakeups, f.n);
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* A writer whose room is all in buffers it got and did not commit: no wait can end
 * (the peer gives back only what was sent). It slept for good (or to its timeout, or,
 * polling, on an fd nothing would signal); now -EDEADLK at once, said, and nothing
 * changes for the pair: the buffers it holds commit, and the peer reads them. */
Test(ep_ring, a_writer_whose_room_is_all_its_own_uncommitted_buffers_is_told_at_once)
{
	struct beltline_ep *a, *b;
	void *big[2], *small[SLOTS], *more;
	struct timespec t0, t1;
	const void *m;
	uint32_t len;

	make_pair(&a, &b);
	/* the bytes: two buffers of max_msg fill the 64 KiB DBuf */
	cr_assert_eq(beltline_ep_getwritebuf(a, MAXM, &big[0], LONG_MS), 0);
	cr_assert_eq(beltline_ep_getwritebuf(a, MAXM, &big[1], LONG_MS), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(beltline_ep_getwritebuf(a, 1, &more, LONG_MS), -EDEADLK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "at once, not at its 10 s timeout");
	cr_assert_eq(beltline_ep_getwritebuf(a, 1, &more, 0), -EDEADLK, "not -EAGAIN: a poll would sleep");
	cr_assert_eq(a->st.full, 0, "a caller's mistake, not a full ring");
	/* with one of them sent, the peer may give room back: a wait is worth it again */
	cr_assert_eq(beltline_ep_commit(a, big[0], MAXM), 0);
	cr_assert_eq(beltline_ep_getwritebuf(a, 1, &more, 0), -EAGAIN);
	cr_assert_eq(beltline_ep_commit(a, big[1], 100), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(beltline_ep_getreadbuf(b, &m, &len, LONG_MS), 1);
		cr_assert_eq(len, i == 0 ? MAXM : 100u);
		cr_assert_eq(beltline_ep_release(b, m), 0);
	}
	/* the slots: SLOTS small buffers got, none sent */
	for (unsigned i = 0; i < SLOTS; i++)
		cr_assert_eq(beltline_ep_getwritebuf(a, 64, &small[i], LONG_MS), 0, "buffer %u", i);
	cr_assert_eq(beltline_ep_getwritebuf(a, 64, &more, LONG_MS), -EDEADLK);
	for (unsigned i = 0; i < SLOTS; i++)
		cr_assert_eq(beltline_ep_commit(a, small[i], 64), 0);
	for (unsigned i = 0; i < SLOTS; i++)
		take_msg(b);
	cr_assert_eq(beltline_ep_getwritebuf(a, 64, &more, LONG_MS), 0, "room again");
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* A reader holding every slot of the peer's ring (read, not released) waiting for one
 * more: the peer cannot send it, so the wait could not end (it slept to its timeout).
 * -ENOBUFS at once, as tcp:// says when held messages fill its buffer; one release and
 * the peer sends again. */
Test(ep_ring, a_reader_holding_every_slot_is_told_at_once)
{
	struct beltline_ep *a, *b;
	const void *m[SLOTS], *more;
	struct timespec t0, t1;
	uint32_t len;

	make_pair(&a, &b);
	for (unsigned i = 0; i < SLOTS; i++)
		send_msg(a, 64);
	for (unsigned i = 0; i < SLOTS; i++)
		cr_assert_eq(beltline_ep_getreadbuf(b, &m[i], &len, LONG_MS), 1, "message %u", i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(beltline_ep_getreadbuf(b, &more, &len, LONG_MS), -ENOBUFS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "at once, not at its 10 s timeout");
	cr_assert_eq(beltline_ep_getreadbuf(b, &more, &len, 0), -ENOBUFS, "not -EAGAIN");
	cr_assert_eq(beltline_ep_release(b, m[0]), 0);
	cr_assert_eq(beltline_ep_getreadbuf(b, &more, &len, 0), -EAGAIN, "one released: a wait may end");
	send_msg(a, 64);
	cr_assert_eq(beltline_ep_getreadbuf(b, &more, &len, LONG_MS), 1, "and the peer sent again");
	beltline_ep_close(a);
	beltline_ep_close(b);
}

/* The next tick of the coarse clock (4 ms or less): waited for as a condition. */
static void
next_tick(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t0);
	do {
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	} while (t.tv_sec == t0.tv_sec && t.tv_nsec == t0.tv_nsec);
}

/* A sender that finds room never waited, so it never saw that the peer had left: after
 * the peer closed, getwritebuf and commit said 0 for every slot of the ring (16 here,
 * 1024 by default), messages lost with no word, and only the seventeenth said -EPIPE.
 * Now the peer's end is looked at once a tick: the next getwritebuf after it says
 * -EPIPE, and so does a forward (an echo takes a slot). */
Test(ep_ring, a_write_after_the_peer_left_says_epipe)
{
	struct beltline_ep *a, *b;
	void *buf;

	make_pair(&a, &b);
	send_msg(a, 64);
	take_msg(b);
	beltline_ep_close(b);           /* the peer leaves, its ring empty, room for all */
	next_tick();
	cr_assert_eq(beltline_ep_getwritebuf(a, 64, &buf, 0), -EPIPE, "not a buffer into the void");
	cr_assert_eq(beltline_ep_getwritebuf(a, 64, &buf, LONG_MS), -EPIPE);
	beltline_ep_close(a);

	/* the same, the sender never having sent: the first getwritebuf says it */
	make_pair(&a, &b);
	beltline_ep_close(b);
	next_tick();
	cr_assert_eq(beltline_ep_getwritebuf(a, 64, &buf, 0), -EPIPE);
	beltline_ep_close(a);
}
