/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_err — one error, in words a user can act on.
 *
 * Configuration and control-path functions take a `struct bl_err *` and, on
 * failure, fill it with where the problem is (a JSON path such as
 * "ports[1].rx_queues", or a pipeline column) and a sentence saying what was
 * expected. Functions still return 0 or a negative errno; the struct only
 * carries the words. A NULL `err` is allowed everywhere and means "do not care".
 */
#ifndef BL_ERR_H
#define BL_ERR_H

#include <stddef.h>

#define BL_ERR_MSG_MAX 512

struct bl_err {
	int code;                   /* negative errno, 0 when unset */
	char msg[BL_ERR_MSG_MAX];   /* "path: what was expected, got what" */
};

/* Fill err (if not NULL) with a printf-style message; returns `code` (a negative errno). */
int bl_err_set(struct bl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget a previous error. */
static inline void
bl_err_clear(struct bl_err *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#endif /* BL_ERR_H */
