/* SPDX-License-Identifier: BSD-3-Clause */
/* The filter registry, label names, typed arguments, private copies. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "bl_atomic.h"
#include "bl_filter_worker.h"
#include "bl_graph_pvt.h"
#include "bl_suggest.h"

#define MAX_FILTERS 128

static struct bl_filter_ops *registry;   /* sorted by name; filled by constructors */
static unsigned int n_registered;
static int finite_pending;   /* bl_filter_finite_pending_set */

void
bl_filter_finite_pending_set(int *pending, int on)
{
	if (*pending == on)
		return;
	*pending = on;
	/* relaxed: a count the main lcore polls; pairs with the relaxed load below */
	__atomic_add_fetch(&finite_pending, on ? 1 : -1, __ATOMIC_RELAXED);
}

unsigned int
bl_filter_finite_pending(void)
{
	int n = __atomic_load_n(&finite_pending, __ATOMIC_RELAXED);

	return n > 0 ? (unsigned int)n : 0;
}

void
bl_filter_register(struct bl_filter_ops *ops)
{
	struct bl_filter_ops **at = &registry;

	if (ops->process != NULL && ops->poll != NULL)
		ops->flags |= BL_FILTER_F_HOLDS;   /* what poll emits came in at an earlier pass */
	while (*at != NULL && strcmp((*at)->name, ops->name) < 0)
		at = (struct bl_filter_ops **)&(*at)->next;   /* the registry owns the link */
	ops->next = *at;
	*at = ops;
	n_registered++;
}

/* One declared counter of f: a relaxed load, pairs with the relaxed store in
 * bl_counter_add (or the writer's own relaxed store of a value). */
static uint64_t
counter_load(const struct bl_filter *f, const struct bl_counter_def *d)
{
	const void *base = d->base != NULL ? d->base(f) : bl_filter_priv(f);
	const char *p = (const char *)base + d->offset;
	uint64_t v;

	if (base == NULL)
		return 0;   /* kept in a structure the filter does not have (now) */
	switch (d->size) {
	case 2: return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
	case 8:
		v = bl_counter_read((const uint64_t *)(const void *)p);
		return d->bits ? (uint64_t)__builtin_popcountll(v) : v;
	default: return 0;   /* refused by bl_filter_counters_check (tests/filters/test_docs.c) */
	}
}

unsigned int
bl_filter_counters(const struct bl_filter *f, const char **names, uint64_t *values,
		   uint8_t *gauge, unsigned int max)
{
	const struct bl_filter_ops *o = f->ops;
	unsigned int n = 0, k;

	for (unsigned int i = 0; i < o->n_counter_defs && n < max; i++, n++) {
		names[n] = o->counter_defs[i].name;
		values[n] = counter_load(f, &o->counter_defs[i]);
		if (gauge != NULL)
			gauge[n] = o->counter_defs[i].gauge;
	}
	if (o->counters != NULL && n < max) {
		k = o->counters(f, names + n, values + n, max - n);
		for (unsigned int i = 0; gauge != NULL && i < k; i++)
			gauge[n + i] = 0;
		n += k;
	}
	return n;
}

int
bl_filter_counter_role(const struct bl_filter *f, enum bl_counter_role role, uint64_t *value)
{
	for (unsigned int i = 0; i < f->ops->n_counter_defs; i++)
		if (f->ops->counter_defs[i].role == role) {
			*value = counter_load(f, &f->ops->counter_defs[i]);
			return 0;
		}
	return -ENOENT;
}

int
bl_filter_counters_check(const struct bl_filter_ops *ops, const char **bad)
{
	for (unsigned int i = 0; i < ops->n_counter_defs; i++) {
		const struct bl_counter_def *d = &ops->counter_defs[i];
		size_t len = d->name != NULL ? strlen(d->name) : 0;

		*bad = d->name;
		if (len == 0 || strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len ||
		    d->doc == NULL || d->doc[0] == '\0' ||
		    (d->size != 2 && d->size != 4 && d->size != 8) || d->offset % d->size != 0 ||
		    (d->base == NULL && (size_t)d->offset + d->size > ops->priv_size) ||
		    (d->bits && d->size != 8))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(ops->counter_defs[j].name, d->name) == 0 ||
			    (d->role != BL_COUNTER_PLAIN && ops->counter_defs[j].role == d->role))
				return -EINVAL;
	}
	return 0;
}

const struct bl_filter_ops *
bl_filter_lookup(const char *name)
{
	for (const struct bl_filter_ops *o = registry; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

unsigned int
bl_filter_list(const struct bl_filter_ops **out, unsigned int max)
{
	unsigned int n = 0;

	for (const struct bl_filter_ops *o = registry; o != NULL && n < max; o = o->next)
		out[n++] = o;
	return n;
}

const char *const *
bl_filter_names(void)
{
	static const char *names[MAX_FILTERS + 1];
	unsigned int n = 0;

	for (const struct bl_filter_ops *o = registry; o != NULL && n < MAX_FILTERS; o = o->next)
		names[n++] = o->name;
	names[n] = NULL;
	return names;
}

int64_t
bl_filter_class_by_name(const struct bl_filter_ops *ops, const char *name)
{
	for (unsigned int i = 0; i < BL_FILTER_MAX_EDGES; i++)
		if (ops->edges[i] != NULL && strcmp(ops->edges[i], name) == 0)
			return i + 1;
	for (const struct bl_class_name *c = ops->classes; c != NULL && c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c->cls;
	return -1;
}

unsigned int
bl_filter_class_names(const struct bl_filter_ops *ops, const char **names, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < BL_FILTER_MAX_EDGES && n + 1 < max; i++)
		if (ops->edges[i] != NULL)
			names[n++] = ops->edges[i];
	for (const struct bl_class_name *c = ops->classes; c != NULL && c->name != NULL &&
	     n + 1 < max; c++)
		names[n++] = c->name;
	if (max > 0)
		names[n] = NULL;
	return n;
}

struct rte_mbuf *
bl_filter_writable_slow(struct bl_filter *f, struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, f->graph->env.pool, 0, UINT32_MAX);

	if (c == NULL) {
		bl_counter_add(&f->st.copy_fail, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	bl_counter_add(&f->st.copies, 1);
	rte_pktmbuf_free(m);   /* our reference to the shared one */
	return c;
}

/* ---- arguments --------------------------------------------------------- */

static int
parse_u64(const struct bl_arg *a, const char *key, uint64_t min, uint64_t max, uint64_t *out,
	  struct bl_err *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(a->value, &end, 10);   /* decimal: "0100" is a hundred, not octal */
	/* a digit first: strtoull takes " -1" (white space, then a sign) as 2^64 - 1 */
	if (a->value[0] < '0' || a->value[0] > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		return bl_err_set(err, -EINVAL, "%s: must be an integer %llu..%llu, got \"%.40s\"",
				  key, (unsigned long long)min, (unsigned long long)max, a->value);
	*out = v;
	return 0;
}

int
bl_args_u64(const struct bl_args *args, const char *key, uint64_t min, uint64_t max,
	    uint64_t *out, struct bl_err *err)
{
	const struct bl_arg *a = bl_args_get(args, key);

	return a == NULL ? 0 : parse_u64(a, key, min, max, out, err);
}

int
bl_args_u32(const struct bl_args *args, const char *key, uint32_t min, uint32_t max,
	    uint32_t *out, struct bl_err *err)
{
	uint64_t v = *out;
	int rc = bl_args_u64(args, key, min, max, &v, err);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int
bl_args_str(const struct bl_args *args, const char *key, const char **out, struct bl_err *err)
{
	const struct bl_arg *a = bl_args_get(args, key);

	(void)err;
	if (a != NULL)
		*out = a->value;
	return 0;
}

int
bl_args_bool(const struct bl_args *args, const char *key, int *out, struct bl_err *err)
{
	const struct bl_arg *a = bl_args_get(args, key);

	if (a == NULL)
		return 0;
	if (strcmp(a->value, "1") == 0 || strcmp(a->value, "yes") == 0 || strcmp(a->value, "true") == 0)
		*out = 1;
	else if (strcmp(a->value, "0") == 0 || strcmp(a->value, "no") == 0 || strcmp(a->value, "false") == 0)
		*out = 0;
	else
		return bl_err_set(err, -EINVAL, "%s: must be yes or no, got \"%.40s\"", key, a->value);
	return 0;
}

int
bl_args_positional(const struct bl_args *args, const char **out, struct bl_err *err)
{
	const char *found = NULL;

	for (unsigned int i = 0; i < args->n; i++) {
		if (args->v[i].key != NULL)
			continue;
		if (found != NULL)
			return bl_err_set(err, -EINVAL, "one positional argument at most, got a second: \"%.40s\"",
					  args->v[i].value);
		found = args->v[i].value;
	}
	if (found != NULL)
		*out = found;
	return 0;
}

int
bl_args_only(const struct bl_args *args, const char *const *known, bool positional_ok,
	     struct bl_err *err)
{
	for (unsigned int i = 0; i < args->n; i++) {
		const char *k = args->v[i].key;
		bool ok = false;

		if (k == NULL) {
			if (!positional_ok)
				return bl_err_set(err, -EINVAL, "takes no positional argument, got \"%.40s\"",
						  args->v[i].value);
			continue;
		}
		for (const char *const *n = known; *n != NULL; n++)
			ok |= strcmp(*n, k) == 0;
		if (ok)
			continue;
		const char *s = bl_suggest(k, known);
		if (s != NULL)
			return bl_err_set(err, -EINVAL, "%s: unknown argument (did you mean \"%s\"?)", k, s);
		return bl_err_set(err, -EINVAL, "%s: unknown argument", k);
	}
	return 0;
}
