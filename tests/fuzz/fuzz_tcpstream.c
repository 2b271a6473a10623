/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_tcpstream — the tcpstream filter's reassembly (filters/tcpstream*.c) on a
 * sequence of TCP segments between a few endpoints. The graph
 * `fzfeed | tcpstream export=fzts max_streams=4 max_segs=8 max_bytes=4096 idle_s=1 capacity=1024 | fzcollect`
 * is built once over a packet DBuf; packets are direct mbufs of its pool.
 *
 * Input: records of 14 bytes, then payload:
 *   u8 ctl: bit0 direction, bits1-2 connection (of 4), bit3 IPv6, bit4 raw
 *           (the rest of the input's next plen bytes are the whole frame), bit5 end the
 *           burst here, bit6 no capture time
 *   u8 tcp flags | u32 seq | u32 ack | u16 plen | u16 time step (ms)
 * Oracles: no crash, no sanitizer report, no mbuf lost (every packet comes out).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "bl_dbuf.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_mbuf_meta.h"
#include "bl_pipe.h"
#include "fuzz.h"
#include "fuzz_eal.h"
#include "fuzz_feed.h"

struct fzcollect {
	unsigned int n;
};

static void
fzcollect_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct fzcollect *c = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	c->n += n;
}

BL_FILTER_REGISTER(fzcollect) = {
	.summary = "fuzz only: count and free",
	.synopsis = "fzcollect",
	.args_doc = "none",
	.edges_doc = "none: a sink",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: a count",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct fzcollect),
	.init = fuzz_no_args,
	.process = fzcollect_process,
};

static struct bl_graph *graph;
static struct fzfeed *feed;
static struct fzcollect *coll;
static struct bl_dbuf *pkt;
static uint64_t now_ns = 1700000000000000000ull;
static char run_dir[64];   /* BELTLINE_RUN_DIR: this process's own, gone at exit */

/* At exit: the graph and its filters' state (tcpstream's tables are malloc'ed, pointed
 * to only from DPDK memory, which LeakSanitizer does not scan: reported as leaks). */
static void
fini(void)
{
	bl_graph_free(graph);
	graph = NULL;
	bl_dbuf_free(pkt);
	pkt = NULL;
	(void)rmdir(run_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	const struct bl_dbuf_pkt_opts po = {
		.sz = sizeof(po), .name = "fuzz_ts_pkts", .n_mbufs = 8191, .cache_size = 0,
		.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_graph_env env;
	struct bl_gdesc d;
	struct bl_err err = { 0 };

	(void)argc;
	(void)argv;
	snprintf(run_dir, sizeof(run_dir), "/tmp/bl-fuzz-ts-XXXXXX");
	if (mkdtemp(run_dir) == NULL)
		FUZZ_FAIL("mkdtemp");
	setenv("BELTLINE_RUN_DIR", run_dir, 1);
	fuzz_eal();
	if (bl_graph_global_init(&err) != 0 || bl_dbuf_pkt_create(&po, &pkt, &err) != 0)
		FUZZ_FAIL("setup: %s", err.msg);
	memset(&env, 0, sizeof(env));
	env.pool = pkt->mp;
	env.dbuf = pkt;
	env.n_replicas = 1;
	env.burst = 32;
	bl_gdesc_init(&d);
	if (bl_pipe_parse("fzfeed | tcpstream export=fzts max_streams=4 max_segs=8 "
			  "max_bytes=4096 idle_s=1 capacity=1024 | fzcollect", &opts, &d, &err) != 0 ||
	    bl_graph_build(&d, &env, &graph, &err) != 0)
		FUZZ_FAIL("graph: %s", err.msg);
	bl_gdesc_free(&d);
	feed = fzfeed_of(graph);
	coll = bl_filter_priv(bl_graph_filter_by_name(graph, "fzcollect"));
	atexit(fini);
	return 0;
}

static void
put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void
put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static unsigned int
run_burst(void)
{
	unsigned int want = feed->n;

	coll->n = 0;
	for (unsigned int pass = 0; pass < 16 && coll->n < want; pass++)
		bl_graph_run(graph);
	FUZZ_CHECK(coll->n == want, "%u of %u packets came out", coll->n, want);
	fzfeed_reset(feed);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size >= 14) {
		uint8_t ctl = data[0], fl = data[1];
		uint32_t seq = ((uint32_t)data[2] << 24) | ((uint32_t)data[3] << 16) | ((uint32_t)data[4] << 8) | data[5];
		uint32_t ack = ((uint32_t)data[6] << 24) | ((uint32_t)data[7] << 16) | ((uint32_t)data[8] << 8) | data[9];
		uint16_t plen = (uint16_t)((data[10] << 8) | data[11]) % 1500;
		uint16_t step = (uint16_t)((data[12] << 8) | data[13]);
		struct rte_mbuf *m;
		uint8_t *p;

		data += 14;
		size -= 14;
		if (plen > size)
			plen = (uint16_t)size;
		m = rte_pktmbuf_alloc(pkt->mp);
		FUZZ_CHECK(m != NULL, "out of mbufs (a leak?)");
		if (ctl & 0x10) {           /* raw frame */
			p = (uint8_t *)rte_pktmbuf_append(m, plen);
			FUZZ_CHECK(p != NULL || plen == 0, "append");
			if (plen)
				memcpy(p, data, plen);
		} else {
			unsigned int c = (ctl >> 1) & 3, dir = ctl & 1, v6 = (ctl >> 3) & 1;
			uint16_t hl = 14 + (v6 ? 40 : 20) + 20;
			uint8_t a[16] = { 0 }, b[16] = { 0 };
			uint8_t *ip, *t;

			p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hl + plen));
			FUZZ_CHECK(p != NULL, "append");
			memset(p, 0, hl);
			memset(p, 0x02, 12);
			a[15] = 1; b[15] = 2; a[0] = b[0] = 10; a[14] = b[14] = (uint8_t)c;
			if (dir) { uint8_t x[16]; memcpy(x, a, 16); memcpy(a, b, 16); memcpy(b, x, 16); }
			ip = p + 14;
			if (v6) {
				put16(p + 12, 0x86dd);
				ip[0] = 0x60;
				put16(ip + 4, (uint16_t)(20 + plen));
				ip[6] = 6; ip[7] = 64;
				memcpy(ip + 8, a, 16); memcpy(ip + 24, b, 16);
				t = ip + 40;
			} else {
				put16(p + 12, 0x0800);
				ip[0] = 0x45;
				put16(ip + 2, (uint16_t)(40 + plen));
				ip[8] = 64; ip[9] = 6;
				ip[12] = a[0]; ip[13] = a[13]; ip[14] = a[14]; ip[15] = a[15];
				ip[16] = b[0]; ip[17] = b[13]; ip[18] = b[14]; ip[19] = b[15];
				t = ip + 20;
			}
			put16(t, dir ? 80 : (uint16_t)(1000 + c));
			put16(t + 2, dir ? (uint16_t)(1000 + c) : 80);
			put32(t + 4, seq);
			put32(t + 8, ack);
			t[12] = 0x50;
			t[13] = fl;
			put16(t + 14, 65535);
			if (plen)
				memcpy(t + 20, data, plen);
		}
		data += plen;
		size -= plen;
		now_ns += (uint64_t)step * 1000000u;
		if (!(ctl & 0x40) && bl_mbuf_meta_flag != 0) {
			m->ol_flags |= bl_mbuf_meta_flag;
			bl_mbuf_meta(m)->ts_ns = now_ns;
		}
		fzfeed_push(feed, m);
		if (fzfeed_full(feed) || (ctl & 0x20))
			run_burst();
	}
	run_burst();
	return 0;
}
