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
 * name; its TEXT stays an alias of it for as long as that filter lives. What a path names
 * (the stats reply, the aliases) is mount_tree.c's; this file is the filesystem on top.
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
#include "mount_tree.h"
#include "ondemand.h"
#include "tap.h"

/* libfuse3's calls, looked up when `mount` runs (ondemand.h); fuse_main is a macro
 * calling fuse_main_real. */
static const char *const fuse_names[] = { "fuse_main_real", "fuse_interrupted" };
static void *fuse_fn[sizeof(fuse_names) / sizeof(fuse_names[0])];
#define fuse_main_real ((__typeof__(&fuse_main_real))fuse_fn[0])
#define fuse_interrupted ((__typeof__(&fuse_interrupted))fuse_fn[1])

static int
m_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi)
{
	struct mount_node n;

	(void)fi;
	memset(sb, 0, sizeof(*sb));
	mount_tree_lock();
	n = mount_resolve(mount_stats_now(), path);
	/* The tree (and the counters stats shows) as of the last reply: ls -l showed 1970. */
	sb->st_mtim = sb->st_ctim = sb->st_atim = mount_stats_time();
	mount_tree_unlock();
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
	struct mount_node n;
	int rc = 0;

	(void)off;
	(void)fi;
	(void)flags;
	mount_tree_lock();
	st = mount_stats_now();
	n = mount_resolve(st, path);
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
			if (strcmp(mount_str_of(x, "graph"), n.graph) == 0 &&
			    strcmp(mount_str_of(x, "from"), n.filter) == 0)
				fill(buf, mount_str_of(x, "to"), NULL, 0, 0);
		goto out;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(st, "filters")) {
		const char *g = mount_str_of(x, "graph");
		char q[160];

		if (!mount_first_replica(x) || mount_has_edge(st, g, NULL, mount_str_of(x, "name")))
			continue;
		if (mount_source_twice(st, x)) {
			snprintf(q, sizeof(q), "%.*s:%s", (int)mount_graph_len(g), g, mount_str_of(x, "name"));
			fill(buf, q, NULL, 0, 0);
		} else {
			fill(buf, mount_str_of(x, "name"), NULL, 0, 0);
		}
	}
out:
	mount_tree_unlock();
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
	struct mount_node n;
	char spec[160], streams[BL_MOUNT_TAPS][BL_STREAM_NAME_MAX], why[512], uri[600];
	unsigned int ns = 0;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	mount_tree_lock();
	n = mount_resolve(mount_stats_now(), path);
	if (n.kind == 4) {   /* a text file: its last line ends, as stats --json's does */
		char *t = cJSON_Print(n.f);
		size_t l = t != NULL ? strlen(t) : 0;
		o->text = t != NULL ? realloc(t, l + 2) : NULL;
		if (o->text == NULL) {
			free(t);   /* cJSON allocates with malloc: no hooks set */
		} else {
			memcpy(o->text + l, "\n", 2);
			o->len = l + 1;
		}
	} else if (n.kind == 3) {   /* "graphs[0].0" -> the tap's "graphs[0]/NAME" */
		const char *dot = strrchr(n.graph, '.');
		snprintf(spec, sizeof(spec), "%.*s/%s", (int)(dot - n.graph), n.graph, n.filter);
	}
	mount_tree_unlock();
	if (n.kind == 4 && o->text == NULL) {
		free(o);
		return -ENOMEM;
	}
	if (n.kind != 3 && n.kind != 4) {
		free(o);
		return n.kind == 0 ? -ENOENT : -EISDIR;
	}
	if (n.kind == 3) {
		struct beltline_open_opts oo = { .sz = sizeof(oo) };
		struct beltline_info info = { .sz = sizeof(info) };
		rc = bl_cli_tap_make(mount_tree_instance(), spec, NULL, NULL, streams, BL_MOUNT_TAPS, &ns, why,
				     sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "beltline: mount: tap %s: %s\n", spec, why);
			free(o);
			return rc;
		}
		/* A graph on several lcores: a tap on each (ns streams), read in turn. */
		for (unsigned int i = 0; i < ns; i++) {
			snprintf(uri, sizeof(uri), "beltline://%s/%s", mount_tree_instance(), streams[i]);
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
	free(o->text);
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
	rc = beltline_ctl_open(mount_tree_instance(), &o, &c);
	if (rc < 0) {
		snprintf(why, why_len, "instance '%s': %s", mount_tree_instance(), strerror(-rc));
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
		snprintf(name, name_len, "%s", mount_str_of(r, "name"));
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
	struct mount_node n;
	cJSON *body;
	int rc;

	(void)mode;
	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	comp = path + (slash - dir) + 1;
	*slash = '\0';
	mount_tree_lock();
	n = mount_resolve(mount_stats_now(), dir[0] != '\0' ? dir : "/");
	if (n.kind == 2) {
		snprintf(graph, sizeof(graph), "%s", n.graph);
		snprintf(parent, sizeof(parent), "%s", n.filter);
	}
	mount_tree_unlock();
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
	mount_tree_lock();
	mount_stats_invalidate();   /* the graph as edited: it checks the aliases made before */
	mount_stats_now();
	mount_alias_add(graph, parent, comp, name);
	mount_tree_unlock();
	return 0;
}

static int
m_rmdir(const char *path)
{
	char graph[48], origin[48], filter[64], parent[64], name[64], why[512];
	struct mount_node n;
	cJSON *body;
	int rc;

	mount_tree_lock();
	n = mount_resolve(mount_stats_now(), path);
	if (n.kind == 2) {
		snprintf(graph, sizeof(graph), "%s", n.graph);
		snprintf(filter, sizeof(filter), "%s", n.filter);
		snprintf(parent, sizeof(parent), "%s", n.parent != NULL ? n.parent : "");
	}
	mount_tree_unlock();
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
	mount_tree_lock();
	mount_alias_drop(graph, filter);
	mount_stats_invalidate();
	mount_tree_unlock();
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
	mount_tree_init(instance);
	mount_tree_lock();
	if (mount_stats_fetch(10000) == NULL) {   /* the first: as long as any command waits */
		mount_tree_unlock();
		fprintf(stderr, "beltline: mount: instance '%s' does not answer\n", instance);
		return 1;
	}
	mount_tree_unlock();
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
