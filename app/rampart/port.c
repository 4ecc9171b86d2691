/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "host.h"
#include "port.h"

#define LOG(level, ...) RTE_LOG(level, USER1, __VA_ARGS__)

/*
 * The symmetric Toeplitz key (0x6d5a repeated): both directions of a flow
 * hash to the same queue, so one worker sees both (DESIGN.md, flow affinity).
 */
static uint8_t rss_key_sym[64];

int
rp_port_is_pci(const char *device)
{
	unsigned a, b, c, d;
	char tail;
	return sscanf(device, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
	       sscanf(device, "%x:%x.%x%c", &a, &b, &c, &tail) == 3;
}

void
rp_port_dev_name(const char *device, char *name, size_t size)
{
	unsigned a, b, c, d;
	if (sscanf(device, "%x:%x:%x.%x", &a, &b, &c, &d) == 4)
		snprintf(name, size, "%04x:%02x:%02x.%x", a, b, c, d);
	else if (sscanf(device, "%x:%x.%x", &b, &c, &d) == 3 && rp_port_is_pci(device))
		snprintf(name, size, "0000:%02x:%02x.%x", b, c, d);
	else
		snprintf(name, size, "%.*s", (int)strcspn(device, ","), device);
}

/*
 * RETA entry i -> queue (i & 127) % workers: the queue the NIC picks is then
 * rp_ct_owner(hash), the owner the workers compute in software.
 */
static void
program_reta(uint16_t pid, uint16_t reta_size, unsigned n_workers, const char *name)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];

	memset(reta, 0, sizeof(reta));
	for (unsigned i = 0; i < reta_size && i < RTE_ETH_RSS_RETA_SIZE_512; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)((i & 127) % n_workers);
	}
	if (rte_eth_dev_rss_reta_update(pid, reta, reta_size) != 0)
		LOG(WARNING, "port %s: cannot program the RSS table; handoffs will do\n", name);
}

static int
port_start(struct rp_dp *dp, unsigned idx, const struct rp_port_conf *pc, unsigned n_workers)
{
	struct rp_port *p = &dp->ports[idx];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid, nb_rx = pc->rx_desc, nb_tx = pc->tx_desc;
	int rc;

	rp_port_dev_name(pc->device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		LOG(ERR, "port %s: device \"%s\" was not probed (is the device string right, and "
			 "is a PCI device bound to a DPDK driver?)\n", pc->name, pc->device);
		return -1;
	}
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		LOG(ERR, "port %s: rte_eth_dev_info_get failed: %s\n", pc->name, rte_strerror(-rc));
		return -1;
	}
	if (info.max_rx_queues < n_workers || info.max_tx_queues < n_workers) {
		LOG(ERR, "port %s: device %s offers %u RX / %u TX queues but %u workers need one each\n",
		    pc->name, pc->device, info.max_rx_queues, info.max_tx_queues, n_workers);
		return -1;
	}
	/* af_packet's queue count is its qpairs argument: a queue no worker polls would
	 * swallow the flows the kernel fans out to it */
	if (strcmp(info.driver_name, "net_af_packet") == 0 && info.max_rx_queues != n_workers) {
		LOG(ERR, "port %s: %s has qpairs=%u but there are %u workers; set qpairs=%u\n",
		    pc->name, pc->device, info.max_rx_queues, n_workers, n_workers);
		return -1;
	}

	memset(&conf, 0, sizeof(conf));
	if (info.flow_type_rss_offloads != 0) {
		/* only where the device has RSS: af_packet refuses an RSS request */
		memset(rss_key_sym, 0, sizeof(rss_key_sym));
		for (unsigned i = 0; i < sizeof(rss_key_sym); i += 2) {
			rss_key_sym[i] = 0x6d;
			rss_key_sym[i + 1] = 0x5a;
		}
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = rss_key_sym;
		conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size ? info.hash_key_size : 40;
		/* the address pair decides the owning worker (rampart_conntrack.h); the
		 * workers check ownership in software, so a NIC that hashes more than the
		 * pair costs handoffs, never correctness */
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
			 RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV4_OTHER) &
			info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;

	rc = rte_eth_dev_configure(pid, n_workers, n_workers, &conf);
	if (rc != 0) {
		LOG(ERR, "port %s: rte_eth_dev_configure(port %u, %u queues) failed: %s\n", pc->name,
		    pid, n_workers, rte_strerror(-rc));
		return -1;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
	for (unsigned q = 0; q < n_workers; q++) {
		int socket = (int)rte_lcore_to_socket_id(dp->workers[q]->lcore);
		rc = rte_eth_rx_queue_setup(pid, q, nb_rx, socket, NULL, dp->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(pid, q, nb_tx, socket, NULL);
		if (rc != 0) {
			LOG(ERR, "port %s: queue %u setup failed: %s\n", pc->name, q, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_set_mtu(pid, pc->mtu);
	if (rc != 0) {
		uint16_t cur = 0;
		rte_eth_dev_get_mtu(pid, &cur);
		if (cur != pc->mtu) {
			LOG(ERR, "port %s: cannot set MTU %u (device keeps %u): %s\n", pc->name, pc->mtu,
			    cur, rte_strerror(-rc));
			return -1;
		}
	}
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS && info.reta_size >= 128)
		program_reta(pid, info.reta_size, n_workers, pc->name);
	rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		LOG(ERR, "port %s: rte_eth_dev_start failed: %s\n", pc->name, rte_strerror(-rc));
		return -1;
	}
	p->port_id = pid;
	p->mtu = pc->mtu;
	rte_eth_macaddr_get(pid, &p->mac);
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	p->n_addrs = pc->n_addrs;
	for (unsigned a = 0; a < pc->n_addrs; a++) {
		p->addrs[a] = pc->addrs[a].addr;
		p->lens[a] = pc->addrs[a].len;
	}
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	LOG(INFO, "port %s: %s (%s), %u queue(s), %u/%u descriptors, MTU %u, MAC %s%s%s\n", pc->name,
	    pc->device, info.driver_name, n_workers, nb_rx, nb_tx, pc->mtu, mac,
	    conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? ", symmetric RSS" : ", no RSS",
	    conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM ? ", RX IPv4 checksum offload" : "");
	return 0;
}

int
rp_ports_start(struct rp_dp *dp, const struct rp_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		if (port_start(dp, i, &cfg->ports[i], dp->n_workers) != 0) {
			dp->n_ports = i; /* so that rp_ports_stop closes what started */
			return -1;
		}
		dp->n_ports = i + 1;
	}
	if (cfg->host.present) {
		/* the host interface is a port of its own, after the configured ones:
		 * no addresses (the kernel holds them), never a route's egress */
		struct rp_port_conf hc;
		memset(&hc, 0, sizeof(hc));
		snprintf(hc.name, sizeof(hc.name), "host");
		rp_host_device(cfg, hc.device, sizeof(hc.device));
		hc.mtu = cfg->host.mtu;
		hc.rx_desc = hc.tx_desc = 1024;
		if (port_start(dp, cfg->n_ports, &hc, dp->n_workers) != 0)
			return -1;
		dp->host_port = (int)cfg->n_ports;
		dp->n_ports = cfg->n_ports + 1;
	}
	return 0;
}

void
rp_ports_check_links(struct rp_dp *dp, int initial)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rp_port *p = &dp->ports[i];
		struct rte_eth_link link;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->port_id, &link) != 0)
			continue;
		uint8_t up = link.link_status == RTE_ETH_LINK_UP;
		if (initial || up != __atomic_load_n(&p->link_up, __ATOMIC_RELAXED)) {
			char text[RTE_ETH_LINK_MAX_STR_LEN];
			rte_eth_link_to_str(text, sizeof(text), &link);
			if (up)
				LOG(INFO, "port %s: %s\n", p->name, text);
			else
				LOG(WARNING, "port %s: link down; its TX is counted as link_down drops\n",
				    p->name);
		}
		__atomic_store_n(&p->link_up, up, __ATOMIC_RELAXED);
	}
}

void
rp_ports_stop(struct rp_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
}
