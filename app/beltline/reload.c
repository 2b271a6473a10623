/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline reload [CONFIG.json]: move the appliance to a new config (default: the
 * file it runs from); graphs and streams that stay keep running.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beltline.h"
#include "cli_pvt.h"

/* reload [CONFIG.json]: the appliance reads the file itself, so its absolute path. */
#define RELOAD_TIMEOUT_MS 60000

int
bl_cli_reload(int argc, char **argv, const char *instance)
{
	struct beltline_ctl *c;
	char path[PATH_MAX], *reply = NULL;
	cJSON *body = cJSON_CreateObject(), *r;
	char *text;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "beltline: reload: usage: beltline reload [CONFIG.json]\n");
		cJSON_Delete(body);
		return 2;
	}
	if (argc == 2) {
		if (realpath(argv[1], path) == NULL) {
			fprintf(stderr, "beltline: reload: %s: %s\n", argv[1], strerror(errno));
			cJSON_Delete(body);
			return 1;
		}
		cJSON_AddStringToObject(body, "config", path);
	}
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	/* A reload builds graphs and waits for every worker's epoch (up to 10 s, twice when
	 * a queue moves between lcores): more than an ordinary request on a busy machine. */
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = RELOAD_TIMEOUT_MS };
	rc = beltline_ctl_open(instance, &o, &c);
	if (rc < 0) {
		if (rc == -ENOENT)
			bl_cli_hint_instances(instance);
		else
			fprintf(stderr, "beltline: instance '%s': %s\n", instance, strerror(-rc));
		free(text);
		return 1;
	}
	rc = beltline_ctl_call(c, BELTLINE_CTL_RELOAD, text, &reply);
	beltline_ctl_close(c);
	free(text);
	r = reply != NULL ? cJSON_Parse(reply) : NULL;
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "beltline: reload: no reply within %d s; it may still be under way "
			"(`beltline stats` shows reload.epoch and reload.last_error)\n",
			RELOAD_TIMEOUT_MS / 1000);
	} else if (rc < 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "error"))) {
		fprintf(stderr, "beltline: reload refused, the old config runs on: %s\n",
			cJSON_GetObjectItemCaseSensitive(r, "error")->valuestring);
	} else if (rc < 0) {
		/* no refusal came: the appliance went (it may have died in the reload) */
		fprintf(stderr, "beltline: reload: %s: no answer from instance '%s' (stopped or "
			"killed?): whether any config runs is unknown (`beltline -i %s stats`)\n",
			strerror(-rc), instance, instance);
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "epoch");
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(r, "note");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "config");
		if (cJSON_IsString(f) && f->valuestring != NULL)
			printf("reloaded %s (epoch %.0f)\n", f->valuestring,
			       cJSON_IsNumber(e) ? e->valuedouble : 0.0);
		else
			printf("reloaded (epoch %.0f)\n", cJSON_IsNumber(e) ? e->valuedouble : 0.0);
		if (cJSON_IsString(note))
			fprintf(stderr, "beltline: reload: %s\n", note->valuestring);
	}
	cJSON_Delete(r);
	free(reply);
	return rc < 0 ? 1 : 0;
}
