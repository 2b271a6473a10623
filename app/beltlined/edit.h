/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live edits of a running graph: a filter added after another, or one removed
 * (beltline mount's mkdir and rmdir; the control socket's edit op, docs/control.md).
 * Main lcore only.
 */
#ifndef BL_APP_EDIT_H
#define BL_APP_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "bl_err.h"

struct bl_edit {
	unsigned int graph;      /* graphs[graph] of the running config */
	bool remove;             /* false: add `filter` after `parent`; true: remove it */
	const char *parent;      /* the filter that feeds it (NULL: none named) */
	const char *filter;      /* add: the new filter's text ("count", "bpf \"tcp\"");
	                          * remove: its name, as stats shows it */
	const char *label;       /* add: the new edge's label as after "|" (NULL or "": plain) */
};

/*
 * Edit the running config's graph text as asked and reload it (reload.c: the same
 * checks, dry run and swap; the filters that stay keep their state and counters,
 * the parent of the branch too). The config file is not written. On success `name`
 * holds the added (or removed) filter's name. 0, or -errno with err saying why
 * (-EINVAL bad text, -ENOENT no such filter or edge, -EEXIST an identical filter
 * there already, -ENOTEMPTY it feeds others, -EACCES a source): nothing changed,
 * and the refusal is logged.
 */
int bl_app_edit(struct bl_app *app, const struct bl_edit *ed, char *name, size_t name_len,
		struct bl_err *err);

#endif /* BL_APP_EDIT_H */
