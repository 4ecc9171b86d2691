/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking tables: packet sequences with the state each packet
 * must get (as iptables' -m state would give it), the entries they leave
 * (tuples, counters, timeouts), expiry on a mocked clock, table limits,
 * expectations, the control mailbox and RCU reclamation.
 *
 * Packets are real frames, parsed by rp_pkt_parse and rp_pkt_parse_l4 (with
 * checksum verification) as the datapath does. A packet is "accepted" by
 * calling rp_ct_confirm after classification, as the datapath does for
 * everything the filter lets through. Runs without hugepages.
 */
#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_conntrack.h"
#include "rp_test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static const uint32_t C = IP(198, 18, 1, 2); /* client */
static const uint32_t S = IP(198, 19, 1, 2); /* server */
static const uint32_t R = IP(198, 19, 1, 1); /* a router on the way */

static struct rte_mempool *pool;
static const struct rte_ether_addr port_mac = {{0x02, 0, 0, 0, 0, 0x01}};
static unsigned table_seq;

/* ---- frames -------------------------------------------------------------- */

/* An Ethernet/IPv4 frame carrying @p l4 (@p l4_len bytes), IP checksum set;
 * @p ip_len_l4 is what the IP total length claims for L4 (normally l4_len). */
static struct rte_mbuf *
frame(uint8_t proto, uint32_t src, uint32_t dst, const void *l4, uint16_t l4_len,
      uint16_t frag_field)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		exit(1);
	}
	uint16_t len = (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + l4_len);
	char *p = rte_pktmbuf_append(m, len);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	memset(p, 0, len);
	eth->dst_addr = port_mac;
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->fragment_offset = rte_cpu_to_be_16(frag_field);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	memcpy(ip + 1, l4, l4_len);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static struct rte_ipv4_hdr *
frame_ip(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
}

/* Parse as the datapath does, L4 checksums verified. */
static struct rte_mbuf *
parsed(struct rte_mbuf *m)
{
	CHECK_EQ(rp_pkt_parse(m, 0, &port_mac), RP_PKT_IPV4);
	rp_pkt_parse_l4(m, 1);
	return m;
}

static void
fix_l4_cksum(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = frame_ip(m);
	void *l4 = ip + 1;

	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = l4;
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ip, l4);
	} else if (ip->next_proto_id == IPPROTO_UDP) {
		struct rte_udp_hdr *uh = l4;
		uh->dgram_cksum = 0;
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, l4);
	} else if (ip->next_proto_id == IPPROTO_ICMP) {
		uint16_t len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - sizeof(*ip));
		uint8_t *b = l4;
		b[2] = b[3] = 0;
		uint16_t sum = (uint16_t)~rte_raw_cksum(l4, len);
		memcpy(b + 2, &sum, 2);
	}
}

/* A TCP segment without options, @p payload bytes of data. */
static struct rte_mbuf *
tcp_raw(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
	uint32_t ack, uint16_t payload)
{
	uint8_t buf[sizeof(struct rte_tcp_hdr) + 1500];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)buf;

	memset(buf, 0, sizeof(buf));
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	struct rte_mbuf *m = frame(IPPROTO_TCP, src, dst, buf,
				   (uint16_t)(sizeof(*th) + payload), 0);
	fix_l4_cksum(m);
	return m;
}

static struct rte_mbuf *
tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
    uint32_t ack, uint16_t payload)
{
	return parsed(tcp_raw(src, sport, dst, dport, flags, seq, ack, payload));
}

static struct rte_mbuf *
udp_raw(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint16_t payload)
{
	uint8_t buf[sizeof(struct rte_udp_hdr) + 1500];
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)buf;

	memset(buf, 0, sizeof(buf));
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = rte_cpu_to_be_16(dport);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + payload));
	struct rte_mbuf *m = frame(IPPROTO_UDP, src, dst, buf, (uint16_t)(sizeof(*uh) + payload), 0);
	fix_l4_cksum(m);
	return m;
}

static struct rte_mbuf *
udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint16_t payload)
{
	return parsed(udp_raw(src, sport, dst, dport, payload));
}

/* An ICMP query (echo, timestamp...) with identifier @p id. */
static struct rte_mbuf *
icmp_query(uint32_t src, uint32_t dst, uint8_t type, uint16_t id)
{
	uint8_t buf[8 + 32] = {type, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, 1};
	struct rte_mbuf *m = frame(IPPROTO_ICMP, src, dst, buf, sizeof(buf), 0);
	fix_l4_cksum(m);
	return parsed(m);
}

/* An ICMP error quoting @p orig's IP header and @p quote_l4 bytes of its L4 header. */
static struct rte_mbuf *
icmp_error(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, struct rte_mbuf *orig,
	   uint16_t quote_l4)
{
	uint8_t buf[8 + 20 + 64];

	memset(buf, 0, sizeof(buf));
	buf[0] = type;
	buf[1] = code;
	memcpy(buf + 8, frame_ip(orig), 20 + quote_l4);
	struct rte_mbuf *m = frame(IPPROTO_ICMP, src, dst, buf, (uint16_t)(8 + 20 + quote_l4), 0);
	fix_l4_cksum(m);
	return parsed(m);
}

static struct rte_mbuf *
gre(uint32_t src, uint32_t dst)
{
	uint8_t buf[24] = {0, 0, 0x08, 0x00};
	return parsed(frame(47, src, dst, buf, sizeof(buf), 0));
}

/* ---- running packets -------------------------------------------------------- */

struct result {
	int state;
	int confirm;
	uint32_t idx;
	unsigned dir;
};

/* Classify one packet; confirm it when it is NEW or RELATED (the filter
 * accepts everything), unless @p drop; free it. */
static struct result
run_opt(struct rp_ct_table *t, struct rte_mbuf *m, uint32_t now, int drop)
{
	struct result r = {0};

	rp_ct_classify_burst(t, &m, 1, now);
	r.state = rp_meta(m)->ct_state;
	if (!drop)
		r.confirm = rp_ct_confirm(t, m, now);
	r.idx = rp_meta(m)->ct_idx;
	r.dir = rp_meta(m)->ct_dir;
	rte_pktmbuf_free(m);
	return r;
}

static struct result
run(struct rp_ct_table *t, struct rte_mbuf *m, uint32_t now)
{
	return run_opt(t, m, now, 0);
}

static int
state(struct rp_ct_table *t, struct rte_mbuf *m, uint32_t now)
{
	return run(t, m, now).state;
}

static struct rp_ct_table *
table_conf(const struct rp_ct_conf *conf, struct rte_rcu_qsbr *qsv)
{
	char name[32];
	snprintf(name, sizeof(name), "ct_test%u", table_seq++);
	struct rp_ct_table *t = rp_ct_create(name, conf, qsv, SOCKET_ID_ANY);
	if (t == NULL) {
		fprintf(stderr, "rp_ct_create(%s): %s\n", name, rte_strerror(rte_errno));
		exit(1);
	}
	return t;
}

static struct rp_ct_table *
table(uint32_t max)
{
	struct rp_ct_conf conf;
	rp_ct_default_conf(&conf);
	conf.max = max;
	return table_conf(&conf, NULL);
}

static struct rp_ct_tuple
tuple(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct rp_ct_tuple k;
	memset(&k, 0, sizeof(k));
	k.src = src;
	k.dst = dst;
	k.sport = sport;
	k.dport = dport;
	k.proto = proto;
	return k;
}

static int
tuple_is(const struct rp_ct_tuple *k, uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
	 uint16_t dport)
{
	struct rp_ct_tuple x = tuple(proto, src, sport, dst, dport);
	return memcmp(k, &x, sizeof(x)) == 0;
}

/* Post a request and serve it at once, as the worker would in its loop. */
static int32_t
mailbox(struct rp_ct_table *t, struct rp_ct_mailbox *mb, uint8_t type, uint32_t now)
{
	mb->type = type;
	__atomic_store_n(&mb->state, RP_CT_MB_POSTED, __ATOMIC_RELEASE);
	rp_ct_mailbox_serve(t, mb, now);
	CHECK_EQ(__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE), RP_CT_MB_DONE);
	return mb->result;
}

/* ---- TCP -------------------------------------------------------------------- */

#define T0 1000000u

/* Handshake, data both ways and a FIN teardown: one entry, both directions
 * counted exactly, then the reopening SYN after TIME_WAIT. */
static void
test_tcp_lifecycle(void)
{
	struct rp_ct_table *t = table(64);
	struct result r;
	uint32_t now = T0;

	r = run(t, tcp(C, 40000, S, 80, F_SYN, 1000, 0, 0), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(r.dir, 0);
	CHECK(r.idx != RP_CT_NO_ENTRY);
	uint32_t idx = r.idx;
	struct rp_ct_entry *e = rp_ct_entry_get(t, idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK(tuple_is(&e->tuple[0], IPPROTO_TCP, C, 40000, S, 80));
	CHECK(tuple_is(&e->tuple[1], IPPROTO_TCP, S, 80, C, 40000));
	CHECK_EQ(e->proto.tcp.state, RP_TCP_SYN_SENT);
	CHECK_EQ(e->expires, now + 120 * 1000);
	CHECK_EQ(e->status, 0);
	CHECK_EQ(rp_ct_count(t), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INSERTED), 1);

	now += 10;
	r = run(t, tcp(S, 80, C, 40000, F_SYN | F_ACK, 5000, 1001, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.idx, idx);
	CHECK_EQ(r.dir, 1);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_SYN_RECV);
	CHECK_EQ(e->status & RP_CT_S_SEEN_REPLY, RP_CT_S_SEEN_REPLY);
	CHECK_EQ(e->expires, now + 60 * 1000);

	now += 10;
	r = run(t, tcp(C, 40000, S, 80, F_ACK, 1001, 5001, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 0);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_ESTABLISHED);
	CHECK_EQ(e->status & RP_CT_S_ASSURED, RP_CT_S_ASSURED);
	CHECK_EQ(e->expires, now + 5u * 24 * 3600 * 1000);

	r = run(t, tcp(C, 40000, S, 80, F_PSH | F_ACK, 1001, 5001, 100), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	r = run(t, tcp(S, 80, C, 40000, F_PSH | F_ACK, 5001, 1101, 200), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 1);

	r = run(t, tcp(C, 40000, S, 80, F_FIN | F_ACK, 1101, 5201, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_FIN_WAIT);
	r = run(t, tcp(S, 80, C, 40000, F_FIN | F_ACK, 5201, 1102, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_LAST_ACK);
	now += 5;
	r = run(t, tcp(C, 40000, S, 80, F_ACK, 1102, 5202, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_TIME_WAIT);
	CHECK_EQ(e->expires, now + 120 * 1000);

	/* exactly one connection, both directions counted (IP lengths) */
	CHECK_EQ(rp_ct_count(t), 1);
	CHECK_EQ(e->packets[0], 5);
	CHECK_EQ(e->packets[1], 3);
	CHECK_EQ(e->bytes[0], 40 + 40 + 140 + 40 + 40);
	CHECK_EQ(e->bytes[1], 40 + 240 + 40);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INSERTED), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INVALID), 0);

	/* a new SYN on the same ports reopens it: old entry deleted, NEW one */
	now += 1000;
	r = run(t, tcp(C, 40000, S, 80, F_SYN, 900000, 0, 0), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_RESTARTED), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_DELETED), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INSERTED), 2);
	CHECK_EQ(rp_ct_count(t), 1);
	e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_EQ(e->proto.tcp.state, RP_TCP_SYN_SENT);
		CHECK_EQ(e->packets[0], 1);
		CHECK_EQ(e->packets[1], 0);
		CHECK_EQ(e->status, 0);
	}
	rp_ct_free(t);
}

/* RST teardown: CLOSE, 10 s, then gone. Out-of-window and invalid flags are INVALID. */
static void
test_tcp_rst(void)
{
	struct rp_ct_table *t = table(64);
	uint32_t now = T0;

	CHECK_EQ(state(t, tcp(C, 40001, S, 443, F_SYN, 1000, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(state(t, tcp(S, 443, C, 40001, F_SYN | F_ACK, 7000, 1001, 0), now), RP_CT_ESTABLISHED);
	struct result r = run(t, tcp(C, 40001, S, 443, F_ACK, 1001, 7001, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	uint32_t pkts = e->packets[0] + e->packets[1];

	/* far outside the window: INVALID, entry untouched */
	r = run(t, tcp(S, 443, C, 40001, F_ACK, 7001 + 3000000, 1001, 10), now + 1);
	CHECK_EQ(r.state, RP_CT_INVALID);
	CHECK_EQ(r.idx, RP_CT_NO_ENTRY);
	CHECK_EQ(e->packets[0] + e->packets[1], pkts);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_ESTABLISHED);
	/* invalid flag combinations never reach the tracker */
	CHECK_EQ(state(t, tcp(C, 40001, S, 443, F_SYN | F_FIN, 1001, 0, 0), now), RP_CT_INVALID);
	CHECK_EQ(state(t, tcp(C, 40001, S, 443, F_SYN | F_RST, 1001, 0, 0), now), RP_CT_INVALID);
	CHECK_EQ(state(t, tcp(C, 40001, S, 443, 0, 1001, 0, 0), now), RP_CT_INVALID);
	CHECK_EQ(state(t, tcp(C, 40001, S, 443, F_FIN | F_PSH | 0x20, 1001, 0, 0), now), RP_CT_INVALID);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INVALID), 5);
	CHECK_EQ(e->packets[0] + e->packets[1], pkts);

	now += 100;
	r = run(t, tcp(S, 443, C, 40001, F_RST | F_ACK, 7001, 1001, 0), now);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(e->proto.tcp.state, RP_TCP_CLOSE);
	CHECK_EQ(e->expires, now + 10 * 1000);
	CHECK_EQ(rp_ct_expire(t, now + 9999, 1000), 0);
	CHECK_EQ(rp_ct_count(t), 1);
	CHECK_EQ(rp_ct_expire(t, now + 10000, 1000), 1);
	CHECK_EQ(rp_ct_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPIRED), 1);
	CHECK(rp_ct_entry_get(t, r.idx) == NULL);
	/* an ACK of the gone connection: picked up again (loose) as NEW */
	CHECK_EQ(state(t, tcp(C, 40001, S, 443, F_ACK, 1001, 7001, 0), now + 10001), RP_CT_NEW);
	rp_ct_free(t);
}

/* Mid-stream pick-up: NEW with tcp_loose=1 (ESTABLISHED entry), INVALID with 0. */
static void
test_tcp_loose(void)
{
	struct rp_ct_conf conf;
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	struct result r = run(t, tcp(C, 50000, S, 22, F_PSH | F_ACK, 12345, 67890, 50), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, 0);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e != NULL)
		CHECK_EQ(e->proto.tcp.state, RP_TCP_ESTABLISHED);
	r = run(t, tcp(S, 22, C, 50000, F_ACK, 67890, 12395, 0), now + 1);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 1);
	CHECK_EQ(rp_ct_count(t), 1);
	rp_ct_free(t);

	rp_ct_default_conf(&conf);
	conf.max = 16;
	conf.tcp_loose = 0;
	t = table_conf(&conf, NULL);
	r = run(t, tcp(C, 50000, S, 22, F_PSH | F_ACK, 12345, 67890, 50), now);
	CHECK_EQ(r.state, RP_CT_INVALID);
	CHECK_EQ(r.idx, RP_CT_NO_ENTRY);
	CHECK_EQ(rp_ct_count(t), 0);
	/* strict still opens with a SYN */
	CHECK_EQ(state(t, tcp(C, 50001, S, 22, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(rp_ct_count(t), 1);
	/* a RST never opens */
	CHECK_EQ(state(t, tcp(C, 50002, S, 22, F_RST, 1, 0, 0), now), RP_CT_INVALID);
	CHECK_EQ(rp_ct_count(t), 1);
	rp_ct_free(t);
}

/* A NEW packet the filter drops leaves nothing; two NEW packets of one flow
 * in one burst make one connection. */
static void
test_confirmation(void)
{
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	struct result r = run_opt(t, tcp(C, 40010, S, 80, F_SYN, 1000, 0, 0), now, 1);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.idx, RP_CT_NO_ENTRY);
	CHECK_EQ(rp_ct_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INSERTED), 0);
	/* the server's answer to a dropped SYN belongs to nothing */
	CHECK_EQ(state(t, tcp(S, 80, C, 40010, F_SYN | F_ACK, 5000, 1001, 0), now), RP_CT_INVALID);
	/* the resent SYN is NEW again */
	CHECK_EQ(state(t, tcp(C, 40010, S, 80, F_SYN, 1000, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(rp_ct_count(t), 1);

	struct rte_mbuf *burst[3] = {udp(C, 7000, S, 53, 10), udp(C, 7000, S, 53, 20),
				     udp(C, 7001, S, 53, 30)};
	rp_ct_classify_burst(t, burst, 3, now);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(rp_meta(burst[i])->ct_state, RP_CT_NEW);
		CHECK_EQ(rp_ct_confirm(t, burst[i], now), 0);
	}
	CHECK_EQ(rp_meta(burst[0])->ct_idx, rp_meta(burst[1])->ct_idx);
	CHECK(rp_meta(burst[0])->ct_idx != rp_meta(burst[2])->ct_idx);
	CHECK_EQ(rp_ct_count(t), 3);
	struct rp_ct_entry *e = rp_ct_entry_get(t, rp_meta(burst[0])->ct_idx);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_EQ(e->packets[0], 2);
		CHECK_EQ(e->bytes[0], 38 + 48);
	}
	for (unsigned i = 0; i < 3; i++)
		rte_pktmbuf_free(burst[i]);
	rp_ct_free(t);
}

/* ---- UDP, ICMP, generic ------------------------------------------------------------ */

static void
test_udp(void)
{
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	struct result r = run(t, udp(C, 5353, S, 53, 12), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(rp_ct_count(t), 1);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK(tuple_is(&e->tuple[1], IPPROTO_UDP, S, 53, C, 5353));
	CHECK_EQ(e->expires, now + 30000);
	/* more before any reply: still NEW */
	CHECK_EQ(state(t, udp(C, 5353, S, 53, 12), now + 50), RP_CT_NEW);

	r = run(t, udp(S, 53, C, 5353, 100), now + 100);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 1);
	CHECK_EQ(e->status, RP_CT_S_SEEN_REPLY);
	CHECK_EQ(e->expires, now + 100 + 30000);

	/* replied, younger than 2 s: the short timeout, not assured */
	CHECK_EQ(state(t, udp(C, 5353, S, 53, 12), now + 2000), RP_CT_ESTABLISHED);
	CHECK_EQ(e->expires, now + 2000 + 30000);
	CHECK_EQ(e->status & RP_CT_S_ASSURED, 0);
	/* still active after 2 s: a stream, assured, 120 s */
	CHECK_EQ(state(t, udp(C, 5353, S, 53, 12), now + 2001), RP_CT_ESTABLISHED);
	CHECK_EQ(e->expires, now + 2001 + 120000);
	CHECK_EQ(e->status & RP_CT_S_ASSURED, RP_CT_S_ASSURED);
	CHECK_EQ(e->packets[0], 4);
	CHECK_EQ(e->packets[1], 1);
	CHECK_EQ(e->bytes[0], 4 * 40);
	CHECK_EQ(e->bytes[1], 128);

	/* an unreplied flow that stays unreplied keeps 30 s */
	r = run(t, udp(C, 6000, S, 9999, 1), now);
	e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_EQ(state(t, udp(C, 6000, S, 9999, 1), now + 5000), RP_CT_NEW);
		CHECK_EQ(e->expires, now + 5000 + 30000);
		CHECK_EQ(e->status, 0);
	}
	rp_ct_free(t);
}

static void
test_icmp_echo(void)
{
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	struct result r = run(t, icmp_query(C, S, 8, 77), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK(tuple_is(&e->tuple[0], IPPROTO_ICMP, C, 77, S, 8 << 8));
	CHECK(tuple_is(&e->tuple[1], IPPROTO_ICMP, S, 77, C, 0));
	CHECK_EQ(e->expires, now + 30000);

	r = run(t, icmp_query(S, C, 0, 77), now + 1);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 1);
	CHECK_EQ(e->expires, now + 1 + 30000);
	/* a reply with another id, or one nobody asked for: INVALID */
	CHECK_EQ(state(t, icmp_query(S, C, 0, 78), now + 2), RP_CT_INVALID);
	CHECK_EQ(state(t, icmp_query(R, C, 0, 77), now + 2), RP_CT_INVALID);
	/* the next request of the same id belongs to the replied connection */
	CHECK_EQ(state(t, icmp_query(C, S, 8, 77), now + 3), RP_CT_ESTABLISHED);
	/* replies do not end it; duplicates stay ESTABLISHED */
	CHECK_EQ(state(t, icmp_query(S, C, 0, 77), now + 4), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, icmp_query(S, C, 0, 77), now + 4), RP_CT_ESTABLISHED);
	CHECK_EQ(e->packets[0], 2);
	CHECK_EQ(e->packets[1], 3);
	CHECK_EQ(rp_ct_count(t), 1);
	/* timestamp request/reply pair the same way; unknown types are not tracked */
	CHECK_EQ(state(t, icmp_query(C, S, 13, 5), now), RP_CT_NEW);
	CHECK_EQ(state(t, icmp_query(S, C, 14, 5), now), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, icmp_query(C, S, 9, 0), now), RP_CT_INVALID); /* router advertisement */
	CHECK_EQ(rp_ct_count(t), 2);
	/* 30 s after the last packet, gone */
	CHECK_EQ(rp_ct_expire(t, now + 4 + 29999, 100), 1); /* the timestamp pair */
	CHECK_EQ(rp_ct_expire(t, now + 4 + 30000, 100), 1);
	CHECK_EQ(rp_ct_count(t), 0);
	rp_ct_free(t);
}

static void
test_icmp_errors(void)
{
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	/* a UDP connection C -> S and a TCP one */
	struct rte_mbuf *u = udp(C, 5000, S, 53, 20);
	struct result ru = run(t, parsed(rte_pktmbuf_copy(u, pool, 0, UINT32_MAX)), now);
	CHECK_EQ(ru.state, RP_CT_NEW);
	struct rte_mbuf *tc = tcp(C, 40000, S, 80, F_SYN, 1000, 0, 0);
	struct result rt = run(t, parsed(rte_pktmbuf_copy(tc, pool, 0, UINT32_MAX)), now);
	CHECK_EQ(rt.state, RP_CT_NEW);
	struct rp_ct_entry *e = rp_ct_entry_get(t, ru.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	uint32_t expires = e->expires;

	/* a router tells C that its datagram to S could not be delivered */
	struct result r = run(t, icmp_error(R, C, 3, 3, u, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.idx, ru.idx);
	CHECK_EQ(r.dir, 1);
	/* related errors neither count nor refresh the connection, nor create one */
	CHECK_EQ(e->packets[0], 1);
	CHECK_EQ(e->packets[1], 0);
	CHECK_EQ(e->expires, expires);
	CHECK_EQ(rp_ct_count(t), 2);

	/* time exceeded about the TCP SYN */
	r = run(t, icmp_error(R, C, 11, 0, tc, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.idx, rt.idx);
	CHECK_EQ(r.dir, 1);

	/* an error travelling to S about S's reply: the original direction */
	struct rte_mbuf *reply = udp(S, 53, C, 5000, 20);
	r = run(t, icmp_error(R, S, 3, 1, reply, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.idx, ru.idx);
	CHECK_EQ(r.dir, 0);

	/* an error about an echo request */
	struct rte_mbuf *ping = icmp_query(C, S, 8, 99);
	struct result rp = run(t, parsed(rte_pktmbuf_copy(ping, pool, 0, UINT32_MAX)), now);
	r = run(t, icmp_error(R, C, 3, 1, ping, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.idx, rp.idx);

	/* quoting a flow nobody tracks: INVALID */
	struct rte_mbuf *other = udp(C, 5001, S, 53, 20);
	r = run(t, icmp_error(R, C, 3, 3, other, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_INVALID);
	CHECK_EQ(r.idx, RP_CT_NO_ENTRY);
	/* a quote cut short of 8 L4 bytes: INVALID */
	r = run(t, icmp_error(R, C, 3, 3, u, 4), now + 5);
	CHECK_EQ(r.state, RP_CT_INVALID);
	/* an error quoting an error: INVALID */
	struct rte_mbuf *err = icmp_error(R, C, 3, 3, u, 8);
	r = run(t, icmp_error(C, R, 3, 3, err, 8), now + 5);
	CHECK_EQ(r.state, RP_CT_INVALID);
	/* source quench, redirect and parameter problem are errors too */
	CHECK_EQ(state(t, icmp_error(R, C, 4, 0, u, 8), now), RP_CT_RELATED);
	CHECK_EQ(state(t, icmp_error(R, C, 5, 1, u, 8), now), RP_CT_RELATED);
	CHECK_EQ(state(t, icmp_error(R, C, 12, 0, u, 8), now), RP_CT_RELATED);
	CHECK_EQ(rp_ct_count(t), 3);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_RELATED), 7);

	rte_pktmbuf_free(u);
	rte_pktmbuf_free(tc);
	rte_pktmbuf_free(reply);
	rte_pktmbuf_free(ping);
	rte_pktmbuf_free(other);
	rte_pktmbuf_free(err);
	rp_ct_free(t);
}

static void
test_generic(void)
{
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;

	struct result r = run(t, gre(C, S), now);
	CHECK_EQ(r.state, RP_CT_NEW);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK(tuple_is(&e->tuple[0], 47, C, 0, S, 0));
	CHECK(tuple_is(&e->tuple[1], 47, S, 0, C, 0));
	CHECK_EQ(e->expires, now + 600000);
	CHECK_EQ(state(t, gre(C, S), now + 1), RP_CT_NEW);
	r = run(t, gre(S, C), now + 2);
	CHECK_EQ(r.state, RP_CT_ESTABLISHED);
	CHECK_EQ(r.dir, 1);
	CHECK_EQ(state(t, gre(C, S), now + 3), RP_CT_ESTABLISHED);
	CHECK_EQ(e->expires, now + 3 + 600000);
	/* other addresses: another connection */
	CHECK_EQ(state(t, gre(C, R), now), RP_CT_NEW);
	CHECK_EQ(rp_ct_count(t), 2);
	rp_ct_free(t);
}

/* Truncated headers, a bad data offset and bad checksums are INVALID and create nothing. */
static void
test_malformed(void)
{
	struct rp_ct_conf conf;
	struct rp_ct_table *t = table(16);
	uint32_t now = T0;
	struct rte_mbuf *m;

	/* TCP with 12 header bytes */
	uint8_t short_tcp[12] = {0x9c, 0x40, 0, 80};
	m = parsed(frame(IPPROTO_TCP, C, S, short_tcp, sizeof(short_tcp), 0));
	CHECK_EQ(rp_meta(m)->l4_status, RP_L4_TRUNCATED);
	CHECK_EQ(state(t, m, now), RP_CT_INVALID);

	/* data offset 4 (16 bytes) */
	m = tcp_raw(C, 40000, S, 80, F_SYN, 1, 0, 0);
	((struct rte_tcp_hdr *)(frame_ip(m) + 1))->data_off = 4 << 4;
	fix_l4_cksum(m);
	parsed(m);
	CHECK_EQ(rp_meta(m)->l4_status, RP_L4_BAD_DOFF);
	CHECK_EQ(state(t, m, now), RP_CT_INVALID);

	/* truncated UDP and ICMP */
	uint8_t short_udp[6] = {0};
	CHECK_EQ(state(t, parsed(frame(IPPROTO_UDP, C, S, short_udp, sizeof(short_udp), 0)), now),
		 RP_CT_INVALID);
	uint8_t short_icmp[4] = {8, 0};
	CHECK_EQ(state(t, parsed(frame(IPPROTO_ICMP, C, S, short_icmp, sizeof(short_icmp), 0)), now),
		 RP_CT_INVALID);

	/* bad checksums: TCP SYN, UDP, ICMP echo */
	m = tcp_raw(C, 40000, S, 80, F_SYN, 1, 0, 0);
	((struct rte_tcp_hdr *)(frame_ip(m) + 1))->cksum ^= 0x1234;
	CHECK_EQ(state(t, parsed(m), now), RP_CT_INVALID);
	m = udp_raw(C, 1000, S, 2000, 10);
	((struct rte_udp_hdr *)(frame_ip(m) + 1))->dgram_cksum ^= 0x0101;
	parsed(m);
	CHECK_EQ(rp_meta(m)->l4_status, RP_L4_BAD_CSUM);
	CHECK_EQ(state(t, m, now), RP_CT_INVALID);
	uint8_t echo[16] = {8, 0, 0, 0, 0, 9, 0, 1};
	m = frame(IPPROTO_ICMP, C, S, echo, sizeof(echo), 0);
	fix_l4_cksum(m);
	((uint8_t *)(frame_ip(m) + 1))[2] ^= 0x40;
	parsed(m);
	CHECK_EQ(rp_meta(m)->l4_status, RP_L4_BAD_CSUM);
	CHECK_EQ(state(t, m, now), RP_CT_INVALID);
	/* a later fragment has no ports: INVALID (fragments are reassembled before) */
	uint8_t frag_data[16] = {0};
	m = parsed(frame(IPPROTO_UDP, C, S, frag_data, sizeof(frag_data), 10));
	CHECK_EQ(rp_meta(m)->l4_status, RP_L4_NONE);
	CHECK_EQ(state(t, m, now), RP_CT_INVALID);

	CHECK_EQ(rp_ct_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_INVALID), 8);
	rp_ct_free(t);

	/* with nf_conntrack_checksum=0 a bad checksum is not INVALID */
	rp_ct_default_conf(&conf);
	conf.max = 16;
	conf.checksum = 0;
	t = table_conf(&conf, NULL);
	m = udp_raw(C, 1000, S, 2000, 10);
	((struct rte_udp_hdr *)(frame_ip(m) + 1))->dgram_cksum ^= 0x0101;
	CHECK_EQ(state(t, parsed(m), now), RP_CT_NEW);
	/* but a truncated header still is */
	CHECK_EQ(state(t, parsed(frame(IPPROTO_UDP, C, S, short_udp, sizeof(short_udp), 0)), now),
		 RP_CT_INVALID);
	CHECK_EQ(rp_ct_count(t), 1);
	rp_ct_free(t);
}

/* ---- expiry, limits --------------------------------------------------------------- */

static void
test_expiry(uint32_t t0)
{
	struct rp_ct_table *t = table(64);

	/* one connection in each state to time out, all created at t0 */
	CHECK_EQ(state(t, tcp(C, 1, S, 80, F_SYN, 1, 0, 0), t0), RP_CT_NEW);  /* SYN_SENT 120 s */
	CHECK_EQ(state(t, udp(C, 2, S, 53, 1), t0), RP_CT_NEW);                /* 30 s */
	CHECK_EQ(state(t, icmp_query(C, S, 8, 3), t0), RP_CT_NEW);             /* 30 s */
	CHECK_EQ(state(t, gre(C, S), t0), RP_CT_NEW);                          /* 600 s */
	CHECK_EQ(state(t, tcp(C, 4, S, 80, F_SYN, 1, 0, 0), t0), RP_CT_NEW);  /* -> ESTABLISHED */
	CHECK_EQ(state(t, tcp(S, 80, C, 4, F_SYN | F_ACK, 9, 2, 0), t0), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, tcp(C, 4, S, 80, F_ACK, 2, 10, 0), t0), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, udp(C, 5, S, 53, 1), t0), RP_CT_NEW);                /* -> stream */
	CHECK_EQ(state(t, udp(S, 53, C, 5, 1), t0), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, udp(C, 5, S, 53, 1), t0 + 2001), RP_CT_ESTABLISHED); /* 120 s from t0+2001 */
	CHECK_EQ(rp_ct_count(t), 6);

	CHECK_EQ(rp_ct_expire(t, t0 + 29999, 64), 0);
	CHECK_EQ(rp_ct_expire(t, t0 + 30000, 64), 2); /* UDP and ICMP */
	CHECK_EQ(rp_ct_expire(t, t0 + 119999, 64), 0);
	CHECK_EQ(rp_ct_expire(t, t0 + 120000, 64), 1); /* SYN_SENT */
	CHECK_EQ(rp_ct_expire(t, t0 + 2001 + 119999, 64), 0);
	CHECK_EQ(rp_ct_expire(t, t0 + 2001 + 120000, 64), 1); /* the UDP stream */
	CHECK_EQ(rp_ct_expire(t, t0 + 599999, 64), 0);
	CHECK_EQ(rp_ct_expire(t, t0 + 600000, 64), 1); /* GRE */
	CHECK_EQ(rp_ct_count(t), 1);
	CHECK_EQ(rp_ct_expire(t, t0 + 5u * 24 * 3600 * 1000 - 1, 64), 0);
	CHECK_EQ(rp_ct_expire(t, t0 + 5u * 24 * 3600 * 1000, 64), 1);
	CHECK_EQ(rp_ct_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPIRED), 6);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_DELETED), 6);

	/* a bounded budget: 40 due, at most 16 looked at per call */
	for (unsigned i = 0; i < 40; i++)
		CHECK_EQ(state(t, udp(C, (uint16_t)(100 + i), S, 53, 1), t0), RP_CT_NEW);
	CHECK_EQ(rp_ct_count(t), 40);
	unsigned calls = 0, total = 0;
	while (rp_ct_count(t) > 0 && calls < 100) {
		unsigned n = rp_ct_expire(t, t0 + 30000, 16);
		CHECK(n <= 16);
		total += n;
		calls++;
	}
	CHECK_EQ(total, 40);
	CHECK(calls >= 3);
	/* freed entries are used again */
	for (unsigned i = 0; i < 64; i++)
		CHECK_EQ(run(t, udp(C, (uint16_t)(200 + i), S, 53, 1), t0).confirm, 0);
	CHECK_EQ(rp_ct_count(t), 64);
	rp_ct_free(t);
}

/* Full table: an unassured connection is evicted for a new one; with all
 * assured the new one is refused and counted. */
static void
test_table_full(void)
{
	struct rp_ct_table *t = table(8);
	uint32_t now = T0;
	struct result r;
	uint32_t victim = RP_CT_NO_ENTRY;

	/* 7 assured UDP streams and 1 unreplied flow */
	for (uint16_t i = 0; i < 8; i++) {
		r = run(t, udp(C, (uint16_t)(1000 + i), S, 53, 1), now);
		CHECK_EQ(r.confirm, 0);
		if (i == 5) {
			victim = r.idx;
			continue;
		}
		CHECK_EQ(state(t, udp(S, 53, C, (uint16_t)(1000 + i), 1), now), RP_CT_ESTABLISHED);
		CHECK_EQ(state(t, udp(C, (uint16_t)(1000 + i), S, 53, 1), now + 2001), RP_CT_ESTABLISHED);
	}
	CHECK_EQ(rp_ct_count(t), 8);
	r = run(t, udp(C, 2000, S, 53, 1), now + 2002);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(r.idx, victim); /* the evicted entry, reused */
	CHECK_EQ(rp_ct_count(t), 8);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_TABLE_FULL), 0);
	/* the evicted flow is gone: its next packet is NEW again */
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_UDP, C, 1005, S, 53);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), -ENOENT);

	/* make the newcomer assured too: now nothing may go */
	CHECK_EQ(state(t, udp(S, 53, C, 2000, 1), now + 2003), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, udp(C, 2000, S, 53, 1), now + 4100), RP_CT_ESTABLISHED);
	r = run(t, udp(C, 3000, S, 53, 1), now + 4200);
	CHECK_EQ(r.state, RP_CT_NEW);
	CHECK_EQ(r.confirm, -ENOSPC);
	CHECK_EQ(r.idx, RP_CT_NO_ENTRY);
	CHECK_EQ(rp_ct_count(t), 8);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_TABLE_FULL), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), 1);
	rp_ct_free(t);

	/* closing TCP connections may go even when assured (tcp_can_early_drop) */
	t = table(8);
	for (uint16_t p = 1; p <= 8; p++) {
		CHECK_EQ(state(t, tcp(C, p, S, 80, F_SYN, 1, 0, 0), now), RP_CT_NEW);
		CHECK_EQ(state(t, tcp(S, 80, C, p, F_SYN | F_ACK, 9, 2, 0), now), RP_CT_ESTABLISHED);
		CHECK_EQ(state(t, tcp(C, p, S, 80, F_ACK, 2, 10, 0), now), RP_CT_ESTABLISHED);
	}
	CHECK_EQ(run(t, tcp(C, 100, S, 80, F_SYN, 1, 0, 0), now).confirm, -ENOSPC);
	CHECK_EQ(state(t, tcp(C, 3, S, 80, F_FIN | F_ACK, 2, 10, 0), now), RP_CT_ESTABLISHED);
	CHECK_EQ(run(t, tcp(C, 100, S, 80, F_SYN, 1, 0, 0), now).confirm, 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), 1);
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_TCP, C, 3, S, 80);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), -ENOENT);
	rp_ct_free(t);
}

/* ---- expectations --------------------------------------------------------------- */

static void
test_expectations(void)
{
	struct rp_ct_table *t = table(32);
	uint32_t now = T0;
	struct rp_ct_expect x;
	struct result r;

	/* the master: an FTP control connection */
	CHECK_EQ(state(t, tcp(C, 40000, S, 21, F_SYN, 1000, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(state(t, tcp(S, 21, C, 40000, F_SYN | F_ACK, 5000, 1001, 0), now), RP_CT_ESTABLISHED);
	r = run(t, tcp(C, 40000, S, 21, F_ACK, 1001, 5001, 0), now);
	uint32_t master = r.idx;

	memset(&x, 0, sizeof(x));
	x.tuple = tuple(IPPROTO_TCP, C, 0, S, 20000);
	x.master = master;
	x.expires = now + 5000;
	x.helper = 1;
	CHECK_EQ(rp_ct_expect_add(t, &x), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_CREATED), 1);
	/* a master that does not exist is refused */
	x.master = 31;
	CHECK_EQ(rp_ct_expect_add(t, &x), -EINVAL);
	x.master = master;

	/* the expected connection: its first packets are RELATED, with the master */
	r = run(t, tcp(C, 40001, S, 20000, F_SYN, 7000, 0, 0), now + 10);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.confirm, 0);
	struct rp_ct_entry *e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK_EQ(e->status, RP_CT_S_EXPECTED);
	CHECK_EQ(e->master, master + 1);
	CHECK_EQ(e->helper, 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_MATCHED), 1);
	CHECK_EQ(state(t, tcp(C, 40001, S, 20000, F_SYN, 7000, 0, 0), now + 11), RP_CT_RELATED);
	CHECK_EQ(state(t, tcp(S, 20000, C, 40001, F_SYN | F_ACK, 9000, 7001, 0), now + 12),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, tcp(C, 40001, S, 20000, F_ACK, 7001, 9001, 0), now + 13), RP_CT_ESTABLISHED);
	/* used up: another connection to that port is NEW */
	CHECK_EQ(state(t, tcp(C, 40002, S, 20000, F_SYN, 1, 0, 0), now + 14), RP_CT_NEW);

	/* an exact source port; expiry of an unused expectation */
	x.tuple = tuple(IPPROTO_TCP, C, 40003, S, 20001);
	x.expires = now + 1000;
	CHECK_EQ(rp_ct_expect_add(t, &x), 0);
	CHECK_EQ(state(t, tcp(C, 40004, S, 20001, F_SYN, 1, 0, 0), now + 1), RP_CT_NEW);
	rp_ct_expire(t, now + 999, 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 0);
	rp_ct_expire(t, now + 1000, 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 1);
	CHECK_EQ(state(t, tcp(C, 40003, S, 20001, F_SYN, 1, 0, 0), now + 1001), RP_CT_NEW);

	/* at most expect_max (4 by default) per master: the oldest is replaced */
	for (uint16_t i = 0; i <= 4; i++) {
		x.tuple = tuple(IPPROTO_UDP, C, 0, S, (uint16_t)(30000 + i));
		x.expires = now + 60000;
		CHECK_EQ(rp_ct_expect_add(t, &x), 0);
	}
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 2);
	CHECK_EQ(state(t, udp(C, 1, S, 30000, 1), now + 2000), RP_CT_NEW);
	CHECK_EQ(state(t, udp(C, 1, S, 30001, 1), now + 2000), RP_CT_RELATED);
	/* the master goes: its expectations go with it */
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_TCP, S, 21, C, 40000); /* by its reply tuple */
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now + 2000), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 2 + 3);
	CHECK_EQ(state(t, udp(C, 1, S, 30002, 1), now + 2000), RP_CT_NEW);

	/* posted by another worker (its master lives there) */
	memset(&mb, 0, sizeof(mb));
	mb.expect.tuple = tuple(IPPROTO_UDP, R, 0, S, 40000);
	mb.expect.master = 12345;
	mb.expect.expires = now + 60000;
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_EXPECT, now + 2000), 0);
	r = run(t, udp(R, 9, S, 40000, 1), now + 2001);
	CHECK_EQ(r.state, RP_CT_RELATED);
	e = rp_ct_entry_get(t, r.idx);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_EQ(e->status, RP_CT_S_EXPECTED);
		CHECK_EQ(e->master, 0);
	}
	rp_ct_free(t);
}

/* ---- the FTP helper ------------------------------------------------------------- */

/* A TCP segment carrying the text @p data (PSH|ACK unless @p flags says otherwise). */
static struct rte_mbuf *
tcp_text(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
	 uint32_t ack, const char *data)
{
	uint16_t len = (uint16_t)strlen(data);
	struct rte_mbuf *m = tcp_raw(src, sport, dst, dport, flags, seq, ack, len);
	memcpy(rte_pktmbuf_mtod_offset(m, char *, RTE_ETHER_HDR_LEN + 20 + 20), data, len);
	fix_l4_cksum(m);
	return parsed(m);
}

static struct rp_ct_table *
ftp_table(uint32_t max, uint32_t expect_max, uint32_t established_s)
{
	struct rp_ct_conf conf;
	rp_ct_default_conf(&conf);
	conf.max = max;
	conf.helpers = RP_CT_HELPER_BIT(RP_CT_HELPER_ID_FTP);
	conf.expect_max = expect_max;
	if (established_s)
		conf.timeouts.tcp.state[RP_TCP_ESTABLISHED] = established_s;
	return table_conf(&conf, NULL);
}

/* A control connection C:@p cport -> S:21, handshake done at @p now: its index.
 * Client's next sequence number 1001, server's 5001. */
static uint32_t
ftp_control(struct rp_ct_table *t, uint16_t cport, uint32_t now)
{
	CHECK_EQ(state(t, tcp(C, cport, S, 21, F_SYN, 1000, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(state(t, tcp(S, 21, C, cport, F_SYN | F_ACK, 5000, 1001, 0), now), RP_CT_ESTABLISHED);
	return run(t, tcp(C, cport, S, 21, F_ACK, 1001, 5001, 0), now).idx;
}

/* The expectations of @p t (at most RP_CT_LIST_PAGE), through the mailbox. */
static int
ftp_expectations(struct rp_ct_table *t, struct rp_ct_expect_info *out, uint32_t now)
{
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.cursor = 0;
	mb.max = RP_CT_LIST_PAGE;
	mb.xout = out;
	int n = mailbox(t, &mb, RP_CT_REQ_EXPECT_LIST, now);
	CHECK_EQ(mb.cursor, UINT32_MAX);
	return n;
}

/* Active mode: PORT from the client; the server's data connection is RELATED. */
static void
test_ftp_port(void)
{
	struct rp_ct_table *t = ftp_table(64, 0, 0);
	static struct rp_ct_expect_info x[RP_CT_LIST_PAGE];
	uint32_t now = T0;
	uint32_t ctl = ftp_control(t, 40000, now);
	struct rp_ct_entry *e = rp_ct_entry_get(t, ctl);

	CHECK(e != NULL);
	if (e == NULL)
		return;
	CHECK_EQ(e->helper, RP_CT_HELPER_ID_FTP);
	CHECK_EQ(rp_ct_expect_count(t), 0);

	/* PORT 198.18.1.2 port 78 * 256 + 32 = 20000: the client's own address */
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, 1001, 5001,
				   "PORT 198,18,1,2,78,32\r\n"), now + 1),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_CREATED), 1);
	CHECK_EQ(rp_ct_expect_count(t), 1);
	CHECK_EQ(ftp_expectations(t, x, now + 1001), 1);
	CHECK(tuple_is(&x[0].tuple, IPPROTO_TCP, S, 0, C, 20000));
	CHECK_EQ(x[0].master, ctl + 1);
	CHECK(tuple_is(&x[0].master_tuple, IPPROTO_TCP, C, 40000, S, 21));
	CHECK_EQ(x[0].helper, RP_CT_HELPER_ID_FTP);
	CHECK_EQ(x[0].timeout_s, 299); /* 300 s from now + 1, asked 1 s later */

	/* the server's 200 reply announces nothing */
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, 5001, 1024,
				   "200 PORT command successful.\r\n"), now + 2),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_expect_count(t), 1);

	/* before confirmation, the data SYN's master is known already */
	struct rte_mbuf *syn = tcp(S, 33333, C, 20000, F_SYN, 9000, 0, 0);
	rp_ct_classify_burst(t, &syn, 1, now + 3);
	CHECK_EQ(rp_meta(syn)->ct_state, RP_CT_RELATED);
	CHECK_EQ(rp_ct_expected_master(t, syn, now + 3), ctl + 1);
	rte_pktmbuf_free(syn);
	syn = tcp(S, 33333, C, 20009, F_SYN, 9000, 0, 0);
	rp_ct_classify_burst(t, &syn, 1, now + 3);
	CHECK_EQ(rp_ct_expected_master(t, syn, now + 3), 0);
	rte_pktmbuf_free(syn);
	/* a SYN from the server to another client port is NEW */
	CHECK_EQ(state(t, tcp(S, 20, C, 20001, F_SYN, 9000, 0, 0), now + 3), RP_CT_NEW);
	/* the data SYN, from any source port of the server: RELATED */
	struct result r = run(t, tcp(S, 33333, C, 20000, F_SYN, 9000, 0, 0), now + 3);
	CHECK_EQ(r.state, RP_CT_RELATED);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_MATCHED), 1);
	struct rp_ct_entry *d = rp_ct_entry_get(t, r.idx);
	CHECK(d != NULL);
	if (d != NULL) {
		CHECK_EQ(d->status, RP_CT_S_EXPECTED);
		CHECK_EQ(d->master, ctl + 1);
		CHECK_EQ(d->helper, 0); /* the data connection is not read */
		CHECK(tuple_is(&d->tuple[0], IPPROTO_TCP, S, 33333, C, 20000));
	}
	CHECK_EQ(state(t, tcp(C, 20000, S, 33333, F_SYN | F_ACK, 7000, 9001, 0), now + 4),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, tcp(S, 33333, C, 20000, F_ACK, 9001, 7001, 0), now + 5), RP_CT_ESTABLISHED);
	/* used up: a second connection to it is NEW */
	CHECK_EQ(state(t, tcp(S, 33334, C, 20000, F_SYN, 1, 0, 0), now + 6), RP_CT_NEW);

	/* the listing: helper on the control connection, master on the data one */
	static struct rp_ct_info info[RP_CT_LIST_PAGE];
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.max = RP_CT_LIST_PAGE;
	mb.out = info;
	mb.filter.proto = IPPROTO_TCP;
	int n = mailbox(t, &mb, RP_CT_REQ_LIST, now + 7);
	int seen_ctl = 0, seen_data = 0;
	for (int i = 0; i < n; i++) {
		if (info[i].idx == ctl) {
			seen_ctl = 1;
			CHECK_EQ(info[i].helper, RP_CT_HELPER_ID_FTP);
			CHECK_EQ(info[i].master, 0);
		} else if (info[i].idx == r.idx) {
			seen_data = 1;
			CHECK_EQ(info[i].helper, 0);
			CHECK_EQ(info[i].master, ctl + 1);
			CHECK(tuple_is(&info[i].master_tuple, IPPROTO_TCP, C, 40000, S, 21));
		}
	}
	CHECK(seen_ctl && seen_data);
	CHECK_STR_CONTAINS(rp_ct_helper_name(RP_CT_HELPER_ID_FTP), "ftp");
	CHECK_EQ(rp_ct_helper_name(0)[0], '\0');
	rp_ct_free(t);
}

/* Passive mode: 227 and 229 from the server; the client's data connection is RELATED. */
static void
test_ftp_pasv(void)
{
	struct rp_ct_table *t = ftp_table(64, 0, 0);
	static struct rp_ct_expect_info x[RP_CT_LIST_PAGE];
	uint32_t now = T0;
	uint32_t ctl = ftp_control(t, 40000, now);
	const char *pasv = "227 Entering Passive Mode (198,19,1,2,117,48).\r\n"; /* port 30000 */
	const char *epsv = "229 Entering Extended Passive Mode (|||30001|)\r\n";

	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, 1001, 5001, "PASV\r\n"), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, 5001, 1007, pasv), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(ftp_expectations(t, x, now), 1);
	CHECK(tuple_is(&x[0].tuple, IPPROTO_TCP, C, 0, S, 30000));
	CHECK_EQ(x[0].master, ctl + 1);
	/* the same segment again (a retransmission): nothing new */
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, 5001, 1007, pasv), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 1);
	CHECK_EQ(rp_ct_expect_count(t), 1);

	struct result r = run(t, tcp(C, 45678, S, 30000, F_SYN, 100, 0, 0), now + 1);
	CHECK_EQ(r.state, RP_CT_RELATED);
	struct rp_ct_entry *d = rp_ct_entry_get(t, r.idx);
	CHECK(d != NULL && d->master == ctl + 1 && d->status == RP_CT_S_EXPECTED);
	CHECK_EQ(state(t, tcp(S, 30000, C, 45678, F_SYN | F_ACK, 200, 101, 0), now + 2),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, tcp(C, 45678, S, 30000, F_ACK, 101, 201, 0), now + 3), RP_CT_ESTABLISHED);

	/* EPSV: 229 names no address, the server's is meant */
	uint32_t sseq = 5001 + (uint32_t)strlen(pasv);
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, sseq, 1007, epsv), now + 4),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(ftp_expectations(t, x, now + 4), 1);
	CHECK(tuple_is(&x[0].tuple, IPPROTO_TCP, C, 0, S, 30001));
	r = run(t, tcp(C, 45679, S, 30001, F_SYN, 100, 0, 0), now + 5);
	CHECK_EQ(r.state, RP_CT_RELATED);
	d = rp_ct_entry_get(t, r.idx);
	CHECK(d != NULL && d->master == ctl + 1);
	CHECK_EQ(state(t, tcp(S, 30001, C, 45679, F_SYN | F_ACK, 300, 101, 0), now + 6),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 2);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_MATCHED), 2);

	/* a 227 split across two segments is tracked */
	sseq += (uint32_t)strlen(epsv);
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, sseq, 1007, "227 Entering Pass"),
		       now + 7),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	sseq += 17;
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, sseq, 1007,
				   "ive Mode (198,19,1,2,117,50)\r\n"), now + 8),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_SPLIT), 1);
	CHECK_EQ(ftp_expectations(t, x, now + 8), 1);
	CHECK(tuple_is(&x[0].tuple, IPPROTO_TCP, C, 0, S, 30002));
	rp_ct_free(t);
}

/* FTP bounce, malformed lines, dropped segments, the helper off, other ports. */
static void
test_ftp_refused(void)
{
	struct rp_ct_table *t = ftp_table(64, 0, 0);
	uint32_t now = T0;
	uint32_t cseq = 1001;
	const char *bounce = "PORT 10,0,0,1,78,33\r\n";
	const char *bad = "PORT 198,18,1,2,78\r\n";
	const char *good = "PORT 198,18,1,2,78,34\r\n";

	ftp_control(t, 40000, now);
	/* a third host: nothing is expected, the bounce is counted */
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, cseq, 5001, bounce), now),
		 RP_CT_ESTABLISHED);
	cseq += (uint32_t)strlen(bounce);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_BOUNCE), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_CREATED), 0);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK_EQ(state(t, tcp(S, 20, IP(10, 0, 0, 1), 20001, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	/* a 227 naming another host than the server: likewise */
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, 5001, cseq,
				   "227 Entering Passive Mode (10,0,0,1,117,48)\r\n"), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_BOUNCE), 2);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	/* malformed: counted, ignored */
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, cseq, 5001, bad), now),
		 RP_CT_ESTABLISHED);
	cseq += (uint32_t)strlen(bad);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_MALFORMED), 1);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	/* a segment the filter drops is not read (the helper runs on accepted packets) */
	run_opt(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, cseq, 5001, good), now, 1);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	/* its retransmission, accepted, is */
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, cseq, 5001, good), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_expect_count(t), 1);
	/* well-formed announcements, refused or not */
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 3);
	rp_ct_free(t);

	/* the helper off (the default): the connection has none, PORT opens nothing */
	t = table(64);
	uint32_t ctl = ftp_control(t, 40000, now);
	CHECK_EQ(rp_ct_entry_get(t, ctl)->helper, 0);
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, 1001, 5001, good), now),
		 RP_CT_ESTABLISHED);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 0);
	CHECK_EQ(state(t, tcp(S, 20, C, 20002, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	rp_ct_free(t);

	/* helped ports are the configured ones only */
	struct rp_ct_conf conf;
	rp_ct_default_conf(&conf);
	conf.max = 64;
	conf.helpers = RP_CT_HELPER_BIT(RP_CT_HELPER_ID_FTP);
	conf.ftp_ports[0] = 2121;
	t = table_conf(&conf, NULL);
	ctl = ftp_control(t, 40000, now); /* to port 21 */
	CHECK_EQ(rp_ct_entry_get(t, ctl)->helper, 0);
	struct result r = run(t, tcp(C, 40001, S, 2121, F_SYN, 1, 0, 0), now);
	CHECK_EQ(rp_ct_entry_get(t, r.idx)->helper, RP_CT_HELPER_ID_FTP);
	rp_ct_free(t);
}

/* Lifetimes and bounds: expectation timeout, the master's end, expect_max, helper states. */
static void
test_ftp_bounds(void)
{
	/* established connections live 10 s here */
	struct rp_ct_table *t = ftp_table(128, 2, 10);
	static struct rp_ct_expect_info x[RP_CT_LIST_PAGE];
	uint32_t now = T0;
	uint32_t ctl = ftp_control(t, 40000, now);
	uint32_t sseq = 5001;
	char line[64];

	/* expect_max 2: a third announcement replaces the oldest */
	for (unsigned i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "227 Entering Passive Mode (198,19,1,2,117,%u)\r\n", 60 + i);
		CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, sseq, 1001, line), now),
			 RP_CT_ESTABLISHED);
		sseq += (uint32_t)strlen(line);
	}
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_ANNOUNCE), 3);
	CHECK_EQ(ftp_expectations(t, x, now), 2);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 1);
	CHECK_EQ(state(t, tcp(C, 50000, S, 117 * 256 + 60, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	/* the same announcement again renews it rather than taking a place */
	CHECK_EQ(state(t, tcp_text(S, 21, C, 40000, F_PSH | F_ACK, sseq, 1001, line), now + 5000),
		 RP_CT_ESTABLISHED);
	sseq += (uint32_t)strlen(line);
	CHECK_EQ(ftp_expectations(t, x, now + 5000), 2);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 1);
	CHECK_EQ(state(t, tcp(C, 50001, S, 117 * 256 + 61, F_SYN, 1, 0, 0), now + 5000), RP_CT_RELATED);

	/* the master expires (10 s after its last packet): its expectation goes with it */
	CHECK_EQ(rp_ct_expect_count(t), 1);
	rp_ct_expire(t, now + 5000 + 9999, 256);
	CHECK_EQ(rp_ct_expect_count(t), 1);
	rp_ct_expire(t, now + 5000 + 10000, 256);
	CHECK(rp_ct_entry_get(t, ctl) == NULL);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EXPECT_EXPIRED), 2);
	CHECK_EQ(state(t, tcp(C, 50002, S, 117 * 256 + 62, F_SYN, 1, 0, 0), now + 15001), RP_CT_NEW);
	rp_ct_free(t);

	/* an unused expectation lives 5 minutes (netfilter's ftp policy) */
	t = ftp_table(128, 0, 0);
	ctl = ftp_control(t, 40000, now);
	CHECK_EQ(state(t, tcp_text(C, 40000, S, 21, F_PSH | F_ACK, 1001, 5001,
				   "EPRT |1|198.18.1.2|20003|\r\n"), now),
		 RP_CT_ESTABLISHED);
	/* acknowledged, so that the control connection is not timed out as unacknowledged */
	CHECK_EQ(state(t, tcp(S, 21, C, 40000, F_ACK, 5001, 1001 + 27, 0), now), RP_CT_ESTABLISHED);
	CHECK_EQ(ftp_expectations(t, x, now), 1);
	CHECK(tuple_is(&x[0].tuple, IPPROTO_TCP, S, 0, C, 20003));
	rp_ct_expire(t, now + 299999, 1);
	CHECK_EQ(rp_ct_expect_count(t), 1);
	rp_ct_expire(t, now + 300000, 1);
	CHECK_EQ(rp_ct_expect_count(t), 0);
	CHECK(rp_ct_entry_get(t, ctl) != NULL);

	/* helper states: 64 for 128 connections; the 65th control connection goes unhelped */
	uint32_t first = RP_CT_NO_ENTRY;
	for (uint16_t i = 1; i < 64; i++) { /* one is ctl's */
		struct result r = run(t, tcp(C, (uint16_t)(41000 + i), S, 21, F_SYN, 1, 0, 0), now);
		CHECK_EQ(rp_ct_entry_get(t, r.idx)->helper, RP_CT_HELPER_ID_FTP);
		if (first == RP_CT_NO_ENTRY)
			first = r.idx;
	}
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_NO_STATE), 0);
	struct result r = run(t, tcp(C, 42000, S, 21, F_SYN, 1, 0, 0), now);
	CHECK_EQ(rp_ct_entry_get(t, r.idx)->helper, 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_NO_STATE), 1);
	/* one goes: its state is free again */
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_TCP, C, 41001, S, 21);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), 0);
	r = run(t, tcp(C, 42001, S, 21, F_SYN, 1, 0, 0), now);
	CHECK_EQ(rp_ct_entry_get(t, r.idx)->helper, RP_CT_HELPER_ID_FTP);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_FTP_NO_STATE), 1);
	rp_ct_free(t);
}

/* ---- the mailbox ------------------------------------------------------------------ */

static void
test_mailbox(void)
{
	struct rp_ct_table *t = table(8192);
	struct rp_ct_mailbox mb;
	static struct rp_ct_info out[RP_CT_LIST_PAGE];
	uint32_t now = T0;

	/* 300 UDP flows from 3 clients, 5 TCP SYNs */
	for (unsigned i = 0; i < 300; i++)
		CHECK_EQ(run(t, udp(C + i % 3, (uint16_t)(1000 + i), S, 53, 1), now).confirm, 0);
	for (uint16_t p = 0; p < 5; p++)
		CHECK_EQ(state(t, tcp(C, (uint16_t)(2000 + p), S, 80, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	CHECK_EQ(state(t, tcp(S, 80, C, 2000, F_SYN | F_ACK, 9, 2, 0), now), RP_CT_ESTABLISHED);
	CHECK_EQ(state(t, tcp(C, 2000, S, 80, F_ACK, 2, 10, 0), now), RP_CT_ESTABLISHED);

	/* no request: serving changes nothing */
	memset(&mb, 0, sizeof(mb));
	mb.result = 12345;
	rp_ct_mailbox_serve(t, &mb, now);
	CHECK_EQ(mb.result, 12345);
	CHECK_EQ(mb.state, RP_CT_MB_IDLE);

	/* COUNT */
	memset(&mb, 0, sizeof(mb));
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_COUNT, now), 305);
	CHECK_EQ(mb.counts[1][0], 300);
	CHECK_EQ(mb.counts[0][RP_TCP_SYN_SENT], 4);
	CHECK_EQ(mb.counts[0][RP_TCP_ESTABLISHED], 1);
	CHECK_EQ(mb.counts[2][0], 0);

	/* LIST in pages of 64 */
	static uint8_t seen[8192];
	unsigned total = 0, calls = 0;
	memset(&mb, 0, sizeof(mb));
	mb.out = out;
	mb.max = 64;
	mb.cursor = 0;
	while (mb.cursor != UINT32_MAX && calls < 100) {
		int32_t n = mailbox(t, &mb, RP_CT_REQ_LIST, now + 1500);
		CHECK(n >= 0 && n <= 64);
		for (int32_t i = 0; i < n; i++) {
			CHECK(out[i].idx < 8192);
			CHECK_EQ(seen[out[i].idx], 0);
			seen[out[i].idx] = 1;
			if (out[i].tuple[0].proto == IPPROTO_UDP) {
				CHECK_EQ(out[i].timeout_s, 28); /* 30 s set at now, 1.5 s gone */
				CHECK_EQ(out[i].packets[0], 1);
				CHECK_EQ(out[i].bytes[0], 29);
				CHECK_EQ(out[i].tuple[1].src, S);
			}
		}
		total += (unsigned)n;
		calls++;
	}
	CHECK_EQ(total, 305);
	CHECK_EQ(calls, 5);

	/* filters: protocol, TCP state, source, destination */
	memset(&mb, 0, sizeof(mb));
	mb.out = out;
	mb.max = RP_CT_LIST_PAGE;
	mb.filter.proto = IPPROTO_TCP;
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 5);
	CHECK_EQ(mb.cursor, UINT32_MAX);
	mb.cursor = 0;
	mb.filter.tcp_state = RP_TCP_ESTABLISHED;
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 1);
	CHECK(tuple_is(&out[0].tuple[0], IPPROTO_TCP, C, 2000, S, 80));
	CHECK_EQ(out[0].tcp_state, RP_TCP_ESTABLISHED);
	CHECK_EQ(out[0].status, RP_CT_S_SEEN_REPLY | RP_CT_S_ASSURED);
	CHECK_EQ(out[0].timeout_s, 5 * 24 * 3600);
	CHECK_EQ(out[0].packets[0], 2);
	CHECK_EQ(out[0].packets[1], 1);
	memset(&mb.filter, 0, sizeof(mb.filter));
	mb.cursor = 0;
	mb.filter.src = C + 1;
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 100);
	mb.cursor = 0;
	mb.filter.dst = C; /* original destination: nobody talked to C */
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 0);
	CHECK_EQ(mb.cursor, UINT32_MAX);

	/* DELETE by either tuple */
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_UDP, C, 1000, S, 53);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), 0);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), -ENOENT);
	mb.tuple = tuple(IPPROTO_UDP, S, 53, C + 1, 1001);
	mb.tuple.pad[1] = 7; /* padding is not part of the key */
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), 0);
	CHECK_EQ(rp_ct_count(t), 303);
	CHECK_EQ(state(t, udp(S, 53, C + 1, 1001, 1), now), RP_CT_NEW);
	CHECK_EQ(rp_ct_count(t), 304);

	/* FLUSH until done; the cursor a LIST left does not matter */
	memset(&mb, 0, sizeof(mb));
	mb.cursor = 17;
	calls = 0;
	while (mailbox(t, &mb, RP_CT_REQ_FLUSH, now) != 0 && calls < 100)
		calls++;
	CHECK_EQ(mb.cursor, UINT32_MAX);
	CHECK_EQ(rp_ct_count(t), 0);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_DELETED), 2 + 304);
	memset(&mb, 0, sizeof(mb));
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_COUNT, now), 0);
	CHECK_EQ(mb.counts[1][0], 0);
	rp_ct_free(t);

	/* bounded work: LIST looks at 4096 entries a call, FLUSH too */
	t = table(6000);
	for (unsigned i = 0; i < 5000; i++)
		CHECK_EQ(run(t, udp(C, (uint16_t)(1 + i), S, 53, 1), now).confirm, 0);
	CHECK_EQ(state(t, tcp(C, 9, S, 80, F_SYN, 1, 0, 0), now), RP_CT_NEW);
	memset(&mb, 0, sizeof(mb));
	mb.out = out;
	mb.max = RP_CT_LIST_PAGE;
	mb.filter.proto = IPPROTO_TCP;
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 0);
	CHECK_EQ(mb.cursor, 4096);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_LIST, now), 1);
	CHECK_EQ(mb.cursor, UINT32_MAX);
	CHECK_EQ(out[0].idx, 5000);
	memset(&mb, 0, sizeof(mb));
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_FLUSH, now), 5001 - 4096);
	CHECK_EQ(mb.cursor, 4096);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_FLUSH, now), 0);
	CHECK_EQ(rp_ct_count(t), 0);
	rp_ct_free(t);
}

/* ---- bursts, RCU, memory, names ---------------------------------------------------- */

/* More packets than one bulk lookup takes, misses and hits mixed. */
static void
test_big_burst(void)
{
	struct rp_ct_table *t = table(256);
	struct rte_mbuf *pkts[150];
	uint32_t now = T0;

	for (unsigned i = 0; i < 150; i++)
		pkts[i] = udp(C, (uint16_t)(10000 + i), S, 53, 1);
	rp_ct_classify_burst(t, pkts, 150, now);
	for (unsigned i = 0; i < 150; i++) {
		CHECK_EQ(rp_meta(pkts[i])->ct_state, RP_CT_NEW);
		CHECK_EQ(rp_ct_confirm(t, pkts[i], now), 0);
		rte_pktmbuf_free(pkts[i]);
	}
	/* replies of the even ones, new flows for the odd ones */
	for (unsigned i = 0; i < 150; i++)
		pkts[i] = i % 2 ? udp(C, (uint16_t)(20000 + i), S, 53, 1)
				: udp(S, 53, C, (uint16_t)(10000 + i), 1);
	rp_ct_classify_burst(t, pkts, 150, now);
	for (unsigned i = 0; i < 150; i++) {
		CHECK_EQ(rp_meta(pkts[i])->ct_state, i % 2 ? RP_CT_NEW : RP_CT_ESTABLISHED);
		CHECK_EQ(rp_meta(pkts[i])->ct_dir, i % 2 ? 0 : 1);
		rte_pktmbuf_free(pkts[i]);
	}
	CHECK_EQ(rp_ct_count(t), 150);
	rp_ct_free(t);
}

/* With a QSBR variable, a deleted connection's entry comes back only after
 * every reader reported quiescence. */
static void
test_rcu(void)
{
	struct rp_ct_conf conf;
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qsv = rte_zmalloc("ct_qsv", sz, RTE_CACHE_LINE_SIZE);
	uint32_t now = T0;

	CHECK(qsv != NULL);
	if (qsv == NULL)
		return;
	CHECK_EQ(rte_rcu_qsbr_init(qsv, 1), 0);
	CHECK_EQ(rte_rcu_qsbr_thread_register(qsv, 0), 0);
	rte_rcu_qsbr_thread_online(qsv, 0);

	rp_ct_default_conf(&conf);
	conf.max = 2;
	struct rp_ct_table *t = table_conf(&conf, qsv);
	/* two assured TCP connections fill it */
	for (uint16_t p = 1; p <= 2; p++) {
		CHECK_EQ(state(t, tcp(C, p, S, 80, F_SYN, 1, 0, 0), now), RP_CT_NEW);
		CHECK_EQ(state(t, tcp(S, 80, C, p, F_SYN | F_ACK, 9, 2, 0), now), RP_CT_ESTABLISHED);
		CHECK_EQ(state(t, tcp(C, p, S, 80, F_ACK, 2, 10, 0), now), RP_CT_ESTABLISHED);
	}
	struct rp_ct_mailbox mb;
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_TCP, C, 1, S, 80);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), 0);
	CHECK_EQ(rp_ct_count(t), 1);
	/* the reader (this thread) has not been quiescent since: no room yet */
	CHECK_EQ(run(t, tcp(C, 3, S, 80, F_SYN, 1, 0, 0), now).confirm, -ENOSPC);
	/* the deleted connection's keys are gone at once */
	CHECK_EQ(state(t, tcp(C, 1, S, 80, F_ACK, 2, 10, 0), now), RP_CT_NEW);
	rte_rcu_qsbr_quiescent(qsv, 0);
	struct result r = run(t, tcp(C, 3, S, 80, F_SYN, 1, 0, 0), now);
	CHECK_EQ(r.confirm, 0);
	CHECK_EQ(rp_ct_count(t), 2);
	/* expiry reclaims too */
	CHECK_EQ(rp_ct_expire(t, now + 120000, 10), 1);
	rte_rcu_qsbr_quiescent(qsv, 0);
	rp_ct_expire(t, now + 120000, 10);
	CHECK_EQ(run(t, tcp(C, 4, S, 80, F_SYN, 1, 0, 0), now).confirm, 0);
	rte_rcu_qsbr_quiescent(qsv, 0);
	rp_ct_free(t);

	/* Full of unassured flows: an eviction comes back a grace period later
	 * only, so the NEW packet that finds the table full is refused; from
	 * then on the table evicts ahead of need to keep max / 16 (here 4)
	 * entries free, and the refusals build that reserve up. */
	conf.max = 64;
	t = table_conf(&conf, qsv);
	for (unsigned i = 0; i < 64; i++)
		CHECK_EQ(run(t, udp(C, (uint16_t)(1000 + i), S, 53, 1), now).confirm, 0);
	CHECK_EQ(rp_ct_count(t), 64); /* filling evicts nothing */
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), 0);
	CHECK_EQ(run(t, udp(C, 2000, S, 53, 1), now).confirm, -ENOSPC);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), 1);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_TABLE_FULL), 1);
	memset(&mb, 0, sizeof(mb));
	mb.tuple = tuple(IPPROTO_UDP, C, 1000, S, 53); /* the oldest went */
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), -ENOENT);
	mb.tuple = tuple(IPPROTO_UDP, C, 1004, S, 53);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), 0);
	rte_rcu_qsbr_quiescent(qsv, 0);
	/* two entries came back; each insertion evicts one more, each refusal too */
	unsigned in = 0;
	for (unsigned i = 0; i < 8; i++)
		in += run(t, udp(C, (uint16_t)(3000 + i), S, 53, 1), now).confirm == 0;
	CHECK_EQ(in, 2);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_TABLE_FULL), 7);
	rte_rcu_qsbr_quiescent(qsv, 0);
	/* eight came back: now eight NEW packets in one loop all get in */
	in = 0;
	for (unsigned i = 0; i < 8; i++)
		in += run(t, udp(C, (uint16_t)(4000 + i), S, 53, 1), now).confirm == 0;
	CHECK_EQ(in, 8);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_TABLE_FULL), 7);
	CHECK_EQ(rp_ct_count(t), 60);
	/* Flush: 60 deletions and the 4 evictions of this loop exceed the defer
	 * queue (63): the flush stops, to go on after a grace period. */
	memset(&mb, 0, sizeof(mb));
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_FLUSH, now), 1);
	CHECK_EQ(mb.cursor, 63);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_FLUSH, now), 1); /* no grace period yet */
	static struct rp_ct_info left[RP_CT_LIST_PAGE];
	struct rp_ct_mailbox lb;
	memset(&lb, 0, sizeof(lb));
	lb.out = left;
	lb.max = RP_CT_LIST_PAGE;
	CHECK_EQ(mailbox(t, &lb, RP_CT_REQ_LIST, now), 1);
	mb.tuple = left[0].tuple[1];
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_DELETE, now), -EBUSY); /* the same */
	rte_rcu_qsbr_quiescent(qsv, 0);
	CHECK_EQ(mailbox(t, &mb, RP_CT_REQ_FLUSH, now), 0);
	CHECK_EQ(mb.cursor, UINT32_MAX);
	CHECK_EQ(rp_ct_count(t), 0);
	/* once there is room again, filling up evicts nothing */
	rte_rcu_qsbr_quiescent(qsv, 0);
	rp_ct_expire(t, now, 1);
	uint64_t drops = rp_ct_counter(t, RP_CT_CNT_EARLY_DROP);
	for (unsigned i = 0; i < 64; i++)
		CHECK_EQ(run(t, udp(C, (uint16_t)(5000 + i), S, 53, 1), now).confirm, 0);
	CHECK_EQ(rp_ct_count(t), 64);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_EARLY_DROP), drops);
	rte_rcu_qsbr_quiescent(qsv, 0);
	rp_ct_free(t);
	rte_rcu_qsbr_thread_offline(qsv, 0);
	rte_free(qsv);
}

/* rp_ct_mem_size is an upper estimate of what a table takes, and close to it. */
static void
test_mem_size(void)
{
	static const uint32_t sizes[] = {1, 1000, 65536, 100000};
	struct rte_malloc_socket_stats before, after;
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qsv = rte_zmalloc("ct_qsv2", sz, RTE_CACHE_LINE_SIZE);
	int socket = rte_socket_id();

	CHECK(qsv != NULL);
	if (qsv == NULL)
		return;
	rte_rcu_qsbr_init(qsv, 1);
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		struct rp_ct_conf conf;
		rp_ct_default_conf(&conf);
		conf.max = sizes[i];
		CHECK_EQ(rte_malloc_get_socket_stats(socket, &before), 0);
		struct rp_ct_table *t = table_conf(&conf, qsv);
		CHECK_EQ(rte_malloc_get_socket_stats(socket, &after), 0);
		size_t used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
		size_t est = rp_ct_mem_size(sizes[i]);
		if (used > est || est - used > (32u << 10) + used / 50)
			fprintf(stderr, "max %u: estimate %zu, used %zu\n", sizes[i], est, used);
		CHECK(used <= est);
		CHECK(est - used <= (32u << 10) + used / 50); /* within 2% + 32 KB */
		rp_ct_free(t);
	}
	rte_free(qsv);
	/* at 2^20 connections the goal is met: at most 256 bytes each */
	CHECK(rp_ct_mem_size(1u << 20) / (1u << 20) <= 256);
	CHECK(rp_ct_mem_size(1000000) / 1000000 <= 256);
}

static void
test_api(void)
{
	struct rp_ct_conf conf;

	rp_ct_default_conf(&conf);
	CHECK_EQ(conf.max, 0);
	CHECK_EQ(conf.tcp_loose, 1);
	CHECK_EQ(conf.checksum, 1);
	CHECK_EQ(conf.timeouts.udp, 30);
	CHECK_EQ(conf.timeouts.udp_stream, 120);
	CHECK_EQ(conf.timeouts.icmp, 30);
	CHECK_EQ(conf.timeouts.generic, 600);
	CHECK_EQ(conf.timeouts.tcp.state[RP_TCP_ESTABLISHED], 432000);
	CHECK_EQ(conf.timeouts.tcp.state[RP_TCP_TIME_WAIT], 120);

	CHECK_STR_CONTAINS(rp_ct_state_name(RP_CT_NEW), "NEW");
	CHECK_STR_CONTAINS(rp_ct_state_name(RP_CT_ESTABLISHED), "ESTABLISHED");
	CHECK_STR_CONTAINS(rp_ct_state_name(RP_CT_RELATED), "RELATED");
	CHECK_STR_CONTAINS(rp_ct_state_name(RP_CT_INVALID), "INVALID");
	CHECK_STR_CONTAINS(rp_ct_state_name(RP_CT_STATE_MAX), "UNKNOWN");
	CHECK_STR_CONTAINS(rp_ct_counter_name(RP_CT_CNT_EARLY_DROP), "early_drop");
	CHECK_STR_CONTAINS(rp_ct_counter_name(RP_CT_CNT_HANDOFF_FULL), "handoff_full");
	CHECK_STR_CONTAINS(rp_ct_counter_desc(RP_CT_CNT_TABLE_FULL), "table full");
	CHECK_STR_CONTAINS(rp_ct_counter_name(RP_CT_CNT_MAX), "unknown");

	/* bad arguments */
	conf.max = 0;
	CHECK(rp_ct_create("ct_bad", &conf, NULL, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	conf.max = 16;
	CHECK(rp_ct_create("a_name_much_too_long_for_rings", &conf, NULL, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, ENAMETOOLONG);
	/* the longest name whose rings DPDK can still name, with a defer queue */
	struct rte_rcu_qsbr *qsv = rte_zmalloc("ct_qsv0", rte_rcu_qsbr_get_memsize(1), 0);
	CHECK(qsv != NULL && rte_rcu_qsbr_init(qsv, 1) == 0);
	struct rp_ct_table *t = rp_ct_create("ct_name_of_21_chars__", &conf, qsv, SOCKET_ID_ANY);
	CHECK(t != NULL);
	rp_ct_free(t);
	CHECK(rp_ct_create("ct_name_of_22_chars___", &conf, qsv, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, ENAMETOOLONG);
	rte_free(qsv);

	t = rp_ct_create("ct_dup", &conf, NULL, SOCKET_ID_ANY);
	CHECK(t != NULL);
	CHECK(rp_ct_create("ct_dup", &conf, NULL, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, EEXIST);

	/* handoff events are counted on the table given */
	rp_ct_count_event(t, RP_CT_CNT_HANDOFF_IN);
	rp_ct_count_event(t, RP_CT_CNT_HANDOFF_IN);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_HANDOFF_IN), 2);
	CHECK_EQ(rp_ct_counter(t, RP_CT_CNT_HANDOFF_OUT), 0);
	CHECK(rp_ct_entry_get(t, 0) == NULL);
	CHECK(rp_ct_entry_get(t, 16) == NULL);
	rp_ct_free(t);
	rp_ct_free(NULL);
}

int
main(void)
{
	rp_test_eal_init("conntrack");
	pool = rte_pktmbuf_pool_create("ct_pool", 4095, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "cannot create the mbuf pool\n");
		return 1;
	}
	test_api();
	test_tcp_lifecycle();
	test_tcp_rst();
	test_tcp_loose();
	test_confirmation();
	test_udp();
	test_icmp_echo();
	test_icmp_errors();
	test_generic();
	test_malformed();
	test_expiry(T0);
	test_expiry(UINT32_MAX - 1000); /* the clock wraps in the middle */
	test_table_full();
	test_expectations();
	test_ftp_port();
	test_ftp_pasv();
	test_ftp_refused();
	test_ftp_bounds();
	test_mailbox();
	test_big_burst();
	test_rcu();
	test_mem_size();
	CHECK_EQ(rte_mempool_in_use_count(pool), 0);
	rte_mempool_free(pool);
	return rp_test_done("test_conntrack");
}
