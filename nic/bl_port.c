/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>

#include "bl_log.h"
#include "bl_port.h"
#include "bl_replay.h"

/* Ports this process turned promiscuous mode on for (it was off before). For a kernel
 * interface the flag is the interface's, not the port's, and two ports may be open on one
 * at once (a reload that moves an interface to another port opens the new one before it
 * closes the old): one port of them owns the restore, and hands it on at its close to
 * another still open on the interface. Main lcore only. */
static bool promisc_ours[RTE_MAX_ETHPORTS];
static unsigned int port_if_index[RTE_MAX_ETHPORTS];   /* open ports' kernel interfaces; 0: none */

static int
create_device(const struct bl_cfg_port *p, unsigned int idx, const char *devname,
	      uint16_t *port_id, struct bl_err *err)
{
	int rc;

	if (p->vdev[0] != '\0') {
		const char *args = strchr(p->vdev, ',');
		rc = rte_vdev_init(devname, args != NULL ? args + 1 : "");
		if (rc == -1)   /* no errno: no driver of that name took it, or it said no */
			return bl_err_set(err, -ENODEV,
					  "ports[%u].vdev: DPDK could not create \"%s\" and gave no "
					  "reason: no driver of that name (net_null, net_ring, net_pcap, "
					  "net_tap, net_memif, net_af_packet, ...: a device is named by "
					  "its driver and a number), or an argument the driver refused "
					  "(DPDK does not say which: check each key=value against the "
					  "driver's list in DPDK's network drivers guide)", idx, p->vdev);
		if (rc != 0)
			return bl_err_set(err, rc < 0 ? rc : -EINVAL,
					  "ports[%u].vdev: DPDK could not create \"%s\" (%s); the log "
					  "above says why: an unknown driver name, a bad argument, a "
					  "permission missing, or an interface that exists already",
					  idx, p->vdev, strerror(rc < 0 ? -rc : EINVAL));
	}
	rc = rte_eth_dev_get_port_by_name(devname, port_id);
	if (rc != 0)
		return bl_err_set(err, -ENODEV,
				  "ports[%u]: no ethernet device \"%s\" (for PCI, is it bound to a "
				  "DPDK-capable driver such as vfio-pci?)", idx, devname);
	return 0;
}

/* Virtual devices of DPDK 22.11 that send chains whole without saying so: net_pcap and
 * net_af_packet copy the segments out, net_memif copies them into its ring, net_ring
 * hands the mbuf on, net_null frees it (tests/integration/pcap_roundtrip: a frame of
 * 11858 bytes out of net_pcap byte for byte). */
static bool
sends_chains_anyway(const char *driver)
{
	static const char *const ok[] = { "net_pcap", "net_af_packet", "net_memif", "net_ring",
					   "net_null", "net_tap", NULL };

	for (const char *const *d = ok; driver != NULL && *d != NULL; d++)
		if (strcmp(driver, *d) == 0)
			return true;
	return false;
}

/* Whether the port is promiscuous already: for a kernel interface (if_index), the
 * kernel's flag, which ethdev does not read (it starts at "off" whatever the kernel says). */
static bool
promiscuous_now(uint16_t port_id, const struct rte_eth_dev_info *info)
{
	struct ifreq ifr;
	bool on = rte_eth_promiscuous_get(port_id) == 1;
	int s;

	memset(&ifr, 0, sizeof(ifr));
	if (info->if_index == 0 || if_indextoname(info->if_index, ifr.ifr_name) == NULL)
		return on;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return on;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		on = (ifr.ifr_flags & IFF_PROMISC) != 0;
	close(s);
	return on;
}

/* The interface's MTU, or 0 when there is none to read. */
static unsigned int
kernel_mtu(unsigned int if_index, char name[IF_NAMESIZE])
{
	struct ifreq ifr;
	int s, rc;

	memset(&ifr, 0, sizeof(ifr));
	if (if_index == 0 || if_indextoname(if_index, ifr.ifr_name) == NULL)
		return 0;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	rc = ioctl(s, SIOCGIFMTU, &ifr);
	close(s);
	memcpy(name, ifr.ifr_name, IF_NAMESIZE);
	return rc == 0 && ifr.ifr_mtu > 0 ? (unsigned int)ifr.ifr_mtu : 0;
}

/*
 * net_af_packet (DPDK 22.11) copies each frame of its TPACKET_V2 ring into one mbuf and
 * takes tp_snaplen for its length: a frame longer than a ring frame holds (framesz=,
 * 2048 by default, less the kernel's header and alignment: 1982 bytes) arrives cut
 * short, as a whole packet, and nothing counts it. Say it at the start when the
 * interface's MTU lets such frames in.
 */
static void
af_packet_check_mtu(const struct bl_cfg_port *p, unsigned int idx, const struct rte_eth_dev_info *info)
{
	/* the kernel's tpacket_rcv: the MAC header starts at TPACKET_ALIGN(hdrlen + 16) - 14 */
	const unsigned int macoff = TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - RTE_ETHER_HDR_LEN;
	const char *fs = strstr(p->vdev, ",framesz=");
	unsigned long framesz = fs != NULL ? strtoul(fs + strlen(",framesz="), NULL, 0) : 2048;
	char name[IF_NAMESIZE] = "";
	unsigned int mtu = kernel_mtu(info->if_index, name);

	if (mtu == 0 || framesz <= macoff || mtu + RTE_ETHER_HDR_LEN <= framesz - macoff)
		return;
	bl_log(BL_LOG_WARNING, "ports[%u] (%s): interface %s has MTU %u, but %s keeps at most %lu "
	       "bytes of a frame (framesz=%lu): longer frames arrive cut short, counted nowhere; "
	       "raise framesz= to at least %u (and mbufs.data_room with it), or lower the "
	       "interface's MTU to %lu", idx, p->name, name, mtu, info->driver_name,
	       framesz - macoff, framesz, mtu + RTE_ETHER_HDR_LEN + macoff,
	       framesz - macoff - RTE_ETHER_HDR_LEN);
}

static int
configure(struct bl_cfg_port *p, unsigned int idx, uint16_t port_id,
	  struct rte_mempool *mp, struct bl_err *err)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = p->rx_desc, txd = p->tx_desc;
	int socket = rte_eth_dev_socket_id(port_id);
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return bl_err_set(err, rc, "ports[%u]: cannot read device info: %s", idx, strerror(-rc));
	if (p->rx_queues > info.max_rx_queues)
		return bl_err_set(err, -EINVAL, "ports[%u].rx_queues: device \"%s\" has at most %u rx queues, got %u",
				  idx, p->name, info.max_rx_queues, p->rx_queues);
	if (p->tx_queues > info.max_tx_queues && p->tx_queues_auto)
		p->tx_queues = info.max_tx_queues;   /* one per worker was only a default */
	if (p->tx_queues > info.max_tx_queues)
		return bl_err_set(err, -EINVAL, "ports[%u].tx_queues: device \"%s\" has at most %u tx queues, got %u",
				  idx, p->name, info.max_tx_queues, p->tx_queues);
	if (p->rx_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* Frames larger than one mbuf arrive as chains and leave as chains. */
	conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	conf.txmode.offloads |= info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Without it a chain would leave truncated, or its tail would never be freed: the
	 * tx filter makes chains one segment or drops them, counted. */
	p->tx_single_seg = !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
			   !sends_chains_anyway(info.driver_name);

	if (info.driver_name != NULL && strcmp(info.driver_name, "net_af_packet") == 0)
		af_packet_check_mtu(p, idx, &info);
	/* net_ring loops tx queue q into rx queue q: what a tx queue past the rx queues sends
	 * goes to a ring nothing reads (counted sent; its mbufs stay there until the stop
	 * says them leaked). Said, not refused: a config may mean only rx queue 0's. */
	if (info.driver_name != NULL && strcmp(info.driver_name, "net_ring") == 0 &&
	    p->tx_queues > p->rx_queues) {
		char which[32];

		if (p->tx_queues - p->rx_queues == 1)
			snprintf(which, sizeof(which), "tx queue %u sends", p->rx_queues);
		else
			snprintf(which, sizeof(which), "tx queues %u..%u send", p->rx_queues,
				 p->tx_queues - 1u);
		bl_log(BL_LOG_WARNING, "ports[%u] (%s): net_ring hands what tx queue q sends to its "
		       "rx queue q, and it has %u tx queues%s but %u rx queue%s: what %s is never "
		       "received (counted sent, left in the device); give it rx_queues %u", idx,
		       p->name, p->tx_queues, p->tx_queues_auto ? " (one per worker that sends)" : "",
		       p->rx_queues, p->rx_queues == 1 ? "" : "s", which, p->tx_queues);
	}

	rc = rte_eth_dev_configure(port_id, p->rx_queues, p->tx_queues, &conf);
	if (rc == -1)   /* a driver's own -1, not -EPERM: it said why in the log only */
		return bl_err_set(err, -EINVAL, "ports[%u] (%s): the driver refused %u rx and %u tx "
				  "queues and gave no reason (the log above says why; net_tap needs as "
				  "many tx_queues as rx_queues)", idx, p->name, p->rx_queues, p->tx_queues);
	if (rc != 0)
		return bl_err_set(err, rc, "ports[%u] (%s): configure failed: %s", idx, p->name, strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	if (rc != 0)
		return bl_err_set(err, rc, "ports[%u] (%s): descriptor counts rejected: %s",
				  idx, p->name, strerror(-rc));
	for (uint16_t q = 0; q < p->rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket < 0 ? 0 : (unsigned)socket, NULL, mp);
		if (rc == -ENOMEM)   /* net_af_packet: a ring frame larger than an mbuf's data */
			return bl_err_set(err, rc, "ports[%u] (%s): rx queue %u setup failed: %s (a "
					  "driver that cannot chain says above when its frames do not fit "
					  "in an mbuf: raise mbufs.data_room, now %u, or give it smaller "
					  "frames)", idx, p->name, q, strerror(-rc),
					  rte_pktmbuf_data_room_size(mp));
		if (rc != 0)
			return bl_err_set(err, rc, "ports[%u] (%s): rx queue %u setup failed: %s",
					  idx, p->name, q, strerror(-rc));
	}
	for (uint16_t q = 0; q < p->tx_queues; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, txd, socket < 0 ? 0 : (unsigned)socket, NULL);
		if (rc != 0)
			return bl_err_set(err, rc, "ports[%u] (%s): tx queue %u setup failed: %s",
					  idx, p->name, q, strerror(-rc));
	}
	/* Promiscuous mode on a kernel interface (net_af_packet's iface=) is the interface's
	 * flag: what was off before is put back off at the close (bl_port_close). */
	port_if_index[port_id] = info.if_index;
	promisc_ours[port_id] = !promiscuous_now(port_id, &info);
	rc = rte_eth_promiscuous_enable(port_id);
	if (rc != 0)
		promisc_ours[port_id] = false;
	if (rc != 0 && rc != -ENOTSUP)
		return bl_err_set(err, rc, "ports[%u] (%s): promiscuous mode failed: %s",
				  idx, p->name, strerror(-rc));
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return bl_err_set(err, rc, "ports[%u] (%s): start failed: %s", idx, p->name, strerror(-rc));
	/* A replayed capture keeps each record's time and wire length (bl_replay.h). */
	return bl_replay_attach(p, idx, port_id, err);
}

int
bl_port_open(struct bl_cfg *cfg, unsigned int idx, struct rte_mempool *mp,
	     uint16_t *port_id, struct bl_err *err)
{
	struct bl_cfg_port *p = &cfg->ports[idx];
	char devname[BL_CFG_DEV_MAX];
	int rc;

	bl_cfg_port_devname(p, devname, sizeof(devname));
	rc = create_device(p, idx, devname, port_id, err);
	if (rc != 0)
		return rc;
	rc = configure(p, idx, *port_id, mp, err);
	if (rc != 0)
		bl_port_close(cfg, idx, *port_id);
	return rc;
}

void
bl_port_close(const struct bl_cfg *cfg, unsigned int idx, uint16_t port_id)
{
	const struct bl_cfg_port *p = &cfg->ports[idx];
	char devname[BL_CFG_DEV_MAX];

	bl_replay_detach(port_id);
	if (port_id < RTE_MAX_ETHPORTS && promisc_ours[port_id]) {
		uint16_t other = RTE_MAX_ETHPORTS;

		promisc_ours[port_id] = false;
		for (uint16_t q = 0; port_if_index[port_id] != 0 && q < RTE_MAX_ETHPORTS; q++)
			if (q != port_id && port_if_index[q] == port_if_index[port_id]) {
				other = q;
				break;
			}
		if (other < RTE_MAX_ETHPORTS)
			promisc_ours[other] = true;   /* still in use: the last port on it restores */
		else
			(void)rte_eth_promiscuous_disable(port_id);   /* as it was before the open */
	}
	if (port_id < RTE_MAX_ETHPORTS)
		port_if_index[port_id] = 0;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	if (p->vdev[0] != '\0') {
		bl_cfg_port_devname(p, devname, sizeof(devname));
		rte_vdev_uninit(devname);
	}
}

int
bl_port_hw_stats(uint16_t port_id, struct bl_port_hw_stats *st)
{
	struct rte_eth_stats s;
	int rc = rte_eth_stats_get(port_id, &s);

	memset(st, 0, sizeof(*st));
	if (rc != 0)
		return rc;
	st->ipackets = s.ipackets;
	st->opackets = s.opackets;
	st->ibytes = s.ibytes;
	st->obytes = s.obytes;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->oerrors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	st->replay_unmatched = bl_replay_unmatched(port_id);
	return 0;
}
