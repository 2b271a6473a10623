/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap — write packets to a pcap file (Ethernet), rotating to FILE.1, FILE.2,
 * ... when a file reaches a size or a packet count. A sink: it frees what it
 * writes. The writes are buffered stdio on the worker lcore: fine for a
 * recorder or a test, not for line rate to a slow disk.
 * synopsis: pcap file=PATH [rotate_bytes=N] [rotate_packets=N] [snaplen=N]
 * edges:    none (a sink)
 * counters: written, bytes, files, errors (a write or open failed: packet dropped)
 * state:    per-replica: replica i of n > 1 writes PATH-rI
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "bl_filter_worker.h"
#include "bl_graph.h"

#define PCAP_FILE_HEADER 24   /* bytes before the first record */
#define PCAP_REC_HEADER  16   /* bytes before each packet */

struct pcapw {
	char path[PATH_MAX];
	pcap_t *dead;
	pcap_dumper_t *out;
	uint64_t rotate_bytes, rotate_packets, in_file_bytes, in_file_packets;
	uint32_t snaplen;
	uint32_t seq;                 /* the next rotation suffix */
	uint64_t written, bytes, files, errors;   /* (w) this lcore */
	uint8_t buf[65536];           /* gathers chained mbufs */
};

static int
open_file(struct pcapw *w, struct bl_err *err)
{
	char name[PATH_MAX + 16];

	if (w->seq == 0)
		snprintf(name, sizeof(name), "%s", w->path);
	else
		snprintf(name, sizeof(name), "%s.%u", w->path, w->seq);
	w->out = pcap_dump_open(w->dead, name);
	if (w->out == NULL)
		return bl_err_set(err, -EIO, "file: cannot open \"%s\" for writing: %s", name,
				  pcap_geterr(w->dead));
	w->seq++;
	w->in_file_bytes = PCAP_FILE_HEADER;   /* the file's size, so rotate_bytes bounds it */
	w->in_file_packets = 0;
	__atomic_store_n(&w->files, w->files + 1, __ATOMIC_RELAXED);
	return 0;
}

static int
pcapw_init(struct bl_filter *f, const struct bl_args *args, struct bl_err *err)
{
	static const char *const keys[] = { "file", "rotate_bytes", "rotate_packets", "snaplen", NULL };
	const struct bl_graph_env *env = bl_graph_env(f);
	struct pcapw *w = bl_filter_priv(f);
	const char *file = NULL;

	w->snaplen = 65535;
	if (bl_args_only(args, keys, false, err) < 0 || bl_args_str(args, "file", &file, err) < 0 ||
	    bl_args_u64(args, "rotate_bytes", 1024, UINT64_MAX, &w->rotate_bytes, err) < 0 ||
	    bl_args_u64(args, "rotate_packets", 1, UINT64_MAX, &w->rotate_packets, err) < 0 ||
	    bl_args_u32(args, "snaplen", 64, 65535, &w->snaplen, err) < 0)
		return -EINVAL;
	if (file == NULL || file[0] == '\0')
		return bl_err_set(err, -EINVAL, "file: required (pcap file=PATH)");
	if (env->n_replicas > 1)
		snprintf(w->path, sizeof(w->path), "%s-r%u", file, env->replica);
	else
		snprintf(w->path, sizeof(w->path), "%s", file);
	w->dead = pcap_open_dead(DLT_EN10MB, (int)w->snaplen);
	if (w->dead == NULL)
		return bl_err_set(err, -ENOMEM, "file: libpcap could not start");
	if (open_file(w, err) != 0) {
		pcap_close(w->dead);
		return -EIO;
	}
	return 0;
}

static void
pcapw_fini(struct bl_filter *f)
{
	struct pcapw *w = bl_filter_priv(f);

	if (w->out != NULL)
		pcap_dump_close(w->out);
	pcap_close(w->dead);
}

static void
pcapw_process(struct bl_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	struct pcapw *w = bl_filter_priv(f);
	struct pcap_pkthdr h;
	struct timespec ts;
	uint64_t ok = 0, bytes = 0, bad = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t cap = RTE_MIN(m->pkt_len, w->snaplen);
		const void *d;

		if ((w->rotate_packets != 0 && w->in_file_packets >= w->rotate_packets) ||
		    (w->rotate_bytes != 0 && w->in_file_bytes + cap + PCAP_REC_HEADER > w->rotate_bytes &&
		     w->in_file_packets > 0)) {
			pcap_dump_close(w->out);
			w->out = NULL;
			if (open_file(w, NULL) != 0) {
				bad += n - i;
				break;
			}
		}
		if (w->out == NULL) {
			bad += n - i;
			break;
		}
		d = rte_pktmbuf_read(m, 0, cap, w->buf);
		h.caplen = cap;
		h.len = m->pkt_len;
		pcap_dump((u_char *)w->out, &h, d);
		w->in_file_packets++;
		w->in_file_bytes += cap + PCAP_REC_HEADER;
		ok++;
		bytes += cap;
	}
	rte_pktmbuf_free_bulk(pkts, n);
	/* relaxed: single writer; pairs with the loads in pcapw_counters */
	__atomic_store_n(&w->written, w->written + ok, __ATOMIC_RELAXED);
	__atomic_store_n(&w->bytes, w->bytes + bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&w->errors, w->errors + bad, __ATOMIC_RELAXED);
}

static void
pcapw_stop(struct bl_filter *f)
{
	struct pcapw *w = bl_filter_priv(f);

	if (w->out != NULL)
		pcap_dump_flush(w->out);
}

static const struct bl_counter_def pcapw_counters[] = {
	BL_COUNTER(struct pcapw, written, "written", "packets written"),
	BL_COUNTER(struct pcapw, bytes, "bytes", "their bytes as captured (snaplen)"),
	BL_COUNTER(struct pcapw, files, "files", "files opened (rotations + 1)"),
	BL_COUNTER(struct pcapw, errors, "errors", "a file could not be opened: packets dropped"),
};

BL_FILTER_REGISTER(pcap) = {
	.summary = "write packets to a pcap file, rotating by size or count",
	.synopsis = "pcap file=PATH [rotate_bytes=N] [rotate_packets=N] [snaplen=N]",
	.args_doc = "file: where to write (required); rotations go to PATH.1, PATH.2, ...\n"
		    "rotate_bytes: start a new file before this size is passed (>= 1024)\n"
		    "rotate_packets: start a new file after this many packets\n"
		    "snaplen: bytes kept of each packet (64..65535, default 65535)",
	.edges_doc = "none: a sink",
	.state_doc = "per-replica: replica i of n > 1 writes PATH-rI",
	.flags = BL_FILTER_F_SINK,
	.priv_size = sizeof(struct pcapw),
	.init = pcapw_init,
	.fini = pcapw_fini,
	.stop = pcapw_stop,
	.process = pcapw_process,
	BL_FILTER_COUNTERS(pcapw_counters),
};
