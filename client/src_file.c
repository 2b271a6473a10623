/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_file — a pcap or pcapng file as a stream (libpcap), so a program tested on
 * a capture runs live unchanged. Packets are copied once out of libpcap into a
 * small queue so that a peek can hold several views at once; nothing ever
 * overwrites them, so check() is always 1. The pollable fd is an eventfd holding
 * 1 that nobody drains: always readable.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beltline_priv.h"


/* The LINKTYPE_ of a libpcap DLT_ (what beltline_info.linktype says and a pcap file
 * written from it must carry): the same number but for the few whose DLT_ differs by
 * platform (DLT_RAW is 12 on Linux; a file says 101). */
static int
linktype_of(int dlt)
{
	switch (dlt) {
	case DLT_ATM_RFC1483: return 100;
	case DLT_RAW: return 101;
	case DLT_SLIP_BSDOS: return 102;
	case DLT_PPP_BSDOS: return 103;
	default: return dlt;
	}
}
int
blc_file_open(struct beltline_stream *s, const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct stat sb;
	pcap_t *p;

	if (stat(path, &sb) < 0) {
		int e = errno;
		blc_log(BELTLINE_LOG_ERROR, "%s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISDIR(sb.st_mode)) {
		blc_log(BELTLINE_LOG_ERROR, "%s: is a directory, not a pcap file", path);
		return -EISDIR;
	}
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (p == NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: not a pcap file libpcap can read: %s", path, ebuf);
		return -EPROTO;
	}
	s->poll_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->poll_fd < 0) {
		int e = errno;
		pcap_close(p);
		return -e;
	}
	s->f.pcap = p;
	s->linktype = linktype_of(pcap_datalink(p));
	s->snaplen = (uint32_t)pcap_snapshot(p);
	blc_log(BELTLINE_LOG_DEBUG, "%s: pcap file, linktype %d, snaplen %u", path, s->linktype,
		s->snaplen);
	return 0;
}

/* Buffer one more packet from libpcap. 1, 0 at the end, or -errno. */
static int
file_fill(struct beltline_stream *s)
{
	struct blc_file *f = &s->f;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct blc_fpkt *q;
	int rc;

	if (f->eof)
		return f->err;      /* a truncated file stays an error, not an end */
	rc = pcap_next_ex(f->pcap, &h, &data);
	if (rc == PCAP_ERROR_BREAK) {
		f->eof = 1;
		return 0;
	}
	if (rc != 1) {
		/* counted from 1, as tcpdump and capinfos count (it said "packet 4" of the
		 * fifth, after four read whole) */
		blc_log(BELTLINE_LOG_ERROR, "%s: record %llu (the %llu before it read whole): %s",
			s->name, (unsigned long long)f->next_seq + 1, (unsigned long long)f->next_seq,
			pcap_geterr(f->pcap));
		f->eof = 1;
		f->err = -EPROTO;
		return -EPROTO;
	}
	if (f->nq == f->capq) {
		unsigned cap = f->capq ? f->capq * 2 : 8;
		struct blc_fpkt *nqv = realloc(f->q, cap * sizeof(*nqv));
		if (nqv == NULL)
			return -ENOMEM;
		memset(nqv + f->capq, 0, (cap - f->capq) * sizeof(*nqv));
		f->q = nqv;
		f->capq = cap;
	}
	q = &f->q[f->nq];
	if (q->bufsz < h->caplen || q->buf == NULL) {   /* never NULL: a 0-byte record too */
		uint8_t *b = realloc(q->buf, h->caplen != 0 ? h->caplen : 1);
		if (b == NULL)
			return -ENOMEM;
		q->buf = b;
		q->bufsz = h->caplen;
	}
	memcpy(q->buf, data, h->caplen);
	q->v.data = q->buf;
	q->v.caplen = h->caplen;
	q->v.len = h->len > h->caplen ? h->len : h->caplen;
	q->v.seq = f->next_seq++;
	/* opened with nanosecond precision: tv_usec holds nanoseconds */
	q->v.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	q->v.cls = 0;
	q->v.flags = BELTLINE_PKT_F_TS;
	q->v.pad = 0;
	f->nq++;
	return 1;
}

static int
file_peek(struct beltline_stream *s, struct beltline_pkt *v, unsigned n)
{
	struct blc_file *f = &s->f;
	int rc = 0;

	while (f->nq < n && (rc = file_fill(s)) > 0)
		;
	if (rc < 0 && f->nq == 0)
		return rc;
	if (n > f->nq)
		n = f->nq;
	for (unsigned i = 0; i < n; i++)
		v[i] = f->q[i].v;
	return (int)n;
}

static int
file_release(struct beltline_stream *s, unsigned n)
{
	struct blc_file *f = &s->f;
	struct blc_fpkt tmp[BLC_MAX_BURST];

	if (n > f->nq)
		return -EINVAL;
	/* rotate the released slots (and their buffers) to the back for reuse */
	memcpy(tmp, f->q, n * sizeof(*tmp));
	memmove(f->q, f->q + n, (f->nq - n) * sizeof(*tmp));
	memcpy(f->q + (f->nq - n), tmp, n * sizeof(*tmp));
	f->nq -= n;
	return 0;
}

static void
file_close(struct beltline_stream *s)
{
	struct blc_file *f = &s->f;

	for (unsigned i = 0; i < f->capq; i++)
		free(f->q[i].buf);
	free(f->q);
	if (f->pcap != NULL)
		pcap_close(f->pcap);
}

const struct blc_src_ops blc_file_ops = {
	.peek = file_peek,
	.release = file_release,
	.close = file_close,
};
