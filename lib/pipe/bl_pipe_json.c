/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pipe_json — the explicit form of a graph: JSON nodes and edges, read
 * into the same bl_gdesc a pipeline compiles to. Errors name the JSON path.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bl_json.h"
#include "bl_pipe_pvt.h"
#include "bl_suggest.h"

struct jr {
	const char *path;
	const struct bl_pipe_opts *opts;
	struct bl_gdesc *g;
	struct bl_err *err;
	unsigned int base;          /* nodes g held before: shared, not redefined */
};

/* Unknown and repeated keys of an object are errors. */
static int
check_keys(struct jr *r, const cJSON *obj, const char *where, const char *const *known)
{
	bool seen[16] = { false };   /* the longest list of keys is shorter */

	for (const cJSON *k = obj->child; k != NULL; k = k->next) {
		const char *s;

		switch (bl_json_key_check_seen(k, known, seen, &s)) {
		case BL_JSON_KEY_UNKNOWN:
			if (s != NULL)
				return bl_err_set(r->err, -EINVAL, "%s.%s: unknown key "
						  "(did you mean \"%s\"?)", where, k->string, s);
			return bl_err_set(r->err, -EINVAL, "%s.%s: unknown key", where, k->string);
		case BL_JSON_KEY_TWICE:
			return bl_err_set(r->err, -EINVAL, "%s.%s: given twice", where, k->string);
		case BL_JSON_KEY_OK:
			break;
		}
	}
	return 0;
}

/* A string, number or boolean as argument text. */
static int
scalar(struct jr *r, const cJSON *v, const char *where, char *buf, size_t size,
       const char **out)
{
	if (cJSON_IsString(v)) {
		*out = v->valuestring;
		return 0;
	}
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? "true" : "false";
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (!isfinite(d))    /* 1e999: cJSON reads it as infinity */
			return bl_err_set(r->err, -EINVAL, "%s: expected a finite number, got %s",
					  where, d > 0 ? "1e999 or more" : "-1e999 or less");
		if (d == floor(d) && fabs(d) < 9.007199254740992e15)
			snprintf(buf, size, "%.0f", d);
		else
			snprintf(buf, size, "%.17g", d);
		*out = buf;
		return 0;
	}
	return bl_err_set(r->err, -EINVAL, "%s: expected a string, a number or a boolean, got %s",
			  where, bl_json_type(v));
}

static int
name_field(struct jr *r, const cJSON *obj, const char *key, const char *where,
	   const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		return bl_err_set(r->err, -EINVAL, "%s: missing \"%s\"", where, key);
	if (!cJSON_IsString(v))
		return bl_err_set(r->err, -EINVAL, "%s.%s: expected a string, got %s", where,
				  key, bl_json_type(v));
	*out = v->valuestring;
	return 0;
}

static int
arg_failed(struct jr *r, int rc, const char *where)
{
	if (rc == -E2BIG)
		return bl_err_set(r->err, -EINVAL, "%s: too many arguments: a node takes at most %d",
				  where, BL_GDESC_MAX_ARGS);
	return bl_err_set(r->err, -ENOMEM, "%s: out of memory", where);
}

static int
read_args(struct jr *r, const cJSON *node, const char *where, struct bl_args *args)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(node, "args");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(node, "positional");
	char num[64];
	const char *val;
	unsigned int i = 0;
	int rc;

	if (a != NULL && !cJSON_IsObject(a))
		return bl_err_set(r->err, -EINVAL, "%s.args: expected an object, got %s",
				  where, bl_json_type(a));
	if (p != NULL && !cJSON_IsArray(p))
		return bl_err_set(r->err, -EINVAL, "%s.positional: expected an array, got %s",
				  where, bl_json_type(p));
	for (const cJSON *k = a ? a->child : NULL; k != NULL; k = k->next) {
		char w[BL_ERR_MSG_MAX];

		snprintf(w, sizeof(w), "%s.args.%s", where, k->string);
		if (!bl_pipe__is_key(k->string, strlen(k->string)))
			return bl_err_set(r->err, -EINVAL, "%s: bad argument key (expected letters, "
					  "digits, \"_\", \"-\" or \".\", starting with a letter "
					  "or \"_\")", w);
		if (bl_args_get(args, k->string) != NULL)
			return bl_err_set(r->err, -EINVAL, "%s: given twice", w);
		if (scalar(r, k, w, num, sizeof(num), &val) < 0)
			return -EINVAL;
		if ((rc = bl_args_add(args, k->string, val, 0)) < 0)
			return arg_failed(r, rc, w);
	}
	for (const cJSON *v = p ? p->child : NULL; v != NULL; v = v->next, i++) {
		char w[BL_ERR_MSG_MAX];

		snprintf(w, sizeof(w), "%s.positional[%u]", where, i);
		if (scalar(r, v, w, num, sizeof(num), &val) < 0)
			return -EINVAL;
		if ((rc = bl_args_add(args, NULL, val, 0)) < 0)
			return arg_failed(r, rc, w);
	}
	return 0;
}

static const char *const node_keys[] = { "name", "filter", "args", "positional", "negate", NULL };
static const char *const edge_keys[] = { "from", "to", "label", NULL };
static const char *const graph_keys[] = { "nodes", "edges", NULL };

static int
read_node(struct jr *r, const cJSON *node, const char *where)
{
	const char *name = NULL, *filter = NULL;
	const cJSON *neg = cJSON_GetObjectItemCaseSensitive(node, "negate");
	struct bl_args args = { 0 };
	char why[BL_PIPE_WHY_MAX] = "";
	bool negate = false;
	int idx, rc;

	if (!cJSON_IsObject(node))
		return bl_err_set(r->err, -EINVAL, "%s: expected an object, got %s", where,
				  bl_json_type(node));
	if (check_keys(r, node, where, node_keys) < 0 ||
	    name_field(r, node, "name", where, &name) < 0 ||
	    name_field(r, node, "filter", where, &filter) < 0)
		return -EINVAL;
	if (!bl_pipe__is_name(name, strlen(name)))
		return bl_err_set(r->err, -EINVAL, "%s.name: bad node name \"%s\" (expected at "
				  "most %d letters, digits, \"_\" or \"-\", starting with a "
				  "letter or \"_\")", where, name, BL_GDESC_NAME_MAX - 1);
	if (!bl_pipe__is_name(filter, strlen(filter)))
		return bl_err_set(r->err, -EINVAL, "%s.filter: bad filter name \"%s\"", where,
				  filter);
	if (bl_pipe__check_filter(r->opts, filter, why, sizeof(why)) < 0)
		return bl_err_set(r->err, -EINVAL, "%s.filter: %s", where, why);
	if (neg != NULL) {
		if (!cJSON_IsBool(neg))
			return bl_err_set(r->err, -EINVAL, "%s.negate: expected a boolean, got %s",
					  where, bl_json_type(neg));
		negate = cJSON_IsTrue(neg);
	}
	if ((rc = read_args(r, node, where, &args)) < 0)
		goto out;
	idx = bl_gdesc_find(r->g, name);
	if (idx >= 0 && (unsigned int)idx >= r->base) {
		rc = bl_err_set(r->err, -EINVAL, "%s.name: node \"%s\" is defined twice", where,
				name);
	} else if (idx >= 0) {
		/* a node an earlier graph defined: shared under the --name rule */
		if (bl_pipe__share(&r->g->nodes[idx], filter, &args, negate, why,
				   sizeof(why)) == 0 && negate != r->g->nodes[idx].negate)
			snprintf(why, sizeof(why), "node \"%s\" was declared with \"negate\": %s",
				 name, r->g->nodes[idx].negate ? "true" : "false");
		else if (why[0] == '\0')
			goto out;
		rc = bl_err_set(r->err, -EINVAL, "%s: %s", where, why);
	} else if ((idx = bl_gdesc_add_node(r->g, name, filter)) == -E2BIG) {
		rc = bl_err_set(r->err, -EINVAL, "%s: too many nodes: a graph holds at most %d",
				where, BL_GDESC_MAX_NODES);
	} else if (idx < 0) {
		rc = bl_err_set(r->err, -ENOMEM, "%s: out of memory", where);
	} else {
		struct bl_gdesc_node *n = &r->g->nodes[idx];
		n->args = args;
		memset(&args, 0, sizeof(args));
		n->negate = negate;
		n->named = true;
	}
out:
	bl_args_free(&args);
	return rc;
}

/* The node an edge end names; errors suggest the closest name. */
static int
edge_end(struct jr *r, const cJSON *edge, const char *key, const char *where)
{
	const char *name = NULL;
	const char **names;
	const char *s;
	int idx;

	if (name_field(r, edge, key, where, &name) < 0)
		return -EINVAL;
	if ((idx = bl_gdesc_find(r->g, name)) >= 0)
		return idx;
	names = calloc(r->g->n_nodes + 1, sizeof(*names));
	if (names == NULL)
		return bl_err_set(r->err, -ENOMEM, "%s.%s: out of memory", where, key);
	for (unsigned int i = 0; i < r->g->n_nodes; i++)
		names[i] = r->g->nodes[i].name;
	s = bl_suggest(name, names);
	if (s != NULL)
		bl_err_set(r->err, -EINVAL, "%s.%s: no node named \"%s\" (did you mean \"%s\"?)",
			   where, key, name, s);
	else
		bl_err_set(r->err, -EINVAL, "%s.%s: no node named \"%s\"", where, key, name);
	free(names);
	return -EINVAL;
}

static int
read_edge(struct jr *r, const cJSON *edge, const char *where)
{
	const cJSON *lv;
	struct bl_label l = { 0 };
	char why[BL_PIPE_WHY_MAX], num[32];
	int from, to;

	if (!cJSON_IsObject(edge))
		return bl_err_set(r->err, -EINVAL, "%s: expected an object, got %s", where,
				  bl_json_type(edge));
	if (check_keys(r, edge, where, edge_keys) < 0)
		return -EINVAL;
	if ((from = edge_end(r, edge, "from", where)) < 0)
		return from;
	if ((to = edge_end(r, edge, "to", where)) < 0)
		return to;
	lv = cJSON_GetObjectItemCaseSensitive(edge, "label");
	if (lv != NULL) {
		const char *text;
		if (cJSON_IsNumber(lv)) {
			/* not finite ("inf" would read as a class name) or not whole: no class */
			snprintf(num, sizeof(num), "%.0f", lv->valuedouble);
			text = isfinite(lv->valuedouble) &&
			       lv->valuedouble == floor(lv->valuedouble) ? num : "?";
		} else if (cJSON_IsString(lv)) {
			text = lv->valuestring;
			if (text[0] == '\0')
				return bl_err_set(r->err, -EINVAL, "%s.label: expected a label such "
						  "as \"80\", \"!80\", \"22:23\" or \"all\" (leave "
						  "\"label\" out for the default)", where);
		} else {
			return bl_err_set(r->err, -EINVAL, "%s.label: expected a string or a "
					  "number, got %s", where, bl_json_type(lv));
		}
		if (bl_pipe__label(text, strlen(text), &l, why, sizeof(why)) < 0)
			return bl_err_set(r->err, -EINVAL, "%s.label: %s", where, why);
	}
	switch (bl_gdesc_add_edge(r->g, (unsigned int)from, (unsigned int)to, &l, 0)) {
	case -E2BIG:
		return bl_err_set(r->err, -EINVAL, "%s: too many edges: a graph holds at most %d",
				  where, BL_GDESC_MAX_EDGES);
	case -ENOMEM:
		return bl_err_set(r->err, -ENOMEM, "%s: out of memory", where);
	default:
		break;
	}
	return 0;
}

static int
read_graph(struct jr *r, const cJSON *graph)
{
	const cJSON *nodes, *edges, *v;
	char where[BL_ERR_MSG_MAX];
	unsigned int i;

	if (!cJSON_IsObject(graph))
		return bl_err_set(r->err, -EINVAL, "%s: expected an object with \"nodes\" and "
				  "\"edges\", got %s", r->path, bl_json_type(graph));
	if (check_keys(r, graph, r->path, graph_keys) < 0)
		return -EINVAL;
	nodes = cJSON_GetObjectItemCaseSensitive(graph, "nodes");
	edges = cJSON_GetObjectItemCaseSensitive(graph, "edges");
	if (nodes == NULL)
		return bl_err_set(r->err, -EINVAL, "%s: missing \"nodes\"", r->path);
	if (!cJSON_IsArray(nodes))
		return bl_err_set(r->err, -EINVAL, "%s.nodes: expected an array, got %s",
				  r->path, bl_json_type(nodes));
	if (cJSON_GetArraySize(nodes) == 0)
		return bl_err_set(r->err, -EINVAL, "%s.nodes: expected at least one node",
				  r->path);
	if (edges != NULL && !cJSON_IsArray(edges))
		return bl_err_set(r->err, -EINVAL, "%s.edges: expected an array, got %s",
				  r->path, bl_json_type(edges));
	i = 0;
	cJSON_ArrayForEach(v, nodes) {
		snprintf(where, sizeof(where), "%s.nodes[%u]", r->path, i++);
		if (read_node(r, v, where) < 0)
			return r->err ? r->err->code : -EINVAL;
	}
	i = 0;
	cJSON_ArrayForEach(v, edges) {
		snprintf(where, sizeof(where), "%s.edges[%u]", r->path, i++);
		if (read_edge(r, v, where) < 0)
			return r->err ? r->err->code : -EINVAL;
	}
	return 0;
}

int
bl_gdesc_from_json(const struct cJSON *graph, const char *path,
		   const struct bl_pipe_opts *opts, struct bl_gdesc *g, struct bl_err *err)
{
	struct bl_err local;
	struct jr r = { .path = path ? path : "graph", .opts = opts, .g = g,
			.err = err ? err : &local, .base = g->n_nodes };
	unsigned int n_edges = g->n_edges;
	int rc;

	bl_err_clear(r.err);
	if (graph == NULL)
		return bl_err_set(err, -EINVAL, "%s: missing", r.path);
	rc = read_graph(&r, graph);
	if (rc < 0) {
		bl_gdesc_truncate(g, r.base, n_edges);
		return r.err->code < 0 ? r.err->code : -EINVAL;
	}
	return 0;
}
