/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_ring — an endpoint's data path: getwritebuf and commit, getreadbuf and
 * release, forward, and the wait that spins, then sleeps on a wake channel. The
 * pair is set up by src_ep.c (its head comment says what the two sides exchange;
 * tcp:// and tls:// endpoints go to src_ep_net.c from the top of each call);
 * the memory is bl_ep_abi.h and docs/shm-abi.md, "Endpoint ring pairs".
 *
 * Every field read from the peer's regions is checked before use (head and
 * rx_tail against what can be, each slot's seq, offset and length against the
 * geometry) and read once into a local; a peer that writes garbage breaks the
 * pair with -EPROTO (counted in beltline_ep_stats.garbage), never a fault.
 *
 * Memory order: a sender writes the slot, then head with release; the reader
 * acquires head, then reads the slot and the data. The reader's rx_tail store
 * (release) pairs with the sender's acquire load before it reuses the space.
 * Sleeping (Dekker): the sleeper stores its odd sleep word, full fence, checks
 * again; the waker stores head or rx_tail, full fence, loads the sleep word.
 * At least one of them sees the other's store, so no wakeup is lost. The waker
 * wakes each odd value once (woke_rx, woke_tx), so every sleep stores a value its
 * side never stored before (arm_value); a wait that returns leaves its word even,
 * but one that returns -EAGAIN, whose caller may poll beltline_ep_fd() for the peer.
 *
 * The waker's fence was a fifth of a 64-byte message's cost (it waits for the
 * message's lines to leave for the reader's core): where both sides can, the
 * pair is made asymmetric (fast_wake). The sleeper, after its fence, issues
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a full barrier on every
 * CPU then running a process registered for it, the waker among them (a waker
 * not running has passed one in its context switch); the waker keeps only a
 * compiler barrier between its store and its load. Then either the waker's store
 * was visible before the sleeper's check, or the waker's load comes after the
 * sleeper's store was, as with two fences. Each side registers at set-up and
 * says so in its header (BL_EP_F_MB_SLEEP); the waker drops its fence only if it
 * is registered and the sleeper says it issues the call. A membarrier that fails
 * later (it should not) leaves the sleeper polling its channel every 1 ms.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <linux/membarrier.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bl_time.h"
#include "src_ep_pvt.h"

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int
garbage(struct beltline_ep *ep, const char *fmt, unsigned long long a, unsigned long long b,
	unsigned long long c)
{
	char what[160];

	snprintf(what, sizeof(what), fmt, a, b, c);
	ep->st.garbage++;
	if (!ep->broken)
		blc_log(BELTLINE_LOG_ERROR, "%s: the peer (pid %d) wrote garbage: %s; the pair is "
			"broken (-EPROTO)", ep->name, (int)ep->peer_pid, what);
	ep->broken = -EPROTO;
	return -EPROTO;
}

/* Read a wake channel (sock or txsock) empty; note the peer's end. */
static void
drain(struct beltline_ep *ep, int fd)
{
	char b[64];

	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (r == 0) {
			ep->peer_gone = 1;
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ep->peer_gone = 1;
			return;
		}
	}
}

static int
membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

int
blc_ep_mb_ready(void)
{
	static pid_t registered;    /* the process that registered (a fork's child has not) */
	const char *env = getenv("BELTLINE_EP_FENCE");
	pid_t me = getpid();
	int q;

	if (env != NULL && *env != '\0' && strcmp(env, "0") != 0)
		return 0;
	if (__atomic_load_n(&registered, __ATOMIC_RELAXED) == me)
		return 1;
	q = membarrier(MEMBARRIER_CMD_QUERY);
	if (q < 0 || !(q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) ||
	    !(q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) ||
	    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
		return 0;
	__atomic_store_n(&registered, me, __ATOMIC_RELAXED);   /* idempotent: threads may race */
	return 1;
}

/* Wake the peer if it sleeps on word (one of its sleep words) and we have not woken
 * that sleep yet; with at (the peer's tx_wake_at: a wait for room), only if have (our
 * rx_tail) reached it. The fence pairs with the sleeper's fence, or with its
 * membarrier (fast_wake; see the top of the file). */
static void
wake(struct beltline_ep *ep, int fd, const uint64_t *word, uint64_t *woke, const uint64_t *at,
     uint64_t have)
{
	uint64_t g;

	if (ep->fast_wake)
		__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* the store stays before the load */
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g = __atomic_load_n(word, __ATOMIC_ACQUIRE);   /* pairs with ep_wait's release: tx_wake_at too */
	if ((g & 1) && g != *woke) {
		/* Untrusted: a peer that wrote garbage there delays only its own wakeup (until
		 * we run dry, below, or its own 1 ms). */
		if (at != NULL && have < __atomic_load_n(at, __ATOMIC_RELAXED))
			return;         /* not yet: a later release wakes it, or wake_room_dry */
		*woke = g;
		if (send(fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
			ep->st.wakeups++;
	}
}

/* A message is there: wake a peer waiting for one. */
static inline void
wake_msg(struct beltline_ep *ep)
{
	wake(ep, ep->sock, &ep->peer->rx_sleep, &ep->woke_rx, NULL, 0);
}

/* We released up to rx_tail: wake a peer waiting for room, if that is as far as it
 * asked (its tx_wake_at). */
static inline void
wake_room(struct beltline_ep *ep)
{
	wake(ep, ep->peer_tx, &ep->peer->tx_sleep, &ep->woke_tx, &ep->peer->tx_wake_at, ep->rx_tail);
}

/* We have nothing left to read: wake a peer waiting for room whatever its tx_wake_at
 * (we may release no more until it sends again). A look first, so that a reader polling
 * an empty ring pays no fence: where it matters (ep_wait's sleep) ours came before. */
static inline void
wake_room_dry(struct beltline_ep *ep)
{
	uint64_t g = __atomic_load_n(&ep->peer->tx_sleep, __ATOMIC_RELAXED);   /* a hint */

	if ((g & 1) && g != ep->woke_tx)
		wake(ep, ep->peer_tx, &ep->peer->tx_sleep, &ep->woke_tx, NULL, 0);
}

/* 1 if a message can be read (ep->rx_head > rx_next), 0 if not, -EPROTO. */
static int
rx_ready(struct beltline_ep *ep)
{
	uint64_t h;

	if (ep->rx_next < ep->rx_head)
		return 1;
	h = __atomic_load_n(&ep->peer->head, __ATOMIC_ACQUIRE);  /* pairs with its release */
	if (h == ep->rx_head)
		return 0;
	if (h < ep->rx_head || h - ep->rx_tail > ep->slots)
		return garbage(ep, "head %llu (it was %llu; %llu released)", h, ep->rx_head,
			       ep->rx_tail);
	ep->rx_head = h;
	return 1;
}

/* Offset in our DBuf of an absolute byte position: a mask for the usual power of
 * two sizes (a division cost a 64-byte message several of its cycles, four times). */
static inline uint64_t
dbuf_off(const struct beltline_ep *ep, uint64_t pos)
{
	return (ep->dbuf_bytes & (ep->dbuf_bytes - 1)) == 0 ? pos & (ep->dbuf_bytes - 1) :
							       pos % ep->dbuf_bytes;
}

/* The peer's released count, checked. */
static int
tx_refresh(struct beltline_ep *ep)
{
	uint64_t t = __atomic_load_n(&ep->peer->rx_tail, __ATOMIC_ACQUIRE);  /* its release */

	if (t == ep->tx_tail)
		return 0;
	if (t < ep->tx_tail || t > ep->tx_head)
		return garbage(ep, "rx_tail %llu (it was %llu; %llu committed)", t, ep->tx_tail,
			       ep->tx_head);
	ep->tx_tail = t;
	return 0;
}

/* Give the peer back what the caller is done with, [rx_tail, rx_done), up to the first
 * message we echoed that the peer has not released yet (its space is the peer's only
 * then: the peer may be reading it through our echo). Publishes rx_tail and wakes a
 * peer that waits for room when it moved. */
static void
rx_advance(struct beltline_ep *ep)
{
	uint64_t t = ep->rx_tail;

	if (ep->n_pins != 0 && tx_refresh(ep) < 0)
		return;                 /* garbage: the pair is broken (counted, logged) */
	while (t < ep->rx_done) {
		uint64_t *pin = &ep->rx_pin[t & ep->mask];
		if (*pin != 0) {
			if (ep->tx_tail < *pin)      /* our echo, seq *pin - 1, is not released */
				break;
			*pin = 0;
			ep->n_pins--;
		}
		t++;
	}
	if (t == ep->rx_tail)
		return;
	ep->rx_tail = t;
	__atomic_store_n(&ep->me->rx_tail, t, __ATOMIC_RELEASE);  /* the sender acquires */
	wake_room(ep);
}

/* Where a buffer of size bytes would go, were the peer to have released our first tail
 * messages: 1 with *start, 0 if no room. */
static inline int
room_from(const struct beltline_ep *ep, uint64_t tail, uint32_t size, uint64_t *start)
{
	uint64_t tail_pos, s, pos;

	if (ep->tx_alloc - tail >= ep->slots)
		return 0;
	tail_pos = tail == ep->tx_alloc ? ep->tx_pos :          /* all released */
		tail == 0 ? 0 : ep->tx_end[(tail - 1) & ep->mask];
	pos = dbuf_off(ep, ep->tx_pos);
	s = ep->dbuf_bytes - pos < size ? ep->tx_pos + (ep->dbuf_bytes - pos) : ep->tx_pos;
	if (s + size - tail_pos > ep->dbuf_bytes)
		return 0;
	*start = s;
	return 1;
}

/* Where a buffer of size bytes would go: 1 with *start, 0 if no room, -EPROTO. */
static int
tx_room(struct beltline_ep *ep, uint32_t size, uint64_t *start)
{
	int rc;

	if (room_from(ep, ep->tx_tail, size, start))
		return 1;
	if ((rc = tx_refresh(ep)) < 0)
		return rc;
	return room_from(ep, ep->tx_tail, size, start);
}

/* No room for size bytes even once the peer released all we committed: the rest is in
 * buffers the caller got and did not commit, and no wait can end. Said, -EDEADLK. */
static int
tx_stuck(const struct beltline_ep *ep, uint32_t size)
{
	blc_log(BELTLINE_LOG_ERROR, "%s: no room for %u bytes, even with every message sent "
		"released: %llu buffers are got and not committed; commit them first", ep->name,
		size, (unsigned long long)(ep->tx_alloc - ep->tx_head));
	return -EDEADLK;
}

enum { W_RX, W_TX };

/*
 * The odd value a sleep stores in its word w: one this side never stored before. Even
 * (disarmed), the next; odd (a call that returned -EAGAIN left it armed for its caller's
 * poll), the one after the next: the peer may have woken that value already, and it
 * wakes a value once (wake), so storing it again would sleep unheard.
 */
static inline uint64_t
arm_value(uint64_t w)
{
	return w + 1 + (w & 1);
}

/* Our sleep word, as we stored it. relaxed: only this side stores it (the peer loads). */
static inline uint64_t
word_get(const uint64_t *word)
{
	return __atomic_load_n(word, __ATOMIC_RELAXED);
}

/* A wait that found what it waits for: the peer need not wake it (disarmed, even).
 * relaxed: a peer that still sees it odd sends a byte we read as stale before we
 * next check (the sleep loop's drain); it orders nothing. */
static inline void
disarm(uint64_t *word)
{
	uint64_t w = word_get(word);

	if (w & 1)
		__atomic_store_n(word, w + 1, __ATOMIC_RELAXED);
}

/* Check for what we wait: 1 ready, 0 not, <0 error. */
static int
ready(struct beltline_ep *ep, int what, uint32_t size, uint64_t *start)
{
	if (ep->broken)
		return ep->broken;
	if (ep->n_pins != 0)
		rx_advance(ep);         /* an echo released: the peer may write again */
	return what == W_RX ? rx_ready(ep) : tx_room(ep, size, start);
}

/* A sleep of ep_wait is over: its words (g, and g2 when two == 1) even again.
 * relaxed: as in disarm. */
static inline void
sleep_over(struct beltline_ep *ep, uint64_t *word, uint64_t g, int two, uint64_t g2)
{
	__atomic_store_n(word, g + 1, __ATOMIC_RELAXED);
	if (two == 1)
		__atomic_store_n(&ep->me->tx_sleep, g2 + 1, __ATOMIC_RELAXED);
}

/* Where a blocking wait for room asks the peer to wake it (our tx_wake_at): once the
 * peer released half of what it holds of ours, so that a writer that keeps the ring
 * full sleeps once a batch, not once a message (each sleep costs both sides system
 * calls: at 64 KiB a message, the writer slept and was woken for nearly every one).
 * 0 (at any release) for a peer that does not honour it, a call that may not block
 * (its caller polls beltline_ep_fd()), or nothing of ours held. */
static uint64_t
room_wake_at(const struct beltline_ep *ep, int timeout_ms)
{
	if (!ep->peer_wake_at || timeout_ms == 0 || ep->tx_head == ep->tx_tail)
		return 0;
	return ep->tx_tail + (ep->tx_head - ep->tx_tail + 1) / 2;
}

/* A wait for room that asked for a batch (at): 1 if the peer released that far, or if
 * it waits for a message itself (it releases no more until we send: take the room there
 * is), 0 if not, -EPROTO. */
static int
room_batch(struct beltline_ep *ep, uint64_t at)
{
	int rc = tx_refresh(ep);

	if (rc < 0)
		return rc;
	/* relaxed: a hint; the sleeper's fence (ep_wait) orders it after our sleep word */
	return ep->tx_tail >= at || (__atomic_load_n(&ep->peer->rx_sleep, __ATOMIC_RELAXED) & 1);
}

/* Wait for a message (W_RX) or room for size bytes (W_TX): spin for spin_us, then
 * sleep on the socket. 1 ready, 0 the peer is gone, -ETIMEDOUT, -EAGAIN (timeout 0),
 * -EPROTO, -EDEADLK (W_TX: only the caller's own buffers could make the room), -ENOBUFS
 * (W_RX: the caller holds every slot, read and not released). A reader that finds nothing wakes a peer waiting for room whatever it asked
 * (wake_room_dry); a writer's first sleep asks for a batch (room_wake_at) and lasts
 * 1 ms at most, so a reader that holds what it read and does something else for a
 * while costs it that much at most. */
static int
ep_wait(struct beltline_ep *ep, int what, uint32_t size, uint64_t *start, int timeout_ms)
{
	uint64_t *word = what == W_RX ? &ep->me->rx_sleep : &ep->me->tx_sleep;
	int chan = what == W_RX ? ep->sock : ep->txsock;
	uint64_t t0 = 0, deadline = UINT64_MAX, spin_end, live_check;
	int rc = ready(ep, what, size, start);

	if (rc != 0) {
		disarm(word);       /* armed by an earlier call that said -EAGAIN */
		return rc;
	}
	if (what == W_TX && !room_from(ep, ep->tx_head, size, start))
		return tx_stuck(ep, size);
	if (what == W_RX && ep->rx_next - ep->rx_done >= ep->slots) {
		/* We hold every slot of the peer's ring, read and not released: it cannot send
		 * another message until we release one, so no wait can end (as tcp:// says). */
		blc_log(BELTLINE_LOG_ERROR, "%s: every slot (%llu) holds a message read and not "
			"released: release one before waiting for another", ep->name,
			(unsigned long long)ep->slots);
		return -ENOBUFS;
	}
	if (what == W_RX)
		wake_room_dry(ep);
	if (timeout_ms != 0) {
		t0 = bl_mono_ns();
		if (timeout_ms > 0)
			deadline = t0 + (uint64_t)timeout_ms * 1000000u;
		spin_end = ep->spin_us < 0 ? t0 : ep->spin_us == INT_MAX ? UINT64_MAX :
			t0 + (uint64_t)ep->spin_us * 1000u;
		live_check = t0 + 1000000u;
		for (unsigned i = 1;; i++) {
			rc = ready(ep, what, size, start);
			if (rc != 0) {
				disarm(word);   /* as above */
				return rc;
			}
			cpu_relax();
			if ((i & 63) == 0) {
				uint64_t t = bl_mono_ns();
				if (t >= spin_end || t >= deadline)
					break;
				if (what == W_RX)
					wake_room_dry(ep);  /* a writer that went to sleep since */
				if (t >= live_check) {     /* a long spin still sees the peer die */
					drain(ep, chan);
					if (ep->peer_gone)
						break;
					live_check = t + 1000000u;
				}
			}
		}
	}
	for (int round = 0;; round++) {
		/* Waiting for a message with echoes out: the peer releasing one (its room
		 * channel, our tx_sleep word) wakes us too, so we give its space back. */
		int two = what == W_RX && ep->n_pins != 0;
		struct pollfd p[2] = { { .fd = chan, .events = POLLIN },
				       { .fd = ep->txsock, .events = POLLIN } };
		uint64_t at = what == W_TX && round == 0 ? room_wake_at(ep, timeout_ms) : 0;
		uint64_t g, g2 = 0, t;
		int ms;

		/* Wakeups already there are stale: read them before the check, never after
		 * it (one sent between the check and a later read would be lost). */
		drain(ep, chan);
		/* Our tx_wake_at before the tx_sleep value it goes with: release on the word,
		 * the peer's wake() acquires it. Relaxed for rx_sleep (nothing goes with it).
		 * The seq_cst fence below orders the stores before the check. */
		g = arm_value(word_get(word));
		if (what == W_TX || two)
			__atomic_store_n(&ep->me->tx_wake_at, at, __ATOMIC_RELAXED);
		__atomic_store_n(word, g, __ATOMIC_RELEASE);   /* odd, new: we sleep */
		if (two) {
			uint64_t w2 = word_get(&ep->me->tx_sleep);

			drain(ep, ep->txsock);
			if (w2 & 1)
				two = 2;        /* armed already (a getwritebuf that said -EAGAIN):
				                 * it stays so, the caller may poll for room */
			g2 = arm_value(w2);     /* a new value even so: the old may be woken */
			__atomic_store_n(&ep->me->tx_sleep, g2, __ATOMIC_RELEASE);
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);        /* pairs with wake()'s */
		if (ep->mb_sleep && !ep->mb_lost && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) {
			ep->mb_lost = 1;
			blc_log(BELTLINE_LOG_WARN, "%s: membarrier failed (%s): sleeping at most "
				"1 ms at a time", ep->name, strerror(errno));
		}
		if (what == W_RX)
			wake_room_dry(ep);      /* a Dekker pair with room_batch's rx_sleep load */
		rc = ready(ep, what, size, start);              /* also what it committed before it went */
		if (rc == 1 && at != 0)
			rc = room_batch(ep, at);        /* room, but not yet the batch asked for */
		if (rc != 0 || ep->peer_gone) {
			sleep_over(ep, word, g, two, g2);
			return rc;
		}
		if (timeout_ms == 0) {
			/* Stay armed: the caller polls beltline_ep_fd(). The other direction's
			 * channel, when its word is not armed, can only hold a stale wakeup: one
			 * for a call that found its room or message at once and did not read it.
			 * Read it now, or the fd stays readable for ever and a caller polling it
			 * for this direction spins. */
			uint64_t *ow = what == W_RX ? &ep->me->tx_sleep : &ep->me->rx_sleep;

			if (!two && !(word_get(ow) & 1))
				drain(ep, what == W_RX ? ep->txsock : ep->sock);
			return -EAGAIN;
		}
		t = bl_mono_ns();
		if (t >= deadline) {
			sleep_over(ep, word, g, two, g2);
			return -ETIMEDOUT;
		}
		ms = deadline == UINT64_MAX ? -1 : (int)((deadline - t + 999999u) / 1000000u);
		if ((ep->mb_lost || at != 0) && (ms < 0 || ms > 1))
			ms = 1;
		ep->st.sleeps++;
		(void)poll(p, two != 0 ? 2 : 1, ms);
		sleep_over(ep, word, g, two, g2);      /* the next round arms new values */
	}
}

/* Whether the peer is still there, looked at once a tick of the coarse clock (4 ms or
 * less; a read of it costs a tenth of a 64-byte message, a poll some microseconds). A
 * sender that finds room never waits, so it never drained a channel and never learned
 * that the peer had closed or died: its getwritebuf and commit said 0 for a ring's worth
 * of messages (slots, or dbuf_bytes) into a peer that had left seconds before, lost with
 * no word (a slow sender went on for minutes). poll, not recv: sock's wakeup bytes are
 * the caller's, who may poll beltline_ep_fd() for a message; the socket says POLLHUP once
 * the peer's end is closed (closed or killed), whatever is queued. */
static void
live_look(struct beltline_ep *ep)
{
	uint64_t tick = bl_mono_coarse_ns();
	struct pollfd p = { .fd = ep->sock, .events = 0 };

	if (tick == ep->live_tick)
		return;
	ep->live_tick = tick;
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		ep->peer_gone = 1;
}

/* Wait for a slot and size bytes to send into (0: a slot only): 0 with *start, or
 * -EPIPE (the peer is gone), -EAGAIN or -ETIMEDOUT (counted in full), -EPROTO. */
static int
tx_wait(struct beltline_ep *ep, uint32_t size, uint64_t *start, int timeout_ms)
{
	int rc;

	live_look(ep);
	if (ep->peer_gone && !ep->broken)
		return -EPIPE;
	rc = ep_wait(ep, W_TX, size, start, timeout_ms);
	if (rc == 0 || (rc == -EAGAIN && ep->peer_gone))
		return -EPIPE;
	if (rc == -EAGAIN || rc == -ETIMEDOUT)
		ep->st.full++;
	return rc < 0 ? rc : 0;
}

int
beltline_ep_getwritebuf(struct beltline_ep *ep, uint32_t size, void **buf, int timeout_ms)
{
	uint64_t start = 0;
	uint32_t asz;
	int rc;

	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	BLC_REFUSE_IF(buf == NULL, "buf is NULL");
	BLC_REFUSE_IF(size == 0, "size is 0");
	*buf = NULL;
	if (ep->net != NULL)
		return blc_epn_getwritebuf(ep, size, buf, timeout_ms);
	if (size > ep->max_msg) {
		blc_log(BELTLINE_LOG_ERROR, "%s: a buffer of %u bytes: the endpoint's max_msg is %u",
			ep->name, size, ep->max_msg);
		return -EMSGSIZE;
	}
	asz = (size + BL_EP_ALIGN - 1) & ~(BL_EP_ALIGN - 1);
	if ((rc = tx_wait(ep, asz, &start, timeout_ms)) < 0)
		return rc;
	ep->tx_end[ep->tx_alloc & ep->mask] = start + asz;
	ep->tx_size[ep->tx_alloc & ep->mask] = size;
	ep->tx_alloc++;
	ep->tx_pos = start + asz;
	*buf = ep->my_dbuf + dbuf_off(ep, start);
	return 0;
}

int
beltline_ep_commit(struct beltline_ep *ep, void *buf, uint32_t len)
{
	struct bl_ep_slot *s;
	uint64_t start;
	uint32_t i;

	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	BLC_REFUSE_IF(ep->tx_head == ep->tx_alloc, "no buffer got and not committed (getwritebuf first)");
	if (ep->net != NULL)
		return blc_epn_commit(ep, buf, len);
	i = (uint32_t)(ep->tx_head & ep->mask);
	start = ep->tx_end[i] - ((ep->tx_size[i] + BL_EP_ALIGN - 1) & ~(uint64_t)(BL_EP_ALIGN - 1));
	if (buf != ep->my_dbuf + dbuf_off(ep, start) || len > ep->tx_size[i]) {
		blc_log(BELTLINE_LOG_ERROR, "%s: commit of a buffer that is not the oldest one got, "
			"or of more bytes than it holds", ep->name);
		return -EINVAL;
	}
	if (ep->broken)
		return ep->broken;
	s = &ep->my_slots[i];
	s->seq = ep->tx_head;
	s->off = (uint32_t)(dbuf_off(ep, start));
	s->len = len;
	ep->tx_head++;
	__atomic_store_n(&ep->me->head, ep->tx_head, __ATOMIC_RELEASE);  /* the slot, then head */
	ep->st.sent++;
	ep->st.bytes_sent += len;
	wake_msg(ep);
	return ep->peer_gone ? -EPIPE : 0;
}

/* The next message is published already (the head we saw last says so): start its
 * first lines on their way to our caches while the caller works on this one. A message
 * is written on the other core, so each line of it is a transfer. Only the first lines:
 * the core's own prefetcher follows the caller's sequential read once it has begun, and
 * a prefetch of every line of a large message filled the core's queue of misses ahead
 * of the caller's own loads (bench/ipc, 64 KiB, CPUs near: 19.4 to 20.3 GB/s with all
 * of it prefetched, 24 to 25 with the first 1 to 4 KiB or none, in the same minutes). */
#define EP_PREFETCH_BYTES 2048u

static void
prefetch_next(const struct beltline_ep *ep)
{
	const struct bl_ep_slot *n = &ep->peer_slots[ep->rx_next & ep->mask];
	uint32_t off = __atomic_load_n(&n->off, __ATOMIC_RELAXED);   /* a hint: checked on use */
	uint32_t len = __atomic_load_n(&n->len, __ATOMIC_RELAXED);

	if (off >= ep->dbuf_bytes || len > ep->dbuf_bytes - off || len > ep->max_msg)
		return;         /* also an echo (BL_EP_OFF_YOURS): our own memory, warm */
	if (len > EP_PREFETCH_BYTES)
		len = EP_PREFETCH_BYTES;
	for (uint32_t o = 0; o < len; o += 64)
		__builtin_prefetch(ep->peer_dbuf + off + o, 0, 2);
}

int
beltline_ep_getreadbuf(struct beltline_ep *ep, const void **buf, uint32_t *len, int timeout_ms)
{
	struct bl_ep_slot s;
	int rc;

	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	BLC_REFUSE_IF(buf == NULL, "buf is NULL");
	BLC_REFUSE_IF(len == NULL, "len is NULL");
	*buf = NULL;
	*len = 0;
	if (ep->net != NULL)
		return blc_epn_getreadbuf(ep, buf, len, timeout_ms);
	rc = ep_wait(ep, W_RX, 0, NULL, timeout_ms);
	if (rc <= 0)
		return rc;
	/* One read of each field: the peer may change the slot under us. */
	s.seq = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].seq, __ATOMIC_RELAXED);
	s.off = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].off, __ATOMIC_RELAXED);
	s.len = __atomic_load_n(&ep->peer_slots[ep->rx_next & ep->mask].len, __ATOMIC_RELAXED);
	if (s.seq != ep->rx_next)
		return garbage(ep, "slot of message %llu says seq %llu%.0llu", ep->rx_next, s.seq, 0);
	/* An echo: a message of ours the peer read and sends back uncopied; it lies in our
	 * own DBuf, whose space stays held until we release this. Same bounds. */
	uint32_t off = s.off & ~BL_EP_OFF_YOURS;
	if (off >= ep->dbuf_bytes || s.len > ep->dbuf_bytes - off || s.len > ep->max_msg)
		return garbage(ep, "message at offset %llu of %llu bytes (DBuf %llu bytes)", s.off,
			       s.len, ep->dbuf_bytes);
	ep->rx_off[ep->rx_next & ep->mask] = s.off;
	ep->rx_len[ep->rx_next & ep->mask] = s.len;
	ep->rx_next++;
	ep->st.received++;
	ep->st.bytes_received += s.len;
	*buf = (s.off & BL_EP_OFF_YOURS ? ep->my_dbuf : ep->peer_dbuf) + off;
	*len = s.len;
	if (ep->rx_next < ep->rx_head)
		prefetch_next(ep);
	return 1;
}

/* Where message seq (read, not released) lies. */
static const uint8_t *
rx_ptr(const struct beltline_ep *ep, uint64_t seq)
{
	uint32_t off = ep->rx_off[seq & ep->mask];

	return (off & BL_EP_OFF_YOURS ? ep->my_dbuf : ep->peer_dbuf) + (off & ~BL_EP_OFF_YOURS);
}

int
beltline_ep_release(struct beltline_ep *ep, const void *buf)
{
	BLC_REFUSE_IF(ep == NULL, "ep is NULL");
	if (ep->net != NULL)
		return blc_epn_release(ep, buf);
	BLC_REFUSE_IF(ep->rx_done == ep->rx_next, "no message read and not released (getreadbuf first)");
	if (buf != NULL && buf != rx_ptr(ep, ep->rx_done)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: release of a buffer that is not the oldest one read",
			ep->name);
		return -EINVAL;
	}
	ep->rx_done++;
	rx_advance(ep);
	return 0;
}

/*
 * Forward the oldest message read from ep back to the peer it came from without
 * copying it: the slot points into the peer's own DBuf (BL_EP_OFF_YOURS), which the
 * peer maps, and we keep the message's space from the peer (rx_tail stops at it)
 * until the peer released our echo. 1 done, 0 not possible here (the caller copies),
 * or -errno.
 */
static int
ep_echo(struct beltline_ep *ep, const void *buf, uint32_t len, int timeout_ms)
{
	uint64_t k = ep->rx_done, start, m;
	struct bl_ep_slot *s;
	uint32_t i, off;
	int rc;

	if (!ep->peer_echo || k == ep->rx_next || ep->tx_head != ep->tx_alloc)
		return 0;
	off = ep->rx_off[k & ep->mask];
	if (off & BL_EP_OFF_YOURS)              /* an echo of ours: in our DBuf, not the peer's */
		return 0;
	if (buf != ep->peer_dbuf + off || len > ep->rx_len[k & ep->mask])
		return -EINVAL;
	if ((rc = tx_wait(ep, 0, &start, timeout_ms)) < 0)   /* a slot; no byte of our DBuf */
		return rc;
	i = (uint32_t)(ep->tx_alloc & ep->mask);
	ep->tx_end[i] = ep->tx_pos;             /* holds no space of ours */
	ep->tx_size[i] = 0;
	ep->tx_alloc++;
	m = ep->tx_head;
	s = &ep->my_slots[i];
	s->seq = m;
	s->off = off | BL_EP_OFF_YOURS;
	s->len = len;
	ep->tx_head++;
	__atomic_store_n(&ep->me->head, ep->tx_head, __ATOMIC_RELEASE);  /* the slot, then head */
	ep->st.sent++;
	ep->st.bytes_sent += len;
	ep->st.forwarded_zero_copy++;
	ep->rx_pin[k & ep->mask] = m + 1;
	ep->n_pins++;
	ep->rx_done++;
	rx_advance(ep);                         /* what came before it, if it waited on nothing */
	wake_msg(ep);
	return ep->peer_gone ? -EPIPE : 1;
}

int
beltline_ep_forward(struct beltline_ep *dst, struct beltline_ep *src, const void *buf,
		    uint32_t len, int timeout_ms)
{
	void *w;
	int rc;

	BLC_REFUSE_IF(dst == NULL, "dst is NULL");
	BLC_REFUSE_IF(src == NULL, "src is NULL");
	/* Checked before anything is done (src and dst untouched on -EINVAL). */
	if (src->net != NULL ? !blc_epn_is_oldest(src, buf, len) :
	    (src->rx_done == src->rx_next || buf != rx_ptr(src, src->rx_done) ||
	     len > src->rx_len[src->rx_done & src->mask])) {
		blc_log(BELTLINE_LOG_ERROR, "%s: forward of a buffer that is not the oldest one read, "
			"or of more bytes than it holds", src->name);
		return -EINVAL;
	}
	if (dst->tx_head != dst->tx_alloc) {   /* commit takes the oldest got: that one first */
		blc_log(BELTLINE_LOG_ERROR, "%s: forward into an endpoint with a buffer got and not "
			"committed: commit it first", dst->name);
		return -EINVAL;
	}
	if (dst == src && dst->net == NULL && (rc = ep_echo(dst, buf, len, timeout_ms)) != 0)
		return rc < 0 ? rc : 0;
	rc = beltline_ep_getwritebuf(dst, len != 0 ? len : 1, &w, timeout_ms);
	if (rc < 0)
		return rc;
	memcpy(w, buf, len);   /* the one copy: dst's peer cannot map where buf lies */
	rc = beltline_ep_commit(dst, w, len);
	if (rc < 0)
		return rc;
	dst->st.forwarded_copied++;
	return beltline_ep_release(src, buf);
}
