#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The stateful FORWARD ruleset most firewalls start from: policy DROP,
# replies accepted by state, new connections only to TCP port 80 and only
# from the client side (lan0).
#   - curl to the server's :80 works, and the NEW rule counts exactly one
#     packet (the SYN, 60 bytes) per connection; every other packet of those
#     connections is counted by the ESTABLISHED,RELATED rule;
#   - curl to :8081, where the server also listens, is dropped by the policy;
#   - the server cannot connect back to a listener on the client's port 80
#     (the same port, but it comes in on wan0);
#   - reloaded without the ESTABLISHED,RELATED rule, the SYN to :80 still
#     passes but the server's answers are dropped: curl times out and the
#     client's kernel receives no TCP segment at all.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`: rules by position in
#     their chain, "[pkts:bytes]" before "-A", policies as ":FORWARD DROP [p:b]";
#     byte counters count the IP packet (IP header included), as iptables does;
#   - `rampartctl reload` prints "generation N" and exits 0;
#   - `rampartctl stats --json` has the drop reason filter_drop.
#
# Exact packet counts rest on Linux's TCP defaults in a new namespace: a SYN
# is 60 bytes (MSS, SACK, timestamps, window scale), the first SYN
# retransmission comes 1 s after the SYN (initial RTO) and the next 2 s
# later, so a client that gives up after 2 s sends exactly 2 SYNs.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_forward_stateful
rp_lab_up

estab='-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT'
new80='-A FORWARD -i lan0 -p tcp --dport 80 -m state --state NEW -j ACCEPT'
rp_write_filter_conf DROP "$estab" "$new80"
rp_start
rp_warm_up_local

mkdir -p "$RP_TMP/www"
head -c 200K /dev/urandom >"$RP_TMP/www/blob"
want_sum=$(sha256sum <"$RP_TMP/www/blob" | cut -d' ' -f1)
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 80 "$RP_TMP/www" || rp_fail "HTTP server on :80 did not start"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8081 "$RP_TMP/www" || rp_fail "HTTP server on :8081 did not start"

# A listener on the client's port 80 that notes every connection it accepts.
in_cli python3 - "$LAB_CLI_IP" "$RP_TMP/cli-accepted" <<'PY' >/dev/null 2>&1 &
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 80))
l.listen(8)
while True:
    c, peer = l.accept()
    with open(sys.argv[2], "a") as f:
        f.write(f"{peer[0]}:{peer[1]}\n")
    c.close()
PY
lab_wait_listen "$LAB_CLI" 80 || rp_fail "the client's listener on :80 did not start"

# snapshot: rules --save, rampartctl stats and the kernels' TCP counters, at
# one quiet moment.
snap() {
	SAVE=$(rp_ctl rules --save) || exit 1
	STATS=$(rp_counters) || exit 1
	CLI_INSEGS=$(rp_snmp "$LAB_CLI" Tcp InSegs) || exit 1
	SRV_INSEGS=$(rp_snmp "$LAB_SRV" Tcp InSegs) || exit 1
}

save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "rule 1 as listed" "$(rp_filter_rule "$save" FORWARD 1)" "--state"
rp_expect_contains "rule 2 as listed" "$(rp_filter_rule "$save" FORWARD 2)" "--dport 80"
rp_expect_contains "rules --save" "$save" ":FORWARD DROP ["

# ---- 1. three connections to :80 pass; the NEW rule counts 3 SYNs
snap
save0=$SAVE stats0=$STATS
connections=3
for ((i = 1; i <= connections; i++)); do
	in_cli curl -sS --fail --max-time 10 -o "$RP_TMP/got" "http://$LAB_SRV_IP/blob" ||
		rp_fail "curl $i to :80 failed"
	rp_expect_eq "sha256 of download $i" "$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)" "$want_sum"
done
sleep 0.5 # the last ACKs of the closes
snap
new_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD 2)" "$(rp_filter_counter "$save0" FORWARD 2)") || exit 1
rp_expect_eq "NEW tcp/80 rule after $connections connections [pkts:bytes]" "$new_delta" "$connections:$((connections * 60))"
est_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)") || exit 1
pol_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)") || exit 1
rp_expect_eq "FORWARD policy while the transfers ran" "$pol_delta" "0:0"
forwarded=$(rp_delta "$stats0" "$STATS" forwarded) || exit 1
rp_expect_eq "ESTABLISHED,RELATED rule packets = forwarded - SYNs" "${est_delta%%:*}" $((forwarded - connections))
rp_expect_delta "$stats0" "$STATS" filter_drop 0

# ---- 2. :8081 is not allowed: both SYNs are dropped by the policy
save0=$SAVE stats0=$STATS srv_insegs0=$SRV_INSEGS
out=$(in_cli curl -sS --max-time 2 -o /dev/null "http://$LAB_SRV_IP:8081/blob" 2>&1)
rc=$?
rp_expect_eq "curl to :8081 exit status (28: timed out; output: $out)" "$rc" 28
sleep 0.3
snap
pol_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)") || exit 1
rp_expect_eq "FORWARD policy DROP after curl to :8081 [pkts:bytes]" "$pol_delta" "2:120"
rp_expect_delta "$stats0" "$STATS" filter_drop 2
rp_expect_delta "$stats0" "$STATS" forwarded 0
rp_expect_eq "TCP segments the server received" "$((SRV_INSEGS - srv_insegs0))" 0

# ---- 3. the server cannot open a connection to the client (it enters on wan0)
save0=$SAVE stats0=$STATS cli_insegs0=$CLI_INSEGS
out=$(in_srv python3 - "$LAB_CLI_IP" <<'PY' 2>&1
import socket, sys
try:
    socket.create_connection((sys.argv[1], 80), timeout=2)
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(f"error {e.errno}")
PY
)
rp_expect_eq "server -> client:80" "$out" timeout
sleep 0.3
snap
pol_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)") || exit 1
rp_expect_eq "FORWARD policy DROP after server -> client [pkts:bytes]" "$pol_delta" "2:120"
new_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD 2)" "$(rp_filter_counter "$save0" FORWARD 2)") || exit 1
rp_expect_eq "NEW tcp/80 rule (-i lan0) after server -> client" "$new_delta" "0:0"
rp_expect_delta "$stats0" "$STATS" filter_drop 2
rp_expect_eq "TCP segments the client received" "$((CLI_INSEGS - cli_insegs0))" 0
[[ ! -s $RP_TMP/cli-accepted ]] || rp_fail "the client's listener accepted: $(cat "$RP_TMP/cli-accepted")"

# ---- 4. without the ESTABLISHED,RELATED rule the replies are dropped
rp_write_filter_conf DROP "$new80"
out=$(rp_ctl reload) || exit 1
[[ $out =~ ^generation\ [0-9]+$ ]] || rp_fail "rampartctl reload printed '$out', want 'generation N'"
save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "rule 1 after the reload" "$(rp_filter_rule "$save" FORWARD 1)" "--dport 80"
[[ $(grep -c -- '-A FORWARD' <<<"$save") == 1 ]] || rp_fail "want 1 FORWARD rule after the reload:
$save"
snap
save0=$SAVE stats0=$STATS cli_insegs0=$CLI_INSEGS srv_insegs0=$SRV_INSEGS
out=$(in_cli curl -sS --max-time 2 -o /dev/null "http://$LAB_SRV_IP/blob" 2>&1)
rc=$?
rp_expect_eq "curl to :80 without the ESTABLISHED rule: exit status (output: $out)" "$rc" 28
sleep 0.3
# The server keeps retransmitting its SYN/ACK (1 s, 3 s, 7 s... after the
# first), so take a snapshot during which no counter moved.
for ((try = 0; try < 10; try++)); do
	snap
	again=$(rp_ctl rules --save) || exit 1
	[[ $again == "$SAVE" ]] && break
	sleep 0.2
done
[[ $again == "$SAVE" ]] || rp_fail "the counters never stood still"
rp_expect_eq "TCP segments the client received (the replies)" "$((CLI_INSEGS - cli_insegs0))" 0
new_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD 1)" "$(rp_filter_counter "$save0" FORWARD 1)") || exit 1
pol_delta=$(rp_counter_sub "$(rp_filter_counter "$SAVE" FORWARD policy)" "$(rp_filter_counter "$save0" FORWARD policy)") || exit 1
# The SYN passed (the server got it); whether the client's retransmitted SYN
# is NEW or ESTABLISHED once the SYN/ACK was seen, every SYN the NEW rule
# passed is one the server received.
((${new_delta%%:*} >= 1)) || rp_fail "the NEW rule passed no SYN (got $new_delta)"
rp_expect_eq "SYNs the server received = NEW rule packets" "$((SRV_INSEGS - srv_insegs0))" "${new_delta%%:*}"
((${pol_delta%%:*} >= 1)) || rp_fail "the policy dropped no reply (got $pol_delta)"
filter_drop=$(rp_delta "$stats0" "$STATS" filter_drop) || exit 1
rp_expect_eq "filter_drop = FORWARD policy packets" "$filter_drop" "${pol_delta%%:*}"
forwarded=$(rp_delta "$stats0" "$STATS" forwarded) || exit 1
rp_expect_eq "forwarded = NEW rule packets" "$forwarded" "${new_delta%%:*}"

rp_stop
rp_pass
