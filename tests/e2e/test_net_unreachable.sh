#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A destination the appliance has no route for (203.0.113.9, TEST-NET-3;
# it exists nowhere, and nothing leaves the lab's namespaces) is dropped and
# answered with ICMP destination net unreachable.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init net_unreachable
rp_lab_up
rp_start
rp_warm_up

before=$(rp_counters) || exit 1
srv_rx0=$(rp_rx_packets "$LAB_SRV") || exit 1
out=$(in_cli ping -n -c 1 -W 2 203.0.113.9 2>&1)
status=$?
srv_rx=$(rp_rx_packets "$LAB_SRV") || exit 1
after=$(rp_counters) || exit 1

rp_expect_eq "ping exit status (no reply)" "$status" 1
rp_expect_contains "ping 203.0.113.9 output" "$out" "From $LAB_FW_LAN_IP icmp_seq=1 Destination Net Unreachable"
rp_expect_eq "frames the server received" "$((srv_rx - srv_rx0))" 0
rp_expect_delta "$before" "$after" no_route 1
rp_expect_delta "$before" "$after" icmp_errors_sent 1
rp_expect_delta "$before" "$after" forwarded 0
rp_expect_delta "$before" "$after" drops_total 1

rp_stop
rp_pass
