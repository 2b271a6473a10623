/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_convert — rte_bpf_convert's program, repaired (see bpf_convert.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "bl_mbuf_meta.h"
#include "bpf_convert.h"

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
 * 3. The x86 JIT makes every `exit` after the first, and every LD_ABS/LD_IND
 *    failure, a jump to the first exit's epilog, and mis-encodes such a
 *    jump when it goes back exactly 128 or 127 bytes (the 8-bit
 *    displacement overflows and the jump lands past the code). Every exit
 *    becomes a jump to one `exit` appended at the end, so that all of them
 *    go forward.
 *
 * 4. Not a defect but libpcap's meaning: BPF_LEN is the wire length, which
 *    the converter loads from pkt_len. After each such load (`ldxw rN,
 *    [r6 + pkt_len]`) come WIRE_LEN_INSNS instructions that load the
 *    replayed record's wire length instead when the mbuf carries one
 *    (bl_mbuf_meta.h), with r9 as scratch.
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

#define BPF_REG_CTX     EBPF_REG_6
#define WIRE_LEN_INSNS  5u

static unsigned int
wire_len_extra(const struct ebpf_insn *in)
{
	return bl_mbuf_meta_off >= 0 && in->code == (BPF_LDX | BPF_MEM | BPF_W) &&
	       in->src_reg == BPF_REG_CTX && in->off == offsetof(struct rte_mbuf, pkt_len) ?
	       WIRE_LEN_INSNS : 0;
}

static void
put_wire_len(struct ebpf_insn *out, uint8_t dst)
{
	out[0] = (struct ebpf_insn){ .code = BPF_LDX | BPF_MEM | EBPF_DW, .dst_reg = BPF_REG_SCRATCH,
				     .src_reg = BPF_REG_CTX, .off = offsetof(struct rte_mbuf, ol_flags) };
	out[1] = (struct ebpf_insn){ .code = EBPF_ALU64 | BPF_RSH | BPF_K, .dst_reg = BPF_REG_SCRATCH,
				     .imm = __builtin_ctzll(bl_mbuf_meta_flag) };
	out[2] = (struct ebpf_insn){ .code = EBPF_ALU64 | BPF_AND | BPF_K, .dst_reg = BPF_REG_SCRATCH,
				     .imm = 1 };
	out[3] = (struct ebpf_insn){ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_SCRATCH,
				     .off = 1 };
	out[4] = (struct ebpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = dst,
				     .src_reg = BPF_REG_CTX,
				     .off = (int16_t)(bl_mbuf_meta_off +
						      offsetof(struct bl_mbuf_meta, wire_len)) };
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
		extra += is_small_jset(&ins[i]) + wire_len_extra(&ins[i]);
	}
	pos[n] = n + extra;
	out = malloc(((size_t)n + extra + 1) * sizeof(*out));
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
		if (in.code == (BPF_JMP | EBPF_EXIT)) {
			int64_t off = (int64_t)(n + extra) - (at + 1);
			if (off > INT16_MAX)
				goto fail;
			in = (struct ebpf_insn){ .code = BPF_JMP | BPF_JA, .off = (int16_t)off };
		}
		out[at] = in;
		if (wire_len_extra(&in) != 0)
			put_wire_len(&out[at + 1], in.dst_reg);
	}
	out[n + extra] = (struct ebpf_insn){ .code = BPF_JMP | EBPF_EXIT };
	*n_out = n + extra + 1;
	goto out;
fail:
	free(out);
	out = NULL;
out:
	free(pos);
	return out;
}

int
bl_bpf_convert_load(const struct bpf_program *fcode, struct rte_bpf **prog,
		    uint64_t (**jit)(void *ctx), struct bl_err *err)
{
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit j = { 0 };
	struct ebpf_insn *fixed;
	uint32_t n_fixed = 0;

	prm = rte_bpf_convert(fcode);
	if (prm == NULL)
		return bl_err_set(err, -rte_errno, "cannot convert to eBPF: %s", rte_strerror(rte_errno));
	prm->prog_arg.type = RTE_BPF_ARG_PTR_MBUF;
	prm->prog_arg.size = sizeof(struct rte_mbuf);
	prm->prog_arg.buf_size = RTE_MBUF_DEFAULT_BUF_SIZE;
	fixed = convert_fixup(prm->ins, prm->nb_ins, &n_fixed);
	if (fixed == NULL) {
		rte_free(prm);
		return bl_err_set(err, -ENOTSUP, "the converted eBPF program cannot be repaired "
				  "for DPDK's converter and JIT defects (see filters/bpf_convert.c)");
	}
	prm->ins = fixed;
	prm->nb_ins = n_fixed;
	*prog = rte_bpf_load(prm);
	rte_free(prm);
	free(fixed);
	if (*prog == NULL)
		return bl_err_set(err, -rte_errno, "eBPF load failed: %s", rte_strerror(rte_errno));
	*jit = NULL;
	if (rte_bpf_get_jit(*prog, &j) == 0 && j.func != NULL)
		*jit = j.func;
	return 0;
}
