#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# flow (issue 13, point 3): the IPFIX records Beltline sends are read by the
# tools people use, nfdump's nfcapd/nfdump and tshark (cflow), both started
# here on loopback ports, and their flows, packet and byte counts and TCP
# flags equal a reference computed independently from the same packets
# (tests/tools/flows_ref.py), for every capture of the corpus and for gen
# traffic with known flows. Timeouts: the replay's record times, idle_s 86400
# (a capture that pauses longer is split there, by the reference too) and
# active_s 604800, so every flow ends in the capture or when beltlined stops
# (forcedEnd, sent before it exits). tshark gets the messages through a UDP
# sink that writes them to a pcap (tests/tools/udp_sink.py).
. "$(dirname "$0")/lib.sh"
need_corpus
for t in nfcapd nfdump nfacctd tshark tcpdump python3 jq; do
	command -v "$t" > /dev/null || { echo "SKIP: $t is not installed (deploy/install-deps.sh)"; exit 77; }
done
REF="$SRCDIR/tests/tools/flows_ref.py"
PIDS=()
# Every helper daemon stopped with SIGINT: nfacctd's core process dies of a SIGTERM at
# once and leaves its plugin processes running (each run of this test left two behind);
# on SIGINT it stops its plugins and exits. What is still there after 10 s is killed.
stop_pids() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2> /dev/null || true; done
	reap_pids
}
reap_pids() {   # the wait of stop_pids, for PIDS already sent their SIGINT
	for p in "${PIDS[@]}"; do
		wait_for 10 pid_gone "$p" || true
		kill -KILL "$p" 2> /dev/null || true
	done
}
trap 'stop_pids; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# nfcapd on a free loopback port, writing into $T/nf.
NP=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$T/nf"
nfcapd -b 127.0.0.1 -p "$NP" -w "$T/nf" -t 3600 > "$T/nfcapd.log" 2>&1 &
NFPID=$!
PIDS+=("$NFPID")
python3 "$SRCDIR/tests/tools/udp_sink.py" "$T/sinkport" "$T/sink.pcap" &
SINKPID=$!
PIDS+=("$SINKPID")
wait_for "$WAIT" grep -q "Startup" "$T/nfcapd.log" || { bad "nfcapd did not start: $(cat "$T/nfcapd.log")"; finish; }
wait_for "$WAIT" test -s "$T/sinkport" || { bad "the UDP sink did not start"; finish; }
SP=$(cat "$T/sinkport")
TIMEOUTS="idle_s=86400 active_s=604800 max_flows=4096"

# meter NAME DOMAIN: the two meters of one graph (one per collector).
meter() {
	echo "flow --name=ts$2 $TIMEOUTS domain=$2 collector=udp://127.0.0.1:$SP | " \
	     "flow --name=nf$2 $TIMEOUTS domain=$2 collector=udp://127.0.0.1:$NP"
}

# ---- the corpus: one beltlined per 12 captures, a graph and a domain each ----
shopt -s nullglob
caps=("$CORPUS"/*.pcap "$CORPUS"/*.pcapng)
shopt -u nullglob
for ((k = 0; k < ${#caps[@]}; k++)); do
	tcpdump -r "${caps[k]}" -w "$T/cap$k.pcap" 2> /dev/null   # pcapng too, for the reference
done
for ((b = 0; b < ${#caps[@]}; b += 12)); do
	args=()
	for ((k = b; k < b + 12 && k < ${#caps[@]}; k++)); do
		args+=(--port "in$k=net_pcap$k,rx_pcap=$T/cap$k.pcap"
		       --pipeline "rx port=in$k | $(meter x $((k + 1))) | drop")
	done
	if ! "$BELTLINED" -q --exit-idle 300 --instance "$(inst flow$b)" "${args[@]}" > "$T/r$b.json" 2> "$T/err"; then
		bad "captures $b..$((k - 1)): beltlined failed: $(tail -3 "$T/err")"
		continue
	fi
	# Every meter of the batch in one jq (four a capture took two of the test's seconds a
	# batch): its records, the records ended, lost + send_errors, its counters (null: none).
	meters=$(jq -r --argjson lo $((b + 1)) --argjson hi "$k" '. as $r | range($lo; $hi + 1) as $d |
		([$r.graphs[].filters["ts\($d)"] | select(. != null) | .counters][0]) as $c |
		"\($d) \($c.records) \($c.ended_idle + $c.ended_active + $c.evicted + $c.flushed) \($c.lost + $c.send_errors) \($c | tojson)"' "$T/r$b.json")
	while read -r d recs want lost c; do
		[ "$recs" = "$want" ] && [ "$lost" = 0 ] ||
			bad "${caps[d - 1]##*/}: records $recs of $want ended, counters $c"
	done <<< "$meters"
done
# Every message is in: beltlined sent all before it exited. Stop the collectors.
kill "$SINKPID" "$NFPID"
wait "$SINKPID" "$NFPID" 2> /dev/null || true
PIDS=()
tshark -r "$T/sink.pcap" -d "udp.port==$SP,cflow" -T json > "$T/ts.json" 2> /dev/null
nfdump -R "$T/nf" -o json > "$T/nf.json" 2> "$T/nfdump.err" || echo "[]" > "$T/nf.json"
total=0
cps=() refs=()
for ((k = 0; k < ${#caps[@]}; k++)); do cps+=("$T/cap$k.pcap") refs+=("$T/ref$k"); done
python3 "$REF" refs 86400 604800 "$T/ref" "${cps[@]}"
python3 "$REF" tsharks ${#caps[@]} "$T/ts.json" "$T/ts"
# (no process a capture but cmp: basename, cat and wc took a second of the test)
for ((k = 0; k < ${#caps[@]}; k++)); do
	cap=${caps[k]##*/}
	mapfile -t flows < "$T/ref$k"
	n=${#flows[@]}
	total=$((total + n))
	if cmp -s "$T/ref$k" "$T/ts$k"; then
		ok "$cap: tshark reads the reference's $n flows (packets, bytes, TCP flags)"
	else
		bad "$cap: tshark's flows differ from the reference's: $(diff "$T/ref$k" "$T/ts$k" | sed -n 2,5p | tr '\n' ' ')"
	fi
done
sort "${refs[@]}" > "$T/ref_sorted"
python3 "$REF" nfdump "$T/nf.json" > "$T/nf_sorted"
if cmp -s "$T/ref_sorted" "$T/nf_sorted"; then
	ok "nfcapd/nfdump read the reference's $total flows of the ${#caps[@]} captures"
else
	bad "nfdump's flows differ from the reference's: $(diff "$T/ref_sorted" "$T/nf_sorted" | sed -n 2,6p | tr '\n' ' ')"
fi
check "the corpus has flows to compare" test "$total" -gt 100

# ---- gen traffic with known flows: 3 sources x 4 source ports, 100 packets each ----
mkdir "$T/nf2"
nfcapd -b 127.0.0.1 -p "$NP" -w "$T/nf2" -t 3600 > "$T/nfcapd2.log" 2>&1 &
NFPID=$!
PIDS=("$NFPID")
wait_for "$WAIT" grep -q "Startup" "$T/nfcapd2.log" || { bad "nfcapd did not start again"; finish; }
# pmacct's nfacctd too (the way to Kafka and databases, docs/flows.md), printing JSON.
PP=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/nfacctd.conf" <<CONF
nfacctd_ip: 127.0.0.1
nfacctd_port: $PP
plugins: print[out]
aggregate[out]: src_host, dst_host, src_port, dst_port, proto, tcpflags
print_output[out]: json
print_output_file[out]: $T/pm.json
print_refresh_time[out]: 1
CONF
nfacctd -f "$T/nfacctd.conf" > "$T/nfacctd.log" 2>&1 &
PMPID=$!
PIDS+=("$PMPID")
wait_for "$WAIT" grep -aq "waiting for NetFlow/IPFIX data" "$T/nfacctd.log" ||
	{ bad "nfacctd did not start: $(tail -c 300 "$T/nfacctd.log")"; finish; }
"$BELTLINED" -q --exit-idle 300 --instance "$(inst flowgen)" --port nul=net_null0 --pipeline \
	"gen proto=tcp size=100 src=10.0.0.1-10.0.0.3 dst=10.9.0.1 sport=1000-1003 dport=80 count=1200 | flow $TIMEOUTS collector=udp://127.0.0.1:$NP | flow --name=pm $TIMEOUTS collector=udp://127.0.0.1:$PP | pcap file=$T/gen.pcap" \
	> "$T/g.json" 2> "$T/err"
pm_has() { [ -s "$T/pm.json" ] && [ "$(jq -s '[.[] | select(.packets == 100 and .bytes == 8600 and .tcp_flags == "16" and .port_dst == 80)] | length' "$T/pm.json")" = 12 ]; }
check "gen: pmacct's nfacctd reads the 12 known flows (packets, bytes, TCP flags ACK)" wait_for "$WAIT" pm_has
PMCHILD=$(pgrep -P "$PMPID" | tr '\n' ' ')
# nfacctd takes 2 s to stop its plugins and exit: told now, checked at the end (reap_pids)
kill -INT "$PMPID" 2> /dev/null || true
eq "gen: flows" "$(jq '.graphs[0].filters.flow.counters.flows' "$T/g.json")" 12
eq "gen: records sent" "$(jq '.graphs[0].filters.flow.counters.records' "$T/g.json")" 12
kill "$NFPID"
wait "$NFPID" 2> /dev/null || true
PIDS=("$PMPID")
nfdump -R "$T/nf2" -o json > "$T/nf2.json" 2> /dev/null || echo "[]" > "$T/nf2.json"
python3 "$REF" nfdump "$T/nf2.json" > "$T/gen_nf"
python3 "$REF" ref 86400 604800 "$T/gen.pcap" > "$T/gen_ref"
eq "gen: the reference over what passed has the 12 known flows of 100 packets, 8600 bytes" \
	"$(awk '$8 == 100 && $9 == 8600 && $5 == "10.9.0.1" && $6 == 80' "$T/gen_ref" | wc -l)" 12
if cmp -s "$T/gen_ref" "$T/gen_nf"; then
	ok "gen: nfdump reads the 12 known flows"
else
	bad "gen: nfdump's flows differ: $(diff "$T/gen_ref" "$T/gen_nf" | sed -n 2,5p | tr '\n' ' ')"
fi

# ---- an active timeout splits a flow (gen at 2000/s sends its 3000 in 1.5 s at least: its
# bucket holds 2 bursts, never more; beltlined ends 0.2 s after the last, --duration only a
# guard): a packet 1 s or more after the flow's first ends it ----
"$BELTLINED" -q --exit-idle 200 --duration 120 --instance "$(inst flowact)" --port nul=net_null0 --pipeline \
	"gen proto=udp rate=2000 count=3000 | flow active_s=1 idle_s=60 | drop" > "$T/a.json" 2> "$T/err"
c=$(jq -c '.graphs[0].filters.flow.counters' "$T/a.json")
check "active_s=1 over 1.5 s of one flow: ended by it at least once ($c)" test "$(jq '.ended_active' <<< "$c")" -ge 1
eq "... every record sent" "$(jq '.records' <<< "$c")" "$(jq '.ended_active + .ended_idle + .flushed' <<< "$c")"
eq "... every packet metered" "$(jq '.packets' <<< "$c")" "$(jq '.graphs[0].filters.gen.counters.generated' "$T/a.json")"

# ---- a collector that is not there: the failed sends are said, not only counted (a
# unit's IPAddressDeny or a stopped collector showed only in send_errors) ----
DEAD=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BELTLINED" -q --exit-idle 200 --duration 120 --instance "$(inst flowdead)" --port nul=net_null0 --pipeline \
	"gen proto=udp rate=2000 count=3000 | flow active_s=1 idle_s=60 collector=udp://127.0.0.1:$DEAD | drop" > "$T/d.json" 2> "$T/d.err"
c=$(jq -c '.graphs[0].filters.flow.counters' "$T/d.json")
check "no collector at $DEAD: sends failed ($c)" test "$(jq '.send_errors' <<< "$c")" -ge 1
check "... and said so ($(grep -m1 IPFIX "$T/d.err"))" grep -q "flow: sending IPFIX to udp://127.0.0.1:$DEAD: Connection refused" "$T/d.err"

reap_pids   # nfacctd, told to stop above
PIDS=()
left=0
for c in $PMCHILD; do alive "$c" && left=$((left + 1)); done
eq "nfacctd stopped with its plugin processes (pids ${PMCHILD:-none})" "$left" 0
finish
