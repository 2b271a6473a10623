#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The second command of the README, and all that CI runs: install what is
# missing, build twice (optimised, and with AddressSanitizer + UBSan), run
# every test suite on both builds, then a short smoke of each benchmark
# (which reports figures but never fails on one).
#   tests/run.sh        env: SKIP_ASAN=1 to skip the sanitizer build
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)

deploy/install-deps.sh
deploy/hugepages.sh

step() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

step "build (optimised)"
[ -f build/build.ninja ] || meson setup build > /dev/null
ninja -C build
step "tests (optimised build)"
meson test -C build --print-errorlogs --no-suite beltway-stress

if [ "${SKIP_ASAN:-0}" != 1 ]; then
	step "build (address and undefined-behaviour sanitizers)"
	[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false > /dev/null
	ninja -C build-asan
	step "tests (sanitizer build)"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --no-suite beltway-stress --timeout-multiplier 3
fi

step "benchmark smokes (figures only; never a failure on time)"
SECONDS_PER_RUN=2 ROUNDS=1 bench/fwd_vs_testpmd.sh build
SECONDS_PER_RUN=2 ROUNDS=1 bench/gen_vs_txonly.sh build
SMOKE=1 bench/bpf_vs_libpcap.sh build
bench/ibuf_bench.sh --build build 20 20
SMOKE=1 bench/client_vs_memif.sh build
SMOKE=1 bench/fanout.sh build
step "fuzz smoke: every harness 20 s (fails on a crash only)"; tests/fuzz/run.sh 20
step "all passed"
