#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two reloads while a worker is held (its `pcap file=` sink asleep in write(2) on a full
# FIFO), each changing the graph: the worker takes up neither new set until it wakes, then
# runs the second. Its filters' runtime counters (`in`, `out`) are carried over from the
# instances that ran, through the one that never did: they went on from that one's zeros,
# and what was counted before the first reload was lost for good (a count's `in` fell
# behind its own packet counter by that much).
. "$(dirname "$0")/lib.sh"

I=$(inst rheld2)
export BELTLINE_INSTANCE=$I BELTLINED_TEST_HOOKS=1 BELTLINED_TEST_EPOCH_WAIT_S=1
mkfifo "$T/fifo"
exec 3<> "$T/fifo"   # a reader end that never reads: the sink waits once the pipe is full
G="gen rate=20000 | count --name=c | pcap file=$T/fifo"
cfg() { echo "{ \"instance\": \"$I\", \"mbufs\": { \"count\": 32767 }, \"ports\": [ { \"name\": \"a\", \"vdev\": \"net_null0\" } ], \"graphs\": [ { \"lcores\": [1], \"pipeline\": \"$1\" } ] }" > "$T/c.json"; }
cfg "$G"
cat "$T/fifo" > /dev/null &
DRAIN=$!
"$BELTLINED" --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
trap 'exec 3>&-; kill -9 $PID ${DRAIN:-} 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
st() { "$BELTLINE" stats --json; }
c_in() { st | jq '[.filters[] | select(.name == "c") | .in] | add // 0'; }
counted() { [ "$(c_in)" -ge 10000 ]; }
check "c counts (drained)" wait_for "$WAIT" counted
kill "$DRAIN"; wait "$DRAIN" 2> /dev/null || true; DRAIN=
worker_held() { lcore_held "$PID" 1; }
check "the worker is held in write(2) on the full FIFO" wait_for "$WAIT" worker_held
cfg "$G; count --name=c | count --name=d"
check "a first reload while it is held" "$BELTLINE" reload
cfg "$G; count --name=c | count --name=d; count --name=c | count --name=e"
check "a second reload while it is held" "$BELTLINE" reload
check "... the worker took up neither (it is held still)" worker_held
cat "$T/fifo" > /dev/null &
DRAIN=$!
none_await() { [ "$(st | jq '.reload.awaiting_workers')" = 0 ]; }
check "drained: the worker is past both" wait_for "$WAIT" none_await
more() { [ "$(c_in)" -ge 20000 ]; }
check "c counts on" wait_for "$WAIT" more
s=$(st)
in=$(jq '[.filters[] | select(.name == "c") | .in] | add' <<< "$s")
pk=$(jq '[.filters[] | select(.name == "c") | .counters.packets] | add' <<< "$s")
check "c's runtime in ($in) keeps up with its own packet counter ($pk): nothing lost at the swaps" \
	test $((pk - in)) -lt 2000 -a $((in - pk)) -lt 2000
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
kill "$DRAIN" 2> /dev/null || true
eq "beltlined exit status" "$rc" 0
eq "mbufs leaked" "$(jget "$T/final.json" '.mbufs.leaked')" 0
finish
