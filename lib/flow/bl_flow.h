/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_flow — a flow table for filters (control side; lib/flow/README.md).
 *
 * Keyed by the uniflow key (addresses, ports, protocol, outermost VLAN, IP
 * version), fixed memory chosen when it is made (max_flows), updated by one
 * thread only: each replica of a graph has its own table, so there is no lock
 * and no atomic in it. Records leave it on idle and active timeouts, when the
 * table is full (the least recently seen of the new key's candidates, early,
 * counted) and when the owner flushes it; each goes to the owner's emit
 * callback as a struct bl_flow_rec. The burst calls are in bl_flow_worker.h.
 */
#ifndef BL_FLOW_H
#define BL_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_err.h"
#include "bl_flow_rec.h"

#define BL_FLOW_WAYS       8u          /* slots per bucket */
#define BL_FLOW_MAX_FLOWS  (1u << 26)  /* 64 Mi flows: 8 GiB of slots, the most one table takes */

/* The key: 40 bytes, compared and hashed as five 64-bit words. */
struct bl_flow_key {
	uint8_t src[16], dst[16];   /* network order; IPv4 in the first 4 bytes, the rest 0 */
	uint16_t sport, dport;      /* host order */
	uint16_t vlan;
	uint8_t proto;
	uint8_t ipver;
};
_Static_assert(sizeof(struct bl_flow_key) == 40, "the key is five words");

/* One slot: the key and the flow's counts, one cache line. Times are ms after
 * the table's base (the first packet's time), so 32 bits last 49 days. */
struct bl_flow_ent {
	struct bl_flow_key key;
	uint64_t bytes;
	uint32_t packets;
	uint32_t first, last;
	uint8_t tcp_flags;
	uint8_t pad[3];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct bl_flow_ent) == 64, "a slot is one cache line");

/* What the owner says about one packet (filled by its parser). */
struct bl_flow_pkt {
	struct bl_flow_key key;
	uint32_t len;               /* bytes it adds: the IP length field */
	uint8_t tcp_flags;
	uint64_t ms;                /* its time, ms since the epoch */
};

/* Where expired records go: called on the table's thread, must not block long. */
typedef void (*bl_flow_emit_fn)(void *ctx, const struct bl_flow_rec *r);

/* Counters: (w) the table's thread, with bl_counter_add; stats read them relaxed. */
struct bl_flow_stats {
	uint64_t created;           /* flows begun */
	uint64_t idle;              /* ended by the idle timeout */
	uint64_t active;            /* ended by the active timeout */
	uint64_t evicted;           /* exported early: the table (or the key's buckets) was full */
	uint64_t flushed;           /* exported by bl_flow_flush */
	uint64_t count;             /* flows in the table now (a value) */
};

struct bl_flow_opts {
	uint32_t max_flows;         /* 1..BL_FLOW_MAX_FLOWS: flows at once */
	uint32_t idle_ms;           /* >= 1: a flow with no packet this long ends */
	uint32_t active_ms;         /* >= 1: a flow that lasted this long is exported and starts over */
	uint64_t seed;              /* hash seed (any value) */
	bl_flow_emit_fn emit;
	void *emit_ctx;
	struct bl_flow_stats *stats; /* where the counters go (a filter's private state), or
	                              * NULL: the table's own */
};

struct bl_flow_table {
	/* read-mostly, set at create */
	struct bl_flow_ent *ent;    /* n_slots, slot = bucket * WAYS + way */
	uint16_t *sig;              /* n_slots signatures; 0: the slot is free */
	uint32_t n_slots;
	uint32_t bucket_mask;
	uint32_t max_flows;
	uint32_t idle_ms, active_ms;
	uint64_t k[6];              /* hash multipliers, from the seed */
	bl_flow_emit_fn emit;
	void *emit_ctx;
	/* the table's thread */
	uint64_t base_ms;           /* time 0 of the slots' times; set by the first packet */
	bool based;
	uint32_t now;               /* the latest time seen, ms after base, modulo 2^32 */
	uint64_t now_ms;            /* the same, ms since the epoch (records' times) */
	uint64_t whole_ms;          /* now_ms when every slot was last looked at at once */
	uint32_t sweep_pos;         /* the next slot the expiry sweep looks at */
	uint32_t sweep_at;          /* when the sweep last ran, ms after base */
	uint64_t sweep_credit;      /* slots the sweep owes, scaled by 1024 */
	struct bl_flow_stats *st;   /* opts.stats, or own_st */
	struct bl_flow_stats own_st;
};

/* Make a table: memory for max_flows rounded up (slots: a power of two >= 5/4 of
 * max_flows, 64 bytes each, and 2 bytes of signature each). 0, or -EINVAL /
 * -ENOMEM with err naming the option ("max_flows: ..."). */
int bl_flow_create(const struct bl_flow_opts *o, struct bl_flow_table **out, struct bl_err *err);
void bl_flow_free(struct bl_flow_table *t);

/* Export every flow still in the table (reason: end, e.g. BL_FLOW_END_FORCED) and
 * empty it. The table's thread, or any thread once it is no longer used. */
void bl_flow_flush(struct bl_flow_table *t, uint8_t reason);

/* The six odd multipliers of bl_flow_key_hash (bl_flow_worker.h) from a seed. */
void bl_flow_seed_mults(uint64_t seed, uint64_t m[6]);

/* Bytes the table of these options takes. */
uint64_t bl_flow_mem(uint32_t max_flows);

#endif /* BL_FLOW_H */
