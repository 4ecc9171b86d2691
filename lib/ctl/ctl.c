/* SPDX-License-Identifier: BSD-3-Clause */
/* Telemetry endpoints and the control socket: see rampart_ctl.h. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "rampart_ctl.h"

#define TEL_LIST_MAX 64   /* entries a telemetry listing shows (16 KB cap) */
#define PAGE 256          /* neighbours copied per lock hold */
#define REQUEST_MAX 256

static struct rp_ctl *g_ctl; /* telemetry callbacks take no argument */

static int ct_post(struct rp_worker *w);
static struct rp_filter_worker *filter_counters(const struct rp_dp *dp, struct rp_filter_live *fl,
						int zero);

static uint64_t
now_ms(void)
{
	return rte_get_tsc_cycles() * 1000 / rte_get_tsc_hz();
}

static const char *
route_type_name(uint8_t t)
{
	switch (t) {
	case RP_RT_LOCAL: return "local";
	case RP_RT_BCAST: return "broadcast";
	case RP_RT_DIRECT: return "direct";
	case RP_RT_GATEWAY: return "gateway";
	default: return "none";
	}
}

static const char *
mac_fmt(const struct rte_ether_addr *mac, char *buf)
{
	rte_ether_format_addr(buf, RTE_ETHER_ADDR_FMT_SIZE, mac);
	return buf;
}

/* ---- telemetry ------------------------------------------------------------ */

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	struct rp_worker_stats sum;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	rp_dp_sum_stats(g_ctl->dp, &sum);
	rte_tel_data_start_dict(d);
	for (unsigned p = 0; p < g_ctl->dp->n_ports; p++) {
		const struct rp_port *port = &g_ctl->dp->ports[p];
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "link",
			__atomic_load_n(&port->link_up, __ATOMIC_RELAXED) ? "up" : "down");
		rte_tel_data_add_dict_string(c, "mac", mac_fmt(&port->mac, mac));
		rte_tel_data_add_dict_int(c, "mtu", port->mtu);
		rte_tel_data_add_dict_u64(c, "rx_packets", sum.port[p].rx_pkts);
		rte_tel_data_add_dict_u64(c, "rx_bytes", sum.port[p].rx_bytes);
		rte_tel_data_add_dict_u64(c, "tx_packets", sum.port[p].tx_pkts);
		rte_tel_data_add_dict_u64(c, "tx_bytes", sum.port[p].tx_bytes);
		if (rte_tel_data_add_dict_container(d, port->name, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static int
tel_drops(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	struct rp_worker_stats sum;
	rp_dp_sum_stats(g_ctl->dp, &sum);
	rte_tel_data_start_dict(d);
	for (unsigned r = 1; r < RP_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, rp_drop_name(r), sum.drops[r]);
	return 0;
}

static int
tel_events(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	struct rp_worker_stats sum;
	rp_dp_sum_stats(g_ctl->dp, &sum);
	rte_tel_data_start_dict(d);
	for (unsigned e = 0; e < RP_EV_MAX; e++)
		rte_tel_data_add_dict_u64(d, rp_event_name(e), sum.events[e]);
	return 0;
}

static int
tel_workers(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < g_ctl->dp->n_workers; i++) {
		const struct rp_worker *w = g_ctl->dp->workers[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];
		uint64_t rx = 0, tx = 0;
		if (c == NULL)
			return -ENOMEM;
		for (unsigned p = 0; p < g_ctl->dp->n_ports; p++) {
			rx += rp_read_counter(&w->stats.port[p].rx_pkts);
			tx += rp_read_counter(&w->stats.port[p].tx_pkts);
		}
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_int(c, "lcore", (int)w->lcore);
		rte_tel_data_add_dict_u64(c, "loops", rp_read_counter(&w->stats.loops));
		rte_tel_data_add_dict_u64(c, "busy_loops", rp_read_counter(&w->stats.busy_loops));
		rte_tel_data_add_dict_u64(c, "rx_packets", rx);
		rte_tel_data_add_dict_u64(c, "tx_packets", tx);
		snprintf(name, sizeof(name), "%u", i);
		if (rte_tel_data_add_dict_container(d, name, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static int
tel_routes(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	const struct rp_fib *fib = g_ctl->dp->fib;
	unsigned n = rp_fib_count(fib);

	/* 22.11 nests no dict in an array, and dict keys allow no '.', so listings
	 * are dicts keyed by position: {"0": {...}, "1": {...}} */
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n && i < TEL_LIST_MAX; i++) {
		const struct rp_route_info *r = rp_fib_route(fib, i);
		struct rte_tel_data *c = rte_tel_data_alloc();
		char pfx[32], gw[16];
		if (c == NULL)
			return -ENOMEM;
		rp_ipv4_fmt(r->prefix, pfx);
		snprintf(pfx + strlen(pfx), sizeof(pfx) - strlen(pfx), "/%u", r->len);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "prefix", pfx);
		rte_tel_data_add_dict_string(c, "type", route_type_name(r->type));
		rte_tel_data_add_dict_string(c, "port", g_ctl->dp->ports[r->port].name);
		rte_tel_data_add_dict_string(c, "via", r->type == RP_RT_GATEWAY ? rp_ipv4_fmt(r->gw, gw) : "");
		rte_tel_data_add_dict_string(c, "origin", r->origin);
		char key[16];
		snprintf(key, sizeof(key), "%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static int
tel_neighbours(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	struct rp_neigh_info info[TEL_LIST_MAX];
	unsigned n;

	pthread_mutex_lock(&g_ctl->lock);
	n = rp_neigh_list(g_ctl->dp->neigh, 0, info, TEL_LIST_MAX, now_ms());
	pthread_mutex_unlock(&g_ctl->lock);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char ip[16], mac[RTE_ETHER_ADDR_FMT_SIZE];
		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "ip", rp_ipv4_fmt(info[i].ip, ip));
		rte_tel_data_add_dict_string(c, "mac", mac_fmt(&info[i].mac, mac));
		rte_tel_data_add_dict_string(c, "port", g_ctl->dp->ports[info[i].port].name);
		rte_tel_data_add_dict_string(c, "state", rp_neigh_state_name(info[i].state));
		char key[16];
		snprintf(key, sizeof(key), "%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static int
tel_conntrack(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	static const char *const slot_names[4] = {"tcp", "udp", "icmp", "other"};
	uint32_t counts[4][RP_TCP_STATE_MAX] = {{0}};
	uint64_t ctr[RP_CT_CNT_MAX] = {0};
	uint64_t conns = 0, expects = 0;
	const struct rp_dp *dp = g_ctl->dp;

	pthread_mutex_lock(&g_ctl->ct_lock);
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		struct rp_worker *w = dp->workers[wi];
		conns += rp_ct_count(w->ct);
		expects += rp_ct_expect_count(w->ct);
		for (unsigned c = 0; c < RP_CT_CNT_MAX; c++)
			ctr[c] += rp_ct_counter(w->ct, c);
		w->ct_mailbox.type = RP_CT_REQ_COUNT;
		if (ct_post(w) < 0)
			continue;
		for (unsigned p = 0; p < 4; p++)
			for (unsigned st = 0; st < RP_TCP_STATE_MAX; st++)
				counts[p][st] += w->ct_mailbox.counts[p][st];
	}
	pthread_mutex_unlock(&g_ctl->ct_lock);

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "connections", conns);
	rte_tel_data_add_dict_u64(d, "expectations", expects);
	for (unsigned p = 0; p < 4; p++) {
		if (p == 0) {
			struct rte_tel_data *c = rte_tel_data_alloc();
			if (c == NULL)
				return -ENOMEM;
			rte_tel_data_start_dict(c);
			for (unsigned st = 1; st < RP_TCP_STATE_MAX; st++)
				rte_tel_data_add_dict_u64(c, rp_tcp_state_name((uint8_t)st), counts[0][st]);
			if (rte_tel_data_add_dict_container(d, "tcp", c, 0) != 0)
				rte_tel_data_free(c);
		} else {
			rte_tel_data_add_dict_u64(d, slot_names[p], counts[p][0]);
		}
	}
	for (unsigned c = 0; c < RP_CT_CNT_MAX; c++)
		rte_tel_data_add_dict_u64(d, rp_ct_counter_name(c), ctr[c]);
	return 0;
}

static int
tel_filter(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	static const char *const chain_names[RP_CHAIN_BUILTIN_MAX] = {"INPUT", "FORWARD", "OUTPUT"};

	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&g_ctl->filter_lock);
	struct rp_filter_live *fl = g_ctl->dp->filter;
	if (fl == NULL) {
		pthread_mutex_unlock(&g_ctl->filter_lock);
		rte_tel_data_add_dict_string(d, "filter", "none");
		return 0;
	}
	struct rp_filter_worker *sum = filter_counters(g_ctl->dp, fl, 0);
	rte_tel_data_add_dict_u64(d, "generation", fl->generation);
	rte_tel_data_add_dict_int(d, "rules", (int)fl->rs->n_rules);
	for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX && sum; c++) {
		const struct rp_chain *ch = &fl->rs->chains[c];
		struct rte_tel_data *t = rte_tel_data_alloc();
		uint64_t matched = 0;
		if (t == NULL)
			break;
		for (unsigned i = 0; i < ch->n_rules; i++)
			matched += sum->pkts[ch->rules[i].id];
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "policy", rp_target_name(ch->policy));
		rte_tel_data_add_dict_int(t, "rules", (int)ch->n_rules);
		rte_tel_data_add_dict_u64(t, "rule_packets", matched);
		rte_tel_data_add_dict_u64(t, "policy_packets", sum->policy_pkts[c]);
		rte_tel_data_add_dict_u64(t, "policy_bytes", sum->policy_bytes[c]);
		if (rte_tel_data_add_dict_container(d, chain_names[c], t, 0) != 0)
			rte_tel_data_free(t);
	}
	pthread_mutex_unlock(&g_ctl->filter_lock);
	rp_filter_worker_free(sum);
	return 0;
}

static int
tel_status(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", g_ctl->version);
	rte_tel_data_add_dict_u64(d, "uptime_s", (rte_get_tsc_cycles() - g_ctl->start_tsc) / rte_get_tsc_hz());
	rte_tel_data_add_dict_int(d, "workers", (int)g_ctl->dp->n_workers);
	rte_tel_data_add_dict_int(d, "ports", (int)g_ctl->dp->n_ports);
	rte_tel_data_add_dict_int(d, "routes", (int)rp_fib_count(g_ctl->dp->fib));
	pthread_mutex_lock(&g_ctl->lock);
	rte_tel_data_add_dict_int(d, "neighbours", (int)rp_neigh_count(g_ctl->dp->neigh));
	pthread_mutex_unlock(&g_ctl->lock);
	return 0;
}

/* ---- socket answers --------------------------------------------------------- */

struct request {
	char cmd[32];
	int json;
	int save, zero; /* rules */
	unsigned offset;
	unsigned limit; /* 0 = all */
	/* conntrack filters and tuples */
	struct rp_ct_filter filter;
	uint16_t sport, dport;
};

static int
parse_request(const char *line, struct request *r)
{
	char buf[REQUEST_MAX], *save = NULL, *tok;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "%s", line);
	buf[strcspn(buf, "\r\n")] = '\0';
	tok = strtok_r(buf, " ", &save);
	if (tok == NULL)
		return -EINVAL;
	snprintf(r->cmd, sizeof(r->cmd), "%s", tok);
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(tok, "json") == 0)
			r->json = 1;
		else if (strcmp(tok, "save") == 0)
			r->save = 1;
		else if (strcmp(tok, "zero") == 0)
			r->zero = 1;
		else if (strncmp(tok, "offset=", 7) == 0)
			r->offset = (unsigned)strtoul(tok + 7, NULL, 10);
		else if (strncmp(tok, "limit=", 6) == 0)
			r->limit = (unsigned)strtoul(tok + 6, NULL, 10);
		else if (strncmp(tok, "proto=", 6) == 0)
			r->filter.proto = (uint8_t)strtoul(tok + 6, NULL, 10);
		else if (strncmp(tok, "src=", 4) == 0) {
			if (rp_ipv4_parse(tok + 4, &r->filter.src) != 0)
				return -EINVAL;
		} else if (strncmp(tok, "dst=", 4) == 0) {
			if (rp_ipv4_parse(tok + 4, &r->filter.dst) != 0)
				return -EINVAL;
		} else if (strncmp(tok, "sport=", 6) == 0)
			r->sport = (uint16_t)strtoul(tok + 6, NULL, 10);
		else if (strncmp(tok, "dport=", 6) == 0)
			r->dport = (uint16_t)strtoul(tok + 6, NULL, 10);
		else if (strncmp(tok, "state=", 6) == 0) {
			unsigned st;
			for (st = 1; st < RP_TCP_STATE_MAX; st++)
				if (strcasecmp(tok + 6, rp_tcp_state_name((uint8_t)st)) == 0)
					break;
			if (st == RP_TCP_STATE_MAX)
				return -EINVAL;
			r->filter.tcp_state = (uint8_t)st;
		} else
			return -EINVAL;
	}
	return 0;
}

static void
answer_status(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	uint64_t up = (rte_get_tsc_cycles() - ctl->start_tsc) / rte_get_tsc_hz();
	unsigned nn;

	pthread_mutex_lock(&ctl->lock);
	nn = rp_neigh_count(ctl->dp->neigh);
	pthread_mutex_unlock(&ctl->lock);
	if (r->json) {
		fprintf(out, "{\"version\": \"%s\", \"uptime_s\": %lu, \"workers\": %u, \"ports\": [",
			ctl->version, up, ctl->dp->n_workers);
		for (unsigned p = 0; p < ctl->dp->n_ports; p++)
			fprintf(out, "%s{\"name\": \"%s\", \"link\": \"%s\"}", p ? ", " : "",
				ctl->dp->ports[p].name,
				__atomic_load_n(&ctl->dp->ports[p].link_up, __ATOMIC_RELAXED) ? "up" : "down");
		fprintf(out, "], \"routes\": %u, \"neighbours\": %u}\n", rp_fib_count(ctl->dp->fib), nn);
		return;
	}
	fprintf(out, "rampart %s, up %lus, %u worker(s), %u route(s), %u neighbour(s)\n", ctl->version,
		up, ctl->dp->n_workers, rp_fib_count(ctl->dp->fib), nn);
	for (unsigned p = 0; p < ctl->dp->n_ports; p++) {
		const struct rp_port *port = &ctl->dp->ports[p];
		char mac[RTE_ETHER_ADDR_FMT_SIZE], ip[16];
		fprintf(out, "  %-8s link %-4s mtu %u mac %s", port->name,
			__atomic_load_n(&port->link_up, __ATOMIC_RELAXED) ? "up" : "down", port->mtu,
			mac_fmt(&port->mac, mac));
		for (unsigned a = 0; a < port->n_addrs; a++)
			fprintf(out, " %s/%u", rp_ipv4_fmt(port->addrs[a], ip), port->lens[a]);
		fputc('\n', out);
	}
}

static void
answer_stats(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	struct rp_worker_stats sum;
	const struct rp_dp *dp = ctl->dp;

	rp_dp_sum_stats(dp, &sum);
	if (r->json) {
		fprintf(out, "{\"ports\": {");
		for (unsigned p = 0; p < dp->n_ports; p++)
			fprintf(out, "%s\"%s\": {\"rx_packets\": %lu, \"rx_bytes\": %lu, \"tx_packets\": %lu, \"tx_bytes\": %lu}",
				p ? ", " : "", dp->ports[p].name, sum.port[p].rx_pkts, sum.port[p].rx_bytes,
				sum.port[p].tx_pkts, sum.port[p].tx_bytes);
		fprintf(out, "}, \"drops\": {");
		for (unsigned d = 1; d < RP_DROP_MAX; d++)
			fprintf(out, "%s\"%s\": %lu", d > 1 ? ", " : "", rp_drop_name(d), sum.drops[d]);
		fprintf(out, "}, \"events\": {");
		for (unsigned e = 0; e < RP_EV_MAX; e++)
			fprintf(out, "%s\"%s\": %lu", e ? ", " : "", rp_event_name(e), sum.events[e]);
		fprintf(out, "}, \"workers\": [");
		for (unsigned i = 0; i < dp->n_workers; i++)
			fprintf(out, "%s{\"id\": %u, \"lcore\": %u, \"loops\": %lu, \"busy_loops\": %lu}",
				i ? ", " : "", i, dp->workers[i]->lcore,
				rp_read_counter(&dp->workers[i]->stats.loops),
				rp_read_counter(&dp->workers[i]->stats.busy_loops));
		fprintf(out, "]}\n");
		return;
	}
	fprintf(out, "%-8s %12s %14s %12s %14s\n", "port", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes");
	for (unsigned p = 0; p < dp->n_ports; p++)
		fprintf(out, "%-8s %12lu %14lu %12lu %14lu\n", dp->ports[p].name, sum.port[p].rx_pkts,
			sum.port[p].rx_bytes, sum.port[p].tx_pkts, sum.port[p].tx_bytes);
	fprintf(out, "events:\n");
	for (unsigned e = 0; e < RP_EV_MAX; e++)
		if (sum.events[e])
			fprintf(out, "  %-24s %lu\n", rp_event_name(e), sum.events[e]);
	fprintf(out, "drops:\n");
	for (unsigned d = 1; d < RP_DROP_MAX; d++)
		if (sum.drops[d])
			fprintf(out, "  %-24s %lu\n", rp_drop_name(d), sum.drops[d]);
}

static void
answer_routes(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	const struct rp_fib *fib = ctl->dp->fib;
	unsigned total = rp_fib_count(fib), end = total;

	if (r->limit && r->offset + r->limit < end)
		end = r->offset + r->limit;
	if (r->json)
		fprintf(out, "{\"total\": %u, \"offset\": %u, \"routes\": [", total, r->offset);
	else
		fprintf(out, "%-20s %-10s %-16s %-8s %s\n", "prefix", "type", "via", "port", "origin");
	for (unsigned i = r->offset; i < end; i++) {
		const struct rp_route_info *ri = rp_fib_route(fib, i);
		char pfx[32], gw[16] = "";
		rp_ipv4_fmt(ri->prefix, pfx);
		snprintf(pfx + strlen(pfx), sizeof(pfx) - strlen(pfx), "/%u", ri->len);
		if (ri->type == RP_RT_GATEWAY)
			rp_ipv4_fmt(ri->gw, gw);
		if (r->json)
			fprintf(out, "%s{\"prefix\": \"%s\", \"type\": \"%s\", \"via\": \"%s\", \"port\": \"%s\", \"origin\": \"%s\"}",
				i > r->offset ? ", " : "", pfx, route_type_name(ri->type), gw,
				ctl->dp->ports[ri->port].name, ri->origin);
		else
			fprintf(out, "%-20s %-10s %-16s %-8s %s\n", pfx, route_type_name(ri->type),
				gw[0] ? gw : "-", ctl->dp->ports[ri->port].name, ri->origin);
	}
	if (r->json)
		fprintf(out, "]}\n");
}

static void
answer_neighbours(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	struct rp_neigh_info page[PAGE];
	unsigned total, done = 0, off = r->offset;
	int first = 1;

	pthread_mutex_lock(&ctl->lock);
	total = rp_neigh_count(ctl->dp->neigh);
	pthread_mutex_unlock(&ctl->lock);
	if (r->json)
		fprintf(out, "{\"total\": %u, \"offset\": %u, \"neighbours\": [", total, r->offset);
	else
		fprintf(out, "%-16s %-18s %-8s %-11s %6s %10s\n", "address", "mac", "port", "state",
			"held", "age_ms");
	for (;;) {
		unsigned want = PAGE, n;
		if (r->limit && r->limit - done < want)
			want = r->limit - done;
		if (want == 0)
			break;
		/* one page per lock hold, so the control thread is never kept waiting long */
		pthread_mutex_lock(&ctl->lock);
		n = rp_neigh_list(ctl->dp->neigh, off, page, want, now_ms());
		pthread_mutex_unlock(&ctl->lock);
		for (unsigned i = 0; i < n; i++) {
			char ip[16], mac[RTE_ETHER_ADDR_FMT_SIZE];
			const struct rp_neigh_info *e = &page[i];
			rp_ipv4_fmt(e->ip, ip);
			mac_fmt(&e->mac, mac);
			if (r->json)
				fprintf(out, "%s{\"ip\": \"%s\", \"mac\": \"%s\", \"port\": \"%s\", \"state\": \"%s\", \"held\": %u, \"age_ms\": %lu}",
					first ? "" : ", ", ip, mac, ctl->dp->ports[e->port].name,
					rp_neigh_state_name(e->state), e->held, e->age_ms);
			else
				fprintf(out, "%-16s %-18s %-8s %-11s %6u %10lu\n", ip, mac,
					ctl->dp->ports[e->port].name, rp_neigh_state_name(e->state), e->held,
					e->age_ms);
			first = 0;
		}
		done += n;
		off += n;
		if (n < want)
			break;
	}
	if (r->json)
		fprintf(out, "]}\n");
}

/* ---- conntrack: requests to the workers' mailboxes ---------------------------- */

#define CT_WAIT_US 2000000 /* a worker answers within a loop; sleeping ones within idle_sleep_us */

/*
 * Post the request prepared in @p w's mailbox and wait for the worker to
 * serve it. The caller holds ctl->ct_lock (telemetry and the socket share
 * the mailboxes). Workers never wait for us.
 */
static int
ct_post(struct rp_worker *w)
{
	struct rp_ct_mailbox *mb = &w->ct_mailbox;

	__atomic_store_n(&mb->state, RP_CT_MB_POSTED, __ATOMIC_RELEASE);
	for (unsigned waited = 0; waited < CT_WAIT_US; waited += 20) {
		if (__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE) == RP_CT_MB_DONE) {
			int32_t res = mb->result;
			__atomic_store_n(&mb->state, RP_CT_MB_IDLE, __ATOMIC_RELAXED);
			return res;
		}
		usleep(20);
	}
	/* the worker is stuck or gone: the mailbox stays POSTED and unusable */
	return -ETIMEDOUT;
}

static const char *
proto_name(uint8_t p, char *buf)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	default: snprintf(buf, 8, "%u", p); return buf;
	}
}

static void
print_tuple(FILE *out, const struct rp_ct_tuple *t, int json)
{
	char s[16], d[16];
	rp_ipv4_fmt(t->src, s);
	rp_ipv4_fmt(t->dst, d);
	if (json) {
		fprintf(out, "{\"src\": \"%s\", \"dst\": \"%s\", \"sport\": %u, \"dport\": %u}", s, d,
			t->sport, t->dport);
		return;
	}
	if (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP)
		fprintf(out, "src=%s dst=%s sport=%u dport=%u", s, d, t->sport, t->dport);
	else if (t->proto == IPPROTO_ICMP)
		fprintf(out, "src=%s dst=%s type=%u code=%u id=%u", s, d, t->dport >> 8, t->dport & 0xff,
			t->sport);
	else
		fprintf(out, "src=%s dst=%s", s, d);
}

/* One connection, as `conntrack -L` prints it (plus the owning worker). */
static void
print_ct(FILE *out, const struct rp_ct_info *c, int json, int first)
{
	char pbuf[8];
	const char *tcp = c->tuple[0].proto == IPPROTO_TCP ? rp_tcp_state_name(c->tcp_state) : NULL;

	if (json) {
		fprintf(out, "%s{\"proto\": \"%s\", \"protonum\": %u, \"timeout\": %u, \"state\": \"%s\", "
			     "\"original\": ", first ? "" : ", ", proto_name(c->tuple[0].proto, pbuf),
			c->tuple[0].proto, c->timeout_s, tcp ? tcp : "");
		print_tuple(out, &c->tuple[0], 1);
		fprintf(out, ", \"reply\": ");
		print_tuple(out, &c->tuple[1], 1);
		fprintf(out, ", \"packets\": [%u, %u], \"bytes\": [%lu, %lu], \"assured\": %s, "
			     "\"unreplied\": %s, \"worker\": %u, \"master\": %u",
			c->packets[0], c->packets[1], c->bytes[0], c->bytes[1],
			(c->status & RP_CT_S_ASSURED) ? "true" : "false",
			(c->status & RP_CT_S_SEEN_REPLY) ? "false" : "true", c->worker, c->master);
		fprintf(out, ", \"helper\": \"%s\", \"master_tuple\": ", rp_ct_helper_name(c->helper));
		if (c->master)
			print_tuple(out, &c->master_tuple, 1);
		else
			fprintf(out, "null");
		fprintf(out, "}");
		return;
	}
	fprintf(out, "%-8s %u %u ", proto_name(c->tuple[0].proto, pbuf), c->tuple[0].proto, c->timeout_s);
	if (tcp)
		fprintf(out, "%s ", tcp);
	print_tuple(out, &c->tuple[0], 0);
	fprintf(out, " packets=%u bytes=%lu ", c->packets[0], c->bytes[0]);
	if (!(c->status & RP_CT_S_SEEN_REPLY))
		fprintf(out, "[UNREPLIED] ");
	print_tuple(out, &c->tuple[1], 0);
	fprintf(out, " packets=%u bytes=%lu ", c->packets[1], c->bytes[1]);
	if (c->status & RP_CT_S_ASSURED)
		fprintf(out, "[ASSURED] ");
	fprintf(out, "worker=%u", c->worker);
	if (c->helper)
		fprintf(out, " helper=%s", rp_ct_helper_name(c->helper));
	if (c->master) {
		/* the control connection this one was expected by, as its original tuple */
		char s[16], d[16];
		fprintf(out, " master=%s:%u->%s:%u", rp_ipv4_fmt(c->master_tuple.src, s),
			c->master_tuple.sport, rp_ipv4_fmt(c->master_tuple.dst, d), c->master_tuple.dport);
	}
	fputc('\n', out);
}

/* One expectation, as `conntrack -L expect` prints it (plus the owning worker). */
static void
print_expect(FILE *out, const struct rp_ct_expect_info *x, int json, int first)
{
	char pbuf[8], s[16], d[16];

	if (json) {
		fprintf(out, "%s{\"timeout\": %u, \"proto\": \"%s\", \"protonum\": %u, \"tuple\": ",
			first ? "" : ", ", x->timeout_s, proto_name(x->tuple.proto, pbuf), x->tuple.proto);
		print_tuple(out, &x->tuple, 1);
		fprintf(out, ", \"master\": ");
		if (x->master)
			print_tuple(out, &x->master_tuple, 1);
		else
			fprintf(out, "null");
		fprintf(out, ", \"helper\": \"%s\", \"worker\": %u}", rp_ct_helper_name(x->helper),
			x->worker);
		return;
	}
	fprintf(out, "%u proto=%u src=%s dst=%s sport=%u dport=%u", x->timeout_s, x->tuple.proto,
		rp_ipv4_fmt(x->tuple.src, s), rp_ipv4_fmt(x->tuple.dst, d), x->tuple.sport, x->tuple.dport);
	if (x->master)
		fprintf(out, " master-src=%s master-dst=%s sport=%u dport=%u",
			rp_ipv4_fmt(x->master_tuple.src, s), rp_ipv4_fmt(x->master_tuple.dst, d),
			x->master_tuple.sport, x->master_tuple.dport);
	if (x->helper)
		fprintf(out, " helper=%s", rp_ct_helper_name(x->helper));
	fprintf(out, " worker=%u\n", x->worker);
}

/*
 * A conntrack listing: every worker's connections (RP_CT_REQ_LIST) or
 * expectations (RP_CT_REQ_EXPECT_LIST), a page at a time through its
 * mailbox, with the request's offset and limit applied over all workers.
 */
static void
answer_ct_listing(struct rp_ctl *ctl, const struct request *r, FILE *out, int expect)
{
	static struct rp_ct_info conns[RP_CT_LIST_PAGE];
	static struct rp_ct_expect_info expects[RP_CT_LIST_PAGE];
	const char *key = expect ? "expectations" : "connections";
	unsigned skipped = 0, shown = 0, total = 0;
	int first = 1, err = 0;

	if (r->json)
		fprintf(out, "{\"offset\": %u, \"%s\": [", r->offset, key);
	pthread_mutex_lock(&ctl->ct_lock);
	for (unsigned wi = 0; wi < ctl->dp->n_workers && !err; wi++) {
		struct rp_worker *w = ctl->dp->workers[wi];
		uint32_t cursor = 0;
		while (cursor != UINT32_MAX) {
			struct rp_ct_mailbox *mb = &w->ct_mailbox;
			mb->type = expect ? RP_CT_REQ_EXPECT_LIST : RP_CT_REQ_LIST;
			mb->cursor = cursor;
			mb->max = RP_CT_LIST_PAGE;
			mb->filter = r->filter;
			mb->out = conns;
			mb->xout = expects;
			int n = ct_post(w);
			if (n < 0) {
				err = n;
				break;
			}
			cursor = mb->cursor;
			for (int i = 0; i < n; i++) {
				total++;
				if (skipped < r->offset) {
					skipped++;
					continue;
				}
				if (r->limit && shown >= r->limit)
					continue;
				if (expect) {
					expects[i].worker = (uint8_t)wi;
					print_expect(out, &expects[i], r->json, first);
				} else {
					conns[i].worker = (uint8_t)wi;
					print_ct(out, &conns[i], r->json, first);
				}
				first = 0;
				shown++;
			}
		}
	}
	pthread_mutex_unlock(&ctl->ct_lock);
	if (r->json)
		fprintf(out, "], \"total\": %u%s}\n", total,
			err ? ", \"error\": \"a worker did not answer\"" : "");
	else if (err)
		fprintf(out, "error: a worker did not answer (%s)\n", strerror(-err));
	else
		fprintf(out, "rampart conntrack: %u %s have been shown.\n", shown,
			expect ? "expectations" : "flow entries");
}

static void
answer_conntrack_delete(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	struct rp_ct_tuple t = {.src = r->filter.src, .dst = r->filter.dst, .sport = r->sport,
				.dport = r->dport, .proto = r->filter.proto};
	int deleted = 0;

	pthread_mutex_lock(&ctl->ct_lock);
	for (unsigned wi = 0; wi < ctl->dp->n_workers; wi++) {
		struct rp_worker *w = ctl->dp->workers[wi];
		int rc;
		do { /* -EBUSY: the worker's reclaim queue is full until a grace period passes */
			w->ct_mailbox.type = RP_CT_REQ_DELETE;
			w->ct_mailbox.tuple = t;
			rc = ct_post(w);
		} while (rc == -EBUSY);
		if (rc == 0)
			deleted++;
	}
	pthread_mutex_unlock(&ctl->ct_lock);
	if (deleted)
		fprintf(out, "rampart conntrack: %d flow entries have been deleted.\n", deleted);
	else
		fprintf(out, "error: no such connection\n");
}

static void
answer_conntrack_flush(struct rp_ctl *ctl, FILE *out)
{
	pthread_mutex_lock(&ctl->ct_lock);
	for (unsigned wi = 0; wi < ctl->dp->n_workers; wi++) {
		struct rp_worker *w = ctl->dp->workers[wi];
		int left;
		/* a flush is served in bounded steps: repost until nothing is left */
		do {
			w->ct_mailbox.type = RP_CT_REQ_FLUSH;
			left = ct_post(w);
		} while (left > 0);
	}
	pthread_mutex_unlock(&ctl->ct_lock);
	fprintf(out, "rampart conntrack: connection tracking table has been emptied.\n");
}

/* ---- filter ------------------------------------------------------------------ */

/*
 * Counters as shown: every worker's summed, minus what `rules --zero` set
 * aside (workers keep counting undisturbed; zeroing never writes to them).
 * Returns a one-worker state holding the result, or NULL.
 */
static struct rp_filter_worker *
filter_counters(const struct rp_dp *dp, struct rp_filter_live *fl, int zero)
{
	struct rp_filter_worker *sum = rp_filter_worker_create(fl->rs, 1);
	unsigned n = fl->rs->n_rules;

	if (sum == NULL)
		return NULL;
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		const struct rp_filter_worker *fw = fl->fw[wi];
		for (unsigned r = 0; r < n; r++) {
			sum->pkts[r] += rp_read_counter(&fw->pkts[r]);
			sum->bytes[r] += rp_read_counter(&fw->bytes[r]);
		}
		for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
			sum->policy_pkts[c] += rp_read_counter(&fw->policy_pkts[c]);
			sum->policy_bytes[c] += rp_read_counter(&fw->policy_bytes[c]);
		}
	}
	if (zero) {
		if (fl->zero_pkts == NULL) {
			fl->zero_pkts = calloc(n ? n : 1, sizeof(uint64_t));
			fl->zero_bytes = calloc(n ? n : 1, sizeof(uint64_t));
		}
		if (fl->zero_pkts && fl->zero_bytes) {
			memcpy(fl->zero_pkts, sum->pkts, n * sizeof(uint64_t));
			memcpy(fl->zero_bytes, sum->bytes, n * sizeof(uint64_t));
			memcpy(fl->zero_policy_pkts, sum->policy_pkts, sizeof(fl->zero_policy_pkts));
			memcpy(fl->zero_policy_bytes, sum->policy_bytes, sizeof(fl->zero_policy_bytes));
		}
	}
	if (fl->zero_pkts && fl->zero_bytes) {
		for (unsigned r = 0; r < n; r++) {
			sum->pkts[r] -= fl->zero_pkts[r];
			sum->bytes[r] -= fl->zero_bytes[r];
		}
		for (unsigned c = 0; c < RP_CHAIN_BUILTIN_MAX; c++) {
			sum->policy_pkts[c] -= fl->zero_policy_pkts[c];
			sum->policy_bytes[c] -= fl->zero_policy_bytes[c];
		}
	}
	return sum;
}

static void
answer_rules(struct rp_ctl *ctl, const struct request *r, FILE *out)
{
	struct rp_filter_live *fl = ctl->dp->filter; /* the control thread swaps it: stable here */

	if (fl == NULL) {
		fprintf(out, "# no filter section: every packet is accepted\n");
		return;
	}
	struct rp_filter_worker *sum = filter_counters(ctl->dp, fl, r->zero);
	if (sum == NULL) {
		fprintf(out, "error: out of memory\n");
		return;
	}
	if (r->save)
		fprintf(out, "# rampart generation %lu\n", fl->generation);
	rp_ruleset_print(fl->rs, &sum, 1, r->save, out);
	rp_filter_worker_free(sum);
}

static void
answer_reload(struct rp_ctl *ctl, FILE *out)
{
	if (ctl->reload == NULL) {
		fprintf(out, "error: reload is not available\n");
		return;
	}
	pthread_mutex_lock(&ctl->filter_lock);
	ctl->reload(ctl->reload_arg, out);
	pthread_mutex_unlock(&ctl->filter_lock);
}

int
rp_ctl_answer(struct rp_ctl *ctl, const char *line, FILE *out)
{
	struct request r;

	if (parse_request(line, &r) < 0)
		goto bad;
	if (strcmp(r.cmd, "status") == 0)
		answer_status(ctl, &r, out);
	else if (strcmp(r.cmd, "stats") == 0)
		answer_stats(ctl, &r, out);
	else if (strcmp(r.cmd, "routes") == 0)
		answer_routes(ctl, &r, out);
	else if (strcmp(r.cmd, "neighbours") == 0 || strcmp(r.cmd, "neighbors") == 0)
		answer_neighbours(ctl, &r, out);
	else if (strcmp(r.cmd, "conntrack") == 0)
		answer_ct_listing(ctl, &r, out, 0);
	else if (strcmp(r.cmd, "conntrack-delete") == 0)
		answer_conntrack_delete(ctl, &r, out);
	else if (strcmp(r.cmd, "conntrack-flush") == 0)
		answer_conntrack_flush(ctl, out);
	else if (strcmp(r.cmd, "conntrack-expect") == 0)
		answer_ct_listing(ctl, &r, out, 1);
	else if (strcmp(r.cmd, "rules") == 0)
		answer_rules(ctl, &r, out);
	else if (strcmp(r.cmd, "reload") == 0)
		answer_reload(ctl, out);
	else
		goto bad;
	return 0;
bad:
	fprintf(out, "error: unknown request \"%.*s\" (commands: status, stats, routes, neighbours, "
		     "conntrack, conntrack-delete, conntrack-flush, conntrack-expect, rules, reload; options: json offset=N limit=N "
		     "proto=N src=A dst=A sport=N dport=N state=S)\n", (int)strcspn(line, "\r\n"), line);
	return -EINVAL;
}

void
rp_ctl_print_stats(struct rp_ctl *ctl, FILE *out)
{
	struct request r = {.cmd = "stats"};
	answer_stats(ctl, &r, out);
}

/* ---- socket ---------------------------------------------------------------- */

static void
serve_client(struct rp_ctl *ctl, int fd)
{
	char line[REQUEST_MAX];
	char *buf = NULL;
	size_t len = 0, got = 0;
	struct timeval tv = {.tv_sec = 2};
	FILE *out;

	/* a client that stalls must not hold the control thread for long */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(line) - 1) {
		ssize_t n = read(fd, line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = '\0';
	out = open_memstream(&buf, &len);
	if (out == NULL)
		return;
	rp_ctl_answer(ctl, line, out);
	fclose(out);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
}

void
rp_ctl_poll(struct rp_ctl *ctl)
{
	if (ctl->listen_fd < 0)
		return;
	for (int i = 0; i < 8; i++) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		serve_client(ctl, fd);
		close(fd);
	}
}

static int
open_socket(struct rp_ctl *ctl, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[RP_PATH_MAX];
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		RTE_LOG(ERR, USER1, "control socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST) {
		int err = errno;
		RTE_LOG(ERR, USER1, "cannot create the directory of %s: %s\n", path, strerror(err));
		return -err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	unlink(path); /* a socket left by a daemon that died */
	mode_t old = umask(0077); /* root-only: the socket will change state later */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int err = errno;
		umask(old);
		close(fd);
		RTE_LOG(ERR, USER1, "cannot listen on %s: %s\n", path, strerror(err));
		return -err;
	}
	umask(old);
	ctl->listen_fd = fd;
	snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s", path);
	return 0;
}

int
rp_ctl_init(struct rp_ctl *ctl, struct rp_dp *dp, const char *socket_path)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} eps[] = {
		{"/rampart/status", tel_status, "Version, uptime, counts. No parameters."},
		{"/rampart/ports", tel_ports, "Per-port link and packet/byte counters. No parameters."},
		{"/rampart/drops", tel_drops, "Dropped packets by reason. No parameters."},
		{"/rampart/events", tel_events, "Forwarding and ICMP event counters. No parameters."},
		{"/rampart/workers", tel_workers, "Per-worker loop counters. No parameters."},
		{"/rampart/routes", tel_routes, "First 64 routes (rampartctl routes lists all)."},
		{"/rampart/neighbours", tel_neighbours, "First 64 neighbours (rampartctl neighbours lists all)."},
		{"/rampart/filter", tel_filter, "Ruleset generation and per-chain totals (rampartctl rules lists it)."},
		{"/rampart/conntrack", tel_conntrack, "Connections per protocol and TCP state, conntrack counters."},
	};

	ctl->dp = dp;
	ctl->listen_fd = -1;
	ctl->start_tsc = rte_get_tsc_cycles();
	if (ctl->version == NULL)
		ctl->version = "?";
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_init(&ctl->ct_lock, NULL);
	pthread_mutex_init(&ctl->filter_lock, NULL);
	g_ctl = ctl;
	for (size_t i = 0; i < RTE_DIM(eps); i++)
		rte_telemetry_register_cmd(eps[i].cmd, eps[i].fn, eps[i].help);
	return socket_path && socket_path[0] ? open_socket(ctl, socket_path) : 0;
}

void
rp_ctl_close(struct rp_ctl *ctl)
{
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->socket_path);
		ctl->listen_fd = -1;
	}
}
