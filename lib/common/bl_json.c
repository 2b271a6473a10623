/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "bl_json.h"
#include "bl_suggest.h"

const char *
bl_json_type(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

enum bl_json_key
bl_json_key_check(const cJSON *obj, const cJSON *k, const char *const *known, const char **suggest)
{
	const char *const *n;

	*suggest = NULL;
	for (n = known; *n != NULL && strcmp(k->string, *n) != 0; n++)
		;
	if (*n == NULL) {
		*suggest = bl_suggest(k->string, known);
		return BL_JSON_KEY_UNKNOWN;
	}
	for (const cJSON *e = obj->child; e != k; e = e->next)
		if (strcmp(e->string, k->string) == 0)
			return BL_JSON_KEY_TWICE;
	return BL_JSON_KEY_OK;
}

/* The ordinal (0, 1, ...) of the first string token holding a NUL, or -1. */
static long
nul_string(const char *t, size_t len)
{
	long n = -1;

	for (size_t i = 0; i < len; i++) {
		if (t[i] != '"')
			continue;
		n++;
		for (i++; i < len && t[i] != '"'; i++) {
			if (t[i] == '\0')
				return n;
			if (t[i] != '\\')
				continue;
			if (i + 5 < len && t[i + 1] == 'u' && memcmp(t + i + 2, "0000", 4) == 0)
				return n;
			i++;            /* the escaped character; \uXXXX's digits are plain */
		}
	}
	return -1;
}

struct nul_walk {
	long left;              /* strings to pass before the culprit */
	char *path;
	size_t size;
	int is_key;
};

static void
sub_path(char *out, size_t size, const char *path, const cJSON *parent, const cJSON *e, int i)
{
	if (cJSON_IsArray(parent))
		snprintf(out, size, "%s[%d]", path, i);
	else if (path[0] == '\0')
		snprintf(out, size, "%s", e->string);
	else
		snprintf(out, size, "%s.%s", path, e->string);
}

/* Strings in text order: each member's key, then its value (cJSON keeps the order). */
static int
nul_walk(struct nul_walk *w, const cJSON *v, const char *path)
{
	int i = 0;

	if (cJSON_IsString(v)) {
		if (w->left-- == 0) {
			snprintf(w->path, w->size, "%s", path[0] ? path : "$");
			return 1;
		}
		return 0;
	}
	for (const cJSON *e = cJSON_IsArray(v) || cJSON_IsObject(v) ? v->child : NULL; e != NULL;
	     e = e->next, i++) {
		char p[256];

		if (cJSON_IsObject(v) && w->left-- == 0) {
			snprintf(w->path, w->size, "%s", path[0] ? path : "$");
			w->is_key = 1;
			return 1;
		}
		sub_path(p, sizeof(p), path, v, e, i);
		if (nul_walk(w, e, p))
			return 1;
	}
	return 0;
}

int
bl_json_find_nul(const char *text, size_t len, const cJSON *root, char *path, size_t size,
		 int *is_key)
{
	struct nul_walk w = { .left = nul_string(text, len), .path = path, .size = size };

	*is_key = 0;
	if (w.left < 0)
		return 0;
	if (!nul_walk(&w, root, ""))
		snprintf(path, size, "$");   /* cannot happen: the text is root's */
	*is_key = w.is_key;
	return 1;
}

static int
twice_walk(const cJSON *v, const char *path, char *out, size_t size)
{
	int i = 0;

	for (const cJSON *e = cJSON_IsArray(v) || cJSON_IsObject(v) ? v->child : NULL; e != NULL;
	     e = e->next, i++) {
		char p[256];

		sub_path(p, sizeof(p), path, v, e, i);
		for (const cJSON *d = cJSON_IsObject(v) ? v->child : e; d != e; d = d->next)
			if (strcmp(d->string, e->string) == 0) {
				snprintf(out, size, "%s", p);
				return 1;
			}
		if (twice_walk(e, p, out, size))
			return 1;
	}
	return 0;
}

int
bl_json_find_twice(const cJSON *v, char *path, size_t size)
{
	return twice_walk(v, "", path, size);
}

enum bl_json_key
bl_json_key_check_seen(const cJSON *k, const char *const *known, bool *seen, const char **suggest)
{
	unsigned int i;

	if (suggest != NULL)
		*suggest = NULL;
	for (i = 0; known[i] != NULL && strcmp(k->string, known[i]) != 0; i++)
		;
	if (known[i] == NULL) {
		if (suggest != NULL)
			*suggest = bl_suggest(k->string, known);
		return BL_JSON_KEY_UNKNOWN;
	}
	if (seen[i])
		return BL_JSON_KEY_TWICE;
	seen[i] = true;
	return BL_JSON_KEY_OK;
}
