/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_cmp A B — do two captures hold the same packets, byte for byte, in
 * the same order? Timestamps and the recorded (wire) length are ignored:
 * what is compared is every captured byte. Exit 0 when identical, 1 with
 * the first difference named, 2 on a usage or read error.
 * With -s it prints A's packet count, largest captured length and captured bytes.
 */
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

static pcap_t *
open_or_die(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (p == NULL)
		fprintf(stderr, "pcap_cmp: %s: %s\n", path, errbuf);
	return p;
}

int
main(int argc, char **argv)
{
	struct pcap_pkthdr *ha, *hb;
	const u_char *da, *db;
	unsigned long n = 0, maxlen = 0, total = 0;
	pcap_t *a, *b;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		if ((a = open_or_die(argv[2])) == NULL)
			return 2;
		while (pcap_next_ex(a, &ha, &da) == 1) {
			n++;
			total += ha->caplen;
			if (ha->caplen > maxlen)
				maxlen = ha->caplen;
		}
		printf("%lu %lu %lu\n", n, maxlen, total);
		pcap_close(a);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: pcap_cmp A B | pcap_cmp -s A\n");
		return 2;
	}
	if ((a = open_or_die(argv[1])) == NULL || (b = open_or_die(argv[2])) == NULL)
		return 2;
	for (;;) {
		int ra = pcap_next_ex(a, &ha, &da), rb = pcap_next_ex(b, &hb, &db);
		if (ra != 1 || rb != 1) {
			if (ra == rb) {
				printf("%lu packets identical\n", n);
				return 0;
			}
			printf("packet %lu: only in %s\n", n + 1, ra == 1 ? argv[1] : argv[2]);
			return 1;
		}
		n++;
		if (ha->caplen != hb->caplen) {
			printf("packet %lu: %u bytes in %s, %u in %s\n", n, ha->caplen, argv[1], hb->caplen, argv[2]);
			return 1;
		}
		if (memcmp(da, db, ha->caplen) != 0) {
			for (unsigned int i = 0; i < ha->caplen; i++)
				if (da[i] != db[i]) {
					printf("packet %lu: byte %u differs (0x%02x vs 0x%02x)\n", n, i, da[i], db[i]);
					break;
				}
			return 1;
		}
	}
}
