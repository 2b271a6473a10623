/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp — pass ICMP (IPv4) and ICMPv6 messages on "out"; anything else is class 0.
 * synopsis: icmp
 * edges:    out (class 1)
 * state:    stateless
 */
#include "classify.h"

static int64_t
icmp_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	return classify_over_ip(p, (p->ipver == 4 && p->l4proto == 1) ||
				   (p->ipver == 6 && p->l4proto == 58));
}

CLASSIFY_DEFINE(icmp)

BL_FILTER_REGISTER(icmp) = {
	.summary = "pass ICMP (IPv4) and ICMPv6 messages",
	.synopsis = "icmp",
	.args_doc = "none",
	.edges_doc = "out (class 1): ICMP (IPv4) and ICMPv6 messages; everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = icmp_process,
	.edges = { "out" },
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
