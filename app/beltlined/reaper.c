/* SPDX-License-Identifier: BSD-3-Clause */
/* reaper — clean up after a beltlined that could not (see reaper.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bl_log.h"
#include "reaper.h"

#define REAPER_MAX_PATHS 8

static int note_fd = -1;    /* write end, beltlined's */
static pid_t owner_pid;     /* beltlined's pid: the reaper's parent */
/* beltlined's EAL folder and its lock file, never closed: the lock goes as it exits (L2) */
static int held_dir = -1, held_lock = -1;
static char held_path[PATH_MAX];

/* Does someone accept on this unix socket? (a new instance of the same name) */
static int
answers(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0), rc;

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* Nobody accepts on it (EAL's mp_socket is a datagram socket: a connect succeeds
 * while one is bound). */
static int
socket_dead(const char *path)
{
	return !answers(path, SOCK_SEQPACKET) && !answers(path, SOCK_STREAM) &&
	       !answers(path, SOCK_DGRAM);
}

static void
reap_socket(const char *path)
{
	if (socket_dead(path))
		unlink(path);
}

/*
 * EAL's runtime folder, opened as a folder of this user, never through a
 * symbolic link (reaper.h). The descriptor, or -errno: -ELOOP a link, -ENOTDIR
 * not a folder, -EPERM another user's (*st says whose).
 */
static int
open_eal_dir(const char *dir, struct stat *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;   /* a link to a folder is ENOTDIR, not ELOOP */
		return e == ENOTDIR && lstat(dir, st) == 0 && S_ISLNK(st->st_mode) ? -ELOOP : -e;
	}
	if (fstat(fd, st) != 0)
		e = errno;
	else if (st->st_uid != geteuid())
		e = EPERM;
	else
		return fd;
	close(fd);
	return -e;
}

/* Why a folder is not used, after "EAL's runtime folder DIR". */
static const char *
why_not(int rc, const struct stat *st, char *buf, size_t len)
{
	if (rc == -ELOOP)
		return " is a symbolic link";
	if (rc == -ENOTDIR)
		return " is not a folder";
	if (rc == -EPERM)
		snprintf(buf, len, " belongs to uid %u, not to this process's (%u)",
			 (unsigned int)st->st_uid, (unsigned int)geteuid());
	else
		snprintf(buf, len, ": %s", strerror(-rc));
	return buf;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * L1 (reaper.h): make dir and its parent as EAL does, open dir (open_eal_dir)
 * and its lock file, flock that, and check dir still names the folder and the
 * folder still holds that file. The folder's descriptor (*lfd the lock file's),
 * or -errno as open_eal_dir's, or -EWOULDBLOCK: still locked after wait_ms
 * (< 0: wait as long as it takes).
 */
static int
lock_eal_dir(const char *dir, int wait_ms, struct stat *st, int *lfd)
{
	const char *slash = strrchr(dir, '/');
	char parent[PATH_MAX];
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	parent[0] = '\0';
	if (slash != NULL && (size_t)(slash - dir) < sizeof(parent)) {
		memcpy(parent, dir, (size_t)(slash - dir));
		parent[slash - dir] = '\0';
	}
	for (int tries = 0; tries < 100; tries++) {
		struct stat now, l, lnow;
		int fd, lf, rc = 0;

		if (parent[0] != '\0')
			(void)mkdir(parent, 0700);   /* as EAL: there already is fine */
		(void)mkdir(dir, 0700);
		fd = open_eal_dir(dir, st);
		if (fd < 0)
			return fd;
		lf = openat(fd, BL_REAPER_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lf < 0) {
			rc = -errno;
			close(fd);
			if (rc == -ENOENT)
				continue;   /* the folder was removed meanwhile */
			return rc;
		}
		while (flock(lf, wait_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 && rc == 0) {
			if (errno == EINTR)
				continue;
			if (errno != EWOULDBLOCK || ms_since(&t0) >= wait_ms)
				rc = -errno;
			else
				nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
		}
		if (rc == 0 && lstat(dir, &now) == 0 && same_file(st, &now) && fstat(lf, &l) == 0 &&
		    fstatat(fd, BL_REAPER_LOCK, &lnow, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&l, &lnow)) {
			*lfd = lf;
			return fd;
		}
		close(lf);
		close(fd);
		if (rc != 0)
			return rc;
		/* removed (by a reaper, an instance's exit) while we waited: again */
	}
	return -EAGAIN;
}

int
bl_reaper_hold(const char *dir, unsigned int wait_ms, bool (*runs)(void *ctx), void *ctx)   /* L2 */
{
	struct stat st = { 0 };
	char why[96];
	int fd = lock_eal_dir(dir, 0, &st, &held_lock);

	if (fd == -EWOULDBLOCK && runs != NULL && runs(ctx)) {
		/* An instance of the name answers: one that runs, or one on its way out (it
		 * answers until it closes its socket, late in its exit). A moment for the
		 * second kind; the first is not waited for as a reaper is. */
		fd = lock_eal_dir(dir, BL_REAPER_RUNS_WAIT_MS, &st, &held_lock);
		if (fd == -EWOULDBLOCK && runs(ctx))
			return -EBUSY;
	}
	if (fd == -EWOULDBLOCK) {
		bl_log(BL_LOG_WARNING, "EAL's runtime folder %s is locked: waiting up to %u s for "
		       "the reaper of an instance of this name that ended (or for one that runs)",
		       dir, wait_ms / 1000);
		fd = lock_eal_dir(dir, (int)wait_ms, &st, &held_lock);
	}
	if (fd >= 0) {
		held_dir = fd;
		snprintf(held_path, sizeof(held_path), "%s", dir);
		return 0;
	}
	if (fd == -EWOULDBLOCK)
		bl_log(BL_LOG_ERR, "EAL's runtime folder %s is still locked after %u s: another "
		       "beltlined of this instance name runs (give this one another instance name: "
		       "--instance NAME, or the config's \"instance\")", dir, wait_ms / 1000);
	else if (fd == -ELOOP || fd == -ENOTDIR || fd == -EPERM)
		bl_log(BL_LOG_ERR, "EAL's runtime folder %s%s, where EAL makes a folder of its own: "
		       "not used (someone may have put it there: remove it, or set RUNTIME_DIRECTORY "
		       "to a folder of your own)", dir, why_not(fd, &st, why, sizeof(why)));
	else
		bl_log(BL_LOG_ERR, "EAL's runtime folder %s: cannot make it: %s", dir, strerror(-fd));
	return fd;
}

void
bl_reaper_hold_end(void)
{
	if (held_dir < 0)
		return;
	unlinkat(held_dir, BL_REAPER_LOCK, 0);   /* still ours until we exit */
	rmdir(held_path);
}

/*
 * Does a live EAL primary use this runtime folder? It holds a write lock on the
 * folder's "config" file as long as it runs. beltlined's own lock may outlive the
 * pipe's end by a moment (both go as it exits): wait up to a second for it.
 */
static int
eal_primary_alive(int dfd)
{
	int fd, alive = 0;

	fd = openat(dfd, "config", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (int i = 0; i < 100; i++) {
		struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fcntl(fd, F_GETLK, &l) != 0 || l.l_type == F_UNLCK) {
			alive = 0;
			break;
		}
		alive = 1;
		if (l.l_pid != owner_pid)
			break;   /* another process: a new instance of the name */
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	close(fd);
	return alive;
}

/* A name EAL 22.11 makes in its runtime folder (eal_filesystem.h, telemetry). */
static int
eal_name(const char *n)
{
	return strcmp(n, "config") == 0 || strcmp(n, "hugepage_info") == 0 ||
	       strncmp(n, "fbarray_", 8) == 0 || strncmp(n, "mp_socket", 9) == 0 ||
	       strncmp(n, "dpdk_telemetry.", 15) == 0;
}

/*
 * EAL's runtime folder, locked (fd): EAL's files and the sockets nobody answers
 * on, then the folder (if that left it empty).
 */
static void
reap_eal(int fd, const char *dir)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;
	char p[PATH_MAX];
	struct stat st;

	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!eal_name(e->d_name) || fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISSOCK(st.st_mode) &&
		    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < (int)sizeof(p) &&
		    !socket_dead(p))
			continue;
		if (S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode))
			unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
	unlinkat(fd, BL_REAPER_LOCK, 0);   /* still ours until we exit; a waiter tries again */
	rmdir(dir);   /* only if empty; the one locked (L1), as nobody else removes it meanwhile */
}

/*
 * L3: EAL's folder dir locked, waiting as long as it takes (the lock file's
 * descriptor is kept open until we exit). The folder's descriptor; or
 * -1, having said why when it is not this user's folder.
 */
static int
reaper_lock(const char *dir)
{
	struct stat st = { 0 };
	char why[96];
	/* A second for beltlined's own lock, which may outlive the pipe by a moment. */
	int lfd, fd = lock_eal_dir(dir, 1000, &st, &lfd);

	if (fd == -EWOULDBLOCK) {
		/* A new instance of the name holds it, for as long as it runs: meanwhile
		 * hold nothing of the caller's (a caller reading our stderr waits for us). */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			close(null);
		}
		fd = lock_eal_dir(dir, -1, &st, &lfd);
	}
	if (fd == -ELOOP || fd == -ENOTDIR || fd == -EPERM)
		bl_log(BL_LOG_WARNING, "reaper: EAL's runtime folder %s%s: left as it is, with "
		       "what is in it", dir, why_not(fd, &st, why, sizeof(why)));
	return fd < 0 ? -1 : fd;
}

/* PREFIXmap_N (N digits only: another prefix may begin with this one) in every
 * hugetlbfs mount of /proc/mounts. */
static void
reap_huge(const char *prefix)
{
	size_t pl = strlen(prefix);
	char line[1024];
	FILE *m = fopen("/proc/mounts", "re");

	while (m != NULL && fgets(line, sizeof(line), m) != NULL) {
		char dev[256], mnt[512], type[64], p[PATH_MAX];
		struct dirent *e;
		DIR *d;

		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) != 3 ||
		    strcmp(type, "hugetlbfs") != 0 || (d = opendir(mnt)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			const char *n = e->d_name;
			if (strncmp(n, prefix, pl) != 0 || strncmp(n + pl, "map_", 4) != 0 ||
			    n[pl + 4] == '\0' || strspn(n + pl + 4, "0123456789") != strlen(n + pl + 4))
				continue;
			if (snprintf(p, sizeof(p), "%s/%s", mnt, n) < (int)sizeof(p))
				unlink(p);
		}
		closedir(d);
	}
	if (m != NULL)
		fclose(m);
}

static void __attribute__((noreturn))
reaper_main(int rfd)
{
	static char paths[REAPER_MAX_PATHS][PATH_MAX + 2];
	char buf[PATH_MAX + 2];
	unsigned int n = 0;
	size_t have = 0;
	ssize_t r;

	/* Outlive what kills beltlined's terminal or group politely; only EOF ends us. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Hold nothing: not stdout (a caller waiting for beltlined's output would wait
	 * for us too), not a descriptor beltlined opened before forking; but stderr, to
	 * say why a folder is left, until we wait for another's lock (reaper_lock). */
	for (int fd = 0; fd < 1024; fd++)
		if (fd != rfd && fd != STDERR_FILENO)
			close(fd);
	/* Records are "K path\n"; a path that does not fit, or past the table, is dropped. */
	while ((r = read(rfd, buf + have, sizeof(buf) - have)) > 0 || (r < 0 && errno == EINTR)) {
		char *nl;
		if (r < 0)
			continue;
		have += (size_t)r;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			size_t len = (size_t)(nl - buf);
			if (len >= 3 && len < sizeof(paths[0]) && buf[1] == ' ' &&
			    buf[0] == BL_REAPER_FORGET) {
				for (unsigned int i = 0; i < n; i++)
					if (strlen(paths[i] + 2) == len - 2 &&
					    memcmp(paths[i] + 2, buf + 2, len - 2) == 0)
						paths[i][0] = BL_REAPER_FORGET;   /* skipped below */
			} else if (len >= 3 && len < sizeof(paths[0]) && buf[1] == ' ' &&
				   n < REAPER_MAX_PATHS) {
				memcpy(paths[n], buf, len);
				paths[n++][len] = '\0';
			}
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
		}
		if (have == sizeof(buf))
			have = 0;
	}
	/* L3: EAL's folders locked before anything is removed. Held until we exit. */
	int eal_fd[REAPER_MAX_PATHS], eal_left = 0;
	for (unsigned int i = 0; i < n; i++) {
		eal_fd[i] = paths[i][0] == BL_REAPER_EAL ? reaper_lock(paths[i] + 2) : -1;
		if (paths[i][0] == BL_REAPER_EAL && eal_fd[i] < 0)
			eal_left = 1;   /* and with it the hugepage files */
		else if (eal_fd[i] >= 0 && eal_primary_alive(eal_fd[i]))
			_exit(0);       /* an EAL primary not started by beltlined: all is its */
	}
	/* Sockets first, then the folders that held them, innermost (last noted) first. */
	for (unsigned int i = n; i-- > 0;)
		if (paths[i][0] == BL_REAPER_SOCKET)
			reap_socket(paths[i] + 2);
	for (unsigned int i = n; i-- > 0;) {
		if (eal_fd[i] >= 0)
			reap_eal(eal_fd[i], paths[i] + 2);
		else if (paths[i][0] == BL_REAPER_DIR)
			rmdir(paths[i] + 2);
	}
	/* Hugepage files last, and only when EAL's folder was ours. */
	for (unsigned int i = n; i-- > 0;)
		if (paths[i][0] == BL_REAPER_HUGE && !eal_left)
			reap_huge(paths[i] + 2);
	_exit(0);
}

int
bl_reaper_start(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	owner_pid = getpid();
	fflush(NULL);    /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0)
		reaper_main(p[0]);
	close(p[0]);
	note_fd = p[1];
	return 0;
}

void
bl_reaper_note(enum bl_reaper_kind kind, const char *path)
{
	char rec[PATH_MAX + 3];
	int n;

	if (note_fd < 0 || path == NULL || path[0] == '\0')
		return;
	n = snprintf(rec, sizeof(rec), "%c %s\n", (char)kind, path);
	if (n > 0 && (size_t)n < sizeof(rec) && write(note_fd, rec, (size_t)n) != n)
		fprintf(stderr, "beltlined: reaper: cannot note %s\n", path);
}
