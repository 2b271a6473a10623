/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the JSON config: keys and typed values (integers in a range, strings,
 * names, PCI addresses, vdev specs), each problem reported as one line that starts
 * with its JSON path (bl_cfg_pvt.h). The sections that use them: bl_cfg.c.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bl_cfg_pvt.h"
#include "bl_json.h"
#include "bl_stream_proto.h"

/* Files named inside vdev specs that resolve against the config's folder. */
static const char *const vdev_path_keys[] = { "rx_pcap", "tx_pcap", NULL };

/* Report keys of `obj` not in `known`, and keys given twice. */
void
bl_cfg__check_keys(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *const *known)
{
	const char *pre = path[0] ? path : "";
	const char *dot = path[0] ? "." : "";

	bool seen[16] = { false };   /* the longest list of keys is shorter */

	for (const cJSON *k = obj->child; k != NULL; k = k->next) {
		const char *s;

		s = NULL;
		/* no suggestion (an edit distance per known key) once nothing more is shown */
		switch (bl_json_key_check_seen(k, known, seen, bl_diag_full(r->diag) ? NULL : &s)) {
		case BL_JSON_KEY_UNKNOWN:
			r->diag->n_keys++;
			if (s != NULL)
				bl_diag_add(r->diag, "%s%s%s: unknown key (did you mean \"%s\"?)",
					    pre, dot, k->string, s);
			else
				bl_diag_add(r->diag, "%s%s%s: unknown key", pre, dot, k->string);
			break;
		case BL_JSON_KEY_TWICE:
			r->diag->n_keys++;
			bl_diag_add(r->diag, "%s%s%s: given twice", pre, dot, k->string);
			break;
		case BL_JSON_KEY_OK:
			break;
		}
	}}

void
bl_cfg__join(char *out, const char *path, const char *key)
{
	if (path[0])
		snprintf(out, PATH_LEN, "%s.%s", path, key);
	else
		snprintf(out, PATH_LEN, "%s", key);
}

/* An optional unsigned integer in [min, max]; absent keeps *out. */
bool
bl_cfg__get_uint(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
	 unsigned long min, unsigned long max, unsigned int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];

	if (v == NULL)
		return true;
	bl_cfg__join(p, path, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    !isfinite(v->valuedouble)) {
		if (cJSON_IsNumber(v))
			bl_diag_add(r->diag, "%s: must be an integer %lu..%lu, got %g",
				    p, min, max, v->valuedouble);
		else
			bl_diag_add(r->diag, "%s: must be an integer %lu..%lu, got %s",
				    p, min, max, bl_json_type(v));
		return false;
	}
	if (v->valuedouble < (double)min || v->valuedouble > (double)max) {
		bl_diag_add(r->diag, "%s: must be %lu..%lu, got %.0f", p, min, max, v->valuedouble);
		return false;
	}
	*out = (unsigned int)v->valuedouble;
	return true;
}

bool
bl_cfg__get_u16(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
	unsigned long min, unsigned long max, uint16_t *out)
{
	unsigned int v = *out;

	if (!bl_cfg__get_uint(r, obj, path, key, min, max, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A string key; `required` reports its absence. Returns NULL when absent or bad. */
const char *
bl_cfg__get_str(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];

	bl_cfg__join(p, path, key);
	if (v == NULL) {
		if (required)
			bl_diag_add(r->diag, "%s: required, missing", p);
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		bl_diag_add(r->diag, "%s: must be a string, got %s", p, bl_json_type(v));
		return NULL;
	}
	return v->valuestring;
}

_Static_assert(BL_CFG_NAME_MAX == BL_INSTANCE_NAME_MAX, "instance and port names: one rule");

/* Instance and port names: the rule clients check too (bl_stream_proto.h). */
bool
bl_cfg__name_ok(const char *s, size_t max)
{
	return max == BL_INSTANCE_NAME_MAX && bl_instance_name_ok(s, strlen(s));
}

void
bl_cfg__get_name(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
	 bool required, char *out)
{
	const char *s = bl_cfg__get_str(r, obj, path, key, required);
	char p[PATH_LEN];

	if (s == NULL)
		return;
	bl_cfg__join(p, path, key);
	if (!bl_cfg__name_ok(s, BL_CFG_NAME_MAX)) {
		bl_diag_add(r->diag,
			    "%s: must be 1..%d characters of letters, digits, '_' or '-', got \"%.40s\"",
			    p, BL_CFG_NAME_MAX - 1, s);
		return;
	}
	strcpy(out, s);
}

/* Does s hold exactly `n` hex digits from `at`? */
static bool
hex_run(const char *s, size_t at, size_t n)
{
	for (size_t i = at; i < at + n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * "0000:03:00.0" or "03:00.0", written strictly (no signs, spaces or 0x);
 * on success `norm` gets the long form, so one device has one spelling.
 */
bool
bl_cfg__pci_ok(const char *s, char norm[BL_CFG_NAME_MAX])
{
	size_t len = strlen(s), o = len == 12 ? 5 : 0;
	unsigned int dev, fn;

	if (len != 12 && len != 7)
		return false;
	if (o != 0 && (!hex_run(s, 0, 4) || s[4] != ':'))
		return false;
	if (!hex_run(s, o, 2) || s[o + 2] != ':' || !hex_run(s, o + 3, 2) || s[o + 5] != '.' ||
	    !hex_run(s, o + 6, 1))
		return false;
	dev = (unsigned int)strtoul((char[]){ s[o + 3], s[o + 4], 0 }, NULL, 16);
	fn = (unsigned int)strtoul((char[]){ s[o + 6], 0 }, NULL, 16);
	if (dev >= 32 || fn >= 8)
		return false;
	snprintf(norm, BL_CFG_NAME_MAX, "%.4s:%.7s", o != 0 ? s : "0000", s + o);
	for (char *c = norm; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return true;
}

/*
 * Copy a vdev spec, making the file paths it names absolute against `dir`.
 * Returns false (with a problem reported) when the spec is malformed.
 */
bool
bl_cfg__vdev_resolve(struct bl_cfg_rd *r, const char *path, const char *spec, char *out, size_t size)
{
	const char *comma = strchr(spec, ',');
	size_t dlen = comma ? (size_t)(comma - spec) : strlen(spec);
	struct bl_cfg_vdev_arg a;
	size_t n = 0;

	if (strncmp(spec, "net_", 4) != 0 || dlen <= 4) {
		bl_diag_add(r->diag,
			    "%s: must be a DPDK virtual device spec such as \"net_null0\" or "
			    "\"net_pcap0,rx_pcap=FILE\", got \"%.60s\"", path, spec);
		return false;
	}
	for (size_t i = 0; i < dlen; i++)
		if (!isalnum((unsigned char)spec[i]) && spec[i] != '_') {
			bl_diag_add(r->diag, "%s: device name \"%.*s\" may hold only letters, digits and '_'",
				    path, (int)dlen, spec);
			return false;
		}
	n = (size_t)snprintf(out, size, "%.*s", (int)dlen, spec);
	if (n >= size) {
		bl_diag_add(r->diag, "%s: the device name is longer than %zu characters", path, size - 1);
		return false;
	}
	for (const char *c = spec; bl_cfg__vdev_next(&c, &a);) {
		bool is_path = false;

		if (a.len == 0) {
			bl_diag_add(r->diag, "%s: empty argument in \"%.60s\"", path, spec);
			return false;
		}
		for (const char *const *k = vdev_path_keys; *k; k++)
			is_path |= bl_cfg__vdev_key_is(&a, *k);
		if (is_path && a.val[0] != '/' && r->dir != NULL && r->dir[0] != '\0')
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, ",%.*s=%s/%.*s",
					      (int)a.key_len, a.arg, r->dir, (int)a.val_len, a.val);
		else
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, ",%.*s", (int)a.len, a.arg);
		if (n >= size) {
			bl_diag_add(r->diag, "%s: longer than %zu characters once paths are resolved",
				    path, size - 1);
			return false;
		}
	}
	return true;
}

/* Does v hold a number that is not finite (1e999 reads as infinity, and prints as null)? */
bool
bl_cfg__non_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return !isfinite(v->valuedouble);
	for (const cJSON *c = v->child; c != NULL; c = c->next)   /* cJSON nests at most 1000 */
		if (bl_cfg__non_finite(c))
			return true;
	return false;
}
