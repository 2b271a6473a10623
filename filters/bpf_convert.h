/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_convert — a cBPF program as DPDK converts it (rte_bpf_convert), with two
 * DPDK 22.11 defects repaired, loaded over an mbuf (its loads are LD_ABS and
 * LD_IND, which read across segments). filters/bpf.c runs it only for the
 * chained packets the translated program (bpf_xlat.h) cannot decide from the
 * first segment.
 */
#ifndef BL_BPF_CONVERT_H
#define BL_BPF_CONVERT_H

#include <stdint.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>

#include "bl_err.h"

/* Convert, repair and load: *prog (rte_bpf_destroy it) and its JIT function
 * in *jit, or NULL (interpret). EAL must be up (rte_bpf_convert uses rte_malloc).
 * 0 or -errno, err filled. */
int bl_bpf_convert_load(const struct bpf_program *fcode, struct rte_bpf **prog,
			uint64_t (**jit)(void *ctx), struct bl_err *err);

#endif /* BL_BPF_CONVERT_H */
