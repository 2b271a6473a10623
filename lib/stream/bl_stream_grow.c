/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream_grow — streams that grow (export capacity=auto or max_capacity=N):
 * the main lcore looks at what a stream's readers lost every 100 ms and asks
 * its ring to double while they keep losing, up to max_capacity; after 5 s
 * with nothing lost it asks it to halve, step by step, down to the declared
 * capacity. The ring does the change on its writer's lcore at a burst
 * boundary where no reader loses an entry (bl_ibuf_resize, rule P4 of
 * bl_ibuf_worker.h): it grows from C at the next sequence number that is C
 * modulo 2C (the entries in the ring keep their slots), so at most 2C-1 entries
 * later; a reader that has stopped altogether holds an SRP ring full, and it
 * grows once that reader moves again. It shrinks once every reader has read
 * everything. The mbufs the larger ring may hold were reserved from the pool
 * for max_capacity at create.
 */
#include "bl_ibuf.h"
#include "bl_log.h"
#include "bl_stream.h"

/* What the stream's readers lost so far: tail drops, and entries lapped readers skipped. */
static uint64_t
losses(const struct bl_stream *s)
{
	struct bl_ibuf_stats st;
	uint64_t n;

	bl_ibuf_stats(s->ib, &st);
	n = st.dropped;
	for (unsigned int i = 0; i < s->max_readers && i < BL_IBUF_MAX_READERS; i++)
		if (st.r[i].active)
			n += st.r[i].lost;
	return n;
}

void
bl_stream__grow_tick(struct bl_stream *s, uint64_t now_ns)
{
	struct bl_stream_grow *g = &s->grow;
	uint32_t cap;
	uint64_t lost;

	if (s->max_capacity <= s->capacity || s->ib == NULL || now_ns < g->next_ns)
		return;
	g->next_ns = now_ns + BL_STREAM_GROW_LOOK_NS;
	lost = losses(s);
	cap = bl_ibuf_capacity(s->ib);
	if (g->quiet_ns == 0) {                   /* first look */
		g->losses = lost;
		g->quiet_ns = now_ns;
		g->cap = cap;
		return;
	}
	if (cap != g->cap) {                      /* the writer did what was asked */
		/* two call sites: each has its own share of the log's rate limit */
		if (cap > g->cap)
			bl_log(BL_LOG_INFO, "stream \"%s\": grew from %u to %u slots (its readers "
			       "lost entries)", s->name, g->cap, cap);
		else
			bl_log(BL_LOG_INFO, "stream \"%s\": shrank from %u to %u slots (nothing lost "
			       "for a while)", s->name, g->cap, cap);
		g->cap = cap;
	}
	if (lost != g->losses) {
		g->losses = lost;
		g->quiet_ns = now_ns;
		/* asked again while the readers keep losing: the writer does it at the next
		 * point where no entry moves (a request may be replaced or lost) */
		if (cap < s->max_capacity)
			bl_ibuf_resize(s->ib, cap * 2);
	} else if (cap > s->capacity && now_ns - g->quiet_ns >= BL_STREAM_SHRINK_QUIET_NS) {
		/* asked every look until done: it waits for every reader to read everything */
		bl_ibuf_resize(s->ib, cap / 2);
	}
}

uint32_t
bl_stream_capacity_now(const struct bl_stream *s)
{
	return s->ib != NULL ? bl_ibuf_capacity(s->ib) : s->capacity;
}

uint64_t
bl_stream_resizes(const struct bl_stream *s)
{
	/* relaxed: a counter of the writer's (bl_counter_add). */
	return s->ib != NULL ? __atomic_load_n(&s->ib->prod->resizes, __ATOMIC_RELAXED) : 0;
}
