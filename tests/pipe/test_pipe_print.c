/* SPDX-License-Identifier: BSD-3-Clause */
/* The pipeline language's printer: what it writes parses back to the same graph. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "test_pipe.h"

TestSuite(pipe_print, .init = pipe_setup, .fini = pipe_teardown, .timeout = 10);

/* ---- the printer ---- */

static const char *const round_trip[] = {
	"rx port=in0 | bpf \"tcp port 80\" | export name=web",
	"tcp | http + ssh + rtsp | inspect",
	"rx ++ tx | ip | mpeg +* !http",
	"dport |22:23 log; dport |!80 ids",
	"a --name=X | b | a --name=X",
	"a --name=X |80 b | c |all a --name=X",
	"sample every=4 --name=s |all sample --name=s",
	"a | b + c | d",
	"(a | b) + (c | d) | e",
	"a + b +* c | d",
	"x +* (a | b + c)",
	"(a ++ b) ++ c",
	"a ++ b + c ++ d | e",
	"dport |ssh:telnet,22:23,x log",
	"dport |!ssh,1000:2000,7 a | b |4294967295 c",
	"gen proto=udp size=64 dst=\"10.0.0.0/24\" \"a \\\"b\\\" \\\\c\" name=\"\" | tx",
	"bpf \"tcp | udp; (x) + y !z\" \"--name=no\" \"k=v\" \"!x\" \"\" \"a\tb\" | count",
	"bpf | bpf | bpf --name=bpf2 | bpf",
	"bpf --name=bpf3 | bpf | bpf",
	"!a | !b --name=q | a --name=a; b --name=q | c; d; e e=1",
	"rx --name=r | bpf \"tcp\" | tx; rx --name=r | count; rx --name=r |80 pcap file=x.pcap",
	"a | b | c | a --name=a; b --name=b | d | c --name=c",
	"union | intersect | union; union --name=union2x | union --name=union",
	"a --name=A | a --name=B | a --name=A | a --name=A",
	"x k=\"+\" j=\"(\" l=a=b m=\"x y\" n=é",
};

Test(pipe_print, round_trip_table)
{
	size_t n = sizeof(round_trip) / sizeof(round_trip[0]);

	cr_assert(n >= 20);
	for (size_t i = 0; i < n; i++) {
		struct bl_gdesc a, b;
		char buf[2048];
		int len;

		bl_gdesc_init(&a);
		bl_gdesc_init(&b);
		cr_assert(eq(int, bl_pipe_parse(round_trip[i], NULL, &a, &err), 0), "%s: %s",
			  round_trip[i], err.msg);
		len = bl_pipe_print(&a, buf, sizeof(buf));
		cr_assert(len > 0, "%s: print %d", round_trip[i], len);
		cr_assert(eq(u64, (uint64_t)len, strlen(buf)));
		cr_expect(eq(int, bl_pipe_parse(buf, NULL, &b, &err), 0), "%s -> %s: %s",
			  round_trip[i], buf, err.msg);
		cr_expect(bl_gdesc_equal(&a, &b), "%s -> %s: not equal", round_trip[i], buf);
		bl_gdesc_free(&a);
		bl_gdesc_free(&b);
	}
}

Test(pipe_print, simple_chains_read_as_written)
{
	static const char *const same_text[] = {
		"rx port=in0 | bpf \"tcp port 80\" | export name=web",
		"rx | tx",
		"dport |22:23 log; dport |!80 ids",
		"a --name=X | b | a --name=X",
		"bpf | bpf | bpf",
		"drop",
		"",
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(same_text) / sizeof(same_text[0]); i++) {
		bl_gdesc_free(&g);
		parse_ok(same_text[i]);
		cr_expect(bl_pipe_print(&g, buf, sizeof(buf)) >= 0);
		cr_expect(eq(str, buf, (char *)same_text[i]));
	}
}

Test(pipe_print, too_small_and_dup)
{
	char buf[8];
	char *s;

	parse_ok("rx port=in0 | tx port=out0");
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -ENOSPC));
	cr_assert(eq(int, bl_pipe_print(&g, NULL, 0), -ENOSPC));
	s = bl_pipe_print_dup(&g);
	cr_assert(s != NULL);
	cr_assert(eq(str, s, "rx port=in0 | tx port=out0"));
	free(s);
}

Test(pipe_print, refuses_what_it_cannot_write)
{
	char buf[256];
	int i;

	i = bl_gdesc_add_node(&g, "bad name", "rx");
	cr_assert(i >= 0);
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -EINVAL));
	bl_gdesc_free(&g);
	cr_assert(bl_gdesc_add_node(&g, "a", "rx") == 0);
	struct bl_label l = { .kind = BL_LABEL_SET, .n = 0 };
	cr_assert(bl_gdesc_add_edge(&g, 0, 0, &l, 0) == 0);
	cr_assert(eq(int, bl_pipe_print(&g, buf, sizeof(buf)), -EINVAL));
}

/* ---- random text: every parse either round-trips or fails whole, with a column ---- */

Test(pipe_print, random_text_round_trips_or_fails_cleanly)
{
	static const char *const tok[] = {
		"a", "b", "c", "bpf", " ", "  ", "|", "|80", "|!80", "|22:23", "|ssh:telnet",
		"|all", "|1,2", "+", "++", "+*", "!", "(", ")", ";", "\n", "--name=X", "--name=Y",
		"k=1", "k=2", "\"q q\"", "\"a\\\"b\"", "x=\"\"", "\"", "|0", "=", "--z", "u",
	};
	unsigned int seed = 12345, good = 0;

	for (int it = 0; it < 20000; it++) {
		char text[512] = "";
		struct bl_gdesc a, b;
		int n, rc;

		seed = seed * 1103515245u + 12345u;
		n = (int)(seed >> 16) % 14 + 1;
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			strcat(text, tok[(seed >> 16) % (sizeof(tok) / sizeof(tok[0]))]);
			if (seed & 0x100)
				strcat(text, " ");
		}
		bl_gdesc_init(&a);
		bl_gdesc_init(&b);
		rc = bl_pipe_parse(text, NULL, &a, &err);
		if (rc == 0) {
			char *s = bl_pipe_print_dup(&a);
			good++;
			cr_assert(s != NULL, "[%s] does not print", text);
			cr_assert(eq(int, bl_pipe_parse(s, NULL, &b, &err), 0), "[%s] -> [%s]: %s",
				  text, s, err.msg);
			cr_assert(bl_gdesc_equal(&a, &b), "[%s] -> [%s] differs", text, s);
			free(s);
		} else {
			unsigned long col = strtoul(err.msg + 4, NULL, 10);
			cr_assert(eq(int, rc, -EINVAL));
			cr_assert(a.n_nodes == 0 && a.n_edges == 0, "[%s] not rolled back", text);
			cr_assert(strncmp(err.msg, "col ", 4) == 0, "[%s]: %s", text, err.msg);
			cr_assert(col >= 1 && col <= strlen(text) + 1, "[%s]: %s", text, err.msg);
		}
		bl_gdesc_free(&a);
		bl_gdesc_free(&b);
	}
	cr_assert(good > 100);
}
