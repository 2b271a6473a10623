#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltline tap (docs/taps.md) under traffic: gen at a steady rate through dport,
# whose `|80` edge and plain output each end in a `pcap file=` filter. A tap of
# the edge and a tap of the filter's output print exactly the packets (bytes)
# those pcap files hold, a contiguous run of them; --bpf narrows; the tapped
# filter's counters run on (not reset); the tap's stream goes when its reader
# leaves; refusals name the filter, edge or expression; a tap still read at
# shutdown leaks no mbuf.
. "$(dirname "$0")/lib.sh"

I=$(inst tap)
export BELTLINE_INSTANCE=$I
cat > "$T/c.json" <<JSON
{ "instance": "$I",
  "mbufs": { "count": 16383 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "gen proto=tcp rate=4000 sport=1000-1999 dport=79-81 | dport |80 pcap --name=edge file=$T/edge.pcap; gen proto=tcp rate=4000 sport=1000-1999 dport=79-81 | dport | pcap --name=out file=$T/out.pcap" } ] }
JSON

"$BELTLINED" -q --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
# A check that stops the script leaves no appliance (nor mount) behind.
cleanup() {
	[ ! -d "$T/mnt" ] || fusermount3 -u "$T/mnt" 2> /dev/null || true
	kill -INT "$PID" 2> /dev/null && wait "$PID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
wait_for 30 test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
stats() { "$BELTLINE" stats --json > "$T/st.json"; }
dport_in() { jq '[.filters[] | select(.name == "dport") | .in] | add // 0' "$T/st.json"; }
wait_for 30 bash -c "'$BELTLINE' stats --json | jq -e '[.filters[] | select(.name == \"dport\") | .in] | add > 100' > /dev/null"
stats; in0=$(dport_in)

# The edge, by the name of the filter it leads to; the output; one with --bpf.
timeout 60 "$BELTLINE" tap -c 300 dport:edge > "$T/tap_edge.pcap" 2> "$T/tap1.err"
eq "tap of the edge exits after -c" "$?" 0
# Each tap's stream goes with its reader.
# (ls must answer: a failed ls printed nothing, which had no tap in it either)
no_tap_listed() { local out; out=$("$BELTLINE" ls) && ! grep -q 'tap\.' <<< "$out"; }
taps_gone() { wait_for 30 no_tap_listed; }
taps_gone
timeout 60 "$BELTLINE" tap -c 300 dport > "$T/tap_out.pcap" 2> "$T/tap2.err"
taps_gone
timeout 60 "$BELTLINE" tap -c 100 --bpf 'tcp dst port 81' dport > "$T/tap_bpf.pcap" 2> "$T/tap3.err"
stats; in1=$(dport_in)
check "dport's counters ran on through the taps ($in0 -> $in1)" test "$in1" -gt "$in0"
# The tap's stream went with its reader.
check "the tap's stream goes when its last reader leaves" \
	wait_for 30 bash -c "! '$BELTLINE' ls | grep -q 'tap\\.'"

# Refusals name what is wrong; nothing is left behind.
refused() {   # refused WHAT PATTERN ARGS...
	local what=$1 pat=$2 rc=0
	shift 2
	"$BELTLINE" tap "$@" > /dev/null 2> "$T/r.err" || rc=$?
	if [ "$rc" = 1 ] && grep -q -- "$pat" "$T/r.err"; then ok "$what refused"
	else bad "$what: status $rc, said: $(cat "$T/r.err")"; fi
}
refused "an unknown filter" 'no filter "nosuch"' nosuch
refused "an unknown edge" 'has no edge "nowhere" (its out-edges lead to: edge, out)' dport:nowhere
refused "a bad bpf" 'bpf "tcp port": ' --bpf 'tcp port' dport
# (an empty EDGE was a tap of the whole output: -c 1 so that one ends)
refused "an empty EDGE" '"dport:" is not \[ORIGIN/\]FILTER\[:EDGE\]' -c 1 'dport:'
# (an empty ORIGIN was taken as none: any graph's filter of that name)
refused "an empty ORIGIN" '"/dport" is not \[ORIGIN/\]FILTER\[:EDGE\]' -c 1 '/dport'
refused "an unknown graph" 'no filter "dport" in graphs\[7\]' 'graphs[7]/dport'
# Who may not read the packet DBuf (memory.packet_mode, default 0640) may not tap.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$BELTLINE" tap -c 1 dport \
		> /dev/null 2> "$T/r.err" || rc=$?
	if [ "$rc" = 1 ] && grep -q 'uid 65534 may not read the packet buffer' "$T/r.err"; then
		ok "a user who may not read the packet DBuf is refused"
	else
		bad "tap by nobody: status $rc, said: $(cat "$T/r.err")"
	fi
	check "... and the refusal is logged" grep -q 'may not read the packet buffer' "$T/err"
fi
# The running graph as a filesystem (FUSE), with shell commands only.
MOUNTED=0
if have_fuse; then
	mkdir "$T/mnt"
	"$BELTLINE" mount "$T/mnt"
	MOUNTED=1
	check "mount: the sources at the top" test -d "$T/mnt/gen"
	check "mount: a filter under the one feeding it" test -d "$T/mnt/gen/dport/edge"
	check "mount: ... and under each of its parents' paths only" test ! -e "$T/mnt/dport"
	check "mount: all and stats in each" test -f "$T/mnt/gen/dport/all" -a -f "$T/mnt/gen/dport/stats"
	eq "mount: stats is the filter's counters (JSON)" "$(jq -r '.name + " " + (.in > 0 | tostring)' "$T/mnt/gen/dport/stats")" "dport true"
	# The first 20000 bytes (a few hundred packets; the last record cut short is left out).
	{ timeout 120 cat "$T/mnt/gen/dport/all" || true; } | head -c 20000 > "$T/mnt_all.pcap"
	check "mount: the tap of all went with its reader" \
		wait_for 30 bash -c "! '$BELTLINE' ls | grep -q 'tap\\.'"
	check "mount: mkdir of an unknown filter is refused (mount_edit.sh: the rest)" bash -c "! mkdir '$T/mnt/gen/dport/x' 2> /dev/null"
	fusermount3 -u "$T/mnt"
else
	echo "# no FUSE here (/dev/fuse, fusermount3, libfuse3-dev): the mount checks are skipped"
fi
"$BELTLINE" tap dport > /dev/null 2> "$T/held.err" &
HELD=$!
wait_for 30 bash -c "'$BELTLINE' ls | grep -q 'tap\\.'"
# "tap." names are the taps': a config's export of a live tap's name, with the tap
# stream's own settings, was adopted by the reload (a second writer into the tap).
TN=$("$BELTLINE" ls | awk '$1 ~ /^tap\./ {print $1; exit}')
jq --arg n "$TN" '.graphs += [{"lcores": [1], "pipeline": ("gen rate=100 | export name=" + $n + " capacity=4096")}]' \
	"$T/c.json" > "$T/coll.json"
rc=0; "$BELTLINE" reload "$T/coll.json" > /dev/null 2> "$T/r.err" || rc=$?
echo "  reload: $(cat "$T/r.err")"
check "a reload exporting the live tap's stream ($TN) is refused" \
	test "$rc" != 0 -a "$(grep -c "graphs\[1\].*name: \"$TN\": names beginning \"tap.\" belong to taps" "$T/r.err")" = 1
eq "... nothing reloaded" "$("$BELTLINE" stats --json | jq '.reload.reloads')" 0
rc=0; "$BELTLINED" --check "$T/coll.json" > /dev/null 2> "$T/r.err" || rc=$?
check "--check refuses a tap. name too" test "$rc" != 0 -a "$(grep -c 'belong to taps' "$T/r.err")" -ge 1
# More than one tap per filter: a second one, beside the one held, gets its packets.
rc=0; timeout 60 "$BELTLINE" tap -c 50 dport:edge > "$T/tap_second.pcap" 2> "$T/r.err" || rc=$?
eq "a second tap of one filter, beside a first" "$rc" 0
check "... gets its packets" test "$(stat -c %s "$T/tap_second.pcap")" -gt 2000
stats
check "the filter's counters kept (not reset by a tap)" test "$(dport_in)" -gt "$in1"

# Stop with a tap still read: its reader is told, no mbuf leaks.
kill -INT "$PID"
wait "$PID" || true
wait "$HELD" || true
eq "no mbuf leaked with a tap live at shutdown" "$(jq .mbufs.leaked "$T/final.json")" 0

# What the taps printed is a contiguous run of what the pcap filters wrote.
python3 - "$T" <<'PY' > "$T/cmp.txt"
import struct, sys
T = sys.argv[1]
def pkts(path):
    b = open(path, 'rb').read()
    magic = struct.unpack('<I', b[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    out, off = [], 24
    while off + 16 <= len(b):
        _, _, incl, _ = struct.unpack('<IIII', b[off:off + 16])
        if off + 16 + incl > len(b):
            break   # cut short (head -c)
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
def dports(ps):
    return sorted({struct.unpack('>H', p[36:38])[0] for p in ps})
def run_in(tap, ref):
    if not tap:
        return False
    for i in range(len(ref) - len(tap) + 1):
        if ref[i] == tap[0] and ref[i:i + len(tap)] == tap:
            return True
    return False
edge, out = pkts(T + '/edge.pcap'), pkts(T + '/out.pcap')
te, to, tb = pkts(T + '/tap_edge.pcap'), pkts(T + '/tap_out.pcap'), pkts(T + '/tap_bpf.pcap')
print('edge_count', len(te))
print('out_count', len(to))
print('bpf_count', len(tb))
print('edge_run', run_in(te, edge))
print('out_run', run_in(to, out))
print('edge_dports', dports(te))
print('out_dports', dports(to))
print('bpf_dports', dports(tb))
print('edge_distinct', len(set(te)))
import os
if os.path.exists(T + '/mnt_all.pcap'):
    tm = pkts(T + '/mnt_all.pcap')
    print('mnt_enough', len(tm) > 100)
    print('mnt_run', run_in(tm, out))
PY
v() { sed -n "s/^$1 //p" "$T/cmp.txt"; }
eq "edge tap: packets" "$(v edge_count)" 300
eq "edge tap = a run of the edge's pcap file= (bytes)" "$(v edge_run)" True
eq "edge tap carries only the edge's class" "$(v edge_dports)" "[80]"
eq "edge tap's packets differ (sport walks)" "$(v edge_distinct)" 300
eq "output tap: packets" "$(v out_count)" 300
eq "output tap = a run of the output's pcap file= (bytes)" "$(v out_run)" True
eq "output tap carries every class" "$(v out_dports)" "[79, 80, 81]"
eq "bpf tap: packets" "$(v bpf_count)" 100
eq "bpf tap keeps what the expression keeps" "$(v bpf_dports)" "[81]"
if [ "$MOUNTED" = 1 ]; then
	eq "mount: cat all is a tap (packets)" "$(v mnt_enough)" True
	eq "mount: cat all = a run of the output's pcap file= (bytes)" "$(v mnt_run)" True
fi
finish
