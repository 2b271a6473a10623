/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a swap leaves behind when a worker does not pass its epoch in time.
 *
 * A reload, an edit or a tap's end publishes new run sets, then waits (10 s at
 * most) until every worker has passed the new epoch before it frees what no
 * worker runs any more: the dead graphs, the replaced run sets, the ports no
 * graph polls. A worker can be held longer than that (a `pcap file=` sink
 * writing into a FIFO nobody drains, a disk that stalls): then those things
 * wait here, and the main lcore's watch loop frees them the first tick every
 * worker has passed their epoch. At exit, once the workers have stopped, they
 * go in any case. Main lcore only.
 */
#ifndef BL_LIMBO_H
#define BL_LIMBO_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_cfg.h"

struct bl_app;
struct bl_graph;

/* Free fn(arg) once every worker has passed epoch (a graph, a run set, a port, a tap).
 * what names it in the log ("graph", "port \"in\""). Cannot fail: with no room left,
 * the thing is kept for good and that is said. */
void bl_limbo_add(struct bl_app *app, uint64_t epoch, void (*fn)(void *), void *arg,
		  const char *what);

/* A port no graph polls once every worker has passed epoch: closed then (its config
 * copied: the running config may no longer list it). */
void bl_limbo_add_port(struct bl_app *app, uint64_t epoch, const struct bl_cfg_port *p,
		       uint16_t port_id);

/* Every worker's replaced run set (run_old), to be freed once every worker passed epoch. */
void bl_limbo_add_runs(struct bl_app *app, uint64_t epoch);

/* Free what every worker is past (all of it with force: the workers have stopped).
 * Says in the log what went. Called each tick of the watch loop. */
void bl_limbo_reap(struct bl_app *app, bool force);

/* Things waiting (for stats). */
unsigned int bl_limbo_count(void);

#endif /* BL_LIMBO_H */
