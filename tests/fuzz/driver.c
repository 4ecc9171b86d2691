/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stand-in for libFuzzer when the build has none: runs the target over every
 * file of the seed corpus directory given as argv[1], then over random inputs
 * and random mutations of the seeds (fixed seed, so a failure reproduces).
 * A crash or sanitizer report fails the test; the target itself asserts.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define FUZZ_MAX_INPUT 4096
#define MAX_SEEDS 256
#define ROUNDS 20000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(int argc, char **argv)
{
	static uint8_t seeds[MAX_SEEDS][FUZZ_MAX_INPUT];
	static size_t seed_len[MAX_SEEDS];
	unsigned n_seeds = 0;
	uint8_t buf[FUZZ_MAX_INPUT];

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		DIR *d = opendir(argv[1]);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL && n_seeds < MAX_SEEDS) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
			FILE *f = fopen(path, "rb");
			if (!f)
				continue;
			seed_len[n_seeds] = fread(seeds[n_seeds], 1, FUZZ_MAX_INPUT, f);
			fclose(f);
			LLVMFuzzerTestOneInput(seeds[n_seeds], seed_len[n_seeds]);
			n_seeds++;
		}
		if (d)
			closedir(d);
	}
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len;
		if (n_seeds && (r & 1)) {
			unsigned s = next_rand() % n_seeds;
			len = seed_len[s];
			memcpy(buf, seeds[s], len);
			unsigned flips = 1 + next_rand() % 8;
			for (unsigned i = 0; i < flips && len; i++)
				buf[next_rand() % len] = (uint8_t)next_rand();
			if (next_rand() % 4 == 0)
				len = next_rand() % (len + 1); /* truncate */
		} else {
			len = next_rand() % 200;
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)next_rand();
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%s: %u seeds, %u rounds, no crash\n", argv[0], n_seeds, ROUNDS);
	return 0;
}
