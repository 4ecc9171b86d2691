/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled filter (rte_acl segments) against the linear reference.
 *
 * First fixed cases: the shape of a compiled chain (flat entries, ACL rules,
 * contexts, linear entries) for rules of each kind, the errors compile
 * reports (loops, jumps to built-in chains, nesting too deep, a context
 * name in use), a chain too large to inline (kept as a CALL), a -m limit
 * rule reachable at two places (classified one packet at a time so the
 * bucket is drawn in packet order) and the expansion cap.
 *
 * Then the differential test: RULESETS random rulesets of 1..200 rules with
 * user chains, -j/-g/RETURN, negations, multiport, states, ICMP types, TCP
 * flags, iprange, interfaces, LOG, -m limit and conntrack matches; for each,
 * bursts of random packets (most aimed at one rule's values so that rules
 * match) classified by rp_filter_classify with one worker state and by
 * rp_filter_eval_linear with another, at the same TSC. Every packet must get
 * the same verdict, reject_with and deciding rule, every burst the same LOG
 * calls (rule and packet), the dry runs the same results, and at the end
 * both workers the same per-rule and per-policy counters. Fixed seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "filter_prog.h"
#include "rampart_conntrack.h"
#include "rampart_filter.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define TCP 6
#define UDP 17
#define ICMP 1
#define NOPORT 0xff
#define RULESETS 600
#define MAX_CHAINS 16

/* ---- building rulesets by hand ---------------------------------------------- */

static struct rp_ruleset *
rs_new(uint8_t input_policy, uint8_t forward_policy, uint8_t output_policy)
{
	static const char *names[RP_CHAIN_BUILTIN_MAX] = {"INPUT", "FORWARD", "OUTPUT"};
	struct rp_ruleset *rs = calloc(1, sizeof(*rs));
	rs->chains = calloc(128, sizeof(*rs->chains));
	rs->n_chains = RP_CHAIN_BUILTIN_MAX;
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
		snprintf(rs->chains[c].name, sizeof(rs->chains[c].name), "%s", names[c]);
		rs->chains[c].builtin = 1;
	}
	rs->chains[RP_CHAIN_INPUT].policy = input_policy;
	rs->chains[RP_CHAIN_FORWARD].policy = forward_policy;
	rs->chains[RP_CHAIN_OUTPUT].policy = output_policy;
	return rs;
}

static int
chain_new(struct rp_ruleset *rs, const char *name)
{
	int c = (int)rs->n_chains++;
	snprintf(rs->chains[c].name, sizeof(rs->chains[c].name), "%s", name);
	return c;
}

/* Append a rule; the pointer is valid until the next rule_add on that chain. */
static struct rp_rule *
rule_add(struct rp_ruleset *rs, int chain, uint8_t target, const char *text)
{
	struct rp_chain *ch = &rs->chains[chain];
	if (ch->n_rules == ch->cap_rules) {
		ch->cap_rules = ch->cap_rules ? ch->cap_rules * 2 : 8;
		ch->rules = realloc(ch->rules, ch->cap_rules * sizeof(*ch->rules));
	}
	struct rp_rule *r = &ch->rules[ch->n_rules++];
	memset(r, 0, sizeof(*r));
	r->target = target;
	r->jump = -1;
	r->log_level = 4;
	r->id = rs->n_rules++;
	r->file = "rules.v4";
	r->line = (int)r->id + 1;
	r->text = (char *)text;
	return r;
}

static struct rp_rule *
jump_add(struct rp_ruleset *rs, int chain, uint8_t target, int to, const char *text)
{
	struct rp_rule *r = rule_add(rs, chain, target, text);
	r->jump = (int16_t)to;
	return r;
}

static void
rs_free(struct rp_ruleset *rs)
{
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++)
		rp_filter_prog_free(rs->prog[c]);
	for (unsigned c = 0; c < rs->n_chains; c++)
		free(rs->chains[c].rules);
	free(rs->chains);
	free(rs);
}

static struct rp_filter_pkt
pkt(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t state)
{
	struct rp_filter_pkt p;
	memset(&p, 0, sizeof(p));
	p.proto = proto;
	p.src = src;
	p.dst = dst;
	p.sport = sport;
	p.dport = dport;
	p.state = state;
	p.in_port = 0;
	p.out_port = NOPORT;
	p.len = 100;
	return p;
}

static int
compile(struct rp_ruleset *rs, const char *prefix, char *msg, size_t msg_size)
{
	FILE *err = fmemopen(msg, msg_size, "w");
	int rc = rp_ruleset_compile(rs, prefix, err);
	fclose(err);
	return rc;
}

/* ---- logging ------------------------------------------------------------------- */

#define LOG_MAX 65536

struct log_rec {
	unsigned n;                       /* calls, even beyond LOG_MAX */
	const struct rp_filter_pkt *base; /* the burst, to turn pointers into indexes */
	uint32_t key[LOG_MAX];            /* packet index << 16 | rule id */
	int bad_ptr;
};

static void
log_cb(void *arg, const struct rp_rule *r, const struct rp_filter_pkt *p)
{
	struct log_rec *l = arg;
	long i = p - l->base;
	if (i < 0 || i >= 4096) {
		l->bad_ptr = 1;
		return;
	}
	if (l->n < LOG_MAX)
		l->key[l->n] = (uint32_t)i << 16 | r->id;
	l->n++;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- fixed cases ----------------------------------------------------------------- */

static void
check_same(const struct rp_ruleset *rs, enum rp_chain_id c, const struct rp_filter_pkt *p,
	   unsigned n, uint64_t now, struct rp_filter_result *res)
{
	struct rp_filter_result ref;
	for (unsigned i = 0; i < n; i++) {
		rp_filter_eval_linear(rs, c, &p[i], NULL, now, &ref);
		CHECK_EQ(res[i].verdict, ref.verdict);
		CHECK_EQ(res[i].rule, ref.rule);
	}
}

static void
test_shape_and_verdicts(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_DROP, RP_T_ACCEPT);
	struct rp_rule *r;
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT, "-m state --state ESTABLISHED,RELATED -j ACCEPT");
	r->m.present = RP_M_STATE;
	r->m.states = RP_STATE_BIT(RP_CT_ESTABLISHED) | RP_STATE_BIT(RP_CT_RELATED);
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_DROP, "-m state --state INVALID -j DROP");
	r->m.present = RP_M_STATE;
	r->m.states = RP_STATE_BIT(RP_CT_INVALID);
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT, "-p tcp --dport 22 -j ACCEPT");
	r->m.present = RP_M_PROTO | RP_M_DPORT;
	r->m.proto = TCP;
	r->m.dport = (struct rp_range16){22, 22};
	rule_add(rs, RP_CHAIN_INPUT, RP_T_LOG, "-j LOG");
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT, "-p udp -m multiport --dports 53,123 -j ACCEPT");
	r->m.present = RP_M_PROTO | RP_M_MPORT;
	r->m.proto = UDP;
	r->m.mport_kind = RP_MPORT_DST;
	r->m.n_mport = 2;
	r->m.mport[0] = (struct rp_range16){53, 53};
	r->m.mport[1] = (struct rp_range16){123, 123};
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT, "-p icmp -m limit --limit 1/s -j ACCEPT");
	r->m.present = RP_M_PROTO | RP_M_LIMIT;
	r->m.proto = ICMP;
	r->m.limit_rate = 1;
	r->m.limit_period_us = 1000000;
	r->m.limit_burst = 1;
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_REJECT, "-s 10.0.0.0/8 ! -p tcp -j REJECT");
	r->m.present = RP_M_PROTO | RP_M_SRC;
	r->m.negated = RP_M_PROTO;
	r->m.proto = TCP;
	r->m.src = IP4(10, 0, 0, 0);
	r->m.src_mask = 0xff000000;

	char msg[512] = "";
	CHECK_EQ(compile(rs, "shape", msg, sizeof(msg)), 0);
	CHECK_EQ(msg[0], 0);
	struct rp_filter_prog_info info;
	rp_filter_prog_info(rs, RP_CHAIN_INPUT, &info);
	CHECK_EQ(info.flat_rules, 7);
	CHECK_EQ(info.acl_rules, 1 + 2 + 2); /* ! -p tcp is two proto ranges */
	CHECK_EQ(info.segments, 2);          /* split by the -m limit rule */
	CHECK_EQ(info.barriers, 2 + 1 + 1);  /* two leading state rules, LOG, limit */
	CHECK(info.mem > 0);
	const struct rp_filter_prog *prog = rs->prog[RP_CHAIN_INPUT];
	CHECK_EQ(prog->n_seg, 4);
	CHECK_EQ(prog->seg[0].acl, 0);
	CHECK_EQ(prog->seg[0].end, 2);
	CHECK_EQ(prog->seg[1].acl, 1);
	CHECK_EQ(prog->seg[1].first, 2);
	CHECK_EQ(prog->seg[1].end, 5);
	CHECK_EQ(prog->n_eff, 1);
	CHECK_EQ(prog->eff[0], 3);
	CHECK_EQ(prog->per_packet, 0);
	rp_filter_prog_info(rs, RP_CHAIN_FORWARD, &info);
	CHECK_EQ(info.flat_rules, 0);
	CHECK_EQ(info.segments, 0);

	uint64_t hz = rte_get_tsc_hz();
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
	struct log_rec logs = {0};
	fw->log = log_cb;
	fw->log_arg = &logs;
	struct rp_filter_pkt p[9] = {
		pkt(TCP, IP4(10, 1, 1, 1), 2, 999, 80, RP_CT_ESTABLISHED),  /* rule 0 */
		pkt(UDP, IP4(10, 1, 1, 1), 2, 999, 80, RP_CT_INVALID),      /* rule 1 */
		pkt(TCP, IP4(10, 1, 1, 1), 2, 999, 22, RP_CT_NEW),          /* rule 2 */
		pkt(UDP, IP4(192, 0, 2, 1), 2, 999, 123, RP_CT_NEW),        /* LOG, rule 4 */
		pkt(ICMP, IP4(192, 0, 2, 1), 2, 0, 0, RP_CT_NEW),           /* LOG, rule 5 */
		pkt(ICMP, IP4(10, 0, 0, 9), 2, 0, 0, RP_CT_NEW),            /* LOG, no token, rule 6 */
		pkt(TCP, IP4(10, 0, 0, 9), 2, 999, 80, RP_CT_NEW),          /* LOG, policy */
		pkt(47, IP4(10, 200, 0, 9), 2, 0, 0, RP_CT_NEW),            /* LOG, rule 6 */
		pkt(UDP, IP4(11, 0, 0, 1), 2, 999, 54, RP_CT_NEW),          /* LOG, policy */
	};
	static const int32_t expect_rule[9] = {0, 1, 2, 4, 5, 6, -1, 6, -1};
	static const uint8_t expect_verdict[9] = {RP_T_ACCEPT, RP_T_DROP, RP_T_ACCEPT,
						  RP_T_ACCEPT, RP_T_ACCEPT, RP_T_REJECT,
						  RP_T_DROP, RP_T_REJECT, RP_T_DROP};
	struct rp_filter_result res[9];
	logs.base = p;
	rp_filter_classify(rs, RP_CHAIN_INPUT, p, 9, fw, 10 * hz, res);
	for (unsigned i = 0; i < 9; i++) {
		CHECK_EQ(res[i].rule, expect_rule[i]);
		CHECK_EQ(res[i].verdict, expect_verdict[i]);
	}
	CHECK_EQ(res[5].reject_with, RP_REJ_PORT_UNREACH);
	static const uint64_t expect_pkts[7] = {1, 1, 1, 6, 1, 1, 2};
	for (unsigned i = 0; i < 7; i++)
		CHECK_EQ(fw->pkts[i], expect_pkts[i]);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 2);
	CHECK_EQ(fw->policy_bytes[RP_CHAIN_INPUT], 200);
	CHECK_EQ(logs.n, 6);
	CHECK(!logs.bad_ptr);
	qsort(logs.key, logs.n, sizeof(logs.key[0]), cmp_u32);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(logs.key[i], (uint32_t)(3 + i) << 16 | 3);
	rp_filter_worker_free(fw);

	/* a dry run: the limit holds, nothing is counted */
	rp_filter_classify(rs, RP_CHAIN_INPUT, p, 9, NULL, 10 * hz, res);
	CHECK_EQ(res[5].rule, 5);
	check_same(rs, RP_CHAIN_INPUT, p, 9, 10 * hz, res);
	rs_free(rs);
}

/*
 * RETURN and -g inside user chains: SKIP entries and the contexts cut at
 * their targets; a -j with -m limit becomes a BRANCH.
 */
static void
test_inlined_chains(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_DROP, RP_T_ACCEPT);
	int A = chain_new(rs, "A"), L = chain_new(rs, "L");
	struct rp_rule *r;
	r = jump_add(rs, RP_CHAIN_FORWARD, RP_T_JUMP, A, "-p tcp -j A"); /* 0 */
	r->m.present = RP_M_PROTO;
	r->m.proto = TCP;
	r = jump_add(rs, RP_CHAIN_FORWARD, RP_T_JUMP, L, "-m limit -j L"); /* 1 */
	r->m.present = RP_M_LIMIT;
	r->m.limit_rate = 1;
	r->m.limit_period_us = 1000000;
	r->m.limit_burst = 2;
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_ACCEPT, "--dport 80 -j ACCEPT"); /* 2 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){80, 80};
	r = rule_add(rs, A, RP_T_RETURN, "-s 10.0.0.0/8 -j RETURN"); /* 3 */
	r->m.present = RP_M_SRC;
	r->m.src = IP4(10, 0, 0, 0);
	r->m.src_mask = 0xff000000;
	r = rule_add(rs, A, RP_T_ACCEPT, "--dport 80 -j ACCEPT"); /* 4 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){80, 80};
	r = rule_add(rs, A, RP_T_DROP, "--dport 81 -j DROP"); /* 5 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){81, 81};
	r = rule_add(rs, L, RP_T_ACCEPT, "--dport 81 -j ACCEPT"); /* 6 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){81, 81};

	char msg[256] = "";
	CHECK_EQ(compile(rs, "inl", msg, sizeof(msg)), 0);
	const struct rp_filter_prog *prog = rs->prog[RP_CHAIN_FORWARD];
	/* 0 EFFECT(-j A), 1 SKIP(RETURN), 2 DECIDE, 3 DECIDE, 4 BRANCH, 5 DECIDE, 6 DECIDE */
	CHECK_EQ(prog->n, 7);
	CHECK_EQ(prog->e[0].kind, RP_FE_EFFECT);
	CHECK_EQ(prog->e[1].kind, RP_FE_SKIP);
	CHECK_EQ(prog->e[1].target, 4);
	CHECK_EQ(prog->e[1].n_terms, 2); /* -p tcp AND -s 10/8 */
	CHECK_EQ(prog->e[4].kind, RP_FE_BRANCH);
	CHECK_EQ(prog->e[4].target, 6);
	CHECK_EQ(prog->e[5].n_terms, 1); /* the limit is not ANDed in */
	CHECK_EQ(prog->e[6].decide_rule, 2);
	/* contexts: [1,4) then the branch alone, then [5,6) and [6,7) cut at the target */
	CHECK_EQ(prog->n_seg, 4);
	CHECK_EQ(prog->seg[0].first, 1);
	CHECK_EQ(prog->seg[0].end, 4);
	CHECK_EQ(prog->seg[1].acl, 0);
	CHECK_EQ(prog->seg[2].first, 5);
	CHECK_EQ(prog->seg[3].first, 6);

	uint64_t hz = rte_get_tsc_hz();
	struct rp_filter_worker *fa = rp_filter_worker_create(rs, 1);
	struct rp_filter_worker *fb = rp_filter_worker_create(rs, 1);
	struct rp_filter_pkt p[6] = {
		pkt(TCP, IP4(10, 0, 0, 1), 2, 5, 80, RP_CT_NEW),     /* RETURN, branch (token 1), rule 2 */
		pkt(TCP, IP4(11, 0, 0, 1), 2, 5, 80, RP_CT_NEW),     /* rule 4 */
		pkt(TCP, IP4(11, 0, 0, 1), 2, 5, 81, RP_CT_NEW),     /* rule 5 */
		pkt(TCP, IP4(10, 0, 0, 1), 2, 5, 81, RP_CT_NEW),     /* RETURN, branch (token 2), rule 6 */
		pkt(UDP, IP4(10, 0, 0, 1), 2, 5, 81, RP_CT_NEW),     /* no token left: policy */
		pkt(UDP, IP4(10, 0, 0, 1), 2, 5, 80, RP_CT_NEW),     /* no token: rule 2 */
	};
	static const int32_t expect[6] = {2, 4, 5, 6, -1, 2};
	struct rp_filter_result res[6], ref;
	rp_filter_classify(rs, RP_CHAIN_FORWARD, p, 6, fa, hz, res);
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(res[i].rule, expect[i]);
		rp_filter_eval_linear(rs, RP_CHAIN_FORWARD, &p[i], fb, hz, &ref);
		CHECK_EQ(ref.rule, expect[i]);
	}
	static const uint64_t expect_pkts[7] = {4, 2, 2, 2, 1, 1, 1};
	for (unsigned i = 0; i < 7; i++) {
		CHECK_EQ(fa->pkts[i], expect_pkts[i]);
		CHECK_EQ(fb->pkts[i], expect_pkts[i]);
	}
	CHECK_EQ(fa->policy_pkts[RP_CHAIN_FORWARD], 1);
	rp_filter_worker_free(fa);
	rp_filter_worker_free(fb);
	rs_free(rs);
}

static void
test_errors(void)
{
	char msg[512];
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT);
	int A = chain_new(rs, "A"), B = chain_new(rs, "B");
	jump_add(rs, RP_CHAIN_INPUT, RP_T_JUMP, A, "-A INPUT -j A");
	jump_add(rs, A, RP_T_JUMP, B, "-A A -j B");
	jump_add(rs, B, RP_T_GOTO, A, "-A B -g A");
	msg[0] = 0;
	CHECK_EQ(compile(rs, "err1", msg, sizeof(msg)), -ELOOP);
	CHECK_STR_CONTAINS(msg, "rules.v4:3: rule \"-A B -g A\": jumps into a chain that leads back to itself (loop)");
	CHECK(rs->prog[RP_CHAIN_INPUT] == NULL);
	rs_free(rs);

	rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT);
	jump_add(rs, RP_CHAIN_FORWARD, RP_T_JUMP, RP_CHAIN_INPUT, "-A FORWARD -j INPUT");
	msg[0] = 0;
	CHECK_EQ(compile(rs, "err2", msg, sizeof(msg)), -EINVAL);
	CHECK_STR_CONTAINS(msg, "rules.v4:1: rule \"-A FORWARD -j INPUT\": jumps to no user chain");
	rs_free(rs);

	/* 65 chains deep: one more than the linear evaluator's stack */
	rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT);
	int prev = RP_CHAIN_INPUT;
	for (int i = 0; i <= RP_FILTER_MAX_DEPTH; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%d", i);
		int c = chain_new(rs, name);
		jump_add(rs, prev, RP_T_JUMP, c, "-j deeper");
		prev = c;
	}
	msg[0] = 0;
	CHECK_EQ(compile(rs, "err3", msg, sizeof(msg)), -ELOOP);
	CHECK_STR_CONTAINS(msg, "chains nested deeper than 64 calls");
	rs_free(rs);

	/* exactly 64 deep compiles and decides like the reference */
	rs = rs_new(RP_T_DROP, RP_T_ACCEPT, RP_T_ACCEPT);
	prev = RP_CHAIN_INPUT;
	for (int i = 0; i < RP_FILTER_MAX_DEPTH; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%d", i);
		int c = chain_new(rs, name);
		jump_add(rs, prev, RP_T_JUMP, c, "-j deeper");
		prev = c;
	}
	rule_add(rs, prev, RP_T_ACCEPT, "-j ACCEPT");
	CHECK_EQ(compile(rs, "deep", msg, sizeof(msg)), 0);
	struct rp_filter_pkt p = pkt(UDP, 1, 2, 3, 4, RP_CT_NEW);
	struct rp_filter_result res, ref;
	rp_filter_classify(rs, RP_CHAIN_INPUT, &p, 1, NULL, 0, &res);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &p, NULL, 0, &ref);
	CHECK_EQ(res.rule, (int32_t)RP_FILTER_MAX_DEPTH);
	CHECK_EQ(ref.rule, (int32_t)RP_FILTER_MAX_DEPTH);

	/* a second ruleset with the same context names is refused */
	struct rp_ruleset *rs2 = rs_new(RP_T_DROP, RP_T_ACCEPT, RP_T_ACCEPT);
	rule_add(rs2, RP_CHAIN_INPUT, RP_T_ACCEPT, "-j ACCEPT");
	msg[0] = 0;
	CHECK_EQ(compile(rs2, "deep", msg, sizeof(msg)), -EEXIST);
	CHECK_STR_CONTAINS(msg, "ACL context deepI");
	CHECK_STR_CONTAINS(msg, "exists already");
	CHECK_EQ(compile(rs2, "deep2", msg, sizeof(msg)), 0);
	rs_free(rs2);
	rs_free(rs);
}

/* 2^17 ways through nested chains: too many to inline, kept as one CALL. */
static void
test_call_fallback(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_ACCEPT, RP_T_ACCEPT);
	enum { LEVELS = 17 };
	int ch[LEVELS + 1];
	for (int i = 0; i <= LEVELS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		ch[i] = chain_new(rs, name);
	}
	struct rp_rule *r = rule_add(rs, RP_CHAIN_INPUT, RP_T_DROP, "--dport 1 -j DROP"); /* 0 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){1, 1};
	jump_add(rs, RP_CHAIN_INPUT, RP_T_JUMP, ch[0], "-j n0"); /* 1 */
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT, "--dport 2 -j ACCEPT"); /* 2 */
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){2, 2};
	for (int i = 0; i < LEVELS; i++) {
		r = jump_add(rs, ch[i], RP_T_JUMP, ch[i + 1], "-p tcp -j next");
		r->m.present = RP_M_PROTO;
		r->m.proto = TCP;
		jump_add(rs, ch[i], RP_T_JUMP, ch[i + 1], "-j next");
	}
	r = rule_add(rs, ch[LEVELS], RP_T_LOG, "-j LOG");
	r = rule_add(rs, ch[LEVELS], RP_T_REJECT, "--dport 3 -j REJECT");
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){3, 3};
	r->reject_with = RP_REJ_HOST_PROHIBITED;

	char msg[256] = "";
	CHECK_EQ(compile(rs, "call", msg, sizeof(msg)), 0);
	const struct rp_filter_prog *prog = rs->prog[RP_CHAIN_INPUT];
	CHECK_EQ(prog->n, 3);
	CHECK_EQ(prog->e[1].kind, RP_FE_CALL);
	CHECK_EQ(prog->e[1].top, 1);

	struct rp_filter_worker *fa = rp_filter_worker_create(rs, 1);
	struct rp_filter_worker *fb = rp_filter_worker_create(rs, 1);
	struct log_rec la = {0}, lb = {0};
	fa->log = fb->log = log_cb;
	fa->log_arg = &la;
	fb->log_arg = &lb;
	struct rp_filter_pkt p[4] = {
		pkt(UDP, 1, 2, 5, 1, RP_CT_NEW), pkt(UDP, 1, 2, 5, 2, RP_CT_NEW),
		pkt(UDP, 1, 2, 5, 3, RP_CT_NEW), pkt(TCP, 1, 2, 5, 4, RP_CT_NEW)};
	static const int32_t expect[4] = {0, 2, -1, -1};
	struct rp_filter_result res[4], ref;
	la.base = lb.base = p;
	rp_filter_classify(rs, RP_CHAIN_INPUT, p, 4, fa, 0, res);
	for (unsigned i = 0; i < 4; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &p[i], fb, 0, &ref);
		CHECK_EQ(ref.rule, expect[i] >= 0 ? expect[i] : (i == 2 ? (int32_t)rs->n_rules - 1 : -1));
		CHECK_EQ(res[i].rule, ref.rule);
		CHECK_EQ(res[i].verdict, ref.verdict);
		CHECK_EQ(res[i].reject_with, ref.reject_with);
	}
	CHECK_EQ(res[2].verdict, RP_T_REJECT);
	CHECK_EQ(res[2].reject_with, RP_REJ_HOST_PROHIBITED);
	for (unsigned i = 0; i < rs->n_rules; i++)
		CHECK_EQ(fa->pkts[i], fb->pkts[i]);
	/* the TCP packet went through all 2^17 paths: the LOG counted each */
	CHECK_EQ(fa->pkts[rs->n_rules - 2], 1 + 1 + (1u << LEVELS));
	CHECK_EQ(la.n, 1 + 1 + (1u << LEVELS));
	CHECK_EQ(lb.n, la.n);
	rp_filter_worker_free(fa);
	rp_filter_worker_free(fb);
	rs_free(rs);
}

/*
 * One -m limit rule reachable through two -j: the tcp path comes first in
 * the flat program, but the UDP packet comes first in the burst and must
 * get the only token, as with the reference.
 */
static void
test_shared_limit(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_ACCEPT, RP_T_ACCEPT);
	int L = chain_new(rs, "L");
	struct rp_rule *r = jump_add(rs, RP_CHAIN_INPUT, RP_T_JUMP, L, "-p tcp -j L");
	r->m.present = RP_M_PROTO;
	r->m.proto = TCP;
	r = jump_add(rs, RP_CHAIN_INPUT, RP_T_JUMP, L, "-p udp -j L");
	r->m.present = RP_M_PROTO;
	r->m.proto = UDP;
	r = rule_add(rs, L, RP_T_ACCEPT, "-m limit --limit 1/s --limit-burst 1 -j ACCEPT");
	r->m.present = RP_M_LIMIT;
	r->m.limit_rate = 1;
	r->m.limit_period_us = 1000000;
	r->m.limit_burst = 1;
	/* an ACL rule after it puts the two copies of the limit rule in different segments */
	r = rule_add(rs, L, RP_T_DROP, "--dport 9 -j DROP");
	r->m.present = RP_M_DPORT;
	r->m.dport = (struct rp_range16){9, 9};
	char msg[256] = "";
	CHECK_EQ(compile(rs, "shl", msg, sizeof(msg)), 0);
	CHECK_EQ(rs->prog[RP_CHAIN_INPUT]->per_packet, 1);
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
	struct rp_filter_pkt p[2] = {pkt(UDP, 1, 2, 3, 4, RP_CT_NEW), pkt(TCP, 1, 2, 3, 4, RP_CT_NEW)};
	struct rp_filter_result res[2];
	rp_filter_classify(rs, RP_CHAIN_INPUT, p, 2, fw, rte_get_tsc_hz(), res);
	CHECK_EQ(res[0].rule, 2);
	CHECK_EQ(res[0].verdict, RP_T_ACCEPT);
	CHECK_EQ(res[1].rule, -1);
	CHECK_EQ(res[1].verdict, RP_T_DROP);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

/* 256 rte_acl rules for one entry are fine; 512 are not: the entry is checked linearly. */
static void
test_expansion_cap(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT);
	for (int k = 0; k < 2; k++) {
		struct rp_rule *r = rule_add(rs, RP_CHAIN_INPUT, RP_T_DROP, "! --ports 15 ports");
		r->m.present = RP_M_PROTO | RP_M_MPORT;
		r->m.proto = TCP;
		r->m.negated = RP_M_MPORT;
		r->m.mport_kind = RP_MPORT_ANY;
		r->m.n_mport = 15;
		for (int i = 0; i < 15; i++)
			r->m.mport[i] = (struct rp_range16){(uint16_t)(100 * (i + 1) + k),
							    (uint16_t)(100 * (i + 1) + k)};
		if (k == 1) { /* and not from one /24: two source ranges */
			r->m.present |= RP_M_SRC;
			r->m.negated |= RP_M_SRC;
			r->m.src = IP4(192, 0, 2, 0);
			r->m.src_mask = 0xffffff00;
		}
	}
	char msg[256] = "";
	CHECK_EQ(compile(rs, "cap", msg, sizeof(msg)), 0);
	struct rp_filter_prog_info info;
	rp_filter_prog_info(rs, RP_CHAIN_INPUT, &info);
	CHECK_EQ(info.acl_rules, 256);
	CHECK_EQ(info.barriers, 1);
	CHECK_EQ(info.segments, 1);
	struct rp_filter_pkt p[4] = {
		pkt(TCP, IP4(192, 0, 3, 1), 2, 100, 5, RP_CT_NEW),   /* 100 spares it from rule 0 only */
		pkt(TCP, IP4(192, 0, 3, 1), 2, 7, 8, RP_CT_NEW),     /* rule 0 */
		pkt(TCP, IP4(192, 0, 3, 1), 2, 700, 101, RP_CT_NEW), /* 700 from rule 0, 101 from rule 1 */
		pkt(TCP, IP4(192, 0, 2, 1), 2, 100, 5, RP_CT_NEW),   /* the /24 from rule 1 */
	};
	static const int32_t expect[4] = {1, 0, -1, -1};
	struct rp_filter_result res[4];
	rp_filter_classify(rs, RP_CHAIN_INPUT, p, 4, NULL, 0, res);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(res[i].rule, expect[i]);
	check_same(rs, RP_CHAIN_INPUT, p, 4, 0, res);
	rs_free(rs);
}

/*
 * Through the parser: an iptables-style ruleset as a user writes it, parsed,
 * compiled, classified, and freed by rp_ruleset_free (which frees the
 * compiled chains too).
 */
static void
test_parsed_ruleset(void)
{
	static const char *const rules[] = {
		"-P FORWARD DROP",
		"-N web",
		"-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
		"-A FORWARD -m state --state INVALID -j DROP",
		"-A FORWARD -i lan0 -o wan0 -p tcp -j web",
		"-A FORWARD -p icmp --icmp-type echo-request -m limit --limit 2/s --limit-burst 1 -j ACCEPT",
		"-A FORWARD -j LOG --log-prefix \"fwd drop: \"",
		"-A web -s 198.18.1.66 -j RETURN",
		"-A web -p tcp -m multiport --dports 80,443 -j ACCEPT",
		"-A web -p tcp --dport 25 -j REJECT --reject-with tcp-reset",
	};
	int lines[RTE_DIM(rules)];
	for (unsigned i = 0; i < RTE_DIM(rules); i++)
		lines[i] = 10 + (int)i;
	struct rp_filter_source src = {
		.file = "rampart.conf", .rules = rules, .rule_lines = lines, .n_rules = RTE_DIM(rules),
	};
	struct rp_filter_ports ports = {.name = {"lan0", "wan0"}, .n = 2};
	char msg[1024] = "";
	FILE *err = fmemopen(msg, sizeof(msg), "w");
	int n_errors = -1;
	struct rp_ruleset *rs = rp_ruleset_parse(&src, &ports, err, &n_errors);
	fclose(err);
	CHECK(rs != NULL);
	CHECK_EQ(n_errors, 0);
	if (rs == NULL) {
		fprintf(stderr, "%s", msg);
		return;
	}
	CHECK_EQ(compile(rs, "parsed", msg, sizeof(msg)), 0);
	struct rp_filter_prog_info info;
	rp_filter_prog_info(rs, RP_CHAIN_FORWARD, &info);
	/* 2 state rules, EFFECT(-j web), SKIP, ACCEPT, REJECT, limit, LOG */
	CHECK_EQ(info.flat_rules, 8);
	CHECK_EQ(info.acl_rules, 1 + 2 + 1);
	CHECK_EQ(info.barriers, 2 + 1 + 1 + 1);

	uint32_t lan = IP4(198, 18, 1, 10), wan = IP4(198, 19, 1, 10);
	struct rp_filter_pkt p[7] = {
		pkt(TCP, lan, wan, 40000, 443, RP_CT_NEW),
		pkt(TCP, wan, lan, 443, 40000, RP_CT_ESTABLISHED),
		pkt(TCP, lan, wan, 40001, 25, RP_CT_NEW),
		pkt(TCP, IP4(198, 18, 1, 66), wan, 40002, 80, RP_CT_NEW), /* RETURNs: LOG, policy */
		pkt(ICMP, lan, wan, 0, 0, RP_CT_NEW),
		pkt(ICMP, lan, wan, 0, 0, RP_CT_NEW),                     /* no token left */
		pkt(UDP, wan, lan, 53, 5353, RP_CT_INVALID),
	};
	for (unsigned i = 0; i < 7; i++) {
		p[i].in_port = p[i].src == wan ? 1 : 0;
		p[i].out_port = p[i].src == wan ? 0 : 1;
	}
	p[4].icmp_type = p[5].icmp_type = 8;
	static const int32_t expect[7] = {6, 0, 7, -1, 3, -1, 1};
	static const uint8_t verdict[7] = {RP_T_ACCEPT, RP_T_ACCEPT, RP_T_REJECT, RP_T_DROP,
					   RP_T_ACCEPT, RP_T_DROP, RP_T_DROP};
	struct rp_filter_worker *fa = rp_filter_worker_create(rs, 1);
	struct rp_filter_worker *fb = rp_filter_worker_create(rs, 1);
	struct rp_filter_result res[7], ref;
	rp_filter_classify(rs, RP_CHAIN_FORWARD, p, 7, fa, rte_get_tsc_hz(), res);
	for (unsigned i = 0; i < 7; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_FORWARD, &p[i], fb, rte_get_tsc_hz(), &ref);
		CHECK_EQ(res[i].rule, expect[i]);
		CHECK_EQ(res[i].verdict, verdict[i]);
		CHECK_EQ(ref.rule, expect[i]);
	}
	CHECK_EQ(res[2].reject_with, RP_REJ_TCP_RESET);
	for (unsigned i = 0; i < rs->n_rules; i++)
		CHECK_EQ(fa->pkts[i], fb->pkts[i]);
	CHECK_EQ(fa->pkts[2], 3); /* the -j web: three TCP packets from lan0 */
	CHECK_EQ(fa->pkts[5], 1); /* the RETURN */
	CHECK_EQ(fa->pkts[4], 2); /* LOG: the RETURNed one and the ICMP without a token */
	CHECK_EQ(fa->policy_pkts[RP_CHAIN_FORWARD], 2);
	rp_filter_worker_free(fa);
	rp_filter_worker_free(fb);
	rp_ruleset_free(rs);
}

/* ---- the differential test ------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static unsigned
below(unsigned n)
{
	return n ? rnd() % n : 0;
}

static int
chance(unsigned percent)
{
	return below(100) < percent;
}

static const uint16_t port_pool[] = {0, 22, 53, 80, 81, 123, 443, 1000, 1001, 1002, 1003, 8080, 65535};
static const uint8_t proto_pool[] = {TCP, TCP, UDP, UDP, ICMP, 47};
static const uint8_t icmp_types[] = {0, 3, 8, 11};
static const uint8_t masklens[] = {0, 8, 16, 24, 24, 28, 30, 32};

static uint32_t
pool_addr(void)
{
	return IP4(10, below(4), below(3), 1 + below(6));
}

static uint32_t
mask_of(unsigned len)
{
	return len ? ~0u << (32 - len) : 0;
}

static uint16_t
pool_port(void)
{
	return port_pool[below(RTE_DIM(port_pool))];
}

static struct rp_range16
port_range(void)
{
	uint16_t lo = pool_port();
	uint16_t hi = lo;
	if (chance(30))
		hi = (uint16_t)RTE_MIN(65535u, (unsigned)lo + below(1000));
	if (chance(2))
		hi = lo ? lo - 1 : 0; /* inverted: never matches */
	return (struct rp_range16){lo, hi};
}

static void
random_match(struct rp_match *m)
{
	memset(m, 0, sizeof(*m));
	unsigned wanted = below(4); /* 0..3 matches, plus what they pull in */
	int consistent = chance(80);
	for (unsigned k = 0; k < wanted; k++) {
		switch (below(15)) {
		case 0:
			m->present |= RP_M_SRC;
			m->src = pool_addr();
			m->src_mask = mask_of(masklens[below(RTE_DIM(masklens))]);
			break;
		case 1:
			m->present |= RP_M_DST;
			m->dst = pool_addr();
			m->dst_mask = mask_of(masklens[below(RTE_DIM(masklens))]);
			break;
		case 2:
			m->present |= RP_M_SRCRANGE;
			m->src_range.lo = pool_addr();
			m->src_range.hi = m->src_range.lo + below(300) - (chance(3) ? 400 : 0);
			break;
		case 3:
			m->present |= RP_M_DSTRANGE;
			m->dst_range.lo = pool_addr();
			m->dst_range.hi = m->dst_range.lo + below(300);
			break;
		case 4:
			m->present |= RP_M_IN;
			m->in_ports = (uint16_t)(1 + below(15));
			break;
		case 5:
			m->present |= RP_M_OUT;
			m->out_ports = (uint16_t)(1 + below(15));
			break;
		case 6:
			m->present |= RP_M_STATE;
			m->states = (uint8_t)(1 + below(15));
			break;
		case 7:
			m->present |= RP_M_SPORT;
			m->sport = port_range();
			break;
		case 8:
			m->present |= RP_M_DPORT;
			m->dport = port_range();
			break;
		case 9:
			m->present |= RP_M_MPORT;
			m->mport_kind = (uint8_t)(RP_MPORT_SRC + below(3));
			m->n_mport = (uint8_t)(1 + below(RP_FILTER_MULTIPORT_MAX));
			for (unsigned i = 0; i < m->n_mport; i++)
				m->mport[i] = port_range();
			break;
		case 10:
			m->present |= RP_M_ICMP;
			m->icmp_type = chance(10) ? 255 : icmp_types[below(RTE_DIM(icmp_types))];
			m->icmp_code_lo = (uint8_t)below(3);
			m->icmp_code_hi = chance(50) ? m->icmp_code_lo : (uint8_t)(m->icmp_code_lo + below(4));
			break;
		case 11:
			m->present |= RP_M_TCPFLAGS;
			if (chance(40)) {
				m->tcp_mask = 0x17;
				m->tcp_comp = 0x02;
			} else {
				m->tcp_mask = (uint8_t)below(64);
				m->tcp_comp = (uint8_t)(below(64) & m->tcp_mask);
			}
			break;
		case 12:
			m->present |= RP_M_LIMIT;
			m->limit_rate = 1 + below(5);
			m->limit_period_us = chance(80) ? 1000000 : 60000000;
			m->limit_burst = 1 + below(5);
			break;
		case 13:
			switch (below(4)) {
			case 0:
				m->present |= RP_M_CTPROTO;
				m->ctproto = proto_pool[below(RTE_DIM(proto_pool))];
				break;
			case 1:
				m->present |= RP_M_CTORIGSRC;
				m->ctorigsrc = pool_addr();
				m->ctorigsrc_mask = mask_of(masklens[below(RTE_DIM(masklens))]);
				break;
			case 2:
				m->present |= RP_M_CTORIGDST;
				m->ctorigdst = pool_addr();
				m->ctorigdst_mask = mask_of(masklens[below(RTE_DIM(masklens))]);
				break;
			default:
				m->present |= RP_M_FRAG;
				break;
			}
			break;
		default:
			m->present |= RP_M_PROTO;
			m->proto = chance(5) ? 0 : proto_pool[below(RTE_DIM(proto_pool))];
			break;
		}
	}
	/* negate some (never -m limit, which iptables cannot negate) */
	for (uint32_t bit = 1; bit <= RP_M_FRAG; bit <<= 1)
		if ((m->present & bit) && bit != RP_M_LIMIT && chance(20))
			m->negated |= bit;
	/* most rules say -p for their L4 matches, as iptables requires */
	if (consistent) {
		if (m->present & RP_M_ICMP) {
			m->present |= RP_M_PROTO;
			m->proto = ICMP;
			m->negated &= ~RP_M_PROTO;
		} else if (m->present & RP_M_TCPFLAGS) {
			m->present |= RP_M_PROTO;
			m->proto = TCP;
			m->negated &= ~RP_M_PROTO;
		} else if (m->present & (RP_M_SPORT | RP_M_DPORT | RP_M_MPORT)) {
			m->present |= RP_M_PROTO;
			m->proto = chance(50) ? TCP : UDP;
			m->negated &= ~RP_M_PROTO;
		}
	}
}

static struct rp_ruleset *
random_ruleset(void)
{
	static const uint8_t policies[2] = {RP_T_ACCEPT, RP_T_DROP};
	struct rp_ruleset *rs =
		rs_new(policies[below(2)], policies[below(2)], policies[below(2)]);
	unsigned n_user = below(6);
	for (unsigned i = 0; i < n_user; i++) {
		char name[16];
		snprintf(name, sizeof(name), "u%u", i);
		chain_new(rs, name);
	}
	unsigned n_rules = 1 + below(200);
	for (unsigned k = 0; k < n_rules; k++) {
		int chain = (int)below(rs->n_chains);
		if (chance(40))
			chain = (int)below(RP_CHAIN_BUILTIN_MAX);
		/* jumps go to later user chains only: no loops */
		int first_target = chain < RP_CHAIN_BUILTIN_MAX ? RP_CHAIN_BUILTIN_MAX : chain + 1;
		int targets = (int)rs->n_chains - first_target;
		uint8_t target;
		unsigned t = below(100);
		if (t < 25)
			target = RP_T_ACCEPT;
		else if (t < 45)
			target = RP_T_DROP;
		else if (t < 55)
			target = RP_T_REJECT;
		else if (t < 65)
			target = RP_T_LOG;
		else if (t < 70)
			target = RP_T_NONE;
		else if (t < 78)
			target = RP_T_RETURN;
		else if (t < 90)
			target = RP_T_JUMP;
		else
			target = RP_T_GOTO;
		if ((target == RP_T_JUMP || target == RP_T_GOTO) && targets <= 0)
			target = RP_T_DROP;
		struct rp_rule *r = rule_add(rs, chain, target, NULL);
		random_match(&r->m);
		if (target == RP_T_JUMP || target == RP_T_GOTO)
			r->jump = (int16_t)(first_target + (int)below((unsigned)targets));
		if (target == RP_T_REJECT)
			r->reject_with = (uint8_t)below(RP_REJ_TCP_RESET + 1);
	}
	return rs;
}

static const struct rp_rule *
rule_by_id(const struct rp_ruleset *rs, uint32_t id)
{
	for (unsigned c = 0; c < rs->n_chains; c++)
		for (unsigned i = 0; i < rs->chains[c].n_rules; i++)
			if (rs->chains[c].rules[i].id == id)
				return &rs->chains[c].rules[i];
	return NULL;
}

static uint32_t
in_prefix(uint32_t net, uint32_t mask)
{
	return (net & mask) | (rnd() & ~mask);
}

static uint16_t
in_range(struct rp_range16 r)
{
	if (r.lo > r.hi)
		return r.lo;
	return (uint16_t)(r.lo + below((unsigned)r.hi - r.lo + 1));
}

static void
random_pkt(const struct rp_ruleset *rs, struct rp_filter_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->proto = chance(3) ? (uint8_t)below(256) : proto_pool[below(RTE_DIM(proto_pool))];
	p->src = chance(90) ? pool_addr() : rnd();
	p->dst = chance(90) ? pool_addr() : rnd();
	p->state = (uint8_t)below(RP_CT_STATE_MAX);
	p->in_port = chance(10) ? NOPORT : (uint8_t)below(5);
	p->out_port = chance(10) ? NOPORT : (uint8_t)below(5);
	p->fragment = chance(3);
	p->ct_proto = chance(70) ? p->proto : proto_pool[below(RTE_DIM(proto_pool))];
	p->ct_orig_src = chance(70) ? p->src : pool_addr();
	p->ct_orig_dst = chance(70) ? p->dst : pool_addr();
	p->len = 40 + below(1461);

	/* aim at one rule: take the values its positive matches want */
	if (rs->n_rules > 0 && chance(70)) {
		const struct rp_match *m = &rule_by_id(rs, below(rs->n_rules))->m;
		uint32_t pos = m->present & ~m->negated;
		if ((pos & RP_M_PROTO) && m->proto)
			p->proto = m->proto;
		if (pos & RP_M_SRC)
			p->src = in_prefix(m->src, m->src_mask);
		if (pos & RP_M_DST)
			p->dst = in_prefix(m->dst, m->dst_mask);
		if ((pos & RP_M_SRCRANGE) && m->src_range.lo <= m->src_range.hi)
			p->src = m->src_range.lo + below(m->src_range.hi - m->src_range.lo + 1);
		if ((pos & RP_M_DSTRANGE) && m->dst_range.lo <= m->dst_range.hi)
			p->dst = m->dst_range.lo + below(m->dst_range.hi - m->dst_range.lo + 1);
		if (pos & RP_M_STATE)
			for (unsigned s = below(4), k = 0; k < 4; k++, s = (s + 1) % 4)
				if (m->states & RP_STATE_BIT(s)) {
					p->state = (uint8_t)s;
					break;
				}
		if (pos & RP_M_IN)
			p->in_port = (uint8_t)(__builtin_ctz(m->in_ports));
		if (pos & RP_M_OUT)
			p->out_port = (uint8_t)(31 - __builtin_clz(m->out_ports));
		if (pos & RP_M_SPORT)
			p->sport = in_range(m->sport);
		if (pos & RP_M_DPORT)
			p->dport = in_range(m->dport);
		if ((pos & RP_M_MPORT) && m->n_mport) {
			struct rp_range16 r = m->mport[below(m->n_mport)];
			if (m->mport_kind == RP_MPORT_SRC || chance(50))
				p->sport = in_range(r);
			else
				p->dport = in_range(r);
		}
		if ((pos & RP_M_ICMP) && m->icmp_type != 255) {
			p->icmp_type = m->icmp_type;
			p->icmp_code = m->icmp_code_lo;
		}
		if (pos & RP_M_TCPFLAGS)
			p->tcp_flags = (uint8_t)((rnd() & ~m->tcp_mask) | m->tcp_comp);
		if (pos & RP_M_FRAG)
			p->fragment = 1;
		if (pos & (RP_M_SPORT | RP_M_DPORT | RP_M_MPORT | RP_M_ICMP | RP_M_TCPFLAGS))
			p->fragment = 0;
	}
	/* fields of other protocols stay as they are, or not: both must agree either way */
	if (p->proto != TCP && p->proto != UDP && chance(80))
		p->sport = p->dport = 0;
	if (p->proto == ICMP && p->icmp_type == 0 && chance(50)) {
		p->icmp_type = icmp_types[below(RTE_DIM(icmp_types))];
		p->icmp_code = (uint8_t)below(4);
	}
	if (p->proto == TCP && p->tcp_flags == 0)
		p->tcp_flags = (uint8_t)below(64);
	if ((p->proto == TCP || p->proto == UDP) && p->sport == 0 && chance(70))
		p->sport = pool_port();
	if ((p->proto == TCP || p->proto == UDP) && p->dport == 0 && chance(70))
		p->dport = pool_port();
}

static void
dump_pkt(const struct rp_filter_pkt *p)
{
	fprintf(stderr,
		"  pkt proto %u src %08x dst %08x sport %u dport %u state %u in %u out %u icmp %u/%u "
		"flags %02x frag %u ct %u %08x %08x\n",
		p->proto, p->src, p->dst, p->sport, p->dport, p->state, p->in_port, p->out_port,
		p->icmp_type, p->icmp_code, p->tcp_flags, p->fragment, p->ct_proto, p->ct_orig_src,
		p->ct_orig_dst);
}

static void
dump_ruleset(const struct rp_ruleset *rs)
{
	for (unsigned c = 0; c < rs->n_chains; c++) {
		const struct rp_chain *ch = &rs->chains[c];
		fprintf(stderr, "  chain %u %s policy %u\n", c, ch->name, ch->policy);
		for (unsigned i = 0; i < ch->n_rules; i++) {
			const struct rp_rule *r = &ch->rules[i];
			const struct rp_match *m = &r->m;
			fprintf(stderr,
				"    #%u target %u jump %d present %05x neg %05x proto %u src %08x/%08x "
				"dst %08x/%08x in %x out %x sp %u-%u dp %u-%u mp %u:%u states %x icmp %u "
				"%u-%u tcp %02x/%02x\n",
				r->id, r->target, r->jump, m->present, m->negated, m->proto, m->src,
				m->src_mask, m->dst, m->dst_mask, m->in_ports, m->out_ports, m->sport.lo,
				m->sport.hi, m->dport.lo, m->dport.hi, m->mport_kind, m->n_mport,
				m->states, m->icmp_type, m->icmp_code_lo, m->icmp_code_hi, m->tcp_mask,
				m->tcp_comp);
		}
	}
}

static void
test_differential(void)
{
	uint64_t hz = rte_get_tsc_hz();
	static struct rp_filter_pkt burst[256];
	static struct rp_filter_result ra[256], rb[256];
	static struct log_rec la, lb;
	unsigned total_pkts = 0, decided_by_rule = 0, failed_sets = 0;
	unsigned acl_rules = 0, segments = 0, branches = 0, skips = 0;

	for (unsigned set = 0; set < RULESETS; set++) {
		struct rp_ruleset *rs = random_ruleset();
		char prefix[16], msg[512] = "";
		snprintf(prefix, sizeof(prefix), "d%u", set);
		int rc = compile(rs, prefix, msg, sizeof(msg));
		CHECK_EQ(rc, 0);
		if (rc != 0) {
			fprintf(stderr, "ruleset %u: %s\n", set, msg);
			rs_free(rs);
			continue;
		}
		for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
			const struct rp_filter_prog *prog = rs->prog[c];
			acl_rules += prog->info.acl_rules;
			segments += prog->info.segments;
			for (uint32_t p = 0; p < prog->n; p++) {
				branches += prog->e[p].kind == RP_FE_BRANCH;
				skips += prog->e[p].kind == RP_FE_SKIP;
			}
		}
		unsigned n_workers = 1 + below(4);
		struct rp_filter_worker *fa = rp_filter_worker_create(rs, n_workers);
		struct rp_filter_worker *fb = rp_filter_worker_create(rs, n_workers);
		fa->log = fb->log = log_cb;
		fa->log_arg = &la;
		fb->log_arg = &lb;
		uint64_t now = 1000 * hz;
		int bad = 0;
		unsigned bursts = 32;
		for (unsigned b = 0; b < bursts && !bad; b++) {
			unsigned n = 1 + below(chance(10) ? 256 : 64);
			enum rp_chain_id chain = (enum rp_chain_id)below(RP_CHAIN_BUILTIN_MAX);
			now += below(4) == 0 ? hz * below(3) : below((unsigned)(hz / 8));
			for (unsigned i = 0; i < n; i++)
				random_pkt(rs, &burst[i]);
			la.n = lb.n = 0;
			la.base = lb.base = burst;
			rp_filter_classify(rs, chain, burst, n, fa, now, ra);
			for (unsigned i = 0; i < n; i++)
				rp_filter_eval_linear(rs, chain, &burst[i], fb, now, &rb[i]);
			for (unsigned i = 0; i < n && !bad; i++) {
				if (ra[i].verdict != rb[i].verdict || ra[i].rule != rb[i].rule ||
				    ra[i].reject_with != rb[i].reject_with) {
					fprintf(stderr,
						"ruleset %u burst %u chain %u packet %u: compiled %u/%d/%u, "
						"linear %u/%d/%u\n",
						set, b, chain, i, ra[i].verdict, ra[i].rule,
						ra[i].reject_with, rb[i].verdict, rb[i].rule,
						rb[i].reject_with);
					dump_pkt(&burst[i]);
					bad = 1;
				}
				total_pkts++;
				decided_by_rule += rb[i].rule >= 0;
			}
			unsigned kept = RTE_MIN(la.n, (unsigned)LOG_MAX);
			qsort(la.key, kept, sizeof(la.key[0]), cmp_u32);
			qsort(lb.key, RTE_MIN(lb.n, (unsigned)LOG_MAX), sizeof(lb.key[0]), cmp_u32);
			if (!bad && (la.n != lb.n || la.bad_ptr ||
				     (la.n <= LOG_MAX &&
				      memcmp(la.key, lb.key, kept * sizeof(la.key[0]))))) {
				fprintf(stderr, "ruleset %u burst %u: LOG calls differ (%u vs %u)\n", set,
					b, la.n, lb.n);
				bad = 1;
			}
			/* dry runs */
			rp_filter_classify(rs, chain, burst, n, NULL, now, ra);
			for (unsigned i = 0; i < n && !bad; i++) {
				rp_filter_eval_linear(rs, chain, &burst[i], NULL, now, &rb[i]);
				if (ra[i].verdict != rb[i].verdict || ra[i].rule != rb[i].rule) {
					fprintf(stderr, "ruleset %u burst %u packet %u: dry runs differ\n",
						set, b, i);
					dump_pkt(&burst[i]);
					bad = 1;
				}
			}
		}
		for (unsigned i = 0; i < rs->n_rules && !bad; i++)
			if (fa->pkts[i] != fb->pkts[i] || fa->bytes[i] != fb->bytes[i]) {
				fprintf(stderr, "ruleset %u: rule %u counted %lu/%lu compiled, %lu/%lu linear\n",
					set, i, (unsigned long)fa->pkts[i], (unsigned long)fa->bytes[i],
					(unsigned long)fb->pkts[i], (unsigned long)fb->bytes[i]);
				bad = 1;
			}
		for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX && !bad; c++)
			if (fa->policy_pkts[c] != fb->policy_pkts[c] ||
			    fa->policy_bytes[c] != fb->policy_bytes[c]) {
				fprintf(stderr, "ruleset %u: policy of chain %u counted differently\n", set, c);
				bad = 1;
			}
		if (bad) {
			dump_ruleset(rs);
			failed_sets++;
		}
		rp_filter_worker_free(fa);
		rp_filter_worker_free(fb);
		rs_free(rs);
	}
	CHECK_EQ(failed_sets, 0);
	printf("differential: %u rulesets, %u packets (%u decided by a rule), %u ACL rules in %u "
	       "contexts, %u SKIP and %u BRANCH entries\n",
	       RULESETS, total_pkts, decided_by_rule, acl_rules, segments, skips, branches);
	/* the generator must exercise what it claims to */
	CHECK(decided_by_rule > total_pkts / 3);
	CHECK(skips > 100);
	CHECK(branches > 20);
}

int
main(void)
{
	rp_test_eal_init("test_filter_diff");
	test_shape_and_verdicts();
	test_inlined_chains();
	test_errors();
	test_call_fallback();
	test_shared_limit();
	test_expansion_cap();
	test_parsed_ruleset();
	test_differential();
	return rp_test_done("test_filter_diff");
}
