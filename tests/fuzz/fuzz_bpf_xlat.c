/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_bpf_xlat — the cBPF -> eBPF translator (filters/bpf_xlat.c) against
 * libpcap's own interpreter, bpf_filter, on the same program and packet. No
 * EAL: rte_bpf_load and the JIT need none.
 *
 * Input:  u8 flags | u8 n | n * 8 bytes of cBPF (code u16 LE, jt, jf, k u32 LE)
 *         | u16 cut (big-endian) | the packet (the rest)
 *   flags bit 0: the packet is "chained": the first segment holds only its
 *   first `cut % (len + 1)` bytes and pkt_len says the whole length.
 * Oracles:
 *   - a refusal is -EINVAL with a reason, and returns no program;
 *   - a program the translator accepts, rte_bpf_load loads;
 *   - when libpcap's bpf_validate accepts it too: the JIT and rte_bpf's
 *     interpreter return exactly bpf_filter's verdict on a packet in one
 *     segment (in a heap buffer of exactly its length: ASan sees any read
 *     past it), and on a chained packet either that verdict or
 *     BL_BPF_XLAT_SLOW (never a wrong answer from a partial packet).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_mbuf.h>

#include "bpf_xlat.h"
#include "fuzz.h"

#define MAX_INSNS 256

static uint64_t
run(struct rte_bpf *bpf, uint64_t (*jit)(void *), struct rte_mbuf *m, const char *what)
{
	uint64_t e = rte_bpf_exec(bpf, m);

	if (jit != NULL) {
		uint64_t j = jit(m);
		FUZZ_CHECK(j == e, "%s: JIT %#llx, interpreter %#llx", what, (unsigned long long)j,
			   (unsigned long long)e);
	}
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpf_insn ins[MAX_INSNS];
	struct ebpf_insn *out = NULL;
	struct bl_err err = { 0 };
	struct rte_bpf *bpf = NULL;
	uint64_t (*jit)(void *) = NULL;
	struct rte_mbuf m;
	uint32_t flags, n, n_out, cut, len;
	uint8_t *pkt;
	u_int ref;
	int rc;

	if (size < 2)
		return 0;
	flags = fuzz_take(&data, &size, 1);
	n = fuzz_take(&data, &size, 1);
	if (n == 0 || n > MAX_INSNS || size < 8u * n)
		return 0;
	for (uint32_t i = 0; i < n; i++, data += 8, size -= 8) {
		ins[i].code = (uint16_t)(data[0] | data[1] << 8);
		ins[i].jt = data[2];
		ins[i].jf = data[3];
		ins[i].k = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 |
			   (uint32_t)data[7] << 24;
	}
	cut = fuzz_take(&data, &size, 2);
	len = (uint32_t)size;
	if (len > UINT16_MAX)
		return 0;

	rc = bl_bpf_xlat(ins, n, &out, &n_out, &err);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
		FUZZ_CHECK(out == NULL, "a refusal returned a program");
		FUZZ_CHECK(err.msg[0] != '\0', "a refusal without a reason");
		return 0;
	}
	FUZZ_CHECK(out != NULL && n_out > 0, "no program");
	free(out);
	rc = bl_bpf_xlat_load(ins, n, &bpf, &jit, &err);
	FUZZ_CHECK(rc == 0, "translated, but it does not load: %d %s", rc, err.msg);
	if (!bpf_validate(ins, (int)n))
		goto done;   /* libpcap's interpreter is no reference for what it refuses */

	pkt = malloc(len != 0 ? len : 1);
	if (pkt == NULL)
		goto done;
	memcpy(pkt, data, len);
	ref = bpf_filter(ins, pkt, len, len);
	memset(&m, 0, sizeof(m));
	m.buf_addr = pkt;
	m.data_off = 0;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.nb_segs = 1;
	uint64_t got = run(bpf, jit, &m, "one segment");
	FUZZ_CHECK(got == ref, "one segment of %u bytes: %#llx, libpcap %#x", len,
		   (unsigned long long)got, ref);
	if (flags & 1) {
		uint32_t first = cut % (len + 1);
		uint8_t *seg = malloc(first != 0 ? first : 1);   /* exactly the first segment */

		if (seg != NULL) {
			memcpy(seg, pkt, first);
			m.buf_addr = seg;
			m.data_len = (uint16_t)first;
			m.nb_segs = first < len ? 2 : 1;
			got = run(bpf, jit, &m, "chained");
			FUZZ_CHECK(got == ref || (first < len && got == BL_BPF_XLAT_SLOW),
				   "first segment %u of %u bytes: %#llx, libpcap %#x", first, len,
				   (unsigned long long)got, ref);
			free(seg);
		}
	}
	free(pkt);
done:
	rte_bpf_destroy(bpf);
	return 0;
}
