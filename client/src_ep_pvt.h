/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_pvt — an endpoint's state, shared by its set-up (src_ep.c: the appliance's
 * part; src_ep_pair.c: the mappings and the hellos) and its data path (src_ep_ring.c).
 * Not installed.
 */
#ifndef BLC_SRC_EP_PVT_H
#define BLC_SRC_EP_PVT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "beltline_priv.h"
#include "bl_ep_abi.h"

/* An accept that may wait t ms (t >= 0) gives a connection it took at most the largest of
 * t, EP_ACCEPT_HELLO_MS and a quarter of opts.timeout_ms (set-up) to complete (the
 * connector's hello; over the network the TLS handshake too), and never more than
 * set-up: a connector that never sends held a listener polling with timeout 0 for
 * opts.timeout_ms each. (A quarter: a remote handshake of two round trips on a slow
 * link, or after a retransmission, still fits with the default 10 s.) */
#define EP_ACCEPT_HELLO_MS 1000

static inline int
ep_accept_budget(int t, int setup)
{
	int b = setup / 4 > EP_ACCEPT_HELLO_MS ? setup / 4 : EP_ACCEPT_HELLO_MS;

	return t > b ? t : b;
}

struct beltline_ep {
	char name[256];
	int sock;                   /* the appliance's socket pair: message wakeups, both ways */
	int txsock;                 /* our room channel: the peer signals its other end */
	int peer_tx;                /* the peer's room channel: we signal it */
	int epfd;                   /* epoll over sock and txsock: beltline_ep_fd() */
	uint32_t slots, mask, dbuf_bytes, max_msg;
	int spin_us;                /* < 0: never spin; INT_MAX: never sleep */
	int peer_gone;
	uint64_t live_tick;         /* the coarse clock's tick of the last look at sock (tx_wait) */
	int broken;                 /* -EPROTO once the peer wrote garbage */
	pid_t peer_pid;
	uint32_t peer_uid;      /* the appliance's word; UINT32_MAX: not known */
	int mb_reg;                 /* registered for the peer's membarrier (blc_ep_mb_ready) */
	int mb_sleep;               /* our sleeps issue membarrier (we told the peer: BL_EP_F_MB_SLEEP):
	                             * registered, unless we never spin (src_ep_pair.c) */
	int fast_wake;              /* registered and the peer's sleeps issue it: wake() needs no fence */
	int mb_lost;                /* a membarrier call failed: sleep at most 1 ms at a time */
	int peer_echo;              /* the peer reads echo slots (BL_EP_F_ECHO) */
	int peer_wake_at;           /* the peer honours our tx_wake_at (BL_EP_F_WAKE_AT) */
	/* mine: written by me alone */
	struct bl_ep_hdr *me;
	struct bl_ep_slot *my_slots;
	uint8_t *my_dbuf;
	/* the peer's: read-only, untrusted */
	const struct bl_ep_hdr *peer;
	const struct bl_ep_slot *peer_slots;
	const uint8_t *peer_dbuf;
	size_t ibuf_len;
	/* sending */
	uint64_t tx_alloc;          /* buffers handed out by getwritebuf */
	uint64_t tx_head;           /* of them committed (me->head) */
	uint64_t tx_tail;           /* of them released by the peer, as last checked */
	uint64_t tx_pos;            /* absolute byte position of the next allocation */
	uint64_t *tx_end;           /* per slot: absolute byte end of its allocation */
	uint32_t *tx_size;          /* per slot: bytes allocated */
	uint64_t woke_rx, woke_tx;  /* the peer's sleep words we have woken already */
	/* receiving */
	uint64_t rx_next;           /* messages handed out by getreadbuf */
	uint64_t rx_done;           /* of them released or forwarded by the caller */
	uint64_t rx_tail;           /* of those, given back to the peer (me->rx_tail): all
	                             * but an echoed one the peer has not released yet */
	uint64_t rx_head;           /* the peer's head, as last checked */
	uint32_t *rx_off;           /* per slot: the offset handed out (release checks it;
	                             * BL_EP_OFF_YOURS: in our own DBuf, an echo) */
	uint32_t *rx_len;           /* per slot: its length (forward checks it) */
	uint64_t *rx_pin;           /* per slot: 0, or 1 + the seq of our echo of it: we
	                             * give it back only once the peer released the echo */
	uint64_t n_pins;            /* slots pinned so */
	struct beltline_ep_stats st;
	struct blc_epn *net;        /* tcp://, tls:// (src_ep_net.c); NULL: the rings above */
};

/* 1 if this process is registered for membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)
 * (registering it on first use, again after a fork) and BELTLINE_EP_FENCE is not set;
 * 0 if not: its endpoints then keep a full fence on every wake (src_ep_ring.c). */
int blc_ep_mb_ready(void);

/* One record with its descriptors (blc_recv_fds; a signal does not end the wait), fds
 * BL_CTL_FDS_MAX long. Its length, or -errno (-ETIMEDOUT, -ECONNRESET at EOF). *trunc:
 * the record or its descriptors were cut. */
ssize_t blc_ep_recv(int fd, int timeout_ms, void *buf, size_t size, int *fds, unsigned *got,
	int *trunc);

/* An endpoint of ours from what the appliance handed this side: fd[0..2] its ibuf, dbuf and
 * socket (all consumed), geo its slots, dbuf_bytes and max_msg (checked), peer_pid the
 * peer's pid as the appliance saw it (SO_PEERCRED; 0: unknown, the hello's is taken).
 * Maps, seals, sends our hello and takes the peer's (src_ep_pair.c). 0 or -errno (logged). */
int blc_ep_pair(const char *uri, const struct beltline_ep_opts *o, int *fd, const uint32_t *geo,
	pid_t peer_pid, uint32_t peer_uid, struct beltline_ep **out);

/* ---- endpoints over tcp:// and tls:// (src_ep_net.c, src_ep_net_setup.c) ---- */
struct blc_epn;
struct blc_epn_listener;

/* Whether uri is tcp://... or tls://... */
int blc_epn_uri(const char *uri);
int blc_epn_listen(const char *uri, const struct beltline_ep_opts *o,
	struct blc_epn_listener **out);
int blc_epn_listener_fd(const struct blc_epn_listener *l);
int blc_epn_accept(struct blc_epn_listener *l, int timeout_ms, struct beltline_ep **out);
void blc_epn_listener_close(struct blc_epn_listener *l);
int blc_epn_connect(const char *uri, const struct beltline_ep_opts *o, struct beltline_ep **out);
/* The data path of beltline.h's calls, for an ep with ep->net set. */
int blc_epn_getwritebuf(struct beltline_ep *ep, uint32_t size, void **buf, int timeout_ms);
int blc_epn_commit(struct beltline_ep *ep, void *buf, uint32_t len);
int blc_epn_getreadbuf(struct beltline_ep *ep, const void **buf, uint32_t *len, int timeout_ms);
int blc_epn_release(struct beltline_ep *ep, const void *buf);
/* buf is the oldest message read and not released, and len at most its length. */
int blc_epn_is_oldest(const struct beltline_ep *ep, const void *buf, uint32_t len);
/* Send what is unsent (up to the open's timeout), an end record, and free ep->net and
 * what it owns (the socket; not ep->epfd, which ep_free closes). */
void blc_epn_free(struct beltline_ep *ep);

#endif /* BLC_SRC_EP_PVT_H */
