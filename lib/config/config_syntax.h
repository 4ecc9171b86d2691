/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CONFIG_SYNTAX_H
#define RAMPART_CONFIG_SYNTAX_H

/*
 * Private to lib/config: string syntaxes of the config file (prefixes, MAC
 * addresses, device strings), checked without DPDK. Each parser says why a
 * string is wrong, so that the loader's message can name the problem.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart_config.h"

enum rp_prefix_status {
	RP_PREFIX_OK,
	RP_PREFIX_BAD_SYNTAX, /**< not a.b.c.d[/len] */
	RP_PREFIX_BAD_LEN,    /**< /len present but not 0..32 */
};

/** rp_prefix_parse() that tells a bad length from bad syntax. */
enum rp_prefix_status rp_prefix_parse_status(const char *s, struct rp_prefix *p);

/** Parse "xx:xx:xx:xx:xx:xx" (hex, either case). @return 0 or -1. */
int rp_mac_parse(const char *s, uint8_t mac[6]);

/** What a device string names, as far as its syntax tells. */
struct rp_device_id {
	bool is_pci;
	uint32_t pci_domain;
	uint8_t pci_bus, pci_dev, pci_func;
	char vdev_name[RP_DEVICE_MAX]; /**< "net_af_packet0": the part before ',' */
	bool is_af_packet;
	unsigned qpairs; /**< af_packet's qpairs argument, 1 when absent */
};

/**
 * Check the syntax of a device string: a PCI address (DDDD:BB:DD.F or
 * BB:DD.F) or a vdev name (net_<driver><N>, legacy eth_<driver><N>), either
 * followed by ",key=value" arguments.
 * @param why on failure, receives the problem (without the value)
 * @return 0 or -1
 */
int rp_device_parse(const char *s, struct rp_device_id *id, char *why, size_t why_len);

/** Non-zero if two parsed devices name the same device. */
bool rp_device_same(const struct rp_device_id *a, const struct rp_device_id *b);

#endif /* RAMPART_CONFIG_SYNTAX_H */
