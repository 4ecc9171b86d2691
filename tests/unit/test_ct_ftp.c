/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FTP helper's parser (lib/conntrack/ftp.c): every command and reply
 * form netfilter's nf_conntrack_ftp.c knows, lines split across segments at
 * every byte, retransmissions, partial overlaps, gaps, bad and overflowing
 * numbers, overlong lines and the announcement limit. Each case asserts the
 * announcements (kind, address, port) and every counter. No EAL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_ftp.h"
#include "rp_test.h"

#define C2S 0 /* client to server */
#define S2C 1 /* server to client */
#define ISN 1000u

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct rp_ftp_state st;
static struct rp_ftp_stats stats;
static struct rp_ftp_announce out[8];

static void
reset(void)
{
	memset(&st, 0, sizeof(st));
	memset(&stats, 0, sizeof(stats));
	memset(out, 0xa5, sizeof(out));
}

/* Feed @p len bytes of @p s, copied to a buffer of exactly that size so that
 * a read past the end is a heap overflow under a sanitizer. */
static unsigned
feed_n(int dir, uint32_t seq, const char *s, size_t len, unsigned max)
{
	uint8_t *buf = malloc(len ? len : 1);
	memcpy(buf, s, len);
	unsigned n = rp_ftp_parse(&st, dir, seq, buf, (uint32_t)len, out, max, &stats);
	free(buf);
	return n;
}

static unsigned
feed(int dir, uint32_t seq, const char *s)
{
	return feed_n(dir, seq, s, strlen(s), 8);
}

static void
check_stats(uint64_t announces, uint64_t malformed, uint64_t split, uint64_t retransmits,
	    uint64_t overflow, int line)
{
	if (stats.announces != announces || stats.malformed != malformed || stats.split != split ||
	    stats.retransmits != retransmits || stats.overflow != overflow) {
		fprintf(stderr,
			"line %d: stats announces %llu malformed %llu split %llu retransmits %llu "
			"overflow %llu, expected %llu %llu %llu %llu %llu\n",
			line, (unsigned long long)stats.announces,
			(unsigned long long)stats.malformed, (unsigned long long)stats.split,
			(unsigned long long)stats.retransmits, (unsigned long long)stats.overflow,
			(unsigned long long)announces, (unsigned long long)malformed,
			(unsigned long long)split, (unsigned long long)retransmits,
			(unsigned long long)overflow);
	}
	CHECK_EQ(stats.announces, announces);
	CHECK_EQ(stats.malformed, malformed);
	CHECK_EQ(stats.split, split);
	CHECK_EQ(stats.retransmits, retransmits);
	CHECK_EQ(stats.overflow, overflow);
}
#define CHECK_STATS(a, m, s, r, o) check_stats(a, m, s, r, o, __LINE__)

static void
check_announce(const struct rp_ftp_announce *a, uint8_t kind, uint32_t addr, uint16_t port,
	       int line)
{
	if (a->kind != kind || a->addr != addr || a->port != port)
		fprintf(stderr, "line %d: announce kind %u addr %08x port %u, expected %u %08x %u\n",
			line, a->kind, a->addr, a->port, kind, addr, port);
	CHECK_EQ(a->kind, kind);
	CHECK_EQ(a->addr, addr);
	CHECK_EQ(a->port, port);
}
#define CHECK_ANNOUNCE(a, k, ad, p) check_announce(a, k, ad, p, __LINE__)

/* One line in one segment gives exactly one announcement. */
static void
one(int dir, const char *s, uint8_t kind, uint32_t addr, uint16_t port, int line)
{
	reset();
	unsigned n = feed(dir, ISN, s);
	if (n != 1)
		fprintf(stderr, "line %d: \"%s\" gave %u announcements\n", line, s, n);
	CHECK_EQ(n, 1);
	check_announce(&out[0], kind, addr, port, line);
	check_stats(1, 0, 0, 0, 0, line);
}
#define ONE(d, s, k, a, p) one(d, s, k, a, p, __LINE__)

/* A line that gives nothing, counted as malformed or not. */
static void
none(int dir, const char *s, uint64_t malformed, int line)
{
	reset();
	unsigned n = feed(dir, ISN, s);
	if (n != 0 || stats.malformed != malformed)
		fprintf(stderr, "line %d: \"%s\" gave %u announcements, %llu malformed\n", line,
			s, n, (unsigned long long)stats.malformed);
	CHECK_EQ(n, 0);
	check_stats(0, malformed, 0, 0, 0, line);
}
#define MALFORMED(d, s) none(d, s, 1, __LINE__)
#define IGNORED(d, s) none(d, s, 0, __LINE__)

static const char port_line[] = "PORT 198,18,1,2,19,137\r\n";
#define PORT_ADDR IP(198, 18, 1, 2)
#define PORT_PORT (19 * 256 + 137)

static void
test_forms(void)
{
	ONE(C2S, "PORT 198,18,1,2,19,137\r\n", RP_FTP_PORT, PORT_ADDR, 5001);
	ONE(C2S, "port 10,0,0,1,4,1\r\n", RP_FTP_PORT, IP(10, 0, 0, 1), 1025);
	ONE(C2S, "PoRt 0,0,0,0,255,255\r\n", RP_FTP_PORT, 0, 65535);
	ONE(C2S, "PORT 198,18,1,2,19,137\n", RP_FTP_PORT, PORT_ADDR, 5001); /* bare \n */
	/* leading zeros are not an overflow: the value counts, not the digits */
	ONE(C2S, "PORT 00000000000000000198,18,1,2,19,137\r\n", RP_FTP_PORT, PORT_ADDR, 5001);

	ONE(C2S, "EPRT |1|198.18.1.2|5001|\r\n", RP_FTP_EPRT, PORT_ADDR, 5001);
	ONE(C2S, "eprt |1|198.18.1.2|5001|\r\n", RP_FTP_EPRT, PORT_ADDR, 5001);
	ONE(C2S, "EPRT !1!10.1.2.3!65535!\r\n", RP_FTP_EPRT, IP(10, 1, 2, 3), 65535);
	ONE(C2S, "EPRT ~1~10.1.2.3~1~\r\n", RP_FTP_EPRT, IP(10, 1, 2, 3), 1);
	IGNORED(C2S, "EPRT |2|::1|5001|\r\n");
	IGNORED(C2S, "EPRT |2|2001:db8::1|5001|\r\n");

	ONE(S2C, "227 Entering Passive Mode (198,18,2,1,195,80).\r\n", RP_FTP_PASV,
	    IP(198, 18, 2, 1), 50000);
	ONE(S2C, "227 Entering Passive Mode 198,18,2,1,195,80\r\n", RP_FTP_PASV,
	    IP(198, 18, 2, 1), 50000);
	ONE(S2C, "227 =198,18,2,1,195,80\r\n", RP_FTP_PASV, IP(198, 18, 2, 1), 50000);
	ONE(S2C, "227 198,18,2,1,195,80\n", RP_FTP_PASV, IP(198, 18, 2, 1), 50000);

	ONE(S2C, "229 Entering Extended Passive Mode (|||50001|)\r\n", RP_FTP_EPSV, 0, 50001);
	ONE(S2C, "229 Entering Extended Passive Mode (!!!50002!)\r\n", RP_FTP_EPSV, 0, 50002);
	ONE(S2C, "229 (###65535#)\n", RP_FTP_EPSV, 0, 65535);
}

static void
test_not_ours(void)
{
	/* commands from the server and replies from the client mean nothing */
	IGNORED(S2C, "PORT 198,18,1,2,19,137\r\n");
	IGNORED(S2C, "EPRT |1|198.18.1.2|5001|\r\n");
	IGNORED(C2S, "227 Entering Passive Mode (198,18,2,1,195,80).\r\n");
	IGNORED(C2S, "229 Entering Extended Passive Mode (|||50001|)\r\n");
	/* only at the start of a line, only the exact words */
	IGNORED(C2S, " PORT 198,18,1,2,19,137\r\n");
	IGNORED(C2S, "PORTS 198,18,1,2,19,137\r\n");
	IGNORED(C2S, "PORT\r\n");
	IGNORED(C2S, "NOOP\r\nUSER x PORT 198,18,1,2,19,137\r\n");
	IGNORED(S2C, "227-Entering Passive Mode (198,18,2,1,195,80)\r\n");
	IGNORED(S2C, "2270 (198,18,2,1,195,80)\r\n");
	IGNORED(S2C, "230 Login successful.\r\n");
	IGNORED(C2S, "\r\n\n\r\n");
}

static void
test_bad_numbers(void)
{
	MALFORMED(C2S, "PORT 256,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,19,256\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,1000,137\r\n");
	MALFORMED(C2S, "PORT -1,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,-1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,a,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,19,13x\r\n");
	MALFORMED(C2S, "PORT 198,18,,2,19,137\r\n");      /* missing field */
	MALFORMED(C2S, "PORT ,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,19,\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,19\r\n");         /* 5 numbers */
	MALFORMED(C2S, "PORT 198,18,1,2,19,137,1\r\n");   /* 7 numbers */
	MALFORMED(C2S, "PORT 198,18,1,2,19,137 \r\n");    /* trailing text */
	MALFORMED(C2S, "PORT 198.18.1.2,19,137\r\n");
	MALFORMED(C2S, "PORT \r\n");
	MALFORMED(C2S, "PORT  198,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,0,0\r\n");        /* port 0 */
	/* overflowing digits: refused, never wrapped (2^32 + 198 would wrap to 198) */
	MALFORMED(C2S, "PORT 99999999999999999999,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 4294967494,18,1,2,19,137\r\n");
	MALFORMED(C2S, "PORT 198,18,1,2,19,4294967433\r\n");

	MALFORMED(C2S, "EPRT |1|198.18.1.256|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2.3|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18..2|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.-2|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|65536|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|0|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|-1|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2||\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|99999999999|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|65537|\r\n"); /* would wrap to 1 in 16 bits */
	MALFORMED(C2S, "EPRT |1|4294967298.18.1.2|5001|\r\n");
	MALFORMED(C2S, "EPRT |1|198.18.1.2|5001\r\n");   /* no closing delimiter */
	MALFORMED(C2S, "EPRT |1|198.18.1.2!5001!\r\n");  /* delimiters differ */
	MALFORMED(C2S, "EPRT 919198.18.1.29500019\r\n"); /* a digit as delimiter */
	MALFORMED(C2S, "EPRT  1 198.18.1.2 5001 \r\n");  /* space (32) as delimiter */
	MALFORMED(C2S, "EPRT \x7f" "1\x7f" "198.18.1.2\x7f" "5001\x7f\r\n"); /* DEL (127) */
	MALFORMED(C2S, "EPRT |3|198.18.1.2|5001|\r\n");
	MALFORMED(C2S, "EPRT |1!198.18.1.2|5001|\r\n");
	MALFORMED(C2S, "EPRT |1\r\n");
	MALFORMED(C2S, "EPRT \r\n");

	MALFORMED(S2C, "227 Entering Passive Mode (198,18,2,1,195).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (198,18,2,1,195,80,1).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (198,18,2,1,195,80,).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (300,18,2,1,195,80).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (198,18,2,1,195,99999999999).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (198,18,,1,195,80).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode (198,18,2,1,0,0).\r\n");
	MALFORMED(S2C, "227 Entering Passive Mode.\r\n"); /* no digit at all */
	MALFORMED(S2C, "227 \r\n");

	MALFORMED(S2C, "229 Entering Extended Passive Mode (||50001|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode |||50001|\r\n"); /* no ( */
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||70000|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||65536|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||0|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||50001)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||5a|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||-1|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (||||)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|||99999999999999999999|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (1115000111)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (   50001 )\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (|!|50001|)\r\n");
	MALFORMED(S2C, "229 Entering Extended Passive Mode (||\r\n");
	MALFORMED(S2C, "229 \r\n");

	/* a malformed line does not hide the next one */
	reset();
	CHECK_EQ(feed(C2S, ISN, "PORT 256,1,1,1,1,1\r\nPORT 198,18,1,2,19,137\r\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 1, 0, 0, 0);
}

/* "PORT 198,18,1,2,19,137\r\n" cut into two and three segments at every
 * byte: the announcement comes with the last segment, once, counted split. */
static void
test_split(void)
{
	size_t len = strlen(port_line);

	for (size_t i = 1; i < len; i++) {
		reset();
		CHECK_EQ(feed_n(C2S, ISN, port_line, i, 8), 0);
		CHECK_EQ(st.dir[C2S].len, i);
		CHECK_EQ(feed_n(C2S, ISN + (uint32_t)i, port_line + i, len - i, 8), 1);
		CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
		CHECK_STATS(1, 0, 1, 0, 0);
		CHECK_EQ(st.dir[C2S].len, 0);
		CHECK_EQ(st.dir[C2S].next_seq, ISN + len);
	}
	for (size_t i = 1; i < len; i++) {
		for (size_t j = i + 1; j < len; j++) {
			reset();
			CHECK_EQ(feed_n(C2S, ISN, port_line, i, 8), 0);
			CHECK_EQ(feed_n(C2S, ISN + (uint32_t)i, port_line + i, j - i, 8), 0);
			CHECK_EQ(feed_n(C2S, ISN + (uint32_t)j, port_line + j, len - j, 8), 1);
			CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
			CHECK_STATS(1, 0, 1, 0, 0);
		}
	}

	/* a reply split the same way, across the 2^32 sequence wrap */
	static const char pasv[] = "227 Entering Passive Mode (198,18,2,1,195,80).\r\n";
	size_t plen = strlen(pasv);
	for (size_t i = 1; i < plen; i++) {
		uint32_t seq0 = 0xffffffffu - (uint32_t)i + 2; /* the cut lands past the wrap */
		reset();
		CHECK_EQ(feed_n(S2C, seq0, pasv, i, 8), 0);
		CHECK_EQ(feed_n(S2C, seq0 + (uint32_t)i, pasv + i, plen - i, 8), 1);
		CHECK_ANNOUNCE(&out[0], RP_FTP_PASV, IP(198, 18, 2, 1), 50000);
		CHECK_STATS(1, 0, 1, 0, 0);
		CHECK_EQ(st.dir[S2C].next_seq, seq0 + (uint32_t)plen);
	}

	/* a line finished and a next one begun in one segment: only the first
	 * announcement of the segment is the split one */
	reset();
	CHECK_EQ(feed(C2S, ISN, "PORT 198,18,1,2,"), 0);
	static const char rest[] = "19,137\r\nPORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,2";
	CHECK_EQ(feed(C2S, ISN + 16, rest), 2);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_ANNOUNCE(&out[1], RP_FTP_PORT, IP(10, 0, 0, 1), 1025);
	CHECK_STATS(2, 0, 1, 0, 0);
	CHECK_EQ(feed(C2S, ISN + 16 + (uint32_t)strlen(rest), "\r\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, IP(10, 0, 0, 1), 1026);
	CHECK_STATS(3, 0, 2, 0, 0);

	/* the two directions keep their own lines */
	reset();
	CHECK_EQ(feed(C2S, ISN, "PORT 198,18,1,2,"), 0);
	CHECK_EQ(feed(S2C, 7000, "227 Entering Passive Mode (198,18,"), 0);
	CHECK_EQ(feed(C2S, ISN + 16, "19,137\r\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_EQ(feed(S2C, 7000 + 34, "2,1,195,80).\r\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PASV, IP(198, 18, 2, 1), 50000);
	CHECK_STATS(2, 0, 2, 0, 0);
}

static void
test_retransmit(void)
{
	size_t len = strlen(port_line);

	/* the same segment twice: one announcement */
	reset();
	CHECK_EQ(feed(C2S, ISN, port_line), 1);
	CHECK_EQ(feed(C2S, ISN, port_line), 0);
	CHECK_STATS(1, 0, 0, 1, 0);
	CHECK_EQ(st.dir[C2S].next_seq, ISN + len);

	/* an older segment entirely before next_seq */
	CHECK_EQ(feed_n(C2S, ISN, port_line, 5, 8), 0);
	CHECK_STATS(1, 0, 0, 2, 0);
	CHECK_EQ(st.dir[C2S].next_seq, ISN + len);
	CHECK_EQ(st.dir[C2S].len, 0);

	/* the first half resent before the second half came: no doubled bytes */
	reset();
	CHECK_EQ(feed_n(C2S, ISN, port_line, 11, 8), 0);
	CHECK_EQ(feed_n(C2S, ISN, port_line, 11, 8), 0);
	CHECK_EQ(st.dir[C2S].len, 11);
	CHECK_EQ(feed_n(C2S, ISN + 11, port_line + 11, len - 11, 8), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 0, 1, 1, 0);

	/* partial overlap: the resent segment carries old and new bytes */
	for (size_t old = 1; old < 13; old++) {
		reset();
		CHECK_EQ(feed_n(C2S, ISN, port_line, 13, 8), 0);
		CHECK_EQ(feed_n(C2S, ISN + 13 - (uint32_t)old, port_line + 13 - old,
				len - 13 + old, 8),
			 1);
		CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
		CHECK_STATS(1, 0, 1, 1, 0);
		CHECK_EQ(st.dir[C2S].next_seq, ISN + len);
	}

	/* a whole resend of a line already announced, plus a new line */
	reset();
	CHECK_EQ(feed(C2S, ISN, port_line), 1);
	char both[64];
	snprintf(both, sizeof(both), "%sPORT 10,0,0,1,4,1\r\n", port_line);
	CHECK_EQ(feed(C2S, ISN, both), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, IP(10, 0, 0, 1), 1025);
	CHECK_STATS(2, 0, 0, 1, 0);

	/* retransmission across the sequence wrap */
	reset();
	CHECK_EQ(feed_n(C2S, 0xfffffff0u, port_line, 13, 8), 0);
	CHECK_EQ(feed_n(C2S, 0xfffffff0u + 8, port_line + 8, len - 8, 8), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_EQ(feed(C2S, 0xfffffff0u, port_line), 0);
	CHECK_STATS(1, 0, 1, 2, 0);
	CHECK_EQ(st.dir[C2S].next_seq, (uint32_t)(0xfffffff0u + len));
}

static void
test_gap(void)
{
	/* the middle of a line is lost: the line is dropped, not guessed */
	reset();
	CHECK_EQ(feed(C2S, ISN, "PORT 198,18,"), 0);
	CHECK_EQ(feed(C2S, ISN + 12 + 4, "2,19,137\r\n"), 0);
	CHECK_STATS(0, 0, 0, 0, 0);
	CHECK_EQ(st.dir[C2S].next_seq, ISN + 12 + 4 + 10);
	CHECK_EQ(st.dir[C2S].len, 0);
	/* the lost bytes arrive late: before next_seq, skipped */
	CHECK_EQ(feed(C2S, ISN + 12, "1,2,"), 0);
	CHECK_STATS(0, 0, 0, 1, 0);
	/* the next line is parsed again */
	CHECK_EQ(feed(C2S, ISN + 26, "PORT 10,0,0,1,4,1\r\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, IP(10, 0, 0, 1), 1025);
	CHECK_STATS(1, 0, 0, 1, 0);

	/* a gap that would have made "PORT 198,18,1,2,19,137" out of two
	 * halves of different lines: nothing */
	reset();
	CHECK_EQ(feed(C2S, ISN, "PORT 198,18,"), 0);
	CHECK_EQ(feed(C2S, ISN + 100, "1,2,19,137\r\n"), 0);
	CHECK_STATS(0, 0, 0, 0, 0);

	/* a gap before a whole line: the stream picks up at the segment */
	reset();
	CHECK_EQ(feed(C2S, ISN, "TYPE I\r\n"), 0);
	CHECK_EQ(feed(C2S, ISN + 8 + 6, port_line), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 0, 0, 0, 0);

	/* a gap also ends the skipping of an overlong line */
	reset();
	char big[RP_FTP_LINE_MAX + 20];
	memset(big, 'A', sizeof(big));
	CHECK_EQ(feed_n(C2S, ISN, big, sizeof(big), 8), 0);
	CHECK_EQ(st.dir[C2S].discard, 1);
	CHECK_EQ(feed(C2S, ISN + sizeof(big) + 50, port_line), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 0, 0, 0, 1);

	/* the first segment of a direction sets next_seq, whatever it is */
	reset();
	CHECK_EQ(st.dir[S2C].seq_valid, 0);
	CHECK_EQ(feed(S2C, 0x80000000u, "220 ready\r\n"), 0);
	CHECK_EQ(st.dir[S2C].seq_valid, 1);
	CHECK_EQ(st.dir[S2C].next_seq, 0x80000000u + 11);
	CHECK_EQ(st.dir[C2S].seq_valid, 0);
}

static void
test_overflow(void)
{
	char buf[512];

	/* an overlong line: counted, skipped to its end, the next line parsed */
	reset();
	memset(buf, 'A', 200);
	snprintf(buf + 200, sizeof(buf) - 200, "\r\n%s", port_line);
	CHECK_EQ(feed(C2S, ISN, buf), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 0, 0, 0, 1);

	/* the same across segments; an overlong PORT line announces nothing */
	reset();
	memcpy(buf, "PORT 198,18,1,2,19,137", 22);
	memset(buf + 22, '7', 100);
	CHECK_EQ(feed_n(C2S, ISN, buf, 122, 8), 0);
	CHECK_EQ(st.dir[C2S].len, 122);
	CHECK_EQ(feed_n(C2S, ISN + 122, buf + 22, 100, 8), 0);
	CHECK_EQ(st.dir[C2S].discard, 1);
	CHECK_EQ(st.dir[C2S].len, 0);
	CHECK_EQ(feed_n(C2S, ISN + 222, buf + 22, 100, 8), 0); /* still the same line */
	CHECK_STATS(0, 0, 0, 0, 1);
	CHECK_EQ(feed(C2S, ISN + 322, "\r\n"), 0);
	CHECK_EQ(st.dir[C2S].discard, 0);
	CHECK_EQ(feed(C2S, ISN + 324, port_line), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_STATS(1, 0, 0, 0, 1);

	/* the boundary: a line of RP_FTP_LINE_MAX bytes before its \n is kept
	 * (its \r included), one byte more overflows */
	static const char tail[] = "(198,18,2,1,195,80)\r";
	for (int extra = 0; extra <= 1; extra++) {
		size_t line_len = RP_FTP_LINE_MAX + (size_t)extra; /* bytes before \n */
		size_t text = line_len - 4 - strlen(tail);
		memcpy(buf, "227 ", 4);
		memset(buf + 4, 'x', text);
		memcpy(buf + 4 + text, tail, strlen(tail));
		buf[line_len] = '\n';
		reset();
		unsigned n = feed_n(S2C, ISN, buf, line_len + 1, 8);
		if (extra == 0) {
			CHECK_EQ(n, 1);
			CHECK_ANNOUNCE(&out[0], RP_FTP_PASV, IP(198, 18, 2, 1), 50000);
			CHECK_STATS(1, 0, 0, 0, 0);
		} else {
			CHECK_EQ(n, 0);
			CHECK_STATS(0, 0, 0, 0, 1);
		}
		/* the same cut in two segments */
		reset();
		CHECK_EQ(feed_n(S2C, ISN, buf, 60, 8), 0);
		n = feed_n(S2C, ISN + 60, buf + 60, line_len + 1 - 60, 8);
		CHECK_EQ(n, extra == 0 ? 1 : 0);
		CHECK_EQ(stats.overflow, extra);
		CHECK_EQ(stats.split, extra == 0 ? 1 : 0);
	}
}

static void
test_max(void)
{
	static const char two[] = "PORT 198,18,1,2,19,137\r\nEPRT |1|10.0.0.1|1025|\r\n";

	reset();
	CHECK_EQ(feed_n(C2S, ISN, two, strlen(two), 8), 2);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_ANNOUNCE(&out[1], RP_FTP_EPRT, IP(10, 0, 0, 1), 1025);
	CHECK_STATS(2, 0, 0, 0, 0);

	reset();
	CHECK_EQ(feed_n(C2S, ISN, two, strlen(two), 1), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);
	CHECK_EQ(out[1].kind, 0xa5); /* untouched */
	CHECK_STATS(2, 0, 0, 0, 0);

	reset();
	CHECK_EQ(feed_n(C2S, ISN, two, strlen(two), 0), 0);
	CHECK_EQ(out[0].kind, 0xa5);
	CHECK_STATS(2, 0, 0, 0, 0);
	CHECK_EQ(st.dir[C2S].next_seq, ISN + strlen(two));

	/* max 0 with no array at all */
	reset();
	CHECK_EQ(rp_ftp_parse(&st, C2S, ISN, (const uint8_t *)two, (uint32_t)strlen(two), NULL, 0,
			      &stats),
		 0);
	CHECK_STATS(2, 0, 0, 0, 0);
}

static void
test_edges(void)
{
	/* never past len: the byte after the segment is a \n that must not
	 * finish the line */
	reset();
	size_t len = strlen(port_line);
	CHECK_EQ(rp_ftp_parse(&st, C2S, ISN, (const uint8_t *)port_line, (uint32_t)len - 1, out, 8,
			      &stats),
		 0);
	CHECK_EQ(st.dir[C2S].len, len - 1);
	CHECK_EQ(feed(C2S, ISN + (uint32_t)len - 1, "\n"), 1);
	CHECK_ANNOUNCE(&out[0], RP_FTP_PORT, PORT_ADDR, PORT_PORT);

	/* an empty segment changes nothing, not even the first next_seq */
	reset();
	CHECK_EQ(rp_ftp_parse(&st, C2S, 5, (const uint8_t *)"", 0, out, 8, &stats), 0);
	CHECK_EQ(st.dir[C2S].seq_valid, 0);
	CHECK_STATS(0, 0, 0, 0, 0);

	/* a direction other than 0 or 1 is refused */
	reset();
	CHECK_EQ(rp_ftp_parse(&st, 2, ISN, (const uint8_t *)port_line, (uint32_t)len, out, 8,
			      &stats),
		 0);
	CHECK_EQ(rp_ftp_parse(&st, -1, ISN, (const uint8_t *)port_line, (uint32_t)len, out, 8,
			      &stats),
		 0);
	CHECK_EQ(st.dir[0].seq_valid, 0);
	CHECK_EQ(st.dir[1].seq_valid, 0);
	CHECK_STATS(0, 0, 0, 0, 0);

	/* a NUL inside a line is just a byte */
	reset();
	CHECK_EQ(feed_n(C2S, ISN, "PORT 1,2,3\0,4,5,6\r\n", 19, 8), 0);
	CHECK_STATS(0, 1, 0, 0, 0);

	/* a typical passive session, both directions interleaved */
	reset();
	uint32_t c = ISN, s = 9000;
	static const char *const client[] = {"USER anonymous\r\n", "PASS x\r\n", "TYPE I\r\n",
					     "EPSV\r\n", "PASV\r\n", "RETR file\r\n"};
	static const char *const server[] = {"220 (vsFTPd 3.0.3)\r\n",
					     "331 Please specify the password.\r\n",
					     "230 Login successful.\r\n",
					     "200 Switching to Binary mode.\r\n",
					     "229 Entering Extended Passive Mode (|||40001|)\r\n",
					     "227 Entering Passive Mode (198,18,2,1,156,66).\r\n"};
	unsigned total = 0;
	for (int i = 0; i < 6; i++) {
		unsigned n = feed(S2C, s, server[i]);
		s += (uint32_t)strlen(server[i]);
		if (i == 4) {
			CHECK_EQ(n, 1);
			CHECK_ANNOUNCE(&out[0], RP_FTP_EPSV, 0, 40001);
		} else if (i == 5) {
			CHECK_EQ(n, 1);
			CHECK_ANNOUNCE(&out[0], RP_FTP_PASV, IP(198, 18, 2, 1), 156 * 256 + 66);
		} else {
			CHECK_EQ(n, 0);
		}
		total += n;
		CHECK_EQ(feed(C2S, c, client[i]), 0);
		c += (uint32_t)strlen(client[i]);
	}
	CHECK_EQ(total, 2);
	CHECK_STATS(2, 0, 0, 0, 0);
}

int
main(void)
{
	test_forms();
	test_not_ours();
	test_bad_numbers();
	test_split();
	test_retransmit();
	test_gap();
	test_overflow();
	test_max();
	test_edges();
	return rp_test_done("test_ct_ftp");
}
