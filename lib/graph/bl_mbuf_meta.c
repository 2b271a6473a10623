/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>

#include <rte_errno.h>

#include "bl_mbuf_meta.h"

int bl_mbuf_meta_off = -1;
uint64_t bl_mbuf_meta_flag;

int
bl_mbuf_meta_register(void)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "beltline_rec_meta",
		.size = sizeof(struct bl_mbuf_meta),
		.align = __alignof__(struct bl_mbuf_meta),
	};
	static const struct rte_mbuf_dynflag flag = { .name = "beltline_rec_meta_valid" };
	int off, bit;

	if (bl_mbuf_meta_off >= 0)
		return 0;
	off = rte_mbuf_dynfield_register(&field);
	if (off < 0)
		return -rte_errno;
	bit = rte_mbuf_dynflag_register(&flag);
	if (bit < 0)
		return -rte_errno;
	bl_mbuf_meta_off = off;
	bl_mbuf_meta_flag = UINT64_C(1) << bit;
	return 0;
}
