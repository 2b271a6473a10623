/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the live-path tests (test_live.c: reading; test_live_wake.c: sleeping,
 * waking and hangups) share: the library's log kept, an IBuf and a packet DBuf made
 * in this process, a reader opened on them from descriptors.
 */
#ifndef BL_TEST_LIVE_COMMON_H
#define BL_TEST_LIVE_COMMON_H

#include <stdint.h>

#include "beltline.h"
#include "beltline_priv.h"
#include "bl_ibuf_worker.h"
#include "bl_shm.h"
#include "fake_appliance.h"

/* The library's last log line, and how many it wrote since live_setup. */
extern char last_log[512];
extern int n_logs;

/* A suite's .init: the log captured from here on. */
void live_setup(void);

struct bl_shm *make_dbuf(void);
struct bl_ibuf *make_ibuf(uint32_t policy, uint32_t cap);

/* Attach a reader and open it through the library, as beltline_open would after an attach. */
struct beltline_stream *open_reader(struct bl_ibuf *ib, struct bl_shm *d, int wake_fd);

#define ent fake_ent

#endif /* BL_TEST_LIVE_COMMON_H */
