/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seqcheck FILE N SEED MAX — the far side of inject_seq.sh: read a pcap (a file or
 * a FIFO net_pcap writes into) and check that it holds exactly frames 0..N-1 of
 * seqframe.h, in order: each one's sequence number, length (the one its seed
 * gives), length field and checksum. Prints "frames F bad B"; the first few bad
 * ones on stderr. Exit 0 when F == N and B == 0, 1 otherwise, 2 on a usage or read
 * error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

#include "seqframe.h"

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n, seed, f = 0, bad = 0;
	uint32_t max;
	pcap_t *p;
	int rc;

	if (argc != 5)
		return 2;
	n = strtoull(argv[2], NULL, 10);
	seed = strtoull(argv[3], NULL, 10);
	max = (uint32_t)strtoul(argv[4], NULL, 10);
	if (max < 64)
		return 2;
	p = pcap_open_offline(argv[1], errbuf);
	if (p == NULL) {
		fprintf(stderr, "seqcheck: %s: %s\n", argv[1], errbuf);
		return 2;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		uint32_t want = seqframe_len(seed, f, max), len = 0, sum;
		uint64_t s = UINT64_MAX;

		if (h->caplen >= 12) {
			memcpy(&s, d, 8);
			memcpy(&len, d + 8, 4);
		}
		if (h->caplen != want || h->len != want || s != f || len != want ||
		    (memcpy(&sum, d + want - 4, 4), sum) != seqframe_fnv(d, want - 4)) {
			if (bad++ < 5)
				fprintf(stderr, "seqcheck: record %" PRIu64 ": seq %" PRIu64 ", %u bytes "
					"(want %u), length field %u, checksum %s\n", f, s, h->caplen,
					want, len, h->caplen == want ? "checked" : "not checked");
		}
		f++;
	}
	if (rc == -1)
		fprintf(stderr, "seqcheck: %s: %s\n", argv[1], pcap_geterr(p));
	pcap_close(p);
	printf("frames %" PRIu64 " bad %" PRIu64 "\n", f, bad);
	return rc == -1 ? 2 : f == n && bad == 0 ? 0 : 1;
}
