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
#include <rte_tcp.h>
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

/* ---- stale-allow protection (filter.revalidate) ------------------------------- */

#define CLI IP(198, 18, 1, 10)
#define SRV IP(198, 19, 1, 10)
#define TCP_SYN 0x02
#define TCP_PSH_ACK 0x18
#define TCP_SYN_ACK 0x12
#define TCP_ACK 0x10

/* A TCP or UDP packet with valid checksums; 10 bytes of data (none for a bare SYN). */
static struct rte_mbuf *
l4_frame(const struct rte_ether_addr *src_mac, uint8_t port, uint32_t src, uint32_t dst,
	 uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint16_t data = proto == IPPROTO_TCP && (flags & TCP_SYN) ? 0 : 10;
	uint16_t hdr = proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);
	struct rte_mbuf *m = ipv4_frame(src_mac, port, src, dst, proto, 64, hdr + data, 0);
	struct rte_ipv4_hdr *ip = ip_of(m);

	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
		memset(th, 0, sizeof(*th));
		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(dport);
		th->sent_seq = rte_cpu_to_be_32(seq);
		th->recv_ack = rte_cpu_to_be_32(ack);
		th->data_off = 5 << 4;
		th->tcp_flags = flags;
		th->rx_win = rte_cpu_to_be_16(65535);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	} else {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
		uh->src_port = rte_cpu_to_be_16(sport);
		uh->dst_port = rte_cpu_to_be_16(dport);
		uh->dgram_len = rte_cpu_to_be_16(hdr + data);
		uh->dgram_cksum = 0;
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
	}
	return m;
}

static uint64_t reval_generation;

/* Parse and compile @p rules (rule strings) into a ruleset ready to publish. */
static struct rp_filter_live *
live_new(int revalidate, const char *const *rules, unsigned n)
{
	static const int lines[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct rp_filter_source src = {.file = "test.conf"};
	struct rp_filter_ports ports = {.name = {"lan0", "wan0"}, .n = 2};
	struct rp_filter_live *live = calloc(1, sizeof(*live));
	char prefix[32];
	int nerr = 0;

	src.rules = rules;
	src.rule_lines = lines;
	src.n_rules = n;
	src.revalidate = revalidate;
	live->rs = rp_ruleset_parse(&src, &ports, stderr, &nerr);
	CHECK(live->rs != NULL);
	snprintf(prefix, sizeof(prefix), "trv%lu", reval_generation + 1);
	CHECK_EQ(rp_ruleset_compile(live->rs, prefix, stderr), 0);
	live->fw[0] = rp_filter_worker_create(live->rs, 1);
	CHECK(live->fw[0] != NULL);
	live->generation = live->rs->generation = ++reval_generation;
	return live;
}

/* As the control thread does; the test thread is worker 0 and goes offline
 * meanwhile, or the grace period would wait for itself. */
static void
publish(struct rp_filter_live *live)
{
	rte_rcu_qsbr_thread_offline(dp.qsv, 0);
	rp_dp_filter_publish(&dp, live);
	rte_rcu_qsbr_thread_online(dp.qsv, 0);
}

/* Post one request to worker 0's conntrack mailbox and serve it at once. */
static struct rp_ct_mailbox *
ct_request(uint8_t type, uint32_t cursor, struct rp_ct_info *out, const struct rp_ct_filter *f)
{
	struct rp_ct_mailbox *mb = &w->ct_mailbox;
	mb->type = type;
	mb->cursor = cursor;
	mb->max = RP_CT_LIST_PAGE;
	mb->out = out;
	if (f)
		mb->filter = *f;
	__atomic_store_n(&mb->state, RP_CT_MB_POSTED, __ATOMIC_RELEASE);
	rp_ct_mailbox_serve(w->ct, mb, 0);
	mb->state = RP_CT_MB_IDLE;
	return mb;
}

/* Is there a connection proto src -> dst with this original destination port (ICMP: type << 8)? */
static int
ct_has(uint8_t proto, uint32_t src, uint32_t dst, uint16_t dport)
{
	static struct rp_ct_info page[RP_CT_LIST_PAGE];
	struct rp_ct_filter f = {.proto = proto, .src = src, .dst = dst};
	uint32_t cursor = 0;
	int found = 0;

	do {
		struct rp_ct_mailbox *mb = ct_request(RP_CT_REQ_LIST, cursor, page, &f);
		for (int i = 0; i < mb->result; i++)
			found += page[i].tuple[0].dport == dport;
		cursor = mb->cursor;
	} while (cursor != UINT32_MAX);
	return found;
}

/* The rule of FORWARD (or INPUT) at position @p pos, for its counters. */
static uint32_t
rule_id(const struct rp_filter_live *live, enum rp_chain_id chain, unsigned pos)
{
	return live->rs->chains[chain].rules[pos].id;
}

/*
 * A connection allowed by ruleset 1 and not by ruleset 2: with revalidate
 * off it lives on (netfilter); with revalidate on its next packet is dropped
 * (filter_revalidate) and the connection removed, while connections ruleset
 * 2 still allows go on, an idle refused one is removed by the walk, and the
 * checks move no rule counter, write no LOG line and take no limit token.
 */
static void
case_revalidate(void)
{
	static const char *const r1[] = {
		"-P FORWARD DROP",
		"-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT",
		"-A FORWARD -i lan0 -p udp --dport 5001 -j ACCEPT", /* A */
		"-A FORWARD -i lan0 -p udp --dport 5002 -j ACCEPT", /* B */
		"-A FORWARD -i lan0 -p udp --dport 5003 -j ACCEPT", /* C */
		"-A FORWARD -i lan0 -o wan0 -p tcp --syn --dport 22 -j ACCEPT", /* T */
	};
	static const char *const r2[] = {
		"-P FORWARD DROP",
		"-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT",
		/* reached only by a check of A: must log nothing, count nothing */
		"-A FORWARD -p udp --dport 5001 -j LOG --log-prefix \"A: \"",
		/* A's port, but from the other side: A came in on lan0 */
		"-A FORWARD -i wan0 -p udp --dport 5001 -j ACCEPT",
		"-A FORWARD -i lan0 -p udp --dport 5002 -j ACCEPT",
		/* T as its SYN; one token, which no check may take */
		"-A FORWARD -i lan0 -o wan0 -p tcp --syn --dport 22 -m limit --limit 1/hour --limit-burst 1 -j ACCEPT",
		/* would keep both echo connections, were they checked in FORWARD */
		"-A FORWARD -p icmp -j ACCEPT",
		"-A INPUT -i lan0 -d 198.18.1.1 -p icmp --icmp-type echo-request -j ACCEPT",
		"-A INPUT -p icmp -j DROP",
	};
	struct rte_ether_addr cli_mac = {{0x02, 0, 0, 0, 0x01, 0x10}};
	struct rte_ether_addr srv_mac = {{0x02, 0, 0, 0, 0x02, 0x10}};
	unsigned lagging = 99;

	/* start from an empty table, with the hosts' addresses known */
	for (int i = 0; i < 100 && ct_request(RP_CT_REQ_FLUSH, 0, NULL, NULL)->result != 0; i++)
		run();
	CHECK_EQ(rp_ct_count(w->ct), 0);
	CHECK_EQ(rp_neigh_add_static(dp.neigh, CLI, &cli_mac, LAN), 0);
	CHECK_EQ(rp_neigh_add_static(dp.neigh, SRV, &srv_mac, WAN), 0);
	drain(LAN);
	drain(WAN);

	/* ruleset 1 lets A, B, C, T and two pings to the router in */
	publish(live_new(0, r1, RTE_DIM(r1)));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4001, 5001, 0, 0, 0));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4002, 5002, 0, 0, 0));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4003, 5003, 0, 0, 0));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_TCP, 40000, 22, TCP_SYN, 1000, 0));
	inject(LAN, ipv4_frame(&client_mac, LAN, CLI, IP(198, 18, 1, 1), IPPROTO_ICMP, 64, 16, 0));
	inject(LAN, ipv4_frame(&client_mac, LAN, CLI, IP(198, 19, 1, 1), IPPROTO_ICMP, 64, 16, 0));
	run();
	CHECK_EQ(drain(WAN), 4);
	CHECK_EQ(drain(LAN), 2); /* the echo replies */
	inject(WAN, l4_frame(&server_mac, WAN, SRV, CLI, IPPROTO_TCP, 22, 40000, TCP_SYN_ACK, 5000, 1001));
	for (uint16_t p = 1; p <= 3; p++) /* A, B, C: replied, so ESTABLISHED */
		inject(WAN, l4_frame(&server_mac, WAN, SRV, CLI, IPPROTO_UDP, 5000 + p, 4000 + p, 0, 0, 0));
	run();
	CHECK_EQ(drain(LAN), 4);
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_TCP, 40000, 22, TCP_ACK, 1001, 5001));
	run();
	CHECK_EQ(drain(WAN), 1);
	CHECK_EQ(rp_ct_count(w->ct), 6);

	/* ruleset 2 without revalidate: A's next packet passes, as in netfilter */
	uint64_t reval_drops0 = drops(RP_DROP_FILTER_REVALIDATE);
	publish(live_new(0, r2, RTE_DIM(r2)));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4001, 5001, 0, 0, 0));
	run();
	CHECK_EQ(drain(WAN), 1);
	CHECK_EQ(drops(RP_DROP_FILTER_REVALIDATE), reval_drops0);
	CHECK_EQ(rp_ct_count(w->ct), 6);
	CHECK_EQ(rp_dp_reval_wait(&dp, reval_generation, 0, NULL), 0);

	/* the same rules with revalidate: in the first burst after the swap, A
	 * from the client, B from the server (its reply direction), T's data */
	struct rp_filter_live *live = live_new(1, r2, RTE_DIM(r2));
	uint64_t gen = live->generation;
	uint64_t deleted0 = rp_ct_counter(w->ct, RP_CT_CNT_REVALIDATE_DELETED);
	uint64_t log0 = events(RP_EV_LOG_LINES) + events(RP_EV_LOG_SUPPRESSED);
	uint64_t filter_drops0 = drops(RP_DROP_FILTER_DROP);
	publish(live);
	CHECK_EQ(rp_dp_reval_wait(&dp, gen, 0, &lagging), -ETIMEDOUT);
	CHECK_EQ(lagging, 0);
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4001, 5001, 0, 0, 0));
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_TCP, 40000, 22, TCP_PSH_ACK, 1001, 5001));
	inject(WAN, l4_frame(&server_mac, WAN, SRV, CLI, IPPROTO_UDP, 5002, 4002, 0, 0, 0));
	rp_worker_poll_once(w);
	CHECK_EQ(drops(RP_DROP_FILTER_REVALIDATE), reval_drops0 + 1);
	CHECK_EQ(drops(RP_DROP_FILTER_DROP), filter_drops0);
	struct rte_mbuf *m = sent(WAN); /* T's data, and nothing of A */
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(ip_of(m)->next_proto_id, IPPROTO_TCP);
		CHECK_EQ(rp_meta(m)->ct_state, RP_CT_ESTABLISHED);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(drain(WAN), 0);
	m = sent(LAN); /* B's packet to the client */
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(ip_of(m)->next_proto_id, IPPROTO_UDP);
		CHECK_EQ(rte_be_to_cpu_32(ip_of(m)->dst_addr), CLI);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(drain(LAN), 0);
	/* the walk finished in that loop: C (idle) and the ping to the WAN
	 * address (INPUT refuses it; FORWARD would not) are gone too */
	CHECK_EQ(rp_dp_reval_wait(&dp, gen, 0, NULL), 0);
	CHECK_EQ(ct_has(IPPROTO_UDP, CLI, SRV, 5001), 0);
	CHECK_EQ(ct_has(IPPROTO_UDP, CLI, SRV, 5002), 1);
	CHECK_EQ(ct_has(IPPROTO_UDP, CLI, SRV, 5003), 0);
	CHECK_EQ(ct_has(IPPROTO_TCP, CLI, SRV, 22), 1);
	CHECK_EQ(ct_has(IPPROTO_ICMP, CLI, IP(198, 18, 1, 1), 8 << 8), 1);
	CHECK_EQ(ct_has(IPPROTO_ICMP, CLI, IP(198, 19, 1, 1), 8 << 8), 0);
	CHECK_EQ(rp_ct_count(w->ct), 3);
	CHECK_EQ(rp_ct_counter(w->ct, RP_CT_CNT_REVALIDATE_DELETED), deleted0 + 3);
	/* no check moved a counter: only ESTABLISHED counted (T's data, B) */
	struct rp_filter_worker *fw = live->fw[0];
	CHECK_EQ(fw->pkts[rule_id(live, RP_CHAIN_FORWARD, 0)], 2);
	for (unsigned r = 1; r < live->rs->chains[RP_CHAIN_FORWARD].n_rules; r++)
		CHECK_EQ(fw->pkts[rule_id(live, RP_CHAIN_FORWARD, r)], 0);
	for (unsigned r = 0; r < live->rs->chains[RP_CHAIN_INPUT].n_rules; r++)
		CHECK_EQ(fw->pkts[rule_id(live, RP_CHAIN_INPUT, r)], 0);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_FORWARD], 0);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 0);
	CHECK_EQ(events(RP_EV_LOG_LINES) + events(RP_EV_LOG_SUPPRESSED), log0);

	/* the limit bucket still has its one token: a new SYN takes it, the next finds none */
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_TCP, 40001, 22, TCP_SYN, 7000, 0));
	run();
	CHECK_EQ(drain(WAN), 1);
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_TCP, 40002, 22, TCP_SYN, 8000, 0));
	run();
	for (unsigned r = 0; r < live->rs->chains[RP_CHAIN_FORWARD].n_rules; r++)
	CHECK_EQ(drain(WAN), 0);
	CHECK_EQ(drops(RP_DROP_FILTER_DROP), filter_drops0 + 1);
	/* A's next packet is a new connection now, which ruleset 2 refuses */
	inject(LAN, l4_frame(&client_mac, LAN, CLI, SRV, IPPROTO_UDP, 4001, 5001, 0, 0, 0));
	run();
	CHECK_EQ(drain(WAN), 0);
	CHECK_EQ(drops(RP_DROP_FILTER_DROP), filter_drops0 + 2);
	CHECK_EQ(drops(RP_DROP_FILTER_REVALIDATE), reval_drops0 + 1);

	publish(NULL);
}

/*
 * The walk through the table API: a new epoch while a walk runs makes every
 * connection stale again, those kept in the older epoch included, and the
 * walk starts over; it ends at the end of the table. (Worker 0's table,
 * between loops: case_revalidate left 4 connections in it.)
 */
static void
case_reval_epochs(void)
{
	struct rp_ct_table *t = w->ct;
	uint32_t idx[RP_BURST_MAX];
	uint32_t live = rp_ct_count(t);
	unsigned n;

	CHECK_EQ(live, 4);
	CHECK_EQ(rp_ct_reval_active(t), 0);
	rp_ct_reval_begin(t);
	CHECK_EQ(rp_ct_reval_active(t), 1);
	/* a large budget, but at most 2 handed out: kept in this epoch */
	n = rp_ct_reval_next(t, idx, 2, 1u << 20);
	CHECK_EQ(n, 2);
	for (unsigned i = 0; i < n; i++)
		rp_ct_reval_keep(t, idx[i]);
	CHECK_EQ(rp_ct_reval_active(t), 1);
	/* a newer ruleset: all 4 are stale again */
	rp_ct_reval_begin(t);
	n = rp_ct_reval_next(t, idx, RP_BURST_MAX, 1u << 20);
	CHECK_EQ(n, live);
	CHECK_EQ(rp_ct_reval_active(t), 0); /* the walk reached the end */
	/* refused: removed and counted; kept: current, so a next walk finds none */
	uint64_t deleted0 = rp_ct_counter(t, RP_CT_CNT_REVALIDATE_DELETED);
	CHECK_EQ(rp_ct_reval_refuse(t, idx[0]), 0);
	CHECK_EQ(rp_ct_reval_refuse(t, idx[0]), -ENOENT);
	for (unsigned i = 1; i < n; i++)
		rp_ct_reval_keep(t, idx[i]);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_REVALIDATE_DELETED), deleted0 + 1);
	CHECK_EQ(rp_ct_count(t), live - 1);
	rp_ct_reval_begin(t);
	rp_ct_reval_stop(t);
	CHECK_EQ(rp_ct_reval_active(t), 0);
	CHECK_EQ(rp_ct_reval_next(t, idx, RP_BURST_MAX, 1u << 20), 0);
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
	case_revalidate();
	case_reval_epochs();
	rp_neigh_free(dp.neigh);
	rp_fib_free(dp.fib);
	return rp_test_done("test_datapath");
}
