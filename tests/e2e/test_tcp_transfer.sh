#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# 20 MB over TCP across the appliance: an HTTP server in the server
# namespace, curl in the client; the file must arrive with the same sha256.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init tcp_transfer
rp_lab_up
rp_start
rp_warm_up

mkdir -p "$RP_TMP/www"
head -c 20M /dev/urandom >"$RP_TMP/www/blob"
lab_http_serve "$LAB_SRV" "$LAB_SRV_IP" 8080 "$RP_TMP/www" || rp_fail "HTTP server did not start"

before=$(rp_counters) || exit 1
in_cli curl -sS --fail --max-time 120 -o "$RP_TMP/got" \
	-w 'tcp_transfer: %{size_download} bytes in %{time_total} s\n' \
	"http://$LAB_SRV_IP:8080/blob" || rp_fail "curl across the appliance failed"
after=$(rp_counters) || exit 1

rp_expect_eq "bytes received" "$(stat -c %s "$RP_TMP/got")" $((20 * 1024 * 1024))
rp_expect_eq "sha256 at the client vs the server" \
	"$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)" "$(sha256sum <"$RP_TMP/www/blob" | cut -d' ' -f1)"

# At least one forwarded packet per full-sized segment (1448 bytes of data
# with timestamps) plus the ACKs; TCP may retransmit, so this is a floor.
forwarded=$(rp_delta "$before" "$after" forwarded) || exit 1
segments=$((20 * 1024 * 1024 / 1448))
((forwarded > segments)) || rp_fail "forwarded $forwarded packets, want more than $segments data segments"
rp_info "forwarded $forwarded packets"

rp_stop
rp_pass
