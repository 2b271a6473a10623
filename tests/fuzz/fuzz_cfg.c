/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cfg — the config parser (lib/cfg): JSON text to struct bl_cfg, then the
 * cross-checks. Oracles: no crash, no leak, no read past the text (it is
 * handed over without a NUL); a refusal always says why (diag has a line per
 * problem, each starting with a JSON path); a config that passes is within
 * the documented bounds the rest of the appliance relies on, and holds no
 * NUL byte (tests/unit/test_cfg_bad.c: a_nul_between_tokens...).
 */
#include <errno.h>
#include <string.h>

#include "bl_cfg.h"
#include "fuzz.h"

static void
check_bounds(const struct bl_cfg *c)
{
	FUZZ_CHECK(memchr(c->instance, '\0', sizeof(c->instance)) != NULL, "instance unterminated");
	FUZZ_CHECK(c->n_ports <= BL_CFG_MAX_PORTS, "n_ports %u", c->n_ports);
	FUZZ_CHECK(c->n_workers <= BL_CFG_MAX_WORKERS, "n_workers %u", c->n_workers);
	FUZZ_CHECK(c->n_graphs <= BL_CFG_MAX_GRAPHS, "n_graphs %u", c->n_graphs);
	FUZZ_CHECK(c->burst >= 1 && c->burst <= BL_CFG_MAX_BURST, "burst %u", c->burst);
	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct bl_cfg_port *p = &c->ports[i];
		FUZZ_CHECK(memchr(p->name, '\0', sizeof(p->name)) != NULL, "port name unterminated");
		FUZZ_CHECK(memchr(p->vdev, '\0', sizeof(p->vdev)) != NULL, "vdev unterminated");
		FUZZ_CHECK(p->rx_queues >= 1 && p->rx_queues <= BL_CFG_MAX_QUEUES, "rx_queues %u",
			   p->rx_queues);
		FUZZ_CHECK(p->tx_queues <= BL_CFG_MAX_QUEUES, "tx_queues %u", p->tx_queues);
	}
	for (unsigned int w = 0; w < c->n_workers; w++) {
		const struct bl_cfg_worker *wk = &c->workers[w];
		FUZZ_CHECK(wk->lcore <= BL_CFG_MAX_LCORE, "lcore %u", wk->lcore);
		FUZZ_CHECK(wk->n_polls <= BL_CFG_MAX_POLLS, "n_polls %u", wk->n_polls);
		for (unsigned int p = 0; p < wk->n_polls; p++) {
			FUZZ_CHECK(wk->polls[p].port < c->n_ports, "poll port %u", wk->polls[p].port);
			FUZZ_CHECK(wk->polls[p].tx_port < c->n_ports, "poll tx_port %u",
				   wk->polls[p].tx_port);
			FUZZ_CHECK(wk->polls[p].queue < c->ports[wk->polls[p].port].rx_queues,
				   "poll queue %u", wk->polls[p].queue);
		}
	}
	for (unsigned int g = 0; g < c->n_graphs; g++) {
		const struct bl_cfg_graph *gr = &c->graphs[g];
		FUZZ_CHECK(memchr(gr->text, '\0', sizeof(gr->text)) != NULL, "graph text unterminated");
		FUZZ_CHECK(gr->n_lcores <= BL_CFG_MAX_WORKERS, "graph lcores %u", gr->n_lcores);
		for (unsigned int l = 0; l < gr->n_lcores; l++)
			FUZZ_CHECK(gr->lcores[l] <= BL_CFG_MAX_LCORE, "graph lcore %u", gr->lcores[l]);
	}
}

/* A refusal says why: one line per problem (bl_cfg.h), none empty. */
static void
check_diag(const struct bl_diag *d, int rc)
{
	unsigned int lines = 0;

	if (rc == 0) {
		FUZZ_CHECK(d->n == 0, "accepted with %u problems", d->n);
		return;
	}
	FUZZ_CHECK(rc == -EINVAL, "rc %d", rc);
	FUZZ_CHECK(d->n > 0 && d->text != NULL, "refused without a problem");
	FUZZ_CHECK(strlen(d->text) == d->len, "diag length %zu, text %zu", d->len, strlen(d->text));
	for (const char *c = d->text; *c != '\0'; c++) {
		FUZZ_CHECK(c[0] != '\n' || (c > d->text && c[-1] != '\n'), "an empty line: %s", d->text);
		lines += *c == '\n';
	}
	FUZZ_CHECK(d->text[0] != '\n', "an empty line: %s", d->text);
	FUZZ_CHECK(lines == (d->n < BL_DIAG_SHOWN ? d->n : BL_DIAG_SHOWN), "%u problems on %u lines: %s", d->n, lines, d->text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bl_cfg cfg;   /* large: not on the stack */
	struct bl_diag diag = { 0 };
	int rc;

	/* bl_cfg_parse validates too: a config it passes is one beltlined would run. */
	rc = bl_cfg_parse((const char *)data, size, "/nonexistent", &cfg, &diag);
	check_diag(&diag, rc);
	if (rc == 0) {
		unsigned int lc[BL_CFG_MAX_LCORE + 1];

		check_bounds(&cfg);
		/* A raw NUL is JSON nowhere: in a string, between tokens, after the object. */
		FUZZ_CHECK(memchr(data, 0, size) == NULL, "accepted a config with a NUL byte at %zu",
			   (size_t)((const uint8_t *)memchr(data, 0, size) - data));
		FUZZ_CHECK(bl_cfg_worker_lcores(&cfg, lc) <= BL_CFG_MAX_LCORE + 1, "lcores");
		(void)bl_cfg_pool_size(&cfg);
		(void)bl_cfg_mem_mb_needed(&cfg);
	}
	bl_diag_free(&diag);
	return 0;
}
