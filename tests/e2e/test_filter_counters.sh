#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Rule and policy counters, read as `iptables-save -c` and `iptables -L -v
# -n` show them, and zeroed as `iptables -Z` zeroes them. FORWARD policy
# DROP with one rule accepting ICMP:
#   - ping -c 5 across: the rule counts 10 packets (5 requests, 5 replies)
#     and 840 bytes (each 20 IP + 8 ICMP + 56 data);
#   - one UDP datagram across ("ping", 32 bytes): the FORWARD policy counts
#     [1:32] and the datagram is dropped (filter_drop);
#   - ping -c 2 to the appliance: the INPUT policy (ACCEPT) counts [2:168];
#   - `rules --zero` brings every counter back to [0:0].
#
# Assumptions about the implementation's output:
#   - `rampartctl rules --save` as `iptables-save -c` (see tests/e2e/lib.sh):
#     ":FORWARD DROP [1:32]", "[10:840] -A FORWARD -p icmp -j ACCEPT";
#   - `rampartctl rules` as `iptables -L -v -n`: a heading
#     "Chain FORWARD (policy DROP 1 packets, 32 bytes)", then a column header
#     line, then one line per rule whose whitespace-separated fields are
#     pkts bytes target prot opt in out source destination, e.g.
#     "10 840 ACCEPT icmp -- * * 0.0.0.0/0 0.0.0.0/0" (numbers this small
#     have no K/M suffix); compared here with runs of blanks squeezed; the
#     prot column may say "icmp" (iptables before 1.8.8) or "1" (iptables
#     1.8.8 on, where -n also prints protocols as numbers): both are taken;
#   - `rampartctl rules --zero` exits 0 (its output is not checked).

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_counters
rp_lab_up

rp_write_filter_conf DROP '-A FORWARD -p icmp -j ACCEPT'
rp_start
rp_warm_up # a ping across: the ICMP rule lets it through

# list_chain LISTING CHAIN: the chain's heading and rule lines from
# `rampartctl rules`, blanks squeezed, without the column header, ICMP's
# protocol number shown as its name.
list_chain() {
	awk -v chain="$2" '
		$1 == "Chain" { on = ($2 == chain) }
		on && NF && $1 != "pkts" { if ($1 != "Chain" && $4 == "1") $4 = "icmp"; $1 = $1; print }' <<<"$1"
}

# expect_counters WHAT RULE FWD-POLICY INPUT-POLICY: the three counters in
# rules --save.
expect_counters() {
	local save
	save=$(rp_ctl rules --save) || exit 1
	rp_expect_eq "$1: ICMP rule [pkts:bytes]" "$(rp_filter_counter "$save" FORWARD 1)" "$2"
	rp_expect_eq "$1: FORWARD policy [pkts:bytes]" "$(rp_filter_counter "$save" FORWARD policy)" "$3"
	rp_expect_eq "$1: INPUT policy [pkts:bytes]" "$(rp_filter_counter "$save" INPUT policy)" "$4"
}

rp_ctl rules --zero >/dev/null || exit 1
expect_counters "after rules --zero" 0:0 0:0 0:0

stats0=$(rp_counters) || exit 1
out=$(in_cli ping -n -c 5 -i 0.2 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across failed: $out"
rp_expect_contains "ping across" "$out" "5 packets transmitted, 5 received"
out=$(in_cli ping -n -c 2 -i 0.2 -W 2 "$LAB_FW_LAN_IP" 2>&1) || rp_fail "ping to the appliance failed: $out"
rp_expect_contains "ping to the appliance" "$out" "2 packets transmitted, 2 received"
in_cli python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"ping", (sys.argv[1], 7000))' "$LAB_SRV_IP" || rp_fail "could not send the UDP datagram"
sleep 0.3
stats=$(rp_counters) || exit 1
expect_counters "after the traffic" 10:840 1:32 2:168
rp_expect_delta "$stats0" "$stats" forwarded 10
rp_expect_delta "$stats0" "$stats" filter_drop 1
rp_expect_delta "$stats0" "$stats" drops_total 1

listing=$(rp_ctl rules) || exit 1
rp_expect_eq "rules (as iptables -L -v -n), FORWARD" "$(list_chain "$listing" FORWARD)" \
	"Chain FORWARD (policy DROP 1 packets, 32 bytes)
10 840 ACCEPT icmp -- * * 0.0.0.0/0 0.0.0.0/0"
rp_expect_eq "rules (as iptables -L -v -n), INPUT" "$(list_chain "$listing" INPUT)" \
	"Chain INPUT (policy ACCEPT 2 packets, 168 bytes)"

rp_ctl rules --zero >/dev/null || exit 1
expect_counters "after the second rules --zero" 0:0 0:0 0:0
listing=$(rp_ctl rules) || exit 1
rp_expect_eq "rules after --zero, FORWARD" "$(list_chain "$listing" FORWARD)" \
	"Chain FORWARD (policy DROP 0 packets, 0 bytes)
0 0 ACCEPT icmp -- * * 0.0.0.0/0 0.0.0.0/0"

# Counting goes on from zero.
out=$(in_cli ping -n -c 1 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across after --zero failed: $out"
sleep 0.2
expect_counters "one ping after --zero" 2:168 0:0 0:0

rp_stop
rp_pass
