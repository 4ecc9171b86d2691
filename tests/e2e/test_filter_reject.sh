#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# REJECT answers for the server, which listens but never sees the packets:
#   - `--reject-with tcp-reset` on TCP :81: curl fails at once (exit 7,
#     in well under 0.5 s) and connect() gets ECONNREFUSED: the client's
#     kernel accepted the RST, so its addresses, ports and acknowledgement
#     number were right;
#   - the default REJECT (icmp-port-unreachable) on UDP :5353: the client's
#     connected UDP socket gets ECONNREFUSED: the client's kernel matched
#     the ICMP error's embedded IP and UDP headers to the socket.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet: a SYN is 60 bytes (Linux defaults:
#     MSS, SACK, timestamps, window scale), "ping" over UDP is 20+8+4 = 32;
#   - `rampartctl stats --json` has the drop reasons filter_reject and
#     filter_drop; a rejected packet counts as filter_reject only.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_reject
rp_lab_up

rp_write_filter_conf ACCEPT \
	'-A FORWARD -p tcp --dport 81 -j REJECT --reject-with tcp-reset' \
	'-A FORWARD -p udp --dport 5353 -j REJECT'
rp_start
rp_warm_up

mkdir -p "$RP_TMP/www"
echo "not for you" >"$RP_TMP/www/index.html"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 81 "$RP_TMP/www" || rp_fail "HTTP server on :81 did not start"
in_srv python3 - "$LAB_SRV_IP" "$RP_TMP/udp-got" <<'PY' >/dev/null 2>&1 &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5353))
while True:
    data, peer = s.recvfrom(100)
    with open(sys.argv[2], "a") as f:
        f.write(f"{peer[0]}:{peer[1]} {data!r}\n")
PY
for ((i = 0; i < 50; i++)); do
	in_srv ss -Hlun "sport = :5353" | grep -q . && break
	sleep 0.1
done

save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "rule 1 as listed" "$(rp_filter_rule "$save" FORWARD 1)" "-j REJECT --reject-with tcp-reset"
rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" FORWARD 2)" "-j REJECT"

# ---- TCP :81 -> RST
save0=$save
stats0=$(rp_counters) || exit 1
srv_insegs0=$(rp_snmp "$LAB_SRV" Tcp InSegs) || exit 1
cli_insegs0=$(rp_snmp "$LAB_CLI" Tcp InSegs) || exit 1
secs=$(in_cli curl -sS --max-time 5 -o /dev/null -w '%{time_total}' "http://$LAB_SRV_IP:81/" 2>"$RP_TMP/curl.err")
rc=$?
err=$(cat "$RP_TMP/curl.err")
rp_expect_eq "curl to :81 exit status (stderr: $err)" "$rc" 7
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 0.5)' "$secs" ||
	rp_fail "curl took $secs s to be refused, want under 0.5 s (a RST, not a timeout)"
# curl's words vary by version ("Connection refused", "Couldn't connect to
# server"); the socket's error does not: ECONNREFUSED, at once.
out=$(in_cli python3 - "$LAB_SRV_IP" <<'PY' 2>&1
import socket, sys, time
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], 81), timeout=3)
    print("connected")
except ConnectionRefusedError:
    print("refused" if time.monotonic() - t < 0.5 else "refused late")
except socket.timeout:
    print("timeout")
PY
)
rp_expect_eq "connect() to :81" "$out" refused
sleep 0.3
save=$(rp_ctl rules --save) || exit 1
stats=$(rp_counters) || exit 1
rp_expect_eq "tcp-reset rule after 2 connection attempts [pkts:bytes]" \
	"$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)")" "2:120"
rp_expect_eq "FORWARD policy" \
	"$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)")" "0:0"
rp_expect_delta "$stats0" "$stats" filter_reject 2
rp_expect_delta "$stats0" "$stats" filter_drop 0
rp_expect_delta "$stats0" "$stats" forwarded 0
rp_expect_delta "$stats0" "$stats" drops_total 2
rp_expect_eq "TCP segments the server received" "$(($(rp_snmp "$LAB_SRV" Tcp InSegs) - srv_insegs0))" 0
rp_expect_eq "TCP segments the client received (the RSTs)" "$(($(rp_snmp "$LAB_CLI" Tcp InSegs) - cli_insegs0))" 2

# ---- UDP :5353 -> ICMP port unreachable
save0=$save stats0=$stats
srv_udp0=$(rp_snmp "$LAB_SRV" Udp InDatagrams) || exit 1
cli_unreach0=$(rp_snmp "$LAB_CLI" Icmp InDestUnreachs) || exit 1
out=$(in_cli python3 - "$LAB_SRV_IP" <<'PY' 2>&1
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 5353))
s.settimeout(3)
s.send(b"ping")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
)
rp_expect_eq "UDP to :5353 from a connected socket" "$out" refused
sleep 0.3
save=$(rp_ctl rules --save) || exit 1
stats=$(rp_counters) || exit 1
rp_expect_eq "UDP REJECT rule [pkts:bytes]" \
	"$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 2)" "$(rp_filter_counter "$save0" FORWARD 2)")" "1:32"
rp_expect_eq "tcp-reset rule while UDP was refused" \
	"$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)")" "0:0"
rp_expect_delta "$stats0" "$stats" filter_reject 1
rp_expect_delta "$stats0" "$stats" filter_drop 0
rp_expect_delta "$stats0" "$stats" forwarded 0
rp_expect_delta "$stats0" "$stats" drops_total 1
rp_expect_delta "$stats0" "$stats" icmp_errors_sent 1
rp_expect_eq "ICMP destination unreachable the client received" \
	"$(($(rp_snmp "$LAB_CLI" Icmp InDestUnreachs) - cli_unreach0))" 1
rp_expect_eq "UDP datagrams the server received" "$(($(rp_snmp "$LAB_SRV" Udp InDatagrams) - srv_udp0))" 0
[[ ! -s $RP_TMP/udp-got ]] || rp_fail "the server got: $(cat "$RP_TMP/udp-got")"

# What the rules do not name still passes (policy ACCEPT): a ping crosses.
out=$(in_cli ping -n -c 1 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across failed: $out"

rp_stop
rp_pass
