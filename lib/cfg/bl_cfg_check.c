/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-checks on a filled config: the rules that span several keys. Used for
 * configs read from JSON and configs built from command-line flags alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_cfg.h"
#include "bl_cfg_pvt.h"

int
bl_cfg_port_find(const struct bl_cfg *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t
bl_cfg_port_devname(const struct bl_cfg_port *p, char *buf, size_t size)
{
	const char *s = p->pci[0] ? p->pci : p->vdev;
	size_t n = strcspn(s, ",");

	return (size_t)snprintf(buf, size, "%.*s", (int)n, s);
}

unsigned int
bl_cfg_mbufs_needed(const struct bl_cfg *cfg)
{
	unsigned int lcores[BL_CFG_MAX_WORKERS];
	unsigned long n = 0;

	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		const struct bl_cfg_port *p = &cfg->ports[i];
		n += (unsigned long)p->rx_queues * p->rx_desc;
		n += (unsigned long)p->tx_queues * p->tx_desc;
	}
	/* Each lcore may hold a full cache (1.5x its size, as rte_mempool
	 * allows) plus one burst in flight: the main lcore and every worker lcore
	 * (of workers[] and of graphs[].lcores alike). */
	n += (bl_cfg_worker_lcores(cfg, lcores) + 1ul) * (cfg->mbuf_cache * 3ul / 2 + cfg->burst);
	return n > UINT32_MAX ? UINT32_MAX : (unsigned int)n;
}

unsigned int
bl_cfg_pool_size(const struct bl_cfg *cfg)
{
	unsigned long need;
	unsigned int n = 8191;

	if (cfg->mbufs != 0)
		return cfg->mbufs;
	/* Half as much again as the rings can hold, as 2^k - 1 (mempool's best size), at
	 * most the largest mbufs.count (the memory checks say what that takes). */
	need = (unsigned long)bl_cfg_mbufs_needed(cfg) + cfg->rings_mbufs;
	need += need / 2;
	while (n < need && n < BL_CFG_MBUFS_MAX / 2)
		n = n * 2 + 1;
	return n;
}

unsigned long
bl_cfg_mem_mb_needed(const struct bl_cfg *cfg)
{
	return ((unsigned long)bl_cfg_pool_size(cfg) * (cfg->mbuf_data_room + 256ul) >> 20) + 64;
}

static void
check_ports(const struct bl_cfg *cfg, struct bl_diag *d)
{
	char a[BL_CFG_DEV_MAX], b[BL_CFG_DEV_MAX];

	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (cfg->ports[i].name[0] &&
			    strcmp(cfg->ports[i].name, cfg->ports[j].name) == 0)
				bl_diag_add(d, "ports[%u].name: \"%s\" is already the name of ports[%u]",
					    i, cfg->ports[i].name, j);
			bl_cfg_port_devname(&cfg->ports[i], a, sizeof(a));
			bl_cfg_port_devname(&cfg->ports[j], b, sizeof(b));
			if (a[0] && strcmp(a, b) == 0)
				bl_diag_add(d, "ports[%u].%s: device \"%s\" is already ports[%u]; "
					    "DPDK device names must be unique (net_null0, net_null1, ...)",
					    i, cfg->ports[i].pci[0] ? "pci" : "vdev", a, j);
		}
	}
}

/* The file an rx_pcap= names (resolved) is there to read, the folder of a tx_pcap='s there to
 * write in. */
static void
check_pcap_arg(const char *path, const char *key, const char *v, size_t vlen, struct bl_diag *d)
{
	char f[PATH_MAX], *slash;

	if (vlen == 0 || vlen >= sizeof(f))
		return;   /* DPDK says so */
	memcpy(f, v, vlen);
	f[vlen] = '\0';
	/* AT_EACCESS: as this process may (its effective ids), not its real ones */
	if (strcmp(key, "rx_pcap") == 0) {
		if (faccessat(AT_FDCWD, f, R_OK, AT_EACCESS) != 0)
			bl_diag_add(d, "%s: rx_pcap=%s: %s", path, f, strerror(errno));
		return;
	}
	if (faccessat(AT_FDCWD, f, F_OK, AT_EACCESS) == 0) {   /* there (/dev/null): written as it is */
		if (faccessat(AT_FDCWD, f, W_OK, AT_EACCESS) != 0)
			bl_diag_add(d, "%s: tx_pcap=%s: %s", path, f, strerror(errno));
		return;
	}
	slash = strrchr(f, '/');
	if (slash == f)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(f, sizeof(f), ".");
	if (faccessat(AT_FDCWD, f, W_OK | X_OK, AT_EACCESS) != 0)
		bl_diag_add(d, "%s: tx_pcap: cannot write in %s: %s", path, f, strerror(errno));
}

int
bl_cfg_check_files(const struct bl_cfg *cfg, struct bl_diag *d)
{
	unsigned int before = d->n;

	for (unsigned int i = 0; i < cfg->n_ports; i++)
		bl_cfg_check_port_files(cfg, i, d);
	return d->n == before ? 0 : -EINVAL;
}

int
bl_cfg_check_port_files(const struct bl_cfg *cfg, unsigned int i, struct bl_diag *d)
{
	const char *s = cfg->ports[i].vdev;
	struct bl_cfg_vdev_arg a;
	unsigned int before = d->n;
	char path[40];

	if (strncmp(s, "net_pcap", 8) != 0)
		return 0;
	snprintf(path, sizeof(path), "ports[%u].vdev", i);
	for (const char *c = s; bl_cfg__vdev_next(&c, &a);) {
		if (bl_cfg__vdev_key_is(&a, "rx_pcap"))
			check_pcap_arg(path, "rx_pcap", a.val, a.val_len, d);
		else if (bl_cfg__vdev_key_is(&a, "tx_pcap"))
			check_pcap_arg(path, "tx_pcap", a.val, a.val_len, d);
	}
	return d->n == before ? 0 : -EINVAL;
}

int
bl_cfg_port_fifos_ready(const struct bl_cfg *cfg, unsigned int i, int *fds, unsigned int max,
			struct bl_diag *d)
{
	const char *s = cfg->ports[i].vdev;
	struct bl_cfg_vdev_arg a;
	unsigned int before = d->n, n = 0;

	if (strncmp(s, "net_pcap", 8) != 0)
		return 0;
	for (const char *c = s; bl_cfg__vdev_next(&c, &a);) {
		bool rx = bl_cfg__vdev_key_is(&a, "rx_pcap");
		char f[PATH_MAX];
		struct stat st;
		int fd;

		if (!rx && !bl_cfg__vdev_key_is(&a, "tx_pcap"))
			continue;
		if (a.val_len == 0 || a.val_len >= sizeof(f))
			continue;
		memcpy(f, a.val, a.val_len);
		f[a.val_len] = '\0';
		if (stat(f, &st) != 0 || !S_ISFIFO(st.st_mode))
			continue;
		/* O_NONBLOCK: a FIFO for writing with no reader is ENXIO, not a wait */
		fd = open(f, (rx ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && rx) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0) {
			bl_diag_add(d, "ports[%u].vdev: %s=%s is a FIFO %s: the pcap driver would wait "
				    "for %s, holding the appliance; start %s first", i,
				    rx ? "rx_pcap" : "tx_pcap", f,
				    rx ? "nothing has written to yet" : "that no process reads",
				    rx ? "its header" : "a reader", rx ? "its writer" : "its reader");
			continue;
		}
		if (n < max)
			fds[n++] = fd;
		else
			close(fd);
	}
	if (d->n != before) {
		while (n > 0)
			close(fds[--n]);
		return -EINVAL;
	}
	return (int)n;
}

static void
check_workers(const struct bl_cfg *cfg, struct bl_diag *d)
{
	/* Who polls each (port, queue), and which workers send to each port. */
	static const uint8_t none = 0xff;
	uint8_t owner[BL_CFG_MAX_PORTS][BL_CFG_MAX_QUEUES];
	uint64_t senders[BL_CFG_MAX_PORTS] = { 0 };

	memset(owner, none, sizeof(owner));
	for (unsigned int i = 0; i < cfg->n_workers; i++) {
		const struct bl_cfg_worker *w = &cfg->workers[i];

		if (w->lcore == cfg->main_lcore)
			bl_diag_add(d, "workers[%u].lcore: %u is the main lcore; give workers lcores of their own",
				    i, w->lcore);
		for (unsigned int j = 0; j < i; j++)
			if (w->lcore != ~0u && cfg->workers[j].lcore == w->lcore)
				bl_diag_add(d, "workers[%u].lcore: %u is already workers[%u]'s lcore",
					    i, w->lcore, j);
		if (w->n_polls > BL_CFG_MAX_POLLS) {
			bl_diag_add(d, "workers[%u].poll: at most %d entries, got %u", i, BL_CFG_MAX_POLLS,
				    w->n_polls);
			continue;
		}
		for (unsigned int k = 0; k < w->n_polls; k++) {
			const struct bl_cfg_poll *pl = &w->polls[k];
			if (pl->port >= cfg->n_ports || pl->tx_port >= cfg->n_ports) {
				bl_diag_add(d, "workers[%u].poll[%u]: port index %u or %u is not one of the "
					    "%u ports", i, k, pl->port, pl->tx_port, cfg->n_ports);
				continue;
			}
			const struct bl_cfg_port *p = &cfg->ports[pl->port];

			if (pl->queue >= p->rx_queues) {
				bl_diag_add(d, "workers[%u].poll[%u].queue: port \"%s\" has %u rx queue%s "
					    "(0..%u), got %u", i, k, p->name, p->rx_queues,
					    p->rx_queues == 1 ? "" : "s", p->rx_queues - 1u, pl->queue);
				continue;
			}
			uint8_t *o = &owner[pl->port][pl->queue];
			if (*o != none)
				bl_diag_add(d, "workers[%u].poll[%u]: port \"%s\" queue %u is already "
					    "polled by workers[%u]; a queue has one poller",
					    i, k, p->name, pl->queue, *o);
			else
				*o = (uint8_t)i;
			senders[pl->tx_port] |= 1ull << i;
		}
	}
	for (unsigned int p = 0; p < cfg->n_ports; p++) {
		unsigned int n = (unsigned int)__builtin_popcountll(senders[p]);
		if (cfg->ports[p].tx_queues != 0 && n > cfg->ports[p].tx_queues)
			bl_diag_add(d, "ports[%u].tx_queues: %u workers send to port \"%s\", each needs a "
				    "tx queue of its own: must be at least %u, got %u",
				    p, n, cfg->ports[p].name, n, cfg->ports[p].tx_queues);
	}
}

static void
check_memory(const struct bl_cfg *cfg, struct bl_diag *d)
{
	unsigned int need = bl_cfg_mbufs_needed(cfg);

	if (cfg->mbufs != 0 && cfg->mbufs < need)
		bl_diag_add(d, "mbufs.count: the port rings, caches and bursts can hold %u mbufs at "
			    "once: must be at least %u, got %u", need, need, cfg->mbufs);
	if (cfg->mbufs != 0 && cfg->mbuf_cache * 3ul / 2 > cfg->mbufs)
		bl_diag_add(d, "mbufs.cache: must be at most two thirds of mbufs.count (%u), got %u",
			    cfg->mbufs * 2 / 3, cfg->mbuf_cache);
	bl_cfg_check_mem_mb(cfg, d);
}

int
bl_cfg_check_mem_mb(const struct bl_cfg *cfg, struct bl_diag *diag)
{
	unsigned long mb = bl_cfg_mem_mb_needed(cfg);

	if (cfg->mem_mb == 0 || cfg->mem_mb >= mb)
		return 0;
	bl_diag_add(diag, "memory.size_mb: %u mbufs of %u bytes%s need at least %lu MB, got %u",
		    bl_cfg_pool_size(cfg), cfg->mbuf_data_room,
		    cfg->mbufs == 0 && cfg->rings_mbufs != 0 ? " (a pool sized for the streams' "
		    "rings: mbufs.count sets it)" : "", mb, cfg->mem_mb);
	return -EINVAL;
}

unsigned int
bl_cfg_worker_lcores(const struct bl_cfg *cfg, unsigned int *out)
{
	bool seen[BL_CFG_MAX_LCORE + 1] = { false };
	unsigned int n = 0;

	for (unsigned int i = 0; i < cfg->n_workers; i++)
		if (cfg->workers[i].lcore <= BL_CFG_MAX_LCORE)
			seen[cfg->workers[i].lcore] = true;
	for (unsigned int i = 0; i < cfg->n_graphs; i++)
		for (unsigned int k = 0; k < cfg->graphs[i].n_lcores; k++)
			if (cfg->graphs[i].lcores[k] <= BL_CFG_MAX_LCORE)
				seen[cfg->graphs[i].lcores[k]] = true;
	for (unsigned int l = 0; l <= BL_CFG_MAX_LCORE; l++)
		if (seen[l] && n < BL_CFG_MAX_WORKERS)
			out[n++] = l;
	return n;
}

static void
check_graphs(const struct bl_cfg *cfg, struct bl_diag *d)
{
	unsigned int lcores[BL_CFG_MAX_WORKERS];

	if (cfg->n_graphs > BL_CFG_MAX_GRAPHS) {
		bl_diag_add(d, "graphs: at most %d graphs, got %u", BL_CFG_MAX_GRAPHS, cfg->n_graphs);
		return;
	}
	for (unsigned int i = 0; i < cfg->n_graphs; i++)
		for (unsigned int k = 0; k < cfg->graphs[i].n_lcores; k++) {
			if (cfg->graphs[i].lcores[k] == cfg->main_lcore)
				bl_diag_add(d, "graphs[%u].lcores[%u]: %u is the main lcore; graphs run on "
					    "worker lcores", i, k, cfg->main_lcore);
			/* once each (the JSON reader says so too; --lcores comes here only): a
			 * worker runs at most one replica of a graph, its arrays no more */
			for (unsigned int j = 0; j < k; j++)
				if (cfg->graphs[i].lcores[j] == cfg->graphs[i].lcores[k]) {
					bl_diag_add(d, "graphs[%u].lcores[%u]: lcore %u is listed twice", i, k,
						    cfg->graphs[i].lcores[k]);
					break;
				}
		}
	if (bl_cfg_worker_lcores(cfg, lcores) > BL_CFG_MAX_WORKERS - 1)
		bl_diag_add(d, "%s: at most %d worker lcores in all (and the main lcore)",
			    cfg->n_graphs == 0 ? "workers" : cfg->n_workers == 0 ? "graphs" :
			    "graphs, workers", BL_CFG_MAX_WORKERS - 1);
}

/* A port's tx queues, unless given: one per worker lcore (its index). */
static void
resolve_tx_queues(struct bl_cfg *cfg)
{
	unsigned int lcores[BL_CFG_MAX_WORKERS];
	unsigned int n = bl_cfg_worker_lcores(cfg, lcores);

	for (unsigned int p = 0; p < cfg->n_ports && p < BL_CFG_MAX_PORTS; p++)
		if (cfg->ports[p].tx_queues == 0) {
			cfg->ports[p].tx_queues = (uint16_t)(n > 0 ? n : 1);
			cfg->ports[p].tx_queues_auto = true;
		}
}

int
bl_cfg_validate(struct bl_cfg *cfg, struct bl_diag *diag)
{
	unsigned int before = diag->n;

	if (cfg->n_ports > BL_CFG_MAX_PORTS || cfg->n_workers > BL_CFG_MAX_WORKERS) {
		bl_diag_add(diag, "ports, workers: at most %d ports and %d workers, got %u and %u",
			    BL_CFG_MAX_PORTS, BL_CFG_MAX_WORKERS, cfg->n_ports, cfg->n_workers);
		return -EINVAL;
	}

	if (cfg->n_ports == 0)
		bl_diag_add(diag, "ports: at least one port is needed");
	if (cfg->n_workers == 0 && cfg->n_graphs == 0)
		bl_diag_add(diag, "workers, graphs: at least one worker or graph is needed");
	check_graphs(cfg, diag);
	resolve_tx_queues(cfg);
	check_ports(cfg, diag);
	check_workers(cfg, diag);
	check_memory(cfg, diag);
	return diag->n == before ? 0 : -EINVAL;
}
