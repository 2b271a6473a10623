/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow — a flow meter: count packets, bytes, first and last time and TCP
 * flags per uniflow (lib/flow: addresses, ports, protocol, outermost VLAN, IP
 * version) and export the records as IPFIX to a collector (nfcapd, pmacct)
 * and, with export=NAME, as a record stream to clients (beltline cat --flows
 * NAME). Packets pass on `out` unchanged.
 *
 * The worker parses each packet once (proto.h: bounded reads, never past the
 * data), updates its replica's table (lock-free: one table per replica) and
 * sweeps a share of it for timeouts; records that end go into a ring
 * (bl_flow_ring.h) to this instance's exporter thread, a plain pthread that
 * encodes IPFIX (bl_ipfix.h), sends it over UDP and publishes the stream. The
 * worker makes no system call: the ring is its only way out, and a full ring
 * is counted (lost). When the graph stops, every flow still in the table is
 * exported with flowEndReason forcedEnd (4) and the thread sends all before
 * it exits. Times: a replayed capture's record times (docs/replay.md), else
 * the clock; timeouts run on the same clock. docs/flows.md says the rest.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bl_filter_worker.h"
#include "bl_flow_ring.h"
#include "bl_flow_worker.h"
#include "bl_graph.h"
#include "bl_ipfix.h"
#include "bl_log.h"
#include "bl_mbuf_meta.h"
#include "bl_ms_clock.h"
#include "bl_stream_worker.h"
#include "bl_time.h"
#include "flow_key.h"
#include "proto.h"

#define FLOW_RING      16384u   /* records between the worker and the exporter */
#define FLOW_MTU       1400u    /* an IPFIX message's most bytes (one UDP datagram) */
#define FLOW_SEND_MS   200u     /* a message waits at most this long for more records */

struct flow {
	/* config, read-only after init */
	uint32_t idle_s, active_s, max_flows, domain, template_s;
	int fd;                          /* connected UDP socket to the collector, or -1 */
	char collector[160];
	struct bl_stream *s;             /* export=NAME, or NULL */
	struct rte_mempool *pool;        /* the stream's records are mbufs of it */
	struct bl_flow_table *t;
	struct bl_flow_ring ring;
	struct bl_ms_clock clk;          /* the worker's clock: TSC to ms since the epoch */
	uint64_t tick_ms;                /* the worker's clock at the last flow_tick sweep */
	bool replay;                     /* (worker) packets came with a replay's times: the
	                                  * sweep keeps to them, even in a burst of none metered */
	uint64_t replay_ms;              /* (worker) the latest of those times */
	/* the exporter thread */
	pthread_t thr;
	int running;                     /* the thread exists (main) */
	uint32_t stop;                   /* main: release store; thread: acquire load */
	uint32_t flushing;               /* main, while it flushes the table (the worker is gone) */
	uint32_t drain_req;              /* main: release store; thread: acquire load */
	uint32_t drain_ack;              /* thread: release store once the ring it saw is sent */
	uint32_t pub_busy;               /* thread: 1 while it writes the stream (flow_commit) */
	struct bl_ipfix *ipfix;

	/* (w) the worker, bl_counter_add */
	_Alignas(64) uint64_t packets, bytes, malformed, not_ip, fragments, lost;
	struct bl_flow_stats fst;        /* the table's own counters */
	/* (w) the exporter thread */
	_Alignas(64) uint64_t records, messages, templates, send_errors, streamed, stream_nombuf,
			      stream_taken;

	struct bl_flow_pkt pk[BL_BURST_MAX];
};

static void
flow_emit(void *ctx, const struct bl_flow_rec *r)
{
	struct flow *fl = ctx;

	while (bl_flow_ring_put(&fl->ring, r) == 0) {
		/* relaxed: set and cleared by the main lcore itself, the only caller then */
		if (!__atomic_load_n(&fl->flushing, __ATOMIC_RELAXED) || !fl->running) {
			bl_counter_add(&fl->lost, 1);
			return;
		}
		usleep(1000);                     /* stop flushes: the exporter drains */
	}
}

static int
parse_collector(struct flow *fl, const char *uri, struct bl_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char host[128], port[16];
	const char *h = uri + 6, *colon;
	size_t hl;
	int rc, fd;

	if (strncmp(uri, "udp://", 6) != 0)
		return bl_err_set(err, -EINVAL, "collector: \"%.64s\": want udp://HOST:PORT", uri);
	if (*h == '[') {                                  /* [v6]:port */
		const char *e = strchr(h, ']');
		if (e == NULL || e[1] != ':')
			return bl_err_set(err, -EINVAL, "collector: \"%.64s\": want udp://[V6]:PORT", uri);
		h++;
		hl = (size_t)(e - h);
		colon = e + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL)
			return bl_err_set(err, -EINVAL, "collector: \"%.64s\": no :PORT", uri);
		hl = (size_t)(colon - h);
	}
	if (hl == 0 || hl >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return bl_err_set(err, -EINVAL, "collector: \"%.64s\": want udp://HOST:PORT, "
				  "PORT 1..65535", uri);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return bl_err_set(err, -EINVAL, "collector: \"%.64s\": %s", host, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return bl_err_set(err, rc, "collector: \"%.64s\": %s", uri, strerror(-rc));
	}
	freeaddrinfo(ai);
	fl->fd = fd;
	snprintf(fl->collector, sizeof(fl->collector), "%s", uri);
	return 0;
}

static int
flow_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "idle_s", "active_s", "max_flows", "collector", "domain",
		"template_s", "export", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct flow *fl = bl_filter_priv(f);
	const char *collector = NULL, *exp = NULL;
	struct bl_flow_opts o = { 0 };
	int rc;

	fl->idle_s = 15;
	fl->active_s = 120;
	fl->max_flows = 65536;
	fl->domain = 1;
	fl->template_s = 60;
	fl->fd = -1;
	if (bl_args_only(args, keys, false, err) < 0 ||
	    bl_args_u32(args, "idle_s", 1, 86400, &fl->idle_s, err) < 0 ||
	    bl_args_u32(args, "active_s", 1, 7 * 86400, &fl->active_s, err) < 0 ||
	    bl_args_u32(args, "max_flows", 1, BL_FLOW_MAX_FLOWS, &fl->max_flows, err) < 0 ||
	    bl_args_u32(args, "domain", 0, UINT32_MAX, &fl->domain, err) < 0 ||
	    bl_args_u32(args, "template_s", 1, 86400, &fl->template_s, err) < 0 ||
	    bl_args_str(args, "collector", &collector, err) < 0 ||
	    bl_args_str(args, "export", &exp, err) < 0)
		return -EINVAL;
	if (bl_graph_dry(f)) {   /* --check and every start: what can be checked, nothing made */
		struct bl_stream_opts so = {
			.sz = sizeof(so), .kind = BL_STREAM_EXPORT, .name = exp, .pkt = env->dbuf,
			.capacity = 1024, .max_readers = 8, .wake_count = 1,
			.wake_pass = 1,   /* the exporter looks again each round (flow_exporter) */
			.content = BL_STREAM_FLOWS, .lcore = env->lcore,
		};
		if (exp != NULL && env->n_replicas > 1)
			return bl_err_set(err, -EINVAL, "export: a stream has one writer, but this "
					  "graph runs on %u workers; give it one", env->n_replicas);
		if (collector != NULL && (rc = parse_collector(fl, collector, err)) < 0)
			return rc;
		if (fl->fd >= 0)
			close(fl->fd);
		fl->fd = -1;
		if (exp == NULL)
			return 0;
		if (bl_stream_policy_arg("srp", &so.policy, err) < 0 ||
		    bl_stream_perm_args(NULL, NULL, "0640", &so.uid, &so.gid, &so.mode, err) < 0)
			return -EINVAL;
		if ((rc = bl_stream_check(&so, err)) < 0) {
			char m[sizeof(err->msg)];
			snprintf(m, sizeof(m), "%s", err->msg);
			bl_err_set(err, rc, "export: %s", strncmp(m, "name: ", 6) == 0 ? m + 6 : m);
		}
		return rc;
	}
	rc = bl_mbuf_meta_register();     /* a replay's record times */
	if (rc < 0)
		return bl_err_set(err, rc, "cannot register the mbuf record field: %s", strerror(-rc));
	if (exp != NULL && env->n_replicas > 1)
		return bl_err_set(err, -EINVAL, "export: a stream has one writer, but this graph runs "
				  "on %u workers; give it one", env->n_replicas);
	fl->ipfix = malloc(sizeof(*fl->ipfix));
	if (fl->ipfix == NULL)
		return bl_err_set(err, -ENOMEM, "no memory for the IPFIX encoder");
	bl_ipfix_init(fl->ipfix, fl->domain, FLOW_MTU);
	if (bl_flow_ring_init(&fl->ring, FLOW_RING) < 0) {
		rc = bl_err_set(err, -ENOMEM, "no memory for the record ring");
		goto fail;
	}
	o.max_flows = fl->max_flows;
	o.idle_ms = fl->idle_s * 1000u;
	o.active_ms = fl->active_s * 1000u;
	o.seed = rte_rdtsc() ^ ((uint64_t)env->replica << 32);
	o.emit = flow_emit;
	o.emit_ctx = fl;
	o.stats = &fl->fst;
	if ((rc = bl_flow_create(&o, &fl->t, err)) < 0)
		goto fail;
	if (collector != NULL && (rc = parse_collector(fl, collector, err)) < 0)
		goto fail;
	if (exp != NULL) {
		struct bl_stream_opts so = {
			.sz = sizeof(so), .kind = BL_STREAM_EXPORT, .name = exp, .pkt = env->dbuf,
			.policy = 0, .capacity = 1024, .max_readers = 8, .wake_count = 1,
			.wake_pass = 1,   /* the exporter looks again each round (flow_exporter) */
			.content = BL_STREAM_FLOWS, .lcore = env->lcore,
		};
		if (bl_stream_policy_arg("srp", &so.policy, err) < 0 ||
		    bl_stream_perm_args(NULL, NULL, "0640", &so.uid, &so.gid, &so.mode, err) < 0) {
			rc = -EINVAL;
			goto fail;
		}
		if ((rc = bl_stream_create(&so, &fl->s, err)) < 0) {
			/* its errors name "name:"; ours is export= */
			char m[sizeof(err->msg)];
			snprintf(m, sizeof(m), "%s", err->msg);
			bl_err_set(err, rc, "export: %s", strncmp(m, "name: ", 6) == 0 ? m + 6 : m);
			goto fail;
		}
		fl->pool = env->pool;
	}
	bl_ms_clock_init(&fl->clk);
	return 0;
fail:
	if (fl->fd >= 0)
		close(fl->fd);
	fl->fd = -1;
	bl_flow_free(fl->t);
	fl->t = NULL;
	bl_flow_ring_fini(&fl->ring);
	free(fl->ipfix);
	fl->ipfix = NULL;
	return rc;
}

/* ---- the exporter thread ---- */

static void
send_msg(struct flow *fl)
{
	uint32_t len = bl_ipfix_finish(fl->ipfix);

	if (fl->fd >= 0 && send(fl->fd, fl->ipfix->buf, len, 0) != (ssize_t)len) {
		/* said, not only counted: a collector not listening (ECONNREFUSED) or a unit
		 * whose IPAddressDeny drops the datagrams (EPERM) showed only in send_errors.
		 * bl_log limits the lines a call site says (BL_LOG_BURST an interval). */
		bl_log(BL_LOG_WARNING, "flow: sending IPFIX to %s: %s", fl->collector, strerror(errno));
		bl_counter_add(&fl->send_errors, 1);
	} else
		bl_counter_add(&fl->messages, 1);
	fl->ipfix->len = 0;
}

/* The stream has one writer: this instance's thread while the stream's token is this
 * instance. A reload whose new flow took the stream over (flow_commit) leaves the old
 * one's records (its table flushed at stop) unstreamed and counted (still sent to a
 * collector): two threads must never write one ring. */
static void
publish(struct flow *fl, const struct bl_flow_rec *r, unsigned int n)
{
	struct rte_mbuf *m[64];
	uint16_t cls[64];

	/* D: announce, then look (seq_cst both; pair with flow_commit's store and load) */
	__atomic_store_n(&fl->pub_busy, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fl->s->writer_token, __ATOMIC_SEQ_CST) != fl) {
		bl_counter_add(&fl->stream_taken, n);
		goto out;
	}
	if (rte_pktmbuf_alloc_bulk(fl->pool, m, n) != 0) {
		bl_counter_add(&fl->stream_nombuf, n);
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		memcpy(rte_pktmbuf_mtod(m[i], void *), &r[i], sizeof(r[i]));
		m[i]->data_len = m[i]->pkt_len = sizeof(r[i]);
		cls[i] = 1;
	}
	bl_stream_publish(fl->s, m, cls, (uint16_t)n);
	bl_counter_add(&fl->streamed, n);
out:
	/* D: release, the ring's writes are done before flow_commit may see 0 */
	__atomic_store_n(&fl->pub_busy, 0, __ATOMIC_RELEASE);
}

/* The build is final (a start, or a reload about to swap): this instance is the stream's
 * writer from now. The one it takes over from (its graph still runs until the swap)
 * writes no more: once it is seen out of publish, its next look finds the token gone. */
static void
flow_commit(struct bl_filter *f)
{
	struct flow *fl = bl_filter_priv(f);
	struct flow *old;

	if (fl->s == NULL)
		return;
	old = __atomic_load_n(&fl->s->writer_token, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fl->s->writer_token, fl, __ATOMIC_SEQ_CST);
	if (old != NULL && old != fl)
		while (__atomic_load_n(&old->pub_busy, __ATOMIC_SEQ_CST) != 0)
			rte_pause();   /* a publish of at most 64 records */
}

static void *
flow_exporter(void *arg)
{
	struct flow *fl = arg;
	struct bl_flow_rec r[64];
	uint64_t tmpl_at = 0, first_at = 0;
	uint32_t req, ack = 0;
	int done = 0;

	while (!done) {
		/* acquire: pairs with stop's release; read before the ring is drained */
		done = __atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE) != 0;
		/* acquire: pairs with drain's release: the flushed records are in the ring */
		req = __atomic_load_n(&fl->drain_req, __ATOMIC_ACQUIRE);
		for (;;) {
			unsigned int n = bl_flow_ring_get(&fl->ring, r, 64);
			uint64_t now = bl_wall_ms();

			if (n == 0)
				break;
			if (fl->s != NULL)
				publish(fl, r, n);
			if (fl->fd < 0) {
				bl_counter_add(&fl->records, n);
				continue;
			}
			for (unsigned int i = 0; i < n; i++) {
				if (fl->ipfix->len == 0) {
					bl_ipfix_begin(fl->ipfix, (uint32_t)(now / 1000u));
					first_at = now;
					if (tmpl_at == 0 || now - tmpl_at >= fl->template_s * 1000ull) {
						bl_ipfix_add_templates(fl->ipfix);
						bl_counter_add(&fl->templates, 1);
						tmpl_at = now;
					}
				}
				if (bl_ipfix_add(fl->ipfix, &r[i]) == -ENOSPC) {
					send_msg(fl);
					i--;            /* again, in a new message */
					continue;
				}
				bl_counter_add(&fl->records, 1);
			}
		}
		if (fl->ipfix->len != 0 && (done || req != ack || bl_wall_ms() - first_at >= FLOW_SEND_MS))
			send_msg(fl);
		if (req != ack) {
			if (fl->s != NULL)
				bl_stream_wake_burst(fl->s);
			ack = req;
			/* release: pairs with drain's acquire; what it flushed is sent */
			__atomic_store_n(&fl->drain_ack, ack, __ATOMIC_RELEASE);
		}
		/* A round later (2 ms): a sleeper the last publish's look missed
		 * (bl_stream_wake_pass; this thread is the stream's writer). */
		if (fl->s != NULL)
			bl_stream_wake_pass(fl->s);
		if (!done)
			usleep(2000);
	}
	if (fl->s != NULL)
		bl_stream_wake_burst(fl->s);
	return NULL;
}

static int
flow_start(struct bl_filter *f, struct bl_err *err)
{
	struct flow *fl = bl_filter_priv(f);
	int rc;

	fl->stop = 0;
	rc = pthread_create(&fl->thr, NULL, flow_exporter, fl);
	if (rc != 0)
		return bl_err_set(err, -rc, "cannot start the flow exporter thread: %s", strerror(rc));
	fl->running = 1;
	return 0;
}

/* The graph no longer runs: the table is the main lcore's. Every flow left ends
 * now (forcedEnd), and the exporter sends it before this returns (at most 30 s). */
static void
flow_drain(struct bl_filter *f)
{
	struct flow *fl = bl_filter_priv(f);
	uint32_t req;

	__atomic_store_n(&fl->flushing, 1, __ATOMIC_RELAXED);
	bl_flow_flush(fl->t, BL_FLOW_END_FORCED);
	__atomic_store_n(&fl->flushing, 0, __ATOMIC_RELAXED);
	if (!fl->running)
		return;
	req = fl->drain_req + 1;
	/* release: the flushed records are in the ring before the thread sees req */
	__atomic_store_n(&fl->drain_req, req, __ATOMIC_RELEASE);
	/* acquire: pairs with the thread's release of drain_ack */
	for (unsigned int i = 0; i < 30000 && __atomic_load_n(&fl->drain_ack, __ATOMIC_ACQUIRE) != req; i++)
		usleep(1000);
}

static void
flow_stop(struct bl_filter *f)
{
	struct flow *fl = bl_filter_priv(f);

	flow_drain(f);     /* again if the app did not: a graph freed by a reload */
	if (fl->running) {
		/* release: the flushed records are in the ring before the thread sees stop */
		__atomic_store_n(&fl->stop, 1, __ATOMIC_RELEASE);
		pthread_join(fl->thr, NULL);
		fl->running = 0;
	}
}

static void
flow_fini(struct bl_filter *f)
{
	struct flow *fl = bl_filter_priv(f);

	if (fl->s != NULL) {
		void *me = fl;   /* a token left to a freed instance would be waited on */

		__atomic_compare_exchange_n(&fl->s->writer_token, &me, NULL, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		bl_stream_release(fl->s);
	}
	fl->s = NULL;
	if (fl->fd >= 0)
		close(fl->fd);
	fl->fd = -1;
	bl_flow_free(fl->t);
	fl->t = NULL;
	bl_flow_ring_fini(&fl->ring);
	free(fl->ipfix);
	fl->ipfix = NULL;
}

/* ---- the worker ---- */

/* Fill k from a parsed packet: 1 if it is metered, 0 if not (counted). */
static __rte_always_inline int
flow_key(struct flow *fl, const struct rte_mbuf *m, const struct proto *p, struct bl_flow_pkt *k,
	 uint64_t *malformed, uint64_t *not_ip, uint64_t *frags)
{
	uint8_t buf[40];

	if (p->etype != PROTO_ETH_IPV4 && p->etype != PROTO_ETH_IPV6) {
		if (p->bad == PROTO_BAD_ETH)
			(*malformed)++;
		else
			(*not_ip)++;
		return 0;
	}
	if (p->bad != PROTO_OK) {
		(*malformed)++;
		return 0;
	}
	(void)flow_key_ip(m, p, &k->key, &k->len, buf);
	k->tcp_flags = 0;
	if (!p->first_frag)
		(*frags)++;
	else if (p->has_l4 && (p->l4proto == 6 || p->l4proto == 17 || p->l4proto == 132)) {
		k->key.sport = p->sport;
		k->key.dport = p->dport;
		if (p->l4proto == 6) {
			const uint8_t *fb = proto_at(m, p->l4_off + 13, 1, buf);
			k->tcp_flags = fb != NULL ? fb[0] : 0;
		}
	}
	(void)fl;
	return 1;
}

/* The common case without the general walk: an untagged IPv4 packet with a 20-byte
 * header, not a later fragment, carrying UDP or TCP, all of it (through the TCP
 * flags) in the first segment. Fills k exactly as proto_parse + flow_key would and
 * returns 1; 0 for anything else (the caller takes the general walk). */
static __rte_always_inline int
flow_key_fast(const struct rte_mbuf *m, struct bl_flow_pkt *k)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t tot, doff;

	if (m->data_len < 14 + 20 + 8 || h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45 ||
	    ((h[20] << 8 | h[21]) & 0x1fff) != 0)
		return 0;
	tot = (uint32_t)(h[16] << 8 | h[17]);
	if (tot < 20)
		return 0;
	/* the L4 header inside the datagram, not in the frame's trailer (proto.h's l3_end) */
	if (h[23] == 6) {
		if (m->data_len < 14 + 20 + 20 || (doff = h[46] >> 4) < 5 || 34 + doff * 4 > m->pkt_len ||
		    20 + doff * 4 > tot)
			return 0;
		k->tcp_flags = h[47];
	} else if (h[23] == 17) {
		if (20 + 8 > tot)
			return 0;
		k->tcp_flags = 0;
	} else {
		return 0;
	}
	memset(&k->key, 0, sizeof(k->key));
	memcpy(k->key.src, h + 26, 4);
	memcpy(k->key.dst, h + 30, 4);
	k->len = tot;
	k->key.ipver = 4;
	k->key.proto = h[23];
	k->key.sport = (uint16_t)(h[34] << 8 | h[35]);
	k->key.dport = (uint16_t)(h[36] << 8 | h[37]);
	return 1;
}

static void
flow_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct flow *fl = bl_filter_priv(f);
	uint64_t now = bl_ms_clock_now(&fl->clk);
	uint64_t bad = 0, not_ip = 0, frags = 0, bytes = 0;
	unsigned int k = 0;
	bool replay = false;

	for (uint16_t i = 0; i < n; i++) {
		bool meta = bl_mbuf_meta_has(pkts[i]);

		if (meta)
			replay = fl->replay = true;   /* the replay's clock, from now on */
		if (!flow_key_fast(pkts[i], &fl->pk[k])) {
			struct proto p;

			proto_parse(pkts[i], &p);
			if (!flow_key(fl, pkts[i], &p, &fl->pk[k], &bad, &not_ip, &frags))
				continue;
		}
		if (meta) {
			fl->pk[k].ms = bl_mbuf_meta(pkts[i])->ts_ns / 1000000u;
			fl->replay_ms = RTE_MAX(fl->replay_ms, fl->pk[k].ms);
		} else if (fl->replay) {
			/* A packet without a record in a replay (replay_unmatched, or another
			 * source's into the same meter) counts at the replay's time, as tcpstream
			 * does: the clock's time, years after the capture's, ended every flow
			 * (idle) and left the table's clock there for the packets after it. */
			fl->pk[k].ms = fl->replay_ms;
		} else {
			fl->pk[k].ms = now;
		}
		bytes += fl->pk[k].len;
		k++;
	}
	bl_flow_update_burst(fl->t, fl->pk, k);
	/* A replay's clock is its records' times (the table's latest); live, the TSC's. */
	bl_flow_sweep(fl->t, replay || fl->replay ? 0 : now);
	bl_counter_add(&fl->packets, k);
	bl_counter_add(&fl->bytes, bytes);
	bl_counter_add(&fl->malformed, bad);
	bl_counter_add(&fl->not_ip, not_ip);
	bl_counter_add(&fl->fragments, frags);
	bl_filter_pass(f, pkts, n);
}

/* Each pass, packets or not: once the traffic stops, the flows still in the table end
 * idle_s after their last packet, not when the appliance stops. At most one sweep a
 * millisecond (the sweep looks at a share of the table each call). A replay's clock is
 * its records' times: it stands still once the capture ends, and so do its flows. */
static void
flow_tick(struct bl_filter *f)
{
	struct flow *fl = bl_filter_priv(f);
	uint64_t now;

	if (fl->replay || fl->clk.hz == 0)
		return;
	/* every graph pass: the TSC alone until a ms has passed */
	now = bl_ms_clock_tick(&fl->clk);
	if (now == 0 || now == fl->tick_ms)
		return;
	fl->tick_ms = now;
	bl_flow_sweep(fl->t, now);
}

/* Where the export=NAME stream's counters live: its ring's producer page (written by the
 * exporter thread, the ring's one writer) and the stream (copy_nombuf, the same thread). */
static const void *
flow_ring(const struct bl_filter *f)
{
	const struct flow *fl = bl_filter_priv(f);

	return fl->s != NULL ? fl->s->ib->prod : NULL;
}

static const void *
flow_stream(const struct bl_filter *f)
{
	return ((const struct flow *)bl_filter_priv(f))->s;
}

static const struct bl_counter_def flow_counters[] = {
	BL_COUNTER(struct flow, packets, "packets", "IPv4 and IPv6 packets metered"),
	BL_COUNTER(struct flow, bytes, "bytes", "their IP length fields summed (what records count)"),
	BL_COUNTER(struct flow, malformed, "malformed",
		   "packets not metered: an Ethernet, VLAN, IP or TCP/UDP/SCTP/ICMP header cut short, "
		   "invalid, or past the end of the IP datagram (in the frame's trailer) (passed on "
		   "all the same)"),
	BL_COUNTER(struct flow, not_ip, "not_ip", "packets not metered: neither IPv4 nor IPv6"),
	BL_COUNTER(struct flow, fragments, "fragments",
		   "later fragments, metered with ports 0 (their ports are in the first)"),
	BL_COUNTER(struct flow, fst.created, "flows", "flows begun (a timed-out flow that goes on "
		   "begins again)"),
	BL_GAUGE(struct flow, fst.count, "active", "flows in the table now"),
	BL_COUNTER(struct flow, fst.idle, "ended_idle", "records ended by idle_s"),
	BL_COUNTER(struct flow, fst.active, "ended_active", "records ended by active_s"),
	BL_COUNTER(struct flow, fst.evicted, "evicted",
		   "records exported early because the table (or the key's buckets) was full "
		   "(flowEndReason lackOfResources)"),
	BL_COUNTER(struct flow, fst.flushed, "flushed", "records exported when the meter stopped "
		   "(flowEndReason forcedEnd)"),
	BL_COUNTER(struct flow, lost, "lost",
		   "records lost: the ring to the exporter thread was full"),
	BL_COUNTER(struct flow, records, "records", "records the exporter encoded (or, with no "
		   "collector, took)"),
	BL_COUNTER(struct flow, messages, "messages", "IPFIX messages sent"),
	BL_COUNTER(struct flow, templates, "templates", "messages that carried the template set"),
	BL_COUNTER(struct flow, send_errors, "send_errors",
		   "messages the socket refused (e.g. no collector listening: ICMP unreachable)"),
	BL_COUNTER(struct flow, streamed, "streamed", "records handed to the export=NAME stream"),
	BL_COUNTER(struct flow, stream_nombuf, "stream_nombuf",
		   "records not streamed: no free mbuf for them"),
	BL_COUNTER_IN(flow_ring, struct bl_ibuf_prod, dropped, "stream_dropped",
		      "records streamed that the stream's ring refused: it was full (srp, mrp: a "
		      "reader fell behind)"),
	BL_COUNTER_IN(flow_ring, struct bl_ibuf_prod, overwritten, "stream_overwritten",
		      "records streamed that were overwritten before every reader read them (frp)"),
	BL_COUNTER_IN(flow_stream, struct bl_stream, w.copy_nombuf, "stream_copy_nombuf",
		      "records streamed and not written: no free mbuf in the stream's copy DBuf "
		      "(mode, owner or group other than the packet DBuf's)"),
	BL_COUNTER(struct flow, stream_taken, "stream_taken",
		   "records not streamed: a reload's new flow took the stream over (its last "
		   "records; a collector still gets them)"),
};

BL_FILTER_REGISTER(flow) = {
	.summary = "meter flows and export them as IPFIX (to nfcapd, pmacct) and as a record stream",
	.synopsis = "flow [idle_s=15] [active_s=120] [max_flows=65536] [collector=udp://HOST:PORT] "
		    "[domain=1] [template_s=60] [export=NAME]",
	.args_doc = "idle_s: a flow with no packet for this many seconds ends (1..86400, default 15)\n"
		    "active_s: a flow that lasted this many seconds is exported and begins again "
		    "(1..604800, default 120)\n"
		    "max_flows: flows at once per replica (default 65536); the table takes about "
		    "80 bytes per flow (slots: a power of two >= 5/4 of it, 66 bytes each), "
		    "allocated when the graph is built. When full, the least recently seen of the "
		    "new key's 16 candidate flows is exported early (counter evicted)\n"
		    "collector: udp://HOST:PORT (HOST a name, an IPv4 address or [IPv6]): where the "
		    "IPFIX messages go (RFC 7011 over UDP); none: records are counted, not sent\n"
		    "domain: the IPFIX observation domain id (default 1)\n"
		    "template_s: resend the template set every this many seconds (default 60)\n"
		    "export: publish the records as a stream of that name too (one 80-byte "
		    "struct bl_flow_rec per entry; beltline cat --flows NAME prints them); the "
		    "graph must run on one worker",
	.edges_doc = "the upstream classes, unchanged (every packet)",
	.flags = BL_FILTER_F_PASSES_CLASS,
	.counters_doc = "a record ends as idle, active, evicted or flushed; records + lost = "
			"their sum once the exporter drained",
	.state_doc = "per-replica: a flow table and an exporter thread per replica (records "
		     "of one flow seen by two replicas are two records); the stream of "
		     "export=NAME has one writer, so export= wants one worker",
	.priv_size = sizeof(struct flow),
	.init = flow_init,
	.fini = flow_fini,
	.start = flow_start,
	.stop = flow_stop,
	.commit = flow_commit,
	.drain = flow_drain,
	.process = flow_process,
	.tick = flow_tick,
	BL_FILTER_COUNTERS(flow_counters),
	.edges = { "out" },
};
