/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Filter benchmark, one core, no I/O:
 *
 *  - classification cycles per packet with 10, 100, 1k and 10k random rules
 *    in FORWARD (5-tuple style: protocol, source prefixes /16../32 in
 *    10/8, destination prefixes /24../32 in 198.18/15, destination port or
 *    range, sometimes an input port; ACCEPT, DROP or REJECT; policy DROP),
 *    compiled (rp_filter_classify, bursts of 32)
 *    against the linear reference (rp_filter_eval_linear per packet); half
 *    the packets are aimed at a random rule's values, half come from
 *    addresses no rule names (they reach the policy);
 *  - compile time of each ruleset (rp_ruleset_compile), its rte_acl rules,
 *    contexts and memory;
 *  - an established flow: the same rulesets behind a first rule
 *    "-m state --state ESTABLISHED,RELATED -j ACCEPT", every packet
 *    ESTABLISHED, with 10 and 10k rules.
 *
 *   bench_filter [--smoke] [--packets N] [--no-huge] [--json]
 *
 * --smoke (for CI): 100k packets, rulesets of at most 1k rules (10k take
 * seconds to build); --json: JSON lines only. Default: 10M packets (the
 * reference fewer: its cost grows with the rules). Counters are on (a worker state), as in the datapath. Prints a table
 * and JSON lines; asserts no timing, only that the compiled and the linear
 * verdicts agree on every packet measured.
 */
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "rampart_conntrack.h"
#include "rampart_filter.h"

#define BURST 32
#define N_PKTS 4096 /* packets generated once per ruleset, replayed */
#define TCP 6
#define UDP 17
#define MB (1024.0 * 1024.0)

static int json_only;
static uint64_t rng = 0x243f6a8885a308d3ull;

static void
die(const char *what)
{
	fprintf(stderr, "bench_filter: %s\n", what);
	exit(1);
}

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static unsigned
below(unsigned n)
{
	return rnd() % n;
}

/* ---- rulesets ----------------------------------------------------------------- */

static struct rp_ruleset *
ruleset_new(void)
{
	static const char *names[RP_CHAIN_BUILTIN_MAX] = {"INPUT", "FORWARD", "OUTPUT"};
	struct rp_ruleset *rs = calloc(1, sizeof(*rs));
	if (rs == NULL || (rs->chains = calloc(RP_CHAIN_BUILTIN_MAX, sizeof(*rs->chains))) == NULL)
		die("out of memory");
	rs->n_chains = RP_CHAIN_BUILTIN_MAX;
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
		snprintf(rs->chains[c].name, sizeof(rs->chains[c].name), "%s", names[c]);
		rs->chains[c].builtin = 1;
		rs->chains[c].policy = RP_T_ACCEPT;
	}
	rs->chains[RP_CHAIN_FORWARD].policy = RP_T_DROP;
	return rs;
}

static struct rp_rule *
rule_add(struct rp_ruleset *rs, uint8_t target)
{
	struct rp_chain *ch = &rs->chains[RP_CHAIN_FORWARD];
	if (ch->n_rules == ch->cap_rules) {
		ch->cap_rules = ch->cap_rules ? ch->cap_rules * 2 : 64;
		ch->rules = realloc(ch->rules, ch->cap_rules * sizeof(*ch->rules));
		if (ch->rules == NULL)
			die("out of memory");
	}
	struct rp_rule *r = &ch->rules[ch->n_rules++];
	memset(r, 0, sizeof(*r));
	r->target = target;
	r->jump = -1;
	r->id = rs->n_rules++;
	return r;
}

static uint32_t
prefix_mask(unsigned len)
{
	return len ? ~0u << (32 - len) : 0;
}

static void
random_rule(struct rp_ruleset *rs)
{
	static const uint8_t targets[10] = {RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT, RP_T_ACCEPT,
					    RP_T_ACCEPT, RP_T_DROP,   RP_T_DROP,   RP_T_DROP,
					    RP_T_DROP,   RP_T_REJECT};
	static const unsigned src_lens[4] = {16, 24, 24, 32};
	static const unsigned dst_lens[4] = {24, 32, 32, 32};
	struct rp_rule *r = rule_add(rs, targets[below(10)]);
	struct rp_match *m = &r->m;
	unsigned p = below(10);
	if (p < 9) {
		m->present |= RP_M_PROTO;
		m->proto = p < 5 ? TCP : UDP;
	}
	if (below(5) < 3) {
		m->present |= RP_M_SRC;
		m->src_mask = prefix_mask(src_lens[below(4)]);
		m->src = (0x0a000000u | (rnd() & 0x00ffffffu)) & m->src_mask;
	}
	/* every rule names an address: a rule for all TCP would end the chain for most packets */
	if (below(5) < 4 || !(m->present & RP_M_SRC)) {
		m->present |= RP_M_DST;
		m->dst_mask = prefix_mask(dst_lens[below(4)]);
		m->dst = (0xc6120000u | (rnd() & 0x0001ffffu)) & m->dst_mask;
	}
	if (p < 9 && below(5) < 4) {
		m->present |= RP_M_DPORT;
		m->dport.lo = (uint16_t)(1 + below(65535));
		m->dport.hi = below(4) ? m->dport.lo
				       : (uint16_t)RTE_MIN(65535u, m->dport.lo + below(1024));
	}
	if (below(10) == 0) {
		m->present |= RP_M_IN;
		m->in_ports = (uint16_t)(1u << below(4));
	}
}

static struct rp_ruleset *
random_ruleset(unsigned n, int established_first)
{
	struct rp_ruleset *rs = ruleset_new();
	if (established_first) {
		struct rp_rule *r = rule_add(rs, RP_T_ACCEPT);
		r->m.present = RP_M_STATE;
		r->m.states = RP_STATE_BIT(RP_CT_ESTABLISHED) | RP_STATE_BIT(RP_CT_RELATED);
		n--;
	}
	for (unsigned i = 0; i < n; i++)
		random_rule(rs);
	return rs;
}

static void
ruleset_free(struct rp_ruleset *rs)
{
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++)
		rp_filter_prog_free(rs->prog[c]);
	for (unsigned c = 0; c < rs->n_chains; c++)
		free(rs->chains[c].rules);
	free(rs->chains);
	free(rs);
}

/* ---- packets ------------------------------------------------------------------ */

static void
random_packets(const struct rp_ruleset *rs, struct rp_filter_pkt *pkts, uint8_t state)
{
	const struct rp_chain *ch = &rs->chains[RP_CHAIN_FORWARD];
	for (unsigned i = 0; i < N_PKTS; i++) {
		struct rp_filter_pkt *p = &pkts[i];
		memset(p, 0, sizeof(*p));
		/* unaimed packets come from 172.16/12 to 203.0.113/24, which no rule names:
		 * they go through every rule to the policy, the reference's worst case */
		p->proto = below(2) ? TCP : UDP;
		p->src = 0xac100000u | (rnd() & 0x000fffffu);
		p->dst = 0xcb007100u | (rnd() & 0xffu);
		p->sport = (uint16_t)(1024 + below(60000));
		p->dport = (uint16_t)(1 + below(65535));
		p->tcp_flags = p->proto == TCP ? 0x10 : 0;
		p->state = state;
		p->in_port = (uint8_t)below(4);
		p->out_port = (uint8_t)below(4);
		p->len = 64 + below(1400);
		if (below(2) && ch->n_rules > 0) {
			const struct rp_match *m = &ch->rules[below(ch->n_rules)].m;
			if ((m->present & RP_M_PROTO) && m->proto)
				p->proto = m->proto;
			if (m->present & RP_M_SRC)
				p->src = m->src | (rnd() & ~m->src_mask);
			if (m->present & RP_M_DST)
				p->dst = m->dst | (rnd() & ~m->dst_mask);
			if (m->present & RP_M_DPORT)
				p->dport = (uint16_t)(m->dport.lo + below(m->dport.hi - m->dport.lo + 1u));
			if (m->present & RP_M_IN)
				p->in_port = (uint8_t)__builtin_ctz(m->in_ports);
		}
	}
}

/* ---- measuring ------------------------------------------------------------------ */

static double
cycles_acl(const struct rp_ruleset *rs, const struct rp_filter_pkt *pkts, uint64_t n_pkts,
	   struct rp_filter_worker *fw)
{
	struct rp_filter_result res[BURST];
	uint64_t now = rte_rdtsc();
	n_pkts = RTE_ALIGN_CEIL(n_pkts, BURST);
	uint64_t t0 = rte_rdtsc_precise();
	for (uint64_t done = 0; done < n_pkts; done += BURST)
		rp_filter_classify(rs, RP_CHAIN_FORWARD, &pkts[done % N_PKTS], BURST, fw, now, res);
	uint64_t t1 = rte_rdtsc_precise();
	return (double)(t1 - t0) / (double)n_pkts;
}

static double
cycles_linear(const struct rp_ruleset *rs, const struct rp_filter_pkt *pkts, uint64_t n_pkts,
	      struct rp_filter_worker *fw)
{
	struct rp_filter_result res;
	uint64_t now = rte_rdtsc();
	uint64_t t0 = rte_rdtsc_precise();
	for (uint64_t i = 0; i < n_pkts; i++)
		rp_filter_eval_linear(rs, RP_CHAIN_FORWARD, &pkts[i % N_PKTS], fw, now, &res);
	uint64_t t1 = rte_rdtsc_precise();
	return (double)(t1 - t0) / (double)n_pkts;
}

/* The compiled and the linear verdicts agree on every generated packet. */
static void
check_agree(const struct rp_ruleset *rs, const struct rp_filter_pkt *pkts)
{
	struct rp_filter_result a[BURST], b;
	for (unsigned i = 0; i < N_PKTS; i += BURST) {
		rp_filter_classify(rs, RP_CHAIN_FORWARD, &pkts[i], BURST, NULL, 0, a);
		for (unsigned j = 0; j < BURST; j++) {
			rp_filter_eval_linear(rs, RP_CHAIN_FORWARD, &pkts[i + j], NULL, 0, &b);
			if (a[j].rule != b.rule || a[j].verdict != b.verdict)
				die("compiled and linear verdicts differ");
		}
	}
}

static struct rp_ruleset *
compiled(unsigned n_rules, int established_first, double *compile_ms)
{
	static unsigned seq;
	char prefix[16];
	struct rp_ruleset *rs = random_ruleset(n_rules, established_first);
	snprintf(prefix, sizeof(prefix), "bf%u", seq++);
	uint64_t t0 = rte_rdtsc_precise();
	int rc = rp_ruleset_compile(rs, prefix, stderr);
	uint64_t t1 = rte_rdtsc_precise();
	if (rc != 0) {
		fprintf(stderr, "bench_filter: compiling %u rules: %s\n", n_rules, strerror(-rc));
		exit(1);
	}
	*compile_ms = (double)(t1 - t0) * 1e3 / (double)rte_get_tsc_hz();
	return rs;
}

static uint64_t
free_hugepage_bytes(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	unsigned long long n = 0;
	if (f != NULL) {
		if (fscanf(f, "%llu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n * (2ull << 20);
}

int
main(int argc, char **argv)
{
	static const unsigned full_sizes[] = {10, 100, 1000, 10000};
	static const unsigned full_est_sizes[] = {10, 10000};
	static const unsigned smoke_sizes[] = {10, 100, 1000};
	static const unsigned smoke_est_sizes[] = {10, 1000};
	static struct rp_filter_pkt pkts[N_PKTS];
	uint64_t packets = 0;
	int smoke = 0, no_huge = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0)
			smoke = 1;
		else if (strcmp(argv[i], "--no-huge") == 0)
			no_huge = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json_only = 1;
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 10);
		else
			die("usage: bench_filter [--smoke] [--packets N] [--no-huge] [--json]");
	}
	if (packets == 0)
		packets = smoke ? 100 * 1000 : 10 * 1000 * 1000;
	if (packets < BURST)
		packets = BURST;
	const unsigned *sizes = smoke ? smoke_sizes : full_sizes;
	unsigned n_sizes = smoke ? RTE_DIM(smoke_sizes) : RTE_DIM(full_sizes);
	const unsigned *est_sizes = smoke ? smoke_est_sizes : full_est_sizes;
	unsigned n_est = smoke ? RTE_DIM(smoke_est_sizes) : RTE_DIM(full_est_sizes);

	/* rte_acl's tries for 10k rules take tens of MB; hugepages when there are enough */
	int use_huge = !no_huge && free_hugepage_bytes() >= (512ull << 20);
	char *eal_huge[] = {argv[0], "--in-memory", "--file-prefix=rp-bench-filter", "--no-pci", "--no-telemetry", "-l", "0",
			    "--log-level=lib.eal:error", NULL};
	char *eal_nohuge[] = {argv[0], "--no-huge", "-m", "1024", "--no-pci", "--no-telemetry",
			      "-l", "0", "--file-prefix=rp-bench-filter", "--no-shconf",
			      "--log-level=lib.eal:error", NULL};
	char **eal = use_huge ? eal_huge : eal_nohuge;
	int eal_argc = use_huge ? (int)RTE_DIM(eal_huge) - 1 : (int)RTE_DIM(eal_nohuge) - 1;
	if (rte_eal_init(eal_argc, eal) < 0)
		die("EAL init failed");

	if (!json_only) {
		printf("filter, one core, FORWARD, bursts of %d, TSC %.2f GHz, memory: %s\n", BURST,
		       rte_get_tsc_hz() / 1e9, use_huge ? "hugepages" : "4 KB pages (--no-huge)");
		printf("\nclassification of random rules (half the packets aimed at a rule)\n");
		printf("%7s %10s %10s %8s %9s %12s %12s %10s\n", "rules", "acl rules", "contexts",
		       "mem MB", "compile", "acl cyc/pkt", "lin cyc/pkt", "speedup");
	}
	for (unsigned s = 0; s < n_sizes; s++) {
		double compile_ms;
		struct rp_ruleset *rs = compiled(sizes[s], 0, &compile_ms);
		struct rp_filter_prog_info info;
		rp_filter_prog_info(rs, RP_CHAIN_FORWARD, &info);
		random_packets(rs, pkts, RP_CT_NEW);
		check_agree(rs, pkts);
		struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
		if (fw == NULL)
			die("rp_filter_worker_create failed");
		/* the reference costs ~rules x a few ns a packet: fewer packets for it */
		uint64_t lin_pkts = RTE_MAX((uint64_t)N_PKTS,
					    RTE_MIN(packets, (smoke ? 20000000ull : 2000000000ull) /
								     sizes[s]));
		cycles_acl(rs, pkts, N_PKTS, fw); /* warm up */
		double acl = cycles_acl(rs, pkts, packets, fw);
		double lin = cycles_linear(rs, pkts, lin_pkts, fw);
		if (!json_only)
			printf("%7u %10u %10u %8.1f %7.1fms %12.1f %12.1f %9.1fx\n", sizes[s],
			       info.acl_rules, info.segments, (double)info.mem / MB, compile_ms, acl,
			       lin, lin / acl);
		printf("{\"bench\": \"filter_classify\", \"rules\": %u, \"acl_rules\": %u, "
		       "\"contexts\": %u, \"linear_entries\": %u, \"mem_bytes\": %zu, "
		       "\"compile_ms\": %.2f, \"packets\": %" PRIu64 ", \"acl_cycles_per_pkt\": %.1f, "
		       "\"linear_packets\": %" PRIu64 ", \"linear_cycles_per_pkt\": %.1f}\n",
		       sizes[s], info.acl_rules, info.segments, info.barriers, info.mem, compile_ms,
		       packets, acl, lin_pkts, lin);
		rp_filter_worker_free(fw);
		ruleset_free(rs);
	}

	if (!json_only) {
		printf("\nestablished flow: first rule -m state --state ESTABLISHED,RELATED -j ACCEPT\n");
		printf("%7s %12s %12s\n", "rules", "acl cyc/pkt", "lin cyc/pkt");
	}
	for (unsigned s = 0; s < n_est; s++) {
		double compile_ms;
		struct rp_ruleset *rs = compiled(est_sizes[s], 1, &compile_ms);
		random_packets(rs, pkts, RP_CT_ESTABLISHED);
		check_agree(rs, pkts);
		struct rp_filter_worker *fw = rp_filter_worker_create(rs, 1);
		if (fw == NULL)
			die("rp_filter_worker_create failed");
		cycles_acl(rs, pkts, N_PKTS, fw);
		double acl = cycles_acl(rs, pkts, packets, fw);
		double lin = cycles_linear(rs, pkts, packets, fw);
		if (fw->pkts[0] == 0)
			die("the ESTABLISHED rule matched nothing");
		if (!json_only)
			printf("%7u %12.1f %12.1f\n", est_sizes[s], acl, lin);
		printf("{\"bench\": \"filter_established\", \"rules\": %u, \"packets\": %" PRIu64
		       ", \"acl_cycles_per_pkt\": %.1f, \"linear_cycles_per_pkt\": %.1f}\n",
		       est_sizes[s], packets, acl, lin);
		rp_filter_worker_free(fw);
		ruleset_free(rs);
	}
	rte_eal_cleanup();
	rmdir("/var/run/dpdk/rp-bench-filter"); /* the runtime directory EAL made, empty */
	return 0;
}
