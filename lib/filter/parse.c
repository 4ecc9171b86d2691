/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule language: iptables command tails (one per string) or an
 * iptables-save file -> struct rp_ruleset, with iptables' meaning.
 *
 * Each rule is tokenised as a shell would (quotes, backslashes), then read
 * option by option the way iptables reads it: the command (-A, -I, -N, -P),
 * the built-in options (-p -s -d -i -o -f -j -g -m), the options of the
 * modules loaded so far (-m tcp, or implied by -p tcp), and the options of
 * the target. Every problem is reported as
 *   FILE:LINE: rule "TEXT": PROBLEM at "WORD"
 * and counted; reading goes on with the next rule (and, inside a rule, after
 * a bad value), so that one run shows all mistakes. Checks that need the
 * whole ruleset (jump loops) run at the end. Nothing here is on the packet
 * path: this runs on the control thread.
 */
#define _GNU_SOURCE /* open_memstream, getline */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_errno.h>

#include "rampart_config.h"
#include "rampart_conntrack.h"
#include "rampart_filter.h"

#define LIMIT_SCALE 10000u   /* xt_limit's XT_LIMIT_SCALE: rates above SCALE/s are "too fast" */
#define LIMIT_BURST_MAX 10000
#define LOG_LEVEL_DEFAULT 4  /* warning, as iptables' LOG */
#define IFNAME_MAX 15        /* IFNAMSIZ - 1 */
#define CHAIN_NAME_LEN_MAX (RP_FILTER_CHAIN_NAME_MAX - 1) /* iptables: under 29 characters */

_Static_assert(RP_CHAIN_BUILTIN_MAX == RP_FILTER_POLICY_CHAINS,
	       "filter.policy has one key per built-in chain");

/* ---- names ---------------------------------------------------------------- */

static const char *const builtin_names[RP_CHAIN_BUILTIN_MAX] = {"INPUT", "FORWARD", "OUTPUT"};

/*
 * Protocol names: iptables' own first (what listings print), then those of
 * /etc/protocols (Debian's netbase), which iptables finds with
 * getprotobyname(). Read from this table, not the file, so that a ruleset
 * means the same on every machine.
 */
static const struct {
	const char *name;
	uint8_t num;
} proto_names[] = {
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"icmpv6", 58}, {"ipv6-icmp", 58}, {"esp", 50}, {"ah", 51}, {"ipv6-mh", 135},
	{"mh", 135}, {"ip", 0}, {"hopopt", 0}, {"igmp", 2}, {"ggp", 3}, {"ipencap", 4},
	{"st", 5}, {"egp", 8}, {"igp", 9}, {"pup", 12}, {"hmp", 20}, {"xns-idp", 22},
	{"rdp", 27}, {"iso-tp4", 29}, {"dccp", 33}, {"xtp", 36}, {"ddp", 37},
	{"idpr-cmtp", 38}, {"ipv6", 41}, {"ipv6-route", 43}, {"ipv6-frag", 44},
	{"idrp", 45}, {"rsvp", 46}, {"gre", 47}, {"skip", 57}, {"ipv6-nonxt", 59},
	{"ipv6-opts", 60}, {"rspf", 73}, {"vmtp", 81}, {"eigrp", 88}, {"ospf", 89},
	{"ax.25", 93}, {"ipip", 94}, {"etherip", 97}, {"encap", 98}, {"pim", 103},
	{"ipcomp", 108}, {"vrrp", 112}, {"l2tp", 115}, {"isis", 124}, {"fc", 133},
	{"mobility-header", 135}, {"mpls-in-ip", 137}, {"manet", 138}, {"hip", 139},
	{"shim6", 140}, {"wesp", 141}, {"rohc", 142}, {"ethernet", 143},
};

/* iptables' ICMP type names (iptables -p icmp -h), with their code ranges. */
static const struct {
	const char *name;
	uint8_t type, code_lo, code_hi;
} icmp_names[] = {
	{"any", 255, 0, 255},
	{"echo-reply", 0, 0, 255},
	{"pong", 0, 0, 255},
	{"destination-unreachable", 3, 0, 255},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 255},
	{"redirect", 5, 0, 255},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 255},
	{"ping", 8, 0, 255},
	{"router-advertisement", 9, 0, 255},
	{"router-solicitation", 10, 0, 255},
	{"time-exceeded", 11, 0, 255},
	{"ttl-exceeded", 11, 0, 255},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 255},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 255},
	{"timestamp-reply", 14, 0, 255},
	{"address-mask-request", 17, 0, 255},
	{"address-mask-reply", 18, 0, 255},
};

/* --reject-with: iptables' names and its short aliases. */
static const struct {
	const char *name, *alias;
	uint8_t with;
} reject_names[] = {
	{"icmp-net-unreachable", "net-unreach", RP_REJ_NET_UNREACH},
	{"icmp-host-unreachable", "host-unreach", RP_REJ_HOST_UNREACH},
	{"icmp-proto-unreachable", "proto-unreach", RP_REJ_PROTO_UNREACH},
	{"icmp-port-unreachable", "port-unreach", RP_REJ_PORT_UNREACH},
	{"icmp-net-prohibited", "net-prohib", RP_REJ_NET_PROHIBITED},
	{"icmp-host-prohibited", "host-prohib", RP_REJ_HOST_PROHIBITED},
	{"icmp-admin-prohibited", "admin-prohib", RP_REJ_ADMIN_PROHIBITED},
	{"tcp-reset", "tcp-rst", RP_REJ_TCP_RESET},
};

/* --log-level names, as iptables' LOG accepts them. */
static const struct {
	const char *name;
	uint8_t level;
} log_levels[] = {
	{"emerg", 0}, {"panic", 0}, {"alert", 1}, {"crit", 2}, {"error", 3},
	{"warning", 4}, {"notice", 5}, {"info", 6}, {"debug", 7},
};

/* --tcp-flags names (bits as in the TCP header). */
static const struct {
	const char *name;
	uint8_t bits;
} tcp_flag_names[] = {
	{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08},
	{"ACK", 0x10}, {"URG", 0x20}, {"ALL", 0x3f}, {"NONE", 0x00},
};

/* Targets iptables has and Rampart does not: named as such, not as a missing chain. */
static const char *const unsupported_targets[] = {
	"QUEUE", "NFQUEUE", "NFLOG", "ULOG", "MARK", "CONNMARK", "SNAT", "DNAT",
	"MASQUERADE", "REDIRECT", "NETMAP", "TCPMSS", "CT", "NOTRACK", "TRACE", "TEE",
	"CLASSIFY", "DSCP", "TOS", "TTL", "ECN", "SET", "AUDIT", "CHECKSUM", "CLUSTERIP",
	"HMARK", "IDLETIMER", "LED", "RATEEST", "SECMARK", "CONNSECMARK", "SYNPROXY",
	"TPROXY", "TCPOPTSTRIP", "NFCT", "HL",
};

static const char *const supported_targets[] = {"ACCEPT", "DROP", "REJECT", "LOG", "RETURN"};

/* -m names, indexed by enum rp_match_mod. */
static const char *const mod_names[RP_MOD_MAX] = {
	[RP_MOD_TCP] = "tcp",       [RP_MOD_UDP] = "udp",
	[RP_MOD_ICMP] = "icmp",     [RP_MOD_MULTIPORT] = "multiport",
	[RP_MOD_STATE] = "state",   [RP_MOD_CONNTRACK] = "conntrack",
	[RP_MOD_IPRANGE] = "iprange", [RP_MOD_LIMIT] = "limit",
	[RP_MOD_COMMENT] = "comment", [RP_MOD_HELPER] = "helper",
};

/* --helper names, with their ids (rp_ct_entry.helper). */
static const struct {
	const char *name;
	uint8_t id;
} helper_names[] = {
	{"ftp", RP_FILTER_HELPER_FTP},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *
rp_filter_proto_name(uint8_t proto)
{
	if (proto == 0)
		return "all";
	for (size_t i = 0; i < ARRAY_LEN(proto_names); i++)
		if (proto_names[i].num == proto)
			return proto_names[i].name;
	return NULL;
}

const char *
rp_reject_with_name(uint8_t reject_with)
{
	for (size_t i = 0; i < ARRAY_LEN(reject_names); i++)
		if (reject_names[i].with == reject_with)
			return reject_names[i].name;
	return NULL;
}

/* ---- the parser's state ---------------------------------------------------- */

struct parser {
	const struct rp_filter_source *src;
	const struct rp_filter_ports *ports;
	FILE *err;
	int errors;
	bool oom;
	struct rp_ruleset *rs;
	const char *file;  /* of the rules being read (the config or the rules file) */
	/* where each built-in chain's policy was set, for "set twice" */
	const char *policy_file[RP_CHAIN_BUILTIN_MAX];
	int policy_line[RP_CHAIN_BUILTIN_MAX];
};

/* One rule string or one line of a file, tokenised. */
struct line_ctx {
	struct parser *p;
	const char *text;  /* as written, for messages */
	int line;
	char **tok;
	unsigned n_tok;
	unsigned i;        /* next token */
	bool bad;          /* has errors: not added */
	bool stop;         /* a word not understood: the rest of the line is not read */
	const char *pos_word; /* -I's rule number (or chain), for messages */
};

/* What one rule has said so far, beyond the model. */
struct rule_state {
	struct rp_rule r;
	int chain;                       /* -1: unknown chain (reported) */
	uint32_t seen;                   /* RP_M_* given, even when they set nothing */
	bool mod_loaded[RP_MOD_MAX];
	const char *mod_word[RP_MOD_MAX];
	unsigned mod_opts[RP_MOD_MAX];   /* options given to each module */
	unsigned n_mods;
	const char *proto_word;
	bool target_seen;
	bool mport_seen, tcpflags_seen, limit_seen, burst_seen, comment_seen;
	bool reject_with_seen, log_prefix_seen, log_level_seen;
	const char *reject_with_word;
};

/* ---- messages --------------------------------------------------------------- */

static void
put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* FILE:LINE: rule "TEXT": PROBLEM at "WORD" (without the last part when @p word is NULL). */
static void
vreport(struct parser *p, const char *file, int line, const char *text, const char *word,
	const char *fmt, va_list ap)
{
	p->errors++;
	if (p->err == NULL)
		return;
	fprintf(p->err, line > 0 ? "%s:%d: " : "%s: ", file, line);
	if (text != NULL) {
		fputs("rule \"", p->err);
		put_escaped(p->err, text);
		fputs("\": ", p->err);
	}
	vfprintf(p->err, fmt, ap);
	if (word != NULL) {
		fputs(" at \"", p->err);
		put_escaped(p->err, word);
		fputc('"', p->err);
	}
	fputc('\n', p->err);
}

static void __attribute__((format(printf, 6, 7)))
report(struct parser *p, const char *file, int line, const char *text, const char *word,
       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, file, line, text, word, fmt, ap);
	va_end(ap);
}

/* A problem with this line's rule at @p word. */
static void __attribute__((format(printf, 3, 4)))
line_error(struct line_ctx *c, const char *word, const char *fmt, ...)
{
	va_list ap;

	c->bad = true;
	va_start(ap, fmt);
	vreport(c->p, c->p->file, c->line, c->text, word, fmt, ap);
	va_end(ap);
}

static void
out_of_memory(struct parser *p)
{
	if (!p->oom)
		report(p, p->file, 0, NULL, NULL, "out of memory");
	p->oom = true;
}

/* ---- tokens -------------------------------------------------------------------- */

struct word_buf {
	char *s;
	size_t len, cap;
};

static bool
word_put(struct word_buf *w, char ch)
{
	if (w->len + 1 >= w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 32;
		char *s = realloc(w->s, cap);
		if (s == NULL)
			return false;
		w->s = s;
		w->cap = cap;
	}
	w->s[w->len++] = ch;
	w->s[w->len] = '\0';
	return true;
}

/* Begin a word: an allocated, empty buffer, since "" is a word too. */
static bool
word_start(struct word_buf *w)
{
	if (!word_put(w, ' '))
		return false;
	w->len = 0;
	w->s[0] = '\0';
	return true;
}

static void
free_tokens(struct line_ctx *c)
{
	for (unsigned i = 0; i < c->n_tok; i++)
		free(c->tok[i]);
	free(c->tok);
	c->tok = NULL;
	c->n_tok = 0;
}

/* Move the finished word into the token list. */
static bool
push_token(struct line_ctx *c, struct word_buf *w, unsigned *cap)
{
	if (c->n_tok == *cap) {
		unsigned ncap = *cap ? 2 * *cap : 16;
		char **v = realloc(c->tok, ncap * sizeof(*v));
		if (v == NULL)
			return false;
		c->tok = v;
		*cap = ncap;
	}
	c->tok[c->n_tok++] = w->s;
	*w = (struct word_buf){0};
	return true;
}

/*
 * Split @p text into words as a shell would: blanks separate words, '...'
 * is literal, "..." keeps blanks, and a backslash takes the next character
 * as it is (outside quotes and, as iptables-restore does, inside "...", so
 * that iptables-save's \" \\ \' come back unchanged). "" is an empty word.
 * @return 0, or -1 (reported) on an unterminated quote or a final backslash.
 */
static int
tokenize(struct line_ctx *c, const char *text)
{
	struct word_buf w = {0};
	unsigned cap = 0;
	bool in_word = false;
	char quote = 0;

	for (const char *s = text; *s != '\0'; s++) {
		char ch = *s;

		if (quote == '\'') {
			if (ch == '\'')
				quote = 0;
			else if (!word_put(&w, ch))
				goto oom;
			continue;
		}
		if (quote == '"') {
			if (ch == '"') {
				quote = 0;
				continue;
			}
			if (ch == '\\' && s[1] != '\0')
				ch = *++s;
			if (!word_put(&w, ch))
				goto oom;
			continue;
		}
		if (isspace((unsigned char)ch)) {
			if (in_word && !push_token(c, &w, &cap))
				goto oom;
			in_word = false;
			continue;
		}
		if (!in_word) {
			if (!word_start(&w))
				goto oom;
			in_word = true;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
			continue;
		}
		if (ch == '\\') {
			if (s[1] == '\0') {
				c->stop = true;
				line_error(c, w.len > 0 ? w.s : "\\", "backslash at the end of the rule");
				free(w.s);
				return -1;
			}
			ch = *++s;
		}
		if (!word_put(&w, ch))
			goto oom;
	}
	if (quote != 0) {
		c->stop = true;
		line_error(c, w.s, "unterminated %s quote", quote == '"' ? "double" : "single");
		free(w.s);
		return -1;
	}
	if (in_word && !push_token(c, &w, &cap))
		goto oom;
	return 0;
oom:
	free(w.s);
	c->stop = true;
	c->bad = true;
	out_of_memory(c->p);
	return -1;
}

/* ---- small value parsers (each says why a value is wrong) ------------------------ */

/* Decimal digits only, at most @p max. */
static bool
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		x = x * 10 + (unsigned long)(*s - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

/*
 * "a.b.c.d" in host order. With @p partial, fewer parts are a network
 * address completed with zeros ("10" is 10.0.0.0), as iptables reads them.
 */
static bool
parse_ipv4(const char *s, bool partial, uint32_t *out)
{
	uint32_t a = 0;
	int parts = 0;

	for (;;) {
		unsigned v = 0;
		int digits = 0;

		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3)
				return false;
		}
		if (digits == 0 || v > 255)
			return false;
		a = (a << 8) | v;
		parts++;
		if (*s == '\0')
			break;
		if (*s != '.' || parts == 4)
			return false;
		s++;
	}
	if (parts != 4 && !partial)
		return false;
	*out = a << (8 * (4 - parts));
	return true;
}

static bool
mask_contiguous(uint32_t mask)
{
	uint32_t inv = ~mask;

	return (inv & (inv + 1)) == 0;
}

/* "a.b.c.d[/len|/mask]" -> address (host bits cleared, as iptables) and mask; NULL or why not. */
static const char *
parse_addr_mask(const char *s, uint32_t *addr, uint32_t *mask)
{
	char buf[64];
	const char *slash;
	uint32_t a, m = UINT32_MAX;

	if (strchr(s, ',') != NULL)
		return "one address per rule (iptables would make one rule of each; write them as "
		       "separate rules)";
	if (strlen(s) >= sizeof(buf))
		return "bad address";
	slash = strchr(s, '/');
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash ? (size_t)(slash - s) : strlen(s)), s);
	if (!parse_ipv4(buf, true, &a))
		return "bad address (a.b.c.d[/len]; names are not resolved)";
	if (slash != NULL) {
		unsigned long len;

		if (strchr(slash + 1, '.') != NULL) {
			if (!parse_ipv4(slash + 1, false, &m))
				return "bad mask";
			if (!mask_contiguous(m))
				return "non-contiguous mask not supported";
		} else if (parse_uint(slash + 1, 32, &len)) {
			m = len == 0 ? 0 : UINT32_MAX << (32 - len);
		} else {
			return "bad prefix length (0..32)";
		}
	}
	*addr = a & m;
	*mask = m;
	return NULL;
}

/* "N", "N:M", ":M", "N:" -> a range; NULL or why not. */
static const char *
parse_port_range(const char *s, struct rp_range16 *r)
{
	const char *colon = strchr(s, ':');
	unsigned long lo = 0, hi = 65535;
	char buf[16];

	if (colon == NULL) {
		if (!parse_uint(s, 65535, &lo))
			return "bad port (0..65535; service names are not resolved)";
		hi = lo;
	} else {
		if ((size_t)(colon - s) >= sizeof(buf))
			return "bad port range";
		snprintf(buf, sizeof(buf), "%.*s", (int)(colon - s), s);
		if ((buf[0] != '\0' && !parse_uint(buf, 65535, &lo)) ||
		    (colon[1] != '\0' && !parse_uint(colon + 1, 65535, &hi)))
			return "bad port range (N, N:M, :M or N: with ports 0..65535)";
		if (lo > hi)
			return "bad port range (the first port is above the last)";
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return NULL;
}

/* -p / --ctproto: number 0..255, "all", or a name (any case, as iptables lowercases it). */
static bool
parse_protocol(const char *s, uint8_t *proto)
{
	unsigned long v;

	if (parse_uint(s, 255, &v)) {
		*proto = (uint8_t)v;
		return true;
	}
	if (strcasecmp(s, "all") == 0) {
		*proto = 0;
		return true;
	}
	for (size_t i = 0; i < ARRAY_LEN(proto_names); i++)
		if (strcasecmp(s, proto_names[i].name) == 0) {
			*proto = proto_names[i].num;
			return true;
		}
	return false;
}

/* A list of conntrack states (NEW,ESTABLISHED,...): false with @p why set when bad. */
static bool
parse_states(const char *s, uint8_t *states, char *why, size_t why_len)
{
	static const struct {
		const char *name;
		int state; /* -1: iptables has it, Rampart does not */
	} names[] = {
		{"NEW", RP_CT_NEW},
		{"ESTABLISHED", RP_CT_ESTABLISHED},
		{"RELATED", RP_CT_RELATED},
		{"INVALID", RP_CT_INVALID},
		{"UNTRACKED", -1},
		{"SNAT", -1},
		{"DNAT", -1},
	};
	uint8_t bits = 0;
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ",");
		size_t k;

		for (k = 0; k < ARRAY_LEN(names); k++)
			if (strlen(names[k].name) == len && strncasecmp(p, names[k].name, len) == 0)
				break;
		if (k == ARRAY_LEN(names)) {
			snprintf(why, why_len, "bad state list (NEW, ESTABLISHED, RELATED, INVALID, "
				 "separated by commas)");
			return false;
		}
		if (names[k].state < 0) {
			snprintf(why, why_len, "state %s: not supported", names[k].name);
			return false;
		}
		bits |= (uint8_t)RP_STATE_BIT(names[k].state);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*states = bits;
	return true;
}

/* --tcp-flags' lists: FIN,SYN,... ALL, NONE. */
static bool
parse_tcp_flags(const char *s, uint8_t *bits)
{
	uint8_t b = 0;
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ",");
		size_t k;

		for (k = 0; k < ARRAY_LEN(tcp_flag_names); k++)
			if (strlen(tcp_flag_names[k].name) == len &&
			    strncasecmp(p, tcp_flag_names[k].name, len) == 0)
				break;
		if (k == ARRAY_LEN(tcp_flag_names))
			return false;
		b |= tcp_flag_names[k].bits;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*bits = b;
	return true;
}

/* --icmp-type: a name (or an unambiguous beginning of one, as iptables) or type[/code]. */
static const char *
parse_icmp_type(const char *s, struct rp_match *m)
{
	size_t len = strlen(s), found = ARRAY_LEN(icmp_names);
	unsigned long type, code;
	const char *slash;
	char buf[8];

	for (size_t i = 0; i < ARRAY_LEN(icmp_names); i++) {
		if (strcasecmp(icmp_names[i].name, s) == 0) {
			found = i;
			break;
		}
		if (len > 0 && strncasecmp(icmp_names[i].name, s, len) == 0) {
			if (found != ARRAY_LEN(icmp_names))
				return "ambiguous ICMP type name";
			found = i;
		}
	}
	if (found != ARRAY_LEN(icmp_names) && !isdigit((unsigned char)s[0])) {
		m->icmp_type = icmp_names[found].type;
		m->icmp_code_lo = icmp_names[found].code_lo;
		m->icmp_code_hi = icmp_names[found].code_hi;
		return NULL;
	}
	slash = strchr(s, '/');
	if ((slash ? (size_t)(slash - s) : len) >= sizeof(buf))
		return "bad ICMP type (a name, type or type/code with numbers 0..255)";
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash ? (size_t)(slash - s) : len), s);
	if (!parse_uint(buf, 255, &type) || (slash != NULL && !parse_uint(slash + 1, 255, &code)))
		return "bad ICMP type (a name, type or type/code with numbers 0..255)";
	m->icmp_type = (uint8_t)type;
	m->icmp_code_lo = slash ? (uint8_t)code : 0;
	m->icmp_code_hi = slash ? (uint8_t)code : 255;
	return NULL;
}

/* -m multiport's list: up to 15 ports, a range N:M counting as two (as iptables). */
static const char *
parse_mport_list(const char *s, struct rp_match *m)
{
	unsigned slots = 0;
	uint8_t n = 0;
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ",");
		char buf[16];
		const char *colon;
		unsigned long lo, hi;

		if (len == 0 || len >= sizeof(buf))
			return "bad port list (ports or ranges N:M separated by commas)";
		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		colon = strchr(buf, ':');
		if (colon == NULL) {
			if (!parse_uint(buf, 65535, &lo))
				return "bad port (0..65535; service names are not resolved)";
			hi = lo;
			slots += 1;
		} else {
			buf[colon - buf] = '\0';
			if (!parse_uint(buf, 65535, &lo) || !parse_uint(colon + 1, 65535, &hi))
				return "bad port range (N:M with ports 0..65535)";
			if (lo >= hi)
				return "bad port range (the first port must be below the last)";
			slots += 2;
		}
		if (slots > RP_FILTER_MULTIPORT_MAX)
			return "too many ports (15 at most, a range counting as two)";
		m->mport[n].lo = (uint16_t)lo;
		m->mport[n].hi = (uint16_t)hi;
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	m->n_mport = n;
	return NULL;
}

/* --limit N[/second|/minute|/hour|/day] (any beginning of the unit, as iptables). */
static const char *
parse_rate(const char *s, struct rp_match *m)
{
	static const struct {
		const char *name;
		uint32_t seconds;
	} units[] = {{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}};
	const char *slash = strchr(s, '/');
	char buf[16];
	unsigned long n;
	uint32_t seconds = 1;

	if ((slash ? (size_t)(slash - s) : strlen(s)) >= sizeof(buf))
		return "bad rate (N/sec, N/minute, N/hour or N/day)";
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash ? (size_t)(slash - s) : strlen(s)), s);
	if (!parse_uint(buf, UINT32_MAX, &n) || n == 0)
		return "bad rate (N/sec, N/minute, N/hour or N/day)";
	if (slash != NULL) {
		size_t len = strlen(slash + 1), k;

		for (k = 0; k < ARRAY_LEN(units); k++)
			if (len > 0 && len <= strlen(units[k].name) &&
			    strncasecmp(slash + 1, units[k].name, len) == 0)
				break;
		if (k == ARRAY_LEN(units))
			return "bad rate (N/sec, N/minute, N/hour or N/day)";
		seconds = units[k].seconds;
	}
	/* as xt_limit: the interval between packets must be at least 1/10000 s */
	if ((uint64_t)LIMIT_SCALE * seconds / n == 0)
		return "rate too fast (at most 10000/sec)";
	m->limit_rate = (uint32_t)n;
	m->limit_period_us = (uint64_t)seconds * 1000000u;
	return NULL;
}

/* A name as iptables-save writes it back unquoted: printable, no blanks, quotes or backslashes. */
static bool
plain_name(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\'' || ch == '\\')
			return false;
	}
	return true;
}

static bool
has_control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* ---- chains ------------------------------------------------------------------------- */

int
rp_ruleset_chain(const struct rp_ruleset *rs, const char *name)
{
	if (rs == NULL || name == NULL)
		return -1;
	for (unsigned i = 0; i < rs->n_chains; i++)
		if (strcmp(rs->chains[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
add_chain(struct parser *p, const char *name)
{
	struct rp_ruleset *rs = p->rs;
	struct rp_chain *ch;

	/* grow one at a time: rulesets have few chains, and fuzzing has no memory to waste */
	ch = realloc(rs->chains, (rs->n_chains + 1) * sizeof(*ch));
	if (ch == NULL) {
		out_of_memory(p);
		return -1;
	}
	rs->chains = ch;
	ch = &rs->chains[rs->n_chains];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	return (int)rs->n_chains++;
}

/* Why @p name cannot be a user chain's, or NULL. */
static const char *
bad_chain_name(const char *name)
{
	if (name[0] == '\0')
		return "empty chain name";
	if (strlen(name) > CHAIN_NAME_LEN_MAX)
		return "chain name too long (28 characters at most)";
	if (name[0] == '-' || name[0] == '!')
		return "a chain name cannot start with '-' or '!'";
	if (!plain_name(name))
		return "a chain name is printable characters without blanks, quotes or backslashes";
	if (in_list(name, supported_targets, ARRAY_LEN(supported_targets)) ||
	    in_list(name, unsupported_targets, ARRAY_LEN(unsupported_targets)))
		return "a chain name cannot be a target's name";
	return NULL;
}

/* -N NAME or ":NAME -": create a user chain. */
static void
new_chain(struct line_ctx *c, const char *name)
{
	const char *why = bad_chain_name(name);

	if (rp_ruleset_chain(c->p->rs, name) >= 0) {
		line_error(c, name, "chain %s already exists", name);
		return;
	}
	if (why != NULL) {
		line_error(c, name, "%s", why);
		return;
	}
	if (add_chain(c->p, name) < 0)
		c->bad = true;
}

/* -P CHAIN POLICY or ":CHAIN POLICY": one place per chain. */
static void
set_policy(struct line_ctx *c, int chain, const char *policy_word, const char *where_word)
{
	struct parser *p = c->p;
	uint8_t policy;

	if (strcmp(policy_word, "ACCEPT") == 0) {
		policy = RP_T_ACCEPT;
	} else if (strcmp(policy_word, "DROP") == 0) {
		policy = RP_T_DROP;
	} else {
		line_error(c, policy_word, "a policy is ACCEPT or DROP");
		return;
	}
	if (p->policy_file[chain] != NULL) {
		line_error(c, where_word,
			   "policy of %s is also set at %s:%d; set it in one place only",
			   builtin_names[chain], p->policy_file[chain], p->policy_line[chain]);
		return;
	}
	p->policy_file[chain] = p->file;
	p->policy_line[chain] = c->line;
	p->rs->chains[chain].policy = policy;
}

/* ---- rule options ------------------------------------------------------------------ */

enum opt_id {
	O_PROTO, O_SRC, O_DST, O_IN, O_OUT, O_FRAG, O_JUMP, O_GOTO, O_MATCH,
	O_SPORT, O_DPORT, O_TCPFLAGS, O_SYN, O_ICMPTYPE,
	O_SPORTS, O_DPORTS, O_PORTS, O_STATE, O_CTSTATE, O_CTPROTO, O_CTORIGSRC, O_CTORIGDST,
	O_SRCRANGE, O_DSTRANGE, O_LIMIT, O_BURST, O_COMMENT, O_HELPER,
	O_REJECT_WITH, O_LOG_PREFIX, O_LOG_LEVEL,
	O_UNSUPPORTED,
};

static const struct opt_def {
	const char *name;
	enum opt_id id;
	bool neg;     /* iptables allows '!' */
	bool has_arg;
} opt_defs[] = {
	{"-p", O_PROTO, true, true}, {"--protocol", O_PROTO, true, true},
	{"-s", O_SRC, true, true}, {"--source", O_SRC, true, true}, {"--src", O_SRC, true, true},
	{"-d", O_DST, true, true}, {"--destination", O_DST, true, true},
	{"--dst", O_DST, true, true},
	{"-i", O_IN, true, true}, {"--in-interface", O_IN, true, true},
	{"-o", O_OUT, true, true}, {"--out-interface", O_OUT, true, true},
	{"-f", O_FRAG, true, false}, {"--fragment", O_FRAG, true, false},
	{"--fragments", O_FRAG, true, false},
	{"-j", O_JUMP, false, true}, {"--jump", O_JUMP, false, true},
	{"-g", O_GOTO, false, true}, {"--goto", O_GOTO, false, true},
	{"-m", O_MATCH, false, true}, {"--match", O_MATCH, false, true},
	{"--sport", O_SPORT, true, true}, {"--source-port", O_SPORT, true, true},
	{"--dport", O_DPORT, true, true}, {"--destination-port", O_DPORT, true, true},
	{"--tcp-flags", O_TCPFLAGS, true, true}, {"--syn", O_SYN, true, false},
	{"--icmp-type", O_ICMPTYPE, true, true},
	{"--sports", O_SPORTS, true, true}, {"--source-ports", O_SPORTS, true, true},
	{"--dports", O_DPORTS, true, true}, {"--destination-ports", O_DPORTS, true, true},
	{"--ports", O_PORTS, true, true},
	{"--state", O_STATE, true, true},
	{"--ctstate", O_CTSTATE, true, true}, {"--ctproto", O_CTPROTO, true, true},
	{"--ctorigsrc", O_CTORIGSRC, true, true}, {"--ctorigdst", O_CTORIGDST, true, true},
	{"--src-range", O_SRCRANGE, true, true}, {"--dst-range", O_DSTRANGE, true, true},
	{"--limit", O_LIMIT, false, true}, {"--limit-burst", O_BURST, false, true},
	{"--comment", O_COMMENT, false, true},
	{"--helper", O_HELPER, true, true},
	{"--reject-with", O_REJECT_WITH, false, true},
	{"--log-prefix", O_LOG_PREFIX, false, true}, {"--log-level", O_LOG_LEVEL, false, true},
	/* iptables has these; Rampart does not */
	{"--tcp-option", O_UNSUPPORTED, true, true},
	{"--ctreplsrc", O_UNSUPPORTED, true, true}, {"--ctrepldst", O_UNSUPPORTED, true, true},
	{"--ctorigsrcport", O_UNSUPPORTED, true, true},
	{"--ctorigdstport", O_UNSUPPORTED, true, true},
	{"--ctreplsrcport", O_UNSUPPORTED, true, true},
	{"--ctrepldstport", O_UNSUPPORTED, true, true},
	{"--ctstatus", O_UNSUPPORTED, true, true}, {"--ctexpire", O_UNSUPPORTED, true, true},
	{"--ctdir", O_UNSUPPORTED, false, true},
	{"--log-tcp-sequence", O_UNSUPPORTED, false, false},
	{"--log-tcp-options", O_UNSUPPORTED, false, false},
	{"--log-ip-options", O_UNSUPPORTED, false, false},
	{"--log-uid", O_UNSUPPORTED, false, false},
	{"--log-macdecode", O_UNSUPPORTED, false, false},
	{"-c", O_UNSUPPORTED, false, true}, {"--set-counters", O_UNSUPPORTED, false, true},
};

/* The next word, the argument of @p opt; NULL (reported, and the rule read no further). */
static const char *
next_arg(struct line_ctx *c, const char *opt)
{
	if (c->i >= c->n_tok) {
		line_error(c, opt, "missing argument after %s", opt);
		c->stop = true;
		return NULL;
	}
	return c->tok[c->i++];
}

/* Mark a module loaded (explicitly by -m, or implied by an option and -p). */
static bool
load_module(struct line_ctx *c, struct rule_state *st, enum rp_match_mod mod, const char *word,
	    bool implied)
{
	if (st->mod_loaded[mod]) {
		line_error(c, word, "-m %s given twice in one rule%s", mod_names[mod],
			   implied ? " (once implied by -p)" : "");
		return false;
	}
	st->mod_loaded[mod] = true;
	st->mod_word[mod] = word;
	if (st->n_mods < ARRAY_LEN(st->r.m.mods))
		st->r.m.mods[st->n_mods++] = (uint8_t)mod;
	return true;
}

/* -p given, not negated, and equal to @p proto. */
static bool
proto_is(const struct rule_state *st, uint8_t proto)
{
	return (st->r.m.present & RP_M_PROTO) && !(st->r.m.negated & RP_M_PROTO) &&
	       st->r.m.proto == proto;
}

/*
 * The module an option belongs to: one loaded already, or the protocol's
 * module that -p tcp/udp/icmp implies (as iptables loads it on the first
 * option it does not know). 0 (reported) when there is none.
 */
static enum rp_match_mod
owner_module(struct line_ctx *c, struct rule_state *st, const char *opt, bool tcp, bool udp,
	     bool icmp)
{
	if (tcp && st->mod_loaded[RP_MOD_TCP])
		return RP_MOD_TCP;
	if (udp && st->mod_loaded[RP_MOD_UDP])
		return RP_MOD_UDP;
	if (icmp && st->mod_loaded[RP_MOD_ICMP])
		return RP_MOD_ICMP;
	if (tcp && proto_is(st, 6))
		return load_module(c, st, RP_MOD_TCP, opt, true) ? RP_MOD_TCP : RP_MOD_NONE;
	if (udp && proto_is(st, 17))
		return load_module(c, st, RP_MOD_UDP, opt, true) ? RP_MOD_UDP : RP_MOD_NONE;
	if (icmp && proto_is(st, 1))
		return load_module(c, st, RP_MOD_ICMP, opt, true) ? RP_MOD_ICMP : RP_MOD_NONE;
	if (tcp && udp)
		line_error(c, opt, "%s needs -p tcp or -p udp before it", opt);
	else if (tcp)
		line_error(c, opt, "%s needs -p tcp before it", opt);
	else
		line_error(c, opt, "%s needs -p icmp before it", opt);
	return RP_MOD_NONE;
}

/* A module's own option: the module must be loaded (-m NAME) before it. */
static bool
need_module(struct line_ctx *c, struct rule_state *st, enum rp_match_mod mod, const char *opt)
{
	/* counted even when misplaced: "-m X needs an option" would only repeat the error */
	st->mod_opts[mod]++;
	if (!st->mod_loaded[mod]) {
		line_error(c, opt, "%s needs -m %s before it", opt, mod_names[mod]);
		return false;
	}
	return true;
}

/* The option may be given once: remember it, or report the second time. */
static bool
once(struct line_ctx *c, struct rule_state *st, uint32_t bit, const char *opt)
{
	if (st->seen & bit) {
		line_error(c, opt, "%s given twice in one rule", opt);
		return false;
	}
	st->seen |= bit;
	return true;
}

static void
set_match(struct rule_state *st, uint32_t bit, bool neg)
{
	st->r.m.present |= bit;
	if (neg)
		st->r.m.negated |= bit;
}

/* -i / -o: the ports the name (or NAME+ wildcard) stands for. */
static void
opt_iface(struct line_ctx *c, struct rule_state *st, const char *opt, const char *arg, bool in,
	  bool neg)
{
	const struct rp_filter_ports *ports = c->p->ports;
	size_t len = strlen(arg);
	bool wildcard = len > 0 && arg[len - 1] == '+';
	uint16_t mask = 0;

	if (!once(c, st, in ? RP_M_IN : RP_M_OUT, opt))
		return;
	if (len == 0 || len > IFNAME_MAX) {
		line_error(c, arg, "a port name has 1..%d characters", IFNAME_MAX);
		return;
	}
	if (!plain_name(arg)) {
		line_error(c, arg, "a port name is printable characters without blanks, quotes or "
			   "backslashes");
		return;
	}
	/* as iptables' own checks: no input port on OUTPUT, no output port on INPUT */
	if (in && st->chain == RP_CHAIN_OUTPUT) {
		line_error(c, opt, "-i cannot be used in OUTPUT (it has no input port)");
		return;
	}
	if (!in && st->chain == RP_CHAIN_INPUT) {
		line_error(c, opt, "-o cannot be used in INPUT (it has no output port)");
		return;
	}
	for (unsigned i = 0; ports != NULL && i < ports->n && i < RP_FILTER_PORTS_MAX; i++) {
		const char *name = ports->name[i];
		if (name == NULL)
			continue;
		if (wildcard ? strncmp(name, arg, len - 1) == 0 : strcmp(name, arg) == 0)
			mask |= (uint16_t)(1u << i);
	}
	if (in) {
		st->r.m.in_ports = mask;
		snprintf(st->r.m.in_name, sizeof(st->r.m.in_name), "%s", arg);
	} else {
		st->r.m.out_ports = mask;
		snprintf(st->r.m.out_name, sizeof(st->r.m.out_name), "%s", arg);
	}
	set_match(st, in ? RP_M_IN : RP_M_OUT, neg);
}

/* -j / -g. */
static void
opt_target(struct line_ctx *c, struct rule_state *st, const char *opt, const char *name, bool go)
{
	struct rp_rule *r = &st->r;
	int chain;

	if (st->target_seen) {
		line_error(c, opt, "a rule has one target (-j or -g), this is the second");
		return;
	}
	st->target_seen = true;
	if (!go) {
		static const uint8_t codes[] = {RP_T_ACCEPT, RP_T_DROP, RP_T_REJECT, RP_T_LOG,
						RP_T_RETURN};
		for (size_t k = 0; k < ARRAY_LEN(supported_targets); k++)
			if (strcmp(name, supported_targets[k]) == 0) {
				r->target = codes[k];
				return;
			}
	}
	chain = rp_ruleset_chain(c->p->rs, name);
	if (chain >= RP_CHAIN_BUILTIN_MAX) {
		r->target = go ? RP_T_GOTO : RP_T_JUMP;
		r->jump = (int16_t)chain;
		return;
	}
	if (chain >= 0)
		line_error(c, name, "cannot jump to a built-in chain");
	else if (go && in_list(name, supported_targets, ARRAY_LEN(supported_targets)))
		line_error(c, name, "-g goes to a user chain, not to a target (use -j %s)", name);
	else if (in_list(name, unsupported_targets, ARRAY_LEN(unsupported_targets))) {
		line_error(c, name, "target %s: not supported", name);
		/* its options would all be "unknown": read no further */
		c->stop = true;
	} else
		line_error(c, name, "no chain named %s (create it with -N before this rule)", name);
}

/* -m NAME. */
static void
opt_module(struct line_ctx *c, struct rule_state *st, const char *name)
{
	for (int mod = RP_MOD_NONE + 1; mod < RP_MOD_MAX; mod++)
		if (strcmp(name, mod_names[mod]) == 0) {
			load_module(c, st, (enum rp_match_mod)mod, name, false);
			return;
		}
	line_error(c, name, "match not supported (supported: tcp, udp, icmp, multiport, state, "
		   "conntrack, iprange, limit, comment, helper)");
	/* its options would all be "unknown": read no further */
	c->stop = true;
}

/*
 * A free-text value (--comment, --log-prefix): at most @p size - 1 bytes,
 * no control characters. Copied into @p dst when good.
 */
static bool
text_value(struct line_ctx *c, const char *arg, char *dst, size_t size, const char *too_long,
	   const char *what)
{
	if (strlen(arg) >= size) {
		line_error(c, arg, "%s longer than %zu characters", too_long, size - 1);
		return false;
	}
	if (has_control_char(arg)) {
		line_error(c, arg, "control characters are not allowed in %s", what);
		return false;
	}
	snprintf(dst, size, "%s", arg);
	return true;
}

/* An option of a target (--reject-with, --log-*): after its -j, once per rule. */
static bool
target_option(struct line_ctx *c, const struct rule_state *st, const char *opt, uint8_t target,
	      bool *seen)
{
	if (st->r.target != target) {
		line_error(c, opt, "%s needs -j %s before it", opt, rp_target_name(target));
		return false;
	}
	if (*seen) {
		line_error(c, opt, "%s given twice in one rule", opt);
		return false;
	}
	*seen = true;
	return true;
}

/* Options of modules and targets that take one argument. */
static void
opt_with_arg(struct line_ctx *c, struct rule_state *st, const struct opt_def *d, const char *arg,
	     bool neg)
{
	struct rp_match *m = &st->r.m;
	const char *opt = d->name, *why;
	char why_buf[80];
	enum rp_match_mod mod;
	uint32_t addr, mask;
	unsigned long v;

	switch (d->id) {
	case O_SPORT:
	case O_DPORT: {
		uint32_t bit = d->id == O_SPORT ? RP_M_SPORT : RP_M_DPORT;
		struct rp_range16 r;

		mod = owner_module(c, st, opt, true, true, false);
		if (mod == RP_MOD_NONE || !once(c, st, bit, opt))
			return;
		st->mod_opts[mod]++;
		if ((why = parse_port_range(arg, &r)) != NULL) {
			line_error(c, arg, "%s", why);
			return;
		}
		if (d->id == O_SPORT)
			m->sport = r;
		else
			m->dport = r;
		set_match(st, bit, neg);
		return;
	}
	case O_ICMPTYPE:
		mod = owner_module(c, st, opt, false, false, true);
		if (mod == RP_MOD_NONE || !once(c, st, RP_M_ICMP, opt))
			return;
		st->mod_opts[mod]++;
		if ((why = parse_icmp_type(arg, m)) != NULL) {
			line_error(c, arg, "%s", why);
			return;
		}
		set_match(st, RP_M_ICMP, neg);
		return;
	case O_SPORTS:
	case O_DPORTS:
	case O_PORTS:
		if (!need_module(c, st, RP_MOD_MULTIPORT, opt))
			return;
		if (st->mport_seen) {
			line_error(c, opt, "-m multiport takes one of --sports, --dports, --ports");
			return;
		}
		st->mport_seen = true;
		/* as iptables, checked here: multiport needs the protocol before it */
		if (!proto_is(st, 6) && !proto_is(st, 17)) {
			line_error(c, opt, "-m multiport needs -p tcp or -p udp before it");
			return;
		}
		if ((why = parse_mport_list(arg, m)) != NULL) {
			line_error(c, arg, "%s", why);
			return;
		}
		m->mport_kind = d->id == O_SPORTS ? RP_MPORT_SRC
				: d->id == O_DPORTS ? RP_MPORT_DST : RP_MPORT_ANY;
		set_match(st, RP_M_MPORT, neg);
		return;
	case O_STATE:
	case O_CTSTATE:
		if (!need_module(c, st, d->id == O_STATE ? RP_MOD_STATE : RP_MOD_CONNTRACK, opt))
			return;
		if (st->seen & RP_M_STATE) {
			line_error(c, opt, "one state match per rule (--state or --ctstate)");
			return;
		}
		st->seen |= RP_M_STATE;
		if (!parse_states(arg, &m->states, why_buf, sizeof(why_buf))) {
			line_error(c, arg, "%s", why_buf);
			return;
		}
		set_match(st, RP_M_STATE, neg);
		return;
	case O_CTPROTO:
		if (!need_module(c, st, RP_MOD_CONNTRACK, opt) || !once(c, st, RP_M_CTPROTO, opt))
			return;
		if (!parse_protocol(arg, &m->ctproto)) {
			line_error(c, arg, "unknown protocol");
			return;
		}
		if (m->ctproto == 0) {
			line_error(c, arg, "--ctproto all would match no connection");
			return;
		}
		set_match(st, RP_M_CTPROTO, neg);
		return;
	case O_CTORIGSRC:
	case O_CTORIGDST: {
		uint32_t bit = d->id == O_CTORIGSRC ? RP_M_CTORIGSRC : RP_M_CTORIGDST;

		if (!need_module(c, st, RP_MOD_CONNTRACK, opt) || !once(c, st, bit, opt))
			return;
		if ((why = parse_addr_mask(arg, &addr, &mask)) != NULL) {
			line_error(c, arg, "%s", why);
			return;
		}
		if (bit == RP_M_CTORIGSRC) {
			m->ctorigsrc = addr;
			m->ctorigsrc_mask = mask;
		} else {
			m->ctorigdst = addr;
			m->ctorigdst_mask = mask;
		}
		set_match(st, bit, neg);
		return;
	}
	case O_SRCRANGE:
	case O_DSTRANGE: {
		uint32_t bit = d->id == O_SRCRANGE ? RP_M_SRCRANGE : RP_M_DSTRANGE;
		struct rp_range32 r;
		const char *dash = strchr(arg, '-');
		char buf[32];

		if (!need_module(c, st, RP_MOD_IPRANGE, opt) || !once(c, st, bit, opt))
			return;
		snprintf(buf, sizeof(buf), "%.*s", (int)(dash ? (size_t)(dash - arg) : strlen(arg)),
			 arg);
		if (!parse_ipv4(buf, false, &r.lo) ||
		    !parse_ipv4(dash ? dash + 1 : buf, false, &r.hi)) {
			line_error(c, arg, "bad address range (a.b.c.d-a.b.c.d)");
			return;
		}
		if (r.lo > r.hi) {
			line_error(c, arg, "bad address range (the first address is above the last)");
			return;
		}
		if (bit == RP_M_SRCRANGE)
			m->src_range = r;
		else
			m->dst_range = r;
		set_match(st, bit, neg);
		return;
	}
	case O_LIMIT:
		if (!need_module(c, st, RP_MOD_LIMIT, opt))
			return;
		if (st->limit_seen) {
			line_error(c, opt, "%s given twice in one rule", opt);
			return;
		}
		st->limit_seen = true;
		if ((why = parse_rate(arg, m)) != NULL)
			line_error(c, arg, "%s", why);
		return;
	case O_BURST:
		if (!need_module(c, st, RP_MOD_LIMIT, opt))
			return;
		if (st->burst_seen) {
			line_error(c, opt, "%s given twice in one rule", opt);
			return;
		}
		st->burst_seen = true;
		if (!parse_uint(arg, LIMIT_BURST_MAX, &v) || v == 0) {
			line_error(c, arg, "bad burst (1..%d)", LIMIT_BURST_MAX);
			return;
		}
		m->limit_burst = (uint32_t)v;
		return;
	case O_COMMENT:
		if (!need_module(c, st, RP_MOD_COMMENT, opt))
			return;
		if (st->comment_seen) {
			line_error(c, opt, "%s given twice in one rule", opt);
			return;
		}
		st->comment_seen = true;
		text_value(c, arg, m->comment, sizeof(m->comment), "comment", "a comment");
		return;
	case O_HELPER:
		if (!need_module(c, st, RP_MOD_HELPER, opt) || !once(c, st, RP_M_HELPER, opt))
			return;
		for (size_t k = 0; k < ARRAY_LEN(helper_names); k++)
			if (strcmp(arg, helper_names[k].name) == 0) {
				m->helper = helper_names[k].id;
				set_match(st, RP_M_HELPER, neg);
				return;
			}
		/* xt_helper would take any name and match nothing: say so instead */
		line_error(c, arg, "unknown helper (supported: ftp)");
		return;
	case O_REJECT_WITH:
		if (!target_option(c, st, opt, RP_T_REJECT, &st->reject_with_seen))
			return;
		for (size_t k = 0; k < ARRAY_LEN(reject_names); k++)
			if (strcasecmp(arg, reject_names[k].name) == 0 ||
			    strcasecmp(arg, reject_names[k].alias) == 0) {
				st->r.reject_with = reject_names[k].with;
				st->reject_with_word = arg;
				return;
			}
		line_error(c, arg, "unknown reject type (icmp-net-unreachable, icmp-host-unreachable, "
			   "icmp-port-unreachable, icmp-proto-unreachable, icmp-net-prohibited, "
			   "icmp-host-prohibited, icmp-admin-prohibited, tcp-reset)");
		return;
	case O_LOG_PREFIX:
		if (target_option(c, st, opt, RP_T_LOG, &st->log_prefix_seen))
			text_value(c, arg, st->r.log_prefix, sizeof(st->r.log_prefix), "--log-prefix",
				   "--log-prefix");
		return;
	case O_LOG_LEVEL:
		if (!target_option(c, st, opt, RP_T_LOG, &st->log_level_seen))
			return;
		if (parse_uint(arg, 7, &v)) {
			st->r.log_level = (uint8_t)v;
			return;
		}
		for (size_t k = 0; k < ARRAY_LEN(log_levels); k++)
			if (strcasecmp(arg, log_levels[k].name) == 0) {
				st->r.log_level = log_levels[k].level;
				return;
			}
		line_error(c, arg, "bad log level (0..7, or emerg, alert, crit, error, warning, "
			   "notice, info, debug)");
		return;
	default:
		return;
	}
}

/* The checks iptables and the kernel make once the whole rule is known. */
static void
check_rule(struct line_ctx *c, struct rule_state *st)
{
	struct rp_match *m = &st->r.m;
	static const struct {
		enum rp_match_mod mod;
		uint8_t proto;
	} proto_mods[] = {{RP_MOD_TCP, 6}, {RP_MOD_UDP, 17}, {RP_MOD_ICMP, 1}};

	for (size_t k = 0; k < ARRAY_LEN(proto_mods); k++) {
		enum rp_match_mod mod = proto_mods[k].mod;
		if (st->mod_loaded[mod] && !proto_is(st, proto_mods[k].proto))
			line_error(c, st->mod_word[mod], "-m %s needs -p %s", mod_names[mod],
				   mod_names[mod]);
	}
	if (st->mod_loaded[RP_MOD_STATE] && st->mod_opts[RP_MOD_STATE] == 0)
		line_error(c, st->mod_word[RP_MOD_STATE], "-m state needs --state");
	if (st->mod_loaded[RP_MOD_CONNTRACK] && st->mod_opts[RP_MOD_CONNTRACK] == 0)
		line_error(c, st->mod_word[RP_MOD_CONNTRACK],
			   "-m conntrack needs --ctstate, --ctproto, --ctorigsrc or --ctorigdst");
	if (st->mod_loaded[RP_MOD_MULTIPORT] && st->mod_opts[RP_MOD_MULTIPORT] == 0)
		line_error(c, st->mod_word[RP_MOD_MULTIPORT],
			   "-m multiport needs --sports, --dports or --ports");
	if (st->mod_loaded[RP_MOD_IPRANGE] && st->mod_opts[RP_MOD_IPRANGE] == 0)
		line_error(c, st->mod_word[RP_MOD_IPRANGE],
			   "-m iprange needs --src-range or --dst-range");
	if (st->mod_loaded[RP_MOD_COMMENT] && st->mod_opts[RP_MOD_COMMENT] == 0)
		line_error(c, st->mod_word[RP_MOD_COMMENT], "-m comment needs --comment");
	if (st->mod_loaded[RP_MOD_HELPER] && st->mod_opts[RP_MOD_HELPER] == 0)
		line_error(c, st->mod_word[RP_MOD_HELPER], "-m helper needs --helper");
	if (st->mod_loaded[RP_MOD_LIMIT]) {
		/* -m limit alone is iptables' default: 3/hour, burst 5 */
		if (!st->limit_seen) {
			m->limit_rate = 3;
			m->limit_period_us = 3600ull * 1000000u;
		}
		if (!st->burst_seen)
			m->limit_burst = 5;
		m->present |= RP_M_LIMIT;
	}
	/* -m icmp without --icmp-type matches any type, as iptables' does */
	if (st->mod_loaded[RP_MOD_ICMP] && !(st->seen & RP_M_ICMP)) {
		m->icmp_type = 255;
		m->icmp_code_lo = 0;
		m->icmp_code_hi = 255;
		m->present |= RP_M_ICMP;
	}
	/* the kernel's REJECT: a TCP reset only for TCP */
	if (st->r.target == RP_T_REJECT && st->r.reject_with == RP_REJ_TCP_RESET && !proto_is(st, 6))
		line_error(c, st->reject_with_word, "--reject-with tcp-reset needs -p tcp");
}

/* Insert @p r into @p chain at @p pos (0-based; -1: append). */
static void
add_rule(struct line_ctx *c, int chain, long pos, const struct rp_rule *r)
{
	struct parser *p = c->p;
	struct rp_chain *ch = &p->rs->chains[chain];
	struct rp_rule *slot;

	if (ch->n_rules == ch->cap_rules) {
		unsigned cap = ch->cap_rules ? 2 * ch->cap_rules : 8;
		struct rp_rule *v = realloc(ch->rules, cap * sizeof(*v));
		if (v == NULL) {
			out_of_memory(p);
			return;
		}
		ch->rules = v;
		ch->cap_rules = cap;
	}
	if (pos < 0 || (unsigned long)pos > ch->n_rules)
		pos = (long)ch->n_rules;
	slot = &ch->rules[pos];
	memmove(slot + 1, slot, (ch->n_rules - (unsigned long)pos) * sizeof(*slot));
	*slot = *r;
	slot->file = p->rs->names_buf;
	slot->line = c->line;
	slot->text = strdup(c->text);
	if (slot->text == NULL) {
		memmove(slot, slot + 1, (ch->n_rules - (unsigned long)pos) * sizeof(*slot));
		out_of_memory(p);
		return;
	}
	ch->n_rules++;
}

/*
 * The rule after "-A CHAIN" or "-I CHAIN [N]": options in iptables' way, the
 * '!' before an option (or, the old way, after it) negating it.
 */
static void
parse_rule(struct line_ctx *c, int chain, long pos)
{
	struct rule_state st;
	const char *neg_word = NULL;

	memset(&st, 0, sizeof(st));
	st.chain = chain;
	st.r.jump = -1;
	st.r.log_level = LOG_LEVEL_DEFAULT;
	st.r.reject_with = RP_REJ_PORT_UNREACH;

	while (c->i < c->n_tok && !c->stop) {
		const char *word = c->tok[c->i++], *arg = NULL;
		const struct opt_def *d = NULL;
		bool neg;

		if (strcmp(word, "!") == 0) {
			if (neg_word != NULL)
				line_error(c, word, "one '!' per option");
			neg_word = word;
			continue;
		}
		for (size_t k = 0; k < ARRAY_LEN(opt_defs); k++)
			if (strcmp(word, opt_defs[k].name) == 0) {
				d = &opt_defs[k];
				break;
			}
		if (d == NULL) {
			if (word[0] == '-')
				line_error(c, word, "unknown option");
			else
				line_error(c, word, "unexpected word (an option was expected)");
			c->stop = true;
			break;
		}
		neg = neg_word != NULL;
		neg_word = NULL;
		if (d->id == O_UNSUPPORTED) {
			line_error(c, word, "option %s: not supported", word);
			c->stop = true;
			break;
		}
		if (neg && !d->neg) {
			line_error(c, word, "%s cannot be negated with '!'", word);
			neg = false;
		}
		if (d->has_arg) {
			/* the old way, "--dport ! 22", that iptables still reads */
			if (d->neg && c->i < c->n_tok && strcmp(c->tok[c->i], "!") == 0) {
				if (neg)
					line_error(c, c->tok[c->i], "one '!' per option");
				neg = true;
				c->i++;
			}
			arg = next_arg(c, word);
			if (arg == NULL)
				break;
		}

		switch (d->id) {
		case O_PROTO:
			if (!once(c, &st, RP_M_PROTO, word))
				break;
			st.proto_word = arg;
			if (!parse_protocol(arg, &st.r.m.proto)) {
				line_error(c, arg, "unknown protocol");
				break;
			}
			if (st.r.m.proto == 0) {
				/* -p all is no match at all; its negation never matches */
				if (neg)
					line_error(c, arg, "! -p all would never match");
				break;
			}
			set_match(&st, RP_M_PROTO, neg);
			break;
		case O_SRC:
		case O_DST: {
			uint32_t bit = d->id == O_SRC ? RP_M_SRC : RP_M_DST, addr, mask;
			const char *why;

			if (!once(c, &st, bit, word))
				break;
			if ((why = parse_addr_mask(arg, &addr, &mask)) != NULL) {
				line_error(c, arg, "%s", why);
				break;
			}
			/* 0.0.0.0/0 is no match at all (iptables leaves it out) unless negated */
			if (mask == 0 && !neg)
				break;
			if (bit == RP_M_SRC) {
				st.r.m.src = addr;
				st.r.m.src_mask = mask;
			} else {
				st.r.m.dst = addr;
				st.r.m.dst_mask = mask;
			}
			set_match(&st, bit, neg);
			break;
		}
		case O_IN:
		case O_OUT:
			opt_iface(c, &st, word, arg, d->id == O_IN, neg);
			break;
		case O_FRAG:
			if (once(c, &st, RP_M_FRAG, word))
				set_match(&st, RP_M_FRAG, neg);
			break;
		case O_JUMP:
		case O_GOTO:
			opt_target(c, &st, word, arg, d->id == O_GOTO);
			break;
		case O_MATCH:
			opt_module(c, &st, arg);
			break;
		case O_TCPFLAGS: {
			const char *comp = next_arg(c, word);
			enum rp_match_mod mod;

			if (comp == NULL)
				break;
			mod = owner_module(c, &st, word, true, false, false);
			if (mod == RP_MOD_NONE)
				break;
			st.mod_opts[mod]++;
			if (st.tcpflags_seen) {
				line_error(c, word, "one of --syn and --tcp-flags, once");
				break;
			}
			st.tcpflags_seen = true;
			if (!parse_tcp_flags(arg, &st.r.m.tcp_mask)) {
				line_error(c, arg, "unknown TCP flag (FIN, SYN, RST, PSH, ACK, URG, ALL, "
					   "NONE)");
				break;
			}
			if (!parse_tcp_flags(comp, &st.r.m.tcp_comp)) {
				line_error(c, comp, "unknown TCP flag (FIN, SYN, RST, PSH, ACK, URG, "
					   "ALL, NONE)");
				break;
			}
			set_match(&st, RP_M_TCPFLAGS, neg);
			break;
		}
		case O_SYN: {
			enum rp_match_mod mod = owner_module(c, &st, word, true, false, false);

			if (mod == RP_MOD_NONE)
				break;
			st.mod_opts[mod]++;
			if (st.tcpflags_seen) {
				line_error(c, word, "one of --syn and --tcp-flags, once");
				break;
			}
			st.tcpflags_seen = true;
			/* iptables: --tcp-flags SYN,RST,ACK,FIN SYN */
			st.r.m.tcp_mask = 0x17;
			st.r.m.tcp_comp = 0x02;
			set_match(&st, RP_M_TCPFLAGS, neg);
			break;
		}
		default:
			opt_with_arg(c, &st, d, arg, neg);
			break;
		}
	}
	if (neg_word != NULL && !c->stop)
		line_error(c, neg_word, "'!' at the end of the rule negates nothing");
	if (c->stop)
		return;
	check_rule(c, &st);
	if (c->bad || chain < 0)
		return;
	if (pos >= 0 && (unsigned long)pos > c->p->rs->chains[chain].n_rules) {
		line_error(c, c->pos_word, "rule number %ld is beyond the end of %s (at most %u)",
			   pos + 1, c->p->rs->chains[chain].name, c->p->rs->chains[chain].n_rules + 1);
		return;
	}
	add_rule(c, chain, pos, &st.r);
}

/* ---- commands ------------------------------------------------------------------------ */

/* The chain a rule is added to: it must exist already. */
static int
rule_chain(struct line_ctx *c, const char *name)
{
	int chain = rp_ruleset_chain(c->p->rs, name);

	if (chain < 0)
		line_error(c, name, "no chain named %s (create it with -N before this rule)", name);
	return chain;
}

static bool
no_more_words(struct line_ctx *c)
{
	if (c->i < c->n_tok) {
		line_error(c, c->tok[c->i], "unexpected word after the command");
		return false;
	}
	return true;
}

static bool
is_any(const char *word, const char *a, const char *b, const char *cc)
{
	return strcmp(word, a) == 0 || strcmp(word, b) == 0 || (cc && strcmp(word, cc) == 0);
}

/* One command: -A, -I, -N or -P (and "-t filter" before it). */
static void
parse_command(struct line_ctx *c)
{
	static const char *const other_cmds[] = {
		"-D", "--delete", "-R", "--replace", "-F", "--flush", "-X", "--delete-chain",
		"-Z", "--zero", "-E", "--rename-chain", "-L", "--list", "-S", "--list-rules",
		"-C", "--check",
	};
	const char *cmd, *name;

	if (c->n_tok == 0) {
		line_error(c, NULL, "empty rule");
		return;
	}
	cmd = c->tok[c->i++];
	if (is_any(cmd, "-t", "--table", NULL)) {
		const char *table = next_arg(c, cmd);

		if (table == NULL)
			return;
		if (strcmp(table, "filter") != 0) {
			line_error(c, table, "table %s: not supported (only filter)", table);
			return;
		}
		if (c->i >= c->n_tok) {
			line_error(c, cmd, "a command (-A, -I, -N or -P) must follow -t filter");
			return;
		}
		cmd = c->tok[c->i++];
	}
	if (is_any(cmd, "-A", "--append", NULL)) {
		if ((name = next_arg(c, cmd)) != NULL)
			parse_rule(c, rule_chain(c, name), -1);
	} else if (is_any(cmd, "-I", "--insert", NULL)) {
		unsigned long n = 1;

		if ((name = next_arg(c, cmd)) == NULL)
			return;
		int chain = rule_chain(c, name);
		c->pos_word = name;
		if (c->i < c->n_tok && isdigit((unsigned char)c->tok[c->i][0])) {
			const char *num = c->tok[c->i++];
			c->pos_word = num;
			if (!parse_uint(num, 1000000000, &n) || n == 0) {
				line_error(c, num, "bad rule number (1 is the first)");
				n = 1;
			}
		}
		parse_rule(c, chain, (long)n - 1);
	} else if (is_any(cmd, "-N", "--new-chain", "--new")) {
		if ((name = next_arg(c, cmd)) != NULL && no_more_words(c))
			new_chain(c, name);
	} else if (is_any(cmd, "-P", "--policy", NULL)) {
		const char *policy;
		int chain;

		if ((name = next_arg(c, cmd)) == NULL || (policy = next_arg(c, cmd)) == NULL)
			return;
		if (!no_more_words(c))
			return;
		chain = rp_ruleset_chain(c->p->rs, name);
		if (chain < 0 || chain >= RP_CHAIN_BUILTIN_MAX) {
			line_error(c, name, "-P sets the policy of INPUT, FORWARD or OUTPUT");
			return;
		}
		set_policy(c, chain, policy, cmd);
	} else if (in_list(cmd, other_cmds, ARRAY_LEN(other_cmds))) {
		line_error(c, cmd, "command %s: not supported (only -A, -I, -N and -P)", cmd);
	} else {
		line_error(c, cmd, "a rule starts with a command: -A, -I, -N or -P");
	}
}

/* "[packets:bytes]", as iptables-save -c writes counters (read, not restored). */
static bool
counters_ok(const char *s)
{
	size_t len = strlen(s), pkts, bytes;

	if (len < 5 || s[0] != '[' || s[len - 1] != ']')
		return false;
	pkts = strspn(s + 1, "0123456789");
	if (pkts == 0 || s[1 + pkts] != ':')
		return false;
	bytes = strspn(s + 2 + pkts, "0123456789");
	return bytes > 0 && 2 + pkts + bytes == len - 1;
}

/* ":CHAIN POLICY [packets:bytes]" of an iptables-save file. */
static void
parse_chain_line(struct line_ctx *c)
{
	const char *decl = c->tok[0], *name = decl + 1, *policy;
	int chain;

	if (c->n_tok < 2) {
		line_error(c, decl, "a chain line is \":CHAIN POLICY [packets:bytes]\"");
		return;
	}
	policy = c->tok[1];
	if (c->n_tok > 3 || (c->n_tok == 3 && !counters_ok(c->tok[2]))) {
		line_error(c, c->tok[2], "a chain line is \":CHAIN POLICY [packets:bytes]\"");
		return;
	}
	chain = rp_ruleset_chain(c->p->rs, name);
	if (chain >= 0 && chain < RP_CHAIN_BUILTIN_MAX) {
		set_policy(c, chain, policy, decl);
		return;
	}
	if (strcmp(policy, "-") != 0) {
		line_error(c, policy, "a user chain has no policy (write \"-\")");
		return;
	}
	new_chain(c, name);
}

static void
run_line(struct parser *p, const char *text, int line, bool file_mode)
{
	struct line_ctx c = {.p = p, .text = text, .line = line};

	if (tokenize(&c, text) == 0) {
		/* iptables-save -c: "[packets:bytes] -A ..." (the counters start at zero here) */
		if (file_mode && c.n_tok > 0 && c.tok[0][0] == '[') {
			if (!counters_ok(c.tok[0]))
				line_error(&c, c.tok[0], "bad counters (\"[packets:bytes]\")");
			else
				c.i = 1;
			if (c.i == 1 && c.n_tok == 1)
				line_error(&c, c.tok[0], "counters without a rule");
		}
		if (!c.bad) {
			if (file_mode && c.n_tok > 0 && c.tok[0][0] == ':')
				parse_chain_line(&c);
			else if (c.i < c.n_tok || c.n_tok == 0)
				parse_command(&c);
		}
	}
	free_tokens(&c);
}

/* ---- iptables-save files ------------------------------------------------------------------ */

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static void
parse_file(struct parser *p, const char *path)
{
	enum { OUTSIDE, IN_FILTER, IN_OTHER } where = OUTSIDE;
	FILE *f = fopen(path, "r");
	char *buf = NULL, table_text[64] = "";
	size_t cap = 0;
	ssize_t len;
	int line = 0, table_line = 0;
	bool had_filter = false;

	if (f == NULL) {
		report(p, path, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		return;
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *s = buf;
		struct line_ctx c = {.p = p, .line = ++line};

		trim(s);
		while (isspace((unsigned char)*s))
			s++;
		c.text = s;
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '*') {
			const char *name = s + 1;
			if (where != OUTSIDE)
				report(p, p->file, table_line, table_text, table_text,
				       "no COMMIT before the next table");
			table_line = line;
			snprintf(table_text, sizeof(table_text), "%s", s);
			if (strcmp(name, "filter") != 0) {
				line_error(&c, s, "table %s: not supported (only *filter)", name);
				where = IN_OTHER;
			} else if (had_filter) {
				line_error(&c, s, "a second *filter table");
				where = IN_OTHER;
			} else {
				had_filter = true;
				where = IN_FILTER;
			}
			continue;
		}
		if (strcmp(s, "COMMIT") == 0) {
			if (where == OUTSIDE)
				line_error(&c, s, "COMMIT without a table");
			where = OUTSIDE;
			continue;
		}
		if (where == IN_OTHER)
			continue;
		if (where == OUTSIDE) {
			char word[32];
			snprintf(word, sizeof(word), "%.*s", (int)strcspn(s, " \t"), s);
			line_error(&c, word, "outside a table (*filter ... COMMIT)");
			continue;
		}
		run_line(p, s, line, true);
	}
	if (where != OUTSIDE)
		report(p, p->file, table_line, table_text, table_text, "no COMMIT for this table");
	free(buf);
	fclose(f);
}

/* ---- whole-ruleset checks ------------------------------------------------------------------ */

/*
 * iptables refuses a chain that reaches itself through jumps or gotos. A
 * depth-first walk over the chains (without recursion: the chain graph
 * comes from user input) reports each jump that closes a loop.
 */
static void
check_loops(struct parser *p)
{
	struct rp_ruleset *rs = p->rs;
	unsigned n = rs->n_chains, depth;
	uint8_t *color = calloc(n, 1); /* 0: not seen, 1: on the path, 2: done */
	struct frame {
		unsigned chain, next_rule;
	} *stack = calloc(n, sizeof(*stack));

	if (color == NULL || stack == NULL) {
		out_of_memory(p);
		goto free_all;
	}
	for (unsigned start = 0; start < n; start++) {
		if (color[start] != 0)
			continue;
		depth = 0;
		stack[depth++] = (struct frame){start, 0};
		color[start] = 1;
		while (depth > 0) {
			struct frame *f = &stack[depth - 1];
			const struct rp_chain *ch = &rs->chains[f->chain];
			const struct rp_rule *r;

			if (f->next_rule >= ch->n_rules) {
				color[f->chain] = 2;
				depth--;
				continue;
			}
			r = &ch->rules[f->next_rule++];
			if ((r->target != RP_T_JUMP && r->target != RP_T_GOTO) || r->jump < 0 ||
			    (unsigned)r->jump >= n)
				continue;
			if (color[r->jump] == 0) {
				color[r->jump] = 1;
				stack[depth++] = (struct frame){(unsigned)r->jump, 0};
			} else if (color[r->jump] == 1) {
				char *path = NULL;
				size_t path_len = 0;
				FILE *m = open_memstream(&path, &path_len);
				unsigned k = 0;

				while (stack[k].chain != (unsigned)r->jump)
					k++;
				for (; m != NULL && k < depth; k++)
					fprintf(m, "%s -> ", rs->chains[stack[k].chain].name);
				if (m != NULL) {
					fputs(rs->chains[r->jump].name, m);
					fclose(m);
				}
				report(p, r->file, r->line, r->text, rs->chains[r->jump].name,
				       "jump loop %s (iptables refuses loops)", path ? path : "");
				free(path);
			}
		}
	}
free_all:
	free(color);
	free(stack);
}

/* ---- entry points --------------------------------------------------------------------------- */

void
rp_ruleset_free(struct rp_ruleset *rs)
{
	if (rs == NULL)
		return;
	for (unsigned i = 0; i < RP_CHAIN_BUILTIN_MAX; i++)
		rp_filter_prog_free(rs->prog[i]);
	for (unsigned i = 0; i < rs->n_chains; i++) {
		for (unsigned k = 0; k < rs->chains[i].n_rules; k++)
			free(rs->chains[i].rules[k].text);
		free(rs->chains[i].rules);
	}
	free(rs->chains);
	free(rs->names_buf);
	free(rs);
}

struct rp_ruleset *
rp_ruleset_parse(const struct rp_filter_source *src, const struct rp_filter_ports *ports,
		 FILE *err, int *n_errors)
{
	struct parser p = {.src = src, .ports = ports, .err = err};
	const char *config_file;
	unsigned id = 0;

	if (n_errors != NULL)
		*n_errors = 0;
	if (src == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	config_file = src->file != NULL ? src->file : "(config)";
	p.file = src->rules_file != NULL ? src->rules_file : config_file;
	p.rs = calloc(1, sizeof(*p.rs));
	if (p.rs == NULL || (p.rs->names_buf = strdup(p.file)) == NULL) {
		out_of_memory(&p);
		goto fail;
	}
	p.rs->revalidate = src->revalidate;
	for (int i = 0; i < RP_CHAIN_BUILTIN_MAX; i++) {
		if (add_chain(&p, builtin_names[i]) < 0)
			goto fail;
		p.rs->chains[i].builtin = 1;
		p.rs->chains[i].policy = RP_T_ACCEPT; /* iptables' default */
	}
	/* filter.policy first: a policy set there too is reported where the rules set it */
	for (int i = 0; i < RP_CHAIN_BUILTIN_MAX; i++) {
		uint8_t pol = src->policy[i];

		if (pol == RP_T_NONE)
			continue;
		if (pol != RP_T_ACCEPT && pol != RP_T_DROP) {
			report(&p, config_file, src->policy_line[i], NULL, NULL,
			       "filter.policy: the policy of %s is ACCEPT or DROP", builtin_names[i]);
			continue;
		}
		p.rs->chains[i].policy = pol;
		p.policy_file[i] = config_file;
		p.policy_line[i] = src->policy_line[i];
	}
	if (src->rules_file != NULL) {
		parse_file(&p, src->rules_file);
	} else {
		for (unsigned i = 0; i < src->n_rules && !p.oom; i++)
			run_line(&p, src->rules[i] != NULL ? src->rules[i] : "",
				 src->rule_lines != NULL ? src->rule_lines[i] : (int)i + 1, false);
	}
	if (!p.oom)
		check_loops(&p);
	if (p.errors > 0)
		goto fail;
	for (unsigned i = 0; i < p.rs->n_chains; i++)
		for (unsigned k = 0; k < p.rs->chains[i].n_rules; k++)
			p.rs->chains[i].rules[k].id = id++;
	p.rs->n_rules = id;
	return p.rs;

fail:
	rp_ruleset_free(p.rs);
	if (n_errors != NULL)
		*n_errors = p.errors > 0 ? p.errors : 1;
	rte_errno = p.oom ? ENOMEM : EINVAL;
	return NULL;
}

void
rp_filter_source_from_config(const struct rp_config *cfg, struct rp_filter_source *src)
{
	static const uint8_t policy_of[] = {
		[RP_POLICY_UNSET] = RP_T_NONE,
		[RP_POLICY_ACCEPT] = RP_T_ACCEPT,
		[RP_POLICY_DROP] = RP_T_DROP,
	};
	const struct rp_filter_conf *fc = &cfg->filter;

	memset(src, 0, sizeof(*src));
	src->file = cfg->path;
	for (int i = 0; i < RP_CHAIN_BUILTIN_MAX; i++) {
		src->policy[i] = fc->policy[i] < ARRAY_LEN(policy_of) ? policy_of[fc->policy[i]]
								      : RP_T_NONE;
		src->policy_line[i] = fc->policy_line[i];
	}
	src->rules = (const char *const *)fc->rules;
	src->rule_lines = fc->rule_lines;
	src->n_rules = fc->n_rules;
	src->rules_file = fc->rules_file;
	src->revalidate = fc->revalidate;
}
