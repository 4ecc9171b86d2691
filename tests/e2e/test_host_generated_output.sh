#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What the appliance generates itself traverses OUTPUT as RELATED, as in
# netfilter (issue 5, item 3): REJECT's RST and the ICMP "time exceeded" for a
# forwarded packet. With OUTPUT policy DROP and only `--state ESTABLISHED`
# accepted, they are not sent; with `ESTABLISHED,RELATED` they are.
#
# Assumptions: `rampartctl rules --save` as iptables-save -c (rules by
# position); `rampartctl reload` prints "generation N"; a RST is 40 bytes of IP,
# an ICMP time exceeded about a default ping 112 (20 + 8 + 84 quoted).

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_generated_output
rp_lab_up

reject='-A FORWARD -p tcp --dport 81 -j REJECT --reject-with tcp-reset'
rp_write_host_conf ACCEPT DROP "$reject" '-A OUTPUT -m state --state ESTABLISHED -j ACCEPT'
rp_start
rp_host_wait
rp_warm_up

# ---- ESTABLISHED only: REJECT's RST and the TTL error are dropped by OUTPUT
save0=$(rp_ctl rules --save) || exit 1
in_cli curl -sS --max-time 2 -o /dev/null "http://$LAB_SRV_IP:81/" 2>/dev/null
rc=$?
rp_expect_eq "curl to :81 with RELATED not allowed out (28: timed out, no RST)" "$rc" 28
out=$(in_cli ping -n -c 1 -W 1 -t 1 "$LAB_SRV_IP" 2>&1)
[[ $out == *"Time to live exceeded"* ]] && rp_fail "time exceeded was sent despite OUTPUT: $out"
save=$(rp_ctl rules --save) || exit 1
rejected=$(rp_rule_delta "$save0" "$save" FORWARD 1 | cut -d: -f1) || exit 1
((rejected >= 1)) || rp_fail "the REJECT rule matched nothing"
rp_expect_eq "OUTPUT policy = the RSTs and the ICMP error REJECT and TTL made" \
	"$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "$((rejected + 1)):$((40 * rejected + 112))"
rp_expect_eq "OUTPUT ESTABLISHED rule" "$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "0:0"

# ---- ESTABLISHED,RELATED: they go out
rp_write_host_conf ACCEPT DROP "$reject" '-A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'
rp_reload
save0=$(rp_ctl rules --save) || exit 1
start=$(date +%s%N)
in_cli curl -sS --max-time 2 -o /dev/null "http://$LAB_SRV_IP:81/" 2>/dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
rp_expect_eq "curl to :81 with RELATED allowed out (7: refused)" "$rc" 7
((ms < 1000)) || rp_fail "the refusal took $ms ms"
out=$(in_cli ping -n -c 1 -W 1 -t 1 "$LAB_SRV_IP" 2>&1)
rp_expect_contains "ping -t 1" "$out" "From $LAB_FW_LAN_IP icmp_seq=1 Time to live exceeded"
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "OUTPUT RELATED rule = one RST and the ICMP error" \
	"$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "2:152"
rp_expect_eq "OUTPUT policy" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "0:0"

rp_stop
rp_pass
