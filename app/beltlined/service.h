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

struct bl_app;

/* Ports up, graphs built, workers launched, control socket listening. */
void bl_service_ready(const struct bl_app *app);

/* A line for `systemctl status` (printf format). */
void bl_service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The workers are stopping; the final report follows. */
void bl_service_stopping(void);

#endif /* BL_SERVICE_H */
