/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_eal — EAL for the harnesses that need it (classifiers, the control
 * server): up once per process, no PCI, no hugepages, no shared config, a
 * file prefix of its own whose runtime folder is removed at exit; one small
 * pktmbuf pool; mbufs over heap buffers of exactly a segment's length, so
 * ASan sees a read past a segment's end.
 */
#ifndef BL_FUZZ_EAL_H
#define BL_FUZZ_EAL_H

#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;

/* Bring EAL and the pool up (aborts if it cannot). */
struct rte_mempool *fuzz_eal(void);

/* An mbuf whose data is a heap copy of exactly len bytes; NULL when out of mbufs. */
struct rte_mbuf *fuzz_mbuf_exact(const void *data, uint32_t len);

#endif /* BL_FUZZ_EAL_H */
