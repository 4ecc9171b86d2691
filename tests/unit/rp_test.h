/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RP_TEST_H
#define RP_TEST_H

/*
 * Minimal test harness for unit tests: CHECK() records a failure with its
 * location and goes on, so one run shows every broken assertion;
 * rp_test_eal_init() brings up EAL without hugepages, PCI or telemetry,
 * with a file prefix of its own so tests may run in parallel.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

static int rp_test_failures;
static char rp_test_runtime_dir[128]; /* EAL's runtime directory, removed at the end */
static int rp_test_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		rp_test_checks++;                                              \
		if (!(cond)) {                                                 \
			rp_test_failures++;                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		rp_test_checks++;                                              \
		if (_a != _b) {                                                \
			rp_test_failures++;                                    \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);           \
		}                                                              \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                        \
	do {                                                                   \
		const char *_h = (hay), *_n = (needle);                        \
		rp_test_checks++;                                              \
		if (_h == NULL || strstr(_h, _n) == NULL) {                    \
			rp_test_failures++;                                    \
			fprintf(stderr, "%s:%d: expected \"%s\" in:\n%s\n",    \
				__FILE__, __LINE__, _n, _h ? _h : "(null)");   \
		}                                                              \
	} while (0)

static inline int
rp_test_eal_init(const char *name)
{
	char prefix[96];
	snprintf(prefix, sizeof(prefix), "--file-prefix=rp-unit-%s-%d", name, (int)getpid());
	snprintf(rp_test_runtime_dir, sizeof(rp_test_runtime_dir), "/var/run/dpdk/rp-unit-%s-%d",
		 name, (int)getpid());
	/* --no-shconf: no multi-process files, so nothing is left in /var/run/dpdk */
	char *argv[] = {(char *)name, "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
			"--no-shconf", "-l", "0", "--log-level=lib.eal:error", prefix, NULL};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", name);
		exit(1);
	}
	return 0;
}

static inline int
rp_test_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, rp_test_checks, rp_test_failures);
	if (rp_test_runtime_dir[0]) {
		rte_eal_cleanup();
		rmdir(rp_test_runtime_dir); /* empty with --no-shconf */
	}
	return rp_test_failures ? 1 : 0;
}

#endif /* RP_TEST_H */
