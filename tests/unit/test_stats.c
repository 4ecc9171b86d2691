/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The drop reasons and events are one X-macro list; this test keeps the
 * table in docs/operations.md in step with it: every reason and event must
 * appear there as "| `name` | description |", names must be unique and
 * lower_snake_case.
 */
#include <ctype.h>

#include "rampart_stats.h"
#include "rp_test.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int
snake_case(const char *s)
{
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

int
main(void)
{
	const char *root = getenv("RP_SOURCE_ROOT");
	char path[4096], row[512];
	char *doc;

	snprintf(path, sizeof(path), "%s/docs/operations.md", root ? root : ".");
	doc = slurp(path);
	CHECK(doc != NULL);
	CHECK_EQ(strcmp(rp_drop_name(RP_DROP_NONE), "none"), 0);
	CHECK_EQ(strcmp(rp_drop_name(RP_DROP_MAX), "?"), 0);
	for (unsigned r = 1; r < RP_DROP_MAX; r++) {
		CHECK(snake_case(rp_drop_name(r)));
		for (unsigned o = 1; o < r; o++)
			CHECK(strcmp(rp_drop_name(r), rp_drop_name(o)) != 0);
		snprintf(row, sizeof(row), "| `%s` | %s |", rp_drop_name(r), rp_drop_desc(r));
		CHECK_STR_CONTAINS(doc, row);
	}
	for (unsigned e = 0; e < RP_EV_MAX; e++) {
		CHECK(snake_case(rp_event_name(e)));
		for (unsigned o = 0; o < e; o++)
			CHECK(strcmp(rp_event_name(e), rp_event_name(o)) != 0);
		snprintf(row, sizeof(row), "| `%s` | %s |", rp_event_name(e), rp_event_desc(e));
		CHECK_STR_CONTAINS(doc, row);
	}
	free(doc);
	printf("test_stats: %d checks, %d failed\n", rp_test_checks, rp_test_failures);
	return rp_test_failures ? 1 : 0;
}
