#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Start-up failures that only EAL can reveal are clear errors with their exit
# code, never a crash or a half-started daemon:
#  - an EAL memory limit below what the config needs names both figures (exit 4);
#  - a worker lcore that EAL was not given is named with its config line (exit 3);
#  - the config's `eal` list is used when the command line has no EAL options.
# The ports are net_null devices, so no lab is needed; EAL still wants root.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init startup_errors
[[ -x $RP_RAMPART ]] || rp_fail "no daemon at $RP_RAMPART (build first)"

cat >"$RP_CONF" <<EOF
ports = (
  { name = "lan0"; device = "net_null0"; address = [ "198.18.1.1/24" ]; },
  { name = "wan0"; device = "net_null1"; address = [ "198.19.1.1/24" ]; }
);
workers = { lcores = [ 1 ]; idle_sleep_us = 1000; };
control = { socket = "$RP_SOCK"; };
EOF
prefix=rp-startup-$$

# 64 MiB is far below the 128 MiB FIB alone.
out=$("$RP_RAMPART" -l 0,1 --no-huge -m 64 --file-prefix "$prefix" -- -c "$RP_CONF" 2>&1)
status=$?
rm -rf "/var/run/dpdk/$prefix"
rp_expect_eq "-m 64: exit status ($out)" "$status" 4
rp_expect_contains "-m 64" "$out" "the configuration needs"
rp_expect_contains "-m 64" "$out" "MiB of DPDK memory but EAL has"
rp_expect_contains "-m 64" "$out" "raise -m"
[[ $out == *"rampart: running"* ]] && rp_fail "-m 64: the daemon started"

# lcore 1 is a worker in the config, but EAL gets only lcore 0.
line=$(grep -n 'lcores' "$RP_CONF" | cut -d: -f1)
out=$("$RP_RAMPART" -l 0 --no-huge -m 512 --file-prefix "$prefix" -- -c "$RP_CONF" 2>&1)
status=$?
rm -rf "/var/run/dpdk/$prefix"
rp_expect_eq "-l 0: exit status ($out)" "$status" 3
rp_expect_contains "-l 0" "$out" "rampart.conf:$line: workers.lcores[0]"
rp_expect_contains "-l 0" "$out" "lcore 1"
[[ $out == *"rampart: running"* ]] && rp_fail "-l 0: the daemon started"

# EAL options from the config's `eal` list when the command line gives none:
# the same too-small memory, now asked for by the config.
sed -i "1i eal = [ \"-l\", \"0,1\", \"--no-huge\", \"-m\", \"64\", \"--file-prefix\", \"$prefix\" ];" "$RP_CONF"
out=$("$RP_RAMPART" -c "$RP_CONF" 2>&1)
status=$?
rm -rf "/var/run/dpdk/$prefix"
rp_expect_eq "eal from the config: exit status ($out)" "$status" 4
rp_expect_contains "eal from the config" "$out" "EAL -l 0,1 --no-huge -m 64 --file-prefix $prefix --vdev=net_null0"
rp_expect_contains "eal from the config" "$out" "the configuration needs"

rp_pass
