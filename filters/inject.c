/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inject — a source of frames a client process writes (docs/clients.md,
 * "Writing"): `beltline inject NAME FILE.pcap` replays a capture into a running
 * graph, any program on libbeltline-client writes with beltline_getwritebuf /
 * beltline_commit. The stream (its table entry, the writer's region, the lease,
 * the checks) is lib/stream's (bl_inject.h); this filter declares it from its
 * arguments and turns each burst of committed frames into mbufs.
 *
 *   inject name=replay | tx port=out
 *   beltline inject replay capture.pcapng -r 10000
 *
 * Zero copy or one copy (zero_copy=auto|yes|no). Zero copy: each committed
 * frame becomes an mbuf of the graph's pool with the writer's buffer attached as
 * an external buffer (rte_pktmbuf_attach_extbuf); the buffer goes back to the
 * writer only when the last reference to the mbuf is freed (its shared info's
 * free callback clears the slot, the worker then moves the tail over it): the
 * library never hands out a buffer the appliance may still read. One copy: the
 * frame is copied into an mbuf's own buffer and the writer has its buffer back
 * at once. Zero copy holds only where the mbuf may point at the writer's buffer
 * for its whole life, so `auto` (the default) picks it only when every port of
 * the appliance is net_null or net_pcap and no filter of the graph hands packets
 * on by reference:
 *   - the region is mapped read-only here (the writer's alone to write): a PMD
 *     that writes into a frame it sends (checksum offload fix-ups, a descriptor
 *     written back) would fault; those three only read. Filters that rewrite
 *     packets get a private copy of an external mbuf first (bl_filter_writable).
 *   - the region is a memfd, not DPDK memory: it has no IOVA (the mbuf gets
 *     RTE_BAD_IOVA), so a port that DMAs cannot send from it.
 *   - a PMD's fast-free offload (mbufs assumed direct) must be off; it is on
 *     neither.
 *   - export, ibuf_out and user hand a packet to clients (or other graphs) by its
 *     DBuf reference, the mbuf's own buffer: a client would read that, not the
 *     writer's frame. zero_copy=yes with one of them in the graph is refused.
 *   - net_ring is left out: its other end is another graph's rx, which may export.
 * A reload or an edit that keeps the stream (and its writer) asks again: if the
 * new graph or ports rule zero copy out, the stream copies from the next burst on,
 * the writer open then included (it is never turned back on); zero_copy=yes there
 * refuses the reload, naming the filter in the way.
 * zero_copy=yes forces it (your ports, your call), zero_copy=no forces the copy.
 * And with zero copy a hostile writer can change a frame's bytes while the graph
 * reads them: its own frames only, and every read stays inside the frame's
 * length, inside the mapping; but a decision made on those bytes (a bpf filter's)
 * no longer binds them: a graph that polices what a writer sends wants
 * zero_copy=no. A writer that goes while mbufs still point into its region
 * leaves the region mapped (counted orphaned) until the last is freed, then it
 * is unmapped within a tick of the main lcore. Measured: bench/write_vs_memif.sh.
 *
 * Nothing the writer wrote is trusted (bl_inject_check.h): a descriptor with an
 * offset outside its region or not its buffer's, a length above max_frame or 0,
 * a buffer committed twice, a commit of a buffer it was never given (or not yet
 * given back: held) is refused and counted, and the graph goes on.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_inject_worker.h"

struct inject {
	struct bl_inject *s;
	struct rte_mempool *mp;
	struct bl_inject_counts tot;   /* the stream's totals over all its writers */
	uint64_t zero_copy;            /* 1: zero copy, 0: one copy (chosen at init and start,
	                                * turned off for good by a committed adopt); a gauge
	                                * stats read */
	int zc_forced;                 /* zero_copy=yes */
	int copy_at_commit;            /* adopt's decision for a build not yet committed */
};

/* PMDs that only read the frames they send, from their virtual address. */
static int
port_reads_only(uint16_t port_id)
{
	static const char *const ok[] = { "net_null", "net_pcap" };
	struct rte_eth_dev_info info;

	/* A --check or a reload's dry run has no ports yet: say nothing (start decides again). */
	if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &info) != 0 ||
	    info.driver_name == NULL)
		return 0;
	for (unsigned int i = 0; i < RTE_DIM(ok); i++)
		if (strcmp(info.driver_name, ok[i]) == 0)
			return 1;
	return 0;
}

/* Every port of the environment only reads what it sends (auto's first condition). */
static int
ports_read_only(const struct bl_graph_env *env)
{
	for (unsigned int i = 0; i < env->n_ports; i++)
		if (!port_reads_only(env->ports[i].port_id))
			return 0;
	return 1;
}

static int
inject_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "capacity", "max_frame", "mode", "owner",
		"group", "zero_copy", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct inject *j = bl_filter_priv(f);
	const char *name = NULL, *mode_s = "0600", *owner = NULL, *group = NULL, *zc = "auto";
	struct bl_inject_opts o = { .sz = sizeof(o), .capacity = 1024, .max_frame = 2048 };
	uint32_t room;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "mode", &mode_s, err) < 0 ||
	    bl_args_str(args, "owner", &owner, err) < 0 ||
	    bl_args_str(args, "group", &group, err) < 0 ||
	    bl_args_str(args, "zero_copy", &zc, err) < 0 ||
	    bl_args_u32(args, "capacity", 2, 1u << 16, &o.capacity, err) < 0 ||
	    bl_args_u32(args, "max_frame", 64, BL_INJECT_MAX_FRAME, &o.max_frame, err) < 0)
		return -EINVAL;
	if (strcmp(zc, "yes") == 0) {
		o.zero_copy = j->zc_forced = 1;
	} else if (strcmp(zc, "auto") == 0) {
		o.zero_copy = ports_read_only(env);
	} else if (strcmp(zc, "no") != 0) {
		return bl_err_set(err, -EINVAL, "zero_copy: \"%.20s\" is not auto, yes or no", zc);
	}
	if (bl_stream_perm_args(owner, group, mode_s, &o.uid, &o.gid, &o.mode, err) < 0)
		return -EINVAL;
	if (env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "name: an inject stream has one reader, but this "
				  "graph runs on %u workers; give it one", env->n_replicas);
	j->mp = env->pool;
	if (j->mp == NULL && !bl_graph_dry(f))
		return bl_err_set(err, -EINVAL, "inject needs an mbuf pool in its environment");
	room = bl_graph_data_room(f);
	if (o.max_frame > room)
		return bl_err_set(err, -EINVAL, "max_frame: %u bytes do not fit one mbuf (%u bytes "
				  "of data room): lower it or raise mbufs.data_room", o.max_frame,
				  room);
	o.name = name;
	o.totals = &j->tot;
	o.dry = bl_graph_dry(f);
	j->zero_copy = (uint64_t)o.zero_copy;
	return bl_inject_create(&o, &j->s, err);
}

/* A filter of the graph that hands packets on by their DBuf reference (the mbuf's own
 * buffer: export, ibuf_out, user), or NULL. An external buffer would reach its client
 * as the mbuf's own, stale, bytes. */
static const char *
hands_on_by_reference(const struct bl_filter *f)
{
	static const char *const by_ref[] = { "export", "ibuf_out", "user", "tcpstream" };

	for (unsigned int i = 0; i < bl_graph_n_filters(f->graph); i++) {
		const struct bl_filter *o = bl_graph_filter(f->graph, i);

		for (unsigned int k = 0; k < RTE_DIM(by_ref); k++)
			if (strcmp(o->ops->name, by_ref[k]) == 0)
				return by_ref[k];
	}
	return NULL;
}

/* The whole graph is built now: zero copy only where no filter hands packets on by
 * reference. Before any writer can open (the graph is not live yet). */
static int
inject_start(struct bl_filter *f, struct bl_err *err)
{
	struct inject *j = bl_filter_priv(f);
	const char *by = j->zero_copy ? hands_on_by_reference(f) : NULL;

	if (by == NULL)
		return 0;
	if (j->zc_forced)
		return bl_err_set(err, -EINVAL, "zero_copy: yes, but this graph hands packets on by "
				  "reference (%s), which cannot take a writer's buffer: say "
				  "zero_copy=no or auto", by);
	j->zero_copy = 0;
	j->s->zero_copy = 0;
	return 0;
}

/* A reload or an edit keeps this stream (and its writer) into a new graph: zero copy
 * holds only if the new graph allows it too (it may add an export, or a port that
 * does not only read). If not, one copy from the next burst on: the worker reads the
 * mode each burst, and the running graph takes copies as well), once the build is
 * committed (inject_adopt_commit): a build rolled back leaves the stream as it was.
 * zero_copy=yes is refused instead (the running graph goes on). Never back to zero
 * copy: a writer's region is made for the mode it opened in. */
static int
inject_adopt(struct bl_filter *f, struct bl_err *err)
{
	struct inject *j = bl_filter_priv(f);
	const char *by;

	j->copy_at_commit = 0;   /* what an earlier build, rolled back, decided is void */
	if (!j->zero_copy)
		return 0;
	by = hands_on_by_reference(f);
	if (j->zc_forced && by != NULL)
		return bl_err_set(err, -EINVAL, "zero_copy: yes, but the new graph hands packets on "
				  "by reference (%s), which cannot take a writer's buffer: say "
				  "zero_copy=no or auto", by);
	if (j->zc_forced || (by == NULL && ports_read_only(bl_graph_env(f))))
		return 0;       /* yes (ports are yours), or auto and all still holds */
	j->copy_at_commit = 1;
	return 0;
}

static void
inject_adopt_commit(struct bl_filter *f)
{
	struct inject *j = bl_filter_priv(f);

	if (!j->copy_at_commit)
		return;
	j->copy_at_commit = 0;
	/* Stats read the gauge (relaxed); the worker reads the stream's mode each burst
	 * (relaxed: the graph swap's release, which publishes the new graph after this
	 * commit, orders it before the first burst of the new graph). */
	__atomic_store_n(&j->zero_copy, 0, __ATOMIC_RELAXED);
	bl_inject_copy_from_now(j->s);
}

static void
inject_fini(struct bl_filter *f)
{
	struct inject *j = bl_filter_priv(f);

	bl_inject_release(j->s);
	j->s = NULL;
}

static uint16_t
inject_poll(struct bl_filter *f, uint16_t max)
{
	struct inject *j = bl_filter_priv(f);
	uint16_t n = bl_inject_poll(j->s, j->mp, bl_filter_emit_slots(f),
				    RTE_MIN(max, bl_filter_emit_room(f)));

	if (n != 0)
		bl_filter_emit_commit(f, n, 1);
	return n;
}

#define C(fld, nm, dc) BL_COUNTER(struct inject, fld, nm, dc)
static const struct bl_counter_def inject_counters[] = {
	C(tot.v[BL_INJECT_OK], "frames", "frames accepted (over all writers, as every counter here)"),
	C(tot.v[BL_INJECT_BAD_OFFSET], "bad_offset",
	  "descriptors refused: an offset outside the region or not their buffer's"),
	C(tot.v[BL_INJECT_TOO_LONG], "too_long", "descriptors refused: a length above max_frame"),
	C(tot.v[BL_INJECT_EMPTY], "empty", "descriptors refused: length 0"),
	C(tot.v[BL_INJECT_REUSED], "reused", "descriptors refused: a buffer committed twice"),
	C(tot.v[BL_INJECT_NOT_GOT], "not_got",
	  "descriptors refused: a buffer never handed out"),
	C(tot.bad_head, "bad_head", "garbage heads: more than capacity ahead of the buffers "
	  "given back (or behind), nothing read until sane"),
	C(tot.nombuf, "nombuf", "bursts left waiting: no free mbuf"),
	C(tot.bytes, "bytes", "bytes of the frames accepted"),
	C(tot.copied, "copied", "frames copied once into an mbuf (one-copy mode)"),
	C(tot.zero_copy, "zero_copy", "frames sent as mbufs pointing at the writer's buffer"),
	BL_GAUGE(struct inject, tot.held, "held", "the current writer's buffers mbufs still "
		 "point at (zero copy; not the writer's to fill until freed)"),
	C(tot.writers_total, "writers_total", "writers that opened"),
	C(tot.reclaimed, "reclaimed", "writers gone with frames committed and not yet read"),
	C(tot.unread, "unread", "frames those writers left committed and not yet read: dropped "
	  "(none counted for a garbage head)"),
	C(tot.orphaned, "orphaned", "writers gone while mbufs still pointed into their region: "
	  "kept mapped until the last is freed"),
	C(tot.wakeups, "wakeups", "signals to a writer sleeping for its buffers (on its wake channel)"),
	BL_GAUGE(struct inject, zero_copy, "zero_copy_on", "1 zero copy, 0 one copy (zero_copy=)"),
};
#undef C

BL_FILTER_REGISTER(inject) = {
	.summary = "a source of frames a client writes (beltline inject NAME FILE), zero or one copy",
	.synopsis = "inject name=NAME [capacity=N] [max_frame=N] [mode=0600] [owner=USER] "
		    "[group=GROUP] [zero_copy=auto|yes|no]",
	.args_doc = "name: the stream's name, 1..47 of [A-Za-z0-9_.-], not beginning tap. (the "
		    "taps') (required); a namespace of its own (an export may have the same name)\n"
		    "capacity: the writer's buffers (and descriptors), a power of two 2..65536 "
		    "(default 1024)\n"
		    "max_frame: bytes of one buffer, the longest frame a writer may commit, "
		    "64..65535 and at most an mbuf's data room (default 2048)\n"
		    "mode: who may write, octal like a file's (default 0600): write permission is "
		    "needed; one writer at a time, a second is refused naming the first's pid\n"
		    "owner: user name or uid (default the appliance's)\n"
		    "group: group name or gid (default the appliance's)\n"
		    "zero_copy: auto (default): mbufs point at the writer's buffers when every "
		    "port is net_null or net_pcap (they only read what they send, no DMA) and no "
		    "export, ibuf_out or user is in the graph (they hand on the mbuf's own "
		    "buffer), else one copy, and a reload or edit to a graph or ports that rule "
		    "it out turns it off from the next burst (the open writer too); yes: always "
		    "(refused with export, ibuf_out, user or tcpstream, at start or reload); no: "
		    "always one copy (a graph that polices a writer's frames: with zero copy the "
		    "writer can change them in flight)",
	.edges_doc = "out (class 1): every frame accepted, in commit order",
	.counters_doc = "the totals of all the stream's writers; `beltline stats` has the "
			"current writer's apart (injects[].writer) and orphans (regions of gone "
			"writers still mapped)",
	.state_doc = "shared: one stream per name, one writer at a time, read by one graph (it "
		     "runs on one worker). Zero copy or one copy per frame: see zero_copy=",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct inject),
	.init = inject_init,
	.fini = inject_fini,
	.start = inject_start,
	.adopt = inject_adopt,
	.adopt_commit = inject_adopt_commit,
	.poll = inject_poll,
	BL_FILTER_COUNTERS(inject_counters),
	.edges = { "out" },
};
