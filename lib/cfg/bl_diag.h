/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_diag — the problems found in what a user gave us (a config, a reload, a
 * graph's pipelines): one line each, path first, collected so that every problem
 * is reported at once, not only the first.
 */
#ifndef BL_DIAG_H
#define BL_DIAG_H

#include <stdbool.h>
#include <stddef.h>

/* Problems found while reading a config: one line each, path first. The
 * first BL_DIAG_SHOWN are written out, the rest only counted (a 4 MiB config
 * of typos must not take seconds to describe, nor print megabytes). */
#define BL_DIAG_SHOWN 100

struct bl_diag {
	unsigned int n;      /* number of problems */
	unsigned int n_keys; /* of them, unknown keys and keys given twice: what was read
			      * around them is whole (bl_cfg_load says whether it also passed) */
	char *text;          /* "line\nline\n" (the first BL_DIAG_SHOWN); NULL when n == 0 */
	size_t len;
	size_t cap;
};

void bl_diag_add(struct bl_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Would bl_diag_add only count? (Then a costly message, e.g. a suggestion, can be skipped.) */
static inline bool
bl_diag_full(const struct bl_diag *d)
{
	return d != NULL && d->n >= BL_DIAG_SHOWN;
}
void bl_diag_free(struct bl_diag *d);

#endif /* BL_DIAG_H */
