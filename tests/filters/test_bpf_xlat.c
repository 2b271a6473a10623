/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_xlat: the cBPF -> eBPF translation, against libpcap's own interpreter
 * (bpf_filter) as the reference, instruction class by instruction class, at
 * the end of the packet, and on random programs; what it refuses; and the
 * bpf filter on chained packets (the slow path).
 *
 * Packets sit at the very end of a page followed by an inaccessible page:
 * a load one byte past the end crashes the test instead of reading.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_mbuf.h>

#include "bl_mbuf_meta.h"
#include "bpf_xlat.h"
#include "harness.h"

TestSuite(bpf_xlat, .timeout = 60);

#define S(code, k)             { (uint16_t)(code), 0, 0, (uint32_t)(k) }
#define J(code, k, jt, jf)     { (uint16_t)(code), (uint8_t)(jt), (uint8_t)(jf), (uint32_t)(k) }
#define N(a)                   ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* ---- a packet at the end of a page ---------------------------------------- */

static uint8_t *page;   /* two pages: the second PROT_NONE */
static size_t page_sz;

static void
guard_init(void)
{
	if (page != NULL)
		return;
	page_sz = (size_t)sysconf(_SC_PAGESIZE);
	page = mmap(NULL, 2 * page_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(page != MAP_FAILED);
	cr_assert(eq(int, mprotect(page + page_sz, page_sz, PROT_NONE), 0));
}

/* A one-segment mbuf (only the fields the program reads) over len bytes that end the page. */
static struct rte_mbuf *
guard_mbuf(struct rte_mbuf *m, const uint8_t *data, uint32_t len)
{
	uint8_t *at;

	guard_init();
	cr_assert(len <= 2048);
	at = page + page_sz - len;
	memcpy(at, data, len);
	memset(m, 0, sizeof(*m));
	m->buf_addr = at - 64;
	m->data_off = 64;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->nb_segs = 1;
	return m;
}

/* ---- running a program both ways ------------------------------------------ */

struct prog {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *ctx);
};

static void
load(struct prog *p, const struct bpf_insn *ins, uint32_t n)
{
	struct bl_err err = { 0 };
	int rc = bl_bpf_xlat_load(ins, n, &p->bpf, &p->jit, &err);

	cr_assert(eq(int, rc, 0), "load: %s", err.msg);
	cr_assert(p->jit != NULL, "the x86 JIT compiled it");
}

/* Our value (JIT and interpreter agree) next to libpcap's, for data[0..len). */
static void
same_as_libpcap(const struct prog *p, const struct bpf_insn *ins, const uint8_t *data, uint32_t len,
		const char *what)
{
	struct rte_mbuf m;
	uint64_t j, e;
	u_int ref;

	guard_mbuf(&m, data, len);
	ref = bpf_filter(ins, page + page_sz - len, len, len);
	j = p->jit(&m);
	e = rte_bpf_exec(p->bpf, &m);
	cr_assert(eq(u64, j, (uint64_t)ref), "%s, len %u: JIT %#llx, libpcap %#x", what, len,
		  (unsigned long long)j, ref);
	cr_assert(eq(u64, e, (uint64_t)ref), "%s, len %u: interpreter %#llx, libpcap %#x", what, len,
		  (unsigned long long)e, ref);
}

/* The program on every packet length 0..max of a fixed pattern. */
static void
every_length(const struct bpf_insn *ins, uint32_t n, uint32_t max, const char *what)
{
	uint8_t b[2048];
	struct prog p;

	for (uint32_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	load(&p, ins, n);
	for (uint32_t len = 0; len <= max; len++)
		same_as_libpcap(&p, ins, b, len, what);
	rte_bpf_destroy(p.bpf);
}

/* ---- instruction classes ---------------------------------------------------- */

Test(bpf_xlat, loads_absolute_every_size_at_and_past_the_end)
{
	const struct bpf_insn w[] = { S(BPF_LD | BPF_W | BPF_ABS, 10), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn h[] = { S(BPF_LD | BPF_H | BPF_ABS, 10), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn b[] = { S(BPF_LD | BPF_B | BPF_ABS, 10), S(BPF_RET | BPF_A, 0) };
	/* Two loads: the check for the larger one comes first and covers both. */
	const struct bpf_insn two[] = { S(BPF_LD | BPF_B | BPF_ABS, 3), S(BPF_LD | BPF_W | BPF_ABS, 20),
					S(BPF_RET | BPF_A, 0) };
	/* Past 64 KiB: never fits. */
	const struct bpf_insn huge[] = { S(BPF_LD | BPF_W | BPF_ABS, 0xfffffffe), S(BPF_RET | BPF_A, 0) };

	every_length(w, N(w), 20, "ld [10]");
	every_length(h, N(h), 20, "ldh [10]");
	every_length(b, N(b), 20, "ldb [10]");
	every_length(two, N(two), 30, "ldb [3]; ld [20]");
	every_length(huge, N(huge), 8, "ld [0xfffffffe]");
}

Test(bpf_xlat, loads_past_a_16_bit_displacement)
{
	const struct bpf_insn far[] = { S(BPF_LD | BPF_H | BPF_ABS, 40000), S(BPF_RET | BPF_A, 0) };
	static uint8_t big[40002];
	struct rte_mbuf m;
	struct prog p;

	memset(&m, 0, sizeof(m));
	big[40000] = 0x12;
	big[40001] = 0x34;
	load(&p, far, N(far));
	m.buf_addr = big;
	m.nb_segs = 1;
	for (uint32_t len = 40001; len <= 40002; len++) {
		m.data_len = m.pkt_len = (uint16_t)len;
		cr_assert(eq(u64, p.jit(&m), bpf_filter(far, big, len, len)), "len %u", len);
	}
	cr_assert(eq(u64, p.jit(&m), 0x1234));
	rte_bpf_destroy(p.bpf);
}

Test(bpf_xlat, loads_indexed_with_x_near_the_end)
{
	for (uint32_t x = 0; x < 24; x++) {
		const struct bpf_insn w[] = { S(BPF_LDX | BPF_W | BPF_IMM, x), S(BPF_LD | BPF_W | BPF_IND, 2),
					      S(BPF_RET | BPF_A, 0) };
		const struct bpf_insn h[] = { S(BPF_LDX | BPF_W | BPF_IMM, x), S(BPF_LD | BPF_H | BPF_IND, 2),
					      S(BPF_RET | BPF_A, 0) };
		const struct bpf_insn b[] = { S(BPF_LDX | BPF_W | BPF_IMM, x), S(BPF_LD | BPF_B | BPF_IND, 2),
					      S(BPF_RET | BPF_A, 0) };
		every_length(w, N(w), 30, "ld [x + 2]");
		every_length(h, N(h), 30, "ldh [x + 2]");
		every_length(b, N(b), 30, "ldb [x + 2]");
	}
	/* X so large that X + k wraps 32 bits: libpcap rejects, so must we. */
	const struct bpf_insn wrap[] = { S(BPF_LDX | BPF_W | BPF_IMM, 0xfffffffe), S(BPF_LD | BPF_B | BPF_IND, 4),
					 S(BPF_RET | BPF_K, 1) };
	const struct bpf_insn bigk[] = { S(BPF_LDX | BPF_W | BPF_IMM, 0), S(BPF_LD | BPF_B | BPF_IND, 0x80000000),
					 S(BPF_RET | BPF_K, 1) };
	every_length(wrap, N(wrap), 16, "ldb [x + 4], x = 0xfffffffe");
	every_length(bigk, N(bigk), 16, "ldb [x + 0x80000000]");
}

Test(bpf_xlat, msh_len_imm_mem_and_misc)
{
	/* X = 4 * (P[14] & 0xf); A = P[X + 14]: the IPv4 header length idiom */
	const struct bpf_insn msh[] = { S(BPF_LDX | BPF_B | BPF_MSH, 14), S(BPF_LD | BPF_B | BPF_IND, 14),
					S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn len[] = { S(BPF_LD | BPF_W | BPF_LEN, 0), S(BPF_LDX | BPF_W | BPF_LEN, 0),
					S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn mem[] = {
		S(BPF_LD | BPF_IMM, 0x12345678), S(BPF_ST, 15), S(BPF_LDX | BPF_IMM, 0x9abcdef0), S(BPF_STX, 0),
		S(BPF_LD | BPF_MEM, 0), S(BPF_LDX | BPF_MEM, 15), S(BPF_ALU | BPF_SUB | BPF_X, 0),
		S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_IMM, 1), S(BPF_MISC | BPF_TXA, 0),
		S(BPF_RET | BPF_A, 0) };

	every_length(msh, N(msh), 80, "ldxb 4*([14]&0xf); ldb [x + 14]");
	every_length(len, N(len), 8, "len + len");
	every_length(mem, N(mem), 2, "st, stx, ld M[], ldx M[], tax, txa");
}

static void
alu_both_ways(uint16_t op, uint32_t a, uint32_t k)
{
	const struct bpf_insn viak[] = { S(BPF_LD | BPF_IMM, a), S(BPF_ALU | op | BPF_K, k), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn viax[] = { S(BPF_LD | BPF_IMM, a), S(BPF_LDX | BPF_IMM, k),
					 S(BPF_ALU | op | BPF_X, 0), S(BPF_RET | BPF_A, 0) };
	char what[96];

	snprintf(what, sizeof(what), "alu op 0x%02x: %#x, %#x", op, a, k);
	if (!((op == BPF_DIV || op == BPF_MOD) && k == 0) && !((op == BPF_LSH || op == BPF_RSH) && k >= 32))
		every_length(viak, N(viak), 0, what);
	every_length(viax, N(viax), 0, what);
}

Test(bpf_xlat, alu_every_operation)
{
	static const uint16_t ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
					BPF_RSH, BPF_MOD, BPF_XOR };
	static const uint32_t vals[] = { 0, 1, 2, 7, 31, 32, 33, 63, 64, 127, 128, 255, 0x7fffffff,
					 0x80000000, 0xfffffff0, 0xffffffff };

	for (unsigned int o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			for (unsigned int j = 0; j < sizeof(vals) / sizeof(vals[0]); j += 3)
				alu_both_ways(ops[o], vals[i], vals[j]);
	const struct bpf_insn neg[] = { S(BPF_LD | BPF_IMM, 5), S(BPF_ALU | BPF_NEG, 0), S(BPF_RET | BPF_A, 0) };
	every_length(neg, N(neg), 0, "neg");
}

Test(bpf_xlat, division_by_zero_returns_0)
{
	const struct bpf_insn div[] = { S(BPF_LD | BPF_IMM, 100), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_DIV | BPF_X, 0),
					S(BPF_RET | BPF_K, 7) };
	const struct bpf_insn mod[] = { S(BPF_LD | BPF_IMM, 100), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_MOD | BPF_X, 0),
					S(BPF_RET | BPF_K, 7) };
	struct prog p;
	struct rte_mbuf m;
	uint8_t b[4] = { 0 };

	every_length(div, N(div), 4, "div x, x = 0");
	every_length(mod, N(mod), 4, "mod x, x = 0");
	load(&p, div, N(div));
	cr_assert(eq(u64, p.jit(guard_mbuf(&m, b, sizeof(b))), 0));
	rte_bpf_destroy(p.bpf);
}

static void
jumps_for(uint16_t op, uint32_t a, uint32_t k)
{
	/* jt and jf both taken somewhere, and each way of laying them out */
	const struct bpf_insn lay[][5] = {
		{ S(BPF_LD | BPF_IMM, a), J(BPF_JMP | op | BPF_K, k, 1, 0), S(BPF_RET | BPF_K, 10),
		  S(BPF_RET | BPF_K, 20) },
		{ S(BPF_LD | BPF_IMM, a), J(BPF_JMP | op | BPF_K, k, 0, 1), S(BPF_RET | BPF_K, 10),
		  S(BPF_RET | BPF_K, 20) },
		{ S(BPF_LD | BPF_IMM, a), S(BPF_LDX | BPF_IMM, k), J(BPF_JMP | op | BPF_X, 0, 1, 0),
		  S(BPF_RET | BPF_K, 10), S(BPF_RET | BPF_K, 20) },
		{ S(BPF_LD | BPF_IMM, a), S(BPF_LDX | BPF_IMM, k), J(BPF_JMP | op | BPF_X, 0, 0, 1),
		  S(BPF_RET | BPF_K, 10), S(BPF_RET | BPF_K, 20) },
		{ S(BPF_LD | BPF_IMM, a), J(BPF_JMP | op | BPF_K, k, 1, 2), S(BPF_RET | BPF_K, 10),
		  S(BPF_RET | BPF_K, 20), S(BPF_RET | BPF_K, 30) },
	};
	char what[96];

	snprintf(what, sizeof(what), "jump op 0x%02x: %#x, %#x", op, a, k);
	every_length(lay[0], 4, 0, what);
	every_length(lay[1], 4, 0, what);
	every_length(lay[2], 5, 0, what);
	every_length(lay[3], 5, 0, what);
	every_length(lay[4], 5, 0, what);
}

Test(bpf_xlat, jumps_every_condition_with_large_and_small_constants)
{
	static const uint16_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	/* small ones (the x86 JIT's imm8 forms: jset's is broken in DPDK 22.11) and >= 2^31 ones */
	static const uint32_t vals[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x1fff, 0x7fffffff, 0x80000000,
					 0xc0a80000, 0xfffffffe, 0xffffffff };

	for (unsigned int o = 0; o < 4; o++)
		for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			for (unsigned int j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
				jumps_for(ops[o], vals[i], vals[j]);
	const struct bpf_insn ja[] = { S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 2) };
	every_length(ja, N(ja), 0, "ja");
}

/* ---- random programs ---------------------------------------------------------- */

static uint32_t rnd_state = 12345;

static uint32_t
rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static uint32_t
rnd_val(void)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 4, 14, 31, 32, 0x80000000, 0xffffffff };
	return rnd(3) == 0 ? rnd_state : v[rnd(10)];
}

/* A random valid program of n instructions: M[0..3] stored first, forward jumps only. */
static uint32_t
random_program(struct bpf_insn *p, uint32_t n)
{
	static const uint16_t alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
					BPF_RSH, BPF_MOD, BPF_XOR, BPF_NEG };
	static const uint16_t jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	static const uint16_t sz[] = { BPF_W, BPF_H, BPF_B };
	uint32_t i = 0;

	for (uint32_t m = 0; m < 4; m++) {
		p[i++] = (struct bpf_insn)S(BPF_LD | BPF_IMM, rnd_val());
		p[i++] = (struct bpf_insn)S(BPF_ST, m);
	}
	for (; i < n - 1; i++) {
		uint32_t left = n - 1 - i - 1;   /* instructions after this one, before the last */
		uint16_t op;

		switch (rnd(12)) {
		case 0: p[i] = (struct bpf_insn)S(BPF_LD | sz[rnd(3)] | BPF_ABS, rnd(48)); break;
		case 1: p[i] = (struct bpf_insn)S(BPF_LD | sz[rnd(3)] | BPF_IND, rnd(24)); break;
		case 2: p[i] = (struct bpf_insn)S(BPF_LDX | BPF_B | BPF_MSH, rnd(40)); break;
		case 3: p[i] = (struct bpf_insn)S(BPF_LDX | BPF_IMM, rnd(2) ? rnd(40) : rnd_val()); break;
		case 4:
			switch (rnd(6)) {
			case 0: p[i] = (struct bpf_insn)S(BPF_LD | BPF_LEN, 0); break;
			case 1: p[i] = (struct bpf_insn)S(BPF_LDX | BPF_LEN, 0); break;
			case 2: p[i] = (struct bpf_insn)S(BPF_LD | BPF_MEM, rnd(4)); break;
			case 3: p[i] = (struct bpf_insn)S(BPF_LDX | BPF_MEM, rnd(4)); break;
			case 4: p[i] = (struct bpf_insn)S(BPF_ST, rnd(4)); break;
			default: p[i] = (struct bpf_insn)S(BPF_STX, rnd(4)); break;
			}
			break;
		case 5: case 6:
			op = alu[rnd(11)];
			if (op == BPF_NEG) {
				p[i] = (struct bpf_insn)S(BPF_ALU | BPF_NEG, 0);
			} else if (rnd(2)) {
				uint32_t k = rnd_val();
				if ((op == BPF_DIV || op == BPF_MOD) && k == 0)
					k = 3;
				if (op == BPF_LSH || op == BPF_RSH)
					k %= 32;
				p[i] = (struct bpf_insn)S(BPF_ALU | op | BPF_K, k);
			} else {
				p[i] = (struct bpf_insn)S(BPF_ALU | op | BPF_X, 0);
			}
			break;
		case 7: case 8: case 9:
			op = jmp[rnd(4)];
			p[i] = (struct bpf_insn)J(BPF_JMP | op | (rnd(2) ? BPF_X : BPF_K), rnd_val(),
						  rnd(RTE_MIN(left, 255u) + 1), rnd(RTE_MIN(left, 255u) + 1));
			break;
		case 10:
			p[i] = (struct bpf_insn)S(rnd(2) ? BPF_MISC | BPF_TAX : BPF_MISC | BPF_TXA, 0);
			break;
		default:
			if (rnd(3) == 0)
				p[i] = (struct bpf_insn)S(BPF_RET | BPF_K, rnd_val());
			else
				p[i] = (struct bpf_insn)S(BPF_JMP | BPF_JA, rnd(left + 1));
			break;
		}
	}
	p[i++] = (struct bpf_insn)S(BPF_RET | BPF_A, 0);
	return i;
}

Test(bpf_xlat, random_programs_agree_with_libpcap)
{
	struct bpf_insn p[64];
	uint8_t b[64];

	for (unsigned int t = 0; t < 4000; t++) {
		uint32_t n = random_program(p, 10 + rnd(50));
		struct prog pr;
		char what[32];

		snprintf(what, sizeof(what), "random program %u", t);
		load(&pr, p, n);
		for (unsigned int r = 0; r < 24; r++) {
			uint32_t len = rnd(65);
			for (uint32_t i = 0; i < len; i++)
				b[i] = (uint8_t)rnd(4) == 0 ? (uint8_t)rnd(8) : (uint8_t)rnd(256);
			same_as_libpcap(&pr, p, b, len, what);
		}
		rte_bpf_destroy(pr.bpf);
	}
}

/* ---- what it refuses ------------------------------------------------------------- */

static void
refused(const struct bpf_insn *ins, uint32_t n, const char *needle)
{
	struct ebpf_insn *out = NULL;
	uint32_t n_out = 0;
	struct bl_err err = { 0 };

	cr_assert(eq(int, bl_bpf_xlat(ins, n, &out, &n_out, &err), -EINVAL), "expected a refusal: %s", needle);
	cr_assert(out == NULL);
	cr_assert(strstr(err.msg, needle) != NULL, "\"%s\" does not say \"%s\"", err.msg, needle);
}

Test(bpf_xlat, refuses_malformed_and_unsupported_programs)
{
	const struct bpf_insn unknown[] = { S(0x0e, 0), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn dw[] = { S(BPF_LD | 0x18 | BPF_ABS, 0), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn past[] = { J(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn ja_past[] = { S(BPF_JMP | BPF_JA, 5), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn loop[] = { S(BPF_LD | BPF_IMM, 1), S(BPF_JMP | BPF_JA, 0xfffffffe), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn mem16[] = { S(BPF_ST, 16), S(BPF_RET | BPF_K, 0) };
	const struct bpf_insn no_ret[] = { S(BPF_LD | BPF_IMM, 1) };
	const struct bpf_insn div0[] = { S(BPF_ALU | BPF_DIV | BPF_K, 0), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn mod0[] = { S(BPF_ALU | BPF_MOD | BPF_K, 0), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn shift[] = { S(BPF_ALU | BPF_LSH | BPF_K, 32), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn unstored[] = { S(BPF_LD | BPF_MEM, 3), S(BPF_RET | BPF_A, 0) };
	/* M[1] stored on one path only */
	const struct bpf_insn one_path[] = { J(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), S(BPF_ST, 1),
					     S(BPF_LDX | BPF_MEM, 1), S(BPF_RET | BPF_A, 0) };
	const struct bpf_insn ret_x[] = { S(BPF_RET | BPF_X, 0) };
	const struct bpf_insn misc[] = { S(BPF_MISC | 0x40, 0), S(BPF_RET | BPF_K, 0) };
	struct bl_err err = { 0 };
	struct rte_bpf *prog;
	uint64_t (*jit)(void *);

	refused(unknown, N(unknown), "instruction 0 (code 0x0e");
	refused(dw, N(dw), "load size");
	refused(past, N(past), "jump past the end");
	refused(ja_past, N(ja_past), "jump past the end");
	refused(loop, N(loop), "instruction 1 (code 0x05, k 4294967294): a backward jump");
	refused(mem16, N(mem16), "scratch memory index");
	refused(no_ret, N(no_ret), "not a return");
	refused(div0, N(div0), "division by the constant 0");
	refused(mod0, N(mod0), "division by the constant 0");
	refused(shift, N(shift), "shift by a constant >= 32");
	refused(unstored, N(unstored), "before every path stores it");
	refused(one_path, N(one_path), "instruction 2");
	refused(ret_x, N(ret_x), "unsupported return");
	refused(misc, N(misc), "unsupported miscellaneous");
	refused(unstored, 0, "1 to 4096");
	cr_assert(eq(int, bl_bpf_xlat_load(unstored, N(unstored), &prog, &jit, &err), -EINVAL));
	cr_assert(strstr(err.msg, "M[k]") != NULL, "%s", err.msg);
}

/* ---- chained packets --------------------------------------------------------------- */

Test(bpf_xlat, chained_packets_ask_for_the_slow_path_only_when_needed)
{
	const struct bpf_insn ld20[] = { S(BPF_LD | BPF_B | BPF_ABS, 20), S(BPF_RET | BPF_A, 0) };
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rte_mbuf m;
	struct prog p;

	load(&p, ld20, N(ld20));
	guard_mbuf(&m, b, 8);
	cr_assert(eq(u64, p.jit(&m), 0), "8 bytes, one segment: rejected");
	m.pkt_len = 30;   /* as if more segments followed */
	cr_assert(eq(u64, p.jit(&m), BL_BPF_XLAT_SLOW));
	m.pkt_len = 8;
	const struct bpf_insn ld2[] = { S(BPF_LD | BPF_B | BPF_ABS, 2), S(BPF_RET | BPF_A, 0) };
	rte_bpf_destroy(p.bpf);
	load(&p, ld2, N(ld2));
	m.pkt_len = 30;
	cr_assert(eq(u64, p.jit(&m), 3), "decided from the first segment");
	rte_bpf_destroy(p.bpf);
}

/* The filter: a TCP port in the second segment is read there (the slow path), and counted. */
Test(bpf_xlat, filter_reads_the_second_segment_when_it_must)
{
	const struct pkt_spec s = { .proto = 6, .dport = 80, .payload = 20 };
	struct rte_mbuf *m = harness_pkt(&s), *a, *t;
	uint8_t b[256];
	uint32_t len = m->pkt_len;
	struct harness *h;

	memcpy(b, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	h = harness_new("bpf \"tcp dst port 80\"");
	cr_assert(h != NULL);
	a = harness_mbuf_exact(b, 30);   /* Ethernet and most of IPv4: the ports are in the second */
	t = harness_mbuf_exact(b + 30, len - 30);
	cr_assert(eq(int, rte_pktmbuf_chain(a, t), 0));
	harness_push(h, a);
	a = harness_mbuf_exact(b, len - 10);   /* the ports in the first, the payload's end in the second */
	t = harness_mbuf_exact(b + len - 10, 10);
	cr_assert(eq(int, rte_pktmbuf_chain(a, t), 0));
	harness_push(h, a);
	harness_run(h);
	cr_assert(eq(uint, harness_n_cls(h, NULL, 1), 2));
	cr_assert(eq(u64, harness_counter(h, "bpf", "slow"), 1));
	harness_free(h);
}

/* Every split of a packet into two segments gets libpcap's verdict on the whole packet,
 * whether the first segment decides it or the converted program (the slow path) does. */
Test(bpf_xlat, filter_agrees_with_libpcap_on_every_split)
{
	static const char *const exprs[] = {
		"tcp", "tcp dst port 80", "udp port 53", "ip[6:2] & 0x1fff != 0", "ether multicast",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x01020304",
		"ip[2:2] > 40 and ip[8] < 65", "not ip6 and (tcp or udp)", "len > 60",
	};
	const struct pkt_spec specs[] = {
		{ .proto = 6, .dport = 80, .payload = 24 },
		{ .proto = 17, .dport = 53, .payload = 12 },
		{ .proto = 6, .ihl = 7, .tcp_doff = 8, .sport = 80, .payload = 8 },
	};

	for (unsigned int e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		pcap_t *pc = pcap_open_dead(DLT_EN10MB, 262144);
		struct bpf_program prog;
		char text[256];

		cr_assert(pc != NULL && pcap_compile(pc, &prog, exprs[e], 1, PCAP_NETMASK_UNKNOWN) == 0);
		snprintf(text, sizeof(text), "bpf \"%s\"", exprs[e]);
		for (unsigned int s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
			struct rte_mbuf *m = harness_pkt(&specs[s]);
			uint32_t len = m->pkt_len;
			uint8_t b[256];
			struct harness *h = harness_new(text);

			cr_assert(h != NULL && len <= sizeof(b));
			memcpy(b, rte_pktmbuf_mtod(m, void *), len);
			rte_pktmbuf_free(m);
			b[len - 1] = 0x04;   /* some payload bytes the expressions look at */
			for (uint32_t cut = 1; cut < len; cut++) {
				struct rte_mbuf *a = harness_mbuf_exact(b, cut), *t = harness_mbuf_exact(b + cut, len - cut);
				cr_assert(eq(int, rte_pktmbuf_chain(a, t), 0));
				harness_push(h, a);
			}
			harness_run(h);
			cr_assert(eq(uint, harness_n(h, NULL), len - 1));
			uint32_t want = bpf_filter(prog.bf_insns, b, len, len) != 0;
			for (uint32_t i = 0; i < len - 1; i++)
				cr_assert(eq(u32, harness_got_cls(h, NULL, i), want), "%s, packet %u cut at %u",
					  exprs[e], s, i + 1);
			harness_free(h);
		}
		pcap_freecode(&prog);
		pcap_close(pc);
	}
}

/* `len`, `less` and `greater` read the wire length, as libpcap does: a replayed record's
 * (bl_mbuf_meta.h) when the mbuf carries one, else pkt_len; on the fast path (the
 * translated program) and the slow one (the converted program, chained packets). */
static unsigned int
wire_len_verdicts(const char *expr, uint32_t cut, uint32_t wire, uint64_t *slow)
{
	const struct pkt_spec s = { .proto = 6, .dport = 80, .payload = 20 };
	struct rte_mbuf *m = harness_pkt(&s), *a, *t;
	uint32_t len = m->pkt_len;
	uint8_t b[256];
	char text[128];
	struct harness *h;
	unsigned int n;

	memcpy(b, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	snprintf(text, sizeof(text), "bpf \"%s\"", expr);
	h = harness_new(text);   /* registers the record field */
	cr_assert(h != NULL);
	cr_assert(bl_mbuf_meta_off >= 0 && bl_mbuf_meta_flag != 0);
	for (int with = 0; with < 2; with++) {
		a = cut == 0 ? harness_mbuf_exact(b, len) : harness_mbuf_exact(b, cut);
		if (cut != 0) {
			t = harness_mbuf_exact(b + cut, len - cut);
			cr_assert(eq(int, rte_pktmbuf_chain(a, t), 0));
		}
		if (with)
			bl_mbuf_meta_set(a, 1, wire);
		harness_push(h, a);
	}
	harness_run(h);
	/* bit 0: the packet without a record passed; bit 1: the one with */
	n = harness_got_cls(h, NULL, 0) | harness_got_cls(h, NULL, 1) << 1;
	*slow = harness_counter(h, "bpf", "slow");
	harness_free(h);
	return n;
}

Test(bpf_xlat, len_reads_the_wire_length_of_a_replayed_record)
{
	uint64_t slow;

	/* fast path: one segment */
	cr_assert(eq(uint, wire_len_verdicts("greater 1000", 0, 1500, &slow), 2));
	cr_assert(eq(uint, wire_len_verdicts("len = 1500", 0, 1500, &slow), 2));
	cr_assert(eq(uint, wire_len_verdicts("less 100", 0, 1500, &slow), 1));
	cr_assert(eq(uint, wire_len_verdicts("len > 60 and len < 100", 0, 1500, &slow), 1));
	cr_assert(eq(u64, slow, 0));
	/* slow path: the ports in the second segment, so the converted program decides */
	cr_assert(eq(uint, wire_len_verdicts("tcp dst port 80 and greater 1000", 30, 1500, &slow), 2));
	cr_assert(eq(u64, slow, 2));
	cr_assert(eq(uint, wire_len_verdicts("tcp dst port 80 and less 100", 30, 1500, &slow), 1));
	cr_assert(eq(u64, slow, 2));
}

/* tcpdump -r compiles with a netmask of 0: so does bpf by default; netmask=unknown is
 * libpcap without one; a bad value names the key. */
Test(bpf_xlat, netmask_defaults_to_tcpdumps)
{
	struct bl_err err;
	struct harness *h = harness_new("bpf \"ip broadcast\"");

	cr_assert(h != NULL);
	harness_free(h);
	h = harness_new("bpf \"ip broadcast\" netmask=255.255.255.0");
	cr_assert(h != NULL);
	harness_free(h);
	cr_assert(eq(int, harness_try("bpf \"ip broadcast\" netmask=unknown", &err), -EINVAL));
	cr_assert(strstr(err.msg, "netmask") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("bpf \"ip\" netmask=255.255.0", &err), -EINVAL));
	cr_assert(strstr(err.msg, "netmask") != NULL, "%s", err.msg);
}
