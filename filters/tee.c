/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tee — pass every packet on "out" and a private deep copy of it on "copy",
 * for a branch that will rewrite its packets (a plain split shares them).
 * synopsis: tee
 * edges:    out (class 1): the packet; copy (class 2): its copy
 * counters: the common copies and copy_fail (no mbuf for a copy: only out gets it)
 * state:    stateless
 */
#include <errno.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"

/* No arguments: any given is an error that names it. */
static int
tee_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const none[] = { NULL };

	(void)f;
	return bl_args_only(args, none, false, err) < 0 ? -EINVAL : 0;
}

static void
tee_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mempool *mp = bl_graph_env(f)->pool;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *c = rte_pktmbuf_copy(pkts[i], mp, 0, UINT32_MAX);
		bl_filter_emit(f, 1, pkts[i]);
		if (likely(c != NULL)) {
			bl_counter_add(&f->st.copies, 1);
			bl_filter_emit(f, 2, c);
		} else {
			bl_counter_add(&f->st.copy_fail, 1);
		}
	}
}

BL_FILTER_REGISTER(tee) = {
	.summary = "pass each packet on out and a deep copy on copy",
	.synopsis = "tee",
	.args_doc = "none",
	.edges_doc = "out (class 1): the packet\ncopy (class 2): a private copy of it",
	.counters_doc = "copies, copy_fail (no mbuf for the copy; out still gets the packet)",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = tee_init,
	.process = tee_process,
	.edges = { "out", "copy" },
};
