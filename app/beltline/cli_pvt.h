/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the `beltline` commands share among themselves: main.c's state, asking the
 * instance (instance.c), printing its replies (print.c), the commands main.c
 * dispatches to (cat.c, inject.c, reload.c, stats.c) and cat's copy loop, which
 * tap.c uses too.
 */
#ifndef BL_CLI_PVT_H
#define BL_CLI_PVT_H

#include <signal.h>

#include <cjson/cJSON.h>

#include "beltline.h"
#include "capfile.h"

/* main.c: the usage text (-h of cat and inject prints it too), -v, and the flag its
 * SIGINT/SIGTERM handler sets (bl_cli_stopping() reads it). */
extern const char bl_cli_usage[];
/* After a usage error on stderr: where the whole text is (not the whole text). */
#define BL_CLI_SEE_HELP "beltline --help lists the commands and their options\n"
extern int bl_cli_verbose;
extern volatile sig_atomic_t bl_cli_stop;
/* From now on a SIGINT or SIGTERM that arrives while a write (or read) blocks lets it
 * finish (SA_RESTART) instead of failing it with EINTR: for a command that writes a
 * file a reader must get whole (cat into a pipe). Its waits must be polls with a
 * timeout (poll is never restarted), which then see bl_cli_stop. */
void bl_cli_finish_writes_on_signal(void);

/* What a command printed on stdout went out: 0, also when the reader left (EPIPE: it has
 * what it wanted, `beltline stats | head -1`), else 1 after saying why (a full disk). */
int bl_cli_stdout_done(const char *cmd);
/* Flush stdout: 1 while it takes what is printed, 0 once a write failed (the error kept
 * for bl_cli_stdout_done). */
int bl_cli_stdout_ok(void);

/* A whole number lo..hi in arg: digits only (no sign, no blank, nothing after). 0 and
 * *out, or -1 (the caller says which option wanted what). */
int bl_cli_number(const char *arg, unsigned long long lo, unsigned long long hi,
		  unsigned long long *out);

/* instance.c. Say which instances run (after -ENOENT opening instance's socket). */
void bl_cli_hint_instances(const char *instance);

/* One request without a body to instance: its reply's JSON in *out (the caller's
 * to delete). 0, or 1 (the exit status) after saying why. */
int bl_cli_request(const char *instance, enum beltline_ctl_op op, cJSON **out);

/* print.c. An array of objects as a table under title, nested arrays as indented
 * tables under their row. */
void bl_cli_print_table(const char *title, const cJSON *arr, int indent);

/* A reply as text: its scalars, then a table per array (an object: a one-row table). */
void bl_cli_print_report(const cJSON *j);

/* The commands: argv[0] is the command. Exit status: 0 ok, 1 error, 2 usage. */
int bl_cli_cat(int argc, char **argv, const char *instance);
int bl_cli_inject(int argc, char **argv, const char *instance);
int bl_cli_ls(int argc, char **argv, const char *instance);
int bl_cli_stats(int argc, char **argv, const char *instance);
int bl_cli_top(int argc, char **argv, const char *instance);
int bl_cli_reload(int argc, char **argv, const char *instance);

/* How bl_cli_copy copies an open stream (cat.c). */
struct bl_cli_copy {
	const char *cmd;            /* "cat", "tap": how messages begin */
	const char *name;           /* the source, as messages name it */
	unsigned long long limit;   /* stop after this many entries (0: none) */
	int flows;                  /* entries are flow records: lines on stdout, cf unused */
	int json;                   /* with flows: JSON lines */
	int report;                 /* say the counts at the end even with nothing lost */
};

/*
 * Copy s into cf (path, format, rotation and ifname set by the caller; snaplen and
 * linktype are the stream's) until the stream ends, a signal comes or o->limit is
 * reached, then close cf and say what was lost. The caller closes s. Exit status:
 * 0, or 1 after saying why.
 */
int bl_cli_copy(struct beltline_stream *s, struct capfile *cf, const struct bl_cli_copy *o);

/* The same from several streams read in turn (beltline tap: a tap per lcore of a graph
 * on several); the copy ends when any of them does. At most BL_CLI_COPY_MAX. */
#define BL_CLI_COPY_MAX 16
int bl_cli_copy_n(struct beltline_stream **s, unsigned int ns, struct capfile *cf,
		  const struct bl_cli_copy *o);

#endif /* BL_CLI_PVT_H */
