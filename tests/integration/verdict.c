/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verdict — verdict clients of a `user` filter for user.sh:
 *   verdict INSTANCE NAME third N     drop every third packet taken (index 2, 5, 8, ...), pass
 *                                      the rest with the class they came with; exit once N
 *                                      were given and read by the appliance
 *   verdict INSTANCE NAME stall N     take packets, never give a class; print "held N" once N
 *                                      were taken, then sleep until killed
 *   verdict INSTANCE NAME tricks N GO take N, print "took N", wait until the file GO exists (the
 *                                      test makes it once the filter's timeout_us decided them),
 *                                      give their classes (late), one for a sequence never shown
 *                                      (unknown), one of class 70000 (bad_class); print "phase2";
 *                                      take N more and give each class twice (twice)
 *   verdict INSTANCE NAME slow START GO a client slower than its traffic: takes nothing until
 *                                      the file START exists (the test makes it once more than
 *                                      max_inflight arrived, so some were surely not shown),
 *                                      then passes every packet, one batch a millisecond; exits
 *                                      once the file GO exists (the test makes it once every
 *                                      packet was decided) and nothing is left to take
 *   verdict INSTANCE NAME holdfirst GO hold the first packet taken; pass the others at once
 *                                      as they come; once the file GO exists (the test makes
 *                                      it once the others were decided) and nothing is left
 *                                      to take, drop the first (class 0) and exit once read
 *   verdict INSTANCE NAME hostile S   attach, then write garbage into every field of its
 *                                      verdict ring for S seconds (random heads, sequences,
 *                                      classes), and try to write what it must not
 *   verdict INSTANCE NAME giveloop N  give a class (for sequence 0) again and again, retrying
 *                                      on -EAGAIN as docs/clients.md's loop does; print "full"
 *                                      at the first -EAGAIN, and on any other error
 *                                      "gave up: ERROR" and exit 0 (N: unused)
 * Each prints "attached" once it is the filter's client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "beltline_priv.h"
#include "bl_shm_abi.h"

static uint64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The test's go-ahead: a file it makes. A test that died makes none: give up after 300 s. */
#define GO_LIMIT_MS 300000u

static int
go_given(const char *go)
{
	return access(go, F_OK) == 0;
}

static int
wait_go(const char *go)
{
	for (uint64_t t0 = ms(); !go_given(go); usleep(10000))
		if (ms() - t0 >= GO_LIMIT_MS) {
			fprintf(stderr, "verdict: no %s after %u s\n", go, GO_LIMIT_MS / 1000);
			return -1;
		}
	return 0;
}

static void
say(const char *s)
{
	printf("%s\n", s);
	fflush(stdout);
}

static int
giveloop(struct beltline_user *u)
{
	const struct beltline_class c = { .seq = 0, .cls = 1 };
	int full = 0, rc;

	for (;;) {
		rc = beltline_give(u, &c, 1);
		if (rc == -EAGAIN && !full) {
			say("full");
			full = 1;
		} else if (rc < 0 && rc != -EAGAIN) {
			printf("gave up: %s\n", strerror(-rc));
			return 0;
		}
	}
}

static int
third(struct beltline_user *u, uint64_t n)
{
	struct beltline_pkt p[64];
	struct beltline_class c[64];
	uint64_t idx = 0;
	int rc;

	while (idx < n) {
		rc = beltline_take(u, p, 64);
		if (rc == -EAGAIN) {
			struct pollfd pfd = { .fd = beltline_user_fd(u), .events = POLLIN };
			poll(&pfd, 1, 10);
			continue;
		}
		if (rc <= 0) {
			fprintf(stderr, "verdict: take: %s\n", rc == 0 ? "end" : strerror(-rc));
			return 1;
		}
		for (int i = 0; i < rc; i++, idx++) {
			c[i].seq = p[i].seq;
			c[i].cls = idx % 3 == 2 ? 0 : p[i].cls;
			c[i].pad = 0;
		}
		for (int done = 0; done < rc;) {
			int k = beltline_give(u, c + done, (unsigned)(rc - done));
			if (k > 0)
				done += k;
			else
				usleep(100);
		}
	}
	rc = beltline_user_flush(u, 30000);
	if (rc < 0) {
		fprintf(stderr, "verdict: flush: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

static int
give_each(struct beltline_user *u, const struct beltline_class *c, int n)
{
	for (int done = 0; done < n;) {
		int k = beltline_give(u, c + done, (unsigned)(n - done));
		if (k < 0 && k != -EAGAIN)
			return k;
		if (k > 0)
			done += k;
		else
			usleep(100);
	}
	return 0;
}

static int
holdfirst(struct beltline_user *u, const char *go)
{
	struct beltline_pkt p[64];
	struct beltline_class c[64], first = { 0 };
	const uint64_t t0 = ms();
	int have_first = 0, rc;

	for (;;) {
		/* before the take: a go-ahead seen, then nothing to take, is the end */
		const int done = go_given(go);
		int k = 0;

		rc = beltline_take(u, p, 64);
		if (rc == -EAGAIN) {    /* at once: max_inflight is small, held must stay low */
			struct pollfd pfd = { .fd = beltline_user_fd(u), .events = POLLIN };

			if (done && have_first)
				break;
			if (ms() - t0 >= GO_LIMIT_MS) {
				fprintf(stderr, "verdict: no %s after %u s\n", go, GO_LIMIT_MS / 1000);
				return 1;
			}
			poll(&pfd, 1, 1);
			continue;
		}
		if (rc <= 0) {
			fprintf(stderr, "verdict: take: %s\n", rc == 0 ? "end" : strerror(-rc));
			return 1;
		}
		for (int i = 0; i < rc; i++) {
			if (!have_first) {
				have_first = 1;
				first = (struct beltline_class){ .seq = p[i].seq, .cls = 0 };
				continue;
			}
			c[k++] = (struct beltline_class){ .seq = p[i].seq, .cls = p[i].cls };
		}
		if (give_each(u, c, k) < 0)
			return 1;
	}
	if (give_each(u, &first, 1) < 0 || beltline_user_flush(u, 30000) < 0)
		return 1;
	return 0;
}

static _Noreturn void
stall(struct beltline_user *u, uint64_t n)
{
	struct beltline_pkt p[64];
	uint64_t got = 0;
	int said = 0;

	for (;;) {
		int rc = beltline_take(u, p, 64);
		if (rc > 0)
			got += (unsigned)rc;
		if (!said && got >= n) {
			printf("held %llu\n", (unsigned long long)got);
			fflush(stdout);
			said = 1;
		}
		usleep(rc > 0 ? 0 : 1000);
	}
}

static int
take_n(struct beltline_user *u, struct beltline_pkt *p, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		int rc = beltline_take(u, p + got, n - got);

		if (rc > 0)
			got += (unsigned)rc;
		else if (rc == -EAGAIN)
			usleep(200);
		else
			return -1;
	}
	return 0;
}

static int
give_all(struct beltline_user *u, const struct beltline_class *c, unsigned n)
{
	for (unsigned done = 0; done < n;) {
		int k = beltline_give(u, c + done, n - done);

		if (k > 0)
			done += (unsigned)k;
		else
			usleep(100);
	}
	return beltline_user_flush(u, 30000);
}

static int
tricks(struct beltline_user *u, unsigned n, const char *go)
{
	struct beltline_pkt p[64];
	struct beltline_class c[130];
	char took[32];

	if (n > 64 || take_n(u, p, n) < 0)
		return 1;
	snprintf(took, sizeof(took), "took %u", n);
	say(took);
	if (wait_go(go) < 0)
		return 1;
	for (unsigned i = 0; i < n; i++)
		c[i] = (struct beltline_class){ .seq = p[i].seq, .cls = 1 };
	c[n] = (struct beltline_class){ .seq = p[n - 1].seq + 1000, .cls = 1 };
	c[n + 1] = (struct beltline_class){ .seq = p[n - 1].seq, .cls = 70000 };
	if (give_all(u, c, n + 2) < 0)
		return 1;
	say("phase2");
	if (take_n(u, p, n) < 0)
		return 1;
	for (unsigned i = 0; i < n; i++)
		c[2 * i] = c[2 * i + 1] = (struct beltline_class){ .seq = p[i].seq, .cls = p[i].cls };
	return give_all(u, c, 2 * n) < 0;
}

static int
slow(struct beltline_user *u, const char *start, const char *go)
{
	struct beltline_pkt p[16];
	struct beltline_class c[16];

	if (wait_go(start) < 0)
		return 1;
	say("started");
	const uint64_t t0 = ms();

	for (;;) {
		/* before the take: a go-ahead seen, then nothing to take, is the end */
		const int done = go_given(go);
		int n = beltline_take(u, p, 16);

		if (n > 0) {
			for (int i = 0; i < n; i++)
				c[i] = (struct beltline_class){ .seq = p[i].seq, .cls = p[i].cls };
			if (give_all(u, c, (unsigned)n) < 0)
				return 1;
		} else if (n != -EAGAIN) {
			return 1;
		} else if (done) {
			return 0;
		} else if (ms() - t0 >= GO_LIMIT_MS) {
			fprintf(stderr, "verdict: no %s after %u s\n", go, GO_LIMIT_MS / 1000);
			return 1;
		}
		usleep(1000);
	}
}

static uint64_t
rnd(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();
}

/* Garbage into every field it can write, in a loop; what it must not write, refused. */
static int
hostile(const char *inst, const char *name, long secs)
{
	struct blc_attach_extra x = { .vfd = { -1, -1 } };
	struct beltline_stream *s = NULL;
	char uri[128];
	struct stat st;
	uint8_t *ring;
	uint64_t t0;
	void *p;
	int rc;

	snprintf(uri, sizeof(uri), "beltline://%s/%s", inst, name);
	rc = blc_open_attach(uri, inst, strlen(inst), name, NULL, &x, &s);
	if (rc < 0) {
		fprintf(stderr, "verdict: attach: %s\n", strerror(-rc));
		return 1;
	}
	say("attached");
	if (fstat(x.vfd[0], &st) < 0)
		return 1;
	ring = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, x.vfd[0], 0);
	if (ring == MAP_FAILED)
		return 1;
	/* The appliance's tail page: sealed, no writable mapping. */
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, x.vfd[1], 0);
	if (p != MAP_FAILED) {
		fprintf(stderr, "verdict: the tail page could be mapped writable\n");
		return 1;
	}
	srandom((unsigned)getpid());
	t0 = ms();
	while (ms() - t0 < (uint64_t)secs * 1000) {
		struct bl_vring_hdr *h = (struct bl_vring_hdr *)ring;
		struct bl_vring_desc *d = (struct bl_vring_desc *)(ring + BL_SHM_META_PAGE);
		size_t n = ((size_t)st.st_size - BL_SHM_META_PAGE) / sizeof(*d);
		struct beltline_pkt v[32];
		int k = beltline_peek(s, v, 32);

		/* Classes for real sequences too: garbage classes, twice, late. */
		for (int i = 0; i < k; i++) {
			size_t j = (size_t)random() % n;
			d[j].seq = v[i].seq + (uint64_t)(random() % 3) - 1;
			d[j].cls = (uint32_t)rnd();
		}
		if (k > 0)
			beltline_release(s, (unsigned)k);
		for (int i = 0; i < 64; i++) {
			size_t j = (size_t)random() % n;
			d[j].seq = random() % 4 == 0 ? rnd() : d[j].seq + 1;
			d[j].cls = random() % 2 ? (uint32_t)rnd() : (uint32_t)(random() % 4);
			d[j].pad = (uint32_t)rnd();
		}
		/* Every header field, and a head anywhere: ahead, behind, sane. */
		h->magic = rnd();
		h->capacity = (uint32_t)rnd();
		h->off_desc = rnd();
		h->region_size = rnd();
		switch (random() % 3) {
		case 0: __atomic_store_n(&h->head, rnd(), __ATOMIC_RELEASE); break;
		case 1: __atomic_store_n(&h->head, h->head - (uint64_t)(random() % 100),
					 __ATOMIC_RELEASE); break;
		default: __atomic_store_n(&h->head, h->head + (uint64_t)(random() % 64),
					  __ATOMIC_RELEASE); break;
		}
		usleep(50);
	}
	beltline_close(s);
	return 0;
}

static void
log_stderr(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	fprintf(stderr, "verdict: %s\n", msg);
}

int
main(int argc, char **argv)
{
	struct beltline_user *u;
	char uri[128];
	int rc;
	const int six = argc > 3 && (strcmp(argv[3], "tricks") == 0 || strcmp(argv[3], "slow") == 0);

	if (argc < 5 || argc != (six ? 6 : 5)) {
		fprintf(stderr, "usage: verdict INSTANCE NAME third|stall|hostile|giveloop N, holdfirst GO, slow START GO or tricks N GO\n");
		return 2;
	}
	beltline_set_log(log_stderr, NULL);
	if (strcmp(argv[3], "hostile") == 0)
		return hostile(argv[1], argv[2], strtol(argv[4], NULL, 10));
	snprintf(uri, sizeof(uri), "beltline://%s/%s", argv[1], argv[2]);
	rc = beltline_open_user(uri, NULL, &u);
	if (rc < 0) {
		fprintf(stderr, "verdict: %s: %s\n", uri, strerror(-rc));
		return 1;
	}
	say("attached");
	if (strcmp(argv[3], "third") == 0)
		rc = third(u, strtoull(argv[4], NULL, 10));
	else if (strcmp(argv[3], "slow") == 0 && argc == 6)
		rc = slow(u, argv[4], argv[5]);
	else if (strcmp(argv[3], "tricks") == 0 && argc == 6)
		rc = tricks(u, (unsigned)strtoul(argv[4], NULL, 10), argv[5]);
	else if (strcmp(argv[3], "holdfirst") == 0)
		rc = holdfirst(u, argv[4]);
	else if (strcmp(argv[3], "stall") == 0)
		stall(u, strtoull(argv[4], NULL, 10));
	else if (strcmp(argv[3], "giveloop") == 0)
		rc = giveloop(u);
	else
		rc = 2;
	beltline_user_close(u);
	return rc;
}
