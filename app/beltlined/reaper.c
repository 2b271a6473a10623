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

int
bl_reaper_check_eal_dir(const char *dir)
{
	struct stat st = { 0 };
	char why[96];
	int fd = open_eal_dir(dir, &st);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -ENOENT)
		return 0;   /* EAL makes it */
	bl_log(BL_LOG_ERR, "EAL's runtime folder %s%s, where EAL makes a folder of its own: "
	       "not used (someone may have put it there: remove it, or set RUNTIME_DIRECTORY "
	       "to a folder of your own)", dir, why_not(fd, &st, why, sizeof(why)));
	return fd;
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
 * EAL's runtime folder: unless a live primary holds it, EAL's files and the
 * sockets nobody answers on, then the folder (if that left it empty). 1: left
 * alone (a live primary, or a folder that is not this user's: said).
 */
static int
reap_eal(const char *dir)
{
	struct stat st = { 0 };
	struct dirent *e;
	char p[PATH_MAX], why[96];
	int fd = open_eal_dir(dir, &st), dfd;
	DIR *d;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		bl_log(BL_LOG_WARNING, "reaper: EAL's runtime folder %s%s: left as it is, with "
		       "what is in it", dir, why_not(fd, &st, why, sizeof(why)));
		return 1;
	}
	dfd = eal_primary_alive(fd) ? -1 : dup(fd);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return 1;
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
	close(fd);
	rmdir(dir);   /* only if empty; a link there now is not removed (ENOTDIR) */
	return 0;
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
	 * say why a folder is left (we exit as soon as beltlined does). */
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
			if (len >= 3 && len < sizeof(paths[0]) && buf[1] == ' ' && n < REAPER_MAX_PATHS) {
				memcpy(paths[n], buf, len);
				paths[n++][len] = '\0';
			}
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
		}
		if (have == sizeof(buf))
			have = 0;
	}
	/* Sockets first, then the folders that held them, innermost (last noted) first. */
	for (unsigned int i = n; i-- > 0;)
		if (paths[i][0] == BL_REAPER_SOCKET)
			reap_socket(paths[i] + 2);
	int eal_left = 0;
	for (unsigned int i = n; i-- > 0;) {
		if (paths[i][0] == BL_REAPER_EAL)
			eal_left |= reap_eal(paths[i] + 2);
		else if (paths[i][0] == BL_REAPER_DIR)
			rmdir(paths[i] + 2);
	}
	/* Hugepage files last, and only when EAL's folder was ours and no live primary's. */
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
