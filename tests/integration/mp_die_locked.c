/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mp_die_locked — a DPDK secondary process that attaches to a running beltlined
 * (memory.multiprocess), takes the shared memory configuration's read lock and dies
 * holding it (SIGKILL), as a faulting dpdk-dumpcap once did (dpdk_tools.sh): the
 * appliance's teardown must still end.
 *
 *   mp_die_locked --proc-type=secondary --file-prefix=PREFIX --no-pci -l 0
 *
 * Exit 2 if EAL cannot attach; otherwise it never returns (killed with the lock).
 */
#include <signal.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_eal_memconfig.h>

int
main(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "mp_die_locked: EAL did not attach\n");
		return 2;
	}
	rte_mcfg_mem_read_lock();
	printf("locked\n");
	fflush(stdout);
	raise(SIGKILL);
	return 1;
}
