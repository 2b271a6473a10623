/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz — what every harness in tests/fuzz/ shares (README.md there).
 *
 * Each fuzz_X.c defines LLVMFuzzerTestOneInput and, when it needs setup done
 * once (EAL, a graph), LLVMFuzzerInitialize. Built with clang-14 and
 * -fsanitize=fuzzer they are libFuzzer targets; built with gcc they link
 * fuzz_main.c, which replays files (the seed corpus and the regression
 * inputs) through the same function: the `fuzz` meson suite.
 *
 * An oracle that does not hold calls FUZZ_FAIL: it says what and aborts, so
 * libFuzzer keeps the input as a crash and the replay test fails.
 */
#ifndef BL_FUZZ_H
#define BL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(...) do {                                            \
		fprintf(stderr, "%s:%d: oracle failed: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                          \
		fputc('\n', stderr);                                   \
		abort();                                               \
	} while (0)

#define FUZZ_CHECK(cond, ...) do {                                     \
		if (!(cond))                                           \
			FUZZ_FAIL(__VA_ARGS__);                        \
	} while (0)

/* Take n bytes off the front of the input (fewer when it ends: the rest are 0). */
static inline uint32_t
fuzz_take(const uint8_t **data, size_t *size, unsigned int n)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		v <<= 8;
		if (*size > 0) {
			v |= **data;
			(*data)++;
			(*size)--;
		}
	}
	return v;
}

/* Descriptors this process holds: a harness compares before and after an input. */
#include <dirent.h>
static inline int
fuzz_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

#endif /* BL_FUZZ_H */
