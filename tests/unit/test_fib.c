/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB: longest prefix wins, the routes a port address implies, the default
 * "no route", replacement, and bulk lookups against a linear reference.
 *
 * Runs without hugepages. Each FIB takes 128 MiB (2^24 8-byte next hops),
 * so the tests create one at a time.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "rampart_route.h"
#include "rp_test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static uint64_t
lookup1(const struct rp_fib *fib, uint32_t ip)
{
	uint64_t nh = ~0ULL;

	rp_fib_lookup_bulk(fib, &ip, &nh, 1);
	return nh;
}

static void
test_longest_prefix(void)
{
	struct rp_fib *fib = rp_fib_create("fib_lpm", 64, SOCKET_ID_ANY);

	CHECK(fib != NULL);
	if (fib == NULL)
		return;
	const uint64_t nh0 = rp_nh_make(RP_RT_GATEWAY, 0, IP(192, 0, 2, 1));
	const uint64_t nh8 = rp_nh_make(RP_RT_GATEWAY, 1, IP(192, 0, 2, 8));
	const uint64_t nh16 = rp_nh_make(RP_RT_GATEWAY, 2, IP(192, 0, 2, 16));
	const uint64_t nh24 = rp_nh_make(RP_RT_DIRECT, 3, 0);
	const uint64_t nh32 = rp_nh_make(RP_RT_GATEWAY, 4, IP(192, 0, 2, 32));

	/* added shortest last, so insertion order cannot be what decides */
	CHECK_EQ(rp_fib_add(fib, IP(10, 1, 2, 3), 32, nh32, "static"), 0);
	CHECK_EQ(rp_fib_add(fib, IP(10, 1, 2, 0), 24, nh24, "static"), 0);
	CHECK_EQ(rp_fib_add(fib, IP(10, 1, 0, 0), 16, nh16, "static"), 0);
	CHECK_EQ(rp_fib_add(fib, IP(10, 0, 0, 0), 8, nh8, "static"), 0);
	CHECK_EQ(rp_fib_add(fib, 0, 0, nh0, "static"), 0);
	CHECK_EQ(rp_fib_count(fib), 5);

	CHECK_EQ(lookup1(fib, IP(10, 1, 2, 3)), nh32);
	CHECK_EQ(lookup1(fib, IP(10, 1, 2, 4)), nh24);
	CHECK_EQ(lookup1(fib, IP(10, 1, 2, 2)), nh24);
	CHECK_EQ(lookup1(fib, IP(10, 1, 3, 3)), nh16);
	CHECK_EQ(lookup1(fib, IP(10, 1, 255, 255)), nh16);
	CHECK_EQ(lookup1(fib, IP(10, 2, 2, 3)), nh8);
	CHECK_EQ(lookup1(fib, IP(10, 0, 0, 0)), nh8);
	CHECK_EQ(lookup1(fib, IP(11, 1, 2, 3)), nh0);
	CHECK_EQ(lookup1(fib, IP(9, 255, 255, 255)), nh0);
	CHECK_EQ(lookup1(fib, IP(255, 255, 255, 255)), nh0);

	/* the accessors give back what was packed */
	uint64_t nh = lookup1(fib, IP(10, 1, 3, 3));
	CHECK_EQ(rp_nh_type(nh), RP_RT_GATEWAY);
	CHECK_EQ(rp_nh_port(nh), 2);
	CHECK_EQ(rp_nh_gw(nh), IP(192, 0, 2, 16));

	/* listing keeps insertion order; host bits are not kept */
	const struct rp_route_info *r = rp_fib_route(fib, 1);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_EQ(r->prefix, IP(10, 1, 2, 0));
		CHECK_EQ(r->len, 24);
		CHECK_EQ(r->type, RP_RT_DIRECT);
		CHECK_EQ(r->port, 3);
		CHECK_STR_CONTAINS(r->origin, "static");
	}
	CHECK(rp_fib_route(fib, 5) == NULL);

	/* errors */
	CHECK_EQ(rp_fib_add(fib, IP(10, 0, 0, 0), 33, nh8, "static"), -EINVAL);
	CHECK_EQ(rp_fib_add(fib, IP(10, 0, 0, 0), 8, 0, "static"), -EINVAL);
	CHECK_EQ(rp_fib_count(fib), 5);
	rp_fib_free(fib);
}

static void
check_route(const struct rp_fib *fib, unsigned i, uint32_t prefix, uint8_t len,
	    enum rp_route_type type, uint8_t port, const char *origin)
{
	const struct rp_route_info *r = rp_fib_route(fib, i);

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_EQ(r->prefix, prefix);
	CHECK_EQ(r->len, len);
	CHECK_EQ(r->type, type);
	CHECK_EQ(r->port, port);
	CHECK_EQ(r->gw, 0);
	CHECK(strcmp(r->origin, origin) == 0);
}

static void
test_interface_routes(void)
{
	struct rp_fib *fib = rp_fib_create("fib_if", 64, SOCKET_ID_ANY);

	CHECK(fib != NULL);
	if (fib == NULL)
		return;

	/* /24: local, connected, broadcast */
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 1, 1), 24, 2), 0);
	CHECK_EQ(rp_fib_count(fib), 3);
	check_route(fib, 0, IP(198, 18, 1, 1), 32, RP_RT_LOCAL, 2, "local");
	check_route(fib, 1, IP(198, 18, 1, 0), 24, RP_RT_DIRECT, 2, "connected");
	check_route(fib, 2, IP(198, 18, 1, 255), 32, RP_RT_BCAST, 2, "broadcast");
	CHECK_EQ(lookup1(fib, IP(198, 18, 1, 1)), rp_nh_make(RP_RT_LOCAL, 2, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 1, 77)), rp_nh_make(RP_RT_DIRECT, 2, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 1, 0)), rp_nh_make(RP_RT_DIRECT, 2, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 1, 254)), rp_nh_make(RP_RT_DIRECT, 2, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 1, 255)), rp_nh_make(RP_RT_BCAST, 2, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 2, 1)), 0);

	/* /30: still has a broadcast address */
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 4, 1), 30, 0), 0);
	CHECK_EQ(rp_fib_count(fib), 6);
	check_route(fib, 5, IP(198, 18, 4, 3), 32, RP_RT_BCAST, 0, "broadcast");
	CHECK_EQ(lookup1(fib, IP(198, 18, 4, 2)), rp_nh_make(RP_RT_DIRECT, 0, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 4, 3)), rp_nh_make(RP_RT_BCAST, 0, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 4, 4)), 0);

	/* /31 (RFC 3021): both addresses are hosts, no broadcast */
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 2, 0), 31, 1), 0);
	CHECK_EQ(rp_fib_count(fib), 8);
	check_route(fib, 6, IP(198, 18, 2, 0), 32, RP_RT_LOCAL, 1, "local");
	check_route(fib, 7, IP(198, 18, 2, 0), 31, RP_RT_DIRECT, 1, "connected");
	CHECK_EQ(lookup1(fib, IP(198, 18, 2, 0)), rp_nh_make(RP_RT_LOCAL, 1, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 2, 1)), rp_nh_make(RP_RT_DIRECT, 1, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 2, 2)), 0);

	/* /32: the address alone */
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 3, 1), 32, 3), 0);
	CHECK_EQ(rp_fib_count(fib), 9);
	check_route(fib, 8, IP(198, 18, 3, 1), 32, RP_RT_LOCAL, 3, "local");
	CHECK_EQ(lookup1(fib, IP(198, 18, 3, 1)), rp_nh_make(RP_RT_LOCAL, 3, 0));
	CHECK_EQ(lookup1(fib, IP(198, 18, 3, 2)), 0);
	CHECK_EQ(lookup1(fib, IP(198, 18, 3, 0)), 0);

	/* an address that is its subnet's broadcast is refused, and adds nothing */
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 5, 255), 24, 0), -EINVAL);
	CHECK_EQ(rp_fib_add_interface(fib, IP(198, 18, 6, 1), 33, 0), -EINVAL);
	CHECK_EQ(rp_fib_count(fib), 9);
	rp_fib_free(fib);
}

static void
test_no_route_and_replace(void)
{
	struct rp_fib *fib = rp_fib_create("fib_repl", 3, SOCKET_ID_ANY);

	CHECK(fib != NULL);
	if (fib == NULL)
		return;

	/* an empty FIB answers RP_RT_NONE (0) for every address */
	uint32_t ips[3] = {0, IP(198, 51, 100, 7), 0xffffffff};
	uint64_t nhs[3] = {1, 1, 1};
	rp_fib_lookup_bulk(fib, ips, nhs, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(nhs[i], 0);
		CHECK_EQ(rp_nh_type(nhs[i]), RP_RT_NONE);
	}
	CHECK_EQ(rp_fib_count(fib), 0);
	CHECK(rp_fib_route(fib, 0) == NULL);

	const uint64_t via_a = rp_nh_make(RP_RT_GATEWAY, 1, IP(198, 19, 1, 254));
	const uint64_t via_b = rp_nh_make(RP_RT_GATEWAY, 5, IP(198, 18, 1, 254));
	CHECK_EQ(rp_fib_add(fib, IP(203, 0, 113, 0), 24, via_a, "static"), 0);
	CHECK_EQ(rp_fib_add(fib, 0, 0, rp_nh_make(RP_RT_DIRECT, 0, 0), "static"), 0);
	CHECK_EQ(lookup1(fib, IP(203, 0, 113, 9)), via_a);

	/* same prefix (given with host bits): replaced in place, not added */
	CHECK_EQ(rp_fib_add(fib, IP(203, 0, 113, 99), 24, via_b, "connected"), 0);
	CHECK_EQ(rp_fib_count(fib), 2);
	CHECK_EQ(lookup1(fib, IP(203, 0, 113, 9)), via_b);
	const struct rp_route_info *r = rp_fib_route(fib, 0);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_EQ(r->prefix, IP(203, 0, 113, 0));
		CHECK_EQ(r->len, 24);
		CHECK_EQ(r->port, 5);
		CHECK_EQ(r->gw, IP(198, 18, 1, 254));
		CHECK(strcmp(r->origin, "connected") == 0);
	}
	/* same address, other length: a route of its own */
	CHECK_EQ(rp_fib_add(fib, IP(203, 0, 113, 0), 25, via_a, "static"), 0);
	CHECK_EQ(rp_fib_count(fib), 3);
	CHECK_EQ(lookup1(fib, IP(203, 0, 113, 9)), via_a);
	CHECK_EQ(lookup1(fib, IP(203, 0, 113, 200)), via_b);

	/* full: a new prefix is refused, a replacement still works */
	CHECK_EQ(rp_fib_add(fib, IP(192, 0, 2, 0), 24, via_a, "static"), -ENOSPC);
	CHECK_EQ(rp_fib_add(fib, 0, 0, via_a, "static"), 0);
	CHECK_EQ(rp_fib_count(fib), 3);
	CHECK_EQ(lookup1(fib, IP(192, 0, 2, 1)), via_a);
	rp_fib_free(fib);
}

/* ---- bulk lookups against a linear longest-prefix match ----------------- */

#define RND_ROUTES 300
#define RND_ADDRS 1000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng32(void)
{
	/* xorshift64*: reproducible across runs and platforms */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

struct ref_route {
	uint32_t prefix;
	uint8_t len;
	uint64_t nh;
};

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static uint64_t
ref_lookup(const struct ref_route *routes, unsigned n, uint32_t ip)
{
	int best_len = -1;
	uint64_t best = 0;

	for (unsigned i = 0; i < n; i++)
		if ((ip & mask_of(routes[i].len)) == routes[i].prefix && routes[i].len > best_len) {
			best_len = routes[i].len;
			best = routes[i].nh;
		}
	return best;
}

static void
test_bulk_random(void)
{
	static struct ref_route ref[RND_ROUTES];
	static uint32_t ips[RND_ADDRS];
	static uint64_t nhs[RND_ADDRS];
	unsigned n_ref = 0;
	struct rp_fib *fib = rp_fib_create("fib_rnd", RND_ROUTES, SOCKET_ID_ANY);

	CHECK(fib != NULL);
	if (fib == NULL)
		return;

	for (unsigned i = 0; i < RND_ROUTES; i++) {
		/* few short prefixes, many long ones (beyond /24 uses tbl8);
		 * no /0, so that some addresses have no route */
		static const uint8_t lens[] = {1, 4, 8, 12, 16, 20, 22, 24, 24, 25, 26, 28, 30, 31, 32, 32};
		uint8_t len = lens[rng32() % RTE_DIM(lens)];
		/* a handful of /8s so that prefixes nest */
		uint32_t base = ((10u + rng32() % 4) << 24) | (rng32() & 0x00ffffffu);
		uint32_t prefix = base & mask_of(len);
		uint64_t nh = rp_nh_make(RP_RT_GATEWAY, (uint8_t)(rng32() % 16), rng32());
		unsigned j;

		CHECK_EQ(rp_fib_add(fib, base, len, nh, "static"), 0);
		for (j = 0; j < n_ref; j++)
			if (ref[j].prefix == prefix && ref[j].len == len)
				break;
		ref[j] = (struct ref_route){prefix, len, nh};
		if (j == n_ref)
			n_ref++;
	}
	CHECK_EQ(rp_fib_count(fib), n_ref);

	for (unsigned i = 0; i < RND_ADDRS; i++) {
		switch (i % 3) {
		case 0: /* anywhere */
			ips[i] = rng32();
			break;
		case 1: /* inside the nested /8s */
			ips[i] = ((10u + rng32() % 4) << 24) | (rng32() & 0x00ffffffu);
			break;
		default: /* inside a route, host part random */
		{
			const struct ref_route *r = &ref[rng32() % n_ref];
			ips[i] = r->prefix | (rng32() & ~mask_of(r->len));
		}
		}
	}
	/* one call far beyond a burst */
	rp_fib_lookup_bulk(fib, ips, nhs, RND_ADDRS);
	unsigned mismatches = 0, hits = 0;
	for (unsigned i = 0; i < RND_ADDRS; i++) {
		uint64_t want = ref_lookup(ref, n_ref, ips[i]);
		if (nhs[i] != want) {
			if (mismatches++ < 5)
				fprintf(stderr, "lookup %08x: got %016llx, want %016llx\n", ips[i],
					(unsigned long long)nhs[i], (unsigned long long)want);
		}
		hits += want != 0;
	}
	CHECK_EQ(mismatches, 0);
	/* the sample must exercise both outcomes to mean anything */
	CHECK(hits > RND_ADDRS / 2);
	CHECK(hits < RND_ADDRS);

	/* listing matches the reference, route by route */
	unsigned listed_ok = 0;
	for (unsigned i = 0; i < rp_fib_count(fib); i++) {
		const struct rp_route_info *r = rp_fib_route(fib, i);
		if (r != NULL && r->prefix == ref[i].prefix && r->len == ref[i].len &&
		    rp_nh_make((enum rp_route_type)r->type, r->port, r->gw) == ref[i].nh)
			listed_ok++;
	}
	CHECK_EQ(listed_ok, n_ref);
	rp_fib_free(fib);
}

static void
test_mem_size(void)
{
	struct rte_malloc_socket_stats before, after;
	const unsigned max_routes = 1024;
	int socket = rte_socket_id();

	CHECK_EQ(rte_malloc_get_socket_stats(socket, &before), 0);
	struct rp_fib *fib = rp_fib_create("fib_mem", max_routes, socket);
	CHECK(fib != NULL);
	CHECK_EQ(rte_malloc_get_socket_stats(socket, &after), 0);
	size_t used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	size_t estimate = rp_fib_mem_size(max_routes);
	if (getenv("RP_TEST_VERBOSE") || used > estimate || estimate > used + used / 4)
		fprintf(stderr, "fib memory: used %zu, estimated %zu\n", used, estimate);
	CHECK(used <= estimate);
	CHECK(estimate <= used + used / 4);
	rp_fib_free(fib);

	/* a FIB for no routes is refused with rte_errno set */
	CHECK(rp_fib_create("fib_bad", 0, socket) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
}

int
main(void)
{
	rp_test_eal_init("test_fib");
	test_longest_prefix();
	test_interface_routes();
	test_no_route_and_replace();
	test_bulk_random();
	test_mem_size();
	return rp_test_done("test_fib");
}
