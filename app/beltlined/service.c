/* SPDX-License-Identifier: BSD-3-Clause */
/* service — sd_notify for Type=notify (service.h). Slow path, main lcore. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#ifdef BL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif

#include "app.h"
#include "bl_log.h"
#include "bl_stream_proto.h"
#include "service.h"

static char log_instance[BL_INSTANCE_NAME_MAX];
static bool to_journal;
/* Where journald takes native messages (sd_journal_send's socket). */
#define BL_JOURNAL_SOCKET "/run/systemd/journal/socket"

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
	/* One line of text: a newline would start another assignment (a path or a reload's
	 * refusal can hold one: "STATUS=...\nREADY=1"), so control characters become spaces. */
	for (char *c = line + n; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
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

static void
journal_sink(enum bl_log_level level, const char *line, void *ctx)
{
	(void)ctx;
#ifdef BL_HAVE_SYSTEMD
	if (sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", (int)level,
			    "SYSLOG_IDENTIFIER=beltlined", "BELTLINE_INSTANCE=%s", log_instance,
			    NULL) == 0)
		return;
	fprintf(stderr, "<%d>beltlined: %s\n", (int)level, line);   /* no journal socket */
#else
	syslog((int)level, "[%s] %s", log_instance, line);
#endif
}

/* Is stderr the stream systemd connected to the journal? (systemd.exec(5), JOURNAL_STREAM) */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int
bl_service_log_to(const char *how, const char *instance)
{
	if (strcmp(how, "auto") == 0)
		to_journal = stderr_is_journal();
	else if (strcmp(how, "journal") == 0)
		to_journal = true;
	else if (strcmp(how, "stderr") == 0)
		to_journal = false;
	else
		return -EINVAL;
	snprintf(log_instance, sizeof(log_instance), "%s", instance);
#ifdef BL_HAVE_SYSTEMD
	/* sd_journal_send drops a message without a word (and says it was sent) when no
	 * journal listens: every line was lost. Then stderr, and said so. */
	if (to_journal && access(BL_JOURNAL_SOCKET, W_OK) != 0) {
		to_journal = false;
		bl_log_set_sink(NULL, NULL);
		bl_log(BL_LOG_WARNING, "--log journal: no journal on this machine (%s: %s): "
		       "logging to stderr", BL_JOURNAL_SOCKET, strerror(errno));
		return 0;
	}
#endif
	if (!to_journal) {
		bl_log_set_sink(NULL, NULL);
		return 0;
	}
#ifndef BL_HAVE_SYSTEMD
	openlog("beltlined", LOG_PID, LOG_DAEMON);
#endif
	bl_log_set_sink(journal_sink, NULL);
	return 0;
}

bool
bl_service_logs_to_journal(void)
{
	return to_journal;
}
