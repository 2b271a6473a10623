/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ABI header and the client view compile alone: no DPDK, no libc beyond
 * <stdint.h>/<stddef.h> (built with no dependencies at all), and the sizes a
 * peer relies on are what docs/shm-abi.md says.
 */
#include "bl_dbuf_view.h"
#include "bl_shm_abi.h"

int
main(void)
{
	int bad = 0;

	bad |= sizeof(struct bl_ibuf_entry) != 16;
	bad |= sizeof(struct bl_ibuf_hdr) != 128;
	bad |= sizeof(struct bl_ibuf_prod) != 1280;
	bad |= sizeof(struct bl_ibuf_rpage) != 192;
	bad |= sizeof(struct bl_dbuf_hdr) != 128;
	bad |= BL_SHM_ABI_VERSION != 4;
	return bad;
}
