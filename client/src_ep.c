/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep — endpoints between clients (beltline.h, "endpoints"; docs/clients.md,
 * "Endpoints"; the memory is bl_ep_abi.h and docs/shm-abi.md, "Endpoint ring pairs").
 *
 * The appliance names the endpoint, checks the connecting peer and hands each side
 * its own two regions (read-write) and its end of a socket pair. From there the
 * two processes are alone: each maps its regions, seals them F_SEAL_FUTURE_WRITE
 * (no later writable mapping, not even its own), and sends the other read-only
 * descriptors in a hello over the socket; the other refuses descriptors that are
 * not sealed so, or not of the agreed size. Messages then go through the rings.
 * Wakeups (one byte to a side that said it sleeps) go on two channels per side,
 * so that waiting for a message and waiting for room never eat each other's:
 * the appliance's socket pair carries "a message is there", and a socket pair
 * each side makes and sends the other one end of in its hello carries "there is
 * room". A peer that dies closes its ends of both, and the other's sleep returns
 * at once. beltline_ep_fd() is an epoll descriptor over a side's two channels.
 *
 * This file is the appliance's part: the URI, listen, accept and connect over the
 * control socket, the pair's description (tcp:// and tls:// go to src_ep_net_setup.c). src_ep_pair.c maps, seals and exchanges the
 * hellos; src_ep_ring.c is the data path (getwritebuf, commit, getreadbuf, release and
 * the wait); src_ep_pvt.h is struct beltline_ep, which they share.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_stream_proto.h"
#include "src_ep_pvt.h"

struct beltline_ep_listener {
	int fd;                     /* control connection: the registration's lease */
	struct blc_epn_listener *net;   /* tcp://, tls:// (src_ep_net.c); NULL: the appliance's */
	struct beltline_ep_opts o;
	char name[BL_STREAM_NAME_MAX];
	char uri[256];
};

/* ---- small helpers ---- */

/* The control-socket options (run_dir, timeout) of ep options. */
static struct beltline_open_opts
ctl_opts(const struct beltline_ep_opts *o)
{
	struct beltline_open_opts c = { .sz = sizeof(c) };

	c.run_dir = BLC_OPT(o, run_dir, NULL);
	c.timeout_ms = BLC_OPT(o, timeout_ms, 0);
	return c;
}

/* beltline://INSTANCE/ep/NAME: 0 and the two parts, or -EINVAL (logged). */
static int
parse_uri(const char *uri, char *inst, char *name)
{
	const char *i, *slash;

	if (uri == NULL || strncmp(uri, "beltline://", 11) != 0 ||
	    (slash = strchr((i = uri + 11), '/')) == NULL ||
	    !bl_instance_name_ok(i, (size_t)(slash - i)) || strncmp(slash, "/ep/", 4) != 0 ||
	    !bl_stream_name_ok(slash + 4, strlen(slash + 4))) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad endpoint URI: want beltline://INSTANCE/ep/NAME, "
			"NAME 1..%u characters of [A-Za-z0-9_.-]", uri != NULL ? uri : "(null)",
			BL_STREAM_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(inst, BL_INSTANCE_NAME_MAX, "%.*s", (int)(slash - i), i);
	snprintf(name, BL_STREAM_NAME_MAX, "%s", slash + 4);
	return 0;
}

static const char *
json_err(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	return cJSON_IsString(e) ? e->valuestring : "no reason given";
}

static int
json_u32(const cJSON *j, const char *k, uint32_t *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);

	if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= UINT32_MAX))
		return -1;
	*v = (uint32_t)x->valuedouble;
	return 0;
}

/* ---- the appliance's part ---- */

/* Geometry and descriptors from a connect reply or an accept record: 0 or -EPROTO.
 * fds[0..2] become ibuf, dbuf, sock. */
static int
pair_desc(const char *uri, const cJSON *j, const int *in, unsigned n, int *fd, uint32_t *geo,
	  pid_t *peer_pid, uint32_t *peer_uid)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "fds");
	const char *want[3] = { BL_CTL_FD_EP_IBUF, BL_CTL_FD_EP_DBUF, BL_CTL_FD_EP_SOCK };
	uint32_t pid = 0;

	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) != 3 || n != 3 ||
	    json_u32(j, "slots", &geo[0]) < 0 || json_u32(j, "dbuf_bytes", &geo[1]) < 0 ||
	    json_u32(j, "max_msg", &geo[2]) < 0 || !bl_ep_geometry_ok(geo[0], geo[1], geo[2])) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance's pair description is malformed "
			"(want slots, dbuf_bytes, max_msg in range and fds ibuf, dbuf, sock)", uri);
		return -EPROTO;
	}
	for (int i = 0; i < 3; i++) {
		const cJSON *it = cJSON_GetArrayItem(names, i);
		if (!cJSON_IsString(it) || strcmp(it->valuestring, want[i]) != 0) {
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance's pair description names fd %d "
				"other than \"%s\"", uri, i, want[i]);
			return -EPROTO;
		}
		fd[i] = in[i];
	}
	(void)json_u32(j, "peer_pid", &pid);
	*peer_pid = (pid_t)pid;
	if (json_u32(j, "peer_uid", peer_uid) < 0)
		*peer_uid = UINT32_MAX;
	return 0;
}

/* Check the options and the URI, connect to the instance's control socket: 0 with *fd and
 * the endpoint's name, or -errno (logged). fn, verb: the call, what it cannot do. */
static int
ep_ctl_open(const char *fn, const char *verb, const char *uri, const struct beltline_ep_opts *o,
	    char name[BL_STREAM_NAME_MAX], int *fd)
{
	struct beltline_open_opts co = ctl_opts(o);
	char inst[BL_INSTANCE_NAME_MAX];
	int rc;

	if (!BLC_OPTS_OK(o)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad beltline_ep_opts (sz; unknown fields must be 0)",
			fn);
		return -EINVAL;
	}
	if (parse_uri(uri, inst, name) < 0)
		return -EINVAL;
	rc = blc_ctl_connect(inst, &co, fd);
	if (rc < 0)
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot %s: %s", uri, verb,
			rc == -ENOENT ? "the instance is not running" : strerror(-rc));
	return rc;
}

/* One control call with req (consumed): its status (<0: the appliance refused, logged with
 * its reason, or the call failed), the reply's JSON in *j (NULL: none, or not JSON). */
static int
ep_call(const char *uri, int fd, const struct beltline_ep_opts *o, unsigned op, cJSON *req,
	cJSON **j, int *fds, unsigned max_fds, unsigned *n_fds)
{
	struct beltline_open_opts co = ctl_opts(o);
	char *body = cJSON_PrintUnformatted(req), *reply = NULL;
	int rc;

	cJSON_Delete(req);
	*j = NULL;
	if (body == NULL)
		return -ENOMEM;
	rc = blc_ctl_call_fd(fd, blc_timeout(&co), op, body, &reply, fds, max_fds, n_fds);
	free(body);
	*j = reply != NULL ? cJSON_Parse(reply) : NULL;
	free(reply);
	if (rc < 0 && *j != NULL)
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance refused: %s (%s)", uri, json_err(*j),
			strerror(-rc));
	return rc;
}

/* tcp://, tls://: a listener of src_ep_net_setup.c's. */
static int
net_listen(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep_listener **out)
{
	struct beltline_ep_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return -ENOMEM;
	l->fd = -1;
	snprintf(l->uri, sizeof(l->uri), "%s", uri);
	rc = blc_epn_listen(uri, o, &l->net);
	if (rc < 0) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int
beltline_ep_listen(const char *uri, const struct beltline_ep_opts *o,
		   struct beltline_ep_listener **out)
{
	const char *mode = BLC_OPT(o, mode, NULL), *group = BLC_OPT(o, group, NULL);
	char name[BL_STREAM_NAME_MAX];
	struct beltline_ep_listener *l;
	uint32_t v;
	cJSON *req, *j;
	int fd, rc;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (BLC_OPT(o, peer_user, NULL) != NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: peer_user is for connect (who may connect to a "
			"listener: mode and group)", uri != NULL ? uri : "(null)");
		return -EINVAL;
	}
	if (blc_epn_uri(uri))
		return net_listen(uri, o, out);
	rc = ep_ctl_open("beltline_ep_listen", "listen", uri, o, name, &fd);
	if (rc < 0)
		return rc;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "name", name);
	if (mode != NULL)
		cJSON_AddStringToObject(req, "mode", mode);
	if (group != NULL)
		cJSON_AddStringToObject(req, "group", group);
	if ((v = BLC_OPT(o, slots, 0)) != 0)
		cJSON_AddNumberToObject(req, "slots", v);
	if ((v = BLC_OPT(o, dbuf_bytes, 0)) != 0)
		cJSON_AddNumberToObject(req, "dbuf_bytes", v);
	if ((v = BLC_OPT(o, max_msg, 0)) != 0)
		cJSON_AddNumberToObject(req, "max_msg", v);
	rc = ep_call(uri, fd, o, BL_CTL_EP_LISTEN, req, &j, NULL, 0, NULL);
	cJSON_Delete(j);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		close(fd);
		return -ENOMEM;
	}
	l->fd = fd;
	if (o != NULL)
		memcpy(&l->o, o, o->sz < sizeof(l->o) ? o->sz : sizeof(l->o));
	l->o.sz = sizeof(l->o);
	l->o.mode = l->o.group = l->o.run_dir = NULL;   /* not kept: the caller's strings */
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->uri, sizeof(l->uri), "%s", uri);
	*out = l;
	return 0;
}

int
beltline_ep_listener_fd(const struct beltline_ep_listener *l)
{
	BLC_REFUSE_IF(l == NULL, "l is NULL");
	return l->net != NULL ? blc_epn_listener_fd(l->net) : l->fd;
}

void
beltline_ep_listener_close(struct beltline_ep_listener *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	blc_epn_listener_close(l->net);
	free(l);
}

/* From the appliance's pair description j (consumed) and the descriptors that came with it
 * (consumed: kept or closed) to an endpoint of ours, the peer's hello taken. */
/* uid of a user name or number: 0 or -EINVAL (unknown name). */
static int
user_uid(const char *u, uint32_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	errno = 0;
	v = strtoul(u, &end, 10);
	if (u[0] >= '0' && u[0] <= '9' && *end == '\0' && errno == 0 && v < UINT32_MAX) {
		*uid = (uint32_t)v;
		return 0;
	}
	if (getpwnam_r(u, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -EINVAL;
	*uid = (uint32_t)pw.pw_uid;
	return 0;
}

static int
ep_open(const char *uri, const struct beltline_ep_opts *o, cJSON *j, int *fds, unsigned n,
	const uint32_t *want_uid, struct beltline_ep **out)
{
	int fd[3] = { -1, -1, -1 }, rc;
	uint32_t geo[3], peer_uid = UINT32_MAX;
	pid_t peer = 0;

	rc = j == NULL ? -EPROTO : pair_desc(uri, j, fds, n, fd, geo, &peer, &peer_uid);
	cJSON_Delete(j);
	if (rc < 0) {
		blc_close_fds(fds, n);
		return rc;
	}
	/* A name is anyone's who registers it first: a connector that cares says whose. */
	if (want_uid != NULL && peer_uid != *want_uid) {
		if (peer_uid == UINT32_MAX)
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance did not say whose the listener "
				"is (pid %d): peer_user \"%s\" cannot be checked: not connected", uri,
				(int)peer, BLC_OPT(o, peer_user, ""));
		else
			blc_log(BELTLINE_LOG_ERROR, "%s: the listener runs as uid %u (pid %d), not as "
				"peer_user \"%s\": not connected", uri, peer_uid, (int)peer,
				BLC_OPT(o, peer_user, ""));
		blc_close_fds(fd, 3);
		return -EPERM;
	}
	return blc_ep_pair(uri, o, fd, geo, peer, peer_uid, out);
}

int
beltline_ep_accept(struct beltline_ep_listener *l, int timeout_ms, struct beltline_ep **out)
{
	char *buf;
	int fds[BL_CTL_FDS_MAX], trunc, rc;
	struct bl_ctl_hdr h;
	unsigned got = 0;
	ssize_t r;
	cJSON *j;

	BLC_REFUSE_IF(l == NULL, "l is NULL");
	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (l->net != NULL)
		return blc_epn_accept(l->net, timeout_ms, out);
	if (l->fd < 0)
		return -ECONNRESET;
	buf = malloc(BL_CTL_MSG_MAX + 1);
	if (buf == NULL)
		return -ENOMEM;
	r = blc_ep_recv(l->fd, timeout_ms, buf, BL_CTL_MSG_MAX, fds, &got, &trunc);
	if (r == -ETIMEDOUT) {
		free(buf);
		return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	}
	if (r < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance went away (stopped or restarted): "
			"listen again", l->uri);
		free(buf);
		close(l->fd);
		l->fd = -1;
		return -ECONNRESET;
	}
	memcpy(&h, buf, (size_t)r < sizeof(h) ? (size_t)r : sizeof(h));
	if ((size_t)r >= sizeof(h) && h.magic == BL_CTL_MAGIC && h.op == BL_CTL_NOTICE &&
	    h.status < 0 && h.len == (size_t)r - sizeof(h)) {
		buf[r] = '\0';
		j = cJSON_Parse(buf + sizeof(h));
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance closed the registration: %s", l->uri,
			json_err(j));
		cJSON_Delete(j);
		blc_close_fds(fds, got);
		free(buf);
		close(l->fd);
		l->fd = -1;
		return -ECONNRESET;
	}
	if ((size_t)r < sizeof(h) || trunc || h.magic != BL_CTL_MAGIC ||
	    h.version != BL_CTL_VERSION || h.op != BL_CTL_EP_ACCEPT || h.id != 0 || h.status != 0 ||
	    h.n_fds != got || h.len != (size_t)r - sizeof(h)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: a malformed record from the appliance (%zd bytes, "
			"%u fds)", l->uri, r, got);
		blc_close_fds(fds, got);
		free(buf);
		return -EPROTO;
	}
	buf[r] = '\0';
	j = cJSON_Parse(buf + sizeof(h));
	free(buf);
	/* The connector's hello: within opts.timeout_ms, but no longer than this call may
	 * wait (ep_accept_budget): a connector that never sends it held a listener polling
	 * with timeout 0 (and every pair it serves) for opts.timeout_ms. */
	struct beltline_ep_opts o = l->o;
	struct beltline_open_opts co = { .sz = sizeof(co), .timeout_ms = o.timeout_ms };
	int hello_ms = blc_timeout(&co);
	if (timeout_ms >= 0 && hello_ms > ep_accept_budget(timeout_ms, hello_ms))
		hello_ms = ep_accept_budget(timeout_ms, hello_ms);
	o.timeout_ms = hello_ms;
	rc = ep_open(l->uri, &o, j, fds, got, NULL, out);
	/* The connecting peer went, or sent no hello within opts.timeout_ms (logged): that
	 * connection only, not the appliance (-ECONNRESET) nor this call's wait (-ETIMEDOUT). */
	if (rc == -ECONNRESET || rc == -ETIMEDOUT || rc == -EPIPE)
		rc = -EPROTO;
	return rc;
}

int
beltline_ep_connect(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out)
{
	char name[BL_STREAM_NAME_MAX];
	int fds[BL_CTL_FDS_MAX], cfd, rc;
	unsigned n = 0;
	cJSON *req, *j;

	const char *pu = BLC_OPT(o, peer_user, NULL);
	uint32_t uid;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (pu != NULL && (blc_epn_uri(uri) || user_uid(pu, &uid) < 0)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: peer_user \"%s\": %s", uri != NULL ? uri : "(null)",
			pu, blc_epn_uri(uri) ? "only for beltline:// (a network peer has no uid: "
			"tls:// checks its certificate)" : "no such user");
		return -EINVAL;
	}
	if (blc_epn_uri(uri))
		return blc_epn_connect(uri, o, out);
	rc = ep_ctl_open("beltline_ep_connect", "connect", uri, o, name, &cfd);
	if (rc < 0)
		return rc;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "name", name);
	rc = ep_call(uri, cfd, o, BL_CTL_EP_CONNECT, req, &j, fds, BL_CTL_FDS_MAX, &n);
	close(cfd);      /* no lease: the pair lives in the two processes */
	if (rc == -ECONNRESET || rc == -EPIPE) {   /* the appliance died in our call */
		blc_log(BELTLINE_LOG_ERROR, "%s: the appliance went away during the connect: "
			"connect again once it is back (and the listener listens again)", uri);
		rc = -ENOENT;
	}
	if (rc < 0) {
		cJSON_Delete(j);
		blc_close_fds(fds, n);
		return rc;
	}
	return ep_open(uri, o, j, fds, n, pu != NULL ? &uid : NULL, out);
}
