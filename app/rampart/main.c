/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart: the daemon. The main lcore is the control thread: it loads the
 * config, brings up EAL, ports, tables and workers, then serves ARP, timers,
 * telemetry and the control socket until SIGINT/SIGTERM.
 *
 *   rampart [EAL options] -- -c FILE       (DPDK convention)
 *   rampart -c FILE [--check]              (EAL options from the config)
 *
 * Exit codes (docs/operations.md): 0 clean stop or good --check, 1 invalid
 * configuration, 2 bad command line, 3 EAL or lcore failure, 4 port, memory
 * or table setup failure.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "host.h"
#include "port.h"
#include "rampart_config.h"
#include "rampart_ctl.h"
#include "rampart_datapath.h"
#include "rampart_route.h"

enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,
	EXIT_USAGE = 2,
	EXIT_EAL = 3,
	EXIT_SETUP = 4,
};

#define LOG(level, ...) RTE_LOG(level, USER1, __VA_ARGS__)
#define MAX_EAL_ARGS 256
#define MEMPOOL_CACHE 256
#define MiB (1024.0 * 1024.0)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [EAL options] -- -c FILE [--check]\n"
		"       %s -c FILE [--check]          (EAL options from the config's `eal` list)\n"
		"\n"
		"  -c, --config FILE  configuration file (libconfig; see docs/configuration.md)\n"
		"  -t, --check        validate the configuration, print every error, exit 0 or 1\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         this help\n"
		"\n"
		"EAL options on the command line replace the config's `eal` list as a whole.\n"
		"Devices come from the ports' `device` strings (vdevs are added as --vdev, PCI\n"
		"addresses as -a). Without hugepages the daemon falls back to --no-huge -m N.\n"
		"Exit codes: 0 ok, 1 bad configuration, 2 bad command line, 3 EAL or lcore\n"
		"failure, 4 port/memory/table setup failure.\n",
		prog, prog);
}

struct app_args {
	const char *config;
	int check;
	char **eal; /* EAL options given on the command line (without argv[0]) */
	int n_eal;
	int has_sep;
};

static int
parse_args(int argc, char **argv, struct app_args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 't'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int base = 0, opt; /* getopt sees argv[base..], argv[base] standing as the program name */

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			a->has_sep = 1;
			a->eal = &argv[1];
			a->n_eal = i - 1;
			base = i;
			break;
		}
	optind = 1;
	while ((opt = getopt_long(argc - base, argv + base, "c:tVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': a->config = optarg; break;
		case 't': a->check = 1; break;
		case 'V': printf("rampart %s (DPDK %s)\n", RAMPART_VERSION, rte_version()); exit(EXIT_OK);
		case 'h': usage(stdout, argv[0]); exit(EXIT_OK);
		default: usage(stderr, argv[0]); return -1;
		}
	}
	if (optind < argc - base) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", argv[0], argv[base + optind]);
		usage(stderr, argv[0]);
		return -1;
	}
	if (a->config == NULL) {
		fprintf(stderr, "%s: no configuration file: give -c FILE\n", argv[0]);
		usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

static int
has_opt(char **args, int n, const char *const *names)
{
	for (int i = 0; i < n; i++)
		for (const char *const *nm = names; *nm; nm++) {
			size_t l = strlen(*nm);
			if (strncmp(args[i], *nm, l) == 0 && (args[i][l] == '\0' || args[i][l] == '=' ||
							       (*nm)[1] != '-'))
				return 1;
		}
	return 0;
}

/* Room for every route the config implies: local, connected, broadcast per address. */
static unsigned
fib_max_routes(const struct rp_config *cfg)
{
	return cfg->n_routes + cfg->n_ports * RP_PORT_ADDRS_MAX * 3 + 16;
}

/* Memory the config needs from EAL, and the mbuf count behind it. */
struct mem_need {
	unsigned mbufs;
	uint32_t mbuf_size; /* data room */
	size_t pool_bytes, fib_bytes, neigh_bytes, ct_bytes, total;
};

static void
compute_need(const struct rp_config *cfg, struct mem_need *m)
{
	unsigned w = cfg->workers.n_lcores, n = 0;
	uint16_t max_mtu = 0;

	for (unsigned p = 0; p < cfg->n_ports; p++) {
		n += w * (cfg->ports[p].rx_desc + cfg->ports[p].tx_desc);
		max_mtu = RTE_MAX(max_mtu, cfg->ports[p].mtu);
	}
	if (cfg->host.present) { /* the host interface's port: 1024 descriptors each way */
		n += w * 2048;
		max_mtu = RTE_MAX(max_mtu, cfg->host.mtu);
	}
	n += w * (cfg->n_ports * RP_TXQ_SIZE + RP_BURST_MAX + MEMPOOL_CACHE); /* in flight, caches */
	n += RP_RING_SIZE * (w + 1);                                          /* rings full */
	n += 2048;                                                             /* held, built */
	n += w * RTE_MIN(cfg->conntrack.frag.max_datagrams * 2, 8192u);       /* fragments held */
	unsigned pow = 1;
	while (pow - 1 < n)
		pow <<= 1;
	m->mbufs = pow - 1; /* a mempool is most compact at 2^k - 1 */
	m->mbuf_size = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
			       (uint32_t)(max_mtu + RTE_ETHER_HDR_LEN + RTE_PKTMBUF_HEADROOM + 64));
	m->pool_bytes = (size_t)m->mbufs * (sizeof(struct rte_mbuf) + RP_MBUF_PRIV_SIZE + m->mbuf_size + 64);
	m->fib_bytes = rp_fib_mem_size(fib_max_routes(cfg));
	m->neigh_bytes = rp_neigh_mem_size(cfg->neigh.max, w);
	m->ct_bytes = w * (rp_ct_mem_size(rp_config_ct_worker_max(cfg)) +
			   (cfg->conntrack.helpers ? rp_ct_helper_mem_size(rp_config_ct_worker_max(cfg)) : 0));
	m->total = m->pool_bytes + m->fib_bytes + m->neigh_bytes + m->ct_bytes +
		   (8u << 20) /* rings, workers, reassembly tables, misc */;
}

static int
build_eal_args(const struct app_args *a, const struct rp_config *cfg, const struct mem_need *need,
	       const char *prog, char **out, char *bufs, size_t buf_size)
{
	static const char *const lcore_opts[] = {"-l", "-c", "--lcores", NULL};
	static const char *const prefix_opts[] = {"--file-prefix", NULL};
	static const char *const mem_opts[] = {"--no-huge", "-m", "--socket-mem", NULL};
	static const char *const pci_opts[] = {"-a", "--allow", "-b", "--block", "--no-pci", NULL};
	char **src = a->n_eal ? a->eal : cfg->eal_args;
	int n_src = a->n_eal ? a->n_eal : (int)cfg->n_eal_args;
	int n = 0, any_pci = 0;
	size_t used = 0;

#define ADD(s) do { if (n >= MAX_EAL_ARGS - 1) return -1; out[n++] = (s); } while (0)
#define ADDF(...) do {                                                                 \
		int l_ = snprintf(bufs + used, buf_size - used, __VA_ARGS__);          \
		if (l_ < 0 || (size_t)l_ >= buf_size - used) return -1;                \
		ADD(bufs + used);                                                      \
		used += (size_t)l_ + 1;                                                \
	} while (0)

	ADD((char *)prog);
	for (int i = 0; i < n_src; i++)
		ADD(src[i]);
	if (!has_opt(src, n_src, lcore_opts)) {
		char list[512] = "0";
		for (unsigned i = 0; i < cfg->workers.n_lcores; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), ",%u",
				 cfg->workers.lcores[i]);
		ADD("-l");
		ADDF("%s", list);
	}
	if (!has_opt(src, n_src, prefix_opts))
		ADD("--file-prefix=rampart");
	if (!has_opt(src, n_src, mem_opts)) {
		/* use hugepages when enough are free, otherwise ordinary memory */
		unsigned long free_pages = 0;
		FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
		if (f) {
			if (fscanf(f, "%lu", &free_pages) != 1)
				free_pages = 0;
			fclose(f);
		}
		if (free_pages * 2 * 1024 * 1024 < need->total) {
			ADD("--no-huge");
			ADD("-m");
			ADDF("%zu", need->total / (1024 * 1024) + 64);
		}
	}
	if (cfg->host.present) {
		char host_dev[RP_DEVICE_MAX];
		rp_host_device(cfg, host_dev, sizeof(host_dev));
		ADDF("--vdev=%s", host_dev);
	}
	for (unsigned p = 0; p < cfg->n_ports; p++) {
		if (rp_port_is_pci(cfg->ports[p].device)) {
			any_pci = 1;
			ADD("-a");
			ADD((char *)cfg->ports[p].device);
		} else {
			ADDF("--vdev=%s", cfg->ports[p].device);
		}
	}
	/* never let EAL grab a NIC the config does not name */
	if (!any_pci && !has_opt(src, n_src, pci_opts))
		ADD("--no-pci");
	out[n] = NULL;
	return n;
#undef ADD
#undef ADDF
}

static int
lcore_usable(unsigned lcore)
{
	return lcore < RTE_MAX_LCORE && rte_lcore_is_enabled(lcore) && lcore != rte_get_main_lcore();
}

static uint64_t
now_ms(void)
{
	return rte_get_tsc_cycles() * 1000 / rte_get_tsc_hz();
}

static int
check_memory(const struct mem_need *need)
{
	struct rte_malloc_socket_stats st;
	size_t avail = 0;

	if (rte_eal_has_hugepages())
		return 0; /* dynamic memory: the heap grows while hugepages last */
	for (unsigned s = 0; s < rte_socket_count(); s++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			avail += st.heap_freesz_bytes;
	if (avail < need->total) {
		LOG(ERR, "the configuration needs %.0f MiB of DPDK memory but EAL has %.0f MiB free: "
			 "raise -m (e.g. -m %zu) or reserve hugepages\n",
		    need->total / MiB, avail / MiB, need->total / (1024 * 1024) + 64);
		return -1;
	}
	return 0;
}

static int
build_tables(struct rp_dp *dp, const struct rp_config *cfg, struct rp_neigh_ops *ops)
{
	int socket = (int)rte_socket_id();

	dp->fib = rp_fib_create("rp_fib", fib_max_routes(cfg), socket);
	if (dp->fib == NULL) {
		LOG(ERR, "cannot create the FIB: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned p = 0; p < cfg->n_ports; p++)
		for (unsigned a = 0; a < cfg->ports[p].n_addrs; a++)
			if (rp_fib_add_interface(dp->fib, cfg->ports[p].addrs[a].addr,
						 cfg->ports[p].addrs[a].len, (uint8_t)p) != 0) {
				LOG(ERR, "cannot add the routes of port %s\n", cfg->ports[p].name);
				return -1;
			}
	for (unsigned r = 0; r < cfg->n_routes; r++) {
		const struct rp_route_conf *rc = &cfg->routes[r];
		uint64_t nh = rp_nh_make(rc->via ? RP_RT_GATEWAY : RP_RT_DIRECT, (uint8_t)rc->port, rc->via);
		if (rp_fib_add(dp->fib, rc->to.addr, rc->to.len, nh, "static") != 0) {
			LOG(ERR, "%s:%d: cannot add route\n", cfg->path, rc->line);
			return -1;
		}
	}
	rp_slowpath_neigh_ops(dp, ops);
	dp->neigh = rp_neigh_create("rp_neigh", cfg->neigh.max, dp->n_workers, dp->qsv, socket, ops);
	if (dp->neigh == NULL) {
		LOG(ERR, "cannot create the neighbour table: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	rp_neigh_set_timing(dp->neigh, cfg->neigh.reachable_ms, cfg->neigh.retrans_ms,
			    cfg->neigh.probes, cfg->neigh.hold_packets, cfg->neigh.gc_stale_ms);
	for (unsigned i = 0; i < cfg->n_neighbours; i++) {
		const struct rp_neigh_conf *nc = &cfg->neighbours[i];
		struct rte_ether_addr mac;
		memcpy(mac.addr_bytes, nc->mac, 6);
		if (rp_neigh_add_static(dp->neigh, nc->addr, &mac, (uint8_t)nc->port) != 0) {
			LOG(ERR, "%s:%d: cannot add neighbour\n", cfg->path, nc->line);
			return -1;
		}
	}
	return 0;
}

/* ---- the filter: initial load and reload ------------------------------------- */

static uint64_t filter_generation;

/*
 * Parse and compile the config's filter section into a ruleset ready to
 * publish (NULL when the config has no filter section: accept everything).
 * @return 0, or -1 with every error written to @p err.
 */
static int
filter_build(struct rp_dp *dp, const struct rp_config *cfg, FILE *err, struct rp_filter_live **out)
{
	struct rp_filter_source src;
	struct rp_filter_ports ports = {.n = cfg->n_ports}; /* -i/-o name configured ports only */
	struct rp_filter_live *live;
	char prefix[32];
	int nerr = 0;

	*out = NULL;
	if (cfg->filter.line == 0)
		return 0;
	for (unsigned p = 0; p < cfg->n_ports; p++)
		ports.name[p] = dp->ports[p].name;
	rp_filter_source_from_config(cfg, &src);
	struct rp_ruleset *rs = rp_ruleset_parse(&src, &ports, err, &nerr);
	if (rs == NULL)
		return -1;
	/* rte_acl contexts need names unique among the live rulesets */
	snprintf(prefix, sizeof(prefix), "rp_g%lu", filter_generation + 1);
	if (rp_ruleset_compile(rs, prefix, err) != 0) {
		rp_ruleset_free(rs);
		return -1;
	}
	live = calloc(1, sizeof(*live));
	if (live == NULL) {
		rp_ruleset_free(rs);
		fprintf(err, "out of memory\n");
		return -1;
	}
	live->rs = rs;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		live->fw[i] = rp_filter_worker_create(rs, dp->n_workers);
		if (live->fw[i] == NULL) {
			rp_filter_live_free(live);
			fprintf(err, "out of memory\n");
			return -1;
		}
	}
	live->generation = rs->generation = ++filter_generation;
	*out = live;
	return 0;
}

/* Parse the filter section without compiling it (no EAL needed): for --check
 * and before anything starts. @return the number of errors. */
static int
filter_validate(const struct rp_config *cfg, FILE *err)
{
	struct rp_filter_source src;
	struct rp_filter_ports ports = {.n = cfg->n_ports};
	int nerr = 0;

	if (cfg->filter.line == 0)
		return 0;
	for (unsigned p = 0; p < cfg->n_ports; p++)
		ports.name[p] = cfg->ports[p].name;
	rp_filter_source_from_config(cfg, &src);
	struct rp_ruleset *rs = rp_ruleset_parse(&src, &ports, err, &nerr);
	if (rs == NULL)
		return nerr ? nerr : 1;
	rp_ruleset_free(rs);
	return 0;
}

struct reload_ctx {
	struct rp_dp *dp;
	const struct rp_config *running; /* the config the daemon started with */
};

/* Sections other than filter need a restart: say which changed. */
static void
report_restart_needed(const struct rp_config *a, const struct rp_config *b, FILE *out)
{
	int ports = a->n_ports != b->n_ports, routes = a->n_routes != b->n_routes;
	for (unsigned i = 0; !ports && i < a->n_ports; i++)
		ports = strcmp(a->ports[i].name, b->ports[i].name) || strcmp(a->ports[i].device, b->ports[i].device) ||
			a->ports[i].n_addrs != b->ports[i].n_addrs || a->ports[i].mtu != b->ports[i].mtu ||
			memcmp(a->ports[i].addrs, b->ports[i].addrs, sizeof(a->ports[i].addrs));
	for (unsigned i = 0; !routes && i < a->n_routes; i++)
		routes = a->routes[i].to.addr != b->routes[i].to.addr || a->routes[i].to.len != b->routes[i].to.len ||
			 a->routes[i].via != b->routes[i].via || a->routes[i].port != b->routes[i].port;
	const struct { const char *name; int changed; } sections[] = {
		{"ports", ports},
		{"routes", routes},
		{"neighbours", a->n_neighbours != b->n_neighbours},
		{"workers", a->workers.n_lcores != b->workers.n_lcores ||
				    memcmp(a->workers.lcores, b->workers.lcores, sizeof(a->workers.lcores)) ||
				    a->workers.burst != b->workers.burst ||
				    a->workers.idle_sleep_us != b->workers.idle_sleep_us},
		{"arp", memcmp(&a->neigh, &b->neigh, sizeof(a->neigh)) != 0},
		{"icmp", memcmp(&a->icmp, &b->icmp, sizeof(a->icmp)) != 0},
		{"conntrack", memcmp(&a->conntrack, &b->conntrack, sizeof(a->conntrack)) != 0},
		{"control", strcmp(a->control_socket, b->control_socket) != 0},
		{"host", memcmp(&a->host, &b->host, sizeof(a->host)) != 0},
	};
	for (size_t i = 0; i < RTE_DIM(sections); i++)
		if (sections[i].changed)
			fprintf(out, "note: %s changed in %s; restart rampart to apply it (only filter is reloaded)\n",
				sections[i].name, a->path);
}

/*
 * filter.revalidate: answer only once every worker has checked its
 * connections against the new ruleset (and removed those it refuses), so
 * that what `rampartctl reload` reports is in force for every connection.
 * The walk takes milliseconds for a few thousand connections; past
 * RP_REVAL_WAIT_MS the answer says so and the walk goes on (a connection not
 * yet walked is checked at its next packet anyway).
 */
static void
reval_wait(struct rp_dp *dp, const struct rp_filter_live *live, FILE *out)
{
	unsigned lagging = 0;

	if (live == NULL || !live->rs->revalidate)
		return;
	if (rp_dp_reval_wait(dp, live->generation, RP_REVAL_WAIT_MS, &lagging) == 0)
		return;
	fprintf(out, "note: worker %u is still revalidating its connections after %u ms; "
		"each is checked at its next packet until the walk ends\n", lagging, RP_REVAL_WAIT_MS);
	LOG(WARNING, "filter generation %lu: worker %u still revalidating after %u ms\n",
	    live->generation, lagging, RP_REVAL_WAIT_MS);
}

/*
 * rampartctl reload and SIGHUP: re-read the config file, build its filter
 * section on this (the control) thread, and publish it with one pointer
 * swap. On any error the running ruleset stays in force.
 */
static int
filter_reload(void *arg, FILE *out)
{
	struct reload_ctx *rc = arg;
	struct rp_config cfg;
	struct rp_filter_live *live;
	char *errs = NULL;
	size_t errs_len = 0;
	FILE *err = open_memstream(&errs, &errs_len);
	uint64_t running = rc->dp->filter ? rc->dp->filter->generation : 0;
	int ok;

	if (err == NULL)
		return -1;
	ok = rp_config_load(rc->running->path, &cfg, err) == 0;
	if (ok) {
		ok = filter_build(rc->dp, &cfg, err, &live) == 0;
		if (ok) {
			report_restart_needed(rc->running, &cfg, err);
			rp_dp_filter_publish(rc->dp, live);
			reval_wait(rc->dp, live, err);
		}
		rp_config_free(&cfg);
	}
	fclose(err);
	if (ok) {
		fprintf(out, "generation %lu\n", live ? live->generation : 0);
		fputs(errs, out);
		LOG(NOTICE, "filter reloaded: generation %lu\n", live ? live->generation : 0);
	} else {
		fprintf(out, "error: reload refused; the running ruleset (generation %lu) stays in force\n%s",
			running, errs);
		LOG(ERR, "filter reload refused; generation %lu stays in force:\n%s", running, errs);
	}
	free(errs);
	return ok ? 0 : -1;
}

static void
control_loop(struct rp_dp *dp, struct rp_ctl *ctl)
{
	uint64_t next_link = now_ms() + 1000;

	while (!stop_requested) {
		uint64_t now = now_ms();
		unsigned n;

		pthread_mutex_lock(&ctl->lock);
		n = rp_slowpath_poll(dp, now);
		pthread_mutex_unlock(&ctl->lock);
		rp_ctl_poll(ctl);
		if (now >= next_link) {
			rp_ports_check_links(dp, 0);
			next_link = now + 1000;
		}
		if (reload_requested) {
			reload_requested = 0;
			char *text = NULL;
			size_t len = 0;
			FILE *out = open_memstream(&text, &len);
			if (out) {
				pthread_mutex_lock(&ctl->filter_lock);
				ctl->reload(ctl->reload_arg, out);
				pthread_mutex_unlock(&ctl->filter_lock);
				fclose(out);
				printf("rampart: SIGHUP: %s", text);
				fflush(stdout);
				free(text);
			}
		}
		rp_dp_drain_log(dp, stdout);
		if (n == 0)
			usleep(1000);
	}
}

int
main(int argc, char **argv)
{
	static struct rp_dp dp;
	struct rp_config cfg;
	struct app_args args;
	struct mem_need need;
	struct rp_ctl ctl;
	struct rp_neigh_ops ops;
	char *eal_argv[MAX_EAL_ARGS];
	static char eal_bufs[8192];
	int eal_argc, rc = EXIT_SETUP, nerr;

	if (parse_args(argc, argv, &args) < 0)
		return EXIT_USAGE;
	nerr = rp_config_load(args.config, &cfg, stderr);
	if (nerr == 0 && (nerr = filter_validate(&cfg, stderr)) > 0)
		rp_config_free(&cfg);
	if (nerr > 0) {
		fprintf(stderr, "%s: %d error%s; nothing started\n", args.config, nerr, nerr > 1 ? "s" : "");
		return EXIT_CONFIG;
	}
	compute_need(&cfg, &need);
	if (args.check) {
		printf("%s: configuration ok (%u ports, %u routes, %u workers; needs %.0f MiB of DPDK memory)\n",
		       args.config, cfg.n_ports, cfg.n_routes, cfg.workers.n_lcores, need.total / MiB);
		rp_config_free(&cfg);
		return EXIT_OK;
	}

	eal_argc = build_eal_args(&args, &cfg, &need, argv[0], eal_argv, eal_bufs, sizeof(eal_bufs));
	if (eal_argc < 0) {
		fprintf(stderr, "%s: too many EAL arguments\n", argv[0]);
		rp_config_free(&cfg);
		return EXIT_USAGE;
	}
	printf("rampart %s: EAL", RAMPART_VERSION);
	for (int i = 1; i < eal_argc; i++)
		printf(" %s", eal_argv[i]);
	printf("\n");
	fflush(stdout);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "rampart: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		rp_config_free(&cfg);
		return EXIT_EAL;
	}
	if (rp_config_check_lcores(&cfg, lcore_usable, stderr) > 0) {
		rc = EXIT_EAL;
		goto cleanup_eal;
	}
	LOG(INFO, "memory: %u mbufs of %u B = %.1f MiB, FIB %.1f MiB, neighbours %.1f MiB, "
		  "conntrack %.1f MiB (%u connections); total %.1f MiB\n", need.mbufs, need.mbuf_size,
	    need.pool_bytes / MiB, need.fib_bytes / MiB, need.neigh_bytes / MiB, need.ct_bytes / MiB,
	    cfg.conntrack.max, need.total / MiB);
	if (check_memory(&need) != 0)
		goto cleanup_eal;

	dp.pool = rte_pktmbuf_pool_create("rp_pool", need.mbufs, MEMPOOL_CACHE, RP_MBUF_PRIV_SIZE,
					  (uint16_t)need.mbuf_size, (int)rte_socket_id());
	if (dp.pool == NULL) {
		LOG(ERR, "cannot allocate %u mbufs (%.0f MiB): %s\n", need.mbufs, need.pool_bytes / MiB,
		    rte_strerror(rte_errno));
		goto cleanup_eal;
	}
	if (rp_dp_init_workers(&dp, &cfg) != 0) {
		LOG(ERR, "cannot set up workers: %s\n", rte_strerror(rte_errno));
		goto cleanup_pool;
	}
	if (rp_ports_start(&dp, &cfg) != 0)
		goto cleanup_ports;
	rp_dp_index_local(&dp);
	if (build_tables(&dp, &cfg, &ops) != 0)
		goto cleanup_ports;
	if (cfg.host.present && rp_host_configure(&dp, &cfg) != 0)
		goto cleanup_ports;
	rp_ports_check_links(&dp, 1);

	memset(&ctl, 0, sizeof(ctl));
	ctl.version = RAMPART_VERSION;
	struct rp_filter_live *live;
	if (filter_build(&dp, &cfg, stderr, &live) != 0) {
		rc = EXIT_CONFIG;
		goto cleanup_ports;
	}
	if (live) {
		dp.filter = live; /* no worker runs yet: no grace period needed */
		LOG(INFO, "filter: %u rules, generation %lu\n", live->rs->n_rules, live->generation);
	}
	struct reload_ctx reload_ctx = {.dp = &dp, .running = &cfg};
	ctl.reload = filter_reload;
	ctl.reload_arg = &reload_ctx;
	if (rp_ctl_init(&ctl, &dp, cfg.control_socket) != 0)
		goto cleanup_ports;

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	for (unsigned i = 0; i < dp.n_workers; i++) {
		int lrc = rte_eal_remote_launch(rp_worker_main, dp.workers[i], dp.workers[i]->lcore);
		if (lrc != 0) {
			LOG(ERR, "cannot launch worker %u on lcore %u: %s\n", i, dp.workers[i]->lcore,
			    rte_strerror(-lrc));
			__atomic_store_n(&dp.stop, 1, __ATOMIC_RELAXED);
			rte_eal_mp_wait_lcore();
			goto cleanup_ctl;
		}
	}
	printf("rampart: running (%u worker%s, %u ports, control socket %s)\n", dp.n_workers,
	       dp.n_workers > 1 ? "s" : "", dp.n_ports, cfg.control_socket);
	fflush(stdout);

	control_loop(&dp, &ctl);

	printf("rampart: stopping\n");
	__atomic_store_n(&dp.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	rp_ctl_print_stats(&ctl, stdout);
	fflush(stdout);
	rc = EXIT_OK;
cleanup_ctl:
	rp_ctl_close(&ctl);
cleanup_ports:
	rp_ports_stop(&dp);
	if (dp.neigh)
		rp_neigh_free(dp.neigh);
	if (dp.fib)
		rp_fib_free(dp.fib);
	rp_dp_free_workers(&dp);
cleanup_pool:
	rte_mempool_free(dp.pool);
cleanup_eal:
	rte_eal_cleanup();
	rp_config_free(&cfg);
	return rc;
}
