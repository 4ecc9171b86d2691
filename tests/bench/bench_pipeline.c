/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-process pipeline benchmark: the worker's burst path (parse, martian
 * checks, L4 parse, conntrack lookup and update (each frame is a UDP flow,
 * confirmed on its first pass), bulk FIB, TTL, bulk neighbour lookup, L2
 * rewrite, TX buffering)
 * on synthetic frames, transmitted into net_null ports. Prints cycles per
 * packet and Mpps per core for several numbers of destinations and routes,
 * as a table and as JSON lines. No timing is asserted anywhere.
 *
 *   bench_pipeline [--smoke] [--packets N]
 *
 * The same frames are sent again and again: each round takes a reference on
 * them (so net_null's free keeps them) and restores their TTL and checksum;
 * that restore is timed on its own and subtracted.
 */
#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "rampart_datapath.h"

#define POOL_FRAMES 8192
#define LAN 0
#define WAN 1
#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static struct rp_dp dp;
static struct rp_neigh_ops ops;

static void
die(const char *what)
{
	fprintf(stderr, "bench_pipeline: %s\n", what);
	exit(1);
}

static void
start_null_port(unsigned idx, const char *name, uint32_t addr)
{
	struct rte_eth_conf conf = {0};
	uint16_t pid;
	struct rp_port *p = &dp.ports[idx];

	if (rte_eth_dev_get_port_by_name(name, &pid) != 0)
		die("net_null port missing");
	if (rte_eth_dev_configure(pid, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(pid, 0, 512, 0, NULL, dp.pool) != 0 ||
	    rte_eth_tx_queue_setup(pid, 0, 512, 0, NULL) != 0 || rte_eth_dev_start(pid) != 0)
		die("cannot start net_null port");
	p->port_id = pid;
	p->mtu = 1500;
	rte_eth_macaddr_get(pid, &p->mac);
	snprintf(p->name, sizeof(p->name), "%s", idx == LAN ? "lan0" : "wan0");
	p->addrs[0] = addr;
	p->lens[0] = 16;
	p->n_addrs = 1;
	p->link_up = 1;
}

/* A UDP frame from a LAN client to @p dst, 64 bytes on the wire (60 without FCS). */
static struct rte_mbuf *
make_frame(uint32_t src, uint32_t dst, uint16_t sport)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	if (m == NULL)
		die("pool empty");
	char *p = rte_pktmbuf_append(m, 60);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(p, 0, 60);
	eth->dst_addr = dp.ports[LAN].mac;
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(46);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* a valid UDP header (checksum 0: none), so each frame is a tracked flow */
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(53);
	udp->dgram_len = rte_cpu_to_be_16(26);
	return m;
}

/* Undo what forwarding changed: destination MAC, TTL, checksum. */
static inline void
restore_frame(struct rte_mbuf *m, struct rte_ipv4_hdr *ip, rte_be16_t cksum)
{
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = dp.ports[LAN].mac;
	ip->time_to_live = 64;
	ip->hdr_checksum = cksum;
}

struct scenario {
	unsigned dests;  /* distinct destination hosts (each a neighbour) */
	unsigned routes; /* static /24 routes besides the connected ones */
};

static void
run(const struct scenario *sc, unsigned packets, int json_only)
{
	struct rte_mbuf *frames[POOL_FRAMES / 2];
	rte_be16_t cks[POOL_FRAMES / 2];
	unsigned n_frames = RTE_MIN(RTE_MAX(sc->dests, 1024u), (unsigned)RTE_DIM(frames));
	struct rp_worker *w = dp.workers[0];
	char name[32];
	static unsigned instance;

	snprintf(name, sizeof(name), "bench_fib%u", instance);
	dp.fib = rp_fib_create(name, sc->routes + 16, 0);
	snprintf(name, sizeof(name), "bench_nb%u", instance++);
	dp.neigh = rp_neigh_create(name, RTE_MAX(sc->dests * 2, 64u), 1, dp.qsv, 0, &ops);
	if (dp.fib == NULL || dp.neigh == NULL)
		die("cannot create tables");
	rp_fib_add_interface(dp.fib, IP(198, 18, 0, 1), 16, LAN);
	rp_fib_add_interface(dp.fib, IP(198, 19, 0, 1), 16, WAN);
	/* routes in 10.0.0.0/8-like space of the benchmark range: 198.18/15 is taken, use 100.64/10 */
	for (unsigned r = 0; r < sc->routes; r++)
		rp_fib_add(dp.fib, IP(100, 64, 0, 0) + (r << 8), 24,
			   rp_nh_make(RP_RT_GATEWAY, WAN, IP(198, 19, 0, 2)), "static");
	/* destinations: hosts on the WAN subnet, each a static neighbour */
	uint32_t *dests = malloc(sizeof(uint32_t) * sc->dests);
	for (unsigned d = 0; d < sc->dests; d++) {
		struct rte_ether_addr mac = {{0x02, 0, 0, (uint8_t)(d >> 16), (uint8_t)(d >> 8), (uint8_t)d}};
		dests[d] = IP(198, 19, 0, 0) + 2 + d;
		if (rp_neigh_add_static(dp.neigh, dests[d], &mac, WAN) != 0)
			die("cannot add neighbour");
	}
	for (unsigned f = 0; f < n_frames; f++) {
		frames[f] = make_frame(IP(198, 18, 0, 2) + f % 250, dests[(f * 7919u) % sc->dests],
				       (uint16_t)(10000 + f));
		cks[f] = rte_pktmbuf_mtod_offset(frames[f], struct rte_ipv4_hdr *, 14)->hdr_checksum;
	}
	if (n_frames < RP_BURST_MAX)
		die("need at least one burst of frames");

	/* the restore alone, to subtract */
	uint64_t t0 = rte_rdtsc_precise(), rounds = packets / 32;
	for (uint64_t r = 0; r < rounds; r++) {
		unsigned base = (unsigned)(r * 32) % (n_frames - 31);
		for (unsigned i = 0; i < 32; i++) {
			struct rte_mbuf *m = frames[base + i];
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
			rte_mbuf_refcnt_update(m, 1);
			restore_frame(m, ip, cks[base + i]);
			rte_mbuf_refcnt_update(m, -1);
		}
	}
	uint64_t restore = rte_rdtsc_precise() - t0;

	uint64_t fwd0 = w->stats.events[RP_EV_FORWARDED];
	t0 = rte_rdtsc_precise();
	for (uint64_t r = 0; r < rounds; r++) {
		unsigned base = (unsigned)(r * 32) % (n_frames - 31);
		struct rte_mbuf *burst[32];
		for (unsigned i = 0; i < 32; i++) {
			struct rte_mbuf *m = frames[base + i];
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
			rte_mbuf_refcnt_update(m, 1); /* net_null frees one reference */
			restore_frame(m, ip, cks[base + i]);
			burst[i] = m;
		}
		rp_worker_process_burst(w, LAN, burst, 32);
		rp_worker_flush(w);
	}
	uint64_t total = rte_rdtsc_precise() - t0;
	uint64_t fwd = w->stats.events[RP_EV_FORWARDED] - fwd0;
	uint64_t pkts = rounds * 32;
	if (fwd != pkts) {
		fprintf(stderr, "bench_pipeline: forwarded %" PRIu64 " of %" PRIu64 " packets\n", fwd, pkts);
		exit(1);
	}
	double cpp = (double)(total - restore) / (double)pkts;
	double mpps = (double)rte_get_tsc_hz() / cpp / 1e6;
	if (!json_only)
		printf("%10u %8u %12" PRIu64 " %12.1f %10.2f\n", sc->dests, sc->routes, pkts, cpp, mpps);
	printf("{\"bench\": \"pipeline\", \"dests\": %u, \"routes\": %u, \"packets\": %" PRIu64
	       ", \"cycles_per_packet\": %.1f, \"mpps_per_core\": %.2f, \"tsc_hz\": %" PRIu64 "}\n",
	       sc->dests, sc->routes, pkts, cpp, mpps, rte_get_tsc_hz());

	for (unsigned f = 0; f < n_frames; f++)
		rte_pktmbuf_free(frames[f]);
	free(dests);
	rp_neigh_free(dp.neigh);
	rp_fib_free(dp.fib);
	dp.neigh = NULL;
	dp.fib = NULL;
}

int
main(int argc, char **argv)
{
	static const struct scenario full[] = {
		{1, 10}, {1000, 10}, {1000, 10000}, {60000, 10}, {60000, 100000},
	};
	static const struct scenario smoke[] = {{1000, 10}};
	char *eal[] = {argv[0], "--no-huge", "-m", "1024", "--no-pci", "--no-telemetry", "-l", "0",
		       "--file-prefix=rp-bench", "--no-shconf", "--vdev=net_null0", "--vdev=net_null1",
		       "--log-level=lib.eal:error", NULL};
	unsigned packets = 20 * 1000 * 1000;
	int is_smoke = 0;
	struct rp_config cfg;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0)
			is_smoke = 1;
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			die("usage: bench_pipeline [--smoke] [--packets N]");
	}
	if (is_smoke)
		packets = 200 * 1000;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		die("EAL init failed");

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers.n_lcores = 1;
	cfg.workers.lcores[0] = rte_lcore_id();
	cfg.workers.burst = 32;
	cfg.icmp.ratelimit_pps = 1000;
	cfg.icmp.burst = 50;
	cfg.conntrack.max = 1 << 20;
	cfg.conntrack.tcp_loose = 1;
	cfg.conntrack.checksum = 1;
	cfg.conntrack.frag.max_datagrams = 1024;
	cfg.conntrack.frag.timeout_ms = 30000;
	dp.pool = rte_pktmbuf_pool_create("bench_pool", POOL_FRAMES - 1, 256, RP_MBUF_PRIV_SIZE,
					  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (dp.pool == NULL || rp_dp_init_workers(&dp, &cfg) != 0)
		die("cannot set up the datapath");
	rte_rcu_qsbr_thread_register(dp.qsv, 0);
	rte_rcu_qsbr_thread_online(dp.qsv, 0);
	start_null_port(LAN, "net_null0", IP(198, 18, 0, 1));
	start_null_port(WAN, "net_null1", IP(198, 19, 0, 1));
	dp.n_ports = 2;
	rp_dp_index_local(&dp);
	rp_slowpath_neigh_ops(&dp, &ops);

	printf("in-process forwarding, 64-byte UDP frames, bursts of 32, one core (TSC %.2f GHz)\n",
	       rte_get_tsc_hz() / 1e9);
	printf("%10s %8s %12s %12s %10s\n", "dests", "routes", "packets", "cycles/pkt", "Mpps");
	const struct scenario *list = is_smoke ? smoke : full;
	size_t n = is_smoke ? RTE_DIM(smoke) : RTE_DIM(full);
	for (size_t i = 0; i < n; i++)
		run(&list[i], packets, 0);
	rte_eal_cleanup();
	rmdir("/var/run/dpdk/rp-bench"); /* empty with --no-shconf */
	return 0;
}
