/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/pkt: every input is a received frame. It is parsed
 * twice (software checksum check, then as if the device had checked the
 * checksum, which lets mutated headers reach the code behind it), and
 * whatever the parser accepts goes through the crafting functions the
 * datapath would call on it, and through rp_pkt_parse_l4 with and without
 * checksum checks, with the device's L4 verdicts, and as a chain cut inside
 * its L4 header. REJECT's reset and unreachable are compared with a
 * verdict computed here from the raw bytes, LOG's line with its head
 * rebuilt here, both also from the packet as a chain. Invariants are
 * asserted after every step; an mbuf leak is a failure too.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"

#define FUZZ_POOL_SIZE 63
/* jumbo-sized buffers: longer inputs are cut to this */
#define FUZZ_DATA_ROOM (RTE_PKTMBUF_HEADROOM + 9216)

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			abort();                                                       \
		}                                                                      \
	} while (0)

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const uint32_t our_ip = 0xc6120101; /* 198.18.1.1 */
static struct rte_mempool *pool;

static char runtime_dir[PATH_MAX];

static void
fuzz_cleanup(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	/* --no-shconf leaves the runtime directory empty: do not leave it behind */
	if (runtime_dir[0] != '\0')
		rmdir(runtime_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=rp-fuzz-pkt-%d", (int)getpid());
	char *eal_argv[] = {"fuzz_pkt", "--no-huge", "-m", "128", "--no-pci", "--no-telemetry",
			    "-l", "0", "--no-shconf", "--log-level=lib.eal:error", prefix, NULL};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;

	/* EAL pins us to CPU 0; parallel fuzzing jobs should not share one CPU */
	cpu_set_t cpus;
	int have_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "fuzz_pkt: rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	if (have_cpus)
		sched_setaffinity(0, sizeof(cpus), &cpus);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());

	/* no per-lcore cache, so the free count is exact and a leak shows at once */
	pool = rte_pktmbuf_pool_create("fuzz_pkt", FUZZ_POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       FUZZ_DATA_ROOM, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "fuzz_pkt: pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	atexit(fuzz_cleanup);
	return 0;
}

static int
is_parse_drop(unsigned reason)
{
	switch (reason) {
	case RP_DROP_ETH_SHORT:
	case RP_DROP_ETH_OTHER_HOST:
	case RP_DROP_ETH_TYPE:
	case RP_DROP_ARP_MALFORMED:
	case RP_DROP_IP_SHORT:
	case RP_DROP_IP_VERSION:
	case RP_DROP_IP_IHL:
	case RP_DROP_IP_TOTLEN:
	case RP_DROP_IP_CSUM:
		return 1;
	default:
		return 0;
	}
}

static void
check_icmp_error(struct rte_mbuf *orig)
{
	const struct rp_meta *om = rp_meta(orig);
	int allowed = rp_icmp_error_allowed(orig);
	if (allowed) {
		FUZZ_ASSERT(!(om->flags & (RP_F_FRAG_LATER | RP_F_L2_BCAST | RP_F_L2_MCAST)));
		FUZZ_ASSERT(!rp_ipv4_martian_src(om->src));
		FUZZ_ASSERT(om->dst != UINT32_MAX && (om->dst >> 28) != 0xe);
	}

	struct rte_mbuf *e = rp_icmp_error(pool, orig, 3, 1, 0, our_ip);
	FUZZ_ASSERT(e != NULL);
	uint32_t quote = RTE_MIN((uint32_t)om->ip_len, 576u - 28);
	FUZZ_ASSERT(rte_pktmbuf_pkt_len(e) == 14 + 28 + quote);
	const struct rp_meta *em = rp_meta(e);
	FUZZ_ASSERT(em->ip_len == 28 + quote && em->l3_off == 14 && em->l4_off == 34);
	FUZZ_ASSERT(em->src == our_ip && em->dst == om->src && em->flags == RP_F_LOCAL_OUT);
	const struct rte_ipv4_hdr *ip = rp_ip(e);
	FUZZ_ASSERT(rte_raw_cksum(ip, 20) == 0xffff);
	const uint8_t *icmp = (const uint8_t *)(ip + 1);
	FUZZ_ASSERT(rte_raw_cksum(icmp, 8 + quote) == 0xffff);
	FUZZ_ASSERT(memcmp(icmp + 8, rp_ip(orig), quote) == 0);

	/* once the output path gives it an Ethernet header, it parses as valid */
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(e, struct rte_ether_hdr *);
	eth->dst_addr = our_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	FUZZ_ASSERT(rp_pkt_parse(e, 0, &our_mac) == RP_PKT_IPV4);
	rte_pktmbuf_free(e);
}

static void
check_echo_reply(struct rte_mbuf *m)
{
	struct rp_meta *meta = rp_meta(m);
	if (meta->proto != IPPROTO_ICMP || meta->l4_off >= rte_pktmbuf_data_len(m) ||
	    *rte_pktmbuf_mtod_offset(m, uint8_t *, meta->l4_off) != RTE_IP_ICMP_ECHO_REQUEST)
		return;

	static uint8_t before[FUZZ_DATA_ROOM];
	uint16_t len = rte_pktmbuf_data_len(m);
	memcpy(before, rte_pktmbuf_mtod(m, uint8_t *), len);
	struct rp_meta meta_before = *meta;
	uint32_t hdr_len = meta->l4_off - meta->l3_off;
	uint32_t icmp_len = meta->ip_len - hdr_len;
	int expect_ok = !(meta->flags & RP_F_FRAG) && icmp_len >= 8 &&
			rte_raw_cksum(before + meta->l4_off, icmp_len) == 0xffff;

	int rc = rp_icmp_echo_reply(m);
	FUZZ_ASSERT(rc == 0 || rc == RP_DROP_ICMP_MALFORMED);
	FUZZ_ASSERT((rc == 0) == expect_ok);
	if (rc != 0) {
		FUZZ_ASSERT(rte_pktmbuf_data_len(m) == len);
		FUZZ_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), before, len) == 0);
		FUZZ_ASSERT(memcmp(meta, &meta_before, sizeof(*meta)) == 0);
		return;
	}
	const struct rte_ipv4_hdr *ip = rp_ip(m);
	FUZZ_ASSERT(ip->version_ihl == 0x45 && ip->time_to_live == 64);
	FUZZ_ASSERT(meta->l4_off == 34 && meta->ip_len == 20 + icmp_len);
	FUZZ_ASSERT(rte_pktmbuf_pkt_len(m) == 14u + meta->ip_len);
	FUZZ_ASSERT(rte_be_to_cpu_16(ip->total_length) == meta->ip_len);
	/* recomputed, so valid even where the device vouched for a bad one */
	FUZZ_ASSERT(rte_raw_cksum(ip, 20) == 0xffff);
	FUZZ_ASSERT(meta->src == meta_before.dst && meta->dst == meta_before.src);
	FUZZ_ASSERT(rte_be_to_cpu_32(ip->src_addr) == meta->src);
	FUZZ_ASSERT(rte_be_to_cpu_32(ip->dst_addr) == meta->dst);
	FUZZ_ASSERT(meta->flags & RP_F_LOCAL_OUT);
	const uint8_t *icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 34);
	FUZZ_ASSERT(icmp[0] == RTE_IP_ICMP_ECHO_REPLY);
	FUZZ_ASSERT(rte_raw_cksum(icmp, icmp_len) == 0xffff);
	FUZZ_ASSERT(memcmp(icmp + 4, before + meta_before.l4_off + 4, icmp_len - 4) == 0);
}

static void
check_arp_reply(struct rte_mbuf *m)
{
	const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	struct rte_arp_ipv4 asked = arp->arp_data;
	struct rp_meta meta_before = *rp_meta(m);

	rp_arp_reply_inplace(m, &our_mac);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	FUZZ_ASSERT(rte_pktmbuf_pkt_len(m) == 60);
	FUZZ_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &asked.arp_sha));
	FUZZ_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	FUZZ_ASSERT(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP));
	FUZZ_ASSERT(arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY));
	struct rte_arp_ipv4 reply = arp->arp_data;
	FUZZ_ASSERT(rte_is_same_ether_addr(&reply.arp_sha, &our_mac));
	FUZZ_ASSERT(rte_is_same_ether_addr(&reply.arp_tha, &asked.arp_sha));
	FUZZ_ASSERT(reply.arp_sip == asked.arp_tip && reply.arp_tip == asked.arp_sip);
	FUZZ_ASSERT(rp_meta(m)->src == meta_before.dst && rp_meta(m)->dst == meta_before.src);
}

/* The L4 fields rp_pkt_parse_l4 leaves, to compare two runs. */
struct l4_result {
	uint8_t status, tcp_flags;
	uint16_t sport, dport, l4_payload;
};

static struct l4_result
run_l4(struct rte_mbuf *m, int verify)
{
	enum rp_l4_status st = rp_pkt_parse_l4(m, verify);
	const struct rp_meta *meta = rp_meta(m);
	FUZZ_ASSERT(meta->l4_status == st);
	FUZZ_ASSERT(st >= RP_L4_OK && st <= RP_L4_BAD_CSUM);
	return (struct l4_result){.status = st, .tcp_flags = meta->tcp_flags,
				  .sport = meta->sport, .dport = meta->dport,
				  .l4_payload = meta->l4_payload};
}

static int
same_fields(const struct l4_result *a, const struct l4_result *b)
{
	return a->tcp_flags == b->tcp_flags && a->sport == b->sport && a->dport == b->dport &&
	       a->l4_payload == b->l4_payload;
}

/* Is the checksum of a whole TCP/UDP/ICMP message right? Computed here apart. */
static int
reference_csum_ok(const struct rte_mbuf *m, uint32_t l4_len)
{
	const struct rp_meta *meta = rp_meta((struct rte_mbuf *)(uintptr_t)m);
	const uint8_t *l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l4_off);
	const struct rte_ipv4_hdr *ip = rp_ip((struct rte_mbuf *)(uintptr_t)m);
	if (meta->proto == IPPROTO_ICMP)
		return rte_raw_cksum(l4, l4_len) == 0xffff;
	if (meta->proto == IPPROTO_TCP)
		return rte_ipv4_udptcp_cksum_verify(ip, l4) == 0;
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)l4;
	if (uh->dgram_cksum == 0)
		return 1;
	uint32_t ulen = rte_be_to_cpu_16(uh->dgram_len);
	uint8_t ph[12];
	memcpy(ph, &ip->src_addr, 4);
	memcpy(ph + 4, &ip->dst_addr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	ph[10] = (uint8_t)(ulen >> 8);
	ph[11] = (uint8_t)ulen;
	uint32_t sum = (uint32_t)rte_raw_cksum(ph, sizeof(ph)) + rte_raw_cksum(l4, ulen);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum == 0xffff;
}

/* @p m's bytes as a chain of three segments cut at @p c1 < @p c2, meta copied. */
static struct rte_mbuf *
as_chain(struct rte_mbuf *m, uint32_t c1, uint32_t c2)
{
	const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t cuts[4] = {0, c1, c2, rte_pktmbuf_data_len(m)};
	struct rte_mbuf *head = NULL;
	for (unsigned i = 0; i < 3; i++) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
		FUZZ_ASSERT(seg != NULL);
		uint16_t n = (uint16_t)(cuts[i + 1] - cuts[i]);
		memcpy(rte_pktmbuf_append(seg, n), src + cuts[i], n);
		if (head == NULL)
			head = seg;
		else
			FUZZ_ASSERT(rte_pktmbuf_chain(head, seg) == 0);
	}
	*rp_meta(head) = *rp_meta(m);
	head->ol_flags = m->ol_flags;
	return head;
}

static void
check_l4(struct rte_mbuf *m)
{
	const struct rp_meta *meta = rp_meta(m);
	uint64_t rx = m->ol_flags;
	struct l4_result plain = run_l4(m, 0);
	struct l4_result checked = run_l4(m, 1);

	/* a checksum check only ever turns OK into BAD_CSUM, and reads the same fields */
	FUZZ_ASSERT(plain.status != RP_L4_BAD_CSUM);
	FUZZ_ASSERT(checked.status == plain.status ||
		    (plain.status == RP_L4_OK && checked.status == RP_L4_BAD_CSUM));
	FUZZ_ASSERT(same_fields(&plain, &checked));

	int tracked = meta->proto == IPPROTO_TCP || meta->proto == IPPROTO_UDP ||
		      meta->proto == IPPROTO_ICMP;
	if (!tracked || (meta->flags & RP_F_FRAG_LATER)) {
		FUZZ_ASSERT(plain.status == RP_L4_NONE);
		FUZZ_ASSERT(plain.sport == 0 && plain.dport == 0 && plain.tcp_flags == 0 &&
			    plain.l4_payload == 0);
		return;
	}
	FUZZ_ASSERT(plain.status != RP_L4_NONE);

	uint32_t l4_len = meta->ip_len - (meta->l4_off - meta->l3_off);
	const uint8_t *l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l4_off);
	int whole = !(meta->flags & RP_F_FRAG);
	if (plain.status == RP_L4_OK) {
		if (meta->proto == IPPROTO_TCP) {
			uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
			FUZZ_ASSERT(l4_len >= 20 && doff >= 20 && doff <= l4_len);
			FUZZ_ASSERT(plain.l4_payload == l4_len - doff && plain.tcp_flags == l4[13]);
		} else if (meta->proto == IPPROTO_UDP) {
			uint32_t ulen = (uint32_t)l4[4] << 8 | l4[5];
			FUZZ_ASSERT(l4_len >= 8 && ulen >= 8);
			FUZZ_ASSERT(!whole || ulen <= l4_len);
			FUZZ_ASSERT(plain.l4_payload == (whole ? ulen : l4_len) - 8);
		} else {
			FUZZ_ASSERT(l4_len >= 8 && plain.l4_payload == l4_len - 8);
			FUZZ_ASSERT(plain.dport == (uint16_t)(l4[0] << 8 | l4[1]));
		}
		if (meta->proto == IPPROTO_ICMP) {
			static const uint8_t queries[] = {0, 8, 13, 14, 15, 16, 17, 18};
			int query = memchr(queries, l4[0], sizeof(queries)) != NULL;
			FUZZ_ASSERT(plain.sport == (query ? (uint16_t)(l4[4] << 8 | l4[5]) : 0));
		} else {
			FUZZ_ASSERT(plain.sport == (uint16_t)(l4[0] << 8 | l4[1]));
			FUZZ_ASSERT(plain.dport == (uint16_t)(l4[2] << 8 | l4[3]));
		}
		/* with the device silent, the verdict is the checksum's, computed apart */
		if (whole && !(rx & RTE_MBUF_F_RX_L4_CKSUM_MASK))
			FUZZ_ASSERT((checked.status == RP_L4_OK) == reference_csum_ok(m, l4_len));
		if (!whole)
			FUZZ_ASSERT(checked.status == RP_L4_OK);
	} else {
		FUZZ_ASSERT(plain.l4_payload == 0);
	}

	/* the device's verdict rules TCP and UDP, never ICMP */
	if (plain.status == RP_L4_OK && whole && meta->proto != IPPROTO_ICMP) {
		int no_sum = meta->proto == IPPROTO_UDP && l4[6] == 0 && l4[7] == 0;
		m->ol_flags = (rx & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		FUZZ_ASSERT(run_l4(m, 1).status == RP_L4_OK);
		m->ol_flags = (rx & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_L4_CKSUM_BAD;
		FUZZ_ASSERT(run_l4(m, 1).status == (no_sum ? RP_L4_OK : RP_L4_BAD_CSUM));
		FUZZ_ASSERT(run_l4(m, 0).status == RP_L4_OK);
		m->ol_flags = rx;
	}

	/* cut inside the L4 header (and the checksummed bytes at odd places): same result */
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len >= (uint32_t)meta->l4_off + 3) {
		uint16_t h = rte_raw_cksum(rte_pktmbuf_mtod(m, const void *), len);
		uint32_t c1 = RTE_MIN((uint32_t)meta->l4_off + (h & 0x1f), len - 2);
		uint32_t c2 = c1 + 1 + ((h >> 5) % (len - c1 - 1));
		struct rte_mbuf *c = as_chain(m, c1, c2);
		struct l4_result cp = run_l4(c, 0), cc = run_l4(c, 1);
		FUZZ_ASSERT(cp.status == plain.status && same_fields(&cp, &plain));
		FUZZ_ASSERT(cc.status == checked.status && same_fields(&cc, &checked));
		rte_pktmbuf_free(c);
	}
}

/* --- REJECT and LOG: what the filter would send and write about this packet --- */

static int
is_broadcast_pkt(const struct rp_meta *meta)
{
	return (meta->flags & (RP_F_L2_BCAST | RP_F_L2_MCAST)) || meta->dst == UINT32_MAX ||
	       (meta->dst >> 28) == 0xe;
}

/* The reset's verdict from the raw bytes, in netfilter's order of checks. */
static uint32_t
reference_reset_why(struct rte_mbuf *m)
{
	const struct rp_meta *meta = rp_meta(m);
	uint32_t l4_len = meta->ip_len - (meta->l4_off - meta->l3_off);
	const uint8_t *l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l4_off);
	if (meta->proto != IPPROTO_TCP)
		return RP_REJECT_NOT_TCP;
	if (meta->flags & RP_F_FRAG_LATER)
		return RP_REJECT_FRAGMENT;
	if (l4_len < 20)
		return RP_REJECT_MALFORMED;
	uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
	if (doff < 20 || doff > l4_len)
		return RP_REJECT_MALFORMED;
	if (l4[13] & RTE_TCP_RST_FLAG)
		return RP_REJECT_RST;
	if (meta->flags & RP_F_FRAG)
		return RP_REJECT_FRAGMENT;
	if (rte_ipv4_udptcp_cksum_verify(rp_ip(m), l4) != 0)
		return RP_REJECT_BAD_CSUM;
	if (is_broadcast_pkt(meta))
		return RP_REJECT_BROADCAST;
	if (rp_ipv4_martian_src(meta->src) || (meta->src >> 28) == 0xf)
		return RP_REJECT_MARTIAN_SRC;
	return RP_REJECT_SENT;
}

/* nf_send_unreach's checksum rule, from the raw bytes. */
static int
reference_unreach_csum_ok(struct rte_mbuf *m)
{
	const struct rp_meta *meta = rp_meta(m);
	uint32_t l4_len = meta->ip_len - (meta->l4_off - meta->l3_off);
	const uint8_t *l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->l4_off);
	switch (meta->proto) {
	case IPPROTO_AH:
	case IPPROTO_ESP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
	case IPPROTO_GRE:
		return 1;
	case IPPROTO_UDP:
		if (l4_len < 8)
			return 0;
		if (l4[6] == 0 && l4[7] == 0)
			return 1;
		break;
	default:
		break;
	}
	if (meta->flags & RP_F_FRAG)
		return 0;
	if (meta->proto == IPPROTO_TCP)
		return rte_ipv4_udptcp_cksum_verify(rp_ip(m), l4) == 0;
	if (meta->proto == IPPROTO_UDP) {
		uint32_t ulen = (uint32_t)l4[4] << 8 | l4[5];
		return ulen >= 8 && ulen <= l4_len && reference_csum_ok(m, l4_len);
	}
	return rte_raw_cksum(l4, l4_len) == 0xffff;
}

static void
check_reject(struct rte_mbuf *m)
{
	const struct rp_meta *om = rp_meta(m);
	const struct rte_ipv4_hdr *oip = rp_ip(m);
	const uint8_t *ol4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, om->l4_off);
	uint16_t len = rte_pktmbuf_data_len(m);
	static uint8_t before[FUZZ_DATA_ROOM];
	memcpy(before, rte_pktmbuf_mtod(m, uint8_t *), len);
	struct rp_meta meta_before = *om;

	uint32_t why = RP_REJECT_WHY_MAX;
	uint32_t want = reference_reset_why(m);
	struct rte_mbuf *r = rp_tcp_reset(pool, m, &why);
	FUZZ_ASSERT(why == want);
	FUZZ_ASSERT((r != NULL) == (want == RP_REJECT_SENT));
	FUZZ_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), before, len) == 0);
	FUZZ_ASSERT(memcmp(om, &meta_before, sizeof(meta_before)) == 0);
	if (r != NULL) {
		FUZZ_ASSERT(rte_pktmbuf_pkt_len(r) == 54);
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(r, struct rte_ipv4_hdr *, 14);
		const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
		FUZZ_ASSERT(ip->src_addr == oip->dst_addr && ip->dst_addr == oip->src_addr);
		FUZZ_ASSERT(ip->time_to_live == 64 && ip->packet_id == 0 && ip->type_of_service == 0);
		FUZZ_ASSERT(ip->fragment_offset == RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
		FUZZ_ASSERT(rte_raw_cksum(ip, 20) == 0xffff);
		FUZZ_ASSERT(rte_ipv4_udptcp_cksum_verify(ip, th) == 0);
		FUZZ_ASSERT(memcmp(&th->src_port, ol4 + 2, 2) == 0);
		FUZZ_ASSERT(memcmp(&th->dst_port, ol4, 2) == 0);
		FUZZ_ASSERT(th->rx_win == 0 && th->data_off == 0x50);
		if (ol4[13] & RTE_TCP_ACK_FLAG) {
			FUZZ_ASSERT(th->tcp_flags == RTE_TCP_RST_FLAG);
			FUZZ_ASSERT(memcmp(&th->sent_seq, ol4 + 8, 4) == 0 && th->recv_ack == 0);
		} else {
			uint32_t seq = (uint32_t)ol4[4] << 24 | ol4[5] << 16 | ol4[6] << 8 | ol4[7];
			uint32_t doff = (uint32_t)(ol4[12] >> 4) * 4;
			uint32_t seg = om->ip_len - (om->l4_off - om->l3_off) - doff +
				       !!(ol4[13] & RTE_TCP_SYN_FLAG) + !!(ol4[13] & RTE_TCP_FIN_FLAG);
			FUZZ_ASSERT(th->tcp_flags == (RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG));
			FUZZ_ASSERT(th->sent_seq == 0 && rte_be_to_cpu_32(th->recv_ack) == seq + seg);
		}
		const struct rp_meta *rm = rp_meta(r);
		FUZZ_ASSERT(rm->src == om->dst && rm->dst == om->src && rm->proto == IPPROTO_TCP);
		FUZZ_ASSERT(rm->sport == om->dport && rm->dport == om->sport);
		FUZZ_ASSERT(rm->flags == (RP_F_LOCAL_OUT | RP_F_DF) && rm->ip_len == 40);
		FUZZ_ASSERT(rm->l3_off == 14 && rm->l4_off == 34 && rm->l4_status == RP_L4_OK);
	}

	/* the same packet as a chain cut in its L4 header: the same reset, byte for byte */
	if (len >= (uint32_t)om->l4_off + 3) {
		uint16_t h = rte_raw_cksum(before, len);
		uint32_t c1 = RTE_MIN((uint32_t)om->l4_off + (h & 0x1f), (uint32_t)len - 2);
		uint32_t c2 = c1 + 1 + ((h >> 5) % (len - c1 - 1));
		struct rte_mbuf *c = as_chain(m, c1, c2);
		uint32_t cwhy = RP_REJECT_WHY_MAX;
		struct rte_mbuf *cr = rp_tcp_reset(pool, c, &cwhy);
		FUZZ_ASSERT(cwhy == why && (cr != NULL) == (r != NULL));
		if (cr != NULL)
			FUZZ_ASSERT(memcmp(rte_pktmbuf_mtod(cr, void *), rte_pktmbuf_mtod(r, void *),
					   54) == 0);
		rte_pktmbuf_free(cr);
		rte_pktmbuf_free(c);
	}
	rte_pktmbuf_free(r);

	/* the ICMP unreachable: RFC 1812's limits, then netfilter's checksum rule */
	uint8_t code = (uint8_t)(rte_raw_cksum(before, len) % 16);
	int expect = rp_icmp_error_allowed(m) && reference_unreach_csum_ok(m);
	rte_errno = 0;
	struct rte_mbuf *e = rp_icmp_reject(pool, m, code, our_ip);
	FUZZ_ASSERT((e != NULL) == expect);
	if (e == NULL) {
		FUZZ_ASSERT(rte_errno == EPERM || rte_errno == EBADMSG);
	} else {
		const struct rp_meta *em = rp_meta(e);
		uint32_t quote = RTE_MIN((uint32_t)om->ip_len, 576u - 28);
		const uint8_t *icmp = rte_pktmbuf_mtod_offset(e, const uint8_t *, 34);
		FUZZ_ASSERT(rte_pktmbuf_pkt_len(e) == 14 + 28 + quote);
		FUZZ_ASSERT(icmp[0] == 3 && icmp[1] == code);
		FUZZ_ASSERT(rte_raw_cksum(icmp, 8 + quote) == 0xffff);
		FUZZ_ASSERT(em->dport == (3 << 8 | code) && em->sport == 0);
		FUZZ_ASSERT(em->l4_status == RP_L4_OK && em->l4_payload == quote);
		FUZZ_ASSERT(em->src == our_ip && em->dst == om->src);
		rte_pktmbuf_free(e);
	}
	FUZZ_ASSERT(rp_icmp_reject(pool, m, 16, our_ip) == NULL && rte_errno == EINVAL);
	FUZZ_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), before, len) == 0);
}

static void
check_log(struct rte_mbuf *m)
{
	static char full[2048], other[2048];
	const struct rp_meta *meta = rp_meta(m);
	const struct rte_ipv4_hdr *ip = rp_ip(m);
	int n = rp_pkt_log_format(full, sizeof(full), m, "P: ", "lan0", "wan0");
	FUZZ_ASSERT(n > 0 && (size_t)n == strlen(full) && n < 1200);
	FUZZ_ASSERT(full[n - 1] == ' ');
	for (int i = 0; i < n; i++)
		FUZZ_ASSERT(full[i] >= 0x20 && full[i] < 0x7f);

	/* everything up to the outer header's ID, rebuilt here from the bytes */
	const uint8_t *eth = rte_pktmbuf_mtod(m, const uint8_t *);
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "P: IN=lan0 OUT=wan0 MAC=%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:"
			  "%02x:%02x:%02x:%02x:%02x SRC=%u.%u.%u.%u DST=%u.%u.%u.%u LEN=%u "
			  "TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ",
			  eth[0], eth[1], eth[2], eth[3], eth[4], eth[5], eth[6], eth[7], eth[8],
			  eth[9], eth[10], eth[11], eth[12], eth[13], meta->src >> 24,
			  (meta->src >> 16) & 0xff, (meta->src >> 8) & 0xff, meta->src & 0xff,
			  meta->dst >> 24, (meta->dst >> 16) & 0xff, (meta->dst >> 8) & 0xff,
			  meta->dst & 0xff, meta->ip_len, ip->type_of_service & 0x1e,
			  ip->type_of_service & 0xe0, ip->time_to_live,
			  rte_be_to_cpu_16(ip->packet_id));
	FUZZ_ASSERT(hl > 0 && hl < n && memcmp(full, head, (size_t)hl) == 0);

	/* OUTPUT: no IN, no MAC, the rest the same */
	int on = rp_pkt_log_format(other, sizeof(other), m, NULL, NULL, "wan0");
	const char *after_mac = strstr(full, " SRC=");
	FUZZ_ASSERT(after_mac != NULL && strncmp(other, "IN= OUT=wan0", 12) == 0);
	FUZZ_ASSERT(strcmp(other + 12, after_mac) == 0 && on == (int)strlen(other));

	/* any buffer gets the start of the same line */
	uint32_t cut = 1 + rte_raw_cksum(full, (size_t)n) % (uint32_t)n;
	memset(other, 'x', cut + 1);
	int tn = rp_pkt_log_format(other, cut, m, "P: ", "lan0", "wan0");
	FUZZ_ASSERT(tn == (int)cut - 1 && other[cut - 1] == '\0' && other[cut] == 'x');
	FUZZ_ASSERT(memcmp(other, full, cut - 1) == 0);

	/* a chain reads the same */
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len >= 3) {
		uint32_t c1 = 1 + cut % (len - 2);
		uint32_t c2 = c1 + 1 + ((cut >> 3) % (len - c1 - 1));
		struct rte_mbuf *c = as_chain(m, c1, c2);
		rp_pkt_log_format(other, sizeof(other), c, "P: ", "lan0", "wan0");
		FUZZ_ASSERT(strcmp(other, full) == 0);
		rte_pktmbuf_free(c);
	}
}

static void
fuzz_one(const uint8_t *data, uint16_t len, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	FUZZ_ASSERT(m != NULL);
	memcpy(rte_pktmbuf_append(m, len), data, len);
	m->ol_flags = ol_flags;

	enum rp_pkt_kind kind = rp_pkt_parse(m, 7, &our_mac);
	struct rp_meta *meta = rp_meta(m);
	FUZZ_ASSERT(meta->kind == kind && meta->in_port == 7);
	FUZZ_ASSERT(rte_pktmbuf_pkt_len(m) == rte_pktmbuf_data_len(m));

	switch (kind) {
	case RP_PKT_DROP:
		FUZZ_ASSERT(is_parse_drop(meta->drop));
		FUZZ_ASSERT(rte_pktmbuf_pkt_len(m) == len);
		FUZZ_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), data, len) == 0);
		break;
	case RP_PKT_ARP:
		FUZZ_ASSERT(meta->drop == RP_DROP_NONE && meta->l3_off == 14);
		FUZZ_ASSERT(len >= 42 && rte_pktmbuf_pkt_len(m) == len);
		check_arp_reply(m);
		break;
	case RP_PKT_IPV4: {
		const struct rte_ipv4_hdr *ip = rp_ip(m);
		uint32_t hdr_len = rte_ipv4_hdr_len(ip);
		FUZZ_ASSERT(meta->drop == RP_DROP_NONE && meta->l3_off == 14);
		FUZZ_ASSERT((ip->version_ihl >> 4) == 4 && hdr_len >= 20);
		FUZZ_ASSERT(meta->l4_off == 14 + hdr_len);
		FUZZ_ASSERT(meta->l4_off <= rte_pktmbuf_pkt_len(m));
		FUZZ_ASSERT(meta->ip_len >= hdr_len);
		/* padding trimmed: the frame ends where the datagram does */
		FUZZ_ASSERT(meta->ip_len == rte_pktmbuf_pkt_len(m) - meta->l3_off);
		FUZZ_ASSERT(meta->ip_len == rte_be_to_cpu_16(ip->total_length));
		FUZZ_ASSERT(rte_pktmbuf_pkt_len(m) <= len);
		if (!(ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD))
			FUZZ_ASSERT(rte_raw_cksum(ip, hdr_len) == 0xffff);
		FUZZ_ASSERT(!(meta->flags & RP_F_FRAG_LATER) || (meta->flags & RP_F_FRAG));
		FUZZ_ASSERT(!(meta->flags & ~(RP_F_L2_BCAST | RP_F_L2_MCAST | RP_F_FRAG |
					      RP_F_FRAG_LATER | RP_F_DF)));
		FUZZ_ASSERT(meta->src == rte_be_to_cpu_32(ip->src_addr));
		FUZZ_ASSERT(meta->dst == rte_be_to_cpu_32(ip->dst_addr));
		FUZZ_ASSERT(meta->proto == ip->next_proto_id && meta->ttl == ip->time_to_live);
		check_l4(m);
		check_icmp_error(m);
		check_reject(m);
		check_log(m);
		check_echo_reply(m);
		break;
	}
	default:
		FUZZ_ASSERT(0);
	}
	rte_pktmbuf_free(m);
	FUZZ_ASSERT(rte_mempool_avail_count(pool) == FUZZ_POOL_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t len = (uint16_t)RTE_MIN(size, (size_t)(FUZZ_DATA_ROOM - RTE_PKTMBUF_HEADROOM));
	fuzz_one(data, len, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
	fuzz_one(data, len, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	return 0;
}
