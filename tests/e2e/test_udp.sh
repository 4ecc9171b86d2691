#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# UDP across the appliance, one datagram each way, payloads compared byte
# for byte. The receiving kernels drop UDP with a wrong checksum, so an
# exact echo also proves the checksums survived the trip.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init udp
rp_lab_up
rp_start
rp_warm_up

port=7000
payload="rampart-udp-$$-$(head -c 900 /dev/urandom | base64 -w0)"

# The server takes one datagram, records it and sends it back prefixed.
in_srv python3 - "$LAB_SRV_IP" "$port" >"$RP_TMP/udp-srv.out" 2>"$RP_TMP/udp-srv.err" <<'PY' &
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
	in_srv ss -Hlun "sport = :$port" | grep -q . && break
	sleep 0.1
done

before=$(rp_counters) || exit 1
got=$(in_cli python3 - "$LAB_SRV_IP" "$port" "$payload" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
data, peer = s.recvfrom(65535)
sys.stdout.write(f"{peer[0]}:{peer[1]} " + data.decode())
PY
) || rp_fail "no UDP answer from the server within 5 s"
wait "$udp_srv" || rp_fail "UDP server: $(cat "$RP_TMP/udp-srv.err")"
after=$(rp_counters) || exit 1

rp_expect_eq "payload at the server" "$(cat "$RP_TMP/udp-srv.out")" "$payload"
rp_expect_eq "answer at the client" "$got" "$LAB_SRV_IP:$port echo:$payload"
rp_expect_delta "$before" "$after" forwarded 2
rp_expect_delta "$before" "$after" drops_total 0

rp_stop
rp_pass
