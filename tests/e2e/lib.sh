# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the end-to-end tests. Each test script sources this file,
# calls rp_test_init, builds its own lab (scripts/lab.sh) and asserts exact
# outcomes; whatever happens, the EXIT trap kills its daemon and removes its
# namespaces.
#
# Environment (set by tests/e2e/meson.build; defaults suit a run by hand
# from the source tree: sudo bash tests/e2e/test_ping.sh):
#   RP_SOURCE_ROOT  the source tree
#   RP_RAMPART      the daemon          (default build/app/rampart/rampart)
#   RP_RAMPARTCTL   the control command (default build/app/rampartctl/rampartctl)
#   RP_TELEMETRY    dpdk-telemetry.py
#   RP_KEEP_TMP=1   keep the test's temporary directory (configs, logs)

set -uo pipefail

RP_SOURCE_ROOT=${RP_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=SCRIPTDIR/../../scripts/lab.sh
source "$RP_SOURCE_ROOT/scripts/lab.sh"

RP_RAMPART=${RP_RAMPART:-$LAB_BUILD/app/rampart/rampart}
RP_RAMPARTCTL=${RP_RAMPARTCTL:-$LAB_BUILD/app/rampartctl/rampartctl}
RP_TELEMETRY=${RP_TELEMETRY:-$(command -v dpdk-telemetry.py || echo /usr/bin/dpdk-telemetry.py)}

RP_TEST=
RP_TMP=
RP_LAB=
RP_SOCK=
RP_CONF=
RP_OUT=
RP_ERR=
RP_TESTPMD_PID=
RP_LAB_MADE=0

# ---- reporting -------------------------------------------------------------
# A helper that fails inside $(...) only ends that subshell (after printing
# why), so every capture of a helper's output is followed by "|| exit 1".

rp_info() { printf '%s: %s\n' "$RP_TEST" "$*"; }

# rp_fail MESSAGE: the test failed; say why, show the daemon's output, exit 1
# (the EXIT trap then cleans up).
rp_fail() {
	printf 'FAIL: %s: %s\n' "$RP_TEST" "$*" >&2
	local f
	for f in "$RP_OUT" "$RP_ERR"; do
		[[ -n $f && -s $f ]] || continue
		printf -- '--- last lines of %s\n' "$(basename "$f")" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

rp_skip() {
	printf 'SKIP: %s: %s\n' "$RP_TEST" "$*"
	exit 77
}

rp_pass() {
	printf 'PASS: %s\n' "$RP_TEST"
	exit 0
}

# rp_expect_eq WHAT GOT WANT
rp_expect_eq() {
	[[ $2 == "$3" ]] || rp_fail "$1: got '$2', want '$3'"
}

# rp_expect_contains WHAT TEXT NEEDLE
rp_expect_contains() {
	[[ $2 == *"$3"* ]] || rp_fail "$1: '$3' not found in:
$2"
}

# ---- set-up and clean-up ---------------------------------------------------

# rp_test_init NAME [noroot]: name the test, make its temporary directory and
# arm the clean-up. Without "noroot" the test needs root (namespaces,
# af_packet) and is skipped (exit 77) without it.
rp_test_init() {
	RP_TEST=$1
	if [[ ${2:-} != noroot && $(id -u) -ne 0 ]]; then
		rp_skip "needs root (network namespaces, af_packet)"
	fi
	# $$ makes the names unique per run; the test's name says whose they are.
	RP_LAB=$1-$$
	RP_TMP=$(mktemp -d "/tmp/rampart-e2e-$1.XXXXXX") || exit 1
	RP_SOCK=$RP_TMP/ctl.sock
	RP_CONF=$RP_TMP/rampart.conf
	RP_OUT=$RP_TMP/rampart.out
	RP_ERR=$RP_TMP/rampart.err
	trap rp_cleanup EXIT
	trap 'exit 130' INT TERM
}

rp_cleanup() {
	local status=$?
	trap - EXIT
	if [[ -n ${LAB_PID:-} ]]; then
		kill -KILL "$LAB_PID" 2>/dev/null
		wait "$LAB_PID" 2>/dev/null
		LAB_PID=
	fi
	if [[ -n $RP_TESTPMD_PID ]]; then
		kill -KILL "$RP_TESTPMD_PID" 2>/dev/null
		wait "$RP_TESTPMD_PID" 2>/dev/null
	fi
	((RP_LAB_MADE)) && lab_down "$RP_LAB"
	if [[ ${RP_KEEP_TMP:-0} == 1 ]]; then
		echo "$RP_TEST: kept $RP_TMP" >&2
	elif [[ -n $RP_TMP ]]; then
		rm -rf "$RP_TMP"
	fi
	exit "$status"
}

# rp_lab_up: build this test's lab (namespaces rp-$RP_LAB-{cli,fw,srv}).
rp_lab_up() {
	RP_LAB_MADE=1
	lab_up "$RP_LAB" || rp_fail "could not build the lab"
}

# ---- the daemon ------------------------------------------------------------

# rp_write_conf FILE: the lab config with this test's control socket.
rp_write_conf() {
	lab_write_conf "$1" "$RP_SOCK"
}

# rp_start: start Rampart in the lab with RP_CONF (written if absent) and
# wait for "rampart: running".
rp_start() {
	[[ -x $RP_RAMPART ]] || rp_fail "no daemon at $RP_RAMPART (build first)"
	[[ -f $RP_CONF ]] || rp_write_conf "$RP_CONF"
	RP_RAMPART=$RP_RAMPART lab_start "$RP_LAB" "$RP_CONF" "$RP_OUT" "$RP_ERR" ||
		rp_fail "rampart did not start"
	# The control socket may come up just after the ready line.
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -S $RP_SOCK ]] && return 0
		sleep 0.1
	done
	rp_fail "rampart is running but its control socket $RP_SOCK did not appear"
}

# rp_stop: SIGTERM the daemon; it must exit 0 within LAB_STOP_TIMEOUT.
rp_stop() {
	local status=0
	lab_stop || status=$?
	((status == 0)) || rp_fail "rampart exited with status $status after SIGTERM, want 0"
}

# rp_ctl ARGS...: rampartctl against this test's daemon; fails the test if
# the command fails.
rp_ctl() {
	local out
	out=$("$RP_RAMPARTCTL" -S "$RP_SOCK" "$@" 2>&1) || rp_fail "rampartctl $* failed: $out"
	printf '%s\n' "$out"
}

# rp_telemetry ENDPOINT: one telemetry reply (JSON), read with dpdk-telemetry.py.
# With stdin not a terminal the script prints no prompt or banner, only one
# line of JSON per command; when it cannot connect it prints "Error
# connecting to ..." and still exits 0, hence the check for '{'.
rp_telemetry() {
	local out
	out=$(echo "$1" | python3 "$RP_TELEMETRY" -f "$LAB_PREFIX" 2>&1)
	[[ $out == "{"* ]] || rp_fail "telemetry $1: $out"
	printf '%s\n' "$out"
}

# rp_counters: snapshot of the daemon's counters from `rampartctl stats
# --json`, as "name=value" lines: every event (forwarded, local_in,
# icmp_echo_replied, icmp_errors_sent, ...) and drop reason by its name, the
# sum of the drops as drops_total, and port counters as PORT.rx_packets etc.
rp_counters() {
	local stats
	stats=$(rp_ctl stats --json) || exit 1
	python3 -c '
import json, sys
stats = json.load(sys.stdin)
for name, value in stats["events"].items():
    print(f"{name}={value}")
for name, value in stats["drops"].items():
    print(f"{name}={value}")
total = sum(stats["drops"].values())
print(f"drops_total={total}")
for port, counters in stats["ports"].items():
    for name, value in counters.items():
        print(f"{port}.{name}={value}")
' <<<"$stats" || rp_fail "unexpected rampartctl stats --json: $stats"
}

# rp_delta BEFORE AFTER NAME: how much counter NAME grew between two
# rp_counters snapshots.
rp_delta() {
	local before after
	before=$(sed -n "s/^$3=//p" <<<"$1")
	after=$(sed -n "s/^$3=//p" <<<"$2")
	[[ -n $before && -n $after ]] || rp_fail "no counter $3 in the snapshots"
	echo $((after - before))
}

# rp_expect_delta BEFORE AFTER NAME WANT
rp_expect_delta() {
	local delta
	delta=$(rp_delta "$1" "$2" "$3") || exit 1
	rp_expect_eq "counter $3 grew by" "$delta" "$4"
}

# ---- traffic ---------------------------------------------------------------

in_cli() { ip netns exec "$LAB_CLI" "$@"; }
in_srv() { ip netns exec "$LAB_SRV" "$@"; }
in_fw() { ip netns exec "$LAB_FW" "$@"; }

# rp_rx_packets NS: packets eth0 received in NS.
rp_rx_packets() {
	ip netns exec "$1" cat /sys/class/net/eth0/statistics/rx_packets
}

# rp_mac NS IFACE: the interface's MAC address.
rp_mac() {
	ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'
}

# rp_warm_up: one ping across, so that every ARP entry on the way (client,
# appliance, server) is resolved before the test counts packets: the first
# packet to an unresolved next hop waits in the appliance's hold queue, and
# exact counts are simpler without it.
rp_warm_up() {
	local out
	out=$(in_cli ping -n -c 1 -W 5 "$LAB_SRV_IP" 2>&1) ||
		rp_fail "warm-up ping from the client to the server failed: $out"
}

# ---- the stand-in forwarder ------------------------------------------------

# rp_testpmd_start: dpdk-testpmd in io-forward mode between rp-lan and rp-wan
# (a plain wire: no routing, no MAC rewrite). stdin from /dev/null needs
# --stats-period, or testpmd exits at once.
rp_testpmd_start() {
	local eal
	eal=$(lab_eal_args "$LAB_PREFIX")
	# --total-num-mbufs: testpmd's default pool (155k mbufs, 340 MB) does
	# not fit beside EAL's own needs in --no-huge -m 512.
	# shellcheck disable=SC2086 # $eal is a list of options
	ip netns exec "$LAB_FW" dpdk-testpmd $eal \
		--vdev "net_af_packet0,iface=$LAB_LAN_IF" --vdev "net_af_packet1,iface=$LAB_WAN_IF" \
		-- --forward-mode=io --stats-period 1 --total-num-mbufs=8192 </dev/null >"$RP_OUT" 2>"$RP_ERR" &
	RP_TESTPMD_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		grep -qs 'start packet forwarding' "$RP_OUT" && return 0
		kill -0 "$RP_TESTPMD_PID" 2>/dev/null || rp_fail "dpdk-testpmd exited before forwarding"
		sleep 0.1
	done
	rp_fail "dpdk-testpmd did not start forwarding in 30 s"
}

# rp_testpmd_stop: SIGINT; testpmd stops its ports and must exit 0.
rp_testpmd_stop() {
	local pid=$RP_TESTPMD_PID status
	RP_TESTPMD_PID=
	kill -INT "$pid"
	wait "$pid"
	status=$?
	rp_expect_eq "dpdk-testpmd exit status" "$status" 0
}

# ---- the filter (tests/e2e/test_filter_*.sh) --------------------------------

# rp_write_filter_conf FORWARD-POLICY RULE...: write RP_CONF as the lab config
# plus a filter section: INPUT and OUTPUT policies ACCEPT, FORWARD's as given,
# one rule string (an iptables command tail) per line, in order, so a test can
# find a rule's line with grep -n. '\' and '"' in a rule are escaped for
# libconfig, so `--log-prefix "X: "` reaches the parser with its quotes.
# Written beside RP_CONF and renamed over it, so a reload never reads half a file.
rp_write_filter_conf() {
	local policy=$1 rule n i=0 tmp=$RP_CONF.new
	shift
	n=$#
	rp_write_conf "$tmp"
	{
		echo 'filter = {'
		echo "  policy = { input = \"ACCEPT\"; forward = \"$policy\"; output = \"ACCEPT\"; };"
		echo '  rules = ['
		for rule in "$@"; do
			i=$((i + 1))
			rule=${rule//\\/\\\\}
			rule=${rule//\"/\\\"}
			if ((i < n)); then echo "    \"$rule\","; else echo "    \"$rule\""; fi
		done
		echo '  ];'
		echo '  revalidate = false;'
		echo '};'
	} >>"$tmp"
	mv -f "$tmp" "$RP_CONF"
}

# rp_warm_up_local: resolve every ARP entry on the way without crossing the
# FORWARD chain (a ruleset may drop a ping across): the client and the server
# each ping the appliance's address on their side; the appliance learns each
# sender from its ARP request (as Linux does with arp_accept=0). INPUT's
# policy is ACCEPT in the filter tests.
rp_warm_up_local() {
	local out
	out=$(in_cli ping -n -c 1 -W 5 "$LAB_FW_LAN_IP" 2>&1) ||
		rp_fail "warm-up ping from the client to $LAB_FW_LAN_IP failed: $out"
	out=$(in_srv ping -n -c 1 -W 5 "$LAB_FW_WAN_IP" 2>&1) ||
		rp_fail "warm-up ping from the server to $LAB_FW_WAN_IP failed: $out"
}

# rp_filter_counter SAVE CHAIN N: "PKTS:BYTES" of the Nth rule (1-based) of
# CHAIN, or of its policy when N is "policy", read from SAVE, the output of
# `rampartctl rules --save`. Assumed format, as `iptables-save -c`:
#   :FORWARD DROP [12:720]
#   [3:180] -A FORWARD -i lan0 -p tcp -m tcp --dport 80 ... -j ACCEPT
# Rules are found by position, not by text, so the canonical spelling of a
# rule (-m tcp added or not, option order) does not matter here.
rp_filter_counter() {
	awk -v chain="$2" -v n="$3" '
		n == "policy" && $1 == ":" chain { c = $3; found = 1 }
		n != "policy" && $2 == "-A" && $3 == chain && ++i == n { c = $1; found = 1 }
		END { gsub(/[][]/, "", c); print c; exit !found }' <<<"$1" ||
		rp_fail "no counter for $2 $3 in rules --save:
$1"
}

# rp_filter_rule SAVE CHAIN N: the Nth rule of CHAIN in SAVE, without its counters.
rp_filter_rule() {
	awk -v chain="$2" -v n="$3" '
		$2 == "-A" && $3 == chain && ++i == n { sub(/^\[[0-9]+:[0-9]+\] /, ""); print; found = 1 }
		END { exit !found }' <<<"$1" || rp_fail "no rule $3 in chain $2 in rules --save:
$1"
}

# rp_counter_sub AFTER BEFORE: "PKTS:BYTES" difference of two counters.
rp_counter_sub() {
	echo "$((${1%%:*} - ${2%%:*})):$((${1##*:} - ${2##*:}))"
}

# rp_snmp NS PROTO FIELD: a counter of /proc/net/snmp inside NS, e.g.
# rp_snmp "$LAB_SRV" Tcp InSegs (segments the server's kernel received).
rp_snmp() {
	# shellcheck disable=SC2016 # an awk program
	ip netns exec "$1" awk -v proto="$2:" -v field="$3" '
		$1 == proto && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == proto && hdr && (field in col) { print $col[field]; found = 1; exit }
		END { exit !found }' /proc/net/snmp || rp_fail "no $2 $3 in $1's /proc/net/snmp"
}

# rp_http_serve_paced NS IP PORT DIR RATE: as lab_http_serve, but every
# response body goes out at RATE bytes per second (64 KiB at a time), so a
# download lasts a known time. (curl 7.88's --limit-rate lets whole seconds
# of data through in bursts: a 10 MB download "at 2M" takes 0.2 to 3.5 s.)
rp_http_serve_paced() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" >/dev/null 2>&1 <<'PY' &
import functools, http.server, socketserver, sys, time
ip, port, root, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

class Paced(http.server.SimpleHTTPRequestHandler):
    def copyfile(self, source, outputfile):
        start, sent = time.monotonic(), 0
        while True:
            chunk = source.read(65536)
            if not chunk:
                break
            outputfile.write(chunk)
            sent += len(chunk)
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)

socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer((ip, port), functools.partial(Paced, directory=root)) as server:
    server.serve_forever()
PY
	lab_wait_listen "$1" "$3"
}

# ---- the host interface (tests/e2e/test_host_*.sh) ----------------------------

# The kernel interface the host tests configure (host.interface), created by
# the daemon in the FW namespace with the ports' addresses.
RP_HOST_IF=rampart0

# rp_filter_section INPUT FORWARD OUTPUT RULE...: print a filter section with
# these policies and rules, one rule a line ('\' and '"' escaped for
# libconfig), as rp_write_filter_conf writes it.
rp_filter_section() {
	local input=$1 forward=$2 output=$3 rule n i=0
	shift 3
	n=$#
	echo 'filter = {'
	echo "  policy = { input = \"$input\"; forward = \"$forward\"; output = \"$output\"; };"
	echo '  rules = ['
	for rule in "$@"; do
		i=$((i + 1))
		rule=${rule//\\/\\\\}
		rule=${rule//\"/\\\"}
		if ((i < n)); then echo "    \"$rule\","; else echo "    \"$rule\""; fi
	done
	echo '  ];'
	echo '};'
}

# rp_write_host_conf INPUT-POLICY OUTPUT-POLICY RULE...: write RP_CONF as the
# lab config plus `host = { interface = "rampart0"; };`, the lines of
# RP_CONF_EXTRA (e.g. a routes section) and a filter section with these INPUT
# and OUTPUT policies (FORWARD's is ACCEPT). Written beside RP_CONF and
# renamed over it, so a reload never reads half a file.
rp_write_host_conf() {
	local input=$1 output=$2 tmp=$RP_CONF.new
	shift 2
	rp_write_conf "$tmp"
	{
		echo "host = { interface = \"$RP_HOST_IF\"; };"
		[[ -z ${RP_CONF_EXTRA:-} ]] || printf '%s\n' "$RP_CONF_EXTRA"
		rp_filter_section "$input" ACCEPT "$output" "$@"
	} >>"$tmp"
	mv -f "$tmp" "$RP_CONF"
}

# rp_reload: `rampartctl reload` of RP_CONF, which must print "generation N".
rp_reload() {
	local out
	out=$(rp_ctl reload) || exit 1
	[[ $out =~ ^generation\ [0-9]+$ ]] || rp_fail "rampartctl reload printed '$out', want 'generation N'"
}

# rp_host_wait: wait up to 5 s for the host interface in the FW namespace to
# be up with both of the appliance's addresses (the daemon configures it
# at start), so that servers there can bind them.
rp_host_wait() {
	local i addrs=''
	for ((i = 0; i < 50; i++)); do
		addrs=$(ip -n "$LAB_FW" -4 -o addr show dev "$RP_HOST_IF" up 2>/dev/null |
			awk '{ print $4 }' | sort | tr '\n' ' ')
		[[ $addrs == "$LAB_FW_LAN_IP/24 $LAB_FW_WAN_IP/24 " ]] && return 0
		sleep 0.1
	done
	rp_fail "host interface $RP_HOST_IF in $LAB_FW: addresses '$addrs', want $LAB_FW_LAN_IP/24 and $LAB_FW_WAN_IP/24, up:
$(ip -n "$LAB_FW" addr 2>&1)"
}

# rp_rule_delta SAVE0 SAVE CHAIN N: "PKTS:BYTES" that rule N of CHAIN (or its
# policy, N = policy) counted between two `rampartctl rules --save` outputs.
rp_rule_delta() {
	local before after
	before=$(rp_filter_counter "$1" "$3" "$4") || exit 1
	after=$(rp_filter_counter "$2" "$3" "$4") || exit 1
	rp_counter_sub "$after" "$before"
}

# rp_tcp_sent NS: TCP segments NS's kernel has sent, retransmissions included
# (Linux counts a retransmitted SYN in RetransSegs, not OutSegs).
rp_tcp_sent() {
	local out retrans
	out=$(rp_snmp "$1" Tcp OutSegs) || exit 1
	retrans=$(rp_snmp "$1" Tcp RetransSegs) || exit 1
	echo $((out + retrans))
}

# rp_synack_sent NS: SYN/ACKs (and other segments) a listener's kernel sent.
# Linux counts every SYN/ACK it builds in OutSegs, resent ones included
# (tcp_make_synack), and a resent one in RetransSegs as well: adding both, as
# rp_tcp_sent does, would count it twice.
rp_synack_sent() {
	rp_snmp "$1" Tcp OutSegs
}

# rp_tcp_quiet NS...: wait (at most 15 s) until the kernels of the given
# namespaces have sent and received no TCP segment for 1.5 s: after a
# connection attempt that failed, the listener's SYN/ACK retransmissions are
# over (the host tests set tcp_synack_retries=0, so that takes a second).
rp_tcp_quiet() {
	local ns now last='' quiet=0 deadline=$((SECONDS + 15))
	while ((SECONDS < deadline)); do
		now=
		for ns in "$@"; do
			now+="$(rp_tcp_sent "$ns"):$(rp_snmp "$ns" Tcp InSegs) " || exit 1
		done
		if [[ $now == "$last" ]]; then
			quiet=$((quiet + 1))
			((quiet >= 3)) && return 0
		else
			quiet=0
		fi
		last=$now
		sleep 0.5
	done
	rp_fail "TCP in $* did not go quiet in 15 s"
}

# rp_udp_responder NS IP PORT: answer every datagram to IP:PORT inside NS
# with "re:" and the datagram, in the background (lab_down ends it); wait
# until it is bound.
rp_udp_responder() {
	ip netns exec "$1" python3 - "$2" "$3" >/dev/null 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(b"re:" + data, peer)
PY
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Hlun "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	rp_fail "the UDP responder on $2:$3 in $1 did not start"
}

# rp_udp_ask NS DST PORT TEXT: from NS, send TEXT in one datagram from a
# connected UDP socket and print what happened within 2 s: "answer REPLY",
# "refused" (an ICMP port unreachable reached the socket) or "timeout".
rp_udp_ask() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(2)
s.send(sys.argv[3].encode())
try:
    print("answer " + s.recv(2048).decode())
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
}

# rp_craft_tcp NS SRC DST FLAGS SPORT DPORT: send one IPv4/TCP segment
# (20 + 20 bytes, random sequence number, no payload) from namespace NS with
# the given flags (letters of FSRPA), through a raw socket, so that it belongs
# to no connection the kernel knows.
rp_craft_tcp() {
	ip netns exec "$1" python3 - "$2" "$3" "$5" "$6" "$4" <<'PY'
import random, socket, struct, sys
src, dst, sport, dport, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

bits = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 5 << 4,
                  sum(bits[c] for c in flags), 65535, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64,
                 socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
s.sendto(ip + tcp, (dst, 0))
PY
}
