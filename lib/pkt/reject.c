/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What iptables' REJECT target sends: a TCP reset, or an ICMP destination
 * unreachable. The rules for when to stay silent and the fields of the
 * reset follow Linux's nf_reject_ipv4.c (nf_send_reset, nf_send_unreach);
 * the ICMP message itself is rp_icmp_error()'s. Runs on the worker, off its
 * fast path: a rejected packet is one in many and the caller rate-limits.
 */

#include <string.h>

#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"

#define IP_HDR_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define TCP_HDR_LEN ((uint32_t)sizeof(struct rte_tcp_hdr))
#define UDP_HDR_LEN ((uint32_t)sizeof(struct rte_udp_hdr))
#define ICMP_HDR_LEN ((uint32_t)sizeof(struct rte_icmp_hdr))
#define RST_FRAME_LEN (RTE_ETHER_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN)
/* Linux's net.ipv4.ip_default_ttl, which nf_send_reset's route gives it */
#define RST_TTL 64
/* ICMP type 3 (RFC 792); DPDK 22.11 names only the echo types */
#define ICMP_TYPE_UNREACH 3

static const char *const reject_why_names[] = {
#define RP_REJECT_WHY_NAME(e, n, d) [RP_REJECT_##e] = n,
	RP_FOREACH_REJECT_WHY(RP_REJECT_WHY_NAME)
#undef RP_REJECT_WHY_NAME
};

const char *
rp_reject_why_name(uint32_t why)
{
	return why < RP_REJECT_WHY_MAX ? reject_why_names[why] : "unknown";
}

/*
 * The L4 length of a parsed packet, if its offsets hold together and the
 * bytes are in the mbuf. rp_pkt_parse() guarantees this; a hand-made
 * rp_meta must still not make us read past the data.
 */
static int
l4_bounds(const struct rte_mbuf *m, const struct rp_meta *meta, uint32_t *l4_len)
{
	uint32_t hdr_len = (uint32_t)meta->l4_off - meta->l3_off;
	if (meta->l4_off < meta->l3_off || hdr_len < IP_HDR_LEN || meta->ip_len < hdr_len ||
	    (uint32_t)meta->l3_off + meta->ip_len > rte_pktmbuf_pkt_len(m))
		return 0;
	*l4_len = meta->ip_len - hdr_len;
	return 1;
}

/*
 * One's complement sum of @p len bytes from @p off on, across segments (the
 * caller checked they exist). Each segment's piece is folded by
 * rte_raw_cksum; a piece that starts at an odd position of the message has
 * its bytes in the other halves of the words, hence the swap.
 */
static uint32_t
bytes_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	const struct rte_mbuf *seg = m;
	while (seg != NULL && off >= rte_pktmbuf_data_len(seg)) {
		off -= rte_pktmbuf_data_len(seg);
		seg = seg->next;
	}
	uint32_t sum = 0, done = 0;
	while (seg != NULL && done < len) {
		uint32_t n = RTE_MIN((uint32_t)rte_pktmbuf_data_len(seg) - off, len - done);
		uint16_t piece = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *, off), n);
		sum += (done & 1) ? rte_bswap16(piece) : piece;
		done += n;
		seg = seg->next;
		off = 0;
	}
	return sum;
}

/* TCP/UDP pseudo-header sum, in the memory order rte_raw_cksum sums in. */
static uint32_t
pseudo_hdr_sum(const struct rp_meta *meta, uint32_t l4_len)
{
	uint32_t src = rte_cpu_to_be_32(meta->src);
	uint32_t dst = rte_cpu_to_be_32(meta->dst);
	return (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) +
	       rte_cpu_to_be_16((uint16_t)meta->proto) + rte_cpu_to_be_16((uint16_t)l4_len);
}

enum csum_verdict {
	CSUM_OK,           /* right, or of a kind netfilter does not check */
	CSUM_BAD,
	CSUM_UNVERIFIABLE, /* a first fragment: the checksum covers bytes not here */
};

/*
 * May a REJECT answer this packet, as far as its L4 checksum goes? As
 * netfilter's nf_reject_verify_csum() and nf_ip_checksum(): protocols with
 * integrity checks of their own or partial checksums are taken as they
 * are, as is UDP without a checksum; TCP and UDP sum with the
 * pseudo-header (the device's verdict counts), everything else (ICMP,
 * IGMP, unknown protocols) must sum to -0 over the IP payload. UDP sums
 * over its own length (RFC 768), which must fit in the IP payload.
 */
static enum csum_verdict
l4_csum_verdict(const struct rte_mbuf *m, const struct rp_meta *meta, uint32_t l4_len)
{
	switch (meta->proto) {
	case IPPROTO_AH:
	case IPPROTO_ESP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
	case IPPROTO_GRE:
		return CSUM_OK;
	default:
		break;
	}

	uint32_t sum_len = l4_len;
	if (meta->proto == IPPROTO_UDP) {
		struct rte_udp_hdr copy;
		const struct rte_udp_hdr *uh =
			l4_len >= UDP_HDR_LEN ? rte_pktmbuf_read(m, meta->l4_off, UDP_HDR_LEN, &copy)
					      : NULL;
		if (uh == NULL)
			return CSUM_BAD;
		if (uh->dgram_cksum == 0)
			return CSUM_OK; /* the sender computed none */
		sum_len = rte_be_to_cpu_16(uh->dgram_len);
		if (!(meta->flags & RP_F_FRAG) && (sum_len < UDP_HDR_LEN || sum_len > l4_len))
			return CSUM_BAD;
	}
	if (meta->flags & RP_F_FRAG)
		return CSUM_UNVERIFIABLE;

	uint32_t sum = 0;
	if (meta->proto == IPPROTO_TCP || meta->proto == IPPROTO_UDP) {
		/* GOOD also covers CKSUM_NONE (data verified, field not filled), as l4.c */
		uint64_t rx = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (rx & RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			return CSUM_OK;
		if (rx & RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return CSUM_BAD;
		sum = pseudo_hdr_sum(meta, sum_len);
	}
	sum += bytes_sum(m, meta->l4_off, sum_len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? CSUM_OK : CSUM_BAD;
}

/* Broadcast or multicast at either layer: never answered with a reset. */
static int
is_broadcast(const struct rp_meta *meta)
{
	return (meta->flags & (RP_F_L2_BCAST | RP_F_L2_MCAST)) || meta->dst == UINT32_MAX ||
	       (meta->dst >> 28) == 0xe;
}

/*
 * Is a reset due for @p orig? On RP_REJECT_SENT, @p th holds its TCP header
 * and @p payload its payload length.
 */
static enum rp_reject_why
reset_due(const struct rte_mbuf *orig, const struct rp_meta *om, struct rte_tcp_hdr *th,
	  uint32_t *payload)
{
	if (om->kind != RP_PKT_IPV4 || om->proto != IPPROTO_TCP)
		return RP_REJECT_NOT_TCP;
	if (om->flags & RP_F_FRAG_LATER)
		return RP_REJECT_FRAGMENT;
	uint32_t l4_len;
	if (!l4_bounds(orig, om, &l4_len) || l4_len < TCP_HDR_LEN)
		return RP_REJECT_MALFORMED;
	const struct rte_tcp_hdr *hdr = rte_pktmbuf_read(orig, om->l4_off, TCP_HDR_LEN, th);
	if (hdr == NULL)
		return RP_REJECT_MALFORMED;
	if (hdr != th)
		*th = *hdr;
	/* netfilter does not check it, but the ack_seq below needs a sane one */
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > l4_len)
		return RP_REJECT_MALFORMED;
	if (th->tcp_flags & RTE_TCP_RST_FLAG)
		return RP_REJECT_RST;
	switch (l4_csum_verdict(orig, om, l4_len)) {
	case CSUM_OK:
		break;
	case CSUM_UNVERIFIABLE:
		return RP_REJECT_FRAGMENT;
	default:
		return RP_REJECT_BAD_CSUM;
	}
	if (is_broadcast(om))
		return RP_REJECT_BROADCAST;
	/* a reset to 0/8, 127/8, multicast or class E would go nowhere useful */
	if (rp_ipv4_martian_src(om->src) || (om->src >> 28) == 0xf)
		return RP_REJECT_MARTIAN_SRC;
	*payload = l4_len - doff;
	return RP_REJECT_SENT;
}

struct rte_mbuf *
rp_tcp_reset(struct rte_mempool *mp, struct rte_mbuf *orig, uint32_t *why)
{
	const struct rp_meta *om = rp_meta(orig);
	struct rte_tcp_hdr oth;
	uint32_t payload = 0;
	struct rte_mbuf *m = NULL;

	enum rp_reject_why reason = reset_due(orig, om, &oth, &payload);
	if (reason != RP_REJECT_SENT) {
		rte_errno = EPERM;
		goto out;
	}
	m = rte_pktmbuf_alloc(mp);
	uint8_t *frame = m != NULL ? (uint8_t *)rte_pktmbuf_append(m, RST_FRAME_LEN) : NULL;
	if (frame == NULL) { /* pool empty, or its data room below 54 bytes */
		rte_pktmbuf_free(m);
		m = NULL;
		reason = RP_REJECT_NO_MBUF;
		rte_errno = ENOMEM;
		goto out;
	}
	/* Ethernet zeroed too: the output path writes it, nothing stale may leak */
	memset(frame, 0, RST_FRAME_LEN);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(IP_HDR_LEN + TCP_HDR_LEN);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = RST_TTL;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(om->dst);
	ip->dst_addr = rte_cpu_to_be_32(om->src);

	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	tcp->src_port = oth.dst_port;
	tcp->dst_port = oth.src_port;
	tcp->data_off = (uint8_t)((TCP_HDR_LEN / 4) << 4);
	if (oth.tcp_flags & RTE_TCP_ACK_FLAG) {
		/* the peer said what it expects next: that is what we reset */
		tcp->sent_seq = oth.recv_ack;
		tcp->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		/* RFC 793: no ACK to go by, so seq 0 and acknowledge all it sent */
		uint32_t seg_len = payload + !!(oth.tcp_flags & RTE_TCP_SYN_FLAG) +
				   !!(oth.tcp_flags & RTE_TCP_FIN_FLAG);
		tcp->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(oth.sent_seq) + seg_len);
		tcp->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	/* window, urgent pointer, IP ID and TOS stay 0, as Linux sends them */
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	ip->hdr_checksum = rp_ipv4_cksum(ip);

	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = IP_HDR_LEN;
	m->l4_len = TCP_HDR_LEN;
	*rp_meta(m) = (struct rp_meta){
		.src = om->dst,
		.dst = om->src,
		.l3_off = RTE_ETHER_HDR_LEN,
		.l4_off = RTE_ETHER_HDR_LEN + IP_HDR_LEN,
		.ip_len = IP_HDR_LEN + TCP_HDR_LEN,
		.flags = RP_F_LOCAL_OUT | RP_F_DF,
		.kind = RP_PKT_IPV4,
		.proto = IPPROTO_TCP,
		.ttl = RST_TTL,
		/* where the segment came from: usually where its reset goes */
		.in_port = om->in_port,
		.l4_status = RP_L4_OK,
		.tcp_flags = tcp->tcp_flags,
		.sport = rte_be_to_cpu_16(tcp->src_port),
		.dport = rte_be_to_cpu_16(tcp->dst_port),
	};
out:
	if (why != NULL)
		*why = reason;
	return m;
}

struct rte_mbuf *
rp_icmp_reject(struct rte_mempool *mp, struct rte_mbuf *orig, uint8_t code, uint32_t src_addr)
{
	const struct rp_meta *om = rp_meta(orig);

	if (code > RP_ICMP_UNREACH_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (!rp_icmp_error_allowed(orig)) {
		rte_errno = EPERM;
		return NULL;
	}
	uint32_t l4_len;
	if (!l4_bounds(orig, om, &l4_len) || l4_csum_verdict(orig, om, l4_len) != CSUM_OK) {
		rte_errno = EBADMSG;
		return NULL;
	}

	struct rte_mbuf *m = rp_icmp_error(mp, orig, ICMP_TYPE_UNREACH, code, 0, src_addr);
	if (m == NULL)
		return NULL; /* rte_errno set */
	/* as rp_pkt_parse_l4 would read it: an error has no query id */
	struct rp_meta *meta = rp_meta(m);
	meta->l4_status = RP_L4_OK;
	meta->sport = 0;
	meta->dport = (uint16_t)(ICMP_TYPE_UNREACH << 8 | code);
	meta->l4_payload = (uint16_t)(meta->ip_len - IP_HDR_LEN - ICMP_HDR_LEN);
	return m;
}
