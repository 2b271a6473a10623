/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rx — receive bursts from a port's rx queues.
 * synopsis: rx port=NAME [queue=Q]
 * edges:    out (class 1): every packet received
 * state:    per-replica: replica i of n polls the queues q with q % n == i,
 *           or only queue Q when given (then one replica only)
 *
 * Nothing a driver hands over is trusted: every mbuf is checked
 * (bl_mbuf_check: its chain is as long as nb_segs says and its segments add
 * up to pkt_len) before any filter reads it; one that fails is freed and
 * counted in `malformed`. A sound single-segment mbuf costs about 3 cycles,
 * reading only the cache line the driver has just written; chains are walked.
 */
#include <errno.h>

#include <rte_ethdev.h>

#include "bl_atomic.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_mbuf_check.h"

struct rx {
	uint64_t malformed; /* (w) this replica's lcore; read live by stats (rx_counters) */
	uint64_t claimed;   /* the queues this instance claimed in env->rx_claims */
	uint16_t port_idx;
	uint16_t port_id;
	uint16_t n_q;
	uint16_t next;
	uint16_t q[64];
};

static int
rx_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "port", "queue", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct rx *rx = bl_filter_priv(f);
	const struct bl_graph_port *p;
	const char *name = NULL;
	uint32_t queue = UINT32_MAX;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "port", &name, err) < 0)
		return -EINVAL;
	if (name == NULL)
		return bl_err_set(err, -EINVAL, "port: required (rx port=NAME)");
	if ((p = bl_graph_port(f, name, "port", err)) == NULL)
		return -ENODEV;
	if (bl_args_u32(args, "queue", 0, p->rx_queues - 1u, &queue, err) < 0)
		return -EINVAL;
	rx->port_id = p->port_id;
	if (queue != UINT32_MAX) {
		if (env->n_replicas > 1)
			return bl_err_set(err, -EINVAL, "queue: a graph with %u replicas cannot poll one "
					  "queue from each; leave queue out", env->n_replicas);
		rx->q[rx->n_q++] = (uint16_t)queue;
	} else {
		for (uint16_t q = 0; q < p->rx_queues && rx->n_q < 64; q++)
			if (q % env->n_replicas == env->replica)
				rx->q[rx->n_q++] = q;
	}
	if (rx->n_q == 0)
		return bl_err_set(err, -EINVAL, "port: \"%s\" has %u rx queue%s, too few for replica %u "
				  "of %u; give it rx_queues >= %u", name, p->rx_queues,
				  p->rx_queues == 1 ? "" : "s", env->replica, env->n_replicas, env->n_replicas);
	rx->port_idx = (uint16_t)(p - env->ports);
	if (env->rx_claims != NULL) {
		uint64_t want = 0;
		for (uint16_t i = 0; i < rx->n_q; i++)
			want |= 1ull << rx->q[i];
		uint64_t taken = env->rx_claims[rx->port_idx] & want;
		if (taken != 0)
			return bl_err_set(err, -EBUSY, "port: \"%s\" rx queue %d is already polled by "
					  "another rx; a queue has one poller", name, __builtin_ctzll(taken));
		env->rx_claims[rx->port_idx] |= want;
		rx->claimed = want;
	}
	return 0;
}

static void
rx_fini(struct bl_filter *f)
{
	const struct bl_graph_env *env = bl_graph_env(f);
	struct rx *rx = bl_filter_priv(f);

	if (env->rx_claims != NULL)
		env->rx_claims[rx->port_idx] &= ~rx->claimed;
}

/* Drop the unsound mbufs of pkts[from..n), the first of which is unsound; the count kept. */
static __rte_noinline __rte_cold uint16_t
rx_drop_malformed(struct rx *rx, struct rte_mbuf **pkts, uint16_t from, uint16_t n)
{
	uint16_t kept = from;

	for (uint16_t i = from; i < n; i++) {
		if (bl_mbuf_check(pkts[i]) == BL_MBUF_OK)
			pkts[kept++] = pkts[i];
		else
			bl_mbuf_free_bad(pkts[i]);
	}
	bl_counter_add(&rx->malformed, (uint64_t)(n - kept));  /* relaxed: pairs with bl_filter_counters */
	return kept;
}

static uint16_t
rx_poll(struct bl_filter *f, uint16_t max)
{
	struct rx *rx = bl_filter_priv(f);
	struct rte_mbuf **pkts = bl_filter_emit_slots(f);
	uint16_t q = rx->q[rx->next];
	uint16_t n;

	if (rx->n_q > 1 && ++rx->next == rx->n_q)
		rx->next = 0;
	n = rte_eth_rx_burst(rx->port_id, q, pkts, RTE_MIN(max, bl_filter_emit_room(f)));
	for (uint16_t i = 0; i < n; i++)
		if (unlikely(bl_mbuf_check(pkts[i]) != BL_MBUF_OK)) {
			n = rx_drop_malformed(rx, pkts, i, n);
			break;
		}
	bl_filter_emit_commit(f, n, 1);
	return n;
}

static const struct bl_counter_def rx_counters[] = {
	BL_COUNTER(struct rx, malformed, "malformed",
		   "mbufs the driver handed over whose chain is unsound (nb_segs not its length, "
		   "segments that do not add up to pkt_len, data past its buffer), freed and not "
		   "passed on; the port's own rx counts them too (the port's counters are in "
		   "stats.ports)"),
};

BL_FILTER_REGISTER(rx) = {
	.summary = "receive packets from a port",
	.synopsis = "rx port=NAME [queue=Q]",
	.args_doc = "port: the port's name in the config (required)\n"
		    "queue: poll only this rx queue (default: this replica's share of the queues)",
	.edges_doc = "out (class 1): every packet received",
	.state_doc = "per-replica: replica i of n polls the queues q with q % n == i",
	.flags = BL_FILTER_F_SOURCE | BL_FILTER_F_SPLIT,
	.priv_size = sizeof(struct rx),
	.init = rx_init,
	.fini = rx_fini,
	.poll = rx_poll,
	BL_FILTER_COUNTERS(rx_counters),
	.edges = { "out" },
};
