#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `rampart --check`: 0 on a good config; 1 on a bad one, with every error
# named by file and line. It needs no root: --check does not start EAL.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init check_config noroot
[[ -x $RP_RAMPART ]] || rp_fail "no daemon at $RP_RAMPART (build first)"

out=$("$RP_RAMPART" -c "$RP_SOURCE_ROOT/conf/lab.conf" --check 2>&1)
rp_expect_eq "--check conf/lab.conf: exit status ($out)" "$?" 0
rp_expect_contains "--check conf/lab.conf" "$out" "configuration ok"

# Two errors, on lines 3 and 5: both must be reported.
cat >"$RP_TMP/bad.conf" <<'EOF'
ports = (
  { name = "lan0"; device = "net_af_packet0,iface=rp-lan"; address = [ "198.18.1.1/24" ]; },
  { name = "wan0"; device = "net_af_packet1,iface=rp-wan"; address = [ "198.19.1.1/33" ]; }
);
workers = { lcores = [ 1 ]; colour = "red"; };
EOF
out=$("$RP_RAMPART" -c "$RP_TMP/bad.conf" --check 2>&1)
rp_expect_eq "--check bad.conf: exit status ($out)" "$?" 1
rp_expect_contains "--check bad.conf" "$out" 'bad.conf:3: ports[1].address: "198.19.1.1/33"'
rp_expect_contains "--check bad.conf" "$out" "bad.conf:5: workers.colour"
rp_expect_contains "--check bad.conf" "$out" "2 errors"

# A syntax error is reported with its line too.
printf 'ports = (\n  { name = "lan0" device = "x"; }\n);\n' >"$RP_TMP/syntax.conf"
out=$("$RP_RAMPART" -c "$RP_TMP/syntax.conf" --check 2>&1)
rp_expect_eq "--check syntax.conf: exit status ($out)" "$?" 1
rp_expect_contains "--check syntax.conf" "$out" "syntax.conf:2:"

# The same bad config must not start a daemon either (no EAL needed to see it).
out=$("$RP_RAMPART" -c "$RP_TMP/bad.conf" 2>&1)
rp_expect_eq "rampart with bad.conf: exit status" "$?" 1
rp_expect_contains "rampart with bad.conf" "$out" "nothing started"

rp_pass
