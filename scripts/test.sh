#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build Rampart warning-free (-Werror) and run the unit and end-to-end
# suites, as CI does (.ci/run). Ends with one line "N passed, N failed"
# (", N skipped" when some were), and exits non-zero if anything failed,
# if the build failed, or if no test ran.
#
# Usage: sudo scripts/test.sh        (without root the e2e tests are skipped)
# Environment: RP_BUILD_DIR (default build), RP_TEST_ARGS (more `meson test`
# arguments, e.g. a test name).

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${RP_BUILD_DIR:-build}

if [[ $(id -u) -eq 0 ]]; then
	scripts/setup.sh || { echo "test.sh: scripts/setup.sh failed" >&2; exit 1; }
else
	echo "test.sh: not root: skipping scripts/setup.sh; the e2e tests will be skipped" >&2
fi

if [[ -f $build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$build" -Dc_args=-Werror >"$build/setup.log" 2>&1
else
	mkdir -p "$build" && meson setup "$build" -Dc_args=-Werror >"$build/setup.log" 2>&1
fi || { cat "$build/setup.log" >&2; echo "test.sh: meson setup failed" >&2; exit 1; }

ninja -C "$build" || { echo "test.sh: build failed" >&2; exit 1; }

# A stale log must not be counted if meson test cannot start.
testlog=$build/meson-logs/testlog.json
rm -f "$testlog"
# shellcheck disable=SC2086 # RP_TEST_ARGS is a list of arguments
meson test -C "$build" --no-rebuild --num-processes 2 --print-errorlogs \
	--suite unit --suite e2e ${RP_TEST_ARGS:-}
meson_status=$?

# One JSON object per test in testlog.json; its "result" is meson's verdict.
summary=$(python3 - "$testlog" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as log:
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
) || { echo "test.sh: cannot read $testlog" >&2; exit 1; }

echo "$summary"
read -r passed _ failed _ <<<"${summary//,/}"
if ((failed > 0 || passed + failed == 0 || meson_status != 0)); then
	exit 1
fi
