/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_cost — what the flow meter costs per packet with many concurrent flows,
 * next to a bare rte_hash_lookup_bulk and a counter update over the same keys.
 *
 *   flow_cost [-f FLOWS] [-t MS] [-r ROUNDS]
 *
 * FLOWS (default 1048576, a power of two >= 64) concurrent UDP flows of 64-byte
 * packets: gen over FLOWS/64 source addresses x 64 source ports, visited in turn
 * (gen's order), so every flow comes back once per FLOWS packets and the table's
 * lines are cold each time, as with that many flows on a link.
 *   ours: graph `gen ... | flow max_flows=FLOWS | drop` run by bl_graph_run on
 *         this lcore, minus `gen ... | drop` (the same run): flow's own cycles per
 *         packet; and the whole graph's packets per second.
 *   ref:  rte_hash (2 x FLOWS entries, the slack the flow table has; 40-byte keys: the flow table's key of the same
 *         packets, in the same order; CRC hash), every key added first; then
 *         rte_hash_lookup_bulk on bursts of 32 keys and a packets/bytes counter
 *         update per key at the position it returns.
 * Both warm up over two passes of every flow first. ROUNDS alternate the three,
 * each MS of this thread's CPU time (not the TSC's: a shared machine deschedules
 * us), counted in TSC cycles; medians are printed as `key value` lines.
 * Memory: both tables on 2 MiB pages when the machine has them, as in an
 * appliance: rte_hash in EAL's hugepages (--in-memory when 1088 MiB are free,
 * else --no-huge and 4 KiB pages), the flow table on transparent huge pages
 * (bl_flow_create asks for them; with THP off it stays on 4 KiB pages). The
 * run prints which (`ref_pages`). EAL: --no-pci --no-shconf -m 1024, lcore 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bl_filter_worker.h"
#include "bl_flow.h"
#include "bl_graph.h"
#include "bl_pipe.h"

#include "bench_graph.h"

#define BURST BENCH_BURST

/* CPU time of this thread in TSC cycles: what the work cost, whatever else the
 * machine ran meanwhile (a shared machine deschedules us; the TSC would count that). */
static uint64_t
cpu_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)((double)ts.tv_sec * (double)rte_get_tsc_hz() +
			  (double)ts.tv_nsec * (double)rte_get_tsc_hz() / 1e9);
}
#define MAX_ROUNDS 64

struct ctr {
	uint64_t packets, bytes;
};

static double
run_ref(struct rte_hash *h, const struct bl_flow_key *keys, uint32_t n_keys, struct ctr *ctr,
	uint64_t budget, uint64_t *lookups_failed)
{
	const void *kp[BURST];
	int32_t pos[BURST];
	uint64_t t0 = cpu_cycles(), t, pkts = 0;
	static uint32_t at;

	do {
		for (int r = 0; r < 64; r++) {
			for (unsigned int i = 0; i < BURST; i++)
				kp[i] = &keys[(at + i) & (n_keys - 1)];
			at = (at + BURST) & (n_keys - 1);
			rte_hash_lookup_bulk(h, kp, BURST, pos);
			for (unsigned int i = 0; i < BURST; i++) {
				if (unlikely(pos[i] < 0)) {
					(*lookups_failed)++;
					continue;
				}
				ctr[pos[i]].packets++;
				ctr[pos[i]].bytes += 50;
			}
			pkts += BURST;
		}
		t = cpu_cycles();
	} while (t - t0 < budget);
	return (double)(t - t0) / (double)pkts;
}

int
main(int argc, char **argv)
{
	unsigned int rounds = 5, ms = 300;
	uint32_t flows = 1u << 20;
	char gen[256], with[512], without[300];
	double ours[MAX_ROUNDS], base[MAX_ROUNDS], ref[MAX_ROUNDS];
	uint64_t budget, failed = 0;
	int opt;

	while ((opt = getopt(argc, argv, "f:t:r:h")) != -1) {
		switch (opt) {
		case 'f': flows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned int)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: flow_cost [-f FLOWS] [-t MS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (flows < 64 || (flows & (flows - 1)) != 0 || flows > (1u << 24) || rounds == 0 ||
	    rounds > MAX_ROUNDS || ms == 0) {
		fprintf(stderr, "flow_cost: FLOWS a power of two 64..2^24, ROUNDS 1..%d, MS >= 1\n",
			MAX_ROUNDS);
		return 2;
	}
	bool huge;

	if (bench_eal_init_huge("flow_cost", argv[0], "flowcost", "1024", &huge) != 0)
		return 1;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("flowcost", 8191, 256, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL) {
		fprintf(stderr, "flow_cost: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* FLOWS/64 sources from 10.0.0.0, 64 source ports: gen's order is source port
	 * fastest (one destination, one destination port), then source. */
	uint32_t n_src = flows / 64;
	snprintf(gen, sizeof(gen), "gen proto=udp size=64 fill=headers src=10.0.0.0-%u.%u.%u.%u "
		 "dst=192.168.0.1 sport=1000-1063 dport=53", 10 + ((n_src - 1) >> 24),
		 ((n_src - 1) >> 16) & 255, ((n_src - 1) >> 8) & 255, (n_src - 1) & 255);
	snprintf(with, sizeof(with), "%s | flow max_flows=%u idle_s=86400 active_s=604800 | drop",
		 gen, flows);
	snprintf(without, sizeof(without), "%s | drop", gen);
	struct bl_graph *g1 = bench_build("flow_cost", with, mp, 1);
	struct bl_graph *g0 = bench_build("flow_cost", without, mp, 1);
	if (g1 == NULL || g0 == NULL)
		return 1;

	/* The reference's keys: the flow table's key of each packet, in gen's order. */
	struct bl_flow_key *keys = calloc(flows, sizeof(*keys));
	struct ctr *ctr = calloc(flows, sizeof(*ctr));
	struct rte_hash_parameters hp = {
		.name = "flowcost_ref", .entries = 2 * flows, .key_len = sizeof(struct bl_flow_key),
		.hash_func = rte_hash_crc, .hash_func_init_val = 0, .socket_id = 0,
	};
	struct rte_hash *h = rte_hash_create(&hp);
	if (keys == NULL || ctr == NULL || h == NULL) {
		fprintf(stderr, "flow_cost: reference: %s\n", h == NULL ? rte_strerror(rte_errno) : "no memory");
		return 1;
	}
	uint32_t dst = htonl(0xc0a80001u);
	for (uint32_t i = 0; i < flows; i++) {
		uint32_t src = htonl(0x0a000000u + i / 64);
		memcpy(keys[i].src, &src, 4);
		memcpy(keys[i].dst, &dst, 4);
		keys[i].sport = (uint16_t)(1000 + i % 64);
		keys[i].dport = 53;
		keys[i].proto = 17;
		keys[i].ipver = 4;
		if (rte_hash_add_key(h, &keys[i]) < 0) {
			fprintf(stderr, "flow_cost: reference: key %u not added\n", i);
			return 1;
		}
	}
	budget = rte_get_tsc_hz() / 1000 * ms;
	/* Warm-up: every flow twice through both. */
	struct bl_filter *fl = bl_graph_filter_by_name(g1, "flow");
	while (bl_counter_read(&fl->st.in) < 2ull * flows)
		bl_graph_run(g1);
	run_ref(h, keys, flows, ctr, rte_get_tsc_hz() / 1000 * 10, &failed);
	struct bl_filter *drop0 = bl_graph_filter_by_name(g0, "drop");
	struct bl_filter *drop1 = bl_graph_filter_by_name(g1, "drop");
	for (unsigned int r = 0; r < rounds; r++) {
		base[r] = bench_run_graph(g0, budget, cpu_cycles, drop0);
		ours[r] = bench_run_graph(g1, budget, cpu_cycles, drop1);
		ref[r] = run_ref(h, keys, flows, ctr, budget, &failed);
	}
	double b = bench_median(base, rounds), o = bench_median(ours, rounds);
	double f = bench_median(ref, rounds);
	const char *names[32];
	uint64_t vals[32];
	unsigned int nc = bl_filter_counters(fl, names, vals, NULL, 32);
	uint64_t active = 0, evicted = 0;
	for (unsigned int i = 0; i < nc; i++) {
		if (strcmp(names[i], "active") == 0)
			active = vals[i];
		if (strcmp(names[i], "evicted") == 0)
			evicted = vals[i];
	}
	printf("flows %u\n", flows);
	printf("tsc_hz %lu\n", (unsigned long)rte_get_tsc_hz());
	printf("rounds %u\n", rounds);
	printf("ms %u\n", ms);
	printf("table_flows %lu\n", (unsigned long)active);
	printf("table_evicted %lu\n", (unsigned long)evicted);
	printf("table_mib %.1f\n", (double)bl_flow_mem(flows) / 1048576.0);
	printf("gen_drop_cycles %.1f\n", b);
	printf("graph_cycles %.1f\n", o);
	printf("graph_mpps %.2f\n", (double)rte_get_tsc_hz() / o / 1e6);
	printf("flow_cycles %.1f\n", o - b);
	printf("flow_mpps %.2f\n", (double)rte_get_tsc_hz() / (o - b) / 1e6);
	printf("ref_cycles %.1f\n", f);
	printf("ref_mpps %.2f\n", (double)rte_get_tsc_hz() / f / 1e6);
	printf("ratio %.2f\n", (o - b) / f);
	printf("ref_failed %lu\n", (unsigned long)failed);
	printf("ref_pages %s\n", huge ? "2M" : "4K");
	bl_graph_free(g1);
	bl_graph_free(g0);
	rte_hash_free(h);
	free(keys);
	free(ctr);
	rte_mempool_free(mp);
	bench_eal_cleanup();
	return 0;
}
