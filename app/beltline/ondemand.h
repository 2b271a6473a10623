/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Libraries one command alone uses are loaded when that command runs, not at every
 * start of `beltline`: libmicrohttpd (`exporter`, with GnuTLS and eight libraries
 * more) and libfuse3 (`mount`) were half of each start's CPU (12.6 ms against 6.8
 * here), and scripts start `beltline stats` and `ls` often. Each command looks up its
 * few calls into a table of pointers (exporter.c, mount.c); meson gives the sonames the
 * build found (BL_SONAME_MICROHTTPD, BL_SONAME_FUSE3).
 */
#ifndef BL_CLI_ONDEMAND_H
#define BL_CLI_ONDEMAND_H

#include <stddef.h>

/* Load SONAME and set out[i] to its symbol names[i], i < n. 0, or -1 after a line on
 * stderr naming the command, the library, what the loader said and the Debian package to
 * install (by the soname: libmicrohttpd.so.12, libmicrohttpd12) (the library stays
 * loaded for the life of the process). */
int bl_cli_ondemand(const char *cmd, const char *soname, const char *const *names,
		    void **out, size_t n);

#endif /* BL_CLI_ONDEMAND_H */
