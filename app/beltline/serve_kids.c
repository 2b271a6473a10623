/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_kids — the children of a serve (serve_pvt.h, "struct kids"): one per connection,
 * pending until its TLS handshake is done (it writes its pid into a pipe), then counted
 * against --max-clients or the one writer place. serve.c and serve_write.c use it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
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

/* The length of a peer name's host ("10.1.2.3:40112", "[::1]:40112": all but the port). */
static size_t
host_len(const char *peer)
{
	const char *c = strrchr(peer, ':');

	return c != NULL ? (size_t)(c - peer) : strlen(peer);
}

/* An IPv6 peer's /64 ("[2001:db8::1]:40112"): one host may hold a whole /64 (a router
 * hands out at least that much), and a flood from as many of its addresses would count as
 * as many hosts. 0 if peer is not a bracketed IPv6 address. An IPv4-mapped address is the
 * IPv4 address it holds: a host of its own. */
static int
v6_prefix(const char *peer, uint8_t pfx[8])
{
	char h[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t n = host_len(peer);

	if (n < 3 || peer[0] != '[' || peer[n - 1] != ']' || n - 2 >= sizeof(h))
		return 0;
	memcpy(h, peer + 1, n - 2);
	h[n - 2] = '\0';
	if (inet_pton(AF_INET6, h, &a) != 1 || IN6_IS_ADDR_V4MAPPED(&a))
		return 0;
	memcpy(pfx, a.s6_addr, 8);
	return 1;
}

/* Whether a and b count as one host: the same address, or IPv6 addresses of one /64. */
static int
same_host(const char *a, const char *b)
{
	size_t n = host_len(a);
	uint8_t pa[8], pb[8];

	if (v6_prefix(a, pa) && v6_prefix(b, pb))
		return memcmp(pa, pb, sizeof(pa)) == 0;
	return n == host_len(b) && memcmp(a, b, n) == 0;
}

/* Handshakes in progress from a's host (and the new peer's, if it is that host). */
static int
pending_from(const struct kids *ks, const char *a, const char *peer)
{
	int n = same_host(a, peer);

	for (int i = 0; i < ks->max; i++)
		n += ks->k[i].pid > 0 && !ks->k[i].authed && same_host(ks->k[i].peer, a);
	return n;
}

int
kids_make_room(struct kids *ks, const char *peer)
{
	struct kid *old = NULL;
	int most = 0;

	if (ks->n_pending < SERVE_PENDING_MAX)
		return 0;
	/* The oldest handshake of the host with the most in progress (counting the peer
	 * now connecting): a host flooding the port with connections that never shake hands
	 * cuts its own, not another host's (it cut the oldest of all: honest handshakes of
	 * others, mid-way). One host among them: its oldest, as before. */
	for (int i = 0; i < ks->max; i++) {
		struct kid *k = &ks->k[i];
		int n;

		if (k->pid <= 0 || k->authed)
			continue;
		n = pending_from(ks, k->peer, peer);
		if (n > most || (n == most && k->t0 < old->t0)) {
			most = n;
			old = k;
		}
	}
	if (old == NULL)
		return 0;
	say("cut %s: its TLS handshake was the oldest of its host's %d, the most of the %d in "
	    "progress, and %s connected", old->peer, most, SERVE_PENDING_MAX, peer);
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
