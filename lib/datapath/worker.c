/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: runs on worker lcores only. No locks, no syscalls (but
 * the optional idle sleep), no malloc: mbufs come from the mempool.
 */
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "rampart_datapath.h"

#define PREFETCH_AHEAD 3
#define FRAGS_MAX 128      /* covers a 64 KiB datagram at an MTU of 576 or more; beyond: frag_failed */
#define IDLE_SPIN_LOOPS 64 /* empty polls before an idle worker starts sleeping */

int
rp_icmp_bucket_take(struct rp_icmp_bucket *b, uint64_t now_tsc)
{
	if (b->cost == 0)
		return 1;
	b->credit += now_tsc - b->last_tsc;
	b->last_tsc = now_tsc;
	if (b->credit > b->cap)
		b->credit = b->cap;
	if (b->credit < b->cost)
		return 0;
	b->credit -= b->cost;
	return 1;
}

static inline int
is_local_addr(const struct rp_dp *dp, uint32_t a)
{
	for (unsigned i = 0; i < dp->n_local; i++)
		if (dp->local_addrs[i] == a)
			return 1;
	return 0;
}

uint32_t
rp_dp_port_src_addr(const struct rp_dp *dp, uint8_t port, uint32_t dst)
{
	const struct rp_port *p = &dp->ports[port];
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (((p->addrs[i] ^ dst) & rp_prefix_mask(p->lens[i])) == 0)
			return p->addrs[i];
	return p->n_addrs ? p->addrs[0] : 0;
}

static inline void
drop(struct rp_worker *w, struct rte_mbuf *m, enum rp_drop reason)
{
	w->stats.drops[reason]++;
	rte_pktmbuf_free(m);
}

/* ---- TX ------------------------------------------------------------------ */

static void
txq_flush(struct rp_worker *w, uint8_t port)
{
	struct rp_txq *q = &w->txq[port];
	struct rp_port *p = &w->dp->ports[port];
	uint16_t n = q->n, sent;
	uint64_t bytes = 0;

	if (n == 0)
		return;
	q->n = 0;
	if (unlikely(!__atomic_load_n(&p->link_up, __ATOMIC_RELAXED))) {
		w->stats.drops[RP_DROP_LINK_DOWN] += n;
		rte_pktmbuf_free_bulk(q->pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++)
		bytes += q->pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(p->port_id, w->id, q->pkts, n);
	if (unlikely(sent < n)) {
		for (uint16_t i = sent; i < n; i++)
			bytes -= q->pkts[i]->pkt_len;
		w->stats.drops[RP_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&q->pkts[sent], n - sent);
	}
	w->stats.port[port].tx_pkts += sent;
	w->stats.port[port].tx_bytes += bytes;
}

void
rp_worker_flush(struct rp_worker *w)
{
	for (unsigned p = 0; p < w->dp->n_ports; p++)
		txq_flush(w, (uint8_t)p);
}

static inline void
tx(struct rp_worker *w, uint8_t port, struct rte_mbuf *m)
{
	struct rp_txq *q = &w->txq[port];
	q->pkts[q->n++] = m;
	if (unlikely(q->n == RP_TXQ_SIZE))
		txq_flush(w, port);
}

/* Write the Ethernet header of an IPv4 frame whose l3_off is 14. */
static inline void
set_l2(struct rte_mbuf *m, uint64_t l2, const struct rte_ether_addr *src)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rp_l2_mac(l2, &eth->dst_addr);
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

/* Hand a packet to the control thread to wait for ARP. */
static inline void
hold(struct rp_worker *w, struct rte_mbuf *m, uint32_t nexthop, uint8_t port)
{
	struct rp_meta *md = rp_meta(m);
	md->kind = RP_MSG_HOLD;
	md->nexthop = nexthop;
	md->out_port = port;
	if (unlikely(rte_ring_mp_enqueue(w->dp->to_ctl, m) != 0)) {
		drop(w, m, RP_DROP_CTL_RING_FULL);
		return;
	}
	w->stats.events[RP_EV_NEIGH_HELD]++;
}

/* Send one IPv4 packet (Ethernet room at its start) to nexthop on port. */
static void
send_one(struct rp_worker *w, struct rte_mbuf *m, uint32_t nexthop, uint8_t port)
{
	uint64_t l2;
	rp_neigh_lookup_bulk(w->dp->neigh, w->id, &nexthop, &l2, 1);
	if ((l2 & RP_L2_VALID) && rp_l2_port(l2) == port) {
		set_l2(m, l2, &w->dp->ports[port].mac);
		tx(w, port, m);
	} else {
		hold(w, m, nexthop, port);
	}
}

/*
 * Fragment a datagram (DF clear) larger than the egress MTU, and send each
 * fragment. The input may be a reassembled chain; the fragments are
 * single-segment copies with room for the Ethernet header, so every PMD can
 * send them. The original is freed.
 */
static void
fragment_and_send(struct rp_worker *w, struct rte_mbuf *m, uint32_t nexthop, uint8_t port,
		  uint16_t mtu)
{
	struct rte_mbuf *frags[FRAGS_MAX];
	int n = rp_pkt_fragment(m, mtu, w->dp->pool, frags, FRAGS_MAX);

	rte_pktmbuf_free(m);
	if (n < 0) {
		w->stats.drops[RP_DROP_FRAG_FAILED]++;
		return;
	}
	w->stats.events[RP_EV_FRAGMENTED]++;
	w->stats.events[RP_EV_FRAGS_OUT] += (uint64_t)n;
	for (int i = 0; i < n; i++)
		send_one(w, frags[i], nexthop, port);
}

/* Deliver a packet for one of our addresses to the kernel, through the host interface. */
static void
to_host(struct rp_worker *w, struct rte_mbuf *m)
{
	struct rp_dp *dp = w->dp;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	eth->dst_addr = dp->host_kernel_mac;
	eth->src_addr = dp->ports[dp->host_port].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	w->stats.events[RP_EV_HOST_IN]++;
	tx(w, (uint8_t)dp->host_port, m);
}

static unsigned filter_chain(struct rp_worker *w, struct rp_filter_live *fl, enum rp_chain_id chain,
			     struct rte_mbuf **pkts, unsigned n);

void
rp_worker_output(struct rp_worker *w, struct rte_mbuf *m)
{
	struct rp_dp *dp = w->dp;
	struct rp_meta *md = rp_meta(m);
	uint64_t nh;
	uint8_t port;

	rp_fib_lookup_bulk(dp->fib, &md->dst, &nh, 1);
	switch (rp_nh_type(nh)) {
	case RP_RT_DIRECT:
	case RP_RT_GATEWAY:
		break;
	case RP_RT_NONE:
		drop(w, m, RP_DROP_NO_ROUTE);
		return;
	case RP_RT_LOCAL:
		/* an error about a packet the kernel sent: back to the kernel */
		if (dp->host_port >= 0) {
			to_host(w, m);
			return;
		}
		/* fall through */
	default: /* a broadcast: nothing to send */
		drop(w, m, RP_DROP_BROADCAST);
		return;
	}
	port = rp_nh_port(nh);
	uint32_t nexthop = rp_nh_type(nh) == RP_RT_GATEWAY ? rp_nh_gw(nh) : md->dst;
	md->out_port = port;
	/* what the appliance sends traverses OUTPUT, as in netfilter */
	struct rp_filter_live *fl = __atomic_load_n(&dp->filter, __ATOMIC_ACQUIRE);
	if (fl) {
		md->in_port = 0xff;
		if (filter_chain(w, fl, RP_CHAIN_OUTPUT, &m, 1) == 0)
			return;
	}
	if (unlikely(md->ip_len > w->dp->ports[port].mtu))
		fragment_and_send(w, m, nexthop, port, w->dp->ports[port].mtu);
	else
		send_one(w, m, nexthop, port);
}

/* ---- ICMP errors and local delivery ---------------------------------------- */

/* A packet the appliance makes about another (ICMP error, RST) is RELATED to that
 * packet's connection, as netfilter attaches it (nf_ct_attach). */
static inline void
generated_related(struct rte_mbuf *e)
{
	struct rp_meta *md = rp_meta(e);
	rp_pkt_parse_l4(e, 0);
	md->ct_state = RP_CT_RELATED;
	md->ct_idx = RP_CT_NO_ENTRY;
	md->in_port = 0xff;
}

/*
 * Answer @p m with an ICMP error (when RFC 1812 allows one and the rate limit
 * has a token), then drop @p m for @p reason.
 */
static void
icmp_error_and_drop(struct rp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
		    uint32_t info, enum rp_drop reason)
{
	struct rp_meta *md = rp_meta(m);

	if (rp_icmp_error_allowed(m)) {
		if (!rp_icmp_bucket_take(&w->icmp, rte_rdtsc())) {
			w->stats.events[RP_EV_ICMP_ERR_RATELIMITED]++;
		} else {
			uint32_t src = rp_dp_port_src_addr(w->dp, md->in_port, md->src);
			struct rte_mbuf *e = rp_icmp_error(w->dp->pool, m, type, code, info, src);
			if (e == NULL) {
				w->stats.drops[RP_DROP_NO_MBUF]++;
			} else {
				w->stats.events[RP_EV_ICMP_ERR_SENT]++;
				generated_related(e);
				rp_worker_output(w, e);
			}
		}
	}
	drop(w, m, reason);
}

/* A packet for one of our addresses. Until the host stack arrives, only ICMP echo is served. */
static void
local_deliver(struct rp_worker *w, struct rte_mbuf *m)
{
	struct rp_meta *md = rp_meta(m);

	w->stats.events[RP_EV_LOCAL_IN]++;
	if (w->dp->host_port >= 0) {
		to_host(w, m);
		return;
	}
	/* no host interface: the built-in responder answers echo requests */
	if (md->proto == IPPROTO_ICMP && !(md->flags & RP_F_FRAG) &&
	    md->ip_len >= md->l4_off - md->l3_off + sizeof(struct rte_icmp_hdr)) {
		const struct rte_icmp_hdr *icmp =
			rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, md->l4_off);
		if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && icmp->icmp_code == 0) {
			if (rp_icmp_echo_reply(m) != 0) {
				drop(w, m, RP_DROP_ICMP_MALFORMED);
				return;
			}
			/* our reply is the connection's reply direction: ESTABLISHED */
			if (w->ct) {
				rp_pkt_parse_l4(m, 0);
				rp_ct_classify_burst(w->ct, &m, 1, w->now_ms);
			}
			w->stats.events[RP_EV_ICMP_ECHO_REPLIED]++;
			rp_worker_output(w, m);
			return;
		}
	}
	drop(w, m, RP_DROP_LOCAL_NO_SERVICE);
}

/* ---- the burst ------------------------------------------------------------ */

/* Give a packet to the worker that owns its connection. */
static inline void
handoff(struct rp_worker *w, unsigned owner, struct rte_mbuf *m)
{
	if (unlikely(rte_ring_mp_enqueue(w->dp->workers[owner]->handoff, m) != 0)) {
		if (w->ct)
			rp_ct_count_event(w->ct, RP_CT_CNT_HANDOFF_FULL);
		drop(w, m, RP_DROP_HANDOFF_FULL);
		return;
	}
	if (w->ct)
		rp_ct_count_event(w->ct, RP_CT_CNT_HANDOFF_OUT);
}

/*
 * Connection tracking may refuse a NEW connection (table full, nothing to
 * evict): then the packet is dropped, as netfilter drops it. Called for
 * every packet that is about to be delivered or forwarded, i.e. accepted.
 */
static inline int
confirm(struct rp_worker *w, struct rte_mbuf *m)
{
	if (w->ct && unlikely(rp_ct_confirm(w->ct, m, w->now_ms) != 0)) {
		drop(w, m, RP_DROP_CT_TABLE_FULL);
		return -1;
	}
	return 0;
}

/* ---- the filter ---------------------------------------------------------------- */

/* LOG: format the line here, print it on the control thread (no syscall on a worker). */
static void
filter_log(void *arg, const struct rp_rule *r, const struct rp_filter_pkt *p)
{
	struct rp_worker *w = arg;
	struct rp_dp *dp = w->dp;
	char line[RP_LOG_LINE_MAX];
	struct rte_mbuf *m = w->filter_mbufs[p - w->filter_pkts];
	const char *in = p->in_port < dp->n_ports ? dp->ports[p->in_port].name : "";
	const char *out = p->out_port < dp->n_ports ? dp->ports[p->out_port].name : "";

	if (!rp_icmp_bucket_take(&w->log_bucket, rte_rdtsc())) {
		w->stats.events[RP_EV_LOG_SUPPRESSED]++;
		return;
	}
	memset(line, 0, sizeof(line));
	rp_pkt_log_format(line, sizeof(line), m, r->log_prefix, in, out);
	if (dp->log_ring == NULL || rte_ring_mp_enqueue_elem(dp->log_ring, line, sizeof(line)) != 0) {
		w->stats.events[RP_EV_LOG_SUPPRESSED]++;
		return;
	}
	w->stats.events[RP_EV_LOG_LINES]++;
}

/* ICMP codes of --reject-with (tcp-reset is a RST instead) */
static const uint8_t reject_code[] = {
	[RP_REJ_PORT_UNREACH] = 3,   [RP_REJ_NET_UNREACH] = 0,     [RP_REJ_HOST_UNREACH] = 1,
	[RP_REJ_PROTO_UNREACH] = 2,  [RP_REJ_NET_PROHIBITED] = 9,  [RP_REJ_HOST_PROHIBITED] = 10,
	[RP_REJ_ADMIN_PROHIBITED] = 13,
};

/* REJECT: answer as netfilter's REJECT target does, then drop. */
static void
reject_and_drop(struct rp_worker *w, struct rte_mbuf *m, uint8_t with, int local)
{
	struct rp_meta *md = rp_meta(m);
	struct rte_mbuf *e = NULL;
	uint32_t why;

	if (with == RP_REJ_TCP_RESET) {
		if (md->proto == IPPROTO_TCP)
			e = rp_tcp_reset(w->dp->pool, m, &why);
	} else if (rp_icmp_bucket_take(&w->icmp, rte_rdtsc())) {
		/* from the address the packet was for when it was ours, else from the ingress port's */
		uint32_t src = local ? md->dst : rp_dp_port_src_addr(w->dp, md->in_port, md->src);
		e = rp_icmp_reject(w->dp->pool, m, reject_code[with], src);
		if (e)
			w->stats.events[RP_EV_ICMP_ERR_SENT]++;
	} else {
		w->stats.events[RP_EV_ICMP_ERR_RATELIMITED]++;
	}
	if (e) {
		generated_related(e);
		rp_worker_output(w, e);
	}
	drop(w, m, RP_DROP_FILTER_REJECT);
}

/*
 * -m helper, as netfilter's xt_helper: the helper of the connection's master
 * (an FTP data connection's control connection), 0 without a live master.
 */
static inline uint8_t
master_helper(struct rp_ct_table *ct, const struct rp_ct_entry *e)
{
	const struct rp_ct_entry *master;

	if (e == NULL || e->master == 0)
		return 0;
	master = rp_ct_entry_get(ct, e->master - 1);
	return master != NULL ? master->helper : 0;
}

/*
 * Run one chain over @p n packets and keep those it accepts (in order) in
 * @p pkts; drop or reject the others. Returns how many were kept.
 */
static unsigned
filter_chain(struct rp_worker *w, struct rp_filter_live *fl, enum rp_chain_id chain,
	     struct rte_mbuf **pkts, unsigned n)
{
	struct rp_filter_pkt fp[RP_BURST_MAX];
	struct rp_filter_result res[RP_BURST_MAX];
	struct rp_filter_worker *fw = fl->fw[w->id];
	unsigned kept = 0;

	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct rp_meta *md = rp_meta(pkts[i]);
		rp_filter_pkt_from_mbuf(pkts[i], chain == RP_CHAIN_OUTPUT ? 0xff : md->in_port,
					chain == RP_CHAIN_INPUT ? 0xff : md->out_port, &fp[i]);
		/* a RELATED ICMP error's --ctorig* are those of the connection it quotes */
		if (unlikely(md->ct_state == RP_CT_RELATED) && md->ct_idx != RP_CT_NO_ENTRY && w->ct) {
			const struct rp_ct_entry *e = rp_ct_entry_get(w->ct, md->ct_idx);
			fp[i].ct_proto = e->tuple[0].proto;
			fp[i].ct_orig_src = e->tuple[0].src;
			fp[i].ct_orig_dst = e->tuple[0].dst;
		}
		if (md->ct_idx != RP_CT_NO_ENTRY && w->ct) {
			fp[i].helper = master_helper(w->ct, rp_ct_entry_get(w->ct, md->ct_idx));
		} else if (unlikely(md->ct_state == RP_CT_RELATED) && w->ct) {
			/* the first packet of an expected connection: no entry yet, but
			 * its master is known, as netfilter's unconfirmed conntrack links it */
			uint32_t master = rp_ct_expected_master(w->ct, pkts[i], w->now_ms);
			if (master) {
				const struct rp_ct_entry *me = rp_ct_entry_get(w->ct, master - 1);
				fp[i].helper = me ? me->helper : 0;
			}
		}
	}
	w->filter_mbufs = pkts;
	w->filter_pkts = fp;
	fw->log = filter_log;
	fw->log_arg = w;
	rp_filter_classify(fl->rs, chain, fp, n, fw, rte_rdtsc(), res);
	for (unsigned i = 0; i < n; i++) {
		if (likely(res[i].verdict == RP_T_ACCEPT))
			pkts[kept++] = pkts[i];
		else if (res[i].verdict == RP_T_REJECT)
			reject_and_drop(w, pkts[i], res[i].reject_with, chain == RP_CHAIN_INPUT);
		else
			drop(w, pkts[i], RP_DROP_FILTER_DROP);
	}
	return kept;
}

/* ---- stale-allow protection (filter.revalidate) ---------------------------------- */

#define TCP_FLAG_SYN 0x02

/* The port a route leaves by; 0xff (no port: matches no -i/-o) when it is not a route out. */
static inline uint8_t
route_port(uint64_t nh)
{
	enum rp_route_type type = rp_nh_type(nh);
	return type == RP_RT_DIRECT || type == RP_RT_GATEWAY ? rp_nh_port(nh) : 0xff;
}

/*
 * Would ruleset @p rs let each connection @p idx[i] in, were its first packet
 * to come now? The packet is rebuilt from the connection's original tuple:
 * state NEW (RELATED for a connection a helper expected), a TCP one as its
 * SYN, an ICMP query as its request; INPUT when the original destination is
 * ours, else FORWARD; ingress = the port of the route back to the original
 * source, egress = the port of the route to the original destination
 * (netfilter would remember the real ports; the routes give the same ones
 * as long as routing is symmetric). A dry run (no rp_filter_worker): no
 * counter, LOG line or -m limit token moves, and a -m limit rule counts as
 * matching. @p allowed[i] is 1 when the verdict is ACCEPT; a connection that
 * is gone is not allowed.
 */
static void
reval_check(struct rp_worker *w, const struct rp_ruleset *rs, const uint32_t *idx, unsigned n,
	    uint8_t *allowed)
{
	struct rp_filter_pkt fp[2][RP_BURST_MAX];
	struct rp_filter_result res[RP_BURST_MAX];
	uint16_t pos[2][RP_BURST_MAX];
	unsigned cnt[2] = {0, 0};
	uint32_t addrs[2 * RP_BURST_MAX]; /* [2i] original destination, [2i + 1] original source */
	uint64_t nhs[2 * RP_BURST_MAX];
	const struct rp_ct_entry *es[RP_BURST_MAX];
	static const enum rp_chain_id chains[2] = {RP_CHAIN_INPUT, RP_CHAIN_FORWARD};

	if (n == 0) /* n <= RP_BURST_MAX */
		return;
	for (unsigned i = 0; i < n; i++) {
		es[i] = rp_ct_entry_get(w->ct, idx[i]);
		allowed[i] = 0;
		addrs[2 * i] = es[i] ? es[i]->tuple[0].dst : 0;
		addrs[2 * i + 1] = es[i] ? es[i]->tuple[0].src : 0;
	}
	rp_fib_lookup_bulk(w->dp->fib, addrs, nhs, 2 * n);
	for (unsigned i = 0; i < n; i++) {
		const struct rp_ct_entry *e = es[i];
		if (e == NULL)
			continue;
		const struct rp_ct_tuple *t = &e->tuple[0];
		unsigned c = rp_nh_type(nhs[2 * i]) == RP_RT_LOCAL ? 0 : 1;
		struct rp_filter_pkt *p = &fp[c][cnt[c]];

		pos[c][cnt[c]++] = (uint16_t)i;
		memset(p, 0, sizeof(*p));
		p->src = t->src;
		p->dst = t->dst;
		p->proto = t->proto;
		p->state = (e->status & RP_CT_S_EXPECTED) ? RP_CT_RELATED : RP_CT_NEW;
		p->in_port = route_port(nhs[2 * i + 1]);
		p->out_port = c == 0 ? 0xff : route_port(nhs[2 * i]);
		switch (t->proto) {
		case IPPROTO_TCP:
			p->tcp_flags = TCP_FLAG_SYN;
			/* fall through */
		case IPPROTO_UDP:
			p->sport = t->sport;
			p->dport = t->dport;
			break;
		case IPPROTO_ICMP:
			p->icmp_type = (uint8_t)(t->dport >> 8); /* the request; code 0 */
			break;
		default:
			break;
		}
		p->ct_proto = t->proto;
		p->ct_orig_src = t->src;
		p->ct_orig_dst = t->dst;
		p->helper = master_helper(w->ct, e);
	}
	for (unsigned c = 0; c < 2; c++) {
		if (cnt[c] == 0)
			continue;
		rp_filter_classify(rs, chains[c], fp[c], cnt[c], NULL, rte_rdtsc(), res);
		for (unsigned k = 0; k < cnt[c]; k++)
			allowed[pos[c][k]] = res[k].verdict == RP_T_ACCEPT;
	}
}

/*
 * Take up the ruleset @p fl if it is new to this worker: with revalidate,
 * every connection becomes stale (a new conntrack epoch) and the walk starts;
 * without, a walk still running is abandoned, as the rules in force do not
 * ask for it.
 */
static inline void
filter_sync(struct rp_worker *w, const struct rp_filter_live *fl)
{
	uint64_t gen = fl ? fl->generation : 0;

	if (likely(gen == w->filter_gen))
		return;
	w->filter_gen = gen;
	if (w->ct && fl && fl->rs->revalidate) {
		rp_ct_reval_begin(w->ct);
		return; /* reval_done moves when the walk ends */
	}
	if (w->ct)
		rp_ct_reval_stop(w->ct);
	__atomic_store_n(&w->reval_done, gen, __ATOMIC_RELEASE);
}

/*
 * Packets of connections not yet checked against the ruleset in force
 * (RP_F_CT_STALE): check their connection first. Allowed: the connection is
 * current again and the packet goes on to its chain; refused: the
 * connection is removed and the packet dropped (filter_revalidate). Keeps
 * the packets that go on, in order, in @p pkts; returns how many.
 */
static unsigned
revalidate_stale(struct rp_worker *w, const struct rp_ruleset *rs, struct rte_mbuf **pkts,
		 unsigned n)
{
	uint32_t idx[RP_BURST_MAX];
	uint16_t at[RP_BURST_MAX];
	uint8_t allowed[RP_BURST_MAX];
	unsigned n_stale = 0, kept = 0, s = 0;

	for (unsigned i = 0; i < n; i++)
		if (unlikely(rp_meta(pkts[i])->flags & RP_F_CT_STALE)) {
			idx[n_stale] = rp_meta(pkts[i])->ct_idx;
			at[n_stale++] = (uint16_t)i;
		}
	if (likely(n_stale == 0))
		return n;
	reval_check(w, rs, idx, n_stale, allowed);
	for (unsigned i = 0; i < n; i++) {
		if (s < n_stale && at[s] == i) {
			int ok = allowed[s];
			if (ok) {
				rp_ct_reval_keep(w->ct, idx[s]);
			} else {
				/* -EBUSY: the walk comes back for it; -ENOENT: an
				 * earlier packet of the burst removed it */
				(void)rp_ct_reval_refuse(w->ct, idx[s]);
			}
			s++;
			if (!ok) {
				drop(w, pkts[i], RP_DROP_FILTER_REVALIDATE);
				continue;
			}
		}
		pkts[kept++] = pkts[i];
	}
	return kept;
}

/*
 * A step of the revalidation walk (housekeeping): check a bounded number of
 * connections not yet checked against the ruleset in force, keep or remove
 * each; report the generation done when the walk reaches the table's end.
 */
static void
revalidate_walk(struct rp_worker *w, unsigned budget)
{
	struct rp_filter_live *fl = __atomic_load_n(&w->dp->filter, __ATOMIC_ACQUIRE);
	uint32_t idx[RP_BURST_MAX];
	uint8_t allowed[RP_BURST_MAX];

	filter_sync(w, fl);
	if (rp_ct_reval_active(w->ct)) {
		unsigned n = rp_ct_reval_next(w->ct, idx, RP_BURST_MAX, budget);
		if (n) {
			reval_check(w, fl->rs, idx, n, allowed);
			for (unsigned i = 0; i < n; i++) {
				if (allowed[i])
					rp_ct_reval_keep(w->ct, idx[i]);
				else
					(void)rp_ct_reval_refuse(w->ct, idx[i]);
			}
		}
		if (rp_ct_reval_active(w->ct))
			return;
	}
	if (w->reval_done != w->filter_gen)
		__atomic_store_n(&w->reval_done, w->filter_gen, __ATOMIC_RELEASE);
}

/*
 * The size to fragment a forwarded packet to, or 0 when it fits the egress
 * MTU. A reassembled datagram leaves in fragments no larger than the largest
 * it came in (Linux's frag_max_size), and only that size decides
 * "fragmentation needed" for it.
 */
static inline uint16_t
frag_size(const struct rp_dp *dp, const struct rp_meta *md)
{
	uint16_t mtu = dp->ports[md->out_port].mtu;
	uint16_t size = md->frag_max && md->frag_max < mtu ? md->frag_max : mtu;
	return md->ip_len > size ? size : 0;
}

/*
 * Stage 2, on packets this worker owns (received or handed over): conntrack
 * classification, routing, the INPUT or FORWARD chain, then local delivery
 * or forwarding. The order is netfilter's: conntrack (PREROUTING), routing,
 * the TTL and MTU checks of ip_forward, FORWARD (or INPUT), confirmation.
 */
static void
route_and_forward(struct rp_worker *w, struct rte_mbuf **ip_pkts, unsigned n_ip)
{
	struct rp_dp *dp = w->dp;
	struct rp_filter_live *fl = __atomic_load_n(&dp->filter, __ATOMIC_ACQUIRE);
	struct rte_mbuf *fwd[RP_BURST_MAX], *local[RP_BURST_MAX], *hout[RP_BURST_MAX];
	struct rte_mbuf *outp[RP_BURST_MAX]; /* what leaves by a port, for the bulk neighbour lookup */
	uint32_t dsts[RP_BURST_MAX], nexthops[RP_BURST_MAX];
	uint64_t nhs[RP_BURST_MAX], l2s[RP_BURST_MAX];
	unsigned n_fwd = 0, n_local = 0, n_out = 0, n_hout = 0;

	/* a new ruleset may start a revalidation: before classification flags stale packets */
	filter_sync(w, fl);
	/* conntrack first, as netfilter's PREROUTING: states for every packet */
	if (w->ct)
		rp_ct_classify_burst(w->ct, ip_pkts, n_ip, w->now_ms);
	for (unsigned i = 0; i < n_ip; i++)
		dsts[i] = rp_meta(ip_pkts[i])->dst;
	rp_fib_lookup_bulk(dp->fib, dsts, nhs, n_ip);
	for (unsigned i = 0; i < n_ip; i++) {
		struct rte_mbuf *m = ip_pkts[i];
		struct rp_meta *md = rp_meta(m);
		enum rp_route_type type = rp_nh_type(nhs[i]);

		if (unlikely(md->flags & RP_F_FROM_HOST)) {
			/* the kernel's own packets: routed out, no TTL rule, OUTPUT decides */
			if (type == RP_RT_DIRECT || type == RP_RT_GATEWAY) {
				md->out_port = rp_nh_port(nhs[i]);
				md->nexthop = type == RP_RT_GATEWAY ? rp_nh_gw(nhs[i]) : md->dst;
				hout[n_hout++] = m;
			} else if (type == RP_RT_NONE) {
				drop(w, m, RP_DROP_NO_ROUTE);
			} else {
				drop(w, m, type == RP_RT_LOCAL ? RP_DROP_HOST_LOCAL : RP_DROP_BROADCAST);
			}
			continue;
		}
		if (unlikely(type != RP_RT_DIRECT && type != RP_RT_GATEWAY)) {
			if (type == RP_RT_LOCAL)
				local[n_local++] = m;
			else if (type == RP_RT_NONE)
				icmp_error_and_drop(w, m, RP_ICMP_DEST_UNREACH, RP_ICMP_UNREACH_NET, 0,
						    RP_DROP_NO_ROUTE);
			else
				drop(w, m, RP_DROP_BROADCAST);
			continue;
		}
		/* a router forwards only frames sent to its own MAC (RFC 1812 5.3.4) */
		if (unlikely(md->flags & (RP_F_L2_BCAST | RP_F_L2_MCAST))) {
			drop(w, m, RP_DROP_BROADCAST);
			continue;
		}
		if (unlikely(md->ttl <= 1)) {
			icmp_error_and_drop(w, m, RP_ICMP_TIME_EXCEEDED, RP_ICMP_EXC_TTL, 0,
					    RP_DROP_TTL_EXCEEDED);
			continue;
		}
		uint8_t out = rp_nh_port(nhs[i]);
		md->out_port = out;
		md->nexthop = type == RP_RT_GATEWAY ? rp_nh_gw(nhs[i]) : md->dst;
		if (unlikely(frag_size(dp, md) != 0) && (md->flags & RP_F_DF) &&
		    (md->frag_max ? md->frag_max : md->ip_len) > dp->ports[out].mtu) {
			icmp_error_and_drop(w, m, RP_ICMP_DEST_UNREACH, RP_ICMP_UNREACH_FRAG_NEEDED,
					    dp->ports[out].mtu, RP_DROP_FRAG_NEEDED);
			continue;
		}
		/* before the FORWARD chain, as ip_forward does: LOG shows it, REJECT quotes it */
		rp_ipv4_dec_ttl(rp_ip(m));
		fwd[n_fwd++] = m;
	}

	/* the chains; then an accepted NEW packet becomes a connection (confirm) */
	if (fl) {
		if (unlikely(w->ct && rp_ct_reval_active(w->ct))) {
			n_local = revalidate_stale(w, fl->rs, local, n_local);
			n_fwd = revalidate_stale(w, fl->rs, fwd, n_fwd);
		}
		n_local = filter_chain(w, fl, RP_CHAIN_INPUT, local, n_local);
		n_fwd = filter_chain(w, fl, RP_CHAIN_FORWARD, fwd, n_fwd);
		n_hout = filter_chain(w, fl, RP_CHAIN_OUTPUT, hout, n_hout);
	}
	/* the kernel's accepted packets join the forwarded ones for the way out
	 * (confirmed, fragmented if needed, resolved in bulk), without counting as forwarded */
	for (unsigned i = 0; i < n_hout; i++) {
		struct rte_mbuf *m = hout[i];
		struct rp_meta *md = rp_meta(m);
		if (confirm(w, m) != 0)
			continue;
		w->stats.events[RP_EV_HOST_OUT]++;
		uint16_t fsize = frag_size(dp, md);
		if (unlikely(fsize)) {
			fragment_and_send(w, m, md->nexthop, md->out_port, fsize);
			continue;
		}
		outp[n_out] = m;
		nexthops[n_out++] = md->nexthop;
	}
	for (unsigned i = 0; i < n_local; i++)
		if (confirm(w, local[i]) == 0)
			local_deliver(w, local[i]);
	for (unsigned i = 0; i < n_fwd; i++) {
		struct rte_mbuf *m = fwd[i];
		struct rp_meta *md = rp_meta(m);
		if (confirm(w, m) != 0)
			continue;
		w->stats.events[RP_EV_FORWARDED]++;
		uint16_t fsize = frag_size(dp, md);
		if (unlikely(fsize)) {
			fragment_and_send(w, m, md->nexthop, md->out_port, fsize);
			continue;
		}
		outp[n_out] = m;
		nexthops[n_out++] = md->nexthop;
	}
	if (n_out == 0)
		return;

	/* next hops to MAC addresses, in bulk, then out */
	rp_neigh_lookup_bulk(dp->neigh, w->id, nexthops, l2s, n_out);
	for (unsigned i = 0; i < n_out; i++) {
		struct rte_mbuf *m = outp[i];
		uint8_t out = rp_meta(m)->out_port;
		if (likely((l2s[i] & RP_L2_VALID) && rp_l2_port(l2s[i]) == out)) {
			set_l2(m, l2s[i], &dp->ports[out].mac);
			tx(w, out, m);
		} else {
			hold(w, m, nexthops[i], out);
		}
	}
}

/*
 * The kernel asks for a neighbour on the host interface: whatever the
 * address, the answer is Rampart's end of the interface, which then routes
 * the packets itself (proxy ARP). So the kernel's side never learns, and
 * the wires never see, the TAP's MAC.
 */
static void
host_arp(struct rp_worker *w, uint8_t port, struct rte_mbuf *m)
{
	struct rp_meta *md = rp_meta(m);
	const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, md->l3_off);

	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || md->dst == md->src) {
		drop(w, m, RP_DROP_HOST_ARP); /* replies, gratuitous ARP: nothing to learn */
		return;
	}
	rp_arp_reply_inplace(m, &w->dp->ports[port].mac);
	tx(w, port, m);
}

void
rp_worker_process_burst(struct rp_worker *w, uint8_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct rp_dp *dp = w->dp;
	const struct rte_ether_addr *port_mac = &dp->ports[port].mac;
	struct rte_mbuf *ip_pkts[RP_BURST_MAX], *to_ctl[RP_BURST_MAX];
	unsigned n_ip = 0, n_ctl = 0;
	uint64_t rx_bytes = 0;
	const int from_host = (int)port == dp->host_port;

	/* stage 1: parse and validate, with the next frames' headers prefetched;
	 * reassemble fragments; hand packets of other workers' connections over */
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += m->pkt_len;

		switch (rp_pkt_parse(m, port, port_mac)) {
		case RP_PKT_IPV4: {
			struct rp_meta *md = rp_meta(m);
			/* our own address as a source is martian, but from our own kernel */
			if (unlikely(rp_ipv4_martian_src(md->src) ||
				     (!from_host && is_local_addr(dp, md->src)))) {
				drop(w, m, RP_DROP_MARTIAN_SRC);
				break;
			}
			if (unlikely(from_host))
				md->flags |= RP_F_FROM_HOST;
			if (unlikely(rp_ipv4_martian_dst(md->dst))) {
				drop(w, m, RP_DROP_MARTIAN_DST);
				break;
			}
			if (unlikely(md->dst >= 0xe0000000)) { /* multicast, reserved, limited broadcast */
				drop(w, m, RP_DROP_BROADCAST);
				break;
			}
			/* conntrack and the filter see whole datagrams, as after netfilter's defrag */
			if (unlikely(md->flags & RP_F_FRAG) && w->reasm) {
				m = rp_reasm_packet(w->reasm, m, rte_rdtsc());
				if (m == NULL)
					break; /* kept until complete, or discarded and counted */
				md = rp_meta(m);
			}
			rp_pkt_parse_l4(m, dp->ct_checksum);
			if (dp->n_workers > 1) {
				uint32_t a, b;
				rp_ct_steering_pair(m, &a, &b);
				md->flow_hash = rp_ct_flow_hash(a, b);
				unsigned owner = rp_ct_owner(md->flow_hash, dp->n_workers);
				if (owner != w->id) {
					handoff(w, owner, m);
					break;
				}
			}
			ip_pkts[n_ip++] = m;
			break;
		}
		case RP_PKT_ARP:
			if (unlikely(from_host))
				host_arp(w, port, m);
			else
				to_ctl[n_ctl++] = m;
			break;
		default:
			drop(w, m, rp_meta(m)->drop);
			break;
		}
	}
	w->stats.port[port].rx_pkts += n;
	w->stats.port[port].rx_bytes += rx_bytes;

	if (n_ctl) {
		unsigned q = rte_ring_mp_enqueue_burst(dp->to_ctl, (void **)to_ctl, n_ctl, NULL);
		for (unsigned i = q; i < n_ctl; i++)
			drop(w, to_ctl[i], RP_DROP_CTL_RING_FULL);
	}
	if (n_ip)
		route_and_forward(w, ip_pkts, n_ip);
}

/* Packets other workers handed over: they were parsed there; route them here. */
static unsigned
drain_handoff(struct rp_worker *w)
{
	struct rte_mbuf *pkts[RP_BURST_MAX];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, RP_BURST_MAX, NULL);

	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		rp_ct_count_event(w->ct, RP_CT_CNT_HANDOFF_IN);
	route_and_forward(w, pkts, n);
	return n;
}

/* Frames the control thread built or released: transmit or route them. */
static void
drain_inbox(struct rp_worker *w)
{
	struct rte_mbuf *msgs[RP_BURST_MAX];
	unsigned n = rte_ring_sc_dequeue_burst(w->inbox, (void **)msgs, RP_BURST_MAX, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rp_meta *md = rp_meta(msgs[i]);
		if (md->kind == RP_MSG_ROUTE)
			rp_worker_output(w, msgs[i]);
		else
			tx(w, md->out_port, msgs[i]);
	}
}

unsigned
rp_worker_poll_once(struct rp_worker *w)
{
	struct rp_dp *dp = w->dp;
	struct rte_mbuf *pkts[RP_BURST_MAX];
	unsigned total = 0;
	uint64_t tsc = rte_rdtsc();

	w->now_ms = (uint32_t)(tsc / dp->tsc_per_ms);
	for (unsigned p = 0; p < dp->n_ports; p++) {
		uint16_t n = rte_eth_rx_burst(dp->ports[p].port_id, w->id, pkts, dp->burst);
		if (n) {
			rp_worker_process_burst(w, (uint8_t)p, pkts, n);
			total += n;
		}
	}
	if (w->handoff && !rte_ring_empty(w->handoff))
		total += drain_handoff(w);
	if (!rte_ring_empty(w->inbox))
		drain_inbox(w);
	rp_worker_flush(w);
	if (w->ct) {
		/* bounded housekeeping: a little per loop, more when idle */
		rp_ct_mailbox_serve(w->ct, &w->ct_mailbox, w->now_ms);
		rp_ct_expire(w->ct, w->now_ms, total ? RP_CT_EXPIRE_BUSY : RP_CT_EXPIRE_IDLE);
	}
	revalidate_walk(w, total ? RP_CT_REVAL_BUSY : RP_CT_REVAL_IDLE);
	if (w->reasm)
		rp_reasm_tick(w->reasm, tsc);
	if (dp->qsv)
		rte_rcu_qsbr_quiescent(dp->qsv, w->id);
	w->stats.loops++;
	if (total)
		w->stats.busy_loops++;
	return total;
}

/*
 * Back off when idle: spin a little, then sleep, doubling up to the
 * configured maximum. With idle_sleep_us = 0 the worker busy-polls, which is
 * what a dedicated core wants; a lab on a 2-core machine wants the CPU back.
 */
static void
idle_backoff(struct rp_worker *w)
{
	unsigned max = w->dp->idle_sleep_us;
	if (max == 0 || ++w->idle_loops < IDLE_SPIN_LOOPS)
		return;
	unsigned shift = w->idle_loops - IDLE_SPIN_LOOPS;
	unsigned us = shift >= 16 ? max : RTE_MIN(max, 1u << shift);
	/* not quiescent-blocking: go offline so RCU writers need not wait for us */
	if (w->dp->qsv)
		rte_rcu_qsbr_thread_offline(w->dp->qsv, w->id);
	rte_delay_us_sleep(us);
	if (w->dp->qsv)
		rte_rcu_qsbr_thread_online(w->dp->qsv, w->id);
	w->stats.events[RP_EV_IDLE_SLEEPS]++;
}

int
rp_worker_main(void *arg)
{
	struct rp_worker *w = arg;
	struct rp_dp *dp = w->dp;

	if (dp->qsv) {
		rte_rcu_qsbr_thread_register(dp->qsv, w->id);
		rte_rcu_qsbr_thread_online(dp->qsv, w->id);
	}
	w->icmp.last_tsc = rte_rdtsc();
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		/* a revalidation walk is work: no sleeping until it is done */
		if (rp_worker_poll_once(w) || rp_ct_reval_active(w->ct))
			w->idle_loops = 0;
		else
			idle_backoff(w);
	}
	rp_worker_flush(w);
	if (dp->qsv) {
		rte_rcu_qsbr_thread_offline(dp->qsv, w->id);
		rte_rcu_qsbr_thread_unregister(dp->qsv, w->id);
	}
	return 0;
}
