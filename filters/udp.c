/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp — pass UDP datagrams over IPv4 or IPv6 (first fragments) on "out"; anything else is class 0.
 * synopsis: udp
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
udp_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_over_ip(p, p->l4proto == 17);
}

CLASSIFY_DEFINE(udp)

BL_FILTER_REGISTER(udp) = {
	.summary = "pass UDP datagrams over IPv4 or IPv6 (first fragments)",
	.synopsis = "udp",
	.args_doc = "none",
	.edges_doc = "out (class 1): UDP datagrams over IPv4 or IPv6 (first fragments); everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = udp_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
