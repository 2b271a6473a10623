#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Forwarding between two net_null ports on one worker lcore while the config is
# reloaded 10 times a second (`beltline reload`, alternating two configs that
# differ in one filter's arguments: that graph is rebuilt and swapped in each
# time), next to the same run without reloads. Prints both rates, the packets
# lost (rx not sent, over both ports; target 0), the reloads done, and the
# longest first pass a worker made over a newly swapped-in graph set: the time
# it was away from its rx queues because of a reload (target < 50 us).
#
#   bench/reload.sh [BUILD_DIR]     env: SECONDS_PER_RUN (3; 6 with FULL=1), ROUNDS (2; 3 with FULL=1), RELOADS_PER_S (10)
# Never fails on a figure: it reports. Exit status 1 only when a run fails.
. "$(dirname "$0")/lib.sh"
cli=$build/app/beltline/beltline
per_s=${RELOADS_PER_S:-10}
inst=breload$$
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$inst", "memory": { "hugepages": "$mem" },
  "mbufs": { "count": 8191, "cache": 256 }, "burst": 32,
  "ports": [ { "name": "a", "vdev": "net_null0", "rx_desc": 1024, "tx_desc": 1024 },
             { "name": "b", "vdev": "net_null1", "rx_desc": 1024, "tx_desc": 1024 } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=a | bpf \"len >= $2\" | tx port=b" },
              { "lcores": [1], "pipeline": "rx port=b | tx port=a" } ] }
JSON
}
mkcfg "$tmp/c0.json" 0
mkcfg "$tmp/c1.json" 1
pid=
bench_cleanup() { [ -z "$pid" ] || kill "$pid" 2> /dev/null || true; }

# run RELOADS_PER_S: prints "Mpps lost reloads swap_max_us"
run() {
	cp "$tmp/c0.json" "$tmp/cur.json"
	"$beltlined" --duration "$secs" --stats-interval 1 "$tmp/cur.json" > "$tmp/bl.json" 2> "$tmp/bl.err" &
	pid=$!
	if [ "$1" -gt 0 ]; then
		local i=0 sock=${BELTLINE_RUN_DIR:-/run/beltline}/$inst/ctl t0 left
		for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
		t0=$(date +%s%N)
		while kill -0 "$pid" 2> /dev/null; do   # on a schedule: reload i at t0 + i / rate
			i=$((i + 1))
			BELTLINE_INSTANCE=$inst "$cli" reload "$tmp/c$((i % 2)).json" > /dev/null 2>&1 || true
			left=$(( t0 + i * 1000000000 / $1 - $(date +%s%N) ))
			[ "$left" -le 0 ] || sleep "$(awk -v n="$left" 'BEGIN { printf "%.3f", n / 1e9 }')"
		done
	fi
	wait "$pid" || { pid=; echo "nan 0 0 0"; return; }
	pid=
	local mpps
	mpps=$(grep -o 'rx *[0-9.]* Mpps' "$tmp/bl.err" | awk '{ print $2 }' | avg)
	jq -r --arg m "$mpps" '[$m, ((.ports.a.rx + .ports.b.rx) - (.ports.a.tx + .ports.b.tx)),
		.reloads, (([.workers[].swap_max_ns] | max) / 1000)] | @tsv' "$tmp/bl.json"
}

echo "reload: net_null0 <-> net_null1, 1 worker lcore, burst 32, hugepages=$mem, ${secs}s x $rounds rounds, $per_s reloads/s"
: > "$tmp/base.all"; : > "$tmp/rl.all"; : > "$tmp/ratio.all"; : > "$tmp/away.all"; lost_all=0
for r in $(seq "$rounds"); do
	read -r base _ _ _ <<< "$(run 0)"
	read -r rl lost n away <<< "$(run "$per_s")"
	printf '  round %d: no reloads %8s Mpps   %d reloads %8s Mpps   lost %s   longest away %s us\n' \
		"$r" "$base" "$n" "$rl" "$lost" "$away"
	echo "$base" >> "$tmp/base.all"; echo "$rl" >> "$tmp/rl.all"; echo "$away" >> "$tmp/away.all"
	lost_all=$((lost_all + lost))
	[ "$base" != nan ] && [ "$rl" != nan ] && ratio "$rl" "$base" >> "$tmp/ratio.all"
done
base=$(median < "$tmp/base.all"); rl=$(median < "$tmp/rl.all")
[ "$base" != nan ] && [ "$rl" != nan ] || { echo "a run produced no rate (see $tmp)"; exit 1; }
echo "median: without reloads $base Mpps, with $per_s reloads/s $rl Mpps; ratio $(ratio "$rl" "$base")"
echo "packets lost across all reloading runs: $lost_all (target 0)"
echo "longest time a worker was away from its rx queues for a reload: $(sort -g "$tmp/away.all" | tail -n 1) us (target < 50)"
