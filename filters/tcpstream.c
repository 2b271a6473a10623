/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpstream — follow TCP connections and publish each one's two byte streams,
 * in order, to clients, without copying a payload byte (issue 13, point 4).
 *
 *   rx port=in | tcpstream export=tcp | drop
 *   beltline cat --tcp tcp -d DIR          # tcpflow's files, one per direction
 *
 * A reassembled stream is an ordering of pointers into the packets that carried
 * it: each in-order piece of payload becomes an entry of the export=NAME stream
 * that points at its bytes inside the received mbuf (class 2), preceded by a
 * 72-byte record (class 1: connection, direction, stream offset, length) the
 * filter writes into a metadata mbuf; lost bytes become GAP records. The entry
 * format is lib/flow/bl_tcp_rec.h (docs/shm-abi.md, "TCP streams").
 *
 * Connections are keyed by lib/flow's key (addresses, ports, protocol, outermost
 * VLAN, IP version) and its hash, in an open-addressed table of max_streams
 * connections made once at init. Per direction the filter knows the sequence
 * number of stream offset 0 (the SYN's + 1, or the first data segment's when the
 * SYN was not seen, as tcpflow does) and the next offset it expects:
 *   - a segment at that offset (or overlapping it) is published at once, from
 *     its first byte not published yet: bytes already published are never
 *     replaced, so a retransmission or an overlap contributes only new bytes
 *     (Wireshark's Follow TCP Stream does the same: the first copy wins);
 *   - a segment beyond it is held (a reference on its mbuf, no copy), sorted by
 *     offset, until the hole before it fills; where held segments overlap, the
 *     one with the lower offset wins, and of equal offsets the first to arrive;
 *   - a hole is given up (a GAP record, and what follows is published) when the
 *     connection ends (FIN from both sides, RST, idle_s, the filter stops), when
 *     the receiver acknowledges bytes past it (they reached it: the capture lost
 *     them), or when holding one more segment would pass max_bytes of the
 *     direction or the max_segs held by the filter (counted over_max_bytes).
 * Packets pass on `out` unchanged: the stream holds its own references.
 * The worker makes no system call and allocates only metadata mbufs from the
 * packet pool (one per 28 records; none left: the records are lost, counted
 * nombuf, and the readers see the hole in the offsets).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "bl_dbuf.h"
#include "bl_dbuf_worker.h"
#include "bl_filter_worker.h"
#include "bl_flow.h"
#include "bl_flow_worker.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_mbuf_meta.h"
#include "bl_stream_worker.h"
#include "bl_tcp_rec.h"
#include "proto.h"

#define TS_NONE    UINT32_MAX
#define TS_STAGE   512u           /* entries written to the ring at once */
#define TS_WINDOW  (1u << 30)     /* a segment further than this from the next offset is out of window */
#define TS_SWEEP   64u            /* connections the idle sweep looks at per burst */

#define TH_FIN 0x01u
#define TH_SYN 0x02u
#define TH_RST 0x04u
#define TH_ACK 0x10u

struct ts_seg {                   /* a segment held out of order: the mbuf's reference */
	struct rte_mbuf *m;
	uint64_t off;                 /* stream offset of its first byte */
	uint32_t pay;                 /* payload offset from the packet's data start */
	uint32_t len;
	uint32_t next;                /* next held segment of the direction, or free list */
	uint8_t flags;
};

struct ts_dir {
	uint32_t base;                /* sequence number of stream offset 0 */
	uint64_t next;                /* the next offset to publish */
	uint64_t fin;                 /* offset of the FIN, when fin_seen */
	uint32_t held;                /* first held segment (lowest offset), or TS_NONE */
	uint32_t held_bytes;
	uint8_t known, fin_seen;
};

struct ts_conn {
	struct bl_flow_key key;       /* direction 0's: src sends */
	uint64_t hash;                /* of the canonical key */
	uint64_t id;
	uint32_t last;                /* ms after the table's clock base */
	uint8_t used;
	uint8_t closed;               /* ended (FIN/RST): kept until idle to absorb stragglers */
	struct ts_dir d[2];
};

struct tcpstream {
	/* config, read-only after init */
	uint32_t max_streams, max_bytes, max_segs, idle_ms, capacity;
	struct bl_stream *s;
	struct rte_mempool *pool;
	struct bl_dbuf *dbuf;
	bool reserved;                /* max_segs reserved in dbuf */
	uint64_t mult[6];             /* lib/flow's hash multipliers */
	uint64_t hz, tsc0, ms0;
	/* the worker (the main lcore at drain) */
	struct ts_conn *conn;         /* max_streams */
	uint32_t *slot;               /* n_slots: connection index, or TS_NONE */
	uint32_t n_slots;
	uint32_t *free_conn;          /* a stack of free connection indexes */
	uint32_t n_free_conn;
	struct ts_seg *seg;           /* max_segs */
	uint32_t free_seg;            /* free list head */
	uint32_t n_free_seg;
	uint64_t next_id;
	uint64_t base_ms;
	bool based, replay;
	uint32_t now;                 /* latest time seen, ms after base_ms */
	uint32_t sweep_pos;
	struct rte_mbuf *rm;          /* the metadata mbuf records go into, or NULL */
	uint32_t rm_used, rm_cap;
	unsigned int n_stage;
	struct bl_ibuf_entry stage[TS_STAGE];
	void *refs[TS_STAGE];

	/* (w) the worker, bl_counter_add; stats read them */
	_Alignas(64) uint64_t segments, bytes, streams, active, ended_fin, ended_rst, ended_idle,
		flushed, no_stream, over_max_bytes, gaps, gap_bytes, out_of_window, retrans,
		overlap_bytes, held, not_tcp, malformed, fragments, truncated, chained, nombuf,
		after_close;
};

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);   /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the table ---- */

static void
key_swap(const struct bl_flow_key *k, struct bl_flow_key *o)
{
	*o = *k;
	memcpy(o->src, k->dst, 16);
	memcpy(o->dst, k->src, 16);
	o->sport = k->dport;
	o->dport = k->sport;
}

/* The hash of the key both directions share (the lower endpoint first). */
static uint64_t
key_hash(const struct tcpstream *ts, const struct bl_flow_key *k)
{
	int c = memcmp(k->src, k->dst, 16);
	struct bl_flow_key sw;

	if (c < 0 || (c == 0 && k->sport <= k->dport))
		return bl_flow_key_hash(ts->mult, k);
	key_swap(k, &sw);
	return bl_flow_key_hash(ts->mult, &sw);
}

/* The connection of key k (hash h) and the direction k goes in, or TS_NONE;
 * *at: the slot it is in, or the free slot it would go in. */
static uint32_t
conn_find(const struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint8_t *dir,
	  uint32_t *at)
{
	uint32_t mask = ts->n_slots - 1, i = (uint32_t)h & mask;
	struct bl_flow_key sw;

	key_swap(k, &sw);
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

/* Remove connection c from the table (backward-shift deletion: no tombstones). */
static void
conn_unlink(struct tcpstream *ts, uint32_t c)
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
	ts->conn[c].used = 0;
	ts->free_conn[ts->n_free_conn++] = c;
	bl_counter_add(&ts->active, (uint64_t)-1);
}

/* ---- publishing ---- */

static void
stage_flush(struct tcpstream *ts)
{
	unsigned int n = ts->n_stage, k;

	if (n == 0)
		return;
	ts->n_stage = 0;
	/* Each entry's reference becomes its slot's; the ring counts what it refused. */
	k = bl_ibuf_write_refs(ts->s->ib, ts->stage, (void *const *)ts->refs, n);
	for (unsigned int i = k; i < n; i++)
		rte_pktmbuf_free(ts->refs[i]);
	bl_stream_wake_burst(ts->s);
}

/* Room for one record and its data entry; a record slot, its entry staged with
 * its own reference on the metadata mbuf. NULL: no mbuf (counted). */
static struct bl_tcp_rec *
rec_new(struct tcpstream *ts, const struct ts_conn *c, uint8_t kind, uint8_t dir, uint64_t off,
	uint32_t len)
{
	struct bl_ibuf_entry *e;
	struct bl_tcp_rec *r;

	if (ts->n_stage + 2 > TS_STAGE)
		stage_flush(ts);
	if (ts->rm != NULL && ts->rm_used == ts->rm_cap) {
		rte_pktmbuf_free(ts->rm);     /* our reference; the entries keep theirs */
		ts->rm = NULL;
	}
	if (ts->rm == NULL) {
		ts->rm = rte_pktmbuf_alloc(ts->pool);
		if (ts->rm == NULL) {
			bl_counter_add(&ts->nombuf, 1);
			return NULL;
		}
		ts->rm_used = 0;
		ts->rm_cap = (uint32_t)(ts->rm->buf_len - ts->rm->data_off) / sizeof(*r);
	}
	r = rte_pktmbuf_mtod_offset(ts->rm, struct bl_tcp_rec *, ts->rm_used * sizeof(*r));
	e = &ts->stage[ts->n_stage];
	bl_dbuf_entry_of(ts->rm, BL_TCP_CLS_REC, e);
	e->offset += ts->rm_used * (uint32_t)sizeof(*r);
	e->length = sizeof(*r);
	rte_mbuf_refcnt_update(ts->rm, 1);
	ts->refs[ts->n_stage++] = ts->rm;
	ts->rm_used++;
	*r = (struct bl_tcp_rec){
		.magic = BL_TCP_REC_MAGIC, .version = BL_TCP_REC_VERSION, .kind = kind, .dir = dir,
		.ipver = c->key.ipver, .conn = c->id, .offset = off, .length = len,
		.vlan = c->key.vlan,
	};
	if (dir == 0) {
		memcpy(r->src, c->key.src, 16);
		memcpy(r->dst, c->key.dst, 16);
		r->sport = c->key.sport;
		r->dport = c->key.dport;
	} else {
		memcpy(r->src, c->key.dst, 16);
		memcpy(r->dst, c->key.src, 16);
		r->sport = c->key.dport;
		r->dport = c->key.sport;
	}
	return r;
}

/* Publish len payload bytes at m's data + pay as the direction's next bytes. The
 * caller's reference on m becomes the entry's (or is freed). */
static void
publish(struct tcpstream *ts, struct ts_conn *c, uint8_t dir, struct rte_mbuf *m, uint32_t pay,
	uint32_t len, uint8_t flags)
{
	struct ts_dir *d = &c->d[dir];
	struct bl_tcp_rec *r = rec_new(ts, c, BL_TCP_DATA, dir, d->next, len);
	struct bl_ibuf_entry *e;

	d->next += len;
	bl_counter_add(&ts->bytes, len);
	if (r == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	r->tcp_flags = flags;
	e = &ts->stage[ts->n_stage];
	bl_dbuf_entry_of(m, BL_TCP_CLS_DATA, e);
	e->offset += pay;
	e->length = len;
	ts->refs[ts->n_stage++] = m;
}

/* The direction's bytes up to offset `to` were never seen: a GAP record. */
static void
gap(struct tcpstream *ts, struct ts_conn *c, uint8_t dir, uint64_t to)
{
	struct ts_dir *d = &c->d[dir];

	if (to <= d->next)
		return;
	rec_new(ts, c, BL_TCP_GAP, dir, d->next, (uint32_t)RTE_MIN(to - d->next, (uint64_t)UINT32_MAX));
	bl_counter_add(&ts->gaps, 1);
	bl_counter_add(&ts->gap_bytes, to - d->next);
	d->next = to;
}

/* Publish the held segments the next offset has reached. */
static void
drain_held(struct tcpstream *ts, struct ts_conn *c, uint8_t dir)
{
	struct ts_dir *d = &c->d[dir];

	while (d->held != TS_NONE) {
		uint32_t i = d->held;
		struct ts_seg *s = &ts->seg[i];
		uint64_t trim;

		if (s->off > d->next)
			break;
		d->held = s->next;
		d->held_bytes -= s->len;
		s->next = ts->free_seg;
		ts->free_seg = i;
		ts->n_free_seg++;
		bl_counter_add(&ts->held, (uint64_t)-1);
		if (s->off + s->len <= d->next) {            /* nothing new in it */
			bl_counter_add(&ts->overlap_bytes, s->len);
			rte_pktmbuf_free(s->m);
			continue;
		}
		trim = d->next - s->off;
		bl_counter_add(&ts->overlap_bytes, trim);
		publish(ts, c, dir, s->m, s->pay + (uint32_t)trim, s->len - (uint32_t)trim, s->flags);
	}
}

/* Give up the direction's first hole: a GAP to the first held segment, then what follows. */
static void
give_up_hole(struct tcpstream *ts, struct ts_conn *c, uint8_t dir)
{
	struct ts_dir *d = &c->d[dir];

	if (d->held == TS_NONE)
		return;
	bl_counter_add(&ts->over_max_bytes, ts->seg[d->held].off - d->next);
	gap(ts, c, dir, ts->seg[d->held].off);
	drain_held(ts, c, dir);
}

/* A segment: [off, off + len) of the direction, at m's data + pay. */
static void
segment(struct tcpstream *ts, struct ts_conn *c, uint8_t dir, struct rte_mbuf *m, uint64_t off,
	uint32_t pay, uint32_t len, uint8_t flags)
{
	struct ts_dir *d = &c->d[dir];
	uint32_t *link, i;
	struct ts_seg *s;

	if (off + len <= d->next) {                       /* all published already */
		bl_counter_add(&ts->retrans, 1);
		bl_counter_add(&ts->overlap_bytes, len);
		return;
	}
	/* Holding it would pass a limit: give holes up until it fits or is in order. */
	while (off > d->next && (d->held_bytes + len > ts->max_bytes || ts->n_free_seg == 0) &&
	       d->held != TS_NONE && ts->seg[d->held].off < off)
		give_up_hole(ts, c, dir);
	if (off > d->next && (d->held_bytes + len > ts->max_bytes || ts->n_free_seg == 0)) {
		bl_counter_add(&ts->over_max_bytes, off - d->next);
		gap(ts, c, dir, off);                     /* none held before it: its hole goes */
	}
	if (off <= d->next) {                             /* in order (perhaps overlapping) */
		uint32_t trim = (uint32_t)(d->next - off);
		bl_counter_add(&ts->overlap_bytes, trim);
		rte_pktmbuf_refcnt_update(m, 1);          /* the entry's reference */
		publish(ts, c, dir, m, pay + trim, len - trim, flags);
		drain_held(ts, c, dir);
		return;
	}
	for (link = &d->held; *link != TS_NONE && ts->seg[*link].off <= off; link = &ts->seg[*link].next)
		if (ts->seg[*link].off == off && ts->seg[*link].len >= len) {
			bl_counter_add(&ts->retrans, 1);  /* held already */
			bl_counter_add(&ts->overlap_bytes, len);
			return;
		}
	i = ts->free_seg;
	s = &ts->seg[i];
	ts->free_seg = s->next;
	ts->n_free_seg--;
	rte_pktmbuf_refcnt_update(m, 1);                  /* the held segment's reference */
	*s = (struct ts_seg){ .m = m, .off = off, .pay = pay, .len = len, .next = *link, .flags = flags };
	*link = i;
	d->held_bytes += len;
	bl_counter_add(&ts->held, 1);
}

/* The connection ends: every hole is given up, each direction gets its CLOSE. */
static void
conn_end(struct tcpstream *ts, uint32_t ci, uint8_t why)
{
	struct ts_conn *c = &ts->conn[ci];

	for (uint8_t dir = 0; dir < 2; dir++) {
		struct ts_dir *d = &c->d[dir];
		struct bl_tcp_rec *r;

		while (d->held != TS_NONE) {
			gap(ts, c, dir, ts->seg[d->held].off);
			drain_held(ts, c, dir);
		}
		if (d->fin_seen)
			gap(ts, c, dir, d->fin);
		r = rec_new(ts, c, BL_TCP_CLOSE, dir, d->next, 0);
		if (r != NULL)
			r->end = why;
	}
	c->closed = 1;
	switch (why) {
	case BL_TCP_END_FIN:
		bl_counter_add(&ts->ended_fin, 1);
		break;
	case BL_TCP_END_RST:
		bl_counter_add(&ts->ended_rst, 1);
		break;
	case BL_TCP_END_IDLE:
		bl_counter_add(&ts->ended_idle, 1);
		break;
	default:
		bl_counter_add(&ts->flushed, 1);
		break;
	}
}

/* A new connection in free slot `at`, direction 0 = k's sender. TS_NONE: table full. */
static uint32_t
conn_new(struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint32_t at, uint8_t flags)
{
	struct ts_conn *c;
	struct bl_tcp_rec *r;
	uint32_t ci;

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
	ts->slot[at] = ci;
	bl_counter_add(&ts->streams, 1);
	bl_counter_add(&ts->active, 1);
	r = rec_new(ts, c, BL_TCP_OPEN, 0, 0, 0);
	if (r != NULL)
		r->tcp_flags = flags;
	return ci;
}

/* One TCP segment of a packet (m: the packet, which the caller keeps). */
static void
tcp_packet(struct tcpstream *ts, struct rte_mbuf *m, const struct bl_flow_key *k, uint32_t seq,
	   uint32_t ack, uint8_t flags, uint32_t pay, uint32_t len)
{
	uint64_t h = key_hash(ts, k);
	uint8_t dir = 0;
	uint32_t at, ci = conn_find(ts, k, h, &dir, &at);
	struct ts_conn *c;
	struct ts_dir *d, *o;
	uint32_t dseq = (flags & TH_SYN) ? seq + 1 : seq;
	int64_t rel;
	uint64_t off;

	if (ci != TS_NONE && ts->conn[ci].closed) {
		if ((flags & (TH_SYN | TH_ACK)) != TH_SYN) {
			bl_counter_add(&ts->after_close, 1);
			ts->conn[ci].last = ts->now;
			return;
		}
		conn_unlink(ts, ci);                      /* a new connection on the tuple */
		ci = conn_find(ts, k, h, &dir, &at);
	}
	if (ci == TS_NONE) {
		if ((flags & TH_RST) || (!(flags & TH_SYN) && len == 0))
			return;                           /* nothing to follow */
		ci = conn_new(ts, k, h, at, flags);
		if (ci == TS_NONE)
			return;
		dir = 0;
	}
	c = &ts->conn[ci];
	c->last = ts->now;
	d = &c->d[dir];
	o = &c->d[dir ^ 1];
	if (flags & TH_SYN) {
		if (!d->known || (d->next == 0 && d->held == TS_NONE && d->base != dseq)) {
			d->base = dseq;                   /* offset 0: after the SYN */
			d->known = 1;
			d->next = 0;
		}
	}
	if (!d->known) {
		if (len == 0 && !(flags & TH_FIN))
			goto acked;
		d->base = dseq;                           /* picked up mid-stream, as tcpflow */
		d->known = 1;
	}
	rel = (int32_t)(dseq - (d->base + (uint32_t)d->next));
	if (rel > (int64_t)TS_WINDOW || rel < -(int64_t)TS_WINDOW || (int64_t)d->next + rel < 0) {
		bl_counter_add(&ts->out_of_window, 1);
		goto acked;
	}
	off = (uint64_t)((int64_t)d->next + rel);
	if (len > 0)
		segment(ts, c, dir, m, off, pay, len, flags);
	if ((flags & TH_FIN) && !d->fin_seen) {
		d->fin_seen = 1;
		d->fin = off + len;
	}
acked:
	/* The receiver acknowledged bytes past a hole of the other direction: they
	 * reached it, the capture lost them. */
	if ((flags & TH_ACK) && o->known) {
		int32_t a = (int32_t)(ack - (o->base + (uint32_t)o->next));
		if (a > 0 && (uint32_t)a < TS_WINDOW) {
			uint64_t upto = o->next + (uint32_t)a;
			if (o->fin_seen && upto > o->fin)
				upto = o->fin;            /* the FIN takes a sequence number */
			while (o->held != TS_NONE && ts->seg[o->held].off <= upto) {
				gap(ts, c, dir ^ 1, ts->seg[o->held].off);
				drain_held(ts, c, dir ^ 1);
			}
			gap(ts, c, dir ^ 1, upto);
		}
	}
	if (flags & TH_RST) {
		conn_end(ts, ci, BL_TCP_END_RST);
		return;
	}
	if (d->fin_seen && o->fin_seen && d->next >= d->fin && o->next >= o->fin &&
	    d->held == TS_NONE && o->held == TS_NONE)
		conn_end(ts, ci, BL_TCP_END_FIN);
}

/* Look at a share of the connections: end the idle ones, free the ended ones gone quiet. */
static void
sweep(struct tcpstream *ts)
{
	for (uint32_t i = 0; i < TS_SWEEP && i < ts->max_streams; i++) {
		uint32_t ci = ts->sweep_pos;
		struct ts_conn *c = &ts->conn[ci];

		ts->sweep_pos = ci + 1 == ts->max_streams ? 0 : ci + 1;
		if (!c->used || ts->now < c->last || ts->now - c->last < ts->idle_ms)
			continue;
		if (!c->closed)
			conn_end(ts, ci, BL_TCP_END_IDLE);
		conn_unlink(ts, ci);
	}
}

/* ---- the filter ---- */

static int
tcpstream_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "max_streams", "max_bytes", "max_segs", "idle_s",
		"capacity", "export", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct tcpstream *ts = bl_filter_priv(f);
	const char *exp = NULL;
	uint32_t idle_s = 60;
	struct bl_stream_opts so = {
		.sz = sizeof(so), .kind = BL_STREAM_EXPORT, .max_readers = 8, .wake_count = 1,
		.lcore = env->lcore,
	};
	int rc;

	ts->max_streams = 4096;
	ts->max_bytes = 1u << 20;
	ts->max_segs = 1024;
	ts->capacity = 4096;
	if (bl_args_only(args, keys, false, err) < 0 ||
	    bl_args_u32(args, "max_streams", 1, 1u << 24, &ts->max_streams, err) < 0 ||
	    bl_args_u32(args, "max_bytes", 1, 1u << 30, &ts->max_bytes, err) < 0 ||
	    bl_args_u32(args, "max_segs", 1, 1u << 20, &ts->max_segs, err) < 0 ||
	    bl_args_u32(args, "idle_s", 1, 86400, &idle_s, err) < 0 ||
	    bl_args_u32(args, "capacity", 1024, 1u << 20, &ts->capacity, err) < 0 ||
	    bl_args_str(args, "export", &exp, err) < 0)
		return -EINVAL;
	if (exp == NULL)
		return bl_err_set(err, -EINVAL, "export: required: the stream clients read the "
				  "connections from (export=NAME)");
	if (env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "export: a stream has one writer, but this graph runs "
				  "on %u workers; give it one", env->n_replicas);
	ts->idle_ms = idle_s * 1000u;
	so.name = exp;
	so.pkt = env->dbuf;
	so.capacity = ts->capacity;
	if (bl_stream_policy_arg("srp", &so.policy, err) < 0 ||
	    bl_stream_perm_args(NULL, NULL, "0640", &so.uid, &so.gid, &so.mode, err) < 0)
		return -EINVAL;
	if (bl_graph_dry(f)) {
		if ((rc = bl_stream_check(&so, err)) < 0) {
			char m[sizeof(err->msg)];
			snprintf(m, sizeof(m), "%s", err->msg);
			bl_err_set(err, rc, "export: %s", strncmp(m, "name: ", 6) == 0 ? m + 6 : m);
		}
		return rc;
	}
	rc = bl_mbuf_meta_register();     /* a replay's record times */
	if (rc < 0)
		return bl_err_set(err, rc, "cannot register the mbuf record field: %s", strerror(-rc));
	if (env->dbuf == NULL)
		return bl_err_set(err, -EINVAL, "export: the packets are not in a packet DBuf: "
				  "clients could not reach their payloads");
	ts->n_slots = 16;
	while (ts->n_slots < 2u * ts->max_streams)
		ts->n_slots <<= 1;
	ts->conn = calloc(ts->max_streams, sizeof(*ts->conn));
	ts->slot = malloc((size_t)ts->n_slots * sizeof(*ts->slot));
	ts->free_conn = malloc((size_t)ts->max_streams * sizeof(*ts->free_conn));
	ts->seg = calloc(ts->max_segs, sizeof(*ts->seg));
	if (ts->conn == NULL || ts->slot == NULL || ts->free_conn == NULL || ts->seg == NULL) {
		rc = bl_err_set(err, -ENOMEM, "max_streams: no memory for %u connections",
				ts->max_streams);
		goto fail;
	}
	memset(ts->slot, 0xff, (size_t)ts->n_slots * sizeof(*ts->slot));
	for (uint32_t i = 0; i < ts->max_streams; i++)
		ts->free_conn[i] = ts->max_streams - 1 - i;
	ts->n_free_conn = ts->max_streams;
	for (uint32_t i = 0; i < ts->max_segs; i++)
		ts->seg[i].next = i + 1 < ts->max_segs ? i + 1 : TS_NONE;
	ts->free_seg = 0;
	ts->n_free_seg = ts->max_segs;
	/* Held segments keep mbufs out of the pool like ring slots do: reserve them. */
	if ((rc = bl_dbuf_reserve(env->dbuf, ts->max_segs, err)) < 0) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "%s", err->msg);
		bl_err_set(err, rc, "max_segs: %s", m);
		goto fail;
	}
	ts->reserved = true;
	ts->dbuf = env->dbuf;
	if ((rc = bl_stream_create(&so, &ts->s, err)) < 0) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "%s", err->msg);
		bl_err_set(err, rc, "export: %s", strncmp(m, "name: ", 6) == 0 ? m + 6 : m);
		goto fail;
	}
	if (ts->s->perm != NULL) {
		rc = bl_err_set(err, -EINVAL, "export: the stream's entries point into the packet "
				"DBuf, so its mode must be memory.packet_mode's (0640)");
		goto fail;
	}
	ts->pool = env->pool;
	bl_flow_seed_mults(rte_rdtsc() ^ ((uint64_t)env->replica << 32), ts->mult);
	ts->next_id = wall_ms() << 16;    /* ids of a reloaded graph's filter follow on */
	ts->hz = rte_get_tsc_hz();
	ts->tsc0 = rte_rdtsc();
	ts->ms0 = wall_ms();
	return 0;
fail:
	if (ts->s != NULL)
		bl_stream_release(ts->s);
	ts->s = NULL;
	if (ts->reserved)
		bl_dbuf_unreserve(ts->dbuf, ts->max_segs);
	ts->reserved = false;
	free(ts->conn);
	free(ts->slot);
	free(ts->free_conn);
	free(ts->seg);
	ts->conn = NULL;
	ts->slot = NULL;
	ts->free_conn = NULL;
	ts->seg = NULL;
	return rc;
}

/* The graph no longer runs: every connection ends (flushed) and its records go out. */
static void
tcpstream_drain(struct bl_filter *f)
{
	struct tcpstream *ts = bl_filter_priv(f);

	if (ts->conn == NULL)
		return;
	for (uint32_t i = 0; i < ts->max_streams; i++) {
		if (!ts->conn[i].used)
			continue;
		if (!ts->conn[i].closed)
			conn_end(ts, i, BL_TCP_END_FLUSH);
		conn_unlink(ts, i);
	}
	stage_flush(ts);
	if (ts->rm != NULL)
		rte_pktmbuf_free(ts->rm);
	ts->rm = NULL;
}

/* Also after a reload swapped in a graph whose tcpstream took the stream over (the
 * same name and settings): that one's worker may be writing the ring now, so this
 * one writes nothing more. Its connections end unannounced (held segments are
 * released; counted flushed) and the new filter picks them up mid-stream under
 * new ids. After drain (the appliance stopping) there is nothing left to do. */
static void
tcpstream_stop(struct bl_filter *f)
{
	struct tcpstream *ts = bl_filter_priv(f);

	if (ts->conn == NULL)
		return;
	for (uint32_t i = 0; i < ts->max_streams; i++) {
		struct ts_conn *c = &ts->conn[i];
		if (!c->used)
			continue;
		for (int dir = 0; dir < 2; dir++)
			for (uint32_t s = c->d[dir].held, nx; s != TS_NONE; s = nx) {
				nx = ts->seg[s].next;
				rte_pktmbuf_free(ts->seg[s].m);
				ts->seg[s].next = ts->free_seg;
				ts->free_seg = s;
				ts->n_free_seg++;
				bl_counter_add(&ts->held, (uint64_t)-1);
			}
		c->d[0].held = c->d[1].held = TS_NONE;
		if (!c->closed)
			bl_counter_add(&ts->flushed, 1);
		conn_unlink(ts, i);
	}
	for (unsigned int i = 0; i < ts->n_stage; i++)
		rte_pktmbuf_free(ts->refs[i]);
	ts->n_stage = 0;
	if (ts->rm != NULL)
		rte_pktmbuf_free(ts->rm);
	ts->rm = NULL;
}

static void
tcpstream_fini(struct bl_filter *f)
{
	struct tcpstream *ts = bl_filter_priv(f);

	tcpstream_stop(f);      /* whatever is still held (stop normally left nothing) */
	for (unsigned int i = 0; i < ts->n_stage; i++)
		rte_pktmbuf_free(ts->refs[i]);
	ts->n_stage = 0;
	if (ts->rm != NULL)
		rte_pktmbuf_free(ts->rm);
	ts->rm = NULL;
	if (ts->s != NULL)
		bl_stream_release(ts->s);
	ts->s = NULL;
	if (ts->reserved)
		bl_dbuf_unreserve(ts->dbuf, ts->max_segs);
	ts->reserved = false;
	free(ts->conn);
	free(ts->slot);
	free(ts->free_conn);
	free(ts->seg);
	ts->conn = NULL;
	ts->slot = NULL;
	ts->free_conn = NULL;
	ts->seg = NULL;
}

/* The clock: a replay's record times, else the TSC; never goes back. */
static void
tick(struct tcpstream *ts, uint64_t ms)
{
	uint32_t now;

	if (!ts->based) {
		ts->base_ms = ms;
		ts->based = true;
	}
	now = ms < ts->base_ms ? 0 : (ms - ts->base_ms > UINT32_MAX ? UINT32_MAX :
				      (uint32_t)(ms - ts->base_ms));
	if (now > ts->now)
		ts->now = now;
}

static void
tcpstream_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct tcpstream *ts = bl_filter_priv(f);
	uint64_t now = ts->ms0 + (ts->hz != 0 ? (rte_rdtsc() - ts->tsc0) * 1000u / ts->hz : 0);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct bl_flow_key k;
		struct proto p;
		uint8_t buf[40];
		const uint8_t *h, *t;
		uint32_t end, pay, len, iplen;

		proto_parse(m, &p);
		if (bl_mbuf_meta_has(m)) {
			ts->replay = true;
			tick(ts, bl_mbuf_meta(m)->ts_ns / 1000000u);
		} else if (!ts->replay) {
			tick(ts, now);
		}
		if (p.etype != PROTO_ETH_IPV4 && p.etype != PROTO_ETH_IPV6) {
			bl_counter_add(p.bad == PROTO_BAD_ETH ? &ts->malformed : &ts->not_tcp, 1);
			continue;
		}
		if (p.bad != PROTO_OK) {
			bl_counter_add(&ts->malformed, 1);
			continue;
		}
		if (p.l4proto != 6) {
			bl_counter_add(&ts->not_tcp, 1);
			continue;
		}
		memset(&k, 0, sizeof(k));
		if (p.ipver == 4) {
			h = proto_at(m, p.l3_off, 20, buf);
			if (!p.first_frag || ((h[6] << 8 | h[7]) & 0x3fff) != 0) {   /* MF or offset */
				bl_counter_add(&ts->fragments, 1);
				continue;
			}
			memcpy(k.src, h + 12, 4);
			memcpy(k.dst, h + 16, 4);
			iplen = (uint32_t)(h[2] << 8 | h[3]);
		} else {
			h = proto_at(m, p.l3_off, 40, buf);
			if (!p.first_frag) {
				bl_counter_add(&ts->fragments, 1);
				continue;
			}
			memcpy(k.src, h + 8, 16);
			memcpy(k.dst, h + 24, 16);
			iplen = 40u + (uint32_t)(h[4] << 8 | h[5]);
		}
		if (!p.has_l4) {
			bl_counter_add(&ts->malformed, 1);
			continue;
		}
		t = proto_at(m, p.l4_off, 20, buf);      /* proto_parse found it whole */
		k.ipver = p.ipver;
		k.proto = 6;
		k.vlan = p.n_vlan > 0 ? p.vid : 0;
		k.sport = p.sport;
		k.dport = p.dport;
		pay = p.l4_off + (uint32_t)(t[12] >> 4) * 4u;
		end = p.l3_off + iplen;
		if (end > m->pkt_len) {                  /* the capture cut the payload */
			bl_counter_add(&ts->truncated, 1);
			end = m->pkt_len;
		}
		len = end > pay ? end - pay : 0;
		if (len > 0 && (pay + len > m->data_len || !RTE_MBUF_DIRECT(m))) {
			/* payload past the first segment, or not in the mbuf's own buffer
			 * (an attached one): an entry could not point at it */
			bl_counter_add(&ts->chained, 1);
			continue;
		}
		bl_counter_add(&ts->segments, 1);
		{
			uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
			uint32_t ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
			tcp_packet(ts, m, &k, seq, ack, t[13], pay, len);
		}
	}
	sweep(ts);
	stage_flush(ts);
	bl_filter_pass(f, pkts, n);
}

static const void *
ts_ring(const struct bl_filter *f)
{
	const struct tcpstream *ts = bl_filter_priv(f);

	return ts->s != NULL ? ts->s->ib->prod : NULL;
}

static const struct bl_counter_def tcpstream_counters[] = {
	BL_COUNTER(struct tcpstream, segments, "segments", "TCP segments followed (IPv4, IPv6)"),
	BL_COUNTER(struct tcpstream, bytes, "bytes", "payload bytes published in order"),
	BL_COUNTER(struct tcpstream, streams, "streams", "connections followed"),
	BL_COUNTER(struct tcpstream, active, "active", "connections in the table now (a value)"),
	BL_COUNTER(struct tcpstream, ended_fin, "ended_fin", "connections ended by FIN both ways"),
	BL_COUNTER(struct tcpstream, ended_rst, "ended_rst", "connections ended by a RST"),
	BL_COUNTER(struct tcpstream, ended_idle, "ended_idle", "connections ended by idle_s"),
	BL_COUNTER(struct tcpstream, flushed, "flushed", "connections ended when the filter stopped"),
	BL_COUNTER(struct tcpstream, no_stream, "no_stream",
		   "packets of connections not followed: max_streams were followed already"),
	BL_COUNTER(struct tcpstream, over_max_bytes, "over_max_bytes",
		   "bytes of holes given up early (GAP records) because holding a segment would "
		   "pass max_bytes of its direction or max_segs"),
	BL_COUNTER(struct tcpstream, gaps, "gaps", "GAP records: holes in a stream (lost segments)"),
	BL_COUNTER(struct tcpstream, gap_bytes, "gap_bytes", "bytes the GAP records stand for"),
	BL_COUNTER(struct tcpstream, out_of_window, "out_of_window",
		   "segments dropped: more than 1 GiB from the next offset, or before the stream's start"),
	BL_COUNTER(struct tcpstream, retrans, "retrans",
		   "segments that brought no new byte (retransmissions, duplicates)"),
	BL_COUNTER(struct tcpstream, overlap_bytes, "overlap_bytes",
		   "payload bytes not published because they were published (or held) already"),
	BL_COUNTER(struct tcpstream, held, "held", "segments held out of order now (a value)"),
	BL_COUNTER(struct tcpstream, not_tcp, "not_tcp", "packets not followed: not TCP over IP"),
	BL_COUNTER(struct tcpstream, malformed, "malformed",
		   "packets not followed: an Ethernet, VLAN, IP or TCP header cut short or invalid"),
	BL_COUNTER(struct tcpstream, fragments, "fragments",
		   "IP fragments, not followed (their bytes become a gap)"),
	BL_COUNTER(struct tcpstream, truncated, "truncated",
		   "segments whose payload the capture cut (the rest becomes a gap)"),
	BL_COUNTER(struct tcpstream, chained, "chained",
		   "segments not followed: payload beyond the packet's first mbuf segment, or in "
		   "a buffer attached to the mbuf (an inject writer's, zero copy)"),
	BL_COUNTER(struct tcpstream, nombuf, "nombuf",
		   "records lost: no mbuf for metadata (readers see the hole in the offsets)"),
	BL_COUNTER(struct tcpstream, after_close, "after_close",
		   "packets of ended connections (stragglers), not followed"),
	BL_COUNTER_IN(ts_ring, struct bl_ibuf_prod, written, "written", "entries stored"),
	BL_COUNTER_BITS_IN(ts_ring, struct bl_ibuf_prod, active, "readers",
			   "readers attached now (a value)"),
	BL_COUNTER_IN(ts_ring, struct bl_ibuf_prod, dropped, "dropped",
		      "entries refused: the ring was full (a reader sees a hole in the offsets)"),
};

BL_FILTER_REGISTER(tcpstream) = {
	.summary = "reassemble TCP connections and publish their byte streams zero copy "
		   "(beltline cat --tcp)",
	.synopsis = "tcpstream export=NAME [max_streams=4096] [max_bytes=1048576] [max_segs=1024] "
		    "[idle_s=60] [capacity=4096]",
	.args_doc = "export: the stream clients read the connections from (required; "
		    "lib/flow/bl_tcp_rec.h, docs/shm-abi.md \"TCP streams\"; beltline cat --tcp "
		    "NAME writes each direction to a file as tcpflow does)\n"
		    "max_streams: connections followed at once (default 4096; more are counted "
		    "no_stream)\n"
		    "max_bytes: out-of-order payload bytes held per direction of a connection "
		    "(default 1 MiB); holding more gives the hole before them up (a GAP record)\n"
		    "max_segs: out-of-order segments held at once, all connections (default 1024; "
		    "reserved in the packet pool like ring slots)\n"
		    "idle_s: a connection with no packet this long ends (default 60)\n"
		    "capacity: the stream's ring slots, a power of two >= 1024 (default 4096): "
		    "two per published segment",
	.edges_doc = "out (class 1): every packet, unchanged, with the class it came with",
	.counters_doc = "gaps and gap_bytes count every hole marked in a stream: lost segments, "
			"holes given up early (over_max_bytes) and the bytes of fragments, cut and "
			"chained segments; records lost to nombuf or entries to a full ring "
			"(dropped) are holes only the readers see",
	.state_doc = "per-replica: a connection table; the stream of export=NAME has one "
		     "writer, so the graph must run on one worker. Order: as Wireshark's Follow "
		     "TCP Stream, the first copy of a byte wins",
	.priv_size = sizeof(struct tcpstream),
	.init = tcpstream_init,
	.fini = tcpstream_fini,
	.stop = tcpstream_stop,
	.drain = tcpstream_drain,
	.process = tcpstream_process,
	BL_FILTER_COUNTERS(tcpstream_counters),
	.edges = { "out" },
};
