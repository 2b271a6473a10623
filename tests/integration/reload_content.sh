#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A reload keeps a stream only if what its entries are stays (its content: packets,
# flows, tcp). `tcpstream export=x` replaced by `export name=x` with the same ring
# settings was kept: the readers of its records (cat --tcp) were handed packets.
. "$(dirname "$0")/lib.sh"
I=$(inst rcontent)
export BELTLINE_INSTANCE=$I
mkcfg() {   # mkcfg FILE PIPELINE
	cat > "$1" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "$2" ] } ] }
JSON
}
mkcfg "$T/a.json" 'gen proto=tcp rate=1000 | tcpstream export=x | drop'
mkcfg "$T/b.json" 'gen proto=tcp rate=1000 | export name=x capacity=4096'
"$BELTLINED" -q --stats-interval 0 --duration 600 "$T/a.json" > /dev/null 2> "$T/err" &
PID=$!
trap 'kill -9 $PID 2> /dev/null || true; rm -rf "$T"' EXIT
check "started" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
content() { "$BELTLINE" stats --json | jq -r '.streams[] | select(.name == "x") | .content'; }
eq "x holds tcpstream records" "$(content)" tcp
"$BELTLINE" reload "$T/b.json" > /dev/null 2> "$T/r.err" && rc=0 || rc=$?
eq "a reload that makes x a packet stream: refused" "$rc" 1
check "... naming what changed ($(head -c 300 "$T/r.err"))" \
	grep -q 'stream "x" runs with another content' "$T/r.err"
eq "x still holds tcpstream records" "$(content)" tcp
check "the appliance carries on" alive "$PID"
kill -TERM $PID
wait $PID || bad "exit status $?"
finish
