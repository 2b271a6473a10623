#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --exit-idle ends a replay only once the capture delivered its last record: a
# worker that does not run for longer than the idle time (a busy machine's
# scheduler; here a SCHED_FIFO loop on the worker's CPU, which leaves ordinary
# threads 5% of it) must not end the run half way through the capture. Before,
# the main lcore (on another CPU) saw no packet for 200 ms and stopped: a
# replay of 300000 packets ended after some tens of thousands (integration-graphs
# failed once so in CI, at 64 packets of 174). A capture that cannot reach its
# end (its queue never polled) holds the stop back 10 s at most, and says so.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (chrt -f)"; exit 77; fi
[ "$(nproc)" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; exit 77; }
# mkpcap FILE N [FILE N]...: captures of N UDP frames of 60 bytes (one python for all).
mkpcap() {
	python3 - "$@" <<'PY'
import struct, sys
frame = bytes.fromhex('ffffffffffff0200000000010800450000320000000040110000'
                      '0a0000010a00000204d2162e001e0000') + bytes(22)
for path, n in zip(sys.argv[1::2], sys.argv[2::2]):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(int(n)):
            f.write(struct.pack('<IIII', 1000, i, len(frame), len(frame)) + frame)
PY
}
# stalled CONFIG...: beltlined --exit-idle 200 on each CONFIG, all at once, while CPU 1 is
# taken for 3 s (from before they start) by a SCHED_FIFO loop, which leaves ordinary
# threads 5% of it (shared by the runs: each stalls as long or longer); CONFIG's report in
# CONFIG.r, its stderr in CONFIG.err, its exit status in CONFIG.rc. (One loop of 3 s for
# all, not one each: the test spent 9 s of a CPU in three.) The loop ends itself: a
# `timeout` beside it on that CPU would never get to run.
stalled() {
	chrt -f 10 taskset -c 1 bash -c 'end=$((SECONDS + 3)); while [ $SECONDS -lt $end ]; do :; done' &
	local hog=$! c p pids=()
	sleep 0.1
	for c; do
		rm -f "$c.rc"
		( rc=0; "$BELTLINED" -q --exit-idle 200 "$c" > "$c.r" 2> "$c.err" || rc=$?; echo "$rc" > "$c.rc" ) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	kill $hog 2> /dev/null || true
	wait $hog 2> /dev/null || true
}

# The worker (lcore 1) on CPU 1.
N=300000
mkpcap "$T/big.pcap" "$N" "$T/small.pcap" 3000
cat > "$T/c.json" <<JSON
{ "instance": "$(inst idle)", "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$T/big.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | count" } ] }
JSON

# The same for a ring between lcores: the capture's 3000 packets are read (lcore 1,
# beside the main lcore on CPU 0) into an ibuf_out ring whose reader (lcore 2) has
# CPU 1: the stop waits until the reader took them all.
cat > "$T/r2.json" <<JSON
{ "instance": "$(inst idle3)", "lcore_cpu": { "0": 0, "1": 0, "2": 1 }, "mbufs": { "count": 16383 },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$T/small.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | ibuf_out name=q capacity=4096" },
              { "lcores": [2], "pipeline": "ibuf_in name=q | count" } ] }
JSON

# A generator with count= is waited for too: under the same stall (gaps of most of a
# second between the worker's turns) and at a rate slower than the idle time (a
# packet every 500 ms, --exit-idle 200). Before, the run stopped at the first gap.
cat > "$T/g.json" <<JSON
{ "instance": "$(inst idleg)", "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen count=2000 rate=1000 | count" } ] }
JSON
stalled "$T/c.json" "$T/r2.json" "$T/g.json"
eq "exit status" "$(cat "$T/c.json.rc")" 0
eq "every packet of the capture received, though the worker stalled" \
	"$(jq '.ports.in.rx' "$T/c.json.r")" "$N"
eq "... and counted" "$(jq '.graphs[0].filters.count.in' "$T/c.json.r")" "$N"
eq "across lcores: exit status" "$(cat "$T/r2.json.rc")" 0
eq "across lcores: every packet written into the ring" \
	"$(jq '.graphs[0].filters.ibuf_out.counters.written' "$T/r2.json.r")" 3000
eq "... and read out of it, though its reader stalled" \
	"$(jq '.graphs[1].filters.count.in' "$T/r2.json.r")" 3000
eq "gen count=2000: exit status" "$(cat "$T/g.json.rc")" 0
eq "... every packet generated and counted, though the worker stalled" \
	"$(jq '.graphs[0].filters.count.in' "$T/g.json.r")" 2000

# Three runs that wait (no stall): side by side, each its own instance (two and a half
# seconds of the test's time: gen and tcpgen are paced, the last waits out its hold).
"$BELTLINED" -q --exit-idle 200 --instance "$(inst idle_g3)" --port n=net_null0 \
	--pipeline "gen count=3 rate=2 | count" > "$T/g3.r" 2> "$T/g3.err" &
G3=$!
"$BELTLINED" -q --exit-idle 200 --instance "$(inst idle_tg)" --port n=net_null0 \
	--pipeline "tcpgen conns=1 count=1 segments=4 rate=4 | count" > "$T/tg.r" 2> "$T/tg.err" &
TG=$!

# A replayed queue nothing polls: the stop comes 10 s after the last packet (1 s with
# the test hooks, to keep the suite short), said.
cat > "$T/q.json" <<JSON
{ "instance": "$(inst idle2)",
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,rx_pcap=$SRCDIR/config/sample.pcap",
               "rx_queues": 2 } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in queue=0 | count" } ] }
JSON
rc=0
start=$(date +%s.%N)
BELTLINED_TEST_HOOKS=1 "$BELTLINED" -q --exit-idle 200 "$T/q.json" > "$T/r.json" 2> "$T/err" || rc=$?
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
g3_rc=0 tg_rc=0
wait "$G3" || g3_rc=$?
wait "$TG" || tg_rc=$?
eq "gen count=3 rate=2 (slower than --exit-idle 200): exit status" "$g3_rc" 0
eq "... all three generated" "$(jq '.graphs[0].filters.count.in' "$T/g3.r")" 3
eq "tcpgen count=1 rate=4: exit status" "$tg_rc" 0
eq "... the whole connection generated" "$(jq '.graphs[0].filters.tcpgen.counters.connections' "$T/tg.r")" 1
eq "a queue nobody polls: exit status" "$rc" 0
check "... stops after the 1 s it may wait ($took s)" awk -v t="$took" 'BEGIN { exit !(t >= 1.2 && t < 60) }'
check "... and says why" grep -q 'replayed capture did not deliver its last record' "$T/err"
finish
