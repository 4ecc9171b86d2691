/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/filter's rule language: every supported option lands in the exact
 * model fields (negations included), every class of error gives its exact
 * message, iptables-save files are read (counters and comments ignored,
 * other tables refused), policies are set in one place only, jump loops are
 * refused, the -L listing is byte-exact, and the save output parses back
 * to an equal ruleset that saves to the same text. No EAL needed.
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampart_config.h"
#include "rampart_conntrack.h"
#include "rampart_filter.h"
#include "rp_test.h"

#define CHECK_STR_EQ(got, want)                                                          \
	do {                                                                             \
		const char *_g = (got), *_w = (want);                                    \
		rp_test_checks++;                                                        \
		if (_g == NULL || strcmp(_g, _w) != 0) {                                 \
			rp_test_failures++;                                              \
			fprintf(stderr, "%s:%d: expected:\n%s\n--- got:\n%s\n---\n",     \
				__FILE__, __LINE__, _w, _g ? _g : "(null)");             \
		}                                                                        \
	} while (0)

#define NEW RP_STATE_BIT(RP_CT_NEW)
#define EST RP_STATE_BIT(RP_CT_ESTABLISHED)
#define REL RP_STATE_BIT(RP_CT_RELATED)
#define INV RP_STATE_BIT(RP_CT_INVALID)

/* lan0, lan1, wan0: ports 0, 1, 2 */
static const struct rp_filter_ports ports = {.name = {"lan0", "lan1", "wan0"}, .n = 3};

#define FIRST_LINE 10 /* rule strings sit at rampart.conf:10, 11, ... */

static struct rp_ruleset *
parse_src(const struct rp_filter_source *src, char **msgs, int *n_errors)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	struct rp_ruleset *rs = rp_ruleset_parse(src, &ports, err, n_errors);

	fclose(err);
	*msgs = buf;
	return rs;
}

static struct rp_ruleset *
parse_list(const char *const *rules, unsigned n, char **msgs, int *n_errors)
{
	int lines[128];
	struct rp_filter_source src = {
		.file = "rampart.conf", .rules = rules, .rule_lines = lines, .n_rules = n,
	};

	for (unsigned i = 0; i < n && i < 128; i++)
		lines[i] = FIRST_LINE + (int)i;
	return parse_src(&src, msgs, n_errors);
}

#define RULES(...)                                                                         \
	((const char *const[]){__VA_ARGS__}),                                              \
		(unsigned)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* The rules must parse without a message. */
#define OK(...) ok(__LINE__, RULES(__VA_ARGS__))
static struct rp_ruleset *
ok(int line, const char *const *rules, unsigned n)
{
	char *msgs;
	int n_errors = -1;
	struct rp_ruleset *rs = parse_list(rules, n, &msgs, &n_errors);

	rp_test_checks++;
	if (rs == NULL || n_errors != 0 || msgs[0] != '\0') {
		rp_test_failures++;
		fprintf(stderr, "%s:%d: expected no error, got %d:\n%s", __FILE__, line, n_errors,
			msgs);
	}
	free(msgs);
	return rs;
}

/* The rules must fail with exactly @p n errors and exactly these messages. */
#define EXPECT_ERR(n, expected, ...) expect_err(__LINE__, n, expected, RULES(__VA_ARGS__))
static void
expect_err(int line, int n, const char *expected, const char *const *rules, unsigned n_rules)
{
	char *msgs;
	int n_errors = -1;
	struct rp_ruleset *rs = parse_list(rules, n_rules, &msgs, &n_errors);

	rp_test_checks++;
	if (rs != NULL || n_errors != n || strcmp(msgs, expected) != 0) {
		rp_test_failures++;
		fprintf(stderr, "%s:%d: expected %d error(s):\n%s--- got %d%s:\n%s---\n", __FILE__,
			line, n, expected, n_errors, rs ? " and a ruleset" : "", msgs);
	}
	rp_ruleset_free(rs);
	free(msgs);
}

static const struct rp_rule *
rule(const struct rp_ruleset *rs, const char *chain, unsigned i)
{
	int c = rp_ruleset_chain(rs, chain);

	if (rs == NULL || c < 0 || i >= rs->chains[c].n_rules) {
		static struct rp_rule none;
		fprintf(stderr, "no rule %s[%u]\n", chain, i);
		rp_test_failures++;
		return &none;
	}
	return &rs->chains[c].rules[i];
}

/* The first rule of INPUT after parsing @p text alone (must be valid). */
#define ONE(text) one(__LINE__, text, &rs)
static const struct rp_match *
one(int line, const char *text, struct rp_ruleset **rs)
{
	const char *const rules[] = {text};

	rp_ruleset_free(*rs);
	*rs = ok(line, rules, 1);
	return &rule(*rs, "INPUT", 0)->m;
}

/* ---- the built-in options ------------------------------------------------------- */

static void
test_protocol(void)
{
	static const struct {
		const char *arg;
		uint8_t proto;
	} cases[] = {
		{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"TCP", 6}, {"6", 6}, {"47", 47},
		{"gre", 47}, {"esp", 50}, {"ah", 51}, {"sctp", 132}, {"ipencap", 4},
		{"ipip", 94}, {"ospf", 89}, {"vrrp", 112}, {"255", 255}, {"udplite", 136},
	};
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;
	char text[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "-A INPUT -p %s", cases[i].arg);
		m = ONE(text);
		CHECK_EQ(m->present, RP_M_PROTO);
		CHECK_EQ(m->negated, 0);
		CHECK_EQ(m->proto, cases[i].proto);
	}
	/* all, 0 and ip: no protocol match at all */
	m = ONE("-A INPUT -p all");
	CHECK_EQ(m->present, 0);
	m = ONE("-A INPUT -p 0");
	CHECK_EQ(m->present, 0);
	m = ONE("-A INPUT -p ip");
	CHECK_EQ(m->present, 0);
	m = ONE("-A INPUT ! -p udp");
	CHECK_EQ(m->present, RP_M_PROTO);
	CHECK_EQ(m->negated, RP_M_PROTO);
	CHECK_EQ(m->proto, 17);
	m = ONE("-A INPUT --protocol ! icmp"); /* the old place of '!' */
	CHECK_EQ(m->negated, RP_M_PROTO);
	CHECK_EQ(m->proto, 1);
	rp_ruleset_free(rs);
}

static void
test_addresses(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -s 10.1.2.3/8");
	CHECK_EQ(m->present, RP_M_SRC);
	CHECK_EQ(m->src, 0x0a000000); /* host bits cleared, as iptables */
	CHECK_EQ(m->src_mask, 0xff000000);
	m = ONE("-A INPUT -d 192.0.2.7");
	CHECK_EQ(m->present, RP_M_DST);
	CHECK_EQ(m->dst, 0xc0000207);
	CHECK_EQ(m->dst_mask, 0xffffffff);
	m = ONE("-A INPUT --source 198.51.100.0/255.255.255.128 --destination 203.0.113.9/0.0.0.0");
	CHECK_EQ(m->present, RP_M_SRC); /* /0 is no match (iptables leaves it out) */
	CHECK_EQ(m->src, 0xc6336400);
	CHECK_EQ(m->src_mask, 0xffffff80);
	m = ONE("-A INPUT -s 10/8 --dst 172.16/12"); /* a network completed with zeros */
	CHECK_EQ(m->src, 0x0a000000);
	CHECK_EQ(m->dst, 0xac100000);
	CHECK_EQ(m->dst_mask, 0xfff00000);
	m = ONE("-A INPUT ! -s 10.0.0.0/8 -d ! 192.168.1.0/24");
	CHECK_EQ(m->present, RP_M_SRC | RP_M_DST);
	CHECK_EQ(m->negated, RP_M_SRC | RP_M_DST);
	CHECK_EQ(m->dst, 0xc0a80100);
	m = ONE("-A INPUT ! -s 0.0.0.0/0"); /* negated, /0 never matches: kept */
	CHECK_EQ(m->present, RP_M_SRC);
	CHECK_EQ(m->negated, RP_M_SRC);
	CHECK_EQ(m->src_mask, 0);
	rp_ruleset_free(rs);
}

static void
test_interfaces(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -i lan0");
	CHECK_EQ(m->present, RP_M_IN);
	CHECK_EQ(m->in_ports, 0x1);
	CHECK_STR_EQ(m->in_name, "lan0");
	rp_ruleset_free(rs);
	rs = OK("-A FORWARD -i lan+ -o wan0");
	m = &rule(rs, "FORWARD", 0)->m;
	CHECK_EQ(m->present, RP_M_IN | RP_M_OUT);
	CHECK_EQ(m->in_ports, 0x3);
	CHECK_STR_EQ(m->in_name, "lan+");
	CHECK_EQ(m->out_ports, 0x4);
	CHECK_STR_EQ(m->out_name, "wan0");
	m = ONE("-A INPUT -i +");
	CHECK_EQ(m->in_ports, 0x7);
	/* a name no port has: accepted as iptables does, matching nothing */
	m = ONE("-A INPUT -i eth0");
	CHECK_EQ(m->present, RP_M_IN);
	CHECK_EQ(m->in_ports, 0);
	CHECK_STR_EQ(m->in_name, "eth0");
	m = ONE("-A INPUT -i lan");
	CHECK_EQ(m->in_ports, 0);
	m = ONE("-A INPUT ! --in-interface lan1");
	CHECK_EQ(m->negated, RP_M_IN);
	CHECK_EQ(m->in_ports, 0x2);
	rp_ruleset_free(rs);
	rs = OK("-A OUTPUT --out-interface ! wan+");
	m = &rule(rs, "OUTPUT", 0)->m;
	CHECK_EQ(m->present, RP_M_OUT);
	CHECK_EQ(m->negated, RP_M_OUT);
	CHECK_EQ(m->out_ports, 0x4);
	/* a user chain may use both: it is checked where it is reached */
	rp_ruleset_free(rs);
	rs = OK("-N c", "-A c -i lan0 -o wan0");
	CHECK_EQ(rule(rs, "c", 0)->m.present, RP_M_IN | RP_M_OUT);
	rp_ruleset_free(rs);
}

static void
test_fragment(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -f");
	CHECK_EQ(m->present, RP_M_FRAG);
	CHECK_EQ(m->negated, 0);
	m = ONE("-A INPUT ! --fragment");
	CHECK_EQ(m->present, RP_M_FRAG);
	CHECK_EQ(m->negated, RP_M_FRAG);
	rp_ruleset_free(rs);
}

static void
test_targets(void)
{
	struct rp_ruleset *rs;
	const struct rp_rule *r;
	static const struct {
		const char *arg;
		uint8_t with;
	} rejects[] = {
		{"icmp-net-unreachable", RP_REJ_NET_UNREACH},
		{"icmp-host-unreachable", RP_REJ_HOST_UNREACH},
		{"icmp-port-unreachable", RP_REJ_PORT_UNREACH},
		{"icmp-proto-unreachable", RP_REJ_PROTO_UNREACH},
		{"icmp-net-prohibited", RP_REJ_NET_PROHIBITED},
		{"icmp-host-prohibited", RP_REJ_HOST_PROHIBITED},
		{"icmp-admin-prohibited", RP_REJ_ADMIN_PROHIBITED},
		{"net-unreach", RP_REJ_NET_UNREACH},
		{"host-prohib", RP_REJ_HOST_PROHIBITED},
		{"admin-prohib", RP_REJ_ADMIN_PROHIBITED},
	};

	rs = OK("-N sub", "-A INPUT -j ACCEPT", "-A INPUT --jump DROP", "-A INPUT -j RETURN",
		"-A INPUT -j REJECT", "-A INPUT -j sub", "-A INPUT -g sub", "-A INPUT",
		"-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
		"-A INPUT -p tcp -j REJECT --reject-with tcp-rst",
		"-A INPUT -j LOG", "-A INPUT -j LOG --log-prefix \"IN drop: \" --log-level 6",
		"-A INPUT -j LOG --log-level debug", "-A INPUT --goto sub");
	CHECK_EQ(rule(rs, "INPUT", 0)->target, RP_T_ACCEPT);
	CHECK_EQ(rule(rs, "INPUT", 0)->jump, -1);
	CHECK_EQ(rule(rs, "INPUT", 1)->target, RP_T_DROP);
	CHECK_EQ(rule(rs, "INPUT", 2)->target, RP_T_RETURN);
	r = rule(rs, "INPUT", 3);
	CHECK_EQ(r->target, RP_T_REJECT);
	CHECK_EQ(r->reject_with, RP_REJ_PORT_UNREACH);
	r = rule(rs, "INPUT", 4);
	CHECK_EQ(r->target, RP_T_JUMP);
	CHECK_EQ(r->jump, rp_ruleset_chain(rs, "sub"));
	CHECK_EQ(r->jump, 3);
	r = rule(rs, "INPUT", 5);
	CHECK_EQ(r->target, RP_T_GOTO);
	CHECK_EQ(r->jump, 3);
	CHECK_EQ(rule(rs, "INPUT", 6)->target, RP_T_NONE);
	CHECK_EQ(rule(rs, "INPUT", 7)->reject_with, RP_REJ_TCP_RESET);
	CHECK_EQ(rule(rs, "INPUT", 8)->reject_with, RP_REJ_TCP_RESET);
	r = rule(rs, "INPUT", 9);
	CHECK_EQ(r->target, RP_T_LOG);
	CHECK_EQ(r->log_level, 4);
	CHECK_STR_EQ(r->log_prefix, "");
	r = rule(rs, "INPUT", 10);
	CHECK_EQ(r->log_level, 6);
	CHECK_STR_EQ(r->log_prefix, "IN drop: ");
	CHECK_EQ(rule(rs, "INPUT", 11)->log_level, 7);
	CHECK_EQ(rule(rs, "INPUT", 12)->target, RP_T_GOTO);
	rp_ruleset_free(rs);

	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		char text[96];
		const char *const one_rule[] = {text};

		snprintf(text, sizeof(text), "-A INPUT -j REJECT --reject-with %s", rejects[i].arg);
		rs = ok(__LINE__, one_rule, 1);
		CHECK_EQ(rule(rs, "INPUT", 0)->reject_with, rejects[i].with);
		rp_ruleset_free(rs);
	}
}

/* ---- the match modules ---------------------------------------------------------- */

static void
test_tcp_udp(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -p tcp --dport 22");
	CHECK_EQ(m->present, RP_M_PROTO | RP_M_DPORT);
	CHECK_EQ(m->dport.lo, 22);
	CHECK_EQ(m->dport.hi, 22);
	CHECK_EQ(m->mods[0], RP_MOD_TCP); /* -p tcp implied -m tcp */
	CHECK_EQ(m->mods[1], RP_MOD_NONE);
	m = ONE("-A INPUT -p tcp -m tcp --sport 1024:65535 --destination-port 1000:2000");
	CHECK_EQ(m->present, RP_M_PROTO | RP_M_SPORT | RP_M_DPORT);
	CHECK_EQ(m->sport.lo, 1024);
	CHECK_EQ(m->sport.hi, 65535);
	CHECK_EQ(m->dport.lo, 1000);
	CHECK_EQ(m->dport.hi, 2000);
	m = ONE("-A INPUT -p udp --sport :1023 --dport 5000:");
	CHECK_EQ(m->proto, 17);
	CHECK_EQ(m->sport.lo, 0);
	CHECK_EQ(m->sport.hi, 1023);
	CHECK_EQ(m->dport.lo, 5000);
	CHECK_EQ(m->dport.hi, 65535);
	CHECK_EQ(m->mods[0], RP_MOD_UDP);
	m = ONE("-A INPUT -p 6 ! --dport 22 --sport ! 80"); /* -p 6 implies -m tcp too */
	CHECK_EQ(m->negated, RP_M_DPORT | RP_M_SPORT);
	CHECK_EQ(m->mods[0], RP_MOD_TCP);
	/* -m tcp may come before -p tcp, as iptables checks the protocol at the end */
	m = ONE("-A INPUT -m tcp --dport 80 -p tcp");
	CHECK_EQ(m->dport.lo, 80);
	/* flags */
	m = ONE("-A INPUT -p tcp --tcp-flags SYN,ACK,FIN,RST SYN");
	CHECK_EQ(m->present, RP_M_PROTO | RP_M_TCPFLAGS);
	CHECK_EQ(m->tcp_mask, 0x17);
	CHECK_EQ(m->tcp_comp, 0x02);
	m = ONE("-A INPUT -p tcp --syn");
	CHECK_EQ(m->tcp_mask, 0x17);
	CHECK_EQ(m->tcp_comp, 0x02);
	CHECK_EQ(m->negated, 0);
	m = ONE("-A INPUT -p tcp ! --syn");
	CHECK_EQ(m->negated, RP_M_TCPFLAGS);
	m = ONE("-A INPUT -p tcp --tcp-flags ALL NONE");
	CHECK_EQ(m->tcp_mask, 0x3f);
	CHECK_EQ(m->tcp_comp, 0);
	m = ONE("-A INPUT -p tcp ! --tcp-flags urg,psh PSH");
	CHECK_EQ(m->tcp_mask, 0x28);
	CHECK_EQ(m->tcp_comp, 0x08);
	CHECK_EQ(m->negated, RP_M_TCPFLAGS);
	rp_ruleset_free(rs);
}

static void
test_icmp(void)
{
	static const struct {
		const char *arg;
		uint8_t type, lo, hi;
	} cases[] = {
		{"echo-request", 8, 0, 255},
		{"echo-reply", 0, 0, 255},
		{"ping", 8, 0, 255},
		{"destination-unreachable", 3, 0, 255},
		{"network-unreachable", 3, 0, 0},
		{"host-unreachable", 3, 1, 1},
		{"protocol-unreachable", 3, 2, 2},
		{"port-unreachable", 3, 3, 3},
		{"fragmentation-needed", 3, 4, 4},
		{"time-exceeded", 11, 0, 255},
		{"ttl-zero-during-transit", 11, 0, 0},
		{"parameter-problem", 12, 0, 255},
		{"source-quench", 4, 0, 255},
		{"redirect", 5, 0, 255},
		{"timestamp-request", 13, 0, 255},
		{"timestamp-reply", 14, 0, 255},
		{"address-mask-request", 17, 0, 255},
		{"address-mask-reply", 18, 0, 255},
		{"any", 255, 0, 255},
		{"Echo-Request", 8, 0, 255},
		{"echo-req", 8, 0, 255}, /* an unambiguous beginning, as iptables */
		{"8", 8, 0, 255},
		{"3/4", 3, 4, 4},
		{"255", 255, 0, 255},
	};
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;
	char text[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "-A INPUT -p icmp --icmp-type %s", cases[i].arg);
		m = ONE(text);
		CHECK_EQ(m->present, RP_M_PROTO | RP_M_ICMP);
		CHECK_EQ(m->icmp_type, cases[i].type);
		CHECK_EQ(m->icmp_code_lo, cases[i].lo);
		CHECK_EQ(m->icmp_code_hi, cases[i].hi);
	}
	m = ONE("-A INPUT -p icmp -m icmp ! --icmp-type echo-request");
	CHECK_EQ(m->negated, RP_M_ICMP);
	CHECK_EQ(m->mods[0], RP_MOD_ICMP);
	/* -m icmp alone: any type, as iptables' match without --icmp-type */
	m = ONE("-A INPUT -p icmp -m icmp");
	CHECK_EQ(m->present, RP_M_PROTO | RP_M_ICMP);
	CHECK_EQ(m->icmp_type, 255);
	rp_ruleset_free(rs);
}

static void
test_multiport(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -p tcp -m multiport --dports 80,443,8000:8080");
	CHECK_EQ(m->present, RP_M_PROTO | RP_M_MPORT);
	CHECK_EQ(m->mport_kind, RP_MPORT_DST);
	CHECK_EQ(m->n_mport, 3);
	CHECK_EQ(m->mport[0].lo, 80);
	CHECK_EQ(m->mport[0].hi, 80);
	CHECK_EQ(m->mport[1].lo, 443);
	CHECK_EQ(m->mport[2].lo, 8000);
	CHECK_EQ(m->mport[2].hi, 8080);
	CHECK_EQ(m->mods[0], RP_MOD_MULTIPORT);
	m = ONE("-A INPUT -p udp -m multiport --source-ports 53,123");
	CHECK_EQ(m->mport_kind, RP_MPORT_SRC);
	CHECK_EQ(m->n_mport, 2);
	m = ONE("-A INPUT -p tcp -m multiport ! --ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
	CHECK_EQ(m->mport_kind, RP_MPORT_ANY);
	CHECK_EQ(m->n_mport, 15);
	CHECK_EQ(m->negated, RP_M_MPORT);
	CHECK_EQ(m->mport[14].lo, 15);
	/* seven ranges and one port: 15 slots, iptables' limit */
	m = ONE("-A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15");
	CHECK_EQ(m->n_mport, 8);
	rp_ruleset_free(rs);
}

static void
test_state_conntrack(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -m state --state NEW,ESTABLISHED");
	CHECK_EQ(m->present, RP_M_STATE);
	CHECK_EQ(m->states, NEW | EST);
	CHECK_EQ(m->mods[0], RP_MOD_STATE);
	m = ONE("-A INPUT -m state ! --state NEW");
	CHECK_EQ(m->negated, RP_M_STATE);
	CHECK_EQ(m->states, NEW);
	m = ONE("-A INPUT -m state --state ! INVALID");
	CHECK_EQ(m->negated, RP_M_STATE);
	CHECK_EQ(m->states, INV);
	m = ONE("-A INPUT -m conntrack --ctstate related,established,invalid,new");
	CHECK_EQ(m->present, RP_M_STATE);
	CHECK_EQ(m->states, NEW | EST | REL | INV);
	CHECK_EQ(m->mods[0], RP_MOD_CONNTRACK);
	m = ONE("-A INPUT -m conntrack ! --ctstate NEW --ctproto udp --ctorigsrc 10.1.0.0/16 "
		"! --ctorigdst 192.0.2.1");
	CHECK_EQ(m->present, RP_M_STATE | RP_M_CTPROTO | RP_M_CTORIGSRC | RP_M_CTORIGDST);
	CHECK_EQ(m->negated, RP_M_STATE | RP_M_CTORIGDST);
	CHECK_EQ(m->ctproto, 17);
	CHECK_EQ(m->ctorigsrc, 0x0a010000);
	CHECK_EQ(m->ctorigsrc_mask, 0xffff0000);
	CHECK_EQ(m->ctorigdst, 0xc0000201);
	CHECK_EQ(m->ctorigdst_mask, 0xffffffff);
	m = ONE("-A INPUT -m conntrack ! --ctproto 6");
	CHECK_EQ(m->present, RP_M_CTPROTO);
	CHECK_EQ(m->negated, RP_M_CTPROTO);
	CHECK_EQ(m->ctproto, 6);
	/* the modules in the order written */
	m = ONE("-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -m comment --comment x");
	CHECK_EQ(m->mods[0], RP_MOD_STATE);
	CHECK_EQ(m->mods[1], RP_MOD_TCP);
	CHECK_EQ(m->mods[2], RP_MOD_COMMENT);
	CHECK_EQ(m->mods[3], RP_MOD_NONE);
	rp_ruleset_free(rs);
}

static void
test_iprange_limit_comment(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.50 ! --dst-range 192.0.2.9");
	CHECK_EQ(m->present, RP_M_SRCRANGE | RP_M_DSTRANGE);
	CHECK_EQ(m->negated, RP_M_DSTRANGE);
	CHECK_EQ(m->src_range.lo, 0x0a000001);
	CHECK_EQ(m->src_range.hi, 0x0a000032);
	CHECK_EQ(m->dst_range.lo, 0xc0000209);
	CHECK_EQ(m->dst_range.hi, 0xc0000209);
	/* -m limit alone: iptables' 3/hour, burst 5 */
	m = ONE("-A INPUT -m limit");
	CHECK_EQ(m->present, RP_M_LIMIT);
	CHECK_EQ(m->limit_rate, 3);
	CHECK_EQ(m->limit_period_us, 3600000000ull);
	CHECK_EQ(m->limit_burst, 5);
	m = ONE("-A INPUT -m limit --limit 10/sec --limit-burst 20");
	CHECK_EQ(m->limit_rate, 10);
	CHECK_EQ(m->limit_period_us, 1000000);
	CHECK_EQ(m->limit_burst, 20);
	m = ONE("-A INPUT -m limit --limit 5/minute");
	CHECK_EQ(m->limit_rate, 5);
	CHECK_EQ(m->limit_period_us, 60000000);
	m = ONE("-A INPUT -m limit --limit 2/h");
	CHECK_EQ(m->limit_period_us, 3600000000ull);
	m = ONE("-A INPUT -m limit --limit 1/day");
	CHECK_EQ(m->limit_period_us, 86400000000ull);
	m = ONE("-A INPUT -m limit --limit 100");
	CHECK_EQ(m->limit_rate, 100);
	CHECK_EQ(m->limit_period_us, 1000000);
	m = ONE("-A INPUT -m comment --comment \"allow ssh\"");
	CHECK_EQ(m->present, 0);
	CHECK_STR_EQ(m->comment, "allow ssh");
	CHECK_EQ(m->mods[0], RP_MOD_COMMENT);
	rp_ruleset_free(rs);
}

/* Words as a shell splits them: quotes, backslashes, empty words. */
static void
test_tokens(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;

	m = ONE("-A INPUT -m comment --comment 'single \"quoted\"'");
	CHECK_STR_EQ(m->comment, "single \"quoted\"");
	m = ONE("-A INPUT -m comment --comment \"a \\\"b\\\" c\\\\d\\'e\"");
	CHECK_STR_EQ(m->comment, "a \"b\" c\\d'e");
	m = ONE("-A INPUT -m comment --comment back\\ slash\\\"ed");
	CHECK_STR_EQ(m->comment, "back slash\"ed");
	m = ONE("-A INPUT -m comment --comment \"\"");
	CHECK_STR_EQ(m->comment, "");
	CHECK_EQ(m->mods[0], RP_MOD_COMMENT);
	m = ONE("  -A\tINPUT   -m comment --comment pre\"fix\"'ed'  ");
	CHECK_STR_EQ(m->comment, "prefixed");
	rp_ruleset_free(rs);
	rs = OK("-A INPUT -j LOG --log-prefix '[drop] '");
	CHECK_STR_EQ(rule(rs, "INPUT", 0)->log_prefix, "[drop] ");
	rp_ruleset_free(rs);
}

/* ---- chains, positions, ids, policies ---------------------------------------------- */

static void
test_chains_and_ids(void)
{
	struct rp_ruleset *rs;

	rs = OK("-A INPUT -j ACCEPT", "-N web", "-A FORWARD -j web", "-A web -p tcp --dport 80",
		"-I INPUT -j DROP", "-I INPUT 2 -p udp", "-A INPUT -p icmp", "-N Second",
		"--insert web 1 -j RETURN", "-t filter -A OUTPUT -j ACCEPT", "--new-chain third",
		"--append third");
	CHECK_EQ(rs->n_chains, 6);
	CHECK_STR_EQ(rs->chains[0].name, "INPUT");
	CHECK_STR_EQ(rs->chains[1].name, "FORWARD");
	CHECK_STR_EQ(rs->chains[2].name, "OUTPUT");
	CHECK_STR_EQ(rs->chains[3].name, "web");
	CHECK_STR_EQ(rs->chains[4].name, "Second");
	CHECK_STR_EQ(rs->chains[5].name, "third");
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(rs->chains[i].builtin, 1);
		CHECK_EQ(rs->chains[i].policy, RP_T_ACCEPT); /* iptables' default */
	}
	CHECK_EQ(rs->chains[3].builtin, 0);
	CHECK_EQ(rp_ruleset_chain(rs, "web"), 3);
	CHECK_EQ(rp_ruleset_chain(rs, "WEB"), -1);
	/* INPUT: DROP (inserted first), udp (inserted at 2), ACCEPT, icmp */
	CHECK_EQ(rs->chains[0].n_rules, 4);
	CHECK_EQ(rule(rs, "INPUT", 0)->target, RP_T_DROP);
	CHECK_EQ(rule(rs, "INPUT", 1)->m.proto, 17);
	CHECK_EQ(rule(rs, "INPUT", 2)->target, RP_T_ACCEPT);
	CHECK_EQ(rule(rs, "INPUT", 3)->m.proto, 1);
	CHECK_EQ(rule(rs, "web", 0)->target, RP_T_RETURN);
	/* ids: every rule, in chain order */
	CHECK_EQ(rs->n_rules, 9);
	CHECK_EQ(rule(rs, "INPUT", 0)->id, 0);
	CHECK_EQ(rule(rs, "INPUT", 3)->id, 3);
	CHECK_EQ(rule(rs, "FORWARD", 0)->id, 4);
	CHECK_EQ(rule(rs, "OUTPUT", 0)->id, 5);
	CHECK_EQ(rule(rs, "web", 0)->id, 6);
	CHECK_EQ(rule(rs, "web", 1)->id, 7);
	CHECK_EQ(rule(rs, "third", 0)->id, 8);
	/* where each rule was written */
	CHECK_STR_EQ(rule(rs, "INPUT", 0)->file, "rampart.conf");
	CHECK_EQ(rule(rs, "INPUT", 0)->line, FIRST_LINE + 4);
	CHECK_STR_EQ(rule(rs, "INPUT", 0)->text, "-I INPUT -j DROP");
	CHECK_EQ(rule(rs, "web", 1)->line, FIRST_LINE + 3);
	CHECK_STR_EQ(rule(rs, "web", 1)->text, "-A web -p tcp --dport 80");
	CHECK_EQ(rs->revalidate, 0);
	rp_ruleset_free(rs);
}

static void
test_policies(void)
{
	struct rp_ruleset *rs;
	struct rp_filter_source src = {.file = "rampart.conf"};
	const char *const rules[] = {"-P FORWARD DROP", "-A INPUT"};
	int lines[] = {20, 21};
	char *msgs;
	int n_errors;

	rs = OK("-P INPUT DROP", "--policy OUTPUT ACCEPT");
	CHECK_EQ(rs->chains[RP_CHAIN_INPUT].policy, RP_T_DROP);
	CHECK_EQ(rs->chains[RP_CHAIN_FORWARD].policy, RP_T_ACCEPT);
	CHECK_EQ(rs->chains[RP_CHAIN_OUTPUT].policy, RP_T_ACCEPT);
	rp_ruleset_free(rs);

	/* filter.policy and -P for different chains */
	src.policy[RP_CHAIN_INPUT] = RP_T_DROP;
	src.policy_line[RP_CHAIN_INPUT] = 3;
	src.rules = rules;
	src.rule_lines = lines;
	src.n_rules = 2;
	src.revalidate = 1;
	rs = parse_src(&src, &msgs, &n_errors);
	CHECK(rs != NULL);
	CHECK_STR_EQ(msgs, "");
	if (rs != NULL) {
		CHECK_EQ(rs->chains[RP_CHAIN_INPUT].policy, RP_T_DROP);
		CHECK_EQ(rs->chains[RP_CHAIN_FORWARD].policy, RP_T_DROP);
		CHECK_EQ(rs->chains[RP_CHAIN_OUTPUT].policy, RP_T_ACCEPT);
		CHECK_EQ(rs->revalidate, 1);
	}
	rp_ruleset_free(rs);
	free(msgs);

	/* the same chain in filter.policy and in -P: both places named */
	src.policy[RP_CHAIN_FORWARD] = RP_T_ACCEPT;
	src.policy_line[RP_CHAIN_FORWARD] = 4;
	rs = parse_src(&src, &msgs, &n_errors);
	CHECK(rs == NULL);
	CHECK_EQ(n_errors, 1);
	CHECK_STR_EQ(msgs, "rampart.conf:20: rule \"-P FORWARD DROP\": policy of FORWARD is also set "
			   "at rampart.conf:4; set it in one place only at \"-P\"\n");
	free(msgs);

	/* a bad value from the caller (the config allows only ACCEPT and DROP) */
	src.policy[RP_CHAIN_FORWARD] = RP_T_REJECT;
	src.n_rules = 0;
	rs = parse_src(&src, &msgs, &n_errors);
	CHECK(rs == NULL);
	CHECK_STR_EQ(msgs, "rampart.conf:4: filter.policy: the policy of FORWARD is ACCEPT or DROP\n");
	free(msgs);

	/* two -P for one chain */
	EXPECT_ERR(1,
		   "rampart.conf:12: rule \"-P INPUT ACCEPT\": policy of INPUT is also set at "
		   "rampart.conf:10; set it in one place only at \"-P\"\n",
		   "-P INPUT DROP", "-A INPUT", "-P INPUT ACCEPT");
}

static void
test_loops(void)
{
	struct rp_ruleset *rs;

	EXPECT_ERR(1,
		   "rampart.conf:11: rule \"-A a -j a\": jump loop a -> a (iptables refuses loops) "
		   "at \"a\"\n",
		   "-N a", "-A a -j a");
	EXPECT_ERR(1,
		   "rampart.conf:15: rule \"-A c -g a\": jump loop a -> b -> c -> a (iptables refuses "
		   "loops) at \"a\"\n",
		   "-N a", "-N b", "-N c", "-A a -j b", "-A b -p tcp -j c", "-A c -g a");
	/* two loops, each reported once, with the other errors first */
	EXPECT_ERR(3,
		   "rampart.conf:16: rule \"-A INPUT -j nowhere\": no chain named nowhere (create it "
		   "with -N before this rule) at \"nowhere\"\n"
		   "rampart.conf:13: rule \"-A b -j a\": jump loop a -> b -> a (iptables refuses "
		   "loops) at \"a\"\n"
		   "rampart.conf:15: rule \"-A c -j c\": jump loop c -> c (iptables refuses loops) "
		   "at \"c\"\n",
		   "-N a", "-N b", "-A a -j b", "-A b -j a", "-N c", "-A c -j c",
		   "-A INPUT -j nowhere");
	/* the same chain reached twice is no loop */
	rs = OK("-N a", "-N b", "-N c", "-A a -j c", "-A b -j c", "-A a -j b", "-A INPUT -j a",
		"-A INPUT -j b", "-A FORWARD -g c");
	rp_ruleset_free(rs);
}

/* ---- errors: each class with its exact message ------------------------------------------- */

#define L10 "rampart.conf:10: rule \""

static void
test_errors_syntax(void)
{
	EXPECT_ERR(1, L10 "-A INPUT --frobnicate 3 -j DROP\": unknown option at \"--frobnicate\"\n",
		   "-A INPUT --frobnicate 3 -j DROP");
	EXPECT_ERR(1, L10 "-A INPUT ACCEPT\": unexpected word (an option was expected) at "
		   "\"ACCEPT\"\n",
		   "-A INPUT ACCEPT");
	EXPECT_ERR(1, L10 "-A INPUT -m recent --set\": match not supported (supported: tcp, udp, "
		   "icmp, multiport, state, conntrack, iprange, limit, comment, helper) at \"recent\"\n",
		   "-A INPUT -m recent --set");
	EXPECT_ERR(1, L10 "-A INPUT -j SNAT --to 1.2.3.4\": target SNAT: not supported at \"SNAT\"\n",
		   "-A INPUT -j SNAT --to 1.2.3.4");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --tcp-option 2\": option --tcp-option: not supported at "
		   "\"--tcp-option\"\n",
		   "-A INPUT -p tcp --tcp-option 2");
	EXPECT_ERR(1, L10 "-A INPUT -m conntrack --ctstatus ASSURED\": option --ctstatus: not "
		   "supported at \"--ctstatus\"\n",
		   "-A INPUT -m conntrack --ctstatus ASSURED");
	EXPECT_ERR(1, L10 "-A INPUT -j LOG --log-uid\": option --log-uid: not supported at "
		   "\"--log-uid\"\n",
		   "-A INPUT -j LOG --log-uid");
	EXPECT_ERR(1, L10 "-A INPUT -s\": missing argument after -s at \"-s\"\n", "-A INPUT -s");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --tcp-flags SYN\": missing argument after --tcp-flags "
		   "at \"--tcp-flags\"\n",
		   "-A INPUT -p tcp --tcp-flags SYN");
	EXPECT_ERR(1, L10 "-A\": missing argument after -A at \"-A\"\n", "-A");
	EXPECT_ERR(1, "rampart.conf:10: rule \"\": empty rule\n", "");
	EXPECT_ERR(1, "rampart.conf:10: rule \"   \": empty rule\n", "   ");
	EXPECT_ERR(1, L10 "-A INPUT -m comment --comment \\\"open\": unterminated double quote at "
		   "\"open\"\n",
		   "-A INPUT -m comment --comment \"open");
	EXPECT_ERR(1, L10 "-A INPUT -m comment --comment 'x y\": unterminated single quote at "
		   "\"x y\"\n",
		   "-A INPUT -m comment --comment 'x y");
	EXPECT_ERR(1, L10 "-A INPUT -j DROP \\\\\": backslash at the end of the rule at \"\\\\\"\n",
		   "-A INPUT -j DROP \\");
	EXPECT_ERR(1, L10 "-D INPUT 1\": command -D: not supported (only -A, -I, -N and -P) at "
		   "\"-D\"\n",
		   "-D INPUT 1");
	EXPECT_ERR(1, L10 "--flush\": command --flush: not supported (only -A, -I, -N and -P) at "
		   "\"--flush\"\n",
		   "--flush");
	EXPECT_ERR(1, L10 "-p tcp -A INPUT\": a rule starts with a command: -A, -I, -N or -P at "
		   "\"-p\"\n",
		   "-p tcp -A INPUT");
	EXPECT_ERR(1, L10 "-t nat -A POSTROUTING -j MASQUERADE\": table nat: not supported (only "
		   "filter) at \"nat\"\n",
		   "-t nat -A POSTROUTING -j MASQUERADE");
	EXPECT_ERR(1, L10 "-N x extra\": unexpected word after the command at \"extra\"\n",
		   "-N x extra");
	EXPECT_ERR(1, L10 "-A INPUT ! -j ACCEPT\": -j cannot be negated with '!' at \"-j\"\n",
		   "-A INPUT ! -j ACCEPT");
	EXPECT_ERR(1, L10 "-A INPUT ! ! -s 1.2.3.4\": one '!' per option at \"!\"\n",
		   "-A INPUT ! ! -s 1.2.3.4");
	EXPECT_ERR(1, L10 "-A INPUT ! -s ! 1.2.3.4\": one '!' per option at \"!\"\n",
		   "-A INPUT ! -s ! 1.2.3.4");
	EXPECT_ERR(1, L10 "-A INPUT -j DROP !\": '!' at the end of the rule negates nothing at "
		   "\"!\"\n",
		   "-A INPUT -j DROP !");
	EXPECT_ERR(1, L10 "-A INPUT -m limit ! --limit 3/s\": --limit cannot be negated with '!' at "
		   "\"--limit\"\n",
		   "-A INPUT -m limit ! --limit 3/s");
}

static void
test_errors_values(void)
{
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --dport 99999\": bad port (0..65535; service names are "
		   "not resolved) at \"99999\"\n",
		   "-A INPUT -p tcp --dport 99999");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --dport http\": bad port (0..65535; service names are "
		   "not resolved) at \"http\"\n",
		   "-A INPUT -p tcp --dport http");
	EXPECT_ERR(1, L10 "-A INPUT -p udp --sport 2000:1000\": bad port range (the first port is "
		   "above the last) at \"2000:1000\"\n",
		   "-A INPUT -p udp --sport 2000:1000");
	EXPECT_ERR(1, L10 "-A INPUT -p udp --sport 1:x\": bad port range (N, N:M, :M or N: with "
		   "ports 0..65535) at \"1:x\"\n",
		   "-A INPUT -p udp --sport 1:x");
	EXPECT_ERR(1, L10 "-A INPUT -p foo\": unknown protocol at \"foo\"\n", "-A INPUT -p foo");
	EXPECT_ERR(1, L10 "-A INPUT -p 256\": unknown protocol at \"256\"\n", "-A INPUT -p 256");
	EXPECT_ERR(1, L10 "-A INPUT ! -p all\": ! -p all would never match at \"all\"\n",
		   "-A INPUT ! -p all");
	EXPECT_ERR(1, L10 "-A INPUT -s 10.0.0.256\": bad address (a.b.c.d[/len]; names are not "
		   "resolved) at \"10.0.0.256\"\n",
		   "-A INPUT -s 10.0.0.256");
	EXPECT_ERR(1, L10 "-A INPUT -d example.com\": bad address (a.b.c.d[/len]; names are not "
		   "resolved) at \"example.com\"\n",
		   "-A INPUT -d example.com");
	EXPECT_ERR(1, L10 "-A INPUT -s 10.0.0.0/33\": bad prefix length (0..32) at \"10.0.0.0/33\"\n",
		   "-A INPUT -s 10.0.0.0/33");
	EXPECT_ERR(1, L10 "-A INPUT -s 10.0.0.0/255.0.255.0\": non-contiguous mask not supported at "
		   "\"10.0.0.0/255.0.255.0\"\n",
		   "-A INPUT -s 10.0.0.0/255.0.255.0");
	EXPECT_ERR(1, L10 "-A INPUT -s 10.0.0.1,10.0.0.2\": one address per rule (iptables would "
		   "make one rule of each; write them as separate rules) at \"10.0.0.1,10.0.0.2\"\n",
		   "-A INPUT -s 10.0.0.1,10.0.0.2");
	EXPECT_ERR(1, L10 "-A INPUT -i averyveryverylongname\": a port name has 1..15 characters at "
		   "\"averyveryverylongname\"\n",
		   "-A INPUT -i averyveryverylongname");
	EXPECT_ERR(1, L10 "-A INPUT -i \\\"a\\\\\\\"b\\\"\": a port name is printable characters "
		   "without blanks, quotes or backslashes at \"a\\\"b\"\n",
		   "-A INPUT -i \"a\\\"b\"");
	EXPECT_ERR(1, L10 "-A INPUT -p icmp --icmp-type host\": ambiguous ICMP type name at "
		   "\"host\"\n",
		   "-A INPUT -p icmp --icmp-type host");
	EXPECT_ERR(1, L10 "-A INPUT -p icmp --icmp-type 3/256\": bad ICMP type (a name, type or "
		   "type/code with numbers 0..255) at \"3/256\"\n",
		   "-A INPUT -p icmp --icmp-type 3/256");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --tcp-flags SYN,FOO SYN\": unknown TCP flag (FIN, SYN, "
		   "RST, PSH, ACK, URG, ALL, NONE) at \"SYN,FOO\"\n",
		   "-A INPUT -p tcp --tcp-flags SYN,FOO SYN");
	EXPECT_ERR(1, L10 "-A INPUT -m state --state NEW,OLD\": bad state list (NEW, ESTABLISHED, "
		   "RELATED, INVALID, separated by commas) at \"NEW,OLD\"\n",
		   "-A INPUT -m state --state NEW,OLD");
	EXPECT_ERR(1, L10 "-A INPUT -m state --state NEW,\": bad state list (NEW, ESTABLISHED, "
		   "RELATED, INVALID, separated by commas) at \"NEW,\"\n",
		   "-A INPUT -m state --state NEW,");
	EXPECT_ERR(1, L10 "-A INPUT -m state --state NEW,UNTRACKED\": state UNTRACKED: not supported "
		   "at \"NEW,UNTRACKED\"\n",
		   "-A INPUT -m state --state NEW,UNTRACKED");
	EXPECT_ERR(1, L10 "-A INPUT -m conntrack --ctstate SNAT\": state SNAT: not supported at "
		   "\"SNAT\"\n",
		   "-A INPUT -m conntrack --ctstate SNAT");
	EXPECT_ERR(1, L10 "-A INPUT -m conntrack --ctstate DNAT\": state DNAT: not supported at "
		   "\"DNAT\"\n",
		   "-A INPUT -m conntrack --ctstate DNAT");
	EXPECT_ERR(1, L10 "-A INPUT -m conntrack --ctproto all\": --ctproto all would match no "
		   "connection at \"all\"\n",
		   "-A INPUT -m conntrack --ctproto all");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,"
		   "15:16\": too many ports (15 at most, a range counting as two) at \"1:2,3:4,5:6,"
		   "7:8,9:10,11:12,13:14,15:16\"\n",
		   "-A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m multiport --dports 80,,443\": bad port list (ports or "
		   "ranges N:M separated by commas) at \"80,,443\"\n",
		   "-A INPUT -p tcp -m multiport --dports 80,,443");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m multiport --dports 90:80\": bad port range (the first "
		   "port must be below the last) at \"90:80\"\n",
		   "-A INPUT -p tcp -m multiport --dports 90:80");
	EXPECT_ERR(1, L10 "-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1\": bad address range "
		   "(the first address is above the last) at \"10.0.0.9-10.0.0.1\"\n",
		   "-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1");
	EXPECT_ERR(1, L10 "-A INPUT -m iprange --dst-range 10.0.0.0/8\": bad address range "
		   "(a.b.c.d-a.b.c.d) at \"10.0.0.0/8\"\n",
		   "-A INPUT -m iprange --dst-range 10.0.0.0/8");
	EXPECT_ERR(1, L10 "-A INPUT -m limit --limit 20000/sec\": rate too fast (at most 10000/sec) "
		   "at \"20000/sec\"\n",
		   "-A INPUT -m limit --limit 20000/sec");
	EXPECT_ERR(1, L10 "-A INPUT -m limit --limit 3/week\": bad rate (N/sec, N/minute, N/hour or "
		   "N/day) at \"3/week\"\n",
		   "-A INPUT -m limit --limit 3/week");
	EXPECT_ERR(1, L10 "-A INPUT -m limit --limit-burst 0\": bad burst (1..10000) at \"0\"\n",
		   "-A INPUT -m limit --limit-burst 0");
	EXPECT_ERR(1, L10 "-A INPUT -j REJECT --reject-with icmp-echo\": unknown reject type "
		   "(icmp-net-unreachable, icmp-host-unreachable, icmp-port-unreachable, "
		   "icmp-proto-unreachable, icmp-net-prohibited, icmp-host-prohibited, "
		   "icmp-admin-prohibited, tcp-reset) at \"icmp-echo\"\n",
		   "-A INPUT -j REJECT --reject-with icmp-echo");
	EXPECT_ERR(1, L10 "-A INPUT -j LOG --log-level 8\": bad log level (0..7, or emerg, alert, "
		   "crit, error, warning, notice, info, debug) at \"8\"\n",
		   "-A INPUT -j LOG --log-level 8");
	EXPECT_ERR(1, L10 "-A INPUT -j LOG --log-prefix 123456789012345678901234567890\": "
		   "--log-prefix longer than 29 characters at \"123456789012345678901234567890\"\n",
		   "-A INPUT -j LOG --log-prefix 123456789012345678901234567890");
	EXPECT_ERR(1, L10 "-A INPUT -m comment --comment \\\"a\\x09b\\\"\": control characters are "
		   "not allowed in a comment at \"a\\x09b\"\n",
		   "-A INPUT -m comment --comment \"a\tb\"");
	EXPECT_ERR(1, L10 "-I INPUT 0 -j DROP\": bad rule number (1 is the first) at \"0\"\n",
		   "-I INPUT 0 -j DROP");
	EXPECT_ERR(1, "rampart.conf:11: rule \"-I INPUT 3 -j DROP\": rule number 3 is beyond the "
		   "end of INPUT (at most 2) at \"3\"\n",
		   "-A INPUT", "-I INPUT 3 -j DROP");
}

static void
test_errors_comment_length(void)
{
	char text[400];
	char *msgs;
	int n_errors;
	const char *const rules[] = {text};
	struct rp_ruleset *rs;

	/* 255 characters fit (iptables' limit), 256 do not */
	snprintf(text, sizeof(text), "-A INPUT -m comment --comment %0255d", 7);
	rs = ok(__LINE__, rules, 1);
	CHECK_EQ(strlen(rule(rs, "INPUT", 0)->m.comment), 255);
	rp_ruleset_free(rs);
	snprintf(text, sizeof(text), "-A INPUT -m comment --comment %0256d", 7);
	rs = parse_list(rules, 1, &msgs, &n_errors);
	CHECK(rs == NULL);
	CHECK_EQ(n_errors, 1);
	CHECK_STR_CONTAINS(msgs, "comment longer than 255 characters at \"0000");
	free(msgs);
}

static void
test_errors_dependencies(void)
{
	EXPECT_ERR(1, L10 "-A INPUT --dport 80 -j ACCEPT\": --dport needs -p tcp or -p udp before "
		   "it at \"--dport\"\n",
		   "-A INPUT --dport 80 -j ACCEPT");
	EXPECT_ERR(1, L10 "-A INPUT -p icmp --sport 80\": --sport needs -p tcp or -p udp before it "
		   "at \"--sport\"\n",
		   "-A INPUT -p icmp --sport 80");
	EXPECT_ERR(1, L10 "-A INPUT ! -p tcp --dport 80\": --dport needs -p tcp or -p udp before it "
		   "at \"--dport\"\n",
		   "-A INPUT ! -p tcp --dport 80");
	EXPECT_ERR(1, L10 "-A INPUT -p udp --syn\": --syn needs -p tcp before it at \"--syn\"\n",
		   "-A INPUT -p udp --syn");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --icmp-type 8\": --icmp-type needs -p icmp before it at "
		   "\"--icmp-type\"\n",
		   "-A INPUT -p tcp --icmp-type 8");
	EXPECT_ERR(1, L10 "-A INPUT -m tcp --dport 80\": -m tcp needs -p tcp at \"tcp\"\n",
		   "-A INPUT -m tcp --dport 80");
	EXPECT_ERR(1, L10 "-A INPUT -p udp -m tcp\": -m tcp needs -p tcp at \"tcp\"\n",
		   "-A INPUT -p udp -m tcp");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m icmp\": -m icmp needs -p icmp at \"icmp\"\n",
		   "-A INPUT -p tcp -m icmp");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --dport 22 -m tcp\": -m tcp given twice in one rule at "
		   "\"tcp\"\n",
		   "-A INPUT -p tcp --dport 22 -m tcp");
	EXPECT_ERR(1, L10 "-A INPUT -m multiport --dports 80 -p tcp\": -m multiport needs -p tcp or "
		   "-p udp before it at \"--dports\"\n",
		   "-A INPUT -m multiport --dports 80 -p tcp");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m multiport --dports 80 --sports 1\": -m multiport "
		   "takes one of --sports, --dports, --ports at \"--sports\"\n",
		   "-A INPUT -p tcp -m multiport --dports 80 --sports 1");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -m multiport\": -m multiport needs --sports, --dports or "
		   "--ports at \"multiport\"\n",
		   "-A INPUT -p tcp -m multiport");
	EXPECT_ERR(1, L10 "-A INPUT --state NEW -m state\": --state needs -m state before it at "
		   "\"--state\"\n",
		   "-A INPUT --state NEW -m state");
	EXPECT_ERR(1, L10 "-A INPUT -m state\": -m state needs --state at \"state\"\n",
		   "-A INPUT -m state");
	EXPECT_ERR(1, L10 "-A INPUT -m conntrack\": -m conntrack needs --ctstate, --ctproto, "
		   "--ctorigsrc or --ctorigdst at \"conntrack\"\n",
		   "-A INPUT -m conntrack");
	EXPECT_ERR(1, L10 "-A INPUT -m iprange\": -m iprange needs --src-range or --dst-range at "
		   "\"iprange\"\n",
		   "-A INPUT -m iprange");
	EXPECT_ERR(1, L10 "-A INPUT -m comment\": -m comment needs --comment at \"comment\"\n",
		   "-A INPUT -m comment");
	EXPECT_ERR(1, L10 "-A INPUT --ctstate NEW\": --ctstate needs -m conntrack before it at "
		   "\"--ctstate\"\n",
		   "-A INPUT --ctstate NEW");
	EXPECT_ERR(1, L10 "-A INPUT --limit 3/s\": --limit needs -m limit before it at \"--limit\"\n",
		   "-A INPUT --limit 3/s");
	EXPECT_ERR(1, L10 "-A INPUT --comment x\": --comment needs -m comment before it at "
		   "\"--comment\"\n",
		   "-A INPUT --comment x");
	EXPECT_ERR(1, L10 "-A INPUT -m state --state NEW -m conntrack --ctstate INVALID\": one state "
		   "match per rule (--state or --ctstate) at \"--ctstate\"\n",
		   "-A INPUT -m state --state NEW -m conntrack --ctstate INVALID");
	EXPECT_ERR(1, L10 "-A INPUT --reject-with tcp-reset -j REJECT\": --reject-with needs -j "
		   "REJECT before it at \"--reject-with\"\n",
		   "-A INPUT --reject-with tcp-reset -j REJECT");
	EXPECT_ERR(1, L10 "-A INPUT -j DROP --reject-with tcp-reset\": --reject-with needs -j REJECT "
		   "before it at \"--reject-with\"\n",
		   "-A INPUT -j DROP --reject-with tcp-reset");
	EXPECT_ERR(1, L10 "-A INPUT --log-prefix x -j LOG\": --log-prefix needs -j LOG before it at "
		   "\"--log-prefix\"\n",
		   "-A INPUT --log-prefix x -j LOG");
	EXPECT_ERR(1, L10 "-A INPUT -j ACCEPT --log-level 3\": --log-level needs -j LOG before it at "
		   "\"--log-level\"\n",
		   "-A INPUT -j ACCEPT --log-level 3");
	EXPECT_ERR(1, L10 "-A INPUT -p udp -j REJECT --reject-with tcp-reset\": --reject-with "
		   "tcp-reset needs -p tcp at \"tcp-reset\"\n",
		   "-A INPUT -p udp -j REJECT --reject-with tcp-reset");
	EXPECT_ERR(1, L10 "-A INPUT ! -p tcp -j REJECT --reject-with tcp-reset\": --reject-with "
		   "tcp-reset needs -p tcp at \"tcp-reset\"\n",
		   "-A INPUT ! -p tcp -j REJECT --reject-with tcp-reset");
	EXPECT_ERR(1, L10 "-A OUTPUT -i lan0 -j DROP\": -i cannot be used in OUTPUT (it has no "
		   "input port) at \"-i\"\n",
		   "-A OUTPUT -i lan0 -j DROP");
	EXPECT_ERR(1, L10 "-A INPUT -o wan0 -j DROP\": -o cannot be used in INPUT (it has no output "
		   "port) at \"-o\"\n",
		   "-A INPUT -o wan0 -j DROP");
	EXPECT_ERR(1, L10 "-A INPUT -j ACCEPT -j DROP\": a rule has one target (-j or -g), this is "
		   "the second at \"-j\"\n",
		   "-A INPUT -j ACCEPT -j DROP");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp -p udp\": -p given twice in one rule at \"-p\"\n",
		   "-A INPUT -p tcp -p udp");
	EXPECT_ERR(1, L10 "-A INPUT -s 1.2.3.4 --source 0/0\": --source given twice in one rule at "
		   "\"--source\"\n",
		   "-A INPUT -s 1.2.3.4 --source 0/0");
	EXPECT_ERR(1, L10 "-A INPUT -p tcp --syn --tcp-flags ALL SYN\": one of --syn and "
		   "--tcp-flags, once at \"--tcp-flags\"\n",
		   "-A INPUT -p tcp --syn --tcp-flags ALL SYN");
}

static void
test_errors_chains(void)
{
	EXPECT_ERR(1, L10 "-A NOPE -j ACCEPT\": no chain named NOPE (create it with -N before this "
		   "rule) at \"NOPE\"\n",
		   "-A NOPE -j ACCEPT");
	EXPECT_ERR(1, L10 "-I later -j ACCEPT\": no chain named later (create it with -N before "
		   "this rule) at \"later\"\n",
		   "-I later -j ACCEPT", "-N later");
	EXPECT_ERR(1, L10 "-A INPUT -j later\": no chain named later (create it with -N before this "
		   "rule) at \"later\"\n",
		   "-A INPUT -j later", "-N later");
	EXPECT_ERR(1, L10 "-A INPUT -j accept\": no chain named accept (create it with -N before "
		   "this rule) at \"accept\"\n",
		   "-A INPUT -j accept");
	EXPECT_ERR(1, L10 "-A INPUT -j FORWARD\": cannot jump to a built-in chain at \"FORWARD\"\n",
		   "-A INPUT -j FORWARD");
	EXPECT_ERR(1, L10 "-A INPUT -g ACCEPT\": -g goes to a user chain, not to a target (use -j "
		   "ACCEPT) at \"ACCEPT\"\n",
		   "-A INPUT -g ACCEPT");
	EXPECT_ERR(1, L10 "-N INPUT\": chain INPUT already exists at \"INPUT\"\n", "-N INPUT");
	EXPECT_ERR(1, "rampart.conf:11: rule \"-N web\": chain web already exists at \"web\"\n",
		   "-N web", "-N web");
	EXPECT_ERR(1, L10 "-N a2345678901234567890123456789\": chain name too long (28 characters at "
		   "most) at \"a2345678901234567890123456789\"\n",
		   "-N a2345678901234567890123456789");
	EXPECT_ERR(1, L10 "-N DROP\": a chain name cannot be a target's name at \"DROP\"\n",
		   "-N DROP");
	EXPECT_ERR(1, L10 "-N MASQUERADE\": a chain name cannot be a target's name at "
		   "\"MASQUERADE\"\n",
		   "-N MASQUERADE");
	EXPECT_ERR(1, L10 "-N -x\": a chain name cannot start with '-' or '!' at \"-x\"\n", "-N -x");
	EXPECT_ERR(1, L10 "-N 'a b'\": a chain name is printable characters without blanks, quotes "
		   "or backslashes at \"a b\"\n",
		   "-N 'a b'");
	EXPECT_ERR(1, L10 "-P web DROP\": -P sets the policy of INPUT, FORWARD or OUTPUT at \"web\"\n",
		   "-P web DROP", "-N web");
	EXPECT_ERR(1, L10 "-P INPUT REJECT\": a policy is ACCEPT or DROP at \"REJECT\"\n",
		   "-P INPUT REJECT");
	EXPECT_ERR(1, L10 "-P INPUT drop\": a policy is ACCEPT or DROP at \"drop\"\n",
		   "-P INPUT drop");
	/* a 28-character name is the longest */
	rp_ruleset_free(OK("-N a234567890123456789012345678", "-A INPUT -j a234567890123456789012345678"));
}

/* Every rule is checked, and within one rule every bad value. */
static void
test_errors_all_reported(void)
{
	EXPECT_ERR(5,
		   L10 "-A INPUT -p tcp --sport 70000 --dport 5:1 -s 300.1.1.1 -j DROP\": bad port "
		   "(0..65535; service names are not resolved) at \"70000\"\n"
		   L10 "-A INPUT -p tcp --sport 70000 --dport 5:1 -s 300.1.1.1 -j DROP\": bad port "
		   "range (the first port is above the last) at \"5:1\"\n"
		   L10 "-A INPUT -p tcp --sport 70000 --dport 5:1 -s 300.1.1.1 -j DROP\": bad address "
		   "(a.b.c.d[/len]; names are not resolved) at \"300.1.1.1\"\n"
		   "rampart.conf:12: rule \"-A FORWARD -j nowhere\": no chain named nowhere (create "
		   "it with -N before this rule) at \"nowhere\"\n"
		   "rampart.conf:13: rule \"-A INPUT -m foo -p bar\": match not supported (supported: "
		   "tcp, udp, icmp, multiport, state, conntrack, iprange, limit, comment, helper) at "
		   "\"foo\"\n",
		   "-A INPUT -p tcp --sport 70000 --dport 5:1 -s 300.1.1.1 -j DROP",
		   "-A INPUT -p tcp --dport 22 -j ACCEPT", "-A FORWARD -j nowhere",
		   "-A INPUT -m foo -p bar");
}

/* ---- iptables-save files ---------------------------------------------------------------- */

/* Parse @p text as a rules file (named "@" in the messages), with @p base's policies. */
static struct rp_ruleset *
parse_file_text(const char *text, const struct rp_filter_source *base, char **msgs,
		int *n_errors)
{
	char path[] = "/tmp/rp-test-rules-XXXXXX";
	int fd = mkstemp(path);
	struct rp_filter_source src = {.file = "rampart.conf"};
	struct rp_ruleset *rs;
	char *raw;
	size_t plen = strlen(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("temp rules file");
		exit(1);
	}
	close(fd);
	if (base != NULL)
		src = *base;
	src.rules_file = path;
	rs = parse_src(&src, &raw, n_errors);
	unlink(path);
	/* the temp name as "@" */
	*msgs = malloc(strlen(raw) + 1);
	char *w = *msgs;
	for (const char *r = raw; *r != '\0';) {
		if (strncmp(r, path, plen) == 0) {
			*w++ = '@';
			r += plen;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	free(raw);
	return rs;
}

#define EXPECT_FILE_ERR(text, n, expected) expect_file_err(__LINE__, text, NULL, n, expected)
static void
expect_file_err(int line, const char *text, const struct rp_filter_source *base, int n,
		const char *expected)
{
	char *msgs;
	int n_errors = -1;
	struct rp_ruleset *rs = parse_file_text(text, base, &msgs, &n_errors);

	rp_test_checks++;
	if (rs != NULL || n_errors != n || strcmp(msgs, expected) != 0) {
		rp_test_failures++;
		fprintf(stderr, "%s:%d: expected %d error(s):\n%s--- got %d:\n%s---\n", __FILE__, line,
			n, expected, n_errors, msgs);
	}
	rp_ruleset_free(rs);
	free(msgs);
}

static const char saved_file[] =
	"# Generated by iptables-save v1.8.7 on Tue Jan  2 10:00:00 2024\n"           /* 1 */
	"*filter\n"                                                                     /* 2 */
	":INPUT DROP [120:9600]\n"                                                      /* 3 */
	":FORWARD DROP [0:0]\n"                                                         /* 4 */
	":OUTPUT ACCEPT [4000:320000]\n"                                                /* 5 */
	":LOGDROP - [0:0]\n"                                                            /* 6 */
	"[10:600] -A INPUT -i lo -j ACCEPT\n"                                           /* 7 */
	"[55:4400] -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"           /* 8 */
	"\n"                                                                            /* 9 */
	"   # an indented comment\n"                                                    /* 10 */
	"[3:180] -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n"   /* 11 */
	"-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT\n"                            /* 12 */
	"-A INPUT -j LOGDROP\n"                                                         /* 13 */
	"-A FORWARD -i lan0 -o wan0 -m comment --comment \"lan to \\\"wan\\\"\" -j ACCEPT\n" /* 14 */
	"-A LOGDROP -m limit --limit 5/min -j LOG --log-prefix \"DROP: \"\n"            /* 15 */
	"-A LOGDROP -j DROP\r\n"                                                        /* 16 */
	"COMMIT\n"                                                                      /* 17 */
	"# Completed on Tue Jan  2 10:00:00 2024\n";                                    /* 18 */

static void
test_save_file(void)
{
	char *msgs;
	int n_errors = -1;
	struct rp_ruleset *rs = parse_file_text(saved_file, NULL, &msgs, &n_errors);

	CHECK(rs != NULL);
	CHECK_EQ(n_errors, 0);
	CHECK_STR_EQ(msgs, "");
	free(msgs);
	if (rs == NULL)
		return;
	CHECK_EQ(rs->chains[RP_CHAIN_INPUT].policy, RP_T_DROP);
	CHECK_EQ(rs->chains[RP_CHAIN_FORWARD].policy, RP_T_DROP);
	CHECK_EQ(rs->chains[RP_CHAIN_OUTPUT].policy, RP_T_ACCEPT);
	CHECK_EQ(rs->n_chains, 4);
	CHECK_EQ(rs->n_rules, 8);
	CHECK_EQ(rs->chains[RP_CHAIN_INPUT].n_rules, 5);
	/* lo is no configured port: an empty set */
	CHECK_EQ(rule(rs, "INPUT", 0)->m.present, RP_M_IN);
	CHECK_EQ(rule(rs, "INPUT", 0)->m.in_ports, 0);
	CHECK_EQ(rule(rs, "INPUT", 1)->m.states, REL | EST);
	CHECK_EQ(rule(rs, "INPUT", 2)->m.present, RP_M_PROTO | RP_M_STATE | RP_M_DPORT);
	CHECK_EQ(rule(rs, "INPUT", 2)->line, 11);
	CHECK_STR_EQ(rule(rs, "INPUT", 2)->text,
		     "[3:180] -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT");
	CHECK_EQ(rule(rs, "INPUT", 3)->m.icmp_type, 8);
	CHECK_EQ(rule(rs, "INPUT", 4)->target, RP_T_JUMP);
	CHECK_EQ(rule(rs, "INPUT", 4)->jump, 3);
	CHECK_STR_EQ(rule(rs, "FORWARD", 0)->m.comment, "lan to \"wan\"");
	CHECK_EQ(rule(rs, "FORWARD", 0)->m.in_ports, 0x1);
	CHECK_EQ(rule(rs, "LOGDROP", 0)->m.limit_rate, 5);
	CHECK_EQ(rule(rs, "LOGDROP", 0)->m.limit_period_us, 60000000);
	CHECK_STR_EQ(rule(rs, "LOGDROP", 0)->log_prefix, "DROP: ");
	CHECK_EQ(rule(rs, "LOGDROP", 1)->target, RP_T_DROP);
	CHECK_EQ(rule(rs, "LOGDROP", 1)->line, 16);
	CHECK(strstr(rule(rs, "LOGDROP", 1)->file, "/tmp/rp-test-rules-") != NULL);
	rp_ruleset_free(rs);
}

static void
test_save_file_errors(void)
{
	struct rp_filter_source with_policy = {.file = "rampart.conf"};
	char *msgs;
	int n_errors;

	/* other tables are refused, their lines not read; the filter table still is */
	EXPECT_FILE_ERR("*nat\n"
			":PREROUTING ACCEPT [0:0]\n"
			"-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2\n"
			"COMMIT\n"
			"*filter\n"
			"-A INPUT -j NOWHERE\n"
			"COMMIT\n"
			"*mangle\n"
			"COMMIT\n",
			3,
			"@:1: rule \"*nat\": table nat: not supported (only *filter) at \"*nat\"\n"
			"@:6: rule \"-A INPUT -j NOWHERE\": no chain named NOWHERE (create it with -N "
			"before this rule) at \"NOWHERE\"\n"
			"@:8: rule \"*mangle\": table mangle: not supported (only *filter) at "
			"\"*mangle\"\n");
	EXPECT_FILE_ERR("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n", 1,
			"@:1: rule \"*filter\": no COMMIT for this table at \"*filter\"\n");
	EXPECT_FILE_ERR("*filter\n-A INPUT\n*raw\nCOMMIT\n", 2,
			"@:1: rule \"*filter\": no COMMIT before the next table at \"*filter\"\n"
			"@:3: rule \"*raw\": table raw: not supported (only *filter) at \"*raw\"\n");
	EXPECT_FILE_ERR("-A INPUT -j DROP\n*filter\nCOMMIT\n*filter\nCOMMIT\nCOMMIT\n", 3,
			"@:1: rule \"-A INPUT -j DROP\": outside a table (*filter ... COMMIT) at "
			"\"-A\"\n"
			"@:4: rule \"*filter\": a second *filter table at \"*filter\"\n"
			"@:6: rule \"COMMIT\": COMMIT without a table at \"COMMIT\"\n");
	EXPECT_FILE_ERR("*filter\n"
			"[1:x] -A INPUT\n"
			"[1:2]\n"
			":FOO ACCEPT [0:0]\n"
			":INPUT - [0:0]\n"
			":INPUT DROP [0:0] extra\n"
			":OUTPUT\n"
			":BAR - [0:0]\n"
			":BAR - [0:0]\n"
			"COMMIT\n",
			7,
			"@:2: rule \"[1:x] -A INPUT\": bad counters (\"[packets:bytes]\") at \"[1:x]\"\n"
			"@:3: rule \"[1:2]\": counters without a rule at \"[1:2]\"\n"
			"@:4: rule \":FOO ACCEPT [0:0]\": a user chain has no policy (write \"-\") at "
			"\"ACCEPT\"\n"
			"@:5: rule \":INPUT - [0:0]\": a policy is ACCEPT or DROP at \"-\"\n"
			"@:6: rule \":INPUT DROP [0:0] extra\": a chain line is \":CHAIN POLICY "
			"[packets:bytes]\" at \"[0:0]\"\n"
			"@:7: rule \":OUTPUT\": a chain line is \":CHAIN POLICY [packets:bytes]\" at "
			"\":OUTPUT\"\n"
			"@:9: rule \":BAR - [0:0]\": chain BAR already exists at \"BAR\"\n");
	/* a policy in the file and in the config: both places named */
	with_policy.policy[RP_CHAIN_INPUT] = RP_T_DROP;
	with_policy.policy_line[RP_CHAIN_INPUT] = 7;
	expect_file_err(__LINE__, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n",
			&with_policy, 1,
			"@:2: rule \":INPUT ACCEPT [0:0]\": policy of INPUT is also set at "
			"rampart.conf:7; set it in one place only at \":INPUT\"\n");
	/* and twice in the file: the chain line and -P */
	EXPECT_FILE_ERR("*filter\n:FORWARD DROP [0:0]\n-P FORWARD ACCEPT\nCOMMIT\n", 1,
			"@:3: rule \"-P FORWARD ACCEPT\": policy of FORWARD is also set at @:2; set "
			"it in one place only at \"-P\"\n");

	{
		struct rp_filter_source src = {.file = "rampart.conf",
					       .rules_file = "/nonexistent/rules.v4"};
		struct rp_ruleset *rs = parse_src(&src, &msgs, &n_errors);
		CHECK(rs == NULL);
		CHECK_EQ(n_errors, 1);
		CHECK_STR_EQ(msgs, "/nonexistent/rules.v4: cannot open: No such file or directory\n");
		free(msgs);
	}
	/* an empty file is an empty ruleset, as iptables-restore takes it */
	{
		struct rp_ruleset *rs = parse_file_text("# nothing\n", NULL, &msgs, &n_errors);
		CHECK(rs != NULL);
		CHECK_EQ(rs ? rs->n_rules : 99, 0);
		rp_ruleset_free(rs);
		free(msgs);
	}
}

/* ---- listing --------------------------------------------------------------------------- */

static char *
print_to_string(const struct rp_ruleset *rs, struct rp_filter_worker *const *w, unsigned n,
		int flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	rp_ruleset_print(rs, w, n, flags, f);
	fclose(f);
	return buf;
}

static char *
rule_to_string(const struct rp_ruleset *rs, const struct rp_rule *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	rp_rule_print(rs, r, f);
	fclose(f);
	return buf;
}

/* Every option at least once, negations, user chains, odd strings. */
static const char *const everything[] = {
	"-P INPUT DROP",
	"-P FORWARD DROP",
	"-N zeta",
	"-N alpha",
	"-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT",
	"-A INPUT -m conntrack ! --ctstate NEW,INVALID --ctproto tcp --ctorigsrc 10.0.0.0/8 "
	"! --ctorigdst 192.0.2.1 -j ACCEPT",
	"-A INPUT -s 10.1.0.0/16 -d 192.0.2.1/32 -i lan+ -p tcp -m tcp --sport 1024: "
	"! --dport 22:23 ! --tcp-flags SYN,ACK,FIN SYN -j REJECT --reject-with tcp-reset",
	"-A INPUT ! -s 10.0.0.0/8 ! -d 198.51.100.0/24 ! -i lan0 ! -p udp ! -f -j DROP",
	"-A INPUT -p udp -m udp --sport 53 -m comment --comment 'it''s \"quoted\" \\ odd' "
	"-j LOG --log-prefix \"a'b\\\"c \" --log-level alert",
	"-A INPUT -p icmp -m icmp ! --icmp-type 3/4 -m limit --limit 7/hour --limit-burst 9 -j "
	"ACCEPT",
	"-A INPUT -p icmp --icmp-type any",
	"-A INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with icmp-host-prohibited",
	"-A INPUT -p tcp -m multiport ! --dports 80,443,8000:8080 -m state --state NEW -j zeta",
	"-A INPUT -p udp -m multiport --sports 1:2 -g alpha",
	"-A INPUT -p udp -m multiport --ports 5 -m iprange --src-range 10.0.0.1-10.0.0.9 "
	"! --dst-range 10.9.9.9-10.9.9.9",
	"-A INPUT -p gre -m limit",
	"-A INPUT -p 200 -j RETURN",
	"-A INPUT -p tcp --syn -m limit --limit 1/day --limit-burst 1 -j LOG",
	"-A FORWARD -i lan1 -o wan+ -m comment --comment simple_word-1 -j ACCEPT",
	"-A OUTPUT ! -o wan0 -p tcp -m tcp --tcp-flags ALL NONE -j DROP",
	"-A zeta -m limit --limit 10/minute -j LOG --log-prefix zeta",
	"-A zeta -m comment --comment \"\"",
	"-A zeta -j RETURN",
	"-A alpha -p tcp -m tcp --dport 0:65535 -j DROP",
	"-I alpha -m conntrack --ctorigdst 203.0.113.0/24 -j zeta",
};

/* The same ruleset: same chains, rules, matches and targets (not where they were written). */
static void
check_same_ruleset(const struct rp_ruleset *a, const struct rp_ruleset *b)
{
	CHECK_EQ(a->n_chains, b->n_chains);
	CHECK_EQ(a->n_rules, b->n_rules);
	for (unsigned i = 0; i < a->n_chains && i < b->n_chains; i++) {
		/* user chains may come in another order: compare by name */
		const struct rp_chain *ca = &a->chains[i];
		int j = rp_ruleset_chain(b, ca->name);
		const struct rp_chain *cb = j >= 0 ? &b->chains[j] : NULL;

		CHECK(cb != NULL);
		if (cb == NULL)
			continue;
		CHECK_EQ(ca->builtin, cb->builtin);
		CHECK_EQ(ca->policy, cb->policy);
		CHECK_EQ(ca->n_rules, cb->n_rules);
		for (unsigned k = 0; k < ca->n_rules && k < cb->n_rules; k++) {
			const struct rp_rule *x = &ca->rules[k], *y = &cb->rules[k];
			rp_test_checks++;
			if (memcmp(&x->m, &y->m, sizeof(x->m)) != 0 || x->target != y->target ||
			    x->reject_with != y->reject_with || x->log_level != y->log_level ||
			    strcmp(x->log_prefix, y->log_prefix) != 0 ||
			    ((x->target == RP_T_JUMP || x->target == RP_T_GOTO) &&
			     strcmp(a->chains[x->jump].name, b->chains[y->jump].name) != 0)) {
				rp_test_failures++;
				fprintf(stderr, "%s:%d: rule %s[%u] differs: \"%s\" vs \"%s\"\n", __FILE__,
					__LINE__, ca->name, k, x->text, y->text);
			}
		}
	}
}

static void
test_save_round_trip(void)
{
	struct rp_ruleset *a = ok(__LINE__, everything, sizeof(everything) / sizeof(everything[0]));
	struct rp_ruleset *b;
	char *save_a, *save_b, *msgs;
	int n_errors = -1;

	if (a == NULL)
		return;
	save_a = print_to_string(a, NULL, 0, RP_PRINT_SAVE);
	b = parse_file_text(save_a, NULL, &msgs, &n_errors);
	CHECK(b != NULL);
	CHECK_STR_EQ(msgs, "");
	free(msgs);
	if (b != NULL) {
		check_same_ruleset(a, b);
		save_b = print_to_string(b, NULL, 0, RP_PRINT_SAVE);
		CHECK_STR_EQ(save_b, save_a);
		free(save_b);
	}
	/* what the save output says, line by line */
	CHECK_STR_EQ(
		save_a,
		"*filter\n"
		":INPUT DROP [0:0]\n"
		":FORWARD DROP [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		":alpha - [0:0]\n"
		":zeta - [0:0]\n"
		"[0:0] -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
		"[0:0] -A INPUT -m conntrack ! --ctstate INVALID,NEW --ctproto 6 --ctorigsrc 10.0.0.0/8 "
		"! --ctorigdst 192.0.2.1 -j ACCEPT\n"
		"[0:0] -A INPUT -s 10.1.0.0/16 -d 192.0.2.1/32 -i lan+ -p tcp -m tcp --sport 1024:65535 "
		"! --dport 22:23 ! --tcp-flags FIN,SYN,ACK SYN -j REJECT --reject-with tcp-reset\n"
		"[0:0] -A INPUT ! -s 10.0.0.0/8 ! -d 198.51.100.0/24 ! -i lan0 ! -p udp ! -f -j DROP\n"
		"[0:0] -A INPUT -p udp -m udp --sport 53 -m comment --comment \"its \\\"quoted\\\" \\\\ "
		"odd\" -j LOG --log-prefix \"a\\'b\\\"c \" --log-level 1\n"
		"[0:0] -A INPUT -p icmp -m icmp ! --icmp-type 3/4 -m limit --limit 7/hour --limit-burst 9 "
		"-j ACCEPT\n"
		"[0:0] -A INPUT -p icmp -m icmp --icmp-type any\n"
		"[0:0] -A INPUT -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with "
		"icmp-host-prohibited\n"
		"[0:0] -A INPUT -p tcp -m multiport ! --dports 80,443,8000:8080 -m state --state NEW "
		"-j zeta\n"
		"[0:0] -A INPUT -p udp -m multiport --sports 1:2 -g alpha\n"
		"[0:0] -A INPUT -p udp -m multiport --ports 5 -m iprange --src-range 10.0.0.1-10.0.0.9 "
		"! --dst-range 10.9.9.9-10.9.9.9\n"
		"[0:0] -A INPUT -p gre -m limit --limit 3/hour\n"
		"[0:0] -A INPUT -p 200 -j RETURN\n"
		"[0:0] -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 1/day "
		"--limit-burst 1 -j LOG\n"
		"[0:0] -A FORWARD -i lan1 -o wan+ -m comment --comment simple_word-1 -j ACCEPT\n"
		"[0:0] -A OUTPUT ! -o wan0 -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP\n"
		"[0:0] -A alpha -m conntrack --ctorigdst 203.0.113.0/24 -j zeta\n"
		"[0:0] -A alpha -p tcp -m tcp --dport 0:65535 -j DROP\n"
		"[0:0] -A zeta -m limit --limit 10/min -j LOG --log-prefix zeta\n"
		"[0:0] -A zeta -m comment --comment \"\"\n"
		"[0:0] -A zeta -j RETURN\n"
		"COMMIT\n");
	free(save_a);
	rp_ruleset_free(a);
	rp_ruleset_free(b);
}

static const char *const listed[] = {
	"-P INPUT DROP",
	"-N ssh",
	"-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
	"-A INPUT -i lan+ -p tcp --dport 22 -j ssh",
	"-A INPUT ! -s 10.0.0.0/8 -p udp -m multiport --dports 53,123 -j REJECT",
	"-A INPUT -p icmp --icmp-type echo-request -m limit --limit 3/sec -j ACCEPT",
	"-A INPUT -p 47 -f -m comment --comment \"gre frags\"",
	"-A FORWARD -i lan0 -o wan0 -j ACCEPT",
	"-A FORWARD -d 192.0.2.1 -p tcp ! --syn -j LOG --log-prefix \"fwd: \"",
	"-A ssh -s 198.51.100.7 -m conntrack --ctstate NEW -j ACCEPT",
	"-A ssh ! -i lan1 -j DROP",
};

/* -L -v -n, as iptables lays it out (derived from its printf formats), counters summed. */
static const char listing_kmg[] =
		"Chain INPUT (policy DROP 7 packets, 420 bytes)\n"
		" pkts bytes target     prot opt in     out     source               destination         \n"
		"  123  151K ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            state RELATED,ESTABLISHED\n"
		"    5   300 ssh        tcp  --  lan+   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22\n"
		"    7   700 REJECT     udp  --  *      *      !10.0.0.0/8           0.0.0.0/0            multiport dports 53,123 reject-with icmp-port-unreachable\n"
		"    1    84 ACCEPT     icmp --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8 limit: avg 3/sec burst 5\n"
		"    0     0            47   -f  *      *       0.0.0.0/0            0.0.0.0/0            /* gre frags */\n"
		"\n"
		"Chain FORWARD (policy ACCEPT 1000 packets, 64000 bytes)\n"
		" pkts bytes target     prot opt in     out     source               destination         \n"
		" 123M   99G ACCEPT     all  --  lan0   wan0    0.0.0.0/0            0.0.0.0/0           \n"
		"    0     0 LOG        tcp  --  *      *       0.0.0.0/0            192.0.2.1            tcp flags:!0x17/0x02 LOG flags 0 level 4 prefix \"fwd: \"\n"
		"\n"
		"Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
		" pkts bytes target     prot opt in     out     source               destination         \n"
		"\n"
		"Chain ssh (1 references)\n"
		" pkts bytes target     prot opt in     out     source               destination         \n"
		"    3   180 ACCEPT     all  --  *      *       198.51.100.7         0.0.0.0/0            ctstate NEW\n"
		"    2   120 DROP       all  --  !lan1  *       0.0.0.0/0            0.0.0.0/0           \n"
	;

/* the same with exact counters (-x) */
static const char listing_exact[] =
		"Chain INPUT (policy DROP 7 packets, 420 bytes)\n"
		"    pkts      bytes target     prot opt in     out     source               destination         \n"
		"     123   151000 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            state RELATED,ESTABLISHED\n"
		"       5      300 ssh        tcp  --  lan+   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22\n"
		"       7      700 REJECT     udp  --  *      *      !10.0.0.0/8           0.0.0.0/0            multiport dports 53,123 reject-with icmp-port-unreachable\n"
		"       1       84 ACCEPT     icmp --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8 limit: avg 3/sec burst 5\n"
		"       0        0            47   -f  *      *       0.0.0.0/0            0.0.0.0/0            /* gre frags */\n"
		"\n"
		"Chain FORWARD (policy ACCEPT 1000 packets, 64000 bytes)\n"
		"    pkts      bytes target     prot opt in     out     source               destination         \n"
		"123456789 98765432101 ACCEPT     all  --  lan0   wan0    0.0.0.0/0            0.0.0.0/0           \n"
		"       0        0 LOG        tcp  --  *      *       0.0.0.0/0            192.0.2.1            tcp flags:!0x17/0x02 LOG flags 0 level 4 prefix \"fwd: \"\n"
		"\n"
		"Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
		"    pkts      bytes target     prot opt in     out     source               destination         \n"
		"\n"
		"Chain ssh (1 references)\n"
		"    pkts      bytes target     prot opt in     out     source               destination         \n"
		"       3      180 ACCEPT     all  --  *      *       198.51.100.7         0.0.0.0/0            ctstate NEW\n"
		"       2      120 DROP       all  --  !lan1  *       0.0.0.0/0            0.0.0.0/0           \n"
	;

static void
test_listing(void)
{
	struct rp_ruleset *rs = ok(__LINE__, listed, sizeof(listed) / sizeof(listed[0]));
	uint64_t p0[9] = {100, 5, 0, 1, 0, 200000, 0, 3, 0};
	uint64_t b0[9] = {150000, 300, 0, 84, 0, 290000000, 0, 180, 0};
	uint64_t p1[9] = {23, 0, 7, 0, 0, 123256789, 0, 0, 2};
	uint64_t b1[9] = {1000, 0, 700, 0, 0, 98475432101ull, 0, 0, 120};
	struct rp_filter_worker w0 = {.pkts = p0, .bytes = b0, .n_rules = 9,
				      .policy_pkts = {7, 1000, 0}, .policy_bytes = {420, 64000, 0}};
	struct rp_filter_worker w1 = {.pkts = p1, .bytes = b1, .n_rules = 9};
	struct rp_filter_worker *workers[] = {&w0, &w1, NULL};
	char *out;

	if (rs == NULL)
		return;
	CHECK_EQ(rs->n_rules, 9);
	out = print_to_string(rs, workers, 3, 0);
	CHECK_STR_EQ(out, listing_kmg);
	free(out);
	out = print_to_string(rs, workers, 3, RP_PRINT_EXACT);
	CHECK_STR_EQ(out, listing_exact);
	free(out);
	/* save with counters */
	out = print_to_string(rs, workers, 2, RP_PRINT_SAVE);
	CHECK_STR_EQ(out, "*filter\n"
			  ":INPUT DROP [7:420]\n"
			  ":FORWARD ACCEPT [1000:64000]\n"
			  ":OUTPUT ACCEPT [0:0]\n"
			  ":ssh - [0:0]\n"
			  "[123:151000] -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
			  "[5:300] -A INPUT -i lan+ -p tcp -m tcp --dport 22 -j ssh\n"
			  "[7:700] -A INPUT ! -s 10.0.0.0/8 -p udp -m multiport --dports 53,123 -j "
			  "REJECT --reject-with icmp-port-unreachable\n"
			  "[1:84] -A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 3/sec -j "
			  "ACCEPT\n"
			  "[0:0] -A INPUT -p gre -f -m comment --comment \"gre frags\"\n"
			  "[123456789:98765432101] -A FORWARD -i lan0 -o wan0 -j ACCEPT\n"
			  "[0:0] -A FORWARD -d 192.0.2.1/32 -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK "
			  "SYN -j LOG --log-prefix \"fwd: \"\n"
			  "[3:180] -A ssh -s 198.51.100.7/32 -m conntrack --ctstate NEW -j ACCEPT\n"
			  "[2:120] -A ssh ! -i lan1 -j DROP\n"
			  "COMMIT\n");
	free(out);
	/* no workers: zeros */
	out = print_to_string(rs, NULL, 0, 0);
	CHECK_STR_CONTAINS(out, "Chain INPUT (policy DROP 0 packets, 0 bytes)\n");
	CHECK_STR_CONTAINS(out, "\n    0     0 ACCEPT     all  --  lan0   wan0  ");
	free(out);
	/* one rule alone, as iptables-save writes it */
	out = rule_to_string(rs, rule(rs, "INPUT", 1));
	CHECK_STR_EQ(out, "-i lan+ -p tcp -m tcp --dport 22 -j ssh");
	free(out);
	rp_ruleset_free(rs);

	rs = OK("-A INPUT");
	out = rule_to_string(rs, rule(rs, "INPUT", 0));
	CHECK_STR_EQ(out, "");
	free(out);
	rp_ruleset_free(rs);
}

/* A rule made by code (no module list) still lists with its modules. */
static void
test_listing_built_rule(void)
{
	struct rp_ruleset *rs = OK("-A INPUT");
	struct rp_rule *r;
	char *out;

	if (rs == NULL)
		return;
	r = &rs->chains[0].rules[0];
	r->m.present = RP_M_PROTO | RP_M_DPORT | RP_M_STATE | RP_M_CTPROTO;
	r->m.proto = 17;
	r->m.dport = (struct rp_range16){53, 53};
	r->m.states = NEW;
	r->m.ctproto = 17;
	r->target = RP_T_ACCEPT;
	out = rule_to_string(rs, r);
	CHECK_STR_EQ(out, "-p udp -m udp --dport 53 -m conntrack --ctstate NEW --ctproto 17 -j ACCEPT");
	free(out);
	rp_ruleset_free(rs);
}

static void
test_names(void)
{
	CHECK_STR_EQ(rp_target_name(RP_T_NONE), "");
	CHECK_STR_EQ(rp_target_name(RP_T_ACCEPT), "ACCEPT");
	CHECK_STR_EQ(rp_target_name(RP_T_DROP), "DROP");
	CHECK_STR_EQ(rp_target_name(RP_T_REJECT), "REJECT");
	CHECK_STR_EQ(rp_target_name(RP_T_LOG), "LOG");
	CHECK_STR_EQ(rp_target_name(RP_T_RETURN), "RETURN");
	CHECK_STR_EQ(rp_target_name(RP_T_JUMP), "JUMP");
	CHECK_STR_EQ(rp_target_name(RP_T_GOTO), "GOTO");
	CHECK_STR_EQ(rp_target_name(99), "?");
	CHECK_STR_EQ(rp_filter_proto_name(0), "all");
	CHECK_STR_EQ(rp_filter_proto_name(6), "tcp");
	CHECK_STR_EQ(rp_filter_proto_name(47), "gre");
	CHECK_STR_EQ(rp_filter_proto_name(58), "icmpv6");
	CHECK(rp_filter_proto_name(250) == NULL);
	CHECK_STR_EQ(rp_reject_with_name(RP_REJ_PORT_UNREACH), "icmp-port-unreachable");
	CHECK_STR_EQ(rp_reject_with_name(RP_REJ_TCP_RESET), "tcp-reset");
	CHECK_STR_EQ(rp_reject_with_name(RP_REJ_ADMIN_PROHIBITED), "icmp-admin-prohibited");
	CHECK(rp_reject_with_name(200) == NULL);
}

/* The config's filter section -> a source (pointers into the config, policies mapped). */
static void
test_source_from_config(void)
{
	static struct rp_config cfg; /* large: not on the stack */
	char *rules[] = {"-A INPUT -j ACCEPT", "-P OUTPUT DROP"};
	int lines[] = {12, 13};
	struct rp_filter_source src;
	struct rp_ruleset *rs;
	char *msgs;
	int n_errors;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.path, sizeof(cfg.path), "/etc/rampart/rampart.conf");
	cfg.filter.policy[0] = RP_POLICY_DROP;
	cfg.filter.policy_line[0] = 5;
	cfg.filter.policy[1] = RP_POLICY_ACCEPT;
	cfg.filter.policy_line[1] = 6;
	cfg.filter.rules = rules;
	cfg.filter.rule_lines = lines;
	cfg.filter.n_rules = 2;
	cfg.filter.revalidate = 1;
	rp_filter_source_from_config(&cfg, &src);
	CHECK_STR_EQ(src.file, "/etc/rampart/rampart.conf");
	CHECK_EQ(src.policy[RP_CHAIN_INPUT], RP_T_DROP);
	CHECK_EQ(src.policy[RP_CHAIN_FORWARD], RP_T_ACCEPT);
	CHECK_EQ(src.policy[RP_CHAIN_OUTPUT], RP_T_NONE);
	CHECK_EQ(src.policy_line[RP_CHAIN_FORWARD], 6);
	CHECK(src.rules == (const char *const *)rules);
	CHECK(src.rule_lines == lines);
	CHECK_EQ(src.n_rules, 2);
	CHECK(src.rules_file == NULL);
	CHECK_EQ(src.revalidate, 1);
	rs = parse_src(&src, &msgs, &n_errors);
	CHECK(rs != NULL);
	if (rs != NULL) {
		CHECK_EQ(rs->chains[RP_CHAIN_INPUT].policy, RP_T_DROP);
		CHECK_EQ(rs->chains[RP_CHAIN_OUTPUT].policy, RP_T_DROP);
		CHECK_EQ(rs->revalidate, 1);
		CHECK_EQ(rule(rs, "INPUT", 0)->line, 12);
		CHECK_STR_EQ(rule(rs, "INPUT", 0)->file, "/etc/rampart/rampart.conf");
	}
	rp_ruleset_free(rs);
	free(msgs);

	cfg.filter.rules = NULL;
	cfg.filter.n_rules = 0;
	cfg.filter.rules_file = "/etc/rampart/rules.v4";
	rp_filter_source_from_config(&cfg, &src);
	CHECK_STR_EQ(src.rules_file, "/etc/rampart/rules.v4");
	CHECK_EQ(src.n_rules, 0);
}

/* -m helper --helper ftp: parsed, listed and saved as iptables does, errors named. */
static void
test_helper(void)
{
	struct rp_ruleset *rs = NULL;
	const struct rp_match *m;
	char *out;

	m = ONE("-A INPUT -m state --state RELATED -m helper --helper ftp -j ACCEPT");
	CHECK_EQ(m->present, RP_M_STATE | RP_M_HELPER);
	CHECK_EQ(m->negated, 0);
	CHECK_EQ(m->helper, RP_FILTER_HELPER_FTP);
	CHECK_EQ(m->mods[0], RP_MOD_STATE);
	CHECK_EQ(m->mods[1], RP_MOD_HELPER);
	CHECK_EQ(m->mods[2], RP_MOD_NONE);
	out = rule_to_string(rs, rule(rs, "INPUT", 0));
	CHECK_STR_EQ(out, "-m state --state RELATED -m helper --helper ftp -j ACCEPT");
	free(out);
	out = print_to_string(rs, NULL, 0, 0);
	CHECK_STR_CONTAINS(out, "    0     0 ACCEPT     all  --  *      *       0.0.0.0/0            "
			   "0.0.0.0/0            state RELATED helper match \"ftp\"\n");
	free(out);

	/* both negation forms */
	m = ONE("-A INPUT -m helper ! --helper ftp -j DROP");
	CHECK_EQ(m->present, RP_M_HELPER);
	CHECK_EQ(m->negated, RP_M_HELPER);
	CHECK_EQ(m->helper, RP_FILTER_HELPER_FTP);
	out = rule_to_string(rs, rule(rs, "INPUT", 0));
	CHECK_STR_EQ(out, "-m helper ! --helper ftp -j DROP");
	free(out);
	out = print_to_string(rs, NULL, 0, 0);
	CHECK_STR_CONTAINS(out, " helper match ! \"ftp\"\n");
	free(out);
	m = ONE("-A INPUT -m helper --helper ! ftp");
	CHECK_EQ(m->negated, RP_M_HELPER);

	/* a save file reads back to the same match */
	rp_ruleset_free(rs);
	{
		char *msgs;
		int n_errors = -1;
		struct rp_ruleset *b = parse_file_text(
			"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
			"-A FORWARD -p tcp -m conntrack --ctstate RELATED -m helper --helper ftp "
			"-j ACCEPT\nCOMMIT\n",
			NULL, &msgs, &n_errors);
		CHECK(b != NULL);
		CHECK_STR_EQ(msgs, "");
		free(msgs);
		if (b != NULL) {
			const struct rp_rule *r = rule(b, "FORWARD", 0);
			CHECK_EQ(r->m.present, RP_M_PROTO | RP_M_STATE | RP_M_HELPER);
			CHECK_EQ(r->m.helper, RP_FILTER_HELPER_FTP);
			out = print_to_string(b, NULL, 0, RP_PRINT_SAVE);
			CHECK_STR_CONTAINS(out, "[0:0] -A FORWARD -p tcp -m conntrack --ctstate RELATED "
					   "-m helper --helper ftp -j ACCEPT\n");
			free(out);
		}
		rp_ruleset_free(b);
	}

	EXPECT_ERR(1, L10 "-A INPUT -m helper --helper irc\": unknown helper (supported: ftp) at "
		   "\"irc\"\n",
		   "-A INPUT -m helper --helper irc");
	/* names are compared as the kernel does: exactly */
	EXPECT_ERR(1, L10 "-A INPUT -m helper --helper FTP\": unknown helper (supported: ftp) at "
		   "\"FTP\"\n",
		   "-A INPUT -m helper --helper FTP");
	EXPECT_ERR(1, L10 "-A INPUT -m helper\": -m helper needs --helper at \"helper\"\n",
		   "-A INPUT -m helper");
	EXPECT_ERR(1, L10 "-A INPUT --helper ftp\": --helper needs -m helper before it at "
		   "\"--helper\"\n",
		   "-A INPUT --helper ftp");
	EXPECT_ERR(1, L10 "-A INPUT -m helper --helper ftp --helper ftp\": --helper given twice in "
		   "one rule at \"--helper\"\n",
		   "-A INPUT -m helper --helper ftp --helper ftp");
	EXPECT_ERR(1, L10 "-A INPUT -m helper --helper\": missing argument after --helper at "
		   "\"--helper\"\n",
		   "-A INPUT -m helper --helper");
}

int
main(void)
{
	test_protocol();
	test_addresses();
	test_interfaces();
	test_fragment();
	test_targets();
	test_tcp_udp();
	test_icmp();
	test_multiport();
	test_state_conntrack();
	test_iprange_limit_comment();
	test_tokens();
	test_chains_and_ids();
	test_policies();
	test_loops();
	test_errors_syntax();
	test_errors_values();
	test_errors_comment_length();
	test_errors_dependencies();
	test_errors_chains();
	test_errors_all_reported();
	test_save_file();
	test_save_file_errors();
	test_save_round_trip();
	test_listing();
	test_listing_built_rule();
	test_names();
	test_source_from_config();
	test_helper();
	return rp_test_done("filter_parse");
}
