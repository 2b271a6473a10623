/* SPDX-License-Identifier: BSD-3-Clause */
/* reload — SIGHUP's answer (reload.h). */
#include <errno.h>
#include <stdio.h>

#include "app.h"
#include "bl_log.h"
#include "reload.h"
#include "service.h"

/* Set by the handler (on whichever thread the signal lands), taken by the main lcore.
 * A lock-free atomic, so signal-safe; nothing else is published with it. */
static int asked;

void
bl_reload_ask(void)
{
	__atomic_store_n(&asked, 1, __ATOMIC_RELAXED);   /* pairs with the exchange in poll */
}

void
bl_reload_poll(struct bl_app *app)
{
	/* relaxed: pairs with the store in bl_reload_ask; two HUPs before a poll are one */
	if (__atomic_exchange_n(&asked, 0, __ATOMIC_RELAXED) != 0)
		bl_app_reload(app);
}

/* The one function live reconfiguration (issue 11) replaces. */
int
bl_app_reload(struct bl_app *app)
{
	(void)app;
	bl_log(BL_LOG_WARNING, "reload is not supported yet; restart to apply a new configuration");
	bl_service_status("running; reload refused: not supported yet (restart to apply a "
			  "new configuration)");
	return -ENOTSUP;
}
