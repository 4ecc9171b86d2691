/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly on DPDK's rte_ip_frag, per worker, with the accounting
 * DPDK leaves out; and fragmentation by copy for the egress MTU. Runs on the
 * worker, off its fast path (fragments are rare); nothing here allocates
 * but rp_reasm_create() and the fragment mbufs of rp_pkt_fragment().
 *
 * Overlapping fragments. DPDK 22.11 (lib/ip_frag, ip_frag_process() and
 * ipv4_frag_reassemble()) keeps no coverage map and never compares a new
 * fragment with the ones it holds. It adds up the payload lengths it has
 * received and, once that sum reaches the length the last fragment implies,
 * chains the fragments back from the last one, each to the one that ends
 * where it begins. It discards the whole datagram when
 *  - a second first fragment (offset 0) or a second last one (MF clear)
 *    arrives, or there would be more than RTE_LIBRTE_IP_FRAG_MAX_FRAG;
 *  - the sum exceeds the total length; or
 *  - the sum equals it but the chain breaks (a hole).
 * That is enough to never deliver an overlap: a delivered chain covers
 * [0, total) with pieces that meet end to start, so their lengths add up to
 * the total; as the sum of every fragment held equals the total too and
 * every length is positive (rp_reasm_packet drops empty fragments first),
 * every fragment held is in the chain and no two of them overlap. So an
 * overlap discards its datagram, as netfilter's defrag does since Linux
 * 4.19 (RFC 5722's rule, applied to IPv4 too) - only later: when the sum
 * reaches the total, else at the timeout. One difference remains: Linux
 * ignores an exact duplicate, DPDK discards the datagram for it as for any
 * overlap. We do not add a coverage map of our own to tell the two apart:
 * it would duplicate the table DPDK keeps opaque, and a duplicated fragment
 * costs the sender one retransmission.
 *
 * Accounting. DPDK reports neither drops nor their cause: what it drops
 * goes onto the death row. rp_reasm_packet() first expires what is due
 * (so what expires is counted as such), then looks at what the call put on
 * the death row: nothing (held, or reassembled); only the new fragment
 * (no room in the table); the new fragment with others of its datagram
 * (the datagram discarded as invalid); fragments of a stale datagram DPDK
 * reclaimed on its own (timeouts). Each fragment is one mbuf, so counting
 * segments counts fragments.
 */

#include <errno.h>
#include <string.h>

#include <netinet/ip.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include "rampart_pkt.h"
#include "rampart_reasm.h"

/* associativity of DPDK's table buckets; each key may go to two buckets */
#define REASM_BUCKET_ENTRIES 4
/* mbufs prefetched ahead while freeing the death row */
#define DEATH_ROW_PREFETCH 3
/*
 * Room kept on the death row before each rte_ipv4_frag_reassemble_packet()
 * call, which does not check the row's bounds. A call drops at most one
 * datagram and the new fragment (see account_call); twice that is a margin
 * that does not depend on this reading of DPDK's code.
 */
#define DEATH_ROW_PER_CALL (2 * RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1)
#define IPV4_MAX_LEN 65535u
#define FRAG_UNIT 8u /* fragment offsets count 8-byte units */
#define IPV4_HDR_MAX (RTE_IPV4_HDR_IHL_MASK * RTE_IPV4_IHL_MULTIPLIER)

struct rp_reasm {
	struct rte_ip_frag_tbl *tbl;
	struct rp_reasm_stats stats;
	/* mbufs dropped by the table, freed in batches by rp_reasm_tick() */
	struct rte_ip_frag_death_row death_row;
} __rte_cache_aligned;

static inline void
count_dropped(struct rp_reasm *r, uint64_t *cause, uint64_t n)
{
	*cause += n;
	r->stats.frags_dropped += n;
}

static uint64_t
death_row_segs(const struct rp_reasm *r, uint32_t from)
{
	uint64_t n = 0;
	for (uint32_t i = from; i < r->death_row.cnt; i++)
		n += r->death_row.row[i]->nb_segs;
	return n;
}

static void
free_death_row(struct rp_reasm *r)
{
	rte_ip_frag_free_death_row(&r->death_row, DEATH_ROW_PREFETCH);
}

/* Make sure the next reassembly call cannot overrun the death row. */
static inline void
death_row_reserve(struct rp_reasm *r)
{
	if (unlikely(r->death_row.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - DEATH_ROW_PER_CALL))
		free_death_row(r);
}

/* Move the datagrams whose time is up to the death row (as far as it has room). */
static void
expire(struct rp_reasm *r, uint64_t now_tsc)
{
	uint32_t from = r->death_row.cnt;
	rte_ip_frag_table_del_expired_entries(r->tbl, &r->death_row, now_tsc);
	if (r->death_row.cnt != from)
		count_dropped(r, &r->stats.dropped_timeout, death_row_segs(r, from));
}

struct rp_reasm *
rp_reasm_create(unsigned max_datagrams, unsigned timeout_ms, int socket)
{
	if (max_datagrams == 0 || max_datagrams > RP_REASM_MAX_DATAGRAMS || timeout_ms == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	uint64_t hz = rte_get_tsc_hz();
	if (hz == 0) {
		rte_errno = EINVAL;
		return NULL;
	}

	struct rp_reasm *r = rte_zmalloc_socket("rp_reasm", sizeof(*r), RTE_CACHE_LINE_SIZE,
						socket);
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/*
	 * DPDK sizes the table as buckets (rounded up to a power of two) *
	 * associativity * 2: half as many buckets as datagrams gives at least
	 * four slots per datagram allowed, so a key finds a free slot in one
	 * of its two buckets long before max_datagrams are in use.
	 */
	uint32_t buckets = (max_datagrams + 1) / 2;
	uint64_t max_cycles = (uint64_t)timeout_ms * (hz / 1000); /* no overflow for any timeout_ms */
	r->tbl = rte_ip_frag_table_create(buckets, REASM_BUCKET_ENTRIES, max_datagrams,
					  max_cycles, socket);
	if (r->tbl == NULL)
		goto free_ctx; /* the arguments are valid: out of memory */
	return r;

free_ctx:
	rte_free(r);
	rte_errno = ENOMEM;
	return NULL;
}

void
rp_reasm_free(struct rp_reasm *r)
{
	if (r == NULL)
		return;
	free_death_row(r);
	rte_ip_frag_table_destroy(r->tbl); /* frees the fragments it holds */
	rte_free(r);
}

const struct rp_reasm_stats *
rp_reasm_stats(const struct rp_reasm *r)
{
	return &r->stats;
}

void
rp_reasm_tick(struct rp_reasm *r, uint64_t now_tsc)
{
	free_death_row(r);
	expire(r, now_tsc);
	free_death_row(r);
}

/* True if @p m is one of the segments of the chain @p head. */
static int
chain_holds(const struct rte_mbuf *head, const struct rte_mbuf *m)
{
	for (const struct rte_mbuf *seg = head; seg != NULL; seg = seg->next)
		if (seg == m)
			return 1;
	return 0;
}

/*
 * Count what one reassembly call of fragment @p m put on the death row
 * from index @p from on. In one call the table either reclaims one stale
 * datagram (of another key, or of m's own key whose time is up) and then
 * keeps m in a fresh entry, which cannot fail; or it drops m, alone when it
 * has no slot for it, with the rest of m's datagram when that is invalid.
 * So: m among the rows means they are all m's datagram, else all stale.
 */
static void
account_call(struct rp_reasm *r, uint32_t from, const struct rte_mbuf *m)
{
	int m_dropped = 0;
	for (uint32_t i = from; i < r->death_row.cnt && !m_dropped; i++)
		m_dropped = chain_holds(r->death_row.row[i], m);

	uint64_t n = death_row_segs(r, from);
	if (!m_dropped)
		count_dropped(r, &r->stats.dropped_timeout, n);
	else if (n == 1)
		count_dropped(r, &r->stats.dropped_full, 1);
	else
		count_dropped(r, &r->stats.dropped_invalid, n);
}

/* The fragment DPDK must not see: it mishandles some, Linux drops them too. */
static int
fragment_valid(const struct rte_mbuf *m, const struct rp_meta *meta,
	       const struct rte_ipv4_hdr *ip)
{
	uint32_t hdr_len = (uint32_t)meta->l4_off - meta->l3_off;
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t offset = (uint32_t)(frag & RTE_IPV4_HDR_OFFSET_MASK) * FRAG_UNIT;

	if (m->nb_segs != 1 || meta->l4_off < meta->l3_off ||
	    (uint32_t)meta->l3_off + meta->ip_len != rte_pktmbuf_data_len(m) ||
	    meta->ip_len <= hdr_len)
		return 0; /* not as rp_pkt_parse leaves a fragment, or no payload */
	uint32_t payload = meta->ip_len - hdr_len;
	/* all but the last fragment carry a multiple of 8 bytes (RFC 791) */
	if ((frag & RTE_IPV4_HDR_MF_FLAG) && (payload % FRAG_UNIT) != 0)
		return 0;
	/* the datagram would exceed the largest IPv4 length (ping of death) */
	if (hdr_len + offset + payload > IPV4_MAX_LEN)
		return 0;
	return 1;
}

/*
 * Turn the chain DPDK returns into the datagram conntrack expects; see
 * rp_reasm_packet() in the header. Each segment is a fragment whose own
 * rp_meta still holds what rp_pkt_parse found in it.
 */
static int
finish_datagram(struct rte_mbuf *head)
{
	struct rp_meta *meta = rp_meta(head);
	struct rte_ipv4_hdr *ip = rp_ip(head);
	uint16_t total = rte_be_to_cpu_16(ip->total_length);

	if (rte_pktmbuf_pkt_len(head) != (uint32_t)meta->l3_off + total)
		return -EINVAL;

	/* as Linux's ip_frag_reasm: DF stays only if the largest fragment had it */
	uint16_t frag_max = 0, df_max = 0;
	for (const struct rte_mbuf *seg = head; seg != NULL; seg = seg->next) {
		const struct rp_meta *fm = rp_meta((struct rte_mbuf *)(uintptr_t)seg);
		frag_max = RTE_MAX(frag_max, fm->ip_len);
		if (fm->flags & RP_F_DF)
			df_max = RTE_MAX(df_max, fm->ip_len);
	}
	int df = df_max == frag_max;

	ip->fragment_offset = df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rp_ipv4_cksum(ip);

	meta->ip_len = total;
	meta->flags = (uint16_t)((meta->flags & ~(RP_F_FRAG | RP_F_FRAG_LATER | RP_F_DF)) |
				 (df ? RP_F_DF : 0));
	meta->frag_max = frag_max;
	meta->kind = RP_PKT_IPV4;
	meta->l4_status = RP_L4_NONE;
	meta->tcp_flags = 0;
	meta->sport = 0;
	meta->dport = 0;
	meta->l4_payload = 0;
	head->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	return 0;
}

struct rte_mbuf *
rp_reasm_packet(struct rp_reasm *r, struct rte_mbuf *m, uint64_t now_tsc)
{
	struct rp_meta *meta = rp_meta(m);
	if (meta->kind != RP_PKT_IPV4 || !(meta->flags & RP_F_FRAG))
		return m;

	r->stats.frags_in++;
	struct rte_ipv4_hdr *ip = rp_ip(m);
	if (!fragment_valid(m, meta, ip)) {
		count_dropped(r, &r->stats.dropped_invalid, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->l2_len = meta->l3_off;
	m->l3_len = (uint16_t)(meta->l4_off - meta->l3_off);

	/* what is due goes now, tick or not: expired fragments never wait for a lookup */
	death_row_reserve(r);
	expire(r, now_tsc);
	death_row_reserve(r);

	uint32_t from = r->death_row.cnt;
	struct rte_mbuf *out = rte_ipv4_frag_reassemble_packet(r->tbl, &r->death_row, m,
							       now_tsc, ip);
	if (r->death_row.cnt != from)
		account_call(r, from, m);
	if (out == NULL)
		return NULL;

	uint16_t segs = out->nb_segs;
	if (unlikely(finish_datagram(out) != 0)) {
		/* cannot happen with DPDK's checks; never hand on a chain that lies */
		count_dropped(r, &r->stats.dropped_invalid, segs);
		rte_pktmbuf_free(out);
		return NULL;
	}
	r->stats.datagrams++;
	r->stats.frags_merged += segs;
	return out;
}

/* ---- fragmentation ------------------------------------------------------ */

/* A read position in a chain, so each fragment's copy starts where the last ended. */
struct chain_cursor {
	const struct rte_mbuf *seg;
	uint32_t off; /* within seg */
};

/* Position @p c at byte @p off of @p m; the caller checked off < pkt_len. */
static void
cursor_seek(struct chain_cursor *c, const struct rte_mbuf *m, uint32_t off)
{
	const struct rte_mbuf *seg = m;
	while (seg != NULL && off >= rte_pktmbuf_data_len(seg)) {
		off -= rte_pktmbuf_data_len(seg);
		seg = seg->next;
	}
	c->seg = seg;
	c->off = off;
}

/* Copy @p len bytes from the cursor on; the caller checked they exist. */
static void
cursor_copy(struct chain_cursor *c, uint8_t *dst, uint32_t len)
{
	while (len > 0) {
		uint32_t avail = rte_pktmbuf_data_len(c->seg) - c->off;
		uint32_t n = RTE_MIN(avail, len);
		memcpy(dst, rte_pktmbuf_mtod_offset(c->seg, const uint8_t *, c->off), n);
		dst += n;
		len -= n;
		c->off += n;
		if (c->off == rte_pktmbuf_data_len(c->seg) && c->seg->next != NULL) {
			c->seg = c->seg->next;
			c->off = 0;
			/* empty segments hold nothing to copy */
			while (rte_pktmbuf_data_len(c->seg) == 0 && c->seg->next != NULL)
				c->seg = c->seg->next;
		}
	}
}

/*
 * The options of fragments after the first: those without the copy flag
 * become NOPs, keeping the header length (Linux's ip_options_fragment).
 * Past an option whose length is impossible nothing can be trusted: NOPs.
 */
static void
options_for_later_fragments(uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;
	while (i < len) {
		uint8_t type = opt[i];
		if (type == IPOPT_EOL)
			return;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		uint32_t olen = i + 1 < len ? opt[i + 1] : 0;
		if (olen < 2 || olen > len - i) {
			memset(opt + i, IPOPT_NOP, len - i);
			return;
		}
		if (!IPOPT_COPIED(type))
			memset(opt + i, IPOPT_NOP, olen);
		i += olen;
	}
}

static void
free_fragments(struct rte_mbuf **out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(out[i]);
}

int
rp_pkt_fragment(struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *pool,
		struct rte_mbuf **out, unsigned max)
{
	const struct rp_meta *meta = rp_meta(m);
	uint8_t hdr[IPV4_HDR_MAX];

	if (meta->kind != RP_PKT_IPV4)
		return -EINVAL;
	uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
	const struct rte_ipv4_hdr *ip0 =
		rte_pktmbuf_read(m, meta->l3_off, sizeof(struct rte_ipv4_hdr), hdr);
	if (ip0 == NULL)
		return -EINVAL;
	uint32_t hdr_len = rte_ipv4_hdr_len(ip0);
	if (hdr_len < sizeof(struct rte_ipv4_hdr))
		return -EINVAL;
	/* a private copy: the options are rewritten for later fragments */
	const void *src_hdr = rte_pktmbuf_read(m, meta->l3_off, hdr_len, hdr);
	if (src_hdr == NULL)
		return -EINVAL;
	if (src_hdr != hdr)
		memcpy(hdr, src_hdr, hdr_len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)hdr;

	uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ip_len < hdr_len || (uint32_t)meta->l3_off + ip_len > pkt_len)
		return -EINVAL;
	if (mtu < hdr_len + FRAG_UNIT)
		return -EINVAL;

	uint16_t frag_word = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t base = (uint32_t)(frag_word & RTE_IPV4_HDR_OFFSET_MASK) * FRAG_UNIT;
	uint32_t payload = ip_len - hdr_len;
	uint32_t chunk, n;
	if (ip_len <= mtu) {
		chunk = payload;
		n = 1;
	} else {
		if (base + payload > IPV4_MAX_LEN)
			return -EINVAL; /* the offsets would not fit in 13 bits */
		chunk = (mtu - hdr_len) & ~(FRAG_UNIT - 1);
		n = (payload + chunk - 1) / chunk;
	}
	if (n > max)
		return -ENOSPC;
	if (RTE_ETHER_HDR_LEN + hdr_len + chunk > UINT16_MAX)
		return -ENOMEM; /* no mbuf holds that much */

	struct chain_cursor cur = {0};
	if (payload != 0)
		cursor_seek(&cur, m, meta->l3_off + hdr_len);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * chunk;
		uint32_t len = RTE_MIN(chunk, payload - off);
		struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
		uint8_t *frame = f != NULL ? (uint8_t *)rte_pktmbuf_append(
						     f, (uint16_t)(RTE_ETHER_HDR_LEN + hdr_len + len))
					   : NULL;
		if (frame == NULL) {
			rte_pktmbuf_free(f);
			free_fragments(out, i);
			return -ENOMEM;
		}
		if (i == 1)
			options_for_later_fragments(hdr + sizeof(struct rte_ipv4_hdr),
						    hdr_len - (uint32_t)sizeof(struct rte_ipv4_hdr));

		uint16_t word = frag_word;
		if (n > 1) {
			int more = i + 1 < n || (frag_word & RTE_IPV4_HDR_MF_FLAG);
			word = (uint16_t)((frag_word & RTE_IPV4_HDR_DF_FLAG) |
					  (more ? RTE_IPV4_HDR_MF_FLAG : 0) | ((base + off) / FRAG_UNIT));
		}
		ip->total_length = rte_cpu_to_be_16((uint16_t)(hdr_len + len));
		ip->fragment_offset = rte_cpu_to_be_16(word);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rp_ipv4_cksum(ip);

		memset(frame, 0, RTE_ETHER_HDR_LEN);
		memcpy(frame + RTE_ETHER_HDR_LEN, hdr, hdr_len);
		if (len != 0)
			cursor_copy(&cur, frame + RTE_ETHER_HDR_LEN + hdr_len, len);

		f->l2_len = RTE_ETHER_HDR_LEN;
		f->l3_len = (uint16_t)hdr_len;
		f->port = m->port;
		struct rp_meta *fm = rp_meta(f);
		*fm = *meta;
		fm->l3_off = RTE_ETHER_HDR_LEN;
		fm->l4_off = (uint16_t)(RTE_ETHER_HDR_LEN + hdr_len);
		fm->ip_len = (uint16_t)(hdr_len + len);
		fm->flags &= (uint16_t)~(RP_F_FRAG | RP_F_FRAG_LATER | RP_F_DF);
		if (word & RTE_IPV4_HDR_DF_FLAG)
			fm->flags |= RP_F_DF;
		if (word & RTE_IPV4_HDR_OFFSET_MASK)
			fm->flags |= RP_F_FRAG | RP_F_FRAG_LATER;
		else if (word & RTE_IPV4_HDR_MF_FLAG)
			fm->flags |= RP_F_FRAG;
		fm->frag_max = 0;
		out[i] = f;
	}
	return (int)n;
}
