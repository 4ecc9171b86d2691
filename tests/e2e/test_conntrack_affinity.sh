#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Flow affinity with two workers on a two-queue af_packet device (no RSS:
# the kernel fans flows out to the queues, so the software hash decides and
# packets seen by the wrong worker are handed over). A TCP transfer shows
# exactly one connection, on one worker, with both directions counted; eleven
# more connections between the same two hosts land on that same worker
# (affinity is by address pair), whichever queues the kernel fans them to.
# Two polling workers on a two-CPU machine are slow, not wrong: this is a
# functional test.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init conntrack_affinity
rp_lab_up
rp_write_conf "$RP_CONF"
sed -i -e 's/iface=\([a-z-]*\)"/iface=\1,qpairs=2"/' \
	-e 's/^workers = .*/workers = { lcores = [ 1, 2 ]; idle_sleep_us = 200; };/' "$RP_CONF"
export LAB_LCORES="--lcores 0@0,1@0,2@1"
rp_start
rp_warm_up
rp_ctl conntrack -F >/dev/null || exit 1

mkdir -p "$RP_TMP/www"
head -c 4M /dev/urandom >"$RP_TMP/www/blob"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8080 "$RP_TMP/www" || rp_fail "HTTP server did not start"
in_cli curl -sS --fail --max-time 120 -o "$RP_TMP/got" "http://$LAB_SRV_IP:8080/blob" ||
	rp_fail "curl across the appliance failed"
rp_expect_eq "sha256" "$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)" \
	"$(sha256sum <"$RP_TMP/www/blob" | cut -d' ' -f1)"

json=$(rp_ctl conntrack --json -p tcp) || exit 1
rp_expect_eq "tcp connections" "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["connections"]))' <<<"$json")" 1
read -r worker orig reply < <(python3 -c '
import json, sys
c = json.load(sys.stdin)["connections"][0]
print(c["worker"], c["packets"][0], c["packets"][1])' <<<"$json")
((orig > 100 && reply > 2000)) || rp_fail "packets counted: original $orig, reply $reply"
rp_info "one connection on worker $worker: $orig packets out, $reply back"

for i in $(seq 11); do
	in_cli curl -sS --fail --max-time 30 -o /dev/null "http://$LAB_SRV_IP:8080/blob" ||
		rp_fail "curl $i across the appliance failed"
done
json=$(rp_ctl conntrack --json -p tcp) || exit 1
rp_expect_eq "12 connections, all on worker $worker, each counted both ways" "$(python3 -c '
import json, sys
c = json.load(sys.stdin)["connections"]
print(len(c), sorted({x["worker"] for x in c}), all(x["packets"][0] > 0 and x["packets"][1] > 0 for x in c))' <<<"$json")" \
	"12 [$worker] True"

tel=$(rp_telemetry /rampart/conntrack) || exit 1
read -r out in < <(python3 -c '
import json, sys
d = json.load(sys.stdin)["/rampart/conntrack"]
print(d["handoff_out"], d["handoff_in"])' <<<"$tel")
rp_expect_eq "handoffs out == in" "$out" "$in"
rp_info "handoffs: $out"

rp_stop
rp_pass
