/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_APP_PORT_H
#define RAMPART_APP_PORT_H

/* Port bring-up for the daemon (control thread only). */

#include "rampart_config.h"
#include "rampart_datapath.h"

/** The ethdev name a device string probes as ("net_af_packet0", "0000:03:00.0"). */
void rp_port_dev_name(const char *device, char *name, size_t size);

/** True if the device string is a PCI address (else a vdev). */
int rp_port_is_pci(const char *device);

/**
 * Configure and start every configured port: queues (one RX and one TX per
 * worker), symmetric RSS where the device has RSS, RX IPv4 checksum offload
 * where offered, MTU, MAC. Fills dp->ports.
 * @return 0, or -1 after logging what failed.
 */
int rp_ports_start(struct rp_dp *dp, const struct rp_config *cfg);

/** Poll link states; log and publish changes. @p initial logs every port. */
void rp_ports_check_links(struct rp_dp *dp, int initial);

/** Stop and close every started port. */
void rp_ports_stop(struct rp_dp *dp);

#endif
