/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream — the appliance's named streams, control side (lib/stream/README.md).
 *
 * A stream is an IBuf with a name, a writer (a filter on one worker lcore),
 * its readers, and, when clients may reach it, an owner, group and mode, a
 * DBuf its entries point into and wake moderation for sleeping readers. This
 * module owns the table of streams, their creation and teardown, the attach
 * sequence (permission, policy, reader page, descriptors, wake fd: each step
 * undone if a later one fails), the per-reader and per-writer accounting, and
 * the snapshots `beltline ls` and `stats` print. Filters (export, ibuf_out,
 * ibuf_in) and the control socket are its users. The burst calls are in
 * bl_stream_worker.h; what clients must agree on is in bl_stream_proto.h.
 *
 * Threads: everything here runs on the main lcore (filter init and fini while
 * graphs are built and freed, the control socket, the wake tick), so the table
 * needs no lock. The worker touches only the ring, the writer's counters and
 * the wake state, through bl_stream_worker.h.
 */
#ifndef BL_STREAM_H
#define BL_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_shm_abi.h"
#include "bl_stream_proto.h"

#define BL_STREAM_MAX_PER_KIND 32u   /* streams of one kind */
#define BL_STREAM_MAX (2u * BL_STREAM_MAX_PER_KIND)
#define BL_STREAM_LCORE_NAME_MAX 32u /* an LCORE ring's name, with the NUL: any 1..31 bytes */

struct bl_ibuf;
struct bl_ibuf_reader;
struct bl_dbuf;
struct bl_dbuf_perm;
struct cJSON;

enum bl_stream_kind {
	BL_STREAM_EXPORT = 1,   /* graph -> client processes: named by the name rule,
	                         * owner/group/mode, listed, attached over the socket */
	BL_STREAM_LCORE  = 2,   /* graph -> graphs on other lcores (ibuf_out/ibuf_in):
	                         * in-process readers only, never listed */
};

/*
 * Wake moderation (Streamline's signal moderation): a reader that found its
 * stream empty writes the entry it waits for into its page (rpage.wait =
 * seq + 1, untrusted; a cache line of its own) and sleeps on a wake channel (a socket) it got
 * at attach. The stream signals it once wake_count entries wait, or wake_us
 * after the first did. Who writes what is in README.md; detach closes
 * its end of the channel only once the worker cannot be using it (Dekker on capable/busy).
 */
struct bl_stream_wake {
	uint64_t capable;                        /* bit i: reader i has a wake channel (main writes) */
	uint32_t busy;                           /* the worker is using the channels */
	uint32_t wake_count;                     /* config, read-only after create */
	uint32_t pass;                           /* config: the writer checks once a pass too */
	uint64_t wake_ns;
	uint64_t signals;                        /* signals sent (worker and main), relaxed */
	uint64_t fired[BL_IBUF_MAX_READERS];     /* worker: the wait it signalled (main reads) */
	uint64_t fired_at[BL_IBUF_MAX_READERS];  /* worker: the head it signalled at (worker only) */
	int fd[BL_IBUF_MAX_READERS];             /* our end of reader i's channel, -1 if none (main owns) */
	/* main lcore only */
	uint64_t mfired[BL_IBUF_MAX_READERS];    /* the wait the timeout signalled */
	uint64_t mfired_head[BL_IBUF_MAX_READERS]; /* the head it did at */
	uint64_t mfired_ns[BL_IBUF_MAX_READERS]; /* and when */
	uint64_t seen[BL_IBUF_MAX_READERS];      /* the wait the current sleep began with */
	uint64_t since[BL_IBUF_MAX_READERS];     /* ns an entry was first pending; 0: none yet */
};

/* Per-reader accounting the control side keeps (the reader's own counters are
 * in its page, the producer's clamps in the ring: bl_ibuf_stats). */
struct bl_stream_reader {
	char client[48];            /* what the client called itself, printable; "" */
	uint8_t local;              /* an in-process reader (bl_stream_attach_local) */
};

/* Per-writer accounting: (p) the writer's lcore, relaxed (bl_counter_add). */
struct bl_stream_writer {
	uint64_t copied;            /* packets copied into the stream's copy DBuf */
	uint64_t copy_nombuf;       /* packets dropped: the copy DBuf had no free mbuf */
};

struct bl_stream {
	/* read-mostly: set at create */
	char name[BL_STREAM_NAME_MAX];
	uint32_t kind;              /* enum bl_stream_kind */
	struct bl_ibuf *ib;         /* entries point into bl_stream_dbuf(s) */
	struct bl_dbuf *dbuf;       /* the packet DBuf */
	struct bl_dbuf_perm *perm;  /* the copy DBuf of (uid, gid, mode), or NULL: zero copy */
	uint32_t policy;            /* enum bl_ibuf_policy */
	uint32_t capacity;          /* as declared: the least it shrinks back to */
	uint32_t max_capacity;      /* it may grow to this (> capacity), else = capacity */
	uint32_t max_readers;
	uid_t uid;                  /* who may attach: like a file's owner, group, mode */
	gid_t gid;
	mode_t mode;
	uint32_t wake_count;        /* moderation: wake a sleeper once this many wait */
	uint32_t wake_us;           /* ... or this long after the first did */
	/* main lcore only */
	unsigned int refs;          /* the writer and its in-process readers; 0: free */
	int writer;                 /* writers there: 1, 2 while a reload swaps graphs
	                             * (LCORE readers attach only when nonzero) */
	unsigned int lcore;         /* the writers' lcore */
	uint8_t tap;                /* a tap's stream (bl_stream_opts.tap): never adopted */
	uint32_t content;           /* enum bl_stream_content */
	/* A writer that is not a worker (flow's exporter thread): the instance that may
	 * write the ring now. A reload's new instance takes it at its commit, before the
	 * swap; the old one then writes no more (see filters/flow.c). seq_cst, Dekker
	 * with that writer's busy flag. NULL: none claimed it. */
	void *writer_token;
	struct bl_stream_reader reader[BL_IBUF_MAX_READERS];
	struct bl_stream_grow {     /* streams that grow (bl_stream_grow.c) */
		uint64_t losses;    /* tail drops + readers' laps, as last looked at */
		uint64_t next_ns;   /* when to look again */
		uint64_t quiet_ns;  /* since when nothing was lost */
		uint32_t cap;       /* the capacity as last seen (a change is logged) */
	} grow;
	/* the writer's lcore */
	_Alignas(64) struct bl_stream_writer w;
	/* shared with the worker (bl_stream_worker.h) */
	_Alignas(64) struct bl_stream_wake wake;
};

struct bl_stream_opts {
	size_t sz;                  /* sizeof(struct bl_stream_opts) */
	uint32_t kind;              /* enum bl_stream_kind */
	const char *name;           /* EXPORT: the name rule (bl_stream_name_ok);
	                             * LCORE: 1..BL_STREAM_LCORE_NAME_MAX-1 characters */
	struct bl_dbuf *pkt;        /* the packet DBuf the writer's packets come from */
	uint32_t policy;            /* enum bl_ibuf_policy: srp, mrp or frp */
	uint32_t capacity;          /* slots, a power of two */
	uint32_t max_capacity;      /* EXPORT: 0, or a power of two above capacity: the ring
	                             * grows while readers lose entries, up to this, and
	                             * shrinks back after a quiet while (bl_stream_grow.c) */
	uint32_t max_readers;
	uid_t uid;                  /* EXPORT: owner, group, mode (0..0777) */
	gid_t gid;
	mode_t mode;
	uint32_t wake_count;        /* EXPORT: 1..capacity */
	uint32_t wake_us;
	uint8_t wake_pass;          /* the writer runs bl_stream_wake_pass once a pass on its
	                             * worker (its filter's tick): with wake_count 1 the main
	                             * lcore's tick then need not watch its sleepers every
	                             * 100 us (bl_stream_wake.c, "Ticks") */
	unsigned int lcore;         /* the writer's lcore (a reload keeps a stream only there) */
	uint8_t tap;                /* EXPORT: a tap's (app/beltlined/tap.c), the only stream
	                             * whose name may begin BL_STREAM_TAP_PREFIX */
	uint32_t content;           /* enum bl_stream_content: what its entries are (0: packets) */
};

/* Create a stream and its ring, the writer's: refs = 1. Errors name the
 * filter argument they come from ("name: ...", "capacity: ..."). 0 or -errno. */
int bl_stream_create(const struct bl_stream_opts *o, struct bl_stream **out, struct bl_err *err);

/*
 * A dry run (beltlined --check): every check bl_stream_create makes (name rule,
 * capacity, policy, wake_count, one writer per name, the table's size), also
 * against the streams earlier checks of the same run declared; makes nothing
 * (no ring, no memory outside the process). bl_stream_check_reset starts a run.
 */
int bl_stream_check(const struct bl_stream_opts *o, struct bl_err *err);
/* A writer whose dry check failed (its arguments or bl_stream_check) still declares
 * its name, so that a reader's check does not add "no such stream" to its error. */
void bl_stream_check_failed(uint32_t kind, const char *name);
/* Whether a stream of that kind and name exists or was declared by bl_stream_check. */
bool bl_stream_check_declared(uint32_t kind, const char *name);
/* The packet pool a dry run's zero-copy rings would reserve mbufs from, as the
 * start will make it (bl_dbuf_reserve's rule and words). */
struct bl_stream_dry_pool {
	const char *name;           /* the packet DBuf's name */
	uint32_t n_mbufs, min_free;
	uid_t uid;                  /* the packet DBuf's owner, group, mode */
	gid_t gid;
	mode_t mode;
	const char *count_key;      /* the config key that sizes the pool */
	bool beside_live;           /* a reload's: the running streams do not count */
};
/* Start a dry run (NULL: end it). While one is on, bl_stream_create only checks
 * (as bl_stream_check) and gives *out = NULL: a filter that does not know about dry
 * runs makes nothing all the same. */
void bl_stream_check_reset(const struct bl_stream_dry_pool *pool);
/* In a dry run: the slots the streams checked so far reserve in the pool. */
uint64_t bl_stream_check_reserved(void);

/*
 * A reload builds its graphs beside the running ones: while adoption is on, creating
 * a stream that exists with the same kind, name, owner, group, mode, policy,
 * capacity, readers and wake moderation, written from the same lcore, takes it over
 * (the same ring, sequence numbers and readers; a second writer reference, the old
 * graph's writer stops running before the new one starts). A stream that exists
 * with other settings is refused, naming them.
 */
void bl_stream_adopt(bool on);

/* Called when an EXPORT stream's last writer leaves (a reload removed it, or a failed
 * build rolled it back), before its ring goes: the control socket ends its readers. */
void bl_stream_on_removed(void (*fn)(struct bl_stream *s, void *ctx), void *ctx);

/* The writer leaves (its filter's fini): the stream goes once no in-process
 * reader holds it. EXPORT: the control socket detached its clients first. */
void bl_stream_release(struct bl_stream *s);

/* Slot i of the table (0 .. BL_STREAM_MAX-1), or NULL if unused. */
struct bl_stream *bl_stream_at(unsigned int i);

/* The stream of that kind and name, or NULL. */
struct bl_stream *bl_stream_find(uint32_t kind, const char *name);

/* Streams of that kind. */
unsigned int bl_stream_count(uint32_t kind);

/* The DBuf the stream's entries point into: the packet DBuf when the stream's
 * owner, group and mode are the packet DBuf's (zero copy), else its copy DBuf.
 * What a reader of the stream maps, and nothing else. */
struct bl_dbuf *bl_stream_dbuf(const struct bl_stream *s);

/* ---- filter arguments every stream filter shares ---- */

/* policy=srp|mrp|frp: enum bl_ibuf_policy, or -EINVAL with err naming the key. */
int bl_stream_policy_arg(const char *s, uint32_t *out, struct bl_err *err);

/* owner=, group= (a name or a number; NULL keeps the appliance's) and mode=
 * (octal 0..0777). 0 or -EINVAL with err naming the key. */
int bl_stream_perm_args(const char *owner, const char *group, const char *mode,
			uid_t *uid, gid_t *gid, mode_t *m, struct bl_err *err);

/* ---- readers ---- */

/* Who asks, as the control socket knows it (SO_PEERCRED, SO_PEERGROUPS). */
struct bl_stream_cred {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const gid_t *groups;        /* supplementary groups, n_groups of them */
	int n_groups;               /* -1: not known (then only what both the group and the
	                             * other bits allow is allowed, bl_stream_cred_allows) */
	int wake_channel;           /* attach: the client asked for a wake channel ("wake":
	                             * "channel"); one that did not gets no wake descriptor
	                             * (libraries before 2026-12 wrote into theirs, and a
	                             * channel is shut for a client's writes) */
};

/* Read permission, as for a file: owner bits, else group bits, else other bits. Root may. */
/* The file rule, for every stream, inject stream, user filter and endpoint: root may;
 * the owner gets the owner bits of mode, a member of gid (primary or supplementary) the
 * group bits, anyone else the other bits. want: 04 read, 02 write, 06 both. */
int bl_stream_cred_in_group(const struct bl_stream_cred *who, gid_t gid);
int bl_stream_cred_allows(const struct bl_stream_cred *who, uid_t uid, gid_t gid, mode_t mode,
			  mode_t want);
int bl_stream_may_read(const struct bl_stream *s, const struct bl_stream_cred *who);

/* What an attach hands a client: descriptors named as bl_stream_proto.h says,
 * in the order the client is sent them. */
struct bl_stream_grant {
	unsigned int reader;        /* reader page index */
	uint32_t policy;            /* the policy it reads with */
	unsigned int n_fds;
	int fd[BL_CTL_ATTACH_FDS];
	const char *fd_name[BL_CTL_ATTACH_FDS];
	uint32_t own;               /* bit i: fd[i] is the grant's, closed by bl_stream_grant_close */
};

/*
 * Attach a client to an EXPORT stream: read permission, the reader's policy
 * (NULL: the stream's; else srp, mrp or frp, no stricter than the stream's), a
 * fresh reader page, its descriptors, a wake channel, the DBuf read-only. Any
 * step that fails undoes the ones before. client is shown in stats. 0, or
 * -EACCES, -EINVAL (policy), -EBUSY (every reader page taken), -errno; err
 * says why in a sentence for the client.
 */
int bl_stream_attach(struct bl_stream *s, const struct bl_stream_cred *who, const char *policy,
		     const char *client, struct bl_stream_grant *g, struct bl_err *err);

/* Once the grant is sent: close the descriptors that were made for it (the
 * page, the MRP page and our end of the wake channel stay the stream's). */
void bl_stream_grant_close(struct bl_stream_grant *g);

/* A client reader is gone (detach, its connection closed): SRP/MRP stop waiting
 * for it, its wake channel is closed once the worker cannot use it. */
void bl_stream_detach(struct bl_stream *s, unsigned int reader);

/* An in-process reader of an LCORE stream whose writer is there (ibuf_in):
 * holds the stream until bl_stream_detach_local. 0 or -errno (err says why). */
int bl_stream_attach_local(struct bl_stream *s, struct bl_ibuf_reader **out, struct bl_err *err);
void bl_stream_detach_local(struct bl_stream *s, struct bl_ibuf_reader *r);

/* ---- wake moderation, main lcore ---- */

/* Every tick: fire timeouts. now_ns: CLOCK_MONOTONIC. Returns 1 while a reader
 * of any stream sleeps unsignalled (tick faster), else 0. */
int bl_stream_wake_tick(uint64_t now_ns);

/* Main lcore: whether an LCORE ring (ibuf_out -> ibuf_in) holds entries one of its
 * readers has not passed (as published: when caught up, or every capacity/16). */
bool bl_stream_lcore_pending(void);

/* ---- streams that grow, main lcore (bl_stream_grow.c) ---- */

#define BL_STREAM_GROW_LOOK_NS  100000000ull    /* how often losses are looked at: 100 ms */
#define BL_STREAM_SHRINK_QUIET_NS 5000000000ull /* nothing lost this long: halve, down to
                                                 * the declared capacity */

/* Every tick: a stream whose readers lost entries (tail drops for SRP/MRP, laps of
 * its readers) since the last look asks its ring to double, up to max_capacity; one
 * quiet for BL_STREAM_SHRINK_QUIET_NS asks it to halve, down to its capacity. */
void bl_stream__grow_tick(struct bl_stream *s, uint64_t now_ns);

/* The capacity in effect and the number of changes (0 for a fixed stream). */
uint32_t bl_stream_capacity_now(const struct bl_stream *s);
uint64_t bl_stream_resizes(const struct bl_stream *s);

/* ---- what the control socket prints (bl_stream_json.c) ---- */

/* `ls`: the EXPORT streams `who` may read, as a JSON array. NULL: out of memory. */
struct cJSON *bl_stream_list_json(const struct bl_stream_cred *who);

/* `stats`: every EXPORT stream with its readers, as a JSON array. */
struct cJSON *bl_stream_stats_json(void);

/* The attach reply's body for a grant (docs/control.md, "attach"). */
struct cJSON *bl_stream_grant_json(const struct bl_stream *s, const struct bl_stream_grant *g);

#endif /* BL_STREAM_H */
