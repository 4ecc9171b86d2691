#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A packet whose TTL would reach 0 at the appliance is dropped and answered
# with ICMP time exceeded from the appliance's address on the way back.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init ttl_exceeded
rp_lab_up
rp_start
rp_warm_up

before=$(rp_counters) || exit 1
srv_rx0=$(rp_rx_packets "$LAB_SRV") || exit 1
out=$(in_cli ping -n -c 1 -t 1 -W 2 "$LAB_SRV_IP" 2>&1)
status=$?
srv_rx=$(rp_rx_packets "$LAB_SRV") || exit 1
after=$(rp_counters) || exit 1

rp_expect_eq "ping exit status (no reply)" "$status" 1
rp_expect_contains "ping -t 1 output" "$out" "From $LAB_FW_LAN_IP icmp_seq=1 Time to live exceeded"
rp_expect_eq "frames the server received" "$((srv_rx - srv_rx0))" 0
rp_expect_delta "$before" "$after" ttl_exceeded 1
rp_expect_delta "$before" "$after" icmp_errors_sent 1
rp_expect_delta "$before" "$after" forwarded 0
rp_expect_delta "$before" "$after" drops_total 1

# TTL 2 is enough for one router: the same ping then gets through.
out=$(in_cli ping -n -c 1 -t 2 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping -t 2 across: $out"
rp_expect_contains "ping -t 2 output" "$out" "1 received"

rp_stop
rp_pass
