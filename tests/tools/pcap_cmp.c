/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_cmp A B — do two captures hold the same packets, byte for byte, in
 * the same order? Timestamps and the recorded (wire) length are ignored:
 * what is compared is every captured byte. Exit 0 when identical, 1 with
 * the first difference named, 2 on a usage or read error.
 * pcap_cmp -r A B compares whole records: time (to the microsecond),
 * captured length, wire length and bytes.
 * pcap_cmp -s A prints A's packet count, largest captured length and bytes.
 * pcap_cmp [-r] -b compares many pairs in one process (a process start costs much
 * more than a comparison, under ASan most): one "A<TAB>B" per line on stdin,
 * one line per pair on stdout, the status then what `pcap_cmp A B` prints.
 * pcap_cmp -f CAPTURE DIR is `tcpdump -r CAPTURE -w DIR/refI.pcap EXPR` for many
 * expressions in one process (libpcap's pcap_compile with tcpdump -r's netmask of
 * 0 and optimiser on, then pcap_offline_filter: tcpdump's own filter engine, without
 * a process start per expression): one "I<TAB>EXPR" per line on stdin; an expression
 * libpcap rejects leaves its message in DIR/refI.err and I on a line of DIR/rejected.
 */
#include <stdarg.h>
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

/* What compare() says: on stdout, or after the status in batch mode. */
static char said[512];

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(said, sizeof(said), fmt, ap);
	va_end(ap);
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
				say("%lu packets identical", n);
				return 0;
			}
			say("packet %lu: only in %s", n + 1, ra == 1 ? na : nb);
			return 1;
		}
		n++;
		if (records && (ha->ts.tv_sec != hb->ts.tv_sec || ha->ts.tv_usec != hb->ts.tv_usec)) {
			say("packet %lu: time %ld.%06ld in %s, %ld.%06ld in %s", n, (long)ha->ts.tv_sec,
			       (long)ha->ts.tv_usec, na, (long)hb->ts.tv_sec, (long)hb->ts.tv_usec, nb);
			return 1;
		}
		if (records && ha->len != hb->len) {
			say("packet %lu: wire length %u in %s, %u in %s", n, ha->len, na, hb->len, nb);
			return 1;
		}
		if (ha->caplen != hb->caplen) {
			say("packet %lu: %u bytes in %s, %u in %s", n, ha->caplen, na, hb->caplen, nb);
			return 1;
		}
		for (unsigned int i = 0; i < ha->caplen; i++)
			if (da[i] != db[i]) {
				say("packet %lu: byte %u differs (0x%02x vs 0x%02x)", n, i, da[i], db[i]);
				return 1;
			}
	}
}

/* Compare the captures at paths na and nb: 0 same, 1 different, 2 unreadable. */
static int
compare_files(const char *na, const char *nb, int records)
{
	pcap_t *a, *b;
	int rc;

	if ((a = open_or_say(na)) == NULL) {
		say("cannot read %s", na);
		return 2;
	}
	if ((b = open_or_say(nb)) == NULL) {
		say("cannot read %s", nb);
		pcap_close(a);
		return 2;
	}
	rc = compare(a, b, na, nb, records);
	pcap_close(a);
	pcap_close(b);
	return rc;
}

static int
batch(int records)
{
	char line[2 * 4096 + 2];
	int worst = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
		int rc;

		if (nl != NULL)
			*nl = '\0';
		if (tab == NULL) {
			fprintf(stderr, "pcap_cmp -b: want A<TAB>B, got \"%s\"\n", line);
			return 2;
		}
		*tab = '\0';
		rc = compare_files(line, tab + 1, records);
		printf("%d %s\n", rc, said);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

/* One expression over the capture at cap into dir/refI.pcap. 0, 1 rejected, 2 error. */
static int
filter_one(const char *cap, const char *dir, const char *i, const char *expr)
{
	char path[4096];
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_dumper_t *out;
	pcap_t *p = open_or_say(cap);
	FILE *f;

	if (p == NULL)
		return 2;
	if (pcap_compile(p, &prog, expr, 1, 0) < 0) {
		snprintf(path, sizeof(path), "%s/ref%s.err", dir, i);
		if ((f = fopen(path, "w")) != NULL) {
			fprintf(f, "pcap_compile: %s\n", pcap_geterr(p));
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/rejected", dir);
		pcap_close(p);
		if ((f = fopen(path, "a")) == NULL)
			return 2;
		fprintf(f, "%s\n", i);
		return fclose(f) == 0 ? 1 : 2;
	}
	snprintf(path, sizeof(path), "%s/ref%s.pcap", dir, i);
	if ((out = pcap_dump_open(p, path)) == NULL) {
		fprintf(stderr, "pcap_cmp: %s: %s\n", path, pcap_geterr(p));
		pcap_freecode(&prog);
		pcap_close(p);
		return 2;
	}
	while (pcap_next_ex(p, &h, &d) == 1)
		if (pcap_offline_filter(&prog, h, d) != 0)
			pcap_dump((u_char *)out, h, d);
	pcap_dump_close(out);
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
}

static int
filter_many(const char *cap, const char *dir)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (tab == NULL) {
			fprintf(stderr, "pcap_cmp -f: want I<TAB>EXPR, got \"%s\"\n", line);
			return 2;
		}
		*tab = '\0';
		if (filter_one(cap, dir, line, tab + 1) == 2)
			return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	pcap_t *a;
	int rc, records = 0;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		if ((a = open_or_say(argv[2])) == NULL)
			return 2;
		rc = summary(a);
		pcap_close(a);
		return rc;
	}
	if (argc == 4 && strcmp(argv[1], "-f") == 0)
		return filter_many(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "-r") == 0) {
		records = 1;
		argv++;
		argc--;
	}
	if (argc == 2 && strcmp(argv[1], "-b") == 0)
		return batch(records);
	if (argc != 3) {
		fprintf(stderr, "usage: pcap_cmp [-r] A B | pcap_cmp [-r] -b < PAIRS | pcap_cmp -s A | "
			"pcap_cmp -f CAPTURE DIR < EXPRS\n");
		return 2;
	}
	rc = compare_files(argv[1], argv[2], records);
	if (rc < 2)
		printf("%s\n", said);
	return rc;
}
