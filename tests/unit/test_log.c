/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_log (lib/common/bl_log.h): lines reach the sink with their level; each
 * call site says at most BL_LOG_BURST lines per BL_LOG_INTERVAL_MS, counts the
 * rest and says the count with its next line or at bl_log_flush. The clock is
 * the test's (bl_log_test.h), so no test waits.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "bl_log.h"
#include "bl_log_test.h"
#include "bl_time.h"

#define MAX_LINES 64

static char lines[MAX_LINES][1100];
static int levels[MAX_LINES];
static unsigned int n_lines;
static uint64_t clock_ms;

static uint64_t fake_now(void) { return clock_ms; }

static void
capture(enum bl_log_level level, const char *line, void *ctx)
{
	(void)ctx;
	cr_assert(n_lines < MAX_LINES, "more lines than any test expects");
	snprintf(lines[n_lines], sizeof(lines[0]), "%s", line);
	levels[n_lines++] = (int)level;
}

static void
setup(void)
{
	n_lines = 0;
	clock_ms = 1000000;
	bl_log__reset();
	bl_log__set_clock(fake_now);
	bl_log_set_sink(capture, NULL);
	bl_log_set_level(BL_LOG_INFO);
}

TestSuite(log, .init = setup, .timeout = 10);

/* One call site (one format string), as a flood comes from. */
static void refused(unsigned int uid) { bl_log(BL_LOG_WARNING, "control: refused uid %u", uid); }
static void ring_full(unsigned int n) { bl_log(BL_LOG_ERR, "stream web: %u dropped", n); }

Test(log, lines_reach_the_sink_with_their_level)
{
	bl_log(BL_LOG_ERR, "an error %d", 1);
	bl_log(BL_LOG_NOTICE, "a notice");
	cr_assert(eq(u32, n_lines, 2));
	cr_assert(eq(str, lines[0], "an error 1"));
	cr_assert(eq(int, levels[0], 3));
	cr_assert(eq(str, lines[1], "a notice"));
	cr_assert(eq(int, levels[1], 5));
}

Test(log, below_the_level_nothing)
{
	bl_log_set_level(BL_LOG_WARNING);
	bl_log(BL_LOG_INFO, "chatter");
	bl_log(BL_LOG_WARNING, "worth saying");
	cr_assert(eq(u32, n_lines, 1));
	cr_assert(eq(str, lines[0], "worth saying"));
}

Test(log, a_flood_says_a_burst_then_counts)
{
	for (unsigned int i = 0; i < 1000; i++)
		refused(i);
	cr_assert(eq(u32, n_lines, BL_LOG_BURST));
	cr_assert(eq(str, lines[0], "control: refused uid 0"));
	cr_assert(eq(str, lines[BL_LOG_BURST - 1], "control: refused uid 4"));
	/* still inside the window: nothing */
	clock_ms += BL_LOG_INTERVAL_MS - 1;
	refused(1000);
	cr_assert(eq(u32, n_lines, BL_LOG_BURST));
	/* the next window: the line, with what was suppressed since the last one said */
	clock_ms += 1;
	refused(1001);
	cr_assert(eq(u32, n_lines, BL_LOG_BURST + 1));
	cr_assert(eq(str, lines[BL_LOG_BURST],
		     "control: refused uid 1001 [996 more like this suppressed in the last 10 s]"));
	cr_assert(eq(int, levels[BL_LOG_BURST], BL_LOG_WARNING));
	/* and the count starts again */
	refused(1002);
	cr_assert(eq(str, lines[BL_LOG_BURST + 1], "control: refused uid 1002"));
}

Test(log, call_sites_are_limited_apart)
{
	for (unsigned int i = 0; i < 20; i++) {
		refused(i);
		ring_full(i);
	}
	cr_assert(eq(u32, n_lines, 2 * BL_LOG_BURST));
	bl_log(BL_LOG_ERR, "a third site");
	cr_assert(eq(u32, n_lines, 2 * BL_LOG_BURST + 1));
}

Test(log, flush_says_what_is_pending_with_the_last_line)
{
	for (unsigned int i = 0; i < BL_LOG_BURST + 3; i++)
		ring_full(i);
	clock_ms += 2500;
	bl_log_flush();
	cr_assert(eq(u32, n_lines, BL_LOG_BURST + 1));
	cr_assert(eq(str, lines[BL_LOG_BURST],
		     "stream web: 7 dropped [3 like this suppressed in the last 3 s; this the last]"));
	cr_assert(eq(int, levels[BL_LOG_BURST], BL_LOG_ERR));
	bl_log_flush();   /* said once */
	cr_assert(eq(u32, n_lines, BL_LOG_BURST + 1));
}

Test(log, a_quiet_site_is_never_limited)
{
	for (unsigned int i = 0; i < 50; i++) {
		refused(i);
		clock_ms += BL_LOG_INTERVAL_MS / BL_LOG_BURST;   /* exactly the rate allowed */
	}
	cr_assert(eq(u32, n_lines, 50));
	for (unsigned int i = 0; i < 50; i++)
		cr_assert(strstr(lines[i], "suppressed") == NULL, "line %u: %s", i, lines[i]);
}

Test(log, a_long_line_keeps_its_count)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (unsigned int i = 0; i < BL_LOG_BURST + 1; i++)
		bl_log(BL_LOG_ERR, "%s", big);
	clock_ms += BL_LOG_INTERVAL_MS;
	bl_log(BL_LOG_ERR, "%s", big);
	cr_assert(eq(u32, n_lines, BL_LOG_BURST + 1));
	cr_assert(strstr(lines[BL_LOG_BURST], "xx [1 more like this suppressed in the last 10 s]") != NULL);
	cr_assert(strlen(lines[BL_LOG_BURST]) < 1024);
}

Test(log, nolimit_says_every_line)
{
	for (unsigned int i = 0; i < 3 * BL_LOG_BURST; i++)
		bl_log_nolimit(BL_LOG_ERR, "ports[%u].name: missing", i);
	cr_assert(eq(u32, n_lines, 3 * BL_LOG_BURST));
	cr_assert(eq(str, lines[3 * BL_LOG_BURST - 1], "ports[14].name: missing"));
}

Test(log, stderr_when_no_sink)
{
	char buf[256] = "";
	FILE *f;

	bl_log_set_sink(NULL, NULL);
	cr_redirect_stderr();
	bl_log(BL_LOG_ERR, "to the terminal %d", 7);
	fflush(stderr);
	f = cr_get_redirected_stderr();
	cr_assert(fgets(buf, sizeof(buf), f) != NULL);
	cr_assert(eq(str, buf, "beltlined: to the terminal 7\n"));
}

/* bl_ticks_to (bl_time.h): a TSC count in ms did not survive 99 days at 2.149 GHz (the
 * flow filters' live clock: ticks * 1000 / hz passed 2^64). */
Test(time, ticks_to_ms_does_not_overflow_after_a_hundred_days)
{
	const uint64_t hz = 2149000000ull, day = 86400ull;

	cr_assert(eq(u64, bl_ticks_to(100 * day * hz, hz, 1000), 100 * day * 1000));
	cr_assert(eq(u64, bl_ticks_to(1000 * day * hz + hz / 2, hz, 1000), 1000 * day * 1000 + 500));
	cr_assert(eq(u64, bl_ticks_to(UINT64_MAX, hz, 1000), UINT64_MAX / hz * 1000 +
		     UINT64_MAX % hz * 1000 / hz));
	cr_assert(eq(u64, bl_ticks_to(hz - 1, hz, 1000), 999));
	cr_assert(eq(u64, bl_ticks_to(12345, 0, 1000), 0));
}
