/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CT_FTP_H
#define RAMPART_CT_FTP_H

/**
 * @file
 * The FTP helper's parser: finds the data connections an FTP control
 * connection announces — PORT and EPRT from the client, the 227 (PASV) and
 * 229 (EPSV) replies from the server — as netfilter's nf_conntrack_ftp does,
 * but also when a command or reply is split across TCP segments (netfilter
 * drops such a segment and waits for a retransmission; Rampart keeps the
 * partial line). Pure code: no tables, no DPDK state; it never reads beyond
 * the bytes it is given. Internal to lib/conntrack.
 */

#include <stdint.h>

#define RP_FTP_LINE_MAX 128 /**< longest line kept across segments (netfilter's commands fit) */

/** What one direction of a control connection has seen. */
struct rp_ftp_dir {
	uint32_t next_seq; /**< sequence number of the next byte expected */
	uint8_t seq_valid; /**< next_seq is known */
	uint8_t discard;   /**< the current line overflowed RP_FTP_LINE_MAX: skip to its end */
	uint16_t len;      /**< bytes of the current, unfinished line */
	char line[RP_FTP_LINE_MAX];
};

/** Per control connection: both directions (0 = client to server, 1 = server to client). */
struct rp_ftp_state {
	struct rp_ftp_dir dir[2];
};

/** An announcement. Addresses and port in host order. */
struct rp_ftp_announce {
	uint8_t kind;  /**< enum rp_ftp_kind */
	uint32_t addr; /**< the announced address; for 229 (no address) 0: use the server's */
	uint16_t port;
};

enum rp_ftp_kind {
	RP_FTP_NONE = 0,
	RP_FTP_PORT,  /**< client: PORT h1,h2,h3,h4,p1,p2 (active mode) */
	RP_FTP_EPRT,  /**< client: EPRT |1|a.b.c.d|port| */
	RP_FTP_PASV,  /**< server: 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2) */
	RP_FTP_EPSV,  /**< server: 229 Entering Extended Passive Mode (|||port|) */
};

/** Counters the parser moves (the caller sums them per worker). */
struct rp_ftp_stats {
	uint64_t announces;   /**< well-formed announcements found */
	uint64_t malformed;   /**< PORT/EPRT/227/229 lines that did not parse (bad numbers, overflow...) */
	uint64_t split;       /**< announcements completed from more than one segment */
	uint64_t retransmits; /**< segments (or their parts) already seen, skipped */
	uint64_t overflow;    /**< lines longer than RP_FTP_LINE_MAX, skipped */
};

/**
 * Feed one TCP segment's payload of a control connection.
 * @param st   the connection's parser state (zeroed at the connection's start)
 * @param dir  0 client to server, 1 server to client
 * @param seq  the segment's sequence number (host order)
 * @param data the payload, @p len bytes (may be 0)
 * @param out  receives up to @p max announcements completed by this segment
 * @return announcements written to @p out
 */
unsigned rp_ftp_parse(struct rp_ftp_state *st, int dir, uint32_t seq, const uint8_t *data,
		      uint32_t len, struct rp_ftp_announce *out, unsigned max,
		      struct rp_ftp_stats *stats);

#endif /* RAMPART_CT_FTP_H */
