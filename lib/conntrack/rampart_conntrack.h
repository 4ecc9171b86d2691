/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CONNTRACK_H
#define RAMPART_CONNTRACK_H

/**
 * @file
 * Connection tracking: every packet gets the state iptables' `-m state`
 * would give it (NEW, ESTABLISHED, RELATED, INVALID), from per-worker
 * tables that no lock guards.
 *
 * Ownership: each worker owns one table and is its only writer and only
 * reader on the hot path. Both directions of a connection reach the same
 * worker because the worker is chosen by a symmetric hash of the address
 * pair (see rp_ct_flow_hash, docs/architecture.md "Flow affinity"). The
 * control thread never touches a table directly: listing, deletion and
 * flushing are requests it posts to the owning worker's mailbox
 * (struct rp_ct_mailbox), which the worker serves between bursts with
 * bounded work. Tables are rte_hash with RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF
 * and RCU reclamation of key slots through the workers' QSBR variable.
 *
 * Each connection is two hash keys (the original and the reply tuple, so a
 * later NAT can make them differ) pointing at one entry.
 */

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "ct_tcp.h"
#include "rampart_pkt.h"

/** iptables' states; the filter uses (1 << state) as a bitmask. */
enum rp_ct_state {
	RP_CT_NEW = 0,
	RP_CT_ESTABLISHED,
	RP_CT_RELATED,
	RP_CT_INVALID,
	RP_CT_STATE_MAX,
};

#define RP_CT_NO_ENTRY UINT32_MAX

/**
 * The lookup key. Host byte order, padding zero. ICMP queries: sport = id,
 * dport = type << 8 (the request type in the original tuple, the reply
 * type in the reply tuple, as netfilter keys ICMP); other protocols than
 * TCP/UDP/ICMP: ports 0.
 */
struct rp_ct_tuple {
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

/* rp_ct_entry.status */
#define RP_CT_S_SEEN_REPLY 0x01 /**< a packet went the reply way */
#define RP_CT_S_ASSURED    0x02 /**< never early-dropped */
#define RP_CT_S_EXPECTED   0x04 /**< created from an expectation (RELATED) */
#define RP_CT_S_DYING      0x08 /**< deleted, waiting for reuse */

/** A connection. At most 128 bytes (two cache lines), asserted. */
struct rp_ct_entry {
	struct rp_ct_tuple tuple[2]; /**< [0] original, [1] reply */
	uint64_t bytes[2];           /**< per direction */
	uint32_t packets[2];
	uint32_t expires;            /**< worker clock (ms), wraps: compare with (int32_t)(a - b) */
	uint32_t master;             /**< entry index of the master connection + 1, 0 = none */
	uint32_t created;            /**< worker clock (ms) at creation (UDP stream rule) */
	uint8_t status;              /**< RP_CT_S_* */
	uint8_t helper;              /**< RP_CT_HELPER_ID_*: the helper reading this connection, 0 = none */
	uint16_t epoch;              /**< the table's epoch when last checked against the ruleset (revalidation) */
	union {
		struct rp_tcp_state tcp;
		uint8_t raw[56];
	} proto;
};

/** Timeouts in seconds, named as DESIGN.md (netfilter's sysctl names less the prefix). */
struct rp_ct_timeouts {
	struct rp_tcp_timeouts tcp;
	uint32_t udp;        /**< nf_conntrack_udp_timeout: 30 */
	uint32_t udp_stream; /**< nf_conntrack_udp_timeout_stream: 120 */
	uint32_t icmp;       /**< nf_conntrack_icmp_timeout: 30 */
	uint32_t generic;    /**< nf_conntrack_generic_timeout: 600 */
};

/* Helpers: ids in rp_ct_entry.helper and rp_ct_expect_info.helper. */
#define RP_CT_HELPER_ID_FTP 1 /**< FTP control connections (PORT, EPRT, 227, 229) */

/** Bit of rp_ct_conf.helpers for helper id @p id (the config's RP_CT_HELPER_* bits agree). */
#define RP_CT_HELPER_BIT(id) (1u << ((id) - 1))

#define RP_CT_FTP_PORTS 8             /**< ports of rp_ct_conf.ftp_ports */
#define RP_CT_FTP_EXPECT_TIMEOUT_S 300 /**< netfilter's ftp expectation policy: 5 minutes */

/** What a table is made with. */
struct rp_ct_conf {
	uint32_t max;       /**< connections of this table (the box's max / workers) */
	int tcp_loose;      /**< nf_conntrack_tcp_loose (default 1) */
	int checksum;       /**< nf_conntrack_checksum (default 1): bad L4 checksum -> INVALID */
	struct rp_ct_timeouts timeouts;
	unsigned helpers;   /**< RP_CT_HELPER_BIT(id) of the enabled helpers (default none) */
	uint16_t ftp_ports[RP_CT_FTP_PORTS]; /**< FTP control ports (original destination); default 21 */
	unsigned n_ftp_ports;
	uint32_t expect_max; /**< expectations per master, 1..RP_CT_EXPECT_MAX (default 4; 0 = 4) */
};

/** Fill netfilter's defaults (max left 0, no helper, FTP port 21, 4 expectations per master). */
void rp_ct_default_conf(struct rp_ct_conf *c);

/* Counters of one table (written by its worker only). */
#define RP_FOREACH_CT_COUNTER(_)                                                        \
	_(INSERTED, "inserted", "connections confirmed into the table")                  \
	_(DELETED, "deleted", "connections removed (expired, reset, deleted, flushed)")  \
	_(EXPIRED, "expired", "connections whose timeout ran out")                       \
	_(EARLY_DROP, "early_drop", "unassured connections evicted to make room for a new one") \
	_(TABLE_FULL, "table_full", "new connections refused: table full and nothing to evict") \
	_(INVALID, "invalid", "packets classified INVALID")                              \
	_(RELATED, "related", "packets classified RELATED")                              \
	_(RESTARTED, "restarted", "TCP connections reopened by a SYN after close")       \
	_(HANDOFF_OUT, "handoff_out", "packets handed to their owning worker")           \
	_(HANDOFF_IN, "handoff_in", "packets received from another worker")              \
	_(HANDOFF_FULL, "handoff_full", "handoffs refused: the owner's ring was full (dropped)") \
	_(EXPECT_CREATED, "expect_created", "expectations registered")                   \
	_(EXPECT_MATCHED, "expect_matched", "expected connections that arrived")         \
	_(EXPECT_EXPIRED, "expect_expired", "expectations that timed out or lost their master") \
	_(EXPECT_FULL, "expect_full", "expectations refused: the table's expectation slots were all taken") \
	_(REVALIDATE_DELETED, "revalidate_deleted", "connections a reloaded ruleset no longer allows, removed (filter.revalidate)") \
	_(FTP_ANNOUNCE, "ftp_announce", "FTP data connections announced (PORT, EPRT, 227, 229) and well formed") \
	_(FTP_MALFORMED, "ftp_malformed", "FTP PORT/EPRT/227/229 lines that did not parse, ignored") \
	_(FTP_SPLIT, "ftp_split", "FTP announcements completed from more than one TCP segment") \
	_(FTP_BOUNCE, "ftp_bounce", "FTP announcements naming another address than their sender's, refused (FTP bounce)") \
	_(FTP_OVERFLOW, "ftp_overflow", "FTP control lines longer than the parser keeps, skipped") \
	_(FTP_NO_STATE, "ftp_no_state", "FTP control connections tracked without the helper: no helper state was free")

enum rp_ct_counter {
#define RP_CT_CNT_ENUM(e, n, d) RP_CT_CNT_##e,
	RP_FOREACH_CT_COUNTER(RP_CT_CNT_ENUM)
#undef RP_CT_CNT_ENUM
	RP_CT_CNT_MAX
};

const char *rp_ct_counter_name(enum rp_ct_counter c);
const char *rp_ct_counter_desc(enum rp_ct_counter c);
const char *rp_ct_state_name(enum rp_ct_state s); /**< "NEW", "ESTABLISHED"... */

struct rp_ct_table;

/**
 * Create a worker's table.
 * @param name    unique, for the rte_hash and memzones
 * @param conf    copied
 * @param qsv     the workers' QSBR variable (key slots are reclaimed after a
 *                grace period); NULL in single-threaded tests
 * @return the table, or NULL with rte_errno set.
 */
struct rp_ct_table *rp_ct_create(const char *name, const struct rp_ct_conf *conf,
				 struct rte_rcu_qsbr *qsv, int socket);
void rp_ct_free(struct rp_ct_table *t);

/** EAL memory a table of @p max connections takes (upper estimate, for sizing and the benchmark). */
size_t rp_ct_mem_size(uint32_t max);

/* ---- worker side -------------------------------------------------------- */

/**
 * Classify a burst: for every packet (parsed, L4 parsed, owned by this
 * worker), look up its tuple in bulk (either direction's key finds the
 * connection), run the protocol tracker and set
 * rp_meta.ct_state, ct_dir and ct_idx. Known connections are updated at
 * once (state, window, counters, timeout), as netfilter does before the
 * filter; a NEW packet creates nothing until rp_ct_confirm(). ICMP errors
 * are looked up by the tuple they quote: RELATED to it, or INVALID.
 * @param now_ms the worker clock
 */
void rp_ct_classify_burst(struct rp_ct_table *t, struct rte_mbuf **pkts, unsigned n,
			  uint32_t now_ms);

/**
 * The filter accepted @p m: if it was NEW (or the first packet of an
 * expected connection), insert its connection now, as netfilter confirms
 * only accepted packets. When the table is full an unassured entry may be
 * early-dropped; if none can be, the packet must be dropped: returns -ENOSPC
 * (counted as table_full). A second NEW packet of a connection confirmed
 * earlier in the same burst joins that connection.
 *
 * Helpers run here, on accepted packets only, as netfilter runs them at
 * confirmation: a new TCP connection to one of rp_ct_conf.ftp_ports gets
 * the FTP helper (when enabled), and every accepted packet of such a
 * connection carrying payload is read by it; what it announces becomes an
 * expectation in this table (the expected connection has the control
 * connection's address pair, so it is steered to this worker). Call it for
 * every accepted packet, not only NEW ones.
 * @return 0 or -ENOSPC.
 */
int rp_ct_confirm(struct rp_ct_table *t, struct rte_mbuf *m, uint32_t now_ms);

/**
 * Expire connections whose timeout passed, looking at no more than
 * @p budget entries (a cursor walks the table), so a loop never stalls.
 * @return entries expired.
 */
unsigned rp_ct_expire(struct rp_ct_table *t, uint32_t now_ms, unsigned budget);

/** Entry by index (for the datapath and helpers of the same worker). */
struct rp_ct_entry *rp_ct_entry_get(struct rp_ct_table *t, uint32_t idx);

/* ---- revalidation (filter.revalidate) -------------------------------------- */

/*
 * After a ruleset swap with filter.revalidate, every connection is checked
 * again as if its first packet came under the new rules. The table keeps an
 * epoch (16 bits) and each entry the epoch it was last checked in (new
 * entries take the table's). rp_ct_reval_begin starts a new epoch: while
 * revalidation is active, classification flags packets of connections of an
 * older epoch with RP_F_CT_STALE (the caller checks them before its chains),
 * and a walk (rp_ct_reval_next, bounded per call like expiry) hands the
 * older connections to the caller, who keeps (rp_ct_reval_keep) or removes
 * (rp_ct_reval_refuse) each. The walk ends at the end of the table. A new
 * epoch may begin while a walk runs: every connection not checked in the
 * newest epoch is stale again, the walk restarts. The checks themselves are
 * the caller's (the datapath holds the ruleset).
 */

/** Start a new epoch: every existing connection is stale until checked; the walk starts at entry 0. */
void rp_ct_reval_begin(struct rp_ct_table *t);

/** Abandon revalidation (the ruleset in force does not ask for it): no more stale flags. */
void rp_ct_reval_stop(struct rp_ct_table *t);

/** @return 1 while revalidation is active (a walk has entries left), else 0. */
int rp_ct_reval_active(const struct rp_ct_table *t);

/**
 * The walk: look at no more than @p budget entries from the walk's cursor and
 * return (in @p idx) up to @p max live connections of an older epoch, which
 * the caller must keep or refuse before its next packet burst. Hands out no
 * more than the deferred-free queue has room to delete (none, without
 * moving, while it is full: after a grace period it has room again), so a
 * refusal of these never has to wait. When the cursor reaches the end,
 * revalidation is no longer active (unless a refusal must be retried).
 * @return the number of indices written.
 */
unsigned rp_ct_reval_next(struct rp_ct_table *t, uint32_t *idx, unsigned max, unsigned budget);

/** Connection @p idx was checked and is allowed: mark it as of the current epoch. */
void rp_ct_reval_keep(struct rp_ct_table *t, uint32_t idx);

/**
 * Connection @p idx was checked and is refused: remove it (counted as
 * revalidate_deleted). If it cannot be removed now (deferred-free queue
 * full) it stays stale and the walk goes back to it.
 * @return 0, -ENOENT (not live), or -EBUSY (kept for the walk to retry).
 */
int rp_ct_reval_refuse(struct rp_ct_table *t, uint32_t idx);

/* ---- expectations (used by helpers, e.g. FTP) ------------------------------ */

/**
 * An expected connection: its original tuple with the source port
 * wildcarded (0 = any) as netfilter does, a lifetime, and its master.
 */
struct rp_ct_expect {
	struct rp_ct_tuple tuple; /**< sport 0 = any */
	uint32_t master;          /**< entry index of the master in the owner's table */
	uint32_t expires;         /**< worker clock (ms) */
	uint8_t helper;           /**< helper of the expected connection itself (netfilter's
				   *   exp->helper); 0 for FTP data connections */
};

/**
 * Register an expectation in this table (the caller makes sure this worker
 * owns the expected tuple's address pair, which address-pair affinity
 * guarantees when the expected connection has the master's addresses; else
 * it posts it to the owner's mailbox with RP_CT_REQ_EXPECT). At most the
 * table's expect_max per master; the oldest is replaced. The same tuple for
 * the same master again only renews its timeout (netfilter's refresh of an
 * identical expectation).
 * @return 0, -EINVAL (the master is not a live connection) or -ENOSPC
 *         (every expectation slot of the table is taken; counted expect_full).
 */
int rp_ct_expect_add(struct rp_ct_table *t, const struct rp_ct_expect *e);

/** Upper bound of rp_ct_conf.expect_max (conntrack.expect_max allows 1..64). */
#define RP_CT_EXPECT_MAX 64

/** Expectations a table holds at most, all masters together. */
#define RP_CT_EXPECT_SLOTS 256

/**
 * The master of a packet's expected connection before it is confirmed: for
 * a RELATED packet without an entry yet (the data connection's SYN), the
 * entry index + 1 of the connection whose expectation it fulfils (what
 * netfilter's unconfirmed conntrack already links to), else 0. For matches
 * such as `-m helper`, which look at the master. Worker side.
 */
uint32_t rp_ct_expected_master(const struct rp_ct_table *t, const struct rte_mbuf *m,
			       uint32_t now_ms);

/** Expectations registered in a table now (relaxed read; any thread). */
uint32_t rp_ct_expect_count(const struct rp_ct_table *t);

/** The name of a helper id ("ftp"), or "" for 0 / unknown. */
const char *rp_ct_helper_name(uint8_t id);

/**
 * EAL memory the helpers of a table of @p max connections take when
 * rp_ct_conf.helpers is not 0 (in addition to rp_ct_mem_size): a helper
 * state index per connection and the FTP parser states.
 */
size_t rp_ct_helper_mem_size(uint32_t max);

/* ---- control requests (mailbox) ------------------------------------------- */

/** One connection as listed: a copy, taken by the owning worker. */
struct rp_ct_info {
	struct rp_ct_tuple tuple[2];
	uint64_t bytes[2];
	uint32_t packets[2];
	uint32_t timeout_s; /**< seconds left */
	uint8_t tcp_state;  /**< enum rp_tcp_ct for TCP */
	uint8_t status;     /**< RP_CT_S_* */
	uint8_t worker;
	uint8_t helper;
	uint32_t idx;
	uint32_t master;    /**< master index + 1, 0 none */
	struct rp_ct_tuple master_tuple; /**< the master's original tuple when master != 0 and it lives */
};

/** One expectation as listed: a copy, taken by the owning worker. */
struct rp_ct_expect_info {
	struct rp_ct_tuple tuple;        /**< the expected original tuple, sport 0 = any */
	struct rp_ct_tuple master_tuple; /**< the master's original tuple (zero when foreign) */
	uint32_t timeout_s;              /**< seconds left */
	uint32_t master;                 /**< master index + 1, 0 = the master lives on another worker */
	uint8_t helper;                  /**< the master's helper (RP_CT_HELPER_ID_*), 0 unknown */
	uint8_t worker;                  /**< filled by the control thread */
};

/**
 * What the control thread can ask a worker. Each call does bounded work:
 * LIST looks at no more than 4096 entries (result = entries copied, maybe 0
 * with the cursor not yet UINT32_MAX: post again from it); DELETE answers 0,
 * -ENOENT, or -EBUSY when deletions wait for a grace period (post again);
 * FLUSH answers the connections still left (> 0: post again) or 0 when done;
 * COUNT answers the connections in the table; EXPECT 0 or -ENOSPC;
 * EXPECT_LIST the expectations copied (cursor UINT32_MAX at the end).
 */
enum rp_ct_req_type {
	RP_CT_REQ_NONE = 0,
	RP_CT_REQ_LIST,   /**< copy up to max entries from cursor matching filter */
	RP_CT_REQ_DELETE, /**< delete the connection with this tuple (either direction) */
	RP_CT_REQ_FLUSH,  /**< delete every connection */
	RP_CT_REQ_COUNT,  /**< fill per-protocol/state counts */
	RP_CT_REQ_EXPECT, /**< register req.expect */
	RP_CT_REQ_EXPECT_LIST, /**< copy up to max expectations from cursor into xout */
};

/** Listing filter, as `conntrack -L -p P -s A -d A --state S`; zero fields match all. */
struct rp_ct_filter {
	uint8_t proto;
	uint8_t tcp_state; /**< 0 = any, else enum rp_tcp_ct */
	uint32_t src;      /**< original source, 0 = any */
	uint32_t dst;      /**< original destination, 0 = any */
};

#define RP_CT_LIST_PAGE 256

/**
 * A worker's mailbox. The control thread fills the request and sets state to
 * POSTED (release); the worker, which checks the state once per loop with a
 * relaxed load, serves it with bounded work and sets DONE (release). No
 * lock; the control thread may wait, the worker never does.
 */
struct rp_ct_mailbox {
	uint32_t state; /**< RP_CT_MB_IDLE / POSTED / DONE */
	uint8_t type;   /**< enum rp_ct_req_type */
	int32_t result; /**< 0 or -errno; LIST: entries copied */
	/* LIST */
	uint32_t cursor;      /**< in: where to start; out: where to continue (UINT32_MAX: end) */
	uint32_t max;         /**< in: at most this many, <= RP_CT_LIST_PAGE */
	struct rp_ct_filter filter;
	struct rp_ct_info *out; /**< RP_CT_LIST_PAGE entries, owned by the control thread */
	/* DELETE */
	struct rp_ct_tuple tuple;
	/* EXPECT */
	struct rp_ct_expect expect;
	/* EXPECT_LIST (cursor and max as for LIST; the whole table fits one page) */
	struct rp_ct_expect_info *xout; /**< RP_CT_LIST_PAGE entries, owned by the control thread */
	/* COUNT: [proto slot: 0 tcp, 1 udp, 2 icmp, 3 other][tcp state or 0] */
	uint32_t counts[4][RP_TCP_STATE_MAX];
} __rte_cache_aligned;

enum { RP_CT_MB_IDLE = 0, RP_CT_MB_POSTED, RP_CT_MB_DONE };

/** Worker: serve a posted request, if any. Cheap when there is none. */
void rp_ct_mailbox_serve(struct rp_ct_table *t, struct rp_ct_mailbox *mb, uint32_t now_ms);

/** Counters and occupancy of a table (relaxed reads; any thread). */
uint64_t rp_ct_counter(const struct rp_ct_table *t, enum rp_ct_counter c);
uint32_t rp_ct_count(const struct rp_ct_table *t);

/** Count a handoff event on the table of the worker that saw it. */
void rp_ct_count_event(struct rp_ct_table *t, enum rp_ct_counter c);

/* ---- flow affinity ------------------------------------------------------------ */

/**
 * The symmetric hash of an address pair: Toeplitz with the repeated 0x6d5a
 * key over (src, dst), equal for (dst, src), and equal to what a NIC
 * computes for IPv4 with that key and RTE_ETH_RSS_IPV4. Table-driven
 * (8 lookups), so it costs a few cycles.
 */
uint32_t rp_ct_flow_hash(uint32_t src, uint32_t dst);

/** The worker owning @p hash among @p n_workers (matches the RETA Rampart programs). */
static inline unsigned
rp_ct_owner(uint32_t hash, unsigned n_workers)
{
	return (hash & 127) % n_workers;
}

/**
 * The address pair a packet is steered by: its own, or for an ICMP error the
 * pair of the header it quotes (so the error reaches the owner of the
 * connection it is about). Host order; 0 on a malformed ICMP error (steer
 * by the outer pair).
 */
void rp_ct_steering_pair(struct rte_mbuf *m, uint32_t *a, uint32_t *b);

#endif /* RAMPART_CONNTRACK_H */
