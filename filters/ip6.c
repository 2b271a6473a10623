/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip6 — pass IPv6 packets with a sound header on "out"; anything else is class 0.
 * synopsis: ip6
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
ip6_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_l3(p, PROTO_ETH_IPV6);
}

CLASSIFY_DEFINE(ip6)

BL_FILTER_REGISTER(ip6) = {
	.summary = "pass IPv6 packets with a sound header",
	.synopsis = "ip6",
	.args_doc = "none",
	.edges_doc = "out (class 1): IPv6 packets with a sound header; everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = ip6_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
