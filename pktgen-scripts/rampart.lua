-- SPDX-License-Identifier: BSD-3-Clause
--
-- Shared set-up for the Rampart scenarios (pktgen-scripts/README.md).
--
-- Not a scenario itself: rfc2544_throughput.lua and many_flows.lua load it
-- with require("rampart"). It holds the lab's addresses, reads the settings
-- from the environment, configures the two Pktgen ports and runs one timed
-- trial. Only documented Pktgen Lua calls are used: pktgen.set, set_mac,
-- set_ipaddr, set_type, set_proto, set_range, range.*, clr, start, stop,
-- delay, portStats and linkState.
--
-- Topology (one direction, as RFC 2544 measures a router):
--   Pktgen port TX (0) --> rampart lan0 (198.18.1.1/24)
--                          rampart wan0 (198.19.1.1/24) --> Pktgen port RX (1)

local M = {}

-- Settings: each can be overridden by the environment variable of the same
-- name, e.g. RP_LAN0_MAC=3c:fd:fe:00:00:01 pktgen ... -f rfc2544_throughput.lua
local defaults = {
	RP_TX_PORT = "0",             -- Pktgen port cabled to rampart lan0
	RP_RX_PORT = "1",             -- Pktgen port cabled to rampart wan0
	RP_LAN0_MAC = "",             -- rampart lan0's MAC: required (rampart logs it at start)
	RP_CLIENT_IP = "198.18.1.2",  -- first client address, inside lan0's 198.18.1.0/24
	RP_CLIENT_PREFIX = "24",
	RP_SERVER_IP = "198.19.1.2",  -- server behind wan0: rampart's static neighbour for Pktgen RX
	RP_SPORT = "1024",            -- first UDP source port
	RP_DPORT = "5001",            -- UDP destination port
	RP_TRIAL_MS = "10000",        -- length of one trial
	RP_SETTLE_MS = "2000",        -- wait after a trial before reading counters (RFC 2544: 2 s)
	RP_LOSS_TOLERANCE = "0",      -- accepted loss in percent of frames sent (RFC 2544: 0)
	RP_PRECISION = "0.5",         -- stop the search when the rate window is this narrow (% of line rate)
	RP_MAX_TRIALS = "16",         -- trials per search at most
	RP_RESULTS = "rampart-pktgen-results.txt", -- JSON lines are appended here too
}

--- Read a setting: the environment wins over the default.
function M.setting(name)
	local v = os.getenv(name)
	if v == nil or v == "" then
		v = defaults[name]
	end
	return v
end

function M.number(name)
	local v = tonumber(M.setting(name))
	if v == nil then
		error(string.format("%s=%q: expected a number", name, M.setting(name)))
	end
	return v
end

M.tx_port = M.setting("RP_TX_PORT")
M.rx_port = M.setting("RP_RX_PORT")
M.tx_pid = tonumber(M.tx_port)
M.rx_pid = tonumber(M.rx_port)

-- RFC 2544 section 9.1 frame sizes for Ethernet, FCS included (Pktgen counts
-- the FCS in "size" as well).
M.rfc2544_sizes = { 64, 128, 256, 512, 1024, 1280, 1518 }

-- Per-frame overhead on the wire besides the frame: preamble + SFD (8) and
-- the inter-frame gap (12).
local WIRE_OVERHEAD = 20

local results_file = nil

--- Print a line on the Pktgen console and append it to RP_RESULTS.
function M.log(fmt, ...)
	local line = string.format(fmt, ...)
	print(line)
	if results_file == nil then
		results_file = io.open(M.setting("RP_RESULTS"), "a")
	end
	if results_file ~= nil then
		results_file:write(line, "\n")
		results_file:flush()
	end
end

--- One JSON object on one line, keys in the order given by @p keys.
function M.json(keys, values)
	local parts = {}
	for _, k in ipairs(keys) do
		local v = values[k]
		local text
		if v == nil then
			text = "null"
		elseif type(v) == "string" then
			text = string.format("%q", v)
		elseif type(v) == "boolean" then
			text = tostring(v)
		elseif math.type(v) == "integer" then
			text = string.format("%d", v)
		else
			text = string.format("%.4f", v)
		end
		parts[#parts + 1] = string.format("%q:%s", k, text)
	end
	return "{" .. table.concat(parts, ",") .. "}"
end

--- Link speed of a port in Mbit/s, from Pktgen's "<UP-10000-FD>" string.
function M.link_mbps(port)
	local state = pktgen.linkState(port)[tonumber(port)]
	local mbps = state and tonumber(string.match(state, "(%d+)"))
	if mbps == nil or mbps == 0 then
		error(string.format("port %s: link is not up (%s)", port, tostring(state)))
	end
	return mbps
end

--- Frames per second at 100% of the link for a frame size (FCS included).
function M.line_rate_pps(size, mbps)
	return mbps * 1e6 / ((size + WIRE_OVERHEAD) * 8)
end

--- Call a setter that older Pktgen releases lack (their defaults are the
--- same: TTL 64); a missing one is logged, not fatal.
local function optional(name, f, ...)
	local ok, err = pcall(f, ...)
	if not ok then
		print(string.format("[rampart] note: %s not available in this Pktgen (%s)", name, tostring(err)))
	end
end

local function fail(msg)
	M.log("[rampart] ERROR: %s", msg)
	error(msg, 0)
end

--- Check the settings that have no usable default.
function M.check()
	if not string.match(M.setting("RP_LAN0_MAC"), "^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
		fail("set RP_LAN0_MAC to rampart lan0's MAC (the daemon prints it at start: " ..
			"\"port lan0: ... MAC xx:xx:xx:xx:xx:xx\")")
	end
	if M.tx_pid == nil or M.rx_pid == nil or M.tx_pid == M.rx_pid then
		fail("RP_TX_PORT and RP_RX_PORT must be two different port numbers")
	end
	-- rampart reaches the RX port through its static neighbour entry: show
	-- the MAC that entry must carry (pktStats has it in recent releases)
	local ok, stats = pcall(pktgen.pktStats, M.rx_port)
	local mac = ok and type(stats) == "table" and stats[M.rx_pid] and stats[M.rx_pid].mac_addr
	if mac then
		M.log("[rampart] Pktgen RX port %s has MAC %s: rampart's neighbour %s must carry it",
			M.rx_port, mac, M.setting("RP_SERVER_IP"))
	end
end

--- Configure the single-packet template of the TX port (one flow) and the
--- range template with @p n_ips client addresses x @p n_sports source ports.
--- Range mode is left off; M.use_range switches it.
function M.setup(n_ips, n_sports)
	local tx, lan0_mac = M.tx_port, M.setting("RP_LAN0_MAC")
	local client, server = M.setting("RP_CLIENT_IP"), M.setting("RP_SERVER_IP")
	local sport, dport = M.number("RP_SPORT"), M.number("RP_DPORT")

	pktgen.stop("all")
	pktgen.set_range("all", "off")

	-- single packet: UDP/IPv4 from the first client to the server
	pktgen.set_type(tx, "ipv4")
	pktgen.set_proto(tx, "udp")
	pktgen.set_mac(tx, "dst", lan0_mac)
	pktgen.set_ipaddr(tx, "src", client .. "/" .. M.setting("RP_CLIENT_PREFIX"))
	pktgen.set_ipaddr(tx, "dst", server)
	pktgen.set(tx, "sport", sport)
	pktgen.set(tx, "dport", dport)
	optional("set ttl", pktgen.set, tx, "ttl", 64)
	pktgen.set(tx, "burst", 32)
	pktgen.set(tx, "count", 0) -- send until stopped

	-- range: every field steps once per packet and wraps at its max, so the
	-- number of distinct flows is lcm(n_ips, n_sports)
	local a, b, c, d = string.match(client, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	local first = ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
	local last = first + n_ips - 1
	local last_ip = string.format("%d.%d.%d.%d", last >> 24, (last >> 16) & 255,
		(last >> 8) & 255, last & 255)
	if (first >> 8) ~= (last >> 8) or (last & 255) == 255 then
		fail(string.format("%d clients from %s leave the /24 or reach its broadcast address",
			n_ips, client))
	end
	pktgen.range.ip_proto(tx, "udp")
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.dst_mac(tx, what, lan0_mac)
		pktgen.range.dst_ip(tx, what, server)
		pktgen.range.dst_port(tx, what, dport)
		optional("range.ttl", pktgen.range.ttl, tx, what, 64)
	end
	pktgen.range.dst_mac(tx, "inc", "00:00:00:00:00:00")
	pktgen.range.dst_ip(tx, "inc", "0.0.0.0")
	pktgen.range.dst_port(tx, "inc", 0)
	optional("range.ttl", pktgen.range.ttl, tx, "inc", 0)
	pktgen.range.src_ip(tx, "start", client)
	pktgen.range.src_ip(tx, "min", client)
	pktgen.range.src_ip(tx, "max", last_ip)
	pktgen.range.src_ip(tx, "inc", n_ips > 1 and "0.0.0.1" or "0.0.0.0")
	pktgen.range.src_port(tx, "start", sport)
	pktgen.range.src_port(tx, "min", sport)
	pktgen.range.src_port(tx, "max", sport + n_sports - 1)
	pktgen.range.src_port(tx, "inc", n_sports > 1 and 1 or 0)

	-- the RX port only counts what rampart forwards
	pktgen.stop(M.rx_port)
end

--- Send from the range template (true) or the single packet (false).
function M.use_range(on)
	pktgen.set_range(M.tx_port, on and "on" or "off")
end

--- Set the frame size (FCS included) for both templates.
function M.set_size(size)
	pktgen.set(M.tx_port, "size", size)
	for _, what in ipairs({ "start", "min", "max" }) do
		pktgen.range.pkt_size(M.tx_port, what, size)
	end
	pktgen.range.pkt_size(M.tx_port, "inc", 0)
end

--- One trial: send at @p rate_pct of the link for RP_TRIAL_MS, wait
--- RP_SETTLE_MS for frames still in flight, then count.
--- @return a table: sent, received, lost, loss_pct, tx_pps, rx_pps
function M.trial(rate_pct)
	local trial_ms, settle_ms = M.number("RP_TRIAL_MS"), M.number("RP_SETTLE_MS")

	pktgen.stop("all")
	pktgen.set(M.tx_port, "rate", rate_pct)
	pktgen.delay(500)
	pktgen.clr()
	pktgen.delay(100)
	pktgen.start(M.tx_port)
	pktgen.delay(trial_ms)
	pktgen.stop(M.tx_port)
	pktgen.delay(settle_ms)

	local sent = pktgen.portStats(M.tx_port, "port")[M.tx_pid].opackets
	local received = pktgen.portStats(M.rx_port, "port")[M.rx_pid].ipackets
	-- the RX port may also see frames rampart did not forward for us (an
	-- LLDP frame from a switch): never count a negative loss
	local lost = math.max(sent - received, 0)
	local r = {
		sent = sent,
		received = received,
		lost = lost,
		loss_pct = sent > 0 and 100.0 * lost / sent or 100.0,
		tx_pps = sent / (trial_ms / 1000),
		rx_pps = math.min(received, sent) / (trial_ms / 1000),
	}
	return r
end

--- Binary search for the highest rate (% of the link) with loss within
--- RP_LOSS_TOLERANCE (RFC 2544 section 26.1). The first trial runs at 100%.
--- @return best rate, the trial at that rate (nil if none passed), trials run
function M.search(size, label)
	local tolerance = M.number("RP_LOSS_TOLERANCE")
	local precision = M.number("RP_PRECISION")
	local max_trials = M.number("RP_MAX_TRIALS")
	local mbps = M.link_mbps(M.tx_port)
	local line_pps = M.line_rate_pps(size, mbps)
	local lo, hi, rate = 0.0, 100.0, 100.0
	local best = nil
	local n = 0

	while n < max_trials do
		n = n + 1
		local r = M.trial(rate)
		local pass = r.loss_pct <= tolerance
		-- a generator that cannot offer the rate asked for makes the trial
		-- meaningless: say so rather than report a rate nobody sent
		local offered = line_pps * rate / 100
		local short = r.tx_pps < 0.98 * offered
		M.log("[%s] %4dB trial %2d: rate %7.3f%% sent %d received %d loss %.4f%% -> %s%s",
			label, size, n, rate, r.sent, r.received, r.loss_pct, pass and "pass" or "fail",
			short and string.format(" (Pktgen offered only %.3f Mpps of %.3f)",
				r.tx_pps / 1e6, offered / 1e6) or "")
		if pass then
			lo = rate
			best = r
			best.rate = rate
		else
			hi = rate
		end
		if pass and rate >= 100.0 then
			break
		end
		if hi - lo <= precision then
			break
		end
		rate = (lo + hi) / 2
	end
	return lo, best, n, line_pps
end

--- Log the result of one search as a table row and a JSON line.
function M.report(bench, size, flows, rate, best, trials, line_pps)
	local rx_pps = best and best.rx_pps or 0
	local values = {
		bench = bench,
		frame = size,
		flows = flows,
		rate_pct = rate,
		mpps = rx_pps / 1e6,
		gbps_l1 = rx_pps * (size + WIRE_OVERHEAD) * 8 / 1e9,
		gbps_l2 = rx_pps * size * 8 / 1e9,
		line_mpps = line_pps / 1e6,
		loss_pct = best and best.loss_pct or nil,
		trials = trials,
	}
	M.log("[%s] %4dB %8d flows: %7.3f%% of line rate, %8.3f Mpps, %7.3f Gbit/s (L1)",
		bench, size, flows, rate, values.mpps, values.gbps_l1)
	M.log("%s", M.json({ "bench", "frame", "flows", "rate_pct", "mpps", "gbps_l1", "gbps_l2",
		"line_mpps", "loss_pct", "trials" }, values))
end

--- Greatest common divisor, for the number of distinct flows of a range.
function M.gcd(a, b)
	while b ~= 0 do
		a, b = b, a % b
	end
	return a
end

--- A comma-separated list of integers from a setting, or @p default.
function M.int_list(name, default)
	local text = os.getenv(name)
	if text == nil or text == "" then
		return default
	end
	local list = {}
	for item in string.gmatch(text, "[^,]+") do
		local v = tonumber(item)
		if v == nil or math.type(v) ~= "integer" or v <= 0 then
			error(string.format("%s=%q: expected positive integers separated by commas", name, text))
		end
		list[#list + 1] = v
	end
	return list
end

return M
