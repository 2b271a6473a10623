/* SPDX-License-Identifier: BSD-3-Clause */
/* beltline cat --flows (flows.h): records of a `flow ... export=NAME` stream as lines. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bl_flow_rec.h"
#include "flows.h"

static const char *const reasons[] = { "?", "idle", "active", "end", "forced", "resources" };

static void
when(char *buf, size_t size, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), size - strlen(buf), ".%03uZ", (unsigned int)(ms % 1000u));
}

int
flows_is_rec(const void *entry, size_t len)
{
	struct bl_flow_rec r;

	if (len != sizeof(r))
		return 0;
	memcpy(&r, entry, sizeof(r));
	return r.magic == BL_FLOW_REC_MAGIC && r.version == BL_FLOW_REC_VERSION &&
	       (r.ipver == 4 || r.ipver == 6);
}

int
flows_print(FILE *out, const void *entry, size_t len, int json)
{
	struct bl_flow_rec r;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], t0[40], t1[40], flags[9];
	const char *reason;
	int af;

	if (!flows_is_rec(entry, len))
		return -1;
	memcpy(&r, entry, sizeof(r));
	af = r.ipver == 4 ? AF_INET : AF_INET6;
	inet_ntop(af, r.src, src, sizeof(src));
	inet_ntop(af, r.dst, dst, sizeof(dst));
	reason = r.end_reason < sizeof(reasons) / sizeof(reasons[0]) ? reasons[r.end_reason] : "?";
	when(t0, sizeof(t0), r.start_ms);
	when(t1, sizeof(t1), r.end_ms);
	if (json) {
		fprintf(out, "{\"start\":\"%s\",\"end\":\"%s\",\"start_ms\":%llu,\"end_ms\":%llu,"
			"\"ipver\":%u,\"proto\":%u,\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\","
			"\"dport\":%u,\"vlan\":%u,\"packets\":%llu,\"bytes\":%llu,\"tcp_flags\":%u,"
			"\"end_reason\":\"%s\"}\n", t0, t1, (unsigned long long)r.start_ms,
			(unsigned long long)r.end_ms, r.ipver, r.proto, src, r.sport, dst, r.dport,
			r.vlan, (unsigned long long)r.packets, (unsigned long long)r.bytes,
			r.tcp_flags, reason);
		return 0;
	}
	for (int i = 0; i < 8; i++)   /* as nfdump prints them: CWR ECE URG ACK PSH RST SYN FIN */
		flags[i] = (r.tcp_flags & (0x80 >> i)) ? "CEUAPRSF"[i] : '.';
	flags[8] = '\0';
	fprintf(out, "%s %s proto %u %s%s%s:%u > %s%s%s:%u vlan %u packets %llu bytes %llu "
		"flags %s end %s\n", t0, t1, r.proto, af == AF_INET6 ? "[" : "", src,
		af == AF_INET6 ? "]" : "", r.sport, af == AF_INET6 ? "[" : "", dst,
		af == AF_INET6 ? "]" : "", r.dport, r.vlan, (unsigned long long)r.packets,
		(unsigned long long)r.bytes, flags, reason);
	return 0;
}
