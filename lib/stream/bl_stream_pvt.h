/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_stream_pvt — shared by the .c files of lib/stream, nobody else. */
#ifndef BL_STREAM_PVT_H
#define BL_STREAM_PVT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bl_stream;
struct bl_stream_wake;

/* Wake moderation (bl_stream_wake.c): no reader, moderation as configured. */
void bl_stream__wake_init(struct bl_stream_wake *w, uint32_t wake_count, uint32_t wake_us);

/* A wake channel for reader idx: the stream keeps its own end; the client's end is
 * returned (the caller sends and closes it). fd or -errno. */
int bl_stream__wake_attach(struct bl_stream *s, unsigned int idx);

/* Wait out the worker, close reader idx's end of its channel (none: nothing to do). */
void bl_stream__wake_detach(struct bl_stream *s, unsigned int idx);

/*
 * A wake channel (readers', writers'): a Unix stream socket pair, *ours to signal on
 * and *theirs for the client, which polls it for POLLIN (and sees the end of the
 * channel as end of file). Not an eventfd: its O_NONBLOCK lives in the one file
 * description both sides share, so a client could clear it and fill the counter, and
 * the appliance's next signal blocked for good. Our end is a description of its own.
 * 0 or -errno.
 */
int bl_stream__wake_channel(int *ours, int *theirs);

/* Signal a wake channel: one byte, never waiting (a full channel was signalled
 * already), never SIGPIPE (a client gone). 1 if sent, else 0. Any lcore. */
int bl_stream__wake_signal(int ours);

/* Main lcore, every tick: stream s's timeouts. 1 while one of its readers sleeps unsignalled. */
int bl_stream__wake_tick(struct bl_stream *s, uint64_t now_ns);

/* A client's tail page (BL_SHM_META_PAGE bytes, zeroed): a memfd named
 * "beltline-KIND-NAME", mapped read-write here (*map), then sealed (size, and
 * F_SEAL_FUTURE_WRITE) so no later mapping, the client's, may be writable.
 * The fd (the caller passes it on and closes it), or -errno with nothing left. */
int bl_stream__tail_page(const char *kind, const char *name, void **map);

/* A region a client writes (an inject writer's ring, a verdict client's ring): a memfd
 * named "beltline-KIND-NAME" of size bytes that starts with the hdr_len bytes of hdr
 * (written through the descriptor: we never map it writable), sealed against resizing
 * (a shrunk region would fault our reads) and mapped read-only here (*map) through a
 * read-only descriptor of its own, so not even mprotect could make our view writable.
 * The fd (the caller passes it on and closes it), or -errno with nothing left. */
int bl_stream__client_region(const char *kind, const char *name, const void *hdr,
			     size_t hdr_len, size_t size, const void **map);

/* What a client called itself (untrusted; NULL: ""), as stats show it: printable ASCII
 * only, any other byte '?', cut to fit dst (n bytes with the NUL). */
void bl_stream__client_name(char *dst, size_t n, const char *client);

/* A user's or group's name, else its number. */
void bl_stream__user_name(uid_t uid, char *out, size_t n);
void bl_stream__group_name(gid_t gid, char *out, size_t n);

/* "owner", "group" (names, else numbers) and "mode" ("0640") into o, as list and stats
 * show every stream, inject stream and user filter (bl_stream_json.c). */
struct cJSON;
void bl_stream__perm_json(struct cJSON *o, uid_t uid, gid_t gid, mode_t mode);

#endif /* BL_STREAM_PVT_H */
