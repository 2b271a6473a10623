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
 *     the receiver acknowledges bytes past it up to a segment held beyond it
 *     (they reached it: the capture lost them; an ACK past the furthest byte seen
 *     is not believed, counted ack_ahead), or when holding one more segment would
 *     pass max_bytes of the direction or the max_segs held by the filter (counted
 *     over_max_bytes). A FIN further than max_bytes past the furthest byte seen
 *     is not believed either (fin_ahead): the close would make a hole up to it.
 *     "The furthest byte seen" counts held bytes up to max_bytes past the next one
 *     only: a forged segment far ahead is held (it is small) but widens no window.
 * A RST ends a connection only inside its direction's window (RFC 5961: from the
 * next byte to max_bytes past the furthest seen; from a side that sent no byte, at
 * the sequence number the other acknowledged; counted rst_ignored otherwise).
 * New bytes on the tuple of an ended connection start a new one, as tcpflow
 * does (cat --tcp names its files ...c1); old ones are stragglers (after_close).
 * An ended connection keeps its place for idle_s only while there is room: with
 * max_streams followed, a new connection takes the place of the oldest ended one.
 * Packets pass on `out` unchanged: the stream holds its own references.
 * The worker makes no system call and allocates only metadata mbufs from the
 * packet pool (one per 28 records; none left: the records are lost, counted
 * nombuf, and the readers see the hole in the offsets).
 *
 * This file is the filter (arguments, life cycle, the burst loop, counters); the
 * connection table is tcpstream_table.c, the reassembly tcpstream_reasm.c, and
 * their shared state tcpstream_pvt.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "bl_be.h"
#include "bl_dbuf.h"
#include "bl_filter_worker.h"
#include "bl_flow.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_mbuf_meta.h"
#include "bl_stream_worker.h"
#include "bl_tcp_rec.h"
#include "bl_time.h"
#include "flow_key.h"
#include "proto.h"
#include "tcpstream_pvt.h"

/* ---- the filter ---- */

/* What init made: the stream, the reserved mbufs, the table's memory. */
static void
ts_release(struct tcpstream *ts)
{
	if (ts->s != NULL)
		bl_stream_release(ts->s);
	ts->s = NULL;
	if (ts->reserved)
		bl_dbuf_unreserve(ts->dbuf, ts->max_segs);
	ts->reserved = false;
	ts_mem_free(ts);
}

/* Entries staged and the metadata mbuf, never written: their references go. */
static void
ts_drop_staged(struct tcpstream *ts)
{
	for (unsigned int i = 0; i < ts->n_stage; i++)
		rte_pktmbuf_free(ts->refs[i]);
	ts->n_stage = 0;
	if (ts->rm != NULL)
		rte_pktmbuf_free(ts->rm);
	ts->rm = NULL;
}

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
		.wake_pass = 1, .lcore = env->lcore, .content = BL_STREAM_TCP,
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
	if ((rc = ts_mem_init(ts, err)) < 0)
		goto fail;
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
	ts->next_id = bl_wall_ms() << 16;    /* ids of a reloaded graph's filter follow on */
	bl_ms_clock_init(&ts->clk);
	return 0;
fail:
	ts_release(ts);
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
			ts_conn_end(ts, i, BL_TCP_END_FLUSH);
		ts_conn_unlink(ts, i);
	}
	ts_stage_flush(ts);
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
				ts_seg_free(ts, s);
			}
		c->d[0].held = c->d[1].held = TS_NONE;
		if (!c->closed)
			bl_counter_add(&ts->flushed, 1);
		ts_conn_unlink(ts, i);
	}
	ts_drop_staged(ts);
}

static void
tcpstream_fini(struct bl_filter *f)
{
	struct tcpstream *ts = bl_filter_priv(f);

	tcpstream_stop(f);      /* whatever is still held (stop normally left nothing) */
	ts_drop_staged(ts);
	ts_release(ts);
}

/* The clock: a replay's record times, else the TSC; never goes back. Connections' times
 * are ms after the base modulo 2^32 (49.7 days), and their ages are taken from the clock,
 * so the modular age is the real one while below 2^32 ms (a clamp there stopped every idle
 * end after 49.7 days: the table filled for good). The sweep looks at 64 a burst (and,
 * live, at a share each tick: tcpstream_tick); a pass
 * over every connection each time the clock has moved 2^30 ms (12.4 days) makes sure none
 * goes unlooked at that long. A jump of 2^31 ms or more passes idle_s: every connection
 * ends first. */
static void
tick(struct tcpstream *ts, uint64_t ms)
{
	bool all;

	if (!ts->based) {
		ts->base_ms = ms;
		ts->now_ms = ms;
		ts->whole_ms = ms;
		ts->based = true;
	}
	if (ms <= ts->now_ms)
		return;
	all = ms - ts->now_ms >= (1ull << 31);
	ts->now_ms = ms;
	ts->now = (uint32_t)(ms - ts->base_ms);
	if (!all && ms - ts->whole_ms < (1ull << 30))
		return;
	ts->whole_ms = ms;
	for (uint32_t ci = 0; ci < ts->max_streams; ci++) {
		struct ts_conn *c = &ts->conn[ci];
		if (!c->used || (!all && ts->now - c->last < ts->idle_ms))
			continue;
		if (!c->closed)
			ts_conn_end(ts, ci, BL_TCP_END_IDLE);
		ts_conn_unlink(ts, ci);
	}
}

/* Once a pass: a sleeper of export=NAME the last burst's check may have missed
 * (bl_stream_wake_pass); and, live, the idle sweep: once the packets stop no burst
 * sweeps, and the connections left stayed in the table (their files unfinished) until
 * the next packet or the filter's stop. At most once a millisecond, a share of the
 * table sized by the time since the last one, so every connection is looked at within
 * half of idle_s. A replay's clock is its records' times: it stands still once the
 * capture ends, and so do its connections (as flow's). */
static void
tcpstream_tick(struct bl_filter *f)
{
	struct tcpstream *ts = bl_filter_priv(f);
	uint64_t now, n;

	if (ts->s != NULL)
		bl_stream_wake_pass(ts->s);
	/* not before the first packet: it says which clock this is (a replay's times are
	 * years before the TSC's, and a clock started on the TSC never went back to them) */
	if (ts->replay || !ts->based || ts->clk.hz == 0 || ts->conn == NULL)
		return;
	/* Every graph pass comes here: the TSC alone until a ms has passed (the two
	 * divisions of the ms clock cost more than a pass's share of the work). */
	now = bl_ms_clock_tick(&ts->clk);
	if (now == 0 || now <= ts->tick_ms)
		return;
	n = ts->tick_ms == 0 ? 1 : now - ts->tick_ms;
	ts->tick_ms = now;
	tick(ts, now);
	n = n * 2u * ts->max_streams / ts->idle_ms + 1u;
	ts_sweep(ts, (uint32_t)RTE_MIN(n, (uint64_t)ts->max_streams));
	ts_stage_flush(ts);
}

static void
tcpstream_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct tcpstream *ts = bl_filter_priv(f);
	uint64_t now = bl_ms_clock_now(&ts->clk);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct bl_flow_key k;
		struct proto p;
		uint8_t buf[40];
		const uint8_t *t;
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
		(void)flow_key_ip(m, &p, &k, &iplen, buf);
		if (p.frag) {   /* MF or an offset, IPv4 or IPv6: a part of the segment only */
			bl_counter_add(&ts->fragments, 1);
			continue;
		}
		if (!p.has_l4) {
			bl_counter_add(&ts->malformed, 1);
			continue;
		}
		t = proto_at(m, p.l4_off, 20, buf);      /* proto_parse found it whole */
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
		ts_tcp_packet(ts, m, &k, bl_get_be32(t + 4), bl_get_be32(t + 8), t[13], pay, len);
	}
	ts_sweep(ts, TS_SWEEP);
	ts_stage_flush(ts);
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
	BL_GAUGE(struct tcpstream, active, "active", "connections in the table now"),
	BL_COUNTER(struct tcpstream, ended_fin, "ended_fin", "connections ended by FIN both ways"),
	BL_COUNTER(struct tcpstream, ended_rst, "ended_rst", "connections ended by a RST"),
	BL_COUNTER(struct tcpstream, ended_idle, "ended_idle",
		   "connections ended by idle_s (live: packets or none; a replay: by its records' times)"),
	BL_COUNTER(struct tcpstream, flushed, "flushed", "connections ended when the filter stopped"),
	BL_COUNTER(struct tcpstream, no_stream, "no_stream",
		   "packets of connections not followed: max_streams were followed already, none "
		   "of them ended"),
	BL_COUNTER(struct tcpstream, reclaimed, "reclaimed",
		   "ended connections (kept for their stragglers) removed early to make room for a "
		   "new one: max_streams were followed"),
	BL_COUNTER(struct tcpstream, over_max_bytes, "over_max_bytes",
		   "bytes of holes given up early (GAP records) because holding a segment would "
		   "pass max_bytes of its direction or max_segs"),
	BL_COUNTER(struct tcpstream, gaps, "gaps", "GAP records: holes in a stream (lost segments)"),
	BL_COUNTER(struct tcpstream, gap_bytes, "gap_bytes", "bytes the GAP records stand for"),
	BL_COUNTER(struct tcpstream, out_of_window, "out_of_window",
		   "segments dropped: more than 1 GiB from the next offset, before the stream's "
		   "start, or past its FIN (held ones too, once the FIN is seen)"),
	BL_COUNTER(struct tcpstream, retrans, "retrans",
		   "segments that brought no new byte (retransmissions, duplicates)"),
	BL_COUNTER(struct tcpstream, overlap_bytes, "overlap_bytes",
		   "payload bytes not published because they were published (or held) already"),
	BL_GAUGE(struct tcpstream, held, "held", "segments held out of order now"),
	BL_COUNTER(struct tcpstream, not_tcp, "not_tcp", "packets not followed: not TCP over IP"),
	BL_COUNTER(struct tcpstream, malformed, "malformed",
		   "packets not followed: an Ethernet, VLAN, IP or TCP header cut short, invalid, or "
		   "past the end of the IP datagram (in the frame's trailer)"),
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
		   "packets of ended connections that bring no new byte (stragglers), not followed; "
		   "new bytes start a new connection on the tuple"),
	BL_COUNTER(struct tcpstream, ack_ahead, "ack_ahead",
		   "ACKs of bytes past the furthest the other direction was seen sending (forged, "
		   "or the capture lost them): no hole given up for them"),
	BL_COUNTER(struct tcpstream, fin_ahead, "fin_ahead",
		   "FINs more than max_bytes past the furthest byte seen of their direction: "
		   "ignored (the close would give up every byte before them as a hole)"),
	BL_COUNTER(struct tcpstream, rst_ignored, "rst_ignored",
		   "RSTs outside their direction's window (before its next byte, or more than "
		   "max_bytes past the furthest seen; RFC 5961): ignored, the connection goes on"),
	BL_COUNTER_IN(ts_ring, struct bl_ibuf_prod, written, "written", "entries stored"),
	BL_COUNTER_BITS_IN(ts_ring, struct bl_ibuf_prod, active, "readers",
			   "readers attached now"),
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
	.edges_doc = "the upstream classes, unchanged (every packet)",
	.flags = BL_FILTER_F_PASSES_CLASS,
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
	.tick = tcpstream_tick,
	BL_FILTER_COUNTERS(tcpstream_counters),
	.edges = { "out" },
};

