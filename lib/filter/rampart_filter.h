/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RAMPART_FILTER_H
#define RAMPART_FILTER_H

/**
 * @file
 * The filter: iptables' INPUT/FORWARD/OUTPUT chains with iptables'
 * meaning, first match wins.
 *
 * Three layers, each with its own file:
 *  - the model and the parser (parse.c): rule strings (iptables command
 *    tails) or an iptables-save file -> struct rp_ruleset, every error
 *    naming file, line, rule and the offending word;
 *  - the linear evaluator (linear.c): the reference semantics, one packet
 *    at a time, rule after rule, jumps and returns as iptables does them;
 *  - the compiled form (compile.c, classify.c, design in filter_prog.h):
 *    each built-in chain flattened (user chains inlined, RETURN and -g
 *    turned into skips to the end of the inlined chain) and cut into
 *    segments: runs of deciding rules rte_acl can express exactly become
 *    one rte_acl context each (first match = highest priority), the rules
 *    between them ("barriers": -m limit, --ctproto/--ctorig*, -m helper, -j with such
 *    matches, expansions too large) are evaluated with the linear matcher.
 *    Rules that only count or LOG (no target, LOG, the -j rule itself) are
 *    in no context: they are checked per packet, in rule order, up to where
 *    the packet was decided. Classification walks the segments in order,
 *    so first-match semantics and the counters are kept exactly.
 *
 * A ruleset is immutable once compiled; the datapath reads it through one
 * pointer swapped atomically on reload (RCU). Counters and -m limit tokens
 * are per worker (struct rp_filter_worker), summed when read.
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#define RP_FILTER_CHAIN_NAME_MAX 29  /**< as iptables' XT_EXTENSION_MAXNAMELEN - 1 */
#define RP_FILTER_MULTIPORT_MAX 15   /**< ports or ranges in one -m multiport (iptables: 15) */
#define RP_FILTER_LOG_PREFIX_MAX 30  /**< --log-prefix bytes (iptables: 29 + NUL) */
#define RP_FILTER_COMMENT_MAX 256
#define RP_FILTER_PORTS_MAX 16       /**< = RP_MAX_PORTS */
#define RP_FILTER_MAX_DEPTH 64       /**< nested -j CHAIN calls; rp_ruleset_compile rejects deeper rulesets */

/** The built-in chains (user chains follow them in rp_ruleset.chains). */
enum rp_chain_id {
	RP_CHAIN_INPUT = 0,
	RP_CHAIN_FORWARD,
	RP_CHAIN_OUTPUT,
	RP_CHAIN_BUILTIN_MAX,
};

/** What a rule does when it matches. */
enum rp_target {
	RP_T_NONE = 0, /**< no -j: counts only (iptables allows a rule without target) */
	RP_T_ACCEPT,
	RP_T_DROP,
	RP_T_REJECT,
	RP_T_LOG,      /**< non-terminal */
	RP_T_RETURN,
	RP_T_JUMP,     /**< -j CHAIN */
	RP_T_GOTO,     /**< -g CHAIN */
};

/** --reject-with. */
enum rp_reject_with {
	RP_REJ_PORT_UNREACH = 0, /**< icmp-port-unreachable (default) */
	RP_REJ_NET_UNREACH,
	RP_REJ_HOST_UNREACH,
	RP_REJ_PROTO_UNREACH,
	RP_REJ_NET_PROHIBITED,
	RP_REJ_HOST_PROHIBITED,
	RP_REJ_ADMIN_PROHIBITED,
	RP_REJ_TCP_RESET,
};

/* conntrack states as bits (1 << enum rp_ct_state: NEW, ESTABLISHED, RELATED, INVALID) */
#define RP_STATE_BIT(s) (1u << (s))

/** A port/address range; a single value has lo == hi. Host order. */
struct rp_range32 { uint32_t lo, hi; };
struct rp_range16 { uint16_t lo, hi; };

/* rp_match.present: which matches the rule has */
#define RP_M_PROTO     0x00000001
#define RP_M_SRC       0x00000002 /**< -s (one prefix) */
#define RP_M_DST       0x00000004
#define RP_M_IN        0x00000008 /**< -i */
#define RP_M_OUT       0x00000010 /**< -o */
#define RP_M_SPORT     0x00000020 /**< --sport (tcp/udp) */
#define RP_M_DPORT     0x00000040
#define RP_M_MPORT     0x00000080 /**< -m multiport --sports/--dports/--ports */
#define RP_M_STATE     0x00000100 /**< -m state --state / -m conntrack --ctstate */
#define RP_M_CTPROTO   0x00000200
#define RP_M_CTORIGSRC 0x00000400
#define RP_M_CTORIGDST 0x00000800
#define RP_M_ICMP      0x00001000 /**< --icmp-type */
#define RP_M_TCPFLAGS  0x00002000 /**< --tcp-flags / --syn */
#define RP_M_SRCRANGE  0x00004000 /**< -m iprange --src-range */
#define RP_M_DSTRANGE  0x00008000 /**< -m iprange --dst-range */
#define RP_M_LIMIT     0x00010000 /**< -m limit */
#define RP_M_FRAG      0x00020000 /**< -f (non-first fragments; none reach the filter after reassembly) */
#define RP_M_HELPER    0x00040000 /**< -m helper --helper NAME */

/* helper ids, as rp_ct_entry.helper holds them (--helper NAME) */
#define RP_FILTER_HELPER_FTP 1 /**< "ftp" */

/* rp_match.negated: the same bits, set when the match is negated with '!' */

/**
 * The -m modules of a rule (and the protocol modules -p tcp/udp/icmp imply),
 * kept only so that a listing shows them in the order they were written and
 * tells -m state from -m conntrack --ctstate; matching never reads them.
 */
enum rp_match_mod {
	RP_MOD_NONE = 0,
	RP_MOD_TCP,
	RP_MOD_UDP,
	RP_MOD_ICMP,
	RP_MOD_MULTIPORT,
	RP_MOD_STATE,      /**< the states came from -m state --state */
	RP_MOD_CONNTRACK,  /**< --ctstate/--ctproto/--ctorigsrc/--ctorigdst */
	RP_MOD_IPRANGE,
	RP_MOD_LIMIT,
	RP_MOD_COMMENT,
	RP_MOD_HELPER,
	RP_MOD_MAX,
};

/** -m multiport: which ports it looks at. */
enum rp_mport_kind { RP_MPORT_SRC = 1, RP_MPORT_DST, RP_MPORT_ANY };

/** Every match of one rule, parsed. Unused fields are zero. */
struct rp_match {
	uint32_t present;
	uint32_t negated;
	uint8_t proto;           /**< -p: number; 0 with RP_M_PROTO unset = all */
	uint32_t src, src_mask;  /**< -s a/len */
	uint32_t dst, dst_mask;
	struct rp_range32 src_range, dst_range; /**< -m iprange */
	uint16_t in_ports;       /**< -i: bit per configured port the name (or wildcard) matches */
	uint16_t out_ports;      /**< -o */
	char in_name[16];        /**< as written, for listing */
	char out_name[16];
	struct rp_range16 sport, dport;
	uint8_t mport_kind;      /**< enum rp_mport_kind */
	uint8_t n_mport;
	struct rp_range16 mport[RP_FILTER_MULTIPORT_MAX];
	uint8_t states;          /**< RP_STATE_BIT set */
	uint8_t ctproto;
	uint32_t ctorigsrc, ctorigsrc_mask, ctorigdst, ctorigdst_mask;
	uint8_t icmp_type;       /**< 255 = any ("any") */
	uint8_t icmp_code_lo, icmp_code_hi;
	uint8_t tcp_mask, tcp_comp; /**< --tcp-flags MASK COMP (bits as in the TCP header) */
	uint32_t limit_rate;     /**< -m limit: packets per limit_period_us */
	uint64_t limit_period_us;/**< e.g. 3/hour -> rate 3, period 3600e6 */
	uint32_t limit_burst;    /**< --limit-burst, default 5 */
	uint8_t helper;          /**< -m helper --helper: RP_FILTER_HELPER_* */
	char comment[RP_FILTER_COMMENT_MAX];
	/** listing only: enum rp_match_mod in the order written, RP_MOD_NONE after the last */
	uint8_t mods[RP_MOD_MAX - 1];
};

/** One rule. */
struct rp_rule {
	struct rp_match m;
	uint8_t target;          /**< enum rp_target */
	uint8_t reject_with;     /**< enum rp_reject_with */
	uint8_t log_level;       /**< syslog level, default 4 (warning) */
	int16_t jump;            /**< chain index for JUMP/GOTO, else -1 */
	char log_prefix[RP_FILTER_LOG_PREFIX_MAX];
	uint32_t id;             /**< index among all rules of the ruleset: counters are per id */
	const char *file;        /**< where it was written */
	int line;
	char *text;              /**< the rule as written (heap) */
};

/** A chain. Built-ins have a policy; user chains have none. */
struct rp_chain {
	char name[RP_FILTER_CHAIN_NAME_MAX + 1];
	int builtin;             /**< 1 for INPUT, FORWARD, OUTPUT */
	uint8_t policy;          /**< RP_T_ACCEPT or RP_T_DROP (built-ins) */
	struct rp_rule *rules;
	unsigned n_rules;
	unsigned cap_rules;
};

struct rp_filter_prog; /* a compiled built-in chain (compile.c) */

/** A complete ruleset. */
struct rp_ruleset {
	struct rp_chain *chains; /**< [0..2] are INPUT, FORWARD, OUTPUT */
	unsigned n_chains;
	unsigned n_rules;        /**< all rules, = the range of rp_rule.id */
	uint64_t generation;     /**< set when published */
	int revalidate;          /**< filter.revalidate */
	struct rp_filter_prog *prog[RP_CHAIN_BUILTIN_MAX]; /**< NULL until compiled */
	char *names_buf;         /**< storage for file names (freed with the ruleset) */
};

/** Port names known to -i/-o: index i is the port index of name[i]. */
struct rp_filter_ports {
	const char *name[RP_FILTER_PORTS_MAX];
	unsigned n;
};

/** Where the rules come from (the config's `filter` section, already read). */
struct rp_filter_source {
	const char *file;           /**< the config file, for messages */
	/* policies from filter.policy (RP_T_NONE when not given there) and their lines */
	uint8_t policy[RP_CHAIN_BUILTIN_MAX];
	int policy_line[RP_CHAIN_BUILTIN_MAX];
	/* either rule strings ... */
	const char *const *rules;   /**< iptables command tails ("-A INPUT ...", "-N chain", "-P INPUT DROP") */
	const int *rule_lines;      /**< config line of each */
	unsigned n_rules;
	/* ... or an iptables-save file */
	const char *rules_file;     /**< NULL when rules are given */
	int revalidate;
};

/**
 * Parse a ruleset. Every error goes to @p err as
 * "FILE:LINE: rule \"TEXT\": problem at \"WORD\"" (one line each, all of
 * them); @return the ruleset, or NULL with the number of errors in
 * @p *n_errors.
 */
struct rp_ruleset *rp_ruleset_parse(const struct rp_filter_source *src,
				    const struct rp_filter_ports *ports, FILE *err, int *n_errors);

/** Free a ruleset, its compiled programs too (rp_filter_prog_free). NULL is fine. */
void rp_ruleset_free(struct rp_ruleset *rs);

/** Chain index by name, or -1. */
int rp_ruleset_chain(const struct rp_ruleset *rs, const char *name);

struct rp_config;

/**
 * Point @p src at the `filter` section of a loaded config (no copy: @p src
 * is valid while @p cfg is). The config's rules_file is already resolved
 * against the config file's directory.
 */
void rp_filter_source_from_config(const struct rp_config *cfg, struct rp_filter_source *src);

/** A protocol's name as iptables-save writes it ("tcp", "gre"), or NULL. */
const char *rp_filter_proto_name(uint8_t proto);

/** --reject-with's name ("icmp-port-unreachable"), or NULL. */
const char *rp_reject_with_name(uint8_t reject_with);

/* ---- packets as the filter sees them ------------------------------------ */

/** The fields a rule can look at, in host order. */
struct rp_filter_pkt {
	uint32_t src, dst;
	uint16_t sport, dport;   /**< TCP/UDP ports, 0 otherwise */
	uint8_t proto;
	uint8_t state;           /**< enum rp_ct_state */
	uint8_t in_port;         /**< port index, 0xff = none (OUTPUT) */
	uint8_t out_port;        /**< port index, 0xff = none (INPUT) */
	uint8_t icmp_type, icmp_code; /**< ICMP only */
	uint8_t tcp_flags;       /**< TCP only */
	uint8_t fragment;        /**< non-first fragment (-f) */
	uint8_t ct_proto;        /**< conntrack original tuple (for --ctproto/--ctorig*) */
	/**
	 * -m helper: as netfilter's xt_helper, the helper of the connection's
	 * master (RP_FILTER_HELPER_*), i.e. nonzero only for a connection a
	 * helper expected (an FTP data connection), 0 for the control
	 * connection itself and any other. The datapath fills it for packets
	 * whose connection has an entry (not yet for the first, RELATED packet
	 * of an expected connection, which is confirmed after the filter).
	 */
	uint8_t helper;
	uint32_t ct_orig_src, ct_orig_dst;
	uint32_t len;            /**< IP length, for byte counters */
};

/** Fill @p p from a parsed packet with its conntrack state and ports. */
void rp_filter_pkt_from_mbuf(struct rte_mbuf *m, uint8_t in_port, uint8_t out_port,
			     struct rp_filter_pkt *p);

/** The outcome for one packet. */
struct rp_filter_result {
	uint8_t verdict;     /**< RP_T_ACCEPT, RP_T_DROP or RP_T_REJECT */
	uint8_t reject_with;
	int32_t rule;        /**< id of the rule that decided, -1 = the chain's policy */
};

/** Per-worker state of a ruleset: counters and limit buckets. */
struct rp_filter_worker {
	uint64_t *pkts;          /**< [n_rules] */
	uint64_t *bytes;
	uint64_t policy_pkts[RP_CHAIN_BUILTIN_MAX];
	uint64_t policy_bytes[RP_CHAIN_BUILTIN_MAX];
	uint64_t *limit_credit;  /**< [n_rules] token bucket state, in TSC cycles */
	uint64_t *limit_last;
	uint64_t *limit_cost;    /**< [n_rules] TSC cycles one token costs this worker (rate / n_workers) */
	unsigned n_rules;
	unsigned n_workers;      /**< the box's -m limit rate is shared among workers */
	/** LOG sink: called for each packet a LOG rule matches (rate-limited by the caller) */
	void (*log)(void *arg, const struct rp_rule *r, const struct rp_filter_pkt *p);
	void *log_arg;
};

/**
 * One worker's state for @p rs: counters at zero, -m limit buckets full.
 * Each of the @p n_workers workers gets limit_rate / n_workers of every
 * -m limit rule and a burst of ceil(limit_burst / n_workers), at least 1
 * (the box passes about the configured rate when traffic spreads over the
 * workers). Needs EAL (rte_zmalloc, the TSC frequency).
 * @return the state, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct rp_filter_worker *rp_filter_worker_create(const struct rp_ruleset *rs, unsigned n_workers);

/** Free a worker state; NULL is a no-op. */
void rp_filter_worker_free(struct rp_filter_worker *fw);

/**
 * The reference: evaluate @p chain for one packet rule by rule, as iptables
 * does (jumps, goto, return, policies). Updates counters, LOG and limit
 * state in @p fw unless @p fw is NULL (a dry run: nothing moves, and
 * -m limit counts as matching: revalidation asks whether the rules allow a
 * connection, not whether the rate allows this packet).
 * @param now_tsc time for -m limit
 */
void rp_filter_eval_linear(const struct rp_ruleset *rs, enum rp_chain_id chain,
			   const struct rp_filter_pkt *p, struct rp_filter_worker *fw,
			   uint64_t now_tsc, struct rp_filter_result *res);

/**
 * Does one rule's match (all of it, limit included when @p fw is given)
 * match? The -m limit token is taken last, only when every other match of
 * the rule matched; without @p fw the limit counts as matching.
 */
int rp_filter_rule_matches(const struct rp_rule *r, const struct rp_filter_pkt *p,
			   struct rp_filter_worker *fw, uint64_t now_tsc);

/* ---- compiled form ---------------------------------------------------------- */

/**
 * Compile every built-in chain of @p rs (rte_acl contexts named after
 * @p name_prefix, which must be unique among live rulesets).
 * @return 0 or -errno (message in @p err).
 */
int rp_ruleset_compile(struct rp_ruleset *rs, const char *name_prefix, FILE *err);

/** Free one compiled chain (rte_acl contexts included); NULL is a no-op. rp_ruleset_free calls it. */
void rp_filter_prog_free(struct rp_filter_prog *prog);

/**
 * Classify a burst in one chain with the compiled form: same results as
 * rp_filter_eval_linear on each packet, in bulk (verdicts, rules, counters,
 * LOG calls and -m limit tokens, each bucket drawn in packet order; the LOG
 * calls of different packets may interleave differently). fw->log receives
 * pointers into @p pkts. @p fw NULL: a dry run. A chain not compiled is
 * evaluated with rp_filter_eval_linear.
 */
void rp_filter_classify(const struct rp_ruleset *rs, enum rp_chain_id chain,
			const struct rp_filter_pkt *pkts, unsigned n, struct rp_filter_worker *fw,
			uint64_t now_tsc, struct rp_filter_result *res);

/** Statistics of a compiled chain (for docs, tests and the benchmark). */
struct rp_filter_prog_info {
	unsigned flat_rules;  /**< rules after inlining user chains */
	unsigned acl_rules;   /**< rte_acl rules after expansion */
	unsigned segments;    /**< ACL contexts */
	unsigned barriers;    /**< rules evaluated linearly */
	size_t mem;           /**< bytes of the ACL contexts */
};
void rp_filter_prog_info(const struct rp_ruleset *rs, enum rp_chain_id chain,
			 struct rp_filter_prog_info *info);

/* ---- listing ---------------------------------------------------------------- */

#define RP_PRINT_SAVE 1  /**< iptables-save -c format */
#define RP_PRINT_EXACT 2 /**< -L with exact counters (as -x), not 12K/3M */

/**
 * Print @p rs as `iptables -L -v -n` (with the counters summed over
 * @p workers, which may be NULL: zeros), or as `iptables-save -c` when
 * @p save has RP_PRINT_SAVE (1).
 */
void rp_ruleset_print(const struct rp_ruleset *rs, struct rp_filter_worker *const *workers,
		      unsigned n_workers, int save, FILE *out);

/** Print one rule in iptables-save syntax (without counters and -A CHAIN). */
void rp_rule_print(const struct rp_ruleset *rs, const struct rp_rule *r, FILE *out);

/**
 * A target's name: "ACCEPT", "DROP", "REJECT", "LOG", "RETURN"; "JUMP" and
 * "GOTO" for jumps (whose listing shows the chain's name); "" for none.
 */
const char *rp_target_name(uint8_t target);

#endif /* RAMPART_FILTER_H */
