#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A reload that moves an rx graph from lcore 1 to lcore 2 swaps in two phases: every
# worker first drops what goes, then takes what comes, so no two lcores poll one queue.
# With lcore 1 held (its `pcap file=` sink asleep on a full FIFO) the first phase's wait
# runs out (1 s here): the second phase was published anyway, and lcore 2 polled the
# queue that lcore 1, once awake, would still poll for the rest of its round. Now lcore 2
# takes up its new set only once lcore 1 passed the first phase: its rx takes nothing
# while lcore 1 is held, and takes packets once it is not.
. "$(dirname "$0")/lib.sh"

I=$(inst rph2)
export BELTLINE_INSTANCE=$I BELTLINED_TEST_HOOKS=1 BELTLINED_TEST_EPOCH_WAIT_S=1
mkfifo "$T/fifo"
exec 3<> "$T/fifo"
cfg() {   # cfg LCORE_OF_RX
	cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 32767 }, "lcore_cpu": { "0": 0, "1": 1, "2": 1 },
  "ports": [ { "name": "a", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=20000 | pcap file=$T/fifo" },
              { "lcores": [$1], "pipeline": "rx port=a | count --name=ra | drop" },
              { "lcores": [2], "pipeline": "gen rate=100 | drop" } ] }
JSON
}
cfg 1
"$BELTLINED" --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
DRAIN=
trap 'exec 3>&-; kill -9 $PID ${DRAIN:-} 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
worker_held() { lcore_held "$PID" 1; }
check "lcore 1 is held in write(2) on the full FIFO" wait_for "$WAIT" worker_held
ra_in() { "$BELTLINE" stats --json | jq '[.filters[] | select(.name == "ra") | .in] | add // 0'; }
cfg 2
check "reload: ra's graph to lcore 2 (two phases; the first one's wait runs out)" "$BELTLINE" reload
check "... the log says lcore 1 did not pass the first phase" grep -q 'did not pass epoch' "$T/d.err"
sleep 1.5
check "... lcore 1 is held still" worker_held
eq "lcore 2 has not taken up the moved rx while lcore 1 may still poll its queue" "$(ra_in)" 0
cat "$T/fifo" > /dev/null &
DRAIN=$!
takes() { [ "$(ra_in)" -gt 1000 ]; }
check "lcore 1 drained: lcore 2's rx takes packets" wait_for "$WAIT" takes
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
kill "$DRAIN" 2> /dev/null || true
eq "beltlined exit status" "$rc" 0
eq "mbufs leaked" "$(jget "$T/final.json" '.mbufs.leaked')" 0
finish
