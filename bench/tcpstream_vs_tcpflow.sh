#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tcpstream's throughput in GB/s of reassembled payload, next to tcpflow reading
# the same capture file (issue 13, point 5: target >= 10x). bench/tcp_cap.py makes
# the capture: 64 connections, MB megabytes of payload in 1448-byte segments,
# one in 50 reordered (held and published when the hole fills), ACKs, SYN/FIN.
#
#   bench/tcpstream_vs_tcpflow.sh [BUILD_DIR]   env: MB (100), SMOKE=1 (10 MB)
#
# Three figures per side, printed with the ratio:
#   tcpstream  the filter's own time: its cycles (the graph samples one pass in 32)
#              at the TSC rate (/proc/cpuinfo's MHz: a VM's TSC runs at it);
#   beltline   the whole replay, beltlined's elapsed time less its --exit-idle wait:
#              EAL start, net_pcap reading the file, the graph (the replay dominates);
#   tcpflow    wall time of `tcpflow -r CAP -o DIR` (reads the file, writes the files),
#              and its CPU time (user + system: what it costs without waiting on the disk).
# The ratio that answers the issue is tcpstream's to tcpflow's; the end-to-end one is
# printed beside it so nobody mistakes it for the whole story. Never fails on a
# figure; exit 1 when a run fails. About a minute with no variable set.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
mb=${MB:-100}
[ "${SMOKE:-0}" = 1 ] && mb=10
command -v tcpflow > /dev/null || { echo "tcpstream_vs_tcpflow: no tcpflow (apt-get install tcpflow)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/bl-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
idle=2000

bytes=$(python3 "$top/bench/tcp_cap.py" "$tmp/c.pcap" "$mb")
mkdir "$tmp/tf"
TIMEFORMAT='%R %U %S'
{ time tcpflow -r "$tmp/c.pcap" -o "$tmp/tf" > /dev/null 2>&1; } 2> "$tmp/tf.time"
read -r tf_real tf_user tf_sys < "$tmp/tf.time"
tf_bytes=$(cat "$tmp"/tf/0* | wc -c)
rm -rf "$tmp/tf"

"$build/app/beltlined" -q --instance "bb$$" --port "in=net_pcap0,rx_pcap=$tmp/c.pcap" \
	--pipeline 'rx port=in | tcpstream export=bench | drop' --exit-idle "$idle" \
	> "$tmp/r.json" 2> "$tmp/err" || { echo "beltlined failed:"; tail -3 "$tmp/err"; exit 1; }
c=$(jq -c '.graphs[0].filters.tcpstream | {cycles, b: .counters.bytes, g: .counters.gaps}' "$tmp/r.json")
el=$(jq '.elapsed_s' "$tmp/r.json")
mhz=$(awk -F: '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)

awk -v bytes="$bytes" -v tfb="$tf_bytes" -v tfreal="$tf_real" -v tfcpu="$(awk -v u="$tf_user" -v s="$tf_sys" 'BEGIN { print u + s }')" -v cyc="$(jq .cycles <<< "$c")" \
	-v bb="$(jq .b <<< "$c")" -v gaps="$(jq .g <<< "$c")" -v mhz="$mhz" -v el="$el" -v idle="$idle" '
BEGIN {
	tf = tfb / tfreal / 1e9
	tfc = tfcpu > 0 ? tfb / tfcpu / 1e9 : 0
	ts_s = cyc / (mhz * 1e6)
	ts = bb / ts_s / 1e9
	e2e = bb / (el - idle / 1000) / 1e9
	printf "payload %d bytes (tcpflow wrote %d, tcpstream published %d, %d gaps)\n", bytes, tfb, bb, gaps
	printf "%-10s %12s %10s\n", "", "seconds", "GB/s"
	printf "%-10s %12.4f %10.3f   (the filter: %.0f cycles at %.0f MHz)\n", "tcpstream", ts_s, ts, cyc, mhz
	printf "%-10s %12.3f %10.3f   (beltlined end to end: start, replay, graph)\n", "beltline", el - idle / 1000, e2e
	printf "%-10s %12.3f %10.3f   (tcpflow -r, end to end: wall)\n", "tcpflow", tfreal, tf
	printf "%-10s %12.3f %10.3f   (tcpflow -r: its CPU time, user + system)\n", "tcpflow", tfcpu, tfc
	printf "ratio tcpstream / tcpflow: %.1fx of its wall time, %.1fx of its CPU time (target >= 10x); end to end: %.2fx\n", \
		ts / tf, (tfc > 0 ? ts / tfc : 0), e2e / tf
}'
