/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/config: any bytes, written as a config file, must load
 * or be rejected with messages, never crash or leak; a config that loads
 * must hold the invariants the daemon relies on.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampart_config.h"

static char conf_path[] = "/tmp/rp-fuzz-config-XXXXXX";
static int conf_fd = -1;
static FILE *devnull;

static void
remove_conf(void)
{
	unlink(conf_path);
}

/* One temp file for the whole run, rewritten by every input. */
static int
setup(void)
{
	int fd;

	if (devnull != NULL)
		return 0;
	fd = mkstemp(conf_path);
	if (fd < 0)
		return -1;
	conf_fd = fd;
	atexit(remove_conf);
	devnull = fopen("/dev/null", "w");
	return devnull != NULL ? 0 : -1;
}

static void
check_invariants(const struct rp_config *cfg)
{
	if (cfg->n_ports < 1 || cfg->n_ports > RP_MAX_PORTS)
		abort();
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		const struct rp_port_conf *p = &cfg->ports[i];
		if (p->name[0] == '\0' || p->n_addrs < 1 || p->n_addrs > RP_PORT_ADDRS_MAX ||
		    rp_config_port_index(cfg, p->name) != (int)i)
			abort();
	}
	for (unsigned i = 0; i < cfg->n_routes; i++) {
		const struct rp_route_conf *r = &cfg->routes[i];
		if (r->port < 0 || (unsigned)r->port >= cfg->n_ports || r->to.len > 32 ||
		    (r->to.addr & ~rp_prefix_mask(r->to.len)) != 0)
			abort();
	}
	for (unsigned i = 0; i < cfg->n_neighbours; i++)
		if (cfg->neighbours[i].port < 0 ||
		    (unsigned)cfg->neighbours[i].port >= cfg->n_ports)
			abort();
	if (cfg->workers.n_lcores < 1 || cfg->workers.n_lcores > RP_MAX_WORKERS)
		abort();
	for (unsigned i = 0; i < cfg->n_eal_args; i++)
		if (cfg->eal_args[i] == NULL)
			abort();
}

/*
 * libconfig 1.5's scanner loses what it allocated for a token (a string's
 * buffer, a setting's name) when a syntax error follows it; config_destroy
 * cannot free it. The leak is in the library, not in Rampart. LeakSanitizer
 * reads this hook when the build has it; otherwise it is unused.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\n"
	       "leak:strbuf_append\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_config cfg;

	if (setup() < 0)
		abort();
	/* "@include" could name any file, even /dev/zero: not this target's business */
	if (memmem(data, size, "include", 7) != NULL)
		return 0;
	if (ftruncate(conf_fd, 0) < 0 || pwrite(conf_fd, data, size, 0) != (ssize_t)size)
		abort();
	if (rp_config_load(conf_path, &cfg, devnull) == 0) {
		check_invariants(&cfg);
		rp_config_free(&cfg);
	}
	return 0;
}
