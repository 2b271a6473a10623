/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export — publish a stream to client processes (docs/control.md): an IBuf in
 * shared memory whose entries point into the packet DBuf the NIC received
 * into, zero copy, when the stream's permissions are that DBuf's (below),
 * else into a copy DBuf with the stream's own. Clients attach through the
 * appliance's control socket, which checks their credentials against the
 * stream's owner, group and mode (like a file's read permission) and passes
 * them read-only descriptors of the ring and of that one DBuf.
 *
 *   rx port=in | bpf "tcp port 80" | export name=web
 *   beltline cat web | tcpdump -r -
 *
 * synopsis: export name=NAME [policy=srp|mrp|frp] [capacity=N] [max_readers=N]
 *                  [mode=0640] [owner=USER] [group=GROUP] [wake_count=N] [wake_us=N]
 * edges:    none (a sink)
 * counters: written; dropped (ring full: tail drop, SRP/MRP); overwritten (FRP);
 *           readers (attached now); copied (packets copied into the stream's
 *           copy DBuf); copy_nombuf (dropped: the copy DBuf had no free mbuf);
 *           wakeups (eventfd signals to sleeping readers)
 * state:    shared: one stream per name, one writer (the graph must run on one
 *           worker). Readers are other processes.
 *
 * Permissions: a client maps only the DBufs of the streams it may open. When
 * the stream's owner, group and mode equal those of the packet DBuf (owner and
 * group the appliance's, mode memory.packet_mode, docs/config.md), its entries
 * point into it, zero copy. When they differ, the stream writes into a copy
 * DBuf with its own owner, group and mode (shared by every stream with the
 * same three, sized for their rings; lib/beltway/bl_dbuf_perm.h): each packet
 * is copied once, and a packet the copy pool has no mbuf for is dropped and
 * counted (copy_nombuf). The packet DBuf's permissions never change.
 * Wake moderation: a reader that sleeps (it asked for beltline_fd and found
 * the stream empty) is woken through its eventfd once wake_count entries wait
 * for it, or wake_us after the first one did (export_wake.h). Readers that
 * busy-poll cost nothing; a sleeper costs one eventfd write per sleep.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_dbuf_perm_worker.h"
#include "bl_dbuf_worker.h"
#include "bl_export.h"
#include "bl_filter_worker.h"
#include "ibuf_sink.h"
#include "bl_graph.h"

static struct bl_export exports[BL_EXPORT_MAX];   /* main lcore only */

struct bl_export *
bl_export_at(unsigned int i)
{
	return i < BL_EXPORT_MAX && exports[i].used ? &exports[i] : NULL;
}

struct bl_export *
bl_export_find(const char *name)
{
	for (unsigned int i = 0; i < BL_EXPORT_MAX; i++)
		if (exports[i].used && strcmp(exports[i].name, name) == 0)
			return &exports[i];
	return NULL;
}

struct bl_dbuf *
bl_export_dbuf(const struct bl_export *x)
{
	return x->perm != NULL ? x->perm->dbuf : x->dbuf;
}

struct export {
	struct bl_export *x;
	uint64_t copied;          /* (p) the worker; relaxed, read by export_counters */
	uint64_t copy_nombuf;     /* (p) likewise */
	uint16_t cls[BL_BURST_MAX];
};

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= BL_EXPORT_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* A user or group given by name or number. */
static int
parse_id(const char *key, const char *s, int is_group, uint32_t *out, struct bl_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] != '\0' && *end == '\0' && errno == 0 && v < UINT32_MAX) {
		*out = (uint32_t)v;
		return 0;
	}
	if (is_group) {
		const struct group *g = getgrnam(s);
		if (g != NULL) {
			*out = g->gr_gid;
			return 0;
		}
	} else {
		const struct passwd *p = getpwnam(s);
		if (p != NULL) {
			*out = p->pw_uid;
			return 0;
		}
	}
	return bl_err_set(err, -EINVAL, "%s: no %s named \"%.40s\" on this machine", key,
			  is_group ? "group" : "user", s);
}

/*
 * The stream's ring, and the one place its DBuf is chosen: the packet DBuf
 * when (uid, gid, mode) are the packet DBuf's own (zero copy), else the copy
 * DBuf of those permissions (created or grown here, on the control path).
 */
static int
export_ring(struct bl_dbuf *pkt, const char *name, const struct bl_ibuf_opts *io, mode_t mode,
	    struct bl_export *x, struct bl_err *err)
{
	struct bl_dbuf_perm_opts po = {
		.sz = sizeof(po), .pkt = pkt, .uid = io->uid, .gid = io->gid, .mode = mode,
	};
	int rc;

	x->perm = NULL;
	if (bl_dbuf_perm_same(pkt, io->uid, io->gid, mode))
		return bl_dbuf_ibuf_create(pkt, io, &x->ib, err);
	rc = bl_dbuf_perm_ibuf_create(&po, io, &x->perm, &x->ib, err);
	if (rc < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return bl_err_set(err, rc, "name: stream \"%s\": %s", name, why);
	}
	/* Once, at build: a user who expected zero copy learns why not, and how. */
	fprintf(stderr, "beltlined: stream \"%s\": owner %u, group %u, mode %04o differ from the "
		"packet buffer's, so each packet is copied once into a buffer with the stream's "
		"permissions (give it the packet buffer's, memory.packet_mode, for zero copy)\n",
		name, (unsigned int)io->uid, (unsigned int)io->gid, (unsigned int)(mode & 0777));
	return 0;
}

static int
export_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "policy", "capacity", "max_readers", "mode",
		"owner", "group", "wake_count", "wake_us", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct export *e = bl_filter_priv(f);
	const char *name = NULL, *policy = "srp", *mode_s = "0640", *owner = NULL, *group = NULL;
	uint32_t cap = 1024, max_readers = 8, wake_count = 1, wake_us = 0, uid, gid;
	struct bl_export *x = NULL;
	char ring[64], *end;
	unsigned long mode;
	int rc;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "policy", &policy, err) < 0 ||
	    bl_args_str(args, "mode", &mode_s, err) < 0 ||
	    bl_args_str(args, "owner", &owner, err) < 0 ||
	    bl_args_str(args, "group", &group, err) < 0 ||
	    bl_args_u32(args, "capacity", 2, 1u << 20, &cap, err) < 0 ||
	    bl_args_u32(args, "max_readers", 8, BL_IBUF_MAX_READERS, &max_readers, err) < 0 ||
	    bl_args_u32(args, "wake_count", 1, 1u << 20, &wake_count, err) < 0 ||
	    bl_args_u32(args, "wake_us", 0, 10000000, &wake_us, err) < 0)
		return -EINVAL;
	if (name == NULL || !name_ok(name))
		return bl_err_set(err, -EINVAL, "name: required, 1..%d characters of [A-Za-z0-9_.-], "
				  "not . or ..", BL_EXPORT_NAME_MAX - 1);
	if (cap & (cap - 1))
		return bl_err_set(err, -EINVAL, "capacity: must be a power of two, got %u", cap);
	if (wake_count > cap)
		return bl_err_set(err, -EINVAL, "wake_count: %u is more than the capacity (%u): a "
				  "sleeping reader would never be woken by count", wake_count, cap);
	uint32_t pol = strcmp(policy, "srp") == 0 ? BL_IBUF_SRP : strcmp(policy, "mrp") == 0 ? BL_IBUF_MRP :
		       strcmp(policy, "frp") == 0 ? BL_IBUF_FRP : 0;
	if (pol == 0)
		return bl_err_set(err, -EINVAL, "policy: must be srp, mrp or frp (packets from a NIC are "
				  "never throttled), got \"%.20s\"", policy);
	errno = 0;
	mode = strtoul(mode_s, &end, 8);
	if (mode_s[0] == '\0' || *end != '\0' || errno != 0 || mode > 0777)
		return bl_err_set(err, -EINVAL, "mode: octal permission bits 0..0777, got \"%.20s\"",
				  mode_s);
	uid = geteuid();
	gid = getegid();
	if ((owner != NULL && parse_id("owner", owner, 0, &uid, err) < 0) ||
	    (group != NULL && parse_id("group", group, 1, &gid, err) < 0))
		return -EINVAL;
	if (env->dbuf == NULL)
		return bl_err_set(err, -EINVAL, "name: the appliance's pool is not a packet DBuf");
	if (env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "name: a stream has one writer, but this graph runs "
				  "on %u workers; give it one", env->n_replicas);
	if (bl_export_find(name) != NULL)
		return bl_err_set(err, -EEXIST, "name: stream \"%s\" is already exported", name);
	for (unsigned int i = 0; i < BL_EXPORT_MAX && x == NULL; i++)
		if (!exports[i].used)
			x = &exports[i];
	if (x == NULL)
		return bl_err_set(err, -ENOSPC, "name: at most %d exported streams", BL_EXPORT_MAX);
	snprintf(ring, sizeof(ring), "export.%s", name);
	struct bl_ibuf_opts io = {
		.sz = sizeof(io), .name = ring, .capacity = cap, .policy = pol,
		.max_readers = max_readers, .uid = uid, .gid = gid, .mode = (mode_t)mode & 0666,
	};
	if (io.mode == 0)
		io.mode = 0600;   /* 0 would mean 0600 anyway; readers get fds, never paths */
	rc = export_ring(env->dbuf, name, &io, (mode_t)mode, x, err);
	if (rc != 0)
		return rc;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->dbuf = env->dbuf;
	x->policy = pol;
	x->capacity = cap;
	x->max_readers = max_readers;
	x->uid = uid;
	x->gid = gid;
	x->mode = (mode_t)mode;
	x->wake_count = wake_count;
	x->wake_us = wake_us;
	bl_export_wake_init(&x->wake, wake_count, wake_us);
	x->used = 1;
	e->x = x;
	return 0;
}

static void
export_fini(struct bl_filter *f)
{
	struct export *e = bl_filter_priv(f);

	/* The control server detached every reader before the graphs are freed. */
	for (unsigned int i = 0; i < BL_IBUF_MAX_READERS; i++)
		bl_export_wake_detach(e->x, i);
	if (e->x->perm != NULL)   /* the ring first: it releases the copies it holds */
		bl_dbuf_perm_ibuf_free(e->x->perm, e->x->ib);
	else
		bl_dbuf_ibuf_free(e->x->dbuf, e->x->ib);   /* releases every reference still held */
	memset(e->x, 0, sizeof(*e->x));
	e->x = NULL;
}

/*
 * A stream with its own permissions: each packet copied once into its copy
 * DBuf, the copies stored (the ring owns them), the originals freed. The pool
 * pointer is read once a burst: it changes only while graphs are built.
 */
static __rte_always_inline void
export_copy(struct bl_filter *f, struct export *e, struct rte_mbuf **pkts, uint16_t n)
{
	unsigned int k;

	for (uint16_t i = 0; i < n; i++)
		e->cls[i] = (uint16_t)bl_filter_in_class(f, i);
	k = bl_dbuf_copy_write(e->x->ib, e->x->perm->dbuf->mp, pkts, e->cls, n, &e->copy_nombuf);
	bl_counter_add(&e->copied, k);   /* relaxed, owner only: read by export_counters */
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
export_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct export *e = bl_filter_priv(f);

	/* The ring counts what it refused: counters.dropped of this filter and of the stream. */
	if (e->x->perm != NULL)
		export_copy(f, e, pkts, n);
	else
		ibuf_sink_burst(f, e->x->ib, e->cls, pkts, n);
	bl_export_wake_burst(&e->x->wake, e->x->ib, e->x->ib->head);
}

static unsigned int
export_counters(const struct bl_filter *f, const char **names, uint64_t *values, unsigned int max)
{
	const struct export *e = bl_filter_priv(f);
	struct bl_ibuf_stats st;

	if (max < 7 || e->x == NULL)
		return 0;
	bl_ibuf_stats(e->x->ib, &st);
	names[0] = "written";
	values[0] = st.written;
	names[1] = "dropped";
	values[1] = st.dropped;
	names[2] = "overwritten";
	values[2] = st.overwritten;
	names[3] = "readers";
	values[3] = st.n_active;
	names[4] = "copied";
	values[4] = bl_counter_read(&e->copied);
	names[5] = "copy_nombuf";
	values[5] = bl_counter_read(&e->copy_nombuf);
	names[6] = "wakeups";
	/* relaxed: a counter (export_wake.c adds with relaxed). */
	values[6] = __atomic_load_n(&e->x->wake.signals, __ATOMIC_RELAXED);
	return 7;
}

BL_FILTER_REGISTER(export) = {
	.summary = "publish a stream to client processes (beltline cat NAME), zero copy within permissions",
	.synopsis = "export name=NAME [policy=srp|mrp|frp] [capacity=N] [max_readers=N] [mode=0640] "
		    "[owner=USER] [group=GROUP] [wake_count=N] [wake_us=N]",
	.args_doc = "name: the stream's name, 1..47 of [A-Za-z0-9_.-] (required)\n"
		    "policy: srp (tail drop against the slowest reader, default), mrp (shared read "
		    "pointer) or frp (overwrite; readers check). A reader may attach with a looser "
		    "one (beltline cat -p): srp takes srp, mrp and frp readers, mrp mrp and frp\n"
		    "capacity: slots, a power of two (default 1024); reserved in the stream's DBuf (the "
		    "packet pool, or its copy pool)\n"
		    "max_readers: reader pages, 8..64 (default 8)\n"
		    "mode: who may attach, octal like a file's (default 0640): read permission is needed; "
		    "a stream whose owner, group and mode differ from the packet DBuf's "
		    "(memory.packet_mode) gets its packets copied once into a DBuf with its own permissions\n"
		    "owner: user name or uid (default the appliance's)\n"
		    "group: group name or gid (default the appliance's)\n"
		    "wake_count: wake a sleeping reader once this many entries wait for it "
		    "(1..capacity, default 1)\n"
		    "wake_us: ... or this many microseconds after the first one did (default 0: at "
		    "the main lcore's next wake tick, about 100 us)",
	.edges_doc = "none: a sink",
	.counters_doc = "written; dropped (ring full: tail drop, SRP/MRP); overwritten (FRP); "
			"readers (attached now); copied (packets copied into the stream's copy DBuf); "
			"copy_nombuf (packets dropped: the copy DBuf had no free mbuf); wakeups "
			"(eventfd signals sent to sleeping readers)",
	.state_doc = "shared: one stream per name, one writer (the graph runs on one worker); "
		     "a reader maps read-only only the DBuf the stream's entries point into: the "
		     "packet DBuf, or the copy DBuf of the stream's owner, group and mode",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct export),
	.init = export_init,
	.fini = export_fini,
	.process = export_process,
	.counters = export_counters,
};
