/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_xlat — classic BPF to eBPF over an mbuf's first segment (see bpf_xlat.h).
 *
 * Three passes over the cBPF program:
 *   check    every instruction alone (opcode, operands, jump targets);
 *   must     backwards: must[i], the packet length every path from i needs
 *            (the largest constant extent k + size it is sure to load
 *            before any `ret`): if len < must[i], every path from i ends
 *            in a failed load;
 *   emit     forwards, with what is known on entry to each instruction
 *            (the least length already checked over its predecessors, and
 *            the M[] words stored on every path): a load whose constant
 *            extent is not yet known to fit is preceded by one check of
 *            must[i], which then holds for what follows.
 * Instructions no path reaches are not emitted (rte_bpf_load refuses
 * unreachable code). Jumps are patched once every start is known.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "bl_mbuf_meta.h"
#include "bpf_xlat.h"

/* Register roles (see bpf_xlat.h). */
enum {
	R_A = EBPF_REG_0,
	R_MBUF = EBPF_REG_1,
	R_DATA = EBPF_REG_2,
	R_LEN = EBPF_REG_3,
	R_X = EBPF_REG_4,
	R_TMP = EBPF_REG_5,
	R_FP = EBPF_REG_10,
};

/* data_len is 16 bits: a load reaching past this never fits. */
#define LEN_MAX    UINT16_MAX
#define EXT_NEVER  (LEN_MAX + 1u)
/* eBPF instructions one cBPF instruction may become, at most. */
#define MAX_PER_INSN 12u
/* The tail: the out-of-bounds exit (5), the reject exit (1), the exit (1). */
#define TAIL_INSNS 7u

/* Jump targets that are not cBPF instructions. */
#define TGT_OOB    UINT32_MAX
#define TGT_REJECT (UINT32_MAX - 1)
#define TGT_EXIT   (UINT32_MAX - 2)

struct xlat {
	const struct bpf_insn *in;
	uint32_t n;
	struct ebpf_insn *out;
	uint32_t n_out;
	uint32_t *start;      /* [n + 3]: eBPF index of each cBPF insn, then OOB, REJECT, EXIT */
	uint32_t *target;     /* [cap]: for each eBPF jump, its target (cBPF index or TGT_*) */
	uint32_t *must;       /* [n] */
	uint32_t *known;      /* [n]: length checked on entry; UINT32_MAX: not reached */
	uint16_t *mem;        /* [n]: M[] words stored on entry */
	bool used[2];         /* the tail exits some jump goes to: OOB, REJECT */
	struct bl_err *err;
};

static uint32_t
size_of(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

/* The constant extent a packet load needs (k + size), EXT_NEVER past 64 KiB; 0 for the rest. */
static uint32_t
extent(const struct bpf_insn *p)
{
	uint64_t e;

	if (BPF_CLASS(p->code) == BPF_LD && (BPF_MODE(p->code) == BPF_ABS || BPF_MODE(p->code) == BPF_IND))
		e = (uint64_t)p->k + size_of(p->code);
	else if (p->code == (BPF_LDX | BPF_B | BPF_MSH))
		e = (uint64_t)p->k + 1;
	else
		return 0;
	return e > LEN_MAX ? EXT_NEVER : (uint32_t)e;
}

static bool
is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

static int
refuse(struct xlat *x, uint32_t i, const char *why)
{
	return bl_err_set(x->err, -EINVAL, "cBPF instruction %u (code 0x%02x, k %u): %s", i,
			  x->in[i].code, x->in[i].k, why);
}

/* ---- check ---------------------------------------------------------------- */

static int
check_one(struct xlat *x, uint32_t i)
{
	const struct bpf_insn *p = &x->in[i];
	uint16_t c = p->code;

	if (c > 0xff)   /* cBPF uses 8 bits; libpcap's bpf_filter aborts on the rest */
		return refuse(x, i, "unknown instruction code");
	switch (BPF_CLASS(c)) {
	case BPF_LD:
		if (BPF_MODE(c) == BPF_ABS || BPF_MODE(c) == BPF_IND) {
			if (BPF_SIZE(c) == EBPF_DW)
				return refuse(x, i, "unknown load size");
			return 0;
		}
		if (c == (BPF_LD | BPF_W | BPF_IMM) || c == (BPF_LD | BPF_W | BPF_LEN))
			return 0;
		if (c == (BPF_LD | BPF_W | BPF_MEM))
			return p->k < BPF_MEMWORDS ? 0 : refuse(x, i, "scratch memory index >= 16");
		return refuse(x, i, "unsupported load");
	case BPF_LDX:
		if (c == (BPF_LDX | BPF_W | BPF_IMM) || c == (BPF_LDX | BPF_W | BPF_LEN) ||
		    c == (BPF_LDX | BPF_B | BPF_MSH))
			return 0;
		if (c == (BPF_LDX | BPF_W | BPF_MEM))
			return p->k < BPF_MEMWORDS ? 0 : refuse(x, i, "scratch memory index >= 16");
		return refuse(x, i, "unsupported load into X");
	case BPF_ST:
	case BPF_STX:
		if (c != BPF_ST && c != BPF_STX)
			return refuse(x, i, "unsupported store");
		return p->k < BPF_MEMWORDS ? 0 : refuse(x, i, "scratch memory index >= 16");
	case BPF_ALU:
		switch (BPF_OP(c)) {
		case BPF_NEG:
			return c == (BPF_ALU | BPF_NEG) ? 0 : refuse(x, i, "unsupported negation");
		case BPF_DIV:
		case BPF_MOD:
			if (BPF_SRC(c) == BPF_K && p->k == 0)
				return refuse(x, i, "division by the constant 0");
			return 0;
		case BPF_LSH:
		case BPF_RSH:
			if (BPF_SRC(c) == BPF_K && p->k >= 32)
				return refuse(x, i, "shift by a constant >= 32");
			return 0;
		case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_OR: case BPF_AND: case BPF_XOR:
			return 0;
		default:
			return refuse(x, i, "unknown ALU operation");
		}
	case BPF_JMP: {
		uint64_t t, f;

		switch (BPF_OP(c)) {
		case BPF_JA:
			if (c != (BPF_JMP | BPF_JA))
				return refuse(x, i, "unsupported jump");
			if ((uint32_t)(i + 1 + p->k) <= i)   /* cBPF's pc += k wraps: a loop */
				return refuse(x, i, "a backward jump (a loop, as libpcap makes for "
					      "protochain): rte_bpf runs no loops");
			t = f = (uint64_t)i + 1 + p->k;
			break;
		case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
			t = (uint64_t)i + 1 + p->jt;
			f = (uint64_t)i + 1 + p->jf;
			break;
		default:
			return refuse(x, i, "unknown jump");
		}
		if (t >= x->n || f >= x->n)
			return refuse(x, i, "jump past the end of the program");
		return 0;
	}
	case BPF_RET:
		if (c == (BPF_RET | BPF_K) || c == (BPF_RET | BPF_A))
			return 0;
		return refuse(x, i, "unsupported return (only ret #k and ret a)");
	default: /* BPF_MISC */
		if (c == (BPF_MISC | BPF_TAX) || c == (BPF_MISC | BPF_TXA))
			return 0;
		return refuse(x, i, "unsupported miscellaneous instruction");
	}
}

/* ---- must (backwards) ------------------------------------------------------ */

static void
compute_must(struct xlat *x)
{
	for (uint32_t i = x->n; i-- > 0;) {
		const struct bpf_insn *p = &x->in[i];
		uint32_t e = extent(p), next;

		if (BPF_CLASS(p->code) == BPF_RET || e == EXT_NEVER)
			next = 0;
		else if (p->code == (BPF_JMP | BPF_JA))
			next = x->must[i + 1 + p->k];
		else if (is_cond_jump(p->code))
			next = RTE_MIN(x->must[i + 1 + p->jt], x->must[i + 1 + p->jf]);
		else
			next = x->must[i + 1];
		x->must[i] = RTE_MAX(e, next);
	}
}

/* ---- emit ------------------------------------------------------------------ */

static void
put(struct xlat *x, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	x->target[x->n_out] = 0;
	x->out[x->n_out++] = (struct ebpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
						 .off = off, .imm = imm };
}

/* A jump to tgt (cBPF index or TGT_*), patched later. */
static void
put_jump(struct xlat *x, uint8_t code, uint8_t dst, uint8_t src, int32_t imm, uint32_t tgt)
{
	put(x, code, dst, src, 0, imm);
	x->target[x->n_out - 1] = tgt;
	if (tgt == TGT_OOB || tgt == TGT_REJECT)
		x->used[tgt == TGT_REJECT] = true;
}

/* dst = the packet's wire length, as libpcap's BPF_LEN: the replayed record's when the
 * mbuf carries one (bl_mbuf_meta.h), else pkt_len. Uses R_TMP. */
static void
put_wire_len(struct xlat *x, uint8_t dst)
{
	put(x, BPF_LDX | BPF_MEM | BPF_W, dst, R_MBUF, offsetof(struct rte_mbuf, pkt_len), 0);
	if (bl_mbuf_meta_off < 0)
		return;   /* not registered: no mbuf carries a record */
	put(x, BPF_LDX | BPF_MEM | EBPF_DW, R_TMP, R_MBUF, offsetof(struct rte_mbuf, ol_flags), 0);
	put(x, EBPF_ALU64 | BPF_RSH | BPF_K, R_TMP, 0, 0, __builtin_ctzll(bl_mbuf_meta_flag));
	put(x, EBPF_ALU64 | BPF_AND | BPF_K, R_TMP, 0, 0, 1);
	put(x, BPF_JMP | BPF_JEQ | BPF_K, R_TMP, 0, 1, 0);   /* no record: keep pkt_len */
	put(x, BPF_LDX | BPF_MEM | BPF_W, dst, R_MBUF,
	    (int16_t)(bl_mbuf_meta_off + offsetof(struct bl_mbuf_meta, wire_len)), 0);
}

/* Jump to tgt when A op k (unsigned 32-bit), with k in a register when eBPF would sign-extend it. */
static void
put_jcmp_k(struct xlat *x, uint8_t op, uint32_t k, uint32_t tgt)
{
	if (op == BPF_JSET || k > INT32_MAX) {
		put(x, BPF_ALU | EBPF_MOV | BPF_K, R_TMP, 0, 0, (int32_t)k);   /* zero-extends */
		put_jump(x, BPF_JMP | op | BPF_X, R_A, R_TMP, 0, tgt);
	} else {
		put_jump(x, BPF_JMP | op | BPF_K, R_A, 0, (int32_t)k, tgt);
	}
}

static void
succ(struct xlat *x, uint32_t s, uint32_t known, uint16_t mem)
{
	if (x->known[s] == UINT32_MAX) {
		x->known[s] = known;
		x->mem[s] = mem;
	} else {
		x->known[s] = RTE_MIN(x->known[s], known);
		x->mem[s] &= mem;
	}
}

/* dst = the packet's bytes [k, k + size) in host order (k + size <= LEN_MAX, checked by the caller). */
static void
put_pkt_load(struct xlat *x, uint8_t size_code, uint8_t dst, uint32_t k)
{
	uint8_t base = R_DATA;
	int16_t off = (int16_t)k;

	if (k > INT16_MAX) {
		/* pointer + constant (rte_bpf_load's checker of 22.11 keeps the type of the left) */
		put(x, EBPF_ALU64 | EBPF_MOV | BPF_X, R_TMP, R_DATA, 0, 0);
		put(x, EBPF_ALU64 | BPF_ADD | BPF_K, R_TMP, 0, 0, (int32_t)k);
		base = R_TMP;
		off = 0;
	}
	put(x, BPF_LDX | BPF_MEM | size_code, dst, base, off, 0);
	if (size_code != BPF_B)
		put(x, BPF_ALU | EBPF_END | EBPF_TO_BE, dst, 0, 0, size_code == BPF_H ? 16 : 32);
}

/* A = the packet's bytes [X + k, X + k + size), or out of bounds. A is free until the
 * load writes it, so it holds the offset. */
static void
put_ind_load(struct xlat *x, uint8_t size_code, uint32_t k)
{
	uint32_t s = size_of(size_code);

	put(x, EBPF_ALU64 | EBPF_MOV | BPF_X, R_A, R_X, 0, 0);
	put(x, EBPF_ALU64 | BPF_ADD | BPF_K, R_A, 0, 0, (int32_t)(k + s));
	put_jump(x, BPF_JMP | BPF_JGT | BPF_X, R_A, R_LEN, 0, TGT_OOB);   /* X + k + s > len */
	put(x, EBPF_ALU64 | BPF_SUB | BPF_K, R_A, 0, 0, (int32_t)s);
	/* No-op (X + k < len <= 0xffff here): it bounds the offset for rte_bpf_load's checker,
	 * which tracks X's 32-bit arithmetic as possibly negative. */
	put(x, EBPF_ALU64 | BPF_AND | BPF_K, R_A, 0, 0, LEN_MAX);
	put(x, EBPF_ALU64 | EBPF_MOV | BPF_X, R_TMP, R_DATA, 0, 0);
	put(x, EBPF_ALU64 | BPF_ADD | BPF_X, R_TMP, R_A, 0, 0);
	put(x, BPF_LDX | BPF_MEM | size_code, R_A, R_TMP, 0, 0);
	if (size_code != BPF_B)
		put(x, BPF_ALU | EBPF_END | EBPF_TO_BE, R_A, 0, 0, s * 8);
}

static int16_t
mem_off(uint32_t k)
{
	return (int16_t)(-(int32_t)sizeof(uint64_t) * (int32_t)(k + 1));
}

static int
emit_one(struct xlat *x, uint32_t i)
{
	const struct bpf_insn *p = &x->in[i];
	uint16_t c = p->code, mem = x->mem[i];
	uint32_t known = x->known[i], e = extent(p);
	uint8_t op = BPF_OP(c);

	if (e == EXT_NEVER) {
		/* Never fits a segment: the packet is rejected (or decided the slow way). */
		put_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, TGT_OOB);
		return 0;
	}
	if (e > known) {
		put_jump(x, BPF_JMP | EBPF_JLT | BPF_K, R_LEN, 0, (int32_t)x->must[i], TGT_OOB);
		known = x->must[i];
	}
	switch (BPF_CLASS(c)) {
	case BPF_LD:
		if (BPF_MODE(c) == BPF_ABS)
			put_pkt_load(x, BPF_SIZE(c), R_A, p->k);
		else if (BPF_MODE(c) == BPF_IND)
			put_ind_load(x, BPF_SIZE(c), p->k);
		else if (BPF_MODE(c) == BPF_IMM)
			put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, (int32_t)p->k);
		else if (BPF_MODE(c) == BPF_LEN)
			put_wire_len(x, R_A);
		else if (!(mem & 1u << p->k))
			return refuse(x, i, "reads scratch memory M[k] before every path stores it");
		else
			put(x, BPF_LDX | BPF_MEM | EBPF_DW, R_A, R_FP, mem_off(p->k), 0);
		break;
	case BPF_LDX:
		if (BPF_MODE(c) == BPF_MSH) {
			put_pkt_load(x, BPF_B, R_X, p->k);
			put(x, BPF_ALU | BPF_AND | BPF_K, R_X, 0, 0, 0xf);
			put(x, BPF_ALU | BPF_LSH | BPF_K, R_X, 0, 0, 2);
		} else if (BPF_MODE(c) == BPF_IMM) {
			put(x, BPF_ALU | EBPF_MOV | BPF_K, R_X, 0, 0, (int32_t)p->k);
		} else if (BPF_MODE(c) == BPF_LEN) {
			put_wire_len(x, R_X);
		} else if (!(mem & 1u << p->k)) {
			return refuse(x, i, "reads scratch memory M[k] before every path stores it");
		} else {
			put(x, BPF_LDX | BPF_MEM | EBPF_DW, R_X, R_FP, mem_off(p->k), 0);
		}
		break;
	case BPF_ST:
	case BPF_STX:
		put(x, BPF_STX | BPF_MEM | EBPF_DW, R_FP, BPF_CLASS(c) == BPF_ST ? R_A : R_X,
		    mem_off(p->k), 0);
		mem |= (uint16_t)(1u << p->k);
		break;
	case BPF_ALU:
		if (op == BPF_NEG) {
			put(x, BPF_ALU | BPF_NEG, R_A, 0, 0, 0);
		} else if (BPF_SRC(c) == BPF_K) {
			put(x, BPF_ALU | op | BPF_K, R_A, 0, 0, (int32_t)p->k);
		} else {
			if (op == BPF_DIV || op == BPF_MOD) {   /* libpcap: A / 0 rejects */
				put_jump(x, BPF_JMP | BPF_JEQ | BPF_K, R_X, 0, 0, TGT_REJECT);
				/* Two byte swaps (no change): rte_bpf_load's checker refuses a
				 * constant divided by a constant 0, and does not see that the
				 * jump above excludes it; A swapped is a value it does not know. */
				put(x, BPF_ALU | EBPF_END | EBPF_TO_BE, R_A, 0, 0, 32);
				put(x, BPF_ALU | EBPF_END | EBPF_TO_BE, R_A, 0, 0, 32);
			}
			if (op == BPF_LSH || op == BPF_RSH) {
				/* libpcap: a shift by 32 or more gives 0 (x86 would shift by X % 32) */
				put(x, BPF_JMP | BPF_JGE | BPF_K, R_X, 0, 2, 32);
				put(x, BPF_ALU | op | BPF_X, R_A, R_X, 0, 0);
				put(x, BPF_JMP | BPF_JA, 0, 0, 1, 0);
				put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, 0);
			} else {
				put(x, BPF_ALU | op | BPF_X, R_A, R_X, 0, 0);
			}
		}
		break;
	case BPF_JMP: {
		uint32_t t = i + 1 + (op == BPF_JA ? p->k : p->jt);
		uint32_t f = i + 1 + (op == BPF_JA ? p->k : p->jf);

		if (t == f) {
			if (t != i + 1)
				put_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, t);
			succ(x, t, known, mem);
			return 0;
		}
		if (t == i + 1 && op != BPF_JSET) {
			/* Fall through when true: jump on the opposite to f. */
			uint8_t inv = op == BPF_JEQ ? EBPF_JNE : op == BPF_JGT ? EBPF_JLE : EBPF_JLT;
			if (BPF_SRC(c) == BPF_X)
				put_jump(x, BPF_JMP | inv | BPF_X, R_A, R_X, 0, f);
			else
				put_jcmp_k(x, inv, p->k, f);
		} else {
			if (BPF_SRC(c) == BPF_X)
				put_jump(x, BPF_JMP | op | BPF_X, R_A, R_X, 0, t);
			else
				put_jcmp_k(x, op, p->k, t);
			if (f != i + 1)
				put_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, f);
		}
		succ(x, t, known, mem);
		succ(x, f, known, mem);
		return 0;
	}
	case BPF_RET:
		/* One exit, the last instruction: DPDK 22.11's x86 JIT makes every exit
		 * after the first a jump back to the first, and mis-encodes a backward
		 * jump of -128 or -127 bytes (its 8-bit displacement overflows). */
		if (BPF_RVAL(c) == BPF_K)
			put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, (int32_t)p->k);
		put_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, TGT_EXIT);
		return 0;
	default: /* BPF_MISC */
		if (BPF_MISCOP(c) == BPF_TAX)
			put(x, BPF_ALU | EBPF_MOV | BPF_X, R_X, R_A, 0, 0);
		else
			put(x, BPF_ALU | EBPF_MOV | BPF_X, R_A, R_X, 0, 0);
		break;
	}
	succ(x, i + 1, known, mem);
	return 0;
}

static void
emit_prologue(struct xlat *x)
{
	put(x, BPF_LDX | BPF_MEM | EBPF_DW, R_DATA, R_MBUF, offsetof(struct rte_mbuf, buf_addr), 0);
	put(x, BPF_LDX | BPF_MEM | BPF_H, R_LEN, R_MBUF, offsetof(struct rte_mbuf, data_off), 0);
	put(x, EBPF_ALU64 | BPF_ADD | BPF_X, R_DATA, R_LEN, 0, 0);
	put(x, BPF_LDX | BPF_MEM | BPF_H, R_LEN, R_MBUF, offsetof(struct rte_mbuf, data_len), 0);
	put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, 0);   /* libpcap starts with A = X = 0 */
	put(x, BPF_ALU | EBPF_MOV | BPF_K, R_X, 0, 0, 0);
}

/* The exits jumps go to (rte_bpf_load refuses unreachable code: only those used), then
 * the program's one `exit`. */
static void
emit_tail(struct xlat *x)
{
	/* Out of bounds: 0 when the first segment is the whole packet, else "slow". */
	x->start[x->n] = x->n_out;
	if (x->used[0]) {
		put(x, BPF_LDX | BPF_MEM | BPF_W, R_TMP, R_MBUF, offsetof(struct rte_mbuf, pkt_len), 0);
		put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, 0);
		put_jump(x, BPF_JMP | BPF_JEQ | BPF_X, R_TMP, R_LEN, 0, TGT_EXIT);
		put(x, EBPF_ALU64 | EBPF_MOV | BPF_K, R_A, 0, 0, -1);   /* BL_BPF_XLAT_SLOW */
		if (x->used[1])
			put_jump(x, BPF_JMP | BPF_JA, 0, 0, 0, TGT_EXIT);
	}
	/* Reject (A / 0). */
	x->start[x->n + 1] = x->n_out;
	if (x->used[1])
		put(x, BPF_ALU | EBPF_MOV | BPF_K, R_A, 0, 0, 0);
	x->start[x->n + 2] = x->n_out;
	put(x, BPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
}

static int
patch_jumps(struct xlat *x)
{
	for (uint32_t j = 0; j < x->n_out; j++) {
		uint32_t t = x->target[j], at;
		int64_t off;

		if (t == 0)
			continue;   /* not a jump, or one with its offset set (cBPF jumps go forward: t >= 1) */
		at = t == TGT_OOB ? x->start[x->n] : t == TGT_REJECT ? x->start[x->n + 1] :
		     t == TGT_EXIT ? x->start[x->n + 2] : x->start[t];
		off = (int64_t)at - ((int64_t)j + 1);
		if (off < 0 || off > INT16_MAX)
			return bl_err_set(x->err, -EINVAL, "the program is too long to translate "
					  "(an eBPF jump of %lld instructions)", (long long)off);
		x->out[j].off = (int16_t)off;
	}
	return 0;
}

int
bl_bpf_xlat(const struct bpf_insn *in, uint32_t n, struct ebpf_insn **out, uint32_t *n_out,
	    struct bl_err *err)
{
	struct xlat x = { .in = in, .n = n, .err = err };
	uint32_t cap;
	int rc = -ENOMEM;

	if (in == NULL || out == NULL || n_out == NULL)
		return bl_err_set(err, -EINVAL, "bl_bpf_xlat: in, out and n_out are required");
	if (n == 0 || n > BL_BPF_XLAT_MAX_INSNS)
		return bl_err_set(err, -EINVAL, "the cBPF program has %u instructions (1 to %u)", n,
				  BL_BPF_XLAT_MAX_INSNS);
	for (uint32_t i = 0; i < n; i++)
		if ((rc = check_one(&x, i)) < 0)
			return rc;
	if (BPF_CLASS(in[n - 1].code) != BPF_RET)
		return refuse(&x, n - 1, "the last instruction is not a return");

	cap = n * MAX_PER_INSN + TAIL_INSNS + 8;
	x.out = malloc(cap * sizeof(*x.out));
	x.target = malloc(cap * sizeof(*x.target));
	x.start = malloc((n + 3) * sizeof(*x.start));
	x.must = malloc(n * sizeof(*x.must));
	x.known = malloc(n * sizeof(*x.known));
	x.mem = malloc(n * sizeof(*x.mem));
	rc = -ENOMEM;
	if (x.out == NULL || x.target == NULL || x.start == NULL || x.must == NULL || x.known == NULL ||
	    x.mem == NULL) {
		bl_err_set(err, -ENOMEM, "out of memory translating the cBPF program");
		goto out;
	}
	compute_must(&x);
	memset(x.known, 0xff, n * sizeof(*x.known));
	x.known[0] = 0;
	x.mem[0] = 0;
	emit_prologue(&x);
	for (uint32_t i = 0; i < n; i++) {
		x.start[i] = x.n_out;
		if (x.known[i] == UINT32_MAX)
			continue;   /* unreachable */
		if ((rc = emit_one(&x, i)) < 0)
			goto out;
	}
	emit_tail(&x);
	if ((rc = patch_jumps(&x)) < 0)
		goto out;
	*out = x.out;
	*n_out = x.n_out;
	x.out = NULL;
	rc = 0;
out:
	free(x.out);
	free(x.target);
	free(x.start);
	free(x.must);
	free(x.known);
	free(x.mem);
	return rc;
}

int
bl_bpf_xlat_load(const struct bpf_insn *in, uint32_t n, struct rte_bpf **prog,
		 uint64_t (**jit)(void *ctx), struct bl_err *err)
{
	struct rte_bpf_prm prm = { 0 };
	struct rte_bpf_jit j = { 0 };
	struct ebpf_insn *ins;
	uint32_t n_ins;
	int rc;

	if (prog == NULL || jit == NULL)
		return bl_err_set(err, -EINVAL, "bl_bpf_xlat_load: prog and jit are required");
	if ((rc = bl_bpf_xlat(in, n, &ins, &n_ins, err)) < 0)
		return rc;
	prm.ins = ins;
	prm.nb_ins = n_ins;
	prm.prog_arg.type = RTE_BPF_ARG_PTR_MBUF;
	prm.prog_arg.size = sizeof(struct rte_mbuf);
	/*
	 * rte_bpf_load's checker sees packet loads as loads through buf_addr
	 * (data_off a constant) and wants every offset bounded by this size.
	 * It cannot relate an offset to data_len; the translation checks every
	 * load against data_len itself, so the size only has to exceed any
	 * offset the checker can derive (X + k + 4 < 2^33, plus the headroom).
	 */
	prm.prog_arg.buf_size = (size_t)1 << 40;
	*prog = rte_bpf_load(&prm);
	free(ins);
	if (*prog == NULL)
		return bl_err_set(err, -rte_errno, "the translated eBPF program did not load: %s",
				  rte_strerror(rte_errno));
	*jit = NULL;
	if (rte_bpf_get_jit(*prog, &j) == 0 && j.func != NULL)
		*jit = j.func;
	return 0;
}
