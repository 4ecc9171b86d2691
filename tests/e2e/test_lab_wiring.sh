#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The lab itself, without Rampart: dpdk-testpmd forwards frames unchanged
# between rp-lan and rp-wan (io mode), so the appliance is a plain wire.
# Static neighbours make each end send to the other's MAC directly; ping,
# a UDP datagram each way and a 20 MB TCP transfer must then cross it
# intact. If this fails, the e2e tests of Rampart cannot pass whatever the
# daemon does (namespaces, veths, offloads, af_packet, EAL memory).

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init lab_wiring
command -v dpdk-testpmd >/dev/null || rp_fail "dpdk-testpmd not found (scripts/setup.sh installs it)"
rp_lab_up

# Nothing answers ARP on the wire, so each end's gateway is the other end.
ip -n "$LAB_CLI" neigh replace "$LAB_FW_LAN_IP" lladdr "$LAB_SRV_MAC" dev eth0 nud permanent ||
	rp_fail "static neighbour in the client"
ip -n "$LAB_SRV" neigh replace "$LAB_FW_WAN_IP" lladdr "$LAB_CLI_MAC" dev eth0 nud permanent ||
	rp_fail "static neighbour in the server"

# The namespaces must be quiet: IPv6 off, so nothing but our traffic moves
# the counters below.
srv_rx0=$(rp_rx_packets "$LAB_SRV") || exit 1
rp_testpmd_start

out=$(in_cli ping -n -c 5 -i 0.2 -W 2 "$LAB_SRV_IP" 2>&1) || rp_fail "ping across testpmd: $out"
rp_expect_contains "ping across testpmd" "$out" "5 packets transmitted, 5 received, 0% packet loss"
# A wire does not decrement TTL: the server's replies arrive with its 64.
rp_expect_eq "replies with ttl=64" "$(grep -c 'ttl=64' <<<"$out")" 5
srv_rx=$(rp_rx_packets "$LAB_SRV") || exit 1
rp_expect_eq "frames the server received" "$((srv_rx - srv_rx0))" 5

# UDP, one datagram each way: the kernel drops UDP with a bad checksum, so
# an exact echo also proves the checksums survived af_packet.
payload="rampart-lab-wiring-$$-$(head -c 600 /dev/urandom | base64 -w0)"
in_srv python3 - "$LAB_SRV_IP" 7000 >"$RP_TMP/udp-srv.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(20)
data, peer = s.recvfrom(65535)
s.sendto(b"echo:" + data, peer)
sys.stdout.write(data.decode())
PY
udp_srv=$!
for ((i = 0; i < 50; i++)); do
	in_srv ss -Hlun "sport = :7000" | grep -q . && break
	sleep 0.1
done
got=$(in_cli python3 - "$LAB_SRV_IP" 7000 "$payload" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
sys.stdout.write(s.recv(65535).decode())
PY
) || rp_fail "UDP: no echo from the server"
wait "$udp_srv" || rp_fail "UDP server: $(cat "$RP_TMP/udp-srv.out")"
rp_expect_eq "UDP payload at the server" "$(cat "$RP_TMP/udp-srv.out")" "$payload"
rp_expect_eq "UDP payload back at the client" "$got" "echo:$payload"

# 20 MB over TCP, same sha256 at both ends.
mkdir -p "$RP_TMP/www"
head -c 20M /dev/urandom >"$RP_TMP/www/blob"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8080 "$RP_TMP/www" || rp_fail "HTTP server did not start"
in_cli curl -sS --fail --max-time 60 -o "$RP_TMP/got" "http://$LAB_SRV_IP:8080/blob" ||
	rp_fail "TCP transfer across testpmd failed"
rp_expect_eq "sha256 of the 20 MB transferred" \
	"$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)" "$(sha256sum <"$RP_TMP/www/blob" | cut -d' ' -f1)"

rp_testpmd_stop
grep -q 'RX-dropped: 0 ' "$RP_OUT" || rp_fail "testpmd dropped frames"

# And everything goes away.
lab_down "$RP_LAB"
left=$(ip netns list | grep -c -- "^rp-$RP_LAB-")
rp_expect_eq "namespaces left after lab_down" "$left" 0
rp_pass
