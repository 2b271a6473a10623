/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server's insides, shared by ctl.c (the socket, connections, limits,
 * requests and replies, the dispatch table) and the files of its operations:
 * ctl_stream.c (ls, attach, detach, open_write, attach_verdict, tap, ep_listen,
 * ep_connect), ctl_stats.c (stats, also DPDK telemetry's), ctl_admin.c (reload),
 * ctl_edit.c (edit).
 * Main lcore only.
 */
#ifndef BL_CTL_PVT_H
#define BL_CTL_PVT_H

#include <stdint.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_stream_proto.h"

#define CTL_MAX_CONNS 256        /* connections at once */
#define CTL_ROOT_RESERVE 16      /* of those, only root may take the last ones */
#define CTL_MAX_PER_UID 32       /* connections of one uid but root */
#define CTL_ACCEPT_MAX 64        /* connections accepted per tick, so a flood cannot stall it */
#define CTL_REQ_MEMBERS 256      /* members (all levels) of one request's JSON */
#define CTL_MAX_GROUPS 64

struct conn {
	int fd;                      /* -1: free */
	struct ucred cred;           /* SO_PEERCRED at accept */
	gid_t group_buf[CTL_MAX_GROUPS];
	gid_t *groups;               /* group_buf, or malloc'd for a peer in more groups */
	int n_groups;                /* SO_PEERGROUPS; -1 unknown */
	struct bl_stream *x;         /* attached stream, or NULL */
	int reader;                  /* reader page index, -1 if none */
	struct bl_inject *w;         /* the inject stream it writes, or NULL: the lease */
	struct bl_user *u;           /* the user filter it returns classes to, or NULL: the lease */
	struct bl_ep *ep;            /* the endpoint it listens on, or NULL: the lease */
	uint64_t since_ms;           /* last sign of life: accept, a request, a record taken */
	char *out;                   /* a reply going out in records (malloc), or NULL */
	size_t out_len, out_off;
	struct bl_ctl_hdr out_h;     /* its request's header */
};

/* What the server refused and closed (stats: "control"). Main lcore only. */
struct ctl_counts {
	uint64_t refused_uid;        /* a uid over CTL_MAX_PER_UID */
	uint64_t refused_full;       /* the table (or its non-root part) full */
	uint64_t idle_closed;        /* control.idle_ms without a request */
	uint64_t slow_closed;        /* control.slow_ms without taking a reply */
	uint64_t bad_requests;       /* malformed: closed, or refused with -EPROTO/-EINVAL */
	uint64_t accept_errors;      /* accept4 failed (EMFILE, ENOMEM, ...): retried each tick */
};

struct bl_ctl {
	struct bl_app *app;
	int lfd;
	char dir[108];
	char path[108];
	struct conn c[CTL_MAX_CONNS];
	struct ctl_counts n;
	bool accept_failing;         /* the last accept4 failed: lfd stays readable, so the
				      * wait leaves it out and each tick tries again */
	uint8_t buf[BL_CTL_MSG_MAX + 1];
};

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

/* An operation: the request is a checked JSON object (ctl.c's parse_request); the
 * handler replies (ctl_reply*) exactly once, or closes the connection. */
typedef void ctl_op_fn(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h,
		       const cJSON *req);

ctl_op_fn ctl_op_list, ctl_op_attach, ctl_op_detach, ctl_op_open_write,
	ctl_op_attach_verdict, ctl_op_tap, ctl_op_ep;     /* ctl_stream.c */
ctl_op_fn ctl_op_stats;                                /* ctl_stats.c */
ctl_op_fn ctl_op_reload;                               /* ctl_admin.c */
ctl_op_fn ctl_op_edit;                                 /* ctl_edit.c */

/* What `stats` replies, also DPDK telemetry's /beltline/stats (arg: the bl_ctl). */
cJSON *ctl_stats_json(void *arg);

/* Does k hold a lease (a reader, a writer, a verdict client, a listening endpoint)? */
static inline int
ctl_conn_leased(const struct conn *k)
{
	return k->x != NULL || k->w != NULL || k->u != NULL || k->ep != NULL;
}

/* End k's lease, whichever it is; the connection stays. */
void ctl_conn_detach(struct conn *k);

/* Reply to req: status and a JSON body (the caller's), with n descriptors. A reply too
 * long for one record goes out in records as the client takes them. */
void ctl_reply(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *body,
	       const int *fds, unsigned int n);

/* Reply {"error": ...} with status < 0. */
void ctl_reply_err(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reply j (deleted here) with status 0, or -ENOMEM if it cannot be printed. */
void ctl_reply_json(struct conn *k, const struct bl_ctl_hdr *req, cJSON *j, const int *fds,
		    unsigned int n);

#endif /* BL_CTL_PVT_H */
