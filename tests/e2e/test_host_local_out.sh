#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The box's own connections out (issue 5, item 4): INPUT policy DROP,
# OUTPUT policy ACCEPT. From the FW namespace (the appliance's kernel):
#   - TCP: curl to a web server on the server (198.19.1.2:8080);
#   - ICMP: ping to the server (echo is tracked like a connection);
#   - UDP: a DNS-like request/reply with a small responder on the server
#     (198.19.1.2:5353, answers "re:" + the request).
# Without `-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT` each one
# fails: the request leaves (OUTPUT policy counts it), the server answers,
# and the answer is dropped by the INPUT policy (which counts exactly what
# the server sent back). With the rule (a reload), each one works and the
# rule counts exactly the answers; the INPUT policy counts nothing.
#
# The server does not retransmit SYN/ACKs (tcp_synack_retries=0), so that
# a failed handshake ends within a second of the client giving up.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet: a SYN/ACK from Linux is 60 bytes,
#     a default ping 84, "re:q1" over UDP 20+8+5 = 33;
#   - `rampartctl reload` prints "generation N".

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_local_out
rp_lab_up

estab='-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'
# a rule for nothing in this test, so that "rule 1" names the same place in both rulesets
other='-A INPUT -p tcp --dport 22 -j ACCEPT'
rp_write_host_conf DROP ACCEPT "$other"
rp_start
rp_host_wait
in_srv sysctl -q -w net.ipv4.tcp_synack_retries=0 || rp_fail "cannot set tcp_synack_retries in $LAB_SRV"

mkdir -p "$RP_TMP/www"
echo "the server's page" >"$RP_TMP/www/page"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8080 "$RP_TMP/www" || rp_fail "HTTP server on the server did not start"
rp_udp_responder "$LAB_SRV" "$LAB_SRV_IP" 5353

# attempt NAME WORKS RULE NOT-RULE: the three requests from the box; WORKS
# is 1 when they must succeed; RULE is where their answers must be counted in
# INPUT ("policy", or a rule number), NOT-RULE a place that must count nothing.
attempt() {
	local name=$1 works=$2 rule=$3 not_rule=$4
	local save0 save srv_sent0 srv_sent fw_sent0 fw_in0 fw_in rc out

	# TCP
	save0=$(rp_ctl rules --save) || exit 1
	srv_sent0=$(rp_synack_sent "$LAB_SRV") || exit 1 # the web server only answers
	fw_sent0=$(rp_tcp_sent "$LAB_FW") || exit 1
	fw_in0=$(rp_snmp "$LAB_FW" Tcp InSegs) || exit 1
	out=$(in_fw curl -sS --max-time 3 "http://$LAB_SRV_IP:8080/page" 2>&1)
	rc=$?
	if ((works)); then
		rp_expect_eq "$name: curl from the box (output: $out)" "$rc" 0
		rp_expect_eq "$name: the page" "$out" "the server's page"
	else
		rp_expect_eq "$name: curl from the box exit status (output: $out)" "$rc" 28
	fi
	rp_tcp_quiet "$LAB_FW" "$LAB_SRV"
	save=$(rp_ctl rules --save) || exit 1
	srv_sent=$(($(rp_synack_sent "$LAB_SRV") - srv_sent0)) || exit 1
	fw_in=$(($(rp_snmp "$LAB_FW" Tcp InSegs) - fw_in0)) || exit 1
	((srv_sent > 0)) || rp_fail "$name: the server sent no TCP segment: the request did not get out"
	rp_expect_eq "$name: INPUT $rule packets = TCP segments the server sent" \
		"$(rp_rule_delta "$save0" "$save" INPUT "$rule" | cut -d: -f1)" "$srv_sent"
	rp_expect_eq "$name: INPUT $not_rule for TCP" "$(rp_rule_delta "$save0" "$save" INPUT "$not_rule")" "0:0"
	if ((works)); then
		rp_expect_eq "$name: TCP segments the box received = segments the server sent" "$fw_in" "$srv_sent"
	else
		rp_expect_eq "$name: INPUT policy bytes: only SYN/ACKs" \
			"$(rp_rule_delta "$save0" "$save" INPUT policy)" "$srv_sent:$((60 * srv_sent))"
		rp_expect_eq "$name: TCP segments the box received" "$fw_in" 0
	fi
	rp_expect_eq "$name: OUTPUT policy (ACCEPT) packets = TCP segments the box sent" \
		"$(rp_rule_delta "$save0" "$save" OUTPUT policy | cut -d: -f1)" \
		"$(($(rp_tcp_sent "$LAB_FW") - fw_sent0))"

	# ICMP echo
	save0=$save
	out=$(in_fw ping -n -c 1 -W 2 "$LAB_SRV_IP" 2>&1)
	rc=$?
	rp_expect_eq "$name: ping from the box exit status (output: $out)" "$rc" "$((works ? 0 : 1))"
	sleep 0.3
	save=$(rp_ctl rules --save) || exit 1
	rp_expect_eq "$name: INPUT $rule for the echo reply" "$(rp_rule_delta "$save0" "$save" INPUT "$rule")" "1:84"
	rp_expect_eq "$name: INPUT $not_rule for the echo reply" "$(rp_rule_delta "$save0" "$save" INPUT "$not_rule")" "0:0"
	rp_expect_eq "$name: OUTPUT policy for the echo request" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "1:84"

	# UDP request/reply
	save0=$save
	out=$(rp_udp_ask "$LAB_FW" "$LAB_SRV_IP" 5353 q1) || rp_fail "$name: the UDP client failed: $out"
	if ((works)); then
		rp_expect_eq "$name: UDP request from the box" "$out" "answer re:q1"
	else
		rp_expect_eq "$name: UDP request from the box" "$out" "timeout"
	fi
	sleep 0.3
	save=$(rp_ctl rules --save) || exit 1
	rp_expect_eq "$name: INPUT $rule for the UDP answer" "$(rp_rule_delta "$save0" "$save" INPUT "$rule")" "1:33"
	rp_expect_eq "$name: INPUT $not_rule for the UDP answer" "$(rp_rule_delta "$save0" "$save" INPUT "$not_rule")" "0:0"
	rp_expect_eq "$name: OUTPUT policy for the UDP request" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "1:30"
}

attempt "without ESTABLISHED,RELATED" 0 policy 1

rp_write_host_conf DROP ACCEPT "$other" "$estab"
rp_reload
save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "INPUT rule 2 after the reload" "$(rp_filter_rule "$save" INPUT 2)" "--state RELATED,ESTABLISHED"
attempt "with ESTABLISHED,RELATED" 1 2 policy
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "INPUT rule 1 (:22) in all" "$(rp_filter_counter "$save" INPUT 1)" "0:0"

rp_stop
rp_pass
