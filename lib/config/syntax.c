/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * String syntaxes of the config file: IPv4 addresses and prefixes, MAC
 * addresses and device strings. Pure functions, no DPDK: `rampart --check`
 * validates a config on a machine without EAL.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config_syntax.h"
#include "rampart_config.h"

/*
 * A decimal number of at most @p max_digits digits, without sign or leading
 * zero (so "010" is never mistaken for octal as inet_aton would).
 * @return characters consumed, 0 if there is no such number.
 */
static size_t
parse_decimal(const char *s, unsigned max_digits, unsigned long *value)
{
	size_t n = 0;
	unsigned long v = 0;

	while (isdigit((unsigned char)s[n])) {
		if (n == max_digits)
			return 0;
		v = v * 10 + (unsigned long)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return 0;
	*value = v;
	return n;
}

/* Four dotted decimal octets; @return characters consumed, 0 on error. */
static size_t
parse_octets(const char *s, uint32_t *addr)
{
	const char *p = s;
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned long octet;
		size_t n;

		if (i > 0) {
			if (*p != '.')
				return 0;
			p++;
		}
		n = parse_decimal(p, 3, &octet);
		if (n == 0 || octet > 255)
			return 0;
		a = (a << 8) | (uint32_t)octet;
		p += n;
	}
	*addr = a;
	return (size_t)(p - s);
}

enum rp_prefix_status
rp_prefix_parse_status(const char *s, struct rp_prefix *p)
{
	uint32_t addr;
	unsigned long len = 32;
	size_t n;

	if (s == NULL)
		return RP_PREFIX_BAD_SYNTAX;
	n = parse_octets(s, &addr);
	if (n == 0)
		return RP_PREFIX_BAD_SYNTAX;
	s += n;
	if (*s == '/') {
		s++;
		/* Up to 9 digits: "/4294967329" is a bad length, not a wrap to 33. */
		n = parse_decimal(s, 9, &len);
		if (n == 0) {
			/* "/0033" or "/x": bad syntax unless it is all digits */
			const char *d = s;
			while (isdigit((unsigned char)*d))
				d++;
			return (d != s && *d == '\0') ? RP_PREFIX_BAD_LEN : RP_PREFIX_BAD_SYNTAX;
		}
		s += n;
		if (*s != '\0')
			return RP_PREFIX_BAD_SYNTAX;
		if (len > 32)
			return RP_PREFIX_BAD_LEN;
	}
	if (*s != '\0')
		return RP_PREFIX_BAD_SYNTAX;
	p->addr = addr;
	p->len = (uint8_t)len;
	return RP_PREFIX_OK;
}

int
rp_prefix_parse(const char *s, struct rp_prefix *p)
{
	return rp_prefix_parse_status(s, p) == RP_PREFIX_OK ? 0 : -1;
}

int
rp_ipv4_parse(const char *s, uint32_t *addr)
{
	size_t n;

	if (s == NULL)
		return -1;
	n = parse_octets(s, addr);
	return (n != 0 && s[n] == '\0') ? 0 : -1;
}

const char *
rp_ipv4_fmt(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly @p digits hex digits at @p s. @return 0 or -1. */
static int
parse_hex_exact(const char *s, unsigned digits, uint32_t *value)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < digits; i++) {
		int h = hex_value(s[i]);
		if (h < 0)
			return -1;
		v = (v << 4) | (uint32_t)h;
	}
	*value = v;
	return 0;
}

int
rp_mac_parse(const char *s, uint8_t mac[6])
{
	if (s == NULL || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		uint32_t byte;
		if (parse_hex_exact(s + 3 * i, 2, &byte) < 0)
			return -1;
		if (i < 5 && s[3 * i + 2] != ':')
			return -1;
		mac[i] = (uint8_t)byte;
	}
	return 0;
}

/* "DDDD:BB:DD.F" or "BB:DD.F", the whole of @p name. @return 0 or -1. */
static int
parse_pci(const char *name, size_t len, struct rp_device_id *id)
{
	uint32_t domain = 0, bus, dev, func;
	const char *p = name;

	if (len == 12) {
		if (parse_hex_exact(p, 4, &domain) < 0 || p[4] != ':')
			return -1;
		p += 5;
	} else if (len != 7) {
		return -1;
	}
	if (parse_hex_exact(p, 2, &bus) < 0 || p[2] != ':' ||
	    parse_hex_exact(p + 3, 2, &dev) < 0 || p[5] != '.' ||
	    parse_hex_exact(p + 6, 1, &func) < 0)
		return -1;
	/* PCI has 32 devices a bus and 8 functions a device */
	if (dev > 0x1f || func > 7)
		return -1;
	id->is_pci = true;
	id->pci_domain = domain;
	id->pci_bus = (uint8_t)bus;
	id->pci_dev = (uint8_t)dev;
	id->pci_func = (uint8_t)func;
	return 0;
}

/*
 * "net_<driver><N>" or the legacy "eth_<driver><N>": the driver is letters,
 * digits and '_' and the instance number ends the name.
 */
static int
parse_vdev_name(const char *name, size_t len, struct rp_device_id *id)
{
	size_t digits_at = len;

	if (len < 6 || (strncmp(name, "net_", 4) != 0 && strncmp(name, "eth_", 4) != 0))
		return -1;
	for (size_t i = 4; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return -1;
	while (digits_at > 4 && isdigit((unsigned char)name[digits_at - 1]))
		digits_at--;
	if (digits_at == len || digits_at == 4)
		return -1;
	memcpy(id->vdev_name, name, len);
	id->vdev_name[len] = '\0';
	id->is_af_packet = digits_at - 4 == strlen("af_packet") &&
			   memcmp(name + 4, "af_packet", digits_at - 4) == 0;
	return 0;
}

/* af_packet's "qpairs=N": a positive decimal number. */
static int
parse_qpairs(const char *value, size_t len, unsigned *qpairs)
{
	unsigned long v;
	size_t n = parse_decimal(value, 6, &v);

	if (n == 0 || n != len || v == 0)
		return -1;
	*qpairs = (unsigned)v;
	return 0;
}

int
rp_device_parse(const char *s, struct rp_device_id *id, char *why, size_t why_len)
{
	const char *comma = strchr(s, ',');
	size_t name_len = comma ? (size_t)(comma - s) : strlen(s);
	const char *p;
	unsigned arg_no = 0;

	memset(id, 0, sizeof(*id));
	id->qpairs = 1;
	if (strlen(s) >= RP_DEVICE_MAX) {
		snprintf(why, why_len, "longer than %d characters", RP_DEVICE_MAX - 1);
		return -1;
	}
	if (parse_pci(s, name_len, id) < 0 && parse_vdev_name(s, name_len, id) < 0) {
		snprintf(why, why_len,
			 "not a PCI address (DDDD:BB:DD.F or BB:DD.F) nor a vdev "
			 "(net_<driver><N>[,key=value...])");
		return -1;
	}
	/* ",key=value" arguments, as rte_kvargs reads them */
	for (p = comma; p != NULL && *p != '\0';) {
		const char *key = p + 1, *eq, *value, *end;
		size_t key_len;

		for (eq = key; isalnum((unsigned char)*eq) || *eq == '_' || *eq == '-'; eq++) /* no-rx */
			;
		key_len = (size_t)(eq - key);
		arg_no++;
		if (*key == ',' || *key == '\0') {
			snprintf(why, why_len, "empty device argument (stray ',')");
			return -1;
		}
		if (key_len == 0 || *eq != '=') {
			/* by position: the text may hold anything up to the next ',' */
			snprintf(why, why_len, "device argument %u is not key=value", arg_no);
			return -1;
		}
		value = eq + 1;
		if (*value == '[') {
			/* a list value "[a,b]" may contain commas */
			end = strchr(value, ']');
			if (end == NULL) {
				snprintf(why, why_len, "device argument \"%.*s\" has no closing ']'",
					 (int)key_len, key);
				return -1;
			}
			end++;
		} else {
			end = strchr(value, ',');
			if (end == NULL)
				end = value + strlen(value);
		}
		if (end == value) {
			snprintf(why, why_len, "device argument \"%.*s\" has an empty value",
				 (int)key_len, key);
			return -1;
		}
		if (*end != '\0' && *end != ',') {
			snprintf(why, why_len, "device argument \"%.*s\": expected ',' after ']'",
				 (int)key_len, key);
			return -1;
		}
		for (const char *c = value; c < end; c++) {
			if (iscntrl((unsigned char)*c)) {
				snprintf(why, why_len,
					 "device argument \"%.*s\" contains a control character",
					 (int)key_len, key);
				return -1;
			}
		}
		if (id->is_af_packet && key_len == 6 && memcmp(key, "qpairs", 6) == 0 &&
		    parse_qpairs(value, (size_t)(end - value), &id->qpairs) < 0) {
			snprintf(why, why_len, "qpairs=%.*s: must be a positive number",
				 (int)(end - value), value);
			return -1;
		}
		p = end;
	}
	return 0;
}

bool
rp_device_same(const struct rp_device_id *a, const struct rp_device_id *b)
{
	if (a->is_pci != b->is_pci)
		return false;
	if (a->is_pci)
		return a->pci_domain == b->pci_domain && a->pci_bus == b->pci_bus &&
		       a->pci_dev == b->pci_dev && a->pci_func == b->pci_func;
	return strcmp(a->vdev_name, b->vdev_name) == 0;
}
