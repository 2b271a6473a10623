#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A graph fed by the built-in generator, `gen size=64 | bpf "udp" | count | tx`
# into a net_null port on one worker lcore, next to dpdk-testpmd's txonly mode
# (64-byte packets) into a net_null port, same EAL settings, same run,
# alternating rounds. Prints both rates, the medians and the ratio.
#
#   bench/gen_vs_txonly.sh [BUILD_DIR]     env: SECONDS_PER_RUN (6), ROUNDS (3)
# Never fails on a figure. Exit status 1 only when a run fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${1:-$top/build}
secs=${SECONDS_PER_RUN:-6}
rounds=${ROUNDS:-3}
skip=2
beltlined=$build/app/beltlined
testpmd=$(command -v dpdk-testpmd)
pipeline=${PIPELINE:-'gen size=64 | bpf "udp" | count | tx port=out'}
tmp=$(mktemp -d /tmp/bl-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
if [ "$(id -u)" -eq 0 ] && [ "$free" -ge 128 ]; then
	mem=yes; eal_mem=(--in-memory)
else
	mem=no; eal_mem=(--no-huge --no-shconf -m 256)
fi
cat > "$tmp/gen.json" <<JSON
{ "instance": "bgen$$", "memory": { "hugepages": "$mem" },
  "mbufs": { "count": 8191, "cache": 256 }, "burst": 32,
  "ports": [ { "name": "out", "vdev": "net_null0", "tx_desc": 1024 } ],
  "graphs": [ { "lcores": [1], "pipeline": $(printf '%s' "$pipeline" | jq -Rs .) } ] }
JSON

avg() { awk -v skip="$skip" '{ n++; if (n > skip) { s += $1; k++ } } END { if (k) printf "%.3f", s / k; else print "nan" }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

run_testpmd() {
	timeout -s INT "$((secs + 1))" "$testpmd" -l 0,1 --main-lcore 0 --no-pci "${eal_mem[@]}" \
		--file-prefix "tx$$" --log-level '*:warning' --vdev net_null0 -- \
		--forward-mode=txonly --txpkts=64 --auto-start --stats-period 1 --burst=32 \
		--mbcache=256 --total-num-mbufs=8191 --txd=1024 < /dev/null > "$tmp/tp.out" 2>&1 || true
	grep -o 'Tx-pps: *[0-9]*' "$tmp/tp.out" | awk '{ print $2 / 1e6 }' | avg
}

run_beltlined() {
	"$beltlined" --duration "$secs" --stats-interval 1 "$tmp/gen.json" > "$tmp/bl.json" 2> "$tmp/bl.err"
	grep -o 'tx *[0-9.]* Mpps' "$tmp/bl.err" | awk '{ print $2 }' | avg
}

echo "gen_vs_txonly: beltlined '$pipeline' vs testpmd txonly 64 B, net_null, 1 worker lcore, hugepages=$mem, ${secs}s x $rounds"
: > "$tmp/tp.all"; : > "$tmp/bl.all"
for r in $(seq "$rounds"); do
	tp=$(run_testpmd); bl=$(run_beltlined)
	printf '  round %d: testpmd txonly %8s Mpps   beltlined %8s Mpps\n' "$r" "$tp" "$bl"
	echo "$tp" >> "$tmp/tp.all"; echo "$bl" >> "$tmp/bl.all"
done
tp=$(median < "$tmp/tp.all"); bl=$(median < "$tmp/bl.all")
[ "$tp" != nan ] && [ "$bl" != nan ] || { echo "a run produced no rate (see $tmp)"; exit 1; }
echo "median: testpmd txonly $tp Mpps, beltlined $bl Mpps"
echo "ratio beltlined/testpmd: $(awk -v a="$bl" -v b="$tp" 'BEGIN { printf "%.3f", a / b }') (target >= 0.8)"
jq -r '.graphs[0].filters | to_entries[] | "  \(.key): \(if .value.in > 0 then (.value.cycles / .value.in | floor) else (.value.cycles / (.value.out + 1) | floor) end) cycles/packet (sampled)"' "$tmp/bl.json"
