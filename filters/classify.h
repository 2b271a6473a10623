/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify — the shape every protocol classifier shares: parse the headers
 * once (proto.h), ask the filter's verdict, emit with its class. A verdict is
 * a class (> 0), 0 for "not this protocol", or -1 for "this protocol, but its
 * header (or one below it) is cut short or invalid": class 0, counted as
 * malformed. Counters: malformed, other (classify_counters).
 */
#ifndef BL_CLASSIFY_H
#define BL_CLASSIFY_H

#include <errno.h>

#include "bl_filter_worker.h"
#include "proto.h"

struct classify {
	uint64_t malformed;   /* (w) this lcore */
	uint64_t other;       /* (w) */
};

#define CLASSIFY_MALFORMED (-1)

static __rte_always_inline void
classify_burst(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n,
	       int64_t (*verdict)(const struct bl_filter *f, const struct proto *p))
{
	struct classify *c = bl_filter_priv(f);
	uint64_t bad = 0, other = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct proto p;
		int64_t v;

		proto_parse(pkts[i], &p);
		v = verdict(f, &p);
		if (v < 0)
			bad++;
		else if (v == 0)
			other++;
		bl_filter_emit(f, v > 0 ? (uint32_t)v : 0, pkts[i]);
	}
	bl_counter_add(&c->malformed, bad);
	bl_counter_add(&c->other, other);
}

static const struct bl_counter_def classify_counters[] = {
	BL_COUNTER(struct classify, malformed, "malformed",
		   "a header this filter needs is cut short or invalid (class 0)"),
	BL_COUNTER(struct classify, other, "other", "not this protocol (class 0)"),
};

/* init of a classifier that takes no arguments: any argument is an error naming it. */
static inline int
classify_init_noargs(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const none[] = { NULL };

	(void)f;
	return bl_args_only(args, none, false, err) < 0 ? -EINVAL : 0;
}

/* Verdict for a network-layer protocol with this EtherType. */
static inline int64_t
classify_l3(const struct proto *p, uint16_t etype)
{
	if (p->bad == PROTO_BAD_ETH)
		return CLASSIFY_MALFORMED;
	if (p->etype != etype)
		return 0;
	return p->bad == PROTO_BAD_L3 ? CLASSIFY_MALFORMED : 1;
}

/* Verdict for a protocol over IPv4/IPv6; `is` says whether the payload is it. */
static inline int64_t
classify_over_ip(const struct proto *p, bool is)
{
	if (p->bad == PROTO_BAD_ETH)
		return CLASSIFY_MALFORMED;
	if (p->etype != PROTO_ETH_IPV4 && p->etype != PROTO_ETH_IPV6)
		return 0;
	if (p->bad == PROTO_BAD_L3)
		return CLASSIFY_MALFORMED;
	if (!is || !p->first_frag)
		return 0;
	return p->bad == PROTO_BAD_L4 ? CLASSIFY_MALFORMED : 1;
}

/*
 * Define a classifier: the filter's process and counters from its verdict.
 * The registration stays in the filter's own file, with its doc block.
 */
#define CLASSIFY_DEFINE(nm)                                                         \
	static void nm##_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n) \
	{                                                                           \
		classify_burst(f, pkts, n, nm##_verdict);                           \
	}

#define CLASSIFY_COMMON BL_FILTER_COUNTERS(classify_counters)

#endif /* BL_CLASSIFY_H */
