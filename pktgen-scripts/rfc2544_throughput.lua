-- SPDX-License-Identifier: BSD-3-Clause
--
-- RFC 2544 throughput (section 26.1) of Rampart, one flow, every Ethernet
-- frame size of section 9.1: for each size, a binary search on the offered
-- rate for the highest rate at which rampart forwards every frame.
--
-- Run inside Pktgen (see README.md for the cabling and rampart's config):
--   RP_LAN0_MAC=<rampart lan0 MAC> pktgen <EAL> -- -P -m "[1:2].0,[3:4].1" \
--       -f pktgen-scripts/rfc2544_throughput.lua
-- Settings (environment): RP_SIZES="64,1518" to test fewer sizes, and those of
-- rampart.lua (RP_TRIAL_MS, RP_LOSS_TOLERANCE, RP_PRECISION ...).
--
-- Prints one line per trial, then per frame size a summary line and a JSON
-- line {"bench":"pktgen_rfc2544","frame":64,"flows":1,"rate_pct":..,
-- "mpps":..,"gbps_l1":..,"gbps_l2":..,"line_mpps":..,"loss_pct":..,"trials":..};
-- everything is also appended to RP_RESULTS.

local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local rp = require("rampart")

rp.check()
local sizes = rp.int_list("RP_SIZES", rp.rfc2544_sizes)
rp.setup(1, 1)
rp.use_range(false)

rp.log("[rfc2544] %s, Pktgen port %s -> rampart -> port %s, link %d Mbit/s, %d ms trials",
	os.date("!%Y-%m-%dT%H:%M:%SZ"), rp.tx_port, rp.rx_port, rp.link_mbps(rp.tx_port),
	rp.number("RP_TRIAL_MS"))

local rows = {}
for _, size in ipairs(sizes) do
	rp.set_size(size)
	local rate, best, trials, line_pps = rp.search(size, "rfc2544")
	rp.report("pktgen_rfc2544", size, 1, rate, best, trials, line_pps)
	rows[#rows + 1] = { size = size, rate = rate, mpps = best and best.rx_pps / 1e6 or 0 }
end

rp.log("[rfc2544] frame   rate %%   Mpps")
for _, row in ipairs(rows) do
	rp.log("[rfc2544] %5d %7.3f %8.3f", row.size, row.rate, row.mpps)
end
pktgen.stop("all")
