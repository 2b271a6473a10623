/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * serve_peer — who a peer on this machine is, and serving it as that user.
 *
 * A tcp:// or udp:// peer on loopback showed nothing of who it is, and its child
 * opened the stream as whoever ran `beltline serve` (root, often): any local user read
 * (or, with --write, wrote) streams the appliance refuses them. Now a peer on a
 * loopback address is looked up in the kernel's socket table (NETLINK_SOCK_DIAG: the
 * socket at the peer's address and port, its owner's uid) and its child opens the
 * stream as that user: a serve run by root takes the user's ids first (its groups as
 * at login), so the appliance's own SO_PEERCRED check decides, as for `beltline cat
 * STREAM`; a serve run by anyone else serves its own uid only. A peer that cannot be
 * looked up is refused. Peers off the machine are authenticated by their TLS
 * certificate (listen_on) and served as serve's user.
 *
 * "On the machine" is not "on a loopback address": a local process may bind one of
 * the machine's other addresses and connect from it to 127.0.0.1 (and was served as
 * root). So every peer is looked up; one found is local, whatever its address; one
 * not found is taken for a peer off the machine only when nothing says it is here
 * (neither end on loopback, and its address not one of this machine's), else refused.
 */
#include <errno.h>
#include <grp.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bl_netaddr.h"
#include "serve_pvt.h"

/* Port (host order) and address words of a sockaddr, as inet_diag holds them. */
/* An IPv4 address as IPv6 (::ffff:a.b.c.d, a dual-stack listener's view) as the AF_INET
 * one it is: the kernel files the peer's socket under AF_INET. */
static void
unmap(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;

	*out = *in;
	if (in->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		uint16_t port = s6->sin6_port;
		uint32_t a;

		memcpy(&a, &s6->sin6_addr.s6_addr[12], 4);
		memset(out, 0, sizeof(*out));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		s4->sin_addr.s_addr = a;
	}
}

static int
sa_parts(const struct sockaddr_storage *sa, uint16_t *port, uint32_t addr[4])
{
	memset(addr, 0, 16);
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		*port = ntohs(s->sin_port);
		addr[0] = s->sin_addr.s_addr;
		return 0;
	}
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		*port = ntohs(s->sin6_port);
		memcpy(addr, &s->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* One exact lookup: the socket bound at (src, sport) talking to (dst, dport), as the
 * kernel's tcp or udp diag finds it. 0 with *uid and the socket's own address and port,
 * -ENOENT, or -errno. */
static int
diag_one(int nl, int family, int proto, const uint32_t src[4], uint16_t sport,
	 const uint32_t dst[4], uint16_t dport, uid_t *uid, uint32_t got_src[4], uint16_t *got_sport)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = (uint8_t)proto,
		       .idiag_states = ~0u,
		       .id = { .idiag_sport = htons(sport), .idiag_dport = htons(dport),
			       .idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } } },
	};
	union {
		struct nlmsghdr nh;
		uint8_t b[8192];
	} rsp;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	ssize_t n;

	memcpy(req.r.id.idiag_src, src, 16);
	memcpy(req.r.id.idiag_dst, dst, 16);
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		return -errno;
	n = recv(nl, &rsp, sizeof(rsp), 0);
	if (n < 0)
		return -errno;
	for (struct nlmsghdr *h = &rsp.nh; n > 0 && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? e->error :
											   -EPROTO;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			/* A socket no process holds (TIME_WAIT, an orphan: a peer that sent its
			 * records and closed before the accept) has inode 0 and uid 0: it is
			 * nobody's, not root's. */
			if (m->idiag_inode == 0)
				return -ENOENT;
			*uid = m->idiag_uid;
			memcpy(got_src, m->id.idiag_src, 16);
			*got_sport = ntohs(m->id.idiag_sport);
			return 0;
		}
	}
	return -ENOENT;
}

static int
peer_uid(const struct sockaddr_storage *local, const struct sockaddr_storage *peer, int udp,
	 uid_t *uid)
{
	static const uint32_t zero[4];
	uint32_t la[4], pa[4], ga[4];
	uint16_t lp, pp, gp;
	struct timeval tv = { .tv_sec = 2 };
	int nl, rc;

	if (sa_parts(local, &lp, la) < 0 || sa_parts(peer, &pp, pa) < 0 ||
	    local->ss_family != peer->ss_family)
		return -EAFNOSUPPORT;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* tcp's exact lookup takes the socket's own address as src, udp's the other way
	 * round: ask one way, then the other, and keep the answer that is the peer's. */
	for (int pass = 0; pass < 2; pass++) {
		int swap = pass == (udp ? 0 : 1);
		rc = diag_one(nl, peer->ss_family, udp ? IPPROTO_UDP : IPPROTO_TCP,
			      swap ? la : pa, swap ? lp : pp, swap ? pa : la, swap ? pp : lp,
			      uid, ga, &gp);
		/* the peer's socket: its port, and its address or none (bound to any) */
		if (rc == 0 && gp == pp && (memcmp(ga, pa, 16) == 0 || memcmp(ga, zero, 16) == 0))
			break;
		if (rc == 0)
			rc = -ENOENT;
	}
	close(nl);
	return rc;
}

/* 1 if a is one of this machine's addresses (an interface's, in this network
 * namespace). Not by a bind test: with ip_nonlocal_bind any address binds. */
static int
addr_is_ours(const struct sockaddr_storage *a)
{
	struct ifaddrs *ifs, *i;
	int ours = 0;

	if (getifaddrs(&ifs) != 0)
		return 1;   /* cannot tell: say yes, so the peer is refused, not served as us */
	for (i = ifs; i != NULL && !ours; i = i->ifa_next) {
		const struct sockaddr *x = i->ifa_addr;

		if (x == NULL || x->sa_family != a->ss_family)
			continue;
		if (x->sa_family == AF_INET)
			ours = ((const struct sockaddr_in *)x)->sin_addr.s_addr ==
			       ((const struct sockaddr_in *)a)->sin_addr.s_addr;
		else if (x->sa_family == AF_INET6)
			ours = memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
				      &((const struct sockaddr_in6 *)a)->sin6_addr, 16) == 0;
	}
	freeifaddrs(ifs);
	return ours;
}

int
serve_peer_identify(int sock, const struct sockaddr_storage *peer, int udp,
		    struct serve_peer *out, const char *name)
{
	struct sockaddr_storage local, l4, p4;
	socklen_t sl = sizeof(local);
	int rc;

	unmap(peer, &p4);
	out->local = 1;
	out->uid = 0;
	if (getsockname(sock, (struct sockaddr *)&local, &sl) < 0) {
		rc = -errno;
	} else {
		unmap(&local, &l4);
		rc = peer_uid(&l4, &p4, udp, &out->uid);
		if (rc == -ENOENT && !bl_sockaddr_loopback((const struct sockaddr *)&p4) &&
		    !bl_sockaddr_loopback((const struct sockaddr *)&l4) && !addr_is_ours(&p4)) {
			out->local = 0;   /* off the machine: its certificate said who it is */
			return 0;
		}
	}
	if (rc < 0)
		say("refused %s: cannot tell which user it is (the kernel's socket table, "
		    "NETLINK_SOCK_DIAG: %s)", name, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

int
serve_become(const struct serve_peer *p, const char *peer)
{
	uid_t me = geteuid();
	struct passwd *pw;

	if (!p->local || p->uid == me)
		return 0;
	if (me != 0) {
		say("refused %s: it runs as uid %u, and this serve (uid %u) serves local readers "
		    "and writers of its own uid only (run serve as root to serve each user as "
		    "themselves)", peer, (unsigned)p->uid, (unsigned)me);
		return -EPERM;
	}
	pw = getpwuid(p->uid);
	if (pw == NULL) {
		say("refused %s: uid %u has no account here (getpwuid): cannot take its groups",
		    peer, (unsigned)p->uid);
		return -EPERM;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(p->uid, p->uid, p->uid) != 0) {
		say("refused %s: cannot become %s (uid %u): %s", peer, pw->pw_name,
		    (unsigned)p->uid, strerror(errno));
		return -EPERM;
	}
	return 0;
}
