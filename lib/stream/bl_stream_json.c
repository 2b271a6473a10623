/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream_json — the streams as the control socket shows them: `ls` (list),
 * `stats` (streams and readers) and the attach reply (docs/control.md). Main
 * lcore only; counters are read relaxed, a snapshot for people.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "bl_atomic.h"
#include "bl_ibuf.h"
#include "bl_stream.h"
#include "bl_stream_pvt.h"

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

cJSON *
bl_stream_list_json(const struct bl_stream_cred *who)
{
	cJSON *arr = cJSON_CreateArray();

	for (unsigned int i = 0; arr != NULL && i < BL_STREAM_MAX; i++) {
		const struct bl_stream *x = bl_stream_at(i);
		struct bl_ibuf_stats st;
		cJSON *o;

		if (x == NULL || !bl_stream_may_read(x, who))
			continue;
		bl_ibuf_stats(x->ib, &st);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", x->name);
		cJSON_AddStringToObject(o, "policy", bl_stream_policy_name(x->policy));
		N(o, "capacity", bl_stream_capacity_now(x));
		if (x->max_capacity > x->capacity) {   /* a stream that grows */
			N(o, "min_capacity", x->capacity);
			N(o, "max_capacity", x->max_capacity);
			N(o, "resizes", bl_stream_resizes(x));
		}
		N(o, "readers", st.n_active);
		N(o, "max_readers", x->max_readers);
		bl_stream__perm_json(o, x->uid, x->gid, x->mode);
		N(o, "written", st.written);
		N(o, "dropped", st.dropped);
		/* last: the columns scripts read off `beltline ls` keep their places */
		cJSON_AddStringToObject(o, "content", bl_stream_content_name(x->content));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *
bl_stream_stats_json(void)
{
	cJSON *arr = cJSON_CreateArray();

	for (unsigned int i = 0; arr != NULL && i < BL_STREAM_MAX; i++) {
		const struct bl_stream *x = bl_stream_at(i);
		struct bl_ibuf_stats st;
		cJSON *o, *rs;
		uint64_t cap;

		if (x == NULL || x->kind != BL_STREAM_EXPORT)
			continue;
		bl_ibuf_stats(x->ib, &st);
		cap = bl_stream_capacity_now(x);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", x->name);
		cJSON_AddStringToObject(o, "policy", bl_stream_policy_name(x->policy));
		N(o, "capacity", bl_stream_capacity_now(x));
		N(o, "max_capacity", x->max_capacity);
		N(o, "resizes", bl_stream_resizes(x));
		N(o, "written", st.written);
		N(o, "dropped", st.dropped);
		N(o, "overwritten", st.overwritten);
		N(o, "clamps", st.clamps);
		N(o, "detached", st.detached);
		/* the writer's copies (a copy DBuf's stream; a tap's of inject frames) and the
		 * packets dropped for want of an mbuf to copy into: relaxed, the writer's */
		N(o, "copied", bl_counter_read(&x->w.copied));
		N(o, "copy_nombuf", bl_counter_read(&x->w.copy_nombuf));
		/* relaxed: a counter (bl_stream_wake.c adds with relaxed). */
		N(o, "wakeups", __atomic_load_n(&x->wake.signals, __ATOMIC_RELAXED));
		N(o, "n_readers", st.n_active);
		cJSON_AddStringToObject(o, "content", bl_stream_content_name(x->content));
		rs = cJSON_AddArrayToObject(o, "readers");
		for (unsigned int r = 0; r < x->max_readers && r < BL_IBUF_MAX_READERS; r++) {
			const struct bl_ibuf_reader_stats *s = &st.r[r];
			cJSON *e;

			if (!s->active)
				continue;
			e = cJSON_CreateObject();
			N(e, "reader", r);
			cJSON_AddStringToObject(e, "policy", bl_stream_policy_name(s->policy));
			N(e, "pid", s->pid);
			cJSON_AddStringToObject(e, "client", x->reader[r].client);
			N(e, "pos", s->pos);
			N(e, "lag", st.head > s->pos ? st.head - s->pos : 0);
			/* entries the ring has overwritten that this reader has not read: lost,
			 * though its lost counts them only when it reads again (a stalled FRP
			 * reader showed lag 7282 on a ring of 1024 with lost 0) */
			N(e, "overrun", st.head > s->pos && st.head - s->pos > cap ?
					st.head - s->pos - cap : 0);
			N(e, "consumed", s->consumed);
			N(e, "lost", s->lost + s->check_fail);
			N(e, "laps", s->laps);
			N(e, "clamps", s->clamps);
			cJSON_AddItemToArray(rs, e);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void
bl_stream__perm_json(cJSON *o, uid_t uid, gid_t gid, mode_t mode)
{
	char buf[64];

	bl_stream__user_name(uid, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "owner", buf);
	bl_stream__group_name(gid, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "group", buf);
	snprintf(buf, sizeof(buf), "%04o", (unsigned int)mode);
	cJSON_AddStringToObject(o, "mode", buf);
}

cJSON *
bl_stream_grant_json(const struct bl_stream *s, const struct bl_stream_grant *g)
{
	cJSON *j = cJSON_CreateObject(), *names = cJSON_CreateArray();

	if (j == NULL || names == NULL) {
		cJSON_Delete(j);
		cJSON_Delete(names);
		return NULL;
	}
	for (unsigned int i = 0; i < g->n_fds; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(g->fd_name[i]));
	cJSON_AddStringToObject(j, "stream", s->name);
	cJSON_AddStringToObject(j, "content", bl_stream_content_name(s->content));
	cJSON_AddStringToObject(j, "policy", bl_stream_policy_name(g->policy));
	cJSON_AddStringToObject(j, "stream_policy", bl_stream_policy_name(s->policy));
	N(j, "capacity", bl_stream_capacity_now(s));
	N(j, "reader", g->reader);
	N(j, "wake_count", s->wake_count);
	N(j, "wake_us", s->wake_us);
	N(j, "linktype", 1);
	cJSON_AddItemToObject(j, "fds", names);
	return j;
}
