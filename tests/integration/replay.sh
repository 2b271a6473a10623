#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A replay keeps what the capture says (nic/bl_replay.h, docs/replay.md):
# `rx port=in | pcap file=OUT` on a net_pcap rx_pcap=CAP port writes the
# records `tcpdump -r CAP -w OUT` writes: time, captured length, wire length
# (longer than the captured one in the *-oobr captures) and bytes, for every
# capture of the corpus, pcapng too (the sink keeping whole frames: snaplen
# 262144, for huge-tipc-messages' 66014-byte ones).
# Live traffic keeps its arrival time.
. "$(dirname "$0")/lib.sh"
need_corpus
command -v tcpdump > /dev/null || { echo "SKIP: tcpdump is not installed"; exit 77; }

# One beltlined per batch of 12 captures: a port and a graph each (at most
# 16 graphs per beltlined).
shopt -s nullglob
caps=("$CORPUS"/*.pcap "$CORPUS"/*.pcapng)
shopt -u nullglob
for ((b = 0; b < ${#caps[@]}; b += 12)); do
	args=()
	for ((k = b; k < b + 12 && k < ${#caps[@]}; k++)); do
		rm -f "$T/rec$k.pcap"
		args+=(--port "in$k=net_pcap$k,rx_pcap=${caps[k]}"
		       --pipeline "rx port=in$k | pcap snaplen=262144 file=$T/rec$k.pcap")
	done
	if ! "$BELTLINED" -q --exit-idle 300 --instance "$(inst rec)" "${args[@]}" > "$T/r.json" 2> "$T/err"; then
		bad "captures $b..$((k - 1)): beltlined failed: $(tail -3 "$T/err")"
		continue
	fi
	jq -r '.ports | to_entries[] | "\(.key) \(.value.replay_unmatched)"' "$T/r.json" > "$T/unmatched"
	# (the port's replay_unmatched and the comparison's first line read by the shell: an
	# awk, a head and a basename a capture took a second of the test)
	unmatched=()
	while read -r p v; do unmatched[${p#in}]=$v; done < "$T/unmatched"
	for ((k = b; k < b + 12 && k < ${#caps[@]}; k++)); do
		cap=${caps[k]##*/}
		tcpdump -r "${caps[k]}" -w "$T/ref.pcap" 2> /dev/null
		if "$PCAP_CMP" -r "$T/ref.pcap" "$T/rec$k.pcap" > "$T/cmp" 2>&1; then
			line=; read -r line < "$T/cmp" || true
			ok "$cap: records (time, caplen, wire length, bytes) are tcpdump's: $line"
		else
			line=; read -r line < "$T/cmp" || true
			bad "$cap: records differ from tcpdump's: $line"
		fi
		eq "$cap: replay_unmatched" "${unmatched[k]:-}" 0
	done
done

# Frames DPDK 22.11's net_pcap mangles (above about 67 KB) are dropped by rx
# as malformed; the records after them keep their own time and wire length
# (the replay steps one record per delivered packet).
python3 - "$T/big.pcap" <<'PY'
import struct, sys
out = bytearray(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
eth = b'\xff' * 6 + b'\x00\x11\x22\x33\x44\x55' + b'\x08\x00'
for i, n in enumerate([60, 70000, 60, 1500, 131000, 80]):
	data = eth + bytes([i]) * (n - 14)
	out += struct.pack('<IIII', 1000 + i, 5, len(data), 200 if i == 5 else len(data)) + data
open(sys.argv[1], 'wb').write(out)
PY
rm -f "$T/big_out.pcap"
"$BELTLINED" -q --exit-idle 300 --instance "$(inst big)" --port "in=net_pcap0,rx_pcap=$T/big.pcap" \
	--pipeline "rx port=in | pcap file=$T/big_out.pcap" > "$T/r.json" 2> "$T/err"
eq "frames above 67 KB: dropped as malformed" "$(jq '.graphs[0].filters.rx.counters.malformed' "$T/r.json")" 2
eq "... the others keep their records (time.usec caplen/wire)" \
	"$(python3 - "$T/big_out.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read(); o = 24; r = []
while o + 16 <= len(d):
	s, u, c, w = struct.unpack_from('<IIII', d, o); r.append('%d.%d %d/%d' % (s, u, c, w)); o += 16 + c
print(' '.join(r))
PY
)" "1000.5 60/60 1002.5 60/60 1003.5 1500/1500 1005.5 80/200"
eq "... replay_unmatched" "$(jget "$T/r.json" .ports.in.replay_unmatched)" 0

# Live traffic keeps its arrival time: generated packets are written with
# the time they passed (within the run) and their own length as wire length.
t0=$(date +%s)
rm -f "$T/gen.pcap"
"$BELTLINED" -q --exit-idle 200 --duration 120 --instance "$(inst gen)" --port in=net_null0 \
	--pipeline "gen count=20 size=100 | pcap file=$T/gen.pcap" > /dev/null 2> "$T/err"
t1=$(date +%s)
read -r n lo hi lens < <(tcpdump -tt -r "$T/gen.pcap" 2> /dev/null | python3 -c '
import sys
r = [l.split() for l in sys.stdin]
t = [float(x[0]) for x in r]
print(len(t), int(min(t)) if t else 0, int(max(t)) if t else 0, ",".join(sorted(set(x[-1] for x in r))))')
eq "gen: every packet written (--exit-idle waits for count=)" "$n" 20
check "gen: they carry the time they passed ($lo..$hi within $t0..$t1)" test "$lo" -ge "$t0" -a "$hi" -le "$t1"

# One-off runs side by side: each its own --instance (else both are
# "default" and the second refuses to start); a bad name is refused. Both run at once
# (each one's control socket there), then both are stopped (they ran 3 s each, an
# overlap a slow start could have missed).
"$BELTLINED" -q --duration 600 --instance "$(inst one1)" --port in=net_null0 \
	--pipeline 'rx port=in | drop' > "$T/one1.json" 2> "$T/one1.err" &
p1=$!
"$BELTLINED" -q --duration 600 --instance "$(inst one2)" --port in=net_null0 \
	--pipeline 'rx port=in | drop' > "$T/one2.json" 2> "$T/one2.err" &
p2=$!
RUN=${BELTLINE_RUN_DIR:-/run/beltline}
both_up() { test -S "$RUN/$(inst one1)/ctl" -a -S "$RUN/$(inst one2)/ctl"; }
check "two one-off runs side by side: both run at once" wait_for "$WAIT" both_up
kill -INT "$p1" "$p2" 2> /dev/null || true
rc1=0 rc2=0
wait_pid "$WAIT" "$p1" || rc1=$?
wait_pid "$WAIT" "$p2" || rc2=$?
eq "two one-off runs side by side: exit statuses" "$rc1 $rc2" "0 0"
eq "... each under its own name" "$(jq -r .instance "$T/one1.json") $(jq -r .instance "$T/one2.json")" \
	"$(inst one1) $(inst one2)"
rc=0
"$BELTLINED" -q --duration 1 --instance 'a.b' --port in=net_null0 --pipeline 'rx port=in | drop' \
	> /dev/null 2> "$T/err" || rc=$?
eq "--instance a.b: exit status" "$rc" 2
check "--instance a.b: says why: $(head -1 "$T/err")" grep -q '^--instance: must be 1..31 characters' "$T/err"
finish
