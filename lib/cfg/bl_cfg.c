/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the JSON config. Every problem is collected (not just the first),
 * each as one line that starts with its JSON path. Nothing here touches DPDK.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define RTE_MIN(a, b) ((a) < (b) ? (a) : (b))

#include "bl_cfg.h"
#include "bl_json.h"
#include "bl_stream_proto.h"
#include "bl_suggest.h"

#define PATH_LEN 160
#define CFG_FILE_MAX (4u << 20)

/* Files named inside vdev specs that resolve against the config's folder. */
static const char *const vdev_path_keys[] = { "rx_pcap", "tx_pcap", NULL };

struct rd {
	struct bl_diag *diag;
	const char *dir;
};

void
bl_cfg_defaults(struct bl_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->instance, BL_INSTANCE_DEFAULT);
	for (unsigned int l = 0; l <= BL_CFG_MAX_LCORE; l++)
		cfg->lcore_cpu[l] = -1;
	cfg->main_lcore = 0;
	cfg->hugepages = BL_CFG_HUGE_AUTO;
	cfg->ctl_mode = 0666;
	cfg->pkt_mode = 0640;
	cfg->ctl_gid = -1;
	cfg->mbuf_cache = 256;
	cfg->mbuf_data_room = 2048 + 128;   /* RTE_MBUF_DEFAULT_BUF_SIZE */
	cfg->burst = 32;
}

static void
port_defaults(struct bl_cfg_port *p)
{
	memset(p, 0, sizeof(*p));
	p->rx_queues = 1;
	p->tx_queues = 0;   /* auto: one per worker lcore */
	p->rx_desc = 1024;
	p->tx_desc = 1024;
}

/* Report keys of `obj` not in `known`, and keys given twice. */
static void
check_keys(struct rd *r, const cJSON *obj, const char *path, const char *const *known)
{
	const char *pre = path[0] ? path : "";
	const char *dot = path[0] ? "." : "";

	bool seen[16] = { false };   /* the longest list of keys is shorter */

	for (const cJSON *k = obj->child; k != NULL; k = k->next) {
		const char *s;

		s = NULL;
		/* no suggestion (an edit distance per known key) once nothing more is shown */
		switch (bl_json_key_check_seen(k, known, seen, bl_diag_full(r->diag) ? NULL : &s)) {
		case BL_JSON_KEY_UNKNOWN:
			if (s != NULL)
				bl_diag_add(r->diag, "%s%s%s: unknown key (did you mean \"%s\"?)",
					    pre, dot, k->string, s);
			else
				bl_diag_add(r->diag, "%s%s%s: unknown key", pre, dot, k->string);
			break;
		case BL_JSON_KEY_TWICE:
			bl_diag_add(r->diag, "%s%s%s: given twice", pre, dot, k->string);
			break;
		case BL_JSON_KEY_OK:
			break;
		}
	}}

static void
join(char *out, const char *path, const char *key)
{
	if (path[0])
		snprintf(out, PATH_LEN, "%s.%s", path, key);
	else
		snprintf(out, PATH_LEN, "%s", key);
}

/* An optional unsigned integer in [min, max]; absent keeps *out. */
static bool
get_uint(struct rd *r, const cJSON *obj, const char *path, const char *key,
	 unsigned long min, unsigned long max, unsigned int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];

	if (v == NULL)
		return true;
	join(p, path, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    !isfinite(v->valuedouble)) {
		if (cJSON_IsNumber(v))
			bl_diag_add(r->diag, "%s: must be an integer %lu..%lu, got %g",
				    p, min, max, v->valuedouble);
		else
			bl_diag_add(r->diag, "%s: must be an integer %lu..%lu, got %s",
				    p, min, max, bl_json_type(v));
		return false;
	}
	if (v->valuedouble < (double)min || v->valuedouble > (double)max) {
		bl_diag_add(r->diag, "%s: must be %lu..%lu, got %.0f", p, min, max, v->valuedouble);
		return false;
	}
	*out = (unsigned int)v->valuedouble;
	return true;
}

static bool
get_u16(struct rd *r, const cJSON *obj, const char *path, const char *key,
	unsigned long min, unsigned long max, uint16_t *out)
{
	unsigned int v = *out;

	if (!get_uint(r, obj, path, key, min, max, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A string key; `required` reports its absence. Returns NULL when absent or bad. */
static const char *
get_str(struct rd *r, const cJSON *obj, const char *path, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];

	join(p, path, key);
	if (v == NULL) {
		if (required)
			bl_diag_add(r->diag, "%s: required, missing", p);
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		bl_diag_add(r->diag, "%s: must be a string, got %s", p, bl_json_type(v));
		return NULL;
	}
	return v->valuestring;
}

_Static_assert(BL_CFG_NAME_MAX == BL_INSTANCE_NAME_MAX, "instance and port names: one rule");

/* Instance and port names: the rule clients check too (bl_stream_proto.h). */
static bool
name_ok(const char *s, size_t max)
{
	return max == BL_INSTANCE_NAME_MAX && bl_instance_name_ok(s, strlen(s));
}

static void
get_name(struct rd *r, const cJSON *obj, const char *path, const char *key,
	 bool required, char *out)
{
	const char *s = get_str(r, obj, path, key, required);
	char p[PATH_LEN];

	if (s == NULL)
		return;
	join(p, path, key);
	if (!name_ok(s, BL_CFG_NAME_MAX)) {
		bl_diag_add(r->diag,
			    "%s: must be 1..%d characters of letters, digits, '_' or '-', got \"%.40s\"",
			    p, BL_CFG_NAME_MAX - 1, s);
		return;
	}
	strcpy(out, s);
}

/* Does s hold exactly `n` hex digits from `at`? */
static bool
hex_run(const char *s, size_t at, size_t n)
{
	for (size_t i = at; i < at + n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * "0000:03:00.0" or "03:00.0", written strictly (no signs, spaces or 0x);
 * on success `norm` gets the long form, so one device has one spelling.
 */
static bool
pci_ok(const char *s, char norm[BL_CFG_NAME_MAX])
{
	size_t len = strlen(s), o = len == 12 ? 5 : 0;
	unsigned int dev, fn;

	if (len != 12 && len != 7)
		return false;
	if (o != 0 && (!hex_run(s, 0, 4) || s[4] != ':'))
		return false;
	if (!hex_run(s, o, 2) || s[o + 2] != ':' || !hex_run(s, o + 3, 2) || s[o + 5] != '.' ||
	    !hex_run(s, o + 6, 1))
		return false;
	dev = (unsigned int)strtoul((char[]){ s[o + 3], s[o + 4], 0 }, NULL, 16);
	fn = (unsigned int)strtoul((char[]){ s[o + 6], 0 }, NULL, 16);
	if (dev >= 32 || fn >= 8)
		return false;
	snprintf(norm, BL_CFG_NAME_MAX, "%.4s:%.7s", o != 0 ? s : "0000", s + o);
	for (char *c = norm; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return true;
}

/*
 * Copy a vdev spec, making the file paths it names absolute against `dir`.
 * Returns false (with a problem reported) when the spec is malformed.
 */
static bool
vdev_resolve(struct rd *r, const char *path, const char *spec, char *out, size_t size)
{
	const char *comma = strchr(spec, ',');
	size_t dlen = comma ? (size_t)(comma - spec) : strlen(spec);
	size_t n = 0;

	if (strncmp(spec, "net_", 4) != 0 || dlen <= 4) {
		bl_diag_add(r->diag,
			    "%s: must be a DPDK virtual device spec such as \"net_null0\" or "
			    "\"net_pcap0,rx_pcap=FILE\", got \"%.60s\"", path, spec);
		return false;
	}
	for (size_t i = 0; i < dlen; i++)
		if (!isalnum((unsigned char)spec[i]) && spec[i] != '_') {
			bl_diag_add(r->diag, "%s: device name \"%.*s\" may hold only letters, digits and '_'",
				    path, (int)dlen, spec);
			return false;
		}
	n = (size_t)snprintf(out, size, "%.*s", (int)dlen, spec);
	if (n >= size) {
		bl_diag_add(r->diag, "%s: the device name is longer than %zu characters", path, size - 1);
		return false;
	}
	while (comma != NULL) {
		const char *arg = comma + 1;
		comma = strchr(arg, ',');
		size_t alen = comma ? (size_t)(comma - arg) : strlen(arg);
		const char *eq = memchr(arg, '=', alen);   /* within this argument only */
		bool is_path = false;

		if (alen == 0) {
			bl_diag_add(r->diag, "%s: empty argument in \"%.60s\"", path, spec);
			return false;
		}
		if (eq != NULL)
			for (const char *const *k = vdev_path_keys; *k; k++)
				is_path |= (size_t)(eq - arg) == strlen(*k) &&
					   strncmp(arg, *k, strlen(*k)) == 0;
		if (is_path && eq[1] != '/' && r->dir != NULL && r->dir[0] != '\0')
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, ",%.*s%s/%.*s",
					      (int)(eq + 1 - arg), arg, r->dir,
					      (int)(alen - (size_t)(eq + 1 - arg)), eq + 1);
		else
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, ",%.*s", (int)alen, arg);
		if (n >= size) {
			bl_diag_add(r->diag, "%s: longer than %zu characters once paths are resolved",
				    path, size - 1);
			return false;
		}
	}
	return true;
}

static void
read_port(struct rd *r, const cJSON *v, unsigned int i, struct bl_cfg_port *p)
{
	static const char *const keys[] = { "name", "vdev", "pci", "rx_queues", "tx_queues",
					    "rx_desc", "tx_desc", NULL };
	char path[PATH_LEN], kp[PATH_LEN];

	port_defaults(p);
	snprintf(path, sizeof(path), "ports[%u]", i);
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "%s: must be an object, got %s", path, bl_json_type(v));
		return;
	}
	check_keys(r, v, path, keys);
	get_name(r, v, path, "name", true, p->name);

	const char *vdev = get_str(r, v, path, "vdev", false);
	const char *pci = get_str(r, v, path, "pci", false);
	bool has_vdev = cJSON_HasObjectItem(v, "vdev"), has_pci = cJSON_HasObjectItem(v, "pci");
	if (has_vdev && has_pci) {
		bl_diag_add(r->diag, "%s: give either \"vdev\" or \"pci\", not both", path);
	} else if (!has_vdev && !has_pci) {
		bl_diag_add(r->diag, "%s: needs a device: \"vdev\" (e.g. \"net_null0\") or \"pci\" "
			    "(e.g. \"0000:03:00.0\")", path);
	} else if (vdev != NULL) {
		join(kp, path, "vdev");
		vdev_resolve(r, kp, vdev, p->vdev, sizeof(p->vdev));
	} else if (pci != NULL) {
		join(kp, path, "pci");
		if (!pci_ok(pci, p->pci))
			bl_diag_add(r->diag, "%s: must be a PCI address such as \"0000:03:00.0\", got \"%.40s\"",
				    kp, pci);
	}
	get_u16(r, v, path, "rx_queues", 1, BL_CFG_MAX_QUEUES, &p->rx_queues);
	get_u16(r, v, path, "tx_queues", 1, BL_CFG_MAX_QUEUES, &p->tx_queues);
	/* Power-of-two descriptor counts are accepted by every PMD we know. */
	const char *dk[] = { "rx_desc", "tx_desc" };
	uint16_t *dv[] = { &p->rx_desc, &p->tx_desc };
	for (int k = 0; k < 2; k++) {
		if (!get_u16(r, v, path, dk[k], 32, 16384, dv[k]))
			continue;
		if (*dv[k] & (*dv[k] - 1)) {
			join(kp, path, dk[k]);
			bl_diag_add(r->diag, "%s: must be a power of two 32..16384, got %u", kp, *dv[k]);
		}
	}
}

static int
port_ref(struct rd *r, const struct bl_cfg *cfg, const cJSON *obj, const char *path, const char *key)
{
	const char *s = get_str(r, obj, path, key, true);
	const char *names[BL_CFG_MAX_PORTS + 1];
	char kp[PATH_LEN];
	int idx;

	if (s == NULL)
		return -1;
	idx = bl_cfg_port_find(cfg, s);
	if (idx >= 0)
		return idx;
	unsigned int k = 0;
	for (unsigned int i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].name[0] != '\0')   /* a rejected name is no suggestion */
			names[k++] = cfg->ports[i].name;
	names[k] = NULL;
	join(kp, path, key);
	const char *sug = bl_suggest(s, names);
	if (sug != NULL)
		bl_diag_add(r->diag, "%s: no port named \"%.40s\" (did you mean \"%s\"?)", kp, s, sug);
	else
		bl_diag_add(r->diag, "%s: no port named \"%.40s\"", kp, s);
	return -1;
}

static void
read_worker(struct rd *r, struct bl_cfg *cfg, const cJSON *v, unsigned int i, struct bl_cfg_worker *w)
{
	static const char *const keys[] = { "lcore", "poll", NULL };
	static const char *const pkeys[] = { "port", "queue", "tx", NULL };
	char path[PATH_LEN], pp[PATH_LEN];
	const cJSON *poll;

	memset(w, 0, sizeof(*w));
	w->lcore = ~0u;
	snprintf(path, sizeof(path), "workers[%u]", i);
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "%s: must be an object, got %s", path, bl_json_type(v));
		return;
	}
	check_keys(r, v, path, keys);
	if (!cJSON_HasObjectItem(v, "lcore"))
		bl_diag_add(r->diag, "%s.lcore: required, missing", path);
	get_uint(r, v, path, "lcore", 0, BL_CFG_MAX_LCORE, &w->lcore);

	poll = cJSON_GetObjectItemCaseSensitive(v, "poll");
	if (poll == NULL) {
		bl_diag_add(r->diag, "%s.poll: required, missing (a list of {\"port\", \"queue\", \"tx\"})", path);
		return;
	}
	if (!cJSON_IsArray(poll) || cJSON_GetArraySize(poll) == 0) {
		bl_diag_add(r->diag, "%s.poll: must be a non-empty array, got %s", path,
			    cJSON_IsArray(poll) ? "an empty array" : bl_json_type(poll));
		return;
	}
	if (cJSON_GetArraySize(poll) > BL_CFG_MAX_POLLS) {
		bl_diag_add(r->diag, "%s.poll: at most %d entries, got %d", path, BL_CFG_MAX_POLLS,
			    cJSON_GetArraySize(poll));
		return;
	}
	unsigned int j = 0;
	for (const cJSON *e = poll->child; e != NULL; e = e->next, j++) {
		struct bl_cfg_poll *pl = &w->polls[w->n_polls];
		unsigned int q = 0;
		int port, tx;

		snprintf(pp, sizeof(pp), "%s.poll[%u]", path, j);
		if (!cJSON_IsObject(e)) {
			bl_diag_add(r->diag, "%s: must be an object, got %s", pp, bl_json_type(e));
			continue;
		}
		check_keys(r, e, pp, pkeys);
		port = port_ref(r, cfg, e, pp, "port");
		tx = port_ref(r, cfg, e, pp, "tx");
		if (!get_uint(r, e, pp, "queue", 0, BL_CFG_MAX_QUEUES - 1, &q) || port < 0 || tx < 0)
			continue;
		pl->port = (uint16_t)port;
		pl->queue = (uint16_t)q;
		pl->tx_port = (uint16_t)tx;
		w->n_polls++;
	}
}

/* Does v hold a number that is not finite (1e999 reads as infinity, and prints as null)? */
static bool
non_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return !isfinite(v->valuedouble);
	for (const cJSON *c = v->child; c != NULL; c = c->next)   /* cJSON nests at most 1000 */
		if (non_finite(c))
			return true;
	return false;
}

/* "pipeline": "text" or ["text", ...] (joined with "; "), or "graph": {nodes, edges}. */
static void
read_graph(struct rd *r, const cJSON *v, unsigned int i, struct bl_cfg_graph *g)
{
	static const char *const keys[] = { "pipeline", "graph", "lcores", NULL };
	const cJSON *pl, *gr, *lc;
	char path[PATH_LEN];
	size_t n = 0;

	memset(g, 0, sizeof(*g));
	snprintf(path, sizeof(path), "graphs[%u]", i);
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "%s: must be an object, got %s", path, bl_json_type(v));
		return;
	}
	check_keys(r, v, path, keys);
	pl = cJSON_GetObjectItemCaseSensitive(v, "pipeline");
	gr = cJSON_GetObjectItemCaseSensitive(v, "graph");
	if ((pl == NULL) == (gr == NULL)) {
		bl_diag_add(r->diag, "%s: give either \"pipeline\" (text) or \"graph\" (nodes and edges)", path);
	} else if (gr != NULL) {
		char *t = cJSON_IsObject(gr) ? cJSON_PrintUnformatted(gr) : NULL;
		if (t == NULL)
			bl_diag_add(r->diag, "%s.graph: must be an object with \"nodes\" and \"edges\", got %s",
				    path, bl_json_type(gr));
		else if (non_finite(gr))
			bl_diag_add(r->diag, "%s.graph: numbers must be finite (1e999 and beyond read as "
				    "infinity)", path);
		else if (strlen(t) >= sizeof(g->text))
			bl_diag_add(r->diag, "%s.graph: longer than %zu characters", path, sizeof(g->text) - 1);
		else
			strcpy(g->text, t);
		g->json = true;
		cJSON_free(t);
	} else if (cJSON_IsString(pl)) {
		n = (size_t)snprintf(g->text, sizeof(g->text), "%s", pl->valuestring);
	} else if (cJSON_IsArray(pl) && cJSON_GetArraySize(pl) > 0) {
		unsigned int j = 0;
		for (const cJSON *e = pl->child; e != NULL; e = e->next, j++) {
			if (!cJSON_IsString(e)) {
				bl_diag_add(r->diag, "%s.pipeline[%u]: must be a string, got %s", path, j, bl_json_type(e));
				continue;
			}
			n += (size_t)snprintf(g->text + RTE_MIN(n, sizeof(g->text)),
					      n < sizeof(g->text) ? sizeof(g->text) - n : 0, "%s%s",
					      j ? "; " : "", e->valuestring);
		}
	} else {
		bl_diag_add(r->diag, "%s.pipeline: must be a string or a non-empty array of strings, got %s",
			    path, bl_json_type(pl));
	}
	if (n >= sizeof(g->text))
		bl_diag_add(r->diag, "%s.pipeline: longer than %zu characters", path, sizeof(g->text) - 1);
	lc = cJSON_GetObjectItemCaseSensitive(v, "lcores");
	if (lc == NULL) {
		bl_diag_add(r->diag, "%s.lcores: required, missing (the worker lcores that run it, e.g. [1])", path);
		return;
	}
	if (!cJSON_IsArray(lc) || cJSON_GetArraySize(lc) == 0 || cJSON_GetArraySize(lc) > BL_CFG_MAX_WORKERS) {
		bl_diag_add(r->diag, "%s.lcores: must be an array of 1..%d lcores, got %s", path,
			    BL_CFG_MAX_WORKERS, cJSON_IsArray(lc) ? "another size" : bl_json_type(lc));
		return;
	}
	unsigned int j = 0;
	for (const cJSON *e = lc->child; e != NULL; e = e->next, j++) {
		char kp[PATH_LEN];
		snprintf(kp, sizeof(kp), "%s.lcores[%u]", path, j);
		if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
		    e->valuedouble > BL_CFG_MAX_LCORE) {
			bl_diag_add(r->diag, "%s: must be an integer 0..%d", kp, BL_CFG_MAX_LCORE);
			continue;
		}
		for (unsigned int k = 0; k < g->n_lcores; k++)
			if (g->lcores[k] == (unsigned int)e->valuedouble)
				bl_diag_add(r->diag, "%s: lcore %u is listed twice", kp, g->lcores[k]);
		g->lcores[g->n_lcores++] = (unsigned int)e->valuedouble;
	}
}

/* Permission bits written as an octal string ("0640"): a JSON number would be
 * read as decimal, so it is refused. `eg` is the example the message gives. */
static void
read_mode(struct rd *r, const cJSON *m, const char *key, const char *eg, unsigned int *out)
{
	char *end = NULL;
	unsigned long mode = 0;

	if (m == NULL)
		return;
	if (cJSON_IsString(m) && m->valuestring[0] >= '0' && m->valuestring[0] <= '7')
		mode = strtoul(m->valuestring, &end, 8);
	if (!cJSON_IsString(m) || m->valuestring[0] < '0' || m->valuestring[0] > '7' ||
	    *end != '\0' || mode > 0777)
		bl_diag_add(r->diag, "%s: must be octal permission bits as a string, "
			    "\"0000\"..\"0777\" (e.g. \"%s\"), got %s%.20s%s", key, eg,
			    cJSON_IsString(m) ? "\"" : "", cJSON_IsString(m) ? m->valuestring :
			    bl_json_type(m), cJSON_IsString(m) ? "\"" : "");
	else
		*out = (unsigned int)mode;
}

/* "control": {"mode": "0660", "group": "beltline"}: the control socket's permissions. */
static void
read_control(struct rd *r, const cJSON *v, struct bl_cfg *cfg)
{
	static const char *const ckeys[] = { "mode", "group", NULL };
	const char *g;

	if (v == NULL)
		return;
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "control: must be an object {\"mode\": \"0660\", \"group\": NAME}, "
			    "got %s", bl_json_type(v));
		return;
	}
	check_keys(r, v, "control", ckeys);
	read_mode(r, cJSON_GetObjectItemCaseSensitive(v, "mode"), "control.mode", "0660",
		  &cfg->ctl_mode);
	g = get_str(r, v, "control", "group", false);
	if (g != NULL) {
		char *end;
		unsigned long gid = strtoul(g, &end, 10);
		const struct group *gr;

		if (g[0] != '\0' && *end == '\0' && gid < 0x7fffffffUL)
			cfg->ctl_gid = (long)gid;
		else if ((gr = getgrnam(g)) != NULL)
			cfg->ctl_gid = (long)gr->gr_gid;
		else
			bl_diag_add(r->diag, "control.group: no group named \"%.40s\" on this machine", g);
	}
}

static void
read_top(struct rd *r, const cJSON *root, struct bl_cfg *cfg)
{
	static const char *const keys[] = { "instance", "main_lcore", "lcore_cpu", "memory", "mbufs",
					    "burst", "control", "ports", "workers", "graphs", NULL };
	static const char *const mkeys[] = { "hugepages", "size_mb", "packet_mode", "multiprocess",
		NULL };
	static const char *const bkeys[] = { "count", "cache", "data_room", NULL };
	const cJSON *v;

	check_keys(r, root, "", keys);
	get_name(r, root, "", "instance", false, cfg->instance);
	get_uint(r, root, "", "main_lcore", 0, BL_CFG_MAX_LCORE, &cfg->main_lcore);
	get_uint(r, root, "", "burst", 1, BL_CFG_MAX_BURST, &cfg->burst);

	v = cJSON_GetObjectItemCaseSensitive(root, "lcore_cpu");
	if (v != NULL && !cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "lcore_cpu: must be an object {\"LCORE\": CPU}, got %s", bl_json_type(v));
	} else if (v != NULL) {
		for (const cJSON *e = v->child; e != NULL; e = e->next) {
			char *end;
			unsigned long l = strtoul(e->string, &end, 10);
			if (e->string[0] == '\0' || *end != '\0' || l > BL_CFG_MAX_LCORE) {
				bl_diag_add(r->diag, "lcore_cpu.%.20s: the key must be an lcore 0..%d",
					    e->string, BL_CFG_MAX_LCORE);
				continue;
			}
			char kp[PATH_LEN];
			snprintf(kp, sizeof(kp), "lcore_cpu.%lu", l);
			/* The same lcore twice: "1" and "1", or "1" and "01". */
			const cJSON *d = v->child;
			for (; d != e; d = d->next) {
				char *dend;
				if (d->string[0] != '\0' && strtoul(d->string, &dend, 10) == l &&
				    *dend == '\0')
					break;
			}
			if (d != e && strcmp(d->string, e->string) == 0) {
				bl_diag_add(r->diag, "lcore_cpu.%.20s: given twice", e->string);
				continue;
			}
			if (d != e) {
				bl_diag_add(r->diag, "lcore_cpu.%.20s: lcore %lu given twice (also "
					    "lcore_cpu.%.20s)", e->string, l, d->string);
				continue;
			}
			if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
			    e->valuedouble < 0 || e->valuedouble > 1023)
				bl_diag_add(r->diag, "%s: must be a CPU number 0..1023", kp);
			else
				cfg->lcore_cpu[l] = (int)e->valuedouble;
		}
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "memory");
	if (v != NULL && !cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "memory: must be an object, got %s", bl_json_type(v));
	} else if (v != NULL) {
		check_keys(r, v, "memory", mkeys);
		const char *h = get_str(r, v, "memory", "hugepages", false);
		if (h != NULL) {
			if (strcmp(h, "auto") == 0)
				cfg->hugepages = BL_CFG_HUGE_AUTO;
			else if (strcmp(h, "yes") == 0)
				cfg->hugepages = BL_CFG_HUGE_YES;
			else if (strcmp(h, "no") == 0)
				cfg->hugepages = BL_CFG_HUGE_NO;
			else
				bl_diag_add(r->diag,
					    "memory.hugepages: must be \"auto\", \"yes\" or \"no\", got \"%.20s\"", h);
		}
		get_uint(r, v, "memory", "size_mb", 16, BL_CFG_MEM_MB_MAX, &cfg->mem_mb);
		const cJSON *mp = cJSON_GetObjectItemCaseSensitive(v, "multiprocess");
		if (mp != NULL && !cJSON_IsBool(mp))
			bl_diag_add(r->diag, "memory.multiprocess: must be true or false, got %s",
				    bl_json_type(mp));
		else if (mp != NULL)
			cfg->multiprocess = cJSON_IsTrue(mp);
		unsigned int pm = cfg->pkt_mode;
		const unsigned int before = r->diag->n;
		read_mode(r, cJSON_GetObjectItemCaseSensitive(v, "packet_mode"), "memory.packet_mode",
			  "0640", &pm);
		if (r->diag->n == before && (pm & 0400) == 0)
			bl_diag_add(r->diag, "memory.packet_mode: the appliance must be able to read the "
				    "packet DBuf to hand it to clients: give the owner read (0400), "
				    "got \"%04o\"", pm);
		else if (r->diag->n == before)
			cfg->pkt_mode = pm;
	}

	read_control(r, cJSON_GetObjectItemCaseSensitive(root, "control"), cfg);

	v = cJSON_GetObjectItemCaseSensitive(root, "mbufs");
	if (v != NULL && !cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "mbufs: must be an object, got %s", bl_json_type(v));
	} else if (v != NULL) {
		check_keys(r, v, "mbufs", bkeys);
		get_uint(r, v, "mbufs", "count", 1024, 1u << 26, &cfg->mbufs);
		get_uint(r, v, "mbufs", "cache", 0, 512, &cfg->mbuf_cache);
		get_uint(r, v, "mbufs", "data_room", 256 + 128, 65535, &cfg->mbuf_data_room);
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "ports");
	if (v == NULL) {
		bl_diag_add(r->diag, "ports: required, missing (a list of ports)");
	} else if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		bl_diag_add(r->diag, "ports: must be a non-empty array, got %s",
			    cJSON_IsArray(v) ? "an empty array" : bl_json_type(v));
	} else if (cJSON_GetArraySize(v) > BL_CFG_MAX_PORTS) {
		bl_diag_add(r->diag, "ports: at most %d ports, got %d", BL_CFG_MAX_PORTS,
			    cJSON_GetArraySize(v));
	} else {
		for (const cJSON *e = v->child; e != NULL; e = e->next) {
			unsigned int i = cfg->n_ports++;
			read_port(r, e, i, &cfg->ports[i]);
		}
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "graphs");
	if (v != NULL && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 ||
			  cJSON_GetArraySize(v) > BL_CFG_MAX_GRAPHS)) {
		bl_diag_add(r->diag, "graphs: must be an array of 1..%d graphs, got %s", BL_CFG_MAX_GRAPHS,
			    cJSON_IsArray(v) ? "another size" : bl_json_type(v));
	} else if (v != NULL) {
		for (const cJSON *e = v->child; e != NULL; e = e->next) {
			unsigned int i = cfg->n_graphs++;
			read_graph(r, e, i, &cfg->graphs[i]);
		}
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "workers");
	if (v == NULL) {
		if (cfg->n_graphs == 0)
			bl_diag_add(r->diag, "workers, graphs: both missing: give \"graphs\" (pipelines and "
				    "the lcores that run them) or \"workers\" (which lcore forwards which queue)");
	} else if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		bl_diag_add(r->diag, "workers: must be a non-empty array, got %s",
			    cJSON_IsArray(v) ? "an empty array" : bl_json_type(v));
	} else if (cJSON_GetArraySize(v) > BL_CFG_MAX_WORKERS) {
		bl_diag_add(r->diag, "workers: at most %d workers, got %d", BL_CFG_MAX_WORKERS,
			    cJSON_GetArraySize(v));
	} else {
		for (const cJSON *e = v->child; e != NULL; e = e->next) {
			unsigned int i = cfg->n_workers++;
			read_worker(r, cfg, e, i, &cfg->workers[i]);
		}
	}
}

static void
where(const char *text, const char *at, unsigned int *line, unsigned int *col)
{
	*line = 1;
	*col = 1;
	for (const char *c = text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int
bl_cfg_parse(const char *text, size_t len, const char *dir, struct bl_cfg *cfg,
	     struct bl_diag *diag)
{
	struct rd r = { .diag = diag, .dir = dir };
	unsigned int before = diag->n;
	const char *end = NULL;
	cJSON *root;

	bl_cfg_defaults(cfg);
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root == NULL) {
		unsigned int line, col;
		const char *at = end != NULL ? end : text;
		bool early = true;
		where(text, at, &line, &col);
		for (const char *c = at + (at < text + len); c < text + len; c++)
			early &= *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
		bl_diag_add(diag, "$: not valid JSON (line %u, col %u)%s", line, col,
			    early ? ": the text ends before the JSON does" : "");
		return -EINVAL;
	}
	/* Up to len, NUL bytes included: "{...}\0junk" is not one JSON object either. */
	for (const char *c = end; c != NULL && c < text + len; c++)
		if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r') {
			unsigned int line, col;
			where(text, c, &line, &col);
			bl_diag_add(diag, "$: not valid JSON (line %u, col %u): text follows the end of the object",
				    line, col);
			cJSON_Delete(root);
			return -EINVAL;
		}
	if (!cJSON_IsObject(root)) {
		bl_diag_add(diag, "$: must be an object, got %s", bl_json_type(root));
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* cJSON cuts a string at a NUL: "rel\u0000x" would be read as "rel". Refused whole. */
	char np[PATH_LEN];
	int is_key;
	if (bl_json_find_nul(text, (size_t)(end - text), root, np, sizeof(np), &is_key)) {
		bl_diag_add(diag, "%s: %s a NUL character (\\u0000); no name, key or string of a "
			    "config may", np, is_key ? "a key contains" : "contains");
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* cJSON skips every byte up to 32 as white space: a NUL is not JSON anywhere, and a
	 * reader of C strings stops at it. */
	const char *z = memchr(text, '\0', (size_t)(end - text));
	if (z != NULL) {
		unsigned int line, col;
		where(text, z, &line, &col);
		bl_diag_add(diag, "$: not valid JSON (line %u, col %u): a NUL byte; JSON has no such white space",
			    line, col);
		cJSON_Delete(root);
		return -EINVAL;
	}
	read_top(&r, root, cfg);
	cJSON_Delete(root);
	if (diag->n != before)
		return -EINVAL;
	return bl_cfg_validate(cfg, diag);
}

int
bl_cfg_load(const char *path, struct bl_cfg *cfg, struct bl_diag *diag)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *text;
	ssize_t got;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the check below
	 * refuses it (and for a regular file the flag changes nothing). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		bl_diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		bl_diag_add(diag, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		bl_diag_add(diag, "%s: not a regular file (%s)", path,
			    S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			    S_ISSOCK(st.st_mode) ? "a socket" : "a device");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > CFG_FILE_MAX) {
		bl_diag_add(diag, "%s: %lld bytes: a config holds at most %u (4 MiB)", path,
			    (long long)st.st_size, CFG_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		bl_diag_add(diag, "%s: short read", path);
		free(text);
		return -EIO;
	}
	text[got] = '\0';
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	snprintf(dir, sizeof(dir), "%s", real);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	rc = bl_cfg_parse(text, (size_t)got, dir, cfg, diag);
	free(text);
	return rc;
}

int
bl_cfg_add_port(struct bl_cfg *cfg, const char *arg, struct bl_diag *diag)
{
	struct rd r = { .diag = diag, .dir = NULL };
	const char *eq = strchr(arg, '=');
	unsigned int before = diag->n;
	struct bl_cfg_port *p;
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "--port %.60s", arg);
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= BL_CFG_NAME_MAX) {
		bl_diag_add(diag, "%s: must be NAME=DEVICE, e.g. in=net_pcap0,rx_pcap=FILE", path);
		return -EINVAL;
	}
	if (cfg->n_ports >= BL_CFG_MAX_PORTS) {
		bl_diag_add(diag, "%s: at most %d ports", path, BL_CFG_MAX_PORTS);
		return -EINVAL;
	}
	p = &cfg->ports[cfg->n_ports];
	port_defaults(p);
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(eq - arg), arg);
	if (!name_ok(p->name, BL_CFG_NAME_MAX))
		bl_diag_add(diag, "%s: the name must be letters, digits, '_' or '-'", path);
	if (strncmp(eq + 1, "net_", 4) == 0)
		vdev_resolve(&r, path, eq + 1, p->vdev, sizeof(p->vdev));
	else if (!pci_ok(eq + 1, p->pci))
		bl_diag_add(diag, "%s: the device must be a virtual device (net_...) or a PCI address", path);
	if (diag->n != before)
		return -EINVAL;
	cfg->n_ports++;
	return 0;
}

int
bl_cfg_add_graph(struct bl_cfg *cfg, const char *text, const unsigned int *lcores, unsigned int n,
		 struct bl_diag *diag)
{
	struct bl_cfg_graph *g;

	if (cfg->n_graphs >= BL_CFG_MAX_GRAPHS) {
		bl_diag_add(diag, "--pipeline: at most %d graphs", BL_CFG_MAX_GRAPHS);
		return -EINVAL;
	}
	if (strlen(text) >= BL_CFG_PIPE_MAX || n == 0 || n > BL_CFG_MAX_WORKERS) {
		bl_diag_add(diag, "--pipeline: longer than %d characters, or no worker lcore to run it",
			    BL_CFG_PIPE_MAX - 1);
		return -EINVAL;
	}
	g = &cfg->graphs[cfg->n_graphs++];
	memset(g, 0, sizeof(*g));
	strcpy(g->text, text);
	g->n_lcores = n;
	memcpy(g->lcores, lcores, n * sizeof(*lcores));
	return 0;
}
