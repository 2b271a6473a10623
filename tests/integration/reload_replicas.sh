#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A reload that changes how many lcores run a graph splits the rx queues anew: replica
# i of n polls the queues q with q % n == i, after each reload as at a start. Two ports
# with two rx queues each, each queue its own capture (queue 0: udp dport 1, queue 1:
# udp dport 2, over and over); per replica `all` counts what it polls and the bpf `sel`
# passes what came from queue 1 and drops what came from queue 0. graphs[0] (port a) goes [1] -> [1,2] -> [1] while graphs[1] (port
# b) goes [1,2] -> [1] -> [1,2]. Before, a replica kept the rx of the same lcore and
# index whatever the count: [1] -> [1,2] left replica 0 polling queue 1 beside replica 1
# (two lcores on one queue), [1,2] -> [1] left queue 1 polled by no one. A `pcap file=`
# sink is remade for the new split too (PATH-rI with two replicas); `count` keeps its
# counters across the change.
. "$(dirname "$0")/lib.sh"

I=$(inst rrepl)
export BELTLINE_INSTANCE=$I
# mkpcap FILE DPORT: 1000 UDP frames of 60 bytes to port DPORT.
mkpcap() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
frame = bytes.fromhex('ffffffffffff0200000000010800450000320000000040110000'
                      '0a0000010a00000204d2') + struct.pack('>H', int(sys.argv[2])) + \
        bytes.fromhex('001e0000') + bytes(22)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(1000):
        f.write(struct.pack('<IIII', 1000, i, len(frame), len(frame)) + frame)
PY
}
mkpcap "$T/q0.pcap" 1
mkpcap "$T/q1.pcap" 2
# mkcfg FILE LCORES_A LCORES_B: both workers on CPU 1, an idle one napping.
port() { echo "{ \"name\": \"$1\", \"rx_queues\": 2, \"vdev\": \"net_pcap$2,rx_pcap=$T/q0.pcap,rx_pcap=$T/q1.pcap,infinite_rx=1\" }"; }
graph() { echo "{ \"lcores\": [$2], \"pipeline\": \"rx port=$1 | count --name=all | bpf --name=sel \\\"udp port 2\\\" | sample every=20000 | pcap file=$T/$1.pcap\" }"; }
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I", "lcore_cpu": { "2": 1 }, "idle_sleep_us": 100, "mbufs": { "count": 32767 },
  "ports": [ $(port a 0), $(port b 1) ],
  "graphs": [ $(graph a "$2"), $(graph b "$3") ] }
JSON
}
mkcfg "$T/c1.json" 1 "1, 2"
mkcfg "$T/c2.json" "1, 2" 1

"$BELTLINED" --stats-interval 0 "$T/c1.json" > "$T/final.json" 2> "$T/err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/err"

# counts: "GRAPH.REPLICA q0 q1" for each replica of each graph, one a line: what `sel`
# dropped (queue 0's) and passed (queue 1's). Each is one counter: a replica that does
# not poll a queue adds nothing to its counter, however late the snapshot reads it. (They
# were `all` - `q1`, two filters' counters read apart: the control thread kept off its CPU
# between the two reads made a replica of queue 1 alone seem to poll queue 0, once in CI.)
counts() {
	"$BELTLINE" stats --json | jq -r '.filters[] | select(.name == "sel") | "\(.graph) \(.dropped) \(.out)"'
}
# seen: "GRAPH.REPLICA packets" for each replica, what its `all` counted.
seen() { "$BELTLINE" stats --json | jq -r '.filters[] | select(.name == "all") | "\(.graph) \(.in)"' | sort; }
# grown SEEN: every replica listed in SEEN has counted 20000 more since (each polls a
# queue in every config here). Not each graph's sum: a replica kept off its CPU all the
# while would add less than 1000 and seem to poll nothing.
grown() { join <(echo "$1") <(seen) | awk '$3 - $2 < 20000 { short = 1 } END { exit short || NR == 0 }'; }
# deltas: what each replica counted while it took 20000 packets or more, after a reload
# returned (every worker runs its new graphs by then): "GRAPH.REPLICA q0 q1".
deltas() {
	local before after
	before=$(counts)
	wait_for 60 grown "$(seen)" || true
	after=$(counts)
	# in the log: what a failed check below was computed from
	printf '# counts before:\n%s\n# after:\n%s\n' "$before" "$after" >&2
	join <(sort <<< "$before") <(sort <<< "$after") | awk '{ print $1, $4 - $2, $5 - $3 }'
}
# polls DELTAS GRAPH: what each replica polled, "0:01 1:-1" (queue 0, queue 1; - none)
polls() {
	awk -v g="$2" 'index($1, g ".") == 1 { sub(/.*\./, "", $1)
		printf "%s%s:%s%s", (n++ ? " " : ""), $1, ($2 > 1000 ? "0" : "-"), ($3 > 1000 ? "1" : "-") }' <<< "$1"
}
all_of() { jq --arg g "$1" '[.filters[] | select(.graph == $g and .name == "all") | .in] | add' <<< "$("$BELTLINE" stats --json)"; }

d=$(deltas)
eq "at the start: graphs[0] on [1], each queue polled once" "$(polls "$d" 'graphs[0]')" "0:01"
eq "... graphs[1] on [1,2]" "$(polls "$d" 'graphs[1]')" "0:0- 1:-1"
a0=$(all_of 'graphs[0].0')

"$BELTLINE" reload "$T/c2.json" > /dev/null
d=$(deltas)
eq "reloaded: graphs[0] [1] -> [1,2], each queue polled once" "$(polls "$d" 'graphs[0]')" "0:0- 1:-1"
eq "... graphs[1] [1,2] -> [1]" "$(polls "$d" 'graphs[1]')" "0:01"
check "... graphs[0]'s replica 0 kept its count's counter" [ "$(all_of 'graphs[0].0')" -ge "$a0" ]
check "... its pcap sink writes a file per replica (a.pcap-r0)" wait_for 30 test -s "$T/a.pcap-r0"
check "... (a.pcap-r1)" wait_for 30 test -s "$T/a.pcap-r1"

"$BELTLINE" reload "$T/c1.json" > /dev/null
d=$(deltas)
eq "reloaded back: graphs[0] [1,2] -> [1]" "$(polls "$d" 'graphs[0]')" "0:01"
eq "... graphs[1] [1] -> [1,2]" "$(polls "$d" 'graphs[1]')" "0:0- 1:-1"

kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
finish
