/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_REASM_H
#define RAMPART_REASM_H

/**
 * @file
 * IPv4 fragments: reassembly before connection tracking, as netfilter's
 * defrag does, so that conntrack and the filter always see ports; and
 * fragmentation of what leaves for the egress MTU.
 *
 * One reassembly context per worker, used by that worker only (no locks),
 * on DPDK's rte_ip_frag table. Memory is bounded (max_datagrams datagrams
 * being reassembled, at most RP_REASM_MAX_FRAGS fragments each) and so is
 * time (a datagram not complete timeout_ms after its first fragment arrived
 * is dropped; netfilter's default, ipfrag_time, is 30 s). The fragments
 * held are mbufs of the RX pool: size it for max_datagrams *
 * RP_REASM_MAX_FRAGS more per worker.
 */

#include <stdint.h>

#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/** Most fragments one datagram may arrive in (DPDK's build-time limit). */
#define RP_REASM_MAX_FRAGS RTE_LIBRTE_IP_FRAG_MAX_FRAG

/** Upper bound of max_datagrams for rp_reasm_create(). */
#define RP_REASM_MAX_DATAGRAMS (1u << 20)

/**
 * Counters of one context, written by its worker only (plain stores; read
 * them from another thread with relaxed loads). Every fragment offered is
 * eventually counted once in frags_merged or one of the dropped_*; until
 * then it is held (rp_reasm_frags_held()).
 */
struct rp_reasm_stats {
	uint64_t frags_in;        /**< fragments offered to rp_reasm_packet() */
	uint64_t datagrams;       /**< datagrams reassembled and returned */
	uint64_t frags_merged;    /**< fragments in those datagrams */
	uint64_t frags_dropped;   /**< all fragments dropped: the sum of the three below */
	uint64_t dropped_full;    /**< no room for one more datagram in the table */
	uint64_t dropped_timeout; /**< their datagram was not complete in time */
	/**
	 * The fragment was malformed (empty, not a multiple of 8 bytes with
	 * MF set, ending beyond 65535 bytes), or its whole datagram was
	 * discarded: overlapping or duplicate fragments, more than
	 * RP_REASM_MAX_FRAGS fragments.
	 */
	uint64_t dropped_invalid;
};

struct rp_reasm;

/**
 * Create a reassembly context.
 *
 * @param max_datagrams datagrams being reassembled at once, 1 to
 *                      RP_REASM_MAX_DATAGRAMS
 * @param timeout_ms    time a datagram may take to complete, from its
 *                      first fragment, at least 1
 * @param socket        NUMA socket for the memory (or SOCKET_ID_ANY)
 * @return the context, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct rp_reasm *rp_reasm_create(unsigned max_datagrams, unsigned timeout_ms, int socket);

/**
 * Free a context and every fragment it holds (not from a worker that may
 * still use it).
 *
 * @param r the context, or NULL
 */
void rp_reasm_free(struct rp_reasm *r);

/**
 * Offer one received fragment.
 *
 * @p m is a frame parsed by rp_pkt_parse() (single segment, rp_meta valid,
 * kind RP_PKT_IPV4, l3_off 14); a packet without RP_F_FRAG is returned
 * as it is, uncounted. This sets m's l2_len and l3_len. Until its datagram
 * is complete the table keeps the fragment and NULL is returned; a fragment
 * that is dropped (see struct rp_reasm_stats) is counted and freed (through
 * a death row that rp_reasm_tick() empties) and NULL is returned.
 *
 * When @p m completes its datagram, the datagram is returned: a chain whose
 * head is the first fragment's mbuf (its in_port, L2 flags and TTL), with
 * the frame from the Ethernet header on, the IPv4 header's total length set,
 * MF and the offset cleared, DF kept only if the largest fragment carried it,
 * the header checksum recomputed, and rp_meta re-derived: ip_len, flags
 * without RP_F_FRAG/RP_F_FRAG_LATER, frag_max, l3_off and l4_off as they
 * were, L4 fields reset (call rp_pkt_parse_l4() on it), RX L4 checksum flags
 * cleared (they describe the first fragment only).
 *
 * The overlap rule of netfilter's defrag (RFC 5722's for IPv6), that
 * overlapping fragments discard their whole datagram, holds: see reasm.c
 * for how. Unlike Linux, an exact duplicate discards the datagram too.
 *
 * @param now_tsc the current TSC (rte_rdtsc()), or a test clock
 * @return NULL, or the reassembled datagram (or @p m if not a fragment).
 */
struct rte_mbuf *rp_reasm_packet(struct rp_reasm *r, struct rte_mbuf *m, uint64_t now_tsc);

/**
 * Housekeeping, once per worker loop: drop the datagrams whose time is up
 * and free the mbufs of dropped fragments. Bounded work: at most two death
 * rows (2 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN mbufs) are freed per call; what
 * remains expired is taken by the next call or by rp_reasm_packet().
 *
 * @param r       the context
 * @param now_tsc the current TSC, on the clock rp_reasm_packet() is given
 */
void rp_reasm_tick(struct rp_reasm *r, uint64_t now_tsc);

/**
 * The counters of a context.
 *
 * @param r the context
 * @return its counters, updated in place by its worker.
 */
const struct rp_reasm_stats *rp_reasm_stats(const struct rp_reasm *r);

/**
 * Fragments held now, waiting for the rest of their datagram.
 *
 * @param s counters from rp_reasm_stats()
 * @return frags_in less those merged and those dropped.
 */
static inline uint64_t
rp_reasm_frags_held(const struct rp_reasm_stats *s)
{
	return s->frags_in - s->frags_merged - s->frags_dropped;
}

/**
 * Fragment an IPv4 packet for an egress MTU, by copy.
 *
 * @p m holds the frame from the Ethernet header on (rp_meta valid, kind
 * RP_PKT_IPV4, IPv4 header at rp_meta.l3_off), single segment or a chain
 * such as a reassembled datagram; it is not modified and stays the caller's
 * to free. Each fragment is a new single-segment mbuf from @p pool holding
 * a 14-byte Ethernet header, zeroed for the output path to write, then the
 * IPv4 header (total length, MF, offset and checksum set; options whose
 * copy flag is clear replaced by NOPs after the first fragment, as RFC 791
 * and Linux do) and up to (mtu - header) rounded down to 8 bytes of
 * payload; its rp_meta is @p m's with l3_off 14, l4_off, ip_len and the
 * fragment flags set, frag_max 0. A fragment of a fragment keeps the
 * original offset and, on its last piece, the original MF.
 *
 * DF is not checked here, it is copied to every fragment: the caller decides
 * (DF clear, or a reassembled datagram whose frag_max fits the MTU). A
 * packet that already fits in @p mtu gives one single-segment copy.
 *
 * @param mtu  largest IPv4 datagram on the egress link
 * @param out  receives the fragments, in offset order
 * @param max  room in @p out
 * @return the number of fragments, or -EINVAL (not IPv4, header or lengths
 *         inconsistent, MTU below header + 8 bytes), -ENOSPC (more than
 *         @p max fragments), -ENOMEM (pool empty, or its buffers cannot hold
 *         14 + mtu bytes). On error no fragment is left allocated.
 */
int rp_pkt_fragment(struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *pool,
		    struct rte_mbuf **out, unsigned max);

#endif /* RAMPART_REASM_H */
