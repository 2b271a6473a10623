/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpgen — a source of whole TCP connections: handshake, data both ways,
 * close, with segments reordered, duplicated and lost on purpose, so that
 * what follows TCP (tcpstream, flow) is tested and measured on traffic of
 * known shape without a capture. Connections run `conns` at a time,
 * interleaved packet by packet; connection k goes from src:sport+k to
 * dst:dport (ports wrap within 1024..65535).
 *
 *   tcpgen conns=8 count=100 segments=40 reorder=50 loss=20 | pcap file=g.pcap
 *
 * synopsis: tcpgen [conns=4] [count=N] [segments=32] [mss=536] [reorder=0] [dup=0]
 *                  [loss=0] [seed=1] [src=IP] [dst=IP] [sport=P] [dport=P]
 *                  [smac=MAC] [dmac=MAC] [rate=PPS]
 * edges:    out (class 1)
 * state:    per-replica: each replica runs its own connections (count is per replica)
 *
 * A connection: SYN, SYN-ACK, ACK; `segments` data segments of 1..mss bytes,
 * one in four from the server; FIN from each side and the last ACK. Byte o of
 * direction d (0 client to server, 1 back) of connection k is
 * tcpgen_byte(k, d, o) (below), so a reader can check what it reassembled
 * without a reference tool. Each data segment but the last four of a
 * connection is, with the given chance in thousandths: lost (never sent, a
 * hole its receiver must report), sent twice, or held back and sent after the
 * next one (reordered). Acknowledgements are cumulative: a lost segment is one
 * the capture missed (its receiver acknowledges it), a reordered one is not
 * acknowledged before it is sent. IPv4 and TCP checksums are right.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "gen_args.h"

#define TG_CONNS_MAX 1024u
#define TG_HDR (RTE_ETHER_HDR_LEN + 20 + 20)
#define TG_Q 4                      /* a connection's pending packets: held + next + its dup */

enum tg_phase { TG_SYN, TG_SYNACK, TG_ACK, TG_DATA, TG_FIN_C, TG_FIN_S, TG_LAST_ACK, TG_DONE };

struct tg_pkt {                     /* one packet to send */
	uint32_t seq, ack, off;     /* off: stream offset of its first payload byte */
	uint16_t len;
	uint8_t dir, flags;
};

struct tg_conn {
	uint32_t k;                 /* connection number, from 0 */
	uint8_t phase;
	uint8_t nq;
	uint16_t seg;               /* data segments made so far */
	uint32_t isn[2];            /* initial sequence numbers, client and server */
	uint32_t sent[2];           /* payload bytes made per direction */
	struct tg_pkt q[TG_Q];      /* to send, in order */
	struct tg_pkt held;         /* a segment held back to follow the next one */
	bool has_held;
};

struct tcpgen {
	struct rte_mempool *mp;
	uint32_t conns, segments, mss, reorder, dup, loss;
	uint64_t count, started, seed, rng;
	int pending;                    /* count= and not all ended (bl_filter_finite_pending) */
	uint32_t src, dst;
	uint16_t sport, dport;
	struct rte_ether_addr smac, dmac;
	uint64_t rate, hz, last_tsc;
	double tokens;
	uint32_t next;              /* round robin over conn[] */
	uint32_t live;              /* connections not yet done */
	uint64_t generated, connections, lost, duplicated, reordered, alloc_fail;   /* (w) */
	struct tg_conn conn[TG_CONNS_MAX];
};

/* Byte o of direction d of connection k. */
static inline uint8_t
tcpgen_byte(uint32_t k, uint32_t d, uint32_t o)
{
	return (uint8_t)((o * 31u + k * 7u + d * 101u) ^ (o >> 8));
}

static inline uint64_t
tg_rand(struct tcpgen *t)
{
	/* xorshift64*: cheap, and the same sequence for the same seed */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 2685821657736338717ull;
}

static inline bool
tg_chance(struct tcpgen *t, uint32_t permille)
{
	return permille != 0 && tg_rand(t) % 1000 < permille;
}

static void
tg_conn_start(struct tcpgen *t, struct tg_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->k = (uint32_t)t->started++;
	c->isn[0] = (uint32_t)tg_rand(t);
	c->isn[1] = (uint32_t)tg_rand(t);
	t->live++;
}

static inline void
tg_push(struct tg_conn *c, const struct tg_pkt *p)
{
	c->q[c->nq++] = *p;
}

/* What the receiver of direction d has: every byte made so far (a lost segment
 * is one the capture missed, not the receiver), up to a segment held back. */
static inline uint32_t
tg_acked(const struct tg_conn *c, uint8_t d)
{
	return c->has_held && c->held.dir == d ? c->held.off : c->sent[d];
}

/* The next data segment of c into its queue, mangled as asked. */
static void
tg_data(struct tcpgen *t, struct tg_conn *c)
{
	uint32_t last = t->segments - c->seg;        /* segments left, this one included */
	struct tg_pkt p = { .flags = RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG };

	/* the last two: one each way, so both directions end with a segment sent */
	p.dir = last == 2 ? 0 : last == 1 ? 1 : (tg_rand(t) % 4 == 0);
	p.len = (uint16_t)(1 + tg_rand(t) % t->mss);
	p.off = c->sent[p.dir];
	p.seq = c->isn[p.dir] + 1 + p.off;
	p.ack = c->isn[!p.dir] + 1 + tg_acked(c, !p.dir);
	c->sent[p.dir] += p.len;
	c->seg++;
	if (last > 4 && tg_chance(t, t->loss)) {
		bl_counter_add(&t->lost, 1);   /* relaxed: read live by stats */
	} else if (last > 4 && !c->has_held && tg_chance(t, t->reorder)) {
		c->held = p;            /* sent after the next segment */
		c->has_held = true;
		bl_counter_add(&t->reordered, 1);
	} else {
		tg_push(c, &p);
		if (last > 4 && tg_chance(t, t->dup)) {
			tg_push(c, &p);
			bl_counter_add(&t->duplicated, 1);
		}
		if (c->has_held) {
			tg_push(c, &c->held);
			c->has_held = false;
		}
	}
}

/* Fill c's queue with what it sends next; false once it is done. */
static bool
tg_step(struct tcpgen *t, struct tg_conn *c)
{
	while (c->nq == 0) {
		/* where each direction's data ends (the FINs' sequence numbers) */
		uint32_t end_c = c->isn[0] + 1 + c->sent[0], end_s = c->isn[1] + 1 + c->sent[1];
		struct tg_pkt p;

		switch (c->phase) {
		case TG_SYN:
			p = (struct tg_pkt){ .dir = 0, .flags = RTE_TCP_SYN_FLAG, .seq = c->isn[0] };
			c->phase = TG_SYNACK;
			break;
		case TG_SYNACK:
			p = (struct tg_pkt){ .dir = 1, .flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
				.seq = c->isn[1], .ack = c->isn[0] + 1 };
			c->phase = TG_ACK;
			break;
		case TG_ACK:
			p = (struct tg_pkt){ .dir = 0, .flags = RTE_TCP_ACK_FLAG,
				.seq = c->isn[0] + 1, .ack = c->isn[1] + 1 };
			c->phase = t->segments > 0 ? TG_DATA : TG_FIN_C;
			break;
		case TG_DATA:
			tg_data(t, c);
			if (c->seg == t->segments)
				c->phase = TG_FIN_C;
			continue;
		case TG_FIN_C:
			p = (struct tg_pkt){ .dir = 0, .flags = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG,
				.seq = end_c, .ack = end_s };
			c->phase = TG_FIN_S;
			break;
		case TG_FIN_S:
			p = (struct tg_pkt){ .dir = 1, .flags = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG,
				.seq = end_s, .ack = end_c + 1 };
			c->phase = TG_LAST_ACK;
			break;
		case TG_LAST_ACK:
			p = (struct tg_pkt){ .dir = 0, .flags = RTE_TCP_ACK_FLAG,
				.seq = end_c + 1, .ack = end_s + 1 };
			c->phase = TG_DONE;
			break;
		default:
			return false;
		}
		tg_push(c, &p);
	}
	return true;
}

/* Write packet p of connection c into m. */
static void
tg_frame(const struct tcpgen *t, const struct tg_conn *c, const struct tg_pkt *p,
	 struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)d;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	uint8_t *pl = (uint8_t *)(tcp + 1);
	uint16_t cport = (uint16_t)(1024 + (t->sport - 1024 + c->k) % (65536 - 1024));
	uint32_t a = t->src, b = t->dst;

	eh->src_addr = p->dir == 0 ? t->smac : t->dmac;
	eh->dst_addr = p->dir == 0 ? t->dmac : t->smac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF, .time_to_live = 64, .next_proto_id = IPPROTO_TCP,
		.total_length = rte_cpu_to_be_16((uint16_t)(40 + p->len)),
		.packet_id = rte_cpu_to_be_16((uint16_t)t->generated),
		.src_addr = rte_cpu_to_be_32(p->dir == 0 ? a : b),
		.dst_addr = rte_cpu_to_be_32(p->dir == 0 ? b : a),
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*tcp = (struct rte_tcp_hdr){
		.src_port = rte_cpu_to_be_16(p->dir == 0 ? cport : t->dport),
		.dst_port = rte_cpu_to_be_16(p->dir == 0 ? t->dport : cport),
		.sent_seq = rte_cpu_to_be_32(p->seq), .recv_ack = rte_cpu_to_be_32(p->ack),
		.data_off = 5 << 4, .tcp_flags = p->flags, .rx_win = rte_cpu_to_be_16(0xffff),
	};
	for (uint32_t i = 0; i < p->len; i++)
		pl[i] = tcpgen_byte(c->k, p->dir, p->off + i);
	m->data_len = m->pkt_len = (uint32_t)TG_HDR + p->len;
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

static int
tcpgen_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "conns", "count", "segments", "mss", "reorder", "dup",
		"loss", "seed", "src", "dst", "sport", "dport", "smac", "dmac", "rate", NULL };
	struct tcpgen *t = bl_filter_priv(f);
	uint32_t src[2] = { 0xc0000201, 0xc0000201 }, dst[2] = { 0xc0000202, 0xc0000202 };
	uint16_t sport[2] = { 40000, 40000 }, dport[2] = { 80, 80 };

	t->conns = 4;
	t->segments = 32;
	t->mss = 536;
	t->seed = 1;
	t->smac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x01 } };
	t->dmac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	if (bl_args_only(args, keys, false, err) < 0 ||
	    bl_args_u32(args, "conns", 1, TG_CONNS_MAX, &t->conns, err) < 0 ||
	    bl_args_u64(args, "count", 0, UINT64_MAX, &t->count, err) < 0 ||
	    bl_args_u32(args, "segments", 2, 1000000, &t->segments, err) < 0 ||
	    bl_args_u32(args, "mss", 1, 9000 - TG_HDR, &t->mss, err) < 0 ||
	    bl_args_u32(args, "reorder", 0, 1000, &t->reorder, err) < 0 ||
	    bl_args_u32(args, "dup", 0, 1000, &t->dup, err) < 0 ||
	    bl_args_u32(args, "loss", 0, 1000, &t->loss, err) < 0 ||
	    bl_args_u64(args, "seed", 1, UINT64_MAX, &t->seed, err) < 0 ||
	    gen_arg_ip(args, "src", src, err) < 0 || gen_arg_ip(args, "dst", dst, err) < 0 ||
	    gen_arg_ports(args, "sport", sport, err) < 0 || gen_arg_ports(args, "dport", dport, err) < 0 ||
	    gen_arg_mac(args, "smac", &t->smac, err) < 0 || gen_arg_mac(args, "dmac", &t->dmac, err) < 0 ||
	    bl_args_u64(args, "rate", 0, UINT32_MAX * 16ull, &t->rate, err) < 0)
		return -EINVAL;
	if (src[0] != src[1] || dst[0] != dst[1] || sport[0] != sport[1] || dport[0] != dport[1])
		return bl_err_set(err, -EINVAL, "%s: one address and one port each (connection k uses "
				  "sport+k)", src[0] != src[1] ? "src" : dst[0] != dst[1] ? "dst" :
				  sport[0] != sport[1] ? "sport" : "dport");
	if (sport[0] < 1024)
		return bl_err_set(err, -EINVAL, "sport: 1024..65535 (client ports), got %u", sport[0]);
	if (TG_HDR + t->mss > bl_graph_data_room(f))
		return bl_err_set(err, -EINVAL, "mss: %u bytes and %u of headers do not fit one mbuf (%u "
				  "bytes of data room): raise mbufs.data_room", t->mss, TG_HDR,
				  bl_graph_data_room(f));
	t->src = src[0];
	t->dst = dst[0];
	t->sport = sport[0];
	t->dport = dport[0];
	t->mp = bl_graph_env(f)->pool;
	if (t->mp == NULL && !bl_graph_dry(f))
		return bl_err_set(err, -EINVAL, "tcpgen needs an mbuf pool in its environment");
	t->hz = rte_get_tsc_hz();
	return 0;
}

static int
tcpgen_start(struct bl_filter *f, struct bl_err *err)
{
	struct tcpgen *t = bl_filter_priv(f);

	(void)err;
	t->rng = t->seed;
	t->started = 0;
	t->live = 0;
	for (uint32_t i = 0; i < t->conns; i++) {
		if (t->count != 0 && t->started == t->count)
			t->conn[i].phase = TG_DONE;
		else
			tg_conn_start(t, &t->conn[i]);
	}
	t->last_tsc = rte_get_tsc_cycles();
	t->tokens = 0;
	if (t->count != 0 && t->live != 0)
		bl_filter_finite_pending_set(&t->pending, 1);
	return 0;
}

/* The graph runs no more: not pending any more. */
static void
tcpgen_stop(struct bl_filter *f)
{
	struct tcpgen *t = bl_filter_priv(f);

	bl_filter_finite_pending_set(&t->pending, 0);
}

static uint16_t
tcpgen_poll(struct bl_filter *f, uint16_t max)
{
	struct tcpgen *t = bl_filter_priv(f);
	struct rte_mbuf **slots = bl_filter_emit_slots(f);
	uint16_t n = RTE_MIN(max, bl_filter_emit_room(f)), k = 0;

	if (t->live == 0)
		return 0;
	if (t->rate != 0) {
		uint64_t now = rte_get_tsc_cycles();
		t->tokens += (double)(now - t->last_tsc) * (double)t->rate / (double)t->hz;
		t->last_tsc = now;
		if (t->tokens > 2.0 * max)
			t->tokens = 2.0 * max;
		if (t->tokens < n)
			n = (uint16_t)t->tokens;
	}
	if (n == 0)
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(t->mp, slots, n) != 0)) {
		bl_counter_add(&t->alloc_fail, 1);
		return 0;
	}
	while (k < n && t->live != 0) {
		struct tg_conn *c = &t->conn[t->next];

		t->next = t->next + 1 == t->conns ? 0 : t->next + 1;
		if (c->phase == TG_DONE && c->nq == 0)
			continue;
		if (!tg_step(t, c))
			continue;
		tg_frame(t, c, &c->q[0], slots[k++]);
		memmove(&c->q[0], &c->q[1], (size_t)(--c->nq) * sizeof(c->q[0]));
		if (c->phase == TG_DONE && c->nq == 0) {       /* its last packet went */
			t->live--;
			bl_counter_add(&t->connections, 1);
			if (t->count == 0 || t->started < t->count)
				tg_conn_start(t, c);
		}
	}
	if (k < n)
		rte_pktmbuf_free_bulk(slots + k, n - k);
	if (t->live == 0 && t->pending)          /* count= connections, all ended */
		bl_filter_finite_pending_set(&t->pending, 0);
	if (k == 0)
		return 0;
	bl_filter_emit_commit(f, k, 1);
	if (t->rate != 0)
		t->tokens -= k;
	bl_counter_add(&t->generated, k);
	return k;
}

static const struct bl_counter_def tcpgen_counters[] = {
	BL_COUNTER(struct tcpgen, generated, "generated", "packets generated"),
	BL_COUNTER(struct tcpgen, connections, "connections", "connections completed (FIN both ways, last ACK)"),
	BL_COUNTER(struct tcpgen, lost, "lost", "data segments left out on purpose (loss=)"),
	BL_COUNTER(struct tcpgen, duplicated, "duplicated", "data segments sent twice on purpose (dup=)"),
	BL_COUNTER(struct tcpgen, reordered, "reordered", "data segments sent after the next one (reorder=)"),
	BL_COUNTER(struct tcpgen, alloc_fail, "alloc_fail", "bursts skipped for want of free mbufs"),
};

BL_FILTER_REGISTER(tcpgen) = {
	.summary = "generate whole TCP connections, with reordering, duplicates and loss on purpose",
	.synopsis = "tcpgen [conns=4] [count=N] [segments=32] [mss=536] [reorder=0] [dup=0] [loss=0] "
		    "[seed=1] [src=IP] [dst=IP] [sport=P] [dport=P] [smac=MAC] [dmac=MAC] [rate=PPS]",
	.args_doc = "conns: connections open at once, interleaved packet by packet (1..1024, default 4)\n"
		    "count: connections in all per replica, then stop (default 0: forever)\n"
		    "segments: data segments per connection, one in four from the server (2..10^6, "
		    "default 32)\n"
		    "mss: a data segment carries 1..mss bytes (default 536)\n"
		    "reorder, dup, loss: chance in thousandths that a data segment (not one of the "
		    "last four) is sent after the next one, sent twice, or never sent (default 0)\n"
		    "seed: the random sequence (default 1): the same seed gives the same packets\n"
		    "src, dst: client and server IPv4 address (default 192.0.2.1, 192.0.2.2)\n"
		    "sport: the first client port; connection k uses sport+k, wrapping within "
		    "1024..65535 (default 40000)\n"
		    "dport: the server port (default 80)\n"
		    "smac, dmac: client and server Ethernet addresses (default 02:00:00:00:00:01 / :02)\n"
		    "rate: packets per second per replica (default 0: as fast as possible)",
	.edges_doc = "out (class 1): every packet generated",
	.state_doc = "per-replica: each replica runs its own connections",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct tcpgen),
	.init = tcpgen_init,
	.start = tcpgen_start,
	.stop = tcpgen_stop,
	.poll = tcpgen_poll,
	BL_FILTER_COUNTERS(tcpgen_counters),
	.edges = { "out" },
};
