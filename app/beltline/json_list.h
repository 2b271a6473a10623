/* SPDX-License-Identifier: BSD-3-Clause */
/* json_list — one look the CLI's stats readers share (stats.c, prom.c). */
#ifndef BL_CLI_JSON_LIST_H
#define BL_CLI_JSON_LIST_H

#include <string.h>

#include <cjson/cJSON.h>

/* Is name one of the strings of the array list (NULL: none)? A filter's "gauges". */
static inline int
bl_cli_json_lists(const cJSON *list, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
		if (cJSON_IsString(e) && strcmp(e->valuestring, name) == 0)
			return 1;
	return 0;
}

#endif /* BL_CLI_JSON_LIST_H */
