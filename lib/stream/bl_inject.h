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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bl_err.h"
#include "bl_inject_check.h"
#include "bl_stream.h"

#define BL_INJECT_MAX 32u

struct rte_mbuf_ext_shared_info;

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
	uint64_t bad_head;                  /* the worker's: the last garbage head counted, */
	bool bad_seen;                      /* ... once one was (0 is a head too: a rewind to it
	                                     * was refused and never counted) */
	/* Zero copy (bl_inject_worker.h, Z1..Z3): slot i is held while an mbuf points at
	 * buffer i; rel is the first slot not yet given back (rel <= tail), published as
	 * the tail page's tail. In copy mode held is NULL and rel == tail after a burst. */
	uint64_t rel;                       /* the worker's */
	uint64_t pub;                       /* the worker's: the last tail stored */
	uint8_t *held;                      /* [capacity]: 1 by the worker at attach, 0 by the
	                                     * mbuf's free callback (release, any lcore) */
	struct rte_mbuf_ext_shared_info *shinfo;   /* [capacity], fcb_opaque = this writer */
	/* Writer wakeups (bl_inject_worker.h, "Wakeups"): the channel the writer sleeps on (our end),
	 * -1 if it asked for none; closed by close_write once the worker is out. */
	int wake_fd;
	uint64_t fired;                     /* the worker's: the wait it signalled last */
	uint64_t fired_at;                  /* the worker's: rel when it did */
	uint64_t mfired;                    /* main lcore: the wait its tick signalled last */
	uint64_t mfired_ns;                 /* main lcore: when it did */
	struct bl_inject_writer *next;      /* main lcore: the orphans' list */
	struct bl_inject *owner;            /* main lcore: an orphan's stream (NULL once released) */
};

/* Counters: per writer (struct bl_inject.c, reset when a writer opens) and the
 * filter's totals (*tot, never reset; its counter table reads them). Each has one
 * writing thread, bl_counter_add (relaxed), read with bl_counter_read: the worker
 * for v .. held, the main lcore for writers_total .. orphans. */
struct bl_inject_counts {
	uint64_t v[BL_INJECT_N_VERDICTS];   /* [OK]: frames accepted; the rest: refused */
	uint64_t bytes;                     /* bytes of the accepted frames */
	uint64_t bad_head;                  /* a head more than capacity ahead of the tail (or
	                                     * behind it): nothing read until it is sane */
	uint64_t nombuf;                    /* bursts left in the ring: no free mbuf */
	uint64_t copied;                    /* frames copied into an mbuf's own buffer */
	uint64_t zero_copy;                 /* frames sent as mbufs pointing at the writer's buffer */
	uint64_t held;                      /* a gauge: the writer's buffers mbufs still point
	                                     * at (stored each burst, not added) */
	uint64_t writers_total;             /* writers that opened (main lcore) */
	uint64_t reclaimed;                 /* of them, gone with frames committed and unread */
	uint64_t unread;                    /* the frames they left committed and unread: dropped
	                                     * (main lcore; none for a garbage head) */
	uint64_t orphaned;                  /* of them, gone while mbufs still pointed into their
	                                     * region: kept mapped until the last is freed */
	uint64_t wakeups;                   /* signals to a sleeping writer (worker and
	                                     * main lcore: atomic adds) */
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
	int dry;                            /* made by a dry run (bl_inject_opts.dry) */
	struct bl_inject_writer *wr;        /* the writer's region while one is open */
	pid_t pid;                          /* its pid (SO_PEERCRED) */
	uid_t wuid;
	char client[48];                    /* what it called itself, printable */
	uint64_t writers;                   /* writers that opened, in all */
	uint64_t reclaimed;                 /* of them, closed with frames not yet read */
	uint64_t unread;                    /* the frames those left unread: dropped */
	int zero_copy;                      /* set at create: mbufs point at the writer's buffers;
	                                     * turned off by bl_inject_copy_from_now (atomic) */
	unsigned int orphans;               /* main lcore: gone writers' regions still held */
	struct bl_inject_counts *tot;       /* set at create: the filter's totals (or own_tot) */
	struct bl_inject_counts own_tot;
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
	int zero_copy;                      /* 1: mbufs point at the writer's buffers (see
	                                     * filters/inject.c for when that holds) */
	struct bl_inject_counts *totals;    /* the filter's totals, added to with the writer's
	                                     * (NULL: none); must outlive the stream's release */
	int dry;                            /* a dry run's (--check, a reload's beside the running
	                                     * ones): its name clashes only with another dry run's,
	                                     * and no client finds it */
};

/* Declare an inject stream (the filter's init). Errors name the argument. 0 or -errno. */
int bl_inject_create(const struct bl_inject_opts *o, struct bl_inject **out, struct bl_err *err);

/* One copy from the next burst on, for the writer open now too (a reload's new graph
 * cannot take zero copy). Never back: a writer's region is made for its mode. */
void bl_inject_copy_from_now(struct bl_inject *s);

/* The filter's fini (a reload or edit removed it, or the graph ends): the hook set with
 * bl_inject_on_removed is called first, so the control socket ends the writer's lease
 * (its connection points at s), then the writer, if any, is closed. */
void bl_inject_release(struct bl_inject *s);

/* Who is told that an inject stream goes (the control socket), and with what. Main lcore. */
void bl_inject_on_removed(void (*fn)(struct bl_inject *s, void *ctx), void *ctx);

/* The inject stream of that name, or NULL. */
struct bl_inject *bl_inject_find(const char *name);

/* Write permission, as for a file: owner, else group, else other w bits. Root may. */
int bl_inject_may_write(const struct bl_inject *s, const struct bl_stream_cred *who);

/* What an open-write hands the writer: BL_CTL_FD_WRING, BL_CTL_FD_WTAIL, in that order,
 * then BL_CTL_FD_WAKE if it asked for one; n_fds of them. */
struct bl_inject_grant {
	int fd[3];
	const char *fd_name[3];
	unsigned int n_fds;
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
			 int want_wake, struct bl_inject_grant *g, struct bl_err *err);
void bl_inject_grant_close(struct bl_inject_grant *g);

/* The writer is gone (its connection closed, or it asked): stop the worker
 * reading its region, unmap it. Frames committed and not yet read are dropped
 * (counted in reclaimed). Main lcore; nothing if s has no writer. */
void bl_inject_close_write(struct bl_inject *s);

/* Main lcore, each tick (now_ns: CLOCK_MONOTONIC): signal a sleeping writer whose wait
 * was reached and that neither the worker nor the tick signalled (a flush's, which the
 * worker leaves to this), at most once a millisecond per writer (a writer rewriting its
 * wait gets no more). Returns how many writers sleep for a tail they may get (at most
 * their head), so the tick stays short while any does. */
int bl_inject_wake_tick(uint64_t now_ns);

/* Main lcore, each tick: unmap the regions of gone writers whose last mbuf has been
 * freed since (a free callback clears its slot; this sees it within a tick). */
void bl_inject_reap(void);

/* At exit, after the ports are closed: unmap every gone writer's region, held or
 * not (an mbuf still pointing into one is a leak the pool count reports). */
void bl_inject_reap_all(void);

/* Signal w's wake channel and count it (the worker's wake check, the tick). Any lcore. */
void bl_inject__signal(struct bl_inject *s, struct bl_inject_writer *w);

/* The zero-copy mbufs' free callback (rte_mbuf_extbuf_free_callback_t): any lcore. */
void bl_inject__zc_free(void *addr, void *opaque);

/* `stats` and `ls`: every inject stream with its writer and counters. */
struct cJSON *bl_inject_stats_json(void);

/* `ls`: the inject streams `who` may write, with their writer. */
struct cJSON *bl_inject_list_json(const struct bl_stream_cred *who);

/* The reply's body for a grant (docs/control.md, "open_write"). */
struct cJSON *bl_inject_grant_json(const struct bl_inject *s, const struct bl_inject_grant *g);

#endif /* BL_INJECT_H */
