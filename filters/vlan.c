/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vlan — pass 802.1Q / 802.1ad tagged frames on "out" (optionally of one VLAN).
 * synopsis: vlan [id=VID]
 * edges:    out (class 1)
 * state:    stateless
 */
#include <errno.h>

#include "classify.h"

struct vlan {
	struct classify c;   /* first: classify.h's counters */
	uint32_t id;         /* UINT32_MAX: any */
};

static int
vlan_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct vlan *v = bl_filter_priv(f);

	v->id = UINT32_MAX;
	if (bl_args_only(args, keys, false, err) < 0 ||
	    bl_args_u32(args, "id", 0, 4095, &v->id, err) < 0)
		return -EINVAL;
	return 0;
}

static int64_t
vlan_verdict(const struct bl_filter *f, const struct proto *p)
{
	const struct vlan *v = bl_filter_priv(f);

	if (p->bad == PROTO_BAD_ETH)
		return CLASSIFY_MALFORMED;
	return p->n_vlan > 0 && (v->id == UINT32_MAX || p->vid == v->id);
}

CLASSIFY_DEFINE(vlan)

BL_FILTER_REGISTER(vlan) = {
	.summary = "pass VLAN-tagged frames",
	.synopsis = "vlan [id=VID]",
	.args_doc = "id: pass only this VLAN id (0..4095) of the outermost tag (default: any)",
	.edges_doc = "out (class 1): tagged frames; everything else is class 0",
	.state_doc = "stateless",
	.flags = BL_FILTER_F_STATELESS,
	.init = vlan_init,
	.process = vlan_process,
	.edges = { "out" },
	CLASSIFY_COMMON,
	.priv_size = sizeof(struct vlan),
};
