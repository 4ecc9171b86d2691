/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets Rampart builds itself: ICMP errors (lengths, fields, quote,
 * checksums), when an error may be sent, echo replies, ARP requests and
 * replies, byte for byte. Runs without hugepages.
 */

#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_mbuf.h>

#include "rampart_pkt.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define POOL_SIZE 255

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mcast_mac = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x05}};

static const uint32_t peer_ip = IP4(198, 18, 1, 2);
static const uint32_t our_ip = IP4(198, 18, 1, 1);
static const uint32_t far_ip = IP4(198, 19, 7, 9);
static const uint8_t in_port = 1;

static struct rte_mempool *pool;

/* An IPv4 frame with @p ihl header words (NOP options), pattern payload. */
static uint16_t
build_ipv4(uint8_t *buf, const struct rte_ether_addr *dst_mac, uint8_t ihl, uint8_t proto,
	   uint16_t frag, uint32_t src, uint32_t dst, uint16_t payload_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = *dst_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	uint16_t hdr_len = ihl * 4;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = 0x40 | ihl;
	ip->type_of_service = 0x10;
	ip->total_length = rte_cpu_to_be_16(hdr_len + payload_len);
	ip->packet_id = RTE_BE16(0x4d2);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = 1;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	memset(ip + 1, 1, hdr_len - sizeof(*ip));
	uint8_t *payload = (uint8_t *)ip + hdr_len;
	for (uint16_t i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 13 + 5);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return RTE_ETHER_HDR_LEN + hdr_len + payload_len;
}

/* An ICMP message of @p icmp_len bytes (>= 8) behind an IPv4 header, valid checksum. */
static uint16_t
build_icmp(uint8_t *buf, uint8_t ihl, uint8_t type, uint32_t src, uint32_t dst, uint16_t icmp_len)
{
	uint16_t len = build_ipv4(buf, &our_mac, ihl, IPPROTO_ICMP, 0, src, dst, icmp_len);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(buf + 14 + ihl * 4);
	icmp->icmp_type = type;
	icmp->icmp_code = 0;
	icmp->icmp_ident = RTE_BE16(0x1f2e);
	icmp->icmp_seq_nb = RTE_BE16(7);
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, icmp_len);
	return len;
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
	if (rp_pkt_parse(m, in_port, &our_mac) == RP_PKT_DROP)
		fprintf(stderr, "test frame dropped: reason %u\n", rp_meta(m)->drop);
	return m;
}

static void
check_icmp_error(const uint8_t *orig, uint16_t orig_len, uint8_t orig_ihl, uint16_t want_quote)
{
	struct rte_mbuf *om = parsed(orig, orig_len);
	CHECK_EQ(rp_meta(om)->kind, RP_PKT_IPV4);
	uint16_t orig_ip_len = rp_meta(om)->ip_len;

	struct rte_mbuf *m = rp_icmp_error(pool, om, 3, 4, 1400, our_ip);
	CHECK(m != NULL);
	if (m == NULL) {
		rte_pktmbuf_free(om);
		return;
	}
	uint16_t ip_len = 20 + 8 + want_quote;
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 14 + ip_len);
	CHECK_EQ(rte_pktmbuf_data_len(m), 14 + ip_len);
	CHECK_EQ(m->nb_segs, 1);

	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	static const uint8_t zero_eth[14];
	CHECK(memcmp(frame, zero_eth, 14) == 0);

	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + 14);
	CHECK_EQ(ip->version_ihl, 0x45);
	CHECK_EQ(ip->type_of_service, 0xc0);
	CHECK_EQ(rte_be_to_cpu_16(ip->total_length), ip_len);
	CHECK_EQ(ip->packet_id, 0);
	CHECK_EQ(ip->fragment_offset, 0);
	CHECK_EQ(ip->time_to_live, 64);
	CHECK_EQ(ip->next_proto_id, IPPROTO_ICMP);
	CHECK_EQ(rte_be_to_cpu_32(ip->src_addr), our_ip);
	CHECK_EQ(rte_be_to_cpu_32(ip->dst_addr), peer_ip);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);

	const uint8_t *icmp = frame + 34;
	static const uint8_t want_hdr_start[] = {3, 4};
	static const uint8_t want_info[] = {0x00, 0x00, 0x05, 0x78}; /* MTU 1400 */
	CHECK(memcmp(icmp, want_hdr_start, 2) == 0);
	CHECK(memcmp(icmp + 4, want_info, 4) == 0);
	CHECK_EQ(rte_raw_cksum(icmp, 8 + want_quote), 0xffff);
	/* the quote is the original datagram from its IP header, options included */
	CHECK(memcmp(icmp + 8, orig + 14, want_quote) == 0);
	CHECK_EQ(icmp[8], 0x40 | orig_ihl);

	const struct rp_meta *meta = rp_meta(m);
	CHECK_EQ(meta->kind, RP_PKT_IPV4);
	CHECK_EQ(meta->src, our_ip);
	CHECK_EQ(meta->dst, peer_ip);
	CHECK_EQ(meta->proto, IPPROTO_ICMP);
	CHECK_EQ(meta->ip_len, ip_len);
	CHECK_EQ(meta->l3_off, 14);
	CHECK_EQ(meta->l4_off, 34);
	CHECK_EQ(meta->flags, RP_F_LOCAL_OUT);
	CHECK_EQ(meta->ttl, 64);
	CHECK_EQ(meta->nexthop, 0);

	/* what it built, a receiver accepts */
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eth->dst_addr = our_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	CHECK_EQ(rp_pkt_parse(m, 0, &our_mac), RP_PKT_IPV4);
	CHECK_EQ(rp_meta(m)->ip_len, ip_len);

	/* the original is untouched */
	CHECK_EQ(rte_pktmbuf_pkt_len(om), 14 + orig_ip_len);
	CHECK(memcmp(rte_pktmbuf_mtod(om, uint8_t *), orig, 14 + orig_ip_len) == 0);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(om);
}

static void
test_icmp_error(void)
{
	static uint8_t buf[2048];
	uint16_t len;

	/* small original: all of it is quoted */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	check_icmp_error(buf, len, 5, 60);
	/* with options, padded: the quote is the datagram, not the padding */
	len = build_ipv4(buf, &our_mac, 9, IPPROTO_UDP, 0, peer_ip, far_ip, 0);
	memset(buf + len, 0xcc, 60 - len);
	check_icmp_error(buf, 60, 9, 36);
	/* exactly fits: 548 bytes quoted make 576 */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 528);
	check_icmp_error(buf, len, 5, 548);
	/* one more byte is cut */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 529);
	check_icmp_error(buf, len, 5, 548);
	/* a full-size datagram is cut at 576 */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_TCP, 0, peer_ip, far_ip, 1480);
	check_icmp_error(buf, len, 5, 548);
	/* odd length: the checksum pads the last byte */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 33);
	check_icmp_error(buf, len, 5, 53);

	/* type, code and info land where they belong */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	struct rte_mbuf *om = parsed(buf, len);
	struct rte_mbuf *m = rp_icmp_error(pool, om, 12, 0, 0x14000000, our_ip);
	CHECK(m != NULL);
	if (m != NULL) {
		static const uint8_t want[] = {12, 0};
		static const uint8_t want_info[] = {0x14, 0, 0, 0};
		const uint8_t *icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 34);
		CHECK(memcmp(icmp, want, 2) == 0);
		CHECK(memcmp(icmp + 4, want_info, 4) == 0);
		CHECK_EQ(rte_raw_cksum(icmp, 8 + 60), 0xffff);
		rte_pktmbuf_free(m);
	}
	m = rp_icmp_error(pool, om, 11, 0, 0, our_ip);
	CHECK(m != NULL);
	if (m != NULL) {
		static const uint8_t want[] = {11, 0};
		static const uint8_t want_info[] = {0, 0, 0, 0};
		const uint8_t *icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 34);
		CHECK(memcmp(icmp, want, 2) == 0);
		CHECK(memcmp(icmp + 4, want_info, 4) == 0);
		rte_pktmbuf_free(m);
	}

	/* an empty pool: NULL and ENOMEM, the original kept */
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("craft_tiny", 4, 0, RP_MBUF_PRIV_SIZE,
							   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CHECK(tiny != NULL);
	if (tiny != NULL) {
		struct rte_mbuf *hold[4];
		CHECK_EQ(rte_pktmbuf_alloc_bulk(tiny, hold, 4), 0);
		rte_errno = 0;
		CHECK(rp_icmp_error(tiny, om, 11, 0, 0, our_ip) == NULL);
		CHECK_EQ(rte_errno, ENOMEM);
		rte_errno = 0;
		CHECK(rp_arp_request(tiny, &our_mac, our_ip, peer_ip, NULL) == NULL);
		CHECK_EQ(rte_errno, ENOMEM);
		rte_pktmbuf_free_bulk(hold, 4);
		rte_mempool_free(tiny);
	}
	/* a pool whose buffers cannot hold 590 bytes */
	struct rte_mempool *small = rte_pktmbuf_pool_create("craft_small", 4, 0, RP_MBUF_PRIV_SIZE,
							    RTE_PKTMBUF_HEADROOM + 256, SOCKET_ID_ANY);
	CHECK(small != NULL);
	rte_pktmbuf_free(om);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 1000);
	om = parsed(buf, len);
	if (small != NULL) {
		rte_errno = 0;
		CHECK(rp_icmp_error(small, om, 11, 0, 0, our_ip) == NULL);
		CHECK_EQ(rte_errno, ENOMEM);
		/* the mbuf it took went back */
		CHECK_EQ(rte_mempool_avail_count(small), 4);
		rte_mempool_free(small);
	}
	rte_pktmbuf_free(om);
}

static int
allowed(const uint8_t *buf, uint16_t len)
{
	struct rte_mbuf *m = parsed(buf, len);
	int ok = rp_icmp_error_allowed(m);
	rte_pktmbuf_free(m);
	return ok;
}

static void
test_icmp_error_allowed(void)
{
	uint8_t buf[256];
	uint16_t len;

	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 1);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_TCP, RTE_IPV4_HDR_DF_FLAG, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 1);

	/* ICMP queries may get an error, ICMP errors (and unknown types) never */
	static const struct {
		uint8_t type;
		int ok;
	} icmp_cases[] = {
		{RTE_IP_ICMP_ECHO_REQUEST, 1}, {RTE_IP_ICMP_ECHO_REPLY, 1}, {13, 1}, {17, 1},
		{3, 0}, {4, 0}, {5, 0}, {11, 0}, {12, 0}, {42, 0}, {255, 0},
	};
	for (unsigned i = 0; i < RTE_DIM(icmp_cases); i++) {
		len = build_icmp(buf, 5, icmp_cases[i].type, peer_ip, far_ip, 36);
		if (allowed(buf, len) != icmp_cases[i].ok)
			fprintf(stderr, "ICMP type %u\n", icmp_cases[i].type);
		CHECK_EQ(allowed(buf, len), icmp_cases[i].ok);
	}
	/* ICMP whose type is not in the datagram: assume the worst */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_ICMP, 0, peer_ip, far_ip, 0);
	CHECK_EQ(allowed(buf, len), 0);
	/* the type is read after the options */
	len = build_icmp(buf, 8, RTE_IP_ICMP_ECHO_REQUEST, peer_ip, far_ip, 8);
	CHECK_EQ(allowed(buf, len), 1);
	len = build_icmp(buf, 8, 11, peer_ip, far_ip, 8);
	CHECK_EQ(allowed(buf, len), 0);

	/* fragments: only the first */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 1);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG | 10, peer_ip, far_ip,
			 40);
	CHECK_EQ(allowed(buf, len), 0);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 10, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 0);

	/* L2 broadcast and multicast */
	len = build_ipv4(buf, &bcast_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 0);
	len = build_ipv4(buf, &mcast_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	CHECK_EQ(allowed(buf, len), 0);

	/* L3 broadcast and multicast destinations, even in a unicast frame */
	static const uint32_t bad_dst[] = {IP4(255, 255, 255, 255), IP4(224, 0, 0, 1),
					   IP4(224, 0, 0, 5), IP4(239, 255, 255, 250)};
	for (unsigned i = 0; i < RTE_DIM(bad_dst); i++) {
		len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, bad_dst[i], 40);
		CHECK_EQ(allowed(buf, len), 0);
	}
	/* sources that name no single host */
	static const uint32_t bad_src[] = {IP4(0, 0, 0, 0),       IP4(0, 1, 2, 3),
					   IP4(127, 0, 0, 1),     IP4(224, 0, 0, 5),
					   IP4(239, 1, 1, 1),     IP4(240, 0, 0, 1),
					   IP4(255, 255, 255, 255)};
	for (unsigned i = 0; i < RTE_DIM(bad_src); i++) {
		len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, bad_src[i], far_ip, 40);
		if (allowed(buf, len) != 0)
			fprintf(stderr, "source 0x%08x\n", bad_src[i]);
		CHECK_EQ(allowed(buf, len), 0);
	}
	/* the edges of those ranges are ordinary hosts */
	static const uint32_t good_src[] = {IP4(1, 0, 0, 0), IP4(126, 255, 255, 255),
					    IP4(128, 0, 0, 1), IP4(223, 255, 255, 254)};
	for (unsigned i = 0; i < RTE_DIM(good_src); i++) {
		len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, good_src[i], far_ip, 40);
		CHECK_EQ(allowed(buf, len), 1);
	}

	/* not IPv4: an ARP, a dropped frame */
	struct rte_mbuf *m = rp_arp_request(pool, &peer_mac, peer_ip, our_ip, NULL);
	CHECK(m != NULL);
	CHECK_EQ(rp_icmp_error_allowed(m), 0);
	rte_pktmbuf_free(m);
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, far_ip, 40);
	buf[14 + 10] ^= 1; /* checksum */
	m = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, len), buf, len);
	CHECK_EQ(rp_pkt_parse(m, in_port, &our_mac), RP_PKT_DROP);
	CHECK_EQ(rp_meta(m)->drop, RP_DROP_IP_CSUM);
	CHECK_EQ(rp_icmp_error_allowed(m), 0);
	rte_pktmbuf_free(m);
}

static void
check_echo_reply(uint8_t ihl, uint16_t icmp_len)
{
	uint8_t buf[2048];
	uint16_t len = build_icmp(buf, ihl, RTE_IP_ICMP_ECHO_REQUEST, peer_ip, our_ip, icmp_len);
	struct rte_mbuf *m = parsed(buf, len);
	rp_meta(m)->out_port = 5; /* routing's choice is left alone */
	CHECK_EQ(rp_icmp_echo_reply(m), 0);

	uint16_t opt_len = (ihl - 5) * 4;
	uint16_t ip_len = 20 + icmp_len;
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 14 + ip_len);
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	/* the Ethernet header travels with the packet (the output path rewrites it) */
	CHECK(memcmp(frame, buf, 14) == 0);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + 14);
	const struct rte_ipv4_hdr *req = (const struct rte_ipv4_hdr *)(buf + 14);
	CHECK_EQ(ip->version_ihl, 0x45);
	CHECK_EQ(ip->type_of_service, req->type_of_service);
	CHECK_EQ(rte_be_to_cpu_16(ip->total_length), ip_len);
	CHECK_EQ(ip->packet_id, req->packet_id);
	CHECK_EQ(ip->time_to_live, 64);
	CHECK_EQ(ip->next_proto_id, IPPROTO_ICMP);
	CHECK_EQ(rte_be_to_cpu_32(ip->src_addr), our_ip);
	CHECK_EQ(rte_be_to_cpu_32(ip->dst_addr), peer_ip);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);

	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)(frame + 34);
	const struct rte_icmp_hdr *req_icmp = (const struct rte_icmp_hdr *)(buf + 34 + opt_len);
	CHECK_EQ(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CHECK_EQ(icmp->icmp_code, 0);
	CHECK_EQ(icmp->icmp_ident, req_icmp->icmp_ident);
	CHECK_EQ(icmp->icmp_seq_nb, req_icmp->icmp_seq_nb);
	CHECK(memcmp(icmp + 1, req_icmp + 1, icmp_len - 8) == 0);
	CHECK_EQ(rte_raw_cksum(icmp, icmp_len), 0xffff);

	const struct rp_meta *meta = rp_meta(m);
	CHECK_EQ(meta->kind, RP_PKT_IPV4);
	CHECK_EQ(meta->src, our_ip);
	CHECK_EQ(meta->dst, peer_ip);
	CHECK_EQ(meta->ip_len, ip_len);
	CHECK_EQ(meta->l3_off, 14);
	CHECK_EQ(meta->l4_off, 34);
	CHECK_EQ(meta->proto, IPPROTO_ICMP);
	CHECK_EQ(meta->ttl, 64);
	CHECK_EQ(meta->flags, RP_F_LOCAL_OUT);
	CHECK_EQ(meta->in_port, in_port);
	CHECK_EQ(meta->out_port, 5);
	rte_pktmbuf_free(m);
}

/* rp_icmp_echo_reply must refuse the frame and leave mbuf and metadata as they were. */
static void
check_echo_refused(const uint8_t *buf, uint16_t len)
{
	struct rte_mbuf *m = parsed(buf, len);
	struct rp_meta before = *rp_meta(m);
	uint16_t pkt_len = rte_pktmbuf_pkt_len(m);
	CHECK_EQ(rp_icmp_echo_reply(m), RP_DROP_ICMP_MALFORMED);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), pkt_len);
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), buf, pkt_len) == 0);
	CHECK(memcmp(rp_meta(m), &before, sizeof(before)) == 0);
	rte_pktmbuf_free(m);
}

static void
test_echo_reply(void)
{
	check_echo_reply(5, 64);
	check_echo_reply(5, 8);     /* no data */
	check_echo_reply(5, 57);    /* odd length */
	check_echo_reply(5, 1480);  /* full MTU */
	check_echo_reply(6, 64);    /* options are dropped from the reply */
	check_echo_reply(15, 33);

	uint8_t buf[256];
	uint16_t len = build_icmp(buf, 5, RTE_IP_ICMP_ECHO_REQUEST, peer_ip, our_ip, 64);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(buf + 34);
	/* a bad checksum: in the header word and in the data */
	icmp->icmp_cksum ^= RTE_BE16(0x0001);
	check_echo_refused(buf, len);
	icmp->icmp_cksum ^= RTE_BE16(0x0001);
	buf[len - 1] ^= 0x80;
	check_echo_refused(buf, len);
	buf[len - 1] ^= 0x80;
	/* the checksum must cover the whole message: a shortened IP total length */
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + 14);
	ip->total_length = RTE_BE16(20 + 63);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	check_echo_refused(buf, len);
	/* truncated: fewer than 8 bytes of ICMP */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_ICMP, 0, peer_ip, our_ip, 4);
	check_echo_refused(buf, len);
	/* not an echo request */
	len = build_icmp(buf, 5, 13, peer_ip, our_ip, 20);
	check_echo_refused(buf, len);
	/* a fragment: the checksum covers data this packet does not have */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_ICMP, RTE_IPV4_HDR_MF_FLAG, peer_ip, our_ip, 64);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_code = 0;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 64);
	check_echo_refused(buf, len);
	/* not ICMP at all */
	len = build_ipv4(buf, &our_mac, 5, IPPROTO_UDP, 0, peer_ip, our_ip, 64);
	check_echo_refused(buf, len);
}

static const uint8_t want_arp_request_bcast[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   /* Ethernet dst: broadcast */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,   /* src: ours */
	0x08, 0x06,                           /* ARP */
	0x00, 0x01, 0x08, 0x00, 6, 4,         /* Ethernet/IPv4 */
	0x00, 0x01,                           /* request */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,   /* sender MAC */
	198, 18, 1, 1,                        /* sender IP */
	0, 0, 0, 0, 0, 0,                     /* target MAC: unknown */
	198, 18, 1, 2,                        /* target IP */
	/* 18 bytes of zero padding */
};

static void
test_arp(void)
{
	struct rte_mbuf *m = rp_arp_request(pool, &our_mac, our_ip, peer_ip, NULL);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), want_arp_request_bcast, 60) == 0);
	CHECK_EQ(rp_meta(m)->kind, RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->src, our_ip);
	CHECK_EQ(rp_meta(m)->dst, peer_ip);
	CHECK_EQ(rp_meta(m)->l3_off, 14);
	CHECK_EQ(rp_meta(m)->flags, RP_F_LOCAL_OUT);
	rte_pktmbuf_free(m);

	/* unicast refresh: only the Ethernet destination differs */
	m = rp_arp_request(pool, &our_mac, our_ip, peer_ip, &peer_mac);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	uint8_t want[60];
	memcpy(want, want_arp_request_bcast, 60);
	memcpy(want, peer_mac.addr_bytes, 6);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), want, 60) == 0);

	/* our request as the peer receives it: it parses, and the peer's reply is exact */
	CHECK_EQ(rp_pkt_parse(m, 2, &peer_mac), RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->src, our_ip);
	CHECK_EQ(rp_meta(m)->dst, peer_ip);
	rp_arp_reply_inplace(m, &peer_mac);
	static const uint8_t want_reply_from_peer[60] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* to us */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* from the peer */
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4,
		0x00, 0x02,                         /* reply */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* sender: peer MAC */
		198, 18, 1, 2,                      /* has the asked address */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* target: the asker */
		198, 18, 1, 1,
	};
	CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
	CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), want_reply_from_peer, 60) == 0);
	CHECK_EQ(rp_meta(m)->src, peer_ip);
	CHECK_EQ(rp_meta(m)->dst, our_ip);
	CHECK_EQ(rp_meta(m)->kind, RP_PKT_ARP);
	CHECK_EQ(rp_meta(m)->flags, RP_F_LOCAL_OUT);
	CHECK_EQ(rp_meta(m)->in_port, 2);
	rte_pktmbuf_free(m);

	/* a peer's request, unpadded (42 bytes) and padded with junk (64 bytes) */
	static const uint8_t want_our_reply[60] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* to the asker */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* from us */
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4,
		0x00, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* we */
		198, 18, 1, 1,                      /* have the asked address */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* you */
		198, 18, 1, 2,
	};
	uint8_t req[64];
	memset(req, 0x77, sizeof(req));
	memcpy(req, want_arp_request_bcast, 42);
	/* the peer asks: swap the roles of the template */
	memcpy(req + 6, peer_mac.addr_bytes, 6);
	memcpy(req + 22, peer_mac.addr_bytes, 6);
	static const uint8_t peer_ip_bytes[] = {198, 18, 1, 2}, our_ip_bytes[] = {198, 18, 1, 1};
	memcpy(req + 28, peer_ip_bytes, 4);
	memcpy(req + 38, our_ip_bytes, 4);
	static const uint16_t req_lens[] = {42, 60, 64};
	for (unsigned i = 0; i < RTE_DIM(req_lens); i++) {
		m = parsed(req, req_lens[i]);
		CHECK_EQ(rp_meta(m)->kind, RP_PKT_ARP);
		CHECK_EQ(rp_meta(m)->flags, RP_F_L2_BCAST);
		rp_arp_reply_inplace(m, &our_mac);
		CHECK_EQ(rte_pktmbuf_pkt_len(m), 60);
		CHECK_EQ(rte_pktmbuf_data_len(m), 60);
		CHECK(memcmp(rte_pktmbuf_mtod(m, uint8_t *), want_our_reply, 60) == 0);
		CHECK_EQ(rp_meta(m)->src, our_ip);
		CHECK_EQ(rp_meta(m)->dst, peer_ip);
		CHECK_EQ(rp_meta(m)->flags, RP_F_LOCAL_OUT);
		rte_pktmbuf_free(m);
	}
}

int
main(void)
{
	rp_test_eal_init("test_craft");
	pool = rte_pktmbuf_pool_create("test_craft", POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_craft: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_icmp_error();
	test_icmp_error_allowed();
	test_echo_reply();
	test_arp();
	/* every mbuf built or parsed went back */
	CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE);
	rte_mempool_free(pool);
	return rp_test_done("test_craft");
}
