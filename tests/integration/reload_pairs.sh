#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A changed graph takes over the state of the running graph it is most like, not of the
# one that stood at its place: with graphs[0] removed and the old graphs[1] changed (now
# graphs[0]), the changed graph took the removed graph's count (its counters jumped) and
# made its own gen, count and pcap afresh (the capture file started over, its packets
# lost). Now its unchanged filters keep their instances: the count goes on from its own
# value and the capture file keeps growing.
. "$(dirname "$0")/lib.sh"
I=$(inst rpairs)
export BELTLINE_INSTANCE=$I
A='gen rate=2000 | count --name=c | drop'
B="gen rate=200 | count --name=c | pcap file=$T/cap.pcap"
cfg() {   # cfg FILE GRAPH...: one graph each, all on lcore 1
	local f=$1 g="" x
	shift
	for x in "$@"; do g="$g${g:+, }{ \"lcores\": [1], \"pipeline\": \"$x\" }"; done
	echo "{ \"instance\": \"$I\", \"ports\": [ { \"name\": \"n\", \"vdev\": \"net_null0\" } ], \"graphs\": [ $g ] }" > "$f"
}
cfg "$T/a.json" "$A" "$B"
cfg "$T/b.json" "$B; count --name=c | count --name=d"
"$BELTLINED" -q --stats-interval 0 --duration 600 "$T/a.json" > /dev/null 2> "$T/err" &
PID=$!
trap 'kill -9 $PID 2> /dev/null || true; rm -rf "$T"' EXIT
check "started" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
c_in() { "$BELTLINE" stats --json | jq --arg g "$1" '[.filters[] | select(.name == "c" and (.graph | startswith($g))) | .in] | add // 0'; }
enough() { [ "$(c_in 'graphs[1]')" -ge 200 ]; }
check "graphs[1]'s count takes packets" wait_for "$WAIT" enough
# flushed to the file as the sink writes; its size only grows while the same pcap runs
size() { stat -c %s "$T/cap.pcap" 2> /dev/null || echo 0; }
grown() { [ "$(size)" -gt 5000 ]; }
check "the capture grows" wait_for "$WAIT" grown
b_before=$(c_in 'graphs[1]') a_before=$(c_in 'graphs[0]') s_before=$(size)
check "reload: graphs[0] removed, graphs[1] changed (now graphs[0])" "$BELTLINE" reload "$T/b.json"
b_after=$(c_in 'graphs[0]')
check "the changed graph's count goes on from its own value ($b_before before, $b_after after; the removed graph's was $a_before)" \
	test "$b_after" -ge "$b_before" -a "$b_after" -lt "$a_before"
s_after=$(size)
check "... and its pcap sink kept its file ($s_before bytes before, $s_after after)" \
	test "$s_after" -ge "$s_before"
kill -TERM $PID
wait $PID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
trap 'rm -rf "$T"' EXIT
finish
