/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server (ctl.h; the protocol is docs/control.md, the wire header
 * lib/stream/bl_stream_proto.h). Main lcore only: it speaks the protocol and
 * leaves the streams to lib/stream (bl_stream.h: the table, permissions, the
 * attach sequence, what ls and stats show), which the main lcore alone mutates.
 *
 * Every byte from a client is hostile: the header is checked field by field,
 * the body must be exactly len bytes of JSON, descriptors a client sends are
 * discarded by the kernel (recv without a control buffer), and nothing a
 * client writes into its reader page is trusted (the IBuf library clamps).
 * A connection is a lease: when it closes, its reader is detached at the next
 * tick, so an SRP/MRP stream never waits for a dead client.
 *
 * Limits (docs/control.md, "Limits"): no uid but root holds more than
 * CTL_MAX_PER_UID connections, and CTL_ROOT_RESERVE of the table are root's, so
 * neither one user nor many can lock the others out. A connection not attached
 * to a stream that sends no request for CTL_IDLE_MS is closed; so is one that
 * takes none of a pending reply for CTL_SLOW_MS (a request is one SOCK_SEQPACKET
 * record, never partial). Whom it refuses or closes, the server tells why in a
 * notice (bl_stream_proto.h) first. A reply of any size goes out in records of at
 * most BL_CTL_MSG_MAX bytes as the client takes them; meanwhile no further
 * request of that connection is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_stream_proto.h"
#include "bl_inject.h"
#include "bl_user.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_json.h"
#include "bl_log.h"
#include "bl_port.h"
#include "bl_stream.h"
#include "ctl.h"
#include "ep.h"
#include "reaper.h"
#include "telemetry.h"
#include "reload.h"
#include "tap.h"

#define CTL_MAX_CONNS 256        /* connections at once */
#define CTL_ROOT_RESERVE 16      /* of those, only root may take the last ones */
#define CTL_MAX_PER_UID 32       /* connections of one uid but root */
#define CTL_IDLE_MS 10000        /* no request this long, not attached: closed */
#define CTL_SLOW_MS 5000         /* no record of a pending reply taken this long: closed */
#define CTL_ACCEPT_MAX 64        /* connections accepted per tick, so a flood cannot stall it */
#define CTL_REQ_MEMBERS 256      /* members (all levels) of one request's JSON */
#define CTL_MAX_GROUPS 64

struct conn {
	int fd;                      /* -1: free */
	struct ucred cred;           /* SO_PEERCRED at accept */
	gid_t groups[CTL_MAX_GROUPS];
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
	uint64_t idle_closed;        /* CTL_IDLE_MS without a request */
	uint64_t slow_closed;        /* CTL_SLOW_MS without taking a reply */
	uint64_t bad_requests;       /* malformed: closed, or refused with -EPROTO/-EINVAL */
};

struct bl_ctl {
	struct bl_app *app;
	int lfd;
	char dir[108];
	char path[108];
	struct conn c[CTL_MAX_CONNS];
	struct ctl_counts n;
	uint8_t buf[BL_CTL_MSG_MAX + 1];
};

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

static cJSON *stats_json(void *arg);

static uint64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static const char *
run_dir(void)
{
	const char *d = getenv("BELTLINE_RUN_DIR");

	return d != NULL && d[0] != '\0' ? d : BL_CTL_RUN_DIR;
}

/*
 * A folder of the control socket could not be made. When it is a matter of
 * rights (an ordinary user and root's /run/beltline), say the two ways out.
 * Returns -e.
 */
static int
say_cannot_create(const char *path, int e)
{
	char parent[108], me[32], owner[32], why[256];
	const struct passwd *pw;
	struct stat st;
	char *slash;

	if (e != EACCES && e != EPERM && e != EROFS) {
		bl_log(BL_LOG_ERR, "control socket: cannot create %s: %s", path, strerror(e));
		return -e;
	}
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), "/");
	pw = getpwuid(geteuid());
	snprintf(me, sizeof(me), "%s", pw != NULL ? pw->pw_name : "?");
	if (pw == NULL)
		snprintf(me, sizeof(me), "uid %u", (unsigned int)geteuid());
	owner[0] = '\0';
	if (stat(parent, &st) == 0) {
		pw = getpwuid(st.st_uid);
		if (pw != NULL)
			snprintf(owner, sizeof(owner), "%s", pw->pw_name);
		else
			snprintf(owner, sizeof(owner), "uid %u", (unsigned int)st.st_uid);
	}
	if (owner[0] != '\0')
		snprintf(why, sizeof(why), " (%s belongs to %s; this process runs as %s): run beltlined "
			 "as %s", parent, owner, me, owner);
	else
		snprintf(why, sizeof(why), " (this process runs as %s): run beltlined as a user who "
			 "may write there", me);
	bl_log(BL_LOG_ERR, "control socket: cannot create %s: %s%s, or set BELTLINE_RUN_DIR to a "
	       "folder of your own, and the same BELTLINE_RUN_DIR for its clients (beltline ls, "
	       "stats, cat)", path, strerror(e), why);
	return -e;
}

/* A live server answers a connect: then the socket is not stale. */
static int
socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static void conn_close(struct conn *k);
static void notice_close(int fd, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A reload removed s (its last writer left): its readers are told so, then closed out. */
static void
stream_removed(struct bl_stream *s, void *ctx)
{
	struct bl_ctl *c = ctx;
	char name[BL_STREAM_NAME_MAX];

	snprintf(name, sizeof(name), "%s", s->name);
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *k = &c->c[i];
		int fd = k->fd;

		if (fd < 0 || k->x != s)
			continue;
		k->fd = -1;
		conn_close(k);   /* the reader detached while its stream is still whole */
		notice_close(fd, -ENOENT, "stream removed: \"%s\" is not in the appliance's new "
			     "config", name);
	}
}

int
bl_ctl_start(struct bl_app *app, struct bl_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bl_ctl *c;
	int n;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->app = app;
	c->lfd = -1;
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		c->c[i].fd = -1;
		c->c[i].reader = -1;
	}
	n = snprintf(c->path, sizeof(c->path), "%s/%s/%s", run_dir(), app->cfg.instance, BL_CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(c->path) || (size_t)n >= sizeof(sa.sun_path)) {
		bl_log(BL_LOG_ERR, "control socket: path %s/%s/%s is too long for a unix "
		       "socket (set BELTLINE_RUN_DIR shorter)", run_dir(), app->cfg.instance,
		       BL_CTL_SOCKET);
		free(c);
		return -ENAMETOOLONG;
	}
	snprintf(c->dir, sizeof(c->dir), "%s/%s", run_dir(), app->cfg.instance);
	if (mkdir(run_dir(), 0755) < 0 && errno != EEXIST) {
		int e = say_cannot_create(run_dir(), errno);
		free(c);
		return e;
	}
	if (mkdir(c->dir, 0755) < 0 && errno != EEXIST) {
		int e = say_cannot_create(c->dir, errno);
		free(c);
		return e;
	}
	if (access(c->path, F_OK) == 0) {
		if (socket_live(c->path)) {
			bl_log(BL_LOG_ERR, "instance \"%s\" is already running (its control "
			       "socket %s answers); give this one another instance name",
				app->cfg.instance, c->path);
			free(c);
			return -EADDRINUSE;
		}
		unlink(c->path);   /* stale: nobody answers */
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Mode and group from the config (control.mode, control.group). Until the
	 * chmod the socket has bind's umask-limited mode: never more open than asked
	 * for a usual umask (a connect needs write permission). */
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (app->cfg.ctl_gid >= 0 && chown(c->path, (uid_t)-1, (gid_t)app->cfg.ctl_gid) < 0) ||
	    chmod(c->path, (mode_t)app->cfg.ctl_mode) < 0 || listen(c->lfd, 16) < 0) {
		int e = errno;
		bl_log(BL_LOG_ERR, "control socket %s: %s", c->path, strerror(e));
		if (c->lfd >= 0)
			close(c->lfd);
		unlink(c->path);
		rmdir(c->dir);
		free(c);
		return -e;
	}
	bl_reaper_note(BL_REAPER_DIR, c->dir);
	bl_reaper_note(BL_REAPER_SOCKET, c->path);
	n = bl_tel_start(stats_json, c);
	if (n != 0)   /* the control socket still serves the same */
		fprintf(stderr, "beltlined: DPDK telemetry: cannot register /beltline/stats: %s\n",
			strerror(-n));
	bl_stream_on_removed(stream_removed, c);
	*out = c;
	return 0;
}

static void
conn_detach(struct conn *k)
{
	if (k->x != NULL && k->reader >= 0)
		bl_stream_detach(k->x, (unsigned int)k->reader);
	k->x = NULL;
	k->reader = -1;
	if (k->w != NULL)
		bl_inject_close_write(k->w);   /* reclaims its buffers: the lease is over */
	k->w = NULL;
	if (k->u != NULL)
		bl_user_detach(k->u);          /* what it held: on_timeout decides */
	k->u = NULL;
	bl_ep_unlisten(k->ep);             /* the name is free again; pairs live on */
	k->ep = NULL;
}

static void
conn_close(struct conn *k)
{
	conn_detach(k);
	if (k->fd >= 0)
		close(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->reader = -1;
}

void
bl_ctl_stop(struct bl_ctl *c)
{
	if (c == NULL)
		return;
	bl_tel_stop();
	bl_app_taps_stop(c->app);   /* tap.c: its readers are told, as for a removed stream */
	bl_stream_on_removed(NULL, NULL);
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		if (c->c[i].fd >= 0)
			conn_close(&c->c[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	unlink(c->path);
	rmdir(c->dir);
	free(c);
}

/* Send what the client takes of k's pending reply, one record at a time; the rest waits
 * for POLLOUT. A record's op carries BL_CTL_OP_MORE unless it is the last. */
static void
flush(struct conn *k)
{
	const size_t room = BL_CTL_MSG_MAX - sizeof(struct bl_ctl_hdr);

	while (k->out != NULL) {
		size_t len = k->out_len - k->out_off < room ? k->out_len - k->out_off : room;
		struct bl_ctl_hdr h = k->out_h;
		struct iovec iov[2] = { { &h, sizeof(h) }, { k->out + k->out_off, len } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

		h.len = (uint32_t)len;
		if (k->out_off + len < k->out_len)
			h.op |= BL_CTL_OP_MORE;
		if (sendmsg(k->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(k);
			return;           /* full: the tick polls for POLLOUT */
		}
		k->out_off += len;
		k->since_ms = mono_ms();
		if (k->out_off == k->out_len) {
			free(k->out);
			k->out = NULL;
		}
	}
}

/* Send one reply: header + JSON (+ fds). The JSON is the caller's. A reply too long for
 * one message (and without descriptors) is kept and sent in records by flush(). */
static void
reply(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *body, const int *fds,
	unsigned int n)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * BL_CTL_FDS_MAX)];
	} cm;
	struct bl_ctl_hdr h = *req;
	size_t len = strlen(body);
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	if (len > BL_CTL_MSG_MAX - sizeof(h) && n == 0) {
		k->out = malloc(len);
		if (k->out != NULL) {
			memcpy(k->out, body, len);
			k->out_len = len;
			k->out_off = 0;
			k->out_h = (struct bl_ctl_hdr){ .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
				.op = req->op, .id = req->id, .status = status };
			flush(k);
			return;
		}
		body = "{\"error\":\"out of memory for the reply\"}";
		len = strlen(body);
		iov[1].iov_base = (void *)(uintptr_t)body;
		iov[1].iov_len = len;
		status = -ENOMEM;
	} else if (len > BL_CTL_MSG_MAX - sizeof(h)) {
		body = "{\"error\":\"the reply would exceed 65536 bytes\"}";
		len = strlen(body);
		iov[1].iov_base = (void *)(uintptr_t)body;
		iov[1].iov_len = len;
		status = -EMSGSIZE;
		n = 0;
	}
	memset(&cm, 0, sizeof(cm));
	h.magic = BL_CTL_MAGIC;
	h.version = BL_CTL_VERSION;
	h.status = status;
	h.n_fds = n;
	h.len = (uint32_t)len;
	if (n > 0) {
		struct cmsghdr *ch;
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		ch = CMSG_FIRSTHDR(&m);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * n);
	}
	/* Non-blocking: a client that does not read its replies loses them, not us a tick. */
	if (sendmsg(k->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		conn_close(k);
}

static void
reply_err(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reply_err(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	cJSON *j = cJSON_CreateObject();
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(j, "error", msg);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	reply(k, req, status, s != NULL ? s : "{\"error\":\"out of memory\"}", NULL, 0);
	cJSON_free(s);
}

static void
reply_json(struct conn *k, const struct bl_ctl_hdr *req, cJSON *j, const int *fds, unsigned int n)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s == NULL)
		reply_err(k, req, -ENOMEM, "out of memory building the reply");
	else
		reply(k, req, 0, s, fds, n);
	cJSON_free(s);
	cJSON_Delete(j);
}

/*
 * Tell a client why it is being shut out, then close: a notice (bl_stream_proto.h), then
 * shutdown(SHUT_RD) so the client's sends fail with EPIPE instead of queueing, then
 * whatever it sent before is read and dropped. Closing with unread data would set
 * ECONNRESET on the client's socket, which it would see before the notice.
 */
static void
notice_close(int fd, int status, const char *fmt, ...)
{
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_NOTICE, .status = status };
	char msg[256], *s;
	cJSON *j = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(j, "error", msg);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (s != NULL) {
		struct iovec iov[2] = { { &h, sizeof(h) }, { s, strlen(s) } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

		h.len = (uint32_t)strlen(s);
		(void)sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		cJSON_free(s);
	}
	shutdown(fd, SHUT_RD);
	/* The queue is finite now; bounded all the same (each recv takes one record). */
	for (int i = 0; i < 4096 && recv(fd, &h, 1, MSG_DONTWAIT | MSG_TRUNC) > 0; i++)
		;
	close(fd);
}

/* Who the peer is, as the stream layer checks it. */
static struct bl_stream_cred
conn_cred(const struct conn *k)
{
	struct bl_stream_cred who = {
		.uid = k->cred.uid, .gid = k->cred.gid, .pid = k->cred.pid,
		.groups = k->groups, .n_groups = k->n_groups,
	};
	return who;
}

static void
op_list(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h)
{
	struct bl_stream_cred who = conn_cred(k);
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "instance", c->app->cfg.instance);
	cJSON_AddItemToObject(j, "streams", bl_stream_list_json(&who));
	cJSON_AddItemToObject(j, "injects", bl_inject_list_json(&who));
	cJSON_AddItemToObject(j, "users", bl_user_list_json(&who));
	cJSON_AddItemToObject(j, "endpoints", bl_ep_list_json(&who));
	reply_json(k, h, j, NULL, 0);
}

static int conn_busy(struct conn *k, const struct bl_ctl_hdr *h);

/* ep_listen, ep_connect (ep.c does the work). */
static void
op_ep(struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	struct bl_stream_cred who = conn_cred(k);
	struct bl_ep_reply r;

	if (h->op == BL_CTL_EP_LISTEN && conn_busy(k, h))
		return;
	if (h->op == BL_CTL_EP_LISTEN)
		bl_ep_listen(k->fd, &who, req, &k->ep, &r);
	else
		bl_ep_connect(&who, req, &r);
	if (r.status < 0)
		reply_err(k, h, r.status, "%s", r.err);
	else
		reply_json(k, h, r.j, r.fd, r.n_fds);
	for (unsigned int i = 0; i < r.n_fds; i++)
		close(r.fd[i]);        /* the client has its own now */
}

/* A connection holds one stream at most (its lease): 1, with the refusal sent, if it has one. */
static int
conn_busy(struct conn *k, const struct bl_ctl_hdr *h)
{
	if (k->x == NULL && k->w == NULL && k->u == NULL && k->ep == NULL)
		return 0;
	reply_err(k, h, -EISCONN, "this connection is already attached to \"%s\"; open "
		  "another connection for another stream", k->u != NULL ? k->u->name :
		  k->x != NULL ? k->x->name : k->w != NULL ? k->w->name : bl_ep_name(k->ep));
	return 1;
}

static void
op_attach(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(req, "stream");
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "client");
	const cJSON *jp = cJSON_GetObjectItemCaseSensitive(req, "policy");
	struct bl_stream_cred who = conn_cred(k);
	struct bl_stream_grant g;
	struct bl_stream *x;
	struct bl_err err = { 0 };
	const char *policy = NULL;
	cJSON *j;
	int rc;

	if (conn_busy(k, h))
		return;
	if (!cJSON_IsString(js) || js->valuestring == NULL) {
		reply_err(k, h, -EINVAL, "attach: \"stream\" (a string) is required");
		return;
	}
	x = strlen(js->valuestring) < BL_STREAM_NAME_MAX ?
		bl_stream_find(BL_STREAM_EXPORT, js->valuestring) : NULL;
	if (x == NULL) {
		reply_err(k, h, -ENOENT, "no stream \"%.47s\" in instance \"%s\" (beltline ls "
			  "lists them)", js->valuestring, c->app->cfg.instance);
		return;
	}
	if (jp != NULL && !cJSON_IsNull(jp))    /* not a string: a policy no stream takes */
		policy = cJSON_IsString(jp) && jp->valuestring != NULL ? jp->valuestring : "";
	rc = bl_stream_attach(x, &who, policy, cJSON_IsString(jc) ? jc->valuestring : NULL, &g,
			      &err);
	if (rc < 0) {
		reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_stream_grant_json(x, &g);
	if (j == NULL) {
		bl_stream_grant_close(&g);
		bl_stream_detach(x, g.reader);
		reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->x = x;
	k->reader = (int)g.reader;
	reply_json(k, h, j, g.fd, g.n_fds);
	bl_stream_grant_close(&g);   /* the client has its own now */
}

static void
op_open_write(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(req, "stream");
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "client");
	struct bl_stream_cred who = conn_cred(k);
	struct bl_inject_grant g;
	struct bl_inject *s;
	struct bl_err err = { 0 };
	cJSON *j;
	int rc;

	if (conn_busy(k, h))
		return;
	if (!cJSON_IsString(js) || js->valuestring == NULL) {
		reply_err(k, h, -EINVAL, "open_write: \"stream\" (a string) is required");
		return;
	}
	s = strlen(js->valuestring) < BL_STREAM_NAME_MAX ? bl_inject_find(js->valuestring) : NULL;
	if (s == NULL) {
		reply_err(k, h, -ENOENT, "no inject stream \"%.47s\" in instance \"%s\" (beltline "
			  "stats lists them under \"injects\")", js->valuestring, c->app->cfg.instance);
		return;
	}
	rc = bl_inject_open_write(s, &who, cJSON_IsString(jc) ? jc->valuestring : NULL, &g, &err);
	if (rc < 0) {
		reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_inject_grant_json(s);
	if (j == NULL) {
		bl_inject_grant_close(&g);
		bl_inject_close_write(s);
		reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->w = s;
	reply_json(k, h, j, g.fd, 2);
	bl_inject_grant_close(&g);   /* the writer holds the only read-write descriptor now */
}

static void
op_attach_verdict(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(req, "stream");
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "client");
	struct bl_stream_cred who = conn_cred(k);
	struct bl_user_grant g;
	struct bl_user *u;
	struct bl_err err = { 0 };
	cJSON *j;
	int rc;

	if (conn_busy(k, h))
		return;
	if (!cJSON_IsString(js) || js->valuestring == NULL) {
		reply_err(k, h, -EINVAL, "attach_verdict: \"stream\" (a string) is required");
		return;
	}
	u = strlen(js->valuestring) < BL_STREAM_NAME_MAX ? bl_user_find(js->valuestring) : NULL;
	if (u == NULL) {
		reply_err(k, h, -ENOENT, "no user filter \"%.47s\" in instance \"%s\" (beltline "
			  "ls lists them under \"users\")", js->valuestring, c->app->cfg.instance);
		return;
	}
	rc = bl_user_attach(u, &who, cJSON_IsString(jc) ? jc->valuestring : NULL, &g, &err);
	if (rc < 0) {
		reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_user_grant_json(u, &g);
	if (j == NULL) {
		bl_user_grant_close(&g);
		bl_user_detach(u);
		reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->u = u;
	reply_json(k, h, j, g.fd, g.n_fds);
	bl_user_grant_close(&g);   /* the client holds the only read-write vring descriptor now */
}

/* The server's own counters and limits: "control" in stats. */
static void
stats_control(const struct bl_ctl *c, cJSON *o)
{
	unsigned int used = 0;

	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		used += c->c[i].fd >= 0;
	N(o, "connections", used);
	N(o, "max", CTL_MAX_CONNS);
	N(o, "max_per_uid", CTL_MAX_PER_UID);
	N(o, "root_reserve", CTL_ROOT_RESERVE);
	N(o, "idle_ms", CTL_IDLE_MS);
	N(o, "slow_ms", CTL_SLOW_MS);
	N(o, "refused_uid", c->n.refused_uid);
	N(o, "refused_full", c->n.refused_full);
	N(o, "idle_closed", c->n.idle_closed);
	N(o, "slow_closed", c->n.slow_closed);
	N(o, "bad_requests", c->n.bad_requests);
}

/* The C heap (malloc; DPDK's memory is not in it): "heap" in stats. in_use is live
 * memory (a leak grows it); system is what malloc holds from the kernel, in_use plus
 * free chunks it keeps (their pages stay resident once touched). tests/soak tells a
 * leak from first touch with it. */
static void
stats_heap(cJSON *o)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi = mallinfo2();

	N(o, "in_use", mi.uordblks + mi.hblkhd);
	N(o, "free", mi.fordblks);
	N(o, "system", mi.arena + mi.hblkhd);
#else
	(void)o;
#endif
}

/* What `stats` replies (also the DPDK telemetry commands': telemetry.h). Main lcore. */
static cJSON *
stats_json(void *arg)
{
	const struct bl_ctl *c = arg;
	const struct bl_app *app = c->app;
	cJSON *j = cJSON_CreateObject(), *ports, *filters, *edges;

	cJSON_AddStringToObject(j, "instance", app->cfg.instance);
	N(j, "uptime_s", (double)(rte_get_tsc_cycles() - app->start_tsc) / (double)rte_get_tsc_hz());
	ports = cJSON_AddArrayToObject(j, "ports");
	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		struct bl_port_hw_stats hw;
		cJSON *o = cJSON_CreateObject();

		memset(&hw, 0, sizeof(hw));
		bl_port_hw_stats(app->port_id[p], &hw);
		cJSON_AddStringToObject(o, "name", app->cfg.ports[p].name);
		N(o, "rx", hw.ipackets);
		N(o, "tx", hw.opackets);
		N(o, "rx_bytes", hw.ibytes);
		N(o, "tx_bytes", hw.obytes);
		N(o, "rx_missed", hw.imissed);
		N(o, "rx_nombuf", hw.rx_nombuf);
		N(o, "rx_errors", hw.ierrors);
		N(o, "tx_errors", hw.oerrors);
		N(o, "replay_unmatched", hw.replay_unmatched);
		cJSON_AddItemToArray(ports, o);
	}
	filters = cJSON_AddArrayToObject(j, "filters");
	edges = cJSON_AddArrayToObject(j, "edges");
	for (unsigned int w = 0; w < app->n_workers; w++)
		for (unsigned int g = 0; g < app->workers[w].n_graphs; g++) {
			const struct bl_graph *gr = app->workers[w].graphs[g];
			char gname[48];

			snprintf(gname, sizeof(gname), "%s.%u", app->workers[w].origin[g],
				 app->workers[w].replica[g]);
			for (unsigned int i = 0; i < bl_graph_n_filters(gr); i++) {
				const struct bl_filter *f = bl_graph_filter(gr, i);
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "graph", gname);
				cJSON_AddStringToObject(o, "name", f->name);
				bl_app_filter_json(gr, f, o);
				cJSON_AddItemToArray(filters, o);
				for (unsigned int e = 0; e < f->n_out; e++) {
					cJSON *eo = cJSON_CreateObject();
					cJSON_AddStringToObject(eo, "graph", gname);
					cJSON_AddStringToObject(eo, "from", f->name);
					cJSON_AddStringToObject(eo, "to", f->out[e].to->name);
					bl_app_edge_json(&f->out[e], eo);
					cJSON_AddItemToArray(edges, eo);
				}
			}
		}
	cJSON_AddItemToObject(j, "streams", bl_stream_stats_json());
	if (app->pool != NULL) {     /* live: in a NIC's rings, in flight, held by streams */
		cJSON *mb = cJSON_AddObjectToObject(j, "mbufs");
		unsigned int avail = rte_mempool_avail_count(app->pool);

		N(mb, "pool_size", app->pool->size);
		N(mb, "in_use", app->pool->size - avail);
	}
	cJSON_AddItemToObject(j, "injects", bl_inject_stats_json());
	cJSON_AddItemToObject(j, "users", bl_user_stats_json());
	cJSON_AddItemToObject(j, "endpoints", bl_ep_stats_json());
	stats_control(c, cJSON_AddObjectToObject(j, "control"));
	cJSON *rl = cJSON_AddObjectToObject(j, "reload");
	N(rl, "reloads", app->reloads);
	N(rl, "failures", app->reload_failures);
	N(rl, "epoch", app->epoch);
	cJSON_AddStringToObject(rl, "last_error", app->reload_error);
	cJSON *wa = cJSON_AddArrayToObject(rl, "workers");
	for (unsigned int w = 0; w < app->n_workers; w++) {
		cJSON *o = cJSON_CreateObject();
		N(o, "lcore", app->workers[w].lcore);
		N(o, "swaps", bl_counter_read(&app->workers[w].swaps));
		N(o, "swap_max_ns", bl_counter_read(&app->workers[w].swap_max_ns));
		cJSON_AddItemToArray(wa, o);
	}
	stats_heap(cJSON_AddObjectToObject(j, "heap"));
	return j;
}

static void
op_stats(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h)
{
	reply_json(k, h, stats_json(c), NULL, 0);
}

/* Reload (reload.c): the appliance's own user (or root) only; the reply says how it went. */
static void
op_reload(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "config");
	const cJSON *jf = cJSON_GetObjectItemCaseSensitive(req, "fail_step");
	struct bl_err err;
	cJSON *j;

	if (k->cred.uid != 0 && k->cred.uid != geteuid()) {
		reply_err(k, h, -EPERM, "reload: only root or the appliance's own user may reload it");
		return;
	}
	if (jc != NULL && (!cJSON_IsString(jc) || jc->valuestring == NULL || jc->valuestring[0] != '/')) {
		reply_err(k, h, -EINVAL, "reload: \"config\" must be an absolute path");
		return;
	}
	if (jf != NULL) {
		if (!c->app->test_hooks || !cJSON_IsNumber(jf) || jf->valuedouble < 1 ||
		    jf->valuedouble > 1e6) {
			reply_err(k, h, -EINVAL, "reload: fail_step is a test hook (BELTLINED_TEST_HOOKS=1)");
			return;
		}
		c->app->test_fail_step = (unsigned int)jf->valuedouble;
	}
	if (bl_app_reload(c->app, jc != NULL ? jc->valuestring : NULL, &err) != 0) {
		reply_err(k, h, err.code != 0 ? err.code : -EINVAL, "%s", err.msg);
		return;
	}
	j = cJSON_CreateObject();
	N(j, "epoch", c->app->epoch);
	N(j, "reloads", c->app->reloads);
	reply_json(k, h, j, NULL, 0);
}

static unsigned int
members(const cJSON *v)
{
	unsigned int n = 0;

	for (const cJSON *e = cJSON_IsArray(v) || cJSON_IsObject(v) ? v->child : NULL; e != NULL;
	     e = e->next)
		n += 1 + members(e);
	return n;
}

/*
 * The request's JSON, read strictly: one object and nothing after it but white space;
 * no raw control byte (JSON allows none but tab, newline and return between tokens
 * and none inside strings; cJSON skips them all as white space); no string or key with a NUL (cJSON would cut "web\u0000x" to "web"); no key twice
 * (which one would count?). NULL after replying why.
 */
static cJSON *
parse_request(struct conn *k, const struct bl_ctl_hdr *h, const char *body)
{
	const char *end = NULL;
	char path[128];
	int is_key;
	cJSON *req = h->len != 0 ? cJSON_ParseWithLengthOpts(body, h->len, &end, false) : NULL;

	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		reply_err(k, h, -EPROTO, "the request body must be a JSON object");
		return NULL;
	}
	for (const char *p = body; p < end; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
			reply_err(k, h, -EPROTO, "a raw %s byte 0x%02x at byte %zu of the request: "
				  "JSON allows none (escape it in a string)",
				  *p == '\0' ? "NUL" : "control", (unsigned char)*p, (size_t)(p - body));
			cJSON_Delete(req);
			return NULL;
		}
	for (const char *p = end; p < body + h->len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			reply_err(k, h, -EPROTO, "%zu bytes after the request's JSON object (at "
				  "byte %zu): send one object and nothing after it",
				  (size_t)(body + h->len - p), (size_t)(p - body));
			cJSON_Delete(req);
			return NULL;
		}
	if (members(req) > CTL_REQ_MEMBERS) {
		reply_err(k, h, -EPROTO, "the request has more than %u members", CTL_REQ_MEMBERS);
	} else if (bl_json_find_nul(body, (size_t)(end - body), req, path, sizeof(path), &is_key)) {
		int top = is_key && strcmp(path, "$") == 0;

		reply_err(k, h, -EINVAL, "request: %s%s%s contains a NUL character (\\u0000): "
			  "refused, not cut", is_key ? "a key of " : "\"", top ? "the request" : path,
			  is_key ? "" : "\"");
	} else if (bl_json_find_twice(req, path, sizeof(path))) {
		reply_err(k, h, -EINVAL, "request: \"%s\" given twice", path);
	} else {
		return req;
	}
	cJSON_Delete(req);
	return NULL;
}

static void
serve(struct bl_ctl *c, struct conn *k)
{
	struct bl_ctl_hdr h;
	cJSON *req;
	ssize_t r = recv(k->fd, c->buf, BL_CTL_MSG_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r <= 0) {               /* closed (exit, SIGKILL) or broken: the lease ends */
		conn_close(k);
		return;
	}
	k->since_ms = mono_ms();
	c->n.bad_requests++;        /* until the request is found well formed */
	if ((size_t)r < sizeof(h) || (size_t)r > BL_CTL_MSG_MAX) {
		conn_close(k);          /* not our protocol: no reply can be addressed */
		return;
	}
	memcpy(&h, c->buf, sizeof(h));
	if (h.magic != BL_CTL_MAGIC || h.version != BL_CTL_VERSION) {
		conn_close(k);
		return;
	}
	if (h.len != (size_t)r - sizeof(h) || h.n_fds != 0 || h.status != 0) {
		reply_err(k, &h, -EPROTO, "malformed request: len, n_fds or status is wrong");
		return;
	}
	req = parse_request(k, &h, (const char *)c->buf + sizeof(h));
	if (req == NULL)
		return;
	c->n.bad_requests--;
	switch (h.op) {
	case BL_CTL_LIST:
		op_list(c, k, &h);
		break;
	case BL_CTL_ATTACH:
		op_attach(c, k, &h, req);
		break;
	case BL_CTL_DETACH:
		conn_detach(k);
		reply(k, &h, 0, "{}", NULL, 0);
		break;
	case BL_CTL_STATS:
		op_stats(c, k, &h);
		break;
	case BL_CTL_OPEN_WRITE:
		op_open_write(c, k, &h, req);
		break;
	case BL_CTL_RELOAD:
		op_reload(c, k, &h, req);
		break;
	case BL_CTL_ATTACH_VERDICT:
		op_attach_verdict(c, k, &h, req);
		break;
	case BL_CTL_TAP: {   /* tap.c; the client then attaches to the stream it names */
		struct bl_stream_cred who = conn_cred(k);
		struct bl_err err = { 0 };
		cJSON *j = bl_app_tap_open(c->app, &who, req, &err);
		if (j != NULL)
			reply_json(k, &h, j, NULL, 0);
		else
			reply_err(k, &h, err.code != 0 ? err.code : -EINVAL, "%s", err.msg);
		break;
	}
	case BL_CTL_EP_LISTEN:
	case BL_CTL_EP_CONNECT:
		op_ep(k, &h, req);
		break;
	default:
		c->n.bad_requests++;
		reply_err(k, &h, -EOPNOTSUPP, "unknown operation %u", (unsigned int)h.op);
		break;
	}
	cJSON_Delete(req);
}

static void
accept_all(struct bl_ctl *c, uint64_t now)
{
	for (unsigned int a = 0; a < CTL_ACCEPT_MAX; a++) {
		struct conn *k = NULL;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		unsigned int used = 0, of_uid = 0;
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);        /* the client sees its connection closed */
			continue;
		}
		for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
			if (c->c[i].fd < 0) {
				k = k != NULL ? k : &c->c[i];
				continue;
			}
			used++;
			of_uid += c->c[i].cred.uid == cred.uid;
		}
		if (cred.uid != 0 && of_uid >= CTL_MAX_PER_UID) {
			c->n.refused_uid++;
			bl_log(BL_LOG_WARNING, "control: refused a connection of uid %u (pid %d): it "
			       "holds %u already (limit %u)", (unsigned int)cred.uid, (int)cred.pid,
			       of_uid, CTL_MAX_PER_UID);
			notice_close(fd, -EUSERS, "too many connections from uid %u (limit %u): close "
				     "some (every attached reader holds one)", (unsigned int)cred.uid,
				     CTL_MAX_PER_UID);
			continue;
		}
		if (k == NULL || (cred.uid != 0 && used >= CTL_MAX_CONNS - CTL_ROOT_RESERVE)) {
			c->n.refused_full++;
			bl_log(BL_LOG_WARNING, "control: refused a connection of uid %u (pid %d): the "
			       "control socket is full (%u connections)", (unsigned int)cred.uid,
			       (int)cred.pid, used);
			notice_close(fd, -EBUSY, "the control socket is full (%u connections; the last "
				     "%u are kept for root): try again later", used, CTL_ROOT_RESERVE);
			continue;
		}
		k->cred = cred;
		k->since_ms = now;
		len = sizeof(k->groups);
		k->n_groups = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, k->groups, &len) == 0 ?
			(int)(len / sizeof(gid_t)) : 0;   /* more than CTL_MAX_GROUPS: primary only */
		k->fd = fd;
		k->reader = -1;
		k->x = NULL;
		k->w = NULL;
		k->u = NULL;
		k->ep = NULL;
	}
}

/* Close what has stayed silent too long: a pending reply nobody takes, an unattached
 * connection with no request. An attached one is a reader's lease: silent by design. */
static void
expire(struct bl_ctl *c, uint64_t now)
{
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *k = &c->c[i];
		int fd = k->fd;

		if (fd < 0 || now - k->since_ms < (k->out != NULL ? CTL_SLOW_MS : CTL_IDLE_MS))
			continue;
		if (k->out != NULL) {
			c->n.slow_closed++;
			conn_close(k);  /* its socket is full: no room for a notice */
		} else if (k->x == NULL && k->w == NULL && k->u == NULL && k->ep == NULL) {
			c->n.idle_closed++;
			k->fd = -1;     /* notice_close closes it */
			conn_close(k);
			notice_close(fd, -ETIMEDOUT, "closed: idle for %u s (no request, and not "
				     "attached to a stream)", CTL_IDLE_MS / 1000);
		}
	}
}

void
bl_ctl_tick(struct bl_ctl *c)
{
	struct pollfd p[CTL_MAX_CONNS];
	unsigned int map[CTL_MAX_CONNS], n = 0;
	uint64_t now;

	if (c == NULL)
		return;
	now = mono_ms();
	accept_all(c, now);
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		if (c->c[i].fd >= 0) {
			p[n].fd = c->c[i].fd;
			/* One request at a time: none is read while a reply is going out. */
			p[n].events = c->c[i].out != NULL ? POLLOUT : POLLIN;
			p[n].revents = 0;
			map[n++] = i;
		}
	if (n != 0 && poll(p, n, 0) > 0)
		for (unsigned int i = 0; i < n; i++) {
			struct conn *k = &c->c[map[i]];
			if (p[i].revents & POLLIN)
				serve(c, k);    /* a request, or the 0-byte read of a close */
			else if ((p[i].revents & POLLOUT) && k->out != NULL)
				flush(k);
			else if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL))
				conn_close(k);
		}
	expire(c, mono_ms());   /* not `now`: serving may have stamped a later time */
	bl_app_taps_tick(c->app);
	bl_tel_serve();
}
