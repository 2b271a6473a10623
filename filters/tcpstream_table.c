/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpstream_table — the tcpstream filter's connections (tcpstream_pvt.h): an
 * open-addressed table of max_streams connections in at least twice as many slots
 * (linear probing, backward-shift deletion: no tombstones), keyed by lib/flow's key
 * (bl_flow.h) and hashed with its bl_flow_key_hash over the key both directions
 * share, so one lookup finds a connection from either side; and the pool of
 * max_segs held segments. All of it is made once at init: the worker never
 * allocates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_atomic.h"
#include "bl_flow_worker.h"
#include "tcpstream_pvt.h"

int
ts_mem_init(struct tcpstream *ts, struct bl_err *err)
{
	ts->n_slots = 16;
	while (ts->n_slots < 2u * ts->max_streams)
		ts->n_slots <<= 1;
	ts->conn = calloc(ts->max_streams, sizeof(*ts->conn));
	ts->slot = malloc((size_t)ts->n_slots * sizeof(*ts->slot));
	ts->free_conn = malloc((size_t)ts->max_streams * sizeof(*ts->free_conn));
	ts->seg = calloc(ts->max_segs, sizeof(*ts->seg));
	if (ts->conn == NULL || ts->slot == NULL || ts->free_conn == NULL || ts->seg == NULL)
		return bl_err_set(err, -ENOMEM, "max_streams: no memory for %u connections",
				  ts->max_streams);
	memset(ts->slot, 0xff, (size_t)ts->n_slots * sizeof(*ts->slot));
	for (uint32_t i = 0; i < ts->max_streams; i++)
		ts->free_conn[i] = ts->max_streams - 1 - i;
	ts->n_free_conn = ts->max_streams;
	ts->closed_head = ts->closed_tail = TS_NONE;
	for (uint32_t i = 0; i < ts->max_segs; i++)
		ts->seg[i].next = i + 1 < ts->max_segs ? i + 1 : TS_NONE;
	ts->free_seg = 0;
	ts->n_free_seg = ts->max_segs;
	return 0;
}

void
ts_mem_free(struct tcpstream *ts)
{
	free(ts->conn);
	free(ts->slot);
	free(ts->free_conn);
	free(ts->seg);
	ts->conn = NULL;
	ts->slot = NULL;
	ts->free_conn = NULL;
	ts->seg = NULL;
}

void
ts_key_swap(const struct bl_flow_key *k, struct bl_flow_key *o)
{
	*o = *k;
	memcpy(o->src, k->dst, 16);
	memcpy(o->dst, k->src, 16);
	o->sport = k->dport;
	o->dport = k->sport;
}

uint64_t
ts_key_hash(const struct tcpstream *ts, const struct bl_flow_key *k)
{
	int c = memcmp(k->src, k->dst, 16);
	struct bl_flow_key sw;

	if (c < 0 || (c == 0 && k->sport <= k->dport))
		return bl_flow_key_hash(ts->mult, k);
	ts_key_swap(k, &sw);
	return bl_flow_key_hash(ts->mult, &sw);
}

uint32_t
ts_conn_find(const struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint8_t *dir,
	     uint32_t *at)
{
	uint32_t mask = ts->n_slots - 1, i = (uint32_t)h & mask;
	struct bl_flow_key sw;

	ts_key_swap(k, &sw);
	for (;; i = (i + 1) & mask) {
		uint32_t c = ts->slot[i];
		if (c == TS_NONE)
			break;
		if (ts->conn[c].hash != h)
			continue;
		if (bl_flow__key_eq(&ts->conn[c].key, k)) {
			*dir = 0;
			*at = i;
			return c;
		}
		if (bl_flow__key_eq(&ts->conn[c].key, &sw)) {
			*dir = 1;
			*at = i;
			return c;
		}
	}
	*at = i;
	return TS_NONE;
}

uint32_t
ts_conn_add(struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint32_t at)
{
	struct ts_conn *c;
	uint32_t ci;

	if (ts->n_free_conn == 0 && ts->closed_head != TS_NONE) {
		/* An ended connection stays only to take its stragglers: a new one needs the
		 * place more (they held every place for idle_s after their FINs, and each new
		 * connection meanwhile was refused, its bytes lost). Its removal shifts slots
		 * back: the free slot of k's probe is found again. */
		uint32_t mask = ts->n_slots - 1;

		ts_conn_unlink(ts, ts->closed_head);
		bl_counter_add(&ts->reclaimed, 1);
		for (at = (uint32_t)h & mask; ts->slot[at] != TS_NONE; at = (at + 1) & mask)
			;
	}
	if (ts->n_free_conn == 0) {
		bl_counter_add(&ts->no_stream, 1);
		return TS_NONE;
	}
	ci = ts->free_conn[--ts->n_free_conn];
	c = &ts->conn[ci];
	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->hash = h;
	c->id = ts->next_id++;
	c->used = 1;
	c->last = ts->now;
	c->d[0].held = c->d[1].held = TS_NONE;
	c->cprev = c->cnext = TS_NONE;
	ts->slot[at] = ci;
	bl_counter_add(&ts->streams, 1);
	bl_counter_add(&ts->active, 1);
	return ci;
}

void
ts_conn_unlink(struct tcpstream *ts, uint32_t c)
{
	uint32_t mask = ts->n_slots - 1, i = (uint32_t)ts->conn[c].hash & mask, j;

	while (ts->slot[i] != c)
		i = (i + 1) & mask;
	for (j = i;;) {
		uint32_t home, k;
		j = (j + 1) & mask;
		k = ts->slot[j];
		if (k == TS_NONE)
			break;
		home = (uint32_t)ts->conn[k].hash & mask;
		/* k may move to i if its home is not in (i, j] (cyclically) */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			ts->slot[i] = k;
			i = j;
		}
	}
	ts->slot[i] = TS_NONE;
	if (ts->conn[c].closed) {                 /* off the list of ended ones */
		struct ts_conn *e = &ts->conn[c];
		if (e->cprev != TS_NONE)
			ts->conn[e->cprev].cnext = e->cnext;
		else
			ts->closed_head = e->cnext;
		if (e->cnext != TS_NONE)
			ts->conn[e->cnext].cprev = e->cprev;
		else
			ts->closed_tail = e->cprev;
	}
	ts->conn[c].used = 0;
	ts->free_conn[ts->n_free_conn++] = c;
	bl_counter_add(&ts->active, (uint64_t)-1);
}

void
ts_conn_closed(struct tcpstream *ts, uint32_t c)
{
	struct ts_conn *e = &ts->conn[c];

	e->cnext = TS_NONE;
	e->cprev = ts->closed_tail;
	if (ts->closed_tail != TS_NONE)
		ts->conn[ts->closed_tail].cnext = c;
	else
		ts->closed_head = c;
	ts->closed_tail = c;
}

void
ts_seg_free(struct tcpstream *ts, uint32_t i)
{
	ts->seg[i].next = ts->free_seg;
	ts->free_seg = i;
	ts->n_free_seg++;
	bl_counter_add(&ts->held, (uint64_t)-1);
}
