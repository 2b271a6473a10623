/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of a graph, shared by its build and run code only. */
#ifndef BL_GRAPH_PVT_H
#define BL_GRAPH_PVT_H

#include <stdbool.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"

#define BL_GRAPH_MAX_ROUNDS 8     /* passes through a cyclic graph per run */
#define BL_GRAPH_CYCLE_SAMPLE 32  /* cycles are measured on one pass in this many */

struct bl_graph {
	struct bl_graph_env env;
	unsigned int n_filters, n_sources, n_tickers;
	bool has_cycle;
	uint64_t pass;                              /* passes made (joins: bl_filter_graph_pass) */
	struct bl_filter *filters[BL_GRAPH_MAX_NODES];   /* in description order */
	struct bl_filter *order[BL_GRAPH_MAX_NODES];     /* topological (sources first) */
	struct bl_filter *sources[BL_GRAPH_MAX_NODES];
	struct bl_filter *tickers[BL_GRAPH_MAX_NODES];   /* filters with a .tick */
	bool inited[BL_GRAPH_MAX_NODES];
	unsigned int n_adopted;                     /* filters that took a running one's state */
	struct bl_graph_stats st;
};

/* Build: the run order of g's filters (g->order), has_cycle, each filter's cyclic, the
 * sources and the tickers (bl_graph_order.c). */
void bl_graph__order(struct bl_graph *g);

#endif /* BL_GRAPH_PVT_H */
