/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reload — what SIGHUP (systemctl reload: ExecReload) does. The signal handler
 * only asks (bl_reload_ask); the main lcore's watch loop answers
 * (bl_reload_poll), so the answer runs on the slow path with no signal-safety
 * limits. Until live reconfiguration lands, the answer is a refusal: the
 * appliance says so and runs on, unchanged.
 */
#ifndef BL_RELOAD_H
#define BL_RELOAD_H

struct bl_app;

/* From a signal handler: async-signal-safe. */
void bl_reload_ask(void);

/* Main lcore: if a reload was asked since the last call, bl_app_reload it. */
void bl_reload_poll(struct bl_app *app);

/* Apply the config file anew. Today: -ENOTSUP, after saying so in the log. */
int bl_app_reload(struct bl_app *app);

#endif /* BL_RELOAD_H */
