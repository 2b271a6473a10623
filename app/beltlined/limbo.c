/* SPDX-License-Identifier: BSD-3-Clause */
/* limbo — what a swap could not free yet (see limbo.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "bl_log.h"
#include "bl_port.h"
#include "limbo.h"
#include "worker.h"

#define LIMBO_MAX 256u

struct item {
	uint64_t epoch;
	void (*fn)(void *);
	void *arg;
	char what[48];
};

static struct item items[LIMBO_MAX];   /* main lcore only */
static unsigned int n_items;

struct port {
	struct bl_cfg_port cfg;
	uint16_t id;
};

static void
port_close(void *arg)
{
	struct port *p = arg;
	static struct bl_cfg one;   /* bl_port_close reads the port from a config */

	one.n_ports = 1;
	one.ports[0] = p->cfg;
	bl_port_close(&one, 0, p->id);
	free(p);
}

void
bl_limbo_add(struct bl_app *app, uint64_t epoch, void (*fn)(void *), void *arg, const char *what)
{
	(void)app;
	if (n_items == LIMBO_MAX) {
		bl_log(BL_LOG_WARNING, "%s: kept for good: %u things already wait for stalled "
		       "workers", what, LIMBO_MAX);
		return;
	}
	items[n_items] = (struct item){ .epoch = epoch, .fn = fn, .arg = arg };
	snprintf(items[n_items].what, sizeof(items[n_items].what), "%s", what);
	n_items++;
}

void
bl_limbo_add_port(struct bl_app *app, uint64_t epoch, const struct bl_cfg_port *p, uint16_t port_id)
{
	struct port *c = malloc(sizeof(*c));
	char what[48];

	snprintf(what, sizeof(what), "port \"%s\"", p->name);
	if (c == NULL) {
		bl_log(BL_LOG_WARNING, "%s: left open for good: out of memory", what);
		return;
	}
	c->cfg = *p;
	c->id = port_id;
	bl_limbo_add(app, epoch, port_close, c, what);
}

void
bl_limbo_add_runs(struct bl_app *app, uint64_t epoch)
{
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct bl_worker *w = &app->workers[i];
		if (w->run_old != NULL) {
			bl_limbo_add(app, epoch, free, w->run_old, "a run set");
			w->run_old = NULL;
		}
	}
}

void
bl_limbo_reap(struct bl_app *app, bool force)
{
	unsigned int kept = 0, freed = 0;
	uint64_t upto = 0;
	char first[48] = "";

	if (n_items == 0)
		return;
	/* Each item goes once every worker passed its epoch: one look, no wait. */
	for (unsigned int i = 0; i < n_items; i++) {
		if (force || bl_worker_wait_epoch(app->workers, app->n_workers, items[i].epoch, 0)) {
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", items[i].what);
			if (items[i].epoch > upto)
				upto = items[i].epoch;
			items[i].fn(items[i].arg);
			freed++;
		} else {
			items[kept++] = items[i];
		}
	}
	n_items = kept;
	if (freed != 0)
		bl_log(BL_LOG_NOTICE, "the workers passed epoch %llu at last: freed %u thing%s a swap "
		       "left (%s%s)%s", (unsigned long long)upto, freed, freed == 1 ? "" : "s", first,
		       freed > 1 ? ", ..." : "", force ? " at exit" : "");
}

unsigned int
bl_limbo_count(void)
{
	return n_items;
}
