/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_inject — streams a client writes into (the `inject` filter), control side
 * (lib/stream/README.md, "Inject streams"; docs/shm-abi.md, "A client writer's
 * region"). An inject stream has a name (the stream name rule, a namespace of
 * its own), an owner, group and mode (write permission, as for a file), and at
 * most one writer at a time. A writer's open makes it a region of its own (two
 * memfds: its ring and buffers, read-write for it and read-only for us; our
 * tail page, read-only for it); its control connection is the lease: when it
 * closes, the region is unmapped and the stream free for the next writer.
 *
 * Threads: the table, open and close run on the main lcore. The worker reaches
 * the stream only through bl_inject_worker.h: it takes `busy`, then reads
 * `active` (seq_cst both); close clears `active`, then waits for `busy` to drop
 * (seq_cst both): Dekker, so the region is unmapped only once no burst can be
 * reading it.
 */
#ifndef BL_INJECT_H
#define BL_INJECT_H

#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_inject_check.h"
#include "bl_stream.h"

#define BL_INJECT_MAX 32u

/* One writer's region, as the appliance maps it. Made at open, freed at close. */
struct bl_inject_writer {
	struct bl_inject_geom g;
	const uint8_t *ring;                /* the writer's region, read-only */
	size_t ring_size;
	const struct bl_wring_hdr *hdr;
	const struct bl_wring_desc *desc;
	const uint8_t *data;
	struct bl_wring_tail *tp;           /* our tail page, read-write (the writer's is ro) */
	uint64_t tail;                      /* the worker's: the next descriptor to look at */
	uint64_t bad_head;                  /* the worker's: the last garbage head counted */
};

/* Per-writer counters: the worker writes them (relaxed, bl_counter_add), stats reads
 * them. Reset when a new writer opens. */
struct bl_inject_counts {
	uint64_t v[BL_INJECT_N_VERDICTS];   /* [OK]: frames accepted; the rest: refused */
	uint64_t bytes;                     /* bytes of the accepted frames */
	uint64_t bad_head;                  /* a head more than capacity ahead of the tail (or
	                                     * behind it): nothing read until it is sane */
	uint64_t nombuf;                    /* bursts left in the ring: no free mbuf */
};

struct bl_inject {
	/* set at create */
	char name[BL_STREAM_NAME_MAX];
	uint32_t capacity;
	uint32_t max_frame;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	/* main lcore only */
	int used;
	struct bl_inject_writer *wr;        /* the writer's region while one is open */
	pid_t pid;                          /* its pid (SO_PEERCRED) */
	uid_t wuid;
	char client[48];                    /* what it called itself, printable */
	uint64_t writers;                   /* writers that opened, in all */
	uint64_t reclaimed;                 /* of them, closed with frames not yet read */
	/* shared with the worker: Dekker (above) */
	_Alignas(64) struct bl_inject_writer *active;
	uint32_t busy;
	/* the worker's counters of the current writer */
	_Alignas(64) struct bl_inject_counts c;
};

struct bl_inject_opts {
	size_t sz;                          /* sizeof(struct bl_inject_opts) */
	const char *name;                   /* the stream name rule */
	uint32_t capacity;                  /* descriptors and buffers, a power of two */
	uint32_t max_frame;                 /* 64..65535 */
	uid_t uid;                          /* owner, group, mode (0..0777): who may write */
	gid_t gid;
	mode_t mode;
};

/* Declare an inject stream (the filter's init). Errors name the argument. 0 or -errno. */
int bl_inject_create(const struct bl_inject_opts *o, struct bl_inject **out, struct bl_err *err);

/* The filter's fini: the control socket closed its writer first (bl_inject_close_write). */
void bl_inject_release(struct bl_inject *s);

/* The inject stream of that name, or NULL. */
struct bl_inject *bl_inject_find(const char *name);

/* Write permission, as for a file: owner, else group, else other w bits. Root may. */
int bl_inject_may_write(const struct bl_inject *s, const struct bl_stream_cred *who);

/* What an open-write hands the writer: BL_CTL_FD_WRING, BL_CTL_FD_WTAIL, in that order. */
struct bl_inject_grant {
	int fd[2];
	const char *fd_name[2];
};

/*
 * Make `who` the writer of s: write permission, no writer yet, a fresh region
 * (ring read-write for the writer, read-only here; tail page sealed so the
 * writer can only read it). 0, or -EACCES, -EBUSY ("stream X already has a
 * writer (pid N)"), -errno; err says why in a sentence for the client. After
 * sending the grant, bl_inject_grant_close: the writer has the only read-write
 * descriptor of its region.
 */
int bl_inject_open_write(struct bl_inject *s, const struct bl_stream_cred *who, const char *client,
			 struct bl_inject_grant *g, struct bl_err *err);
void bl_inject_grant_close(struct bl_inject_grant *g);

/* The writer is gone (its connection closed, or it asked): stop the worker
 * reading its region, unmap it. Frames committed and not yet read are dropped
 * (counted in reclaimed). Main lcore; nothing if s has no writer. */
void bl_inject_close_write(struct bl_inject *s);

/* `stats` and `ls`: every inject stream with its writer and counters. */
struct cJSON *bl_inject_stats_json(void);

/* `ls`: the inject streams `who` may write, with their writer. */
struct cJSON *bl_inject_list_json(const struct bl_stream_cred *who);

/* The reply's body for a grant (docs/control.md, "open_write"). */
struct cJSON *bl_inject_grant_json(const struct bl_inject *s);

#endif /* BL_INJECT_H */
