/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_ROUTE_H
#define RAMPART_ROUTE_H

/**
 * @file
 * Routing: the FIB (connected, local and static routes, longest prefix wins)
 * and the neighbour (ARP) table.
 *
 * Planes: the FIB is built by the control thread before workers start and is
 * read-only afterwards. The neighbour table has one writer, the control
 * thread; workers read it lock-free (rte_hash with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, key slots reclaimed through the
 * workers' RCU QSBR variable) and never write to it except their own
 * per-worker "used" marks.
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "rampart_stats.h"

/* ---- FIB ------------------------------------------------------------- */

/** What a route does with a packet. */
enum rp_route_type {
	RP_RT_NONE = 0, /**< no route (the FIB's default next hop) */
	RP_RT_LOCAL,    /**< one of our addresses: local delivery */
	RP_RT_BCAST,    /**< directed broadcast of a connected subnet: not forwarded */
	RP_RT_DIRECT,   /**< connected subnet or direct route: next hop = destination */
	RP_RT_GATEWAY,  /**< via a gateway: next hop = gateway */
};

/*
 * A FIB next hop is one 64-bit word, so a bulk lookup yields everything the
 * forwarding path needs: type (bits 40..43), port (bits 32..39), gateway
 * (bits 0..31, host order).
 */
static inline uint64_t
rp_nh_make(enum rp_route_type type, uint8_t port, uint32_t gw)
{
	return ((uint64_t)type << 40) | ((uint64_t)port << 32) | gw;
}
static inline enum rp_route_type rp_nh_type(uint64_t nh) { return (enum rp_route_type)((nh >> 40) & 0xf); }
static inline uint8_t rp_nh_port(uint64_t nh) { return (uint8_t)(nh >> 32); }
static inline uint32_t rp_nh_gw(uint64_t nh) { return (uint32_t)nh; }

/** One route as listed by telemetry and rampartctl. */
struct rp_route_info {
	uint32_t prefix;
	uint8_t len;
	uint8_t port;
	uint8_t type; /**< enum rp_route_type */
	uint32_t gw;
	const char *origin; /**< "connected", "local", "broadcast", "static" */
};

struct rp_fib;

/**
 * Create an empty FIB for up to @p max_routes routes.
 * @return the FIB, or NULL with rte_errno set.
 */
struct rp_fib *rp_fib_create(const char *name, unsigned max_routes, int socket);

/**
 * EAL memory that rp_fib_create() takes for @p max_routes (an upper
 * estimate, for reporting the daemon's needs before it allocates):
 * dominated by the 2^24-entry table of 8-byte next hops (128 MiB).
 */
size_t rp_fib_mem_size(unsigned max_routes);

/** Add or replace a route. @return 0 or -errno. */
int rp_fib_add(struct rp_fib *fib, uint32_t prefix, uint8_t len, uint64_t nh,
	       const char *origin);

/**
 * Add what a port address implies, as Linux does: a LOCAL /32 for the
 * address, a DIRECT route for its subnet, and (for len <= 30) a BCAST /32
 * for the subnet's broadcast address.
 */
int rp_fib_add_interface(struct rp_fib *fib, uint32_t addr, uint8_t len, uint8_t port);

/** Longest-prefix lookup of @p n host-order addresses. */
void rp_fib_lookup_bulk(const struct rp_fib *fib, const uint32_t *ips, uint64_t *nhs,
			unsigned n);

/** Number of routes, and route @p i of them (in insertion order). */
unsigned rp_fib_count(const struct rp_fib *fib);
const struct rp_route_info *rp_fib_route(const struct rp_fib *fib, unsigned i);

void rp_fib_free(struct rp_fib *fib);

/* ---- Neighbours ------------------------------------------------------ */

/*
 * A resolved neighbour, as workers read it: one 64-bit word written
 * atomically by the control thread. MAC in bits 0..47, port in 48..55,
 * RP_L2_VALID set when usable.
 */
#define RP_L2_VALID (1ULL << 63)
static inline uint8_t rp_l2_port(uint64_t l2) { return (uint8_t)(l2 >> 48); }
static inline void
rp_l2_mac(uint64_t l2, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(l2 >> (8 * (5 - i)));
}
static inline uint64_t
rp_l2_make(const struct rte_ether_addr *mac, uint8_t port)
{
	uint64_t v = RP_L2_VALID | ((uint64_t)port << 48);
	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * (5 - i));
	return v;
}

enum rp_neigh_state {
	RP_NEIGH_INCOMPLETE, /**< request sent, no answer yet; packets held */
	RP_NEIGH_REACHABLE,  /**< confirmed recently */
	RP_NEIGH_PROBE,      /**< was used and is being re-confirmed (still valid) */
	RP_NEIGH_PERMANENT,  /**< static, from the config */
};

/** How an ARP packet relates to us, for rp_neigh_learn(). */
enum rp_arp_learn {
	RP_ARP_REQUEST_FOR_US, /**< a request for one of our addresses: create or update */
	RP_ARP_REPLY,          /**< a reply: update an existing entry only */
	RP_ARP_OTHER,          /**< gratuitous, or a request for another host: update existing only */
};

struct rp_neigh_table;

/** What the control thread must do on the table's behalf. */
struct rp_neigh_ops {
	/** send an ARP request for @p ip out of @p port (unicast to @p mac if not NULL) */
	void (*send_request)(void *arg, uint8_t port, uint32_t ip, const struct rte_ether_addr *mac);
	/** transmit a held packet, now that its next hop resolved to @p l2 */
	void (*release)(void *arg, struct rte_mbuf *m, uint64_t l2);
	/** a held packet is dropped for @p reason (the callee counts and frees it) */
	void (*drop)(void *arg, struct rte_mbuf *m, enum rp_drop reason);
	void *arg;
};

/** One entry as listed. */
struct rp_neigh_info {
	uint32_t ip;
	struct rte_ether_addr mac;
	uint8_t port;
	uint8_t state; /**< enum rp_neigh_state */
	uint16_t held; /**< packets waiting */
	uint64_t age_ms; /**< since last confirmation */
};

/**
 * Create the table for @p max entries, read by @p n_workers workers that
 * report quiescent states on @p qsv.
 * @return the table, or NULL with rte_errno set.
 */
struct rp_neigh_table *rp_neigh_create(const char *name, unsigned max, unsigned n_workers,
				       struct rte_rcu_qsbr *qsv, int socket,
				       const struct rp_neigh_ops *ops);
void rp_neigh_free(struct rp_neigh_table *t);

/** EAL memory that rp_neigh_create() takes (an upper estimate). */
size_t rp_neigh_mem_size(unsigned max, unsigned n_workers);

/* Worker side ----------------------------------------------------------- */

/**
 * Bulk lookup by worker @p worker: l2[i] = the entry's word for ips[i]
 * (host order), 0 if unknown or unresolved. Marks found entries used.
 */
void rp_neigh_lookup_bulk(struct rp_neigh_table *t, unsigned worker, const uint32_t *ips,
			  uint64_t *l2, unsigned n);

/* Control side (one thread) --------------------------------------------- */

/** Apply the timing from the config (defaults apply until called). */
void rp_neigh_set_timing(struct rp_neigh_table *t, unsigned reachable_ms, unsigned retrans_ms,
			 unsigned probes, unsigned hold_packets, unsigned gc_stale_ms);

/** Add a static (permanent) entry. @return 0 or -errno. */
int rp_neigh_add_static(struct rp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
			uint8_t port);

/** Learn from an ARP sender. @return 0 if an entry was created or updated, -ENOENT if ignored. */
int rp_neigh_learn(struct rp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
		   uint8_t port, enum rp_arp_learn how, uint64_t now_ms);

/**
 * Hold @p m (an IPv4 packet ready but for its Ethernet header) until
 * @p nexthop on @p port resolves; creates the entry and sends the first
 * request when needed. If the queue is full the oldest packet is dropped.
 * If the entry resolved meanwhile, @p m is released at once.
 */
void rp_neigh_hold(struct rp_neigh_table *t, uint32_t nexthop, uint8_t port,
		   struct rte_mbuf *m, uint64_t now_ms);

/** Timers: retransmit, give up, refresh, age out. Call every few ms. */
void rp_neigh_tick(struct rp_neigh_table *t, uint64_t now_ms);

/** Number of entries, and a copy of up to @p max of them from @p offset. */
unsigned rp_neigh_count(const struct rp_neigh_table *t);
unsigned rp_neigh_list(const struct rp_neigh_table *t, unsigned offset, struct rp_neigh_info *out,
		       unsigned max, uint64_t now_ms);

const char *rp_neigh_state_name(enum rp_neigh_state s);

#endif /* RAMPART_ROUTE_H */
