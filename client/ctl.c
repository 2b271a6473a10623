/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl — the client end of an instance's control socket (docs/control.md):
 * connect to RUN_DIR/INSTANCE/ctl (SOCK_SEQPACKET), one request, one reply
 * with descriptors (SCM_RIGHTS). Attach keeps the connection open: it is the
 * reader's lease, and closing it (for any reason) detaches the reader.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_stream_proto.h"

_Static_assert((int)BELTLINE_CTL_LIST == (int)BL_CTL_LIST &&
	       (int)BELTLINE_CTL_ATTACH == (int)BL_CTL_ATTACH &&
	       (int)BELTLINE_CTL_DETACH == (int)BL_CTL_DETACH &&
	       (int)BELTLINE_CTL_STATS == (int)BL_CTL_STATS &&
	       (int)BELTLINE_CTL_OPEN_WRITE == (int)BL_CTL_OPEN_WRITE &&
	       (int)BELTLINE_CTL_ATTACH_VERDICT == (int)BL_CTL_ATTACH_VERDICT &&
	       (int)BELTLINE_CLASS_MAX == (int)BL_VERDICT_CLASS_MAX &&
	       (int)BELTLINE_CTL_RELOAD == (int)BL_CTL_RELOAD &&
	       (int)BELTLINE_CTL_TAP == (int)BL_CTL_TAP &&
	       (int)BELTLINE_CTL_EDIT == (int)BL_CTL_EDIT,
	       "beltline.h restates the control operations of bl_stream_proto.h");

struct beltline_ctl {
	int fd;
	int timeout_ms;
	char instance[BL_INSTANCE_NAME_MAX];
};

const char *
blc_run_dir(const struct beltline_open_opts *o)
{
	const char *d = BLC_OPT(o, run_dir, NULL);

	if (d == NULL || d[0] == '\0')
		d = getenv("BELTLINE_RUN_DIR");
	return d != NULL && d[0] != '\0' ? d : BL_CTL_RUN_DIR;
}

int
blc_timeout(const struct beltline_open_opts *o)
{
	int t = BLC_OPT(o, timeout_ms, 0);
	const char *e;

	if (t > 0)
		return t;
	if ((e = getenv("BELTLINE_TIMEOUT_MS")) != NULL && e[0] != '\0') {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(e, &end, 10);
		if (errno == 0 && *end == '\0' && e[0] != '-' && v >= 1 && v <= 3600000)
			return (int)v;
		blc_log(BELTLINE_LOG_WARN, "BELTLINE_TIMEOUT_MS: want 1..3600000 (ms), got \"%.20s\": "
			"%d ms instead", e, BELTLINE_CTL_TIMEOUT_MS);
	}
	return BELTLINE_CTL_TIMEOUT_MS;
}

int
blc_ctl_connect(const char *instance, const struct beltline_open_opts *o, int *fd_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = blc_run_dir(o);
	int fd, n, e;

	if (instance == NULL || !bl_instance_name_ok(instance, strlen(instance))) {
		blc_log(BELTLINE_LOG_ERROR, "bad instance name '%s': want 1..%u characters of "
			"[A-Za-z0-9_-]", instance != NULL ? instance : "(null)", BL_INSTANCE_NAME_MAX - 1);
		return -EINVAL;
	}
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/%s", dir, instance, BL_CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		blc_log(BELTLINE_LOG_ERROR, "%s/%s/%s: path too long for a unix socket", dir, instance,
			BL_CTL_SOCKET);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
			blc_log(BELTLINE_LOG_ERROR, "no instance '%s' is running (%s control socket at %s)",
				instance, e == ECONNREFUSED ? "a stale" : "no", sa.sun_path);
			return -ENOENT;
		}
		blc_log(BELTLINE_LOG_ERROR, "%s: connect: %s", sa.sun_path, strerror(e));
		return -e;
	}
	*fd_out = fd;
	return 0;
}

void
blc_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

ssize_t
blc_recv_fds(int fd, int timeout_ms, void *buf, size_t size, int *fds, unsigned max_fds,
	unsigned *got, int *msg_flags)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * BL_CTL_FDS_MAX)];
	} cm;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iovec iov = { buf, size };
	struct msghdr m;
	ssize_t r;
	int rc = poll(&p, 1, timeout_ms);

	if (rc <= 0)
		return rc == 0 ? -ETIMEDOUT : -errno;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof(cm.b);
	r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0)
		return -errno;
	/* Collect descriptors first, so that every error path can close them. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned i = 0; i < k; i++) {
			int d;
			memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fds != NULL && *got < max_fds)
				fds[(*got)++] = d;
			else
				close(d);
		}
	}
	*msg_flags = m.msg_flags;
	return r;
}

int
blc_ctl_call_fd(int fd, int timeout_ms, unsigned op, const char *body, char **reply,
	int *fds, unsigned max_fds, unsigned *n_fds)
{
	static uint32_t next_id;
	uint32_t id;
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION, .op = (uint16_t)op };
	size_t blen = body != NULL ? strlen(body) : 2, total = 0, cap = 0;
	struct iovec iov[2];
	struct msghdr m;
	unsigned got = 0;
	char *buf, *all = NULL;
	int rc, status = 0, send_err = 0;

	*reply = NULL;
	if (n_fds != NULL)
		*n_fds = 0;
	if (sizeof(h) + blen > BL_CTL_MSG_MAX)
		return -EMSGSIZE;
	h.id = id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);  /* any thread */
	h.len = (uint32_t)blen;
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)(body != NULL ? body : "{}"), blen };
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	if (sendmsg(fd, &m, MSG_NOSIGNAL) < 0) {
		send_err = -errno;
		/* The server may have shut us out: then its notice (why) is waiting. */
		if (send_err != -EPIPE && send_err != -ECONNRESET) {
			blc_log(BELTLINE_LOG_ERROR, "control socket: send: %s", strerror(-send_err));
			return send_err;
		}
	}
	buf = malloc(BL_CTL_MSG_MAX + 1);
	if (buf == NULL)
		return -ENOMEM;
	/* A reply is one record, or several (BL_CTL_OP_MORE on all but the last), joined. */
	for (unsigned i = 0;; i++) {
		int flags = 0, notice;
		ssize_t r = blc_recv_fds(fd, send_err ? 0 : timeout_ms, buf, BL_CTL_MSG_MAX, fds,
			i == 0 ? max_fds : 0, &got, &flags);   /* later records: none kept */

		if (r < 0 || (r == 0 && send_err)) {
			rc = send_err ? send_err : (int)r;
			if (rc == -ETIMEDOUT)
				blc_log(BELTLINE_LOG_ERROR, "control socket: no reply within %d ms",
					timeout_ms);
			else
				blc_log(BELTLINE_LOG_ERROR, "control socket: %s: %s",
					send_err ? "send" : "receive", strerror(-rc));
			goto bad;
		}
		if (r == 0) {
			blc_log(BELTLINE_LOG_ERROR, "control socket: the appliance closed the connection");
			rc = -ECONNRESET;
			goto bad;
		}
		memcpy(&h, buf, (size_t)r < sizeof(h) ? (size_t)r : sizeof(h));
		notice = i == 0 && h.op == BL_CTL_NOTICE && h.id == 0 && h.status < 0;
		if ((size_t)r < sizeof(h) || (flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    h.magic != BL_CTL_MAGIC || h.version != BL_CTL_VERSION ||
		    (!notice && ((h.op & ~BL_CTL_OP_MORE) != op || h.id != id)) ||
		    (notice && (h.op & BL_CTL_OP_MORE)) ||
		    h.len != (size_t)r - sizeof(h) || h.n_fds != (i == 0 ? got : 0) ||
		    ((h.op & BL_CTL_OP_MORE) && got != 0) || (i > 0 && h.status != status) ||
		    h.status > 0 || h.status < -4095) {
			blc_log(BELTLINE_LOG_ERROR, "control socket: malformed reply (record %u: %zd "
				"bytes, %u fds)", i + 1, r, got);
			rc = -EPROTO;
			goto bad;
		}
		if (total + h.len > BL_CTL_REPLY_MAX) {
			blc_log(BELTLINE_LOG_ERROR, "control socket: a reply of more than %u bytes",
				BL_CTL_REPLY_MAX);
			rc = -EMSGSIZE;
			goto bad;
		}
		status = h.status;
		if (i == 0 && !(h.op & BL_CTL_OP_MORE)) {
			memmove(buf, buf + sizeof(h), h.len);   /* the usual case: one record */
			all = buf;
			buf = NULL;
			total = h.len;
			break;
		}
		if (total + h.len + 1 > cap) {   /* doubling: a long reply is not copied over and over */
			size_t want = cap * 2 > total + h.len + 1 ? cap * 2 : total + h.len + 1;
			char *t = realloc(all, want);
			if (t == NULL) {
				rc = -ENOMEM;
				goto bad;
			}
			all = t;
			cap = want;
		}
		memcpy(all + total, buf + sizeof(h), h.len);
		total += h.len;
		if (!(h.op & BL_CTL_OP_MORE))
			break;
	}
	free(buf);
	all[total] = '\0';
	*reply = all;
	if (n_fds != NULL)
		*n_fds = got;
	if (status < 0) {
		blc_close_fds(fds, got);
		if (n_fds != NULL)
			*n_fds = 0;
	}
	return status;
bad:
	blc_close_fds(fds, got);
	free(buf);
	free(all);
	return rc;
}

/* ---- public control calls ---- */

int
beltline_ctl_open(const char *instance, const struct beltline_open_opts *opts,
	struct beltline_ctl **out)
{
	struct beltline_ctl *c;
	int fd, rc;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (blc_open_opts_check(instance, opts) < 0)
		return -EINVAL;
	rc = blc_ctl_connect(instance, opts, &fd);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->timeout_ms = blc_timeout(opts);
	snprintf(c->instance, sizeof(c->instance), "%s", instance);
	*out = c;
	return 0;
}

void
beltline_ctl_close(struct beltline_ctl *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

int
beltline_ctl_call(struct beltline_ctl *c, enum beltline_ctl_op op, const char *body, char **reply)
{
	int fds[BL_CTL_FDS_MAX];
	unsigned n = 0;
	int rc;

	BLC_REFUSE_IF(c == NULL, "c is NULL");
	BLC_REFUSE_IF(reply == NULL, "reply is NULL");
	BLC_REFUSE_IF(op < BELTLINE_CTL_LIST ||
		      (op > BELTLINE_CTL_STATS && op != BELTLINE_CTL_RELOAD &&
		       op != BELTLINE_CTL_TAP && op != BELTLINE_CTL_EDIT),
		      "op is not one this call makes (list, attach, detach, stats, reload, tap, "
		      "edit: open_write and attach_verdict are beltline_open_write's and "
		      "beltline_open_user's)");
	rc = blc_ctl_call_fd(c->fd, c->timeout_ms, (unsigned)op, body, reply, fds,
		BL_CTL_FDS_MAX, &n);
	blc_close_fds(fds, n);     /* only attach hands out descriptors: beltline_open's business */
	return rc;
}

/* ---- beltline://INSTANCE/STREAM ---- */

static const char *
reply_error(const char *reply)
{
	static char msg[256];
	cJSON *j = cJSON_Parse(reply != NULL ? reply : "");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	snprintf(msg, sizeof(msg), "%s", cJSON_IsString(e) ? e->valuestring : "(no reason given)");
	cJSON_Delete(j);
	return msg;
}

/* Name each received fd from the reply's "fds" array; 0 or -EPROTO. x: an attach_verdict's
 * vring and vtail go there (NULL: an attach, which has none). */
static int
sort_fds(const char *uri, const cJSON *j, const int *fds, unsigned n, struct beltline__live_fds *f,
	int *dbuf_fds, struct blc_attach_extra *x)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "fds");
	const cJSON *reader = cJSON_GetObjectItemCaseSensitive(j, "reader");
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(j, "linktype");
	const cJSON *it;
	unsigned i = 0;

	if (!cJSON_IsArray(names) || (unsigned)cJSON_GetArraySize(names) != n ||
	    !cJSON_IsNumber(reader) || reader->valuedouble < 0 ||
	    reader->valuedouble >= BL_IBUF_MAX_READERS) {
		blc_log(BELTLINE_LOG_ERROR, "%s: attach reply lacks \"fds\" (one name per fd) "
			"or \"reader\"", uri);
		return -EPROTO;
	}
	/* A pcap link type is 16 bits (the upper bits of the header's field are flags). */
	if (lt != NULL && (!cJSON_IsNumber(lt) || !(lt->valuedouble >= 0 && lt->valuedouble <= 0xffff))) {
		blc_log(BELTLINE_LOG_ERROR, "%s: attach reply's \"linktype\" is not 0..65535", uri);
		return -EPROTO;
	}
	f->idx = (unsigned)reader->valuedouble;
	f->linktype = lt != NULL ? (int)lt->valuedouble : 1;
	/* What the entries are: a short lower-case word, else not said (a newer appliance's
	 * word this library does not know is passed on as it is). */
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "content");
	f->content[0] = '\0';
	if (cJSON_IsString(ct) && strlen(ct->valuestring) < sizeof(f->content) &&
	    strspn(ct->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(ct->valuestring))
		snprintf(f->content, sizeof(f->content), "%s", ct->valuestring);
	cJSON_ArrayForEach(it, names) {
		const char *nm = cJSON_IsString(it) ? it->valuestring : "";
		if (strcmp(nm, BL_CTL_FD_RING) == 0 && f->ring_fd < 0)
			f->ring_fd = fds[i];
		else if (strcmp(nm, BL_CTL_FD_PAGE) == 0 && f->page_fd < 0)
			f->page_fd = fds[i];
		else if (strcmp(nm, BL_CTL_FD_MRP) == 0 && f->mrp_fd < 0)
			f->mrp_fd = fds[i];
		else if (strcmp(nm, BL_CTL_FD_WAKE) == 0 && f->wake_fd < 0)
			f->wake_fd = fds[i];
		else if (strcmp(nm, BL_CTL_FD_DBUF) == 0 && f->n_dbufs < BLC_MAX_DBUFS)
			dbuf_fds[f->n_dbufs++] = fds[i];
		else if (x != NULL && strcmp(nm, BL_CTL_FD_VRING) == 0 && x->vfd[0] < 0)
			x->vfd[0] = fds[i];
		else if (x != NULL && strcmp(nm, BL_CTL_FD_VTAIL) == 0 && x->vfd[1] < 0)
			x->vfd[1] = fds[i];
		else {
			blc_log(BELTLINE_LOG_ERROR, "%s: attach reply: unexpected fd name '%s'", uri, nm);
			return -EPROTO;
		}
		i++;
	}
	if (f->ring_fd < 0 || f->page_fd < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: attach reply lacks the ring or page fd", uri);
		return -EPROTO;
	}
	if (x != NULL) {
		const cJSON *vc = cJSON_GetObjectItemCaseSensitive(j, "vring_capacity");

		if (x->vfd[0] < 0 || x->vfd[1] < 0 || !cJSON_IsNumber(vc) || vc->valuedouble < 1 ||
		    vc->valuedouble > (1u << 20)) {
			blc_log(BELTLINE_LOG_ERROR, "%s: attach_verdict reply lacks the vring or vtail "
				"fd or vring_capacity", uri);
			return -EPROTO;
		}
		x->vcap = (uint32_t)vc->valuedouble;
	}
	return 0;
}

int
beltline__open_uri_live(const char *uri, const char *inst, size_t ilen, const char *stream,
	const struct beltline_open_opts *o, struct beltline_stream **out)
{
	return blc_open_attach(uri, inst, ilen, stream, o, NULL, out);
}

int
blc_open_attach(const char *uri, const char *inst, size_t ilen, const char *stream,
	const struct beltline_open_opts *o, struct blc_attach_extra *x, struct beltline_stream **out)
{
	const char *client = BLC_OPT(o, client, NULL);
	const char *policy = x != NULL ? NULL : BLC_OPT(o, policy, NULL);
	struct beltline__live_fds f = { .ring_fd = -1, .page_fd = -1, .mrp_fd = -1,
		.wake_fd = -1, .ctl_fd = -1, .name = uri };
	int fds[BL_CTL_FDS_MAX], dbuf_fds[BLC_MAX_DBUFS];
	char instance[BL_INSTANCE_NAME_MAX], *body, *reply = NULL;
	cJSON *req, *j;
	unsigned n = 0;
	int fd, rc;

	snprintf(instance, sizeof(instance), "%.*s", (int)ilen, inst);
	rc = blc_ctl_connect(instance, o, &fd);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot open: %s", uri,
			rc == -ENOENT ? "the instance is not running" : strerror(-rc));
		return rc;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "stream", stream);
	cJSON_AddStringToObject(req, "client", client != NULL ? client :
		program_invocation_short_name);
	cJSON_AddNumberToObject(req, "pid", (double)getpid());
	cJSON_AddStringToObject(req, "wake", "channel");   /* we read it, never write it */
	if (policy != NULL)
		cJSON_AddStringToObject(req, "policy", policy);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (body == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = blc_ctl_call_fd(fd, blc_timeout(o), x != NULL ? BL_CTL_ATTACH_VERDICT : BL_CTL_ATTACH,
		body, &reply, fds, BL_CTL_FDS_MAX, &n);
	free(body);
	if (rc < 0) {
		if (reply != NULL)
			blc_log(BELTLINE_LOG_ERROR, "%s: the appliance refused: %s (%s)", uri,
				reply_error(reply), strerror(-rc));
		free(reply);
		close(fd);
		return rc;
	}
	j = cJSON_Parse(reply);
	free(reply);
	if (x != NULL)
		x->vfd[0] = x->vfd[1] = -1;
	rc = j == NULL ? -EPROTO : sort_fds(uri, j, fds, n, &f, dbuf_fds, x);
	if (j == NULL)
		blc_log(BELTLINE_LOG_ERROR, "%s: attach reply is not JSON", uri);
	cJSON_Delete(j);
	if (rc < 0) {
		blc_close_fds(fds, n);
		close(fd);
		return rc;
	}
	f.ctl_fd = fd;
	f.dbuf_fds = dbuf_fds;
	rc = beltline__open_live_fds(&f, out);   /* owns wake and ctl from here */
	for (unsigned i = 0; i < n; i++)
		if (fds[i] != f.wake_fd && (x == NULL || rc < 0 ||
					    (fds[i] != x->vfd[0] && fds[i] != x->vfd[1])))
			close(fds[i]);                   /* the mappings hold their own dups */
	return rc;
}

void
blc_ctl_log_hangup(int fd, const char *name, const char *what)
{
	char buf[BL_CTL_MSG_MAX + 1];
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	cJSON *j = NULL;
	const cJSON *why = NULL;

	if (r > (ssize_t)sizeof(struct bl_ctl_hdr)) {
		buf[r] = '\0';
		j = cJSON_Parse(buf + sizeof(struct bl_ctl_hdr));
		why = cJSON_GetObjectItemCaseSensitive(j, "error");
	}
	/* The appliance says why when it hangs up (a stop, a reload that removed the
	 * stream, an idle connection): without a word, its process ended. */
	blc_log(BELTLINE_LOG_WARN, "%s: the appliance closed the control connection: %s%s%s",
		name, what, cJSON_IsString(why) ? ": " : "",
		cJSON_IsString(why) ? why->valuestring : " (without a word: it was killed or crashed)");
	cJSON_Delete(j);
}
