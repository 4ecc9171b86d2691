/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_pkt_parse_l4: for TCP, UDP and ICMP the exact status and fields of
 * valid headers, of headers cut at every length, of bad TCP data offsets
 * and UDP lengths; checksums right and wrong, computed and as the device's
 * RX flags say; the same packets as chains with their headers split at
 * every byte. Checksums here are computed independently of lib/pkt, from
 * a pseudo-header laid out in memory. Runs without hugepages.
 */

#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define POOL_SIZE 255
#define FRAME_MAX 1600
#define ETH 14

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
static const uint32_t src_ip = IP4(198, 18, 1, 2);
static const uint32_t dst_ip = IP4(198, 19, 7, 9);

static struct rte_mempool *pool;

/*
 * An IPv4 frame to us: a header of @p ihl words (NOP options), then
 * @p l4_len bytes copied from @p l4. Returns the frame length.
 */
static uint16_t
build(uint8_t *buf, uint8_t ihl, uint8_t proto, uint16_t frag, const uint8_t *l4,
      uint16_t l4_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	uint16_t hdr_len = ihl * 4;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + ETH);
	ip->version_ihl = 0x40 | ihl;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(hdr_len + l4_len);
	ip->packet_id = RTE_BE16(0x2345);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	memset(ip + 1, 1, hdr_len - sizeof(*ip));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(buf + ETH + hdr_len, l4, l4_len);
	return ETH + hdr_len + l4_len;
}

/*
 * The TCP/UDP checksum field for @p len bytes at @p l4 (checksum field
 * zeroed by the caller), from a pseudo-header written out byte by byte.
 */
static uint16_t
pseudo_cksum(uint8_t proto, const uint8_t *l4, uint16_t len)
{
	static uint8_t buf[12 + FRAME_MAX];
	uint32_t s = src_ip, d = dst_ip;
	uint8_t ph[12] = {s >> 24, s >> 16, s >> 8, s, d >> 24, d >> 16, d >> 8, d,
			  0, proto, len >> 8, len & 0xff};
	memcpy(buf, ph, sizeof(ph));
	memcpy(buf + 12, l4, len);
	return (uint16_t)~rte_raw_cksum(buf, 12 + len);
}

static void
fill_pattern(uint8_t *p, uint16_t len, uint8_t seed)
{
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 11 + seed);
}

/* A TCP segment of @p doff words (options NOPs) and @p payload bytes, valid checksum. */
static uint16_t
tcp_seg(uint8_t *l4, uint16_t sport, uint16_t dport, uint8_t doff, uint8_t flags,
	uint16_t payload)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = RTE_BE32(1000);
	th->recv_ack = RTE_BE32(2000);
	th->data_off = (uint8_t)(doff << 4);
	th->tcp_flags = flags;
	th->rx_win = RTE_BE16(65535);
	th->cksum = 0;
	th->tcp_urp = 0;
	uint16_t hdr = doff >= 5 ? doff * 4 : 20;
	memset(l4 + 20, 1, hdr - 20);
	fill_pattern(l4 + hdr, payload, 3);
	uint16_t len = hdr + payload;
	th->cksum = pseudo_cksum(IPPROTO_TCP, l4, len);
	return len;
}

/* A UDP datagram of @p payload bytes, UDP length field @p ulen, checksum over ulen bytes. */
static uint16_t
udp_dgram(uint8_t *l4, uint16_t sport, uint16_t dport, uint16_t payload, uint16_t ulen)
{
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)l4;
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = rte_cpu_to_be_16(dport);
	uh->dgram_len = rte_cpu_to_be_16(ulen);
	uh->dgram_cksum = 0;
	fill_pattern(l4 + 8, payload, 5);
	uint16_t cks = pseudo_cksum(IPPROTO_UDP, l4, ulen);
	uh->dgram_cksum = cks == 0 ? 0xffff : cks;
	return 8 + payload;
}

static uint16_t
icmp_msg(uint8_t *l4, uint8_t type, uint8_t code, uint16_t id, uint16_t payload)
{
	struct rte_icmp_hdr *ih = (struct rte_icmp_hdr *)l4;
	ih->icmp_type = type;
	ih->icmp_code = code;
	ih->icmp_cksum = 0;
	ih->icmp_ident = rte_cpu_to_be_16(id);
	ih->icmp_seq_nb = RTE_BE16(9);
	fill_pattern(l4 + 8, payload, 7);
	ih->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, 8 + payload);
	return 8 + payload;
}

static struct rte_mbuf *
parsed(const uint8_t *buf, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		exit(1);
	}
	memcpy(rte_pktmbuf_append(m, len), buf, len);
	enum rp_pkt_kind kind = rp_pkt_parse(m, 2, &our_mac);
	CHECK_EQ(kind, RP_PKT_IPV4);
	return m;
}

/*
 * The frame as a chain cut before each offset in @p cuts (ascending), its
 * rp_meta as rp_pkt_parse gives it for the whole frame.
 */
static struct rte_mbuf *
chained(const uint8_t *buf, uint16_t len, const uint16_t *cuts, unsigned n_cuts)
{
	struct rte_mbuf *whole = parsed(buf, len);
	struct rte_mbuf *head = NULL;
	uint16_t start = 0;
	for (unsigned i = 0; i <= n_cuts; i++) {
		uint16_t end = i < n_cuts ? cuts[i] : len;
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
		if (seg == NULL) {
			fprintf(stderr, "mbuf pool empty\n");
			exit(1);
		}
		memcpy(rte_pktmbuf_append(seg, end - start), buf + start, end - start);
		if (head == NULL)
			head = seg;
		else if (rte_pktmbuf_chain(head, seg) != 0)
			CHECK(0);
		start = end;
	}
	*rp_meta(head) = *rp_meta(whole);
	rte_pktmbuf_free(whole);
	CHECK_EQ(head->nb_segs, n_cuts + 1);
	CHECK_EQ(rte_pktmbuf_pkt_len(head), len);
	return head;
}

/* What parse_l4 must leave in rp_meta. */
struct want {
	enum rp_l4_status status;
	uint16_t sport, dport;
	uint8_t flags;
	uint16_t payload;
};

static void
check_meta(int line, struct rte_mbuf *m, int verify, const struct want *w)
{
	enum rp_l4_status st = rp_pkt_parse_l4(m, verify);
	const struct rp_meta *meta = rp_meta(m);
	if (st != w->status || meta->l4_status != st || meta->sport != w->sport ||
	    meta->dport != w->dport || meta->tcp_flags != w->flags ||
	    meta->l4_payload != w->payload)
		fprintf(stderr, "line %d (verify %d): status %d sport %u dport %#x flags %#x payload %u\n",
			line, verify, st, meta->sport, meta->dport, meta->tcp_flags, meta->l4_payload);
	CHECK_EQ(st, w->status);
	CHECK_EQ(meta->l4_status, w->status);
	CHECK_EQ(meta->sport, w->sport);
	CHECK_EQ(meta->dport, w->dport);
	CHECK_EQ(meta->tcp_flags, w->flags);
	CHECK_EQ(meta->l4_payload, w->payload);
}

/* Parse the frame (single segment, given RX flags) and check the outcome. */
static void
expect(int line, const uint8_t *buf, uint16_t len, uint64_t rx_flags, int verify,
       struct want w)
{
	struct rte_mbuf *m = parsed(buf, len);
	m->ol_flags |= rx_flags;
	check_meta(line, m, verify, &w);
	rte_pktmbuf_free(m);
}

#define EXPECT(buf, len, verify, ...) \
	expect(__LINE__, buf, len, 0, verify, (struct want){__VA_ARGS__})
#define EXPECT_RX(buf, len, rx, verify, ...) \
	expect(__LINE__, buf, len, rx, verify, (struct want){__VA_ARGS__})

static uint8_t frame[FRAME_MAX];
static uint8_t l4[FRAME_MAX];

static void
test_tcp(void)
{
	uint16_t n, len;

	/* a SYN without options or data */
	n = tcp_seg(l4, 40000, 80, 5, RTE_TCP_SYN_FLAG, 0);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_OK, 40000, 80, RTE_TCP_SYN_FLAG, 0);

	/* options (doff 8) and 100 bytes of data, behind IP options */
	n = tcp_seg(l4, 1025, 443, 8, RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG, 100);
	len = build(frame, 7, IPPROTO_TCP, RTE_IPV4_HDR_DF_FLAG, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_OK, 1025, 443, 0x18, 100);

	/* every flag bit is passed on as it is */
	n = tcp_seg(l4, 1, 65535, 5, 0xff, 1);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 1, 65535, 0xff, 1);

	/* cut at every length below the fixed header: nothing is read */
	n = tcp_seg(l4, 40000, 80, 5, RTE_TCP_SYN_FLAG, 0);
	for (uint16_t k = 0; k < 20; k++) {
		len = build(frame, 5, IPPROTO_TCP, 0, l4, k);
		for (int v = 0; v <= 1; v++)
			EXPECT(frame, len, v, RP_L4_TRUNCATED, 0, 0, 0, 0);
	}

	/* data offset below 5 words */
	for (uint8_t doff = 0; doff < 5; doff++) {
		n = tcp_seg(l4, 40000, 80, doff, RTE_TCP_ACK_FLAG, 8);
		len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
		for (int v = 0; v <= 1; v++)
			EXPECT(frame, len, v, RP_L4_BAD_DOFF, 40000, 80, RTE_TCP_ACK_FLAG, 0);
	}
	/* data offset beyond the segment: 24-byte header claimed, 23 bytes there */
	n = tcp_seg(l4, 40000, 80, 6, RTE_TCP_ACK_FLAG, 0);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, 23);
	EXPECT(frame, len, 0, RP_L4_BAD_DOFF, 40000, 80, RTE_TCP_ACK_FLAG, 0);
	/* 60-byte header claimed in a 40-byte segment */
	n = tcp_seg(l4, 40000, 80, 10, RTE_TCP_ACK_FLAG, 0);
	((struct rte_tcp_hdr *)l4)->data_off = 15 << 4;
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	EXPECT(frame, len, 0, RP_L4_BAD_DOFF, 40000, 80, RTE_TCP_ACK_FLAG, 0);
	/* a data offset that ends exactly at the end of the segment is fine */
	n = tcp_seg(l4, 40000, 80, 15, RTE_TCP_ACK_FLAG, 0);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 0);
}

static void
test_udp(void)
{
	uint16_t n, len;

	n = udp_dgram(l4, 5353, 53, 30, 38);
	len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_OK, 5353, 53, 0, 30);

	/* no payload at all */
	n = udp_dgram(l4, 68, 67, 0, 8);
	len = build(frame, 6, IPPROTO_UDP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 68, 67, 0, 0);

	for (uint16_t k = 0; k < 8; k++) {
		len = build(frame, 5, IPPROTO_UDP, 0, l4, k);
		for (int v = 0; v <= 1; v++)
			EXPECT(frame, len, v, RP_L4_TRUNCATED, 0, 0, 0, 0);
	}

	/* UDP length shorter than the UDP header */
	for (uint16_t ulen = 0; ulen < 8; ulen++) {
		n = udp_dgram(l4, 5353, 53, 30, 38);
		((struct rte_udp_hdr *)l4)->dgram_len = rte_cpu_to_be_16(ulen);
		len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
		EXPECT(frame, len, 0, RP_L4_TRUNCATED, 5353, 53, 0, 0);
	}
	/* UDP length one byte beyond the IP payload */
	n = udp_dgram(l4, 5353, 53, 30, 38);
	((struct rte_udp_hdr *)l4)->dgram_len = RTE_BE16(39);
	len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_TRUNCATED, 5353, 53, 0, 0);
	/* shorter than the IP payload: 10 trailing bytes, outside the UDP checksum */
	n = udp_dgram(l4, 5353, 53, 30, 28);
	len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_OK, 5353, 53, 0, 20);
}

static void
test_icmp(void)
{
	static const struct {
		uint8_t type, code;
		int query;
	} msgs[] = {
		{8, 0, 1},  {0, 0, 1},  {13, 0, 1}, {14, 0, 1}, {15, 0, 1}, {16, 0, 1},
		{17, 0, 1}, {18, 0, 1}, {3, 1, 0},  {3, 4, 0},  {4, 0, 0},  {5, 1, 0},
		{11, 0, 0}, {11, 1, 0}, {12, 0, 0}, {9, 0, 0},  {10, 0, 0}, {42, 7, 0},
	};
	uint16_t n, len;

	for (unsigned i = 0; i < RTE_DIM(msgs); i++) {
		n = icmp_msg(l4, msgs[i].type, msgs[i].code, 0xbeef, 28);
		len = build(frame, 5, IPPROTO_ICMP, 0, l4, n);
		uint16_t dport = (uint16_t)(msgs[i].type << 8 | msgs[i].code);
		for (int v = 0; v <= 1; v++)
			EXPECT(frame, len, v, RP_L4_OK, msgs[i].query ? 0xbeef : 0, dport, 0, 28);
	}

	n = icmp_msg(l4, 8, 0, 7, 0);
	len = build(frame, 5, IPPROTO_ICMP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 7, 0x0800, 0, 0);
	for (uint16_t k = 0; k < 8; k++) {
		len = build(frame, 5, IPPROTO_ICMP, 0, l4, k);
		for (int v = 0; v <= 1; v++)
			EXPECT(frame, len, v, RP_L4_TRUNCATED, 0, 0, 0, 0);
	}
}

static void
test_none(void)
{
	uint16_t n, len;

	/* another protocol: GRE */
	fill_pattern(l4, 40, 1);
	len = build(frame, 5, 47, 0, l4, 40);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_NONE, 0, 0, 0, 0);

	/* a later fragment of a UDP datagram: its first bytes are no header */
	n = udp_dgram(l4, 5353, 53, 30, 38);
	len = build(frame, 5, IPPROTO_UDP, 185, l4, n);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_NONE, 0, 0, 0, 0);

	/* stale L4 fields of an earlier life are cleared */
	struct rte_mbuf *m = parsed(frame, len);
	rp_meta(m)->sport = 9;
	rp_meta(m)->dport = 9;
	rp_meta(m)->tcp_flags = 9;
	rp_meta(m)->l4_payload = 9;
	check_meta(__LINE__, m, 1, &(struct want){RP_L4_NONE, 0, 0, 0, 0});
	/* not IPv4 */
	rp_meta(m)->kind = RP_PKT_ARP;
	check_meta(__LINE__, m, 1, &(struct want){RP_L4_NONE, 0, 0, 0, 0});
	rte_pktmbuf_free(m);

	/*
	 * A first fragment not reassembled: UDP length is the datagram's (more
	 * than is here) and the checksum covers bytes elsewhere: both unchecked.
	 */
	n = udp_dgram(l4, 5353, 53, 1000, 1008);
	len = build(frame, 5, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG, l4, 208);
	for (int v = 0; v <= 1; v++)
		EXPECT(frame, len, v, RP_L4_OK, 5353, 53, 0, 200);
	n = tcp_seg(l4, 40000, 80, 5, RTE_TCP_ACK_FLAG, 1000);
	len = build(frame, 5, IPPROTO_TCP, RTE_IPV4_HDR_MF_FLAG, l4, 504);
	EXPECT(frame, len, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 484);
}

static void
test_csum(void)
{
	uint16_t n, len;
	const uint64_t good = RTE_MBUF_F_RX_L4_CKSUM_GOOD, bad = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	const uint64_t none = RTE_MBUF_F_RX_L4_CKSUM_NONE;

	/* TCP, odd length: the last byte is summed as the high half of a word */
	n = tcp_seg(l4, 40000, 80, 5, RTE_TCP_ACK_FLAG, 33);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	frame[len - 1] ^= 0x01;
	EXPECT(frame, len, 1, RP_L4_BAD_CSUM, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	EXPECT(frame, len, 0, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	/* the device's verdict wins over the data: GOOD, and NONE (data verified) */
	EXPECT_RX(frame, len, good, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	EXPECT_RX(frame, len, none, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	frame[len - 1] ^= 0x01;
	EXPECT_RX(frame, len, bad, 1, RP_L4_BAD_CSUM, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	/* ...unless no check was asked for */
	EXPECT_RX(frame, len, bad, 0, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 33);

	/* the pseudo-header counts: another destination, same segment */
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + ETH);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip + 1);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	EXPECT(frame, len, 1, RP_L4_BAD_CSUM, 40000, 80, RTE_TCP_ACK_FLAG, 33);
	/* and the length in it: the same bytes checked as a shorter segment */
	n = tcp_seg(l4, 40000, 80, 5, RTE_TCP_ACK_FLAG, 34);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 40000, 80, RTE_TCP_ACK_FLAG, 34);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, (uint16_t)(n + 2));
	frame[len - 1] = 0; /* two zero bytes more: same sum, longer pseudo-header */
	frame[len - 2] = 0;
	EXPECT(frame, len, 1, RP_L4_BAD_CSUM, 40000, 80, RTE_TCP_ACK_FLAG, 36);

	/* UDP: right, wrong, absent */
	n = udp_dgram(l4, 5353, 53, 31, 39);
	len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 5353, 53, 0, 31);
	EXPECT_RX(frame, len, bad, 1, RP_L4_BAD_CSUM, 5353, 53, 0, 31);
	frame[len - 5] ^= 0x80;
	EXPECT(frame, len, 1, RP_L4_BAD_CSUM, 5353, 53, 0, 31);
	EXPECT(frame, len, 0, RP_L4_OK, 5353, 53, 0, 31);
	EXPECT_RX(frame, len, good, 1, RP_L4_OK, 5353, 53, 0, 31);
	((struct rte_udp_hdr *)(frame + ETH + 20))->dgram_cksum = 0;
	EXPECT(frame, len, 1, RP_L4_OK, 5353, 53, 0, 31);
	/* "no checksum" is valid whatever a device might say */
	EXPECT_RX(frame, len, bad, 1, RP_L4_OK, 5353, 53, 0, 31);

	/* ICMP: summed in software whatever the RX flags say */
	n = icmp_msg(l4, 8, 0, 77, 57);
	len = build(frame, 5, IPPROTO_ICMP, 0, l4, n);
	EXPECT(frame, len, 1, RP_L4_OK, 77, 0x0800, 0, 57);
	EXPECT_RX(frame, len, bad, 1, RP_L4_OK, 77, 0x0800, 0, 57);
	frame[len - 1] ^= 0x10;
	EXPECT(frame, len, 1, RP_L4_BAD_CSUM, 77, 0x0800, 0, 57);
	EXPECT_RX(frame, len, good, 1, RP_L4_BAD_CSUM, 77, 0x0800, 0, 57);
	EXPECT(frame, len, 0, RP_L4_OK, 77, 0x0800, 0, 57);
}

/* The frame as a chain cut at @p cuts gives the same outcome as in one piece. */
static void
expect_chain(int line, const uint8_t *buf, uint16_t len, const uint16_t *cuts, unsigned n_cuts,
	     struct want w)
{
	struct rte_mbuf *m = chained(buf, len, cuts, n_cuts);
	check_meta(line, m, 1, &w);
	struct want unchecked = w;
	if (w.status == RP_L4_BAD_CSUM)
		unchecked.status = RP_L4_OK;
	check_meta(line, m, 0, &unchecked);
	rte_pktmbuf_free(m);
}

static void
test_chains(void)
{
	uint16_t n, len;

	/* TCP with options: cut at every byte of the header, options included */
	n = tcp_seg(l4, 40000, 80, 8, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 301);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	for (uint16_t c = ETH + 20 + 1; c < ETH + 20 + 32; c++) {
		uint16_t cut = c;
		expect_chain(__LINE__, frame, len, &cut, 1,
			     (struct want){RP_L4_OK, 40000, 80, 0x12, 301});
	}
	/* three segments of odd lengths, and one cut inside the IP header */
	const uint16_t three[] = {ETH + 20 + 7, ETH + 20 + 20, ETH + 20 + 101};
	expect_chain(__LINE__, frame, len, three, 3, (struct want){RP_L4_OK, 40000, 80, 0x12, 301});
	const uint16_t in_ip[] = {ETH + 9, ETH + 20 + 3};
	expect_chain(__LINE__, frame, len, in_ip, 2, (struct want){RP_L4_OK, 40000, 80, 0x12, 301});
	/* a wrong byte in the third segment is found */
	frame[ETH + 20 + 150] ^= 0x04;
	expect_chain(__LINE__, frame, len, three, 3,
		     (struct want){RP_L4_BAD_CSUM, 40000, 80, 0x12, 301});
	/* and a bad data offset read from a split header */
	n = tcp_seg(l4, 40000, 80, 4, RTE_TCP_ACK_FLAG, 10);
	len = build(frame, 5, IPPROTO_TCP, 0, l4, n);
	const uint16_t at_doff[] = {ETH + 20 + 12};
	struct rte_mbuf *m = chained(frame, len, at_doff, 1);
	check_meta(__LINE__, m, 1, &(struct want){RP_L4_BAD_DOFF, 40000, 80, RTE_TCP_ACK_FLAG, 0});
	rte_pktmbuf_free(m);

	/* UDP and ICMP: cut at every byte of the 8-byte header */
	n = udp_dgram(l4, 5353, 53, 99, 107);
	len = build(frame, 5, IPPROTO_UDP, 0, l4, n);
	for (uint16_t c = ETH + 20 + 1; c < ETH + 20 + 8; c++) {
		uint16_t cut = c;
		expect_chain(__LINE__, frame, len, &cut, 1, (struct want){RP_L4_OK, 5353, 53, 0, 99});
	}
	n = icmp_msg(l4, 0, 0, 4242, 63);
	len = build(frame, 5, IPPROTO_ICMP, 0, l4, n);
	for (uint16_t c = ETH + 20 + 1; c < ETH + 20 + 8; c++) {
		uint16_t cut = c;
		expect_chain(__LINE__, frame, len, &cut, 1, (struct want){RP_L4_OK, 4242, 0, 0, 63});
	}
	frame[ETH + 20 + 40] ^= 0xff;
	const uint16_t icmp_cuts[] = {ETH + 20 + 5, ETH + 20 + 39};
	expect_chain(__LINE__, frame, len, icmp_cuts, 2,
		     (struct want){RP_L4_BAD_CSUM, 4242, 0, 0, 63});
}

int
main(void)
{
	rp_test_eal_init("test_l4");
	pool = rte_pktmbuf_pool_create("test_l4", POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_l4: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_tcp();
	test_udp();
	test_icmp();
	test_none();
	test_csum();
	test_chains();
	CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE);
	rte_mempool_free(pool);
	return rp_test_done("test_l4");
}
