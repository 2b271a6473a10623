/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_feed — the source filter `fzfeed` of the harnesses that run a graph
 * (classify, tcpstream): it hands out, a burst at a time, the packets the
 * harness queued in it. What is still queued when the graph is freed is freed.
 */
#ifndef BL_FUZZ_FEED_H
#define BL_FUZZ_FEED_H

#include <stdbool.h>

struct bl_args;
struct bl_err;
struct bl_filter;
struct bl_graph;
struct rte_mbuf;

#define FZFEED_MAX 32   /* packets queued at once */

struct fzfeed {
	unsigned int n, head;   /* queued; handed out */
	struct rte_mbuf *q[FZFEED_MAX];
};

/* An init for a fuzz-only filter that takes no argument (any given is an error). */
int fuzz_no_args(struct bl_filter *f, const struct bl_args *args, struct bl_err *err);

/* The feed named "fzfeed" in g (aborts if there is none). */
struct fzfeed *fzfeed_of(struct bl_graph *g);

/* Queue m (the caller checks fzfeed_full first). */
void fzfeed_push(struct fzfeed *q, struct rte_mbuf *m);

static inline bool
fzfeed_full(const struct fzfeed *q)
{
	return q->n == FZFEED_MAX;
}

/* Every queued packet was handed out: start an empty queue. */
static inline void
fzfeed_reset(struct fzfeed *q)
{
	q->n = q->head = 0;
}

#endif /* BL_FUZZ_FEED_H */
