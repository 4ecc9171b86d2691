#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The textbook INPUT/OUTPUT cases for a service on the box (issue 5, item 4):
# a web server in the FW namespace, bound to 198.18.1.1:80, behind
#   (a) INPUT policy DROP, OUTPUT policy DROP, only
#       `-A INPUT -p tcp --dport 80 -j ACCEPT`: the client's curl fails
#       (exit 28, timeout). The request gets in: the INPUT rule counts exactly
#       the segments the FW kernel received (> 0); the reply is blocked: the
#       OUTPUT policy counts exactly the segments the FW kernel sent (its
#       SYN/ACKs, > 0), and the client receives no TCP segment at all;
#   (b) the same plus `-A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT`
#       (a reload): the same curl gets the page. Every segment the FW kernel
#       sent is counted by that rule, every one it received by the INPUT
#       rule, and neither policy counts anything;
#   (f) a port INPUT does not allow (8080, where a server listens too):
#       DROP: curl times out (exit 28), the FW kernel receives nothing and
#       the INPUT policy counts every SYN the client sent; with
#       `-A INPUT -p tcp --dport 8080 -j REJECT --reject-with tcp-reset`:
#       curl is refused at once (exit 7, under 0.5 s), the FW kernel still
#       receives nothing, and the RST Rampart sends crosses OUTPUT as RELATED
#       (counted by the ESTABLISHED,RELATED rule, not by the policy).
#
# The FW kernel does not retransmit SYN/ACKs here (tcp_synack_retries=0), so
# that a failed handshake ends within a second of the client giving up.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet: Linux's SYN is 60 bytes (MSS, SACK,
#     timestamps, window scale), a RST 40;
#   - `rampartctl reload` prints "generation N".

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_input_output
rp_lab_up

in80='-A INPUT -p tcp --dport 80 -j ACCEPT'
out_est='-A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'
rp_write_host_conf DROP DROP "$in80"
rp_start
rp_host_wait
in_fw sysctl -q -w net.ipv4.tcp_synack_retries=0 || rp_fail "cannot set tcp_synack_retries in $LAB_FW"

mkdir -p "$RP_TMP/www"
echo "the appliance's own web server" >"$RP_TMP/www/index.html"
lab_http_serve "$LAB_FW" "$LAB_FW_LAN_IP" 80 "$RP_TMP/www" || rp_fail "HTTP server on $LAB_FW_LAN_IP:80 did not start"
lab_http_serve "$LAB_FW" "$LAB_FW_LAN_IP" 8080 "$RP_TMP/www" || rp_fail "HTTP server on $LAB_FW_LAN_IP:8080 did not start"

save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "INPUT policy as listed" "$(grep '^:INPUT ' <<<"$save" | cut -d' ' -f2)" DROP
rp_expect_eq "OUTPUT policy as listed" "$(grep '^:OUTPUT ' <<<"$save" | cut -d' ' -f2)" DROP
rp_expect_contains "INPUT rule 1 as listed" "$(rp_filter_rule "$save" INPUT 1)" "--dport 80"

# snapshot: counters of the rules, and of the three kernels' TCP
snapshot() {
	save=$(rp_ctl rules --save) || exit 1
	fw_in=$(rp_snmp "$LAB_FW" Tcp InSegs) || exit 1
	fw_sent=$(rp_synack_sent "$LAB_FW") || exit 1 # the web server only answers
	cli_in=$(rp_snmp "$LAB_CLI" Tcp InSegs) || exit 1
	cli_sent=$(rp_tcp_sent "$LAB_CLI") || exit 1
}

# ---- (a) the request gets in, the reply is blocked
snapshot
save0=$save fw_in0=$fw_in fw_sent0=$fw_sent cli_in0=$cli_in cli_sent0=$cli_sent
in_cli curl -sS --max-time 3 -o /dev/null "http://$LAB_FW_LAN_IP/" 2>"$RP_TMP/curl.err"
rc=$?
rp_expect_eq "(a) curl exit status (stderr: $(cat "$RP_TMP/curl.err"))" "$rc" 28
rp_tcp_quiet "$LAB_FW" "$LAB_CLI"
snapshot
got_in=$((fw_in - fw_in0)) got_sent=$((fw_sent - fw_sent0))
((got_in > 0)) || rp_fail "(a) the FW kernel received no TCP segment: the request did not get in"
((got_sent > 0)) || rp_fail "(a) the FW kernel sent no TCP segment"
rp_expect_eq "(a) INPUT rule 1 = the SYNs the client sent, all received by the FW kernel" \
	"$(rp_rule_delta "$save0" "$save" INPUT 1)" "$((cli_sent - cli_sent0)):$((60 * (cli_sent - cli_sent0)))"
rp_expect_eq "(a) segments the FW kernel received = segments the client sent" "$got_in" "$((cli_sent - cli_sent0))"
rp_expect_eq "(a) OUTPUT policy (DROP) = segments the FW kernel sent" \
	"$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "$got_sent:$((60 * got_sent))"
rp_expect_eq "(a) INPUT policy" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "0:0"
rp_expect_eq "(a) TCP segments the client received" "$((cli_in - cli_in0))" 0

# ---- (b) with replies of known connections allowed, the page arrives
rp_write_host_conf DROP DROP "$in80" "$out_est"
rp_reload
save0=$(rp_ctl rules --save) || exit 1
rp_expect_contains "OUTPUT rule 1 after the reload" "$(rp_filter_rule "$save0" OUTPUT 1)" "--state RELATED,ESTABLISHED"
snapshot
save0=$save fw_in0=$fw_in fw_sent0=$fw_sent cli_in0=$cli_in cli_sent0=$cli_sent
out=$(in_cli curl -sS --max-time 5 "http://$LAB_FW_LAN_IP/" 2>&1) || rp_fail "(b) curl failed: $out"
rp_expect_eq "(b) the page" "$out" "the appliance's own web server"
rp_tcp_quiet "$LAB_FW" "$LAB_CLI"
snapshot
got_in=$((fw_in - fw_in0)) got_sent=$((fw_sent - fw_sent0))
rp_expect_eq "(b) INPUT rule 1 packets = segments the FW kernel received" \
	"$(rp_rule_delta "$save0" "$save" INPUT 1 | cut -d: -f1)" "$got_in"
rp_expect_eq "(b) OUTPUT rule 1 packets = segments the FW kernel sent" \
	"$(rp_rule_delta "$save0" "$save" OUTPUT 1 | cut -d: -f1)" "$got_sent"
rp_expect_eq "(b) segments the client received = segments the FW kernel sent" "$((cli_in - cli_in0))" "$got_sent"
rp_expect_eq "(b) INPUT policy" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "0:0"
rp_expect_eq "(b) OUTPUT policy" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "0:0"

# ---- (f) DROP: a port INPUT does not allow gets nothing back
save0=$save fw_in0=$fw_in cli_in0=$cli_in cli_sent0=$cli_sent
in_cli curl -sS --max-time 3 -o /dev/null "http://$LAB_FW_LAN_IP:8080/" 2>"$RP_TMP/curl.err"
rc=$?
rp_expect_eq "(f) curl to :8080 exit status with DROP (stderr: $(cat "$RP_TMP/curl.err"))" "$rc" 28
rp_tcp_quiet "$LAB_FW" "$LAB_CLI"
snapshot
syns=$((cli_sent - cli_sent0))
((syns > 0)) || rp_fail "(f) the client sent no SYN"
rp_expect_eq "(f) INPUT policy (DROP) = the client's SYNs" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "$syns:$((60 * syns))"
rp_expect_eq "(f) INPUT rule 1 (:80)" "$(rp_rule_delta "$save0" "$save" INPUT 1)" "0:0"
rp_expect_eq "(f) TCP segments the FW kernel received" "$((fw_in - fw_in0))" 0
rp_expect_eq "(f) TCP segments the client received" "$((cli_in - cli_in0))" 0

# ---- (f) REJECT: the same port refused at once
rp_write_host_conf DROP DROP "$in80" '-A INPUT -p tcp --dport 8080 -j REJECT --reject-with tcp-reset' "$out_est"
rp_reload
snapshot
save0=$save fw_in0=$fw_in cli_in0=$cli_in
rp_expect_contains "INPUT rule 2 as listed" "$(rp_filter_rule "$save0" INPUT 2)" "-j REJECT --reject-with tcp-reset"
secs=$(in_cli curl -sS --max-time 3 -o /dev/null -w '%{time_total}' "http://$LAB_FW_LAN_IP:8080/" 2>"$RP_TMP/curl.err")
rc=$?
rp_expect_eq "(f) curl to :8080 exit status with REJECT (stderr: $(cat "$RP_TMP/curl.err"))" "$rc" 7
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 0.5)' "$secs" ||
	rp_fail "(f) curl took $secs s to be refused, want under 0.5 s (a RST, not a timeout)"
sleep 0.3
snapshot
rp_expect_eq "(f) REJECT rule [pkts:bytes]" "$(rp_rule_delta "$save0" "$save" INPUT 2)" "1:60"
rp_expect_eq "(f) INPUT policy with REJECT" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "0:0"
rp_expect_eq "(f) OUTPUT ESTABLISHED,RELATED rule: the RST" "$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "1:40"
rp_expect_eq "(f) OUTPUT policy with REJECT" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "0:0"
rp_expect_eq "(f) TCP segments the FW kernel received with REJECT" "$((fw_in - fw_in0))" 0
rp_expect_eq "(f) TCP segments the client received (the RST)" "$((cli_in - cli_in0))" 1

rp_stop
rp_pass
