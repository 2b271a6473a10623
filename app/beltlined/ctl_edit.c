/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server's edit operation (ctl_pvt.h; docs/control.md, "edit"): add a
 * filter after one of a running graph, or remove one, as a live reload (the work
 * is edit.c's). Who may reload may edit: root or the appliance's own user. Every
 * refusal is logged. Main lcore only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_log.h"
#include "ctl_pvt.h"
#include "edit.h"

/* "graphs[N]" with N < BL_CFG_MAX_GRAPHS; -1 otherwise. */
static int
graph_index(const char *s)
{
	char *end;
	unsigned long n;

	/* No leading zero: "graphs[01]" is not how the config, stats or errors name graph 1,
	 * and the reply echoes what was asked. */
	if (strncmp(s, "graphs[", 7) != 0 || s[7] < '0' || s[7] > '9' || strlen(s) > 12 ||
	    (s[7] == '0' && s[8] != ']'))
		return -1;
	n = strtoul(s + 7, &end, 10);
	if (strcmp(end, "]") != 0 || n >= BL_CFG_MAX_GRAPHS)
		return -1;
	return (int)n;
}

static const char *
str_or_null(const cJSON *req, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	if (v == NULL)
		return NULL;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* {"graph": "graphs[0]", "parent": "dport", "add": "count", "label": "80"} or
 * {"graph": "graphs[0]", "parent": "dport", "remove": "count"}. */
void
ctl_op_edit(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	static const char *const keys[] = { "graph", "parent", "add", "remove", "label", NULL };
	struct bl_edit ed = { 0 };
	const char *graph, *add, *remove;
	char name[64];
	struct bl_err err;
	bool bad = false;
	const cJSON *m;
	int gi;
	cJSON *j;

	if (k->cred.uid != 0 && k->cred.uid != geteuid()) {
		bl_log(BL_LOG_WARNING, "edit refused: uid %u (pid %d) may not change the running graphs "
		       "(only root or the appliance's own user, who may reload)",
		       (unsigned int)k->cred.uid, (int)k->cred.pid);
		ctl_reply_err(k, h, -EACCES, "edit: uid %u may not change the running graphs: only root "
			      "or the appliance's own user may (as for reload)", (unsigned int)k->cred.uid);
		return;
	}
	cJSON_ArrayForEach(m, req) {
		unsigned int i;
		for (i = 0; keys[i] != NULL && strcmp(keys[i], m->string) != 0; i++)
			;
		if (keys[i] == NULL) {
			ctl_reply_err(k, h, -EINVAL, "edit: unknown key \"%.40s\" (graph, parent, add, "
				      "remove, label)", m->string);
			return;
		}
	}
	graph = str_or_null(req, "graph", &bad);
	ed.parent = str_or_null(req, "parent", &bad);
	add = str_or_null(req, "add", &bad);
	remove = str_or_null(req, "remove", &bad);
	ed.label = str_or_null(req, "label", &bad);
	if (bad || graph == NULL || (add == NULL) == (remove == NULL) || (remove != NULL && ed.label != NULL)) {
		ctl_reply_err(k, h, -EINVAL, "edit: give \"graph\" and one of \"add\" (a filter's "
			      "text, with \"parent\" and an optional \"label\") or \"remove\" (a filter's "
			      "name, with \"parent\"), all strings");
		return;
	}
	if ((gi = graph_index(graph)) < 0) {
		ctl_reply_err(k, h, -EINVAL, "edit: \"graph\" is \"graphs[N]\" (N with no leading zero; a "
			      "fixed-forwarding workers[] entry is not edited live), not \"%.40s\"",
			      graph);
		return;
	}
	ed.graph = (unsigned int)gi;
	ed.remove = remove != NULL;
	ed.filter = add != NULL ? add : remove;
	if (bl_app_edit(c->app, &ed, name, sizeof(name), &err) != 0) {
		ctl_reply_err(k, h, err.code != 0 ? err.code : -EINVAL, "%s", err.msg);
		return;
	}
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "graph", graph);
	cJSON_AddStringToObject(j, "name", name);
	cJSON_AddStringToObject(j, "pipeline", c->app->cfg.graphs[ed.graph].text);
	N(j, "epoch", c->app->epoch);
	ctl_reply_json(k, h, j, NULL, 0);
}
