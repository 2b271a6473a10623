/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp — pass TCP segments over IPv4 or IPv6 (first fragments) on "out"; anything else is class 0.
 * synopsis: tcp
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
tcp_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_over_ip(p, p->l4proto == 6);
}

CLASSIFY_DEFINE(tcp)

BL_FILTER_REGISTER(tcp) = {
	.summary = "pass TCP segments over IPv4 or IPv6 (first fragments)",
	.synopsis = "tcp",
	.args_doc = "none",
	.edges_doc = "out (class 1): TCP segments over IPv4 or IPv6 (first fragments); everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = tcp_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
