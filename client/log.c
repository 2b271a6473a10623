/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log — the library's one way to say something: through the callback the user
 * set (beltline_set_log), else nowhere. Every source and the control client use it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "beltline_priv.h"

static beltline_log_fn log_cb;
static void *log_ctx;

beltline_log_fn
beltline_set_log(beltline_log_fn cb, void *ctx)
{
	beltline_log_fn old = log_cb;

	log_cb = cb;
	log_ctx = ctx;
	return old;
}

int
blc_refuse(const char *fn, const char *why)
{
	blc_log(BELTLINE_LOG_ERROR, "%s: %s: refused (-EINVAL)", fn, why);
	return -EINVAL;
}

void
blc_log(enum beltline_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (log_cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_cb(lvl, msg, log_ctx);
}
