/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_graph — the graph benchmarks' shared harness (bench_graph.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "bench_graph.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_pipe.h"

/* Free hugepage memory in MiB (0 when there is none or /proc says nothing). */
static unsigned long
free_huge_mb(void)
{
	unsigned long free_pages = 0, kb = 0, v;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %lu", &v) == 1)
			free_pages = v;
		else if (sscanf(line, "Hugepagesize: %lu kB", &v) == 1)
			kb = v;
	}
	fclose(f);
	return free_pages * kb / 1024u;
}

static int
eal_init(const char *prog, const char *argv0, const char *prefix, const char *mem_mb, bool huge)
{
	char pfx[64], a0[256], m[16];
	struct bl_err err = { 0 };

	snprintf(pfx, sizeof(pfx), "--file-prefix=%s%d", prefix, (int)getpid());
	snprintf(a0, sizeof(a0), "%s", argv0);
	snprintf(m, sizeof(m), "%s", mem_mb);
	char *eal[] = { a0, "-l", "0", "--no-pci", huge ? "--in-memory" : "--no-huge", "--no-shconf",
			"--no-telemetry", "-m", m, "--log-level=*:warning", pfx };
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "%s: EAL: %s\n", prog, rte_strerror(rte_errno));
		return -1;
	}
	if (bl_graph_global_init(&err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return -1;
	}
	return 0;
}

int
bench_eal_init(const char *prog, const char *argv0, const char *prefix, const char *mem_mb)
{
	return eal_init(prog, argv0, prefix, mem_mb, false);
}

int
bench_eal_init_huge(const char *prog, const char *argv0, const char *prefix, const char *mem_mb,
		    bool *huge)
{
	*huge = free_huge_mb() >= strtoul(mem_mb, NULL, 10) + 64u;
	return eal_init(prog, argv0, prefix, mem_mb, *huge);
}

void
bench_eal_cleanup(void)
{
	char rundir[256];

	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
}

struct bl_graph *
bench_build(const char *prog, const char *text, struct rte_mempool *mp, int commit)
{
	struct bl_graph_env env = { .pool = mp, .lcore = rte_lcore_id(), .n_replicas = 1,
				    .burst = BENCH_BURST };
	struct bl_gdesc d;
	struct bl_graph *g = NULL;
	struct bl_err err = { 0 };

	bl_gdesc_init(&d);
	if (bl_pipe_parse(text, NULL, &d, &err) != 0 || bl_graph_build(&d, &env, &g, &err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, text, err.msg);
		g = NULL;
	}
	bl_gdesc_free(&d);
	if (g != NULL && commit)
		bl_graph_commit(g);
	return g;
}

uint64_t
bench_tsc(void)
{
	return rte_rdtsc();
}

double
bench_run_graph(struct bl_graph *g, uint64_t budget, uint64_t (*clock)(void),
		const struct bl_filter *counted)
{
	uint64_t p0 = counted != NULL ? bl_counter_read(&counted->st.in) : 0;
	uint64_t t0 = clock(), t, pkts = 0;

	do {
		for (int i = 0; i < 64; i++)
			pkts += bl_graph_run(g);
		t = clock();
	} while (t - t0 < budget);
	if (counted != NULL)
		pkts = bl_counter_read(&counted->st.in) - p0;
	return pkts ? (double)(t - t0) / (double)pkts : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
