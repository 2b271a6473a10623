/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_pipe — edge labels, names, and the rules the parser and JSON reader share. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bl_pipe_pvt.h"
#include "bl_suggest.h"

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident(const char *s, size_t len, bool dot)
{
	if (len == 0 || !is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-' && !(dot && s[i] == '.'))
			return false;
	return true;
}

bool
bl_pipe__is_name(const char *s, size_t len)
{
	return len < BL_GDESC_NAME_MAX && is_ident(s, len, false);
}

bool
bl_pipe__is_key(const char *s, size_t len)
{
	return is_ident(s, len, true);
}

/* A label as errors quote it: a long one cut short, so the reason still shows. */
#define SHOWN(s, len) (int)((len) > 40 ? 37 : (len)), (s), (len) > 40 ? "..." : ""

#define LABEL_HINT "expected classes such as 80, 22:23, ssh:telnet or 80,443, " \
	"\"!\" before them to invert, or all"

/* One class: a number 1..UINT32_MAX or a name. */
static int
parse_class(const char *s, size_t len, const char *all, size_t alen,
	    struct bl_class_ref *c, char *why, size_t whysz)
{
	memset(c, 0, sizeof(*c));
	if (len > 0 && is_digit(s[0])) {
		uint64_t v = 0;
		for (size_t i = 0; i < len; i++) {
			if (!is_digit(s[i]))
				goto bad;
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT32_MAX) {
				snprintf(why, whysz, "bad edge label \"%.*s%s\" (classes are at most %u)",
					 SHOWN(all, alen), UINT32_MAX);
				return -EINVAL;
			}
		}
		if (v == 0) {
			snprintf(why, whysz, "bad edge label \"%.*s%s\": class 0 means drop, so no "
				 "edge carries it alone; write |all to route every class, "
				 "drops included", SHOWN(all, alen));
			return -EINVAL;
		}
		c->num = (uint32_t)v;
		return 0;
	}
	if (len == 3 && memcmp(s, "all", 3) == 0) {
		snprintf(why, whysz, "bad edge label \"%.*s%s\" (\"all\" stands alone: |all)",
			 SHOWN(all, alen));
		return -EINVAL;
	}
	if (!bl_pipe__is_name(s, len))
		goto bad;
	memcpy(c->name, s, len);
	return 0;
bad:
	snprintf(why, whysz, "bad edge label \"%.*s%s\" (" LABEL_HINT ")", SHOWN(all, alen));
	return -EINVAL;
}

int
bl_pipe__label(const char *s, size_t len, struct bl_label *l, char *why, size_t whysz)
{
	const char *p = s, *end = s + len;

	memset(l, 0, sizeof(*l));
	if (len == 0)
		return 0;
	if (len == 3 && memcmp(s, "all", 3) == 0) {
		l->kind = BL_LABEL_ALL;
		return 0;
	}
	l->kind = BL_LABEL_SET;
	if (*p == '!') {
		l->invert = true;
		p++;
	}
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma ? comma : end;
		const char *colon = memchr(p, ':', (size_t)(item_end - p));
		struct bl_label_range *r;

		if (l->n == BL_LABEL_MAX_RANGES) {
			snprintf(why, whysz, "bad edge label \"%.*s%s\" (at most %d ranges)",
				 SHOWN(s, len), BL_LABEL_MAX_RANGES);
			return -EINVAL;
		}
		r = &l->r[l->n++];
		if (colon == NULL) {
			if (parse_class(p, (size_t)(item_end - p), s, len, &r->lo, why, whysz) < 0)
				return -EINVAL;
			r->hi = r->lo;
		} else {
			if (parse_class(p, (size_t)(colon - p), s, len, &r->lo, why, whysz) < 0 ||
			    parse_class(colon + 1, (size_t)(item_end - colon - 1), s, len,
					&r->hi, why, whysz) < 0)
				return -EINVAL;
			if (r->lo.name[0] == '\0' && r->hi.name[0] == '\0' && r->lo.num > r->hi.num) {
				snprintf(why, whysz, "bad edge label \"%.*s%s\" (the range %u:%u is empty)",
					 SHOWN(s, len), r->lo.num, r->hi.num);
				return -EINVAL;
			}
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

int
bl_label_parse(const char *text, struct bl_label *l, struct bl_err *err)
{
	char why[BL_PIPE_WHY_MAX];

	if (bl_pipe__label(text, strlen(text), l, why, sizeof(why)) < 0)
		return bl_err_set(err, -EINVAL, "%s", why);
	return 0;
}

static int
class_print(const struct bl_class_ref *c, char *buf, size_t size)
{
	if (c->name[0] != '\0') {
		if (!bl_pipe__is_name(c->name, strnlen(c->name, BL_GDESC_NAME_MAX)) ||
		    strcmp(c->name, "all") == 0)
			return -EINVAL;
		return snprintf(buf, size, "%s", c->name);
	}
	if (c->num == 0)
		return -EINVAL;
	return snprintf(buf, size, "%u", c->num);
}

int
bl_label_print(const struct bl_label *l, char *buf, size_t size)
{
	char tmp[BL_LABEL_MAX_RANGES * (2 * BL_GDESC_NAME_MAX + 2) + 2];
	size_t n = 0;

	if (l->kind == BL_LABEL_DEFAULT)
		tmp[0] = '\0';
	else if (l->kind == BL_LABEL_ALL)
		n = (size_t)snprintf(tmp, sizeof(tmp), "all");
	else if (l->kind != BL_LABEL_SET || l->n == 0 || l->n > BL_LABEL_MAX_RANGES)
		return -EINVAL;
	else {
		if (l->invert)
			tmp[n++] = '!';
		for (unsigned int i = 0; i < l->n; i++) {
			const struct bl_label_range *r = &l->r[i];
			int k;

			if (i > 0)
				tmp[n++] = ',';
			if ((k = class_print(&r->lo, tmp + n, sizeof(tmp) - n)) < 0)
				return -EINVAL;
			n += (size_t)k;
			if (r->lo.name[0] == '\0' && r->hi.name[0] == '\0' && r->lo.num == r->hi.num)
				continue;
			if (strcmp(r->lo.name, r->hi.name) == 0 && r->lo.name[0] != '\0')
				continue;
			if (r->lo.name[0] == '\0' && r->hi.name[0] == '\0' && r->lo.num > r->hi.num)
				return -EINVAL;
			tmp[n++] = ':';
			if ((k = class_print(&r->hi, tmp + n, sizeof(tmp) - n)) < 0)
				return -EINVAL;
			n += (size_t)k;
		}
		tmp[n] = '\0';
	}
	if (n >= size)
		return -ENOSPC;
	memcpy(buf, tmp, n + 1);
	return (int)n;
}

static const char *const builtin_filters[] = { "union", "intersect", NULL };

int
bl_pipe__check_filter(const struct bl_pipe_opts *opts, const char *filter,
		      char *why, size_t whysz)
{
	const char *s;

	for (const char *const *b = builtin_filters; *b != NULL; b++)
		if (strcmp(*b, filter) == 0)
			return 0;
	if (opts == NULL || opts->filters == NULL)
		return 0;
	for (const char *const *f = opts->filters; *f != NULL; f++)
		if (strcmp(*f, filter) == 0)
			return 0;
	s = bl_suggest(filter, opts->filters);
	if (s == NULL)
		s = bl_suggest(filter, builtin_filters);
	if (s != NULL)
		snprintf(why, whysz, "unknown filter \"%s\" (did you mean \"%s\"?)", filter, s);
	else
		snprintf(why, whysz, "unknown filter \"%s\"", filter);
	return -EINVAL;
}

int
bl_pipe__share(const struct bl_gdesc_node *n, const char *filter,
	       const struct bl_args *args, bool negate, char *why, size_t whysz)
{
	if (strcmp(n->filter, filter) != 0) {
		snprintf(why, whysz, "node \"%s\" was declared as filter \"%s\", here \"%s\"",
			 n->name, n->filter, filter);
		return -EINVAL;
	}
	if (args->n > 0 && !bl_args_equal(&n->args, args)) {
		snprintf(why, whysz, "node \"%s\" was declared with other arguments "
			 "(a later use repeats them exactly or gives none: \"%s --name=%s\")",
			 n->name, filter, n->name);
		return -EINVAL;
	}
	if (negate && !n->negate) {
		snprintf(why, whysz, "node \"%s\" was declared without \"!\"", n->name);
		return -EINVAL;
	}
	return 0;
}
