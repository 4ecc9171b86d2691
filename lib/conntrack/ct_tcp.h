/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CT_TCP_H
#define RAMPART_CT_TCP_H

/**
 * @file
 * TCP connection tracking as netfilter's nf_conntrack_proto_tcp.c does it:
 * the state table tcp_conntracks[dir][flag class][state], sequence and
 * window tracking (tcp_in_window), default timeouts per state. Pure
 * functions on struct rp_tcp_state: no tables, no clocks, no DPDK state, so
 * unit tests drive them packet by packet.
 *
 * Internal to lib/conntrack (the table code calls it).
 */

#include <stdint.h>

#include <rte_tcp.h>

/** TCP conntrack states, in netfilter's order (enum tcp_conntrack). */
enum rp_tcp_ct {
	RP_TCP_NONE,
	RP_TCP_SYN_SENT,
	RP_TCP_SYN_RECV,
	RP_TCP_ESTABLISHED,
	RP_TCP_FIN_WAIT,
	RP_TCP_CLOSE_WAIT,
	RP_TCP_LAST_ACK,
	RP_TCP_TIME_WAIT,
	RP_TCP_CLOSE,
	RP_TCP_SYN_SENT2,
	RP_TCP_STATE_MAX,
};

/** Timeouts per state in seconds, plus netfilter's retrans/unacknowledged. */
struct rp_tcp_timeouts {
	uint32_t state[RP_TCP_STATE_MAX]; /**< index RP_TCP_NONE unused */
	uint32_t max_retrans;    /**< nf_conntrack_tcp_timeout_max_retrans: 300 */
	uint32_t unacknowledged; /**< nf_conntrack_tcp_timeout_unacknowledged: 300 */
};

/** netfilter's defaults (2m, 60s, 5d, 2m, 60s, 30s, 2m, 10s, 2m; 5m; 5m). */
void rp_tcp_default_timeouts(struct rp_tcp_timeouts *t);

/** One direction's window data (netfilter's ip_ct_tcp_state). */
struct rp_tcp_dir {
	uint32_t td_end;    /**< max of seq + len */
	uint32_t td_maxend; /**< max of ack + max(win, 1) */
	uint32_t td_maxwin; /**< max(win) */
	uint8_t td_scale;   /**< window scale factor */
	uint8_t flags;      /**< RP_TCP_F_* */
	uint16_t td_maxack_lo; /**< low half of max(ack) sent (netfilter's td_maxack);
				*   the high half is rp_tcp_state.td_maxack_hi */
};

/* rp_tcp_dir.flags, as netfilter's IP_CT_TCP_FLAG_* */
#define RP_TCP_F_WINDOW_SCALE   0x01
#define RP_TCP_F_SACK_PERM      0x02
#define RP_TCP_F_CLOSE_INIT     0x04
#define RP_TCP_F_BE_LIBERAL     0x08
#define RP_TCP_F_DATA_UNACK     0x10
#define RP_TCP_F_MAXACK_SET     0x20
#define RP_TCP_F_CHALLENGE_ACK  0x40
#define RP_TCP_F_SIMULTANEOUS_OPEN 0x80

/** A connection's TCP state; at most 56 bytes (it lives in the conntrack entry). */
struct rp_tcp_state {
	struct rp_tcp_dir seen[2]; /**< [0] original direction, [1] reply */
	uint32_t last_seq;         /**< for retransmission detection and sIG */
	uint32_t last_ack;
	uint32_t last_end;
	uint16_t last_win;
	uint8_t state;      /**< enum rp_tcp_ct */
	uint8_t last_dir;   /**< direction of the last packet */
	uint8_t retrans;    /**< retransmissions seen */
	uint8_t last_index; /**< flag class of the last packet */
	uint8_t last_wscale;
	uint8_t last_flags; /**< RP_TCP_F_* of an ignored SYN; bits 0x04-0x20 hold the tracker's own
			     *   connection status (reply seen, assured...), which netfilter keeps in
			     *   ct->status */
	uint16_t td_maxack_hi[2]; /**< high halves of seen[].td_maxack (split to stay in 56 bytes) */
};

/** What a packet did to the connection. */
enum rp_tcp_verdict {
	RP_TCP_ACCEPT = 0, /**< valid; state updated */
	RP_TCP_INVALID,    /**< invalid flags, out of window, bad RST...: state unchanged */
	RP_TCP_IGNORE,     /**< accept the packet but leave the timeout as it is (netfilter does not
			    *   refresh it): sIG packets, which do not move the state; harmless
			    *   out-of-window segments; a SYN resent (or crossing, in a simultaneous
			    *   open) before any reply */
	RP_TCP_RESTART,    /**< a SYN reopening a closed/TIME_WAIT connection, or any packet of a
			    *   connection netfilter would already have deleted (RST before any reply):
			    *   delete the entry, treat as NEW */
};

/** A parsed TCP segment, as the tracker needs it. */
struct rp_tcp_seg {
	const struct rte_tcp_hdr *th; /**< the header, options following it */
	uint32_t payload_len;         /**< L4 payload bytes */
	uint16_t hdr_len;             /**< data offset * 4, already checked >= 20 and within the packet */
};

/** rp_tcp_transition's values beyond the states: netfilter's sIV and sIG. */
#define RP_TCP_T_INVALID RP_TCP_STATE_MAX
#define RP_TCP_T_IGNORE  (RP_TCP_STATE_MAX + 1)

/**
 * The transition table's cell (netfilter's tcp_conntracks) for a packet
 * with @p tcp_flags, classed as netfilter's get_conntrack_index does, in
 * direction @p dir (0 original, 1 reply) from @p state. For tests and
 * review; the tracker applies the special cases on top.
 * @return an enum rp_tcp_ct, RP_TCP_T_INVALID or RP_TCP_T_IGNORE.
 */
uint8_t rp_tcp_transition(int dir, uint8_t tcp_flags, uint8_t state);

/** True if the flag combination is one netfilter calls invalid (tcp_valid_flags). */
int rp_tcp_flags_invalid(uint8_t tcp_flags);

/**
 * Start tracking with the first segment (original direction) of a new
 * connection. SYN starts SYN_SENT; with @p loose, a segment without SYN
 * (mid-stream pick-up) starts ESTABLISHED with liberal window checks, as
 * netfilter's nf_conntrack_tcp_loose does. Anything else is refused.
 *
 * @return RP_TCP_ACCEPT (state filled) or RP_TCP_INVALID.
 */
enum rp_tcp_verdict rp_tcp_new(struct rp_tcp_state *s, const struct rp_tcp_seg *seg, int loose);

/**
 * Track one segment of a known connection, @p dir 0 = original, 1 = reply.
 * Applies the state table and the window check; sets @p *assured (may be
 * NULL) to 1 on the one packet that makes the connection assured
 * (netfilter: ESTABLISHED after a handshake seen in both directions), else
 * to 0. Whether a reply was seen and whether the connection is assured are
 * kept in @p s, so the caller need not pass them.
 */
enum rp_tcp_verdict rp_tcp_packet(struct rp_tcp_state *s, int dir, const struct rp_tcp_seg *seg,
				  int *assured);

/**
 * Timeout for the connection's current state, in seconds (shorter when
 * retransmitting/unacknowledged), to apply after an RP_TCP_ACCEPT. 0 when a
 * RST closed the connection before any reply: netfilter deletes such an
 * entry at once, so expire it now.
 */
uint32_t rp_tcp_timeout(const struct rp_tcp_state *s, const struct rp_tcp_timeouts *t);

/** "ESTABLISHED", "SYN_SENT"... as conntrack -L prints them. */
const char *rp_tcp_state_name(uint8_t state);

#endif /* RAMPART_CT_TCP_H */
