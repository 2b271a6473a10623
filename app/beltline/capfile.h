/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capfile — what `beltline cat` writes: pcap (nanosecond times) or pcapng
 * (bl_pcapng.h: one interface named after the stream, nanosecond times, the
 * wire length in every record), on stdout or into files rotated by size or
 * time, keeping at most N of them (tcpdump's -C, -G, -W). Files are PATH,
 * PATH.1, PATH.2, ...; keeping N, opening file k removes file k-N.
 */
#ifndef BL_CLI_CAPFILE_H
#define BL_CLI_CAPFILE_H

#include <stdint.h>
#include <stdio.h>

enum capfile_format { CAPFILE_PCAP, CAPFILE_PCAPNG };

struct capfile {
	/* set by the caller before capfile_open */
	const char *path;          /* NULL or "-": stdout, never rotated */
	enum capfile_format format;
	uint32_t snaplen;
	uint32_t linktype;
	const char *ifname;        /* pcapng: the interface's name */
	uint64_t rotate_bytes;     /* 0: not by size */
	uint64_t rotate_ns;        /* 0: not by time */
	uint32_t keep;             /* 0: every file */
	/* state */
	FILE *fp;
	uint32_t seq;              /* the next file's suffix */
	uint64_t file_bytes, file_pkts, start_ns;
	uint64_t files, removed;
};

/* Open the first file (or stdout) and write its header. 0, or -errno after saying why. */
int capfile_open(struct capfile *c);

/* One record; rotates first when one is due. 0, or -errno after saying why (EPIPE: quietly). */
int capfile_write(struct capfile *c, const void *data, uint32_t caplen, uint32_t len,
		  uint64_t ts_ns);

/* Flush and close. 0, or -errno after saying why. */
int capfile_close(struct capfile *c);

#endif /* BL_CLI_CAPFILE_H */
