/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness — run filter graphs in a unit test.
 *
 * EAL comes up once per test process (no PCI, no hugepages, no shared
 * config, a unique file prefix): Criterion forks every test, so
 * harness_eal() runs in each test's own process, from harness_new() or a
 * suite's .init. One pktmbuf pool is shared by all graphs of the process.
 *
 * Two test-only filters make a graph testable (registered in the test
 * binary only, see harness.c):
 *   feed     a source whose poll hands out the packets the test queued with
 *            harness_push() (with the class each was given, default 1)
 *   collect  a sink that keeps every packet it gets with its class
 * and a third, `probe`, passes packets on and logs init/fini/start/stop
 * (and its own name) for the transaction tests; `delay` keeps each packet
 * and hands it on at the next pass (from its poll), as `user` does.
 *
 * harness_new("sample every=4") builds "feed | sample every=4 |all collect"
 * (text that already starts with feed, gen or rx is built as written), so
 * every packet reaches collect with the class the filter gave it, 0 too.
 */
#ifndef BL_TEST_HARNESS_H
#define BL_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "bl_err.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"

#define HARNESS_POOL_SIZE 4095
#define HARNESS_KEEP_MAX  8192

struct harness {
	struct bl_graph *g;
	struct bl_graph_env env;
	char text[1024];
};

/* Bring EAL up in this process (idempotent); the shared pool. */
void harness_eal(void);
struct rte_mempool *harness_pool(void);
unsigned int harness_pool_free(void);   /* mbufs available (pool full: HARNESS_POOL_SIZE) */

/* Build a graph (see above) and commit it (bl_graph_commit); NULL on failure,
 * with the reason on stderr. */
struct harness *harness_new(const char *text);
/* The same with the error returned: 0 or -errno, err filled. */
int harness_build(const char *text, struct harness **out, struct bl_err *err);
/* The same in a given environment (start from harness_env()). */
int harness_build_env(const char *text, const struct bl_graph_env *env, struct harness **out,
		      struct bl_err *err);
/* The environment harness_build uses: the pool, one replica, the burst, the port. */
void harness_env(struct bl_graph_env *env);
/* Start the net_null0 port (2 rx, 2 tx queues); graphs built afterwards see it as "null". */
int harness_null_port(void);
/* Parse and build text as written, then free the graph uncommitted (a build
 * rolled back after it succeeded): the build's return code. */
int harness_try(const char *text, struct bl_err *err);
/* Packets a source polls per pass in graphs built from now on (default 32). */
void harness_set_burst(uint16_t n);
/* The same, kept even past what the graph's inputs hold (bl_graph_burst_for): for tests
 * of the runtime's overflow paths. */
void harness_set_burst_exact(uint16_t n);
/* Parse and build text as written in env, uncommitted (the caller commits or frees it). */
int harness_build_graph(const char *text, struct bl_graph_env *env, struct bl_graph **g,
			struct bl_err *err);
/* Free the graph and every packet collected or still queued. */
void harness_free(struct harness *h);

/* --- packets ---------------------------------------------------------- */

/* A packet holding len bytes copied from data. */
struct rte_mbuf *harness_mbuf(const void *data, uint32_t len);

/* A packet described by its headers (all fields optional; 0 = default). */
struct pkt_spec {
	uint8_t n_vlan;        /* VLAN tags before the EtherType */
	uint16_t vid;          /* outermost tag's VLAN id */
	uint16_t etype;        /* default IPv4 (0x0800) */
	uint8_t proto;         /* IPv4 protocol / IPv6 next header; default 17 */
	uint8_t ihl;           /* IPv4 header words (default 5) */
	uint16_t frag;         /* IPv4 fragment field / IPv6 fragment offset (adds a fragment header) */
	uint16_t sport, dport; /* default 1000, 2000 */
	uint8_t tcp_doff;      /* TCP data offset words (default 5) */
	uint8_t icmp_type;
	uint16_t payload;      /* bytes after the L4 header */
	uint16_t cut;          /* keep only this many bytes (0: all) */
};
struct rte_mbuf *harness_pkt(const struct pkt_spec *s);
/* The same in a heap buffer of exactly the packet's length (an external
 * buffer), so that ASan sees any read past its end. */
struct rte_mbuf *harness_mbuf_exact(const void *data, uint32_t len);
struct rte_mbuf *harness_pkt_exact(const struct pkt_spec *s);
/* Byte length of the frame pkt_spec describes, before cut. */
uint32_t harness_pkt_len(const struct pkt_spec *s);

/* --- running ---------------------------------------------------------- */

/* Queue a packet at the feed (class 1, or cls). */
void harness_push(struct harness *h, struct rte_mbuf *m);
void harness_push_cls(struct harness *h, struct rte_mbuf *m, uint32_t cls);
/* Queue n copies of spec (or of a default UDP packet when spec is NULL) and run. */
void harness_push_n(struct harness *h, unsigned int n);
/* Run passes until the feed is empty and a pass produced nothing; returns the passes. */
unsigned int harness_run(struct harness *h);
/* Run exactly n passes. */
void harness_passes(struct harness *h, unsigned int n);

/* --- what came out ---------------------------------------------------- */

/* Packets the collector named `name` ("collect", "collect2", ...; NULL: "collect") kept. */
unsigned int harness_n(struct harness *h, const char *collector);
struct rte_mbuf *harness_got(struct harness *h, const char *collector, unsigned int i);
uint32_t harness_got_cls(struct harness *h, const char *collector, unsigned int i);
/* How many packets the collector got with class cls. */
unsigned int harness_n_cls(struct harness *h, const char *collector, uint32_t cls);
/* How many packets reached the default collector on the edge named `edge` of the
 * filter that feeds it (e.g. "out", "rest"), or by class name ("ssh"). */
unsigned int harness_count(struct harness *h, const char *edge);
/* Free what the collector holds. */
void harness_clear(struct harness *h, const char *collector);

/* --- counters --------------------------------------------------------- */

struct bl_filter *harness_filter(struct harness *h, const char *node);
const struct bl_filter_stats *harness_stats(struct harness *h, const char *node);
/* A filter's own counter by name (bl_filter_counters); fails the test when absent. */
uint64_t harness_counter(struct harness *h, const char *node, const char *counter);
/* Per-class count in a filter's common counters. */
uint64_t harness_cls_count(struct harness *h, const char *node, uint32_t cls);
/* Packets carried by the out-edge of `from` that goes to `to` (the first such). */
uint64_t harness_edge_pkts(struct harness *h, const char *from, const char *to);
/* Packets of class cls the edge from -> to carried. */
uint64_t harness_edge_cls(struct harness *h, const char *from, const char *to, uint32_t cls);

/* --- the probe's life-cycle log --------------------------------------- */

#define PROBE_LOG_MAX 256
struct probe_event {
	char what[8];          /* "init", "fini", "start", "stop" */
	char node[BL_GDESC_NAME_MAX];
};
extern struct probe_event probe_log[PROBE_LOG_MAX];
extern unsigned int probe_n;
void probe_reset(void);
/* How many events `what` the log holds (for node, or any node when NULL). */
unsigned int probe_count(const char *what, const char *node);
/* Position of the event in the log, or -1. */
int probe_pos(const char *what, const char *node);

#endif /* BL_TEST_HARNESS_H */
