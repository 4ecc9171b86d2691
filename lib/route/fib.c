/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FIB: rte_fib (DIR24_8, 8-byte next hops) for the workers' bulk
 * lookups, plus a list of the routes in insertion order for telemetry and
 * rampartctl. Built by the control thread before the workers start and
 * read-only afterwards, so no synchronisation is needed.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_rib.h>

#include "rampart_route.h"

#define FIB_MIN_TBL8 256u     /**< tbl8 groups even for a tiny FIB */
#define FIB_TBL8_GROUP 256u   /**< entries in one tbl8 group */
#define FIB_LOOKUP_CHUNK 4096u /**< rte_fib_lookup_bulk takes an int count */

struct rp_fib {
	struct rte_fib *fib;
	struct rte_rib *rib;           /**< rte_fib's own RIB: finds a prefix's list slot */
	unsigned max_routes;
	unsigned n_routes;
	struct rp_route_info *routes;  /**< [max_routes], insertion order */
};

static unsigned
fib_num_tbl8(unsigned max_routes)
{
	/* Every route longer than /24 may need a group of its own. */
	return RTE_MAX(FIB_MIN_TBL8, max_routes);
}

size_t
rp_fib_mem_size(unsigned max_routes)
{
	const size_t tbl24 = ((size_t)1 << 24) * sizeof(uint64_t);
	const size_t tbl8 = (size_t)fib_num_tbl8(max_routes) * FIB_TBL8_GROUP * sizeof(uint64_t);
	/* RIB: 2 nodes a route in a mempool; a node with its mempool header
	 * and ring slot stays well below 256 bytes. */
	const size_t rib = (size_t)max_routes * 2 * 256;

	return tbl24 + tbl8 + rib + (256u << 10);
}

struct rp_fib *
rp_fib_create(const char *name, unsigned max_routes, int socket)
{
	struct rte_fib_conf conf;
	struct rp_fib *fib;

	if (name == NULL || max_routes == 0 || max_routes > INT_MAX / 2) {
		rte_errno = EINVAL;
		return NULL;
	}

	fib = calloc(1, sizeof(*fib));
	if (fib == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	fib->routes = calloc(max_routes, sizeof(*fib->routes));
	if (fib->routes == NULL) {
		rte_errno = ENOMEM;
		goto free_fib;
	}
	fib->max_routes = max_routes;

	memset(&conf, 0, sizeof(conf));
	conf.type = RTE_FIB_DIR24_8;
	conf.default_nh = 0; /* RP_RT_NONE: "no route" needs no branch */
	conf.max_routes = (int)max_routes;
	conf.rib_ext_sz = sizeof(uint32_t); /* index into routes[] */
	conf.dir24_8.nh_sz = RTE_FIB_DIR24_8_8B;
	conf.dir24_8.num_tbl8 = fib_num_tbl8(max_routes);

	fib->fib = rte_fib_create(name, socket, &conf);
	if (fib->fib == NULL)
		goto free_routes; /* rte_errno set by rte_fib_create */
	fib->rib = rte_fib_get_rib(fib->fib);
	return fib;

free_routes:
	free(fib->routes);
free_fib:
	free(fib);
	return NULL;
}

/* Keep origins as our own literals, so a listing never points into a
 * caller's buffer that is gone. */
static const char *
fib_origin(const char *origin)
{
	static const char *const known[] = {"connected", "local", "broadcast", "static"};

	if (origin == NULL)
		return "static";
	for (unsigned i = 0; i < RTE_DIM(known); i++)
		if (strcmp(origin, known[i]) == 0)
			return known[i];
	return origin;
}

int
rp_fib_add(struct rp_fib *fib, uint32_t prefix, uint8_t len, uint64_t nh, const char *origin)
{
	struct rte_rib_node *node;
	struct rp_route_info *route;
	uint32_t *slot;
	unsigned index;
	int ret;

	if (fib == NULL || len > RTE_FIB_MAXDEPTH || rp_nh_type(nh) == RP_RT_NONE ||
	    rp_nh_type(nh) > RP_RT_GATEWAY)
		return -EINVAL;
	prefix &= rte_rib_depth_to_mask(len);

	node = rte_rib_lookup_exact(fib->rib, prefix, len);
	if (node == NULL && fib->n_routes == fib->max_routes)
		return -ENOSPC;

	ret = rte_fib_add(fib->fib, prefix, len, nh);
	if (ret < 0)
		return ret;

	if (node != NULL) {
		/* A replacement keeps its place in the listing. */
		index = *(uint32_t *)rte_rib_get_ext(node);
	} else {
		node = rte_rib_lookup_exact(fib->rib, prefix, len);
		if (node == NULL)
			return -EFAULT; /* rte_fib_add succeeded: cannot happen */
		index = fib->n_routes++;
		slot = rte_rib_get_ext(node);
		*slot = index;
	}

	route = &fib->routes[index];
	route->prefix = prefix;
	route->len = len;
	route->port = rp_nh_port(nh);
	route->type = rp_nh_type(nh);
	route->gw = rp_nh_gw(nh);
	route->origin = fib_origin(origin);
	return 0;
}

int
rp_fib_add_interface(struct rp_fib *fib, uint32_t addr, uint8_t len, uint8_t port)
{
	uint32_t mask, bcast;
	int ret;

	if (fib == NULL || len > RTE_FIB_MAXDEPTH)
		return -EINVAL;
	mask = rte_rib_depth_to_mask(len);
	bcast = addr | ~mask;
	/* /31 (RFC 3021) and /32 have no broadcast address. */
	if (len <= 30 && addr == bcast)
		return -EINVAL;

	ret = rp_fib_add(fib, addr, 32, rp_nh_make(RP_RT_LOCAL, port, 0), "local");
	if (ret < 0)
		return ret;
	if (len < 32) {
		ret = rp_fib_add(fib, addr & mask, len, rp_nh_make(RP_RT_DIRECT, port, 0),
				 "connected");
		if (ret < 0)
			return ret;
	}
	if (len <= 30) {
		ret = rp_fib_add(fib, bcast, 32, rp_nh_make(RP_RT_BCAST, port, 0), "broadcast");
		if (ret < 0)
			return ret;
	}
	return 0;
}

void
rp_fib_lookup_bulk(const struct rp_fib *fib, const uint32_t *ips, uint64_t *nhs, unsigned n)
{
	while (n > 0) {
		unsigned chunk = RTE_MIN(n, FIB_LOOKUP_CHUNK);

		/* rte_fib only reads ips; its prototype lacks the const. */
		rte_fib_lookup_bulk(fib->fib, (uint32_t *)(uintptr_t)ips, nhs, (int)chunk);
		ips += chunk;
		nhs += chunk;
		n -= chunk;
	}
}

unsigned
rp_fib_count(const struct rp_fib *fib)
{
	return fib->n_routes;
}

const struct rp_route_info *
rp_fib_route(const struct rp_fib *fib, unsigned i)
{
	if (i >= fib->n_routes)
		return NULL;
	return &fib->routes[i];
}

void
rp_fib_free(struct rp_fib *fib)
{
	if (fib == NULL)
		return;
	rte_fib_free(fib->fib);
	free(fib->routes);
	free(fib);
}
