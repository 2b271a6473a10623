/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * app/beltlined/pdump_sync.c: removing an rx callback (what DPDK 22.11's pdump
 * server does when dpdk-dumpcap stops, before the tool frees the pool the
 * callback copies into) returns only once no worker runs the callback. A real
 * worker loop (bl_worker_main, on a thread) polls `rx port=null`; the callback
 * sleeps in it; the removal must not return while it does. With ethdev's own
 * removal alone it returns at once, the callback still running. Also the waits
 * themselves (worker_wait): they end at their limit, measured on the clock.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <rte_ethdev.h>

#include "bl_time.h"
#include "harness.h"
#include "pdump_sync.h"
#include "worker.h"

static struct harness *h;
static struct bl_worker w;
static pthread_t th;
static uint16_t port;
static uint32_t cb_sleep_us;
static int armed;    /* the test asks the callback's next call to sleep */
static int inside;   /* the callback sleeps now */

static uint16_t
slow_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint16_t max, void *arg)
{
	(void)p, (void)q, (void)pkts, (void)max, (void)arg;
	/* acq_rel: pairs with the release store of `armed` in arm_and_wait */
	if (__atomic_exchange_n(&armed, 0, __ATOMIC_ACQ_REL)) {
		/* release, both: pair with the acquire loads in the tests */
		__atomic_store_n(&inside, 1, __ATOMIC_RELEASE);
		usleep(cb_sleep_us);
		__atomic_store_n(&inside, 0, __ATOMIC_RELEASE);
	}
	return n;
}

static uint16_t
tx_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	(void)p, (void)q, (void)pkts, (void)arg;
	return n;
}

static void *
worker_thread(void *arg)
{
	bl_worker_main(arg);
	return NULL;
}

static void
setup(void)
{
	harness_eal();
	port = (uint16_t)harness_null_port();
	h = harness_new("rx port=null | drop");
	cr_assert(h != NULL);
	memset(&w, 0, sizeof(w));
	w.n_graphs = 1;
	w.graphs[0] = h->g;
	struct bl_worker_run *r = bl_worker_run_make(&w, 1);
	cr_assert(r != NULL);
	bl_worker_publish(&w, r);
	bl_pdump_sync_workers(&w, 1);
	cr_assert(eq(int, pthread_create(&th, NULL, worker_thread, &w), 0));
}

static void
teardown(void)
{
	bl_worker_stop_all();
	pthread_join(th, NULL);
	free(w.run);
	harness_free(h);
}

TestSuite(pdump_sync, .init = setup, .fini = teardown, .timeout = 60);

/* Arm the callback, wait until the worker is inside it. */
static void
arm_and_wait(void)
{
	/* release: pairs with the exchange in slow_cb */
	__atomic_store_n(&armed, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 30000 && !__atomic_load_n(&inside, __ATOMIC_ACQUIRE); i++)
		usleep(1000);   /* acquire: pairs with the release in slow_cb */
	cr_assert(__atomic_load_n(&inside, __ATOMIC_ACQUIRE), "the worker never ran the callback");
}

/*
 * The callback sleeps 20 ms, far inside the removal's limit (BL_PDUMP_SYNC_TIMEOUT_US,
 * 1 s), so the removal ends by the worker's round, not by its limit: a removal that
 * timed out would also find the callback over, so no timeout is the check that the
 * wait followed the worker. A machine that stalls the worker for a second can make
 * one removal time out: a try that timed out is done again, up to 3 times; a wait
 * that never follows the worker times out every time.
 */
Test(pdump_sync, removal_returns_once_no_worker_runs_the_callback)
{
	struct bl_pdump_sync_stats s0, s1;
	const struct rte_eth_rxtx_callback *cb = NULL;
	int tries = 0;

	cb_sleep_us = 20000;
	do {
		tries++;
		bl_pdump_sync_stats(&s0);
		cb = rte_eth_add_rx_callback(port, 0, slow_cb, NULL);
		cr_assert(cb != NULL);
		arm_and_wait();
		cr_assert(eq(int, rte_eth_remove_rx_callback(port, 0, cb), 0));
		/* acquire: pairs with the release in slow_cb */
		cr_assert(eq(int, __atomic_load_n(&inside, __ATOMIC_ACQUIRE), 0),
			  "the removal returned while a worker was still inside the callback");
		bl_pdump_sync_stats(&s1);
		cr_expect(eq(u64, s1.removals - s0.removals, 1));
	} while (s1.timeouts != s0.timeouts && tries < 3);
	cr_expect(eq(u64, s1.timeouts - s0.timeouts, 0),
		  "the removal's wait ended at its limit, %d times in a row", tries);
	/* A failed removal (a callback not there) waits for nothing and counts nothing. */
	cr_expect(ne(int, rte_eth_remove_rx_callback(port, 0, cb), 0));
	bl_pdump_sync_stats(&s0);
	cr_expect(eq(u64, s0.removals, s1.removals));
}

Test(pdump_sync, a_round_longer_than_the_limit_is_counted_and_said)
{
	struct bl_pdump_sync_stats s0, s1;

	bl_pdump_sync_stats(&s0);
	cb_sleep_us = BL_PDUMP_SYNC_TIMEOUT_US + 500000;
	const struct rte_eth_rxtx_callback *cb = rte_eth_add_rx_callback(port, 0, slow_cb, NULL);
	cr_assert(cb != NULL);
	arm_and_wait();
	cr_assert(eq(int, rte_eth_remove_rx_callback(port, 0, cb), 0));
	bl_pdump_sync_stats(&s1);
	cr_expect(eq(u64, s1.removals - s0.removals, 1));
	cr_expect(eq(u64, s1.timeouts - s0.timeouts, 1));
	for (int i = 0; i < 30000 && __atomic_load_n(&inside, __ATOMIC_ACQUIRE); i++)
		usleep(1000);   /* acquire: as above; the callback ends before teardown */
}

Test(pdump_sync, tx_callbacks_too)
{
	/* the tx side is the same code; removing one that is there returns 0 and counts */
	struct bl_pdump_sync_stats s0, s1;

	bl_pdump_sync_stats(&s0);
	const struct rte_eth_rxtx_callback *cb = rte_eth_add_tx_callback(port, 0, tx_cb, NULL);
	cr_assert(cb != NULL);
	cr_assert(eq(int, rte_eth_remove_tx_callback(port, 0, cb), 0));
	bl_pdump_sync_stats(&s1);
	cr_expect(eq(u64, s1.removals - s0.removals, 1));
}

/*
 * The waits in worker.c keep to their limit on the clock. bl_worker_wait_epoch counted
 * its naps of 20 us as 20 us each, where each takes 60 us or more (timer slack): a
 * worker that never passes an epoch held a 300 ms wait for a second and more (a
 * reload's 10 s limit, half a minute), 3.5 to 4.5 times its limit. No worker runs here:
 * `passed` stays behind. A limit of 1.5 s, and 2.5 s of slack for the last nap and a
 * busy machine that stalls this thread for 2 s (quiet: the limit and some 100 us):
 * the counting of naps took 5 s and more.
 */
#define WAIT_LIMIT_US 1500000u
#define WAIT_SLACK_US 2500000u

Test(worker_wait, an_epoch_never_passed_times_out_on_the_clock, .timeout = 60)
{
	struct bl_worker never = { .passed = 0 };
	const uint64_t limit_us = WAIT_LIMIT_US;
	uint64_t t0 = bl_mono_us();

	cr_assert(not(bl_worker_wait_epoch(&never, 1, 1, limit_us)));
	uint64_t took = bl_mono_us() - t0;
	cr_expect(ge(u64, took, limit_us));
	cr_expect(lt(u64, took, limit_us + WAIT_SLACK_US), "waited %llu us for a limit of %llu",
		  (unsigned long long)took, (unsigned long long)limit_us);
}

Test(worker_wait, a_round_never_finished_times_out_on_the_clock, .timeout = 60)
{
	struct bl_worker stuck = { .started = 1, .passed = 0, .rounds = 7 };
	const uint64_t limit_us = WAIT_LIMIT_US;
	uint64_t t0 = bl_mono_us();

	cr_assert(not(bl_worker_wait_round(&stuck, 1, limit_us)));
	uint64_t took = bl_mono_us() - t0;
	cr_expect(ge(u64, took, limit_us));
	cr_expect(lt(u64, took, limit_us + WAIT_SLACK_US), "waited %llu us for a limit of %llu",
		  (unsigned long long)took, (unsigned long long)limit_us);
}
