/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * count — count packets and bytes, and pass them on with the class the
 * previous filter gave them (so `dport | count |80 x` still routes by port).
 * synopsis: count
 * edges:    the upstream classes, unchanged
 * state:    per-replica (the totals of all replicas are summed in stats)
 */
#include <errno.h>

#include "bl_filter_worker.h"

struct count {
	uint64_t packets;   /* (w) this lcore */
	uint64_t bytes;     /* (w) */
};

/* No arguments: any given is an error that names it. */
static int
count_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const none[] = { NULL };

	(void)f;
	return bl_args_only(args, none, false, err) < 0 ? -EINVAL : 0;
}

static void
count_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct count *c = bl_filter_priv(f);
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	bl_filter_pass(f, pkts, n);
	bl_counter_add(&c->packets, n);
	bl_counter_add(&c->bytes, bytes);
}

static const struct bl_counter_def count_counters[] = {
	BL_COUNTER(struct count, packets, "packets", "packets counted"),
	BL_COUNTER(struct count, bytes, "bytes", "their bytes (pkt_len: every segment, no CRC)"),
};

BL_FILTER_REGISTER(count) = {
	.summary = "count packets and bytes, per class",
	.synopsis = "count",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.flags = BL_FILTER_F_PASSES_CLASS,
	.counters_doc = "per class: the counts every filter has",
	.state_doc = "per-replica counters, summed in stats",
	.priv_size = sizeof(struct count),
	.init = count_init,
	.process = count_process,
	BL_FILTER_COUNTERS(count_counters),
};
