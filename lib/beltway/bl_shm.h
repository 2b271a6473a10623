/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_shm — named shared-memory regions: the one thing every DBuf and IBuf sits in.
 *
 * A region is a file mapped MAP_SHARED: a hugetlbfs file (when a directory is
 * given), an MFD_HUGETLB memfd, or, when huge pages are not wanted or not
 * available, an ordinary memfd. Owner, group and mode are applied to the file.
 * Another process maps the same file (read-only if it got a read-only fd) at
 * whatever address its kernel picks; nothing in a region holds a pointer.
 * No DPDK here.
 */
#ifndef BL_SHM_H
#define BL_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"

#define BL_SHM_F_HUGE_REQUIRE 0x1u  /* fail instead of falling back to small pages */
#define BL_SHM_F_NO_HUGE      0x2u  /* ordinary shared memory only */
/* Handed out read-only: once created and mapped here, nobody maps it writable or writes it
 * again (F_SEAL_FUTURE_WRITE): not even its owner, who may fchmod the file and reopen it
 * read-write. Our own mapping stays writable. Not for a reader's page (written by it). */
#define BL_SHM_F_OUT_RO       0x4u

#define BL_SHM_HUGE_PAGE (2u << 20)

struct bl_shm_opts {
	size_t sz;                 /* sizeof(struct bl_shm_opts), so the struct can grow */
	const char *name;          /* shown in /proc/PID/maps as memfd:NAME; required */
	size_t size;               /* bytes; rounded up to the page size */
	uint32_t flags;            /* BL_SHM_F_* */
	const char *hugetlbfs_dir; /* if set: create NAME in this hugetlbfs mount instead of a memfd */
	uid_t uid;                 /* owner; (uid_t)-1 keeps ours */
	gid_t gid;                 /* group; (gid_t)-1 keeps ours */
	mode_t mode;               /* permission bits, e.g. 0640; 0 means 0600 */
};

struct bl_shm {
	char name[64];
	char path[256];            /* file path for a hugetlbfs file, "" for a memfd */
	int fd;                    /* read-write for the creator, read-only for a reader */
	void *base;
	size_t size;
	size_t page_size;          /* BL_SHM_HUGE_PAGE or the base page size */
	int writable;
	int owner;                 /* created here: unlink the path on free */
};

/* Create and map a region read-write. 0 or -errno; err says why. */
int bl_shm_create(const struct bl_shm_opts *o, struct bl_shm **out, struct bl_err *err);

/* Map a region another process created, from an fd (dup'ed) or a path.
 * writable=0 maps PROT_READ; writable=1 needs a read-write fd. 0 or -errno. */
int bl_shm_attach_fd(int fd, int writable, struct bl_shm **out);
int bl_shm_attach_path(const char *path, int writable, struct bl_shm **out);

/* A new read-only fd for the region (reopens /proc/self/fd/N): what a client is given.
 * Returns the fd or -errno. The caller closes it. */
int bl_shm_ro_fd(const struct bl_shm *s);

/* Replace [off, off+len) of this mapping by `fd` mapped MAP_FIXED. 0 or -errno. */
int bl_shm_overlay(struct bl_shm *s, size_t off, int fd, size_t len, int writable);

/* Unmap, close, and unlink a hugetlbfs file we created. NULL is fine. */
void bl_shm_free(struct bl_shm *s);

/* 1 if addr lies inside the region's mapping. */
static inline int
bl_shm_contains(const struct bl_shm *s, const void *addr, size_t len)
{
	const char *b = s->base, *a = addr;
	return a >= b && len <= s->size && (size_t)(a - b) <= s->size - len;
}

#endif /* BL_SHM_H */
