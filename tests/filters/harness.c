/* SPDX-License-Identifier: BSD-3-Clause */
/* The test harness: EAL per test process, the feed / collect / probe filters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "bl_pipe.h"
#include "harness.h"

/* ---- EAL and the pool ---------------------------------------------------- */

static struct rte_mempool *pool;
static pid_t eal_pid;

/* EAL leaves its runtime folder behind; remove it at exit. Registered before
 * rte_eal_init, so it runs after EAL's own exit handlers. */
static char eal_rundir[256];

static void
remove_eal_rundir(void)
{
	if (eal_rundir[0] != '\0')
		rmdir(eal_rundir);
}

void
harness_eal(void)
{
	char prefix[64];

	if (eal_pid == getpid())
		return;
	cr_assert(eal_pid == 0, "EAL came up in a parent process; tests must not share it");
	snprintf(prefix, sizeof(prefix), "--file-prefix=bltest%d", (int)getpid());
	char *argv[] = { "test", "--no-pci", "--no-huge", "--no-shconf", "-m", "128", prefix,
			 "--log-level", "*:warning", "--no-telemetry", "-l", "0",
			 "--vdev=net_null0", NULL };
	atexit(remove_eal_rundir);
	int rc = rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	cr_assert(rc >= 0, "rte_eal_init: %s", rte_strerror(rte_errno));
	snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
	eal_pid = getpid();
	pool = rte_pktmbuf_pool_create("bltest", HARNESS_POOL_SIZE, 64, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert(pool != NULL, "pool: %s", rte_strerror(rte_errno));
	struct bl_err err = { 0 };
	cr_assert(bl_graph_global_init(&err) == 0, "%s", err.msg);
}

struct rte_mempool *
harness_pool(void)
{
	harness_eal();
	return pool;
}

unsigned int
harness_pool_free(void)
{
	return rte_mempool_avail_count(harness_pool());
}

/* ---- feed: a source the test fills ------------------------------------- */

#define FEED_MAX 8192

struct feed {
	uint32_t head, tail;
	struct rte_mbuf *q[FEED_MAX];
	uint32_t cls[FEED_MAX];
	struct rte_mbuf *held;      /* one mbuf held from init to fini: leaks show */
};

struct probe_event probe_log[PROBE_LOG_MAX];
unsigned int probe_n;

static void
log_event(const char *what, const struct bl_filter *f)
{
	if (probe_n >= PROBE_LOG_MAX)
		return;
	snprintf(probe_log[probe_n].what, sizeof(probe_log[0].what), "%s", what);
	snprintf(probe_log[probe_n].node, sizeof(probe_log[0].node), "%s", f->name);
	probe_n++;
}

void
probe_reset(void)
{
	probe_n = 0;
}

unsigned int
probe_count(const char *what, const char *node)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < probe_n; i++)
		n += strcmp(probe_log[i].what, what) == 0 &&
		     (node == NULL || strcmp(probe_log[i].node, node) == 0);
	return n;
}

int
probe_pos(const char *what, const char *node)
{
	for (unsigned int i = 0; i < probe_n; i++)
		if (strcmp(probe_log[i].what, what) == 0 && strcmp(probe_log[i].node, node) == 0)
			return (int)i;
	return -1;
}

/* init holds one mbuf until fini, start one until stop: a missed fini or stop leaks. */
static int
hold_init(struct bl_filter *f, struct rte_mbuf **held)
{
	*held = rte_pktmbuf_alloc(bl_graph_env(f)->pool);
	if (*held == NULL)
		return -ENOMEM;
	log_event("init", f);
	return 0;
}

static void
hold_fini(struct bl_filter *f, struct rte_mbuf **held)
{
	log_event("fini", f);
	rte_pktmbuf_free(*held);
	*held = NULL;
}

static int
feed_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };
	struct feed *q = bl_filter_priv(f);

	if (bl_args_only(args, keys, false, err) < 0)
		return -EINVAL;
	return hold_init(f, &q->held);
}

static void
feed_fini(struct bl_filter *f)
{
	struct feed *q = bl_filter_priv(f);

	while (q->head != q->tail)
		rte_pktmbuf_free(q->q[q->head++ % FEED_MAX]);
	hold_fini(f, &q->held);
}

static int
any_start(struct bl_filter *f, struct bl_err *err)
{
	(void)err;
	log_event("start", f);
	return 0;
}

static void
any_stop(struct bl_filter *f)
{
	log_event("stop", f);
}

static uint16_t
feed_poll(struct bl_filter *f, uint16_t max)
{
	struct feed *q = bl_filter_priv(f);
	uint16_t n = 0, room = RTE_MIN(max, bl_filter_emit_room(f));

	while (n < room && q->head != q->tail) {
		uint32_t i = q->head++ % FEED_MAX;
		bl_filter_emit(f, q->cls[i], q->q[i]);
		n++;
	}
	return n;
}

BL_FILTER_REGISTER(feed) = {
	.summary = "test only: hand out the packets the test queued",
	.synopsis = "feed",
	.args_doc = "none",
	.edges_doc = "the class each packet was queued with (default 1)",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: the test's queue",
	.flags = BL_FILTER_F_SOURCE,
	.priv_size = sizeof(struct feed),
	.init = feed_init,
	.fini = feed_fini,
	.start = any_start,
	.stop = any_stop,
	.poll = feed_poll,
	.edges = { "out" },
};

/* ---- collect: a sink that keeps what it gets --------------------------- */

struct collect {
	unsigned int n;
	uint64_t lost;
	struct rte_mbuf *pkt[HARNESS_KEEP_MAX];
	uint32_t cls[HARNESS_KEEP_MAX];
	struct rte_mbuf *held;
};

static int
collect_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };
	struct collect *c = bl_filter_priv(f);

	if (bl_args_only(args, keys, false, err) < 0)
		return -EINVAL;
	return hold_init(f, &c->held);
}

static void
collect_drain(struct collect *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		rte_pktmbuf_free(c->pkt[i]);
	c->n = 0;
}

static void
collect_fini(struct bl_filter *f)
{
	struct collect *c = bl_filter_priv(f);

	collect_drain(c);
	hold_fini(f, &c->held);
}

static void
collect_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct collect *c = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++) {
		if (c->n == HARNESS_KEEP_MAX) {
			c->lost++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		c->cls[c->n] = bl_filter_in_class(f, i);
		c->pkt[c->n++] = pkts[i];
	}
}

BL_FILTER_REGISTER(collect) = {
	.summary = "test only: keep every packet with its class",
	.synopsis = "collect",
	.args_doc = "none",
	.edges_doc = "none: a sink",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: the packets kept",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct collect),
	.init = collect_init,
	.fini = collect_fini,
	.start = any_start,
	.stop = any_stop,
	.process = collect_process,
};

/* ---- probe: pass packets on, log the life cycle ------------------------ */

struct probe {
	struct rte_mbuf *held, *started;
	bool fail_start;
};

static int
probe_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "fail", NULL };
	struct probe *p = bl_filter_priv(f);
	const char *fail = NULL;

	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "fail", &fail, err) < 0)
		return -EINVAL;
	if (fail != NULL && strcmp(fail, "init") == 0)
		return bl_err_set(err, -EINVAL, "fail: init fails as asked");
	p->fail_start = fail != NULL && strcmp(fail, "start") == 0;
	return hold_init(f, &p->held);
}

static void
probe_fini(struct bl_filter *f)
{
	struct probe *p = bl_filter_priv(f);

	hold_fini(f, &p->held);
}

static int
probe_start(struct bl_filter *f, struct bl_err *err)
{
	struct probe *p = bl_filter_priv(f);

	if (p->fail_start)
		return bl_err_set(err, -EIO, "fail: start fails as asked");
	p->started = rte_pktmbuf_alloc(bl_graph_env(f)->pool);
	if (p->started == NULL)
		return bl_err_set(err, -ENOMEM, "probe: no mbuf");
	return any_start(f, err);
}

static void
probe_stop(struct bl_filter *f)
{
	struct probe *p = bl_filter_priv(f);

	rte_pktmbuf_free(p->started);
	p->started = NULL;
	any_stop(f);
}

static void
probe_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
}

/* renamer: gives every packet class 99 and calls it "ssh" (which dport calls 22). */
static const struct bl_class_name renamer_names[] = { { "ssh", 99 }, { NULL, 0 } };

static void
renamer_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		bl_filter_emit(f, 99, pkts[i]);
}

BL_FILTER_REGISTER(renamer) = {
	.summary = "test only: class 99 for every packet, named ssh",
	.synopsis = "renamer",
	.args_doc = "none",
	.edges_doc = "ssh (class 99): every packet",
	.counters_doc = "none beyond the common ones",
	.state_doc = "stateless",
	.process = renamer_process,
	.classes = renamer_names,
};

BL_FILTER_REGISTER(probe) = {
	.summary = "test only: pass packets on, log init/fini/start/stop",
	.synopsis = "probe [fail=init|start]",
	.args_doc = "fail: init makes init fail, start makes start fail",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: one mbuf held from init to fini and one from start to stop",
	.priv_size = sizeof(struct probe),
	.init = probe_init,
	.fini = probe_fini,
	.start = probe_start,
	.stop = probe_stop,
	.process = probe_process,
};

/* ---- delay: hand each packet on a pass later, as user does ------------- */

struct delay {
	uint16_t n;
	struct rte_mbuf *pkt[BL_BURST_MAX];
	uint32_t cls[BL_BURST_MAX];
};

static int
delay_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { NULL };

	(void)f;
	return bl_args_only(args, keys, false, err) < 0 ? -EINVAL : 0;
}

static void
delay_fini(struct bl_filter *f)
{
	struct delay *d = bl_filter_priv(f);

	rte_pktmbuf_free_bulk(d->pkt, d->n);
	d->n = 0;
}

/* Keeps what it gets (what does not fit goes on at once). */
static void
delay_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct delay *d = bl_filter_priv(f);

	for (uint16_t i = 0; i < n; i++) {
		if (d->n == BL_BURST_MAX) {
			bl_filter_emit(f, bl_filter_in_class(f, i), pkts[i]);
			continue;
		}
		d->cls[d->n] = bl_filter_in_class(f, i);
		d->pkt[d->n++] = pkts[i];
	}
}

/* ... and hands it on at the next pass's poll. */
static uint16_t
delay_poll(struct bl_filter *f, uint16_t max)
{
	struct delay *d = bl_filter_priv(f);
	uint16_t k = RTE_MIN(d->n, RTE_MIN(max, bl_filter_emit_room(f)));

	for (uint16_t i = 0; i < k; i++)
		bl_filter_emit(f, d->cls[i], d->pkt[i]);
	memmove(d->pkt, &d->pkt[k], (d->n - k) * sizeof(d->pkt[0]));
	memmove(d->cls, &d->cls[k], (d->n - k) * sizeof(d->cls[0]));
	d->n = (uint16_t)(d->n - k);
	return k;
}

BL_FILTER_REGISTER(delay) = {
	.summary = "test only: hand each packet on at the next pass",
	.synopsis = "delay",
	.args_doc = "none",
	.edges_doc = "the upstream classes, unchanged",
	.counters_doc = "none beyond the common ones",
	.state_doc = "per-replica: the packets held",
	.priv_size = sizeof(struct delay),
	.init = delay_init,
	.fini = delay_fini,
	.process = delay_process,
	.poll = delay_poll,
};

/* ---- building ---------------------------------------------------------- */

static uint16_t burst = 32;
static bool burst_exact;   /* the burst as given, past what the inputs hold */
static int null_port = -1;

int
harness_null_port(void)
{
	struct rte_eth_conf conf;
	uint16_t pid;

	harness_eal();
	if (null_port >= 0)
		return null_port;
	memset(&conf, 0, sizeof(conf));
	cr_assert(rte_eth_dev_get_port_by_name("net_null0", &pid) == 0, "no net_null0 vdev");
	cr_assert(rte_eth_dev_configure(pid, 2, 2, &conf) == 0);
	for (uint16_t q = 0; q < 2; q++) {
		cr_assert(rte_eth_rx_queue_setup(pid, q, 256, SOCKET_ID_ANY, NULL, pool) == 0);
		cr_assert(rte_eth_tx_queue_setup(pid, q, 256, SOCKET_ID_ANY, NULL) == 0);
	}
	cr_assert(rte_eth_dev_start(pid) == 0);
	null_port = pid;
	return pid;
}

void
harness_set_burst(uint16_t n)
{
	burst = n;
	burst_exact = false;
}

void
harness_set_burst_exact(uint16_t n)
{
	burst = n;
	burst_exact = true;
}

static void
env_init(struct bl_graph_env *env)
{
	memset(env, 0, sizeof(*env));
	env->pool = harness_pool();
	env->n_replicas = 1;
	env->burst = burst;
	env->burst_exact = burst_exact;
	if (null_port >= 0) {
		env->n_ports = 1;
		snprintf(env->ports[0].name, sizeof(env->ports[0].name), "null");
		env->ports[0].port_id = (uint16_t)null_port;
		env->ports[0].rx_queues = 2;
		env->ports[0].tx_queues = 2;
		env->ports[0].tx_queue = 0;
	}
}

void
harness_env(struct bl_graph_env *env)
{
	env_init(env);
}

static int
build_text(const char *text, struct bl_graph_env *env, struct bl_graph **g, struct bl_err *err)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	struct bl_gdesc d;
	int rc;

	bl_gdesc_init(&d);
	rc = bl_pipe_parse(text, &opts, &d, err);
	if (rc == 0)
		rc = bl_graph_build(&d, env, g, err);
	bl_gdesc_free(&d);
	return rc;
}

int
harness_build(const char *text, struct harness **out, struct bl_err *err)
{
	return harness_build_env(text, NULL, out, err);
}

int
harness_build_env(const char *text, const struct bl_graph_env *env, struct harness **out,
		  struct bl_err *err)
{
	struct harness *h = calloc(1, sizeof(*h));
	int rc;

	cr_assert(h != NULL);
	if (env != NULL)
		h->env = *env;
	else
		env_init(&h->env);
	if (strncmp(text, "feed", 4) == 0 || strncmp(text, "gen", 3) == 0 || strncmp(text, "rx", 2) == 0)
		snprintf(h->text, sizeof(h->text), "%s", text);
	else
		snprintf(h->text, sizeof(h->text), "feed | %s |all collect", text);
	memset(err, 0, sizeof(*err));
	rc = build_text(h->text, &h->env, &h->g, err);
	if (rc == 0)
		bl_graph_commit(h->g);
	if (rc != 0) {
		free(h);
		h = NULL;
	}
	*out = h;
	return rc;
}

struct harness *
harness_new(const char *text)
{
	struct bl_err err;
	struct harness *h;

	if (harness_build(text, &h, &err) != 0)
		fprintf(stderr, "harness_new(\"%s\"): %s\n", text, err.msg);
	return h;
}

int
harness_try(const char *text, struct bl_err *err)
{
	struct bl_graph_env env;
	struct bl_graph *g = NULL;
	int rc;

	env_init(&env);
	memset(err, 0, sizeof(*err));
	rc = build_text(text, &env, &g, err);
	if (rc == 0)
		bl_graph_free(g);
	return rc;
}

int
harness_build_graph(const char *text, struct bl_graph_env *env, struct bl_graph **g,
		    struct bl_err *err)
{
	memset(err, 0, sizeof(*err));
	return build_text(text, env, g, err);
}

void
harness_free(struct harness *h)
{
	if (h == NULL)
		return;
	bl_graph_free(h->g);
	free(h);
}

/* ---- running ------------------------------------------------------------ */

static struct feed *
feed_of(struct harness *h)
{
	struct bl_filter *f = bl_graph_filter_by_name(h->g, "feed");

	cr_assert(f != NULL, "the graph \"%s\" has no feed", h->text);
	return bl_filter_priv(f);
}

void
harness_push_cls(struct harness *h, struct rte_mbuf *m, uint32_t cls)
{
	struct feed *q = feed_of(h);

	cr_assert(q->tail - q->head < FEED_MAX, "the feed is full");
	q->cls[q->tail % FEED_MAX] = cls;
	q->q[q->tail++ % FEED_MAX] = m;
}

void
harness_push(struct harness *h, struct rte_mbuf *m)
{
	harness_push_cls(h, m, 1);
}

void
harness_push_n(struct harness *h, unsigned int n)
{
	const struct pkt_spec s = { 0 };

	for (unsigned int i = 0; i < n; i++)
		harness_push(h, harness_pkt(&s));
	harness_run(h);
}

unsigned int
harness_run(struct harness *h)
{
	struct feed *q = feed_of(h);
	unsigned int passes = 0;

	for (;;) {
		bool empty = q->head == q->tail;
		uint64_t got = bl_graph_run(h->g);
		passes++;
		if (empty && got == 0)
			break;
		cr_assert(passes < 100000, "the graph never settles");
	}
	return passes;
}

void
harness_passes(struct harness *h, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		bl_graph_run(h->g);
}

/* ---- what came out ------------------------------------------------------ */

struct bl_filter *
harness_filter(struct harness *h, const char *node)
{
	struct bl_filter *f = bl_graph_filter_by_name(h->g, node);

	cr_assert(f != NULL, "no node \"%s\" in \"%s\"", node, h->text);
	return f;
}

static struct collect *
coll(struct harness *h, const char *collector)
{
	struct bl_filter *f = harness_filter(h, collector != NULL ? collector : "collect");

	cr_assert(strcmp(f->ops->name, "collect") == 0, "\"%s\" is no collector", f->name);
	return bl_filter_priv(f);
}

unsigned int
harness_n(struct harness *h, const char *collector)
{
	return coll(h, collector)->n;
}

struct rte_mbuf *
harness_got(struct harness *h, const char *collector, unsigned int i)
{
	struct collect *c = coll(h, collector);

	cr_assert(i < c->n, "collector has %u packets, wanted #%u", c->n, i);
	return c->pkt[i];
}

uint32_t
harness_got_cls(struct harness *h, const char *collector, unsigned int i)
{
	struct collect *c = coll(h, collector);

	cr_assert(i < c->n, "collector has %u packets, wanted #%u", c->n, i);
	return c->cls[i];
}

unsigned int
harness_n_cls(struct harness *h, const char *collector, uint32_t cls)
{
	struct collect *c = coll(h, collector);
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		n += c->cls[i] == cls;
	return n;
}

unsigned int
harness_count(struct harness *h, const char *edge)
{
	struct bl_filter *c = harness_filter(h, "collect");

	/* The filter feeding the collector: the one with an out-edge to it. */
	for (unsigned int i = 0; i < bl_graph_n_filters(h->g); i++) {
		const struct bl_filter *f = bl_graph_filter(h->g, i);
		for (unsigned int k = 0; k < f->n_out; k++) {
			if (f->out[k].to != c)
				continue;
			int64_t cls = bl_filter_class_by_name(f->ops, edge);
			cr_assert(cls >= 0, "filter %s has no edge or class \"%s\"", f->name, edge);
			return harness_n_cls(h, "collect", (uint32_t)cls);
		}
	}
	cr_assert_fail("nothing feeds the collector");
	return 0;
}

void
harness_clear(struct harness *h, const char *collector)
{
	collect_drain(coll(h, collector));
}

const struct bl_filter_stats *
harness_stats(struct harness *h, const char *node)
{
	return &harness_filter(h, node)->st;
}

uint64_t
harness_counter(struct harness *h, const char *node, const char *counter)
{
	struct bl_filter *f = harness_filter(h, node);
	const char *names[32];
	uint64_t values[32];
	unsigned int n;

	n = bl_filter_counters(f, names, values, NULL, 32);   /* the table's, then the callback's */
	cr_assert(n > 0, "%s has no counters", node);
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(names[i], counter) == 0)
			return values[i];
	cr_assert_fail("%s has no counter \"%s\"", node, counter);
	return 0;
}

uint64_t
harness_cls_count(struct harness *h, const char *node, uint32_t cls)
{
	const struct bl_filter_stats *st = harness_stats(h, node);

	for (unsigned int i = 0; i < BL_CLASS_SLOTS; i++)
		if (st->cls[i].n != 0 && st->cls[i].cls == cls)
			return st->cls[i].n;
	return 0;
}

uint64_t
harness_edge_pkts(struct harness *h, const char *from, const char *to)
{
	struct bl_filter *f = harness_filter(h, from), *t = harness_filter(h, to);

	for (unsigned int k = 0; k < f->n_out; k++)
		if (f->out[k].to == t)
			return f->out[k].pkts;
	cr_assert_fail("no edge %s -> %s", from, to);
	return 0;
}

uint64_t
harness_edge_cls(struct harness *h, const char *from, const char *to, uint32_t cls)
{
	struct bl_filter *f = harness_filter(h, from), *t = harness_filter(h, to);

	for (unsigned int k = 0; k < f->n_out; k++) {
		if (f->out[k].to != t)
			continue;
		for (unsigned int i = 0; i < BL_EDGE_CLASS_SLOTS; i++)
			if (f->out[k].cls[i].n != 0 && f->out[k].cls[i].cls == cls)
				return f->out[k].cls[i].n;
		return 0;
	}
	cr_assert_fail("no edge %s -> %s", from, to);
	return 0;
}
