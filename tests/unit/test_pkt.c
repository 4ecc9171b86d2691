/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_pkt_parse: every validation step with the exact kind, drop reason and
 * metadata it must produce. Runs without hugepages.
 *
 * `test_pkt --write-corpus DIR` writes the fuzz seed frames of
 * tests/fuzz/corpus/pkt (same builders, so the seeds parse as valid).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
static const struct rte_ether_addr other_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};
static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mcast_mac = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};

static const uint32_t peer_ip = IP4(198, 18, 1, 2);
static const uint32_t our_ip = IP4(198, 18, 1, 1);
static const uint8_t in_port = 3;

static struct rte_mempool *pool;

static void
put_eth(uint8_t *buf, const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = *dst;
	eth->src_addr = peer_mac;
	eth->ether_type = rte_cpu_to_be_16(ether_type);
}

static void
fix_ip_cksum(uint8_t *buf)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + RTE_ETHER_HDR_LEN);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/*
 * An IPv4 frame: header of @p ihl words (options are NOPs), @p payload_len
 * bytes of pattern after it, valid header checksum. Returns the frame length.
 */
static uint16_t
build_ipv4(uint8_t *buf, const struct rte_ether_addr *dst_mac, uint8_t ihl, uint8_t proto,
	   uint16_t frag, uint32_t src, uint32_t dst, uint16_t payload_len)
{
	uint16_t hdr_len = ihl * 4;
	put_eth(buf, dst_mac, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + RTE_ETHER_HDR_LEN);
	ip->version_ihl = 0x40 | ihl;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(hdr_len + payload_len);
	ip->packet_id = RTE_BE16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = 57;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	memset(ip + 1, 1 /* NOP */, hdr_len - sizeof(*ip));
	uint8_t *payload = buf + RTE_ETHER_HDR_LEN + hdr_len;
	for (uint16_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	fix_ip_cksum(buf);
	return RTE_ETHER_HDR_LEN + hdr_len + payload_len;
}

static uint16_t
build_arp(uint8_t *buf, const struct rte_ether_addr *dst_mac, uint16_t op)
{
	put_eth(buf, dst_mac, RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(buf + RTE_ETHER_HDR_LEN);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = peer_mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(peer_ip);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(our_ip);
	return RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
}

/* Copy @p len bytes into a fresh mbuf with the given RX flags and parse it. */
static struct rte_mbuf *
parse_bytes(const uint8_t *buf, uint16_t len, uint64_t ol_flags, enum rp_pkt_kind *kind)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		exit(1);
	}
	memcpy(rte_pktmbuf_append(m, len), buf, len);
	m->ol_flags = ol_flags;
	/* stale metadata from an earlier life of the mbuf must not survive */
	memset(rp_meta(m), 0xa5, sizeof(struct rp_meta));
	*kind = rp_pkt_parse(m, in_port, &our_mac);
	return m;
}

/* Parse and expect a drop for @p reason; the frame is left as it was. */
#define EXPECT_DROP(buf, len, flags, reason)                                   \
	do {                                                                   \
		enum rp_pkt_kind _k;                                           \
		struct rte_mbuf *_m = parse_bytes((buf), (len), (flags), &_k); \
		CHECK_EQ(_k, RP_PKT_DROP);                                     \
		CHECK_EQ(rp_meta(_m)->kind, RP_PKT_DROP);                      \
		CHECK_EQ(rp_meta(_m)->drop, (reason));                         \
		CHECK_EQ(rp_meta(_m)->in_port, in_port);                       \
		CHECK_EQ(rte_pktmbuf_pkt_len(_m), (len));                      \
		rte_pktmbuf_free(_m);                                          \
	} while (0)

static void
test_valid_ipv4(void)
{
	uint8_t buf[256];
	enum rp_pkt_kind kind;

	uint16_t len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 64);
	struct rte_mbuf *m = parse_bytes(buf, len, 0, &kind);
	struct rp_meta *meta = rp_meta(m);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(meta->kind, RP_PKT_IPV4);
	CHECK_EQ(meta->drop, RP_DROP_NONE);
	CHECK_EQ(meta->src, peer_ip);
	CHECK_EQ(meta->dst, our_ip);
	CHECK_EQ(meta->nexthop, 0);
	CHECK_EQ(meta->l3_off, 14);
	CHECK_EQ(meta->l4_off, 34);
	CHECK_EQ(meta->ip_len, 84);
	CHECK_EQ(meta->flags, 0);
	CHECK_EQ(meta->proto, IPPROTO_UDP);
	CHECK_EQ(meta->ttl, 57);
	CHECK_EQ(meta->in_port, in_port);
	CHECK_EQ(meta->out_port, 0);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 98);
	CHECK(rp_ip(m) == rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14));
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), buf, len) == 0);
	rte_pktmbuf_free(m);

	/* options: IHL 15, the longest header; the checksum covers them too */
	len = build_ipv4(buf, &our_mac, 15, IPPROTO_TCP, 0, peer_ip, our_ip, 20);
	m = parse_bytes(buf, len, 0, &kind);
	meta = rp_meta(m);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(meta->l3_off, 14);
	CHECK_EQ(meta->l4_off, 14 + 60);
	CHECK_EQ(meta->ip_len, 80);
	CHECK_EQ(meta->proto, IPPROTO_TCP);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 94);
	rte_pktmbuf_free(m);

	/* the checksum covers the options: a changed option byte is caught */
	len = build_ipv4(buf, &our_mac, 6, IPPROTO_TCP, 0, peer_ip, our_ip, 20);
	buf[14 + 23] = 0; /* last NOP becomes End of Option List */
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_CSUM);

	/* Ethernet padding beyond the total length is trimmed */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 8);
	CHECK_EQ(len, 42);
	memset(buf + len, 0xee, 18);
	m = parse_bytes(buf, 60, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->ip_len, 28);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 42);
	CHECK_EQ(rte_pktmbuf_data_len(m), 42);
	rte_pktmbuf_free(m);

	/* an IP header alone (total length 20) is valid: l4_off == end of frame */
	len = build_ipv4(buf, &our_mac, 5, 253, 0, peer_ip, our_ip, 0);
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->l4_off, 34);
	CHECK_EQ(rp_meta(m)->ip_len, 20);
	CHECK_EQ(rp_meta(m)->proto, 253);
	rte_pktmbuf_free(m);
}

/* Every prefix of a valid frame is dropped, with the reason its length gives. */
static void
test_truncated(void)
{
	uint8_t buf[256];
	for (uint8_t ihl = 5; ihl <= 8; ihl += 3) {
		uint16_t full = build_ipv4(buf, &our_mac, ihl, IPPROTO_UDP, 0, peer_ip, our_ip, 30);
		uint16_t hdr_len = ihl * 4;
		for (uint16_t len = 0; len < full; len++) {
			enum rp_drop want;
			if (len < 14)
				want = RP_DROP_ETH_SHORT;
			else if (len < 14 + 20)
				want = RP_DROP_IP_SHORT;
			else if (len < 14 + hdr_len)
				want = RP_DROP_IP_IHL;
			else
				want = RP_DROP_IP_SHORT;
			enum rp_pkt_kind kind;
			struct rte_mbuf *m = parse_bytes(buf, len, 0, &kind);
			CHECK_EQ(kind, RP_PKT_DROP);
			if (rp_meta(m)->drop != want)
				fprintf(stderr, "truncated ihl %u at %u bytes\n", ihl, len);
			CHECK_EQ(rp_meta(m)->drop, want);
			CHECK_EQ(rte_pktmbuf_pkt_len(m), len);
			rte_pktmbuf_free(m);
		}
	}
	/* ARP cut short of its 28 bytes */
	uint16_t full = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	for (uint16_t len = 14; len < full; len++)
		EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
}

static void
test_bad_ip_header(void)
{
	uint8_t buf[256];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	uint16_t len;

	/* version 6 behind an IPv4 EtherType, with a valid-looking header */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->version_ihl = 0x65;
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_VERSION);
	/* the version is read even when the header is short */
	EXPECT_DROP(buf, 15, 0, RP_DROP_IP_VERSION);
	/* a frame that ends with the Ethernet header has no version to read */
	EXPECT_DROP(buf, 14, 0, RP_DROP_IP_SHORT);

	/* IHL below 5 words */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
		ip->version_ihl = 0x40 | ihl;
		fix_ip_cksum(buf);
		EXPECT_DROP(buf, len, 0, RP_DROP_IP_IHL);
	}
	/* IHL 15 (60 bytes) in a frame with 40 bytes of IP */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 20);
	ip->version_ihl = 0x4f;
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_IHL);
	/* ...and with exactly 60: valid header, total length 40 < 60 */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->version_ihl = 0x4f;
	ip->total_length = RTE_BE16(40);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_TOTLEN);

	/* total length below the header length */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->total_length = RTE_BE16(19);
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_TOTLEN);
	len = build_ipv4(buf, &our_mac, 8, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->total_length = RTE_BE16(31);
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_TOTLEN);
	ip->total_length = RTE_BE16(0);
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_TOTLEN);

	/* total length beyond the frame, by one byte and by a lot */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->total_length = RTE_BE16(61);
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_SHORT);
	ip->total_length = RTE_BE16(65535);
	fix_ip_cksum(buf);
	EXPECT_DROP(buf, len, 0, RP_DROP_IP_SHORT);
	/* exactly the frame: valid */
	ip->total_length = RTE_BE16(60);
	fix_ip_cksum(buf);
	enum rp_pkt_kind kind;
	struct rte_mbuf *m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);
}

static void
test_checksum(void)
{
	uint8_t buf[256];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	enum rp_pkt_kind kind;
	struct rte_mbuf *m;

	uint16_t len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	uint16_t good = ip->hdr_checksum;

	/* each single-bit error anywhere in the header is caught */
	for (unsigned bit = 0; bit < 20 * 8; bit++) {
		uint8_t *b = (uint8_t *)ip + bit / 8;
		/* skip the bits whose damage another check catches first */
		if (bit < 8 /* version, IHL */ || (bit >= 16 && bit < 32) /* total length */)
			continue;
		*b ^= (uint8_t)(1u << (bit % 8));
		EXPECT_DROP(buf, len, 0, RP_DROP_IP_CSUM);
		*b ^= (uint8_t)(1u << (bit % 8));
	}
	ip->hdr_checksum = (uint16_t)(good + 1);
	EXPECT_DROP(buf, len, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RP_DROP_IP_CSUM);

	/* the device checked it: GOOD is trusted even with a wrong checksum */
	m = parse_bytes(buf, len, RTE_MBUF_F_RX_IP_CKSUM_GOOD, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->drop, RP_DROP_NONE);
	CHECK_EQ(rp_meta(m)->src, peer_ip);
	rte_pktmbuf_free(m);
	/* NONE: the device verified the header's integrity, so it is accepted too */
	m = parse_bytes(buf, len, RTE_MBUF_F_RX_IP_CKSUM_NONE, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);

	/* BAD is trusted even when the checksum looks right */
	ip->hdr_checksum = good;
	EXPECT_DROP(buf, len, RTE_MBUF_F_RX_IP_CKSUM_BAD, RP_DROP_IP_CSUM);
	/* other offload flags do not confuse it */
	m = parse_bytes(buf, len, RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_RSS_HASH, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);

	/* checksum 0xffff, the other zero: valid for a header that sums to 0xffff */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
	ip->packet_id = 0;
	ip->hdr_checksum = 0;
	uint16_t rest = rte_raw_cksum(ip, 20);
	ip->packet_id = (uint16_t)~rest; /* now the rest sums to 0xffff */
	CHECK_EQ(rte_ipv4_cksum(ip), 0);
	ip->hdr_checksum = 0xffff;
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);
	ip->hdr_checksum = 0;
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);
}

static void
test_ethernet(void)
{
	uint8_t buf[256];
	enum rp_pkt_kind kind;
	struct rte_mbuf *m;

	uint16_t len = build_ipv4(buf, &other_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 10);
	EXPECT_DROP(buf, len, 0, RP_DROP_ETH_OTHER_HOST);
	/* the destination is checked before anything else past the length */
	EXPECT_DROP(buf, 14, 0, RP_DROP_ETH_OTHER_HOST);
	EXPECT_DROP(buf, 13, 0, RP_DROP_ETH_SHORT);

	len = build_ipv4(buf, &bcast_mac, 5, IPPROTO_UDP, 0, peer_ip, IP4(255, 255, 255, 255), 10);
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->flags, RP_F_L2_BCAST);
	CHECK_EQ(rp_meta(m)->dst, IP4(255, 255, 255, 255));
	rte_pktmbuf_free(m);

	len = build_ipv4(buf, &mcast_mac, 5, IPPROTO_UDP, 0, peer_ip, IP4(224, 0, 0, 1), 10);
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->flags, RP_F_L2_MCAST);
	rte_pktmbuf_free(m);

	/* IPv6, VLAN-tagged IPv4 and LLDP are not handled */
	static const uint16_t types[] = {RTE_ETHER_TYPE_IPV6, RTE_ETHER_TYPE_VLAN,
					 RTE_ETHER_TYPE_QINQ, RTE_ETHER_TYPE_LLDP, 0x0000};
	for (unsigned i = 0; i < RTE_DIM(types); i++) {
		len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 40);
		((struct rte_ether_hdr *)buf)->ether_type = rte_cpu_to_be_16(types[i]);
		EXPECT_DROP(buf, len, 0, RP_DROP_ETH_TYPE);
	}
	/* an ARP with a broken body to someone else is still "other host" */
	len = build_arp(buf, &other_mac, 99);
	EXPECT_DROP(buf, len, 0, RP_DROP_ETH_OTHER_HOST);
}

static void
test_arp(void)
{
	uint8_t buf[256];
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(buf + 14);
	enum rp_pkt_kind kind;
	struct rte_mbuf *m;

	uint16_t len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	CHECK_EQ(len, 42);
	m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->kind, RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->drop, RP_DROP_NONE);
	CHECK_EQ(rp_meta(m)->src, peer_ip);
	CHECK_EQ(rp_meta(m)->dst, our_ip);
	CHECK_EQ(rp_meta(m)->l3_off, 14);
	CHECK_EQ(rp_meta(m)->flags, RP_F_L2_BCAST);
	CHECK_EQ(rp_meta(m)->in_port, in_port);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 42);
	rte_pktmbuf_free(m);

	/* unicast reply, padded to 60 bytes: padding is kept (ARP has no length) */
	len = build_arp(buf, &our_mac, RTE_ARP_OP_REPLY);
	memset(buf + len, 0, 18);
	m = parse_bytes(buf, 60, 0, &kind);
	CHECK_EQ(kind, RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->flags, 0);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
	rte_pktmbuf_free(m);

	/* each field that makes it Ethernet/IPv4 request or reply */
	len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	arp->arp_hardware = RTE_BE16(6); /* IEEE 802 */
	EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
	len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
	len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	arp->arp_hlen = 8;
	EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
	len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	arp->arp_plen = 16;
	EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
	static const uint16_t bad_ops[] = {0, RTE_ARP_OP_REVREQUEST, RTE_ARP_OP_REVREPLY,
					   RTE_ARP_OP_INVREQUEST, 0x0100};
	for (unsigned i = 0; i < RTE_DIM(bad_ops); i++) {
		len = build_arp(buf, &bcast_mac, bad_ops[i]);
		EXPECT_DROP(buf, len, 0, RP_DROP_ARP_MALFORMED);
	}
}

static void
test_fragments(void)
{
	static const struct {
		uint16_t frag;
		uint16_t flags;
	} cases[] = {
		{0, 0},
		{RTE_IPV4_HDR_DF_FLAG, RP_F_DF},
		{RTE_IPV4_HDR_MF_FLAG, RP_F_FRAG},                           /* first */
		{RTE_IPV4_HDR_MF_FLAG | 185, RP_F_FRAG | RP_F_FRAG_LATER},   /* middle */
		{185, RP_F_FRAG | RP_F_FRAG_LATER},                          /* last */
		{1, RP_F_FRAG | RP_F_FRAG_LATER},
		{RTE_IPV4_HDR_OFFSET_MASK, RP_F_FRAG | RP_F_FRAG_LATER},
		/* DF with MF is contradictory but says what it says */
		{RTE_IPV4_HDR_DF_FLAG | RTE_IPV4_HDR_MF_FLAG, RP_F_DF | RP_F_FRAG},
		{0x8000 /* reserved bit */, 0},
	};
	uint8_t buf[256];
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		uint16_t len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, cases[i].frag, peer_ip,
					  our_ip, 24);
		enum rp_pkt_kind kind;
		struct rte_mbuf *m = parse_bytes(buf, len, 0, &kind);
		CHECK_EQ(kind, RP_PKT_IPV4);
		if (rp_meta(m)->flags != cases[i].flags)
			fprintf(stderr, "fragment case %u (0x%04x)\n", i, cases[i].frag);
		CHECK_EQ(rp_meta(m)->flags, cases[i].flags);
		rte_pktmbuf_free(m);
	}
	/* flags add to the L2 ones */
	uint16_t len = build_ipv4(buf, &bcast_mac, 5, IPPROTO_UDP, 185, peer_ip, our_ip, 24);
	enum rp_pkt_kind kind;
	struct rte_mbuf *m = parse_bytes(buf, len, 0, &kind);
	CHECK_EQ(rp_meta(m)->flags, RP_F_L2_BCAST | RP_F_FRAG | RP_F_FRAG_LATER);
	rte_pktmbuf_free(m);
}

static void
test_ipv4_cksum(void)
{
	uint8_t buf[256];
	build_ipv4(buf, &our_mac, 7, IPPROTO_UDP, 0, peer_ip, our_ip, 0);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	uint16_t want = ip->hdr_checksum;
	/* the stored value does not matter: it is left out of the sum */
	CHECK_EQ(rp_ipv4_cksum(ip), want);
	ip->hdr_checksum = 0x5a5a;
	CHECK_EQ(rp_ipv4_cksum(ip), want);
	CHECK_EQ(ip->hdr_checksum, 0x5a5a);
}

/* ---- seed corpus for tests/fuzz/fuzz_pkt.c ---- */

static uint16_t
build_l4_opts(uint8_t *buf, uint8_t proto, uint16_t frag, uint16_t l4_len, uint8_t ihl)
{
	uint16_t len = build_ipv4(buf, &our_mac, ihl, proto, frag, peer_ip, our_ip, l4_len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	void *l4 = buf + 14 + ihl * 4;
	if (proto == IPPROTO_ICMP) {
		struct rte_icmp_hdr *icmp = l4;
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		icmp->icmp_code = 0;
		icmp->icmp_ident = RTE_BE16(0x4242);
		icmp->icmp_seq_nb = RTE_BE16(1);
		icmp->icmp_cksum = 0;
		icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4_len);
	} else if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = l4;
		memset(tcp, 0, sizeof(*tcp));
		tcp->src_port = RTE_BE16(40000);
		tcp->dst_port = RTE_BE16(22);
		tcp->sent_seq = RTE_BE32(0x01020304);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = RTE_TCP_SYN_FLAG;
		tcp->rx_win = RTE_BE16(64240);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *udp = l4;
		udp->src_port = RTE_BE16(40000);
		udp->dst_port = RTE_BE16(53);
		udp->dgram_len = rte_cpu_to_be_16(l4_len);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	return len;
}

static uint16_t
build_l4(uint8_t *buf, uint8_t proto, uint16_t frag, uint16_t l4_len)
{
	return build_l4_opts(buf, proto, frag, l4_len, 5);
}

static int
write_seed(const char *dir, const char *name, const uint8_t *buf, uint16_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) != 0;
}

static int
write_corpus(const char *dir)
{
	uint8_t buf[2048];
	int err = 0;
	uint16_t len;

	len = build_l4(buf, IPPROTO_ICMP, 0, 64);
	err |= write_seed(dir, "icmp_echo", buf, len);
	len = build_l4_opts(buf, IPPROTO_ICMP, 0, 64, 7);
	err |= write_seed(dir, "icmp_echo_options", buf, len);
	len = build_l4(buf, IPPROTO_TCP, RTE_IPV4_HDR_DF_FLAG, 20);
	err |= write_seed(dir, "tcp_syn", buf, len);
	len = build_l4(buf, IPPROTO_UDP, 0, 8 + 12);
	memset(buf + len, 0, 60 - len); /* padded to the minimum frame */
	err |= write_seed(dir, "udp_padded", buf, 60);
	len = build_l4(buf, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG, 1480);
	err |= write_seed(dir, "udp_first_fragment", buf, len);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 185, peer_ip, our_ip, 520);
	err |= write_seed(dir, "udp_last_fragment", buf, len);
	len = build_ipv4(buf, &our_mac, 10, IPPROTO_UDP, 0, peer_ip, our_ip, 30);
	err |= write_seed(dir, "ip_options", buf, len);
	len = build_arp(buf, &bcast_mac, RTE_ARP_OP_REQUEST);
	memset(buf + len, 0, 60 - len);
	err |= write_seed(dir, "arp_request", buf, 60);
	memset(buf + 60, 0x5a, 4); /* with a trailer beyond the minimum frame */
	err |= write_seed(dir, "arp_request_trailer", buf, 64);
	len = build_arp(buf, &our_mac, RTE_ARP_OP_REPLY);
	err |= write_seed(dir, "arp_reply", buf, len);

	/* the seeds must be what they claim: valid frames */
	uint8_t check[2048];
	len = build_l4(check, IPPROTO_ICMP, 0, 64);
	CHECK_EQ(rte_raw_cksum(check + 34, 64), 0xffff);
	len = build_l4(check, IPPROTO_TCP, 0, 20);
	CHECK_EQ(rte_ipv4_udptcp_cksum_verify((struct rte_ipv4_hdr *)(check + 14), check + 34), 0);
	len = build_l4(check, IPPROTO_UDP, 0, 20);
	CHECK_EQ(rte_ipv4_udptcp_cksum_verify((struct rte_ipv4_hdr *)(check + 14), check + 34), 0);
	enum rp_pkt_kind kind;
	struct rte_mbuf *m = parse_bytes(check, len, 0, &kind);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rte_pktmbuf_free(m);
	return err;
}

int
main(int argc, char **argv)
{
	rp_test_eal_init("test_pkt");
	pool = rte_pktmbuf_pool_create("test_pkt", 511, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_pkt: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		if (write_corpus(argv[2]) != 0)
			return 1;
		return rp_test_done("test_pkt --write-corpus");
	}

	test_valid_ipv4();
	test_truncated();
	test_bad_ip_header();
	test_checksum();
	test_ethernet();
	test_arp();
	test_fragments();
	test_ipv4_cksum();
	/* every mbuf went back: no path leaks one */
	CHECK_EQ(rte_mempool_avail_count(pool), 511);

	rte_mempool_free(pool);
	return rp_test_done("test_pkt");
}
