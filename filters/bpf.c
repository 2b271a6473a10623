/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf — pass the packets a libpcap filter expression accepts, as tcpdump
 * would: the expression is compiled by libpcap (for Ethernet), translated
 * to eBPF over the mbuf's first segment (bpf_xlat.h) and run JIT-compiled
 * (or interpreted where the JIT is not available). The chained packets the
 * first segment cannot decide go to DPDK's own conversion of the program
 * (bpf_convert.h), which reads across segments.
 * `len`, `less` and `greater` read the packet's wire length, as libpcap's
 * do: the record's for a replayed capture (bl_mbuf_meta.h), else pkt_len.
 * The netmask (for `ip broadcast`) is 0 by default, as tcpdump -r uses.
 * synopsis: bpf "EXPR"   (or bpf expr="EXPR")
 * edges:    out (class 1): accepted; rejected packets are class 0
 * state:    stateless
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_mbuf_meta.h"
#include "bpf_convert.h"
#include "bpf_xlat.h"

struct bpf {
	uint64_t (*jit)(void *ctx);      /* the translated program; NULL: interpret it */
	uint64_t (*slow_jit)(void *ctx); /* the converted one; NULL: interpret it */
	struct rte_bpf *prog;            /* translated (bpf_xlat) */
	struct rte_bpf *slow;            /* converted (bpf_convert) */
	uint64_t accepted;               /* (w) this lcore */
	uint64_t rejected;               /* (w) */
	uint64_t n_slow;                 /* (w) */
	uint64_t is_jit;                 /* config: jit != NULL, for stats */
};

static int
bpf_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "expr", "netmask", NULL };
	struct bpf *b = bl_filter_priv(f);
	const char *expr = NULL, *nm = NULL;
	bpf_u_int32 netmask = 0;            /* tcpdump -r's */
	struct in_addr a;
	struct bpf_program fcode;
	struct bl_err sub = { 0 };
	pcap_t *pc;
	int rc;

	if (bl_args_only(args, keys, true, err) < 0 || bl_args_positional(args, &expr, err) < 0 ||
	    bl_args_str(args, "expr", &expr, err) < 0 || bl_args_str(args, "netmask", &nm, err) < 0)
		return -EINVAL;
	if (expr == NULL)
		return bl_err_set(err, -EINVAL, "expr: required: bpf \"EXPRESSION\" (libpcap syntax)");
	if (nm != NULL && strcmp(nm, "unknown") == 0)
		netmask = PCAP_NETMASK_UNKNOWN;
	else if (nm != NULL && inet_pton(AF_INET, nm, &a) == 1)
		netmask = ntohl(a.s_addr);
	else if (nm != NULL)
		return bl_err_set(err, -EINVAL, "netmask: \"%.64s\" is not an IPv4 netmask "
				  "(A.B.C.D, or \"unknown\")", nm);
	rc = bl_graph_dry(f) ? 0 : bl_mbuf_meta_register();   /* `len` reads the wire length */
	if (rc < 0)
		return bl_err_set(err, rc, "cannot register the mbuf record field: %s", strerror(-rc));
	pc = pcap_open_dead(DLT_EN10MB, 262144);
	if (pc == NULL)
		return bl_err_set(err, -ENOMEM, "expr: libpcap could not start");
	if (pcap_compile(pc, &fcode, expr, 1, netmask) != 0) {
		bl_err_set(err, -EINVAL, "expr: \"%.200s\": %s", expr, pcap_geterr(pc));
		pcap_close(pc);
		return -EINVAL;
	}
	pcap_close(pc);
	rc = bl_bpf_xlat_load(fcode.bf_insns, fcode.bf_len, &b->prog, &b->jit, &sub);
	if (rc < 0) {
		pcap_freecode(&fcode);
		return bl_err_set(err, rc, "expr: \"%.200s\": cannot convert to eBPF: %s", expr, sub.msg);
	}
	b->is_jit = b->jit != NULL;
	if (bl_graph_dry(f)) {   /* checked: compiled and loaded; the slow path needs EAL memory */
		pcap_freecode(&fcode);
		return 0;
	}
	rc = bl_bpf_convert_load(&fcode, &b->slow, &b->slow_jit, &sub);
	pcap_freecode(&fcode);
	if (rc < 0) {
		rte_bpf_destroy(b->prog);
		b->prog = NULL;
		return bl_err_set(err, rc, "expr: \"%.200s\": %s", expr, sub.msg);
	}
	return 0;
}

static void
bpf_fini(struct bl_filter *f)
{
	struct bpf *b = bl_filter_priv(f);

	rte_bpf_destroy(b->prog);
	rte_bpf_destroy(b->slow);
}

/* A chained packet whose first segment did not decide it. */
static __rte_noinline __rte_cold uint64_t
bpf_slow(const struct bpf *b, struct rte_mbuf *m)
{
	return b->slow_jit != NULL ? b->slow_jit(m) : rte_bpf_exec(b->slow, m);
}

static void
bpf_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct bpf *b = bl_filter_priv(f);
	uint64_t rc[BL_BURST_MAX], yes = 0, slow = 0;

	if (likely(b->jit != NULL && n <= bl_filter_emit_room(f))) {
		/* One pass: run the program and emit in place (the room was checked). */
		uint64_t (*jit)(void *ctx) = b->jit;   /* once: the stores below may alias b */
		struct rte_mbuf **slot = bl_filter_emit_slots(f);
		uint32_t *cls = &f->emit_cls[f->n_emit];
		for (uint16_t i = 0; i < n; i++) {
			uint64_t v = jit(pkts[i]);
			if (unlikely(v > UINT32_MAX)) {
				v = bpf_slow(b, pkts[i]);
				slow++;
			}
			uint32_t ok = v != 0;
			slot[i] = pkts[i];
			cls[i] = ok;
			yes += ok;
		}
		f->n_emit = (uint16_t)(f->n_emit + n);
	} else {
		if (b->jit != NULL)
			for (uint16_t i = 0; i < n; i++)
				rc[i] = b->jit(pkts[i]);
		else
			rte_bpf_exec_burst(b->prog, (void **)pkts, rc, n);
		for (uint16_t i = 0; i < n; i++) {
			if (unlikely(rc[i] > UINT32_MAX)) {
				rc[i] = bpf_slow(b, pkts[i]);
				slow++;
			}
			yes += rc[i] != 0;
			bl_filter_emit(f, rc[i] != 0, pkts[i]);
		}
	}
	bl_counter_add(&b->accepted, yes);
	bl_counter_add(&b->rejected, n - yes);
	if (unlikely(slow != 0))
		bl_counter_add(&b->n_slow, slow);
}

static const struct bl_counter_def bpf_counters[] = {
	BL_COUNTER(struct bpf, accepted, "accepted", "packets the expression accepted (class 1)"),
	BL_COUNTER(struct bpf, rejected, "rejected", "packets it rejected (class 0)"),
	BL_GAUGE(struct bpf, is_jit, "jit", "1 when the program runs JIT-compiled"),
	BL_COUNTER(struct bpf, n_slow, "slow",
		   "chained packets decided by DPDK's conversion of the program"),
};

BL_FILTER_REGISTER(bpf) = {
	.summary = "pass packets a libpcap (tcpdump) filter expression accepts",
	.synopsis = "bpf \"EXPR\" [netmask=A.B.C.D]",
	.args_doc = "EXPR (positional) or expr=EXPR: a libpcap filter expression (required); "
		    "netmask: the IPv4 netmask `ip broadcast` uses (default 0.0.0.0, as tcpdump -r; "
		    "\"unknown\" refuses such expressions, as libpcap does without one). "
		    "`len`, `less` and `greater` read the wire length: a replayed capture's record's, "
		    "else the packet's length",
	.edges_doc = "out (class 1): accepted; rejected packets are class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.priv_size = sizeof(struct bpf),
	.init = bpf_init,
	.fini = bpf_fini,
	.process = bpf_process,
	BL_FILTER_COUNTERS(bpf_counters),
	.edges = { "out" },
};
