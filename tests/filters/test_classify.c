/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protocol classifiers (eth ip ip6 arp tcp udp icmp vlan ipproto sport
 * dport): one table of packets, well-formed and broken, with the verdict of
 * every classifier on each. A broken header is class 0 and counted as
 * "malformed"; another protocol is class 0 and counted as "other". Every
 * packet sits in a heap buffer of exactly its length, so under ASan a read
 * past its end fails the test.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "harness.h"

#define M (-1)   /* malformed: class 0, counted in "malformed" */
#define O 0      /* other: class 0, counted in "other" */

enum { F_ETH, F_IP, F_IP6, F_ARP, F_TCP, F_UDP, F_ICMP, F_VLAN, F_IPPROTO, F_SPORT, F_DPORT, N_F };
static const char *const fname[N_F] = {
	"eth", "ip", "ip6", "arp", "tcp", "udp", "icmp", "vlan", "ipproto", "sport", "dport",
};

#define V4 0x0800
#define V6 0x86dd
#define ARP 0x0806

struct kase {
	const char *what;
	struct pkt_spec s;
	int64_t want[N_F];
};

/*                                                              eth ip ip6 arp tcp udp icmp vlan ipproto sport dport */
static const struct kase cases[] = {
	{ "udp4", { .proto = 17 },                                  { 1, 1, O, O, O, 1, O, O, 17, 1000, 2000 } },
	{ "tcp4 22->80", { .proto = 6, .sport = 22, .dport = 80 },  { 1, 1, O, O, 1, O, O, O, 6, 22, 80 } },
	{ "icmp4", { .proto = 1, .icmp_type = 8 },                  { 1, 1, O, O, O, O, 1, O, 1, O, O } },
	{ "sctp4", { .proto = 132, .payload = 8 },                  { 1, 1, O, O, O, O, O, O, 132, 1000, 2000 } },
	{ "gre4", { .proto = 47 },                                  { 1, 1, O, O, O, O, O, O, 47, O, O } },
	{ "udp6", { .etype = V6, .proto = 17 },                     { 1, O, 1, O, O, 1, O, O, 17, 1000, 2000 } },
	{ "tcp6", { .etype = V6, .proto = 6, .dport = 443 },        { 1, O, 1, O, 1, O, O, O, 6, 1000, 443 } },
	{ "icmp6", { .etype = V6, .proto = 58 },                    { 1, O, 1, O, O, O, 1, O, 58, O, O } },
	{ "icmp over ip6 (proto 1)", { .etype = V6, .proto = 1 },   { 1, O, 1, O, O, O, O, O, 1, O, O } },
	{ "arp", { .etype = ARP },                                  { 1, O, O, 1, O, O, O, O, O, O, O } },
	{ "vlan 100 udp4", { .n_vlan = 1, .vid = 100 },             { 1, 1, O, O, O, 1, O, 1, 17, 1000, 2000 } },
	{ "qinq tcp4", { .n_vlan = 2, .vid = 7, .proto = 6 },       { 1, 1, O, O, 1, O, O, 1, 6, 1000, 2000 } },
	{ "lldp", { .etype = 0x88cc },                              { 1, O, O, O, O, O, O, O, O, O, O } },
	{ "first fragment (MF)", { .proto = 6, .frag = 0x2000 },    { 1, 1, O, O, 1, O, O, O, 6, 1000, 2000 } },
	{ "later fragment v4", { .proto = 6, .frag = 0x0010 },      { 1, 1, O, O, O, O, O, O, 6, O, O } },
	{ "later fragment v6", { .etype = V6, .proto = 17, .frag = 0x0010 },
								    { 1, O, 1, O, O, O, O, O, 17, O, O } },
	/* broken */
	{ "cut ethernet (10 bytes)", { .cut = 10 },                  { M, M, M, M, M, M, M, M, M, M, M } },
	{ "cut ethernet (13 bytes)", { .cut = 13 },                  { M, M, M, M, M, M, M, M, M, M, M } },
	{ "cut vlan tag", { .n_vlan = 1, .cut = 16 },                { M, M, M, M, M, M, M, M, M, M, M } },
	{ "ipv4 ihl 4", { .ihl = 4 },                                { 1, M, O, O, M, M, M, O, M, M, M } },
	{ "ipv4 ihl 15 past the end", { .ihl = 15, .cut = 14 + 40 }, { 1, M, O, O, M, M, M, O, M, M, M } },
	{ "cut ipv4 header", { .cut = 14 + 10 },                     { 1, M, O, O, M, M, M, O, M, M, M } },
	{ "cut ipv6 header", { .etype = V6, .cut = 14 + 30 },        { 1, O, M, O, M, M, M, O, M, M, M } },
	{ "cut ipv6 fragment header", { .etype = V6, .frag = 0x10, .cut = 14 + 40 + 4 },
								    { 1, O, M, O, M, M, M, O, M, M, M } },
	{ "cut arp", { .etype = ARP, .cut = 14 + 20 },               { 1, O, O, M, O, O, O, O, O, O, O } },
	{ "cut tcp header", { .proto = 6, .cut = 14 + 20 + 10 },     { 1, 1, O, O, M, O, O, O, 6, M, M } },
	{ "tcp data offset 4", { .proto = 6, .tcp_doff = 4, .payload = 8 },
								    { 1, 1, O, O, M, O, O, O, 6, M, M } },
	{ "tcp options past the end", { .proto = 6, .tcp_doff = 15, .cut = 14 + 20 + 24 },
								    { 1, 1, O, O, M, O, O, O, 6, M, M } },
	{ "cut udp header", { .proto = 17, .cut = 14 + 20 + 4 },     { 1, 1, O, O, O, M, O, O, 17, M, M } },
	{ "cut icmp header", { .proto = 1, .cut = 14 + 20 + 2 },     { 1, 1, O, O, O, O, M, O, 1, O, O } },
	{ "cut tcp6 header", { .etype = V6, .proto = 6, .cut = 14 + 40 + 12 },
								    { 1, O, 1, O, M, O, O, O, 6, M, M } },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static struct harness *h;

static void
teardown(void)
{
	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
}

TestSuite(classify, .init = harness_eal, .fini = teardown, .timeout = 30);

static void
check_filter(unsigned int fi)
{
	uint64_t bad = 0, other = 0, pass = 0;

	h = harness_new(fname[fi]);
	cr_assert(h != NULL);
	for (unsigned int i = 0; i < N_CASES; i++)
		harness_push(h, harness_pkt_exact(&cases[i].s));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), N_CASES), "%s: every packet reaches collect", fname[fi]);
	for (unsigned int i = 0; i < N_CASES; i++) {
		int64_t want = cases[i].want[fi];
		uint32_t got = harness_got_cls(h, NULL, i);

		cr_expect(eq(u32, got, want > 0 ? (uint32_t)want : 0), "%s on \"%s\": class %u, want %lld",
			  fname[fi], cases[i].what, got, (long long)want);
		bad += want == M;
		other += want == O;
		pass += want > 0;
	}
	cr_expect(eq(u64, harness_counter(h, fname[fi], "malformed"), bad), "%s: malformed", fname[fi]);
	cr_expect(eq(u64, harness_counter(h, fname[fi], "other"), other), "%s: other", fname[fi]);
	cr_expect(eq(u64, harness_stats(h, fname[fi])->in, N_CASES));
	cr_expect(eq(u64, harness_stats(h, fname[fi])->out, N_CASES), "|all carries class 0 too");
	cr_expect(eq(u64, harness_cls_count(h, fname[fi], 0), bad + other), "%s: class 0 count", fname[fi]);
	(void)pass;
}

Test(classify, eth)     { check_filter(F_ETH); }
Test(classify, ip)      { check_filter(F_IP); }
Test(classify, ip6)     { check_filter(F_IP6); }
Test(classify, arp)     { check_filter(F_ARP); }
Test(classify, tcp)     { check_filter(F_TCP); }
Test(classify, udp)     { check_filter(F_UDP); }
Test(classify, icmp)    { check_filter(F_ICMP); }
Test(classify, vlan)    { check_filter(F_VLAN); }
Test(classify, ipproto) { check_filter(F_IPPROTO); }
Test(classify, sport)   { check_filter(F_SPORT); }
Test(classify, dport)   { check_filter(F_DPORT); }

Test(classify, vlan_id_picks_the_outer_tag)
{
	const struct pkt_spec s100 = { .n_vlan = 1, .vid = 100 }, s7 = { .n_vlan = 2, .vid = 7 },
			      none = { 0 };

	h = harness_new("vlan id=100");
	cr_assert(h != NULL);
	harness_push(h, harness_pkt_exact(&s100));
	harness_push(h, harness_pkt_exact(&s7));
	harness_push(h, harness_pkt_exact(&none));
	harness_run(h);
	cr_assert(eq(u32, harness_got_cls(h, NULL, 0), 1));
	cr_assert(eq(u32, harness_got_cls(h, NULL, 1), 0));
	cr_assert(eq(u32, harness_got_cls(h, NULL, 2), 0));
	cr_assert(eq(u64, harness_counter(h, "vlan", "other"), 2));
	cr_assert(eq(u64, harness_counter(h, "vlan", "malformed"), 0));
}

/* Without |all the class-0 packets are the filter's drops, freed by the runtime. */
Test(classify, class_zero_is_dropped_and_counted)
{
	const struct pkt_spec tcp = { .proto = 6 }, udp = { .proto = 17 }, cut = { .proto = 6, .cut = 40 };

	h = harness_new("feed | tcp | collect");
	cr_assert(h != NULL);
	for (int i = 0; i < 5; i++)
		harness_push(h, harness_pkt_exact(&tcp));
	for (int i = 0; i < 3; i++)
		harness_push(h, harness_pkt_exact(&udp));
	for (int i = 0; i < 2; i++)
		harness_push(h, harness_pkt_exact(&cut));
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), 5));
	cr_assert(eq(u64, harness_stats(h, "tcp")->in, 10));
	cr_assert(eq(u64, harness_stats(h, "tcp")->out, 5));
	cr_assert(eq(u64, harness_stats(h, "tcp")->dropped, 5));
	cr_assert(eq(u64, harness_counter(h, "tcp", "malformed"), 2));
	cr_assert(eq(u64, harness_counter(h, "tcp", "other"), 3));
	cr_assert(eq(u64, harness_cls_count(h, "tcp", 1), 5));
	cr_assert(eq(u64, harness_cls_count(h, "tcp", 0), 5));
	cr_assert(eq(u64, harness_edge_pkts(h, "tcp", "collect"), 5));
}

/* Every length of a TCP/IPv4 frame, 0 to whole: no read past the end (ASan), a verdict for each. */
Test(classify, every_truncation)
{
	const struct pkt_spec s = { .proto = 6, .n_vlan = 1 };
	uint32_t len = harness_pkt_len(&s);
	uint8_t full[256];
	struct rte_mbuf *m = harness_pkt(&s);

	memcpy(full, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	for (unsigned int fi = 0; fi < N_F; fi++) {
		h = harness_new(fname[fi]);
		cr_assert(h != NULL);
		for (uint32_t l = 1; l <= len; l++)
			harness_push(h, harness_mbuf_exact(full, l));
		harness_run(h);
		cr_assert(eq(uint, harness_n(h, NULL), len));
		/* cut at or before the end of the TCP header: tcp says malformed */
		if (fi == F_TCP)
			for (uint32_t l = 1; l < len; l++)
				cr_expect(eq(u32, harness_got_cls(h, NULL, l - 1), 0), "tcp, %u of %u bytes", l, len);
		cr_expect(eq(u32, harness_got_cls(h, NULL, len - 1), fi == F_DPORT ? 2000 : fi == F_SPORT ? 1000
			      : fi == F_IPPROTO ? 6 : (fi == F_IP6 || fi == F_ARP || fi == F_UDP || fi == F_ICMP) ? 0 : 1),
			  "%s on the whole frame", fname[fi]);
		harness_free(h);
		h = NULL;
	}
}

/* IPv6 extension headers before the transport header; one cut inside them. */
Test(classify, ipv6_extension_headers)
{
	uint8_t b[14 + 40 + 8 + 16 + 20] = { 0 };
	unsigned int l3 = 14, hbh = l3 + 40, dst = hbh + 8, l4 = dst + 16;

	b[12] = 0x86; b[13] = 0xdd;
	b[l3] = 0x60;
	b[l3 + 5] = 8 + 16 + 20;
	b[l3 + 6] = 0;            /* hop-by-hop */
	b[hbh] = 60;              /* then destination options, 16 bytes */
	b[dst] = 6;               /* then tcp */
	b[dst + 1] = 1;
	b[l4 + 2] = 0x01; b[l4 + 3] = 0xbb;   /* dport 443 */
	b[l4 + 12] = 5 << 4;

	h = harness_new("feed | dport |all collect");
	cr_assert(h != NULL);
	harness_push(h, harness_mbuf_exact(b, sizeof(b)));
	harness_push(h, harness_mbuf_exact(b, dst + 4));     /* cut in the destination options */
	harness_push(h, harness_mbuf_exact(b, l4 + 10));     /* cut in tcp */
	harness_run(h);
	cr_assert(eq(u32, harness_got_cls(h, NULL, 0), 443));
	cr_assert(eq(u32, harness_got_cls(h, NULL, 1), 0));
	cr_assert(eq(u32, harness_got_cls(h, NULL, 2), 0));
	cr_assert(eq(u64, harness_counter(h, "dport", "malformed"), 2));
}

/* A later IPv6 fragment's payload is not headers: one that starts like a fragment header
 * (offset 0, no more fragments) and a TCP header to port 22 was read as an unfragmented
 * segment to port 22 (dport 22, tcp). Two fragment headers in the header chain: malformed. */
Test(classify, ipv6_later_fragment_payload_is_not_headers)
{
	uint8_t b[14 + 40 + 8 + 8 + 20] = { 0 };
	unsigned int l3 = 14, fh = l3 + 40, fake = fh + 8, l4 = fake + 8;
	const char *const filters[] = { "dport", "tcp" };

	b[12] = 0x86; b[13] = 0xdd;
	b[l3] = 0x60;
	b[l3 + 5] = 8 + 8 + 20;
	b[l3 + 6] = 44;                      /* a fragment header */
	b[fh] = 44;                          /* ... saying a fragment header follows */
	b[fh + 3] = 0x08 | 1;                /* offset 1 (8 bytes), more fragments */
	b[fake] = 6;                         /* the payload: a "fragment header" then tcp */
	b[l4 + 2] = 0; b[l4 + 3] = 22;       /* "dport 22" */
	b[l4 + 12] = 5 << 4;
	for (unsigned int k = 0; k < 2; k++) {
		h = harness_new(k == 0 ? "feed | dport |all collect" : "feed | tcp |all collect");
		cr_assert(h != NULL);
		harness_push(h, harness_mbuf_exact(b, sizeof(b)));
		b[fh + 3] = 0;                   /* a first fragment whose next header is a fragment */
		harness_push(h, harness_mbuf_exact(b, sizeof(b)));
		b[fh + 3] = 0x08 | 1;
		harness_run(h);
		cr_assert(eq(u32, harness_got_cls(h, NULL, 0), 0), "%s: a later fragment", filters[k]);
		cr_assert(eq(u64, harness_counter(h, filters[k], "other"), 1), "%s", filters[k]);
		cr_assert(eq(u32, harness_got_cls(h, NULL, 1), 0), "%s: two fragment headers", filters[k]);
		cr_assert(eq(u64, harness_counter(h, filters[k], "malformed"), 1), "%s", filters[k]);
		harness_free(h);
		h = NULL;
	}
}

/* IPv4 total length shorter than its own header. */
Test(classify, ipv4_total_length_below_header)
{
	const struct pkt_spec s = { .proto = 6 };
	uint8_t b[128];
	struct rte_mbuf *m = harness_pkt(&s);
	uint32_t len = m->pkt_len;

	memcpy(b, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	b[16] = 0;
	b[17] = 19;
	h = harness_new("feed | ip |all collect");
	cr_assert(h != NULL);
	harness_push(h, harness_mbuf_exact(b, len));
	harness_run(h);
	cr_assert(eq(u32, harness_got_cls(h, NULL, 0), 0));
	cr_assert(eq(u64, harness_counter(h, "ip", "malformed"), 1));
}

/* Headers split across mbuf segments are read whole (rte_pktmbuf_read), by the classifiers and bpf. */
Test(classify, headers_across_segments)
{
	const struct pkt_spec s = { .proto = 6, .dport = 80, .payload = 20 };
	uint8_t b[256];
	struct rte_mbuf *m = harness_pkt(&s);
	uint32_t len = m->pkt_len;

	memcpy(b, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	h = harness_new("feed | dport --name=d |80 bpf \"tcp dst port 80\" | collect");
	cr_assert(h != NULL);
	for (uint32_t cut = 1; cut < len; cut += 3) {
		struct rte_mbuf *a = harness_mbuf_exact(b, cut), *t = harness_mbuf_exact(b + cut, len - cut);
		cr_assert(eq(int, rte_pktmbuf_chain(a, t), 0));
		harness_push(h, a);
	}
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, NULL), (len - 1 + 2) / 3), "every split passes dport and bpf");
	cr_assert(eq(u64, harness_counter(h, "d", "malformed"), 0));
}
