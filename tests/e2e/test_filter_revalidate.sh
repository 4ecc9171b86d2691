#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stale-allow protection (filter.revalidate, docs/filtering.md): two long TCP
# connections from the client, to :9000 and :9001 on the server, held open
# by one Python client that sends a word on either when told and waits for
# the server's echo. The first ruleset (policy DROP, ESTABLISHED,RELATED,
# NEW tcp/9000 and tcp/9001 from lan0) lets both in. Then:
#   - a reload to a ruleset without the 9000 rule, revalidate = false: both
#     connections keep working (netfilter's behaviour: ESTABLISHED passes);
#     nothing is revalidated;
#   - the same rules with revalidate = true: by the time `rampartctl reload`
#     answers "generation N" (it waits for the workers' revalidation walks)
#     the 9000 connection is gone from `rampartctl conntrack` and counted
#     once as revalidate_deleted (/rampart/conntrack); its next segment gets
#     no echo: without a connection it is a NEW packet the rules refuse
#     (filter_drop; filter_revalidate stays 0, since the walk removed the
#     connection before any packet of it came); the 9001 connection, still
#     allowed, keeps working and stays listed.
# (The datapath's check of a packet that meets its connection before the
# walk does — counted as filter_revalidate — is covered by
# tests/unit/test_datapath.c, case_revalidate.)
#
# Assumptions about the implementation's output:
#   - `rampartctl reload` prints "generation N" and exits 0;
#   - `rampartctl conntrack -p tcp -s ADDR` lists connections as
#     `conntrack -L` does ("... dport=9000 ...");
#   - `rampartctl stats --json` has the drop reasons filter_drop and
#     filter_revalidate; /rampart/conntrack has revalidate_deleted.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_revalidate
rp_lab_up

estab='-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT'
new9000='-A FORWARD -i lan0 -p tcp --dport 9000 -m state --state NEW -j ACCEPT'
new9001='-A FORWARD -i lan0 -p tcp --dport 9001 -m state --state NEW -j ACCEPT'

# write_conf true|false RULE...: the filter config with filter.revalidate as given.
write_conf() {
	local reval=$1
	shift
	rp_write_filter_conf DROP "$@"
	sed -i "s/^  revalidate = false;\$/  revalidate = $reval;/" "$RP_CONF"
	grep -q "^  revalidate = $reval;\$" "$RP_CONF" || rp_fail "could not set revalidate = $reval in $RP_CONF"
}

write_conf false "$estab" "$new9000" "$new9001"
rp_start
rp_warm_up_local

# An echo server on :9000 and :9001.
in_srv python3 - "$LAB_SRV_IP" <<'PY' >/dev/null 2>&1 &
import socketserver, sys, threading
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
for port in (9000, 9001):
    server = socketserver.ThreadingTCPServer((sys.argv[1], port), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Event().wait()
PY
lab_wait_listen "$LAB_SRV" 9000 || rp_fail "the echo server on :9000 did not start"
lab_wait_listen "$LAB_SRV" 9001 || rp_fail "the echo server on :9001 did not start"

# The client: one connection to each port, held open; each command line
# "PORT WORD" sends WORD on that connection and appends "PORT ECHO" (or
# "PORT timeout" after 3 s without an echo) to the results file.
cat >"$RP_TMP/client.py" <<'PY'
import socket, sys
server, results = sys.argv[1], sys.argv[2]
conns = {port: socket.create_connection((server, port), timeout=5) for port in (9000, 9001)}
def say(line):
    with open(results, "a") as f:
        f.write(line + "\n")
say("connected")
for line in sys.stdin:
    port, word = line.split()
    conn = conns[int(port)]
    conn.settimeout(3)
    try:
        conn.sendall((word + "\n").encode())
        got = b""
        while not got.endswith(b"\n"):
            data = conn.recv(100)
            if not data:
                raise EOFError
            got += data
        say(f"{port} {got.decode().strip()}")
    except socket.timeout:
        say(f"{port} timeout")
    except (EOFError, OSError) as e:
        say(f"{port} closed ({type(e).__name__})")
PY
results=$RP_TMP/results
: >"$results"
mkfifo "$RP_TMP/commands" || rp_fail "mkfifo failed"
in_cli python3 "$RP_TMP/client.py" "$LAB_SRV_IP" "$results" <"$RP_TMP/commands" \
	>/dev/null 2>"$RP_TMP/client.err" &
exec 7>"$RP_TMP/commands"

# wait_line N: wait up to 10 s for the results file to have N lines; print the last.
wait_line() {
	local i
	for ((i = 0; i < 100; i++)); do
		if (($(wc -l <"$results") >= $1)); then
			sed -n "$1p" "$results"
			return 0
		fi
		sleep 0.1
	done
	rp_fail "the client gave no answer $1 in 10 s: $(cat "$RP_TMP/client.err")"
}
asked=1
rp_expect_eq "the client's connections" "$(wait_line 1)" connected

# ask PORT WORD: send WORD on the connection to PORT; the client's result in $reply.
reply=
ask() {
	echo "$1 $2" >&7
	asked=$((asked + 1))
	reply=$(wait_line "$asked") || exit 1
}

# listed PORT: 1 if `rampartctl conntrack` lists a TCP connection from the client to PORT.
listed() {
	local text
	text=$(rp_ctl conntrack -p tcp -s "$LAB_CLI_IP") || exit 1
	if [[ $text == *"dst=$LAB_SRV_IP "*"dport=$1 "* ]]; then echo 1; else echo 0; fi
}

# reval_deleted: the revalidate_deleted counter of /rampart/conntrack.
reval_deleted() {
	local tel
	tel=$(rp_telemetry /rampart/conntrack) || exit 1
	python3 -c 'import json,sys; print(json.load(sys.stdin)["/rampart/conntrack"]["revalidate_deleted"])' \
		<<<"$tel" || rp_fail "no revalidate_deleted in /rampart/conntrack: $tel"
}

# ---- 1. the first ruleset lets both connections in
ask 9000 one
rp_expect_eq "echo on :9000" "$reply" "9000 one"
ask 9001 one
rp_expect_eq "echo on :9001" "$reply" "9001 one"
rp_expect_eq "connection to :9000 listed" "$(listed 9000)" 1
rp_expect_eq "connection to :9001 listed" "$(listed 9001)" 1

# ---- 2. without the 9000 rule, revalidate = false: ESTABLISHED still passes (netfilter)
stats0=$(rp_counters) || exit 1
deleted0=$(reval_deleted) || exit 1
write_conf false "$estab" "$new9001"
out=$(rp_ctl reload) || exit 1
[[ $out =~ ^generation\ ([0-9]+)$ ]] || rp_fail "rampartctl reload printed '$out', want 'generation N'"
ask 9000 two
rp_expect_eq "echo on :9000 after a reload without revalidate" "$reply" "9000 two"
ask 9001 two
rp_expect_eq "echo on :9001 after a reload without revalidate" "$reply" "9001 two"
rp_expect_eq "connection to :9000 listed after a reload without revalidate" "$(listed 9000)" 1
stats=$(rp_counters) || exit 1
rp_expect_delta "$stats0" "$stats" filter_revalidate 0
rp_expect_delta "$stats0" "$stats" filter_drop 0
rp_expect_eq "revalidate_deleted after a reload without revalidate" "$(reval_deleted)" "$deleted0"

# ---- 3. the same rules with revalidate = true: the 9000 connection is removed
write_conf true "$estab" "$new9001"
out=$(rp_ctl reload) || exit 1
[[ $out =~ ^generation\ ([0-9]+)$ ]] || rp_fail "rampartctl reload printed '$out', want 'generation N'"
rp_info "revalidating reload: $out"
# reload answered after the walk: nothing to wait for
rp_expect_eq "connection to :9000 listed after the revalidating reload" "$(listed 9000)" 0
rp_expect_eq "connection to :9001 listed after the revalidating reload" "$(listed 9001)" 1
rp_expect_eq "revalidate_deleted grew by" "$(($(reval_deleted) - deleted0))" 1
ask 9000 three
rp_expect_eq "echo on :9000 after the revalidating reload" "$reply" "9000 timeout"
ask 9001 three
rp_expect_eq "echo on :9001 after the revalidating reload" "$reply" "9001 three"
stats=$(rp_counters) || exit 1
rp_expect_delta "$stats0" "$stats" filter_revalidate 0
drops=$(rp_delta "$stats0" "$stats" filter_drop) || exit 1
((drops >= 1)) || rp_fail "the client's segment to :9000 was not dropped by the filter (filter_drop grew by $drops)"
# the dropped segments opened nothing
rp_expect_eq "connection to :9000 listed after its segment was dropped" "$(listed 9000)" 0
rp_expect_eq "revalidate_deleted after the dropped segment" "$(($(reval_deleted) - deleted0))" 1

exec 7>&-
rp_stop
rp_pass
