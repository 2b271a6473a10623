/* SPDX-License-Identifier: BSD-3-Clause */
/* Libraries loaded when a command runs (ondemand.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "ondemand.h"

int
bl_cli_ondemand(const char *cmd, const char *soname, const char *const *names, void **out,
		size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "beltline: %s: cannot load %s: %s\n", cmd, soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = dlsym(h, names[i]);
		if (out[i] == NULL) {
			fprintf(stderr, "beltline: %s: %s has no %s: %s\n", cmd, soname, names[i],
				dlerror());
			return -1;
		}
	}
	return 0;
}
