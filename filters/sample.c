/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sample — pass one packet in every N on "out", the rest on "rest".
 * synopsis: sample every=N
 * edges:    out (class 1), rest (class 2)
 * state:    per-replica (each replica picks one in N of what it sees)
 */
#include <errno.h>

#include "bl_filter_worker.h"

enum sample_edge { SAMPLE_OUT = 1, SAMPLE_REST = 2 };

struct sample {
	uint32_t every;   /* config */
	uint32_t left;    /* packets until the next pick */
};

static int
sample_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "every", NULL };
	struct sample *s = bl_filter_priv(f);

	s->every = 0;
	if (bl_args_only(args, keys, false, err) < 0 ||
	    bl_args_u32(args, "every", 1, UINT32_MAX, &s->every, err) < 0)
		return -EINVAL;
	if (s->every == 0)
		return bl_err_set(err, -EINVAL, "every: required (sample every=N, N >= 1)");
	s->left = s->every;
	return 0;
}

static void
sample_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct sample *s = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++) {
		enum sample_edge e = SAMPLE_REST;
		if (--s->left == 0) {
			s->left = s->every;
			e = SAMPLE_OUT;
		}
		bl_filter_emit(f, e, pkts[i]);
	}
}

BL_FILTER_REGISTER(sample) = {
	.summary = "pass 1 in N packets on out, the rest on rest",
	.synopsis = "sample every=N",
	.args_doc = "every: N >= 1 (required)",
	.edges_doc = "out (class 1): one packet in N\nrest (class 2): the others",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: each replica picks one in N of what it sees",
	.priv_size = sizeof(struct sample),
	.init = sample_init,
	.process = sample_process,
	.edges = { "out", "rest" },
};
