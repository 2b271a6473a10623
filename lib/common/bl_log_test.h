/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_log's test hooks (tests/unit/test_log.c): not for the appliance. */
#ifndef BL_LOG_TEST_H
#define BL_LOG_TEST_H

#include <stdint.h>

/* Replace the monotonic clock (milliseconds); NULL: the real one. */
void bl_log__set_clock(uint64_t (*now_ms)(void));

/* Forget every call site's window and count. */
void bl_log__reset(void);

#endif /* BL_LOG_TEST_H */
