/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_user — the `user` filter's verdict clients, control side (lib/stream/README.md,
 * "Verdict clients"; docs/shm-abi.md, "Verdict ring"; docs/control.md, "attach_verdict").
 *
 * A `user name=NAME` filter shows its packets on an EXPORT stream of that name (an FRP
 * ring, zero copy within permissions, as `export` does) and holds each packet until a
 * verdict client returns its class. At most one verdict client at a time: it attaches as
 * an frp reader of the stream and gets, besides the reader's descriptors, a region of its
 * own (the "vring": read-write for it, mapped read-only here) where it writes classes, and
 * our tail page (sealed, read-only for it). Its control connection is the lease: when it
 * closes (exit, SIGKILL), the region is unmapped and the filter decides what the client
 * held with on_timeout.
 *
 * Threads: the table, attach and detach run on the main lcore. The worker reaches the
 * client only through bl_user_worker.h: it sets `busy`, then loads `active` (seq_cst both);
 * detach clears `active`, then waits for `busy` to drop (seq_cst both): Dekker, so the
 * region is unmapped only once no burst can be reading it.
 */
#ifndef BL_USER_H
#define BL_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_shm_abi.h"
#include "bl_stream.h"

#define BL_USER_MAX 32u

/* One verdict client's region, as the appliance maps it. Made at attach, freed at detach. */
struct bl_user_client {
	uint64_t gen;                       /* which attach made it (the worker tells clients apart) */
	uint32_t capacity;                  /* our own copy: descriptors, a power of two */
	const uint8_t *ring;                /* the client's region, read-only */
	size_t ring_size;
	const struct bl_vring_hdr *hdr;
	const struct bl_vring_desc *desc;
	struct bl_vring_tail *tp;           /* our tail page, read-write (the client's is ro) */
	uint64_t tail;                      /* the worker's: the next descriptor to look at */
	uint64_t bad_head;                  /* the worker's: the last garbage head counted, */
	bool bad_seen;                      /* ... once one was (0 is a head too) */
};

/*
 * The filter's counters (its BL_FILTER_COUNTERS table points here). The worker writes
 * them (relaxed, bl_counter_add), stats reads them (bl_counter_read).
 */
struct bl_user_counts {
	uint64_t handed;                    /* packets shown to a verdict client */
	uint64_t verdicts;                  /* classes taken (in time, once, for a packet held) */
	uint64_t verdict_drop;              /* of them, class 0 */
	uint64_t timeout_pass;              /* held timeout_us without a class: on_timeout=pass */
	uint64_t timeout_drop;              /* ... on_timeout=drop */
	uint64_t no_client_pass;            /* arrived with no verdict client attached */
	uint64_t no_client_drop;
	uint64_t gone_pass;                 /* held when the client detached or died */
	uint64_t gone_drop;
	uint64_t full_pass;                 /* not shown: max_inflight were held */
	uint64_t full_drop;
	uint64_t evicted_pass;              /* the oldest held, decided early: the window behind
	                                     * it was full */
	uint64_t evicted_drop;
	uint64_t late;                      /* a class for a packet decided already by on_timeout */
	uint64_t twice;                     /* a second class for one packet */
	uint64_t unknown;                   /* a class for a sequence never handed out */
	uint64_t bad_class;                 /* a class above BL_VERDICT_CLASS_MAX */
	uint64_t bad_head;                  /* a vring head more than capacity ahead of its tail */
	uint64_t copy_nombuf;               /* dropped: the stream's copy DBuf had no mbuf */
	uint64_t stopped;                   /* in the window when the filter stopped (held, or
	                                     * decided and not gone on yet): freed */
};

struct bl_user {
	/* set at create */
	char name[BL_STREAM_NAME_MAX];
	struct bl_stream *s;                /* the EXPORT stream its packets are shown on */
	uint32_t capacity;                  /* vring descriptors (the stream's capacity) */
	/* main lcore only */
	int used;
	struct bl_user_client *cl;          /* the client's region while one is attached */
	unsigned int reader;                /* its reader page on s */
	pid_t pid;                          /* its pid (SO_PEERCRED) */
	uid_t cuid;
	char client[48];                    /* what it called itself, printable */
	uint64_t gen;                       /* attaches, in all */
	uint64_t clients;                   /* attached now, 0 or 1 (a counter table's gauge) */
	/* shared with the worker: Dekker (above) */
	_Alignas(64) struct bl_user_client *active;
	uint32_t busy;
	/* the worker's counters: written by the filter's lcore only */
	_Alignas(64) struct bl_user_counts c;
};

/* Register u (the user filter's, in its private state; u->name, u->s and u->capacity
 * set). Errors name the argument. 0 or -errno. */
int bl_user_register(struct bl_user *u, struct bl_err *err);

/* The filter's fini (a reload or edit removed it, or the graph ends): the hook set with
 * bl_user_on_removed is called first, so the control socket ends the client's lease
 * (its connection points at u), then the client, if any, is detached. */
void bl_user_unregister(struct bl_user *u);

/* Who is told that a user filter goes (the control socket), and with what. Main lcore. */
void bl_user_on_removed(void (*fn)(struct bl_user *u, void *ctx), void *ctx);

/* The user filter of that name, or NULL. */
struct bl_user *bl_user_find(const char *name);

/* Read and write permission on the stream, as for a file opened read-write. Root may. */
int bl_user_may_attach(const struct bl_user *u, const struct bl_stream_cred *who);

/* What an attach_verdict hands the client: the reader's descriptors (as an attach) and
 * BL_CTL_FD_VRING, BL_CTL_FD_VTAIL after them. */
struct bl_user_grant {
	struct bl_stream_grant sg;
	unsigned int n_fds;
	int fd[BL_CTL_ATTACH_FDS + 2];
	const char *fd_name[BL_CTL_ATTACH_FDS + 2];
	int vfd[2];                         /* ours: closed by bl_user_grant_close */
};

/*
 * Make `who` the verdict client of u: read and write permission, no client yet, an frp
 * reader of the stream, a fresh vring (read-write for the client, read-only here) and tail
 * page. 0, or -EACCES, -EBUSY ("... already has a verdict client (pid N)"), -errno; err says
 * why in a sentence for the client. After sending, bl_user_grant_close.
 */
int bl_user_attach(struct bl_user *u, const struct bl_stream_cred *who, const char *client,
		   struct bl_user_grant *g, struct bl_err *err);
void bl_user_grant_close(struct bl_user_grant *g);

/* The client is gone (its connection closed): stop the worker reading its region, unmap it,
 * detach its reader. What it held is decided by on_timeout (gone_*). Main lcore. */
void bl_user_detach(struct bl_user *u);

/* `stats`: every user filter with its client and counters. `ls`: those who may attach. */
struct cJSON *bl_user_stats_json(void);
struct cJSON *bl_user_list_json(const struct bl_stream_cred *who);

/* The attach_verdict reply's body (docs/control.md, "attach_verdict"). */
struct cJSON *bl_user_grant_json(const struct bl_user *u, const struct bl_user_grant *g);

#endif /* BL_USER_H */
