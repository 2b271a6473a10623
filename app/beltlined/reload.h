/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload: move the running appliance to a new config (SIGHUP, the control
 * socket's reload op, `beltline reload`) without a restart. Main lcore only.
 */
#ifndef BL_APP_RELOAD_H
#define BL_APP_RELOAD_H

#include "app.h"
#include "bl_err.h"

/*
 * Read path (NULL: the file the appliance runs from), refuse what needs a
 * restart (lcores, memory, the pool, ports), dry-run the whole config, then
 * swap the graphs (bl_app_graphs_swap). 0, or -errno with err saying why:
 * the old config then runs on, untouched. Logs one line either way.
 */
int bl_app_reload(struct bl_app *app, const char *path, struct bl_err *err);

/*
 * The same from a config in hand: the running one with a graph's text edited live
 * (edit.c: beltline mount's mkdir, rmdir). `what` says which edit, in the log line
 * and in errors. 0 (ncfg is app->cfg then, and counted in app->live_edits), or
 * -errno with err saying why: the running config then runs on, untouched.
 */
int bl_app_reload_edited(struct bl_app *app, struct bl_cfg *ncfg, const char *what,
			 struct bl_err *err);

/* A reload was asked for (signal-safe: SIGHUP); the watch loop runs it. */
void bl_app_reload_ask(void);
/* Taken by the watch loop: whether one was asked for since. */
bool bl_app_reload_asked(void);

#endif /* BL_APP_RELOAD_H */
