#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A filter's automatic name (the one `beltline stats`, metrics and taps show, and the one
# a reload keeps a filter's state by) does not change when a pipeline sharing its prefix is
# added before it: the names once prefixes are shared are those of the graph as if written
# without the duplicates. The udp `dport` of web + dns was `dport2`; with the ssh pipeline
# added between them it became `dport3` (numbered past ssh's dport, which is merged into
# web's), and the reload rebuilt it, its counters from zero.
. "$(dirname "$0")/lib.sh"
I=$(inst rnames)
export BELTLINE_INSTANCE=$I
mkcfg() {   # mkcfg FILE PIPELINES...
	local f=$1 p="" x
	shift
	for x in "$@"; do p="$p${p:+, }\"$x\""; done
	cat > "$f" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "n", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ $p ] } ] }
JSON
}
WEB='rx port=n | ipproto |tcp dport |http count --name=web'
SSH='rx port=n | ipproto |tcp dport |ssh count --name=ssh'
DNS='rx port=n | ipproto |udp dport |dns count --name=dns'
mkcfg "$T/a.json" "$WEB" "$DNS"
mkcfg "$T/b.json" "$WEB" "$SSH" "$DNS"
"$BELTLINED" -q --stats-interval 0 --duration 600 "$T/a.json" > /dev/null 2> "$T/err" &
PID=$!
trap 'kill -9 $PID 2> /dev/null || true; rm -rf "$T"' EXIT
check "started" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
names() { "$BELTLINE" stats --json | jq -r '[.filters[] | select(.filter == "dport") | .name] | sort | join(" ")'; }
eq "the two dport filters, numbered as written once shared" "$(names)" "dport dport2"
calls() { "$BELTLINE" stats --json | jq '[.filters[] | select(.name == "dport2") | .in] | add // 0'; }
ran() { [ "$(calls)" -gt 1000 ]; }
check "dport2 (dns's) takes packets" wait_for "$WAIT" ran
before=$(calls)
cp "$T/b.json" "$T/cur.json"
check "reload with the ssh pipeline added before dns's" "$BELTLINE" reload "$T/b.json"
eq "... the names stay (ssh's dport is the first one, shared)" "$(names)" "dport dport2"
after=$(calls)
check "... dport2 kept its counters ($before before, $after after)" test "$after" -ge "$before"
kill -TERM $PID
wait $PID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
trap 'rm -rf "$T"' EXIT
finish
