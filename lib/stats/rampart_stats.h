/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_STATS_H
#define RAMPART_STATS_H

/**
 * @file
 * Drop reasons and per-worker counters.
 *
 * Every packet a worker does not transmit is counted under exactly one
 * reason. The X-macro below is the single list: it makes the enum, the
 * names served by telemetry and rampartctl, and the table in
 * docs/operations.md (checked by a unit test), so they cannot disagree.
 */

#include <stdint.h>

#include <rte_common.h>

#define RP_MAX_PORTS 16   /**< ports one daemon drives */
#define RP_MAX_WORKERS 32 /**< worker lcores one daemon runs */

/* _(ENUM, "name", "what it means") */
#define RP_FOREACH_DROP(_)                                                          \
	_(ETH_SHORT, "eth_short", "frame shorter than an Ethernet header")              \
	_(ETH_OTHER_HOST, "eth_other_host", "unicast frame addressed to another MAC")   \
	_(ETH_TYPE, "eth_type", "EtherType is neither IPv4 nor ARP (IPv6, VLAN, LLDP...)") \
	_(ARP_MALFORMED, "arp_malformed", "ARP that is not Ethernet/IPv4, truncated, or a bad opcode") \
	_(ARP_BAD_SENDER, "arp_bad_sender", "ARP sender MAC is multicast or zero, or its address is martian or ours") \
	_(IP_SHORT, "ip_truncated", "frame shorter than the IPv4 header or its total length") \
	_(IP_VERSION, "ip_version", "IP version is not 4")                              \
	_(IP_IHL, "ip_bad_ihl", "IPv4 header length below 5 words or beyond the packet") \
	_(IP_TOTLEN, "ip_bad_total_length", "IPv4 total length below the header length") \
	_(IP_CSUM, "ip_bad_checksum", "IPv4 header checksum is wrong")                  \
	_(MARTIAN_SRC, "martian_source", "source is 0/8, 127/8, multicast, limited broadcast or our own address") \
	_(MARTIAN_DST, "martian_destination", "destination is 0/8 or 127/8")           \
	_(BROADCAST, "broadcast", "broadcast or multicast destination, or a link-layer broadcast frame (not routed)") \
	_(TTL_EXCEEDED, "ttl_exceeded", "TTL would reach 0 when forwarded")            \
	_(NO_ROUTE, "no_route", "no route to the destination")                          \
	_(FRAG_NEEDED, "frag_needed", "larger than the egress MTU with DF set")        \
	_(FRAG_FAILED, "frag_failed", "fragmentation failed (no mbufs)")               \
	_(LOCAL_NO_SERVICE, "local_no_service", "for one of our addresses, no local service takes it") \
	_(HOST_ARP, "host_arp", "ARP from the host interface other than a request (not needed: Rampart answers the kernel)") \
	_(HOST_LOCAL, "host_local", "from the host interface to one of our own addresses (the kernel loops those itself)") \
	_(ICMP_MALFORMED, "icmp_malformed", "ICMP to us truncated or with a bad checksum") \
	_(NEIGH_HOLD_FULL, "neigh_hold_full", "hold queue of an unresolved next hop overflowed (oldest dropped)") \
	_(NEIGH_UNRESOLVED, "neigh_unresolved", "next hop did not answer ARP in time")  \
	_(CTL_RING_FULL, "ctl_ring_full", "control thread's ring full (ARP or held packet)") \
	_(NO_MBUF, "no_mbuf", "mbuf pool empty while building a packet")               \
	_(LINK_DOWN, "link_down", "egress port's link is down")                        \
	_(FILTER_DROP, "filter_drop", "dropped by a DROP rule or a chain's DROP policy") \
	_(FILTER_REJECT, "filter_reject", "refused by a REJECT rule (a RST or ICMP error was sent when allowed)") \
	_(FILTER_REVALIDATE, "filter_revalidate", "packet of a connection the reloaded ruleset no longer allows (filter.revalidate): connection removed") \
	_(CT_TABLE_FULL, "ct_table_full", "new connection refused: conntrack table full, nothing to evict") \
	_(HANDOFF_FULL, "handoff_full", "the owning worker's handoff ring was full")   \
	_(TX_FULL, "tx_full", "egress queue did not take the packet")

enum rp_drop {
	RP_DROP_NONE = 0,
#define RP_DROP_ENUM(e, n, d) RP_DROP_##e,
	RP_FOREACH_DROP(RP_DROP_ENUM)
#undef RP_DROP_ENUM
	RP_DROP_MAX
};

/** Name of a drop reason ("ip_bad_checksum"), or "none". */
const char *rp_drop_name(enum rp_drop r);
/** One-line description of a drop reason. */
const char *rp_drop_desc(enum rp_drop r);

/** Counters of one port as seen by one worker. */
struct rp_port_counters {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
};

/* Other events worth a counter that are not drops. */
#define RP_FOREACH_EVENT(_)                                                   \
	_(FORWARDED, "forwarded", "IPv4 packets routed to an egress port")       \
	_(LOCAL_IN, "local_in", "IPv4 packets for one of our addresses")          \
	_(ICMP_ECHO_REPLIED, "icmp_echo_replied", "echo requests to us answered") \
	_(ICMP_ERR_SENT, "icmp_errors_sent", "ICMP errors generated")             \
	_(ICMP_ERR_RATELIMITED, "icmp_errors_ratelimited", "ICMP errors suppressed by the rate limit") \
	_(FRAGMENTED, "fragmented", "packets fragmented for the egress MTU")    \
	_(FRAGS_OUT, "fragments_out", "fragments produced")                       \
	_(NEIGH_HELD, "neigh_held", "packets handed to the control thread to wait for ARP") \
	_(HOST_IN, "host_in", "packets delivered to the kernel through the host interface") \
	_(HOST_OUT, "host_out", "packets the kernel sent through the host interface") \
	_(LOG_LINES, "log_lines", "LOG target lines queued for the daemon's log") \
	_(LOG_SUPPRESSED, "log_suppressed", "LOG lines not written: rate limit or full log ring") \
	_(IDLE_SLEEPS, "idle_sleeps", "times an idle worker slept")

enum rp_event {
#define RP_EVENT_ENUM(e, n, d) RP_EV_##e,
	RP_FOREACH_EVENT(RP_EVENT_ENUM)
#undef RP_EVENT_ENUM
	RP_EV_MAX
};

const char *rp_event_name(enum rp_event e);
const char *rp_event_desc(enum rp_event e);

/**
 * Counters of one worker. Written only by that worker (plain stores);
 * readers on other threads sum them with relaxed loads, which is exact
 * enough for monitoring and never slows the worker.
 */
struct rp_worker_stats {
	uint64_t drops[RP_DROP_MAX];
	uint64_t events[RP_EV_MAX];
	uint64_t loops;
	uint64_t busy_loops;
	struct rp_port_counters port[RP_MAX_PORTS];
} __rte_cache_aligned;

static inline void
rp_count_drop(struct rp_worker_stats *s, enum rp_drop r)
{
	s->drops[r]++;
}

/** Relaxed read of a counter another thread writes. */
static inline uint64_t
rp_read_counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif /* RAMPART_STATS_H */
