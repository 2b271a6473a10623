#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Delivery to one client process (issue 5, point 9 A), at each packet size, in
# alternating rounds of one run:
#   beltline   beltlined `gen size=S fill=F | export name=b policy=P` on one worker lcore
#              (CPU 1), read by bench/client_reader (libbeltline-client only,
#              zero-copy, busy-polling, on CPU 0), for each policy P;
#   memif      dpdk-testpmd txonly --txpkts=S as net_memif server (forwarding
#              on CPU 1) into a second dpdk-testpmd rxonly as memif client
#              (forwarding on CPU 0);
#   af_packet  beltlined `gen size=S fill=F | tx` on net_af_packet into one end of a
#              veth pair in a network namespace made here, tcpdump -w /dev/null
#              capturing on the other end (CPU 0).
# Per run: packets per second the client received over a window (after a
# warm-up), what was lost, and CPU per packet: utime+stime of both processes
# (/proc/PID/stat) over the window, divided by the packets received in it;
# "machine" is all CPUs' busy time (/proc/stat) over the same window, which
# also holds what the kernel did in softirq context. Medians, per-round ratios.
# The producers do the same work per packet: testpmd txonly writes only the
# Ethernet/IPv4/UDP headers into each mbuf and leaves the payload as the mbuf
# held it, so gen runs with fill=headers too (GEN_FILL=headers, the default).
# With GEN_FILL=all gen copies the whole S-byte template into every packet, and
# at 1500 B the figure then measures gen's memcpy more than the delivery.
#
#   bench/client_vs_memif.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (3; 6 with FULL=1), ROUNDS (1; 3 with FULL=1), SIZES ("64 1500"), POLICIES ("srp frp"),
#        CAPACITY (4096: the stream's slots), READER_ARGS (more client_reader options,
#        e.g. "--touch 0" to read every byte, "--burst 32"), SMOKE=1 (3 s, 1 round),
#        GEN_FILL (headers: gen's fill=, "all" to write every byte of every packet),
#        BUSY_MAX, QUIET_WAIT (bench/lib.sh: wait for a quiet machine, mark busy runs),
#        CSV=FILE (append one row per run: round,size_b,kind,mpps,cpu_ns_per_pkt,machine_ns_per_pkt,busy)
# With no variable set (what CI runs) it takes about a minute; FULL=1
# (figures for the docs) about 4 minutes.
# Never fails on a figure. Exit status 1 only when a run produced nothing. An
# af_packet run that cannot make a network namespace is skipped, and says so.
if [ "${SMOKE:-0}" = 1 ]; then export SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-1}
elif [ "${FULL:-0}" != 1 ]; then export SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-1}; fi
. "$(dirname "$0")/lib.sh"
reader=$build/bench/client_reader
sizes=${SIZES:-64 1500}
policies=${POLICIES:-srp frp}
cap=${CAPACITY:-4096}
fill=${GEN_FILL:-headers}
case $fill in all|headers) ;; *) echo "client_vs_memif: GEN_FILL must be all or headers, got \"$fill\""; exit 1;; esac
warm=$(( secs >= 5 ? 2 : 1 ))
win=$(( secs - warm - 1 > 0 ? secs - warm - 1 : 1 ))
inst=bcm$$
ns=blbench$$
export BELTLINE_RUN_DIR=$tmp/run
eal_prefixes+=(ms$$ mc$$ "bl_$inst" "bl_bap$$")
# Every process a run starts, by pid (runs are subshells): killed at exit if still there.
track() { echo "$1" >> "$tmp/pids"; }
bench_cleanup() {
	local p
	if [ -f "$tmp/pids" ]; then
		while read -r p; do kill -KILL "$p" 2> /dev/null || true; done < "$tmp/pids"
		sleep 0.2
	fi
	[ ! -f "$tmp/netns" ] || ip netns del "$ns" 2> /dev/null || true
}
[ -x "$reader" ] || { echo "client_vs_memif: no $reader (build first)"; exit 1; }
hp=$([ "$mem" = yes ] && echo yes || echo no)

# A window of $win s starting $warm s from now: sets t0 and t1 (epoch seconds).
window_at() { t0=$(awk -v n="$(now)" -v w="$1" 'BEGIN { printf "%.3f", n + w }'); }
# CPU ns per packet: ticks of the processes over the window, packets received in it.
ns_per() { awk -v t="$1" -v hz="$clk_tck" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e9 / n; else print "nan" }'; }

appliance_json() {   # instance pipeline port-vdev
	cat <<JSON
{ "instance": "$1", "memory": { "hugepages": "$hp" },
  "mbufs": { "count": $(( cap * 2 + 8191 )), "cache": 256 }, "burst": 32,
  "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "out", "vdev": "$3" } ],
  "graphs": [ { "lcores": [1], "pipeline": $(printf '%s' "$2" | jq -Rs .) } ] }
JSON
}

kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }   # a key's value in a client_reader line

stream_counters() {   # written dropped overwritten
	BELTLINE_INSTANCE=$inst "$build/app/beltline/beltline" stats --json 2> /dev/null |
		jq -r '.streams[0] | "\(.written) \(.dropped) \(.overwritten)"' 2> /dev/null || echo "0 0 0"
}

# One beltline run: prints "pps ns_per_pkt machine_ns lost producer_dropped".
run_beltline() {   # size policy
	local size=$1 pol=$2 bp rp c0 c1 s0 s1 w0 w1 out
	appliance_json "$inst" "gen size=$size fill=$fill | export name=b policy=$pol capacity=$cap" \
		net_null0 > "$tmp/bl.json"
	"$beltlined" -q --duration "$((secs + warm + 5))" "$tmp/bl.json" > "$tmp/bl.out" 2> "$tmp/bl.err" &
	bp=$!; track "$bp"
	# up to 60 s: a loaded machine may take that long to start it (tests/README.md)
	for _ in $(seq 1200); do [ -S "$BELTLINE_RUN_DIR/$inst/ctl" ] && break; sleep 0.05; done
	window_at "$warm"
	taskset -c 0 "$reader" ${READER_ARGS:-} --at "$t0" --duration "$win" "beltline://$inst/b" > "$tmp/rd.out" 2> "$tmp/rd.err" &
	rp=$!; track "$rp"
	sleep_until "$t0"
	c0=$(cpu_ticks "$bp"); s0=$(sys_ticks); w0=$(stream_counters)
	sleep "$win"
	c1=$(cpu_ticks "$bp"); s1=$(sys_ticks); w1=$(stream_counters)
	wait "$rp" || true
	kill -TERM "$bp" 2> /dev/null || true; wait "$bp" || true
	jq -r '.graphs[0].filters | "gen \(.gen.cycles / (.gen.out + 1) | floor), export \(.export.cycles / (.export.in + 1) | floor)"' \
		"$tmp/bl.out" > "$tmp/cyc" 2> /dev/null || echo "? ?" > "$tmp/cyc"
	out=$(cat "$tmp/rd.out")
	local n pps lost rcpu
	n=$(kv received <<< "$out"); pps=$(kv pps <<< "$out"); lost=$(kv lost <<< "$out")
	rcpu=$(kv cpu_s <<< "$out")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "nan nan nan 0 0"; return; }
	# the producer's ticks plus the reader's own CPU seconds over its window
	echo "$(awk -v p="$pps" 'BEGIN { printf "%.3f", p / 1e6 }') \
$(awk -v t=$((c1 - c0)) -v hz="$clk_tck" -v r="$rcpu" -v n="$n" 'BEGIN { printf "%.1f", (t / hz + r) * 1e9 / n }') \
$(ns_per $((s1 - s0)) "$n") $lost $(awk -v a="$w0" -v b="$w1" 'BEGIN { split(a, x); split(b, y); print y[2] - x[2] + y[3] - x[3] }')"
}

# One memif run: prints "pps ns_per_pkt machine_ns sender_tx_pps".
run_memif() {   # size
	local size=$1 sp cp c0 c1 s0 s1 sock=$tmp/memif.sock
	rm -f "$sock"
	stdbuf -oL "$testpmd" -l 0,1 --main-lcore 0 --no-pci "${eal_mem[@]}" --file-prefix "ms$$" --log-level '*:warning' \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" -- \
		--forward-mode=txonly --txpkts="$size" --auto-start --stats-period 1 --burst=32 \
		< /dev/null > "$tmp/ms.out" 2>&1 &
	sp=$!; track "$sp"
	for _ in $(seq 1200); do [ -S "$sock" ] && break; sleep 0.05; done   # up to 60 s
	stdbuf -oL "$testpmd" -l 0,1 --main-lcore 1 --no-pci "${eal_mem[@]}" --file-prefix "mc$$" --log-level '*:warning' \
		--vdev "net_memif0,role=client,socket=$sock,socket-abstract=no" -- \
		--forward-mode=rxonly --auto-start --stats-period 1 --burst=32 \
		< /dev/null > "$tmp/mc.out" 2>&1 &
	cp=$!; track "$cp"
	# The pair connects in its own time (a second or more on a busy machine): the
	# window opens once the client receives (up to 60 s), then the warm-up, and lasts
	# at least 2 s, so that it holds a whole 1 s stats period.
	for _ in $(seq 600); do
		grep -q 'Rx-pps: *[1-9]' "$tmp/mc.out" 2> /dev/null && break
		sleep 0.1
	done
	window_at "$warm"
	sleep_until "$t0"
	local o0 o1 q0 q1 w=$((win > 2 ? win : 2))   # the per-second lines printed inside the window
	o0=$(stat -c %s "$tmp/mc.out"); q0=$(stat -c %s "$tmp/ms.out")
	c0=$(cpu_ticks "$sp" "$cp"); s0=$(sys_ticks)
	sleep "$w"
	c1=$(cpu_ticks "$sp" "$cp"); s1=$(sys_ticks)
	o1=$(stat -c %s "$tmp/mc.out"); q1=$(stat -c %s "$tmp/ms.out")
	{ tail -c +$((o0 + 1)) "$tmp/mc.out" | head -c $((o1 - o0)) > "$tmp/mc.win"; } || true
	{ tail -c +$((q0 + 1)) "$tmp/ms.out" | head -c $((q1 - q0)) > "$tmp/ms.win"; } || true
	kill -INT "$cp" 2> /dev/null || true; wait "$cp" || true
	kill -INT "$sp" 2> /dev/null || true; wait "$sp" || true
	local rx tx n
	rx=$(grep -o 'Rx-pps: *[0-9]*' "$tmp/mc.win" | awk '{ print $2 }' | skip=0 avg)
	tx=$(grep -o 'Tx-pps: *[0-9]*' "$tmp/ms.win" | awk '$2 > 0 { print $2 }' | skip=0 avg)
	[ "$rx" != nan ] || { echo "nan nan nan nan"; return; }
	n=$(awk -v r="$rx" -v w="$w" 'BEGIN { printf "%.0f", r * w }')
	echo "$(awk -v r="$rx" 'BEGIN { printf "%.3f", r / 1e6 }') $(ns_per $((c1 - c0)) "$n") \
$(ns_per $((s1 - s0)) "$n") $(awk -v r="$tx" 'BEGIN { printf "%.3f", r / 1e6 }')"
}

# The namespace and veth pair for af_packet, made once.
make_netns() {
	ip netns add "$ns" 2> "$tmp/ns.err" || return 1
	touch "$tmp/netns"
	ip -n "$ns" link add va type veth peer name vb 2>> "$tmp/ns.err" &&
		ip -n "$ns" link set va up && ip -n "$ns" link set vb up
}

tcpdump_counts() {   # pid: "captured dropped_by_kernel" as of now
	local before
	before=$(grep -c 'packets captured' "$tmp/td.err" || true)
	kill -USR1 "$1"
	for _ in $(seq 100); do
		[ "$(grep -c 'packets captured' "$tmp/td.err" || true)" -gt "$before" ] && break; sleep 0.01
	done
	grep 'packets captured' "$tmp/td.err" | tail -1 |
		sed -n 's/.* \([0-9]*\) packets captured, [0-9]* packets received by filter, \([0-9]*\) packets dropped by kernel.*/\1 \2/p'
}

# One af_packet run: prints "pps ns_per_pkt machine_ns kernel_drops sender_tx_pps sender_tx_dropped".
run_afpacket() {   # size
	local size=$1 bp tp c0 c1 s0 s1 k0 k1
	appliance_json "bap$$" "gen size=$size fill=$fill | tx port=out" "net_af_packet0,iface=va" > "$tmp/ap.json"
	ip netns exec "$ns" taskset -c 0 tcpdump -i vb -n -w /dev/null 2> "$tmp/td.err" &
	tp=$!; track "$tp"
	for _ in $(seq 1200); do grep -q listening "$tmp/td.err" && break; sleep 0.05; done   # up to 60 s
	ip netns exec "$ns" "$beltlined" -q --duration "$((secs + warm + 5))" "$tmp/ap.json" \
		> "$tmp/ap.out" 2> "$tmp/ap.err" &
	bp=$!; track "$bp"
	window_at "$warm"
	sleep_until "$t0"
	k0=$(tcpdump_counts "$tp"); c0=$(cpu_ticks "$bp" "$tp"); s0=$(sys_ticks)
	sleep "$win"
	k1=$(tcpdump_counts "$tp"); c1=$(cpu_ticks "$bp" "$tp"); s1=$(sys_ticks)
	kill -TERM "$bp" 2> /dev/null || true; wait "$bp" || true
	kill -INT "$tp" 2> /dev/null || true; wait "$tp" || true
	local n drops
	n=$(awk -v a="$k0" -v b="$k1" 'BEGIN { split(a, x); split(b, y); print y[1] - x[1] }')
	drops=$(awk -v a="$k0" -v b="$k1" 'BEGIN { split(a, x); split(b, y); print y[2] - x[2] }')
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "nan nan nan 0 nan 0"; return; }
	echo "$(awk -v n="$n" -v w="$win" 'BEGIN { printf "%.3f", n / w / 1e6 }') $(ns_per $((c1 - c0)) "$n") \
$(ns_per $((s1 - s0)) "$n") $drops \
$(jq -r '"\((.ports.out.tx // 0) / .elapsed_s / 1e6 * 1000 | floor / 1000) \(.ports.out.tx_dropped // 0)"' "$tmp/ap.out" 2> /dev/null || echo nan 0)"
}

afp=yes
if ! make_netns; then
	afp=no
	echo "client_vs_memif: af_packet skipped: cannot make a network namespace ($(head -1 "$tmp/ns.err"))"
fi
echo "client_vs_memif: delivery to one client, sizes $sizes, policies $policies, capacity $cap," \
	"gen fill=$fill, hugepages=$mem, ${win}s window after ${warm}s x $rounds rounds"
echo "  columns: Mpps received; CPU ns/packet of both processes; of the whole machine; then losses."
echo "  'busy': other work used more than $busy_max cores during the window (machine minus the two processes)"
# Other work during the window, in cores, and a 0/1 busy flag (af_packet: never
# flagged, since the kernel's softirq work for the veth is part of its cost).
other() { awk -v p="$1" -v n="$2" -v m="$3" 'BEGIN { if (p == "nan") { print "nan"; exit } o = (m - n) * p / 1000; printf "%.2f", (o > 0 ? o : 0) }'; }
busyflag() { [ "$1" != nan ] && is_busy "$1" && echo 1 || echo 0; }
: > "$tmp/all"
# A run that produced no figure (a loaded machine may not have started both
# processes by the end of the warm-up) runs once more with four times the warm-up;
# only a second miss counts as "produced nothing".
tryrun() {
	local out
	out=$("$@") || true
	if [ -z "$out" ] || [ "${out%% *}" = nan ]; then
		echo "  ($* produced no figure: once more with a $((warm * 4)) s warm-up)" >&2
		out=$(warm=$((warm * 4)) "$@") || true
	fi
	echo "$out"
}
for r in $(seq "$rounds"); do
	for size in $sizes; do
		wait_quiet
		read -r mp mn mm mtx < <(tryrun run_memif "$size") || true
		mo=$(other "$mp" "$mn" "$mm"); mb=$(busyflag "$mo")
		printf '  round %d %4d B  memif        %8s Mpps  %7s ns/pkt  machine %7s  (server tx %s Mpps)%s\n' \
			"$r" "$size" "$mp" "$mn" "$mm" "$mtx" "$([ "$mb" = 1 ] && echo "  busy: $mo cores")"
		echo "$r $size memif $mp $mn $mm $mb" >> "$tmp/all"
		for pol in $policies; do
			wait_quiet
			read -r bp bn bm blost bdrop < <(tryrun run_beltline "$size" "$pol") || true
			bo=$(other "$bp" "$bn" "$bm"); bb=$(busyflag "$bo")
			printf '  round %d %4d B  beltline %s %8s Mpps  %7s ns/pkt  machine %7s  (client lost %s, producer dropped/overwrote %s; cycles/pkt %s)%s\n' \
				"$r" "$size" "$pol" "$bp" "$bn" "$bm" "$blost" "$bdrop" "$(cat "$tmp/cyc" 2> /dev/null)" \
				"$([ "$bb" = 1 ] && echo "  busy: $bo cores")"
			echo "$r $size bl_$pol $bp $bn $bm $bb" >> "$tmp/all"
		done
		if [ "$afp" = yes ]; then
			wait_quiet
			read -r ap an am adrop atx atxd < <(tryrun run_afpacket "$size") || true
			printf '  round %d %4d B  af_packet    %8s Mpps  %7s ns/pkt  machine %7s  (kernel drops %s; sender tx %s Mpps, tx_dropped %s)\n' \
				"$r" "$size" "$ap" "$an" "$am" "$adrop" "$atx" "$atxd"
			echo "$r $size afp $ap $an $am 0" >> "$tmp/all"
		fi
	done
done

# Medians and per-round ratios, per size.
# quiet=1: only runs not marked busy (a ratio needs both of its round's runs quiet).
quiet=0
col() { awk -v s="$1" -v k="$2" -v c="$3" -v q="$quiet" '$2 == s && $3 == k && (!q || $7 == 0) { print $c }' "$tmp/all"; }
rratio() {   # size what ref column: per-round ratios what/ref
	awk -v s="$1" -v a="$2" -v b="$3" -v c="$4" -v q="$quiet" '
		$2 == s && $3 == a && (!q || $7 == 0) { x[$1] = $c } $2 == s && $3 == b && (!q || $7 == 0) { y[$1] = $c }
		END { for (r in x) if ((r in y) && x[r] != "nan" && y[r] != "nan" && y[r] > 0) printf "%.3f\n", x[r] / y[r] }' "$tmp/all"
}
summary() {
for size in $sizes; do
	echo "$size B (medians$([ "$quiet" = 1 ] && echo ", quiet runs only"); runs counted: $(awk -v s="$size" -v q="$quiet" '$2 == s && (!q || $7 == 0)' "$tmp/all" | wc -l) of $(awk -v s="$size" '$2 == s' "$tmp/all" | wc -l)):"
	kinds="memif $(for p in $policies; do printf 'bl_%s ' "$p"; done)"
	[ "$afp" = yes ] && kinds="$kinds afp"
	for k in $kinds; do
		m=$(col "$size" "$k" 4 | median)
		[ "$quiet" = 1 ] || { [ -n "$m" ] && [ "$m" != nan ]; } || bad=1
		printf '  %-10s %8s Mpps  %7s ns/pkt (processes)  %7s ns/pkt (machine)\n' "$k" "$m" \
			"$(col "$size" "$k" 5 | median)" "$(col "$size" "$k" 6 | median)"
	done
	target=$([ "$size" -ge 1000 ] && echo 2 || echo 1)
	for p in $policies; do
		rr=$(rratio "$size" "bl_$p" memif 4 | sort -g)
		echo "  beltline $p / memif pps: per round $(echo $rr) (median $(echo "$rr" | median); target >= $target)"
		rr=$(rratio "$size" memif "bl_$p" 5 | sort -g)
		echo "  memif / beltline $p CPU per packet: per round $(echo $rr) (median $(echo "$rr" | median))"
		if [ "$afp" = yes ]; then
			rr=$(rratio "$size" "bl_$p" afp 4 | sort -g)
			echo "  beltline $p / af_packet pps: per round $(echo $rr) (median $(echo "$rr" | median))"
		fi
	done
done
}
echo
bad=0
summary
if [ "$(awk '$7 == 1' "$tmp/all" | wc -l)" -gt 0 ]; then
	echo; echo "Some runs were busy with other work; the same over the quiet runs only:"
	quiet=1 summary
fi
csv_rows round,size_b,kind,mpps,cpu_ns_per_pkt,machine_ns_per_pkt,busy < "$tmp/all"
no_figure "$bad"
