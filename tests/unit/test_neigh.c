/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour table: resolution with held packets, retransmission and giving
 * up, learning as Linux does with arp_accept=0, aging of used and unused
 * entries, listing, and key positions reused only after an RCU grace
 * period. A mock rp_neigh_ops records every request, release and drop.
 *
 * Runs without hugepages.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "rampart_route.h"
#include "rp_test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define MAX_CALLS 64

static struct rte_mempool *pool;

/* ---- the mock ops ------------------------------------------------------- */

struct request_call {
	uint8_t port;
	uint32_t ip;
	bool unicast;
	struct rte_ether_addr mac;
};
struct release_call {
	uint32_t id;
	uint64_t l2;
};
struct drop_call {
	uint32_t id;
	enum rp_drop reason;
};

static struct request_call requests[MAX_CALLS];
static struct release_call releases[MAX_CALLS];
static struct drop_call drops[MAX_CALLS];
static unsigned n_requests, n_releases, n_drops;

static void
calls_reset(void)
{
	n_requests = n_releases = n_drops = 0;
}

/* Each test packet carries a 4-byte id, so order can be checked after
 * the mbuf went back to the pool. */
static struct rte_mbuf *
pkt(uint32_t id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		exit(1);
	}
	memcpy(rte_pktmbuf_append(m, sizeof(id)), &id, sizeof(id));
	return m;
}

static uint32_t
pkt_id(struct rte_mbuf *m)
{
	uint32_t id;

	memcpy(&id, rte_pktmbuf_mtod(m, void *), sizeof(id));
	return id;
}

static void
mock_send_request(void *arg, uint8_t port, uint32_t ip, const struct rte_ether_addr *mac)
{
	CHECK(arg == &pool);
	if (n_requests == MAX_CALLS)
		return;
	requests[n_requests] = (struct request_call){.port = port, .ip = ip, .unicast = mac != NULL};
	if (mac != NULL)
		requests[n_requests].mac = *mac;
	n_requests++;
}

static void
mock_release(void *arg, struct rte_mbuf *m, uint64_t l2)
{
	CHECK(arg == &pool);
	if (n_releases < MAX_CALLS)
		releases[n_releases++] = (struct release_call){pkt_id(m), l2};
	rte_pktmbuf_free(m);
}

static void
mock_drop(void *arg, struct rte_mbuf *m, enum rp_drop reason)
{
	CHECK(arg == &pool);
	if (n_drops < MAX_CALLS)
		drops[n_drops++] = (struct drop_call){pkt_id(m), reason};
	rte_pktmbuf_free(m);
}

static const struct rp_neigh_ops mock_ops = {
	.send_request = mock_send_request,
	.release = mock_release,
	.drop = mock_drop,
	.arg = &pool,
};

/* ---- helpers ------------------------------------------------------------ */

static const struct rte_ether_addr mac_a = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
static const struct rte_ether_addr mac_b = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
static const struct rte_ether_addr mac_c = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x0c}};

static uint64_t
lookup1(struct rp_neigh_table *t, unsigned worker, uint32_t ip)
{
	uint64_t l2 = ~0ULL;

	rp_neigh_lookup_bulk(t, worker, &ip, &l2, 1);
	return l2;
}

/* The listed entry for @p ip, or false. */
static bool
find_info(struct rp_neigh_table *t, uint32_t ip, uint64_t now_ms, struct rp_neigh_info *info)
{
	struct rp_neigh_info all[64];
	unsigned n = rp_neigh_list(t, 0, all, RTE_DIM(all), now_ms);

	for (unsigned i = 0; i < n; i++)
		if (all[i].ip == ip) {
			*info = all[i];
			return true;
		}
	return false;
}

static int
state_of(struct rp_neigh_table *t, uint32_t ip)
{
	struct rp_neigh_info info;

	return find_info(t, ip, 0, &info) ? info.state : -1;
}

static struct rp_neigh_table *
table(const char *name, unsigned max, unsigned n_workers)
{
	struct rp_neigh_table *t = rp_neigh_create(name, max, n_workers, NULL, SOCKET_ID_ANY,
						   &mock_ops);

	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "rp_neigh_create(%s): %s\n", name, rte_strerror(rte_errno));
		exit(1);
	}
	rp_neigh_set_timing(t, 30000, 1000, 3, 16, 60000);
	calls_reset();
	return t;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_resolution_gives_up(void)
{
	struct rp_neigh_table *t = table("nb_giveup", 64, 1);
	const uint32_t nh = IP(198, 18, 1, 20);
	struct rp_neigh_info info;

	/* the first packet creates the entry and sends one broadcast request */
	rp_neigh_hold(t, nh, 2, pkt(1), 1000);
	CHECK_EQ(n_requests, 1);
	CHECK_EQ(requests[0].port, 2);
	CHECK_EQ(requests[0].ip, nh);
	CHECK(!requests[0].unicast);
	CHECK_EQ(rp_neigh_count(t), 1);
	CHECK(find_info(t, nh, 1000, &info));
	CHECK_EQ(info.state, RP_NEIGH_INCOMPLETE);
	CHECK_EQ(info.held, 1);
	CHECK_EQ(info.port, 2);
	CHECK_EQ(lookup1(t, 0, nh), 0);

	/* a second packet waits too, without a new request */
	rp_neigh_hold(t, nh, 2, pkt(2), 1500);
	CHECK_EQ(n_requests, 1);
	CHECK(find_info(t, nh, 1500, &info));
	CHECK_EQ(info.held, 2);

	/* retransmissions exactly every retrans_ms */
	rp_neigh_tick(t, 1999);
	CHECK_EQ(n_requests, 1);
	rp_neigh_tick(t, 2000);
	CHECK_EQ(n_requests, 2);
	CHECK_EQ(requests[1].ip, nh);
	CHECK_EQ(requests[1].port, 2);
	CHECK(!requests[1].unicast);
	rp_neigh_tick(t, 2500);
	CHECK_EQ(n_requests, 2);
	rp_neigh_tick(t, 3000);
	CHECK_EQ(n_requests, 3);

	/* the third (last) request times out: held packets dropped, entry gone */
	rp_neigh_tick(t, 3999);
	CHECK_EQ(n_drops, 0);
	CHECK_EQ(rp_neigh_count(t), 1);
	rp_neigh_tick(t, 4000);
	CHECK_EQ(n_requests, 3);
	CHECK_EQ(n_drops, 2);
	CHECK_EQ(drops[0].id, 1);
	CHECK_EQ(drops[0].reason, RP_DROP_NEIGH_UNRESOLVED);
	CHECK_EQ(drops[1].id, 2);
	CHECK_EQ(drops[1].reason, RP_DROP_NEIGH_UNRESOLVED);
	CHECK_EQ(n_releases, 0);
	CHECK_EQ(rp_neigh_count(t), 0);
	CHECK_EQ(lookup1(t, 0, nh), 0);

	/* a later packet starts over */
	rp_neigh_hold(t, nh, 2, pkt(3), 9000);
	CHECK_EQ(n_requests, 4);
	CHECK_EQ(rp_neigh_count(t), 1);
	rp_neigh_free(t); /* frees the held packet itself, not through ops */
	CHECK_EQ(n_drops, 2);
}

static void
test_overflow_and_reply(void)
{
	struct rp_neigh_table *t = table("nb_reply", 64, 1);
	const uint32_t nh = IP(198, 19, 1, 254);
	const uint64_t want = rp_l2_make(&mac_b, 1);
	struct rp_neigh_info info;

	rp_neigh_set_timing(t, 30000, 1000, 3, 3, 60000);
	for (uint32_t id = 1; id <= 5; id++)
		rp_neigh_hold(t, nh, 1, pkt(id), 100);
	CHECK_EQ(n_requests, 1);
	/* the queue holds 3: the two oldest went, as Linux drops them */
	CHECK_EQ(n_drops, 2);
	CHECK_EQ(drops[0].id, 1);
	CHECK_EQ(drops[0].reason, RP_DROP_NEIGH_HOLD_FULL);
	CHECK_EQ(drops[1].id, 2);
	CHECK_EQ(drops[1].reason, RP_DROP_NEIGH_HOLD_FULL);
	CHECK(find_info(t, nh, 100, &info));
	CHECK_EQ(info.held, 3);

	/* the reply resolves it: held packets leave in order with the new word */
	CHECK_EQ(rp_neigh_learn(t, nh, &mac_b, 1, RP_ARP_REPLY, 400), 0);
	CHECK_EQ(n_releases, 3);
	for (unsigned i = 0; i < 3 && i < n_releases; i++) {
		CHECK_EQ(releases[i].id, 3 + i);
		CHECK_EQ(releases[i].l2, want);
	}
	CHECK_EQ(lookup1(t, 0, nh), want);
	CHECK(find_info(t, nh, 500, &info));
	CHECK_EQ(info.state, RP_NEIGH_REACHABLE);
	CHECK_EQ(info.held, 0);
	CHECK_EQ(info.age_ms, 100);
	CHECK(rte_is_same_ether_addr(&info.mac, &mac_b));

	/* the word's fields */
	struct rte_ether_addr mac;
	rp_l2_mac(want, &mac);
	CHECK(rte_is_same_ether_addr(&mac, &mac_b));
	CHECK_EQ(rp_l2_port(want), 1);
	CHECK(want & RP_L2_VALID);

	/* a packet that was already on its way when it resolved goes at once */
	rp_neigh_hold(t, nh, 1, pkt(6), 600);
	CHECK_EQ(n_releases, 4);
	CHECK_EQ(releases[3].id, 6);
	CHECK_EQ(releases[3].l2, want);
	CHECK_EQ(n_requests, 1);
	CHECK_EQ(n_drops, 2);

	/* shrinking the queue keeps the newest of what waits */
	const uint32_t nh2 = IP(198, 19, 1, 253);
	rp_neigh_set_timing(t, 30000, 1000, 3, 16, 60000);
	for (uint32_t id = 10; id < 14; id++)
		rp_neigh_hold(t, nh2, 1, pkt(id), 700);
	rp_neigh_set_timing(t, 30000, 1000, 3, 2, 60000);
	CHECK_EQ(n_drops, 4);
	CHECK_EQ(drops[2].id, 10);
	CHECK_EQ(drops[3].id, 11);
	CHECK_EQ(drops[3].reason, RP_DROP_NEIGH_HOLD_FULL);
	CHECK_EQ(rp_neigh_learn(t, nh2, &mac_c, 1, RP_ARP_REPLY, 800), 0);
	CHECK_EQ(n_releases, 6);
	CHECK_EQ(releases[4].id, 12);
	CHECK_EQ(releases[5].id, 13);
	CHECK_EQ(releases[5].l2, rp_l2_make(&mac_c, 1));
	rp_neigh_free(t);
}

static void
test_lookup_bulk(void)
{
	struct rp_neigh_table *t = table("nb_bulk", 256, 2);
	uint32_t ips[150];
	uint64_t l2[150];

	/* every third address known, the others not */
	for (unsigned i = 0; i < RTE_DIM(ips); i++) {
		ips[i] = IP(198, 18, i / 100, i % 100 + 1);
		if (i % 3 == 0) {
			struct rte_ether_addr mac = mac_a;
			mac.addr_bytes[5] = (uint8_t)i;
			CHECK_EQ(rp_neigh_learn(t, ips[i], &mac, (uint8_t)(i % 4),
						RP_ARP_REQUEST_FOR_US, 0), 0);
		}
	}
	/* one unresolved entry: known to the table, but 0 to workers */
	CHECK_EQ(ips[1], IP(198, 18, 0, 2));
	rp_neigh_hold(t, ips[1], 0, pkt(1), 0);
	CHECK_EQ(rp_neigh_count(t), 51);

	memset(l2, 0xff, sizeof(l2));
	rp_neigh_lookup_bulk(t, 1, ips, l2, RTE_DIM(ips));
	unsigned wrong = 0;
	for (unsigned i = 0; i < RTE_DIM(ips); i++) {
		uint64_t want = 0;
		if (i % 3 == 0) {
			struct rte_ether_addr mac = mac_a;
			mac.addr_bytes[5] = (uint8_t)i;
			want = rp_l2_make(&mac, (uint8_t)(i % 4));
		}
		if (l2[i] != want && wrong++ < 5)
			fprintf(stderr, "neigh lookup %u: got %016llx, want %016llx\n", i,
				(unsigned long long)l2[i], (unsigned long long)want);
	}
	CHECK_EQ(wrong, 0);
	rp_neigh_free(t);
}

static void
test_learning_rules(void)
{
	struct rp_neigh_table *t = table("nb_learn", 64, 1);
	const uint32_t a = IP(198, 18, 1, 10), b = IP(198, 18, 1, 11), s = IP(198, 18, 1, 12);
	const struct rte_ether_addr group = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	const struct rte_ether_addr zero = {{0}};

	/* replies and other ARP do not create entries (arp_accept=0) */
	CHECK_EQ(rp_neigh_learn(t, a, &mac_a, 0, RP_ARP_OTHER, 10), -ENOENT);
	CHECK_EQ(rp_neigh_learn(t, a, &mac_a, 0, RP_ARP_REPLY, 10), -ENOENT);
	CHECK_EQ(rp_neigh_count(t), 0);
	CHECK_EQ(lookup1(t, 0, a), 0);

	/* a request for one of our addresses does */
	CHECK_EQ(rp_neigh_learn(t, a, &mac_a, 0, RP_ARP_REQUEST_FOR_US, 10), 0);
	CHECK_EQ(rp_neigh_count(t), 1);
	CHECK_EQ(state_of(t, a), RP_NEIGH_REACHABLE);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_a, 0));

	/* gratuitous ARP updates what exists: a new MAC */
	CHECK_EQ(rp_neigh_learn(t, a, &mac_b, 0, RP_ARP_OTHER, 20), 0);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_b, 0));
	/* a reply from another port moves it */
	CHECK_EQ(rp_neigh_learn(t, a, &mac_b, 3, RP_ARP_REPLY, 30), 0);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_b, 3));
	CHECK_EQ(rp_neigh_count(t), 1);

	/* gratuitous ARP resolves an INCOMPLETE entry (Linux: neigh_update) */
	rp_neigh_hold(t, b, 1, pkt(7), 40);
	CHECK_EQ(rp_neigh_learn(t, b, &mac_c, 1, RP_ARP_OTHER, 50), 0);
	CHECK_EQ(n_releases, 1);
	CHECK_EQ(releases[0].id, 7);
	CHECK_EQ(releases[0].l2, rp_l2_make(&mac_c, 1));
	CHECK_EQ(state_of(t, b), RP_NEIGH_REACHABLE);

	/* senders that name no host are ignored */
	CHECK_EQ(rp_neigh_learn(t, 0, &mac_a, 0, RP_ARP_REQUEST_FOR_US, 60), -ENOENT);
	CHECK_EQ(rp_neigh_learn(t, s, &group, 0, RP_ARP_REQUEST_FOR_US, 60), -ENOENT);
	CHECK_EQ(rp_neigh_learn(t, s, &zero, 0, RP_ARP_REQUEST_FOR_US, 60), -ENOENT);
	CHECK_EQ(rp_neigh_count(t), 2);

	/* static entries: ARP never changes them, aging never removes them */
	CHECK_EQ(rp_neigh_add_static(t, s, &mac_c, 2), 0);
	CHECK_EQ(state_of(t, s), RP_NEIGH_PERMANENT);
	CHECK_EQ(rp_neigh_learn(t, s, &mac_a, 0, RP_ARP_REQUEST_FOR_US, 70), -ENOENT);
	CHECK_EQ(rp_neigh_learn(t, s, &mac_a, 0, RP_ARP_REPLY, 70), -ENOENT);
	CHECK_EQ(rp_neigh_learn(t, s, &mac_a, 0, RP_ARP_OTHER, 70), -ENOENT);
	CHECK_EQ(lookup1(t, 0, s), rp_l2_make(&mac_c, 2));
	rp_neigh_tick(t, 10 * 60 * 1000);
	CHECK_EQ(lookup1(t, 0, s), rp_l2_make(&mac_c, 2));
	CHECK_EQ(state_of(t, s), RP_NEIGH_PERMANENT);
	/* meanwhile the learned ones aged: a (looked up) is probed, b is gone */
	CHECK_EQ(n_requests, 2);
	CHECK_EQ(requests[1].ip, a);
	CHECK(requests[1].unicast);
	CHECK_EQ(state_of(t, a), RP_NEIGH_PROBE);
	CHECK_EQ(state_of(t, b), -1);

	/* a static entry over an INCOMPLETE one releases what waited */
	const uint32_t c = IP(198, 18, 1, 13);
	rp_neigh_hold(t, c, 1, pkt(8), 0);
	CHECK_EQ(rp_neigh_add_static(t, c, &mac_a, 1), 0);
	CHECK_EQ(n_releases, 2);
	CHECK_EQ(releases[1].id, 8);
	CHECK_EQ(releases[1].l2, rp_l2_make(&mac_a, 1));
	/* and an existing learned entry becomes static */
	CHECK_EQ(rp_neigh_add_static(t, a, &mac_a, 0), 0);
	CHECK_EQ(state_of(t, a), RP_NEIGH_PERMANENT);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_a, 0));
	CHECK_EQ(rp_neigh_add_static(t, a, NULL, 0), -EINVAL);
	rp_neigh_free(t);
}

static void
test_aging(void)
{
	struct rp_neigh_table *t = table("nb_aging", 64, 2);
	const uint32_t a = IP(198, 18, 1, 1), b = IP(198, 18, 1, 2), c = IP(198, 18, 1, 3),
		       d = IP(198, 18, 1, 4);

	CHECK_EQ(rp_neigh_learn(t, a, &mac_a, 1, RP_ARP_REQUEST_FOR_US, 0), 0);
	CHECK_EQ(rp_neigh_learn(t, b, &mac_b, 1, RP_ARP_REQUEST_FOR_US, 0), 0);
	CHECK_EQ(rp_neigh_learn(t, c, &mac_c, 1, RP_ARP_REQUEST_FOR_US, 0), 0);
	CHECK_EQ(rp_neigh_learn(t, d, &mac_a, 2, RP_ARP_REQUEST_FOR_US, 0), 0);

	/* a used by worker 1, d by worker 0; b and c unused */
	CHECK_EQ(lookup1(t, 1, a), rp_l2_make(&mac_a, 1));
	CHECK_EQ(lookup1(t, 0, d), rp_l2_make(&mac_a, 2));

	rp_neigh_tick(t, 29999);
	CHECK_EQ(n_requests, 0);
	rp_neigh_tick(t, 30000);
	/* used entries get a unicast probe to the MAC they know, and stay valid */
	CHECK_EQ(n_requests, 2);
	unsigned probes_a = 0, probes_d = 0;
	for (unsigned i = 0; i < n_requests; i++) {
		CHECK(requests[i].unicast);
		if (requests[i].ip == a && requests[i].port == 1 &&
		    rte_is_same_ether_addr(&requests[i].mac, &mac_a))
			probes_a++;
		if (requests[i].ip == d && requests[i].port == 2 &&
		    rte_is_same_ether_addr(&requests[i].mac, &mac_a))
			probes_d++;
	}
	CHECK_EQ(probes_a, 1);
	CHECK_EQ(probes_d, 1);
	CHECK_EQ(state_of(t, a), RP_NEIGH_PROBE);
	CHECK_EQ(state_of(t, d), RP_NEIGH_PROBE);
	CHECK_EQ(state_of(t, b), RP_NEIGH_REACHABLE);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_a, 1));

	/* d answers its probe */
	CHECK_EQ(rp_neigh_learn(t, d, &mac_a, 2, RP_ARP_REPLY, 30500), 0);
	CHECK_EQ(state_of(t, d), RP_NEIGH_REACHABLE);

	/* a does not: probes every retrans_ms, then it is deleted */
	calls_reset();
	rp_neigh_tick(t, 30999);
	CHECK_EQ(n_requests, 0);
	rp_neigh_tick(t, 31000);
	CHECK_EQ(n_requests, 1);
	CHECK_EQ(requests[0].ip, a);
	CHECK(requests[0].unicast);
	rp_neigh_tick(t, 32000);
	CHECK_EQ(n_requests, 2);
	CHECK_EQ(requests[1].ip, a);
	rp_neigh_tick(t, 32999);
	CHECK_EQ(state_of(t, a), RP_NEIGH_PROBE);
	CHECK_EQ(lookup1(t, 0, a), rp_l2_make(&mac_a, 1));
	rp_neigh_tick(t, 33000);
	CHECK_EQ(n_requests, 2);
	CHECK_EQ(state_of(t, a), -1);
	CHECK_EQ(lookup1(t, 0, a), 0);
	CHECK_EQ(rp_neigh_count(t), 3);

	/* c, unused but stale, is used again before gc_stale: probed then */
	CHECK_EQ(lookup1(t, 0, c), rp_l2_make(&mac_c, 1));
	calls_reset();
	rp_neigh_tick(t, 40000);
	CHECK_EQ(n_requests, 1);
	CHECK_EQ(requests[0].ip, c);
	CHECK(requests[0].unicast);
	CHECK_EQ(rp_neigh_learn(t, c, &mac_c, 1, RP_ARP_REPLY, 40100), 0);

	/* b, never used: deleted at exactly gc_stale_ms, without a request */
	calls_reset();
	rp_neigh_tick(t, 59999);
	CHECK_EQ(state_of(t, b), RP_NEIGH_REACHABLE);
	rp_neigh_tick(t, 60000);
	CHECK_EQ(state_of(t, b), -1);
	CHECK_EQ(lookup1(t, 1, b), 0);
	CHECK_EQ(n_requests, 0);
	CHECK_EQ(rp_neigh_count(t), 2);

	/* d's mark was consumed when it went to PROBE: unused since its
	 * reply, it is not probed again at 60500, and goes at 90500 */
	rp_neigh_tick(t, 60500);
	CHECK_EQ(n_requests, 0);
	CHECK_EQ(state_of(t, d), RP_NEIGH_REACHABLE);
	rp_neigh_tick(t, 90499);
	CHECK_EQ(state_of(t, d), RP_NEIGH_REACHABLE);
	rp_neigh_tick(t, 90500);
	CHECK_EQ(state_of(t, d), -1);
	CHECK_EQ(n_requests, 0);
	CHECK_EQ(n_drops, 0);
	CHECK_EQ(rp_neigh_count(t), 1);
	rp_neigh_free(t);
}

static void
test_list_paging(void)
{
	struct rp_neigh_table *t = table("nb_list", 64, 1);
	struct rp_neigh_info page[4];
	bool seen[10] = {false};
	unsigned total = 0, pages = 0, bad = 0;

	for (unsigned i = 0; i < 10; i++) {
		struct rte_ether_addr mac = mac_b;
		mac.addr_bytes[4] = (uint8_t)i;
		CHECK_EQ(rp_neigh_learn(t, IP(203, 0, 113, 10 + i), &mac, (uint8_t)i,
					RP_ARP_REQUEST_FOR_US, 1000 + i), 0);
	}
	CHECK_EQ(rp_neigh_count(t), 10);

	for (unsigned offset = 0;; offset += RTE_DIM(page)) {
		unsigned n = rp_neigh_list(t, offset, page, RTE_DIM(page), 5000);
		if (n == 0)
			break;
		pages++;
		CHECK_EQ(n, offset + 4 <= 10 ? 4 : 10 - offset);
		for (unsigned k = 0; k < n; k++) {
			unsigned i = page[k].ip - IP(203, 0, 113, 10);
			struct rte_ether_addr mac = mac_b;
			if (i >= 10 || seen[i]) {
				bad++;
				continue;
			}
			seen[i] = true;
			mac.addr_bytes[4] = (uint8_t)i;
			if (!rte_is_same_ether_addr(&page[k].mac, &mac) || page[k].port != i ||
			    page[k].state != RP_NEIGH_REACHABLE || page[k].held != 0 ||
			    page[k].age_ms != 4000 - i)
				bad++;
			total++;
		}
	}
	CHECK_EQ(pages, 3);
	CHECK_EQ(total, 10);
	CHECK_EQ(bad, 0);
	CHECK_EQ(rp_neigh_list(t, 10, page, RTE_DIM(page), 5000), 0);
	CHECK_EQ(rp_neigh_list(t, 0, page, 0, 5000), 0);

	CHECK(strcmp(rp_neigh_state_name(RP_NEIGH_INCOMPLETE), "INCOMPLETE") == 0);
	CHECK(strcmp(rp_neigh_state_name(RP_NEIGH_REACHABLE), "REACHABLE") == 0);
	CHECK(strcmp(rp_neigh_state_name(RP_NEIGH_PROBE), "PROBE") == 0);
	CHECK(strcmp(rp_neigh_state_name(RP_NEIGH_PERMANENT), "PERMANENT") == 0);
	CHECK(strcmp(rp_neigh_state_name((enum rp_neigh_state)9), "UNKNOWN") == 0);
	rp_neigh_free(t);
}

/* A deleted entry's key position comes back only after the (one) reader
 * reported a quiescent state. */
static void
test_rcu_reuse(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qsv = rte_zmalloc("test_qsv", sz, RTE_CACHE_LINE_SIZE);
	struct rp_neigh_table *t;
	const unsigned max = 8;

	CHECK(qsv != NULL);
	if (qsv == NULL)
		return;
	CHECK_EQ(rte_rcu_qsbr_init(qsv, 1), 0);
	CHECK_EQ(rte_rcu_qsbr_thread_register(qsv, 0), 0);
	rte_rcu_qsbr_thread_online(qsv, 0);

	t = rp_neigh_create("nb_rcu", max, 1, qsv, SOCKET_ID_ANY, &mock_ops);
	CHECK(t != NULL);
	if (t == NULL)
		goto free_qsv;
	rp_neigh_set_timing(t, 30000, 1000, 3, 16, 60000);
	calls_reset();

	/* fill it: the first entry is older than the rest */
	const uint32_t old = IP(198, 18, 7, 1), fresh = IP(198, 18, 7, 100);
	CHECK_EQ(rp_neigh_learn(t, old, &mac_a, 0, RP_ARP_REQUEST_FOR_US, 0), 0);
	for (unsigned i = 1; i < max; i++)
		CHECK_EQ(rp_neigh_learn(t, IP(198, 18, 7, 1 + i), &mac_b, 0,
					RP_ARP_REQUEST_FOR_US, 59000), 0);
	CHECK_EQ(rp_neigh_count(t), max);
	CHECK_EQ(state_of(t, old), RP_NEIGH_REACHABLE); /* not looked up: unused */
	CHECK_EQ(rp_neigh_learn(t, fresh, &mac_c, 0, RP_ARP_REQUEST_FOR_US, 59000), -ENOSPC);

	/* the old one ages out (the reader used nothing) */
	rp_neigh_tick(t, 60000);
	CHECK_EQ(rp_neigh_count(t), max - 1);
	CHECK_EQ(lookup1(t, 0, old), 0);

	/* its position is still in its grace period: no room yet */
	CHECK_EQ(rp_neigh_learn(t, fresh, &mac_c, 0, RP_ARP_REQUEST_FOR_US, 60000), -ENOSPC);
	rp_neigh_hold(t, fresh, 0, pkt(9), 60000);
	CHECK_EQ(n_drops, 1);
	CHECK_EQ(drops[0].id, 9);
	CHECK_EQ(drops[0].reason, RP_DROP_NEIGH_UNRESOLVED);
	CHECK_EQ(n_requests, 0);
	CHECK_EQ(rp_neigh_count(t), max - 1);

	/* the reader passes a quiescent state: the position is reused */
	rte_rcu_qsbr_quiescent(qsv, 0);
	CHECK_EQ(rp_neigh_learn(t, fresh, &mac_c, 0, RP_ARP_REQUEST_FOR_US, 60000), 0);
	CHECK_EQ(rp_neigh_count(t), max);
	CHECK_EQ(lookup1(t, 0, fresh), rp_l2_make(&mac_c, 0));
	CHECK_EQ(lookup1(t, 0, old), 0);
	for (unsigned i = 1; i < max; i++)
		CHECK_EQ(lookup1(t, 0, IP(198, 18, 7, 1 + i)), rp_l2_make(&mac_b, 0));

	rte_rcu_qsbr_thread_offline(qsv, 0);
	rp_neigh_free(t);
free_qsv:
	rte_rcu_qsbr_thread_unregister(qsv, 0);
	rte_free(qsv);
}

static void
test_create_and_free(void)
{
	struct rte_malloc_socket_stats before, after;
	int socket = rte_socket_id();
	unsigned avail = rte_mempool_avail_count(pool);

	/* bad arguments */
	CHECK(rp_neigh_create("nb_x", 0, 1, NULL, socket, &mock_ops) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	CHECK(rp_neigh_create("nb_x", 64, 0, NULL, socket, &mock_ops) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	CHECK(rp_neigh_create("nb_x", 64, 1, NULL, socket, NULL) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	CHECK(rp_neigh_create("nb_name_that_is_too_long", 64, 1, NULL, socket, &mock_ops) == NULL);
	CHECK_EQ(rte_errno, ENAMETOOLONG);

	/* the memory estimate covers what creation takes, with the RCU
	 * defer queue the daemon has, and is not far above it */
	struct rte_rcu_qsbr *qsv = rte_zmalloc("test_qsv", rte_rcu_qsbr_get_memsize(4),
					       RTE_CACHE_LINE_SIZE);
	CHECK(qsv != NULL);
	if (qsv == NULL)
		return;
	CHECK_EQ(rte_rcu_qsbr_init(qsv, 4), 0);
	CHECK_EQ(rte_malloc_get_socket_stats(socket, &before), 0);
	struct rp_neigh_table *t = rp_neigh_create("nb_mem", 4096, 4, qsv, socket, &mock_ops);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	CHECK_EQ(rte_malloc_get_socket_stats(socket, &after), 0);
	size_t used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	size_t estimate = rp_neigh_mem_size(4096, 4);
	if (getenv("RP_TEST_VERBOSE") || used > estimate || estimate > used + used / 4)
		fprintf(stderr, "neigh memory: used %zu, estimated %zu\n", used, estimate);
	CHECK(used <= estimate);
	CHECK(estimate <= used + used / 4);

	/* freeing a table with held packets returns them to their pool */
	calls_reset();
	for (uint32_t id = 0; id < 5; id++)
		rp_neigh_hold(t, IP(198, 18, 9, 1 + id % 2), 0, pkt(id), 0);
	CHECK_EQ(rte_mempool_avail_count(pool), avail - 5);
	rp_neigh_free(t);
	CHECK_EQ(rte_mempool_avail_count(pool), avail);
	CHECK_EQ(n_drops, 0);
	CHECK_EQ(n_releases, 0);
	rp_neigh_free(NULL);
	rte_free(qsv);
}

int
main(void)
{
	rp_test_eal_init("test_neigh");
	pool = rte_pktmbuf_pool_create("test_neigh", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_resolution_gives_up();
	test_overflow_and_reply();
	test_lookup_bulk();
	test_learning_rules();
	test_aging();
	test_list_paging();
	test_rcu_reuse();
	test_create_and_free();
	/* every packet went back to the pool through ops or rp_neigh_free */
	CHECK_EQ(rte_mempool_avail_count(pool), 255);
	rte_mempool_free(pool);
	return rp_test_done("test_neigh");
}
