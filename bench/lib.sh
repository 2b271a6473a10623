# SPDX-License-Identifier: BSD-3-Clause
# Shared by the benchmark scripts: memory mode, temp folder, averaging.
# Sets: top, build, beltlined, testpmd, tmp, mem (yes|no), eal_mem (array), secs, rounds, skip.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
# Default: 3 s runs, 2 rounds (about 15 s a script); FULL=1: 6 s and 3 rounds,
# the figures the docs quote; SMOKE=1: one short round, indicative only.
secs=${SECONDS_PER_RUN:-$([ "${SMOKE:-0}" = 1 ] && echo 3 || { [ "${FULL:-0}" = 1 ] && echo 6 || echo 3; })}
rounds=${ROUNDS:-$([ "${SMOKE:-0}" = 1 ] && echo 1 || { [ "${FULL:-0}" = 1 ] && echo 3 || echo 2; })}
skip=$(( secs >= 5 ? 2 : secs >= 3 ? 1 : 0 ))   # warm-up samples left out of each run: testpmd's first
# 1 s period reads 0 (it has not started forwarding), and averaged in it read a 3 s run a
# third low (the ratio as much too high); none left out of a shorter smoke
beltlined=$build/app/beltlined
testpmd=$(command -v dpdk-testpmd)
tmp=$(mktemp -d /tmp/bl-bench.XXXXXX)
# testpmd leaves its runtime folder (/var/run/dpdk/PREFIX) behind: ours are tp$$ and tx$$
# (a script that uses other prefixes names them in eal_prefixes). A script with more
# to undo (processes, a network namespace) defines bench_cleanup; it runs first.
eal_prefixes=(tp$$ tx$$)
bench_cleanup() { :; }
trap 'bench_cleanup; for p in "${eal_prefixes[@]}"; do rm -rf "/var/run/dpdk/$p"; done; rm -rf "$tmp"' EXIT

free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
if [ "$(id -u)" -eq 0 ] && [ "$free" -ge 128 ]; then
	mem=yes; eal_mem=(--in-memory)
else
	mem=no; eal_mem=(--no-huge --no-shconf -m 256)
fi

# Average of per-second rates on stdin after the warm-up, or nan.
avg() { awk -v skip="$skip" '{ n++; if (n > skip) { s += $1; k++ } } END { if (k) printf "%.3f", s / k; else print "nan" }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }

# CPU time of processes and of the whole machine, for CPU per packet over a window.
clk_tck=$(getconf CLK_TCK)
# utime + stime (clock ticks, every thread) of the processes given, summed.
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2> /dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}
# Busy ticks of all CPUs (everything but idle and iowait), from /proc/stat.
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# Seconds since the epoch, with fractions; sleep until such a time.
now() { date +%s.%N; }
sleep_until() { local d; d=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; print (d > 0 ? d : 0) }'); sleep "$d"; }
# Other work on a shared machine skews every figure. Before a run, wait until the
# machine's busy time over half a second is under BUSY_MAX cores (default 0.2); say
# so when it never is. QUIET_WAIT (seconds, default 60; 0 in a smoke and under CI=true,
# where the machine is shared and waiting only lengthens the run) is what the
# whole script may spend waiting, over all its runs: a busy machine makes a script
# at most that much longer, never a run's worth of it per run.
# After a run, a script marks it when the machine's busy time beyond its own
# processes exceeded BUSY_MAX ("busy": take its figures with salt).
busy_max=${BUSY_MAX:-0.2}
quiet_wait=${QUIET_WAIT:-$([ "${SMOKE:-0}" = 1 ] || [ "${CI:-}" = true ] && echo 0 || echo 60)}
quiet_waited=0
stayed_busy=0   # a run began on a machine busy with other work (no_figure says why it matters)
wait_quiet() {
	local a b busy
	while :; do
		a=$(sys_ticks); sleep 0.5; b=$(sys_ticks)
		busy=$(awk -v t=$((b - a)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz / 0.5 }')
		awk -v b="$busy" -v m="$busy_max" 'BEGIN { exit !(b <= m) }' && return 0
		[ "$quiet_waited" -lt "$quiet_wait" ] || { echo "  (the machine stayed busy: $busy cores of other work)"; stayed_busy=1; return 0; }
		sleep 1; quiet_waited=$((quiet_waited + 2))
	done
}
# run_until N PATTERN OUT COMMAND...: run COMMAND (output to OUT) until OUT holds
# N lines matching PATTERN, then stop it with SIGINT. A reference tool that
# prints one line a second gets N seconds of running however long it took to
# start on a loaded machine (a fixed `timeout` cut it before its first lines).
# Gives up after N + 60 seconds.
run_until() {
	local n=$1 pat=$2 out=$3 pid k=0
	shift 3
	: > "$out"   # now: the child's own truncation may come after the first count
	"$@" < /dev/null > "$out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2> /dev/null && [ "$(grep -c -- "$pat" "$out")" -lt "$n" ] &&
	      [ "$k" -lt $(( (n + 60) * 10 )) ]; do
		sleep 0.1; k=$((k + 1))
	done
	kill -INT "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
}
is_busy() { awk -v o="$1" -v m="$busy_max" 'BEGIN { exit !(o > m) }'; }
# CSV=FILE: the figures as CSV, for docs/perf/ (plot.gp). csv_rows HEADER reads
# one measured point a line (space-separated fields) on stdin and appends them to
# FILE as comma-separated rows, first writing HEADER when FILE is new or empty.
# Without CSV, nothing.
csv_rows() {
	[ -n "${CSV:-}" ] || { cat > /dev/null; return 0; }
	[ -s "$CSV" ] || echo "$1" >> "$CSV"
	tr ' ' ',' >> "$CSV"
}
# For a script whose runs are its waited-for children (run in $(...)): busy_mark, the
# run, then busy_since prints the cores of other work over the run: the machine's busy
# time minus this script's children's (cutime + cstime of /proc/$$/stat; a child's
# time lands there when it is waited for). is_busy on it marks the run.
child_ticks() { awk '{ sub(/.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
busy_mark() { busy_s=$(sys_ticks); busy_c=$(child_ticks); busy_t=$(now); }
busy_since() {
	awk -v s=$(( $(sys_ticks) - busy_s )) -v c=$(( $(child_ticks) - busy_c )) -v a="$busy_t" -v b="$(now)" \
		-v hz="$clk_tck" 'BEGIN { o = (s - c) / hz / (b - a); printf "%.2f", (o > 0 ? o : 0) }'
}

# no_figure BAD: the end of a script whose runs must each give a figure. A run that gave
# none on a quiet machine is a failure (exit 1: something broke). On a machine that stayed
# busy with other work (wait_quiet gave up waiting), a run can be starved of its CPU for
# its whole window (CI ran beside two fuzzers: memif connected too late, the reader never
# ran): said, not a failure, as a time is never one.
no_figure() {
	[ "$1" = 0 ] && return 0
	if [ "$stayed_busy" = 1 ]; then
		echo "a run produced no figure, on a machine busy with other work (see the lines above): not a failure"
		return 0
	fi
	echo "a run produced no figure (see the lines above)"
	exit 1
}
