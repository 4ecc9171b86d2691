/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow affinity: which worker owns a packet. The key is the address pair,
 * hashed with Toeplitz and the repeated 0x6d5a key, which is symmetric
 * (the key repeats every 16 bits, so swapping the two 32-bit addresses
 * gives the same hash) and is what a NIC computes for RTE_ETH_RSS_IPV4 with
 * that key. Why the address pair and not the 5-tuple: see
 * docs/architecture.md "Flow affinity".
 */
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_thash.h>

#include "rampart_conntrack.h"

/* Toeplitz over 8 input bytes as 8 table lookups: flow_tbl[i][v] is the XOR
 * of the 32-bit key windows that the set bits of byte value v at input
 * position i select. Built once, before any worker runs. */
static uint32_t flow_tbl[8][256];

/* 16 bytes: key_window reads 8 bytes from byte 7 for the last input bit */
static const uint8_t sym_key[16] = {0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
				     0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

/* The 32 key bits starting at bit @p bit (MSB first). */
static uint32_t
key_window(unsigned bit)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | sym_key[bit / 8 + i];
	return (uint32_t)(v >> (32 - bit % 8));
}

static void __attribute__((constructor))
flow_tbl_init(void)
{
	for (unsigned pos = 0; pos < 8; pos++)
		for (unsigned v = 0; v < 256; v++) {
			uint32_t h = 0;
			for (unsigned b = 0; b < 8; b++)
				if (v & (0x80 >> b))
					h ^= key_window(pos * 8 + b);
			flow_tbl[pos][v] = h;
		}
}

uint32_t
rp_ct_flow_hash(uint32_t src, uint32_t dst)
{
	return flow_tbl[0][src >> 24] ^ flow_tbl[1][(src >> 16) & 0xff] ^
	       flow_tbl[2][(src >> 8) & 0xff] ^ flow_tbl[3][src & 0xff] ^
	       flow_tbl[4][dst >> 24] ^ flow_tbl[5][(dst >> 16) & 0xff] ^
	       flow_tbl[6][(dst >> 8) & 0xff] ^ flow_tbl[7][dst & 0xff];
}

static int
icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

void
rp_ct_steering_pair(struct rte_mbuf *m, uint32_t *a, uint32_t *b)
{
	struct rp_meta *md = rp_meta(m);

	*a = md->src;
	*b = md->dst;
	if (md->proto != IPPROTO_ICMP || (md->flags & RP_F_FRAG_LATER))
		return;
	/* an ICMP error goes to the owner of the connection it quotes */
	uint32_t off = md->l4_off;
	struct rte_icmp_hdr icmp_buf;
	const struct rte_icmp_hdr *icmp = rte_pktmbuf_read(m, off, sizeof(icmp_buf), &icmp_buf);
	if (icmp == NULL || !icmp_is_error(icmp->icmp_type))
		return;
	struct rte_ipv4_hdr inner_buf;
	const struct rte_ipv4_hdr *inner =
		rte_pktmbuf_read(m, off + sizeof(struct rte_icmp_hdr), sizeof(inner_buf), &inner_buf);
	if (inner == NULL || (inner->version_ihl >> 4) != 4)
		return;
	*a = rte_be_to_cpu_32(inner->src_addr);
	*b = rte_be_to_cpu_32(inner->dst_addr);
}
