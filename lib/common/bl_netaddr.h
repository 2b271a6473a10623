/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_netaddr — the two address rules every network end of Beltline applies the
 * same way: how HOST:PORT is written in a URI, and what counts as loopback (the
 * only place a plain tcp:// or udp:// may listen). The client library and the
 * CLI (`beltline serve`) compile it in; no DPDK.
 */
#ifndef BL_NETADDR_H
#define BL_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Split HOST:PORT, or [V6ADDR]:PORT, into host and port (PORT: digits, 0..65535).
 * 0, or -EINVAL (also when host or port would not fit hsz or psz). */
int bl_hostport_split(const char *hp, char *host, size_t hsz, char *port, size_t psz);

/* 1 if sa is an IPv4 address in 127.0.0.0/8 or the IPv6 loopback, else 0. */
int bl_sockaddr_loopback(const struct sockaddr *sa);

#endif /* BL_NETADDR_H */
