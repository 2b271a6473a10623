#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Taps through live reloads (docs/taps.md, "Reloads"): four taps hang on one
# running filter (dport): its edge to a `pcap file=` filter, its edge to sample,
# and its output twice with different --bpf. Twenty reloads change another
# filter's arguments (sample's) in the same graph: dport is adopted each time,
# and every tap goes on, reader attached, stream the same, no packet lost: what
# each printed is a contiguous run of what the pcap filter on the same edge
# wrote (the --bpf ones: of its packets the expression keeps). A reload that
# relabels the edge to sample ends that tap alone, the others go on; a reload
# that removes dport ends the rest, each with a clean end of stream and a log
# line saying why. No mbuf leaks.
. "$(dirname "$0")/lib.sh"

N=${RELOADS:-20}
I=$(inst tapreload)
export BELTLINE_INSTANCE=$I
# 400 pps: a tap's ring (4096 entries) holds 10 s of it, so a tap client that a busy
# machine stalls for seconds loses nothing (at 4000 pps one second did).
GEN="gen proto=tcp rate=400 sport=1000-1999 dport=79-81"
# mkcfg FILE EVERY LABEL: sample's argument and the label of dport's edge to it vary.
# The pool has room for four taps' rings (4096 each) beside what receive keeps.
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I",
  "mbufs": { "count": 32767 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "$GEN | dport | pcap --name=out file=$T/out.pcap; $GEN | dport |$3 sample every=$2 | drop" } ] }
JSON
}
mkcfg "$T/a.json" 2 81
mkcfg "$T/b.json" 3 81
mkcfg "$T/relabel.json" 3 80
cat > "$T/gone.json" <<JSON
{ "instance": "$I",
  "mbufs": { "count": 32767 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "$GEN | count --name=other" } ] }
JSON

# Not -q: the tap's end is a notice.
"$BELTLINED" --stats-interval 0 "$T/a.json" > "$T/final.json" 2> "$T/err" &
PID=$!
wait_for "$WAIT" test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
wait_for "$WAIT" bash -c "'$BELTLINE' stats --json | jq -e '[.filters[] | select(.name == \"dport\") | .in] | add > 100' > /dev/null"

stats() { "$BELTLINE" stats --json > "$T/st.json"; }
dport_out() { jq '[.filters[] | select(.name == "dport") | .out] | add // 0' "$T/st.json"; }
taps_read() { jq '[.streams[] | select((.name | startswith("tap.")) and (.readers | length == 1))] | length' "$T/st.json"; }
tap_names() { jq -r '[.streams[] | select(.name | startswith("tap.")) | .name] | sort | join(" ")' "$T/st.json"; }

# Four taps on one filter, one after the other (so the one that ends first sits in
# the middle of the filter's list of hooks: they are linked first-in-front).
n_read() { "$BELTLINE" stats --json | jq -e "[.streams[] | select((.name | startswith(\"tap.\")) and (.readers | length == 1))] | length == $1" > /dev/null; }
"$BELTLINE" tap --bpf 'tcp dst port 80' dport > "$T/t80.pcap" 2> "$T/t80.err" &
T80=$!
wait_for 60 n_read 1
"$BELTLINE" tap dport:sample > "$T/tsample.pcap" 2> "$T/tsample.err" &
TSAMPLE=$!
wait_for 60 n_read 2
"$BELTLINE" tap --bpf 'tcp dst port 81' dport > "$T/t81.pcap" 2> "$T/t81.err" &
T81=$!
wait_for 60 n_read 3
"$BELTLINE" tap dport:out > "$T/tout.pcap" 2> "$T/tout.err" &
TOUT=$!
check "four taps on one filter, each read" wait_for 60 n_read 4
stats; out0=$(dport_out); names0=$(tap_names)

ok_reloads=0
for i in $(seq 1 "$N"); do
	if [ $((i % 2)) = 1 ]; then f=b; else f=a; fi
	if "$BELTLINE" reload "$T/$f.json" > /dev/null 2> "$T/r.err"; then
		ok_reloads=$((ok_reloads + 1))
	else
		echo "# reload $i: $(cat "$T/r.err")"
	fi
done
eq "reloads that changed sample's arguments went through" "$ok_reloads" "$N"
stats; out1=$(dport_out)
check "the graph was rebuilt (sample is a new instance each time)" \
	test "$(jq '.reload.reloads' "$T/st.json")" -ge "$N"
check "dport was adopted: its counters ran on ($out0 -> $out1)" test "$out1" -gt "$out0"
eq "every tap's reader stays attached through $N reloads" "$(taps_read)" 4
eq "... on the same streams" "$(tap_names)" "$names0"
running=0
for p in $T80 $TSAMPLE $T81 $TOUT; do alive "$p" && running=$((running + 1)); done
eq "... and every tap client still runs" "$running" 4

# The tapped edge relabelled: that tap ends, cleanly and logged; the others go on.
"$BELTLINE" reload "$T/relabel.json" > /dev/null
rc=0; timeout 60 tail --pid="$TSAMPLE" -f /dev/null || rc=$?
eq "a tap whose edge changed ends" "$rc" 0
rc=0; wait "$TSAMPLE" || rc=$?
eq "... its client exits cleanly (end of stream)" "$rc" 0
check "... logged with the reason" grep -q 'ends: the new config changes the edge from "dport" to "sample"' "$T/err"
stats
eq "... the others still read" "$(taps_read)" 3
wait_for "$WAIT" bash -c "'$BELTLINE' stats --json | jq -e '[.filters[] | select(.name == \"dport\") | .out] | add > $out1 + 200' > /dev/null"

# dport removed: every tap on it ends, cleanly, each logged.
"$BELTLINE" reload "$T/gone.json" > /dev/null
for p in $T80 $T81 $TOUT; do
	rc=0; timeout 60 tail --pid="$p" -f /dev/null || rc=$?
	[ "$rc" = 0 ] || break
	rc=0; wait "$p" || rc=$?
	[ "$rc" = 0 ] || break
done
eq "a reload that removes the tapped filter ends its taps, cleanly" "$rc" 0
eq "... each logged with the reason" \
	"$(grep -c 'ends: the new config removes or changes filter "dport"' "$T/err")" 3
check "... and their streams go" wait_for "$WAIT" bash -c "! grep -q 'tap\\.' <<< \"\$('$BELTLINE' ls)\""
lost=$(cat "$T"/t*.err | grep -c 'lost' || true)
eq "no tap lost a packet (SRP: none dropped at its tail)" "$lost" 0

kill -INT "$PID"
wait "$PID" || true
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0

python3 - "$T" <<'PY' > "$T/cmp.txt"
import struct, sys
T = sys.argv[1]
def pkts(path):
    b = open(path, 'rb').read()
    out, off = [], 24
    while off + 16 <= len(b):
        incl = struct.unpack('<IIII', b[off:off + 16])[2]
        if off + 16 + incl > len(b):
            break
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
def dport(p):
    return struct.unpack('>H', p[36:38])[0]
def run_in(tap, ref):
    for i in range(len(ref) - len(tap) + 1):
        if ref[i] == tap[0] and ref[i:i + len(tap)] == tap:
            return True
    return False
out = pkts(T + '/out.pcap')
for name, keep in (('tout', None), ('t80', 80), ('t81', 81), ('tsample', 81)):
    tap = pkts(T + '/' + name + '.pcap')
    ref = out if keep is None else [p for p in out if dport(p) == keep]
    print(name + '_count', len(tap))
    print(name + '_run', bool(tap) and run_in(tap, ref))
PY
v() { sed -n "s/^$1 //p" "$T/cmp.txt"; }
want=$((out1 - out0))
for t in tout t80 t81 tsample; do
	eq "$t = a contiguous run of the pcap file= on dport's edge (bytes)" "$(v ${t}_run)" True
done
check "the output tap spans the reloads: $(v tout_count) >= $want packets" test "$(v tout_count)" -ge "$want"
check "the --bpf taps too: $(v t80_count), $(v t81_count) >= a third of $want less 10%" \
	test "$(( ($(v t80_count) + $(v t81_count)) * 30 ))" -ge "$(( want * 2 * 9 ))"
finish
