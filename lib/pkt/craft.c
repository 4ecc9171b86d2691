/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets the appliance sends itself: ICMP errors and echo replies, ARP
 * requests and replies. These run on the worker but off its fast path (one
 * packet in many); the ICMP checksums loop over the message.
 */

#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_errno.h>
#include <rte_icmp.h>

#include "rampart_pkt.h"

/* RFC 1812 4.3.2.3: an ICMP error datagram is at most 576 bytes */
#define RP_ICMP_ERR_MAX_LEN 576
#define RP_ICMP_HDR_LEN 8
#define RP_IP_HDR_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
/* Linux sends its ICMP errors as internetwork control (IPTOS_PREC_INTERNETCONTROL) */
#define RP_ICMP_ERR_TOS 0xc0
#define RP_LOCAL_TTL 64
#define RP_ARP_FRAME_LEN (RTE_ETHER_HDR_LEN + (uint16_t)sizeof(struct rte_arp_hdr))
/* shortest Ethernet frame without FCS; ARP frames are padded to it */
#define RP_ETH_MIN_FRAME (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)

/* ICMP checksum: complement of the one's complement sum of the message */
static inline rte_be16_t
icmp_cksum(const void *icmp, uint32_t len)
{
	return (rte_be16_t)~rte_raw_cksum(icmp, len);
}

/* True for the ICMP types that are queries (RFC 792/950/1256), not errors. */
static int
icmp_type_is_query(uint8_t type)
{
	switch (type) {
	case RTE_IP_ICMP_ECHO_REPLY:
	case RTE_IP_ICMP_ECHO_REQUEST:
	case 9:  /* router advertisement */
	case 10: /* router solicitation */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request */
	case 18: /* address mask reply */
		return 1;
	default:
		/* unknown types count as errors, as Linux treats them: never answered */
		return 0;
	}
}

struct rte_mbuf *
rp_icmp_error(struct rte_mempool *mp, struct rte_mbuf *orig, uint8_t type, uint8_t code,
	      uint32_t info, uint32_t src_addr)
{
	const struct rp_meta *om = rp_meta(orig);
	const struct rte_ipv4_hdr *oip = rp_ip(orig);

	/* quote from the original IP header on, bounded by what the frame holds */
	uint32_t quote = om->ip_len;
	uint32_t in_frame = rte_pktmbuf_data_len(orig) > om->l3_off ?
				    rte_pktmbuf_data_len(orig) - om->l3_off : 0;
	if (quote > in_frame)
		quote = in_frame;
	if (quote > RP_ICMP_ERR_MAX_LEN - RP_IP_HDR_LEN - RP_ICMP_HDR_LEN)
		quote = RP_ICMP_ERR_MAX_LEN - RP_IP_HDR_LEN - RP_ICMP_HDR_LEN;
	uint16_t ip_len = (uint16_t)(RP_IP_HDR_LEN + RP_ICMP_HDR_LEN + quote);

	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + ip_len);
	if (frame == NULL) { /* data room smaller than 590 bytes: a pool misconfiguration */
		rte_pktmbuf_free(m);
		rte_errno = ENOMEM;
		return NULL;
	}
	/* the output path writes the Ethernet header; zero it so nothing stale leaks */
	memset(frame, 0, RTE_ETHER_HDR_LEN);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = RP_ICMP_ERR_TOS;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	/* ID 0 is fine: DF is clear but a 576-byte datagram is never fragmented */
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = RP_LOCAL_TTL;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(src_addr);
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rp_ipv4_cksum(ip);

	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	rte_be32_t info_be = rte_cpu_to_be_32(info);
	memcpy(&icmp->icmp_ident, &info_be, sizeof(info_be));
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum = icmp_cksum(icmp, RP_ICMP_HDR_LEN + quote);

	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = RP_IP_HDR_LEN;

	struct rp_meta *meta = rp_meta(m);
	*meta = (struct rp_meta){
		.src = src_addr,
		.dst = om->src,
		.l3_off = RTE_ETHER_HDR_LEN,
		.l4_off = RTE_ETHER_HDR_LEN + RP_IP_HDR_LEN,
		.ip_len = ip_len,
		.flags = RP_F_LOCAL_OUT,
		.kind = RP_PKT_IPV4,
		.proto = IPPROTO_ICMP,
		.ttl = RP_LOCAL_TTL,
		/* where the offending packet came from: usually where the error goes */
		.in_port = om->in_port,
	};
	return m;
}

int
rp_icmp_error_allowed(struct rte_mbuf *m)
{
	const struct rp_meta *meta = rp_meta(m);

	if (meta->kind != RP_PKT_IPV4)
		return 0;
	/* only the first fragment carries the header an error could quote usefully */
	if (meta->flags & (RP_F_FRAG_LATER | RP_F_L2_BCAST | RP_F_L2_MCAST))
		return 0;
	if (meta->dst == UINT32_MAX || (meta->dst >> 28) == 0xe)
		return 0;
	/* a source that names no single host: martians and class E (240/4) */
	if (rp_ipv4_martian_src(meta->src) || (meta->src >> 28) == 0xf)
		return 0;
	if (meta->proto == IPPROTO_ICMP) {
		/* a type we cannot read may be an error: stay silent */
		if ((uint32_t)meta->l4_off + 1 > (uint32_t)meta->l3_off + meta->ip_len ||
		    meta->l4_off >= rte_pktmbuf_data_len(m))
			return 0;
		const uint8_t *icmp_type = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l4_off);
		if (!icmp_type_is_query(*icmp_type))
			return 0;
	}
	return 1;
}

int
rp_icmp_echo_reply(struct rte_mbuf *m)
{
	struct rp_meta *meta = rp_meta(m);

	if (meta->kind != RP_PKT_IPV4 || meta->proto != IPPROTO_ICMP)
		return RP_DROP_ICMP_MALFORMED;
	/* no reassembly: the checksum of a fragment's message cannot be verified */
	if (meta->flags & RP_F_FRAG)
		return RP_DROP_ICMP_MALFORMED;
	uint32_t hdr_len = (uint32_t)meta->l4_off - meta->l3_off;
	if (meta->ip_len < hdr_len + RP_ICMP_HDR_LEN ||
	    (uint32_t)meta->l3_off + meta->ip_len > rte_pktmbuf_data_len(m))
		return RP_DROP_ICMP_MALFORMED;

	struct rte_icmp_hdr *icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, meta->l4_off);
	uint32_t icmp_len = meta->ip_len - hdr_len;
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST)
		return RP_DROP_ICMP_MALFORMED;
	if (rte_raw_cksum(icmp, icmp_len) != 0xffff)
		return RP_DROP_ICMP_MALFORMED;

	/* only the type changes (8 -> 0) in the word it shares with the code */
	rte_be16_t old_word, new_word;
	memcpy(&old_word, &icmp->icmp_type, sizeof(old_word));
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	memcpy(&new_word, &icmp->icmp_type, sizeof(new_word));
	icmp->icmp_cksum = rp_cksum_update16(icmp->icmp_cksum, old_word, new_word);

	struct rte_ipv4_hdr *ip = rp_ip(m);
	if (hdr_len > RP_IP_HDR_LEN) {
		/*
		 * Options are dropped from the reply: Rampart does not process
		 * them, and echoing a source route unreversed would be wrong.
		 * Slide the Ethernet and base IP headers up to the ICMP message.
		 */
		uint16_t opt_len = (uint16_t)(hdr_len - RP_IP_HDR_LEN);
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		memmove(frame + opt_len, frame, (size_t)meta->l3_off + RP_IP_HDR_LEN);
		rte_pktmbuf_adj(m, opt_len);
		ip = rp_ip(m);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		meta->ip_len = (uint16_t)(meta->ip_len - opt_len);
		ip->total_length = rte_cpu_to_be_16(meta->ip_len);
		meta->l4_off = (uint16_t)(meta->l3_off + RP_IP_HDR_LEN);
	}

	rte_be32_t requester = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = requester;
	ip->time_to_live = RP_LOCAL_TTL;
	ip->hdr_checksum = rp_ipv4_cksum(ip);

	uint32_t tmp = meta->src;
	meta->src = meta->dst;
	meta->dst = tmp;
	meta->ttl = RP_LOCAL_TTL;
	meta->flags = RP_F_LOCAL_OUT | (meta->flags & RP_F_DF);
	return 0;
}

struct rte_mbuf *
rp_arp_request(struct rte_mempool *mp, const struct rte_ether_addr *src_mac, uint32_t src_ip,
	       uint32_t target_ip, const struct rte_ether_addr *dst_mac)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(m, RP_ETH_MIN_FRAME);
	if (frame == NULL) {
		rte_pktmbuf_free(m);
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(frame, 0, RP_ETH_MIN_FRAME);

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	static const struct rte_ether_addr bcast = {.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	rte_ether_addr_copy(dst_mac != NULL ? dst_mac : &bcast, &eth->dst_addr);
	rte_ether_addr_copy(src_mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);

	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(src_mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(src_ip);
	/* target MAC stays zero: it is what we ask for */
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);

	m->l2_len = RTE_ETHER_HDR_LEN;
	*rp_meta(m) = (struct rp_meta){
		.src = src_ip,
		.dst = target_ip,
		.l3_off = RTE_ETHER_HDR_LEN,
		.flags = RP_F_LOCAL_OUT,
		.kind = RP_PKT_ARP,
	};
	return m;
}

void
rp_arp_reply_inplace(struct rte_mbuf *m, const struct rte_ether_addr *our_mac)
{
	struct rp_meta *meta = rp_meta(m);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp =
		rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, meta->l3_off);
	struct rte_arp_ipv4 *a = &arp->arp_data;

	/* answer the asker's hardware address, as Linux does */
	rte_ether_addr_copy(&a->arp_sha, &eth->dst_addr);
	rte_ether_addr_copy(our_mac, &eth->src_addr);

	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	uint32_t asked = a->arp_tip;
	a->arp_tip = a->arp_sip;
	a->arp_sip = asked;
	rte_ether_addr_copy(our_mac, &a->arp_sha);

	/* same 60-byte frame as our requests: no stray trailer from the asker */
	uint16_t arp_end = (uint16_t)(meta->l3_off + sizeof(struct rte_arp_hdr));
	uint16_t len = rte_pktmbuf_data_len(m);
	if (len > RP_ETH_MIN_FRAME)
		rte_pktmbuf_trim(m, (uint16_t)(len - RP_ETH_MIN_FRAME));
	else if (len < RP_ETH_MIN_FRAME)
		rte_pktmbuf_append(m, (uint16_t)(RP_ETH_MIN_FRAME - len)); /* padded below */
	len = rte_pktmbuf_data_len(m);
	if (len > arp_end)
		memset(rte_pktmbuf_mtod_offset(m, uint8_t *, arp_end), 0, len - arp_end);

	uint32_t tmp = meta->src;
	meta->src = meta->dst;
	meta->dst = tmp;
	meta->flags = RP_F_LOCAL_OUT;
}
