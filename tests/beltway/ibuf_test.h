/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers the IBuf tests share: numbered entries written and read back, checked. */
#ifndef IBUF_TEST_H
#define IBUF_TEST_H

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "bl_ibuf_worker.h"

static inline struct bl_ibuf_entry
ent(uint64_t seq)
{
	struct bl_ibuf_entry e = {
		.dbuf_id = 1, .cls = 1, .object = (uint32_t)seq, .offset = 0,
		.length = (uint32_t)(seq * 7 + 1),
	};
	return e;
}

/* Write seqs [from, from+n) in one burst; returns the number stored. */
static inline unsigned
put(struct bl_ibuf *ib, uint64_t from, unsigned n)
{
	struct bl_ibuf_entry e[64];

	cr_assert(n <= 64);
	for (unsigned i = 0; i < n; i++)
		e[i] = ent(from + i);
	return bl_ibuf_write(ib, e, n);
}

/* Acquire up to n, verify each against its seq, complete. Returns the count; *first = seq. */
static inline unsigned
take(struct bl_ibuf_reader *r, unsigned n, uint64_t *first)
{
	const struct bl_ibuf_entry *v[64];
	uint64_t seq = 0;
	unsigned k = bl_ibuf_acquire(r, v, n, &seq);

	for (unsigned i = 0; i < k; i++) {
		cr_assert(eq(u32, v[i]->object, (uint32_t)(seq + i)));
		cr_assert(eq(u32, v[i]->length, (uint32_t)((seq + i) * 7 + 1)));
	}
	cr_assert(bl_ibuf_check(r, seq));
	bl_ibuf_complete(r);
	if (first != NULL)
		*first = seq;
	return k;
}

#endif /* IBUF_TEST_H */
