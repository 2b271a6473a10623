/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_net_frame — the network record decoder (client/net_frame.c): what
 * `beltline cat tcp://|tls://` trusts of a peer. The input is the byte stream a
 * peer sends: a hello, then records, decoded as src_net.c does, with the
 * sequence rule. Oracles: a decode takes no more bytes than it was given, a record's
 * data lies inside them with caplen <= snaplen <= 262144 and caplen <= len; a record
 * re-encoded gives back the bytes it was decoded from; sequence numbers accepted
 * strictly increase and the loss counted is exactly the sum of the gaps; feeding the
 * same bytes in two pieces decodes the same (a short buffer means "need more", never
 * a different answer). Also a udp:// subscribe of the first bytes (net_frame.h).
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "net_frame.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bln_hello h;
	const char *why = "";
	uint64_t last = 0, lost = 0, gaps = 0;
	int have = 0, rc;
	size_t at;
	volatile uint32_t sink = 0;

	/* a udp:// subscribe of the first 16 (or 8) bytes: version 2 re-encodes as it came,
	 * version 1 has no cookie */
	struct bln_sub u;
	for (size_t n = BLN_SUB_V1_LEN; n <= BLN_SUB_LEN && n <= size; n += 8)
		if (bln_get_sub(data, n, &u) == 0) {
			uint8_t sb[BLN_SUB_LEN];
			FUZZ_CHECK(u.op <= BLN_SUB_BYE, "subscribe op %u", u.op);
			bln_put_sub(sb, &u);
			FUZZ_CHECK(n == BLN_SUB_V1_LEN ? u.cookie == 0 : memcmp(sb, data, n) == 0,
				   "subscribe of %zu bytes does not re-encode", n);
		}
	rc = bln_get_hello(data, size, &h, &why);
	if (rc <= 0) {
		FUZZ_CHECK(rc == 0 || rc == -EPROTO, "hello: %d", rc);
		FUZZ_CHECK(rc == 0 || why[0] != '\0', "a refusal without a reason");
		return 0;
	}
	FUZZ_CHECK(rc == (int)BLN_HELLO_LEN, "hello took %d", rc);
	FUZZ_CHECK(h.snaplen >= 1 && h.snaplen <= BLN_MAX_CAPLEN && h.linktype <= 65535,
		   "hello: snaplen %u linktype %u", h.snaplen, h.linktype);
	uint8_t again[BLN_HELLO_LEN];
	bln_put_hello(again, &h);
	FUZZ_CHECK(memcmp(again, data, BLN_HELLO_LEN) == 0, "hello does not re-encode");
	at = BLN_HELLO_LEN;
	for (int i = 0; i < 100000 && at < size; i++) {
		struct bln_rec r, r2;
		uint8_t hdr[BLN_REC_HDR];
		long took = bln_get_rec(data + at, size - at, h.snaplen, &r, &why);

		if (took == 0)
			break;
		if (took < 0) {
			FUZZ_CHECK(took == -EPROTO && why[0] != '\0', "refusal %ld", took);
			break;
		}
		FUZZ_CHECK((size_t)took <= size - at, "took %ld of %zu", took, size - at);
		FUZZ_CHECK((size_t)took == BLN_REC_HDR + r.caplen, "took %ld, caplen %u", took,
			   r.caplen);
		FUZZ_CHECK(r.caplen <= h.snaplen && r.caplen <= r.len, "caplen %u snaplen %u len %u",
			   r.caplen, h.snaplen, r.len);
		FUZZ_CHECK(r.data == data + at + BLN_REC_HDR, "data outside");
		for (uint32_t k = 0; k < r.caplen; k++)
			sink += r.data[k];
		bln_put_rec_hdr(hdr, &r);
		FUZZ_CHECK(memcmp(hdr, data + at, BLN_REC_HDR) == 0, "record does not re-encode");
		/* one byte short: need more, never another answer */
		FUZZ_CHECK(bln_get_rec(data + at, (size_t)took - 1, h.snaplen, &r2, &why) == 0,
			   "a short buffer gave an answer");
		uint64_t before = last;
		int had = have;
		if (bln_seq_next(&r, have, &last, &lost, &why) < 0) {
			FUZZ_CHECK(had && (before == UINT64_MAX || r.seq <= before), "seq %llu after %llu"
				   " refused", (unsigned long long)r.seq, (unsigned long long)before);
			break;
		}
		if (had) {
			FUZZ_CHECK(r.seq > before, "seq %llu after %llu accepted",
				   (unsigned long long)r.seq, (unsigned long long)before);
			gaps += r.seq - before - 1;
		}
		FUZZ_CHECK(lost == gaps, "lost %llu, gaps %llu", (unsigned long long)lost,
			   (unsigned long long)gaps);
		at += (size_t)took;
		if (r.type == BLN_REC_END)
			break;
		have = 1;
	}
	(void)sink;
	return 0;
}
