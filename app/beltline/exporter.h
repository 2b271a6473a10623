/* SPDX-License-Identifier: BSD-3-Clause */
/* `beltline exporter` (exporter.c) and what it needs of the CLI's main.c. */
#ifndef BL_CLI_EXPORTER_H
#define BL_CLI_EXPORTER_H

/* argv[0] is "exporter". Exit status: 0 stopped by a signal, 1 cannot listen, 2 usage. */
int bl_cli_exporter(int argc, char **argv, const char *instance);

/* 1 once SIGINT or SIGTERM came (main.c's handler). */
int bl_cli_stopping(void);

#endif /* BL_CLI_EXPORTER_H */
