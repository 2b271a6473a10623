/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipproto — class each IPv4/IPv6 packet by its protocol number (the IPv6 one
 * after the extension headers), so `ipproto |tcp x` or `ipproto |6 x` work.
 * synopsis: ipproto
 * edges:    class = protocol number; names: icmp 1, igmp 2, tcp 6, udp 17,
 *           gre 47, esp 50, ah 51, icmp6 58, ospf 89, pim 103, vrrp 112, sctp 132
 * state:    stateless
 */
#include "classify.h"

static const struct bl_class_name ipproto_names[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmp6", 58 }, { "ospf", 89 }, { "pim", 103 }, { "vrrp", 112 },
	{ "sctp", 132 }, { NULL, 0 },
};

static int64_t
ipproto_verdict(const struct bl_filter *f, const struct proto *p)
{
	(void)f;
	if (p->bad == PROTO_BAD_ETH)
		return CLASSIFY_MALFORMED;
	if (p->etype != PROTO_ETH_IPV4 && p->etype != PROTO_ETH_IPV6)
		return 0;
	return p->bad == PROTO_BAD_L3 ? CLASSIFY_MALFORMED : p->l4proto;
}

CLASSIFY_DEFINE(ipproto)

BL_FILTER_REGISTER(ipproto) = {
	.summary = "class IP packets by protocol number",
	.synopsis = "ipproto",
	.args_doc = "none",
	.edges_doc = "class = the IP protocol number; names: icmp igmp tcp udp gre esp ah icmp6 "
		     "ospf pim vrrp sctp",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = classify_init_noargs,
	.process = ipproto_process,
	.classes = ipproto_names,
	.priv_size = sizeof(struct classify),
	CLASSIFY_COMMON,
};
