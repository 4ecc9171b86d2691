/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker pipeline end to end in one process: two net_ring ports stand in
 * for NICs; the test puts frames on their RX rings, runs worker and control
 * thread steps, and reads what the worker transmitted from their TX rings.
 * Each case asserts the exact frame that left (or that none did) and the
 * counter that moved.
 */
#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "rampart_datapath.h"
#include "rp_test.h"

#define LAN 0
#define WAN 1
#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static struct rp_dp dp;
static struct rp_worker *w;
static struct rte_ring *rx_ring[2], *tx_ring[2];
static struct rp_neigh_ops ops;
static uint64_t now_ms = 1000;

static const struct rte_ether_addr client_mac = {{0x02, 0, 0, 0, 0x01, 0x02}};
static const struct rte_ether_addr server_mac = {{0x02, 0, 0, 0, 0x02, 0x02}};

/* ---- frames ---------------------------------------------------------------- */

static struct rte_mbuf *
ipv4_frame(const struct rte_ether_addr *src_mac, uint8_t port, uint32_t src, uint32_t dst,
	   uint8_t proto, uint8_t ttl, uint16_t payload_len, int df)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	uint16_t len = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + payload_len;
	char *p = rte_pktmbuf_append(m, len);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	memset(p, 0, len);
	eth->dst_addr = dp.ports[port].mac;
	eth->src_addr = *src_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + payload_len);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	for (uint16_t i = 0; i < payload_len; i++)
		((uint8_t *)(ip + 1))[i] = (uint8_t)i;
	if (proto == IPPROTO_ICMP && payload_len >= 8) {
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		icmp->icmp_code = 0;
		icmp->icmp_cksum = 0;
		icmp->icmp_ident = rte_cpu_to_be_16(7);
		icmp->icmp_seq_nb = rte_cpu_to_be_16(1);
		icmp->icmp_cksum = ~rte_raw_cksum(icmp, payload_len);
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static struct rte_mbuf *
arp_frame(uint8_t port, uint16_t op, const struct rte_ether_addr *sha, uint32_t sip, uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	char *p = rte_pktmbuf_append(m, 60);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(p, 0, 60);
	if (op == RTE_ARP_OP_REQUEST)
		memset(&eth->dst_addr, 0xff, 6);
	else
		eth->dst_addr = dp.ports[port].mac;
	eth->src_addr = *sha;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = *sha;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	if (op == RTE_ARP_OP_REPLY)
		arp->arp_data.arp_tha = dp.ports[port].mac;
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

/* ---- harness ---------------------------------------------------------------- */

static void
inject(uint8_t port, struct rte_mbuf *m)
{
	rte_ring_enqueue(rx_ring[port], m);
}

/* One worker loop and one control thread step, twice (a reply may need both). */
static void
run(void)
{
	for (int i = 0; i < 2; i++) {
		rp_worker_poll_once(w);
		rp_slowpath_poll(&dp, now_ms);
		rp_worker_poll_once(w);
	}
}

static struct rte_mbuf *
sent(uint8_t port)
{
	struct rte_mbuf *m = NULL;
	if (rte_ring_dequeue(tx_ring[port], (void **)&m) != 0)
		return NULL;
	return m;
}

static unsigned
drain(uint8_t port)
{
	unsigned n = 0;
	struct rte_mbuf *m;
	while ((m = sent(port)) != NULL) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static uint64_t
drops(enum rp_drop r)
{
	struct rp_worker_stats s;
	rp_dp_sum_stats(&dp, &s);
	return s.drops[r];
}

static uint64_t
events(enum rp_event e)
{
	struct rp_worker_stats s;
	rp_dp_sum_stats(&dp, &s);
	return s.events[e];
}

static struct rte_ipv4_hdr *
ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
}

/* a header is valid when its one's complement sum, checksum included, is 0xffff */
static int
ip_cksum_ok(struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

static void
setup(void)
{
	struct rp_config cfg;
	static const char *names[2] = {"lan0", "wan0"};
	static const uint32_t addrs[2] = {IP(198, 18, 1, 1), IP(198, 19, 1, 1)};

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers.n_lcores = 1;
	cfg.workers.lcores[0] = rte_lcore_id();
	cfg.workers.burst = 32;
	cfg.icmp.ratelimit_pps = 0; /* unlimited: the cases count exact ICMP errors */
	cfg.icmp.burst = 50;
	cfg.conntrack.max = 4096;
	cfg.conntrack.tcp_loose = 1;
	cfg.conntrack.checksum = 1;
	cfg.conntrack.frag.max_datagrams = 64;
	cfg.conntrack.frag.timeout_ms = 1000;

	dp.pool = rte_pktmbuf_pool_create("test_pool", 4095, 0, RP_MBUF_PRIV_SIZE,
					  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(dp.pool != NULL);
	CHECK_EQ(rp_dp_init_workers(&dp, &cfg), 0);
	w = dp.workers[0];
	rte_rcu_qsbr_thread_register(dp.qsv, 0);
	rte_rcu_qsbr_thread_online(dp.qsv, 0);

	for (int p = 0; p < 2; p++) {
		char name[32];
		struct rte_eth_conf conf = {0};
		snprintf(name, sizeof(name), "rx%d", p);
		rx_ring[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tx%d", p);
		tx_ring[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "net_ring_%s", names[p]);
		int pid = rte_eth_from_rings(name, &rx_ring[p], 1, &tx_ring[p], 1, 0);
		CHECK(pid >= 0);
		CHECK_EQ(rte_eth_dev_configure(pid, 1, 1, &conf), 0);
		CHECK_EQ(rte_eth_rx_queue_setup(pid, 0, 256, 0, NULL, dp.pool), 0);
		CHECK_EQ(rte_eth_tx_queue_setup(pid, 0, 256, 0, NULL), 0);
		CHECK_EQ(rte_eth_dev_start(pid), 0);
		struct rp_port *port = &dp.ports[p];
		port->port_id = (uint16_t)pid;
		port->mtu = 1500;
		rte_eth_macaddr_get(pid, &port->mac);
		snprintf(port->name, sizeof(port->name), "%s", names[p]);
		port->addrs[0] = addrs[p];
		port->lens[0] = 24;
		port->n_addrs = 1;
		port->link_up = 1;
	}
	dp.n_ports = 2;
	rp_dp_index_local(&dp);
	dp.fib = rp_fib_create("test_fib", 64, 0);
	CHECK(dp.fib != NULL);
	rp_fib_add_interface(dp.fib, addrs[0], 24, LAN);
	rp_fib_add_interface(dp.fib, addrs[1], 24, WAN);
	/* 203.0.113.0/24 via the server; 192.0.2.0/24 has no route */
	rp_fib_add(dp.fib, IP(203, 0, 113, 0), 24, rp_nh_make(RP_RT_GATEWAY, WAN, IP(198, 19, 1, 2)),
		   "static");
	rp_slowpath_neigh_ops(&dp, &ops);
	dp.neigh = rp_neigh_create("test_neigh", 64, 1, dp.qsv, 0, &ops);
	CHECK(dp.neigh != NULL);
}

/* ---- cases ------------------------------------------------------------------ */

/* The client's ARP request for the router is answered and teaches us the client. */
static void
case_arp_request_answered(void)
{
	inject(LAN, arp_frame(LAN, RTE_ARP_OP_REQUEST, &client_mac, IP(198, 18, 1, 2), IP(198, 18, 1, 1)));
	run();
	struct rte_mbuf *m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
		CHECK(rte_is_same_ether_addr(&eth->dst_addr, &client_mac));
		CHECK_EQ(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REPLY);
		CHECK(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &dp.ports[LAN].mac));
		CHECK_EQ(rte_be_to_cpu_32(arp->arp_data.arp_sip), IP(198, 18, 1, 1));
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(drain(LAN), 0);
	CHECK_EQ(rp_neigh_count(dp.neigh), 1);
	/* a request for an address that is not ours gets nothing and creates nothing */
	inject(LAN, arp_frame(LAN, RTE_ARP_OP_REQUEST, &client_mac, IP(198, 18, 1, 3), IP(198, 18, 1, 77)));
	run();
	CHECK_EQ(drain(LAN), 0);
	CHECK_EQ(rp_neigh_count(dp.neigh), 1);
}

/* A packet to an unresolved server is held, ARP asks, the reply releases it. */
static void
case_forward_after_resolution(void)
{
	uint64_t fwd0 = events(RP_EV_FORWARDED);
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 30, 0));
	run();
	CHECK_EQ(events(RP_EV_NEIGH_HELD), 1);
	struct rte_mbuf *req = sent(WAN);
	CHECK(req != NULL);
	if (req) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(req, struct rte_ether_hdr *);
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
		CHECK(rte_is_broadcast_ether_addr(&eth->dst_addr));
		CHECK_EQ(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REQUEST);
		CHECK_EQ(rte_be_to_cpu_32(arp->arp_data.arp_tip), IP(198, 19, 1, 2));
		CHECK_EQ(rte_be_to_cpu_32(arp->arp_data.arp_sip), IP(198, 19, 1, 1));
		rte_pktmbuf_free(req);
	}
	CHECK_EQ(drain(WAN), 0);

	inject(WAN, arp_frame(WAN, RTE_ARP_OP_REPLY, &server_mac, IP(198, 19, 1, 2), IP(198, 19, 1, 1)));
	run();
	struct rte_mbuf *m = sent(WAN);
	CHECK(m != NULL);
	if (m) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip = ip_of(m);
		CHECK(rte_is_same_ether_addr(&eth->dst_addr, &server_mac));
		CHECK(rte_is_same_ether_addr(&eth->src_addr, &dp.ports[WAN].mac));
		CHECK_EQ(ip->time_to_live, 63);
		CHECK(ip_cksum_ok(ip));
		CHECK_EQ(m->pkt_len, RTE_ETHER_HDR_LEN + 20 + 30);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(events(RP_EV_FORWARDED), fwd0 + 1);

	/* now resolved: a burst of 40 goes straight through, in order */
	for (int i = 0; i < 40; i++)
		inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP,
				       (uint8_t)(10 + i), 30, 0));
	run();
	int in_order = 1;
	unsigned n = 0;
	while ((m = sent(WAN)) != NULL) {
		if (ip_of(m)->time_to_live != 9 + n)
			in_order = 0;
		n++;
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(n, 40);
	CHECK(in_order);
	CHECK_EQ(events(RP_EV_NEIGH_HELD), 1);
}

static struct rte_icmp_hdr *
icmp_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, RTE_ETHER_HDR_LEN + 20);
}

static void
case_icmp_errors(void)
{
	struct rte_mbuf *m;

	/* TTL 1: time exceeded from the router's LAN address */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 1, 30, 0));
	run();
	CHECK_EQ(drops(RP_DROP_TTL_EXCEEDED), 1);
	m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(rte_be_to_cpu_32(ip_of(m)->src_addr), IP(198, 18, 1, 1));
		CHECK_EQ(rte_be_to_cpu_32(ip_of(m)->dst_addr), IP(198, 18, 1, 2));
		CHECK_EQ(icmp_of(m)->icmp_type, 11);
		CHECK_EQ(icmp_of(m)->icmp_code, 0);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(drain(WAN), 0);

	/* no route: net unreachable */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(192, 0, 2, 9), IPPROTO_UDP, 64, 30, 0));
	run();
	CHECK_EQ(drops(RP_DROP_NO_ROUTE), 1);
	m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(icmp_of(m)->icmp_type, 3);
		CHECK_EQ(icmp_of(m)->icmp_code, 0);
		rte_pktmbuf_free(m);
	}

	/* DF and too big for the WAN MTU: fragmentation needed, with the MTU */
	dp.ports[WAN].mtu = 1000;
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 1400, 1));
	run();
	CHECK_EQ(drops(RP_DROP_FRAG_NEEDED), 1);
	m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(icmp_of(m)->icmp_type, 3);
		CHECK_EQ(icmp_of(m)->icmp_code, 4);
		CHECK_EQ(rte_be_to_cpu_16(icmp_of(m)->icmp_seq_nb), 1000);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(drain(WAN), 0);

	/* without DF: fragmented to fit, every fragment a valid IPv4 packet */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 1400, 0));
	run();
	unsigned nfrag = 0, payload = 0;
	while ((m = sent(WAN)) != NULL) {
		struct rte_ipv4_hdr *ip = ip_of(m);
		CHECK(rte_be_to_cpu_16(ip->total_length) <= 1000);
		CHECK(ip_cksum_ok(ip));
		CHECK_EQ(ip->time_to_live, 63);
		payload += rte_be_to_cpu_16(ip->total_length) - 20;
		nfrag++;
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(nfrag, 2);
	CHECK_EQ(payload, 1400);
	CHECK_EQ(events(RP_EV_FRAGMENTED), 1);
	dp.ports[WAN].mtu = 1500;
}

static void
case_local_and_invalid(void)
{
	struct rte_mbuf *m;

	/* echo request to the router is answered */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 18, 1, 1), IPPROTO_ICMP, 64, 56, 0));
	run();
	m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(rte_be_to_cpu_32(ip_of(m)->src_addr), IP(198, 18, 1, 1));
		CHECK_EQ(rte_be_to_cpu_32(ip_of(m)->dst_addr), IP(198, 18, 1, 2));
		CHECK_EQ(icmp_of(m)->icmp_type, 0);
		CHECK_EQ(icmp_of(m)->icmp_ident, rte_cpu_to_be_16(7));
		CHECK(ip_cksum_ok(ip_of(m)));
		/* the request was confirmed into conntrack, our reply is its reply */
		CHECK_EQ(rp_meta(m)->ct_state, RP_CT_ESTABLISHED);
		CHECK_EQ(rp_meta(m)->ct_dir, 1);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(events(RP_EV_ICMP_ECHO_REPLIED), 1);
	CHECK_EQ(rp_ct_count(w->ct), 1);
	CHECK_EQ(rp_ct_counter(w->ct, RP_CT_CNT_INSERTED), 1);

	/* UDP to the router: no local service yet */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 1), IPPROTO_UDP, 64, 20, 0));
	run();
	CHECK_EQ(drops(RP_DROP_LOCAL_NO_SERVICE), 1);
	CHECK_EQ(drain(LAN) + drain(WAN), 0);

	/* bad header checksum */
	m = ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 20, 0);
	ip_of(m)->hdr_checksum ^= 0x0101;
	inject(LAN, m);
	/* martian sources: loopback, and our own address from outside */
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(127, 0, 0, 1), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 20, 0));
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 19, 1, 1), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 20, 0));
	/* truncated: total length beyond the frame */
	m = ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 20, 0);
	rte_pktmbuf_trim(m, 10);
	inject(LAN, m);
	run();
	CHECK_EQ(drops(RP_DROP_IP_CSUM), 1);
	CHECK_EQ(drops(RP_DROP_MARTIAN_SRC), 2);
	CHECK_EQ(drops(RP_DROP_IP_SHORT), 1);
	CHECK_EQ(drain(LAN) + drain(WAN), 0);
}

/* A next hop that never answers: 3 requests, then host unreachable for the held packet. */
static void
case_unresolved(void)
{
	uint32_t gone = IP(198, 19, 1, 50);
	uint64_t sent_before = events(RP_EV_ICMP_ERR_SENT);

	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), gone, IPPROTO_UDP, 64, 30, 0));
	run();
	CHECK_EQ(drain(WAN), 1); /* first request */
	for (int s = 1; s <= 3; s++) {
		now_ms += 1000;
		run();
	}
	CHECK_EQ(drain(WAN), 2); /* two retransmissions */
	CHECK_EQ(drops(RP_DROP_NEIGH_UNRESOLVED), 1);
	struct rte_mbuf *m = sent(LAN);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(icmp_of(m)->icmp_type, 3);
		CHECK_EQ(icmp_of(m)->icmp_code, 1);
		/* the quoted header is the packet as the client sent it (TTL 64) */
		struct rte_ipv4_hdr *quoted = (struct rte_ipv4_hdr *)(icmp_of(m) + 1);
		CHECK_EQ(quoted->time_to_live, 64);
		CHECK_EQ(rte_be_to_cpu_32(quoted->dst_addr), gone);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(events(RP_EV_ICMP_ERR_SENT), sent_before + 1);
}

static void
case_link_down(void)
{
	__atomic_store_n(&dp.ports[WAN].link_up, 0, __ATOMIC_RELAXED);
	inject(LAN, ipv4_frame(&client_mac, LAN, IP(198, 18, 1, 2), IP(198, 19, 1, 2), IPPROTO_UDP, 64, 30, 0));
	run();
	CHECK_EQ(drops(RP_DROP_LINK_DOWN), 1);
	CHECK_EQ(drain(WAN), 0);
	__atomic_store_n(&dp.ports[WAN].link_up, 1, __ATOMIC_RELAXED);
}

int
main(void)
{
	rp_test_eal_init("datapath");
	setup();
	case_arp_request_answered();
	case_forward_after_resolution();
	case_icmp_errors();
	case_local_and_invalid();
	case_unresolved();
	case_link_down();
	return rp_test_done("test_datapath");
}
