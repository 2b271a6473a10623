/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stale_page INSTANCE STREAM SECONDS — a client that detaches but keeps what
 * it was given (issue 15): attach to STREAM as a client would, map the reader
 * page read-write, detach (close the control connection), then for SECONDS
 * write garbage into the page it kept: a stale position that would hold an SRP
 * stream back, counters that would falsify a reader's. Whoever attaches next
 * at the same page index must see none of it (stalepage.sh checks).
 *
 * Prints "reader I" once attached and "detached" once the connection is
 * closed (so the script can start the next reader), then "done" after SECONDS
 * or at SIGTERM (the script stops it once it has checked). Exit 0, or 1 with
 * the reason on stderr. Built on the client library's private calls.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "beltline_priv.h"
#include "bl_shm_abi.h"
#include "bl_stream_proto.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	int fds[BL_CTL_FDS_MAX], fd, rc, page = -1;
	unsigned n = 0, i = 0;
	char body[256], *reply = NULL;
	struct bl_ibuf_rpage *p;
	const cJSON *it;
	cJSON *j;
	double end;

	if (argc != 4) {
		fprintf(stderr, "usage: stale_page INSTANCE STREAM SECONDS\n");
		return 1;
	}
	signal(SIGTERM, on_term);
	if (blc_ctl_connect(argv[1], NULL, &fd) < 0)
		return 1;
	snprintf(body, sizeof(body), "{\"stream\":\"%s\",\"client\":\"stale\"}", argv[2]);
	rc = blc_ctl_call_fd(fd, 5000, BL_CTL_ATTACH, body, &reply, fds, BL_CTL_FDS_MAX, &n);
	if (rc < 0) {
		fprintf(stderr, "stale_page: attach refused: %s\n", reply != NULL ? reply : "");
		return 1;
	}
	j = cJSON_Parse(reply);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "fds")) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, BL_CTL_FD_PAGE) == 0 && i < n)
			page = fds[i];
		i++;
	}
	if (page < 0) {
		fprintf(stderr, "stale_page: no page descriptor in %s\n", reply);
		return 1;
	}
	p = mmap(NULL, BL_SHM_META_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, page, 0);
	if (p == MAP_FAILED) {
		perror("stale_page: mmap");
		return 1;
	}
	printf("reader %d\n", (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "reader")));
	for (i = 0; i < n; i++)
		if (fds[i] != page)
			close(fds[i]);
	close(fd);                        /* the lease ends: the appliance detaches us */
	printf("detached\n");
	fflush(stdout);
	/* What it held, and worse: a position far behind, counters that lie. */
	for (end = now_s() + atof(argv[3]); now_s() < end && !stop;) {
		for (int k = 0; k < 10000; k++) {
			__atomic_store_n(&p->pos, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&p->consumed, 4000000000000ull, __ATOMIC_RELAXED);
			__atomic_store_n(&p->lost, 3000000000000ull, __ATOMIC_RELAXED);
			__atomic_store_n(&p->laps, 77, __ATOMIC_RELAXED);
			__atomic_store_n(&p->wait, 1, __ATOMIC_RELAXED);
		}
		usleep(100);
	}
	printf("done\n");
	cJSON_Delete(j);
	free(reply);
	return 0;
}
