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

static void
print_scalar(const cJSON *v, int width)
{
	if (cJSON_IsString(v))
		printf("%-*s", width, v->valuestring);
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		printf("%-*lld", width, (long long)v->valuedouble);
	else if (cJSON_IsNumber(v))
		printf("%-*.2f", width, v->valuedouble);
	else if (cJSON_IsBool(v))
		printf("%-*s", width, cJSON_IsTrue(v) ? "yes" : "no");
	else
		printf("%-*s", width, "-");
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

static void
print_column(const cJSON *v, int width)
{
	const cJSON *f;
	int n = 0;

	if (!cJSON_IsObject(v)) {
		print_scalar(v, width);
		return;
	}
	cJSON_ArrayForEach(f, v) {
		n += printf("%s%s:", n ? "," : "", f->string);
		if (cJSON_IsNumber(f))
			n += printf("%lld", (long long)f->valuedouble);
		else if (cJSON_IsString(f))
			n += printf("%s", f->valuestring);
	}
	if (n == 0)
		n += printf("-");
	printf("%*s", n < width ? width - n : 1, "");
}

/* An array of objects as a table; nested arrays as indented tables under their row. */
void
bl_cli_print_table(const char *title, const cJSON *arr, int indent)
{
	const cJSON *first = cJSON_GetArrayItem(arr, 0), *row, *f;

	if (first != NULL && !cJSON_IsObject(first)) {   /* names or numbers: one line */
		const cJSON *v;
		int k = 0;

		printf("%*s%s:", indent, "", title);
		cJSON_ArrayForEach(v, arr) {
			printf("%s ", k++ ? "," : "");
			print_scalar(v, 0);
		}
		printf("\n");
		return;
	}
	printf("%*s%s (%d)\n", indent, "", title, cJSON_GetArraySize(arr));
	if (!cJSON_IsObject(first))
		return;
	printf("%*s", indent + 2, "");
	cJSON_ArrayForEach(f, first)
		if (is_column(f)) {
			char h[64];
			size_t i;
			for (i = 0; f->string[i] && i + 1 < sizeof(h); i++)
				h[i] = (char)(f->string[i] >= 'a' && f->string[i] <= 'z' ?
					f->string[i] - 32 : f->string[i]);
			h[i] = '\0';
			printf("%-14s%s", h, i >= 14 ? " " : "");   /* a long name still ends */
		}
	printf("\n");
	cJSON_ArrayForEach(row, arr) {
		printf("%*s", indent + 2, "");
		cJSON_ArrayForEach(f, first)
			if (is_column(f))
				print_column(cJSON_GetObjectItemCaseSensitive(row, f->string), 14);
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
			printf("%-14s", f->string);
			print_scalar(f, 0);
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
