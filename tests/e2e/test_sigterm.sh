#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SIGTERM stops the daemon cleanly: exit 0, final counters printed, control
# socket removed; and tearing the lab down leaves no namespace behind.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init sigterm
rp_lab_up
rp_start
rp_warm_up
pid=$LAB_PID

rp_stop
kill -0 "$pid" 2>/dev/null && rp_fail "rampart (pid $pid) still runs after it exited"
# What it printed after the ready line: a stop notice, then the counters,
# which include the warm-up ping (a request and a reply forwarded).
tail_out=$(sed -n '/^rampart: running/,$p' "$RP_OUT")
rp_expect_contains "output after SIGTERM" "$tail_out" "rampart: stopping"
grep -Eq '^ +forwarded +2$' <<<"$tail_out" || rp_fail "final counters do not say 'forwarded 2':
$tail_out"
[[ -e $RP_SOCK ]] && rp_fail "control socket $RP_SOCK left behind"

lab_down "$RP_LAB"
left=$(ip netns list | grep -- "^rp-$RP_LAB-")
rp_expect_eq "namespaces left behind" "$left" ""
rp_pass
