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
#include <stdlib.h>
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

/*
 * Two DPDK 22.11 defects, repaired on the converted program before loading:
 *
 * 1. rte_bpf_convert maps cBPF's indexed loads (`ldb [x + k]`: tcp and udp
 *    ports, tcp flags, anything past a variable-length IP header) to eBPF
 *    LD_IND with src_reg 0, i.e. indexed by r0 (cBPF's A), not r7 (X): it
 *    reads the wrong bytes. cBPF LD_IND always indexes by X, and the
 *    converter emits LD_IND for nothing else, so every LD_IND gets src r7.
 * 2. The x86 JIT encodes `jset rN, #imm` as TEST r/m64, imm32 (F7 /0) but
 *    writes a 1-byte immediate when imm fits in int8: the next bytes are
 *    decoded as part of the instruction and the program crashes or returns
 *    garbage (`ether multicast`, `tcp[tcpflags] & tcp-syn != 0`). Each such
 *    jump becomes `mov r9, #imm; jset rN, r9` (the same sign-extended
 *    operand) and the jumps are moved across the inserted instructions. The
 *    converter never uses r9 (A is r0, X r7, its temporary r8, the mbuf r6).
 *
 * Returns a malloc'ed program, or NULL (out of memory, or a program this
 * cannot repair): the caller then refuses the expression.
 */
#define BPF_REG_X       EBPF_REG_7
#define BPF_REG_SCRATCH EBPF_REG_9

static bool
is_small_jset(const struct ebpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_JSET | BPF_K) && in->imm >= -128 && in->imm <= 127;
}

static bool
is_jump(const struct ebpf_insn *in)
{
	return BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != EBPF_CALL &&
	       BPF_OP(in->code) != EBPF_EXIT;
}

static struct ebpf_insn *
convert_fixup(const struct ebpf_insn *ins, uint32_t n, uint32_t *n_out)
{
	uint32_t *pos = malloc(((size_t)n + 1) * sizeof(*pos)), extra = 0;
	struct ebpf_insn *out = NULL;

	if (pos == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (ins[i].dst_reg == BPF_REG_SCRATCH || ins[i].src_reg == BPF_REG_SCRATCH)
			goto out;
		pos[i] = i + extra;
		extra += is_small_jset(&ins[i]);
	}
	pos[n] = n + extra;
	out = malloc(((size_t)n + extra) * sizeof(*out));
	if (out == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at = pos[i];
		struct ebpf_insn in = ins[i];

		if (BPF_CLASS(in.code) == BPF_LD && BPF_MODE(in.code) == BPF_IND)
			in.src_reg = BPF_REG_X;
		if (is_small_jset(&in)) {
			out[at++] = (struct ebpf_insn){ .code = EBPF_ALU64 | EBPF_MOV | BPF_K,
							.dst_reg = BPF_REG_SCRATCH, .imm = in.imm };
			in.code = BPF_JMP | BPF_JSET | BPF_X;
			in.src_reg = BPF_REG_SCRATCH;
			in.imm = 0;
		}
		if (is_jump(&in)) {
			int64_t t = (int64_t)i + 1 + in.off, off;
			if (t < 0 || t > (int64_t)n)
				goto fail;
			off = (int64_t)pos[t] - (at + 1);
			if (off < INT16_MIN || off > INT16_MAX)
				goto fail;
			in.off = (int16_t)off;
		}
		out[at] = in;
	}
	*n_out = n + extra;
	goto out;
fail:
	free(out);
	out = NULL;
out:
	free(pos);
	return out;
}

static int
bpf_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "expr", NULL };
	struct bpf *b = bl_filter_priv(f);
	const char *expr = NULL;
	struct bpf_program fcode;
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit;
	struct ebpf_insn *fixed;
	uint32_t n_fixed = 0;
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
	fixed = convert_fixup(prm->ins, prm->nb_ins, &n_fixed);
	if (fixed == NULL) {
		rte_free(prm);
		return bl_err_set(err, -ENOTSUP, "expr: the converted eBPF program cannot be repaired "
				  "for DPDK's converter and JIT defects (see filters/bpf.c)");
	}
	prm->ins = fixed;
	prm->nb_ins = n_fixed;
	b->prog = rte_bpf_load(prm);
	rte_free(prm);
	free(fixed);
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

	if (likely(b->jit != NULL && n <= bl_filter_emit_room(f))) {
		/* One pass: run the program and emit in place (the room was checked). */
		struct rte_mbuf **slot = bl_filter_emit_slots(f);
		uint32_t *cls = &f->emit_cls[f->n_emit];
		for (uint16_t i = 0; i < n; i++) {
			uint32_t ok = b->jit(pkts[i]) != 0;
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
			yes += rc[i] != 0;
			bl_filter_emit(f, rc[i] != 0, pkts[i]);
		}
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
