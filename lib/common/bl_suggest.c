/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "bl_suggest.h"

#define WORD_MAX 64

/* Levenshtein distance with adjacent transpositions, on two short rows. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, WORD_MAX), lb = strnlen(b, WORD_MAX);
	size_t prev2[WORD_MAX + 1], prev[WORD_MAX + 1], cur[WORD_MAX + 1];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *
bl_suggest(const char *word, const char *const *names)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strnlen(word, WORD_MAX) / 3 + 1;

	for (; *names != NULL; names++) {
		size_t d = edit_distance(word, *names);
		if (d < best_d) {
			best_d = d;
			best = *names;
		}
	}
	return best_d <= limit ? best : NULL;
}
