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
# memory.size_mb: every value in its documented range runs or is refused at
# --check (EAL 22.11 died of SIGSEGV at the old maximum, 1048576, and failed at
# 524288); the largest this machine accepts runs. Without hugepages EAL maps
# all of -m when it starts and keeps 12 MB of page table per GB of it.
ram=$(( $(getconf _PHYS_PAGES) * $(getconf PAGE_SIZE) >> 20 ))
size_cfg() {   # size_cfg NAME MB
	fwd_cfg "$T/c.json" "$(inst "$1")" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0" \
		"{ \"hugepages\": \"no\", \"size_mb\": $2 }"
}
for mb in 65537 1048576; do
	size_cfg big "$mb"
	set +e; "$BELTLINED" --check "$T/c.json" > /dev/null 2> "$T/err"; rc=$?; set -e
	eq "size_mb $mb: refused at --check" "$rc" 2
	check "size_mb $mb: the message gives the range" grep -q "memory.size_mb: must be 16..65536" "$T/err"
done
size_cfg max 65536
set +e; "$BELTLINED" --check "$T/c.json" > /dev/null 2> "$T/err"; rc=$?; set -e
if [ "$ram" -lt 65536 ]; then
	eq "size_mb 65536 (the maximum) on $ram MB: refused at --check" "$rc" 2
	check "size_mb 65536: the message says what this machine has" \
		grep -q "memory.size_mb: 65536 MB is more memory than this machine has ($ram MB).*at most $ram" "$T/err"
	size_cfg max "$ram"
else
	eq "size_mb 65536 (the maximum): --check accepts it" "$rc" 0
fi
run_mem_at() { "$BELTLINED" --exit-idle 200 --stats-interval 0 "$T/c.json" > "$T/r.json" 2> "$T/err"; }
if run_mem_at; then ok "size_mb $(jq .memory.size_mb "$T/c.json") (the most accepted here): runs"
else bad "size_mb $(jq .memory.size_mb "$T/c.json"): exit $?: $(tail -2 "$T/err")"; fi
eq "size_mb at the most: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000

# A pool bigger than the machine, with size_mb computed from it: refused at
# --check, naming the key to change.
fwd_cfg "$T/c.json" "$(inst pool)" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0" \
	'{ "hugepages": "no" }'
jq '.mbufs = { "count": 67108864, "data_room": 65535 }' "$T/c.json" > "$T/c2.json"
set +e; "$BELTLINED" --check "$T/c2.json" > /dev/null 2> "$T/err"; rc=$?; set -e
eq "mbufs.count 67108864 of 65535 bytes on ordinary memory: refused at --check" "$rc" 2
check "  ... naming mbufs.count" grep -q "^mbufs.count: a pool of 67108864 mbufs .* lower mbufs.count" "$T/err"

# EAL's runtime folder is removed when EAL fails to start (here: an address
# space too small for -m) and when beltlined is killed while EAL starts: the
# reaper is told the folder before EAL makes it.
eal_dir() {   # where EAL 22.11 puts bl_INSTANCE (as beltlined runs it here)
	if [ -n "${RUNTIME_DIRECTORY:-}" ]; then echo "$RUNTIME_DIRECTORY/dpdk/bl_$1"
	elif [ "$(id -u)" -eq 0 ]; then echo "/var/run/dpdk/bl_$1"
	else echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/bl_$1"; fi
}
gone_soon() {   # gone_soon DIR: true once DIR is gone (the reaper runs after beltlined)
	for _ in $(seq 1 100); do [ -e "$1" ] || return 0; sleep 0.1; done
	return 1
}
i=$(inst ealfail)
size_cfg ealfail 2048
# (not "ldd | grep -q": under pipefail, grep leaving early makes ldd die of
# SIGPIPE and the sanitizer build looked like a plain one now and then)
if grep -q libasan <<< "$(ldd "$BELTLINED")"; then
	echo "note: a sanitizer build cannot run in a 1 GB address space: EAL failing not exercised"
else
	set +e
	(ulimit -v 1000000; exec "$BELTLINED" -q --exit-idle 200 "$T/c.json" > /dev/null 2> "$T/err")
	rc=$?; set -e
	eq "EAL cannot map 2048 MB in a 1 GB address space: exit status" "$rc" 1
	check "  ... says EAL failed" grep -q "EAL failed to start" "$T/err"
	check "  ... leaves no $(eal_dir "$i")" gone_soon "$(eal_dir "$i")"
fi

i=$(inst ealkill)
size_cfg ealkill 16384
"$BELTLINED" -q --exit-idle 200 "$T/c.json" > /dev/null 2> "$T/err" &
pid=$!
# Wait for EAL's folder, then kill while EAL maps memory (before its lcore threads exist).
for _ in $(seq 1 300); do [ -d "$(eal_dir "$i")" ] && break; sleep 0.01; done
inside=no
if [ -d "$(eal_dir "$i")" ] && ! grep -q "^rte-worker" /proc/$pid/task/*/comm 2>/dev/null; then inside=yes; fi
kill -KILL $pid; wait $pid 2>/dev/null || true
if [ "$inside" = yes ]; then
	check "killed inside EAL's start: the reaper removes $(eal_dir "$i")" gone_soon "$(eal_dir "$i")"
else
	echo "note: could not catch EAL starting (the machine is busy?): kill inside EAL not exercised"
	gone_soon "$(eal_dir "$i")" || true
fi
finish
