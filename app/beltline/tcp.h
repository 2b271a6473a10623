/* SPDX-License-Identifier: BSD-3-Clause */
/* beltline cat --tcp: a tcpstream stream's connections as files, one per direction (tcp.c). */
#ifndef BELTLINE_TCP_H
#define BELTLINE_TCP_H

#include <signal.h>

struct beltline_stream;

/*
 * Read the stream (entries of lib/flow/bl_tcp_rec.h) until it ends, *stop is set, or
 * `limit` connections ended (0: no limit), writing each direction's bytes at their
 * offsets into DIR/SRC.SPORT-DST.DPORT as tcpflow names them. Gaps are left as holes
 * (zeros, as tcpflow leaves them) and reported on stderr, one line each. Exit status:
 * 0, or 1 on an error (a file that cannot be written, a stream error).
 */
int tcp_cat(struct beltline_stream *s, const char *dir, unsigned long long limit,
	    volatile sig_atomic_t *stop, int verbose);

/* Whether an entry of class cls (len bytes) is a tcpstream record this CLI knows. */
int tcp_is_rec(unsigned int cls, const void *entry, size_t len);

#endif /* BELTLINE_TCP_H */
