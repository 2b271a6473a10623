#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tcpstream (issue 13, point 4): connections reassembled zero copy, read by
# `beltline cat --tcp` into one file per direction, equal byte for byte to what
# tcpflow writes from the same capture: the corpus's TCP captures (ssh, mptcp,
# bgp, of13, dns_tcp), and captures tests/tools/tcp_mangle.py makes with segments
# reordered, duplicated, overlapping and lost (there the reference is the
# script's own bytes: holes are zeros, as tcpflow leaves them, and each one is
# reported once as a gap of its length), and small captures
# tests/tools/tcp_hostile.py makes with forged segments (a forged ACK or FIN must
# not make a hole; the reference is the bytes sent, and tcpflow's files where
# tcpflow is not fooled). The captures go in with `beltline inject` once the
# readers are attached, so none of their packets is missed.
. "$(dirname "$0")/lib.sh"
# python3 starts often here: found once (through a launcher such as a pyenv shim, a shell
# script that costs more than the interpreter at each start), the same interpreter each time.
PY=$(python3 -c 'import sys; print(sys.executable)')
need_corpus
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
command -v tcpflow > /dev/null || { echo "SKIP: no tcpflow (deploy/install-deps.sh installs it)"; exit 77; }
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst tcps)
RUN=${BELTLINE_RUN_DIR:-/run/beltline}/$I
export BELTLINE_INSTANCE=$I

# Bad arguments: exit 2 at --check, the message names the key.
bad_arg() {
	local out rc=0
	out=$("$BELTLINED" --check --port n=net_null0 --pipeline "rx port=n | tcpstream $1 | drop" 2>&1) || rc=$?
	eq "tcpstream $1: refused" "$rc" 2
	check "tcpstream $1: the message names $2 ($out)" grep -q "tcpstream: $2" <<< "$out"
}
bad_arg "" export
bad_arg "export=x max_streams=0" max_streams
bad_arg "export=x max_bytes=-1" max_bytes
bad_arg "export=x capacity=1500" export
bad_arg "export=x idle_s=99999999999" idle_s
bad_arg "export=../x" export

"$PY" "$SRCDIR/tests/tools/tcp_mangle.py" "$T/m" > "$T/m.gaps"
caps=(ssh.pcap mptcp-v0.pcap bgp-4byte-asn.pcap bgp-bgpsec.pcap of13_ericsson.pcapng dns_tcp.pcap)
files=()
for c in "${caps[@]}"; do files+=("$CORPUS/$c"); done
KM=${#files[@]}
files+=("$T/m.pcap")
# the same capture again through tight limits: holes given up early (over_max_bytes)
files+=("$T/m.pcap" "$T/m.pcap")
limits=([7]="max_bytes=1500" [8]="max_segs=1")
# forged segments: capture K's files are $T/hK (tcp_hostile.py)
hostile=(ack_spoof fin_ahead big open_only rst_oow rst_data data_ack data_rst data_ahead rst_noack vlan_v6)
KH=${#files[@]}
declare -A hk
for h in "${hostile[@]}"; do
	hk[$h]=${#files[@]}
	limits[${#files[@]}]="max_segs=16"
	[ "$h" != open_only ] || limits[${#files[@]}]="max_segs=16 idle_s=1"
	"$PY" "$SRCDIR/tests/tools/tcp_hostile.py" "$h" "$T/h${#files[@]}"
	files+=("$T/h${#files[@]}.pcap")
done

# The references, made meanwhile (they need only the captures): tcpflow's files, in $T/fK
# for capture K and in $T/fm for the mangled one.
(
	for k in "${!caps[@]}"; do
		mkdir -p "$T/f$k"
		if [ "${caps[$k]}" = dns_tcp.pcap ]; then
			# tcpflow takes the 2 and 6 bytes of Ethernet padding of two of its empty
			# segments for payload; Wireshark's Follow TCP Stream (and tcpstream) does not
			"$PY" "$SRCDIR/tests/tools/follow_ref.py" "${files[$k]}" "$T/f$k"
		else
			(cd "$T/f$k" && tcpflow -r "${files[$k]}" > /dev/null 2>&1 && rm -f report.xml)
		fi
	done
	mkdir -p "$T/fm"
	(cd "$T/fm" && tcpflow -r "$T/m.pcap" > /dev/null 2>&1 && rm -f report.xml)
	for h in ack_spoof rst_data vlan_v6; do
		k=${hk[$h]}
		mkdir -p "$T/f$k"
		(cd "$T/f$k" && tcpflow -r "${files[$k]}" > /dev/null 2>&1 && rm -f report.xml)
	done
) > "$T/refs.log" 2>&1 &
REFS=$!

pipes=""
for k in "${!files[@]}"; do
	pipes="$pipes\"inject name=w$k max_frame=12000 | tcpstream --name=ts$k export=t$k capacity=1024 ${limits[$k]:-max_segs=256} | drop\", "
done
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "data_room": 12416, "count": 26623 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ ${pipes%, } ] } ] }
JSON
"$BELTLINED" -q --duration 150 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "$RUN/ctl"

# live stats: filters is an array of {name, counters}
live() { "$BELTLINE" stats --json | jq "[.filters[] | select(.name | startswith(\"ts\")) | .counters.$1] | add"; }
readers() { live readers; }
test_readers() { [ "$(readers)" = "${#files[@]}" ]; }
cpids=()
for k in "${!files[@]}"; do
	mkdir -p "$T/b$k"
	if [ "$k" = "${hk[big]}" ]; then
		# files of 200 KiB at most: its first connection writes at offset 300000
		(ulimit -f 200; exec "$BELTLINE" cat --tcp "t$k" -w "$T/b$k" 2> "$T/cat$k.err") &
	else
		"$BELTLINE" cat --tcp "t$k" -w "$T/b$k" 2> "$T/cat$k.err" &
	fi
	cpids+=($!)
done
check "every stream has its reader" wait_for "$WAIT" test_readers
for k in "${!files[@]}"; do
	"$BELTLINE" inject "w$k" "${files[$k]}" 2> "$T/inj$k.err" || bad "inject ${files[$k]}: $(cat "$T/inj$k.err")"
done
written() { live segments; }
# Every packet went through (segments stop growing), then stop: the rest is flushed.
prev=-1
stable() { local n; n=$(written); [ "$n" = "$prev" ] && [ "$n" != 0 ]; local r=$?; prev=$n; sleep 0.2; return $r; }
check "the captures went through" wait_for "$WAIT" stable
# The connection left open ends idle_s (1) after its last packet with no packet after
# it (the sweep ran only in bursts: it stayed until the filter stopped, counted flushed).
ended_idle() { [ "$("$BELTLINE" stats --json | jq ".filters[] | select(.name == \"ts${hk[open_only]}\") | .counters.ended_idle")" = 1 ]; }
check "open_only: the connection left open ends idle, no packet after it" wait_for "$WAIT" ended_idle
kill -TERM $BPID
wait $BPID || bad "beltlined exit status $?"
for k in "${!cpids[@]}"; do
	rc=0
	wait "${cpids[$k]}" || rc=$?
	if [ "$k" = "${hk[big]}" ]; then
		eq "cat --tcp: a file it cannot write is an error at the end (exit status)" "$rc" 1
	else
		[ "$rc" = 0 ] || bad "cat --tcp exit status $rc"
	fi
done

wait_pid "$WAIT" "$REFS" || echo "  (the references: $(tr '\n' ' ' < "$T/refs.log"))"
for k in "${!caps[@]}"; do
	got=$(cd "$T/b$k" && ls | sort | tr '\n' ' ')
	want=$(cd "$T/f$k" && ls | sort | tr '\n' ' ')
	eq "${caps[$k]}: the files tcpflow writes" "$got" "$want"
	same=1
	for f in "$T/f$k"/*; do cmp -s "$f" "$T/b$k/${f##*/}" || { same=0; echo "  differs: ${f##*/}"; }; done
	eq "${caps[$k]}: every file equals the reference's, byte for byte ($(cat "$T/f$k"/* | wc -c) bytes)" "$same" 1
done
k=$KM
got=$(cd "$T/b$k" && ls | sort | tr '\n' ' ')
want=$(cd "$T/m" && ls | sort | tr '\n' ' ')
eq "mangled: the files" "$got" "$want"
same=1
for f in "$T/m"/*; do cmp -s "$f" "$T/b$k/${f##*/}" || { same=0; echo "  differs: ${f##*/}"; }; done
eq "mangled: every file equals the sent bytes, holes zero ($(cat "$T/m"/* | wc -c) bytes)" "$same" 1
same=1
for f in "$T/fm"/*; do cmp -s "$f" "$T/b$k/${f##*/}" || { same=0; echo "  differs from tcpflow: ${f##*/}"; }; done
eq "mangled: and tcpflow's files" "$same" 1
eq "mangled: each lost segment reported once as a gap" \
	"$(grep -o 'gap of [0-9]* bytes at offset [0-9]*' "$T/cat$k.err" | sort)" "$(sort "$T/m.gaps")"
c=$(jq -c "[.graphs[0].filters | to_entries[] | select(.key | startswith(\"ts\")) | .value.counters]" "$T/r.json")
eq "no entry dropped, no record lost" "$(jq '[.[] | .dropped + .nombuf + .no_stream] | add' <<< "$c")" 0
m=$(jq -c ".graphs[0].filters.ts$k.counters" "$T/r.json")
eq "mangled: gaps counted = gaps reported" "$(jq '.gaps' <<< "$m")" "$(wc -l < "$T/m.gaps")"
eq "mangled: gap bytes counted" "$(jq '.gap_bytes' <<< "$m")" "$(awk '{ s += $3 } END { print s }' "$T/m.gaps")"
check "mangled: duplicates and overlaps seen ($(jq -c '[.retrans, .overlap_bytes]' <<< "$m"))" \
	test "$(jq '.retrans' <<< "$m")" -gt 0
eq "mangled: 4 connections, 3 by FIN, 1 by RST" "$(jq -c '[.streams, .ended_fin, .ended_rst]' <<< "$m")" "[4,3,1]"
eq "nothing held at the end" "$(jq '[.[] | .held] | add' <<< "$c")" 0
eq "no mbuf leaked" "$(jq '.mbufs.leaked' "$T/r.json")" 0
for k in $((KM + 1)) $((KM + 2)); do
	m=$(jq -c ".graphs[0].filters.ts$k.counters" "$T/r.json")
	check "${limits[$k]}: holes given up early ($(jq -c '[.over_max_bytes, .gaps, .gap_bytes]' <<< "$m"))" \
		test "$(jq '.over_max_bytes' <<< "$m")" -gt 0
	eq "${limits[$k]}: gaps reported = counted" "$(grep -c 'gap of' "$T/cat$k.err")" "$(jq '.gaps' <<< "$m")"
	check "${limits[$k]}: every byte outside the reported gaps is the sent one, the gaps zeros" \
		"$PY" - "$T/m" "$T/b$k" "$T/cat$k.err" <<'PY'
import os, re, sys
ref, got, err = sys.argv[1:4]
gaps = {}
for line in open(err):
    m = re.match(r"beltline: cat: (\S+): gap of (\d+) bytes at offset (\d+)", line)
    if m:
        gaps.setdefault(m[1], []).append((int(m[3]), int(m[3]) + int(m[2])))
ok = sorted(os.listdir(ref)) == sorted(os.listdir(got))
for f in os.listdir(ref):
    a, b = open(os.path.join(ref, f), "rb").read(), open(os.path.join(got, f), "rb").read()
    inside = lambda i: any(lo <= i < hi for lo, hi in gaps.get(f, []))
    for i in range(max(len(a), len(b))):
        x, y = a[i] if i < len(a) else 0, b[i] if i < len(b) else 0
        if (y != 0 if inside(i) else x != y):
            print("  %s: byte %d differs" % (f, i)); ok = False; break
sys.exit(0 if ok else 1)
PY
done
# Forged segments (tcp_hostile.py): the files are the bytes sent.
hc() { jq -c ".graphs[0].filters.ts${hk[$1]}.counters | $2" "$T/r.json"; }
for h in ack_spoof fin_ahead open_only rst_oow rst_data data_ack data_rst data_ahead rst_noack vlan_v6; do
	k=${hk[$h]}
	same=1
	for f in "$T/h$k"/*; do cmp -s "$f" "$T/b$k/${f##*/}" || { same=0; echo "  differs: ${f##*/}"; }; done
	eq "$h: the files are the bytes sent ($(cd "$T/b$k" && ls | tr '\n' ' '))" "$same" 1
done
for h in ack_spoof rst_data vlan_v6; do
	k=${hk[$h]}
	eq "$h: and tcpflow's files" "$(cd "$T/b$k" && md5sum * | sort)" "$(cd "$T/f$k" && md5sum * | sort)"
done
eq "ack_spoof: the forged ACK gives no hole up, it is counted [gaps, ack_ahead, ended_fin]" \
	"$(hc ack_spoof '[.gaps, .ack_ahead, .ended_fin]')" "[0,1,1]"
eq "fin_ahead: the forged FIN is not believed, the real ones end it [gaps, fin_ahead, ended_fin]" \
	"$(hc fin_ahead '[.gaps, .fin_ahead, .ended_fin]')" "[0,1,1]"
eq "rst_oow: the RST out of the window is ignored, the FINs end it [ended_rst, rst_ignored, ended_fin, after_close (the last ACK)]" \
	"$(hc rst_oow '[.ended_rst, .rst_ignored, .ended_fin, .after_close]')" "[0,1,1,1]"
eq "rst_data: the RST in the window ends it, the new bytes start a new one [streams, ended_rst, ended_fin, after_close (the last ACK)]" \
	"$(hc rst_data '[.streams, .ended_rst, .ended_fin, .after_close]')" "[2,1,1,1]"
# A forged segment far ahead is held (one byte), but widens no window: the ACK, the RST
# and the FINs after it are judged by what is within max_bytes of the next byte.
eq "data_ack: the ACK of a forged byte far ahead gives no hole up [gaps, ack_ahead, ended_fin]" \
	"$(hc data_ack '[.gaps, .ack_ahead, .ended_fin]')" "[0,1,1]"
eq "data_rst: a RST past a forged byte far ahead is ignored [ended_rst, rst_ignored, ended_fin]" \
	"$(hc data_rst '[.ended_rst, .rst_ignored, .ended_fin]')" "[0,1,1]"
eq "data_ahead: a forged byte past the FIN is dropped, the FINs end it [gaps, ended_fin, out_of_window]" \
	"$(hc data_ahead '[.gaps, .ended_fin, .out_of_window]')" "[0,1,1]"
eq "rst_noack: a RST without ACK at the acknowledged sequence number ends it [ended_rst, rst_ignored, flushed]" \
	"$(hc rst_noack '[.ended_rst, .rst_ignored, .flushed]')" "[1,0,0]"
eq "open_only: ended idle, not flushed [ended_idle, flushed]" "$(hc open_only '[.ended_idle, .flushed]')" "[1,0]"
k=${hk[big]}
# the first connection's bytes at offset 300000 pass the file size limit: said once, and
# cat --tcp goes on (it exited at the first such write: no later connection was written)
same=1
for f in "$T/h$k"/*41000*; do cmp -s "$f" "$T/b$k/${f##*/}" || { same=0; echo "  differs: ${f##*/}"; }; done
eq "big: the connection after the one it cannot write is written whole" "$same" 1
eq "big: the first 100 bytes of the one it cannot write are" \
	"$(head -c 100 "$T/h$k/010.014.000.002.00080-010.014.000.001.40000" | md5sum)" \
	"$(md5sum < "$T/b$k/010.014.000.002.00080-010.014.000.001.40000")"
eq "big: the write error said once" "$(grep -c 'File too large' "$T/cat$k.err")" 1
check "big: and counted ($(tail -n 1 "$T/cat$k.err"))" grep -q '1 connections not written whole (100 bytes' "$T/cat$k.err"

# Fragments are not followed, IPv6's first (offset 0, M set) included: it carries part
# of a segment (and its header's flags). It was followed as a whole segment, its partial
# payload published as in-order data. A capture: an IPv4 first fragment (MF), an IPv6
# first fragment, an IPv6 later one, and an IPv6 segment with no fragment header.
"$PY" - "$T/frag.pcap" <<'PY'
import struct, sys
eth4 = bytes.fromhex('020000000002020000000001' '0800')
eth6 = bytes.fromhex('020000000002020000000001' '86dd')
tcp = struct.pack('>HHIIBBHHH', 1000, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + b'x' * 100
def v4(flags_off):
    return eth4 + struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, flags_off, 64, 6, 0,
                              bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + tcp
def v6(frag):
    src, dst = bytes(15) + b'\x01', bytes(15) + b'\x02'
    if frag is None:
        return eth6 + struct.pack('>IHBB', 6 << 28, len(tcp), 6, 64) + src + dst + tcp
    fh = struct.pack('>BBHI', 6, 0, frag, 7)
    return eth6 + struct.pack('>IHBB', 6 << 28, 8 + len(tcp), 44, 64) + src + dst + fh + tcp
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate([v4(0x2000), v6(0x0001), v6(0x0010), v6(None)]):
        f.write(struct.pack('<IIII', 1, i, len(fr), len(fr)) + fr)
PY
# (this capture's appliance runs while the next one's capture is made and it runs:
# checked below, with it)
"$BELTLINED" -q --exit-idle 300 --instance "$(inst tsfrag)" --port "in=net_pcap0,rx_pcap=$T/frag.pcap" \
	--pipeline "rx port=in | tcpstream export=tsfrag | drop" > "$T/frag.json" 2> "$T/frag.err" &
FRAG=$!

# The clock past 2^32 ms (49.7 days): a connection a record every 11.6 days (a capture's
# times), each one idle when the next comes. They all ended idle but the last (ended when
# the filter stopped); past 2^32 ms the clock was clamped and none ended idle any more.
"$PY" - "$T/days.pcap" <<'PY'
import struct, sys
eth4 = bytes.fromhex('020000000002020000000001' '0800')
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for k in range(7):
        tcp = struct.pack('>HHIIBBHHH', 1000 + k, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + b'y' * 10
        fr = eth4 + struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                                bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + tcp
        s = 1700000000 + k * 1000000              # 10^6 s = 10^9 ms apart
        f.write(struct.pack('<IIII', s, 0, len(fr), len(fr)) + fr)
PY
rcd=0
"$BELTLINED" -q --exit-idle 300 --instance "$(inst tsdays)" --port "in=net_pcap0,rx_pcap=$T/days.pcap" \
	--pipeline "rx port=in | tcpstream export=tsdays max_streams=16 | drop" > "$T/days.json" 2> "$T/days.err" || rcd=$?
rc=0
wait "$FRAG" || rc=$?
eq "fragments: beltlined ran" "$rc" 0
eq "fragments: IPv4 MF, IPv6 first and later counted, not followed" \
	"$(jq '.graphs[0].filters.tcpstream.counters.fragments' "$T/frag.json")" 3
eq "... the IPv6 segment without a fragment header followed" \
	"$(jq '.graphs[0].filters.tcpstream.counters.segments' "$T/frag.json")" 1
eq "7 connections 11.6 days apart: beltlined ran" "$rcd" 0
c=$(jq -c '.graphs[0].filters.tcpstream.counters | [.streams, .ended_idle, .flushed]' "$T/days.json")
eq "... all followed, each ended idle when the next came but the last" "$c" "[7,6,1]"
# Ended connections give their places up to new ones: three connections one after the
# other (each ended by FINs before the next begins) through max_streams=2. The two ended
# ones held both places for idle_s (60 s), so the third was refused (no_stream 4: its
# SYN and data segments) and its bytes were lost, the table holding nothing live.
"$PY" - "$T/seq.pcap" <<'PY'
import os, struct, sys
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests", "tools"))
from tcpframe import ACK, FIN, PSH, SYN, frame
C, S = [10, 15, 0, 1], [10, 15, 0, 2]
p = []
for k in range(3):
    cp = 40000 + k
    c2s = lambda seq, ack, fl, d=b"": frame(C, S, cp, 80, 1000 + seq, 5000 + ack, fl, d)
    s2c = lambda seq, ack, fl, d=b"": frame(S, C, 80, cp, 5000 + seq, 1000 + ack, fl, d)
    p += [c2s(0, -5000, SYN), s2c(0, 1, SYN | ACK), c2s(1, 1, ACK), c2s(1, 1, ACK | PSH, b"q" * 10),
          s2c(1, 11, ACK | PSH, b"r" * 20), c2s(11, 21, FIN | ACK), s2c(21, 12, FIN | ACK),
          c2s(12, 22, ACK)]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(p):
        f.write(struct.pack("<IIII", 1700000000, i * 1000, len(fr), len(fr)) + fr)
PY
rc=0
"$BELTLINED" -q --exit-idle 300 --instance "$(inst tsseq)" --port "in=net_pcap0,rx_pcap=$T/seq.pcap" \
	--pipeline "rx port=in | tcpstream export=tsseq max_streams=2 | drop" > "$T/seq.json" 2> "$T/seq.err" || rc=$?
eq "3 connections one after the other, max_streams=2: beltlined ran" "$rc" 0
eq "... all followed and ended by FIN, the third in the place of the first [streams, ended_fin, bytes, no_stream, reclaimed]" \
	"$(jq -c '.graphs[0].filters.tcpstream.counters | [.streams, .ended_fin, .bytes, .no_stream, .reclaimed]' "$T/seq.json")" \
	"[3,3,90,0,1]"
finish
