#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Clients that write (issue 10 point 2): `beltline inject NAME FILE` replays
# captures (pcap and pcapng) into `inject name=NAME | pcap file=OUT` graphs of a
# running appliance, and OUT holds the file's frames byte for byte, in order
# (also played three times with -l and paced with -r); a second writer is
# refused naming the first's pid; a writer SIGKILLed while holding buffers has
# them reclaimed and a new writer gets in (within ms quiet; the figure is printed,
# not asserted: a test asserts behaviour); a writer that scribbles over its whole region is counted and the
# appliance carries on serving an honest writer.
. "$(dirname "$0")/lib.sh"
need_corpus
: "${WRITER:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst inject)
RUN=/run/beltline/$I
caps=(afs.pcap of13_ericsson.pcapng vxlan.pcap decnet-shorthdr-oobr.pcap babel_update_oobr.pcap)

pipes=""
for k in "${!caps[@]}"; do
	pipes="$pipes\"inject name=r$k max_frame=12000 | pcap file=$T/o$k.pcap\", "
done
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "data_room": 12416 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ $pipes
      "inject name=loop | pcap file=$T/loop.pcap",
      "inject name=paced | pcap file=$T/paced.pcap",
      "inject name=hold capacity=64 | drop",
      "inject name=h capacity=64 | drop",
      "inject name=hs capacity=64 | drop",
      "inject name=after | pcap file=$T/after.pcap",
      "inject name=term | drop",
      "inject name=odd | pcap file=$T/odd.pcap",
      "inject name=small | drop" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; kill -9 $HPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"

for k in "${!caps[@]}"; do
	check "inject ${caps[$k]}" "$BELTLINE" -i "$I" inject "r$k" "$CORPUS/${caps[$k]}"
done
check "inject -l 3" "$BELTLINE" -i "$I" inject loop "$CORPUS/vxlan.pcap" -l 3
t0=$(date +%s%N)
check "inject -r 100" "$BELTLINE" -i "$I" inject paced "$CORPUS/vxlan.pcap" -r 100
dt=$((($(date +%s%N) - t0) / 1000000))
check "-r 100: 10 frames take at least 90 ms ($dt ms)" test "$dt" -ge 90

# Bad use of the command: a clear error, nothing sent.
out=$("$BELTLINE" -i "$I" inject nosuch "$CORPUS/vxlan.pcap" 2>&1) && st=0 || st=$?
eq "inject into no such stream: exit status" "$st" 1
check "it says so ($out)" grep -q 'no inject stream "nosuch"' <<< "$out"
check "... and nothing about the instance, which runs" eval '! grep -q "is not running" <<< "$out"'
wt() { "$BELTLINE" -i "$I" stats --json | jq '[.injects[] | select(.name == "r2") | .writers_total] | add // 0'; }
w0=$(wt)
"$BELTLINE" -i "$I" inject r2 /nonexistent.pcap 2> /dev/null && st=0 || st=$?
eq "inject of a missing file: exit status" "$st" 1
"$BELTLINE" -i "$I" inject r2 /etc/passwd 2> /dev/null && st=0 || st=$?
eq "inject of a file that is no capture: exit status" "$st" 1
# Not Ethernet (DLT_RAW, 101): refused naming the link type, nothing sent (it went in as
# Ethernet frames, the IP header read as MAC addresses, and exit status 0).
python3 - "$T/raw.pcap" "$T/odd.in.pcap" <<'PY'
import struct, sys
hdr = lambda lt: struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt)
rec = lambda data, wire: struct.pack('<IIII', 1, 0, len(data), wire) + data
ip = bytes.fromhex('4500001c0001000040110000c0000201c0000202') + bytes(8)
open(sys.argv[1], 'wb').write(hdr(101) + rec(ip, len(ip)))
eth = bytes(range(60))
# a frame, an empty record, a frame cut to 40 of its 60 bytes (a snap length)
open(sys.argv[2], 'wb').write(hdr(1) + rec(eth, 60) + rec(b'', 0) + rec(eth[:40], 60))
PY
out=$("$BELTLINE" -i "$I" inject r2 "$T/raw.pcap" 2>&1) && st=0 || st=$?
eq "inject of a DLT_RAW capture: exit status" "$st" 1
check "it names the link type ($out)" grep -q 'link type 101, not Ethernet' <<< "$out"
eq "... neither took the writer's place on the stream (writers_total)" "$(wt)" "$w0"
# Read as a stream, an inject stream's name says what it is (it said only "no stream").
out=$("$BELTLINE" -i "$I" cat -c 1 r2 2>&1 > /dev/null) && st=0 || st=$?
eq "cat of an inject stream: exit status" "$st" 1
check "it says it is an inject stream, written ($out)" \
	grep -q 'no stream "r2" .*(it is an inject stream: clients write it' <<< "$out"
# An empty record is skipped (it ended the whole replay with "Invalid argument"), a cut
# frame sent as the file has it; both said.
# A frame over max_frame stops the replay naming the fix: a larger max_frame when one can
# take it, else none (it said "raise max_frame" for a frame of 66014 bytes, which no
# max_frame takes).
python3 - "$T/big.pcap" <<'PY'
import struct, sys
rec = lambda data: struct.pack('<IIII', 1, 0, len(data), len(data)) + data
open(sys.argv[1], 'wb').write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) +
                              rec(bytes(60)) + rec(bytes(3000)))
PY
out=$("$BELTLINE" -i "$I" inject small "$T/big.pcap" 2>&1) && st=0 || st=$?
eq "a frame of 3000 bytes into max_frame 2048: exit status" "$st" 1
check "it says to raise max_frame ($out)" \
	grep -q "frame 2, of 3000 bytes, does not fit the stream's max_frame (2048); the 1 before it went in. Raise the inject filter's max_frame" <<< "$out"
out=$("$BELTLINE" -i "$I" inject small "$CORPUS/huge-tipc-messages.pcap" 2>&1) && st=0 || st=$?
eq "a frame of 66014 bytes: exit status" "$st" 1
check "it says no max_frame takes it ($out)" \
	grep -q "frame 3, of 66014 bytes, .*No inject stream takes it: max_frame is at most 65535" <<< "$out"
out=$("$BELTLINE" -i "$I" inject odd "$T/odd.in.pcap" 2>&1) && st=0 || st=$?
eq "inject of a capture with an empty record: exit status" "$st" 0
check "it says the empty record was skipped ($out)" grep -q '1 records of 0 bytes skipped' <<< "$out"
check "... and the cut frame sent as cut" grep -q '1 frames shorter in the file' <<< "$out"
check "... and how many went in (it said nothing on success)" grep -q ': 2 frames into beltline://' <<< "$out"

# One writer at a time; a writer killed holding buffers is gone, and a new one gets in
# (within ms quiet; a deadline of 30 s, and the figure said).
coproc HOLD { exec "$WRITER" "$I" hold hold; }
HPID=$HOLD_PID
read -r -t "$WAIT" word n <&"${HOLD[0]}" || true
eq "a writer holds buffers" "$word" holding
out=$("$BELTLINE" -i "$I" inject hold "$CORPUS/vxlan.pcap" 2>&1) && st=0 || st=$?
eq "a second writer: exit status" "$st" 1
check "a second writer is refused with the reason ($out)" \
	grep -q "stream hold already has a writer (pid $HPID)" <<< "$out"
"$BELTLINE" -i "$I" ls > "$T/ls" 2>&1
check "ls lists the inject streams with the writer's pid" grep -Eq "^ *hold .* $HPID( |\$)" "$T/ls"
# bash completion offers inject streams for inject, and no table's title or header
comp() { bash -c 'complete() { :; }; beltline() { "$BELTLINE" "$@"; }; . "$1"; _beltline_streams "$2" $3' \
	_ "$SRCDIR/deploy/beltline.bash-completion" "$I" "$1" | sort | tr '\n' ' '; }
eq "bash completion: the inject streams" "$(BELTLINE=$BELTLINE comp injects)" \
	"after h hold hs loop odd paced r0 r1 r2 r3 r4 small term "
eq "bash completion: the streams (none here)" "$(BELTLINE=$BELTLINE comp streams)" ""
filters() { bash -c 'complete() { :; }; beltline() { "$BELTLINE" "$@"; }; . "$1"; _beltline_filters "$2"' \
	_ "$SRCDIR/deploy/beltline.bash-completion" "$I" | tr '\n' ' '; }
eq "bash completion: the filters, for tap (none offered before)" "$(BELTLINE=$BELTLINE filters)" \
	"$("$BELTLINE" -i "$I" stats --json | jq -r '.filters[].name' | sort -u | tr '\n' ' ')"
kill -9 "$HPID"
ms=$("$WRITER" "$I" hold reopen 30000) && st=0 || st=$?
eq "a new writer after the SIGKILL gets in (in ${ms:-?} ms; a few quiet): exit status" "$st" 0

# A paced writer SIGTERMed while it waits for its next frame's time stops, says
# what it committed and exits 0; the appliance took exactly that (it crashed:
# SIGSEGV, committing a buffer it never got).
term_writer_open() { [ "$(jq '.injects[] | select(.name == "term") | .writers' <<< \
	"$("$BELTLINE" -i "$I" stats --json)")" = 1 ]; }
for k in 1 2 3; do
	"$BELTLINE" -i "$I" -v inject term "$CORPUS/vxlan.pcap" -l 1000 -r 1 2> "$T/term.err" &
	p=$!
	check "a paced writer ($k) opens" wait_for 60 term_writer_open
	if [ "$k" = 1 ]; then   # it sleeps until its next frame: it woke every 50 us (14% of a CPU)
		ticks() { awk '{ print $14 + $15 }' "/proc/$p/stat"; }
		t1=$(ticks)
		sleep 2         # the window measured, not a wait for something
		t2=$(ticks)
		check "a writer paced at 1 frame a second takes <= 5% of a CPU ($((t2 - t1)) ticks of 200)" \
			test $((t2 - t1)) -le 10
	fi
	kill -TERM "$p"
	wait "$p" && st=0 || st=$?
	eq "a paced writer SIGTERMed while it waits ($k): exit status" "$st" 0
	said=$(sed -n 's/.* \([0-9]*\) frames committed, .*/\1/p' "$T/term.err")
	wait_for 60 eval '! term_writer_open' || true
	took=$(jq '.injects[] | select(.name == "term") | .writer.frames' <<< \
		"$("$BELTLINE" -i "$I" stats --json)")
	eq "it said what it committed, and the appliance took that ($k)" "${said:-none}" "$took"
done

# A writer that scribbles over its whole region, in a loop. On a loaded machine the
# worker may get no CPU while one writer's loop runs (it saw none in a run at load 27):
# up to 5 writers in turn, until the appliance has counted some of the garbage.
refused=0
for try in 1 2 3 4 5; do
	check "a hostile writer scribbles ($try)" "$WRITER" "$I" h hostile 200000
	"$BELTLINE" -i "$I" stats --json > "$T/s.json"
	refused=$(jq '[.injects[] | select(.name == "h") | .writer |
		(.bad_offset + .too_long + .empty + .reused + .not_got + .bad_head)] | add' "$T/s.json")
	[ "${refused:-0}" -eq 0 ] || break
done
check "its garbage is counted ($refused)" test "${refused:-0}" -gt 0
check "the appliance carries on: an honest writer after it" \
	"$BELTLINE" -i "$I" inject after "$CORPUS/afs.pcap"

# A writer that sleeps dishonestly does not hold the main lcore's tick at 100 us (10000
# wakeups a second); the slow tick is 1 ms. Its thread's voluntary context switches over
# 2 s (one a tick) tell: 2000 at the slow tick. "head" (a garbage head under a wait no tail
# reaches) held it for as long as the writer liked (11500 in 2 s); "flip" (a wait cycled
# through values reached) is signalled at each slow tick, never faster.
ctxsw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$BPID/task/$BPID/status"; }
no_hs_writer() { [ "$("$BELTLINE" -i "$I" stats --json | jq '.injects[] | select(.name == "hs") | .writers')" = 0 ]; }
for how in head flip; do
	check "hs has no writer (before $how)" wait_for "$WAIT" no_hs_writer
	"$WRITER" "$I" hs badsleep $how 4000 > "$T/bs.out" 2>&1 &
	bs=$!
	check "a writer sleeping dishonestly ($how) is set" wait_for "$WAIT" grep -q set "$T/bs.out"
	sleep 0.5
	c0=$(ctxsw); sleep 2; c1=$(ctxsw)
	check "... the main lcore ticks at most a tick a ms all the while ($((c1 - c0)) wakeups in 2 s)" \
		test $((c1 - c0)) -lt 5000
	wait "$bs" || true
done

kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
for k in "${!caps[@]}"; do
	check "${caps[$k]}: out is byte-identical" "$PCAP_CMP" "$CORPUS/${caps[$k]}" "$T/o$k.pcap"
done
read -r n _ < <("$PCAP_CMP" -s "$T/loop.pcap")
eq "-l 3: three times the frames" "$n" 30
check "-r 100: byte-identical" "$PCAP_CMP" "$CORPUS/vxlan.pcap" "$T/paced.pcap"
check "after the hostile writer: byte-identical" "$PCAP_CMP" "$CORPUS/afs.pcap" "$T/after.pcap"
read -r n _ < <("$PCAP_CMP" -s "$T/odd.pcap")
eq "the capture with an empty record: its two frames out" "$n" 2
eq "mbufs leaked" "$(jget "$T/r.json" '.mbufs.leaked')" 0
check "no control folder left" test ! -e "$RUN"
trap 'rm -rf "$T"' EXIT
finish
