#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# After traffic across, both hosts are in the appliance's neighbour table
# with their veths' MACs, as telemetry (/rampart/neighbours, read with
# dpdk-telemetry.py) and rampartctl show it.

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init neighbours
rp_lab_up
rp_start
rp_warm_up

cli_mac=$(rp_mac "$LAB_CLI" eth0) || exit 1
srv_mac=$(rp_mac "$LAB_SRV" eth0) || exit 1

# The line for ADDRESS, as "ip mac port state" (MAC and state in lower
# case, as `ip neigh` and the daemon may differ there), from the entries
# {"ip", "mac", "port", "state", ...} under KEY: a list, or a dict keyed by
# index (DPDK 22.11 telemetry cannot put a dict inside an array).
neigh_line() {
	python3 -c '
import json, sys
key, addr = sys.argv[1], sys.argv[2]
rows = json.load(sys.stdin)[key]
if isinstance(rows, dict):
    rows = list(rows.values())
for r in rows:
    if r["ip"] == addr:
        print(r["ip"], r["mac"].lower(), r["port"], r["state"].lower())
' "$1" "$2"
}

tel=$(rp_telemetry /rampart/neighbours) || exit 1
rp_expect_eq "telemetry: client" "$(neigh_line /rampart/neighbours "$LAB_CLI_IP" <<<"$tel")" \
	"$LAB_CLI_IP $cli_mac lan0 reachable"
rp_expect_eq "telemetry: server" "$(neigh_line /rampart/neighbours "$LAB_SRV_IP" <<<"$tel")" \
	"$LAB_SRV_IP $srv_mac wan0 reachable"

ctl=$(rp_ctl neighbours --json) || exit 1
rp_expect_eq "rampartctl: client" "$(neigh_line neighbours "$LAB_CLI_IP" <<<"$ctl")" \
	"$LAB_CLI_IP $cli_mac lan0 reachable"
rp_expect_eq "rampartctl: server" "$(neigh_line neighbours "$LAB_SRV_IP" <<<"$ctl")" \
	"$LAB_SRV_IP $srv_mac wan0 reachable"
rp_expect_eq "rampartctl: total" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <<<"$ctl")" 2

# The drops endpoint answers with every reason by name.
drops=$(rp_telemetry /rampart/drops) || exit 1
rp_expect_eq "telemetry /rampart/drops: ttl_exceeded" \
	"$(python3 -c 'import json,sys; print(json.load(sys.stdin)["/rampart/drops"]["ttl_exceeded"])' <<<"$drops")" 0

# Routes and ports: the connected subnets and both links, as telemetry shows them.
routes=$(rp_telemetry /rampart/routes) || exit 1
rp_expect_eq "telemetry /rampart/routes: connected lan0" \
	"$(python3 -c '
import json, sys
rows = json.load(sys.stdin)["/rampart/routes"].values()
print(" ".join(sorted(r["prefix"] + ":" + r["type"] + ":" + r["port"] for r in rows if r["origin"] == "connected")))
' <<<"$routes")" "198.18.1.0/24:direct:lan0 198.19.1.0/24:direct:wan0"
ports=$(rp_telemetry /rampart/ports) || exit 1
rp_expect_eq "telemetry /rampart/ports: links" \
	"$(python3 -c 'import json,sys; p=json.load(sys.stdin)["/rampart/ports"]; print(p["lan0"]["link"], p["wan0"]["link"])' <<<"$ports")" "up up"

rp_stop
rp_pass
