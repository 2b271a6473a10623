/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream_wake — wake moderation for a stream's sleeping readers (Streamline's
 * signal moderation; bl_stream.h, README.md):
 *
 *   worker, after each burst it wrote (bl_stream_wake_burst): for each reader
 *     with a wake channel, one load of its wait line (a hit while it does not
 *     change) and, when wake_count entries wait, one signal (a byte on its wake channel) per sleep;
 *   main lcore, every tick (bl_stream_wake_tick): the wake_us timeout, for a
 *     stream that went quiet before the count was reached.
 *
 * A reader that busy-polls never sets wait and costs the producer those loads
 * only; a sleeper costs one signal (a byte on its wake channel) per sleep. A reader that lies in
 * wait can cost itself wakeups, nobody else: the worker signals a reader at
 * most once per wake_count entries written (fired_at), whatever its wait says,
 * which is as often as an honest sleeper can be due (it sleeps again for an
 * entry past the head it was woken at, due wake_count entries later); the tick
 * at most once per wake_count entries or wake_us (mfired_head, mfired_ns), as
 * often as an honest sleeper's timeout can be due.
 *
 * Ticks: the main lcore ticks every 100 us (WAKE_TICK_US) while a tick here says a
 * reader sleeps unsignalled, and every 1 ms otherwise. A sleeper whose entry is not
 * there yet needs the fast tick only where the tick may have to act for it: a stream
 * with wake_count > 1 (its wake_us timeout starts with the first entry), or one whose
 * writer does not look again (a tap's). A writer made with wake_pass runs
 * bl_stream_wake_pass once a pass on its worker (flow's exporter thread, once a 2 ms
 * round): the race of the burst's unfenced check is caught there, a pass later, not
 * here. Every sleeping client used to hold the main lcore at 10000 wakeups a second,
 * each a few system calls on the CPU it shares with the clients.
 *
 * Ordering: detach closes a wake channel only once the worker cannot be using it:
 * it clears the reader's bit in `capable` and then waits while `busy` is set
 * (Dekker: both sides seq_cst). An episode signalled by both sides at once
 * (count and timeout together) costs one extra signal, which the reader
 * drains with the first.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_pause.h>

#include "bl_ibuf.h"
#include "bl_stream_pvt.h"
#include "bl_stream_worker.h"

void
bl_stream__wake_init(struct bl_stream_wake *w, uint32_t wake_count, uint32_t wake_us)
{
	memset(w, 0, sizeof(*w));
	w->wake_count = wake_count;
	w->wake_ns = (uint64_t)wake_us * 1000u;
	for (unsigned int i = 0; i < BL_IBUF_MAX_READERS; i++)
		w->fd[i] = -1;
}

/* The head at which a reader waiting with `wait` (1 + the seq it wants) is woken. */
static inline uint64_t
threshold(const struct bl_stream_wake *w, uint64_t wait)
{
	uint64_t from = wait - 1;

	return from > UINT64_MAX - w->wake_count ? UINT64_MAX : from + w->wake_count;
}

int
bl_stream__wake_channel(int *ours, int *theirs)
{
	int sv[2];

	/* Both ends non-blocking (MSG_DONTWAIT says it again on every send); the client's
	 * is its own to set as it likes, and cannot send us anything. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	/* The least send buffer the kernel allows on ours: a client that never reads holds
	 * a few signals' worth of kernel memory, not 200 KB (one unread byte is enough). */
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 }, sizeof(int)) < 0 ||
	    shutdown(sv[1], SHUT_WR) < 0) {
		int rc = -errno;

		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	*ours = sv[0];
	*theirs = sv[1];
	return 0;
}

int
bl_stream__wake_signal(int ours)
{
	return send(ours, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
}

static void
signal_fd(struct bl_stream_wake *w, unsigned int i)
{
	/* Counted before the signal, taken back if it failed: a reader woken by it, asking
	 * for the stats at once, found the count without its own wakeup (the signaller
	 * preempted between the two; CI saw 1 sent for 2 seen). relaxed: a counter; the
	 * signal's syscall orders it before the reader's wake. */
	__atomic_fetch_add(&w->signals, 1, __ATOMIC_RELAXED);
	if (!bl_stream__wake_signal(w->fd[i]))
		__atomic_fetch_sub(&w->signals, 1, __ATOMIC_RELAXED);
}

void
bl_stream__wake_check(struct bl_stream_wake *w, const struct bl_ibuf *ib, uint64_t head)
{
	/* relaxed: a first look; a channel is used only after the Dekker below. */
	uint64_t cap = __atomic_load_n(&w->capable, __ATOMIC_RELAXED), due = 0;

	/* No fence on the usual burst (nobody to wake): a seq_cst store here drained the
	 * worker's store buffer, line transfers to readers included, after every burst. */
	for (uint64_t c = cap; c != 0; c &= c - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(c);
		/* relaxed: the reader's (untrusted) word; any value only decides when
		 * its own channel is signalled. */
		uint64_t wait = __atomic_load_n(&ib->rpage[i]->wait, __ATOMIC_RELAXED);

		/* relaxed loads: the main lcore resets both at an attach (they only decide
		 * `due`: the loop below looks again after the seq_cst load of capable) */
		if (__builtin_expect(wait != 0, 0) &&
		    wait != __atomic_load_n(&w->fired[i], __ATOMIC_RELAXED) &&
		    head >= threshold(w, wait) &&
		    head - __atomic_load_n(&w->fired_at[i], __ATOMIC_RELAXED) >= w->wake_count)
			due |= 1ull << i;
	}
	if (__builtin_expect(due == 0, 1))
		return;
	/* seq_cst, both: Dekker with bl_stream__wake_detach, which clears a bit and then
	 * reads busy. Either it sees busy set and waits, or we see its bit cleared. */
	__atomic_store_n(&w->busy, 1, __ATOMIC_SEQ_CST);
	due &= __atomic_load_n(&w->capable, __ATOMIC_SEQ_CST);
	for (; due != 0; due &= due - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(due);
		uint64_t wait = __atomic_load_n(&ib->rpage[i]->wait, __ATOMIC_RELAXED);

		if (wait == 0 || wait == __atomic_load_n(&w->fired[i], __ATOMIC_RELAXED) ||
		    head < threshold(w, wait))
			continue;
		signal_fd(w, i);
		__atomic_store_n(&w->fired_at[i], head, __ATOMIC_RELAXED);   /* see the attach's */
		/* relaxed: read by the main lcore's tick to skip a signalled sleep. */
		__atomic_store_n(&w->fired[i], wait, __ATOMIC_RELAXED);
	}
	/* release: pairs with the seq_cst load of busy in detach: our channel use is done. */
	__atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
}

int
bl_stream__wake_attach(struct bl_stream *s, unsigned int idx)
{
	struct bl_stream_wake *w = &s->wake;
	int ours, theirs, rc;

	if (idx >= BL_IBUF_MAX_READERS)
		return -EINVAL;
	if (w->fd[idx] >= 0)
		bl_stream__wake_detach(s, idx);
	rc = bl_stream__wake_channel(&ours, &theirs);
	if (rc < 0)
		return rc;
	w->fd[idx] = ours;
	/* relaxed: ordered before the bit by the release or below. */
	__atomic_store_n(&w->fired[idx], 0, __ATOMIC_RELAXED);
	/* relaxed: the worker's first look at it is a relaxed load too */
	__atomic_store_n(&w->fired_at[idx], 0, __ATOMIC_RELAXED);
	w->mfired[idx] = 0;
	w->mfired_head[idx] = 0;
	w->mfired_ns[idx] = 0;
	w->seen[idx] = 0;
	w->since[idx] = 0;
	/* release: pairs with the seq_cst load of capable in bl_stream__wake_check. */
	__atomic_fetch_or(&w->capable, 1ull << idx, __ATOMIC_RELEASE);
	return theirs;
}

void
bl_stream__wake_detach(struct bl_stream *s, unsigned int idx)
{
	struct bl_stream_wake *w = &s->wake;

	if (idx >= BL_IBUF_MAX_READERS || w->fd[idx] < 0)
		return;
	/* seq_cst: see bl_stream__wake_check. */
	__atomic_fetch_and(&w->capable, ~(1ull << idx), __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&w->busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	close(w->fd[idx]);
	w->fd[idx] = -1;
}

/* One reader of one stream: the timeout. Returns 1 if it still sleeps unsignalled. */
static int
tick_reader(struct bl_stream *s, unsigned int i, uint64_t head, uint64_t now_ns)
{
	struct bl_stream_wake *w = &s->wake;
	/* relaxed: the reader's untrusted word, as in bl_stream__wake_check. */
	uint64_t wait = __atomic_load_n(&s->ib->rpage[i]->wait, __ATOMIC_RELAXED);

	if (wait == 0) {
		w->seen[i] = 0;
		return 0;
	}
	if (wait != w->seen[i]) {                      /* a new sleep */
		w->seen[i] = wait;
		w->since[i] = 0;
	}
	/* relaxed: the worker's note that it signalled this sleep (by count). */
	if (w->mfired[i] == wait || __atomic_load_n(&w->fired[i], __ATOMIC_RELAXED) == wait)
		return 0;
	if (head < wait)                               /* nothing waits for it yet: the */
		return !w->pass || w->wake_count != 1; /* worker will see to it (Ticks) */
	if (w->since[i] == 0)
		w->since[i] = now_ns;
	if (now_ns - w->since[i] >= w->wake_ns || head >= threshold(w, wait)) {
		/* An honest sleeper is never due sooner than wake_count entries or wake_us
		 * after its last signal; one that rewrites wait every tick gets no more. */
		if (w->mfired_ns[i] != 0 && head - w->mfired_head[i] < w->wake_count &&
		    now_ns - w->mfired_ns[i] < w->wake_ns)
			return 0;
		signal_fd(w, i);
		w->mfired[i] = wait;
		w->mfired_head[i] = head;
		w->mfired_ns[i] = now_ns;
		return 0;
	}
	return 1;
}

int
bl_stream__wake_tick(struct bl_stream *s, uint64_t now_ns)
{
	int sleeping = 0;
	/* relaxed: this thread is the only writer of capable. acquire: pairs with
	 * the release store of head in bl_ibuf__publish (the worker). */
	uint64_t cap = __atomic_load_n(&s->wake.capable, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&s->ib->prod->head, __ATOMIC_ACQUIRE);

	while (cap != 0) {
		unsigned int i = (unsigned int)__builtin_ctzll(cap);
		sleeping |= tick_reader(s, i, head, now_ns);
		cap &= cap - 1;
	}
	return sleeping;
}
