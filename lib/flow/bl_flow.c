/* SPDX-License-Identifier: BSD-3-Clause */
/* The flow table's control side: create, free, flush (bl_flow.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bl_flow.h"
#include "bl_flow_worker.h"

static uint32_t
slots_for(uint32_t max_flows)
{
	uint64_t want = (uint64_t)max_flows + max_flows / 4u, n = 2u * BL_FLOW_WAYS;

	while (n < want)
		n <<= 1;
	return (uint32_t)n;
}

uint64_t
bl_flow_mem(uint32_t max_flows)
{
	uint64_t n = slots_for(max_flows);

	return n * (sizeof(struct bl_flow_ent) + sizeof(uint16_t)) + sizeof(struct bl_flow_table);
}

static uint64_t
mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);   /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
bl_flow_seed_mults(uint64_t seed, uint64_t m[6])
{
	for (unsigned int i = 0; i < 6; i++)
		m[i] = mix(&seed) | 1u;             /* odd multipliers */
}

/* The table's arrays: zeroed anonymous memory on 2 MiB boundaries, with the
 * kernel asked for transparent huge pages. A million flows' slots span 32768
 * pages of 4 KiB, so nearly every lookup also missed the TLB; on 2 MiB pages
 * they span 64. Where THP is off the pages stay small and nothing else changes. */
#define BL_FLOW_HUGE (2u << 20)

static void *
huge_zalloc(size_t len)
{
	size_t map = len + BL_FLOW_HUGE;
	uint8_t *p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + BL_FLOW_HUGE - 1) & ~(uintptr_t)(BL_FLOW_HUGE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((uint8_t *)a + len, (uintptr_t)p + map - a - len);
	(void)madvise((void *)a, len, MADV_HUGEPAGE);   /* advice: EINVAL without THP is fine */
	return (void *)a;
}

static void
huge_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

int
bl_flow_create(const struct bl_flow_opts *o, struct bl_flow_table **out, struct bl_err *err)
{
	struct bl_flow_table *t;
	uint64_t seed = o->seed;
	uint32_t n;

	*out = NULL;
	if (o->max_flows < 1 || o->max_flows > BL_FLOW_MAX_FLOWS)
		return bl_err_set(err, -EINVAL, "max_flows: %u is out of range (1..%u)",
				  o->max_flows, BL_FLOW_MAX_FLOWS);
	if (o->idle_ms < 1 || o->active_ms < 1)
		return bl_err_set(err, -EINVAL, "%s: must be at least 1 ms",
				  o->idle_ms < 1 ? "idle_s" : "active_s");
	if (o->emit == NULL)
		return bl_err_set(err, -EINVAL, "a flow table needs an emit callback");
	n = slots_for(o->max_flows);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return bl_err_set(err, -ENOMEM, "max_flows: no memory for the table");
	t->n_slots = n;
	t->ent = huge_zalloc((size_t)n * sizeof(t->ent[0]));
	t->sig = huge_zalloc((size_t)n * sizeof(t->sig[0]));
	if (t->ent == NULL || t->sig == NULL) {
		bl_flow_free(t);
		return bl_err_set(err, -ENOMEM, "max_flows: no memory for %u flows (%llu MiB)",
				  o->max_flows, (unsigned long long)(bl_flow_mem(o->max_flows) >> 20));
	}
	t->bucket_mask = n / BL_FLOW_WAYS - 1u;
	t->max_flows = o->max_flows;
	t->idle_ms = o->idle_ms;
	t->active_ms = o->active_ms;
	bl_flow_seed_mults(seed, t->k);
	t->emit = o->emit;
	t->emit_ctx = o->emit_ctx;
	t->st = o->stats != NULL ? o->stats : &t->own_st;
	memset(t->st, 0, sizeof(*t->st));
	*out = t;
	return 0;
}

void
bl_flow_free(struct bl_flow_table *t)
{
	if (t == NULL)
		return;
	huge_free(t->ent, (size_t)t->n_slots * sizeof(t->ent[0]));
	huge_free(t->sig, (size_t)t->n_slots * sizeof(t->sig[0]));
	free(t);
}

void
bl_flow_flush(struct bl_flow_table *t, uint8_t reason)
{
	for (uint32_t s = 0; s < t->n_slots; s++) {
		if (t->sig[s] == 0)
			continue;
		bl_flow__end(t, s, reason);
		bl_counter_add(&t->st->flushed, 1);
	}
}
