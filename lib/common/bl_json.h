/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_json — what the config reader and the pipeline JSON reader both say about cJSON values. */
#ifndef BL_JSON_H
#define BL_JSON_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* "a number", "a string", "a boolean", "null", "an array" or "an object", for errors. */
const char *bl_json_type(const cJSON *v);

enum bl_json_key {
	BL_JSON_KEY_OK = 0,
	BL_JSON_KEY_UNKNOWN,    /* not in the list; *suggest is the closest known key or NULL */
	BL_JSON_KEY_TWICE,      /* an earlier member of the object has the same name */
};

/* Is member `k` of object `obj` one of `known` (NULL-terminated), and the first of its name?
 * Costs k's position in obj: a loop over the members wants bl_json_key_check_seen. */
enum bl_json_key bl_json_key_check(const cJSON *obj, const cJSON *k, const char *const *known,
				   const char **suggest);

/*
 * Does a string of the JSON text, a key or a value, hold a NUL (the escape \u0000 or a raw
 * zero byte)? cJSON cuts such a string at the NUL, so "rel\u0000x" would be read as "rel":
 * callers refuse the text instead. `text` is the len bytes cJSON parsed into `root` (up to
 * the end of its value). 0: none. 1: found; `path` holds the first one's JSON path
 * ("instance", "ports[0].vdev"; "$" for the root itself) and *is_key says whether it is a
 * key of the object at that path rather than the value there.
 */
int bl_json_find_nul(const char *text, size_t len, const cJSON *root, char *path, size_t size,
		     int *is_key);

/* Is a key given twice in one object, anywhere in v? 0: no. 1: `path` holds the JSON path of
 * the second one ("stream", "a.b[1].c"). For objects whose keys are not from a fixed list. */
int bl_json_find_twice(const cJSON *v, char *path, size_t size);

/* The same in constant time for a loop over an object's members in order: seen[i]
 * (one per known key, all false before the first member) says known[i] was met.
 * `suggest` may be NULL: no suggestion is looked for. */
enum bl_json_key bl_json_key_check_seen(const cJSON *k, const char *const *known, bool *seen,
					const char **suggest);

#endif /* BL_JSON_H */
