/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_graph — a filter graph instantiated on one worker lcore (one replica).
 *
 * Building is a transaction: every step (allocations, each filter's init,
 * label resolution, each filter's start) can be undone, and a failure at any
 * step undoes all earlier ones, leaking nothing. Filters start from sinks to
 * sources, so a graph starts whole; they stop from sources to sinks.
 *
 * Running: bl_graph_run() is one pass: poll every source once, then hand
 * bursts down the graph in topological order as direct calls; packets only
 * cross an IBuf where a graph spans lcores.
 */
#ifndef BL_GRAPH_H
#define BL_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_err.h"
#include "bl_filter.h"
#include "bl_gdesc.h"

struct rte_mempool;
struct bl_dbuf;

#define BL_GRAPH_MAX_NODES 64   /* filters in a built graph (after prefix sharing) */
#define BL_GRAPH_MAX_PORTS 32

/* A port as graphs see it, for this replica. */
struct bl_graph_port {
	char name[BL_GDESC_NAME_MAX];
	uint16_t port_id;
	uint16_t rx_queues;         /* the port's rx queues (replica i polls q % n == i) */
	uint16_t tx_queues;
	uint16_t tx_queue;          /* this lcore's own tx queue on the port */
	bool tx_queues_device;      /* tx_queues is the device's most (one per worker was asked) */
	bool tx_single_seg;         /* the device cannot send chained mbufs */
};

/* What a graph's filters may use: set by the appliance (or a test harness). */
struct bl_graph_env {
	struct rte_mempool *pool;   /* sources and private copies allocate here */
	struct bl_dbuf *dbuf;       /* the packet DBuf pool belongs to (NULL: a plain pool) */
	unsigned int pkt_mode;      /* memory.packet_mode: who may read packets; a sink's file
	                             * (pcap file=) gets its read bits (0: the owner's only) */
	unsigned int lcore;
	unsigned int replica, n_replicas;
	uint16_t burst;             /* packets a source polls at most per pass (at most what
	                             * the inputs hold: bl_graph_burst_for) */
	uint8_t burst_exact;        /* tests: the burst as given, past what the inputs hold
	                             * (to reach the runtime's overflow paths) */
	/* Which rx queues are polled, one bit per queue per port, across all the
	 * graphs of the appliance (rx claims and releases them); NULL: unchecked. */
	uint64_t *rx_claims;
	unsigned int n_ports;
	struct bl_graph_port ports[BL_GRAPH_MAX_PORTS];
	/* A dry run (beltlined --check): no EAL, no device, no pool. Filters check
	 * every argument as a real build would, and make nothing outside the
	 * process (no file, stream, device or EAL memory); start and commit are
	 * skipped. pool and dbuf are NULL; data_room stands for the pool's. */
	bool dry;
	uint32_t data_room;         /* dry: the pool's data room past the headroom */
	/* dry: if set, called with each filter whose init fails (the message as the build
	 * would return it), and the build goes on to the next filter, so --check says every
	 * bad argument of a graph, not only the first; the build still fails, with the
	 * first message in err. */
	void (*dry_error)(void *ctx, const struct bl_err *err);
	void *dry_error_ctx;
	/*
	 * Adoption (live reload): the running graphs this build replaces, on this
	 * lcore and replica. A filter whose type, name, negation, arguments (in
	 * order) and number of in-edges (and for a BL_FILTER_F_SPLIT filter, such as
	 * rx, replica and n_replicas) equal those of a filter of one of them
	 * takes that instance's state instead of an init (its out-edges may differ:
	 * a branch added or removed): its private state (its counters among it,
	 * streams, files, tables, threads) is the same memory, already started, and
	 * its runtime counters, and those of each out-edge it keeps (same filter at
	 * the end, same label), are carried over by the worker when it swaps the
	 * sets (bl_graph_handover). Until the build
	 * commits the old instance owns the state (a rolled-back build gives it
	 * back untouched); after, the new one does and the old graph's free
	 * leaves it alone. The old graph keeps running until the worker swaps,
	 * on the same lcore, so the state is never used by two threads.
	 */
	struct bl_graph *const *adopt;
	unsigned int n_adopt;
};

struct bl_graph;

/*
 * Merge the common prefixes of the pipelines in d: nodes with the same filter,
 * arguments and (shared) inputs become one instance (named nodes excepted).
 * Returns how many nodes were merged, or -ENOMEM (d unchanged).
 */
int bl_graph_share_prefixes(struct bl_gdesc *d);

/* Register the mbuf dynamic fields the graphs use (once, after EAL init). */
int bl_graph_global_init(struct bl_err *err);

/*
 * The burst a graph can take: at most burst, and no more than an input (BL_BURST_MAX
 * packets) holds from all the paths that reach it in a pass. A filter that n paths
 * from the sources reach (branches joined again, several sources into one filter) may
 * be handed n bursts in one pass; past its input's room they were freed as overflow
 * (intersect at burst 256 passed none). *paths (may be NULL): the most paths into one
 * filter. A cyclic graph: burst as given (its rounds are counted apart). The build
 * uses it; the app says when it is less than asked.
 */
uint16_t bl_graph_burst_for(const struct bl_gdesc *d, uint16_t burst, unsigned int *paths);

int bl_graph_build(const struct bl_gdesc *d, const struct bl_graph_env *env,
		   struct bl_graph **out, struct bl_err *err);

/*
 * The build is final: the caller's whole transaction (every graph of a
 * config, and whatever else it set up) succeeded. Calls each filter's commit,
 * sinks first, on the control thread before any pass runs. A graph freed
 * without this was rolled back: its filters leave no trace (no file created
 * or truncated).
 */
void bl_graph_commit(struct bl_graph *g);

/* The workers stopped for good: each started filter's drain, sources first (main lcore). */
void bl_graph_drain(struct bl_graph *g);

/* Stop (sources first), fini and free; frees every packet still queued inside. */
void bl_graph_free(struct bl_graph *g);

/* The worker, when it first runs g (after a live reload's swap, before the
 * pass): adopted filters take over their old instances' runtime counters. */
void bl_graph_handover(struct bl_graph *g);

/* How many of g's filters took their state from a running graph (bl_graph_env.adopt). */
unsigned int bl_graph_n_adopted(const struct bl_graph *g);

/* One pass over the graph; returns the packets its sources produced. */
uint64_t bl_graph_run(struct bl_graph *g);

unsigned int bl_graph_n_filters(const struct bl_graph *g);
const struct bl_filter *bl_graph_filter(const struct bl_graph *g, unsigned int i);
struct bl_filter *bl_graph_filter_by_name(struct bl_graph *g, const char *name);
const struct bl_graph_env *bl_graph_env(const struct bl_filter *f);
/* Whether f is being built for a dry run (env.dry): check, make nothing. */
bool bl_graph_dry(const struct bl_filter *f);
/* The data an mbuf of the graph's pool holds past its headroom (dry: env.data_room). */
uint32_t bl_graph_data_room(const struct bl_filter *f);
/* Find a port by name in the filter's environment; NULL with err when absent. */
const struct bl_graph_port *bl_graph_port(const struct bl_filter *f, const char *name,
					  const char *key, struct bl_err *err);

/* Counters of the graph itself (the runtime, not a filter). */
struct bl_graph_stats {
	uint64_t passes;
	uint64_t cycle_limit;   /* packets still circling after the pass limit: freed */
};
const struct bl_graph_stats *bl_graph_stats(const struct bl_graph *g);

/* Test hooks: fail the Nth undoable build step (0: never); live allocations. */
void bl_graph_test_fail_step(unsigned int n);
/* A step of the caller's own transaction, counted with the graphs' (the hook above):
 * true when it is the one to fail. */
bool bl_graph_test_step_fails(void);
long bl_graph_test_live_allocs(void);

#endif /* BL_GRAPH_H */
