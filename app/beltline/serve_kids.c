/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_kids — the children of a serve (serve_pvt.h, "struct kids"): one per connection,
 * pending until its TLS handshake is done (it writes its pid into a pipe), then counted
 * against --max-clients or the one writer place. serve.c and serve_write.c use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bl_time.h"
#include "serve_pvt.h"

int
kids_init(struct kids *ks, int max_authed)
{
	ks->max = max_authed + SERVE_PENDING_MAX;
	ks->n_authed = ks->n_pending = 0;
	ks->k = calloc((size_t)ks->max, sizeof(*ks->k));
	if (ks->k == NULL || pipe2(ks->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(ks->k);
		ks->k = NULL;
		return -1;
	}
	return 0;
}

void
kids_fini(struct kids *ks)
{
	free(ks->k);
	ks->k = NULL;
	close(ks->pipe[0]);
	close(ks->pipe[1]);
}

void
kids_add(struct kids *ks, pid_t pid, const char *peer, int authed)
{
	for (int i = 0; i < ks->max; i++)
		if (ks->k[i].pid == 0) {
			ks->k[i] = (struct kid){ .pid = pid, .authed = authed, .t0 = bl_mono_ms() };
			snprintf(ks->k[i].peer, sizeof(ks->k[i].peer), "%s", peer);
			*(authed ? &ks->n_authed : &ks->n_pending) += 1;
			return;
		}
	kill(pid, SIGTERM);     /* cannot be: callers keep room (kids_make_room, their limit) */
}

struct kid *
kids_find(struct kids *ks, pid_t pid)
{
	for (int i = 0; pid > 0 && i < ks->max; i++)
		if (ks->k[i].pid == pid)
			return &ks->k[i];
	return NULL;
}

int
kids_gone(struct kids *ks, pid_t pid)
{
	struct kid *k = kids_find(ks, pid);

	if (k == NULL)
		return 0;
	*(k->authed ? &ks->n_authed : &ks->n_pending) -= 1;
	k->pid = 0;
	return 1;
}

int
kids_make_room(struct kids *ks)
{
	struct kid *old = NULL;

	if (ks->n_pending < SERVE_PENDING_MAX)
		return 0;
	for (int i = 0; i < ks->max; i++)
		if (ks->k[i].pid > 0 && !ks->k[i].authed && (old == NULL || ks->k[i].t0 < old->t0))
			old = &ks->k[i];
	if (old == NULL)
		return 0;
	say("cut %s: its TLS handshake was the oldest of %d in progress, and another peer "
	    "connected", old->peer, SERVE_PENDING_MAX);
	kill(old->pid, SIGTERM);
	kids_gone(ks, old->pid);        /* reaped later: waitpid finds no entry for it */
	return 1;
}

void
kids_authed(struct kids *ks)
{
	pid_t me = getpid();

	if (write(ks->pipe[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
		say("cannot tell serve this peer is authenticated: %s", strerror(errno));
}

pid_t
kids_next_authed(struct kids *ks)
{
	pid_t pid;

	/* a pid is 4 bytes, below PIPE_BUF: written and read whole */
	while (read(ks->pipe[0], &pid, sizeof(pid)) == (ssize_t)sizeof(pid)) {
		struct kid *k = kids_find(ks, pid);
		if (k == NULL || k->authed)
			continue;       /* cut meanwhile, or said twice */
		k->authed = 1;
		ks->n_pending--;
		ks->n_authed++;
		return pid;
	}
	return 0;
}

void
kids_stop_all(struct kids *ks)
{
	for (int i = 0; i < ks->max; i++)   /* our own children only, by pid */
		if (ks->k[i].pid > 0)
			kill(ks->k[i].pid, SIGTERM);
	for (int i = 0; i < ks->max; i++)
		if (ks->k[i].pid > 0) {
			waitpid(ks->k[i].pid, NULL, 0);
			kids_gone(ks, ks->k[i].pid);
		}
}
