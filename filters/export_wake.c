/* SPDX-License-Identifier: BSD-3-Clause */
/* export_wake — wake moderation for sleeping readers (see export_wake.h). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_pause.h>

#include "bl_export.h"
#include "bl_ibuf.h"

void
bl_export_wake_init(struct bl_export_wake *w, uint32_t wake_count, uint32_t wake_us)
{
	memset(w, 0, sizeof(*w));
	w->wake_count = wake_count;
	w->wake_ns = (uint64_t)wake_us * 1000u;
	for (unsigned int i = 0; i < BL_IBUF_MAX_READERS; i++)
		w->fd[i] = -1;
}

/* The head at which a reader waiting with `wait` (1 + the seq it wants) is woken. */
static inline uint64_t
threshold(const struct bl_export_wake *w, uint64_t wait)
{
	uint64_t from = wait - 1;

	return from > UINT64_MAX - w->wake_count ? UINT64_MAX : from + w->wake_count;
}

static void
signal_fd(struct bl_export_wake *w, unsigned int i)
{
	if (eventfd_write(w->fd[i], 1) == 0)
		__atomic_fetch_add(&w->signals, 1, __ATOMIC_RELAXED);   /* relaxed: a counter */
}

void
bl_export__wake_check(struct bl_export_wake *w, const struct bl_ibuf *ib, uint64_t head)
{
	/* relaxed: a first look; an eventfd is used only after the Dekker below. */
	uint64_t cap = __atomic_load_n(&w->capable, __ATOMIC_RELAXED), due = 0;

	/* No fence on the usual burst (nobody to wake): a seq_cst store here drained the
	 * worker's store buffer, line transfers to readers included, after every burst. */
	for (uint64_t c = cap; c != 0; c &= c - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(c);
		/* relaxed: the reader's (untrusted) word; any value only decides when
		 * its own eventfd is written. */
		uint64_t wait = __atomic_load_n(&ib->rpage[i]->wait, __ATOMIC_RELAXED);

		if (__builtin_expect(wait != 0, 0) && wait != w->fired[i] && head >= threshold(w, wait))
			due |= 1ull << i;
	}
	if (__builtin_expect(due == 0, 1))
		return;
	/* seq_cst, both: Dekker with bl_export_wake_detach, which clears a bit and then
	 * reads busy. Either it sees busy set and waits, or we see its bit cleared. */
	__atomic_store_n(&w->busy, 1, __ATOMIC_SEQ_CST);
	due &= __atomic_load_n(&w->capable, __ATOMIC_SEQ_CST);
	for (; due != 0; due &= due - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(due);
		uint64_t wait = __atomic_load_n(&ib->rpage[i]->wait, __ATOMIC_RELAXED);

		if (wait == 0 || wait == w->fired[i] || head < threshold(w, wait))
			continue;
		signal_fd(w, i);
		/* relaxed: read by the main lcore's tick to skip a signalled sleep. */
		__atomic_store_n(&w->fired[i], wait, __ATOMIC_RELAXED);
	}
	/* release: pairs with the seq_cst load of busy in detach: our eventfd use is done. */
	__atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
}

int
bl_export_wake_attach(struct bl_export *x, unsigned int idx)
{
	struct bl_export_wake *w = &x->wake;
	int fd;

	if (idx >= BL_IBUF_MAX_READERS)
		return -EINVAL;
	if (w->fd[idx] >= 0)
		bl_export_wake_detach(x, idx);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	w->fd[idx] = fd;
	/* relaxed: ordered before the bit by the release or below. */
	__atomic_store_n(&w->fired[idx], 0, __ATOMIC_RELAXED);
	w->mfired[idx] = 0;
	w->seen[idx] = 0;
	w->since[idx] = 0;
	/* release: pairs with the seq_cst load of capable in bl_export__wake_check. */
	__atomic_fetch_or(&w->capable, 1ull << idx, __ATOMIC_RELEASE);
	return fd;
}

void
bl_export_wake_detach(struct bl_export *x, unsigned int idx)
{
	struct bl_export_wake *w = &x->wake;

	if (idx >= BL_IBUF_MAX_READERS || w->fd[idx] < 0)
		return;
	/* seq_cst: see bl_export__wake_check. */
	__atomic_fetch_and(&w->capable, ~(1ull << idx), __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&w->busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	close(w->fd[idx]);
	w->fd[idx] = -1;
}

/* One reader of one stream: the timeout. Returns 1 if it still sleeps unsignalled. */
static int
tick_reader(struct bl_export *x, unsigned int i, uint64_t head, uint64_t now_ns)
{
	struct bl_export_wake *w = &x->wake;
	/* relaxed: the reader's untrusted word, as in bl_export__wake_check. */
	uint64_t wait = __atomic_load_n(&x->ib->rpage[i]->wait, __ATOMIC_RELAXED);

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
	if (head < wait)                               /* nothing waits for it yet */
		return 1;
	if (w->since[i] == 0)
		w->since[i] = now_ns;
	if (now_ns - w->since[i] >= w->wake_ns || head >= threshold(w, wait)) {
		signal_fd(w, i);
		w->mfired[i] = wait;
		return 0;
	}
	return 1;
}

int
bl_export_wake_tick(uint64_t now_ns)
{
	int sleeping = 0;

	for (unsigned int e = 0; e < BL_EXPORT_MAX; e++) {
		struct bl_export *x = bl_export_at(e);
		uint64_t cap, head;

		if (x == NULL)
			continue;
		/* relaxed: this thread is the only writer of capable. acquire: pairs with
		 * the release store of head in bl_ibuf__publish (the worker). */
		cap = __atomic_load_n(&x->wake.capable, __ATOMIC_RELAXED);
		head = __atomic_load_n(&x->ib->prod->head, __ATOMIC_ACQUIRE);
		while (cap != 0) {
			unsigned int i = (unsigned int)__builtin_ctzll(cap);
			sleeping |= tick_reader(x, i, head, now_ns);
			cap &= cap - 1;
		}
	}
	return sleeping;
}
