/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_xlat — classic BPF (what pcap_compile makes) translated into eBPF that
 * reads the packet straight from an mbuf's first segment, for rte_bpf's JIT.
 *
 * The translated program takes one argument, a `struct rte_mbuf *`, and
 * returns libpcap's verdict (the 32-bit value of the cBPF `ret`: 0 rejects),
 * or BL_BPF_XLAT_SLOW when it could not decide from the first segment: a
 * load reached past `data_len` in a packet whose `pkt_len` is longer (a
 * chain). The caller then decides that packet another way (filters/bpf.c
 * runs DPDK's own converted program, which reads across segments).
 *
 * What it emits, and why it is faster than rte_bpf_convert's output:
 *   - data = buf_addr + data_off and len = data_len are loaded once, up
 *     front; packet loads are plain memory loads from data (+ BPF_END for
 *     the byte order), not LD_ABS/LD_IND and their mbuf helper path;
 *   - absolute loads are checked against len once for the largest extent
 *     every path from that point must load anyway (a packet shorter than
 *     that is rejected by libpcap whichever way it goes), so most loads
 *     carry no check; each indexed load ([x + k]) is checked on its own;
 *   - a load past the end jumps to one exit: 0 (reject, as libpcap does)
 *     when the first segment is the whole packet, BL_BPF_XLAT_SLOW if not;
 *   - registers: A r0, the mbuf r1, data r2, len r3, X r4, scratch r5, and
 *     the scratch memory M[] on the stack (r10): r6-r9 are never used, so
 *     the x86 JIT saves no register and, without M[], builds no frame;
 *   - `A / X` and `A % X` with X == 0 return 0, and shifts by X >= 32 give
 *     0 (libpcap 1.10's answers);
 *   - no instruction carries an immediate the x86 JIT of DPDK 22.11
 *     mis-encodes: `jset` is always register-to-register (its TEST r/m64,
 *     imm32 gets a 1-byte immediate when imm fits in int8), shifts by a
 *     constant are < 32, and compares with a constant >= 2^31 (which eBPF
 *     sign-extends) go through a register loaded zero-extended; and the
 *     program has one `exit`, its last instruction, so that every jump is
 *     forward (the JIT turns further exits into jumps back to the first,
 *     and encodes one of -128 or -127 bytes with an overflowing 8-bit
 *     displacement).
 *
 * The program is checked first: every opcode known and supported, jumps
 * inside the program, M[k] with k < 16 and stored on every path before it
 * is read, no division by a constant 0, no constant shift >= 32, the last
 * instruction a `ret`. Anything else is refused with a sentence in err.
 */
#ifndef BL_BPF_XLAT_H
#define BL_BPF_XLAT_H

#include <stdint.h>

#include <pcap/bpf.h>
#include <rte_bpf.h>

#include "bl_err.h"

/* The verdict of a packet the first segment could not decide (any value
 * above UINT32_MAX means this; the program returns exactly this one). */
#define BL_BPF_XLAT_SLOW UINT64_MAX

/* Most instructions a cBPF program may have (libpcap's BPF_MAXINSNS). */
#define BL_BPF_XLAT_MAX_INSNS 4096

/*
 * Translate n cBPF instructions. On success *out is a malloc'ed eBPF
 * program of *n_out instructions (the caller frees it) and 0 is returned;
 * on failure -EINVAL (a program this refuses, err says which instruction and
 * why) or -ENOMEM.
 */
int bl_bpf_xlat(const struct bpf_insn *in, uint32_t n, struct ebpf_insn **out,
		uint32_t *n_out, struct bl_err *err);

/*
 * Translate and load: *prog gets the loaded program (rte_bpf_destroy it),
 * *jit its JIT-compiled function or NULL (then run it with rte_bpf_exec).
 * 0, or -EINVAL/-ENOMEM from bl_bpf_xlat, or -errno from rte_bpf_load.
 */
int bl_bpf_xlat_load(const struct bpf_insn *in, uint32_t n, struct rte_bpf **prog,
		     uint64_t (**jit)(void *ctx), struct bl_err *err);

#endif /* BL_BPF_XLAT_H */
