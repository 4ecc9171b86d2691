/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FTP helper's parser (ct_ftp.h): reassembles each direction of a
 * control connection into lines and recognises, at the start of a line,
 * the forms netfilter's nf_conntrack_ftp.c recognises:
 *
 *   client: "PORT h1,h2,h3,h4,p1,p2"   (try_rfc959, nothing after the numbers)
 *           "EPRT <d>1<d>a.b.c.d<d>port<d>" (try_eprt: <d> any of 33..126 but
 *                                       a digit; only net protocol 1, IPv4)
 *   server: "227 <text>h1,h2,h3,h4,p1,p2<anything>" (try_rfc1123: the numbers
 *           start at the first digit, parenthesised or not)
 *           "229 <text>(<d><d><d>port<d>" (try_epsv_response)
 *
 * "PORT"/"EPRT" match in any case. Differences from the kernel, on purpose:
 * every number needs at least one digit, numbers never wrap (a value out of
 * range is malformed, where the kernel's accumulators overflow), a port of 0
 * is malformed in every form (the kernel only refuses it in EPRT/EPSV), and
 * a malformed line is counted and ignored (the kernel drops the packet).
 * "EPRT |2|...|" (IPv6) is well formed but not for an IPv4 appliance: it is
 * ignored without being counted as malformed.
 *
 * Worker hot path: no allocation, no locks; reads only data[0..len).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ct_ftp.h"

/* Bounds of the printable characters an EPRT/EPSV delimiter may be (RFC 2428). */
#define DELIM_MIN 33
#define DELIM_MAX 126

/* A line without its terminator: [p, end). */
struct line_cursor {
	const char *p;
	const char *end;
};

enum parse_result {
	PARSE_NO_MATCH,  /* not a line this parser is interested in */
	PARSE_OK,        /* an announcement */
	PARSE_MALFORMED, /* a PORT/EPRT/227/229 line that does not parse */
	PARSE_IGNORED,   /* well formed but not for us (EPRT of IPv6) */
};

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char
to_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Does the line start with @p word (upper case), in any case? On a match the
 * cursor moves past it. */
static bool
eat_word_nocase(struct line_cursor *c, const char *word, size_t word_len)
{
	if ((size_t)(c->end - c->p) < word_len)
		return false;
	for (size_t i = 0; i < word_len; i++)
		if (to_upper(c->p[i]) != word[i])
			return false;
	c->p += word_len;
	return true;
}

/* One decimal number of at least one digit, at most @p max; the cursor moves
 * past its digits. Digits beyond the maximum are refused as they come, so a
 * long run of digits can never wrap the accumulator. */
static bool
eat_number(struct line_cursor *c, uint32_t max, uint32_t *value)
{
	uint32_t v = 0;
	const char *start = c->p;

	while (c->p < c->end && is_digit(*c->p)) {
		v = v * 10 + (uint32_t)(*c->p - '0');
		if (v > max)
			return false;
		c->p++;
	}
	if (c->p == start)
		return false;
	*value = v;
	return true;
}

/* The character at the cursor is @p ch: move past it. */
static bool
eat_char(struct line_cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* "h1,h2,h3,h4,p1,p2", each 0..255; the cursor stops after p2. */
static bool
eat_rfc959(struct line_cursor *c, struct rp_ftp_announce *a)
{
	uint32_t n[6];

	for (int i = 0; i < 6; i++) {
		if (i > 0 && !eat_char(c, ','))
			return false;
		if (!eat_number(c, 255, &n[i]))
			return false;
	}
	a->addr = n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
	a->port = (uint16_t)(n[4] << 8 | n[5]);
	return a->port != 0;
}

/* "port<d>" with port 1..65535 (netfilter's get_port). */
static bool
eat_port_delim(struct line_cursor *c, char delim, uint16_t *port)
{
	uint32_t v;

	if (!eat_number(c, 65535, &v) || v == 0 || !eat_char(c, delim))
		return false;
	*port = (uint16_t)v;
	return true;
}

static inline bool
valid_delim(char d)
{
	return d >= DELIM_MIN && d <= DELIM_MAX && !is_digit(d);
}

/* After "PORT ": the numbers run to the end of the line. */
static enum parse_result
parse_port(struct line_cursor *c, struct rp_ftp_announce *a)
{
	if (!eat_rfc959(c, a) || c->p != c->end)
		return PARSE_MALFORMED;
	a->kind = RP_FTP_PORT;
	return PARSE_OK;
}

/* After "EPRT ": <d>1<d>a.b.c.d<d>port<d>; what follows is not looked at. */
static enum parse_result
parse_eprt(struct line_cursor *c, struct rp_ftp_announce *a)
{
	uint32_t n[4];

	if (c->end - c->p < 3)
		return PARSE_MALFORMED;
	char delim = c->p[0];
	if (!valid_delim(delim) || c->p[2] != delim)
		return PARSE_MALFORMED;
	if (c->p[1] == '2')
		return PARSE_IGNORED;
	if (c->p[1] != '1')
		return PARSE_MALFORMED;
	c->p += 3;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && !eat_char(c, '.'))
			return PARSE_MALFORMED;
		if (!eat_number(c, 255, &n[i]))
			return PARSE_MALFORMED;
	}
	if (!eat_char(c, delim) || !eat_port_delim(c, delim, &a->port))
		return PARSE_MALFORMED;
	a->addr = n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
	a->kind = RP_FTP_EPRT;
	return PARSE_OK;
}

/* After "227 ": the numbers start at the first digit (RFC 1123 4.1.2.6: the
 * parentheses may be missing) and end at anything but a digit or a comma. */
static enum parse_result
parse_pasv(struct line_cursor *c, struct rp_ftp_announce *a)
{
	while (c->p < c->end && !is_digit(*c->p))
		c->p++;
	if (!eat_rfc959(c, a))
		return PARSE_MALFORMED;
	if (c->p < c->end && (*c->p == ',' || is_digit(*c->p)))
		return PARSE_MALFORMED; /* a seventh number */
	a->kind = RP_FTP_PASV;
	return PARSE_OK;
}

/* After "229 ": text, then (<d><d><d>port<d>; the closing parenthesis is not
 * required (netfilter does not look at it either). */
static enum parse_result
parse_epsv(struct line_cursor *c, struct rp_ftp_announce *a)
{
	const char *paren = memchr(c->p, '(', (size_t)(c->end - c->p));

	if (paren == NULL)
		return PARSE_MALFORMED;
	c->p = paren + 1;
	if (c->end - c->p < 3)
		return PARSE_MALFORMED;
	char delim = c->p[0];
	if (!valid_delim(delim) || c->p[1] != delim || c->p[2] != delim)
		return PARSE_MALFORMED;
	c->p += 3;
	if (!eat_port_delim(c, delim, &a->port))
		return PARSE_MALFORMED;
	a->addr = 0; /* the server's own address: the caller fills it in */
	a->kind = RP_FTP_EPSV;
	return PARSE_OK;
}

/* One complete line of direction @p dir, terminator removed. */
static enum parse_result
parse_line(int dir, const char *line, size_t len, struct rp_ftp_announce *a)
{
	struct line_cursor c = {line, line + len};

	if (dir == 0) {
		if (eat_word_nocase(&c, "PORT ", 5))
			return parse_port(&c, a);
		if (eat_word_nocase(&c, "EPRT ", 5))
			return parse_eprt(&c, a);
	} else {
		if (eat_word_nocase(&c, "227 ", 4))
			return parse_pasv(&c, a);
		if (eat_word_nocase(&c, "229 ", 4))
			return parse_epsv(&c, a);
	}
	return PARSE_NO_MATCH;
}

/* A line of @p d is complete: parse it, record the outcome, reset the line. */
static void
finish_line(struct rp_ftp_dir *d, int dir, bool from_earlier_segment,
	    struct rp_ftp_announce *out, unsigned max, unsigned *n_out,
	    struct rp_ftp_stats *stats)
{
	size_t len = d->len;
	struct rp_ftp_announce a = {0};

	d->len = 0;
	if (len > 0 && d->line[len - 1] == '\r')
		len--;
	switch (parse_line(dir, d->line, len, &a)) {
	case PARSE_OK:
		stats->announces++;
		if (from_earlier_segment)
			stats->split++;
		if (*n_out < max)
			out[(*n_out)++] = a;
		break;
	case PARSE_MALFORMED:
		stats->malformed++;
		break;
	case PARSE_NO_MATCH:
	case PARSE_IGNORED:
		break;
	}
}

/* Append [p, p + n) (no newline in it) to the unfinished line, or start
 * discarding when the line outgrows the buffer. */
static void
append_to_line(struct rp_ftp_dir *d, const uint8_t *p, size_t n, struct rp_ftp_stats *stats)
{
	if (d->discard || n == 0)
		return;
	if (n > (size_t)(RP_FTP_LINE_MAX - d->len)) {
		stats->overflow++;
		d->discard = 1;
		d->len = 0;
		return;
	}
	memcpy(d->line + d->len, p, n);
	d->len = (uint16_t)(d->len + n);
}

unsigned
rp_ftp_parse(struct rp_ftp_state *st, int dir, uint32_t seq, const uint8_t *data,
	     uint32_t len, struct rp_ftp_announce *out, unsigned max,
	     struct rp_ftp_stats *stats)
{
	struct rp_ftp_stats unused;
	unsigned n_out = 0;

	if (stats == NULL)
		stats = &unused;
	if ((dir != 0 && dir != 1) || len == 0 || data == NULL)
		return 0;
	if (out == NULL)
		max = 0;

	struct rp_ftp_dir *d = &st->dir[dir];
	if (!d->seq_valid) {
		d->next_seq = seq;
		d->seq_valid = 1;
	}

	/* Where the segment starts relative to the next byte expected, as a
	 * signed distance modulo 2^32 (before(), after() in the kernel). */
	int32_t ahead = (int32_t)(seq - d->next_seq);
	if (ahead < 0) {
		uint32_t seen = d->next_seq - seq;
		stats->retransmits++;
		if (seen >= len)
			return 0;
		/* only the new tail goes on */
		data += seen;
		len -= seen;
		seq = d->next_seq;
	} else if (ahead > 0) {
		/* Bytes were lost before this segment: the unfinished line
		 * misses its middle, so it is dropped, and the stream picks up
		 * here as if a line started. */
		d->len = 0;
		d->discard = 0;
	}
	d->next_seq = seq + len;

	/* The first line completed here began in an earlier segment when part
	 * of it is already kept (an overflowing line announces nothing). */
	bool carried = d->len > 0;
	const uint8_t *p = data;
	const uint8_t *end = data + len;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			append_to_line(d, p, (size_t)(end - p), stats);
			break;
		}
		append_to_line(d, p, (size_t)(nl - p), stats);
		if (d->discard) {
			d->discard = 0; /* the end of the overlong line: it was counted */
			d->len = 0;
		} else {
			finish_line(d, dir, carried, out, max, &n_out, stats);
		}
		carried = false;
		p = nl + 1;
	}
	return n_out;
}
