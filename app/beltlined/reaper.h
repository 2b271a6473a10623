/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reaper — what a killed beltlined leaves behind, removed anyway. Before EAL
 * starts, beltlined forks a small child that holds nothing but the read end of
 * a pipe. beltlined tells it the paths it creates (EAL's runtime folder, before
 * EAL makes it; the control socket and its folder); when the pipe closes, for
 * any reason (a clean exit, a crash, SIGKILL), the child removes those that are
 * left and that no live process answers on, then exits. A clean exit has
 * removed them already, but for EAL's runtime files when secondary processes
 * may attach (memory.multiprocess): EAL leaves those (its folder's config,
 * fbarray and hugepage_info files, and PREFIXmap_N in every hugetlbfs mount)
 * after any exit, and the reaper removes them all, unless a live EAL primary
 * of the same prefix (a new instance of the name) holds the folder's config lock.
 */
#ifndef BL_REAPER_H
#define BL_REAPER_H

/* Fork the reaper. 0 or -errno (then beltlined runs without one, and says so). */
int bl_reaper_start(void);

/* Kinds of path the reaper removes. */
enum bl_reaper_kind {
	BL_REAPER_SOCKET = 'S',   /* a unix socket: unlinked unless someone accepts on it */
	BL_REAPER_DIR    = 'D',   /* a folder: rmdir (only if empty) */
	BL_REAPER_EAL    = 'E',   /* EAL's runtime folder: its files and dead sockets, then it */
	BL_REAPER_HUGE   = 'H',   /* an EAL file prefix: PREFIXmap_N in every hugetlbfs mount */
};

/* Tell the reaper about a path. Silent if it is not running. */
void bl_reaper_note(enum bl_reaper_kind kind, const char *path);

#endif /* BL_REAPER_H */
