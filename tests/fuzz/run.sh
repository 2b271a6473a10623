#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the fuzz harnesses with clang-14 and libFuzzer (plus ASan and UBSan) in
# build-fuzz/, then run each for SECONDS seconds on one core, JOBS of them at once. Fails only when a
# harness crashes or an oracle fails (the input is kept in OUT); how long
# anything took never fails it. tests/fuzz/README.md says more.
#   tests/fuzz/run.sh [SECONDS [TARGET...]]     default 20 s each, every target;
#                                               SECONDS 0: build only
#   env: BUILD (build-fuzz), OUT (build-fuzz/fuzz-out), MAX_LEN (4096), RSS_MB (2048),
#        FUZZ_ARGS (more libFuzzer flags, e.g. -dict=...), JOBS (harnesses at once: nproc)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${1:-20}
shift || true
build=${BUILD:-build-fuzz}
out=${OUT:-$build/fuzz-out}
all=(cfg pipe bpf_xlat classify rx_check ctl client_reply client_shm client_file net_frame tcpstream)
targets=("${@:-${all[@]}}")

command -v clang-14 > /dev/null || { echo "fuzz: clang-14 is missing (deploy/install-deps.sh)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
	# Coverage for the libraries too (fuzzer-no-link); the harnesses link libFuzzer.
	CC=clang-14 CFLAGS=-fsanitize=fuzzer-no-link meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false -Doptimization=1 > /dev/null
fi
ninja -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}")
[ "$secs" != 0 ] || exit 0

mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# One harness; its status is its exit code. JOBS harnesses at a time (default:
# one per CPU), each on one core: the total is a budget, the same per harness.
fuzz_one() {
	local t=$1 seeds=tests/fuzz/corpus/$1 work=$out/corpus-$1   # the tree's corpus is only read
	mkdir -p "$work"
	# -timeout: one input running this long is a hang, a finding; the total
	# time is only a budget (libFuzzer stops when it is spent and exits 0).
	"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=60 \
		-rss_limit_mb="${RSS_MB:-2048}" -max_len="${MAX_LEN:-4096}" \
		-print_final_stats=1 -artifact_prefix="$out/$t-" ${FUZZ_ARGS:-} \
		"$work" "$seeds" > "$out/$t.log" 2>&1
}
jobs_max=${JOBS:-$(nproc)}
declare -A pid_of
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n || true
	done
	echo "=== fuzz $t: ${secs} s"
	fuzz_one "$t" &
	pid_of[$t]=$!
done
failed=()
for t in "${targets[@]}"; do
	if ! wait "${pid_of[$t]}"; then
		failed+=("$t")
		tail -n 60 "$out/$t.log"
		echo "=== fuzz $t: FAILED; the input is $(ls -t "$out/$t"-* 2>/dev/null | sed -n 1p)"
	else
		echo "=== fuzz $t: $(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$out/$t.log" | tr '\n' ' ')"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]} (inputs in $out)" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs} s each, no crash"
