/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop — drop every packet (class 0), counted as the filter's drops.
 * synopsis: drop
 * edges:    none (a sink)
 * state:    stateless
 */
#include "bl_filter_worker.h"

static void
drop_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		bl_filter_emit(f, 0, pkts[i]);
}

BL_FILTER_REGISTER(drop) = {
	.summary = "drop every packet",
	.synopsis = "drop",
	.args_doc = "none",
	.edges_doc = "none: a sink; every packet is class 0",
	.counters_doc = "none beyond the common ones (dropped)",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_SINK | BL_FILTER_F_STATELESS,
	.process = drop_process,
};
