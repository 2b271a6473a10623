#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tcpstream on generated traffic (issue 13, point 4): `tcpgen` makes 60
# interleaved TCP connections with data segments reordered, duplicated and lost
# on purpose, written to a capture by a `pcap` filter; that capture goes
# through `inject | tcpstream` and `beltline cat --tcp` writes each direction to
# a file. Two references: tcpflow on the same capture (byte for byte, holes
# zeros) and tcpgen's own pattern (every byte outside the reported gaps is the
# one sent; the gaps are exactly the bytes tcpgen left out).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
command -v tcpflow > /dev/null || { echo "SKIP: no tcpflow (deploy/install-deps.sh installs it)"; exit 77; }
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst tcpg)
RUN=${BELTLINE_RUN_DIR:-/run/beltline}/$I
export BELTLINE_INSTANCE=$I

# Bad arguments: refused at --check, the message names the key.
bad_arg() {
	local out rc=0
	out=$("$BELTLINED" --check --port n=net_null0 --pipeline "tcpgen $1 | drop" 2>&1) || rc=$?
	eq "tcpgen $1: refused" "$rc" 2
	check "tcpgen $1: the message names $2 ($out)" grep -q "tcpgen: $2" <<< "$out"
}
bad_arg "conns=0" conns
bad_arg "loss=1001" loss
bad_arg "segments=1" segments
bad_arg "sport=80" sport
bad_arg "sport=40000-40010" sport
bad_arg "mss=20000" mss
bad_arg "bogus=1" bogus

# 1. The traffic: 60 connections, 8 at a time, 2400 data segments.
gen="tcpgen conns=8 count=60 segments=40 mss=1400 reorder=80 dup=40 loss=40 seed=7"
"$BELTLINED" --instance "g$I" -q --port n=net_null0 --pipeline "$gen | pcap file=$T/g.pcap" \
	--exit-idle 500 --duration 120 > "$T/g.json" 2> "$T/g.err" || bad "tcpgen run: $(tail -n 3 "$T/g.err")"
tg=$(jq -c '.graphs[0].filters | to_entries[] | select(.value.filter == "tcpgen") | .value.counters' "$T/g.json")
eq "tcpgen: 60 connections completed" "$(jq '.connections' <<< "$tg")" 60
check "tcpgen: segments lost, duplicated and reordered on purpose ($tg)" \
	test "$(jq '[.lost, .duplicated, .reordered] | min' <<< "$tg")" -gt 0
eq "tcpgen: every packet in the capture" "$(tcpdump -nr "$T/g.pcap" 2> /dev/null | wc -l)" "$(jq '.generated' <<< "$tg")"
eq "tcpgen: every checksum right (tcpdump -vv)" \
	"$(tcpdump -vvnr "$T/g.pcap" 2> /dev/null | grep -c 'incorrect' || true)" 0

# 2. Through tcpstream, read by cat --tcp. The stream holds every record of the capture
# (about 3000 for 2753 packets in 8192 slots), so a reader the machine starves for a while
# loses none (one at load 27 fell 272 behind a 4096-slot stream).
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 32767 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
    "inject name=w max_frame=1600 | tcpstream --name=ts export=t capacity=8192 max_segs=256 | drop" ] } ] }
JSON
"$BELTLINED" -q --duration 150 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "$RUN/ctl"
live() { "$BELTLINE" stats --json | jq "[.filters[] | select(.name == \"ts\") | .counters.$1] | add"; }
attached() { [ "$(live readers)" = 1 ]; }
mkdir -p "$T/b" "$T/f"
# With few descriptors (ulimit -n 24, 16 directions open at a time): cat --tcp keeps half
# the limit of files open and opens the least recently written again, without emptying
# it. (Each stayed open until its connection closed: "Too many open files", exit 1.)
(ulimit -n 24; exec "$BELTLINE" cat --tcp t -w "$T/b") 2> "$T/cat.err" &
CPID=$!
check "the stream has its reader" wait_for "$WAIT" attached
# pcap of the record stream: its records went out as frames, exit 0
timeout 120 "$BELTLINE" cat t -c 2 > "$T/t.pcap" 2> "$T/tpcap.err" && rc=0 || rc=$?
eq "cat (pcap) of a tcpstream stream: exit 1 ($(head -c 200 "$T/tpcap.err"))" "$rc" 1
check "... it says to read it with --tcp" grep -q "/t holds tcp, not packets: read it with beltline cat --tcp -w DIR" "$T/tpcap.err"
"$BELTLINE" inject w "$T/g.pcap" 2> "$T/inj.err" || bad "inject: $(cat "$T/inj.err")"
prev=-1
stable() { local n; n=$(live segments); [ "$n" = "$prev" ] && [ "$n" != 0 ]; local r=$?; prev=$n; sleep 0.2; return $r; }
check "the capture went through" wait_for "$WAIT" stable
kill -TERM $BPID
wait $BPID || bad "beltlined exit status $?"
wait $CPID || bad "cat --tcp exit status $? ($(head -c 300 "$T/cat.err"))"

# 3. Reference: tcpflow on the same capture.
(cd "$T/f" && tcpflow -r "$T/g.pcap" > /dev/null 2>&1 && rm -f report.xml)
got=$(cd "$T/b" && ls | sort | tr '\n' ' ')
want=$(cd "$T/f" && ls | sort | tr '\n' ' ')
eq "the files tcpflow writes (120: two directions of 60)" "$(ls "$T/b" | wc -l) $([ "$got" = "$want" ] && echo same)" "120 same"
same=1
for f in "$T/f"/*; do cmp -s "$f" "$T/b/$(basename "$f")" || { same=0; echo "  differs: $(basename "$f")"; }; done
eq "every file equals tcpflow's, byte for byte ($(cat "$T/f"/* | wc -c) bytes)" "$same" 1

# 4. Reference: tcpgen's own bytes; the gaps are the lost segments, no more.
check "every byte outside the reported gaps is the one tcpgen sent, the gaps zeros" \
	python3 - "$T/b" "$T/cat.err" <<'PY'
import os, re, sys
got, err = sys.argv[1:3]
gaps = {}
for line in open(err):
    m = re.match(r"beltline: cat: (\S+): gap of (\d+) bytes at offset (\d+)", line)
    if m:
        gaps.setdefault(m[1], []).append((int(m[3]), int(m[3]) + int(m[2])))
ok = True
for f in os.listdir(got):
    a, b = f.split("-")            # 192.000.002.001.40000-192.000.002.002.00080
    client = a.startswith("192.000.002.001.")
    k = int((a if client else b).rsplit(".", 1)[1]) - 40000
    d = 0 if client else 1
    data = open(os.path.join(got, f), "rb").read()
    for o, x in enumerate(data):
        inside = any(lo <= o < hi for lo, hi in gaps.get(f, []))
        want = 0 if inside else ((o * 31 + k * 7 + d * 101) ^ (o >> 8)) & 0xff
        if x != want:
            print("  %s: byte %d is %d, not %d" % (f, o, x, want)); ok = False; break
sys.exit(0 if ok else 1)
PY
m=$(jq -c '.graphs[0].filters.ts.counters' "$T/r.json")
eq "gaps counted = gaps reported" "$(jq '.gaps' <<< "$m")" "$(grep -c 'gap of' "$T/cat.err")"
check "a lost segment makes a gap (lost $(jq '.lost' <<< "$tg"), gaps $(jq '.gaps' <<< "$m"))" \
	test "$(jq '.gaps' <<< "$m")" -gt 0 -a "$(jq '.gaps' <<< "$m")" -le "$(jq '.lost' <<< "$tg")"
check "duplicates seen as retransmissions ($(jq '.retrans' <<< "$m"))" test "$(jq '.retrans' <<< "$m")" -gt 0
eq "60 connections, all ended by FIN" "$(jq -c '[.streams, .ended_fin]' <<< "$m")" "[60,60]"
eq "no entry dropped, no record lost" "$(jq '.dropped + .nombuf + .no_stream' <<< "$m")" 0
eq "no mbuf leaked" "$(jq '.mbufs.leaked' "$T/r.json")" 0
finish
