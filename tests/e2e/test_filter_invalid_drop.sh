#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `-m state --state INVALID -j DROP`: TCP segments that belong to no
# connection and cannot open one are dropped, while an established
# connection keeps working. The client crafts them with a raw socket (IP and
# TCP headers built here, checksums correct, so nothing but their state can
# get them dropped):
#   - a RST for no connection (netfilter: RST in state NONE is invalid);
#   - a SYN+FIN (netfilter: an invalid flag combination).
# The server's kernel must receive neither (its Tcp InSegs counter stays).
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet (a 40-byte IP+TCP segment = 40);
#   - `rampartctl stats --json` has the drop reason filter_drop.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_invalid_drop
rp_lab_up

rp_write_filter_conf ACCEPT \
	'-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT' \
	'-A FORWARD -m state --state INVALID -j DROP'
rp_start
rp_warm_up

# An echo server: one connection, every chunk sent back.
in_srv python3 - "$LAB_SRV_IP" <<'PY' >/dev/null 2>&1 &
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9000))
l.listen(1)
c, _ = l.accept()
while True:
    data = c.recv(100)
    if not data:
        break
    c.sendall(data)
PY
lab_wait_listen "$LAB_SRV" 9000 || rp_fail "echo server did not start"

# The client: a connection that echoes "one", then waits to be told to go on
# and echoes "two" over the same connection.
fifo=$RP_TMP/go.fifo
mkfifo "$fifo"
in_cli python3 - "$LAB_SRV_IP" "$fifo" <<'PY' >"$RP_TMP/cli.out" 2>&1 &
import socket, sys
s = socket.create_connection((sys.argv[1], 9000), timeout=5)
for word in (b"one", b"two"):
    s.sendall(word)
    got = s.recv(100)
    print(got.decode() + " echoed", flush=True)
    if word == b"one":
        open(sys.argv[2]).read()   # hold the connection until told
s.close()
PY
cli_pid=$!
for ((i = 0; i < 50; i++)); do
	grep -qs '^one echoed$' "$RP_TMP/cli.out" && break
	sleep 0.1
done
grep -qs '^one echoed$' "$RP_TMP/cli.out" || rp_fail "the TCP connection did not work: $(cat "$RP_TMP/cli.out")"
sleep 0.3 # the ACK of the echo

# craft FLAGS SPORT DPORT: send one IPv4/TCP segment (20 + 20 bytes) from
# the client to the server with the given flags (letters of FSRPA).
craft() {
	rp_craft_tcp "$LAB_CLI" "$LAB_CLI_IP" "$LAB_SRV_IP" "$1" "$2" "$3"
}

# check_dropped WHAT FLAGS SPORT DPORT: craft one, then exactly it is counted
# by the INVALID rule and dropped, and the server receives nothing.
check_dropped() {
	local save0 save stats0 stats insegs0 insegs delta
	save0=$(rp_ctl rules --save) || exit 1
	stats0=$(rp_counters) || exit 1
	insegs0=$(rp_snmp "$LAB_SRV" Tcp InSegs) || exit 1
	craft "$2" "$3" "$4" || rp_fail "could not send the $1"
	sleep 0.5
	save=$(rp_ctl rules --save) || exit 1
	stats=$(rp_counters) || exit 1
	insegs=$(rp_snmp "$LAB_SRV" Tcp InSegs) || exit 1
	delta=$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 2)" "$(rp_filter_counter "$save0" FORWARD 2)") || exit 1
	rp_expect_eq "INVALID rule after the $1 [pkts:bytes]" "$delta" "1:40"
	delta=$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)") || exit 1
	rp_expect_eq "ESTABLISHED,RELATED rule after the $1" "$delta" "0:0"
	delta=$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)") || exit 1
	rp_expect_eq "FORWARD policy after the $1" "$delta" "0:0"
	rp_expect_delta "$stats0" "$stats" filter_drop 1
	rp_expect_delta "$stats0" "$stats" forwarded 0
	rp_expect_eq "TCP segments the server received after the $1" "$((insegs - insegs0))" 0
}

save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" FORWARD 2)" "INVALID"
rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" FORWARD 2)" "-j DROP"

check_dropped "RST for no connection" R 40100 9001
check_dropped "SYN+FIN" SF 40101 9000

# The established connection still works, and its packets are ESTABLISHED.
save0=$(rp_ctl rules --save) || exit 1
stats0=$(rp_counters) || exit 1
echo go >"$fifo"
wait "$cli_pid" || rp_fail "the TCP client failed after the crafted segments: $(cat "$RP_TMP/cli.out")"
rp_expect_eq "client output" "$(cat "$RP_TMP/cli.out")" "one echoed
two echoed"
sleep 0.5 # the close
save=$(rp_ctl rules --save) || exit 1
stats=$(rp_counters) || exit 1
est=$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)") || exit 1
forwarded=$(rp_delta "$stats0" "$stats" forwarded) || exit 1
((forwarded >= 4)) || rp_fail "forwarded $forwarded packets for the echo and the close, want at least 4"
rp_expect_eq "ESTABLISHED,RELATED rule packets = forwarded" "${est%%:*}" "$forwarded"
rp_expect_eq "INVALID rule in total" "$(rp_filter_counter "$save" FORWARD 2)" "2:80"
rp_expect_delta "$stats0" "$stats" filter_drop 0

rp_stop
rp_pass
