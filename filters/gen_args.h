/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_args — the argument forms the packet sources share (gen, tcpgen): an
 * IPv4 address or range, a port or range, a MAC address. Each leaves *out as
 * it was when the key is absent, and names the key in its error.
 */
#ifndef GEN_ARGS_H
#define GEN_ARGS_H

#include <stdint.h>

#include <rte_ether.h>

#include "bl_filter.h"

/* "A" or "A-B" (host order, lo <= hi). 0 or -EINVAL. */
int gen_arg_ip(const struct bl_args *a, const char *key, uint32_t out[2], struct bl_err *err);
/* "P" or "LO-HI", 0..65535. 0 or -EINVAL. */
int gen_arg_ports(const struct bl_args *a, const char *key, uint16_t out[2], struct bl_err *err);
/* "02:00:00:00:00:01". 0 or -EINVAL. */
int gen_arg_mac(const struct bl_args *a, const char *key, struct rte_ether_addr *out, struct bl_err *err);

#endif /* GEN_ARGS_H */
