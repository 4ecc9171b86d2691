#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# INVALID for the box's own traffic (issue 5, item 4): INPUT policy DROP,
#   1 -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
#   2 -A INPUT -m state --state INVALID -j DROP
#   3 -A INPUT -p tcp --dport 9000 -j ACCEPT
# with an echo server on the box (198.18.1.1:9000, in the FW namespace) and
# a connection from the client to it. The client crafts TCP segments to
# 198.18.1.1 that belong to no connection (raw socket; IP and TCP headers
# built here with correct checksums, so only their state can get them
# dropped):
#   - a RST for no connection, to :9001 (netfilter: RST in state NONE is invalid);
#   - a SYN+FIN to :9000 (an invalid flag combination), which rule 3 would
#     let in if rule 2 did not stop it first.
# Each is counted by rule 2 alone (1 packet, 40 bytes) and the FW kernel
# receives neither (its Tcp InSegs stays). The established connection keeps
# working: its next echo is counted by rule 1 (and rule 3 sees only the
# first SYN).
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet (a 40-byte IP+TCP segment = 40);
#   - `rampartctl stats --json` has the drop reason filter_drop.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_invalid_drop
rp_lab_up

rp_write_host_conf DROP ACCEPT \
	'-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT' \
	'-A INPUT -m state --state INVALID -j DROP' \
	'-A INPUT -p tcp --dport 9000 -j ACCEPT'
rp_start
rp_host_wait

# An echo server on the box: one connection, every chunk sent back.
in_fw python3 - "$LAB_FW_LAN_IP" <<'PY' >/dev/null 2>&1 &
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
lab_wait_listen "$LAB_FW" 9000 || rp_fail "echo server on the box did not start"

# The client: a connection that echoes "one", then waits to be told to go on
# and echoes "two" over the same connection.
fifo=$RP_TMP/go.fifo
mkfifo "$fifo"
in_cli python3 - "$LAB_FW_LAN_IP" "$fifo" <<'PY' >"$RP_TMP/cli.out" 2>&1 &
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
grep -qs '^one echoed$' "$RP_TMP/cli.out" || rp_fail "the TCP connection to the box did not work: $(cat "$RP_TMP/cli.out")"
sleep 0.3 # the ACK of the echo

save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "rule 3 (:9000) after the connection: its SYN only" "$(rp_filter_counter "$save" INPUT 3)" "1:60"

# craft FLAGS SPORT DPORT: send one IPv4/TCP segment (20 + 20 bytes) from
# the client to the box with the given flags (letters of FSRPA).
craft() {
	rp_craft_tcp "$LAB_CLI" "$LAB_CLI_IP" "$LAB_FW_LAN_IP" "$1" "$2" "$3"
}

# check_dropped WHAT FLAGS SPORT DPORT: craft one; exactly it is counted by
# the INVALID rule and dropped; the box's kernel receives nothing.
check_dropped() {
	local save0 save stats0 stats insegs0 insegs
	save0=$(rp_ctl rules --save) || exit 1
	stats0=$(rp_counters) || exit 1
	insegs0=$(rp_snmp "$LAB_FW" Tcp InSegs) || exit 1
	craft "$2" "$3" "$4" || rp_fail "could not send the $1"
	sleep 0.5
	save=$(rp_ctl rules --save) || exit 1
	stats=$(rp_counters) || exit 1
	insegs=$(rp_snmp "$LAB_FW" Tcp InSegs) || exit 1
	rp_expect_eq "INVALID rule after the $1 [pkts:bytes]" "$(rp_rule_delta "$save0" "$save" INPUT 2)" "1:40"
	rp_expect_eq "ESTABLISHED,RELATED rule after the $1" "$(rp_rule_delta "$save0" "$save" INPUT 1)" "0:0"
	rp_expect_eq ":9000 rule after the $1" "$(rp_rule_delta "$save0" "$save" INPUT 3)" "0:0"
	rp_expect_eq "INPUT policy after the $1" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "0:0"
	rp_expect_delta "$stats0" "$stats" filter_drop 1
	rp_expect_eq "TCP segments the box's kernel received after the $1" "$((insegs - insegs0))" 0
}

rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" INPUT 2)" "INVALID"
rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" INPUT 2)" "-j DROP"

check_dropped "RST for no connection" R 40100 9001
check_dropped "SYN+FIN" SF 40101 9000

# The established connection still works, and its packets are ESTABLISHED.
save0=$(rp_ctl rules --save) || exit 1
insegs0=$(rp_snmp "$LAB_FW" Tcp InSegs) || exit 1
echo go >"$fifo"
wait "$cli_pid" || rp_fail "the TCP client failed after the crafted segments: $(cat "$RP_TMP/cli.out")"
rp_expect_eq "client output" "$(cat "$RP_TMP/cli.out")" "one echoed
two echoed"
sleep 0.5 # the close
save=$(rp_ctl rules --save) || exit 1
insegs=$(($(rp_snmp "$LAB_FW" Tcp InSegs) - insegs0)) || exit 1
((insegs >= 3)) || rp_fail "the box's kernel received $insegs segments for the echo and the close, want at least 3"
rp_expect_eq "ESTABLISHED,RELATED rule packets = segments the box's kernel received" \
	"$(rp_rule_delta "$save0" "$save" INPUT 1 | cut -d: -f1)" "$insegs"
rp_expect_eq "INVALID rule in total" "$(rp_filter_counter "$save" INPUT 2)" "2:80"
rp_expect_eq ":9000 rule in total" "$(rp_filter_counter "$save" INPUT 3)" "1:60"
rp_expect_eq "INPUT policy in total" "$(rp_filter_counter "$save" INPUT policy)" "0:0"

rp_stop
rp_pass
