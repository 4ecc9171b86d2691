/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader: libconfig's tree -> struct rp_config.
 *
 * Every section is checked completely and every problem becomes one message
 * "FILE:LINE: SETTING: problem"; messages are collected and printed sorted by
 * line, so that the user sees all of them in file order after one run. Checks
 * that depend on the ports (a gateway in a port's subnet, a reference to a
 * port by name) are skipped when the ports had errors of their own, so that
 * one mistake is not reported three times.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <libconfig.h>

#include "config_syntax.h"
#include "rampart_config.h"

/* RTE_MAX_LCORE of Debian's DPDK build; EAL checks the real set later. */
#define RP_LCORE_LIMIT 128
#define RP_BURST_MAX 64
#define RP_SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))
#define RP_DEFAULT_SOCKET "/run/rampart/rampart.sock"

/* One reported problem, kept until all are known so they print in file order. */
struct message {
	int line;
	unsigned seq; /* keeps messages of one line in the order they were found */
	char *text;
};

/* What the loader remembers of a port beyond struct rp_port_conf. */
struct port_extra {
	const config_setting_t *device; /* NULL unless the device string is valid */
	const config_setting_t *addr[RP_PORT_ADDRS_MAX];
	struct rp_device_id dev;
};

struct loader {
	const char *path;
	const char *include_dir; /* where libconfig looks for @include files, or NULL */
	struct rp_config *cfg;
	int errors;
	struct message *msgs;
	unsigned n_msgs;
	unsigned cap_msgs;
	struct port_extra px[RP_MAX_PORTS];
	bool port_names_ok;  /* every port has a valid name: "no such port" means it */
	bool port_addrs_ok;  /* every port address parsed: subnet checks mean something */
	int n_workers;       /* from workers.lcores; -1 when that list is unusable */
	bool lcores_given;
};

/* ---- messages ---------------------------------------------------------- */

static void
add_message(struct loader *ld, int line, bool is_error, char *text)
{
	if (is_error)
		ld->errors++;
	if (text == NULL)
		return;
	if (ld->n_msgs == ld->cap_msgs) {
		unsigned cap = ld->cap_msgs ? 2 * ld->cap_msgs : 16;
		struct message *m = realloc(ld->msgs, cap * sizeof(*m));
		if (m == NULL) {
			free(text);
			return;
		}
		ld->msgs = m;
		ld->cap_msgs = cap;
	}
	ld->msgs[ld->n_msgs] = (struct message){line, ld->n_msgs, text};
	ld->n_msgs++;
}

/* A value as it would be written in the file, control characters escaped. */
static void
write_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* "ports[1].address": group members by name, list elements by index. */
static void
write_path(FILE *f, const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);

	if (parent == NULL)
		return;
	write_path(f, parent);
	if (config_setting_name(s) != NULL)
		fprintf(f, "%s%s", config_setting_is_root(parent) ? "" : ".",
			config_setting_name(s));
	else
		fprintf(f, "[%d]", config_setting_index(s));
}

/* How a message shows the setting's value. */
enum show_value {
	VALUE_NONE,
	VALUE_QUOTED,       /* a string value is quoted before the problem */
	VALUE_NAMES_ELEM,   /* same, and a string element of a list is named by
			     * the list and its value, not by its index */
};

/*
 * Report a problem with setting @p s (NULL: the file itself), or with its
 * member @p child when that member is missing.
 */
static void
vreport(struct loader *ld, bool is_error, const config_setting_t *s, const char *child,
	enum show_value show, const char *fmt, va_list ap)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *file = ld->path;
	int line = 0;
	bool has_value = show != VALUE_NONE && s != NULL &&
			 config_setting_type(s) == CONFIG_TYPE_STRING;
	const config_setting_t *named = s;

	if (f == NULL) {
		add_message(ld, 0, is_error, NULL);
		return;
	}
	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
		line = (int)config_setting_source_line(s);
		if (has_value && show == VALUE_NAMES_ELEM && config_setting_name(s) == NULL &&
		    config_setting_parent(s) != NULL &&
		    (config_setting_is_list(config_setting_parent(s)) ||
		     config_setting_is_array(config_setting_parent(s))))
			named = config_setting_parent(s);
	}
	/* libconfig names an included file as the directive wrote it */
	if (file != ld->path && strcmp(file, ld->path) != 0 && file[0] != '/' &&
	    ld->include_dir != NULL)
		fprintf(f, "%s/", strcmp(ld->include_dir, "/") == 0 ? "" : ld->include_dir);
	fputs(file, f);
	if (line > 0)
		fprintf(f, ":%d", line);
	fputs(is_error ? ": " : ": warning: ", f);
	if (named != NULL && !config_setting_is_root(named)) {
		write_path(f, named);
		if (child != NULL)
			fprintf(f, ".%s", child);
		fputs(": ", f);
	} else if (child != NULL) {
		fprintf(f, "%s: ", child);
	}
	if (has_value) {
		fputc('"', f);
		write_escaped(f, config_setting_get_string(s));
		fputs("\": ", f);
	}
	vfprintf(f, fmt, ap);
	if (fclose(f) != 0) {
		free(text);
		text = NULL;
	}
	add_message(ld, line, is_error, text);
}

/* A problem with @p s, without its value. */
static void __attribute__((format(printf, 3, 4)))
error_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, true, s, NULL, VALUE_NONE, fmt, ap);
	va_end(ap);
}

/* A problem with the string value of @p s, which is quoted in the message. */
static void __attribute__((format(printf, 3, 4)))
error_val(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, true, s, NULL, VALUE_NAMES_ELEM, fmt, ap);
	va_end(ap);
}

/* A string where something else was expected: keep the element's index. */
static void __attribute__((format(printf, 3, 4)))
error_type_val(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, true, s, NULL, VALUE_QUOTED, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
error_child(struct loader *ld, const config_setting_t *group, const char *child,
	    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, true, group, child, VALUE_NONE, fmt, ap);
	va_end(ap);
}

/* A required member @p child of @p group is absent. */
static void
error_missing(struct loader *ld, const config_setting_t *group, const char *child)
{
	error_child(ld, group, child, "required but missing");
}

static int
message_cmp(const void *a, const void *b)
{
	const struct message *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void
flush_messages(struct loader *ld, FILE *err)
{
	if (ld->n_msgs > 1)
		qsort(ld->msgs, ld->n_msgs, sizeof(ld->msgs[0]), message_cmp);
	for (unsigned i = 0; i < ld->n_msgs; i++) {
		if (err != NULL)
			fprintf(err, "%s\n", ld->msgs[i].text);
		free(ld->msgs[i].text);
	}
	free(ld->msgs);
	ld->msgs = NULL;
	ld->n_msgs = ld->cap_msgs = 0;
}

/* ---- typed access ------------------------------------------------------ */

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	default:
		return "nothing";
	}
}

static void
type_error(struct loader *ld, const config_setting_t *s, const char *expected)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		error_type_val(ld, s, "expected %s, found a string", expected);
	else
		error_at(ld, s, "expected %s, found %s", expected, type_name(s));
}

static bool
is_group(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_is_group(s))
		return true;
	type_error(ld, s, "a group { ... }");
	return false;
}

/* A list "( ... )" or array "[ ... ]" of scalars. */
static bool
is_sequence(struct loader *ld, const config_setting_t *s, const char *expected)
{
	if (config_setting_is_list(s) || config_setting_is_array(s))
		return true;
	type_error(ld, s, expected);
	return false;
}

/*
 * A list "( { ... }, ... )" of groups: libconfig arrays cannot hold groups,
 * but an empty "[ ]" is an empty list all the same.
 */
static bool
is_group_list(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_is_list(s) ||
	    (config_setting_is_array(s) && config_setting_length(s) == 0))
		return true;
	type_error(ld, s, "a list of groups ( { ... }, ... )");
	return false;
}

static const char *
get_string(struct loader *ld, const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return config_setting_get_string(s);
	type_error(ld, s, "a string");
	return NULL;
}

/* A required string member; NULL (reported) when missing or not a string. */
static const char *
need_string(struct loader *ld, const config_setting_t *group, const char *name,
	    const config_setting_t **member)
{
	const config_setting_t *m = config_setting_get_member(group, name);

	*member = m;
	if (m == NULL) {
		error_missing(ld, group, name);
		return NULL;
	}
	return get_string(ld, m);
}

static bool
get_int(struct loader *ld, const config_setting_t *s, long long lo, long long hi,
	long long *value)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		type_error(ld, s, "an integer");
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		error_at(ld, s, "%lld: must be %lld..%lld", v, lo, hi);
		return false;
	}
	*value = v;
	return true;
}

/* An optional unsigned member in lo..hi; @p value keeps its default if absent. */
static void
opt_uint(struct loader *ld, const config_setting_t *group, const char *name, long long lo,
	 long long hi, unsigned *value)
{
	const config_setting_t *m = config_setting_get_member(group, name);
	long long v;

	if (m != NULL && get_int(ld, m, lo, hi, &v))
		*value = (unsigned)v;
}

/* opt_uint() for a uint32_t field. */
static void
opt_u32(struct loader *ld, const config_setting_t *group, const char *name, long long lo,
	long long hi, uint32_t *value)
{
	const config_setting_t *m = config_setting_get_member(group, name);
	long long v;

	if (m != NULL && get_int(ld, m, lo, hi, &v))
		*value = (uint32_t)v;
}

/* An optional boolean member; @p value keeps its default if absent. */
static void
opt_bool(struct loader *ld, const config_setting_t *group, const char *name, int *value)
{
	const config_setting_t *m = config_setting_get_member(group, name);

	if (m == NULL)
		return;
	/* libconfig has true/false: a 1 or a "yes" here is a mistake, not a choice */
	if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
		type_error(ld, m, "a boolean (true or false)");
		return;
	}
	*value = config_setting_get_bool(m) ? 1 : 0;
}

/* A descriptor ring size: the PMDs want a power of two. */
static void
opt_ring_size(struct loader *ld, const config_setting_t *group, const char *name,
	      uint16_t *value)
{
	const config_setting_t *m = config_setting_get_member(group, name);
	long long v;

	if (m == NULL || !get_int(ld, m, 64, 4096, &v))
		return;
	if ((v & (v - 1)) != 0) {
		error_at(ld, m, "%lld: must be a power of two (64..4096)", v);
		return;
	}
	*value = (uint16_t)v;
}

/* Every member of @p group must be in @p known (NULL-terminated). */
static void
check_members(struct loader *ld, const config_setting_t *group, const char *const *known)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *const *k;
		char list[256] = "";
		size_t used = 0;

		for (k = known; *k != NULL && strcmp(*k, config_setting_name(m)) != 0; k++)
			;
		if (*k != NULL)
			continue;
		for (k = known; *k != NULL && used < sizeof(list); k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 k == known ? "" : ", ", *k);
		error_at(ld, m, "unknown setting (known here: %s)", list);
	}
}

/* ---- addresses ---------------------------------------------------------- */

/* Why @p addr cannot be a port's own address, or NULL. */
static const char *
unusable_port_addr(const struct rp_prefix *p)
{
	uint32_t a = p->addr, host_mask = ~rp_prefix_mask(p->len);

	if ((a >> 24) == 0)
		return "0.0.0.0/8 (\"this network\") is not a host address";
	if ((a >> 24) == 127)
		return "loopback addresses (127.0.0.0/8) cannot be on a port";
	if ((a >> 28) == 0xe)
		return "multicast addresses (224.0.0.0/4) cannot be on a port";
	if ((a >> 28) == 0xf)
		return "reserved and broadcast addresses (240.0.0.0/4) cannot be on a port";
	/* a /31 or /32 has no network or broadcast address (RFC 3021) */
	if (p->len <= 30 && (a & host_mask) == 0)
		return "host part is zero: that is the subnet's own address";
	if (p->len <= 30 && (a & host_mask) == host_mask)
		return "host part is all ones: that is the subnet's broadcast address";
	return NULL;
}

static bool
prefix_contains(const struct rp_prefix *p, uint32_t addr)
{
	return ((p->addr ^ addr) & rp_prefix_mask(p->len)) == 0;
}

/* The port carrying @p addr as one of its own addresses, or -1. */
static int
own_address_port(const struct rp_config *cfg, uint32_t addr)
{
	for (unsigned i = 0; i < cfg->n_ports; i++)
		for (unsigned k = 0; k < cfg->ports[i].n_addrs; k++)
			if (cfg->ports[i].addrs[k].addr == addr)
				return (int)i;
	return -1;
}

/* The port whose connected subnet holds @p addr (longest prefix), or -1. */
static int
connected_port(const struct rp_config *cfg, uint32_t addr)
{
	int best = -1, best_len = -1;

	for (unsigned i = 0; i < cfg->n_ports; i++)
		for (unsigned k = 0; k < cfg->ports[i].n_addrs; k++) {
			const struct rp_prefix *p = &cfg->ports[i].addrs[k];
			if (prefix_contains(p, addr) && p->len > best_len) {
				best = (int)i;
				best_len = p->len;
			}
		}
	return best;
}

static bool
port_has_subnet_of(const struct rp_port_conf *pc, uint32_t addr)
{
	for (unsigned k = 0; k < pc->n_addrs; k++)
		if (prefix_contains(&pc->addrs[k], addr))
			return true;
	return false;
}

/* ---- sections ----------------------------------------------------------- */

static void
load_eal(struct loader *ld, const config_setting_t *s)
{
	struct rp_config *cfg = ld->cfg;
	int n;

	if (!is_sequence(ld, s, "a list of strings [ \"-l\", \"0-1\", ... ]"))
		return;
	n = config_setting_length(s);
	/* NULL-terminated like argv, which is how the daemon passes it on */
	cfg->eal_args = calloc((size_t)n + 1, sizeof(*cfg->eal_args));
	if (cfg->eal_args == NULL) {
		error_at(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *arg = get_string(ld, e);

		if (arg == NULL)
			continue;
		if (*arg == '\0') {
			error_val(ld, e, "empty EAL argument");
			continue;
		}
		cfg->eal_args[cfg->n_eal_args] = strdup(arg);
		if (cfg->eal_args[cfg->n_eal_args] == NULL) {
			error_at(ld, e, "out of memory");
			continue;
		}
		cfg->n_eal_args++;
	}
}

static void
load_workers(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"lcores", "burst", "idle_sleep_us", NULL};
	struct rp_workers_conf *w = &ld->cfg->workers;
	const config_setting_t *lcores;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	w->line = (int)config_setting_source_line(s);
	opt_uint(ld, s, "burst", 1, RP_BURST_MAX, &w->burst);
	opt_uint(ld, s, "idle_sleep_us", 0, 100000, &w->idle_sleep_us);

	lcores = config_setting_get_member(s, "lcores");
	if (lcores == NULL)
		return;
	ld->lcores_given = true;
	ld->n_workers = -1;
	if (!is_sequence(ld, lcores, "a list of lcore numbers [ 1, 2, ... ]"))
		return;
	int n = config_setting_length(lcores);
	if (n == 0) {
		error_at(ld, lcores, "at least one worker lcore is required");
		return;
	}
	if (n > RP_MAX_WORKERS) {
		error_at(ld, lcores, "%d lcores: at most %d workers are supported", n,
			 RP_MAX_WORKERS);
		return;
	}
	ld->n_workers = n;
	w->n_lcores = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(lcores, (unsigned)i);
		long long v;
		bool dup = false;

		if (!get_int(ld, e, 1, RP_LCORE_LIMIT - 1, &v))
			continue;
		for (int j = 0; j < i && !dup; j++) {
			const config_setting_t *o = config_setting_get_elem(lcores, (unsigned)j);
			if ((config_setting_type(o) == CONFIG_TYPE_INT ||
			     config_setting_type(o) == CONFIG_TYPE_INT64) &&
			    config_setting_get_int64(o) == v) {
				error_at(ld, e, "lcore %lld is listed twice (also workers.lcores[%d])",
					 v, j);
				dup = true;
			}
		}
		if (dup)
			continue;
		w->lcores[w->n_lcores] = (unsigned)v;
		w->lcore_lines[w->n_lcores] = (int)config_setting_source_line(e);
		w->n_lcores++;
	}
}

/*
 * A name that fits a Linux interface name (IFNAMSIZ) and is safe in messages
 * and rules: 1..15 of [A-Za-z0-9_.-]. Reports the problem with @p m.
 */
static bool
check_name(struct loader *ld, const config_setting_t *m, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= RP_NAME_MAX) {
		error_val(ld, m, "must be 1..%d characters", RP_NAME_MAX - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-')) {
			error_val(ld, m, "may contain only letters, digits, '_', '.' and '-'");
			return false;
		}
	}
	return true;
}

static void
load_port_name(struct loader *ld, const config_setting_t *group, unsigned idx)
{
	struct rp_port_conf *pc = &ld->cfg->ports[idx];
	const config_setting_t *m;
	const char *name = need_string(ld, group, "name", &m);

	if (name == NULL || !check_name(ld, m, name)) {
		ld->port_names_ok = false;
		return;
	}
	for (unsigned j = 0; j < idx; j++) {
		if (strcmp(ld->cfg->ports[j].name, name) == 0) {
			error_val(ld, m, "duplicate port name (also ports[%u], line %d)", j,
				  ld->cfg->ports[j].line);
			break;
		}
	}
	snprintf(pc->name, sizeof(pc->name), "%s", name);
}

static void
load_port_device(struct loader *ld, const config_setting_t *group, unsigned idx)
{
	struct rp_port_conf *pc = &ld->cfg->ports[idx];
	struct port_extra *px = &ld->px[idx];
	const config_setting_t *m;
	const char *device = need_string(ld, group, "device", &m);
	char why[160];

	if (device == NULL)
		return;
	if (rp_device_parse(device, &px->dev, why, sizeof(why)) < 0) {
		error_val(ld, m, "%s", why);
		return;
	}
	px->device = m;
	snprintf(pc->device, sizeof(pc->device), "%s", device);
}

static void
load_port_address(struct loader *ld, const config_setting_t *e, unsigned idx)
{
	struct rp_port_conf *pc = &ld->cfg->ports[idx];
	const config_setting_t *s = config_setting_get_member(e, "address");
	int n;

	if (s == NULL) {
		error_missing(ld, e, "address");
		ld->port_addrs_ok = false;
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		n = 1;
	} else if (config_setting_is_list(s) || config_setting_is_array(s)) {
		n = config_setting_length(s);
		if (n == 0 || n > RP_PORT_ADDRS_MAX) {
			error_at(ld, s, "%d addresses: a port has 1..%d", n, RP_PORT_ADDRS_MAX);
			ld->port_addrs_ok = false;
			return;
		}
	} else {
		type_error(ld, s, "a string or a list of strings [ \"a.b.c.d/len\", ... ]");
		ld->port_addrs_ok = false;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *el =
			config_setting_type(s) == CONFIG_TYPE_STRING ? s
								     : config_setting_get_elem(s, (unsigned)i);
		const char *text = get_string(ld, el);
		struct rp_prefix p;
		const char *why;
		bool dup = false;

		if (text == NULL) {
			ld->port_addrs_ok = false;
			continue;
		}
		switch (rp_prefix_parse_status(text, &p)) {
		case RP_PREFIX_BAD_SYNTAX:
			error_val(ld, el, "not an IPv4 address with optional prefix length (a.b.c.d[/len])");
			ld->port_addrs_ok = false;
			continue;
		case RP_PREFIX_BAD_LEN:
			error_val(ld, el, "prefix length must be 0..32");
			ld->port_addrs_ok = false;
			continue;
		case RP_PREFIX_OK:
			break;
		}
		why = unusable_port_addr(&p);
		if (why != NULL) {
			error_val(ld, el, "%s", why);
			ld->port_addrs_ok = false;
			continue;
		}
		for (unsigned k = 0; k < pc->n_addrs && !dup; k++)
			dup = pc->addrs[k].addr == p.addr;
		if (dup) {
			error_val(ld, el, "duplicate address on this port");
			continue;
		}
		ld->px[idx].addr[pc->n_addrs] = el;
		pc->addrs[pc->n_addrs++] = p;
	}
}

static void
load_port(struct loader *ld, const config_setting_t *e, unsigned idx)
{
	static const char *const known[] = {"name", "device", "address", "mtu",
					    "rx_desc", "tx_desc", NULL};
	struct rp_port_conf *pc = &ld->cfg->ports[idx];

	pc->line = (int)config_setting_source_line(e);
	pc->mtu = 1500;
	pc->rx_desc = 1024;
	pc->tx_desc = 1024;
	if (!is_group(ld, e)) {
		ld->port_names_ok = false;
		ld->port_addrs_ok = false;
		return;
	}
	check_members(ld, e, known);
	load_port_name(ld, e, idx);
	load_port_device(ld, e, idx);
	load_port_address(ld, e, idx);

	unsigned mtu = pc->mtu;
	opt_uint(ld, e, "mtu", 68, 9600, &mtu);
	pc->mtu = (uint16_t)mtu;
	opt_ring_size(ld, e, "rx_desc", &pc->rx_desc);
	opt_ring_size(ld, e, "tx_desc", &pc->tx_desc);
}

/* Checks between ports: devices, subnets, af_packet queue pairs. */
static void
check_ports(struct loader *ld)
{
	const struct rp_config *cfg = ld->cfg;

	for (unsigned j = 0; j < cfg->n_ports; j++) {
		const struct port_extra *pj = &ld->px[j];

		for (unsigned i = 0; i < j && pj->device != NULL; i++) {
			if (ld->px[i].device != NULL && rp_device_same(&ld->px[i].dev, &pj->dev)) {
				error_val(ld, pj->device, "same device as ports[%u] (line %d)", i,
					  cfg->ports[i].line);
				break;
			}
		}
		for (unsigned kb = 0; kb < cfg->ports[j].n_addrs; kb++) {
			const struct rp_prefix *b = &cfg->ports[j].addrs[kb];
			bool reported = false;

			for (unsigned i = 0; i < j && !reported; i++) {
				for (unsigned ka = 0; ka < cfg->ports[i].n_addrs && !reported; ka++) {
					const struct rp_prefix *a = &cfg->ports[i].addrs[ka];
					uint8_t len = a->len < b->len ? a->len : b->len;

					if (((a->addr ^ b->addr) & rp_prefix_mask(len)) != 0)
						continue;
					if (a->addr == b->addr)
						error_val(ld, pj->addr[kb],
							  "duplicate address: also on ports[%u] (line %d)",
							  i, cfg->ports[i].line);
					else
						error_val(ld, pj->addr[kb],
							  "subnet overlaps \"%s\" of ports[%u] (line %d)",
							  config_setting_get_string(ld->px[i].addr[ka]), i,
							  cfg->ports[i].line);
					reported = true;
				}
			}
		}
		if (pj->device != NULL && pj->dev.is_af_packet && ld->n_workers > 0 &&
		    pj->dev.qpairs != (unsigned)ld->n_workers) {
			if (ld->lcores_given)
				error_val(ld, pj->device,
					  "net_af_packet has qpairs=%u but workers.lcores gives %d worker%s: "
					  "each worker needs one queue pair",
					  pj->dev.qpairs, ld->n_workers, ld->n_workers == 1 ? "" : "s");
			else
				error_val(ld, pj->device,
					  "net_af_packet has qpairs=%u but there is 1 worker (the default; "
					  "set workers.lcores): each worker needs one queue pair",
					  pj->dev.qpairs);
		}
	}
}

static void
load_ports(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "ports");
	int n;

	if (s == NULL) {
		error_missing(ld, root, "ports");
		return;
	}
	if (!is_group_list(ld, s))
		return;
	n = config_setting_length(s);
	if (n == 0 || n > RP_MAX_PORTS) {
		error_at(ld, s, "%d ports: 1..%d are supported", n, RP_MAX_PORTS);
		return;
	}
	ld->port_names_ok = true;
	ld->port_addrs_ok = true;
	for (int i = 0; i < n; i++) {
		load_port(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);
		ld->cfg->n_ports++;
	}
	check_ports(ld);
}

/* A `port = "name"` reference, -1 (reported when meaningful) if it names none. */
static int
port_reference(struct loader *ld, const config_setting_t *m)
{
	const char *name = get_string(ld, m);
	int idx;

	if (name == NULL)
		return -1;
	idx = rp_config_port_index(ld->cfg, name);
	/* with a broken port name the reference may be right: that error is reported */
	if (idx < 0 && ld->port_names_ok)
		error_val(ld, m, "no such port");
	return idx;
}

static void
load_route(struct loader *ld, const config_setting_t *e, unsigned idx)
{
	static const char *const known[] = {"to", "via", "port", NULL};
	struct rp_config *cfg = ld->cfg;
	struct rp_route_conf *rc = &cfg->routes[idx];
	const config_setting_t *to_s, *via_s, *port_s;
	const char *text;
	char buf[16];
	bool to_ok = false, via_ok = false;
	int via_port = -1, named_port = -1;

	rc->line = (int)config_setting_source_line(e);
	rc->port = -1;
	if (!is_group(ld, e))
		return;
	check_members(ld, e, known);

	text = need_string(ld, e, "to", &to_s);
	if (text != NULL) {
		switch (rp_prefix_parse_status(text, &rc->to)) {
		case RP_PREFIX_BAD_SYNTAX:
			error_val(ld, to_s, "not an IPv4 prefix (a.b.c.d/len)");
			break;
		case RP_PREFIX_BAD_LEN:
			error_val(ld, to_s, "prefix length must be 0..32");
			break;
		case RP_PREFIX_OK:
			if ((rc->to.addr & ~rp_prefix_mask(rc->to.len)) != 0)
				error_val(ld, to_s,
					  "invalid prefix for given prefix length (the network is %s/%u)",
					  rp_ipv4_fmt(rc->to.addr & rp_prefix_mask(rc->to.len), buf),
					  rc->to.len);
			else
				to_ok = true;
			break;
		}
	}
	if (to_ok) {
		for (unsigned j = 0; j < idx; j++) {
			const struct rp_route_conf *o = &cfg->routes[j];
			if (o->to.len == rc->to.len && o->to.addr == rc->to.addr) {
				error_val(ld, to_s, "duplicate route (also routes[%u], line %d)", j,
					  o->line);
				to_ok = false;
				break;
			}
		}
	}
	for (unsigned i = 0; to_ok && i < cfg->n_ports; i++) {
		for (unsigned k = 0; k < cfg->ports[i].n_addrs; k++) {
			const struct rp_prefix *p = &cfg->ports[i].addrs[k];
			if (p->len == rc->to.len &&
			    (p->addr & rp_prefix_mask(p->len)) == rc->to.addr) {
				error_val(ld, to_s, "is the connected subnet of port %s already",
					  cfg->ports[i].name);
				to_ok = false;
				break;
			}
		}
	}

	via_s = config_setting_get_member(e, "via");
	if (via_s != NULL && (text = get_string(ld, via_s)) != NULL) {
		int own;

		if (rp_ipv4_parse(text, &rc->via) < 0) {
			error_val(ld, via_s, "not an IPv4 address (a.b.c.d)");
		} else if ((own = own_address_port(cfg, rc->via)) >= 0) {
			error_val(ld, via_s, "is an address of port %s: a gateway is another host",
				  cfg->ports[own].name);
		} else {
			via_port = connected_port(cfg, rc->via);
			if (via_port < 0 && ld->port_addrs_ok)
				error_val(ld, via_s,
					  "not in a connected subnet of any port: a gateway must be directly reachable");
			via_ok = via_port >= 0;
		}
	}

	port_s = config_setting_get_member(e, "port");
	if (port_s != NULL)
		named_port = port_reference(ld, port_s);

	if (via_s == NULL && port_s == NULL)
		error_at(ld, e, "needs \"via\" (a gateway), \"port\" (a direct route) or both");
	if (via_ok && named_port >= 0 && via_port != named_port)
		error_val(ld, port_s, "gateway %s is in the subnet of port %s",
			  rp_ipv4_fmt(rc->via, buf), cfg->ports[via_port].name);
	rc->port = via_s != NULL ? via_port : named_port;
}

static void
load_routes(struct loader *ld, const config_setting_t *s)
{
	struct rp_config *cfg = ld->cfg;
	int n;

	if (!is_group_list(ld, s))
		return;
	n = config_setting_length(s);
	cfg->routes = calloc(n > 0 ? (size_t)n : 1, sizeof(*cfg->routes));
	if (cfg->routes == NULL) {
		error_at(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		load_route(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);
		cfg->n_routes++;
	}
}

static void
load_neighbour(struct loader *ld, const config_setting_t *e, unsigned idx)
{
	static const char *const known[] = {"address", "mac", "port", NULL};
	struct rp_config *cfg = ld->cfg;
	struct rp_neigh_conf *nc = &cfg->neighbours[idx];
	const config_setting_t *addr_s, *mac_s, *port_s;
	const char *text;
	bool addr_ok = false;
	int own;

	nc->line = (int)config_setting_source_line(e);
	nc->port = -1;
	if (!is_group(ld, e))
		return;
	check_members(ld, e, known);

	text = need_string(ld, e, "mac", &mac_s);
	if (text != NULL) {
		static const uint8_t zero[6];
		if (rp_mac_parse(text, nc->mac) < 0)
			error_val(ld, mac_s, "not a MAC address (xx:xx:xx:xx:xx:xx)");
		else if (memcmp(nc->mac, zero, sizeof(zero)) == 0)
			error_val(ld, mac_s, "the all-zero MAC address is not a host's");
		else if (nc->mac[0] & 1)
			error_val(ld, mac_s, "a multicast or broadcast MAC address is not a host's");
	}

	port_s = config_setting_get_member(e, "port");
	if (port_s == NULL)
		error_missing(ld, e, "port");
	else
		nc->port = port_reference(ld, port_s);

	text = need_string(ld, e, "address", &addr_s);
	if (text == NULL)
		return;
	if (rp_ipv4_parse(text, &nc->addr) < 0) {
		error_val(ld, addr_s, "not an IPv4 address (a.b.c.d)");
		return;
	}
	if ((own = own_address_port(cfg, nc->addr)) >= 0) {
		error_val(ld, addr_s, "is an address of port %s, not a neighbour's",
			  cfg->ports[own].name);
		return;
	}
	addr_ok = true;
	for (unsigned j = 0; j < idx; j++) {
		if (cfg->neighbours[j].addr == nc->addr) {
			error_val(ld, addr_s, "duplicate neighbour (also neighbours[%u], line %d)", j,
				  cfg->neighbours[j].line);
			addr_ok = false;
			break;
		}
	}
	if (addr_ok && nc->port >= 0 && ld->port_addrs_ok &&
	    !port_has_subnet_of(&cfg->ports[nc->port], nc->addr))
		error_val(ld, addr_s, "not in a connected subnet of port %s",
			  cfg->ports[nc->port].name);
}

static void
load_neighbours(struct loader *ld, const config_setting_t *s)
{
	struct rp_config *cfg = ld->cfg;
	int n;

	if (!is_group_list(ld, s))
		return;
	n = config_setting_length(s);
	cfg->neighbours = calloc(n > 0 ? (size_t)n : 1, sizeof(*cfg->neighbours));
	if (cfg->neighbours == NULL) {
		error_at(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		load_neighbour(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);
		cfg->n_neighbours++;
	}
}

static void
load_arp(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"reachable_ms", "retrans_ms", "probes",
					    "hold_packets", "gc_stale_ms", "max", NULL};
	struct rp_neigh_timing *t = &ld->cfg->neigh;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	opt_uint(ld, s, "reachable_ms", 100, 3600000, &t->reachable_ms);
	opt_uint(ld, s, "retrans_ms", 10, 60000, &t->retrans_ms);
	opt_uint(ld, s, "probes", 1, 10, &t->probes);
	opt_uint(ld, s, "hold_packets", 1, 256, &t->hold_packets);
	opt_uint(ld, s, "gc_stale_ms", 1000, 86400000, &t->gc_stale_ms);
	opt_uint(ld, s, "max", 16, 1048576, &t->max);
}

static void
load_icmp(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"ratelimit", "burst", NULL};

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	opt_uint(ld, s, "ratelimit", 0, 1000000, &ld->cfg->icmp.ratelimit_pps);
	opt_uint(ld, s, "burst", 1, 10000, &ld->cfg->icmp.burst);
}

static void
load_control(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"socket", NULL};
	const config_setting_t *m;
	const char *path;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	m = config_setting_get_member(s, "socket");
	if (m == NULL || (path = get_string(ld, m)) == NULL)
		return;
	if (*path == '\0' || strlen(path) >= RP_SOCKET_PATH_MAX) {
		error_val(ld, m, "a unix socket path has 1..%zu characters",
			  RP_SOCKET_PATH_MAX - 1);
		return;
	}
	snprintf(ld->cfg->control_socket, sizeof(ld->cfg->control_socket), "%s", path);
}

/* ---- conntrack ----------------------------------------------------------- */

#define RP_CT_MAX_MIN 1024
#define RP_CT_MAX_MAX 67108864
#define RP_CT_EXPECT_LIMIT 64
/* seconds whose milliseconds still fit in 31 bits */
#define RP_CT_TIMEOUT_MAX 2147483

/* conntrack.timeouts: names and fields in one list, so they cannot disagree. */
#define RP_CT_TIMEOUT_FIELDS(_)                                                              \
	_(tcp_syn_sent) _(tcp_syn_recv) _(tcp_established) _(tcp_fin_wait) _(tcp_close_wait) \
	_(tcp_last_ack) _(tcp_time_wait) _(tcp_close) _(tcp_syn_sent2) _(tcp_max_retrans)   \
	_(tcp_unacknowledged) _(udp) _(udp_stream) _(icmp) _(generic)

#define RP_CT_TIMEOUT_NAME(f) #f,
#define RP_CT_TIMEOUT_OFFSET(f) offsetof(struct rp_ct_timeout_conf, f),

static const char *const ct_timeout_names[] = {RP_CT_TIMEOUT_FIELDS(RP_CT_TIMEOUT_NAME) NULL};
static const size_t ct_timeout_offsets[] = {RP_CT_TIMEOUT_FIELDS(RP_CT_TIMEOUT_OFFSET)};
_Static_assert(sizeof(ct_timeout_offsets) / sizeof(ct_timeout_offsets[0]) ==
		       sizeof(struct rp_ct_timeout_conf) / sizeof(uint32_t),
	       "every field of struct rp_ct_timeout_conf has a name in conntrack.timeouts");

static const struct {
	const char *name;
	unsigned bit;
} ct_helpers[] = {
	{"ftp", RP_CT_HELPER_FTP},
};

static void
load_ct_timeouts(struct loader *ld, const config_setting_t *s)
{
	struct rp_ct_timeout_conf *t = &ld->cfg->conntrack.timeouts;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, ct_timeout_names);
	for (size_t i = 0; i < sizeof(ct_timeout_offsets) / sizeof(ct_timeout_offsets[0]); i++)
		opt_u32(ld, s, ct_timeout_names[i], 1, RP_CT_TIMEOUT_MAX,
			(uint32_t *)((char *)t + ct_timeout_offsets[i]));
}

static void
load_ct_frag(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"max_datagrams", "timeout_ms", NULL};
	struct rp_ct_frag_conf *f = &ld->cfg->conntrack.frag;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	opt_u32(ld, s, "max_datagrams", 16, 1048576, &f->max_datagrams);
	opt_u32(ld, s, "timeout_ms", 100, 600000, &f->timeout_ms);
}

static void
load_ct_helpers(struct loader *ld, const config_setting_t *s)
{
	struct rp_ct_config *ct = &ld->cfg->conntrack;
	int n;

	if (!is_sequence(ld, s, "a list of helper names [ \"ftp\" ]"))
		return;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = get_string(ld, e);
		size_t h;

		if (name == NULL)
			continue;
		for (h = 0; h < sizeof(ct_helpers) / sizeof(ct_helpers[0]); h++)
			if (strcmp(ct_helpers[h].name, name) == 0)
				break;
		if (h == sizeof(ct_helpers) / sizeof(ct_helpers[0])) {
			error_val(ld, e, "unknown helper (known: ftp)");
			continue;
		}
		if (ct->helpers & ct_helpers[h].bit) {
			error_val(ld, e, "helper listed twice");
			continue;
		}
		ct->helpers |= ct_helpers[h].bit;
	}
}

static void
load_ct_ftp_ports(struct loader *ld, const config_setting_t *s)
{
	struct rp_ct_config *ct = &ld->cfg->conntrack;
	int n;

	if (!is_sequence(ld, s, "a list of port numbers [ 21, ... ]"))
		return;
	n = config_setting_length(s);
	if (n == 0 || n > RP_CT_FTP_PORTS_MAX) {
		error_at(ld, s, "%d ports: 1..%d are allowed", n, RP_CT_FTP_PORTS_MAX);
		return;
	}
	ct->n_ftp_ports = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v;
		bool dup = false;

		if (!get_int(ld, e, 1, 65535, &v))
			continue;
		for (int j = 0; j < i && !dup; j++) {
			const config_setting_t *o = config_setting_get_elem(s, (unsigned)j);
			if ((config_setting_type(o) == CONFIG_TYPE_INT ||
			     config_setting_type(o) == CONFIG_TYPE_INT64) &&
			    config_setting_get_int64(o) == v) {
				error_at(ld, e, "port %lld is listed twice (also conntrack.ftp_ports[%d])",
					 v, j);
				dup = true;
			}
		}
		if (!dup)
			ct->ftp_ports[ct->n_ftp_ports++] = (uint16_t)v;
	}
}

static void
load_conntrack(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"max", "tcp_loose", "checksum", "helpers",
					    "ftp_ports", "expect_max", "frag", "timeouts", NULL};
	struct rp_ct_config *ct = &ld->cfg->conntrack;
	const config_setting_t *m;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	opt_u32(ld, s, "max", RP_CT_MAX_MIN, RP_CT_MAX_MAX, &ct->max);
	opt_bool(ld, s, "tcp_loose", &ct->tcp_loose);
	opt_bool(ld, s, "checksum", &ct->checksum);
	opt_u32(ld, s, "expect_max", 1, RP_CT_EXPECT_LIMIT, &ct->expect_max);
	if ((m = config_setting_get_member(s, "helpers")) != NULL)
		load_ct_helpers(ld, m);
	if ((m = config_setting_get_member(s, "ftp_ports")) != NULL)
		load_ct_ftp_ports(ld, m);
	if ((m = config_setting_get_member(s, "frag")) != NULL)
		load_ct_frag(ld, m);
	if ((m = config_setting_get_member(s, "timeouts")) != NULL)
		load_ct_timeouts(ld, m);
}

/* ---- filter --------------------------------------------------------------- */

/* filter.policy: "ACCEPT" or "DROP" per built-in chain, as iptables -P takes them. */
static void
load_filter_policy(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"input", "forward", "output", NULL};
	struct rp_filter_conf *fc = &ld->cfg->filter;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	for (int i = 0; i < RP_FILTER_POLICY_CHAINS; i++) {
		const config_setting_t *m = config_setting_get_member(s, known[i]);
		const char *v;

		if (m == NULL || (v = get_string(ld, m)) == NULL)
			continue;
		if (strcmp(v, "ACCEPT") == 0) {
			fc->policy[i] = RP_POLICY_ACCEPT;
		} else if (strcmp(v, "DROP") == 0) {
			fc->policy[i] = RP_POLICY_DROP;
		} else {
			error_val(ld, m, "a policy is \"ACCEPT\" or \"DROP\"");
			continue;
		}
		fc->policy_line[i] = (int)config_setting_source_line(m);
	}
}

/*
 * libconfig 1.5 gives a list element the line of the token after it (for
 * the last rule, the "]" on the next line), so the line where each element
 * of list @p name begins is read from the file itself: a small scanner that
 * knows libconfig's strings and comments. false when the text is not what
 * it expects: libconfig's lines are used then.
 */
static bool
list_elem_lines(const char *file, int from_line, const char *name, int *lines, int n)
{
	FILE *f = fopen(file, "r");
	enum { NAME, OPEN, LIST, DONE } phase = NAME;
	int ch, line = 1, elem = 0;
	bool in_elem = false;
	char ident[64];
	size_t id_len = 0;

	if (f == NULL)
		return false;
	while (phase != DONE && (ch = getc(f)) != EOF) {
		if (ch == '\n') {
			line++;
			continue;
		}
		if (line < from_line)
			continue;
		if (ch == '/') {
			int prev = 0;

			ch = getc(f);
			if (ch == '*') {
				while ((ch = getc(f)) != EOF && !(prev == '*' && ch == '/')) {
					line += ch == '\n';
					prev = ch;
				}
				continue;
			}
			if (ch != '/')
				break; /* not libconfig's syntax: give up */
		}
		if (ch == '#' || ch == '/') {
			while ((ch = getc(f)) != EOF && ch != '\n')
				;
			line++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r')
			continue;
		if (phase == NAME) {
			if (isalnum(ch) || ch == '_' || ch == '*' || ch == '-') {
				if (id_len + 1 < sizeof(ident))
					ident[id_len++] = (char)ch;
				continue;
			}
			if (id_len == strlen(name) && strncmp(ident, name, id_len) == 0 &&
			    (ch == '=' || ch == ':'))
				phase = OPEN;
			id_len = 0;
			if (ch == '"') /* another setting's string: skip it whole */
				while ((ch = getc(f)) != EOF && ch != '"') {
					if (ch == '\\')
						ch = getc(f);
					line += ch == '\n';
				}
			continue;
		}
		if (phase == OPEN) {
			if (ch != '[' && ch != '(')
				break;
			phase = LIST;
			continue;
		}
		/* LIST: elements start at their first character, end at ',' or the bracket */
		if (ch == ']' || ch == ')') {
			elem += in_elem;
			phase = DONE;
		} else if (ch == ',') {
			elem += in_elem;
			in_elem = false;
		} else {
			if (!in_elem) {
				if (elem >= n)
					break;
				lines[elem] = line;
				in_elem = true;
			}
			if (ch == '"')
				while ((ch = getc(f)) != EOF && ch != '"') {
					if (ch == '\\')
						ch = getc(f);
					line += ch == '\n';
				}
		}
	}
	fclose(f);
	return phase == DONE && elem == n;
}

/* The file a setting was read from, as a path (libconfig names an @include as written). */
static void
setting_file(const struct loader *ld, const config_setting_t *s, char *buf, size_t size)
{
	const char *file = config_setting_source_file(s);

	if (file == NULL || strcmp(file, ld->path) == 0 || file[0] == '/' || ld->include_dir == NULL)
		snprintf(buf, size, "%s", file != NULL ? file : ld->path);
	else
		snprintf(buf, size, "%s/%s", strcmp(ld->include_dir, "/") == 0 ? "" : ld->include_dir,
			 file);
}

/* filter.rules: the strings as written; lib/filter reads them (with their lines). */
static void
load_filter_rules(struct loader *ld, const config_setting_t *s)
{
	struct rp_filter_conf *fc = &ld->cfg->filter;
	char file[2 * RP_PATH_MAX];
	int *elem_lines;
	int n;

	if (!is_sequence(ld, s, "a list of rule strings [ \"-A INPUT ...\", ... ]"))
		return;
	n = config_setting_length(s);
	fc->rules = calloc(n > 0 ? (size_t)n : 1, sizeof(*fc->rules));
	fc->rule_lines = calloc(n > 0 ? (size_t)n : 1, sizeof(*fc->rule_lines));
	if (fc->rules == NULL || fc->rule_lines == NULL) {
		error_at(ld, s, "out of memory");
		return;
	}
	setting_file(ld, s, file, sizeof(file));
	elem_lines = calloc(n > 0 ? (size_t)n : 1, sizeof(*elem_lines));
	if (elem_lines != NULL &&
	    !list_elem_lines(file, (int)config_setting_source_line(s), config_setting_name(s),
			     elem_lines, n)) {
		free(elem_lines);
		elem_lines = NULL;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *rule = get_string(ld, e);
		int line = elem_lines != NULL ? elem_lines[i] : (int)config_setting_source_line(e);

		if (rule == NULL)
			continue;
		fc->rules[fc->n_rules] = strdup(rule);
		if (fc->rules[fc->n_rules] == NULL) {
			error_at(ld, e, "out of memory");
			continue;
		}
		fc->rule_lines[fc->n_rules] = line > 0 ? line : (int)config_setting_source_line(s);
		fc->n_rules++;
	}
	free(elem_lines);
}

/* filter.rules_file: an iptables-save file, relative to the config file's directory. */
static void
load_filter_rules_file(struct loader *ld, const config_setting_t *s)
{
	struct rp_filter_conf *fc = &ld->cfg->filter;
	const char *path = get_string(ld, s), *slash;
	size_t dir_len;

	if (path == NULL)
		return;
	if (*path == '\0') {
		error_val(ld, s, "empty path");
		return;
	}
	slash = strrchr(ld->path, '/');
	dir_len = slash == NULL ? 0 : (size_t)(slash - ld->path) + 1;
	if (path[0] == '/' || dir_len == 0) {
		fc->rules_file = strdup(path);
	} else {
		fc->rules_file = malloc(dir_len + strlen(path) + 1);
		if (fc->rules_file != NULL)
			sprintf(fc->rules_file, "%.*s%s", (int)dir_len, ld->path, path);
	}
	if (fc->rules_file == NULL) {
		error_at(ld, s, "out of memory");
		return;
	}
	fc->rules_file_line = (int)config_setting_source_line(s);
}

static void
load_filter(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"policy", "rules", "rules_file", "revalidate", NULL};
	struct rp_filter_conf *fc = &ld->cfg->filter;
	const config_setting_t *rules, *rules_file, *m;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	fc->line = (int)config_setting_source_line(s);
	if ((m = config_setting_get_member(s, "policy")) != NULL)
		load_filter_policy(ld, m);
	rules = config_setting_get_member(s, "rules");
	rules_file = config_setting_get_member(s, "rules_file");
	if (rules != NULL && rules_file != NULL) {
		error_at(ld, rules_file, "rules (line %d) and rules_file exclude each other: give one",
			 (int)config_setting_source_line(rules));
	} else if (rules != NULL) {
		load_filter_rules(ld, rules);
	} else if (rules_file != NULL) {
		load_filter_rules_file(ld, rules_file);
	}
	opt_bool(ld, s, "revalidate", &fc->revalidate);
}

/* ---- host ------------------------------------------------------------------ */

#define RP_HOST_DEFAULT_IFACE "rampart0"
#define RP_HOST_DEFAULT_DEVICE "net_tap"

/*
 * The value of argument @p key in a device string already checked by
 * rp_device_parse ("net_af_packet0,iface=rp-lan,qpairs=2" -> "rp-lan" for
 * "iface"), into @p buf. @return false when the string has no such argument.
 */
static bool
device_arg(const char *device, const char *key, char *buf, size_t size)
{
	size_t key_len = strlen(key);
	const char *p = strchr(device, ',');

	while (p != NULL) {
		const char *arg = p + 1, *end;

		/* a bracketed list value "k=[a,b]" holds commas of its own */
		end = strchr(arg, '=');
		if (end != NULL && end[1] == '[' && strchr(end, ']') != NULL)
			end = strchr(strchr(end, ']'), ',');
		else
			end = strchr(arg, ',');
		if (strncmp(arg, key, key_len) == 0 && arg[key_len] == '=') {
			size_t len = (end != NULL ? (size_t)(end - arg) : strlen(arg)) - key_len - 1;

			snprintf(buf, size, "%.*s", (int)len, arg + key_len + 1);
			return true;
		}
		p = end;
	}
	return false;
}

/* host.interface: a valid kernel interface name. */
static void
load_host_interface(struct loader *ld, const config_setting_t *m)
{
	struct rp_host_conf *hc = &ld->cfg->host;
	const char *name = get_string(ld, m);

	if (name == NULL || !check_name(ld, m, name))
		return;
	/* Linux refuses these two (dev_valid_name): they are directory entries */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		error_val(ld, m, "not a valid interface name");
		return;
	}
	snprintf(hc->interface, sizeof(hc->interface), "%s", name);
}

/*
 * The host interface is a new kernel interface: none that a port's device
 * drives already (iface= of af_packet, tap, pcap). @p m is host.interface,
 * or NULL when the default is used (reported at the section @p s then).
 */
static void
check_host_interface(struct loader *ld, const config_setting_t *s, const config_setting_t *m)
{
	const struct rp_config *cfg = ld->cfg;
	char iface[RP_DEVICE_MAX];

	for (unsigned i = 0; i < cfg->n_ports; i++) {
		if (ld->px[i].device == NULL ||
		    !device_arg(cfg->ports[i].device, "iface", iface, sizeof(iface)) ||
		    strcmp(iface, cfg->host.interface) != 0)
			continue;
		if (m != NULL)
			error_val(ld, m,
				  "is the interface of port %s's device (ports[%u], line %d): "
				  "the host interface is a new one",
				  cfg->ports[i].name, i, cfg->ports[i].line);
		else
			error_child(ld, s, "interface",
				    "\"%s\" (the default) is the interface of port %s's device "
				    "(ports[%u], line %d): the host interface is a new one; set another",
				    cfg->host.interface, cfg->ports[i].name, i, cfg->ports[i].line);
		return;
	}
}

static void
load_host(struct loader *ld, const config_setting_t *s)
{
	static const char *const known[] = {"interface", "device", "mtu", NULL};
	struct rp_host_conf *hc = &ld->cfg->host;
	const config_setting_t *m;
	const char *device;
	unsigned mtu = 1500;

	if (!is_group(ld, s))
		return;
	check_members(ld, s, known);
	hc->present = 1;
	hc->line = (int)config_setting_source_line(s);
	snprintf(hc->interface, sizeof(hc->interface), "%s", RP_HOST_DEFAULT_IFACE);
	snprintf(hc->device, sizeof(hc->device), "%s", RP_HOST_DEFAULT_DEVICE);

	if ((m = config_setting_get_member(s, "interface")) != NULL) {
		hc->interface[0] = '\0'; /* stays empty if the name is refused */
		load_host_interface(ld, m);
	}
	if (hc->interface[0] != '\0')
		check_host_interface(ld, s, m);
	m = config_setting_get_member(s, "device");
	if (m != NULL && (device = get_string(ld, m)) != NULL &&
	    strcmp(device, RP_HOST_DEFAULT_DEVICE) != 0)
		/* virtio_user would need /dev/vhost-net, which these machines lack */
		error_val(ld, m, "only net_tap is supported here (no vhost-net device for virtio_user)");
	opt_uint(ld, s, "mtu", 68, 9600, &mtu);
	hc->mtu = (uint16_t)mtu;
}

static void
load_root(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = {"eal", "ports", "routes", "neighbours", "workers",
					    "arp", "icmp", "control", "conntrack", "host",
					    "filter", NULL};
	const config_setting_t *s;

	check_members(ld, root, known);

	if ((s = config_setting_get_member(root, "eal")) != NULL)
		load_eal(ld, s);
	/* before ports: af_packet's qpairs must match the worker count */
	if ((s = config_setting_get_member(root, "workers")) != NULL)
		load_workers(ld, s);
	load_ports(ld, root);
	if ((s = config_setting_get_member(root, "routes")) != NULL)
		load_routes(ld, s);
	if ((s = config_setting_get_member(root, "neighbours")) != NULL)
		load_neighbours(ld, s);
	if ((s = config_setting_get_member(root, "arp")) != NULL)
		load_arp(ld, s);
	if ((s = config_setting_get_member(root, "icmp")) != NULL)
		load_icmp(ld, s);
	if ((s = config_setting_get_member(root, "control")) != NULL)
		load_control(ld, s);
	if ((s = config_setting_get_member(root, "conntrack")) != NULL)
		load_conntrack(ld, s);
	if ((s = config_setting_get_member(root, "filter")) != NULL)
		load_filter(ld, s);
	/* after ports: its interface must not be one a port's device drives */
	if ((s = config_setting_get_member(root, "host")) != NULL)
		load_host(ld, s);
}

/* ---- entry points -------------------------------------------------------- */

static void
set_defaults(struct rp_config *cfg, const char *path)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->workers.lcores[0] = 1;
	cfg->workers.n_lcores = 1;
	cfg->workers.burst = 32;
	cfg->workers.idle_sleep_us = 0;
	cfg->neigh = (struct rp_neigh_timing){
		.reachable_ms = 30000,
		.retrans_ms = 1000,
		.probes = 3,
		.hold_packets = 16,
		.gc_stale_ms = 60000,
		.max = 4096,
	};
	cfg->icmp.ratelimit_pps = 1000;
	cfg->icmp.burst = 50;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", RP_DEFAULT_SOCKET);
	/* netfilter's defaults, where it has the setting */
	cfg->conntrack = (struct rp_ct_config){
		.max = 262144,
		.tcp_loose = 1,
		.checksum = 1,
		.helpers = 0,
		.ftp_ports = {21},
		.n_ftp_ports = 1,
		.expect_max = 4,
		.frag = {.max_datagrams = 4096, .timeout_ms = 30000},
		.timeouts = {
			.tcp_syn_sent = 120,
			.tcp_syn_recv = 60,
			.tcp_established = 432000,
			.tcp_fin_wait = 120,
			.tcp_close_wait = 60,
			.tcp_last_ack = 30,
			.tcp_time_wait = 120,
			.tcp_close = 10,
			.tcp_syn_sent2 = 120,
			.tcp_max_retrans = 300,
			.tcp_unacknowledged = 300,
			.udp = 30,
			.udp_stream = 120,
			.icmp = 30,
			.generic = 600,
		},
	};
}

/*
 * Line @p line of @p file, trimmed, to show where a bare "syntax error" is.
 * @return 0, or -1 if the file ends before that line has any character.
 */
static int
source_line(const char *file, int line, char *buf, size_t size)
{
	FILE *f = fopen(file, "r");
	int c = EOF, at = 1, ret = -1;
	size_t n = 0;

	buf[0] = '\0';
	if (f == NULL)
		return -1;
	while (at < line && (c = getc(f)) != EOF)
		if (c == '\n')
			at++;
	while (at == line && (c = getc(f)) != EOF && c != '\n') {
		ret = 0;
		if (n + 1 < size && (n > 0 || (c != ' ' && c != '\t')))
			buf[n++] = (char)c;
	}
	if (at == line && c == '\n')
		ret = 0;
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	fclose(f);
	return ret;
}

static void
report_syntax_error(const config_t *lc, const char *path, const char *include_dir, FILE *err)
{
	const char *file = config_error_file(lc) ? config_error_file(lc) : path;
	const char *text = config_error_text(lc) ? config_error_text(lc) : "unreadable";
	char line[81], included[2 * RP_PATH_MAX];
	int found;

	if (err == NULL)
		return;
	/* an included file is named as its directive wrote it */
	if (strcmp(file, path) != 0 && file[0] != '/' && include_dir != NULL) {
		snprintf(included, sizeof(included), "%s/%s",
			 strcmp(include_dir, "/") == 0 ? "" : include_dir, file);
		file = included;
	}
	fprintf(err, "%s:%d: syntax error: ", file, config_error_line(lc));
	if (strcmp(text, "syntax error") != 0) {
		fprintf(err, "%s\n", text);
		return;
	}
	/* libconfig 1.5 says no more than "syntax error": show where instead */
	found = source_line(file, config_error_line(lc), line, sizeof(line));
	if (found < 0) {
		fputs("unexpected end of file\n", err);
	} else if (line[0] != '\0') {
		fputs("near \"", err);
		write_escaped(err, line);
		fputs("\"\n", err);
	} else {
		fprintf(err, "%s\n", text);
	}
}

int
rp_config_load(const char *path, struct rp_config *cfg, FILE *err)
{
	struct loader ld = {.path = path, .cfg = cfg, .n_workers = 1};
	config_t lc;
	struct stat st;
	FILE *f;
	char dir[RP_PATH_MAX];
	const char *slash;

	if (path == NULL)
		path = ld.path = "(null)";
	set_defaults(cfg, path);

	/* libconfig only says "file I/O error": open it first to tell why */
	f = fopen(path, "r");
	if (f == NULL || (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))) {
		int e = f == NULL ? errno : EISDIR;
		if (f != NULL)
			fclose(f);
		if (err != NULL)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(e));
		return 1;
	}
	fclose(f);

	config_init(&lc);
	/* "@include" names files beside the config, not in the current directory */
	slash = strrchr(path, '/');
	if (slash != NULL && (size_t)(slash - path) < sizeof(dir)) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		ld.include_dir = slash == path ? "/" : dir;
		config_set_include_dir(&lc, ld.include_dir);
	}
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO && config_error_file(&lc) == NULL) {
			if (err != NULL)
				fprintf(err, "%s: cannot read: %s\n", path, strerror(errno));
		} else {
			report_syntax_error(&lc, path, ld.include_dir, err);
		}
		config_destroy(&lc);
		return 1;
	}

	load_root(&ld, config_root_setting(&lc));
	flush_messages(&ld, err);
	config_destroy(&lc);
	if (ld.errors > 0) {
		rp_config_free(cfg);
		return ld.errors;
	}
	return 0;
}

int
rp_config_check_lcores(const struct rp_config *cfg, int (*lcore_ok)(unsigned lcore), FILE *err)
{
	int errors = 0;

	for (unsigned i = 0; i < cfg->workers.n_lcores; i++) {
		unsigned lcore = cfg->workers.lcores[i];

		if (lcore_ok(lcore))
			continue;
		errors++;
		if (err == NULL)
			continue;
		if (cfg->workers.lcore_lines[i] > 0)
			fprintf(err,
				"%s:%d: workers.lcores[%u]: lcore %u is not enabled in EAL (or is the main lcore)\n",
				cfg->path, cfg->workers.lcore_lines[i], i, lcore);
		else
			fprintf(err,
				"%s: workers.lcores: lcore %u (the default worker) is not enabled in EAL "
				"(or is the main lcore); give EAL -l with it or set workers.lcores\n",
				cfg->path, lcore);
	}
	return errors;
}

void
rp_config_free(struct rp_config *cfg)
{
	if (cfg->eal_args != NULL) {
		for (unsigned i = 0; i < cfg->n_eal_args; i++)
			free(cfg->eal_args[i]);
		free(cfg->eal_args);
	}
	cfg->eal_args = NULL;
	cfg->n_eal_args = 0;
	free(cfg->routes);
	cfg->routes = NULL;
	cfg->n_routes = 0;
	free(cfg->neighbours);
	cfg->neighbours = NULL;
	cfg->n_neighbours = 0;
	for (unsigned i = 0; i < cfg->filter.n_rules; i++)
		free(cfg->filter.rules[i]);
	free(cfg->filter.rules);
	free(cfg->filter.rule_lines);
	free(cfg->filter.rules_file);
	cfg->filter.rules = NULL;
	cfg->filter.rule_lines = NULL;
	cfg->filter.rules_file = NULL;
	cfg->filter.n_rules = 0;
}

int
rp_config_port_index(const struct rp_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].name[0] != '\0' && strcmp(cfg->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}
