/* SPDX-License-Identifier: BSD-3-Clause */
/* `beltline tap` (tap.c) and what `beltline mount` (mount.c) shares of it. */
#ifndef BL_CLI_TAP_H
#define BL_CLI_TAP_H

#include <stddef.h>

#include "bl_stream_proto.h"   /* BL_STREAM_NAME_MAX */

/* argv[0] is "tap". Exit status: 0 stopped (signal, -c reached, reader gone), 1 error, 2 usage. */
int bl_cli_tap(int argc, char **argv, const char *instance);

/* argv[0] is "mount": beltline mount [-f] DIR (mount.c; FUSE). 0, 1 error, 2 usage. */
int bl_cli_mount(int argc, char **argv, const char *instance);

/*
 * Ask instance for a tap on spec ("[ORIGIN/]FILTER[:EDGE]"; bpf and policy may be
 * NULL): the names of its streams in streams[*n], at most max (one; a filter of a
 * graph on several lcores has a tap on each). 0, or -errno with the appliance's
 * reason in why[why_n] (-ENOENT also when no instance runs).
 */
int bl_cli_tap_make(const char *instance, const char *spec, const char *bpf, const char *policy,
		    char (*streams)[BL_STREAM_NAME_MAX], unsigned int max, unsigned int *n,
		    char *why, size_t why_n);

#endif /* BL_CLI_TAP_H */
