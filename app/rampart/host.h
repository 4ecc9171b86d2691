/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_APP_HOST_H
#define RAMPART_APP_HOST_H

/*
 * The host interface: a kernel network interface (net_tap) through which
 * the appliance's own services send and receive, behind Rampart's INPUT and
 * OUTPUT chains. Rampart owns its configuration: the kernel side gets the
 * ports' addresses (so daemons can bind them) and routes for the connected
 * subnets and the configured routes, all through the interface. Rampart
 * answers the kernel's ARP itself (any address -> its own end of the TAP),
 * so the TAP's MAC never reaches a wire.
 */

#include "rampart_config.h"
#include "rampart_datapath.h"

/** The vdev string of the host port ("net_tap0,iface=rampart0"). */
void rp_host_device(const struct rp_config *cfg, char *buf, size_t len);

/**
 * Configure the kernel side of the started host port: up, MTU, IPv6 off,
 * the ports' addresses, the routes; read its MAC into dp->host_kernel_mac.
 * @return 0, or -1 after logging the command that failed.
 */
int rp_host_configure(struct rp_dp *dp, const struct rp_config *cfg);

#endif
