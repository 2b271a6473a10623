/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_ep_net_pvt — what the two halves of endpoints over tcp:// and tls:// share:
 * a connection's state (struct blc_epn) and its socket calls. src_ep_net.c is the
 * data path (sending, receiving, beltline.h's calls), src_ep_net_setup.c the set-up
 * and the end (hellos, connect, listen, accept, close). Private to libbeltline-client.
 */
#ifndef SRC_EP_NET_PVT_H
#define SRC_EP_NET_PVT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "net_frame.h"
#include "src_ep_pvt.h"

#define EPN_SLOTS_DEF 1024u
#define EPN_BUF_DEF (4u << 20)
#define EPN_MAX_DEF 65536u
#define EPN_IOV 64
#define EPN_ALIGN 8u            /* write buffers start 8-byte aligned */

struct blc_epn {
	int fd;
	void *tls;                  /* the plug-in's connection; NULL: plain tcp:// */
	char peer[80];              /* HOST:PORT of the other side, for the logs */
	int timeout_ms;             /* close: how long it may take to send what is unsent */
	uint32_t rx_max;            /* the largest message we take (our hello's snaplen) */
	/* receiving; positions are absolute byte counts, the ring offset is pos % rcap */
	uint8_t *rbuf;
	uint64_t rcap;
	uint64_t dpos;              /* the next record to hand out */
	uint64_t wpos;              /* the end of what arrived */
	uint64_t *rq_pos;           /* per message handed out and not released: its record */
	uint32_t *rq_len;           /* ... and its length */
	uint64_t rx_seq;            /* the seq the next record must carry */
	struct bln_rec cur;         /* the record at dpos, when rx_check found it whole */
	long cur_took;
	int eof;                    /* the peer closed or reset: the end, after what arrived */
	int end_rec;                /* its end record (or the end) was handed out as 0 */
	int hup;                    /* poll said the peer hung up */
	/* sending */
	uint8_t *tbuf;
	uint64_t tcap;
	uint64_t *tq_pos;           /* per buffer got: its record's position */
	uint32_t *tq_asz;           /* record bytes allocated (header and size, aligned) */
	uint32_t *tq_len;           /* got: the size asked; committed: the record's bytes */
	uint64_t t_pos;             /* where the next buffer goes */
	uint32_t t_off;             /* bytes of record ep->tx_tail sent already */
	int out_armed;              /* EPOLLOUT is on in ep->epfd */
	int dead;                   /* sending failed: the peer is gone */
};

static inline uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline int
blc_epn__again(long r)
{
	return r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR;
}

/* One non-blocking recv or send on the connection (through the TLS plug-in when it
 * has one): the bytes moved, or -errno. */
long blc_epn__recv(struct blc_epn *n, void *buf, size_t len);
long blc_epn__send(struct blc_epn *n, const void *buf, size_t len);
/* Send what the socket takes of the committed records. 0, or -EPIPE (the peer is gone). */
int blc_epn__flush(struct beltline_ep *ep);

#endif /* SRC_EP_NET_PVT_H */
