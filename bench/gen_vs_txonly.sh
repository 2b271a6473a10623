#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A graph fed by the built-in generator, `gen size=64 | bpf "udp" | count | tx`
# into a net_null port on one worker lcore, next to dpdk-testpmd's txonly mode
# (64-byte packets) into a net_null port, same EAL settings, same run,
# alternating rounds. Prints both rates, the medians and the ratio.
#
#   bench/gen_vs_txonly.sh [BUILD_DIR]     env: SECONDS_PER_RUN (3; 6 with FULL=1), ROUNDS (2; 3 with FULL=1)
# Never fails on a figure. Exit status 1 only when a run fails.
. "$(dirname "$0")/lib.sh"
pipeline=${PIPELINE:-'gen size=64 | bpf "udp" | count | tx port=out'}
cat > "$tmp/gen.json" <<JSON
{ "instance": "bgen$$", "memory": { "hugepages": "$mem" },
  "mbufs": { "count": 8191, "cache": 256 }, "burst": 32,
  "ports": [ { "name": "out", "vdev": "net_null0", "tx_desc": 1024 } ],
  "graphs": [ { "lcores": [1], "pipeline": $(printf '%s' "$pipeline" | jq -Rs .) } ] }
JSON


run_testpmd() {
	run_until "$secs" 'Tx-pps' "$tmp/tp.out" "$testpmd" -l 0,1 --main-lcore 0 --no-pci "${eal_mem[@]}" \
		--file-prefix "tx$$" --log-level '*:warning' --vdev net_null0 -- \
		--forward-mode=txonly --txpkts=64 --auto-start --stats-period 1 --burst=32 \
		--mbcache=256 --total-num-mbufs=8191 --txd=1024
	grep -o 'Tx-pps: *[0-9]*' "$tmp/tp.out" | awk '{ print $2 / 1e6 }' | avg
}

run_beltlined() {
	"$beltlined" --duration "$secs" --stats-interval 1 "$tmp/gen.json" > "$tmp/bl.json" 2> "$tmp/bl.err"
	grep -o 'tx *[0-9.]* Mpps' "$tmp/bl.err" | awk '{ print $2 }' | avg
}

echo "gen_vs_txonly: beltlined '$pipeline' vs testpmd txonly 64 B, net_null, 1 worker lcore, hugepages=$mem, ${secs}s x $rounds"
: > "$tmp/tp.all"; : > "$tmp/bl.all"; : > "$tmp/ratio.all"
for r in $(seq "$rounds"); do
	tp=$(run_testpmd); bl=$(run_beltlined)
	printf '  round %d: testpmd txonly %8s Mpps   beltlined %8s Mpps\n' "$r" "$tp" "$bl"
	echo "$tp" >> "$tmp/tp.all"; echo "$bl" >> "$tmp/bl.all"
	[ "$tp" != nan ] && [ "$bl" != nan ] && ratio "$bl" "$tp" >> "$tmp/ratio.all"
done
tp=$(median < "$tmp/tp.all"); bl=$(median < "$tmp/bl.all")
[ "$tp" != nan ] && [ "$bl" != nan ] || { echo "a run produced no rate (see $tmp)"; exit 1; }
echo "per-round ratios: $(sort -g "$tmp/ratio.all" | tr '\n' ' ')(median $(median < "$tmp/ratio.all"))"
echo "median: testpmd txonly $tp Mpps, beltlined $bl Mpps"
echo "ratio beltlined/testpmd: $(ratio "$bl" "$tp") (target >= 0.8)"
jq -r '.graphs[0].filters | to_entries[] | "  \(.key): \(if .value.in > 0 then (.value.cycles / .value.in | floor) else (.value.cycles / (.value.out + 1) | floor) end) cycles/packet (sampled)"' "$tmp/bl.json"
