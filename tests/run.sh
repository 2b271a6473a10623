#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The second command of the README, and all that CI runs: install what is
# missing, build twice (optimised, and with AddressSanitizer + UBSan), run
# every test suite on both builds, then each benchmark the README lists, with
# its defaults (they report figures but never fail on one). Budget: under 20
# minutes on a quiet machine; every timeout holds on one three times slower
# (tests/README.md).
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

# Every benchmark the README lists, once, as a user runs it: each takes a minute
# or two by default (FULL=1 for the longer runs). Under CI=true each runs its
# short smoke (SMOKE=1: one short round; the same code and references, indicative
# figures), which keeps CI's budget; set SMOKE=0 to have CI run the defaults.
bench_smoke=${SMOKE:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}
step "benchmarks (figures only; never a failure on a time; SMOKE=$bench_smoke)"
for b in fwd_vs_testpmd gen_vs_txonly bpf_vs_libpcap ibuf_bench client_vs_memif fanout write_vs_memif reload \
	 verdict_vs_nfqueue flow_vs_hash tcpstream_vs_tcpflow ipc net; do
	step "bench/$b.sh"
	SMOKE=$bench_smoke bench/$b.sh
done
step "fuzz smoke: every harness 10 s (fails on a crash only)"
tests/fuzz/run.sh 10
step "all passed"
