/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers the config reader's tests share (test_cfg.c, test_cfg_bad.c). */
#ifndef CFG_TEST_H
#define CFG_TEST_H

#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdarg.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_cfg.h"

#ifndef BL_SOURCE_ROOT
#error "meson passes BL_SOURCE_ROOT, the source tree holding config/*.json"
#endif

/* ---- helpers ------------------------------------------------------------ */

/* A copy of s with every ' turned into ". */
static inline char *
dq(const char *s)
{
	char *t = strdup(s);

	cr_assert(t != NULL);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

struct result {
	int rc;
	struct bl_cfg cfg;
	struct bl_diag diag;
	const char *text;      /* diag.text, or "" */
};

static inline struct result *
parse_in(const char *sq_json, const char *dir)
{
	struct result *r = calloc(1, sizeof(*r));
	char *json = dq(sq_json);

	cr_assert(r != NULL);
	r->rc = bl_cfg_parse(json, strlen(json), dir, &r->cfg, &r->diag);
	r->text = r->diag.text != NULL ? r->diag.text : "";
	free(json);
	return r;
}

static inline struct result *
parse(const char *sq_json)
{
	return parse_in(sq_json, "/cfgdir");
}

static inline void
result_free(struct result *r)
{
	bl_diag_free(&r->diag);
	free(r);
}

/* Does some line of text begin with prefix? */
static inline bool
has_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; *l; ) {
		if (strncmp(l, prefix, n) == 0)
			return true;
		const char *nl = strchr(l, '\n');
		if (nl == NULL)
			break;
		l = nl + 1;
	}
	return false;
}

static inline unsigned int
count_lines(const char *text)
{
	unsigned int n = 0;

	for (const char *c = text; *c; c++)
		n += *c == '\n';
	return n;
}

/* Every line is "PATH: sentence" with a non-empty path and no blank lines. */
static inline bool
lines_well_formed(const char *text, const char **bad)
{
	for (const char *l = text; *l; ) {
		const char *nl = strchr(l, '\n');
		const char *colon = strstr(l, ": ");
		if (nl == NULL || colon == NULL || colon > nl || colon == l || l[0] == ' ') {
			*bad = l;
			return false;
		}
		l = nl + 1;
	}
	return true;
}

#define MAX_ALSO 3

struct bad {
	const char *name;
	const char *json;              /* single-quoted JSON */
	const char *line;              /* a line of the diagnostics starts with this */
	const char *also[MAX_ALSO];    /* more text the diagnostics must hold */
	const char *absent;            /* text they must not hold */
	unsigned int n;                /* exact number of problems; 0: at least one */
};

static inline void
expect_bad(const struct bad *c)
{
	struct result *r = parse(c->json);
	const char *bad_line = NULL;

	cr_assert(eq(int, r->rc, -EINVAL), "[%s] bl_cfg_parse returned %d, want -EINVAL; diag:\n%s",
		  c->name, r->rc, r->text);
	cr_assert(r->diag.n >= 1, "[%s] -EINVAL but no problem reported", c->name);
	cr_assert(eq(u32, count_lines(r->text), r->diag.n),
		  "[%s] diag.n is %u but the text has %u lines:\n%s", c->name, r->diag.n,
		  count_lines(r->text), r->text);
	cr_assert(lines_well_formed(r->text, &bad_line),
		  "[%s] a line is not \"PATH: sentence\": %.80s", c->name, bad_line ? bad_line : "");
	cr_assert(has_line(r->text, c->line), "[%s] no line starts with\n  %s\ndiag:\n%s",
		  c->name, c->line, r->text);
	for (int i = 0; i < MAX_ALSO && c->also[i] != NULL; i++)
		cr_assert(strstr(r->text, c->also[i]) != NULL, "[%s] diag lacks \"%s\":\n%s",
			  c->name, c->also[i], r->text);
	if (c->absent != NULL)
		cr_assert(strstr(r->text, c->absent) == NULL, "[%s] diag should not hold \"%s\":\n%s",
			  c->name, c->absent, r->text);
	if (c->n != 0)
		cr_assert(eq(u32, r->diag.n, c->n), "[%s] want exactly %u problem(s), got %u:\n%s",
			  c->name, c->n, r->diag.n, r->text);
	result_free(r);
}


/* Pieces of a good config, single-quoted. */
#define PORT_A    "{'name':'a','vdev':'net_null0'}"
#define PORT_B    "{'name':'b','vdev':'net_null1'}"
#define PORTS_A   "'ports':[" PORT_A "]"
#define PORTS_AB  "'ports':[" PORT_A "," PORT_B "]"
#define POLL_A    "{'port':'a','queue':0,'tx':'a'}"
#define WORKER_A  "{'lcore':1,'poll':[" POLL_A "]}"
#define WORKERS_A "'workers':[" WORKER_A "]"
#define GOOD      PORTS_A "," WORKERS_A
/* One port given as X, forwarding to itself. */
#define ONE_PORT(X) "{'ports':[" X "]," WORKERS_A "}"
/* Two ports, ports[1] given as X. */
#define SECOND_PORT(X) "{'ports':[" PORT_A "," X "]," WORKERS_A "}"
/* One worker given as X. */
#define ONE_WORKER(X) "{" PORTS_AB ",'workers':[" X "]}"
/* One worker polling the entry X. */
#define ONE_POLL(X) ONE_WORKER("{'lcore':1,'poll':[" X "]}")

/* Append to a growing buffer; the buffer is big enough for every use here. */
static inline void
cat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline void
cat(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	int w = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	cr_assert(w >= 0 && (size_t)w < size - n, "test buffer too small");
}

#endif /* CFG_TEST_H */
