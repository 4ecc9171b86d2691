#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Whole-daemon benchmark (DESIGN.md "Measuring", docs/performance.md "Whole daemon").
#
# Rampart reads a generated pcap in a loop on lan0 (net_pcap, infinite_rx=1)
# and routes every frame out of wan0 (net_null, a sink). dpdk-testpmd then
# io-forwards the same pcap between the same two devices: that is the I/O
# ceiling, what the PMDs cost without any routing. The ratio
# rampart_mpps / testpmd_mpps is the share of that ceiling the daemon keeps.
#
# Both sides use lcore 0 for the main thread and lcore 1 for the forwarding
# loop, busy-polling, each with its own --file-prefix. They run one after the
# other, never together: on a 2-core machine two polling processes would share
# lcore 1 and both numbers would be meaningless.
#
# Usage: tests/bench/daemon_bench.sh [options]
#   --build DIR      meson build dir holding app/rampart/rampart and
#                    app/rampartctl/rampartctl (default: ./build)
#   --seconds N      measured seconds per side and frame size (default 10)
#   --warmup N       seconds run before measuring (default 1)
#   --flows N        UDP flows in the pcap, one frame each, 1..8192 (default 1024)
#   --frame SIZE     frame size with FCS, 64..1518; repeat for several
#                    (default: 64 and 512)
#   --smoke          2 s per side; only checks that both ran and that rampart
#                    forwarded packets (for CI: no timing assertion)
#   --keep           keep the work directory (pcaps, configs, logs)
#   -h, --help       this text
# Environment: RAMPART, RAMPARTCTL, TESTPMD override the binaries.
#
# Output: a human table on stdout, then one JSON line per frame size:
#   {"bench":"daemon","frame":64,"flows":1024,"seconds":10,
#    "rampart_mpps":..,"testpmd_mpps":..,"ratio":..,"contended":false}
# where "contended" says other DPDK processes were running (figures not clean).
# Exit status: 0 ok; 1 a run failed (or, with --smoke, rampart forwarded
# nothing); 2 bad usage or a missing prerequisite.
# Needs root (hugepages, the root-only control socket) and python3.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

BUILD="$REPO/build"
SECONDS_PER_RUN=10
WARMUP=1
FLOWS=1024
FRAMES=()
SMOKE=0
KEEP=0

# lan0's MAC as net_pcap assigns it to the first pcap port (02:70:63:61:70:00,
# "\x02pcap" + port index); read back from the daemon's port line and the pcap
# regenerated if a DPDK version assigns another.
PCAP_MAC="02:70:63:61:70:00"
# servers 198.19.1.2 .. 198.19.1.<1 + SERVERS> behind wan0, each a static
# neighbour with MAC 02:00:00:00:00:<its last octet>
SERVERS=4
WORKER_LCORE=1
MAX_FLOWS=8192
# a null device answers no ARP and sends nothing back: no-rx keeps its RX from
# inventing frames that both sides would then have to forward or drop
NULL_DEV="net_null0,no-rx=1"

usage() {
	sed -n '/^# Usage:/,/^# Needs root/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
	echo "daemon_bench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=${2:?--build needs a directory}; shift 2 ;;
	--seconds) SECONDS_PER_RUN=${2:?--seconds needs a number}; shift 2 ;;
	--warmup) WARMUP=${2:?--warmup needs a number}; shift 2 ;;
	--flows) FLOWS=${2:?--flows needs a number}; shift 2 ;;
	--frame) FRAMES+=("${2:?--frame needs a size}"); shift 2 ;;
	--smoke) SMOKE=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

in_range() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
in_range "$SECONDS_PER_RUN" 1 86400 || die "--seconds: expected a whole number >= 1"
in_range "$WARMUP" 0 3600 || die "--warmup: expected a whole number"
in_range "$FLOWS" 1 "$MAX_FLOWS" ||
	die "--flows: expected 1..$MAX_FLOWS (each flow's frame stays in lan0's mbuf pool)"
[ ${#FRAMES[@]} -gt 0 ] || FRAMES=(64 512)
for f in "${FRAMES[@]}"; do
	in_range "$f" 64 1518 || die "--frame $f: expected 64..1518"
done
if [ "$SMOKE" = 1 ]; then
	SECONDS_PER_RUN=2
	WARMUP=1
fi

RAMPART=${RAMPART:-$BUILD/app/rampart/rampart}
RAMPARTCTL=${RAMPARTCTL:-$BUILD/app/rampartctl/rampartctl}
TESTPMD=$(command -v "${TESTPMD:-dpdk-testpmd}" || echo "${TESTPMD:-dpdk-testpmd}")

# --- prerequisites ----------------------------------------------------------

[ "$(id -u)" = 0 ] || die "must run as root (hugepages, the control socket)"
command -v python3 >/dev/null || die "python3 not found (it writes the pcap and reads the counters)"
[ -x "$RAMPART" ] || die "$RAMPART not found: build first (meson setup build && ninja -C build) or pass --build DIR"
[ -x "$RAMPARTCTL" ] || die "$RAMPARTCTL not found: pass --build DIR"
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk-dev; scripts/setup.sh installs it)"

pmd_installed() {
	local d
	for d in /usr/lib/*/dpdk/pmds-*/ /usr/local/lib/*/dpdk/pmds-*/; do
		compgen -G "$d/librte_net_$1.so*" >/dev/null && return 0
	done
	return 1
}
pmd_installed pcap || die "the net_pcap PMD is not installed (Debian: librte-net-pcap23; scripts/setup.sh installs it)"
pmd_installed null || die "the net_null PMD is not installed (Debian: librte-net-null23; scripts/setup.sh installs it)"

# --- state and cleanup --------------------------------------------------------

WORK=$(mktemp -d /tmp/rampart-bench.XXXXXX)
PREFIXES=()
CHILD=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	for p in "${PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [ "$KEEP" = 1 ]; then
		echo "daemon_bench: work files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "daemon_bench: $*" >&2; }

# Other polling DPDK processes share the two CPUs and depress both numbers.
warn_contention() {
	local others
	others=$(ps -eo pid=,comm=,args= |
		awk '$2 == "rampart" || $2 == "dpdk-testpmd" || $2 == "pktgen" { $2 = ""; print }')
	if [ -n "$others" ]; then
		log "warning: other DPDK processes are running; figures from this run are not clean:"
		printf '  %s\n' "$others" >&2
		CONTENDED=1
	fi
}
CONTENDED=0

hugepages_free_mb() {
	local f=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
	[ -r "$f" ] && echo $(($(cat "$f") * 2)) || echo 0
}

gen_pcap() { # frame mac -> writes $WORK/flows-<frame>.pcap
	python3 "$HERE/gen_pcap.py" -o "$WORK/flows-$1.pcap" --flows "$FLOWS" --frame "$1" \
		--dst-mac "$2" --servers "$SERVERS"
}

# Wait until $2 (a log) holds $3, while process $1 lives; up to $4 seconds.
wait_for_line() {
	local pid=$1 file=$2 pattern=$3 limit=$4 i
	for ((i = 0; i < limit * 10; i++)); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

now() { date +%s.%N; }

# Send signal $1 to the child and reap it; SIGKILL after 30 s. Prints nothing;
# returns the child's exit status.
stop_child() {
	local sig=$1 i rc=0
	kill "-$sig" "$CHILD" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$CHILD" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CHILD" 2>/dev/null; then
		log "pid $CHILD did not stop within 30 s of SIG$sig: killing it"
		kill -KILL "$CHILD" 2>/dev/null || true
	fi
	wait "$CHILD" || rc=$?
	CHILD=""
	return "$rc"
}

# --- rampart ------------------------------------------------------------------

write_rampart_conf() { # frame -> $WORK/rampart-<frame>.conf
	local frame=$1 desc=1024 neighbours="" i
	for ((i = 2; i < 2 + SERVERS; i++)); do
		[ -z "$neighbours" ] || neighbours+=$',\n  '
		neighbours+=$(printf '{ address = "198.19.1.%d"; mac = "02:00:00:00:00:%02x"; port = "wan0"; }' "$i" "$i")
	done
	# each flow's frame lives in lan0's pool for the whole run (net_pcap copies
	# the file into mbufs at start); larger rings make rampart size its pool for it
	while [ "$desc" -lt "$FLOWS" ] && [ "$desc" -lt 4096 ]; do desc=$((desc * 2)); done
	cat >"$WORK/rampart-$frame.conf" <<-EOF
		# written by tests/bench/daemon_bench.sh
		ports = (
		  { name = "lan0"; device = "net_pcap0,rx_pcap=$WORK/flows-$frame.pcap,infinite_rx=1";
		    address = [ "198.18.1.1/24" ]; rx_desc = $desc; tx_desc = $desc; },
		  { name = "wan0"; device = "$NULL_DEV"; address = [ "198.19.1.1/24" ]; }
		);
		neighbours = (
		  $neighbours
		);
		workers = { lcores = [ $WORKER_LCORE ]; idle_sleep_us = 0; };
		control = { socket = "$WORK/rampart.sock"; };
	EOF
}

# Print one counter of a `rampartctl stats --json` document on stdin.
json_get() { # path...
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[k]
print(v)' "$@"
}

ctl_stats() { "$RAMPARTCTL" -S "$WORK/rampart.sock" stats --json; }

# Run rampart once; sets R_PKTS, R_SECS, R_MAC (lan0's MAC) and R_STATS (final
# counters, JSON). Returns 3 at once when lan0's MAC is not the one the pcap
# was written for, another non-zero status when the daemon did not run cleanly.
rampart_once() { # frame
	local frame=$1
	local prefix="rp-bench-$$-rampart-$frame" logf="$WORK/rampart-$frame.log"
	local s0 s1 t0 t1 rc
	PREFIXES+=("$prefix")
	write_rampart_conf "$frame"
	if ! "$RAMPART" --check -c "$WORK/rampart-$frame.conf" >"$logf" 2>&1; then
		log "rampart rejects the benchmark config:"
		sed 's/^/  /' "$logf" >&2
		return 1
	fi
	"$RAMPART" --file-prefix="$prefix" -- -c "$WORK/rampart-$frame.conf" >"$logf" 2>&1 &
	CHILD=$!
	if ! wait_for_line "$CHILD" "$logf" "rampart: running" 60; then
		log "rampart did not start; its output:"
		sed 's/^/  /' "$logf" >&2
		return 1
	fi
	R_MAC=$(sed -n 's/.*port lan0: .* MAC \([0-9A-Fa-f:]\{17\}\).*/\1/p' "$logf" | head -n 1 |
		tr 'A-F' 'a-f')
	if [ -n "$R_MAC" ] && [ "$R_MAC" != "$PCAP_MAC" ]; then
		stop_child TERM || true
		return 3
	fi
	sleep "$WARMUP"
	s0=$(ctl_stats) || s0=""
	t0=$(now)
	sleep "$SECONDS_PER_RUN"
	s1=$(ctl_stats) || s1=""
	t1=$(now)
	R_STATS=$s1
	rc=0
	stop_child TERM || rc=$?
	if [ "$rc" != 0 ]; then
		log "rampart exited with status $rc; its output:"
		sed 's/^/  /' "$logf" >&2
		return 1
	fi
	if [ -z "$s0" ] || [ -z "$s1" ]; then
		log "rampartctl could not read the counters"
		return 1
	fi
	R_PKTS=$(($(json_get ports wan0 tx_packets <<<"$s1") - $(json_get ports wan0 tx_packets <<<"$s0")))
	R_SECS=$(python3 -c "print($t1 - $t0)")
}

run_rampart() { # frame -> sets RAMPART_MPPS
	local frame=$1 rc=0
	gen_pcap "$frame" "$PCAP_MAC"
	rampart_once "$frame" || rc=$?
	if [ "$rc" = 3 ]; then
		log "lan0's MAC is $R_MAC, not $PCAP_MAC: regenerating the pcap and starting again"
		PCAP_MAC=$R_MAC
		gen_pcap "$frame" "$PCAP_MAC"
		rc=0
		rampart_once "$frame" || rc=$?
	fi
	[ "$rc" = 0 ] || return 1
	# every frame of the pcap is routable: any drop means the set-up is wrong
	python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = {k: v for k, v in d["drops"].items() if v}
if bad:
    print("daemon_bench: warning: rampart dropped packets:", bad, file=sys.stderr)' <<<"$R_STATS"
	RAMPART_PKTS=$R_PKTS
	RAMPART_MPPS=$(python3 -c "print('%.3f' % ($R_PKTS / $R_SECS / 1e6))")
}

# --- testpmd ------------------------------------------------------------------

# Print "<opackets of ethdev port 1> <time>" read from a DPDK process's
# telemetry socket, the same window method as rampart's counters (testpmd's
# own display comes every 1-2 s, block-buffered when redirected).
telemetry_tx() { # prefix
	python3 - "/var/run/dpdk/$1/dpdk_telemetry.v2" <<-'EOF'
		import json, socket, sys, time
		sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
		try:
		    sock.connect(sys.argv[1])
		    sock.recv(16384)  # greeting: version, pid, max_output_len
		    sock.send(b"/ethdev/stats,1")
		    reply = json.loads(sock.recv(16384))
		except (OSError, ValueError) as e:
		    sys.exit("telemetry: %s" % e)
		print(reply["/ethdev/stats"]["opackets"], time.time())
	EOF
}

run_testpmd() { # frame -> sets TESTPMD_MPPS
	local frame=$1
	local prefix="rp-bench-$$-testpmd-$frame" logf="$WORK/testpmd-$frame.log"
	local mem=() a b i
	PREFIXES+=("$prefix")
	# same fallback as the daemon: ordinary memory when hugepages are short
	[ "$(hugepages_free_mb)" -ge 512 ] || mem=(--no-huge -m 1024)
	# --stats-period keeps testpmd running with stdin from /dev/null
	"$TESTPMD" -l "0,$WORKER_LCORE" --no-pci --file-prefix="$prefix" "${mem[@]}" \
		--vdev="net_pcap0,rx_pcap=$WORK/flows-$frame.pcap,infinite_rx=1" --vdev="$NULL_DEV" \
		-- --forward-mode=io --stats-period 1 --rxd=1024 --txd=1024 --burst=32 \
		--total-num-mbufs=$((FLOWS + 16384)) </dev/null >"$logf" 2>&1 &
	CHILD=$!
	a=""
	for ((i = 0; i < 600; i++)); do
		a=$(telemetry_tx "$prefix" 2>/dev/null) && [ "${a%% *}" -gt 0 ] && break
		a=""
		kill -0 "$CHILD" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$a" ]; then
		log "dpdk-testpmd did not start forwarding; its output:"
		sed 's/^/  /' "$logf" >&2
		return 1
	fi
	sleep "$WARMUP"
	a=$(telemetry_tx "$prefix") || a=""
	sleep "$SECONDS_PER_RUN"
	b=$(telemetry_tx "$prefix") || b=""
	stop_child INT || true # testpmd may re-raise SIGINT after its clean-up
	if ! grep -q "Bye" "$logf"; then
		log "dpdk-testpmd did not stop cleanly; its output:"
		tail -n 30 "$logf" | sed 's/^/  /' >&2
		return 1
	fi
	if [ -z "$a" ] || [ -z "$b" ]; then
		log "could not read dpdk-testpmd's counters through telemetry"
		return 1
	fi
	TESTPMD_MPPS=$(python3 -c "
pkts, secs = ${b% *} - ${a% *}, ${b#* } - ${a#* }
print('%.3f' % (pkts / secs / 1e6))")
}

# --- main ---------------------------------------------------------------------

FAILED=0
RESULTS=()
warn_contention
log "$FLOWS flows, frames ${FRAMES[*]} bytes, ${SECONDS_PER_RUN}s per side after ${WARMUP}s warm-up"

for frame in "${FRAMES[@]}"; do
	RAMPART_MPPS=""
	TESTPMD_MPPS=""
	RAMPART_PKTS=0
	log "frame $frame: rampart"
	run_rampart "$frame" || { FAILED=1; RAMPART_MPPS=""; }
	warn_contention
	log "frame $frame: dpdk-testpmd io-forward"
	run_testpmd "$frame" || { FAILED=1; TESTPMD_MPPS=""; }
	warn_contention
	if [ "$SMOKE" = 1 ] && [ -n "$RAMPART_MPPS" ] && [ "$RAMPART_PKTS" -le 0 ]; then
		log "frame $frame: rampart forwarded no packets"
		FAILED=1
	fi
	RESULTS+=("$frame ${RAMPART_MPPS:-null} ${TESTPMD_MPPS:-null}")
done

printf '\nWhole daemon vs dpdk-testpmd io-forward, net_pcap (infinite_rx) -> net_null,\n'
printf '%s flows, %s s per side, worker on lcore %s%s\n' "$FLOWS" "$SECONDS_PER_RUN" \
	"$WORKER_LCORE" "$([ "$SMOKE" = 1 ] && echo ', smoke mode (figures not meaningful)')"
[ "$CONTENDED" = 1 ] && printf 'other DPDK processes were running: figures not clean\n'
python3 - "$FLOWS" "$SECONDS_PER_RUN" "$CONTENDED" "${RESULTS[@]}" <<-'EOF'
	import json, sys
	flows, seconds, contended = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
	rows = []
	for arg in sys.argv[4:]:
	    frame, r, t = arg.split()
	    r = None if r == "null" else float(r)
	    t = None if t == "null" else float(t)
	    ratio = round(r / t, 3) if r is not None and t else None
	    rows.append((int(frame), r, t, ratio))
	fmt = lambda v, spec: "-" if v is None else format(v, spec)
	print("%6s %14s %14s %7s" % ("frame", "rampart Mpps", "testpmd Mpps", "ratio"))
	for frame, r, t, ratio in rows:
	    print("%6d %14s %14s %7s" % (frame, fmt(r, ".3f"), fmt(t, ".3f"), fmt(ratio, ".3f")))
	print()
	for frame, r, t, ratio in rows:
	    print(json.dumps({"bench": "daemon", "frame": frame, "flows": flows, "seconds": seconds,
	                      "rampart_mpps": r, "testpmd_mpps": t, "ratio": ratio,
	                      "contended": contended},
	                     separators=(",", ":")))
EOF

if [ "$FAILED" != 0 ]; then
	log "FAILED (see the messages above)"
	exit 1
fi
exit 0
