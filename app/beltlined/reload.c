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
#include <unistd.h>

#include <rte_mempool.h>

#include "bl_dbuf.h"
#include "bl_port.h"
#include "graphs.h"
#include "limbo.h"
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

/* The new config's ports against the running ones, matched by name. */
struct port_plan {
	int was[BL_CFG_MAX_PORTS];        /* new index: the running port's index, or -1 (added) */
	bool gone[BL_CFG_MAX_PORTS];      /* running index: not in the new config (removed) */
	uint16_t id[BL_CFG_MAX_PORTS];    /* new index: its DPDK port */
	bool opened[BL_CFG_MAX_PORTS];    /* new index: opened by this reload */
};

/* Whether a running port and its namesake in the new config are the same port. tx_queues
 * counts only when given (unset, it is one per worker, cut to what the device has). */
static bool
same_port(const struct bl_cfg_port *a, const struct bl_cfg_port *b)
{
	return strcmp(a->vdev, b->vdev) == 0 && strcmp(a->pci, b->pci) == 0 &&
	       a->rx_queues == b->rx_queues && a->rx_desc == b->rx_desc && a->tx_desc == b->tx_desc &&
	       a->tx_queues_auto == b->tx_queues_auto && (b->tx_queues_auto || a->tx_queues == b->tx_queues);
}

/* Match ports by name: kept, added (a vdev: made live), removed (a vdev: closed once no
 * worker polls it); a changed or PCI one needs a restart, named in buf. */
static void
plan_ports(const struct bl_cfg *a, const struct bl_cfg *b, struct port_plan *pp, char *buf, size_t len)
{
	char what[96];

	for (unsigned int i = 0; i < a->n_ports; i++)
		pp->gone[i] = true;
	for (unsigned int j = 0; j < b->n_ports; j++) {
		pp->was[j] = -1;
		pp->opened[j] = false;
		for (unsigned int i = 0; i < a->n_ports; i++)
			if (strcmp(a->ports[i].name, b->ports[j].name) == 0) {
				pp->was[j] = (int)i;
				pp->gone[i] = false;
				if (!same_port(&a->ports[i], &b->ports[j])) {
					snprintf(what, sizeof(what), "ports \"%s\" (its settings)", b->ports[j].name);
					add(buf, len, what);
				}
			}
		if (pp->was[j] < 0 && b->ports[j].pci[0] != '\0') {
			snprintf(what, sizeof(what), "ports \"%s\" (a PCI port is added at start only)",
				 b->ports[j].name);
			add(buf, len, what);
		}
	}
	for (unsigned int i = 0; i < a->n_ports; i++)
		if (pp->gone[i] && a->ports[i].pci[0] != '\0') {
			snprintf(what, sizeof(what), "ports \"%s\" (a PCI port is removed at stop only)",
				 a->ports[i].name);
			add(buf, len, what);
		}
}

/* "1,2,5" (the first few) into buf. */
static void
lcore_list(const unsigned int *l, unsigned int n, char *buf, size_t len)
{
	size_t k = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && k + 16 < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%u", i ? "," : "", l[i]);
	if (i < n)
		snprintf(buf + k, len - k, ",...");
}

/* What cannot change live, by config key; "" when nothing. pool: the running pool's size. */
static void
needs_restart(const struct bl_cfg *a, const struct bl_cfg *b, unsigned int pool, struct port_plan *pp,
	      char *buf, size_t len)
{
	unsigned int la[BL_CFG_MAX_WORKERS], lb[BL_CFG_MAX_WORKERS];
	unsigned int na = bl_cfg_worker_lcores(a, la), nb = bl_cfg_worker_lcores(b, lb);
	char what[160];

	buf[0] = '\0';
	if (a->main_lcore != b->main_lcore) {
		snprintf(what, sizeof(what), "main_lcore (%u, now %u)", a->main_lcore, b->main_lcore);
		add(buf, len, what);
	}
	if (na != nb || memcmp(la, lb, na * sizeof(la[0])) != 0) {
		char sa[64], sb[64];
		lcore_list(la, na, sa, sizeof(sa));
		lcore_list(lb, nb, sb, sizeof(sb));
		snprintf(what, sizeof(what), "the worker lcores (%s, now %s)", sa, sb);
		add(buf, len, what);
	}
	/* the running lcores' CPUs (an lcore that does not run has no thread to move) */
	for (unsigned int i = 0; i <= na; i++) {
		unsigned int l = i < na ? la[i] : a->main_lcore;
		if (bl_cfg_cpu_of(a, l) != bl_cfg_cpu_of(b, l)) {
			snprintf(what, sizeof(what), "lcore_cpu (lcore %u on CPU %u, now %u)", l,
				 bl_cfg_cpu_of(a, l), bl_cfg_cpu_of(b, l));
			add(buf, len, what);
			break;
		}
	}
	if (a->hugepages != b->hugepages || a->mem_mb != b->mem_mb)
		add(buf, len, "memory");
	if (a->multiprocess != b->multiprocess)   /* EAL's runtime files and pdump: set at start */
		add(buf, len, "memory.multiprocess");
	/* The pool stays: a config that names another size, or whose rings (ports added)
	 * need a bigger one than runs, needs a restart. */
	if (b->mbufs != 0 ? b->mbufs != pool : bl_cfg_pool_size(b) > pool)
		add(buf, len, "mbufs.count (the pool's size)");
	if (a->mbuf_cache != b->mbuf_cache)   /* each lcore's cache is made with the pool */
		add(buf, len, "mbufs.cache");
	if (a->mbuf_data_room != b->mbuf_data_room)
		add(buf, len, "mbufs.data_room");
	if (a->pkt_mode != b->pkt_mode)
		add(buf, len, "memory.packet_mode");
	if (a->burst != b->burst)
		add(buf, len, "burst");
	/* the socket's (made at start); control.idle_ms and slow_ms are applied live */
	if (a->ctl_mode != b->ctl_mode)
		add(buf, len, "control.mode");
	if (a->ctl_gid != b->ctl_gid)
		add(buf, len, "control.group");
	plan_ports(a, b, pp, buf, len);
}

static void
close_opened(struct bl_cfg *ncfg, const struct port_plan *pp)
{
	for (unsigned int j = 0; j < ncfg->n_ports; j++)
		if (pp->opened[j])
			bl_port_close(ncfg, j, pp->id[j]);
}

/* Open the added ports (the kept ones keep their DPDK port and the queue counts they got). */
static int
open_added(struct bl_app *app, struct bl_cfg *ncfg, struct port_plan *pp, struct bl_err *err)
{
	for (unsigned int j = 0; j < ncfg->n_ports; j++) {
		if (pp->was[j] >= 0) {
			pp->id[j] = app->port_id[pp->was[j]];
			ncfg->ports[j].tx_queues = app->cfg.ports[pp->was[j]].tx_queues;
			/* what the device said at its start (bl_port.c): a new config does not know */
			ncfg->ports[j].tx_single_seg = app->cfg.ports[pp->was[j]].tx_single_seg;
			continue;
		}
		if (bl_graph_test_step_fails()) {
			close_opened(ncfg, pp);
			return bl_err_set(err, -EIO, "injected failure at adding port \"%s\"",
					  ncfg->ports[j].name);
		}
		struct bl_diag fd = { 0 };
		if (bl_cfg_check_port_files(ncfg, j, &fd) != 0) {   /* said better than DPDK would */
			size_t n = fd.text != NULL ? strcspn(fd.text, "\n") : 0;
			bl_err_set(err, -ENOENT, "%.*s", (int)n, fd.text != NULL ? fd.text : "");
			bl_diag_free(&fd);
			close_opened(ncfg, pp);
			return -ENOENT;
		}
		bl_diag_free(&fd);
		/* A FIFO the driver would wait on (for a reader, or for its header) held the
		 * main lcore in open(2): control socket and tick dead until one came. Its other
		 * end is held here until the driver has opened it. */
		int held[4], n_held = bl_cfg_port_fifos_ready(ncfg, j, held, 4, &fd);
		if (n_held < 0) {
			size_t n = fd.text != NULL ? strcspn(fd.text, "\n") : 0;
			bl_err_set(err, -EAGAIN, "%.*s", (int)n, fd.text != NULL ? fd.text : "");
			bl_diag_free(&fd);
			close_opened(ncfg, pp);
			return -EAGAIN;
		}
		int rc = bl_port_open(ncfg, j, app->pool, &pp->id[j], err);
		while (n_held > 0)
			close(held[--n_held]);
		if (rc != 0) {
			close_opened(ncfg, pp);
			return rc;
		}
		pp->opened[j] = true;
		bl_log(BL_LOG_NOTICE, "reload: port \"%s\" (%s) added as DPDK port %u", ncfg->ports[j].name,
		       ncfg->ports[j].vdev, pp->id[j]);
	}
	return 0;
}

/* After the swap: close the removed ports (no worker polls them once every worker passed
 * the epoch), and index the per-port state by the new config's ports. */
static void
settle_ports(struct bl_app *app, const struct bl_cfg *ncfg, const struct port_plan *pp)
{
	uint64_t claims[BL_CFG_MAX_PORTS] = { 0 }, flushed[BL_CFG_MAX_PORTS] = { 0 };
	bool settled = bl_worker_wait_epoch(app->workers, app->n_workers, app->epoch, 0);

	for (unsigned int i = 0; i < app->cfg.n_ports; i++) {
		if (!pp->gone[i])
			continue;
		if (!settled) {   /* a worker may still hold the old graphs: closed once it is past */
			bl_log(BL_LOG_WARNING, "reload: port \"%s\" closes once every worker has "
			       "passed epoch %llu", app->cfg.ports[i].name, (unsigned long long)app->epoch);
			bl_limbo_add_port(app, app->epoch, &app->cfg.ports[i], app->port_id[i]);
			continue;
		}
		bl_port_close(&app->cfg, i, app->port_id[i]);
		bl_log(BL_LOG_NOTICE, "reload: port \"%s\" removed", app->cfg.ports[i].name);
	}
	for (unsigned int j = 0; j < ncfg->n_ports; j++) {
		if (pp->was[j] >= 0) {
			claims[j] = app->rx_claims[pp->was[j]];
			flushed[j] = app->rx_flushed[pp->was[j]];
		}
		app->port_id[j] = pp->id[j];
		app->port_open[j] = true;
	}
	for (unsigned int j = ncfg->n_ports; j < BL_CFG_MAX_PORTS; j++)
		app->port_open[j] = false;
	memcpy(app->rx_claims, claims, sizeof(claims));
	memcpy(app->rx_flushed, flushed, sizeof(flushed));
}

/* From a new config in hand on (read from the file path, or the running one edited live:
 * path then names the edit): what needs a restart, the dry run, the ports, the swap.
 * On success ncfg is the running config. */
static int
reload_to(struct bl_app *app, struct bl_cfg *ncfg, const char *path, struct bl_err *err)
{
	static struct port_plan pp;
	struct bl_diag diag = { 0 };
	char what[256];
	int rc;

	if (bl_graph_test_step_fails())
		return bl_err_set(err, -EIO, "injected failure at comparing the configs");
	needs_restart(&app->cfg, ncfg, app->pool != NULL ? app->pool->size : bl_cfg_pool_size(&app->cfg),
		      &pp, what, sizeof(what));
	if (what[0] != '\0')
		return bl_err_set(err, -EPERM, "%s: %s changed: needs a restart", path, what);
	if (bl_app_graphs_check_beside(ncfg, app->pool != NULL ? app->pool->size : 0, &diag) != 0) {
		const char *nl = diag.text != NULL ? strchr(diag.text, '\n') : NULL;
		bl_err_set(err, -EINVAL, "%.*s%s", nl != NULL ? (int)(nl - diag.text) : 200,
			   diag.text != NULL ? diag.text : "the dry run failed",
			   diag.n > 1 ? " (and more: beltlined --check says all)" : "");
		bl_diag_free(&diag);
		return -EINVAL;
	}
	bl_diag_free(&diag);
	if ((rc = open_added(app, ncfg, &pp, err)) != 0)
		return rc;
	rc = bl_app_graphs_swap(app, ncfg, pp.id, err);
	if (rc != 0) {
		close_opened(ncfg, &pp);
		return rc;
	}
	settle_ports(app, ncfg, &pp);
	app->cfg = *ncfg;
	/* What receive keeps is the new ports' (the dry run held the new config's rings to it):
	 * a tap made after a reload that added ports is held to it, not to the start's. */
	if (app->dbuf != NULL)
		bl_dbuf_set_min_free(app->dbuf, bl_cfg_mbufs_needed(ncfg));
	for (unsigned int i = 0; i < app->n_workers; i++)   /* relaxed: see worker.h */
		__atomic_store_n(&app->workers[i].idle_sleep_us, ncfg->idle_sleep_us, __ATOMIC_RELAXED);
	return 0;
}

static int
reload(struct bl_app *app, const char *path, struct bl_err *err)
{
	static struct bl_cfg ncfg;
	struct bl_diag diag = { 0 };

	if (path == NULL)
		return bl_err_set(err, -EINVAL, "started from flags, not a config file: give one "
				  "(beltline reload CONFIG.json)");
	if (bl_graph_test_step_fails())
		return bl_err_set(err, -EIO, "%s: injected failure at reading it", path);
	if (bl_cfg_load(path, &ncfg, &diag) != 0 ||
	    (app->overrides != NULL && app->overrides(&ncfg, &diag) != 0)) {
		const char *nl = diag.text != NULL ? strchr(diag.text, '\n') : NULL;
		bl_err_set(err, -EINVAL, "%.*s%s", nl != NULL ? (int)(nl - diag.text) : 200,
			   diag.text != NULL ? diag.text : "cannot read it",
			   diag.n > 1 ? " (and more: beltlined --check says all)" : "");
		bl_diag_free(&diag);
		return -EINVAL;
	}
	/* The instance is the process's (its socket, its EAL prefix): it stays. The
	 * overrides laid --instance over the file, so only a file's own change is said. */
	app->reload_note[0] = '\0';
	if (strcmp(ncfg.instance, app->cfg.instance) != 0)
		snprintf(app->reload_note, sizeof(app->reload_note), "instance: the file says "
			 "\"%s\", this appliance stays \"%s\" (a new name takes a restart)",
			 ncfg.instance, app->cfg.instance);
	snprintf(ncfg.instance, sizeof(ncfg.instance), "%s", app->cfg.instance);
	return reload_to(app, &ncfg, path, err);
}

/* A refusal names the file: its own problems (cannot open it, a key changed) do;
 * its content's are said as paths into it ("$: not valid JSON", "graphs[1].pipeline:
 * col 13"), and a reload may read a file the operator did not name (SIGHUP: the
 * last one). */
static void
name_the_file(const char *path, struct bl_err *err)
{
	char m[sizeof(err->msg)];

	if (path == NULL || strncmp(err->msg, path, strlen(path)) == 0)
		return;   /* none (started from flags: reload() said so), or named already */
	snprintf(m, sizeof(m), "%s", err->msg);
	bl_err_set(err, err->code, "%s: %s", path, m);
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
		name_the_file(p, err);
		app->reload_failures++;
		snprintf(app->reload_error, sizeof(app->reload_error), "%s", err->msg);
		bl_log(BL_LOG_WARNING, "reload refused, the old config runs on: %s", err->msg);
		bl_service_status("running; reload refused: %s", err->msg);
		return rc;
	}
	app->reloads++;
	app->reload_error[0] = '\0';
	if (app->live_edits != 0)   /* docs/control.md, "edit": the file is what runs now */
		bl_log(BL_LOG_NOTICE, "reload: %s replaces the running config and its %u live "
		       "edit%s (beltline mount's mkdir and rmdir, not in the file): gone", p,
		       app->live_edits, app->live_edits == 1 ? "" : "s");
	app->live_edits = 0;
	if (path != NULL && (app->config_path == NULL || strcmp(path, app->config_path) != 0)) {
		char *c = strdup(path);   /* the next plain reload reads this one */
		if (c != NULL) {
			free(app->config_path_owned);
			app->config_path = app->config_path_owned = c;
		}
	}
	if (app->reload_note[0] != '\0')
		bl_log(BL_LOG_WARNING, "reload: %s", app->reload_note);
	bl_log(BL_LOG_NOTICE, "reloaded %s (epoch %llu)", p, (unsigned long long)app->epoch);
	bl_service_status("running; reloaded %s (epoch %llu)", p, (unsigned long long)app->epoch);
	return 0;
}

int
bl_app_reload_edited(struct bl_app *app, struct bl_cfg *ncfg, const char *what, struct bl_err *err)
{
	int rc;

	bl_err_clear(err);
	bl_graph_test_fail_step(app->test_fail_step);
	rc = reload_to(app, ncfg, what, err);
	bl_graph_test_fail_step(0);
	app->test_fail_step = 0;
	if (rc != 0) {
		app->reload_failures++;
		snprintf(app->reload_error, sizeof(app->reload_error), "%s", err->msg);
		return rc;   /* the caller logs it (edit.c) */
	}
	app->reloads++;
	app->live_edits++;
	app->reload_error[0] = '\0';
	bl_log(BL_LOG_NOTICE, "%s (epoch %llu)", what, (unsigned long long)app->epoch);
	return 0;
}
