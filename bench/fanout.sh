#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fan-out (issue 5, point 9 B): the producer's rate with 0, 1, 2, 4 and 8
# reader processes on one stream, and what each extra reader costs it.
# beltlined runs `gen size=S | export name=b policy=P capacity=C` on one
# worker lcore (CPU 1); N bench/client_reader processes (libbeltline-client
# only, zero-copy) read the stream, on READER_CPUS (default CPU 0, so they
# share one core; say "0,1" to let them compete with the producer too), either
# busy-polling or sleeping in epoll on beltline_fd() (the appliance's wake
# channel once it passes one; the library's 1 ms timer until then).
# Over a window after a warm-up, from the appliance's own stream counters:
#   written   entries the producer put into the stream per second (its rate)
#   offered   packets generated per second (written + tail-dropped: SRP/MRP
#             stop writing when the slowest reader is a ring behind)
# and each reader's received and lost counts and CPU time (its own clock).
# Cost of each extra reader, per round: (1 - written(N) / written(1)) / (N - 1), and
# of each reader against none: (1 - written(N) / written(0)) / N; the medians over
# rounds are printed. Alternating order across rounds. Last, the cost of the first reader
# and of 2, 4 and 8 (issue 10) as ratio lines per mode and policy: median over rounds of
# w(N)/w(0) (written and, for SRP, offered; both also per CPU-second of the producer's
# process, which a busy machine does not skew), with the no-reader and N-reader medians
# and the spread.
#
#   bench/fanout.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (2; 6 with FULL=1), ROUNDS (1; 3), READERS ("0 1": the first reader's
#        cost; "0 1 2 4 8" with FULL=1), MODES ("poll sleep"),
#        POLICIES ("srp frp"), SIZE (64), CAPACITY (32768), READER_CPUS (0), MBUF_CACHE (the
#        pool's per-lcore cache, 256; 512 is DPDK's most),
#        GEN_ARGS (more gen options, e.g. "rate=2000000": a rate every reader keeps up with,
#        so the export filter's cycles/pkt in each round line show what readers cost it),
#        READER_ARGS (more client_reader options), EXPORT_ARGS (more export options, e.g.
#        "wake_count=64 wake_us=100"), BUSY_MAX, QUIET_WAIT (bench/lib.sh),
#        SMOKE=1 (3 s, 1 round, 1 and 2 readers), FULL=1 (6 s, 3 rounds),
#        RT=1 (root: run beltlined and the readers SCHED_RR priority 2, so other work on a
#        shared machine does not take the CPU from them mid-window; the kernel's RT
#        throttling still leaves others 5%. Use sparingly: it starves the machine's other
#        users while it runs, and starves kernel threads on those CPUs too: run this script
#        itself above them, `chrt -r 3 bench/fanout.sh`, so its snapshots are on time)
# Before and after each run, bench/line_pingpong times one cache line's move between the
# producer's CPU and the readers' (the larger of the two, "line N ns" in each round line):
# every exchange between them moves lines, and on a VM that figure changes while it runs
# (52 or 250 ns on the 2-CPU machine of docs/performance.md, as the hypervisor moves its
# vCPUs). The first-reader lines are also given per placement: rounds whose runs all saw
# "near" CPUs (a line in <= 100 ns), and those that did not.
# With no variable set (what CI runs) it takes about 25 s: 2 s per run, 1 round, 0 and 1 reader;
# FULL=1 takes about 8 (figures for the docs: 6 s per run, 3 rounds in alternating order).
# Never fails on a figure; exit status 1 only when a run produced nothing.
if [ "${SMOKE:-0}" = 1 ]; then
	export SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-1} READERS=${READERS:-1 2}
elif [ "${FULL:-0}" != 1 ]; then
	export SECONDS_PER_RUN=${SECONDS_PER_RUN:-2} ROUNDS=${ROUNDS:-1} READERS=${READERS:-0 1}
fi
. "$(dirname "$0")/lib.sh"
reader=$build/bench/client_reader
pingpong=$build/bench/line_pingpong
readers=${READERS:-0 1 2 4 8}
modes=${MODES:-poll sleep}
policies=${POLICIES:-srp frp}
size=${SIZE:-64}
cap=${CAPACITY:-32768}
rcpus=${READER_CPUS:-0}
warm=$(( secs >= 5 ? 2 : 1 ))
win=$(( secs - warm - 1 > 0 ? secs - warm - 1 : 1 ))
inst=bfan$$
export BELTLINE_RUN_DIR=$tmp/run
eal_prefixes+=("bl_$inst")
track() { echo "$1" >> "$tmp/pids"; }
bench_cleanup() {
	local p
	[ -f "$tmp/pids" ] || return 0
	while read -r p; do kill -KILL "$p" 2> /dev/null || true; done < "$tmp/pids"
	sleep 0.2
}
[ -x "$reader" ] || { echo "fanout: no $reader (build first)"; exit 1; }
pcpu=1; rcpu1=${rcpus%%[,-]*}
# one line's move between the producer's CPU and the first reader's, in ns ("nan": not measured)
line_ns() { "$pingpong" "$pcpu" "$rcpu1" 2> /dev/null | sed -n 's/^line_one_way_ns=\([0-9]*\).*/\1/p' | grep . || echo nan; }
hp=$([ "$mem" = yes ] && echo yes || echo no)
maxr=8
for n in $readers; do [ "$n" -le "$maxr" ] || maxr=$n; done

kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
# CPU time of a process in ns, all its threads (schedstat: the scheduler's own clock, finer
# than the 10 ms ticks of cpu_ticks, which a producer given a few % of a CPU rounds to 0).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2> /dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
rt=()
[ "${RT:-0}" = 1 ] && [ "$(id -u)" -eq 0 ] && rt=(chrt -r 2)
counters() {   # "written dropped overwritten" of the stream, now
	BELTLINE_INSTANCE=$inst "$build/app/beltline/beltline" stats --json 2> /dev/null |
		jq -r '.streams[0] | "\(.written) \(.dropped) \(.overwritten)"' 2> /dev/null || echo "0 0 0"
}

# One run: "written_Mpps offered_Mpps readers_rx_sum_Mpps readers_rx_min_Mpps lost_sum reader_cores
# producer_cores other_cores" (other: the machine's busy time that is neither: the kernel, other work)
run_fan() {   # mode policy n
	local mode=$1 pol=$2 n=$3 bp i t0 w0 w1 c0 c1 s0 s1 ta tb wr rp=() sl=()
	[ "$mode" = sleep ] && sl=(--sleep)
	cat > "$tmp/f.json" <<JSON
{ "instance": "$inst", "memory": { "hugepages": "$hp" },
  "mbufs": { "count": $(( cap * 2 + 8191 )), "cache": ${MBUF_CACHE:-256} }, "burst": 32,
  "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "unused", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen size=$size ${GEN_ARGS:-}| export name=b policy=$pol capacity=$cap max_readers=$maxr ${EXPORT_ARGS:-}" } ] }
JSON
	"${rt[@]}" "$beltlined" -q --duration "$((secs + warm + 10))" "$tmp/f.json" > "$tmp/f.out" 2> "$tmp/f.err" &
	bp=$!; track "$bp"
	# up to 60 s: a loaded machine may take that long to start it (tests/README.md)
	for _ in $(seq 1200); do [ -S "$BELTLINE_RUN_DIR/$inst/ctl" ] && break; sleep 0.05; done
	t0=$(awk -v n="$(now)" -v w="$warm" 'BEGIN { printf "%.3f", n + w }')
	for i in $(seq "$n"); do
		"${rt[@]}" taskset -c "$rcpus" "$reader" "${sl[@]}" ${READER_ARGS:-} --at "$t0" --duration "$win" "beltline://$inst/b" \
			> "$tmp/r$i.out" 2> "$tmp/r$i.err" &
		rp+=($!); track $!
	done
	sleep_until "$t0"
	ta=$(now); w0=$(counters); c0=$(cpu_ns "$bp"); s0=$(sys_ticks)
	sleep "$win"
	w1=$(counters); c1=$(cpu_ns "$bp"); s1=$(sys_ticks); tb=$(now)
	# The window as it really was: this script may be slow to take its snapshots
	# (a busy machine, or RT=1 processes above it).
	wr=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.3f", b - a }')
	for i in "${rp[@]}"; do wait "$i" || true; done
	kill -TERM "$bp" 2> /dev/null || true; wait "$bp" || true
	local rx=() lost=0 cpu=0 wk=0 v
	for i in $(seq "$n"); do
		v=$(kv pps < "$tmp/r$i.out"); rx+=("${v:-0}")
		v=$(kv lost < "$tmp/r$i.out"); lost=$((lost + ${v:-0}))
		cpu=$(awk -v a="$cpu" -v b="$(kv cpu_s < "$tmp/r$i.out")" 'BEGIN { print a + b }')
		v=$(kv wakeups < "$tmp/r$i.out"); wk=$((wk + ${v:-0}))
	done
	echo "$wk" > "$tmp/wakeups"
	# The export filter's own cost per packet (the runtime's per-filter cycle count):
	# what the producer pays per packet for its readers, at any rate.
	# And gen's, where the rest of a reader's cost lands (docs/performance.md).
	jq -r '"export \(.graphs[0].filters.export | .cycles / (.in + 1) | floor), gen \(.graphs[0].filters.gen | .cycles / (.out + 1) | floor)"' \
		"$tmp/f.out" > "$tmp/excyc" 2> /dev/null || echo "export ?" > "$tmp/excyc"
	awk -v a="$w0" -v b="$w1" -v w="$wr" -v rx="${rx[*]}" -v lost="$lost" -v cpu="$cpu" \
		-v ct=$((c1 - c0)) -v st=$((s1 - s0)) -v hz="$clk_tck" 'BEGIN {
		split(a, x); split(b, y); n = split(rx, r, " ")
		if (y[1] - x[1] <= 0) { print "nan nan nan nan 0 0 0 0"; exit }
		s = 0; m = -1; for (i = 1; i <= n; i++) { s += r[i]; if (m < 0 || r[i] < m) m = r[i] }
		if (m < 0) m = 0
		o = st / hz / w - ct / 1e9 / w - cpu / w
		printf "%.3f %.3f %.3f %.3f %d %.2f %.4f %.2f\n", (y[1] - x[1]) / w / 1e6,
			(y[1] - x[1] + y[2] - x[2]) / w / 1e6, s / 1e6, m / 1e6, lost, cpu / w, ct / 1e9 / w,
			(o > 0 ? o : 0) }'
}

echo "fanout: gen size=$size | export (capacity $cap${EXPORT_ARGS:+ $EXPORT_ARGS}) with readers $readers, modes $modes," \
	"policies $policies, readers on CPU $rcpus, hugepages=$mem, ${win}s window after ${warm}s x $rounds rounds${rt:+, SCHED_RR}"
: > "$tmp/all"
for r in $(seq "$rounds"); do
	order=$readers
	[ $((r % 2)) = 0 ] && order=$(echo "$readers" | tr ' ' '\n' | tac | tr '\n' ' ')
	for mode in $modes; do
		for pol in $policies; do
			for n in $order; do
				wait_quiet
				l0=$(line_ns)
				read -r wr of rs rm lo rc pc oc < <(run_fan "$mode" "$pol" "$n") || true
				l1=$(line_ns)
				ln=$(awk -v a="$l0" -v b="$l1" 'BEGIN { if (a == "nan" || b == "nan") print "nan"; else print (a > b ? a : b) }')
				b=0; [ -n "$oc" ] && is_busy "$oc" && b=1
				printf '  round %d %-5s %s %d readers: written %7s Mpps (offered %7s)  readers rx sum %7s min %7s Mpps, lost %s; CPU cores: readers %s, producer %s, other %s; reader wakeups %s/s; %s cycles/pkt; line %s ns%s\n' \
					"$r" "$mode" "$pol" "$n" "$wr" "$of" "$rs" "$rm" "$lo" "$rc" "$pc" "$oc" \
					"$(( $(cat "$tmp/wakeups" 2> /dev/null || echo 0) / win ))" \
					"$(cat "$tmp/excyc" 2> /dev/null || echo "?")" "$ln" "$([ $b = 1 ] && echo "  busy")"
				# per producer CPU-second (its process's CPU time in the window): what a
				# reader costs the producer, whatever share of a CPU a busy machine left it
				wc=$(awk -v w="$wr" -v c="$pc" 'BEGIN { if (c + 0 > 0 && w != "nan") printf "%.3f", w / c; else print "nan" }')
				oc2=$(awk -v w="$of" -v c="$pc" 'BEGIN { if (c + 0 > 0 && w != "nan") printf "%.3f", w / c; else print "nan" }')
				echo "$r $mode $pol $n $wr $of $rs $rm $lo $rc $b $pc $wc $oc2 $ln" >> "$tmp/all"
			done
		done
	done
done

# quiet=1: only runs not marked busy (a cost needs both of its round's runs quiet).
quiet=0
summary() {
for mode in $modes; do
	for pol in $policies; do
		echo "$mode $pol (medians over rounds$([ "$quiet" = 1 ] && echo ", quiet runs only"); runs counted:" \
			"$(awk -v m="$mode" -v p="$pol" -v q="$quiet" '$2 == m && $3 == p && (!q || $11 == 0)' "$tmp/all" | wc -l)" \
			"of $(awk -v m="$mode" -v p="$pol" '$2 == m && $3 == p' "$tmp/all" | wc -l)):"
		printf '  %7s %10s %10s %12s %12s %10s %12s %14s %14s\n' readers written offered "rx sum" "rx min" lost \
			"reader cpu" "cost/extra" "cost/reader"
		for n in $readers; do
			sel() { awk -v m="$mode" -v p="$pol" -v n="$n" -v c="$1" -v q="$quiet" \
				'$2 == m && $3 == p && $4 == n && (!q || $11 == 0) { print $c }' "$tmp/all"; }
			wr=$(sel 5 | median)
			[ "$quiet" = 1 ] || { [ -n "$wr" ] && [ "$wr" != nan ]; } || bad=1
			# per round: (1 - written(n) / written(1)) / (n - 1), for n > 1
			cost=$(awk -v m="$mode" -v p="$pol" -v n="$n" -v q="$quiet" '!q || $11 == 0 {
				if ($2 == m && $3 == p && $4 == 1) one[$1] = $5
				if ($2 == m && $3 == p && $4 == n) w[$1] = $5 }
				END { if (n > 1) for (r in w) if ((r in one) && one[r] > 0 && w[r] != "nan")
					printf "%.4f\n", (1 - w[r] / one[r]) / (n - 1) }' "$tmp/all" | median)
			[ "$n" -gt 1 ] && cost=$(awk -v c="$cost" 'BEGIN { if (c == "") print "-"; else printf "%.1f%%", c * 100 }') || cost=-
			# per round: (1 - written(n) / written(0)) / n, for n > 0: each reader's share
			cost0=$(awk -v m="$mode" -v p="$pol" -v n="$n" -v q="$quiet" '!q || $11 == 0 {
				if ($2 == m && $3 == p && $4 == 0) zero[$1] = $5
				if ($2 == m && $3 == p && $4 == n) w[$1] = $5 }
				END { if (n > 0) for (r in w) if ((r in zero) && zero[r] > 0 && w[r] != "nan")
					printf "%.4f\n", (1 - w[r] / zero[r]) / n }' "$tmp/all" | median)
			[ "$n" -gt 0 ] && cost0=$(awk -v c="$cost0" 'BEGIN { if (c == "") print "-"; else printf "%.1f%%", c * 100 }') || cost0=-
			printf '  %7d %10s %10s %12s %12s %10s %12s %14s %14s\n' "$n" "$wr" "$(sel 6 | median)" "$(sel 7 | median)" \
				"$(sel 8 | median)" "$(sel 9 | median)" "$(sel 10 | median)" "$cost" "$cost0"
		done
	done
done
}
echo
bad=0
summary
if [ "$(awk '$11 == 1' "$tmp/all" | wc -l)" -gt 0 ]; then
	echo; echo "Some runs were busy with other work (more than $busy_max cores); the same over the quiet runs only:"
	quiet=1 summary
fi
# The first reader's cost (issue 10: <= 10% of the no-reader rate), and that of 2, 4 and 8:
# per round, w(N)/w(0) of the written rate, of the offered one (SRP writes only what its
# slowest reader frees: with a reader slower than the producer, offered is the producer's
# own rate), and of both per producer CPU-second (steady when the machine is busy: a
# producer that was given less of a CPU writes less, but not per CPU-second).
first_reader() {
	local mode pol col what n
	for mode in $modes; do
		for pol in $policies; do
			for col in 5 6 13 14; do
				case $col in 5) what=written ;; 6) what=offered ;; 13) what=written/cpu ;; 14) what=offered/cpu ;; esac
				[ "$col" = 6 -o "$col" = 14 ] && [ "$pol" = frp ] && continue   # FRP never drops: the same
				for n in $readers; do
					[ "$n" -gt 0 ] || continue
					for place in all near far; do
					awk -v m="$mode" -v p="$pol" -v c="$col" -v what="$what" -v n="$n" -v place="$place" '
					function srt(v, k,   i, j, t) { for (i = 2; i <= k; i++) { t = v[i]; for (j = i - 1; j > 0 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t } }
					# a run on near CPUs: its line moved in <= 100 ns before and after it
					function keep(l) { return place == "all" || (l != "nan" && (place == "near") == (l + 0 <= 100)) }
					$2 == m && $3 == p && $4 == 0 && $c != "nan" && keep($15) { z[$1] = $c }
					$2 == m && $3 == p && $4 == n && $c != "nan" && keep($15) { o[$1] = $c }
					END {
						k = 0; for (r in o) if ((r in z) && z[r] > 0) { x[++k] = o[r] / z[r]; a[k] = z[r]; b[k] = o[r] }
						if (k == 0) exit
						srt(x, k); srt(a, k); srt(b, k)
						md = x[int((k + 1) / 2)]
						printf "%-12s %-5s %s %-11s %s no reader %7.3f, %d reader%s %7.3f, ratio %.3f (cost %.1f%%; rounds %d, ratio %.3f..%.3f)\n",
							(n == 1 ? "first reader:" : "readers " n ":"), m, p, what,
							(place == "all" ? "        " : place == "near" ? "(near)  " : "(far)   "),
							a[int((k + 1) / 2)], n, (n == 1 ? " " : "s"),
							b[int((k + 1) / 2)], md, (1 - md) * 100, k, x[1], x[k]
					}' "$tmp/all"
					done
				done
			done
		done
	done
	echo "(Mpps, /cpu: Mpps per CPU-second of the producer's process; target: the first reader's"
	echo " cost <= 10%. The export and gen cycles/pkt in the round lines are the producer's own"
	echo " cost of the stream, steadier than rates on a shared machine; (near): rounds whose two runs"
	echo " had the CPUs a cache line moves between in <= 100 ns, (far): the others; see line_pingpong.c)"
}
case " $readers " in *" 0 "*) echo; first_reader ;; esac
echo "(Mpps; cost/extra: the producer's written rate lost per reader beyond the first, (1 - w(N)/w(1))/(N-1),"
echo " target < 5%; cost/reader: against no reader at all, (1 - w(N)/w(0))/N; both per round, then the median)"
# CSV=FILE (bench/lib.sh): one row per run, the columns of $tmp/all
csv_rows round,mode,policy,readers,written_mpps,offered_mpps,rx_sum_mpps,rx_min_mpps,lost,reader_cores,busy,producer_cores,written_per_cpu,offered_per_cpu,line_ns < "$tmp/all"
no_figure "$bad"
