#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The figures of docs/performance.md: runs the four benchmarks with CSV=... into
# this folder, records the machine they ran on (machine.csv) and each script's
# output (NAME.log), then draws the SVGs with plot.gp when gnuplot is there.
#
#   docs/perf/make.sh [BUILD_DIR]     env: FULL=1 (the scripts' longer runs: more
#                                     rounds, longer windows; about 15 minutes),
#                                     ONLY="fwd delivery fanout bpf" (a subset),
#                                     and every variable the scripts take
# Root (hugepages, a network namespace for AF_PACKET) as the scripts want it.
# gnuplot is a docs-only tool (apt-get install gnuplot-nox), not a build or CI
# dependency: without it the CSVs are written and the plots left as they were.
# Run it on a quiet machine: see docs/performance.md, "Regenerating".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
only=${ONLY:-fwd delivery fanout bpf}
[ -x "$build/app/beltlined" ] || { echo "make.sh: no $build/app/beltlined (build first)" >&2; exit 1; }

# Cores busy over 2 s, from /proc/stat (bench/lib.sh's measure): before a
# benchmark, this is the other work on the machine.
busy_now() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat); sleep 2
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
	awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz / 2 }'
}
field() { lscpu | sed -n "s/^$1: *//p" | sed -n 1p; }

m=$here/machine.csv
start=$(date -u +%Y-%m-%dT%H:%MZ)   # date_NAME: the start of the run that measured NAME
rev=$(git -C "$top" rev-parse --short HEAD 2> /dev/null || echo unknown)$(
	[ -z "$(git -C "$top" status --porcelain -- . ':!docs/perf' 2> /dev/null)" ] || echo ' (modified)')
# A subset (ONLY) keeps what machine.csv said of the benchmarks it does not run.
kept=$(for f in fwd delivery fanout bpf; do
	case " $only " in *" $f "*) ;; *) grep -E "^(date|beltline|busy_before|busy_runs)_$f," "$m" 2> /dev/null || true ;; esac
done)
{
	echo "key,value"
	echo "date,$start"
	echo "cpu,\"$(field 'Model name')\""
	echo "cpus,$(nproc)"
	echo "hypervisor,$(field 'Hypervisor vendor' || true)"
	echo "kernel,$(uname -r)"
	echo "dpdk,$(pkg-config --modversion libdpdk 2> /dev/null || echo unknown)"
	echo "beltline,$rev"
	echo "hugepages_2M_free,$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2> /dev/null || echo 0)"
	echo "full,${FULL:-0}"
	echo "load_average_1m,$(cut -d' ' -f1 /proc/loadavg)"
	[ -z "$kept" ] || echo "$kept"
} > "$m"

csvname() { case $1 in fwd) echo fwd_vs_testpmd ;; delivery) echo client_vs_memif ;; fanout) echo fanout ;;
	bpf) echo bpf_vs_libpcap ;; *) echo "make.sh: ONLY: fwd, delivery, fanout, bpf; not $1" >&2; exit 1 ;; esac; }
for f in $only; do
	s=$(csvname "$f")
	b=$(busy_now)
	echo "date_$f,$start" >> "$m"
	echo "beltline_$f,$rev" >> "$m"
	echo "busy_before_$f,$b" >> "$m"
	echo "== $f (bench/$s.sh; other work before it: $b cores)"
	rm -f "$here/$f.csv"
	CSV=$here/$f.csv "$top/bench/$s.sh" "$build" 2>&1 | tee "$here/$f.log" || echo "make.sh: bench/$s.sh failed (see $f.log)"
	# the runs the script marked busy (busy 1; bpf has no mark: other_cores above BUSY_MAX), of all
	if [ -s "$here/$f.csv" ]; then
		echo "busy_runs_$f,$(awk -F, -v bm="${BUSY_MAX:-0.2}" 'NR == 1 { for (i = 1; i <= NF; i++) {
				if ($i == "busy") c = i; if ($i == "other_cores") o = i }; next }
			{ n++; if (c ? $c == 1 : (o && $o > bm)) k++ } END { printf "%d of %d", k, n }' "$here/$f.csv")" >> "$m"
	fi
done
echo "load_average_1m_after,$(cut -d' ' -f1 /proc/loadavg)" >> "$m"
cat "$m"
if command -v gnuplot > /dev/null; then
	(cd "$here" && gnuplot plot.gp)
	echo "plots: $(cd "$here" && ls ./*.svg | tr '\n' ' ')"
else
	echo "make.sh: no gnuplot (apt-get install gnuplot-nox): CSVs written, plots not redrawn"
fi
