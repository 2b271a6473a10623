/* SPDX-License-Identifier: BSD-3-Clause */
/* What the live-path tests share (live_common.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "live_common.h"

char last_log[512];
int n_logs;

static void
capture_log(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	n_logs++;
}

void
live_setup(void)
{
	last_log[0] = '\0';
	n_logs = 0;
	beltline_set_log(capture_log, NULL);
}

struct bl_shm *
make_dbuf(void)
{
	struct bl_shm *d = fake_dbuf();

	cr_assert_not_null(d);
	return d;
}

struct bl_ibuf *
make_ibuf(uint32_t policy, uint32_t cap)
{
	struct bl_ibuf *ib = fake_ibuf(policy, cap);

	cr_assert_not_null(ib);
	return ib;
}

struct beltline_stream *
open_reader(struct bl_ibuf *ib, struct bl_shm *d, int wake_fd)
{
	struct bl_ibuf_fds fds;
	struct beltline_stream *s;
	int dfd = bl_shm_ro_fd(d), idx = bl_ibuf_reader_alloc(ib, 0);

	cr_assert_geq(idx, 0);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(bl_ibuf_reader_fds(ib, (unsigned)idx, &fds), 0);
	struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
		.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = wake_fd, .ctl_fd = -1,
		.n_dbufs = 1, .dbuf_fds = &dfd, .name = "test/web" };
	cr_assert_eq(beltline__open_live_fds(&f, &s), 0, "%s", last_log);
	close(fds.ring_fd);     /* only the ring fd was new; page/mrp are the producer's */
	close(dfd);
	return s;
}
