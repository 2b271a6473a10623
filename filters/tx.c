/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tx — send bursts out of a port, on this replica's own tx queue.
 * synopsis: tx port=NAME
 * edges:    none (a sink)
 * state:    per-replica (each replica has a tx queue of its own)
 */
#include <errno.h>

#include <rte_ethdev.h>

#include "bl_atomic.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"

struct tx {
	uint16_t port_id;
	uint16_t queue;
	uint64_t sent;        /* (w) this lcore */
	uint64_t dropped;     /* (w) */
};

static int
tx_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "port", NULL };
	struct tx *tx = bl_filter_priv(f);
	const struct bl_graph_port *p;
	const char *name = NULL;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "port", &name, err) < 0)
		return -EINVAL;
	if (name == NULL)
		return bl_err_set(err, -EINVAL, "port: required (tx port=NAME)");
	if ((p = bl_graph_port(f, name, "port", err)) == NULL)
		return -ENODEV;
	if (p->tx_queue >= p->tx_queues && p->tx_queues_device)
		return bl_err_set(err, -EINVAL, "port: \"%s\"'s device has %u tx queue%s, and this "
				  "worker lcore needs queue %u of its own: send to it from at most %u "
				  "worker lcore%s (the graphs with tx port=%s on fewer lcores)", name,
				  p->tx_queues, p->tx_queues == 1 ? "" : "s", p->tx_queue, p->tx_queues,
				  p->tx_queues == 1 ? "" : "s", name);
	if (p->tx_queue >= p->tx_queues)
		return bl_err_set(err, -EINVAL, "port: \"%s\" has %u tx queue%s; this worker lcore needs "
				  "queue %u of its own: give the port tx_queues >= %u (or leave it out: "
				  "one per worker lcore)", name, p->tx_queues, p->tx_queues == 1 ? "" : "s",
				  p->tx_queue, p->tx_queue + 1u);
	tx->port_id = p->port_id;
	tx->queue = p->tx_queue;
	return 0;
}

static void
tx_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct tx *tx = bl_filter_priv(f);
	uint16_t sent = rte_eth_tx_burst(tx->port_id, tx->queue, pkts, n);

	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		bl_counter_add(&tx->dropped, n - sent);
	}
	bl_counter_add(&tx->sent, sent);
}

/* Roles, not names, let stats sum what tx filters sent per port and queue. */
static const struct bl_counter_def tx_counters[] = {
	BL_COUNTER_AS(struct tx, sent, "tx", "packets sent", BL_COUNTER_TX),
	BL_COUNTER_AS(struct tx, dropped, "tx_dropped", "the tx ring was full: freed and counted",
		      BL_COUNTER_TX_DROPPED),
	BL_GAUGE_AS(struct tx, port_id, "port_id", "the ethdev port it sends on", BL_COUNTER_PORT_ID),
	BL_GAUGE_AS(struct tx, queue, "queue", "the tx queue it sends on", BL_COUNTER_QUEUE),
};

BL_FILTER_REGISTER(tx) = {
	.summary = "send packets out of a port",
	.synopsis = "tx port=NAME",
	.args_doc = "port: the port's name in the config (required)",
	.edges_doc = "none: a sink",
	.state_doc = "per-replica: each replica sends on a tx queue of its own",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct tx),
	.init = tx_init,
	.process = tx_process,
	BL_FILTER_COUNTERS(tx_counters),
};
