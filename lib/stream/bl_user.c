/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_user — the user filter's verdict clients, control side (bl_user.h). Main lcore only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cJSON.h>
#include <rte_pause.h>

#include "bl_atomic.h"
#include "bl_stream_pvt.h"
#include "bl_user.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static struct bl_user *users[BL_USER_MAX];   /* main lcore only; each lives in its filter */

#define N(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

struct bl_user *
bl_user_find(const char *name)
{
	for (unsigned int i = 0; i < BL_USER_MAX; i++)
		if (users[i] != NULL && strcmp(users[i]->name, name) == 0)
			return users[i];
	return NULL;
}

int
bl_user_register(struct bl_user *u, struct bl_err *err)
{
	const struct bl_user *o = bl_user_find(u->name);

	if (o != NULL && o->s == u->s)   /* a reload's new instance, the stream kept */
		return bl_err_set(err, -EBUSY, "name: user filter \"%s\" runs with other settings "
				  "or in another place; a reload keeps a user filter as it is: remove "
				  "it in one reload, add it back in the next", u->name);
	if (o != NULL)
		return bl_err_set(err, -EEXIST, "name: a user filter \"%s\" exists already", u->name);
	for (unsigned int i = 0; i < BL_USER_MAX; i++)
		if (users[i] == NULL) {
			users[i] = u;
			u->used = 1;
			return 0;
		}
	return bl_err_set(err, -ENOSPC, "name: %u user filters exist already (the most)",
			  BL_USER_MAX);
}

static void (*removed_fn)(struct bl_user *u, void *ctx);
static void *removed_ctx;

void
bl_user_on_removed(void (*fn)(struct bl_user *u, void *ctx), void *ctx)
{
	removed_fn = fn;
	removed_ctx = ctx;
}

void
bl_user_unregister(struct bl_user *u)
{
	if (u == NULL || !u->used)
		return;
	if (removed_fn != NULL)
		removed_fn(u, removed_ctx);
	bl_user_detach(u);
	for (unsigned int i = 0; i < BL_USER_MAX; i++)
		if (users[i] == u)
			users[i] = NULL;
	u->used = 0;
}

int
bl_user_may_attach(const struct bl_user *u, const struct bl_stream_cred *who)
{
	const struct bl_stream *s = u->s;

	return bl_stream_cred_allows(who, s->uid, s->gid, s->mode, 06);
}

static size_t
page_up(size_t n)
{
	return (n + BL_SHM_META_PAGE - 1) & ~(size_t)(BL_SHM_META_PAGE - 1);
}

static void
client_free(struct bl_user_client *c)
{
	if (c == NULL)
		return;
	if (c->ring != NULL)
		munmap((void *)(uintptr_t)c->ring, c->ring_size);
	if (c->tp != NULL)
		munmap(c->tp, BL_SHM_META_PAGE);
	free(c);
}

/* The client's vring (bl_stream__client_region): header and verdict descriptors. */
static int
make_vring(const struct bl_user *u, struct bl_user_client *c, int *fd_out)
{
	struct bl_vring_hdr h = { .magic = BL_VRING_MAGIC, .version = BL_SHM_ABI_VERSION,
		.capacity = u->capacity };
	const void *p;
	int fd;

	h.off_desc = BL_SHM_META_PAGE;
	h.region_size = h.off_desc + page_up((size_t)u->capacity * sizeof(struct bl_vring_desc));
	fd = bl_stream__client_region("vring", u->name, &h, sizeof(h), h.region_size, &p);
	if (fd < 0)
		return fd;
	c->ring = p;
	c->ring_size = h.region_size;
	c->hdr = p;
	c->desc = (const struct bl_vring_desc *)((const uint8_t *)p + h.off_desc);
	c->capacity = u->capacity;
	*fd_out = fd;
	return 0;
}

/* Our tail page: mapped read-write here, then sealed so no later mapping may be writable. */
static int
make_vtail(const struct bl_user *u, struct bl_user_client *c, int *fd_out)
{
	void *p = NULL;
	int fd = bl_stream__tail_page("vtail", u->name, &p);

	if (fd < 0)
		return fd;
	c->tp = p;
	*fd_out = fd;
	return 0;
}

int
bl_user_attach(struct bl_user *u, const struct bl_stream_cred *who, const char *client,
	       struct bl_user_grant *g, struct bl_err *err)
{
	struct bl_user_client *c;
	char owner[64], group[64];
	int rc;

	memset(g, 0, sizeof(*g));
	g->vfd[0] = g->vfd[1] = -1;
	g->sg.n_fds = 0;
	if (!bl_user_may_attach(u, who)) {
		bl_stream__user_name(u->s->uid, owner, sizeof(owner));
		bl_stream__group_name(u->s->gid, group, sizeof(group));
		return bl_err_set(err, -EACCES, "uid %u may not return verdicts for %s (owner %s, "
				  "group %s, mode %04o: read and write permission are needed)",
				  (unsigned int)who->uid, u->name, owner, group,
				  (unsigned int)u->s->mode);
	}
	if (u->cl != NULL)
		return bl_err_set(err, -EBUSY, "user filter %s already has a verdict client (pid %d)",
				  u->name, (int)u->pid);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return bl_err_set(err, -ENOMEM, "out of memory");
	rc = make_vring(u, c, &g->vfd[0]);
	if (rc == 0)
		rc = make_vtail(u, c, &g->vfd[1]);
	if (rc < 0) {
		bl_user_grant_close(g);
		client_free(c);
		return bl_err_set(err, rc, "cannot make the verdict ring: %s", strerror(-rc));
	}
	/* The reader: frp, so a slow client never holds the graph back (the filter does). */
	rc = bl_stream_attach(u->s, who, "frp", client, &g->sg, err);
	if (rc < 0) {
		bl_user_grant_close(g);
		client_free(c);
		return rc;
	}
	for (unsigned int i = 0; i < g->sg.n_fds; i++) {
		g->fd[g->n_fds] = g->sg.fd[i];
		g->fd_name[g->n_fds++] = g->sg.fd_name[i];
	}
	g->fd[g->n_fds] = g->vfd[0];
	g->fd_name[g->n_fds++] = BL_CTL_FD_VRING;
	g->fd[g->n_fds] = g->vfd[1];
	g->fd_name[g->n_fds++] = BL_CTL_FD_VTAIL;
	u->cl = c;
	u->reader = g->sg.reader;
	u->pid = who->pid;
	u->cuid = who->uid;
	bl_stream__client_name(u->client, sizeof(u->client), client);
	/* relaxed, main lcore only: pair with the relaxed loads of bl_filter_counters */
	__atomic_store_n(&u->gen, u->gen + 1, __ATOMIC_RELAXED);
	c->gen = u->gen;
	__atomic_store_n(&u->clients, 1, __ATOMIC_RELAXED);
	/* release: the region before the pointer; the worker loads it seq_cst (Dekker, D). */
	__atomic_store_n(&u->active, c, __ATOMIC_RELEASE);
	return 0;
}

void
bl_user_grant_close(struct bl_user_grant *g)
{
	bl_stream_grant_close(&g->sg);
	for (unsigned int i = 0; i < 2; i++)
		if (g->vfd[i] >= 0) {
			close(g->vfd[i]);
			g->vfd[i] = -1;
		}
	g->n_fds = 0;
}

void
bl_user_detach(struct bl_user *u)
{
	struct bl_user_client *c = u->cl;

	if (c == NULL)
		return;
	/* D: seq_cst store, then seq_cst loads of busy (pairs with the worker's store of busy
	 * before its load of active): once busy is seen 0, no burst reads c. */
	__atomic_store_n(&u->active, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&u->busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	client_free(c);
	u->cl = NULL;
	__atomic_store_n(&u->clients, 0, __ATOMIC_RELAXED);   /* as at attach */
	u->pid = 0;
	bl_stream_detach(u->s, u->reader);
}

static cJSON *
user_json(const struct bl_user *u, int full)
{
	const struct bl_user_counts *c = &u->c;
	cJSON *o = cJSON_CreateObject(), *k;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", u->name);
	N(o, "capacity", u->capacity);
	bl_stream__perm_json(o, u->s->uid, u->s->gid, u->s->mode);
	N(o, "clients", u->cl != NULL);
	N(o, "client_pid", u->cl != NULL ? u->pid : 0);
	N(o, "verdicts", bl_counter_read(&c->verdicts));
	if (!full)
		return o;
	N(o, "clients_total", u->gen);
	k = cJSON_AddObjectToObject(o, "client");
	if (u->cl != NULL) {
		N(k, "pid", u->pid);
		N(k, "uid", u->cuid);
		cJSON_AddStringToObject(k, "client", u->client);
	}
#define C(f) N(k, #f, bl_counter_read(&c->f))
	C(handed); C(verdicts); C(verdict_drop); C(timeout_pass); C(timeout_drop);
	C(no_client_pass); C(no_client_drop); C(gone_pass); C(gone_drop); C(full_pass);
	C(full_drop); C(evicted_pass); C(evicted_drop); C(late); C(twice); C(unknown); C(bad_class); C(bad_head); C(copy_nombuf);
	C(stopped);
#undef C
	return o;
}

struct cJSON *
bl_user_stats_json(void)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned int i = 0; a != NULL && i < BL_USER_MAX; i++)
		if (users[i] != NULL)
			cJSON_AddItemToArray(a, user_json(users[i], 1));
	return a;
}

struct cJSON *
bl_user_list_json(const struct bl_stream_cred *who)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned int i = 0; a != NULL && i < BL_USER_MAX; i++)
		if (users[i] != NULL && bl_user_may_attach(users[i], who))
			cJSON_AddItemToArray(a, user_json(users[i], 0));
	return a;
}

struct cJSON *
bl_user_grant_json(const struct bl_user *u, const struct bl_user_grant *g)
{
	cJSON *j = bl_stream_grant_json(u->s, &g->sg), *names = cJSON_CreateArray();

	if (j == NULL || names == NULL) {
		cJSON_Delete(j);
		cJSON_Delete(names);
		return NULL;
	}
	for (unsigned int i = 0; i < g->n_fds; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(g->fd_name[i]));
	cJSON_ReplaceItemInObjectCaseSensitive(j, "fds", names);
	N(j, "vring_capacity", u->capacity);
	return j;
}
