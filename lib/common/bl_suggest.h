/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_suggest — "did you mean": the closest of a list of names to a typo. */
#ifndef BL_SUGGEST_H
#define BL_SUGGEST_H

#include <stddef.h>

/*
 * Return the entry of `names` (NULL-terminated) closest to `word` by edit
 * distance, or NULL when none is close enough to be a plausible typo.
 */
const char *bl_suggest(const char *word, const char *const *names);

#endif /* BL_SUGGEST_H */
