/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prom — the reply of a control socket `stats` request (docs/control.md) in
 * Prometheus' text exposition format (version 0.0.4), for `beltline exporter`.
 * DPDK-free and I/O-free: JSON in, text out, so it is tested on its own
 * (tests/unit/test_prom.c). The names it gives are listed in docs/metrics.md.
 */
#ifndef BL_PROM_H
#define BL_PROM_H

#include <stddef.h>

struct cJSON;

/*
 * The whole exposition for one `stats` reply: every number in it, as a counter
 * (`..._total`) or a gauge, with `# HELP` and `# TYPE` lines, each family's
 * samples together, label values escaped. A number the exporter has no name
 * for yet is still served, as `untyped` under beltline_SECTION_KEY (the tests
 * fail on one, so the table below grows with the stats). `up` is the value of
 * beltline_up (1: the instance answered). Returns a malloc'd NUL-terminated
 * string (*len its length), or NULL when out of memory.
 */
char *bl_prom_render(const struct cJSON *stats, const char *instance, size_t *len);

/* Only beltline_up 0: the instance did not answer. NULL when out of memory. */
char *bl_prom_render_down(const char *instance, size_t *len);

#endif /* BL_PROM_H */
