#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The FTP helper through INPUT (issue 6, item 5): an FTP server on the
# appliance's host side (pyftpdlib in the FW namespace, bound to 198.18.1.1,
# passive ports 50000-50009, reached through `host = { interface =
# "rampart0"; }`), behind
#   :INPUT DROP, :OUTPUT ACCEPT
#   1 -A INPUT -m state --state RELATED                            (counts only)
#   2 -A INPUT -m state --state ESTABLISHED -m helper --helper ftp  (counts only)
#   3 -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
#   4 -A INPUT -p tcp --dport 21 -m state --state NEW -j ACCEPT
# with `conntrack = { helpers = [ "ftp" ]; };`. The announcements are the
# host kernel's replies (229, 227), which leave through OUTPUT. The client's
# passive downloads (EPSV, then PASV) each get the file with its sha256 and
# open exactly one data connection: rule 1 counts its SYN (1:60), rule 2
# every other packet it sent in (its original-direction conntrack count
# minus one), the INPUT policy drops nothing; ftp_announce and
# expect_matched grow by 1; the listing shows helper=ftp on the control
# connection and master= on the data connection. Restarted without the
# helper, the same download fails (curl exit 28 after --max-time 5) and the
# INPUT policy drops the client's SYNs to the data port.
#
# Assumptions about the implementation's output: as test_ftp_forward.sh.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init ftp_input

FTP_PY=/usr/bin/python3 # Debian's python3-pyftpdlib lives there
"$FTP_PY" -c 'import pyftpdlib' 2>/dev/null ||
	rp_fail "python3-pyftpdlib is not installed for $FTP_PY (scripts/setup.sh installs it)"
rp_lab_up

related='-A INPUT -m state --state RELATED'
helper='-A INPUT -m state --state ESTABLISHED -m helper --helper ftp'
estab='-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'
new21='-A INPUT -p tcp --dport 21 -m state --state NEW -j ACCEPT'
RP_CONF_EXTRA='conntrack = { helpers = [ "ftp" ]; };'
rp_write_host_conf DROP ACCEPT "$related" "$helper" "$estab" "$new21"
rp_start
rp_host_wait

mkdir -p "$RP_TMP/ftp/pub"
head -c 300K /dev/urandom >"$RP_TMP/ftp/pub/blob"
blob_sum=$(sha256sum <"$RP_TMP/ftp/pub/blob" | cut -d' ' -f1)
ip netns exec "$LAB_FW" "$FTP_PY" - "$LAB_FW_LAN_IP" "$RP_TMP/ftp" >"$RP_TMP/ftpd.log" 2>&1 <<'PY' &
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

ip, root = sys.argv[1], sys.argv[2]
auth = DummyAuthorizer()
auth.add_anonymous(root)
FTPHandler.authorizer = auth
FTPHandler.passive_ports = range(50000, 50010)
FTPServer((ip, 21), FTPHandler).serve_forever()
PY
lab_wait_listen "$LAB_FW" 21 || rp_fail "the FTP server did not start: $(cat "$RP_TMP/ftpd.log")"

# ct_counter NAME: a counter of /rampart/conntrack.
ct_counter() {
	local tel
	tel=$(rp_telemetry /rampart/conntrack) || exit 1
	python3 -c 'import json,sys; print(json.load(sys.stdin)["/rampart/conntrack"][sys.argv[1]])' \
		"$1" <<<"$tel" || rp_fail "no counter $1 in /rampart/conntrack: $tel"
}

snap() {
	SAVE=$(rp_ctl rules --save) || exit 1
	ANNOUNCE=$(ct_counter ftp_announce) || exit 1
	MATCHED=$(ct_counter expect_matched) || exit 1
}

# data_packets_in: packets the one expected connection in the table carried
# in its original direction (client to appliance).
data_packets_in() {
	local json
	json=$(rp_ctl conntrack --json -p tcp) || exit 1
	python3 -c '
import json, sys
data = [c for c in json.load(sys.stdin)["connections"] if c["master"] != 0]
if len(data) != 1:
    sys.exit(f"{len(data)} expected connections in the table, want 1")
print(data[0]["packets"][0])' <<<"$json" || rp_fail "conntrack --json: $json"
}

url=ftp://$LAB_FW_LAN_IP/pub/blob
download() { # NAME CURL-ARGS...
	local name=$1 got listing line packets
	shift
	rp_ctl conntrack -F >/dev/null || exit 1
	rm -f "$RP_TMP/got"
	snap
	local save0=$SAVE announce0=$ANNOUNCE matched0=$MATCHED
	in_cli curl -sS --fail --max-time 10 "$@" -o "$RP_TMP/got" "$url" 2>"$RP_TMP/curl.err" ||
		rp_fail "$name: curl failed: $(cat "$RP_TMP/curl.err")"
	got=$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)
	rp_expect_eq "$name: sha256 of the download" "$got" "$blob_sum"
	sleep 0.5 # the last ACKs of the closes
	snap
	rp_expect_eq "$name: RELATED (rule 1) [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" INPUT 1)" "1:60"
	packets=$(data_packets_in) || exit 1
	rp_expect_eq "$name: ESTABLISHED -m helper --helper ftp (rule 2) packets = the data connection's inbound but its first" \
		"$(rp_rule_delta "$save0" "$SAVE" INPUT 2 | cut -d: -f1)" "$((packets - 1))"
	rp_expect_eq "$name: NEW tcp/21 (rule 4) [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" INPUT 4)" "1:60"
	rp_expect_eq "$name: INPUT policy [pkts:bytes]" "$(rp_rule_delta "$save0" "$SAVE" INPUT policy)" "0:0"
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

download passive-epsv
download passive-pasv --disable-epsv

# ---- without the helper the data connection is blocked
rp_stop
RP_CONF_EXTRA=
rp_write_host_conf DROP ACCEPT "$related" "$helper" "$estab" "$new21"
rp_start
rp_host_wait
snap
save0=$SAVE announce0=$ANNOUNCE
in_cli curl -sS --max-time 5 -o /dev/null "$url" 2>"$RP_TMP/curl.err"
rc=$?
rp_expect_eq "without the helper: curl exit status (stderr: $(cat "$RP_TMP/curl.err"))" "$rc" 28
sleep 0.3
snap
rp_expect_eq "without the helper: RELATED (rule 1)" "$(rp_rule_delta "$save0" "$SAVE" INPUT 1)" "0:0"
rp_expect_eq "without the helper: NEW tcp/21 (rule 4)" "$(rp_rule_delta "$save0" "$SAVE" INPUT 4)" "1:60"
pol=$(rp_rule_delta "$save0" "$SAVE" INPUT policy) || exit 1
((${pol%%:*} >= 1)) || rp_fail "without the helper: the INPUT policy dropped no SYN to the data port: $pol"
rp_expect_eq "without the helper: policy bytes = 60 per SYN" "${pol##*:}" "$((60 * ${pol%%:*}))"
rp_expect_eq "without the helper: ftp_announce grew by" "$((ANNOUNCE - announce0))" 0

rp_stop
rp_pass
