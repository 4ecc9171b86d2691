-- SPDX-License-Identifier: BSD-3-Clause
--
-- Zero-loss throughput of Rampart as the number of flows grows: Pktgen's range
-- mode steps the client address (198.18.1.2 and up) and the UDP source port
-- once per packet, so with A addresses and P ports the traffic cycles through
-- lcm(A, P) distinct 5-tuples. The default steps use coprime A and P, so
-- every (address, port) pair occurs:
--     253 x 1 = 253,  253 x 4 = 1012,  253 x 259 = 65527,  253 x 3953 = 1000109
-- Each step runs the same binary search as rfc2544_throughput.lua at one
-- frame size (RP_FRAME, default 64).
--
-- Run inside Pktgen (see README.md):
--   RP_LAN0_MAC=<rampart lan0 MAC> pktgen <EAL> -- -P -m "[1:2].0,[3:4].1" \
--       -f pktgen-scripts/many_flows.lua
-- Settings (environment): RP_FRAME, RP_FLOW_PORTS="1,4,259,3953" (source
-- ports per step), RP_FLOW_IPS=253 (client addresses, at most 253), and those
-- of rampart.lua.
--
-- Prints one line per trial, then per step a summary line and a JSON line
-- {"bench":"pktgen_flows","frame":64,"flows":65527,"rate_pct":..,"mpps":..,...}.

local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local rp = require("rampart")

rp.check()
local size = rp.int_list("RP_FRAME", { 64 })[1]
local n_ips = rp.int_list("RP_FLOW_IPS", { 253 })[1]
local port_steps = rp.int_list("RP_FLOW_PORTS", { 1, 4, 259, 3953 })
if n_ips > 253 then
	error("RP_FLOW_IPS: at most 253 clients fit in 198.18.1.2 .. 198.18.1.254")
end

rp.log("[flows] %s, Pktgen port %s -> rampart -> port %s, link %d Mbit/s, %dB frames",
	os.date("!%Y-%m-%dT%H:%M:%SZ"), rp.tx_port, rp.rx_port, rp.link_mbps(rp.tx_port), size)

local rows = {}
for _, n_ports in ipairs(port_steps) do
	if rp.number("RP_SPORT") + n_ports - 1 > 65535 then
		error(string.format("RP_FLOW_PORTS: %d ports from %d pass 65535", n_ports,
			rp.number("RP_SPORT")))
	end
	local flows = n_ips * n_ports // rp.gcd(n_ips, n_ports)
	rp.setup(n_ips, n_ports)
	rp.set_size(size)
	rp.use_range(true)
	rp.log("[flows] %d clients x %d source ports = %d flows", n_ips, n_ports, flows)
	local rate, best, trials, line_pps = rp.search(size, "flows")
	rp.report("pktgen_flows", size, flows, rate, best, trials, line_pps)
	rows[#rows + 1] = { flows = flows, rate = rate, mpps = best and best.rx_pps / 1e6 or 0 }
end

rp.use_range(false)
rp.log("[flows]    flows   rate %%   Mpps")
for _, row in ipairs(rows) do
	rp.log("[flows] %8d %7.3f %8.3f", row.flows, row.rate, row.mpps)
end
pktgen.stop("all")
