/* SPDX-License-Identifier: BSD-3-Clause */
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
