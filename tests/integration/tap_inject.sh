#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A tap on a graph fed by a zero-copy inject writer (docs/taps.md; an operator's try
# found it): the tap's stream held the writer's frames (external buffers) in its ring
# until its next writes, which the writer, out of buffers, could not cause: `beltline
# inject` hung for good, and the tap's reader read the mbufs' own, stale, buffers.
# The tap now takes one copy of such a frame into a packet of the pool: the inject
# ends, and the tap prints exactly the frames the filter passed, byte for byte.
. "$(dirname "$0")/lib.sh"

I=$(inst tapinj)
export BELTLINE_INSTANCE=$I
CAP=$SRCDIR/config/sample.pcap          # 1000 frames, 300 of them udp or icmp
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "inject name=w | bpf \"udp or icmp\" | count --name=c | drop" } ] }
JSON
"$BELTLINED" -q --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
trap 'kill -INT $PID 2> /dev/null && wait $PID 2> /dev/null; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"

"$BELTLINE" stats --json > "$T/s0.json"
eq "the inject stream is zero copy" \
	"$(jq '[.filters[] | select(.name == "inject") | .counters.zero_copy_on] | add' "$T/s0.json")" 1
timeout 120 "$BELTLINE" tap -c 3000 c > "$T/tap.pcap" 2> "$T/tap.err" &
TP=$!
check "the tap's stream is there" wait_for "$WAIT" bash -c "'$BELTLINE' ls | grep -q 'tap\\.'"
set +e
timeout 60 "$BELTLINE" inject w "$CAP" -l 10 > /dev/null 2> "$T/inject.err"; st=$?
set -e
eq "inject of 10 x 1000 frames beside the tap ends ($(head -c 300 "$T/inject.err"))" "$st" 0
wait "$TP" && st=0 || st=$?
eq "the tap took its 3000 and ended ($(head -c 300 "$T/tap.err"))" "$st" 0
tcpdump -r "$CAP" -nn -t -xx 'udp or icmp' > "$T/one.txt" 2> /dev/null
for _ in $(seq 10); do cat "$T/one.txt"; done > "$T/want.txt"
tcpdump -r "$T/tap.pcap" -nn -t -xx > "$T/got.txt" 2> /dev/null
eq "the tap's packets" "$(grep -c '^[A-Z]' "$T/got.txt")" 3000
check "... are the frames the filter passed, byte for byte" cmp -s "$T/want.txt" "$T/got.txt"
"$BELTLINE" stats --json > "$T/s1.json"
eq "the writer's frames all came back to it" \
	"$(jq '[.injects[] | select(.name == "w") | .orphans] | add' "$T/s1.json")" 0
finish
