/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_client_file — libbeltline-client reading a capture file (client/
 * src_file.c through the public calls): the input is the file, pcap or
 * pcapng, put in a memfd and opened by its /proc path.
 * Oracles: open fails with a negative errno, or every packet peeked has
 * caplen <= len and caplen bytes readable at data (ASan); sequence numbers
 * count up by one; beltline_read copies min(caplen, size) and says how much;
 * check() of a file is always 1; nothing leaks (descriptors included).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "beltline.h"
#include "fuzz.h"

/* The library's log lines: none, unless FUZZ_VERBOSE is set (to see why an input fails). */
static void
quiet(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}

static uint32_t
touch(const struct beltline_pkt *v)
{
	const uint8_t *p = v->data;
	uint32_t sum = 0;

	for (uint32_t i = 0; i < v->caplen; i++)
		sum += p[i];
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct beltline_stream *s = NULL;
	struct beltline_pkt v[4];
	char path[64], buf[64];
	uint64_t next = 0;
	volatile uint32_t sink = 0;
	int fd, rc, rounds = 0, fds0 = fuzz_fds();

	if (!once) {
		beltline_set_log(quiet, NULL);
		once = 1;
	}
	fd = memfd_create("fuzz.pcap", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = beltline_open(path, NULL, &s);
	if (rc < 0) {
		FUZZ_CHECK(s == NULL && rc > -4096, "open: %d", rc);
		close(fd);
		FUZZ_CHECK(fuzz_fds() == fds0, "a failed open: %d descriptors before, %d after", fds0,
			   fuzz_fds());
		return 0;
	}
	FUZZ_CHECK(beltline_fd(s) >= 0, "no pollable fd");
	/* Peek 1..4 at a time, then a copying read, until the end (or 10000 packets). */
	while (rounds++ < 10000) {
		unsigned int want = (unsigned int)(rounds % 4) + 1;
		struct beltline_pkt_info info;

		rc = beltline_peek(s, v, want);
		if (rc <= 0)
			break;
		FUZZ_CHECK((unsigned int)rc <= want, "peek %u gave %d", want, rc);
		for (int i = 0; i < rc; i++) {
			FUZZ_CHECK(v[i].caplen <= v[i].len, "caplen %u > len %u", v[i].caplen, v[i].len);
			FUZZ_CHECK(v[i].seq == next + (uint64_t)i, "seq %llu, expected %llu",
				   (unsigned long long)v[i].seq, (unsigned long long)(next + i));
			sink += touch(&v[i]);
			FUZZ_CHECK(beltline_check(s, v[i].seq) == 1, "check of a file");
		}
		FUZZ_CHECK(beltline_release(s, (unsigned int)rc) == 0, "release");
		next += (uint64_t)rc;
		size_t room = (size_t)(rounds - 1) % 65;   /* 0 first: with no buffer */

		rc = beltline_read(s, room != 0 ? buf : NULL, room, &info);
		if (rc <= 0)
			break;
		FUZZ_CHECK(info.seq == next, "read seq");
		FUZZ_CHECK(info.copied == (info.caplen < room ? info.caplen : (uint32_t)room),
			   "copied %u of %u into %zu", info.copied, info.caplen, room);
		next++;
	}
	(void)sink;
	beltline_close(s);
	close(fd);
	FUZZ_CHECK(fuzz_fds() == fds0, "%d descriptors before, %d after", fds0, fuzz_fds());
	return 0;
}
