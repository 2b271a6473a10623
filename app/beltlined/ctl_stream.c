/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server's stream operations (ctl_pvt.h): ls, and the leases a
 * connection can hold, one at most: a stream's reader (attach), an inject
 * stream's writer (open_write), a user filter's verdict client (attach_verdict),
 * a listening endpoint (ep_listen; ep_connect holds none); detach ends it. The
 * work is the stream layer's (bl_stream.h, bl_inject.h, bl_user.h), ep.c's and
 * tap.c's; this file reads the request and replies. Main lcore only.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_err.h"
#include "bl_inject.h"
#include "bl_log.h"
#include "bl_stream.h"
#include "bl_stream_proto.h"
#include "bl_user.h"
#include "ctl_pvt.h"
#include "ep.h"
#include "tap.h"

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

/* A connection holds one stream at most (its lease): 1, with the refusal sent, if it has one. */
static int
conn_busy(struct conn *k, const struct bl_ctl_hdr *h)
{
	if (!ctl_conn_leased(k))
		return 0;
	ctl_reply_err(k, h, -EISCONN, "this connection is already attached to \"%s\"; open "
		      "another connection for another stream", k->u != NULL ? k->u->name :
		      k->x != NULL ? k->x->name : k->w != NULL ? k->w->name : bl_ep_name(k->ep));
	return 1;
}

/* What a lease is taken on, and how it is found by name. */
struct lease_kind {
	const char *op;                  /* the operation: refusals begin with it */
	const char *what;                /* "stream": no such ... */
	const char *where;               /* where the names are listed */
	void *(*find)(const char *name);
};

static void *
find_export(const char *name)
{
	return bl_stream_find(BL_STREAM_EXPORT, name);
}

/* "wake": "channel" in an attach: the client reads a wake channel (docs/control.md). */
static int
wake_channel_asked(const cJSON *req)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(req, "wake");

	return cJSON_IsString(w) && w->valuestring != NULL && strcmp(w->valuestring, "channel") == 0;
}

static void *
find_inject(const char *name)
{
	return bl_inject_find(name);
}

static void *
find_user(const char *name)
{
	return bl_user_find(name);
}

/*
 * The prologue of attach, open_write and attach_verdict: k holds no lease yet,
 * "stream" is a string naming an lk->what of the instance; *client is "client"
 * (optional: NULL). What lk->find found, or NULL after replying why.
 */
/* A name asked of the wrong kind says what it is (a user who opened an inject stream to
 * read it was told only that no stream of that name exists), else where names are. */
static const char *
other_kind(const struct lease_kind *lk, const char *name)
{
	if (strcmp(lk->what, "inject stream") != 0 && bl_inject_find(name) != NULL)
		return "it is an inject stream: clients write it (beltline_open_write, beltline "
		       "inject); read what it carries from an export after it";
	if (strcmp(lk->what, "stream") != 0 && bl_stream_find(BL_STREAM_EXPORT, name) != NULL)
		return "it is an exported stream: clients read it (beltline_open, beltline cat)";
	if (strcmp(lk->what, "user filter") != 0 && bl_user_find(name) != NULL)
		return "it is a user filter: its verdict client attaches with beltline_open_user";
	return lk->where;
}

static void *
lease_find(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req,
	   const struct lease_kind *lk, const char **client)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(req, "stream");
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "client");
	void *x;

	if (conn_busy(k, h))
		return NULL;
	if (!cJSON_IsString(js) || js->valuestring == NULL) {
		ctl_reply_err(k, h, -EINVAL, "%s: \"stream\" (a string) is required", lk->op);
		return NULL;
	}
	x = strlen(js->valuestring) < BL_STREAM_NAME_MAX ? lk->find(js->valuestring) : NULL;
	if (x == NULL) {
		ctl_reply_err(k, h, -ENOENT, "no %s \"%.47s\" in instance \"%s\" (%s)", lk->what,
			      js->valuestring, c->app->cfg.instance,
			      strlen(js->valuestring) < BL_STREAM_NAME_MAX ?
			      other_kind(lk, js->valuestring) : lk->where);
		return NULL;
	}
	*client = cJSON_IsString(jc) ? jc->valuestring : NULL;
	return x;
}

void
ctl_op_list(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	struct bl_stream_cred who = conn_cred(k);
	cJSON *j = cJSON_CreateObject();

	(void)req;
	cJSON_AddStringToObject(j, "instance", c->app->cfg.instance);
	/* the appliance's clock where the counters below are read: `beltline ls` divides
	 * their growth by its difference, not by its own clock's (stats' uptime_s alike) */
	cJSON_AddNumberToObject(j, "uptime_s", bl_app_uptime_s(c->app));
	cJSON_AddItemToObject(j, "streams", bl_stream_list_json(&who));
	cJSON_AddItemToObject(j, "injects", bl_inject_list_json(&who));
	cJSON_AddItemToObject(j, "users", bl_user_list_json(&who));
	cJSON_AddItemToObject(j, "endpoints", bl_ep_list_json(&who));
	ctl_reply_json(k, h, j, NULL, 0);
}

/* ep_listen, ep_connect (ep.c does the work). */
void
ctl_op_ep(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	struct bl_stream_cred who = conn_cred(k);
	struct bl_ep_reply r;

	(void)c;
	if (h->op == BL_CTL_EP_LISTEN && conn_busy(k, h))
		return;
	if (h->op == BL_CTL_EP_LISTEN)
		bl_ep_listen(k->fd, &who, req, &k->ep, &r);
	else
		bl_ep_connect(&who, req, &r);
	if (r.status < 0)
		ctl_reply_err(k, h, r.status, "%s", r.err);
	else
		ctl_reply_json(k, h, r.j, r.fd, r.n_fds);
	for (unsigned int i = 0; i < r.n_fds; i++)
		close(r.fd[i]);        /* the client has its own now */
}

void
ctl_op_attach(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	static const struct lease_kind lk = { "attach", "stream", "beltline ls lists them",
					      find_export };
	const cJSON *jp = cJSON_GetObjectItemCaseSensitive(req, "policy");
	struct bl_stream_cred who = conn_cred(k);
	struct bl_stream_grant g;
	struct bl_stream *x;
	struct bl_err err = { 0 };
	const char *policy = NULL, *client;
	cJSON *j;
	int rc;

	x = lease_find(c, k, h, req, &lk, &client);
	if (x == NULL)
		return;
	if (jp != NULL && !cJSON_IsNull(jp))    /* not a string: a policy no stream takes */
		policy = cJSON_IsString(jp) && jp->valuestring != NULL ? jp->valuestring : "";
	who.wake_channel = wake_channel_asked(req);
	rc = bl_stream_attach(x, &who, policy, client, &g, &err);
	if (rc < 0) {
		ctl_reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_stream_grant_json(x, &g);
	if (j == NULL) {
		bl_stream_grant_close(&g);
		bl_stream_detach(x, g.reader);
		ctl_reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->x = x;
	k->reader = (int)g.reader;
	ctl_reply_json(k, h, j, g.fd, g.n_fds);
	bl_stream_grant_close(&g);   /* the client has its own now */
}

void
ctl_op_detach(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	(void)c;
	(void)req;
	ctl_conn_detach(k);
	ctl_reply(k, h, 0, "{}", NULL, 0);
}

void
ctl_op_open_write(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	static const struct lease_kind lk = { "open_write", "inject stream",
		"beltline stats lists them under \"injects\"", find_inject };
	struct bl_stream_cred who = conn_cred(k);
	struct bl_inject_grant g;
	struct bl_inject *s;
	struct bl_err err = { 0 };
	const char *client;
	cJSON *j;
	int rc;

	s = lease_find(c, k, h, req, &lk, &client);
	if (s == NULL)
		return;
	rc = bl_inject_open_write(s, &who, client,
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "wake")), &g, &err);
	if (rc < 0) {
		ctl_reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_inject_grant_json(s, &g);
	if (j == NULL) {
		bl_inject_grant_close(&g);
		bl_inject_close_write(s);
		ctl_reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->w = s;
	ctl_reply_json(k, h, j, g.fd, g.n_fds);
	bl_inject_grant_close(&g);   /* the writer holds the only read-write descriptor now */
}

void
ctl_op_attach_verdict(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h,
		      const cJSON *req)
{
	static const struct lease_kind lk = { "attach_verdict", "user filter",
		"beltline ls lists them under \"users\"", find_user };
	struct bl_stream_cred who = conn_cred(k);
	struct bl_user_grant g;
	struct bl_user *u;
	struct bl_err err = { 0 };
	const char *client;
	cJSON *j;
	int rc;

	u = lease_find(c, k, h, req, &lk, &client);
	if (u == NULL)
		return;
	who.wake_channel = wake_channel_asked(req);
	rc = bl_user_attach(u, &who, client, &g, &err);
	if (rc < 0) {
		ctl_reply_err(k, h, rc, "%s", err.msg);
		return;
	}
	j = bl_user_grant_json(u, &g);
	if (j == NULL) {
		bl_user_grant_close(&g);
		bl_user_detach(u);
		ctl_reply_err(k, h, -ENOMEM, "out of memory building the reply");
		return;
	}
	k->u = u;
	ctl_reply_json(k, h, j, g.fd, g.n_fds);
	bl_user_grant_close(&g);   /* the client holds the only read-write vring descriptor now */
}

/* tap.c makes the stream; the client then attaches to the one it names. */
void
ctl_op_tap(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	struct bl_stream_cred who = conn_cred(k);
	struct bl_err err = { 0 };
	cJSON *j = bl_app_tap_open(c->app, &who, req, &err);

	if (j != NULL) {
		ctl_reply_json(k, h, j, NULL, 0);
		return;
	}
	/* Logged: a reader of beltline mount's `all` sees only open(2)'s errno (ENOSPC for
	 * "raise mbufs.count"), and the mount's stderr is /dev/null once it has gone to the
	 * background. Who may not tap is logged where that is decided (tap.c), its own call
	 * site: the rate limit of this one, spent on bad specs, does not hide it. */
	if (err.code != -EACCES)
		bl_log(BL_LOG_WARNING, "tap refused: uid %u (pid %d): %s", (unsigned int)who.uid,
		       (int)who.pid, err.msg);
	ctl_reply_err(k, h, err.code != 0 ? err.code : -EINVAL, "%s", err.msg);
}
