#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Forwarding between two net_null ports on one worker lcore: beltlined next to
# dpdk-testpmd's io forwarding, same EAL settings, same run, alternating
# rounds. Prints both rates (packets per second through both ports, averaged
# over each run's steady seconds), the median of each, and the ratio.
#
#   bench/fwd_vs_testpmd.sh [BUILD_DIR]     env: SECONDS_PER_RUN (3; 6 with FULL=1), ROUNDS (2; 3 with FULL=1),
#                                           CSV=FILE (append round,impl,mpps,other_cores,busy rows)
# Never fails on a figure: it reports. Exit status 1 only when a run fails.
. "$(dirname "$0")/lib.sh"
cat > "$tmp/fwd.json" <<JSON
{ "instance": "bench$$", "memory": { "hugepages": "$mem" },
  "mbufs": { "count": 8191, "cache": 256 }, "burst": 32,
  "ports": [ { "name": "a", "vdev": "net_null0", "rx_desc": 1024, "tx_desc": 1024 },
             { "name": "b", "vdev": "net_null1", "rx_desc": 1024, "tx_desc": 1024 } ],
  "workers": [ { "lcore": 1, "poll": [ { "port": "a", "queue": 0, "tx": "b" },
                                       { "port": "b", "queue": 0, "tx": "a" } ] } ] }
JSON


run_testpmd() {
	run_until "$((2 * secs))" 'Rx-pps' "$tmp/tp.out" "$testpmd" -l 0,1 --main-lcore 0 --no-pci \
		"${eal_mem[@]}" --file-prefix "tp$$" --log-level '*:warning' --vdev net_null0 --vdev net_null1 -- \
		--forward-mode=io --auto-start --stats-period 1 --burst=32 --mbcache=256 \
		--total-num-mbufs=8191 --rxd=1024 --txd=1024
	# One "Rx-pps" line per port per second: sum the pairs.
	grep -o 'Rx-pps: *[0-9]*' "$tmp/tp.out" | awk '{ s += $2 } NR % 2 == 0 { print s / 1e6; s = 0 }' | avg
}

run_beltlined() {
	"$beltlined" --duration "$secs" --stats-interval 1 "$tmp/fwd.json" > "$tmp/bl.json" 2> "$tmp/bl.err"
	grep -o 'rx *[0-9.]* Mpps' "$tmp/bl.err" | awk '{ print $2 }' | avg
}


echo "fwd_vs_testpmd: net_null0 <-> net_null1, 1 worker lcore, burst 32, hugepages=$mem, ${secs}s x $rounds rounds"
: > "$tmp/tp.all"; : > "$tmp/bl.all"; : > "$tmp/ratio.all"
for r in $(seq "$rounds"); do
	busy_mark; tp=$(run_testpmd); to=$(busy_since); busy_mark; bl=$(run_beltlined); bo=$(busy_since)
	printf '  round %d: testpmd %8s Mpps   beltlined %8s Mpps%s\n' "$r" "$tp" "$bl" \
		"$(is_busy "$to" || is_busy "$bo" && echo "  busy: $to, $bo cores of other work")"
	printf '%d testpmd %s %s %d\n%d beltlined %s %s %d\n' "$r" "$tp" "$to" "$(is_busy "$to" && echo 1 || echo 0)" \
		"$r" "$bl" "$bo" "$(is_busy "$bo" && echo 1 || echo 0)" | csv_rows round,impl,mpps,other_cores,busy
	echo "$tp" >> "$tmp/tp.all"; echo "$bl" >> "$tmp/bl.all"
	[ "$tp" != nan ] && [ "$bl" != nan ] && ratio "$bl" "$tp" >> "$tmp/ratio.all"
done
tp=$(median < "$tmp/tp.all"); bl=$(median < "$tmp/bl.all")
[ "$tp" != nan ] && [ "$bl" != nan ] || { echo "a run produced no rate (see $tmp)"; exit 1; }
echo "per-round ratios: $(sort -g "$tmp/ratio.all" | tr '\n' ' ')(median $(median < "$tmp/ratio.all"))"
ratio=$(ratio "$bl" "$tp")
echo "median: testpmd $tp Mpps, beltlined $bl Mpps"
echo "ratio beltlined/testpmd: $ratio (target >= 0.95)"
