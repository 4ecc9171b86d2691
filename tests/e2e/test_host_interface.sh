#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The host interface: with `host = { interface = "rampart0"; }` the daemon
# gives the appliance its own stack back, in the FW namespace it runs in:
#   - rampart0 exists there, up, with the ports' addresses (198.18.1.1/24,
#     198.19.1.1/24); the veths Rampart drives (rp-lan, rp-wan) carry none;
#   - every IPv4 route of the namespace goes through rampart0: the connected
#     subnets, and the configured route 203.0.113.0/24 via 198.19.1.2;
#   - the kernel answers: a ping from the client to 198.18.1.1 is answered
#     by the FW kernel (its Icmp InEchos/OutEchoReps move), not by Rampart's
#     built-in responder (icmp_echo_replied stays); a web server bound to
#     0.0.0.0 in FW serves the client (via 198.18.1.1) and the server (via
#     198.19.1.1); the FW kernel pings both;
#   - INPUT sees what comes in, OUTPUT what the kernel sends, and OUTPUT's -o
#     names the egress port: `-o wan0` counts the reply to the server only,
#     `-o lan0` the one to the client only;
#   - the TAP's own MAC never reaches a wire: every frame the client and the
#     server receive comes from the port's MAC, and their neighbour entries
#     for the appliance hold it;
#   - after SIGTERM (exit 0) rampart0 is gone.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet (a default ping is 84 bytes);
#   - `rampartctl stats --json` has the event icmp_echo_replied.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_interface
rp_lab_up

RP_CONF_EXTRA='routes = ( { to = "203.0.113.0/24"; via = "198.19.1.2"; } );'
rp_write_host_conf ACCEPT ACCEPT \
	'-A OUTPUT -o wan0 -p icmp -j ACCEPT' \
	'-A OUTPUT -o lan0 -p icmp -j ACCEPT'
rp_start
rp_host_wait

# ---- the interface, its addresses and routes
addrs=$(ip -n "$LAB_FW" -4 -o addr show | awk '{ print $2, $4 }' | sort)
rp_expect_eq "IPv4 addresses in $LAB_FW" "$addrs" "lo 127.0.0.1/8
$RP_HOST_IF $LAB_FW_LAN_IP/24
$RP_HOST_IF $LAB_FW_WAN_IP/24"
other=$(ip -n "$LAB_FW" -4 route show | grep -v " dev $RP_HOST_IF" || true)
rp_expect_eq "routes in $LAB_FW not through $RP_HOST_IF" "$other" ""
for want in "198.18.1.0/24 dev $RP_HOST_IF" "198.19.1.0/24 dev $RP_HOST_IF" \
	"203.0.113.0/24 via $LAB_SRV_IP dev $RP_HOST_IF"; do
	rp_expect_contains "routes in $LAB_FW" "$(ip -n "$LAB_FW" -4 route show)" "$want"
done
rp_expect_contains "route to the client" "$(ip -n "$LAB_FW" route get "$LAB_CLI_IP")" \
	"dev $RP_HOST_IF src $LAB_FW_LAN_IP"
rp_expect_contains "route to the server" "$(ip -n "$LAB_FW" route get "$LAB_SRV_IP")" \
	"dev $RP_HOST_IF src $LAB_FW_WAN_IP"
rp_expect_contains "route to 203.0.113.5" "$(ip -n "$LAB_FW" route get 203.0.113.5)" \
	"via $LAB_SRV_IP dev $RP_HOST_IF src $LAB_FW_WAN_IP"

# ---- the wires: a capture of every frame the client and the server receive
# until told to stop (a file appears), as "source-MAC ethertype" lines
capture() {
	ip netns exec "$1" python3 - "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("eth0", 0))
s.settimeout(0.2)
seen = set()
while not os.path.exists(sys.argv[1] + ".stop"):
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    seen.add("%s %04x" % (frame[6:12].hex(":"), int.from_bytes(frame[12:14], "big")))
with open(sys.argv[1], "w") as f:
    f.write("".join(line + "\n" for line in sorted(seen)))
PY
}
capture "$LAB_CLI" "$RP_TMP/cli.macs"
cap_cli=$!
capture "$LAB_SRV" "$RP_TMP/srv.macs"
cap_srv=$!
sleep 0.5

# ---- the client's ping is the kernel's to answer, through INPUT and OUTPUT
save0=$(rp_ctl rules --save) || exit 1
stats0=$(rp_counters) || exit 1
in_echos0=$(rp_snmp "$LAB_FW" Icmp InEchos) || exit 1
out_reps0=$(rp_snmp "$LAB_FW" Icmp OutEchoReps) || exit 1
out=$(in_cli ping -n -c 1 -W 5 "$LAB_FW_LAN_IP" 2>&1) || rp_fail "ping from the client to $LAB_FW_LAN_IP: $out"
sleep 0.3
save=$(rp_ctl rules --save) || exit 1
stats=$(rp_counters) || exit 1
rp_expect_eq "echo requests the FW kernel received" "$(($(rp_snmp "$LAB_FW" Icmp InEchos) - in_echos0))" 1
rp_expect_eq "echo replies the FW kernel sent" "$(($(rp_snmp "$LAB_FW" Icmp OutEchoReps) - out_reps0))" 1
rp_expect_delta "$stats0" "$stats" icmp_echo_replied 0
rp_expect_eq "INPUT policy (ACCEPT) [pkts:bytes]" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "1:84"
rp_expect_eq "OUTPUT -o wan0 for the reply to the client" "$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "0:0"
rp_expect_eq "OUTPUT -o lan0 for the reply to the client" "$(rp_rule_delta "$save0" "$save" OUTPUT 2)" "1:84"
rp_expect_eq "OUTPUT policy" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "0:0"

# ---- the server's ping to 198.19.1.1 leaves by wan0
save0=$save
out=$(in_srv ping -n -c 1 -W 5 "$LAB_FW_WAN_IP" 2>&1) || rp_fail "ping from the server to $LAB_FW_WAN_IP: $out"
sleep 0.3
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "INPUT policy for the server's ping" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "1:84"
rp_expect_eq "OUTPUT -o wan0 for the reply to the server" "$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "1:84"
rp_expect_eq "OUTPUT -o lan0 for the reply to the server" "$(rp_rule_delta "$save0" "$save" OUTPUT 2)" "0:0"

# ---- the FW kernel pings out: its requests go through OUTPUT, by the right port
save0=$save
out=$(in_fw ping -n -c 1 -W 5 "$LAB_SRV_IP" 2>&1) || rp_fail "ping from $LAB_FW to the server: $out"
out=$(in_fw ping -n -c 1 -W 5 "$LAB_CLI_IP" 2>&1) || rp_fail "ping from $LAB_FW to the client: $out"
sleep 0.3
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "OUTPUT -o wan0 for the ping to the server" "$(rp_rule_delta "$save0" "$save" OUTPUT 1)" "1:84"
rp_expect_eq "OUTPUT -o lan0 for the ping to the client" "$(rp_rule_delta "$save0" "$save" OUTPUT 2)" "1:84"
rp_expect_eq "INPUT policy for the two echo replies" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "2:168"

# ---- a daemon of the box, bound to every address, serves both sides
mkdir -p "$RP_TMP/www"
echo "served by the appliance's kernel" >"$RP_TMP/www/hello"
lab_http_serve "$LAB_FW" 0.0.0.0 8000 "$RP_TMP/www" || rp_fail "HTTP server in $LAB_FW did not start"
out=$(in_cli curl -sS --max-time 5 "http://$LAB_FW_LAN_IP:8000/hello" 2>&1) ||
	rp_fail "the client's curl to $LAB_FW_LAN_IP:8000: $out"
rp_expect_eq "what the client got" "$out" "served by the appliance's kernel"
out=$(in_srv curl -sS --max-time 5 "http://$LAB_FW_WAN_IP:8000/hello" 2>&1) ||
	rp_fail "the server's curl to $LAB_FW_WAN_IP:8000: $out"
rp_expect_eq "what the server got" "$out" "served by the appliance's kernel"

# ---- no TAP MAC on the wires
touch "$RP_TMP/cli.macs.stop" "$RP_TMP/srv.macs.stop"
wait "$cap_cli" || rp_fail "the capture in the client failed"
wait "$cap_srv" || rp_fail "the capture in the server failed"
rp_expect_eq "frames the client received (source MAC, EtherType)" "$(cat "$RP_TMP/cli.macs")" \
	"$LAB_FW_LAN_MAC 0800
$LAB_FW_LAN_MAC 0806"
rp_expect_eq "frames the server received (source MAC, EtherType)" "$(cat "$RP_TMP/srv.macs")" \
	"$LAB_FW_WAN_MAC 0800
$LAB_FW_WAN_MAC 0806"
rp_expect_eq "the client's neighbour entry for $LAB_FW_LAN_IP" \
	"$(ip -n "$LAB_CLI" -j neigh show "$LAB_FW_LAN_IP" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["lladdr"])')" \
	"$LAB_FW_LAN_MAC"
rp_expect_eq "the server's neighbour entry for $LAB_FW_WAN_IP" \
	"$(ip -n "$LAB_SRV" -j neigh show "$LAB_FW_WAN_IP" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["lladdr"])')" \
	"$LAB_FW_WAN_MAC"

# ---- the veths stay address-less; the interface goes with the daemon
rp_expect_eq "addresses on $LAB_LAN_IF and $LAB_WAN_IF" \
	"$(ip -n "$LAB_FW" -4 -o addr show dev "$LAB_LAN_IF"; ip -n "$LAB_FW" -4 -o addr show dev "$LAB_WAN_IF")" ""
rp_stop
if ip -n "$LAB_FW" link show "$RP_HOST_IF" >/dev/null 2>&1; then
	rp_fail "$RP_HOST_IF still exists in $LAB_FW after the daemon stopped"
fi
rp_pass
