/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asking the instance: one request on its control socket (RUN_DIR/INSTANCE/ctl),
 * and, when none answers there, which instances do.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "beltline.h"
#include "cli_pvt.h"

/* Names of instances with a control socket under the run directory. */
void
bl_cli_hint_instances(const char *instance)
{
	const char *dir = getenv("BELTLINE_RUN_DIR");
	char names[512] = "", p[600];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	dir = dir != NULL && dir[0] ? dir : "/run/beltline";
	/* It runs: the -ENOENT was about what it was asked for (a stream), said already. */
	snprintf(p, sizeof(p), "%s/%s/ctl", dir, instance);
	if (stat(p, &sb) == 0 && S_ISSOCK(sb.st_mode))
		return;
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/ctl", dir, de->d_name);
		if (stat(p, &sb) == 0 && S_ISSOCK(sb.st_mode) && strlen(names) + strlen(de->d_name) + 2 < sizeof(names)) {
			strcat(names, " ");
			strcat(names, de->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	/* The library said already that `instance` does not run: what runs instead. */
	if (names[0] == '\0')
		fprintf(stderr, "beltline: no instance runs here (nothing in %s): start beltlined\n",
			dir);
	else
		fprintf(stderr, "beltline: running:%s (choose one with -i NAME or "
			"BELTLINE_INSTANCE)\n", names);
}

int
bl_cli_request(const char *instance, enum beltline_ctl_op op, cJSON **out)
{
	struct beltline_ctl *c;
	char *reply = NULL;
	int rc;

	rc = beltline_ctl_open(instance, NULL, &c);
	if (rc == -ENOENT) {
		bl_cli_hint_instances(instance);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "beltline: instance '%s': %s\n", instance, strerror(-rc));
		return 1;
	}
	rc = beltline_ctl_call(c, op, NULL, &reply);
	beltline_ctl_close(c);
	if (rc < 0) {
		cJSON *e = reply != NULL ? cJSON_Parse(reply) : NULL;
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(e, "error");

		fprintf(stderr, "beltline: instance '%s': %s%s%s\n", instance, strerror(-rc),
			reply ? ": " : "", cJSON_IsString(why) ? why->valuestring : reply ? reply : "");
		cJSON_Delete(e);
		free(reply);
		return 1;
	}
	*out = cJSON_Parse(reply);
	free(reply);
	if (*out == NULL) {
		fprintf(stderr, "beltline: instance '%s' replied with something that is not JSON\n",
			instance);
		return 1;
	}
	return 0;
}
