#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Rampart lab: three network namespaces on one machine.
#
#   CLIENT (eth0 198.18.1.2/24) --veth-- rp-lan [ FW: rampart ] rp-wan --veth-- (eth0 198.19.1.2/24) SERVER
#
# Rampart runs inside FW and drives rp-lan and rp-wan through net_af_packet;
# the FW kernel has no address on them, so it stays off those wires. See
# docs/lab.md for the details and for running the pieces by hand.
#
# Commands (as root):
#   lab.sh demo               build if needed, bring a lab up, start Rampart, send
#                             ping, ping to the appliance and a 20 MB TCP transfer
#                             across it, show its counters, tear everything down
#   lab.sh up NAME            create namespaces rp-NAME-cli, rp-NAME-fw, rp-NAME-srv
#   lab.sh down NAME          remove them (and end whatever runs inside them)
#   lab.sh run NAME [CONF]    run Rampart in the foreground inside rp-NAME-fw
#                             (CONF defaults to conf/lab.conf); Ctrl-C stops it
#   lab.sh testpmd NAME       run dpdk-testpmd io-forward between rp-lan and rp-wan
#                             instead of Rampart (a plain wire, to check the lab)
#   lab.sh eal NAME           print the EAL options the lab passes for NAME
#
# The file can also be sourced (tests/e2e/lib.sh does): it then only defines
# the lab_* functions and LAB_* settings below.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_BUILD=${RP_BUILD_DIR:-$LAB_ROOT/build}

# Addresses from the benchmarking range 198.18.0.0/15 (DESIGN.md, "Lab
# addresses"); MACs are locally administered, 02:72:70 ("rp") then the
# subnet and the host, so that captures and neighbour tables read easily.
LAB_LAN_IF=rp-lan
LAB_WAN_IF=rp-wan
LAB_FW_LAN_IP=198.18.1.1
LAB_FW_WAN_IP=198.19.1.1
LAB_CLI_IP=198.18.1.2
LAB_SRV_IP=198.19.1.2
LAB_FW_LAN_MAC=02:72:70:01:00:01
LAB_FW_WAN_MAC=02:72:70:02:00:01
LAB_CLI_MAC=02:72:70:01:00:02
LAB_SRV_MAC=02:72:70:02:00:02

# Memory the lab gives EAL, with or without hugepages.
LAB_MEM_MB=${RP_MEM_MB:-512}

# Seconds to wait for the daemon's ready line, and for it to exit on SIGTERM.
LAB_READY_TIMEOUT=${RP_READY_TIMEOUT:-30}
LAB_STOP_TIMEOUT=${RP_STOP_TIMEOUT:-15}

lab_log() { printf '%s\n' "$*" >&2; }

# lab_names NAME: set LAB_CLI, LAB_FW, LAB_SRV and LAB_PREFIX (EAL file prefix).
lab_names() {
	LAB_CLI=rp-$1-cli
	LAB_FW=rp-$1-fw
	LAB_SRV=rp-$1-srv
	LAB_PREFIX=rp-$1
}

# Per-namespace setup shared by all three: IPv6 off before any interface
# exists (its router solicitations, MLD and DAD would otherwise move exact
# counters), loopback up.
lab_ns_init() {
	local ns=$1
	ip netns add "$ns" || return
	ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return
	ip -n "$ns" link set lo up
}

# lab_up NAME: build the three namespaces and the two veth pairs.
# On failure, what was created is removed again.
lab_up() {
	lab_names "$1"
	local ns
	for ns in "$LAB_CLI" "$LAB_FW" "$LAB_SRV"; do
		if ip netns list | grep -qw -- "^$ns"; then
			lab_log "lab: namespace $ns exists already (lab.sh down $1)"
			return 1
		fi
	done
	if ! lab_up_steps; then
		lab_log "lab: could not build lab $1; removing what was made"
		lab_down "$1"
		return 1
	fi
}

lab_up_steps() {
	lab_ns_init "$LAB_CLI" && lab_ns_init "$LAB_FW" && lab_ns_init "$LAB_SRV" || return

	# Each pair is created with both ends already in their namespaces, so
	# nothing appears in the root namespace, not even for a moment.
	ip link add "$LAB_LAN_IF" address "$LAB_FW_LAN_MAC" netns "$LAB_FW" type veth \
		peer name eth0 address "$LAB_CLI_MAC" netns "$LAB_CLI" || return
	ip link add "$LAB_WAN_IF" address "$LAB_FW_WAN_MAC" netns "$LAB_FW" type veth \
		peer name eth0 address "$LAB_SRV_MAC" netns "$LAB_SRV" || return

	# TX checksum offload off on every veth end: with it on, the kernel
	# leaves TCP/UDP checksums unfinished (CHECKSUM_PARTIAL, only a
	# pseudo-header sum in the field) because a veth peer never needs them;
	# af_packet hands such frames to Rampart as they are, and they would leave
	# it with wrong checksums. With TX checksumming off, TSO goes off too, so
	# frames are also no larger than the MTU.
	# GRO off on the FW ends, so that af_packet reads frames as they were on
	# the wire, not merged into 64 KB super-packets.
	ip netns exec "$LAB_CLI" ethtool -K eth0 tx off >/dev/null || return
	ip netns exec "$LAB_SRV" ethtool -K eth0 tx off >/dev/null || return
	ip netns exec "$LAB_FW" ethtool -K "$LAB_LAN_IF" tx off gro off >/dev/null || return
	ip netns exec "$LAB_FW" ethtool -K "$LAB_WAN_IF" tx off gro off >/dev/null || return
	# Keep the FW namespace's kernel off the wires Rampart owns. With a host
	# interface (host = {...}) the appliance's addresses live in this
	# namespace's kernel, which would then answer ARP on the veths
	# (arp_ignore=0) and take IP arriving there (weak host model) behind
	# Rampart's back. A netdev ingress drop (nftables; this kernel has no tc
	# classifiers) stops the kernel's own stack; af_packet still sees every
	# frame, because packet taps run before the ingress hook.
	local dev
	ip netns exec "$LAB_FW" nft add table netdev rampart_lab || return
	for dev in "$LAB_LAN_IF" "$LAB_WAN_IF"; do
		ip netns exec "$LAB_FW" nft add chain netdev rampart_lab "in_$dev" \
			"{ type filter hook ingress device \"$dev\" priority 0; policy drop; }" || return
	done

	# The FW kernel must stay off the wires Rampart drives: no address on
	# rp-lan/rp-wan (so it answers no ARP and takes no IP for itself) and
	# no forwarding (so it routes nothing behind Rampart's back). af_packet
	# still sees every frame.
	ip netns exec "$LAB_FW" sysctl -q -w net.ipv4.ip_forward=0 || return
	ip -n "$LAB_FW" link set "$LAB_LAN_IF" up || return
	ip -n "$LAB_FW" link set "$LAB_WAN_IF" up || return

	ip -n "$LAB_CLI" addr add "$LAB_CLI_IP/24" dev eth0 || return
	ip -n "$LAB_CLI" link set eth0 up || return
	ip -n "$LAB_CLI" route add default via "$LAB_FW_LAN_IP" || return

	ip -n "$LAB_SRV" addr add "$LAB_SRV_IP/24" dev eth0 || return
	ip -n "$LAB_SRV" link set eth0 up || return
	ip -n "$LAB_SRV" route add default via "$LAB_FW_WAN_IP" || return
}

# lab_down NAME: end every process left inside the lab's namespaces (only
# what was started there: the daemon, servers), delete the namespaces (which
# deletes the veths) and the daemon's DPDK runtime directory. Safe to call
# twice, and on a half-built lab.
lab_down() {
	lab_names "$1"
	local ns pids
	for ns in "$LAB_CLI" "$LAB_FW" "$LAB_SRV"; do
		[[ -e /run/netns/$ns ]] || continue
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086 # one pid a word
			kill -TERM $pids 2>/dev/null || true
			sleep 0.5
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "/var/run/dpdk/$LAB_PREFIX"
}

# lab_eal_mem: the memory options. Hugepages when at least LAB_MEM_MB of
# 2 MB pages are free on a mounted hugetlbfs (scripts/setup.sh reserves
# them where it can), else plain memory. --huge-unlink: the page files are
# unlinked once mapped, so a daemon that dies leaves none behind.
lab_eal_mem() {
	local free_pages=0
	local hp=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
	[[ -r $hp ]] && free_pages=$(<"$hp")
	if [[ ${RP_HUGE:-auto} != no ]] && grep -qs ' hugetlbfs ' /proc/mounts &&
		((free_pages * 2 >= LAB_MEM_MB)); then
		echo "-m $LAB_MEM_MB --huge-unlink"
	else
		echo "--no-huge -m $LAB_MEM_MB"
	fi
}

# lab_eal_args PREFIX: the EAL command line for a lab daemon. lcore 0 is the
# main (control) lcore, lcore 1 the worker; the daemon adds --vdev itself from
# the ports' device strings. Never --in-memory: it turns telemetry off.
lab_eal_args() {
	# LAB_LCORES: the lcore option, e.g. "--lcores 0@0,1@0,2@1" for two workers on two CPUs
	echo "${LAB_LCORES:--l 0,1} --file-prefix $1 --no-pci $(lab_eal_mem)"
}

# lab_write_conf FILE SOCKET: a daemon config for the lab topology.
lab_write_conf() {
	local file=$1 socket=$2
	cat >"$file" <<EOF
# Rampart lab config, written by scripts/lab.sh
ports = (
  { name = "lan0"; device = "net_af_packet0,iface=$LAB_LAN_IF"; address = [ "$LAB_FW_LAN_IP/24" ]; },
  { name = "wan0"; device = "net_af_packet1,iface=$LAB_WAN_IF"; address = [ "$LAB_FW_WAN_IP/24" ]; }
);
workers = { lcores = [ 1 ]; idle_sleep_us = 200; };
control = { socket = "$socket"; };
EOF
}

# lab_build: configure build/ if it is not, then bring it up to date.
lab_build() {
	if [[ ! -f $LAB_BUILD/build.ninja ]]; then
		lab_log "lab: configuring $LAB_BUILD"
		meson setup "$LAB_BUILD" "$LAB_ROOT" >/dev/null || return
	fi
	ninja -C "$LAB_BUILD" >/dev/null || {
		lab_log "lab: build failed (ninja -C $LAB_BUILD)"
		return 1
	}
}

# lab_start NAME CONF OUT ERR: start the daemon inside rp-NAME-fw in the
# background, stdout to OUT and stderr to ERR, and wait for its ready line.
# Sets LAB_PID. Returns non-zero (daemon killed) if it does not get ready in
# LAB_READY_TIMEOUT seconds or exits first.
lab_start() {
	lab_names "$1"
	local conf=$2 out=$3 err=$4 rampart=${RP_RAMPART:-$LAB_BUILD/app/rampart/rampart}
	local eal deadline
	eal=$(lab_eal_args "$LAB_PREFIX")
	mkdir -p "$(dirname "$(lab_conf_socket "$conf")")"
	# ip netns exec and stdbuf both exec, so $! is the daemon itself.
	# stdbuf: line-buffered stdout, so the ready line reaches OUT at once.
	# shellcheck disable=SC2086 # $eal is a list of options
	ip netns exec "$LAB_FW" stdbuf -oL -eL "$rampart" $eal -- -c "$conf" >"$out" 2>"$err" &
	LAB_PID=$!
	deadline=$((SECONDS + LAB_READY_TIMEOUT))
	while ! grep -qs '^rampart: running' "$out"; do
		if ! kill -0 "$LAB_PID" 2>/dev/null; then
			wait "$LAB_PID"
			lab_log "lab: rampart exited with status $? before it was ready"
			LAB_PID=
			return 1
		fi
		if ((SECONDS >= deadline)); then
			lab_log "lab: rampart not ready after ${LAB_READY_TIMEOUT}s; killing it"
			kill -KILL "$LAB_PID" 2>/dev/null
			wait "$LAB_PID" 2>/dev/null
			LAB_PID=
			return 1
		fi
		sleep 0.1
	done
}

# lab_stop: SIGTERM the daemon started by lab_start and wait for it.
# Returns its exit status; 124 (after SIGKILL) if it did not stop in
# LAB_STOP_TIMEOUT seconds.
lab_stop() {
	local pid=$LAB_PID status deadline
	[[ -n $pid ]] || return 0
	LAB_PID=
	kill -TERM "$pid" 2>/dev/null
	deadline=$((SECONDS + LAB_STOP_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			lab_log "lab: rampart still running ${LAB_STOP_TIMEOUT}s after SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$pid"
	status=$?
	return "$status"
}

# lab_conf_socket CONF: the control socket a config names (default if none).
lab_conf_socket() {
	local s
	s=$(sed -n 's/.*socket[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n 1)
	echo "${s:-/run/rampart/rampart.sock}"
}

# lab_wait_listen NS PORT: wait up to 10 s for a TCP listener on PORT in NS.
lab_wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	lab_log "lab: nothing listens on TCP port $2 in $1"
	return 1
}

# lab_http_serve NS IP PORT DIR: serve DIR over HTTP on IP:PORT inside NS,
# in the background (lab_down ends it), and wait until it listens.
# socketserver.TCPServer rather than "python3 -m http.server": the latter
# looks its own address up in DNS (socket.getfqdn), which stalls ~10 s in a
# namespace that reaches no resolver.
lab_http_serve() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" >/dev/null 2>&1 <<'PY' &
import functools, http.server, socketserver, sys
ip, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer((ip, port), handler) as server:
    server.serve_forever()
PY
	lab_wait_listen "$1" "$3"
}

# ---- commands -------------------------------------------------------------

lab_need_root() {
	if [[ $(id -u) -ne 0 ]]; then
		lab_log "lab.sh: must run as root (namespaces, af_packet)"
		exit 1
	fi
}

lab_cmd_up() {
	lab_up "$1" || exit 1
	cat <<EOF
lab $1 is up:
  client  $LAB_CLI   eth0 $LAB_CLI_IP/24 ($LAB_CLI_MAC), default via $LAB_FW_LAN_IP
  fw      $LAB_FW    $LAB_LAN_IF ($LAB_FW_LAN_MAC), $LAB_WAN_IF ($LAB_FW_WAN_MAC), no addresses
  server  $LAB_SRV   eth0 $LAB_SRV_IP/24 ($LAB_SRV_MAC), default via $LAB_FW_WAN_IP
start Rampart:  $0 run $1
a shell:        ip netns exec $LAB_CLI bash
remove:         $0 down $1
EOF
}

lab_cmd_run() {
	lab_names "$1"
	local conf=${2:-$LAB_ROOT/conf/lab.conf} rampart=${RP_RAMPART:-$LAB_BUILD/app/rampart/rampart}
	[[ -e /run/netns/$LAB_FW ]] || { lab_log "lab.sh: no lab $1 (lab.sh up $1)"; exit 1; }
	mkdir -p "$(dirname "$(lab_conf_socket "$conf")")"
	local eal
	eal=$(lab_eal_args "$LAB_PREFIX")
	set -x
	# shellcheck disable=SC2086
	exec ip netns exec "$LAB_FW" "$rampart" $eal -- -c "$conf"
}

lab_cmd_testpmd() {
	lab_names "$1"
	[[ -e /run/netns/$LAB_FW ]] || { lab_log "lab.sh: no lab $1 (lab.sh up $1)"; exit 1; }
	local eal
	eal=$(lab_eal_args "$LAB_PREFIX")
	set -x
	# io forwarding: every frame from one port leaves the other unchanged.
	# --total-num-mbufs: testpmd's default pool (155k mbufs, 340 MB) does
	# not fit beside EAL's own needs in --no-huge -m 512.
	# shellcheck disable=SC2086
	exec ip netns exec "$LAB_FW" dpdk-testpmd $eal \
		--vdev "net_af_packet0,iface=$LAB_LAN_IF" --vdev "net_af_packet1,iface=$LAB_WAN_IF" \
		-- --forward-mode=io --stats-period 1 --total-num-mbufs=8192
}

demo_step() { printf '\n==> %s\n' "$*"; }

demo_cleanup() {
	local status=$?
	trap - EXIT
	if [[ -n ${LAB_PID:-} ]]; then
		kill -KILL "$LAB_PID" 2>/dev/null
		wait "$LAB_PID" 2>/dev/null
	fi
	lab_down "$DEMO_NAME"
	rm -rf "$DEMO_TMP"
	if ((status != 0)); then
		echo "demo: FAILED (exit $status); the lab was removed" >&2
	fi
	exit "$status"
}

lab_cmd_demo() {
	local conf=$LAB_ROOT/conf/lab.conf
	local rampartctl=${RP_RAMPARTCTL:-$LAB_BUILD/app/rampartctl/rampartctl}
	DEMO_NAME=demo-$$
	DEMO_TMP=$(mktemp -d /tmp/rampart-demo.XXXXXX)
	trap demo_cleanup EXIT
	trap 'exit 130' INT TERM

	demo_step "building Rampart ($LAB_BUILD)"
	lab_build || exit 1

	demo_step "lab $DEMO_NAME: client $LAB_CLI_IP -- [$LAB_FW_LAN_IP rampart $LAB_FW_WAN_IP] -- server $LAB_SRV_IP"
	lab_up "$DEMO_NAME" || exit 1

	demo_step "starting Rampart in $LAB_FW with $conf"
	echo "rampart $(lab_eal_args "$LAB_PREFIX") -- -c $conf"
	if ! lab_start "$DEMO_NAME" "$conf" "$DEMO_TMP/rampart.out" "$DEMO_TMP/rampart.err"; then
		cat "$DEMO_TMP/rampart.out" "$DEMO_TMP/rampart.err" >&2
		exit 1
	fi
	cat "$DEMO_TMP/rampart.out"

	demo_step "ping across the appliance: client -> server $LAB_SRV_IP"
	ip netns exec "$LAB_CLI" ping -n -c 3 -i 0.2 -W 2 "$LAB_SRV_IP" || exit 1

	demo_step "ping the appliance itself: client -> $LAB_FW_LAN_IP"
	ip netns exec "$LAB_CLI" ping -n -c 3 -i 0.2 -W 2 "$LAB_FW_LAN_IP" || exit 1

	demo_step "20 MB over TCP: server (python3 HTTP server) -> client (curl)"
	mkdir -p "$DEMO_TMP/www"
	head -c 20M /dev/urandom >"$DEMO_TMP/www/blob"
	lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8080 "$DEMO_TMP/www" || exit 1
	ip netns exec "$LAB_CLI" curl -sS --fail --max-time 120 -o "$DEMO_TMP/got" \
		-w 'received %{size_download} bytes in %{time_total} s (%{speed_download} bytes/s)\n' \
		"http://$LAB_SRV_IP:8080/blob" || exit 1
	local sum_srv sum_cli
	sum_srv=$(sha256sum <"$DEMO_TMP/www/blob" | cut -d' ' -f1)
	sum_cli=$(sha256sum <"$DEMO_TMP/got" | cut -d' ' -f1)
	echo "sha256 at the server: $sum_srv"
	echo "sha256 at the client: $sum_cli"
	[[ $sum_srv == "$sum_cli" ]] || { echo "demo: the file changed on its way" >&2; exit 1; }

	demo_step "Rampart's counters (rampartctl stats)"
	"$rampartctl" -S "$(lab_conf_socket "$conf")" stats || exit 1

	demo_step "the connections it tracked (rampartctl conntrack, as conntrack -L)"
	"$rampartctl" -S "$(lab_conf_socket "$conf")" conntrack || exit 1

	demo_step "stopping Rampart (SIGTERM)"
	local status=0
	lab_stop || status=$?
	sed -n '/^rampart: running/,$p' "$DEMO_TMP/rampart.out" | tail -n +2
	((status == 0)) || { echo "demo: rampart exited with status $status" >&2; exit 1; }

	demo_step "tearing the lab down"
	lab_down "$DEMO_NAME"
	echo "demo: done"
}

lab_main() {
	set -uo pipefail
	local cmd=${1:-}
	case $cmd in
	demo) lab_need_root; lab_cmd_demo ;;
	up | down | run | testpmd | eal)
		[[ $# -ge 2 ]] || { lab_log "usage: $0 $cmd NAME"; exit 2; }
		lab_need_root
		case $cmd in
		up) lab_cmd_up "$2" ;;
		down) lab_down "$2" ;;
		run) lab_cmd_run "$2" "${3:-}" ;;
		testpmd) lab_cmd_testpmd "$2" ;;
		eal) lab_names "$2"; lab_eal_args "$LAB_PREFIX" ;;
		esac
		;;
	*)
		sed -n '/^# Commands/,/^# The file can/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' | head -n -1
		[[ $cmd == -h || $cmd == --help || $cmd == help ]] || exit 2
		;;
	esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	lab_main "$@"
fi
