/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_cfg — the appliance's configuration: what beltlined reads from JSON.
 *
 * The parser needs no DPDK: it turns text into a plain `struct bl_cfg` and a
 * list of problems, one line each, every line starting with the JSON path of
 * the offending value ("ports[1].rx_queues: must be 1..64, got 0"). Unknown
 * keys are problems too, so a typo never passes silently. A config that
 * parses without problems is safe to hand to EAL and the port setup: every
 * count is in range and every cross reference (port names, queues, lcores)
 * resolves. docs/config.md is the reference for every key.
 */
#ifndef BL_CFG_H
#define BL_CFG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_diag.h"

#define BL_CFG_NAME_MAX     32    /* instance and port names, with the NUL */
#define BL_CFG_DEV_MAX      1024  /* a vdev spec after path resolution */
#define BL_CFG_MAX_PORTS    32    /* RTE_MAX_ETHPORTS in Debian's DPDK */
#define BL_CFG_MAX_WORKERS  64
#define BL_CFG_MAX_POLLS    64    /* rx queues one worker polls */
#define BL_CFG_MAX_LCORE    127   /* RTE_MAX_LCORE - 1 */
#define BL_CFG_MAX_QUEUES   64
#define BL_CFG_MAX_BURST    256
#define BL_CFG_MAX_IDLE_SLEEP_US 100000   /* idle_sleep_us: at most 0.1 s of added latency */
#define BL_CFG_CTL_IDLE_MS 10000          /* control.idle_ms default */
#define BL_CFG_CTL_SLOW_MS 5000           /* control.slow_ms default */
#define BL_CFG_MIN_CTL_MS 100             /* control.idle_ms, slow_ms: 0.1 s .. 1 h */
#define BL_CFG_MAX_CTL_MS 3600000
#define BL_CFG_MAX_GRAPHS   16
#define BL_CFG_PIPE_MAX     8192  /* a graph's text: pipeline(s) or compact JSON */
#define BL_CFG_PIPE_PARTS   128   /* elements of a "pipeline" array an error is traced to */
_Static_assert(BL_CFG_PIPE_MAX <= 65536, "bl_cfg_graph.part_at holds offsets into text");
#define BL_CFG_MEM_MB_MAX   65536 /* memory.size_mb (EAL 22.11 dies or fails far above it) */

enum bl_cfg_huge {
	BL_CFG_HUGE_AUTO,   /* use hugepages when enough are free, else ordinary memory */
	BL_CFG_HUGE_YES,    /* hugepages or fail */
	BL_CFG_HUGE_NO,     /* ordinary memory (EAL --no-huge) */
};

struct bl_cfg_port {
	char name[BL_CFG_NAME_MAX];   /* how the rest of the config names it */
	char vdev[BL_CFG_DEV_MAX];    /* "net_pcap0,rx_pcap=/abs/path", or "" */
	char pci[BL_CFG_NAME_MAX];    /* "0000:03:00.0", or "" */
	uint16_t rx_queues;
	uint16_t tx_queues;           /* 0 until validated: one per worker lcore unless given */
	bool tx_queues_auto;          /* not given: the port may offer fewer (then it is cut) */
	bool tx_single_seg;           /* set at start: the device cannot send chained mbufs
	                               * (no RTE_ETH_TX_OFFLOAD_MULTI_SEGS) */
	uint16_t rx_desc;
	uint16_t tx_desc;
};

/* One rx queue a worker polls, and the port its packets go out of. */
struct bl_cfg_poll {
	uint16_t port;       /* index into bl_cfg.ports */
	uint16_t queue;      /* rx queue on that port */
	uint16_t tx_port;    /* index into bl_cfg.ports */
};

struct bl_cfg_worker {
	unsigned int lcore;
	unsigned int n_polls;
	struct bl_cfg_poll polls[BL_CFG_MAX_POLLS];
};

/* A filter graph and the worker lcores that run a replica of it each. */
struct bl_cfg_graph {
	char text[BL_CFG_PIPE_MAX];   /* pipeline text ("a | b; c | d"), or a JSON graph */
	bool json;                    /* text is a compact JSON {"nodes", "edges"} object */
	/* "pipeline" as an array: where element j starts in text (joined with "; "), so an
	 * error at a column of text is told as pipeline[j] and its own column. 0: not an
	 * array, or one of more than BL_CFG_PIPE_PARTS elements. */
	unsigned int n_parts;
	uint16_t part_at[BL_CFG_PIPE_PARTS];
	unsigned int n_lcores;
	unsigned int lcores[BL_CFG_MAX_WORKERS];
};

struct bl_cfg {
	char instance[BL_CFG_NAME_MAX];   /* EAL file prefix, control socket dir */
	unsigned int main_lcore;
	/* The CPU each lcore runs on: lcore_cpu[l], or l itself when unset (-1).
	 * Several lcores may share a CPU (tests on small machines). */
	int lcore_cpu[BL_CFG_MAX_LCORE + 1];
	enum bl_cfg_huge hugepages;
	bool multiprocess;                /* memory.multiprocess: EAL keeps its runtime files */
	unsigned int mem_mb;              /* EAL memory; 0 = computed from the mbufs */
	unsigned int mbufs;               /* pool size; 0 = computed from the rings */
	unsigned int rings_mbufs;         /* not a key: with mbufs 0, what the graphs' stream
	                                   * rings in the pool may hold (beltlined's dry run
	                                   * sums them: bl_app_graphs_rings) */
	unsigned int mbuf_cache;
	unsigned int mbuf_data_room;      /* bytes of packet data per mbuf, with headroom */
	/* The packet DBuf's mode (owner and group are the appliance's): streams
	 * with exactly these permissions are zero copy; others get copy DBufs. */
	unsigned int pkt_mode;            /* memory.packet_mode, default 0640 */
	unsigned int burst;
	/* Microseconds a worker sleeps once BL_WORKER_IDLE_ROUNDS rounds in a row found no
	 * packet; 0 (the default): it polls without pause. Applied live by a reload. */
	unsigned int idle_sleep_us;
	bool idle_sleep_set;            /* idle_sleep_us is in the file (beltlined may default it) */
	/* The control socket RUN_DIR/INSTANCE/ctl: who may connect (list, stats,
	 * attach; each stream still checks its own permissions on attach). */
	unsigned int ctl_mode;            /* permission bits, default 0666 */
	long ctl_gid;                     /* group of the socket; -1 = the appliance's */
	/* A connection not attached to a stream that sends no request this long is
	 * closed; so is one that takes no record of a pending reply. Live on reload. */
	unsigned int ctl_idle_ms;
	unsigned int ctl_slow_ms;
	unsigned int n_ports;
	struct bl_cfg_port ports[BL_CFG_MAX_PORTS];
	unsigned int n_workers;
	struct bl_cfg_worker workers[BL_CFG_MAX_WORKERS];   /* fixed forwarding: rx -> tx */
	unsigned int n_graphs;
	struct bl_cfg_graph graphs[BL_CFG_MAX_GRAPHS];
};

/* Fill cfg with every default (no ports, no workers). */
void bl_cfg_defaults(struct bl_cfg *cfg);

/*
 * Parse JSON text into cfg. `dir` is where relative file paths inside vdev
 * specs (rx_pcap=, tx_pcap=) are resolved from; NULL means the current
 * directory. Returns 0, or -EINVAL with every problem in `diag`.
 */
int bl_cfg_parse(const char *text, size_t len, const char *dir,
		 struct bl_cfg *cfg, struct bl_diag *diag);

/*
 * Configs from command-line flags: `--port NAME=DEVICE` (a vdev spec or a PCI
 * address; relative paths stay relative to the current folder) and
 * `--pipeline TEXT` run on the given worker lcores. Problems go to diag with
 * the flag as their path. Call bl_cfg_validate afterwards.
 */
int bl_cfg_add_port(struct bl_cfg *cfg, const char *arg, struct bl_diag *diag);
int bl_cfg_add_graph(struct bl_cfg *cfg, const char *text, const unsigned int *lcores,
		     unsigned int n, struct bl_diag *diag);

/* Read and parse a file; relative paths resolve against the file's folder. */
int bl_cfg_load(const char *path, struct bl_cfg *cfg, struct bl_diag *diag);
/* After a failed bl_cfg_load: were its only problems keys it does not know (or gave
 * twice), the rest read whole and valid? Then what needs a whole config may be checked
 * too, so one run says every problem (the load still failed). */
static inline bool
bl_cfg_only_keys(const struct bl_diag *diag)
{
	return diag->n != 0 && diag->n == diag->n_keys;
}

/*
 * Cross-check a filled config (also one built from command-line flags):
 * references, queue counts, lcores, pool size. Adds problems to diag and
 * returns -EINVAL when there are any.
 */
int bl_cfg_validate(struct bl_cfg *cfg, struct bl_diag *diag);

/* The CPU lcore l runs on. */
static inline unsigned int
bl_cfg_cpu_of(const struct bl_cfg *cfg, unsigned int l)
{
	return l <= BL_CFG_MAX_LCORE && cfg->lcore_cpu[l] >= 0 ? (unsigned int)cfg->lcore_cpu[l] : l;
}

/* Mbufs the rings, caches and bursts can hold at once: the pool's floor. */
unsigned int bl_cfg_mbufs_needed(const struct bl_cfg *cfg);

#define BL_CFG_MBUFS_MAX (1u << 26)   /* the largest mbufs.count */

/* The mbuf pool's size: mbufs.count, or half again what the rings (the ports', the
 * caches and bursts, and rings_mbufs) hold, as 2^k - 1, 8191 at least. */
unsigned int bl_cfg_pool_size(const struct bl_cfg *cfg);

/* Memory (MB) the pool and EAL's own needs take: the floor for memory.size_mb. */
unsigned long bl_cfg_mem_mb_needed(const struct bl_cfg *cfg);

/* memory.size_mb (when set) against bl_cfg_mem_mb_needed: a problem added to diag and
 * -EINVAL when it is short. bl_cfg_validate checks it for the pool it can size (the
 * ports' rings); once a dry run of the graphs has set rings_mbufs, check it again. */
int bl_cfg_check_mem_mb(const struct bl_cfg *cfg, struct bl_diag *diag);

/* The device name EAL gives a port ("net_null0" of "net_null0,size=64"). */
size_t bl_cfg_port_devname(const struct bl_cfg_port *p, char *buf, size_t size);

int bl_cfg_port_find(const struct bl_cfg *cfg, const char *name);

/* The files a port's device names are there: a net_pcap port's rx_pcap= to read, its
 * tx_pcap='s folder to write in (said by --check, not by DPDK at the start as "Operation
 * not permitted"). 0, or -EINVAL with one diag line each. Looks at the file system: not
 * part of parsing. */
int bl_cfg_check_files(const struct bl_cfg *cfg, struct bl_diag *diag);
/* The same for ports[i] alone (a port a reload adds). */
int bl_cfg_check_port_files(const struct bl_cfg *cfg, unsigned int i, struct bl_diag *diag);
/*
 * A FIFO that ports[i]'s device names (a net_pcap port's rx_pcap= or tx_pcap=) must be
 * ready now, or the driver's open waits in open(2) or for the file's header with no limit:
 * a tx_pcap FIFO needs a reader, an rx_pcap FIFO a writer that has written. For a port a
 * reload adds (the main lcore must not wait). Returns how many descriptors it opened
 * and keeps in fds (at most max: the FIFO's other end stays held until the caller has
 * opened the port, then closes them), or -EINVAL with one diag line each.
 */
int bl_cfg_port_fifos_ready(const struct bl_cfg *cfg, unsigned int i, int *fds, unsigned int max,
			    struct bl_diag *diag);

/*
 * The worker lcores: every workers[].lcore and graphs[].lcores entry, sorted,
 * each once. A worker's index in this list is its tx queue on every port.
 */
unsigned int bl_cfg_worker_lcores(const struct bl_cfg *cfg, unsigned int *out);

#endif /* BL_CFG_H */
