/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_shm — named shared regions (see bl_shm.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_shm.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

static size_t
round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* Owner, group and mode, without any write bit: every fd that may write (ours, a reader's
 * page) is handed out open; none is ever opened again by name, and a write bit would let
 * a client reopen its read-only fd (/proc/self/fd/N) read-write: truncate the region
 * under the appliance, or write into its mempool. */
static int
shm_perm(int fd, const struct bl_shm_opts *o, struct bl_err *err)
{
	mode_t mode = (o->mode ? o->mode : 0600) & ~(mode_t)0222;

	if ((o->uid != (uid_t)-1 || o->gid != (gid_t)-1) && fchown(fd, o->uid, o->gid) < 0)
		return bl_err_set(err, -errno, "shm %s: cannot set owner %d group %d: %s",
			o->name, (int)o->uid, (int)o->gid, strerror(errno));
	if (fchmod(fd, mode) < 0)   /* umask applied at open, so set it explicitly */
		return bl_err_set(err, -errno, "shm %s: cannot set mode %04o: %s",
			o->name, (unsigned)mode, strerror(errno));
	return 0;
}

/* One attempt with a given backing. 0 or -errno; on failure nothing is left behind. */
static int
shm_try(struct bl_shm *s, const struct bl_shm_opts *o, int huge, struct bl_err *err)
{
	size_t pg = huge ? BL_SHM_HUGE_PAGE : (size_t)sysconf(_SC_PAGESIZE);
	size_t size = round_up(o->size, pg);
	int fd, rc;

	if (huge && o->hugetlbfs_dir != NULL) {
		snprintf(s->path, sizeof(s->path), "%s/%s", o->hugetlbfs_dir, o->name);
		fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	} else {
		s->path[0] = '\0';
		fd = memfd_create(o->name, MFD_CLOEXEC | MFD_ALLOW_SEALING |
			(huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
		if (fd < 0 && huge && errno == EINVAL)   /* kernels before 4.16: no sealing */
			fd = memfd_create(o->name, MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	}
	if (fd < 0)
		return bl_err_set(err, -errno, "shm %s: cannot create %s: %s", o->name,
			s->path[0] ? s->path : huge ? "hugetlb memfd" : "memfd", strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = bl_err_set(err, -errno, "shm %s: cannot size to %zu bytes: %s",
			o->name, size, strerror(errno));
		goto fail;
	}
	rc = shm_perm(fd, o, err);
	if (rc < 0)
		goto fail;
	/* A shared hugetlb mapping reserves its pages here: a shortfall is ENOMEM now,
	 * not SIGBUS later. MAP_POPULATE faults every page in while we are not on the hot
	 * path, small pages too: the creator writes most of a region before it is used (a
	 * DBuf's every page, as its pool is built), and one populate costs half what a fault
	 * a page does (a 32 MiB region: 60 ms against 133 here; a beltlined start without
	 * huge pages spent most of its CPU in those faults). */
	s->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (s->base == MAP_FAILED) {
		rc = bl_err_set(err, -errno, "shm %s: cannot map %zu bytes: %s",
			o->name, size, strerror(errno));
		goto fail;
	}
	/* Sealed, once mapped here: the size (a client holding the fd, a reader page is
	 * read-write, cannot shrink it, which would fault every access of ours past the new
	 * end: SIGBUS), and for a region handed out read-only any later write (its owner may
	 * fchmod the file and reopen it read-write; the write bits cleared above are not
	 * enough). A hugetlbfs file cannot be sealed: the appliance does not make those. */
	if (!s->path[0] && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL |
				 ((o->flags & BL_SHM_F_OUT_RO) ? F_SEAL_FUTURE_WRITE : 0)) < 0 &&
	    !(huge && errno == EINVAL)) {
		rc = bl_err_set(err, -errno, "shm %s: cannot seal it: %s", o->name, strerror(errno));
		munmap(s->base, size);
		goto fail;
	}
	s->fd = fd;
	s->size = size;
	s->page_size = pg;
	return 0;
fail:
	close(fd);
	if (s->path[0])
		unlink(s->path);
	s->path[0] = '\0';
	return rc;
}

int
bl_shm_create(const struct bl_shm_opts *o, struct bl_shm **out, struct bl_err *err)
{
	struct bl_shm *s;
	int rc = -EINVAL;

	if (o == NULL || o->sz < sizeof(*o) || o->name == NULL || o->name[0] == '\0' ||
	    o->size == 0 || strchr(o->name, '/') != NULL)
		return bl_err_set(err, -EINVAL, "shm: need a name without '/' and a size > 0");
	if ((o->flags & BL_SHM_F_HUGE_REQUIRE) && (o->flags & BL_SHM_F_NO_HUGE))
		return bl_err_set(err, -EINVAL, "shm %s: huge pages both required and refused", o->name);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return bl_err_set(err, -ENOMEM, "shm %s: out of memory", o->name);
	snprintf(s->name, sizeof(s->name), "%s", o->name);
	s->writable = 1;
	s->owner = 1;
	if (!(o->flags & BL_SHM_F_NO_HUGE))
		rc = shm_try(s, o, 1, err);
	if (rc < 0 && !(o->flags & BL_SHM_F_HUGE_REQUIRE))
		rc = shm_try(s, o, 0, err);      /* fallback: ordinary shared memory */
	if (rc < 0) {
		free(s);
		return rc;
	}
	bl_err_clear(err);
	*out = s;
	return 0;
}

static int
shm_attach(int fd, int writable, struct bl_shm **out)
{
	struct stat st;
	struct bl_shm *s;
	int rc;

	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		rc = st.st_size <= 0 ? -EINVAL : -errno;
		close(fd);
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return -ENOMEM;
	}
	s->base = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0),
		MAP_SHARED, fd, 0);
	if (s->base == MAP_FAILED) {
		rc = -errno;
		close(fd);
		free(s);
		return rc;
	}
	s->fd = fd;
	s->size = (size_t)st.st_size;
	s->page_size = (size_t)st.st_blksize >= BL_SHM_HUGE_PAGE ? BL_SHM_HUGE_PAGE :
		(size_t)sysconf(_SC_PAGESIZE);
	s->writable = writable;
	*out = s;
	return 0;
}

int
bl_shm_attach_fd(int fd, int writable, struct bl_shm **out)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return d < 0 ? -errno : shm_attach(d, writable, out);
}

int
bl_shm_attach_path(const char *path, int writable, struct bl_shm **out)
{
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	return fd < 0 ? -errno : shm_attach(fd, writable, out);
}

int
bl_shm_ro_fd(const struct bl_shm *s)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", s->fd);
	fd = open(s->path[0] ? s->path : p, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
bl_shm_overlay(struct bl_shm *s, size_t off, int fd, size_t len, int writable)
{
	void *a;

	if (off % (size_t)sysconf(_SC_PAGESIZE) != 0 || off > s->size || len > s->size - off)
		return -EINVAL;
	a = mmap((char *)s->base + off, len, PROT_READ | (writable ? PROT_WRITE : 0),
		MAP_SHARED | MAP_FIXED, fd, 0);
	return a == MAP_FAILED ? -errno : 0;
}

void
bl_shm_free(struct bl_shm *s)
{
	if (s == NULL)
		return;
	munmap(s->base, s->size);
	close(s->fd);
	if (s->owner && s->path[0])
		unlink(s->path);
	free(s);
}
