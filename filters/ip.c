/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip — pass IPv4 packets with a sound header on "out"; anything else is class 0.
 * synopsis: ip
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
ip_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_l3(p, PROTO_ETH_IPV4);
}

CLASSIFY_DEFINE(ip)

BL_FILTER_REGISTER(ip) = {
	.summary = "pass IPv4 packets with a sound header",
	.synopsis = "ip",
	.args_doc = "none",
	.edges_doc = "out (class 1): IPv4 packets with a sound header; everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = ip_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
