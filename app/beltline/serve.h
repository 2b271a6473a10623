/* SPDX-License-Identifier: BSD-3-Clause */
/* `beltline serve` (serve.c). */
#ifndef BL_CLI_SERVE_H
#define BL_CLI_SERVE_H

/* argv[0] is "serve". Exit status: 0 stopped by a signal, 1 cannot listen, 2 usage. */
int bl_cli_serve(int argc, char **argv, const char *instance);

#endif /* BL_CLI_SERVE_H */
