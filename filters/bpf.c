/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf — pass the packets a libpcap filter expression accepts, as tcpdump
 * would: the expression is compiled by libpcap (for Ethernet), converted to
 * eBPF by rte_bpf_convert and run JIT-compiled (or interpreted where the
 * JIT is not available).
 * synopsis: bpf "EXPR"   (or bpf expr="EXPR")
 * edges:    out (class 1): accepted; rejected packets are class 0
 * counters: accepted, rejected; jit (1 when JIT-compiled)
 * state:    stateless
 */
#include <errno.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "bl_filter_worker.h"

struct bpf {
	struct rte_bpf *prog;
	uint64_t (*jit)(void *ctx);   /* NULL: interpret with rte_bpf_exec_burst */
	uint64_t accepted;            /* (w) this lcore */
	uint64_t rejected;            /* (w) */
};

static int
bpf_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "expr", NULL };
	struct bpf *b = bl_filter_priv(f);
	const char *expr = NULL;
	struct bpf_program fcode;
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit;
	pcap_t *pc;

	if (bl_args_only(args, keys, true, err) < 0 || bl_args_positional(args, &expr, err) < 0 ||
	    bl_args_str(args, "expr", &expr, err) < 0)
		return -EINVAL;
	if (expr == NULL)
		return bl_err_set(err, -EINVAL, "expr: required: bpf \"EXPRESSION\" (libpcap syntax)");
	pc = pcap_open_dead(DLT_EN10MB, 262144);
	if (pc == NULL)
		return bl_err_set(err, -ENOMEM, "expr: libpcap could not start");
	if (pcap_compile(pc, &fcode, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		bl_err_set(err, -EINVAL, "expr: \"%.200s\": %s", expr, pcap_geterr(pc));
		pcap_close(pc);
		return -EINVAL;
	}
	pcap_close(pc);
	prm = rte_bpf_convert(&fcode);
	pcap_freecode(&fcode);
	if (prm == NULL)
		return bl_err_set(err, -rte_errno, "expr: cannot convert to eBPF: %s", rte_strerror(rte_errno));
	prm->prog_arg.type = RTE_BPF_ARG_PTR_MBUF;
	prm->prog_arg.size = sizeof(struct rte_mbuf);
	prm->prog_arg.buf_size = RTE_MBUF_DEFAULT_BUF_SIZE;
	b->prog = rte_bpf_load(prm);
	rte_free(prm);
	if (b->prog == NULL)
		return bl_err_set(err, -rte_errno, "expr: eBPF load failed: %s", rte_strerror(rte_errno));
	if (rte_bpf_get_jit(b->prog, &jit) == 0 && jit.func != NULL)
		b->jit = jit.func;
	return 0;
}

static void
bpf_fini(struct bl_filter *f)
{
	struct bpf *b = bl_filter_priv(f);

	rte_bpf_destroy(b->prog);
}

static void
bpf_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct bpf *b = bl_filter_priv(f);
	uint64_t rc[BL_BURST_MAX], yes = 0;

	if (likely(b->jit != NULL)) {
		for (uint16_t i = 0; i < n; i++)
			rc[i] = b->jit(pkts[i]);
	} else {
		rte_bpf_exec_burst(b->prog, (void **)pkts, rc, n);
	}
	for (uint16_t i = 0; i < n; i++) {
		yes += rc[i] != 0;
		bl_filter_emit(f, rc[i] != 0, pkts[i]);
	}
	/* relaxed: single writer; pairs with the loads in bpf_counters */
	__atomic_store_n(&b->accepted, b->accepted + yes, __ATOMIC_RELAXED);
	__atomic_store_n(&b->rejected, b->rejected + (n - yes), __ATOMIC_RELAXED);
}

static unsigned int
bpf_counters(const struct bl_filter *f, const char **names, uint64_t *values, unsigned int max)
{
	const struct bpf *b = bl_filter_priv(f);

	if (max < 3)
		return 0;
	names[0] = "accepted";
	values[0] = __atomic_load_n(&b->accepted, __ATOMIC_RELAXED);
	names[1] = "rejected";
	values[1] = __atomic_load_n(&b->rejected, __ATOMIC_RELAXED);
	names[2] = "jit";
	values[2] = b->jit != NULL;
	return 3;
}

BL_FILTER_REGISTER(bpf) = {
	.summary = "pass packets a libpcap (tcpdump) filter expression accepts",
	.synopsis = "bpf \"EXPR\"",
	.args_doc = "EXPR (positional) or expr=EXPR: a libpcap filter expression (required)",
	.edges_doc = "out (class 1): accepted; rejected packets are class 0",
	.counters_doc = "accepted, rejected; jit: 1 when the program runs JIT-compiled",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.priv_size = sizeof(struct bpf),
	.init = bpf_init,
	.fini = bpf_fini,
	.process = bpf_process,
	.counters = bpf_counters,
	.edges = { "out" },
};
