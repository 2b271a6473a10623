#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hugepages or not: both paths run, and the choice is said in one log line.
. "$(dirname "$0")/lib.sh"

run_mem() {   # run_mem NAME MEMORY-JSON [runner...]
	local name=$1 mem=$2; shift 2
	fwd_cfg "$T/c.json" "$(inst "$name")" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0" "$mem"
	chmod 0755 "$T"; chmod 0644 "$T/c.json"
	"$@" "$BELTLINED" --exit-idle 200 --stats-interval 0 "$T/c.json" > "$T/r.json" 2> "$T/err"
}

run_mem nohuge '{ "hugepages": "no" }'
check "hugepages=no: says it runs on ordinary memory" grep -q "memory: ordinary memory" "$T/err"
eq "hugepages=no: exactly one memory line" "$(grep -c 'beltlined: memory:' "$T/err")" 1
eq "hugepages=no: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000
eq "hugepages=no: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0

# As an ordinary user (no hugepages for them) with "auto": falls back.
run_mem user '{ "hugepages": "auto" }' setpriv --reuid=nobody --regid=nogroup --clear-groups
check "non-root auto: says why it runs on ordinary memory" grep -q "not running as root.*ordinary memory" "$T/err"
eq "non-root auto: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000
eq "non-root auto: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0

free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
if [ "$(id -u)" -eq 0 ] && [ "$free" -ge 128 ]; then
	run_mem huge '{ "hugepages": "yes" }'
	check "hugepages=yes: says it uses hugepages" grep -q "memory: hugepages" "$T/err"
	eq "hugepages=yes: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000
	eq "hugepages=yes: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
	run_mem auto '{ "hugepages": "auto" }'
	check "root auto with free hugepages: uses them" grep -q "memory: hugepages" "$T/err"
else
	echo "note: $free free 2 MB hugepages or not root: the hugepage path is not exercised here"
	# "yes" without enough hugepages is a config error, not a crash.
	set +e; run_mem huge '{ "hugepages": "yes" }'; rc=$?; set -e
	eq "hugepages=yes without hugepages: exit status" "$rc" 2
fi
finish
