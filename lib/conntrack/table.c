/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking tables: one per worker, written and read by that
 * worker only (the control thread talks to it through its mailbox).
 *
 * Layout of a table:
 *  - an rte_hash (RW_CONCURRENCY_LF | EXT_TABLE, 2 * max keys, so it holds
 *    every connection whatever the hashes) from struct rp_ct_tuple to
 *    (entry index << 1 | direction): each connection is two keys, its
 *    original and its reply tuple;
 *  - the entries, struct rp_ct_entry[max], two cache lines each; free ones
 *    are chained through their dead body (struct ct_dead), and entries
 *    never used yet lie above a high-water mark, so creating a table does
 *    not have to walk them;
 *  - a small array of expectations (connections a helper announced);
 *  - with a helper enabled, a helper state index per entry and a bounded
 *    pool of FTP parser states (max / 64, at least 64), one per control
 *    connection, given back when it is deleted;
 *  - live counts per protocol and TCP state (COUNT requests, telemetry) and
 *    the event counters.
 *
 * Reclamation. A deleted connection's two key slots and its entry go back
 * together, and with a QSBR variable only after a grace period: the entry
 * index enters a defer queue (rte_rcu_qsbr_dq, experimental in 22.11, hence
 * ALLOW_EXPERIMENTAL_API) whose free function releases both key positions
 * (rte_hash_free_key_with_position: with RW_CONCURRENCY_LF a deleted key
 * keeps its slot until then) and the entry. So a reader that found a key
 * can still read the entry it points to until it reports quiescence, and a
 * free entry always has two free key slots behind it: inserting never fails
 * for want of a slot. rte_hash_rcu_qsbr_add would only protect the key
 * slots (not the entries) and needs a defer queue as large as the key store,
 * 32 to 64 bytes a connection; this queue holds entry indices (12 bytes an
 * element) and is an eighth of max, since it only needs what is deleted
 * within one grace period: when it is full, deletion waits (expiry stops
 * early, a flush asks to be posted again, early drop finds nothing) until a
 * grace period has passed. The table reclaims at the start of every
 * rp_ct_expire call and when it runs out of entries. Since an entry is
 * reused only after the worker's next quiescent report, the ct_idx that
 * classify gave a packet stays valid for its whole burst. An early-dropped
 * entry is free again only a grace period later, too, so the NEW packet that
 * finds the table full is refused even though it evicts a victim. From then
 * on (until the table has room again) every insertion that leaves fewer than
 * `reserve` entries free (max / 16, at most 64) evicts one more unassured
 * entry ahead of need: the free entries grow with every refusal until the
 * NEW packets of a loop find room, as netfilter's early drop gives it at
 * once. Without a QSBR variable (single-threaded tests) everything is freed
 * at once and the first early drop makes room for its packet.
 *
 * States follow netfilter's ctinfo as `-m state` sees it: a packet of the
 * original direction is NEW until a reply was seen (RELATED for an expected
 * connection), ESTABLISHED afterwards and for every reply-direction packet;
 * ICMP errors about a connection are RELATED; anything malformed or that a
 * tracker refuses is INVALID and creates nothing. The TCP state of a new
 * connection is computed again at confirmation (rp_tcp_new is pure and the
 * packet is still there) rather than stashed between classify and confirm.
 */

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "ct_ftp.h"
#include "rampart_conntrack.h"

_Static_assert(sizeof(struct rp_ct_tuple) == 16, "the hash key is 16 bytes");
_Static_assert(sizeof(struct rp_ct_entry) == 2 * RTE_CACHE_LINE_MIN_SIZE,
	       "a conntrack entry is two cache lines");
_Static_assert(sizeof(struct rp_tcp_state) <= sizeof(((struct rp_ct_entry *)0)->proto.raw),
	       "TCP state must fit the entry");

/* DPDK derives ring names from the table name ("HT_EXT_<name>" is the
 * longest, at most RTE_RING_NAMESIZE - 1 characters). */
#define CT_NAME_MAX (RTE_RING_NAMESIZE - 1 - (sizeof("HT_EXT_") - 1))

#define CT_HASH_MIN 8u            /**< rte_hash refuses fewer entries (one bucket) */
#define CT_DQ_MIN 64u             /**< smallest defer queue (entries) */
#define CT_EARLY_DROP_SCAN 8u     /**< entries an early drop looks at */
#define CT_RESERVE_MAX 64u        /**< free entries kept ahead of need with RCU (two bursts) */
#define CT_LIST_SCAN_MAX 4096u    /**< entries a LIST request looks at per call */
#define CT_FLUSH_SCAN_MAX 4096u   /**< entries a FLUSH request looks at per call */
#define CT_EXPECT_SLOTS RP_CT_EXPECT_SLOTS
#define CT_EXPECT_DEFAULT 4u      /**< expectations per master when the conf says 0 */
#define CT_FTP_STATE_MIN 64u      /**< FTP parser states of a table at least ... */
#define CT_FTP_STATE_SHIFT 6      /**< ... else one per 64 connections */
#define CT_FTP_CHUNK 1500u        /**< payload bytes handed to the parser per call */
#define CT_FTP_ANNOUNCE_MAX 4u    /**< announcements taken from one chunk */
#define CT_UDP_STREAM_AFTER_MS 2000u /**< netfilter: a UDP flow alive 2 s after creation is a stream */
#define CT_TIMEOUT_MAX_S (INT32_MAX / 1000) /**< timeouts compare as int32 milliseconds */
#define CT_PREFETCH_AHEAD 4u

/* ICMP types (RFC 792, 950) */
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETER_PROB 12
#define ICMP_TIMESTAMP 13
#define ICMP_TIMESTAMP_REPLY 14
#define ICMP_INFO_REQUEST 15
#define ICMP_INFO_REPLY 16
#define ICMP_ADDRESS 17
#define ICMP_ADDRESS_REPLY 18

#define ICMP_HDR_LEN 8u
#define IPV4_HDR_MIN 20u
#define QUOTED_L4_LEN 8u /**< what an ICMP error must quote of the L4 header */

/* What a free entry holds in its proto area. */
struct ct_dead {
	int32_t pos[2];     /**< key positions to free (-1 none) */
	uint32_t next_free; /**< next free entry + 1, 0 = end */
};

struct ct_expect_slot {
	struct rp_ct_expect e;
	uint32_t seq;    /**< registration order, to replace a master's oldest */
	uint8_t foreign; /**< posted by another worker: master is not in this table */
};

struct rp_ct_table {
	/* read per packet */
	struct rte_hash *hash;
	struct rp_ct_entry *entries;
	uint32_t max;
	uint32_t n_expect;      /**< live slots at the front of expect[] */
	int tcp_loose;
	int checksum;
	uint32_t udp_ms;
	uint32_t udp_stream_ms;
	uint32_t icmp_ms;
	uint32_t generic_ms;
	struct rp_tcp_timeouts tcp; /**< seconds, clamped */
	uint16_t epoch;         /**< revalidation epoch: new entries take it */
	uint8_t reval_active;   /**< a revalidation walk has entries left: flag stale packets */
	uint32_t expect_max;    /**< expectations per master */

	/* helpers (NULL / 0 when none is enabled) */
	uint32_t *helper_slot;  /**< per entry: its FTP state + 1, 0 = none */
	struct rp_ftp_state *ftp; /**< parser states */
	uint32_t *ftp_free;     /**< stack of free parser states */
	uint32_t n_ftp_free;
	uint32_t n_ftp_states;
	uint16_t ftp_ports[RP_CT_FTP_PORTS];
	uint8_t n_ftp_ports;

	/* entries */
	uint32_t free_head;     /**< first free entry + 1, 0 = none */
	uint32_t n_free;        /**< entries on the free chain */
	uint32_t high_water;    /**< entries at or above were never used */
	uint32_t count;         /**< live connections (read by other threads) */
	uint32_t expire_cursor;
	uint32_t drop_cursor;
	uint32_t flush_cursor;  /**< where a FLUSH in progress goes on, 0 = none */
	uint32_t reval_cursor;  /**< where the revalidation walk goes on */
	uint32_t expect_seq;

	/* RCU */
	struct rte_rcu_qsbr_dq *dq; /**< NULL: free at once */
	uint32_t dq_pending;    /**< entries waiting for a grace period */
	uint32_t dq_cap;
	uint32_t reserve;       /**< free entries early drop keeps ahead under pressure (RCU only) */
	int pressure;           /**< a NEW connection found the table full, not relieved yet */

	uint32_t live[4][RP_TCP_STATE_MAX]; /**< connections by protocol slot and TCP state */
	struct ct_expect_slot expect[CT_EXPECT_SLOTS];

	uint64_t counters[RP_CT_CNT_MAX] __rte_cache_aligned; /**< written by the worker only */
};

/* ---- names -------------------------------------------------------------- */

static const char *const ct_counter_names[] = {
#define RP_CT_CNT_NAME(e, n, d) [RP_CT_CNT_##e] = n,
	RP_FOREACH_CT_COUNTER(RP_CT_CNT_NAME)
#undef RP_CT_CNT_NAME
};

static const char *const ct_counter_descs[] = {
#define RP_CT_CNT_DESC(e, n, d) [RP_CT_CNT_##e] = d,
	RP_FOREACH_CT_COUNTER(RP_CT_CNT_DESC)
#undef RP_CT_CNT_DESC
};

static const char *const ct_state_names[] = {
	[RP_CT_NEW] = "NEW",
	[RP_CT_ESTABLISHED] = "ESTABLISHED",
	[RP_CT_RELATED] = "RELATED",
	[RP_CT_INVALID] = "INVALID",
};

const char *
rp_ct_counter_name(enum rp_ct_counter c)
{
	return (unsigned)c < RP_CT_CNT_MAX ? ct_counter_names[c] : "unknown";
}

const char *
rp_ct_counter_desc(enum rp_ct_counter c)
{
	return (unsigned)c < RP_CT_CNT_MAX ? ct_counter_descs[c] : "unknown";
}

const char *
rp_ct_state_name(enum rp_ct_state s)
{
	return (unsigned)s < RP_CT_STATE_MAX ? ct_state_names[s] : "UNKNOWN";
}

void
rp_ct_default_conf(struct rp_ct_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->tcp_loose = 1;
	c->checksum = 1;
	rp_tcp_default_timeouts(&c->timeouts.tcp);
	c->timeouts.udp = 30;
	c->timeouts.udp_stream = 120;
	c->timeouts.icmp = 30;
	c->timeouts.generic = 600;
	c->helpers = 0; /* netfilter no longer assigns helpers by port unless asked */
	c->ftp_ports[0] = 21;
	c->n_ftp_ports = 1;
	c->expect_max = CT_EXPECT_DEFAULT;
}

/* ---- small helpers ---------------------------------------------------------- */

/* Written by the owning worker only; other threads read with relaxed loads. */
static inline void
ct_count(struct rp_ct_table *t, enum rp_ct_counter c)
{
	__atomic_store_n(&t->counters[c], t->counters[c] + 1, __ATOMIC_RELAXED);
}

static inline void
ct_add(struct rp_ct_table *t, enum rp_ct_counter c, uint64_t n)
{
	if (n)
		__atomic_store_n(&t->counters[c], t->counters[c] + n, __ATOMIC_RELAXED);
}

static inline void
ct_set_count(struct rp_ct_table *t, uint32_t v)
{
	__atomic_store_n(&t->count, v, __ATOMIC_RELAXED);
}

/*
 * rte_hash_crc(k, 16, 0), the function the table was created with, inlined.
 * The key is loaded with memcpy: rte_hash_crc reads through uint64_t *,
 * which under strict aliasing may be ordered before the stores to the
 * tuple's fields that were just made.
 */
static inline hash_sig_t
ct_hash(const struct rp_ct_tuple *k)
{
	uint64_t w[2];

	memcpy(w, k, sizeof(w));
	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0));
}

static inline unsigned
proto_slot(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 0;
	case IPPROTO_UDP:
		return 1;
	case IPPROTO_ICMP:
		return 2;
	default:
		return 3;
	}
}

static inline uint8_t
entry_tcp_state(const struct rp_ct_entry *e)
{
	return e->tuple[0].proto == IPPROTO_TCP ? e->proto.tcp.state : 0;
}

static inline struct ct_dead *
entry_dead(struct rp_ct_entry *e)
{
	return (struct ct_dead *)(void *)e->proto.raw;
}

static inline int
entry_live(const struct rp_ct_table *t, uint32_t idx)
{
	return idx < t->high_water && !(t->entries[idx].status & RP_CT_S_DYING);
}

static inline int
tuple_eq(const struct rp_ct_tuple *a, const struct rp_ct_tuple *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline void *
key_data(uint32_t idx, unsigned dir)
{
	return (void *)(uintptr_t)((idx << 1) | dir);
}

static inline uint32_t
clamp_s(uint32_t s)
{
	return s > CT_TIMEOUT_MAX_S ? CT_TIMEOUT_MAX_S : s;
}

static inline int
icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROB;
}

static inline int
icmp_is_request(uint8_t type)
{
	return type == ICMP_ECHO || type == ICMP_TIMESTAMP || type == ICMP_INFO_REQUEST ||
	       type == ICMP_ADDRESS;
}

/* The type answering @p type (request <-> reply), or -1 if it has none. */
static inline int
icmp_inverse(uint8_t type)
{
	switch (type) {
	case ICMP_ECHO:
		return ICMP_ECHO_REPLY;
	case ICMP_ECHO_REPLY:
		return ICMP_ECHO;
	case ICMP_TIMESTAMP:
		return ICMP_TIMESTAMP_REPLY;
	case ICMP_TIMESTAMP_REPLY:
		return ICMP_TIMESTAMP;
	case ICMP_INFO_REQUEST:
		return ICMP_INFO_REPLY;
	case ICMP_INFO_REPLY:
		return ICMP_INFO_REQUEST;
	case ICMP_ADDRESS:
		return ICMP_ADDRESS_REPLY;
	case ICMP_ADDRESS_REPLY:
		return ICMP_ADDRESS;
	default:
		return -1;
	}
}

/* The reply tuple of an original tuple (what the answer looks like). */
static void
tuple_reply(const struct rp_ct_tuple *o, struct rp_ct_tuple *r)
{
	memset(r, 0, sizeof(*r));
	r->src = o->dst;
	r->dst = o->src;
	r->proto = o->proto;
	switch (o->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		r->sport = o->dport;
		r->dport = o->sport;
		break;
	case IPPROTO_ICMP:
		r->sport = o->sport;
		r->dport = (uint16_t)((unsigned)icmp_inverse((uint8_t)(o->dport >> 8)) << 8);
		break;
	default:
		break;
	}
}

/* ---- creation ------------------------------------------------------------------ */

static uint32_t
ct_hash_entries(uint32_t max)
{
	return RTE_MAX(2 * max, CT_HASH_MIN);
}

/* Capacity of the defer queue: an eighth of max, one less than a power of two
 * so that its ring (rounded up from size + 1) is not twice as large. */
static uint32_t
ct_dq_size(uint32_t max)
{
	return RTE_MAX(rte_align32pow2(max) / 8, CT_DQ_MIN) - 1;
}

size_t
rp_ct_mem_size(uint32_t max)
{
	/* What rte_hash_create (DPDK 22.11, LF + EXT_TABLE), the defer queue and
	 * rp_ct_create allocate, by the sizes they use. */
	const size_t keys = ct_hash_entries(max);
	const size_t slots = keys + 1;                          /* slot 0 means "miss" */
	const size_t buckets = rte_align32pow2((uint32_t)keys) / 8;
	const size_t key_entry = RTE_ALIGN(sizeof(void *) + sizeof(struct rp_ct_tuple), 16);
	size_t sz = 0;

	sz += 2 * buckets * 64;                               /* buckets + extension buckets */
	sz += slots * key_entry;                              /* key store: data pointer + key */
	sz += rte_align32pow2((uint32_t)slots) * 4;           /* free key slots ring */
	sz += rte_align32pow2((uint32_t)buckets + 1) * 4;     /* free extension buckets ring */
	sz += slots * 4;                                      /* extension buckets to free (LF) */
	sz += (size_t)max * sizeof(struct rp_ct_entry);       /* entries */
	sz += (size_t)(ct_dq_size(max) + 1) * (8 + 4);        /* defer queue: token + index */
	sz += sizeof(struct rp_ct_table);
	/* ring and hash headers, allocator element headers and alignment */
	return sz + (16u << 10);
}

static uint32_t
ct_ftp_states(uint32_t max)
{
	return RTE_MAX(max >> CT_FTP_STATE_SHIFT, CT_FTP_STATE_MIN);
}

size_t
rp_ct_helper_mem_size(uint32_t max)
{
	const size_t n = ct_ftp_states(max);

	/* slot index per entry, the states, their free stack, allocator headers */
	return (size_t)max * sizeof(uint32_t) + n * sizeof(struct rp_ftp_state) +
	       n * sizeof(uint32_t) + 3 * 2 * RTE_CACHE_LINE_SIZE;
}

/* The helper storage of a table whose conf enables the FTP helper. */
static int
ct_helpers_create(struct rp_ct_table *t, const struct rp_ct_conf *conf, int socket)
{
	if (!(conf->helpers & RP_CT_HELPER_BIT(RP_CT_HELPER_ID_FTP)))
		return 0;
	t->n_ftp_ports = (uint8_t)RTE_MIN(conf->n_ftp_ports, (unsigned)RP_CT_FTP_PORTS);
	memcpy(t->ftp_ports, conf->ftp_ports, sizeof(t->ftp_ports));
	t->n_ftp_states = ct_ftp_states(t->max);
	t->helper_slot = rte_zmalloc_socket("rp_ct_helper_slot", (size_t)t->max * sizeof(uint32_t),
					    RTE_CACHE_LINE_SIZE, socket);
	t->ftp = rte_malloc_socket("rp_ct_ftp", (size_t)t->n_ftp_states * sizeof(struct rp_ftp_state),
				   RTE_CACHE_LINE_SIZE, socket);
	t->ftp_free = rte_malloc_socket("rp_ct_ftp_free", (size_t)t->n_ftp_states * sizeof(uint32_t),
					RTE_CACHE_LINE_SIZE, socket);
	if (t->helper_slot == NULL || t->ftp == NULL || t->ftp_free == NULL)
		return -ENOMEM;
	/* lowest state on top of the stack */
	for (uint32_t i = 0; i < t->n_ftp_states; i++)
		t->ftp_free[i] = t->n_ftp_states - 1 - i;
	t->n_ftp_free = t->n_ftp_states;
	return 0;
}

static void
ct_helpers_free(struct rp_ct_table *t)
{
	rte_free(t->helper_slot);
	rte_free(t->ftp);
	rte_free(t->ftp_free);
}

static void ct_entry_release(struct rp_ct_table *t, uint32_t idx);

/* Defer-queue free function: a grace period has passed since @p e was deleted. */
static void
ct_dq_free(void *p, void *e, unsigned int n)
{
	struct rp_ct_table *t = p;
	const uint32_t *idx = e;

	for (unsigned i = 0; i < n; i++) {
		ct_entry_release(t, idx[i]);
		t->dq_pending--;
	}
}

struct rp_ct_table *
rp_ct_create(const char *name, const struct rp_ct_conf *conf, struct rte_rcu_qsbr *qsv,
	     int socket)
{
	struct rte_hash_parameters hp;
	struct rp_ct_table *t;

	if (name == NULL || conf == NULL || conf->max == 0 ||
	    conf->max > RTE_HASH_ENTRIES_MAX / 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (strlen(name) > CT_NAME_MAX) {
		rte_errno = ENAMETOOLONG;
		return NULL;
	}

	t = rte_zmalloc_socket("rp_ct_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->max = conf->max;
	t->tcp_loose = conf->tcp_loose;
	t->checksum = conf->checksum;
	t->udp_ms = clamp_s(conf->timeouts.udp) * 1000;
	t->udp_stream_ms = clamp_s(conf->timeouts.udp_stream) * 1000;
	t->icmp_ms = clamp_s(conf->timeouts.icmp) * 1000;
	t->generic_ms = clamp_s(conf->timeouts.generic) * 1000;
	t->tcp = conf->timeouts.tcp;
	for (unsigned s = 0; s < RP_TCP_STATE_MAX; s++)
		t->tcp.state[s] = clamp_s(t->tcp.state[s]);
	t->tcp.max_retrans = clamp_s(t->tcp.max_retrans);
	t->tcp.unacknowledged = clamp_s(t->tcp.unacknowledged);
	t->expect_max = conf->expect_max == 0 ? CT_EXPECT_DEFAULT
					      : RTE_MIN(conf->expect_max, (uint32_t)RP_CT_EXPECT_MAX);
	if (ct_helpers_create(t, conf, socket) != 0) {
		rte_errno = ENOMEM;
		goto free_table;
	}

	/* Entries are not initialised: those above high_water were never used. */
	t->entries = rte_malloc_socket("rp_ct_entries", (size_t)t->max * sizeof(struct rp_ct_entry),
				       RTE_CACHE_LINE_SIZE, socket);
	if (t->entries == NULL) {
		rte_errno = ENOMEM;
		goto free_table;
	}

	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = ct_hash_entries(t->max);
	hp.key_len = sizeof(struct rp_ct_tuple);
	hp.hash_func = rte_hash_crc;
	hp.hash_func_init_val = 0;
	hp.socket_id = socket;
	/* EXT_TABLE: the table takes all 2 * max keys whatever their hashes */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	rte_errno = 0; /* not every failure sets it */
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL) {
		if (rte_errno == 0)
			rte_errno = ENOMEM;
		goto free_entries;
	}

	if (qsv != NULL) {
		char dq_name[RTE_RING_NAMESIZE];
		struct rte_rcu_qsbr_dq_parameters dp;

		snprintf(dq_name, sizeof(dq_name), "CTDQ_%s", name);
		memset(&dp, 0, sizeof(dp));
		dp.name = dq_name;
		dp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE; /* the owning worker only */
		dp.size = ct_dq_size(t->max);
		dp.esize = sizeof(uint32_t);
		/* no reclamation inside enqueue: the table reclaims once per loop */
		dp.trigger_reclaim_limit = UINT32_MAX;
		dp.max_reclaim_size = dp.size;
		dp.free_fn = ct_dq_free;
		dp.p = t;
		dp.v = qsv;
		rte_errno = 0;
		t->dq = rte_rcu_qsbr_dq_create(&dp);
		if (t->dq == NULL) {
			if (rte_errno == 0)
				rte_errno = ENOMEM;
			goto free_hash;
		}
		t->dq_cap = dp.size;
		t->reserve = RTE_MIN(CT_RESERVE_MAX, t->max / 16);
	}
	return t;

free_hash:
	rte_hash_free(t->hash);
free_entries:
	rte_free(t->entries);
free_table:
	ct_helpers_free(t);
	rte_free(t);
	return NULL;
}

/*
 * Free a table. The workers must have stopped using it; with a QSBR variable
 * they must also have reported quiescence (or gone offline) since the last
 * deletion, else the defer queue cannot be emptied and its ring stays.
 */
void
rp_ct_free(struct rp_ct_table *t)
{
	if (t == NULL)
		return;
	if (t->dq != NULL && rte_rcu_qsbr_dq_delete(t->dq) != 0)
		RTE_LOG(WARNING, USER1, "%s(): %u connections still wait for a grace period\n",
			__func__, t->dq_pending);
	rte_hash_free(t->hash);
	rte_free(t->entries);
	ct_helpers_free(t);
	rte_free(t);
}

/* ---- entries ---------------------------------------------------------------- */

/* Give a deleted entry and its key slots back (after the grace period). */
static void
ct_entry_release(struct rp_ct_table *t, uint32_t idx)
{
	struct ct_dead *d = entry_dead(&t->entries[idx]);

	for (unsigned k = 0; k < 2; k++)
		if (d->pos[k] >= 0)
			rte_hash_free_key_with_position(t->hash, d->pos[k]);
	d->next_free = t->free_head;
	t->free_head = idx + 1;
	t->n_free++;
}

static inline void
ct_reclaim(struct rp_ct_table *t)
{
	if (t->dq != NULL && t->dq_pending > 0)
		rte_rcu_qsbr_dq_reclaim(t->dq, t->dq_pending, NULL, NULL, NULL);
}

/* True if a connection may be deleted now (room in the defer queue). */
static inline int
ct_can_delete(struct rp_ct_table *t)
{
	if (t->dq == NULL || t->dq_pending < t->dq_cap)
		return 1;
	ct_reclaim(t);
	return t->dq_pending < t->dq_cap;
}

static uint32_t
ct_entry_alloc(struct rp_ct_table *t)
{
	if (t->free_head == 0 && t->high_water == t->max)
		ct_reclaim(t);
	if (t->free_head != 0) {
		uint32_t idx = t->free_head - 1;

		t->free_head = entry_dead(&t->entries[idx])->next_free;
		t->n_free--;
		return idx;
	}
	if (t->high_water < t->max)
		return t->high_water++;
	return RP_CT_NO_ENTRY;
}

static void ct_expect_drop_master(struct rp_ct_table *t, uint32_t master);

/* Delete a live connection (the caller checked ct_can_delete). */
static void
ct_delete(struct rp_ct_table *t, uint32_t idx)
{
	struct rp_ct_entry *e = &t->entries[idx];
	int32_t pos[2];

	t->live[proto_slot(e->tuple[0].proto)][entry_tcp_state(e)]--;
	ct_set_count(t, t->count - 1);
	ct_count(t, RP_CT_CNT_DELETED);

	pos[0] = rte_hash_del_key_with_hash(t->hash, &e->tuple[0], ct_hash(&e->tuple[0]));
	pos[1] = tuple_eq(&e->tuple[0], &e->tuple[1])
			 ? -1
			 : rte_hash_del_key_with_hash(t->hash, &e->tuple[1], ct_hash(&e->tuple[1]));
	if (t->n_expect)
		ct_expect_drop_master(t, idx);
	if (t->helper_slot != NULL && t->helper_slot[idx] != 0) {
		/* only this worker reads parser states, between packets: free at once */
		t->ftp_free[t->n_ftp_free++] = t->helper_slot[idx] - 1;
		t->helper_slot[idx] = 0;
	}

	e->status = RP_CT_S_DYING;
	struct ct_dead *d = entry_dead(e);
	d->pos[0] = pos[0] >= 0 ? pos[0] : -1;
	d->pos[1] = pos[1] >= 0 ? pos[1] : -1;
	if (t->dq != NULL) {
		if (rte_rcu_qsbr_dq_enqueue(t->dq, &idx) == 0) {
			t->dq_pending++;
			return;
		}
		/* cannot happen (ct_can_delete): keep the entry out of use for good
		 * rather than free it under a reader */
		RTE_LOG(ERR, USER1, "%s(): defer queue full, entry %u lost\n", __func__, idx);
		return;
	}
	ct_entry_release(t, idx);
}

/* ---- expectations -------------------------------------------------------------- */

/* n_expect is read by other threads (telemetry): relaxed stores. */
static inline void
ct_set_n_expect(struct rp_ct_table *t, uint32_t n)
{
	__atomic_store_n(&t->n_expect, n, __ATOMIC_RELAXED);
}

static void
ct_expect_remove(struct rp_ct_table *t, uint32_t slot)
{
	/* keep the live slots packed at the front */
	ct_set_n_expect(t, t->n_expect - 1);
	if (slot != t->n_expect)
		t->expect[slot] = t->expect[t->n_expect];
}

static void
ct_expect_drop_master(struct rp_ct_table *t, uint32_t master)
{
	for (uint32_t i = 0; i < t->n_expect;) {
		if (!t->expect[i].foreign && t->expect[i].e.master == master) {
			ct_expect_remove(t, i);
			ct_count(t, RP_CT_CNT_EXPECT_EXPIRED);
		} else {
			i++;
		}
	}
}

/* The expectation a new connection with original tuple @p k fulfils, or -1. */
static int
ct_expect_find(const struct rp_ct_table *t, const struct rp_ct_tuple *k, uint32_t now_ms)
{
	for (uint32_t i = 0; i < t->n_expect; i++) {
		const struct rp_ct_tuple *x = &t->expect[i].e.tuple;

		if (x->src == k->src && x->dst == k->dst && x->proto == k->proto &&
		    x->dport == k->dport && (x->sport == 0 || x->sport == k->sport) &&
		    (int32_t)(now_ms - t->expect[i].e.expires) < 0)
			return (int)i;
	}
	return -1;
}

static int
ct_expect_insert(struct rp_ct_table *t, const struct rp_ct_expect *e, int foreign)
{
	uint32_t same = 0, oldest = UINT32_MAX;
	struct ct_expect_slot *s;
	struct rp_ct_tuple k = e->tuple;

	memset(k.pad, 0, sizeof(k.pad));
	if (!foreign) {
		if (!entry_live(t, e->master))
			return -EINVAL;
		for (uint32_t i = 0; i < t->n_expect; i++) {
			if (t->expect[i].foreign || t->expect[i].e.master != e->master)
				continue;
			if (tuple_eq(&t->expect[i].e.tuple, &k)) {
				/* announced again (a repeated PASV): renew it, as netfilter
				 * refreshes an identical expectation */
				t->expect[i].e.expires = e->expires;
				t->expect[i].e.helper = e->helper;
				return 0;
			}
			same++;
			if (oldest == UINT32_MAX || (int32_t)(t->expect[i].seq - t->expect[oldest].seq) < 0)
				oldest = i;
		}
	}
	if (same >= t->expect_max) {
		s = &t->expect[oldest]; /* replace the master's oldest */
		ct_count(t, RP_CT_CNT_EXPECT_EXPIRED);
	} else {
		if (t->n_expect == CT_EXPECT_SLOTS) {
			ct_count(t, RP_CT_CNT_EXPECT_FULL);
			return -ENOSPC;
		}
		s = &t->expect[t->n_expect];
		ct_set_n_expect(t, t->n_expect + 1);
	}
	s->e = *e;
	s->e.tuple = k;
	s->seq = t->expect_seq++;
	s->foreign = (uint8_t)(foreign != 0);
	ct_count(t, RP_CT_CNT_EXPECT_CREATED);
	return 0;
}

int
rp_ct_expect_add(struct rp_ct_table *t, const struct rp_ct_expect *e)
{
	if (t == NULL || e == NULL)
		return -EINVAL;
	return ct_expect_insert(t, e, 0);
}

uint32_t
rp_ct_expect_count(const struct rp_ct_table *t)
{
	return t == NULL ? 0 : __atomic_load_n(&t->n_expect, __ATOMIC_RELAXED);
}

const char *
rp_ct_helper_name(uint8_t id)
{
	return id == RP_CT_HELPER_ID_FTP ? "ftp" : "";
}

static void
ct_expect_expire(struct rp_ct_table *t, uint32_t now_ms)
{
	for (uint32_t i = 0; i < t->n_expect;) {
		if ((int32_t)(now_ms - t->expect[i].e.expires) >= 0) {
			ct_expect_remove(t, i);
			ct_count(t, RP_CT_CNT_EXPECT_EXPIRED);
		} else {
			i++;
		}
	}
}

/* ---- packets ---------------------------------------------------------------- */

/* What a packet's own header says before any lookup. */
enum pkt_kind {
	PK_LOOKUP,     /**< a tuple to look up */
	PK_ICMP_ERROR, /**< look up the quoted tuple instead */
	PK_INVALID,
};

static inline enum pkt_kind
pkt_key(const struct rp_ct_table *t, const struct rp_meta *md, struct rp_ct_tuple *k)
{
	memset(k, 0, sizeof(*k));
	k->src = md->src;
	k->dst = md->dst;
	k->proto = md->proto;
	if (unlikely(md->kind != RP_PKT_IPV4))
		return PK_INVALID;
	switch (md->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
		break;
	default:
		return PK_LOOKUP; /* generic: addresses and protocol */
	}
	/* fields are filled when only the checksum failed */
	if (unlikely(md->l4_status != RP_L4_OK) &&
	    (md->l4_status != RP_L4_BAD_CSUM || t->checksum))
		return PK_INVALID;
	if (md->proto == IPPROTO_ICMP) {
		uint8_t type = (uint8_t)(md->dport >> 8);

		if (icmp_is_error(type))
			return PK_ICMP_ERROR;
		if (icmp_inverse(type) < 0)
			return PK_INVALID; /* neither query nor error: netfilter tracks nothing */
		k->sport = md->sport;
		k->dport = (uint16_t)(type << 8);
		return PK_LOOKUP;
	}
	if (md->proto == IPPROTO_TCP && unlikely(rp_tcp_flags_invalid(md->tcp_flags)))
		return PK_INVALID;
	k->sport = md->sport;
	k->dport = md->dport;
	return PK_LOOKUP;
}

static inline void
set_invalid(struct rp_ct_table *t, struct rp_meta *md)
{
	md->ct_state = RP_CT_INVALID;
	md->ct_idx = RP_CT_NO_ENTRY;
	md->ct_dir = 0;
	ct_count(t, RP_CT_CNT_INVALID);
}

/* The TCP header of a packet whose L4 parse succeeded, contiguous (copied
 * to @p buf when the mbuf chain splits it). */
static inline int
tcp_seg(const struct rte_mbuf *m, const struct rp_meta *md, struct rp_tcp_seg *seg,
	uint8_t buf[60])
{
	const struct rte_tcp_hdr *th = rte_pktmbuf_read(m, md->l4_off, sizeof(*th), buf);
	if (unlikely(th == NULL))
		return -1;
	uint16_t len = (uint16_t)((th->data_off >> 4) * 4);
	if (unlikely(len < sizeof(*th)))
		return -1;
	if (len > sizeof(*th)) {
		th = rte_pktmbuf_read(m, md->l4_off, len, buf);
		if (unlikely(th == NULL))
			return -1;
	}
	seg->th = th;
	seg->hdr_len = len;
	seg->payload_len = md->l4_payload;
	return 0;
}

/* The timeout of a connection in its present state, in milliseconds. */
static inline uint32_t
entry_timeout_ms(const struct rp_ct_table *t, const struct rp_ct_entry *e, uint32_t now_ms)
{
	switch (e->tuple[0].proto) {
	case IPPROTO_TCP:
		return rp_tcp_timeout(&e->proto.tcp, &t->tcp) * 1000;
	case IPPROTO_UDP:
		/* netfilter: replied and still active 2 s after creation: a stream */
		if ((e->status & RP_CT_S_SEEN_REPLY) &&
		    (int32_t)(now_ms - (e->created + CT_UDP_STREAM_AFTER_MS)) > 0)
			return t->udp_stream_ms;
		return t->udp_ms;
	case IPPROTO_ICMP:
		return t->icmp_ms;
	default:
		return t->generic_ms;
	}
}

/* netfilter's nf_ct_refresh_acct: new timeout and the packet counted. */
static inline void
refresh_acct(struct rp_ct_entry *e, unsigned dir, uint32_t len, uint32_t now_ms, uint32_t tmo_ms)
{
	e->expires = now_ms + tmo_ms;
	e->packets[dir]++;
	e->bytes[dir] += len;
}

/* The state a packet of a known connection gets (netfilter's ctinfo). */
static inline uint8_t
ctinfo_state(const struct rp_ct_entry *e, unsigned dir)
{
	if (dir == 1 || (e->status & RP_CT_S_SEEN_REPLY))
		return RP_CT_ESTABLISHED;
	return (e->status & RP_CT_S_EXPECTED) ? RP_CT_RELATED : RP_CT_NEW;
}

/* While a revalidation runs, a packet of a connection not yet checked against
 * the new ruleset is flagged for the datapath to check it first. */
static inline void
mark_stale(const struct rp_ct_table *t, struct rp_meta *md, const struct rp_ct_entry *e)
{
	if (unlikely(t->reval_active) && e->epoch != t->epoch)
		md->flags |= RP_F_CT_STALE;
}

enum hit_result {
	HIT_DONE,
	HIT_MISS, /**< the entry went away (TCP reopen): classify as a miss */
};

/*
 * A packet of a known connection: run its tracker, update the entry.
 * Returns HIT_MISS when the connection was deleted (a SYN reopening it).
 */
static enum hit_result
classify_hit(struct rp_ct_table *t, struct rte_mbuf *m, struct rp_meta *md, uint32_t idx,
	     unsigned dir, uint32_t now_ms)
{
	struct rp_ct_entry *e = &t->entries[idx];
	uint8_t state = ctinfo_state(e, dir);

	switch (e->tuple[0].proto) {
	case IPPROTO_TCP: {
		uint8_t buf[60];
		struct rp_tcp_seg seg;
		int assured = 0;
		uint8_t old = e->proto.tcp.state;
		enum rp_tcp_verdict v;

		if (unlikely(tcp_seg(m, md, &seg, buf) != 0)) {
			set_invalid(t, md);
			return HIT_DONE;
		}
		v = rp_tcp_packet(&e->proto.tcp, (int)dir, &seg, &assured);
		if (e->proto.tcp.state != old) {
			t->live[0][old]--;
			t->live[0][e->proto.tcp.state]++;
		}
		switch (v) {
		case RP_TCP_ACCEPT:
			if (assured)
				e->status |= RP_CT_S_ASSURED;
			refresh_acct(e, dir, md->ip_len, now_ms, entry_timeout_ms(t, e, now_ms));
			break;
		case RP_TCP_IGNORE:
			break; /* no refresh, no accounting; ctinfo as for any packet */
		case RP_TCP_INVALID:
			set_invalid(t, md);
			return HIT_DONE;
		case RP_TCP_RESTART:
			if (!ct_can_delete(t)) {
				set_invalid(t, md);
				return HIT_DONE;
			}
			ct_delete(t, idx);
			ct_count(t, RP_CT_CNT_RESTARTED);
			return HIT_MISS;
		}
		break;
	}
	case IPPROTO_UDP:
		if ((e->status & RP_CT_S_SEEN_REPLY) &&
		    (int32_t)(now_ms - (e->created + CT_UDP_STREAM_AFTER_MS)) > 0)
			e->status |= RP_CT_S_ASSURED;
		refresh_acct(e, dir, md->ip_len, now_ms, entry_timeout_ms(t, e, now_ms));
		break;
	default: /* ICMP queries and generic protocols */
		refresh_acct(e, dir, md->ip_len, now_ms, entry_timeout_ms(t, e, now_ms));
		break;
	}
	if (dir == 1)
		e->status |= RP_CT_S_SEEN_REPLY;
	md->ct_state = state;
	md->ct_idx = idx;
	md->ct_dir = (uint8_t)dir;
	mark_stale(t, md, e);
	if (state == RP_CT_RELATED)
		ct_count(t, RP_CT_CNT_RELATED);
	return HIT_DONE;
}

/* A packet with no connection: NEW (or RELATED if expected) if it may open one. */
static void
classify_miss(struct rp_ct_table *t, struct rte_mbuf *m, struct rp_meta *md,
	      const struct rp_ct_tuple *k, uint32_t now_ms)
{
	switch (k->proto) {
	case IPPROTO_TCP: {
		uint8_t buf[60];
		struct rp_tcp_seg seg;
		struct rp_tcp_state scratch;

		if (unlikely(tcp_seg(m, md, &seg, buf) != 0) ||
		    rp_tcp_new(&scratch, &seg, t->tcp_loose) != RP_TCP_ACCEPT) {
			set_invalid(t, md);
			return;
		}
		break;
	}
	case IPPROTO_ICMP:
		/* only a request opens; a reply nobody asked for is INVALID */
		if (!icmp_is_request((uint8_t)(k->dport >> 8))) {
			set_invalid(t, md);
			return;
		}
		break;
	default:
		break;
	}
	md->ct_idx = RP_CT_NO_ENTRY;
	md->ct_dir = 0;
	if (t->n_expect && ct_expect_find(t, k, now_ms) >= 0) {
		md->ct_state = RP_CT_RELATED;
		ct_count(t, RP_CT_CNT_RELATED);
	} else {
		md->ct_state = RP_CT_NEW;
	}
}

/*
 * An ICMP error: RELATED to the connection whose packet it quotes, else
 * INVALID. The quote is that packet's IP header and first 8 bytes; the
 * error travels the other way, so the connection is looked up by the
 * quoted tuple inverted, and the error gets that tuple's direction.
 */
static void
classify_icmp_error(struct rp_ct_table *t, struct rte_mbuf *m, struct rp_meta *md)
{
	struct rte_ipv4_hdr ip_buf;
	uint8_t l4_buf[QUOTED_L4_LEN];
	const struct rte_ipv4_hdr *ip;
	const uint8_t *l4;
	struct rp_ct_tuple k;
	uint32_t end = (uint32_t)md->l3_off + md->ip_len; /* the datagram's end */
	uint32_t off = (uint32_t)md->l4_off + ICMP_HDR_LEN;
	void *data;

	if (end > rte_pktmbuf_pkt_len(m) || off + IPV4_HDR_MIN > end)
		goto invalid;
	ip = rte_pktmbuf_read(m, off, IPV4_HDR_MIN, &ip_buf);
	if (ip == NULL || (ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5)
		goto invalid;
	off += (uint32_t)(ip->version_ihl & 0xf) * 4;
	/* a quoted later fragment has no ports to match */
	if (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK)
		goto invalid;

	memset(&k, 0, sizeof(k));
	k.src = rte_be_to_cpu_32(ip->dst_addr);
	k.dst = rte_be_to_cpu_32(ip->src_addr);
	k.proto = ip->next_proto_id;
	switch (k.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
		if (off + QUOTED_L4_LEN > end)
			goto invalid; /* truncated quote */
		l4 = rte_pktmbuf_read(m, off, QUOTED_L4_LEN, l4_buf);
		if (l4 == NULL)
			goto invalid;
		if (k.proto == IPPROTO_ICMP) {
			/* a quoted query: its answer's type; errors about errors are not tracked */
			int inv = icmp_inverse(l4[0]);
			if (inv < 0)
				goto invalid;
			k.sport = (uint16_t)(l4[4] << 8 | l4[5]);
			k.dport = (uint16_t)(inv << 8);
		} else {
			k.sport = (uint16_t)(l4[2] << 8 | l4[3]);
			k.dport = (uint16_t)(l4[0] << 8 | l4[1]);
		}
		break;
	default:
		break;
	}
	if (rte_hash_lookup_with_hash_data(t->hash, &k, ct_hash(&k), &data) < 0)
		goto invalid;
	uint32_t idx = (uint32_t)((uintptr_t)data >> 1);
	if (!entry_live(t, idx))
		goto invalid;
	md->ct_state = RP_CT_RELATED;
	md->ct_idx = idx;
	md->ct_dir = (uint8_t)((uintptr_t)data & 1);
	/* an error about a connection the new rules refuse goes with it */
	mark_stale(t, md, &t->entries[idx]);
	ct_count(t, RP_CT_CNT_RELATED);
	return;
invalid:
	set_invalid(t, md);
}

/* One packet whose lookup is done: @p hit says whether @p data is valid
 * (entry 0's original key has data 0). */
static inline void
classify_one(struct rp_ct_table *t, struct rte_mbuf *m, const struct rp_ct_tuple *k, int hit,
	     void *data, uint32_t now_ms)
{
	struct rp_meta *md = rp_meta(m);

	if (hit) {
		uint32_t idx = (uint32_t)((uintptr_t)data >> 1);

		/* deleted by an earlier packet of this burst (a reopening SYN) */
		if (unlikely(t->entries[idx].status & RP_CT_S_DYING)) {
			hit = rte_hash_lookup_with_hash_data(t->hash, k, ct_hash(k), &data) >= 0;
			idx = (uint32_t)((uintptr_t)data >> 1);
		}
		if (hit &&
		    classify_hit(t, m, md, idx, (unsigned)((uintptr_t)data & 1), now_ms) == HIT_DONE)
			return;
	}
	classify_miss(t, m, md, k, now_ms);
}

void
rp_ct_classify_burst(struct rp_ct_table *t, struct rte_mbuf **pkts, unsigned n, uint32_t now_ms)
{
	struct rp_ct_tuple keys[RTE_HASH_LOOKUP_BULK_MAX];
	const void *key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
	hash_sig_t sigs[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint16_t pkt_of[RTE_HASH_LOOKUP_BULK_MAX];

	while (n > 0) {
		unsigned chunk = RTE_MIN(n, (unsigned)RTE_HASH_LOOKUP_BULK_MAX);
		unsigned nk = 0;
		uint64_t hits = 0;

		for (unsigned i = 0; i < chunk; i++) {
			struct rp_meta *md = rp_meta(pkts[i]);

			md->flags &= (uint16_t)~RP_F_CT_STALE;
			switch (pkt_key(t, md, &keys[nk])) {
			case PK_LOOKUP:
				sigs[nk] = ct_hash(&keys[nk]);
				key_ptrs[nk] = &keys[nk];
				pkt_of[nk] = (uint16_t)i;
				nk++;
				break;
			case PK_ICMP_ERROR:
				classify_icmp_error(t, pkts[i], md);
				break;
			case PK_INVALID:
				set_invalid(t, md);
				break;
			}
		}
		if (nk > 0) {
			rte_hash_lookup_with_hash_bulk_data(t->hash, key_ptrs, sigs, nk, &hits, data);
			for (uint64_t h = hits; h != 0; h &= h - 1) {
				const struct rp_ct_entry *e =
					&t->entries[(uintptr_t)data[__builtin_ctzll(h)] >> 1];
				rte_prefetch0(e);
				rte_prefetch0((const char *)e + RTE_CACHE_LINE_MIN_SIZE);
			}
			for (unsigned k = 0; k < nk; k++)
				classify_one(t, pkts[pkt_of[k]], &keys[k], (int)((hits >> k) & 1),
					     data[k], now_ms);
		}
		pkts += chunk;
		n -= chunk;
	}
}

/* ---- the FTP helper ------------------------------------------------------------- */

/*
 * The helper runs where netfilter's does: on packets the filter accepted
 * (nf_confirm, at the end of POSTROUTING / INPUT), so a dropped segment
 * announces nothing. That is rp_ct_confirm, which the datapath calls for
 * every accepted packet on the worker that owns its connection.
 *
 * Where an expectation lives. Workers are chosen by the address pair, and
 * an announcement is refused unless it names the address of the side that
 * sent it (the FTP bounce rule); the expected connection then runs between
 * the control connection's two addresses (the other side's address as its
 * source, the announced one as its destination), so it is steered to this
 * same worker, and the expectation is registered in this table.
 */

/* Is @p port one of the FTP control ports? */
static inline int
ct_ftp_port(const struct rp_ct_table *t, uint16_t port)
{
	for (unsigned i = 0; i < t->n_ftp_ports; i++)
		if (t->ftp_ports[i] == port)
			return 1;
	return 0;
}

/* Give a new connection its helper's state; without a free one it is tracked unhelped. */
static void
ct_helper_assign(struct rp_ct_table *t, struct rp_ct_entry *e, uint32_t idx)
{
	if (e->helper != RP_CT_HELPER_ID_FTP || t->helper_slot == NULL)
		return;
	if (t->n_ftp_free == 0) {
		e->helper = 0;
		ct_count(t, RP_CT_CNT_FTP_NO_STATE);
		return;
	}
	uint32_t slot = t->ftp_free[--t->n_ftp_free];
	memset(&t->ftp[slot], 0, sizeof(t->ftp[slot]));
	t->helper_slot[idx] = slot + 1;
}

/* One announcement of connection @p idx, sent in direction @p dir: expect its data connection. */
static void
ct_ftp_expect(struct rp_ct_table *t, uint32_t idx, unsigned dir, const struct rp_ftp_announce *a,
	      uint32_t now_ms)
{
	const struct rp_ct_tuple *o = &t->entries[idx].tuple[0];
	/* the sender's address; the other side connects from its own */
	uint32_t sender = dir == 0 ? o->src : o->dst;
	uint32_t other = dir == 0 ? o->dst : o->src;
	uint32_t addr = a->addr != 0 ? a->addr : sender; /* 229 names no address: the server's */
	struct rp_ct_expect x;

	if (addr != sender) {
		ct_count(t, RP_CT_CNT_FTP_BOUNCE);
		return;
	}
	if (a->port == 0) {
		ct_count(t, RP_CT_CNT_FTP_MALFORMED);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.tuple.src = other;
	x.tuple.dst = addr;
	x.tuple.sport = 0; /* any, as netfilter's mask */
	x.tuple.dport = a->port;
	x.tuple.proto = IPPROTO_TCP;
	x.master = idx;
	x.expires = now_ms + RP_CT_FTP_EXPECT_TIMEOUT_S * 1000u;
	x.helper = 0; /* the data connection itself has no helper */
	/* the same address pair as the master: this worker owns it (see above) */
	RTE_ASSERT((x.tuple.src == o->src && x.tuple.dst == o->dst) ||
		   (x.tuple.src == o->dst && x.tuple.dst == o->src));
	(void)ct_expect_insert(t, &x, 0); /* -ENOSPC is counted there */
}

/*
 * A packet of an FTP control connection with payload: feed it to the
 * parser (in chunks, through a stack buffer when the mbuf chain splits it)
 * and expect what it announces.
 */
static void
ct_ftp_help(struct rp_ct_table *t, struct rte_mbuf *m, const struct rp_meta *md, uint32_t now_ms)
{
	const uint32_t idx = md->ct_idx;
	const unsigned dir = md->ct_dir & 1;
	const struct rp_ct_entry *e = &t->entries[idx];
	const struct rp_ct_tuple *k = &e->tuple[dir];
	uint8_t hdr[60], chunk[CT_FTP_CHUNK];
	struct rp_ftp_announce ann[CT_FTP_ANNOUNCE_MAX];
	struct rp_ftp_stats stats;
	struct rp_tcp_seg seg;

	/* still the packet's connection (not deleted and reused within the burst) */
	if (!entry_live(t, idx) || t->helper_slot[idx] == 0 || k->src != md->src ||
	    k->dst != md->dst || k->sport != md->sport || k->dport != md->dport)
		return;
	if (tcp_seg(m, md, &seg, hdr) != 0)
		return;

	uint32_t off = (uint32_t)md->l4_off + seg.hdr_len;
	uint32_t len = md->l4_payload;
	uint32_t end = (uint32_t)md->l3_off + md->ip_len;
	/* never beyond the datagram nor the mbuf */
	if (off > end || len > end - off || end > rte_pktmbuf_pkt_len(m))
		return;
	/* a SYN's sequence number is its own: data starts one after */
	uint32_t seq = rte_be_to_cpu_32(seg.th->sent_seq) + ((seg.th->tcp_flags & RTE_TCP_SYN_FLAG) ? 1 : 0);
	struct rp_ftp_state *st = &t->ftp[t->helper_slot[idx] - 1];

	memset(&stats, 0, sizeof(stats));
	for (uint32_t done = 0; done < len;) {
		uint32_t n = RTE_MIN(len - done, CT_FTP_CHUNK);
		const uint8_t *p = rte_pktmbuf_read(m, off + done, n, chunk);
		if (p == NULL)
			break;
		unsigned got = rp_ftp_parse(st, (int)dir, seq + done, p, n, ann, CT_FTP_ANNOUNCE_MAX,
					    &stats);
		for (unsigned i = 0; i < got; i++)
			ct_ftp_expect(t, idx, dir, &ann[i], now_ms);
		done += n;
	}
	ct_add(t, RP_CT_CNT_FTP_ANNOUNCE, stats.announces);
	ct_add(t, RP_CT_CNT_FTP_MALFORMED, stats.malformed);
	ct_add(t, RP_CT_CNT_FTP_SPLIT, stats.split);
	ct_add(t, RP_CT_CNT_FTP_OVERFLOW, stats.overflow);
}

uint32_t
rp_ct_expected_master(const struct rp_ct_table *t, const struct rte_mbuf *m, uint32_t now_ms)
{
	const struct rp_meta *md = rp_meta((struct rte_mbuf *)(uintptr_t)m);
	struct rp_ct_tuple k;

	if (t == NULL || t->n_expect == 0 || md->ct_state != RP_CT_RELATED ||
	    md->ct_idx != RP_CT_NO_ENTRY || pkt_key(t, md, &k) != PK_LOOKUP)
		return 0;
	int x = ct_expect_find(t, &k, now_ms);
	if (x < 0 || t->expect[x].foreign)
		return 0;
	return t->expect[x].e.master + 1;
}

/* Should the helper read this accepted packet of a known connection? */
static inline int
ct_help_wanted(const struct rp_ct_table *t, const struct rp_meta *md)
{
	return t->helper_slot != NULL && md->l4_payload > 0 && md->proto == IPPROTO_TCP &&
	       md->ct_state != RP_CT_INVALID && md->ct_idx < t->high_water &&
	       t->helper_slot[md->ct_idx] != 0;
}

/* ---- confirmation ---------------------------------------------------------------- */

/* Evict an entry that is not assured (or a closing TCP connection, as
 * netfilter's tcp_can_early_drop), looking at a few entries only, never
 * @p keep. */
static int
ct_early_drop(struct rp_ct_table *t, uint32_t keep)
{
	if (t->high_water == 0 || !ct_can_delete(t))
		return 0;
	for (unsigned i = 0; i < CT_EARLY_DROP_SCAN && i < t->high_water; i++) {
		uint32_t idx = t->drop_cursor;
		const struct rp_ct_entry *e = &t->entries[idx];

		t->drop_cursor = idx + 1 < t->high_water ? idx + 1 : 0;
		if ((e->status & RP_CT_S_DYING) || idx == keep)
			continue;
		if (e->status & RP_CT_S_ASSURED) {
			uint8_t s = entry_tcp_state(e);
			if (e->tuple[0].proto != IPPROTO_TCP || s < RP_TCP_FIN_WAIT || s > RP_TCP_CLOSE)
				continue;
		}
		ct_delete(t, idx);
		ct_count(t, RP_CT_CNT_EARLY_DROP);
		return 1;
	}
	return 0;
}

int
rp_ct_confirm(struct rp_ct_table *t, struct rte_mbuf *m, uint32_t now_ms)
{
	struct rp_meta *md = rp_meta(m);
	struct rp_ct_tuple k;
	void *data;
	uint32_t idx;
	int exp = -1;

	if (md->ct_idx != RP_CT_NO_ENTRY) {
		/* a known connection: its helper reads what the filter let through */
		if (unlikely(ct_help_wanted(t, md)))
			ct_ftp_help(t, m, md, now_ms);
		return 0;
	}
	if (md->ct_state != RP_CT_NEW && md->ct_state != RP_CT_RELATED)
		return 0;
	if (pkt_key(t, md, &k) != PK_LOOKUP)
		return 0;

	hash_sig_t sig0 = ct_hash(&k);
	if (rte_hash_lookup_with_hash_data(t->hash, &k, sig0, &data) >= 0) {
		/* confirmed by an earlier packet of the burst: join it, as
		 * netfilter's clash resolution merges the counters of the loser */
		unsigned dir = (unsigned)((uintptr_t)data & 1);
		idx = (uint32_t)((uintptr_t)data >> 1);
		t->entries[idx].packets[dir]++;
		t->entries[idx].bytes[dir] += md->ip_len;
		md->ct_idx = idx;
		md->ct_dir = (uint8_t)dir;
		return 0;
	}

	if (t->n_expect)
		exp = ct_expect_find(t, &k, now_ms);

	idx = ct_entry_alloc(t);
	if (idx == RP_CT_NO_ENTRY) {
		/* with RCU the victim comes back only after a grace period: the
		 * reserve kept from now on is what lets later packets in */
		t->pressure = t->reserve > 0;
		if (ct_early_drop(t, RP_CT_NO_ENTRY))
			idx = ct_entry_alloc(t);
	}
	if (idx == RP_CT_NO_ENTRY) {
		ct_count(t, RP_CT_CNT_TABLE_FULL);
		return -ENOSPC;
	}

	struct rp_ct_entry *e = &t->entries[idx];
	memset(e, 0, sizeof(*e));
	e->tuple[0] = k;
	tuple_reply(&k, &e->tuple[1]);
	if (k.proto == IPPROTO_TCP) {
		uint8_t buf[60];
		struct rp_tcp_seg seg;

		/* the same packet as classify saw: the same answer */
		if (tcp_seg(m, md, &seg, buf) != 0 ||
		    rp_tcp_new(&e->proto.tcp, &seg, t->tcp_loose) != RP_TCP_ACCEPT)
			goto give_back;
	}
	if (exp >= 0) {
		const struct ct_expect_slot *s = &t->expect[exp];
		e->status = RP_CT_S_EXPECTED;
		e->master = s->foreign ? 0 : s->e.master + 1;
		e->helper = s->e.helper;
	} else if (unlikely(t->helper_slot != NULL) && k.proto == IPPROTO_TCP &&
		   ct_ftp_port(t, k.dport)) {
		e->helper = RP_CT_HELPER_ID_FTP; /* a control connection: by its server port */
	}
	e->created = now_ms;
	e->epoch = t->epoch; /* allowed by the rules in force */
	e->packets[0] = 1;
	e->bytes[0] = md->ip_len;
	e->expires = now_ms + entry_timeout_ms(t, e, now_ms);

	if (rte_hash_add_key_with_hash_data(t->hash, &e->tuple[0], sig0, key_data(idx, 0)) < 0)
		goto give_back;
	if (!tuple_eq(&e->tuple[0], &e->tuple[1]) &&
	    rte_hash_add_key_with_hash_data(t->hash, &e->tuple[1], ct_hash(&e->tuple[1]),
					    key_data(idx, 1)) < 0) {
		/* not reachable: a free entry has two free key slots */
		int32_t pos = rte_hash_del_key_with_hash(t->hash, &e->tuple[0], sig0);
		if (pos >= 0)
			rte_hash_free_key_with_position(t->hash, pos);
		goto give_back;
	}

	if (exp >= 0) {
		ct_expect_remove(t, (uint32_t)exp);
		ct_count(t, RP_CT_CNT_EXPECT_MATCHED);
	}
	t->live[proto_slot(k.proto)][entry_tcp_state(e)]++;
	ct_set_count(t, t->count + 1);
	ct_count(t, RP_CT_CNT_INSERTED);
	md->ct_idx = idx;
	md->ct_dir = 0;
	if (unlikely(e->helper != 0)) {
		ct_helper_assign(t, e, idx);
		if (ct_help_wanted(t, md)) /* data on the SYN (TCP Fast Open) */
			ct_ftp_help(t, m, md, now_ms);
	}

	/* under pressure, keep `reserve` entries free ahead of need */
	if (t->pressure && t->max - t->high_water + t->n_free < t->reserve)
		ct_early_drop(t, idx);
	return 0;

give_back:
	e->status = RP_CT_S_DYING;
	entry_dead(e)->pos[0] = -1;
	entry_dead(e)->pos[1] = -1;
	ct_entry_release(t, idx);
	ct_count(t, RP_CT_CNT_TABLE_FULL);
	return -ENOSPC;
}

/* ---- expiry ---------------------------------------------------------------- */

unsigned
rp_ct_expire(struct rp_ct_table *t, uint32_t now_ms, unsigned budget)
{
	unsigned expired = 0;
	uint32_t c = t->expire_cursor;

	ct_reclaim(t);
	if (t->pressure && t->max - t->high_water + t->n_free >= 2 * t->reserve)
		t->pressure = 0; /* room again without evicting */
	if (t->n_expect)
		ct_expect_expire(t, now_ms);
	if (t->high_water == 0)
		return 0;
	if (c >= t->high_water)
		c = 0;
	for (unsigned i = 0; i < budget && i < t->high_water; i++) {
		uint32_t ahead = c + CT_PREFETCH_AHEAD;
		if (ahead < t->high_water)
			rte_prefetch0(&t->entries[ahead]);

		struct rp_ct_entry *e = &t->entries[c];
		if ((int32_t)(now_ms - e->expires) >= 0 && !(e->status & RP_CT_S_DYING)) {
			if (!ct_can_delete(t))
				break; /* wait for a grace period */
			ct_delete(t, c);
			ct_count(t, RP_CT_CNT_EXPIRED);
			expired++;
		}
		c = c + 1 < t->high_water ? c + 1 : 0;
	}
	t->expire_cursor = c;
	return expired;
}

/* ---- access ---------------------------------------------------------------- */

struct rp_ct_entry *
rp_ct_entry_get(struct rp_ct_table *t, uint32_t idx)
{
	if (t == NULL || !entry_live(t, idx))
		return NULL;
	return &t->entries[idx];
}

/* ---- revalidation ------------------------------------------------------------ */

void
rp_ct_reval_begin(struct rp_ct_table *t)
{
	/* 16 bits: an entry could pass for checked only after 65536 new epochs
	 * none of whose walks reached it */
	t->epoch++;
	t->reval_cursor = 0;
	t->reval_active = 1;
}

void
rp_ct_reval_stop(struct rp_ct_table *t)
{
	t->reval_active = 0;
}

int
rp_ct_reval_active(const struct rp_ct_table *t)
{
	return t != NULL && t->reval_active;
}

unsigned
rp_ct_reval_next(struct rp_ct_table *t, uint32_t *idx, unsigned max, unsigned budget)
{
	uint32_t c = t->reval_cursor;
	unsigned n = 0;

	if (!t->reval_active || max == 0)
		return 0;
	if (t->dq != NULL) {
		/* hand out no more than can be deleted now, so a refusal never waits */
		if (t->dq_pending + max > t->dq_cap)
			ct_reclaim(t);
		if (t->dq_pending >= t->dq_cap)
			return 0;
		max = RTE_MIN(max, t->dq_cap - t->dq_pending);
	}
	for (unsigned i = 0; i < budget && c < t->high_water && n < max; i++, c++) {
		uint32_t ahead = c + CT_PREFETCH_AHEAD;
		if (ahead < t->high_water)
			rte_prefetch0(&t->entries[ahead]);

		const struct rp_ct_entry *e = &t->entries[c];
		if (!(e->status & RP_CT_S_DYING) && e->epoch != t->epoch)
			idx[n++] = c;
	}
	t->reval_cursor = c;
	if (c >= t->high_water)
		t->reval_active = 0; /* the caller settles the last ones now */
	return n;
}

void
rp_ct_reval_keep(struct rp_ct_table *t, uint32_t idx)
{
	if (entry_live(t, idx))
		t->entries[idx].epoch = t->epoch;
}

int
rp_ct_reval_refuse(struct rp_ct_table *t, uint32_t idx)
{
	if (!entry_live(t, idx))
		return -ENOENT;
	if (!ct_can_delete(t)) {
		/* still stale: the walk comes back for it */
		if (idx < t->reval_cursor || !t->reval_active)
			t->reval_cursor = idx;
		t->reval_active = 1;
		return -EBUSY;
	}
	ct_delete(t, idx);
	ct_count(t, RP_CT_CNT_REVALIDATE_DELETED);
	return 0;
}

uint64_t
rp_ct_counter(const struct rp_ct_table *t, enum rp_ct_counter c)
{
	if (t == NULL || (unsigned)c >= RP_CT_CNT_MAX)
		return 0;
	return __atomic_load_n(&t->counters[c], __ATOMIC_RELAXED);
}

uint32_t
rp_ct_count(const struct rp_ct_table *t)
{
	return t == NULL ? 0 : __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

void
rp_ct_count_event(struct rp_ct_table *t, enum rp_ct_counter c)
{
	if (t != NULL && (unsigned)c < RP_CT_CNT_MAX)
		ct_count(t, c);
}

/* ---- mailbox (served by the worker) ------------------------------------------------ */

static int
filter_match(const struct rp_ct_filter *f, const struct rp_ct_entry *e)
{
	if (f->proto && e->tuple[0].proto != f->proto)
		return 0;
	if (f->tcp_state && (e->tuple[0].proto != IPPROTO_TCP || e->proto.tcp.state != f->tcp_state))
		return 0;
	if (f->src && e->tuple[0].src != f->src)
		return 0;
	if (f->dst && e->tuple[0].dst != f->dst)
		return 0;
	return 1;
}

static void
info_fill(const struct rp_ct_table *t, struct rp_ct_info *o, const struct rp_ct_entry *e,
	  uint32_t idx, uint32_t now_ms)
{
	int32_t left = (int32_t)(e->expires - now_ms);

	memset(o, 0, sizeof(*o));
	o->tuple[0] = e->tuple[0];
	o->tuple[1] = e->tuple[1];
	o->bytes[0] = e->bytes[0];
	o->bytes[1] = e->bytes[1];
	o->packets[0] = e->packets[0];
	o->packets[1] = e->packets[1];
	o->timeout_s = left > 0 ? (uint32_t)left / 1000 : 0;
	o->tcp_state = entry_tcp_state(e);
	o->status = e->status;
	o->helper = e->helper;
	o->idx = idx;
	o->master = e->master;
	if (e->master != 0 && entry_live(t, e->master - 1))
		o->master_tuple = t->entries[e->master - 1].tuple[0];
	/* o->worker: the control thread knows whose mailbox it posted to */
}

/* Copy matching connections from mb->cursor on, looking at a bounded number. */
static void
serve_list(struct rp_ct_table *t, struct rp_ct_mailbox *mb, uint32_t now_ms)
{
	uint32_t want = RTE_MIN(mb->max, (uint32_t)RP_CT_LIST_PAGE);
	uint32_t c = mb->cursor, copied = 0;
	uint32_t stop = c < t->high_water && t->high_water - c > CT_LIST_SCAN_MAX
				? c + CT_LIST_SCAN_MAX
				: t->high_water;

	if (mb->out == NULL) {
		mb->result = -EINVAL;
		return;
	}
	for (; c < stop && copied < want; c++) {
		const struct rp_ct_entry *e = &t->entries[c];

		if (!(e->status & RP_CT_S_DYING) && filter_match(&mb->filter, e))
			info_fill(t, &mb->out[copied++], e, c, now_ms);
	}
	mb->cursor = c >= t->high_water ? UINT32_MAX : c;
	mb->result = (int32_t)copied;
}

static void
serve_delete(struct rp_ct_table *t, struct rp_ct_mailbox *mb)
{
	struct rp_ct_tuple k = mb->tuple;
	void *data;

	memset(k.pad, 0, sizeof(k.pad));
	if (rte_hash_lookup_with_hash_data(t->hash, &k, ct_hash(&k), &data) < 0) {
		mb->result = -ENOENT;
		return;
	}
	if (!ct_can_delete(t)) {
		mb->result = -EBUSY; /* post again after a grace period */
		return;
	}
	ct_delete(t, (uint32_t)((uintptr_t)data >> 1));
	mb->result = 0;
}

/*
 * Delete every connection, a bounded number of entries per call. The table
 * keeps the cursor of a flush in progress, so the control thread only posts
 * FLUSH again while the result is positive (connections left); 0 = done.
 */
static void
serve_flush(struct rp_ct_table *t, struct rp_ct_mailbox *mb)
{
	uint32_t c = t->flush_cursor;
	uint32_t stop = t->high_water - RTE_MIN(t->high_water, c) > CT_FLUSH_SCAN_MAX
				? c + CT_FLUSH_SCAN_MAX
				: t->high_water;

	/* expectations go with their masters */
	while (t->n_expect > 0) {
		ct_expect_remove(t, t->n_expect - 1);
		ct_count(t, RP_CT_CNT_EXPECT_EXPIRED);
	}
	for (; c < stop; c++) {
		if (t->entries[c].status & RP_CT_S_DYING)
			continue;
		if (!ct_can_delete(t))
			break; /* the defer queue is full: go on after a grace period */
		ct_delete(t, c);
	}
	if (c >= t->high_water || t->count == 0) {
		t->flush_cursor = 0;
		mb->cursor = UINT32_MAX;
		mb->result = 0;
	} else {
		t->flush_cursor = c;
		mb->cursor = c;
		mb->result = (int32_t)RTE_MIN(t->count, (uint32_t)INT32_MAX);
	}
}

/* Copy the expectations from slot mb->cursor on (the whole table fits a page). */
static void
serve_expect_list(struct rp_ct_table *t, struct rp_ct_mailbox *mb, uint32_t now_ms)
{
	uint32_t want = RTE_MIN(mb->max, (uint32_t)RP_CT_LIST_PAGE);
	uint32_t c = mb->cursor, copied = 0;

	if (mb->xout == NULL) {
		mb->result = -EINVAL;
		return;
	}
	for (; c < t->n_expect && copied < want; c++) {
		const struct ct_expect_slot *s = &t->expect[c];
		struct rp_ct_expect_info *o = &mb->xout[copied++];
		int32_t left = (int32_t)(s->e.expires - now_ms);

		memset(o, 0, sizeof(*o));
		o->tuple = s->e.tuple;
		o->timeout_s = left > 0 ? (uint32_t)left / 1000 : 0;
		if (!s->foreign && entry_live(t, s->e.master)) {
			o->master = s->e.master + 1;
			o->master_tuple = t->entries[s->e.master].tuple[0];
			o->helper = t->entries[s->e.master].helper;
		}
	}
	mb->cursor = c >= t->n_expect ? UINT32_MAX : c;
	mb->result = (int32_t)copied;
}

static void
serve_count(struct rp_ct_table *t, struct rp_ct_mailbox *mb)
{
	memcpy(mb->counts, t->live, sizeof(mb->counts));
	mb->result = (int32_t)RTE_MIN(t->count, (uint32_t)INT32_MAX);
}

void
rp_ct_mailbox_serve(struct rp_ct_table *t, struct rp_ct_mailbox *mb, uint32_t now_ms)
{
	if (likely(__atomic_load_n(&mb->state, __ATOMIC_RELAXED) != RP_CT_MB_POSTED))
		return;
	/* pairs with the control thread's release store of POSTED */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	switch (mb->type) {
	case RP_CT_REQ_LIST:
		serve_list(t, mb, now_ms);
		break;
	case RP_CT_REQ_DELETE:
		serve_delete(t, mb);
		break;
	case RP_CT_REQ_FLUSH:
		serve_flush(t, mb);
		break;
	case RP_CT_REQ_COUNT:
		serve_count(t, mb);
		break;
	case RP_CT_REQ_EXPECT:
		/* from another worker: its master is not in this table */
		mb->result = ct_expect_insert(t, &mb->expect, 1);
		break;
	case RP_CT_REQ_EXPECT_LIST:
		serve_expect_list(t, mb, now_ms);
		break;
	default:
		mb->result = -EINVAL;
		break;
	}
	__atomic_store_n(&mb->state, RP_CT_MB_DONE, __ATOMIC_RELEASE);
}
