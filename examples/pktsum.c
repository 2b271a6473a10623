/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktsum — one program over every transport: it reads packets from a URI with the
 * same calls whatever the URI names, and prints how many, their bytes and a checksum
 * of their contents. Only the URI changes (docs/clients.md, "Transports"):
 *
 *   pktsum file:capture.pcap
 *   pktsum beltline://default/web 1000       # stop after 1000 packets
 *   pktsum tcp://127.0.0.1:7000              # beltline serve web tcp://127.0.0.1:7000
 *   pktsum tls://box.example:7000            # with $BELTLINE_TLS_CA, _CERT, _KEY
 *
 * Output: "packets=N bytes=B sum=X lost=L". Exit 0, or 1 when the source cannot be
 * opened or read. Build: cc pktsum.c $(pkg-config --cflags --libs libbeltline-client).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <beltline.h>

static void
say(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (lvl <= BELTLINE_LOG_WARN)
		fprintf(stderr, "pktsum: %s\n", msg);
}

int
main(int argc, char **argv)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_stream *s;
	struct beltline_pkt v[32];
	unsigned long long want = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, n = 0, bytes = 0;
	uint64_t sum = 0;
	int rc = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pktsum URI [PACKETS]\n");
		return 2;
	}
	beltline_set_log(say, NULL);
	if (beltline_open(argv[1], NULL, &s) < 0)
		return 1;
	while (want == 0 || n < want) {
		rc = beltline_peek(s, v, 32);
		if (rc == -EAGAIN) {
			struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
			poll(&p, 1, 100);
			continue;
		}
		if (rc <= 0)
			break;
		unsigned k = (unsigned)rc;
		if (want != 0 && want - n < k)
			k = (unsigned)(want - n);
		for (unsigned i = 0; i < k; i++) {
			const uint8_t *d = v[i].data;
			for (uint32_t j = 0; j < v[i].caplen; j++)
				sum = sum * 31 + d[j];
			bytes += v[i].caplen;
		}
		n += k;
		beltline_release(s, k);
		rc = 0;
	}
	beltline_stats(s, &st);
	printf("packets=%llu bytes=%llu sum=%016llx lost=%llu\n", n, bytes, (unsigned long long)sum,
	       (unsigned long long)st.lost);
	beltline_close(s);
	return rc < 0 ? 1 : 0;
}
