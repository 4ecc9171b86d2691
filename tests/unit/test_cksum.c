/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incremental checksum update (RFC 1624) and TTL decrement against a full
 * recomputation with rte_ipv4_cksum, on random headers with options and on
 * the edge cases where the checksum is one of the two zeros.
 */

#include <stdio.h>
#include <string.h>

#include "rampart_pkt.h"
#include "rp_test.h"

#define RANDOM_HEADERS 200000

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Room for the longest header, aligned as it would be in a frame. */
union hdr_buf {
	struct rte_ipv4_hdr ip;
	uint8_t bytes[60];
};

/* Reference: rte_ipv4_cksum wants the checksum field zero. */
static uint16_t
full_cksum(const struct rte_ipv4_hdr *ip)
{
	union hdr_buf copy;
	memcpy(copy.bytes, ip, rte_ipv4_hdr_len(ip));
	copy.ip.hdr_checksum = 0;
	return rte_ipv4_cksum(&copy.ip);
}

/* A receiver's check: the sum over the header, checksum included, is -0. */
static int
cksum_valid(const struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

static void
random_header(union hdr_buf *h)
{
	for (unsigned i = 0; i < sizeof(h->bytes); i++)
		h->bytes[i] = (uint8_t)rng();
	h->ip.version_ihl = 0x40 | (uint8_t)(5 + rng() % 11);
	h->ip.time_to_live = (uint8_t)(1 + rng() % 255);
	h->ip.hdr_checksum = 0;
	h->ip.hdr_checksum = rte_ipv4_cksum(&h->ip);
}

static void
test_random_headers(void)
{
	unsigned bad_dec = 0, bad_upd = 0, bad_full = 0, ttl_one = 0;
	for (unsigned n = 0; n < RANDOM_HEADERS; n++) {
		union hdr_buf h;
		random_header(&h);
		unsigned words16 = rte_ipv4_hdr_len(&h.ip) / 2;

		/* rp_ipv4_cksum needs no zeroed field and agrees with DPDK's */
		if (rp_ipv4_cksum(&h.ip) != h.ip.hdr_checksum)
			bad_full++;

		/* TTL decrement */
		union hdr_buf d = h;
		if (d.ip.time_to_live == 1)
			ttl_one++;
		rp_ipv4_dec_ttl(&d.ip);
		/* nothing else moved */
		union hdr_buf rest = d;
		rest.ip.time_to_live = h.ip.time_to_live;
		rest.ip.hdr_checksum = h.ip.hdr_checksum;
		if (d.ip.time_to_live != (uint8_t)(h.ip.time_to_live - 1) ||
		    d.ip.hdr_checksum != full_cksum(&d.ip) || !cksum_valid(&d.ip) ||
		    memcmp(rest.bytes, h.bytes, sizeof(h.bytes)) != 0)
			bad_dec++;

		/* any one 16-bit word other than version/IHL and the checksum */
		union hdr_buf u = h;
		unsigned w;
		do
			w = 1 + rng() % (words16 - 1);
		while (w == 5);
		rte_be16_t old_word, new_word = (rte_be16_t)rng();
		memcpy(&old_word, u.bytes + 2 * w, 2);
		memcpy(u.bytes + 2 * w, &new_word, 2);
		u.ip.hdr_checksum = rp_cksum_update16(u.ip.hdr_checksum, old_word, new_word);
		if (u.ip.hdr_checksum != full_cksum(&u.ip) || !cksum_valid(&u.ip))
			bad_upd++;
	}
	CHECK_EQ(bad_full, 0);
	CHECK_EQ(bad_dec, 0);
	CHECK_EQ(bad_upd, 0);
	/* the generator does reach the TTL that becomes 0 */
	CHECK(ttl_one > 0);
}

/* Set the ID so that the header minus its checksum sums to 0xffff. */
static void
make_rest_sum_ffff(union hdr_buf *h)
{
	h->ip.packet_id = 0;
	h->ip.hdr_checksum = 0;
	h->ip.packet_id = (uint16_t)~rte_raw_cksum(&h->ip, rte_ipv4_hdr_len(&h->ip));
}

static void
test_edges(void)
{
	/* RFC 1624 section 4's example: the result is the zero eqn. 2 got wrong */
	CHECK_EQ(rte_be_to_cpu_16(rp_cksum_update16(RTE_BE16(0xdd2f), RTE_BE16(0x5555),
						    RTE_BE16(0x3285))),
		 0x0000);
	/* no change, no change in the checksum */
	CHECK_EQ(rp_cksum_update16(RTE_BE16(0x1234), RTE_BE16(0xabcd), RTE_BE16(0xabcd)),
		 RTE_BE16(0x1234));

	union hdr_buf h;

	/* checksum 0x0000 before: the header without it sums to 0xffff */
	random_header(&h);
	h.ip.version_ihl = 0x45;
	h.ip.time_to_live = 64;
	make_rest_sum_ffff(&h);
	h.ip.hdr_checksum = rte_ipv4_cksum(&h.ip);
	CHECK_EQ(h.ip.hdr_checksum, 0x0000);
	CHECK(cksum_valid(&h.ip));
	CHECK_EQ(rp_ipv4_cksum(&h.ip), 0x0000);
	union hdr_buf d = h;
	rp_ipv4_dec_ttl(&d.ip);
	CHECK_EQ(d.ip.time_to_live, 63);
	/* TTL is the high byte of its word: the checksum gains 0x0100 */
	CHECK_EQ(rte_be_to_cpu_16(d.ip.hdr_checksum), 0x0100);
	CHECK_EQ(d.ip.hdr_checksum, full_cksum(&d.ip));
	CHECK(cksum_valid(&d.ip));

	/* the same header carrying 0xffff, the other zero a sender may write */
	d = h;
	d.ip.hdr_checksum = 0xffff;
	CHECK(cksum_valid(&d.ip));
	rp_ipv4_dec_ttl(&d.ip);
	CHECK_EQ(rte_be_to_cpu_16(d.ip.hdr_checksum), 0x0100);
	CHECK(cksum_valid(&d.ip));

	/* checksum 0x0000 after: the decrement lands exactly on the zero */
	random_header(&h);
	h.ip.version_ihl = 0x47;
	h.ip.time_to_live = 1;
	make_rest_sum_ffff(&h); /* with TTL 1; then raise TTL to 2 */
	h.ip.time_to_live = 2;
	h.ip.hdr_checksum = rte_ipv4_cksum(&h.ip);
	CHECK_EQ(rte_be_to_cpu_16(h.ip.hdr_checksum), 0xfeff);
	d = h;
	rp_ipv4_dec_ttl(&d.ip);
	CHECK_EQ(d.ip.time_to_live, 1);
	CHECK_EQ(d.ip.hdr_checksum, 0x0000);
	CHECK_EQ(d.ip.hdr_checksum, full_cksum(&d.ip));
	CHECK(cksum_valid(&d.ip));

	/* checksum 0xffff after a change, from the RFC's all-ones corner */
	CHECK_EQ(rp_cksum_update16(RTE_BE16(0xffff), RTE_BE16(0xffff), RTE_BE16(0x0000)),
		 RTE_BE16(0xffff));

	/* TTL 1 -> 0 and 255 -> 254 */
	random_header(&h);
	h.ip.time_to_live = 1;
	h.ip.hdr_checksum = full_cksum(&h.ip);
	rp_ipv4_dec_ttl(&h.ip);
	CHECK_EQ(h.ip.time_to_live, 0);
	CHECK_EQ(h.ip.hdr_checksum, full_cksum(&h.ip));
	h.ip.time_to_live = 255;
	h.ip.hdr_checksum = full_cksum(&h.ip);
	rp_ipv4_dec_ttl(&h.ip);
	CHECK_EQ(h.ip.time_to_live, 254);
	CHECK_EQ(h.ip.hdr_checksum, full_cksum(&h.ip));
}

int
main(void)
{
	rp_test_eal_init("test_cksum");
	test_random_headers();
	test_edges();
	return rp_test_done("test_cksum");
}
