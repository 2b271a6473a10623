/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * writer — the client side of inject.sh.
 *   writer INSTANCE STREAM hold          open for writing, take every buffer, commit
 *                                        half of them, say "holding", wait to be killed
 *   writer INSTANCE STREAM reopen MS     try to open for writing until it works or MS
 *                                        pass; print the milliseconds it took
 *   writer INSTANCE STREAM blast N SIZE  commit N frames of SIZE bytes as fast as the
 *                                        appliance takes them; print frames per second
 *   writer INSTANCE STREAM seq N MAX SEED
 *                                        commit frames 0..N-1 of seqframe.h (random sizes
 *                                        60..MAX), flush; print frames per second
 *   writer INSTANCE STREAM sleep N SIZE  commit N frames of SIZE bytes, sleeping in poll
 *                                        on beltline_write_fd (asked for at the first
 *                                        -EAGAIN) at every -EAGAIN (20 s at most), flush; print "frames F sleeps S wakeups W
 *                                        timeouts T"; on -EPIPE print "gone F" (exit 3)
 *   writer INSTANCE STREAM late          fill the ring until -EAGAIN, wait 300 ms (the
 *                                        appliance reads it all meanwhile), only then ask
 *                                        for beltline_write_fd and poll it (10 s at most):
 *                                        print "woken" or "timeout"
 *   writer INSTANCE STREAM heldwake      ask for the fd, take every buffer, commit none:
 *                                        print "holding N rc E" (E: what the next
 *                                        getwritebuf said); read a line from stdin,
 *                                        commit one, ask again ("asleep E"), poll the fd
 *                                        (10 s at most: "woken" or "timeout"), ask again
 *                                        ("room" or "none")
 *   writer INSTANCE STREAM hostile N     open for writing by hand (the control socket,
 *                                        no library checks) and write garbage into every
 *                                        field of the region N times; print "done"
 *   writer INSTANCE STREAM badsleep HOW MS  open for writing by hand with a wake channel
 *                                        and sleep dishonestly for MS ms: HOW "head": a
 *                                        garbage head (UINT64_MAX) and a wait no tail
 *                                        reaches; "flip": two frames committed, then a
 *                                        wait cycled through three values reached, a new
 *                                        one every 50 us; print "set" once it is so
 * Exit 0 when it did what it says, 1 otherwise (the library's log on stderr).
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

#include "beltline_priv.h"
#include "bl_shm_abi.h"
#include "bl_stream_proto.h"
#include "seqframe.h"

static void
say(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	fprintf(stderr, "writer: %s\n", msg);
}

static uint64_t
ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int
hostile(const char *inst, const char *stream, long n)
{
	char body[128], *reply = NULL;
	int fds[BL_CTL_FDS_MAX], fd, rc;
	unsigned nfd = 0;
	struct stat st;
	uint8_t *p;

	if (blc_ctl_connect(inst, NULL, &fd) < 0)
		return 1;
	snprintf(body, sizeof(body), "{\"stream\":\"%s\",\"client\":\"hostile\"}", stream);
	rc = blc_ctl_call_fd(fd, 5000, BL_CTL_OPEN_WRITE, body, &reply, fds, BL_CTL_FDS_MAX, &nfd);
	free(reply);
	if (rc < 0 || nfd != 2 || fstat(fds[0], &st) < 0)
		return 1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (p == MAP_FAILED)
		return 1;
	srand((unsigned)getpid());
	for (long i = 0; i < n; i++) {
		/* Every byte of the region is the writer's to scribble on: header, descriptors,
		 * buffers, head. */
		size_t at = ((size_t)rand() * 8) % ((size_t)st.st_size - 8);
		uint64_t v = ((uint64_t)rand() << 32) ^ (uint64_t)rand();

		if (rand() % 4 == 0)
			at = __builtin_offsetof(struct bl_wring_hdr, head);
		else if (rand() % 2 == 0)
			at = BL_SHM_META_PAGE + ((size_t)rand() % 4096) * 8 % ((size_t)st.st_size -
				BL_SHM_META_PAGE - 8);
		if (rand() % 8 == 0)
			v &= 0xffff;
		memcpy(p + at, &v, sizeof(v));
		if (i % 64 == 0)
			usleep(100);   /* let the appliance read some of it */
	}
	printf("done\n");
	return 0;
}

static int
bad_sleep(const char *inst, const char *stream, const char *how, long ms_for)
{
	char body[160], *reply = NULL;
	int fds[BL_CTL_FDS_MAX], fd, rc;
	unsigned nfd = 0;
	struct stat st, st_t;
	struct bl_wring_hdr *h;
	const struct bl_wring_tail *tp;
	uint8_t *p;
	uint64_t t0;

	if (blc_ctl_connect(inst, NULL, &fd) < 0)
		return 1;
	snprintf(body, sizeof(body), "{\"stream\":\"%s\",\"client\":\"badsleep\",\"wake\":true}",
		 stream);
	rc = blc_ctl_call_fd(fd, 5000, BL_CTL_OPEN_WRITE, body, &reply, fds, BL_CTL_FDS_MAX, &nfd);
	free(reply);
	if (rc < 0 || nfd != 3 || fstat(fds[0], &st) < 0 || fstat(fds[1], &st_t) < 0)
		return 1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	tp = mmap(NULL, (size_t)st_t.st_size, PROT_READ, MAP_SHARED, fds[1], 0);
	if (p == MAP_FAILED || tp == MAP_FAILED)
		return 1;
	h = (struct bl_wring_hdr *)p;
	t0 = ms();
	if (strcmp(how, "head") == 0) {
		__atomic_store_n(&h->head, UINT64_MAX, __ATOMIC_RELEASE);
		__atomic_store_n(&h->wait, __atomic_load_n(&tp->tail, __ATOMIC_ACQUIRE) + 2,
				 __ATOMIC_SEQ_CST);
		printf("set\n");
		fflush(stdout);
		usleep((useconds_t)ms_for * 1000u);
		return 0;
	}
	if (strcmp(how, "flip") != 0)
		return 2;
	{       /* two honest frames, so that a tail of 2 is reached */
		struct bl_wring_desc *d = (struct bl_wring_desc *)(p + h->off_desc);
		for (uint32_t i = 0; i < 2; i++) {
			d[i] = (struct bl_wring_desc){ .seq = i, .off = i * h->max_frame, .len = 60 };
			memset(p + h->off_data + d[i].off, 0x42, 60);
		}
		__atomic_store_n(&h->head, 2, __ATOMIC_RELEASE);
	}
	while (__atomic_load_n(&tp->tail, __ATOMIC_ACQUIRE) < 2)
		if (ms() - t0 > 60000)
			return 1;
		else
			usleep(1000);
	printf("set\n");
	fflush(stdout);
	for (uint64_t i = 0; ms() - t0 < (uint64_t)ms_for; i++) {
		__atomic_store_n(&h->wait, 1 + i % 3, __ATOMIC_SEQ_CST);
		usleep(50);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct beltline_writer *w = NULL;
	char uri[256];

	if (argc < 4)
		return 2;
	beltline_set_log(say, NULL);
	snprintf(uri, sizeof(uri), "beltline://%s/%s", argv[1], argv[2]);
	if (strcmp(argv[3], "hold") == 0) {
		static void *b[1u << 16];
		uint32_t room;
		unsigned got = 0;

		if (beltline_open_write(uri, NULL, &w) < 0)
			return 1;
		while (got < (1u << 16) && beltline_getwritebuf(w, &b[got], &room) == 0)
			got++;
		for (unsigned i = 0; i < got / 2; i++) {
			memset(b[i], 0x55, 64);
			if (beltline_commit(w, b[i], 64) < 0)
				return 1;
		}
		printf("holding %u\n", got);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(argv[3], "reopen") == 0 && argc == 5) {
		uint64_t t0 = ms(), limit = strtoull(argv[4], NULL, 10);
		int rc;

		beltline_set_log(NULL, NULL);
		while ((rc = beltline_open_write(uri, NULL, &w)) == -EBUSY && ms() - t0 < limit)
			usleep(1000);
		printf("%llu\n", (unsigned long long)(ms() - t0));
		beltline_write_close(w);
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(argv[3], "blast") == 0 && argc == 6) {
		uint64_t n = strtoull(argv[4], NULL, 10), t0;
		uint32_t size = (uint32_t)strtoul(argv[5], NULL, 10), room;
		struct timespec a, b;
		void *buf;

		if (beltline_open_write(uri, NULL, &w) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (uint64_t i = 0; i < n; i++) {
			while (beltline_getwritebuf(w, &buf, &room) == -EAGAIN)
				;
			memset(buf, (int)i, 14);
			if (size > room || beltline_commit(w, buf, size) < 0)
				return 1;
		}
		if (beltline_write_flush(w, 10000) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t0 = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
		     (uint64_t)a.tv_nsec;
		printf("%.0f\n", (double)n * 1e9 / (double)t0);
		beltline_write_close(w);
		return 0;
	}
	if (strcmp(argv[3], "seq") == 0 && argc == 7) {
		uint64_t n = strtoull(argv[4], NULL, 10), seed = strtoull(argv[6], NULL, 10), t0;
		uint32_t max = (uint32_t)strtoul(argv[5], NULL, 10), room, len;
		struct timespec a, b;
		void *buf;

		if (max < 64 || beltline_open_write(uri, NULL, &w) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (uint64_t i = 0; i < n; i++) {
			int rc;

			while ((rc = beltline_getwritebuf(w, &buf, &room)) == -EAGAIN)
				;
			len = seqframe_len(seed, i, max);
			if (rc < 0 || len > room)
				return 1;
			seqframe_fill(buf, seed, i, len);
			if (beltline_commit(w, buf, len) < 0)
				return 1;
		}
		if (beltline_write_flush(w, 60000) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t0 = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
		     (uint64_t)a.tv_nsec;
		printf("%.0f\n", (double)n * 1e9 / (double)t0);
		beltline_write_close(w);
		return 0;
	}
	if (strcmp(argv[3], "sleep") == 0 && argc == 6) {
		uint64_t n = strtoull(argv[4], NULL, 10), sleeps = 0, timeouts = 0, i;
		uint32_t size = (uint32_t)strtoul(argv[5], NULL, 10), room;
		struct beltline_write_stats st = { .sz = sizeof(st) };
		struct pollfd p = { .fd = -1, .events = POLLIN };
		void *buf;
		int rc = 0;

		if (beltline_open_write(uri, NULL, &w) < 0)
			return 1;
		printf("sleeping writer %d\n", (int)getpid());
		fflush(stdout);
		for (i = 0; i < n; i++) {
			while ((rc = beltline_getwritebuf(w, &buf, &room)) == -EAGAIN) {
				/* the fd asked for at the first -EAGAIN, as beltline.h shows */
				if (p.fd < 0 && (p.fd = beltline_write_fd(w)) < 0)
					return 1;
				sleeps++;
				if (poll(&p, 1, 20000) == 0)
					timeouts++;
			}
			if (rc < 0 || size > room)
				break;
			memset(buf, (int)i, size);
			if ((rc = beltline_commit(w, buf, size)) < 0)
				break;
		}
		if (rc == 0)
			rc = beltline_write_flush(w, 60000);
		if (rc < 0) {
			if (rc == -EPIPE)
				printf("gone %llu\n", (unsigned long long)i);
			beltline_write_close(w);
			return rc == -EPIPE ? 3 : 1;
		}
		beltline_write_stats(w, &st);
		printf("frames %llu sleeps %llu wakeups %llu timeouts %llu\n",
		       (unsigned long long)st.consumed, (unsigned long long)sleeps,
		       (unsigned long long)st.wakeups, (unsigned long long)timeouts);
		beltline_write_close(w);
		return 0;
	}
	if (strcmp(argv[3], "late") == 0 && argc == 4) {
		struct pollfd p = { .fd = -1, .events = POLLIN };
		uint32_t room;
		void *buf;
		int rc;

		if (beltline_open_write(uri, NULL, &w) < 0)
			return 1;
		while ((rc = beltline_getwritebuf(w, &buf, &room)) == 0)
			if (beltline_commit(w, buf, 64) < 0)
				return 1;
		if (rc != -EAGAIN)
			return 1;
		usleep(300000);
		if ((p.fd = beltline_write_fd(w)) < 0)
			return 1;
		printf("%s\n", poll(&p, 1, 10000) == 1 ? "woken" : "timeout");
		beltline_write_close(w);
		return 0;
	}
	if (strcmp(argv[3], "heldwake") == 0 && argc == 4) {
		static void *b[(1u << 16) + 1];
		struct pollfd p = { .fd = -1, .events = POLLIN };
		uint32_t room;
		unsigned got = 0;
		char line[16];
		int rc = 0;

		if (beltline_open_write(uri, NULL, &w) < 0 || (p.fd = beltline_write_fd(w)) < 0)
			return 1;
		while (got < (1u << 16) && (rc = beltline_getwritebuf(w, &b[got], &room)) == 0)
			got++;
		printf("holding %u rc %s\n", got, rc == -EDEADLK ? "EDEADLK" : rc == -EAGAIN ?
		       "EAGAIN" : "other");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			return 1;
		memset(b[0], 0x55, 64);
		if (beltline_commit(w, b[0], 64) < 0)
			return 1;
		rc = beltline_getwritebuf(w, &b[got], &room);
		printf("asleep %s\n", rc == -EAGAIN ? "EAGAIN" : "other");
		fflush(stdout);
		printf("%s\n", poll(&p, 1, 10000) == 1 ? "woken" : "timeout");
		printf("%s\n", beltline_getwritebuf(w, &b[got], &room) == 0 ? "room" : "none");
		beltline_write_close(w);
		return 0;
	}
	if (strcmp(argv[3], "badsleep") == 0 && argc == 6)
		return bad_sleep(argv[1], argv[2], argv[4], strtol(argv[5], NULL, 10));
	if (strcmp(argv[3], "hostile") == 0 && argc == 5)
		return hostile(argv[1], argv[2], strtol(argv[4], NULL, 10));
	return 2;
}
