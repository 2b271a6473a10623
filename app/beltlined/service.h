/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * service — beltlined as a systemd service (deploy/beltlined@.service,
 * Type=notify): it tells the service manager when its ports and graphs are up
 * (READY=1), what it is doing (STATUS=) and that it is stopping (STOPPING=1).
 * Outside a Type=notify service (no NOTIFY_SOCKET), or built without
 * libsystemd, every call does nothing.
 */
#ifndef BL_SERVICE_H
#define BL_SERVICE_H

#include <stdbool.h>

struct bl_app;

/* Ports up, graphs built, workers launched, control socket listening. */
void bl_service_ready(const struct bl_app *app);

/* A line for `systemctl status` (printf format). */
void bl_service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The workers are stopping; the final report follows. */
void bl_service_stopping(void);

/*
 * Where log lines (bl_log.h) go: "stderr" (as in a terminal), "journal" (with
 * PRIORITY, SYSLOG_IDENTIFIER=beltlined and BELTLINE_INSTANCE; syslog(3) when
 * built without libsystemd), or "auto": the journal when stderr is connected to
 * it (systemd sets JOURNAL_STREAM to stderr's device:inode), else stderr.
 * 0, or -EINVAL for another word.
 */
int bl_service_log_to(const char *how, const char *instance);

/* The journal is where lines go. */
bool bl_service_logs_to_journal(void);

#endif /* BL_SERVICE_H */
