/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_dbuf_pvt — what the two kinds of DBuf share inside lib/beltway: packet DBufs
 * (bl_dbuf.c) and record DBufs (bl_dbuf_rec.c) register in one table of ids.
 */
#ifndef BL_DBUF_PVT_H
#define BL_DBUF_PVT_H

#include <stdint.h>

#include "bl_dbuf.h"

/* Give d an id (want, or the lowest free one when want is 0) and enter it where
 * bl_dbuf_lookup finds it. 0, or -EEXIST (want is taken) / -ENOSPC, said in err. */
int bl_dbuf__register(struct bl_dbuf *d, uint16_t want, struct bl_err *err);

#endif /* BL_DBUF_PVT_H */
