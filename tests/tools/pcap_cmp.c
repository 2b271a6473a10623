/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_cmp A B — do two captures hold the same packets, byte for byte, in
 * the same order? Timestamps and the recorded (wire) length are ignored:
 * what is compared is every captured byte. Exit 0 when identical, 1 with
 * the first difference named, 2 on a usage or read error.
 * pcap_cmp -r A B compares whole records: time (to the microsecond),
 * captured length, wire length and bytes.
 * pcap_cmp -s A prints A's packet count, largest captured length and bytes.
 */
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

static pcap_t *
open_or_say(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (p == NULL)
		fprintf(stderr, "pcap_cmp: %s: %s\n", path, errbuf);
	return p;
}

static int
summary(pcap_t *a)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned long n = 0, maxlen = 0, total = 0;

	while (pcap_next_ex(a, &h, &d) == 1) {
		n++;
		total += h->caplen;
		if (h->caplen > maxlen)
			maxlen = h->caplen;
	}
	printf("%lu %lu %lu\n", n, maxlen, total);
	return 0;
}

static int
compare(pcap_t *a, pcap_t *b, const char *na, const char *nb, int records)
{
	struct pcap_pkthdr *ha, *hb;
	const u_char *da, *db;
	unsigned long n = 0;

	for (;;) {
		int ra = pcap_next_ex(a, &ha, &da), rb = pcap_next_ex(b, &hb, &db);
		if (ra != 1 || rb != 1) {
			if (ra == rb) {
				printf("%lu packets identical\n", n);
				return 0;
			}
			printf("packet %lu: only in %s\n", n + 1, ra == 1 ? na : nb);
			return 1;
		}
		n++;
		if (records && (ha->ts.tv_sec != hb->ts.tv_sec || ha->ts.tv_usec != hb->ts.tv_usec)) {
			printf("packet %lu: time %ld.%06ld in %s, %ld.%06ld in %s\n", n, (long)ha->ts.tv_sec,
			       (long)ha->ts.tv_usec, na, (long)hb->ts.tv_sec, (long)hb->ts.tv_usec, nb);
			return 1;
		}
		if (records && ha->len != hb->len) {
			printf("packet %lu: wire length %u in %s, %u in %s\n", n, ha->len, na, hb->len, nb);
			return 1;
		}
		if (ha->caplen != hb->caplen) {
			printf("packet %lu: %u bytes in %s, %u in %s\n", n, ha->caplen, na, hb->caplen, nb);
			return 1;
		}
		for (unsigned int i = 0; i < ha->caplen; i++)
			if (da[i] != db[i]) {
				printf("packet %lu: byte %u differs (0x%02x vs 0x%02x)\n", n, i, da[i], db[i]);
				return 1;
			}
	}
}

int
main(int argc, char **argv)
{
	pcap_t *a, *b;
	int rc, records = 0;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		if ((a = open_or_say(argv[2])) == NULL)
			return 2;
		rc = summary(a);
		pcap_close(a);
		return rc;
	}
	if (argc == 4 && strcmp(argv[1], "-r") == 0) {
		records = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: pcap_cmp [-r] A B | pcap_cmp -s A\n");
		return 2;
	}
	if ((a = open_or_say(argv[1])) == NULL)
		return 2;
	if ((b = open_or_say(argv[2])) == NULL) {
		pcap_close(a);
		return 2;
	}
	rc = compare(a, b, argv[1], argv[2], records);
	pcap_close(a);
	pcap_close(b);
	return rc;
}
