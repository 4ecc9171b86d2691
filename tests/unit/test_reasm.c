/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly (rp_reasm_*) and fragmentation (rp_pkt_fragment): which
 * call returns the datagram, which mbuf heads it, its header, rp_meta and
 * bytes; what is dropped, why and how it is counted (duplicates, overlaps,
 * holes, too many fragments, timeouts on a mocked clock, a full table,
 * malformed fragments); every mbuf back in the pool at the end. Then a
 * reassembled chain fragmented for a smaller MTU, and the fragments put
 * back together. Runs without hugepages.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"
#include "rampart_reasm.h"
#include "rp_test.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define POOL_SIZE 1023
#define ETH 14
#define TIMEOUT_MS 1000
#define DGRAM_MAX 65536

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
static const uint32_t src_ip = IP4(198, 18, 1, 2);
static const uint32_t dst_ip = IP4(198, 19, 7, 9);

static struct rte_mempool *pool;
static uint64_t hz;      /* TSC ticks a second: the table's clock */
static uint64_t now;     /* the mocked clock */
static uint64_t timeout; /* TIMEOUT_MS in ticks */

/* The datagram being cut into fragments: its IP payload, and its protocol. */
static uint8_t dgram[DGRAM_MAX];
static uint32_t dgram_len;
static uint8_t dgram_proto;

/* Checksum field for TCP/UDP over @p len bytes of @p l4 (its field zeroed). */
static uint16_t
pseudo_cksum(uint8_t proto, const uint8_t *l4, uint32_t len)
{
	static uint8_t buf[12 + DGRAM_MAX];
	uint32_t s = src_ip, d = dst_ip;
	uint8_t ph[12] = {s >> 24, s >> 16, s >> 8, s, d >> 24, d >> 16, d >> 8, d,
			  0, proto, len >> 8, len & 0xff};
	memcpy(buf, ph, sizeof(ph));
	memcpy(buf + 12, l4, len);
	return (uint16_t)~rte_raw_cksum(buf, 12 + len);
}

/* A UDP datagram of @p len bytes (header included) from 1111 to 2222, pattern @p seed. */
static void
make_udp(uint32_t len, uint8_t seed)
{
	dgram_len = len;
	dgram_proto = IPPROTO_UDP;
	for (uint32_t i = 8; i < len; i++)
		dgram[i] = (uint8_t)(i * 31 + seed + (i >> 8));
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)dgram;
	uh->src_port = RTE_BE16(1111);
	uh->dst_port = RTE_BE16(2222);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)len);
	uh->dgram_cksum = 0;
	uint16_t c = pseudo_cksum(IPPROTO_UDP, dgram, len);
	uh->dgram_cksum = c == 0 ? 0xffff : c;
}

/* A TCP segment of @p len bytes (20-byte header) from 40000 to 80. */
static void
make_tcp(uint32_t len)
{
	dgram_len = len;
	dgram_proto = IPPROTO_TCP;
	for (uint32_t i = 20; i < len; i++)
		dgram[i] = (uint8_t)(i * 7 + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)dgram;
	memset(th, 0, sizeof(*th));
	th->src_port = RTE_BE16(40000);
	th->dst_port = RTE_BE16(80);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = RTE_BE16(1000);
	th->cksum = pseudo_cksum(IPPROTO_TCP, dgram, len);
}

/* How to cut one fragment out of dgram, and how it arrives. */
struct frag {
	uint32_t ofs;
	uint32_t len;
	int mf;
	int df;
	uint16_t id;
	uint8_t ttl;
	uint8_t port;
};

static struct rte_mbuf *
alloc_or_die(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		exit(1);
	}
	return m;
}

/* The frame of fragment @p f (IHL 5), parsed as it would arrive. */
static struct rte_mbuf *
frag_mbuf(const struct frag *f)
{
	struct rte_mbuf *m = alloc_or_die();
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH + 20 + f->len));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + ETH);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + f->len));
	ip->packet_id = rte_cpu_to_be_16(f->id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((f->ofs / 8) |
							  (f->mf ? RTE_IPV4_HDR_MF_FLAG : 0) |
							  (f->df ? RTE_IPV4_HDR_DF_FLAG : 0)));
	ip->time_to_live = f->ttl ? f->ttl : 64;
	ip->next_proto_id = dgram_proto;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(ip + 1, dgram + f->ofs, f->len);
	CHECK_EQ(rp_pkt_parse(m, f->port, &our_mac), RP_PKT_IPV4);
	return m;
}

static struct rte_mbuf *
offer(struct rp_reasm *r, const struct frag *f)
{
	return rp_reasm_packet(r, frag_mbuf(f), now);
}

/* The counters, all of them, as one line for CHECK_EQ-like comparison. */
static void
check_stats(int line, const struct rp_reasm *r, uint64_t in, uint64_t datagrams,
	    uint64_t merged, uint64_t full, uint64_t timeout_drops, uint64_t invalid)
{
	const struct rp_reasm_stats *s = rp_reasm_stats(r);
	rp_test_checks++;
	if (s->frags_in != in || s->datagrams != datagrams || s->frags_merged != merged ||
	    s->dropped_full != full || s->dropped_timeout != timeout_drops ||
	    s->dropped_invalid != invalid ||
	    s->frags_dropped != full + timeout_drops + invalid) {
		rp_test_failures++;
		fprintf(stderr,
			"%s:%d: stats in %" PRIu64 " datagrams %" PRIu64 " merged %" PRIu64
			" dropped %" PRIu64 " (full %" PRIu64 " timeout %" PRIu64 " invalid %" PRIu64
			"), want %" PRIu64 " %" PRIu64 " %" PRIu64 " (%" PRIu64 " %" PRIu64
			" %" PRIu64 ")\n",
			__FILE__, line, s->frags_in, s->datagrams, s->frags_merged,
			s->frags_dropped, s->dropped_full, s->dropped_timeout,
			s->dropped_invalid, in, datagrams, merged, full, timeout_drops, invalid);
	}
}
#define CHECK_STATS(r, ...) check_stats(__LINE__, r, __VA_ARGS__)

/*
 * @p m is dgram reassembled: a chain of @p segs headed by @p head_frag (the
 * first fragment's mbuf), whose meta came from the first fragment.
 */
static void
check_datagram(int line, struct rte_mbuf *m, const struct rte_mbuf *head_frag, unsigned segs,
	       uint8_t port, uint8_t ttl, int df, uint16_t frag_max, uint16_t id)
{
	static uint8_t bytes[DGRAM_MAX];
	int before = rp_test_failures;

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(m == head_frag);
	CHECK_EQ(m->nb_segs, segs);
	CHECK_EQ(rte_pktmbuf_pkt_len(m), ETH + 20 + dgram_len);

	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, ETH);
	CHECK_EQ(rte_be_to_cpu_16(ip->total_length), 20 + dgram_len);
	CHECK_EQ(rte_be_to_cpu_16(ip->fragment_offset), df ? RTE_IPV4_HDR_DF_FLAG : 0);
	CHECK_EQ(rte_be_to_cpu_16(ip->packet_id), id);
	CHECK_EQ(ip->time_to_live, ttl);
	CHECK_EQ(rte_raw_cksum(ip, 20), 0xffff);

	const struct rp_meta *meta = rp_meta(m);
	CHECK_EQ(meta->kind, RP_PKT_IPV4);
	CHECK_EQ(meta->ip_len, 20 + dgram_len);
	CHECK_EQ(meta->l3_off, ETH);
	CHECK_EQ(meta->l4_off, ETH + 20);
	CHECK_EQ(meta->flags, df ? RP_F_DF : 0);
	CHECK_EQ(meta->in_port, port);
	CHECK_EQ(meta->ttl, ttl);
	CHECK_EQ(meta->proto, dgram_proto);
	CHECK_EQ(meta->src, src_ip);
	CHECK_EQ(meta->dst, dst_ip);
	CHECK_EQ(meta->frag_max, frag_max);
	CHECK_EQ(meta->l4_status, RP_L4_NONE);
	CHECK_EQ(m->l2_len, ETH);
	CHECK_EQ(m->l3_len, 20);

	const void *p = rte_pktmbuf_read(m, ETH + 20, dgram_len, bytes);
	CHECK(p != NULL && memcmp(p, dgram, dgram_len) == 0);
	if (rp_test_failures != before)
		fprintf(stderr, "  (datagram checked at line %d)\n", line);
}
#define CHECK_DATAGRAM(m, ...) check_datagram(__LINE__, m, __VA_ARGS__)

static void
test_create(void)
{
	CHECK(rp_reasm_create(0, TIMEOUT_MS, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	rte_errno = 0;
	CHECK(rp_reasm_create(RP_REASM_MAX_DATAGRAMS + 1, TIMEOUT_MS, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	rte_errno = 0;
	CHECK(rp_reasm_create(16, 0, SOCKET_ID_ANY) == NULL);
	CHECK_EQ(rte_errno, EINVAL);
	rp_reasm_free(NULL);
}

static void
test_in_order(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	CHECK(r != NULL);
	make_udp(3000, 1);

	/* the first fragment's port and TTL are the datagram's */
	const struct frag f[] = {
		{.ofs = 0, .len = 1480, .mf = 1, .id = 7, .ttl = 61, .port = 1},
		{.ofs = 1480, .len = 1480, .mf = 1, .id = 7, .ttl = 62, .port = 2},
		{.ofs = 2960, .len = 40, .mf = 0, .id = 7, .ttl = 63, .port = 3},
	};
	struct rte_mbuf *first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	CHECK(offer(r, &f[1]) == NULL);
	CHECK_STATS(r, 2, 0, 0, 0, 0, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 2);
	struct rte_mbuf *m = offer(r, &f[2]);
	CHECK_DATAGRAM(m, first, 3, 1, 61, 0, 1500, 7);
	CHECK_STATS(r, 3, 1, 3, 0, 0, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 0);

	/* conntrack reads its ports, and its checksum over the whole chain */
	CHECK_EQ(rp_pkt_parse_l4(m, 1), RP_L4_OK);
	CHECK_EQ(rp_meta(m)->sport, 1111);
	CHECK_EQ(rp_meta(m)->dport, 2222);
	CHECK_EQ(rp_meta(m)->l4_payload, 2992);
	rte_pktmbuf_free(m);

	/* a packet that is no fragment passes untouched and uncounted */
	make_udp(100, 2);
	struct rte_mbuf *whole = frag_mbuf(&(struct frag){.ofs = 0, .len = 100, .id = 8});
	CHECK(rp_reasm_packet(r, whole, now) == whole);
	CHECK_EQ(whole->nb_segs, 1);
	CHECK_EQ(rp_meta(whole)->ip_len, 120);
	CHECK_STATS(r, 3, 1, 3, 0, 0, 0);
	rte_pktmbuf_free(whole);
	rp_reasm_free(r);
}

static void
test_out_of_order(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	make_udp(4000, 3);
	const struct frag f[] = {
		{.ofs = 0, .len = 1000, .mf = 1, .id = 100, .ttl = 50, .port = 4},
		{.ofs = 1000, .len = 1000, .mf = 1, .id = 100, .ttl = 51, .port = 5},
		{.ofs = 2000, .len = 1000, .mf = 1, .id = 100, .ttl = 52, .port = 5},
		{.ofs = 3000, .len = 1000, .mf = 0, .id = 100, .ttl = 53, .port = 5},
	};

	/* last first, the first fragment second, completed by a middle one */
	CHECK(offer(r, &f[3]) == NULL);
	struct rte_mbuf *first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	CHECK(offer(r, &f[2]) == NULL);
	struct rte_mbuf *m = offer(r, &f[1]);
	CHECK_DATAGRAM(m, first, 4, 4, 50, 0, 1020, 100);
	rte_pktmbuf_free(m);

	/* fully reversed: the first fragment completes it */
	struct frag g[4];
	memcpy(g, f, sizeof(g));
	for (unsigned i = 0; i < 4; i++)
		g[i].id = 101;
	CHECK(offer(r, &g[3]) == NULL);
	CHECK(offer(r, &g[2]) == NULL);
	CHECK(offer(r, &g[1]) == NULL);
	first = frag_mbuf(&g[0]);
	m = rp_reasm_packet(r, first, now);
	CHECK_DATAGRAM(m, first, 4, 4, 50, 0, 1020, 101);
	rte_pktmbuf_free(m);

	/* two datagrams interleaved, told apart by their IP ID */
	for (unsigned i = 0; i < 4; i++)
		g[i].id = 102;
	struct frag h[4];
	memcpy(h, f, sizeof(h));
	for (unsigned i = 0; i < 4; i++)
		h[i].id = 103;
	struct rte_mbuf *first_g = frag_mbuf(&g[0]);
	CHECK(rp_reasm_packet(r, first_g, now) == NULL);
	struct rte_mbuf *first_h = frag_mbuf(&h[0]);
	CHECK(rp_reasm_packet(r, first_h, now) == NULL);
	CHECK(offer(r, &h[3]) == NULL);
	CHECK(offer(r, &g[1]) == NULL);
	CHECK(offer(r, &g[3]) == NULL);
	CHECK(offer(r, &h[2]) == NULL);
	m = offer(r, &h[1]);
	CHECK_DATAGRAM(m, first_h, 4, 4, 50, 0, 1020, 103);
	rte_pktmbuf_free(m);
	m = offer(r, &g[2]);
	CHECK_DATAGRAM(m, first_g, 4, 4, 50, 0, 1020, 102);
	rte_pktmbuf_free(m);
	CHECK_STATS(r, 16, 4, 16, 0, 0, 0);
	rp_reasm_free(r);
}

static void
test_df(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	make_udp(2000, 4);

	/* DF on every fragment: the datagram keeps it */
	struct frag f[] = {
		{.ofs = 0, .len = 1200, .mf = 1, .df = 1, .id = 1},
		{.ofs = 1200, .len = 800, .mf = 0, .df = 1, .id = 1},
	};
	struct rte_mbuf *first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	struct rte_mbuf *m = offer(r, &f[1]);
	CHECK_DATAGRAM(m, first, 2, 0, 64, 1, 1220, 1);
	rte_pktmbuf_free(m);

	/* only the smaller fragment has it: the datagram does not (Linux's rule) */
	f[0].df = 0;
	f[0].id = f[1].id = 2;
	first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	m = offer(r, &f[1]);
	CHECK_DATAGRAM(m, first, 2, 0, 64, 0, 1220, 2);
	rte_pktmbuf_free(m);

	/* only the first, the larger, has it: the datagram does */
	f[0].df = 1;
	f[1].df = 0;
	f[0].id = f[1].id = 3;
	first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	m = offer(r, &f[1]);
	CHECK_DATAGRAM(m, first, 2, 0, 64, 1, 1220, 3);
	rte_pktmbuf_free(m);
	rp_reasm_free(r);
}

/* A TCP header split between a tiny first fragment and the next. */
static void
test_tcp_split_header(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	make_tcp(1000);
	const struct frag f[] = {
		{.ofs = 0, .len = 8, .mf = 1, .id = 9},
		{.ofs = 8, .len = 992, .mf = 0, .id = 9},
	};
	struct rte_mbuf *first = frag_mbuf(&f[0]);
	/* the tiny first fragment alone: a TCP header cut short */
	CHECK_EQ(rp_pkt_parse_l4(first, 1), RP_L4_TRUNCATED);
	/* what a device said of the first fragment says nothing of the datagram */
	first->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	struct rte_mbuf *m = offer(r, &f[1]);
	CHECK_DATAGRAM(m, first, 2, 0, 64, 0, 1012, 9);
	CHECK_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	CHECK_EQ(rp_pkt_parse_l4(m, 1), RP_L4_OK);
	CHECK_EQ(rp_meta(m)->sport, 40000);
	CHECK_EQ(rp_meta(m)->dport, 80);
	CHECK_EQ(rp_meta(m)->tcp_flags, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
	CHECK_EQ(rp_meta(m)->l4_payload, 980);
	/* a wrong byte in the second segment is caught */
	uint8_t *last = rte_pktmbuf_mtod_offset(m->next, uint8_t *, 500);
	*last ^= 0x20;
	CHECK_EQ(rp_pkt_parse_l4(m, 1), RP_L4_BAD_CSUM);
	rte_pktmbuf_free(m);
	rp_reasm_free(r);
}

static void
test_duplicates_and_overlaps(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	make_udp(3000, 5);
	struct frag f[] = {
		{.ofs = 0, .len = 1480, .mf = 1, .id = 20},
		{.ofs = 1480, .len = 1480, .mf = 1, .id = 20},
		{.ofs = 2960, .len = 40, .mf = 0, .id = 20},
	};

	/* the first fragment twice: both go, with the datagram */
	CHECK(offer(r, &f[0]) == NULL);
	CHECK(offer(r, &f[0]) == NULL);
	CHECK_STATS(r, 2, 0, 0, 0, 0, 2);
	/* the rest start a new datagram that has no first fragment */
	CHECK(offer(r, &f[1]) == NULL);
	CHECK(offer(r, &f[2]) == NULL);
	CHECK_STATS(r, 4, 0, 0, 0, 0, 2);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 2);
	now += timeout + 1;
	rp_reasm_tick(r, now);
	CHECK_STATS(r, 4, 0, 0, 0, 2, 2);

	/* a middle fragment twice: the datagram goes when the sum passes the total */
	for (unsigned i = 0; i < 3; i++)
		f[i].id = 21;
	CHECK(offer(r, &f[0]) == NULL);
	CHECK(offer(r, &f[1]) == NULL);
	CHECK(offer(r, &f[1]) == NULL);
	CHECK_STATS(r, 7, 0, 0, 0, 2, 2);
	CHECK(offer(r, &f[2]) == NULL);
	CHECK_STATS(r, 8, 0, 0, 0, 2, 6);

	/* overlap: 1000..2480 over the first's 0..1480 */
	const struct frag o[] = {
		{.ofs = 0, .len = 1480, .mf = 1, .id = 22},
		{.ofs = 1000, .len = 1480, .mf = 1, .id = 22},
		{.ofs = 2480, .len = 520, .mf = 0, .id = 22},
	};
	for (unsigned i = 0; i < 3; i++)
		CHECK(offer(r, &o[i]) == NULL);
	CHECK_STATS(r, 11, 0, 0, 0, 2, 9);

	/*
	 * Overlap whose lengths add up to the total, so that a hole remains
	 * (1104..1600): found while chaining, after the last two were joined.
	 */
	const struct frag hole[] = {
		{.ofs = 0, .len = 1000, .mf = 1, .id = 23},
		{.ofs = 1600, .len = 800, .mf = 1, .id = 23},
		{.ofs = 2400, .len = 600, .mf = 0, .id = 23},
		{.ofs = 504, .len = 600, .mf = 1, .id = 23},
	};
	for (unsigned i = 0; i < 4; i++)
		CHECK(offer(r, &hole[i]) == NULL);
	CHECK_STATS(r, 15, 0, 0, 0, 2, 13);

	/* an overlap that rewrites the transport header is never delivered */
	make_udp(2000, 6);
	const struct frag rewrite[] = {
		{.ofs = 0, .len = 1000, .mf = 1, .id = 24},
		{.ofs = 0, .len = 8, .mf = 1, .id = 24},
		{.ofs = 1000, .len = 1000, .mf = 0, .id = 24},
	};
	for (unsigned i = 0; i < 3; i++)
		CHECK(offer(r, &rewrite[i]) == NULL);
	/* (the last of them is held, as the start of a new datagram) */
	CHECK_STATS(r, 18, 0, 0, 0, 2, 15);

	/* the same datagram sent again, cleanly, is reassembled */
	make_udp(3000, 5);
	for (unsigned i = 0; i < 3; i++)
		f[i].id = 22;
	struct rte_mbuf *first = frag_mbuf(&f[0]);
	CHECK(rp_reasm_packet(r, first, now) == NULL);
	CHECK(offer(r, &f[1]) == NULL);
	struct rte_mbuf *m = offer(r, &f[2]);
	CHECK_DATAGRAM(m, first, 3, 0, 64, 0, 1500, 22);
	rte_pktmbuf_free(m);
	CHECK_STATS(r, 21, 1, 3, 0, 2, 15);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 1);

	/* dropped mbufs wait on the death row until the tick frees them */
	rp_reasm_tick(r, now);
	CHECK_EQ(rte_mempool_avail_count(pool), base - 1);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

static void
test_too_many_fragments(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	const unsigned n = RP_REASM_MAX_FRAGS + 1;
	make_udp(8 * n, 7);
	/* first, middles in order, the last one last: the (MAX+1)th breaks it */
	for (unsigned i = 0; i < n - 1; i++) {
		struct frag f = {.ofs = 8 * i, .len = 8, .mf = 1, .id = 30};
		CHECK(offer(r, &f) == NULL);
	}
	CHECK_STATS(r, n - 1, 0, 0, 0, 0, n - 1);
	struct frag last = {.ofs = 8 * (n - 1), .len = 8, .mf = 0, .id = 30};
	CHECK(offer(r, &last) == NULL);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 1);

	/* exactly the maximum is fine */
	make_udp(8 * (n - 1), 8);
	struct rte_mbuf *first = NULL, *m = NULL;
	for (unsigned i = 0; i < n - 1; i++) {
		struct frag f = {.ofs = 8 * i, .len = 8, .mf = i + 2 < n, .id = 31};
		struct rte_mbuf *fm = frag_mbuf(&f);
		if (i == 0)
			first = fm;
		m = rp_reasm_packet(r, fm, now);
		if (i + 2 < n)
			CHECK(m == NULL);
	}
	CHECK_DATAGRAM(m, first, n - 1, 0, 64, 0, 28, 31);
	rte_pktmbuf_free(m);
	rp_reasm_free(r);
}

static void
test_timeout(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	make_udp(3000, 9);
	const struct frag f[] = {
		{.ofs = 0, .len = 1480, .mf = 1, .id = 40},
		{.ofs = 1480, .len = 1480, .mf = 1, .id = 40},
		{.ofs = 2960, .len = 40, .mf = 0, .id = 40},
	};
	uint64_t start = now;

	/* the middle one never comes */
	CHECK(offer(r, &f[0]) == NULL);
	now += timeout / 2;
	CHECK(offer(r, &f[2]) == NULL);
	CHECK_EQ(rte_mempool_avail_count(pool), base - 2);

	/* the timeout runs from the first fragment, and not a tick sooner */
	now = start + timeout;
	rp_reasm_tick(r, now);
	CHECK_STATS(r, 2, 0, 0, 0, 0, 0);
	CHECK_EQ(rte_mempool_avail_count(pool), base - 2);
	now = start + timeout + 1;
	rp_reasm_tick(r, now);
	CHECK_STATS(r, 2, 0, 0, 0, 2, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 0);
	CHECK_EQ(rte_mempool_avail_count(pool), base);

	/* the late middle fragment starts afresh and cannot complete anything */
	CHECK(offer(r, &f[1]) == NULL);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 1);

	/*
	 * Expiry without a tick: the next fragment (of another datagram)
	 * finds the late one's time up and counts it.
	 */
	now += timeout + 1;
	struct frag other = f[0];
	other.id = 41;
	CHECK(offer(r, &other) == NULL);
	CHECK_STATS(r, 4, 0, 0, 0, 3, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 1);

	/* the same ID after its time: the old fragments count as timed out */
	now += timeout + 1;
	struct frag again = f[2];
	again.id = 41;
	CHECK(offer(r, &again) == NULL);
	CHECK_STATS(r, 5, 0, 0, 0, 4, 0);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

/*
 * More expired than one death row holds: expiry takes what fits, the rest
 * waits; a fragment of a datagram still waiting makes the table reclaim it
 * on its own, and that too counts as a timeout. The next tick takes the rest.
 */
static void
test_expiry_backlog(void)
{
	struct rp_reasm *r = rp_reasm_create(64, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	const unsigned n_dgrams = 60, per = RP_REASM_MAX_FRAGS - 1;
	make_udp(8 * (per + 1), 15);
	/* datagrams of 8-byte fragments, all but the last of each */
	for (uint16_t d = 0; d < n_dgrams; d++)
		for (unsigned i = 0; i < per; i++) {
			struct frag f = {.ofs = 8 * i, .len = 8, .mf = 1, .id = 200 + d};
			CHECK(offer(r, &f) == NULL);
		}
	CHECK_STATS(r, n_dgrams * per, 0, 0, 0, 0, 0);

	now += timeout + 1;
	struct frag late = {.ofs = 8 * per, .len = 8, .mf = 0, .id = 200 + n_dgrams - 1};
	CHECK(offer(r, &late) == NULL);
	/* as many whole datagrams as fit on a death row, then the newest one */
	const unsigned fit = (RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - per) / per + 1;
	CHECK(fit < n_dgrams - 1);
	CHECK_STATS(r, n_dgrams * per + 1, 0, 0, 0, (fit + 1) * per, 0);
	rp_reasm_tick(r, now);
	CHECK_STATS(r, n_dgrams * per + 1, 0, 0, 0, n_dgrams * per, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 1);
	CHECK_EQ(rte_mempool_avail_count(pool), base - 1);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

static void
test_table_full(void)
{
	struct rp_reasm *r = rp_reasm_create(4, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	make_udp(3000, 10);
	for (uint16_t id = 1; id <= 4; id++) {
		struct frag f = {.ofs = 0, .len = 1480, .mf = 1, .id = id};
		CHECK(offer(r, &f) == NULL);
	}
	CHECK_STATS(r, 4, 0, 0, 0, 0, 0);

	/* a fifth datagram finds no room */
	struct frag fifth = {.ofs = 1480, .len = 1480, .mf = 1, .id = 5};
	CHECK(offer(r, &fifth) == NULL);
	CHECK_STATS(r, 5, 0, 0, 1, 0, 0);
	/* a fragment of a datagram already there does */
	struct frag second = {.ofs = 1480, .len = 1480, .mf = 1, .id = 1};
	CHECK(offer(r, &second) == NULL);
	struct frag last = {.ofs = 2960, .len = 40, .mf = 0, .id = 1};
	struct rte_mbuf *m = offer(r, &last);
	CHECK(m != NULL);
	rte_pktmbuf_free(m);
	CHECK_STATS(r, 7, 1, 3, 1, 0, 0);
	/* which freed a slot */
	CHECK(offer(r, &fifth) == NULL);
	CHECK_STATS(r, 8, 1, 3, 1, 0, 0);
	CHECK_EQ(rp_reasm_frags_held(rp_reasm_stats(r)), 4);

	/*
	 * Many refused in a row, no tick between: the death row is emptied
	 * before it can overflow, every drop is counted, none is lost.
	 */
	for (uint16_t id = 100; id < 100 + 3 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN; id++) {
		struct frag f = {.ofs = 0, .len = 1480, .mf = 1, .id = id};
		CHECK(offer(r, &f) == NULL);
	}
	CHECK_STATS(r, 8 + 3 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN, 1, 3,
		    1 + 3 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN, 0, 0);
	rp_reasm_tick(r, now);
	CHECK_EQ(rte_mempool_avail_count(pool), base - 4);

	/* once their time is up, the four make room for new ones */
	now += timeout + 1;
	struct frag fresh = {.ofs = 0, .len = 1480, .mf = 1, .id = 999};
	CHECK(offer(r, &fresh) == NULL);
	CHECK_STATS(r, 9 + 3 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN, 1, 3,
		    1 + 3 * RTE_IP_FRAG_DEATH_ROW_MBUF_LEN, 4, 0);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

static void
test_malformed(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	make_udp(3000, 11);

	/* no payload */
	struct frag empty = {.ofs = 1480, .len = 0, .mf = 1, .id = 50};
	CHECK(offer(r, &empty) == NULL);
	CHECK_STATS(r, 1, 0, 0, 0, 0, 1);
	/* MF set and a length that is not a multiple of 8 */
	struct frag odd = {.ofs = 0, .len = 1479, .mf = 1, .id = 50};
	CHECK(offer(r, &odd) == NULL);
	CHECK_STATS(r, 2, 0, 0, 0, 0, 2);
	/* ending beyond 65535 bytes of datagram */
	struct frag big = {.ofs = 65528, .len = 8, .mf = 0, .id = 50};
	memset(dgram + 65528, 0, 8);
	CHECK(offer(r, &big) == NULL);
	CHECK_STATS(r, 3, 0, 0, 0, 0, 3);
	/* the last byte that fits is fine: 20 + 65512 + 3 = 65535 */
	struct frag edge = {.ofs = 65512, .len = 3, .mf = 0, .id = 50};
	CHECK(offer(r, &edge) == NULL);
	CHECK_STATS(r, 4, 0, 0, 0, 0, 3);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

/* Header of fragment @p f as rp_pkt_fragment built it, and its meta. */
static void
check_fragment(int line, struct rte_mbuf *f, const struct rte_ipv4_hdr *orig, uint16_t hdr_len,
	       uint16_t len, uint16_t word, uint8_t in_port)
{
	static const uint8_t zero_eth[ETH];
	int before = rp_test_failures;
	CHECK_EQ(f->nb_segs, 1);
	CHECK_EQ(rte_pktmbuf_pkt_len(f), ETH + hdr_len + len);
	CHECK(memcmp(rte_pktmbuf_mtod(f, void *), zero_eth, ETH) == 0);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(f, struct rte_ipv4_hdr *, ETH);
	CHECK_EQ(ip->version_ihl, 0x40 | (hdr_len / 4));
	CHECK_EQ(rte_be_to_cpu_16(ip->total_length), hdr_len + len);
	CHECK_EQ(rte_be_to_cpu_16(ip->fragment_offset), word);
	CHECK_EQ(ip->packet_id, orig->packet_id);
	CHECK_EQ(ip->time_to_live, orig->time_to_live);
	CHECK_EQ(ip->next_proto_id, orig->next_proto_id);
	CHECK_EQ(ip->src_addr, orig->src_addr);
	CHECK_EQ(ip->dst_addr, orig->dst_addr);
	CHECK_EQ(rte_raw_cksum(ip, hdr_len), 0xffff);
	const struct rp_meta *fm = rp_meta(f);
	CHECK_EQ(fm->kind, RP_PKT_IPV4);
	CHECK_EQ(fm->l3_off, ETH);
	CHECK_EQ(fm->l4_off, ETH + hdr_len);
	CHECK_EQ(fm->ip_len, hdr_len + len);
	CHECK_EQ(fm->in_port, in_port);
	CHECK_EQ(fm->frag_max, 0);
	uint16_t want_flags = 0;
	if (word & RTE_IPV4_HDR_DF_FLAG)
		want_flags |= RP_F_DF;
	if (word & RTE_IPV4_HDR_OFFSET_MASK)
		want_flags |= RP_F_FRAG | RP_F_FRAG_LATER;
	else if (word & RTE_IPV4_HDR_MF_FLAG)
		want_flags |= RP_F_FRAG;
	CHECK_EQ(fm->flags, want_flags);
	CHECK_EQ(f->l2_len, ETH);
	CHECK_EQ(f->l3_len, hdr_len);
	if (rp_test_failures != before)
		fprintf(stderr, "  (fragment checked at line %d)\n", line);
}

/* Make a fragment from rp_pkt_fragment look received again, and parse it. */
static void
receive(struct rte_mbuf *f)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(f, struct rte_ether_hdr *);
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	CHECK_EQ(rp_pkt_parse(f, 6, &our_mac), RP_PKT_IPV4);
}

static void
test_refragment(void)
{
	struct rp_reasm *r = rp_reasm_create(16, TIMEOUT_MS, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	/* a 4000-byte datagram that came in four pieces of 1000 bytes and more */
	make_udp(3980, 12);
	const struct frag in[] = {
		{.ofs = 0, .len = 1000, .mf = 1, .id = 60, .port = 2},
		{.ofs = 1000, .len = 1000, .mf = 1, .id = 60},
		{.ofs = 2000, .len = 1000, .mf = 1, .id = 60},
		{.ofs = 3000, .len = 980, .mf = 0, .id = 60},
	};
	struct rte_mbuf *m = NULL;
	for (unsigned i = 0; i < 4; i++)
		m = offer(r, &in[i]);
	CHECK(m != NULL && m->nb_segs == 4);
	if (m == NULL)
		return;
	CHECK_EQ(rp_meta(m)->ip_len, 4000);
	struct rte_ipv4_hdr orig = *rp_ip(m);

	/* MTU 1500: 1480 + 1480 + 1020 bytes, each piece across input segments */
	struct rte_mbuf *out[8];
	int n = rp_pkt_fragment(m, 1500, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 3);
	CHECK_EQ(m->nb_segs, 4); /* the original is left as it was */
	CHECK_EQ(rte_pktmbuf_pkt_len(m), ETH + 4000);
	if (n != 3) {
		rte_pktmbuf_free(m);
		rp_reasm_free(r);
		return;
	}
	check_fragment(__LINE__, out[0], &orig, 20, 1480, RTE_IPV4_HDR_MF_FLAG | 0, 2);
	check_fragment(__LINE__, out[1], &orig, 20, 1480, RTE_IPV4_HDR_MF_FLAG | 185, 2);
	check_fragment(__LINE__, out[2], &orig, 20, 1020, 370, 2);
	/* their payloads laid end to end are the datagram's */
	static uint8_t joined[DGRAM_MAX];
	for (int i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip = rp_ip(out[i]);
		uint32_t ofs = (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) * 8;
		memcpy(joined + ofs, (const uint8_t *)ip + 20, rp_meta(out[i])->ip_len - 20);
	}
	CHECK(memcmp(joined, dgram, dgram_len) == 0);

	/* and a reassembler makes the same datagram of them, in any order */
	struct rte_mbuf *again = NULL;
	receive(out[0]);
	receive(out[1]);
	receive(out[2]);
	CHECK(rp_reasm_packet(r, out[2], now) == NULL);
	CHECK(rp_reasm_packet(r, out[0], now) == NULL);
	again = rp_reasm_packet(r, out[1], now);
	CHECK_DATAGRAM(again, out[0], 3, 6, 64, 0, 1500, 60);
	CHECK_EQ(rp_pkt_parse_l4(again, 1), RP_L4_OK);
	CHECK_EQ(rp_meta(again)->sport, 1111);
	rte_pktmbuf_free(again);

	/* an MTU that is no multiple of 8 plus the header: 976-byte pieces */
	n = rp_pkt_fragment(m, 1000, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 5);
	for (int i = 0; i < n; i++) {
		uint16_t len = i < 4 ? 976 : 3980 - 4 * 976;
		uint16_t word = (uint16_t)((i < 4 ? RTE_IPV4_HDR_MF_FLAG : 0) | (i * 976 / 8));
		check_fragment(__LINE__, out[i], &orig, 20, len, word, 2);
		rte_pktmbuf_free(out[i]);
	}

	/* too little room in out[]: nothing allocated */
	CHECK_EQ(rp_pkt_fragment(m, 1500, pool, out, 2), -ENOSPC);
	/* an MTU that leaves no 8 bytes of payload */
	CHECK_EQ(rp_pkt_fragment(m, 27, pool, out, RTE_DIM(out)), -EINVAL);
	/* fits: one single-segment copy, fragment fields untouched */
	n = rp_pkt_fragment(m, 4000, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 1);
	if (n == 1) {
		check_fragment(__LINE__, out[0], &orig, 20, 3980, 0, 2);
		CHECK(memcmp(rte_pktmbuf_mtod_offset(out[0], void *, ETH + 20), dgram, 3980) == 0);
		rte_pktmbuf_free(out[0]);
	}
	/* a pool whose buffers are smaller than 14 + MTU */
	struct rte_mempool *small = rte_pktmbuf_pool_create("reasm_small", 15, 0, RP_MBUF_PRIV_SIZE,
							    RTE_PKTMBUF_HEADROOM + 1000, SOCKET_ID_ANY);
	CHECK(small != NULL);
	if (small != NULL) {
		CHECK_EQ(rp_pkt_fragment(m, 1500, small, out, RTE_DIM(out)), -ENOMEM);
		CHECK_EQ(rte_mempool_avail_count(small), 15);
		/* and one that runs dry after two: those two go back */
		struct rte_mbuf *hold[13];
		CHECK_EQ(rte_pktmbuf_alloc_bulk(small, hold, 13), 0);
		CHECK_EQ(rp_pkt_fragment(m, 900, small, out, RTE_DIM(out)), -ENOMEM);
		CHECK_EQ(rte_mempool_avail_count(small), 2);
		rte_pktmbuf_free_bulk(hold, 13);
		rte_mempool_free(small);
	}
	/* not IPv4 */
	rp_meta(m)->kind = RP_PKT_ARP;
	CHECK_EQ(rp_pkt_fragment(m, 1500, pool, out, RTE_DIM(out)), -EINVAL);
	rte_pktmbuf_free(m);
	rp_reasm_free(r);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

/*
 * A fragment fragmented again keeps its offset and MF; options without the
 * copy flag leave the later fragments (as NOPs), copied ones stay.
 */
static void
test_refragment_fragment(void)
{
	unsigned base = rte_mempool_avail_count(pool);
	make_udp(4000, 13);
	/* the middle fragment 1480..2960 of a larger datagram, MF set, DF set */
	struct frag mid = {.ofs = 1480, .len = 1480, .mf = 1, .df = 1, .id = 70, .port = 3};
	struct rte_mbuf *m = frag_mbuf(&mid);
	struct rte_ipv4_hdr orig = *rp_ip(m);
	struct rte_mbuf *out[8];
	int n = rp_pkt_fragment(m, 576, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 3);
	for (int i = 0; i < n; i++) {
		uint16_t len = i < 2 ? 552 : 1480 - 2 * 552;
		uint16_t word = (uint16_t)(RTE_IPV4_HDR_DF_FLAG | RTE_IPV4_HDR_MF_FLAG |
					   ((1480 + i * 552) / 8));
		check_fragment(__LINE__, out[i], &orig, 20, len, word, 3);
		CHECK(memcmp(rte_pktmbuf_mtod_offset(out[i], void *, ETH + 20),
			     dgram + 1480 + i * 552, len) == 0);
		rte_pktmbuf_free(out[i]);
	}
	rte_pktmbuf_free(m);

	/* the last fragment: MF only on the pieces before its end */
	struct frag tail = {.ofs = 2960, .len = 1040, .mf = 0, .id = 71};
	m = frag_mbuf(&tail);
	orig = *rp_ip(m);
	n = rp_pkt_fragment(m, 576, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 2);
	if (n == 2) {
		check_fragment(__LINE__, out[0], &orig, 20, 552, RTE_IPV4_HDR_MF_FLAG | 370, 0);
		check_fragment(__LINE__, out[1], &orig, 20, 488, 370 + 69, 0);
		rte_pktmbuf_free(out[0]);
		rte_pktmbuf_free(out[1]);
	}
	rte_pktmbuf_free(m);

	/* options: record route (not copied), router alert (copied), end */
	make_udp(1200, 14);
	struct rte_mbuf *o = alloc_or_die();
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(o, ETH + 32 + 1200);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + ETH);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = 0x48,
		.total_length = RTE_BE16(32 + 1200),
		.packet_id = RTE_BE16(72),
		.time_to_live = 9,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = rte_cpu_to_be_32(src_ip),
		.dst_addr = rte_cpu_to_be_32(dst_ip),
	};
	static const uint8_t opts[12] = {7, 7, 4, 1, 2, 3, 4, 0x94, 4, 0, 0, 0};
	static const uint8_t later_opts[12] = {1, 1, 1, 1, 1, 1, 1, 0x94, 4, 0, 0, 0};
	memcpy(ip + 1, opts, sizeof(opts));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(buf + ETH + 32, dgram, 1200);
	CHECK_EQ(rp_pkt_parse(o, 0, &our_mac), RP_PKT_IPV4);
	orig = *rp_ip(o);
	n = rp_pkt_fragment(o, 600, pool, out, RTE_DIM(out));
	CHECK_EQ(n, 3);
	if (n == 3) {
		/* (600 - 32) & ~7 = 568 */
		check_fragment(__LINE__, out[0], &orig, 32, 568, RTE_IPV4_HDR_MF_FLAG, 0);
		check_fragment(__LINE__, out[1], &orig, 32, 568, RTE_IPV4_HDR_MF_FLAG | 71, 0);
		check_fragment(__LINE__, out[2], &orig, 32, 64, 142, 0);
		CHECK(memcmp(rte_pktmbuf_mtod_offset(out[0], void *, ETH + 20), opts, 12) == 0);
		CHECK(memcmp(rte_pktmbuf_mtod_offset(out[1], void *, ETH + 20), later_opts, 12) == 0);
		CHECK(memcmp(rte_pktmbuf_mtod_offset(out[2], void *, ETH + 20), later_opts, 12) == 0);
		/* the input still has its options */
		CHECK(memcmp(rp_ip(o) + 1, opts, 12) == 0);
		/* and a reassembler gives back the first fragment's header and every byte */
		struct rp_reasm *r = rp_reasm_create(4, TIMEOUT_MS, SOCKET_ID_ANY);
		for (int i = 0; i < 3; i++)
			receive(out[i]);
		CHECK(rp_reasm_packet(r, out[1], now) == NULL);
		CHECK(rp_reasm_packet(r, out[2], now) == NULL);
		struct rte_mbuf *d = rp_reasm_packet(r, out[0], now);
		CHECK(d != NULL);
		if (d != NULL) {
			static uint8_t bytes[2000];
			CHECK_EQ(rte_pktmbuf_pkt_len(d), ETH + 32 + 1200);
			CHECK_EQ(rp_meta(d)->ip_len, 1232);
			CHECK_EQ(rp_meta(d)->l4_off, ETH + 32);
			CHECK(memcmp(rp_ip(d) + 1, opts, 12) == 0);
			const uint8_t *p = rte_pktmbuf_read(d, ETH + 32, 1200, bytes);
			CHECK(p != NULL && memcmp(p, dgram, 1200) == 0);
			CHECK_EQ(rp_pkt_parse_l4(d, 1), RP_L4_OK);
			rte_pktmbuf_free(d);
		}
		rp_reasm_free(r);
	}
	rte_pktmbuf_free(o);
	CHECK_EQ(rte_mempool_avail_count(pool), base);
}

int
main(void)
{
	rp_test_eal_init("test_reasm");
	/* room for a 4000-byte datagram in one piece (rp_pkt_fragment's copy when it fits) */
	pool = rte_pktmbuf_pool_create("test_reasm", POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       RTE_PKTMBUF_HEADROOM + 4096, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_reasm: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	hz = rte_get_tsc_hz();
	timeout = TIMEOUT_MS * hz / 1000;
	now = 1000;

	test_create();
	test_in_order();
	test_out_of_order();
	test_df();
	test_tcp_split_header();
	test_duplicates_and_overlaps();
	test_too_many_fragments();
	test_timeout();
	test_expiry_backlog();
	test_table_full();
	test_malformed();
	test_refragment();
	test_refragment_fragment();
	CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE);
	rte_mempool_free(pool);
	return rp_test_done("test_reasm");
}
