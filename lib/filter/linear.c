/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The linear evaluator: the reference semantics of the filter, one packet at
 * a time, rule after rule, with iptables' traversal (ipt_do_table): -j CHAIN
 * pushes a return point, -g CHAIN does not, RETURN (or the end of a user
 * chain) pops one, and with none left the built-in chain's policy applies.
 * Every rule that matches counts the packet, whatever its target: LOG, a rule
 * without target, the -j/-g rule and RETURN included.
 *
 * Matches, with iptables' meaning (ip_packet_match and the xt modules):
 *  - -p 0 (all) matches every packet, even negated, as ip_packet_match skips it;
 *  - --sport/--dport, -m multiport, --tcp-flags and --icmp-type read the L4
 *    header: they match only packets of their protocol (TCP or UDP for ports,
 *    TCP for flags, ICMP for types) that are not non-first fragments, and '!'
 *    negates the comparison, not that condition (xt_tcpudp, xt_multiport,
 *    icmp_match return false on fragments before looking at the inversion);
 *  - -i/-o match a port index whose bit is set; 0xff (no port) matches none;
 *  - -m limit: see rp_filter_limit_take. It is taken last, when every other
 *    match of the rule matched (iptables evaluates matches in the order they
 *    are written; the model does not keep that order, and a limit written
 *    before other matches would spend tokens on packets they reject).
 *    A dry run (fw NULL) takes no token and treats -m limit as matching: a
 *    revalidation asks whether the rules would allow a connection, not
 *    whether a rate allows this very packet.
 *
 * Runs on workers: no allocation, no locks.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "filter_prog.h"
#include "rampart_conntrack.h"
#include "rampart_filter.h"
#include "rampart_pkt.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* ---- per-worker state ---------------------------------------------------- */

/*
 * -m limit for the whole box: each worker holds its own bucket with
 * rate / n_workers (a token costs n_workers times the box's interval) and a
 * burst of ceil(burst / n_workers), at least 1. With traffic spread over the
 * workers the box passes about the configured rate; one worker alone sees
 * its share only. Buckets start full, as xt_limit's do.
 */
static unsigned
limit_burst_share(const struct rp_rule *r, unsigned n_workers)
{
	unsigned burst = r->m.limit_burst ? r->m.limit_burst : 1;
	unsigned share = (burst + n_workers - 1) / n_workers;
	return share ? share : 1;
}

static uint64_t
limit_cost(const struct rp_rule *r, unsigned n_workers, uint64_t hz)
{
	uint32_t rate = r->m.limit_rate ? r->m.limit_rate : 1;
	unsigned __int128 cost = (unsigned __int128)r->m.limit_period_us * hz * n_workers /
				 ((unsigned __int128)1000000 * rate);
	uint64_t max = UINT64_MAX / (limit_burst_share(r, n_workers) + 1);
	if (cost > max)
		cost = max; /* keeps cost * burst in 64 bits: one token every few years */
	return cost ? (uint64_t)cost : 1;
}

struct rp_filter_worker *
rp_filter_worker_create(const struct rp_ruleset *rs, unsigned n_workers)
{
	if (rs == NULL || n_workers == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	unsigned n = rs->n_rules;
	size_t head = RTE_ALIGN_CEIL(sizeof(struct rp_filter_worker), RTE_CACHE_LINE_SIZE);
	size_t arr = RTE_ALIGN_CEIL((size_t)n * sizeof(uint64_t), RTE_CACHE_LINE_SIZE);
	uint8_t *mem = rte_zmalloc("rp_filter_worker", head + 5 * arr, RTE_CACHE_LINE_SIZE);
	if (mem == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	struct rp_filter_worker *fw = (struct rp_filter_worker *)mem;
	fw->pkts = (uint64_t *)(mem + head);
	fw->bytes = (uint64_t *)(mem + head + arr);
	fw->limit_credit = (uint64_t *)(mem + head + 2 * arr);
	fw->limit_last = (uint64_t *)(mem + head + 3 * arr);
	fw->limit_cost = (uint64_t *)(mem + head + 4 * arr);
	fw->n_rules = n;
	fw->n_workers = n_workers;

	uint64_t hz = rte_get_tsc_hz();
	for (unsigned c = 0; c < rs->n_chains; c++) {
		const struct rp_chain *ch = &rs->chains[c];
		for (unsigned i = 0; i < ch->n_rules; i++) {
			const struct rp_rule *r = &ch->rules[i];
			if (!(r->m.present & RP_M_LIMIT) || r->id >= n)
				continue;
			fw->limit_cost[r->id] = limit_cost(r, n_workers, hz);
			fw->limit_credit[r->id] =
				fw->limit_cost[r->id] * limit_burst_share(r, n_workers);
		}
	}
	return fw;
}

void
rp_filter_worker_free(struct rp_filter_worker *fw)
{
	rte_free(fw);
}

/*
 * xt_limit's bucket in TSC cycles: credit grows by the cycles elapsed, up to
 * burst tokens' worth; a packet passes if a whole token's cost is there.
 */
int
rp_filter_limit_take(struct rp_filter_worker *fw, const struct rp_rule *r, uint64_t now_tsc)
{
	uint32_t id = r->id;
	if (id >= fw->n_rules || fw->limit_cost[id] == 0)
		return 1; /* not a limit rule of this ruleset: nothing to hold it back */
	uint64_t cost = fw->limit_cost[id];
	uint64_t cap = cost * limit_burst_share(r, fw->n_workers);
	uint64_t credit = fw->limit_credit[id];
	if (now_tsc > fw->limit_last[id]) {
		uint64_t elapsed = now_tsc - fw->limit_last[id];
		credit = elapsed >= cap - RTE_MIN(credit, cap) ? cap : credit + elapsed;
		fw->limit_last[id] = now_tsc;
	}
	int ok = credit >= cost;
	if (ok)
		credit -= cost;
	fw->limit_credit[id] = credit;
	return ok;
}

/* ---- matching ------------------------------------------------------------ */

static inline int
in_range16(uint16_t v, struct rp_range16 r)
{
	return v >= r.lo && v <= r.hi;
}

static inline int
port_bit(uint16_t ports, uint8_t idx)
{
	return idx < 16 && ((ports >> idx) & 1);
}

/* Does the L4 header of @p p belong to a TCP/UDP port match? (xt_tcpudp, xt_multiport) */
static inline int
has_ports(const struct rp_filter_pkt *p)
{
	return (p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_) && !p->fragment;
}

static int
mport_match(const struct rp_match *m, const struct rp_filter_pkt *p)
{
	for (unsigned i = 0; i < m->n_mport && i < RP_FILTER_MULTIPORT_MAX; i++) {
		if (m->mport_kind != RP_MPORT_DST && in_range16(p->sport, m->mport[i]))
			return 1;
		if (m->mport_kind != RP_MPORT_SRC && in_range16(p->dport, m->mport[i]))
			return 1;
	}
	return 0;
}

#define NEG(m, bit) (((m)->negated & (bit)) != 0)

int
rp_filter_match_fields(const struct rp_match *m, const struct rp_filter_pkt *p)
{
	uint32_t has = m->present;
	if (has == 0)
		return 1;
	if ((has & RP_M_PROTO) && m->proto != 0 &&
	    ((p->proto == m->proto) == NEG(m, RP_M_PROTO)))
		return 0;
	if ((has & RP_M_SRC) &&
	    (((p->src & m->src_mask) == (m->src & m->src_mask)) == NEG(m, RP_M_SRC)))
		return 0;
	if ((has & RP_M_DST) &&
	    (((p->dst & m->dst_mask) == (m->dst & m->dst_mask)) == NEG(m, RP_M_DST)))
		return 0;
	if ((has & RP_M_SRCRANGE) &&
	    ((p->src >= m->src_range.lo && p->src <= m->src_range.hi) == NEG(m, RP_M_SRCRANGE)))
		return 0;
	if ((has & RP_M_DSTRANGE) &&
	    ((p->dst >= m->dst_range.lo && p->dst <= m->dst_range.hi) == NEG(m, RP_M_DSTRANGE)))
		return 0;
	if ((has & RP_M_IN) && (port_bit(m->in_ports, p->in_port) == NEG(m, RP_M_IN)))
		return 0;
	if ((has & RP_M_OUT) && (port_bit(m->out_ports, p->out_port) == NEG(m, RP_M_OUT)))
		return 0;
	if ((has & RP_M_STATE) && ((p->state < 8 && ((m->states >> p->state) & 1)) ==
				   NEG(m, RP_M_STATE)))
		return 0;
	if (has & (RP_M_SPORT | RP_M_DPORT | RP_M_MPORT)) {
		if (!has_ports(p))
			return 0;
		if ((has & RP_M_SPORT) && (in_range16(p->sport, m->sport) == NEG(m, RP_M_SPORT)))
			return 0;
		if ((has & RP_M_DPORT) && (in_range16(p->dport, m->dport) == NEG(m, RP_M_DPORT)))
			return 0;
		if ((has & RP_M_MPORT) && (mport_match(m, p) == NEG(m, RP_M_MPORT)))
			return 0;
	}
	if (has & RP_M_ICMP) {
		if (p->proto != IPPROTO_ICMP_ || p->fragment)
			return 0;
		int in = m->icmp_type == 0xff ||
			 (p->icmp_type == m->icmp_type && p->icmp_code >= m->icmp_code_lo &&
			  p->icmp_code <= m->icmp_code_hi);
		if (in == NEG(m, RP_M_ICMP))
			return 0;
	}
	if (has & RP_M_TCPFLAGS) {
		if (p->proto != IPPROTO_TCP_ || p->fragment)
			return 0;
		if (((p->tcp_flags & m->tcp_mask) == m->tcp_comp) == NEG(m, RP_M_TCPFLAGS))
			return 0;
	}
	if ((has & RP_M_FRAG) && ((p->fragment != 0) == NEG(m, RP_M_FRAG)))
		return 0;
	if ((has & RP_M_CTPROTO) && ((p->ct_proto == m->ctproto) == NEG(m, RP_M_CTPROTO)))
		return 0;
	if ((has & RP_M_CTORIGSRC) &&
	    (((p->ct_orig_src & m->ctorigsrc_mask) == (m->ctorigsrc & m->ctorigsrc_mask)) ==
	     NEG(m, RP_M_CTORIGSRC)))
		return 0;
	if ((has & RP_M_CTORIGDST) &&
	    (((p->ct_orig_dst & m->ctorigdst_mask) == (m->ctorigdst & m->ctorigdst_mask)) ==
	     NEG(m, RP_M_CTORIGDST)))
		return 0;
	if ((has & RP_M_HELPER) && ((p->helper == m->helper) == NEG(m, RP_M_HELPER)))
		return 0;
	return 1;
}

int
rp_filter_rule_matches(const struct rp_rule *r, const struct rp_filter_pkt *p,
		       struct rp_filter_worker *fw, uint64_t now_tsc)
{
	if (!rp_filter_match_fields(&r->m, p))
		return 0;
	/* -m limit cannot be negated (xt_limit has no '!'): the bit is ignored */
	if ((r->m.present & RP_M_LIMIT) && fw != NULL)
		return rp_filter_limit_take(fw, r, now_tsc);
	return 1;
}

/* ---- traversal ----------------------------------------------------------- */

/*
 * -j pushes, so a loop through a -j ends on a full stack; a loop of -g
 * alone pushes nothing and would never end. Both fail closed (DROP, the
 * jumping rule reported); loops never reach a worker, as the parser and
 * rp_ruleset_compile refuse them.
 */
#define RP_RUN_GOTO_MAX (1u << 20)

static void
decide(struct rp_filter_result *res, const struct rp_rule *r)
{
	res->verdict = r->target;
	res->reject_with = r->target == RP_T_REJECT ? r->reject_with : 0;
	res->rule = (int32_t)r->id;
}

enum rp_run
rp_filter_run(const struct rp_ruleset *rs, enum rp_chain_id chain, unsigned first,
	      unsigned last, const struct rp_filter_pkt *p, struct rp_filter_worker *fw,
	      uint64_t now_tsc, struct rp_filter_result *res)
{
	struct {
		uint32_t chain, next;
	} stack[RP_FILTER_MAX_DEPTH];
	unsigned sp = 0, gotos = 0;
	uint32_t cur = chain, i = first;

	for (;;) {
		const struct rp_chain *ch = &rs->chains[cur];
		if (cur == (uint32_t)chain) {
			if (i >= last)
				return i >= ch->n_rules ? RP_RUN_POLICY : RP_RUN_CONTINUE;
		} else if (i >= ch->n_rules) {
			/* the end of a user chain is a RETURN */
			if (sp == 0)
				return RP_RUN_POLICY; /* reached by -g from the built-in chain */
			sp--;
			cur = stack[sp].chain;
			i = stack[sp].next;
			continue;
		}
		const struct rp_rule *r = &ch->rules[i++];
		if (!rp_filter_rule_matches(r, p, fw, now_tsc))
			continue;
		if (fw != NULL) {
			rp_filter_count(fw, r, p);
			if (r->target == RP_T_LOG && fw->log != NULL)
				fw->log(fw->log_arg, r, p);
		}
		switch (r->target) {
		case RP_T_ACCEPT:
		case RP_T_DROP:
		case RP_T_REJECT:
			decide(res, r);
			return RP_RUN_DECIDED;
		case RP_T_RETURN:
			if (cur == (uint32_t)chain || sp == 0)
				return RP_RUN_POLICY;
			sp--;
			cur = stack[sp].chain;
			i = stack[sp].next;
			break;
		case RP_T_JUMP:
			if (r->jump < RP_CHAIN_BUILTIN_MAX || (unsigned)r->jump >= rs->n_chains)
				break; /* not a user chain: compile rejects it, the reference ignores it */
			if (sp == RP_FILTER_MAX_DEPTH) {
				/* deeper than compile allows (or a loop): fail closed */
				res->verdict = RP_T_DROP;
				res->reject_with = 0;
				res->rule = (int32_t)r->id;
				return RP_RUN_DECIDED;
			}
			stack[sp].chain = cur;
			stack[sp].next = i;
			sp++;
			cur = (uint32_t)r->jump;
			i = 0;
			break;
		case RP_T_GOTO:
			if (r->jump < RP_CHAIN_BUILTIN_MAX || (unsigned)r->jump >= rs->n_chains)
				break;
			if (++gotos > RP_RUN_GOTO_MAX) {
				/* only a -g loop gets here (the parser and compile refuse them) */
				res->verdict = RP_T_DROP;
				res->reject_with = 0;
				res->rule = (int32_t)r->id;
				return RP_RUN_DECIDED;
			}
			cur = (uint32_t)r->jump;
			i = 0;
			break;
		default: /* RP_T_NONE, RP_T_LOG: counted, go on */
			break;
		}
	}
}

void
rp_filter_eval_linear(const struct rp_ruleset *rs, enum rp_chain_id chain,
		      const struct rp_filter_pkt *p, struct rp_filter_worker *fw,
		      uint64_t now_tsc, struct rp_filter_result *res)
{
	const struct rp_chain *ch = &rs->chains[chain];
	if (rp_filter_run(rs, chain, 0, ch->n_rules, p, fw, now_tsc, res) == RP_RUN_DECIDED)
		return;
	res->verdict = ch->policy;
	res->reject_with = 0;
	res->rule = -1;
	if (fw != NULL)
		rp_filter_count_policy(fw, chain, p);
}

/* ---- packets ------------------------------------------------------------- */

/*
 * The conntrack original tuple is taken from the packet and its direction:
 * exact for packets of their own connection as long as there is no NAT. An
 * ICMP error RELATED to a connection belongs, in netfilter, to the
 * connection it quotes; the datapath, which holds the entry, overwrites
 * ct_proto/ct_orig_* for those (rp_ct_entry_get(table, ct_idx)->tuple[0]).
 */
void
rp_filter_pkt_from_mbuf(struct rte_mbuf *m, uint8_t in_port, uint8_t out_port,
			struct rp_filter_pkt *p)
{
	const struct rp_meta *md = rp_meta(m);

	memset(p, 0, sizeof(*p));
	p->src = md->src;
	p->dst = md->dst;
	p->proto = md->proto;
	p->state = md->ct_state;
	p->in_port = in_port;
	p->out_port = out_port;
	p->fragment = (md->flags & RP_F_FRAG_LATER) != 0;
	p->len = md->ip_len;
	if (md->l4_status == RP_L4_OK && !p->fragment) {
		switch (md->proto) {
		case IPPROTO_TCP_:
			p->tcp_flags = md->tcp_flags;
			/* fall through */
		case IPPROTO_UDP_:
			p->sport = md->sport;
			p->dport = md->dport;
			break;
		case IPPROTO_ICMP_:
			p->icmp_type = (uint8_t)(md->dport >> 8);
			p->icmp_code = (uint8_t)md->dport;
			break;
		default:
			break;
		}
	}
	p->ct_proto = md->proto;
	if (md->ct_dir == 0) {
		p->ct_orig_src = md->src;
		p->ct_orig_dst = md->dst;
	} else {
		p->ct_orig_src = md->dst;
		p->ct_orig_dst = md->src;
	}
}
