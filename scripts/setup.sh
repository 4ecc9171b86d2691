#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare a Debian 12 machine to build, test and run Rampart: install every
# package the build, the tests and the lab need, and reserve 2 MB hugepages
# where the machine allows. Idempotent: a second run installs nothing,
# changes nothing and prints nothing.
#
# Usage: sudo scripts/setup.sh
# Environment:
#   RP_HUGEPAGES  2 MB pages to reserve (default 512 = 1 GiB; 0 = leave alone)

set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "setup.sh: must run as root (sudo $0)" >&2
	exit 1
fi

# What each group is for; keep this list the single place that says what
# a fresh machine needs.
packages=(
	# build
	build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
	dpdk dpdk-dev libdpdk-dev libconfig-dev libjemalloc-dev
	# the PMDs the lab and benchmarks open (the dpdk package only recommends them)
	librte-net-af-packet23 librte-net-null23 librte-net-pcap23
	librte-net-ring23 librte-net-tap23 librte-mempool-ring23
	# lab and end-to-end tests: namespaces, veths, offloads, traffic, checks
	iproute2 nftables ethtool iputils-ping curl netcat-openbsd python3 procps coreutils
	# the FTP helper's end-to-end tests (tests/e2e/test_ftp_*.sh): an FTP server
	python3-pyftpdlib
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -q -y "${missing[@]}"
fi

# Hugepages are an optimisation, not a requirement: when none can be had the
# lab starts the daemon with "--no-huge -m 512" (scripts/lab.sh decides at
# start time from free_hugepages), so nothing here may fail the script.
hp_dir=/sys/kernel/mm/hugepages/hugepages-2048kB
want=${RP_HUGEPAGES:-512}
if [[ -d $hp_dir && $want -gt 0 ]]; then
	have=$(<"$hp_dir/nr_hugepages")
	if ((have < want)); then
		if echo "$want" 2>/dev/null >"$hp_dir/nr_hugepages"; then
			got=$(<"$hp_dir/nr_hugepages")
		else
			got=$have
		fi
		echo "setup.sh: 2 MB hugepages: asked for $want, the kernel gave $got"
	fi
	if ! grep -qs ' hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		if mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null; then
			echo "setup.sh: mounted hugetlbfs on /dev/hugepages"
		else
			echo "setup.sh: could not mount hugetlbfs; the lab will use --no-huge -m 512"
		fi
	fi
	free=$(<"$hp_dir/free_hugepages")
	if ((free < 256)) && ((have < want)); then
		echo "setup.sh: only $free free 2 MB pages; the lab will use --no-huge -m 512"
	fi
fi
