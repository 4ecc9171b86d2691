/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's share of the datapath: ARP (learning and answering),
 * packets held for unresolved next hops, and the setup of what workers
 * share. Runs on the main lcore only; it may take its time but never blocks
 * a worker: everything it sends goes through a worker's inbox ring.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "rampart_datapath.h"

#define CTL_BURST 64

static void
ctl_drop(struct rp_dp *dp, struct rte_mbuf *m, enum rp_drop reason)
{
	dp->ctl_stats.drops[reason]++;
	rte_pktmbuf_free(m);
}

/* Give a message to worker 0, which transmits or routes it. */
static void
to_worker(struct rp_dp *dp, struct rte_mbuf *m, enum rp_msg_kind kind)
{
	rp_meta(m)->kind = kind;
	if (rte_ring_mp_enqueue(dp->workers[0]->inbox, m) != 0)
		ctl_drop(dp, m, RP_DROP_CTL_RING_FULL);
}

/* ---- neighbour ops --------------------------------------------------------- */

static void
ops_send_request(void *arg, uint8_t port, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct rp_dp *dp = arg;
	uint32_t src = rp_dp_port_src_addr(dp, port, ip);
	struct rte_mbuf *m = rp_arp_request(dp->pool, &dp->ports[port].mac, src, ip, mac);

	if (m == NULL) {
		dp->ctl_stats.drops[RP_DROP_NO_MBUF]++;
		return;
	}
	rp_meta(m)->out_port = port;
	to_worker(dp, m, RP_MSG_TX);
}

static void
ops_release(void *arg, struct rte_mbuf *m, uint64_t l2)
{
	struct rp_dp *dp = arg;
	uint8_t port = rp_l2_port(l2);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rp_l2_mac(l2, &eth->dst_addr);
	rte_ether_addr_copy(&dp->ports[port].mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	rp_meta(m)->out_port = port;
	to_worker(dp, m, RP_MSG_TX);
}

/* As Linux does when a neighbour fails: host unreachable back to the sender. */
static void
ops_drop(void *arg, struct rte_mbuf *m, enum rp_drop reason)
{
	struct rp_dp *dp = arg;
	struct rp_meta *md = rp_meta(m);

	md->kind = RP_PKT_IPV4; /* it travelled as RP_MSG_HOLD */
	if (reason == RP_DROP_NEIGH_UNRESOLVED && !(md->flags & RP_F_LOCAL_OUT) &&
	    rp_icmp_error_allowed(m)) {
		if (!rp_icmp_bucket_take(&dp->ctl_icmp, rte_rdtsc())) {
			dp->ctl_stats.events[RP_EV_ICMP_ERR_RATELIMITED]++;
		} else {
			/* the quoted header must be as received: undo our TTL decrement */
			struct rte_ipv4_hdr *ip = rp_ip(m);
			rte_be16_t old = *(rte_be16_t *)&ip->time_to_live;
			ip->time_to_live++;
			ip->hdr_checksum = rp_cksum_update16(ip->hdr_checksum, old,
							     *(rte_be16_t *)&ip->time_to_live);
			uint32_t src = rp_dp_port_src_addr(dp, md->in_port, md->src);
			struct rte_mbuf *e = rp_icmp_error(dp->pool, m, RP_ICMP_DEST_UNREACH,
							   RP_ICMP_UNREACH_HOST, 0, src);
			if (e == NULL) {
				dp->ctl_stats.drops[RP_DROP_NO_MBUF]++;
			} else {
				dp->ctl_stats.events[RP_EV_ICMP_ERR_SENT]++;
				/* RELATED to what it is about, for the OUTPUT chain */
				rp_pkt_parse_l4(e, 0);
				rp_meta(e)->ct_state = RP_CT_RELATED;
				rp_meta(e)->ct_idx = RP_CT_NO_ENTRY;
				to_worker(dp, e, RP_MSG_ROUTE);
			}
		}
	}
	ctl_drop(dp, m, reason);
}

void
rp_slowpath_neigh_ops(struct rp_dp *dp, struct rp_neigh_ops *ops)
{
	ops->send_request = ops_send_request;
	ops->release = ops_release;
	ops->drop = ops_drop;
	ops->arg = dp;
}

/* ---- ARP ------------------------------------------------------------------- */

static int
port_has_addr(const struct rp_port *p, uint32_t a)
{
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (p->addrs[i] == a)
			return 1;
	return 0;
}

static int
is_our_addr(const struct rp_dp *dp, uint32_t a)
{
	for (unsigned i = 0; i < dp->n_local; i++)
		if (dp->local_addrs[i] == a)
			return 1;
	return 0;
}

/*
 * Learn and answer as Linux's arp_process does, with one deliberate
 * difference: we answer only for addresses of the port the request came in
 * on (Linux's arp_ignore=1), as a router appliance should.
 */
static void
handle_arp(struct rp_dp *dp, struct rte_mbuf *m, uint64_t now_ms)
{
	struct rp_meta *md = rp_meta(m);
	const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, md->l3_off);
	const struct rp_port *p = &dp->ports[md->in_port];
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
	uint32_t sip = md->src, tip = md->dst;
	struct rte_ether_addr sha = arp->arp_data.arp_sha;

	/* sender 0.0.0.0 is an address probe (RFC 5227): answered, never learnt */
	if (rte_is_multicast_ether_addr(&sha) || rte_is_zero_ether_addr(&sha) ||
	    (sip != 0 && (rp_ipv4_martian_src(sip) || is_our_addr(dp, sip)))) {
		ctl_drop(dp, m, RP_DROP_ARP_BAD_SENDER);
		return;
	}
	if (op == RTE_ARP_OP_REQUEST && port_has_addr(p, tip)) {
		if (sip != 0)
			rp_neigh_learn(dp->neigh, sip, &sha, md->in_port, RP_ARP_REQUEST_FOR_US, now_ms);
		rp_arp_reply_inplace(m, &p->mac);
		md->out_port = md->in_port;
		to_worker(dp, m, RP_MSG_TX);
		return;
	}
	if (sip != 0)
		rp_neigh_learn(dp->neigh, sip, &sha, md->in_port,
			       op == RTE_ARP_OP_REPLY && sip != tip ? RP_ARP_REPLY : RP_ARP_OTHER,
			       now_ms);
	rte_pktmbuf_free(m);
}

unsigned
rp_slowpath_poll(struct rp_dp *dp, uint64_t now_ms)
{
	struct rte_mbuf *msgs[CTL_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(dp->to_ctl, (void **)msgs, CTL_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = msgs[i];
		struct rp_meta *md = rp_meta(m);
		if (md->kind == RP_MSG_HOLD)
			rp_neigh_hold(dp->neigh, md->nexthop, md->out_port, m, now_ms);
		else
			handle_arp(dp, m, now_ms);
	}
	rp_neigh_tick(dp->neigh, now_ms);
	return n;
}

/* ---- setup ----------------------------------------------------------------- */

static void
bucket_init(struct rp_icmp_bucket *b, unsigned rate, unsigned burst)
{
	b->cost = rate ? rte_get_tsc_hz() / rate : 0;
	b->cap = b->cost * burst;
	b->credit = b->cap;
	b->last_tsc = rte_rdtsc();
}

void
rp_dp_ct_conf(const struct rp_config *cfg, struct rp_ct_conf *c)
{
	const struct rp_ct_timeout_conf *t = &cfg->conntrack.timeouts;

	rp_ct_default_conf(c);
	c->max = rp_config_ct_worker_max(cfg);
	c->tcp_loose = cfg->conntrack.tcp_loose;
	c->checksum = cfg->conntrack.checksum;
	/* a zero (a config built by hand, as tests do) keeps netfilter's default */
#define TIMEOUT(dst, src) do { if (t->src) c->timeouts.dst = t->src; } while (0)
	TIMEOUT(tcp.state[RP_TCP_SYN_SENT], tcp_syn_sent);
	TIMEOUT(tcp.state[RP_TCP_SYN_RECV], tcp_syn_recv);
	TIMEOUT(tcp.state[RP_TCP_ESTABLISHED], tcp_established);
	TIMEOUT(tcp.state[RP_TCP_FIN_WAIT], tcp_fin_wait);
	TIMEOUT(tcp.state[RP_TCP_CLOSE_WAIT], tcp_close_wait);
	TIMEOUT(tcp.state[RP_TCP_LAST_ACK], tcp_last_ack);
	TIMEOUT(tcp.state[RP_TCP_TIME_WAIT], tcp_time_wait);
	TIMEOUT(tcp.state[RP_TCP_CLOSE], tcp_close);
	TIMEOUT(tcp.state[RP_TCP_SYN_SENT2], tcp_syn_sent2);
	TIMEOUT(tcp.max_retrans, tcp_max_retrans);
	TIMEOUT(tcp.unacknowledged, tcp_unacknowledged);
	TIMEOUT(udp, udp);
	TIMEOUT(udp_stream, udp_stream);
	TIMEOUT(icmp, icmp);
	TIMEOUT(generic, generic);
#undef TIMEOUT
	/* helpers: the config's bits are conntrack's (asserted below) */
	c->helpers = cfg->conntrack.helpers & RP_CT_HELPER_BIT(RP_CT_HELPER_ID_FTP);
	if (cfg->conntrack.n_ftp_ports > 0) {
		c->n_ftp_ports = RTE_MIN(cfg->conntrack.n_ftp_ports, (unsigned)RP_CT_FTP_PORTS);
		memcpy(c->ftp_ports, cfg->conntrack.ftp_ports, c->n_ftp_ports * sizeof(c->ftp_ports[0]));
	}
	if (cfg->conntrack.expect_max)
		c->expect_max = RTE_MIN(cfg->conntrack.expect_max, (uint32_t)RP_CT_EXPECT_MAX);
}

_Static_assert(RP_CT_HELPER_FTP == RP_CT_HELPER_BIT(RP_CT_HELPER_ID_FTP),
	       "config and conntrack agree on the FTP helper's bit");
_Static_assert(RP_CT_FTP_PORTS_MAX == RP_CT_FTP_PORTS, "conntrack.ftp_ports fits rp_ct_conf");

int
rp_dp_init_workers(struct rp_dp *dp, const struct rp_config *cfg)
{
	char name[RTE_RING_NAMESIZE];
	int socket = (int)rte_socket_id();
	struct rp_ct_conf ct_conf;
	size_t qs_size;

	dp->n_workers = cfg->workers.n_lcores;
	dp->host_port = -1; /* the daemon sets it when it starts a host interface */
	dp->burst = cfg->workers.burst;
	dp->idle_sleep_us = cfg->workers.idle_sleep_us;
	dp->tsc_per_ms = rte_get_tsc_hz() / 1000;
	dp->ct_checksum = cfg->conntrack.checksum;
	bucket_init(&dp->ctl_icmp, cfg->icmp.ratelimit_pps, cfg->icmp.burst);

	dp->to_ctl = rte_ring_create("rp_to_ctl", RP_RING_SIZE, socket, RING_F_SC_DEQ);
	if (dp->to_ctl == NULL)
		goto fail;
	dp->log_ring = rte_ring_create_elem("rp_log", RP_LOG_LINE_MAX, RP_LOG_RING_SIZE, socket,
					    RING_F_SC_DEQ);
	if (dp->log_ring == NULL)
		goto fail;
	rp_dp_ct_conf(cfg, &ct_conf);
	qs_size = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->qsv = rte_zmalloc_socket("rp_qsbr", qs_size, RTE_CACHE_LINE_SIZE, socket);
	if (dp->qsv == NULL || rte_rcu_qsbr_init(dp->qsv, dp->n_workers) != 0)
		goto fail;

	for (unsigned i = 0; i < dp->n_workers; i++) {
		unsigned lcore = cfg->workers.lcores[i];
		int wsock = (int)rte_lcore_to_socket_id(lcore);
		struct rp_worker *w = rte_zmalloc_socket("rp_worker", sizeof(*w),
							 RTE_CACHE_LINE_SIZE, wsock);
		if (w == NULL)
			goto fail;
		dp->workers[i] = w;
		w->dp = dp;
		w->id = i;
		w->lcore = lcore;
		bucket_init(&w->icmp, cfg->icmp.ratelimit_pps, cfg->icmp.burst);
		bucket_init(&w->log_bucket, RP_LOG_RATE, RP_LOG_BURST);
		snprintf(name, sizeof(name), "rp_inbox_%u", i);
		w->inbox = rte_ring_create(name, RP_RING_SIZE, wsock, RING_F_SC_DEQ);
		if (w->inbox == NULL)
			goto fail;
		snprintf(name, sizeof(name), "rp_handoff_%u", i);
		w->handoff = rte_ring_create(name, RP_RING_SIZE, wsock, RING_F_SC_DEQ);
		if (w->handoff == NULL)
			goto fail;
		snprintf(name, sizeof(name), "rp_ct_%u", i);
		w->ct = rp_ct_create(name, &ct_conf, dp->qsv, wsock);
		if (w->ct == NULL)
			goto fail;
		w->reasm = rp_reasm_create(cfg->conntrack.frag.max_datagrams,
					   cfg->conntrack.frag.timeout_ms, wsock);
		if (w->reasm == NULL)
			goto fail;
	}
	return 0;
fail:
	{
		int err = rte_errno ? rte_errno : ENOMEM;
		rp_dp_free_workers(dp);
		return -err;
	}
}

void
rp_dp_free_workers(struct rp_dp *dp)
{
	for (unsigned i = 0; i < RP_MAX_WORKERS; i++) {
		struct rp_worker *w = dp->workers[i];
		if (w == NULL)
			continue;
		struct rte_ring *rings[2] = {w->inbox, w->handoff};
		for (unsigned r = 0; r < 2; r++) {
			struct rte_mbuf *m;
			if (rings[r] == NULL)
				continue;
			while (rte_ring_dequeue(rings[r], (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(rings[r]);
		}
		if (w->ct)
			rp_ct_free(w->ct);
		if (w->reasm)
			rp_reasm_free(w->reasm);
		for (unsigned p = 0; p < RP_MAX_PORTS; p++)
			if (w->txq[p].n)
				rte_pktmbuf_free_bulk(w->txq[p].pkts, w->txq[p].n);
		rte_free(w);
		dp->workers[i] = NULL;
	}
	if (dp->to_ctl) {
		struct rte_mbuf *m;
		while (rte_ring_dequeue(dp->to_ctl, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dp->to_ctl);
		dp->to_ctl = NULL;
	}
	rte_ring_free(dp->log_ring);
	dp->log_ring = NULL;
	rp_filter_live_free(dp->filter);
	dp->filter = NULL;
	rte_free(dp->qsv);
	dp->qsv = NULL;
}

/* ---- rulesets -------------------------------------------------------------- */

void
rp_filter_live_free(struct rp_filter_live *live)
{
	if (live == NULL)
		return;
	for (unsigned i = 0; i < RP_MAX_WORKERS; i++)
		rp_filter_worker_free(live->fw[i]);
	rp_ruleset_free(live->rs);
	free(live->zero_pkts);
	free(live->zero_bytes);
	free(live);
}

void
rp_dp_filter_publish(struct rp_dp *dp, struct rp_filter_live *live)
{
	struct rp_filter_live *old = dp->filter;

	__atomic_store_n(&dp->filter, live, __ATOMIC_RELEASE);
	/* every worker has finished the burst that may have read the old one
	 * (sleeping workers are offline and do not hold it) */
	if (dp->qsv)
		rte_rcu_qsbr_synchronize(dp->qsv, RTE_QSBR_THRID_INVALID);
	rp_filter_live_free(old);
}

int
rp_dp_reval_wait(const struct rp_dp *dp, uint64_t generation, unsigned timeout_ms,
		 unsigned *lagging)
{
	for (unsigned waited = 0;; waited++) {
		unsigned i;
		for (i = 0; i < dp->n_workers; i++) {
			uint64_t done = __atomic_load_n(&dp->workers[i]->reval_done, __ATOMIC_ACQUIRE);
			if (done < generation)
				break;
		}
		if (i == dp->n_workers)
			return 0;
		if (waited >= timeout_ms) {
			if (lagging)
				*lagging = i;
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(1000);
	}
}

unsigned
rp_dp_drain_log(struct rp_dp *dp, FILE *out)
{
	char line[RP_LOG_LINE_MAX];
	unsigned n = 0;

	while (dp->log_ring && rte_ring_sc_dequeue_elem(dp->log_ring, line, sizeof(line)) == 0) {
		line[sizeof(line) - 1] = '\0';
		fprintf(out, "%s\n", line);
		n++;
	}
	if (n)
		fflush(out);
	return n;
}

void
rp_dp_index_local(struct rp_dp *dp)
{
	dp->n_local = 0;
	for (unsigned p = 0; p < dp->n_ports; p++)
		for (unsigned a = 0; a < dp->ports[p].n_addrs; a++)
			dp->local_addrs[dp->n_local++] = dp->ports[p].addrs[a];
}

void
rp_dp_sum_stats(const struct rp_dp *dp, struct rp_worker_stats *sum)
{
	const struct rp_worker_stats *all[RP_MAX_WORKERS + 1];
	unsigned n = 0;

	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i])
			all[n++] = &dp->workers[i]->stats;
	all[n++] = &dp->ctl_stats;
	for (unsigned k = 0; k < n; k++) {
		const struct rp_worker_stats *s = all[k];
		for (unsigned r = 0; r < RP_DROP_MAX; r++)
			sum->drops[r] += rp_read_counter(&s->drops[r]);
		for (unsigned e = 0; e < RP_EV_MAX; e++)
			sum->events[e] += rp_read_counter(&s->events[e]);
		sum->loops += rp_read_counter(&s->loops);
		sum->busy_loops += rp_read_counter(&s->busy_loops);
		for (unsigned p = 0; p < RP_MAX_PORTS; p++) {
			sum->port[p].rx_pkts += rp_read_counter(&s->port[p].rx_pkts);
			sum->port[p].rx_bytes += rp_read_counter(&s->port[p].rx_bytes);
			sum->port[p].tx_pkts += rp_read_counter(&s->port[p].tx_pkts);
			sum->port[p].tx_bytes += rp_read_counter(&s->port[p].tx_bytes);
		}
	}
}
