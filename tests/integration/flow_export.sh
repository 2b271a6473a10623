#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# flow ... export=NAME (issue 13, point 2): the records reach a client as a
# record stream; `beltline cat --flows NAME` prints them as text and as JSON
# lines, with the counts the meter kept. gen sends 3 flows (source ports
# 1000-1002) at 300 packets/s until the test stops beltlined; active_s=1 ends a
# record of each about every second.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst flowexp)
export BELTLINE_INSTANCE=$I
"$BELTLINED" -q --duration 600 --instance "$I" --port nul=net_null0 --pipeline \
	"gen proto=tcp size=80 src=10.7.0.1 dst=10.8.0.1 sport=1000-1002 dport=443 rate=300 | flow active_s=1 export=fl | export name=pk" \
	> "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
ls_has() { "$BELTLINE" ls 2> /dev/null | grep -qw "$1"; }
check "ls lists the record stream" wait_for "$WAIT" ls_has fl
"$BELTLINE" cat --flows fl -c 6 > "$T/text" 2> "$T/cat.err"
eq "cat --flows -c 6: lines" "$(wc -l < "$T/text")" 6
check "a text line names addresses, ports, counts, flags and the end reason ($(sed -n 1p "$T/text"))" \
	grep -Eq '^[0-9T:.-]+Z [0-9T:.-]+Z proto 6 10\.7\.0\.1:100[0-2] > 10\.8\.0\.1:443 vlan 0 packets [0-9]+ bytes [0-9]+ flags \.\.\.A\.\.\.\. end active$' "$T/text"
"$BELTLINE" cat --flows --json fl -c 6 > "$T/json" 2> "$T/cat.err"
eq "cat --flows --json -c 6: JSON lines" "$(jq -s length "$T/json")" 6
eq "... each 80-byte packets: bytes = 66 x packets" \
	"$(jq -s '[.[] | select(.bytes == 66 * .packets and .packets > 0 and .proto == 6 and .dport == 443 and .end_reason == "active")] | length' "$T/json")" 6
# --flows on a stream of packets: it skipped every entry in silence and never ended
set +e; timeout 60 "$BELTLINE" cat --flows pk -c 1 > /dev/null 2> "$T/pk.err"; rc=$?; set -e
eq "cat --flows on a packet stream: exit 1 ($(head -c 200 "$T/pk.err"))" "$rc" 1
check "... it says the stream holds packets" grep -q "/pk holds packets, not flows: read it with beltline cat (pcap)" "$T/pk.err"
# pcap of a flow stream: its records went out as frames (tcpdump: "[|llc]"), exit 0
set +e; timeout 60 "$BELTLINE" cat fl -c 2 > "$T/fl.pcap" 2> "$T/fl.err"; rc=$?; set -e
eq "cat (pcap) of a flow stream: exit 1 ($(head -c 200 "$T/fl.err"))" "$rc" 1
check "... it says to read it with --flows" grep -q "/fl holds flows, not packets: read it with beltline cat --flows" "$T/fl.err"
# --tcp on a stream of packets: every entry "not understood", in silence, until killed
mkdir -p "$T/tcpdir"
set +e; timeout 60 "$BELTLINE" cat --tcp pk -w "$T/tcpdir" > /dev/null 2> "$T/tcp.err"; rc=$?; set -e
eq "cat --tcp on a packet stream: exit 1 ($(head -c 200 "$T/tcp.err"))" "$rc" 1
check "... it says the stream holds packets" grep -q "/pk holds packets, not tcp" "$T/tcp.err"
eq "stats --json: each stream says what it holds" \
	"$("$BELTLINE" stats --json 2> /dev/null | jq -c '[.streams[] | select(.name == "fl" or .name == "pk") | [.name, .content]] | sort')" \
	'[["fl","flows"],["pk","packets"]]'
check "... and ls, in its content column" bash -c "'$BELTLINE' ls | grep -Eq '^ *fl .* flows +[0-9]+$'"
# A stream that does not say (served over the network): its first entry decides
PY=$(python3 -c 'import sys; print(sys.executable)')
FPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BELTLINE" serve fl tcp://127.0.0.1:$FPORT 2> "$T/serve.err" &
SPID=$!
check "serve fl: listens" wait_for "$WAIT" grep -qs "serving" "$T/serve.err"
set +e; timeout 60 "$BELTLINE" cat tcp://127.0.0.1:$FPORT -c 2 > /dev/null 2> "$T/net.err"; rc=$?; set -e
eq "cat (pcap) of flow records over tcp://: goes on (bytes alone cannot tell)" "$rc" 0
check "... saying what its first entry looks like ($(head -c 200 "$T/net.err"))" \
	grep -q "its first entry looks like a flow record, not a packet: if it is a flow stream, read it with beltline cat --flows" "$T/net.err"
set +e; timeout 60 "$BELTLINE" cat --tcp tcp://127.0.0.1:$FPORT -w "$T/tcpdir" > /dev/null 2> "$T/net2.err"; rc=$?; set -e
eq "cat --tcp of flow records over tcp://: exit 1 ($(head -c 200 "$T/net2.err"))" "$rc" 1
check "... by its first entry" grep -q "its entries are not tcpstream records" "$T/net2.err"
kill $SPID 2> /dev/null || true
eq "--json without --flows: usage" "$("$BELTLINE" cat --json fl > /dev/null 2>&1; echo $?)" 2
kill -TERM $BPID
wait $BPID || bad "beltlined exit status $?"
c=$(jq -c '.graphs[0].filters.flow.counters' "$T/r.json")
eq "every record streamed ($c)" "$(jq '.streamed' <<< "$c")" "$(jq '.ended_active + .ended_idle + .flushed + .evicted' <<< "$c")"
eq "none lost" "$(jq '(.lost // -1) + (.stream_nombuf // -1)' <<< "$c")" 0

# A reload that changes the flow (idle_s) makes a new instance, which takes the stream
# over; the old one's table (200 flows, ended "forced" at its stop) must not be written
# into the stream beside the new one's records: one writer per ring. (Both exporter
# threads wrote it: the old one's 200 forced records reached the reader.)
I2=$(inst flowrl)
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I2", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "gen proto=udp size=80 sport=2000-2199 dport=53 rate=2000 | flow idle_s=$2 export=fr | drop" } ] }
JSON
}
mkcfg "$T/a.json" 60
mkcfg "$T/b.json" 61
"$BELTLINED" -q --stats-interval 0 "$T/a.json" > "$T/r2.json" 2> "$T/err2" &
B2=$!
wait_ctl "/run/beltline/$I2/ctl" "$B2" "$T/err2"
flows_active() { [ "$("$BELTLINE" -i "$I2" stats --json | jq '[.filters[] | select(.name == "flow") | .counters.active] | add // 0')" -ge 200 ]; }
check "the old flow holds 200 flows" wait_for "$WAIT" flows_active
"$BELTLINE" -i "$I2" cat --flows --json fr > "$T/fr.json" 2> "$T/fr.err" &
CAT=$!
readers_on() { [ "$("$BELTLINE" -i "$I2" stats --json | jq '[.streams[] | select(.name == "fr") | .n_readers] | add // 0')" -ge 1 ]; }
check "a reader of the record stream" wait_for "$WAIT" readers_on
set +e; "$BELTLINE" -i "$I2" reload "$T/b.json" > /dev/null 2> "$T/rl.err"; rc=$?; set -e
eq "reload to idle_s=61 (a new flow, the stream kept)" "$rc" 0
sleep 1   # what the old thread would have written is in the ring by now: cat prints it
kill -INT "$CAT"; wait "$CAT" 2> /dev/null || true
eq "the reader got no record of the old flow's table (forced)" \
	"$(jq -s '[.[] | select(.end_reason == "forced")] | length' "$T/fr.json")" 0
kill -INT "$B2"; wait "$B2" 2> /dev/null || true
finish
