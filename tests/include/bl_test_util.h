/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers the Criterion tests share: clocks for timing bounds, a
 * scratch directory per suite, and long texts made of one repeated unit.
 * Header-only (static), so a test binary takes it without a library.
 */
#ifndef BL_TEST_UTIL_H
#define BL_TEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

/* Seconds on CLOCK_MONOTONIC (wall) or this process's CPU clock. */
static inline double
bl_test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double
bl_test_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `unit` repeated until the text is `size` bytes or just under, between head and tail. */
static inline char *
bl_test_repeat(const char *head, const char *unit, const char *tail, size_t size)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), n = hl;
	char *s = malloc(size + 1);

	cr_assert(s != NULL);
	memcpy(s, head, hl);
	while (n + ul + tl <= size) {
		memcpy(s + n, unit, ul);
		n += ul;
	}
	memcpy(s + n, tail, tl);
	s[n + tl] = '\0';
	return s;
}

/* A fresh directory under $TMPDIR (or /tmp) named after `what`, and its removal. */
static inline void
bl_test_mkdtemp(char dir[PATH_MAX], const char *what)
{
	snprintf(dir, PATH_MAX, "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", what);
	cr_assert(mkdtemp(dir) != NULL);
}

static inline void
bl_test_rmtree(char dir[PATH_MAX])
{
	char cmd[PATH_MAX + 16];

	if (dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	dir[0] = '\0';
}

#endif /* BL_TEST_UTIL_H */
