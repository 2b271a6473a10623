/* SPDX-License-Identifier: BSD-3-Clause */
/* app/beltline/prom.c: stats JSON as Prometheus text (beltline exporter). */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "prom.h"

static char *
render(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	size_t len = 0;
	char *t;

	cr_assert(j != NULL, "test JSON does not parse: %s", json);
	t = bl_prom_render(j, "i1", &len);
	cJSON_Delete(j);
	cr_assert(t != NULL);
	cr_assert(eq(sz, strlen(t), len));
	return t;
}

Test(prom, ports_and_names)
{
	char *t = render("{\"instance\":\"i1\",\"uptime_s\":1.5,\"ports\":[{\"name\":\"in\",\"rx\":7,"
			 "\"tx\":3,\"rx_bytes\":700}]}");

	cr_assert(strstr(t, "# TYPE beltline_port_rx_packets_total counter\n"
			    "beltline_port_rx_packets_total{instance=\"i1\",port=\"in\"} 7\n") != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_port_rx_bytes_total{instance=\"i1\",port=\"in\"} 700\n") != NULL);
	cr_assert(strstr(t, "# TYPE beltline_uptime_seconds gauge\nbeltline_uptime_seconds{instance=\"i1\"} 1.5\n") != NULL);
	cr_assert(strstr(t, "beltline_up{instance=\"i1\"} 1\n") != NULL);
	free(t);
}

/* Samples of one family stay together, whatever order the rows come in. */
Test(prom, families_are_contiguous)
{
	char *t = render("{\"ports\":[{\"name\":\"a\",\"rx\":1,\"tx\":2},{\"name\":\"b\",\"rx\":3,\"tx\":4}]}");
	const char *want = "# TYPE beltline_port_rx_packets_total counter\n"
		"beltline_port_rx_packets_total{instance=\"i1\",port=\"a\"} 1\n"
		"beltline_port_rx_packets_total{instance=\"i1\",port=\"b\"} 3\n"
		"# HELP beltline_port_tx_packets_total";

	cr_assert(strstr(t, want) != NULL, "%s", t);
	free(t);
}

Test(prom, label_values_escaped)
{
	char *t = render("{\"ports\":[{\"name\":\"a\\\"b\\\\c\\nd\",\"rx\":1}]}");

	cr_assert(strstr(t, "port=\"a\\\"b\\\\c\\nd\"} 1\n") != NULL, "%s", t);
	free(t);
}

/* A key the exporter has no name for is still served, untyped, with its path in HELP. */
Test(prom, unknown_key_is_untyped)
{
	char *t = render("{\"ports\":[{\"name\":\"a\",\"rx\":1,\"new-thing\":9}],\"extra\":{\"k\":2}}");

	cr_assert(strstr(t, "# TYPE beltline_port_new_thing untyped\n"
			    "beltline_port_new_thing{instance=\"i1\",port=\"a\"} 9\n") != NULL, "%s", t);
	cr_assert(strstr(t, "port.new-thing") != NULL);
	cr_assert(strstr(t, "beltline_extra_k{instance=\"i1\"} 2\n") != NULL, "%s", t);
	free(t);
}

Test(prom, filter_counters_classes_and_gauges)
{
	char *t = render("{\"filters\":[{\"graph\":\"g.0\",\"name\":\"t\",\"filter\":\"tx\",\"in\":5,"
			 "\"classes\":{\"1\":5,\"other\":2},\"counters\":{\"tx\":5,\"port_id\":1,"
			 "\"writers_total\":3},\"gauges\":[\"port_id\"]}]}");
	const char *l = "{instance=\"i1\",graph=\"g.0\",filter=\"t\",type=\"tx\"";

	cr_assert(strstr(t, "# TYPE beltline_filter_tx_tx_total counter\n") != NULL, "%s", t);
	cr_assert(strstr(t, "# TYPE beltline_filter_tx_port_id gauge\n") != NULL);
	cr_assert(strstr(t, "beltline_filter_tx_writers_total{") != NULL, "no _total_total: %s", t);
	cr_assert(strstr(t, "_total_total") == NULL);
	cr_assert(strstr(t, "beltline_filter_class_out_packets_total{instance=\"i1\",graph=\"g.0\","
			    "filter=\"t\",type=\"tx\",class=\"other\"} 2\n") != NULL, "%s", t);
	cr_assert(strstr(t, l) != NULL);
	free(t);
}

Test(prom, scale_ms_to_seconds)
{
	char *t = render("{\"control\":{\"idle_ms\":10000,\"slow_ms\":2500}}");

	cr_assert(strstr(t, "beltline_control_idle_timeout_seconds{instance=\"i1\"} 10\n") != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_control_slow_timeout_seconds{instance=\"i1\"} 2.5\n") != NULL, "%s", t);
	free(t);
}

/* Rows inside rows, and info samples: a stream's readers carry the stream's labels and their
 * own; an inject's writer info only when a writer is there; label keys are no samples. */
Test(prom, streams_readers_injects_edges)
{
	char *t = render("{\"streams\":[{\"name\":\"s\",\"policy\":\"frp\",\"content\":\"packets\","
			 "\"written\":50,\"readers\":"
			 "[{\"reader\":1,\"pid\":100,\"client\":\"c\",\"policy\":\"frp\",\"lag\":2}]}],"
			 "\"injects\":[{\"name\":\"inj\",\"owner\":\"root\",\"group\":\"g\",\"mode\":\"0600\","
			 "\"capacity\":64,\"writer\":{\"pid\":5,\"uid\":0,\"client\":\"w\",\"frames\":3}},"
			 "{\"name\":\"idle\",\"owner\":\"a\",\"group\":\"b\",\"mode\":\"0660\","
			 "\"writer\":{\"frames\":0}}],"
			 "\"edges\":[{\"graph\":\"g\",\"from\":\"a\",\"to\":\"b\",\"packets\":5,"
			 "\"classes\":{\"1\":5}}]}");
	static const char *const want[] = {
		"beltline_stream_info{instance=\"i1\",stream=\"s\",policy=\"frp\",content=\"packets\"} 1\n",
		"beltline_stream_written_total{instance=\"i1\",stream=\"s\"} 50\n",
		"beltline_reader_lag_entries{instance=\"i1\",stream=\"s\",reader=\"1\",pid=\"100\","
		"client=\"c\",policy=\"frp\"} 2\n",
		"beltline_inject_info{instance=\"i1\",inject=\"inj\",owner=\"root\",group=\"g\","
		"mode=\"0600\"} 1\n",
		"beltline_inject_capacity_entries{instance=\"i1\",inject=\"inj\"} 64\n",
		"beltline_inject_writer_info{instance=\"i1\",inject=\"inj\",pid=\"5\",uid=\"0\","
		"client=\"w\"} 1\n",
		"beltline_inject_frames_total{instance=\"i1\",inject=\"inj\"} 3\n",
		"beltline_inject_frames_total{instance=\"i1\",inject=\"idle\"} 0\n",
		"beltline_edge_packets_total{instance=\"i1\",graph=\"g\",from=\"a\",to=\"b\"} 5\n",
		"beltline_edge_class_packets_total{instance=\"i1\",graph=\"g\",from=\"a\",to=\"b\","
		"class=\"1\"} 5\n",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(t, want[i]) != NULL, "no %s in:\n%s", want[i], t);
	cr_assert(strstr(t, "inject=\"idle\",pid=") == NULL, "%s", t);   /* no writer: no info */
	cr_assert(strstr(t, "beltline_reader_pid") == NULL && strstr(t, "beltline_stream_reader") == NULL &&
		  strstr(t, "beltline_inject_pid") == NULL && strstr(t, "beltline_inject_uid") == NULL,
		  "%s", t);
	free(t);
}

Test(prom, down)
{
	size_t len;
	char *t = bl_prom_render_down("x\"y", &len);

	cr_assert(t != NULL);
	cr_assert(eq(str, t, "# HELP beltline_up 1 when the instance answered the exporter's stats request\n"
		     "# TYPE beltline_up gauge\nbeltline_up{instance=\"x\\\"y\"} 0\n"));
	free(t);
}

/* Lists of rows are served too: endpoints, user filters, the reload's workers (they
 * were left out: the walk of a section it did not know took objects only), and a list
 * the exporter does not know yet, untyped, a row labelled by its name. */
Test(prom, endpoints_users_workers_and_unknown_lists)
{
	char *t = render("{\"endpoints\":[{\"name\":\"e1\",\"kind\":\"endpoint\",\"owner\":0,"
			 "\"group\":0,\"mode\":\"0600\",\"pid\":42,\"slots\":1024,"
			 "\"dbuf_bytes\":4194304,\"connects\":3,\"refused_perm\":1,"
			 "\"refused_busy\":2,\"failed\":0}],"
			 "\"users\":[{\"name\":\"ips\",\"capacity\":256,\"owner\":\"root\","
			 "\"group\":\"root\",\"mode\":\"0640\",\"clients\":1,\"client_pid\":7,"
			 "\"verdicts\":9,\"clients_total\":2,\"client\":{\"pid\":7}}],"
			 "\"reload\":{\"reloads\":1,\"failures\":0,\"epoch\":4,\"live_edits\":0,"
			 "\"last_error\":\"\",\"workers\":[{\"lcore\":1,\"swaps\":2,"
			 "\"swap_max_ns\":2000,\"idle_sleep_us\":0,\"idle_sleeps\":5}]},"
			 "\"gizmos\":[{\"name\":\"g\",\"spins\":6}]}");

	cr_assert(strstr(t, "# TYPE beltline_endpoint_refused_busy_total counter\n"
			    "beltline_endpoint_refused_busy_total{instance=\"i1\",endpoint=\"e1\"} 2\n")
		  != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_endpoint_connects_total{instance=\"i1\",endpoint=\"e1\"} 3\n") != NULL);
	cr_assert(strstr(t, "beltline_endpoint_info{instance=\"i1\",endpoint=\"e1\",pid=\"42\",owner=\"0\","
			    "group=\"0\",mode=\"0600\"} 1\n") != NULL, "%s", t);
	cr_assert(strstr(t, "# TYPE beltline_user_clients gauge\n"
			    "beltline_user_clients{instance=\"i1\",user=\"ips\"} 1\n") != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_user_verdicts_total{instance=\"i1\",user=\"ips\"} 9\n") != NULL);
	cr_assert(strstr(t, "beltline_worker_swaps_total{instance=\"i1\",lcore=\"1\"} 2\n") != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_worker_swap_max_seconds{instance=\"i1\",lcore=\"1\"} 2") != NULL,
		  "%s", t);   /* 2e-06, as near as a double's product gets */
	cr_assert(strstr(t, "beltline_reload_epoch{instance=\"i1\"} 4\n") != NULL);
	cr_assert(strstr(t, "# TYPE beltline_gizmos_spins untyped\n"
			    "beltline_gizmos_spins{instance=\"i1\",name=\"g\"} 6\n") != NULL, "%s", t);
	cr_assert(strstr(t, "untyped\nbeltline_endpoint") == NULL, "every endpoint key typed: %s", t);
	cr_assert(strstr(t, "beltline_user_client_pid") == NULL && strstr(t, "beltline_endpoint_pid") == NULL);
	free(t);
}

/* memory.multiprocess's captures: counters with their names (they were untyped, with no
 * _total, missing from the table). */
Test(prom, captures_are_counters)
{
	char *t = render("{\"captures\":{\"stops\":3,\"stop_timeouts\":1}}");

	cr_assert(strstr(t, "# TYPE beltline_captures_stops_total counter\n"
			    "beltline_captures_stops_total{instance=\"i1\"} 3\n") != NULL, "%s", t);
	cr_assert(strstr(t, "# TYPE beltline_captures_stop_timeouts_total counter\n"
			    "beltline_captures_stop_timeouts_total{instance=\"i1\"} 1\n") != NULL, "%s", t);
	free(t);
}

/* A graph's own counters: cycle_limit is a drop (packets freed still circling a cycle). */
Test(prom, graphs_cycle_limit_is_a_counter)
{
	char *t = render("{\"graphs\":[{\"graph\":\"g.0\",\"lcore\":1,\"passes\":9,"
			 "\"cycle_limit\":4}]}");

	cr_assert(strstr(t, "# TYPE beltline_graph_cycle_limit_packets_total counter\n"
			    "beltline_graph_cycle_limit_packets_total{instance=\"i1\",graph=\"g.0\","
			    "lcore=\"1\"} 4\n") != NULL, "%s", t);
	cr_assert(strstr(t, "beltline_graph_passes_total{instance=\"i1\",graph=\"g.0\",lcore=\"1\"} 9\n")
		  != NULL, "%s", t);
	cr_assert(strstr(t, "untyped") == NULL, "%s", t);
	free(t);
}
