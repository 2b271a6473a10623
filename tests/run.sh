#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The second command of the README, and all that CI runs: install what is
# missing, build twice (optimised, and with AddressSanitizer + UBSan), run
# every test on the optimised build and, on the sanitizer build, every one but
# those of suite 'optimised-only', then each benchmark the README lists, with
# its defaults (they report figures but never fail on one). Budget: under 20
# minutes on a quiet machine; every timeout holds on one three times slower
# (tests/README.md).
#   tests/run.sh        env: SKIP_ASAN=1 to skip the sanitizer build; ASAN_ALL=1 to run
#                       every integration test under the sanitizers too (about 12 min more);
#                       TEST_JOBS=N tests at a time in each suite (2)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)

deploy/install-deps.sh
deploy/hugepages.sh
# python3 may be a version manager's launcher (a pyenv shim: a shell script that took
# 0.45 s a start here, against 0.08 s for the interpreter), and the tests start it
# hundreds of times: the interpreter's own folder first, the same interpreter.
if py=$(python3 -c 'import sys; print(sys.executable)' 2> /dev/null) && [ -n "$py" ]; then
	PATH="$(dirname "$py"):$PATH"
	export PATH
fi

step() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

step "build (optimised)"
[ -f build/build.ninja ] || meson setup build > /dev/null
ninja -C build

# The sanitizer and fuzz builds run beside the tests before them, at the lowest
# priority (nice 19): the tests wait much of the time (their appliances nap when idle),
# so a build takes what CPU they leave and they keep theirs (their timeouts hold on a
# machine three times slower). A failed build's log is shown. The benchmarks run alone,
# after. Each suite runs two tests at a time (TEST_JOBS), as meson does by default: a
# test waits much of its time (for an appliance to start, for a peer), one at a time the
# optimised suite took 666 s here and two at a time 449. (An earlier comparison that found
# no gain ran with a stray busy loop on one of the two CPUs.)
bg_pid=
trap '[ -z "$bg_pid" ] || kill "$bg_pid" 2> /dev/null || true' EXIT
bg_build() {   # LOG COMMAND...
	local log=$1
	shift
	nice -n 19 "$@" > "$log" 2>&1 &
	bg_pid=$!
}
bg_wait() {    # LOG WHAT
	local rc=0
	wait "$bg_pid" || rc=$?
	bg_pid=
	if [ "$rc" != 0 ]; then
		tail -n 80 "$1"
		echo "=== $2 failed (exit status $rc; the whole log: $1)" >&2
		exit 1
	fi
	echo "$2: done beside the tests (its log: $1)"
}
mkdir -p build/ci-logs
if [ "${SKIP_ASAN:-0}" != 1 ]; then
	# At -O1 (the sanitizers' usual level), not the project's -O3: the build took 734 s of
	# CPU at -O3 and 492 at -O1 (the largest single part of CI here), and the tests ran
	# no slower (323 s against 341 for the sanitizer pass).
	[ -f build-asan/build.ninja ] ||
		meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 > /dev/null
	bg_build build/ci-logs/build-asan.log ninja -C build-asan
else
	bg_build build/ci-logs/build-fuzz.log tests/fuzz/run.sh 10
fi
step "tests (optimised build)"
jobs=${TEST_JOBS:-2}
meson test -C build --print-errorlogs --no-suite beltway-stress --num-processes "$jobs"

if [ "${SKIP_ASAN:-0}" != 1 ]; then
	step "build (address and undefined-behaviour sanitizers)"
	bg_wait build/ci-logs/build-asan.log "the sanitizer build"
	# The fuzz smoke too: each harness runs for its 10 s whatever share of the CPU
	# it gets, and it finds what it finds, one at a time (JOBS=1: the tests have the
	# rest); the benchmarks after want the machine.
	bg_build build/ci-logs/build-fuzz.log env JOBS=1 tests/fuzz/run.sh 10
	# Every test but those of suite 'optimised-only' (integration tests whose input is
	# our own: tests/integration/meson.build says which and why); ASAN_ALL=1 runs
	# every one (two full passes do not fit CI's budget).
	skip=optimised-only
	[ "${ASAN_ALL:-0}" != 1 ] || skip=beltway-stress
	step "tests (sanitizer build$([ "$skip" = beltway-stress ] || echo ", but suite $skip"))"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --no-suite beltway-stress --no-suite "$skip" \
		--timeout-multiplier 3 --num-processes "$jobs"
fi
step "fuzz smoke: every harness 10 s, one at a time, beside the sanitizer tests (fails on a crash only)"
bg_wait build/ci-logs/build-fuzz.log "the fuzz smoke"
grep -E '^(=== fuzz .*stat::|fuzz: )' build/ci-logs/build-fuzz.log || true

# Every benchmark the README lists, once, as a user runs it: no argument and no
# variable (SMOKE and FULL are cleared), a quick run of each, under a minute
# (FULL=1 gives the longer runs whose figures the docs quote).
# In CI (CI=true) one round each (ROUNDS=1) instead of their default two: a smoke of every
# benchmark and its reference, figures only, about 100 s less.
bench_rounds=$([ "${CI:-}" = true ] && echo "${ROUNDS:-1}" || echo "${ROUNDS:-}")
step "benchmarks, with their defaults${bench_rounds:+ and ROUNDS=$bench_rounds} (figures only; never a failure on a time)"
for b in fwd_vs_testpmd gen_vs_txonly bpf_vs_libpcap ibuf_bench client_vs_memif fanout write_vs_memif reload \
	 verdict_vs_nfqueue flow_vs_hash tcpstream_vs_tcpflow ipc net; do
	# In CI the three longest (a run each of many variants, each with its own start-up)
	# run one size or mode: every program and its reference still runs (110 s -> 60 s).
	# Two take shorter windows, which their arithmetic allows: reload 2 s a run (one 1 s
	# rate sample from each of its two beltlined runs, 20 reloads; 6.8 -> 4.7 s) and net
	# 1 s a row (client_reader's own rate over its window, after its 1 s warm-up; 23 ->
	# 18 s). Not fwd_vs_testpmd and gen_vs_txonly: testpmd's first 1 s stats period
	# reads 0 (before it forwards) and the default averages it in (skip 0 below 4 s):
	# at 2 s its rate would read half. client_vs_memif, write_vs_memif and fanout are
	# at their floor already (1 s warm-up, 1 s window).
	trim=()
	if [ "${CI:-}" = true ]; then
		case $b in
		client_vs_memif|write_vs_memif) trim=(SIZES="${SIZES:-64}") ;;
		fanout) trim=(MODES="${MODES:-poll}") ;;
		reload) trim=(SECONDS_PER_RUN="${SECONDS_PER_RUN:-2}") ;;
		net) trim=(SECONDS_PER_RUN="${SECONDS_PER_RUN:-1}") ;;
		esac
	fi
	step "bench/$b.sh${trim[*]:+ (${trim[*]})}"
	env -u SMOKE -u FULL ${bench_rounds:+ROUNDS=$bench_rounds} "${trim[@]}" bench/$b.sh
done
step "all passed"
