/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_stream_proto — what the appliance and its clients must agree on, written
 * once: the name rules, the policy names, the control socket's wire format
 * (operations, limits, header, descriptor names). docs/control.md is the prose.
 *
 * Included as is by the appliance (lib/stream, app/beltlined, lib/cfg) and by
 * the DPDK-free client library and CLI: it needs only libc's <stddef.h>,
 * <stdint.h>, <string.h> and the shared-memory ABI (bl_shm_abi.h, for the
 * policy enum). No copy of anything here may live elsewhere; where a public
 * header must restate a value (client/include/beltline.h), a _Static_assert
 * in the file that includes both ties them.
 *
 * One SOCK_SEQPACKET message = struct bl_ctl_hdr + len bytes of JSON (an
 * object, UTF-8, no NUL), with n_fds descriptors attached as SCM_RIGHTS.
 * Host byte order: both ends are on the same machine.
 */
#ifndef BL_STREAM_PROTO_H
#define BL_STREAM_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bl_shm_abi.h"

/* ---- names ---- */

/* A stream's name, with the NUL: 1..47 of [A-Za-z0-9_.-], not "." or "..". */
#define BL_STREAM_NAME_MAX   48u
/* A stream's capacity (and max_capacity, for one that grows): a power of two up to this. */
#define BL_STREAM_CAPACITY_MAX (1u << 20)
/* The largest frame an inject stream takes (its max_frame: 64..this). */
#define BL_INJECT_MAX_FRAME 65535u
/* An instance's (and a port's) name, with the NUL: 1..31 of [A-Za-z0-9_-]. It
 * names a directory and EAL's file prefix, so no dot. */
#define BL_INSTANCE_NAME_MAX 32u

static inline int
bl_stream__name_char(char c, int dot)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || (dot && c == '.');
}

/* Whether s[0..len) is a valid stream name (s need not be NUL-terminated). */
static inline int
bl_stream_name_ok(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len >= BL_STREAM_NAME_MAX || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!bl_stream__name_char(s[i], 1))
			return 0;
	return 1;
}

/* Names that begin "tap." are the taps' (beltline tap names its streams tap.N): no
 * config, pipeline or edit may declare one, so a reload can never take a live tap's
 * stream for its own export, nor a tap's name collide with a configured stream's. */
#define BL_STREAM_TAP_PREFIX "tap."

/* Whether s[0..len) begins with the taps' prefix (a valid name that only a tap may take). */
static inline int
bl_stream_name_tap(const char *s, size_t len)
{
	return s != NULL && len >= sizeof(BL_STREAM_TAP_PREFIX) - 1 &&
	       memcmp(s, BL_STREAM_TAP_PREFIX, sizeof(BL_STREAM_TAP_PREFIX) - 1) == 0;
}

/* Whether s[0..len) is a valid instance (or port) name. */
static inline int
bl_instance_name_ok(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len >= BL_INSTANCE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!bl_stream__name_char(s[i], 0))
			return 0;
	return 1;
}

/* ---- policies (enum bl_ibuf_policy, bl_shm_abi.h) ---- */

/* The name of a policy: "srp", "mrp", "frp", "block"; "?" for anything else. */
static inline const char *
bl_stream_policy_name(uint32_t policy)
{
	static const char *const names[] = { [BL_IBUF_SRP] = "srp", [BL_IBUF_MRP] = "mrp",
		[BL_IBUF_FRP] = "frp", [BL_IBUF_BLOCK] = "block" };

	return policy >= BL_IBUF_SRP && policy <= BL_IBUF_BLOCK ? names[policy] : "?";
}

/* enum bl_ibuf_policy for a name (exact, lower case); 0 for anything else. */
static inline uint32_t
bl_stream_policy_parse(const char *s)
{
	for (uint32_t p = BL_IBUF_SRP; s != NULL && p <= BL_IBUF_BLOCK; p++)
		if (strcmp(s, bl_stream_policy_name(p)) == 0)
			return p;
	return 0;
}

/* ---- what a stream's entries are: the list and attach replies' "content" ---- */

enum bl_stream_content {
	BL_STREAM_PACKETS = 0,      /* packets (export, tap, user): beltline cat NAME */
	BL_STREAM_FLOWS   = 1,      /* flow records (flow export=): beltline cat --flows NAME */
	BL_STREAM_TCP     = 2,      /* tcpstream records and payload: beltline cat --tcp NAME */
};

/* "packets", "flows", "tcp"; "?" for anything else. */
static inline const char *
bl_stream_content_name(uint32_t content)
{
	static const char *const names[] = { [BL_STREAM_PACKETS] = "packets",
		[BL_STREAM_FLOWS] = "flows", [BL_STREAM_TCP] = "tcp" };

	return content <= BL_STREAM_TCP ? names[content] : "?";
}

/* Whether a client may ask to read with this policy: srp, mrp or frp (block is a
 * writer's, between clients). Which of them a stream takes is the ring's rule
 * (bl_ibuf_policy_allows); the reply says it. */
static inline int
bl_stream_policy_readable(uint32_t policy)
{
	return policy == BL_IBUF_SRP || policy == BL_IBUF_MRP || policy == BL_IBUF_FRP;
}

_Static_assert(BL_IBUF_SRP == 1 && BL_IBUF_MRP == 2 && BL_IBUF_FRP == 3 && BL_IBUF_BLOCK == 4,
	       "policy numbers index the name table");

/* ---- the control socket ---- */

#define BL_CTL_MAGIC    0x314c5442u   /* "BTL1" little endian */
#define BL_CTL_VERSION  1u
#define BL_CTL_MSG_MAX  65536u        /* header + body */
#define BL_CTL_FDS_MAX  32u           /* descriptors in one reply */
#define BL_CTL_SOCKET   "ctl"         /* RUN_DIR/INSTANCE/ctl */
#define BL_CTL_REPLY_MAX (64u << 20)  /* a whole reply, all its records: what a client takes */
#define BL_CTL_RUN_DIR  "/run/beltline"
/* The instance beltlined runs as, and the CLI and client library look for, when none is named. */
#define BL_INSTANCE_DEFAULT "default"

/* A reply longer than one message comes as several, each with its own header (same op, id,
 * status; len = that record's bytes; descriptors only ever in a one-record reply): every
 * record but the last has BL_CTL_OP_MORE in op. The client joins the bodies in order. */
#define BL_CTL_OP_MORE  0x8000u

/* A notice (op 0, id 0, status < 0, {"error": why}) is the server's last message before it
 * closes a connection it refused or timed out; it may come in place of any reply. */
#define BL_CTL_NOTICE   0u

/* Operations. client/include/beltline.h restates them (enum beltline_ctl_op);
 * client/ctl.c ties the two with _Static_asserts. */
enum bl_ctl_op {
	BL_CTL_LIST   = 1,
	BL_CTL_ATTACH = 2,
	BL_CTL_DETACH = 3,
	BL_CTL_STATS  = 4,
	BL_CTL_OPEN_WRITE = 5,   /* become an inject stream's writer (docs/control.md) */
	BL_CTL_RELOAD = 16,      /* move to a new config (docs/control.md, "reload") */
	BL_CTL_TAP    = 17,      /* hang a temporary export on a running filter (docs/taps.md) */
	BL_CTL_EDIT   = 18,      /* add or remove a filter of a running graph (docs/control.md, "edit") */
	BL_CTL_ATTACH_VERDICT = 6, /* become a `user` filter's verdict client (docs/control.md) */
	BL_CTL_EP_LISTEN  = 7,   /* register an endpoint and listen (docs/control.md, "Endpoints") */
	BL_CTL_EP_CONNECT = 8,   /* connect to an endpoint: a ring pair with its listener */
	BL_CTL_EP_ACCEPT  = 9,   /* server to listener, unasked (id 0): a connect's ring pair */
};

struct bl_ctl_hdr {
	uint32_t magic;     /* BL_CTL_MAGIC */
	uint16_t version;   /* BL_CTL_VERSION */
	uint16_t op;        /* enum bl_ctl_op; a reply echoes its request's */
	uint32_t id;        /* chosen by the client, echoed in the reply */
	int32_t status;     /* reply: 0 or -errno; request: 0 */
	uint32_t n_fds;     /* descriptors attached to this message */
	uint32_t len;       /* bytes of JSON after the header */
};

/* The names an attach reply gives its descriptors, in its "fds" array. */
#define BL_CTL_FD_RING  "ring"        /* the IBuf region, read-only */
#define BL_CTL_FD_PAGE  "page"        /* this reader's page, read-write, its own */
#define BL_CTL_FD_MRP   "mrp"         /* the MRP page, read-write (MRP readers) */
#define BL_CTL_FD_WAKE  "wake"        /* the wake channel the appliance signals (a socket) */
#define BL_CTL_FD_DBUF  "dbuf"        /* a DBuf region the entries point into, read-only */

/* The names an open-write reply gives its two descriptors (bl_shm_abi.h, "wring"). */
#define BL_CTL_FD_WRING "wring"       /* the writer's region, read-write, its own */
#define BL_CTL_FD_WTAIL "wtail"       /* the appliance's tail page, read-only (sealed) */

/* What an attach_verdict reply adds to an attach's descriptors (bl_shm_abi.h, "vring"). */
#define BL_CTL_FD_VRING "vring"       /* the client's verdict ring, read-write, its own */
#define BL_CTL_FD_VTAIL "vtail"       /* the appliance's verdict tail page, read-only (sealed) */

/* The names an endpoint's connect reply and accept record give their descriptors
 * (bl_ep_abi.h): this side's two regions, read-write, and its end of the pair's socket. */
#define BL_CTL_FD_EP_IBUF "ibuf"
#define BL_CTL_FD_EP_DBUF "dbuf"
#define BL_CTL_FD_EP_SOCK "sock"

/* The largest class a verdict client may return (a class is 16 bits in the ring's use). */
#define BL_VERDICT_CLASS_MAX 65535u

/* One attach hands out at most: ring, page, mrp, wake and one DBuf. */
#define BL_CTL_ATTACH_FDS 5u

_Static_assert(sizeof(struct bl_ctl_hdr) == 24, "control header is 24 bytes");
_Static_assert(__builtin_offsetof(struct bl_ctl_hdr, status) == 12, "hdr.status");
_Static_assert(__builtin_offsetof(struct bl_ctl_hdr, len) == 20, "hdr.len");
_Static_assert(BL_CTL_ATTACH_FDS <= BL_CTL_FDS_MAX, "an attach fits one reply");

#endif /* BL_STREAM_PROTO_H */
