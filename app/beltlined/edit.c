/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live edits of a running graph (edit.h; docs/control.md, "edit"). The running
 * config's graph text is read as a description with common prefixes shared (so
 * its filter names are those stats and beltline mount show), a node and an edge
 * are added to it or one edge (and the node, when nothing else feeds it) taken
 * out, the result is written back as pipeline text, read back to be sure it is
 * the same graph, and the config that results is reloaded (reload.c: what needs
 * a restart, the dry run of the whole config, the swap). The filters that stay
 * keep their instance, state and counters, the one a branch hangs from included
 * (its out-edges are not part of what adoption compares: bl_graph.h).
 *
 * The config file is not written: the running config is the file's plus the
 * edits, and the next reload from the file drops them (reload.c logs it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_filter.h"
#include "bl_graph.h"
#include "bl_log.h"
#include "bl_pipe.h"
#include "edit.h"
#include "graphs.h"
#include "reload.h"

/* g without the edges from p to c, and without node c when drop_node (into out). */
static int
without(const struct bl_gdesc *g, unsigned int p, unsigned int c, bool drop_node, struct bl_gdesc *out)
{
	unsigned int map[BL_GDESC_MAX_NODES];
	int rc = 0;

	bl_gdesc_init(out);
	for (unsigned int i = 0; i < g->n_nodes && rc >= 0; i++) {
		const struct bl_gdesc_node *nd = &g->nodes[i];
		if (drop_node && i == c)
			continue;
		rc = bl_gdesc_add_node(out, nd->name, nd->filter);
		if (rc < 0)
			break;
		map[i] = (unsigned int)rc;
		out->nodes[rc].negate = nd->negate;
		out->nodes[rc].named = nd->named;
		out->nodes[rc].col = nd->col;
		for (unsigned int a = 0; a < nd->args.n && rc >= 0; a++)
			if (bl_args_add(&out->nodes[map[i]].args, nd->args.v[a].key, nd->args.v[a].value,
					nd->args.v[a].col) < 0)
				rc = -ENOMEM;
	}
	for (unsigned int k = 0; k < g->n_edges && rc >= 0; k++) {
		const struct bl_gdesc_edge *e = &g->edges[k];
		if (e->from == p && e->to == c)
			continue;
		rc = bl_gdesc_add_edge(out, map[e->from], map[e->to], &e->label, e->col);
	}
	if (rc < 0) {
		bl_gdesc_free(out);
		return rc;
	}
	return 0;
}

/* Add ed->filter after node p of g (in place); the new node's index, or -errno (err). */
static int
add_after(struct bl_gdesc *g, unsigned int p, const struct bl_edit *ed, struct bl_err *err)
{
	struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	unsigned int n0 = g->n_nodes, m0 = g->n_edges, n_alone;
	const struct bl_filter_ops *ops;
	struct bl_gdesc alone;
	struct bl_label l;
	struct bl_err e;
	int rc;

	bl_err_clear(&e);
	if (bl_label_parse(ed->label != NULL ? ed->label : "", &l, &e) != 0)
		return bl_err_set(err, -EINVAL, "graphs[%u]: the edge from \"%s\": %s", ed->graph,
				  ed->parent, e.msg);
	/* Parsed on its own first: text with no filter in it (blanks, "") adds no node to g
	 * either, which would look like a name g has already. */
	bl_gdesc_init(&alone);
	rc = bl_pipe_parse(ed->filter, &opts, &alone, &e);
	n_alone = alone.n_nodes;
	bl_gdesc_free(&alone);
	if (rc == 0 && n_alone == 0)
		return bl_err_set(err, -EINVAL, "graphs[%u]: new filter \"%.40s\": names no filter "
				  "(give one filter's text, e.g. \"count --name=web\")", ed->graph,
				  ed->filter);
	bl_err_clear(&e);
	rc = bl_pipe_parse(ed->filter, &opts, g, &e);
	if (rc != 0)
		return bl_err_set(err, rc, "graphs[%u]: new filter \"%s\": %s", ed->graph, ed->filter,
				  e.msg);
	if (g->n_nodes == n0 && g->n_edges == m0)
		return bl_err_set(err, -EEXIST, "graphs[%u]: new filter \"%s\": names a filter the "
				  "graph has already (give it another --name=)", ed->graph, ed->filter);
	if (g->n_nodes != n0 + 1 || g->n_edges != m0)
		return bl_err_set(err, -EINVAL, "graphs[%u]: new filter \"%s\": one filter (its name "
				  "and arguments) is added at a time, not a pipeline", ed->graph, ed->filter);
	/* Said here, in the request's words: the dry run would say it of the regenerated
	 * text, at a column and under a name ("gen2") the user never wrote. */
	ops = bl_filter_lookup(g->nodes[n0].filter);
	if (ops != NULL && (ops->flags & BL_FILTER_F_SOURCE))
		return bl_err_set(err, -EINVAL, "graphs[%u]: new filter \"%s\": is a source: nothing "
				  "can feed it (a source is added in the config file, then beltline "
				  "reload)", ed->graph, ed->filter);
	rc = bl_gdesc_add_edge(g, p, n0, &l, 0);
	if (rc < 0)
		return bl_err_set(err, rc, "graphs[%u]: %s", ed->graph, strerror(-rc));
	rc = bl_graph_share_prefixes(g);   /* only the new node can merge: the rest was shared */
	if (rc < 0)
		return bl_err_set(err, -ENOMEM, "out of memory");
	if (rc > 0)
		return bl_err_set(err, -EEXIST, "graphs[%u]: \"%s\" feeds a filter \"%s\" with these "
				  "arguments over this label already", ed->graph, ed->parent, ed->filter);
	return (int)n0;
}

/* The edit, up to the reload: the new config in ncfg, `what` for the log. */
static int
edit(struct bl_app *app, const struct bl_edit *ed, struct bl_cfg *ncfg, char *name, size_t name_len,
     char *what, size_t what_len, struct bl_err *err)
{
	struct bl_gdesc g, h, back;
	struct bl_gdesc *res = &g;
	char *text = NULL;
	int p = -ENOENT, c, rc;

	bl_gdesc_init(&h);
	bl_gdesc_init(&back);
	if (ed->graph >= app->cfg.n_graphs)
		return bl_err_set(err, -ENOENT, "graphs[%u]: the config has %u graph%s", ed->graph,
				  app->cfg.n_graphs, app->cfg.n_graphs == 1 ? "" : "s");
	rc = bl_app_graph_desc(&app->cfg, ed->graph, &g, err);
	if (rc != 0)
		goto out;
	if (ed->parent != NULL && (p = bl_gdesc_find(&g, ed->parent)) < 0) {
		rc = bl_err_set(err, -ENOENT, "graphs[%u]: no filter \"%s\"", ed->graph, ed->parent);
		goto out;
	}
	if (!ed->remove) {
		if (p < 0) {
			rc = bl_err_set(err, -EACCES, "graphs[%u]: a new filter needs one to follow "
					"(a source is added in the config file, then beltline reload)",
					ed->graph);
			goto out;
		}
		if ((c = add_after(&g, (unsigned int)p, ed, err)) < 0) {
			rc = c;
			goto out;
		}
		snprintf(name, name_len, "%s", g.nodes[c].name);
		snprintf(what, what_len, "graphs[%u] edited live: filter \"%s\" (%s) added after \"%s\"%s%s",
			 ed->graph, g.nodes[c].name, ed->filter, ed->parent,
			 ed->label != NULL && ed->label[0] ? " |" : "", ed->label != NULL ? ed->label : "");
	} else {
		unsigned int n_in = 0, n_from_p = 0, n_out = 0;
		char outs[128] = "";

		if ((c = bl_gdesc_find(&g, ed->filter)) < 0) {
			rc = bl_err_set(err, -ENOENT, "graphs[%u]: no filter \"%s\"", ed->graph, ed->filter);
			goto out;
		}
		for (unsigned int k = 0; k < g.n_edges; k++) {
			const struct bl_gdesc_edge *e = &g.edges[k];
			n_in += e->to == (unsigned int)c;
			n_from_p += e->to == (unsigned int)c && e->from == (unsigned int)p;
			if (e->from == (unsigned int)c && n_out++ < 4)
				snprintf(outs + strlen(outs), sizeof(outs) - strlen(outs), "%s%s",
					 n_out > 1 ? ", " : "", g.nodes[e->to].name);
		}
		if (n_in == 0) {
			rc = bl_err_set(err, -EACCES, "graphs[%u]: \"%s\" is a source (nothing feeds it): "
					"it is removed from the config file, then beltline reload",
					ed->graph, ed->filter);
			goto out;
		}
		if (p < 0 || n_from_p == 0) {
			rc = bl_err_set(err, -ENOENT, "graphs[%u]: \"%s\" does not feed \"%s\"", ed->graph,
					ed->parent != NULL ? ed->parent : "(none named)", ed->filter);
			goto out;
		}
		if (n_out != 0) {
			rc = bl_err_set(err, -ENOTEMPTY, "graphs[%u]: \"%s\" feeds %s%s: remove %s first",
					ed->graph, ed->filter, outs, n_out > 4 ? ", ..." : "",
					n_out == 1 ? "it" : "them");
			goto out;
		}
		rc = without(&g, (unsigned int)p, (unsigned int)c, n_in == n_from_p, &h);
		if (rc != 0) {
			rc = bl_err_set(err, rc, "graphs[%u]: %s", ed->graph, strerror(-rc));
			goto out;
		}
		res = &h;
		snprintf(name, name_len, "%s", ed->filter);
		snprintf(what, what_len, "graphs[%u] edited live: filter \"%s\" %s after \"%s\"", ed->graph,
			 ed->filter, n_in == n_from_p ? "removed" : "no longer fed", ed->parent);
	}
	text = bl_pipe_print_dup(res);
	if (text == NULL) {
		rc = bl_err_set(err, -EINVAL, "graphs[%u]: the edited graph cannot be written as "
				"pipeline text", ed->graph);
		goto out;
	}
	if (strlen(text) >= sizeof(ncfg->graphs[0].text)) {
		rc = bl_err_set(err, -E2BIG, "graphs[%u].pipeline: the edited text would be %zu bytes, "
				"at most %zu are allowed", ed->graph, strlen(text),
				sizeof(ncfg->graphs[0].text) - 1);
		goto out;
	}
	*ncfg = app->cfg;
	snprintf(ncfg->graphs[ed->graph].text, sizeof(ncfg->graphs[0].text), "%s", text);
	ncfg->graphs[ed->graph].json = false;   /* a JSON graph edited live runs as pipeline text */
	/* One text now, no longer the file's "pipeline" array: errors (graphs.c blame) give
	 * the column of this text, not an element of the array and its column. */
	ncfg->graphs[ed->graph].n_parts = 0;
	/* Read back as a build will: the same graph, or nothing changes (sharing could merge
	 * what the removal left alike). */
	rc = bl_app_graph_desc(ncfg, ed->graph, &back, err);
	if (rc == 0 && !bl_gdesc_equal(res, &back))
		rc = bl_err_set(err, -EINVAL, "graphs[%u]: the edited graph does not read back as "
				"itself (prefix sharing would merge filters the edit left alike)", ed->graph);
out:
	free(text);
	bl_gdesc_free(&back);
	bl_gdesc_free(&h);
	bl_gdesc_free(&g);
	return rc;
}

/* A call site per kind of refusal (bl_log limits each site's rate): a user's typos do
 * not hide a refusal of another kind. */
static void
say_refused(int rc, const char *why)
{
	switch (rc) {
	case -EINVAL:
		bl_log(BL_LOG_WARNING, "edit refused, the running graphs are unchanged: %s", why);
		break;
	case -ENOENT:
		bl_log(BL_LOG_WARNING, "edit refused (no such filter), the running graphs are unchanged: "
		       "%s", why);
		break;
	case -EEXIST:
		bl_log(BL_LOG_WARNING, "edit refused (there already), the running graphs are unchanged: "
		       "%s", why);
		break;
	case -ENOTEMPTY:
		bl_log(BL_LOG_WARNING, "edit refused (it feeds others), the running graphs are "
		       "unchanged: %s", why);
		break;
	case -EACCES:
		bl_log(BL_LOG_WARNING, "edit refused (not done live), the running graphs are "
		       "unchanged: %s", why);
		break;
	default:
		bl_log(BL_LOG_WARNING, "edit refused (the reload failed), the running graphs are "
		       "unchanged: %s", why);
		break;
	}
}

int
bl_app_edit(struct bl_app *app, const struct bl_edit *ed, char *name, size_t name_len,
	    struct bl_err *err)
{
	static struct bl_cfg ncfg;
	char what[256];
	int rc;

	bl_err_clear(err);
	rc = edit(app, ed, &ncfg, name, name_len, what, sizeof(what), err);
	if (rc == 0)
		rc = bl_app_reload_edited(app, &ncfg, what, err);
	if (rc != 0)
		say_refused(rc, err->msg);
	return rc;
}
