#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Streams that grow (issue 11, point 4): `export ... max_capacity=N` (or
# capacity=auto) doubles its ring while readers lose entries and halves it back
# once nothing is lost for 5 s. A reader that stalls (a pipe nobody drains for a
# while) makes an SRP and an FRP stream grow; the SRP reader loses no entry to
# a change (its lost count stays 0, and the pcap it wrote is whole); with the
# readers gone, both shrink back to their declared capacity. `ls` shows the
# capacity in effect and the number of changes; --check refuses a pool that
# cannot cover max_capacity. The ring-level rules are tests/beltway's
# ibuf-resize.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst grow)
export BELTLINE_INSTANCE=$I

refused() {   # refused "what" PIPELINE WORD: --check exits 2 naming WORD
	local out rc=0
	out=$("$BELTLINED" --check --port n=net_null0 --pipeline "$2" 2>&1) || rc=$?
	eq "$1: refused at --check" "$rc" 2
	check "$1: the message names $3 ($out)" grep -q "$3" <<< "$out"
}
refused "max_capacity not a power of two" "gen | export name=g max_capacity=1000" max_capacity
refused "max_capacity below capacity" "gen | export name=g capacity=1024 max_capacity=512" max_capacity
# (an explicit mbufs.count: without one, the pool is sized for the rings)
cat > "$T/small.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 8191 }, "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen | export name=g max_capacity=1048576" } ] }
JSON
rc=0; out=$("$BELTLINED" --check "$T/small.json" 2>&1) || rc=$?
eq "a pool that cannot cover max_capacity: refused at --check" "$rc" 2
check "... the message names mbufs.count ($out)" grep -q mbufs.count <<< "$out"
refused "capacity neither a number nor auto" "gen | export name=g capacity=big" capacity
out=$("$BELTLINED" --check --port n=net_null0 --pipeline "gen | export name=g capacity=auto" 2>&1)
check "capacity=auto passes --check ($out)" grep -q ": ok" <<< "$out"

"$BELTLINED" --instance "$I" --port n=net_null0 --duration 240 \
	--pipeline "gen rate=50000 | export name=s capacity=512 max_capacity=2048" \
	--pipeline "gen rate=50000 | export name=f policy=frp capacity=512 max_capacity=2048" \
	> "$T/r.json" 2> "$T/err" &
BPID=$!
wait_for "$WAIT" test -S "/run/beltline/$I/ctl" || { bad "beltlined started: $(tail -n 3 "$T/err")"; finish; }
st() { "$BELTLINE" stats --json | jq -r ".streams[] | select(.name == \"$1\") | $2"; }
eq "s starts at its capacity" "$(st s .capacity)" 512
eq "f starts at its capacity" "$(st f .capacity)" 512

# Readers that stall for 4 s, then drain: the rings overflow, then grow.
( "$BELTLINE" cat s 2> "$T/cat_s.err" | { sleep 4; cat > "$T/s.pcap"; } ) &
RS=$!
( "$BELTLINE" cat -p frp f 2> "$T/cat_f.err" | { sleep 4; cat > /dev/null; } ) &
RF=$!
grown() { [ "$(st "$1" .capacity)" -gt 512 ] && [ "$(st "$1" .resizes)" -ge 1 ]; }
check "s grew while its reader lost entries (tail drops)" wait_for "$WAIT" grown s
check "f grew while its reader was lapped" wait_for "$WAIT" grown f
check "ls shows the capacity in effect and the changes" \
	grep -qE "^ +s +srp +(1024|2048) +512 +2048 +[1-9]" <<< "$("$BELTLINE" ls)"
check "the log says why s grew" wait_for 10 grep -q 'stream "s": grew from 512 to 1024 slots' "$T/err"
eq "the SRP reader lost no entry" "$("$BELTLINE" stats --json | jq '[.streams[] | select(.name == "s") | .readers[].lost] | add')" 0
eq "no reader position clamped" "$("$BELTLINE" stats --json | jq '[.streams[].readers[].clamps] | add')" 0
kill "$RS" "$RF" 2> /dev/null || true
pkill -f "beltline cat (-p frp f|s)$" 2> /dev/null || true
wait "$RS" "$RF" 2> /dev/null || true
check "the SRP reader's capture is whole (tcpdump reads every packet)" \
	test "$(tcpdump -nr "$T/s.pcap" 2> /dev/null | wc -l)" -gt 0
no_readers() { [ "$(st s .n_readers)" = 0 ] && [ "$(st f .n_readers)" = 0 ]; }
check "the readers are gone" wait_for "$WAIT" no_readers
shrunk() { [ "$(st "$1" .capacity)" = 512 ]; }
# 5 s quiet per halving: 2048 -> 512 takes 10 s; budget three times that, and more
check "s shrank back to its capacity once nothing was lost" wait_for 60 shrunk s
check "f shrank back too" wait_for 60 shrunk f
# (said at the main lcore's next look, 100 ms later)
check "the log says so" wait_for 10 grep -q 'stream "[sf]": shrank from 1024 to 512 slots' "$T/err"
kill -TERM $BPID
wait $BPID || bad "beltlined exit status $?"
eq "no mbuf leaked" "$(jq '.mbufs.leaked' "$T/r.json")" 0
finish
