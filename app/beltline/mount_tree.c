/* SPDX-License-Identifier: BSD-3-Clause */
/* beltline mount's tree: what a path names (mount_tree.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "beltline.h"
#include "bl_time.h"
#include "mount_tree.h"

static const char *m_instance;
static pthread_mutex_t m_lock = PTHREAD_MUTEX_INITIALIZER;
static cJSON *m_stats;          /* the last stats reply (m_lock) */
static double m_stats_at;
static struct timespec m_stats_wall;   /* m_stats_at by the wall clock: files' times */

/* Each call of the instance waits M_CALL_MS at most (the lock is held: every operation
 * on the mount waits with it); after one that failed, none for a second. An instance
 * gone (its socket refuses, or is no more) loses its tree at once; one that does not
 * answer in time (stopped, or busy: a reload waits for its workers) keeps it M_STALE_S.
 * (The library's 10 s, tried again by every operation, made `ls` of a stopped instance's
 * tree take minutes; a dead instance's last counters were served for ever.) */
#define M_CALL_MS 1000
static void alias_check(const cJSON *st);
#define M_STALE_S 30.0
static double m_fail_at;        /* the last call that failed (m_lock); 0: none */

cJSON *
mount_stats_fetch(int timeout_ms)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = timeout_ms };
	struct beltline_ctl *c;
	char *reply = NULL;
	cJSON *j;
	int ok = 0, rc = beltline_ctl_open(m_instance, &o, &c), gone = rc == -ENOENT ||
		rc == -ECONNREFUSED;

	if (rc == 0) {
		if (beltline_ctl_call(c, BELTLINE_CTL_STATS, NULL, &reply) == 0 &&
		    (j = cJSON_Parse(reply)) != NULL) {
			alias_check(j);
			cJSON_Delete(m_stats);
			m_stats = j;
			m_stats_at = bl_mono_s();
			clock_gettime(CLOCK_REALTIME, &m_stats_wall);
			ok = 1;
		}
		free(reply);
		beltline_ctl_close(c);
	}
	m_fail_at = ok ? 0 : bl_mono_s();
	if (!ok && m_stats != NULL && (gone || bl_mono_s() - m_stats_at >= M_STALE_S)) {
		cJSON_Delete(m_stats);   /* gone for good, or too long: the tree empties */
		m_stats = NULL;
	}
	return m_stats;
}

/* The stats reply, at most a second old (M_STALE_S while the instance does not answer);
 * NULL if it has not answered for that long. m_lock held. */
cJSON *
mount_stats_now(void)
{
	double now = bl_mono_s();

	if (m_stats != NULL && now - m_stats_at < 1.0)
		return m_stats;
	if (m_fail_at != 0 && now - m_fail_at < 1.0) {
		if (m_stats != NULL && now - m_stats_at >= M_STALE_S) {
			cJSON_Delete(m_stats);
			m_stats = NULL;
		}
		return m_stats;
	}
	return mount_stats_fetch(M_CALL_MS);
}

/*
 * The stats reply lists filters and edges flat, each with its graph ("graphs[0].0":
 * where it comes from, then the replica). Replica 0 only: the others repeat it.
 */
bool
mount_first_replica(const cJSON *item)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(item, "graph");
	const char *dot = cJSON_IsString(g) ? strrchr(g->valuestring, '.') : NULL;

	return dot != NULL && strcmp(dot, ".0") == 0;
}

const char *
mount_str_of(const cJSON *item, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether an edge of graph leads from `from` (NULL: any filter) to `to`. */
bool
mount_has_edge(const cJSON *st, const char *graph, const char *from, const char *to)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(st, "edges"))
		if (strcmp(mount_str_of(e, "graph"), graph) == 0 && strcmp(mount_str_of(e, "to"), to) == 0 &&
		    (from == NULL || strcmp(mount_str_of(e, "from"), from) == 0))
			return true;
	return false;
}

/*
 * Names a mkdir gave (m_lock): the directory TEXT made under a filter stays an alias
 * of the filter it made (listed under its own name), so the path mkdir(2) asked for
 * resolves, then and after. The oldest goes when the table is full.
 */
#define ALIASES 64
static struct alias {
	char graph[48];             /* "graphs[0].0" */
	char parent[64];
	char text[256];             /* the path component as given */
	char name[64];              /* the filter it made */
} m_alias[ALIASES];
static unsigned int m_alias_next;

static const char *
alias_of(const char *graph, const char *parent, const char *text)
{
	for (unsigned int i = 0; i < ALIASES; i++)
		if (m_alias[i].name[0] != '\0' && strcmp(m_alias[i].graph, graph) == 0 &&
		    strcmp(m_alias[i].parent, parent) == 0 && strcmp(m_alias[i].text, text) == 0)
			return m_alias[i].name;
	return NULL;
}

void
mount_alias_add(const char *graph, const char *parent, const char *text, const char *name)
{
	struct alias *a = &m_alias[m_alias_next++ % ALIASES];

	if (strcmp(text, name) == 0 || strlen(text) >= sizeof(a->text))
		return;   /* its own name: no alias needed; too long: not kept */
	snprintf(a->graph, sizeof(a->graph), "%s", graph);
	snprintf(a->parent, sizeof(a->parent), "%s", parent);
	snprintf(a->text, sizeof(a->text), "%s", text);
	snprintf(a->name, sizeof(a->name), "%s", name);
}

/*
 * An alias holds while the filter it names is the one its mkdir made. Each stats reply
 * drops those whose filter (its edge from the parent) is gone, and all of them when the
 * running config was replaced since the last reply: a reload from the file (it drops
 * every live edit; reloads, which counts edits too, grew by more than live_edits did) or
 * an appliance started afresh (its uptime went back). An alias kept past that named
 * whatever filter took the name next: after `beltline reload` and a mkdir of bpf "udp"
 * (bpf2), `cat .../'bpf "udp"'/all` gave the packets of bpf2 when it was "tcp port 80",
 * and a mkdir of 'bpf "udp"' again said "File exists".
 */
static bool m_seen;
static double m_seen_reloads, m_seen_edits, m_seen_uptime;

static double
num_of(const cJSON *item, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void
alias_check(const cJSON *st)
{
	const cJSON *rl = cJSON_GetObjectItemCaseSensitive(st, "reload");
	double reloads = num_of(rl, "reloads"), edits = num_of(rl, "live_edits");
	double uptime = num_of(st, "uptime_s");
	bool replaced = m_seen && (uptime < m_seen_uptime || reloads < m_seen_reloads ||
				   reloads - m_seen_reloads != edits - m_seen_edits);

	for (unsigned int i = 0; i < ALIASES; i++)
		if (m_alias[i].name[0] != '\0' &&
		    (replaced || !mount_has_edge(st, m_alias[i].graph, m_alias[i].parent, m_alias[i].name)))
			m_alias[i].name[0] = '\0';
	m_seen = true;
	m_seen_reloads = reloads;
	m_seen_edits = edits;
	m_seen_uptime = uptime;
}

/* Forget the aliases of a filter rmdir removed (its name may be given again). */
void
mount_alias_drop(const char *graph, const char *name)
{
	for (unsigned int i = 0; i < ALIASES; i++)
		if (strcmp(m_alias[i].graph, graph) == 0 && strcmp(m_alias[i].name, name) == 0)
			m_alias[i].name[0] = '\0';
}

/* "NAME |LABEL" (or "NAME|LABEL"): NAME into name, LABEL into label; a component
 * that is only a name leaves label empty. False when comp is not of either form. */
static bool
split_label(const char *comp, char *name, size_t name_len, char *label, size_t label_len)
{
	size_t n = strspn(comp, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	const char *p = comp + n;

	label[0] = '\0';
	if (n == 0 || n >= name_len)
		return false;
	while (*p == ' ')
		p++;
	if (*p != '\0' && *p != '|')
		return false;
	if (*p == '|') {   /* a label's characters only: "count | count" is no name */
		size_t l = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789_-!:,");
		if (l == 0 || l >= label_len || p[1 + l] != '\0')
			return false;
		snprintf(label, label_len, "%.*s", (int)l, p + 1);
	}
	snprintf(name, name_len, "%.*s", (int)n, comp);
	return true;
}


/* The graph of a filter's stats entry ("graphs[1].0") without its replica: its length. */
size_t
mount_graph_len(const char *g)
{
	const char *dot = strrchr(g, '.');

	return dot != NULL ? (size_t)(dot - g) : strlen(g);
}

/* A source whose name another graph's source has too: the root lists both as
 * "graphs[N]:NAME" (the first one found was the only one reachable). */
bool
mount_source_twice(const cJSON *st, const cJSON *src)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "filters"))
		if (x != src && mount_first_replica(x) && strcmp(mount_str_of(x, "name"), mount_str_of(src, "name")) == 0 &&
		    strcmp(mount_str_of(x, "graph"), mount_str_of(src, "graph")) != 0 &&
		    !mount_has_edge(st, mount_str_of(x, "graph"), NULL, mount_str_of(x, "name")))
			return true;
	return false;
}

/* Walk path through the graphs: the first component is a source (a filter no
 * edge leads to; "graphs[N]:NAME" for one of graph N), each next one a filter an edge
 * from the one before leads to: by its name (with a "|LABEL" after it or not), or by
 * the text a mkdir made it from. */
struct mount_node
mount_resolve(const cJSON *st, const char *path)
{
	struct mount_node n = { .kind = 1 };
	char buf[1024], name[64], *save = NULL, *comp;
	const char *in_graph = NULL;    /* "graphs[N]" of a qualified first component */
	size_t in_graph_len = 0;

	if (strlen(path) >= sizeof(buf))
		return (struct mount_node){ .kind = 0 };
	if (st == NULL)   /* no tree (the instance gone): the mount point stays, empty */
		return (struct mount_node){ .kind = path[strspn(path, "/")] == '\0' ? 1 : 0 };
	snprintf(buf, sizeof(buf), "%s", path);
	for (comp = strtok_r(buf, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		const cJSON *f;
		const char *want;
		bool found = false;

		if (n.kind == 2 && (strcmp(comp, "all") == 0 || strcmp(comp, "stats") == 0)) {
			n.kind = comp[0] == 'a' ? 3 : 4;
			continue;
		}
		if (n.kind != 1 && n.kind != 2)
			return (struct mount_node){ .kind = 0 };
		if (n.kind == 1 && strstr(comp, "]:") != NULL &&
		    memchr(comp, '[', (size_t)(strstr(comp, "]:") - comp)) != NULL) {   /* graphs[N]:, workers[N]: */
			in_graph = comp;
			in_graph_len = (size_t)(strstr(comp, "]:") - comp) + 1;
			comp += in_graph_len + 1;
		}
		want = split_label(comp, name, sizeof(name), n.label, sizeof(n.label)) ? name : NULL;
		if (n.kind == 2 && (want == NULL || !mount_has_edge(st, n.graph, n.filter, want))) {
			const char *a = alias_of(n.graph, n.filter, comp);
			if (a != NULL) {
				want = a;
				n.label[0] = '\0';
			}
		}
		if (want == NULL)
			return (struct mount_node){ .kind = 0 };
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(st, "filters")) {
			const char *g = mount_str_of(f, "graph");
			if (!mount_first_replica(f) || strcmp(mount_str_of(f, "name"), want) != 0 ||
			    (n.kind == 2 && strcmp(g, n.graph) != 0) ||
			    (n.kind == 1 && in_graph != NULL && (mount_graph_len(g) != in_graph_len ||
								 strncmp(g, in_graph, in_graph_len) != 0)))
				continue;
			if (n.kind == 1 ? mount_has_edge(st, g, NULL, want) : !mount_has_edge(st, g, n.filter, want))
				continue;
			n.f = f;
			n.parent = n.kind == 2 ? n.filter : NULL;
			n.graph = g;
			n.filter = mount_str_of(f, "name");
			found = true;
			break;
		}
		if (!found)
			return (struct mount_node){ .kind = 0 };
		n.kind = 2;
	}
	return n;
}

void
mount_tree_init(const char *instance)
{
	m_instance = instance;
}

const char *
mount_tree_instance(void)
{
	return m_instance;
}

void
mount_tree_lock(void)
{
	pthread_mutex_lock(&m_lock);
}

void
mount_tree_unlock(void)
{
	pthread_mutex_unlock(&m_lock);
}

/* When the stats reply in use came, by the wall clock. m_lock held. */
struct timespec
mount_stats_time(void)
{
	return m_stats_wall;
}

/* The next look fetches the graph again (after an edit). m_lock held. */
void
mount_stats_invalidate(void)
{
	m_stats_at = 0;
}
