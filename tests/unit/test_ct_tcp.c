/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP tracker (lib/conntrack/tcp.c) driven packet by packet, with the state,
 * the verdict and (where it matters) the timeout asserted after every
 * packet. The expected values are netfilter's (nf_conntrack_proto_tcp.c,
 * Linux 6.x), worked out by hand from its source. No EAL: headers are built
 * in plain buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "ct_tcp.h"
#include "rp_test.h"

#define FIN RTE_TCP_FIN_FLAG
#define SYN RTE_TCP_SYN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define URG RTE_TCP_URG_FLAG
#define ECE RTE_TCP_ECE_FLAG
#define CWR RTE_TCP_CWR_FLAG

#define ORIG 0
#define REPLY 1

/* Client and server initial sequence numbers and windows of the fixtures. */
#define C_ISN 1000u
#define S_ISN 5000u
#define C_WIN 64240
#define S_WIN 65160

/* One header at a time: the tracker reads it before the next is built, so
 * a struct rp_tcp_seg is stale once another one is made.
 * The bytes after the header are filled with 0xee so that an option parser
 * reading past the header would see them. */
static uint8_t hdr_buf[128];

static struct rp_tcp_seg
mkseg_opt(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len,
	  const uint8_t *opt, unsigned optlen)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)hdr_buf;
	unsigned hlen = sizeof(*th) + ((optlen + 3) & ~3u);

	memset(hdr_buf, 0xee, sizeof(hdr_buf));
	memset(hdr_buf, 0, hlen);
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(80);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	if (optlen)
		memcpy(th + 1, opt, optlen);
	return (struct rp_tcp_seg){.th = th, .payload_len = len, .hdr_len = (uint16_t)hlen};
}

static struct rp_tcp_seg
mkseg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	return mkseg_opt(flags, seq, ack, win, len, NULL, 0);
}

static int last_assured;

static enum rp_tcp_verdict
pkt(struct rp_tcp_state *s, int dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    uint32_t len)
{
	struct rp_tcp_seg g = mkseg(flags, seq, ack, win, len);

	last_assured = -1;
	return rp_tcp_packet(s, dir, &g, &last_assured);
}

/* A packet, then its verdict, the state after it and whether it assured. */
#define STEP(s, dir, fl, seq, ack, win, len, verdict, st, asr)                               \
	do {                                                                                 \
		CHECK_EQ(pkt(s, dir, fl, seq, ack, win, len), verdict);                      \
		CHECK_EQ((s)->state, st);                                                    \
		CHECK_EQ(last_assured, asr);                                                 \
	} while (0)

static struct rp_tcp_timeouts tmo;

/* SYN, SYN/ACK, ACK between C_ISN and S_ISN, no options; then ESTABLISHED and assured. */
static void
handshake(struct rp_tcp_state *s)
{
	struct rp_tcp_seg g = mkseg(SYN, C_ISN, 0, C_WIN, 0);

	CHECK_EQ(rp_tcp_new(s, &g, 1), RP_TCP_ACCEPT);
	CHECK_EQ(s->state, RP_TCP_SYN_SENT);
	STEP(s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	STEP(s, ORIG, ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
}

static void
test_table_cells(void)
{
	/* Cells of tcp_conntracks in net/netfilter/nf_conntrack_proto_tcp.c (6.x). */
	/* ORIGINAL  syn:    { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 } */
	CHECK_EQ(rp_tcp_transition(ORIG, SYN, RP_TCP_NONE), RP_TCP_SYN_SENT);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN, RP_TCP_SYN_RECV), RP_TCP_T_IGNORE);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN, RP_TCP_TIME_WAIT), RP_TCP_SYN_SENT);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN, RP_TCP_SYN_SENT2), RP_TCP_SYN_SENT2);
	/* ORIGINAL  synack: { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR } */
	CHECK_EQ(rp_tcp_transition(ORIG, SYN | ACK, RP_TCP_SYN_SENT), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN | ACK, RP_TCP_SYN_RECV), RP_TCP_SYN_RECV);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN | ACK, RP_TCP_ESTABLISHED), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN | ACK, RP_TCP_SYN_SENT2), RP_TCP_SYN_RECV);
	/* ORIGINAL  fin:    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV } */
	CHECK_EQ(rp_tcp_transition(ORIG, FIN | ACK, RP_TCP_SYN_SENT), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(ORIG, FIN | ACK, RP_TCP_ESTABLISHED), RP_TCP_FIN_WAIT);
	CHECK_EQ(rp_tcp_transition(ORIG, FIN | ACK, RP_TCP_CLOSE_WAIT), RP_TCP_LAST_ACK);
	/* ORIGINAL  ack:    { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV } */
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_NONE), RP_TCP_ESTABLISHED);
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_SYN_SENT), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_SYN_RECV), RP_TCP_ESTABLISHED);
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_FIN_WAIT), RP_TCP_CLOSE_WAIT);
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_LAST_ACK), RP_TCP_TIME_WAIT);
	/* ORIGINAL  rst:    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL } */
	CHECK_EQ(rp_tcp_transition(ORIG, RST, RP_TCP_NONE), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(ORIG, RST | ACK, RP_TCP_ESTABLISHED), RP_TCP_CLOSE);
	/* ORIGINAL  none:   all sIV */
	CHECK_EQ(rp_tcp_transition(ORIG, PSH, RP_TCP_ESTABLISHED), RP_TCP_T_INVALID);
	/* REPLY     syn:    { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 } */
	CHECK_EQ(rp_tcp_transition(REPLY, SYN, RP_TCP_SYN_SENT), RP_TCP_SYN_SENT2);
	CHECK_EQ(rp_tcp_transition(REPLY, SYN, RP_TCP_ESTABLISHED), RP_TCP_T_INVALID);
	CHECK_EQ(rp_tcp_transition(REPLY, SYN, RP_TCP_TIME_WAIT), RP_TCP_SYN_SENT);
	CHECK_EQ(rp_tcp_transition(REPLY, SYN, RP_TCP_CLOSE), RP_TCP_T_INVALID);
	/* REPLY     synack: { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR } */
	CHECK_EQ(rp_tcp_transition(REPLY, SYN | ACK, RP_TCP_SYN_SENT), RP_TCP_SYN_RECV);
	CHECK_EQ(rp_tcp_transition(REPLY, SYN | ACK, RP_TCP_SYN_RECV), RP_TCP_T_IGNORE);
	CHECK_EQ(rp_tcp_transition(REPLY, SYN | ACK, RP_TCP_ESTABLISHED), RP_TCP_T_IGNORE);
	/* REPLY     fin:    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV } */
	CHECK_EQ(rp_tcp_transition(REPLY, FIN | ACK, RP_TCP_ESTABLISHED), RP_TCP_FIN_WAIT);
	CHECK_EQ(rp_tcp_transition(REPLY, FIN | ACK, RP_TCP_FIN_WAIT), RP_TCP_LAST_ACK);
	CHECK_EQ(rp_tcp_transition(REPLY, FIN | ACK, RP_TCP_SYN_SENT2), RP_TCP_T_INVALID);
	/* REPLY     ack:    { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG } */
	CHECK_EQ(rp_tcp_transition(REPLY, ACK, RP_TCP_SYN_SENT), RP_TCP_T_IGNORE);
	CHECK_EQ(rp_tcp_transition(REPLY, ACK, RP_TCP_SYN_RECV), RP_TCP_SYN_RECV);
	CHECK_EQ(rp_tcp_transition(REPLY, ACK, RP_TCP_FIN_WAIT), RP_TCP_CLOSE_WAIT);
	CHECK_EQ(rp_tcp_transition(REPLY, ACK, RP_TCP_SYN_SENT2), RP_TCP_T_IGNORE);
	/* REPLY     rst:    { sIV, sCL, ... } */
	CHECK_EQ(rp_tcp_transition(REPLY, RST, RP_TCP_SYN_SENT), RP_TCP_CLOSE);
	/* flag classes as get_conntrack_index: RST beats SYN, SYN beats FIN */
	CHECK_EQ(rp_tcp_transition(ORIG, RST | SYN, RP_TCP_SYN_SENT), RP_TCP_CLOSE);
	CHECK_EQ(rp_tcp_transition(ORIG, SYN | FIN, RP_TCP_NONE), RP_TCP_SYN_SENT);
	CHECK_EQ(rp_tcp_transition(ORIG, ACK, RP_TCP_STATE_MAX), RP_TCP_T_INVALID);
}

static void
test_names_and_defaults(void)
{
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_NONE), "NONE") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_SYN_SENT), "SYN_SENT") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_SYN_RECV), "SYN_RECV") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_ESTABLISHED), "ESTABLISHED") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_FIN_WAIT), "FIN_WAIT") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_CLOSE_WAIT), "CLOSE_WAIT") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_LAST_ACK), "LAST_ACK") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_TIME_WAIT), "TIME_WAIT") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_CLOSE), "CLOSE") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_SYN_SENT2), "SYN_SENT2") == 0);
	CHECK(strcmp(rp_tcp_state_name(RP_TCP_STATE_MAX), "UNKNOWN") == 0);

	/* netfilter's tcp_timeouts[] */
	CHECK_EQ(tmo.state[RP_TCP_SYN_SENT], 120);
	CHECK_EQ(tmo.state[RP_TCP_SYN_RECV], 60);
	CHECK_EQ(tmo.state[RP_TCP_ESTABLISHED], 432000);
	CHECK_EQ(tmo.state[RP_TCP_FIN_WAIT], 120);
	CHECK_EQ(tmo.state[RP_TCP_CLOSE_WAIT], 60);
	CHECK_EQ(tmo.state[RP_TCP_LAST_ACK], 30);
	CHECK_EQ(tmo.state[RP_TCP_TIME_WAIT], 120);
	CHECK_EQ(tmo.state[RP_TCP_CLOSE], 10);
	CHECK_EQ(tmo.state[RP_TCP_SYN_SENT2], 120);
	CHECK_EQ(tmo.max_retrans, 300);
	CHECK_EQ(tmo.unacknowledged, 300);
	CHECK_EQ(sizeof(struct rp_tcp_state), 56);
}

static void
test_flags(void)
{
	/* invalid in netfilter's tcp_valid_flags */
	CHECK(rp_tcp_flags_invalid(SYN | FIN));
	CHECK(rp_tcp_flags_invalid(SYN | RST));
	CHECK(rp_tcp_flags_invalid(SYN | FIN | ACK));
	CHECK(rp_tcp_flags_invalid(0));
	CHECK(rp_tcp_flags_invalid(PSH));
	CHECK(rp_tcp_flags_invalid(URG));
	CHECK(rp_tcp_flags_invalid(FIN));
	CHECK(rp_tcp_flags_invalid(FIN | PSH | URG)); /* XMAS */
	CHECK(rp_tcp_flags_invalid(0xff));            /* every flag */
	CHECK(rp_tcp_flags_invalid(RST | FIN));
	CHECK(rp_tcp_flags_invalid(RST | URG));
	CHECK(rp_tcp_flags_invalid(ECE | CWR));
	/* valid; PSH, ECE and CWR never matter */
	CHECK(!rp_tcp_flags_invalid(SYN));
	CHECK(!rp_tcp_flags_invalid(SYN | ECE | CWR)); /* ECN setup */
	CHECK(!rp_tcp_flags_invalid(SYN | URG));
	CHECK(!rp_tcp_flags_invalid(SYN | ACK));
	CHECK(!rp_tcp_flags_invalid(SYN | ACK | ECE));
	CHECK(!rp_tcp_flags_invalid(ACK));
	CHECK(!rp_tcp_flags_invalid(ACK | PSH));
	CHECK(!rp_tcp_flags_invalid(ACK | URG));
	CHECK(!rp_tcp_flags_invalid(ACK | PSH | URG | ECE | CWR));
	CHECK(!rp_tcp_flags_invalid(FIN | ACK));
	CHECK(!rp_tcp_flags_invalid(FIN | ACK | PSH | URG));
	CHECK(!rp_tcp_flags_invalid(RST));
	CHECK(!rp_tcp_flags_invalid(RST | ACK));

	/* the tracker refuses them too, leaving the state as it was */
	struct rp_tcp_state s;
	struct rp_tcp_seg g = mkseg(SYN | FIN, C_ISN, 0, C_WIN, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_INVALID);
	g = mkseg(FIN | PSH | URG, C_ISN, 0, C_WIN, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_INVALID);
	handshake(&s);
	STEP(&s, ORIG, SYN | RST, C_ISN + 1, 0, C_WIN, 0, RP_TCP_INVALID, RP_TCP_ESTABLISHED, 0);
	STEP(&s, REPLY, 0, S_ISN + 1, 0, S_WIN, 0, RP_TCP_INVALID, RP_TCP_ESTABLISHED, 0);
	STEP(&s, REPLY, 0xff, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_INVALID, RP_TCP_ESTABLISHED, 0);
	/* the connection is still usable afterwards */
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);
}

static void
test_handshake_and_data(void)
{
	struct rp_tcp_state s;
	struct rp_tcp_seg g = mkseg(SYN, C_ISN, 0, C_WIN, 0);

	CHECK_EQ(rp_tcp_new(&s, &g, 0), RP_TCP_ACCEPT); /* strict mode still takes a SYN */
	CHECK_EQ(s.state, RP_TCP_SYN_SENT);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 120);
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 60);
	/* assured on the third packet, exactly */
	STEP(&s, ORIG, ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 432000);

	/* data both ways; unacknowledged data shortens the timeout to 300 s */
	STEP(&s, ORIG, ACK | PSH, C_ISN + 1, S_ISN + 1, C_WIN, 100, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 300);
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1, C_ISN + 101, S_WIN, 1400, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 300); /* the server's 1400 bytes are not acked yet */
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1401, C_ISN + 101, S_WIN, 1400, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	STEP(&s, ORIG, ACK, C_ISN + 101, S_ISN + 2801, C_WIN, 0, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 432000); /* everything acked */
	CHECK_EQ(s.seen[ORIG].td_end, C_ISN + 101);
	CHECK_EQ(s.seen[REPLY].td_end, S_ISN + 2801);

	/* a segment beyond the receiver's window: INVALID, state and window data untouched */
	STEP(&s, ORIG, ACK | PSH, C_ISN + 101 + 1000000, S_ISN + 2801, C_WIN, 100, RP_TCP_INVALID,
	     RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(s.seen[ORIG].td_end, C_ISN + 101);
	/* an ack of data the server never sent: INVALID */
	STEP(&s, ORIG, ACK, C_ISN + 101, S_ISN + 2801 + 5000, C_WIN, 0, RP_TCP_INVALID,
	     RP_TCP_ESTABLISHED, 0);
	/* old data already acked, resent far below the window: ignored, not invalid */
	STEP(&s, ORIG, ACK | PSH, C_ISN + 101 - 200000, S_ISN + 2801, C_WIN, 10, RP_TCP_IGNORE,
	     RP_TCP_ESTABLISHED, 0);
	/* and normal traffic goes on */
	STEP(&s, REPLY, ACK, S_ISN + 2801, C_ISN + 101, S_WIN, 0, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
}

static void
test_fin_from_client(void)
{
	struct rp_tcp_state s;

	handshake(&s);
	STEP(&s, ORIG, FIN | ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_FIN_WAIT, 0);
	CHECK(s.seen[ORIG].flags & RP_TCP_F_CLOSE_INIT);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 120);
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 2, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE_WAIT, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 60);
	STEP(&s, REPLY, FIN | ACK, S_ISN + 1, C_ISN + 2, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_LAST_ACK,
	     0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 30);
	STEP(&s, ORIG, ACK, C_ISN + 2, S_ISN + 2, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_TIME_WAIT, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 120);
	/* the last ACK again: stays in TIME_WAIT */
	STEP(&s, ORIG, ACK, C_ISN + 2, S_ISN + 2, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_TIME_WAIT, 0);
	/* a new SYN reopens (RFC 1122): delete and start anew, from either side */
	STEP(&s, ORIG, SYN, C_ISN + 100000, 0, C_WIN, 0, RP_TCP_RESTART, RP_TCP_TIME_WAIT, 0);
	STEP(&s, REPLY, SYN, S_ISN + 100000, 0, S_WIN, 0, RP_TCP_RESTART, RP_TCP_TIME_WAIT, 0);
}

static void
test_fin_from_server(void)
{
	struct rp_tcp_state s;

	handshake(&s);
	STEP(&s, REPLY, FIN | ACK, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_FIN_WAIT,
	     0);
	CHECK(s.seen[REPLY].flags & RP_TCP_F_CLOSE_INIT);
	CHECK(!(s.seen[ORIG].flags & RP_TCP_F_CLOSE_INIT));
	STEP(&s, ORIG, ACK, C_ISN + 1, S_ISN + 2, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE_WAIT, 0);
	/* the client still sends data in CLOSE_WAIT */
	STEP(&s, ORIG, ACK | PSH, C_ISN + 1, S_ISN + 2, C_WIN, 50, RP_TCP_ACCEPT,
	     RP_TCP_CLOSE_WAIT, 0);
	STEP(&s, ORIG, FIN | ACK, C_ISN + 51, S_ISN + 2, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_LAST_ACK,
	     0);
	STEP(&s, REPLY, ACK, S_ISN + 2, C_ISN + 52, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_TIME_WAIT, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 120);
}

static void
test_rst(void)
{
	struct rp_tcp_state s;

	/* exact RST from the client: seq is what the server acked last */
	handshake(&s);
	STEP(&s, ORIG, RST, C_ISN + 1, 0, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 10);

	/* from the server, with ACK */
	handshake(&s);
	STEP(&s, REPLY, RST | ACK, S_ISN + 1, C_ISN + 1, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);

	/* far beyond the window: INVALID, state unchanged */
	handshake(&s);
	STEP(&s, ORIG, RST, C_ISN + 1 + 1000000, 0, 0, 0, RP_TCP_INVALID, RP_TCP_ESTABLISHED, 0);
	/* below what the server acked: INVALID */
	STEP(&s, ORIG, RST, C_ISN, 0, 0, 0, RP_TCP_INVALID, RP_TCP_ESTABLISHED, 0);
	/* in the window but not exact (RFC 5961): accepted, the state stays for the
	 * challenge ACK, and the timeout drops to CLOSE's */
	STEP(&s, ORIG, RST, C_ISN + 1 + 500, 0, 0, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 10);
	/* the exact one then closes */
	STEP(&s, ORIG, RST, C_ISN + 1, 0, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
	/* a SYN from the side that reset: restart */
	STEP(&s, ORIG, SYN, C_ISN + 7777, 0, C_WIN, 0, RP_TCP_RESTART, RP_TCP_CLOSE, 0);

	/* RST that ends a train of data: seq = end of the sender's last segment */
	handshake(&s);
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1, C_ISN + 1, S_WIN, 19, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	STEP(&s, REPLY, RST | ACK, S_ISN + 20, C_ISN + 1, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
	/* after a RST from the server, the client's new SYN is only ignored */
	STEP(&s, ORIG, SYN, C_ISN + 9999, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_CLOSE, 0);

	/* server refuses: RST to the SYN before any reply. netfilter deletes the
	 * entry at once: timeout 0, and any later packet looks up anew */
	struct rp_tcp_seg g = mkseg(SYN, C_ISN, 0, C_WIN, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	STEP(&s, REPLY, RST | ACK, 0, C_ISN + 1, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 0);
	STEP(&s, ORIG, SYN, C_ISN, 0, C_WIN, 0, RP_TCP_RESTART, RP_TCP_CLOSE, 0);

	/* RST in SYN_RECV (reply seen, not assured) goes through the window check */
	g = mkseg(SYN, C_ISN, 0, C_WIN, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	STEP(&s, REPLY, RST, S_ISN + 1 + 1000000, 0, 0, 0, RP_TCP_INVALID, RP_TCP_SYN_RECV, 0);
	STEP(&s, REPLY, RST, S_ISN + 1, 0, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 10);
	/* in CLOSE the checks are skipped: a retransmitted RST is accepted */
	STEP(&s, REPLY, RST, S_ISN + 1 + 1000000, 0, 0, 0, RP_TCP_ACCEPT, RP_TCP_CLOSE, 0);
}

static void
test_simultaneous_open(void)
{
	struct rp_tcp_state s;
	struct rp_tcp_seg g = mkseg(SYN, C_ISN, 0, C_WIN, 0);

	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	/* the SYNs cross: SYN_SENT2; no reply seen yet, so, as a resent SYN, it
	 * does not refresh the timeout (IGNORE), but the state moves */
	STEP(&s, REPLY, SYN, S_ISN, 0, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_SENT2, 0);
	CHECK(s.last_flags & RP_TCP_F_SIMULTANEOUS_OPEN);
	/* the same SYN again */
	STEP(&s, REPLY, SYN, S_ISN, 0, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_SENT2, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 120);
	/* each side answers with SYN/ACK */
	STEP(&s, ORIG, SYN | ACK, C_ISN, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_RECV, 0);
	/* and the reply side's ACK completes it (the table alone would not) */
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
	STEP(&s, ORIG, ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);

	/* the same without the repeated SYN: the crossing SYN, accepted though not
	 * refreshing, already counts as the reply seen, so the reply side's ACK
	 * assures the connection and it gets the full ESTABLISHED timeout */
	g = mkseg(SYN, C_ISN, 0, C_WIN, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	STEP(&s, REPLY, SYN, S_ISN, 0, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_SENT2, 0);
	STEP(&s, ORIG, SYN | ACK, C_ISN, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 432000);
}

static void
test_retransmissions(void)
{
	struct rp_tcp_state s;
	struct rp_tcp_seg g = mkseg(SYN, C_ISN, 0, C_WIN, 0);

	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	/* resent SYN before any reply: accepted, timeout not renewed */
	STEP(&s, ORIG, SYN, C_ISN, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_SENT, 0);
	/* an ACK before the SYN/ACK: invalid from the client */
	STEP(&s, ORIG, ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_INVALID, RP_TCP_SYN_SENT, 0);
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	/* resent SYN/ACK: ignored (sIG) */
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_RECV, 0);
	/* resent SYN in SYN_RECV: ignored (sIG) */
	STEP(&s, ORIG, SYN, C_ISN, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_SYN_RECV, 0);
	STEP(&s, ORIG, ACK, C_ISN + 1, S_ISN + 1, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
	/* resent SYN/ACK once established: still ignored, still ESTABLISHED */
	STEP(&s, REPLY, SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_ESTABLISHED,
	     0);

	/* the same data segment again and again: from the third retransmission on,
	 * the timeout is max_retrans (values apart to tell the cases) */
	struct rp_tcp_timeouts t = tmo;
	t.max_retrans = 111;
	t.unacknowledged = 222;
	STEP(&s, ORIG, ACK | PSH, C_ISN + 1, S_ISN + 1, C_WIN, 100, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(s.retrans, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &t), 222);
	for (int i = 1; i <= 3; i++) {
		STEP(&s, ORIG, ACK | PSH, C_ISN + 1, S_ISN + 1, C_WIN, 100, RP_TCP_ACCEPT,
		     RP_TCP_ESTABLISHED, 0);
		CHECK_EQ(s.retrans, i);
		CHECK_EQ(rp_tcp_timeout(&s, &t), i < 3 ? 222 : 111);
	}
	/* the server acks: no longer retransmitting, nothing unacknowledged */
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 101, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED,
	     0);
	CHECK_EQ(s.retrans, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &t), 432000);
	/* a zero window: max_retrans too */
	STEP(&s, REPLY, ACK, S_ISN + 1, C_ISN + 101, 0, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &t), 111);
	/* a timeout shorter than max_retrans is kept */
	t.state[RP_TCP_ESTABLISHED] = 50;
	CHECK_EQ(rp_tcp_timeout(&s, &t), 50);
}

static void
test_resync_and_challenge(void)
{
	struct rp_tcp_state s;

	/* the client restarted and opens again while we hold the old connection */
	handshake(&s);
	STEP(&s, ORIG, SYN, 900000, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_ESTABLISHED, 0);
	/* a SYN/ACK that answers something else: ignored */
	STEP(&s, REPLY, SYN | ACK, 700000, 123, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_ESTABLISHED, 0);
	/* one that answers the ignored SYN: resynchronise to SYN_RECV */
	STEP(&s, ORIG, SYN, 900000, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_ESTABLISHED, 0);
	STEP(&s, REPLY, SYN | ACK, 700000, 900001, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_SYN_RECV, 0);
	CHECK_EQ(s.seen[ORIG].td_end, 900001);
	CHECK_EQ(s.seen[REPLY].td_end, 700001);
	/* already assured: the new ESTABLISHED does not assure again */
	STEP(&s, ORIG, ACK, 900001, 700001, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);

	/* RFC 5961 challenge ACK in LAST_ACK must not pass for the last ACK */
	handshake(&s);
	STEP(&s, REPLY, FIN | ACK, S_ISN + 1, C_ISN + 1, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_FIN_WAIT,
	     0);
	STEP(&s, ORIG, FIN | ACK, C_ISN + 1, S_ISN + 2, C_WIN, 0, RP_TCP_ACCEPT, RP_TCP_LAST_ACK,
	     0);
	STEP(&s, ORIG, SYN, 300000, 0, C_WIN, 0, RP_TCP_IGNORE, RP_TCP_LAST_ACK, 0);
	CHECK(s.last_flags & RP_TCP_F_CHALLENGE_ACK);
	STEP(&s, REPLY, ACK, S_ISN + 2, C_ISN + 2, S_WIN, 0, RP_TCP_IGNORE, RP_TCP_LAST_ACK, 0);
	/* the real last ACK */
	STEP(&s, REPLY, ACK, S_ISN + 2, C_ISN + 2, S_WIN, 0, RP_TCP_ACCEPT, RP_TCP_TIME_WAIT, 0);
}

static void
test_loose(void)
{
	struct rp_tcp_state s;
	struct rp_tcp_seg g = mkseg(ACK, C_ISN, S_ISN, 1000, 0);

	/* strict: only a SYN opens */
	memset(&s, 0x5a, sizeof(s));
	CHECK_EQ(rp_tcp_new(&s, &g, 0), RP_TCP_INVALID);
	CHECK_EQ(s.state, 0x5a); /* untouched */

	/* loose: a mid-stream ACK picks the connection up, liberal both ways */
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	CHECK_EQ(s.state, RP_TCP_ESTABLISHED);
	CHECK_EQ(s.seen[ORIG].flags, RP_TCP_F_SACK_PERM | RP_TCP_F_BE_LIBERAL);
	CHECK_EQ(s.seen[REPLY].flags, RP_TCP_F_SACK_PERM | RP_TCP_F_BE_LIBERAL);
	CHECK_EQ(s.seen[ORIG].td_end, C_ISN);
	CHECK_EQ(s.seen[ORIG].td_maxwin, 1000);
	CHECK_EQ(s.seen[ORIG].td_maxend, C_ISN + 1000);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 300); /* never answered: no 5-day ESTABLISHED */
	/* the first answer is not yet a reply seen: not assured, still short */
	STEP(&s, REPLY, ACK, S_ISN, C_ISN, 1000, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 0);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 300);
	/* the next packet assures it */
	STEP(&s, ORIG, ACK, C_ISN, S_ISN, 1000, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
	CHECK_EQ(rp_tcp_timeout(&s, &tmo), 432000);
	/* liberal: even far out of window passes */
	STEP(&s, ORIG, ACK | PSH, C_ISN + 3000000, S_ISN, 1000, 10, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);

	/* only a pure ACK picks up: FIN, RST, SYN/ACK do not */
	g = mkseg(FIN | ACK, C_ISN, S_ISN, 1000, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_INVALID);
	g = mkseg(RST, C_ISN, 0, 0, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_INVALID);
	g = mkseg(SYN | ACK, C_ISN, S_ISN, 1000, 0);
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_INVALID);
}

/* Options of a SYN: MSS, SACK-permitted, timestamp, window scale. */
static unsigned
syn_options(uint8_t *o, int wscale, int sack_perm)
{
	unsigned n = 0;

	o[n++] = 2, o[n++] = 4, o[n++] = 0x05, o[n++] = 0xb4; /* MSS 1460 */
	if (sack_perm)
		o[n++] = 4, o[n++] = 2;
	else
		o[n++] = 1, o[n++] = 1;
	o[n++] = 8, o[n++] = 10; /* timestamp */
	for (int i = 0; i < 8; i++)
		o[n++] = (uint8_t)i;
	o[n++] = 1;
	if (wscale >= 0)
		o[n++] = 3, o[n++] = 3, o[n++] = (uint8_t)wscale;
	else
		o[n++] = 1, o[n++] = 1, o[n++] = 1;
	return n;
}

/* Handshake with options; the server may leave window scaling out. */
static void
handshake_opts(struct rp_tcp_state *s, int c_scale, int s_scale)
{
	uint8_t o[40];
	unsigned n = syn_options(o, c_scale, 1);
	struct rp_tcp_seg g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, o, n);

	CHECK_EQ(rp_tcp_new(s, &g, 1), RP_TCP_ACCEPT);
	n = syn_options(o, s_scale, 1);
	g = mkseg_opt(SYN | ACK, S_ISN, C_ISN + 1, S_WIN, 0, o, n);
	CHECK_EQ(rp_tcp_packet(s, REPLY, &g, NULL), RP_TCP_ACCEPT);
	/* windows from now on in units of 2^scale: 1000 << 7 = 128000 bytes */
	STEP(s, ORIG, ACK, C_ISN + 1, S_ISN + 1, 1000, 0, RP_TCP_ACCEPT, RP_TCP_ESTABLISHED, 1);
}

static void
test_window_scaling(void)
{
	struct rp_tcp_state s;

	handshake_opts(&s, 7, 8);
	CHECK_EQ(s.seen[ORIG].td_scale, 7);
	CHECK_EQ(s.seen[REPLY].td_scale, 8);
	CHECK(s.seen[ORIG].flags & RP_TCP_F_WINDOW_SCALE);
	CHECK(s.seen[ORIG].flags & RP_TCP_F_SACK_PERM);
	CHECK(s.seen[REPLY].flags & RP_TCP_F_SACK_PERM);
	/* 100 kB into the client's 128000-byte window: accepted */
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1 + 100000, C_ISN + 1, 1000, 1400, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	/* beyond it (and by more than the window): invalid */
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1 + 300000, C_ISN + 1, 1000, 1400, RP_TCP_INVALID,
	     RP_TCP_ESTABLISHED, 0);

	/* the server does not scale: neither side does, the same segment is invalid */
	handshake_opts(&s, 7, -1);
	CHECK_EQ(s.seen[ORIG].td_scale, 0);
	CHECK_EQ(s.seen[REPLY].td_scale, 0);
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1 + 100000, C_ISN + 1, 1000, 1400, RP_TCP_INVALID,
	     RP_TCP_ESTABLISHED, 0);

	/* a scale above 14 is taken as 14 (RFC 7323) */
	handshake_opts(&s, 20, 9);
	CHECK_EQ(s.seen[ORIG].td_scale, 14);
	CHECK_EQ(s.seen[REPLY].td_scale, 9);
}

static void
test_option_bounds(void)
{
	struct rp_tcp_state s;
	struct rp_tcp_seg g;

	/* window scale whose length byte lies beyond the 4 option bytes: not read */
	uint8_t ws_cut[] = {1, 1, 1, 3};
	g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, ws_cut, sizeof(ws_cut));
	hdr_buf[24] = 3, hdr_buf[25] = 9; /* what an over-read would take for len and shift */
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	CHECK_EQ(s.seen[ORIG].td_scale, 0);
	CHECK(!(s.seen[ORIG].flags & RP_TCP_F_WINDOW_SCALE));
	/* length 3 with only 2 bytes left: not read */
	uint8_t ws_short[] = {1, 1, 3, 3};
	g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, ws_short, sizeof(ws_short));
	hdr_buf[24] = 9;
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	CHECK(!(s.seen[ORIG].flags & RP_TCP_F_WINDOW_SCALE));
	/* length below 2 ends the walk: the SACK-permitted after it is not seen */
	uint8_t silly[] = {30, 1, 4, 2};
	g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, silly, sizeof(silly));
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	CHECK(!(s.seen[ORIG].flags & RP_TCP_F_SACK_PERM));
	uint8_t sackperm[] = {1, 1, 4, 2};
	g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, sackperm, sizeof(sackperm));
	CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
	CHECK(s.seen[ORIG].flags & RP_TCP_F_SACK_PERM);

	/* SACK blocks, with SACK permitted both ways */
	handshake_opts(&s, 7, 7);
	/* a block whose right edge acks data the server never sent: invalid... */
	uint8_t sack_bad[12] = {1, 1, 5, 10};
	uint32_t left = rte_cpu_to_be_32(S_ISN + 5000), right = rte_cpu_to_be_32(S_ISN + 6000);
	memcpy(sack_bad + 4, &left, 4);
	memcpy(sack_bad + 8, &right, 4);
	g = mkseg_opt(ACK, C_ISN + 1, S_ISN + 1, 1000, 0, sack_bad, sizeof(sack_bad));
	CHECK_EQ(rp_tcp_packet(&s, ORIG, &g, NULL), RP_TCP_INVALID);
	/* ...one within what was sent: fine */
	STEP(&s, REPLY, ACK | PSH, S_ISN + 1, C_ISN + 1, 1000, 3000, RP_TCP_ACCEPT,
	     RP_TCP_ESTABLISHED, 0);
	left = rte_cpu_to_be_32(S_ISN + 1001);
	right = rte_cpu_to_be_32(S_ISN + 2001);
	memcpy(sack_bad + 4, &left, 4);
	memcpy(sack_bad + 8, &right, 4);
	g = mkseg_opt(ACK, C_ISN + 1, S_ISN + 1, 1000, 0, sack_bad, sizeof(sack_bad));
	CHECK_EQ(rp_tcp_packet(&s, ORIG, &g, NULL), RP_TCP_ACCEPT);
	/* a SACK option claiming 10 bytes with 2 left in the header: the block
	 * after the header (which would ack unsent data) must not be read */
	uint8_t sack_cut[] = {1, 1, 5, 10};
	g = mkseg_opt(ACK, C_ISN + 1, S_ISN + 1, 1000, 0, sack_cut, sizeof(sack_cut));
	right = rte_cpu_to_be_32(S_ISN + 900000);
	memcpy(hdr_buf + 24 + 4, &right, 4);
	CHECK_EQ(rp_tcp_packet(&s, ORIG, &g, NULL), RP_TCP_ACCEPT);

	/* the same headers in buffers of exactly their size, for the sanitizers */
	uint8_t *exact = malloc(24);
	CHECK(exact != NULL);
	if (exact != NULL) {
		g = mkseg_opt(ACK, C_ISN + 1, S_ISN + 1, 1000, 0, sack_cut, sizeof(sack_cut));
		memcpy(exact, hdr_buf, 24);
		g.th = (const struct rte_tcp_hdr *)exact;
		CHECK_EQ(rp_tcp_packet(&s, ORIG, &g, NULL), RP_TCP_ACCEPT);
		g = mkseg_opt(SYN, C_ISN, 0, C_WIN, 0, ws_cut, sizeof(ws_cut));
		memcpy(exact, hdr_buf, 24);
		g.th = (const struct rte_tcp_hdr *)exact;
		CHECK_EQ(rp_tcp_new(&s, &g, 1), RP_TCP_ACCEPT);
		CHECK(!(s.seen[ORIG].flags & RP_TCP_F_WINDOW_SCALE));
		free(exact);
	}
}

int
main(void)
{
	rp_tcp_default_timeouts(&tmo);
	test_table_cells();
	test_names_and_defaults();
	test_flags();
	test_handshake_and_data();
	test_fin_from_client();
	test_fin_from_server();
	test_rst();
	test_simultaneous_open();
	test_retransmissions();
	test_resync_and_challenge();
	test_loose();
	test_window_scaling();
	test_option_bounds();
	return rp_test_done("test_ct_tcp");
}
