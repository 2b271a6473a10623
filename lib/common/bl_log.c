/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_log — log lines with a per-call-site rate limit (bl_log.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bl_log.h"
#include "bl_log_test.h"

#define SITES 64                  /* call sites tracked; a 65th shares no slot: unlimited */
#define LINE_MAX_ 1024

struct site {
	const char *fmt;              /* the key: a call site's format string; NULL: free */
	uint64_t since_ms;            /* this window's start */
	unsigned int said;            /* lines said in this window */
	uint64_t suppressed;          /* lines not said since the last one said */
	uint64_t suppressed_since_ms; /* when the first of them came */
	enum bl_log_level level;      /* of the last suppressed one */
	char last[256];               /* the last suppressed line, for bl_log_flush */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct site sites[SITES];
static bl_log_sink_fn *sink;
static void *sink_ctx;
static enum bl_log_level max_level = BL_LOG_INFO;

static uint64_t
real_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static uint64_t (*now_ms)(void) = real_now_ms;

static void
emit(enum bl_log_level level, const char *line)
{
	if (sink != NULL) {
		sink(level, line, sink_ctx);
		return;
	}
	fprintf(stderr, "beltlined: %s\n", line);
}

static struct site *
site_of(const char *fmt)
{
	struct site *free_slot = NULL;

	for (unsigned int i = 0; i < SITES; i++) {
		if (sites[i].fmt == fmt)
			return &sites[i];
		if (sites[i].fmt == NULL && free_slot == NULL)
			free_slot = &sites[i];
	}
	if (free_slot != NULL) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->fmt = fmt;
	}
	return free_slot;
}

/* " [N more like this suppressed in the last S s]" into tail, when there are;
 * at_flush: the line is the last of them, " [N like this suppressed ...; this the last]". */
static void
suppressed_tail(const struct site *s, uint64_t now, int at_flush, char *tail, size_t n)
{
	tail[0] = '\0';
	if (s->suppressed != 0)
		snprintf(tail, n, " [%llu %slike this suppressed in the last %llu s%s]",
			 (unsigned long long)s->suppressed, at_flush ? "" : "more ",
			 (unsigned long long)((now - s->suppressed_since_ms + 999) / 1000),
			 at_flush ? "; this the last" : "");
}

static void
vlog(enum bl_log_level level, bool limited, const char *fmt, va_list args)
{
	char line[LINE_MAX_], tail[96];
	struct site *s;
	uint64_t now;
	va_list ap;
	size_t len;

	if (level > __atomic_load_n(&max_level, __ATOMIC_RELAXED))   /* pairs with set_level */
		return;
	pthread_mutex_lock(&lock);
	now = now_ms();
	s = limited ? site_of(fmt) : NULL;
	if (s != NULL) {
		if (now - s->since_ms >= BL_LOG_INTERVAL_MS || s->said == 0) {
			s->since_ms = now;
			s->said = 0;
		}
		if (s->said >= BL_LOG_BURST) {
			if (s->suppressed++ == 0)
				s->suppressed_since_ms = now;
			s->level = level;
			va_copy(ap, args);
			vsnprintf(s->last, sizeof(s->last), fmt, ap);
			va_end(ap);
			pthread_mutex_unlock(&lock);
			return;
		}
		s->said++;
	}
	va_copy(ap, args);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s != NULL && s->suppressed != 0) {
		suppressed_tail(s, now, 0, tail, sizeof(tail));
		len = strlen(line);
		if (len + strlen(tail) >= sizeof(line))
			len = sizeof(line) - strlen(tail) - 1;
		memcpy(line + len, tail, strlen(tail) + 1);
		s->suppressed = 0;
	}
	emit(level, line);
	pthread_mutex_unlock(&lock);
}

void
bl_log(enum bl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, true, fmt, ap);
	va_end(ap);
}

void
bl_log_nolimit(enum bl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, false, fmt, ap);
	va_end(ap);
}

void
bl_log_flush(void)
{
	char line[LINE_MAX_], tail[96];
	uint64_t now;

	pthread_mutex_lock(&lock);
	now = now_ms();
	for (unsigned int i = 0; i < SITES; i++) {
		struct site *s = &sites[i];
		if (s->fmt == NULL || s->suppressed == 0)
			continue;
		suppressed_tail(s, now, 1, tail, sizeof(tail));
		snprintf(line, sizeof(line), "%s%s", s->last, tail);
		emit(s->level, line);
		s->suppressed = 0;
	}
	pthread_mutex_unlock(&lock);
}

void
bl_log_set_sink(bl_log_sink_fn *fn, void *ctx)
{
	pthread_mutex_lock(&lock);
	sink = fn;
	sink_ctx = ctx;
	pthread_mutex_unlock(&lock);
}

void
bl_log_set_level(enum bl_log_level level)
{
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);   /* a setting: orders nothing */
}

void
bl_log__set_clock(uint64_t (*fn)(void))
{
	now_ms = fn != NULL ? fn : real_now_ms;
}

void
bl_log__reset(void)
{
	pthread_mutex_lock(&lock);
	memset(sites, 0, sizeof(sites));
	pthread_mutex_unlock(&lock);
}
