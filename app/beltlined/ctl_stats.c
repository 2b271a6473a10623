/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server's stats operation (ctl_pvt.h), also what DPDK telemetry's
 * /beltline/stats replies (telemetry.h): ports, filters and edges, streams,
 * mbufs, injects, users, endpoints, the server's own limits and refusals, reloads
 * and the C heap. Main lcore only.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mempool.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_inject.h"
#include "bl_port.h"
#include "bl_stream.h"
#include "bl_user.h"
#include "ctl_pvt.h"
#include "ep.h"
#include "limbo.h"
#include "pdump_sync.h"

/* The server's own counters and limits: "control" in stats. */
static void
stats_control(const struct bl_ctl *c, cJSON *o)
{
	unsigned int used = 0;

	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		used += c->c[i].fd >= 0;
	N(o, "connections", used);
	N(o, "max", CTL_MAX_CONNS);
	N(o, "max_per_uid", CTL_MAX_PER_UID);
	N(o, "root_reserve", CTL_ROOT_RESERVE);
	N(o, "idle_ms", c->app->cfg.ctl_idle_ms);
	N(o, "slow_ms", c->app->cfg.ctl_slow_ms);
	N(o, "refused_uid", c->n.refused_uid);
	N(o, "refused_full", c->n.refused_full);
	N(o, "idle_closed", c->n.idle_closed);
	N(o, "slow_closed", c->n.slow_closed);
	N(o, "bad_requests", c->n.bad_requests);
	N(o, "accept_errors", c->n.accept_errors);
}

/* The C heap (malloc; DPDK's memory is not in it): "heap" in stats. in_use is live
 * memory (a leak grows it); system is what malloc holds from the kernel, in_use plus
 * free chunks it keeps (their pages stay resident once touched). tests/soak tells a
 * leak from first touch with it. */
static void
stats_heap(cJSON *o)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi = mallinfo2();

	N(o, "in_use", mi.uordblks + mi.hblkhd);
	N(o, "free", mi.fordblks);
	N(o, "system", mi.arena + mi.hblkhd);
#else
	(void)o;
#endif
}

/* What `stats` replies (also the DPDK telemetry commands': telemetry.h). Main lcore. */
cJSON *
ctl_stats_json(void *arg)
{
	const struct bl_ctl *c = arg;
	const struct bl_app *app = c->app;
	cJSON *j = cJSON_CreateObject(), *ports, *filters, *edges, *graphs;

	cJSON_AddStringToObject(j, "instance", app->cfg.instance);
	N(j, "uptime_s", bl_app_uptime_s(app));
	ports = cJSON_AddArrayToObject(j, "ports");
	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		struct bl_port_hw_stats hw;
		cJSON *o = cJSON_CreateObject();

		memset(&hw, 0, sizeof(hw));
		bl_port_hw_stats(app->port_id[p], &hw);
		cJSON_AddStringToObject(o, "name", app->cfg.ports[p].name);
		N(o, "rx", hw.ipackets);
		N(o, "tx", hw.opackets);
		N(o, "rx_bytes", hw.ibytes);
		N(o, "tx_bytes", hw.obytes);
		N(o, "rx_missed", hw.imissed);
		N(o, "rx_nombuf", hw.rx_nombuf);
		N(o, "rx_errors", hw.ierrors);
		N(o, "tx_errors", hw.oerrors);
		N(o, "replay_unmatched", hw.replay_unmatched);
		cJSON_AddItemToArray(ports, o);
	}
	filters = cJSON_AddArrayToObject(j, "filters");
	edges = cJSON_AddArrayToObject(j, "edges");
	graphs = cJSON_AddArrayToObject(j, "graphs");
	for (unsigned int w = 0; w < app->n_workers; w++)
		for (unsigned int g = 0; g < app->workers[w].n_graphs; g++) {
			const struct bl_graph *gr = app->workers[w].graphs[g];
			cJSON *go = cJSON_CreateObject();
			char gname[48];

			snprintf(gname, sizeof(gname), "%s.%u", app->workers[w].origin[g],
				 app->workers[w].replica[g]);
			/* The graph's own drops (packets still circling a cycle after the
			 * round limit): the final report had them, stats did not. */
			cJSON_AddStringToObject(go, "graph", gname);
			N(go, "lcore", app->workers[w].lcore);
			N(go, "passes", bl_counter_read(&bl_graph_stats(gr)->passes));
			N(go, "cycle_limit", bl_counter_read(&bl_graph_stats(gr)->cycle_limit));
			cJSON_AddItemToArray(graphs, go);
			for (unsigned int i = 0; i < bl_graph_n_filters(gr); i++) {
				const struct bl_filter *f = bl_graph_filter(gr, i);
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "graph", gname);
				cJSON_AddStringToObject(o, "name", f->name);
				bl_app_filter_json(gr, f, o);
				cJSON_AddItemToArray(filters, o);
				for (unsigned int e = 0; e < f->n_out; e++) {
					cJSON *eo = cJSON_CreateObject();
					cJSON_AddStringToObject(eo, "graph", gname);
					cJSON_AddStringToObject(eo, "from", f->name);
					cJSON_AddStringToObject(eo, "to", f->out[e].to->name);
					bl_app_edge_json(&f->out[e], eo);
					cJSON_AddItemToArray(edges, eo);
				}
			}
		}
	cJSON_AddItemToObject(j, "streams", bl_stream_stats_json());
	if (app->pool != NULL) {     /* live: in a NIC's rings, in flight, held by streams */
		cJSON *mb = cJSON_AddObjectToObject(j, "mbufs");
		unsigned int avail = rte_mempool_avail_count(app->pool);

		N(mb, "pool_size", app->pool->size);
		N(mb, "in_use", app->pool->size - avail);
	}
	cJSON_AddItemToObject(j, "injects", bl_inject_stats_json());
	cJSON_AddItemToObject(j, "users", bl_user_stats_json());
	cJSON_AddItemToObject(j, "endpoints", bl_ep_stats_json());
	stats_control(c, cJSON_AddObjectToObject(j, "control"));
	cJSON *rl = cJSON_AddObjectToObject(j, "reload");
	N(rl, "reloads", app->reloads);
	N(rl, "failures", app->reload_failures);
	N(rl, "epoch", app->epoch);
	N(rl, "live_edits", app->live_edits);   /* edit.c: since the config file was read */
	N(rl, "awaiting_workers", bl_limbo_count());   /* limbo.c: left by a swap a worker held */
	cJSON_AddStringToObject(rl, "last_error", app->reload_error);
	cJSON *wa = cJSON_AddArrayToObject(rl, "workers");
	for (unsigned int w = 0; w < app->n_workers; w++) {
		cJSON *o = cJSON_CreateObject();
		N(o, "lcore", app->workers[w].lcore);
		N(o, "swaps", bl_counter_read(&app->workers[w].swaps));
		N(o, "swap_max_ns", bl_counter_read(&app->workers[w].swap_max_ns));
		N(o, "idle_sleep_us", __atomic_load_n(&app->workers[w].idle_sleep_us,
						      __ATOMIC_RELAXED));   /* relaxed: a setting */
		N(o, "idle_sleeps", bl_counter_read(&app->workers[w].idle_sleeps));
		cJSON_AddItemToArray(wa, o);
	}
	if (app->multiprocess) {   /* DPDK's capture tools (pdump_sync.c) */
		struct bl_pdump_sync_stats ps;
		bl_pdump_sync_stats(&ps);
		cJSON *cap = cJSON_AddObjectToObject(j, "captures");
		N(cap, "stops", ps.removals);
		N(cap, "stop_timeouts", ps.timeouts);
	}
	stats_heap(cJSON_AddObjectToObject(j, "heap"));
	return j;
}

void
ctl_op_stats(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	(void)req;
	ctl_reply_json(k, h, ctl_stats_json(c), NULL, 0);
}
