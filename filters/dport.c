/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dport — class each TCP/UDP/SCTP packet by its destination port, so
 * `dport |80 web`, `dport |!80 other` and `dport |ssh:telnet log` work.
 * synopsis: dport
 * edges:    class = the destination port; other packets (and later fragments) are class 0
 * state:    stateless
 */
#include "classify.h"
#include "ports.h"

static int64_t
dport_verdict(const struct bl_filter *f, const struct proto *p)
{
	int64_t v = classify_over_ip(p, p->l4proto == 6 || p->l4proto == 17 || p->l4proto == 132);

	(void)f;
	return v == 1 ? p->dport : v;
}

CLASSIFY_DEFINE(dport)

BL_FILTER_REGISTER(dport) = {
	.summary = "class TCP/UDP/SCTP packets by destination port",
	.synopsis = "dport",
	.args_doc = "none",
	.edges_doc = PORTS_EDGES_DOC,
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = dport_process,
	.classes = port_names,
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
