/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker hot path: parse and validate one received frame into rp_meta.
 * No allocation, no loop over the payload; the only loop is the IPv4 header
 * checksum (at most 15 words), and only when the device did not check it.
 */

#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>

#include "rampart_pkt.h"

/*
 * One's complement sum of an IPv4 header of @p words 32-bit words, folded to
 * 16 bits, in memory order (as rte_raw_cksum). Summing 32-bit words into 64
 * bits and folding gives the same one's complement sum as 16-bit words, in
 * half the additions.
 */
static inline uint16_t
rp_hdr_sum(const void *hdr, unsigned int words)
{
	const uint8_t *p = hdr;
	uint64_t sum = 0;
	for (unsigned int i = 0; i < words; i++) {
		uint32_t w;
		memcpy(&w, p + 4 * i, sizeof(w));
		sum += w;
	}
	sum = (sum >> 32) + (sum & 0xffffffff);
	sum = (sum >> 32) + (sum & 0xffffffff);
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

#define RP_ARP_FRAME_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))

static inline enum rp_pkt_kind
parse_drop(struct rp_meta *meta, enum rp_drop reason)
{
	meta->kind = RP_PKT_DROP;
	meta->drop = reason;
	return RP_PKT_DROP;
}

static enum rp_pkt_kind
parse_arp(struct rte_mbuf *m, struct rp_meta *meta, uint32_t frame_len)
{
	if (unlikely(frame_len < RP_ARP_FRAME_LEN))
		return parse_drop(meta, RP_DROP_ARP_MALFORMED);

	const struct rte_arp_hdr *arp =
		rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, RTE_ETHER_HDR_LEN);
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
	if (unlikely(arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		     arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		     arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(uint32_t) ||
		     (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)))
		return parse_drop(meta, RP_DROP_ARP_MALFORMED);

	meta->src = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	meta->dst = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	meta->l3_off = RTE_ETHER_HDR_LEN;
	meta->kind = RP_PKT_ARP;
	return RP_PKT_ARP;
}

static inline enum rp_pkt_kind
parse_ipv4(struct rte_mbuf *m, struct rp_meta *meta, uint32_t frame_len)
{
	uint32_t ip_bytes = frame_len - RTE_ETHER_HDR_LEN;
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

	if (unlikely(ip_bytes < sizeof(struct rte_ipv4_hdr))) {
		/* a version we can read wins: "not IPv4" says more than "short" */
		if (ip_bytes >= 1 && (ip->version_ihl >> 4) != 4)
			return parse_drop(meta, RP_DROP_IP_VERSION);
		return parse_drop(meta, RP_DROP_IP_SHORT);
	}
	if (unlikely((ip->version_ihl >> 4) != 4))
		return parse_drop(meta, RP_DROP_IP_VERSION);

	uint32_t hdr_len = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) *
			   RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hdr_len < sizeof(struct rte_ipv4_hdr) || hdr_len > ip_bytes))
		return parse_drop(meta, RP_DROP_IP_IHL);

	uint32_t total_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(total_len < hdr_len))
		return parse_drop(meta, RP_DROP_IP_TOTLEN);
	if (unlikely(total_len > ip_bytes))
		return parse_drop(meta, RP_DROP_IP_SHORT);

	/*
	 * GOOD is tested first on purpose: CKSUM_NONE (both bits) means the
	 * device verified the header's integrity, so it is not a bad checksum.
	 */
	uint64_t csum_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (!(csum_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD)) {
		if (unlikely(csum_flags & RTE_MBUF_F_RX_IP_CKSUM_BAD))
			return parse_drop(meta, RP_DROP_IP_CSUM);
		/* over the whole header, checksum included, a valid one sums to -0 */
		if (unlikely(rp_hdr_sum(ip, hdr_len / 4) != 0xffff))
			return parse_drop(meta, RP_DROP_IP_CSUM);
	}

	/* Ethernet pads short frames to 60 bytes: later stages see the datagram only */
	if (unlikely(total_len < ip_bytes))
		rte_pktmbuf_trim(m, (uint16_t)(ip_bytes - total_len));

	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	uint16_t flags = meta->flags;
	if (frag & RTE_IPV4_HDR_DF_FLAG)
		flags |= RP_F_DF;
	if (frag & RTE_IPV4_HDR_OFFSET_MASK)
		flags |= RP_F_FRAG | RP_F_FRAG_LATER;
	else if (frag & RTE_IPV4_HDR_MF_FLAG)
		flags |= RP_F_FRAG;

	meta->src = rte_be_to_cpu_32(ip->src_addr);
	meta->dst = rte_be_to_cpu_32(ip->dst_addr);
	meta->l3_off = RTE_ETHER_HDR_LEN;
	meta->l4_off = (uint16_t)(RTE_ETHER_HDR_LEN + hdr_len);
	meta->ip_len = (uint16_t)total_len;
	meta->flags = flags;
	meta->proto = ip->next_proto_id;
	meta->ttl = ip->time_to_live;
	meta->kind = RP_PKT_IPV4;
	return RP_PKT_IPV4;
}

enum rp_pkt_kind
rp_pkt_parse(struct rte_mbuf *m, uint8_t in_port, const struct rte_ether_addr *port_mac)
{
	struct rp_meta *meta = rp_meta(m);
	/* every field is rewritten: metadata of the mbuf's previous life must not leak */
	*meta = (struct rp_meta){.in_port = in_port};

	uint32_t frame_len = rte_pktmbuf_data_len(m);
	if (unlikely(frame_len < RTE_ETHER_HDR_LEN))
		return parse_drop(meta, RP_DROP_ETH_SHORT);

	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, port_mac))) {
		if (rte_is_broadcast_ether_addr(&eth->dst_addr))
			meta->flags = RP_F_L2_BCAST;
		else if (rte_is_multicast_ether_addr(&eth->dst_addr))
			meta->flags = RP_F_L2_MCAST;
		else
			return parse_drop(meta, RP_DROP_ETH_OTHER_HOST);
	}

	/* VLAN tags are not handled yet: a tagged frame is an unknown EtherType */
	if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)))
		return parse_ipv4(m, meta, frame_len);
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return parse_arp(m, meta, frame_len);
	return parse_drop(meta, RP_DROP_ETH_TYPE);
}

rte_be16_t
rp_ipv4_cksum(const struct rte_ipv4_hdr *ip)
{
	unsigned int words = ip->version_ihl & RTE_IPV4_HDR_IHL_MASK;
	/*
	 * The stored checksum is taken out again by adding its complement, so
	 * the field need not be zeroed first: sum(rest) = sum(all) + ~cksum.
	 */
	uint32_t sum = rp_hdr_sum(ip, words);
	sum += (uint16_t)~ip->hdr_checksum;
	sum = (sum >> 16) + (sum & 0xffff);
	return (rte_be16_t)~sum;
}
