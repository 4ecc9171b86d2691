#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection tracking across the appliance, read as `conntrack -L` would
# show it (rampartctl conntrack --json): ping, a UDP exchange, an unanswered
# UDP datagram, a TCP connection open and then closed; short UDP/ICMP
# timeouts make entries expire; delete and flush empty the table.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init conntrack_states
rp_lab_up
rp_write_conf "$RP_CONF"
echo 'conntrack = { timeouts = { udp = 3; icmp = 3; }; };' >>"$RP_CONF"
rp_start
rp_warm_up
rp_ctl conntrack -F >/dev/null || exit 1

# ct_field FILTER-ARGS -- PYTHON-EXPR: evaluate EXPR over the JSON listing
# (variable `c` is the list of connections).
ct_eval() {
	local expr=$1
	shift
	local json
	json=$(rp_ctl conntrack --json "$@") || exit 1
	python3 -c "import json,sys; c=json.load(sys.stdin)['connections']; print($expr)" <<<"$json"
}

# ---- ICMP: 3 echo requests and their replies, one connection
in_cli ping -n -c 3 -i 0.2 "$LAB_SRV_IP" >/dev/null || rp_fail "ping across failed"
rp_expect_eq "icmp entries" "$(ct_eval 'len(c)' -p icmp)" 1
rp_expect_eq "icmp tuple" "$(ct_eval '(c[0]["original"]["src"], c[0]["original"]["dst"], c[0]["reply"]["src"], c[0]["packets"], c[0]["unreplied"])' -p icmp)" \
	"('$LAB_CLI_IP', '$LAB_SRV_IP', '$LAB_SRV_IP', [3, 3], False)"

# ---- UDP: a request and its reply; then a datagram nobody answers
in_srv python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5353)); s.settimeout(10)
data, peer = s.recvfrom(100); s.sendto(data.upper(), peer)
' "$LAB_SRV_IP" &
srv_pid=$!
sleep 0.3
reply=$(in_cli python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 40001)); s.settimeout(5)
s.sendto(b"query", (sys.argv[1], 5353)); print(s.recvfrom(100)[0].decode())
' "$LAB_SRV_IP" "$LAB_CLI_IP") || rp_fail "UDP request/reply failed"
wait "$srv_pid"
rp_expect_eq "udp reply" "$reply" QUERY
in_cli python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 40002)); s.sendto(b"lost", (sys.argv[1], 5454))
' "$LAB_SRV_IP" "$LAB_CLI_IP"
sleep 0.3
rp_expect_eq "udp answered" "$(ct_eval '[(x["original"]["sport"], x["original"]["dport"], x["packets"], x["unreplied"]) for x in c if x["original"]["sport"] == 40001]' -p udp)" \
	"[(40001, 5353, [1, 1], False)]"
rp_expect_eq "udp unanswered" "$(ct_eval '[(x["original"]["dport"], x["packets"], x["unreplied"]) for x in c if x["original"]["sport"] == 40002]' -p udp)" \
	"[(5454, [1, 0], True)]"
text=$(rp_ctl conntrack -p udp -s "$LAB_CLI_IP") || exit 1
rp_expect_contains "conntrack -L text" "$text" "udp      17 "
rp_expect_contains "conntrack -L text" "$text" "src=$LAB_CLI_IP dst=$LAB_SRV_IP sport=40002 dport=5454 packets=1 bytes=32 [UNREPLIED] src=$LAB_SRV_IP dst=$LAB_CLI_IP sport=5454 dport=40002 packets=0 bytes=0"

# ---- TCP: open and idle -> ESTABLISHED [ASSURED]; closed -> TIME_WAIT
in_srv python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9000)); l.listen(1); l.settimeout(20)
c, _ = l.accept(); c.settimeout(20)
c.sendall(c.recv(100)); c.recv(100); c.close()
' "$LAB_SRV_IP" &
srv_pid=$!
sleep 0.3
fifo=$RP_TMP/tcp.fifo
mkfifo "$fifo"
in_cli python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9000), timeout=10)
s.sendall(b"hello"); assert s.recv(100) == b"hello"
open(sys.argv[2]).read()            # hold the connection until told
s.close()
' "$LAB_SRV_IP" "$fifo" &
cli_pid=$!
sleep 0.5
rp_expect_eq "tcp established" "$(ct_eval '[(x["state"], x["assured"], x["original"]["dport"]) for x in c]' -p tcp)" \
	"[('ESTABLISHED', True, 9000)]"
rp_expect_eq "tcp filter --state" "$(ct_eval 'len(c)' -p tcp --state ESTABLISHED)" 1
echo go >"$fifo"
wait "$cli_pid" || rp_fail "TCP client failed"
wait "$srv_pid"
sleep 0.3
rp_expect_eq "tcp closed" "$(ct_eval '[x["state"] for x in c]' -p tcp)" "['TIME_WAIT']"

# ---- expiry: ICMP and UDP (3 s) go, TCP TIME_WAIT (120 s) stays
sleep 4
rp_expect_eq "after expiry: icmp" "$(ct_eval 'len(c)' -p icmp)" 0
rp_expect_eq "after expiry: udp" "$(ct_eval 'len(c)' -p udp)" 0
rp_expect_eq "after expiry: tcp" "$(ct_eval 'len(c)' -p tcp)" 1
tel=$(rp_telemetry /rampart/conntrack) || exit 1
expired=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["/rampart/conntrack"]["expired"])' <<<"$tel")
((expired >= 3)) || rp_fail "telemetry expired=$expired, want >= 3"
rp_expect_eq "telemetry connections" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)["/rampart/conntrack"]; print(d["connections"], d["tcp"]["TIME_WAIT"])' <<<"$tel")" "1 1"

# ---- delete by tuple, then flush
sport=$(ct_eval 'c[0]["original"]["sport"]' -p tcp)
rp_ctl conntrack -D -p tcp -s "$LAB_CLI_IP" -d "$LAB_SRV_IP" --sport "$sport" --dport 9000 >/dev/null || exit 1
rp_expect_eq "after delete" "$(ct_eval 'len(c)')" 0
in_cli ping -n -c 1 "$LAB_SRV_IP" >/dev/null || rp_fail "ping failed"
rp_expect_eq "before flush" "$(ct_eval 'len(c)')" 1
rp_ctl conntrack -F >/dev/null || exit 1
rp_expect_eq "after flush" "$(ct_eval 'len(c)')" 0

rp_stop
rp_pass
