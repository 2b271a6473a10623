/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tee — pass every packet on "out" and a private deep copy of it on "copy",
 * for a branch that will rewrite its packets (a plain split shares them).
 * synopsis: tee
 * edges:    out (class 1): the packet; copy (class 2): its copy
 * counters: the common copies, copy_fail (no mbuf for a copy: only out gets it) and
 *           overflow (no room in the emit buffer for a copy: only out gets it)
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

/*
 * Each packet goes on out, its copy right after it on copy, as long as the emit
 * buffer has room for the copy and for every packet still to come: an input of
 * more than half a burst (burst > 128, or fan-in) would else push the last
 * packets out of the buffer, originals and copies alike. The copies that do not
 * fit are given up, never made, and counted as overflow.
 */
static void
tee_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mempool *mp = bl_graph_env(f)->pool;
	uint16_t room = bl_filter_emit_room(f);
	uint16_t n_copy = room > n ? RTE_MIN(n, (uint16_t)(room - n)) : 0;
	uint64_t copies = 0, failed = 0;

	for (uint16_t i = 0; i < n_copy; i++) {
		struct rte_mbuf *c = rte_pktmbuf_copy(pkts[i], mp, 0, UINT32_MAX);
		bl_filter_emit(f, 1, pkts[i]);
		if (likely(c != NULL)) {
			copies++;
			bl_filter_emit(f, 2, c);
		} else {
			failed++;
		}
	}
	for (uint16_t i = n_copy; i < n; i++)
		bl_filter_emit(f, 1, pkts[i]);
	bl_counter_add(&f->st.copies, copies);
	bl_counter_add(&f->st.copy_fail, failed);
	if (unlikely(n_copy != n))
		bl_counter_add(&f->st.overflow, n - n_copy);
}

BL_FILTER_REGISTER(tee) = {
	.summary = "pass each packet on out and a deep copy on copy",
	.synopsis = "tee",
	.args_doc = "none",
	.edges_doc = "out (class 1): the packet\ncopy (class 2): a private copy of it",
	.counters_doc = "copies (copies emitted), copy_fail (no mbuf for the copy), overflow (copies "
			"given up: an input of more than half a burst leaves no room in the emit buffer "
			"for them all; the first packets are copied); out still gets every packet",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = tee_init,
	.process = tee_process,
	.edges = { "out", "copy" },
};
