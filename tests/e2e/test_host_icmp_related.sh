#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# An ICMP error about one of the box's own connections is RELATED (issue 5,
# item 4). The box (a UDP socket in the FW namespace, connected to the
# server's port 5354 where nothing listens) sends "probe"; the server's
# kernel answers with an ICMP port unreachable quoting it (20 + 8 + 20 + 8 +
# 5 = 61 bytes). INPUT policy DROP, OUTPUT policy ACCEPT:
#   - with only `-A INPUT -m state --state ESTABLISHED -j ACCEPT` the error is
#     not ESTABLISHED: the INPUT policy drops it, the socket hears nothing
#     (timeout) and the box's kernel counts no ICMP destination unreachable;
#   - with `-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT` (a
#     reload) it is delivered: the socket gets ECONNREFUSED, the rule counts
#     it (1 packet, 61 bytes), the box's kernel counts one InDestUnreachs.
# The probe itself leaves through OUTPUT (policy ACCEPT: 1 packet, 33 bytes)
# both times, and the server sends its error both times.
#
# Assumptions about the implementation's output (see tests/e2e/lib.sh):
#   - `rampartctl rules --save` as `iptables-save -c`, rules by position,
#     byte counters count the IP packet;
#   - `rampartctl reload` prints "generation N".

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
rp_test_init host_icmp_related
rp_lab_up

rp_write_host_conf DROP ACCEPT '-A INPUT -m state --state ESTABLISHED -j ACCEPT'
rp_start
rp_host_wait
if in_srv ss -Hlun "sport = :5354" | grep -q .; then
	rp_fail "something listens on UDP 5354 in the server"
fi

# probe NAME WANT PLACE: one probe; the socket must report WANT and INPUT's
# PLACE (a rule number or "policy") must count the ICMP error.
probe() {
	local save0 save srv_err0 fw_unreach0 out
	save0=$(rp_ctl rules --save) || exit 1
	srv_err0=$(rp_snmp "$LAB_SRV" Icmp OutDestUnreachs) || exit 1
	fw_unreach0=$(rp_snmp "$LAB_FW" Icmp InDestUnreachs) || exit 1
	out=$(rp_udp_ask "$LAB_FW" "$LAB_SRV_IP" 5354 probe) || rp_fail "$1: the UDP probe failed: $out"
	rp_expect_eq "$1: the box's UDP socket" "$out" "$2"
	sleep 0.3
	save=$(rp_ctl rules --save) || exit 1
	rp_expect_eq "$1: ICMP errors the server sent" "$(($(rp_snmp "$LAB_SRV" Icmp OutDestUnreachs) - srv_err0))" 1
	rp_expect_eq "$1: OUTPUT policy (ACCEPT) for the probe" "$(rp_rule_delta "$save0" "$save" OUTPUT policy)" "1:33"
	rp_expect_eq "$1: INPUT $3 for the ICMP error" "$(rp_rule_delta "$save0" "$save" INPUT "$3")" "1:61"
	if [[ $3 == policy ]]; then
		rp_expect_eq "$1: INPUT rule 1" "$(rp_rule_delta "$save0" "$save" INPUT 1)" "0:0"
		rp_expect_eq "$1: ICMP unreachables the box's kernel received" \
			"$(($(rp_snmp "$LAB_FW" Icmp InDestUnreachs) - fw_unreach0))" 0
	else
		rp_expect_eq "$1: INPUT policy" "$(rp_rule_delta "$save0" "$save" INPUT policy)" "0:0"
		rp_expect_eq "$1: ICMP unreachables the box's kernel received" \
			"$(($(rp_snmp "$LAB_FW" Icmp InDestUnreachs) - fw_unreach0))" 1
	fi
}

probe "ESTABLISHED only" timeout policy

rp_write_host_conf DROP ACCEPT '-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'
rp_reload
save=$(rp_ctl rules --save) || exit 1
rp_expect_contains "INPUT rule 1 after the reload" "$(rp_filter_rule "$save" INPUT 1)" "--state RELATED,ESTABLISHED"
probe "ESTABLISHED,RELATED" refused 1

rp_stop
rp_pass
