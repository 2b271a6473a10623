#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# inject out through tx (issue 10 points 2 and 5): `beltline inject NAME FILE`
# into `inject name=NAME | tx port=P` graphs, P a net_pcap port writing a file:
# the file holds the capture's frames byte for byte, in order, with zero copy
# (mbufs pointing at the writer's buffers, the default with only net_pcap ports)
# and with one copy (zero_copy=no); the counters say which each frame took, and
# no buffer is still held once the ports have sent them.
. "$(dirname "$0")/lib.sh"
need_corpus
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst injtx)
RUN=/run/beltline/$I
# pcapng and pcap, 60 B to 11858 B frames (max_frame 12000)
caps=(of13_ericsson.pcapng afs.pcap mptcp-v0.pcap vxlan.pcap decnet-shorthdr-oobr.pcap)
modes=(auto no)

ports="" pipes=""
for m in "${modes[@]}"; do
	for k in "${!caps[@]}"; do
		ports="$ports{ \"name\": \"p$m$k\", \"vdev\": \"net_pcap_$m$k,tx_pcap=$T/o$m$k.pcap\" }, "
		pipes="$pipes\"inject name=$m$k zero_copy=$m max_frame=12000 | tx port=p$m$k\", "
	done
done
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "data_room": 12416 },
  "ports": [ ${ports%, } ],
  "graphs": [ { "lcores": [1], "pipeline": [ ${pipes%, } ] } ] }
JSON
"$BELTLINED" -q --duration 100 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
wait_for "$WAIT" test -S "$RUN/ctl" || true
check "control socket $RUN/ctl exists" test -S "$RUN/ctl"

for m in "${modes[@]}"; do
	for k in "${!caps[@]}"; do
		check "inject ${caps[$k]} (zero_copy=$m)" "$BELTLINE" -i "$I" inject "$m$k" \
			"$CORPUS/${caps[$k]}"
	done
done
# The last frames may still be on their way to the port: held drops to 0 once sent.
held() {
	"$BELTLINE" -i "$I" stats --json > "$T/s.json"
	test "$(jq '[.injects[].writer.held // 0] | add' "$T/s.json")" = 0
}
check "no buffer still held once the frames are sent" wait_for "$WAIT" held
for k in "${!caps[@]}"; do
	read -r n _ < <("$PCAP_CMP" -s "$CORPUS/${caps[$k]}")
	eq "zero copy: ${caps[$k]}: frames sent as mbufs on the writer's buffers" \
		"$(jq ".injects[] | select(.name == \"auto$k\") | .writer.zero_copy" "$T/s.json")" "$n"
	eq "zero copy: ${caps[$k]}: none copied" \
		"$(jq ".injects[] | select(.name == \"auto$k\") | .writer.copied" "$T/s.json")" 0
	eq "zero_copy=no: ${caps[$k]}: every frame copied" \
		"$(jq ".injects[] | select(.name == \"no$k\") | .writer.copied" "$T/s.json")" "$n"
	eq "zero_copy=no: ${caps[$k]}: none zero copy" \
		"$(jq ".injects[] | select(.name == \"no$k\") | .writer.zero_copy" "$T/s.json")" 0
done
eq "the stream says it is zero copy" \
	"$(jq '.injects[] | select(.name == "auto0") | .zero_copy' "$T/s.json")" true

kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
for m in "${modes[@]}"; do
	for k in "${!caps[@]}"; do
		check "zero_copy=$m: ${caps[$k]}: the port's file is byte-identical" \
			"$PCAP_CMP" "$CORPUS/${caps[$k]}" "$T/o$m$k.pcap"
	done
done
eq "mbufs leaked" "$(jget "$T/r.json" '.mbufs.leaked')" 0
trap 'rm -rf "$T"' EXIT

# export hands on an mbuf's own buffer: with one in the graph auto means one copy,
# and zero_copy=yes is refused naming the key.
I2=$(inst injtx2)
cat > "$T/c2.json" <<JSON
{ "instance": "$I2", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=ex | export name=e" ] } ] }
JSON
"$BELTLINED" -q --duration 100 "$T/c2.json" > "$T/r2.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
wait_for "$WAIT" test -S "/run/beltline/$I2/ctl" || true
"$BELTLINE" -i "$I2" stats --json > "$T/s2.json"
eq "with an export in the graph, auto is one copy" \
	"$(jq '.injects[] | select(.name == "ex") | .zero_copy' "$T/s2.json")" false
kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
sed -i 's/inject name=ex/inject name=ex zero_copy=yes/' "$T/c2.json"
"$BELTLINED" -q --duration 100 "$T/c2.json" > "$T/r3.json" 2> "$T/err3" && st=0 || st=$?
check "zero_copy=yes with an export: refused (status $st)" test "$st" -ne 0
check "the error names the key ($(sed -n 1p "$T/err3"))" grep -q "zero_copy: yes, but" "$T/err3"
trap 'rm -rf "$T"' EXIT
finish
