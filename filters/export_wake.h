/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_wake — wake moderation for a stream's sleeping readers (Streamline's
 * signal moderation): a reader that found its stream empty writes the entry it
 * waits for into its page (rpage.wait = seq + 1, untrusted) and sleeps on an
 * eventfd the appliance gave it at attach. The appliance signals that eventfd
 * once `wake_count` entries wait for it, or `wake_us` after the first did.
 *
 *   main lcore, every wake tick (bl_export_wake_tick): notices a new wait, arms
 *     the reader (at = the head that fills wake_count), fires the timeout;
 *   worker, after each burst it wrote (bl_export_wake_burst): one relaxed load
 *     while nobody is armed; otherwise signals the armed readers whose count is
 *     reached, so a busy stream wakes its sleepers without waiting for a tick.
 *
 * The appliance pays only for readers that sleep: nothing for busy-polling ones
 * (they never set wait, see beltline_fd), one eventfd write per sleep for the
 * others. A reader that lies in wait can cost itself wakeups, nobody else.
 *
 * Ordering: exactly one side signals an episode: whoever clears the reader's
 * bit in `armed` (acq_rel RMW) writes the eventfd. Detach closes the eventfd
 * only once the worker cannot be using it: it clears the bit and then waits
 * while `busy` is set (Dekker: both sides seq_cst; see export_wake.c).
 */
#ifndef BL_EXPORT_WAKE_H
#define BL_EXPORT_WAKE_H

#include <stdint.h>

#include "bl_shm_abi.h"

struct bl_export;

struct bl_export_wake {
	uint64_t armed;                          /* bit i: reader i sleeps, may be signalled */
	uint32_t busy;                           /* the worker is in its signalling path */
	uint32_t wake_count;                     /* config, read-only after init */
	uint64_t wake_ns;
	uint64_t signals;                        /* eventfd writes (worker and main), relaxed */
	uint64_t at[BL_IBUF_MAX_READERS];        /* head at which reader i is woken */
	int fd[BL_IBUF_MAX_READERS];             /* its eventfd, -1 if none (main lcore owns) */
	/* main lcore only */
	uint64_t seen[BL_IBUF_MAX_READERS];      /* the wait value this episode began with */
	uint64_t since[BL_IBUF_MAX_READERS];     /* ns an entry was first pending; 0: none yet */
	uint8_t done[BL_IBUF_MAX_READERS];       /* this episode was signalled */
};

/* Init: no reader, moderation as configured. */
void bl_export_wake_init(struct bl_export_wake *w, uint32_t wake_count, uint32_t wake_us);

/* Main lcore, attach: a new eventfd for reader idx (the caller passes it on; the
 * export keeps and closes its own). fd or -errno. */
int bl_export_wake_attach(struct bl_export *x, unsigned int idx);

/* Main lcore, detach (or fini): disarm reader idx, wait out the worker, close. */
void bl_export_wake_detach(struct bl_export *x, unsigned int idx);

/* Main lcore, every tick: arm new sleepers, fire timeouts. now_ns: CLOCK_MONOTONIC.
 * Returns 1 while a reader of any stream sleeps (tick faster), else 0. */
int bl_export_wake_tick(uint64_t now_ns);

/* Worker: the slow path of bl_export_wake_burst. */
void bl_export__wake_signal(struct bl_export_wake *w, uint64_t head);

/* Worker, after writing a burst (head: the ring's next seq). */
static inline void
bl_export_wake_burst(struct bl_export_wake *w, uint64_t head)
{
	/* relaxed: a hint; the slow path re-reads it in order (see export_wake.c). */
	if (__builtin_expect(__atomic_load_n(&w->armed, __ATOMIC_RELAXED) != 0, 0))
		bl_export__wake_signal(w, head);
}

#endif /* BL_EXPORT_WAKE_H */
