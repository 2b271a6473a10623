#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A detached client reaches no later reader (issue 15, point 3): stale_page
# attaches to an SRP stream, keeps its reader page mapped read-write after its
# connection closed, and writes a position far behind and lying counters into
# it in a loop; meanwhile `beltline cat` attaches and gets the same page index.
# The new reader's counters are its own (no clamp, no loss, a plausible count)
# and the producer never found a position outside the ring's window.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
: "${STALE_PAGE:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
I=$(inst stale)
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | export name=s capacity=4096 mode=0600" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID ${SPID:-} 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"

stream() { "$BELTLINE" stats --json | jq -r ".streams[] | select(.name==\"s\") | $1"; }
stream_is() { [ "$(stream "$1")" = "$2" ]; }
# It writes until stopped (SIGTERM, below; 600 s at most), all through the next reader's checks.
"$STALE_PAGE" "$I" s 600 > "$T/stale.out" 2> "$T/stale.err" &
SPID=$!
check "the stale client attached and detached" wait_for "$WAIT" grep -q detached "$T/stale.out"
idx=$(sed -n 's/^reader //p' "$T/stale.out")
wait_for "$WAIT" stream_is .n_readers 0 || true
eq "its reader is gone" "$(stream .n_readers)" 0
c0=$(stream .clamps)   # what it wrote while still attached was its own page: clamped, counted

"$BELTLINE" cat s > /dev/null 2>&1 &
CPID=$!
wait_for "$WAIT" stream_is .n_readers 1 || true
eq "the next reader takes the same page index" "$(stream '.readers[0].reader')" "$idx"
# The stale client writes all along: while the producer goes 25 times round the ring
# (4096) past the new reader's position, a stale position honoured would hold it back.
w0=$(stream .written)
wait_for "$WAIT" eval '[ "$(stream .written)" -ge $((w0 + 25 * 4096)) ]' || true
check "the stale client still writes" alive "$SPID"
"$BELTLINE" stats --json > "$T/s.json"
r() { jq -r ".streams[] | select(.name==\"s\") | .readers[0].$1" "$T/s.json"; }
eq "the new reader: clamps" "$(r clamps)" 0
eq "the new reader: lost" "$(r lost)" 0
eq "the new reader: laps" "$(r laps)" 0
check "the new reader: consumed is its own ($(r consumed))" test "$(r consumed)" -lt 1000000000000
eq "the stream: no position clamped since" "$(jq -r '.streams[] | select(.name=="s") | .clamps' "$T/s.json")" "$c0"
kill $CPID; wait $CPID 2> /dev/null || true
kill -TERM "$SPID"
wait $SPID && st=0 || st=$?
eq "stale client exit status" "$st" 0

kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
eq "mbufs leaked" "$(jget "$T/r.json" '.mbufs.leaked')" 0
trap 'rm -rf "$T"' EXIT
finish
