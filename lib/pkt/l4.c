/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker hot path: read and validate the L4 header (TCP, UDP, ICMP) of a
 * parsed IPv4 packet into rp_meta, as netfilter's conntrack checks it before
 * it tracks a packet (tcp_error, udp_error, icmp_error). No allocation: a
 * header that straddles segments is copied to the stack; the checksum walks
 * the segments in place. A single-segment packet takes the direct paths of
 * rte_pktmbuf_read and rte_raw_cksum.
 */

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"

#define TCP_HDR_MIN ((uint32_t)sizeof(struct rte_tcp_hdr))
#define UDP_HDR_LEN ((uint32_t)sizeof(struct rte_udp_hdr))
#define ICMP_HDR_LEN ((uint32_t)sizeof(struct rte_icmp_hdr))

static inline enum rp_l4_status
l4_status(struct rp_meta *meta, enum rp_l4_status status)
{
	meta->l4_status = (uint8_t)status;
	return status;
}

/*
 * The ICMP messages that carry an identifier matching request to reply
 * (RFC 792, 950): the ones netfilter tracks as queries. Everything else,
 * the five error types and unknown ones alike, has no identifier.
 */
static inline int
icmp_is_query(uint8_t type)
{
	switch (type) {
	case RTE_IP_ICMP_ECHO_REPLY:
	case RTE_IP_ICMP_ECHO_REQUEST:
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request */
	case 18: /* address mask reply */
		return 1;
	default:
		return 0;
	}
}

/*
 * One's complement sum of the TCP/UDP pseudo-header (RFC 793, 768), in the
 * memory order rte_raw_cksum sums in, so the two can be added. Addresses come
 * from rp_meta (host order) rather than the header: the header of a chain
 * need not be read again.
 */
static inline uint32_t
pseudo_hdr_sum(const struct rp_meta *meta, uint32_t l4_len)
{
	uint32_t src = rte_cpu_to_be_32(meta->src);
	uint32_t dst = rte_cpu_to_be_32(meta->dst);
	return (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) +
	       rte_cpu_to_be_16((uint16_t)meta->proto) + rte_cpu_to_be_16((uint16_t)l4_len);
}

/*
 * One's complement sum of @p len bytes from @p off on, across segments.
 * Not rte_raw_cksum_mbuf(): in DPDK 22.11 it truncates a segment's unfolded
 * 32-bit sum to 16 bits before swapping it when the bytes before it are
 * odd in number, so a chain cut at an odd offset gets a wrong sum. Here
 * each piece is folded first; a piece that starts at an odd position has
 * its bytes in the other halves of the words, hence the swap.
 */
static uint32_t
chain_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
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

/* True if the L4 bytes [l4_off, l4_off + len) plus @p extra sum to -0. */
static inline int
sum_is_valid(const struct rte_mbuf *m, uint32_t l4_off, uint32_t len, uint32_t extra)
{
	uint32_t sum = extra;
	if (likely(l4_off + len <= rte_pktmbuf_data_len(m)))
		sum += rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const void *, l4_off), len);
	else
		sum += chain_sum(m, l4_off, len); /* the caller checked the bytes exist */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * TCP/UDP checksum: the device's verdict when it gave one, else computed.
 * CKSUM_NONE (GOOD and BAD bits both set) means "the checksum field is not
 * filled in but the data was verified" (virtio with VIRTIO_NET_HDR_F_NEEDS_CSUM,
 * for one): testing GOOD first takes it as valid, as parse.c does for the
 * IPv4 header, where a software check would call good data bad.
 */
static inline int
tcpudp_csum_ok(const struct rte_mbuf *m, const struct rp_meta *meta, uint32_t len)
{
	uint64_t rx = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (rx & RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return 1;
	if (rx & RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return 0;
	return sum_is_valid(m, meta->l4_off, len, pseudo_hdr_sum(meta, len));
}

static enum rp_l4_status
parse_tcp(const struct rte_mbuf *m, struct rp_meta *meta, uint32_t l4_len, int csum)
{
	struct rte_tcp_hdr copy;
	if (unlikely(l4_len < TCP_HDR_MIN))
		return l4_status(meta, RP_L4_TRUNCATED);
	const struct rte_tcp_hdr *th = rte_pktmbuf_read(m, meta->l4_off, TCP_HDR_MIN, &copy);
	if (unlikely(th == NULL))
		return l4_status(meta, RP_L4_TRUNCATED);

	meta->sport = rte_be_to_cpu_16(th->src_port);
	meta->dport = rte_be_to_cpu_16(th->dst_port);
	meta->tcp_flags = th->tcp_flags;
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
	if (unlikely(doff < TCP_HDR_MIN || doff > l4_len))
		return l4_status(meta, RP_L4_BAD_DOFF);
	meta->l4_payload = (uint16_t)(l4_len - doff);
	if (csum && unlikely(!tcpudp_csum_ok(m, meta, l4_len)))
		return l4_status(meta, RP_L4_BAD_CSUM);
	return l4_status(meta, RP_L4_OK);
}

static enum rp_l4_status
parse_udp(const struct rte_mbuf *m, struct rp_meta *meta, uint32_t l4_len, int whole, int csum)
{
	struct rte_udp_hdr copy;
	if (unlikely(l4_len < UDP_HDR_LEN))
		return l4_status(meta, RP_L4_TRUNCATED);
	const struct rte_udp_hdr *uh = rte_pktmbuf_read(m, meta->l4_off, UDP_HDR_LEN, &copy);
	if (unlikely(uh == NULL))
		return l4_status(meta, RP_L4_TRUNCATED);

	meta->sport = rte_be_to_cpu_16(uh->src_port);
	meta->dport = rte_be_to_cpu_16(uh->dst_port);
	uint32_t udp_len = rte_be_to_cpu_16(uh->dgram_len);
	/*
	 * As netfilter's udp_error: longer than the IP payload or shorter than
	 * its own header is malformed. Bytes beyond the UDP length inside the
	 * IP payload are tolerated (and not summed, as RFC 768 defines the
	 * checksum over the UDP length). A first fragment holds only the
	 * start of the datagram the length describes.
	 */
	if (unlikely(udp_len < UDP_HDR_LEN || (whole && udp_len > l4_len)))
		return l4_status(meta, RP_L4_TRUNCATED);
	meta->l4_payload = (uint16_t)((whole ? udp_len : l4_len) - UDP_HDR_LEN);
	/* a zero checksum field means the sender computed none (RFC 768) */
	if (csum && uh->dgram_cksum != 0 && unlikely(!tcpudp_csum_ok(m, meta, udp_len)))
		return l4_status(meta, RP_L4_BAD_CSUM);
	return l4_status(meta, RP_L4_OK);
}

static enum rp_l4_status
parse_icmp(const struct rte_mbuf *m, struct rp_meta *meta, uint32_t l4_len, int csum)
{
	struct rte_icmp_hdr copy;
	if (unlikely(l4_len < ICMP_HDR_LEN))
		return l4_status(meta, RP_L4_TRUNCATED);
	const struct rte_icmp_hdr *ih = rte_pktmbuf_read(m, meta->l4_off, ICMP_HDR_LEN, &copy);
	if (unlikely(ih == NULL))
		return l4_status(meta, RP_L4_TRUNCATED);

	meta->sport = icmp_is_query(ih->icmp_type) ? rte_be_to_cpu_16(ih->icmp_ident) : 0;
	meta->dport = (uint16_t)(ih->icmp_type << 8 | ih->icmp_code);
	meta->l4_payload = (uint16_t)(l4_len - ICMP_HDR_LEN);
	/* devices do not check ICMP: the RX L4 flags say nothing about it */
	if (csum && unlikely(!sum_is_valid(m, meta->l4_off, l4_len, 0)))
		return l4_status(meta, RP_L4_BAD_CSUM);
	return l4_status(meta, RP_L4_OK);
}

enum rp_l4_status
rp_pkt_parse_l4(struct rte_mbuf *m, int verify_csum)
{
	struct rp_meta *meta = rp_meta(m);

	meta->sport = 0;
	meta->dport = 0;
	meta->tcp_flags = 0;
	meta->l4_payload = 0;
	if (unlikely(meta->kind != RP_PKT_IPV4 || (meta->flags & RP_F_FRAG_LATER)))
		return l4_status(meta, RP_L4_NONE);
	if (meta->proto != IPPROTO_TCP && meta->proto != IPPROTO_UDP &&
	    meta->proto != IPPROTO_ICMP)
		return l4_status(meta, RP_L4_NONE);

	/* the parser guarantees both; a hand-made meta must not make us read past the data */
	uint32_t ip_hdr_len = (uint32_t)meta->l4_off - meta->l3_off;
	if (unlikely(meta->l4_off < meta->l3_off || meta->ip_len < ip_hdr_len ||
		     (uint32_t)meta->l3_off + meta->ip_len > rte_pktmbuf_pkt_len(m)))
		return l4_status(meta, RP_L4_TRUNCATED);
	uint32_t l4_len = meta->ip_len - ip_hdr_len;

	/* a first fragment: its ports are readable, its checksum covers bytes not here */
	int whole = !(meta->flags & RP_F_FRAG);
	int csum = verify_csum && whole;
	switch (meta->proto) {
	case IPPROTO_TCP:
		return parse_tcp(m, meta, l4_len, csum);
	case IPPROTO_UDP:
		return parse_udp(m, meta, l4_len, whole, csum);
	default:
		return parse_icmp(m, meta, l4_len, csum);
	}
}
