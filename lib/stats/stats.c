/* SPDX-License-Identifier: BSD-3-Clause */
#include "rampart_stats.h"

static const char *const drop_names[RP_DROP_MAX] = {
	[RP_DROP_NONE] = "none",
#define N(e, n, d) [RP_DROP_##e] = n,
	RP_FOREACH_DROP(N)
#undef N
};

static const char *const drop_descs[RP_DROP_MAX] = {
	[RP_DROP_NONE] = "not dropped",
#define D(e, n, d) [RP_DROP_##e] = d,
	RP_FOREACH_DROP(D)
#undef D
};

static const char *const event_names[RP_EV_MAX] = {
#define N(e, n, d) [RP_EV_##e] = n,
	RP_FOREACH_EVENT(N)
#undef N
};

static const char *const event_descs[RP_EV_MAX] = {
#define D(e, n, d) [RP_EV_##e] = d,
	RP_FOREACH_EVENT(D)
#undef D
};

const char *
rp_drop_name(enum rp_drop r)
{
	return (unsigned)r < RP_DROP_MAX ? drop_names[r] : "?";
}

const char *
rp_drop_desc(enum rp_drop r)
{
	return (unsigned)r < RP_DROP_MAX ? drop_descs[r] : "?";
}

const char *
rp_event_name(enum rp_event e)
{
	return (unsigned)e < RP_EV_MAX ? event_names[e] : "?";
}

const char *
rp_event_desc(enum rp_event e)
{
	return (unsigned)e < RP_EV_MAX ? event_descs[e] : "?";
}
