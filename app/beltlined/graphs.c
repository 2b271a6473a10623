/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From the config to running graphs. Every graphs[i] entry runs one replica
 * on each of its lcores; every fixed-forwarding workers[i] entry is the
 * graph `rx port=A queue=Q | tx port=B` (one statement per polled queue) on
 * its lcore. Errors name where they come from: "graphs[0].pipeline: col 17:".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bl_log.h"
#include "bl_pipe.h"
#include "bl_stream.h"
#include "graphs.h"
#include "limbo.h"
#include "tap.h"

struct source {
	char origin[32];       /* "graphs[0]" or "workers[1]" */
	const char *text;
	bool json;
	unsigned int n_parts;          /* "pipeline" was an array: bl_cfg_graph.part_at */
	const uint16_t *part_at;
	unsigned int n_lcores;
	const unsigned int *lcores;
	char buf[BL_CFG_PIPE_MAX];
};

/* Say it when a graph takes a smaller burst than the config's (bl_graph_burst_for). */
static void
say_burst(const struct source *s, const struct bl_gdesc *g, uint16_t burst)
{
	unsigned int paths;
	uint16_t b = bl_graph_burst_for(g, burst, &paths);

	if (b < burst)
		bl_log(BL_LOG_NOTICE, "%s: burst %u lowered to %u in this graph: a filter is reached "
		       "by %u paths (branches joined again, several sources), and its input holds "
		       "%u packets a pass", s->origin, burst, b, paths, BL_CFG_MAX_BURST);
}

/* The k-th graph source of cfg (graphs first, then workers); false past the end. */
static bool
source_at(const struct bl_cfg *cfg, unsigned int k, struct source *s)
{
	if (k < cfg->n_graphs) {
		const struct bl_cfg_graph *g = &cfg->graphs[k];
		snprintf(s->origin, sizeof(s->origin), "graphs[%u]", k);
		s->text = g->text;
		s->json = g->json;
		s->n_parts = g->n_parts;
		s->part_at = g->part_at;
		s->n_lcores = g->n_lcores;
		s->lcores = g->lcores;
		return true;
	}
	k -= cfg->n_graphs;
	if (k >= cfg->n_workers)
		return false;
	const struct bl_cfg_worker *w = &cfg->workers[k];
	size_t n = 0;
	snprintf(s->origin, sizeof(s->origin), "workers[%u]", k);
	s->buf[0] = '\0';
	for (unsigned int i = 0; i < w->n_polls; i++)
		n += (size_t)snprintf(s->buf + n, n < sizeof(s->buf) ? sizeof(s->buf) - n : 0,
				      "%srx port=%s queue=%u | tx port=%s", i ? "; " : "",
				      cfg->ports[w->polls[i].port].name, w->polls[i].queue,
				      cfg->ports[w->polls[i].tx_port].name);
	s->text = s->buf;
	s->json = false;
	s->n_parts = 0;
	s->n_lcores = 1;
	s->lcores = &w->lcore;
	return true;
}

/* Share common prefixes, then hold g to the builder's size (so --check does too). */
static int
share(struct bl_gdesc *g, struct bl_err *err)
{
	if (bl_graph_share_prefixes(g) < 0 || bl_gdesc_renumber(g) < 0)
		return bl_err_set(err, -ENOMEM, "out of memory");
	if (g->n_nodes > BL_GRAPH_MAX_NODES)
		return bl_err_set(err, -E2BIG, "the graph has %u filters once common prefixes are "
				  "shared, at most %d are allowed", g->n_nodes, BL_GRAPH_MAX_NODES);
	return 0;
}

/*
 * Where a problem is, as the user wrote it: "graphs[0].pipeline: col 17: ..." for one
 * text; for a "pipeline" array, the element and its own column, "graphs[0].pipeline[3]:
 * col 5: ..." (the parser saw the elements joined with "; ").
 */
static void
blame(const struct source *s, const char *where, const char *msg, char *out, size_t n)
{
	unsigned int col, j = 0;
	int at = 0;

	if (s->n_parts > 1 && strcmp(where, ".pipeline") == 0 &&
	    sscanf(msg, "col %u: %n", &col, &at) == 1 && at > 0 && col > 0) {
		while (j + 1 < s->n_parts && s->part_at[j + 1] < col)
			j++;
		if (col > s->part_at[j]) {
			snprintf(out, n, "%s.pipeline[%u]: col %u: %s", s->origin, j,
				 col - s->part_at[j], msg + at);
			return;
		}
	}
	/* JSON nodes have no column: their messages name the node ("g: size: ...") */
	if (strncmp(msg, "col 0: ", 7) == 0)
		msg += 7;
	snprintf(out, n, "%s%s: %s", s->origin, where, msg);
}

/* Parse one source into g; on error `where` says which key to blame. any_filter: a name
 * that is no filter is left to the build to say (the dry run's, which goes on to the
 * graph's other filters); else the parse refuses it. */
static int
parse_source(const struct source *s, struct bl_gdesc *g, struct bl_err *err, const char **where,
	     bool any_filter)
{
	struct bl_pipe_opts opts = { .filters = any_filter ? NULL : bl_filter_names() };
	char path[64];
	cJSON *obj;
	int rc;

	bl_gdesc_init(g);
	if (!s->json) {
		*where = strncmp(s->origin, "graphs", 6) == 0 ? ".pipeline" : ".poll";
		rc = bl_pipe_parse(s->text, &opts, g, err);
		return rc == 0 ? share(g, err) : rc;
	}
	*where = "";   /* bl_gdesc_from_json names the path itself */
	snprintf(path, sizeof(path), "%s.graph", s->origin);
	obj = cJSON_Parse(s->text);
	if (obj == NULL)
		return bl_err_set(err, -EINVAL, "%s: not valid JSON", path);
	rc = bl_gdesc_from_json(obj, path, &opts, g, err);
	cJSON_Delete(obj);
	if (rc != 0)
		return rc;
	*where = ".graph";
	return share(g, err);
}

int
bl_app_graph_desc(const struct bl_cfg *cfg, unsigned int k, struct bl_gdesc *g, struct bl_err *err)
{
	static struct source s;
	const char *where = "";
	char msg[BL_ERR_MSG_MAX];
	int rc;

	bl_gdesc_init(g);
	if (!source_at(cfg, k, &s))
		return bl_err_set(err, -ENOENT, "no graph source %u", k);
	rc = parse_source(&s, g, err, &where, false);
	if (rc != 0) {
		blame(&s, where, err->msg, msg, sizeof(msg));
		bl_gdesc_free(g);   /* empty again */
		return bl_err_set(err, rc, "%s", msg);
	}
	return 0;
}

/* The ports a graph sees: cfg's, with their DPDK ids (a reload's new config's). */
static void
env_ports(struct bl_graph_env *env, const struct bl_cfg *cfg, const uint16_t *port_id,
	  const struct bl_worker *w)
{
	env->n_ports = cfg->n_ports;
	for (unsigned int p = 0; p < cfg->n_ports; p++) {
		struct bl_graph_port *gp = &env->ports[p];
		snprintf(gp->name, sizeof(gp->name), "%s", cfg->ports[p].name);
		gp->port_id = port_id[p];
		gp->rx_queues = cfg->ports[p].rx_queues;
		gp->tx_queues = cfg->ports[p].tx_queues;
		/* bl_port.c cut the default (one per worker) to what the device has */
		gp->tx_queues_device = cfg->ports[p].tx_queues_auto;
		gp->tx_single_seg = cfg->ports[p].tx_single_seg;
		gp->tx_queue = (uint16_t)w->idx;
	}
}

static void
fill_env(const struct bl_app *app, const struct bl_worker *w, const struct source *s,
	 unsigned int replica, struct bl_graph_env *env)
{
	memset(env, 0, sizeof(*env));
	env->dry = app->pool == NULL;
	env->data_room = app->cfg.mbuf_data_room > RTE_PKTMBUF_HEADROOM ?
			 app->cfg.mbuf_data_room - RTE_PKTMBUF_HEADROOM : 0;
	env->pool = app->pool;
	env->dbuf = app->dbuf;
	env->pkt_mode = app->cfg.pkt_mode;
	env->lcore = w->lcore;
	env->replica = replica;
	env->n_replicas = s->n_lcores;
	env->burst = (uint16_t)app->cfg.burst;
	env->rx_claims = (uint64_t *)app->rx_claims;
	env_ports(env, &app->cfg, app->port_id, w);
}

static struct bl_worker *
worker_of(struct bl_app *app, unsigned int lcore)
{
	for (unsigned int i = 0; i < app->n_workers; i++)
		if (app->workers[i].lcore == lcore)
			return &app->workers[i];
	return NULL;
}

int
bl_app_graphs_build(struct bl_app *app)
{
	static struct source s;
	unsigned int lcores[BL_CFG_MAX_WORKERS];

	app->n_workers = bl_cfg_worker_lcores(&app->cfg, lcores);
	for (unsigned int i = 0; i < app->n_workers; i++) {
		memset(&app->workers[i], 0, sizeof(app->workers[i]));
		app->workers[i].lcore = lcores[i];
		app->workers[i].idx = i;
		app->workers[i].idle_sleep_us = app->cfg.idle_sleep_us;
	}
	for (unsigned int k = 0; source_at(&app->cfg, k, &s); k++) {
		for (unsigned int r = 0; r < s.n_lcores; r++) {
			struct bl_worker *w = worker_of(app, s.lcores[r]);
			struct bl_graph_env env;
			struct bl_gdesc g;
			struct bl_err err;
			const char *where = "";
			int rc;

			bl_err_clear(&err);
			fill_env(app, w, &s, r, &env);
			rc = parse_source(&s, &g, &err, &where, false);
			if (rc == 0 && r == 0)
				say_burst(&s, &g, env.burst);
			if (rc == 0)
				rc = bl_graph_build(&g, &env, &w->graphs[w->n_graphs], &err);
			bl_gdesc_free(&g);
			if (rc != 0) {
				char msg[BL_ERR_MSG_MAX + 64];
				blame(&s, where, err.msg, msg, sizeof(msg));
				fprintf(stderr, "%s\n", msg);
				return -EINVAL;
			}
			snprintf(w->origin[w->n_graphs], sizeof(w->origin[0]), "%s", s.origin);
			w->replica[w->n_graphs] = r;
			w->n_graphs++;
		}
	}
	bl_app_say_unpolled(app);
	return 0;
}

/*
 * A port some rx polls but not on every queue: what the device steers to the others
 * (RSS, af_packet's fanout, a capture per queue) is never read, and the devices that
 * drop it count nothing (net_af_packet and net_tap in DPDK 22.11 have no imissed),
 * so say it at the start. A port no rx polls (sent to only) is meant so.
 */
void
bl_app_say_unpolled(const struct bl_app *app)
{
	for (unsigned int p = 0; p < app->cfg.n_ports; p++) {
		const struct bl_cfg_port *cp = &app->cfg.ports[p];
		uint64_t all = cp->rx_queues >= 64 ? UINT64_MAX : (1ull << cp->rx_queues) - 1;
		uint64_t none = all & ~app->rx_claims[p];
		char list[64 * 4] = "";
		size_t n = 0;

		if (app->rx_claims[p] == 0 || none == 0)
			continue;
		for (unsigned int q = 0; q < cp->rx_queues && n < sizeof(list); q++)
			if (none & (1ull << q))
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", n ? ", " : "", q);
		bl_log(BL_LOG_WARNING, "ports[%u] (%s): rx queue%s %s of %u polled by no rx: what the "
		       "device puts there (RSS, af_packet's fanout, a capture per queue) is never "
		       "read, and devices without imissed (net_af_packet, net_tap) count none of "
		       "what they drop; poll every queue (rx "
		       "without queue=, or a poller per queue) or lower rx_queues", p, cp->name,
		       __builtin_popcountll(none) == 1 ? "" : "s", list, cp->rx_queues);
	}
}

/*
 * The dry run: every replica of every graph built as the start would build it,
 * with no EAL, no device and no pool (bl_graph_env.dry), and freed: each filter's
 * own init checks its arguments (bpf compiled, ports named, users and groups,
 * files writable, stream names) and makes nothing outside the process. Every
 * problem goes to diag (one per graph: a graph's replicas would repeat it).
 */
/* A dry build's filter errors, each to diag as check() would say the first. */
struct dry_errors {
	const struct source *s;
	const char *where;
	struct bl_diag *diag;
	unsigned int n;
};

static void
dry_error(void *ctx, const struct bl_err *err)
{
	struct dry_errors *x = ctx;
	char msg[BL_ERR_MSG_MAX + 64];

	if (x->where[0] != '\0') {
		blame(x->s, x->where, err->msg, msg, sizeof(msg));
		bl_diag_add(x->diag, "%s", msg);
	} else {
		bl_diag_add(x->diag, "%s", err->msg);
	}
	x->n++;
}

/* A syntax error in one element of a "pipeline" array ends the graph's parse; the
 * later elements are parsed each alone for theirs, so one run says them all. An element
 * alone is a part of the whole (a node named in another is a node of its own here), so
 * what it says is wrong is wrong in the whole too. The filters' own checks need the
 * whole graph: they wait for the syntax to be fixed. */
/* Does text[0..n) close every string it opens ("...", with \" and \\ escapes)? */
static bool
quotes_closed(const char *text, size_t n)
{
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (in && text[i] == '\\' && i + 1 < n)
			i++;
		else if (text[i] == '"')
			in = !in;
	}
	return !in;
}

static void
later_parts(const struct source *s, const struct bl_err *first, struct bl_diag *diag)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	static char part[BL_CFG_PIPE_MAX];
	unsigned int col, j = 0;

	if (s->json || s->n_parts < 2 || sscanf(first->msg, "col %u:", &col) != 1)
		return;
	while (j + 1 < s->n_parts && s->part_at[j + 1] < col)
		j++;
	/* A string may run from one element into the next (they are joined with "; "):
	 * then an element alone is not a part of the whole. */
	if (!quotes_closed(s->text, strlen(s->text)))
		return;
	for (unsigned int k = 0; k < s->n_parts; k++) {
		size_t end = k + 1 < s->n_parts ? (size_t)s->part_at[k + 1] - 2 : strlen(s->text);

		if (!quotes_closed(s->text + s->part_at[k], end - s->part_at[k]))
			return;
	}
	for (unsigned int k = j + 1; k < s->n_parts; k++) {
		size_t end = k + 1 < s->n_parts ? (size_t)s->part_at[k + 1] - 2 : strlen(s->text);
		char moved[BL_ERR_MSG_MAX + 16], msg[BL_ERR_MSG_MAX + 64];
		struct bl_gdesc g;
		struct bl_err err;
		unsigned int c;
		int at = 0;

		snprintf(part, sizeof(part), "%.*s", (int)(end - s->part_at[k]),
			 s->text + s->part_at[k]);
		bl_gdesc_init(&g);
		bl_err_clear(&err);
		if (bl_pipe_parse(part, &opts, &g, &err) < 0 &&
		    sscanf(err.msg, "col %u: %n", &c, &at) == 1 && at > 0) {
			snprintf(moved, sizeof(moved), "col %u: %s", c + s->part_at[k], err.msg + at);
			blame(s, ".pipeline", moved, msg, sizeof(msg));
			bl_diag_add(diag, "%s", msg);
		}
		bl_gdesc_free(&g);
	}
}

/* The dry run: every graph built against a pool of pool_n mbufs (0: the config's);
 * *rings (may be NULL): the slots its streams reserve in the pool. */
static int
check(const struct bl_cfg *cfg, bool beside_live, unsigned int pool_n, struct bl_diag *diag,
      uint64_t *rings)
{
	static struct source s;
	static struct bl_app dry;   /* no pool: a dry run; port ids are indices */
	unsigned int lcores[BL_CFG_MAX_WORKERS];
	int rc = 0;

	memset(&dry, 0, sizeof(dry));
	dry.cfg = *cfg;
	dry.n_workers = bl_cfg_worker_lcores(cfg, lcores);
	for (unsigned int i = 0; i < dry.n_workers; i++) {
		dry.workers[i].lcore = lcores[i];
		dry.workers[i].idx = i;
	}
	for (unsigned int p = 0; p < cfg->n_ports; p++)
		dry.port_id[p] = (uint16_t)p;
	char pool_name[64];
	snprintf(pool_name, sizeof(pool_name), "bl_%s_pkts", cfg->instance);   /* as app.c names it */
	struct bl_stream_dry_pool pool = {
		.name = pool_name, .n_mbufs = pool_n != 0 ? pool_n : bl_cfg_pool_size(cfg),
		.min_free = bl_cfg_mbufs_needed(cfg),
		.uid = geteuid(), .gid = getegid(), .mode = (mode_t)cfg->pkt_mode,
		.count_key = "mbufs.count", .beside_live = beside_live,
	};
	bl_stream_check_reset(&pool);
	for (unsigned int k = 0; source_at(cfg, k, &s); k++) {
		for (unsigned int r = 0; r < s.n_lcores; r++) {
			struct bl_worker *w = worker_of(&dry, s.lcores[r]);
			struct bl_graph_env env;
			struct bl_graph *g = NULL;
			struct bl_gdesc d;
			struct bl_err err;
			const char *where = "";
			struct dry_errors more = { .s = &s, .diag = diag };
			bool parsed;
			int brc;

			bl_err_clear(&err);
			brc = parse_source(&s, &d, &err, &where, true);
			parsed = brc == 0;
			if (brc == 0 && w == NULL)
				brc = bl_err_set(&err, -EINVAL, "lcore %u runs no worker", s.lcores[r]);
			if (brc == 0) {
				fill_env(&dry, w, &s, r, &env);
				/* every filter's bad argument, not the first alone */
				more.where = where[0] != '\0' ? where : ".graph";
				env.dry_error = dry_error;
				env.dry_error_ctx = &more;
				brc = bl_graph_build(&d, &env, &g, &err);
				if (brc != 0 && where[0] == '\0')
					where = ".graph";
			}
			if (g != NULL)   /* kept to the end, as a start keeps them: rx claims, names */
				w->graphs[w->n_graphs++] = g;
			bl_gdesc_free(&d);
			if (brc != 0 && more.n != 0) {
				rc = -EINVAL;   /* said, each one, by dry_error */
				break;
			}
			if (brc != 0) {
				if (where[0] != '\0') {
					char msg[BL_ERR_MSG_MAX + 64];
					blame(&s, where, err.msg, msg, sizeof(msg));
					bl_diag_add(diag, "%s", msg);
				}
				else    /* the message names its JSON path itself */
					bl_diag_add(diag, "%s", err.msg);
				if (!parsed)
					later_parts(&s, &err, diag);
				rc = -EINVAL;
				break;
			}
		}
	}
	bl_app_graphs_free(&dry);
	if (rings != NULL)
		*rings = bl_stream_check_reserved();
	bl_stream_check_reset(NULL);
	return rc;
}

int
bl_app_graphs_check(const struct bl_cfg *cfg, struct bl_diag *diag)
{
	return check(cfg, false, 0, diag, NULL);
}

int
bl_app_graphs_check_beside(const struct bl_cfg *cfg, unsigned int pool_n, struct bl_diag *diag)
{
	return check(cfg, true, pool_n, diag, NULL);
}

int
bl_app_graphs_check_sizing(const struct bl_cfg *cfg, struct bl_diag *diag, unsigned int *rings)
{
	uint64_t n = 0;
	int rc = check(cfg, false, UINT32_MAX, diag, &n);

	*rings = n < BL_CFG_MBUFS_MAX ? (unsigned int)n : BL_CFG_MBUFS_MAX;
	return rc;
}

static bool
same_source(const struct source *a, const struct source *b)
{
	return a->json == b->json && a->n_lcores == b->n_lcores && strcmp(a->text, b->text) == 0 &&
	       memcmp(a->lcores, b->lcores, a->n_lcores * sizeof(a->lcores[0])) == 0;
}

/* The graphs a swap built, for its rollback. */
struct built {
	unsigned int n;
	struct bl_graph *g[BL_CFG_MAX_WORKERS * BL_WORKER_MAX_GRAPHS];
};

static void
graph_free(void *g)
{
	bl_graph_free(g);
}

static void
built_free(struct built *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		bl_graph_free(b->g[i]);
	b->n = 0;
}

/* The same node for a build's taking over: name, filter, negation and arguments. */
static bool
same_node(const struct bl_gdesc_node *a, const struct bl_gdesc_node *b)
{
	if (strcmp(a->filter, b->filter) != 0 || a->negate != b->negate || a->args.n != b->args.n)
		return false;
	for (unsigned int i = 0; i < a->args.n; i++) {
		const struct bl_arg *x = &a->args.v[i], *y = &b->args.v[i];
		if ((x->key == NULL) != (y->key == NULL) ||
		    (x->key != NULL && strcmp(x->key, y->key) != 0) || strcmp(x->value, y->value) != 0)
			return false;
	}
	return true;
}

/* How alike new source s and running source o are: the filters of s that o has too
 * (by name, with the same filter and arguments), which a build of s could take over. */
static unsigned int
likeness(const struct source *s, const struct source *o)
{
	struct bl_gdesc a, b;
	struct bl_err e;
	const char *where;
	unsigned int n = 0;

	if (parse_source(s, &a, &e, &where, true) == 0 && parse_source(o, &b, &e, &where, true) == 0)
		for (unsigned int i = 0; i < a.n_nodes; i++) {
			int k = bl_gdesc_find(&b, a.nodes[i].name);
			n += k >= 0 && same_node(&a.nodes[i], &b.nodes[k]);
		}
	bl_gdesc_free(&a);
	bl_gdesc_free(&b);
	return n;
}

/*
 * Which running source each changed source of ncfg may take state from (from[k]: its
 * index in app->cfg, or -1): the one not kept whole that has most of its filters, each
 * taken by one source at most; of equals, the one at the same place, then the first. It
 * was the one at the same place ("graphs[1]"), whatever it ran: with a graph removed
 * before it, a changed graph took the removed one's counters and left its own state.
 */
static void
pair_sources(const struct bl_app *app, const struct bl_cfg *ncfg, const int *was_src,
	     const bool *kept_src, int *from)
{
	static struct source s, o;
	bool taken[BL_CFG_MAX_GRAPHS + BL_CFG_MAX_WORKERS] = { false };

	for (unsigned int k = 0; source_at(ncfg, k, &s); k++) {
		unsigned int best = 0;

		from[k] = -1;
		if (was_src[k] >= 0)
			continue;
		for (unsigned int j = 0; source_at(&app->cfg, j, &o); j++) {
			unsigned int n;

			if (kept_src[j] || taken[j] || (n = likeness(&s, &o)) == 0)
				continue;
			if (n > best || (n == best && strcmp(o.origin, s.origin) == 0)) {
				best = n;
				from[k] = (int)j;
			}
		}
		if (from[k] >= 0)
			taken[from[k]] = true;
	}
}

/* Build source s's replicas into the new views nw (its graphs also listed in b).
 * kept: the running graphs that stay whole; of the others, a replica's graph of
 * origin from (pair_sources; NULL: none) on the same lcore is what its filters may
 * take state from. */
static int
build_source(struct bl_app *app, const struct source *s, const char *from,
	     const struct bl_cfg *ncfg, const uint16_t *port_id, struct bl_worker *nw,
	     struct built *b, bool (*kept)[BL_WORKER_MAX_GRAPHS], struct bl_err *err)
{
	for (unsigned int r = 0; r < s->n_lcores; r++) {
		struct bl_worker *ow = worker_of(app, s->lcores[r]);
		struct bl_graph_env env;
		struct bl_gdesc g;
		const char *where = "";
		struct bl_graph *out = NULL;
		int rc;

		if (ow == NULL)
			return bl_err_set(err, -EINVAL, "%s: lcore %u runs no worker: needs a restart",
					  s->origin, s->lcores[r]);
		struct bl_worker *w = &nw[ow->idx];
		fill_env(app, ow, s, r, &env);
		env.rx_claims = NULL;   /* the dry run of the whole config checked them */
		env_ports(&env, ncfg, port_id, ow);
		struct bl_graph *was[BL_WORKER_MAX_GRAPHS];
		env.adopt = was;
		env.n_adopt = 0;
		for (unsigned int x = 0; x < ow->n_graphs; x++)
			if (!kept[ow->idx][x] && ow->replica[x] == r && from != NULL &&
			    strcmp(ow->origin[x], from) == 0)
				was[env.n_adopt++] = ow->graphs[x];
		rc = parse_source(s, &g, err, &where, false);
		if (rc == 0 && r == 0)
			say_burst(s, &g, env.burst);
		if (rc == 0)
			rc = bl_graph_build(&g, &env, &out, err);
		bl_gdesc_free(&g);
		if (rc != 0) {
			char msg[BL_ERR_MSG_MAX + 64];
			if (where[0] != '\0' || strncmp(err->msg, s->origin, strlen(s->origin)) != 0) {
				blame(s, where[0] ? where : ".graph", err->msg, msg, sizeof(msg));
				bl_err_set(err, rc, "%s", msg);
			}
			return rc;
		}
		b->g[b->n++] = out;
		w->graphs[w->n_graphs] = out;
		snprintf(w->origin[w->n_graphs], sizeof(w->origin[0]), "%s", s->origin);
		w->replica[w->n_graphs] = r;
		w->n_graphs++;
	}
	return 0;
}

int
bl_app_graphs_swap(struct bl_app *app, const struct bl_cfg *ncfg, const uint16_t *port_id,
		   struct bl_err *err)
{
	static struct source s, o;
	static struct bl_worker nw[BL_CFG_MAX_WORKERS];   /* the new control views */
	static struct built b;
	struct bl_worker_run *runs[BL_CFG_MAX_WORKERS] = { NULL }, *runs1[BL_CFG_MAX_WORKERS] = { NULL };
	static struct bl_worker only_kept;
	bool two_phase = false, has_dead[BL_CFG_MAX_WORKERS] = { false };
	bool has_new[BL_CFG_MAX_WORKERS] = { false };
	bool kept_src[BL_CFG_MAX_GRAPHS + BL_CFG_MAX_WORKERS] = { false };
	bool kept[BL_CFG_MAX_WORKERS][BL_WORKER_MAX_GRAPHS];
	int rc = 0;

	memset(kept, 0, sizeof(kept));
	b.n = 0;
	for (unsigned int i = 0; i < app->n_workers; i++) {
		memset(&nw[i], 0, sizeof(nw[i]));
		nw[i].lcore = app->workers[i].lcore;
		nw[i].idx = i;
	}
	/* What did not change moves over whole; what changed is built beside what runs, its
	 * unchanged filters taking over their running instances' state (bl_graph_env.adopt).
	 * Which sources stay is settled first, so that no build takes state from a graph
	 * that stays; then the new views are filled in the config's order. */
	int was_src[BL_CFG_MAX_GRAPHS + BL_CFG_MAX_WORKERS];
	for (unsigned int k = 0; source_at(ncfg, k, &s); k++) {
		unsigned int j;
		for (j = 0; source_at(&app->cfg, j, &o); j++)
			if (!kept_src[j] && same_source(&s, &o))
				break;
		was_src[k] = -1;
		if (!source_at(&app->cfg, j, &o))
			continue;
		kept_src[j] = true;
		was_src[k] = (int)j;
		for (unsigned int i = 0; i < app->n_workers; i++)
			for (unsigned int x = 0; x < app->workers[i].n_graphs; x++)
				kept[i][x] |= strcmp(app->workers[i].origin[x], o.origin) == 0;
	}
	int from[BL_CFG_MAX_GRAPHS + BL_CFG_MAX_WORKERS];
	pair_sources(app, ncfg, was_src, kept_src, from);
	bl_stream_adopt(true);
	for (unsigned int k = 0; rc == 0 && source_at(ncfg, k, &s); k++) {
		if (was_src[k] < 0) {
			char origin[sizeof(o.origin)] = "";
			if (from[k] >= 0 && source_at(&app->cfg, (unsigned int)from[k], &o))
				snprintf(origin, sizeof(origin), "%s", o.origin);
			rc = build_source(app, &s, origin[0] ? origin : NULL, ncfg, port_id, nw, &b,
					  kept, err);
			continue;
		}
		source_at(&app->cfg, (unsigned int)was_src[k], &o);
		for (unsigned int i = 0; i < app->n_workers; i++) {
			struct bl_worker *w = &app->workers[i];
			for (unsigned int x = 0; x < w->n_graphs; x++) {
				if (strcmp(w->origin[x], o.origin) != 0)
					continue;
				nw[i].graphs[nw[i].n_graphs] = w->graphs[x];
				snprintf(nw[i].origin[nw[i].n_graphs], sizeof(nw[i].origin[0]), "%s",
					 s.origin);
				nw[i].replica[nw[i].n_graphs] = w->replica[x];
				nw[i].n_graphs++;
			}
		}
	}
	bl_stream_adopt(false);
	/*
	 * A graph removed from one worker while one is built on another may hand over an
	 * rx queue (or a ring) between lcores: then two phases, so that no two lcores ever
	 * poll one queue: first every worker drops what goes (an epoch), then takes what
	 * comes (another). Within one worker the swap is one step, between two passes.
	 */
	for (unsigned int i = 0; i < app->n_workers; i++) {
		for (unsigned int x = 0; x < app->workers[i].n_graphs; x++)
			has_dead[i] |= !kept[i][x];
		for (unsigned int x = 0; x < nw[i].n_graphs; x++)
			for (unsigned int k = 0; k < b.n; k++)
				has_new[i] |= nw[i].graphs[x] == b.g[k];
	}
	for (unsigned int i = 0; i < app->n_workers; i++)
		for (unsigned int j = 0; j < app->n_workers; j++)
			two_phase |= i != j && has_dead[i] && has_new[j];
	for (unsigned int i = 0; rc == 0 && i < app->n_workers; i++) {
		if (bl_graph_test_step_fails()) {
			rc = bl_err_set(err, -ENOMEM, "injected failure at the workers' graph sets");
			break;
		}
		if (two_phase) {
			const struct bl_worker *w = &app->workers[i];
			only_kept.n_graphs = 0;
			for (unsigned int x = 0; x < w->n_graphs; x++)
				if (kept[i][x])
					only_kept.graphs[only_kept.n_graphs++] = w->graphs[x];
			runs1[i] = bl_worker_run_make(&only_kept, app->epoch + 1);
		}
		runs[i] = bl_worker_run_make(&nw[i], app->epoch + (two_phase ? 2 : 1));
		if (runs[i] == NULL || (two_phase && runs1[i] == NULL))
			rc = bl_err_set(err, -ENOMEM, "out of memory for the workers' graph sets");
		else if (two_phase) {   /* published even if the first phase's wait runs out */
			runs[i]->after = app->epoch + 1;
			runs[i]->peers = app->workers;
			runs[i]->n_peers = app->n_workers;
		}
	}
	if (rc != 0) {   /* rolled back: nothing ran, the old graphs run on */
		for (unsigned int i = 0; i < app->n_workers; i++) {
			free(runs[i]);
			free(runs1[i]);
		}
		built_free(&b);
		return rc;
	}
	/* Nothing left to fail: what the new graphs create becomes visible, then they run. */
	for (unsigned int i = 0; i < b.n; i++)
		bl_graph_commit(b.g[i]);
	bl_app_taps_carry(app, nw);   /* tap.c: taps on adopted filters go on */
	if (two_phase) {
		for (unsigned int i = 0; i < app->n_workers; i++)
			bl_worker_publish(&app->workers[i], runs1[i]);
		app->epoch++;
		if (bl_worker_wait_epoch(app->workers, app->n_workers, app->epoch,
					 app->epoch_wait_s * 1000000ull)) {
			for (unsigned int i = 0; i < app->n_workers; i++)
				bl_worker_run_release(&app->workers[i]);
		} else {   /* a worker may still hold an old set: freed once it is past */
			bl_log(BL_LOG_WARNING, "reload: a worker did not pass epoch %llu in %u s: what "
			       "it ran is freed once it does", (unsigned long long)app->epoch,
			       app->epoch_wait_s);
			bl_limbo_add_runs(app, app->epoch);
		}
	}
	for (unsigned int i = 0; i < app->n_workers; i++)
		bl_worker_publish(&app->workers[i], runs[i]);
	app->epoch++;
	/* The graphs no worker runs once every worker passed the epoch: freed (a removed
	 * stream's readers are told "stream removed" as its writer leaves). */
	static struct built dead;
	dead.n = 0;
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct bl_worker *w = &app->workers[i];
		for (unsigned int x = 0; x < w->n_graphs; x++)
			if (!kept[i][x])
				dead.g[dead.n++] = w->graphs[x];
		w->n_graphs = nw[i].n_graphs;
		memcpy(w->graphs, nw[i].graphs, sizeof(w->graphs));
		memcpy(w->origin, nw[i].origin, sizeof(w->origin));
		memcpy(w->replica, nw[i].replica, sizeof(w->replica));
	}
	if (!bl_worker_wait_epoch(app->workers, app->n_workers, app->epoch,
				  app->epoch_wait_s * 1000000ull)) {
		/* held (a pcap sink writing into a FIFO nobody drains): the old graphs and
		 * sets go once every worker is past (limbo.c, from the watch loop) */
		bl_log(BL_LOG_WARNING, "reload: a worker did not pass epoch %llu in %u s: %u old "
		       "graph%s freed once it does", (unsigned long long)app->epoch,
		       app->epoch_wait_s, dead.n, dead.n == 1 ? " is" : "s are");
		for (unsigned int i = 0; i < dead.n; i++)
			bl_limbo_add(app, app->epoch, graph_free, dead.g[i], "a graph");
		dead.n = 0;
		bl_limbo_add_runs(app, app->epoch);
		return 0;
	}
	built_free(&dead);
	for (unsigned int i = 0; i < app->n_workers; i++)
		bl_worker_run_release(&app->workers[i]);
	return 0;
}

void
bl_app_graphs_commit(struct bl_app *app)
{
	for (unsigned int i = 0; i < app->n_workers; i++)
		for (unsigned int k = 0; k < app->workers[i].n_graphs; k++)
			bl_graph_commit(app->workers[i].graphs[k]);
}

void
bl_app_graphs_free(struct bl_app *app)
{
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct bl_worker *w = &app->workers[i];
		for (unsigned int k = 0; k < w->n_graphs; k++)
			bl_graph_free(w->graphs[k]);
		w->n_graphs = 0;
	}
}
