/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compilation of the built-in chains (control thread).
 *
 * 1. Flattening. Each built-in chain becomes a flat program (filter_prog.h):
 *    the rules it reaches in the order iptables evaluates them, user chains
 *    inlined at every -j/-g. A -j rule whose match rte_acl can express is
 *    ANDed into every rule of the inlined chain and itself becomes an
 *    EFFECT entry (iptables counts the jump when it is taken); one with
 *    -m limit, --ctproto/--ctorig* or -m helper (or whose own expansion is large)
 *    becomes a BRANCH checked once. RETURN inside an inlined chain and the
 *    end of a chain reached by -g become SKIPs to the end of the inlined
 *    chain; RETURN in the built-in chain and the end of a -g'ed chain
 *    reached from it decide the policy. A top-level rule whose inlining
 *    would exceed RP_INLINE_MAX entries stays whole as a CALL for the
 *    linear evaluator. Loops and nesting deeper than RP_FILTER_MAX_DEPTH
 *    are errors.
 *
 * 2. Expansion. An entry's condition (its terms ANDed) is turned into
 *    rte_acl rules over the fields of struct rp_acl_in: every field is a set
 *    of values, intersected term by term:
 *    - proto, in_port, out_port: 256-bit sets, emitted as ranges ('!' = the
 *      complement; -i with a wildcard = one rule per contiguous run of ports);
 *    - src, dst: ranges; a prefix or an iprange is one range, '!' two;
 *    - sport, dport: ranges; multiport = one range per entry (sorted and
 *      merged), '! --ports' = both fields outside the set, '--ports' = two
 *      alternatives (sport in set, or dport in set);
 *    - ICMP type/code: a range of type << 8 | code in the dport field;
 *    - state: a BITMASK with one bit per state; a packet carries exactly one
 *      bit, so "state in S" is one rule: the bits outside S must be 0;
 *    - tcp flags: BITMASK value/mask = comp/mask; '!' = one rule per bit of
 *      the mask ("the first differing bit is bit k");
 *    - port, ICMP and flag conditions also restrict proto (TCP/UDP, ICMP,
 *      TCP) and require a non-first-fragment bit of 0, which is how
 *      iptables' L4 matches behave.
 *    All rules of one entry share its priority and userdata (position + 1),
 *    so overlapping alternatives are harmless.
 *
 * 3. Segments. Entries rte_acl can express (DECIDE/SKIP without -m limit,
 *    --ctproto, --ctorig*, -m helper, at most RP_ACL_EXPAND_MAX rules) are cut into
 *    runs at linear entries and at every SKIP/BRANCH target (a packet that
 *    resumes there must not see the run's earlier entries); each run is one
 *    rte_acl context with priority decreasing with position. EFFECT entries
 *    are in no context: classify checks them in position order for each
 *    packet up to where it was decided. Leading rules that test only the
 *    conntrack state (the usual "ESTABLISHED,RELATED -j ACCEPT") are checked
 *    linearly before the first context, so established traffic costs the
 *    same whatever the number of rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "filter_prog.h"
#include "rampart_filter.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define RP_INLINE_MAX (1u << 16)     /**< entries one top-level rule may inline into */
#define RP_FLAT_MAX (1u << 22)       /**< entries of one chain */
#define RP_JUMP_AND_MAX 16           /**< a -j whose match expands further becomes a BRANCH */
#define SET_MAX 64                   /**< ranges or cubes per field in one box */
#define BOX_MAX 16                   /**< alternatives (--ports) per entry */
#define PENDING UINT32_MAX

/* matches rte_acl cannot see */
#define RP_M_NOT_ACL (RP_M_LIMIT | RP_M_CTPROTO | RP_M_CTORIGSRC | RP_M_CTORIGDST | RP_M_HELPER)

/* ---- value sets -------------------------------------------------------------- */

struct rl { /* sorted, disjoint, non-adjacent ranges */
	unsigned n;
	uint32_t lo[SET_MAX], hi[SET_MAX];
};

struct cubes { /* values v with (v & m[i]) == c[i] for some i */
	unsigned n;
	uint8_t c[SET_MAX], m[SET_MAX];
};

struct bm256 {
	uint64_t w[4];
};

/** One alternative of an entry's condition: a set of values per field. */
struct box {
	struct bm256 proto, inp, outp;
	uint8_t st_forbid; /* state bits a packet must not have */
	int8_t frag;       /* -1 any, 0 first fragment or whole, 1 non-first fragment */
	struct cubes flags;
	struct rl src, dst, sport, dport;
	uint8_t overflow;  /* a set outgrew SET_MAX: not expressible */
};

static void
rl_one(struct rl *r, uint32_t lo, uint32_t hi)
{
	r->n = lo <= hi;
	r->lo[0] = lo;
	r->hi[0] = hi;
}

static void
rl_not(struct rl *r, uint32_t max)
{
	struct rl out = {.n = 0};
	uint64_t next = 0;
	for (unsigned i = 0; i < r->n; i++) {
		if (r->lo[i] > next) {
			out.lo[out.n] = (uint32_t)next;
			out.hi[out.n++] = r->lo[i] - 1;
		}
		next = (uint64_t)r->hi[i] + 1;
	}
	if (next <= max) {
		out.lo[out.n] = (uint32_t)next;
		out.hi[out.n++] = max;
	}
	*r = out; /* at most n + 1 <= SET_MAX: callers complement small sets only */
}

/* @return 0, or -1 when the result has more than SET_MAX ranges */
static int
rl_and(struct rl *a, const struct rl *b)
{
	struct rl out = {.n = 0};
	unsigned i = 0, j = 0;
	while (i < a->n && j < b->n) {
		uint32_t lo = RTE_MAX(a->lo[i], b->lo[j]);
		uint32_t hi = RTE_MIN(a->hi[i], b->hi[j]);
		if (lo <= hi) {
			if (out.n == SET_MAX)
				return -1;
			out.lo[out.n] = lo;
			out.hi[out.n++] = hi;
		}
		if (a->hi[i] < b->hi[j])
			i++;
		else
			j++;
	}
	*a = out;
	return 0;
}

/* multiport entries -> sorted, merged ranges */
static void
rl_from_mport(struct rl *r, const struct rp_match *m)
{
	unsigned n = RTE_MIN(m->n_mport, (unsigned)RP_FILTER_MULTIPORT_MAX);
	struct rp_range16 v[RP_FILTER_MULTIPORT_MAX];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (m->mport[i].lo <= m->mport[i].hi)
			v[k++] = m->mport[i];
	for (unsigned i = 1; i < k; i++) /* insertion sort: 15 at most */
		for (unsigned j = i; j > 0 && v[j].lo < v[j - 1].lo; j--) {
			struct rp_range16 t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	r->n = 0;
	for (unsigned i = 0; i < k; i++) {
		if (r->n > 0 && (uint32_t)v[i].lo <= r->hi[r->n - 1] + 1) {
			r->hi[r->n - 1] = RTE_MAX(r->hi[r->n - 1], (uint32_t)v[i].hi);
			continue;
		}
		r->lo[r->n] = v[i].lo;
		r->hi[r->n++] = v[i].hi;
	}
}

static void
bm_full(struct bm256 *b)
{
	memset(b->w, 0xff, sizeof(b->w));
}

static void
bm_one(struct bm256 *b, unsigned v)
{
	memset(b->w, 0, sizeof(b->w));
	b->w[v >> 6] |= 1ull << (v & 63);
}

static void
bm_not(struct bm256 *b)
{
	for (unsigned i = 0; i < 4; i++)
		b->w[i] = ~b->w[i];
}

static void
bm_and(struct bm256 *a, const struct bm256 *b)
{
	for (unsigned i = 0; i < 4; i++)
		a->w[i] &= b->w[i];
}

static int
bm_has(const struct bm256 *b, unsigned v)
{
	return (b->w[v >> 6] >> (v & 63)) & 1;
}

/* ranges of a 256-bit set; -1 when more than SET_MAX */
static int
bm_ranges(const struct bm256 *b, struct rl *r)
{
	r->n = 0;
	for (unsigned v = 0; v < 256;) {
		if (!bm_has(b, v)) {
			v++;
			continue;
		}
		unsigned lo = v;
		while (v < 256 && bm_has(b, v))
			v++;
		if (r->n == SET_MAX)
			return -1;
		r->lo[r->n] = lo;
		r->hi[r->n++] = v - 1;
	}
	return 0;
}

static void
bm_ports(struct bm256 *b, uint16_t ports, int neg)
{
	memset(b->w, 0, sizeof(b->w));
	b->w[0] = ports;
	if (neg)
		bm_not(b);
}

static int
cubes_and(struct cubes *a, const struct cubes *b)
{
	struct cubes out = {.n = 0};
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned j = 0; j < b->n; j++) {
			if ((a->c[i] ^ b->c[j]) & a->m[i] & b->m[j])
				continue; /* disagree on a bit both fix */
			if (out.n == SET_MAX)
				return -1;
			out.c[out.n] = (a->c[i] & a->m[i]) | (b->c[j] & b->m[j]);
			out.m[out.n++] = a->m[i] | b->m[j];
		}
	*a = out;
	return 0;
}

/* --tcp-flags MASK COMP, or its negation as disjoint cubes */
static void
cubes_tcp(struct cubes *q, uint8_t mask, uint8_t comp, int neg)
{
	comp &= mask;
	q->n = 0;
	if (!neg) {
		q->c[0] = comp;
		q->m[0] = mask;
		q->n = 1;
		return;
	}
	uint8_t seen = 0;
	for (unsigned bit = 0; bit < 8; bit++) {
		uint8_t b = (uint8_t)(1u << bit);
		if (!(mask & b))
			continue;
		/* bits seen so far equal COMP, this one differs */
		q->c[q->n] = (uint8_t)((comp & seen) | (~comp & b));
		q->m[q->n++] = seen | b;
		seen |= b;
	}
}

static void
box_full(struct box *b)
{
	bm_full(&b->proto);
	bm_full(&b->inp);
	bm_full(&b->outp);
	b->st_forbid = 0;
	b->frag = -1;
	b->flags.n = 1;
	b->flags.c[0] = 0;
	b->flags.m[0] = 0;
	rl_one(&b->src, 0, UINT32_MAX);
	rl_one(&b->dst, 0, UINT32_MAX);
	rl_one(&b->sport, 0, UINT16_MAX);
	rl_one(&b->dport, 0, UINT16_MAX);
	b->overflow = 0;
}

static void
box_frag(struct box *b, int8_t frag)
{
	if (b->frag == -1)
		b->frag = frag;
	else if (b->frag != frag)
		b->proto.w[0] = b->proto.w[1] = b->proto.w[2] = b->proto.w[3] = 0; /* empty */
}

/* L4 matches: only their protocols, never non-first fragments */
static void
box_l4(struct box *b, uint8_t p1, uint8_t p2)
{
	struct bm256 s;
	bm_one(&s, p1);
	s.w[p2 >> 6] |= 1ull << (p2 & 63);
	bm_and(&b->proto, &s);
	box_frag(b, 0);
}

static void
box_rl(struct box *b, struct rl *field, struct rl *set, int neg, uint32_t max)
{
	if (neg)
		rl_not(set, max);
	if (rl_and(field, set) < 0)
		b->overflow = 1;
}

#define NEG(m, bit) (((m)->negated & (bit)) != 0)

/*
 * Intersect @p b with match @p m. A positive --ports splits it: @p alt gets
 * the "dport in set" alternative. @return the number of boxes (1 or 2).
 */
static unsigned
box_apply(struct box *b, const struct rp_match *m, struct box *alt)
{
	uint32_t has = m->present;
	struct rl r;
	struct bm256 s;

	if ((has & RP_M_PROTO) && m->proto != 0) {
		bm_one(&s, m->proto);
		if (NEG(m, RP_M_PROTO))
			bm_not(&s);
		bm_and(&b->proto, &s);
	}
	if (has & RP_M_SRC) {
		uint32_t lo = m->src & m->src_mask;
		rl_one(&r, lo, lo | ~m->src_mask);
		box_rl(b, &b->src, &r, NEG(m, RP_M_SRC), UINT32_MAX);
	}
	if (has & RP_M_DST) {
		uint32_t lo = m->dst & m->dst_mask;
		rl_one(&r, lo, lo | ~m->dst_mask);
		box_rl(b, &b->dst, &r, NEG(m, RP_M_DST), UINT32_MAX);
	}
	if (has & RP_M_SRCRANGE) {
		rl_one(&r, m->src_range.lo, m->src_range.hi);
		box_rl(b, &b->src, &r, NEG(m, RP_M_SRCRANGE), UINT32_MAX);
	}
	if (has & RP_M_DSTRANGE) {
		rl_one(&r, m->dst_range.lo, m->dst_range.hi);
		box_rl(b, &b->dst, &r, NEG(m, RP_M_DSTRANGE), UINT32_MAX);
	}
	if (has & RP_M_IN) {
		bm_ports(&s, m->in_ports, NEG(m, RP_M_IN));
		bm_and(&b->inp, &s);
	}
	if (has & RP_M_OUT) {
		bm_ports(&s, m->out_ports, NEG(m, RP_M_OUT));
		bm_and(&b->outp, &s);
	}
	if (has & RP_M_STATE) {
		uint8_t allowed = NEG(m, RP_M_STATE) ? (uint8_t)~m->states : m->states;
		b->st_forbid |= (uint8_t)~allowed & RP_ACL_STATE_BITS;
	}
	if (has & RP_M_FRAG)
		box_frag(b, NEG(m, RP_M_FRAG) ? 0 : 1);
	if (has & (RP_M_SPORT | RP_M_DPORT | RP_M_MPORT))
		box_l4(b, IPPROTO_TCP_, IPPROTO_UDP_);
	if (has & RP_M_SPORT) {
		rl_one(&r, m->sport.lo, m->sport.hi);
		box_rl(b, &b->sport, &r, NEG(m, RP_M_SPORT), UINT16_MAX);
	}
	if (has & RP_M_DPORT) {
		rl_one(&r, m->dport.lo, m->dport.hi);
		box_rl(b, &b->dport, &r, NEG(m, RP_M_DPORT), UINT16_MAX);
	}
	if (has & RP_M_ICMP) {
		box_l4(b, IPPROTO_ICMP_, IPPROTO_ICMP_);
		if (m->icmp_type == 0xff)
			rl_one(&r, 0, UINT16_MAX);
		else
			rl_one(&r, (uint32_t)m->icmp_type << 8 | m->icmp_code_lo,
			       (uint32_t)m->icmp_type << 8 | m->icmp_code_hi);
		box_rl(b, &b->dport, &r, NEG(m, RP_M_ICMP), UINT16_MAX);
	}
	if (has & RP_M_TCPFLAGS) {
		struct cubes q;
		box_l4(b, IPPROTO_TCP_, IPPROTO_TCP_);
		cubes_tcp(&q, m->tcp_mask, m->tcp_comp, NEG(m, RP_M_TCPFLAGS));
		if (cubes_and(&b->flags, &q) < 0)
			b->overflow = 1;
	}
	if (has & RP_M_MPORT) {
		rl_from_mport(&r, m);
		int neg = NEG(m, RP_M_MPORT);
		if (neg)
			rl_not(&r, UINT16_MAX);
		switch (m->mport_kind) {
		case RP_MPORT_SRC:
			if (rl_and(&b->sport, &r) < 0)
				b->overflow = 1;
			break;
		case RP_MPORT_DST:
			if (rl_and(&b->dport, &r) < 0)
				b->overflow = 1;
			break;
		default: /* RP_MPORT_ANY: sport or dport in the set; negated, neither */
			if (neg) {
				if (rl_and(&b->sport, &r) < 0 || rl_and(&b->dport, &r) < 0)
					b->overflow = 1;
				break;
			}
			*alt = *b;
			if (rl_and(&b->sport, &r) < 0 || rl_and(&alt->dport, &r) < 0)
				b->overflow = alt->overflow = 1;
			return 2;
		}
	}
	return 1;
}

/* per-field lists of one box, as emitted */
struct box_lists {
	struct rl proto, inp, outp;
};

static uint64_t
box_count(const struct box *b, struct box_lists *l, int *overflow)
{
	if (b->overflow || bm_ranges(&b->proto, &l->proto) < 0 ||
	    bm_ranges(&b->inp, &l->inp) < 0 || bm_ranges(&b->outp, &l->outp) < 0) {
		*overflow = 1;
		return 0;
	}
	if ((b->st_forbid & RP_ACL_STATE_BITS) == RP_ACL_STATE_BITS)
		return 0; /* no state allowed */
	return (uint64_t)l->proto.n * l->inp.n * l->outp.n * b->flags.n * b->src.n * b->dst.n *
	       b->sport.n * b->dport.n;
}

/** Scratch for expanding one entry. */
struct expander {
	struct box box[BOX_MAX];
	struct box_lists lists[BOX_MAX];
	unsigned n_box;
	struct box spare;
};

/*
 * Expand the AND of @p terms into boxes. @return the number of rte_acl
 * rules, or -1 if not expressible (a set or the alternatives overflowed).
 */
static int64_t
expand(struct expander *x, const struct rp_match *const *terms, unsigned n_terms)
{
	box_full(&x->box[0]);
	x->n_box = 1;
	for (unsigned t = 0; t < n_terms; t++) {
		unsigned nb = x->n_box;
		for (unsigned i = 0; i < nb; i++) {
			if (box_apply(&x->box[i], terms[t], &x->spare) == 2) {
				if (x->n_box == BOX_MAX)
					return -1;
				x->box[x->n_box++] = x->spare;
			}
		}
	}
	uint64_t total = 0;
	int overflow = 0;
	for (unsigned i = 0; i < x->n_box; i++) {
		total += box_count(&x->box[i], &x->lists[i], &overflow);
		if (overflow || total > RP_ACL_EXPAND_MAX)
			return -1;
	}
	return (int64_t)total;
}

static void
set_field(struct rp_acl_rule *ar, unsigned f, uint32_t value, uint32_t mask_range)
{
	switch (f) {
	case RP_ACL_F_SRC:
	case RP_ACL_F_DST:
		ar->field[f].value.u32 = value;
		ar->field[f].mask_range.u32 = mask_range;
		break;
	case RP_ACL_F_SPORT:
	case RP_ACL_F_DPORT:
		ar->field[f].value.u16 = (uint16_t)value;
		ar->field[f].mask_range.u16 = (uint16_t)mask_range;
		break;
	default:
		ar->field[f].value.u8 = (uint8_t)value;
		ar->field[f].mask_range.u8 = (uint8_t)mask_range;
		break;
	}
}

/* Write the rules of the boxes last expanded into @p out. @return how many. */
static unsigned
emit_rules(const struct expander *x, struct rp_acl_rule *out, int32_t priority, uint32_t userdata)
{
	unsigned k = 0;
	for (unsigned bi = 0; bi < x->n_box; bi++) {
		const struct box *b = &x->box[bi];
		const struct box_lists *l = &x->lists[bi];
		if ((b->st_forbid & RP_ACL_STATE_BITS) == RP_ACL_STATE_BITS)
			continue;
		const struct rl *lists[] = {&l->proto, &l->inp, &l->outp, &b->src,
					    &b->dst, &b->sport, &b->dport};
		static const unsigned fields[] = {RP_ACL_F_PROTO, RP_ACL_F_IN, RP_ACL_F_OUT,
						  RP_ACL_F_SRC, RP_ACL_F_DST, RP_ACL_F_SPORT,
						  RP_ACL_F_DPORT};
		unsigned nl = RTE_DIM(lists);
		int empty = b->flags.n == 0;
		for (unsigned i = 0; i < nl; i++)
			empty |= lists[i]->n == 0;
		if (empty)
			continue;
		uint8_t st_mask = b->st_forbid | (b->frag >= 0 ? RP_ACL_STATE_FRAG : 0);
		uint8_t st_val = b->frag == 1 ? RP_ACL_STATE_FRAG : 0;
		unsigned idx[RTE_DIM(lists)] = {0};
		for (;;) {
			for (unsigned fl = 0; fl < b->flags.n; fl++) {
				struct rp_acl_rule *ar = &out[k++];
				memset(ar, 0, sizeof(*ar));
				ar->data.category_mask = 1;
				ar->data.priority = priority;
				ar->data.userdata = userdata;
				for (unsigned i = 0; i < nl; i++)
					set_field(ar, fields[i], lists[i]->lo[idx[i]],
						  lists[i]->hi[idx[i]]);
				set_field(ar, RP_ACL_F_STATE, st_val, st_mask);
				set_field(ar, RP_ACL_F_FLAGS, b->flags.c[fl], b->flags.m[fl]);
			}
			/* next combination (odometer) */
			unsigned i = 0;
			while (i < nl && ++idx[i] == lists[i]->n)
				idx[i++] = 0;
			if (i == nl)
				break;
		}
	}
	return k;
}

static const struct rte_acl_field_def acl_defs[RP_ACL_F_NUM] = {
	{RTE_ACL_FIELD_TYPE_RANGE, 1, RP_ACL_F_PROTO, 0, offsetof(struct rp_acl_in, proto)},
	{RTE_ACL_FIELD_TYPE_BITMASK, 1, RP_ACL_F_STATE, 1, offsetof(struct rp_acl_in, state)},
	{RTE_ACL_FIELD_TYPE_RANGE, 1, RP_ACL_F_IN, 1, offsetof(struct rp_acl_in, in_port)},
	{RTE_ACL_FIELD_TYPE_RANGE, 1, RP_ACL_F_OUT, 1, offsetof(struct rp_acl_in, out_port)},
	{RTE_ACL_FIELD_TYPE_BITMASK, 1, RP_ACL_F_FLAGS, 1, offsetof(struct rp_acl_in, tcp_flags)},
	{RTE_ACL_FIELD_TYPE_RANGE, 4, RP_ACL_F_SRC, 2, offsetof(struct rp_acl_in, src)},
	{RTE_ACL_FIELD_TYPE_RANGE, 4, RP_ACL_F_DST, 3, offsetof(struct rp_acl_in, dst)},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, RP_ACL_F_SPORT, 4, offsetof(struct rp_acl_in, sport)},
	{RTE_ACL_FIELD_TYPE_RANGE, 2, RP_ACL_F_DPORT, 4, offsetof(struct rp_acl_in, dport)},
};

/* ---- flattening ------------------------------------------------------------- */

struct flat {
	const struct rp_ruleset *rs;
	enum rp_chain_id chain;
	FILE *err;
	struct rp_fe *e;
	uint32_t n, cap;
	const struct rp_match **t;
	uint32_t nt, capt;
	const struct rp_match *path[RP_FILTER_MAX_DEPTH + 1];
	unsigned npath;
	unsigned depth;
	uint8_t *on_way;   /* [n_chains]: chains being inlined (loop check) */
	uint32_t limit;    /* entries allowed before the current top-level rule becomes a CALL */
	struct expander *x;
	uint8_t *plain;    /* [n_rules]: jump_plain's answer + 1, 0 = not known yet */
};

static void
rule_error(struct flat *f, const struct rp_rule *r, const char *what)
{
	if (f->err == NULL)
		return;
	fprintf(f->err, "%s:%d: rule \"%s\": %s\n", r->file ? r->file : "(rules)", r->line,
		r->text ? r->text : "", what);
}

static int
push_term(struct flat *f, const struct rp_match *m)
{
	if (f->nt == f->capt) {
		uint32_t cap = f->capt ? f->capt * 2 : 256;
		const struct rp_match **t = realloc(f->t, cap * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		f->t = t;
		f->capt = cap;
	}
	f->t[f->nt++] = m;
	return 0;
}

/* Append an entry whose condition is the current path AND @p own (if any). */
static int
emit(struct flat *f, uint8_t kind, const struct rp_match *own, const struct rp_rule *rule,
     uint32_t *pos)
{
	if (f->n >= f->limit)
		return -E2BIG;
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 256;
		struct rp_fe *e = realloc(f->e, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		f->e = e;
		f->cap = cap;
	}
	struct rp_fe *e = &f->e[f->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->rule = rule;
	e->decide_rule = -1;
	e->term0 = f->nt;
	for (unsigned i = 0; i < f->npath; i++)
		if (push_term(f, f->path[i]) < 0)
			return -ENOMEM;
	if (own != NULL && own->present != 0 && push_term(f, own) < 0)
		return -ENOMEM;
	e->n_terms = f->nt - e->term0;
	if (own != NULL && (own->present & RP_M_LIMIT) && rule != NULL)
		e->limit_rule = rule;
	*pos = f->n++;
	return 0;
}

/* Can a -j's match be ANDed into the rules it leads to? */
static int
jump_plain(struct flat *f, const struct rp_rule *r)
{
	const struct rp_match *m = &r->m;
	if (r->id < f->rs->n_rules && f->plain[r->id])
		return f->plain[r->id] - 1; /* a chain inlined many times asks again and again */
	int plain = 0;
	if (!(m->present & RP_M_NOT_ACL)) {
		int64_t n = expand(f->x, &m, 1);
		plain = n >= 0 && n <= RP_JUMP_AND_MAX;
	}
	if (r->id < f->rs->n_rules)
		f->plain[r->id] = (uint8_t)(plain + 1);
	return plain;
}

static int flatten_chain(struct flat *f, unsigned ci);

/* One rule of chain @p ci (built-in when ci == f->chain). */
static int
flatten_rule(struct flat *f, unsigned ci, const struct rp_rule *r, int *stop)
{
	const struct rp_match *m = &r->m;
	int builtin = ci == (unsigned)f->chain;
	int uncond = m->present == 0;
	uint32_t pos;
	int rc;

	*stop = 0;
	switch (r->target) {
	case RP_T_ACCEPT:
	case RP_T_DROP:
	case RP_T_REJECT:
		rc = emit(f, RP_FE_DECIDE, m, r, &pos);
		if (rc < 0)
			return rc;
		f->e[pos].verdict = r->target;
		f->e[pos].reject_with = r->target == RP_T_REJECT ? r->reject_with : 0;
		f->e[pos].decide_rule = (int32_t)r->id;
		*stop = uncond;
		return 0;
	case RP_T_RETURN:
		rc = emit(f, builtin ? RP_FE_DECIDE : RP_FE_SKIP, m, r, &pos);
		if (rc < 0)
			return rc;
		if (builtin)
			f->e[pos].verdict = f->rs->chains[ci].policy;
		else
			f->e[pos].target = PENDING;
		*stop = uncond;
		return 0;
	case RP_T_JUMP:
	case RP_T_GOTO:
		break;
	default: /* RP_T_NONE, RP_T_LOG */
		return emit(f, RP_FE_EFFECT, m, r, &pos);
	}

	int v = r->jump;
	if (v < RP_CHAIN_BUILTIN_MAX || (unsigned)v >= f->rs->n_chains) {
		rule_error(f, r, "jumps to no user chain");
		return -EINVAL;
	}
	if (f->on_way[v]) {
		rule_error(f, r, "jumps into a chain that leads back to itself (loop)");
		return -ELOOP;
	}
	if (f->depth >= RP_FILTER_MAX_DEPTH) {
		rule_error(f, r, "chains nested deeper than 64 calls");
		return -ELOOP;
	}
	int plain = jump_plain(f, r);
	uint32_t branch = 0;
	if (plain) {
		rc = emit(f, RP_FE_EFFECT, m, r, &pos);
		if (rc < 0)
			return rc;
		if (m->present != 0)
			f->path[f->npath++] = m;
	} else {
		rc = emit(f, RP_FE_BRANCH, m, r, &branch);
		if (rc < 0)
			return rc;
	}
	rc = flatten_chain(f, (unsigned)v);
	if (plain && m->present != 0)
		f->npath--;
	if (rc < 0)
		return rc;
	if (r->target == RP_T_GOTO) {
		/* back from the -g'ed chain: what follows the -g is skipped */
		rc = emit(f, builtin ? RP_FE_DECIDE : RP_FE_SKIP, plain ? m : NULL, NULL, &pos);
		if (rc < 0)
			return rc;
		if (builtin)
			f->e[pos].verdict = f->rs->chains[ci].policy;
		else
			f->e[pos].target = PENDING;
		*stop = uncond;
	}
	if (!plain)
		f->e[branch].target = f->n;
	return 0;
}

static int
flatten_chain(struct flat *f, unsigned ci)
{
	const struct rp_chain *ch = &f->rs->chains[ci];
	uint32_t start = f->n;
	int rc = 0;

	f->on_way[ci] = 1;
	f->depth++;
	for (unsigned i = 0; i < ch->n_rules; i++) {
		int stop;
		rc = flatten_rule(f, ci, &ch->rules[i], &stop);
		if (rc < 0 || stop)
			break;
	}
	f->depth--;
	f->on_way[ci] = 0;
	if (rc < 0)
		return rc;
	/* RETURNs and -g ends of this chain go on after it */
	for (uint32_t p = start; p < f->n; p++)
		if (f->e[p].kind == RP_FE_SKIP && f->e[p].target == PENDING)
			f->e[p].target = f->n;
	return 0;
}

/* The built-in chain: each top-level rule inlined, or kept whole as a CALL. */
static int
flatten_builtin(struct flat *f)
{
	const struct rp_chain *ch = &f->rs->chains[f->chain];
	f->on_way[f->chain] = 1;
	for (unsigned i = 0; i < ch->n_rules; i++) {
		uint32_t mark = f->n, mark_t = f->nt;
		int stop;
		f->limit = RTE_MIN(mark + RP_INLINE_MAX, RP_FLAT_MAX);
		f->depth = 0;
		f->npath = 0;
		int rc = flatten_rule(f, f->chain, &ch->rules[i], &stop);
		if (rc == -E2BIG) {
			f->n = mark;
			f->nt = mark_t;
			f->limit = mark + 1;
			uint32_t pos;
			rc = emit(f, RP_FE_CALL, NULL, NULL, &pos);
			if (rc < 0) {
				rule_error(f, &ch->rules[i], "the chain has too many rules to compile");
				return rc;
			}
			f->e[pos].top = i;
			stop = 0;
		}
		if (rc < 0)
			return rc;
		if (stop)
			break;
	}
	return 0;
}

/* ---- -m limit placement -------------------------------------------------------- */

/* Count the -m limit rules a CALL of top-level rule @p r may evaluate. */
static void
count_reachable_limits(const struct rp_ruleset *rs, const struct rp_rule *r, uint8_t *seen_chain,
		       uint32_t *occ)
{
	if (r->m.present & RP_M_LIMIT)
		occ[r->id]++;
	if ((r->target != RP_T_JUMP && r->target != RP_T_GOTO) || r->jump < RP_CHAIN_BUILTIN_MAX ||
	    (unsigned)r->jump >= rs->n_chains || seen_chain[r->jump])
		return;
	seen_chain[r->jump] = 1;
	const struct rp_chain *ch = &rs->chains[r->jump];
	for (unsigned i = 0; i < ch->n_rules; i++)
		count_reachable_limits(rs, &ch->rules[i], seen_chain, occ);
}

/*
 * A bucket shared by two positions would be drained in segment order, not
 * packet order, when a burst is classified segment by segment: such chains
 * are classified one packet at a time.
 */
static int
limit_shared(const struct rp_ruleset *rs, const struct rp_filter_prog *prog)
{
	uint32_t *occ = calloc(rs->n_rules + 1, sizeof(*occ));
	uint8_t *seen = calloc(rs->n_chains + 1, 1);
	int shared = 0;
	if (occ == NULL || seen == NULL) {
		shared = 1; /* the safe answer */
		goto free_arrays;
	}
	for (uint32_t p = 0; p < prog->n; p++) {
		const struct rp_fe *e = &prog->e[p];
		if (e->limit_rule != NULL && e->limit_rule->id < rs->n_rules)
			occ[e->limit_rule->id]++;
		if (e->kind == RP_FE_CALL) {
			memset(seen, 0, rs->n_chains);
			count_reachable_limits(rs, &rs->chains[prog->chain].rules[e->top], seen, occ);
		}
	}
	for (uint32_t i = 0; i < rs->n_rules; i++)
		shared |= occ[i] > 1;
free_arrays:
	free(occ);
	free(seen);
	return shared;
}

/* ---- building ------------------------------------------------------------------ */

static size_t
heap_allocated(void)
{
	size_t total = 0;
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

void
rp_filter_prog_free(struct rp_filter_prog *prog)
{
	if (prog == NULL)
		return;
	for (uint32_t s = 0; s < prog->n_seg; s++)
		rte_acl_free(prog->seg[s].ctx);
	free(prog->seg);
	free(prog->eff);
	free(prog->e);
	free(prog->terms);
	free(prog);
}

static int
entry_acl_ok(struct rp_filter_prog *prog, struct expander *x, const struct rp_fe *e,
	     int64_t *n_rules)
{
	if (e->kind != RP_FE_DECIDE && e->kind != RP_FE_SKIP)
		return 0;
	if (e->limit_rule != NULL)
		return 0;
	for (uint32_t t = 0; t < e->n_terms; t++)
		if (prog->terms[e->term0 + t]->present & RP_M_NOT_ACL)
			return 0;
	*n_rules = expand(x, &prog->terms[e->term0], e->n_terms);
	return *n_rules >= 0;
}

static int
build_segments(struct rp_filter_prog *prog, struct expander *x, const char *prefix,
	       FILE *err)
{
	static const char chain_letter[RP_CHAIN_BUILTIN_MAX] = {'I', 'F', 'O'};
	int64_t *n_rules = calloc(prog->n + 1, sizeof(*n_rules));
	uint8_t *target = calloc(prog->n + 1, 1);
	struct rp_acl_rule *rules = NULL;
	int rc = 0;

	prog->seg = calloc(prog->n + 1, sizeof(*prog->seg));
	prog->eff = calloc(prog->n + 1, sizeof(*prog->eff));
	if (n_rules == NULL || target == NULL || prog->seg == NULL || prog->eff == NULL) {
		rc = -ENOMEM;
		goto free_scratch;
	}

	/* which entries go to rte_acl; jump targets */
	int leading = 1;
	for (uint32_t p = 0; p < prog->n; p++) {
		struct rp_fe *e = &prog->e[p];
		e->acl = (uint8_t)entry_acl_ok(prog, x, e, &n_rules[p]);
		/* a leading state-only rule is cheaper checked directly */
		if (leading && e->kind == RP_FE_DECIDE && e->n_terms == 1 &&
		    prog->terms[e->term0]->present == RP_M_STATE)
			e->acl = 0;
		else
			leading = 0;
		if (e->kind == RP_FE_EFFECT)
			prog->eff[prog->n_eff++] = p;
		if ((e->kind == RP_FE_SKIP || e->kind == RP_FE_BRANCH) && e->target < prog->n)
			target[e->target] = 1;
		if (e->acl)
			prog->info.acl_rules += (unsigned)n_rules[p];
		else
			prog->info.barriers++;
	}

	/*
	 * Runs of one kind, cut at targets. A run is never cut for size: one
	 * context of 10k rules classifies in a fraction of the cycles of four
	 * of 2.5k (measured with bench_filter), at the price of a longer build.
	 */
	struct rp_seg *cur = NULL;
	uint32_t max_run = 0;
	for (uint32_t p = 0; p < prog->n; p++) {
		const struct rp_fe *e = &prog->e[p];
		if (e->kind == RP_FE_EFFECT)
			continue;
		int cut = cur == NULL || cur->acl != e->acl;
		for (uint32_t q = cur ? cur->end : p; !cut && q <= p; q++)
			cut = target[q];
		if (cut) {
			cur = &prog->seg[prog->n_seg++];
			cur->first = p;
			cur->acl = e->acl;
		}
		cur->end = p + 1;
	}
	for (uint32_t s = 0; s < prog->n_seg; s++) {
		uint32_t total = 0;
		if (!prog->seg[s].acl)
			continue;
		for (uint32_t p = prog->seg[s].first; p < prog->seg[s].end; p++)
			if (prog->e[p].acl)
				total += (uint32_t)n_rules[p];
		max_run = RTE_MAX(max_run, total);
	}
	rules = malloc((size_t)(max_run + RP_ACL_EXPAND_MAX) * sizeof(*rules));
	if (rules == NULL) {
		rc = -ENOMEM;
		goto free_scratch;
	}

	size_t heap0 = heap_allocated();
	for (uint32_t s = 0; s < prog->n_seg; s++) {
		struct rp_seg *sg = &prog->seg[s];
		if (!sg->acl)
			continue;
		uint32_t k = 0;
		for (uint32_t p = sg->first; p < sg->end; p++) {
			const struct rp_fe *e = &prog->e[p];
			if (!e->acl)
				continue;
			if (expand(x, &prog->terms[e->term0], e->n_terms) < 0) {
				rc = -EINVAL; /* cannot happen: it expanded a moment ago */
				goto free_scratch;
			}
			k += emit_rules(x, &rules[k], (int32_t)(RTE_ACL_MAX_PRIORITY - (p - sg->first)),
					p + 1);
		}
		if (k == 0)
			continue; /* nothing can match: no context */
		char name[RTE_ACL_NAMESIZE];
		int len = snprintf(name, sizeof(name), "%s%c%" PRIu32, prefix,
				   chain_letter[prog->chain], s);
		if (len < 0 || (size_t)len >= sizeof(name) - 4) {
			if (err)
				fprintf(err, "filter: ACL context name \"%s...\" too long\n", prefix);
			rc = -ENAMETOOLONG;
			goto free_scratch;
		}
		if (rte_acl_find_existing(name) != NULL) {
			if (err)
				fprintf(err, "filter: ACL context %s exists already (name prefix in use)\n",
					name);
			rc = -EEXIST;
			goto free_scratch;
		}
		struct rte_acl_param param = {
			.name = name,
			.socket_id = SOCKET_ID_ANY,
			.rule_size = RTE_ACL_RULE_SZ(RP_ACL_F_NUM),
			.max_rule_num = k,
		};
		sg->ctx = rte_acl_create(&param);
		if (sg->ctx == NULL) {
			rc = -(rte_errno ? rte_errno : ENOMEM);
			if (err)
				fprintf(err, "filter: rte_acl_create(%s) failed: %s\n", name,
					rte_strerror(-rc));
			goto free_scratch;
		}
		rc = rte_acl_add_rules(sg->ctx, (const struct rte_acl_rule *)rules, k);
		if (rc == 0) {
			struct rte_acl_config cfg = {.num_categories = 1, .num_fields = RP_ACL_F_NUM};
			memcpy(cfg.defs, acl_defs, sizeof(acl_defs));
			rc = rte_acl_build(sg->ctx, &cfg);
		}
		if (rc != 0) {
			if (err)
				fprintf(err, "filter: building ACL context %s (%u rules) failed: %s\n",
					name, k, rte_strerror(-rc));
			goto free_scratch;
		}
		prog->has_acl = 1;
		prog->info.segments++;
	}
	size_t heap1 = heap_allocated();
	prog->info.mem = heap1 > heap0 ? heap1 - heap0 : 0;

free_scratch:
	free(rules);
	free(target);
	free(n_rules);
	return rc;
}

static int
compile_chain(const struct rp_ruleset *rs, enum rp_chain_id chain, const char *prefix,
	      struct expander *x, FILE *err, struct rp_filter_prog **out)
{
	struct flat f = {.rs = rs, .chain = chain, .err = err, .x = x};
	struct rp_filter_prog *prog = calloc(1, sizeof(*prog));
	int rc;

	f.on_way = calloc(rs->n_chains + 1, 1);
	f.plain = calloc(rs->n_rules + 1, 1);
	if (prog == NULL || f.on_way == NULL || f.plain == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = flatten_builtin(&f);
	if (rc == 0 && f.t == NULL) {
		/* no entry has terms: still an array, so that &terms[term0] is a pointer */
		f.t = malloc(sizeof(*f.t));
		rc = f.t == NULL ? -ENOMEM : 0;
	}
	if (rc < 0)
		goto fail;
	prog->chain = chain;
	prog->policy = rs->chains[chain].policy;
	prog->e = f.e;
	prog->n = f.n;
	prog->terms = f.t;
	prog->n_terms = f.nt;
	f.e = NULL;
	f.t = NULL;
	prog->info.flat_rules = prog->n;
	rc = build_segments(prog, x, prefix, err);
	if (rc < 0)
		goto fail;
	prog->per_packet = (uint8_t)limit_shared(rs, prog);
	free(f.on_way);
	free(f.plain);
	*out = prog;
	return 0;
fail:
	if (rc == -ENOMEM && err)
		fprintf(err, "filter: out of memory compiling chain %s\n", rs->chains[chain].name);
	free(f.on_way);
	free(f.plain);
	free(f.e);
	free(f.t);
	rp_filter_prog_free(prog);
	return rc;
}

int
rp_ruleset_compile(struct rp_ruleset *rs, const char *name_prefix, FILE *err)
{
	struct rp_filter_prog *prog[RP_CHAIN_BUILTIN_MAX] = {NULL};
	int rc = 0;

	if (rs == NULL || name_prefix == NULL || rs->n_chains < RP_CHAIN_BUILTIN_MAX)
		return -EINVAL;
	struct expander *x = malloc(sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	/* the ruleset is not live yet: an earlier compilation goes (its context names with it) */
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
		rp_filter_prog_free(rs->prog[c]);
		rs->prog[c] = NULL;
	}
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
		rc = compile_chain(rs, (enum rp_chain_id)c, name_prefix, x, err, &prog[c]);
		if (rc < 0)
			break;
	}
	free(x);
	if (rc < 0) {
		for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++)
			rp_filter_prog_free(prog[c]);
		return rc;
	}
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++)
		rs->prog[c] = prog[c];
	return 0;
}

void
rp_filter_prog_info(const struct rp_ruleset *rs, enum rp_chain_id chain,
		    struct rp_filter_prog_info *info)
{
	memset(info, 0, sizeof(*info));
	if (rs != NULL && (unsigned)chain < RP_CHAIN_BUILTIN_MAX && rs->prog[chain] != NULL)
		*info = rs->prog[chain]->info;
}
