/* SPDX-License-Identifier: BSD-3-Clause */
/* Turning a config into EAL's arguments, and the memory decision. */
#ifndef BL_EAL_H
#define BL_EAL_H

#include <stdbool.h>

#include "bl_cfg.h"

#define BL_EAL_ARGS_MAX (16 + 2 * BL_CFG_MAX_PORTS)
/* The longest: --lcores with every worker, "L@CPU," each (CPU up to 4 digits). */
#define BL_EAL_ARG_LEN (16 + 12 * BL_CFG_MAX_WORKERS)

struct bl_eal_args {
	int argc;
	char *argv[BL_EAL_ARGS_MAX];
	char store[BL_EAL_ARGS_MAX][BL_EAL_ARG_LEN];
	bool cut;              /* an argument did not fit its store: refused (never passed on cut) */
	bool hugepages;        /* the decision taken */
	bool multiprocess;     /* runtime files kept: secondary processes (pdump, proc-info) attach */
	unsigned int mem_mb;   /* memory EAL reserves without hugepages */
	unsigned int mbufs;    /* pool size */
	char why[256];         /* one log line explaining the memory decision */
	char run_dir[256];     /* EAL's runtime folder, as EAL will name it ("" if too long) */
};

/*
 * Build EAL's argv for cfg: lcores, file prefix, --no-pci or an allowlist of
 * exactly the configured PCI addresses, hugepages or --no-huge. Fails (with
 * the config path in diag) when memory.hugepages is "yes" and none are free,
 * when the ordinary memory EAL would reserve is more than this machine has,
 * or when a configured lcore is not a CPU this process may run on.
 */
int bl_eal_args_build(const struct bl_cfg *cfg, struct bl_eal_args *ea, struct bl_diag *diag);

#endif /* BL_EAL_H */
