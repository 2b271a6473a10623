/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake-appliance DIR N — serve instance "t" at DIR/t/ctl (stream "web", SRP),
 * print "ready", wait for an attach, publish N packets (packet i: object i%4,
 * offset i, length 60+i), wait until the reader has passed them all, and exit:
 * the reader then sees the hangup as the end of the stream. N = 0: answer list
 * and stats for 20 s or until SIGTERM. For cat_live.sh.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "fake_appliance.h"

int
main(int argc, char **argv)
{
	struct fake f = { .capacity = 64, .with_stats = 1 };
	unsigned n, sent = 0;
	pthread_t t;
	int waited = 0;

	if (argc != 3 || snprintf(f.dir, sizeof(f.dir), "%s", argv[1]) <= 0)
		return 2;
	n = (unsigned)atoi(argv[2]);
	if (fake_start_in(&f, &t) < 0) {
		perror("fake-appliance");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (n == 0) {
		sigset_t set;
		struct timespec limit = { 20, 0 };
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigtimedwait(&set, NULL, &limit);
		fake_stop(&f, t);
		return 0;
	}
	while (!__atomic_load_n(&f.attached, __ATOMIC_ACQUIRE) && waited++ < 1000)
		usleep(10000);
	while (sent < n && waited++ < 3000) {
		struct bl_ibuf_entry e = fake_ent(DBUF_ID, sent % N_OBJS, sent, 60 + sent);
		if (bl_ibuf_write(f.ib, &e, 1) == 1)
			sent++;
		else
			usleep(1000);        /* SRP and full: the reader is behind */
	}
	while (__atomic_load_n(&f.ib->rpage[0]->pos, __ATOMIC_ACQUIRE) < n && waited++ < 3000)
		usleep(10000);
	fake_stop(&f, t);
	return sent == n ? 0 : 1;
}
