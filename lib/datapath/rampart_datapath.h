/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_DATAPATH_H
#define RAMPART_DATAPATH_H

/**
 * @file
 * The packet's way through a worker, and the control thread's share of it.
 *
 * worker.c runs on worker lcores: rx burst -> parse -> route (bulk FIB) ->
 * local delivery or forward (TTL, MTU, bulk neighbour lookup, L2 rewrite) ->
 * buffered tx. It never blocks, locks or mallocs. What it cannot finish
 * itself — ARP frames, packets whose next hop is unresolved — goes to the
 * control thread through one multi-producer ring (rp_dp.to_ctl).
 *
 * slowpath.c runs on the control thread: it owns the neighbour table (ARP
 * learning, requests, held packets) and hands finished frames back to a
 * worker's inbox ring, because only workers own TX queues.
 */

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_rcu_qsbr.h>
#include <rte_ethdev.h>

#include "rampart_stats.h"
#include "rampart_pkt.h"
#include "rampart_route.h"
#include "rampart_config.h"
#include "rampart_conntrack.h"
#include "rampart_filter.h"
#include "rampart_reasm.h"

/* ICMP types and codes the router sends (RFC 792, RFC 1812) */
#define RP_ICMP_DEST_UNREACH 3
#define RP_ICMP_UNREACH_NET 0
#define RP_ICMP_UNREACH_HOST 1
#define RP_ICMP_UNREACH_FRAG_NEEDED 4
#define RP_ICMP_TIME_EXCEEDED 11
#define RP_ICMP_EXC_TTL 0

#define RP_BURST_MAX 64        /**< largest configurable RX burst */
#define RP_RING_SIZE 4096      /**< to_ctl, inbox and handoff ring sizes */
#define RP_CT_EXPIRE_BUSY 64    /**< conntrack entries a busy loop looks at for expiry */
#define RP_CT_EXPIRE_IDLE 1024  /**< ... and an idle one */
#define RP_CT_REVAL_BUSY 64     /**< conntrack entries a busy loop looks at for revalidation */
#define RP_CT_REVAL_IDLE 1024   /**< ... and an idle one (at most RP_BURST_MAX are checked per loop) */
#define RP_REVAL_WAIT_MS 5000   /**< how long a reload waits for the workers' revalidation walks */

/** A port as workers see it. Read-only once workers run, but link_up. */
struct rp_port {
	uint16_t port_id; /**< DPDK port id */
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint32_t addrs[RP_PORT_ADDRS_MAX]; /**< our addresses on it (host order) */
	uint8_t lens[RP_PORT_ADDRS_MAX];
	unsigned n_addrs;
	char name[RP_NAME_MAX];
	uint8_t link_up; /**< written by the control thread, read relaxed */
};

struct rp_dp;

/**
 * A published ruleset with its per-worker state (counters, limit buckets).
 * Workers read dp->filter once per burst; the control thread replaces it
 * with one atomic store and frees the old one after an RCU grace period.
 */
struct rp_filter_live {
	struct rp_ruleset *rs;
	struct rp_filter_worker *fw[RP_MAX_WORKERS];
	uint64_t generation;
	/* rampartctl rules --zero: counters shown are the sums minus these */
	uint64_t *zero_pkts, *zero_bytes;
	uint64_t zero_policy_pkts[RP_CHAIN_BUILTIN_MAX], zero_policy_bytes[RP_CHAIN_BUILTIN_MAX];
};

#define RP_LOG_LINE_MAX 512 /**< one LOG line, as queued to the control thread */
#define RP_LOG_RING_SIZE 1024
#define RP_LOG_RATE 100     /**< LOG lines per second per worker ... */
#define RP_LOG_BURST 200    /**< ... with this burst */

#define RP_TXQ_SIZE 64 /**< packets buffered per egress port before a tx_burst */

/** Packets waiting for one tx_burst on one port (owned by one worker). */
struct rp_txq {
	uint16_t n;
	struct rte_mbuf *pkts[RP_TXQ_SIZE];
};

/**
 * Token bucket for ICMP errors (RFC 1812 4.3.2.8), in TSC cycles: a token
 * costs tsc_hz / rate cycles of credit, the credit is capped at burst tokens.
 */
struct rp_icmp_bucket {
	uint64_t credit;
	uint64_t last_tsc;
	uint64_t cost;  /**< cycles per token; 0 = unlimited */
	uint64_t cap;   /**< cost * burst */
};

/** Take one token. @return 1 if an error may be sent now. */
int rp_icmp_bucket_take(struct rp_icmp_bucket *b, uint64_t now_tsc);

/** One worker: its rings, its TX buffers and its counters. */
struct rp_worker {
	struct rp_worker_stats stats; /**< first: cache aligned, written only here */
	struct rp_dp *dp;
	unsigned id;     /**< 0..n_workers-1, also its queue index on every port */
	unsigned lcore;
	struct rte_ring *inbox; /**< frames from the control thread (enum rp_inbox_kind) */
	struct rte_ring *handoff; /**< packets of this worker's connections seen by others */
	struct rp_ct_table *ct;   /**< this worker's connections (NULL: not tracking) */
	struct rp_reasm *reasm;   /**< this worker's fragments waiting for reassembly */
	uint32_t now_ms;          /**< worker clock, read once per loop */
	struct rp_icmp_bucket icmp; /**< this worker's ICMP error rate limit */
	unsigned idle_loops;
	struct rp_ct_mailbox ct_mailbox; /**< requests from the control thread */
	struct rp_icmp_bucket log_bucket; /**< LOG lines per second */
	/* the burst being filtered, for the LOG callback (which sees rp_filter_pkt) */
	struct rte_mbuf **filter_mbufs;
	const struct rp_filter_pkt *filter_pkts;
	uint64_t filter_gen;  /**< generation of the ruleset this worker last took up (0: none) */
	/** generation whose revalidation this worker has finished (or had nothing to do
	 * for); written by the worker (release), read by the control thread */
	uint64_t reval_done;
	struct rp_txq txq[RP_MAX_PORTS];
} __rte_cache_aligned;

/** What every worker shares. Built by the control thread before launch. */
struct rp_dp {
	struct rp_port ports[RP_MAX_PORTS];
	unsigned n_ports;
	struct rp_worker *workers[RP_MAX_WORKERS];
	unsigned n_workers;

	uint32_t local_addrs[RP_MAX_PORTS * RP_PORT_ADDRS_MAX]; /**< all our addresses */
	unsigned n_local;

	struct rp_fib *fib;
	struct rp_neigh_table *neigh;
	struct rte_mempool *pool;          /**< packets */
	struct rte_ring *to_ctl;           /**< workers -> control thread */
	struct rte_rcu_qsbr *qsv;          /**< workers report quiescence each loop */
	struct rp_filter_live *filter;     /**< the ruleset in force; NULL = accept everything */
	int host_port;                     /**< index of the host interface's port, -1 without one */
	struct rte_ether_addr host_kernel_mac; /**< the kernel's end of the host interface */
	struct rte_ring *log_ring;         /**< LOG lines (RP_LOG_LINE_MAX-byte elements) to the control thread */

	unsigned burst;
	unsigned idle_sleep_us;
	uint64_t tsc_per_ms;
	int ct_checksum;  /**< verify L4 checksums (conntrack.checksum) */
	struct rp_worker_stats ctl_stats; /**< counters of the control thread's share */
	struct rp_icmp_bucket ctl_icmp;   /**< the control thread's ICMP errors (unresolved next hops) */
	volatile int stop;
};

/*
 * Messages on the rings carry their meaning in rp_meta.kind:
 * to_ctl:  RP_PKT_ARP (an ARP frame to learn from / answer) or RP_MSG_HOLD
 *          (an IPv4 packet waiting for rp_meta.nexthop on rp_meta.out_port);
 * inbox:   RP_MSG_TX (a complete frame for rp_meta.out_port) or
 *          RP_MSG_ROUTE (a locally built IPv4 packet for the worker to route).
 */
enum rp_msg_kind {
	RP_MSG_HOLD = 100,
	RP_MSG_TX,
	RP_MSG_ROUTE,
};

/**
 * Allocate and fill the shared datapath state from a validated config:
 * rings, RCU variable and worker structs. Comes before the ports are set up
 * (their queues go on the workers' sockets).
 * @return 0 or -errno.
 */
int rp_dp_init_workers(struct rp_dp *dp, const struct rp_config *cfg);

/** The per-worker conntrack table configuration the config implies. */
void rp_dp_ct_conf(const struct rp_config *cfg, struct rp_ct_conf *c);

/** Collect every port's addresses into dp->local_addrs (after the ports are filled). */
void rp_dp_index_local(struct rp_dp *dp);

/** Release what rp_dp_init_workers allocated. */
void rp_dp_free_workers(struct rp_dp *dp);

/** lcore entry point: runs the worker loop until dp->stop. @p arg is a struct rp_worker. */
int rp_worker_main(void *arg);

/**
 * Process one received burst from @p port on worker @p w: everything up to
 * the TX buffers (not flushed). Exposed for tests and the benchmark.
 */
void rp_worker_process_burst(struct rp_worker *w, uint8_t port, struct rte_mbuf **pkts,
			     uint16_t n);

/** One loop iteration: rx from every port, inbox, flush, quiescent state. @return packets received. */
unsigned rp_worker_poll_once(struct rp_worker *w);

/** Flush every TX buffer of @p w. */
void rp_worker_flush(struct rp_worker *w);

/* ---- control thread ---------------------------------------------------- */

/** Neighbour ops for rp_neigh_create, bound to @p dp: frames leave through worker 0's inbox. */
void rp_slowpath_neigh_ops(struct rp_dp *dp, struct rp_neigh_ops *ops);

/**
 * Drain the to_ctl ring and run the neighbour timers. Call from the control
 * thread every few milliseconds.
 * @return messages handled.
 */
unsigned rp_slowpath_poll(struct rp_dp *dp, uint64_t now_ms);

/** Our address on @p port to use towards @p dst: the one whose subnet holds it, else the primary. */
uint32_t rp_dp_port_src_addr(const struct rp_dp *dp, uint8_t port, uint32_t dst);

/**
 * Route and transmit one IPv4 packet built by the appliance (echo reply,
 * ICMP error, fragment): FIB, neighbour, Ethernet header, TX buffer — or hold
 * it for ARP. The packet's rp_meta (dst, l3_off) must be valid and the frame
 * must have room for the Ethernet header at its start.
 */
void rp_worker_output(struct rp_worker *w, struct rte_mbuf *m);

/**
 * Publish @p live as the ruleset in force (control thread): one atomic
 * store, then wait for a grace period and free the previous one.
 */
void rp_dp_filter_publish(struct rp_dp *dp, struct rp_filter_live *live);

/** Free a ruleset and its worker states (no worker may still use it). */
void rp_filter_live_free(struct rp_filter_live *live);

/**
 * Wait (control thread, polling every millisecond) until every worker has
 * finished revalidating its connections against ruleset @p generation (see
 * docs/filtering.md, "Stale-allow protection"), at most @p timeout_ms.
 * @return 0, or -ETIMEDOUT with the first worker still walking in
 *         @p *lagging (when not NULL).
 */
int rp_dp_reval_wait(const struct rp_dp *dp, uint64_t generation, unsigned timeout_ms,
		     unsigned *lagging);

/** Write queued LOG lines to @p out (control thread). @return lines written. */
unsigned rp_dp_drain_log(struct rp_dp *dp, FILE *out);

/** Sum of all workers' and the control thread's counters. */
void rp_dp_sum_stats(const struct rp_dp *dp, struct rp_worker_stats *sum);

#endif /* RAMPART_DATAPATH_H */
