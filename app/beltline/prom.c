/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prom — `stats` as Prometheus text (prom.h). Naming follows Prometheus'
 * conventions: a beltline_ prefix, base units in the name (_bytes, _seconds),
 * counters end in _total, values that go up and down (fill levels, limits) are
 * gauges; what identifies a row (port, graph, filter, stream, reader) is a
 * label. Every family's samples are collected first and printed together, as
 * the format wants.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_list.h"
#include "prom.h"

/* ---- an exposition being built: families, each with its samples ---- */

struct fam {
	char name[192];
	char type;                  /* 'c' counter, 'g' gauge, 'u' untyped */
	char help[256];
	char *buf;                  /* its sample lines */
	size_t len, cap;
};

struct expo {
	struct fam *f;
	unsigned int n, cap;
	int oom;
};

struct labels {
	char s[2048];
	size_t n;
};

static const char *
type_name(char t)
{
	return t == 'c' ? "counter" : t == 'g' ? "gauge" : "untyped";
}

static int
grow(char **buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;
	char *nb;

	while (c < need)
		c *= 2;
	if (c == *cap)
		return 0;
	nb = realloc(*buf, c);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = c;
	return 0;
}

/* The family NAME; created with TYPE and HELP the first time. NULL: out of memory, or
 * NAME already taken by a family of another type (a clash the tests would show). */
static struct fam *
fam_get(struct expo *e, const char *name, char type, const char *help)
{
	struct fam *f;

	for (unsigned int i = 0; i < e->n; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return e->f[i].type == type ? &e->f[i] : NULL;
	if (e->n == e->cap) {
		unsigned int c = e->cap ? e->cap * 2 : 64;
		struct fam *nf = realloc(e->f, c * sizeof(*nf));
		if (nf == NULL) {
			e->oom = 1;
			return NULL;
		}
		e->f = nf;
		e->cap = c;
	}
	f = &e->f[e->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = type;
	snprintf(f->help, sizeof(f->help), "%s", help);
	return f;
}

/* HELP text escapes backslash and newline. */
static void
put_help(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 3 < size; src++) {
		if (*src == '\\' || *src == '\n') {
			dst[o++] = '\\';
			dst[o++] = *src == '\n' ? 'n' : '\\';
		} else {
			dst[o++] = *src;
		}
	}
	dst[o] = '\0';
}

static void
sample(struct expo *e, const char *name, char type, const char *help, const struct labels *l,
       double v)
{
	struct fam *f = fam_get(e, name, type, help);
	char num[64];
	int n;

	if (f == NULL)
		return;
	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (v == floor(v) && fabs(v) < 9.2e18)
		snprintf(num, sizeof(num), "%.0f", v);
	else   /* 15 digits: what a double holds exactly (17 printed 37.770600780000002) */
		snprintf(num, sizeof(num), "%.15g", v);
	n = snprintf(NULL, 0, "%s{%s} %s\n", name, l->s, num);
	if (n < 0 || grow(&f->buf, &f->cap, f->len + (size_t)n + 1) < 0) {
		e->oom = 1;
		return;
	}
	snprintf(f->buf + f->len, f->cap - f->len, "%s{%s} %s\n", name, l->s, num);
	f->len += (size_t)n;
}

/* A label value escapes backslash, double quote and newline. A label set that would not
 * fit is cut at the last whole label (names are short: it does not happen). */
static void
label(struct labels *l, const char *key, const char *val)
{
	char v[512];
	size_t o = 0;
	int n;

	for (; *val != '\0' && o + 3 < sizeof(v); val++) {
		if (*val == '\\' || *val == '"' || *val == '\n') {
			v[o++] = '\\';
			v[o++] = *val == '\n' ? 'n' : *val;
		} else {
			v[o++] = *val;
		}
	}
	v[o] = '\0';
	n = snprintf(l->s + l->n, sizeof(l->s) - l->n, "%s%s=\"%s\"", l->n ? "," : "", key, v);
	if (n < 0 || (size_t)n >= sizeof(l->s) - l->n)
		l->s[l->n] = '\0';
	else
		l->n += (size_t)n;
}

static void
label_num(struct labels *l, const char *key, double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.0f", v);
	label(l, key, s);
}

/* A metric name from free text: [a-zA-Z0-9_], anything else as '_'. */
static void
name_part(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 1 < size; src++) {
		char c = *src;
		dst[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ?
			c : '_';
	}
	dst[o] = '\0';
}

/* ---- what each key of stats is called ---- */

struct key {
	const char *key;            /* in the stats JSON */
	const char *name;           /* the family, after beltline_ */
	char type;
	double scale;               /* 0: 1 */
	const char *help;
};

#define K(k, n, t, h) { k, n, t, 0, h }

static const struct key top_keys[] = {
	K("uptime_s", "uptime_seconds", 'g', "seconds since the appliance started"),
};

static const struct key port_keys[] = {
	K("rx", "port_rx_packets_total", 'c', "packets the port received"),
	K("tx", "port_tx_packets_total", 'c', "packets the port sent"),
	K("rx_bytes", "port_rx_bytes_total", 'c', "bytes the port received"),
	K("tx_bytes", "port_tx_bytes_total", 'c', "bytes the port sent"),
	K("rx_missed", "port_rx_missed_packets_total", 'c',
	  "packets the port dropped for want of room in its rx queues (imissed)"),
	K("rx_nombuf", "port_rx_nombuf_total", 'c', "rx mbuf allocation failures"),
	K("rx_errors", "port_rx_errors_total", 'c', "erroneous packets received"),
	K("tx_errors", "port_tx_errors_total", 'c', "packets the port failed to send"),
	K("replay_unmatched", "port_replay_unmatched_packets_total", 'c',
	  "replayed packets passed on without their capture record"),
};

static const struct key filter_keys[] = {
	K("in", "filter_in_packets_total", 'c', "packets handed to the filter"),
	K("out", "filter_out_packets_total", 'c', "packets it passed on (class 0 too, on an edge labelled all)"),
	K("dropped", "filter_dropped_packets_total", 'c', "packets it classed 0 (freed)"),
	K("unrouted", "filter_unrouted_packets_total", 'c',
	  "packets of a class no out-edge carries (freed)"),
	K("overflow", "filter_overflow_packets_total", 'c',
	  "packets freed because a burst buffer was full"),
	K("copies", "filter_copies_total", 'c', "private copies made for rewriting"),
	K("copy_fail", "filter_copy_failures_total", 'c', "private copies that found no free mbuf"),
	K("calls", "filter_calls_total", 'c', "process or poll calls that did work"),
	K("cycles", "filter_cycles_total", 'c', "TSC cycles those calls took"),
};

static const struct key graph_keys[] = {
	K("passes", "graph_passes_total", 'c', "passes the graph's worker made over it"),
	K("cycle_limit", "graph_cycle_limit_packets_total", 'c',
	  "packets still circling a cyclic graph after the round limit (freed)"),
};

static const struct key edge_keys[] = {
	K("packets", "edge_packets_total", 'c', "packets the edge carried"),
};

static const struct key stream_keys[] = {
	K("capacity", "stream_capacity_entries", 'g', "entries the stream's ring holds now"),
	K("max_capacity", "stream_max_capacity_entries", 'g', "entries the stream's ring may grow to"),
	K("resizes", "stream_resizes_total", 'c', "times the stream's ring doubled or halved"),
	K("written", "stream_written_total", 'c', "entries written into the stream"),
	K("dropped", "stream_dropped_total", 'c', "entries dropped: the ring was full (SRP, MRP)"),
	K("overwritten", "stream_overwritten_total", 'c',
	  "entries overwritten before every reader read them (FRP)"),
	K("clamps", "stream_clamps_total", 'c',
	  "reader positions out of range the appliance clamped"),
	K("detached", "stream_detached_readers_total", 'c', "readers detached (closed or dead)"),
	K("wakeups", "stream_wakeups_total", 'c', "wake-ups signalled to sleeping readers"),
	K("copied", "stream_copied_total", 'c', "packets the stream's writer copied once "
	  "(a stream of other permissions than the pool's; a tap's of inject writers' frames)"),
	K("copy_nombuf", "stream_copy_nombuf_total", 'c',
	  "packets not written: no free mbuf to copy them into"),
	K("n_readers", "stream_readers", 'g', "readers attached now"),
};

static const struct key reader_keys[] = {
	K("pos", "reader_position", 'g', "the reader's position (sequence number)"),
	K("lag", "reader_lag_entries", 'g', "entries written the reader has not read (its fill level)"),
	K("overrun", "reader_overrun_entries", 'g',
	  "entries the ring overwrote before the reader read them: lost, counted in lost when it "
	  "reads again (alert on this for a stalled reader)"),
	K("consumed", "reader_consumed_total", 'c', "entries the reader has read"),
	K("lost", "reader_lost_total", 'c', "entries the reader lost (lapped or overwritten)"),
	K("laps", "reader_laps_total", 'c', "times the writer lapped the reader (FRP)"),
	K("clamps", "reader_clamps_total", 'c', "times its position was clamped"),
};

static const struct key mbuf_keys[] = {
	K("pool_size", "mbuf_pool_size", 'g', "mbufs in the packet pool"),
	K("in_use", "mbuf_pool_in_use", 'g',
	  "mbufs out of the pool: in rx rings, in flight, held by streams"),
};

static const struct key inject_keys[] = {
	K("capacity", "inject_capacity_entries", 'g', "entries the inject stream's ring holds"),
	K("max_frame", "inject_max_frame_bytes", 'g', "the largest frame a writer may commit"),
	K("writers", "inject_writers", 'g', "writers attached now (0 or 1)"),
	K("writers_total", "inject_writers_total", 'c', "writers that have attached"),
	K("reclaimed", "inject_reclaimed_total", 'c',
	  "writers that left with frames committed and not yet read"),
	K("unread", "inject_unread_frames_total", 'c',
	  "frames writers left committed and not yet read: dropped"),
	K("zero_copy", "inject_zero_copy", 'g', "1 when frames become mbufs without a copy"),
	K("orphans", "inject_orphans", 'g', "regions of gone writers still held by mbufs"),
	K("copied", "inject_copied_frames_total", 'c', "frames copied once into an mbuf"),
	K("held", "inject_held_buffers", 'g', "writer buffers mbufs still point into"),
};

static const struct key heap_keys[] = {
	K("in_use", "heap_in_use_bytes", 'g', "the C heap's live bytes (malloc; not DPDK's memory)"),
	K("free", "heap_free_bytes", 'g', "free bytes malloc keeps"),
	K("system", "heap_system_bytes", 'g', "bytes malloc holds from the kernel"),
};

/* memory.multiprocess only: DPDK's capture tools (dpdk-dumpcap, dpdk-pdump) stopped */
static const struct key capture_keys[] = {
	K("stops", "captures_stops_total", 'c',
	  "captures of DPDK's tools (dpdk-dumpcap, dpdk-pdump) stopped"),
	K("stop_timeouts", "captures_stop_timeouts_total", 'c',
	  "capture stops that did not see every worker pass in time"),
};

static const struct key reload_keys[] = {
	K("reloads", "reloads_total", 'c', "configurations moved to live"),
	K("failures", "reload_failures_total", 'c', "reloads refused, the old configuration kept"),
	K("epoch", "reload_epoch", 'g', "the graph set epoch the workers run"),
	K("live_edits", "reload_live_edits", 'g', "graph edits (beltline mount) since the config file was read"),
	K("awaiting_workers", "reload_awaiting_workers", 'g', "graphs, ports, run sets a swap left until a held worker passes its epoch"),
};

static const struct key reload_worker_keys[] = {
	K("swaps", "worker_swaps_total", 'c', "graph sets the worker took up (reloads, edits)"),
	{ "swap_max_ns", "worker_swap_max_seconds", 'g', 1e-9,
	  "the longest a worker took to take up a new graph set" },
	{ "idle_sleep_us", "worker_idle_sleep_seconds", 'g', 1e-6,
	  "how long an idle worker naps (a setting)" },
	K("idle_sleeps", "worker_idle_sleeps_total", 'c', "naps of the idle worker"),
};

static const struct key endpoint_keys[] = {
	K("connects", "endpoint_connects_total", 'c', "ring pairs set up for connectors"),
	K("refused_perm", "endpoint_refused_perm_total", 'c',
	  "connects refused: owner, group and mode do not allow the connector"),
	K("refused_busy", "endpoint_refused_busy_total", 'c',
	  "connects refused: the listener has too many not yet accepted"),
	K("failed", "endpoint_failed_total", 'c', "connects that failed to set up (or whose "
	  "listener went away)"),
	K("slots", "endpoint_slots", 'g', "messages in flight per direction"),
	K("dbuf_bytes", "endpoint_dbuf_bytes", 'g', "data bytes per direction"),
};

static const struct key user_keys[] = {
	K("capacity", "user_capacity", 'g', "the verdict stream's capacity"),
	K("clients", "user_clients", 'g', "verdict clients attached now (0 or 1)"),
	K("clients_total", "user_clients_total", 'c', "verdict clients attached, in all"),
	K("verdicts", "user_verdicts_total", 'c', "classes returned in time (the filter's own "
	  "counters have the rest: beltline_filter_user_*)"),
};

static const struct key writer_keys[] = {
	K("frames", "inject_frames_total", 'c', "frames accepted from writers"),
	K("bytes", "inject_bytes_total", 'c', "their bytes"),
	K("bad_offset", "inject_bad_offset_total", 'c', "commits refused: offset out of the region"),
	K("too_long", "inject_too_long_total", 'c', "commits refused: longer than max_frame"),
	K("empty", "inject_empty_total", 'c', "commits refused: empty"),
	K("reused", "inject_reused_total", 'c', "commits refused: a buffer committed twice"),
	K("not_got", "inject_not_got_total", 'c', "commits refused: a buffer not got first"),
	K("bad_head", "inject_bad_head_total", 'c', "writer head positions out of range"),
	K("nombuf", "inject_nombuf_total", 'c', "frames dropped for want of an mbuf"),
	K("copied", "inject_writer_copied_frames_total", 'c', "the writer's frames copied once"),
	K("zero_copy", "inject_writer_zero_copy_frames_total", 'c',
	  "the writer's frames attached without a copy"),
	K("held", "inject_writer_held_buffers", 'g', "the writer's buffers mbufs still point into"),
	K("wakeups", "inject_writer_wakeups_total", 'c',
	  "signals to the writer, sleeping for its buffers"),
};

static const struct key control_keys[] = {
	K("connections", "control_connections", 'g', "control socket connections open now"),
	K("max", "control_connections_max", 'g', "connections the server holds at most"),
	K("max_per_uid", "control_connections_max_per_uid", 'g',
	  "connections one uid but root may hold"),
	K("root_reserve", "control_connections_root_reserve", 'g',
	  "connections only root may take"),
	{ "idle_ms", "control_idle_timeout_seconds", 'g', 1e-3,
	  "an idle connection is closed after this long" },
	{ "slow_ms", "control_slow_timeout_seconds", 'g', 1e-3,
	  "a connection that takes no reply is closed after this long" },
	K("refused_uid", "control_refused_uid_total", 'c',
	  "connections refused: their uid held too many"),
	K("refused_full", "control_refused_full_total", 'c', "connections refused: the table was full"),
	K("idle_closed", "control_idle_closed_total", 'c', "connections closed as idle"),
	K("slow_closed", "control_slow_closed_total", 'c', "connections closed as slow readers"),
	K("bad_requests", "control_bad_requests_total", 'c', "malformed requests"),
	K("accept_errors", "control_accept_errors_total", 'c',
	  "accepts that failed (out of descriptors or memory), tried again each tick"),
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

static int
in_list(const char *s, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* ---- what each section of stats is: one table row, read by one walker ---- */

/* A label taken from a row's key: a string, or a number ('n'). */
struct lab {
	const char *label, *key;
	char kind;
};

/* An object of per-class counts in a row: one counter sample per class, labelled class=. */
struct cls {
	const char *key, *name, *help;
};

struct section {
	const char *stats_key;      /* its key in stats */
	int each;                   /* 1: stats_key holds rows; 0: it is the one row */
	const char *part;           /* numbers not in keys: beltline_PART_KEY, untyped */
	const struct key *keys;
	size_t n_keys;
	const struct lab *labels;   /* on every sample of the row; {NULL}-ended, or NULL */
	const char *info_name;      /* a sample of value 1 carrying labels + info ... */
	const char *info_help;
	const char *info_if;        /* ... when the row has this key (NULL: always) */
	const struct lab *info;
	const struct cls *classes;  /* {NULL}-ended, or NULL */
	void (*more)(struct expo *e, const cJSON *row, const struct labels *l);
	const char *child_key;      /* rows inside the row (each) or one object (not each) */
	const struct section *child;
	const char *const *skip;    /* other keys that are no samples */
};

#define KEYS(t) .keys = (t), .n_keys = N_OF(t)
#define LABS(...) ((const struct lab[]){ __VA_ARGS__, { NULL, NULL, 0 } })
#define CLSS(...) ((const struct cls[]){ __VA_ARGS__, { NULL, NULL, NULL } })

static int
in_labs(const char *s, const struct lab *ls)
{
	for (; ls != NULL && ls->label != NULL; ls++)
		if (strcmp(ls->key, s) == 0)
			return 1;
	return 0;
}

/*
 * Every number (or boolean) directly in obj: by the section's table, or untyped as
 * beltline_PART_KEY. Keys that are labels or listed in skip are no samples.
 */
static void
numbers(struct expo *e, const cJSON *obj, const struct section *s, const struct labels *l)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, obj) {
		char name[192], part[96], help[256];
		double x;
		size_t i;

		if ((!cJSON_IsNumber(v) && !cJSON_IsBool(v)) || v->string == NULL ||
		    in_labs(v->string, s->labels) || in_labs(v->string, s->info) ||
		    in_list(v->string, s->skip))
			continue;
		x = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsTrue(v);
		for (i = 0; i < s->n_keys && strcmp(s->keys[i].key, v->string) != 0; i++)
			;
		if (i < s->n_keys) {
			snprintf(name, sizeof(name), "beltline_%s", s->keys[i].name);
			sample(e, name, s->keys[i].type, s->keys[i].help, l,
			       s->keys[i].scale != 0 ? x * s->keys[i].scale : x);
			continue;
		}
		name_part(part, sizeof(part), v->string);
		snprintf(name, sizeof(name), "beltline_%s_%s", s->part, part);
		snprintf(help, sizeof(help), "stats %s.%s (not described to the exporter yet)",
			 s->part, v->string);
		sample(e, name, 'u', help, l, x);
	}
}

/* An object of per-class counts: one sample per class, labelled class=. */
static void
classes(struct expo *e, const cJSON *obj, const char *name, const char *help,
	const struct labels *base)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, obj) {
		struct labels l = *base;

		if (!cJSON_IsNumber(v) || v->string == NULL)
			continue;
		label(&l, "class", v->string);
		sample(e, name, 'c', help, &l, v->valuedouble);
	}
}

static void
add_labels(struct labels *l, const cJSON *row, const struct lab *ls)
{
	for (; ls != NULL && ls->label != NULL; ls++) {
		if (ls->kind == 'n')
			label_num(l, ls->label, num(row, ls->key));
		else
			label(l, ls->label, str(row, ls->key));
	}
}

static void walk(struct expo *e, const struct section *s, const cJSON *v,
		 const struct labels *l);

/* The walker: one row of a section, then the rows inside it. */
static void
row(struct expo *e, const struct section *s, const cJSON *o, const struct labels *base)
{
	struct labels l = *base;

	add_labels(&l, o, s->labels);
	if (s->info_name != NULL &&
	    (s->info_if == NULL || cJSON_GetObjectItemCaseSensitive(o, s->info_if) != NULL)) {
		struct labels li = l;

		add_labels(&li, o, s->info);
		sample(e, s->info_name, 'g', s->info_help, &li, 1);
	}
	numbers(e, o, s, &l);
	for (const struct cls *c = s->classes; c != NULL && c->key != NULL; c++)
		classes(e, cJSON_GetObjectItemCaseSensitive(o, c->key), c->name, c->help, &l);
	if (s->more != NULL)
		s->more(e, o, &l);
	if (s->child != NULL)
		walk(e, s->child, cJSON_GetObjectItemCaseSensitive(o, s->child_key), &l);
}

static void
walk(struct expo *e, const struct section *s, const cJSON *v, const struct labels *l)
{
	const cJSON *o;

	if (!s->each) {
		row(e, s, v, l);
		return;
	}
	cJSON_ArrayForEach(o, v)
		row(e, s, o, l);
}

/* A filter's own counters (docs/filters.md), named after its type; those the filter's
 * "gauges" lists (its counter table says so: bl_counter_def.gauge) are gauges. */
static void
filter_counters(struct expo *e, const cJSON *row, const struct labels *l)
{
	const char *type = str(row, "filter");
	const cJSON *v;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(row, "counters")) {
		char name[192], t[64], c[96], help[256];
		int gauge;
		size_t n;

		if (!cJSON_IsNumber(v) || v->string == NULL)
			continue;
		gauge = bl_cli_json_lists(cJSON_GetObjectItemCaseSensitive(row, "gauges"), v->string);
		name_part(t, sizeof(t), type);
		name_part(c, sizeof(c), v->string);
		n = strlen(c);
		snprintf(name, sizeof(name), "beltline_filter_%s_%s%s", t, c,
			 gauge || (n >= 6 && strcmp(c + n - 6, "_total") == 0) ? "" : "_total");
		snprintf(help, sizeof(help), "the %s filter's counter %s%s (docs/filters.md)", type,
			 v->string, gauge ? ", a value" : "");
		sample(e, name, gauge ? 'g' : 'c', help, l, v->valuedouble);
	}
}

static const struct section top_section = {
	.part = "stats", KEYS(top_keys), .skip = (const char *const[]){ "instance", NULL },
};

static const struct section reader_section = {
	.each = 1, .part = "reader", KEYS(reader_keys),
	.labels = LABS({ "reader", "reader", 'n' }, { "pid", "pid", 'n' },
		       { "client", "client", 's' }, { "policy", "policy", 's' }),
};

static const struct section reload_worker_section = {
	.each = 1, .part = "worker", KEYS(reload_worker_keys),
	.labels = LABS({ "lcore", "lcore", 'n' }),
};

static const struct section writer_section = {
	.part = "inject", KEYS(writer_keys),
	.info_name = "beltline_inject_writer_info",
	.info_help = "the inject stream's writer now (always 1)", .info_if = "pid",
	.info = LABS({ "pid", "pid", 'n' }, { "uid", "uid", 'n' }, { "client", "client", 's' }),
};

/* The sections of stats, in no particular order (stats' own order is kept). */
static const struct section sections[] = {
	{ .stats_key = "ports", .each = 1, .part = "port", KEYS(port_keys),
	  .labels = LABS({ "port", "name", 's' }) },
	{ .stats_key = "filters", .each = 1, .part = "filter", KEYS(filter_keys),
	  .labels = LABS({ "graph", "graph", 's' }, { "filter", "name", 's' },
			 { "type", "filter", 's' }),
	  .classes = CLSS({ "classes_in", "beltline_filter_class_in_packets_total",
			    "packets that reached the filter, per class (its in-edges)" },
			  { "classes", "beltline_filter_class_out_packets_total",
			    "packets that left the filter, per class (the first 16 classes; the "
			    "rest as other)" }),
	  .more = filter_counters },
	{ .stats_key = "graphs", .each = 1, .part = "graph", KEYS(graph_keys),
	  .labels = LABS({ "graph", "graph", 's' }, { "lcore", "lcore", 'n' }) },
	{ .stats_key = "edges", .each = 1, .part = "edge", KEYS(edge_keys),
	  .labels = LABS({ "graph", "graph", 's' }, { "from", "from", 's' }, { "to", "to", 's' }),
	  .classes = CLSS({ "classes", "beltline_edge_class_packets_total",
			    "packets the edge carried, per class" }) },
	{ .stats_key = "streams", .each = 1, .part = "stream", KEYS(stream_keys),
	  .labels = LABS({ "stream", "name", 's' }),
	  .info_name = "beltline_stream_info",
	  .info_help = "a stream, its policy and what it holds: packets, flows, tcp (always 1)",
	  .info = LABS({ "policy", "policy", 's' }, { "content", "content", 's' }),
	  .child_key = "readers", .child = &reader_section },
	{ .stats_key = "injects", .each = 1, .part = "inject", KEYS(inject_keys),
	  .labels = LABS({ "inject", "name", 's' }),
	  .info_name = "beltline_inject_info",
	  .info_help = "an inject stream, its owner, group and mode (always 1)",
	  .info = LABS({ "owner", "owner", 's' }, { "group", "group", 's' },
		       { "mode", "mode", 's' }),
	  .child_key = "writer", .child = &writer_section },
	{ .stats_key = "mbufs", .part = "mbuf", KEYS(mbuf_keys) },
	{ .stats_key = "heap", .part = "heap", KEYS(heap_keys) },
	{ .stats_key = "captures", .part = "captures", KEYS(capture_keys) },
	{ .stats_key = "reload", .part = "reload", KEYS(reload_keys),
	  .child_key = "workers", .child = &reload_worker_section },
	{ .stats_key = "endpoints", .each = 1, .part = "endpoint", KEYS(endpoint_keys),
	  .labels = LABS({ "endpoint", "name", 's' }),
	  .skip = (const char *const[]){ "pid", NULL },
	  .info_name = "beltline_endpoint_info",
	  .info_help = "an endpoint, its listener's pid, owner, group and mode (always 1)",
	  .info = LABS({ "pid", "pid", 'n' }, { "owner", "owner", 'n' }, { "group", "group", 'n' },
		       { "mode", "mode", 's' }) },
	{ .stats_key = "users", .each = 1, .part = "user", KEYS(user_keys),
	  .labels = LABS({ "user", "name", 's' }),
	  .skip = (const char *const[]){ "client_pid", NULL },
	  .info_name = "beltline_user_info",
	  .info_help = "a user filter's verdict stream, its owner, group and mode (always 1)",
	  .info = LABS({ "owner", "owner", 's' }, { "group", "group", 's' },
		       { "mode", "mode", 's' }) },
	{ .stats_key = "control", .part = "control", KEYS(control_keys) },
};
/* ---- the exposition ---- */

static char *
finish(struct expo *e, size_t *len)
{
	char *out = NULL, help[600];
	size_t n = 0, cap = 0;

	for (unsigned int i = 0; i < e->n && !e->oom; i++) {
		const struct fam *f = &e->f[i];
		int h;

		put_help(help, sizeof(help), f->help);
		h = snprintf(NULL, 0, "# HELP %s %s\n# TYPE %s %s\n", f->name, help, f->name,
			     type_name(f->type));
		if (h < 0 || grow(&out, &cap, n + (size_t)h + f->len + 1) < 0) {
			e->oom = 1;
			break;
		}
		snprintf(out + n, cap - n, "# HELP %s %s\n# TYPE %s %s\n", f->name, help, f->name,
			 type_name(f->type));
		n += (size_t)h;
		memcpy(out + n, f->buf, f->len);
		n += f->len;
		out[n] = '\0';
	}
	for (unsigned int i = 0; i < e->n; i++)
		free(e->f[i].buf);
	free(e->f);
	if (e->oom) {
		free(out);
		return NULL;
	}
	if (out == NULL)
		out = calloc(1, 1);
	if (len != NULL && out != NULL)
		*len = n;
	return out;
}

static void
up(struct expo *e, const struct labels *l, int v)
{
	sample(e, "beltline_up", 'g', "1 when the instance answered the exporter's stats request",
	       l, v);
}

char *
bl_prom_render(const cJSON *stats, const char *instance, size_t *len)
{
	struct expo e = { 0 };
	struct labels l = { .n = 0 };
	const cJSON *v;

	label(&l, "instance", instance);
	up(&e, &l, 1);
	walk(&e, &top_section, stats, &l);
	cJSON_ArrayForEach(v, stats) {
		size_t i;

		if (v->string == NULL)
			continue;
		for (i = 0; i < N_OF(sections) && strcmp(sections[i].stats_key, v->string) != 0; i++)
			;
		if (i < N_OF(sections)) {
			walk(&e, &sections[i], v, &l);
		} else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
			/* a section this exporter does not know yet: its numbers untyped, a
			 * list's rows labelled by their name */
			char sec[64];
			struct section unknown = { .part = sec, .each = cJSON_IsArray(v),
				.labels = cJSON_IsArray(v) ? LABS({ "name", "name", 's' }) : NULL };

			name_part(sec, sizeof(sec), v->string);
			walk(&e, &unknown, v, &l);
		}
	}
	return finish(&e, len);
}

char *
bl_prom_render_down(const char *instance, size_t *len)
{
	struct expo e = { 0 };
	struct labels l = { .n = 0 };

	label(&l, "instance", instance);
	up(&e, &l, 0);
	return finish(&e, len);
}
