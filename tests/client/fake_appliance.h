/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_appliance — just enough of the appliance for the client tests: a packet
 * DBuf (header and object table written by hand, as bl_dbuf lays them out; object
 * i filled with the byte 'a'+i), an IBuf, and a control server speaking
 * docs/control.md (list; attach handing out ring, page and DBuf fds, and a wake eventfd
 * if asked; attach_verdict, those and a verdict ring and tail page; one thread per
 * connection, since an attached reader keeps its connection), and the hangup of an
 * attached reader's connection that a reload removing its stream does (fake_drop).
 */
#ifndef FAKE_APPLIANCE_H
#define FAKE_APPLIANCE_H

#include <pthread.h>
#include <stdint.h>

#include "bl_ibuf.h"
#include "bl_shm.h"

#define OBJ_SIZE 2048u
#define N_OBJS 4u
#define DBUF_ID 7u
#define FAKE_VCAP 16u          /* attach_verdict: the verdict ring's descriptors */
#define FAKE_VIGNORED 5u       /* attach_verdict: the tail page's `ignored` */

struct fake {
	char dir[64];            /* RUN_DIR: the socket is DIR/t/ctl */
	char sock[128];
	int lfd;
	uint32_t capacity;       /* 0: 16 */
	struct bl_ibuf *ib;
	struct bl_shm *d;
	int refuse;              /* refuse attach with -EACCES */
	int with_stats;          /* answer stats (else -EOPNOTSUPP) */
	int served;              /* requests (atomic) */
	int saw_hangup;          /* connections the client closed (atomic) */
	int attached;            /* an attach succeeded (atomic) */
	int wake;                /* attach hands out a wake eventfd (BL_CTL_FD_WAKE) */
	int wake_fd;             /* our end of the last one handed out (write 1: a wakeup); -1 */
	int reader_c;            /* the last attached connection (atomic); -1 */
	int dropped_c;           /* the connection fake_drop hung up (atomic); -1 */
	int conns;               /* connection threads still running (atomic) */
	int conn_fd1[32];        /* their sockets + 1 (0: none), under fake_appliance.c's lock */
	char attach_body[256];
};

struct bl_shm *fake_dbuf(void);
struct bl_ibuf *fake_ibuf(uint32_t policy, uint32_t cap);
int fake_start(struct fake *f, pthread_t *t);   /* in a new /tmp dir; 0 or -1 */
int fake_start_in(struct fake *f, pthread_t *t); /* in f->dir; 0 or -1 */
void fake_stop(struct fake *f, pthread_t t);
/* Hang up the last attached reader's connection as the appliance does when a reload
 * removes its stream (app/beltlined/ctl.c, notice_close): a notice saying why, then the
 * connection is closed (its thread closes it once shut down here). 0 or -1 (none). */
int fake_drop(struct fake *f);

static inline struct bl_ibuf_entry
fake_ent(uint16_t dbuf, uint32_t obj, uint32_t off, uint32_t len)
{
	return (struct bl_ibuf_entry){ .dbuf_id = dbuf, .cls = 3, .object = obj, .offset = off,
		.length = len };
}

#endif /* FAKE_APPLIANCE_H */
