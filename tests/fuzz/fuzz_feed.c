/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_feed — the fzfeed source filter (fuzz_feed.h). */
#include <errno.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "fuzz_feed.h"

int
fuzz_no_args(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };

	(void)f;
	return bl_args_only(args, keys, false, err) < 0 ? -EINVAL : 0;
}

static uint16_t
fzfeed_poll(struct bl_filter *f, uint16_t max)
{
	struct fzfeed *q = bl_filter_priv(f);
	uint16_t n = 0, room = RTE_MIN(max, bl_filter_emit_room(f));

	while (n < room && q->head < q->n) {
		bl_filter_emit(f, 1, q->q[q->head++]);
		n++;
	}
	return n;
}

static void
fzfeed_fini(struct bl_filter *f)
{
	struct fzfeed *q = bl_filter_priv(f);

	while (q->head < q->n)
		rte_pktmbuf_free(q->q[q->head++]);
}

BL_FILTER_REGISTER(fzfeed) = {
	.summary = "fuzz only: hand out the packets queued",
	.synopsis = "fzfeed",
	.args_doc = "none",
	.edges_doc = "class 1",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: the queue",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct fzfeed),
	.init = fuzz_no_args,
	.fini = fzfeed_fini,
	.poll = fzfeed_poll,
	.edges = { "out" },
};

struct fzfeed *
fzfeed_of(struct bl_graph *g)
{
	struct bl_filter *f = bl_graph_filter_by_name(g, "fzfeed");

	if (f == NULL)
		abort();
	return bl_filter_priv(f);
}

void
fzfeed_push(struct fzfeed *q, struct rte_mbuf *m)
{
	if (q->n == FZFEED_MAX)
		abort();   /* the harness's own mistake */
	q->q[q->n++] = m;
}
