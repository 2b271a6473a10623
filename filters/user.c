/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * user — a client process in the loop (docs/clients.md, "Verdicts"): each packet is
 * shown to a verdict client, zero copy, and held until the client returns its class;
 * 0 drops it, any other class routes it on this filter's out-edges by label, as every
 * classifier's class does. Packets leave in arrival order.
 *
 *   rx port=in | user name=ips timeout_us=2000 on_timeout=pass | tx port=out
 *   build/examples/ips_syn_drop beltline://default/ips 22   # a client on libbeltline-client
 *
 * The packets are shown on an EXPORT stream of the filter's name (an FRP ring of
 * max_inflight rounded up to a power of two, at least 64 slots; zero copy when mode,
 * owner and group are the packet DBuf's, else one copy into the stream's copy DBuf, as
 * `export` does); the filter keeps its own reference of each packet in a window, in
 * arrival order. At most max_inflight are held (shown, no class yet): a packet that
 * arrives while that many are is not shown, on_timeout decides it at once and it waits
 * for the packets before it (so a client that cannot keep up is never shown packets
 * already gone, as a full NFQUEUE with fail-open). The client returns classes through a ring of its own (a memfd it alone
 * maps writable; mapped read-only here: lib/stream/bl_user.h). Nothing it writes is
 * trusted: a head more than the ring's capacity ahead, a class above 65535, a class for a
 * sequence never handed out, one for a packet already decided (twice) or decided by
 * on_timeout already (late) is ignored and counted.
 *
 * No client attached, a client slower than timeout_us for the oldest packet held
 * (head-of-line: the packets behind wait for it), a client that detached or died
 * (its control connection closed), max_inflight held (above), or the oldest held while
 * the window filled behind it (evicted): on_timeout decides (pass: the class the packet
 * came with, like NFQUEUE's bypass; drop), each reason counted apart.
 *
 * The stream layer (lib/stream: bl_user.h, bl_user_worker.h) owns the client, its ring
 * and the Dekker that lets the control socket unmap it; this filter owns the window.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_stream_worker.h"
#include "bl_user_worker.h"

enum slot_state {
	SLOT_FREE = 0,      /* never used */
	SLOT_HELD,          /* shown to the client, no class yet */
	SLOT_DECIDED,       /* has its class (cls), waits for the packets before it */
	SLOT_LEFT_CLIENT,   /* left with the client's class */
	SLOT_LEFT_FALLBACK, /* left by on_timeout */
};

#define NOT_SHOWN UINT64_MAX

/* One packet in the window, by arrival (window sequence); shown ones also have a
 * stream sequence (rseq), which the client names them by. */
struct slot {
	struct rte_mbuf *m;     /* the filter's reference while HELD or DECIDED */
	uint64_t rseq;          /* the stream position it was shown at, or NOT_SHOWN */
	uint64_t tsc;           /* when it arrived */
	uint32_t cls;           /* DECIDED: the class it leaves with */
	uint32_t in_cls;        /* the class it came with (on_timeout=pass keeps it) */
	uint32_t state;         /* enum slot_state */
	uint32_t pad;
};

struct user {
	struct bl_user u;       /* the stream, the client, the counters (lib/stream) */
	struct slot *win;       /* wmask + 1 slots: the packet of window seq q is win[q & wmask] */
	uint64_t *r2w;          /* rmask + 1: the window seq of stream seq r is r2w[r & rmask];
	                         * as many as the window (every packet shown and still in it
	                         * has its own: a held packet outlives max_inflight later ones) */
	uint64_t wmask, rmask;
	uint32_t max_inflight;
	int pass;               /* on_timeout=pass */
	uint64_t timeout_tsc;
	uint16_t burst;         /* the graph's burst: what a pass lets go beyond what came in */
	/* the worker's */
	uint64_t base, next;    /* in the window: window seqs [base, next), in arrival order */
	uint32_t held;          /* of them, HELD (shown, no class yet): at most max_inflight */
	uint64_t gen;           /* the client the window is for (bl_user_client.gen); 0: none */
	uint64_t first;         /* the first stream seq that client was shown */
	uint64_t gone_until;    /* window seqs below it were held for a client that left */
	uint16_t cls[BL_BURST_MAX];
};

static int
user_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "name", "timeout_us", "on_timeout", "max_inflight",
		"mode", "owner", "group", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct user *w = bl_filter_priv(f);
	const char *name = NULL, *on_timeout = "pass", *mode_s = "0640", *owner = NULL,
		   *group = NULL;
	uint32_t timeout_us = 1000, cap = 64;
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .policy = BL_IBUF_FRP, .max_readers = 8,
		.wake_count = 1, .wake_us = 0, .wake_pass = 1,
	};
	int rc;

	w->max_inflight = 256;
	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "name", &name, err) < 0 ||
	    bl_args_str(args, "on_timeout", &on_timeout, err) < 0 ||
	    bl_args_str(args, "mode", &mode_s, err) < 0 ||
	    bl_args_str(args, "owner", &owner, err) < 0 ||
	    bl_args_str(args, "group", &group, err) < 0 ||
	    bl_args_u32(args, "timeout_us", 1, 10000000, &timeout_us, err) < 0 ||
	    bl_args_u32(args, "max_inflight", 1, 1u << 16, &w->max_inflight, err) < 0)
		return -EINVAL;
	if (name == NULL)
		return bl_err_set(err, -EINVAL, "name: required (the stream a verdict client "
				  "attaches to: beltline://INSTANCE/NAME)");
	if (strcmp(on_timeout, "pass") == 0)
		w->pass = 1;
	else if (strcmp(on_timeout, "drop") == 0)
		w->pass = 0;
	else
		return bl_err_set(err, -EINVAL, "on_timeout: \"%.40s\" is neither pass nor drop",
				  on_timeout);
	if (bl_stream_perm_args(owner, group, mode_s, &o.uid, &o.gid, &o.mode, err) < 0)
		return -EINVAL;
	if (env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "name: a user filter has one window, but this graph "
				  "runs on %u workers; give it one", env->n_replicas);
	while (cap < w->max_inflight)
		cap <<= 1;
	if (bl_graph_dry(f)) {   /* --check and every start: the stream layer's checks, nothing made */
		o.name = name;
		o.pkt = env->dbuf;
	o.lcore = env->lcore;   /* a reload keeps the stream only on this lcore */
		o.capacity = cap;
		return bl_stream_check(&o, err);
	}
	/* The window also holds packets not shown (decided at once: max_inflight were held)
	 * behind the held ones: room for four times as many, and a burst. */
	for (w->wmask = 1; w->wmask < 4u * cap + BL_BURST_MAX; w->wmask <<= 1)
		;
	w->wmask--;
	w->rmask = w->wmask;
	w->win = rte_zmalloc("bl_user_win", (size_t)(w->wmask + 1) * sizeof(struct slot),
			     RTE_CACHE_LINE_SIZE);
	w->r2w = rte_zmalloc("bl_user_r2w", (size_t)(w->rmask + 1) * sizeof(uint64_t),
			     RTE_CACHE_LINE_SIZE);
	if (w->win == NULL || w->r2w == NULL) {
		rte_free(w->win);
		rte_free(w->r2w);
		w->win = NULL;
		w->r2w = NULL;
		return bl_err_set(err, -ENOMEM, "max_inflight: no memory for a window of %u", cap);
	}
	w->timeout_tsc = (uint64_t)timeout_us * rte_get_tsc_hz() / 1000000u;
	w->burst = env->burst != 0 ? env->burst : 32;
	o.name = name;
	o.pkt = env->dbuf;
	o.lcore = env->lcore;   /* a reload keeps the stream only on this lcore */
	o.capacity = cap;
	rc = bl_stream_create(&o, &w->u.s, err);
	if (rc < 0 && strncmp(err->msg, "capacity: ", 10) == 0) {
		/* the stream's capacity is ours to derive: say it in the user's terms */
		char m[BL_ERR_MSG_MAX];
		snprintf(m, sizeof(m), "%s", err->msg + 10);
		bl_err_set(err, rc, "max_inflight: %s (its capacity follows max_inflight, %u now)", m, cap);
	}
	if (rc == 0) {
		snprintf(w->u.name, sizeof(w->u.name), "%s", name);
		w->u.capacity = cap;
		rc = bl_user_register(&w->u, err);
		if (rc < 0) {
			bl_stream_release(w->u.s);
			w->u.s = NULL;
		}
	}
	if (rc < 0) {
		rte_free(w->win);
		rte_free(w->r2w);
		w->win = NULL;
		w->r2w = NULL;
		return rc;
	}
	w->first = w->u.s->ib->head;
	return 0;
}

/* What is still in the window (held, or decided and not gone on yet) is freed and counted:
 * it was freed uncounted, and a stop broke "each packet leaves once". */
static void
free_window(struct user *w)
{
	uint64_t n = 0;

	for (uint64_t q = w->base; w->win != NULL && q < w->next; q++)
		if (w->win[q & w->wmask].m != NULL) {
			rte_pktmbuf_free(w->win[q & w->wmask].m);
			w->win[q & w->wmask].m = NULL;
			n++;
		}
	w->base = w->next;
	w->held = 0;
	bl_counter_add(&w->u.c.stopped, n);
}

/* The workers stopped (the appliance is stopping): before the final report. */
static void
user_drain(struct bl_filter *f)
{
	free_window(bl_filter_priv(f));
}

static void
user_fini(struct bl_filter *f)
{
	struct user *w = bl_filter_priv(f);

	/* The control server detached the client before the graphs are freed. */
	bl_user_unregister(&w->u);
	free_window(w);   /* a reload that did not keep this filter: what drain did not see */
	bl_stream_release(w->u.s);
	w->u.s = NULL;
	rte_free(w->win);
	rte_free(w->r2w);
	w->win = NULL;
	w->r2w = NULL;
}

/* The oldest packet in the window leaves: its class, or on_timeout's (counted in pass/drop). */
static __rte_always_inline void
leave(struct bl_filter *f, struct user *w, struct slot *sl, uint64_t *pass, uint64_t *drop)
{
	if (sl->state == SLOT_DECIDED) {
		sl->state = SLOT_LEFT_CLIENT;
		bl_filter_emit(f, sl->cls, sl->m);
	} else {
		w->held--;
		sl->state = SLOT_LEFT_FALLBACK;
		bl_counter_add(w->pass ? pass : drop, 1);
		bl_filter_emit(f, w->pass ? sl->in_cls : 0, sl->m);
	}
	sl->m = NULL;
	w->base++;
}

/* Packets leave from the head while they have a class, their client left, or their
 * time is up; at most room of them. Returns how many left. */
static __rte_always_inline uint16_t
drain(struct bl_filter *f, struct user *w, uint64_t now, uint16_t room)
{
	uint16_t k = 0;

	while (w->base != w->next && k < room) {
		struct slot *sl = &w->win[w->base & w->wmask];

		if (sl->state == SLOT_DECIDED)
			leave(f, w, sl, NULL, NULL);
		else if (w->base < w->gone_until)
			leave(f, w, sl, &w->u.c.gone_pass, &w->u.c.gone_drop);
		else if (now - sl->tsc > w->timeout_tsc)
			leave(f, w, sl, &w->u.c.timeout_pass, &w->u.c.timeout_drop);
		else
			break;
		k++;
	}
	return k;
}

/* The client changed (attached, left, died, replaced): what the old one held is decided
 * by on_timeout as drain reaches it; the new one is shown what arrives from now. */
static __rte_always_inline void
sync_client(struct user *w, const struct bl_user_client *c)
{
	uint64_t gen = c != NULL ? c->gen : 0;

	if (likely(gen == w->gen))
		return;
	w->gen = gen;
	w->gone_until = w->next;
	w->first = w->u.s->ib->head;
}

/* The classes the client returned: each checked, never trusted. */
static __rte_always_inline void
take_classes(struct user *w, struct bl_user_client *c)
{
	uint32_t n = bl_user_vring_avail(&w->u, c), ignored = 0;
	struct bl_user_counts *k = &w->u.c;
	uint64_t rnext = w->u.s->ib->head;

	for (uint32_t i = 0; i < n; i++) {
		struct slot *sl;
		uint64_t r, q;
		uint32_t cls;

		bl_user_vring_get(c, c->tail + i, &r, &cls);
		if (unlikely(cls > BL_VERDICT_CLASS_MAX)) {
			bl_counter_add(&k->bad_class, 1);
			ignored++;
			continue;
		}
		if (unlikely(r >= rnext || r < w->first)) {
			bl_counter_add(&k->unknown, 1);   /* never shown to this client */
			ignored++;
			continue;
		}
		q = w->r2w[r & w->rmask];
		sl = &w->win[q & w->wmask];
		if (likely(sl->rseq == r && q >= w->base && q < w->next && sl->state == SLOT_HELD &&
			   q >= w->gone_until)) {
			sl->cls = cls;
			sl->state = SLOT_DECIDED;
			w->held--;
			bl_counter_add(&k->verdicts, 1);
			if (cls == 0)
				bl_counter_add(&k->verdict_drop, 1);
		} else if (sl->rseq == r && (sl->state == SLOT_DECIDED ||
					     sl->state == SLOT_LEFT_CLIENT)) {
			bl_counter_add(&k->twice, 1);
			ignored++;
		} else {
			/* decided by on_timeout, or so old its slot was reused */
			bl_counter_add(&k->late, 1);
			ignored++;
		}
	}
	if (n != 0)
		bl_user_vring_done(c, n, ignored);
}

/* Put pkts[0..n) in the window, in arrival order: with a client, up to max_inflight held
 * are shown on the stream; the rest (and all, with no client) are decided by on_timeout at
 * once, and wait for the packets before them. */
static __rte_always_inline void
admit(struct bl_filter *f, struct user *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now,
      int have_client)
{
	struct bl_stream *s = w->u.s;
	uint64_t seq0 = s->ib->head, r;
	uint16_t show = 0, stored = 0, i;

	while (w->next + n - w->base > w->wmask + 1)   /* room: the oldest leave early */
		leave(f, w, &w->win[w->base & w->wmask], &w->u.c.evicted_pass, &w->u.c.evicted_drop);
	for (i = 0; i < n; i++)
		w->cls[i] = (uint16_t)bl_filter_in_class(f, i);
	if (likely(have_client))
		show = (uint16_t)RTE_MIN((uint32_t)n, w->max_inflight - w->held);
	for (i = 0; i < show; i++)   /* the stream's reference; the window keeps the packet's */
		rte_mbuf_refcnt_update(pkts[i], 1);
	if (likely(s->perm == NULL)) {
		if (show != 0)
			bl_stream_publish(s, pkts, w->cls, show);   /* FRP: every packet is stored */
		stored = (uint16_t)(s->ib->head - seq0);
	} else {
		/* One copy each; a packet the copy DBuf had no mbuf for is not shown. */
		for (i = 0; i < show; i++) {
			uint64_t h = s->ib->head;

			bl_stream_publish(s, &pkts[i], &w->cls[i], 1);
			if (s->ib->head == h) {
				bl_counter_add(&w->u.c.copy_nombuf, 1);
				rte_pktmbuf_free(pkts[i]);
				pkts[i] = NULL;
			}
		}
	}
	r = seq0;
	for (i = 0; i < n; i++) {
		struct slot *sl;

		if (unlikely(pkts[i] == NULL))
			continue;
		sl = &w->win[w->next & w->wmask];
		sl->m = pkts[i];
		sl->tsc = now;
		sl->in_cls = w->cls[i];
		if (i < show && (s->perm != NULL || i < stored)) {
			sl->rseq = r;
			w->r2w[r & w->rmask] = w->next;
			r++;
			sl->state = SLOT_HELD;
			w->held++;
		} else {
			sl->rseq = NOT_SHOWN;
			sl->state = SLOT_DECIDED;
			sl->cls = w->pass ? w->cls[i] : 0;
			if (!have_client)
				bl_counter_add(w->pass ? &w->u.c.no_client_pass : &w->u.c.no_client_drop, 1);
			else
				bl_counter_add(w->pass ? &w->u.c.full_pass : &w->u.c.full_drop, 1);
		}
		w->next++;
	}
	bl_counter_add(&w->u.c.handed, r - seq0);
}

static void
user_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct user *w = bl_filter_priv(f);
	uint64_t now = rte_rdtsc();
	struct bl_user_client *c = bl_user_enter(&w->u);
	/* Room downstream, not only in our emit buffer: user_poll may have filled part of
	 * the next filter's input in this pass already (a backlog let go here lost the
	 * packets past it, each one decided, as overflow). And no more than came in and a
	 * burst: a backlog let go at once filled that input to the brim, and a sibling
	 * branch feeding it after us in the pass lost its burst. */
	uint16_t room = RTE_MIN(bl_filter_emit_room_out(f),
				(uint16_t)RTE_MIN((unsigned int)n + w->burst, (unsigned int)BL_BURST_MAX));
	uint16_t k;

	sync_client(w, c);
	if (c != NULL)
		take_classes(w, c);
	k = drain(f, w, now, room > n ? (uint16_t)(room - n) : 0);
	admit(f, w, pkts, n, now, c != NULL);
	drain(f, w, now, RTE_MIN((uint16_t)(room - k), bl_filter_emit_room_out(f)));
	bl_user_leave(&w->u);
}

/* Once a pass: a sleeper the last burst's check may have missed (bl_stream_wake_pass). */
static void
user_tick(struct bl_filter *f)
{
	struct user *w = bl_filter_priv(f);

	bl_stream_wake_pass(w->u.s);
}

static uint16_t
user_poll(struct bl_filter *f, uint16_t max)
{
	struct user *w = bl_filter_priv(f);
	struct bl_user_client *c;
	uint16_t k;

	/* relaxed: a hint; nothing held and no client (known or new) means nothing to do. */
	if (w->base == w->next && w->gen == 0 &&
	    __atomic_load_n(&w->u.active, __ATOMIC_RELAXED) == NULL)
		return 0;
	c = bl_user_enter(&w->u);
	sync_client(w, c);
	if (c != NULL)
		take_classes(w, c);
	k = drain(f, w, rte_rdtsc(), RTE_MIN(max, bl_filter_emit_room_out(f)));
	bl_user_leave(&w->u);
	return k;
}

#define UC(field, doc) BL_COUNTER(struct user, u.c.field, #field, doc)
static const struct bl_counter_def user_counter_defs[] = {
	BL_GAUGE(struct user, u.clients, "clients", "verdict clients attached now (0 or 1)"),
	BL_COUNTER(struct user, u.gen, "clients_total", "verdict clients attached, in all"),
	UC(handed, "packets shown to a verdict client and held"),
	UC(verdicts, "classes the client returned in time, once, for a packet held"),
	UC(verdict_drop, "of them, class 0 (dropped by the client)"),
	UC(timeout_pass, "packets held timeout_us at the head without a class: passed"),
	UC(timeout_drop, "... dropped (on_timeout=drop)"),
	UC(no_client_pass, "packets that arrived with no verdict client attached: passed"),
	UC(no_client_drop, "... dropped"),
	UC(gone_pass, "packets held when their client detached or died: passed"),
	UC(gone_drop, "... dropped"),
	UC(full_pass, "packets that arrived while max_inflight were held: not shown, passed"),
	UC(full_drop, "... dropped"),
	UC(evicted_pass, "packets held at the head while the window behind them filled "
	   "(4 x max_inflight, 64 at least, + a burst): decided early, passed"),
	UC(evicted_drop, "... dropped"),
	UC(late, "classes ignored: the packet was decided by on_timeout already"),
	UC(twice, "classes ignored: a second class for one packet"),
	UC(unknown, "classes ignored: a sequence never shown to this client"),
	UC(bad_class, "classes ignored: above 65535"),
	UC(bad_head, "garbage heads of the client's ring (more than its capacity ahead)"),
	UC(copy_nombuf, "packets dropped: the stream's copy DBuf had no free mbuf"),
	UC(stopped, "packets in the window when the filter stopped (held, or decided and not "
	   "gone on yet): freed"),
};
#undef UC

BL_FILTER_REGISTER(user) = {
	.summary = "hold each packet until a client process returns its class (verdicts, zero copy)",
	.synopsis = "user name=NAME [timeout_us=N] [on_timeout=pass|drop] [max_inflight=N] "
		    "[mode=0640] [owner=USER] [group=GROUP]",
	.args_doc = "name: the stream a verdict client attaches to, 1..47 of [A-Za-z0-9_.-], not "
		    "beginning tap. (required); shares the namespace of export's streams\n"
		    "timeout_us: how long the oldest packet held waits for its class, 1..10000000 "
		    "(default 1000); the packets behind it wait for it (arrival order)\n"
		    "on_timeout: what happens to a packet with no class: pass (on with the class "
		    "it came with, default) or drop; also when no client is attached, when the "
		    "client leaves or dies, and for packets that arrive while max_inflight are "
		    "held (not shown to the client)\n"
		    "max_inflight: packets held at most, 1..65536 (default 256); the stream has "
		    "that many slots rounded up to a power of two, at least 64\n"
		    "mode: who may attach, octal like a file's (default 0640, as export's): a verdict "
		    "client needs read and write permission (by default the appliance's user), other "
		    "readers (beltline cat) read. Mode, owner and group other than the packet DBuf's "
		    "(memory.packet_mode) cost one copy per packet; the default's are zero copy\n"
		    "owner: user name or uid (default the appliance's)\n"
		    "group: group name or gid (default the appliance's)",
	.edges_doc = "by the client's class: 0 drops, any other class routes on the out-edges "
		     "whose labels hold it (unlabelled edges: every class but 0); on_timeout=pass "
		     "keeps the class the packet came with",
	.counters_doc = "clients (attached now, 0 or 1); clients_total (attaches in all). "
			"Each packet leaves once: verdicts + the *_pass and *_drop counters + "
			"copy_nombuf = packets in (once nothing is held; after a stop, stopped of "
			"them never went on); of them, those shown: "
			"handed = verdicts + timeout_* + gone_* + evicted_*",
	.state_doc = "shared: one stream per name, one verdict client at a time, one window "
		     "(the graph runs on one worker); what is in the window when it stops is "
		     "freed and counted (stopped)",
	.flags = BL_FILTER_F_HOLDS,   /* a packet leaves when its verdict comes: not in a join's branch */
	.priv_size = sizeof(struct user),
	.init = user_init,
	.fini = user_fini,
	.drain = user_drain,
	.process = user_process,
	.poll = user_poll,
	.tick = user_tick,
	BL_FILTER_COUNTERS(user_counter_defs),
};
