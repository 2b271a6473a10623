/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the JSON config, its sections. Every problem is collected (not just the
 * first), each as one line that starts with its JSON path. Nothing here touches DPDK.
 * Keys and typed values: bl_cfg_value.c; text, file and flags in: bl_cfg_load.c.
 */
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define RTE_MIN(a, b) ((a) < (b) ? (a) : (b))

#include "bl_cfg_pvt.h"
#include "bl_json.h"
#include "bl_stream_proto.h"
#include "bl_suggest.h"

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
	cfg->ctl_idle_ms = BL_CFG_CTL_IDLE_MS;
	cfg->ctl_slow_ms = BL_CFG_CTL_SLOW_MS;
	cfg->mbuf_cache = 256;
	cfg->mbuf_data_room = 2048 + 128;   /* RTE_MBUF_DEFAULT_BUF_SIZE */
	cfg->burst = 32;
}

void
bl_cfg__port_defaults(struct bl_cfg_port *p)
{
	memset(p, 0, sizeof(*p));
	p->rx_queues = 1;
	p->tx_queues = 0;   /* auto: one per worker lcore */
	p->rx_desc = 1024;
	p->tx_desc = 1024;
}

static void
read_port(struct bl_cfg_rd *r, const cJSON *v, unsigned int i, struct bl_cfg_port *p)
{
	static const char *const keys[] = { "name", "vdev", "pci", "rx_queues", "tx_queues",
					    "rx_desc", "tx_desc", NULL };
	char path[PATH_LEN], kp[PATH_LEN];

	bl_cfg__port_defaults(p);
	snprintf(path, sizeof(path), "ports[%u]", i);
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "%s: must be an object, got %s", path, bl_json_type(v));
		return;
	}
	bl_cfg__check_keys(r, v, path, keys);
	bl_cfg__get_name(r, v, path, "name", true, p->name);

	const char *vdev = bl_cfg__get_str(r, v, path, "vdev", false);
	const char *pci = bl_cfg__get_str(r, v, path, "pci", false);
	bool has_vdev = cJSON_HasObjectItem(v, "vdev"), has_pci = cJSON_HasObjectItem(v, "pci");
	if (has_vdev && has_pci) {
		bl_diag_add(r->diag, "%s: give either \"vdev\" or \"pci\", not both", path);
	} else if (!has_vdev && !has_pci) {
		bl_diag_add(r->diag, "%s: needs a device: \"vdev\" (e.g. \"net_null0\") or \"pci\" "
			    "(e.g. \"0000:03:00.0\")", path);
	} else if (vdev != NULL) {
		bl_cfg__join(kp, path, "vdev");
		bl_cfg__vdev_resolve(r, kp, vdev, p->vdev, sizeof(p->vdev));
	} else if (pci != NULL) {
		bl_cfg__join(kp, path, "pci");
		if (!bl_cfg__pci_ok(pci, p->pci))
			bl_diag_add(r->diag, "%s: must be a PCI address such as \"0000:03:00.0\", got \"%.40s\"",
				    kp, pci);
	}
	bl_cfg__get_u16(r, v, path, "rx_queues", 1, BL_CFG_MAX_QUEUES, &p->rx_queues);
	bl_cfg__get_u16(r, v, path, "tx_queues", 1, BL_CFG_MAX_QUEUES, &p->tx_queues);
	/* Power-of-two descriptor counts are accepted by every PMD we know. */
	const char *dk[] = { "rx_desc", "tx_desc" };
	uint16_t *dv[] = { &p->rx_desc, &p->tx_desc };
	for (int k = 0; k < 2; k++) {
		if (!bl_cfg__get_u16(r, v, path, dk[k], 32, 16384, dv[k]))
			continue;
		if (*dv[k] & (*dv[k] - 1)) {
			bl_cfg__join(kp, path, dk[k]);
			bl_diag_add(r->diag, "%s: must be a power of two 32..16384, got %u", kp, *dv[k]);
		}
	}
}

static int
port_ref(struct bl_cfg_rd *r, const struct bl_cfg *cfg, const cJSON *obj, const char *path, const char *key)
{
	const char *s = bl_cfg__get_str(r, obj, path, key, true);
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
	bl_cfg__join(kp, path, key);
	const char *sug = bl_suggest(s, names);
	if (sug != NULL)
		bl_diag_add(r->diag, "%s: no port named \"%.40s\" (did you mean \"%s\"?)", kp, s, sug);
	else
		bl_diag_add(r->diag, "%s: no port named \"%.40s\"", kp, s);
	return -1;
}

static void
read_worker(struct bl_cfg_rd *r, struct bl_cfg *cfg, const cJSON *v, unsigned int i, struct bl_cfg_worker *w)
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
	bl_cfg__check_keys(r, v, path, keys);
	if (!cJSON_HasObjectItem(v, "lcore"))
		bl_diag_add(r->diag, "%s.lcore: required, missing", path);
	bl_cfg__get_uint(r, v, path, "lcore", 0, BL_CFG_MAX_LCORE, &w->lcore);

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
		bl_cfg__check_keys(r, e, pp, pkeys);
		port = port_ref(r, cfg, e, pp, "port");
		tx = port_ref(r, cfg, e, pp, "tx");
		if (!bl_cfg__get_uint(r, e, pp, "queue", 0, BL_CFG_MAX_QUEUES - 1, &q) || port < 0 || tx < 0)
			continue;
		pl->port = (uint16_t)port;
		pl->queue = (uint16_t)q;
		pl->tx_port = (uint16_t)tx;
		w->n_polls++;
	}
}

/* "pipeline": "text" or ["text", ...] (joined with "; "), or "graph": {nodes, edges}. */
static void
read_graph(struct bl_cfg_rd *r, const cJSON *v, unsigned int i, struct bl_cfg_graph *g)
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
	bl_cfg__check_keys(r, v, path, keys);
	pl = cJSON_GetObjectItemCaseSensitive(v, "pipeline");
	gr = cJSON_GetObjectItemCaseSensitive(v, "graph");
	if ((pl == NULL) == (gr == NULL)) {
		bl_diag_add(r->diag, "%s: give either \"pipeline\" (text) or \"graph\" (nodes and edges)", path);
	} else if (gr != NULL) {
		char *t = cJSON_IsObject(gr) ? cJSON_PrintUnformatted(gr) : NULL;
		if (t == NULL)
			bl_diag_add(r->diag, "%s.graph: must be an object with \"nodes\" and \"edges\", got %s",
				    path, bl_json_type(gr));
		else if (bl_cfg__non_finite(gr))
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
			if (j < BL_CFG_PIPE_PARTS && n + 2 < sizeof(g->text))
				g->part_at[j] = (uint16_t)(n + (j ? 2 : 0));
			n += (size_t)snprintf(g->text + RTE_MIN(n, sizeof(g->text)),
					      n < sizeof(g->text) ? sizeof(g->text) - n : 0, "%s%s",
					      j ? "; " : "", e->valuestring);
		}
		g->n_parts = j <= BL_CFG_PIPE_PARTS ? j : 0;
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
		if (cJSON_IsArray(lc) && cJSON_GetArraySize(lc) > 0)
			bl_diag_add(r->diag, "%s.lcores: must be an array of 1..%d lcores, got %d", path,
				    BL_CFG_MAX_WORKERS, cJSON_GetArraySize(lc));
		else
			bl_diag_add(r->diag, "%s.lcores: must be an array of 1..%d lcores, got %s", path,
				    BL_CFG_MAX_WORKERS, cJSON_IsArray(lc) ? "an empty array" :
				    bl_json_type(lc));
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
read_mode(struct bl_cfg_rd *r, const cJSON *m, const char *key, const char *eg, unsigned int *out)
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

/* "control": {"mode": "0660", "group": "beltline", "idle_ms": 10000, "slow_ms": 5000}:
 * the control socket's permissions and how long it waits for silent clients. */
static void
read_control(struct bl_cfg_rd *r, const cJSON *v, struct bl_cfg *cfg)
{
	static const char *const ckeys[] = { "mode", "group", "idle_ms", "slow_ms", NULL };
	const char *g;

	if (v == NULL)
		return;
	if (!cJSON_IsObject(v)) {
		bl_diag_add(r->diag, "control: must be an object {\"mode\": \"0660\", \"group\": NAME}, "
			    "got %s", bl_json_type(v));
		return;
	}
	bl_cfg__check_keys(r, v, "control", ckeys);
	read_mode(r, cJSON_GetObjectItemCaseSensitive(v, "mode"), "control.mode", "0660",
		  &cfg->ctl_mode);
	bl_cfg__get_uint(r, v, "control", "idle_ms", BL_CFG_MIN_CTL_MS, BL_CFG_MAX_CTL_MS,
			 &cfg->ctl_idle_ms);
	bl_cfg__get_uint(r, v, "control", "slow_ms", BL_CFG_MIN_CTL_MS, BL_CFG_MAX_CTL_MS,
			 &cfg->ctl_slow_ms);
	g = bl_cfg__get_str(r, v, "control", "group", false);
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

void
bl_cfg__read_top(struct bl_cfg_rd *r, const cJSON *root, struct bl_cfg *cfg)
{
	static const char *const keys[] = { "instance", "main_lcore", "lcore_cpu", "memory", "mbufs",
					    "burst", "idle_sleep_us", "control", "ports", "workers", "graphs", NULL };
	static const char *const mkeys[] = { "hugepages", "size_mb", "packet_mode", "multiprocess",
		NULL };
	static const char *const bkeys[] = { "count", "cache", "data_room", NULL };
	const cJSON *v;

	bl_cfg__check_keys(r, root, "", keys);
	bl_cfg__get_name(r, root, "", "instance", false, cfg->instance);
	bl_cfg__get_uint(r, root, "", "main_lcore", 0, BL_CFG_MAX_LCORE, &cfg->main_lcore);
	bl_cfg__get_uint(r, root, "", "burst", 1, BL_CFG_MAX_BURST, &cfg->burst);
	bl_cfg__get_uint(r, root, "", "idle_sleep_us", 0, BL_CFG_MAX_IDLE_SLEEP_US, &cfg->idle_sleep_us);
	cfg->idle_sleep_set = cJSON_GetObjectItemCaseSensitive(root, "idle_sleep_us") != NULL;

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
		bl_cfg__check_keys(r, v, "memory", mkeys);
		const char *h = bl_cfg__get_str(r, v, "memory", "hugepages", false);
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
		bl_cfg__get_uint(r, v, "memory", "size_mb", 16, BL_CFG_MEM_MB_MAX, &cfg->mem_mb);
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
		bl_cfg__check_keys(r, v, "mbufs", bkeys);
		bl_cfg__get_uint(r, v, "mbufs", "count", 1024, BL_CFG_MBUFS_MAX, &cfg->mbufs);
		bl_cfg__get_uint(r, v, "mbufs", "cache", 0, 512, &cfg->mbuf_cache);
		bl_cfg__get_uint(r, v, "mbufs", "data_room", 256 + 128, 65535, &cfg->mbuf_data_room);
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
		if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)
			bl_diag_add(r->diag, "graphs: must be an array of 1..%d graphs, got %d",
				    BL_CFG_MAX_GRAPHS, cJSON_GetArraySize(v));
		else
			bl_diag_add(r->diag, "graphs: must be an array of 1..%d graphs, got %s",
				    BL_CFG_MAX_GRAPHS, cJSON_IsArray(v) ? "an empty array" :
				    bl_json_type(v));
	} else if (v != NULL) {
		for (const cJSON *e = v->child; e != NULL; e = e->next) {
			unsigned int i = cfg->n_graphs++;
			read_graph(r, e, i, &cfg->graphs[i]);
		}
	}

	const bool has_graphs = v != NULL;   /* said above when it is no good */
	v = cJSON_GetObjectItemCaseSensitive(root, "workers");
	if (v == NULL) {
		if (!has_graphs)
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
