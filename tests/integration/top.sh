#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `beltline top` shows counters per second (totals with -t); `beltline ls` has
# a PPS column: the packets a second each stream is written. A gen filter at
# RATE packets a second is the source: a machine this busy may give it less,
# never more, so the rates are checked against gen's ceiling, and against the
# totals they must not be.
. "$(dirname "$0")/lib.sh"
: "${BELTLINE:?}"

RATE=1000
I=$(inst top)
run=$T/run
mkdir "$run"
export BELTLINE_RUN_DIR=$run
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 32767 }, "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=$RATE | count --name=c | export name=s" },
              { "lcores": [1], "pipeline": "inject name=w | drop" },
              { "lcores": [1], "pipeline": "tcpgen rate=$RATE segments=4 | drop" } ] }
JSON
"$BELTLINED" -q --duration 600 --stats-interval 0 "$T/c.json" > /dev/null 2> "$T/err" &   # taps: mbufs
bpid=$!
trap 'kill -9 "$bpid" 2> /dev/null || true; rm -rf "$T"' EXIT
check "started" wait_for "$WAIT" test -S "$run/$I/ctl"
gen_total() { "$BELTLINE" -i "$I" stats --json | jq '.filters[] | select(.name == "gen") | .out'; }
# 2 s of packets: a total shown for a rate would be 2 * RATE at least, above the ceiling
# (RATE * 3 / 2 + 64) every rate below is held to
enough() { [ "$(gen_total)" -ge $((2 * RATE)) ]; }
"$BELTLINE" -i "$I" cat s > /dev/null 2>&1 &   # a reader: its position is a level
RD=$!
check "gen has written 2 s of packets" wait_for 120 enough
conns() { "$BELTLINE" -i "$I" stats --json | jq '.filters[] | select(.name == "tcpgen") | .counters.connections'; }
conn_enough() { [ "$(conns)" -ge 400 ]; }
check "tcpgen has completed 400 connections" wait_for 120 conn_enough

# filters table: the value in column COL of the row whose NAME is ROW
cell() {   # cell FILE TABLE ROW COL
	awk -v table="$2" -v row="$3" -v col="$4" '
		$1 == table { in_t = 1; next }
		in_t && /^[a-z]/ { in_t = 0 }
		in_t && hdr == "" { for (i = 1; i <= NF; i++) if ($i == col) c = i; hdr = 1; next }
		in_t && $2 == row { print $c; exit }' "$1"
}
"$BELTLINE" -i "$I" top -n 1 -d 1 > "$T/top"
check "top says it shows rates" grep -q 'counters per second (-t: totals)' "$T/top"
r=$(cell "$T/top" 'filters' gen OUT)
total=$(gen_total)
ceiling=$((RATE * 3 / 2 + 64))
check "top: gen's out is a rate ($r/s; at most gen's $ceiling, the total is $total)" \
	test -n "$r" -a "$r" -le "$ceiling"
check "top: ... not the total" test "$r" -lt "$total"
# A filter's counter named like a level of the fixed sections (tcpgen's connections, like
# the control socket's) is a rate: only the filter's own "gauges" list makes levels.
# (a connection is 7 packets at least: RATE / 7 a second at most, RATE * 3 / 2 / 7 the
# ceiling as for gen; the total is above 400)
conn_rate=$(sed -n 's/.*generated:[0-9]*,connections:\([0-9]*\).*/\1/p' "$T/top" | head -n 1)
check "top: tcpgen's connections is a rate ($conn_rate/s; at most $((RATE * 3 / 2 / 7)), the total is $(conns))" \
	test -n "$conn_rate" -a "$conn_rate" -le $((RATE * 3 / 2 / 7))
r_edge=$(awk '$1 == "edges" { e = 1; next } e && $2 == "gen" { print $4; exit }' "$T/top")
check "top: an edge's packets are a rate too ($r_edge/s)" test -n "$r_edge" -a "$r_edge" -le "$ceiling"
eq "top: a level stays a level (stream capacity)" \
	"$(awk '$1 == "streams" { s = 1; next } s && $1 == "s" { print $3; exit }' "$T/top")" 1024
# a reader's position (a sequence number) is a level too: it showed as its growth a second
pos=$(awk '$1 == "READER" { for (i = 1; i <= NF; i++) if ($i == "POS") c = i; r = 1; next }
	r { print $c; exit }' "$T/top")
check "top: a reader's position stays a level ($pos, more than gen's rate: $total written)" \
	test -n "$pos" -a "$pos" -gt "$ceiling"
# Two readers alike (the same program and policy): one leaves between top's two looks.
# Rows were paired by their strings only, so the one left was paired with the one gone and
# showed its total (its count was below the other's) or a wrong rate; a reader is its
# page and its pid.
"$BELTLINE" -i "$I" cat s > /dev/null 2>&1 &
RD2=$!
consumed_of() { "$BELTLINE" -i "$I" stats --json | jq --argjson p "$1" '[.streams[] | select(.name == "s") | .readers[] | select(.pid == $p) | .consumed] | add // 0'; }
rd2_enough() { [ "$(consumed_of "$RD2")" -ge $((2 * RATE)) ]; }
check "a second reader has read 2 s of packets" wait_for 120 rd2_enough
"$BELTLINE" -i "$I" top -n 1 -d 6 > "$T/top2" &
TP=$!
# top's first look is taken (a start and one control call: well under 2 s, even on a
# machine three times slower; were it not, the check below would pass without testing)
sleep 2
kill "$RD"; wait "$RD" 2> /dev/null || true
wait "$TP"
c2=$(awk '$1 == "READER" { for (i = 1; i <= NF; i++) if ($i == "CONSUMED") c = i; r = 1; next }
	r { print $c; exit }' "$T/top2")
check "top: the reader left is paired with itself ($c2/s; at most $ceiling, its total is $(consumed_of "$RD2"))" \
	test -n "$c2" -a "$c2" -le "$ceiling"
kill "$RD2"; wait "$RD2" 2> /dev/null || true

# Rows are matched by name, not by place: a tap's stream that takes a freed slot before
# another's moves that one down a row, and it showed its total there, not its rate.
n_taps() { "$BELTLINE" -i "$I" stats --json | jq '[.streams[] | select(.name | startswith("tap."))] | length'; }
taps_are() { [ "$(n_taps)" = "$1" ]; }
"$BELTLINE" -i "$I" tap gen > /dev/null 2>&1 &
T1=$!
check "a first tap" wait_for "$WAIT" taps_are 1
"$BELTLINE" -i "$I" tap c > /dev/null 2>&1 &
T2=$!
check "a second tap" wait_for "$WAIT" taps_are 2
t2=$("$BELTLINE" -i "$I" stats --json | jq -r '[.streams[] | select(.name | startswith("tap."))] | last | .name')
t2_written() { "$BELTLINE" -i "$I" stats --json | jq ".streams[] | select(.name == \"$t2\") | .written"; }
t2_long() { [ "$(t2_written)" -ge $((2 * RATE)) ]; }   # (above the ceiling, as enough)
check "the second tap ($t2) has taken 2 s of packets" wait_for 120 t2_long
kill "$T1"; wait "$T1" 2> /dev/null || true
check "the first tap's stream went" wait_for "$WAIT" taps_are 1
"$BELTLINE" -i "$I" top -n 3 -d 1 > "$T/top3" &
TOP=$!
sleep 1.5   # a new tap between two of top's looks (any two: each table is checked)
"$BELTLINE" -i "$I" tap gen > /dev/null 2>&1 &
T3=$!
wait "$TOP"
kill "$T2" "$T3" 2> /dev/null || true
wait "$T2" "$T3" 2> /dev/null || true
written_col() {   # every WRITTEN cell of the stream $1's rows, one a line
	awk -v row="$1" '$1 == "streams" { s = 1; next }
		s && $1 == "NAME" { for (i = 1; i <= NF; i++) if ($i == "WRITTEN") c = i; next }
		s && /^[a-z]/ { s = 0 }
		s && $1 == row { print $c }' "$T/top3"
}
w=$(written_col "$t2" | sort -n | tail -1)
check "top: $t2's written stays a rate while another tap's stream comes before it (at most $w/s)" \
	test -n "$w" -a "$w" -le "$ceiling"

"$BELTLINE" -i "$I" top -t -n 1 > "$T/topt"
check "top -t says it shows totals" grep -q ' totals (^C quits)' "$T/topt"
t=$(cell "$T/topt" 'filters' gen OUT)
check "top -t: gen's out is the total ($t >= $total)" test -n "$t" -a "$t" -ge "$total"

"$BELTLINE" -i "$I" ls > "$T/ls"
check "ls: a PPS column" grep -qE '^  NAME +POLICY .* PPS$' "$T/ls"
# Columns as wide as their cells, numbers to the right: a row ends where its header does
# (PPS is the last column, a number). Every column was 14 wide, so a longer value (an
# owner's name, a counter past 10^13) pushed the rest of its row out of line.
eq "ls: s's row ends where the header does" \
	"$(awk '$1 == "s" { print length($0); exit }' "$T/ls")" "$(awk '$1 == "NAME" { print length($0); exit }' "$T/ls")"
pps=$(awk '$1 == "s" { print $NF; exit }' "$T/ls")
written=$(awk '$1 == "s" { print $(NF - 3); exit }' "$T/ls")   # WRITTEN DROPPED CONTENT PPS
check "ls: s's PPS is a rate ($pps; at most $((2 * ceiling)) over ls's 0.5 s, written $written)" \
	test -n "$pps" -a "$pps" -le $((2 * ceiling)) -a "$pps" -lt "$written"
# A client kept off its CPU between reading a reply and reading its clock (its first
# reply held 1.5 s: slow_reply.c): the rates are still gen's, the counters' growth over
# the appliance's own clock between the two replies (uptime_s). They were over the
# client's clock: 2.5 s of packets a second in top, 2 s of them in ls's half second.
: "${SLOW_REPLY:?}"
slow() {
	env LD_PRELOAD="$SLOW_REPLY" SLOW_REPLY_MS=1500 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
# (and an inject stream's writer paced at RATE frames a second: its rate column too; it
# starts now, so its 2 s of frames are written while the slow top runs)
"$BELTLINE" -i "$I" inject w "$SRCDIR/config/sample.pcap" -r $RATE -l 1000 > /dev/null 2>&1 &
IPID=$!
slow "$BELTLINE" -i "$I" top -n 1 -d 1 > "$T/top_slow"
r=$(cell "$T/top_slow" 'filters' gen OUT)
check "top, its first reply held 1.5 s: gen's out is still its rate ($r/s; at most $ceiling)" \
	test -n "$r" -a "$r" -le "$ceiling"
winj() { "$BELTLINE" -i "$I" stats --json | jq '[.injects[]? | select(.name == "w") | .writer.frames // 0] | add // 0'; }
w_written() { [ "$(winj)" -gt $((2 * RATE)) ]; }
check "the writer into w has written 2 s of frames" wait_for "$WAIT" w_written
slow "$BELTLINE" -i "$I" ls > "$T/ls_slow"
pps=$(awk '$1 == "s" { print $NF; exit }' "$T/ls_slow")
check "ls, its first reply held 1.5 s: s's PPS is still its rate ($pps; at most $((2 * ceiling)))" \
	test -n "$pps" -a "$pps" -le $((2 * ceiling))
ipps=$(awk '$1 == "injects" { i = 1; next } i && $1 == "w" { print $NF; exit }' "$T/ls_slow")
check "... and w's (an inject stream: $ipps; at most $((2 * ceiling)))" \
	test -n "$ipps" -a "$ipps" -le $((2 * ceiling))
kill "$IPID" 2> /dev/null || true
wait "$IPID" 2> /dev/null || true

kill -TERM "$bpid"
rc=0; wait "$bpid" || rc=$?
eq "stops cleanly" "$rc" 0
finish
