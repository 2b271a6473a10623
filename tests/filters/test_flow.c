/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow (issue 13, points 1-2): packets pass unchanged; records reach a UDP
 * collector as IPFIX when the graph stops (flowEndReason forcedEnd), with the
 * right counts and TCP flags; malformed and non-IP packets are counted and
 * passed on, never metered; bad arguments are refused by name.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bl_mbuf_meta.h"
#include "bl_time.h"
#include "harness.h"

static int sock = -1;
static uint16_t port;

static void
setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct timeval tv = { .tv_sec = 30 };   /* a loaded machine: 3x what it takes */

	harness_eal();
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(sock >= 0);
	cr_assert(eq(int, bind(sock, (struct sockaddr *)&a, sizeof(a)), 0));
	cr_assert(eq(int, getsockname(sock, (struct sockaddr *)&a, &al), 0));
	port = ntohs(a.sin_port);
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
teardown(void)
{
	close(sock);
}

TestSuite(filter_flow, .init = setup, .fini = teardown, .timeout = 120);

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint64_t g64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct rec {
	uint8_t src[4], dst[4];
	uint16_t sport, dport, flags;
	uint8_t proto, reason;
	uint64_t bytes, packets;
};

/* Read IPFIX messages until `want` IPv4 data records came; returns how many. */
static unsigned int
collect(struct rec *out, unsigned int want, unsigned int *n_templates)
{
	uint8_t b[2048];
	unsigned int n = 0;

	*n_templates = 0;
	while (n < want) {
		ssize_t len = recv(sock, b, sizeof(b), 0);
		cr_assert(len >= 16, "no IPFIX message within 30 s (%zd)", len);
		cr_assert(eq(u16, g16(b), 10));
		cr_assert(eq(u16, g16(b + 2), (uint16_t)len));
		for (ssize_t off = 16; off + 4 <= len;) {
			uint16_t id = g16(b + off), sl = g16(b + off + 2);
			cr_assert(sl >= 4 && off + sl <= len);
			if (id == 2)
				(*n_templates)++;
			for (ssize_t r = off + 4; id == 256 && r + 49 <= off + sl; r += 49, n++) {
				const uint8_t *d = b + r;
				memcpy(out[n].src, d, 4);
				memcpy(out[n].dst, d + 4, 4);
				out[n].sport = g16(d + 8);
				out[n].dport = g16(d + 10);
				out[n].proto = d[12];
				out[n].flags = d[13];
				out[n].bytes = g64(d + 16);
				out[n].packets = g64(d + 24);
				out[n].reason = d[48];
			}
			off += sl;
		}
	}
	return n;
}

Test(filter_flow, meters_passes_unchanged_and_exports_ipfix_at_stop)
{
	char text[160];
	struct harness *h;
	struct pkt_spec udp = { .payload = 10 }, tcp = { .proto = 6, .sport = 5, .dport = 80 };
	struct rec r[4];
	unsigned int nt;

	snprintf(text, sizeof(text), "flow collector=udp://127.0.0.1:%u idle_s=60", port);
	h = harness_new(text);
	cr_assert(h != NULL);
	for (int i = 0; i < 3; i++)
		harness_push(h, harness_pkt(&udp));
	for (int i = 0; i < 2; i++) {
		struct rte_mbuf *m = harness_pkt(&tcp);
		rte_pktmbuf_mtod(m, uint8_t *)[14 + 20 + 13] = i == 0 ? 0x02 : 0x11;
		harness_push(h, m);
	}
	harness_run(h);
	cr_assert(eq(u32, harness_count(h, "out"), 5));
	cr_assert(eq(u8, rte_pktmbuf_mtod(harness_got(h, NULL, 4), uint8_t *)[47], 0x11),
		  "the packet is passed on as it came");
	cr_assert(eq(u64, harness_counter(h, "flow", "packets"), 5));
	cr_assert(eq(u64, harness_counter(h, "flow", "flows"), 2));
	cr_assert(eq(u64, harness_counter(h, "flow", "active"), 2));
	harness_free(h);   /* stop: every flow ends (forcedEnd) and is sent */

	cr_assert(eq(u32, collect(r, 2, &nt), 2));
	cr_assert(ge(u32, nt, 1), "the template set came first");
	struct rec *u = r[0].proto == 17 ? &r[0] : &r[1], *t = r[0].proto == 17 ? &r[1] : &r[0];
	cr_assert(eq(u8, u->src[0], 10));
	cr_assert(eq(u8, u->src[3], 1));
	cr_assert(eq(u8, u->dst[3], 2));
	cr_assert(eq(u16, u->sport, 1000));
	cr_assert(eq(u16, u->dport, 2000));
	cr_assert(eq(u64, u->packets, 3));
	cr_assert(eq(u64, u->bytes, 3 * (20 + 8 + 10)));
	cr_assert(eq(u8, u->reason, 4));
	cr_assert(eq(u8, t->proto, 6));
	cr_assert(eq(u16, t->sport, 5));
	cr_assert(eq(u64, t->packets, 2));
	cr_assert(eq(u64, t->bytes, 2 * 40));
	cr_assert(eq(u16, t->flags, 0x13));
}

Test(filter_flow, malformed_and_non_ip_are_counted_and_passed_never_metered)
{
	struct harness *h = harness_new("flow");
	struct pkt_spec cut_ip = { .cut = 14 + 10 }, cut_tcp = { .proto = 6, .cut = 14 + 20 + 10 },
			arp = { .etype = 0x0806 }, cut_eth = { .cut = 10 }, v6 = { .etype = 0x86dd },
			frag = { .frag = 100 };

	cr_assert(h != NULL);
	/* exact buffers: ASan sees any read past their end */
	harness_push(h, harness_pkt_exact(&cut_ip));
	harness_push(h, harness_pkt_exact(&cut_tcp));
	harness_push(h, harness_pkt_exact(&cut_eth));
	harness_push(h, harness_pkt_exact(&arp));
	harness_push(h, harness_pkt_exact(&v6));
	harness_push(h, harness_pkt_exact(&frag));
	harness_run(h);
	cr_assert(eq(u32, harness_count(h, "out"), 6));
	cr_assert(eq(u64, harness_counter(h, "flow", "malformed"), 3));
	cr_assert(eq(u64, harness_counter(h, "flow", "not_ip"), 1));
	cr_assert(eq(u64, harness_counter(h, "flow", "packets"), 2));
	cr_assert(eq(u64, harness_counter(h, "flow", "fragments"), 1));
	cr_assert(eq(u64, harness_counter(h, "flow", "flows"), 2));
	harness_free(h);
}

/* An IPv4 header whose total length ends before the TCP or UDP header: those bytes are
 * the frame's trailer (padding), not a header of the datagram. tshark decodes no TCP
 * there; flow metered a TCP flow with the trailer's ports and flags (found by a review).
 * The fast path and the general walk both. */
Test(filter_flow, a_header_in_the_ethernet_trailer_is_malformed)
{
	struct harness *h = harness_new("flow");
	struct pkt_spec tcp = { .proto = 6 }, udp = { .proto = 17 }, tcp_vlan = { .proto = 6, .n_vlan = 1 };
	struct pkt_spec *specs[] = { &tcp, &udp, &tcp_vlan };

	cr_assert(h != NULL);
	for (unsigned int i = 0; i < 3; i++) {
		struct rte_mbuf *m = harness_pkt(specs[i]);
		uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *) + 14 + 4u * specs[i]->n_vlan;
		ip[2] = 0;
		ip[3] = 20;     /* the datagram is its header alone */
		harness_push(h, m);
	}
	/* IPv6 with payload length 0 and no hop-by-hop header: no jumbogram, an empty
	 * datagram (it was taken as one, and the trailer's bytes as an ICMPv6 header) */
	{
		struct pkt_spec v6 = { .etype = 0x86dd, .proto = 58 };
		struct rte_mbuf *m = harness_pkt(&v6);
		uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *) + 14;
		ip[4] = 0;
		ip[5] = 0;
		harness_push(h, m);
	}
	harness_run(h);
	cr_assert(eq(u32, harness_count(h, "out"), 4));
	cr_assert(eq(u64, harness_counter(h, "flow", "malformed"), 4));
	cr_assert(eq(u64, harness_counter(h, "flow", "packets"), 0));
	cr_assert(eq(u64, harness_counter(h, "flow", "flows"), 0));
	harness_free(h);
}

/* A flow ends idle_s after its last packet although no packet comes after it (the
 * sweep ran only with a burst: once the traffic stopped, the last flows stayed in the
 * table until the appliance stopped). The graph keeps running passes with nothing in. */
Test(filter_flow, idle_flows_end_when_the_traffic_stops)
{
	struct harness *h = harness_new("flow idle_s=1 active_s=60");
	struct pkt_spec a = { .sport = 7 }, b = { .sport = 8 };
	uint64_t t0 = bl_mono_ms();

	cr_assert(h != NULL);
	harness_push(h, harness_pkt(&a));
	harness_push(h, harness_pkt(&b));
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "flow", "active"), 2));
	/* idle_s=1, then a sweep of the whole table every quarter of it: 1.25 s when quiet;
	 * 10 s for a loaded machine */
	while (harness_counter(h, "flow", "ended_idle") < 2 && bl_mono_ms() - t0 < 10000) {
		harness_passes(h, 100);
		usleep(1000);
	}
	cr_assert(eq(u64, harness_counter(h, "flow", "ended_idle"), 2),
		  "both flows ended idle with no packet after them");
	cr_assert(eq(u64, harness_counter(h, "flow", "active"), 0));
	cr_assert(ge(u64, bl_mono_ms() - t0, 1000), "not before idle_s");
	harness_free(h);
}

/* A replayed capture's packets carry their record times; a packet without one in the same
 * meter (replay_unmatched, or another source joined in) counts at the replay's latest time.
 * It counted at the clock's, years after the capture's: every flow ended (idle) at once and
 * the next packet of each began a new record. */
Test(filter_flow, a_packet_without_a_record_in_a_replay_keeps_the_replays_clock)
{
	struct pkt_spec a = { .payload = 10 }, b = { .payload = 10, .sport = 7 };
	struct harness *h = harness_new("flow idle_s=60");
	uint64_t t0 = 1545562209000000000ull;   /* 2018, as a capture's records */

	cr_assert(h != NULL);
	cr_assert(bl_mbuf_meta_register() == 0);
	for (int i = 0; i < 3; i++) {
		struct rte_mbuf *m = harness_pkt(i == 1 ? &b : &a);
		if (i != 1)
			bl_mbuf_meta_set(m, t0 + (uint64_t)i * 1000000u, m->pkt_len);
		harness_push(h, m);
	}
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "flow", "packets"), 3));
	cr_assert(eq(u64, harness_counter(h, "flow", "flows"), 2), "a's two packets, one record");
	cr_assert(eq(u64, harness_counter(h, "flow", "ended_idle"), 0));
	cr_assert(eq(u64, harness_counter(h, "flow", "active"), 2));
	harness_free(h);
}

Test(filter_flow, full_table_exports_early_and_counts)
{
	struct harness *h = harness_new("flow max_flows=8");

	cr_assert(h != NULL);
	for (uint16_t i = 0; i < 20; i++) {
		struct pkt_spec s = { .sport = (uint16_t)(100 + i) };
		harness_push(h, harness_pkt(&s));
	}
	harness_run(h);
	cr_assert(eq(u64, harness_counter(h, "flow", "flows"), 20));
	cr_assert(eq(u64, harness_counter(h, "flow", "evicted"), 12));
	cr_assert(eq(u64, harness_counter(h, "flow", "active"), 8));
	harness_free(h);
}

Test(filter_flow, rejects_bad_arguments_by_name)
{
	static const struct { const char *text, *word; } bad[] = {
		{ "feed | flow idle_s=0 |all collect", "idle_s" },
		{ "feed | flow max_flows=0 |all collect", "max_flows" },
		{ "feed | flow active_s=x |all collect", "active_s" },
		{ "feed | flow collector=tcp://127.0.0.1:9 |all collect", "collector" },
		{ "feed | flow collector=udp://127.0.0.1 |all collect", "collector" },
		{ "feed | flow collector=udp://127.0.0.1:99999 |all collect", "collector" },
		{ "feed | flow collector=udp://no.such.host.invalid:9 |all collect", "collector" },
		{ "feed | flow export=bad/name |all collect", "export" },
		{ "feed | flow idle=3 |all collect", "idle" },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bl_err err = { 0 };
		cr_assert(lt(int, harness_try(bad[i].text, &err), 0), "%s", bad[i].text);
		cr_assert(strstr(err.msg, bad[i].word) != NULL, "%s: %s", bad[i].text, err.msg);
	}
}
