/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpstream_reasm — the tcpstream filter's reassembly (the head comment of
 * tcpstream.c says the rules): per direction, a segment at the next offset is
 * published at once from its first new byte, one beyond it is held (a reference
 * on its mbuf) in offset order until the hole fills or is given up as a GAP.
 * Publishing stages two ring entries per piece: a bl_tcp_rec record in a metadata
 * mbuf (class 1) and the payload inside the packet's own mbuf (class 2).
 */
#include <string.h>

#include "bl_atomic.h"
#include "bl_dbuf_worker.h"
#include "bl_stream_worker.h"
#include "bl_tcp_rec.h"
#include "tcpstream_pvt.h"

void
ts_stage_flush(struct tcpstream *ts)
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
		ts_stage_flush(ts);
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
		ts_seg_free(ts, i);
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

void
ts_conn_end(struct tcpstream *ts, uint32_t ci, uint8_t why)
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
	ts_conn_closed(ts, ci);
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

/* The end of the direction's sequence space seen so far: its furthest payload byte,
 * or one past its FIN (the FIN takes a sequence number): what an ACK may reach. A byte
 * held more than max_bytes past the next one counts only up to there: one forged
 * segment far ahead (held: it is one byte) widened the ACK, FIN and RST windows to
 * itself, and a forged ACK or RST then made the hole again. */
static uint64_t
dir_seen(const struct tcpstream *ts, const struct ts_dir *d)
{
	uint64_t s = RTE_MAX(RTE_MIN(d->hi, d->next + ts->max_bytes), d->next);

	return d->fin_seen ? RTE_MAX(s, d->fin + 1) : s;
}

/* Free the held segments of d at or past offset `from` (past its FIN: no byte of the
 * stream; held, one kept the connection from ending and its close wrote a GAP and the
 * byte past the FIN). Counted out_of_window. */
static void
drop_held_from(struct tcpstream *ts, struct ts_dir *d, uint64_t from)
{
	uint32_t *link = &d->held;

	while (*link != TS_NONE && ts->seg[*link].off < from)
		link = &ts->seg[*link].next;
	while (*link != TS_NONE) {
		uint32_t i = *link;
		struct ts_seg *s = &ts->seg[i];

		*link = s->next;
		d->held_bytes -= s->len;
		rte_pktmbuf_free(s->m);
		ts_seg_free(ts, i);
		bl_counter_add(&ts->out_of_window, 1);
	}
}

/* A RST from a direction d that has sent no byte yet (no stream offset to check): one
 * at the sequence number the other direction acknowledged last (a RST without ACK, the
 * answer to a segment that carried one, has that one), one that acknowledges what the
 * other direction could have sent, or any when neither has sent one (nothing to lose). */
static bool
rst_unseen_ok(const struct tcpstream *ts, const struct ts_dir *d, const struct ts_dir *o,
	      uint8_t flags, uint32_t seq, uint32_t ack)
{
	int64_t upto;

	if (!o->known)
		return true;
	if (d->peer_acked && seq == d->peer_ack)
		return true;
	if (!(flags & TH_ACK))
		return false;
	upto = (int64_t)o->next + (int32_t)(ack - (o->base + (uint32_t)o->next));
	return upto + (int64_t)ts->max_bytes >= (int64_t)o->next && upto <= (int64_t)dir_seen(ts, o);
}

/* A segment of an ended connection's direction d: bytes it never had start a new
 * connection on the tuple (tcpflow's c1); its own bytes again (a retransmission) or no
 * byte at all are stragglers. */
static bool
new_after_close(const struct ts_dir *d, uint32_t seq, uint32_t len)
{
	int32_t rel;

	if (len == 0)
		return false;
	if (!d->known)
		return true;
	rel = (int32_t)(seq - (d->base + (uint32_t)d->next));
	return rel >= 0 || (int64_t)d->next + rel < 0;
}

/* A new connection in free slot `at` (ts_conn_add) and its OPEN record. TS_NONE: table full. */
static uint32_t
conn_new(struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint32_t at, uint8_t flags)
{
	uint32_t ci = ts_conn_add(ts, k, h, at);
	struct bl_tcp_rec *r;

	if (ci == TS_NONE)
		return TS_NONE;
	r = rec_new(ts, &ts->conn[ci], BL_TCP_OPEN, 0, 0, 0);
	if (r != NULL)
		r->tcp_flags = flags;
	return ci;
}

void
ts_tcp_packet(struct tcpstream *ts, struct rte_mbuf *m, const struct bl_flow_key *k, uint32_t seq,
	      uint32_t ack, uint8_t flags, uint32_t pay, uint32_t len)
{
	uint64_t h = ts_key_hash(ts, k);
	uint8_t dir = 0;
	uint32_t at, ci = ts_conn_find(ts, k, h, &dir, &at);
	struct ts_conn *c;
	struct ts_dir *d, *o;
	uint32_t dseq = (flags & TH_SYN) ? seq + 1 : seq;
	bool rst_ok = false;
	int64_t rel;
	uint64_t off;

	if (ci != TS_NONE && ts->conn[ci].closed) {
		/* a RST starts nothing (below): it must not unlink the ended connection either,
		 * or the retransmissions after it start a fresh one with old bytes */
		if ((flags & (TH_SYN | TH_ACK)) != TH_SYN &&
		    ((flags & TH_RST) || !new_after_close(&ts->conn[ci].d[dir], seq, len))) {
			bl_counter_add(&ts->after_close, 1);
			ts->conn[ci].last = ts->now;
			return;
		}
		ts_conn_unlink(ts, ci);                      /* a new connection on the tuple */
		ci = ts_conn_find(ts, k, h, &dir, &at);
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
	if ((flags & TH_ACK) && !(flags & TH_RST)) {
		o->peer_ack = ack;                        /* what o is expected to send next */
		o->peer_acked = 1;
	}
	if (flags & TH_SYN) {
		if (!d->known || (d->next == 0 && d->held == TS_NONE && d->base != dseq)) {
			d->base = dseq;                   /* offset 0: after the SYN */
			d->known = 1;
			d->next = 0;
		}
	}
	if (!d->known) {
		if (len == 0 && !(flags & TH_FIN)) {
			rst_ok = (flags & TH_RST) && rst_unseen_ok(ts, d, o, flags, seq, ack);
			goto acked;
		}
		d->base = dseq;                           /* picked up mid-stream, as tcpflow */
		d->known = 1;
	}
	rel = (int32_t)(dseq - (d->base + (uint32_t)d->next));
	if (rel > (int64_t)TS_WINDOW || rel < -(int64_t)TS_WINDOW || (int64_t)d->next + rel < 0) {
		bl_counter_add(&ts->out_of_window, 1);
		goto acked;
	}
	off = (uint64_t)((int64_t)d->next + rel);
	/* RFC 5961's idea: a RST ends the connection only at a sequence number its receiver
	 * could expect, from the next byte to the window past it (max_bytes past the
	 * furthest byte seen: what the filter would hold). Any RST ended it: one forged
	 * blind, far outside, did, and the bytes after it were dropped as stragglers. */
	rst_ok = (flags & TH_RST) && off >= d->next && off <= dir_seen(ts, d) + ts->max_bytes;
	if ((flags & TH_FIN) && !d->fin_seen) {
		/* A FIN's offset is where the stream ends, and the close gives up every hole
		 * before it: one far past anything seen (a forged one) would make a hole of up
		 * to TS_WINDOW. The filter holds at most max_bytes past what it has seen, so
		 * it believes no FIN further than that; a lost tail before a real one is less. */
		if (off > dir_seen(ts, d) + ts->max_bytes) {
			bl_counter_add(&ts->fin_ahead, 1);
		} else {
			d->fin_seen = 1;
			d->fin = off + len;
			drop_held_from(ts, d, d->fin);
		}
	}
	if (len > 0 && d->fin_seen && off >= d->fin) {
		bl_counter_add(&ts->out_of_window, 1);   /* past the stream's end */
	} else if (len > 0) {
		if (off + len > d->hi)
			d->hi = off + len;
		segment(ts, c, dir, m, off, pay, len, flags);
	}
acked:
	/* The receiver acknowledged bytes past a hole of the other direction: they
	 * reached it, the capture lost them. Only a segment held past the hole (or the
	 * FIN) makes it one to give up, and only up to that: an ACK alone proves nothing (one
	 * forged ACK made a GAP of up to TS_WINDOW, and the real bytes that came next
	 * were taken for retransmissions). An ACK of more than was ever seen is not
	 * the receiver's: ignored, counted. */
	if ((flags & TH_ACK) && o->known) {
		int32_t a = (int32_t)(ack - (o->base + (uint32_t)o->next));
		if (a > 0) {
			uint64_t upto = o->next + (uint32_t)a;
			if (upto > dir_seen(ts, o)) {
				bl_counter_add(&ts->ack_ahead, 1);
			} else {
				if (o->fin_seen && upto > o->fin)
					upto = o->fin;    /* the FIN takes a sequence number */
				while (o->held != TS_NONE && ts->seg[o->held].off <= upto) {
					gap(ts, c, dir ^ 1, ts->seg[o->held].off);
					drain_held(ts, c, dir ^ 1);
				}
				if (o->fin_seen && upto == o->fin)
					gap(ts, c, dir ^ 1, o->fin);   /* the FIN is what came after */
			}
		}
	}
	if (flags & TH_RST) {
		if (rst_ok) {
			ts_conn_end(ts, ci, BL_TCP_END_RST);
			return;
		}
		bl_counter_add(&ts->rst_ignored, 1);
	}
	if (d->fin_seen && o->fin_seen && d->next >= d->fin && o->next >= o->fin &&
	    d->held == TS_NONE && o->held == TS_NONE)
		ts_conn_end(ts, ci, BL_TCP_END_FIN);
}

void
ts_sweep(struct tcpstream *ts, uint32_t n)
{
	for (uint32_t i = 0; i < n && i < ts->max_streams; i++) {
		uint32_t ci = ts->sweep_pos;
		struct ts_conn *c = &ts->conn[ci];

		ts->sweep_pos = ci + 1 == ts->max_streams ? 0 : ci + 1;
		if (!c->used || ts->now - c->last < ts->idle_ms)   /* modular: tick() */
			continue;
		if (!c->closed)
			ts_conn_end(ts, ci, BL_TCP_END_IDLE);
		ts_conn_unlink(ts, ci);
	}
}
