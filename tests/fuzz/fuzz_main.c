/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The replay main of every fuzz harness when it is built without libFuzzer
 * (gcc): each argument is a file, or a folder whose files (not recursing,
 * sorted by name) are each one input. Every input goes through
 * LLVMFuzzerTestOneInput in this process; a failed oracle aborts, so the
 * exit status says whether all held. `-X` arguments (libFuzzer flags) are
 * ignored, so a libFuzzer command line replays here too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Harnesses without one-time setup do not define it. */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* An exact-size heap copy: a read past the input's end is one ASan sees. */
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz: %s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	unsigned int n = 0, bad = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;
		int k;

		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz: %s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += replay_file(argv[i]) != 0;
			n++;
			continue;
		}
		k = scandir(argv[i], &ents, NULL, by_name);
		if (k < 0) {
			fprintf(stderr, "fuzz: %s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		for (int e = 0; e < k; e++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[e]->d_name);
			if (ents[e]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				bad += replay_file(path) != 0;
				n++;
			}
			free(ents[e]);
		}
		free(ents);
	}
	printf("fuzz: %s: %u inputs replayed, %u unreadable\n", argv[0], n, bad);
	return bad != 0 || n == 0 ? 1 : 0;
}
