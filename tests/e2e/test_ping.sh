#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Ping across the appliance (client -> server) and to the appliance itself
# (client -> 198.18.1.1), with the exact counters each must move.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init ping
rp_lab_up
rp_start
rp_warm_up

# Across: 5 requests forwarded lan0 -> wan0, 5 replies wan0 -> lan0.
before=$(rp_counters) || exit 1
out=$(in_cli ping -n -c 5 -i 0.2 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across: $out"
rp_expect_contains "ping across" "$out" "5 packets transmitted, 5 received, 0% packet loss"
# The server answers with TTL 64; one router on the way makes it 63.
rp_expect_eq "replies with ttl=63 (decremented once)" "$(grep -c "from $LAB_SRV_IP: icmp_seq=.* ttl=63 " <<<"$out")" 5
after=$(rp_counters) || exit 1
rp_expect_delta "$before" "$after" forwarded 10
rp_expect_delta "$before" "$after" local_in 0
rp_expect_delta "$before" "$after" icmp_echo_replied 0
rp_expect_delta "$before" "$after" drops_total 0

# To the appliance: 5 echo requests delivered locally and answered.
before=$after
out=$(in_cli ping -n -c 5 -i 0.2 -W 2 "$LAB_FW_LAN_IP" 2>&1) || rp_fail "ping to the appliance: $out"
rp_expect_contains "ping to the appliance" "$out" "5 packets transmitted, 5 received, 0% packet loss"
rp_expect_eq "replies from $LAB_FW_LAN_IP" "$(grep -c "from $LAB_FW_LAN_IP: icmp_seq=" <<<"$out")" 5
after=$(rp_counters) || exit 1
rp_expect_delta "$before" "$after" local_in 5
rp_expect_delta "$before" "$after" icmp_echo_replied 5
rp_expect_delta "$before" "$after" forwarded 0
rp_expect_delta "$before" "$after" drops_total 0

# The appliance's other address answers too, from the LAN side (Linux's
# weak host model: any of our addresses, whichever port it arrives on).
out=$(in_cli ping -n -c 1 -W 2 "$LAB_FW_WAN_IP" 2>&1) || rp_fail "ping to $LAB_FW_WAN_IP from the LAN: $out"
rp_expect_contains "ping to $LAB_FW_WAN_IP" "$out" "1 received"

rp_stop
rp_pass
