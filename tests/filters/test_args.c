/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad arguments, for every filter: the build fails with -EINVAL (or the
 * errno the filter documents) and the message names the argument and the
 * column of the filter. Unknown filters too. Nothing leaks on the way.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_pipe.h"
#include "harness.h"

struct bad {
	char text[96];
	int rc;
	char says[24];        /* the argument (or word) the message names */
};

static const struct bad bads[] = {
	{ "feed | sample every=0 | collect", -EINVAL, "every" },
	{ "feed | sample | collect", -EINVAL, "every" },
	{ "feed | sample every=x | collect", -EINVAL, "every" },
	{ "feed | sample evry=3 | collect", -EINVAL, "evry" },
	{ "feed | sample 3 | collect", -EINVAL, "positional" },
	{ "gen proto=xyz | collect", -EINVAL, "proto" },
	{ "gen size=10 | collect", -EINVAL, "size" },
	{ "gen proto=tcp size=50 | collect", -EINVAL, "size" },
	{ "gen size=65536 | collect", -EINVAL, "size" },
	{ "gen src=1.2.3 | collect", -EINVAL, "src" },
	{ "gen dst=10.0.0.9-10.0.0.1 | collect", -EINVAL, "dst" },
	{ "gen sport=70000 | collect", -EINVAL, "sport" },
	{ "gen dport=5-1 | collect", -EINVAL, "dport" },
	{ "gen dport=x | collect", -EINVAL, "dport" },
	{ "gen count=\" -1\" | collect", -EINVAL, "count" },
	{ "gen count=+5 | collect", -EINVAL, "count" },
	{ "gen rate=\" 7\" | collect", -EINVAL, "rate" },
	/* decimal only: 0x40 was 64 and 0100 was 64 (octal), 090 refused */
	{ "gen size=0x40 | collect", -EINVAL, "size" },
	{ "feed | sample every=0x3 | collect", -EINVAL, "every" },
	{ "gen dport=80abc | collect", -EINVAL, "dport" },
	{ "gen dport=80- | collect", -EINVAL, "dport" },
	{ "gen sport=5-x | collect", -EINVAL, "sport" },
	{ "gen sport=1-2-3 | collect", -EINVAL, "sport" },
	{ "gen smac=zz | collect", -EINVAL, "smac" },
	{ "gen dmac=02:00:00:00:00 | collect", -EINVAL, "dmac" },
	{ "gen rate=-1 | collect", -EINVAL, "rate" },
	{ "gen count=abc | collect", -EINVAL, "count" },
	{ "gen bogus=1 | collect", -EINVAL, "bogus" },
	{ "feed | tx", -EINVAL, "port" },
	{ "feed | tx port=nope", -ENODEV, "port" },
	{ "feed | tx port=a queue=1", -EINVAL, "queue" },
	{ "rx | collect", -EINVAL, "port" },
	{ "rx port=nope | collect", -ENODEV, "port" },
	{ "rx prot=a | collect", -EINVAL, "prot" },
	{ "feed | bpf | collect", -EINVAL, "expr" },
	{ "feed | bpf \"tcp port\" | collect", -EINVAL, "expr" },
	{ "feed | bpf \"tcp\" \"udp\" | collect", -EINVAL, "positional" },
	{ "feed | bpf exp=\"tcp\" | collect", -EINVAL, "exp" },
	{ "feed | pcap", -EINVAL, "file" },
	{ "feed | pcap file=", -EINVAL, "file" },
	{ "feed | pcap file=/tmp/x.pcap rotate_bytes=10", -EINVAL, "rotate_bytes" },
	{ "feed | pcap file=/tmp/x.pcap rotate_packets=0", -EINVAL, "rotate_packets" },
	{ "feed | pcap file=/tmp/x.pcap snaplen=10", -EINVAL, "snaplen" },
	{ "feed | pcap fil=/tmp/x.pcap", -EINVAL, "fil" },
	{ "feed | vlan id=5000 | collect", -EINVAL, "id" },
	{ "feed | vlan vid=5 | collect", -EINVAL, "vid" },
	{ "feed | ibuf_out", -EINVAL, "name" },
	{ "feed | ibuf_out name=x capacity=3", -EINVAL, "capacity" },
	{ "feed | ibuf_out name=x capacity=1", -EINVAL, "capacity" },
	{ "feed | ibuf_out name=x policy=zz", -EINVAL, "policy" },
	/* ibuf_in's reference would land on an mbuf back in the pool */
	{ "feed | ibuf_out name=x policy=frp", -EINVAL, "ibuf_out takes srp only" },
	{ "feed | ibuf_out name=x policy=mrp", -EINVAL, "policy=mrp: ibuf_out" },
	{ "feed | ibuf_out name=x", -EINVAL, "DBuf" },
	{ "feed | ibuf_out nme=x", -EINVAL, "nme" },
	{ "ibuf_in | collect", -EINVAL, "name" },
	{ "ibuf_in name=nosuch | collect", -ENOENT, "name" },
	{ "ibuf_in nam=x | collect", -EINVAL, "nam" },
	/* filters that take no arguments say so, naming what they were given */
	{ "feed | eth x=1 | collect", -EINVAL, "x" },
	{ "feed | ip ttl=1 | collect", -EINVAL, "ttl" },
	{ "feed | ip6 x=1 | collect", -EINVAL, "x" },
	{ "feed | arp x=1 | collect", -EINVAL, "x" },
	{ "feed | tcp port=80 | collect", -EINVAL, "port" },
	{ "feed | udp port=53 | collect", -EINVAL, "port" },
	{ "feed | icmp type=8 | collect", -EINVAL, "type" },
	{ "feed | ipproto 6 | collect", -EINVAL, "positional" },
	{ "feed | sport port=22 | collect", -EINVAL, "port" },
	{ "feed | dport 80 | collect", -EINVAL, "positional" },
	{ "feed | count every=2 | collect", -EINVAL, "every" },
	{ "feed | drop x=1", -EINVAL, "x" },
	{ "feed | tee n=2 | collect", -EINVAL, "n" },
	{ "feed | macswap x=1 | collect", -EINVAL, "x" },
};

static void
teardown(void)
{
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

/* Every case in one process (a process each, a parameterized test, started EAL 71 times:
 * 14 s here, 34 under the sanitizers); each message names its case, and nothing a
 * refused build allocated may outlive it. */
Test(args, rejected)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct bl_err err;
		int rc = harness_try(b->text, &err);

		cr_assert(eq(int, rc, b->rc), "\"%s\": rc %d (%s), want %d", b->text, rc, err.msg,
			  b->rc);
		cr_assert(strstr(err.msg, b->says) != NULL,
			  "\"%s\": the message does not name \"%s\": %s", b->text, b->says, err.msg);
		cr_assert(strncmp(err.msg, "col ", 4) == 0, "\"%s\": no column: %s", b->text,
			  err.msg);
		cr_assert(eq(long, bl_graph_test_live_allocs(), 0),
			  "\"%s\": allocations outlive the refused build", b->text);
		cr_assert(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "\"%s\": mbufs leaked",
			  b->text);
	}
}

TestSuite(args, .init = harness_eal, .fini = teardown, .timeout = 30);

/* A leading zero is a decimal number's (it was octal: size=0100 made 64-byte packets). */
Test(args, numbers_are_decimal_with_or_without_leading_zeros)
{
	struct harness *h = harness_new("gen size=0100 count=010 | collect");

	cr_assert(h != NULL);
	harness_passes(h, 2);
	cr_assert(eq(uint, harness_n(h, NULL), 10));
	cr_assert(eq(u32, harness_got(h, NULL, 0)->pkt_len, 100));
	harness_free(h);
}

Test(args, unknown_filter_in_the_text)
{
	struct bl_err err;

	cr_assert(eq(int, harness_try("feed | bfp \"tcp\" | collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "unknown filter \"bfp\"") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "did you mean \"bpf\"") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "col 8") != NULL, "%s", err.msg);
}

/* A description from elsewhere (JSON, a tool) may name a filter no one registered. */
Test(args, unknown_filter_in_a_description)
{
	struct bl_graph_env env = { .pool = harness_pool(), .n_replicas = 1 };
	struct bl_graph *g = NULL;
	struct bl_gdesc d;
	struct bl_err err = { 0 };

	bl_gdesc_init(&d);
	cr_assert(bl_gdesc_add_node(&d, "feed", "feed") == 0);
	cr_assert(bl_gdesc_add_node(&d, "x", "nosuchfilter") == 1);
	cr_assert(bl_gdesc_add_edge(&d, 0, 1, &(struct bl_label){ 0 }, 0) >= 0);
	cr_assert(eq(int, bl_graph_build(&d, &env, &g, &err), -EINVAL));
	cr_assert(g == NULL);
	cr_assert(strstr(err.msg, "nosuchfilter") != NULL, "%s", err.msg);
	bl_gdesc_free(&d);
}

/* Ports in the environment: tx/rx find them, and check the queues. */
Test(args, ports_from_the_environment)
{
	struct bl_graph_env env = { .pool = harness_pool(), .n_replicas = 1, .n_ports = 1 };
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	struct bl_graph *g = NULL;
	struct bl_gdesc d;
	struct bl_err err = { 0 };

	snprintf(env.ports[0].name, sizeof(env.ports[0].name), "in");
	env.ports[0].rx_queues = 2;
	env.ports[0].tx_queues = 1;
	env.ports[0].tx_queue = 1;
	bl_gdesc_init(&d);
	cr_assert(eq(int, bl_pipe_parse("rx port=in queue=2 | tx port=in", &opts, &d, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_graph_build(&d, &env, &g, &err), -EINVAL));
	cr_assert(strstr(err.msg, "queue") != NULL, "%s", err.msg);
	bl_gdesc_free(&d);
	bl_gdesc_init(&d);
	cr_assert(eq(int, bl_pipe_parse("rx port=in | tx port=inn", &opts, &d, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_graph_build(&d, &env, &g, &err), -ENODEV));
	cr_assert(strstr(err.msg, "did you mean \"in\"") != NULL, "%s", err.msg);
	bl_gdesc_free(&d);
	bl_gdesc_init(&d);
	cr_assert(eq(int, bl_pipe_parse("rx port=in | tx port=in", &opts, &d, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_graph_build(&d, &env, &g, &err), -EINVAL), "tx queue 1 of a port with 1");
	cr_assert(strstr(err.msg, "tx_queues") != NULL, "%s", err.msg);
	bl_gdesc_free(&d);
}
