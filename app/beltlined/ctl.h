/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server: RUN_DIR/INSTANCE/ctl, a SOCK_SEQPACKET unix socket
 * speaking docs/control.md (list, attach, detach, stats). Served from the main
 * lcore's watch loop: bl_ctl_tick waits for the socket at most a tick, then
 * accepts, reads and answers what is ready, and detaches the readers of closed
 * connections; it never waits on one client.
 *
 * RUN_DIR is /run/beltline, or $BELTLINE_RUN_DIR (as for the client). The
 * socket's mode is 0666 (every request checks the peer's credentials); a
 * config key for it is not there yet.
 */
#ifndef BL_CTL_H
#define BL_CTL_H

#include <stdbool.h>
#include <stddef.h>

struct bl_app;
struct bl_ctl;

/* Create the folder and socket. 0, or -errno after saying why on stderr. */
int bl_ctl_start(struct bl_app *app, struct bl_ctl **out);

/* One round: wait at most wait_us for the socket (a connection to accept, a request,
 * room for a reply going out, a hangup), then accept, serve what is ready and detach
 * the dead. The main lcore sleeps here between its watches, so a request is answered
 * when it comes rather than at the next tick. Main lcore. NULL: only the wait. */
void bl_ctl_tick(struct bl_ctl *c, unsigned int wait_us);

/* Does an appliance of this instance name run: its control socket (path, n bytes: the
 * path, for messages) answers a connect. */
bool bl_ctl_running(const char *instance, char *path, size_t n);

/* Detach every reader, close every connection, remove socket and folder. NULL is fine. */
void bl_ctl_stop(struct bl_ctl *c);

#endif /* BL_CTL_H */
