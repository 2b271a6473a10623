/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eal.h"

static void
arg(struct bl_eal_args *ea, const char *fmt, ...)
{
	va_list ap;

	if (ea->argc >= BL_EAL_ARGS_MAX - 1)
		return;
	va_start(ap, fmt);
	if (vsnprintf(ea->store[ea->argc], sizeof(ea->store[0]), fmt, ap) >= (int)sizeof(ea->store[0]))
		ea->cut = true;
	va_end(ap);
	ea->argv[ea->argc] = ea->store[ea->argc];
	ea->argc++;
	ea->argv[ea->argc] = NULL;
}

static unsigned long
read_ulong(const char *path)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Free hugepage memory in MB, over the 2 MB and 1 GB page sizes. */
/* Whether a hugetlbfs is mounted anywhere (/proc/mounts). */
static bool
hugetlbfs_mounted(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (f == NULL)
		return true;   /* cannot tell: let EAL say */
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

static unsigned long
free_huge_mb(void)
{
	return read_ulong("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") * 2 +
	       read_ulong("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages") * 1024;
}

/* This machine's memory in MB (0: unknown). */
static unsigned long
ram_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);

	return pages > 0 && size > 0 ? (unsigned long)pages * (unsigned long)size >> 20 : 0;
}

/*
 * Without hugepages EAL maps all of -m when it starts and writes its page
 * table for it (48 bytes per 4 KiB page: about 12 MB and 0.1 s per GB here);
 * past a few hundred GB it fails, at 2^20 MB it dies of SIGSEGV. So -m is
 * at most BL_CFG_MEM_MB_MAX (the config's range) and at most what this
 * machine has, checked here, where --check sees it.
 */
static int
check_ordinary_memory(const struct bl_cfg *cfg, unsigned long mem_mb, struct bl_diag *diag)
{
	unsigned long ram = ram_mb();
	bool by_ram = ram != 0 && ram < BL_CFG_MEM_MB_MAX;   /* the machine is the tighter limit */

	if (cfg->mem_mb != 0) {
		if (ram == 0 || mem_mb <= ram)
			return 0;
		bl_diag_add(diag, "memory.size_mb: %lu MB is more memory than this machine has "
			    "(%lu MB); without hugepages EAL reserves all of it when it starts: "
			    "give at most %lu", mem_mb, ram, ram);
		return -ENOMEM;
	}
	if (mem_mb <= BL_CFG_MEM_MB_MAX && (ram == 0 || mem_mb <= ram))
		return 0;
	bl_diag_add(diag, "%s: a pool of %u mbufs of %u bytes needs %lu MB of ordinary memory "
		    "(no hugepages here), more than %s %lu MB: lower mbufs.count or "
		    "mbufs.data_room, or reserve hugepages", cfg->mbufs != 0 ? "mbufs.count" : "mbufs",
		    bl_cfg_pool_size(cfg), cfg->mbuf_data_room, mem_mb,
		    by_ram ? "this machine's" : "the most EAL may reserve,",
		    by_ram ? ram : (unsigned long)BL_CFG_MEM_MB_MAX);
	return -ENOMEM;
}

/*
 * The folder EAL 22.11 makes for its runtime files (eal_create_runtime_dir):
 * $RUNTIME_DIRECTORY, else /var/run for root (real uid), else
 * $XDG_RUNTIME_DIR or /tmp; then dpdk/PREFIX. Named before EAL starts, so the
 * reaper can remove it even when EAL dies starting.
 */
static void
eal_run_dir(const struct bl_cfg *cfg, char *buf, size_t len)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	int n;

	if (dir == NULL) {
		dir = "/var/run";
		if (getuid() != 0) {
			dir = getenv("XDG_RUNTIME_DIR");
			if (dir == NULL)
				dir = "/tmp";
		}
	}
	n = snprintf(buf, len, "%s/dpdk/bl_%s", dir, cfg->instance);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

/* lcore's CPU is not in set: say so under key, or under lcore_cpu.N when the config maps
 * the lcore to another CPU (that is where the number comes from). */
static void
not_allowed(const struct bl_cfg *cfg, unsigned int lcore, const cpu_set_t *set, const char *key,
	    struct bl_diag *diag)
{
	unsigned int cpu = bl_cfg_cpu_of(cfg, lcore);

	if (cpu != lcore)
		bl_diag_add(diag, "lcore_cpu.%u: CPU %u (for %s, lcore %u) is not one this process "
			    "may run on (%d CPUs allowed)", lcore, cpu, key, lcore, CPU_COUNT(set));
	else
		bl_diag_add(diag, "%s: CPU %u is not one this process may run on (%d CPUs allowed)",
			    key, cpu, CPU_COUNT(set));
}

static int
check_lcores(const struct bl_cfg *cfg, struct bl_diag *diag)
{
	cpu_set_t set;
	char key[64];
	int rc = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;   /* let EAL judge */
	if (!CPU_ISSET(bl_cfg_cpu_of(cfg, cfg->main_lcore), &set)) {
		not_allowed(cfg, cfg->main_lcore, &set, "main_lcore", diag);
		rc = -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->n_workers; i++)
		if (!CPU_ISSET(bl_cfg_cpu_of(cfg, cfg->workers[i].lcore), &set)) {
			snprintf(key, sizeof(key), "workers[%u].lcore", i);
			not_allowed(cfg, cfg->workers[i].lcore, &set, key, diag);
			rc = -EINVAL;
		}
	for (unsigned int i = 0; i < cfg->n_graphs; i++)
		for (unsigned int k = 0; k < cfg->graphs[i].n_lcores; k++)
			if (!CPU_ISSET(bl_cfg_cpu_of(cfg, cfg->graphs[i].lcores[k]), &set)) {
				snprintf(key, sizeof(key), "graphs[%u].lcores[%u]", i, k);
				not_allowed(cfg, cfg->graphs[i].lcores[k], &set, key, diag);
				rc = -EINVAL;
			}
	return rc;
}

int
bl_eal_args_build(const struct bl_cfg *cfg, struct bl_eal_args *ea, struct bl_diag *diag)
{
	char lcores[BL_EAL_ARG_LEN];
	size_t n;
	unsigned long need_mb, huge_mb, mem_mb;
	bool any_pci = false;

	memset(ea, 0, sizeof(*ea));
	if (check_lcores(cfg, diag) != 0)
		return -EINVAL;

	ea->mbufs = bl_cfg_pool_size(cfg);
	need_mb = bl_cfg_mem_mb_needed(cfg);
	mem_mb = cfg->mem_mb ? cfg->mem_mb : need_mb + 64;
	ea->mem_mb = mem_mb > UINT32_MAX ? UINT32_MAX : (unsigned int)mem_mb;
	eal_run_dir(cfg, ea->run_dir, sizeof(ea->run_dir));

	arg(ea, "beltlined");
	/* --lcores L@CPU: each lcore on its CPU (itself, unless lcore_cpu says otherwise). */
	n = (size_t)snprintf(lcores, sizeof(lcores), "%u@%u", cfg->main_lcore,
			     bl_cfg_cpu_of(cfg, cfg->main_lcore));
	unsigned int wl[BL_CFG_MAX_WORKERS], n_wl = bl_cfg_worker_lcores(cfg, wl);
	for (unsigned int i = 0; i < n_wl && n < sizeof(lcores); i++)
		n += (size_t)snprintf(lcores + n, sizeof(lcores) - n, ",%u@%u", wl[i],
				      bl_cfg_cpu_of(cfg, wl[i]));
	arg(ea, "--lcores");
	arg(ea, "%s", lcores);
	arg(ea, "--main-lcore");
	arg(ea, "%u", cfg->main_lcore);
	arg(ea, "--file-prefix");
	arg(ea, "bl_%s", cfg->instance);
	arg(ea, "--log-level");
	arg(ea, "*:warning");

	for (unsigned int i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].pci[0] != '\0') {
			arg(ea, "-a");
			arg(ea, "%s", cfg->ports[i].pci);
			any_pci = true;
		}
	if (!any_pci)
		arg(ea, "--no-pci");

	huge_mb = free_huge_mb();
	switch (cfg->hugepages) {
	case BL_CFG_HUGE_NO:
		ea->hugepages = false;
		snprintf(ea->why, sizeof(ea->why),
			 "memory: ordinary memory (memory.hugepages is \"no\"), %u MB", ea->mem_mb);
		break;
	case BL_CFG_HUGE_YES:
		if (huge_mb < need_mb) {
			bl_diag_add(diag, "memory.hugepages: \"yes\" but only %lu MB of hugepages are free, "
				    "need %lu MB (reserve more in /proc/sys/vm/nr_hugepages, or say \"auto\")",
				    huge_mb, need_mb);
			return -ENOMEM;
		}
		ea->hugepages = true;
		snprintf(ea->why, sizeof(ea->why), "memory: hugepages (%lu MB free, %lu MB needed)",
			 huge_mb, need_mb);
		break;
	case BL_CFG_HUGE_AUTO:
		if (geteuid() != 0) {
			ea->hugepages = false;
			snprintf(ea->why, sizeof(ea->why),
				 "memory: not running as root, so no hugepages: running on ordinary memory, %u MB",
				 ea->mem_mb);
		} else if (huge_mb < need_mb) {
			ea->hugepages = false;
			snprintf(ea->why, sizeof(ea->why),
				 "memory: no hugepages available (%lu MB free, %lu MB needed): running on "
				 "ordinary memory, %u MB", huge_mb, need_mb, ea->mem_mb);
		} else {
			ea->hugepages = true;
			snprintf(ea->why, sizeof(ea->why), "memory: hugepages (%lu MB free, %lu MB needed)",
				 huge_mb, need_mb);
		}
		break;
	}
	if (!ea->hugepages && check_ordinary_memory(cfg, mem_mb, diag) != 0)
		return -ENOMEM;
	if (cfg->multiprocess && !ea->hugepages) {
		bl_diag_add(diag, "memory.multiprocess: DPDK's tools attach through shared hugepages, "
			    "and this run has none (%s): reserve hugepages and run as root, or drop "
			    "memory.multiprocess", ea->why);
		return -EINVAL;
	}
	/* Secondaries map EAL's hugepage files, so EAL needs a hugetlbfs mount then
	 * (--in-memory does not: its pages are memfds). */
	if (cfg->multiprocess && !hugetlbfs_mounted()) {
		bl_diag_add(diag, "memory.multiprocess: DPDK's tools map the appliance's hugepage "
			    "files, and no hugetlbfs is mounted (as root: mount -t hugetlbfs nodev "
			    "/dev/hugepages, or deploy/hugepages.sh), or drop memory.multiprocess");
		return -EINVAL;
	}
	/* No shared runtime files, so a killed appliance leaves nothing behind; unless
	 * DPDK's own tools are to attach (memory.multiprocess): then EAL keeps them in
	 * its folder and hugetlbfs, and the reaper removes them when beltlined ends.
	 * --no-huge implies legacy memory, which --in-memory refuses. */
	if (ea->hugepages && cfg->multiprocess) {
		ea->multiprocess = true;
	} else if (ea->hugepages) {
		arg(ea, "--in-memory");
	} else {
		arg(ea, "--no-huge");
		arg(ea, "--no-shconf");
		arg(ea, "-m");
		arg(ea, "%u", ea->mem_mb);
	}
	if (ea->cut) {   /* cannot be with BL_EAL_ARG_LEN; never hand EAL a cut argument */
		bl_diag_add(diag, "lcores: EAL's arguments would be longer than %d characters",
			    BL_EAL_ARG_LEN - 1);
		return -EINVAL;
	}
	return 0;
}
