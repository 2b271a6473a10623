/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_export — the streams the `export` filter publishes, for the appliance's
 * control server (app/beltlined/ctl.c) to list, attach readers to and report.
 *
 * Threads: the table is mutated on the main lcore only (filter init and fini,
 * which run while graphs are built and freed); the control server reads it on
 * the main lcore too, so no lock. The worker lcore touches only the ring.
 */
#ifndef BL_EXPORT_H
#define BL_EXPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "export_wake.h"

#define BL_EXPORT_MAX      32
#define BL_EXPORT_NAME_MAX 48      /* with the NUL: 1..47 of [A-Za-z0-9_.-] */

struct bl_ibuf;
struct bl_dbuf;
struct bl_dbuf_perm;

struct bl_export {
	char name[BL_EXPORT_NAME_MAX];
	struct bl_ibuf *ib;         /* entries point into bl_export_dbuf(x) */
	struct bl_dbuf *dbuf;       /* the packet DBuf */
	struct bl_dbuf_perm *perm;  /* the copy DBuf of (uid, gid, mode), or NULL: zero copy */
	uint32_t policy;            /* enum bl_ibuf_policy */
	uint32_t capacity;
	uint32_t max_readers;
	uid_t uid;                  /* who may attach: like a file's owner, group, mode */
	gid_t gid;
	mode_t mode;
	uint32_t wake_count;        /* moderation: wake a sleeper once this many wait */
	uint32_t wake_us;           /* ... or this long after the first did */
	int used;
	struct bl_export_wake wake; /* sleeping readers' eventfds (export_wake.h) */
};

/* Slot i of the table (0 .. BL_EXPORT_MAX-1), or NULL if unused. Main lcore only. */
struct bl_export *bl_export_at(unsigned int i);

/* The DBuf the stream's entries point into: the packet DBuf when the stream's
 * owner, group and mode are the packet DBuf's (zero copy), else the stream's
 * copy DBuf. What a reader of the stream maps, and nothing else. Main lcore only. */
struct bl_dbuf *bl_export_dbuf(const struct bl_export *x);

/* The stream named name, or NULL. Main lcore only. */
struct bl_export *bl_export_find(const char *name);

#endif /* BL_EXPORT_H */
