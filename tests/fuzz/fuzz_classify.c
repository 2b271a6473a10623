/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_classify — every protocol classifier (eth vlan ip ip6 ipproto tcp udp
 * icmp arp dport sport, and vlan id=N) on bytes as a frame, whole and as an
 * mbuf chain. Each classifier runs in a graph `fzfeed | X |all fzcollect`
 * built once; every input goes through all of them.
 *
 * Input:  u8 n_cuts | n_cuts % 4 * u16 (big-endian) segment lengths | the frame
 *   The chain: segments of those lengths (each taken modulo what is left,
 *   so empty segments occur), then one with the rest.
 * Oracles: no read past a segment (each is a heap buffer of exactly its
 * length, under ASan), no crash, no mbuf lost; the chain gets the same class
 * as the one-segment frame (a header split across segments is read whole).
 *
 * The `rx` chain check (issue 15 point 1: a chain whose segment lengths do
 * not add up to pkt_len) is not here: rx does not check yet (branch h-rx);
 * these chains are always consistent, as rx will guarantee.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_mbuf.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_pipe.h"
#include "fuzz.h"
#include "fuzz_eal.h"
#include "fuzz_feed.h"

/* ---- a collector of our own (the feed: fuzz_feed.h) --------------------- */

#define Q_MAX 8   /* packets a collector keeps */

struct fzcollect {
	unsigned int n;
	struct rte_mbuf *pkt[Q_MAX];
	uint32_t cls[Q_MAX];
};

static void
fzcollect_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct fzcollect *c = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++) {
		if (c->n == Q_MAX) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		c->cls[c->n] = bl_filter_in_class(f, i);
		c->pkt[c->n++] = pkts[i];
	}
}

static void
fzcollect_drain(struct fzcollect *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		rte_pktmbuf_free(c->pkt[i]);
	c->n = 0;
}

static void
fzcollect_fini(struct bl_filter *f)
{
	fzcollect_drain(bl_filter_priv(f));
}

BL_FILTER_REGISTER(fzcollect) = {
	.summary = "fuzz only: keep every packet with its class",
	.synopsis = "fzcollect",
	.args_doc = "none",
	.edges_doc = "none: a sink",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: the packets kept",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct fzcollect),
	.init = fuzz_no_args,
	.fini = fzcollect_fini,
	.process = fzcollect_process,
};

/* ---- the graphs ----------------------------------------------------------- */

static const char *const classifiers[] = {
	"eth", "vlan", "vlan id=100", "ip", "ip6", "ipproto", "tcp", "udp", "icmp", "arp",
	"dport", "sport",
};
#define N_CLS (sizeof(classifiers) / sizeof(classifiers[0]))

static struct bl_graph *graphs[N_CLS];
static struct fzfeed *feeds[N_CLS];
static struct fzcollect *colls[N_CLS];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	struct bl_graph_env env;
	struct bl_err err = { 0 };

	(void)argc;
	(void)argv;
	memset(&env, 0, sizeof(env));
	env.pool = fuzz_eal();
	env.n_replicas = 1;
	env.burst = 32;
	if (bl_graph_global_init(&err) != 0)
		FUZZ_FAIL("bl_graph_global_init: %s", err.msg);
	for (unsigned int i = 0; i < N_CLS; i++) {
		char text[128];
		struct bl_gdesc d;

		snprintf(text, sizeof(text), "fzfeed | %s |all fzcollect", classifiers[i]);
		bl_gdesc_init(&d);
		if (bl_pipe_parse(text, &opts, &d, &err) != 0 ||
		    bl_graph_build(&d, &env, &graphs[i], &err) != 0)
			FUZZ_FAIL("%s: %s", text, err.msg);
		bl_gdesc_free(&d);
		feeds[i] = fzfeed_of(graphs[i]);
		colls[i] = bl_filter_priv(bl_graph_filter_by_name(graphs[i], "fzcollect"));
	}
	return 0;
}

/* ---- one input ---------------------------------------------------------------- */

static struct rte_mbuf *
chain_of(const uint8_t *frame, uint32_t len, const uint32_t *cuts, unsigned int n_cuts)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	for (unsigned int i = 0; i <= n_cuts; i++) {
		uint32_t left = len - off;
		uint32_t seg = i < n_cuts ? cuts[i] % (left + 1) : left;
		struct rte_mbuf *m = fuzz_mbuf_exact(frame + off, seg);

		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			FUZZ_FAIL("rte_pktmbuf_chain");
		off += seg;
	}
	FUZZ_CHECK(head->pkt_len == len && rte_pktmbuf_pkt_len(head) == len, "chain length");
	return head;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t cuts[3];
	unsigned int n_cuts;

	if (size < 1)
		return 0;
	n_cuts = fuzz_take(&data, &size, 1) % 4;
	for (unsigned int i = 0; i < n_cuts; i++)
		cuts[i] = fuzz_take(&data, &size, 2);
	if (size > 9000)   /* a jumbo frame at most */
		return 0;
	for (unsigned int g = 0; g < N_CLS; g++) {
		struct fzfeed *q = feeds[g];
		struct fzcollect *c = colls[g];

		fzfeed_reset(q);
		fzfeed_push(q, fuzz_mbuf_exact(data, (uint32_t)size));
		fzfeed_push(q, chain_of(data, (uint32_t)size, cuts, n_cuts));
		for (unsigned int pass = 0; pass < 8 && c->n < 2; pass++)
			bl_graph_run(graphs[g]);
		FUZZ_CHECK(c->n == 2, "%s: %u of 2 packets came out", classifiers[g], c->n);
		FUZZ_CHECK(c->cls[0] == c->cls[1], "%s: class %u in one segment, %u as a chain of %u",
			   classifiers[g], c->cls[0], c->cls[1], c->pkt[1]->nb_segs);
		fzcollect_drain(c);
	}
	return 0;
}
