/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_replay — a replayed capture keeps each record's time and wire length.
 *
 * DPDK 22.11's net_pcap (rx_pcap=FILE) delivers a record's captured bytes
 * (pkt_len = caplen) and writes its time, in microseconds, to the standard
 * rx timestamp field; the wire length (`len` of the record header) it
 * drops. So each rx queue of a net_pcap port reading a file gets an rx
 * callback (rte_eth_add_rx_callback, run inside rte_eth_rx_burst before the
 * rx filter sees the burst) that reads the same file with a libpcap handle
 * of its own, in nanosecond precision, one record per mbuf the driver
 * delivered, and fills the mbuf's record (bl_mbuf_meta.h: time in ns, wire
 * length).
 *
 * Keeping in step. The driver reads a record and then may fail to deliver
 * it (no mbuf, or a chain it could not allocate: counted by the driver in
 * rx_nombuf / ierrors): that record is gone. The callback therefore checks
 * each record against the mbuf (captured length modulo 2^16, since 22.11
 * keeps some lengths in 16 bits, and the first up to 64 bytes) and skips
 * records that do not match, at most BL_REPLAY_RESYNC_MAX in a row; an mbuf
 * with no matching record is passed on without one (the sink then writes
 * "now" and pkt_len) and counted in replay_unmatched (beltline stats, per
 * port), and the queue stops looking once its handle reached the end.
 * Frames the driver mangles (above about 67 KB in 22.11) still match by
 * their first bytes and are then refused by the rx filter as malformed, so
 * the step stays one record per delivered mbuf.
 *
 * What is hooked: ports whose vdev is net_pcap with rx_pcap= files (one
 * file per rx queue, in the order given; pcap and pcapng, which libpcap
 * reads alike). Not hooked: rx_iface / iface (live traffic keeps its
 * arrival time) and infinite_rx=1 (the driver loads the file once and
 * loops over copies that carry no time: those packets get "now" and
 * pkt_len, documented in docs/config.md).
 *
 * The end: each queue reads one record ahead, so it knows it delivered its
 * file's last record as soon as it did (bl_replay_pending: --exit-idle waits
 * for it, so a worker that did not run for a while never ends a replay early).
 * Cost: the callback does what the driver does (a buffered read per record)
 * plus a compare of up to 64 bytes; it runs only on replay ports.
 */
#ifndef BL_REPLAY_H
#define BL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_cfg.h"
#include "bl_err.h"

#define BL_REPLAY_RESYNC_MAX 64

/* Hook the rx queues of port idx (started, id port_id) when it replays files. */
int bl_replay_attach(const struct bl_cfg_port *p, unsigned int idx, uint16_t port_id,
		     struct bl_err *err);
/* Unhook and free (the port's queues are no longer polled). */
void bl_replay_detach(uint16_t port_id);
/* Whether some hooked queue has not yet delivered its file's last record (main
 * lcore: --exit-idle does not count a replay that is still going as idle). */
bool bl_replay_pending(void);
/* Packets the port passed on without their record (0 when not hooked). */
uint64_t bl_replay_unmatched(uint16_t port_id);

#endif /* BL_REPLAY_H */
