/* SPDX-License-Identifier: BSD-3-Clause */
/* Well-known port names shared by sport and dport (edge labels like |ssh:telnet). */
#ifndef BL_PORTS_H
#define BL_PORTS_H

#include "bl_filter.h"

static const struct bl_class_name port_names[] = {
	{ "ftp", 21 }, { "ssh", 22 }, { "telnet", 23 }, { "smtp", 25 }, { "dns", 53 },
	{ "domain", 53 }, { "bootps", 67 }, { "bootpc", 68 }, { "http", 80 }, { "pop3", 110 },
	{ "ntp", 123 }, { "imap", 143 }, { "snmp", 161 }, { "bgp", 179 }, { "ldap", 389 },
	{ "https", 443 }, { "isakmp", 500 }, { "syslog", 514 }, { "rtsp", 554 },
	{ "ipsec-nat", 4500 }, { "vxlan", 4789 }, { "geneve", 6081 }, { NULL, 0 },
};

#define PORTS_EDGES_DOC \
	"class = the port (0: none); names: ftp ssh telnet smtp dns/domain bootps bootpc http " \
	"pop3 ntp imap snmp bgp ldap https isakmp syslog rtsp ipsec-nat vxlan geneve"

#endif /* BL_PORTS_H */
