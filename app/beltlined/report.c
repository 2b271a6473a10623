/* SPDX-License-Identifier: BSD-3-Clause */
/* The final counters, as JSON on stdout. */
#include <rte_cycles.h>
#include <rte_mempool.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_atomic.h"
#include "bl_port.h"

struct tally {
	uint64_t rx, tx, tx_dropped;
};

static void
port_json(const struct bl_app *app, unsigned int p, const struct bl_port_hw_stats *hw, cJSON *ports)
{
	const struct bl_cfg_port *cp = &app->cfg.ports[p];
	struct tally rxq[BL_CFG_MAX_QUEUES] = { 0 }, txq[BL_CFG_MAX_QUEUES] = { 0 }, all = { 0 };
	cJSON *o = cJSON_AddObjectToObject(ports, cp->name);
	cJSON *qs;

	for (unsigned int i = 0; i < app->cfg.n_workers; i++) {
		const struct bl_worker *w = &app->workers[i];
		for (unsigned int k = 0; k < w->n_fwd; k++) {
			const struct bl_fwd *f = &w->fwd[k];
			if (f->rx_port == app->port_id[p]) {
				rxq[f->rx_queue].rx += bl_counter_read(&f->rx);
				all.rx += bl_counter_read(&f->rx);
			}
			if (f->tx_port == app->port_id[p]) {
				txq[f->tx_queue].tx += bl_counter_read(&f->tx);
				txq[f->tx_queue].tx_dropped += bl_counter_read(&f->tx_dropped);
				all.tx += bl_counter_read(&f->tx);
				all.tx_dropped += bl_counter_read(&f->tx_dropped);
			}
		}
	}
	cJSON_AddStringToObject(o, "device", cp->pci[0] ? cp->pci : cp->vdev);
	cJSON_AddNumberToObject(o, "rx", (double)all.rx);
	cJSON_AddNumberToObject(o, "tx", (double)all.tx);
	cJSON_AddNumberToObject(o, "tx_dropped", (double)all.tx_dropped);
	cJSON_AddNumberToObject(o, "rx_nombuf", (double)hw->rx_nombuf);
	cJSON_AddNumberToObject(o, "imissed", (double)hw->imissed);
	cJSON_AddNumberToObject(o, "ierrors", (double)hw->ierrors);
	cJSON_AddNumberToObject(o, "oerrors", (double)hw->oerrors);
	cJSON_AddNumberToObject(o, "rx_flushed_at_stop", (double)app->rx_flushed[p]);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)hw->ibytes);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)hw->obytes);
	qs = cJSON_AddArrayToObject(o, "rx_queues");
	for (unsigned int q = 0; q < cp->rx_queues; q++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "rx", (double)rxq[q].rx);
		cJSON_AddItemToArray(qs, e);
	}
	qs = cJSON_AddArrayToObject(o, "tx_queues");
	for (unsigned int q = 0; q < cp->tx_queues; q++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "tx", (double)txq[q].tx);
		cJSON_AddNumberToObject(e, "tx_dropped", (double)txq[q].tx_dropped);
		cJSON_AddItemToArray(qs, e);
	}
}

static void
workers_json(const struct bl_app *app, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "workers");

	for (unsigned int i = 0; i < app->cfg.n_workers; i++) {
		const struct bl_worker *w = &app->workers[i];
		struct tally t = { 0 };
		cJSON *o = cJSON_CreateObject();

		for (unsigned int k = 0; k < w->n_fwd; k++) {
			t.rx += bl_counter_read(&w->fwd[k].rx);
			t.tx += bl_counter_read(&w->fwd[k].tx);
			t.tx_dropped += bl_counter_read(&w->fwd[k].tx_dropped);
		}
		cJSON_AddNumberToObject(o, "lcore", w->lcore);
		cJSON_AddNumberToObject(o, "rx", (double)t.rx);
		cJSON_AddNumberToObject(o, "tx", (double)t.tx);
		cJSON_AddNumberToObject(o, "tx_dropped", (double)t.tx_dropped);
		cJSON_AddItemToArray(arr, o);
	}
}

long
bl_app_report_with(const struct bl_app *app, const struct bl_port_hw_stats *hw, FILE *out)
{
	cJSON *root = cJSON_CreateObject(), *ports, *mb;
	long size = (long)app->pool->size;
	long avail = (long)rte_mempool_avail_count(app->pool);
	char *text;

	cJSON_AddStringToObject(root, "instance", app->cfg.instance);
	cJSON_AddNumberToObject(root, "elapsed_s",
				(double)(app->stop_tsc - app->start_tsc) / (double)rte_get_tsc_hz());
	ports = cJSON_AddObjectToObject(root, "ports");
	for (unsigned int p = 0; p < app->cfg.n_ports; p++)
		port_json(app, p, &hw[p], ports);
	workers_json(app, root);
	mb = cJSON_AddObjectToObject(root, "mbufs");
	cJSON_AddNumberToObject(mb, "pool_size", (double)size);
	cJSON_AddNumberToObject(mb, "available_at_exit", (double)avail);
	cJSON_AddNumberToObject(mb, "leaked", (double)(size - avail));
	text = cJSON_Print(root);
	if (text != NULL) {
		fprintf(out, "%s\n", text);
		fflush(out);
	}
	cJSON_free(text);
	cJSON_Delete(root);
	return size - avail;
}
