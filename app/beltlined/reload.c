/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload, in steps that each can refuse and leave the old config running:
 * read the file, refuse what needs a restart (named), dry-run the whole new
 * config as --check does, then build what changed beside what runs and swap it
 * in at a burst boundary (graphs.c). Graphs whose text and lcores stay keep
 * their filters, state and counters; in a graph that changed, so do the filters
 * that did not (bl_graph_env.adopt); streams that stay keep their ring and
 * readers. The test hook (BELTLINED_TEST_HOOKS=1, the reload op's fail_step)
 * fails the Nth step, these and the graph builds' alike.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphs.h"
#include "bl_log.h"
#include "reload.h"
#include "service.h"

static volatile sig_atomic_t asked;

void
bl_app_reload_ask(void)
{
	asked = 1;
}

bool
bl_app_reload_asked(void)
{
	if (!asked)
		return false;
	asked = 0;
	return true;
}

static void
add(char *buf, size_t len, const char *what)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", what);
}

/* What cannot change live, by config key; "" when nothing. */
static void
needs_restart(const struct bl_cfg *a, const struct bl_cfg *b, char *buf, size_t len)
{
	unsigned int la[BL_CFG_MAX_WORKERS], lb[BL_CFG_MAX_WORKERS];
	unsigned int na = bl_cfg_worker_lcores(a, la), nb = bl_cfg_worker_lcores(b, lb);

	buf[0] = '\0';
	if (a->main_lcore != b->main_lcore || na != nb || memcmp(la, lb, na * sizeof(la[0])) != 0 ||
	    memcmp(a->lcore_cpu, b->lcore_cpu, sizeof(a->lcore_cpu)) != 0)
		add(buf, len, "the worker lcores");
	if (a->hugepages != b->hugepages || a->mem_mb != b->mem_mb)
		add(buf, len, "memory");
	if (bl_cfg_pool_size(a) != bl_cfg_pool_size(b) || a->mbuf_cache != b->mbuf_cache ||
	    a->mbuf_data_room != b->mbuf_data_room)
		add(buf, len, "mbufs (the pool's size)");
	if (a->pkt_mode != b->pkt_mode)
		add(buf, len, "memory.packet_mode");
	if (a->burst != b->burst)
		add(buf, len, "burst");
	if (a->ctl_mode != b->ctl_mode || a->ctl_gid != b->ctl_gid)
		add(buf, len, "control");
	if (a->n_ports != b->n_ports || memcmp(a->ports, b->ports, a->n_ports * sizeof(a->ports[0])) != 0)
		add(buf, len, "ports (adding or removing one live is not done yet)");
}

static int
reload(struct bl_app *app, const char *path, struct bl_err *err)
{
	static struct bl_cfg ncfg;
	struct bl_diag diag = { 0 };
	char what[256];
	int rc;

	if (path == NULL)
		return bl_err_set(err, -EINVAL, "started from flags, not a config file: give one "
				  "(beltline reload CONFIG.json)");
	if (bl_graph_test_step_fails())
		return bl_err_set(err, -EIO, "%s: injected failure at reading it", path);
	if (bl_cfg_load(path, &ncfg, &diag) != 0) {
		const char *nl = diag.text != NULL ? strchr(diag.text, '\n') : NULL;
		bl_err_set(err, -EINVAL, "%.*s%s", nl != NULL ? (int)(nl - diag.text) : 200,
			   diag.text != NULL ? diag.text : "cannot read it",
			   diag.n > 1 ? " (and more: beltlined --check says all)" : "");
		bl_diag_free(&diag);
		return -EINVAL;
	}
	/* The instance is the process's (its socket, its EAL prefix): it stays. */
	snprintf(ncfg.instance, sizeof(ncfg.instance), "%s", app->cfg.instance);
	if (bl_graph_test_step_fails())
		return bl_err_set(err, -EIO, "injected failure at comparing the configs");
	needs_restart(&app->cfg, &ncfg, what, sizeof(what));
	if (what[0] != '\0')
		return bl_err_set(err, -EPERM, "%s: %s changed: needs a restart", path, what);
	if (bl_app_graphs_check_beside(&ncfg, &diag) != 0) {
		const char *nl = diag.text != NULL ? strchr(diag.text, '\n') : NULL;
		bl_err_set(err, -EINVAL, "%.*s%s", nl != NULL ? (int)(nl - diag.text) : 200,
			   diag.text != NULL ? diag.text : "the dry run failed",
			   diag.n > 1 ? " (and more: beltlined --check says all)" : "");
		bl_diag_free(&diag);
		return -EINVAL;
	}
	bl_diag_free(&diag);
	rc = bl_app_graphs_swap(app, &ncfg, err);
	if (rc != 0)
		return rc;
	app->cfg = ncfg;
	return 0;
}

int
bl_app_reload(struct bl_app *app, const char *path, struct bl_err *err)
{
	const char *p = path != NULL ? path : app->config_path;
	int rc;

	bl_err_clear(err);
	bl_graph_test_fail_step(app->test_fail_step);
	rc = reload(app, p, err);
	bl_graph_test_fail_step(0);
	app->test_fail_step = 0;
	if (rc != 0) {
		app->reload_failures++;
		snprintf(app->reload_error, sizeof(app->reload_error), "%s", err->msg);
		bl_log(BL_LOG_WARNING, "reload refused, the old config runs on: %s", err->msg);
		bl_service_status("running; reload refused: %s", err->msg);
		return rc;
	}
	app->reloads++;
	app->reload_error[0] = '\0';
	if (path != NULL && (app->config_path == NULL || strcmp(path, app->config_path) != 0)) {
		char *c = strdup(path);   /* the next plain reload reads this one */
		if (c != NULL) {
			free(app->config_path_owned);
			app->config_path = app->config_path_owned = c;
		}
	}
	bl_log(BL_LOG_NOTICE, "reloaded %s (epoch %llu)", p, (unsigned long long)app->epoch);
	bl_service_status("running; reloaded %s (epoch %llu)", p, (unsigned long long)app->epoch);
	return 0;
}
