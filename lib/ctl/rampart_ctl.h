/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_CTL_H
#define RAMPART_CTL_H

/**
 * @file
 * The control plane's windows: rte_telemetry endpoints under /rampart/
 * (counters and short summaries; a telemetry reply is capped at 16 KB) and
 * the unix control socket that rampartctl talks to (long listings, paging,
 * and later the commands that change state).
 *
 * Both run off the workers: telemetry callbacks on DPDK's telemetry thread,
 * the socket on the control thread (rp_ctl_poll). Counters are read with
 * relaxed loads; the neighbour table, which only the control thread writes,
 * is read under rp_ctl.lock, which the control thread holds while it
 * changes the table. No worker ever takes that lock.
 *
 * Socket protocol: the client sends one line, `COMMAND [json] [offset=N]
 * [limit=N] [proto=N src=A dst=A sport=N dport=N state=S]`; the server
 * answers with the output and closes. Commands: status, stats, routes,
 * neighbours, conntrack, conntrack-delete, conntrack-flush, rules [save]
 * [zero], reload. Conntrack
 * requests go to the workers' mailboxes (the control thread waits, the
 * workers never do).
 */

#include <pthread.h>
#include <stdint.h>

#include "rampart_datapath.h"

struct rp_ctl {
	struct rp_dp *dp;
	pthread_mutex_t lock; /**< guards the neighbour table against readers */
	pthread_mutex_t ct_lock; /**< one conntrack mailbox request at a time (telemetry vs socket) */
	int listen_fd;
	char socket_path[RP_PATH_MAX];
	uint64_t start_tsc;
	const char *version;
	/** `reload`: re-read the filter section; writes "generation N" or the errors; 0 or -1 */
	int (*reload)(void *arg, FILE *out);
	void *reload_arg;
	pthread_mutex_t filter_lock; /**< held while the ruleset is swapped; telemetry reads under it */
};

/**
 * Register the telemetry endpoints and open the control socket (mode 0600,
 * its directory created 0700 if missing; a stale socket is replaced).
 * @return 0 or -errno (message logged).
 */
int rp_ctl_init(struct rp_ctl *ctl, struct rp_dp *dp, const char *socket_path);

/** Serve pending control socket clients without blocking for new ones. */
void rp_ctl_poll(struct rp_ctl *ctl);

/** Close and unlink the control socket. */
void rp_ctl_close(struct rp_ctl *ctl);

/**
 * Render the answer to one request line into @p out (a stream the caller
 * owns). Exposed for tests. @return 0, or -EINVAL for an unknown command.
 */
int rp_ctl_answer(struct rp_ctl *ctl, const char *request, FILE *out);

/** Print the final counters (at shutdown) in the `stats` text format. */
void rp_ctl_print_stats(struct rp_ctl *ctl, FILE *out);

#endif /* RAMPART_CTL_H */
