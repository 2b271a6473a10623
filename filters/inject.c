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
 * One copy, by design: each committed frame is copied once into an mbuf of the
 * graph's pool, then its buffer is the writer's again. Zero copy (an mbuf with
 * an external buffer pointing into the writer's region, the slot held until the
 * mbuf is freed) would let the writer change a frame while the graph reads it:
 * a bpf filter's decision about bytes that are no longer there (a TOCTOU), and a
 * slow consumer downstream would hold the writer's ring. The copy costs about
 * as much as the descriptor's checks at 64 B (see docs/clients.md, "Writing",
 * for measured rates). Nothing the writer wrote is trusted (bl_inject_check.h):
 * a descriptor with an offset outside its region or not its buffer's, a length
 * above max_frame or 0, a buffer committed twice, a commit of a buffer it was
 * never given is refused and counted, and the graph goes on.
 */
#include <errno.h>
#include <string.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_inject_worker.h"

struct inject {
	struct bl_inject *s;
	struct rte_mempool *mp;
};

static int
inject_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "capacity", "max_frame", "mode", "owner",
		"group", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct inject *j = bl_filter_priv(f);
	const char *name = NULL, *mode_s = "0600", *owner = NULL, *group = NULL;
	struct bl_inject_opts o = { .sz = sizeof(o), .capacity = 1024, .max_frame = 2048 };
	uint32_t room;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "mode", &mode_s, err) < 0 ||
	    bl_args_str(args, "owner", &owner, err) < 0 ||
	    bl_args_str(args, "group", &group, err) < 0 ||
	    bl_args_u32(args, "capacity", 2, 1u << 16, &o.capacity, err) < 0 ||
	    bl_args_u32(args, "max_frame", 64, 65535, &o.max_frame, err) < 0)
		return -EINVAL;
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
	return bl_inject_create(&o, &j->s, err);
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

static unsigned int
inject_counters(const struct bl_filter *f, const char **names, uint64_t *values, unsigned int max)
{
	static const char *const vnames[] = BL_INJECT_VERDICT_NAMES;
	const struct inject *j = bl_filter_priv(f);
	unsigned int n = 0;

	if (j->s == NULL || max < BL_INJECT_N_VERDICTS + 4)
		return 0;
	for (unsigned int v = 0; v < BL_INJECT_N_VERDICTS; v++, n++) {
		names[n] = vnames[v];
		values[n] = bl_counter_read(&j->s->c.v[v]);
	}
	names[n] = "bad_head";
	values[n++] = bl_counter_read(&j->s->c.bad_head);
	names[n] = "nombuf";
	values[n++] = bl_counter_read(&j->s->c.nombuf);
	names[n] = "writers_total";   /* main lcore's (the control tick), as is this call */
	values[n++] = __atomic_load_n(&j->s->writers, __ATOMIC_RELAXED);
	names[n] = "reclaimed";
	values[n++] = __atomic_load_n(&j->s->reclaimed, __ATOMIC_RELAXED);
	return n;
}

BL_FILTER_REGISTER(inject) = {
	.summary = "a source of frames a client writes (beltline inject NAME FILE), one copy each",
	.synopsis = "inject name=NAME [capacity=N] [max_frame=N] [mode=0600] [owner=USER] "
		    "[group=GROUP]",
	.args_doc = "name: the stream's name, 1..47 of [A-Za-z0-9_.-] (required); a namespace of "
		    "its own (an export may have the same name)\n"
		    "capacity: the writer's buffers (and descriptors), a power of two 2..65536 "
		    "(default 1024)\n"
		    "max_frame: bytes of one buffer, the longest frame a writer may commit, "
		    "64..65535 and at most an mbuf's data room (default 2048)\n"
		    "mode: who may write, octal like a file's (default 0600): write permission is "
		    "needed; one writer at a time, a second is refused naming the first's pid\n"
		    "owner: user name or uid (default the appliance's)\n"
		    "group: group name or gid (default the appliance's)",
	.edges_doc = "out (class 1): every frame accepted, in commit order",
	.counters_doc = "frames (accepted); bad_offset, too_long, empty, reused (a buffer committed "
			"twice), not_got (a buffer never handed out): descriptors refused, of the "
			"current writer; bad_head (a head more than capacity ahead of the tail); "
			"nombuf (bursts left waiting: no free mbuf); writers_total (writers that "
			"opened, in all); reclaimed (writers gone with frames still committed)",
	.state_doc = "shared: one stream per name, one writer at a time, read by one graph (it "
		     "runs on one worker). Each frame is copied once into an mbuf: zero copy would "
		     "let the writer change a frame while the graph reads it",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct inject),
	.init = inject_init,
	.fini = inject_fini,
	.poll = inject_poll,
	.counters = inject_counters,
	.edges = { "out" },
};
