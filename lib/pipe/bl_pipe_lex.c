/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pipe_lex — the parser's words: blanks and delimiters, quoted strings
 * with their escapes, a filter's arguments (bare, key=value, quoted,
 * --name=X), and the "col N: expected X, got Y" messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_pipe_pvt.h"

int
bl_pipe__fail(struct bl_pipe_ps *ps, size_t pos, const char *fmt, ...)
{
	char why[BL_PIPE_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return bl_err_set(ps->err, -EINVAL, "col %zu: %s", pos + 1, why);
}

int
bl_pipe__nomem(struct bl_pipe_ps *ps)
{
	return bl_err_set(ps->err, -ENOMEM, "col %zu: out of memory", ps->pos + 1);
}

bool
bl_pipe__is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A character that ends a bare word (and a label). */
bool
bl_pipe__is_delim(char c)
{
	return c == '\0' || c == '\n' || bl_pipe__is_blank(c) || strchr("|();+\"", c) != NULL;
}

void
bl_pipe__skip_blanks(struct bl_pipe_ps *ps, bool newlines)
{
	for (;; ps->pos++) {
		char c = ps->t[ps->pos];
		if (!bl_pipe__is_blank(c) && !(newlines && c == '\n'))
			return;
	}
}

/* Inside parentheses a newline is a blank; at the top it may end a statement. */
void
bl_pipe__skip_ws(struct bl_pipe_ps *ps)
{
	bl_pipe__skip_blanks(ps, ps->depth > 0);
}

size_t
bl_pipe__word_len(const struct bl_pipe_ps *ps, size_t pos)
{
	size_t n = 0;
	while (!bl_pipe__is_delim(ps->t[pos + n]))
		n++;
	return n;
}

/* Describe what sits at `pos`, for "got ...". */
const char *
bl_pipe__got(const struct bl_pipe_ps *ps, size_t pos, char *buf, size_t size)
{
	const char *s = ps->t + pos;
	size_t n;

	switch (*s) {
	case '\0': return "end of pipeline";
	case '\n': return "end of line";
	case '"': return "a quoted argument";
	case '+':
		n = (s[1] == '+' || s[1] == '*') ? 2 : 1;
		break;
	case '|': case '(': case ')': case ';': case '!':
		n = 1;
		break;
	default:
		n = bl_pipe__word_len(ps, pos);
		if (n == 0)
			n = 1;
	}
	if (n > 40)
		snprintf(buf, size, "\"%.40s...\"", s);
	else
		snprintf(buf, size, "\"%.*s\"", (int)n, s);
	return buf;
}

int
bl_pipe__expected(struct bl_pipe_ps *ps, const char *what)
{
	char b[64];
	return bl_pipe__fail(ps, ps->pos, "expected %s, got %s", what,
			     bl_pipe__got(ps, ps->pos, b, sizeof(b)));
}

/* A quoted argument at ps->pos: unescape into a heap string. */
static int
quoted(struct bl_pipe_ps *ps, char **out)
{
	size_t start = ps->pos, n = 0;
	const char *s = ps->t + start + 1;
	char *v, *w;

	for (size_t i = 0;; i++) {
		if (s[i] == '\0')
			return bl_pipe__fail(ps, start, "unterminated quoted argument");
		if (s[i] == '"')
			break;
		if (s[i] == '\\') {
			if (s[i + 1] != '"' && s[i + 1] != '\\') {
				if (s[i + 1] == '\0')
					return bl_pipe__fail(ps, start, "unterminated quoted argument");
				return bl_pipe__fail(ps, start + 1 + i, "unknown escape \"\\%c\" in a quoted "
					    "argument (only \\\" and \\\\)", s[i + 1]);
			}
			i++;
		}
		n++;
	}
	if ((v = malloc(n + 1)) == NULL)
		return bl_pipe__nomem(ps);
	w = v;
	for (; *s != '"'; s++) {
		if (*s == '\\')
			s++;
		*w++ = *s;
	}
	*w = '\0';
	ps->pos = (size_t)(s + 1 - ps->t);
	if (!bl_pipe__is_delim(ps->t[ps->pos]) || ps->t[ps->pos] == '"') {
		free(v);
		return bl_pipe__fail(ps, ps->pos, "expected a blank after the quoted argument, got %s",
			    bl_pipe__got(ps, ps->pos, (char[64]){ 0 }, 64));
	}
	*out = v;
	return 0;
}

/* The value after `key=` (bare or quoted) at ps->pos; heap string. */
static int
arg_value(struct bl_pipe_ps *ps, size_t word_pos, size_t klen, char **out)
{
	size_t n;

	if (ps->t[ps->pos] == '"')
		return quoted(ps, out);
	n = bl_pipe__word_len(ps, ps->pos);
	if (n == 0)
		return bl_pipe__fail(ps, word_pos, "expected a value after \"%.*s=\"", (int)klen,
			    ps->t + word_pos);
	if (ps->t[ps->pos + n] == '"')
		return bl_pipe__fail(ps, ps->pos + n, "expected a blank before the quoted argument");
	if ((*out = strndup(ps->t + ps->pos, n)) == NULL)
		return bl_pipe__nomem(ps);
	ps->pos += n;
	return 0;
}

/* bl_args_add failed for the argument at `at`. */
static int
add_failed(struct bl_pipe_ps *ps, int rc, size_t at)
{
	if (rc == -E2BIG)
		return bl_pipe__fail(ps, at, "too many arguments: a filter takes at most %d",
				     BL_GDESC_MAX_ARGS);
	return bl_pipe__nomem(ps);
}

/* Arguments of a call, up to an operator, ")" or the end of the statement. */
int
bl_pipe__args(struct bl_pipe_ps *ps, struct bl_args *args, char name[BL_GDESC_NAME_MAX],
	      size_t *name_pos)
{
	for (;;) {
		size_t at, n;
		const char *w;
		char *val = NULL;
		int rc;

		bl_pipe__skip_ws(ps);
		at = ps->pos;
		w = ps->t + at;
		if (bl_pipe__is_delim(*w) && *w != '"')
			return 0;
		if (*w == '"') {
			if ((rc = quoted(ps, &val)) < 0)
				return rc;
			rc = bl_args_add(args, NULL, val, (unsigned int)at + 1);
			free(val);
			if (rc < 0)
				return add_failed(ps, rc, at);
			continue;
		}
		if (*w == '!')
			return bl_pipe__fail(ps, at, "\"!\" goes before a filter name, not among its "
				    "arguments (quote the argument if it is one)");
		n = bl_pipe__word_len(ps, at);
		if (n >= 2 && w[0] == '-' && w[1] == '-') {
			if (n < 7 || memcmp(w, "--name=", 7) != 0)
				return bl_pipe__fail(ps, at, "unknown option \"%.*s\" (the only option is "
					    "--name=NAME)", (int)n, w);
			if (*name_pos != 0)
				return bl_pipe__fail(ps, at, "--name given twice");
			ps->pos = at + 7;
			if ((rc = arg_value(ps, at, 6, &val)) < 0)
				return rc;
			if (!bl_pipe__is_name(val, strlen(val))) {
				rc = bl_pipe__fail(ps, at + 7, "bad node name \"%s\" (expected at most %d "
					  "letters, digits, \"_\" or \"-\", starting with a letter "
					  "or \"_\")", val, BL_GDESC_NAME_MAX - 1);
				free(val);
				return rc;
			}
			strcpy(name, val);
			free(val);
			*name_pos = at + 1;
			continue;
		}
		const char *eq = memchr(w, '=', n);
		if (eq == NULL) {
			ps->pos = at + n;
			if (ps->t[ps->pos] == '"')
				return bl_pipe__fail(ps, ps->pos, "expected a blank before the quoted argument");
			if ((val = strndup(w, n)) == NULL)
				return bl_pipe__nomem(ps);
			rc = bl_args_add(args, NULL, val, (unsigned int)at + 1);
			free(val);
			if (rc < 0)
				return add_failed(ps, rc, at);
			continue;
		}
		size_t klen = (size_t)(eq - w);
		char key[128];
		if (klen == 0)
			return bl_pipe__fail(ps, at, "expected a key before \"=\" (quote the argument "
				    "if it is one)");
		if (!bl_pipe__is_key(w, klen) || klen >= sizeof(key))
			return bl_pipe__fail(ps, at, "bad argument key \"%.*s\" (expected letters, "
				    "digits, \"_\", \"-\" or \".\"; quote the argument if it "
				    "is one)", (int)klen, w);
		memcpy(key, w, klen);
		key[klen] = '\0';
		if (bl_args_get(args, key) != NULL)
			return bl_pipe__fail(ps, at, "argument \"%s\" given twice", key);
		ps->pos = at + klen + 1;
		if ((rc = arg_value(ps, at, klen, &val)) < 0)
			return rc;
		rc = bl_args_add(args, key, val, (unsigned int)at + 1);
		free(val);
		if (rc < 0)
			return add_failed(ps, rc, at);
	}
}
