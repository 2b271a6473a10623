/* SPDX-License-Identifier: BSD-3-Clause */
/* From the config's graphs (and fixed-forwarding workers) to graph replicas. */
#ifndef BL_APP_GRAPHS_H
#define BL_APP_GRAPHS_H

#include "app.h"

/*
 * Check every graph's text (syntax, filter names) without starting anything:
 * for --check. Problems go to diag, one line each, path first.
 */
int bl_app_graphs_check(const struct bl_cfg *cfg, struct bl_diag *diag);

/* The same, for a reload: the running streams do not count (the new config is
 * checked as if it started afresh), against the running pool of pool_n mbufs (0: the
 * size the config would give it). */
int bl_app_graphs_check_beside(const struct bl_cfg *cfg, unsigned int pool_n,
			       struct bl_diag *diag);

/* bl_app_graphs_check for a config without mbufs.count, whose pool is sized from the
 * same dry run: against a pool without limit, and *rings the slots the graphs' streams
 * may hold in it (bl_cfg.rings_mbufs). One dry run, not two: a config of 4 MiB checks in
 * its time once. */
int bl_app_graphs_check_sizing(const struct bl_cfg *cfg, struct bl_diag *diag,
			       unsigned int *rings);

/*
 * The description the k-th graph source of cfg builds from (graphs first, then
 * workers; as a build parses it, common prefixes shared: the filter names are
 * those stats shows). 0, or -errno with err naming the source; g is always the
 * caller's to bl_gdesc_free.
 */
struct bl_gdesc;
int bl_app_graph_desc(const struct bl_cfg *cfg, unsigned int k, struct bl_gdesc *g,
		      struct bl_err *err);

/*
 * A reload's graphs (main lcore, workers running): the graph sources of ncfg that
 * run already (same text, same lcores) keep their replicas, state and counters;
 * the others are built beside the running ones (a stream that stays is taken
 * over, bl_stream_adopt), committed, and handed to the workers at a burst
 * boundary (a new epoch); the graphs no one runs are freed once every worker
 * passed it. On failure (err says why) nothing changed. The lcores must be
 * app's (the caller checked); port_id[i] is the DPDK port of ncfg's ports[i]
 * (open already: the caller opens added ports before and closes removed ones after).
 */
int bl_app_graphs_swap(struct bl_app *app, const struct bl_cfg *ncfg, const uint16_t *port_id,
		       struct bl_err *err);

/*
 * Build every replica on every worker lcore (EAL and ports are up). Returns 0,
 * or -EINVAL with the problem (path first) on stderr; what was built stays
 * in app->workers for bl_app_graphs_free.
 */
int bl_app_graphs_build(struct bl_app *app);

/* Log a warning for each port whose rx queues some rx polls, but not all of them. */
void bl_app_say_unpolled(const struct bl_app *app);

/* Every graph built and the appliance about to go live: commit them all. */
void bl_app_graphs_commit(struct bl_app *app);

void bl_app_graphs_free(struct bl_app *app);

#endif /* BL_APP_GRAPHS_H */
