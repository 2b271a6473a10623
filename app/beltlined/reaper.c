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

static void
reap_socket(const char *path)
{
	/* EAL's mp_socket is a datagram socket: a connect succeeds while one is bound */
	if (!answers(path, SOCK_SEQPACKET) && !answers(path, SOCK_STREAM) &&
	    !answers(path, SOCK_DGRAM))
		unlink(path);
}

/*
 * Does a live EAL primary use this runtime folder? It holds a write lock on the
 * folder's "config" file as long as it runs. beltlined's own lock may outlive the
 * pipe's end by a moment (both go as it exits): wait up to a second for it.
 */
static int
eal_primary_alive(const char *dir)
{
	char p[PATH_MAX];
	int fd, alive = 0;

	if (snprintf(p, sizeof(p), "%s/config", dir) >= (int)sizeof(p))
		return 1;   /* cannot tell: leave it */
	fd = open(p, O_RDWR | O_CLOEXEC);
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

/* EAL's runtime folder: unless a live primary holds it, its files and the sockets
 * nobody answers on, then the folder. 1: a live primary holds it (left alone). */
static int
reap_eal(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX];

	if (eal_primary_alive(dir))
		return 1;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		if (e->d_type == DT_SOCK)
			reap_socket(p);
		else if (e->d_type == DT_REG)
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
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
	 * for us too), not a descriptor beltlined opened before forking. */
	for (int fd = 0; fd < 1024; fd++)
		if (fd != rfd)
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
	int eal_alive = 0;
	for (unsigned int i = n; i-- > 0;) {
		if (paths[i][0] == BL_REAPER_EAL)
			eal_alive |= reap_eal(paths[i] + 2);
		else if (paths[i][0] == BL_REAPER_DIR)
			rmdir(paths[i] + 2);
	}
	/* Hugepage files last, and only when no live primary holds the folder. */
	for (unsigned int i = n; i-- > 0;)
		if (paths[i][0] == BL_REAPER_HUGE && !eal_alive)
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
