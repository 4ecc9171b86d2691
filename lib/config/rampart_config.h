/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CONFIG_H
#define RAMPART_CONFIG_H

/**
 * @file
 * The libconfig file -> a validated struct rp_config.
 *
 * Loading never touches DPDK: it runs before EAL (so that `eal = [...]` from
 * the file can be used) and for `rampart --check`. Every problem is reported
 * as "FILE:LINE: PATH: problem" on the error stream and counted; a config
 * with errors is never used. The only check that needs EAL, that the worker
 * lcores were given to EAL, is rp_config_check_lcores().
 */

#include <stdint.h>
#include <stdio.h>

#include "rampart_stats.h" /* RP_MAX_PORTS, RP_MAX_WORKERS */

#define RP_NAME_MAX 16       /**< port name, with its NUL (IFNAMSIZ) */
#define RP_DEVICE_MAX 256    /**< device string */
#define RP_PORT_ADDRS_MAX 8  /**< addresses one port carries */
#define RP_PATH_MAX 256

/** An IPv4 prefix, host byte order; the address keeps its host bits. */
struct rp_prefix {
	uint32_t addr;
	uint8_t len;
};

struct rp_port_conf {
	char name[RP_NAME_MAX];     /**< "lan0": what -i/-o and routes name */
	char device[RP_DEVICE_MAX]; /**< PCI address or vdev string */
	struct rp_prefix addrs[RP_PORT_ADDRS_MAX]; /**< first is primary */
	unsigned n_addrs;
	uint16_t mtu;               /**< L3 MTU; default 1500 */
	uint16_t rx_desc;           /**< RX ring size per queue; default 1024 */
	uint16_t tx_desc;           /**< TX ring size per queue; default 1024 */
	int line;
};

struct rp_route_conf {
	struct rp_prefix to; /**< canonical: no host bits set */
	uint32_t via;        /**< gateway, 0 for a direct route */
	int port;            /**< index into ports; resolved from `port` or from via's subnet */
	int line;
};

struct rp_neigh_conf {
	uint32_t addr;
	uint8_t mac[6];
	int port; /**< index into ports */
	int line;
};

struct rp_workers_conf {
	unsigned lcores[RP_MAX_WORKERS];
	int lcore_lines[RP_MAX_WORKERS];
	unsigned n_lcores;   /**< default: one worker on lcore 1 */
	unsigned burst;      /**< RX burst size, 1..64, default 32 */
	unsigned idle_sleep_us; /**< max sleep of an idle worker; 0 = busy poll (default) */
	int line;
};

struct rp_neigh_timing {
	unsigned reachable_ms;  /**< refresh a used entry after this long; default 30000 */
	unsigned retrans_ms;    /**< ARP retransmission interval; default 1000 */
	unsigned probes;        /**< requests before giving up; default 3 */
	unsigned hold_packets;  /**< packets held per unresolved next hop; default 16 */
	unsigned gc_stale_ms;   /**< forget an unused entry after this long; default 60000 */
	unsigned max;           /**< neighbour entries; default 4096 */
};

struct rp_icmp_conf {
	unsigned ratelimit_pps; /**< ICMP errors per second per worker; default 1000 */
	unsigned burst;         /**< token bucket depth; default 50 */
};

#define RP_CT_FTP_PORTS_MAX 8 /**< entries of conntrack.ftp_ports */

/** Helpers conntrack.helpers can name, as bits of rp_ct_config.helpers. */
enum rp_ct_helper {
	RP_CT_HELPER_FTP = 1u << 0, /**< "ftp": FTP control connections (PORT/PASV) */
};

/**
 * conntrack.timeouts, in seconds, each 1..2147483 (so that milliseconds fit in
 * 31 bits). Named as netfilter's sysctls nf_conntrack_<proto>_timeout_<x>;
 * the defaults are netfilter's.
 */
struct rp_ct_timeout_conf {
	uint32_t tcp_syn_sent;       /**< default 120 */
	uint32_t tcp_syn_recv;       /**< default 60 */
	uint32_t tcp_established;    /**< default 432000 (5 days) */
	uint32_t tcp_fin_wait;       /**< default 120 */
	uint32_t tcp_close_wait;     /**< default 60 */
	uint32_t tcp_last_ack;       /**< default 30 */
	uint32_t tcp_time_wait;      /**< default 120 */
	uint32_t tcp_close;          /**< default 10 */
	uint32_t tcp_syn_sent2;      /**< default 120 */
	uint32_t tcp_max_retrans;    /**< default 300 */
	uint32_t tcp_unacknowledged; /**< default 300 */
	uint32_t udp;                /**< nf_conntrack_udp_timeout; default 30 */
	uint32_t udp_stream;         /**< nf_conntrack_udp_timeout_stream; default 120 */
	uint32_t icmp;               /**< default 30 */
	uint32_t generic;            /**< default 600 */
};

/** conntrack.frag: reassembly before conntrack, one table per worker. */
struct rp_ct_frag_conf {
	uint32_t max_datagrams; /**< datagrams in reassembly per worker, 16..1048576; default 4096 */
	uint32_t timeout_ms;    /**< give up on a datagram after, 100..600000; default 30000 (ipfrag_time) */
};

/** The `conntrack` section; defaults (netfilter's where it has one) when absent. */
struct rp_ct_config {
	uint32_t max;       /**< connections for the whole box, 1024..67108864; default 262144 */
	int tcp_loose;      /**< nf_conntrack_tcp_loose; default 1 */
	int checksum;       /**< nf_conntrack_checksum: bad L4 checksum -> INVALID; default 1 */
	unsigned helpers;   /**< enum rp_ct_helper bits; default none */
	uint16_t ftp_ports[RP_CT_FTP_PORTS_MAX]; /**< control ports of the FTP helper; default 21 */
	unsigned n_ftp_ports;                    /**< 1..RP_CT_FTP_PORTS_MAX */
	uint32_t expect_max; /**< expectations per master connection, 1..64; default 4 */
	struct rp_ct_frag_conf frag;
	struct rp_ct_timeout_conf timeouts;
};

/** filter.policy values: plain numbers, so that config does not depend on lib/filter. */
enum rp_filter_policy_conf {
	RP_POLICY_UNSET = 0, /**< not given in filter.policy */
	RP_POLICY_ACCEPT,
	RP_POLICY_DROP,
};

#define RP_FILTER_POLICY_CHAINS 3 /**< filter.policy keys: input, forward, output */

/**
 * The `filter` section, kept as written: lib/filter parses the rules
 * (rp_filter_source_from_config), so that a rule error is reported the same
 * way at start and on reload.
 */
struct rp_filter_conf {
	uint8_t policy[RP_FILTER_POLICY_CHAINS]; /**< enum rp_filter_policy_conf: input, forward, output */
	int policy_line[RP_FILTER_POLICY_CHAINS];
	char **rules;        /**< rule strings (iptables command tails), NULL when absent */
	int *rule_lines;     /**< the config line of each */
	unsigned n_rules;
	char *rules_file;    /**< resolved against the config file's directory; NULL when absent */
	int rules_file_line;
	int revalidate;      /**< filter.revalidate; default 0 (netfilter's behaviour) */
	int line;            /**< of the section; 0 when there is none */
};

/**
 * The `host` section: the kernel interface that gives the appliance its own
 * stack (sshd, a web UI, a routing daemon) behind INPUT and OUTPUT. All zero
 * when the section is absent: the built-in responders (ICMP echo) answer then.
 */
struct rp_host_conf {
	int present;                 /**< 1 when the file has a `host` section */
	char interface[RP_NAME_MAX]; /**< kernel interface name; default "rampart0" */
	char device[RP_NAME_MAX];    /**< exception-path driver: "net_tap" (the default and only one) */
	uint16_t mtu;                /**< the interface's MTU, 68..9600; default 1500 */
	int line;                    /**< of the section; 0 when there is none */
};

struct rp_config {
	char path[RP_PATH_MAX];

	char **eal_args;     /**< from `eal = [...]`, NULL if absent */
	unsigned n_eal_args;

	struct rp_port_conf ports[RP_MAX_PORTS];
	unsigned n_ports;

	struct rp_route_conf *routes;
	unsigned n_routes;

	struct rp_neigh_conf *neighbours;
	unsigned n_neighbours;

	struct rp_workers_conf workers;
	struct rp_neigh_timing neigh;
	struct rp_icmp_conf icmp;

	char control_socket[RP_PATH_MAX]; /**< `control.socket`; default /run/rampart/rampart.sock */

	struct rp_ct_config conntrack;

	struct rp_filter_conf filter;

	struct rp_host_conf host;
};

/**
 * Load and validate @p path into @p cfg (which the call initialises).
 * Errors and warnings go to @p err, one per line, as
 * "FILE:LINE: SETTING: problem" (warnings say "warning:").
 *
 * @return the number of errors (0: @p cfg is valid and must be released with
 *         rp_config_free; >0: @p cfg was released already).
 */
int rp_config_load(const char *path, struct rp_config *cfg, FILE *err);

/**
 * Check that every worker lcore is one EAL enabled and not the main lcore.
 * @param lcore_ok returns non-zero if the lcore may run a worker
 * @return the number of errors, reported like rp_config_load's.
 */
int rp_config_check_lcores(const struct rp_config *cfg, int (*lcore_ok)(unsigned lcore),
			   FILE *err);

/** Release what rp_config_load allocated. */
void rp_config_free(struct rp_config *cfg);

/** Index of the port named @p name, or -1. */
int rp_config_port_index(const struct rp_config *cfg, const char *name);

/** Parse "a.b.c.d/len" (len optional: /32). @return 0 or -1. */
int rp_prefix_parse(const char *s, struct rp_prefix *p);

/** Parse "a.b.c.d" into host order. @return 0 or -1. */
int rp_ipv4_parse(const char *s, uint32_t *addr);

/** Format a host-order address into @p buf (at least 16 bytes). */
const char *rp_ipv4_fmt(uint32_t addr, char *buf);

/**
 * Capacity of one worker's conntrack table: conntrack.max shared among the
 * workers, rounded up so that the box holds at least conntrack.max.
 */
static inline uint32_t
rp_config_ct_worker_max(const struct rp_config *cfg)
{
	unsigned workers = cfg->workers.n_lcores > 0 ? cfg->workers.n_lcores : 1;

	return (uint32_t)(((uint64_t)cfg->conntrack.max + workers - 1) / workers);
}

/** Netmask of a prefix length, host order. */
static inline uint32_t
rp_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

#endif /* RAMPART_CONFIG_H */
