/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking benchmark, one core, no I/O:
 *
 *  - lookup and update: bursts of 32 packets of established connections
 *    (UDP, and TCP ACKs) through rp_ct_classify_burst, each packet hitting a
 *    connection drawn at random among all in the table, at 1k, 100k, 1M and
 *    10M connections: cycles per packet;
 *  - new connections per second at 1M occupancy: misses classified in
 *    bursts of 32, then confirmed (both tuples inserted);
 *  - bytes per connection: rp_ct_mem_size(max) / max, and the EAL heap
 *    actually taken by rp_ct_create, divided by max.
 *
 *   bench_conntrack [--smoke] [--max-conns N] [--packets N] [--no-huge] [--json]
 *
 * --smoke: 1k and 100k connections, 200k packets, new connections at 100k
 * (for CI); --max-conns: the largest table (default 10M); --json: JSON
 * lines only.
 *
 * Packets are 32 mbufs whose rp_meta is rewritten before each burst to point
 * at the next random connection (the datapath's parser is not measured). That
 * rewriting is timed on its own and subtracted. Prints a table and JSON
 * lines; asserts no timing, only that every packet got the state expected.
 *
 * Memory: tables live on hugepages when enough are free; a size that does not
 * fit the free hugepages is skipped (and said so) unless --no-huge, which runs
 * everything on 4 KB pages with as much memory as the largest table needs.
 */
#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_tcp.h>

#include "rampart_conntrack.h"

#define BURST 32
#define CLIENT_BASE 0xc6120000u /* 198.18.0.0 */
#define SERVER_BASE 0xc6130001u /* 198.19.0.1 */
#define PORTS_PER_CLIENT 16384u
#define TCP_ISN_C 1000u
#define TCP_ISN_S 5000u
#define NOW_MS 1000000u
#define POOL_MBUFS 1023
#define MB (1024.0 * 1024.0)

static struct rte_mempool *pool;
static struct rte_mbuf *burst[BURST];
static unsigned table_seq;
static int json_only;

static void
die(const char *what)
{
	fprintf(stderr, "bench_conntrack: %s\n", what);
	exit(1);
}

/* ---- packets --------------------------------------------------------------- */

/* Connection i: client 198.18.x.y:port -> one of 7 servers, port 80. */
static inline void
conn_tuple(uint64_t i, uint32_t *c, uint16_t *cport, uint32_t *s)
{
	*c = CLIENT_BASE + (uint32_t)(i / PORTS_PER_CLIENT);
	*cport = (uint16_t)(1024 + i % PORTS_PER_CLIENT);
	*s = SERVER_BASE + (uint32_t)(i % 7);
}

/* Point the meta of @p m at connection @p i, original (dir 0) or reply. */
static inline void
aim(struct rte_mbuf *m, uint64_t i, int dir)
{
	struct rp_meta *md = rp_meta(m);
	uint32_t c, s;
	uint16_t cport;

	conn_tuple(i, &c, &cport, &s);
	md->src = dir ? s : c;
	md->dst = dir ? c : s;
	md->sport = dir ? 80 : cport;
	md->dport = dir ? cport : 80;
}

/* Frames: Ethernet + IPv4 + TCP (or UDP) header; meta as the parser leaves it. */
static void
make_burst(uint8_t proto)
{
	for (unsigned b = 0; b < BURST; b++) {
		struct rte_mbuf *m = burst[b];
		struct rp_meta *md = rp_meta(m);

		rte_pktmbuf_reset(m);
		char *p = rte_pktmbuf_append(m, 14 + 20 + 20);
		if (p == NULL)
			die("mbuf too small");
		memset(p, 0, 54);
		memset(md, 0, sizeof(*md));
		md->kind = RP_PKT_IPV4;
		md->proto = proto;
		md->l3_off = 14;
		md->l4_off = 34;
		md->ip_len = proto == IPPROTO_TCP ? 40 : 28 + 18;
		md->l4_status = RP_L4_OK;
	}
}

/* The TCP header every packet of the burst carries (ports are not read by the tracker). */
static void
set_tcp(uint8_t flags, uint32_t seq, uint32_t ack)
{
	for (unsigned b = 0; b < BURST; b++) {
		struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(burst[b], struct rte_tcp_hdr *, 34);
		th->sent_seq = rte_cpu_to_be_32(seq);
		th->recv_ack = rte_cpu_to_be_32(ack);
		th->data_off = 5 << 4;
		th->tcp_flags = flags;
		th->rx_win = rte_cpu_to_be_16(65535);
		rp_meta(burst[b])->tcp_flags = flags;
	}
}

/* Run connections [0, n) through one step of their opening, in bursts. */
static void
open_step(struct rp_ct_table *t, uint64_t n, int dir, int confirm, uint8_t want)
{
	for (uint64_t base = 0; base < n; base += BURST) {
		unsigned k = (unsigned)RTE_MIN((uint64_t)BURST, n - base);
		for (unsigned b = 0; b < k; b++)
			aim(burst[b], base + b, dir);
		rp_ct_classify_burst(t, burst, k, NOW_MS);
		for (unsigned b = 0; b < k; b++) {
			if (rp_meta(burst[b])->ct_state != want)
				die("a packet of the set-up did not get the state expected");
			if (confirm && rp_ct_confirm(t, burst[b], NOW_MS) != 0)
				die("table full during set-up");
		}
	}
}

/* n established connections of @p proto. */
static void
fill(struct rp_ct_table *t, uint64_t n, uint8_t proto)
{
	make_burst(proto);
	if (proto == IPPROTO_UDP) {
		open_step(t, n, 0, 1, RP_CT_NEW);
		open_step(t, n, 1, 0, RP_CT_ESTABLISHED);
		return;
	}
	set_tcp(0x02, TCP_ISN_C, 0);
	open_step(t, n, 0, 1, RP_CT_NEW);
	set_tcp(0x12, TCP_ISN_S, TCP_ISN_C + 1);
	open_step(t, n, 1, 0, RP_CT_ESTABLISHED);
	set_tcp(0x10, TCP_ISN_C + 1, TCP_ISN_S + 1);
	open_step(t, n, 0, 0, RP_CT_ESTABLISHED);
}

/* ---- measurements --------------------------------------------------------------- */

static inline uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A random connection among n (multiply-shift, no division). */
static inline uint64_t
pick(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)xorshift(s) * n) >> 64);
}

static struct rp_ct_table *
create(uint32_t max, struct rte_rcu_qsbr *qsv, size_t *heap)
{
	struct rte_malloc_socket_stats before, after;
	struct rp_ct_conf conf;
	char name[32];

	rp_ct_default_conf(&conf);
	conf.max = max;
	snprintf(name, sizeof(name), "bench_ct%u", table_seq++);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &before);
	struct rp_ct_table *t = rp_ct_create(name, &conf, qsv, (int)rte_socket_id());
	rte_malloc_get_socket_stats((int)rte_socket_id(), &after);
	if (t == NULL) {
		fprintf(stderr, "bench_conntrack: rp_ct_create(%u): %s\n", max, rte_strerror(rte_errno));
		exit(1);
	}
	*heap = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	return t;
}

static size_t
page_size_of(const void *p)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(p);
	return msl ? msl->page_sz : 0;
}

/* Lookup and update: @p packets packets of established connections, random among n. */
static void
bench_lookup(uint32_t n, uint8_t proto, uint64_t packets, struct rte_rcu_qsbr *qsv)
{
	size_t heap;
	struct rp_ct_table *t = create(n, qsv, &heap);
	uint64_t rounds = packets / BURST, seed = 0x9e3779b97f4a7c15ull;
	const char *pname = proto == IPPROTO_TCP ? "tcp" : "udp";

	fill(t, n, proto);
	if (rp_ct_count(t) != n)
		die("table does not hold every connection");

	/* the rewriting alone, to subtract */
	uint64_t t0 = rte_rdtsc_precise();
	for (uint64_t r = 0; r < rounds; r++)
		for (unsigned b = 0; b < BURST; b++)
			aim(burst[b], pick(&seed, n), 0);
	uint64_t aim_cycles = rte_rdtsc_precise() - t0;

	seed = 0x9e3779b97f4a7c15ull;
	uint64_t not_est = 0;
	t0 = rte_rdtsc_precise();
	for (uint64_t r = 0; r < rounds; r++) {
		for (unsigned b = 0; b < BURST; b++)
			aim(burst[b], pick(&seed, n), 0);
		rp_ct_classify_burst(t, burst, BURST, NOW_MS + 1);
		not_est += rp_meta(burst[BURST - 1])->ct_state != RP_CT_ESTABLISHED;
	}
	uint64_t total = rte_rdtsc_precise() - t0;
	if (not_est != 0)
		die("a packet of an established connection was not ESTABLISHED");

	uint64_t pkts = rounds * BURST;
	double cpp = (double)(total - RTE_MIN(aim_cycles, total)) / (double)pkts;
	double mpps = (double)rte_get_tsc_hz() / cpp / 1e6;
	size_t page = page_size_of(rp_ct_entry_get(t, 0));
	if (!json_only)
		printf("%-8s %10u %12" PRIu64 " %12.1f %10.2f %10.1f %10.1f %8zu\n", pname, n, pkts,
		       cpp, mpps, (double)rp_ct_mem_size(n) / n, (double)heap / n, page >> 10);
	printf("{\"bench\": \"conntrack_lookup\", \"proto\": \"%s\", \"conns\": %u, \"packets\": %" PRIu64
	       ", \"cycles_per_packet\": %.1f, \"mpps_per_core\": %.2f, \"rewrite_cycles_per_packet\": %.1f"
	       ", \"bytes_per_conn_estimate\": %.1f, \"bytes_per_conn_heap\": %.1f, \"page_size\": %zu"
	       ", \"tsc_hz\": %" PRIu64 "}\n",
	       pname, n, pkts, cpp, mpps, (double)aim_cycles / (double)pkts,
	       (double)rp_ct_mem_size(n) / n, (double)heap / n, page, rte_get_tsc_hz());
	fflush(stdout);
	rp_ct_free(t);
}

/* New connections: @p fresh misses classified and confirmed at @p occupancy. */
static void
bench_new(uint32_t occupancy, uint32_t fresh, struct rte_rcu_qsbr *qsv)
{
	size_t heap;
	struct rp_ct_table *t = create(occupancy + fresh, qsv, &heap);
	uint64_t rounds = fresh / BURST;

	fill(t, occupancy, IPPROTO_UDP);
	make_burst(IPPROTO_UDP);

	uint64_t t0 = rte_rdtsc_precise();
	for (uint64_t r = 0; r < rounds; r++)
		for (unsigned b = 0; b < BURST; b++)
			aim(burst[b], occupancy + r * BURST + b, 0);
	uint64_t aim_cycles = rte_rdtsc_precise() - t0;

	uint64_t refused = 0, not_new = 0;
	t0 = rte_rdtsc_precise();
	for (uint64_t r = 0; r < rounds; r++) {
		for (unsigned b = 0; b < BURST; b++)
			aim(burst[b], occupancy + r * BURST + b, 0);
		rp_ct_classify_burst(t, burst, BURST, NOW_MS);
		for (unsigned b = 0; b < BURST; b++) {
			not_new += rp_meta(burst[b])->ct_state != RP_CT_NEW;
			refused += rp_ct_confirm(t, burst[b], NOW_MS) != 0;
		}
	}
	uint64_t total = rte_rdtsc_precise() - t0;
	if (not_new || refused)
		die("a new connection was not NEW or was refused");
	if (rp_ct_count(t) != occupancy + rounds * BURST)
		die("new connections missing from the table");

	uint64_t conns = rounds * BURST;
	double cpc = (double)(total - RTE_MIN(aim_cycles, total)) / (double)conns;
	double per_s = (double)rte_get_tsc_hz() / cpc;
	if (!json_only)
		printf("%10u %10" PRIu64 " %14.1f %14.2f\n", occupancy, conns, cpc, per_s / 1e6);
	printf("{\"bench\": \"conntrack_new\", \"occupancy\": %u, \"new_conns\": %" PRIu64
	       ", \"cycles_per_conn\": %.1f, \"conns_per_sec_per_core\": %.0f, \"tsc_hz\": %" PRIu64 "}\n",
	       occupancy, conns, cpc, per_s, rte_get_tsc_hz());
	fflush(stdout);
	rp_ct_free(t);
}

/* ---- memory planning ---------------------------------------------------------------- */

static uint64_t
read_u64(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Free hugepage memory (2 MB and 1 GB pages), bytes. */
static uint64_t
free_hugepage_bytes(void)
{
	return read_u64("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") * (2ull << 20) +
	       read_u64("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages") * (1ull << 30);
}

/* Memory one step needs besides the table: pool, heap slack. */
#define EXTRA_BYTES (64ull << 20)

int
main(int argc, char **argv)
{
	static const uint32_t full_sizes[] = {1000, 100000, 1000000, 10000000};
	static const uint32_t smoke_sizes[] = {1000, 100000};
	uint32_t sizes[8];
	unsigned n_sizes = 0;
	uint64_t max_conns = 10000000, packets = 0;
	int smoke = 0, no_huge = 0;
	uint32_t new_occupancy, new_fresh;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0)
			smoke = 1;
		else if (strcmp(argv[i], "--no-huge") == 0)
			no_huge = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json_only = 1;
		else if (strcmp(argv[i], "--max-conns") == 0 && i + 1 < argc)
			max_conns = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 10);
		else
			die("usage: bench_conntrack [--smoke] [--max-conns N] [--packets N] [--no-huge] [--json]");
	}
	if (max_conns < 1000 || max_conns > (1u << 29))
		die("--max-conns out of range");
	if (packets == 0)
		packets = smoke ? 200 * 1000 : 20 * 1000 * 1000;
	new_occupancy = smoke ? 100000 : 1000000;
	new_fresh = smoke ? 20000 : 1000000;

	const uint32_t *list = smoke ? smoke_sizes : full_sizes;
	unsigned n_list = smoke ? RTE_DIM(smoke_sizes) : RTE_DIM(full_sizes);
	for (unsigned i = 0; i < n_list; i++)
		if (list[i] <= max_conns)
			sizes[n_sizes++] = list[i];
	if (!smoke && max_conns < full_sizes[n_list - 1] && sizes[n_sizes - 1] != max_conns)
		sizes[n_sizes++] = (uint32_t)max_conns;
	if (new_occupancy > max_conns)
		new_occupancy = (uint32_t)max_conns;

	/* The largest table decides the EAL memory. */
	uint64_t need = rp_ct_mem_size(new_occupancy + new_fresh);
	for (unsigned i = 0; i < n_sizes; i++)
		need = RTE_MAX(need, (uint64_t)rp_ct_mem_size(sizes[i]));
	need += EXTRA_BYTES;
	uint64_t huge_free = free_hugepage_bytes();
	int use_huge = !no_huge && huge_free > 0;
	char mem_arg[32];
	snprintf(mem_arg, sizeof(mem_arg), "%" PRIu64, need >> 20);
	char *eal_huge[] = {argv[0], "--in-memory", "--file-prefix=rp-bench-ct", "--no-pci", "--no-telemetry", "-l", "0",
			    "--log-level=lib.eal:error", NULL};
	char *eal_nohuge[] = {argv[0], "--no-huge", "-m", mem_arg, "--no-pci", "--no-telemetry",
			      "-l", "0", "--file-prefix=rp-bench-ct", "--no-shconf",
			      "--log-level=lib.eal:error", NULL};
	char **eal = use_huge ? eal_huge : eal_nohuge;
	int eal_argc = use_huge ? (int)RTE_DIM(eal_huge) - 1 : (int)RTE_DIM(eal_nohuge) - 1;
	if (rte_eal_init(eal_argc, eal) < 0)
		die("EAL init failed");

	pool = rte_pktmbuf_pool_create("bench_ct_pool", POOL_MBUFS, 0, RP_MBUF_PRIV_SIZE, 256,
				       (int)rte_socket_id());
	if (pool == NULL || rte_pktmbuf_alloc_bulk(pool, burst, BURST) != 0)
		die("cannot create the mbuf pool");

	/* Production tables reclaim through the workers' QSBR variable: so do these. */
	struct rte_rcu_qsbr *qsv = rte_zmalloc("bench_ct_qsv", rte_rcu_qsbr_get_memsize(1),
					       RTE_CACHE_LINE_SIZE);
	if (qsv == NULL || rte_rcu_qsbr_init(qsv, 1) != 0 ||
	    rte_rcu_qsbr_thread_register(qsv, 0) != 0)
		die("cannot set up RCU");
	rte_rcu_qsbr_thread_online(qsv, 0);

	if (!json_only) {
		printf("conntrack, one core, bursts of %d, TSC %.2f GHz, memory: %s\n", BURST,
		       rte_get_tsc_hz() / 1e9, use_huge ? "hugepages" : "4 KB pages (--no-huge)");
		if (use_huge)
			printf("hugepages free at start: %.0f MB\n", (double)huge_free / MB);
	}

	/* sizes that do not fit the free hugepages are skipped, and said so */
	uint32_t run_sizes[8];
	unsigned n_run = 0;
	for (unsigned i = 0; i < n_sizes; i++) {
		uint64_t want = rp_ct_mem_size(sizes[i]) + EXTRA_BYTES;
		if (use_huge && want > huge_free) {
			if (!json_only)
				printf("skipped: %u connections need %.0f MB, %.0f MB of hugepages free "
				       "(run with --no-huge to use 4 KB pages)\n",
				       sizes[i], (double)want / MB, (double)huge_free / MB);
			printf("{\"bench\": \"conntrack_lookup\", \"conns\": %u, \"skipped\": "
			       "\"memory\", \"need_bytes\": %" PRIu64 ", \"hugepages_free_bytes\": %" PRIu64
			       "}\n",
			       sizes[i], want, huge_free);
			continue;
		}
		run_sizes[n_run++] = sizes[i];
	}

	if (!json_only) {
		printf("\nlookup and update of established connections (random among all)\n");
		printf("%-8s %10s %12s %12s %10s %10s %10s %8s\n", "proto", "conns", "packets",
		       "cycles/pkt", "Mpps", "B/conn est", "B/conn heap", "page KB");
	}
	for (unsigned i = 0; i < n_run; i++) {
		bench_lookup(run_sizes[i], IPPROTO_UDP, packets, qsv);
		bench_lookup(run_sizes[i], IPPROTO_TCP, packets, qsv);
	}

	uint64_t new_want = rp_ct_mem_size(new_occupancy + new_fresh) + EXTRA_BYTES;
	if (!json_only)
		printf("\nnew connections (miss, insert both tuples, confirm)\n%10s %10s %14s %14s\n",
		       "occupancy", "new", "cycles/conn", "M conns/s");
	if (use_huge && new_want > huge_free)
		printf("{\"bench\": \"conntrack_new\", \"occupancy\": %u, \"skipped\": \"memory\", "
		       "\"need_bytes\": %" PRIu64 ", \"hugepages_free_bytes\": %" PRIu64 "}\n",
		       new_occupancy, new_want, huge_free);
	else
		bench_new(new_occupancy, new_fresh, qsv);

	rte_rcu_qsbr_thread_offline(qsv, 0);
	rte_free(qsv);
	rte_pktmbuf_free_bulk(burst, BURST);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	rmdir("/var/run/dpdk/rp-bench-ct"); /* the runtime directory EAL made, empty */
	return 0;
}
