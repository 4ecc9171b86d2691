/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The line iptables' LOG target writes, field for field as Linux's
 * nf_log_syslog.c (nf_log_ip_packet, dump_mac_header, dump_ipv4_packet)
 * formats it with LOG's default flags, so that tools and habits built on
 * kernel logs read Rampart's too. Runs on the worker for LOG rules only,
 * which the caller rate-limits; headers are read with rte_pktmbuf_read, so
 * chains (reassembled datagrams) are fine.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_common.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "rampart_pkt.h"

#define IP_HDR_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define TCP_HDR_LEN ((uint32_t)sizeof(struct rte_tcp_hdr))
#define UDP_HDR_LEN ((uint32_t)sizeof(struct rte_udp_hdr))
#define ICMP_HDR_LEN ((uint32_t)sizeof(struct rte_icmp_hdr))
#define AH_HDR_LEN 12u  /* next header, length, reserved, SPI, sequence (RFC 4302) */
#define ESP_HDR_LEN 8u  /* SPI, sequence (RFC 4303) */

/*
 * From <netinet/ip.h> (through rte_ip.h): IP_RF, IP_DF, IP_MF, IP_OFFMASK of
 * the flags and fragment offset word (the kernel calls the reserved bit CE),
 * IPTOS_PREC_MASK and IPTOS_TOS_MASK of the type of service (RFC 1349).
 */

/* TCP header byte 12: data offset, 3 reserved bits, then AE (RFC 9768) */
#define TCP_RES_MASK 0x0e
#define TCP_AE 0x01

enum {
	ICMP_ECHOREPLY = 0,
	ICMP_DEST_UNREACH = 3,
	ICMP_SOURCE_QUENCH = 4,
	ICMP_REDIRECT = 5,
	ICMP_ECHO = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAMETERPROB = 12,
	ICMP_TIMESTAMP = 13,
	ICMP_TIMESTAMPREPLY = 14,
	ICMP_ADDRESS = 17,
	ICMP_ADDRESSREPLY = 18,
	ICMP_FRAG_NEEDED = 4, /* code of ICMP_DEST_UNREACH */
};

/*
 * Bytes of ICMP message the kernel wants before it reads a type's fields
 * (nf_log_syslog.c's required_len); shorter ones are logged INCOMPLETE.
 */
static const uint8_t icmp_required_len[ICMP_ADDRESSREPLY + 1] = {
	[ICMP_ECHOREPLY] = 4,
	[ICMP_DEST_UNREACH] = 8 + IP_HDR_LEN,
	[ICMP_SOURCE_QUENCH] = 8 + IP_HDR_LEN,
	[ICMP_REDIRECT] = 8 + IP_HDR_LEN,
	[ICMP_ECHO] = 4,
	[ICMP_TIME_EXCEEDED] = 8 + IP_HDR_LEN,
	[ICMP_PARAMETERPROB] = 8 + IP_HDR_LEN,
	[ICMP_TIMESTAMP] = 20,
	[ICMP_TIMESTAMPREPLY] = 20,
	[ICMP_ADDRESS] = 12,
	[ICMP_ADDRESSREPLY] = 12,
};

/* TCP flag words in the kernel's order, highest bit first */
static const struct {
	uint8_t bit;
	char name[4];
} tcp_flag_words[] = {
	{RTE_TCP_CWR_FLAG, "CWR"}, {RTE_TCP_ECE_FLAG, "ECE"}, {RTE_TCP_URG_FLAG, "URG"},
	{RTE_TCP_ACK_FLAG, "ACK"}, {RTE_TCP_PSH_FLAG, "PSH"}, {RTE_TCP_RST_FLAG, "RST"},
	{RTE_TCP_SYN_FLAG, "SYN"}, {RTE_TCP_FIN_FLAG, "FIN"},
};

/* The line being written: never past cap - 1 characters, always terminated. */
struct line {
	char *buf;
	size_t cap;
	size_t pos;
};

static void __rte_format_printf(2, 3)
add(struct line *l, const char *fmt, ...)
{
	if (l->pos + 1 >= l->cap)
		return; /* full: the rest of the line is cut */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->pos, l->cap - l->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->pos = RTE_MIN(l->pos + (size_t)n, l->cap - 1);
}

/*
 * The datagram as the kernel's skb sees it at the hook: its bytes end at
 * the IPv4 total length. Reads past that fail, like skb_header_pointer.
 */
struct datagram {
	const struct rte_mbuf *m;
	uint32_t end; /* offset in the frame just past the datagram */
};

static const void *
read_at(const struct datagram *d, uint32_t off, uint32_t len, void *copy)
{
	if (off > d->end || len > d->end - off)
		return NULL;
	return rte_pktmbuf_read(d->m, off, len, copy);
}

/*
 * Bytes from @p off to the end, for "INCOMPLETE [n bytes]". (Where a bogus
 * inner header length points past the end, the kernel prints the unsigned
 * wrap-around; 0 says the same more plainly.)
 */
static uint32_t
left(const struct datagram *d, uint32_t off)
{
	return off < d->end ? d->end - off : 0;
}

static void
add_addr(struct line *l, const char *fmt, rte_be32_t addr)
{
	uint8_t a[4];
	memcpy(a, &addr, sizeof(a));
	char text[16];
	snprintf(text, sizeof(text), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	add(l, fmt, text);
}

/* Returns 1 when the header was cut short: the kernel stops the line there. */
static int
dump_tcp(struct line *l, const struct datagram *d, int later, uint32_t off)
{
	add(l, "PROTO=TCP ");
	if (later)
		return 0;
	struct rte_tcp_hdr copy;
	const struct rte_tcp_hdr *th = read_at(d, off, TCP_HDR_LEN, &copy);
	if (th == NULL) {
		add(l, "INCOMPLETE [%u bytes] ", left(d, off));
		return 1;
	}
	add(l, "SPT=%u DPT=%u ", rte_be_to_cpu_16(th->src_port), rte_be_to_cpu_16(th->dst_port));
	add(l, "WINDOW=%u ", rte_be_to_cpu_16(th->rx_win));
	/* the kernel shifts the reserved bits of the flag word right by 22 */
	add(l, "RES=0x%02x ", (unsigned)(th->data_off & TCP_RES_MASK) << 2);
	if (th->data_off & TCP_AE)
		add(l, "AE ");
	for (unsigned i = 0; i < RTE_DIM(tcp_flag_words); i++)
		if (th->tcp_flags & tcp_flag_words[i].bit)
			add(l, "%s ", tcp_flag_words[i].name);
	add(l, "URGP=%u ", rte_be_to_cpu_16(th->tcp_urp));
	return 0;
}

static int
dump_udp(struct line *l, const struct datagram *d, uint8_t proto, int later, uint32_t off)
{
	add(l, proto == IPPROTO_UDP ? "PROTO=UDP " : "PROTO=UDPLITE ");
	if (later)
		return 0;
	struct rte_udp_hdr copy;
	const struct rte_udp_hdr *uh = read_at(d, off, UDP_HDR_LEN, &copy);
	if (uh == NULL) {
		add(l, "INCOMPLETE [%u bytes] ", left(d, off));
		return 1;
	}
	add(l, "SPT=%u DPT=%u LEN=%u ", rte_be_to_cpu_16(uh->src_port),
	    rte_be_to_cpu_16(uh->dst_port), rte_be_to_cpu_16(uh->dgram_len));
	return 0;
}

static void dump_ipv4(struct line *l, const struct datagram *d, uint32_t ip_off, int outer);

static void
dump_icmp(struct line *l, const struct datagram *d, int later, uint32_t off, int outer)
{
	add(l, "PROTO=ICMP ");
	if (later)
		return;
	/* type, code, checksum, then the 4 bytes whose meaning depends on the type */
	uint8_t copy[ICMP_HDR_LEN];
	const uint8_t *ich = read_at(d, off, ICMP_HDR_LEN, copy);
	if (ich == NULL) {
		add(l, "INCOMPLETE [%u bytes] ", left(d, off));
		return;
	}
	uint8_t type = ich[0], code = ich[1];
	rte_be32_t gateway;
	add(l, "TYPE=%u CODE=%u ", type, code);
	if (type < RTE_DIM(icmp_required_len) && icmp_required_len[type] != 0 &&
	    left(d, off) < icmp_required_len[type]) {
		add(l, "INCOMPLETE [%u bytes] ", left(d, off));
		return;
	}

	switch (type) {
	case ICMP_ECHOREPLY:
	case ICMP_ECHO:
		add(l, "ID=%u SEQ=%u ", (unsigned)(ich[4] << 8 | ich[5]),
		    (unsigned)(ich[6] << 8 | ich[7]));
		break;
	case ICMP_PARAMETERPROB:
		add(l, "PARAMETER=%u ", ich[4]);
		break;
	case ICMP_REDIRECT:
		memcpy(&gateway, ich + 4, sizeof(gateway));
		add_addr(l, "GATEWAY=%s ", gateway);
		/* fall through - a redirect quotes the packet as the errors do */
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
		if (outer) { /* the quoted packet, one level deep only */
			add(l, "[");
			dump_ipv4(l, d, off + ICMP_HDR_LEN, 0);
			add(l, "] ");
		}
		if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
			add(l, "MTU=%u ", (unsigned)(ich[6] << 8 | ich[7]));
		break;
	default:
		break;
	}
}

/* AH and ESP: the security parameter index names the association. */
static void
dump_ipsec(struct line *l, const struct datagram *d, uint8_t proto, int later, uint32_t off)
{
	uint32_t hdr_len = proto == IPPROTO_AH ? AH_HDR_LEN : ESP_HDR_LEN;
	uint32_t spi_off = proto == IPPROTO_AH ? 4 : 0;
	/* the kernel's order differs: a later AH fragment logs no PROTO at all */
	if (proto == IPPROTO_AH) {
		if (later)
			return;
		add(l, "PROTO=AH ");
	} else {
		add(l, "PROTO=ESP ");
		if (later)
			return;
	}
	uint8_t copy[AH_HDR_LEN];
	const uint8_t *h = read_at(d, off, hdr_len, copy);
	if (h == NULL) {
		add(l, "INCOMPLETE [%u bytes] ", left(d, off));
		return;
	}
	rte_be32_t spi;
	memcpy(&spi, h + spi_off, sizeof(spi));
	add(l, "SPI=0x%x ", rte_be_to_cpu_32(spi));
}

static void
dump_ipv4(struct line *l, const struct datagram *d, uint32_t ip_off, int outer)
{
	struct rte_ipv4_hdr copy;
	const struct rte_ipv4_hdr *ih = read_at(d, ip_off, IP_HDR_LEN, &copy);
	if (ih == NULL) {
		add(l, "TRUNCATED");
		return;
	}
	add_addr(l, "SRC=%s ", ih->src_addr);
	add_addr(l, "DST=%s ", ih->dst_addr);
	add(l, "LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ", rte_be_to_cpu_16(ih->total_length),
	    ih->type_of_service & IPTOS_TOS_MASK, ih->type_of_service & IPTOS_PREC_MASK,
	    ih->time_to_live, rte_be_to_cpu_16(ih->packet_id));

	uint16_t frag = rte_be_to_cpu_16(ih->fragment_offset);
	if (frag & IP_RF)
		add(l, "CE ");
	if (frag & IP_DF)
		add(l, "DF ");
	if (frag & IP_MF)
		add(l, "MF ");
	if (frag & IP_OFFMASK)
		add(l, "FRAG:%u ", frag & IP_OFFMASK);

	/* the header length as given, unchecked, as the kernel reads a quoted one */
	uint32_t l4_off = ip_off + (uint32_t)(ih->version_ihl & 0x0f) * 4;
	int later = (frag & IP_OFFMASK) != 0;
	switch (ih->next_proto_id) {
	case IPPROTO_TCP:
		dump_tcp(l, d, later, l4_off);
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		dump_udp(l, d, ih->next_proto_id, later, l4_off);
		break;
	case IPPROTO_ICMP:
		dump_icmp(l, d, later, l4_off, outer);
		break;
	case IPPROTO_AH:
	case IPPROTO_ESP:
		dump_ipsec(l, d, ih->next_proto_id, later, l4_off);
		break;
	default:
		add(l, "PROTO=%u ", ih->next_proto_id);
		break;
	}
	/* no UID= (not a socket's packet) and no MARK= (Rampart has no marks) */
}

int
rp_pkt_log_format(char *buf, size_t len, struct rte_mbuf *m, const char *prefix, const char *in,
		  const char *out)
{
	if (len == 0)
		return 0;
	struct line l = {.buf = buf, .cap = len, .pos = 0};
	buf[0] = '\0';

	const struct rp_meta *meta = rp_meta(m);
	int from_port = in != NULL && in[0] != '\0';
	add(&l, "%sIN=%s OUT=%s ", prefix != NULL ? prefix : "", from_port ? in : "",
	    out != NULL ? out : "");

	uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
	if (from_port) {
		/* the link header as the device got it: dst, src, type, in hex pairs */
		uint8_t eth_copy[RTE_ETHER_HDR_LEN];
		const uint8_t *eth = meta->l3_off >= RTE_ETHER_HDR_LEN && pkt_len >= RTE_ETHER_HDR_LEN ?
					     rte_pktmbuf_read(m, 0, RTE_ETHER_HDR_LEN, eth_copy) : NULL;
		static const char hex[] = "0123456789abcdef";
		char mac[RTE_ETHER_HDR_LEN * 3] = "";
		for (unsigned i = 0; eth != NULL && i < RTE_ETHER_HDR_LEN; i++) {
			char *p = mac + i * 3; /* "xx:" per byte; the last ':' becomes the NUL */
			p[0] = hex[eth[i] >> 4];
			p[1] = hex[eth[i] & 0x0f];
			p[2] = i + 1 < RTE_ETHER_HDR_LEN ? ':' : '\0';
		}
		add(&l, "MAC=%s ", mac);
	}

	/* what the kernel's skb holds at the hook: the datagram, no link padding */
	struct datagram d = {.m = m, .end = meta->l3_off};
	if (meta->l3_off <= pkt_len)
		d.end = meta->l3_off + RTE_MIN((uint32_t)meta->ip_len, pkt_len - meta->l3_off);
	dump_ipv4(&l, &d, meta->l3_off, 1);
	return (int)l.pos;
}
