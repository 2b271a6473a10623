/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap — a recorder: packets into a pcap file (Ethernet, microsecond times)
 * or a pcapng file (format=pcapng: an interface per port, named as the port,
 * nanosecond times, each record with its wire length; bl_pcapng.h), rotating
 * by size, count or time, keeping at most N files. A sink: it frees what it
 * writes.
 *
 * Times and lengths. A packet of a replayed capture keeps its record's time
 * and wire length (bl_mbuf_meta.h); any other gets the time it is written
 * and its pkt_len as wire length.
 *
 * Writing. Records gather in a buffer of the sink's own (512 KiB) and reach
 * the file with one write(2) per burst (more when a burst passes the
 * buffer): nothing waits between bursts, so the counters are exact after
 * each one, and every failure is seen with its errno (libpcap's stdio
 * dumper hid them: a full disk reported everything written). Not for line
 * rate to a slow disk: the worker waits for the write. The buffer is an
 * anonymous mapping of its own, not EAL memory: its pages cost nothing until
 * a burst fills them, and nothing zeroes it when the sink goes (rte_free
 * zeroes what it frees: 109 sinks in EAL memory faulted in and zeroed 55 MiB
 * at every teardown, and integration-bpf_vs_libpcap's appliance runs took
 * 0.69 s instead of 0.45), and it is not taken from memory.size_mb or the
 * hugepages.
 *
 * Failures. A failed or short write loses the records it did not complete:
 * they are counted in errors, and a record cut in half is cut off the file
 * again (ftruncate), so the file stays readable. Then the sink writes nothing
 * for a second (each packet counted in errors) and tries again: the same
 * file, or the next one when a rotation is due, so space freed later is
 * used again. While failing it starts no file: a rotation file whose header
 * cannot be written is removed, and a file with no packet never rotates, so
 * a full disk gets at most one file with a header and nothing else.
 *
 * The log. The worker logs from its error path, at most one line a second
 * per sink (the failures themselves are at most one a second): on a failure
 * whose errno differs from the last line's, every minute while one lasts,
 * and when a write succeeds again; each line names the file, the errno and
 * the packets lost since the previous line. fini says the total if any.
 *
 * Rotation. A file ends before rotate_bytes would be passed, after
 * rotate_packets packets, or at the first packet rotate_s seconds or more after
 * it began (CLOCK_MONOTONIC_COARSE, read once a burst); a file with no packet
 * never rotates. Files are PATH, PATH.1, PATH.2, ...; with keep=N, opening
 * file k removes file k-N (PATH for k = N), so at most N are on disk: a ring
 * as tcpdump -C/-G with -W keeps, with names that keep their order.
 *
 * pcapng. The section header and one interface description per port of the
 * appliance (index = the port's place in the config), plus one named
 * "beltline" for packets no port received (gen, inject), begin every file;
 * a packet's interface is its mbuf's rx port.
 *
 * Files and the build. init creates PATH (O_EXCL) or opens an existing one
 * without truncating it; commit (the graph goes live) truncates it and
 * writes the header. A build rolled back (fini without commit) removes the
 * PATH it created and leaves an existing one as it was. A graph run
 * uncommitted commits at its first burst.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bl_atomic.h"
#include "bl_filter_worker.h"
#include "bl_graph.h"
#include "bl_log.h"
#include "bl_mbuf_meta.h"
#include "bl_pcapng.h"
#include "bl_time.h"

#define SNAPLEN_MAX    262144u               /* libpcap's largest: tcpdump reads no longer record */
#define PCAPW_BUF      (512u * 1024)         /* holds at least one record of any snaplen */
#define PCAPW_FIFO_WAIT_MS 10000u            /* init: the most it waits for a FIFO's reader */
#define BL_NS_S        1000000000ull
#define RETRY_NS       BL_NS_S               /* failing: try the file again after this */
#define LOG_GAP_NS     BL_NS_S               /* at most one log line per ... */
#define LOG_REPEAT_NS  (60 * BL_NS_S)        /* ... and the same error again after this */

struct pcap_file_hdr {
	uint32_t magic;              /* 0xa1b2c3d4 in host order: microseconds */
	uint16_t major, minor;       /* 2.4 */
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};
struct pcap_rec_hdr {
	uint32_t sec, usec;
	uint32_t caplen;             /* bytes that follow */
	uint32_t len;                /* on the wire: the record's (bl_mbuf_meta.h), else pkt_len */
};
_Static_assert(sizeof(struct pcap_file_hdr) == 24, "pcap file header");
_Static_assert(sizeof(struct pcap_rec_hdr) == 16, "pcap record header");
_Static_assert(PCAPW_BUF >= sizeof(struct pcap_rec_hdr) + SNAPLEN_MAX, "a record fits the buffer");
_Static_assert(PCAPW_BUF >= BL_PCAPNG_EPB_HDR + SNAPLEN_MAX + 3 + BL_PCAPNG_EPB_TAIL,
	       "a pcapng record fits the buffer");

enum pcapw_format { PCAPW_PCAP, PCAPW_PCAPNG };
/* pcapng: the section header and an interface per port, plus one for no port */
#define PCAPW_HDR_MAX  (BL_PCAPNG_SHB_MAX + (BL_GRAPH_MAX_PORTS + 1) * BL_PCAPNG_IDB_MAX)

#define REC_HDR ((uint32_t)sizeof(struct pcap_rec_hdr))

struct pcapw {
	/* config, read-only after init */
	char path[PATH_MAX];
	uint64_t rotate_bytes, rotate_packets;
	uint64_t rotate_ns;          /* rotate_s, in ns (0: not by time) */
	uint32_t keep;               /* files kept at most (0: all) */
	uint32_t snaplen;
	uint8_t format;              /* enum pcapw_format */
	uint32_t hdr_len;            /* what begins every file */
	uint8_t hdr[PCAPW_HDR_MAX];
	uint16_t if_of_port[RTE_MAX_ETHPORTS];   /* pcapng: interface index of an rx port */
	uint16_t if_none;            /* pcapng: ... of a packet no port received */
	/* the file: written by init, commit, the worker, then fini (after the worker stopped) */
	char name[PATH_MAX + 16];    /* the file open now, or the one to open next */
	int fd;                      /* -1: none (a rotation failed; name is retried) */
	bool committed;
	bool created;                /* init created name (a rollback removes it) */
	bool regular;                /* a regular file: a cut record can be cut off */
	mode_t mode;                 /* of a file the sink creates (pcapw_open) */
	dev_t dev;                   /* of the file init created */
	ino_t ino;
	uint32_t seq;                /* the next rotation suffix */
	uint64_t file_bytes;         /* whole records in the file, header included (0: no header) */
	uint64_t file_packets;
	uint64_t file_start_ns;      /* when the file began (CLOCK_MONOTONIC_COARSE) */
	uint64_t retry_ns;           /* failing: no I/O before this (CLOCK_MONOTONIC); 0: writing */
	/* the log */
	int logged_errno;            /* what the last line said (0: writing) */
	unsigned int suppressed;     /* lines not printed since */
	uint64_t log_next_ns, log_repeat_ns, logged_errors;
	/* counters: written by the worker (bl_counter_add), read by stats */
	uint64_t written, bytes, files, errors;
	uint64_t last_errno;         /* a gauge: the last failure's errno */
	uint64_t removed;            /* files removed to keep at most `keep` */
	/* this burst's records */
	uint32_t buf_len, buf_pkts;
	uint64_t buf_bytes;          /* their captured bytes */
	uint8_t *buf;                /* PCAPW_BUF bytes, mapped by init (NULL in a dry run) */
};

/* One line on stderr, rate-limited (head comment); e == 0: writing again. */
static __rte_cold void
pcapw_log(struct pcapw *w, int e, const char *op)
{
	uint64_t now = bl_mono_coarse_ns();
	uint64_t lost = w->errors - w->logged_errors;
	char tail[96];

	if (e == 0 && w->logged_errno == 0)
		return;
	if (now < w->log_next_ns || (e == w->logged_errno && now < w->log_repeat_ns)) {
		w->suppressed += e != 0;   /* a recovery is said by a later write */
		return;
	}
	if (w->suppressed != 0)
		snprintf(tail, sizeof(tail), " (%" PRIu64 " packets lost and %u lines suppressed "
			 "since the previous line)", lost, w->suppressed);
	else
		snprintf(tail, sizeof(tail), " (%" PRIu64 " packets lost since the previous line)", lost);
	if (e != 0)
		bl_log(BL_LOG_ERR, "pcap: %s: %s: %s: dropping packets, trying again once a "
			"second%s", w->name, op, strerror(e), tail);
	else
		bl_log(BL_LOG_NOTICE, "pcap: %s: writing again%s", w->name, tail);
	w->logged_errno = e;
	w->logged_errors = w->errors;
	w->suppressed = 0;
	w->log_next_ns = now + LOG_GAP_NS;
	w->log_repeat_ns = now + LOG_REPEAT_NS;
}

/* Stop writing for RETRY_NS; the caller counted what is lost. */
static __rte_cold void
pcapw_fail(struct pcapw *w, int e, const char *op)
{
	w->retry_ns = bl_mono_coarse_ns() + RETRY_NS;
	/* relaxed: a gauge, one writer; pairs with bl_counter_read in pcapw_counters */
	__atomic_store_n(&w->last_errno, (uint64_t)e, __ATOMIC_RELAXED);
	pcapw_log(w, e, op);
}

/* Bytes of p[0..n) written; *e says why fewer. */
static size_t
write_all(int fd, const void *p, size_t n, int *e)
{
	size_t off = 0;

	*e = 0;
	while (off < n) {
		ssize_t r = write(fd, (const uint8_t *)p + off, n - off);
		if (r > 0) {
			off += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			*e = r < 0 ? errno : EIO;
			break;
		}
	}
	return off;
}

/* Cut the file back to its whole records (a regular file; a pipe keeps the piece). */
static __rte_cold void
cut_back(struct pcapw *w)
{
	if (w->regular && (ftruncate(w->fd, (off_t)w->file_bytes) != 0 ||
			   lseek(w->fd, (off_t)w->file_bytes, SEEK_SET) < 0))
		pcapw_log(w, errno, "cutting off a partial record");
}

/* Empty the file and write its header: 0 or -errno (nothing counted, nothing logged). */
static int
pcapw_begin(struct pcapw *w)
{
	int e;

	w->file_bytes = 0;
	w->file_packets = 0;
	if (w->regular && (ftruncate(w->fd, 0) != 0 || lseek(w->fd, 0, SEEK_SET) < 0))
		return -errno;
	if (write_all(w->fd, w->hdr, w->hdr_len, &e) != w->hdr_len) {
		if (w->regular && ftruncate(w->fd, 0) == 0)
			(void)lseek(w->fd, 0, SEEK_SET);
		return -e;
	}
	w->file_bytes = w->hdr_len;
	w->file_start_ns = bl_mono_coarse_ns();
	bl_counter_add(&w->files, 1);
	return 0;
}

/*
 * Whose files the sink writes. One it creates gets memory.packet_mode's read bits and
 * the owner's write, set by fchmod (the umask plays no part): the packets in it are the
 * packet DBuf's, and who may not read that may not read them here either (created 0666,
 * root's usual umask made every capture readable by every user). One that is there
 * already is written only when it is the appliance's user's or root's, with no other
 * name linked to it, and reached through a symbolic link only when the link is theirs
 * too: a name in a folder others may write (config/monitor.json's /tmp/...) that another
 * user made first, as a file or FIFO of their own, got the packets, and as a link to a
 * file of root's had root truncate that file.
 */
static bool
pcapw_owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* What lstat says of an existing name: 0, or -EPERM when it is not ours to write. */
static int
pcapw_name_ok(const char *name)
{
	struct stat st;

	if (lstat(name, &st) != 0)
		return -errno;
	return pcapw_owner_ok(st.st_uid) ? 0 : -EPERM;
}

/*
 * Open name: created (O_EXCL) or existing, never truncated here. -errno on failure
 * (-EPERM: another user's, pcapw_owner_ok). Never blocks for good: a FIFO no process
 * reads yet is waited for at most wait_ms (polled), then -ENXIO. A plain open(O_WRONLY)
 * of one waited for a reader with no limit: a reload that added such a sink held the
 * main lcore in open(2), so the control socket and its tick stopped until a reader came
 * or a signal (init at a start or a reload: PCAPW_FIFO_WAIT_MS; a rotation, on the
 * worker: 0, retried a second later as any failed open). Once open, a FIFO is written
 * blocking, as before.
 */
static int
pcapw_open(struct pcapw *w, bool *created, unsigned int wait_ms)
{
	const struct timespec tick = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
	struct stat st;
	int fd, e;

	*created = true;
	fd = open(w->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && fchmod(fd, w->mode) != 0) {
		e = errno;
		close(fd);
		unlink(w->name);
		return -e;
	}
	if (fd < 0 && errno == EEXIST) {
		*created = false;
		if ((e = pcapw_name_ok(w->name)) != 0)
			return e;
		for (unsigned int waited = 0;; waited += 10) {
			fd = open(w->name, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd >= 0 || errno != ENXIO || waited >= wait_ms)
				break;
			nanosleep(&tick, NULL);
		}
		if (fd >= 0 && (fstat(fd, &st) != 0 || !pcapw_owner_ok(st.st_uid) ||
				(S_ISREG(st.st_mode) && st.st_nlink != 1))) {
			close(fd);   /* what the name leads to: another user's, or linked elsewhere */
			return -EPERM;
		}
		if (fd >= 0) {   /* the writes block as they did (a FIFO): only the open did not */
			int fl = fcntl(fd, F_GETFL);
			if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
				e = errno;
				close(fd);
				return -e;
			}
		}
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		memset(&st, 0, sizeof(st));
	w->regular = S_ISREG(st.st_mode);
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->fd = fd;
	return 0;
}

/* A dry run: could name be opened for writing (or created)? Touches nothing. */
static int
pcapw_check(const char *name)
{
	char dir[sizeof(((struct pcapw *)0)->name)];
	const char *slash = strrchr(name, '/');
	struct stat st;

	if (stat(name, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (pcapw_name_ok(name) != 0 || !pcapw_owner_ok(st.st_uid) ||
		    (S_ISREG(st.st_mode) && st.st_nlink != 1))
			return -EPERM;   /* as pcapw_open will refuse it */
		return access(name, W_OK) == 0 ? 0 : -errno;
	}
	if (errno != ENOENT)
		return -errno;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == name)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
	return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* Remove name if it is still the file this sink created. */
static void
unlink_created(struct pcapw *w)
{
	struct stat st;

	if (stat(w->name, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino)
		unlink(w->name);
}

/* Remove file k of the ring (0: PATH; else PATH.k), counted in removed. */
static __rte_cold void
pcapw_remove(struct pcapw *w, uint32_t k)
{
	char old[PATH_MAX + 16];

	if (k == 0)
		snprintf(old, sizeof(old), "%s", w->path);
	else
		snprintf(old, sizeof(old), "%s.%u", w->path, k);
	if (unlink(old) == 0)
		bl_counter_add(&w->removed, 1);
	else if (errno != ENOENT)   /* someone took it already: nothing to say */
		fprintf(stderr, "beltlined: pcap: %s: cannot remove it to keep %u files: %s\n", old,
			w->keep, strerror(errno));
}

/* The next rotation file, with its header; on failure none is left behind. */
static __rte_cold int
pcapw_open_next(struct pcapw *w)
{
	bool created;
	int rc;

	snprintf(w->name, sizeof(w->name), "%s.%u", w->path, w->seq);
	if ((rc = pcapw_open(w, &created, 0)) != 0) {
		pcapw_fail(w, -rc, "open");
		return rc;
	}
	if ((rc = pcapw_begin(w)) != 0) {
		if (created)
			unlink_created(w);
		close(w->fd);
		w->fd = -1;
		pcapw_fail(w, -rc, "write");
		return rc;
	}
	if (w->keep != 0 && w->seq >= w->keep)   /* files 0..seq are there: one too many */
		pcapw_remove(w, w->seq - w->keep);
	w->seq++;
	return 0;
}

/* Write this burst's records. On failure the ones lost are counted. */
static int
pcapw_flush(struct pcapw *w)
{
	uint64_t pkts = w->buf_pkts, bytes = w->buf_bytes;
	size_t done, whole;
	int e;

	done = write_all(w->fd, w->buf, w->buf_len, &e);
	whole = done;
	if (unlikely(done != w->buf_len)) {
		/* Which records are whole in the file: walk their headers (pcap: the
		 * caplen at offset 8; pcapng: the block's length at 4, caplen at 20). */
		const uint32_t hdr = w->format == PCAPW_PCAPNG ? BL_PCAPNG_EPB_HDR : REC_HDR;
		pkts = bytes = whole = 0;
		while (whole + hdr <= done) {
			uint32_t caplen, size;
			if (w->format == PCAPW_PCAPNG) {
				memcpy(&size, w->buf + whole + 4, 4);
				memcpy(&caplen, w->buf + whole + 20, 4);
			} else {
				memcpy(&caplen, w->buf + whole + 8, 4);
				size = REC_HDR + caplen;
			}
			if (whole + size > done)
				break;
			whole += size;
			bytes += caplen;
			pkts++;
		}
	}
	w->file_bytes += whole;
	w->file_packets += pkts;
	bl_counter_add(&w->written, pkts);
	bl_counter_add(&w->bytes, bytes);
	w->buf_bytes = 0;
	if (likely(done == w->buf_len)) {
		w->buf_len = w->buf_pkts = 0;
		if (unlikely(w->logged_errno != 0))
			pcapw_log(w, 0, NULL);
		return 0;
	}
	bl_counter_add(&w->errors, w->buf_pkts - pkts);
	w->buf_len = w->buf_pkts = 0;
	if (done > whole)
		cut_back(w);
	pcapw_fail(w, e, "write");
	return -1;
}

static int
pcapw_rotate(struct pcapw *w)
{
	if (w->buf_len > 0 && pcapw_flush(w) != 0)
		return -1;
	close(w->fd);
	w->fd = -1;
	return pcapw_open_next(w);
}

/* Failing: true once a second has passed and the file is ready again. */
static __rte_cold bool
pcapw_resume(struct pcapw *w)
{
	int rc;

	if (bl_mono_coarse_ns() < w->retry_ns)
		return false;
	w->retry_ns = 0;
	if (w->fd < 0)
		return pcapw_open_next(w) == 0;
	if (w->file_bytes == 0 && (rc = pcapw_begin(w)) != 0) {
		pcapw_fail(w, -rc, "write");
		return false;
	}
	return true;
}

/* What begins every file: pcap's file header, or pcapng's section and interfaces. */
static void
pcapw_header(struct pcapw *w, const struct bl_graph_env *env)
{
	const struct pcap_file_hdr h = {
		.magic = 0xa1b2c3d4, .major = 2, .minor = 4, .snaplen = w->snaplen, .linktype = 1,
	};
	unsigned int n_if = RTE_MIN(env->n_ports, (unsigned int)BL_GRAPH_MAX_PORTS);

	if (w->format == PCAPW_PCAP) {
		memcpy(w->hdr, &h, sizeof(h));
		w->hdr_len = sizeof(h);
		return;
	}
	w->hdr_len = bl_pcapng_shb(w->hdr, "beltlined");
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		w->if_of_port[i] = (uint16_t)n_if;
	for (unsigned int p = 0; p < n_if; p++) {
		w->hdr_len += bl_pcapng_idb(w->hdr + w->hdr_len, env->ports[p].name, 1, w->snaplen);
		if (env->ports[p].port_id < RTE_MAX_ETHPORTS)
			w->if_of_port[env->ports[p].port_id] = (uint16_t)p;
	}
	w->hdr_len += bl_pcapng_idb(w->hdr + w->hdr_len, "beltline", 1, w->snaplen);
	w->if_none = (uint16_t)n_if;
}

static int
pcapw_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "file", "rotate_bytes", "rotate_packets", "snaplen",
		"format", "rotate_s", "keep", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct pcapw *w = bl_filter_priv(f);
	const char *file = NULL, *format = "pcap";
	uint32_t rotate_s = 0;
	int rc;

	w->fd = -1;
	w->snaplen = 65535;
	w->seq = 1;
	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "file", &file, err) < 0 ||
	    bl_args_u64(args, "rotate_bytes", 1024, UINT64_MAX, &w->rotate_bytes, err) < 0 ||
	    bl_args_u64(args, "rotate_packets", 1, UINT64_MAX, &w->rotate_packets, err) < 0 ||
	    bl_args_u32(args, "rotate_s", 1, 31u * 86400, &rotate_s, err) < 0 ||
	    bl_args_u32(args, "keep", 1, 1000000, &w->keep, err) < 0 ||
	    bl_args_str(args, "format", &format, err) < 0 ||
	    bl_args_u32(args, "snaplen", 64, SNAPLEN_MAX, &w->snaplen, err) < 0)
		return -EINVAL;
	if (file == NULL || file[0] == '\0')
		return bl_err_set(err, -EINVAL, "file: required (pcap file=PATH)");
	if (strcmp(format, "pcap") == 0)
		w->format = PCAPW_PCAP;
	else if (strcmp(format, "pcapng") == 0)
		w->format = PCAPW_PCAPNG;
	else
		return bl_err_set(err, -EINVAL, "format: \"pcap\" or \"pcapng\", got \"%s\"", format);
	w->rotate_ns = (uint64_t)rotate_s * BL_NS_S;
	if (w->keep != 0 && w->rotate_bytes == 0 && w->rotate_packets == 0 && w->rotate_ns == 0)
		return bl_err_set(err, -EINVAL, "keep: needs a rotation (rotate_bytes, rotate_packets "
				  "or rotate_s): one file is all there is");
	pcapw_header(w, env);
	w->mode = 0600 | ((mode_t)env->pkt_mode & 0044);   /* pcapw_open */
	if (env->n_replicas > 1)
		snprintf(w->path, sizeof(w->path), "%s-r%u", file, env->replica);
	else
		snprintf(w->path, sizeof(w->path), "%s", file);
	snprintf(w->name, sizeof(w->name), "%s", w->path);
	if (bl_graph_dry(f)) {
		rc = pcapw_check(w->name);
	} else {
		void *buf = mmap(NULL, PCAPW_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		if (buf == MAP_FAILED)
			return bl_err_set(err, -ENOMEM, "no memory for a %u KiB buffer: %s",
					  PCAPW_BUF / 1024, strerror(errno));
		w->buf = buf;
		if ((rc = pcapw_open(w, &w->created, PCAPW_FIFO_WAIT_MS)) != 0) {
			munmap(w->buf, PCAPW_BUF);   /* a failed init gets no fini */
			w->buf = NULL;
		}
	}
	if (rc == -ENXIO)
		return bl_err_set(err, -EIO, "file: \"%s\" is a FIFO that no process reads (waited "
				  "%u s for one): start its reader first", w->name,
				  PCAPW_FIFO_WAIT_MS / 1000);
	if (rc == -EPERM)
		return bl_err_set(err, -EIO, "file: \"%s\" is there already and is another user's "
				  "than the appliance's or root's (or a link of theirs, or has other "
				  "names linked to it): not written; remove it, or name another file",
				  w->name);
	if (rc != 0)
		return bl_err_set(err, -EIO, "file: cannot open \"%s\" for writing: %s", w->name,
				  strerror(-rc));
	return 0;
}

static void
pcapw_commit(struct bl_filter *f)
{
	struct pcapw *w = bl_filter_priv(f);
	int rc;

	if (w->committed)
		return;
	w->committed = true;
	if ((rc = pcapw_begin(w)) != 0)
		pcapw_fail(w, -rc, "write");   /* tried again at the first burst a second later */
}

static void
pcapw_fini(struct bl_filter *f)
{
	struct pcapw *w = bl_filter_priv(f);

	if (w->errors != 0)
		bl_log(BL_LOG_ERR, "pcap: %s: %" PRIu64 " packets were not written in all "
			"(last error: %s)", w->path, w->errors, strerror((int)w->last_errno));
	if (w->buf != NULL)
		munmap(w->buf, PCAPW_BUF);
	w->buf = NULL;
	if (w->fd < 0)
		return;
	if (!w->committed && w->created)
		unlink_created(w);   /* rolled back: as if never built */
	close(w->fd);
	w->fd = -1;
}

/* A record's size in the file for cap captured bytes (at most: a chain may hold less). */
static inline uint32_t
pcapw_rec_size(const struct pcapw *w, uint32_t cap)
{
	return w->format == PCAPW_PCAPNG ? bl_pcapng_epb_size(cap) : REC_HDR + cap;
}

static inline void
pcapw_put(struct pcapw *w, const struct rte_mbuf *m, uint32_t cap, const struct timespec *ts)
{
	const uint32_t hdr = w->format == PCAPW_PCAPNG ? BL_PCAPNG_EPB_HDR : REC_HDR;
	uint8_t *rec = w->buf + w->buf_len;
	uint64_t t = (uint64_t)ts->tv_sec * BL_NS_S + (uint64_t)ts->tv_nsec;
	uint32_t caplen = 0;

	if (bl_mbuf_meta_has(m))   /* a replayed record keeps its own time */
		t = RTE_MBUF_DYNFIELD(m, bl_mbuf_meta_off, const struct bl_mbuf_meta *)->ts_ns;

	/* Gather the segments; a chain holding less than pkt_len gives a shorter
	 * caplen rather than a read past its end. */
	for (const struct rte_mbuf *s = m; s != NULL && caplen < cap; s = s->next) {
		uint32_t k = RTE_MIN((uint32_t)s->data_len, cap - caplen);
		memcpy(rec + hdr + caplen, rte_pktmbuf_mtod(s, const uint8_t *), k);
		caplen += k;
	}
	if (w->format == PCAPW_PCAPNG) {
		uint32_t if_id = m->port < RTE_MAX_ETHPORTS ? w->if_of_port[m->port] : w->if_none;
		w->buf_len += bl_pcapng_epb_head(rec, if_id, t, caplen, bl_mbuf_wire_len(m));
		bl_pcapng_epb_tail(rec, caplen);
	} else {
		struct pcap_rec_hdr h = {
			.sec = (uint32_t)(t / BL_NS_S), .usec = (uint32_t)(t % BL_NS_S / 1000),
			.caplen = caplen, .len = bl_mbuf_wire_len(m),
		};
		memcpy(rec, &h, REC_HDR);
		w->buf_len += REC_HDR + caplen;
	}
	w->buf_bytes += caplen;
	w->buf_pkts++;
}

static void
pcapw_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct pcapw *w = bl_filter_priv(f);
	struct timespec ts;
	uint64_t now = 0;
	uint16_t i = 0;

	if (unlikely(!w->committed))
		pcapw_commit(f);
	if (unlikely(w->retry_ns != 0) && !pcapw_resume(w))
		goto out;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (w->rotate_ns != 0)
		now = bl_mono_coarse_ns();
	for (; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t cap = RTE_MIN(m->pkt_len, w->snaplen);
		uint64_t in_file = w->file_packets + w->buf_pkts;

		if ((w->rotate_packets != 0 && in_file >= w->rotate_packets) ||
		    (w->rotate_bytes != 0 && in_file > 0 &&
		     w->file_bytes + w->buf_len + pcapw_rec_size(w, cap) > w->rotate_bytes) ||
		    (w->rotate_ns != 0 && in_file > 0 && now - w->file_start_ns >= w->rotate_ns)) {
			if (pcapw_rotate(w) != 0)
				break;
		}
		if (w->buf_len + pcapw_rec_size(w, cap) > PCAPW_BUF && pcapw_flush(w) != 0)
			break;
		pcapw_put(w, m, cap, &ts);
	}
	if (w->buf_len > 0)
		pcapw_flush(w);   /* counts what it loses */
out:
	if (i < n)
		bl_counter_add(&w->errors, (uint64_t)(n - i));
	rte_pktmbuf_free_bulk(pkts, n);
}

static const struct bl_counter_def pcapw_counters[] = {
	BL_COUNTER(struct pcapw, written, "written",
		   "packets in the files (counted once write(2) took them)"),
	BL_COUNTER(struct pcapw, bytes, "bytes", "their captured bytes"),
	BL_COUNTER(struct pcapw, files, "files", "files begun"),
	BL_COUNTER(struct pcapw, errors, "errors",
		   "packets not written: cut by a failed or short write, or dropped while a file "
		   "cannot be written or opened (tried again once a second; the errno is logged, at "
		   "most one line a second); written + errors = in"),
	BL_GAUGE(struct pcapw, last_errno, "last_errno", "the errno of the last failure (0: none)"),
	BL_COUNTER(struct pcapw, removed, "removed", "files removed to keep at most keep= of them"),
};

BL_FILTER_REGISTER(pcap) = {
	.summary = "write packets to a pcap or pcapng file, rotating by size, count or time",
	.synopsis = "pcap file=PATH [format=pcap|pcapng] [rotate_bytes=N] [rotate_packets=N] "
		    "[rotate_s=S] [keep=N] [snaplen=N]",
	.args_doc = "file: where to write (required); rotations go to PATH.1, PATH.2, ...; "
		    "truncated only when the graph goes live, removed if the build fails; a FIFO "
		    "(tcpdump -r reading it) is waited for at most 10 s to have a reader, then "
		    "refused, and is written blocking, so its reader sets the pace; a file it "
		    "creates has memory.packet_mode's read bits and the owner's write, whatever "
		    "the umask; one that is there already (or a symbolic link) is written only "
		    "when it is the appliance's user's or root's, with no other hard link\n"
		    "format: pcap (default: microsecond times) or pcapng (an interface per port, "
		    "named as the port, plus \"beltline\" for packets no port received; "
		    "nanosecond times; the wire length in every record)\n"
		    "rotate_bytes: start a new file before this size is passed (>= 1024)\n"
		    "rotate_packets: start a new file after this many packets\n"
		    "rotate_s: start a new file at the first packet this many seconds or more after "
		    "the file began (1..2678400)\n"
		    "keep: keep at most this many files, removing the oldest (a ring, as tcpdump -W; "
		    "needs a rotation)\n"
		    "snaplen: bytes kept of each packet (64..262144, default 65535)",
	.edges_doc = "none: a sink",
	.state_doc = "per-replica: replica i of n > 1 writes PATH-rI",
	.flags = BL_FILTER_F_SINK | BL_FILTER_F_SPLIT,
	.priv_size = sizeof(struct pcapw),
	.init = pcapw_init,
	.fini = pcapw_fini,
	.commit = pcapw_commit,
	.process = pcapw_process,
	BL_FILTER_COUNTERS(pcapw_counters),
};
