/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The installed header alone: built as C99 with -Wpedantic, with no include path
 * but client/include, linked against the shared library only (only exported
 * symbols resolve). Reads a capture through the public calls.
 */
#include <beltline.h>
#include <stdio.h>

int
main(void)
{
	struct beltline_stream *s;
	struct beltline_pkt v[16];
	unsigned long total = 0;
	int n;

	if (beltline_open("file:" BL_CORPUS "/dns_tcp.pcap", NULL, &s) != 0)
		return 1;
	while ((n = beltline_peek(s, v, 16)) > 0) {
		total += (unsigned long)n;
		if (beltline_release(s, (unsigned)n) != 0)
			return 1;
	}
	beltline_close(s);
	printf("%lu packets\n", total);
	return n == 0 && total == 11 ? 0 : 1;
}
