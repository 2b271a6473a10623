/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK telemetry commands /beltline/stats and /beltline/streams (telemetry.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_telemetry.h>

#include <cjson/cJSON.h>

#include "telemetry.h"

#define TEL_WAIT_MS 2000   /* a callback waits this long for the main lcore */

enum tel_state {
	TEL_IDLE,       /* no request */
	TEL_ASKED,      /* a callback waits for the main lcore */
	TEL_DONE,       /* the main lcore left the answer in `answer` */
	TEL_ABANDONED,  /* the callback gave up waiting: the main lcore drops its answer */
};

/* Shared by the main lcore and EAL's telemetry threads: every field under `lock`. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* state changed */
	enum tel_state state;
	bool serving;               /* between bl_tel_start and bl_tel_stop */
	bool registered;            /* the commands exist (they cannot be taken back) */
	cJSON *answer;
	bl_tel_build_fn build;
	void *arg;
} tel = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void
deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* A telemetry thread: the stats JSON from the main lcore, or NULL (-errno in *rc). */
static cJSON *
ask(int *rc)
{
	struct timespec until;
	cJSON *j = NULL;
	int w = 0;

	deadline_in(&until, TEL_WAIT_MS);
	pthread_mutex_lock(&tel.lock);
	while (tel.serving && tel.state != TEL_IDLE && w != ETIMEDOUT)   /* another asks */
		w = pthread_cond_timedwait(&tel.cond, &tel.lock, &until);
	if (!tel.serving || w == ETIMEDOUT) {
		*rc = tel.serving ? -EBUSY : -ENODEV;
		pthread_mutex_unlock(&tel.lock);
		return NULL;
	}
	tel.state = TEL_ASKED;
	while (tel.serving && tel.state == TEL_ASKED && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&tel.cond, &tel.lock, &until);
	if (tel.state == TEL_DONE) {
		j = tel.answer;
		tel.answer = NULL;
		tel.state = TEL_IDLE;
	} else {
		tel.state = TEL_ABANDONED;
		*rc = tel.serving ? -ETIMEDOUT : -ENODEV;
	}
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
	return j;
}

void
bl_tel_serve(void)
{
	enum tel_state s;
	cJSON *j;

	pthread_mutex_lock(&tel.lock);
	s = tel.state;
	if (s == TEL_ABANDONED) {
		tel.state = TEL_IDLE;
		pthread_cond_broadcast(&tel.cond);
	}
	pthread_mutex_unlock(&tel.lock);
	if (s != TEL_ASKED)
		return;
	j = tel.build(tel.arg);   /* set before serving began; the main lcore's data */
	pthread_mutex_lock(&tel.lock);
	if (tel.state == TEL_ASKED && j != NULL) {
		tel.answer = j;
		tel.state = TEL_DONE;
		j = NULL;
	} else if (tel.state == TEL_ABANDONED || tel.state == TEL_ASKED) {
		tel.state = TEL_IDLE;    /* gave up, or no memory: the callback times out */
	}
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
	cJSON_Delete(j);
}

/* ---- JSON to telemetry data: dicts of dicts, nested objects as "a/b" keys ---- */

/* 22.11 takes dict keys of [A-Za-z0-9_/] only: anything else becomes '_'. */
static void
tel_name(char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '/'))
			*s = '_';
}

static void
put_scalar(struct rte_tel_data *d, const char *key, const cJSON *v)
{
	if (cJSON_IsString(v))
		rte_tel_data_add_dict_string(d, key, v->valuestring);
	else if (cJSON_IsBool(v))
		rte_tel_data_add_dict_int(d, key, cJSON_IsTrue(v));
	else if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		rte_tel_data_add_dict_u64(d, key, (uint64_t)(v->valuedouble + 0.5));
	else if (cJSON_IsNumber(v))
		rte_tel_data_add_dict_int(d, key, (int)v->valuedouble);
}

/* The scalars of o (and of objects inside it, as "key/sub") into the dict d. */
static void
flatten(struct rte_tel_data *d, const cJSON *o, const char *prefix)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, o) {
		char key[RTE_TEL_MAX_STRING_LEN];

		if (v->string == NULL)
			continue;
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "/" : "", v->string);
		tel_name(key);
		if (cJSON_IsObject(v))
			flatten(d, v, key);
		else if (!cJSON_IsArray(v))
			put_scalar(d, key, v);
	}
}

/* A row's name: the values of these keys joined with '/'. */
static void
row_name(const cJSON *row, const char *const *keys, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *keys != NULL && n < size; keys++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, *keys);
		int w;

		if (cJSON_IsString(v))
			w = snprintf(buf + n, size - n, "%s%s", n ? "/" : "", v->valuestring);
		else if (cJSON_IsNumber(v))
			w = snprintf(buf + n, size - n, "%s%.0f", n ? "/" : "", v->valuedouble);
		else
			continue;
		if (w > 0)
			n += (size_t)w;
	}
}

/* An array of rows as a dict of dicts, each named by its keys. */
static int
rows(struct rte_tel_data *d, const cJSON *arr, const char *const *keys)
{
	const cJSON *row;

	rte_tel_data_start_dict(d);
	cJSON_ArrayForEach(row, arr) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[RTE_TEL_MAX_STRING_LEN];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		flatten(c, row, "");
		row_name(row, keys, name, sizeof(name));
		tel_name(name);
		if (rte_tel_data_add_dict_container(d, name, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static const char *const port_keys[] = { "name", NULL };
static const char *const filter_keys[] = { "graph", "name", NULL };
static const char *const edge_keys[] = { "graph", "from", "to", NULL };
static const char *const stream_keys[] = { "name", NULL };
static const char *const reader_keys[] = { "reader", NULL };

static int
section(struct rte_tel_data *d, const cJSON *j, const char *name)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, name);

	if (strcmp(name, "ports") == 0 || strcmp(name, "injects") == 0)
		return rows(d, s, port_keys);
	if (strcmp(name, "filters") == 0)
		return rows(d, s, filter_keys);
	if (strcmp(name, "edges") == 0)
		return rows(d, s, edge_keys);
	if (strcmp(name, "streams") == 0)
		return rows(d, s, stream_keys);
	if (strcmp(name, "mbufs") == 0 || strcmp(name, "control") == 0) {
		rte_tel_data_start_dict(d);
		flatten(d, s, "");
		return 0;
	}
	return -EINVAL;
}

static int
cb_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = 0;
	cJSON *j;

	(void)cmd;
	if (params != NULL && params[0] != '\0') {   /* refuse a bad name before asking */
		static const char *const ok[] = { "ports", "filters", "edges", "streams", "injects",
			"mbufs", "control", NULL };
		const char *const *p;
		for (p = ok; *p != NULL && strcmp(*p, params) != 0; p++)
			;
		if (*p == NULL)
			return -EINVAL;
	}
	j = ask(&rc);
	if (j == NULL)
		return rc;
	if (params != NULL && params[0] != '\0') {
		rc = section(d, j, params);
	} else {
		struct rte_tel_data *c;
		rte_tel_data_start_dict(d);
		put_scalar(d, "instance", cJSON_GetObjectItemCaseSensitive(j, "instance"));
		put_scalar(d, "uptime_s", cJSON_GetObjectItemCaseSensitive(j, "uptime_s"));
		for (const char *const *s = (const char *const[]){ "ports", "mbufs", "control", NULL };
		     *s != NULL && rc == 0; s++) {
			c = rte_tel_data_alloc();
			if (c == NULL) {
				rc = -ENOMEM;
				break;
			}
			section(c, j, *s);
			if (rte_tel_data_add_dict_container(d, *s, c, 0) != 0)
				rte_tel_data_free(c);
		}
	}
	cJSON_Delete(j);
	return rc;
}

/* One stream's readers summed: the largest lag, all they lost. */
static void
reader_sums(struct rte_tel_data *d, const cJSON *readers)
{
	uint64_t lag = 0, lost = 0;
	const cJSON *r;

	cJSON_ArrayForEach(r, readers) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "lag");
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, "lost");
		if (cJSON_IsNumber(l) && l->valuedouble > (double)lag)
			lag = (uint64_t)l->valuedouble;
		if (cJSON_IsNumber(x))
			lost += (uint64_t)x->valuedouble;
	}
	rte_tel_data_add_dict_u64(d, "readers_max_lag", lag);
	rte_tel_data_add_dict_u64(d, "readers_lost", lost);
}

static int
cb_streams(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const cJSON *s;
	int rc = 0, found = 0;
	cJSON *j;

	(void)cmd;
	j = ask(&rc);
	if (j == NULL)
		return rc;
	rte_tel_data_start_dict(d);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "streams")) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(s, "name");
		const cJSON *readers = cJSON_GetObjectItemCaseSensitive(s, "readers");
		char key[RTE_TEL_MAX_STRING_LEN];
		struct rte_tel_data *c;

		if (!cJSON_IsString(nm))
			continue;
		if (params != NULL && params[0] != '\0') {   /* one stream: it, then its readers */
			if (strcmp(params, nm->valuestring) != 0)
				continue;
			found = 1;
			flatten(d, s, "");
			reader_sums(d, readers);
			c = rte_tel_data_alloc();
			if (c != NULL && rows(c, readers, reader_keys) == 0 &&
			    rte_tel_data_add_dict_container(d, "readers", c, 0) == 0)
				c = NULL;
			rte_tel_data_free(c);
			continue;
		}
		c = rte_tel_data_alloc();
		if (c == NULL) {
			rc = -ENOMEM;
			break;
		}
		rte_tel_data_start_dict(c);
		flatten(c, s, "");
		reader_sums(c, readers);
		snprintf(key, sizeof(key), "%s", nm->valuestring);
		tel_name(key);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	cJSON_Delete(j);
	if (rc == 0 && params != NULL && params[0] != '\0' && !found)
		rc = -ENOENT;
	return rc;
}

int
bl_tel_start(bl_tel_build_fn build, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&tel.lock);
	tel.build = build;
	tel.arg = arg;
	tel.state = TEL_IDLE;
	tel.serving = true;
	if (!tel.registered) {   /* help texts: under 128 bytes (22.11's MAX_HELP_LEN) */
		rc = rte_telemetry_register_cmd("/beltline/stats", cb_stats,
			"Beltline stats. Parameter: a section (ports, filters, edges, streams, "
			"injects, mbufs, control)");
		if (rc == 0)
			rc = rte_telemetry_register_cmd("/beltline/streams", cb_streams,
				"Beltline streams. Parameter: a stream, for its readers");
		tel.registered = rc == 0;
	}
	pthread_mutex_unlock(&tel.lock);
	return rc;
}

void
bl_tel_stop(void)
{
	pthread_mutex_lock(&tel.lock);
	tel.serving = false;
	cJSON_Delete(tel.answer);
	tel.answer = NULL;
	tel.state = TEL_IDLE;
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
}
