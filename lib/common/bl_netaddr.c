/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_netaddr.h"

int
bl_hostport_split(const char *hp, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon;
	size_t hl, pl;

	if (hp[0] == '[') {             /* [v6]:port */
		const char *close = strchr(hp, ']');
		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - hp - 1);
		hp++;
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - hp);
	}
	pl = strlen(colon + 1);
	if (hl == 0 || hl >= hsz || pl == 0 || pl >= psz || pl > 5 ||
	    strspn(colon + 1, "0123456789") != pl || atoi(colon + 1) > 65535)
		return -EINVAL;
	memcpy(host, hp, hl);
	host[hl] = '\0';
	snprintf(port, psz, "%s", colon + 1);
	return 0;
}

int
bl_sockaddr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}
