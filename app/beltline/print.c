/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Printing the instance's JSON replies as text (ls, stats, top): scalars as
 * "key value" lines, arrays of objects as tables, nested arrays as indented
 * tables under their row, an object of scalars as one key:value,... column.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli_pvt.h"

/* A scalar as text into buf (at most n bytes with the NUL); returns its length. */
static int
scalar_text(const cJSON *v, char *buf, size_t n)
{
	if (cJSON_IsString(v))
		return snprintf(buf, n, "%s", v->valuestring);
	if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		return snprintf(buf, n, "%lld", (long long)v->valuedouble);
	if (cJSON_IsNumber(v))
		return snprintf(buf, n, "%.2f", v->valuedouble);
	if (cJSON_IsBool(v))
		return snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	return snprintf(buf, n, "-");
}

static void
print_scalar(const cJSON *v)
{
	char buf[128];

	if (cJSON_IsString(v))      /* any length */
		fputs(v->valuestring, stdout);
	else
		fputs(scalar_text(v, buf, sizeof(buf)) >= 0 ? buf : "-", stdout);
}

static int
is_scalar(const cJSON *v)
{
	return !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

/* A column: a scalar, or an object of scalars (per-class counts, a filter's own
 * counters), shown as key:value,key:value. */
static int
is_column(const cJSON *v)
{
	const cJSON *f;

	if (is_scalar(v))
		return 1;
	if (!cJSON_IsObject(v))
		return 0;
	cJSON_ArrayForEach(f, v)
		if (!is_scalar(f))
			return 0;
	return 1;
}

/* A cell: printed (out != NULL) or only measured; returns its width in characters. */
static int
cell(FILE *out, const cJSON *v)
{
	char buf[128];
	const cJSON *f;
	int n = 0;

	if (!cJSON_IsObject(v)) {
		if (cJSON_IsString(v)) {
			n = (int)strlen(v->valuestring);
			if (out != NULL)
				fputs(v->valuestring, out);
			return n;
		}
		n = scalar_text(v, buf, sizeof(buf));
		if (out != NULL)
			fputs(buf, out);
		return n;
	}
	cJSON_ArrayForEach(f, v) {
		int k = cJSON_IsString(f) ? (int)strlen(f->valuestring) :
			cJSON_IsNumber(f) ? snprintf(buf, sizeof(buf), "%lld", (long long)f->valuedouble) : 0;
		if (out != NULL)
			fprintf(out, "%s%s:%s", n ? "," : "", f->string,
				cJSON_IsString(f) ? f->valuestring : cJSON_IsNumber(f) ? buf : "");
		n += (n ? 1 : 0) + (int)strlen(f->string) + 1 + k;
	}
	if (n == 0) {
		if (out != NULL)
			fputs("-", out);
		n = 1;
	}
	return n;
}

/* A column of numbers only (and "-" for none) is aligned to the right. */
static int
is_numeric(const cJSON *arr, const char *key)
{
	const cJSON *row;
	int any = 0;

	cJSON_ArrayForEach(row, arr) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
		if (cJSON_IsNumber(v))
			any = 1;
		else if (v != NULL && !cJSON_IsNull(v))
			return 0;
	}
	return any;
}

#define BL_CLI_MAX_COLUMNS 64
/* A cell longer than this (a filter's class counts) does not widen its column: it pushes
 * the rest of its own row instead, so one row cannot push every other row's next column
 * off the screen. */
#define BL_CLI_WIDE_CELL 40

/*
 * An array of objects as a table, the columns those of its first row; nested arrays as
 * indented tables under their row. Each column is as wide as its widest cell or its
 * header (BL_CLI_WIDE_CELL), two spaces apart; numbers to the right, the rest to the
 * left; the last column unpadded (a filter's own counters can be long).
 */
void
bl_cli_print_table(const char *title, const cJSON *arr, int indent)
{
	const cJSON *first = cJSON_GetArrayItem(arr, 0), *row, *f;
	const cJSON *col[BL_CLI_MAX_COLUMNS];
	int width[BL_CLI_MAX_COLUMNS], right[BL_CLI_MAX_COLUMNS];
	int n = 0;

	if (first != NULL && !cJSON_IsObject(first)) {   /* names or numbers: one line */
		const cJSON *v;
		int k = 0;

		printf("%*s%s:", indent, "", title);
		cJSON_ArrayForEach(v, arr) {
			printf("%s ", k++ ? "," : "");
			print_scalar(v);
		}
		printf("\n");
		return;
	}
	printf("%*s%s (%d)\n", indent, "", title, cJSON_GetArraySize(arr));
	if (!cJSON_IsObject(first))
		return;
	cJSON_ArrayForEach(f, first)
		if (is_column(f) && n < BL_CLI_MAX_COLUMNS) {
			col[n] = f;
			width[n] = (int)strlen(f->string);
			right[n] = is_numeric(arr, f->string);
			cJSON_ArrayForEach(row, arr) {
				int w = cell(NULL, cJSON_GetObjectItemCaseSensitive(row, f->string));
				if (w > width[n] && w <= BL_CLI_WIDE_CELL)
					width[n] = w;
			}
			n++;
		}
	printf("%*s", indent + 2, "");
	for (int c = 0; c < n; c++) {
		const char *s = col[c]->string;
		int len = (int)strlen(s), pad = width[c] - len;

		if (right[c])
			printf("%*s", pad, "");
		for (int i = 0; i < len; i++)
			putchar(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
		if (c + 1 < n)
			printf("%*s", (right[c] ? 0 : pad) + 2, "");
	}
	printf("\n");
	cJSON_ArrayForEach(row, arr) {
		printf("%*s", indent + 2, "");
		for (int c = 0; c < n; c++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, col[c]->string);
			int pad = width[c] - cell(NULL, v);

			if (pad < 0)
				pad = 0;

			if (right[c])
				printf("%*s", pad, "");
			cell(stdout, v);
			if (c + 1 < n)
				printf("%*s", (right[c] ? 0 : pad) + 2, "");
		}
		printf("\n");
		/* "gauges" names which of a filter's counters are levels: for top, not for people */
		cJSON_ArrayForEach(f, row)
			if (cJSON_IsArray(f) && cJSON_GetArraySize(f) > 0 && strcmp(f->string, "gauges") != 0)
				bl_cli_print_table(f->string, f, indent + 4);
	}
}

void
bl_cli_print_report(const cJSON *j)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, j)
		if (is_scalar(f)) {
			printf("%-14s ", f->string);
			print_scalar(f);
			printf("\n");
		}
	cJSON_ArrayForEach(f, j) {
		if (cJSON_IsArray(f)) {
			bl_cli_print_table(f->string, f, 0);
		} else if (cJSON_IsObject(f)) {   /* a section such as "control": one row */
			cJSON *one = cJSON_CreateArray();
			if (one != NULL && cJSON_AddItemReferenceToArray(one, (cJSON *)(uintptr_t)f))
				bl_cli_print_table(f->string, one, 0);
			cJSON_Delete(one);
		}
	}
}
