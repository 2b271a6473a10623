#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# FABLE's comparison (issue 12 point 5): between two processes pinned to CPUs 0 and 1,
# messages of 64 B, 4 KiB and 64 KiB, every one verified by the reader (sequence number
# and a checksum over the whole message): throughput (messages/s, GB/s) and ping-pong
# latency (median and p99, one way) of a Beltline endpoint (spinning; sleeping on its fd),
# a pipe, a Unix stream socket and TCP over loopback, in one run, with the endpoint's
# ratios to the Unix socket. Targets: at 64 B >= 10x the Unix socket's messages/s;
# spinning ping-pong < 1 us one way; at 64 KiB >= 3x the Unix socket's GB/s.
# Each row also says what one cache line took to move between CPUs 0 and 1 just before it
# (bench/line_pingpong: every transport moves its messages between the two; on a VM that
# changes while it runs, 52 or 250 ns on the machine of docs/performance.md), and a ratio
# whose two rows saw different placements (near: <= 100 ns, far) is marked so.
# About 15 s with no variable; SMOKE=1 a shorter run. Usage: bench/ipc.sh [BUILD_DIR]
. "$(dirname "$0")/lib.sh"
ipc=$build/bench/ipc
# FULL=1: 2 s and 20000 round trips per row; the default a quarter of that.
secs=$([ "${SMOKE:-0}" = 1 ] && echo 0.3 || { [ "${FULL:-0}" = 1 ] && echo 2 || echo 0.5; })
pings=$([ "${SMOKE:-0}" = 1 ] && echo 2000 || { [ "${FULL:-0}" = 1 ] && echo 20000 || echo 5000; })
I=ipc$$
cat > "$tmp/c.json" <<JSON
{ "instance": "$I", "idle_sleep_us": 1000,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=idle | drop" ] } ] }
JSON
"$beltlined" -q --duration 600 "$tmp/c.json" > /dev/null 2> "$tmp/err" &
bpid=$!
bench_cleanup() { kill -TERM "$bpid" 2> /dev/null || true; wait "$bpid" 2> /dev/null || true; }
for _ in $(seq 200); do [ -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" ] && break; sleep 0.05; done
echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $secs s of throughput and $pings round trips per row"
line_ns() { "$build/bench/line_pingpong" 0 1 2> /dev/null | sed -n 's/^line_one_way_ns=\([0-9]*\).*/\1/p' | grep . || echo nan; }
place() { awk -v l="$1" 'BEGIN { print (l == "nan" ? "?" : l + 0 <= 100 ? "near" : "far") }'; }
printf "%-9s %6s %12s %8s %10s %10s %8s\n" transport size msgs/s GB/s med_ns p99_ns line_ns
declare -A R
k=0
for size in 64 4096 65536; do
	for tr in ep-spin ep-sleep pipe unix tcp; do
		k=$((k + 1))
		ln=$(line_ns)
		line=$("$ipc" "$tr" "$size" "$secs" "$pings" "beltline://$I/ep/b$k") || {
			echo "$tr $size: FAILED"; continue; }
		read -r _ _ mps gbs med p99 <<< "$line"
		R[$tr.$size]="$mps $gbs $med $(place "$ln")"
		printf "%-9s %6s %12s %8s %10s %10s %8s\n" "$tr" "$size" "$mps" "$gbs" "$med" "$p99" "$ln"
	done
done
get() { awk -v f="$3" '{ print $f }' <<< "${R[$1.$2]:-nan nan nan ?}"; }
# "" when both rows ran on CPUs placed alike, else what each saw
mixed() { [ "$(get "$1" "$3" 4)" = "$(get "$2" "$3" 4)" ] ||
	echo " ($1 $(get "$1" "$3" 4), $2 $(get "$2" "$3" 4): not comparable)"; }
echo "# ratios to the Unix socket (targets: 64 B msgs/s >= 10, 64 KiB GB/s >= 3; spinning one way < 1000 ns)"
for tr in ep-spin ep-sleep; do
	echo "$tr: 64 B msgs/s $(ratio "$(get $tr 64 1)" "$(get unix 64 1)")x$(mixed $tr unix 64)," \
		"64 KiB GB/s $(ratio "$(get $tr 65536 2)" "$(get unix 65536 2)")x$(mixed $tr unix 65536)," \
		"64 B one way $(get $tr 64 3) ns (unix $(get unix 64 3) ns)"
done
