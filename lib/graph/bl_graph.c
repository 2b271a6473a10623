/* SPDX-License-Identifier: BSD-3-Clause */
/* Building and freeing graphs (slow path): a transaction of undoable steps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "bl_graph_pvt.h"
#include "bl_mbuf_meta.h"
#include "bl_suggest.h"

int bl_class_dynfield = -1;

static unsigned int fail_step;       /* test hook: fail the Nth step */
static long live_allocs;             /* test hook: allocations not yet freed */

void
bl_graph_test_fail_step(unsigned int n)
{
	fail_step = n;
}

bool
bl_graph_test_step_fails(void)
{
	return fail_step != 0 && --fail_step == 0;
}

long
bl_graph_test_live_allocs(void)
{
	return live_allocs;
}

int
bl_graph_global_init(struct bl_err *err)
{
	static const struct rte_mbuf_dynfield cls = {
		.name = "beltline_class", .size = sizeof(uint32_t), .align = __alignof__(uint32_t),
	};

	if (bl_class_dynfield < 0)
		bl_class_dynfield = rte_mbuf_dynfield_register(&cls);
	if (bl_class_dynfield < 0)
		return bl_err_set(err, -rte_errno, "cannot register the mbuf class field: %s",
				  rte_strerror(rte_errno));
	if (bl_mbuf_meta_register() != 0)   /* a replayed record's time and wire length */
		return bl_err_set(err, -rte_errno, "cannot register the mbuf record field: %s",
				  rte_strerror(rte_errno));
	return 0;
}

/* One undoable step: the test hook may make it fail. */
static int
step(struct bl_err *err, const char *what)
{
	if (fail_step != 0 && --fail_step == 0)
		return bl_err_set(err, -ENOMEM, "injected failure at %s", what);
	return 0;
}

/* A dry run has no EAL: its graph lives on the C heap. */
static void *
zalloc(bool dry, size_t size, struct bl_err *err, const char *what)
{
	void *p;

	if (step(err, what) != 0)
		return NULL;
	p = dry ? calloc(1, size) : rte_zmalloc("bl_graph", size, RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		bl_err_set(err, -ENOMEM, "out of memory for %s", what);
		return NULL;
	}
	live_allocs++;
	return p;
}

static void
zfree(bool dry, void *p)
{
	if (p != NULL) {
		live_allocs--;
		if (dry)
			free(p);
		else
			rte_free(p);
	}
}

/* A class name's lookup through pass-through filters (class_by_name). */
struct cls_query {
	const char *name;
	uint64_t seen;          /* nodes looked at (each once; cycles) */
	unsigned int clash[2];  /* -2: two feeders whose own names disagree, */
	int64_t clash_cls[2];   /* and what each calls it */
};

/*
 * The class a name means on an out-edge of node i: the filter's own name for it, or,
 * for a filter that passes classes through (BL_FILTER_F_PASSES_CLASS), the one the
 * filters that feed it give that name (through further pass-through filters). *at: the
 * node whose own name it was. -1: none has it; -2: two mean different classes by it
 * (q->clash says which).
 */
static int64_t
class_by_name(const struct bl_graph *g, const struct bl_gdesc *d, unsigned int i,
	      struct cls_query *q, unsigned int *at)
{
	const struct bl_filter *f = g->filters[i];
	int64_t c = bl_filter_class_by_name(f->ops, q->name), found = -1;
	unsigned int found_at = i, a = i;

	q->seen |= 1ull << i;
	*at = i;
	if (c >= 0 || !(f->ops->flags & BL_FILTER_F_PASSES_CLASS))
		return c >= 0 ? c : -1;
	for (unsigned int k = 0; k < d->n_edges; k++) {
		unsigned int up = d->edges[k].from;
		if (d->edges[k].to != i || up >= g->n_filters || (q->seen >> up & 1))
			continue;
		c = class_by_name(g, d, up, q, &a);
		if (c == -2)
			return -2;
		if (c >= 0 && found >= 0 && c != found) {
			q->clash[0] = found_at;
			q->clash[1] = a;
			q->clash_cls[0] = found;
			q->clash_cls[1] = c;
			return -2;
		}
		if (c >= 0 && found < 0) {
			found = c;
			found_at = a;
		}
	}
	*at = found_at;
	return found;
}

/* A label names a class the filter does not have: say which it has, the closest first. */
static int
no_class(const struct bl_filter *from, const char *name, unsigned int col, struct bl_err *err)
{
	const char *names[65], *like;
	char list[256] = "";
	unsigned int n = bl_filter_class_names(from->ops, names, 65);
	size_t len = 0;

	like = bl_suggest(name, names);
	for (unsigned int i = 0; i < n && len < sizeof(list); i++) {
		int w = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", names[i]);

		if (w < 0 || (size_t)w >= sizeof(list) - len) {
			snprintf(list + len, sizeof(list) - len, ", ...");
			break;
		}
		len += (size_t)w;
	}
	return bl_err_set(err, -EINVAL, "col %u: filter \"%s\" (%s) has no class named \"%s\"%s%s%s%s "
			  "(%s%s; or give the class's number)", col, from->name, from->ops->name,
			  name, from->ops->flags & BL_FILTER_F_PASSES_CLASS ?
			  ", nor has any filter that feeds it" : "",
			  like != NULL ? " (did you mean \"" : "", like != NULL ? like : "",
			  like != NULL ? "\"?)" : "", n != 0 ? "its names: " : "it names none",
			  list);
}

static int
resolve_ref(const struct bl_graph *g, const struct bl_gdesc *d, const struct bl_class_ref *r,
	    uint32_t *out, const struct bl_gdesc_edge *e, struct bl_err *err)
{
	const struct bl_filter *from = g->filters[e->from];
	struct cls_query q = { .name = r->name };
	unsigned int at;
	int64_t c;

	_Static_assert(BL_GRAPH_MAX_NODES <= 64, "cls_query.seen is a 64-bit mask");
	if (r->name[0] == '\0') {
		*out = r->num;
		return 0;
	}
	c = class_by_name(g, d, e->from, &q, &at);
	if (c == -2)
		return bl_err_set(err, -EINVAL, "col %u: class \"%s\" after \"%s\" (%s) is %lld to "
				  "\"%s\" (%s) but %lld to \"%s\" (%s), which both feed it: use a number",
				  e->col, r->name, from->name, from->ops->name,
				  (long long)q.clash_cls[0], g->filters[q.clash[0]]->name,
				  g->filters[q.clash[0]]->ops->name, (long long)q.clash_cls[1],
				  g->filters[q.clash[1]]->name, g->filters[q.clash[1]]->ops->name);
	if (c < 0)
		return no_class(from, r->name, e->col, err);
	*out = (uint32_t)c;
	return 0;
}

static int
resolve_label(const struct bl_graph *g, const struct bl_gdesc *d, const struct bl_gdesc_edge *e,
	      struct bl_label_rt *rt, struct bl_err *err)
{
	rt->kind = (uint8_t)e->label.kind;
	rt->invert = e->label.invert;
	rt->n = (uint8_t)e->label.n;
	for (unsigned int i = 0; i < e->label.n; i++) {
		if (resolve_ref(g, d, &e->label.r[i].lo, &rt->lo[i], e, err) != 0 ||
		    resolve_ref(g, d, &e->label.r[i].hi, &rt->hi[i], e, err) != 0)
			return -EINVAL;
		if (rt->lo[i] > rt->hi[i])
			return bl_err_set(err, -EINVAL, "col %u: class range %u:%u runs backwards",
					  e->col, rt->lo[i], rt->hi[i]);
	}
	return 0;
}

static void
undo(struct bl_graph *g)
{
	/* Stop sources first: walk the topological order forwards. */
	/* A filter that took its state from a running one and was not committed (the
	 * build rolled back), or one whose state a newer build took, leaves the state
	 * alone: it is not this instance's to stop, fini or free. */
	for (unsigned int i = 0; i < g->n_filters; i++) {
		struct bl_filter *f = g->order[i] != NULL ? g->order[i] : g->filters[i];
		if (f != NULL && f->started && f->ops->stop != NULL && f->from == NULL && !f->given)
			f->ops->stop(f);
		if (f != NULL)
			f->started = 0;
	}
	for (unsigned int i = g->n_filters; i-- > 0;) {
		struct bl_filter *f = g->filters[i];
		if (f == NULL)
			continue;
		bool owns = f->from == NULL && !f->given;
		if (g->inited[i] && f->ops->fini != NULL && owns)
			f->ops->fini(f);
		if (f->from != NULL)
			f->from->claimed = 0;   /* rolled back: the running instance keeps it */
		for (unsigned int k = 0; k < f->n_in; k++)
			rte_pktmbuf_free(f->in[k]);
		for (unsigned int k = 0; k < f->n_emit; k++)
			rte_pktmbuf_free(f->emit_pkt[k]);
		zfree(g->env.dry, f->out);
		if (owns)
			zfree(g->env.dry, f->priv);
		if (g->env.dry)
			free(f->match);
		else
			rte_free(f->match);
		zfree(g->env.dry, f);
	}
	zfree(g->env.dry, g);
}

/* What must be equal for one filter to take another's state: type, name, negation,
 * the arguments in order, and the number of in-edges (intersect counts them). Not the
 * out-edges: no filter's state depends on them (routing is the runtime's, f->out is
 * the instance's own), so a filter that gains or loses a branch keeps its state and
 * counters (beltline mount's mkdir and rmdir). Fields are separated by 0x1f, which no
 * pipeline text or JSON string of a config holds raw.
 * A BL_FILTER_F_SPLIT filter's key has its replica and the graph's number of replicas
 * too: its share (rx's queues, pcap's file) is made for one count, so a reload that
 * changes the graph's lcores makes it anew. The others are still adopted across that
 * change (the replica of the same lcore and index only: graphs.c build_source): a
 * count's counters sum to the same totals in stats, a gen goes on with its sequence,
 * and a flow or tcpstream table keeps the flows it had, which is what their per-replica
 * state already allows (a flow that RSS now sends to another replica is two records). */
static char *
match_key(const struct bl_graph_env *env, const struct bl_filter_ops *ops,
	  const struct bl_gdesc_node *nd, unsigned int n_in)
{
	size_t len = strlen(nd->filter) + strlen(nd->name) + 64, n;   /* the numbers and separators */
	char *m;

	for (unsigned int k = 0; k < nd->args.n; k++)
		len += (nd->args.v[k].key != NULL ? strlen(nd->args.v[k].key) : 0) +
		       strlen(nd->args.v[k].value) + 3;
	/* EAL memory as the graph's own (a graph kept to the process's end is not a leak) */
	if ((m = env->dry ? malloc(len) : rte_malloc("bl_graph", len, 0)) == NULL)
		return NULL;
	n = (size_t)snprintf(m, len, "%s\x1f%s\x1f%d\x1f%u", nd->filter, nd->name, nd->negate, n_in);
	if (ops->flags & BL_FILTER_F_SPLIT)
		n += (size_t)snprintf(m + n, len - n, "\x1f%u/%u", env->replica, env->n_replicas);
	for (unsigned int k = 0; k < nd->args.n && n < len; k++)
		n += (size_t)snprintf(m + n, len - n, "\x1f%s%s%s",
				      nd->args.v[k].key != NULL ? nd->args.v[k].key : "",
				      nd->args.v[k].key != NULL ? "=" : "", nd->args.v[k].value);
	return m;
}

/* A filter of the graphs this build replaces that f may take the state of, or NULL. */
static struct bl_filter *
adoptable(const struct bl_graph *g, const struct bl_filter *f)
{
	for (unsigned int k = 0; k < g->env.n_adopt; k++) {
		const struct bl_graph *og = g->env.adopt[k];
		for (unsigned int j = 0; j < og->n_filters; j++) {
			struct bl_filter *o = og->filters[j];
			if (o->ops == f->ops && !o->claimed && !o->given && o->from == NULL &&
			    strcmp(o->match, f->match) == 0)
				return o;
		}
	}
	return NULL;
}

static int
make_filter(struct bl_graph *g, const struct bl_gdesc *d, unsigned int i, struct bl_err *err)
{
	const struct bl_gdesc_node *nd = &d->nodes[i];
	const struct bl_filter_ops *ops = bl_filter_lookup(nd->filter);
	struct bl_filter *f;
	unsigned int n_out = 0;
	int rc;

	if (ops == NULL) {
		const char *like = bl_suggest(nd->filter, bl_filter_names());

		return bl_err_set(err, -EINVAL, "col %u: unknown filter \"%s\"%s%s%s", nd->col,
				  nd->filter, like != NULL ? " (did you mean \"" : "",
				  like != NULL ? like : "", like != NULL ? "\"?)" : "");
	}
	f = zalloc(g->env.dry, sizeof(*f), err, "a filter");
	if (f == NULL)
		return -ENOMEM;
	g->filters[i] = f;
	g->n_filters = i + 1;
	f->ops = ops;
	f->graph = g;
	f->pass = &g->pass;
	f->idx = (uint16_t)i;
	f->negate = nd->negate;
	snprintf(f->name, sizeof(f->name), "%s", nd->name);
	unsigned int first_out_col = 0;
	for (unsigned int k = 0; k < d->n_edges; k++) {
		if (d->edges[k].from == i && n_out++ == 0)
			first_out_col = d->edges[k].col;
		f->n_in_edges = (uint16_t)(f->n_in_edges + (d->edges[k].to == i));
	}
	if (n_out > 0 && (ops->flags & BL_FILTER_F_SINK))
		return bl_err_set(err, -EINVAL, "col %u: \"%s\" is a sink: nothing can follow it",
				  first_out_col, nd->name);
	if (n_out > 0) {
		f->out = zalloc(g->env.dry, n_out * sizeof(*f->out), err, "edges");
		if (f->out == NULL)
			return -ENOMEM;
	}
	f->match = match_key(&g->env, ops, nd, f->n_in_edges);
	if (f->match == NULL)
		return bl_err_set(err, -ENOMEM, "out of memory for a filter");
	if (!g->env.dry && (f->from = adoptable(g, f)) != NULL) {
		/* The running instance's state, already initialised and started. */
		f->from->claimed = 1;
		f->priv = f->from->priv;
		f->started = f->from->started;
		g->inited[i] = true;
		g->n_adopted++;
		return 0;
	}
	if (ops->priv_size > 0) {
		f->priv = zalloc(g->env.dry, ops->priv_size, err, "filter state");
		if (f->priv == NULL)
			return -ENOMEM;
	}
	if ((rc = step(err, "a filter's init")) != 0)
		return rc;
	rc = ops->init != NULL ? ops->init(f, &nd->args, err) : 0;
	if (rc == -ENOMEM && g->env.dry)
		return 0;   /* EAL memory a dry run does not have: checked as far as it could be */
	if (rc != 0) {
		/* Say where: the filter's init named the argument. An unnamed filter by what the
		 * user wrote ("bpf"), not the name it was given ("bpf2"): the column finds it. */
		char msg[BL_ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
		return bl_err_set(err, rc < 0 ? rc : -EINVAL, "col %u: %s: %s", nd->col,
				  nd->named ? nd->name : nd->filter, msg);
	}
	g->inited[i] = true;
	return 0;
}

static int
link_edges(struct bl_graph *g, const struct bl_gdesc *d, struct bl_err *err)
{
	for (unsigned int k = 0; k < d->n_edges; k++) {
		const struct bl_gdesc_edge *e = &d->edges[k];
		struct bl_filter *from = g->filters[e->from];
		struct bl_edge_rt *rt = &from->out[from->n_out];

		if (e->from >= g->n_filters || e->to >= g->n_filters)
			return bl_err_set(err, -EINVAL, "edge %u: node index out of range", k);
		if (g->filters[e->to]->ops->flags & BL_FILTER_F_SOURCE)
			return bl_err_set(err, -EINVAL, "col %u: \"%s\" is a source: nothing can feed it",
					  e->col, g->filters[e->to]->name);
		rt->to = g->filters[e->to];
		if (resolve_label(g, d, e, &rt->label, err) != 0)
			return -EINVAL;
		from->n_out++;
	}
	for (unsigned int i = 0; i < g->n_filters; i++) {
		struct bl_filter *f = g->filters[i];
		f->straight = f->n_out == 1 && !f->negate && f->out[0].label.kind == BL_LABEL_DEFAULT;
	}
	return 0;
}

static const char *
node_word(const struct bl_gdesc_node *nd)
{
	return nd->named ? nd->name : nd->filter;
}

/*
 * A join (union, intersect) keeps one of the references of a packet that reach
 * it in one pass, so all of them must come in the pass the packet was split in.
 * A filter that may hand a packet on in a later pass (BL_FILTER_F_HOLDS: user)
 * between that split and the join breaks this: intersect would drop the packet,
 * union pass it twice. Refused from the description alone, before any filter's
 * init: a holding filter H that a split S reaches (S != H) and that reaches a
 * join J to which two or more of S's out-edges lead. Sound, and strict: labels
 * that part a packet's classes between the branches are not looked at. Held
 * before the split or after the join, a packet's references travel together.
 * A filter that writes packet bytes (BL_FILTER_F_REWRITES: macswap) breaks it the
 * same way: in a branch the packet is shared, so it hands on a private copy, a
 * packet the join has never seen (union passed both, intersect neither).
 */
static int
check_joins(const struct bl_gdesc *d, struct bl_err *err)
{
	uint64_t reach[BL_GRAPH_MAX_NODES] = { 0 };   /* bit j of reach[i]: a path i -> j */
	uint64_t holds = 0, rewrites = 0, joins = 0;
	const unsigned int n = d->n_nodes;

	for (unsigned int i = 0; i < n; i++) {
		const struct bl_filter_ops *ops = bl_filter_lookup(d->nodes[i].filter);
		if (ops == NULL)
			continue;   /* make_filter says so */
		holds |= (uint64_t)((ops->flags & BL_FILTER_F_HOLDS) != 0) << i;
		rewrites |= (uint64_t)((ops->flags & BL_FILTER_F_REWRITES) != 0) << i;
		joins |= (uint64_t)((ops->flags & BL_FILTER_F_JOIN) != 0) << i;
	}
	if ((holds | rewrites) == 0 || joins == 0)
		return 0;
	for (unsigned int k = 0; k < d->n_edges; k++)
		if (d->edges[k].from < n && d->edges[k].to < n)   /* else link_edges says so */
			reach[d->edges[k].from] |= 1ull << d->edges[k].to;
	for (unsigned int k = 0; k < n; k++)   /* Warshall: paths through k */
		for (unsigned int i = 0; i < n; i++)
			if (reach[i] & (1ull << k))
				reach[i] |= reach[k];
	for (unsigned int h = 0; h < n; h++) {
		if (!((holds | rewrites) & (1ull << h)))
			continue;
		for (unsigned int j = 0; j < n; j++) {
			if (!(joins & (1ull << j)) || !(reach[h] & (1ull << j)))
				continue;
			for (unsigned int sp = 0; sp < n; sp++) {
				unsigned int to_join = 0;
				if (sp == h || !(reach[sp] & (1ull << h)))
					continue;
				for (unsigned int k = 0; k < d->n_edges; k++) {
					unsigned int t = d->edges[k].to;
					to_join += d->edges[k].from == sp && t < n &&
						   (t == j || (reach[t] & (1ull << j)));
				}
				if (to_join < 2)
					continue;
				if (!(holds & (1ull << h)))
					return bl_err_set(err, -EINVAL,
						  "col %u: \"%s\"%s%s%s writes packet bytes, and it is in a "
						  "branch of the %s at col %u: there the packet is shared, so "
						  "it hands on a copy of its own, a packet the join never saw "
						  "in the other branches (union would pass both, intersect "
						  "neither). Put it before the split or after the join",
						  d->nodes[h].col, node_word(&d->nodes[h]),
						  d->nodes[h].named ? " (" : "",
						  d->nodes[h].named ? d->nodes[h].filter : "",
						  d->nodes[h].named ? ")" : "", d->nodes[j].filter,
						  d->nodes[j].col);
				return bl_err_set(err, -EINVAL,
						  "col %u: \"%s\"%s%s%s may hand a packet on in a later pass "
						  "than the one it came in, and it is in a branch of the %s "
						  "at col %u: the join would get that branch's reference to a "
						  "packet passes after the others' (intersect would drop the "
						  "packet, union pass it twice). Put it before the split or "
						  "after the join", d->nodes[h].col, node_word(&d->nodes[h]),
						  d->nodes[h].named ? " (" : "",
						  d->nodes[h].named ? d->nodes[h].filter : "",
						  d->nodes[h].named ? ")" : "", d->nodes[j].filter,
						  d->nodes[j].col);
			}
		}
	}
	return 0;
}

uint16_t
bl_graph_burst_for(const struct bl_gdesc *d, uint16_t burst, unsigned int *paths)
{
	uint64_t npaths[BL_GRAPH_MAX_NODES] = { 0 };
	unsigned int indeg[BL_GRAPH_MAX_NODES] = { 0 }, queue[BL_GRAPH_MAX_NODES];
	unsigned int n = d->n_nodes, head = 0, tail = 0, most = 1;

	if (burst == 0 || burst > BL_BURST_MAX)
		burst = 32;
	if (paths != NULL)
		*paths = 1;
	if (n == 0 || n > BL_GRAPH_MAX_NODES)
		return burst;
	for (unsigned int k = 0; k < d->n_edges; k++)
		if (d->edges[k].from < n && d->edges[k].to < n)
			indeg[d->edges[k].to]++;
	for (unsigned int i = 0; i < n; i++)
		if (indeg[i] == 0) {
			npaths[i] = 1;
			queue[tail++] = i;
		}
	while (head < tail) {   /* Kahn: each filter once all that feed it were counted */
		unsigned int u = queue[head++];
		for (unsigned int k = 0; k < d->n_edges; k++) {
			unsigned int v = d->edges[k].to;
			if (d->edges[k].from != u || v >= n)
				continue;
			npaths[v] += npaths[u];
			if (npaths[v] > BL_BURST_MAX)
				npaths[v] = BL_BURST_MAX;
			if (--indeg[v] == 0)
				queue[tail++] = v;
		}
	}
	if (tail < n)   /* a cycle */
		return burst;
	for (unsigned int i = 0; i < n; i++)
		if (npaths[i] > most)
			most = (unsigned int)npaths[i];
	if (paths != NULL)
		*paths = most;
	return burst * most <= BL_BURST_MAX ? burst : (uint16_t)(BL_BURST_MAX / most);
}

int
bl_graph_build(const struct bl_gdesc *d, const struct bl_graph_env *env,
	       struct bl_graph **out, struct bl_err *err)
{
	struct bl_graph *g;
	int rc = 0;

	*out = NULL;
	if (d->n_nodes == 0)
		return bl_err_set(err, -EINVAL, "the graph is empty");
	if (d->n_nodes > BL_GRAPH_MAX_NODES)
		return bl_err_set(err, -E2BIG, "the graph has %u filters, at most %d are allowed",
				  d->n_nodes, BL_GRAPH_MAX_NODES);
	if ((rc = check_joins(d, err)) != 0)
		return rc;
	if (!env->dry && bl_class_dynfield < 0 && (rc = bl_graph_global_init(err)) != 0)
		return rc;
	g = zalloc(env->dry, sizeof(*g), err, "the graph");
	if (g == NULL)
		return -ENOMEM;
	g->env = *env;
	g->env.burst = env->burst_exact && env->burst != 0 && env->burst <= BL_BURST_MAX ?
		env->burst : bl_graph_burst_for(d, env->burst, NULL);
	bool all = g->env.dry && g->env.dry_error != NULL;   /* every filter's error */
	struct bl_err first = { 0 };

	for (unsigned int i = 0; i < d->n_nodes && (rc == 0 || all); i++) {
		int r = make_filter(g, d, i, err);

		if (r != 0 && all) {
			g->env.dry_error(g->env.dry_error_ctx, err);
			if (rc == 0)
				first = *err;
		}
		if (r != 0 && rc == 0)
			rc = r;
	}
	if (rc != 0 && all)
		*err = first;
	if (rc == 0)
		rc = link_edges(g, d, err);
	if (rc == 0) {
		bl_graph__order(g);
		if (g->n_sources == 0)
			rc = bl_err_set(err, -EINVAL, "the graph has no source (rx, gen, ...): nothing would flow");
	}
	/* Activation runs from sinks to sources: the topological order backwards.
	 * A dry run activates nothing: it stops at the filters' checks. */
	for (unsigned int i = g->n_filters; rc == 0 && !g->env.dry && i-- > 0;) {
		struct bl_filter *f = g->order[i];
		if (f->from != NULL) {   /* started as the running instance */
			if (f->ops->adopt != NULL && (rc = f->ops->adopt(f, err)) != 0)
				break;
			continue;
		}
		if ((rc = step(err, "a filter's start")) != 0)
			break;
		if (f->ops->start != NULL && (rc = f->ops->start(f, err)) != 0)
			break;
		f->started = 1;
	}
	if (rc != 0) {
		undo(g);
		return rc;
	}
	*out = g;
	return 0;
}

void
bl_graph_commit(struct bl_graph *g)
{
	if (g->env.dry)
		return;
	for (unsigned int i = g->n_filters; i-- > 0;) {
		struct bl_filter *f = g->order[i];
		if (f->from != NULL) {
			/* The state is this instance's now; the worker carries the runtime
			 * counters over when it first runs this graph (bl_graph_handover). */
			f->from->given = 1;
			f->from->claimed = 0;
			f->st_from = f->from;
			f->from = NULL;
			if (f->ops->adopt_commit != NULL)
				f->ops->adopt_commit(f);
		} else if (f->ops->commit != NULL) {
			f->ops->commit(f);
		}
	}
}

/* Two runtime labels carry the same classes. */
static bool
same_label_rt(const struct bl_label_rt *a, const struct bl_label_rt *b)
{
	if (a->kind != b->kind || a->invert != b->invert || a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->lo[i] != b->lo[i] || a->hi[i] != b->hi[i])
			return false;
	return true;
}

/*
 * The instance whose runtime counters f takes over: the one it was adopted from, or, if
 * that one never ran (two reloads while this worker was held: it took up neither set in
 * between), the one that one was adopted from, and so on to the last that ran. Its
 * st_from is cleared only by this worker's handover of its own graph, and every instance
 * in the chain is freed only once this worker passed the epoch after this handover. It
 * was the first one only: the counters of the one that ran were lost for good.
 */
static const struct bl_filter *
stats_origin(const struct bl_filter *f)
{
	const struct bl_filter *w = f->st_from;

	while (w != NULL && w->st_from != NULL)
		w = w->st_from;
	return w;
}

/* The counters of each out-edge of f that the old instance had too (the same label, to
 * the filter the new end took over: both ends adopted): carried over; a new edge, or
 * one to a filter built anew, starts at 0 (as that filter's own counters do, so its
 * in-edges still sum to its input; the sum of an adopted filter's in-edges counts from
 * when they were made). f's and its ends' st_from are still set. */
static void
handover_edges(struct bl_filter *f, const struct bl_filter *was)
{
	for (uint16_t k = 0; k < f->n_out; k++) {
		struct bl_edge_rt *e = &f->out[k];
		const struct bl_filter *to_was = stats_origin(e->to);
		for (uint16_t j = 0; j < was->n_out; j++) {
			const struct bl_edge_rt *o = &was->out[j];
			if (to_was == NULL || to_was != o->to || !same_label_rt(&o->label, &e->label))
				continue;
			/* relaxed: as for the filter's counters below */
			__atomic_store_n(&e->pkts, o->pkts, __ATOMIC_RELAXED);
			__atomic_store_n(&e->cls_other, o->cls_other, __ATOMIC_RELAXED);
			for (unsigned int c = 0; c < BL_EDGE_CLASS_SLOTS; c++) {
				__atomic_store_n(&e->cls[c].cls, o->cls[c].cls, __ATOMIC_RELAXED);
				__atomic_store_n(&e->cls[c].n, o->cls[c].n, __ATOMIC_RELAXED);
			}
			break;
		}
	}
}

void
bl_graph_handover(struct bl_graph *g)
{
	_Static_assert(sizeof(struct bl_filter_stats) % sizeof(uint64_t) == 0, "copied as words");
	for (unsigned int i = 0; i < g->n_filters; i++)   /* every st_from still set */
		if (g->filters[i]->st_from != NULL)
			handover_edges(g->filters[i], stats_origin(g->filters[i]));
	for (unsigned int i = 0; i < g->n_filters; i++) {
		struct bl_filter *f = g->filters[i];
		if (f->st_from == NULL)
			continue;
		uint64_t *to = (uint64_t *)&f->st;
		const uint64_t *was = (const uint64_t *)&stats_origin(f)->st;
		/* This lcore wrote both (the old instance until this pass, the new one not
		 * yet). relaxed: pairs with the relaxed loads of the stats readers. */
		for (size_t k = 0; k < sizeof(f->st) / sizeof(uint64_t); k++)
			__atomic_store_n(&to[k], was[k], __ATOMIC_RELAXED);
		f->st_from = NULL;
	}
}

unsigned int
bl_graph_n_adopted(const struct bl_graph *g)
{
	return g->n_adopted;
}

void
bl_graph_drain(struct bl_graph *g)
{
	for (unsigned int i = 0; i < g->n_filters; i++)
		if (g->order[i]->started && !g->order[i]->given && g->order[i]->ops->drain != NULL)
			g->order[i]->ops->drain(g->order[i]);
}

void
bl_graph_free(struct bl_graph *g)
{
	if (g != NULL)
		undo(g);
}

unsigned int
bl_graph_n_filters(const struct bl_graph *g)
{
	return g->n_filters;
}

const struct bl_filter *
bl_graph_filter(const struct bl_graph *g, unsigned int i)
{
	return i < g->n_filters ? g->filters[i] : NULL;
}

struct bl_filter *
bl_graph_filter_by_name(struct bl_graph *g, const char *name)
{
	for (unsigned int i = 0; i < g->n_filters; i++)
		if (strcmp(g->filters[i]->name, name) == 0)
			return g->filters[i];
	return NULL;
}

const struct bl_graph_env *
bl_graph_env(const struct bl_filter *f)
{
	return &f->graph->env;
}

bool
bl_graph_dry(const struct bl_filter *f)
{
	return f->graph->env.dry;
}

uint32_t
bl_graph_data_room(const struct bl_filter *f)
{
	const struct bl_graph_env *env = &f->graph->env;

	if (env->pool == NULL)
		return env->data_room;
	return rte_pktmbuf_data_room_size(env->pool) - RTE_PKTMBUF_HEADROOM;
}

const struct bl_graph_port *
bl_graph_port(const struct bl_filter *f, const char *name, const char *key, struct bl_err *err)
{
	const struct bl_graph_env *env = &f->graph->env;
	const char *names[BL_GRAPH_MAX_PORTS + 1];

	for (unsigned int i = 0; i < env->n_ports; i++) {
		if (strcmp(env->ports[i].name, name) == 0)
			return &env->ports[i];
		names[i] = env->ports[i].name;
	}
	names[env->n_ports] = NULL;
	const char *s = bl_suggest(name, names);
	if (s != NULL)
		bl_err_set(err, -ENODEV, "%s: no port named \"%s\" (did you mean \"%s\"?)", key, name, s);
	else
		bl_err_set(err, -ENODEV, "%s: no port named \"%s\"", key, name);
	return NULL;
}

const struct bl_graph_stats *
bl_graph_stats(const struct bl_graph *g)
{
	return &g->st;
}
