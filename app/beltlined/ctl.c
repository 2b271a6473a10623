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
 * to a stream that sends no request for control.idle_ms is closed; so is one that
 * takes none of a pending reply for control.slow_ms (a request is one SOCK_SEQPACKET
 * record, never partial). Whom it refuses or closes, the server tells why in a
 * notice (bl_stream_proto.h) first. A reply of any size goes out in records of at
 * most BL_CTL_MSG_MAX bytes as the client takes them; meanwhile no further
 * request of that connection is read.
 *
 * This file is the server: the socket, connections and their limits, requests
 * and replies, and the table of operations (ops[]). The operations are in files
 * by family: ctl_stream.c (ls and the leases: attach, detach, open_write,
 * attach_verdict, tap, ep_listen, ep_connect), ctl_stats.c, ctl_admin.c
 * (reload), ctl_edit.c (edit); ctl_pvt.h is what they share.
 */
#include <errno.h>
#include <fcntl.h>
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

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_stream_proto.h"
#include "bl_inject.h"
#include "bl_user.h"
#include "bl_json.h"
#include "bl_log.h"
#include "bl_stream.h"
#include "ctl.h"
#include "ctl_pvt.h"
#include "ep.h"
#include "reaper.h"
#include "telemetry.h"
#include "tap.h"
#include "bl_time.h"

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

/* A live server answers a connect (or has its backlog full: it listens, and we do not
 * wait for it): then the socket is not stale. */
static int
socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc;

	if (fd < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return rc;
}

bool
bl_ctl_running(const char *instance, char *path, size_t n)
{
	if ((size_t)snprintf(path, n, "%s/%s/%s", run_dir(), instance, BL_CTL_SOCKET) >= n)
		return false;
	return socket_live(path);
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

/* A reload (or edit) removes an inject stream or a user filter: the connection that
 * holds its lease points into it, so it is closed now, told why, before the stream goes. */
static void
lease_removed(struct bl_ctl *c, const struct bl_inject *w, const struct bl_user *u,
	      const char *what, const char *name)
{
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *k = &c->c[i];
		int fd = k->fd;

		if (fd < 0 || (w != NULL && k->w != w) || (u != NULL && k->u != u))
			continue;
		k->fd = -1;
		conn_close(k);   /* while the stream is still whole */
		notice_close(fd, -ENOENT, "%s removed: \"%s\" is not in the appliance's new "
			     "config", what, name);
	}
}

static void
inject_removed(struct bl_inject *s, void *ctx)
{
	lease_removed(ctx, s, NULL, "inject stream", s->name);
}

static void
user_removed(struct bl_user *u, void *ctx)
{
	lease_removed(ctx, NULL, u, "user filter", u->name);
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
	/* 0755 whatever the umask (chmod: mkdir's mode is cut by it): under umask 077 the
	 * folders were 0700, and no user but root reached a socket its mode lets them use.
	 * A folder there already keeps the mode its maker gave it. */
	for (unsigned int i = 0; i < 2; i++) {
		const char *d = i == 0 ? run_dir() : c->dir;

		if (mkdir(d, 0755) == 0 ? chmod(d, 0755) < 0 : errno != EEXIST) {
			int e = say_cannot_create(d, errno);
			free(c);
			return e;
		}
	}
	if (access(c->path, F_OK) == 0) {
		if (socket_live(c->path)) {
			bl_log(BL_LOG_ERR, "instance \"%s\" is already running (its control "
			       "socket %s answers); give this one another instance name "
			       "(--instance NAME, or the config's \"instance\")",
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
	n = bl_tel_start(ctl_stats_json, c);
	if (n != 0)   /* the control socket still serves the same */
		fprintf(stderr, "beltlined: DPDK telemetry: cannot register /beltline/stats: %s\n",
			strerror(-n));
	bl_stream_on_removed(stream_removed, c);
	bl_inject_on_removed(inject_removed, c);
	bl_user_on_removed(user_removed, c);
	*out = c;
	return 0;
}

void
ctl_conn_detach(struct conn *k)
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
	ctl_conn_detach(k);
	if (k->fd >= 0)
		close(k->fd);
	free(k->out);
	if (k->groups != k->group_buf)
		free(k->groups);
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
	bl_inject_on_removed(NULL, NULL);
	bl_user_on_removed(NULL, NULL);
	/* A last word to each client, so that one can tell a stop from a crash (a
	 * connection that ends without one: killed, or it crashed). */
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *k = &c->c[i];

		if (k->fd < 0)
			continue;
		ctl_conn_detach(k);
		notice_close(k->fd, -ESHUTDOWN, "the appliance stopped");
		k->fd = -1;
		conn_close(k);
	}
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
		k->since_ms = bl_mono_ms();
		if (k->out_off == k->out_len) {
			free(k->out);
			k->out = NULL;
		}
	}
}

/* Send one reply: header + JSON (+ fds). The JSON is the caller's. A reply too long for
 * one message (and without descriptors) is kept and sent in records by flush(). */
void
ctl_reply(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *body, const int *fds,
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

/* {"error": the message} as text (the caller's to cJSON_free), or NULL: out of memory. */
static char *
error_json(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
error_json(const char *fmt, va_list ap)
{
	char msg[BL_ERR_MSG_MAX + 256], *s;   /* a reload's refusal: the file, then err's msg */
	cJSON *j = cJSON_CreateObject();

	vsnprintf(msg, sizeof(msg), fmt, ap);
	cJSON_AddStringToObject(j, "error", msg);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

void
ctl_reply_err(struct conn *k, const struct bl_ctl_hdr *req, int status, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = error_json(fmt, ap);
	va_end(ap);
	ctl_reply(k, req, status, s != NULL ? s : "{\"error\":\"out of memory\"}", NULL, 0);
	cJSON_free(s);
}

void
ctl_reply_json(struct conn *k, const struct bl_ctl_hdr *req, cJSON *j, const int *fds, unsigned int n)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s == NULL)
		ctl_reply_err(k, req, -ENOMEM, "out of memory building the reply");
	else
		ctl_reply(k, req, 0, s, fds, n);
	cJSON_free(s);
	cJSON_Delete(j);
}

/*
 * The peer's supplementary groups (SO_PEERGROUPS), however many: CTL_MAX_GROUPS in the
 * connection, more in a buffer of their own (the kernel says how large). Not known
 * (no memory, an error): -1, and only what both the group and the other bits allow is
 * allowed (bl_stream_cred_allows). With more than 64 groups the connection had none
 * but its primary: a mode whose group bits refuse and other bits allow (0604) let in
 * a member of the group through the other bits.
 */
static void
peer_groups(struct conn *k, int fd)
{
	socklen_t len = sizeof(k->group_buf);
	gid_t *big;

	k->groups = k->group_buf;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, k->groups, &len) == 0) {
		k->n_groups = (int)(len / sizeof(gid_t));
		return;
	}
	k->n_groups = -1;
	if (errno != ERANGE || len <= sizeof(k->group_buf) || (big = malloc(len)) == NULL)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, big, &len) != 0) {
		free(big);   /* joined more groups since: not known */
		return;
	}
	k->groups = big;
	k->n_groups = (int)(len / sizeof(gid_t));
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
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = error_json(fmt, ap);
	va_end(ap);
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
		ctl_reply_err(k, h, -EPROTO, "the request body must be a JSON object");
		return NULL;
	}
	for (const char *p = body; p < end; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
			ctl_reply_err(k, h, -EPROTO, "a raw %s byte 0x%02x at byte %zu of the request: "
				  "JSON allows none (escape it in a string)",
				  *p == '\0' ? "NUL" : "control", (unsigned char)*p, (size_t)(p - body));
			cJSON_Delete(req);
			return NULL;
		}
	for (const char *p = end; p < body + h->len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			ctl_reply_err(k, h, -EPROTO, "%zu bytes after the request's JSON object (at "
				  "byte %zu): send one object and nothing after it",
				  (size_t)(body + h->len - p), (size_t)(p - body));
			cJSON_Delete(req);
			return NULL;
		}
	if (members(req) > CTL_REQ_MEMBERS) {
		ctl_reply_err(k, h, -EPROTO, "the request has more than %u members", CTL_REQ_MEMBERS);
	} else if (bl_json_find_nul(body, (size_t)(end - body), req, path, sizeof(path), &is_key)) {
		int top = is_key && strcmp(path, "$") == 0;

		ctl_reply_err(k, h, -EINVAL, "request: %s%s%s contains a NUL character (\\u0000): "
			  "refused, not cut", is_key ? "a key of " : "\"", top ? "the request" : path,
			  is_key ? "" : "\"");
	} else if (bl_json_find_twice(req, path, sizeof(path))) {
		ctl_reply_err(k, h, -EINVAL, "request: \"%s\" given twice", path);
	} else {
		return req;
	}
	cJSON_Delete(req);
	return NULL;
}

/* The operations a client may ask for (bl_stream_proto.h), each in the file of its family. */
static ctl_op_fn *const ops[] = {
	[BL_CTL_LIST] = ctl_op_list,                     /* ctl_stream.c */
	[BL_CTL_ATTACH] = ctl_op_attach,
	[BL_CTL_DETACH] = ctl_op_detach,
	[BL_CTL_OPEN_WRITE] = ctl_op_open_write,
	[BL_CTL_ATTACH_VERDICT] = ctl_op_attach_verdict,
	[BL_CTL_TAP] = ctl_op_tap,
	[BL_CTL_EP_LISTEN] = ctl_op_ep,
	[BL_CTL_EP_CONNECT] = ctl_op_ep,
	[BL_CTL_STATS] = ctl_op_stats,                   /* ctl_stats.c */
	[BL_CTL_RELOAD] = ctl_op_reload,                 /* ctl_admin.c */
	[BL_CTL_EDIT] = ctl_op_edit,                     /* ctl_edit.c */
};

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
	k->since_ms = bl_mono_ms();
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
		ctl_reply_err(k, &h, -EPROTO, "malformed request: len, n_fds or status is wrong");
		return;
	}
	req = parse_request(k, &h, (const char *)c->buf + sizeof(h));
	if (req == NULL)
		return;
	c->n.bad_requests--;
	if (h.op < sizeof(ops) / sizeof(ops[0]) && ops[h.op] != NULL) {
		ops[h.op](c, k, &h, req);
	} else {
		c->n.bad_requests++;
		ctl_reply_err(k, &h, -EOPNOTSUPP, "unknown operation %u", (unsigned int)h.op);
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

		if (fd < 0) {
			/* Out of descriptors or memory, the connection still queued: the
			 * socket stays readable, so the wait must not watch it (a busy
			 * loop); each tick tries again until it drains. */
			c->accept_failing = errno != EAGAIN && errno != EWOULDBLOCK &&
					    errno != EINTR && errno != ECONNABORTED;
			if (c->accept_failing && c->n.accept_errors++ % 1000 == 0)
				bl_log(BL_LOG_WARNING, "control: accept failed (%s; %llu so far): "
				       "the connection waits for the next tick", strerror(errno),
				       (unsigned long long)c->n.accept_errors);
			return;
		}
		c->accept_failing = false;
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
		peer_groups(k, fd);
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
	const unsigned int idle_ms = c->app->cfg.ctl_idle_ms, slow_ms = c->app->cfg.ctl_slow_ms;

	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *k = &c->c[i];
		int fd = k->fd;

		if (fd < 0 || now - k->since_ms < (k->out != NULL ? slow_ms : idle_ms))
			continue;
		if (k->out != NULL) {
			c->n.slow_closed++;
			conn_close(k);  /* its socket is full: no room for a notice */
		} else if (!ctl_conn_leased(k)) {
			c->n.idle_closed++;
			k->fd = -1;     /* notice_close closes it */
			conn_close(k);
			notice_close(fd, -ETIMEDOUT, "closed: idle for %u ms (no request, and not "
				     "attached to a stream; control.idle_ms)", idle_ms);
		}
	}
}

void
bl_ctl_tick(struct bl_ctl *c, unsigned int wait_us)
{
	struct pollfd p[CTL_MAX_CONNS + 1];
	unsigned int map[CTL_MAX_CONNS + 1], n = 0;
	struct timespec ts = { .tv_sec = wait_us / 1000000, .tv_nsec = wait_us % 1000000 * 1000l };
	int ready;

	if (c == NULL) {
		nanosleep(&ts, NULL);
		return;
	}
	/* p[0]: the listening socket, unless accepting fails (then it is tried below). */
	p[n].fd = c->accept_failing ? -1 : c->lfd;
	p[n].events = POLLIN;
	p[n++].revents = 0;
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		if (c->c[i].fd >= 0) {
			p[n].fd = c->c[i].fd;
			/* One request at a time: none is read while a reply is going out. */
			p[n].events = c->c[i].out != NULL ? POLLOUT : POLLIN;
			p[n].revents = 0;
			map[n++] = i;
		}
	/* A signal (SIGHUP's reload, SIGTERM) ends the wait early: EINTR, nothing ready. */
	ready = ppoll(p, n, &ts, NULL);
	if (c->accept_failing || (ready > 0 && (p[0].revents & POLLIN)))
		accept_all(c, bl_mono_ms());
	if (ready > 0)
		for (unsigned int i = 1; i < n; i++) {
			struct conn *k = &c->c[map[i]];
			if (p[i].revents & POLLIN)
				serve(c, k);    /* a request, or the 0-byte read of a close */
			else if ((p[i].revents & POLLOUT) && k->out != NULL)
				flush(k);
			else if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL))
				conn_close(k);
		}
	expire(c, bl_mono_ms());   /* not `now`: serving may have stamped a later time */
	bl_app_taps_tick(c->app);
	bl_tel_serve();
}
