/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour (ARP) table.
 *
 * One writer, the control thread; workers read without locks:
 *
 *  - an rte_hash keyed by the IPv4 address (host order), created with
 *    RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, gives each entry a key
 *    position; every other array is indexed by that position;
 *  - l2[pos] is the only word workers read: MAC, port and RP_L2_VALID,
 *    stored with release and loaded with acquire, 0 while unresolved;
 *  - used[worker][pos] is the only thing workers write, each worker its own
 *    cache-aligned row; the control thread reads and clears the marks when
 *    it ages entries;
 *  - a deleted key's position goes back to the hash through the workers'
 *    QSBR variable (rte_hash_rcu_qsbr_add, defer-queue mode), so no worker
 *    that found the old key can read a new entry's l2 word at that position.
 *    Without a QSBR variable (unit tests, no concurrent readers) the control
 *    thread frees the position itself at once.
 *
 * Everything else (state, timers, held packets) is control-thread only, in
 * ordinary heap memory. A timer fires once its interval has fully elapsed
 * (now - since >= interval). Listings go in key-position order, which is
 * stable while the table does not change.
 *
 * Learning follows Linux's arp_process() with arp_accept=0: a request for
 * one of our addresses creates or refreshes the sender's entry; replies and
 * other ARP (gratuitous, requests for other hosts) only update an entry that
 * exists; static entries are never changed by ARP.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "rampart_route.h"

/* Defaults, as Linux's (base_reachable_time, retrans_time, mcast_solicit,
 * unres_qlen_bytes in packets, gc_staletime). */
#define NEIGH_DEF_REACHABLE_MS 30000u
#define NEIGH_DEF_RETRANS_MS 1000u
#define NEIGH_DEF_PROBES 3u
#define NEIGH_DEF_HOLD 16u
#define NEIGH_DEF_GC_STALE_MS 60000u

#define NEIGH_HOLD_MAX 65535u /**< held counters are 16 bits */
#define NEIGH_HASH_MIN 8u         /**< rte_hash refuses fewer entries (one bucket) */
/* DPDK derives ring names from the table's name ("HASH_RCU_<name>" for the
 * defer queue, at most RTE_RING_NAMESIZE - 1 characters); a longer name
 * would be cut and could collide with another table's. */
#define NEIGH_NAME_MAX (RTE_RING_NAMESIZE - 1 - (sizeof("HASH_RCU_") - 1))

/* Control-thread state of one entry. */
struct neigh_entry {
	uint32_t ip;
	bool in_use;
	uint8_t state;       /**< enum rp_neigh_state */
	uint8_t port;
	uint8_t probes_sent; /**< requests sent in this INCOMPLETE or PROBE round */
	struct rte_ether_addr mac;
	uint16_t held_first; /**< ring index of the oldest held packet */
	uint16_t held_count;
	uint64_t confirmed_ms; /**< last confirmation, or creation while INCOMPLETE */
	uint64_t sent_ms;      /**< last request sent */
};

struct rp_neigh_table {
	/* Read by workers, written only while the table is built. */
	struct rte_hash *hash;
	uint64_t *l2;        /**< [capacity] the workers' word, by key position */
	uint8_t *used;       /**< n_workers rows of used_stride bytes */
	size_t used_stride;  /**< a whole number of cache lines */
	unsigned n_workers;

	/* Control thread only, apart from the workers' lines. */
	unsigned capacity __rte_cache_aligned; /**< key positions */
	unsigned max;        /**< entries allowed */
	unsigned count;      /**< entries in use */
	bool reclaim_by_rcu; /**< key positions come back through the QSBR defer queue */
	struct neigh_entry *entries; /**< [capacity] */
	struct rte_mbuf **held;      /**< [capacity][hold_cap] rings of held packets */
	unsigned hold_cap;
	unsigned reachable_ms;
	unsigned retrans_ms;
	unsigned probes;
	unsigned gc_stale_ms;
	struct rp_neigh_ops ops;
};

static const char *const neigh_state_names[] = {
	[RP_NEIGH_INCOMPLETE] = "INCOMPLETE",
	[RP_NEIGH_REACHABLE] = "REACHABLE",
	[RP_NEIGH_PROBE] = "PROBE",
	[RP_NEIGH_PERMANENT] = "PERMANENT",
};

const char *
rp_neigh_state_name(enum rp_neigh_state s)
{
	if ((unsigned)s >= RTE_DIM(neigh_state_names))
		return "UNKNOWN";
	return neigh_state_names[s];
}

static unsigned
neigh_capacity(unsigned max)
{
	return RTE_MAX(max, NEIGH_HASH_MIN);
}

static size_t
neigh_used_stride(unsigned capacity)
{
	return RTE_ALIGN_CEIL((size_t)capacity, RTE_CACHE_LINE_SIZE);
}

size_t
rp_neigh_mem_size(unsigned max, unsigned n_workers)
{
	/* What rte_hash_create, rte_hash_rcu_qsbr_add and rp_neigh_create
	 * allocate, by the sizes DPDK 22.11 uses. */
	const size_t cap = neigh_capacity(max);
	const size_t slots = cap + 1; /* rte_hash keeps slot 0 for "miss" */
	const size_t buckets = rte_align32pow2((uint32_t)cap) / 8;
	size_t sz = 0;

	sz += 2 * buckets * 64;                              /* buckets + extension buckets */
	sz += slots * 16;                                    /* key store: 4-byte key + data pointer */
	sz += rte_align32pow2((uint32_t)slots) * 4;          /* free key slots ring */
	sz += rte_align32pow2((uint32_t)buckets + 1) * 4;    /* free extension buckets ring */
	sz += slots * 4;                                     /* extension buckets to free */
	sz += rte_align32pow2((uint32_t)slots + 1) * 16;     /* RCU defer queue: token + entry */
	sz += cap * sizeof(uint64_t);                        /* l2 words */
	sz += (size_t)n_workers * neigh_used_stride((unsigned)cap); /* used marks */
	return sz + (64u << 10); /* structures, ring headers, allocator overhead */
}

/* ---- Worker side --------------------------------------------------------- */

void
rp_neigh_lookup_bulk(struct rp_neigh_table *t, unsigned worker, const uint32_t *ips,
		     uint64_t *l2, unsigned n)
{
	uint8_t *used = t->used + worker * t->used_stride;
	const void *keys[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t positions[RTE_HASH_LOOKUP_BULK_MAX];

	while (n > 0) {
		unsigned chunk = RTE_MIN(n, (unsigned)RTE_HASH_LOOKUP_BULK_MAX);

		for (unsigned i = 0; i < chunk; i++)
			keys[i] = &ips[i];
		rte_hash_lookup_bulk(t->hash, keys, chunk, positions);
		for (unsigned i = 0; i < chunk; i++) {
			int32_t pos = positions[i];
			uint64_t word = 0;

			if (pos >= 0) {
				word = __atomic_load_n(&t->l2[pos], __ATOMIC_ACQUIRE);
				/* Write the mark only when it changes: the line
				 * stays clean in the common case. */
				if (word != 0 && __atomic_load_n(&used[pos], __ATOMIC_RELAXED) == 0)
					__atomic_store_n(&used[pos], 1, __ATOMIC_RELAXED);
			}
			l2[i] = word;
		}
		ips += chunk;
		l2 += chunk;
		n -= chunk;
	}
}

/* ---- Control side: construction ------------------------------------------ */

static struct rte_mbuf **
neigh_held_alloc(unsigned capacity, unsigned hold_cap)
{
	/* calloc(0) may return NULL: keep one slot so NULL means failure. */
	return calloc(RTE_MAX((size_t)capacity * hold_cap, (size_t)1), sizeof(struct rte_mbuf *));
}

struct rp_neigh_table *
rp_neigh_create(const char *name, unsigned max, unsigned n_workers, struct rte_rcu_qsbr *qsv,
		int socket, const struct rp_neigh_ops *ops)
{
	struct rte_hash_parameters hash_params;
	struct rp_neigh_table *t;
	unsigned capacity;

	if (name == NULL || max == 0 || max > RTE_HASH_ENTRIES_MAX || n_workers == 0 ||
	    n_workers > RP_MAX_WORKERS || ops == NULL || ops->send_request == NULL ||
	    ops->release == NULL || ops->drop == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (strlen(name) > NEIGH_NAME_MAX) {
		rte_errno = ENAMETOOLONG;
		return NULL;
	}
	capacity = neigh_capacity(max);

	t = rte_zmalloc_socket("rp_neigh", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->capacity = capacity;
	t->max = max;
	t->n_workers = n_workers;
	t->ops = *ops;
	t->hold_cap = NEIGH_DEF_HOLD;
	t->reachable_ms = NEIGH_DEF_REACHABLE_MS;
	t->retrans_ms = NEIGH_DEF_RETRANS_MS;
	t->probes = NEIGH_DEF_PROBES;
	t->gc_stale_ms = NEIGH_DEF_GC_STALE_MS;

	t->l2 = rte_zmalloc_socket("rp_neigh_l2", capacity * sizeof(uint64_t),
				   RTE_CACHE_LINE_SIZE, socket);
	t->used_stride = neigh_used_stride(capacity);
	t->used = rte_zmalloc_socket("rp_neigh_used", n_workers * t->used_stride,
				     RTE_CACHE_LINE_SIZE, socket);
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->held = neigh_held_alloc(capacity, t->hold_cap);
	if (t->l2 == NULL || t->used == NULL || t->entries == NULL || t->held == NULL) {
		rte_errno = ENOMEM;
		goto free_table;
	}

	memset(&hash_params, 0, sizeof(hash_params));
	hash_params.name = name;
	hash_params.entries = capacity;
	hash_params.key_len = sizeof(uint32_t);
	hash_params.socket_id = socket;
	/* EXT_TABLE: the table holds `capacity` keys whatever their hashes. */
	hash_params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
				 RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->hash = rte_hash_create(&hash_params);
	if (t->hash == NULL) {
		if (rte_errno == 0)
			rte_errno = ENOMEM;
		goto free_table;
	}

	if (qsv != NULL) {
		struct rte_hash_rcu_config rcu = {
			.v = qsv,
			.mode = RTE_HASH_QSBR_MODE_DQ,
		};

		if (rte_hash_rcu_qsbr_add(t->hash, &rcu) != 0) {
			if (rte_errno == 0)
				rte_errno = ENOMEM;
			goto free_table;
		}
		t->reclaim_by_rcu = true;
	}
	return t;

free_table:
	rte_hash_free(t->hash);
	free(t->held);
	free(t->entries);
	rte_free(t->used);
	rte_free(t->l2);
	rte_free(t);
	return NULL;
}

void
rp_neigh_free(struct rp_neigh_table *t)
{
	if (t == NULL)
		return;
	for (unsigned pos = 0; pos < t->capacity; pos++) {
		struct neigh_entry *e = &t->entries[pos];

		for (unsigned k = 0; k < e->held_count; k++)
			rte_pktmbuf_free(t->held[pos * t->hold_cap +
						 (e->held_first + k) % t->hold_cap]);
	}
	rte_hash_free(t->hash);
	free(t->held);
	free(t->entries);
	rte_free(t->used);
	rte_free(t->l2);
	rte_free(t);
}

/* ---- Control side: entries and held packets ------------------------------ */

static uint64_t
neigh_elapsed(uint64_t now_ms, uint64_t since_ms)
{
	return now_ms > since_ms ? now_ms - since_ms : 0;
}

static struct rte_mbuf **
neigh_held_slot(struct rp_neigh_table *t, unsigned pos, unsigned k)
{
	const struct neigh_entry *e = &t->entries[pos];

	return &t->held[(size_t)pos * t->hold_cap + (e->held_first + k) % t->hold_cap];
}

static struct rte_mbuf *
neigh_held_pop(struct rp_neigh_table *t, unsigned pos)
{
	struct neigh_entry *e = &t->entries[pos];
	struct rte_mbuf **slot = neigh_held_slot(t, pos, 0);
	struct rte_mbuf *m = *slot;

	*slot = NULL;
	e->held_first = (uint16_t)((e->held_first + 1) % t->hold_cap);
	e->held_count--;
	return m;
}

/* Queue @p m; a full queue loses its oldest packet, as Linux's does. */
static void
neigh_held_push(struct rp_neigh_table *t, unsigned pos, struct rte_mbuf *m)
{
	struct neigh_entry *e = &t->entries[pos];

	if (t->hold_cap == 0) {
		t->ops.drop(t->ops.arg, m, RP_DROP_NEIGH_HOLD_FULL);
		return;
	}
	if (e->held_count == t->hold_cap)
		t->ops.drop(t->ops.arg, neigh_held_pop(t, pos), RP_DROP_NEIGH_HOLD_FULL);
	*neigh_held_slot(t, pos, e->held_count) = m;
	e->held_count++;
}

/* Send what waited for this entry, oldest first. */
static void
neigh_held_release(struct rp_neigh_table *t, unsigned pos)
{
	uint64_t word = __atomic_load_n(&t->l2[pos], __ATOMIC_RELAXED);

	while (t->entries[pos].held_count > 0)
		t->ops.release(t->ops.arg, neigh_held_pop(t, pos), word);
}

static void
neigh_held_drop(struct rp_neigh_table *t, unsigned pos, enum rp_drop reason)
{
	while (t->entries[pos].held_count > 0)
		t->ops.drop(t->ops.arg, neigh_held_pop(t, pos), reason);
}

static void
neigh_publish(struct rp_neigh_table *t, unsigned pos)
{
	const struct neigh_entry *e = &t->entries[pos];
	uint64_t word = rp_l2_make(&e->mac, e->port);

	/* Only this thread writes the word: a relaxed read sees its own value. */
	if (__atomic_load_n(&t->l2[pos], __ATOMIC_RELAXED) != word)
		__atomic_store_n(&t->l2[pos], word, __ATOMIC_RELEASE);
}

/* Read and clear every worker's mark of @p pos. */
static bool
neigh_take_used(struct rp_neigh_table *t, unsigned pos)
{
	bool used = false;

	for (unsigned w = 0; w < t->n_workers; w++) {
		uint8_t *mark = &t->used[w * t->used_stride + pos];

		/* Only a set mark is written back: clearing a clear one would
		 * steal the worker's cache line on every tick. Exchange, not
		 * load + store, so that a mark set in between is not lost. */
		if (__atomic_load_n(mark, __ATOMIC_RELAXED) != 0 &&
		    __atomic_exchange_n(mark, 0, __ATOMIC_RELAXED) != 0)
			used = true;
	}
	return used;
}

static int
neigh_find(const struct rp_neigh_table *t, uint32_t ip)
{
	return rte_hash_lookup(t->hash, &ip);
}

/* A new entry, all zero but its address. @return its position or -errno. */
static int
neigh_new(struct rp_neigh_table *t, uint32_t ip, uint64_t now_ms)
{
	struct neigh_entry *e;
	int pos;

	if (t->count >= t->max)
		return -ENOSPC;
	pos = rte_hash_add_key(t->hash, &ip);
	if (pos < 0)
		return pos;

	/* Marks left by workers that still held the position's previous key
	 * (before their grace period ended) are not about this entry. */
	for (unsigned w = 0; w < t->n_workers; w++)
		__atomic_store_n(&t->used[w * t->used_stride + pos], 0, __ATOMIC_RELAXED);

	e = &t->entries[pos];
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->in_use = true;
	e->confirmed_ms = now_ms;
	t->count++;
	return pos;
}

static void
neigh_delete(struct rp_neigh_table *t, unsigned pos)
{
	struct neigh_entry *e = &t->entries[pos];
	int32_t ret;

	/* Workers that still find the key see "unresolved" from now on. */
	__atomic_store_n(&t->l2[pos], 0, __ATOMIC_RELEASE);
	neigh_held_drop(t, pos, RP_DROP_NEIGH_UNRESOLVED);

	ret = rte_hash_del_key(t->hash, &e->ip);
	if (ret >= 0 && !t->reclaim_by_rcu)
		rte_hash_free_key_with_position(t->hash, ret);
	e->in_use = false;
	t->count--;
}

/* ---- Control side: API --------------------------------------------------- */

void
rp_neigh_set_timing(struct rp_neigh_table *t, unsigned reachable_ms, unsigned retrans_ms,
		    unsigned probes, unsigned hold_packets, unsigned gc_stale_ms)
{
	t->reachable_ms = reachable_ms;
	t->retrans_ms = retrans_ms;
	t->probes = RTE_MIN(probes, (unsigned)UINT8_MAX);
	t->gc_stale_ms = gc_stale_ms;

	hold_packets = RTE_MIN(hold_packets, NEIGH_HOLD_MAX);
	if (hold_packets == t->hold_cap)
		return;

	struct rte_mbuf **held = neigh_held_alloc(t->capacity, hold_packets);
	if (held == NULL) {
		RTE_LOG(ERR, USER1, "%s(): no memory for %u held packets a neighbour, keeping %u\n",
			__func__, hold_packets, t->hold_cap);
		return;
	}
	/* Move what waits into the new rings; a smaller queue keeps the newest. */
	for (unsigned pos = 0; pos < t->capacity; pos++) {
		struct neigh_entry *e = &t->entries[pos];
		unsigned k = 0;

		while (e->held_count > hold_packets)
			t->ops.drop(t->ops.arg, neigh_held_pop(t, pos), RP_DROP_NEIGH_HOLD_FULL);
		while (e->held_count > 0)
			held[(size_t)pos * hold_packets + k++] = neigh_held_pop(t, pos);
		e->held_first = 0;
		e->held_count = (uint16_t)k;
	}
	free(t->held);
	t->held = held;
	t->hold_cap = hold_packets;
}

int
rp_neigh_add_static(struct rp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
		    uint8_t port)
{
	struct neigh_entry *e;
	int pos;

	if (mac == NULL)
		return -EINVAL;
	pos = neigh_find(t, ip);
	if (pos < 0) {
		pos = neigh_new(t, ip, 0);
		if (pos < 0)
			return pos;
	}
	e = &t->entries[pos];
	e->state = RP_NEIGH_PERMANENT;
	e->mac = *mac;
	e->port = port;
	e->probes_sent = 0;
	neigh_publish(t, pos);
	/* Packets wait only while INCOMPLETE: now they can go. */
	neigh_held_release(t, pos);
	return 0;
}

int
rp_neigh_learn(struct rp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
	       uint8_t port, enum rp_arp_learn how, uint64_t now_ms)
{
	struct neigh_entry *e;
	int pos;

	/* 0.0.0.0 is a duplicate-address probe; a group or zero MAC is no
	 * host's. Neither names a neighbour. */
	if (ip == 0 || mac == NULL || !rte_is_unicast_ether_addr(mac) ||
	    rte_is_zero_ether_addr(mac))
		return -ENOENT;

	pos = neigh_find(t, ip);
	if (pos < 0) {
		/* arp_accept=0: only a request aimed at us creates an entry. */
		if (how != RP_ARP_REQUEST_FOR_US)
			return -ENOENT;
		pos = neigh_new(t, ip, now_ms);
		if (pos < 0)
			return pos;
	}
	e = &t->entries[pos];
	if (e->state == RP_NEIGH_PERMANENT)
		return -ENOENT;

	e->state = RP_NEIGH_REACHABLE;
	e->mac = *mac;
	e->port = port;
	e->confirmed_ms = now_ms;
	e->probes_sent = 0;
	neigh_publish(t, pos);
	/* An INCOMPLETE entry resolved: its packets go, oldest first. */
	neigh_held_release(t, pos);
	return 0;
}

void
rp_neigh_hold(struct rp_neigh_table *t, uint32_t nexthop, uint8_t port, struct rte_mbuf *m,
	      uint64_t now_ms)
{
	struct neigh_entry *e;
	int pos;

	pos = neigh_find(t, nexthop);
	if (pos >= 0) {
		e = &t->entries[pos];
		if (e->state == RP_NEIGH_INCOMPLETE)
			neigh_held_push(t, pos, m);
		else /* resolved while the packet was on its way to us */
			t->ops.release(t->ops.arg, m,
				       __atomic_load_n(&t->l2[pos], __ATOMIC_RELAXED));
		return;
	}

	pos = neigh_new(t, nexthop, now_ms);
	if (pos < 0) {
		/* table full: nothing can resolve this next hop */
		t->ops.drop(t->ops.arg, m, RP_DROP_NEIGH_UNRESOLVED);
		return;
	}
	e = &t->entries[pos];
	e->state = RP_NEIGH_INCOMPLETE;
	e->port = port;
	e->probes_sent = 1;
	e->sent_ms = now_ms;
	neigh_held_push(t, pos, m);
	t->ops.send_request(t->ops.arg, port, nexthop, NULL);
}

/* INCOMPLETE or PROBE: retransmit, or give up after the last request. */
static void
neigh_tick_retrans(struct rp_neigh_table *t, unsigned pos, uint64_t now_ms)
{
	struct neigh_entry *e = &t->entries[pos];

	if (neigh_elapsed(now_ms, e->sent_ms) < t->retrans_ms)
		return;
	if (e->probes_sent >= t->probes) {
		neigh_delete(t, pos);
		return;
	}
	e->probes_sent++;
	e->sent_ms = now_ms;
	/* A PROBE asks the MAC it knows (unicast), as Linux does. */
	t->ops.send_request(t->ops.arg, e->port, e->ip,
			    e->state == RP_NEIGH_PROBE ? &e->mac : NULL);
}

static void
neigh_tick_reachable(struct rp_neigh_table *t, unsigned pos, uint64_t now_ms)
{
	struct neigh_entry *e = &t->entries[pos];
	uint64_t age = neigh_elapsed(now_ms, e->confirmed_ms);

	if (age < t->reachable_ms)
		return;
	if (neigh_take_used(t, pos)) {
		/* In use: re-confirm it, and keep forwarding meanwhile. */
		e->state = RP_NEIGH_PROBE;
		e->probes_sent = 1;
		e->sent_ms = now_ms;
		t->ops.send_request(t->ops.arg, e->port, e->ip, &e->mac);
	} else if (age >= t->gc_stale_ms) {
		neigh_delete(t, pos);
	}
}

void
rp_neigh_tick(struct rp_neigh_table *t, uint64_t now_ms)
{
	for (unsigned pos = 0; pos < t->capacity; pos++) {
		if (!t->entries[pos].in_use)
			continue;
		switch ((enum rp_neigh_state)t->entries[pos].state) {
		case RP_NEIGH_INCOMPLETE:
		case RP_NEIGH_PROBE:
			neigh_tick_retrans(t, pos, now_ms);
			break;
		case RP_NEIGH_REACHABLE:
			neigh_tick_reachable(t, pos, now_ms);
			break;
		case RP_NEIGH_PERMANENT:
			break;
		}
	}
}

unsigned
rp_neigh_count(const struct rp_neigh_table *t)
{
	return t->count;
}

unsigned
rp_neigh_list(const struct rp_neigh_table *t, unsigned offset, struct rp_neigh_info *out,
	      unsigned max, uint64_t now_ms)
{
	unsigned n = 0;

	for (unsigned pos = 0; pos < t->capacity && n < max; pos++) {
		const struct neigh_entry *e = &t->entries[pos];

		if (!e->in_use)
			continue;
		if (offset > 0) {
			offset--;
			continue;
		}
		out[n].ip = e->ip;
		out[n].mac = e->mac;
		out[n].port = e->port;
		out[n].state = e->state;
		out[n].held = e->held_count;
		out[n].age_ms = e->state == RP_NEIGH_PERMANENT ?
					0 : neigh_elapsed(now_ms, e->confirmed_ms);
		n++;
	}
	return n;
}
