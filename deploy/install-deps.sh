#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages Beltline builds, tests and benchmarks with,
# when any is missing. Needs root (or password-less sudo) only if it installs.
set -euo pipefail

pkgs=(build-essential pkg-config meson ninja-build
      dpdk dpdk-dev libdpdk-dev libbsd-dev libcjson-dev libcriterion-dev libpcap-dev
      tcpdump jq iproute2 util-linux python3 gdb
      libmicrohttpd-dev prometheus curl   # beltline exporter; promtool and curl check it
      tshark                         # reads back the pcapng the pcap filter writes
      nfdump pmacct   # flow: the IPFIX collectors tests/integration/flow.sh checks against
      tcpflow         # tcpstream: the reference tests/integration/tcpstream.sh and its bench compare with
      libsystemd-dev systemd      # Type=notify, the journal; systemd-analyze verify (tests)
      scdoc                       # the man pages (man/*.scd)
      libfuse3-dev fuse3          # beltline mount: the running graph as a filesystem
      python3-jsonschema          # config/beltline.schema.json (tests/unit/schema.sh)
      libnetfilter-queue-dev iptables   # bench/verdict_vs_nfqueue.sh
      clang-14 libclang-rt-14-dev)   # the fuzz harnesses (tests/fuzz/run.sh)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif sudo -n true 2>/dev/null; then
	as_root=(sudo -n)
else
	echo "install-deps: not root and no password-less sudo: install these first: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "install-deps: done"
