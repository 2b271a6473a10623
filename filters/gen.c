/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen — a packet source built from a template, as testpmd's txonly and
 * flowgen modes: so the appliance runs, and is measured, with no capture and
 * no NIC. Every combination of the address and port ranges is visited in
 * turn (dport fastest, then sport, dst, src).
 * synopsis: gen [proto=udp|tcp|icmp] [size=64] [src=IP[-IP]] [dst=IP[-IP]]
 *               [sport=P[-P]] [dport=P[-P]] [smac=MAC] [dmac=MAC] [rate=PPS] [count=N]
 *               [fill=all|headers]
 * edges:    out (class 1)
 * checksums: IPv4 and TCP/ICMP are correct for every packet; UDP's is 0 (none)
 * fill:     all (default) writes the whole frame, payload zeros; headers writes
 *           only Ethernet, IPv4 and the UDP header (42 bytes) and leaves the
 *           payload as the mbuf held it, as testpmd txonly does. A TCP or ICMP
 *           checksum covers the payload, so fill=headers is refused with them
 *           rather than sending packets whose checksum is wrong; UDP's 0 means
 *           "none" and stays right whatever the payload.
 * state:    per-replica: each replica generates its own stream (count is per replica)
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_memcpy.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "gen_args.h"

#define GEN_SIZE_MAX 9000
#define L2 14
#define L3 20

struct gen {
	struct rte_mempool *mp;
	uint16_t size;
	uint16_t fill_len;              /* bytes of the template written per packet: size,
	                                 * or the headers alone (fill=headers) */
	uint8_t proto;
	bool varies;                    /* any range wider than one value */
	uint32_t src[2], dst[2];        /* host order, lo..hi */
	uint16_t sport[2], dport[2];
	uint32_t cur_src, cur_dst;
	uint16_t cur_sport, cur_dport;
	uint64_t rate, count, left;     /* rate: packets/s (0: unlimited); count: 0 = forever */
	int pending;                    /* count= and not all sent (bl_filter_finite_pending) */
	uint64_t hz, last_tsc;
	double tokens;
	uint32_t tcp_sum;               /* TCP: one's complement sum of the segment and
	                                 * pseudo header without addresses and ports */
	uint64_t generated;             /* (w) this lcore */
	uint64_t alloc_fail;            /* (w) */
	uint8_t tmpl[GEN_SIZE_MAX];
};

static uint16_t
l4_len(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : 8;
}

/* Sums are of 16-bit words as they lie in memory (network order), the way
 * rte_raw_cksum adds them: the one's complement sum does not care. */
static inline uint32_t
sum32(uint32_t be)
{
	return (be & 0xffff) + (be >> 16);
}

/* Write addresses and ports into a frame and fix the IPv4 checksum and, for
 * TCP, the segment's: the template's sum plus the four fields, no pass over
 * the payload. (UDP keeps checksum 0, "none", which IPv4 allows.) */
static inline void
stamp(struct gen *g, uint8_t *frame, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + L2);
	uint16_t *l4 = (uint16_t *)(frame + L2 + L3);

	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (g->proto != IPPROTO_ICMP) {
		l4[0] = rte_cpu_to_be_16(sp);
		l4[1] = rte_cpu_to_be_16(dp);
	}
	if (g->proto == IPPROTO_TCP) {
		uint32_t sum = g->tcp_sum + sum32(ip->src_addr) + sum32(ip->dst_addr) + l4[0] + l4[1];

		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		l4[8] = (uint16_t)~sum;   /* checksum at byte 16 of the TCP header */
	}
}

static void
build_template(struct gen *g, const struct rte_ether_addr *smac, const struct rte_ether_addr *dmac)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)g->tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(g->tmpl + L2);
	uint8_t *l4 = g->tmpl + L2 + L3;

	memset(g->tmpl, 0, sizeof(g->tmpl));
	eh->dst_addr = *dmac;
	eh->src_addr = *smac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(g->size - L2));
	ip->time_to_live = 64;
	ip->next_proto_id = g->proto;
	if (g->proto == IPPROTO_UDP) {
		l4[4] = (uint8_t)((g->size - L2 - L3) >> 8);   /* udp length */
		l4[5] = (uint8_t)(g->size - L2 - L3);
	} else if (g->proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;   /* data offset */
		l4[13] = 0x10;     /* ACK */
		l4[14] = 0xff;
		l4[15] = 0xff;     /* window */
		/* ports and checksum are still 0 here: stamp() adds them */
		g->tcp_sum = rte_raw_cksum(l4, g->size - L2 - L3) +
			     rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)(g->size - L2 - L3));
	} else {
		l4[0] = 8;         /* echo request */
		uint16_t ck = rte_raw_cksum(l4, g->size - L2 - L3);
		ck = (uint16_t)~ck;
		memcpy(l4 + 2, &ck, 2);
	}
	stamp(g, g->tmpl, g->src[0], g->dst[0], g->sport[0], g->dport[0]);
}

static int
gen_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "proto", "size", "src", "dst", "sport", "dport",
					    "smac", "dmac", "rate", "count", "fill", NULL };
	struct gen *g = bl_filter_priv(f);
	struct rte_ether_addr smac = { { 0x02, 0, 0, 0, 0, 0x01 } }, dmac = { { 0x02, 0, 0, 0, 0, 0x02 } };
	const char *proto = "udp", *fill = "all";
	uint32_t size = 64;

	g->src[0] = g->src[1] = 0xc0000201;   /* 192.0.2.1 (TEST-NET-1) */
	g->dst[0] = g->dst[1] = 0xc0000202;
	g->sport[0] = g->sport[1] = 1024;
	g->dport[0] = g->dport[1] = 1024;
	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "proto", &proto, err) < 0)
		return -EINVAL;
	if (strcmp(proto, "udp") == 0)
		g->proto = IPPROTO_UDP;
	else if (strcmp(proto, "tcp") == 0)
		g->proto = IPPROTO_TCP;
	else if (strcmp(proto, "icmp") == 0)
		g->proto = IPPROTO_ICMP;
	else
		return bl_err_set(err, -EINVAL, "proto: must be udp, tcp or icmp, got \"%.20s\"", proto);
	if (bl_args_u32(args, "size", L2 + L3 + l4_len(g->proto), GEN_SIZE_MAX, &size, err) < 0 ||
	    gen_arg_ip(args, "src", g->src, err) < 0 || gen_arg_ip(args, "dst", g->dst, err) < 0 ||
	    gen_arg_ports(args, "sport", g->sport, err) < 0 || gen_arg_ports(args, "dport", g->dport, err) < 0 ||
	    gen_arg_mac(args, "smac", &smac, err) < 0 || gen_arg_mac(args, "dmac", &dmac, err) < 0 ||
	    bl_args_u64(args, "rate", 0, UINT32_MAX * 16ull, &g->rate, err) < 0 ||
	    bl_args_u64(args, "count", 0, UINT64_MAX, &g->count, err) < 0 ||
	    bl_args_str(args, "fill", &fill, err) < 0)
		return -EINVAL;
	g->size = (uint16_t)size;
	if (strcmp(fill, "all") == 0)
		g->fill_len = g->size;
	else if (strcmp(fill, "headers") != 0)
		return bl_err_set(err, -EINVAL, "fill: must be all or headers, got \"%.20s\"", fill);
	else if (g->proto != IPPROTO_UDP)
		return bl_err_set(err, -EINVAL, "fill: headers leaves the payload unwritten, so a %s checksum "
				  "could not be right: use proto=udp (checksum 0, none) or fill=all", proto);
	else
		g->fill_len = L2 + L3 + l4_len(g->proto);
	g->mp = bl_graph_env(f)->pool;
	if (g->mp == NULL && !bl_graph_dry(f))
		return bl_err_set(err, -EINVAL, "gen needs an mbuf pool in its environment");
	if (g->size > bl_graph_data_room(f))
		return bl_err_set(err, -EINVAL, "size: %u bytes do not fit one mbuf (%u bytes of data room): "
				  "raise mbufs.data_room", g->size, bl_graph_data_room(f));
	g->varies = g->src[0] != g->src[1] || g->dst[0] != g->dst[1] || g->sport[0] != g->sport[1] ||
		    g->dport[0] != g->dport[1];
	g->cur_src = g->src[0];
	g->cur_dst = g->dst[0];
	g->cur_sport = g->sport[0];
	g->cur_dport = g->dport[0];
	g->left = g->count;
	g->hz = rte_get_tsc_hz();
	build_template(g, &smac, &dmac);
	return 0;
}

static int
gen_start(struct bl_filter *f, struct bl_err *err)
{
	struct gen *g = bl_filter_priv(f);

	(void)err;
	g->last_tsc = rte_get_tsc_cycles();
	g->tokens = 0;
	if (g->count != 0 && g->left != 0)
		bl_filter_finite_pending_set(&g->pending, 1);
	return 0;
}

/* The next flow of the cartesian product of the ranges. */
static inline void
next_flow(struct gen *g)
{
	if (g->cur_dport++ != g->dport[1])
		return;
	g->cur_dport = g->dport[0];
	if (g->cur_sport++ != g->sport[1])
		return;
	g->cur_sport = g->sport[0];
	if (g->cur_dst++ != g->dst[1])
		return;
	g->cur_dst = g->dst[0];
	if (g->cur_src++ != g->src[1])
		return;
	g->cur_src = g->src[0];
}

static uint16_t
gen_poll(struct bl_filter *f, uint16_t max)
{
	struct gen *g = bl_filter_priv(f);
	struct rte_mbuf **slots = bl_filter_emit_slots(f);
	uint16_t n = RTE_MIN(max, bl_filter_emit_room(f));

	if (g->rate != 0) {
		uint64_t now = rte_get_tsc_cycles();
		g->tokens += (double)(now - g->last_tsc) * (double)g->rate / (double)g->hz;
		g->last_tsc = now;
		if (g->tokens > 2.0 * max)
			g->tokens = 2.0 * max;   /* no bursts of saved-up credit */
		if (g->tokens < n)
			n = (uint16_t)g->tokens;
	}
	if (g->count != 0 && g->left < n)
		n = (uint16_t)g->left;
	if (n == 0)
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(g->mp, slots, n) != 0)) {
		bl_counter_add(&g->alloc_fail, 1);
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = slots[i];
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		rte_memcpy(d, g->tmpl, g->fill_len);
		m->data_len = g->size;
		m->pkt_len = g->size;
		if (g->varies) {
			stamp(g, d, g->cur_src, g->cur_dst, g->cur_sport, g->cur_dport);
			next_flow(g);
		}
	}
	bl_filter_emit_commit(f, n, 1);
	if (g->rate != 0)
		g->tokens -= n;
	if (g->count != 0 && (g->left -= n) == 0)
		bl_filter_finite_pending_set(&g->pending, 0);
	bl_counter_add(&g->generated, n);
	return n;
}

/* The graph runs no more (this lcore's loop is done with it): not pending any more. */
static void
gen_stop(struct bl_filter *f)
{
	struct gen *g = bl_filter_priv(f);

	bl_filter_finite_pending_set(&g->pending, 0);
}

static const struct bl_counter_def gen_counters[] = {
	BL_COUNTER(struct gen, generated, "generated", "packets generated"),
	BL_COUNTER(struct gen, alloc_fail, "alloc_fail", "bursts skipped for want of free mbufs"),
};

BL_FILTER_REGISTER(gen) = {
	.summary = "generate packets from a template (like testpmd txonly/flowgen)",
	.synopsis = "gen [proto=udp|tcp|icmp] [size=64] [src=IP[-IP]] [dst=IP[-IP]] [sport=P[-P]] "
		    "[dport=P[-P]] [smac=MAC] [dmac=MAC] [rate=PPS] [count=N] [fill=all|headers]",
	.args_doc = "proto: udp (default; checksum 0, none), tcp (ACK; checksum right) or icmp (echo request)\n"
		    "size: frame length in bytes without CRC (default 64)\n"
		    "src, dst: IPv4 address or range A-B (default 192.0.2.1, 192.0.2.2)\n"
		    "sport, dport: port or range LO-HI (default 1024)\n"
		    "smac, dmac: Ethernet addresses (default 02:00:00:00:00:01 / :02)\n"
		    "rate: packets per second per replica (default 0: as fast as possible)\n"
		    "count: packets in all per replica, then stop (default 0: forever)\n"
		    "fill: all (default: the whole frame, payload zeros) or headers (Ethernet, IPv4 and "
		    "UDP headers only, 42 bytes; the payload is what the mbuf held, as testpmd txonly; "
		    "UDP only, since a TCP or ICMP checksum would have to cover that payload). The pool "
		    "is shared: with ports that receive, that payload may be bytes of their packets, so "
		    "fill=headers is for benchmarks, never for a stream or port others read",
	.edges_doc = "out (class 1): every packet generated",
	.state_doc = "per-replica: each replica generates its own stream",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct gen),
	.init = gen_init,
	.start = gen_start,
	.stop = gen_stop,
	.poll = gen_poll,
	BL_FILTER_COUNTERS(gen_counters),
	.edges = { "out" },
};
