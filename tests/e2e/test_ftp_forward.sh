#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The FTP helper through FORWARD (issue 6, item 5): an FTP server
# (pyftpdlib, anonymous read/write, in the server namespace on
# 198.19.1.2:21, passive ports 50000-50009) and curl in the client, behind
#   :FORWARD DROP
#   1 -A FORWARD -m state --state RELATED                           (counts only)
#   2 -A FORWARD -m state --state ESTABLISHED -m helper --helper ftp (counts only)
#   3 -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
#   4 -A FORWARD -i lan0 -p tcp --dport 21 -m state --state NEW -j ACCEPT
# with `conntrack = { helpers = [ "ftp" ]; };`:
#   - passive downloads (EPSV: the 229 reply; PASV: the 227 reply), active
#     downloads (EPRT; PORT) and a passive upload each move a 300 KB file
#     with the same sha256 at both ends. In each, exactly one data
#     connection is opened: rule 1 counts its first packet (the SYN, 60
#     bytes); rule 2 counts every other packet of it (its conntrack packet
#     counters minus that first one: -m helper matches the connections an
#     FTP control connection expected, not the control connection itself);
#     the policy drops nothing; ftp_announce and expect_matched grow by 1;
#     the listing shows helper=ftp on the control connection and master=
#     on the data connection;
#   - an announcement nobody uses yet is listed by `rampartctl conntrack
#     --expect` (the 227 reply's port), and the data connection to it works;
#   - a PORT naming a third address (198.18.1.77, present in the client
#     namespace with a listener on the announced port; the server is told
#     to accept foreign addresses) opens nothing: ftp_bounce grows by 1, no
#     expectation is listed, the server's SYNs to that address are not
#     RELATED (rule 1 counts nothing) and are dropped by the policy, and the
#     listener accepts nothing;
#   - restarted without the helpers line, a passive download fails (curl
#     exit 28 after --max-time 5): the client's SYNs to the data port are
#     dropped by the policy, rule 1 counts nothing.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet (Linux's SYN: 60 bytes);
#   - `rampartctl conntrack` lines carry "helper=ftp" (control connection)
#     and "master=" (expected connection); `--json` entries have "packets"
#     [original, reply] and "master" (0 = none);
#   - `rampartctl conntrack --expect` prints one line per expectation with
#     its tuple as "src=A dst=B sport=S dport=D";
#   - /rampart/conntrack has the counters ftp_announce, ftp_bounce,
#     expect_matched.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init ftp_forward

FTP_PY=/usr/bin/python3 # Debian's python3-pyftpdlib lives there
"$FTP_PY" -c 'import pyftpdlib' 2>/dev/null ||
	rp_fail "python3-pyftpdlib is not installed for $FTP_PY (scripts/setup.sh installs it)"
rp_lab_up

related='-A FORWARD -m state --state RELATED'
helper='-A FORWARD -m state --state ESTABLISHED -m helper --helper ftp'
estab='-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT'
new21='-A FORWARD -i lan0 -p tcp --dport 21 -m state --state NEW -j ACCEPT'
write_conf() { # [helpers]: with the FTP helper
	rp_write_filter_conf DROP "$related" "$helper" "$estab" "$new21"
	[[ ${1:-} != helpers ]] || echo 'conntrack = { helpers = [ "ftp" ]; };' >>"$RP_CONF"
}
write_conf helpers
rp_start
rp_warm_up_local

# ---- the server: anonymous, read/write, in $RP_TMP/ftp
mkdir -p "$RP_TMP/ftp/pub" "$RP_TMP/ftp/incoming"
chmod 0777 "$RP_TMP/ftp/incoming"
head -c 300K /dev/urandom >"$RP_TMP/ftp/pub/blob"
head -c 300K /dev/urandom >"$RP_TMP/upload"
blob_sum=$(sha256sum <"$RP_TMP/ftp/pub/blob" | cut -d' ' -f1)
upload_sum=$(sha256sum <"$RP_TMP/upload" | cut -d' ' -f1)

ip netns exec "$LAB_SRV" "$FTP_PY" - "$LAB_SRV_IP" "$RP_TMP/ftp" >"$RP_TMP/ftpd.log" 2>&1 <<'PY' &
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

ip, root = sys.argv[1], sys.argv[2]
auth = DummyAuthorizer()
auth.add_anonymous(root, perm="elradfmw")
FTPHandler.authorizer = auth
FTPHandler.passive_ports = range(50000, 50010)
# so that a bounce PORT is tried by the server and stopped by Rampart
FTPHandler.permit_foreign_addresses = True
FTPServer((ip, 21), FTPHandler).serve_forever()
PY
lab_wait_listen "$LAB_SRV" 21 || rp_fail "the FTP server did not start: $(cat "$RP_TMP/ftpd.log")"

# ---- helpers

# ct_counter NAME: a counter of /rampart/conntrack.
ct_counter() {
	local tel
	tel=$(rp_telemetry /rampart/conntrack) || exit 1
	python3 -c 'import json,sys; print(json.load(sys.stdin)["/rampart/conntrack"][sys.argv[1]])' \
		"$1" <<<"$tel" || rp_fail "no counter $1 in /rampart/conntrack: $tel"
}

# snap: rule counters and the conntrack counters this test reads.
snap() {
	SAVE=$(rp_ctl rules --save) || exit 1
	ANNOUNCE=$(ct_counter ftp_announce) || exit 1
	BOUNCE=$(ct_counter ftp_bounce) || exit 1
	MATCHED=$(ct_counter expect_matched) || exit 1
}

# data_packets: packets (both directions) of the one expected connection
# in the table; fails unless there is exactly one.
data_packets() {
	local json
	json=$(rp_ctl conntrack --json -p tcp) || exit 1
	python3 -c '
import json, sys
data = [c for c in json.load(sys.stdin)["connections"] if c["master"] != 0]
if len(data) != 1:
    sys.exit(f"{len(data)} expected connections in the table, want 1")
print(sum(data[0]["packets"]))' <<<"$json" || rp_fail "conntrack --json: $json"
}

# transfer NAME SUM CURL-ARGS...: one curl transfer with exactly one data
# connection, checked as the header says; SUM is the sha256 the file that
# arrived must have ($RP_TMP/got for downloads, the server's copy for the
# upload).
transfer() {
	local name=$1 want=$2 got listing line
	shift 2
	rp_ctl conntrack -F >/dev/null || exit 1
	rm -f "$RP_TMP/got"
	snap
	local save0=$SAVE announce0=$ANNOUNCE matched0=$MATCHED
	in_cli curl -sS --fail --max-time 10 "$@" 2>"$RP_TMP/curl.err" ||
		rp_fail "$name: curl failed: $(cat "$RP_TMP/curl.err")"
	if [[ -f $RP_TMP/got ]]; then
		got=$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)
	else
		got=$(sha256sum <"$RP_TMP/ftp/incoming/up-$name" | cut -d' ' -f1)
	fi
	rp_expect_eq "$name: sha256 of the file that arrived" "$got" "$want"
	sleep 0.5 # the last ACKs of the closes
	snap
	rp_expect_eq "$name: RELATED (rule 1) [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 1)" "1:60"
	local packets
	packets=$(data_packets) || exit 1
	rp_expect_eq "$name: ESTABLISHED -m helper --helper ftp (rule 2) packets = the data connection's but its first" \
		"$(rp_rule_delta "$save0" "$SAVE" FORWARD 2 | cut -d: -f1)" "$((packets - 1))"
	rp_expect_eq "$name: NEW tcp/21 (rule 4) [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 4)" "1:60"
	rp_expect_eq "$name: FORWARD policy [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" FORWARD policy)" "0:0"
	rp_expect_eq "$name: ftp_announce grew by" "$((ANNOUNCE - announce0))" 1
	rp_expect_eq "$name: expect_matched grew by" "$((MATCHED - matched0))" 1
	listing=$(rp_ctl conntrack -p tcp) || exit 1
	[[ $(grep -c '^tcp ' <<<"$listing") == 2 ]] || rp_fail "$name: want 2 connections listed:
$listing"
	line=$(grep '^tcp ' <<<"$listing" | grep -- "dport=21 ")
	rp_expect_contains "$name: the control connection as listed" "$line" "helper=ftp"
	line=$(grep '^tcp ' <<<"$listing" | grep -v -- "dport=21 ")
	rp_expect_contains "$name: the data connection as listed" "$line" "master="
}

url=ftp://$LAB_SRV_IP
transfer passive-epsv "$blob_sum" -o "$RP_TMP/got" "$url/pub/blob"
transfer passive-pasv "$blob_sum" --disable-epsv -o "$RP_TMP/got" "$url/pub/blob"
transfer active-eprt "$blob_sum" --ftp-port - -o "$RP_TMP/got" "$url/pub/blob"
transfer active-port "$blob_sum" --ftp-port - --disable-eprt -o "$RP_TMP/got" "$url/pub/blob"
transfer upload "$upload_sum" -T "$RP_TMP/upload" "$url/incoming/up-upload"

# ---- a control connection that speaks for itself: PASV (listed, then used)
# and a bounce PORT. It runs in the client namespace and calls rampartctl
# (the control socket is a file: any namespace reaches it).
cat >"$RP_TMP/ftpc.py" <<'PY'
import hashlib, socket, subprocess, sys, time

srv, ctl, sock, mode = sys.argv[1:5]
c = socket.create_connection((srv, 21), timeout=5)
f = c.makefile("rb")

def reply():
    line = f.readline().decode()
    code = line[:3]
    while line[3:4] == "-":  # a multi-line reply ends with "CODE "
        line = f.readline().decode()
        if line.startswith(code + " "):
            break
    return line.strip()

def cmd(text):
    c.sendall(text.encode() + b"\r\n")
    return reply()

def expectations():
    return subprocess.run([ctl, "-S", sock, "conntrack", "--expect"], capture_output=True,
                          text=True).stdout

reply()
cmd("USER anonymous")
cmd("PASS test@")
cmd("TYPE I")
if mode == "pasv":
    r = cmd("PASV")
    nums = r[r.index("(") + 1:r.index(")")].split(",")
    port = int(nums[4]) * 256 + int(nums[5])
    print(f"port {port}")
    print(expectations(), end="")
    d = socket.create_connection((srv, port), timeout=5)
    c.sendall(b"RETR pub/blob\r\n")
    reply()  # 150
    data = b""
    while chunk := d.recv(65536):
        data += chunk
    d.close()
    reply()  # 226
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")
else:
    port = int(sys.argv[5])
    c.sendall(f"PORT 198,18,1,77,{port >> 8},{port & 255}\r\n".encode())
    time.sleep(3)  # the server tries to connect (SYN, then a retransmission)
    print(expectations(), end="")
c.sendall(b"QUIT\r\n")
c.close()
PY
ftpc() { in_cli python3 "$RP_TMP/ftpc.py" "$LAB_SRV_IP" "$RP_RAMPARTCTL" "$RP_SOCK" "$@"; }

# ---- an expectation is listed until its connection comes
rp_ctl conntrack -F >/dev/null || exit 1
snap
save0=$SAVE
out=$(ftpc pasv) || rp_fail "the PASV client failed: $out"
port=$(sed -n 's/^port //p' <<<"$out")
[[ $port =~ ^500[0-9][0-9]$ ]] || rp_fail "PASV: no passive port in: $out"
exp_line=$(grep -- "dport=$port" <<<"$out")
rp_expect_contains "conntrack --expect after PASV" "$exp_line" "src=$LAB_CLI_IP dst=$LAB_SRV_IP"
rp_expect_eq "expectations listed after PASV" "$(grep -c "dport=" <<<"$out")" 1
rp_expect_contains "the PASV client's download" "$out" "sha256 $blob_sum"
sleep 0.5
snap
rp_expect_eq "PASV by hand: RELATED (rule 1)" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 1)" "1:60"
rp_expect_eq "PASV by hand: FORWARD policy" "$(rp_rule_delta "$save0" "$SAVE" FORWARD policy)" "0:0"
out=$(rp_ctl conntrack --expect) || exit 1
[[ $out != *"dport="* ]] || rp_fail "expectations left after the transfer: $out"

# ---- FTP bounce: PORT to a third address opens nothing
bounce_port=40777
in_cli ip addr add 198.18.1.77/24 dev eth0 || rp_fail "cannot add 198.18.1.77 in $LAB_CLI"
in_cli python3 - "$RP_TMP/bounce-accepted" "$bounce_port" <<'PY' >/dev/null 2>&1 &
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.1.77", int(sys.argv[2])))
l.listen(8)
while True:
    c, peer = l.accept()
    with open(sys.argv[1], "a") as f:
        f.write(f"{peer[0]}:{peer[1]}\n")
    c.close()
PY
lab_wait_listen "$LAB_CLI" "$bounce_port" || rp_fail "the listener on 198.18.1.77:$bounce_port did not start"
rp_ctl conntrack -F >/dev/null || exit 1
snap
save0=$SAVE bounce0=$BOUNCE
out=$(ftpc port "$bounce_port") || rp_fail "the bounce client failed: $out"
[[ $out != *"dport="* ]] || rp_fail "an expectation was listed after a bounce PORT: $out"
sleep 0.5
snap
rp_expect_eq "ftp_bounce grew by" "$((BOUNCE - bounce0))" 1
rp_expect_eq "bounce: RELATED (rule 1)" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 1)" "0:0"
pol=$(rp_rule_delta "$save0" "$SAVE" FORWARD policy) || exit 1
((${pol%%:*} >= 1)) || rp_fail "bounce: the FORWARD policy dropped nothing (the server's SYN to 198.18.1.77): $pol"
rp_expect_eq "bounce: policy bytes = 60 per SYN" "${pol##*:}" "$((60 * ${pol%%:*}))"
[[ ! -s $RP_TMP/bounce-accepted ]] || rp_fail "198.18.1.77 accepted: $(cat "$RP_TMP/bounce-accepted")"
out=$(rp_ctl conntrack -p tcp -s "$LAB_SRV_IP" -d 198.18.1.77) || exit 1
[[ $out != *"tcp "* ]] || rp_fail "a connection to 198.18.1.77 was tracked: $out"

# ---- without the helper the data connection is blocked
rp_stop
write_conf
rp_start
rp_warm_up_local
snap
save0=$SAVE announce0=$ANNOUNCE
in_cli curl -sS --max-time 5 -o /dev/null "$url/pub/blob" 2>"$RP_TMP/curl.err"
rc=$?
rp_expect_eq "without the helper: curl exit status (stderr: $(cat "$RP_TMP/curl.err"))" "$rc" 28
sleep 0.3
snap
rp_expect_eq "without the helper: RELATED (rule 1)" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 1)" "0:0"
rp_expect_eq "without the helper: NEW tcp/21 (rule 4)" "$(rp_rule_delta "$save0" "$SAVE" FORWARD 4)" "1:60"
pol=$(rp_rule_delta "$save0" "$SAVE" FORWARD policy) || exit 1
((${pol%%:*} >= 1)) || rp_fail "without the helper: the policy dropped no SYN to the data port: $pol"
rp_expect_eq "without the helper: policy bytes = 60 per SYN" "${pol##*:}" "$((60 * ${pol%%:*}))"
rp_expect_eq "without the helper: ftp_announce grew by" "$((ANNOUNCE - announce0))" 0
out=$(rp_ctl conntrack -p tcp) || exit 1
[[ $out != *"helper=ftp"* ]] || rp_fail "a helper on a connection with helpers off: $out"

rp_stop
rp_pass
