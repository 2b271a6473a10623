/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL and heap-backed mbufs for the fuzz harnesses (fuzz_eal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "fuzz.h"
#include "fuzz_eal.h"

static struct rte_mempool *pool;
static char rundir[256];

static void
remove_rundir(void)
{
	if (rundir[0] != '\0')
		rmdir(rundir);
}

struct rte_mempool *
fuzz_eal(void)
{
	char prefix[64];

	if (pool != NULL)
		return pool;
	snprintf(prefix, sizeof(prefix), "--file-prefix=blfuzz%d", (int)getpid());
	char *argv[] = { "fuzz", "--no-pci", "--no-huge", "--no-shconf", "-m", "64", prefix,
			 "--log-level", "*:error", "--no-telemetry", "-l", "0", NULL };
	atexit(remove_rundir);   /* before rte_eal_init: runs after EAL's own handlers */
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		FUZZ_FAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	pool = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		FUZZ_FAIL("pool: %s", rte_strerror(rte_errno));
	return pool;
}

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

struct rte_mbuf *
fuzz_mbuf_exact(const void *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fuzz_eal());
	struct rte_mbuf_ext_shared_info *sh;
	uint8_t *buf;

	if (m == NULL || len > UINT16_MAX)
		FUZZ_FAIL("out of mbufs (a leak?) or a segment of %u bytes", len);
	sh = calloc(1, sizeof(*sh));
	buf = malloc(len != 0 ? len : 1);
	if (sh == NULL || buf == NULL)
		abort();
	memcpy(buf, data, len);
	sh->free_cb = ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, (uint16_t)len, sh);
	m->data_off = 0;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}
