/* SPDX-License-Identifier: BSD-3-Clause */
/* service — sd_notify for Type=notify (service.h). Slow path, main lcore. */
#include <stdarg.h>
#include <stdio.h>

#ifdef BL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "app.h"
#include "service.h"

static void
notify(const char *state)
{
#ifdef BL_HAVE_SYSTEMD
	sd_notify(0, state);   /* no NOTIFY_SOCKET: 0, nothing sent */
#else
	(void)state;
#endif
}

void
bl_service_status(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	notify(line);
}

void
bl_service_ready(const struct bl_app *app)
{
	unsigned int n_graphs = 0;

	for (unsigned int i = 0; i < app->n_workers; i++)
		n_graphs += app->workers[i].n_graphs;
	notify("READY=1");
	bl_service_status("running: instance %s, %u port%s, %u graph%s on %u worker%s%s",
			  app->cfg.instance, app->cfg.n_ports, app->cfg.n_ports == 1 ? "" : "s",
			  n_graphs, n_graphs == 1 ? "" : "s", app->n_workers,
			  app->n_workers == 1 ? "" : "s",
			  app->ctl != NULL ? "" : ", no control socket");
}

void
bl_service_stopping(void)
{
	notify("STOPPING=1\nSTATUS=stopping");
}
