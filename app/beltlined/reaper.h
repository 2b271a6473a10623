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
 * of the same prefix holds the folder's config lock.
 *
 * EAL's runtime folder (RUNTIME_DIRECTORY, else /var/run for root, else
 * XDG_RUNTIME_DIR or /tmp; then /dpdk/bl_INSTANCE) may sit in a folder anyone
 * can write (/tmp/dpdk): the reaper uses it only when it is a folder of this
 * user, never a symbolic link, and removes in it (relative to the folder it
 * opened) only the names EAL 22.11 makes there: config, hugepage_info,
 * fbarray_*, mp_socket*, dpdk_telemetry.*. A folder it leaves, it says why on
 * beltlined's stderr (or the journal); a start refuses such a folder.
 */
#ifndef BL_REAPER_H
#define BL_REAPER_H

/* Fork the reaper. 0 or -errno (then beltlined runs without one, and says so). */
int bl_reaper_start(void);

/* Kinds of path the reaper removes. */
enum bl_reaper_kind {
	BL_REAPER_SOCKET = 'S',   /* a unix socket: unlinked unless someone accepts on it */
	BL_REAPER_DIR    = 'D',   /* a folder: rmdir (only if empty) */
	BL_REAPER_EAL    = 'E',   /* EAL's runtime folder: EAL's files and dead sockets, then it */
	BL_REAPER_HUGE   = 'H',   /* an EAL file prefix: PREFIXmap_N in every hugetlbfs mount */
};

/* Tell the reaper about a path. Silent if it is not running. */
void bl_reaper_note(enum bl_reaper_kind kind, const char *path);

/* Before EAL starts: is dir (EAL's runtime folder to be) fit for EAL, that is
 * absent, or a folder of this user and not a symbolic link? 0, or -errno
 * having said why (-ELOOP a link, -EPERM another user's). */
int bl_reaper_check_eal_dir(const char *dir);

#endif /* BL_REAPER_H */
