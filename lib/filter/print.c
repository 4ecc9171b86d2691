/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listing a ruleset: `iptables -L -v -n` (column for column, so that what
 * operators know how to read reads the same) and `iptables-save -c` (which
 * rp_ruleset_parse reads back into an equal ruleset, so that a user can diff
 * what runs against what they meant). Each match is printed in iptables'
 * words, its modules in the order the rule wrote them. Control thread only.
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rampart_conntrack.h"
#include "rampart_filter.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LOG_LEVEL_DEFAULT 4
#define LIMIT_BURST_DEFAULT 5

/* iptables' own protocol names: what -L -n prints in the prot column (others as numbers). */
static const struct {
	uint8_t num;
	const char *name;
} list_protos[] = {
	{6, "tcp"}, {132, "sctp"}, {17, "udp"}, {136, "udplite"}, {1, "icmp"},
	{58, "icmpv6"}, {50, "esp"}, {51, "ah"}, {135, "ipv6-mh"}, {0, "all"},
};

/* --tcp-flags bits, in the order iptables prints them. */
static const struct {
	uint8_t bit;
	const char *name;
} tcp_flags[] = {
	{0x01, "FIN"}, {0x02, "SYN"}, {0x04, "RST"}, {0x08, "PSH"}, {0x10, "ACK"}, {0x20, "URG"},
};

const char *
rp_target_name(uint8_t target)
{
	switch (target) {
	case RP_T_NONE:
		return "";
	case RP_T_ACCEPT:
		return "ACCEPT";
	case RP_T_DROP:
		return "DROP";
	case RP_T_REJECT:
		return "REJECT";
	case RP_T_LOG:
		return "LOG";
	case RP_T_RETURN:
		return "RETURN";
	case RP_T_JUMP:
		return "JUMP";
	case RP_T_GOTO:
		return "GOTO";
	default:
		return "?";
	}
}

/* ---- pieces ------------------------------------------------------------------- */

static void
put_addr(FILE *out, uint32_t a)
{
	fprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* Prefix length of a contiguous mask, or -1. */
static int
mask_len(uint32_t mask)
{
	uint32_t inv = ~mask;

	if ((inv & (inv + 1)) != 0)
		return -1;
	return mask == 0 ? 0 : 32 - __builtin_ctz(mask);
}

/* As xtables_ipmask_to_numeric: "" for /32, "/len", or "/a.b.c.d" for odd masks. */
static void
put_mask_suffix(FILE *out, uint32_t mask)
{
	int len = mask_len(mask);

	if (len == 32)
		return;
	if (len >= 0) {
		fprintf(out, "/%d", len);
		return;
	}
	fputc('/', out);
	put_addr(out, mask);
}

/* iptables-save's -s/-d: always with the length, /32 too. */
static void
put_addr_len(FILE *out, uint32_t addr, uint32_t mask)
{
	int len = mask_len(mask);

	put_addr(out, addr);
	if (len >= 0) {
		fprintf(out, "/%d", len);
	} else {
		fputc('/', out);
		put_addr(out, mask);
	}
}

/*
 * A string argument as iptables-save writes it (xtables_save_string): bare
 * when it is only [A-Za-z0-9_-], else in double quotes with " \ ' escaped.
 */
static void
put_save_string(FILE *out, const char *s)
{
	static const char plain[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t n = strspn(s, plain);

	if (n > 0 && s[n] == '\0') {
		fprintf(out, " %s", s);
		return;
	}
	fputs(" \"", out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == '\'')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
put_states(FILE *out, uint8_t states)
{
	/* iptables' order */
	static const struct {
		int state;
		const char *name;
	} order[] = {
		{RP_CT_INVALID, "INVALID"},
		{RP_CT_NEW, "NEW"},
		{RP_CT_RELATED, "RELATED"},
		{RP_CT_ESTABLISHED, "ESTABLISHED"},
	};
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (states & RP_STATE_BIT(order[i].state)) {
			fprintf(out, "%s%s", sep, order[i].name);
			sep = ",";
		}
}

static void
put_tcp_flag_names(FILE *out, uint8_t bits)
{
	const char *sep = "";

	if (bits == 0) {
		fputs("NONE", out);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(tcp_flags); i++)
		if (bits & tcp_flags[i].bit) {
			fprintf(out, "%s%s", sep, tcp_flags[i].name);
			sep = ",";
		}
}

static void
put_mport_list(FILE *out, const struct rp_match *m)
{
	for (unsigned i = 0; i < m->n_mport && i < RP_FILTER_MULTIPORT_MAX; i++) {
		fprintf(out, "%s%u", i ? "," : "", m->mport[i].lo);
		if (m->mport[i].hi != m->mport[i].lo)
			fprintf(out, ":%u", m->mport[i].hi);
	}
}

/* -m limit's rate in the unit it was written in: 3/hour, 10/sec. */
static void
put_rate(FILE *out, const struct rp_match *m)
{
	static const struct {
		uint64_t us;
		const char *name;
	} units[] = {
		{1000000ull, "sec"}, {60000000ull, "min"}, {3600000000ull, "hour"},
		{86400000000ull, "day"},
	};

	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (m->limit_period_us == units[i].us) {
			fprintf(out, "%u/%s", m->limit_rate, units[i].name);
			return;
		}
	/* a period no rule text gives: as packets per second, rounded */
	fprintf(out, "%llu/sec",
		(unsigned long long)(m->limit_period_us
					     ? ((uint64_t)m->limit_rate * 1000000u +
						m->limit_period_us / 2) / m->limit_period_us
					     : 0));
}

/* ---- modules ---------------------------------------------------------------------- */

struct mods {
	uint8_t list[RP_MOD_MAX];
	unsigned n;
	enum rp_match_mod ports_owner;  /* tcp or udp: where --sport/--dport go */
	enum rp_match_mod state_owner;  /* state or conntrack: where the states go */
};

static bool
mods_has(const struct mods *ms, enum rp_match_mod mod)
{
	for (unsigned i = 0; i < ms->n; i++)
		if (ms->list[i] == mod)
			return true;
	return false;
}

static void
mods_add(struct mods *ms, enum rp_match_mod mod)
{
	if (!mods_has(ms, mod) && ms->n < ARRAY_LEN(ms->list))
		ms->list[ms->n++] = (uint8_t)mod;
}

/*
 * The modules to print: those the rule wrote, in its order, then any a
 * match needs that the rule did not name (a rule built by code has none).
 */
static void
rule_mods(const struct rp_match *m, struct mods *ms)
{
	memset(ms, 0, sizeof(*ms));
	for (size_t i = 0; i < ARRAY_LEN(m->mods) && m->mods[i] != RP_MOD_NONE; i++)
		if (m->mods[i] < RP_MOD_MAX)
			mods_add(ms, (enum rp_match_mod)m->mods[i]);
	if ((m->present & (RP_M_SPORT | RP_M_DPORT)) && !mods_has(ms, RP_MOD_TCP) &&
	    !mods_has(ms, RP_MOD_UDP))
		mods_add(ms, m->proto == 17 ? RP_MOD_UDP : RP_MOD_TCP);
	if (m->present & RP_M_TCPFLAGS)
		mods_add(ms, RP_MOD_TCP);
	if (m->present & RP_M_ICMP)
		mods_add(ms, RP_MOD_ICMP);
	if (m->present & RP_M_MPORT)
		mods_add(ms, RP_MOD_MULTIPORT);
	/* states go with the other conntrack matches unless the rule said -m state */
	if (m->present & (RP_M_CTPROTO | RP_M_CTORIGSRC | RP_M_CTORIGDST))
		mods_add(ms, RP_MOD_CONNTRACK);
	if ((m->present & RP_M_STATE) && !mods_has(ms, RP_MOD_STATE) &&
	    !mods_has(ms, RP_MOD_CONNTRACK))
		mods_add(ms, RP_MOD_STATE);
	if (m->present & (RP_M_SRCRANGE | RP_M_DSTRANGE))
		mods_add(ms, RP_MOD_IPRANGE);
	if (m->present & RP_M_LIMIT)
		mods_add(ms, RP_MOD_LIMIT);
	if (m->present & RP_M_HELPER)
		mods_add(ms, RP_MOD_HELPER);
	if (m->comment[0] != '\0')
		mods_add(ms, RP_MOD_COMMENT);
	ms->ports_owner = RP_MOD_NONE;
	ms->state_owner = mods_has(ms, RP_MOD_STATE) ? RP_MOD_STATE : RP_MOD_CONNTRACK;
	for (unsigned i = 0; i < ms->n && ms->ports_owner == RP_MOD_NONE; i++)
		if (ms->list[i] == RP_MOD_TCP || ms->list[i] == RP_MOD_UDP)
			ms->ports_owner = (enum rp_match_mod)ms->list[i];
}

static bool
neg(const struct rp_match *m, uint32_t bit)
{
	return (m->negated & bit) != 0;
}

/* tcp/udp ports: -L "spt:80", "dpts:!1000:2000"; save "! --dport 80". */
static void
put_ports(FILE *out, const struct rp_match *m, bool save)
{
	static const struct {
		uint32_t bit;
		const char *list, *save;
	} which[] = {{RP_M_SPORT, "spt", "--sport"}, {RP_M_DPORT, "dpt", "--dport"}};

	for (size_t i = 0; i < ARRAY_LEN(which); i++) {
		const struct rp_range16 *r = which[i].bit == RP_M_SPORT ? &m->sport : &m->dport;
		bool n = neg(m, which[i].bit);

		if (!(m->present & which[i].bit))
			continue;
		if (save) {
			fprintf(out, "%s %s %u", n ? " !" : "", which[i].save, r->lo);
			if (r->hi != r->lo)
				fprintf(out, ":%u", r->hi);
		} else if (r->lo == r->hi) {
			fprintf(out, " %s:%s%u", which[i].list, n ? "!" : "", r->lo);
		} else {
			fprintf(out, " %ss:%s%u:%u", which[i].list, n ? "!" : "", r->lo, r->hi);
		}
	}
}

static void
put_module(FILE *out, const struct rp_match *m, const struct mods *ms, enum rp_match_mod mod,
	   bool save)
{
	static const char *const names[RP_MOD_MAX] = {
		[RP_MOD_TCP] = "tcp",       [RP_MOD_UDP] = "udp",
		[RP_MOD_ICMP] = "icmp",     [RP_MOD_MULTIPORT] = "multiport",
		[RP_MOD_STATE] = "state",   [RP_MOD_CONNTRACK] = "conntrack",
		[RP_MOD_IPRANGE] = "iprange", [RP_MOD_LIMIT] = "limit",
		[RP_MOD_COMMENT] = "comment", [RP_MOD_HELPER] = "helper",
	};

	if (save)
		fprintf(out, " -m %s", names[mod]);
	switch (mod) {
	case RP_MOD_TCP:
	case RP_MOD_UDP:
		if (!save)
			fprintf(out, " %s", names[mod]);
		if (ms->ports_owner == mod)
			put_ports(out, m, save);
		if (mod == RP_MOD_TCP && (m->present & RP_M_TCPFLAGS)) {
			if (save) {
				fprintf(out, "%s --tcp-flags ", neg(m, RP_M_TCPFLAGS) ? " !" : "");
				put_tcp_flag_names(out, m->tcp_mask);
				fputc(' ', out);
				put_tcp_flag_names(out, m->tcp_comp);
			} else {
				fprintf(out, " flags:%s0x%02X/0x%02X", neg(m, RP_M_TCPFLAGS) ? "!" : "",
					m->tcp_mask, m->tcp_comp);
			}
		}
		break;
	case RP_MOD_ICMP:
		if (!(m->present & RP_M_ICMP))
			break;
		if (save) {
			fprintf(out, "%s --icmp-type ", neg(m, RP_M_ICMP) ? " !" : "");
			if (m->icmp_type == 255) {
				fputs("any", out);
			} else {
				fprintf(out, "%u", m->icmp_type);
				if (m->icmp_code_lo != 0 || m->icmp_code_hi != 255)
					fprintf(out, "/%u", m->icmp_code_lo);
			}
		} else {
			/* iptables -n: " icmptype 8", " icmp !type 8", " code 4", " codes 1-3" */
			fprintf(out, " icmp%stype %u", neg(m, RP_M_ICMP) ? " !" : "", m->icmp_type);
			if (m->icmp_code_lo == m->icmp_code_hi)
				fprintf(out, " code %u", m->icmp_code_lo);
			else if (m->icmp_code_lo != 0 || m->icmp_code_hi != 255)
				fprintf(out, " codes %u-%u", m->icmp_code_lo, m->icmp_code_hi);
		}
		break;
	case RP_MOD_MULTIPORT: {
		const char *kind = m->mport_kind == RP_MPORT_SRC	   ? "sports"
				   : m->mport_kind == RP_MPORT_DST ? "dports"
								   : "ports";
		if (!(m->present & RP_M_MPORT))
			break;
		if (save)
			fprintf(out, "%s --%s ", neg(m, RP_M_MPORT) ? " !" : "", kind);
		else
			fprintf(out, " multiport %s %s", kind, neg(m, RP_M_MPORT) ? " !" : "");
		put_mport_list(out, m);
		break;
	}
	case RP_MOD_STATE:
	case RP_MOD_CONNTRACK:
		if ((m->present & RP_M_STATE) && ms->state_owner == mod) {
			const char *word = mod == RP_MOD_STATE ? "state" : "ctstate";
			fprintf(out, "%s %s%s ", neg(m, RP_M_STATE) ? " !" : "", save ? "--" : "", word);
			put_states(out, m->states);
		}
		if (mod == RP_MOD_STATE)
			break;
		if (m->present & RP_M_CTPROTO)
			fprintf(out, "%s %sctproto %u", neg(m, RP_M_CTPROTO) ? " !" : "",
				save ? "--" : "", m->ctproto);
		if (m->present & RP_M_CTORIGSRC) {
			fprintf(out, "%s %sctorigsrc ", neg(m, RP_M_CTORIGSRC) ? " !" : "",
				save ? "--" : "");
			put_addr(out, m->ctorigsrc);
			put_mask_suffix(out, m->ctorigsrc_mask);
		}
		if (m->present & RP_M_CTORIGDST) {
			fprintf(out, "%s %sctorigdst ", neg(m, RP_M_CTORIGDST) ? " !" : "",
				save ? "--" : "");
			put_addr(out, m->ctorigdst);
			put_mask_suffix(out, m->ctorigdst_mask);
		}
		break;
	case RP_MOD_IPRANGE: {
		static const struct {
			uint32_t bit;
			const char *list, *save;
		} which[] = {{RP_M_SRCRANGE, "source", "--src-range"},
			     {RP_M_DSTRANGE, "destination", "--dst-range"}};

		for (size_t i = 0; i < ARRAY_LEN(which); i++) {
			const struct rp_range32 *r =
				which[i].bit == RP_M_SRCRANGE ? &m->src_range : &m->dst_range;
			if (!(m->present & which[i].bit))
				continue;
			if (save)
				fprintf(out, "%s %s ", neg(m, which[i].bit) ? " !" : "", which[i].save);
			else
				fprintf(out, " %s IP range%s ", which[i].list,
					neg(m, which[i].bit) ? " !" : "");
			put_addr(out, r->lo);
			fputc('-', out);
			put_addr(out, r->hi);
		}
		break;
	}
	case RP_MOD_LIMIT:
		if (!(m->present & RP_M_LIMIT))
			break;
		fputs(save ? " --limit " : " limit: avg ", out);
		put_rate(out, m);
		if (!save)
			fprintf(out, " burst %u", m->limit_burst);
		else if (m->limit_burst != LIMIT_BURST_DEFAULT)
			fprintf(out, " --limit-burst %u", m->limit_burst);
		break;
	case RP_MOD_HELPER: {
		const char *name = m->helper == RP_FILTER_HELPER_FTP ? "ftp" : "?";

		if (!(m->present & RP_M_HELPER))
			break;
		/* as libxt_helper: save " ! --helper ftp", -L " helper match ! \"ftp\"" */
		if (save)
			fprintf(out, "%s --helper %s", neg(m, RP_M_HELPER) ? " !" : "", name);
		else
			fprintf(out, " helper match %s\"%s\"", neg(m, RP_M_HELPER) ? "! " : "", name);
		break;
	}
	case RP_MOD_COMMENT:
		if (save) {
			fputs(" --comment", out);
			put_save_string(out, m->comment);
		} else {
			fprintf(out, " /* %s */", m->comment);
		}
		break;
	default:
		break;
	}
}

static const char *
chain_name(const struct rp_ruleset *rs, int16_t idx)
{
	if (rs == NULL || idx < 0 || (unsigned)idx >= rs->n_chains)
		return "?";
	return rs->chains[idx].name;
}

/* A rule in iptables-save words, each piece with a space before it. */
static void
put_rule_save(FILE *out, const struct rp_ruleset *rs, const struct rp_rule *r)
{
	const struct rp_match *m = &r->m;
	struct mods ms;

	if (m->present & RP_M_SRC) {
		fprintf(out, "%s -s ", neg(m, RP_M_SRC) ? " !" : "");
		put_addr_len(out, m->src, m->src_mask);
	}
	if (m->present & RP_M_DST) {
		fprintf(out, "%s -d ", neg(m, RP_M_DST) ? " !" : "");
		put_addr_len(out, m->dst, m->dst_mask);
	}
	if (m->present & RP_M_IN)
		fprintf(out, "%s -i %s", neg(m, RP_M_IN) ? " !" : "", m->in_name);
	if (m->present & RP_M_OUT)
		fprintf(out, "%s -o %s", neg(m, RP_M_OUT) ? " !" : "", m->out_name);
	if (m->present & RP_M_PROTO) {
		const char *name = rp_filter_proto_name(m->proto);
		fprintf(out, "%s -p ", neg(m, RP_M_PROTO) ? " !" : "");
		if (name != NULL)
			fputs(name, out);
		else
			fprintf(out, "%u", m->proto);
	}
	if (m->present & RP_M_FRAG)
		fprintf(out, "%s -f", neg(m, RP_M_FRAG) ? " !" : "");
	rule_mods(m, &ms);
	for (unsigned i = 0; i < ms.n; i++)
		put_module(out, m, &ms, (enum rp_match_mod)ms.list[i], true);

	switch (r->target) {
	case RP_T_NONE:
		break;
	case RP_T_JUMP:
		fprintf(out, " -j %s", chain_name(rs, r->jump));
		break;
	case RP_T_GOTO:
		fprintf(out, " -g %s", chain_name(rs, r->jump));
		break;
	case RP_T_REJECT:
		fprintf(out, " -j REJECT --reject-with %s",
			rp_reject_with_name(r->reject_with) ? rp_reject_with_name(r->reject_with)
							    : "icmp-port-unreachable");
		break;
	case RP_T_LOG:
		fputs(" -j LOG", out);
		if (r->log_prefix[0] != '\0') {
			fputs(" --log-prefix", out);
			put_save_string(out, r->log_prefix);
		}
		if (r->log_level != LOG_LEVEL_DEFAULT)
			fprintf(out, " --log-level %u", r->log_level);
		break;
	default:
		fprintf(out, " -j %s", rp_target_name(r->target));
		break;
	}
}

void
rp_rule_print(const struct rp_ruleset *rs, const struct rp_rule *r, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return;
	put_rule_save(m, rs, r);
	fclose(m);
	/* without the space every piece starts with */
	fputs(buf[0] == ' ' ? buf + 1 : buf, out);
	free(buf);
}

/* ---- the whole ruleset ---------------------------------------------------------------- */

struct counts {
	uint64_t *pkts, *bytes; /* [n_rules] */
	uint64_t policy_pkts[RP_CHAIN_BUILTIN_MAX], policy_bytes[RP_CHAIN_BUILTIN_MAX];
};

/* Sum the per-worker counters; false when out of memory. */
static bool
sum_counters(const struct rp_ruleset *rs, struct rp_filter_worker *const *workers,
	     unsigned n_workers, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	c->pkts = calloc(rs->n_rules ? rs->n_rules : 1, sizeof(*c->pkts));
	c->bytes = calloc(rs->n_rules ? rs->n_rules : 1, sizeof(*c->bytes));
	if (c->pkts == NULL || c->bytes == NULL) {
		free(c->pkts);
		free(c->bytes);
		return false;
	}
	for (unsigned w = 0; workers != NULL && w < n_workers; w++) {
		const struct rp_filter_worker *fw = workers[w];
		unsigned n;

		if (fw == NULL)
			continue;
		/* a worker state made for another ruleset counts only what both have */
		n = fw->n_rules < rs->n_rules ? fw->n_rules : rs->n_rules;
		for (unsigned i = 0; i < n; i++) {
			c->pkts[i] += fw->pkts != NULL ? fw->pkts[i] : 0;
			c->bytes[i] += fw->bytes != NULL ? fw->bytes[i] : 0;
		}
		for (unsigned ch = 0; ch < RP_CHAIN_BUILTIN_MAX; ch++) {
			c->policy_pkts[ch] += fw->policy_pkts[ch];
			c->policy_bytes[ch] += fw->policy_bytes[ch];
		}
	}
	return true;
}

static uint64_t
rule_count(const uint64_t *v, const struct rp_ruleset *rs, const struct rp_rule *r)
{
	return r->id < rs->n_rules ? v[r->id] : 0;
}

/* Chains in iptables' order: the built-ins, then user chains by name. */
static const struct rp_ruleset *sort_rs;

static int
chain_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return strcmp(sort_rs->chains[x].name, sort_rs->chains[y].name);
}

static unsigned *
chain_order(const struct rp_ruleset *rs)
{
	unsigned *order = malloc((rs->n_chains ? rs->n_chains : 1) * sizeof(*order));
	unsigned n_builtin = rs->n_chains < RP_CHAIN_BUILTIN_MAX ? rs->n_chains
								 : RP_CHAIN_BUILTIN_MAX;

	if (order == NULL)
		return NULL;
	for (unsigned i = 0; i < rs->n_chains; i++)
		order[i] = i;
	if (rs->n_chains > n_builtin) {
		sort_rs = rs;
		qsort(order + n_builtin, rs->n_chains - n_builtin, sizeof(*order), chain_cmp);
		sort_rs = NULL;
	}
	return order;
}

/* xtables_print_num: 5 columns with K/M/G/T, or 8 exact; @p notable: no padding. */
static void
put_num(FILE *out, uint64_t v, bool exact, bool notable)
{
	static const char units[] = "KMGT";
	unsigned long long n = v;

	if (exact) {
		fprintf(out, notable ? "%llu " : "%8llu ", n);
		return;
	}
	if (n <= 99999) {
		fprintf(out, notable ? "%llu " : "%5llu ", n);
		return;
	}
	for (int u = 0;; u++) {
		n = (n + 500) / 1000;
		if (n <= 9999 || u == 3) {
			fprintf(out, notable ? "%llu%c " : "%4llu%c ", n, units[u]);
			return;
		}
	}
}

static void
put_save(FILE *out, const struct rp_ruleset *rs, const unsigned *order, const struct counts *c)
{
	fputs("*filter\n", out);
	for (unsigned k = 0; k < rs->n_chains; k++) {
		const struct rp_chain *ch = &rs->chains[order[k]];
		if (ch->builtin)
			fprintf(out, ":%s %s [%llu:%llu]\n", ch->name, rp_target_name(ch->policy),
				(unsigned long long)c->policy_pkts[order[k]],
				(unsigned long long)c->policy_bytes[order[k]]);
		else
			fprintf(out, ":%s - [0:0]\n", ch->name);
	}
	for (unsigned k = 0; k < rs->n_chains; k++) {
		const struct rp_chain *ch = &rs->chains[order[k]];
		for (unsigned i = 0; i < ch->n_rules; i++) {
			const struct rp_rule *r = &ch->rules[i];
			fprintf(out, "[%llu:%llu] -A %s",
				(unsigned long long)rule_count(c->pkts, rs, r),
				(unsigned long long)rule_count(c->bytes, rs, r), ch->name);
			put_rule_save(out, rs, r);
			fputc('\n', out);
		}
	}
	fputs("COMMIT\n", out);
}

/* -L's in/out column: "*", "lan0", "!lan+". */
static void
put_iface_col(FILE *out, const struct rp_match *m, bool in)
{
	uint32_t bit = in ? RP_M_IN : RP_M_OUT;
	char col[20];

	if (m->present & bit)
		snprintf(col, sizeof(col), "%s%s", neg(m, bit) ? "!" : "",
			 in ? m->in_name : m->out_name);
	else
		snprintf(col, sizeof(col), "*");
	fprintf(out, in ? " %-6s " : "%-6s ", col);
}

static void
put_addr_col(FILE *out, const struct rp_match *m, bool src)
{
	uint32_t bit = src ? RP_M_SRC : RP_M_DST;
	char col[40];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fputc((m->present & bit) && neg(m, bit) ? '!' : ' ', out);
	if (!(m->present & bit)) {
		fprintf(out, "%-19s ", "0.0.0.0/0");
		return;
	}
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return;
	put_addr(f, src ? m->src : m->dst);
	put_mask_suffix(f, src ? m->src_mask : m->dst_mask);
	fclose(f);
	snprintf(col, sizeof(col), "%s", buf);
	free(buf);
	fprintf(out, "%-19s ", col);
}

static void
put_list_rule(FILE *out, const struct rp_ruleset *rs, const struct rp_rule *r,
	      const struct counts *c, bool exact)
{
	const struct rp_match *m = &r->m;
	const char *target = r->target == RP_T_JUMP || r->target == RP_T_GOTO
				     ? chain_name(rs, r->jump)
				     : rp_target_name(r->target);
	struct mods ms;
	size_t p;

	put_num(out, rule_count(c->pkts, rs, r), exact, false);
	put_num(out, rule_count(c->bytes, rs, r), exact, false);
	fprintf(out, "%-9s ", target);
	fputc((m->present & RP_M_PROTO) && neg(m, RP_M_PROTO) ? '!' : ' ', out);
	if (!(m->present & RP_M_PROTO)) {
		fprintf(out, "%-5s", "all");
	} else {
		for (p = 0; p < ARRAY_LEN(list_protos) && list_protos[p].num != m->proto; p++)
			;
		if (p < ARRAY_LEN(list_protos))
			fprintf(out, "%-5s", list_protos[p].name);
		else
			fprintf(out, "%-5u", m->proto);
	}
	/* opt: "--", "-f", "!f" */
	fputc((m->present & RP_M_FRAG) && neg(m, RP_M_FRAG) ? '!' : '-', out);
	fputc(m->present & RP_M_FRAG ? 'f' : '-', out);
	fputc(' ', out);
	put_iface_col(out, m, true);
	put_iface_col(out, m, false);
	put_addr_col(out, m, true);
	put_addr_col(out, m, false);
	if (r->target == RP_T_GOTO)
		fputs("[goto] ", out);
	rule_mods(m, &ms);
	for (unsigned i = 0; i < ms.n; i++)
		put_module(out, m, &ms, (enum rp_match_mod)ms.list[i], false);
	if (r->target == RP_T_REJECT)
		fprintf(out, " reject-with %s",
			rp_reject_with_name(r->reject_with) ? rp_reject_with_name(r->reject_with)
							    : "icmp-port-unreachable");
	if (r->target == RP_T_LOG) {
		fprintf(out, " LOG flags 0 level %u", r->log_level);
		if (r->log_prefix[0] != '\0')
			fprintf(out, " prefix \"%s\"", r->log_prefix);
	}
	fputc('\n', out);
}

/* How many rules jump or go to chain @p idx (-L's "references"). */
static unsigned
references(const struct rp_ruleset *rs, unsigned idx)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rs->n_chains; i++)
		for (unsigned k = 0; k < rs->chains[i].n_rules; k++) {
			const struct rp_rule *r = &rs->chains[i].rules[k];
			if ((r->target == RP_T_JUMP || r->target == RP_T_GOTO) && r->jump == (int)idx)
				n++;
		}
	return n;
}

static void
put_list(FILE *out, const struct rp_ruleset *rs, const unsigned *order, const struct counts *c,
	 bool exact)
{
	for (unsigned k = 0; k < rs->n_chains; k++) {
		unsigned idx = order[k];
		const struct rp_chain *ch = &rs->chains[idx];

		if (k > 0)
			fputc('\n', out);
		fprintf(out, "Chain %s ", ch->name);
		if (ch->builtin) {
			fprintf(out, "(policy %s ", rp_target_name(ch->policy));
			put_num(out, c->policy_pkts[idx], exact, true);
			fputs("packets, ", out);
			put_num(out, c->policy_bytes[idx], exact, true);
			fputs("bytes)\n", out);
		} else {
			fprintf(out, "(%u references)\n", references(rs, idx));
		}
		if (exact)
			fprintf(out, "%8s %10s ", "pkts", "bytes");
		else
			fprintf(out, "%5s %5s ", "pkts", "bytes");
		fprintf(out, "%-9s  prot opt %-6s %-6s  %-19s  %-19s \n", "target", "in", "out",
			"source", "destination");
		for (unsigned i = 0; i < ch->n_rules; i++)
			put_list_rule(out, rs, &ch->rules[i], c, exact);
	}
}

void
rp_ruleset_print(const struct rp_ruleset *rs, struct rp_filter_worker *const *workers,
		 unsigned n_workers, int save, FILE *out)
{
	struct counts c;
	unsigned *order;

	if (rs == NULL || out == NULL)
		return;
	if (!sum_counters(rs, workers, n_workers, &c))
		return;
	order = chain_order(rs);
	if (order != NULL) {
		if (save & RP_PRINT_SAVE)
			put_save(out, rs, order, &c);
		else
			put_list(out, rs, order, &c, (save & RP_PRINT_EXACT) != 0);
	}
	free(order);
	free(c.pkts);
	free(c.bytes);
}
