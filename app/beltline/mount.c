/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline mount [-f] DIR: the running graph as a filesystem (Streamline's
 * PipesFS, through FUSE; docs/taps.md). Each filter is a directory nested under
 * the filter that feeds it (a filter with two parents appears under both); the
 * sources of every graph are at the top. Each directory holds
 *   all    reading it is a tap of the filter's output, as pcap (beltline tap)
 *   stats  its counters, JSON (what beltline stats shows for it)
 * The structure is the appliance's `stats` reply, fetched again when older than
 * a second (and at once after an edit).
 *
 * mkdir DIR/.../PARENT/'TEXT' adds the filter TEXT (pipeline text: `count`,
 * `bpf "tcp port 80"`, `count --name=web`; %2F stands for a "/", any %XX is decoded)
 * after PARENT; the edge's label is written after the parent's name (`'dport |80'`)
 * or before the text (`'|80 count'`). rmdir removes a filter that feeds nothing
 * (its edge from the parent the path names; the filter when nothing else feeds it).
 * Each is the appliance's edit operation, a live reload that keeps every other
 * filter's state and counters (docs/taps.md); a refusal comes back as the errno
 * the appliance chose (EINVAL, ENOENT, EEXIST, ENOTEMPTY, EACCES), with the reason
 * in the appliance's log. The new directory is then listed under the filter's
 * name; its TEXT stays an alias of it for as long as the mount lives.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "beltline.h"
#include "bl_stream_proto.h"
#include "bl_time.h"
#include "ondemand.h"
#include "tap.h"

/* libfuse3's calls, looked up when `mount` runs (ondemand.h); fuse_main is a macro
 * calling fuse_main_real. */
static const char *const fuse_names[] = { "fuse_main_real", "fuse_interrupted" };
static void *fuse_fn[sizeof(fuse_names) / sizeof(fuse_names[0])];
#define fuse_main_real ((__typeof__(&fuse_main_real))fuse_fn[0])
#define fuse_interrupted ((__typeof__(&fuse_interrupted))fuse_fn[1])

static const char *m_instance;
static pthread_mutex_t m_lock = PTHREAD_MUTEX_INITIALIZER;
static cJSON *m_stats;          /* the last stats reply (m_lock) */
static double m_stats_at;

/* Each call of the instance waits M_CALL_MS at most (the lock is held: every operation
 * on the mount waits with it); after one that failed, none for a second. An instance
 * gone (its socket refuses, or is no more) loses its tree at once; one that does not
 * answer in time (stopped, or busy: a reload waits for its workers) keeps it M_STALE_S.
 * (The library's 10 s, tried again by every operation, made `ls` of a stopped instance's
 * tree take minutes; a dead instance's last counters were served for ever.) */
#define M_CALL_MS 1000
#define M_STALE_S 30.0
static double m_fail_at;        /* the last call that failed (m_lock); 0: none */

static cJSON *
stats_fetch(int timeout_ms)
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
			cJSON_Delete(m_stats);
			m_stats = j;
			m_stats_at = bl_mono_s();
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
static cJSON *
stats_now(void)
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
	return stats_fetch(M_CALL_MS);
}

/*
 * The stats reply lists filters and edges flat, each with its graph ("graphs[0].0":
 * where it comes from, then the replica). Replica 0 only: the others repeat it.
 */
static bool
first_replica(const cJSON *item)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(item, "graph");
	const char *dot = cJSON_IsString(g) ? strrchr(g->valuestring, '.') : NULL;

	return dot != NULL && strcmp(dot, ".0") == 0;
}

static const char *
str_of(const cJSON *item, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether an edge of graph leads from `from` (NULL: any filter) to `to`. */
static bool
has_edge(const cJSON *st, const char *graph, const char *from, const char *to)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(st, "edges"))
		if (strcmp(str_of(e, "graph"), graph) == 0 && strcmp(str_of(e, "to"), to) == 0 &&
		    (from == NULL || strcmp(str_of(e, "from"), from) == 0))
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

static void
alias_add(const char *graph, const char *parent, const char *text, const char *name)
{
	struct alias *a = &m_alias[m_alias_next++ % ALIASES];

	if (strcmp(text, name) == 0 || strlen(text) >= sizeof(a->text))
		return;   /* its own name: no alias needed; too long: not kept */
	snprintf(a->graph, sizeof(a->graph), "%s", graph);
	snprintf(a->parent, sizeof(a->parent), "%s", parent);
	snprintf(a->text, sizeof(a->text), "%s", text);
	snprintf(a->name, sizeof(a->name), "%s", name);
}

/* Forget the aliases of a filter rmdir removed (its name may be given again). */
static void
alias_drop(const char *graph, const char *name)
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

/* What a path names. */
struct node {
	int kind;                   /* 0 none, 1 the root, 2 a filter, 3 its all, 4 its stats */
	const cJSON *f;             /* the filter's stats entry */
	const char *graph;          /* its graph ("graphs[0].0") */
	const char *filter;         /* its name */
	const char *parent;         /* the filter before it on the path (NULL: a source) */
	char label[64];             /* the label written after the last component's name */
};

/* The graph of a filter's stats entry ("graphs[1].0") without its replica: its length. */
static size_t
graph_len(const char *g)
{
	const char *dot = strrchr(g, '.');

	return dot != NULL ? (size_t)(dot - g) : strlen(g);
}

/* A source whose name another graph's source has too: the root lists both as
 * "graphs[N]:NAME" (the first one found was the only one reachable). */
static bool
source_twice(const cJSON *st, const cJSON *src)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "filters"))
		if (x != src && first_replica(x) && strcmp(str_of(x, "name"), str_of(src, "name")) == 0 &&
		    strcmp(str_of(x, "graph"), str_of(src, "graph")) != 0 &&
		    !has_edge(st, str_of(x, "graph"), NULL, str_of(x, "name")))
			return true;
	return false;
}

/* Walk path through the graphs: the first component is a source (a filter no
 * edge leads to; "graphs[N]:NAME" for one of graph N), each next one a filter an edge
 * from the one before leads to: by its name (with a "|LABEL" after it or not), or by
 * the text a mkdir made it from. */
static struct node
resolve(const cJSON *st, const char *path)
{
	struct node n = { .kind = 1 };
	char buf[1024], name[64], *save = NULL, *comp;
	const char *in_graph = NULL;    /* "graphs[N]" of a qualified first component */
	size_t in_graph_len = 0;

	if (st == NULL || strlen(path) >= sizeof(buf))
		return (struct node){ .kind = 0 };
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
			return (struct node){ .kind = 0 };
		if (n.kind == 1 && strstr(comp, "]:") != NULL &&
		    memchr(comp, '[', (size_t)(strstr(comp, "]:") - comp)) != NULL) {   /* graphs[N]:, workers[N]: */
			in_graph = comp;
			in_graph_len = (size_t)(strstr(comp, "]:") - comp) + 1;
			comp += in_graph_len + 1;
		}
		want = split_label(comp, name, sizeof(name), n.label, sizeof(n.label)) ? name : NULL;
		if (n.kind == 2 && (want == NULL || !has_edge(st, n.graph, n.filter, want))) {
			const char *a = alias_of(n.graph, n.filter, comp);
			if (a != NULL) {
				want = a;
				n.label[0] = '\0';
			}
		}
		if (want == NULL)
			return (struct node){ .kind = 0 };
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(st, "filters")) {
			const char *g = str_of(f, "graph");
			if (!first_replica(f) || strcmp(str_of(f, "name"), want) != 0 ||
			    (n.kind == 2 && strcmp(g, n.graph) != 0) ||
			    (n.kind == 1 && in_graph != NULL && (graph_len(g) != in_graph_len ||
								 strncmp(g, in_graph, in_graph_len) != 0)))
				continue;
			if (n.kind == 1 ? has_edge(st, g, NULL, want) : !has_edge(st, g, n.filter, want))
				continue;
			n.f = f;
			n.parent = n.kind == 2 ? n.filter : NULL;
			n.graph = g;
			n.filter = str_of(f, "name");
			found = true;
			break;
		}
		if (!found)
			return (struct node){ .kind = 0 };
		n.kind = 2;
	}
	return n;
}

static int
m_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi)
{
	struct node n;

	(void)fi;
	memset(sb, 0, sizeof(*sb));
	pthread_mutex_lock(&m_lock);
	n = resolve(stats_now(), path);
	pthread_mutex_unlock(&m_lock);
	switch (n.kind) {
	case 1:
	case 2:   /* the owner may mkdir and rmdir; the appliance decides (edit op) */
		sb->st_mode = S_IFDIR | 0755;
		sb->st_nlink = 2;
		break;
	case 3:
	case 4:
		sb->st_mode = S_IFREG | 0444;   /* size unknown: read to the end (direct_io) */
		sb->st_nlink = 1;
		break;
	default:
		return -ENOENT;
	}
	sb->st_uid = getuid();
	sb->st_gid = getgid();
	return 0;
}

static int
m_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
	  enum fuse_readdir_flags flags)
{
	const cJSON *st, *x;
	struct node n;
	int rc = 0;

	(void)off;
	(void)fi;
	(void)flags;
	pthread_mutex_lock(&m_lock);
	st = stats_now();
	n = resolve(st, path);
	if (n.kind != 1 && n.kind != 2) {
		rc = n.kind == 0 ? -ENOENT : -ENOTDIR;
		goto out;
	}
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	if (n.kind == 2) {
		fill(buf, "all", NULL, 0, 0);
		fill(buf, "stats", NULL, 0, 0);
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "edges"))
			if (strcmp(str_of(x, "graph"), n.graph) == 0 &&
			    strcmp(str_of(x, "from"), n.filter) == 0)
				fill(buf, str_of(x, "to"), NULL, 0, 0);
		goto out;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "filters")) {
		const char *g = str_of(x, "graph");
		char q[160];

		if (!first_replica(x) || has_edge(st, g, NULL, str_of(x, "name")))
			continue;
		if (source_twice(st, x)) {
			snprintf(q, sizeof(q), "%.*s:%s", (int)graph_len(g), g, str_of(x, "name"));
			fill(buf, q, NULL, 0, 0);
		} else {
			fill(buf, str_of(x, "name"), NULL, 0, 0);
		}
	}
out:
	pthread_mutex_unlock(&m_lock);
	return rc;
}

/* An open file: a stats snapshot (text), or a tap being read (pcap). */
#define BL_MOUNT_TAPS 16
struct ofile {
	char *text;                 /* stats: the whole file */
	size_t len;
	struct beltline_stream *s;  /* all: the tap's stream (the first, of several) */
	struct beltline_stream *more[BL_MOUNT_TAPS];   /* a tap per lcore: read in turn with s */
	unsigned int n_more, cur;
	bool header_sent;
	uint32_t linktype, snaplen;
	/* all: a record read that did not fit the last read's buffer, sent first next time
	 * (a read of the stream consumes it: dropped, it was lost uncounted) */
	uint8_t *held;
	struct beltline_pkt_info held_pi;
	bool has_held;
};

static int
m_open(const char *path, struct fuse_file_info *fi)
{
	struct ofile *o;
	struct node n;
	char spec[160], streams[BL_MOUNT_TAPS][BL_STREAM_NAME_MAX], why[512], uri[600];
	unsigned int ns = 0;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&m_lock);
	n = resolve(stats_now(), path);
	if (n.kind == 4) {
		o->text = cJSON_Print(n.f);
		o->len = o->text != NULL ? strlen(o->text) : 0;
	} else if (n.kind == 3) {   /* "graphs[0].0" -> the tap's "graphs[0]/NAME" */
		const char *dot = strrchr(n.graph, '.');
		snprintf(spec, sizeof(spec), "%.*s/%s", (int)(dot - n.graph), n.graph, n.filter);
	}
	pthread_mutex_unlock(&m_lock);
	if (n.kind != 3 && n.kind != 4) {
		free(o);
		return n.kind == 0 ? -ENOENT : -EISDIR;
	}
	if (n.kind == 3) {
		struct beltline_open_opts oo = { .sz = sizeof(oo) };
		struct beltline_info info = { .sz = sizeof(info) };
		rc = bl_cli_tap_make(m_instance, spec, NULL, NULL, streams, BL_MOUNT_TAPS, &ns, why,
				     sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "beltline: mount: tap %s: %s\n", spec, why);
			free(o);
			return rc;
		}
		/* A graph on several lcores: a tap on each (ns streams), read in turn. */
		for (unsigned int i = 0; i < ns; i++) {
			snprintf(uri, sizeof(uri), "beltline://%s/%s", m_instance, streams[i]);
			rc = beltline_open(uri, &oo, i == 0 ? &o->s : &o->more[i - 1]);
			if (rc < 0) {
				for (unsigned int k = 1; k < i; k++)
					beltline_close(o->more[k - 1]);
				if (i > 0)
					beltline_close(o->s);
				free(o);
				return rc;
			}
			if (i > 0)
				o->n_more++;
			beltline_fd(i == 0 ? o->s : o->more[i - 1]);   /* read in poll: say so */
		}
		beltline_fd(o->s);
		beltline_info(o->s, &info);
		o->linktype = (uint32_t)info.linktype;
		o->snaplen = info.snaplen ? info.snaplen : 65535;
	}
	fi->fh = (uintptr_t)o;
	fi->direct_io = 1;           /* no size: read until the end (stats) or for ever (all) */
	/* all is a stream; stats is a snapshot taken at open, read at any offset (head seeks
	 * back to the end of the lines it printed: "Illegal seek" otherwise) */
	fi->nonseekable = n.kind == 3;
	return 0;
}

static void
put32(char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put16(char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* One pcap record at buf: the header, then pi.copied bytes of data. */
static size_t
put_record(char *buf, const struct beltline_pkt_info *pi, const uint8_t *data)
{
	uint64_t ts = pi->ts_ns;

	if (!(pi->flags & BELTLINE_PKT_F_TS)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	}
	put32(buf, (uint32_t)(ts / 1000000000ull));
	put32(buf + 4, (uint32_t)(ts % 1000000000ull));
	put32(buf + 8, pi->copied);
	put32(buf + 12, pi->len);
	memcpy(buf + 16, data, pi->copied);
	return 16 + (size_t)pi->copied;
}

/* all: the pcap header first (nanosecond times), then whole records, at least one. A
 * record that does not fit what is left of this read waits for the next; one that
 * does not fit a whole read is cut to it (a record's header at least: 16 bytes). */
static int
read_tap(struct ofile *o, char *buf, size_t size)
{
	static __thread uint8_t pkt[65536];
	size_t n = 0;

	if (o->header_sent && size < 16)
		return -EINVAL;
	if (o->has_held) {
		if (16 + (size_t)o->held_pi.copied > size)
			o->held_pi.copied = (uint32_t)(size - 16);
		n = put_record(buf, &o->held_pi, o->held);
		o->has_held = false;
	}
	if (!o->header_sent) {
		if (size < 24)
			return -EINVAL;
		put32(buf, 0xa1b23c4d);
		put16(buf + 4, 2);
		put16(buf + 6, 4);
		put32(buf + 8, 0);
		put32(buf + 12, 0);
		put32(buf + 16, o->snaplen);
		put32(buf + 20, o->linktype);
		o->header_sent = true;
		return 24;
	}
	unsigned int idle = 0, ns = 1 + o->n_more;
	while (n == 0 || n + 16 + 1500 <= size) {
		struct beltline_pkt_info pi;
		struct beltline_stream *s = o->cur == 0 ? o->s : o->more[o->cur - 1];
		int r = beltline_read(s, pkt, sizeof(pkt), &pi);

		o->cur = (o->cur + 1) % ns;   /* several streams (a tap per lcore): in turn */
		if (r == -EAGAIN) {
			struct pollfd p[BL_MOUNT_TAPS];
			if (++idle < ns)
				continue;
			idle = 0;
			if (n != 0)
				break;
			if (fuse_interrupted())
				return -EINTR;
			for (unsigned int i = 0; i < ns; i++)
				p[i] = (struct pollfd){ .fd = beltline_fd(i == 0 ? o->s : o->more[i - 1]),
							.events = POLLIN };
			poll(p, ns, 100);
			continue;
		}
		idle = 0;
		if (r <= 0)
			return n != 0 ? (int)n : r;   /* 0: the stream ended */
		if (n + 16 + pi.copied > size) {
			if (n != 0) {                /* kept whole for the next read */
				if (o->held == NULL && (o->held = malloc(sizeof(pkt))) == NULL)
					return (int)n;   /* out of memory: lost (cut never) */
				memcpy(o->held, pkt, pi.copied);
				o->held_pi = pi;
				o->has_held = true;
				break;
			}
			pi.copied = (uint32_t)(size - 16);   /* a read smaller than one record */
		}
		n += put_record(buf + n, &pi, pkt);
	}
	return (int)n;
}

static int
m_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ofile *o = (struct ofile *)(uintptr_t)fi->fh;

	(void)path;
	if (o->s != NULL)
		return read_tap(o, buf, size);
	if (off < 0 || (size_t)off >= o->len)
		return 0;
	if (size > o->len - (size_t)off)
		size = o->len - (size_t)off;
	memcpy(buf, o->text + off, size);
	return (int)size;
}

static int
m_release(const char *path, struct fuse_file_info *fi)
{
	struct ofile *o = (struct ofile *)(uintptr_t)fi->fh;

	(void)path;
	if (o->s != NULL)
		beltline_close(o->s);   /* the tap's last reader: it goes */
	for (unsigned int i = 0; i < o->n_more; i++)
		beltline_close(o->more[i]);
	cJSON_free(o->text);
	free(o->held);
	free(o);
	return 0;
}

/* The appliance's edit operation: the reply's "name" into name, or -errno (why says). */
#define EDIT_TIMEOUT_MS 60000      /* a live reload, on a loaded machine */

static int
edit_call(cJSON *body, char *name, size_t name_len, char *why, size_t why_len)
{
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = EDIT_TIMEOUT_MS };
	struct beltline_ctl *c;
	char *text = cJSON_PrintUnformatted(body), *reply = NULL;
	cJSON *r;
	int rc;

	snprintf(why, why_len, "%s", "out of memory");
	if (text == NULL)
		return -ENOMEM;
	rc = beltline_ctl_open(m_instance, &o, &c);
	if (rc < 0) {
		snprintf(why, why_len, "instance '%s': %s", m_instance, strerror(-rc));
		free(text);
		return rc;
	}
	rc = beltline_ctl_call(c, BELTLINE_CTL_EDIT, text, &reply);
	beltline_ctl_close(c);
	free(text);
	r = reply != NULL ? cJSON_Parse(reply) : NULL;
	if (rc < 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
		snprintf(why, why_len, "%s", cJSON_IsString(e) ? e->valuestring : strerror(-rc));
	} else {
		snprintf(name, name_len, "%s", str_of(r, "name"));
	}
	cJSON_Delete(r);
	free(reply);
	/* What mkdir(2) and rmdir(2) may say; a restart needed is the caller's not to do. */
	switch (rc) {
	case 0: case -EACCES: case -EINVAL: case -ENOENT: case -EEXIST: case -ENOTEMPTY:
	case -ENOMEM: case -ETIMEDOUT:
		return rc;
	case -EPERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* The graph's origin of a stats graph name: "graphs[0].0" -> "graphs[0]". */
static void
origin_of(const char *graph, char *out, size_t len)
{
	const char *dot = strrchr(graph, '.');

	snprintf(out, len, "%.*s", dot != NULL ? (int)(dot - graph) : (int)strlen(graph), graph);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A directory name as pipeline text: an optional "|LABEL " first, then %XX decoded
 * (%2F for "/"). -EINVAL on a % not followed by two hex digits, or one that makes a NUL. */
static int
decode(const char *comp, char *text, size_t text_len, char *label, size_t label_len)
{
	size_t n = 0;

	label[0] = '\0';
	if (comp[0] == '|') {
		size_t l = strcspn(comp + 1, " ");
		if (l == 0 || l >= label_len || comp[1 + l] != ' ')
			return -EINVAL;
		snprintf(label, label_len, "%.*s", (int)l, comp + 1);
		comp += 1 + l;
		while (*comp == ' ')
			comp++;
	}
	for (const char *p = comp; *p != '\0'; p++) {
		char c = *p;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			p += 2;
		}
		if (n + 1 >= text_len)
			return -EINVAL;
		text[n++] = c;
	}
	text[n] = '\0';
	return n != 0 ? 0 : -EINVAL;
}

static int
m_mkdir(const char *path, mode_t mode)
{
	char dir[1024], text[1024], label[64], graph[48], origin[48], parent[64], name[64];
	char why[512];
	const char *comp, *plabel;
	struct node n;
	cJSON *body;
	int rc;

	(void)mode;
	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	comp = path + (slash - dir) + 1;
	*slash = '\0';
	pthread_mutex_lock(&m_lock);
	n = resolve(stats_now(), dir[0] != '\0' ? dir : "/");
	if (n.kind == 2) {
		snprintf(graph, sizeof(graph), "%s", n.graph);
		snprintf(parent, sizeof(parent), "%s", n.filter);
	}
	pthread_mutex_unlock(&m_lock);
	if (n.kind == 1) {
		fprintf(stderr, "beltline: mount: mkdir %s: a new source is added in the config file "
			"(then beltline reload)\n", path);
		return -EACCES;
	}
	if (n.kind != 2)
		return n.kind == 0 ? -ENOENT : -ENOTDIR;
	plabel = n.label;
	if (decode(comp, text, sizeof(text), label, sizeof(label)) != 0 ||
	    (label[0] != '\0' && plabel[0] != '\0')) {
		fprintf(stderr, "beltline: mount: mkdir %s: \"%s\" is not a filter's text (a %% is "
			"%%XX, %%2F for /; one label, after the parent's name or before the text)\n",
			path, comp);
		return -EINVAL;
	}
	for (const char *nm = strstr(text, "--name="); nm != NULL; nm = strstr(nm + 1, "--name=")) {
		const char *v = nm + 7 + (nm[7] == '"' || nm[7] == '\'');   /* "all" as all */
		size_t l = strcspn(v, " \t|\"'");
		if ((l == 3 && strncmp(v, "all", 3) == 0) || (l == 5 && strncmp(v, "stats", 5) == 0)) {
			/* its directory would hold files of those names: it could not be entered */
			fprintf(stderr, "beltline: mount: mkdir %s: --name=%.*s is the name of a file "
				"in every filter's directory: give another\n", path, (int)l, v);
			return -EINVAL;
		}
	}
	origin_of(graph, origin, sizeof(origin));
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "graph", origin);
	cJSON_AddStringToObject(body, "parent", parent);
	cJSON_AddStringToObject(body, "add", text);
	if (label[0] != '\0' || plabel[0] != '\0')
		cJSON_AddStringToObject(body, "label", label[0] != '\0' ? label : plabel);
	rc = edit_call(body, name, sizeof(name), why, sizeof(why));
	cJSON_Delete(body);
	if (rc < 0) {
		fprintf(stderr, "beltline: mount: mkdir %s: %s\n", path, why);
		return rc;
	}
	pthread_mutex_lock(&m_lock);
	alias_add(graph, parent, comp, name);
	m_stats_at = 0;   /* the next look is at the new graph */
	pthread_mutex_unlock(&m_lock);
	return 0;
}

static int
m_rmdir(const char *path)
{
	char graph[48], origin[48], filter[64], parent[64], name[64], why[512];
	struct node n;
	cJSON *body;
	int rc;

	pthread_mutex_lock(&m_lock);
	n = resolve(stats_now(), path);
	if (n.kind == 2) {
		snprintf(graph, sizeof(graph), "%s", n.graph);
		snprintf(filter, sizeof(filter), "%s", n.filter);
		snprintf(parent, sizeof(parent), "%s", n.parent != NULL ? n.parent : "");
	}
	pthread_mutex_unlock(&m_lock);
	if (n.kind == 1)
		return -EBUSY;    /* the mount point */
	if (n.kind != 2)
		return n.kind == 0 ? -ENOENT : -ENOTDIR;
	origin_of(graph, origin, sizeof(origin));
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "graph", origin);
	if (parent[0] != '\0')
		cJSON_AddStringToObject(body, "parent", parent);
	cJSON_AddStringToObject(body, "remove", filter);
	rc = edit_call(body, name, sizeof(name), why, sizeof(why));
	cJSON_Delete(body);
	if (rc < 0) {
		fprintf(stderr, "beltline: mount: rmdir %s: %s\n", path, why);
		return rc;
	}
	pthread_mutex_lock(&m_lock);
	alias_drop(graph, filter);
	m_stats_at = 0;
	pthread_mutex_unlock(&m_lock);
	return 0;
}

/* The graph changes behind the kernel's back (edits, reloads): it caches no name. */
static void *
m_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->attr_timeout = 0;
	return NULL;
}

static const struct fuse_operations m_ops = {
	.init = m_init,
	.getattr = m_getattr,
	.readdir = m_readdir,
	.open = m_open,
	.read = m_read,
	.release = m_release,
	.mkdir = m_mkdir,
	.rmdir = m_rmdir,
};

int
bl_cli_mount(int argc, char **argv, const char *instance)
{
	char *fargv[8];
	int fargc = 0, foreground = 0, i;
	const char *dir = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0) {
			foreground = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: beltline mount [-f] DIR   (unmount: fusermount3 -u DIR)\n");
			return 0;
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "beltline: mount: %s '%s' (usage: beltline mount [-f] DIR)\n",
				argv[i][0] == '-' ? "unknown option" : "one DIR only, got also", argv[i]);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "usage: beltline mount [-f] DIR\n");
		return 2;
	}
	if (bl_cli_ondemand("mount", BL_SONAME_FUSE3, fuse_names, fuse_fn,
			    sizeof(fuse_fn) / sizeof(fuse_fn[0])) < 0)
		return 1;
	m_instance = instance;
	pthread_mutex_lock(&m_lock);
	if (stats_fetch(10000) == NULL) {   /* the first: as long as any command waits */
		pthread_mutex_unlock(&m_lock);
		fprintf(stderr, "beltline: mount: instance '%s' does not answer\n", instance);
		return 1;
	}
	pthread_mutex_unlock(&m_lock);
	fargv[fargc++] = argv[0];
	if (foreground)
		fargv[fargc++] = (char *)"-f";
	fargv[fargc++] = (char *)"-o";
	fargv[fargc++] = (char *)"fsname=beltline,subtype=beltline,default_permissions";
	fargv[fargc++] = (char *)dir;
	fargv[fargc] = NULL;
	/* libfuse installs its own SIGINT, SIGTERM and SIGHUP handlers (which leave the loop
	 * and unmount) only where the handler is the default: main's, which only set a flag,
	 * kept a first signal from stopping the mount, and a second one killed it mounted. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	return fuse_main(fargc, fargv, &m_ops, NULL) == 0 ? 0 : 1;
}
