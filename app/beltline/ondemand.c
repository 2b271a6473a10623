/* SPDX-License-Identifier: BSD-3-Clause */
/* Libraries loaded when a command runs (ondemand.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ondemand.h"

/* The Debian package that ships SONAME, by Debian Policy 8.1's rule: libNAME.so.V is in
 * libNAMEV, or libNAME-V when NAME ends in a digit (libmicrohttpd.so.12: libmicrohttpd12,
 * libfuse3.so.3: libfuse3-3). 0 (pkg empty) when SONAME is not of that form. */
static int
debian_package(const char *soname, char *pkg, size_t size)
{
	const char *so = strstr(soname, ".so.");
	size_t n = so != NULL ? (size_t)(so - soname) : 0;
	int r;

	pkg[0] = '\0';
	if (n == 0 || so[4] == '\0' || strchr(so + 4, '.') != NULL)
		return 0;
	r = snprintf(pkg, size, "%.*s%s%s", (int)n, soname,
		     isdigit((unsigned char)soname[n - 1]) ? "-" : "", so + 4);
	if (r < 0 || (size_t)r >= size) {
		pkg[0] = '\0';
		return 0;
	}
	return 1;
}

int
bl_cli_ondemand(const char *cmd, const char *soname, const char *const *names, void **out,
		size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		char pkg[64];
		int deb = debian_package(soname, pkg, sizeof(pkg));

		fprintf(stderr, "beltline: %s: cannot load %s: %s: install it%s%s%s\n", cmd, soname,
			dlerror(), deb ? " (Debian: apt-get install " : "", pkg, deb ? ")" : "");
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
