/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Taps (tap.h, docs/taps.md). A tap is an export that no config declares: a
 * stream "tap.N" with the packet DBuf's owner, group and mode (so zero copy,
 * and only who may read that DBuf may tap), written by a hook the runtime calls
 * from the tapped filter's dispatch (struct bl_filter_tap). The graph is not
 * rebuilt: every filter keeps its instance, state and counters, and the tap
 * sees exactly what the filter emitted (its output: every class but 0; an
 * edge: the classes the edge's label carries), before it is routed.
 *
 * Lifetime, all on the main lcore: made by the control socket's tap op, read
 * by whoever attaches to it as to any stream; once its last reader left (or no
 * reader came in BL_TAP_FIRST_MS), the hook is unlinked, the workers pass an
 * epoch (their run sets republished, as a reload does), and the stream goes.
 * Several taps may hang on one filter (a list of hooks, bl_filter_tap.next),
 * each with its own label, bpf and stream. A filter of a graph on several lcores
 * gets a tap on each replica (a stream has one writer: the replica's lcore), all
 * made before any is hooked; the client reads them in turn. Each lives and moves
 * through reloads as any tap, and ends when the graph's number of replicas changes.
 *
 * A reload that rebuilds the tapped filter's graph moves the hook to the new
 * instance that adopts the filter (bl_app_taps_carry, before the workers swap:
 * the same lcore writes the same stream, from the old graph's last burst to the
 * new one's first, so its readers see no gap). A tap whose filter the new config
 * removes or changes (not adopted, or its tapped edge gone or relabelled) ends
 * as above, logged with the reason: its readers are told the stream was removed.
 *
 * The worker side (tap_burst) locks nothing and allocates nothing but the copy of
 * a zero-copy inject writer's frame (an mbuf of the pool: see tap_burst): one more
 * reference per packet kept, one publish per burst; what the ring refuses is
 * counted by the ring (stats: the stream's dropped), as for any export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <pcap/pcap.h>
#include <rte_mbuf.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_log.h"
#include "bl_stream.h"
#include "bl_stream_worker.h"
#include "bl_time.h"
#include "limbo.h"
#include "tap.h"

#define TAP_MAX 16
#define TAP_CAPACITY 4096u
/* What one user other than root may hold, so that no user takes every tap (or the pool's
 * room for their rings) from the others: taps at once, taps of all such users together
 * (the rest is root's), and the capacity a tap may ask for. Root is held to TAP_MAX and
 * the pool alone. */
#define TAP_PER_UID       4u
#define TAP_NOT_ROOT      (TAP_MAX - 4u)
#define TAP_CAPACITY_USER 16384u

struct tap {
	struct bl_filter_tap hook;     /* first: the runtime hands this back */
	/* read-mostly once hooked */
	struct bl_label_rt label;      /* what it keeps: the edge's label, or every class but 0 */
	bool has_bpf;
	struct bpf_program prog;
	struct bl_stream *s;
	/* main lcore only */
	bool used;
	uid_t uid;                     /* who asked for it */
	struct bl_graph *g;            /* the tapped filter's graph (compared, deref'd only if run) */
	struct bl_filter *f;
	unsigned int worker;           /* index in app->workers */
	unsigned int n_group;          /* the graph's replicas when made: a tap on each */
	char what[96];                 /* "graphs[0]/dport:count" */
	char fname[BL_GDESC_NAME_MAX]; /* the filter's name, as asked for */
	char edge_to[BL_GDESC_NAME_MAX]; /* a tapped edge: the filter it leads to ("": the output) */
	char gone[160];                /* a reload dropped its filter: why (it ends at the next tick) */
	char bpf_text[256];
	uint64_t created_ms;
	bool had_reader;
	/* the worker's burst scratch */
	struct rte_mbuf *keep[BL_BURST_MAX];
	uint16_t cls[BL_BURST_MAX];
};

static struct tap taps[TAP_MAX];
static unsigned int tap_seq;

/* Worker: the tapped filter emitted n packets (it still owns them). */
static void
tap_burst(struct bl_filter_tap *h, struct rte_mbuf **pkts, const uint32_t *cls, uint16_t n,
	  uint8_t negate)
{
	struct tap *t = (struct tap *)h;
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t c = negate ? cls[i] == 0 : cls[i];

		if (!bl_label_match(&t->label, c))
			continue;
		/* The filter of a BPF expression decides on the first segment (a tap's
		 * --bpf: docs/taps.md); loads past it reject the packet. */
		if (t->has_bpf && bpf_filter(t->prog.bf_insns, rte_pktmbuf_mtod(m, const u_char *),
					     m->pkt_len, m->data_len) == 0)
			continue;
		if (unlikely(RTE_MBUF_HAS_EXTBUF(m))) {
			/* A zero-copy inject writer's frame: an external buffer, in the
			 * writer's region, not the packet DBuf. Its entry would show a reader
			 * the mbuf's own buffer (stale bytes), and the slot would keep the
			 * writer's buffer until the ring's next writes, which a writer out of
			 * buffers cannot cause (beltline inject hung). One copy into a packet
			 * of the pool; none free: counted, not kept. */
			struct rte_mbuf *cp = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

			if (cp == NULL) {
				bl_counter_add(&t->s->w.copy_nombuf, 1);   /* the writer only */
				continue;
			}
			bl_counter_add(&t->s->w.copied, 1);
			t->keep[k] = cp;
		} else {
			/* The slot's own reference, on every segment (atomic inside DPDK). */
			rte_pktmbuf_refcnt_update(m, 1);
			t->keep[k] = m;
		}
		t->cls[k++] = (uint16_t)c;
	}
	if (k != 0)
		bl_stream_publish(t->s, t->keep, t->cls, k);
}

/* "[ORIGIN/]NAME[:EDGE]" into its parts; false if a part is too long, or the ORIGIN before a
 * '/' or the EDGE after a ':' is empty (each was read as absent: "dport:" tapped the whole
 * output, "/dport" any graph's dport: not what was asked). */
static bool
split(const char *spec, char *origin, size_t on, char *name, size_t nn, char *edge, size_t en)
{
	const char *slash = strchr(spec, '/'), *colon, *p = spec;

	origin[0] = edge[0] = '\0';
	if (slash != NULL) {
		if (slash == spec || (size_t)(slash - spec) >= on)
			return false;
		snprintf(origin, on, "%.*s", (int)(slash - spec), spec);
		p = slash + 1;
	}
	colon = strchr(p, ':');
	if (colon != NULL) {
		if (colon[1] == '\0' || strlen(colon + 1) >= en)
			return false;
		snprintf(edge, en, "%s", colon + 1);
	}
	if ((size_t)(colon != NULL ? colon - p : (ptrdiff_t)strlen(p)) >= nn)
		return false;
	snprintf(name, nn, "%.*s", (int)(colon != NULL ? colon - p : (ptrdiff_t)strlen(p)), p);
	return true;
}

/* The running instances of a filter: one, or one per replica of a graph on several lcores. */
struct hits {
	unsigned int n;
	struct bl_graph *g[BL_CFG_MAX_WORKERS];
	struct bl_filter *f[BL_CFG_MAX_WORKERS];
	unsigned int worker[BL_CFG_MAX_WORKERS];
	char what[96];
};

/* Find the filter: in one graph, on each lcore the graph runs on (a tap per replica:
 * a stream has one writer). */
static int
find_filter(struct bl_app *app, const char *origin, const char *name, struct hits *h,
	    struct bl_err *err)
{
	char first[32] = "", other[32] = "";

	h->n = 0;
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct bl_worker *w = &app->workers[i];
		for (unsigned int x = 0; x < w->n_graphs; x++) {
			struct bl_filter *f;
			if (origin[0] != '\0' && strcmp(origin, w->origin[x]) != 0)
				continue;
			f = bl_graph_filter_by_name(w->graphs[x], name);
			if (f == NULL)
				continue;
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", w->origin[x]);
			if (strcmp(first, w->origin[x]) != 0) {
				if (other[0] == '\0')
					snprintf(other, sizeof(other), "%s", w->origin[x]);
				continue;
			}
			if (h->n < BL_CFG_MAX_WORKERS) {
				h->g[h->n] = w->graphs[x];
				h->f[h->n] = f;
				h->worker[h->n++] = i;
			}
		}
	}
	if (h->n == 0)
		return bl_err_set(err, -ENOENT, "tap: no filter \"%s\"%s%s in the running graph "
				  "(beltline stats lists them: NAME in its filters table)", name,
				  origin[0] ? " in " : "", origin);
	if (other[0] != '\0')
		return bl_err_set(err, -EINVAL, "tap: \"%s\" is in %s and in %s: name one, as "
				  "%s/%s", name, first, other, other, name);
	snprintf(h->what, sizeof(h->what), "%s/%s", first, name);
	return 0;
}

/* EDGE: the name of the filter it leads to, or its index among f's out-edges. */
static int
find_edge(struct tap *t, const char *edge, struct bl_err *err)
{
	const struct bl_filter *f = t->f;
	char list[160] = "";
	size_t n = 0;

	for (uint16_t k = 0; k < f->n_out; k++) {
		char idx[8];
		snprintf(idx, sizeof(idx), "%u", (unsigned int)k);
		if (strcmp(edge, f->out[k].to->name) == 0 || strcmp(edge, idx) == 0) {
			t->label = f->out[k].label;
			snprintf(t->edge_to, sizeof(t->edge_to), "%s", f->out[k].to->name);
			n = strlen(t->what);
			snprintf(t->what + n, sizeof(t->what) - n, ":%s", f->out[k].to->name);
			return 0;
		}
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      k ? ", " : "", f->out[k].to->name);
	}
	return bl_err_set(err, -ENOENT, "tap: filter \"%s\" has no edge \"%s\" (its out-edges "
			  "lead to: %s)", f->name, edge, f->n_out ? list : "none: it is a sink");
}

static int
compile_bpf(struct tap *t, const char *expr, struct bl_err *err)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	int rc;

	if (p == NULL)
		return bl_err_set(err, -ENOMEM, "tap: bpf: out of memory");
	rc = pcap_compile(p, &t->prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc != 0)
		bl_err_set(err, -EINVAL, "tap: bpf \"%.100s\": %s", expr, pcap_geterr(p));
	pcap_close(p);
	if (rc != 0)
		return -EINVAL;
	t->has_bpf = true;
	snprintf(t->bpf_text, sizeof(t->bpf_text), "%s", expr);
	return 0;
}

static const char *
str_member(const cJSON *req, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* The workers are past any burst that could still use a hook cleared before: 0; or
 * not yet, the epoch that says so published (1: a worker held past the wait); or no
 * memory for the run sets, nothing published (-1). */
static int
quiesce(struct bl_app *app)
{
	struct bl_worker_run *r[BL_CFG_MAX_WORKERS] = { NULL };

	for (unsigned int i = 0; i < app->n_workers; i++) {
		r[i] = bl_worker_run_make(&app->workers[i], app->epoch + 1);
		if (r[i] == NULL) {
			for (unsigned int j = 0; j < i; j++)
				free(r[j]);
			return -1;
		}
	}
	for (unsigned int i = 0; i < app->n_workers; i++)
		bl_worker_publish(&app->workers[i], r[i]);
	app->epoch++;
	if (!bl_worker_wait_epoch(app->workers, app->n_workers, app->epoch,
				  app->epoch_wait_s * 1000000ull)) {
		bl_limbo_add_runs(app, app->epoch);   /* a worker may still hold one */
		return 1;
	}
	for (unsigned int i = 0; i < app->n_workers; i++)
		bl_worker_run_release(&app->workers[i]);
	return 0;
}

/* Whether t's hook is on t->f of a running graph (a reload carries it over, or
 * clears t->g when it drops the filter: bl_app_taps_carry). */
static bool
hooked(const struct bl_app *app, const struct tap *t)
{
	const struct bl_worker *w = &app->workers[t->worker];

	for (unsigned int x = 0; t->g != NULL && x < w->n_graphs; x++)
		if (w->graphs[x] == t->g)   /* still run: t->f is whole */
			return true;
	return false;
}

/* Hang t's hook first on f's list (main lcore: the list's one writer). */
static void
tap_link(struct bl_filter *f, struct tap *t)
{
	t->hook.next = __atomic_load_n(&f->tap, __ATOMIC_RELAXED);   /* our own store */
	/* release: pairs with the acquire in dispatch (bl_graph_run.c): the tap, its
	 * label, program, stream and next are whole before the worker sees it */
	__atomic_store_n(&f->tap, &t->hook, __ATOMIC_RELEASE);
}

/* Take t's hook off f's list; t->hook.next stays, for a worker at t right now. */
static void
tap_unlink(struct bl_filter *f, struct tap *t)
{
	struct bl_filter_tap **p = &f->tap;

	while (*p != NULL && *p != &t->hook)
		p = &(*p)->next;
	if (*p != NULL)   /* release: pairs with the acquire in dispatch */
		__atomic_store_n(p, t->hook.next, __ATOMIC_RELEASE);
}

static void
tap_free(struct tap *t)
{
	if (t->s != NULL)
		bl_stream_release(t->s);   /* its readers (if any) are told it was removed */
	if (t->has_bpf)
		pcap_freecode(&t->prog);
	memset(t, 0, sizeof(*t));
}

static void
tap_free_cb(void *t)
{
	tap_free(t);
}

/* Unhook t, wait out the workers, free it. */
static void
tap_end(struct bl_app *app, struct tap *t, const char *why)
{
	bool was = hooked(app, t);

	bl_log(BL_LOG_NOTICE, "tap %s on %s ends: %s", t->s->name, t->what, why);
	if (was)
		tap_unlink(t->f, t);
	/* A dropped filter's old graph ran the hook until its swap: one more epoch. */
	if (was || t->gone[0] != '\0') {
		int q = quiesce(app);
		if (q != 0) {
			/* A burst may still run its hook: freed once every worker is past an epoch
			 * published after the unhook (with no memory for one now, the next swap's).
			 * Not used (no tick ends it again), its stream kept: the slot is not
			 * handed out until then. */
			if (q > 0)
				bl_log(BL_LOG_WARNING, "tap %s: a worker did not pass the epoch in %u "
				       "s: its stream goes once every worker is past it",
				       t->s->name, app->epoch_wait_s);
			else
				bl_log(BL_LOG_WARNING, "tap %s: no memory to publish an epoch now: its "
				       "stream goes once every worker is past it", t->s->name);
			t->used = false;
			bl_limbo_add(app, q > 0 ? app->epoch : app->epoch + 1, tap_free_cb, t, "a tap");
			return;
		}
	}
	tap_free(t);
}

/* A tap open failed: the taps it made for the other replicas go too (never hooked). */
static void
undo_made(struct tap **made, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		if (made[k] != NULL)
			tap_free(made[k]);
}

/* A user other than root past what it may hold (TAP_PER_UID, TAP_NOT_ROOT,
 * TAP_CAPACITY_USER): true, with err saying which. n: the taps this request makes. */
static bool
limited(uid_t uid, unsigned int n, uint32_t capacity, struct bl_err *err)
{
	unsigned int mine = 0, users = 0;

	if (capacity > TAP_CAPACITY_USER) {
		bl_err_set(err, -EPERM, "tap: \"capacity\" above %u is root's (uid %u asked for %u)",
			   TAP_CAPACITY_USER, (unsigned int)uid, capacity);
		return true;
	}
	for (unsigned int i = 0; i < TAP_MAX; i++) {
		if (!taps[i].used || taps[i].uid == 0)
			continue;
		users++;
		mine += taps[i].uid == uid;
	}
	if (mine + n > TAP_PER_UID) {
		bl_err_set(err, -EBUSY, "tap: uid %u holds %u tap%s already (a user other than root "
			   "holds at most %u at once%s)", (unsigned int)uid, mine, mine == 1 ? "" : "s",
			   TAP_PER_UID, n > 1 ? "; this filter runs on several lcores and takes a tap "
			   "on each" : "");
		return true;
	}
	if (users + n > TAP_NOT_ROOT) {
		bl_err_set(err, -EBUSY, "tap: users other than root hold %u taps already (at most %u: "
			   "the rest are root's)", users, TAP_NOT_ROOT);
		return true;
	}
	return false;
}

struct cJSON *
bl_app_tap_open(struct bl_app *app, const struct bl_stream_cred *who, const struct cJSON *req,
		struct bl_err *err)
{
	bool bad = false;
	const char *spec = str_member(req, "filter", &bad), *bpf = str_member(req, "bpf", &bad);
	const char *policy = str_member(req, "policy", &bad);
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "capacity");
	char origin[32], name[BL_GDESC_NAME_MAX], edge[BL_GDESC_NAME_MAX], sname[BL_STREAM_NAME_MAX];
	struct bl_stream probe = { .kind = BL_STREAM_EXPORT };
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .capacity = TAP_CAPACITY,
		.max_readers = 8, .wake_count = 1,
	};
	struct tap *t = NULL, *made[BL_CFG_MAX_WORKERS] = { NULL };
	struct hits hs;
	unsigned int n_free = 0;
	cJSON *j, *streams;
	int rc;

	bl_err_clear(err);
	if (bad || spec == NULL) {
		bl_err_set(err, -EINVAL, "tap: \"filter\" (a string: [ORIGIN/]FILTER[:EDGE]) is "
			   "required; \"bpf\" and \"policy\" are strings");
		return NULL;
	}
	if (jc != NULL) {   /* range first: a JSON number is a double */
		if (!cJSON_IsNumber(jc) || !(jc->valuedouble >= 2 && jc->valuedouble <= (1u << 20)) ||
		    jc->valuedouble != (double)(uint32_t)jc->valuedouble) {
			bl_err_set(err, -EINVAL, "tap: \"capacity\" is a power of two, 2..1048576");
			return NULL;
		}
		o.capacity = (uint32_t)jc->valuedouble;
	}
	/* Who may not read the packet DBuf may not tap: the tap's stream has its
	 * owner, group and mode (the export defaults: the appliance's, packet_mode). */
	probe.uid = geteuid();
	probe.gid = getegid();
	probe.mode = (mode_t)app->cfg.pkt_mode;
	if (!bl_stream_may_read(&probe, who)) {
		bl_err_set(err, -EACCES, "tap: uid %u may not read the packet buffer (owner uid %u, "
			   "group gid %u, mode %04o: memory.packet_mode), so may not tap",
			   (unsigned int)who->uid, (unsigned int)probe.uid, (unsigned int)probe.gid,
			   (unsigned int)probe.mode);
		bl_log(BL_LOG_WARNING, "%s", err->msg);
		return NULL;
	}
	bl_app_taps_tick(app);   /* a tap whose reader just left makes room first */
	if (!split(spec, origin, sizeof(origin), name, sizeof(name), edge, sizeof(edge)) ||
	    name[0] == '\0') {
		bl_err_set(err, -EINVAL, "tap: \"%.80s\" is not [ORIGIN/]FILTER[:EDGE] (e.g. dport, "
			   "dport:count, graphs[1]/ip)", spec);
		return NULL;
	}
	if (find_filter(app, origin, name, &hs, err) < 0)
		return NULL;
	for (unsigned int i = 0; i < TAP_MAX; i++)
		n_free += !taps[i].used && taps[i].s == NULL;
	if (who->uid != 0 && limited(who->uid, hs.n, o.capacity, err))
		return NULL;
	if (n_free < hs.n) {
		bl_err_set(err, -ENOSPC, "tap: %u taps run already (the limit)%s", TAP_MAX - n_free,
			   hs.n > 1 ? "; this filter runs on several lcores and takes a tap on each" : "");
		return NULL;
	}
	if (bl_stream_policy_arg(policy != NULL ? policy : "srp", &o.policy, err) < 0) {
		char m[BL_ERR_MSG_MAX];
		snprintf(m, sizeof(m), "%s", err->msg);
		bl_err_set(err, -EINVAL, "tap: %s", m);
		return NULL;
	}
	/* A tap per replica, each its own stream (a stream has one writer: the replica's
	 * lcore); all made before any is hooked, so a failure undoes them unseen. */
	for (unsigned int r = 0; r < hs.n; r++) {
		t = NULL;
		for (unsigned int i = 0; i < TAP_MAX && t == NULL; i++)
			if (!taps[i].used && taps[i].s == NULL)   /* the ones made: s set */
				t = &taps[i];
		made[r] = t;
		memset(t, 0, sizeof(*t));
		t->label.kind = BL_LABEL_DEFAULT;
		t->uid = who->uid;
		t->g = hs.g[r];
		t->f = hs.f[r];
		t->worker = hs.worker[r];
		t->n_group = hs.n;
		snprintf(t->what, sizeof(t->what), "%s", hs.what);
		snprintf(t->fname, sizeof(t->fname), "%s", name);
		if ((edge[0] != '\0' && find_edge(t, edge, err) < 0) ||
		    (bpf != NULL && compile_bpf(t, bpf, err) < 0)) {
			undo_made(made, r + 1);
			return NULL;
		}
		do
			snprintf(sname, sizeof(sname), "tap.%u", ++tap_seq);
		while (bl_stream_find(BL_STREAM_EXPORT, sname) != NULL);
		o.name = sname;
		o.pkt = app->dbuf;
		o.lcore = app->workers[t->worker].lcore;
		o.uid = probe.uid;
		o.gid = probe.gid;
		o.mode = probe.mode;
		o.tap = 1;
		rc = bl_stream_create(&o, &t->s, err);
		if (rc < 0) {
			char m[BL_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err->msg);
			bl_err_set(err, rc, "tap: %s", m);
			undo_made(made, r + 1);
			return NULL;
		}
	}
	j = cJSON_CreateObject();
	streams = cJSON_CreateArray();
	for (unsigned int r = 0; r < hs.n; r++) {
		t = made[r];
		t->hook.burst = tap_burst;
		t->used = true;
		t->created_ms = bl_mono_ms();
		tap_link(t->f, t);
		char lc[32] = "";
		if (hs.n > 1)
			snprintf(lc, sizeof(lc), " (lcore %u)", app->workers[t->worker].lcore);
		bl_log(BL_LOG_NOTICE, "tap %s on %s%s%s%s (uid %u)", t->s->name, t->what, lc,
		       t->has_bpf ? " bpf " : "", t->bpf_text, (unsigned int)who->uid);
		cJSON_AddItemToArray(streams, cJSON_CreateString(t->s->name));
	}
	cJSON_AddStringToObject(j, "stream", made[0]->s->name);
	cJSON_AddItemToObject(j, "streams", streams);
	cJSON_AddStringToObject(j, "filter", made[0]->what);
	return j;
}

void
bl_app_taps_tick(struct bl_app *app)
{
	uint64_t now = 0;

	for (unsigned int i = 0; i < TAP_MAX; i++) {
		struct tap *t = &taps[i];
		struct bl_ibuf_stats st;

		if (!t->used)
			continue;
		if (t->gone[0] != '\0' || !hooked(app, t)) {
			tap_end(app, t, t->gone[0] != '\0' ? t->gone : "a reload replaced its graph");
			continue;
		}
		bl_ibuf_stats(t->s->ib, &st);
		if (st.n_active != 0) {
			t->had_reader = true;
			continue;
		}
		if (t->had_reader) {
			tap_end(app, t, "its last reader left");
			continue;
		}
		if (now == 0)
			now = bl_mono_ms();
		if (now - t->created_ms >= BL_TAP_FIRST_MS)
			tap_end(app, t, "no reader attached");
	}
}

void
bl_app_taps_stop(struct bl_app *app)
{
	for (unsigned int i = 0; i < TAP_MAX; i++)
		if (taps[i].used)
			tap_end(app, &taps[i], "the appliance stops");
}

/* Two edges carry the same classes. */
static bool
same_label(const struct bl_label_rt *a, const struct bl_label_rt *b)
{
	if (a->kind != b->kind || a->invert != b->invert || a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->lo[i] != b->lo[i] || a->hi[i] != b->hi[i])
			return false;
	return true;
}

/* The filter of nw that carries t on, with its graph's index in nw[t->worker] (*gx),
 * or NULL with t->gone saying why not. */
static struct bl_filter *
successor(const struct bl_app *app, const struct bl_worker *nw, struct tap *t, unsigned int *gx)
{
	const struct bl_worker *w = &nw[t->worker];
	struct bl_filter *nf = NULL;

	for (unsigned int x = 0; x < w->n_graphs && nf == NULL; x++) {
		struct bl_filter *c = bl_graph_filter_by_name(w->graphs[x], t->fname);
		/* st_from: set by the commit just made, read by the worker only once it runs
		 * the new set (its publish is after this) */
		if (c != NULL && c->st_from == t->f) {
			nf = c;
			*gx = x;
		}
	}
	if (nf == NULL) {
		snprintf(t->gone, sizeof(t->gone), "the new config removes or changes filter "
			 "\"%s\" (its type, name, arguments, negation or number of in-edges)", t->fname);
		return NULL;
	}
	if (t->edge_to[0] != '\0') {
		uint16_t k;
		for (k = 0; k < nf->n_out; k++)
			if (strcmp(nf->out[k].to->name, t->edge_to) == 0 &&
			    same_label(&nf->out[k].label, &t->label))
				break;
		if (k == nf->n_out) {
			snprintf(t->gone, sizeof(t->gone), "the new config changes the edge from "
				 "\"%s\" to \"%s\" (gone, or it carries other classes)", t->fname,
				 t->edge_to);
			return NULL;
		}
	}
	unsigned int n_now = 0;
	for (unsigned int i = 0; i < app->n_workers; i++)
		for (unsigned int x = 0; x < nw[i].n_graphs; x++)
			n_now += strcmp(nw[i].origin[x], w->origin[*gx]) == 0 &&
				 bl_graph_filter_by_name(nw[i].graphs[x], t->fname) != NULL;
	if (n_now != t->n_group) {   /* a tap per replica: the others would go untapped */
		snprintf(t->gone, sizeof(t->gone), "\"%s\" of %s now runs on %u lcore%s, not %u "
			 "(a tap per lcore: tap it again)", t->fname, w->origin[*gx], n_now,
			 n_now == 1 ? "" : "s", t->n_group);
		return NULL;
	}
	return nf;
}

void
bl_app_taps_carry(struct bl_app *app, const struct bl_worker *nw)
{
	struct bl_filter *to[TAP_MAX] = { NULL };
	unsigned int gx[TAP_MAX] = { 0 };
	bool done[TAP_MAX] = { false };

	for (unsigned int i = 0; i < TAP_MAX; i++) {
		struct tap *t = &taps[i];
		bool kept = false;

		if (!t->used || !hooked(app, t)) {
			done[i] = true;
			continue;
		}
		for (unsigned int x = 0; x < nw[t->worker].n_graphs; x++)
			kept |= nw[t->worker].graphs[x] == t->g;
		if (kept) {   /* its graph stays whole, hook and all */
			done[i] = true;
			continue;
		}
		to[i] = successor(app, nw, t, &gx[i]);
	}
	/*
	 * Per old filter, its carried hooks become the new instance's list, in their old
	 * order: only a carried hook's next changes (to the next carried one), so the old
	 * graph, which runs until the worker swaps, still reaches every carried hook; a
	 * dropped one may miss the old graph's last bursts (it ends anyway).
	 */
	for (unsigned int i = 0; i < TAP_MAX; i++) {
		struct bl_filter *of = taps[i].f;
		struct bl_filter_tap *chain[TAP_MAX], *prev = NULL;
		unsigned int n = 0;

		if (done[i])
			continue;
		for (struct bl_filter_tap *h = of->tap; h != NULL && n < TAP_MAX; h = h->next)
			chain[n++] = h;
		for (unsigned int c = 0; c < n; c++) {
			struct tap *t = (struct tap *)chain[c];
			unsigned int k = (unsigned int)(t - taps);

			done[k] = true;
			if (to[k] == NULL) {
				t->g = NULL;   /* ends at the next tick (t->gone says why) */
				t->f = NULL;
				continue;
			}
			/* release: pairs with the acquire in dispatch (the new instance's list
			 * head, or the next of the carried hook before): the worker runs the
			 * new graph only after this set's publish anyway */
			__atomic_store_n(prev == NULL ? &to[k]->tap : &prev->next, chain[c],
					 __ATOMIC_RELEASE);
			prev = chain[c];
			t->g = nw[t->worker].graphs[gx[k]];
			t->f = to[k];
			snprintf(t->what, sizeof(t->what), "%s/%s%s%s", nw[t->worker].origin[gx[k]],
				 t->fname, t->edge_to[0] ? ":" : "", t->edge_to);
		}
		if (prev != NULL)   /* release: as above */
			__atomic_store_n(&prev->next, NULL, __ATOMIC_RELEASE);
		if (!done[i]) {   /* not on its filter's list: cannot be */
			snprintf(taps[i].gone, sizeof(taps[i].gone), "its hook was lost");
			taps[i].g = NULL;
			taps[i].f = NULL;
			done[i] = true;
		}
	}
}
