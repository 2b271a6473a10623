/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_log — the appliance's log lines (slow path only: never from a burst).
 *
 * One function for every line beltlined says while it runs. Where the line
 * goes is the sink's business: stderr by default ("beltlined: " + the line), the
 * journal when beltlined runs as a service (app/beltlined/service.c installs a
 * sink that adds the priority and the instance). Levels are syslog's.
 *
 * Rate limit: each call site (its format string) may say BL_LOG_BURST lines in
 * every BL_LOG_INTERVAL_MS; what it says beyond is counted, not written, and
 * the next line it may say carries the count ("[37 more like this suppressed in
 * the last 10 s]"). bl_log_flush() writes the counts still pending (at exit).
 * So a flood (a refused client reconnecting in a loop, a full disk) costs a few
 * lines a minute, and none of it is lost from view.
 *
 * Thread-safe (a mutex): any lcore may log from its slow path.
 */
#ifndef BL_LOG_H
#define BL_LOG_H

#include <stdint.h>

enum bl_log_level {              /* syslog(3)'s priorities */
	BL_LOG_ERR = 3,
	BL_LOG_WARNING = 4,
	BL_LOG_NOTICE = 5,
	BL_LOG_INFO = 6,
	BL_LOG_DEBUG = 7,
};

#define BL_LOG_BURST 5u               /* lines per call site per interval */
#define BL_LOG_INTERVAL_MS 10000u

/* `line` has no trailing newline and no "beltlined: " prefix. */
typedef void bl_log_sink_fn(enum bl_log_level level, const char *line, void *ctx);

void bl_log(enum bl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same, never rate-limited: for lists whose lines differ by nature (a config's
 * problems, said once at start), never for anything a peer or the traffic can repeat. */
void bl_log_nolimit(enum bl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* NULL: back to stderr. */
void bl_log_set_sink(bl_log_sink_fn *sink, void *ctx);

/* Lines below `level` (numerically above) are not said. Default BL_LOG_INFO. */
void bl_log_set_level(enum bl_log_level level);

/* Write every pending "N suppressed" count now. */
void bl_log_flush(void);

#endif /* BL_LOG_H */
