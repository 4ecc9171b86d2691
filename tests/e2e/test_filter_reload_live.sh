#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Replacing the ruleset under traffic:
#   - a 10 MB download at 2 MiB/s (the server paces it, so it runs ~5 s) across
#     a stateful ruleset (policy DROP, ESTABLISHED,RELATED, NEW tcp/8080
#     from lan0); `rampartctl reload` in the middle, to a ruleset that still
#     allows it (one more, unrelated rule): the download completes with the
#     same sha256 and the filter drops nothing;
#   - a bad reload (an unknown option) exits 1 with an error that names the
#     config file, the rule's line and the offending word; the running
#     ruleset stays (same rules listed) and still lets new connections in;
#   - SIGHUP reloads too (the new rule shows up in the listing);
#   - generations: each published ruleset takes the next one, a rejected
#     ruleset takes none.
#
# Assumptions about the implementation's output:
#   - `rampartctl reload` prints "generation N" and exits 0, or prints the
#     errors as "FILE:LINE: rule \"TEXT\": problem at \"WORD\""
#     (lib/filter/rampart_filter.h) and exits 1; FILE is the config's path
#     as given to the daemon with -c, LINE the line of the rule string;
#   - SIGHUP does what `rampartctl reload` does (its result goes to the log);
#   - `rampartctl rules --save` as `iptables-save -c` (see tests/e2e/lib.sh);
#   - `rampartctl stats --json` has the drop reason filter_drop.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init filter_reload_live
rp_lab_up

estab='-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT'
new8080='-A FORWARD -i lan0 -p tcp --dport 8080 -m state --state NEW -j ACCEPT'
rp_write_filter_conf DROP "$estab" "$new8080"
rp_start
rp_warm_up_local

mkdir -p "$RP_TMP/www"
head -c 10M /dev/urandom >"$RP_TMP/www/blob"
echo "small" >"$RP_TMP/www/small"
rp_http_serve_paced "$LAB_SRV" "$LAB_SRV_IP" 8080 "$RP_TMP/www" $((2 * 1024 * 1024)) ||
	rp_fail "HTTP server did not start"

# rules_only SAVE: the FORWARD rules without their counters.
rules_only() {
	sed -n 's/^\[[0-9]*:[0-9]*\] \(-A FORWARD .*\)/\1/p' <<<"$1"
}

# ---- 1. a reload during a rate-limited transfer (paced by the server rather
# than by curl --limit-rate: see rp_http_serve_paced)
stats0=$(rp_counters) || exit 1
in_cli curl -sS --fail --max-time 60 -o "$RP_TMP/got" \
	"http://$LAB_SRV_IP:8080/blob" 2>"$RP_TMP/curl.err" &
curl_pid=$!
sleep 2
kill -0 "$curl_pid" 2>/dev/null || rp_fail "the transfer ended before the reload: $(cat "$RP_TMP/curl.err")"
size=$(stat -c %s "$RP_TMP/got" 2>/dev/null || echo 0)
((size > 0 && size < 10 * 1024 * 1024)) || rp_fail "$size bytes arrived before the reload, want part of the file"
rp_write_filter_conf DROP "$estab" "$new8080" '-A FORWARD -p udp --dport 9999 -j ACCEPT'
out=$(rp_ctl reload) || exit 1
[[ $out =~ ^generation\ ([0-9]+)$ ]] || rp_fail "rampartctl reload printed '$out', want 'generation N'"
gen=${BASH_REMATCH[1]}
rp_info "reloaded to generation $gen with $size bytes transferred"
kill -0 "$curl_pid" 2>/dev/null || rp_fail "the transfer ended before the reload was published"
wait "$curl_pid" || rp_fail "the transfer failed across the reload: $(cat "$RP_TMP/curl.err")"
sleep 0.3
stats=$(rp_counters) || exit 1
rp_expect_eq "bytes received" "$(stat -c %s "$RP_TMP/got")" $((10 * 1024 * 1024))
rp_expect_eq "sha256 at the client vs the server" \
	"$(sha256sum <"$RP_TMP/got" | cut -d' ' -f1)" "$(sha256sum <"$RP_TMP/www/blob" | cut -d' ' -f1)"
rp_expect_delta "$stats0" "$stats" filter_drop 0
rp_expect_delta "$stats0" "$stats" drops_total 0
save=$(rp_ctl rules --save) || exit 1
[[ $(rules_only "$save" | wc -l) == 3 ]] || rp_fail "want 3 FORWARD rules after the reload:
$save"
rp_expect_contains "rule 3 after the reload" "$(rp_filter_rule "$save" FORWARD 3)" "--dport 9999"

# ---- 2. a bad reload: exit 1, the error points at the word; the old rules stay
good_rules=$(rules_only "$save")
rp_write_filter_conf DROP "$estab" "$new8080" '-A FORWARD -p tcp --dport 8443 --bogus-opt 1 -j ACCEPT'
line=$(grep -n -F -- '--bogus-opt' "$RP_CONF" | cut -d: -f1)
out=$("$RP_RAMPARTCTL" -S "$RP_SOCK" reload 2>&1)
rc=$?
rp_expect_eq "rampartctl reload of a bad ruleset: exit status (output: $out)" "$rc" 1
rp_info "the bad reload said: $out"
rp_expect_contains "the reload error" "$out" "$RP_CONF:$line:"
rp_expect_contains "the reload error" "$out" "--bogus-opt"
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "rules after the bad reload" "$(rules_only "$save")" "$good_rules"
new0=$(rp_filter_counter "$save" FORWARD 2) || exit 1
got=$(in_cli curl -sS --fail --max-time 10 "http://$LAB_SRV_IP:8080/small" 2>&1) ||
	rp_fail "a new connection after the bad reload failed: $got"
rp_expect_eq "small file after the bad reload" "$got" small
save=$(rp_ctl rules --save) || exit 1
rp_expect_eq "NEW tcp/8080 rule after one more connection" \
	"$(rp_counter_sub "$(rp_filter_counter "$save" FORWARD 2)" "$new0")" "1:60"

# ---- 3. SIGHUP reloads the file as rampartctl reload does
rp_write_filter_conf DROP "$estab" "$new8080" '-A FORWARD -p udp --dport 9998 -j ACCEPT'
kill -HUP "$LAB_PID" || rp_fail "could not send SIGHUP to the daemon"
for ((i = 0; i < 50; i++)); do
	save=$(rp_ctl rules --save) || exit 1
	[[ $save == *"--dport 9998"* ]] && break
	sleep 0.1
done
rp_expect_contains "rule 3 after SIGHUP" "$(rp_filter_rule "$save" FORWARD 3)" "--dport 9998"
kill -0 "$LAB_PID" 2>/dev/null || rp_fail "the daemon died on SIGHUP"
got=$(in_cli curl -sS --fail --max-time 10 "http://$LAB_SRV_IP:8080/small" 2>&1) ||
	rp_fail "a new connection after SIGHUP failed: $got"

# The SIGHUP ruleset took generation gen+1, the rejected one none.
out=$(rp_ctl reload) || exit 1
rp_expect_eq "generation after reload, bad reload, SIGHUP, reload" "$out" "generation $((gen + 2))"

rp_stop
rp_pass
