/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stress: one producer and 1..4 readers, in threads and in processes, every
 * entry verified by sequence number and a payload checksum. The payload of seq
 * sits in a shared data area at slot seq & (cap-1), written after the producer
 * reserved the slot, so an FRP reader's check() is tested on real overwrites:
 * a payload that does not match while check() said "valid" is a failure.
 *
 * Size: BL_STRESS_N entries per run (default 200000, the smoke in suite
 * 'beltway'); suite 'beltway-stress' sets 10000000.
 * Also: a reader killed with SIGKILL and detached no longer holds back SRP/MRP.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "bl_stream_proto.h"

#define CAP   1024u
#define BURST 32u
#define DBUF_ID 9

struct payload {
	uint64_t seq;
	uint32_t sum;
	uint32_t len;
	uint8_t bytes[48];
};
_Static_assert(sizeof(struct payload) == 64, "payload is one line");

struct result {              /* per reader, in MAP_SHARED memory for child processes */
	uint64_t ok;             /* entries verified: seq, slot and checksum */
	uint64_t lost;           /* skipped after a lap (counted by the ring) */
	uint64_t discarded;      /* check() said "may be overwritten" */
	uint64_t bad;            /* check() said valid but the payload was not seq's: must be 0 */
	uint64_t order;          /* sequence went backwards or repeated: must be 0 */
	uint64_t gaps;           /* SRP/BLOCK: a seq missing: must be 0 */
};

struct run {
	uint64_t n;
	uint32_t policy;
	unsigned readers;
	int procs;
	int pace;                /* producer yields after every burst (readers keep up more) */
	struct bl_ibuf *ib;
	struct bl_shm *data;
	struct result *res;
	struct bl_ibuf_reader *r[4];
	struct bl_ibuf_fds fds[4];
	int data_fd;
};

static int exited_ok(int st) { return WIFEXITED(st) && WEXITSTATUS(st) == 0; }
static int killed(int st) { return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL; }

static uint64_t
stress_n(void)
{
	const char *s = getenv("BL_STRESS_N");
	return s != NULL ? strtoull(s, NULL, 10) : 200000;
}

static uint32_t
fill(struct payload *p, uint64_t seq)
{
	uint32_t h = 2166136261u;

	p->len = (uint32_t)(seq % 48) + 1;
	for (unsigned i = 0; i < sizeof(p->bytes); i++) {
		p->bytes[i] = (uint8_t)(seq * 131 + i * 7);
		if (i < p->len)
			h = (h ^ p->bytes[i]) * 16777619u;
	}
	return h;
}

static uint32_t
sum_of(const struct payload *p)
{
	uint32_t h = 2166136261u;
	uint32_t len = p->len <= sizeof(p->bytes) ? p->len : sizeof(p->bytes);

	for (unsigned i = 0; i < len; i++)
		h = (h ^ p->bytes[i]) * 16777619u;
	return h;
}

static void
produce(struct run *rn)
{
	struct payload *data = rn->data->base;
	struct bl_ibuf_entry *s[BURST];
	uint64_t seq = 0;
	unsigned idle = 0;

	while (seq < rn->n) {
		unsigned want = rn->n - seq < BURST ? (unsigned)(rn->n - seq) : BURST;
		unsigned k = bl_ibuf_acquire_slots(rn->ib, s, want);
		if (k == 0) {             /* full (SRP/MRP): counted as dropped; try again */
			if (++idle % 16 == 0)
				sched_yield();
			continue;
		}
		for (unsigned i = 0; i < k; i++, seq++) {
			struct payload *p = &data[seq & (CAP - 1)];
			/* the slot was reserved: readers' check() now fails for its old seq */
			p->seq = seq;
			p->sum = fill(p, seq);
			*s[i] = (struct bl_ibuf_entry){ .dbuf_id = DBUF_ID, .cls = 1,
				.object = (uint32_t)(seq & (CAP - 1)), .offset = 0, .length = 64 };
		}
		bl_ibuf_complete_slots(rn->ib, k);
		if (rn->pace)
			sched_yield();
	}
}

static void
consume(struct bl_ibuf_reader *r, const struct payload *data, uint64_t n, uint32_t policy,
	struct result *res)
{
	const struct bl_ibuf_entry *v[BURST];
	struct payload copy[BURST];
	uint64_t next = 0;          /* lowest seq we may still see */
	unsigned idle = 0;

	while (next < n) {
		uint64_t seq;
		unsigned k = bl_ibuf_peek(r, v, BURST, &seq);
		if (k == 0) {
			if (++idle % 16 == 0)
				sched_yield();
			continue;
		}
		for (unsigned i = 0; i < k; i++)
			copy[i] = data[v[i]->object & (CAP - 1)];
		if (seq < next)
			res->order++;
		if (seq > next && (policy == BL_IBUF_SRP || policy == BL_IBUF_BLOCK))
			res->gaps++;
		if (bl_ibuf_check(r, seq)) {
			for (unsigned i = 0; i < k; i++) {
				/* re-read the entry: what we used must be seq's too */
				if (copy[i].seq != seq + i || copy[i].sum != sum_of(&copy[i]) ||
				    v[i]->object != ((seq + i) & (CAP - 1)) || v[i]->dbuf_id != DBUF_ID)
					res->bad++;
				else
					res->ok++;
			}
		} else {
			res->discarded += k;
		}
		bl_ibuf_skip(r, k);
		bl_ibuf_complete(r);
		next = seq + k;
	}
	res->lost = r->page->lost;
}

struct targ { struct run *rn; unsigned i; };

static void *
reader_thread(void *a)
{
	struct targ *t = a;

	consume(t->rn->r[t->i], t->rn->data->base, t->rn->n, t->rn->policy, &t->rn->res[t->i]);
	return NULL;
}

static void
reader_process(struct run *rn, unsigned i)
{
	struct bl_ibuf_reader *r;
	struct bl_shm *data;

	if (bl_ibuf_reader_open(&rn->fds[i], &r) != 0 || bl_shm_attach_fd(rn->data_fd, 0, &data) != 0)
		_exit(40);
	consume(r, data->base, rn->n, rn->policy, &rn->res[i]);
	_exit(0);
}

static void
stress(uint32_t policy, unsigned readers, int procs, int pace)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "stress", .capacity = CAP, .policy = policy,
		.max_readers = 4, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_shm_opts so = { .sz = sizeof(so), .name = "stress-data",
		.size = CAP * sizeof(struct payload), .flags = BL_SHM_F_NO_HUGE,
		.uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct run rn = { .n = stress_n(), .policy = policy, .readers = readers, .procs = procs,
		.pace = pace };
	struct targ ta[4];
	pthread_t th[4];
	pid_t pid[4];
	struct bl_ibuf_stats st;
	struct timespec t0, t1;

	cr_assert(eq(int, bl_ibuf_create(&o, &rn.ib, NULL), 0));
	cr_assert(eq(int, bl_shm_create(&so, &rn.data, NULL), 0));
	rn.res = mmap(NULL, sizeof(struct result) * 4, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(rn.res != MAP_FAILED);
	memset(rn.res, 0, sizeof(struct result) * 4);
	rn.data_fd = bl_shm_ro_fd(rn.data);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < readers; i++) {
		if (procs) {
			int idx = bl_ibuf_reader_alloc(rn.ib, 0);
			cr_assert(eq(int, idx, (int)i));
			cr_assert(eq(int, bl_ibuf_reader_fds(rn.ib, i, &rn.fds[i]), 0));
			pid[i] = fork();
			if (pid[i] == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				reader_process(&rn, i);
			}
			cr_assert(pid[i] > 0);
		} else {
			cr_assert(eq(int, bl_ibuf_reader_attach(rn.ib, &rn.r[i]), 0));
			ta[i] = (struct targ){ &rn, i };
			cr_assert(eq(int, pthread_create(&th[i], NULL, reader_thread, &ta[i]), 0));
		}
	}
	produce(&rn);
	for (unsigned i = 0; i < readers; i++) {
		if (procs) {
			int ws;
			cr_assert(eq(int, waitpid(pid[i], &ws, 0), pid[i]));
			cr_assert(exited_ok(ws), "reader %u: %#x", i, ws);
			close(rn.fds[i].ring_fd);
		} else {
			pthread_join(th[i], NULL);
			bl_ibuf_reader_close(rn.r[i]);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	bl_ibuf_stats(rn.ib, &st);
	cr_log_info("%s %u %s%s: %llu entries in %.2f s; dropped %llu waits %llu",
		bl_stream_policy_name(policy), readers, procs ? "processes" : "threads",
		pace ? " (paced producer)" : "",
		(unsigned long long)rn.n,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		(unsigned long long)st.dropped, (unsigned long long)st.waits);
	cr_assert(eq(u64, st.written, rn.n));
	cr_assert(eq(u64, st.clamps, 0));
	for (unsigned i = 0; i < readers; i++) {
		struct result *r = &rn.res[i];
		cr_log_info("  reader %u: ok %llu lost %llu discarded %llu", i,
			(unsigned long long)r->ok, (unsigned long long)r->lost,
			(unsigned long long)r->discarded);
		cr_assert(eq(u64, r->bad, 0), "reader %u: check() called overwritten entries valid", i);
		cr_assert(eq(u64, r->order, 0));
		cr_assert(eq(u64, r->gaps, 0));
		cr_assert(eq(u64, r->ok + r->lost + r->discarded, rn.n), "reader %u", i);
		cr_assert(eq(u64, st.r[i].lost, r->lost));
		if (policy == BL_IBUF_SRP || policy == BL_IBUF_BLOCK) {
			cr_assert(eq(u64, r->ok, rn.n));   /* nothing unread is ever overwritten */
			cr_assert(eq(u64, r->lost + r->discarded, 0));
		}
		if (policy == BL_IBUF_BLOCK)
			cr_assert(eq(u64, st.dropped, 0));
	}
	close(rn.data_fd);
	munmap(rn.res, sizeof(struct result) * 4);
	bl_shm_free(rn.data);
	bl_ibuf_free(rn.ib);
}

struct sp { uint32_t policy; unsigned readers; int procs; int pace; };

ParameterizedTestParameters(stress, run)
{
	static struct sp p[] = {
		{ BL_IBUF_SRP, 1, 0 }, { BL_IBUF_SRP, 4, 0 }, { BL_IBUF_SRP, 2, 1 }, { BL_IBUF_SRP, 4, 1 },
		{ BL_IBUF_MRP, 1, 0 }, { BL_IBUF_MRP, 4, 0 }, { BL_IBUF_MRP, 4, 1 },
		{ BL_IBUF_FRP, 1, 0 }, { BL_IBUF_FRP, 4, 0 }, { BL_IBUF_FRP, 1, 1 }, { BL_IBUF_FRP, 4, 1 },
		{ BL_IBUF_FRP, 2, 1, 1 }, { BL_IBUF_MRP, 2, 1, 1 },
		{ BL_IBUF_BLOCK, 1, 0 }, { BL_IBUF_BLOCK, 3, 1 },
	};
	return cr_make_param_array(struct sp, p, sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct sp *p, stress, run, .timeout = 900)
{
	stress(p->policy, p->readers, p->procs, p->pace);
}

/* ---- a reader killed with SIGKILL, then detached ---- */

static void
stuck_reader(const struct bl_ibuf_fds *fds, int wfd)
{
	struct bl_ibuf_reader *r;
	struct bl_ibuf_entry e[4];

	if (bl_ibuf_reader_open(fds, &r) != 0)
		_exit(50);
	while (bl_ibuf_read(r, e, 4) == 0)
		;
	while (bl_ibuf_read(r, e, 4) == 0)       /* a second read raises R (MRP) */
		;
	if (write(wfd, "x", 1) != 1)
		_exit(51);
	for (;;)
		pause();                          /* holds its position until killed */
}

static pid_t
spawn_stuck(struct bl_ibuf *ib, int *idx, int *rfd)
{
	struct bl_ibuf_fds fds;
	int pfd[2];
	pid_t pid;

	*idx = bl_ibuf_reader_alloc(ib, 0);
	cr_assert(ge(int, *idx, 0));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, (unsigned)*idx, &fds), 0));
	cr_assert(eq(int, pipe(pfd), 0));
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a failed test */
		stuck_reader(&fds, pfd[1]);
	}
	cr_assert(pid > 0);
	close(fds.ring_fd);
	close(pfd[1]);
	*rfd = pfd[0];
	return pid;
}

static void
kill_and_detach(struct bl_ibuf *ib, pid_t pid, int idx)
{
	int ws;

	kill(pid, SIGKILL);
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(killed(ws), "%#x", ws);
	/* what the control plane does when the client's socket closes */
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, (unsigned)idx), 0));
}

Test(stress, sigkilled_reader_detached_no_longer_holds_back_srp, .timeout = 20)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "killsrp", .capacity = 16, .policy = BL_IBUF_SRP,
		.max_readers = 2, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf_entry e[16] = { { 0 } }, out[16];
	struct bl_ibuf_reader *live;
	struct bl_ibuf *ib;
	int idx, rfd;
	char c;
	pid_t pid;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_attach(ib, &live), 0));
	pid = spawn_stuck(ib, &idx, &rfd);
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 8), 8));
	cr_assert(eq(int, (int)read(rfd, &c, 1), 1));   /* it read 8 and stopped */
	cr_assert(eq(u32, bl_ibuf_read(live, out, 16), 8));
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 16)); /* up to stuck + capacity */
	cr_assert(eq(u32, bl_ibuf_read(live, out, 16), 16));
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 0));  /* held back by the stuck reader */
	kill_and_detach(ib, pid, idx);
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 16)); /* only the live reader counts */
	cr_assert(eq(u32, bl_ibuf_read(live, out, 16), 16));
	cr_assert(eq(u64, ib->prod->dropped, 16));
	cr_assert(eq(u64, ib->prod->active, 1u << live->idx));
	close(rfd);
	bl_ibuf_reader_close(live);
	bl_ibuf_free(ib);
}

Test(stress, sigkilled_reader_detached_no_longer_holds_back_mrp, .timeout = 20)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "killmrp", .capacity = 16, .policy = BL_IBUF_MRP,
		.max_readers = 2, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf_entry e[16] = { { 0 } }, out[16];
	struct bl_ibuf_reader *late;
	struct bl_ibuf *ib;
	int idx, rfd;
	char c;
	pid_t pid;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	pid = spawn_stuck(ib, &idx, &rfd);           /* the only reader */
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 8), 8));
	cr_assert(eq(int, (int)read(rfd, &c, 1), 1));   /* read 4 + 4: R = 4 */
	cr_assert(eq(u64, ib->mrp->r, 4));
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 12)); /* SRP against R = 4 */
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 0));  /* R never moves again */
	kill_and_detach(ib, pid, idx);
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 16), 16)); /* nobody holds it back */
	cr_assert(eq(int, bl_ibuf_reader_attach(ib, &late), 0));
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 8), 8));
	cr_assert(eq(u32, bl_ibuf_read(late, out, 16), 8));
	cr_assert(eq(u64, ib->prod->dropped, 20));
	close(rfd);
	bl_ibuf_reader_close(late);
	bl_ibuf_free(ib);
}
