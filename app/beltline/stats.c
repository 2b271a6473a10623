/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline ls, stats and top: the instance's streams with their rate, its
 * counters, and its counters refreshed as rates per second (print.c prints them).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_time.h"
#include "cli_pvt.h"
#include "json_list.h"

/* ---- rates: two snapshots, the counters' growth per second ---- */

/* Numbers in a stats reply that are levels or settings, not counts: shown as they are. */
static const char *const gauges[] = {
	"capacity", "max_readers", "n_readers", "uptime_s", "pool_size", "in_use", "connections",
	"max", "max_per_uid", "root_reserve", "idle_ms", "slow_ms", "pid", "uid", "lag", "overrun",
	"max_frame", "writer_pid", "writers", "queue", "lcore", "last_errno", "pos",
	/* heap, streams that grow, reload and its workers, injects, endpoints, users */
	"free", "system", "max_capacity", "epoch", "live_edits", "awaiting_workers", "idle_sleep_us", "swap_max_ns",
	"orphans", "held", "owner", "group", "slots", "dbuf_bytes", "max_msg",
	"client_pid", "clients", "reader", NULL,
};

static int
is_gauge(const char *key)
{
	for (unsigned int i = 0; gauges[i] != NULL; i++)
		if (strcmp(key, gauges[i]) == 0)
			return 1;
	return 0;
}

/* row[key], a number, as name (or the number, when no account has it). */
static void
id_as_name(cJSON *row, const char *key, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
	char buf[64];

	if (!cJSON_IsNumber(v))
		return;
	if (name != NULL)
		snprintf(buf, sizeof(buf), "%s", name);
	else
		snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
	cJSON_ReplaceItemInObjectCaseSensitive(row, key, cJSON_CreateString(buf));
}

/* An endpoint's owner and group come as numbers (stats --json, as they always have);
 * the table shows names, as for the streams, injects and users. */
static void
ids_as_names(cJSON *rows)
{
	cJSON *row;

	cJSON_ArrayForEach(row, rows) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(row, "owner");
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(row, "group");
		const struct passwd *pw = cJSON_IsNumber(o) ? getpwuid((uid_t)o->valuedouble) : NULL;
		const struct group *gr = cJSON_IsNumber(g) ? getgrgid((gid_t)g->valuedouble) : NULL;

		id_as_name(row, "owner", pw != NULL ? pw->pw_name : NULL);
		id_as_name(row, "group", gr != NULL ? gr->gr_name : NULL);
	}
}

/* Numbers that say who a row is, not how much: a reader's page and process (two readers
 * of one stream by the same program with the same policy differ in nothing else). */
static const char *const row_ids[] = { "reader", "pid", NULL };

/* The same row in both snapshots: every string member (name, graph, from, to) alike, and
 * the numbers of row_ids it has. */
static int
same_row(const cJSON *a, const cJSON *b)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, a)
		if (cJSON_IsString(f)) {
			const cJSON *g = cJSON_GetObjectItemCaseSensitive(b, f->string);
			if (!cJSON_IsString(g) || strcmp(f->valuestring, g->valuestring) != 0)
				return 0;
		}
	for (unsigned int i = 0; row_ids[i] != NULL; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, row_ids[i]);
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, row_ids[i]);
		if (cJSON_IsNumber(x) && (!cJSON_IsNumber(y) || x->valuedouble != y->valuedouble))
			return 0;
	}
	return 1;
}

/* Turn every counter of cur into its growth per second since prev (dt seconds before).
 * A counter that went down (the instance restarted) or a row that is not in prev keeps
 * its total. values: the names in cur that are values, not counts (a filter's "counters"
 * are told apart by the filter's "gauges" list), shown as they are; NULL: none. */
/* The row of prev that is f's: by its name (a tap's stream or a filter added since
 * moves every later row), else the one at i. */
static const cJSON *
row_in(const cJSON *prev, const cJSON *f, int i)
{
	const cJSON *p;

	if (!cJSON_IsObject(f))
		return cJSON_GetArrayItem(prev, i);
	p = cJSON_GetArrayItem(prev, i);
	if (p != NULL && same_row(f, p))
		return p;
	cJSON_ArrayForEach(p, prev)
		if (cJSON_IsObject(p) && same_row(f, p))
			return p;
	return NULL;
}

/* values: in a filter's "counters" (counters set), its "gauges" list, which alone says
 * which of them are levels (the names above are the fixed sections': a filter's counter
 * named like one, tcpgen's "connections", was shown as a total among rates). */
static void
to_rates(cJSON *cur, const cJSON *prev, double dt, const cJSON *values, int counters)
{
	cJSON *f;
	int i = 0;

	if (prev == NULL || dt <= 0)
		return;
	cJSON_ArrayForEach(f, cur) {
		const cJSON *p = cJSON_IsArray(cur) ? row_in(prev, f, i++) :
			cJSON_GetObjectItemCaseSensitive(prev, f->string);
		if (p == NULL)
			continue;
		if (cJSON_IsNumber(f) && cJSON_IsNumber(p) && f->string != NULL &&
		    !(counters ? bl_cli_json_lists(values, f->string) : is_gauge(f->string))) {
			if (f->valuedouble >= p->valuedouble)
				cJSON_SetNumberValue(f, (double)(long long)((f->valuedouble -
						      p->valuedouble) / dt + 0.5));
		} else if (cJSON_IsObject(f) && cJSON_IsObject(p) && same_row(f, p)) {
			int c = f->string != NULL && strcmp(f->string, "counters") == 0;
			to_rates(f, p, dt, c ? cJSON_GetObjectItemCaseSensitive(cur, "gauges") : NULL, c);
		} else if (cJSON_IsArray(f) && cJSON_IsArray(p)) {
			to_rates(f, p, dt, NULL, 0);
		}
	}
}

/*
 * The seconds between two replies for a rate: the difference of their uptime_s, the
 * appliance's clock where it read the counters; without it (an older appliance), the
 * client's own, which also counts what a reply spent in the socket and the client off
 * its CPU before it read its clock (a first reply held 1.5 s made a rate of 1000/s
 * look like 4000 over ls's 0.5 s).
 */
static double
reply_dt(const cJSON *before, const cJSON *after, double client_dt)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(before, "uptime_s");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(after, "uptime_s");

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b) && b->valuedouble > a->valuedouble)
		return b->valuedouble - a->valuedouble;
	return client_dt;
}

/* Sleep ms, or less when interrupted. */
static void
nap(long ms)
{
	for (long t = 0; t < ms / 100 && !bl_cli_stop; t++)
		poll(NULL, 0, 100);
	if (!bl_cli_stop)
		poll(NULL, 0, (int)(ms % 100));
}

#define LS_RATE_MS 500   /* ls: how long it watches for its rate column */

/* ls's rate column: each row's `key` per second, from two replies dt seconds apart. */
static void
add_rate_column(cJSON *rows, const cJSON *before, const char *key, double dt)
{
	cJSON *row;

	cJSON_ArrayForEach(row, rows) {
		const cJSON *now = cJSON_GetObjectItemCaseSensitive(row, key), *b, *was = NULL;
		cJSON_ArrayForEach(b, before)
			if (same_row(row, b))
				was = cJSON_GetObjectItemCaseSensitive(b, key);
		if (cJSON_IsNumber(now) && cJSON_IsNumber(was) && now->valuedouble >= was->valuedouble)
			cJSON_AddNumberToObject(row, "pps", (double)(long long)((now->valuedouble -
						was->valuedouble) / dt + 0.5));
		else
			cJSON_AddStringToObject(row, "pps", "-");
	}
}

int
bl_cli_ls(int argc, char **argv, const char *instance)
{
	const cJSON *streams, *rows;
	cJSON *j;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "beltline: ls takes no argument\n");
		return 2;
	}
	cJSON *before;
	double t0, dt;

	rc = bl_cli_request(instance, BELTLINE_CTL_LIST, &before);
	if (rc != 0)
		return rc;
	t0 = bl_mono_s();
	nap(LS_RATE_MS);
	rc = bl_cli_request(instance, BELTLINE_CTL_LIST, &j);
	if (rc != 0) {
		cJSON_Delete(before);
		return rc;
	}
	dt = reply_dt(before, j, bl_mono_s() - t0);
	add_rate_column(cJSON_GetObjectItemCaseSensitive(j, "streams"),
			cJSON_GetObjectItemCaseSensitive(before, "streams"), "written", dt);
	add_rate_column(cJSON_GetObjectItemCaseSensitive(j, "injects"),
			cJSON_GetObjectItemCaseSensitive(before, "injects"), "frames", dt);
	cJSON_Delete(before);
	streams = cJSON_GetObjectItemCaseSensitive(j, "streams");
	if (!cJSON_IsArray(streams) || cJSON_GetArraySize(streams) == 0)   /* (the list has
		 * only the streams we may read: root may read all) */
		printf("instance '%s' exports no stream%s\n", instance,
		       geteuid() == 0 ? "" : " you may read");
	else
		bl_cli_print_table("streams", streams, 0);
	rows = cJSON_GetObjectItemCaseSensitive(j, "injects");
	if (cJSON_IsArray(rows) && cJSON_GetArraySize(rows) != 0)
		bl_cli_print_table("injects", rows, 0);
	rows = cJSON_GetObjectItemCaseSensitive(j, "users");
	if (cJSON_IsArray(rows) && cJSON_GetArraySize(rows) != 0)
		bl_cli_print_table("users", rows, 0);
	rows = cJSON_GetObjectItemCaseSensitive(j, "endpoints");
	if (cJSON_IsArray(rows) && cJSON_GetArraySize(rows) != 0) {
		ids_as_names(cJSON_GetObjectItemCaseSensitive(j, "endpoints"));
		bl_cli_print_table("endpoints", rows, 0);
	}
	cJSON_Delete(j);
	return 0;
}

int
bl_cli_stats(int argc, char **argv, const char *instance)
{
	int json = 0, rc;
	cJSON *j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "beltline: stats: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	rc = bl_cli_request(instance, BELTLINE_CTL_STATS, &j);
	if (rc != 0)
		return rc;
	if (json) {
		char *t = cJSON_Print(j);
		printf("%s\n", t != NULL ? t : "{}");
		free(t);
	} else {
		ids_as_names(cJSON_GetObjectItemCaseSensitive(j, "endpoints"));   /* as ls */
		bl_cli_print_report(j);
	}
	cJSON_Delete(j);
	return 0;
}

int
bl_cli_top(int argc, char **argv, const char *instance)
{
	long delay = 1, n = 0;
	int c, rc = 0, totals = 0;
	cJSON *prev = NULL;
	double t_prev = 0;

	optind = 0;   /* glibc: start over (argv[0] is the command) */
	while ((c = getopt(argc, argv, "+d:n:t")) != -1) {
		long *dst = c == 'd' ? &delay : c == 'n' ? &n : NULL;
		unsigned long long v;
		if (c == 't') {
			totals = 1;
			continue;
		}
		if (dst == NULL)
			return 2;
		/* -d at most a day: delay * 10 polls must not overflow */
		if (bl_cli_number(optarg, 1, c == 'd' ? 86400 : LONG_MAX, &v) < 0) {
			fprintf(stderr, "beltline: top: -%c wants a number 1..%ld, got '%s'\n", c,
				c == 'd' ? 86400L : LONG_MAX, optarg);
			return 2;
		}
		*dst = (long)v;
	}
	if (optind != argc) {   /* "+": options stop at the first other word, which would hide -n */
		fprintf(stderr, "beltline: top: unexpected argument '%s'\n" BL_CLI_SEE_HELP, argv[optind]);
		return 2;
	}
	/* Rates need a first snapshot: taken now, shown after the first interval. */
	if (!totals) {
		rc = bl_cli_request(instance, BELTLINE_CTL_STATS, &prev);
		if (rc != 0)
			return rc;
		t_prev = bl_mono_s();
		nap(delay * 1000);
	}
	for (long i = 0; !bl_cli_stop && (n == 0 || i < n); i++) {
		cJSON *j, *shown;
		double t;
		rc = bl_cli_request(instance, BELTLINE_CTL_STATS, &j);
		if (rc != 0) {
			cJSON_Delete(prev);
			return rc;
		}
		t = bl_mono_s();
		shown = totals ? j : cJSON_Duplicate(j, 1);
		if (shown == NULL) {
			cJSON_Delete(j);
			cJSON_Delete(prev);
			return 1;
		}
		if (!totals)
			to_rates(shown, prev, reply_dt(prev, j, t - t_prev), NULL, 0);
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		printf("beltline top — instance %s — every %lds — %s (^C quits)\n\n", instance, delay,
		       totals ? "totals" : "counters per second (-t: totals)");
		bl_cli_print_report(shown);
		if (shown != j)
			cJSON_Delete(shown);
		cJSON_Delete(prev);
		prev = j;
		t_prev = t;
		if (!bl_cli_stdout_ok())
			break;  /* the reader left (top | head), or a full disk: main says which */
		if (n == 0 || i + 1 < n)
			nap(delay * 1000);
	}
	cJSON_Delete(prev);
	return rc;
}
