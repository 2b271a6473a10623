/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_ctl_proto — the control socket's wire format (docs/control.md is the prose).
 *
 * Shared by the client library and the appliance's control server; needs only
 * <stdint.h>. One SOCK_SEQPACKET message = this header + len bytes of JSON
 * (an object, UTF-8, no NUL), with n_fds descriptors attached as SCM_RIGHTS.
 * Host byte order: both ends are on the same machine.
 */
#ifndef BL_CTL_PROTO_H
#define BL_CTL_PROTO_H

#include <stdint.h>

#define BL_CTL_MAGIC    0x314c5442u   /* "BTL1" little endian */
#define BL_CTL_VERSION  1u
#define BL_CTL_MSG_MAX  65536u        /* header + body */
#define BL_CTL_FDS_MAX  32u           /* descriptors in one reply */
#define BL_CTL_SOCKET   "ctl"         /* RUN_DIR/INSTANCE/ctl */
#define BL_CTL_REPLY_MAX (64u << 20)  /* a whole reply, all its records: what a client takes */

/* A reply longer than one message comes as several, each with its own header (same op, id,
 * status; len = that record's bytes; descriptors only ever in a one-record reply): every
 * record but the last has BL_CTL_OP_MORE in op. The client joins the bodies in order. */
#define BL_CTL_OP_MORE  0x8000u

/* A notice (op 0, id 0, status < 0, {"error": why}) is the server's last message before it
 * closes a connection it refused or timed out; it may come in place of any reply. */
#define BL_CTL_NOTICE   0u
#define BL_CTL_RUN_DIR  "/run/beltline"

enum bl_ctl_op {
	BL_CTL_LIST   = 1,
	BL_CTL_ATTACH = 2,
	BL_CTL_DETACH = 3,
	BL_CTL_STATS  = 4,
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

_Static_assert(sizeof(struct bl_ctl_hdr) == 24, "control header is 24 bytes");

#endif /* BL_CTL_PROTO_H */
