/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the config reader's files share (bl_cfg_value.c: keys and typed values with
 * their diagnostics; bl_cfg.c: the sections; bl_cfg_load.c: text, file and flags in).
 * Every reader reports into r->diag, each problem one line starting with its JSON path.
 */
#ifndef BL_CFG_PVT_H
#define BL_CFG_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bl_cfg.h"

#define PATH_LEN 160

struct bl_cfg_rd {
	struct bl_diag *diag;
	const char *dir;
};

/* ---- bl_cfg_value.c ---- */

/* Report keys of `obj` not in `known`, and keys given twice. */
void bl_cfg__check_keys(struct bl_cfg_rd *r, const cJSON *obj, const char *path,
			const char *const *known);
/* out = path.key (PATH_LEN bytes), or key alone at the top. */
void bl_cfg__join(char *out, const char *path, const char *key);
/* An optional unsigned integer in [min, max]; absent keeps *out. */
bool bl_cfg__get_uint(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
		      unsigned long min, unsigned long max, unsigned int *out);
bool bl_cfg__get_u16(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
		     unsigned long min, unsigned long max, uint16_t *out);
/* A string key; `required` reports its absence. Returns NULL when absent or bad. */
const char *bl_cfg__get_str(struct bl_cfg_rd *r, const cJSON *obj, const char *path,
			    const char *key, bool required);
/* Instance and port names: the rule clients check too (bl_stream_proto.h). */
bool bl_cfg__name_ok(const char *s, size_t max);
void bl_cfg__get_name(struct bl_cfg_rd *r, const cJSON *obj, const char *path, const char *key,
		      bool required, char *out);
/* A PCI address, written strictly; `norm` gets its long form. */
bool bl_cfg__pci_ok(const char *s, char norm[BL_CFG_NAME_MAX]);
/* A vdev spec copied, the file paths it names made absolute against r->dir. */
bool bl_cfg__vdev_resolve(struct bl_cfg_rd *r, const char *path, const char *spec, char *out,
			  size_t size);
/* One argument of a vdev spec ("net_pcap0,rx_pcap=F,iface=x"): arg..arg+len, and key
 * and value when it has a '=' (key_len 0 and val NULL when not). */
struct bl_cfg_vdev_arg {
	const char *arg, *val;
	size_t len, key_len, val_len;
};

/* The argument after *cursor (a spec at first, then where the last call left it): false
 * when there is none. Usage: for (c = spec; bl_cfg__vdev_next(&c, &a);) ... */
static inline bool
bl_cfg__vdev_next(const char **cursor, struct bl_cfg_vdev_arg *a)
{
	const char *c = *cursor != NULL ? strchr(*cursor, ',') : NULL, *eq, *end;

	if (c == NULL)
		return false;
	a->arg = c + 1;
	end = strchr(a->arg, ',');
	a->len = end != NULL ? (size_t)(end - a->arg) : strlen(a->arg);
	eq = memchr(a->arg, '=', a->len);     /* within this argument only */
	a->key_len = eq != NULL ? (size_t)(eq - a->arg) : 0;
	a->val = eq != NULL ? eq + 1 : NULL;
	a->val_len = eq != NULL ? a->len - a->key_len - 1 : 0;
	*cursor = end;
	return true;
}

/* Whether argument a's key is key. */
static inline bool
bl_cfg__vdev_key_is(const struct bl_cfg_vdev_arg *a, const char *key)
{
	return a->val != NULL && a->key_len == strlen(key) && strncmp(a->arg, key, a->key_len) == 0;
}

/* Does v hold a number that is not finite? */
bool bl_cfg__non_finite(const cJSON *v);

/* ---- bl_cfg.c ---- */

void bl_cfg__port_defaults(struct bl_cfg_port *p);
/* The top-level object: every section into cfg. */
void bl_cfg__read_top(struct bl_cfg_rd *r, const cJSON *root, struct bl_cfg *cfg);

#endif
