/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP connection tracking with the behaviour of Linux netfilter's
 * net/netfilter/nf_conntrack_proto_tcp.c (6.x): the same transition table,
 * the same window tracking, the same special cases, so that a connection
 * gets the state here that it would get in the kernel. The code is written
 * for Rampart; where it mirrors a kernel function, the comment names it.
 *
 * Verdicts map netfilter's returns: NF_ACCEPT with a timer refresh is
 * RP_TCP_ACCEPT, NF_ACCEPT without one (ignored packets, tcp_in_window's
 * IGNORE, a SYN resent before any reply) is RP_TCP_IGNORE, -NF_ACCEPT is
 * RP_TCP_INVALID and -NF_REPEAT (reopen) is RP_TCP_RESTART.
 *
 * Worker hot path: no allocation, no locks, no clock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "ct_tcp.h"

_Static_assert(sizeof(struct rp_tcp_state) <= 56,
	       "struct rp_tcp_state must fit the 56 bytes the conntrack entry gives it");

/* Flag classes, in the order of netfilter's enum tcp_bit_set. */
enum tcp_class {
	C_SYN,
	C_SYNACK,
	C_FIN,
	C_ACK,
	C_RST,
	C_NONE,
	C_MAX,
};

/* Short names so that a row of the table fits one line. */
#define sNO RP_TCP_NONE
#define sSS RP_TCP_SYN_SENT
#define sSR RP_TCP_SYN_RECV
#define sES RP_TCP_ESTABLISHED
#define sFW RP_TCP_FIN_WAIT
#define sCW RP_TCP_CLOSE_WAIT
#define sLA RP_TCP_LAST_ACK
#define sTW RP_TCP_TIME_WAIT
#define sCL RP_TCP_CLOSE
#define sS2 RP_TCP_SYN_SENT2
#define sIV RP_TCP_T_INVALID /* invalid packet */
#define sIG RP_TCP_T_IGNORE  /* may be valid or not: let it pass, keep the state */

/*
 * New state by [direction][flag class][current state]: netfilter's
 * tcp_conntracks, value for value. Columns are the current state; each row
 * says what the packet is and what the row does.
 */
static const uint8_t tcp_transitions[2][C_MAX][RP_TCP_STATE_MAX] = {
	/* original direction (the side that sent the first packet) */
	{
/*               sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* SYN     */ { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 }, /* opens, is resent, reopens after close; mid-connection ignored */
/* SYN/ACK */ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR }, /* only as the client's answer in a simultaneous open */
/* FIN     */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV }, /* starts the close, or answers the peer's FIN */
/* ACK     */ { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV }, /* completes the handshake, acks a FIN, picks up (loose) */
/* RST     */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL }, /* closes (after the RST checks) */
/* none    */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV }, /* no SYN/FIN/ACK/RST: never valid */
	},
	/* reply direction */
	{
/*               sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* SYN     */ { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 }, /* simultaneous open; reopen from TIME_WAIT with roles swapped */
/* SYN/ACK */ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR }, /* the server's answer; later ones are resent: ignored */
/* FIN     */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV }, /* starts the close, or answers the peer's FIN */
/* ACK     */ { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG }, /* acks data or a FIN; before the SYN/ACK: ignored */
/* RST     */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL }, /* closes (after the RST checks) */
/* none    */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV }, /* no SYN/FIN/ACK/RST: never valid */
	},
};

static const char *const tcp_state_names[RP_TCP_STATE_MAX] = {
	[RP_TCP_NONE] = "NONE",
	[RP_TCP_SYN_SENT] = "SYN_SENT",
	[RP_TCP_SYN_RECV] = "SYN_RECV",
	[RP_TCP_ESTABLISHED] = "ESTABLISHED",
	[RP_TCP_FIN_WAIT] = "FIN_WAIT",
	[RP_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[RP_TCP_LAST_ACK] = "LAST_ACK",
	[RP_TCP_TIME_WAIT] = "TIME_WAIT",
	[RP_TCP_CLOSE] = "CLOSE",
	[RP_TCP_SYN_SENT2] = "SYN_SENT2",
};

/*
 * Flag combinations netfilter accepts (tcp_valid_flags), indexed by the
 * flags byte without PSH, ECE and CWR, which never make a combination
 * invalid. Everything else (SYN+FIN, SYN+RST, no flag, FIN+URG as in XMAS
 * scans, FIN without ACK...) is invalid.
 */
#define FL_FIN RTE_TCP_FIN_FLAG
#define FL_SYN RTE_TCP_SYN_FLAG
#define FL_RST RTE_TCP_RST_FLAG
#define FL_ACK RTE_TCP_ACK_FLAG
#define FL_URG RTE_TCP_URG_FLAG
#define FL_ALWAYS_OK (RTE_TCP_PSH_FLAG | RTE_TCP_ECE_FLAG | RTE_TCP_CWR_FLAG)

static const bool tcp_flags_ok[(FL_FIN | FL_SYN | FL_RST | FL_ACK | FL_URG) + 1] = {
	[FL_SYN] = true,
	[FL_SYN | FL_URG] = true,
	[FL_SYN | FL_ACK] = true,
	[FL_RST] = true,
	[FL_RST | FL_ACK] = true,
	[FL_FIN | FL_ACK] = true,
	[FL_FIN | FL_ACK | FL_URG] = true,
	[FL_ACK] = true,
	[FL_ACK | FL_URG] = true,
};

/* TCP option kinds and lengths the tracker reads. */
#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_WSCALE 3
#define OPT_WSCALE_LEN 3
#define OPT_SACK_PERM 4
#define OPT_SACK_PERM_LEN 2
#define OPT_SACK 5
#define OPT_SACK_BASE 2
#define OPT_SACK_BLOCK 8
#define OPT_TIMESTAMP 8
#define OPT_TIMESTAMP_LEN 10
#define OPT_MAX_LEN 40       /* 60-byte header less the fixed 20 */
#define MAX_WSCALE 14        /* RFC 7323 */
#define MAXACKWIN_MIN 66000  /* netfilter's MAXACKWINCONST */
#define MAX_RETRANS 3        /* nf_conntrack_tcp_max_retrans */

/*
 * Connection status netfilter keeps in ct->status, kept here in bits of
 * last_flags that the RP_TCP_F_* of an ignored SYN never use (so every
 * write of last_flags below preserves them).
 */
#define ST_SEEN_REPLY 0x04 /* IPS_SEEN_REPLY: an accepted packet went the reply way */
#define ST_ASSURED    0x08 /* IPS_ASSURED */
#define ST_KILLED     0x10 /* RST before any reply: netfilter deleted the entry */
#define ST_UNREPLIED  0x20 /* no reply yet when the last accepted packet was tracked */
#define ST_MASK (ST_SEEN_REPLY | ST_ASSURED | ST_KILLED | ST_UNREPLIED)

/* Sequence-space comparisons, modulo 2^32 (netfilter's before/after). */
static inline bool
seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

static inline uint32_t
maxack_get(const struct rp_tcp_state *s, int d)
{
	return (uint32_t)s->td_maxack_hi[d] << 16 | s->seen[d].td_maxack_lo;
}

static inline void
maxack_set(struct rp_tcp_state *s, int d, uint32_t v)
{
	s->td_maxack_hi[d] = (uint16_t)(v >> 16);
	s->seen[d].td_maxack_lo = (uint16_t)v;
}

/* The header fields the tracker uses, in host order. */
struct seg_info {
	uint32_t seq;
	uint32_t ack;
	uint32_t end; /* seq + payload, SYN and FIN counting one each */
	uint16_t win; /* as on the wire, unscaled */
	uint8_t flags;
	uint8_t cls;  /* enum tcp_class */
};

/* netfilter's get_conntrack_index: RST first, then SYN (with or without ACK), FIN, ACK. */
static inline enum tcp_class
flag_class(uint8_t f)
{
	if (f & FL_RST)
		return C_RST;
	if (f & FL_SYN)
		return (f & FL_ACK) ? C_SYNACK : C_SYN;
	if (f & FL_FIN)
		return C_FIN;
	if (f & FL_ACK)
		return C_ACK;
	return C_NONE;
}

static void
seg_parse(const struct rp_tcp_seg *seg, struct seg_info *p)
{
	const struct rte_tcp_hdr *th = seg->th;

	p->flags = th->tcp_flags;
	p->cls = flag_class(p->flags);
	p->seq = rte_be_to_cpu_32(th->sent_seq);
	p->ack = rte_be_to_cpu_32(th->recv_ack);
	p->win = rte_be_to_cpu_16(th->rx_win);
	p->end = p->seq + seg->payload_len + !!(p->flags & FL_SYN) + !!(p->flags & FL_FIN);
}

/* The option bytes after the fixed header, bounded by hdr_len and by 40. */
static inline const uint8_t *
seg_options(const struct rp_tcp_seg *seg, unsigned *len)
{
	unsigned n = seg->hdr_len > sizeof(struct rte_tcp_hdr) ?
			     seg->hdr_len - (unsigned)sizeof(struct rte_tcp_hdr) : 0;

	*len = n > OPT_MAX_LEN ? OPT_MAX_LEN : n;
	return (const uint8_t *)(seg->th + 1);
}

/*
 * netfilter's tcp_options: window scale and SACK-permitted from a SYN or
 * SYN/ACK into @p d. Without options nothing changes; otherwise td_scale
 * and all flags but BE_LIBERAL are reset first. A malformed option (length
 * below 2 or beyond the header) ends the walk, so no byte past the header
 * is read.
 */
static void
dir_options(struct rp_tcp_dir *d, const struct rp_tcp_seg *seg)
{
	unsigned len;
	const uint8_t *opt = seg_options(seg, &len);

	if (len == 0)
		return;
	d->td_scale = 0;
	d->flags &= RP_TCP_F_BE_LIBERAL;
	for (unsigned i = 0; i < len;) {
		uint8_t kind = opt[i];

		if (kind == OPT_EOL)
			return;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return;
		uint8_t olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return;
		if (kind == OPT_SACK_PERM && olen == OPT_SACK_PERM_LEN) {
			d->flags |= RP_TCP_F_SACK_PERM;
		} else if (kind == OPT_WSCALE && olen == OPT_WSCALE_LEN) {
			d->td_scale = opt[i + 2] > MAX_WSCALE ? MAX_WSCALE : opt[i + 2];
			d->flags |= RP_TCP_F_WINDOW_SCALE;
		}
		i += olen;
	}
}

static inline uint32_t
load_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * netfilter's tcp_sack: raise @p sack to the highest right edge of the
 * first well-formed SACK option. Same bounds as dir_options.
 */
static void
highest_sack(const struct rp_tcp_seg *seg, uint32_t *sack)
{
	unsigned len;
	const uint8_t *opt = seg_options(seg, &len);

	/* the common case of a lone aligned timestamp holds no SACK */
	if (len == 2 + OPT_TIMESTAMP_LEN && opt[0] == OPT_NOP && opt[1] == OPT_NOP &&
	    opt[2] == OPT_TIMESTAMP && opt[3] == OPT_TIMESTAMP_LEN)
		return;
	for (unsigned i = 0; i < len;) {
		uint8_t kind = opt[i];

		if (kind == OPT_EOL)
			return;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return;
		uint8_t olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return;
		if (kind == OPT_SACK && olen >= OPT_SACK_BASE + OPT_SACK_BLOCK &&
		    (olen - OPT_SACK_BASE) % OPT_SACK_BLOCK == 0) {
			/* each block is left edge, right edge; keep the highest right edge */
			for (unsigned b = OPT_SACK_BASE; b < olen; b += OPT_SACK_BLOCK) {
				uint32_t right = load_be32(opt + i + b + 4);
				if (seq_after(right, *sack))
					*sack = right;
			}
			return;
		}
		i += olen;
	}
}

/* netfilter's nf_ct_tcp_state_reset */
static void
dir_reset(struct rp_tcp_state *s, int d)
{
	struct rp_tcp_dir *t = &s->seen[d];

	t->td_end = 0;
	t->td_maxend = 0;
	t->td_maxwin = 0;
	t->td_scale = 0;
	t->flags &= RP_TCP_F_BE_LIBERAL;
	maxack_set(s, d, 0);
}

/*
 * netfilter's tcp_init_sender: window data of @p dir from its SYN or
 * SYN/ACK. Window scaling holds only if both sides offered it, which is
 * known once the reply direction's SYN is seen.
 */
static void
init_sender(struct rp_tcp_state *s, int dir, const struct rp_tcp_seg *seg,
	    const struct seg_info *p)
{
	struct rp_tcp_dir *snd = &s->seen[dir], *rcv = &s->seen[!dir];

	snd->td_end = p->end;
	snd->td_maxend = p->end;
	snd->td_maxwin = p->win ? p->win : 1;
	dir_options(snd, seg);
	if (dir == 1 && !((snd->flags & RP_TCP_F_WINDOW_SCALE) &&
			  (rcv->flags & RP_TCP_F_WINDOW_SCALE))) {
		snd->td_scale = 0;
		rcv->td_scale = 0;
	}
}

/* What an out-of-window finding becomes: nothing when the sender is liberal. */
static inline enum rp_tcp_verdict
window_fail(const struct rp_tcp_dir *snd, enum rp_tcp_verdict v)
{
	return (snd->flags & RP_TCP_F_BE_LIBERAL) ? RP_TCP_ACCEPT : v;
}

/*
 * netfilter's tcp_in_window. With td_end/td_maxend/td_maxwin of both
 * directions (see the comment above tcp_in_window in the kernel):
 *   I.   seq <= sender.td_maxend                       (data not beyond the window)
 *   II.  end >= sender.td_end - receiver.td_maxwin     (data not all old)
 *   III. sack <= receiver.td_end                       (no ack of unsent data)
 *   IV.  sack >= receiver.td_end - max(66000, sender.td_maxwin)
 * I and III failing make the packet INVALID, II and IV make it IGNORE;
 * a liberal sender passes all. A passing segment updates the data of both.
 */
static enum rp_tcp_verdict
window_check(struct rp_tcp_state *s, int dir, const struct rp_tcp_seg *seg,
	     const struct seg_info *p)
{
	struct rp_tcp_dir *snd = &s->seen[dir], *rcv = &s->seen[!dir];
	bool has_ack = p->flags & FL_ACK, has_syn = p->flags & FL_SYN;
	bool has_rst = p->flags & FL_RST;
	uint32_t seq = p->seq, ack = p->ack, sack = p->ack, end = p->end;
	uint32_t win = p->win;

	if (rcv->flags & RP_TCP_F_SACK_PERM)
		highest_sack(seg, &sack);

	if (snd->td_maxwin == 0) {
		/* first packet of this direction */
		if (has_syn) {
			init_sender(s, dir, seg, p);
			if (!has_ack)
				return RP_TCP_ACCEPT; /* simultaneous open */
		} else {
			/* mid-stream: take what the packet tells */
			uint32_t swin = win << snd->td_scale;

			snd->td_end = end;
			snd->td_maxwin = swin ? swin : 1;
			snd->td_maxend = end + snd->td_maxwin;
			if (rcv->td_maxwin == 0) {
				/* nothing seen the other way yet: make III and IV pass */
				rcv->td_end = sack;
				rcv->td_maxend = sack;
			} else if (sack == rcv->td_end + 1) {
				rcv->td_end++; /* answer to a keepalive */
			}
		}
	} else if (has_syn && seq_after(end, snd->td_end) &&
		   (s->state == RP_TCP_SYN_SENT || s->state == RP_TCP_SYN_RECV)) {
		/* a new SYN (SYN/ACK) with a higher sequence: start this direction again */
		init_sender(s, dir, seg, p);
		if (dir == 1 && !has_ack)
			return RP_TCP_ACCEPT;
	}

	if (!has_ack) {
		ack = rcv->td_end; /* no ACK: as if it acked all */
		sack = ack;
	} else if (has_rst && ack == 0) {
		ack = rcv->td_end; /* stacks that send RST+ACK with ack 0 */
		sack = ack;
	}
	if (has_rst && seq == 0 && s->state == RP_TCP_SYN_SENT) {
		seq = snd->td_end; /* RST answering a SYN */
		end = seq;
	}

	uint32_t maxackwin = snd->td_maxwin > MAXACKWIN_MIN ? snd->td_maxwin : MAXACKWIN_MIN;
	bool in_recv_win;

	if (!seq_before(seq, snd->td_maxend + 1)) {
		/* I fails. Data beyond the window that the receiver can still take
		 * (overshoot of at most its window) is ignored, not invalid, and
		 * td_end follows it so that the peer's ack of it stays valid. */
		uint32_t overshot = end - snd->td_maxend + 1;
		bool ack_ok = seq_after(sack, rcv->td_end - maxackwin - 1);

		in_recv_win = rcv->td_maxwin && seq_after(end, snd->td_end - rcv->td_maxwin - 1);
		if (in_recv_win && ack_ok && overshot <= rcv->td_maxwin &&
		    seq_before(sack, rcv->td_end + 1)) {
			snd->td_end = end;
			snd->flags |= RP_TCP_F_DATA_UNACK;
			return window_fail(snd, RP_TCP_IGNORE);
		}
		return window_fail(snd, RP_TCP_INVALID);
	}
	if (!seq_before(sack, rcv->td_end + 1))
		return window_fail(snd, RP_TCP_INVALID); /* III */
	in_recv_win = !rcv->td_maxwin || seq_after(end, snd->td_end - rcv->td_maxwin - 1);
	if (!in_recv_win)
		return window_fail(snd, RP_TCP_IGNORE); /* II: old data resent */
	if (!seq_after(sack, rcv->td_end - maxackwin - 1))
		return window_fail(snd, RP_TCP_IGNORE); /* IV: very late ack */

	if (!has_syn)
		win <<= snd->td_scale; /* a SYN's window is never scaled */

	uint32_t swin = win + (sack - ack);
	if (snd->td_maxwin < swin)
		snd->td_maxwin = swin;
	if (seq_after(end, snd->td_end)) {
		snd->td_end = end;
		snd->flags |= RP_TCP_F_DATA_UNACK;
	}
	if (has_ack) {
		if (!(snd->flags & RP_TCP_F_MAXACK_SET)) {
			maxack_set(s, dir, ack);
			snd->flags |= RP_TCP_F_MAXACK_SET;
		} else if (seq_after(ack, maxack_get(s, dir))) {
			maxack_set(s, dir, ack);
		}
	}

	if (rcv->td_maxwin != 0 && seq_after(end, snd->td_maxend))
		rcv->td_maxwin += end - snd->td_maxend;
	if (seq_after(sack + win, rcv->td_maxend - 1)) {
		rcv->td_maxend = sack + win;
		if (win == 0)
			rcv->td_maxend++;
	}
	if (ack == rcv->td_end)
		rcv->flags &= ~RP_TCP_F_DATA_UNACK;

	/* the same ACK-class segment again: a retransmission */
	if (p->cls == C_ACK) {
		if (s->last_dir == dir && s->last_seq == seq && s->last_ack == ack &&
		    s->last_end == end && s->last_win == p->win) {
			s->retrans++;
		} else {
			s->last_dir = (uint8_t)dir;
			s->last_seq = seq;
			s->last_ack = ack;
			s->last_end = end;
			s->last_win = p->win;
			s->retrans = 0;
		}
	}
	return RP_TCP_ACCEPT;
}

/* netfilter's nf_conntrack_tcp_established */
static inline bool
established_assured(const struct rp_tcp_state *s)
{
	return s->state == RP_TCP_ESTABLISHED && (s->last_flags & ST_ASSURED);
}

/* netfilter's tcp_can_early_drop: a closing connection */
static inline bool
closing(uint8_t state)
{
	return state == RP_TCP_FIN_WAIT || state == RP_TCP_CLOSE_WAIT ||
	       state == RP_TCP_LAST_ACK || state == RP_TCP_TIME_WAIT || state == RP_TCP_CLOSE;
}

/*
 * An ignored packet (sIG): remember it, since the peer's answer tells
 * whether it was valid. A SYN in the original direction keeps its options,
 * so that a SYN/ACK answering it can resynchronise the connection.
 */
static void
note_ignored(struct rp_tcp_state *s, int dir, uint8_t old, const struct rp_tcp_seg *seg,
	     const struct seg_info *p)
{
	s->last_index = p->cls;
	s->last_dir = (uint8_t)dir;
	s->last_seq = p->seq;
	s->last_end = p->end;
	s->last_win = p->win;
	if (p->cls == C_SYN && dir == 0) {
		struct rp_tcp_dir opts = {0};

		s->last_flags &= ST_MASK;
		s->last_wscale = 0;
		dir_options(&opts, seg);
		if (opts.flags & RP_TCP_F_WINDOW_SCALE) {
			s->last_flags |= RP_TCP_F_WINDOW_SCALE;
			s->last_wscale = opts.td_scale;
		}
		if (opts.flags & RP_TCP_F_SACK_PERM)
			s->last_flags |= RP_TCP_F_SACK_PERM;
		/* the server may answer with an RFC 5961 challenge ACK, which must
		 * not pass for the ack of the last FIN */
		if (old == RP_TCP_LAST_ACK)
			s->last_flags |= RP_TCP_F_CHALLENGE_ACK;
	}
	/* a reply ACK to our SYN may be a challenge ACK: a RST may follow it */
	if (old == RP_TCP_SYN_SENT && p->cls == C_ACK && dir == 1)
		s->last_ack = p->ack;
}

/*
 * A SYN/ACK answers a SYN we ignored: client and server are in sync, we
 * are not. Take the SYN's direction from what note_ignored kept, and
 * restart the SYN/ACK's direction.
 */
static void
resync_from_ignored_syn(struct rp_tcp_state *s, int dir)
{
	struct rp_tcp_dir *syn_dir = &s->seen[s->last_dir];

	syn_dir->td_end = s->last_end;
	syn_dir->td_maxend = s->last_end;
	syn_dir->td_maxwin = s->last_win ? s->last_win : 1;
	syn_dir->td_scale = s->last_wscale;
	s->last_flags &= ~RP_TCP_F_CHALLENGE_ACK;
	syn_dir->flags = s->last_flags & ~ST_MASK;
	dir_reset(s, dir);
}

/* netfilter's nf_tcp_handle_invalid, less the timeout it shortens (see rp_tcp_packet). */
static void
note_invalid(struct rp_tcp_state *s, int dir, const struct seg_info *p)
{
	if (!(s->last_flags & ST_ASSURED) || (p->cls != C_RST && p->cls != C_FIN))
		return;
	if (s->last_dir != dir && (s->last_index == C_FIN || s->last_index == C_RST))
		return;
	s->last_index = p->cls;
	s->last_dir = (uint8_t)dir;
}

/* Result of the RST checks. */
enum rst_check {
	RST_WINDOW, /* go on to the window check */
	RST_SKIP,   /* accept without the window check */
	RST_BAD,    /* invalid */
};

/*
 * The RST checks of nf_conntrack_tcp_packet: a RST must carry exactly the
 * sequence the peer expects (RFC 5961); one merely in the window keeps an
 * assured connection ESTABLISHED (*new_state = old) so the peer's challenge
 * ACK can pass. RSTs answering packets we let through unchecked skip the
 * window check.
 */
static enum rst_check
rst_check(const struct rp_tcp_state *s, int dir, uint8_t old, const struct seg_info *p,
	  uint8_t *new_state)
{
	if (closing(s->state))
		return RST_SKIP; /* the tuple may be reused already: no checks */

	if ((s->seen[!dir].flags & RP_TCP_F_MAXACK_SET) && s->last_index != C_SYN) {
		uint32_t peer_maxack = maxack_get(s, !dir);

		if (p->seq == 0 && !established_assured(s))
			return RST_WINDOW; /* likely the answer to a SYN we let through */
		if (seq_before(p->seq, peer_maxack))
			return RST_BAD; /* below what the peer already acked */
		if (!established_assured(s) || p->seq == peer_maxack)
			return RST_WINDOW;
		/* the RST that ends a train of our data: foo > bar P x:y, R y:y */
		if (s->last_index == C_ACK && s->last_dir == dir && p->seq == s->last_end)
			return RST_WINDOW;
		*new_state = old; /* not exact: stay, a challenge ACK may follow */
	}
	if (((s->last_flags & ST_SEEN_REPLY) && s->last_index == C_SYN) ||
	    (!(s->last_flags & ST_ASSURED) && s->last_index == C_ACK)) {
		/* RST to a SYN (in window then) or an ACK (half-open connection)
		 * that we let through: it may ack what we ignored */
		if (p->ack == s->last_end)
			return RST_SKIP;
	}
	/* RST after a challenge ACK to our SYN */
	if (old == RP_TCP_SYN_SENT && s->last_index == C_ACK && s->last_dir == 1 &&
	    p->seq == s->last_ack)
		return RST_SKIP;
	return RST_WINDOW;
}

/* nf_conntrack_tcp_packet after tcp_error and tcp_new. */
static enum rp_tcp_verdict
track(struct rp_tcp_state *s, int dir, const struct rp_tcp_seg *seg, int *assured)
{
	struct seg_info p;
	uint8_t old = s->state, new_state;
	bool check_window = true;

	seg_parse(seg, &p);
	new_state = tcp_transitions[dir][p.cls][old];

	switch (new_state) {
	case RP_TCP_SYN_SENT:
		if (old < RP_TCP_TIME_WAIT)
			break;
		/* SYN after a close (RFC 1122 allows reopening from TIME_WAIT) or after
		 * this side aborted: the caller deletes the entry and starts anew */
		if (((s->seen[0].flags | s->seen[1].flags) & RP_TCP_F_CLOSE_INIT) ||
		    (s->last_dir == dir && s->last_index == C_RST))
			return RP_TCP_RESTART;
		/* any other SYN in CLOSE or TIME_WAIT is ignored */
		__attribute__((fallthrough));
	case sIG:
		if (p.cls == C_SYNACK && s->last_index == C_SYN && s->last_dir != dir &&
		    p.ack == s->last_end) {
			resync_from_ignored_syn(s, dir);
			old = RP_TCP_SYN_SENT;
			new_state = RP_TCP_SYN_RECV;
			break;
		}
		note_ignored(s, dir, old, seg, &p);
		return RP_TCP_IGNORE;
	case sIV:
		return RP_TCP_INVALID;
	case RP_TCP_TIME_WAIT:
		/* the server's challenge ACK to a SYN in LAST_ACK does not ack our FIN */
		if (old == RP_TCP_LAST_ACK && p.cls == C_ACK && s->last_dir != dir &&
		    s->last_index == C_SYN && (s->last_flags & RP_TCP_F_CHALLENGE_ACK)) {
			s->last_flags &= ~RP_TCP_F_CHALLENGE_ACK;
			return RP_TCP_IGNORE;
		}
		break;
	case RP_TCP_SYN_SENT2:
		/* the table alone cannot finish a simultaneous open: remember it */
		s->last_flags |= RP_TCP_F_SIMULTANEOUS_OPEN;
		break;
	case RP_TCP_SYN_RECV:
		if (dir == 1 && p.cls == C_ACK && (s->last_flags & RP_TCP_F_SIMULTANEOUS_OPEN))
			new_state = RP_TCP_ESTABLISHED;
		break;
	case RP_TCP_CLOSE:
		if (p.cls != C_RST)
			break;
		switch (rst_check(s, dir, old, &p, &new_state)) {
		case RST_BAD:
			return RP_TCP_INVALID;
		case RST_SKIP:
			check_window = false;
			break;
		case RST_WINDOW:
			break;
		}
		break;
	default:
		break;
	}

	if (check_window) {
		enum rp_tcp_verdict v = window_check(s, dir, seg, &p);

		if (v == RP_TCP_INVALID)
			note_invalid(s, dir, &p);
		if (v != RP_TCP_ACCEPT)
			return v;
	}

	/* in window from here on */
	s->last_index = p.cls;
	s->last_dir = (uint8_t)dir;
	s->state = new_state;
	if (old != new_state && new_state == RP_TCP_FIN_WAIT)
		s->seen[dir].flags |= RP_TCP_F_CLOSE_INIT;

	if (!(s->last_flags & ST_SEEN_REPLY)) {
		s->last_flags |= ST_UNREPLIED;
		if (p.flags & FL_RST) {
			/* only answer a RST: not a connection, netfilter deletes it */
			s->last_flags |= ST_KILLED;
			return RP_TCP_ACCEPT;
		}
		/* a resent SYN does not extend the entry's life, so that port
		 * reuse cannot keep it forever */
		if (p.cls == C_SYN && old == RP_TCP_SYN_SENT)
			return RP_TCP_IGNORE;
	} else {
		s->last_flags &= ~ST_UNREPLIED;
		if (!(s->last_flags & ST_ASSURED) &&
		    (old == RP_TCP_SYN_RECV || old == RP_TCP_ESTABLISHED) &&
		    new_state == RP_TCP_ESTABLISHED) {
			s->last_flags |= ST_ASSURED;
			if (assured)
				*assured = 1;
		}
	}
	return RP_TCP_ACCEPT;
}

uint8_t
rp_tcp_transition(int dir, uint8_t tcp_flags, uint8_t state)
{
	if (state >= RP_TCP_STATE_MAX)
		return sIV;
	return tcp_transitions[dir ? 1 : 0][flag_class(tcp_flags)][state];
}

int
rp_tcp_flags_invalid(uint8_t tcp_flags)
{
	return !tcp_flags_ok[tcp_flags & ~FL_ALWAYS_OK];
}

enum rp_tcp_verdict
rp_tcp_packet(struct rp_tcp_state *s, int dir, const struct rp_tcp_seg *seg, int *assured)
{
	enum rp_tcp_verdict v;

	if (assured)
		*assured = 0;
	dir = dir ? 1 : 0;
	/* netfilter no longer has the entry: the packet looks it up anew */
	if (s->last_flags & ST_KILLED)
		return RP_TCP_RESTART;
	if (s->state >= RP_TCP_STATE_MAX || rp_tcp_flags_invalid(seg->th->tcp_flags))
		return RP_TCP_INVALID;
	v = track(s, dir, seg, assured);
	/* the conntrack core sets IPS_SEEN_REPLY after an accepted reply packet */
	if (dir == 1 && (v == RP_TCP_ACCEPT || v == RP_TCP_IGNORE))
		s->last_flags |= ST_SEEN_REPLY;
	return v;
}

enum rp_tcp_verdict
rp_tcp_new(struct rp_tcp_state *s, const struct rp_tcp_seg *seg, int loose)
{
	struct seg_info p;
	uint8_t first;

	if (rp_tcp_flags_invalid(seg->th->tcp_flags))
		return RP_TCP_INVALID;
	seg_parse(seg, &p);
	first = tcp_transitions[0][p.cls][RP_TCP_NONE];
	if (first >= RP_TCP_STATE_MAX)
		return RP_TCP_INVALID;
	if (first != RP_TCP_SYN_SENT && !loose)
		return RP_TCP_INVALID; /* strict: only a SYN opens */

	memset(s, 0, sizeof(*s));
	s->seen[0].td_end = p.end;
	s->seen[0].td_maxwin = p.win ? p.win : 1;
	if (first == RP_TCP_SYN_SENT) {
		s->seen[0].td_maxend = p.end;
		dir_options(&s->seen[0], seg);
	} else {
		/* picked up mid-stream: the history (window scale among it) is
		 * lost, so both directions assume SACK and check windows liberally */
		s->seen[0].td_maxend = p.end + s->seen[0].td_maxwin;
		s->seen[0].flags = RP_TCP_F_SACK_PERM | RP_TCP_F_BE_LIBERAL;
		s->seen[1].flags = RP_TCP_F_SACK_PERM | RP_TCP_F_BE_LIBERAL;
	}
	s->last_index = C_NONE;

	/* then the first packet runs through the tracker like any other */
	return rp_tcp_packet(s, 0, seg, NULL) == RP_TCP_INVALID ? RP_TCP_INVALID : RP_TCP_ACCEPT;
}

uint32_t
rp_tcp_timeout(const struct rp_tcp_state *s, const struct rp_tcp_timeouts *t)
{
	uint8_t st = s->state < RP_TCP_STATE_MAX ? s->state : RP_TCP_CLOSE;
	uint32_t tmo = t->state[st];

	if (s->last_flags & ST_KILLED)
		return 0;
	if (s->retrans >= MAX_RETRANS && tmo > t->max_retrans)
		tmo = t->max_retrans;
	else if (s->last_index == C_RST)
		tmo = t->state[RP_TCP_CLOSE];
	else if (((s->seen[0].flags | s->seen[1].flags) & RP_TCP_F_DATA_UNACK) &&
		 tmo > t->unacknowledged)
		tmo = t->unacknowledged;
	else if (s->last_win == 0 && tmo > t->max_retrans)
		tmo = t->max_retrans; /* zero window: the peer may be gone */
	/* picked up mid-stream and never answered: no 5-day ESTABLISHED */
	if ((s->last_flags & ST_UNREPLIED) && st == RP_TCP_ESTABLISHED && tmo > t->unacknowledged)
		tmo = t->unacknowledged;
	return tmo;
}

void
rp_tcp_default_timeouts(struct rp_tcp_timeouts *t)
{
	memset(t, 0, sizeof(*t));
	t->state[RP_TCP_SYN_SENT] = 2 * 60;
	t->state[RP_TCP_SYN_RECV] = 60;
	t->state[RP_TCP_ESTABLISHED] = 5 * 24 * 3600;
	t->state[RP_TCP_FIN_WAIT] = 2 * 60;
	t->state[RP_TCP_CLOSE_WAIT] = 60;
	t->state[RP_TCP_LAST_ACK] = 30;
	t->state[RP_TCP_TIME_WAIT] = 2 * 60;
	t->state[RP_TCP_CLOSE] = 10;
	t->state[RP_TCP_SYN_SENT2] = 2 * 60;
	t->max_retrans = 5 * 60;
	t->unacknowledged = 5 * 60;
}

const char *
rp_tcp_state_name(uint8_t state)
{
	return state < RP_TCP_STATE_MAX ? tcp_state_names[state] : "UNKNOWN";
}
