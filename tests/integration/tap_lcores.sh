#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A tap on a filter of a graph that runs on two worker lcores (docs/taps.md): a tap
# (a stream, one writer) on each replica, read in turn by `beltline tap` and by the
# mount's `all`; both replicas' packets come out; a reload that keeps the filter
# carries both taps on; one that moves the graph to one lcore ends them, saying why.
. "$(dirname "$0")/lib.sh"

I=$(inst taplc)
export BELTLINE_INSTANCE=$I
# Two gen replicas make the same packets, a pattern of 10 (sport 1000..1009 in turn): one
# replica's packets follow it, each the one after the last, so packets out of that turn
# came from both (whatever the two replicas' phase: a period of 3000 packets needed them
# within 0.5 s of each other to overlap at all).
for v in 1 2; do
	if [ $v = 1 ]; then lc="1, 2"; extra=""; else lc="1"; extra=', { "lcores": [2], "pipeline": "gen rate=10 | count --name=z" }'; fi
	cat > "$T/c$v.json" <<JSON
{ "instance": "$I", "lcore_cpu": { "2": 1 }, "mbufs": { "count": 32767 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [$lc], "pipeline":
    "gen proto=tcp rate=2000 sport=1000-1009 dport=80 | dport |80 count --name=web" }$extra ] }
JSON
done
sed 's/--name=web/--name=web2/' "$T/c1.json" > "$T/c1b.json"
"$BELTLINED" --stats-interval 0 "$T/c1.json" > "$T/final.json" 2> "$T/err" &
PID=$!
cleanup() {
	[ ! -d "$T/mnt" ] || fusermount3 -u "$T/mnt" 2> /dev/null || true
	kill -INT "$PID" 2> /dev/null && wait "$PID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
wait_for "$WAIT" test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
running() { [ "$("$BELTLINE" stats --json | jq '[.filters[] | select(.name == "dport") | .in > 50] | all')" = true ]; }
wait_for "$WAIT" running
n_taps() { grep -c 'tap\.' <<< "$("$BELTLINE" ls)" || true; }

rc=0; timeout 120 "$BELTLINE" tap -c 2000 dport > "$T/t.pcap" 2> "$T/t.err" || rc=$?
eq "a tap on a filter of a graph on two lcores" "$rc" 0
check "... a tap on each replica (logged)" grep -q 'tap tap\.2 on graphs\[0\]/dport (lcore 2)' "$T/err"
python3 - "$T/t.pcap" <<'PY' > "$T/t.txt" 2> "$T/t.turns"
import struct, sys
b = open(sys.argv[1], 'rb').read()
off, ps = 24, []
while off + 16 <= len(b):
    incl = struct.unpack('<I', b[off + 8:off + 12])[0]
    if off + 16 + incl > len(b):
        break
    ps.append(b[off + 16:off + 16 + incl])
    off += 16 + incl
# A packet that is not the one after the last in the pattern: the other replica's (or one
# a tap dropped at its tail before it: a few at most; both replicas in turn make ~half).
sport = [struct.unpack('>H', p[34:36])[0] for p in ps]
turns = sum(1 for a, b in zip(sport, sport[1:]) if b != 1000 + (a - 1000 + 1) % 10)
print(len(ps), 'both' if turns >= 20 else 'one', file=sys.stdout)
print(turns, file=sys.stderr)
PY
eq "... its packets, from both replicas ($(cat "$T/t.turns") out of one replica's turn)" \
	"$(cat "$T/t.txt")" "2000 both"
check "both taps go with their reader" wait_for "$WAIT" bash -c "[ \"\$(grep -c 'ends: its last reader left' '$T/err')\" = 2 ]"

# Through the mount: cat all reads both.
if have_fuse; then
	mkdir "$T/mnt"
	"$BELTLINE" mount "$T/mnt"
	{ timeout 120 cat "$T/mnt/gen/dport/all" || true; } | head -c 20000 > "$T/m.pcap"
	check "mount: all of a filter on two lcores (pcap bytes)" test "$(stat -c %s "$T/m.pcap")" = 20000
	check "... a tap on each replica" grep -q 'tap tap\.4 on graphs\[0\]/dport (lcore 2)' "$T/err"
	fusermount3 -u "$T/mnt"
	rmdir "$T/mnt"
fi

# A reload that keeps dport (web renamed) carries both taps on; one that puts the graph
# on one lcore ends them, with the reason.
timeout 120 "$BELTLINE" tap dport > /dev/null 2> "$T/held.err" &
HELD=$!
wait_for "$WAIT" bash -c "[ \"\$('$BELTLINE' ls | grep -c 'tap\\.')\" = 2 ]"
ends0=$(grep -c 'ends:' "$T/err" || true)
"$BELTLINE" reload "$T/c1b.json" > /dev/null
# Both taps go on: each one's stream written 1000 more after the reload (half a second).
tap_written() { "$BELTLINE" stats --json | jq -c '[.streams[] | select(.name | startswith("tap.")) |
	{ key: .name, value: .written }] | from_entries'; }
taps_on() { tap_written | jq -e --argjson w "$1" 'length == 2 and
	(to_entries | all(.value >= ($w[.key] // 1e18) + 1000))' > /dev/null; }
w1=$(tap_written)
wait_for "$WAIT" taps_on "$w1" || true
eq "a reload that keeps the filter: both taps on, written after it" "$(n_taps)/$(taps_on "$w1" && echo on)" 2/on
eq "... none ended (log)" "$(grep -c 'ends:' "$T/err" || true)" "$ends0"
check "... its reader still there" alive "$HELD"
"$BELTLINE" reload "$T/c2.json" > /dev/null
check "a reload to one lcore ends them" wait_for 60 bash -c "[ \"\$('$BELTLINE' ls | grep -c 'tap\\.' || true)\" = 0 ]"
check "... saying why" grep -q 'now runs on 1 lcore, not 2' "$T/err"
rc=0; wait "$HELD" || rc=$?
eq "... and the reader sees the end of its streams" "$rc" 0

kill -INT "$PID"
wait "$PID" || true
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
finish
