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
 * synopsis: export name=NAME [policy=srp|mrp|frp] [capacity=N|auto] [max_capacity=N]
 *                  [max_readers=N] [mode=0640] [owner=USER] [group=GROUP] [wake_count=N]
 *                  [wake_us=N]
 * edges:    none (a sink)
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
 * the stream empty) is woken through its wake channel once wake_count entries
 * wait for it, or wake_us after the first one did. Readers that busy-poll cost
 * nothing; a sleeper costs one signal (a byte sent) per sleep.
 *
 * Streams that grow: with max_capacity=N (or capacity=auto: 1024 slots growing
 * to 4096, what the default pool covers) the ring doubles, up to N, while its readers lose entries (tail drops,
 * laps), and halves back to capacity after 5 s with nothing lost; readers follow
 * without losing an entry (lib/stream/bl_stream_grow.c). The pool reserves mbufs
 * for max_capacity: --check refuses a config whose pool cannot cover it.
 *
 * The stream itself (its table entry, ring, copy DBuf, readers, wake
 * moderation) is lib/stream's; this filter declares it from its arguments,
 * publishes each burst into it and reports its counters.
 */
#include <errno.h>
#include <string.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_stream_worker.h"

/* capacity=auto: the default capacity, growing up to this unless max_capacity says. */
#define EXPORT_AUTO_MAX 4096u

struct export {
	struct bl_stream *s;
	uint16_t cls[BL_BURST_MAX];
};

static int
export_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "policy", "capacity", "max_capacity",
		"max_readers", "mode", "owner", "group", "wake_count", "wake_us", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct export *e = bl_filter_priv(f);
	const char *name = NULL, *policy = "srp", *mode_s = "0640", *owner = NULL, *group = NULL;
	const char *cap_s = NULL;
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .capacity = 1024, .max_readers = 8,
		.wake_count = 1, .wake_us = 0, .wake_pass = 1,
	};

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "policy", &policy, err) < 0 ||
	    bl_args_str(args, "mode", &mode_s, err) < 0 ||
	    bl_args_str(args, "owner", &owner, err) < 0 ||
	    bl_args_str(args, "group", &group, err) < 0 ||
	    bl_args_str(args, "capacity", &cap_s, err) < 0 ||
	    (cap_s != NULL && strcmp(cap_s, "auto") == 0 ? (o.max_capacity = EXPORT_AUTO_MAX, 0) :
	     bl_args_u32(args, "capacity", 2, BL_STREAM_CAPACITY_MAX, &o.capacity, err)) < 0 ||
	    bl_args_u32(args, "max_capacity", 4, BL_STREAM_CAPACITY_MAX, &o.max_capacity, err) < 0 ||
	    bl_args_u32(args, "max_readers", 8, BL_IBUF_MAX_READERS, &o.max_readers, err) < 0 ||
	    bl_args_u32(args, "wake_count", 1, 1u << 20, &o.wake_count, err) < 0 ||
	    bl_args_u32(args, "wake_us", 0, 10000000, &o.wake_us, err) < 0)
		return -EINVAL;
	if (bl_stream_policy_arg(policy, &o.policy, err) < 0 ||
	    bl_stream_perm_args(owner, group, mode_s, &o.uid, &o.gid, &o.mode, err) < 0)
		return -EINVAL;
	if (env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "name: a stream has one writer, but this graph runs "
				  "on %u workers; give it one", env->n_replicas);
	o.name = name;
	o.pkt = env->dbuf;
	o.lcore = env->lcore;
	/* The name rule, capacity, wake_count and the table are the stream layer's checks. */
	if (bl_graph_dry(f))
		return bl_stream_check(&o, err);
	return bl_stream_create(&o, &e->s, err);
}

static void
export_fini(struct bl_filter *f)
{
	struct export *e = bl_filter_priv(f);

	/* The control server detached every reader before the graphs are freed. */
	bl_stream_release(e->s);
	e->s = NULL;
}

static void
export_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct export *e = bl_filter_priv(f);

	/* The ring counts what it refused: counters.dropped of this filter and of the stream. */
	for (uint16_t i = 0; i < n; i++)
		e->cls[i] = (uint16_t)bl_filter_in_class(f, i);
	bl_stream_publish(e->s, pkts, e->cls, n);
}

/* Once a pass: a sleeper the last burst's check may have missed (bl_stream_wake_pass). */
static void
export_tick(struct bl_filter *f)
{
	struct export *e = bl_filter_priv(f);

	bl_stream_wake_pass(e->s);
}

/* Where export's counters live: its stream's ring (the producer's page) and the stream. */
static const void *
export_ring(const struct bl_filter *f)
{
	const struct export *e = bl_filter_priv(f);

	return e->s != NULL ? e->s->ib->prod : NULL;
}

static const void *
export_stream(const struct bl_filter *f)
{
	return ((const struct export *)bl_filter_priv(f))->s;
}

/* The ring's counters are the producer's (this filter's lcore), copied and
 * copy_nombuf this lcore's (bl_counter_add), wakeups the stream's (relaxed
 * adds, bl_stream_wake.c); active is a mask the control plane stores relaxed. */
static const struct bl_counter_def export_counters[] = {
	BL_COUNTER_IN(export_ring, struct bl_ibuf_prod, written, "written", "entries stored"),
	BL_COUNTER_IN(export_ring, struct bl_ibuf_prod, dropped, "dropped",
		      "packets refused: the ring was full (tail drop, SRP/MRP)"),
	BL_COUNTER_IN(export_ring, struct bl_ibuf_prod, overwritten, "overwritten",
		      "entries overwritten unread by some reader (FRP)"),
	BL_COUNTER_BITS_IN(export_ring, struct bl_ibuf_prod, active, "readers",
			   "readers attached now"),
	BL_COUNTER_IN(export_stream, struct bl_stream, w.copied, "copied",
		      "packets copied into the stream's copy DBuf"),
	BL_COUNTER_IN(export_stream, struct bl_stream, w.copy_nombuf, "copy_nombuf",
		      "packets dropped: the copy DBuf had no free mbuf"),
	BL_COUNTER_IN(export_stream, struct bl_stream, wake.signals, "wakeups",
		      "signals sent to sleeping readers (a byte on each one's wake channel)"),
};

BL_FILTER_REGISTER(export) = {
	.summary = "publish a stream to client processes (beltline cat NAME), zero copy within permissions",
	.synopsis = "export name=NAME [policy=srp|mrp|frp] [capacity=N|auto] [max_capacity=N] "
		    "[max_readers=N] [mode=0640] [owner=USER] [group=GROUP] [wake_count=N] [wake_us=N]",
	.args_doc = "name: the stream's name, 1..47 of [A-Za-z0-9_.-], not beginning tap. (the taps') "
		    "(required)\n"
		    "policy: srp (tail drop against the slowest reader, default), mrp (shared read "
		    "pointer) or frp (overwrite; readers check). A reader may attach with a looser "
		    "one (beltline cat -p): srp takes srp, mrp and frp readers, mrp mrp and frp\n"
		    "capacity: slots, a power of two (default 1024); reserved in the stream's DBuf (the "
		    "packet pool, or its copy pool; without mbufs.count the packet pool is sized "
		    "for every stream's max_capacity). auto: 1024, growing up to max_capacity "
		    "(default 4096)\n"
		    "max_capacity: the stream grows: its ring doubles while readers lose entries (tail "
		    "drops, laps), up to this power of two, and halves back to capacity after 5 s with "
		    "nothing lost; readers lose no entry to a change. The pool reserves this many "
		    "(default: capacity, fixed)\n"
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
	.state_doc = "shared: one stream per name, one writer (the graph runs on one worker); "
		     "a reader maps read-only only the DBuf the stream's entries point into: the "
		     "packet DBuf, or the copy DBuf of the stream's owner, group and mode",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct export),
	.init = export_init,
	.fini = export_fini,
	.process = export_process,
	.tick = export_tick,
	BL_FILTER_COUNTERS(export_counters),
};
