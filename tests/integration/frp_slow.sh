#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A reader slower than the producer of an FRP stream: gen at full rate into a ring of
# 4096, read by `beltline cat` (a copy and a check a packet) and through `beltline
# serve` over tcp://. A lapped reader resumed at the oldest entry, the next one the
# producer overwrites, so every read failed its check, and the copying read gave up
# and slept: cat got 52 packets in 10 s, serve's remote reader 0 in 2 s. Now a failed
# check resumes it half a ring behind the producer: both get their packets at once,
# and what they lost is counted.
. "$(dirname "$0")/lib.sh"
: "${BELTLINE:?}"

I=$(inst frpslow)
export BELTLINE_RUN_DIR=$T/run
mkdir "$BELTLINE_RUN_DIR"
N=200000
"$BELTLINED" -q --duration 600 --stats-interval 0 --instance "$I" --port out=net_null0 \
	--pipeline "gen size=64 | export name=b policy=frp capacity=4096" > "$T/r.json" 2> "$T/err" &
BPID=$!
check "started" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"

# pcap: a 24-byte header, then 16 + 64 bytes a packet
rc=0
timeout 120 "$BELTLINE" -i "$I" cat b -c $N > "$T/b.pcap" 2> "$T/cat.err" || rc=$?
eq "beltline cat of a full-rate FRP stream: $N packets ($(tail -n 1 "$T/cat.err"))" "$rc/$(stat -c %s "$T/b.pcap")" "0/$((24 + N * 80))"
lost=$(sed -n 's/.* packets, \([0-9]*\) lost.*/\1/p' "$T/cat.err")
check "... what it could not keep up with counted as lost ($lost)" test "${lost:-0}" -gt 0

P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BELTLINE" -i "$I" serve b "tcp://127.0.0.1:$P" 2> "$T/serve.err" &
SPID=$!
check "serve listening" wait_for "$WAIT" grep -q serving "$T/serve.err"
rc=0
timeout 120 "$BELTLINE" cat "tcp://127.0.0.1:$P" -c $N > "$T/t.pcap" 2> "$T/tcat.err" || rc=$?
eq "... and over tcp:// through beltline serve ($(tail -n 1 "$T/tcat.err"))" "$rc/$(stat -c %s "$T/t.pcap")" "0/$((24 + N * 80))"
kill "$SPID" 2> /dev/null || true
wait "$SPID" 2> /dev/null || true

# A stalled reader (cat into a pipe nobody reads): what the ring overwrote under it shows
# as overrun at once; its lost counts those only when it reads again.
mkfifo "$T/stall"
"$BELTLINE" -i "$I" cat b > "$T/stall" 2> /dev/null &
SC=$!
exec 7< "$T/stall"          # opened, never read: cat's writes block once the pipe is full
over() { "$BELTLINE" -i "$I" stats --json | jq '[.streams[0].readers[].overrun] | max // 0'; }
big() { [ "$(over)" -gt 4096 ]; }
check "a stalled FRP reader: overrun shows the entries overwritten under it ($(over))" wait_for "$WAIT" big
check "... while its lag is past the ring" test "$("$BELTLINE" -i "$I" stats --json | jq '[.streams[0].readers[].lag] | max')" -gt 4096
kill "$SC" 2> /dev/null || true
exec 7<&-
wait "$SC" 2> /dev/null || true

kill -TERM "$BPID"
rc=0; wait "$BPID" || rc=$?
eq "beltlined exit status" "$rc" 0
eq "leaked mbufs" "$(jget "$T/r.json" .mbufs.leaked)" 0
finish
