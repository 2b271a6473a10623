/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline cat --tcp (tcp.h): a `tcpstream ... export=NAME` stream written out as
 * tcpflow writes a capture: one file per direction of each connection, named
 * SRC.SPORT-DST.DPORT (IPv4 octets as %03u, IPv6 as inet_ntop writes it, ports as
 * %05u; a VLAN's connection gets --VID; a later connection on the same tuple gets
 * c1, c2, ...), each byte at its stream offset.
 *
 * The entries are read zero copy (beltline_peek): a record (class 1) says which
 * connection, direction and offset the next entry's bytes (class 2) belong to,
 * and those bytes go from the appliance's packet buffer to the file with one
 * pwrite. A GAP record, a DATA record whose data entry is missing, or an offset
 * past what was written (entries the ring refused) is a hole: reported, never
 * filled with invented bytes (the file keeps a hole there, zeros, as tcpflow's).
 * A direction whose file cannot be written (an offset past what the file system or
 * RLIMIT_FSIZE allows, a full disk) is given up, said once for its connection and
 * counted; the other connections go on (the exit status is 1 at the end).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_tcp_rec.h"
#include "tcp.h"

struct tdir {
	int fd;                     /* -1: not open (yet, or closed to keep FDS_MAX) */
	int made;                   /* its file was created (a reopen does not empty it) */
	uint64_t used_at;           /* the tcat's clock at its last write: the oldest closes */
	uint64_t expect;            /* the next offset this direction should bring */
	int failed;                 /* a write failed: no more are tried */
	char name[128];
};

/* Files open at once, at most: half the process's descriptor limit (RLIMIT_NOFILE, its
 * soft limit raised to the hard one first), FDS_MAX at most. Each direction's stayed open
 * until its CLOSE record (one the ring dropped: for ever), and ordinary traffic ran out of
 * descriptors (1024 open directions: "Too many open files", exit 1). Past the limit, the
 * least recently written is closed and opened again, without emptying it, at its next
 * write (a scan of the table: rare with the limit raised). */
#define FDS_MAX 65536

struct tconn {
	uint64_t id;
	int used;
	int closed[2];
	int failed;                 /* a write of it failed (said once) */
	struct tdir d[2];
};

struct tcat {
	const char *dir;
	struct tconn *c;            /* open addressing by id, n (a power of two) */
	size_t n, count;
	char **names;               /* file names used by earlier connections */
	size_t n_names, cap_names;
	unsigned long long conns, ended, bytes, gaps, gap_bytes, unmarked, bad, failed, lost;
	size_t n_open;              /* directions with a file open (fds_max at most) */
	size_t fds_max;
	uint64_t clock;             /* writes so far: tdir.used_at */
};

static void
dir_close(struct tcat *t, struct tdir *d)
{
	if (d->fd < 0)
		return;
	close(d->fd);
	d->fd = -1;
	t->n_open--;
}

/* Close the least recently written open file (a scan: only when FDS_MAX are open). */
static void
close_oldest(struct tcat *t)
{
	struct tdir *old = NULL;

	for (size_t i = 0; i < t->n; i++)
		for (int k = 0; t->c[i].used && k < 2; k++) {
			struct tdir *d = &t->c[i].d[k];
			if (d->fd >= 0 && (old == NULL || d->used_at < old->used_at))
				old = d;
		}
	if (old != NULL)
		dir_close(t, old);
}

static size_t
slot_of(uint64_t id, size_t n)
{
	id *= 0x9e3779b97f4a7c15ull;
	return (size_t)(id >> 17) & (n - 1);
}

static struct tconn *
find(struct tcat *t, uint64_t id, int make)
{
	size_t i;

	if (make && (t->count + 1) * 2 > t->n) {       /* grow: rehash */
		size_t n = t->n ? t->n * 2 : 64;
		struct tconn *c = calloc(n, sizeof(*c));
		if (c == NULL)
			return NULL;
		for (size_t j = 0; j < t->n; j++)
			if (t->c[j].used) {
				size_t k = slot_of(t->c[j].id, n);
				while (c[k].used)
					k = (k + 1) & (n - 1);
				c[k] = t->c[j];
			}
		free(t->c);
		t->c = c;
		t->n = n;
	}
	if (t->n == 0)
		return NULL;
	for (i = slot_of(id, t->n); t->c[i].used; i = (i + 1) & (t->n - 1))
		if (t->c[i].id == id)
			return &t->c[i];
	if (!make)
		return NULL;
	memset(&t->c[i], 0, sizeof(t->c[i]));
	t->c[i].used = 1;
	t->c[i].id = id;
	t->c[i].d[0].fd = t->c[i].d[1].fd = -1;
	t->count++;
	t->conns++;
	return &t->c[i];
}

/* Remove c (backward-shift deletion). */
static void
forget(struct tcat *t, struct tconn *c)
{
	size_t i = (size_t)(c - t->c), j = i;

	for (int k = 0; k < 2; k++)
		dir_close(t, &c->d[k]);
	for (;;) {
		size_t h;
		j = (j + 1) & (t->n - 1);
		if (!t->c[j].used)
			break;
		h = slot_of(t->c[j].id, t->n);
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			t->c[i] = t->c[j];
			i = j;
		}
	}
	t->c[i].used = 0;
	t->count--;
}

static void
addr(char *out, size_t size, uint8_t ipver, const uint8_t *a, uint16_t port)
{
	if (ipver == 4) {
		snprintf(out, size, "%03u.%03u.%03u.%03u.%05u", a[0], a[1], a[2], a[3], port);
		return;
	}
	/* tcpflow writes an IPv6 address as inet_ntop does (2001:db8::1, RFC 5952), not
	 * eight groups of four digits: the files of every IPv6 connection had other names */
	char v6[INET6_ADDRSTRLEN];

	if (inet_ntop(AF_INET6, a, v6, sizeof(v6)) == NULL)
		snprintf(v6, sizeof(v6), "?");
	snprintf(out, size, "%s.%05u", v6, port);
}

/* Name the direction's file (once): tcpflow's, with c1, c2, ... for a tuple's later connections. */
static void
name_dir(struct tcat *t, struct tdir *d, const struct bl_tcp_rec *r)
{
	char a[64], b[64], base[128];
	unsigned int k = 0;

	if (d->name[0] != '\0')
		return;
	addr(a, sizeof(a), r->ipver, r->src, r->sport);
	addr(b, sizeof(b), r->ipver, r->dst, r->dport);
	/* a VLAN's connections as tcpflow names them: "--VID" after the tuple, before the
	 * c1 of a later connection (the same tuple on two VLANs was one name and its c1) */
	if (r->vlan != 0)
		snprintf(base, sizeof(base), "%s-%s--%u", a, b, r->vlan);
	else
		snprintf(base, sizeof(base), "%s-%s", a, b);
	snprintf(d->name, sizeof(d->name), "%s", base);
	for (;;) {
		size_t i;
		for (i = 0; i < t->n_names && strcmp(t->names[i], d->name) != 0; i++)
			;
		if (i == t->n_names)
			break;
		snprintf(d->name, sizeof(d->name), "%sc%u", base, ++k);
	}
	if (t->n_names == t->cap_names) {
		size_t cap = t->cap_names ? t->cap_names * 2 : 64;
		char **nn = realloc(t->names, cap * sizeof(*nn));
		if (nn == NULL)
			return;
		t->names = nn;
		t->cap_names = cap;
	}
	t->names[t->n_names] = strdup(d->name);
	if (t->names[t->n_names] != NULL)
		t->n_names++;
}

static void
hole(struct tcat *t, const struct tdir *d, uint64_t off, uint64_t len, const char *why)
{
	t->gaps++;
	t->gap_bytes += len;
	fprintf(stderr, "beltline: cat: %s: gap of %llu bytes at offset %llu (%s)\n",
		d->name[0] ? d->name : "?", (unsigned long long)len, (unsigned long long)off, why);
}

/* The direction's file, opened (created, emptied) at its first byte or hole, opened
 * again (kept) after FDS_MAX closed it. 0 or -1. */
static int
dir_open(struct tcat *t, struct tdir *d, const struct bl_tcp_rec *r)
{
	char path[4096];

	name_dir(t, d, r);
	d->used_at = ++t->clock;
	if (d->fd >= 0)
		return 0;
	if (t->n_open >= t->fds_max)
		close_oldest(t);
	snprintf(path, sizeof(path), "%s/%s", t->dir, d->name);
	d->fd = open(path, O_WRONLY | O_CREAT | (d->made ? 0 : O_TRUNC) | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		fprintf(stderr, "beltline: cat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	d->made = 1;
	t->n_open++;
	return 0;
}

/* Write the bytes at the record's offset. A failure (EFBIG: an offset past the file
 * system's or RLIMIT_FSIZE's limit; ENOSPC; no file) gives the direction up: said once
 * for the connection, counted; the program goes on with the others. -1 then. */
static int
put(struct tcat *t, struct tconn *c, struct tdir *d, const struct bl_tcp_rec *r, const void *data,
    uint32_t len)
{
	const char *p = data;
	uint64_t off = r->offset;

	if (d->failed)
		goto lost;
	if (off > (uint64_t)INT64_MAX - len) {
		errno = EFBIG;
		goto fail;
	}
	if (dir_open(t, d, r) < 0)
		goto failed;             /* dir_open said why */
	while (len > 0) {
		ssize_t w = pwrite(d->fd, p, len, (off_t)off);
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		p += w;
		off += (uint64_t)w;
		len -= (uint32_t)w;
	}
	return 0;
fail:
	if (!c->failed)
		fprintf(stderr, "beltline: cat: %s/%s: offset %llu: %s (this connection is not "
			"written any further that way)\n", t->dir, d->name, (unsigned long long)off,
			strerror(errno));
failed:
	if (!c->failed)
		t->failed++;
	c->failed = 1;
	d->failed = 1;
	dir_close(t, d);
lost:
	t->lost += len;
	return -1;
}

/* A record (copied out of the view); *pending: the DATA record whose bytes come next. */
static void
on_rec(struct tcat *t, const struct bl_tcp_rec *r, struct bl_tcp_rec *pending, int *has_pending)
{
	struct tconn *c;
	struct tdir *d;

	if (*has_pending) {          /* its data entry never came: the ring lost it */
		c = find(t, pending->conn, 0);
		if (c != NULL) {
			d = &c->d[pending->dir & 1];
			name_dir(t, d, pending);
			t->unmarked++;
			hole(t, d, pending->offset, pending->length, "data entry lost");
			d->expect = pending->offset + pending->length;
		}
		*has_pending = 0;
	}
	c = find(t, r->conn, r->kind != BL_TCP_CLOSE);
	if (c == NULL)
		return;
	d = &c->d[r->dir & 1];
	switch (r->kind) {
	case BL_TCP_OPEN:
		break;
	case BL_TCP_DATA:
		*pending = *r;
		*has_pending = 1;
		break;
	case BL_TCP_GAP:
		name_dir(t, d, r);
		if (r->offset > d->expect) {
			t->unmarked++;
			hole(t, d, d->expect, r->offset - d->expect, "entries lost");
		}
		hole(t, d, r->offset, r->length, "segment not seen");
		d->expect = r->offset + r->length;
		break;
	case BL_TCP_CLOSE:
		if (r->offset > d->expect) {
			name_dir(t, d, r);
			t->unmarked++;
			hole(t, d, d->expect, r->offset - d->expect, "entries lost");
		}
		dir_close(t, d);
		c->closed[r->dir & 1] = 1;
		if (c->closed[0] && c->closed[1]) {
			forget(t, c);
			t->ended++;
		}
		break;
	default:
		t->bad++;
	}
}

/* A stream that does not say what it holds: entries of payload (class 2) may come before
 * the first record (its record came before our attach), but not this many: a packet
 * stream of class 2 was skipped, every entry "not understood", until killed. */
#define TCP_FIRST_REC_WITHIN 4096u

int
tcp_is_rec(unsigned int cls, const void *entry, size_t len)
{
	struct bl_tcp_rec r;

	if (cls != BL_TCP_CLS_REC || len != sizeof(r))
		return 0;
	memcpy(&r, entry, sizeof(r));
	return r.magic == BL_TCP_REC_MAGIC && r.version == BL_TCP_REC_VERSION &&
	       (r.ipver == 4 || r.ipver == 6);
}

int
tcp_cat(struct beltline_stream *s, const char *dir, unsigned long long limit,
	volatile sig_atomic_t *stop, int verbose)
{
	struct tcat t = { .dir = dir, .fds_max = FDS_MAX };
	struct rlimit rl;
	struct bl_tcp_rec pending;
	struct beltline_pkt v[64];
	static uint8_t seg[262144];   /* a segment's copy: more than any IP packet holds */
	struct beltline_info info = { .sz = sizeof(info) };
	int has_pending = 0, status = 0;
	/* known: a record was understood, or the stream said it holds tcp (then its entries
	 * are not judged by their bytes) */
	int known = beltline_info(s, &info) == 0 && strcmp(info.content, "tcp") == 0;
	unsigned long long looked = 0;   /* entries looked at before the first record */

	memset(&pending, 0, sizeof(pending));
	/* past RLIMIT_FSIZE a write fails with EFBIG, the connection's error, not our end */
	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur / 2 < t.fds_max)
			t.fds_max = rl.rlim_cur / 2 > 8 ? (size_t)(rl.rlim_cur / 2) : 8;
	}
	while (!*stop && (limit == 0 || t.ended < limit)) {
		int n = beltline_peek(s, v, 64);

		if (n == -EAGAIN) {
			struct pollfd p = { .fd = beltline_fd(s), .events = POLLIN };
			poll(&p, 1, 100);
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "beltline: cat: %s\n", strerror(-n));
			status = 1;
		}
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			/* Before the first record: an entry that is neither a record nor
			 * payload (which may come first, its record before our attach) says
			 * this is another kind of stream, whose entries were skipped, each
			 * one "not understood", in silence until the end. */
			if (!known && ((v[i].cls != BL_TCP_CLS_DATA &&
			     !tcp_is_rec(v[i].cls, v[i].data, v[i].caplen) &&
			     beltline_check(s, v[i].seq) == 1) || ++looked > TCP_FIRST_REC_WITHIN)) {
				fprintf(stderr, "beltline: cat: its entries are not tcpstream records: --tcp "
					"reads a `tcpstream ... export=NAME` stream (beltline cat NAME | "
					"tcpdump -r - reads a packet stream)\n");
				status = 1;
				*stop = 1;
				n = i;
				break;
			}
			if (v[i].cls == BL_TCP_CLS_REC) {
				struct bl_tcp_rec r;
				if (!tcp_is_rec(v[i].cls, v[i].data, v[i].caplen)) {
					t.bad++;
					continue;
				}
				memcpy(&r, v[i].data, sizeof(r));
				if (beltline_check(s, v[i].seq) != 1) {
					t.bad++;
					continue;
				}
				known = 1;
				on_rec(&t, &r, &pending, &has_pending);
				if (limit != 0 && t.ended >= limit) {
					n = i + 1;
					break;
				}
			} else if (v[i].cls == BL_TCP_CLS_DATA && has_pending &&
				   v[i].caplen == pending.length && v[i].caplen <= sizeof(seg)) {
				struct tconn *c = find(&t, pending.conn, 1);
				struct tdir *d;

				has_pending = 0;
				if (c == NULL)
					continue;
				d = &c->d[pending.dir & 1];
				name_dir(&t, d, &pending);
				if (pending.offset > d->expect) {
					t.unmarked++;
					hole(&t, d, d->expect, pending.offset - d->expect, "entries lost");
				}
				/* copied, then checked, then written: bytes of an entry overwritten
				 * while we copied them never reach the file (its hole stays zeros) */
				memcpy(seg, v[i].data, v[i].caplen);
				if (beltline_check(s, v[i].seq) != 1) {
					t.unmarked++;
					hole(&t, d, pending.offset, pending.length, "overwritten while read");
				} else if (put(&t, c, d, &pending, seg, v[i].caplen) < 0) {
					status = 1;
				} else {
					t.bytes += pending.length;
				}
				d->expect = pending.offset + pending.length;
			} else {
				t.bad++;
			}
		}
		beltline_release(s, (unsigned)n);
	}
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].used)
			for (int k = 0; k < 2; k++)
				dir_close(&t, &t.c[i].d[k]);
	if (verbose || t.gaps || t.bad || t.failed)
		fprintf(stderr, "beltline: cat: %llu connections (%llu ended), %llu bytes, %llu gaps "
			"(%llu bytes; %llu the stream could not mark), %llu entries not understood, "
			"%llu connections not written whole (%llu bytes not written)\n",
			t.conns, t.ended, t.bytes, t.gaps, t.gap_bytes, t.unmarked, t.bad, t.failed,
			t.lost);
	for (size_t i = 0; i < t.n_names; i++)
		free(t.names[i]);
	free(t.names);
	free(t.c);
	return status;
}
