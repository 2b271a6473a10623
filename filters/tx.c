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
	bool single_seg;      /* the device cannot send chains */
	uint64_t sent;        /* (w) this lcore */
	uint64_t dropped;     /* (w) */
	uint64_t linearized;  /* (w) chains made one segment for a device that cannot send them */
	uint64_t chain_dropped; /* (w) chains too long for one segment (or no mbuf to copy): freed */
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
	tx->single_seg = p->tx_single_seg;
	return 0;
}

/* A chain that is not this path's alone (shared by a split or a tap, attached to
 * another's buffer or to an external one: an inject writer's, mapped read-only): a
 * copy of one segment from its own pool, or NULL (too long for one, or no mbuf). The
 * reference given is let go either way. */
static struct rte_mbuf *
tx_copy_flat(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

	rte_pktmbuf_free(m);
	if (c != NULL && c->nb_segs != 1) {
		rte_pktmbuf_free(c);
		c = NULL;
	}
	return c;
}

/* For a device that cannot send chains: each chain copied into its first segment
 * (rte_pktmbuf_linearize; one not this path's alone, into a copy of one segment), or,
 * too long for it, freed and counted. The burst is compacted in place; the packets
 * left to send. Cold: rx makes chains only of frames larger than one mbuf. (A chain
 * shared by a split or a tap was freed as too long: a tap changed what tx sent.) */
static __rte_noinline uint16_t
tx_unchain(struct tx *tx, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (m->nb_segs > 1) {
			bool own = rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m);

			if (own ? rte_pktmbuf_linearize(m) != 0 : (m = tx_copy_flat(m)) == NULL) {
				if (own)
					rte_pktmbuf_free(m);
				bl_counter_add(&tx->chain_dropped, 1);
				continue;
			}
			bl_counter_add(&tx->linearized, 1);
		}
		pkts[k++] = m;
	}
	return k;
}

static void
tx_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct tx *tx = bl_filter_priv(f);
	uint16_t sent;

	if (unlikely(tx->single_seg))
		for (uint16_t i = 0; i < n; i++)
			if (unlikely(pkts[i]->nb_segs > 1)) {
				n = tx_unchain(tx, pkts, n);
				break;
			}
	sent = rte_eth_tx_burst(tx->port_id, tx->queue, pkts, n);

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
	BL_COUNTER(struct tx, linearized, "linearized", "chained packets copied into one "
		   "segment: the device cannot send chains"),
	BL_COUNTER(struct tx, chain_dropped, "chain_dropped", "chained packets too long for one "
		   "segment, or no mbuf for the copy (the device cannot send chains): freed and "
		   "counted"),
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
