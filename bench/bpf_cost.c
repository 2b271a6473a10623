/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_cost — what the bpf filter costs per packet, next to libpcap's
 * pcap_offline_filter on the same packets, and what an empty filter hop
 * costs inside one lcore.
 *
 *   bpf_cost [-t MS] [-r ROUNDS] [-H HOPS] [-p] -e EXPR [-e EXPR ...] CAPTURE...
 *
 * The packets of the captures (frames that fit one mbuf) are copied into
 * mbufs once: mbufs of the appliance's own packet pool (a packet DBuf,
 * bl_dbuf_pkt_create, made as beltlined makes it on ordinary memory), or with
 * -p of rte_pktmbuf_pool_create's pool on the same 4 KiB pages, which puts
 * one mbuf in each page: every mbuf header and every packet start then lie
 * at the same page offset and compete for a 64th of the cache's sets (the
 * figures of the first versions of this benchmark were taken that way).
 * libpcap reads the same packet bytes in the same mbufs either way.
 * For each expression:
 *   ours:    the bpf filter built by bl_graph_build (graph `gen | bpf "EXPR"
 *            | drop`), its own process function called on bursts of 32 of
 *            those mbufs, as the runtime calls it (JIT path; the emitted
 *            packets are taken back after each burst);
 *   libpcap: pcap_compile (optimised, Ethernet) and pcap_offline_filter on
 *            the same packets, one call per packet.
 * Both verdicts are compared packet by packet first (a disagreement is
 * printed: the figures would not be comparable). Each measurement runs for
 * MS milliseconds of TSC time; ROUNDS alternate ours and libpcap, and the
 * medians are printed.
 *
 * The empty hop: graphs `gen | drop` and `gen | count x HOPS | drop` run by
 * bl_graph_run on this lcore; (cycles per packet with the hops - without) /
 * HOPS. count is the thinnest pass-through filter there is (it passes each
 * packet on with its class and adds its length to a counter).
 *
 * Output: one `key value...` line per figure, for the script to format.
 * EAL: --no-pci --no-huge --no-shconf -m 256, lcore 0 only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bl_dbuf.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_pipe.h"

#include "bench_graph.h"

#define MAX_EXPRS 32
#define MAX_PKTS  8192
#define BURST     BENCH_BURST
#define MAX_ROUNDS 64

struct pkt_set {
	unsigned int n;
	struct rte_mbuf *m[MAX_PKTS];
	struct pcap_pkthdr h[MAX_PKTS];
	const uint8_t *data[MAX_PKTS];
	unsigned long skipped;   /* frames longer than one mbuf */
};

static struct pkt_set set;
static volatile uint64_t sink;   /* keeps the libpcap verdicts alive */

static int
load_capture(const char *path, struct rte_mempool *mp)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (p == NULL) {
		fprintf(stderr, "bpf_cost: %s: %s\n", path, errbuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "bpf_cost: %s: not Ethernet, skipped\n", path);
		pcap_close(p);
		return 0;
	}
	while (set.n < MAX_PKTS && pcap_next_ex(p, &h, &d) == 1) {
		struct rte_mbuf *m;
		char *dst;

		if (h->caplen > (unsigned int)(rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM)) {
			set.skipped++;
			continue;
		}
		m = rte_pktmbuf_alloc(mp);
		dst = m != NULL ? rte_pktmbuf_append(m, (uint16_t)h->caplen) : NULL;
		if (dst == NULL) {
			fprintf(stderr, "bpf_cost: out of mbufs\n");
			pcap_close(p);
			return -1;
		}
		memcpy(dst, d, h->caplen);
		set.m[set.n] = m;
		set.h[set.n] = *h;
		set.data[set.n] = rte_pktmbuf_mtod(m, const uint8_t *);
		set.n++;
	}
	pcap_close(p);
	return 0;
}

static double
ns_per_cycle(void)
{
	return 1e9 / (double)rte_get_tsc_hz();
}

/* Cycles per packet of the filter's own process function on the set. */
static double
run_ours(struct bl_filter *f, uint64_t budget)
{
	uint64_t t0 = rte_rdtsc(), t, pkts = 0;

	do {
		for (unsigned int i = 0; i < set.n; i += BURST) {
			uint16_t n = (uint16_t)RTE_MIN(BURST, set.n - i);
			f->ops->process(f, &set.m[i], n);
			f->n_emit = 0;   /* take the packets back: they are ours */
			pkts += n;
		}
		t = rte_rdtsc();
	} while (t - t0 < budget);
	return (double)(t - t0) / (double)pkts;
}

static double
run_libpcap(const struct bpf_program *prog, uint64_t budget)
{
	uint64_t t0 = rte_rdtsc(), t, pkts = 0, yes = 0;

	do {
		for (unsigned int i = 0; i < set.n; i += BURST) {
			unsigned int n = RTE_MIN(BURST, set.n - i);
			for (unsigned int k = i; k < i + n; k++)
				yes += pcap_offline_filter(prog, &set.h[k], set.data[k]) != 0;
			pkts += n;
		}
		t = rte_rdtsc();
	} while (t - t0 < budget);
	sink = yes;
	return (double)(t - t0) / (double)pkts;
}

/* Packets where the two verdicts differ (the wire length is set to the
 * captured length for libpcap: an mbuf knows no other). */
static unsigned int
disagreements(struct bl_filter *f, const struct bpf_program *prog, unsigned int *accepted)
{
	unsigned int bad = 0;

	*accepted = 0;
	for (unsigned int i = 0; i < set.n; i += BURST) {
		uint16_t n = (uint16_t)RTE_MIN(BURST, set.n - i);
		f->ops->process(f, &set.m[i], n);
		for (uint16_t k = 0; k < n; k++) {
			struct pcap_pkthdr h = set.h[i + k];
			h.len = h.caplen;
			int ref = pcap_offline_filter(prog, &h, set.data[i + k]) != 0;
			*accepted += f->emit_cls[k] != 0;
			bad += (f->emit_cls[k] != 0) != ref;
		}
		f->n_emit = 0;
	}
	return bad;
}

static int
measure_expr(const char *expr, struct rte_mempool *mp, uint64_t budget, unsigned int rounds)
{
	char text[1024];
	double ours[MAX_ROUNDS], lib[MAX_ROUNDS], mo, ml;
	struct bpf_program prog;
	const char *names[8];
	uint64_t values[8];
	unsigned int acc, bad, nc;
	struct bl_filter *f;
	struct bl_graph *g;
	pcap_t *pc;

	snprintf(text, sizeof(text), "gen | bpf \"%s\" | drop", expr);
	g = bench_build("bpf_cost", text, mp, 0);
	if (g == NULL)
		return -1;
	f = bl_graph_filter_by_name(g, "bpf");
	nc = bl_filter_counters(f, names, values, NULL, 8);
	pc = pcap_open_dead(DLT_EN10MB, 262144);
	if (pc == NULL || pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		fprintf(stderr, "bpf_cost: libpcap: %s: %s\n", expr, pc ? pcap_geterr(pc) : "?");
		bl_graph_free(g);
		return -1;
	}
	bad = disagreements(f, &prog, &acc);
	run_ours(f, budget / 4);       /* warm up: caches, branch predictors */
	run_libpcap(&prog, budget / 4);
	for (unsigned int r = 0; r < rounds; r++) {
		ours[r] = run_ours(f, budget);
		lib[r] = run_libpcap(&prog, budget);
	}
	mo = bench_median(ours, rounds);
	ml = bench_median(lib, rounds);
	printf("expr\t%s\taccepted %u/%u\tdisagree %u\tjit %s\tours_ns %.2f\tlibpcap_ns %.2f\tratio %.3f\n",
	       expr, acc, set.n, bad, nc >= 3 && values[2] ? "yes" : "no", mo * ns_per_cycle(),
	       ml * ns_per_cycle(), mo / ml);
	fflush(stdout);
	pcap_freecode(&prog);
	pcap_close(pc);
	bl_graph_free(g);
	return 0;
}

static int
measure_hop(struct rte_mempool *mp, unsigned int hops, uint64_t budget, unsigned int rounds)
{
	static char text[8192];
	double base[MAX_ROUNDS], with[MAX_ROUNDS], mb, mw;
	struct bl_graph *g0, *g1;
	size_t n = 0;

	g0 = bench_build("bpf_cost", "gen size=64 | drop", mp, 0);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "gen size=64");
	for (unsigned int i = 0; i < hops; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " | count");
	snprintf(text + n, sizeof(text) - n, " | drop");
	g1 = bench_build("bpf_cost", text, mp, 0);
	if (g0 == NULL || g1 == NULL) {
		bl_graph_free(g0);
		bl_graph_free(g1);
		return -1;
	}
	bench_run_graph(g0, budget / 4, bench_tsc, NULL);   /* warm up: the mempool cache, the code */
	bench_run_graph(g1, budget / 4, bench_tsc, NULL);
	for (unsigned int r = 0; r < rounds; r++) {
		base[r] = bench_run_graph(g0, budget, bench_tsc, NULL);
		with[r] = bench_run_graph(g1, budget, bench_tsc, NULL);
	}
	mb = bench_median(base, rounds);
	mw = bench_median(with, rounds);
	printf("hop\thops %u\tbase_cycles %.2f\twith_cycles %.2f\thop_cycles %.2f\thop_ns %.2f\n",
	       hops, mb, mw, (mw - mb) / hops, (mw - mb) / hops * ns_per_cycle());
	bl_graph_free(g0);
	bl_graph_free(g1);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bpf_cost [-t MS] [-r ROUNDS] [-H HOPS] [-p] -e EXPR [-e EXPR ...] CAPTURE...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *exprs[MAX_EXPRS];
	unsigned int n_exprs = 0, rounds = 5, hops = 32, ms = 200;
	bool page_pool = false;
	struct bl_dbuf *dbuf = NULL;
	struct rte_mempool *mp;
	struct bl_err err = { 0 };
	uint64_t budget;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "t:r:H:e:ph")) != -1) {
		switch (opt) {
		case 'p': page_pool = true; break;
		case 't': ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'H': hops = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'e':
			if (n_exprs == MAX_EXPRS)
				usage();
			exprs[n_exprs++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind >= argc || n_exprs == 0 || rounds == 0 || rounds > MAX_ROUNDS || ms == 0 ||
	    hops == 0 || hops > 60)
		usage();

	if (bench_eal_init("bpf_cost", argv[0], "bpfcost", "256") != 0)
		return 1;
	if (page_pool) {
		mp = rte_pktmbuf_pool_create("bpf_cost", MAX_PKTS + 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     (int)rte_socket_id());
		if (mp == NULL) {
			fprintf(stderr, "bpf_cost: mbuf pool: %s\n", rte_strerror(rte_errno));
			return 1;
		}
	} else {
		char name[64];
		snprintf(name, sizeof(name), "bpfcost%d_pkts", (int)getpid());
		struct bl_dbuf_pkt_opts po = {
			.sz = sizeof(po), .name = name, .n_mbufs = MAX_PKTS + 4095, .cache_size = 256,
			.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600,
		};
		if (bl_dbuf_pkt_create(&po, &dbuf, &err) != 0) {
			fprintf(stderr, "bpf_cost: packet DBuf: %s\n", err.msg);
			return 1;
		}
		mp = dbuf->mp;
	}
	for (int i = optind; i < argc; i++)
		if (load_capture(argv[i], mp) != 0)
			return 1;
	if (set.n == 0) {
		fprintf(stderr, "bpf_cost: no packets\n");
		return 1;
	}
	budget = rte_get_tsc_hz() / 1000 * ms;
	printf("setup\tpackets %u\tskipped %lu\ttsc_hz %lu\tms %u\trounds %u\tpool %s\n", set.n, set.skipped,
	       (unsigned long)rte_get_tsc_hz(), ms, rounds, page_pool ? "page" : "dbuf");
	for (unsigned int i = 0; i < n_exprs; i++)
		if (measure_expr(exprs[i], mp, budget, rounds) != 0)
			rc = 1;
	if (measure_hop(mp, hops, budget, rounds) != 0)
		rc = 1;
	for (unsigned int i = 0; i < set.n; i++)
		rte_pktmbuf_free(set.m[i]);
	bl_dbuf_free(dbuf);
	bench_eal_cleanup();
	return rc;
}
