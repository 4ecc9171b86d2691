#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build Rampart warning-free (-Werror) with gcc and run the unit, end-to-end
# and benchmark-smoke suites; then build it again with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer and run the unit suite
# there (fuzz targets included), as CI does (.ci/run). Ends with one line "N passed, N failed"
# (", N skipped" when some were), and exits non-zero if anything failed,
# if the build failed, or if no test ran.
#
# Usage: sudo scripts/test.sh        (without root the e2e tests are skipped)
# Environment: RP_BUILD_DIR (default build; the sanitizer build goes to
# $RP_BUILD_DIR-asan), RP_TEST_ARGS (more `meson test` arguments for the
# gcc build, e.g. a test name), RP_NO_ASAN=1 skips the sanitizer build.

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${RP_BUILD_DIR:-build}

if [[ $(id -u) -eq 0 ]]; then
	scripts/setup.sh || { echo "test.sh: scripts/setup.sh failed" >&2; exit 1; }
else
	echo "test.sh: not root: skipping scripts/setup.sh; the e2e tests will be skipped" >&2
fi

# setup_build DIR ARGS...: configure (or reconfigure) a build directory.
setup_build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$dir" "$@" >"$dir/setup.log" 2>&1
	else
		meson setup "$dir" "$@" >"$dir/setup.log" 2>&1
	fi || { cat "$dir/setup.log" >&2; echo "test.sh: meson setup $dir failed" >&2; exit 1; }
	ninja -C "$dir" || { echo "test.sh: build in $dir failed" >&2; exit 1; }
}

setup_build "$build" -Dc_args=-Werror

# A stale log must not be counted if meson test cannot start.
testlogs=("$build/meson-logs/testlog.json")
rm -f "${testlogs[0]}"
# shellcheck disable=SC2086 # RP_TEST_ARGS is a list of arguments
meson test -C "$build" --no-rebuild --num-processes 2 --print-errorlogs \
	--suite unit --suite e2e --suite bench ${RP_TEST_ARGS:-}
meson_status=$?

if [[ ${RP_NO_ASAN:-0} != 1 ]]; then
	asan=$build-asan
	# b_lundef=false: clang's sanitizer runtime is linked into the executables only
	CC=clang setup_build "$asan" -Dc_args=-Werror -Db_sanitize=address,undefined -Db_lundef=false
	testlogs+=("$asan/meson-logs/testlog.json")
	rm -f "${testlogs[1]}"
	# DPDK's own start-up allocations are never freed: leaks are not ours to report
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$asan" --no-rebuild --num-processes 2 --print-errorlogs --suite unit
	((meson_status |= $?))
fi

# One JSON object per test in testlog.json; its "result" is meson's verdict.
summary=$(python3 - "${testlogs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as log:
            for line in log:
                if not line.strip():
                    continue
                result = json.loads(line)["result"]
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
                    failed += 1
    except FileNotFoundError:
        pass
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
) || { echo "test.sh: cannot read ${testlogs[*]}" >&2; exit 1; }

echo "$summary"
read -r passed _ failed _ <<<"${summary//,/}"
if ((failed > 0 || passed + failed == 0 || meson_status != 0)); then
	exit 1
fi
