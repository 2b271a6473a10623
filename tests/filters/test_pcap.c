/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap: the file is written and libpcap reads it back byte for byte;
 * rotation by rotate_packets and rotate_bytes into PATH.1, PATH.2, ...;
 * snaplen; chained mbufs; a file that cannot be opened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pcap/pcap.h>

#include "harness.h"

static struct harness *h;
static char dir[64];

static void
setup(void)
{
	harness_eal();
	snprintf(dir, sizeof(dir), "/tmp/bltest-pcap-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
}

static void
teardown(void)
{
	char cmd[128];

	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(eq(int, system(cmd), 0));
}

TestSuite(pcap, .init = setup, .fini = teardown, .timeout = 30);

static struct harness *
pcap_graph(const char *args)
{
	char text[512];

	snprintf(text, sizeof(text), "feed | pcap file=%s/out.pcap %s", dir, args);
	h = harness_new(text);
	cr_assert(h != NULL);
	return h;
}

/* Packets in a capture file; checks each is packet #first+i of what push_numbered made. */
static unsigned int
read_back(const char *name, unsigned int first, uint32_t len, uint32_t caplen)
{
	char path[128], eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *d;
	unsigned int n = 0;
	pcap_t *p;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	p = pcap_open_offline(path, eb);
	cr_assert(p != NULL, "%s: %s", path, eb);
	cr_assert(eq(int, pcap_datalink(p), DLT_EN10MB));
	while (pcap_next_ex(p, &ph, &d) == 1) {
		cr_assert(eq(u32, ph->len, len));
		cr_assert(eq(u32, ph->caplen, caplen));
		cr_assert(eq(u16, (uint16_t)(d[60] << 8 | d[61]), first + n), "%s: packet %u", name, n);
		n++;
	}
	pcap_close(p);
	return n;
}

static bool
exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static long
size_of(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* n packets of len bytes, numbered at bytes 60-61. */
static void
push_numbered(unsigned int n, uint32_t len)
{
	uint8_t b[2048] = { 0 };

	for (unsigned int i = 0; i < n; i++) {
		memset(b, (int)i, len);
		b[12] = 0x08;
		b[13] = 0x00;
		b[60] = (uint8_t)(i >> 8);
		b[61] = (uint8_t)i;
		harness_push(h, harness_mbuf(b, len));
	}
	harness_run(h);
}

Test(pcap, writes_a_file_libpcap_reads)
{
	pcap_graph("");
	push_numbered(10, 100);
	cr_assert(eq(u64, harness_counter(h, "pcap", "written"), 10));
	cr_assert(eq(u64, harness_counter(h, "pcap", "bytes"), 1000));
	cr_assert(eq(u64, harness_counter(h, "pcap", "files"), 1));
	cr_assert(eq(u64, harness_stats(h, "pcap")->in, 10));
	harness_free(h);   /* stop flushes, fini closes */
	h = NULL;
	cr_assert(eq(uint, read_back("out.pcap", 0, 100, 100), 10));
	cr_assert(not(exists("out.pcap.1")));
}

Test(pcap, rotates_by_packets)
{
	pcap_graph("rotate_packets=4");
	push_numbered(10, 80);
	cr_assert(eq(u64, harness_counter(h, "pcap", "files"), 3));
	harness_free(h);
	h = NULL;
	cr_assert(eq(uint, read_back("out.pcap", 0, 80, 80), 4));
	cr_assert(eq(uint, read_back("out.pcap.1", 4, 80, 80), 4));
	cr_assert(eq(uint, read_back("out.pcap.2", 8, 80, 80), 2));
	cr_assert(not(exists("out.pcap.3")));
}

Test(pcap, rotates_by_bytes)
{
	/* records of 16 + 64 bytes: 12 fit under 1024 with the 24-byte file header */
	pcap_graph("rotate_bytes=1024");
	push_numbered(30, 64);
	harness_free(h);
	h = NULL;
	cr_assert(eq(uint, read_back("out.pcap", 0, 64, 64), 12));
	cr_assert(eq(uint, read_back("out.pcap.1", 12, 64, 64), 12));
	cr_assert(eq(uint, read_back("out.pcap.2", 24, 64, 64), 6));
	cr_assert(size_of("out.pcap") <= 1024, "%ld bytes", size_of("out.pcap"));
	cr_assert(size_of("out.pcap.1") <= 1024);
}

Test(pcap, snaplen_cuts_packets)
{
	pcap_graph("snaplen=64");
	push_numbered(3, 300);
	cr_assert(eq(u64, harness_counter(h, "pcap", "bytes"), 3 * 64));
	harness_free(h);
	h = NULL;
	cr_assert(eq(uint, read_back("out.pcap", 0, 300, 64), 3));
}

Test(pcap, chained_mbufs_are_gathered)
{
	uint8_t a[100], b[50];
	struct rte_mbuf *m, *t;

	pcap_graph("");
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	a[60] = 0;
	a[61] = 0;
	m = harness_mbuf(a, sizeof(a));
	t = harness_mbuf(b, sizeof(b));
	cr_assert(eq(int, rte_pktmbuf_chain(m, t), 0));
	harness_push(h, m);
	harness_run(h);
	harness_free(h);
	h = NULL;

	char path[128], eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *d;
	snprintf(path, sizeof(path), "%s/out.pcap", dir);
	pcap_t *p = pcap_open_offline(path, eb);
	cr_assert(p != NULL, "%s", eb);
	cr_assert(eq(int, pcap_next_ex(p, &ph, &d), 1));
	cr_assert(eq(u32, ph->caplen, 150));
	cr_assert(memcmp(d, a, 100) == 0 && memcmp(d + 100, b, 50) == 0);
	pcap_close(p);
}

Test(pcap, a_file_that_cannot_be_opened)
{
	struct bl_err err;

	cr_assert(eq(int, harness_try("feed | pcap file=/nonexistent-dir/x.pcap", &err), -EIO));
	cr_assert(strstr(err.msg, "file") != NULL && strstr(err.msg, "/nonexistent-dir/x.pcap") != NULL,
		  "%s", err.msg);
}

/* The 24-byte file header counts too: no file passes rotate_bytes. */
Test(pcap, rotate_bytes_counts_the_file_header)
{
	pcap_graph("rotate_bytes=1040");   /* 13 records of 80 bytes are 1040, plus the header */
	push_numbered(30, 64);
	harness_free(h);
	h = NULL;
	cr_assert(size_of("out.pcap") <= 1040, "out.pcap is %ld bytes, rotate_bytes=1040", size_of("out.pcap"));
	cr_assert(size_of("out.pcap.1") <= 1040, "out.pcap.1 is %ld bytes", size_of("out.pcap.1"));
	cr_assert(eq(uint, read_back("out.pcap", 0, 64, 64) + read_back("out.pcap.1", 12, 64, 64) +
			   read_back("out.pcap.2", 24, 64, 64), 30));
}
