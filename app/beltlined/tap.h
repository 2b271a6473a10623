/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Taps (beltline tap, docs/taps.md): a temporary export hung on a running
 * filter's output, or one of its out-edges, without touching the config or
 * rebuilding a graph. Main lcore only.
 */
#ifndef BL_APP_TAP_H
#define BL_APP_TAP_H

#include "app.h"
#include "bl_err.h"

struct cJSON;
struct bl_stream_cred;

/*
 * The control socket's tap op: {"filter": "[ORIGIN/]NAME[:EDGE]", "bpf": EXPR,
 * "policy": "srp|mrp|frp", "capacity": N}. Makes the stream "tap.N" (the packet
 * DBuf's owner, group and mode: zero copy; who may not read that DBuf may not
 * tap) and hooks it on the filter; the reply is {"stream": "tap.N", "streams":
 * [...], ...}. A filter of a graph on several lcores gets a tap (a stream: one
 * writer) on each replica, all listed in "streams". The caller then attaches to
 * each as to any stream. NULL with err (-ENOENT: no such
 * filter or edge, -EINVAL: bad bpf or policy, -EACCES, -ENOSPC: too many taps).
 * A filter may carry several taps, each with its own edge, bpf and stream.
 */
struct cJSON *bl_app_tap_open(struct bl_app *app, const struct bl_stream_cred *who,
			      const struct cJSON *req, struct bl_err *err);

/*
 * A reload (graphs.c), its new graphs committed, before the workers get them: nw
 * are the new views of app->workers. A tap on a filter that a new graph adopts
 * (bl_graph_env.adopt) moves its hook to the new instance, so it goes on through
 * the swap without a gap; a tap whose filter (or tapped edge) the new config
 * removes or changes is marked to end at the next tick, with the reason logged.
 */
void bl_app_taps_carry(struct bl_app *app, const struct bl_worker *nw);

/* Every control tick: a tap whose last reader left (or that no one attached to in
 * BL_TAP_FIRST_MS), or whose filter a reload dropped, goes. */
#define BL_TAP_FIRST_MS 10000
void bl_app_taps_tick(struct bl_app *app);

/* Shutdown: every tap goes (before the streams and the pool do). */
void bl_app_taps_stop(struct bl_app *app);

#endif /* BL_APP_TAP_H */
