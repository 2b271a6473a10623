/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reaper — what a killed beltlined leaves behind, removed anyway. Before EAL
 * starts, beltlined forks a small child that holds nothing but the read end of
 * a pipe. beltlined tells it the paths it creates (EAL's runtime folder, which
 * it makes and locks before EAL starts; the control socket and its folder; EAL's
 * hugepage file prefix); when the pipe closes, for
 * any reason (a clean exit, a crash, SIGKILL), the child removes those that are
 * left and that no live process answers on, then exits. A clean exit has
 * removed them already, but for EAL's runtime files when secondary processes
 * may attach (memory.multiprocess): EAL leaves those (its folder's config,
 * fbarray and hugepage_info files, and PREFIXmap_N in every hugetlbfs mount)
 * after any exit, and the reaper removes them all, unless a live EAL primary
 * of the same prefix holds the folder's config lock.
 *
 * EAL's runtime folder DIR (RUNTIME_DIRECTORY, else /var/run for root, else
 * XDG_RUNTIME_DIR or /tmp; then /dpdk/bl_INSTANCE) may sit in a folder anyone
 * can write (/tmp/dpdk). Its lock says whose the paths of the instance name
 * are: a live instance's, or a reaper's to remove. It is flock(LOCK_EX) on the
 * file DIR/beltline.lock, not on DIR: EAL flocks DIR itself, briefly, when it
 * starts and when it talks to secondary processes.
 *  L1 Both sides take it the same way (lock_eal_dir): make DIR's parent and DIR
 *     as EAL does (0700; there already is fine), open DIR O_DIRECTORY|O_NOFOLLOW,
 *     refuse it unless it is a folder of this user, open (or make) the lock file
 *     in it, flock it, and check DIR still names that folder and the file is
 *     still in it (else they were removed meanwhile: again).
 *  L2 beltlined takes it after forking the reaper (which must not inherit it)
 *     and before rte_eal_init, waiting at most BL_REAPER_WAIT_MS (less with the
 *     test hooks' BELTLINED_TEST_REAPER_WAIT_S; and saying
 *     so), and holds it until it exits, when it removes the file, then DIR if
 *     empty (bl_reaper_hold_end). It does not start when DIR is not a
 *     folder of its own, or is still locked after the wait (an instance of the
 *     name runs).
 *  L3 The reaper takes it before removing anything, waiting as long as it takes
 *     (a new instance of the name holds it while it runs; meanwhile the reaper
 *     holds nobody's stderr). While it holds it, no instance of the name is past
 *     L2: every path noted is a dead instance's. Still, an EAL primary holding
 *     DIR's config lock (one beltlined did not start) keeps everything, and a
 *     socket someone answers on stays.
 *  L4 In DIR the reaper removes, relative to the folder it locked (unlinkat),
 *     only the names EAL 22.11 makes there: config, hugepage_info, fbarray_*,
 *     mp_socket*, dpdk_telemetry.*; then the lock file, and DIR if empty. A DIR that is not a
 *     folder of this user it leaves, with the hugepage files, saying why on
 *     beltlined's stderr (or the journal).
 */
#ifndef BL_REAPER_H
#define BL_REAPER_H

#include <stdbool.h>

/* Fork the reaper. 0 or -errno (then beltlined runs without one, and says so). */
int bl_reaper_start(void);

/* Kinds of path the reaper removes. */
enum bl_reaper_kind {
	BL_REAPER_SOCKET = 'S',   /* a unix socket: unlinked unless someone accepts on it */
	BL_REAPER_DIR    = 'D',   /* a folder: rmdir (only if empty) */
	BL_REAPER_EAL    = 'E',   /* EAL's runtime folder: EAL's files and dead sockets, then it */
	BL_REAPER_HUGE   = 'H',   /* an EAL file prefix: PREFIXmap_N in every hugetlbfs mount */
	BL_REAPER_FORGET = 'F',   /* a path noted before: not ours after all (a start that
	                           * found another instance holding the lock: its reaper
	                           * would wait for that lock, signals ignored, while it ran) */
};

/* Tell the reaper about a path. Silent if it is not running. */
void bl_reaper_note(enum bl_reaper_kind kind, const char *path);

/* The lock file in DIR (L1). */
#define BL_REAPER_LOCK "beltline.lock"

/* How long a start waits for DIR's lock (L2). */
#define BL_REAPER_WAIT_MS 10000
/* ... and while an instance of the name answers on its control socket (one on its way
 * out still does, for a moment), before the start is refused as a second one. */
#define BL_REAPER_RUNS_WAIT_MS 1000

/* L2: take EAL's runtime folder dir's lock for the rest of this process's life
 * (after bl_reaper_start, before rte_eal_init), waiting at most wait_ms for it
 * (BL_REAPER_WAIT_MS; whole seconds: the log says them). runs (may be NULL): does an
 * instance of the name answer now; while it does, the lock is waited for
 * BL_REAPER_RUNS_WAIT_MS only, then -EBUSY, said by the caller. Else 0, or -errno having
 * said why: -ELOOP a link, -ENOTDIR not a folder, -EPERM another user's, -EWOULDBLOCK
 * still locked after wait_ms. */
int bl_reaper_hold(const char *dir, unsigned int wait_ms, bool (*runs)(void *ctx), void *ctx);

/* At exit, once EAL is done: remove DIR's lock file, and DIR if that empties it,
 * still holding the lock (L2). */
void bl_reaper_hold_end(void);

#endif /* BL_REAPER_H */
