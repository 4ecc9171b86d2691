/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * REJECT's packets: the TCP reset (every field, as Linux's nf_send_reset
 * builds it, and every case where none is due) and the ICMP unreachable
 * (codes, the checksum rule of nf_send_unreach, RFC 1812 limits), bounds
 * (pool too small or empty, truncated input, chains). Runs without
 * hugepages.
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
#define FRAME_MAX 2048

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr mcast_mac = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x09}};

static const uint32_t client_ip = IP4(198, 18, 1, 2);
static const uint32_t server_ip = IP4(198, 19, 1, 2);
static const uint32_t our_ip = IP4(198, 18, 1, 1);
static const uint8_t in_port = 3;

static struct rte_mempool *pool;

/* What goes into a test frame; zero fields take the defaults below. */
struct spec {
	const struct rte_ether_addr *dmac; /* default our_mac */
	uint32_t src, dst;                 /* default client_ip -> server_ip */
	uint8_t proto;                     /* default TCP */
	uint16_t frag;                     /* flags and offset word */
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t doff; /* header words, default 5 */
	uint16_t payload;
	uint16_t l4_len; /* other protocols: L4 bytes (pattern), TCP: cut the segment to it */
	int bad_csum;
};

/* Frame for @p s: Ethernet, IPv4 (DF, TTL 64, ID 0x1234), L4 with a right checksum. */
static uint16_t
build(uint8_t *buf, const struct spec *s)
{
	memset(buf, 0, FRAME_MAX);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = s->dmac != NULL ? *s->dmac : our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint8_t proto = s->proto != 0 ? s->proto : IPPROTO_TCP;
	uint16_t l4_len;

	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
		uint8_t doff = s->doff != 0 ? s->doff : 5;
		th->src_port = rte_cpu_to_be_16(s->sport != 0 ? s->sport : 40000);
		th->dst_port = rte_cpu_to_be_16(s->dport != 0 ? s->dport : 80);
		th->sent_seq = rte_cpu_to_be_32(s->seq);
		th->recv_ack = rte_cpu_to_be_32(s->ack);
		th->data_off = (uint8_t)(doff << 4);
		th->tcp_flags = s->flags;
		th->rx_win = RTE_BE16(64240);
		l4_len = (uint16_t)((doff >= 5 ? doff * 4 : 20) + s->payload);
		for (uint16_t i = 20; i < l4_len; i++)
			l4[i] = (uint8_t)(i * 7 + 1);
		if (s->l4_len != 0)
			l4_len = s->l4_len;
	} else {
		l4_len = s->l4_len;
		for (uint16_t i = 0; i < l4_len; i++)
			l4[i] = (uint8_t)(i * 11 + 3);
	}

	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4_len));
	ip->packet_id = RTE_BE16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16(s->frag != 0 ? s->frag : RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(s->src != 0 ? s->src : client_ip);
	ip->dst_addr = rte_cpu_to_be_32(s->dst != 0 ? s->dst : server_ip);
	ip->hdr_checksum = rp_ipv4_cksum(ip);

	if (proto == IPPROTO_TCP && l4_len >= 20) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		if (s->bad_csum)
			th->cksum ^= 0x0101;
	}
	return (uint16_t)(14 + 20 + l4_len);
}

/* A parsed mbuf holding @p len bytes of @p frame, L4 parsed without checksum. */
static struct rte_mbuf *
mk(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	enum rp_pkt_kind kind = rp_pkt_parse(m, in_port, &our_mac);
	CHECK_EQ(kind, RP_PKT_IPV4);
	rp_pkt_parse_l4(m, 0);
	return m;
}

static struct rte_mbuf *
mk_spec(const struct spec *s)
{
	static uint8_t frame[FRAME_MAX];
	return mk(frame, build(frame, s));
}

/* The reset for @p s, checked field by field against what Linux would send. */
static void
check_reset(const struct spec *s, uint32_t want_seq, uint32_t want_ack, uint8_t want_flags)
{
	struct rte_mbuf *orig = mk_spec(s);
	uint8_t before[FRAME_MAX];
	uint16_t orig_len = rte_pktmbuf_data_len(orig);
	memcpy(before, rte_pktmbuf_mtod(orig, uint8_t *), orig_len);
	struct rp_meta meta_before = *rp_meta(orig);

	uint32_t why = 12345;
	struct rte_mbuf *r = rp_tcp_reset(pool, orig, &why);
	CHECK(r != NULL);
	CHECK_EQ(why, RP_REJECT_SENT);
	/* the original is left as it was */
	CHECK(memcmp(rte_pktmbuf_mtod(orig, uint8_t *), before, orig_len) == 0);
	CHECK(memcmp(rp_meta(orig), &meta_before, sizeof(meta_before)) == 0);
	if (r == NULL) {
		rte_pktmbuf_free(orig);
		return;
	}

	CHECK_EQ(rte_pktmbuf_pkt_len(r), 54);
	CHECK_EQ(r->nb_segs, 1);
	const uint8_t *frame = rte_pktmbuf_mtod(r, const uint8_t *);
	static const uint8_t zero[14];
	CHECK(memcmp(frame, zero, 14) == 0);

	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + 14);
	CHECK_EQ(ip->version_ihl, 0x45);
	CHECK_EQ(ip->type_of_service, 0);
	CHECK_EQ(rte_be_to_cpu_16(ip->total_length), 40);
	CHECK_EQ(ip->packet_id, 0);
	CHECK_EQ(rte_be_to_cpu_16(ip->fragment_offset), RTE_IPV4_HDR_DF_FLAG);
	CHECK_EQ(ip->time_to_live, 64);
	CHECK_EQ(ip->next_proto_id, IPPROTO_TCP);
	uint32_t src = s->src != 0 ? s->src : client_ip;
	uint32_t dst = s->dst != 0 ? s->dst : server_ip;
	CHECK_EQ(rte_be_to_cpu_32(ip->src_addr), dst);
	CHECK_EQ(rte_be_to_cpu_32(ip->dst_addr), src);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);

	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
	uint16_t sport = s->sport != 0 ? s->sport : 40000;
	uint16_t dport = s->dport != 0 ? s->dport : 80;
	CHECK_EQ(rte_be_to_cpu_16(th->src_port), dport);
	CHECK_EQ(rte_be_to_cpu_16(th->dst_port), sport);
	CHECK_EQ(rte_be_to_cpu_32(th->sent_seq), want_seq);
	CHECK_EQ(rte_be_to_cpu_32(th->recv_ack), want_ack);
	CHECK_EQ(th->data_off, 0x50);
	CHECK_EQ(th->tcp_flags, want_flags);
	CHECK_EQ(th->rx_win, 0);
	CHECK_EQ(th->tcp_urp, 0);
	CHECK_EQ(rte_ipv4_udptcp_cksum_verify(ip, th), 0);

	const struct rp_meta *rm = rp_meta(r);
	CHECK_EQ(rm->kind, RP_PKT_IPV4);
	CHECK_EQ(rm->src, dst);
	CHECK_EQ(rm->dst, src);
	CHECK_EQ(rm->proto, IPPROTO_TCP);
	CHECK_EQ(rm->l3_off, 14);
	CHECK_EQ(rm->l4_off, 34);
	CHECK_EQ(rm->ip_len, 40);
	CHECK_EQ(rm->ttl, 64);
	CHECK_EQ(rm->flags, RP_F_LOCAL_OUT | RP_F_DF);
	CHECK_EQ(rm->in_port, in_port);
	CHECK_EQ(rm->l4_status, RP_L4_OK);
	CHECK_EQ(rm->tcp_flags, want_flags);
	CHECK_EQ(rm->sport, dport);
	CHECK_EQ(rm->dport, sport);
	CHECK_EQ(rm->l4_payload, 0);
	CHECK_EQ(r->l2_len, 14);
	CHECK_EQ(r->l3_len, 20);
	CHECK_EQ(r->l4_len, 20);

	/* with the Ethernet header the output path writes, it parses back the same */
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(r, struct rte_ether_hdr *);
	eth->dst_addr = our_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	CHECK_EQ(rp_pkt_parse(r, 0, &our_mac), RP_PKT_IPV4);
	CHECK_EQ(rp_pkt_parse_l4(r, 1), RP_L4_OK);
	CHECK_EQ(rp_meta(r)->tcp_flags, want_flags);
	CHECK_EQ(rp_meta(r)->sport, dport);

	rte_pktmbuf_free(r);
	rte_pktmbuf_free(orig);
}

/* No reset for @p s, for reason @p want. */
static void
check_no_reset(const struct spec *s, uint32_t want, int line)
{
	struct rte_mbuf *orig = mk_spec(s);
	unsigned avail = rte_mempool_avail_count(pool);
	uint32_t why = RP_REJECT_SENT;
	rte_errno = 0;
	struct rte_mbuf *r = rp_tcp_reset(pool, orig, &why);
	if (r != NULL || why != want)
		fprintf(stderr, "check_no_reset called from line %d: why %s\n", line,
			rp_reject_why_name(why));
	CHECK(r == NULL);
	CHECK_EQ(why, want);
	CHECK_EQ(rte_errno, EPERM);
	CHECK_EQ(rte_mempool_avail_count(pool), avail);
	rte_pktmbuf_free(r);
	rte_pktmbuf_free(orig);
}

static void
test_reset_fields(void)
{
	/* SYN to a closed port: no ACK, so seq 0 and ack = seq + 1 */
	check_reset(&(struct spec){.seq = 1000, .flags = RTE_TCP_SYN_FLAG}, 0, 1001,
		    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	/* data with ACK: the reset takes the peer's ack as its seq, and acks nothing */
	check_reset(&(struct spec){.seq = 5000, .ack = 7777, .payload = 100,
				   .flags = RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG},
		    7777, 0, RTE_TCP_RST_FLAG);
	/* SYN with data, sequence wrapping past 2^32: ack = seq + 1 + 10 */
	check_reset(&(struct spec){.seq = 0xfffffffa, .payload = 10, .flags = RTE_TCP_SYN_FLAG},
		    0, 5, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	/* FIN with data and no ACK counts FIN too */
	check_reset(&(struct spec){.seq = 300, .payload = 20, .flags = RTE_TCP_FIN_FLAG}, 0, 321,
		    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	/* FIN|ACK: seq from its ack, whatever its own seq */
	check_reset(&(struct spec){.seq = 300, .ack = 0x80000001,
				   .flags = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG},
		    0x80000001, 0, RTE_TCP_RST_FLAG);
	/* options: the payload is what follows the data offset, not the 20 bytes */
	check_reset(&(struct spec){.seq = 10, .doff = 8, .payload = 4, .flags = RTE_TCP_SYN_FLAG},
		    0, 15, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	/* other ports and addresses are swapped the same way */
	check_reset(&(struct spec){.src = IP4(203, 0, 113, 5), .dst = our_ip, .sport = 1,
				   .dport = 65535, .seq = 1, .flags = RTE_TCP_SYN_FLAG},
		    0, 2, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
}

static void
test_no_reset(void)
{
	check_no_reset(&(struct spec){.flags = RTE_TCP_RST_FLAG}, RP_REJECT_RST, __LINE__);
	check_no_reset(&(struct spec){.flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG},
		       RP_REJECT_RST, __LINE__);
	/* broadcast and multicast, at the IP layer and at the link layer */
	check_no_reset(&(struct spec){.dmac = &bcast_mac, .dst = UINT32_MAX,
				      .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_BROADCAST, __LINE__);
	check_no_reset(&(struct spec){.dmac = &mcast_mac, .dst = IP4(224, 0, 0, 9),
				      .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_BROADCAST, __LINE__);
	check_no_reset(&(struct spec){.dst = IP4(239, 1, 2, 3), .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_BROADCAST, __LINE__);
	check_no_reset(&(struct spec){.dmac = &bcast_mac, .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_BROADCAST, __LINE__);
	/* checksum */
	check_no_reset(&(struct spec){.flags = RTE_TCP_SYN_FLAG, .bad_csum = 1},
		       RP_REJECT_BAD_CSUM, __LINE__);
	/* fragments: a later one has no header, a first one cannot be verified */
	check_no_reset(&(struct spec){.frag = 10, .l4_len = 24, .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_FRAGMENT, __LINE__);
	check_no_reset(&(struct spec){.frag = RTE_IPV4_HDR_MF_FLAG, .payload = 8,
				      .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_FRAGMENT, __LINE__);
	/* not TCP */
	check_no_reset(&(struct spec){.proto = IPPROTO_UDP, .l4_len = 8}, RP_REJECT_NOT_TCP,
		       __LINE__);
	check_no_reset(&(struct spec){.proto = IPPROTO_ICMP, .l4_len = 8}, RP_REJECT_NOT_TCP,
		       __LINE__);
	/* truncated header, data offset below 5 words or past the segment */
	check_no_reset(&(struct spec){.l4_len = 12, .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MALFORMED, __LINE__);
	check_no_reset(&(struct spec){.l4_len = 19, .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MALFORMED, __LINE__);
	check_no_reset(&(struct spec){.doff = 4, .flags = RTE_TCP_SYN_FLAG}, RP_REJECT_MALFORMED,
		       __LINE__);
	check_no_reset(&(struct spec){.doff = 15, .l4_len = 40, .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MALFORMED, __LINE__);
	/* sources that name no host */
	check_no_reset(&(struct spec){.src = IP4(127, 0, 0, 1), .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MARTIAN_SRC, __LINE__);
	check_no_reset(&(struct spec){.src = IP4(240, 0, 0, 1), .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MARTIAN_SRC, __LINE__);
	check_no_reset(&(struct spec){.src = IP4(0, 0, 0, 7), .flags = RTE_TCP_SYN_FLAG},
		       RP_REJECT_MARTIAN_SRC, __LINE__);

	/* why may be NULL */
	struct rte_mbuf *orig = mk_spec(&(struct spec){.flags = RTE_TCP_RST_FLAG});
	CHECK(rp_tcp_reset(pool, orig, NULL) == NULL);
	rte_pktmbuf_free(orig);
	orig = mk_spec(&(struct spec){.flags = RTE_TCP_SYN_FLAG});
	struct rte_mbuf *r = rp_tcp_reset(pool, orig, NULL);
	CHECK(r != NULL);
	rte_pktmbuf_free(r);
	rte_pktmbuf_free(orig);

	CHECK_STR_CONTAINS(rp_reject_why_name(RP_REJECT_SENT), "sent");
	CHECK(strcmp(rp_reject_why_name(RP_REJECT_BAD_CSUM), "bad_checksum") == 0);
	CHECK(strcmp(rp_reject_why_name(RP_REJECT_NO_MBUF), "no_mbuf") == 0);
	CHECK(strcmp(rp_reject_why_name(RP_REJECT_WHY_MAX), "unknown") == 0);
}

/* The device's checksum verdict replaces the software check, both ways. */
static void
test_reset_device_csum(void)
{
	struct rte_mbuf *orig = mk_spec(&(struct spec){.seq = 9, .flags = RTE_TCP_SYN_FLAG,
						       .bad_csum = 1});
	orig->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	uint32_t why = RP_REJECT_WHY_MAX;
	struct rte_mbuf *r = rp_tcp_reset(pool, orig, &why);
	CHECK(r != NULL);
	CHECK_EQ(why, RP_REJECT_SENT);
	rte_pktmbuf_free(r);
	rte_pktmbuf_free(orig);

	orig = mk_spec(&(struct spec){.seq = 9, .flags = RTE_TCP_SYN_FLAG});
	orig->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	r = rp_tcp_reset(pool, orig, &why);
	CHECK(r == NULL);
	CHECK_EQ(why, RP_REJECT_BAD_CSUM);
	rte_pktmbuf_free(orig);
}

/* @p m's bytes as a chain cut at @p c1 and @p c2, rp_meta copied. */
static struct rte_mbuf *
as_chain(struct rte_mbuf *m, uint16_t c1, uint16_t c2)
{
	const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t cuts[4] = {0, c1, c2, rte_pktmbuf_data_len(m)};
	struct rte_mbuf *head = NULL;
	for (unsigned i = 0; i < 3; i++) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
		uint16_t n = (uint16_t)(cuts[i + 1] - cuts[i]);
		memcpy(rte_pktmbuf_append(seg, n), src + cuts[i], n);
		if (head == NULL)
			head = seg;
		else
			CHECK_EQ(rte_pktmbuf_chain(head, seg), 0);
	}
	*rp_meta(head) = *rp_meta(m);
	head->ol_flags = m->ol_flags;
	return head;
}

/* A reassembled datagram is a chain: header and checksum read across segments. */
static void
test_reset_chain(void)
{
	struct rte_mbuf *flat = mk_spec(&(struct spec){.seq = 77, .ack = 4242, .payload = 301,
						       .flags = RTE_TCP_ACK_FLAG});
	/* cut inside the TCP header, then at an odd offset inside the payload */
	struct rte_mbuf *chain = as_chain(flat, 14 + 20 + 9, 14 + 20 + 20 + 151);
	uint32_t why;
	struct rte_mbuf *a = rp_tcp_reset(pool, flat, &why);
	struct rte_mbuf *b = rp_tcp_reset(pool, chain, &why);
	CHECK(a != NULL && b != NULL);
	CHECK_EQ(why, RP_REJECT_SENT);
	if (a != NULL && b != NULL) {
		CHECK_EQ(rte_pktmbuf_pkt_len(b), 54);
		CHECK(memcmp(rte_pktmbuf_mtod(a, void *), rte_pktmbuf_mtod(b, void *), 54) == 0);
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(b, struct rte_tcp_hdr *, 34);
		CHECK_EQ(rte_be_to_cpu_32(th->sent_seq), 4242);
	}
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);

	/* a checksum error in the last segment is found too */
	uint8_t *last = rte_pktmbuf_mtod_offset(rte_pktmbuf_lastseg(chain), uint8_t *, 7);
	*last ^= 0x20;
	CHECK(rp_tcp_reset(pool, chain, &why) == NULL);
	CHECK_EQ(why, RP_REJECT_BAD_CSUM);
	rte_pktmbuf_free(chain);
	rte_pktmbuf_free(flat);
}

/* No mbuf, or one too small: NULL, ENOMEM, nothing leaked. */
static void
test_reset_bounds(void)
{
	struct rte_mbuf *orig = mk_spec(&(struct spec){.seq = 1, .flags = RTE_TCP_SYN_FLAG});
	/* 40 bytes of data room: less than the 54 of a reset frame */
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("reject_tiny", 7, 0, RP_MBUF_PRIV_SIZE,
							   RTE_PKTMBUF_HEADROOM + 40,
							   SOCKET_ID_ANY);
	CHECK(tiny != NULL);
	uint32_t why = RP_REJECT_SENT;
	rte_errno = 0;
	CHECK(rp_tcp_reset(tiny, orig, &why) == NULL);
	CHECK_EQ(why, RP_REJECT_NO_MBUF);
	CHECK_EQ(rte_errno, ENOMEM);
	CHECK_EQ(rte_mempool_avail_count(tiny), 7);
	rte_errno = 0;
	CHECK(rp_icmp_reject(tiny, orig, RP_ICMP_UNREACH_PORT, our_ip) == NULL);
	CHECK_EQ(rte_errno, ENOMEM);
	CHECK_EQ(rte_mempool_avail_count(tiny), 7);
	rte_mempool_free(tiny);

	/* an empty pool */
	struct rte_mempool *one = rte_pktmbuf_pool_create("reject_one", 1, 0, RP_MBUF_PRIV_SIZE,
							  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CHECK(one != NULL);
	struct rte_mbuf *hold = rte_pktmbuf_alloc(one);
	CHECK(hold != NULL);
	rte_errno = 0;
	CHECK(rp_tcp_reset(one, orig, &why) == NULL);
	CHECK_EQ(why, RP_REJECT_NO_MBUF);
	CHECK_EQ(rte_errno, ENOMEM);
	rte_pktmbuf_free(hold);
	struct rte_mbuf *r = rp_tcp_reset(one, orig, &why);
	CHECK(r != NULL);
	CHECK_EQ(why, RP_REJECT_SENT);
	rte_pktmbuf_free(r);
	rte_mempool_free(one);
	rte_pktmbuf_free(orig);

	/* a frame cut short of what its rp_meta claims is never read past */
	orig = mk_spec(&(struct spec){.seq = 1, .payload = 30, .flags = RTE_TCP_SYN_FLAG});
	rte_pktmbuf_trim(orig, 40);
	CHECK(rp_tcp_reset(pool, orig, &why) == NULL);
	CHECK_EQ(why, RP_REJECT_MALFORMED);
	rte_errno = 0;
	CHECK(rp_icmp_reject(pool, orig, RP_ICMP_UNREACH_PORT, our_ip) == NULL);
	CHECK_EQ(rte_errno, EBADMSG);
	rte_pktmbuf_free(orig);
}

/* rp_icmp_reject's message about @p orig with @p code, checked whole. */
static void
check_unreach(struct rte_mbuf *orig, uint8_t code)
{
	rte_errno = 0;
	struct rte_mbuf *e = rp_icmp_reject(pool, orig, code, our_ip);
	CHECK(e != NULL);
	if (e == NULL) {
		fprintf(stderr, "  rp_icmp_reject code %u: %s\n", code, rte_strerror(rte_errno));
		return;
	}
	const struct rp_meta *om = rp_meta(orig);
	uint32_t quote = RTE_MIN((uint32_t)om->ip_len, 576u - 28);
	CHECK_EQ(rte_pktmbuf_pkt_len(e), 14 + 28 + quote);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(e, struct rte_ipv4_hdr *, 14);
	CHECK_EQ(rte_be_to_cpu_32(ip->src_addr), our_ip);
	CHECK_EQ(rte_be_to_cpu_32(ip->dst_addr), om->src);
	CHECK_EQ(ip->next_proto_id, IPPROTO_ICMP);
	CHECK_EQ(ip->time_to_live, 64);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);
	const uint8_t *icmp = (const uint8_t *)(ip + 1);
	CHECK_EQ(icmp[0], 3);
	CHECK_EQ(icmp[1], code);
	CHECK_EQ(icmp[4] | icmp[5] | icmp[6] | icmp[7], 0);
	CHECK_EQ(rte_raw_cksum(icmp, 8 + quote), 0xffff);
	CHECK(memcmp(icmp + 8, rp_ip(orig), quote) == 0);
	const struct rp_meta *em = rp_meta(e);
	CHECK_EQ(em->src, our_ip);
	CHECK_EQ(em->dst, om->src);
	CHECK_EQ(em->proto, IPPROTO_ICMP);
	CHECK_EQ(em->l3_off, 14);
	CHECK_EQ(em->l4_off, 34);
	CHECK_EQ(em->ip_len, 28 + quote);
	CHECK_EQ(em->flags, RP_F_LOCAL_OUT);
	CHECK_EQ(em->l4_status, RP_L4_OK);
	CHECK_EQ(em->sport, 0);
	CHECK_EQ(em->dport, 3 << 8 | code);
	CHECK_EQ(em->l4_payload, quote);
	rte_pktmbuf_free(e);
}

static void
check_no_unreach(struct rte_mbuf *orig, uint8_t code, int want_errno, int line)
{
	unsigned avail = rte_mempool_avail_count(pool);
	rte_errno = 0;
	struct rte_mbuf *e = rp_icmp_reject(pool, orig, code, our_ip);
	if (e != NULL || rte_errno != want_errno)
		fprintf(stderr, "check_no_unreach called from line %d: errno %d\n", line, rte_errno);
	CHECK(e == NULL);
	CHECK_EQ(rte_errno, want_errno);
	CHECK_EQ(rte_mempool_avail_count(pool), avail);
	rte_pktmbuf_free(e);
}

/* A UDP datagram to us: right checksum, wrong (@p bad) or none (@p no_csum). */
static struct rte_mbuf *
mk_udp(uint16_t frag, uint16_t payload, int bad, int no_csum)
{
	static uint8_t frame[FRAME_MAX];
	uint16_t len = build(frame, &(struct spec){.proto = IPPROTO_UDP, .frag = frag,
						  .l4_len = (uint16_t)(8 + payload), .dst = our_ip});
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + 14);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
	uh->src_port = RTE_BE16(5353);
	uh->dst_port = RTE_BE16(53);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
	uh->dgram_cksum = 0;
	if (!no_csum)
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
	if (bad)
		uh->dgram_cksum ^= 0x8000;
	return mk(frame, len);
}

/* An ICMP message of @p type with a right checksum (wrong with @p bad). */
static struct rte_mbuf *
mk_icmp(uint8_t type, int bad)
{
	static uint8_t frame[FRAME_MAX];
	uint16_t len = build(frame, &(struct spec){.proto = IPPROTO_ICMP, .l4_len = 64,
						  .dst = our_ip});
	uint8_t *icmp = frame + 34;
	icmp[0] = type;
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	rte_be16_t sum = (rte_be16_t)~rte_raw_cksum(icmp, 64);
	memcpy(icmp + 2, &sum, 2);
	if (bad)
		icmp[10] ^= 1;
	return mk(frame, len);
}

static void
test_unreach(void)
{
	static const uint8_t codes[] = {
		RP_ICMP_UNREACH_NET,        RP_ICMP_UNREACH_HOST,        RP_ICMP_UNREACH_PROTO,
		RP_ICMP_UNREACH_PORT,       RP_ICMP_UNREACH_NET_PROHIB,  RP_ICMP_UNREACH_HOST_PROHIB,
		RP_ICMP_UNREACH_ADMIN_PROHIB,
	};
	static const uint8_t code_values[] = {0, 1, 2, 3, 9, 10, 13};
	CHECK(memcmp(codes, code_values, sizeof(codes)) == 0);

	struct rte_mbuf *udp = mk_udp(0, 100, 0, 0);
	for (unsigned i = 0; i < RTE_DIM(codes); i++)
		check_unreach(udp, codes[i]);
	check_no_unreach(udp, 16, EINVAL, __LINE__);
	rte_pktmbuf_free(udp);

	/* a long datagram is quoted up to 576 bytes in all */
	udp = mk_udp(0, 1200, 0, 0);
	check_unreach(udp, RP_ICMP_UNREACH_PORT);
	rte_pktmbuf_free(udp);

	/* checksums: wrong is silent, none (UDP 0) is fine, the device's word counts */
	udp = mk_udp(0, 100, 1, 0);
	check_no_unreach(udp, RP_ICMP_UNREACH_PORT, EBADMSG, __LINE__);
	udp->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	check_unreach(udp, RP_ICMP_UNREACH_PORT);
	rte_pktmbuf_free(udp);
	udp = mk_udp(0, 100, 0, 1);
	check_unreach(udp, RP_ICMP_UNREACH_PORT);
	rte_pktmbuf_free(udp);
	udp = mk_udp(0, 100, 0, 0);
	udp->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	check_no_unreach(udp, RP_ICMP_UNREACH_PORT, EBADMSG, __LINE__);
	rte_pktmbuf_free(udp);

	/* fragments: never about a later one; a first one only if nothing to verify */
	udp = mk_udp(RTE_IPV4_HDR_MF_FLAG | 20, 100, 0, 0);
	check_no_unreach(udp, RP_ICMP_UNREACH_PORT, EPERM, __LINE__);
	rte_pktmbuf_free(udp);
	udp = mk_udp(RTE_IPV4_HDR_MF_FLAG, 96, 0, 0);
	check_no_unreach(udp, RP_ICMP_UNREACH_PORT, EBADMSG, __LINE__);
	rte_pktmbuf_free(udp);
	udp = mk_udp(RTE_IPV4_HDR_MF_FLAG, 96, 0, 1);
	check_unreach(udp, RP_ICMP_UNREACH_PORT);
	rte_pktmbuf_free(udp);

	/* TCP: icmp-port-unreachable is REJECT's default for it too */
	struct rte_mbuf *tcp = mk_spec(&(struct spec){.seq = 1, .flags = RTE_TCP_SYN_FLAG});
	check_unreach(tcp, RP_ICMP_UNREACH_ADMIN_PROHIB);
	rte_pktmbuf_free(tcp);
	tcp = mk_spec(&(struct spec){.seq = 1, .flags = RTE_TCP_SYN_FLAG, .bad_csum = 1});
	check_no_unreach(tcp, RP_ICMP_UNREACH_PORT, EBADMSG, __LINE__);
	rte_pktmbuf_free(tcp);
	/* broadcast: RFC 1812 */
	tcp = mk_spec(&(struct spec){.dmac = &bcast_mac, .dst = UINT32_MAX, .seq = 1,
				     .flags = RTE_TCP_SYN_FLAG});
	check_no_unreach(tcp, RP_ICMP_UNREACH_PORT, EPERM, __LINE__);
	rte_pktmbuf_free(tcp);

	/* ICMP: a query may be answered, an error never; its checksum is checked */
	struct rte_mbuf *icmp = mk_icmp(RTE_IP_ICMP_ECHO_REQUEST, 0);
	check_unreach(icmp, RP_ICMP_UNREACH_HOST_PROHIB);
	rte_pktmbuf_free(icmp);
	icmp = mk_icmp(RTE_IP_ICMP_ECHO_REQUEST, 1);
	check_no_unreach(icmp, RP_ICMP_UNREACH_HOST_PROHIB, EBADMSG, __LINE__);
	rte_pktmbuf_free(icmp);
	icmp = mk_icmp(3, 0);
	check_no_unreach(icmp, RP_ICMP_UNREACH_HOST_PROHIB, EPERM, __LINE__);
	rte_pktmbuf_free(icmp);

	/* GRE is not checked; an unknown protocol must sum like ICMP, as in Linux */
	struct rte_mbuf *gre = mk_spec(&(struct spec){.proto = IPPROTO_GRE, .l4_len = 40});
	check_unreach(gre, RP_ICMP_UNREACH_PROTO);
	rte_pktmbuf_free(gre);
	static uint8_t frame[FRAME_MAX];
	uint16_t len = build(frame, &(struct spec){.proto = 253, .l4_len = 40});
	CHECK(rte_raw_cksum(frame + 34, 40) != 0xffff);
	struct rte_mbuf *other = mk(frame, len);
	check_no_unreach(other, RP_ICMP_UNREACH_PROTO, EBADMSG, __LINE__);
	rte_pktmbuf_free(other);
	frame[34] = frame[35] = 0;
	rte_be16_t sum = (rte_be16_t)~rte_raw_cksum(frame + 34, 40);
	memcpy(frame + 34, &sum, 2);
	other = mk(frame, len);
	check_unreach(other, RP_ICMP_UNREACH_PROTO);
	rte_pktmbuf_free(other);
}

int
main(void)
{
	rp_test_eal_init("reject");
	pool = rte_pktmbuf_pool_create("reject", POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_reset_fields();
	test_no_reset();
	test_reset_device_csum();
	test_reset_chain();
	test_reset_bounds();
	test_unreach();
	/* every mbuf went back */
	CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE);
	rte_mempool_free(pool);
	return rp_test_done("reject");
}
