/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_PKT_H
#define RAMPART_PKT_H

/**
 * @file
 * Parsing and validation of a received frame into compact metadata kept in
 * the mbuf's private area, checksum helpers, and crafting of the packets the
 * appliance sends itself (ICMP errors, echo replies, ARP).
 *
 * A frame is parsed and validated once (rp_pkt_parse); later stages only read
 * struct rp_meta. Nothing here allocates except the crafting functions, which
 * take mbufs from the pool they are given.
 */

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "rampart_stats.h"

/** What a parsed frame is. */
enum rp_pkt_kind {
	RP_PKT_DROP = 0, /**< invalid: rp_meta.drop says why */
	RP_PKT_ARP,      /**< Ethernet/IPv4 ARP, header validated */
	RP_PKT_IPV4,     /**< IPv4, header validated */
};

/* rp_meta.flags */
#define RP_F_L2_BCAST  0x0001 /**< Ethernet destination is broadcast */
#define RP_F_L2_MCAST  0x0002 /**< Ethernet destination is multicast (not broadcast) */
#define RP_F_FRAG      0x0004 /**< IPv4 fragment (MF set or offset != 0) */
#define RP_F_FRAG_LATER 0x0008 /**< fragment with offset != 0 */
#define RP_F_DF        0x0010 /**< IPv4 Don't Fragment set */
#define RP_F_LOCAL_OUT 0x0020 /**< built by the appliance itself, not received */

/**
 * Per-packet metadata, in the mbuf's private area (rte_mbuf_to_priv).
 * Addresses are in host byte order, ready for FIB and hash lookups.
 */
struct rp_meta {
	uint32_t src;     /**< IPv4 source */
	uint32_t dst;     /**< IPv4 destination */
	uint32_t nexthop; /**< next hop chosen by routing (host order) */
	uint16_t l3_off;  /**< offset of the IPv4/ARP header in the frame */
	uint16_t l4_off;  /**< offset of the L4 header (l3_off + IHL * 4) */
	uint16_t ip_len;  /**< IPv4 total length */
	uint16_t flags;   /**< RP_F_* */
	uint8_t kind;     /**< enum rp_pkt_kind */
	uint8_t drop;     /**< enum rp_drop when kind == RP_PKT_DROP */
	uint8_t proto;    /**< IPv4 protocol */
	uint8_t ttl;      /**< IPv4 TTL as received */
	uint8_t in_port;  /**< port the frame arrived on */
	uint8_t out_port; /**< egress port chosen by routing */
	/* L4, filled by rp_pkt_parse_l4() */
	uint8_t l4_status; /**< enum rp_l4_status */
	uint8_t tcp_flags; /**< TCP flags byte (FIN 0x01 ... CWR 0x80) */
	uint16_t sport;    /**< TCP/UDP source port; ICMP: query id (0 for errors) */
	uint16_t dport;    /**< TCP/UDP destination port; ICMP: type << 8 | code */
	uint16_t l4_payload; /**< L4 payload bytes (after the TCP/UDP/ICMP header) */
	/* connection tracking, filled by lib/conntrack */
	uint8_t ct_state;  /**< enum rp_ct_state */
	uint8_t ct_dir;    /**< 0 original, 1 reply */
	uint16_t pad;
	uint32_t ct_idx;   /**< entry in the owning worker's table, or RP_CT_NO_ENTRY */
	uint32_t flow_hash; /**< symmetric address-pair hash that picks the owning worker */
	/**
	 * Reassembled datagram (rp_reasm_packet): IPv4 length of its largest
	 * fragment, 0 for any other packet. As Linux does with frag_max_size,
	 * the output path sends such a datagram on as fragments of at most
	 * this size, and with DF set (kept only if that largest fragment had
	 * it) answers "fragmentation needed" only if frag_max exceeds the MTU.
	 */
	uint16_t frag_max;
};

/** Result of rp_pkt_parse_l4(). */
enum rp_l4_status {
	RP_L4_OK = 0,       /**< header complete and valid (ports/flags/ICMP fields filled) */
	RP_L4_NONE,         /**< not TCP/UDP/ICMP, or a non-first fragment: nothing to read */
	RP_L4_TRUNCATED,    /**< L4 header shorter than its minimum */
	RP_L4_BAD_DOFF,     /**< TCP data offset < 5 or beyond the packet */
	RP_L4_BAD_CSUM,     /**< L4 checksum wrong (only checked when asked) */
};

_Static_assert(sizeof(struct rp_meta) <= 64, "rp_meta must stay within one cache line");

/** Size to give rte_pktmbuf_pool_create() as priv_size. */
#define RP_MBUF_PRIV_SIZE RTE_ALIGN(sizeof(struct rp_meta), RTE_MBUF_PRIV_ALIGN)

static inline struct rp_meta *
rp_meta(struct rte_mbuf *m)
{
	return (struct rp_meta *)rte_mbuf_to_priv(m);
}

/** Address of the IPv4 header of a parsed packet. */
static inline struct rte_ipv4_hdr *
rp_ip(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, rp_meta(m)->l3_off);
}

/**
 * Parse and validate one received frame.
 *
 * Checks Ethernet (length, destination is our MAC, broadcast or multicast,
 * EtherType), ARP (Ethernet/IPv4, lengths, opcode 1 or 2) and IPv4 (version,
 * IHL, total length against the frame, header checksum — trusting
 * RTE_MBUF_F_RX_IP_CKSUM_GOOD/BAD when the device checked it). Trailing
 * Ethernet padding beyond the IPv4 total length is trimmed. Fills rp_meta.
 *
 * @param m        the frame (single segment)
 * @param in_port  port it arrived on
 * @param port_mac that port's MAC address
 * @return the kind; RP_PKT_DROP with rp_meta.drop set when invalid.
 */
enum rp_pkt_kind rp_pkt_parse(struct rte_mbuf *m, uint8_t in_port,
			      const struct rte_ether_addr *port_mac);

/**
 * True if @p src (host order) may never appear as a source on the wire:
 * 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast), 255.255.255.255.
 * (Our own addresses are checked by the caller, which knows them.)
 */
static inline int
rp_ipv4_martian_src(uint32_t src)
{
	uint8_t a = src >> 24;
	return a == 0 || a == 127 || (a & 0xf0) == 0xe0 || src == UINT32_MAX;
}

/** True if @p dst (host order) is 0.0.0.0/8 or 127.0.0.0/8. */
static inline int
rp_ipv4_martian_dst(uint32_t dst)
{
	uint8_t a = dst >> 24;
	return a == 0 || a == 127;
}

/**
 * RFC 1624 incremental update: the new checksum after one 16-bit word of the
 * covered data changed from @p old_word to @p new_word. All values in network
 * byte order, as they sit in the packet.
 */
static inline rte_be16_t
rp_cksum_update16(rte_be16_t cksum, rte_be16_t old_word, rte_be16_t new_word)
{
	/* HC' = ~(~HC + ~m + m') in one's complement arithmetic (eqn. 3) */
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(cksum);
	sum += (uint16_t)~rte_be_to_cpu_16(old_word);
	sum += rte_be_to_cpu_16(new_word);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return rte_cpu_to_be_16((uint16_t)~sum);
}

/** Decrement TTL and update the header checksum incrementally. */
static inline void
rp_ipv4_dec_ttl(struct rte_ipv4_hdr *ip)
{
	/* TTL is the high byte of the 16-bit word it shares with protocol. Read
	 * and write that word whole: a byte store followed by a word load of the
	 * same bytes would stall on store forwarding. */
	rte_be16_t *word = (rte_be16_t *)&ip->time_to_live;
	rte_be16_t old_word = *word;
	rte_be16_t new_word = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(old_word) - 0x0100));
	*word = new_word;
	ip->hdr_checksum = rp_cksum_update16(ip->hdr_checksum, old_word, new_word);
}

/**
 * Build an ICMP error about @p orig (a parsed IPv4 packet whose rp_meta is
 * valid) as RFC 792/1812 want it: new IPv4 header from @p src_addr to the
 * original source, TTL 64, then the ICMP header and as much of the original
 * datagram (from its IP header) as fits in 576 bytes. @p info is the 32-bit
 * rest-of-header word in host order (next-hop MTU for "fragmentation
 * needed", pointer for parameter problem, else 0).
 *
 * The result has room for an Ethernet header in front (not filled: the
 * output path writes it), rp_meta filled (src, dst, proto, lengths,
 * RP_F_LOCAL_OUT), data_off at the IPv4 header minus the Ethernet header.
 *
 * @return the new mbuf, or NULL with rte_errno = ENOMEM.
 */
struct rte_mbuf *rp_icmp_error(struct rte_mempool *mp, struct rte_mbuf *orig,
			       uint8_t type, uint8_t code, uint32_t info,
			       uint32_t src_addr);

/**
 * True if an ICMP error may be sent about @p m (RFC 1812 4.3.2.7): not for
 * an ICMP error, not for a non-first fragment, not for L2 or L3 broadcast or
 * multicast, not for a martian source.
 */
int rp_icmp_error_allowed(struct rte_mbuf *m);

/**
 * Turn a parsed ICMP echo request to one of our addresses into the echo
 * reply, in place: swap addresses, type 0, checksums updated, TTL 64,
 * rp_meta updated (src/dst swapped, RP_F_LOCAL_OUT).
 *
 * @return 0, or RP_DROP_ICMP_MALFORMED if the ICMP message is truncated or
 *         its checksum is wrong (the mbuf is then untouched).
 */
int rp_icmp_echo_reply(struct rte_mbuf *m);

/**
 * Fill an ARP request frame (Ethernet broadcast unless @p dst_mac is given,
 * for a unicast refresh) asking who has @p target_ip, from @p src_mac /
 * @p src_ip. Addresses in host order.
 *
 * @return the mbuf, or NULL with rte_errno = ENOMEM.
 */
struct rte_mbuf *rp_arp_request(struct rte_mempool *mp,
				const struct rte_ether_addr *src_mac, uint32_t src_ip,
				uint32_t target_ip, const struct rte_ether_addr *dst_mac);

/**
 * Turn a parsed ARP request into our reply, in place: we (@p our_mac) have
 * the asked-for address.
 */
void rp_arp_reply_inplace(struct rte_mbuf *m, const struct rte_ether_addr *our_mac);

/**
 * Parse and validate the L4 header of a parsed, unfragmented (or
 * reassembled) IPv4 packet: TCP (length, data offset), UDP (length), ICMP
 * (length); fills sport, dport, tcp_flags, l4_payload and l4_status. With
 * @p verify_csum the TCP/UDP/ICMP checksum is verified too, trusting
 * RTE_MBUF_F_RX_L4_CKSUM_GOOD/BAD when the device checked it (a UDP
 * checksum of 0 means none). Works on multi-segment mbufs.
 *
 * Ports and flags are filled as soon as the fixed header (TCP 20, UDP and
 * ICMP 8 bytes) is present, also when the status is BAD_DOFF, BAD_CSUM or
 * (UDP length) TRUNCATED; l4_payload only when the lengths are valid. A
 * first fragment that was not reassembled is read as far as it goes (UDP
 * length not compared, no checksum); a later fragment is RP_L4_NONE.
 * RTE_MBUF_F_RX_L4_CKSUM_NONE (data verified, field not filled) counts as
 * good, as for the IPv4 header in rp_pkt_parse(); ICMP is always summed in
 * software.
 *
 * @return meta->l4_status.
 */
enum rp_l4_status rp_pkt_parse_l4(struct rte_mbuf *m, int verify_csum);

/** Full IPv4 header checksum over @p ip (IHL taken from it), network order. */
rte_be16_t rp_ipv4_cksum(const struct rte_ipv4_hdr *ip);

#endif /* RAMPART_PKT_H */
