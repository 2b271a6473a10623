/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpstream_pvt — the tcpstream filter's state, shared by its three files:
 * tcpstream.c (the filter: arguments, life cycle, the burst loop, counters),
 * tcpstream_table.c (the connection table and the held-segment pool, fixed memory
 * made at init) and tcpstream_reasm.c (reassembly: segments in order, held ones,
 * gaps, and the records published). All of it runs on the filter's one worker
 * (or the main lcore once the graph stopped): no atomic but the counters'.
 */
#ifndef BL_TCPSTREAM_PVT_H
#define BL_TCPSTREAM_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "bl_err.h"
#include "bl_flow.h"
#include "bl_ibuf.h"
#include "bl_ms_clock.h"

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
	uint64_t hi;                  /* the end of the furthest payload byte seen (held ones too) */
	uint32_t held;                /* first held segment (lowest offset), or TS_NONE */
	uint32_t held_bytes;
	uint8_t known, fin_seen;
	uint8_t peer_acked;           /* the other direction has acknowledged (peer_ack) */
	uint32_t peer_ack;            /* the sequence number it acknowledged last: where a RST
	                               * without ACK of a direction that sent no byte must be */
};

struct ts_conn {
	struct bl_flow_key key;       /* direction 0's: src sends */
	uint64_t hash;                /* of the canonical key */
	uint64_t id;
	uint32_t last;                /* ms after the table's clock base */
	uint8_t used;
	uint8_t closed;               /* ended (FIN/RST): kept until idle to absorb stragglers,
	                               * or until a new connection needs its place */
	uint32_t cprev, cnext;        /* the list of ended ones, oldest first (when closed) */
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
	struct bl_ms_clock clk;       /* the worker's clock: TSC to ms since the epoch */
	/* the worker (the main lcore at drain) */
	struct ts_conn *conn;         /* max_streams */
	uint32_t *slot;               /* n_slots: connection index, or TS_NONE */
	uint32_t n_slots;
	uint32_t *free_conn;          /* a stack of free connection indexes */
	uint32_t n_free_conn;
	uint32_t closed_head, closed_tail; /* ended connections still in the table, oldest first */
	struct ts_seg *seg;           /* max_segs */
	uint32_t free_seg;            /* free list head */
	uint32_t n_free_seg;
	uint64_t next_id;
	uint64_t base_ms;
	bool based, replay;
	uint32_t now;                 /* latest time seen, ms after base_ms, modulo 2^32 */
	uint64_t now_ms;              /* the same, ms since the epoch */
	uint64_t whole_ms;            /* now_ms when every connection was last looked at */
	uint64_t tick_ms;             /* the live clock at the last sweep of tcpstream_tick */
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
		after_close, ack_ahead, fin_ahead, rst_ignored, reclaimed;
};

/* ---- the table (tcpstream_table.c) ---- */

/* The connection table and the held-segment pool for max_streams and max_segs: 0, or
 * -ENOMEM with err naming max_streams. ts_mem_free frees what there is (any time). */
int ts_mem_init(struct tcpstream *ts, struct bl_err *err);
void ts_mem_free(struct tcpstream *ts);
/* k with its two endpoints swapped: the other direction's key. */
void ts_key_swap(const struct bl_flow_key *k, struct bl_flow_key *o);
/* The hash of the key both directions share (the lower endpoint first). */
uint64_t ts_key_hash(const struct tcpstream *ts, const struct bl_flow_key *k);
/* The connection of key k (hash h) and the direction k goes in, or TS_NONE;
 * *at: the slot it is in, or the free slot it would go in. */
uint32_t ts_conn_find(const struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h,
		      uint8_t *dir, uint32_t *at);
/* A new connection in free slot `at`, direction 0 = k's sender, no byte known yet:
 * its index, or TS_NONE when max_streams are followed and none of them has ended
 * (counted no_stream). With max_streams followed, the oldest ended one (kept only for
 * its stragglers) gives its place up (counted reclaimed). */
uint32_t ts_conn_add(struct tcpstream *ts, const struct bl_flow_key *k, uint64_t h, uint32_t at);
/* Remove connection c from the table (backward-shift deletion: no tombstones). */
void ts_conn_unlink(struct tcpstream *ts, uint32_t c);
/* Connection c has ended (c->closed set by the caller): the newest of the ended ones. */
void ts_conn_closed(struct tcpstream *ts, uint32_t c);
/* Segment i back to the pool (the caller has its mbuf reference dealt with). */
void ts_seg_free(struct tcpstream *ts, uint32_t i);

/* ---- reassembly (tcpstream_reasm.c) ---- */

/* One TCP segment of a packet (m: the packet, which the caller keeps). */
void ts_tcp_packet(struct tcpstream *ts, struct rte_mbuf *m, const struct bl_flow_key *k,
		   uint32_t seq, uint32_t ack, uint8_t flags, uint32_t pay, uint32_t len);
/* The connection ends: every hole is given up, each direction gets its CLOSE. */
void ts_conn_end(struct tcpstream *ts, uint32_t ci, uint8_t why);
/* Look at n of the connections (max_streams at most): end the idle ones, free the ended
 * ones gone quiet. */
void ts_sweep(struct tcpstream *ts, uint32_t n);
/* Write the staged entries to the ring. */
void ts_stage_flush(struct tcpstream *ts);

#endif /* BL_TCPSTREAM_PVT_H */
