/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config reader terminates, and quickly, on anything (issue 15 point 4):
 * a FIFO or a device is refused without waiting for a writer, a file over
 * 4 MiB is refused, 4 MiB of repeated or unknown keys costs well under a
 * second and prints at most BL_DIAG_SHOWN lines, a 4 MiB vdev is not
 * rescanned per argument, and numbers a JSON graph holds must be finite.
 * Times are CPU seconds, bounded generously (a third of a quiet machine).
 */
#include <fcntl.h>
#include <time.h>

#include "cfg_test.h"
#include "bl_test_util.h"

static char tmpdir[PATH_MAX];
static void make_tmpdir(void)   { bl_test_mkdtemp(tmpdir, "bl_cfg_limits"); }
static void remove_tmpdir(void) { bl_test_rmtree(tmpdir); }

TestSuite(cfg_limits, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 20);

Test(cfg_limits, a_fifo_is_refused_without_waiting_for_a_writer)
{
	char path[PATH_MAX];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	snprintf(path, sizeof(path), "%s/fifo.json", tmpdir);
	cr_assert(mkfifo(path, 0600) == 0);
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -EINVAL));   /* before: blocked in open() */
	cr_assert(eq(u32, d.n, 1));
	cr_assert(has_line(d.text, path), "%s", d.text);
	cr_assert(strstr(d.text, ": not a regular file (a FIFO)\n") != NULL, "%s", d.text);
	bl_diag_free(&d);
	cr_assert(eq(int, bl_cfg_load("/dev/null", c, &d), -EINVAL));
	cr_assert(eq(str, d.text, "/dev/null: not a regular file (a device)\n"));
	bl_diag_free(&d);
	free(c);
}

Test(cfg_limits, over_4_mib_is_refused_4_mib_is_read)
{
	char path[PATH_MAX], want[PATH_MAX + 64];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };
	char *text = bl_test_repeat("", " ", "{}", 4u << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	cr_assert(fputs(text, f) >= 0 && fclose(f) == 0);
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -EINVAL));
	cr_assert(has_line(d.text, "ports: required"), "exactly 4 MiB is read: %.200s", d.text);
	bl_diag_free(&d);
	f = fopen(path, "a");
	cr_assert(f != NULL);
	cr_assert(fputs(" ", f) >= 0 && fclose(f) == 0);
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -EFBIG));
	snprintf(want, sizeof(want), "%s: 4194305 bytes: a config holds at most 4194304 (4 MiB)\n",
		 path);
	cr_assert(eq(str, d.text, want));
	bl_diag_free(&d);
	free(text);
	free(c);
}

/* Half typos, then "burst" again and again: every "burst" is far from the first. */
static char *
typos_then_repeats(size_t size)
{
	char *s = malloc(size + 1);
	size_t n;

	if (s == NULL)
		abort();
	n = (size_t)snprintf(s, size, "{");
	for (unsigned int k = 0; n < size / 2; k++)
		n += (size_t)snprintf(s + n, size - n, "'t%07u':1,", k);
	for (; n + 2 * 11 <= size; n += 11)
		memcpy(s + n, "'burst':32,", 11);
	memcpy(s + n, "'burst':32}", 12);
	return s;
}

/* 4 MiB of one key (each was compared with every earlier member) or of typos. */
Test(cfg_limits, many_keys_cost_little_and_print_little)
{
	static const struct { const char *what, *unit, *first; } cases[] = {
		{ "one key again", "'burst':32,", "burst: given twice" },
		{ "one unknown key", "'burts':32,", "burts: unknown key (did you mean \"burst\"?)" },
		{ "one key again, in ports[0]", NULL, "ports[0].rx_queues: given twice" },
		{ "typos, then one key again", "", "t0000000: unknown key" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *json = cases[i].unit == NULL ?
			     bl_test_repeat("{'ports':[{'name':'a','vdev':'net_null0',", "'rx_queues':1,",
				    "'rx_queues':1}]}", 4u << 20) :
			     cases[i].unit[0] == '\0' ? typos_then_repeats(4u << 20) :
			     bl_test_repeat("{", cases[i].unit, "'burst':32}", 4u << 20);
		double t = bl_test_cpu_now();
		struct result *r = parse(json);

		t = bl_test_cpu_now() - t;
		cr_expect(eq(int, r->rc, -EINVAL), "%s", cases[i].what);
		cr_expect(r->diag.n > 250000, "%s: %u problems counted", cases[i].what, r->diag.n);
		cr_expect(eq(u32, count_lines(r->text), BL_DIAG_SHOWN), "%s: the first %d written",
			  cases[i].what, BL_DIAG_SHOWN);
		cr_expect(has_line(r->text, cases[i].first), "%s: %.200s", cases[i].what, r->text);
		cr_expect(t < 2.0, "%s: %.3f s CPU", cases[i].what, t);
		cr_log_info("%-28s %u problems, %.1f ms CPU", cases[i].what, r->diag.n, t * 1e3);
		result_free(r);
		free(json);
	}
}

/* The arguments of a long vdev are each read once (an "=" was searched to the end). */
Test(cfg_limits, a_4_mib_vdev_is_read_once)
{
	char *json = bl_test_repeat("{'ports':[{'name':'a','vdev':'net_pcap0", ",a", "'}]}", 4u << 20);
	double t = bl_test_cpu_now();
	struct result *r = parse_in(json, "/some/dir");

	t = bl_test_cpu_now() - t;
	cr_assert(eq(int, r->rc, -EINVAL));
	cr_assert(has_line(r->text, "ports[0].vdev: longer than 1023 characters"), "%s", r->text);
	cr_assert(t < 2.0, "%.3f s CPU", t);
	result_free(r);
	free(json);

	/* and a path key is still told from an "=" in a later argument */
	r = parse_in("{'ports':[{'name':'a','vdev':'net_pcap0,rx_pcap,iface=x,tx_pcap=o.pcap'}],"
		     WORKERS_A "}", "/d");
	cr_assert(eq(int, r->rc, 0), "%s", r->text);
	cr_assert(eq(str, r->cfg.ports[0].vdev, "net_pcap0,rx_pcap,iface=x,tx_pcap=/d/o.pcap"));
	result_free(r);
}

/* cJSON reads 1e999 as infinity and prints it as null: a JSON graph is checked before. */
Test(cfg_limits, a_json_graph_holds_finite_numbers)
{
	static const char *const bad[] = {
		"{" PORTS_A ",'graphs':[{'lcores':[1],'graph':{'nodes':[{'name':'r','filter':'rx',"
		"'args':{'port':'a','burst':1e999}}]}}]}",
		"{" PORTS_A ",'graphs':[{'lcores':[1],'graph':{'nodes':[{'name':'r','filter':'rx',"
		"'args':{'port':'a'}}],'edges':[{'from':'r','to':'r','label':-1e999}]}}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct result *r = parse(bad[i]);
		cr_expect(eq(int, r->rc, -EINVAL));
		cr_expect(has_line(r->text, "graphs[0].graph: numbers must be finite"), "%s", r->text);
		result_free(r);
	}
	/* the same with a finite number reads */
	struct result *r = parse("{" PORTS_A ",'graphs':[{'lcores':[1],'graph':{'nodes':[{'name':'r',"
				 "'filter':'rx','args':{'port':'a','burst':1e300}}]}}]}");
	cr_assert(eq(int, r->rc, 0), "%s", r->text);
	result_free(r);
}

/* 64 workers (the reader takes 1..64): one too many worker lcores beside the main one,
 * said under workers (it named graphs, which the config has none of). */
Test(cfg_limits, sixty_four_workers_are_refused_under_workers)
{
	static char j[16384];
	size_t n = 0;
	struct result *r;

	n += (size_t)snprintf(j + n, sizeof(j) - n,
			      "{'ports':[{'name':'a','vdev':'net_null0','rx_queues':64}],'workers':[");
	for (int i = 1; i <= 64; i++)
		n += (size_t)snprintf(j + n, sizeof(j) - n,
				      "%s{'lcore':%d,'poll':[{'port':'a','queue':%d,'tx':'a'}]}",
				      i > 1 ? "," : "", i, i - 1);
	snprintf(j + n, sizeof(j) - n, "]}");
	cr_assert(n + 3 < sizeof(j));
	r = parse(j);
	cr_assert(eq(int, r->rc, -EINVAL));
	cr_assert(has_line(r->text, "workers: at most 63 worker lcores in all"), "%s", r->text);
	cr_assert(eq(int, has_line(r->text, "graphs"), 0), "%s", r->text);
	result_free(r);
}
