/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dbuf_scan INSTANCE STREAM PATTERN... — attach to STREAM as the calling
 * user, as a client would, map every descriptor the appliance passed
 * (read-only), and count where each PATTERN occurs in all of that memory.
 * What a client can read is exactly what these mappings hold, so a pattern
 * found in none of them is a byte sequence this client cannot read.
 *
 * Prints, one per line:
 *   fd I NAME SIZE [dbuf ID DBUF_NAME]     each descriptor (DBufs by their header)
 *   write NAME refused|ALLOWED             for each dbuf: PROT_WRITE must be refused
 *   hits PATTERN N                         total occurrences of each pattern
 * Exit 0 once it scanned, 2 if the attach was refused (the reason on stderr),
 * 1 on any other failure. Built on the client library's private control calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "beltline_priv.h"
#include "bl_stream_proto.h"
#include "bl_shm_abi.h"

static unsigned long
count(const uint8_t *p, size_t n, const char *pat)
{
	size_t k = pat != NULL ? strlen(pat) : 0;
	unsigned long hits = 0;
	const uint8_t *at = p, *end = p + n;

	if (pat == NULL)
		return 0;

	while (k > 0 && at < end) {
		const uint8_t *q = memmem(at, (size_t)(end - at), pat, k);
		if (q == NULL)
			break;
		hits++;
		at = q + 1;
	}
	return hits;
}

int
main(int argc, char **argv)
{
	int fds[BL_CTL_FDS_MAX], fd, rc;
	unsigned n = 0;
	unsigned long *hits;
	char body[256], *reply = NULL;
	cJSON *j, *names;

	if (argc < 4) {
		fprintf(stderr, "usage: dbuf_scan INSTANCE STREAM PATTERN...\n");
		return 1;
	}
	hits = calloc((size_t)argc, sizeof(*hits));
	rc = blc_ctl_connect(argv[1], NULL, &fd);
	if (rc < 0 || hits == NULL) {
		fprintf(stderr, "dbuf_scan: cannot connect to %s: %s\n", argv[1],
			strerror(rc < 0 ? -rc : ENOMEM));
		free(hits);
		return 1;
	}
	snprintf(body, sizeof(body), "{\"stream\":\"%.47s\",\"client\":\"dbuf_scan\",\"pid\":%d}",
		 argv[2], (int)getpid());
	rc = blc_ctl_call_fd(fd, 2000, BL_CTL_ATTACH, body, &reply, fds, BL_CTL_FDS_MAX, &n);
	if (rc < 0) {
		fprintf(stderr, "dbuf_scan: attach %s refused: %s (%s)\n", argv[2],
			reply != NULL ? reply : "", strerror(-rc));
		free(reply);
		free(hits);
		close(fd);
		return rc == -EACCES ? 2 : 1;
	}
	j = cJSON_Parse(reply);
	names = cJSON_GetObjectItemCaseSensitive(j, "fds");
	if (!cJSON_IsArray(names) || (unsigned)cJSON_GetArraySize(names) != n) {
		fprintf(stderr, "dbuf_scan: reply without one name per fd: %s\n", reply);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		const cJSON *nm = cJSON_GetArrayItem(names, (int)i);
		const char *name = cJSON_IsString(nm) ? nm->valuestring : "?";
		struct stat sb;
		void *base;

		if (fstat(fds[i], &sb) < 0 || sb.st_size == 0) {
			printf("fd %u %s unmappable\n", i, name);   /* an eventfd, say */
			continue;
		}
		/* A read-write fd (the reader's own page) maps read-write; the rest read-only. */
		base = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fds[i], 0);
		if (base == MAP_FAILED) {
			fprintf(stderr, "dbuf_scan: cannot map fd %u (%s): %s\n", i, name,
				strerror(errno));
			return 1;
		}
		printf("fd %u %s %lld", i, name, (long long)sb.st_size);
		if (strcmp(name, "dbuf") == 0) {
			const struct bl_dbuf_hdr *h = base;
			void *w = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				       fds[i], 0);

			if (h->magic == BL_DBUF_MAGIC)
				printf(" dbuf %u %.48s", (unsigned)h->id, h->name);
			printf("\nwrite %s %s", name, w == MAP_FAILED ? "refused" : "ALLOWED");
			if (w != MAP_FAILED)
				munmap(w, (size_t)sb.st_size);
		}
		printf("\n");
		for (int p = 3; p < argc; p++)
			hits[p] += count(base, (size_t)sb.st_size, argv[p]);
		munmap(base, (size_t)sb.st_size);
		close(fds[i]);
	}
	for (int p = 3; p < argc; p++)
		printf("hits %s %lu\n", argv[p], hits[p]);
	cJSON_Delete(j);
	free(reply);
	free(hits);
	close(fd);
	return 0;
}
