/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop — drop every packet (class 0), counted as the filter's drops.
 * synopsis: drop
 * edges:    none (a sink)
 * state:    stateless
 */
#include <errno.h>

#include "bl_filter_worker.h"

/* No arguments: any given is an error that names it. */
static int
drop_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const none[] = { NULL };

	(void)f;
	return bl_args_only(args, none, false, err) < 0 ? -EINVAL : 0;
}

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
	.init = drop_init,
	.process = drop_process,
};
