/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake-appliance DIR N — serve instance "t" at DIR/t/ctl (stream "web", SRP),
 * print "ready", wait for an attach, publish N packets (packet i: object i%4,
 * offset i, length 60+i), wait until the reader has passed them all, and exit:
 * the reader then sees the hangup as the end of the stream. N = 0: answer list
 * and stats for 60 s or until SIGTERM. For cat_live.sh. Every wait has a 60 s
 * deadline: the test must hold on a loaded machine (tests/README.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "fake_appliance.h"

#define DEADLINE_S 60

static int
before_deadline(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec < DEADLINE_S;
}

int
main(int argc, char **argv)
{
	struct fake f = { .capacity = 64, .with_stats = 1 };
	unsigned n, sent = 0;
	pthread_t t;
	struct timespec t0;

	if (argc != 3 || snprintf(f.dir, sizeof(f.dir), "%s", argv[1]) <= 0)
		return 2;
	n = (unsigned)atoi(argv[2]);
	if (fake_start_in(&f, &t) < 0) {
		perror("fake-appliance");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("ready\n");
	fflush(stdout);
	if (n == 0) {
		sigset_t set;
		struct timespec limit = { DEADLINE_S, 0 };
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigtimedwait(&set, NULL, &limit);
		fake_stop(&f, t);
		return 0;
	}
	while (!__atomic_load_n(&f.attached, __ATOMIC_ACQUIRE) && before_deadline(&t0))
		usleep(10000);
	while (sent < n && before_deadline(&t0)) {
		struct bl_ibuf_entry e = fake_ent(DBUF_ID, sent % N_OBJS, sent, 60 + sent);
		if (bl_ibuf_write(f.ib, &e, 1) == 1)
			sent++;
		else
			usleep(1000);        /* SRP and full: the reader is behind */
	}
	while (__atomic_load_n(&f.ib->rpage[0]->pos, __ATOMIC_ACQUIRE) < n && before_deadline(&t0))
		usleep(10000);
	fake_stop(&f, t);
	return sent == n ? 0 : 1;
}
