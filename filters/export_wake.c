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

/* Whoever clears the bit signals: the worker or the main lcore, never both. */
static void
fire(struct bl_export_wake *w, unsigned int i)
{
	uint64_t bit = 1ull << i;

	/* acq_rel: pairs with the release or in arm (at[i], fd[i] seen) and with the
	 * other side's clear: one of them gets the bit. */
	if (__atomic_fetch_and(&w->armed, ~bit, __ATOMIC_ACQ_REL) & bit) {
		if (eventfd_write(w->fd[i], 1) == 0)
			__atomic_fetch_add(&w->signals, 1, __ATOMIC_RELAXED);
	}
}

void __rte_cold __rte_noinline
bl_export__wake_signal(struct bl_export_wake *w, uint64_t head)
{
	uint64_t armed;

	/* seq_cst, both: Dekker with bl_export_wake_detach, which clears a bit and then
	 * reads busy. Either it sees busy set and waits, or we see its bit cleared. */
	__atomic_store_n(&w->busy, 1, __ATOMIC_SEQ_CST);
	armed = __atomic_load_n(&w->armed, __ATOMIC_SEQ_CST);
	while (armed != 0) {
		unsigned int i = (unsigned int)__builtin_ctzll(armed);
		/* relaxed: at[i] was stored before the release or that set the bit. */
		if (head >= __atomic_load_n(&w->at[i], __ATOMIC_RELAXED))
			fire(w, i);
		armed &= armed - 1;
	}
	/* release: pairs with the acquire load of busy in detach: our eventfd use is done. */
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
	w->seen[idx] = 0;
	w->since[idx] = 0;
	w->done[idx] = 0;
	return fd;
}

void
bl_export_wake_detach(struct bl_export *x, unsigned int idx)
{
	struct bl_export_wake *w = &x->wake;

	if (idx >= BL_IBUF_MAX_READERS || w->fd[idx] < 0)
		return;
	/* seq_cst: see bl_export__wake_signal. */
	__atomic_fetch_and(&w->armed, ~(1ull << idx), __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&w->busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	close(w->fd[idx]);
	w->fd[idx] = -1;
	w->seen[idx] = 0;
}

/* One reader of one stream; returns 1 if it still sleeps unsignalled. */
static int
tick_reader(struct bl_export *x, unsigned int i, uint64_t head, uint64_t now_ns)
{
	struct bl_export_wake *w = &x->wake;
	const struct bl_ibuf_rpage *p = x->ib->rpage[i];
	uint64_t bit = 1ull << i;
	/* relaxed: written by the client (untrusted): any value only changes when
	 * this reader is woken. */
	uint64_t wait = __atomic_load_n(&p->wait, __ATOMIC_RELAXED);

	if (w->fd[i] < 0)
		return 0;
	if (wait == 0) {
		if (w->seen[i] != 0)
			__atomic_fetch_and(&w->armed, ~bit, __ATOMIC_RELAXED); /* relaxed: disarm only */
		w->seen[i] = 0;
		return 0;
	}
	if (wait != w->seen[i]) {                      /* a new sleep */
		uint64_t from = wait - 1;
		w->seen[i] = wait;
		w->since[i] = 0;
		w->done[i] = 0;
		/* relaxed: published by the release or below. */
		__atomic_store_n(&w->at[i], from > UINT64_MAX - w->wake_count ? UINT64_MAX :
				 from + w->wake_count, __ATOMIC_RELAXED);
		/* release: pairs with the seq_cst load in bl_export__wake_signal. */
		__atomic_fetch_or(&w->armed, bit, __ATOMIC_RELEASE);
	}
	if (w->done[i])
		return 0;
	/* acquire: pairs with fire()'s acq_rel clear on the worker. */
	if (!(__atomic_load_n(&w->armed, __ATOMIC_ACQUIRE) & bit)) {
		w->done[i] = 1;                         /* the worker signalled it */
		return 0;
	}
	if (head >= w->at[i]) {
		fire(w, i);
		w->done[i] = 1;
		return 0;
	}
	if (head >= wait) {                             /* something waits for it (seq wait-1) */
		if (w->since[i] == 0)
			w->since[i] = now_ns;
		if (now_ns - w->since[i] >= w->wake_ns) {
			fire(w, i);
			w->done[i] = 1;
			return 0;
		}
	}
	return 1;
}

int
bl_export_wake_tick(uint64_t now_ns)
{
	int sleeping = 0;

	for (unsigned int e = 0; e < BL_EXPORT_MAX; e++) {
		struct bl_export *x = bl_export_at(e);
		uint64_t active, head;

		if (x == NULL)
			continue;
		/* acquire: pairs with the release or/and of active (attach/detach, this thread)
		 * and the release store of head (bl_ibuf__publish, the worker). */
		active = __atomic_load_n(&x->ib->prod->active, __ATOMIC_ACQUIRE);
		head = __atomic_load_n(&x->ib->prod->head, __ATOMIC_ACQUIRE);
		while (active != 0) {
			unsigned int i = (unsigned int)__builtin_ctzll(active);
			sleeping |= tick_reader(x, i, head, now_ns);
			active &= active - 1;
		}
	}
	return sleeping;
}
