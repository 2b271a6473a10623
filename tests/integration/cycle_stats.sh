#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A graph's own drops reach every output: the 1000 packets of the sample capture circle
# a cycle (A -> B -> A) until the round limit and are freed, counted in the graph's
# cycle_limit. The final report had it; `beltline stats --json` and the exporter had no
# graph row, so a user watching them live never saw those drops.
. "$(dirname "$0")/lib.sh"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst cycle)
export BELTLINE_INSTANCE=$I BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | count --name=A | count --name=B | count --name=A" } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
check "control socket" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"
live() { "$BELTLINE" stats --json 2> /dev/null | jq -r "$1"; }
replayed() { [ "$(live '.ports[] | select(.name=="in") | .rx')" = 1000 ]; }
check "the capture is replayed (1000 packets)" wait_for "$WAIT" replayed
settled() { [ "$(live '[.graphs[]?.cycle_limit] | add // 0')" = 1000 ]; }
wait_for "$WAIT" settled || true
"$BELTLINE" stats --json > "$T/s.json"
eq "stats: one graph row" "$(jget "$T/s.json" '.graphs | length')" 1
eq "stats: its cycle_limit (every packet circled to the limit)" \
	"$(jget "$T/s.json" '.graphs[0].cycle_limit')" 1000
check "stats: its passes" [ "$(jget "$T/s.json" '.graphs[0].passes')" -gt 0 ]
eq "stats: its name, as the filters' rows say" "$(jget "$T/s.json" '.graphs[0].graph')" \
	"$(jget "$T/s.json" '.filters[0].graph')"
"$BELTLINE" stats > "$T/s.txt"
check "stats (table): a graphs section" grep -q '^graphs' "$T/s.txt"
# The exporter, one scrape (when curl is here).
if command -v curl > /dev/null; then
	XPID=
	up() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/"; }
	for try in 1 2 3 4 5; do
		PORT=$(( 20000 + (RANDOM % 20000) ))
		"$BELTLINE" exporter --listen "127.0.0.1:$PORT" 2> "$T/exporter.err" &
		XPID=$!
		if wait_for "$WAIT" up; then break; fi
		kill -TERM $XPID 2> /dev/null || true
		wait $XPID 2> /dev/null || true
		XPID=
	done
	check "the exporter listens" test -n "$XPID"
	curl -sf "http://127.0.0.1:$PORT/metrics" -o "$T/m.txt"
	check "exporter: cycle_limit, a counter" \
		grep -q '^# TYPE beltline_graph_cycle_limit_packets_total counter$' "$T/m.txt"
	eq "exporter: its value" "$(sed -n 's/^beltline_graph_cycle_limit_packets_total{.*} //p' "$T/m.txt")" 1000
	kill -TERM "$XPID"
	wait "$XPID" || true
fi
kill -TERM "$BPID"
wait "$BPID"
eq "final: cycle_limit" "$(jget "$T/r.json" '.graphs[0].cycle_limit')" 1000
eq "final: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
finish
