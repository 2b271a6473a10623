#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An inject stream in zero copy (zero_copy=auto on net_null ports) kept by a
# reload whose new graph adds an export after it: the export passes packets on
# by their DBuf reference, which cannot be a writer's buffer. The kept stream
# must go on in one copy, for a writer already open and for one that opens
# after; readers of the export see the writer's bytes. (The stream kept zero
# copy: the export stored the mbufs' own, stale, buffers.) zero_copy=yes in
# such a reload is refused, naming the key, and the old config runs on.
. "$(dirname "$0")/lib.sh"

I=$(inst rlzc)
export BELTLINE_INSTANCE=$I
mkcfg() {   # FILE Z-TAIL Y-TAIL
	cat > "$1" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [
    { "lcores": [1], "pipeline": "inject name=z capacity=64 --name=z | count --name=zc $2" },
    { "lcores": [1], "pipeline": "inject name=y capacity=64 zero_copy=yes --name=y | count --name=yc $3" } ] }
JSON
}
mkcfg "$T/a.json" "" ""
mkcfg "$T/b.json" "| export name=zx capacity=4096" ""
mkcfg "$T/c.json" "| export name=zx capacity=4096" "| export name=yx"
zc_of() { "$BELTLINE" stats --json | jq ".injects[] | select(.name == \"$1\") | .zero_copy"; }
# one frame, written over and over: every frame a reader sees must be it
tcpdump -r "$SRCDIR/config/sample.pcap" -c 1 -w "$T/one.pcap" 2> /dev/null
frames_all() {   # PCAP EXPECTED-FRAME-PCAP: every record's bytes are the one frame's
	python3 - "$1" "$2" <<'PY'
import struct, sys
def frames(p):
    b = open(p, 'rb').read()
    end = '<' if b[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'   # usec, nsec
    at, out = 24, []
    while at + 16 <= len(b):
        incl = struct.unpack(end + 'I', b[at + 8:at + 12])[0]
        out.append(b[at + 16:at + 16 + incl])
        at += 16 + incl
    return out
got, want = frames(sys.argv[1]), frames(sys.argv[2])[0]
bad = [i for i, f in enumerate(got) if f != want]
print(f"{len(got)} frames, {len(bad)} not the writer's" + (f" (first: #{bad[0]})" if bad else ""))
sys.exit(1 if bad or not got else 0)
PY
}

"$BELTLINED" -q --stats-interval 0 "$T/a.json" > /dev/null 2> "$T/d.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
eq "zero_copy=auto on net_null: zero copy" "$(zc_of z)" true
# a writer open across the reload, one frame 200 times a second
"$BELTLINE" inject z "$T/one.pcap" -l 100000000 -r 200 > /dev/null 2> "$T/w1.err" &
W1=$!
zc_frames() { "$BELTLINE" stats --json | jq '.injects[] | select(.name == "z") | .writer.zero_copy // 0'; }
writing_more() { [ "$(zc_frames)" -gt "$ZC0" ]; }
writing() { [ "$(zc_frames)" -gt 0 ]; }
check "the writer's frames go zero copy" wait_for "$WAIT" writing
# A reload refused in a later graph leaves z as it was: its adopt decided one copy for
# the new graph, but that graph never ran. (z went on in one copy for ever.)
set +e; "$BELTLINE" reload "$T/c.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
check "reload adding exports after both streams: refused (y is zero_copy=yes)" test "$rc" != 0
ZC0=$(zc_frames)
eq "... z, whose new graph was rolled back, still zero copy" "$(zc_of z)" true
check "... and its writer's frames still go zero copy" wait_for "$WAIT" writing_more
set +e; "$BELTLINE" reload "$T/b.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload adding an export after the zero-copy stream: accepted" "$rc" 0
[ "$rc" = 0 ] || sed -n 1,3p "$T/r.err"
eq "... the stream now copies" "$(zc_of z)" false
set +e; timeout 60 "$BELTLINE" cat zx -c 50 > "$T/open.pcap" 2> "$T/cat1.err"; rc=$?; set -e
eq "a reader of the export read 50 frames" "$rc" 0
check "... each the writer's bytes (the writer open across the reload)" frames_all "$T/open.pcap" "$T/one.pcap"
kill "$W1"; wait "$W1" 2> /dev/null || true
# a writer that opens after the reload: the whole capture, in order
"$BELTLINE" cat zx -c 1000 > "$T/after.pcap" 2> "$T/cat2.err" &
C2=$!
readers() { test "$("$BELTLINE" stats --json | jq '[.streams[]? | select(.name == "zx") | .n_readers] | add // 0')" -ge 1; }
check "a reader attached" wait_for "$WAIT" readers
set +e; timeout 60 "$BELTLINE" inject z "$SRCDIR/config/sample.pcap" > /dev/null 2> "$T/w2.err"; rc=$?; set -e
eq "a new writer wrote the capture" "$rc" 0
set +e; wait "$C2"; rc=$?; set -e
eq "... the reader read 1000 frames" "$rc" 0
check "... byte-identical to the capture (a writer opened after the reload)" \
	"$PCAP_CMP" "$T/after.pcap" "$SRCDIR/config/sample.pcap"
set +e; "$BELTLINE" reload "$T/c.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
check "reload adding an export after a zero_copy=yes stream: refused" test "$rc" != 0
check "... naming the key and the filter" grep -q 'zero_copy: yes, but the new graph hands packets on by reference (export)' "$T/r.err"
eq "... the old config runs on: y still zero copy" "$(zc_of y)" true
kill -INT "$PID"
set +e; wait "$PID"; rc=$?; set -e
eq "exit status" "$rc" 0
finish
