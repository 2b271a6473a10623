/* SPDX-License-Identifier: BSD-3-Clause */
/* capfile — pcap and pcapng files of `beltline cat`, rotated and kept (capfile.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bl_pcapng.h"
#include "bl_time.h"
#include "capfile.h"

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, nsec, caplen, len;
};

static int
to_stdout(const struct capfile *c)
{
	return c->path == NULL || strcmp(c->path, "-") == 0;
}

static void
file_name(const struct capfile *c, uint32_t k, char *buf, size_t size)
{
	if (k == 0)
		snprintf(buf, size, "%s", c->path);
	else
		snprintf(buf, size, "%s.%u", c->path, k);
}

static int
put(struct capfile *c, const void *p, size_t n)
{
	if (fwrite(p, 1, n, c->fp) != n) {
		int e = errno ? errno : EIO;
		if (e != EPIPE) {
			char name[PATH_MAX + 16];
			if (to_stdout(c))
				snprintf(name, sizeof(name), "stdout");
			else
				file_name(c, c->seq - 1, name, sizeof(name));
			fprintf(stderr, "beltline: cat: writing %s: %s\n", name, strerror(e));
		}
		return -e;
	}
	c->file_bytes += n;
	return 0;
}

static int
header(struct capfile *c)
{
	uint8_t b[BL_PCAPNG_SHB_MAX + BL_PCAPNG_IDB_MAX];
	uint32_t n;

	c->file_bytes = c->file_pkts = 0;
	c->start_ns = bl_mono_ns();
	c->files++;
	if (c->format == CAPFILE_PCAP) {
		const struct pcap_file_hdr h = { .magic = 0xa1b23c4d, .major = 2, .minor = 4,
			.snaplen = c->snaplen, .linktype = c->linktype };
		return put(c, &h, sizeof(h));
	}
	n = bl_pcapng_shb(b, "beltline");
	n += bl_pcapng_idb(b + n, c->ifname != NULL ? c->ifname : "beltline",
			   (uint16_t)c->linktype, c->snaplen);
	return put(c, b, n);
}

/* Open file c->seq (PATH, PATH.1, ...) and write its header; remove the one past `keep`. */
static int
next_file(struct capfile *c)
{
	char name[PATH_MAX + 16];
	int rc;

	file_name(c, c->seq, name, sizeof(name));
	c->fp = fopen(name, "wb");
	if (c->fp == NULL) {
		rc = -errno;
		fprintf(stderr, "beltline: cat: cannot open %s for writing: %s\n", name, strerror(-rc));
		return rc;
	}
	c->seq++;
	if ((rc = header(c)) != 0)
		return rc;
	if (c->keep != 0 && c->seq > c->keep) {   /* files 0..seq-1 exist: one too many */
		file_name(c, c->seq - 1 - c->keep, name, sizeof(name));
		if (unlink(name) == 0)
			c->removed++;
		else if (errno != ENOENT)
			fprintf(stderr, "beltline: cat: cannot remove %s to keep %u files: %s\n", name,
				c->keep, strerror(errno));
	}
	return 0;
}

int
capfile_open(struct capfile *c)
{
	c->seq = 0;
	c->files = c->removed = 0;
	if (to_stdout(c)) {
		c->fp = stdout;
		return header(c);
	}
	return next_file(c);
}

static int
close_file(struct capfile *c)
{
	int rc = 0;

	if (c->fp == NULL)
		return 0;
	if (c->fp == stdout) {
		if (fflush(stdout) != 0 && errno != EPIPE) {
			rc = -errno;
			fprintf(stderr, "beltline: cat: writing stdout: %s\n", strerror(errno));
		}
	} else if (fclose(c->fp) != 0) {
		char name[PATH_MAX + 16];
		rc = -errno;
		file_name(c, c->seq - 1, name, sizeof(name));
		fprintf(stderr, "beltline: cat: writing %s: %s\n", name, strerror(-rc));
	}
	c->fp = NULL;
	return rc;
}

int
capfile_write(struct capfile *c, const void *data, uint32_t caplen, uint32_t len, uint64_t ts_ns)
{
	uint32_t size = c->format == CAPFILE_PCAPNG ? bl_pcapng_epb_size(caplen) :
		(uint32_t)sizeof(struct pcap_rec_hdr) + caplen;
	int rc;

	if (!to_stdout(c) && c->file_pkts > 0 &&
	    ((c->rotate_bytes != 0 && c->file_bytes + size > c->rotate_bytes) ||
	     (c->rotate_ns != 0 && bl_mono_ns() - c->start_ns >= c->rotate_ns))) {
		if ((rc = close_file(c)) != 0 || (rc = next_file(c)) != 0)
			return rc;
	}
	if (c->format == CAPFILE_PCAPNG) {
		uint8_t h[BL_PCAPNG_EPB_HDR], tail[8];
		bl_pcapng_epb_head(h, 0, ts_ns, caplen, len);
		/* the tail: padding, then the length, as bl_pcapng_epb_tail lays it out */
		memset(tail, 0, sizeof(tail));
		memcpy(tail + bl_pcapng_pad4(caplen) - caplen, &size, 4);
		if ((rc = put(c, h, sizeof(h))) != 0 || (rc = put(c, data, caplen)) != 0 ||
		    (rc = put(c, tail, bl_pcapng_pad4(caplen) - caplen + 4)) != 0)
			return rc;
	} else {
		struct pcap_rec_hdr h = { .sec = (uint32_t)(ts_ns / 1000000000ull),
			.nsec = (uint32_t)(ts_ns % 1000000000ull), .caplen = caplen, .len = len };
		if ((rc = put(c, &h, sizeof(h))) != 0 || (rc = put(c, data, caplen)) != 0)
			return rc;
	}
	c->file_pkts++;
	return 0;
}

int
capfile_close(struct capfile *c)
{
	return close_file(c);
}
