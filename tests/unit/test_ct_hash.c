/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow affinity hash: equal to DPDK's rte_softrss with the symmetric key
 * (what a NIC computes for IPv4 RSS), symmetric in the address pair, and
 * spreading pairs over workers; ICMP errors steer by the quoted pair.
 */
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_thash.h>

#include "rampart_conntrack.h"
#include "rp_test.h"

static uint8_t key[40];

static void
test_matches_softrss(void)
{
	for (unsigned i = 0; i < sizeof(key); i += 2) {
		key[i] = 0x6d;
		key[i + 1] = 0x5a;
	}
	for (int i = 0; i < 100000; i++) {
		uint32_t t[2] = {(uint32_t)rte_rand(), (uint32_t)rte_rand()};
		uint32_t want = rte_softrss(t, 2, key);
		uint32_t got = rp_ct_flow_hash(t[0], t[1]);
		if (got != want) {
			CHECK_EQ(got, want);
			break;
		}
		if (rp_ct_flow_hash(t[1], t[0]) != got) {
			CHECK(!"not symmetric");
			break;
		}
	}
	CHECK_EQ(rp_ct_flow_hash(0, 0), 0);
}

static void
test_spread(void)
{
	/* 4096 client addresses to one server over 2 and 3 workers: none starves */
	unsigned per[3][3] = {{0}};
	for (uint32_t c = 0; c < 4096; c++) {
		uint32_t h = rp_ct_flow_hash(0xc6120000 + c, 0xc6130102);
		for (unsigned n = 2; n <= 3; n++)
			per[n - 1][rp_ct_owner(h, n)]++;
	}
	for (unsigned w = 0; w < 2; w++)
		CHECK(per[1][w] > 4096 / 2 * 8 / 10);
	for (unsigned w = 0; w < 3; w++)
		CHECK(per[2][w] > 4096 / 3 * 8 / 10);
}

static void
test_icmp_error_steering(struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 20 + 8);
	struct rp_meta *md = rp_meta(m);
	struct rte_ipv4_hdr *inner = (struct rte_ipv4_hdr *)(p + 14 + 20 + 8);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(p + 14 + 20);
	uint32_t a, b;

	memset(p, 0, m->pkt_len);
	memset(md, 0, sizeof(*md));
	md->src = 0xc6130101; /* a router in between sends the error */
	md->dst = 0xc6120102;
	md->proto = IPPROTO_ICMP;
	md->l3_off = 14;
	md->l4_off = 34;
	icmp->icmp_type = 3;
	inner->version_ihl = 0x45;
	inner->src_addr = rte_cpu_to_be_32(0xc6120102);
	inner->dst_addr = rte_cpu_to_be_32(0xcb007109);
	rp_ct_steering_pair(m, &a, &b);
	CHECK_EQ(a, 0xc6120102);
	CHECK_EQ(b, 0xcb007109);

	/* an echo request steers by its own pair */
	icmp->icmp_type = 8;
	rp_ct_steering_pair(m, &a, &b);
	CHECK_EQ(a, 0xc6130101);
	CHECK_EQ(b, 0xc6120102);

	/* an error too short to quote a header: the outer pair */
	icmp->icmp_type = 11;
	rte_pktmbuf_trim(m, 20);
	rp_ct_steering_pair(m, &a, &b);
	CHECK_EQ(a, 0xc6130101);
	rte_pktmbuf_free(m);
}

int
main(void)
{
	rp_test_eal_init("ct_hash");
	struct rte_mempool *mp = rte_pktmbuf_pool_create("hash_pool", 63, 0, RP_MBUF_PRIV_SIZE,
							 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(mp != NULL);
	test_matches_softrss();
	test_spread();
	test_icmp_error_steering(mp);
	rte_mempool_free(mp);
	return rp_test_done("test_ct_hash");
}
