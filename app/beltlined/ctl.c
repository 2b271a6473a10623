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
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_stream_proto.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_port.h"
#include "bl_stream.h"
#include "ctl.h"
#include "reaper.h"

#define CTL_MAX_CONNS 64
#define CTL_MAX_GROUPS 64

struct conn {
	int fd;                      /* -1: free */
	struct ucred cred;           /* SO_PEERCRED at accept */
	gid_t groups[CTL_MAX_GROUPS];
	int n_groups;                /* SO_PEERGROUPS; -1 unknown */
	struct bl_stream *x;         /* attached stream, or NULL */
	int reader;                  /* reader page index, -1 if none */
};

struct bl_ctl {
	struct bl_app *app;
	int lfd;
	char dir[108];
	char path[108];
	struct conn c[CTL_MAX_CONNS];
	uint8_t buf[BL_CTL_MSG_MAX + 1];
};

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

static const char *
run_dir(void)
{
	const char *d = getenv("BELTLINE_RUN_DIR");

	return d != NULL && d[0] != '\0' ? d : BL_CTL_RUN_DIR;
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
		fprintf(stderr, "beltlined: control socket: path %s/%s/%s is too long for a unix "
			"socket (set BELTLINE_RUN_DIR shorter)\n", run_dir(), app->cfg.instance,
			BL_CTL_SOCKET);
		free(c);
		return -ENAMETOOLONG;
	}
	snprintf(c->dir, sizeof(c->dir), "%s/%s", run_dir(), app->cfg.instance);
	if (mkdir(run_dir(), 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "beltlined: control socket: cannot create %s: %s\n", run_dir(),
			strerror(errno));
		free(c);
		return -errno;
	}
	if (mkdir(c->dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "beltlined: control socket: cannot create %s: %s\n", c->dir,
			strerror(errno));
		free(c);
		return -errno;
	}
	if (access(c->path, F_OK) == 0) {
		if (socket_live(c->path)) {
			fprintf(stderr, "beltlined: instance \"%s\" is already running (its control "
				"socket %s answers); give this one another instance name\n",
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
		fprintf(stderr, "beltlined: control socket %s: %s\n", c->path, strerror(e));
		if (c->lfd >= 0)
			close(c->lfd);
		unlink(c->path);
		rmdir(c->dir);
		free(c);
		return -e;
	}
	bl_reaper_note(BL_REAPER_DIR, c->dir);
	bl_reaper_note(BL_REAPER_SOCKET, c->path);
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
}

static void
conn_close(struct conn *k)
{
	conn_detach(k);
	if (k->fd >= 0)
		close(k->fd);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->reader = -1;
}

void
bl_ctl_stop(struct bl_ctl *c)
{
	if (c == NULL)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		if (c->c[i].fd >= 0)
			conn_close(&c->c[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	unlink(c->path);
	rmdir(c->dir);
	free(c);
}

/* Send one reply: header + JSON (+ fds). The JSON is the caller's. */
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

	if (len > BL_CTL_MSG_MAX - sizeof(h)) {
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
	reply_json(k, h, j, NULL, 0);
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

	if (k->x != NULL) {
		reply_err(k, h, -EISCONN, "this connection is already attached to \"%s\"; open "
			  "another connection for another stream", k->x->name);
		return;
	}
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
op_stats(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h)
{
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
		N(o, "rx_missed", hw.imissed);
		N(o, "rx_nombuf", hw.rx_nombuf);
		N(o, "rx_errors", hw.ierrors);
		N(o, "tx_errors", hw.oerrors);
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
	reply_json(k, h, j, NULL, 0);
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
	req = cJSON_ParseWithLength((const char *)c->buf + sizeof(h), h.len);
	if (h.len == 0 || !cJSON_IsObject(req)) {
		cJSON_Delete(req);
		reply_err(k, &h, -EPROTO, "the request body must be a JSON object");
		return;
	}
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
	default:
		reply_err(k, &h, -EOPNOTSUPP, "unknown operation %u", (unsigned int)h.op);
		break;
	}
	cJSON_Delete(req);
}

static void
accept_all(struct bl_ctl *c)
{
	for (;;) {
		struct conn *k = NULL;
		socklen_t len = sizeof(struct ucred);
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (unsigned int i = 0; i < CTL_MAX_CONNS && k == NULL; i++)
			if (c->c[i].fd < 0)
				k = &c->c[i];
		if (k == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &k->cred, &len) < 0) {
			close(fd);        /* the client sees its connection closed */
			continue;
		}
		len = sizeof(k->groups);
		k->n_groups = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, k->groups, &len) == 0 ?
			(int)(len / sizeof(gid_t)) : 0;   /* more than CTL_MAX_GROUPS: primary only */
		k->fd = fd;
		k->reader = -1;
		k->x = NULL;
	}
}

void
bl_ctl_tick(struct bl_ctl *c)
{
	struct pollfd p[CTL_MAX_CONNS];
	unsigned int map[CTL_MAX_CONNS], n = 0;

	if (c == NULL)
		return;
	accept_all(c);
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		if (c->c[i].fd >= 0) {
			p[n].fd = c->c[i].fd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			map[n++] = i;
		}
	if (n == 0 || poll(p, n, 0) <= 0)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct conn *k = &c->c[map[i]];
		if (p[i].revents & POLLIN)
			serve(c, k);    /* a request, or the 0-byte read of a close */
		else if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			conn_close(k);
	}
}
