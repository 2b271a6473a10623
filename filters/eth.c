/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth — pass Ethernet frames (at least a full Ethernet header) on "out"; anything else is class 0.
 * synopsis: eth
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
eth_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return p->bad == PROTO_BAD_ETH ? CLASSIFY_MALFORMED : 1;
}

CLASSIFY_DEFINE(eth)

BL_FILTER_REGISTER(eth) = {
	.summary = "pass Ethernet frames (at least a full Ethernet header)",
	.synopsis = "eth",
	.args_doc = "none",
	.edges_doc = "out (class 1): Ethernet frames (at least a full Ethernet header); everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = eth_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
