#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# LOG, a non-terminal target: every ICMP packet across is logged with its
# prefix in iptables' layout and then accepted by the next rule. ping -c 2:
# two requests (IN=lan0 OUT=wan0, client -> server, TYPE=8) and two replies
# (IN=wan0 OUT=lan0, server -> client, TYPE=0), in that order, and nothing
# else; the ping itself succeeds.
#
# Assumptions about the implementation's output:
#   - LOG lines go to the daemon's stdout or stderr, one per packet, and
#     contain the prefix followed at once by iptables' fields:
#     "RP-ICMP: IN=lan0 OUT=wan0 MAC=... SRC=198.18.1.2 DST=198.19.1.2
#     LEN=84 TOS=0x00 PREC=0x00 TTL=.. ID=.. DF PROTO=ICMP TYPE=8 CODE=0
#     ID=.. SEQ=1"; whatever the daemon puts before the prefix on the line
#     (a time, a log tag) is not checked; MAC=, TTL=, ID= are not checked;
#   - the LOG rate limit lets 4 lines in 1 s through (ping -i 0.3);
#   - `rampartctl rules --save` as `iptables-save -c` (see tests/e2e/lib.sh).

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_log
rp_lab_up

rp_write_filter_conf DROP \
	'-A FORWARD -p icmp -j LOG --log-prefix "RP-ICMP: "' \
	'-A FORWARD -p icmp -j ACCEPT'
rp_start
rp_warm_up_local # not across: the test counts every LOG line

save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "rule 1 as listed" "$(rp_filter_rule "$save" FORWARD 1)" '-j LOG --log-prefix "RP-ICMP: "'

# log_lines: the LOG lines so far, from the prefix on.
log_lines() {
	cat "$RP_OUT" "$RP_ERR" | grep -o 'RP-ICMP: .*'
}
[[ -z $(log_lines) ]] || rp_fail "LOG lines before any ICMP crossed:
$(log_lines)"

out=$(in_cli ping -n -c 2 -i 0.3 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across failed: $out"
rp_expect_contains "ping across" "$out" "2 packets transmitted, 2 received"
# The control thread prints the lines the workers queue; give it a moment.
for ((i = 0; i < 30; i++)); do
	(($(log_lines | wc -l) >= 4)) && break
	sleep 0.1
done
sleep 0.3 # a fifth line, if any, would show up now
lines=$(log_lines)
rp_expect_eq "number of LOG lines" "$(wc -l <<<"$lines")" 4

# check_line N DIRECTION-FIELDS ADDRESS-FIELDS ICMP-FIELDS
check_line() {
	local l
	l=$(sed -n "${1}p" <<<"$lines")
	rp_expect_contains "LOG line $1" "$l" "RP-ICMP: $2 "
	[[ $l == "RP-ICMP: $2 "* ]] || rp_fail "LOG line $1 does not start with 'RP-ICMP: $2': $l"
	rp_expect_contains "LOG line $1" "$l" " $3 "
	rp_expect_contains "LOG line $1" "$l" " $4"
}
check_line 1 "IN=lan0 OUT=wan0" "SRC=$LAB_CLI_IP DST=$LAB_SRV_IP LEN=84" "PROTO=ICMP TYPE=8 CODE=0 "
check_line 2 "IN=wan0 OUT=lan0" "SRC=$LAB_SRV_IP DST=$LAB_CLI_IP LEN=84" "PROTO=ICMP TYPE=0 CODE=0 "
check_line 3 "IN=lan0 OUT=wan0" "SRC=$LAB_CLI_IP DST=$LAB_SRV_IP LEN=84" "PROTO=ICMP TYPE=8 CODE=0 "
check_line 4 "IN=wan0 OUT=lan0" "SRC=$LAB_SRV_IP DST=$LAB_CLI_IP LEN=84" "PROTO=ICMP TYPE=0 CODE=0 "
# iptables ends an echo's line with its id and sequence number (the kernel
# leaves a blank after the last field; either way is accepted)
[[ $(sed -n 1p <<<"$lines") =~ \ SEQ=1\ ?$ && $(sed -n 4p <<<"$lines") =~ \ SEQ=2\ ?$ ]] ||
	rp_fail "want SEQ=1 on the first and SEQ=2 on the last LOG line:
$lines"

save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "LOG rule [pkts:bytes]" "$(rp_filter_counter "$save" FORWARD 1)" "4:336"
rp_expect_eq "ACCEPT rule [pkts:bytes] (LOG does not stop the chain)" "$(rp_filter_counter "$save" FORWARD 2)" "4:336"
rp_expect_eq "FORWARD policy" "$(rp_filter_counter "$save" FORWARD policy)" "0:0"

rp_stop
rp_pass
