#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A client that writes (issue 10, point 6a), at each frame size, in alternating
# rounds of one run:
#   beltline   bench/client_writer (libbeltline-client only, on CPU 0) writing
#              S-byte frames into beltlined `inject name=w zero_copy=Z | tx port=null`
#              (net_null) on one worker lcore (CPU 1), for Z = yes (the writer's
#              buffers attached to mbufs) and no (one copy into an mbuf each);
#   memif      dpdk-testpmd txonly --txpkts=S as net_memif client (forwarding on
#              CPU 0) feeding a second dpdk-testpmd, the net_memif server, that
#              forwards (io) to net_null (forwarding on CPU 1).
# Both writers write the headers only (Ethernet/IPv4/UDP, 42 bytes, as txonly
# does) and leave the payload as the buffer held it. Per run: frames per second
# over a window after a warm-up: what the writer committed (beltline; the ring
# is at most CAPACITY ahead of what was sent) and what the server sent to
# net_null (memif). Medians and per-round ratios, the targets next to them.
#
#   bench/write_vs_memif.sh [BUILD_DIR]
#   env: SECONDS_PER_RUN (3; 6 with FULL=1), ROUNDS (1; 3 with FULL=1), SIZES ("64 1500"),
#        MODES ("yes no": inject's zero_copy=), CAPACITY (1024: the writer's buffers),
#        SMOKE=1 (3 s, 1 round), BUSY_MAX, QUIET_WAIT (bench/lib.sh)
# With no variable set (what CI runs) it takes about a minute.
# Never fails on a figure. Exit status 1 only when a run produced nothing.
if [ "${SMOKE:-0}" = 1 ]; then export SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-1}
elif [ "${FULL:-0}" != 1 ]; then export SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-1}; fi
. "$(dirname "$0")/lib.sh"
writer=$build/bench/client_writer
sizes=${SIZES:-64 1500}
modes=${MODES:-yes no}
cap=${CAPACITY:-1024}
warm=$(( secs >= 5 ? 2 : 1 ))
win=$(( secs - warm - 1 > 0 ? secs - warm - 1 : 1 ))
inst=bwm$$
export BELTLINE_RUN_DIR=$tmp/run
eal_prefixes+=(ws$$ wc$$ "bl_$inst")
track() { echo "$1" >> "$tmp/pids"; }
bench_cleanup() {
	local p
	if [ -f "$tmp/pids" ]; then
		while read -r p; do kill -KILL "$p" 2> /dev/null || true; done < "$tmp/pids"
		sleep 0.2
	fi
}
[ -x "$writer" ] || { echo "write_vs_memif: no $writer (build first)"; exit 1; }
[ -n "$testpmd" ] || { echo "write_vs_memif: no dpdk-testpmd"; exit 1; }
hp=$([ "$mem" = yes ] && echo yes || echo no)

window_at() { t0=$(awk -v n="$(now)" -v w="$1" 'BEGIN { printf "%.3f", n + w }'); }
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# One beltline run: prints "Mpps cpu_ns_per_frame_of_the_writer".
run_beltline() {   # size zero_copy
	local size=$1 zc=$2 bp wp out n
	cat > "$tmp/bl.json" <<JSON
{ "instance": "$inst", "memory": { "hugepages": "$hp" }, "burst": 32,
  "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "null", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1],
    "pipeline": [ "inject name=w zero_copy=$zc capacity=$cap | tx port=null" ] } ] }
JSON
	"$beltlined" -q --duration "$((secs + warm + 60))" "$tmp/bl.json" > "$tmp/bl.out" 2> "$tmp/bl.err" &
	bp=$!; track "$bp"
	for _ in $(seq 1200); do [ -S "$BELTLINE_RUN_DIR/$inst/ctl" ] && break; sleep 0.05; done   # up to 60 s
	window_at "$warm"
	taskset -c 0 "$writer" --size "$size" --at "$t0" --duration "$win" "beltline://$inst/w" \
		> "$tmp/wr.out" 2> "$tmp/wr.err" &
	wp=$!; track "$wp"
	wait "$wp" || true
	kill -TERM "$bp" 2> /dev/null || true; wait "$bp" || true
	out=$(cat "$tmp/wr.out")
	n=$(kv committed <<< "$out")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "nan nan"; return; }
	echo "$(kv pps <<< "$out" | awk '{ printf "%.3f", $1 / 1e6 }') \
$(awk -v c="$(kv cpu_s <<< "$out")" -v n="$n" 'BEGIN { printf "%.1f", c * 1e9 / n }')"
}

# The server's net_null port (port 1: the second vdev) Tx-pps lines of a window.
null_tx_pps() { awk '/NIC statistics for port/ { for (i = 1; i <= NF; i++) if ($i == "port") p = $(i + 1) }
	/Tx-pps:/ && p == 1 && $2 > 0 { print $2 }' "$1"; }

# One memif run: prints "Mpps client_tx_Mpps".
run_memif() {   # size
	local size=$1 sp cp sock=$tmp/memif.sock o0 o1 q0 q1 rx tx
	rm -f "$sock"
	stdbuf -oL "$testpmd" -l 0,1 --main-lcore 0 --no-pci "${eal_mem[@]}" --file-prefix "ws$$" --log-level '*:warning' \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" --vdev "net_null0,no-rx=1" -- \
		--forward-mode=io --auto-start --stats-period 1 --burst=32 \
		< /dev/null > "$tmp/ms.out" 2>&1 &
	sp=$!; track "$sp"
	for _ in $(seq 1200); do [ -S "$sock" ] && break; sleep 0.05; done   # up to 60 s
	stdbuf -oL "$testpmd" -l 0,1 --main-lcore 1 --no-pci "${eal_mem[@]}" --file-prefix "wc$$" --log-level '*:warning' \
		--vdev "net_memif0,role=client,socket=$sock,socket-abstract=no" -- \
		--forward-mode=txonly --txpkts="$size" --auto-start --stats-period 1 --burst=32 \
		< /dev/null > "$tmp/mc.out" 2>&1 &
	cp=$!; track "$cp"
	# The pair connects in its own time (a second or more, longer on a busy machine):
	# the window opens once the server forwards (up to 60 s), then the warm-up, and
	# lasts at least 2 s, so that it holds a whole 1 s stats period.
	for _ in $(seq 600); do [ -n "$(null_tx_pps "$tmp/ms.out")" ] && break; sleep 0.1; done
	window_at "$warm"
	sleep_until "$t0"
	o0=$(stat -c %s "$tmp/ms.out"); q0=$(stat -c %s "$tmp/mc.out")
	sleep $((win > 2 ? win : 2))
	o1=$(stat -c %s "$tmp/ms.out"); q1=$(stat -c %s "$tmp/mc.out")
	{ tail -c +$((o0 + 1)) "$tmp/ms.out" | head -c $((o1 - o0)) > "$tmp/ms.win"; } || true
	{ tail -c +$((q0 + 1)) "$tmp/mc.out" | head -c $((q1 - q0)) > "$tmp/mc.win"; } || true
	kill -INT "$cp" 2> /dev/null || true; wait "$cp" || true
	kill -INT "$sp" 2> /dev/null || true; wait "$sp" || true
	rx=$(null_tx_pps "$tmp/ms.win" | skip=0 avg)
	tx=$(grep -o 'Tx-pps: *[0-9]*' "$tmp/mc.win" | awk '$2 > 0 { print $2 }' | skip=0 avg)
	[ "$rx" != nan ] || { echo "nan nan"; return; }
	echo "$(awk -v r="$rx" 'BEGIN { printf "%.3f", r / 1e6 }') $(awk -v r="$tx" 'BEGIN { printf "%.3f", r / 1e6 }')"
}

# A run without a figure (a loaded machine may not have started everything by
# the end of the warm-up) runs once more with four times the warm-up.
tryrun() {
	local out
	out=$("$@") || true
	if [ -z "$out" ] || [ "${out%% *}" = nan ]; then
		echo "  ($* produced no figure: once more with a $((warm * 4)) s warm-up)" >&2
		out=$(warm=$((warm * 4)) "$@") || true
	fi
	echo "$out"
}

echo "write_vs_memif: a client writing, sizes $sizes, inject zero_copy= $modes, capacity $cap," \
	"hugepages=$mem, ${win}s window after ${warm}s x $rounds rounds"
echo "  beltline: frames/s the writer committed; memif: frames/s the server sent to net_null"
: > "$tmp/all"
for r in $(seq "$rounds"); do
	for size in $sizes; do
		wait_quiet
		read -r mp mtx < <(tryrun run_memif "$size") || true
		printf '  round %d %4d B  memif            %8s Mpps  (client tx %s Mpps)\n' "$r" "$size" "$mp" "$mtx"
		echo "$r $size memif $mp" >> "$tmp/all"
		for zc in $modes; do
			wait_quiet
			read -r bp bn < <(tryrun run_beltline "$size" "$zc") || true
			printf '  round %d %4d B  beltline zc=%-3s %8s Mpps  (writer %s CPU ns/frame)\n' \
				"$r" "$size" "$zc" "$bp" "$bn"
			echo "$r $size bl_$zc $bp" >> "$tmp/all"
		done
	done
done

col() { awk -v s="$1" -v k="$2" '$2 == s && $3 == k { print $4 }' "$tmp/all"; }
rratio() {   # size what ref
	awk -v s="$1" -v a="$2" -v b="$3" '
		$2 == s && $3 == a { x[$1] = $4 } $2 == s && $3 == b { y[$1] = $4 }
		END { for (r in x) if ((r in y) && x[r] != "nan" && y[r] != "nan" && y[r] > 0) printf "%.3f\n", x[r] / y[r] }' "$tmp/all"
}
echo
bad=0
for size in $sizes; do
	echo "$size B (medians over $rounds rounds):"
	for k in memif $(for z in $modes; do printf 'bl_%s ' "$z"; done); do
		m=$(col "$size" "$k" | median)
		{ [ -n "$m" ] && [ "$m" != nan ]; } || bad=1
		printf '  %-8s %8s Mpps\n' "$k" "$m"
	done
	target=$([ "$size" -ge 1000 ] && echo 2 || echo 1)
	for z in $modes; do
		rr=$(rratio "$size" "bl_$z" memif | sort -g)
		echo "  beltline zero_copy=$z / memif: per round $(echo $rr) (median $(echo "$rr" | median); target >= $target)"
	done
done
no_figure "$bad"
