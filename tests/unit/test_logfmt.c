/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LOG's line, byte for byte as Linux's nf_log_syslog.c writes it with the
 * LOG target's default flags: TCP, UDP, ICMP echo, ICMP errors with the
 * quoted packet, fragments, INPUT / FORWARD / OUTPUT (MAC= and OUT=),
 * prefixes, the rarer protocols, and truncation to a small buffer. Runs
 * without hugepages.
 */

#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "rampart_pkt.h"
#include "rp_test.h"

#define POOL_SIZE 63
#define FRAME_MAX 2048
#define MAC "MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 "

static const struct rte_ether_addr our_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

static struct rte_mempool *pool;

/* An IPv4 header at @p p: 20 bytes, right checksum, addresses as dotted bytes. */
struct iph {
	uint8_t tos, ttl, proto;
	uint16_t total, id, frag;
	uint8_t src[4], dst[4];
};

static void
put_ip(uint8_t *p, const struct iph *h)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->type_of_service = h->tos;
	ip->total_length = rte_cpu_to_be_16(h->total);
	ip->packet_id = rte_cpu_to_be_16(h->id);
	ip->fragment_offset = rte_cpu_to_be_16(h->frag);
	ip->time_to_live = h->ttl;
	ip->next_proto_id = h->proto;
	memcpy(&ip->src_addr, h->src, 4);
	memcpy(&ip->dst_addr, h->dst, 4);
	ip->hdr_checksum = rp_ipv4_cksum(ip);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* TCP header at @p p (20 bytes, no options unless @p doff_byte says so). */
static void
put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t doff_byte, uint8_t flags,
	uint16_t win, uint16_t urp)
{
	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	put32(p + 4, 0x11223344);
	put32(p + 8, 0x55667788);
	p[12] = doff_byte;
	p[13] = flags;
	put16(p + 14, win);
	put16(p + 18, urp);
}

static void
put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, len);
	put16(p + 6, 0);
}

/*
 * A parsed frame: Ethernet from peer_mac to our_mac, then @p h with its
 * total length set to 20 + @p l4_len, then @p l4.
 */
static struct rte_mbuf *
mk(struct iph h, const uint8_t *l4, uint16_t l4_len)
{
	uint8_t frame[FRAME_MAX];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	eth->dst_addr = our_mac;
	eth->src_addr = peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	h.total = (uint16_t)(20 + l4_len);
	put_ip(frame + 14, &h);
	memcpy(frame + 34, l4, l4_len);
	uint16_t len = (uint16_t)(34 + l4_len);

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	CHECK(m != NULL);
	if (m == NULL)
		return NULL;
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	CHECK_EQ(rp_pkt_parse(m, 0, &our_mac), RP_PKT_IPV4);
	return m;
}

static int
check_line_at(int line, struct rte_mbuf *m, const char *prefix, const char *in, const char *out,
	      const char *want)
{
	char buf[1024];
	memset(buf, 'x', sizeof(buf));
	int n = rp_pkt_log_format(buf, sizeof(buf), m, prefix, in, out);
	rp_test_checks++;
	if (strcmp(buf, want) != 0 || n != (int)strlen(want)) {
		rp_test_failures++;
		fprintf(stderr, "%s:%d: log line\n  got:  \"%s\" (%d)\n  want: \"%s\"\n", __FILE__,
			line, buf, n, want);
		return 0;
	}
	return 1;
}

#define CHECK_LINE(m, prefix, in, out, want) check_line_at(__LINE__, m, prefix, in, out, want)

static const struct iph client_to_server = {
	.ttl = 64, .id = 1234, .frag = RTE_IPV4_HDR_DF_FLAG, .proto = IPPROTO_TCP,
	.src = {198, 18, 1, 2}, .dst = {198, 19, 1, 2},
};

static void
test_tcp(void)
{
	/* a SYN with 20 bytes of options, forwarded lan0 -> wan0 */
	uint8_t l4[40] = {0};
	put_tcp(l4, 40000, 80, 0xa0, RTE_TCP_SYN_FLAG, 64240, 0);
	struct rte_mbuf *m = mk(client_to_server, l4, 40);
	CHECK_LINE(m, "FW: ", "lan0", "wan0",
		   "FW: IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=1234 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 "
		   "RES=0x00 SYN URGP=0 ");
	/* the same packet as INPUT (no OUT) and as OUTPUT (no IN, hence no MAC) */
	CHECK_LINE(m, NULL, "lan0", NULL,
		   "IN=lan0 OUT= " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=1234 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 "
		   "RES=0x00 SYN URGP=0 ");
	CHECK_LINE(m, NULL, NULL, "wan0",
		   "IN= OUT=wan0 SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=1234 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 "
		   "RES=0x00 SYN URGP=0 ");
	CHECK_LINE(m, "", "", "wan0",
		   "IN= OUT=wan0 SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=1234 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 "
		   "RES=0x00 SYN URGP=0 ");
	/* iptables adds no space after the prefix: a user's trailing space is kept */
	CHECK_LINE(m, "DROP ", "lan0", "", "DROP IN=lan0 OUT= " MAC
		   "SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1234 DF "
		   "PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	CHECK_LINE(m, "X:", "lan0", "wan0", "X:IN=lan0 OUT=wan0 " MAC
		   "SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1234 DF "
		   "PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	rte_pktmbuf_free(m);

	/* every flag word in the kernel's order; RES and AE; TOS/PREC split; CE */
	struct iph h = client_to_server;
	h.tos = 0xb8; /* DSCP EF: precedence 5, TOS bits 0x18 */
	h.id = 1;
	h.frag = 0x8000 | RTE_IPV4_HDR_DF_FLAG;
	put_tcp(l4, 1, 2, 0x5f, 0xff, 512, 7);
	m = mk(h, l4, 20);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=40 TOS=0x18 "
		   "PREC=0xA0 TTL=64 ID=1 CE DF PROTO=TCP SPT=1 DPT=2 WINDOW=512 RES=0x38 AE CWR "
		   "ECE URG ACK PSH RST SYN FIN URGP=7 ");
	rte_pktmbuf_free(m);

	/* ACK with data, no DF */
	h = client_to_server;
	h.frag = 0;
	h.id = 65535;
	put_tcp(l4, 443, 51000, 0x50, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 0, 0);
	m = mk(h, l4, 40);
	CHECK_LINE(m, NULL, "wan0", "lan0",
		   "IN=wan0 OUT=lan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=60 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=65535 PROTO=TCP SPT=443 DPT=51000 WINDOW=0 RES=0x00 ACK "
		   "PSH URGP=0 ");
	rte_pktmbuf_free(m);
}

static void
test_udp(void)
{
	struct iph h = {.tos = 0x10, .ttl = 63, .id = 7, .proto = IPPROTO_UDP,
			.src = {198, 18, 1, 2}, .dst = {198, 18, 1, 1}};
	uint8_t l4[13] = {0};
	put_udp(l4, 5353, 53, 13);
	struct rte_mbuf *m = mk(h, l4, 13);
	CHECK_LINE(m, "in-udp ", "lan0", NULL,
		   "in-udp IN=lan0 OUT= " MAC "SRC=198.18.1.2 DST=198.18.1.1 LEN=33 TOS=0x10 "
		   "PREC=0x00 TTL=63 ID=7 PROTO=UDP SPT=5353 DPT=53 LEN=13 ");
	rte_pktmbuf_free(m);

	/* UDP-Lite reads the same header */
	h.proto = IPPROTO_UDPLITE;
	put_udp(l4, 1, 2, 8);
	m = mk(h, l4, 13);
	CHECK_LINE(m, NULL, "lan0", NULL,
		   "IN=lan0 OUT= " MAC "SRC=198.18.1.2 DST=198.18.1.1 LEN=33 TOS=0x10 "
		   "PREC=0x00 TTL=63 ID=7 PROTO=UDPLITE SPT=1 DPT=2 LEN=8 ");
	rte_pktmbuf_free(m);

	/* a UDP header cut short */
	h.proto = IPPROTO_UDP;
	m = mk(h, l4, 6);
	CHECK_LINE(m, NULL, "lan0", NULL,
		   "IN=lan0 OUT= " MAC "SRC=198.18.1.2 DST=198.18.1.1 LEN=26 TOS=0x10 "
		   "PREC=0x00 TTL=63 ID=7 PROTO=UDP INCOMPLETE [6 bytes] ");
	rte_pktmbuf_free(m);
}

static void
test_icmp(void)
{
	struct iph h = {.ttl = 64, .id = 40000, .frag = RTE_IPV4_HDR_DF_FLAG,
			.proto = IPPROTO_ICMP, .src = {198, 18, 1, 2}, .dst = {198, 18, 1, 1}};
	uint8_t l4[128] = {0};

	/* echo request and reply */
	l4[0] = 8;
	put16(l4 + 4, 0x1234);
	put16(l4 + 6, 1);
	struct rte_mbuf *m = mk(h, l4, 64);
	CHECK_LINE(m, NULL, "lan0", NULL,
		   "IN=lan0 OUT= " MAC "SRC=198.18.1.2 DST=198.18.1.1 LEN=84 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=40000 DF PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 ");
	rte_pktmbuf_free(m);
	l4[0] = 0;
	m = mk(h, l4, 8);
	CHECK_LINE(m, NULL, NULL, "lan0",
		   "IN= OUT=lan0 SRC=198.18.1.2 DST=198.18.1.1 LEN=28 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=40000 DF PROTO=ICMP TYPE=0 CODE=0 ID=4660 SEQ=1 ");
	rte_pktmbuf_free(m);

	/* port unreachable quoting a UDP datagram's header and first 8 bytes */
	struct iph outer = {.tos = 0xc0, .ttl = 63, .id = 0, .proto = IPPROTO_ICMP,
			    .src = {198, 19, 1, 2}, .dst = {198, 18, 1, 2}};
	struct iph inner = {.ttl = 1, .id = 555, .proto = IPPROTO_UDP, .total = 40,
			    .src = {198, 18, 1, 2}, .dst = {198, 19, 1, 2}};
	memset(l4, 0, sizeof(l4));
	l4[0] = 3;
	l4[1] = 3;
	put_ip(l4 + 8, &inner);
	put_udp(l4 + 28, 33434, 33435, 20);
	m = mk(outer, l4, 36);
	CHECK_LINE(m, "rej ", "wan0", "lan0",
		   "rej IN=wan0 OUT=lan0 " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=56 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.18.1.2 "
		   "DST=198.19.1.2 LEN=40 TOS=0x00 PREC=0x00 TTL=1 ID=555 PROTO=UDP SPT=33434 "
		   "DPT=33435 LEN=20 ] ");
	rte_pktmbuf_free(m);

	/* fragmentation needed quoting 8 bytes of TCP: too few for its header; MTU */
	l4[1] = 4;
	put16(l4 + 6, 1400);
	inner.proto = IPPROTO_TCP;
	inner.frag = RTE_IPV4_HDR_DF_FLAG;
	inner.total = 1500;
	put_ip(l4 + 8, &inner);
	put_tcp(l4 + 28, 40000, 80, 0x50, RTE_TCP_ACK_FLAG, 1, 0);
	m = mk(outer, l4, 36);
	CHECK_LINE(m, NULL, "wan0", "lan0",
		   "IN=wan0 OUT=lan0 " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=56 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=3 CODE=4 [SRC=198.18.1.2 "
		   "DST=198.19.1.2 LEN=1500 TOS=0x00 PREC=0x00 TTL=1 ID=555 DF PROTO=TCP "
		   "INCOMPLETE [8 bytes] ] MTU=1400 ");
	rte_pktmbuf_free(m);

	/* time exceeded quoting the whole TCP header (Linux quotes up to 576 bytes) */
	put16(l4 + 6, 0);
	l4[0] = 11;
	l4[1] = 0;
	m = mk(outer, l4, 48);
	CHECK_LINE(m, NULL, "wan0", "lan0",
		   "IN=wan0 OUT=lan0 " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=68 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=11 CODE=0 [SRC=198.18.1.2 "
		   "DST=198.19.1.2 LEN=1500 TOS=0x00 PREC=0x00 TTL=1 ID=555 DF PROTO=TCP "
		   "SPT=40000 DPT=80 WINDOW=1 RES=0x00 ACK URGP=0 ] ");
	rte_pktmbuf_free(m);

	/* redirect: the gateway, then the quote */
	l4[0] = 5;
	l4[1] = 1;
	static const uint8_t gateway[4] = {198, 18, 1, 254};
	memcpy(l4 + 4, gateway, 4);
	inner.proto = 47;
	put_ip(l4 + 8, &inner);
	m = mk(outer, l4, 36);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=56 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=5 CODE=1 GATEWAY=198.18.1.254 "
		   "[SRC=198.18.1.2 DST=198.19.1.2 LEN=1500 TOS=0x00 PREC=0x00 TTL=1 ID=555 DF "
		   "PROTO=47 ] ");
	rte_pktmbuf_free(m);

	/* parameter problem: the pointer, and (as the kernel) no quote */
	l4[0] = 12;
	l4[1] = 0;
	memset(l4 + 4, 0, 4);
	l4[4] = 20;
	m = mk(outer, l4, 36);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=56 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 ");
	rte_pktmbuf_free(m);

	/* an error quoting an error: one level of brackets only */
	l4[0] = 3;
	l4[1] = 1;
	memset(l4 + 4, 0, 4);
	inner.proto = IPPROTO_ICMP;
	inner.total = 56;
	put_ip(l4 + 8, &inner);
	memset(l4 + 28, 0, 8);
	l4[28] = 3;
	l4[29] = 3;
	m = mk(outer, l4, 36);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=56 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=3 CODE=1 [SRC=198.18.1.2 "
		   "DST=198.19.1.2 LEN=56 TOS=0x00 PREC=0x00 TTL=1 ID=555 DF PROTO=ICMP TYPE=3 "
		   "CODE=3 INCOMPLETE [8 bytes] ] ");
	rte_pktmbuf_free(m);

	/* an error too short to quote a header; a header too short to read */
	m = mk(outer, l4, 20);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=40 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=3 CODE=1 INCOMPLETE [20 bytes] ");
	rte_pktmbuf_free(m);
	m = mk(outer, l4, 4);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=24 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP INCOMPLETE [4 bytes] ");
	rte_pktmbuf_free(m);
	/* a timestamp request wants 20 bytes */
	l4[0] = 13;
	l4[1] = 0;
	m = mk(outer, l4, 12);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=32 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=13 CODE=0 INCOMPLETE [12 bytes] ");
	rte_pktmbuf_free(m);
	m = mk(outer, l4, 20);
	CHECK_LINE(m, NULL, "wan0", NULL,
		   "IN=wan0 OUT= " MAC "SRC=198.19.1.2 DST=198.18.1.2 LEN=40 TOS=0x00 "
		   "PREC=0xC0 TTL=63 ID=0 PROTO=ICMP TYPE=13 CODE=0 ");
	rte_pktmbuf_free(m);
}

static void
test_fragments(void)
{
	struct iph h = {.ttl = 64, .id = 99, .proto = IPPROTO_UDP, .src = {198, 18, 1, 2},
			.dst = {198, 19, 1, 2}};
	uint8_t l4[1480] = {0};
	put_udp(l4, 5000, 6000, 3008);

	/* the first fragment carries the ports; the later ones only their offset */
	h.frag = RTE_IPV4_HDR_MF_FLAG;
	struct rte_mbuf *m = mk(h, l4, 1480);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=1500 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 MF PROTO=UDP SPT=5000 DPT=6000 LEN=3008 ");
	rte_pktmbuf_free(m);
	h.frag = RTE_IPV4_HDR_MF_FLAG | 185;
	m = mk(h, l4, 1480);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=1500 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 MF FRAG:185 PROTO=UDP ");
	rte_pktmbuf_free(m);
	h.frag = 370;
	m = mk(h, l4, 28);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=48 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 FRAG:370 PROTO=UDP ");
	rte_pktmbuf_free(m);

	h.proto = IPPROTO_TCP;
	m = mk(h, l4, 28);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=48 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 FRAG:370 PROTO=TCP ");
	rte_pktmbuf_free(m);
	h.proto = IPPROTO_ICMP;
	m = mk(h, l4, 28);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=48 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 FRAG:370 PROTO=ICMP ");
	rte_pktmbuf_free(m);
	/* the kernel's quirk: a later AH fragment logs no PROTO; ESP does */
	h.proto = IPPROTO_AH;
	m = mk(h, l4, 28);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=48 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 FRAG:370 ");
	rte_pktmbuf_free(m);
	h.proto = IPPROTO_ESP;
	m = mk(h, l4, 28);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=48 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 FRAG:370 PROTO=ESP ");
	rte_pktmbuf_free(m);

	/* a first TCP fragment too short for the header */
	h.proto = IPPROTO_TCP;
	h.frag = RTE_IPV4_HDR_MF_FLAG;
	m = mk(h, l4, 8);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=28 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=99 MF PROTO=TCP INCOMPLETE [8 bytes] ");
	rte_pktmbuf_free(m);
}

static void
test_other_protocols(void)
{
	struct iph h = {.ttl = 64, .id = 5, .proto = IPPROTO_ESP, .src = {198, 18, 1, 2},
			.dst = {198, 19, 1, 2}};
	uint8_t l4[64] = {0};
	put32(l4, 0x1234abcd);
	struct rte_mbuf *m = mk(h, l4, 64);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=84 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=5 PROTO=ESP SPI=0x1234abcd ");
	rte_pktmbuf_free(m);
	h.proto = IPPROTO_AH;
	put32(l4 + 4, 0x100);
	m = mk(h, l4, 64);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=84 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=5 PROTO=AH SPI=0x100 ");
	rte_pktmbuf_free(m);
	m = mk(h, l4, 11);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=31 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=5 PROTO=AH INCOMPLETE [11 bytes] ");
	rte_pktmbuf_free(m);
	h.proto = IPPROTO_GRE;
	m = mk(h, l4, 64);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=84 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=5 PROTO=47 ");
	rte_pktmbuf_free(m);
	h.proto = 0;
	m = mk(h, l4, 0);
	CHECK_LINE(m, NULL, "lan0", "wan0",
		   "IN=lan0 OUT=wan0 " MAC "SRC=198.18.1.2 DST=198.19.1.2 LEN=20 TOS=0x00 "
		   "PREC=0x00 TTL=64 ID=5 PROTO=0 ");
	rte_pktmbuf_free(m);
}

/* The line fits any buffer: a prefix of the whole, terminated, its length returned. */
static void
test_truncation(void)
{
	uint8_t l4[20];
	put_tcp(l4, 40000, 80, 0x50, RTE_TCP_SYN_FLAG, 64240, 0);
	struct rte_mbuf *m = mk(client_to_server, l4, 20);
	char full[512];
	int n = rp_pkt_log_format(full, sizeof(full), m, "FW-DROP: ", "lan0", "wan0");
	CHECK_EQ(n, (int)strlen(full));
	CHECK(n > 100);

	char small[16];
	memset(small, 'x', sizeof(small));
	CHECK_EQ(rp_pkt_log_format(small, sizeof(small), m, "FW-DROP: ", "lan0", "wan0"), 15);
	CHECK(strcmp(small, "FW-DROP: IN=lan") == 0);

	char one = 'x';
	CHECK_EQ(rp_pkt_log_format(&one, 1, m, "FW-DROP: ", "lan0", "wan0"), 0);
	CHECK_EQ(one, '\0');
	char none = 'x';
	CHECK_EQ(rp_pkt_log_format(&none, 0, m, "FW-DROP: ", "lan0", "wan0"), 0);
	CHECK_EQ(none, 'x');

	int bad = 0;
	for (size_t len = 1; len <= (size_t)n + 2; len++) {
		char buf[512];
		memset(buf, 'x', sizeof(buf));
		int got = rp_pkt_log_format(buf, len, m, "FW-DROP: ", "lan0", "wan0");
		size_t want = RTE_MIN(len - 1, (size_t)n);
		if (got != (int)want || strlen(buf) != want || memcmp(buf, full, want) != 0 ||
		    buf[len] != 'x')
			bad++;
	}
	CHECK_EQ(bad, 0);
	rte_pktmbuf_free(m);
}

/* A chain (a reassembled datagram) logs as the same packet in one piece does. */
static void
test_chain(void)
{
	struct iph outer = {.tos = 0xc0, .ttl = 63, .proto = IPPROTO_ICMP,
			    .src = {198, 19, 1, 2}, .dst = {198, 18, 1, 2}};
	struct iph inner = {.ttl = 1, .id = 555, .proto = IPPROTO_TCP, .total = 60,
			    .src = {198, 18, 1, 2}, .dst = {198, 19, 1, 2}};
	uint8_t l4[48] = {3, 3};
	put_ip(l4 + 8, &inner);
	put_tcp(l4 + 28, 40000, 80, 0x50, RTE_TCP_SYN_FLAG, 1024, 0);
	struct rte_mbuf *flat = mk(outer, l4, 48);
	char want[512], got[512];
	rp_pkt_log_format(want, sizeof(want), flat, NULL, "wan0", "lan0");
	CHECK_STR_CONTAINS(want, "PROTO=TCP SPT=40000 DPT=80 WINDOW=1024 RES=0x00 SYN URGP=0 ] ");

	/* cut in the Ethernet header, inside the outer IP header, inside the quoted TCP */
	static const uint16_t cuts[][2] = {{5, 70}, {20, 40}, {34, 67}, {13, 81}};
	for (unsigned c = 0; c < RTE_DIM(cuts); c++) {
		const uint8_t *src = rte_pktmbuf_mtod(flat, const uint8_t *);
		uint16_t at[4] = {0, cuts[c][0], cuts[c][1], rte_pktmbuf_data_len(flat)};
		struct rte_mbuf *head = NULL;
		for (unsigned i = 0; i < 3; i++) {
			struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
			uint16_t n = (uint16_t)(at[i + 1] - at[i]);
			memcpy(rte_pktmbuf_append(seg, n), src + at[i], n);
			if (head == NULL)
				head = seg;
			else
				CHECK_EQ(rte_pktmbuf_chain(head, seg), 0);
		}
		*rp_meta(head) = *rp_meta(flat);
		rp_pkt_log_format(got, sizeof(got), head, NULL, "wan0", "lan0");
		CHECK(strcmp(got, want) == 0);
		rte_pktmbuf_free(head);
	}
	rte_pktmbuf_free(flat);
}

int
main(void)
{
	rp_test_eal_init("logfmt");
	pool = rte_pktmbuf_pool_create("logfmt", POOL_SIZE, 0, RP_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_tcp();
	test_udp();
	test_icmp();
	test_fragments();
	test_other_protocols();
	test_truncation();
	test_chain();
	CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE);
	rte_mempool_free(pool);
	return rp_test_done("logfmt");
}
