/* SPDX-License-Identifier: BSD-3-Clause */
/* gen_args — see gen_args.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "gen_args.h"

int
gen_arg_ports(const struct bl_args *a, const char *key, uint16_t out[2], struct bl_err *err)
{
	const char *s = NULL;
	unsigned long lo, hi;
	char *end;

	bl_args_str(a, key, &s, err);
	if (s == NULL)
		return 0;
	/* digits, or digits-digits: nothing else (sscanf let "80abc" and "5-x" pass as 80 and 5) */
	lo = hi = ULONG_MAX;
	if (isdigit((unsigned char)s[0])) {
		lo = hi = strtoul(s, &end, 10);
		if (*end == '-' && isdigit((unsigned char)end[1]))
			hi = strtoul(end + 1, &end, 10);
		if (*end != '\0')
			lo = ULONG_MAX;
	}
	if (lo > 65535 || hi > 65535 || lo > hi)
		return bl_err_set(err, -EINVAL, "%s: must be a port or a range LO-HI (0..65535), got \"%.40s\"",
				  key, s);
	out[0] = (uint16_t)lo;
	out[1] = (uint16_t)hi;
	return 0;
}

int
gen_arg_ip(const struct bl_args *a, const char *key, uint32_t out[2], struct bl_err *err)
{
	const char *s = NULL;
	char lo[32], hi[32];
	struct in_addr x, y;

	bl_args_str(a, key, &s, err);
	if (s == NULL)
		return 0;
	if (sscanf(s, "%31[0-9.]-%31[0-9.]", lo, hi) == 2 && strlen(lo) + strlen(hi) + 1 == strlen(s)) {
		if (inet_pton(AF_INET, lo, &x) != 1 || inet_pton(AF_INET, hi, &y) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, s, &x) == 1) {
		y = x;
	} else {
		goto bad;
	}
	out[0] = ntohl(x.s_addr);
	out[1] = ntohl(y.s_addr);
	if (out[0] > out[1])
		goto bad;
	return 0;
bad:
	return bl_err_set(err, -EINVAL, "%s: must be an IPv4 address or a range A-B, got \"%.40s\"", key, s);
}

int
gen_arg_mac(const struct bl_args *a, const char *key, struct rte_ether_addr *out, struct bl_err *err)
{
	const char *s = NULL;

	bl_args_str(a, key, &s, err);
	if (s != NULL && rte_ether_unformat_addr(s, out) != 0)
		return bl_err_set(err, -EINVAL, "%s: must be a MAC address such as 02:00:00:00:00:01, got \"%.40s\"",
				  key, s);
	return 0;
}
