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
#define RP_F_FROM_HOST 0x0080 /**< sent by the appliance's kernel through the host interface */
#define RP_F_CT_STALE  0x0040 /**< its connection awaits revalidation against a new ruleset (conntrack) */

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

/*
 * ---------------------------------------------------------------------------
 * REJECT and LOG: the packets iptables' REJECT target sends (as Linux's
 * nf_reject_ipv4.c builds them) and the line its LOG target writes (as
 * nf_log_syslog.c formats it). Off the fast path: one packet in many, and
 * LOG is rate-limited by its caller. (lib/pkt/reject.c, lib/pkt/logfmt.c)
 * ---------------------------------------------------------------------------
 */

/* ICMP destination unreachable codes (RFC 792, 1122, 1812) --reject-with names */
#define RP_ICMP_UNREACH_NET          0  /**< icmp-net-unreachable */
#define RP_ICMP_UNREACH_HOST         1  /**< icmp-host-unreachable */
#define RP_ICMP_UNREACH_PROTO        2  /**< icmp-proto-unreachable */
#define RP_ICMP_UNREACH_PORT         3  /**< icmp-port-unreachable (REJECT's default) */
#define RP_ICMP_UNREACH_NET_PROHIB   9  /**< icmp-net-prohibited */
#define RP_ICMP_UNREACH_HOST_PROHIB  10 /**< icmp-host-prohibited */
#define RP_ICMP_UNREACH_ADMIN_PROHIB 13 /**< icmp-admin-prohibited */
#define RP_ICMP_UNREACH_MAX          15 /**< highest code RFC 1812 defines */

/* _(ENUM, "name", "why no TCP reset was sent") */
#define RP_FOREACH_REJECT_WHY(_)                                                      \
	_(SENT, "sent", "the reset was built")                                         \
	_(NOT_TCP, "not_tcp", "not an IPv4 TCP segment")                               \
	_(FRAGMENT, "fragment", "a later fragment, or a first one whose checksum cannot be verified") \
	_(MALFORMED, "malformed", "TCP header truncated or data offset invalid")       \
	_(RST, "rst", "the segment is a reset itself: never a reset for a reset")      \
	_(BAD_CSUM, "bad_checksum", "TCP checksum wrong (netfilter answers only intact segments)") \
	_(BROADCAST, "broadcast", "broadcast or multicast destination (link or IP layer)") \
	_(MARTIAN_SRC, "martian_source", "the source names no single host")            \
	_(NO_MBUF, "no_mbuf", "no mbuf for the reset, or its data room is too small")

/** Why rp_tcp_reset() built no reset (RP_REJECT_SENT when it did). */
enum rp_reject_why {
#define RP_REJECT_WHY_ENUM(e, n, d) RP_REJECT_##e,
	RP_FOREACH_REJECT_WHY(RP_REJECT_WHY_ENUM)
#undef RP_REJECT_WHY_ENUM
	RP_REJECT_WHY_MAX
};

/** Name of a rp_tcp_reset() reason ("bad_checksum"), or "unknown". */
const char *rp_reject_why_name(uint32_t why);

/**
 * Build the TCP reset REJECT --reject-with tcp-reset answers @p orig with,
 * as Linux's nf_send_reset: from the original destination to its source,
 * ports swapped; if the segment carried ACK, seq = its ack_seq and flags
 * RST; else seq 0, flags RST|ACK and ack_seq = its seq + SYN + FIN +
 * payload length. Window 0, no options, TOS 0, IP ID 0, DF set, TTL 64
 * (Linux's ip_default_ttl), both checksums computed.
 *
 * No reset (as netfilter) for a RST, a non-first fragment, a broadcast or
 * multicast destination (L2 or IP: 255.255.255.255, 224/4; a subnet's
 * directed broadcast is the caller's to recognise, it knows the subnets)
 * or a wrong TCP checksum (trusting RTE_MBUF_F_RX_L4_CKSUM_GOOD/BAD when
 * the device checked it); nor, beyond netfilter, for a martian source.
 * An unreassembled first fragment gets none either: its checksum covers
 * bytes that are not there (netfilter, which verifies it, fails it).
 *
 * @p orig is a parsed IPv4 packet (rp_meta valid from rp_pkt_parse: offsets,
 * lengths, addresses, flags; chains allowed); the TCP header is read from
 * the packet itself, so rp_pkt_parse_l4() need not have run. @p orig is
 * not changed.
 *
 * @param mp   pool for the reset
 * @param orig the offending segment
 * @param why  if not NULL, set to an enum rp_reject_why (RP_REJECT_SENT on
 *             success)
 * @return the reset: 14 bytes for the Ethernet header (zeroed; the output
 *         path writes it) then 40 bytes of IPv4 + TCP; rp_meta filled as
 *         rp_pkt_parse() + rp_pkt_parse_l4() would (src, dst, proto TCP,
 *         l3_off 14, l4_off 34, ip_len 40, ports, tcp_flags, l4_status OK,
 *         flags RP_F_LOCAL_OUT | RP_F_DF, in_port of @p orig). NULL with
 *         rte_errno ENOMEM (no mbuf) or EPERM (no reset is due: see @p why).
 */
struct rte_mbuf *rp_tcp_reset(struct rte_mempool *mp, struct rte_mbuf *orig, uint32_t *why);

/**
 * Build the ICMP destination unreachable REJECT answers @p orig with (any
 * --reject-with but tcp-reset), through rp_icmp_error(): same header, same
 * quote, same RFC 1812 limits (rp_icmp_error_allowed(): never about an ICMP
 * error, a non-first fragment, a broadcast or multicast, a martian source).
 *
 * As Linux's nf_send_unreach, nothing is sent about a packet whose L4
 * checksum is wrong: TCP, UDP (unless its checksum field is 0, "none"),
 * ICMP and any protocol not listed below must sum correctly over the IP
 * payload (the device's verdict counts for TCP and UDP); AH, ESP, SCTP,
 * UDP-Lite, DCCP and GRE are not checked. An unreassembled first fragment
 * of a protocol that is checked cannot be verified and gets nothing.
 *
 * @param mp       pool for the error
 * @param orig     the offending packet, parsed (rp_meta valid)
 * @param code     RP_ICMP_UNREACH_* (0 to 15)
 * @param src_addr source of the error, host order: the original
 *                 destination for INPUT (as Linux's icmp_send), the
 *                 address of the egress interface for FORWARD
 * @return the error as rp_icmp_error() returns it, with rp_meta's L4
 *         fields filled too (dport = 3 << 8 | code, l4_payload,
 *         l4_status OK); NULL with rte_errno EINVAL (code above 15),
 *         EPERM (RFC 1812 forbids an error about @p orig), EBADMSG (its
 *         checksum is wrong or cannot be verified) or ENOMEM.
 */
struct rte_mbuf *rp_icmp_reject(struct rte_mempool *mp, struct rte_mbuf *orig, uint8_t code,
				uint32_t src_addr);

/**
 * Format the line iptables' LOG target writes about @p m, as Linux's
 * nf_log_syslog.c does with LOG's default flags (no --log-tcp-sequence,
 * --log-tcp-options, --log-ip-options, --log-uid, --log-macdecode):
 *
 *   PREFIXIN=lan0 OUT=wan0 MAC=dst:src:type SRC=a DST=b LEN=n TOS=0x00
 *   PREC=0x00 TTL=64 ID=1234 DF PROTO=TCP SPT=1 DPT=2 WINDOW=512 RES=0x00
 *   SYN URGP=0
 *
 * (one line, with the kernel's trailing space and no newline). The prefix
 * is written as given (iptables adds no space after it). MAC= (the 14
 * bytes of the Ethernet header, as hex pairs joined by ':') appears only
 * when @p in names a port, i.e. for INPUT and FORWARD. Then CE/DF/MF and
 * FRAG:<offset in 8-byte units>; TCP: SPT DPT WINDOW RES and the flag
 * words AE CWR ECE URG ACK PSH RST SYN FIN, URGP (RES and AE as kernels
 * with AccECN print them); UDP and UDP-Lite: SPT DPT LEN; ICMP: TYPE CODE,
 * ID SEQ for echo, PARAMETER, GATEWAY, MTU, and for an error the quoted
 * packet in [ ] (one level); AH and ESP: SPI; other protocols PROTO=<n>.
 * A later fragment shows PROTO only; a header cut short shows
 * "INCOMPLETE [n bytes]" as the kernel does.
 *
 * @param buf    where the line goes, always NUL-terminated when @p len > 0
 * @param len    size of @p buf; a longer line is cut (the longest is about
 *               800 bytes plus the names)
 * @param m      a parsed IPv4 packet (rp_meta l3_off and ip_len valid;
 *               chains allowed); not changed
 * @param prefix --log-prefix, or NULL
 * @param in     ingress port name, or NULL/"" (OUTPUT)
 * @param out    egress port name, or NULL/"" (INPUT)
 * @return the number of characters written, without the NUL (at most
 *         @p len - 1; 0 when @p len is 0).
 */
int rp_pkt_log_format(char *buf, size_t len, struct rte_mbuf *m, const char *prefix,
		      const char *in, const char *out);

#endif /* RAMPART_PKT_H */
