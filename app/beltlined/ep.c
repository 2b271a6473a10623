/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Named endpoints between clients (ep.h; the protocol is docs/control.md,
 * "Endpoints", the shared memory bl_ep_abi.h and docs/shm-abi.md).
 *
 * The appliance names, checks and sets up; it is not in the data path. A connect
 * makes, per side, an IBuf region and a DBuf region (memfds sized by the
 * listener's geometry, sealed against shrinking and growing, mode 0444 so only
 * the descriptor handed out is writable) and one socket pair: each side gets its
 * own two regions read-write and its socket end, nothing of the other's. Each
 * side then seals its regions F_SEAL_FUTURE_WRITE and sends the other read-only
 * descriptors over the socket (client/src_ep_pair.c). The appliance closes its
 * descriptors once sent: the rings are freed when the last of the two processes
 * lets go of them, whether it closed or died.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_ep_abi.h"
#include "bl_err.h"
#include "bl_log.h"
#include "bl_stream_proto.h"
#include "ep.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define EP_MAX 256u               /* endpoints registered at once */

struct bl_ep {
	int used;
	int conn_fd;                  /* the listener's control connection: ep_accept goes there */
	char name[BL_STREAM_NAME_MAX];
	uid_t uid;                    /* who may connect: like a file's owner, group, mode */
	gid_t gid;
	mode_t mode;
	pid_t pid;                    /* the listener */
	uint32_t slots, dbuf_bytes, max_msg;
	uint64_t connects;            /* pairs set up */
	uint64_t refused_perm;        /* connects refused: no permission */
	uint64_t refused_busy;        /* connects refused: the listener's queue was full */
	uint64_t failed;              /* connects that failed here (memory, descriptors) */
};

static struct bl_ep eps[EP_MAX];

static void
set_err(struct bl_ep_reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_err(struct bl_ep_reply *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->status = status;
}

static struct bl_ep *
find(const char *name)
{
	for (unsigned int i = 0; i < EP_MAX; i++)
		if (eps[i].used && strcmp(eps[i].name, name) == 0)
			return &eps[i];
	return NULL;
}

const char *
bl_ep_name(const struct bl_ep *ep)
{
	return ep->name;
}

/* Connecting needs read and write permission, as for a file: owner bits, else group
 * bits, else other bits. Root may. */
static int
may_connect(const struct bl_ep *ep, const struct bl_stream_cred *who)
{
	return bl_stream_cred_allows(who, ep->uid, ep->gid, ep->mode, 06);
}

/* An optional unsigned geometry member: 0 if absent (the default), -1 if not a whole
 * number in 1..max (checked before any cast). */
static int64_t
opt_u32(const cJSON *req, const char *key, uint32_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= (double)max) ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble)
		return -1;
	return (int64_t)v->valuedouble;
}

void
bl_ep_listen(int conn_fd, const struct bl_stream_cred *who, const cJSON *req,
	     struct bl_ep **lease, struct bl_ep_reply *r)
{
	const cJSON *jn = cJSON_GetObjectItemCaseSensitive(req, "name");
	const cJSON *jm = cJSON_GetObjectItemCaseSensitive(req, "mode");
	const cJSON *jg = cJSON_GetObjectItemCaseSensitive(req, "group");
	int64_t slots = opt_u32(req, "slots", BL_EP_SLOTS_MAX);
	int64_t dbuf = opt_u32(req, "dbuf_bytes", BL_EP_DBUF_MAX);
	int64_t maxm = opt_u32(req, "max_msg", BL_EP_DBUF_MAX / 2);
	struct bl_err err = { 0 };
	struct bl_ep *ep = NULL, *old;
	uid_t u;
	gid_t g;
	mode_t m;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsString(jn) || jn->valuestring == NULL ||
	    !bl_stream_name_ok(jn->valuestring, strlen(jn->valuestring))) {
		set_err(r, -EINVAL, "ep_listen: \"name\" must be 1..%u characters of [A-Za-z0-9_.-]",
			BL_STREAM_NAME_MAX - 1);
		return;
	}
	if ((jm != NULL && (!cJSON_IsString(jm) || jm->valuestring == NULL)) ||
	    (jg != NULL && (!cJSON_IsString(jg) || jg->valuestring == NULL))) {
		set_err(r, -EINVAL, "ep_listen: \"mode\" (octal, e.g. \"0660\") and \"group\" (a name "
			"or number) are strings");
		return;
	}
	if (bl_stream_perm_args(NULL, jg != NULL ? jg->valuestring : NULL,
				jm != NULL ? jm->valuestring : "0600", &u, &g, &m, &err) < 0) {
		set_err(r, -EINVAL, "ep_listen: %s", err.msg);
		return;
	}
	if (jg == NULL)
		g = who->gid;
	else if (who->uid != 0 && !bl_stream_cred_in_group(who, g)) {
		set_err(r, -EPERM, "ep_listen: group %u is not one of uid %u's groups", (unsigned int)g,
			(unsigned int)who->uid);
		return;
	}
	if (slots < 0 || dbuf < 0 || maxm < 0) {
		set_err(r, -EINVAL, "ep_listen: \"slots\", \"dbuf_bytes\" and \"max_msg\" are whole "
			"numbers (slots a power of two %u..%u, dbuf_bytes a multiple of 4096 in %u..%u, "
			"max_msg 1..dbuf_bytes/2)", BL_EP_SLOTS_MIN, BL_EP_SLOTS_MAX, BL_EP_DBUF_MIN,
			BL_EP_DBUF_MAX);
		return;
	}
	if (slots == 0)
		slots = BL_EP_SLOTS_DEF;
	if (dbuf == 0)
		dbuf = BL_EP_DBUF_DEF;
	if (maxm == 0)
		maxm = BL_EP_MSG_DEF < dbuf / 2 ? BL_EP_MSG_DEF : dbuf / 2;
	if (!bl_ep_geometry_ok((uint64_t)slots, (uint64_t)dbuf, (uint64_t)maxm)) {
		set_err(r, -EINVAL, "ep_listen: geometry slots=%lld dbuf_bytes=%lld max_msg=%lld: slots "
			"a power of two %u..%u, dbuf_bytes a multiple of 4096 in %u..%u, max_msg "
			"1..dbuf_bytes/2", (long long)slots, (long long)dbuf, (long long)maxm,
			BL_EP_SLOTS_MIN, BL_EP_SLOTS_MAX, BL_EP_DBUF_MIN, BL_EP_DBUF_MAX);
		return;
	}
	old = find(jn->valuestring);
	if (old != NULL) {
		set_err(r, -EADDRINUSE, "endpoint \"%s\" is registered already (by pid %d)", old->name,
			(int)old->pid);
		return;
	}
	for (unsigned int i = 0; i < EP_MAX && ep == NULL; i++)
		if (!eps[i].used)
			ep = &eps[i];
	if (ep == NULL) {
		set_err(r, -ENOSPC, "ep_listen: %u endpoints are registered already (the limit)", EP_MAX);
		return;
	}
	memset(ep, 0, sizeof(*ep));
	ep->used = 1;
	ep->conn_fd = conn_fd;
	snprintf(ep->name, sizeof(ep->name), "%s", jn->valuestring);
	ep->uid = who->uid;
	ep->gid = g;
	ep->mode = m;
	ep->pid = who->pid;
	ep->slots = (uint32_t)slots;
	ep->dbuf_bytes = (uint32_t)dbuf;
	ep->max_msg = (uint32_t)maxm;
	*lease = ep;
	r->j = cJSON_CreateObject();
	cJSON_AddStringToObject(r->j, "name", ep->name);
	cJSON_AddNumberToObject(r->j, "slots", ep->slots);
	cJSON_AddNumberToObject(r->j, "dbuf_bytes", ep->dbuf_bytes);
	cJSON_AddNumberToObject(r->j, "max_msg", ep->max_msg);
	bl_log(BL_LOG_INFO, "endpoint %s: registered by pid %d (uid %u, group %u, mode %04o)",
	       ep->name, (int)ep->pid, (unsigned int)ep->uid, (unsigned int)ep->gid,
	       (unsigned int)ep->mode);
}

void
bl_ep_unlisten(struct bl_ep *ep)
{
	if (ep == NULL || !ep->used)
		return;
	bl_log(BL_LOG_INFO, "endpoint %s: unregistered (its listener, pid %d, left)", ep->name,
	       (int)ep->pid);
	memset(ep, 0, sizeof(*ep));
}

/* One region: a sealed-size memfd of n bytes, mode 0444 (the descriptor returned is
 * the only writable way in), an IBuf's header written when hdr is set. -errno. */
static int
make_region(const struct bl_ep *ep, const char *what, uint64_t n, int hdr)
{
	char name[80];
	int fd;

	snprintf(name, sizeof(name), "beltline-ep-%s-%s", ep->name, what);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)n) < 0 || fchmod(fd, 0444) < 0)
		goto fail;
	if (hdr) {
		struct bl_ep_hdr h = { .magic = BL_EP_MAGIC, .version = BL_EP_VERSION,
			.slots = ep->slots, .dbuf_bytes = ep->dbuf_bytes, .max_msg = ep->max_msg };
		if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
			goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		goto fail;
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		return -e;
	}
}

static cJSON *
pair_json(const struct bl_ep *ep, pid_t pid, uid_t uid)
{
	cJSON *j = cJSON_CreateObject(), *f;

	cJSON_AddStringToObject(j, "name", ep->name);
	cJSON_AddNumberToObject(j, "peer_pid", (double)pid);
	cJSON_AddNumberToObject(j, "peer_uid", (double)uid);
	cJSON_AddNumberToObject(j, "slots", ep->slots);
	cJSON_AddNumberToObject(j, "dbuf_bytes", ep->dbuf_bytes);
	cJSON_AddNumberToObject(j, "max_msg", ep->max_msg);
	f = cJSON_AddArrayToObject(j, "fds");
	cJSON_AddItemToArray(f, cJSON_CreateString(BL_CTL_FD_EP_IBUF));
	cJSON_AddItemToArray(f, cJSON_CreateString(BL_CTL_FD_EP_DBUF));
	cJSON_AddItemToArray(f, cJSON_CreateString(BL_CTL_FD_EP_SOCK));
	return j;
}

/* The listener's ep_accept record, non-blocking: 0, -EAGAIN (its queue is full), -errno. */
static int
send_accept(const struct bl_ep *ep, cJSON *j, const int *fds)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 3)];
	} cm;
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_EP_ACCEPT, .id = 0, .status = 0, .n_fds = 3 };
	char *s = cJSON_PrintUnformatted(j);
	struct iovec iov[2];
	struct msghdr m;
	struct cmsghdr *ch;
	int rc = 0;

	if (s == NULL)
		return -ENOMEM;
	if (strlen(s) > BL_CTL_MSG_MAX - sizeof(h)) {
		cJSON_free(s);
		return -EMSGSIZE;
	}
	h.len = (uint32_t)strlen(s);
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ s, h.len };
	memset(&m, 0, sizeof(m));
	memset(&cm, 0, sizeof(cm));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof(cm.b);
	ch = CMSG_FIRSTHDR(&m);
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	memcpy(CMSG_DATA(ch), fds, sizeof(int) * 3);
	if (sendmsg(ep->conn_fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		rc = errno == EWOULDBLOCK ? -EAGAIN : -errno;
	cJSON_free(s);
	return rc;
}

void
bl_ep_connect(const struct bl_stream_cred *who, const cJSON *req, struct bl_ep_reply *r)
{
	const cJSON *jn = cJSON_GetObjectItemCaseSensitive(req, "name");
	int fd[2][3] = { { -1, -1, -1 }, { -1, -1, -1 } }, sv[2], rc;
	struct bl_ep *ep;
	cJSON *aj;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsString(jn) || jn->valuestring == NULL) {
		set_err(r, -EINVAL, "ep_connect: \"name\" (a string) is required");
		return;
	}
	ep = strlen(jn->valuestring) < BL_STREAM_NAME_MAX ? find(jn->valuestring) : NULL;
	if (ep == NULL) {
		set_err(r, -ENOENT, "no endpoint \"%.47s\" is registered (nobody listens on it; "
			"beltline ls lists endpoints)", jn->valuestring);
		return;
	}
	if (!may_connect(ep, who)) {
		ep->refused_perm++;
		bl_log(BL_LOG_WARNING, "endpoint %s: refused a connect of uid %u (pid %d): owner %u, "
		       "group %u, mode %04o", ep->name, (unsigned int)who->uid, (int)who->pid,
		       (unsigned int)ep->uid, (unsigned int)ep->gid, (unsigned int)ep->mode);
		set_err(r, -EACCES, "uid %u may not connect to endpoint %s (owner %u, group %u, mode "
			"%04o: connecting needs read and write permission)", (unsigned int)who->uid,
			ep->name, (unsigned int)ep->uid, (unsigned int)ep->gid, (unsigned int)ep->mode);
		return;
	}
	/* fd[0]: the listener's side, fd[1]: the connector's; each ibuf, dbuf, sock. */
	for (int s = 0; s < 2; s++) {
		fd[s][0] = make_region(ep, s == 0 ? "l-ibuf" : "c-ibuf", bl_ep_ibuf_bytes(ep->slots), 1);
		fd[s][1] = make_region(ep, s == 0 ? "l-dbuf" : "c-dbuf", ep->dbuf_bytes, 0);
		if (fd[s][0] < 0 || fd[s][1] < 0) {
			rc = fd[s][0] < 0 ? fd[s][0] : fd[s][1];
			goto fail;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		goto fail;
	}
	fd[0][2] = sv[0];
	fd[1][2] = sv[1];
	aj = pair_json(ep, who->pid, who->uid);
	rc = send_accept(ep, aj, fd[0]);
	cJSON_Delete(aj);
	if (rc == -EAGAIN) {
		ep->refused_busy++;
		bl_log(BL_LOG_WARNING, "endpoint %s: refused a connect of uid %u (pid %d): its "
		       "listener (pid %d) has too many not yet accepted", ep->name,
		       (unsigned int)who->uid, (int)who->pid, (int)ep->pid);
		set_err(r, -ECONNREFUSED, "endpoint %s: its listener (pid %d) has too many connects "
			"not yet accepted; try again later", ep->name, (int)ep->pid);
		goto out;
	}
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* The listener's connection died and is not reaped yet: as good as gone. */
		ep->failed++;
		set_err(r, -ENOENT, "no endpoint \"%s\" is registered (its listener, pid %d, "
			"went away)", ep->name, (int)ep->pid);
		goto out;
	}
	if (rc < 0)
		goto fail;
	for (int i = 0; i < 3; i++)
		close(fd[0][i]);
	ep->connects++;
	r->j = pair_json(ep, ep->pid, ep->uid);
	memcpy(r->fd, fd[1], sizeof(r->fd));
	r->n_fds = 3;
	return;
fail:
	ep->failed++;
	set_err(r, rc, "endpoint %s: cannot set up the ring pair: %s", ep->name, strerror(-rc));
out:
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < 3; i++)
			if (fd[s][i] >= 0)
				close(fd[s][i]);
}

static cJSON *
ep_json(const struct bl_ep *ep, int counters)
{
	cJSON *o = cJSON_CreateObject();
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned int)ep->mode);
	cJSON_AddStringToObject(o, "name", ep->name);
	cJSON_AddStringToObject(o, "kind", "endpoint");
	cJSON_AddNumberToObject(o, "owner", ep->uid);
	cJSON_AddNumberToObject(o, "group", ep->gid);
	cJSON_AddStringToObject(o, "mode", mode);
	cJSON_AddNumberToObject(o, "pid", ep->pid);
	cJSON_AddNumberToObject(o, "slots", ep->slots);
	cJSON_AddNumberToObject(o, "dbuf_bytes", ep->dbuf_bytes);
	cJSON_AddNumberToObject(o, "connects", (double)ep->connects);
	if (counters) {
		cJSON_AddNumberToObject(o, "refused_perm", (double)ep->refused_perm);
		cJSON_AddNumberToObject(o, "refused_busy", (double)ep->refused_busy);
		cJSON_AddNumberToObject(o, "failed", (double)ep->failed);
	}
	return o;
}

cJSON *
bl_ep_list_json(const struct bl_stream_cred *who)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned int i = 0; i < EP_MAX; i++)
		if (eps[i].used && may_connect(&eps[i], who))
			cJSON_AddItemToArray(a, ep_json(&eps[i], 0));
	return a;
}

cJSON *
bl_ep_stats_json(void)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned int i = 0; i < EP_MAX; i++)
		if (eps[i].used)
			cJSON_AddItemToArray(a, ep_json(&eps[i], 1));
	return a;
}
