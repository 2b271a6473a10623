/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_wake — wake moderation for a stream's sleeping readers (Streamline's
 * signal moderation): a reader that found its stream empty writes the entry it
 * waits for into its page (rpage.wait = seq + 1, untrusted; a cache line of
 * its own, written only when it falls asleep or wakes) and sleeps on an
 * eventfd the appliance gave it at attach. The appliance signals that eventfd
 * once `wake_count` entries wait for it, or `wake_us` after the first did.
 *
 *   worker, after each burst it wrote (bl_export_wake_burst): for each reader
 *     with an eventfd, one load of its wait line (a hit while it does not
 *     change) and, when wake_count entries wait, one eventfd write per sleep;
 *   main lcore, every tick (bl_export_wake_tick): the wake_us timeout, for a
 *     stream that went quiet before the count was reached.
 *
 * A reader that busy-polls never sets wait and costs the producer those loads
 * only; a sleeper costs one eventfd write per sleep. A reader that lies in
 * wait can cost itself wakeups, nobody else.
 *
 * Ordering: detach closes an eventfd only once the worker cannot be using it:
 * it clears the reader's bit in `capable` and then waits while `busy` is set
 * (Dekker: both sides seq_cst; see export_wake.c). An episode signalled by
 * both sides at once (count and timeout together) costs one extra eventfd
 * write, which the reader drains with the first.
 */
#ifndef BL_EXPORT_WAKE_H
#define BL_EXPORT_WAKE_H

#include <stdint.h>

#include "bl_shm_abi.h"

struct bl_export;
struct bl_ibuf;

struct bl_export_wake {
	uint64_t capable;                        /* bit i: reader i has an eventfd (main writes) */
	uint32_t busy;                           /* the worker is looking at the eventfds */
	uint32_t wake_count;                     /* config, read-only after init */
	uint64_t wake_ns;
	uint64_t signals;                        /* eventfd writes (worker and main), relaxed */
	uint64_t fired[BL_IBUF_MAX_READERS];     /* worker: the wait it signalled (main reads) */
	int fd[BL_IBUF_MAX_READERS];             /* reader i's eventfd, -1 if none (main owns) */
	/* main lcore only */
	uint64_t mfired[BL_IBUF_MAX_READERS];    /* the wait the timeout signalled */
	uint64_t seen[BL_IBUF_MAX_READERS];      /* the wait the current sleep began with */
	uint64_t since[BL_IBUF_MAX_READERS];     /* ns an entry was first pending; 0: none yet */
};

/* Init: no reader, moderation as configured. */
void bl_export_wake_init(struct bl_export_wake *w, uint32_t wake_count, uint32_t wake_us);

/* Main lcore, attach: a new eventfd for reader idx (the caller passes it on; the
 * export keeps and closes its own). fd or -errno. */
int bl_export_wake_attach(struct bl_export *x, unsigned int idx);

/* Main lcore, detach (or fini): wait out the worker, close reader idx's eventfd. */
void bl_export_wake_detach(struct bl_export *x, unsigned int idx);

/* Main lcore, every tick: fire timeouts. now_ns: CLOCK_MONOTONIC. Returns 1 while
 * a reader of any stream sleeps unsignalled (tick faster), else 0. */
int bl_export_wake_tick(uint64_t now_ns);

/* Worker: the body of bl_export_wake_burst. */
void bl_export__wake_check(struct bl_export_wake *w, const struct bl_ibuf *ib, uint64_t head);

/* Worker, after writing a burst (head: the ring's next seq). */
static inline void
bl_export_wake_burst(struct bl_export_wake *w, const struct bl_ibuf *ib, uint64_t head)
{
	/* relaxed: a hint; bl_export__wake_check re-reads it in order. */
	if (__atomic_load_n(&w->capable, __ATOMIC_RELAXED) != 0)
		bl_export__wake_check(w, ib, head);
}

#endif /* BL_EXPORT_WAKE_H */
