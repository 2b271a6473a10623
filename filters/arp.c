/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp — pass ARP packets (28-byte Ethernet/IPv4 body present) on "out"; anything else is class 0.
 * synopsis: arp
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
arp_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_l3(p, PROTO_ETH_ARP);
}

CLASSIFY_DEFINE(arp)

BL_FILTER_REGISTER(arp) = {
	.summary = "pass ARP packets (28-byte Ethernet/IPv4 body present)",
	.synopsis = "arp",
	.args_doc = "none",
	.edges_doc = "out (class 1): ARP packets (28-byte Ethernet/IPv4 body present); everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = arp_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
