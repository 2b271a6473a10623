/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_port — bringing configured ports up and down (slow path only).
 *
 * Virtual devices are created after EAL starts (rte_vdev_init), so a bad
 * spec is reported against its config path instead of failing EAL as a
 * whole; PCI devices come from EAL's allowlist. Errors name the port's
 * config path ("ports[1] (net_pcap1): ...").
 */
#ifndef BL_PORT_H
#define BL_PORT_H

#include <stdint.h>

#include <rte_mempool.h>

#include "bl_cfg.h"
#include "bl_err.h"

/* Per-port counters the ethdev keeps (slow-path read). */
struct bl_port_hw_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
	uint64_t replay_unmatched;   /* replayed packets passed on without their record (bl_replay.h) */
};

/*
 * Create (vdev) or find (PCI) port `idx` of cfg, configure its queues with
 * rx mbufs from `mp`, and start it. On success *port_id is its ethdev id.
 * A tx queue count that was only the default (one per worker lcore) is cut
 * to what the device offers, in cfg.
 */
int bl_port_open(struct bl_cfg *cfg, unsigned int idx, struct rte_mempool *mp,
		 uint16_t *port_id, struct bl_err *err);

/* Stop and close the port (its rings give their mbufs back); removes a vdev. */
void bl_port_close(const struct bl_cfg *cfg, unsigned int idx, uint16_t port_id);

int bl_port_hw_stats(uint16_t port_id, struct bl_port_hw_stats *st);

#endif /* BL_PORT_H */
