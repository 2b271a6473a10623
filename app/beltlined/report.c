/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The final counters, as JSON on stdout: ports (and their queues), every
 * graph replica with its filters and edges, the workers, the mbuf pool.
 * Every drop in the appliance is one of these numbers.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_atomic.h"
#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_filter_worker.h"
#include "bl_pipe.h"
#include "bl_port.h"

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

/* tx and tx_dropped of the filters sending on (port, queue): found by their counters'
 * roles (bl_counter_role), not by their names. */
static void
tx_filter_counts(const struct bl_app *app, uint16_t port_id, int queue, uint64_t *tx, uint64_t *drop)
{
	*tx = *drop = 0;
	for (unsigned int i = 0; i < app->n_workers; i++) {
		const struct bl_worker *w = &app->workers[i];
		for (unsigned int g = 0; g < w->n_graphs; g++)
			for (unsigned int k = 0; k < bl_graph_n_filters(w->graphs[g]); k++) {
				const struct bl_filter *f = bl_graph_filter(w->graphs[g], k);
				uint64_t t = 0, d = 0, port, q = 0;

				if (bl_filter_counter_role(f, BL_COUNTER_PORT_ID, &port) < 0 ||
				    port != port_id)
					continue;
				bl_filter_counter_role(f, BL_COUNTER_QUEUE, &q);
				bl_filter_counter_role(f, BL_COUNTER_TX, &t);
				bl_filter_counter_role(f, BL_COUNTER_TX_DROPPED, &d);
				if (queue < 0 || q == (uint64_t)queue) {
					*tx += t;
					*drop += d;
				}
			}
	}
}

static void
port_json(const struct bl_app *app, unsigned int p, const struct bl_port_hw_stats *hw, cJSON *ports)
{
	const struct bl_cfg_port *cp = &app->cfg.ports[p];
	cJSON *o = cJSON_AddObjectToObject(ports, cp->name), *qs;
	struct rte_eth_stats es;
	uint64_t tx, drop;

	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(app->port_id[p], &es);
	tx_filter_counts(app, app->port_id[p], -1, &tx, &drop);
	cJSON_AddStringToObject(o, "device", cp->pci[0] ? cp->pci : cp->vdev);
	N(o, "rx", hw->ipackets);
	N(o, "tx", hw->opackets);
	N(o, "tx_dropped", drop);
	N(o, "rx_nombuf", hw->rx_nombuf);
	N(o, "imissed", hw->imissed);
	N(o, "ierrors", hw->ierrors);
	N(o, "oerrors", hw->oerrors);
	N(o, "replay_unmatched", hw->replay_unmatched);
	N(o, "rx_flushed_at_stop", app->rx_flushed[p]);
	N(o, "rx_bytes", hw->ibytes);
	N(o, "tx_bytes", hw->obytes);
	qs = cJSON_AddArrayToObject(o, "rx_queues");
	for (unsigned int q = 0; q < cp->rx_queues; q++) {
		cJSON *e = cJSON_CreateObject();
		N(e, "rx", q < RTE_ETHDEV_QUEUE_STAT_CNTRS ? es.q_ipackets[q] : 0);
		N(e, "errors", q < RTE_ETHDEV_QUEUE_STAT_CNTRS ? es.q_errors[q] : 0);
		cJSON_AddItemToArray(qs, e);
	}
	qs = cJSON_AddArrayToObject(o, "tx_queues");
	for (unsigned int q = 0; q < cp->tx_queues; q++) {
		cJSON *e = cJSON_CreateObject();
		tx_filter_counts(app, app->port_id[p], (int)q, &tx, &drop);
		N(e, "tx", q < RTE_ETHDEV_QUEUE_STAT_CNTRS ? es.q_opackets[q] : 0);
		N(e, "tx_dropped", drop);
		cJSON_AddItemToArray(qs, e);
	}
}

/* Per-class counts as {"CLASS": n, ..., "other": n}. */
static void
classes_json(cJSON *o, const char *key, const struct bl_class_count *tab, unsigned int slots,
	     const uint64_t *other)
{
	cJSON *c = cJSON_AddObjectToObject(o, key);
	char name[16];

	for (unsigned int i = 0; i < slots; i++) {
		uint64_t n = bl_counter_read(&tab[i].n);
		if (n != 0) {
			snprintf(name, sizeof(name), "%u", __atomic_load_n(&tab[i].cls, __ATOMIC_RELAXED));
			N(c, name, n);
		}
	}
	if (bl_counter_read(other) != 0)
		N(c, "other", bl_counter_read(other));
}

/*
 * What came in, per class: the sum of the per-class counts of the edges into
 * f (the runtime counts classes once, where they leave a filter; an input is
 * exactly what its in-edges carried). Classes an edge counted as "other" stay
 * "other" here.
 */
static void
classes_in_json(const struct bl_graph *g, const struct bl_filter *f, cJSON *o)
{
	struct bl_class_count sum[64];
	uint64_t other = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < bl_graph_n_filters(g); i++) {
		const struct bl_filter *from = bl_graph_filter(g, i);

		for (unsigned int k = 0; k < from->n_out; k++) {
			const struct bl_edge_rt *e = &from->out[k];

			if (e->to != f)
				continue;
			other += bl_counter_read(&e->cls_other);
			for (unsigned int c = 0; c < BL_EDGE_CLASS_SLOTS; c++) {
				uint64_t v = bl_counter_read(&e->cls[c].n);
				uint32_t cls = __atomic_load_n(&e->cls[c].cls, __ATOMIC_RELAXED);
				unsigned int j;

				if (v == 0)
					continue;
				for (j = 0; j < n && sum[j].cls != cls; j++)
					;
				if (j == n && n == RTE_DIM(sum)) {
					other += v;
					continue;
				}
				if (j == n)
					sum[n++] = (struct bl_class_count){ .cls = cls, .n = 0 };
				sum[j].n += v;
			}
		}
	}
	classes_json(o, "classes_in", sum, n, &other);
}

void
bl_app_filter_json(const struct bl_graph *g, const struct bl_filter *f, cJSON *o)
{
	const struct bl_filter_stats *st = &f->st;
	const char *names[32];   /* flow has 18 counters: 16 cut its last two off */
	uint64_t vals[32];
	uint8_t gauge[32];
	unsigned int n;

	cJSON_AddStringToObject(o, "filter", f->ops->name);
	N(o, "in", bl_counter_read(&st->in));
	N(o, "out", bl_counter_read(&st->out));
	N(o, "dropped", bl_counter_read(&st->dropped));
	N(o, "unrouted", bl_counter_read(&st->unrouted));
	N(o, "overflow", bl_counter_read(&st->overflow));
	N(o, "copies", bl_counter_read(&st->copies));
	N(o, "copy_fail", bl_counter_read(&st->copy_fail));
	N(o, "calls", bl_counter_read(&st->calls));
	N(o, "cycles", bl_counter_read(&st->cycles));
	classes_in_json(g, f, o);
	classes_json(o, "classes", st->cls, BL_CLASS_SLOTS, &st->cls_other);
	if ((n = bl_filter_counters(f, names, vals, gauge, 32)) > 0) {
		cJSON *c = cJSON_AddObjectToObject(o, "counters"), *gs = NULL;
		for (unsigned int i = 0; i < n; i++) {
			N(c, names[i], vals[i]);
			if (gauge[i] && (gs != NULL || (gs = cJSON_AddArrayToObject(o, "gauges")) != NULL))
				cJSON_AddItemToArray(gs, cJSON_CreateString(names[i]));
		}
	}
}

void
bl_app_edge_json(const struct bl_edge_rt *e, cJSON *o)
{
	N(o, "packets", bl_counter_read(&e->pkts));
	classes_json(o, "classes", e->cls, BL_EDGE_CLASS_SLOTS, &e->cls_other);
}

static void
graph_json(const struct bl_worker *w, unsigned int g, cJSON *arr)
{
	const struct bl_graph *gr = w->graphs[g];
	cJSON *o = cJSON_CreateObject(), *filters, *edges;

	cJSON_AddStringToObject(o, "from", w->origin[g]);
	N(o, "lcore", w->lcore);
	N(o, "replica", w->replica[g]);
	N(o, "passes", bl_counter_read(&bl_graph_stats(gr)->passes));
	N(o, "cycle_limit", bl_counter_read(&bl_graph_stats(gr)->cycle_limit));
	filters = cJSON_AddObjectToObject(o, "filters");
	edges = cJSON_AddArrayToObject(o, "edges");
	for (unsigned int i = 0; i < bl_graph_n_filters(gr); i++) {
		const struct bl_filter *f = bl_graph_filter(gr, i);
		bl_app_filter_json(gr, f, cJSON_AddObjectToObject(filters, f->name));
		for (unsigned int k = 0; k < f->n_out; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "from", f->name);
			cJSON_AddStringToObject(e, "to", f->out[k].to->name);
			bl_app_edge_json(&f->out[k], e);
			cJSON_AddItemToArray(edges, e);
		}
	}
	cJSON_AddItemToArray(arr, o);
}

cJSON *
bl_app_report_build(const struct bl_app *app, const struct bl_port_hw_stats *hw)
{
	cJSON *root = cJSON_CreateObject(), *ports, *graphs, *workers;

	cJSON_AddStringToObject(root, "instance", app->cfg.instance);
	N(root, "elapsed_s", (double)(app->stop_tsc - app->start_tsc) / (double)rte_get_tsc_hz());
	ports = cJSON_AddObjectToObject(root, "ports");
	for (unsigned int p = 0; p < app->cfg.n_ports; p++)
		port_json(app, p, &hw[p], ports);
	graphs = cJSON_AddArrayToObject(root, "graphs");
	workers = cJSON_AddArrayToObject(root, "workers");
	for (unsigned int i = 0; i < app->n_workers; i++) {
		const struct bl_worker *w = &app->workers[i];
		cJSON *o = cJSON_CreateObject();
		for (unsigned int g = 0; g < w->n_graphs; g++)
			graph_json(w, g, graphs);
		N(o, "lcore", w->lcore);
		N(o, "rx", bl_counter_read(&w->polled));
		N(o, "graphs", w->n_graphs);
		N(o, "swaps", bl_counter_read(&w->swaps));
		N(o, "swap_max_ns", bl_counter_read(&w->swap_max_ns));
		N(o, "idle_sleeps", bl_counter_read(&w->idle_sleeps));
		cJSON_AddItemToArray(workers, o);
	}
	N(root, "reloads", app->reloads);
	N(root, "reload_failures", app->reload_failures);
	return root;
}

long
bl_app_report_finish(const struct bl_app *app, cJSON *root, FILE *out)
{
	long size = (long)app->pool->size;
	long avail = (long)rte_mempool_avail_count(app->pool);
	cJSON *mb = cJSON_AddObjectToObject(root, "mbufs"), *copies;
	long leaked;
	char *text;

	N(mb, "pool_size", size);
	N(mb, "available_at_exit", avail);
	N(mb, "leaked", size - avail);
	leaked = size - avail;
	/* The copy DBufs' pools, counted the same way (their rings are gone too). */
	copies = cJSON_AddArrayToObject(mb, "copy_pools");
	for (unsigned int i = 0; i < BL_DBUF_PERM_MAX; i++) {
		const struct bl_dbuf_perm *p = bl_dbuf_perm_at(i);
		long cs, ca;
		cJSON *o;

		if (p == NULL)
			continue;
		cs = (long)p->dbuf->mp->size;
		ca = (long)rte_mempool_avail_count(p->dbuf->mp);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dbuf", p->dbuf->hdr->name);
		N(o, "id", p->dbuf->id);
		N(o, "pool_size", cs);
		N(o, "available_at_exit", ca);
		N(o, "leaked", cs - ca);
		cJSON_AddItemToArray(copies, o);
		leaked += cs - ca;
	}
	text = cJSON_Print(root);
	if (text != NULL) {
		fprintf(out, "%s\n", text);
		fflush(out);
	}
	cJSON_free(text);
	cJSON_Delete(root);
	return leaked;
}
