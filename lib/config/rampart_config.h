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

/** Netmask of a prefix length, host order. */
static inline uint32_t
rp_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

#endif /* RAMPART_CONFIG_H */
