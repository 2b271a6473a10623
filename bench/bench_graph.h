/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_graph — the harness the graph benchmarks share (bpf_cost, flow_cost): EAL on
 * lcore 0 without PCI, hugepages or shared config; a graph built from pipe text; a
 * graph run for a budget of cycles; the median of rounds.
 */
#ifndef BENCH_GRAPH_H
#define BENCH_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

struct bl_filter;
struct bl_graph;
struct rte_mempool;

/* EAL (--file-prefix=PREFIX<pid>, -m MEM_MB, lcore 0) and the graph runtime. Errors
 * are printed as "PROG: ..."; -1 then. */
int bench_eal_init(const char *prog, const char *argv0, const char *prefix, const char *mem_mb);
/* The same on hugepages (--in-memory) when at least mem_mb of them are free,
 * else as bench_eal_init; *huge says which. DPDK's memory (mempools, rte_hash)
 * is then on 2 MiB pages, as in an appliance that has them. */
int bench_eal_init_huge(const char *prog, const char *argv0, const char *prefix, const char *mem_mb,
			bool *huge);

/* EAL cleaned up, and the runtime folder it leaves behind (empty here) removed. */
void bench_eal_cleanup(void);

/* The graph of pipe TEXT on pool MP, lcore this one, bursts of BENCH_BURST; committed
 * when COMMIT. NULL (printed as "PROG: TEXT: why") when it does not parse or build. */
struct bl_graph *bench_build(const char *prog, const char *text, struct rte_mempool *mp,
			     int commit);

#define BENCH_BURST 32u

/* The TSC now (a clock for bench_run_graph). */
uint64_t bench_tsc(void);

/* Cycles per packet of graph G run for BUDGET cycles of CLOCK, in passes of 64 runs.
 * The packets: what COUNTED took in, or with COUNTED NULL what the runs returned
 * (0 when none). */
double bench_run_graph(struct bl_graph *g, uint64_t budget, uint64_t (*clock)(void),
		       const struct bl_filter *counted);

/* The median of V[0..N-1] (sorts V). */
double bench_median(double *v, unsigned int n);

#endif
