/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification with the compiled form (workers): the segments of a chain
 * (filter_prog.h) in order, each on the packets of the burst still
 * undecided and not resuming further on.
 *
 *  - an ACL segment classifies its packets with one rte_acl_classify call;
 *    the best match is the packet's first matching entry of the segment: a
 *    DECIDE decides, a SKIP sends the packet on to its target;
 *  - a linear segment walks its entries for each packet in turn
 *    (rp_filter_match_fields on the terms, then the -m limit token).
 *
 * Counters and LOG lines of the EFFECT entries (rules that do not decide)
 * are done per packet in position order, for the positions the packet went
 * through: before a linear entry is checked and when the packet leaves a
 * segment (up to where it was decided, or to the segment's end). So each
 * -m limit bucket, which sits at one position, is drawn by the packets of a
 * burst in their order, as the linear evaluator draws it; when a bucket sits
 * at two positions (a limit rule in a chain inlined twice) compile.c marks
 * the chain per_packet and packets are classified one at a time. The LOG
 * lines of one packet come in rule order; across the packets of one burst,
 * lines may be ordered by rule first rather than by packet first.
 *
 * No allocation: the per-burst state lives on the stack, bursts of any size
 * are cut into chunks of RP_CLASSIFY_CHUNK.
 */
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#include "filter_prog.h"
#include "rampart_filter.h"

#define RP_CLASSIFY_CHUNK 64

#define IPPROTO_ICMP_ 1

enum { PS_OPEN = 0, PS_ENTRY, PS_COUNTED, PS_POLICY };

/** Where one packet of the chunk stands. */
struct pkt_state {
	uint32_t resume; /**< next position it may match at */
	uint32_t eidx;   /**< next EFFECT (index into prog->eff) not yet done */
	uint32_t fpos;   /**< position that decided */
	uint8_t how;     /**< PS_* */
};

static inline int
entry_matches(const struct rp_filter_prog *prog, const struct rp_fe *e,
	      const struct rp_filter_pkt *p, struct rp_filter_worker *fw, uint64_t now_tsc)
{
	const struct rp_match *const *t = &prog->terms[e->term0];
	for (uint32_t i = 0; i < e->n_terms; i++)
		if (!rp_filter_match_fields(t[i], p))
			return 0;
	if (e->limit_rule != NULL && fw != NULL)
		return rp_filter_limit_take(fw, e->limit_rule, now_tsc);
	return 1;
}

/* Counters and LOG of the EFFECT entries before position @p upto. */
static void
run_effects(const struct rp_filter_prog *prog, struct pkt_state *st, uint32_t upto,
	    const struct rp_filter_pkt *p, struct rp_filter_worker *fw, uint64_t now_tsc)
{
	while (st->eidx < prog->n_eff && prog->eff[st->eidx] < upto) {
		const struct rp_fe *e = &prog->e[prog->eff[st->eidx++]];
		if (!entry_matches(prog, e, p, fw, now_tsc))
			continue;
		rp_filter_count(fw, e->rule, p);
		if (e->rule->target == RP_T_LOG && fw->log != NULL)
			fw->log(fw->log_arg, e->rule, p);
	}
}

/* The packet jumps to @p target: the EFFECT entries in between are not reached. */
static void
skip_to(const struct rp_filter_prog *prog, struct pkt_state *st, uint32_t target)
{
	while (st->eidx < prog->n_eff && prog->eff[st->eidx] < target)
		st->eidx++;
	st->resume = target;
}

static void
fill_acl_in(struct rp_acl_in *in, const struct rp_filter_pkt *p)
{
	in->proto = p->proto;
	in->pad[0] = in->pad[1] = in->pad[2] = 0;
	in->state = (uint8_t)((p->state < 7 ? 1u << p->state : 0) |
			      (p->fragment ? RP_ACL_STATE_FRAG : 0));
	in->in_port = p->in_port;
	in->out_port = p->out_port;
	in->tcp_flags = p->tcp_flags;
	in->src = rte_cpu_to_be_32(p->src);
	in->dst = rte_cpu_to_be_32(p->dst);
	in->sport = rte_cpu_to_be_16(p->sport);
	in->dport = rte_cpu_to_be_16(p->proto == IPPROTO_ICMP_ ?
					     (uint16_t)(p->icmp_type << 8 | p->icmp_code) :
					     p->dport);
}

/* One packet through a linear segment. */
static void
walk_linear(const struct rp_ruleset *rs, const struct rp_filter_prog *prog,
	    const struct rp_seg *sg, struct pkt_state *st, const struct rp_filter_pkt *p,
	    struct rp_filter_worker *fw, uint64_t now_tsc, struct rp_filter_result *res)
{
	uint32_t pos = RTE_MAX(sg->first, st->resume);

	while (pos < sg->end) {
		const struct rp_fe *e = &prog->e[pos];
		if (e->kind == RP_FE_EFFECT) {
			pos++;
			continue;
		}
		if (fw != NULL)
			run_effects(prog, st, pos, p, fw, now_tsc);
		switch (e->kind) {
		case RP_FE_DECIDE:
			if (entry_matches(prog, e, p, fw, now_tsc)) {
				st->how = PS_ENTRY;
				st->fpos = pos;
				return;
			}
			break;
		case RP_FE_SKIP:
			if (entry_matches(prog, e, p, fw, now_tsc)) {
				if (fw != NULL && e->rule != NULL)
					rp_filter_count(fw, e->rule, p);
				skip_to(prog, st, e->target);
				pos = e->target;
				continue;
			}
			break;
		case RP_FE_BRANCH:
			if (entry_matches(prog, e, p, fw, now_tsc)) {
				if (fw != NULL)
					rp_filter_count(fw, e->rule, p);
				break; /* into the inlined chain */
			}
			skip_to(prog, st, e->target);
			pos = e->target;
			continue;
		case RP_FE_CALL:
			switch (rp_filter_run(rs, prog->chain, e->top, e->top + 1, p, fw, now_tsc,
					      res)) {
			case RP_RUN_DECIDED:
				st->how = PS_COUNTED;
				st->fpos = pos;
				return;
			case RP_RUN_POLICY:
				st->how = PS_POLICY;
				st->fpos = pos;
				return;
			default:
				break;
			}
			break;
		default:
			break;
		}
		pos++;
	}
	st->resume = RTE_MAX(st->resume, pos);
	if (fw != NULL)
		run_effects(prog, st, pos, p, fw, now_tsc);
}

static void
classify_chunk(const struct rp_ruleset *rs, const struct rp_filter_prog *prog,
	       const struct rp_filter_pkt *pkts, unsigned n, struct rp_filter_worker *fw,
	       uint64_t now_tsc, struct rp_filter_result *res)
{
	struct pkt_state st[RP_CLASSIFY_CHUNK];
	struct rp_acl_in in[RP_CLASSIFY_CHUNK];
	const uint8_t *data[RP_CLASSIFY_CHUNK];
	uint32_t found[RP_CLASSIFY_CHUNK];
	uint8_t idx[RP_CLASSIFY_CHUNK];
	unsigned open = n;

	memset(st, 0, n * sizeof(st[0]));
	if (prog->has_acl)
		for (unsigned i = 0; i < n; i++)
			fill_acl_in(&in[i], &pkts[i]);

	for (uint32_t s = 0; s < prog->n_seg && open > 0; s++) {
		const struct rp_seg *sg = &prog->seg[s];
		if (!sg->acl) {
			for (unsigned i = 0; i < n; i++) {
				if (st[i].how != PS_OPEN || st[i].resume >= sg->end)
					continue;
				walk_linear(rs, prog, sg, &st[i], &pkts[i], fw, now_tsc, &res[i]);
				open -= st[i].how != PS_OPEN;
			}
			continue;
		}
		unsigned k = 0;
		for (unsigned i = 0; i < n; i++) {
			if (st[i].how != PS_OPEN || st[i].resume > sg->first)
				continue;
			idx[k] = (uint8_t)i;
			data[k++] = (const uint8_t *)&in[i];
		}
		if (k == 0)
			continue;
		if (sg->ctx != NULL)
			rte_acl_classify(sg->ctx, data, found, k, 1);
		else
			memset(found, 0, k * sizeof(found[0]));
		for (unsigned j = 0; j < k; j++) {
			unsigned i = idx[j];
			const struct rp_filter_pkt *p = &pkts[i];
			uint32_t upto = sg->end;
			if (found[j] != 0) {
				uint32_t pos = found[j] - 1;
				const struct rp_fe *e = &prog->e[pos];
				if (e->kind == RP_FE_DECIDE) {
					st[i].how = PS_ENTRY;
					st[i].fpos = pos;
					open--;
					upto = pos;
				} else { /* RP_FE_SKIP */
					if (fw != NULL) {
						run_effects(prog, &st[i], pos, p, fw, now_tsc);
						if (e->rule != NULL)
							rp_filter_count(fw, e->rule, p);
					}
					skip_to(prog, &st[i], e->target);
					continue;
				}
			}
			if (fw != NULL)
				run_effects(prog, &st[i], upto, p, fw, now_tsc);
		}
	}

	for (unsigned i = 0; i < n; i++) {
		const struct rp_filter_pkt *p = &pkts[i];
		struct rp_filter_result *r = &res[i];
		if (st[i].how == PS_OPEN) {
			st[i].how = PS_POLICY;
			st[i].fpos = prog->n;
		}
		if (fw != NULL)
			run_effects(prog, &st[i], st[i].fpos, p, fw, now_tsc);
		if (st[i].how == PS_ENTRY) {
			const struct rp_fe *e = &prog->e[st[i].fpos];
			r->verdict = e->verdict;
			r->reject_with = e->reject_with;
			r->rule = e->decide_rule;
			if (fw != NULL) {
				if (e->rule != NULL)
					rp_filter_count(fw, e->rule, p);
				if (e->decide_rule < 0)
					rp_filter_count_policy(fw, prog->chain, p);
			}
		} else if (st[i].how == PS_POLICY) {
			r->verdict = prog->policy;
			r->reject_with = 0;
			r->rule = -1;
			if (fw != NULL)
				rp_filter_count_policy(fw, prog->chain, p);
		}
	}
}

void
rp_filter_classify(const struct rp_ruleset *rs, enum rp_chain_id chain,
		   const struct rp_filter_pkt *pkts, unsigned n, struct rp_filter_worker *fw,
		   uint64_t now_tsc, struct rp_filter_result *res)
{
	const struct rp_filter_prog *prog = rs->prog[chain];

	if (prog == NULL) {
		/* not compiled: the reference does the same job */
		for (unsigned i = 0; i < n; i++)
			rp_filter_eval_linear(rs, chain, &pkts[i], fw, now_tsc, &res[i]);
		return;
	}
	if (prog->per_packet) {
		for (unsigned i = 0; i < n; i++)
			classify_chunk(rs, prog, &pkts[i], 1, fw, now_tsc, &res[i]);
		return;
	}
	for (unsigned i = 0; i < n; i += RP_CLASSIFY_CHUNK)
		classify_chunk(rs, prog, &pkts[i], RTE_MIN(n - i, (unsigned)RP_CLASSIFY_CHUNK), fw,
			       now_tsc, &res[i]);
}
