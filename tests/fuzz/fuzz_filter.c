/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/filter's parser and listing. The input is rule
 * strings, one per line, as the config's filter.rules gives them; an input
 * that begins like an iptables-save file ('*', '#' or ':') is read as one
 * (filter.rules_file). Whatever parses must list, save, and parse back from
 * its save output into a ruleset that saves to the same text; whatever does
 * not parse must say so with at least one error. Never a crash or a leak.
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampart_filter.h"

#define MAX_LINES 512

static char rules_path[] = "/tmp/rp-fuzz-filter-XXXXXX";
static int rules_fd = -1;
static FILE *devnull;

static const struct rp_filter_ports ports = {.name = {"lan0", "lan1", "wan0"}, .n = 3};

static void
remove_rules(void)
{
	unlink(rules_path);
}

/* One temp file for the whole run, rewritten by every input. */
static void
setup(void)
{
	if (devnull != NULL)
		return;
	rules_fd = mkstemp(rules_path);
	devnull = fopen("/dev/null", "w");
	if (rules_fd < 0 || devnull == NULL)
		abort();
	atexit(remove_rules);
}

static void
write_rules(const void *data, size_t size)
{
	if (ftruncate(rules_fd, 0) < 0 || pwrite(rules_fd, data, size, 0) != (ssize_t)size)
		abort();
}

static char *
save_text(const struct rp_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		abort();
	rp_ruleset_print(rs, NULL, 0, RP_PRINT_SAVE, f);
	fclose(f);
	return buf;
}

/* What the rest of lib/filter relies on. */
static void
check_invariants(const struct rp_ruleset *rs)
{
	unsigned id = 0;

	if (rs->n_chains < RP_CHAIN_BUILTIN_MAX)
		abort();
	for (unsigned c = 0; c < rs->n_chains; c++) {
		const struct rp_chain *ch = &rs->chains[c];
		if ((c < RP_CHAIN_BUILTIN_MAX) != (ch->builtin != 0))
			abort();
		if (ch->builtin && ch->policy != RP_T_ACCEPT && ch->policy != RP_T_DROP)
			abort();
		if (rp_ruleset_chain(rs, ch->name) != (int)c)
			abort();
		for (unsigned i = 0; i < ch->n_rules; i++) {
			const struct rp_rule *r = &ch->rules[i];
			bool jumps = r->target == RP_T_JUMP || r->target == RP_T_GOTO;
			if (r->id != id++ || r->text == NULL || r->file == NULL)
				abort();
			if (jumps != (r->jump >= 0))
				abort();
			if (jumps && (r->jump < RP_CHAIN_BUILTIN_MAX || (unsigned)r->jump >= rs->n_chains ||
				      (unsigned)r->jump == c))
				abort();
			if (r->m.n_mport > RP_FILTER_MULTIPORT_MAX || r->m.negated & ~r->m.present)
				abort();
		}
	}
	if (id != rs->n_rules)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_filter_source src = {.file = "fuzz.conf"};
	const char *lines[MAX_LINES];
	int line_no[MAX_LINES];
	struct rp_ruleset *rs, *again;
	char *text, *save1, *save2;
	int n_errors = 0;
	unsigned n = 0;

	setup();
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (size > 0 && (data[0] == '*' || data[0] == '#' || data[0] == ':')) {
		write_rules(data, size);
		src.rules_file = rules_path;
	} else {
		/* a NUL inside a line ends that rule string, as it would in the config */
		for (char *p = text; n < MAX_LINES; n++) {
			char *nl = memchr(p, '\n', (size_t)(text + size - p));
			lines[n] = p;
			line_no[n] = (int)n + 1;
			if (nl == NULL) {
				n++;
				break;
			}
			*nl = '\0';
			p = nl + 1;
		}
		src.rules = lines;
		src.rule_lines = line_no;
		src.n_rules = n;
	}

	rs = rp_ruleset_parse(&src, &ports, devnull, &n_errors);
	if (rs == NULL) {
		if (n_errors <= 0)
			abort();
		free(text);
		return 0;
	}
	if (n_errors != 0)
		abort();
	check_invariants(rs);
	rp_ruleset_print(rs, NULL, 0, 0, devnull);
	rp_ruleset_print(rs, NULL, 0, RP_PRINT_EXACT, devnull);

	/* the save output reads back and saves the same */
	save1 = save_text(rs);
	write_rules(save1, strlen(save1));
	src = (struct rp_filter_source){.file = "fuzz.conf", .rules_file = rules_path};
	again = rp_ruleset_parse(&src, &ports, stderr, &n_errors);
	if (again == NULL) {
		fprintf(stderr, "the save output does not parse back:\n%s", save1);
		abort();
	}
	check_invariants(again);
	save2 = save_text(again);
	if (strcmp(save1, save2) != 0) {
		fprintf(stderr, "saved twice, two texts:\n%s---\n%s", save1, save2);
		abort();
	}
	free(save1);
	free(save2);
	rp_ruleset_free(again);
	rp_ruleset_free(rs);
	free(text);
	return 0;
}
