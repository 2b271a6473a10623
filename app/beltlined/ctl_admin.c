/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control server's administration operations (ctl_pvt.h): reload (the work
 * is reload.c's). Main lcore only.
 */
#include <errno.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "bl_err.h"
#include "ctl_pvt.h"
#include "reload.h"

/* Reload (reload.c): the appliance's own user (or root) only; the reply says how it went. */
void
ctl_op_reload(struct bl_ctl *c, struct conn *k, const struct bl_ctl_hdr *h, const cJSON *req)
{
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "config");
	const cJSON *jf = cJSON_GetObjectItemCaseSensitive(req, "fail_step");
	struct bl_err err;
	cJSON *j;

	if (k->cred.uid != 0 && k->cred.uid != geteuid()) {
		ctl_reply_err(k, h, -EPERM, "reload: only root or the appliance's own user may reload it");
		return;
	}
	if (jc != NULL && (!cJSON_IsString(jc) || jc->valuestring == NULL || jc->valuestring[0] != '/')) {
		ctl_reply_err(k, h, -EINVAL, "reload: \"config\" must be an absolute path");
		return;
	}
	if (jf != NULL) {
		if (!c->app->test_hooks || !cJSON_IsNumber(jf) || jf->valuedouble < 1 ||
		    jf->valuedouble > 1e6) {
			ctl_reply_err(k, h, -EINVAL, "reload: fail_step is a test hook (BELTLINED_TEST_HOOKS=1)");
			return;
		}
		c->app->test_fail_step = (unsigned int)jf->valuedouble;
	}
	if (bl_app_reload(c->app, jc != NULL ? jc->valuestring : NULL, &err) != 0) {
		ctl_reply_err(k, h, err.code != 0 ? err.code : -EINVAL, "%s", err.msg);
		return;
	}
	j = cJSON_CreateObject();
	N(j, "epoch", c->app->epoch);
	N(j, "reloads", c->app->reloads);
	if (c->app->config_path != NULL)   /* which file: a bare reload reads the last one named */
		cJSON_AddStringToObject(j, "config", c->app->config_path);
	if (c->app->reload_note[0] != '\0')
		cJSON_AddStringToObject(j, "note", c->app->reload_note);
	ctl_reply_json(k, h, j, NULL, 0);
}
