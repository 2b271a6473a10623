/* SPDX-License-Identifier: BSD-3-Clause */
/* See bl_replay.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>

#include "bl_mbuf_meta.h"
#include "bl_replay.h"

#define CMP_MAX 64u

struct replay_q {
	pcap_t *pc;                 /* NULL: at its end, or failed */
	struct pcap_pkthdr *h;      /* the next record, read ahead (libpcap's buffers, valid */
	const u_char *d;            /*   until the next read), or NULL */
	uint64_t unmatched;         /* (w) the polling lcore; relaxed, read by stats */
	uint8_t ended;              /* (w) 1 once pc reached its end; relaxed, read by main */
};

/* The next record into q->h, q->d; false at the end of the file (then closed). */
static bool
next_record(struct replay_q *q)
{
	if (q->h != NULL)
		return true;
	if (q->pc == NULL)
		return false;
	if (pcap_next_ex(q->pc, &q->h, &q->d) == 1)
		return true;
	q->h = NULL;
	pcap_close(q->pc);   /* cold: once, at the end of the file */
	q->pc = NULL;
	/* relaxed: a flag; pairs with the relaxed load in bl_replay_pending */
	__atomic_store_n(&q->ended, 1, __ATOMIC_RELAXED);
	return false;
}

struct replay_port {
	uint16_t n;
	const struct rte_eth_rxtx_callback *cb[RTE_MAX_QUEUES_PER_PORT];
	struct replay_q q[RTE_MAX_QUEUES_PER_PORT];
};

static struct replay_port *ports[RTE_MAX_ETHPORTS];

static bool
matches(const struct rte_mbuf *m, const struct pcap_pkthdr *h, const u_char *d)
{
	uint32_t k = RTE_MIN(RTE_MIN(h->caplen, (uint32_t)m->data_len), CMP_MAX);

	return (uint16_t)h->caplen == (uint16_t)m->pkt_len &&
	       memcmp(rte_pktmbuf_mtod(m, const void *), d, k) == 0;
}

static uint16_t
replay_rx(uint16_t port __rte_unused, uint16_t queue __rte_unused, struct rte_mbuf **pkts,
	  uint16_t n, uint16_t max __rte_unused, void *arg)
{
	struct replay_q *q = arg;
	uint64_t lost = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct pcap_pkthdr *h;
		const u_char *d;
		bool found = false;

		for (unsigned int t = 0; t <= BL_REPLAY_RESYNC_MAX && next_record(q); t++) {
			h = q->h;
			d = q->d;
			q->h = NULL;   /* taken: matched or skipped */
			if (matches(pkts[i], h, d)) {
				bl_mbuf_meta_set(pkts[i], (uint64_t)h->ts.tv_sec * 1000000000u +
						 (uint64_t)h->ts.tv_usec, h->len);
				found = true;
				break;
			}
		}
		lost += !found;
	}
	/* Read one record ahead, so the queue knows it is at the end as soon as it
	 * delivered the last record (bl_replay_pending): the pointers stay valid
	 * until the next read. */
	if (n != 0)
		(void)next_record(q);
	if (unlikely(lost != 0))
		/* relaxed: single writer; pairs with the relaxed load in bl_replay_unmatched */
		__atomic_store_n(&q->unmatched, q->unmatched + lost, __ATOMIC_RELAXED);
	return n;
}

/* The rx_pcap= files of a net_pcap vdev spec, in order; NULL when none (or not net_pcap,
 * or infinite_rx=1). Returns a malloc'ed copy of the spec the paths point into. */
static char *
rx_files(const char *vdev, const char **path, unsigned int max, unsigned int *n)
{
	char *s, *save = NULL, *tok;
	bool infinite = false;

	*n = 0;
	if (strncmp(vdev, "net_pcap", 8) != 0 && strncmp(vdev, "eth_pcap", 8) != 0)
		return NULL;
	s = strdup(vdev);
	if (s == NULL)
		return NULL;
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "rx_pcap=", 8) == 0 && *n < max)
			path[(*n)++] = tok + 8;
		else if (strcmp(tok, "infinite_rx=1") == 0)
			infinite = true;
	}
	if (*n == 0 || infinite) {
		free(s);
		*n = 0;
		return NULL;
	}
	return s;
}

int
bl_replay_attach(const struct bl_cfg_port *p, unsigned int idx, uint16_t port_id,
		 struct bl_err *err)
{
	static const char *path[RTE_MAX_QUEUES_PER_PORT];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct replay_port *rp;
	unsigned int n;
	char *spec = rx_files(p->vdev, path, RTE_MAX_QUEUES_PER_PORT, &n);
	int rc;

	if (spec == NULL)
		return 0;
	rc = bl_mbuf_meta_register();
	if (rc < 0) {
		free(spec);
		return bl_err_set(err, rc, "ports[%u] (%s): cannot register the mbuf record field: %s",
				  idx, p->name, strerror(-rc));
	}
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL) {
		free(spec);
		return bl_err_set(err, -ENOMEM, "ports[%u] (%s): out of memory", idx, p->name);
	}
	ports[port_id] = rp;
	for (unsigned int i = 0; i < n && i < p->rx_queues; i++) {
		rp->q[i].pc = pcap_open_offline_with_tstamp_precision(path[i], PCAP_TSTAMP_PRECISION_NANO,
								      errbuf);
		if (rp->q[i].pc == NULL) {
			rc = bl_err_set(err, -EIO, "ports[%u].vdev: rx_pcap=%s: %s", idx, path[i], errbuf);
			break;
		}
		rp->n = (uint16_t)(i + 1);
		(void)next_record(&rp->q[i]);   /* an empty file has ended already */
		rp->cb[i] = rte_eth_add_rx_callback(port_id, (uint16_t)i, replay_rx, &rp->q[i]);
		if (rp->cb[i] == NULL) {
			rc = bl_err_set(err, -rte_errno, "ports[%u] (%s): rx queue %u: cannot add the "
					"replay callback: %s", idx, p->name, i, strerror(rte_errno));
			break;
		}
	}
	free(spec);
	if (rc != 0)
		bl_replay_detach(port_id);
	return rc;
}

void
bl_replay_detach(uint16_t port_id)
{
	struct replay_port *rp = ports[port_id];

	if (rp == NULL)
		return;
	for (uint16_t i = 0; i < rp->n; i++) {
		if (rp->cb[i] != NULL)
			rte_eth_remove_rx_callback(port_id, i, rp->cb[i]);
		if (rp->q[i].pc != NULL)
			pcap_close(rp->q[i].pc);
	}
	ports[port_id] = NULL;
	/* The callbacks were removed from queues no lcore polls any more (workers stopped):
	 * DPDK frees nothing of ours; the state can go. */
	free(rp);
}

bool
bl_replay_pending(void)
{
	for (unsigned int p = 0; p < RTE_MAX_ETHPORTS; p++) {
		const struct replay_port *rp = ports[p];
		for (uint16_t i = 0; rp != NULL && i < rp->n; i++)
			/* relaxed: pairs with the relaxed store in next_record */
			if (!__atomic_load_n(&rp->q[i].ended, __ATOMIC_RELAXED))
				return true;
	}
	return false;
}

uint64_t
bl_replay_unmatched(uint16_t port_id)
{
	const struct replay_port *rp = ports[port_id];
	uint64_t sum = 0;

	if (rp == NULL)
		return 0;
	for (uint16_t i = 0; i < rp->n; i++)
		sum += __atomic_load_n(&rp->q[i].unmatched, __ATOMIC_RELAXED);
	return sum;
}
