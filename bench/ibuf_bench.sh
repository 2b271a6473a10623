#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# ibuf_bench.sh — IBuf against rte_ring, in one run, on this machine.
#
#   bench/ibuf_bench.sh [--dpdk-test] [--build DIR] [ENTRIES_LOG2] [SCALING_MS]
#
# Prints, from one process (build/tests/beltway/ibuf_bench, source bench/ibuf_bench.c):
#   - the first reader's cost: producer cycles per entry with no reader and with one (SRP, FRP);
#   - SPSC burst-32 cycles/entry: rte_ring (8-byte pointers and 16-byte elements, the
#     same bytes as an IBuf entry) and the IBuf, producer and consumer on two cores and on
#     one core, medians of 7 alternating rounds, and the ratios (target <= 1.2);
#   - SRP, MRP and FRP entries/s per reader with 1, 2, 4 and 8 reader threads (producer
#     pinned to core 0, readers share the other cores).
# With --dpdk-test it also runs DPDK's own ring_perf_autotest (/usr/bin/dpdk-test) and
# prints its SP/SC burst-32 lines and our ratio to its two-core figure.
# Figures on a shared 2-core VM vary from run to run: compare within one run only.
# BL_BENCH_RT=1 (root) runs the measured SPSC pairs SCHED_FIFO, which removes most of the
# noise another process on the machine causes; BL_BENCH_VERBOSE=1 prints every round.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
dpdk_test=0
while [ $# -gt 0 ]; do
	case "$1" in
	--dpdk-test) dpdk_test=1; shift ;;
	--build) build=$2; shift 2 ;;
	*) break ;;
	esac
done
# Defaults: 2^22 entries and 200 ms per scaling point (what CI runs, under ten
# seconds quiet); FULL=1: 2^24 and 300 ms, the figures the docs quote.
# SMOKE=1: 2^20 and 50 ms.
if [ "${FULL:-0}" = 1 ]; then lg=${1:-24} ms=${2:-300}
elif [ "${SMOKE:-0}" = 1 ]; then lg=${1:-20} ms=${2:-50}
else lg=${1:-22} ms=${2:-200}; fi

ninja -C "$build" tests/beltway/ibuf_bench >/dev/null
out=$("$build/tests/beltway/ibuf_bench" "$lg" "$ms")
echo "$out"

if [ "$dpdk_test" = 1 ]; then
	echo
	echo "== dpdk-test ring_perf_autotest (reference) =="
	log=$(mktemp)
	echo ring_perf_autotest | dpdk-test --no-pci --in-memory -l 0,1 \
		--file-prefix "blbench$$" --log-level '*:error' >"$log" 2>&1 || true
	# ring_perf prints, per API (legacy 8-byte pointers, then 16-byte elements), a
	# single-core burst/bulk section and a "two physical cores" bulk section.
	grep -E "Testing using two|SP/SC: (burst|bulk) \(size: 32\)" "$log" | head -12
	ours=$(echo "$out" | awk '/ibuf 16B entries, 2 cores/ {print $(NF-1)}')
	for api in "legacy APIs" "elem APIs: element size 16B"; do
		ref=$(awk -v api="$api" '/two physical cores/ {t=1} /all worker nodes/ {t=0}
			t && index($0, api) == 1 && /SP\/SC: bulk \(size: 32\)/ {print $NF; exit}' "$log")
		if [ -n "$ref" ] && [ -n "$ours" ]; then
			echo "$ours $ref $api" | awk '{r=$1/$2; $1=$2=""; printf "RATIO ibuf (this run) / ring_perf_autotest two cores SP/SC bulk 32,%s: %.2f\n", $0, r}'
		fi
	done
	rm -f "$log"
fi
