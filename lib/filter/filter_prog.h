/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RP_FILTER_PROG_H
#define RP_FILTER_PROG_H

/**
 * @file
 * Private to lib/filter: the compiled form of one built-in chain, shared by
 * compile.c (control thread, builds it) and classify.c (workers, read it),
 * and the pieces of the linear evaluator both reuse.
 *
 * A chain compiles to a flat program: user chains are inlined, so every
 * rule the chain can reach appears at one or more flat positions, in the
 * order iptables would evaluate them. Each position is an entry:
 *
 *  - DECIDE: a terminal rule (ACCEPT, DROP, REJECT) or the policy (RETURN
 *    in the built-in chain, or the end of a -g'ed chain reached from it);
 *  - EFFECT: a rule whose only effect is its counter and, for LOG, the log
 *    line (no target, LOG, and the -j/-g rule itself, which iptables counts
 *    when it jumps). It never decides, so it is not in any ACL context:
 *    it is checked, for a packet that reaches it, in position order;
 *  - SKIP: RETURN inside an inlined chain, or the end of a chain reached by
 *    -g from an inlined chain: the packet leaves the inlined chain and goes
 *    on at @c target;
 *  - BRANCH: a -j/-g whose own match rte_acl cannot test (-m limit, which
 *    must take one token only, or --ctproto/--ctorig*): checked once, the
 *    packet enters the inlined chain when it matches, else goes on at
 *    @c target (after the inlined chain);
 *  - CALL: a top-level rule (with the chains it reaches) too large to
 *    inline, evaluated by the linear evaluator.
 *
 * An entry's condition is the AND of its terms: the matches of the -j
 * rules that led to it (when those are plain ACL matches) and its own.
 * Entries rte_acl can express exactly (DECIDE and SKIP without -m limit or
 * --ctorig* / --ctproto, at most RP_ACL_EXPAND_MAX rte_acl rules once
 * negations, sets of ports and multiport are expanded) go into ACL
 * contexts; runs of them between linear entries and jump targets form one
 * segment each. Within a segment earlier positions get higher priority, so
 * rte_acl's single best match is the first matching entry.
 */

#include <stdint.h>

#include <rte_acl.h>

#include "rampart_filter.h"

enum rp_fe_kind {
	RP_FE_DECIDE = 0,
	RP_FE_EFFECT,
	RP_FE_SKIP,
	RP_FE_BRANCH,
	RP_FE_CALL,
};

/** One flat position. */
struct rp_fe {
	uint8_t kind;            /**< enum rp_fe_kind */
	uint8_t acl;             /**< 1: in an ACL context; 0: checked linearly */
	uint8_t verdict;         /**< DECIDE: RP_T_ACCEPT/DROP/REJECT */
	uint8_t reject_with;     /**< DECIDE with REJECT */
	int32_t decide_rule;     /**< DECIDE: rule id reported, -1 = the policy (counted as such) */
	const struct rp_rule *rule;       /**< the rule whose counter moves (NULL: none) */
	const struct rp_rule *limit_rule; /**< take this rule's -m limit token after the terms matched */
	uint32_t term0, n_terms; /**< condition: prog->terms[term0 .. term0 + n_terms) all match */
	uint32_t target;         /**< SKIP: where to go on; BRANCH: where to go on when not matched */
	uint32_t top;            /**< CALL: index of the rule in the built-in chain */
};

/** A run of positions classified one way. */
struct rp_seg {
	uint32_t first, end;     /**< positions [first, end) */
	uint8_t acl;             /**< 1: one rte_acl context; 0: linear entries */
	struct rte_acl_ctx *ctx; /**< NULL for linear segments and for ACL runs without any rule */
};

/** A compiled built-in chain. */
struct rp_filter_prog {
	enum rp_chain_id chain;
	uint8_t policy;
	uint8_t has_acl;         /**< some segment has a context: fill the ACL input */
	uint8_t per_packet;      /**< a -m limit rule sits at two places: classify one packet at a time */
	struct rp_fe *e;
	uint32_t n;
	const struct rp_match **terms;
	uint32_t n_terms;
	uint32_t *eff;           /**< positions of the EFFECT entries, ascending */
	uint32_t n_eff;
	struct rp_seg *seg;
	uint32_t n_seg;
	struct rp_filter_prog_info info;
};

/* ---- the rte_acl input: one per packet, fields in network byte order ---- */

/**
 * What rte_acl reads for a packet. rte_acl wants the first field one byte
 * long and the others in groups of four consecutive bytes (input_index).
 *
 *  offset 0  proto       RANGE    (group 0)
 *  offset 4  state       BITMASK  one bit per conntrack state (1 << state),
 *                                 bit 7 = non-first fragment    (group 1)
 *  offset 5  in_port     RANGE    port index, 0xff = none       (group 1)
 *  offset 6  out_port    RANGE                                  (group 1)
 *  offset 7  tcp_flags   BITMASK                                (group 1)
 *  offset 8  src         RANGE    (prefixes and iprange)        (group 2)
 *  offset 12 dst         RANGE                                  (group 3)
 *  offset 16 sport       RANGE    TCP/UDP                       (group 4)
 *  offset 18 dport       RANGE    TCP/UDP port; ICMP: type << 8 | code (group 4)
 *
 * The dport field carries ICMP type/code because no rule can test both:
 * every port or ICMP condition also restricts the protocol (see compile.c).
 */
struct rp_acl_in {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t state;
	uint8_t in_port;
	uint8_t out_port;
	uint8_t tcp_flags;
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
};

#define RP_ACL_STATE_FRAG 0x80 /**< rp_acl_in.state: non-first fragment */
#define RP_ACL_STATE_BITS 0x7f /**< states 0..6 */

enum {
	RP_ACL_F_PROTO = 0,
	RP_ACL_F_STATE,
	RP_ACL_F_IN,
	RP_ACL_F_OUT,
	RP_ACL_F_FLAGS,
	RP_ACL_F_SRC,
	RP_ACL_F_DST,
	RP_ACL_F_SPORT,
	RP_ACL_F_DPORT,
	RP_ACL_F_NUM,
};

RTE_ACL_RULE_DEF(rp_acl_rule, RP_ACL_F_NUM);

#define RP_ACL_EXPAND_MAX 256 /**< rte_acl rules one flat entry may become; more: linear */

/* ---- shared with linear.c ------------------------------------------------ */

/** Every match of @p m except -m limit (which takes tokens: see rp_filter_limit_take). */
int rp_filter_match_fields(const struct rp_match *m, const struct rp_filter_pkt *p);

/** Take one -m limit token of @p r from @p fw. @return 1 if there was one. */
int rp_filter_limit_take(struct rp_filter_worker *fw, const struct rp_rule *r, uint64_t now_tsc);

/** Outcomes of rp_filter_run. */
enum rp_run {
	RP_RUN_DECIDED = 0, /**< a rule decided: result filled, counters moved */
	RP_RUN_CONTINUE,    /**< left the range of top-level rules undecided */
	RP_RUN_POLICY,      /**< the chain's policy applies (RETURN in it, end of a -g'ed chain); not counted yet */
};

/**
 * The linear evaluator on the top-level rules [@p first, @p last) of
 * built-in @p chain, following jumps into user chains as iptables does.
 * @p fw NULL: dry run.
 */
enum rp_run rp_filter_run(const struct rp_ruleset *rs, enum rp_chain_id chain, unsigned first,
			  unsigned last, const struct rp_filter_pkt *p, struct rp_filter_worker *fw,
			  uint64_t now_tsc, struct rp_filter_result *res);

/** Count one packet for rule @p r (fw non-NULL). */
static inline void
rp_filter_count(struct rp_filter_worker *fw, const struct rp_rule *r, const struct rp_filter_pkt *p)
{
	if (r->id < fw->n_rules) {
		fw->pkts[r->id]++;
		fw->bytes[r->id] += p->len;
	}
}

/** Count one packet for the policy of @p chain. */
static inline void
rp_filter_count_policy(struct rp_filter_worker *fw, enum rp_chain_id chain,
		       const struct rp_filter_pkt *p)
{
	fw->policy_pkts[chain]++;
	fw->policy_bytes[chain] += p->len;
}

#endif /* RP_FILTER_PROG_H */
