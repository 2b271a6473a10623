/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sport — class each TCP/UDP/SCTP packet by its source port, so
 * `sport |80 web`, `sport |!80 other` and `sport |ssh:telnet log` work.
 * synopsis: sport
 * edges:    class = the source port; other packets (and later fragments) are class 0
 * state:    stateless
 */
#include "classify.h"
#include "ports.h"

static int64_t
sport_verdict(const struct bl_filter *f, const struct proto *p)
{
	int64_t v = classify_over_ip(p, p->l4proto == 6 || p->l4proto == 17 || p->l4proto == 132);

	(void)f;
	return v == 1 ? p->sport : v;
}

CLASSIFY_DEFINE(sport)

BL_FILTER_REGISTER(sport) = {
	.summary = "class TCP/UDP/SCTP packets by source port",
	.synopsis = "sport",
	.args_doc = "none",
	.edges_doc = PORTS_EDGES_DOC,
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = sport_process,
	.classes = port_names,
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
