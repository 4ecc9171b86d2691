/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The linear evaluator, the filter's reference semantics: every match with
 * and without '!', as iptables gives it meaning (L4 matches hold only for
 * their protocol and never for non-first fragments, -p all matches even
 * negated, no port matches none); traversal with -j, -g, RETURN, ends of
 * user chains and policies, checked as the exact verdict, deciding rule and
 * per-rule counters; LOG calls; -m limit buckets against a TSC the test
 * moves by hand; dry runs; rp_filter_pkt_from_mbuf on hand-made metadata.
 * Rulesets are built as structs here (no parser involved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "rampart_conntrack.h"
#include "rampart_filter.h"
#include "rampart_pkt.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define TCP 6
#define UDP 17
#define ICMP 1
#define NOPORT 0xff

/* ---- building rulesets by hand -------------------------------------------- */

static struct rp_ruleset *
rs_new(uint8_t input_policy, uint8_t forward_policy)
{
	static const char *names[RP_CHAIN_BUILTIN_MAX] = {"INPUT", "FORWARD", "OUTPUT"};
	struct rp_ruleset *rs = calloc(1, sizeof(*rs));
	rs->chains = calloc(16, sizeof(*rs->chains));
	rs->n_chains = RP_CHAIN_BUILTIN_MAX;
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
		snprintf(rs->chains[c].name, sizeof(rs->chains[c].name), "%s", names[c]);
		rs->chains[c].builtin = 1;
		rs->chains[c].policy = RP_T_ACCEPT;
	}
	rs->chains[RP_CHAIN_INPUT].policy = input_policy;
	rs->chains[RP_CHAIN_FORWARD].policy = forward_policy;
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
rule_add(struct rp_ruleset *rs, int chain, uint8_t target)
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
	return r;
}

static struct rp_rule *
jump_add(struct rp_ruleset *rs, int chain, uint8_t target, int to)
{
	struct rp_rule *r = rule_add(rs, chain, target);
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
pkt(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct rp_filter_pkt p;
	memset(&p, 0, sizeof(p));
	p.proto = proto;
	p.src = src;
	p.dst = dst;
	p.sport = sport;
	p.dport = dport;
	p.state = RP_CT_NEW;
	p.in_port = 0;
	p.out_port = 1;
	p.len = 100;
	return p;
}

static int
matches(const struct rp_match *m, const struct rp_filter_pkt *p)
{
	struct rp_rule r;
	memset(&r, 0, sizeof(r));
	r.m = *m;
	r.target = RP_T_ACCEPT;
	return rp_filter_rule_matches(&r, p, NULL, 0);
}

static struct rp_match
m_new(uint32_t present)
{
	struct rp_match m;
	memset(&m, 0, sizeof(m));
	m.present = present;
	return m;
}

/* ---- matches ------------------------------------------------------------------ */

static void
test_proto(void)
{
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 1000, 80), u = pkt(UDP, 1, 2, 1000, 80);
	struct rp_match m = m_new(RP_M_PROTO);
	m.proto = TCP;
	CHECK(matches(&m, &t));
	CHECK(!matches(&m, &u));
	m.negated = RP_M_PROTO;
	CHECK(!matches(&m, &t));
	CHECK(matches(&m, &u));
	/* -p all: ip_packet_match skips the test, '!' included */
	m.proto = 0;
	CHECK(matches(&m, &t));
	m.negated = 0;
	CHECK(matches(&m, &u));
	struct rp_match none = m_new(0);
	CHECK(matches(&none, &u));
}

static void
test_addresses(void)
{
	struct rp_filter_pkt p = pkt(TCP, IP4(10, 1, 2, 3), IP4(192, 0, 2, 7), 1, 2);
	struct rp_match m = m_new(RP_M_SRC);
	m.src = IP4(10, 1, 0, 0);
	m.src_mask = 0xffff0000;
	CHECK(matches(&m, &p));
	m.src = IP4(10, 2, 0, 0);
	CHECK(!matches(&m, &p));
	m.negated = RP_M_SRC;
	CHECK(matches(&m, &p));
	m.src = IP4(10, 1, 0, 0);
	CHECK(!matches(&m, &p));
	/* /0 matches all; a /32 only its address */
	m = m_new(RP_M_DST);
	m.dst = IP4(1, 2, 3, 4);
	m.dst_mask = 0;
	CHECK(matches(&m, &p));
	m.dst = IP4(192, 0, 2, 7);
	m.dst_mask = 0xffffffff;
	CHECK(matches(&m, &p));
	p.dst++;
	CHECK(!matches(&m, &p));
	m.negated = RP_M_DST;
	CHECK(matches(&m, &p));
}

static void
test_iprange(void)
{
	struct rp_filter_pkt p = pkt(UDP, IP4(10, 0, 0, 5), IP4(10, 0, 1, 0), 1, 2);
	struct rp_match m = m_new(RP_M_SRCRANGE);
	m.src_range.lo = IP4(10, 0, 0, 5);
	m.src_range.hi = IP4(10, 0, 0, 9);
	CHECK(matches(&m, &p));
	p.src = IP4(10, 0, 0, 9);
	CHECK(matches(&m, &p));
	p.src = IP4(10, 0, 0, 10);
	CHECK(!matches(&m, &p));
	p.src = IP4(10, 0, 0, 4);
	CHECK(!matches(&m, &p));
	m.negated = RP_M_SRCRANGE;
	CHECK(matches(&m, &p));
	m = m_new(RP_M_DSTRANGE);
	m.dst_range.lo = IP4(10, 0, 0, 255);
	m.dst_range.hi = IP4(10, 0, 1, 0);
	CHECK(matches(&m, &p));
	m.negated = RP_M_DSTRANGE;
	CHECK(!matches(&m, &p));
}

static void
test_interfaces(void)
{
	struct rp_filter_pkt p = pkt(TCP, 1, 2, 3, 4);
	struct rp_match m = m_new(RP_M_IN);
	m.in_ports = 0x0006; /* "eth+" matching ports 1 and 2 */
	p.in_port = 2;
	CHECK(matches(&m, &p));
	p.in_port = 0;
	CHECK(!matches(&m, &p));
	p.in_port = NOPORT; /* OUTPUT: no input interface */
	CHECK(!matches(&m, &p));
	m.negated = RP_M_IN;
	CHECK(matches(&m, &p));
	p.in_port = 1;
	CHECK(!matches(&m, &p));
	m = m_new(RP_M_OUT);
	m.out_ports = 0x8000;
	p.out_port = 15;
	CHECK(matches(&m, &p));
	p.out_port = NOPORT; /* INPUT: no output interface */
	CHECK(!matches(&m, &p));
	m.negated = RP_M_OUT;
	CHECK(matches(&m, &p));
}

static void
test_ports(void)
{
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 40000, 80);
	struct rp_match m = m_new(RP_M_PROTO | RP_M_DPORT);
	m.proto = TCP;
	m.dport.lo = 80;
	m.dport.hi = 80;
	CHECK(matches(&m, &t));
	t.dport = 81;
	CHECK(!matches(&m, &t));
	m.negated = RP_M_DPORT;
	CHECK(matches(&m, &t));
	/* '!' negates the port test only: a non-first fragment never matches */
	t.fragment = 1;
	CHECK(!matches(&m, &t));
	m.negated = 0;
	t.dport = 80;
	CHECK(!matches(&m, &t));
	t.fragment = 0;

	/* ranges, UDP, and no ports for ICMP even with a zero port */
	m = m_new(RP_M_SPORT);
	m.sport.lo = 1024;
	m.sport.hi = 65535;
	struct rp_filter_pkt u = pkt(UDP, 1, 2, 1024, 53);
	CHECK(matches(&m, &u));
	u.sport = 1023;
	CHECK(!matches(&m, &u));
	m.negated = RP_M_SPORT;
	CHECK(matches(&m, &u));
	struct rp_filter_pkt i = pkt(ICMP, 1, 2, 0, 0);
	CHECK(!matches(&m, &i));
	m.negated = 0;
	m.sport.lo = 0;
	CHECK(!matches(&m, &i));
}

static void
test_multiport(void)
{
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 5000, 443);
	struct rp_match m = m_new(RP_M_PROTO | RP_M_MPORT);
	m.proto = TCP;
	m.mport_kind = RP_MPORT_DST;
	m.n_mport = 3;
	m.mport[0] = (struct rp_range16){22, 22};
	m.mport[1] = (struct rp_range16){80, 80};
	m.mport[2] = (struct rp_range16){440, 450};
	CHECK(matches(&m, &t));
	t.dport = 451;
	CHECK(!matches(&m, &t));
	m.negated = RP_M_MPORT;
	CHECK(matches(&m, &t));
	t.dport = 22;
	CHECK(!matches(&m, &t));

	/* --sports looks at the source port only */
	m.negated = 0;
	m.mport_kind = RP_MPORT_SRC;
	t.sport = 5000;
	CHECK(!matches(&m, &t));
	t.sport = 80;
	CHECK(matches(&m, &t));

	/* --ports: either port; '! --ports': neither */
	m.mport_kind = RP_MPORT_ANY;
	t.sport = 5000;
	t.dport = 22;
	CHECK(matches(&m, &t));
	t.dport = 23;
	t.sport = 445;
	CHECK(matches(&m, &t));
	t.sport = 5000;
	CHECK(!matches(&m, &t));
	m.negated = RP_M_MPORT;
	CHECK(matches(&m, &t));
	t.sport = 22;
	CHECK(!matches(&m, &t));
	struct rp_filter_pkt i = pkt(ICMP, 1, 2, 0, 0);
	CHECK(!matches(&m, &i));
}

static void
test_state(void)
{
	struct rp_filter_pkt p = pkt(TCP, 1, 2, 3, 4);
	struct rp_match m = m_new(RP_M_STATE);
	m.states = RP_STATE_BIT(RP_CT_ESTABLISHED) | RP_STATE_BIT(RP_CT_RELATED);
	static const int est_rel[RP_CT_STATE_MAX] = {0, 1, 1, 0};
	for (unsigned s = 0; s < RP_CT_STATE_MAX; s++) {
		p.state = (uint8_t)s;
		CHECK_EQ(matches(&m, &p), est_rel[s]);
	}
	m.negated = RP_M_STATE;
	for (unsigned s = 0; s < RP_CT_STATE_MAX; s++) {
		p.state = (uint8_t)s;
		CHECK_EQ(matches(&m, &p), !est_rel[s]);
	}
	m = m_new(RP_M_STATE);
	m.states = RP_STATE_BIT(RP_CT_INVALID);
	p.state = RP_CT_INVALID;
	CHECK(matches(&m, &p));
	p.state = RP_CT_NEW;
	CHECK(!matches(&m, &p));
}

static void
test_icmp(void)
{
	struct rp_filter_pkt p = pkt(ICMP, 1, 2, 0, 0);
	p.icmp_type = 3;
	p.icmp_code = 3;
	struct rp_match m = m_new(RP_M_PROTO | RP_M_ICMP);
	m.proto = ICMP;
	m.icmp_type = 3; /* destination-unreachable: every code */
	m.icmp_code_lo = 0;
	m.icmp_code_hi = 255;
	CHECK(matches(&m, &p));
	m.icmp_code_lo = m.icmp_code_hi = 1; /* host-unreachable */
	CHECK(!matches(&m, &p));
	m.negated = RP_M_ICMP;
	CHECK(matches(&m, &p));
	p.icmp_code = 1;
	CHECK(!matches(&m, &p));
	/* "any": every type; negated, none */
	m.icmp_type = 255;
	CHECK(!matches(&m, &p));
	m.negated = 0;
	CHECK(matches(&m, &p));
	/* a TCP packet is never an ICMP type, negated or not */
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 3, 4);
	struct rp_match n = m_new(RP_M_ICMP);
	n.icmp_type = 8;
	n.icmp_code_hi = 255;
	n.negated = RP_M_ICMP;
	CHECK(!matches(&n, &t));
	p.fragment = 1;
	CHECK(!matches(&m, &p));
}

static void
test_tcp_flags(void)
{
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 3, 4);
	struct rp_match m = m_new(RP_M_PROTO | RP_M_TCPFLAGS);
	m.proto = TCP;
	m.tcp_mask = 0x17; /* --syn: SYN,RST,ACK,FIN SYN */
	m.tcp_comp = 0x02;
	t.tcp_flags = 0x02;
	CHECK(matches(&m, &t));
	t.tcp_flags = 0x02 | 0x08 | 0x80; /* PSH and CWR are outside the mask */
	CHECK(matches(&m, &t));
	t.tcp_flags = 0x12; /* SYN+ACK */
	CHECK(!matches(&m, &t));
	m.negated = RP_M_TCPFLAGS;
	CHECK(matches(&m, &t));
	t.tcp_flags = 0x02;
	CHECK(!matches(&m, &t));
	struct rp_filter_pkt u = pkt(UDP, 1, 2, 3, 4);
	CHECK(!matches(&m, &u));
}

static void
test_ct_and_frag(void)
{
	struct rp_filter_pkt p = pkt(UDP, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 3, 4);
	p.ct_proto = UDP;
	p.ct_orig_src = IP4(10, 0, 0, 2);
	p.ct_orig_dst = IP4(10, 0, 0, 1);
	struct rp_match m = m_new(RP_M_CTPROTO);
	m.ctproto = UDP;
	CHECK(matches(&m, &p));
	m.negated = RP_M_CTPROTO;
	CHECK(!matches(&m, &p));
	m = m_new(RP_M_CTORIGSRC | RP_M_CTORIGDST);
	m.ctorigsrc = IP4(10, 0, 0, 0);
	m.ctorigsrc_mask = 0xffffff00;
	m.ctorigdst = IP4(10, 0, 0, 1);
	m.ctorigdst_mask = 0xffffffff;
	CHECK(matches(&m, &p));
	m.negated = RP_M_CTORIGDST;
	CHECK(!matches(&m, &p));
	m = m_new(RP_M_FRAG);
	CHECK(!matches(&m, &p));
	p.fragment = 1;
	CHECK(matches(&m, &p));
	m.negated = RP_M_FRAG;
	CHECK(!matches(&m, &p));
}

/* ---- traversal -------------------------------------------------------------- */

static struct rp_filter_result
eval(const struct rp_ruleset *rs, enum rp_chain_id c, const struct rp_filter_pkt *p,
     struct rp_filter_worker *fw)
{
	struct rp_filter_result res = {.verdict = 0xee, .reject_with = 0xee, .rule = -99};
	rp_filter_eval_linear(rs, c, p, fw, 1000, &res);
	return res;
}

/*
 * -m helper: matches the helper a connection's master had (the packet's
 * helper field), '!' the others; in a chain, linearly and compiled (a
 * barrier among rte_acl segments), with the same verdicts and counters.
 */
static void
test_helper(void)
{
	struct rp_filter_pkt data = pkt(TCP, IP4(198, 19, 1, 2), IP4(198, 18, 1, 2), 20, 40000);
	struct rp_filter_pkt ctl = pkt(TCP, IP4(198, 18, 1, 2), IP4(198, 19, 1, 2), 40001, 21);
	struct rp_match m = m_new(RP_M_HELPER);

	data.state = RP_CT_RELATED;
	data.helper = RP_FILTER_HELPER_FTP;
	m.helper = RP_FILTER_HELPER_FTP;
	CHECK(matches(&m, &data));
	CHECK(!matches(&m, &ctl)); /* helper 0: the control connection, or no helper */
	m.negated = RP_M_HELPER;
	CHECK(!matches(&m, &data));
	CHECK(matches(&m, &ctl));

	/* FORWARD DROP; ACL rule; RELATED + helper ftp; ACL rule; NEW to 21 */
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_DROP);
	struct rp_rule *r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_DROP); /* id 0 */
	r->m = m_new(RP_M_PROTO | RP_M_DPORT);
	r->m.proto = TCP;
	r->m.dport = (struct rp_range16){23, 23};
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_ACCEPT); /* id 1 */
	r->m = m_new(RP_M_STATE | RP_M_HELPER);
	r->m.states = RP_STATE_BIT(RP_CT_RELATED);
	r->m.helper = RP_FILTER_HELPER_FTP;
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_ACCEPT); /* id 2 */
	r->m = m_new(RP_M_PROTO | RP_M_DPORT | RP_M_STATE);
	r->m.proto = TCP;
	r->m.dport = (struct rp_range16){21, 21};
	r->m.states = RP_STATE_BIT(RP_CT_NEW);

	struct rp_filter_pkt ps[4] = {data, ctl, data, data};
	ps[2].helper = 0;              /* RELATED, but not from a helper: the policy */
	ps[3].state = RP_CT_ESTABLISHED; /* a later packet: not RELATED */
	static const uint8_t verdict[4] = {RP_T_ACCEPT, RP_T_ACCEPT, RP_T_DROP, RP_T_DROP};
	static const int32_t rule_id[4] = {1, 2, -1, -1};

	CHECK_EQ(rp_ruleset_compile(rs, "flt_helper", stderr), 0);
	struct rp_filter_prog_info info;
	rp_filter_prog_info(rs, RP_CHAIN_FORWARD, &info);
	CHECK_EQ(info.barriers, 1);
	struct rp_filter_worker *lin = rp_filter_worker_create(rs, 1);
	struct rp_filter_worker *cmp = rp_filter_worker_create(rs, 1);
	struct rp_filter_result res[4];
	CHECK(lin != NULL && cmp != NULL);
	if (lin == NULL || cmp == NULL)
		goto free_rs;
	rp_filter_classify(rs, RP_CHAIN_FORWARD, ps, 4, cmp, 1000, res);
	for (unsigned i = 0; i < 4; i++) {
		struct rp_filter_result one = eval(rs, RP_CHAIN_FORWARD, &ps[i], lin);
		CHECK_EQ(one.verdict, verdict[i]);
		CHECK_EQ(one.rule, rule_id[i]);
		CHECK_EQ(res[i].verdict, verdict[i]);
		CHECK_EQ(res[i].rule, rule_id[i]);
	}
	for (unsigned id = 0; id < 3; id++) {
		CHECK_EQ(lin->pkts[id], id == 0 ? 0 : 1);
		CHECK_EQ(cmp->pkts[id], id == 0 ? 0 : 1);
	}
	CHECK_EQ(lin->policy_pkts[RP_CHAIN_FORWARD], 2);
	CHECK_EQ(cmp->policy_pkts[RP_CHAIN_FORWARD], 2);
free_rs:
	rp_filter_worker_free(lin);
	rp_filter_worker_free(cmp);
	rs_free(rs);
}

static void
test_first_match_and_policy(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_ACCEPT);
	struct rp_rule *r = rule_add(rs, RP_CHAIN_INPUT, RP_T_REJECT); /* id 0 */
	r->m = m_new(RP_M_PROTO | RP_M_DPORT);
	r->m.proto = TCP;
	r->m.dport = (struct rp_range16){23, 23};
	r->reject_with = RP_REJ_TCP_RESET;
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT); /* id 1 */
	r->m = m_new(RP_M_PROTO);
	r->m.proto = TCP;
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_DROP); /* id 2: never reached by TCP */
	r->m = m_new(RP_M_PROTO);
	r->m.proto = TCP;
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);

	struct rp_filter_pkt telnet = pkt(TCP, 1, 2, 4000, 23);
	struct rp_filter_result res = eval(rs, RP_CHAIN_INPUT, &telnet, fw);
	CHECK_EQ(res.verdict, RP_T_REJECT);
	CHECK_EQ(res.reject_with, RP_REJ_TCP_RESET);
	CHECK_EQ(res.rule, 0);
	struct rp_filter_pkt web = pkt(TCP, 1, 2, 4000, 80);
	web.len = 60;
	res = eval(rs, RP_CHAIN_INPUT, &web, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.reject_with, 0);
	CHECK_EQ(res.rule, 1);
	struct rp_filter_pkt dns = pkt(UDP, 1, 2, 4000, 53);
	dns.len = 77;
	res = eval(rs, RP_CHAIN_INPUT, &dns, fw);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK_EQ(res.rule, -1);
	/* FORWARD is empty: its policy */
	res = eval(rs, RP_CHAIN_FORWARD, &dns, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, -1);

	CHECK_EQ(fw->pkts[0], 1);
	CHECK_EQ(fw->bytes[0], 100);
	CHECK_EQ(fw->pkts[1], 1);
	CHECK_EQ(fw->bytes[1], 60);
	CHECK_EQ(fw->pkts[2], 0);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 1);
	CHECK_EQ(fw->policy_bytes[RP_CHAIN_INPUT], 77);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_FORWARD], 1);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_OUTPUT], 0);

	/* a dry run decides the same and moves nothing */
	res = eval(rs, RP_CHAIN_INPUT, &telnet, NULL);
	CHECK_EQ(res.rule, 0);
	CHECK_EQ(fw->pkts[0], 1);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

struct log_rec {
	unsigned n;
	uint32_t rule[16];
	const struct rp_filter_pkt *pkt[16];
};

static void
log_cb(void *arg, const struct rp_rule *r, const struct rp_filter_pkt *p)
{
	struct log_rec *l = arg;
	if (l->n < 16) {
		l->rule[l->n] = r->id;
		l->pkt[l->n] = p;
	}
	l->n++;
}

/*
 * FORWARD: 0 LOG; 1 -j A (tcp); 2 (no target, udp); 3 ACCEPT dport 22.
 * A: 4 RETURN dport 80; 5 -j B; 6 DROP dport 81; 7 -g C (dport 82); 8 REJECT.
 * B: 9 LOG dport 83; 10 ACCEPT dport 83.
 * C: 11 ACCEPT sport 1; (end: back to FORWARD after rule 1)
 */
static void
test_jumps(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_DROP);
	int A = chain_new(rs, "A"), B = chain_new(rs, "B"), C = chain_new(rs, "C");
	struct rp_rule *r;
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_LOG);
	snprintf(r->log_prefix, sizeof(r->log_prefix), "fw: ");
	r = jump_add(rs, RP_CHAIN_FORWARD, RP_T_JUMP, A);
	r->m = m_new(RP_M_PROTO);
	r->m.proto = TCP;
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_NONE);
	r->m = m_new(RP_M_PROTO);
	r->m.proto = UDP;
	r = rule_add(rs, RP_CHAIN_FORWARD, RP_T_ACCEPT);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){22, 22};
	r = rule_add(rs, A, RP_T_RETURN);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){80, 80};
	jump_add(rs, A, RP_T_JUMP, B);
	r = rule_add(rs, A, RP_T_DROP);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){81, 81};
	r = jump_add(rs, A, RP_T_GOTO, C);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){82, 82};
	r = rule_add(rs, A, RP_T_REJECT);
	r->reject_with = RP_REJ_ADMIN_PROHIBITED;
	r = rule_add(rs, B, RP_T_LOG);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){83, 83};
	r = rule_add(rs, B, RP_T_ACCEPT);
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){83, 83};
	r = rule_add(rs, C, RP_T_ACCEPT);
	r->m = m_new(RP_M_SPORT);
	r->m.sport = (struct rp_range16){1, 1};

	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
	struct log_rec logs = {0};
	fw->log = log_cb;
	fw->log_arg = &logs;
	uint64_t expect[12] = {0};
	struct rp_filter_result res;

	/* RETURN from A: back in FORWARD after rule 1; dport 80 reaches the policy */
	struct rp_filter_pkt p80 = pkt(TCP, 1, 2, 5, 80);
	res = eval(rs, RP_CHAIN_FORWARD, &p80, fw);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK_EQ(res.rule, -1);
	expect[0]++, expect[1]++, expect[4]++;
	/* dport 22 goes through A and B and meets A's last rule */
	struct rp_filter_pkt p22 = pkt(TCP, 1, 2, 5, 22);
	res = eval(rs, RP_CHAIN_FORWARD, &p22, fw);
	CHECK_EQ(res.verdict, RP_T_REJECT); /* never back: A ends with rule 8 */
	CHECK_EQ(res.reject_with, RP_REJ_ADMIN_PROHIBITED);
	CHECK_EQ(res.rule, 8);
	expect[0]++, expect[1]++, expect[5]++, expect[8]++;
	/* into B: LOG then ACCEPT */
	struct rp_filter_pkt p83 = pkt(TCP, 1, 2, 5, 83);
	res = eval(rs, RP_CHAIN_FORWARD, &p83, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, 10);
	expect[0]++, expect[1]++, expect[5]++, expect[9]++, expect[10]++;
	/* -g C, C does not decide: its end returns to FORWARD after rule 1 (the -j A) */
	struct rp_filter_pkt p82 = pkt(TCP, 1, 2, 5, 82);
	res = eval(rs, RP_CHAIN_FORWARD, &p82, fw);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK_EQ(res.rule, -1);
	expect[0]++, expect[1]++, expect[5]++, expect[7]++;
	p82.sport = 1;
	res = eval(rs, RP_CHAIN_FORWARD, &p82, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, 11);
	expect[0]++, expect[1]++, expect[5]++, expect[7]++, expect[11]++;
	/* UDP: rule 2 counts and goes on, dport 22 accepted by rule 3 */
	struct rp_filter_pkt u22 = pkt(UDP, 1, 2, 5, 22);
	res = eval(rs, RP_CHAIN_FORWARD, &u22, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, 3);
	expect[0]++, expect[2]++, expect[3]++;

	for (unsigned i = 0; i < 12; i++) {
		CHECK_EQ(fw->pkts[i], expect[i]);
		CHECK_EQ(fw->bytes[i], expect[i] * 100);
	}
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_FORWARD], 2);
	/* LOG: rule 0 for every packet, rule 9 for the dport 83 one, in order */
	CHECK_EQ(logs.n, 7);
	CHECK_EQ(logs.rule[0], 0);
	CHECK(logs.pkt[0] == &p80);
	CHECK_EQ(logs.rule[2], 0);
	CHECK(logs.pkt[2] == &p83);
	CHECK_EQ(logs.rule[3], 9);
	CHECK(logs.pkt[3] == &p83);
	CHECK_EQ(logs.rule[6], 0);
	CHECK(logs.pkt[6] == &u22);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

/*
 * -g from the built-in chain: the end of the chain (or RETURN in it) is the
 * policy; RETURN in a built-in chain is the policy too, and both count.
 */
static void
test_goto_from_builtin_and_return(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_ACCEPT);
	int G = chain_new(rs, "G");
	struct rp_rule *r = jump_add(rs, RP_CHAIN_INPUT, RP_T_GOTO, G); /* 0 */
	r->m = m_new(RP_M_PROTO);
	r->m.proto = UDP;
	r = rule_add(rs, RP_CHAIN_INPUT, RP_T_RETURN); /* 1 */
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){7, 7};
	rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT); /* 2: everything else */
	r = rule_add(rs, G, RP_T_RETURN); /* 3 */
	r->m = m_new(RP_M_SPORT);
	r->m.sport = (struct rp_range16){9, 9};
	r = rule_add(rs, G, RP_T_ACCEPT); /* 4 */
	r->m = m_new(RP_M_DPORT);
	r->m.dport = (struct rp_range16){53, 53};
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);

	struct rp_filter_pkt u = pkt(UDP, 1, 2, 5, 54);
	struct rp_filter_result res = eval(rs, RP_CHAIN_INPUT, &u, fw);
	CHECK_EQ(res.verdict, RP_T_DROP); /* not rule 2: -g does not come back */
	CHECK_EQ(res.rule, -1);
	u.sport = 9;
	u.dport = 53;
	res = eval(rs, RP_CHAIN_INPUT, &u, fw);
	CHECK_EQ(res.verdict, RP_T_DROP); /* RETURN with nothing to return to */
	CHECK_EQ(res.rule, -1);
	u.sport = 5;
	res = eval(rs, RP_CHAIN_INPUT, &u, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, 4);
	struct rp_filter_pkt t = pkt(TCP, 1, 2, 5, 7);
	res = eval(rs, RP_CHAIN_INPUT, &t, fw);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK_EQ(res.rule, -1);
	t.dport = 8;
	res = eval(rs, RP_CHAIN_INPUT, &t, fw);
	CHECK_EQ(res.verdict, RP_T_ACCEPT);
	CHECK_EQ(res.rule, 2);
	CHECK_EQ(fw->pkts[0], 3);
	CHECK_EQ(fw->pkts[1], 1);
	CHECK_EQ(fw->pkts[2], 1);
	CHECK_EQ(fw->pkts[3], 1);
	CHECK_EQ(fw->pkts[4], 1);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 3);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

/* Loops (which the parser refuses) end in a DROP, not in a hang or a crash. */
static void
test_loops_fail_closed(void)
{
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT);
	int A = chain_new(rs, "A"), B = chain_new(rs, "B"), C = chain_new(rs, "C");
	jump_add(rs, RP_CHAIN_INPUT, RP_T_GOTO, A);   /* 0 */
	jump_add(rs, A, RP_T_GOTO, B);                /* 1 */
	jump_add(rs, B, RP_T_GOTO, A);                /* 2 */
	jump_add(rs, RP_CHAIN_FORWARD, RP_T_JUMP, C); /* 3: into C, which calls itself */
	jump_add(rs, C, RP_T_JUMP, C);                /* 4 */
	struct rp_filter_pkt p = pkt(UDP, 1, 2, 3, 4);
	struct rp_filter_result res = eval(rs, RP_CHAIN_INPUT, &p, NULL);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK(res.rule == 1 || res.rule == 2);
	res = eval(rs, RP_CHAIN_FORWARD, &p, NULL);
	CHECK_EQ(res.verdict, RP_T_DROP);
	CHECK_EQ(res.rule, 4);
	rs_free(rs);
}

/* ---- -m limit ---------------------------------------------------------------- */

static void
test_limit(void)
{
	uint64_t hz = rte_get_tsc_hz();
	struct rp_ruleset *rs = rs_new(RP_T_DROP, RP_T_DROP);
	struct rp_rule *r = rule_add(rs, RP_CHAIN_INPUT, RP_T_ACCEPT); /* 0: 2/second, burst 3 */
	r->m = m_new(RP_M_PROTO | RP_M_LIMIT);
	r->m.proto = UDP;
	r->m.limit_rate = 2;
	r->m.limit_period_us = 1000000;
	r->m.limit_burst = 3;
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
	CHECK_EQ(fw->limit_cost[0], hz / 2);

	uint64_t t0 = 5 * hz;
	struct rp_filter_pkt u = pkt(UDP, 1, 2, 3, 4), t = pkt(TCP, 1, 2, 3, 4);
	struct rp_filter_result res;
	/* TCP packets do not match -p udp and take no token */
	for (int i = 0; i < 10; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &t, fw, t0, &res);
		CHECK_EQ(res.rule, -1);
	}
	/* the bucket starts full: burst 3 */
	for (int i = 0; i < 3; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0, &res);
		CHECK_EQ(res.rule, 0);
	}
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0, &res);
	CHECK_EQ(res.rule, -1);
	/* a dry run treats the limit as matching and takes nothing */
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, NULL, t0, &res);
	CHECK_EQ(res.rule, 0);
	/* just under half a second: still nothing; at half a second one token */
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + hz / 2 - 1, &res);
	CHECK_EQ(res.rule, -1);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + hz / 2, &res);
	CHECK_EQ(res.rule, 0);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + hz / 2, &res);
	CHECK_EQ(res.rule, -1);
	/* a long pause refills to the burst, no more */
	int passed = 0;
	for (int i = 0; i < 10; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + 100 * hz, &res);
		passed += res.rule == 0;
	}
	CHECK_EQ(passed, 3);
	CHECK_EQ(fw->pkts[0], 7);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 10 + 1 + 1 + 1 + 7);
	rp_filter_worker_free(fw);

	/* shared by 2 workers: each gets 1/second and a burst of ceil(3/2) = 2 */
	fw = rp_filter_worker_create(rs, 2);
	CHECK_EQ(fw->limit_cost[0], hz);
	passed = 0;
	for (int i = 0; i < 5; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0, &res);
		passed += res.rule == 0;
	}
	CHECK_EQ(passed, 2);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + hz / 2, &res);
	CHECK_EQ(res.rule, -1);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + hz, &res);
	CHECK_EQ(res.rule, 0);
	rp_filter_worker_free(fw);

	/* 3/hour over 5 workers: burst 1 each, a token every 100 minutes */
	r = &rs->chains[RP_CHAIN_INPUT].rules[0];
	r->m.limit_rate = 3;
	r->m.limit_period_us = 3600ull * 1000000;
	fw = rp_filter_worker_create(rs, 5);
	CHECK_EQ(fw->limit_cost[0], 6000 * hz);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0, &res);
	CHECK_EQ(res.rule, 0);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + 5999 * hz, &res);
	CHECK_EQ(res.rule, -1);
	rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &u, fw, t0 + 6000 * hz, &res);
	CHECK_EQ(res.rule, 0);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

/* A LOG rule with -m limit logs (and counts) only while it has tokens. */
static void
test_limited_log(void)
{
	uint64_t hz = rte_get_tsc_hz();
	struct rp_ruleset *rs = rs_new(RP_T_ACCEPT, RP_T_ACCEPT);
	struct rp_rule *r = rule_add(rs, RP_CHAIN_INPUT, RP_T_LOG);
	r->m = m_new(RP_M_LIMIT);
	r->m.limit_rate = 1;
	r->m.limit_period_us = 1000000;
	r->m.limit_burst = 2;
	struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
	struct log_rec logs = {0};
	fw->log = log_cb;
	fw->log_arg = &logs;
	struct rp_filter_pkt p = pkt(UDP, 1, 2, 3, 4);
	struct rp_filter_result res;
	for (int i = 0; i < 5; i++) {
		rp_filter_eval_linear(rs, RP_CHAIN_INPUT, &p, fw, hz, &res);
		CHECK_EQ(res.verdict, RP_T_ACCEPT);
		CHECK_EQ(res.rule, -1);
	}
	CHECK_EQ(logs.n, 2);
	CHECK_EQ(fw->pkts[0], 2);
	CHECK_EQ(fw->policy_pkts[RP_CHAIN_INPUT], 5);
	rp_filter_worker_free(fw);
	rs_free(rs);
}

/* ---- packets from mbufs ------------------------------------------------------- */

static void
test_pkt_from_mbuf(struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	struct rp_meta *md = rp_meta(m);
	struct rp_filter_pkt p;

	memset(md, 0, sizeof(*md));
	md->kind = RP_PKT_IPV4;
	md->src = IP4(198, 18, 0, 1);
	md->dst = IP4(198, 19, 0, 2);
	md->proto = TCP;
	md->ip_len = 1500;
	md->l4_status = RP_L4_OK;
	md->sport = 40000;
	md->dport = 443;
	md->tcp_flags = 0x12;
	md->ct_state = RP_CT_ESTABLISHED;
	md->ct_dir = 1;
	rp_filter_pkt_from_mbuf(m, 3, 5, &p);
	CHECK_EQ(p.src, IP4(198, 18, 0, 1));
	CHECK_EQ(p.dst, IP4(198, 19, 0, 2));
	CHECK_EQ(p.proto, TCP);
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(p.dport, 443);
	CHECK_EQ(p.tcp_flags, 0x12);
	CHECK_EQ(p.state, RP_CT_ESTABLISHED);
	CHECK_EQ(p.in_port, 3);
	CHECK_EQ(p.out_port, 5);
	CHECK_EQ(p.len, 1500);
	CHECK_EQ(p.fragment, 0);
	CHECK_EQ(p.icmp_type, 0);
	/* a reply: the original tuple is the other way round */
	CHECK_EQ(p.ct_proto, TCP);
	CHECK_EQ(p.ct_orig_src, IP4(198, 19, 0, 2));
	CHECK_EQ(p.ct_orig_dst, IP4(198, 18, 0, 1));

	/* ICMP: type and code from dport, no ports */
	md->proto = ICMP;
	md->sport = 77; /* echo id */
	md->dport = 3 << 8 | 4;
	md->ct_state = RP_CT_RELATED;
	md->ct_dir = 0;
	rp_filter_pkt_from_mbuf(m, 0, NOPORT, &p);
	CHECK_EQ(p.icmp_type, 3);
	CHECK_EQ(p.icmp_code, 4);
	CHECK_EQ(p.sport, 0);
	CHECK_EQ(p.dport, 0);
	CHECK_EQ(p.tcp_flags, 0);
	CHECK_EQ(p.state, RP_CT_RELATED);
	CHECK_EQ(p.out_port, NOPORT);
	CHECK_EQ(p.ct_orig_src, IP4(198, 18, 0, 1));

	/* UDP: ports, no flags even if the byte holds something */
	md->proto = UDP;
	md->sport = 53;
	md->dport = 5353;
	rp_filter_pkt_from_mbuf(m, 0, 1, &p);
	CHECK_EQ(p.sport, 53);
	CHECK_EQ(p.dport, 5353);
	CHECK_EQ(p.tcp_flags, 0);

	/* a non-first fragment, or an L4 header that did not parse: no L4 fields */
	md->flags = RP_F_FRAG | RP_F_FRAG_LATER;
	rp_filter_pkt_from_mbuf(m, 0, 1, &p);
	CHECK_EQ(p.fragment, 1);
	CHECK_EQ(p.sport, 0);
	CHECK_EQ(p.dport, 0);
	md->flags = 0;
	md->l4_status = RP_L4_TRUNCATED;
	rp_filter_pkt_from_mbuf(m, 0, 1, &p);
	CHECK_EQ(p.fragment, 0);
	CHECK_EQ(p.sport, 0);
	rte_pktmbuf_free(m);
}

int
main(void)
{
	rp_test_eal_init("test_filter_linear");
	struct rte_mempool *pool =
		rte_pktmbuf_pool_create("flt_linear", 63, 0, RP_MBUF_PRIV_SIZE,
					RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CHECK(pool != NULL);

	test_proto();
	test_addresses();
	test_iprange();
	test_interfaces();
	test_ports();
	test_multiport();
	test_state();
	test_icmp();
	test_tcp_flags();
	test_ct_and_frag();
	test_helper();
	test_first_match_and_policy();
	test_jumps();
	test_goto_from_builtin_and_return();
	test_loops_fail_closed();
	test_limit();
	test_limited_log();
	if (pool != NULL)
		test_pkt_from_mbuf(pool);
	rte_mempool_free(pool);
	return rp_test_done("test_filter_linear");
}
