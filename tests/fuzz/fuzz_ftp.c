/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the FTP helper's parser (lib/conntrack/ftp.c). The input
 * is a script of segments fed into one control connection's state:
 *
 *   byte 0      : the announcement limit, max = byte % 5
 *   then, per segment, a 4-byte header
 *     byte 0    : bit 0 the direction; bits 2..3 where the segment starts:
 *                 0 at next_seq, 1 before it (a retransmission or overlap),
 *                 2 after it (a gap), 3 anywhere (seq made of bytes 1..2)
 *     byte 1..2 : the distance, little endian
 *     byte 3    : payload length, cut to what the input has left
 *   and the payload bytes.
 *
 * Each payload is copied to a buffer of its exact size, so that a read past
 * it is a heap overflow under ASan. After every segment the invariants are
 * asserted: the kept line fits, at most max announcements are written and
 * nothing beyond, each of a kind the direction may announce, with a port,
 * EPSV without an address; counters only grow; next_seq moves to the
 * segment's end exactly when the segment reaches past it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_ftp.h"

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			abort();                                                       \
		}                                                                      \
	} while (0)

#define OUT_MAX 4

static void
check_dir(const struct rp_ftp_dir *d)
{
	FUZZ_ASSERT(d->len <= RP_FTP_LINE_MAX);
	FUZZ_ASSERT(d->discard == 0 || d->len == 0);
	FUZZ_ASSERT(d->seq_valid <= 1);
}

static void
check_stats_grow(const struct rp_ftp_stats *before, const struct rp_ftp_stats *after,
		 unsigned n)
{
	FUZZ_ASSERT(after->announces >= before->announces + n);
	FUZZ_ASSERT(after->malformed >= before->malformed);
	FUZZ_ASSERT(after->split >= before->split);
	FUZZ_ASSERT(after->retransmits >= before->retransmits);
	FUZZ_ASSERT(after->overflow >= before->overflow);
	/* split announcements are announcements */
	FUZZ_ASSERT(after->split - before->split <= after->announces - before->announces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_ftp_state st;
	struct rp_ftp_stats stats;
	struct rp_ftp_announce out[OUT_MAX + 1];
	uint32_t seq[2] = {0x10000000u, 0xfffff000u}; /* one direction crosses the wrap */
	size_t pos = 0;

	memset(&st, 0, sizeof(st));
	memset(&stats, 0, sizeof(stats));
	if (size == 0)
		return 0;
	unsigned max = data[pos++] % (OUT_MAX + 1); /* 0..OUT_MAX */

	while (size - pos >= 4) {
		int dir = data[pos] & 1;
		unsigned where = (data[pos] >> 2) & 3;
		uint32_t dist = (uint32_t)data[pos + 1] | (uint32_t)data[pos + 2] << 8;
		size_t len = data[pos + 3];
		pos += 4;
		if (len > size - pos)
			len = size - pos;

		uint32_t s = seq[dir];
		if (st.dir[dir].seq_valid)
			s = st.dir[dir].next_seq;
		switch (where) {
		case 1:
			s -= dist;
			break;
		case 2:
			s += dist;
			break;
		case 3:
			s = dist * 0x10001u;
			break;
		default:
			break;
		}

		uint8_t *payload = malloc(len ? len : 1);
		FUZZ_ASSERT(payload != NULL);
		if (len)
			memcpy(payload, data + pos, len);
		pos += len;

		/* a sentinel after the slots the parser may fill */
		memset(out, 0, sizeof(out));
		out[max].kind = 0xee;

		struct rp_ftp_stats before = stats;
		uint32_t next_before = st.dir[dir].next_seq;
		int valid_before = st.dir[dir].seq_valid;
		unsigned n = rp_ftp_parse(&st, dir, s, payload, (uint32_t)len, out, max, &stats);
		free(payload);

		FUZZ_ASSERT(n <= max);
		FUZZ_ASSERT(out[max].kind == 0xee);
		for (unsigned i = 0; i < n; i++) {
			FUZZ_ASSERT(out[i].kind >= RP_FTP_PORT && out[i].kind <= RP_FTP_EPSV);
			FUZZ_ASSERT(out[i].port != 0);
			/* client commands in direction 0, server replies in 1 */
			if (dir == 0)
				FUZZ_ASSERT(out[i].kind == RP_FTP_PORT ||
					    out[i].kind == RP_FTP_EPRT);
			else
				FUZZ_ASSERT(out[i].kind == RP_FTP_PASV ||
					    out[i].kind == RP_FTP_EPSV);
			if (out[i].kind == RP_FTP_EPSV)
				FUZZ_ASSERT(out[i].addr == 0);
		}
		check_stats_grow(&before, &stats, n);
		check_dir(&st.dir[0]);
		check_dir(&st.dir[1]);
		if (len > 0) {
			FUZZ_ASSERT(st.dir[dir].seq_valid == 1);
			/* next_seq never moves backwards, and moves to the segment's
			 * end when the segment reached past it */
			uint32_t end = s + (uint32_t)len;
			if (valid_before && (int32_t)(end - next_before) <= 0)
				FUZZ_ASSERT(st.dir[dir].next_seq == next_before);
			else
				FUZZ_ASSERT(st.dir[dir].next_seq == end);
		} else {
			FUZZ_ASSERT(st.dir[dir].next_seq == next_before);
			FUZZ_ASSERT(st.dir[dir].seq_valid == valid_before);
		}
	}
	return 0;
}
