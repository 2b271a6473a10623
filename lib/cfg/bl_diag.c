/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_diag.h"

void
bl_diag_add(struct bl_diag *d, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (d == NULL)
		return;
	if (bl_diag_full(d)) {
		d->n++;      /* counted, not written */
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* One line per problem: a control character a value brought in (cJSON
	 * lets a raw newline into a string) is shown as '?'. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	d->n++;
	if (d->len + (size_t)n + 2 > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;
		while (cap < d->len + (size_t)n + 2)
			cap *= 2;
		char *t = realloc(d->text, cap);
		if (t == NULL)
			return;   /* the count still says something went wrong */
		d->text = t;
		d->cap = cap;
	}
	memcpy(d->text + d->len, line, (size_t)n);
	d->len += (size_t)n;
	d->text[d->len++] = '\n';
	d->text[d->len] = '\0';
}

void
bl_diag_free(struct bl_diag *d)
{
	free(d->text);
	memset(d, 0, sizeof(*d));
}
